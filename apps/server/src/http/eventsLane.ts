import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type express from 'express'
import type { Logger } from 'pino'
import type { Caller } from '../access/access.ts'
import { noteRoute } from '../ops/requestContext.ts'
import { answerError } from './errors.ts'

/** Where sensors post their events, many times a second. */
export const EVENTS_PATH = '/api/v1/events'

/**
 * `POST /api/v1/events` as sensors spell it. Other spellings Express would route there too (other
 * letter case, a trailing slash, a query string, which it refuses) go through Express's route, which
 * answers alike.
 */
export function isEventsPost(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false
  const url = req.url ?? ''
  // with a query, Express's route answers: it refuses a parameter the route does not take
  return url === EVENTS_PATH
}

/** What the events lane shares with the Express app, one of each, so that both answer alike. */
export interface EventsLaneParts {
  /** The Express app, whose getters (`ip`, `secure`, with its `trust proxy`) read the request. */
  app: express.Express
  /** The request's id, log line and duration (ops/requestContext.ts), the app's first middleware. */
  context: express.RequestHandler
  /** The security headers of every response (`securityHeaders`). */
  security: express.RequestHandler
  /** The caller, or the refusal (`requestCaller`, as `authenticate` asks). */
  caller: (req: IncomingMessage) => Promise<Caller>
  /** The route's JSON body parser (limit, encodings, malformed JSON). */
  body: express.RequestHandler
  /** The route's own work: ingest, and the answer. */
  answer: (caller: Caller, body: unknown, res: ServerResponse) => Promise<void>
  logger: Logger
}

/**
 * `POST /api/v1/events` on Node's own request and response: the same steps as Express's route
 * (request context, security headers, `Cache-Control: no-store`, the caller, the body, ingest,
 * errors as `answerError` gives them), without Express's router and without the switch of the
 * request's and response's prototypes Express makes on every request. That switch cost about a
 * quarter of an ingest: a POST of two events took 0.83 ms of the server's CPU through Express's
 * route and 0.63 ms here (`pnpm bench ingest`, ingest.post-cpu; docs/performance.md). As in Express,
 * whatever a step throws or passes on is answered as an error, and nothing escapes the listener.
 */
export function eventsLane(parts: EventsLaneParts): RequestListener {
  return (req, res) => {
    const fail = (error: unknown) => {
      try {
        answerError(parts.logger, error, res)
      } catch (failure) {
        parts.logger.error({ err: failure }, 'answering a failed request failed')
        res.destroy()
      }
    }
    try {
      const view = requestView(parts.app, req)
      // the rest of the request runs inside the context's `next`, so that its log lines carry the request
      parts.context(view, res as express.Response, (error?: unknown) => {
        if (error !== undefined) fail(error)
        else handle(parts, view, req, res).catch(fail)
      })
    } catch (error) {
      fail(error)
    }
  }
}

async function handle(
  parts: EventsLaneParts,
  view: express.Request,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  await step(parts.security, view, res)
  res.setHeader('Cache-Control', 'no-store')
  const caller = await parts.caller(req)
  // as in Express, where authentication comes before the route: a refused caller's request is `unmatched`
  noteRoute(EVENTS_PATH)
  await step(parts.body, req, res)
  await parts.answer(caller, (req as { body?: unknown }).body, res)
}

/** A middleware as one step: done when it calls `next`, failed when it passes an error or throws. */
function step(middleware: express.RequestHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      middleware(req as express.Request, res as express.Response, (error?: unknown) =>
        error === undefined ? resolve() : reject(error),
      )
    } catch (error) {
      reject(error)
    }
  })
}

/**
 * The request as Express's getters read it (`ip`, `secure`, `originalUrl`), through a small object
 * whose prototype is the app's request: the request itself keeps its own prototype.
 */
function requestView(app: express.Express, req: IncomingMessage): express.Request {
  return Object.create(app.request, {
    method: { value: req.method },
    url: { value: req.url },
    originalUrl: { value: req.url },
    headers: { value: req.headers },
    socket: { value: req.socket },
  }) as express.Request
}

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type express from 'express'
import type { Logger } from 'pino'
import type { Caller } from '../access/access.ts'
import { noteRoute } from '../ops/requestContext.ts'
import { answerError } from './errors.ts'

/** Where sensors post their events, many times a second. */
export const EVENTS_PATH = '/api/v1/events'

/**
 * `POST /api/v1/events` as sensors spell it (with any query string). Other spellings Express would
 * route there too (other letter case, a trailing slash) go through Express's route, which answers
 * alike.
 */
export function isEventsPost(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false
  const url = req.url ?? ''
  return url.startsWith(EVENTS_PATH) && (url.length === EVENTS_PATH.length || url[EVENTS_PATH.length] === '?')
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
 * request's and response's prototypes Express makes on every request. That switch cost more than
 * the rest of an ingest: with it a POST of two events took about 0.85 ms of the server's CPU,
 * without it 0.55 ms (docs/performance.md).
 */
export function eventsLane(parts: EventsLaneParts): RequestListener {
  return (req, res) => {
    const view = requestView(parts.app, req)
    parts.context(view, res as express.Response, () => {
      parts.security(view, res as express.Response, () => {})
      res.setHeader('Cache-Control', 'no-store')
      handle(parts, req, res).catch((error: unknown) => answerError(parts.logger, error, res))
    })
  }
}

async function handle(parts: EventsLaneParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const caller = await parts.caller(req)
  // as in Express, where authentication comes before the route: a refused caller's request is `unmatched`
  noteRoute(EVENTS_PATH)
  const body = await new Promise<unknown>((resolve, reject) =>
    parts.body(req as express.Request, res as express.Response, (error?: unknown) =>
      error === undefined ? resolve((req as { body?: unknown }).body) : reject(error),
    ),
  )
  await parts.answer(caller, body, res)
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

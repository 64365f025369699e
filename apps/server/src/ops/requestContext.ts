import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import type { Request, RequestHandler } from 'express'
import type { Logger } from 'pino'
import { type Caller, sessionIdOf } from '../access/access.ts'
import type { Metrics } from './metrics.ts'

/** Who a request acts as, in its log lines: never the token or the session itself. */
export interface LoggedPrincipal {
  kind: Caller['kind']
  user: string
  organisation: string
  /** What it authenticated with: a session, an API or display token, a static token (WATCHFLOOR_TOKENS). */
  credential: Caller['credential']['type']
  /** An API or display token's id (never its secret). */
  tokenId?: string
}

/** What every log line of a request carries (pino's `mixin`, `logFields`). */
interface RequestContext {
  reqId: string
  principal: LoggedPrincipal | undefined
  /** The Express route pattern that answered (`/api/v1/tokens/:id`), once one matched. */
  route: string | undefined
}

const contexts = new AsyncLocalStorage<RequestContext>()

export const REQUEST_ID_HEADER = 'x-request-id'

/** A request id a client may choose: letters, digits and `. _ : -`, 1 to 128 of them. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

/**
 * The fields of the current request for a log line: its id and principal (pino's `mixin`, so a
 * line logged anywhere while the request is handled carries them); nothing outside a request.
 */
export function logFields(): Record<string, unknown> {
  const context = contexts.getStore()
  if (context === undefined) return {}
  return { reqId: context.reqId, principal: context.principal ?? null }
}

/** The caller the current request acts as, once it is known (access/ calls this through `ObservedAccess`). */
export function notePrincipal(caller: Caller): void {
  const context = contexts.getStore()
  if (context === undefined) return
  context.principal = loggedPrincipal(caller)
}

function loggedPrincipal(caller: Caller): LoggedPrincipal {
  return {
    kind: caller.kind,
    user: caller.user,
    organisation: caller.organisation,
    credential: caller.credential.type,
    ...(caller.credential.type === 'token' ? { tokenId: caller.credential.id } : {}),
  }
}

/**
 * Run `work` outside any request's or socket's context: background work it starts (the fan-out's
 * reads and their retries, a catch-up) logs no `reqId` or `principal` of whichever request or
 * socket message happened to set it going (an append's commit tells every listener in the context
 * of the append that started the commit).
 */
export function outsideRequest<T>(work: () => T): T {
  return contexts.exit(work)
}

/**
 * Run `work` as a socket's: every line it logs carries `reqId` and the socket's principal (once its
 * handshake found it), as a request's lines do. `reqId` is the socket's id for what concerns the
 * socket as a whole (its handshake, its revocation, a slow consumer), `<socket id>.<n>` for the
 * n-th message it sent.
 */
export function asSocket<T>(reqId: string, caller: Caller | undefined, work: () => T): T {
  return contexts.run({ reqId, principal: caller && loggedPrincipal(caller), route: undefined }, work)
}

/**
 * The route pattern that answers the current request, for a request no Express router matched
 * (the events lane, http/eventsLane.ts): Express's routes are caught as the router matches them.
 */
export function noteRoute(route: string): void {
  const context = contexts.getStore()
  if (context !== undefined) context.route = route
}

/**
 * The request's id: the client's `X-Request-Id` when it is well formed (and not one of its own
 * secrets sent by mistake), else a new UUID.
 */
export function requestIdOf(req: Request): string {
  const asked = req.headers[REQUEST_ID_HEADER]
  if (typeof asked !== 'string' || !SAFE_REQUEST_ID.test(asked)) return randomUUID()
  const secrets = [req.headers.authorization?.replace(/^Bearer\s+/i, '').trim(), sessionIdOf(req.headers)]
  if (asked.startsWith('wf_') || secrets.some((secret) => secret !== undefined && asked.includes(secret)))
    return randomUUID()
  return asked
}

/**
 * The first middleware: gives the request an id (echoed as `X-Request-Id`), runs the rest of it
 * in a context whose id and principal every log line carries, then logs one line when it ends
 * and counts it in `watchfloor_http_request_duration_seconds` by route pattern (never the URL).
 */
export function requestContext(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint()
    const context: RequestContext = { reqId: requestIdOf(req), principal: undefined, route: undefined }
    res.setHeader('X-Request-Id', context.reqId)
    watchRoute(req, context)
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const status = res.statusCode
      const route = context.route ?? (status < 400 ? 'static' : 'unmatched')
      metrics.httpDuration.observe({ method: req.method, route, status: String(status) }, seconds)
      const refusal = signInRefusal(req.method, route, status)
      if (refusal) metrics.signInRefused(refusal)
      const quiet = route === '/healthz' || route === '/readyz' || route === '/metrics'
      // a probe answered 503 (`/readyz` while draining, or while the store cannot be reached, which
      // its route logs itself at warn) is the probe doing its job, polled every few seconds: not an error
      const level = quiet && (status < 500 || status === 503) ? 'debug' : status >= 500 ? 'error' : 'info'
      // below the configured level nothing is logged: the line is not even built (a sensor posts
      // many times a second, and `req.ip` parses the forwarding headers)
      if (!logger.isLevelEnabled(level)) return
      contexts.run(context, () =>
        logger[level](
          {
            req: { method: req.method, url: safeUrl(req.originalUrl), route, ip: req.ip },
            res: { statusCode: status },
            responseTime: Math.round(seconds * 1e4) / 10,
            ...(res.writableFinished ? {} : { aborted: true }),
          },
          res.writableFinished ? 'request completed' : 'request aborted',
        ),
      )
    })
    contexts.run(context, next)
  }
}

/** A request's context, for the `route` accessor below. */
const CONTEXT = Symbol('watchfloor.requestContext')
/** Request prototypes (an Express app's `app.request`) that already carry the accessor. */
const watched = new WeakSet<object>()

/**
 * The route pattern, caught as the router matches a route: `req.baseUrl` (the mount paths, all
 * fixed strings here, lower-cased as routing ignores case) and the route's own pattern.
 *
 * The router sets `req.route`; an accessor for it on the request's prototype (the app's
 * `app.request`, defined once) notes the pattern in the request's context. An accessor defined on
 * each request instead would be a per-request `defineProperty`, which turns every request object
 * into a slower dictionary of properties for the rest of its handling.
 */
function watchRoute(req: Request, context: RequestContext): void {
  ;(req as unknown as Record<symbol, RequestContext>)[CONTEXT] = context
  const prototype = Object.getPrototypeOf(req) as object
  if (watched.has(prototype)) return
  watched.add(prototype)
  const ROUTE = Symbol('watchfloor.route')
  Object.defineProperty(prototype, 'route', {
    configurable: true,
    enumerable: true,
    get(this: Record<symbol, unknown>) {
      return this[ROUTE]
    },
    set(this: Request & Record<symbol, unknown>, value: unknown) {
      this[ROUTE] = value
      const context = this[CONTEXT] as RequestContext | undefined
      const path = (value as { path?: unknown } | undefined)?.path
      if (context !== undefined && (typeof path === 'string' || Array.isArray(path)))
        context.route = `${this.baseUrl.toLowerCase()}${[path].flat().join('|')}`
    },
  })
}

/** A refused `POST /api/v1/session`, by its status. */
function signInRefusal(
  method: string,
  route: string,
  status: number,
): 'wrong_password' | 'throttled' | 'malformed' | undefined {
  if (method !== 'POST' || route !== '/api/v1/session') return undefined
  if (status === 401) return 'wrong_password'
  if (status === 429) return 'throttled'
  if (status === 400 || status === 413 || status === 415) return 'malformed'
  return undefined
}

const SECRET_PARAMETER = /token|secret|password|passwd|auth|key|session|cookie|signature/i

/** The URL to log: the values of query parameters whose names look like secrets are censored. */
export function safeUrl(url: string): string {
  const mark = url.indexOf('?')
  if (mark < 0) return url
  const query = url
    .slice(mark + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=')
      const name = equals < 0 ? pair : pair.slice(0, equals)
      return equals >= 0 && SECRET_PARAMETER.test(decodeName(name)) ? `${name}=[Redacted]` : pair
    })
  return `${url.slice(0, mark)}?${query.join('&')}`
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '))
  } catch {
    return name
  }
}

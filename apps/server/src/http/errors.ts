/**
 * The one place where the error family meets the transports: every error becomes a member of
 * the family (`toWatchfloorError`), a body (`errorBody`) and, at the web edge only, an HTTP
 * status (`httpStatus`) and answer (`answerError`). Express's error handler, the events lane and every
 * socket acknowledgement use these.
 */

import type { ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { type Refusal, readOnlyRefusal } from '@watchfloor/core'
import { type ErrorBody, type ErrorCode, WatchfloorError } from '@watchfloor/protocol'
import type { ErrorRequestHandler } from 'express'
import type { Logger } from 'pino'

const STATUS: Record<ErrorCode, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
  // refused socket handshakes only (live/gateway.ts); were it ever an HTTP answer: a bad request
  protocol_mismatch: 400,
}

/**
 * A refusal of core's policy as a member of the family: `details.rule` names the rule, and
 * `details.path` the field (under `prefix`, the item's place in a batch) when the rule is about one.
 */
export function refusalError(refusal: Refusal, prefix: (string | number)[] = []): WatchfloorError {
  const details =
    refusal.path === undefined
      ? { rule: refusal.rule }
      : { rule: refusal.rule, path: [...prefix, refusal.path].join('.') }
  return new WatchfloorError(refusal.code, refusal.message, details)
}

/** [A1] What a display token hears when it tries to change anything: on REST and on its socket alike. */
export function readOnlyError(): WatchfloorError {
  return refusalError(readOnlyRefusal({ readOnly: true })!)
}

/** [A7] What a caller viewing as another audience hears when it tries to change anything. */
export function viewingAsError(): WatchfloorError {
  return new WatchfloorError('forbidden', 'a view as another audience is read-only', { rule: 'A7' })
}

/** Why this caller may change nothing (a display token [A1], a view as another audience [A7]), if it may not. */
export function readOnlyReason(caller: { kind: string; viewingAs?: unknown }): WatchfloorError | undefined {
  if (caller.kind === 'display') return readOnlyError()
  if (caller.viewingAs !== undefined) return viewingAsError()
  return undefined
}

/** The HTTP status of an error code. */
export function httpStatus(code: ErrorCode): number {
  return STATUS[code]
}

/**
 * Any thrown value as a member of the error family: ours as they are, the JSON body parser's
 * as `validation` or `too_large`, any other client error Express or its parsers raise (a body
 * that does not decompress, a path with malformed percent-encoding: a 4xx status of their own)
 * as `validation`, anything else `internal` (its details are logged, never sent).
 */
export function toWatchfloorError(error: unknown): WatchfloorError {
  if (error instanceof WatchfloorError) return error
  const { type, limit } = (error ?? {}) as { type?: unknown; limit?: unknown }
  if (type === 'entity.too.large')
    return new WatchfloorError(
      'too_large',
      `request body over ${typeof limit === 'number' ? `${limit} bytes` : 'the limit'}`,
    )
  if (type === 'entity.parse.failed') return new WatchfloorError('validation', unparsed(error))
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return new WatchfloorError('validation', 'unsupported body encoding')
  if (clientErrorStatus(error) !== undefined) {
    if (error instanceof URIError || (error as { message?: unknown }).message === 'Failed to decode param')
      return new WatchfloorError('validation', 'the request path is not valid percent-encoding')
    return new WatchfloorError('validation', 'the request could not be read (its body or encoding is malformed)')
  }
  return new WatchfloorError('internal', 'internal error')
}

/**
 * Why the JSON body parser refused a body: not JSON at all, or JSON that is no object or array
 * (`null`, `"x"`, `42`: valid JSON, which its strict mode refuses), said as such.
 */
function unparsed(error: unknown): string {
  const { body } = error as { body?: unknown }
  if (typeof body === 'string') {
    let value: unknown
    try {
      value = JSON.parse(body)
    } catch {
      return 'request body is not valid JSON'
    }
    const what = value === null ? 'null' : typeof value === 'string' ? 'a string' : `a ${typeof value}`
    return `request body must be a JSON object, not ${what}`
  }
  return 'request body is not valid JSON'
}

/** The 4xx status an error of Express, its router or body parser carries (http-errors' `status`). */
function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown }
  const code = typeof status === 'number' ? status : statusCode
  return typeof code === 'number' && code >= 400 && code < 500 ? code : undefined
}

/** The body sent for any thrown value (REST `{ error }`, socket acks `{ ok: false, error }`). */
export function errorBody(error: unknown): ErrorBody {
  return toWatchfloorError(error).toBody()
}

/** Express's last handler: `answerError`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, _next) => answerError(logger, error, res)
}

/**
 * The answer to a request that failed, whatever was thrown: the status and `{ error }` body of the
 * family; internal errors are logged (never sent). An answer that had begun is cut off instead (its
 * connection closed, as Express's own final handler does), so the client sees it broken rather than
 * waiting for the rest. Express's last handler and the events lane (http/eventsLane.ts) both answer here.
 */
export function answerError(logger: Logger, error: unknown, res: ServerResponse): void {
  const failure = toWatchfloorError(error)
  if (failure.code === 'internal') logger.error({ err: error }, 'request failed')
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy()
    return
  }
  // the error is its own answer: nothing a route set to describe the document it meant to send (a
  // download's name, the document's marking and head, validators of a file) stays on it, and no
  // cache keeps it; the request id, security headers and a `Retry-After` stay
  for (const name of res.getHeaderNames())
    if (DOCUMENT_HEADERS.has(name) || name.startsWith('x-watchfloor-')) res.removeHeader(name)
  res.setHeader('Cache-Control', 'no-store')
  sendJson(res, httpStatus(failure.code), { error: failure.toBody() })
}

/** Headers that describe the document a route meant to send, not an error (lower case, as Node names them). */
const DOCUMENT_HEADERS = new Set([
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-location',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
  'expires',
])

/**
 * A JSON answer on Node's own response, as Express's `res.json` writes one: the body as
 * `JSON.stringify` gives it, `Content-Type: application/json; charset=utf-8` and its length.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body)
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(json))
  res.end(json)
}

/**
 * A request Node's HTTP parser refused before the app saw it (broken framing, headers over its
 * limit, a header timeout): answered like every other refusal, a JSON error body, and the
 * connection closed. `server.on('clientError', answerClientError)`.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const [status, reason, body]: [number, string, ErrorBody] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', { code: 'too_large', message: 'request headers over 16 KB' }]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', { code: 'validation', message: 'the request did not arrive in time' }]
        : [400, 'Bad Request', { code: 'validation', message: 'malformed HTTP request' }]
  const json = JSON.stringify({ error: body })
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(json)}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n` +
      `Connection: close\r\n\r\n${json}`,
  )
}

/**
 * TAXII's error message resource (OASIS TAXII 2.1, section 3.6.1) at the TAXII edge: every error
 * under `/taxii2/` (ours, the error family's, the body parser's) becomes `{ title, description,
 * error_code, http_status, details? }` with the TAXII media type and the right status. The error
 * family maps to statuses through `httpStatus` (http/errors.ts), as everywhere else; 405, 406, 415
 * and 422 are TAXII's own.
 */
import type { ErrorRequestHandler, Response } from 'express'
import type { Logger } from 'pino'
import { httpStatus, toWatchfloorError } from '../http/errors.ts'
import { TAXII_MEDIA_TYPE } from './media.ts'

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  409: 'Conflict',
  413: 'Request entity too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
}

/** The challenges of a 401 (1.6.9): HTTP Basic (the API token as the password) and a bearer token. */
export const WWW_AUTHENTICATE = ['Basic realm="Watchfloor TAXII", charset="UTF-8"', 'Bearer realm="Watchfloor TAXII"']

/** An error a TAXII endpoint answers with: its status, a description, and optional details. */
export class TaxiiError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly details?: unknown,
    /** The error family's code, when it came from there (`error_code`). */
    readonly code?: string,
    /** Extra response headers (`Allow` of a 405). */
    readonly headers?: Record<string, string>,
  ) {
    super(description)
    this.name = 'TaxiiError'
  }
}

/** The 404 of anything the caller may not see, exactly as for what does not exist. */
export function notFound(what: string): TaxiiError {
  return new TaxiiError(404, `${what} not found`)
}

/** Any thrown value as a TAXII error: ours as they are, the error family's with its status. */
export function toTaxiiError(error: unknown): TaxiiError {
  if (error instanceof TaxiiError) return error
  const failure = toWatchfloorError(error)
  return new TaxiiError(httpStatus(failure.code), failure.message, failure.details, failure.code)
}

/** Send a TAXII error message resource. */
export function sendTaxiiError(res: Response, error: TaxiiError): void {
  res.status(error.status)
  res.setHeader('Content-Type', TAXII_MEDIA_TYPE)
  res.setHeader('Cache-Control', 'no-store')
  if (error.status === 401) res.setHeader('WWW-Authenticate', WWW_AUTHENTICATE)
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value)
  const body: Record<string, unknown> = {
    title: TITLES[error.status] ?? 'Error',
    description: error.description,
    http_status: String(error.status),
  }
  if (error.code !== undefined) body.error_code = error.code
  if (error.details !== undefined) body.details = error.details
  res.end(JSON.stringify(body))
}

/** The TAXII router's last handler: internal errors are logged, never described. */
export function taxiiErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    const failure = toTaxiiError(error)
    if (failure.status >= 500) logger.error({ err: error }, 'TAXII request failed')
    if (res.headersSent) {
      res.destroy()
      return
    }
    sendTaxiiError(res, failure)
  }
}

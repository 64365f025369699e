/** The error family shared by server, socket acks and clients; codes become HTTP statuses only at the web edge. */
export const ERROR_CODES = [
  'validation',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'too_large',
  'too_many_requests',
  'unavailable',
  'internal',
  /** A socket handshake whose `auth.protocolVersion` is not the server's `PROTOCOL_VERSION` (the socket only). */
  'protocol_mismatch',
] as const
export type ErrorCode = (typeof ERROR_CODES)[number]

export interface ErrorBody {
  code: ErrorCode
  message: string
  details?: unknown
}

export class WatchfloorError extends Error {
  readonly code: ErrorCode
  readonly details: unknown
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message)
    this.name = 'WatchfloorError'
    this.code = code
    this.details = details
  }
  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

/** A failing field: its path (dot-joined, array indexes as numbers) and what is wrong. */
export interface FieldIssue {
  path: string
  message: string
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new Error(message)
}

export function exhaustiveSwitchError(value: never): never {
  throw new Error(`unknown case: ${JSON.stringify(value)}`)
}

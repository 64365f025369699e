import pino, { type DestinationStream, type Logger } from 'pino'
import { logFields } from './requestContext.ts'

/**
 * Names of fields that hold a secret, wherever they sit in a log line (up to four levels deep):
 * credentials in headers (`authorization`, `cookie`, `set-cookie`), request bodies (`password`,
 * `secret`, `token`) and feed credentials (`secretEnv` names a variable, not a secret: kept).
 */
const SECRET_FIELDS = [
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'Set-Cookie',
  'password',
  'newPassword',
  'passwordHash',
  'secret',
  'secretHash',
  'token',
  'accessToken',
  'apiKey',
  'x-api-key',
  'proxy-authorization',
]

/** pino redaction paths: every secret field at the top of a line and up to three objects down. */
export const REDACT_PATHS = SECRET_FIELDS.flatMap((field) =>
  ['', '*', '*.*', '*.*.*'].map((prefix) =>
    /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(field) ? `${prefix}${prefix === '' ? '' : '.'}${field}` : `${prefix}["${field}"]`,
  ),
)

/**
 * The server's logger: JSON lines, every line of a request with its `reqId` and `principal`
 * (requestContext.ts), and no secret in any line (`REDACT_PATHS` are censored).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'watchfloor' },
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    mixin: logFields,
  }
  return destination === undefined ? pino(options) : pino(options, destination)
}

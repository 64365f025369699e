import { accessSync, constants } from 'node:fs'
import { isIPv6 } from 'node:net'
import { join } from 'node:path'
import { LogInUseError, makeFolder, SchemaTooNewError, SchemaTooOldError } from '@watchfloor/store'
import { SettingError } from '../config.ts'

/*
 * What an operator's setting makes fail at start (a port in use, a database that cannot be reached,
 * a data folder that cannot be written) as one line that names the setting (a `SettingError`), for
 * main.ts and the command line to print without a stack trace. A fault of ours stays as it is.
 */

/** `host:port` as a URL writes it: an IPv6 address in brackets (`[::1]:8080`), its zone's `%` escaped. */
export function hostAndPort(host: string, port: number): string {
  return `${isIPv6(host) ? `[${host.replace('%', '%25')}]` : host}:${port}`
}

/** The base URL of a server listening on `host` and `port` (`http://[::1]:8080`). */
export function httpOrigin(host: string, port: number): string {
  return `http://${hostAndPort(host, port)}`
}

const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: 'address in use',
  EACCES: 'permission denied (a port below 1024 needs privileges)',
  EADDRNOTAVAIL: 'no such address on this machine',
  ENOTFOUND: 'no such host name',
  EAI_AGAIN: 'the host name could not be looked up',
  EAFNOSUPPORT: 'address family not supported on this machine',
}

/** The HTTP server could not listen: one line naming WATCHFLOOR_HOST and WATCHFLOOR_PORT. */
export function cannotListen(error: unknown, host: string, port: number): SettingError {
  const code = codeOf(error)
  const reason = (code !== undefined ? LISTEN_REASONS[code] : undefined) ?? messageOf(error)
  return new SettingError(`cannot listen on ${hostAndPort(host, port)} (WATCHFLOOR_HOST / WATCHFLOOR_PORT): ${reason}`)
}

/**
 * The data folder (WATCHFLOOR_DATA_DIR) made (0700: it holds the database and the demo secrets) and
 * writable, or a SettingError saying why not.
 */
export function prepareDataDir(dir: string): void {
  try {
    makeFolder(dir)
    accessSync(dir, constants.W_OK | constants.X_OK)
  } catch (error) {
    throw new SettingError(`cannot use the data folder ${dir} (WATCHFLOOR_DATA_DIR): ${messageOf(error)}`)
  }
}

/** Error messages of node-postgres with no code when a connection fails or is refused. */
const PG_CONNECTION_MESSAGES = /connection terminated|timeout|SASL|password|SSL|self[- ]signed|certificate/i

/**
 * Opening the stores failed: for a database the operator named that cannot be reached or opened,
 * a SettingError naming WATCHFLOOR_DATABASE_URL (never its password) or, on SQLite, the file and
 * WATCHFLOOR_DATA_DIR; a schema newer than this release's, or older for a command that only reads
 * (`SchemaTooOldError`), as it says; anything else as it is.
 */
export function cannotOpenStore(error: unknown, config: { databaseUrl: string | undefined; dataDir: string }): unknown {
  if (error instanceof SettingError || error instanceof SchemaTooNewError || error instanceof SchemaTooOldError)
    return error
  if (error instanceof LogInUseError) return new SettingError(error.message)
  const code = codeOf(error)
  const message = messageOf(error)
  if (config.databaseUrl) {
    const text = withoutPassword(message, config.databaseUrl)
    // the network (ECONNREFUSED, ENOTFOUND, ETIMEDOUT...), or PostgreSQL refusing the connection:
    // class 08 (connection), 28 (authorisation), 3D000 (no such database), 53300 (too many), 57P0x (shutting down)
    if (
      (code !== undefined && /^(E[A-Z_]+|08...|28...|3D000|53300|57P0.)$/.test(code)) ||
      (code === undefined && PG_CONNECTION_MESSAGES.test(message))
    )
      return new SettingError(`cannot reach PostgreSQL (WATCHFLOOR_DATABASE_URL): ${text}`)
    // another SQLSTATE: the role may not do what the server needs (create its tables, read them)
    if (code !== undefined && /^[0-9A-Z]{5}$/.test(code))
      return new SettingError(`PostgreSQL (WATCHFLOOR_DATABASE_URL) refused: ${text}`)
    return error
  }
  if (code !== undefined && (code.startsWith('SQLITE_') || /^E[A-Z_]+$/.test(code)))
    return new SettingError(
      `cannot open the SQLite database ${join(config.dataDir, 'events.sqlite')} (WATCHFLOOR_DATA_DIR): ${message}`,
    )
  return error
}

/** `message` with the URL's password (as written and decoded) replaced by `***`. */
export function withoutPassword(message: string, url: string): string {
  let password = ''
  try {
    password = new URL(url).password
  } catch {
    return message
  }
  if (password === '') return message
  let decoded = password
  try {
    decoded = decodeURIComponent(password)
  } catch {}
  return message.replaceAll(password, '***').replaceAll(decoded, '***')
}

/**
 * The one line to print for a failed start the operator can act on (a SettingError, a schema newer
 * than this release, or older where it is only read, a log another process writes); undefined for a
 * fault of ours, which is printed with its stack.
 */
export function operatorStartFailure(error: unknown): string | undefined {
  if (
    error instanceof SettingError ||
    error instanceof SchemaTooNewError ||
    error instanceof SchemaTooOldError ||
    error instanceof LogInUseError
  )
    return error.message
  return undefined
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * An error's message; Node's AggregateError of a connection tried at several addresses (`localhost`:
 * ::1 and 127.0.0.1) has none of its own, so its errors' are joined.
 */
function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  if (error.message !== '') return error.message
  const inner = (error as { errors?: unknown }).errors
  if (Array.isArray(inner) && inner.length > 0) return inner.map((each) => messageOf(each)).join('; ')
  return codeOf(error) ?? error.name
}

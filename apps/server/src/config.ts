import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import type { z } from 'zod'

export interface Config {
  port: number
  host: string
  dataDir: string
  databaseUrl: string | undefined
  /** `redis://...`: presence between the processes of a PostgreSQL log through Redis instead of PostgreSQL. */
  redisUrl: string | undefined
  simulator: boolean
  simulatorRate: number
  simulatorSpeed: number
  simulatorSeed: number
  tokensFile: string | undefined
  /** A JSON file of wall presets (adds to or replaces the built-in ones by name). */
  wallPresetsFile: string | undefined
  logLevel: string
  heartbeatMs: number
  /** Other processes' commits heard within this long of the last fan-out go out together (ms; 0: at once). */
  fanoutGatherMs: number
  /** After SIGTERM, how long to go on serving while `/readyz` answers 503 (a load balancer's notice). */
  drainMs: number
  socketBufferPackets: number
  /** Bytes a socket may have waiting to be written before it is told to resync (a catch-up never queues more). */
  socketBufferBytes: number
  /** A socket with bytes waiting and none written for this long is told to resync, then dropped. */
  socketStallMs: number
  /** Sockets one principal may have open at once. */
  socketsPerPrincipal: number
  consoleDir: string
  /** Always mark the session cookie Secure (it is Secure anyway on HTTPS requests). */
  cookieSecure: boolean
  sessionTtlMs: number
  /**
   * Days an API token lasts when its creator gives no `expiresAt`, and the furthest a
   * non-admin may ask for; display tokens never expire unless an admin says when.
   */
  tokenTtlDays: number
  loginMaxFailures: number
  loginMaxFailuresPerAddress: number
  loginWindowMs: number
  /** How often live sockets' credentials are checked again (sessions expire; a missed notification). */
  credentialRecheckMs: number
  /**
   * How often the directory is loaded again besides its change notifications (a notification
   * lost, a load that failed), WATCHFLOOR_DIRECTORY_RELOAD_MS.
   */
  directoryReloadMs: number
  /** How often partner feeds that are due are looked for (WATCHFLOOR_FEED_TICK_MS). */
  feedTickMs: number
  /** Let feeds send their credentials over plain http to any host, not only loopback (WATCHFLOOR_FEED_ALLOW_HTTP). */
  feedAllowHttp: boolean
  /** The most one answer of a partner's feed may be, in bytes (WATCHFLOOR_FEED_MAX_BODY_BYTES). */
  feedMaxBodyBytes: number
  /** log2 of scrypt's N for new password hashes. */
  passwordCost: number
  /**
   * Express's `trust proxy`: which peers may say who the client is (`X-Forwarded-For`).
   * `false` (default): the client is the socket's peer; `true`: every peer; a number: that
   * many hops; a list: those addresses, subnets and names (`loopback`, `linklocal`, `uniquelocal`).
   */
  trustProxy: TrustProxy
  /**
   * The bearer token that alone may read `GET /metrics` (WATCHFLOOR_METRICS_TOKEN, 16 characters or
   * more); unset, signed-in admins may.
   */
  metricsToken: string | undefined
  /** Persisted snapshots of projections (WATCHFLOOR_SNAPSHOTS, default on). */
  snapshots: boolean
  /** A projection is saved once it folded this many events since its last snapshot (WATCHFLOOR_SNAPSHOT_EVERY_EVENTS; 0: not by count). */
  snapshotEveryEvents: number
  /** ...or this long after its last snapshot with anything new (WATCHFLOOR_SNAPSHOT_EVERY_S; 0: not by time). */
  snapshotEveryMs: number
  /** Keys (the whole picture, each viewer) kept in the snapshot table; least recently used pruned (WATCHFLOOR_SNAPSHOT_MAX_KEYS). */
  snapshotMaxKeys: number
}

export type TrustProxy = boolean | number | string[]

/** WATCHFLOOR_TOKEN_TTL_DAYS when unset. */
export const DEFAULT_TOKEN_TTL_DAYS = 90

/** pino's levels, the values WATCHFLOOR_LOG_LEVEL takes (`silent`: no log at all). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/**
 * A mistake in a setting, or in the file or the place it names, that stops the server (and the
 * command line): its message is one line that names the variable, and no stack trace goes with it
 * (main.ts, cli/main.ts; `WATCHFLOOR_DEBUG=1` adds the stack).
 */
export class SettingError extends Error {
  override readonly name = 'SettingError'
}

/**
 * Configuration from the environment; every variable is documented in docs/api.md. A bad value
 * throws a SettingError, one line naming the variable (the server exits 2, the command line too).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: integer(env, 'WATCHFLOOR_PORT', 8080, 0, 65535),
    host: host(env, 'WATCHFLOOR_HOST', '0.0.0.0'),
    dataDir: resolve(env.WATCHFLOOR_DATA_DIR ?? './data'),
    databaseUrl: databaseUrl(env, 'WATCHFLOOR_DATABASE_URL'),
    redisUrl: redisUrl(env),
    simulator: onOff(env, 'WATCHFLOOR_SIMULATOR', true),
    simulatorRate: integer(env, 'WATCHFLOOR_SIMULATOR_RATE', 2, 0, 100_000),
    simulatorSpeed: integer(env, 'WATCHFLOOR_SIMULATOR_SPEED', 1, 1, 100_000),
    simulatorSeed: integer(env, 'WATCHFLOOR_SIMULATOR_SEED', 42, 0, 2 ** 31 - 1),
    tokensFile: env.WATCHFLOOR_TOKENS || undefined,
    wallPresetsFile: env.WATCHFLOOR_WALL_PRESETS || undefined,
    logLevel: oneOf(env, 'WATCHFLOOR_LOG_LEVEL', LOG_LEVELS, 'info'),
    heartbeatMs: integer(env, 'WATCHFLOOR_HEARTBEAT_MS', 5000, 100, 600_000),
    fanoutGatherMs: integer(env, 'WATCHFLOOR_FANOUT_GATHER_MS', 20, 0, 1000),
    drainMs: integer(env, 'WATCHFLOOR_DRAIN_MS', 0, 0, 120_000),
    socketBufferPackets: integer(env, 'WATCHFLOOR_SOCKET_BUFFER_PACKETS', 500, 10, 1_000_000),
    socketBufferBytes: integer(env, 'WATCHFLOOR_SOCKET_BUFFER_BYTES', 8 * 1024 * 1024, 64 * 1024, 1024 ** 3),
    socketStallMs: integer(env, 'WATCHFLOOR_SOCKET_STALL_S', 30, 1, 3600) * 1000,
    socketsPerPrincipal: integer(env, 'WATCHFLOOR_SOCKETS_PER_PRINCIPAL', 20, 1, 100_000),
    consoleDir: resolve(env.WATCHFLOOR_CONSOLE_DIR ?? new URL('../../console/dist', import.meta.url).pathname),
    cookieSecure: onOff(env, 'WATCHFLOOR_COOKIE_SECURE', false),
    sessionTtlMs: integer(env, 'WATCHFLOOR_SESSION_TTL_S', 12 * 3600, 1, 30 * 24 * 3600) * 1000,
    tokenTtlDays: integer(env, 'WATCHFLOOR_TOKEN_TTL_DAYS', DEFAULT_TOKEN_TTL_DAYS, 1, 3650),
    loginMaxFailures: integer(env, 'WATCHFLOOR_LOGIN_MAX_FAILURES', 5, 1, 1000),
    loginMaxFailuresPerAddress: integer(env, 'WATCHFLOOR_LOGIN_MAX_FAILURES_PER_ADDRESS', 20, 1, 100_000),
    loginWindowMs: integer(env, 'WATCHFLOOR_LOGIN_WINDOW_S', 15 * 60, 1, 24 * 3600) * 1000,
    credentialRecheckMs: integer(env, 'WATCHFLOOR_CREDENTIAL_RECHECK_MS', 30_000, 100, 3_600_000),
    directoryReloadMs: integer(env, 'WATCHFLOOR_DIRECTORY_RELOAD_MS', 30_000, 100, 3_600_000),
    feedTickMs: integer(env, 'WATCHFLOOR_FEED_TICK_MS', 5_000, 100, 3_600_000),
    feedAllowHttp: onOff(env, 'WATCHFLOOR_FEED_ALLOW_HTTP', false),
    feedMaxBodyBytes: integer(env, 'WATCHFLOOR_FEED_MAX_BODY_BYTES', 32 * 1024 * 1024, 64 * 1024, 1024 ** 3),
    passwordCost: integer(env, 'WATCHFLOOR_PASSWORD_COST', 15, 10, 20),
    trustProxy: trustProxy(env, 'WATCHFLOOR_TRUST_PROXY'),
    metricsToken: secret(env, 'WATCHFLOOR_METRICS_TOKEN'),
    snapshots: onOff(env, 'WATCHFLOOR_SNAPSHOTS', true),
    snapshotEveryEvents: integer(env, 'WATCHFLOOR_SNAPSHOT_EVERY_EVENTS', 50_000, 0, 1_000_000_000),
    snapshotEveryMs: integer(env, 'WATCHFLOOR_SNAPSHOT_EVERY_S', 300, 0, 7 * 24 * 3600) * 1000,
    snapshotMaxKeys: integer(env, 'WATCHFLOOR_SNAPSHOT_MAX_KEYS', 256, 1, 1_000_000),
  }
}

/**
 * WATCHFLOOR_REDIS_URL: only beside WATCHFLOOR_DATABASE_URL (it carries presence between the
 * processes of one PostgreSQL log; a SQLite log has one process), and a redis:// or rediss:// URL.
 */
function redisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.WATCHFLOOR_REDIS_URL?.trim()
  if (!raw) return undefined
  if (!env.WATCHFLOOR_DATABASE_URL)
    throw new SettingError(
      'WATCHFLOOR_REDIS_URL carries presence between the processes of one PostgreSQL log: set WATCHFLOOR_DATABASE_URL too (a SQLite log has one process)',
    )
  let protocol: string
  try {
    protocol = new URL(raw).protocol
  } catch {
    protocol = ''
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:')
    throw new SettingError('WATCHFLOOR_REDIS_URL must be a redis:// or rediss:// URL')
  return raw
}

/**
 * WATCHFLOOR_DATABASE_URL: unset or empty for SQLite, else a postgres:// or postgresql:// URL. Its
 * value is never repeated in the message (it may hold a password).
 */
function databaseUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim()
  if (!raw) return undefined
  let protocol: string
  try {
    protocol = new URL(raw).protocol
  } catch {
    throw new SettingError(`${name} must be a postgres:// or postgresql:// URL; this one does not parse as a URL`)
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:')
    throw new SettingError(
      `${name} must be a postgres:// or postgresql:// URL, not ${protocol}// (unset it to use SQLite under WATCHFLOOR_DATA_DIR)`,
    )
  return raw
}

/**
 * The interface to listen on: an IPv4 or IPv6 address (without brackets), or a host name (labels of
 * letters, digits and hyphens, not all digits at the end: `256.1.1.1` is no address and no name).
 */
function host(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (isIP(raw) !== 0 || isHostName(raw)) return raw
  throw new SettingError(
    `${name} must be an IP address (an IPv6 one without brackets) or a host name, got ${JSON.stringify(raw)}`,
  )
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i

function isHostName(value: string): boolean {
  const name = value.endsWith('.') ? value.slice(0, -1) : value
  if (name.length === 0 || name.length > 253) return false
  const labels = name.split('.')
  return labels.every((label) => LABEL.test(label)) && !/^[0-9]+$/.test(labels.at(-1)!)
}

/** One of a fixed set of words; unset or empty is `fallback`. */
function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if ((values as readonly string[]).includes(raw)) return raw as T
  throw new SettingError(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`)
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * A value for Express's `trust proxy`, in the forms it takes: on/off, a number of hops,
 * or a comma-separated list of names, addresses and subnets (`10.0.0.0/8`, `fd00::/8`,
 * `172.16.0.0/255.240.0.0`). Checked here, so a typo stops the server at start.
 */
function trustProxy(env: NodeJS.ProcessEnv, name: string): TrustProxy {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '' || raw === 'off' || raw === 'false') return false
  if (raw === 'on' || raw === 'true') return true
  if (/^[0-9]+$/.test(raw)) return integer(env, name, 0, 0, 100)
  const entries = raw.split(',').map((entry) => entry.trim())
  for (const entry of entries)
    if (!PROXY_NAMES.has(entry) && !isSubnet(entry))
      throw new SettingError(
        `${name} must be off, on, a number of hops, or a comma-separated list of addresses, subnets and ` +
          `loopback, linklocal, uniquelocal; "${entry}" in "${raw}" is none of these`,
      )
  return entries
}

/** An IP address, or a subnet as address/prefix (or IPv4 address/netmask), as proxy-addr takes them. */
function isSubnet(entry: string): boolean {
  const slash = entry.lastIndexOf('/')
  const address = slash === -1 ? entry : entry.slice(0, slash)
  const family = isIP(address)
  if (family === 0) return false
  if (slash === -1) return true
  const range = entry.slice(slash + 1)
  const max = family === 4 ? 32 : 128
  if (/^[0-9]+$/.test(range)) return Number(range) >= 1 && Number(range) <= max
  if (family !== 4 || isIP(range) !== 4) return false
  // a netmask: ones, then zeros
  const bits = range
    .split('.')
    .map((octet) => Number(octet).toString(2).padStart(8, '0'))
    .join('')
  return /^1+0*$/.test(bits)
}

/** A secret from the environment: unset or empty is undefined; a short one stops the server at start. */
function secret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  if (raw.length < 16 || /\s/.test(raw))
    throw new SettingError(`${name} must be at least 16 characters with no spaces (got ${raw.length} characters)`)
  return raw
}

/**
 * A whole number in plain decimal digits within bounds, else undefined: no sign, space, exponent,
 * fraction or `0x` (`Number` would take `" "` as 0, and `0x1260` and `1e3` as numbers).
 */
export function wholeNumber(raw: string, min: number, max: number): number | undefined {
  if (!/^[0-9]+$/.test(raw)) return undefined
  const value = Number(raw)
  return value >= min && value <= max ? value : undefined
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = wholeNumber(raw, min, max)
  if (value === undefined) throw new SettingError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  return value
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (raw === 'on' || raw === 'true' || raw === '1') return true
  if (raw === 'off' || raw === 'false' || raw === '0') return false
  throw new SettingError(`${name} must be "on" or "off", got "${raw}"`)
}

/**
 * Work on what a setting names (its file) whose failure is the operator's (a preset defined twice):
 * any error becomes a SettingError naming the setting.
 */
export function fromSetting<T>(name: string, work: () => T): T {
  try {
    return work()
  } catch (error) {
    if (error instanceof SettingError) throw error
    const message = error instanceof Error ? error.message : String(error)
    throw new SettingError(message.startsWith(name) ? message : `${name}: ${message}`)
  }
}

/**
 * An error whose message names the setting (`WATCHFLOOR_TOKENS: ...`, `cannot reach Redis
 * (WATCHFLOOR_REDIS_URL): ...`) as a SettingError, for a start to say in one line; any other as it is.
 */
export function namingSetting(error: unknown, name: string): unknown {
  if (error instanceof SettingError || !(error instanceof Error) || !error.message.includes(name)) return error
  return new SettingError(error.message)
}

/**
 * A JSON file named by a setting (`WATCHFLOOR_TOKENS`, `WATCHFLOOR_WALL_PRESETS`), read and
 * checked against its schema; throws naming the setting, the file and every failing path.
 */
export function readConfigFile<T>(setting: string, file: string, schema: z.ZodType<T>, what: string): T {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new SettingError(`${setting}: cannot read ${file}: ${(error as Error).message}`)
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success)
    throw new SettingError(
      `${setting}: ${file} is not a valid ${what}: ${parsed.error.issues
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    )
  return parsed.data
}

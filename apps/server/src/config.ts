import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { z } from 'zod'

export interface Config {
  port: number
  host: string
  dataDir: string
  databaseUrl: string | undefined
  simulator: boolean
  simulatorRate: number
  simulatorSpeed: number
  simulatorSeed: number
  tokensFile: string | undefined
  /** A JSON file of wall presets (adds to or replaces the built-in ones by name). */
  wallPresetsFile: string | undefined
  logLevel: string
  heartbeatMs: number
  socketBufferPackets: number
  consoleDir: string
  /** Always mark the session cookie Secure (it is Secure anyway on HTTPS requests). */
  cookieSecure: boolean
  sessionTtlMs: number
  loginMaxFailures: number
  loginMaxFailuresPerAddress: number
  loginWindowMs: number
  /** How often live sockets' credentials are checked again (sessions expire; a missed notification). */
  credentialRecheckMs: number
  /** log2 of scrypt's N for new password hashes. */
  passwordCost: number
}

/**
 * Configuration from the environment; every variable is documented in docs/api.md.
 * Throws with a clear message on a bad value.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: integer(env, 'WATCHFLOOR_PORT', 8080, 0, 65535),
    host: env.WATCHFLOOR_HOST ?? '0.0.0.0',
    dataDir: resolve(env.WATCHFLOOR_DATA_DIR ?? './data'),
    databaseUrl: env.WATCHFLOOR_DATABASE_URL || undefined,
    simulator: onOff(env, 'WATCHFLOOR_SIMULATOR', true),
    simulatorRate: integer(env, 'WATCHFLOOR_SIMULATOR_RATE', 2, 0, 100_000),
    simulatorSpeed: integer(env, 'WATCHFLOOR_SIMULATOR_SPEED', 10, 1, 100_000),
    simulatorSeed: integer(env, 'WATCHFLOOR_SIMULATOR_SEED', 42, 0, 2 ** 31 - 1),
    tokensFile: env.WATCHFLOOR_TOKENS || undefined,
    wallPresetsFile: env.WATCHFLOOR_WALL_PRESETS || undefined,
    logLevel: env.WATCHFLOOR_LOG_LEVEL ?? 'info',
    heartbeatMs: integer(env, 'WATCHFLOOR_HEARTBEAT_MS', 5000, 100, 600_000),
    socketBufferPackets: integer(env, 'WATCHFLOOR_SOCKET_BUFFER_PACKETS', 500, 10, 1_000_000),
    consoleDir: resolve(env.WATCHFLOOR_CONSOLE_DIR ?? new URL('../../console/dist', import.meta.url).pathname),
    cookieSecure: onOff(env, 'WATCHFLOOR_COOKIE_SECURE', false),
    sessionTtlMs: integer(env, 'WATCHFLOOR_SESSION_TTL_S', 12 * 3600, 1, 30 * 24 * 3600) * 1000,
    loginMaxFailures: integer(env, 'WATCHFLOOR_LOGIN_MAX_FAILURES', 5, 1, 1000),
    loginMaxFailuresPerAddress: integer(env, 'WATCHFLOOR_LOGIN_MAX_FAILURES_PER_ADDRESS', 20, 1, 100_000),
    loginWindowMs: integer(env, 'WATCHFLOOR_LOGIN_WINDOW_S', 15 * 60, 1, 24 * 3600) * 1000,
    credentialRecheckMs: integer(env, 'WATCHFLOOR_CREDENTIAL_RECHECK_MS', 30_000, 100, 3_600_000),
    passwordCost: integer(env, 'WATCHFLOOR_PASSWORD_COST', 15, 10, 20),
  }
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  return value
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (raw === 'on' || raw === 'true' || raw === '1') return true
  if (raw === 'off' || raw === 'false' || raw === '0') return false
  throw new Error(`${name} must be "on" or "off", got "${raw}"`)
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
    throw new Error(`${setting}: cannot read ${file}: ${(error as Error).message}`)
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success)
    throw new Error(
      `${setting}: ${file} is not a valid ${what}: ${parsed.error.issues
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    )
  return parsed.data
}

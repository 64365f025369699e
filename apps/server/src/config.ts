import { resolve } from 'node:path'

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
  logLevel: string
  heartbeatMs: number
  socketBufferPackets: number
  consoleDir: string
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
    logLevel: env.WATCHFLOOR_LOG_LEVEL ?? 'info',
    heartbeatMs: integer(env, 'WATCHFLOOR_HEARTBEAT_MS', 5000, 100, 600_000),
    socketBufferPackets: integer(env, 'WATCHFLOOR_SOCKET_BUFFER_PACKETS', 500, 10, 1_000_000),
    consoleDir: resolve(env.WATCHFLOOR_CONSOLE_DIR ?? new URL('../../console/dist', import.meta.url).pathname),
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

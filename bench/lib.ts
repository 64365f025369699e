import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventInput } from '../packages/protocol/src/index.ts'
import type { AcceptedEvent } from '../packages/store/src/index.ts'

export const root = new URL('../', import.meta.url).pathname

export const TOKENS = {
  sensor: 'bench-sensor-token-0123456789',
  viewer: 'bench-viewer-token-0123456789',
} as const

export const PRINCIPALS = [
  { token: TOKENS.sensor, user: 'sensor-ee', organisation: 'cert-ee', nation: 'EE', roles: ['sensor'] },
  { token: TOKENS.viewer, user: 'kadri', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'] },
]

/** A fresh scratch folder on the same disk as the repo (tmpdir is ext4 here, not tmpfs). */
export function scratch(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `watchfloor-bench-${prefix}-`))
  scratchDirs.add(dir)
  return {
    dir,
    remove: () => {
      rmSync(dir, { recursive: true, force: true })
      scratchDirs.delete(dir)
    },
  }
}

const scratchDirs = new Set<string>()

/** One incident.observation from cert-ee, GREEN, shaped like a sensor's. */
export function observation(i: number, indicator = `198.51.100.${i % 256}`): EventInput {
  return {
    id: randomUUID(),
    type: 'incident.observation',
    occurredAt: new Date(Date.UTC(2026, 10, 26, 8, 0, 0) + i).toISOString(),
    source: { organisation: 'cert-ee', network: 'ee-gov' },
    marking: { tlp: 'GREEN' },
    payload: { incidentId: `inc-${i % 50}`, networkId: 'ee-gov', indicator, count: (i % 1000) + 1 },
  } as EventInput
}

/** What the server's ingest makes of an observation posted by the sensor token (actor filled in). */
export function accepted(event: EventInput): AcceptedEvent {
  return {
    ...event,
    marking: event.marking ?? { tlp: 'AMBER' },
    actor: event.actor ?? { user: 'sensor-ee', organisation: 'cert-ee' },
  }
}

// ---- child processes: every one is tracked and killed on exit, error or signal ----

const children = new Set<ChildProcess>()

export function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Kill every tracked child and remove scratch folders left by an interrupted run. */
export function killAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  children.clear()
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true })
  scratchDirs.clear()
}

let guarded = false
/** Kill tracked children when this process ends, however it ends. */
export function guardChildren(): void {
  if (guarded) return
  guarded = true
  process.once('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => {
      killAll()
      process.exit(130)
    })
}

/** Stop a child: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/** Run a TypeScript file under Node with the tsx loader (no tsx wrapper process, so the pid is the worker's). */
export function spawnTs(
  file: string,
  args: string[],
  options: { env?: Record<string, string>; ipc?: boolean; nodeArgs?: string[] } = {},
): ChildProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', file, ...args], {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  })
  return track(child)
}

/** Wait for `listening on http://...` on a child's stdout. */
export function listeningUrl(child: ChildProcess, timeoutMs = 30_000): Promise<string> {
  let output = ''
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk
      const match = output.match(/listening on (http:\/\/\S+)/)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk
      process.stderr.write(chunk)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before listening:\n${output}`))
    })
  })
}

export interface RunningProcess {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

let consoleBuilt = false
/**
 * Build the console the server will serve (a stale build would be measured otherwise), unless
 * WATCHFLOOR_CONSOLE_DIR names one already built.
 */
export function ensureConsoleBuilt(): void {
  if (consoleBuilt || process.env.WATCHFLOOR_CONSOLE_DIR) return
  console.log('building the console ...')
  try {
    execFileSync('pnpm', ['--filter', '@watchfloor/console', 'build'], { cwd: root, stdio: 'pipe' })
  } catch (error) {
    const { stdout, stderr, message } = error as { stdout?: Buffer; stderr?: Buffer; message?: string }
    throw new Error(`could not build the console: ${message ?? error}\n${stdout ?? ''}${stderr ?? ''}`)
  }
  consoleBuilt = true
}

let serverBuild: string | undefined
/**
 * The server as production runs it: compiled by `apps/server/build.mjs` (once per bench run) and started with plain `node`. `BENCH_SERVER=source` runs the TypeScript source
 * under the tsx loader instead (as the integration tests do).
 */
export function serverEntry(): { file: string; compiled: boolean } {
  if (process.env.BENCH_SERVER === 'source') return { file: join(root, 'apps/server/src/main.ts'), compiled: false }
  if (!serverBuild) {
    // beside the sources (`dist-bench/`, ignored by git), so that the packages the bundle leaves out
    // resolve from apps/server/node_modules as they do for `dist/`
    const outdir = join(root, 'apps/server/dist-bench')
    try {
      execFileSync(process.execPath, [join(root, 'apps/server/build.mjs'), '--outdir', outdir], {
        cwd: root,
        stdio: 'pipe',
      })
    } catch (error) {
      const { stdout, stderr, message } = error as { stdout?: Buffer; stderr?: Buffer; message?: string }
      throw new Error(`could not build the server: ${message ?? error}\n${stdout ?? ''}${stderr ?? ''}`)
    }
    serverBuild = join(outdir, 'main.js')
  }
  return { file: serverBuild, compiled: true }
}

/**
 * Node options for each server process (Watchfloor's and the bare ones): BENCH_SERVER_PROFILE=dir
 * writes a CPU profile of each there when it stops; BENCH_NODE_ARGS adds options of your own
 * (space-separated, e.g. `--trace-gc-nvp`).
 */
function profileArgs(): string[] {
  const dir = process.env.BENCH_SERVER_PROFILE
  const extra = process.env.BENCH_NODE_ARGS?.split(' ').filter((arg) => arg !== '') ?? []
  return [...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), ...extra]
}

/** Start the server's entry (compiled or source, see `serverEntry`) with these environment variables. */
export function spawnServer(env: Record<string, string>, nodeArgs: string[] = []): ChildProcess {
  const entry = serverEntry()
  if (!entry.compiled) return spawnTs(entry.file, [], { env, nodeArgs })
  const child = spawn(process.execPath, [...nodeArgs, '--enable-source-maps', entry.file], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return track(child)
}

/**
 * The real server (compiled, see `serverEntry`; simulator off): on SQLite in a scratch folder, or on
 * PostgreSQL when `databaseUrl` is given.
 */
export async function startWatchfloor(
  options: { databaseUrl?: string; prepare?: (dataDir: string) => Promise<void> } = {},
): Promise<RunningProcess> {
  const data = scratch('server')
  try {
    // e.g. a log written into the data folder before the server opens it
    await options.prepare?.(data.dir)
  } catch (error) {
    data.remove()
    throw error
  }
  const tokens = join(data.dir, 'tokens.json')
  writeFileSync(tokens, JSON.stringify(PRINCIPALS))
  const child = spawnServer(
    {
      ...(options.databaseUrl ? { WATCHFLOOR_DATABASE_URL: options.databaseUrl } : {}),
      WATCHFLOOR_PORT: '0',
      WATCHFLOOR_HOST: '127.0.0.1',
      WATCHFLOOR_DATA_DIR: data.dir,
      WATCHFLOOR_SIMULATOR: 'off',
      WATCHFLOOR_TOKENS: tokens,
      WATCHFLOOR_LOG_LEVEL: 'warn',
      // The fan-out bench connects up to 1,000 consoles with the one viewer token.
      WATCHFLOOR_SOCKETS_PER_PRINCIPAL: '2000',
    },
    profileArgs(),
  )
  try {
    const url = await listeningUrl(child)
    return {
      url,
      child,
      async stop() {
        await stopChild(child)
        data.remove()
      },
    }
  } catch (error) {
    await stopChild(child)
    data.remove()
    throw error
  }
}

/** PostgreSQL for the benches (trust auth, db `test`); `WATCHFLOOR_BENCH_DATABASE_URL` overrides it. */
export const PG_URL = process.env.WATCHFLOOR_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/**
 * A schema of its own in the bench database (others' tests use the same database at the same
 * time): `url` points the server's connections at it; `drop()` removes it with everything in it.
 */
export async function pgSchema(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const { pg } = await import('./deps.ts')
  const schema = `wf_bench_${prefix}_${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  try {
    await admin.query(`CREATE SCHEMA ${schema}`)
  } finally {
    await admin.end()
  }
  const separator = PG_URL.includes('?') ? '&' : '?'
  return {
    url: `${PG_URL}${separator}options=-c%20search_path%3D${schema}`,
    async drop() {
      const client = new pg.Client({ connectionString: PG_URL })
      await client.connect()
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      } finally {
        await client.end()
      }
    },
  }
}

/**
 * The bench viewer's own head (the seq of the last event it may see, D14): the benches post only
 * events it may see, so it is the head of the log.
 */
export async function viewerHead(url: string): Promise<number> {
  const response = await fetch(`${url}/api/v1/state`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } })
  if (!response.ok) throw new Error(`GET /api/v1/state answered ${response.status}`)
  return ((await response.json()) as { seq: number }).seq
}

/** The bare Socket.IO baseline server (bench/bare-server.ts): one emit per event, one per POST to a room, or that after a durable commit. */
export async function startBare(mode: 'per-event' | 'batched' | 'durable' = 'per-event'): Promise<RunningProcess> {
  const child = spawnTs(join(root, 'bench/bare-server.ts'), ['--mode', mode], { nodeArgs: profileArgs() })
  try {
    const url = await listeningUrl(child)
    return { url, child, stop: () => stopChild(child) }
  } catch (error) {
    await stopChild(child)
    throw error
  }
}

// ---- figures ----

/** CPU seconds (user and system, every thread) a process has used so far, from /proc; null where there is none. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return null
  }
}
/** The kernel's clock ticks per second (`getconf CLK_TCK`), 100 on Linux. */
const CLOCK_TICKS = 100

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export const nowMs = () => performance.timeOrigin + performance.now()

export const round = (value: number, digits = 0) => {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export function fmt(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-'
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

/** Print a plain aligned table. */
export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
  console.log(`\n${title}`)
  console.log(line(header).join('  '))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows) console.log(line(row).join('  '))
}

function cpuJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
  const fields = line.trim().split(/\s+/).slice(1).map(Number)
  const total = fields.reduce((a, b) => a + b, 0)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  return { busy: total - idle, total }
}

/**
 * Cores kept busy by other work on the machine while the bench sits idle for `ms`
 * (from /proc/stat; null where it cannot be read). The machine is shared, so each
 * benchmark records this next to its figures.
 */
export async function backgroundCores(ms = 2_000): Promise<number | null> {
  try {
    const before = cpuJiffies()
    await sleep(ms)
    const after = cpuJiffies()
    const cores = cpus().length
    return round(((after.busy - before.busy) / Math.max(1, after.total - before.total)) * cores, 2)
  } catch {
    return null
  }
}

import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type ClientToServerEvents,
  type EventInput,
  SERVER_MESSAGES,
  type ServerToClientEvents,
  type StoredEvent,
} from '@watchfloor/protocol'
import { SqliteEventStore } from '@watchfloor/store'
import { io, type Socket } from 'socket.io-client'

const root = new URL('../../../', import.meta.url).pathname

export const TOKENS = {
  sensorEe: 'sensor-ee-token-0123456789',
  sensorLv: 'sensor-lv-token-0123456789',
  relay: 'relay-token-0123456789abcd',
  viewerEe: 'viewer-ee-token-0123456789',
  viewerLv: 'viewer-lv-token-0123456789',
  viewerNl: 'viewer-nl-token-0123456789',
  redReader: 'red-reader-token-012345678',
  watchOfficer: 'watch-officer-token-0123456',
  coordEeA: 'coord-ee-a-token-0123456789',
  coordEeB: 'coord-ee-b-token-0123456789',
} as const

export const PRINCIPALS = [
  { token: TOKENS.sensorEe, user: 'sensor-ee', organisation: 'cert-ee', nation: 'EE', roles: ['sensor'] },
  { token: TOKENS.sensorLv, user: 'sensor-lv', organisation: 'cert-lv', nation: 'LV', roles: ['sensor'] },
  {
    token: TOKENS.relay,
    user: 'relay',
    organisation: 'alliance',
    nation: 'ALLIANCE',
    roles: ['sensor'],
    sources: ['cert-ee', 'cert-lv', 'ncsc-nl'],
  },
  { token: TOKENS.viewerEe, user: 'kadri', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'] },
  { token: TOKENS.viewerLv, user: 'janis', organisation: 'cert-lv', nation: 'LV', roles: ['liaison'] },
  { token: TOKENS.viewerNl, user: 'pieter', organisation: 'ncsc-nl', nation: 'NL', roles: ['analyst'] },
  { token: TOKENS.redReader, user: 'red-reader', organisation: 'cert-lv', nation: 'LV', roles: ['analyst'] },
  {
    token: TOKENS.watchOfficer,
    user: 'officer',
    organisation: 'alliance',
    nation: 'ALLIANCE',
    roles: ['watch_officer'],
  },
  // two coordinators of cert-ee (coordination commands; they may post for their own organisation)
  { token: TOKENS.coordEeA, user: 'coord-a', organisation: 'cert-ee', nation: 'EE', roles: ['coordinator'] },
  { token: TOKENS.coordEeB, user: 'coord-b', organisation: 'cert-ee', nation: 'EE', roles: ['coordinator'] },
]

/**
 * A token file (`WATCHFLOOR_TOKENS`) in `dir`: the test principals, an admin (`root` of alliance)
 * whose token is `adminToken`, and `extra` principals; returns its path.
 */
export function tokensWithAdmin(dir: string, adminToken: string, extra: readonly object[] = []): string {
  const tokens = join(dir, 'tokens.json')
  writeFileSync(
    tokens,
    JSON.stringify([
      ...PRINCIPALS,
      { token: adminToken, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] },
      ...extra,
    ]),
  )
  return tokens
}

export interface ServerProcess {
  url: string
  dataDir: string
  child: ChildProcess
  output: () => string
  stop(): Promise<void>
  kill9(): Promise<void>
}

/** Start the real server (`tsx apps/server/src/main.ts`) on a free port and wait until it listens. */
export async function startServerProcess(
  options: { dataDir?: string; env?: Record<string, string> } = {},
): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'watchfloor-int-'))
  const tokens = join(dataDir, 'tokens.json')
  writeFileSync(tokens, JSON.stringify(PRINCIPALS))
  // node itself runs the server (tsx as a loader), so a signal reaches the server and not a wrapper
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'apps/server/src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      WATCHFLOOR_PORT: '0',
      WATCHFLOOR_HOST: '127.0.0.1',
      WATCHFLOOR_DATA_DIR: dataDir,
      WATCHFLOOR_SIMULATOR: 'off',
      WATCHFLOOR_TOKENS: tokens,
      WATCHFLOOR_LOG_LEVEL: 'warn',
      WATCHFLOOR_HEARTBEAT_MS: '500',
      WATCHFLOOR_SOCKET_BUFFER_PACKETS: '50',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => {
    output += chunk
  })
  child.stderr!.on('data', (chunk) => {
    output += chunk
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000)
    const check = () => {
      const match = output.match(/listening on (http:\/\/\S+)/)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', check)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}:\n${output}`))
    })
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    url,
    dataDir,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
    async kill9() {
      child.kill('SIGKILL')
      await exited
    },
  }
}

/**
 * fetch, retried once when a pooled keep-alive connection turns out to belong to a
 * server that died (a restarted server may get the same port). Posting again is
 * safe: event ids make appends idempotent.
 */
async function fetchOnce(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init)
  } catch {
    return fetch(url, init)
  }
}

let counter = 0

/**
 * The seqs of one POST's events, in order: the reply's, and for an event the poster may not see (a
 * relay's for another organisation: no seq in the reply [D14]) where it stands, read from the log's
 * file. One POST at a time, all of its events new: they are the log's newest.
 */
export async function seqsOfPost(
  server: Pick<ServerProcess, 'dataDir'>,
  results: readonly { seq?: number | undefined }[],
): Promise<number[]> {
  if (results.every((r) => r.seq !== undefined)) return results.map((r) => r.seq!)
  const head = await logHead(server)
  return results.map((r, i) => {
    const at = head - results.length + 1 + i
    if (r.seq !== undefined && r.seq !== at) throw new Error(`seq ${r.seq} is not where the log puts it (${at})`)
    return at
  })
}

/**
 * The head of a server's log, read from its SQLite file: no response of the server tells it
 * (each caller hears only its own head [D14]).
 */
export async function logHead(server: Pick<ServerProcess, 'dataDir'>): Promise<number> {
  const store = new SqliteEventStore({ file: join(server.dataDir, 'events.sqlite') })
  try {
    return await store.head()
  } finally {
    await store.close()
  }
}

/** A caller's own head [D14]: the seq of the last event it may see (its picture's `seq`). */
export async function headOf(url: string, token: string): Promise<number> {
  const reply = await getJson<{ seq: number }>(`${url}/api/v1/state`, token)
  if (reply.status !== 200) throw new Error(`GET /api/v1/state answered ${reply.status}`)
  return reply.json.seq
}

/** A valid event from cert-ee unless told otherwise. */
export function event(overrides: Partial<EventInput> & Pick<EventInput, 'type' | 'payload'>): EventInput {
  counter++
  return {
    id: randomUUID(),
    occurredAt: new Date(Date.UTC(2026, 10, 26, 8, 0, counter % 60)).toISOString(),
    source: { organisation: 'cert-ee' },
    marking: { tlp: 'GREEN' },
    ...overrides,
  } as EventInput
}

export function observations(n: number, overrides: Partial<EventInput> = {}): EventInput[] {
  return Array.from({ length: n }, (_, i) =>
    event({ type: 'incident.observation', payload: { incidentId: 'inc-1', count: i + 1 }, ...overrides } as never),
  )
}

export async function post(
  url: string,
  token: string | null,
  body: unknown,
): Promise<{
  status: number
  json: { results?: { id: string; seq: number; duplicate: boolean }[] } & Record<string, unknown>
}> {
  const response = await fetchOnce(`${url}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, json: (await response.json()) as never }
}

export async function getJson<T = Record<string, unknown>>(
  url: string,
  token: string | null,
): Promise<{ status: number; json: T }> {
  const response = await fetchOnce(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  return { status: response.status, json: (await response.json()) as T }
}

/**
 * An account (by default of cert-ee, an analyst) and an API token of it, made through the REST API by
 * an admin (`adminToken`): the token's secret and id.
 */
export async function accountWithToken(
  url: string,
  adminToken: string,
  username: string,
  of: { organisation?: string; nation?: string; displayName?: string; roles?: string[] } = {},
): Promise<{ secret: string; tokenId: string }> {
  const call = async (path: string, body: unknown) => {
    const response = await fetchOnce(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify(body),
    })
    const json = (await response.json()) as { secret?: string; token?: { id: string } }
    if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${JSON.stringify(json)}`)
    return json
  }
  const account = { username, organisation: 'cert-ee', nation: 'EE', roles: ['analyst'], ...of }
  await call('/api/v1/accounts', { ...account, password: 'correct horse battery staple' })
  const made = await call('/api/v1/tokens', { label: `${username} wall`, owner: username })
  return { secret: made.secret!, tokenId: made.token!.id }
}

/** A real socket.io client that records everything it receives. */
export class Watcher {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>
  readonly events: StoredEvent[] = []
  readonly checkpoints: number[] = []
  readonly heartbeats: number[] = []
  readonly resyncs: number[] = []
  lastSeq = 0

  /** A token as `auth: { token }` (and `viewAs` to view as another audience), or a session cookie sent with the upgrade request. */
  constructor(url: string, credential: string | { cookie: string } | { token: string; viewAs: string }) {
    const auth =
      typeof credential === 'string'
        ? { auth: { token: credential } }
        : 'cookie' in credential
          ? { extraHeaders: credential }
          : { auth: credential }
    this.socket = io(url, { transports: ['websocket'], ...auth, reconnection: false, forceNew: true })
    // every message a real server sends is checked against its schema (docs/api.md's table is made
    // from them): one that does not match fails the test that received it, as an uncaught error
    this.socket.onAny((name: string, message: unknown) => {
      const schema = SERVER_MESSAGES[name as keyof typeof SERVER_MESSAGES]
      if (schema === undefined) throw new Error(`the server sent \`${name}\`, a message no schema describes`)
      const checked = schema.safeParse(message)
      if (!checked.success)
        throw new Error(
          `the server sent a \`${name}\` its schema refuses: ${JSON.stringify(checked.error.issues.slice(0, 3))}`,
        )
    })
    this.socket.on('events', ({ events }) => {
      this.events.push(...events)
      this.lastSeq = Math.max(this.lastSeq, events.at(-1)!.seq)
    })
    this.socket.on('checkpoint', ({ seq }) => {
      this.checkpoints.push(seq)
      this.lastSeq = Math.max(this.lastSeq, seq)
    })
    this.socket.on('heartbeat', ({ seq }) => this.heartbeats.push(seq))
    this.socket.on('resync', ({ after }) => this.resyncs.push(after))
  }

  async subscribe(after = this.lastSeq): Promise<{ ok: boolean; head?: number }> {
    if (!this.socket.connected)
      await new Promise<void>((resolve, reject) => {
        this.socket.once('connect', () => resolve())
        this.socket.once('connect_error', reject)
      })
    return this.socket.timeout(20_000).emitWithAck('subscribe', { after }) as Promise<{ ok: boolean; head?: number }>
  }

  seqs(): number[] {
    return this.events.map((e) => e.seq)
  }

  async waitFor(check: () => boolean, timeout = 15_000): Promise<void> {
    const start = Date.now()
    while (!check()) {
      if (Date.now() - start > timeout) throw new Error(`timed out; have ${this.events.length} events`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  close(): void {
    this.socket.close()
  }
}

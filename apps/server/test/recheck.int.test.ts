import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ClientToServerEvents, ServerToClientEvents } from '@watchfloor/protocol'
import { PostgresEventStore } from '@watchfloor/store'
import pg from 'pg'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openApiDocument } from '../src/http/openapi.ts'
import { event, logHead, PRINCIPALS, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

/*
 * A credential is checked again after the request's body is read, before anything is written
 * (docs/security.md, "Sign-in and tokens"): a request whose headers passed the door while its body
 * was still coming is refused, exactly as the door would refuse it now, when its token was revoked
 * or its account disabled meanwhile; and a command is checked again inside the command lock.
 */

const ROOT = 'recheck-root-token-0123456789'
const PASSWORD = 'correct horse battery staple'
/** scrypt N = 2^12: many accounts here; the default cost is tested in passwords.test.ts. */
const CHEAP = { WATCHFLOOR_PASSWORD_COST: '12', WATCHFLOOR_CREDENTIAL_RECHECK_MS: '600000' }

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } }
interface Reply<T = Json> {
  status: number
  json: T
}

/** Credentials of a request: a bearer token, a session cookie, or TAXII's HTTP Basic with the token as password. */
type Credential = { token: string } | { cookie: string } | { basic: string }

function headersOf(credential: Credential, contentType = 'application/json'): Record<string, string> {
  const auth =
    'token' in credential
      ? { authorization: `Bearer ${credential.token}` }
      : 'cookie' in credential
        ? { cookie: credential.cookie }
        : { authorization: `Basic ${Buffer.from(`:${credential.basic}`).toString('base64')}` }
  return { ...auth, 'content-type': contentType }
}

async function call<T = Json>(
  base: string,
  method: string,
  path: string,
  credential: Credential,
  body?: unknown,
): Promise<Reply<T>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: headersOf(credential),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as T }
}

const root: Credential = { token: ROOT }

/**
 * A request whose headers and first half of the body are sent now: its caller passes the door (no
 * answer comes while the rest of the body is awaited); `finish` sends the rest and gives the answer.
 */
async function pending(
  base: string,
  method: string,
  path: string,
  credential: Credential,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<{ finish(): Promise<Reply> }> {
  const bytes = Buffer.from(JSON.stringify(body))
  const half = Math.floor(bytes.length / 2)
  let answeredEarly = false
  const req = request(`${base}${path}`, {
    method,
    agent: false,
    headers: { ...headersOf(credential), ...extraHeaders, 'content-length': String(bytes.length) },
  })
  const answer = new Promise<Reply>((resolve, reject) => {
    req.on('error', reject)
    req.on('response', (res) => {
      answeredEarly = true
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ status: res.statusCode ?? 0, json: (text ? JSON.parse(text) : {}) as Json })
      })
      res.on('error', reject)
    })
  })
  req.flushHeaders()
  req.write(bytes.subarray(0, half))
  // the door (the credential looked up) takes a few milliseconds; the route then waits for the body
  await sleep(300)
  expect(answeredEarly, `${method} ${path} was answered before its body was complete`).toBe(false)
  return {
    finish: async () => {
      req.end(bytes.subarray(half))
      return answer
    },
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** An account of `organisation` with `roles`, made by root; with an API token of it when asked. */
async function account(
  base: string,
  username: string,
  organisation: string,
  roles: string[],
): Promise<{ token: string; tokenId: string }> {
  const made = await call(base, 'POST', '/api/v1/accounts', root, {
    username,
    organisation,
    roles,
    password: PASSWORD,
  })
  expect(made.status, JSON.stringify(made.json)).toBe(201)
  const token = await call<{ secret: string; token: { id: string } }>(base, 'POST', '/api/v1/tokens', root, {
    label: `${username}'s script`,
    owner: username,
  })
  expect(token.status, JSON.stringify(token.json)).toBe(201)
  return { token: token.json.secret, tokenId: token.json.token.id }
}

async function signIn(base: string, username: string): Promise<string> {
  const response = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  })
  expect(response.status).toBe(200)
  return (response.headers.get('set-cookie') ?? '').split(';')[0]!
}

/** Everything the routes below may write: the log's head, accounts, tokens, directory and feeds, as root reads them. */
async function snapshot(server: ServerProcess): Promise<unknown> {
  const read = async (path: string) => (await call(server.url, 'GET', path, root)).json
  return {
    head: await logHead(server),
    accounts: await read('/api/v1/accounts'),
    tokens: await read('/api/v1/tokens'),
    directory: await read('/api/v1/directory'),
    feeds: await read('/api/v1/feeds'),
  }
}

/** How the door answers a credential now: the refusal a re-checked request must give too. */
async function atTheDoor(base: string, credential: Credential, taxii = false): Promise<Reply> {
  const response = await fetch(`${base}${taxii ? '/taxii2/api/collections/' : '/api/v1/session'}`, {
    headers: { ...headersOf(credential), accept: 'application/taxii+json;version=2.1' },
  })
  const text = await response.text()
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as Json }
}

const TAXII = 'application/taxii+json;version=2.1'

/**
 * A route that changes anything and reads a body (`name`: as the OpenAPI document names it), and a
 * fresh body for it (`n`: a number of its own for each request).
 */
interface Case {
  name: string
  /** Another spelling of the path that reaches the route another way. */
  spelling?: string
  method: string
  path: string
  body: (n: number) => unknown
  headers?: Record<string, string>
  taxii?: boolean
}

const stixBundle = (n: number) => ({
  type: 'bundle',
  id: `bundle--${randomUUID()}`,
  objects: [
    {
      type: 'incident',
      spec_version: '2.1',
      id: `incident--${randomUUID()}`,
      created: '2026-11-26T08:00:00.000Z',
      modified: '2026-11-26T08:00:00.000Z',
      name: `Imported incident ${n}`,
    },
  ],
})

const CASES: Case[] = [
  {
    name: 'POST /api/v1/accounts',
    method: 'POST',
    path: '/api/v1/accounts',
    body: (n) => ({ username: `made-${n}`, organisation: 'alliance', roles: ['admin'], password: PASSWORD }),
  },
  {
    name: 'PATCH /api/v1/accounts/{username}',
    method: 'PATCH',
    path: '/api/v1/accounts/target',
    body: (n) => ({ displayName: `Target ${n}` }),
  },
  { name: 'POST /api/v1/tokens', method: 'POST', path: '/api/v1/tokens', body: (n) => ({ label: `renewed ${n}` }) },
  {
    name: 'POST /api/v1/directory/organisations',
    method: 'POST',
    path: '/api/v1/directory/organisations',
    body: (n) => ({ id: `org-${n}`, name: `Organisation ${n}`, nation: 'EE', kind: 'industry' }),
  },
  {
    name: 'PATCH /api/v1/directory/organisations/{id}',
    method: 'PATCH',
    path: '/api/v1/directory/organisations/target-org',
    body: (n) => ({ name: `Target organisation ${n}` }),
  },
  {
    name: 'POST /api/v1/directory/communities',
    method: 'POST',
    path: '/api/v1/directory/communities',
    body: (n) => ({ id: `community-${n}`, name: `Community ${n}`, members: ['cert-ee'] }),
  },
  {
    name: 'PATCH /api/v1/directory/communities/{id}',
    method: 'PATCH',
    path: '/api/v1/directory/communities/target-community',
    body: (n) => ({ name: `Target community ${n}` }),
  },
  {
    name: 'POST /api/v1/feeds',
    method: 'POST',
    path: '/api/v1/feeds',
    body: (n) => ({
      id: `feed-${n}`,
      label: `Feed ${n}`,
      url: 'https://partner.invalid/',
      apiRoot: '/taxii2/api/',
      collectionId: 'all',
      organisation: 'cert-lv',
      enabled: false,
    }),
  },
  {
    name: 'PATCH /api/v1/feeds/{id}',
    method: 'PATCH',
    path: '/api/v1/feeds/target-feed',
    body: (n) => ({ label: `Target feed ${n}` }),
  },
  {
    name: 'POST /api/v1/events',
    method: 'POST',
    path: '/api/v1/events',
    body: (n) =>
      event({
        type: 'incident.observation',
        source: { organisation: 'alliance' },
        payload: { incidentId: `inc-lane-${n}`, count: 1 },
      } as never),
  },
  {
    name: 'POST /api/v1/events',
    spelling: "/api/v1/events/, Express's route",
    method: 'POST',
    path: '/api/v1/events/',
    body: (n) =>
      event({
        type: 'incident.observation',
        source: { organisation: 'alliance' },
        payload: { incidentId: `inc-route-${n}`, count: 1 },
      } as never),
  },
  { name: 'POST /api/v1/import/stix', method: 'POST', path: '/api/v1/import/stix', body: stixBundle },
  {
    name: 'POST /api/v1/import/misp',
    method: 'POST',
    path: '/api/v1/import/misp',
    body: (n) => ({
      Event: {
        uuid: randomUUID(),
        info: `MISP event ${n}`,
        date: '2026-11-24',
        threat_level_id: '2',
        timestamp: '1795939200',
        Attribute: [],
      },
    }),
  },
  {
    name: 'POST /api/v1/commands',
    method: 'POST',
    path: '/api/v1/commands',
    body: (n) => ({ type: 'bookmark.save', title: `Bookmark ${n}`, clock: 'recorded', at: new Date().toISOString() }),
  },
  {
    name: 'POST /taxii2/api/collections/{collectionId}/objects/',
    method: 'POST',
    path: '/taxii2/api/collections/all/objects/',
    body: (n) => ({ objects: stixBundle(n).objects }),
    headers: { 'content-type': TAXII, accept: TAXII },
    taxii: true,
  },
]

/**
 * The routes that change something without reading a body: they answer as soon as their headers are
 * in, so nothing comes between the door and their write (they check the caller again all the same).
 * Signing in and out are the door itself.
 */
const WITHOUT_BODY = [
  'DELETE /api/v1/tokens/{id}',
  'DELETE /api/v1/directory/organisations/{id}',
  'DELETE /api/v1/directory/communities/{id}',
  'DELETE /api/v1/feeds/{id}',
  'POST /api/v1/feeds/{id}/poll',
  'POST /api/v1/session',
  'DELETE /api/v1/session',
]

describe('a credential is checked again after the body is read, before anything is written', () => {
  let server: ServerProcess
  let dir = ''
  let n = 0

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-recheck-'))
    const tokens = join(dir, 'tokens.json')
    const admin = { token: ROOT, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] }
    writeFileSync(tokens, JSON.stringify([...PRINCIPALS, admin]))
    server = await startServerProcess({ env: { ...CHEAP, WATCHFLOOR_TOKENS: tokens } })
    // what the PATCH routes change
    await account(server.url, 'target', 'cert-ee', ['analyst'])
    const made = [
      await call(server.url, 'POST', '/api/v1/directory/organisations', root, {
        id: 'target-org',
        name: 'Target organisation',
        nation: 'EE',
        kind: 'industry',
      }),
      await call(server.url, 'POST', '/api/v1/directory/communities', root, {
        id: 'target-community',
        name: 'Target community',
        members: [],
      }),
      await call(server.url, 'POST', '/api/v1/feeds', root, {
        id: 'target-feed',
        label: 'Target feed',
        url: 'https://partner.invalid/',
        apiRoot: '/taxii2/api/',
        collectionId: 'all',
        organisation: 'cert-lv',
        enabled: false,
      }),
    ]
    for (const reply of made) expect(reply.status, JSON.stringify(reply.json)).toBe(201)
  })

  afterAll(async () => {
    await server?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** The route's body sent whole by `credential`: what it answers when nothing changes meanwhile. */
  const sent = (c: Case, credential: Credential) => {
    return fetch(`${server.url}${c.path}`, {
      method: c.method,
      headers: { ...headersOf(credential), ...c.headers },
      body: JSON.stringify(c.body(++n)),
    })
  }

  it('every route of the OpenAPI document that changes anything is tried below (or reads no body)', () => {
    const paths = openApiDocument().paths as Record<string, Record<string, unknown>>
    const changing = Object.entries(paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((method) => method !== 'get' && method !== 'head')
        .map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(new Set([...CASES.map((c) => c.name), ...WITHOUT_BODY])).toEqual(new Set(changing))
  })

  const titled = CASES.map((c) => [c.spelling === undefined ? c.name : `${c.name} (${c.spelling})`, c] as const)
  it.each(titled)(
    '%s: a token revoked while the body is pending is refused as at the door (401), nothing written',
    async (_title, c) => {
      const name = `adm-${++n}`
      const { token, tokenId } = await account(server.url, name, 'alliance', ['admin'])
      // the same request by the same token, nothing revoked: it is a request the route takes
      const taken = await sent(c, { token })
      expect(taken.status, `${c.name}: ${await taken.clone().text()}`).toBeLessThan(300)

      const inFlight = await pending(server.url, c.method, c.path, { token }, c.body(++n), c.headers)
      const revoked = await call(server.url, 'DELETE', `/api/v1/tokens/${tokenId}`, root)
      expect(revoked.status).toBe(200)
      const before = await snapshot(server)
      const answer = await inFlight.finish()
      expect(answer).toEqual(await atTheDoor(server.url, { token }, c.taxii))
      expect(answer.status).toBe(401)
      expect(await snapshot(server)).toEqual(before)
    },
  )

  it("a disabled admin's pending POST /api/v1/accounts making an admin is refused (401 account disabled); no account is made", async () => {
    const { token } = await account(server.url, 'eve', 'alliance', ['admin'])
    const inFlight = await pending(
      server.url,
      'POST',
      '/api/v1/accounts',
      { token },
      {
        username: 'backdoor',
        organisation: 'alliance',
        roles: ['admin'],
        password: PASSWORD,
      },
    )
    expect((await call(server.url, 'PATCH', '/api/v1/accounts/eve', root, { disabled: true })).status).toBe(200)
    const answer = await inFlight.finish()
    expect(answer).toEqual({ status: 401, json: { error: { code: 'unauthenticated', message: 'account disabled' } } })
    expect(answer).toEqual(await atTheDoor(server.url, { token }))
    const accounts = (await call<{ accounts: { username: string }[] }>(server.url, 'GET', '/api/v1/accounts', root))
      .json.accounts
    expect(accounts.map((a) => a.username)).not.toContain('backdoor')
  })

  it('an admin whose admin role is dropped while the body is pending is refused as a non-admin (403); roles are read as they are now', async () => {
    const { token } = await account(server.url, 'ivo', 'alliance', ['admin'])
    const inFlight = await pending(
      server.url,
      'POST',
      '/api/v1/accounts',
      { token },
      {
        username: 'ivos-friend',
        organisation: 'alliance',
        roles: ['admin'],
        password: PASSWORD,
      },
    )
    const demoted = await call(server.url, 'PATCH', '/api/v1/accounts/ivo', root, { roles: ['analyst'] })
    expect(demoted.status).toBe(200)
    const answer = await inFlight.finish()
    expect(answer.status).toBe(403)
    expect(answer.json.error!.code).toBe('forbidden')
    const accounts = (await call<{ accounts: { username: string }[] }>(server.url, 'GET', '/api/v1/accounts', root))
      .json.accounts
    expect(accounts.map((a) => a.username)).not.toContain('ivos-friend')
  })

  it("a revoked sensor service token's pending POST /api/v1/events is refused (401 token revoked); nothing is appended", async () => {
    const made = await call<{ secret: string; token: { id: string } }>(server.url, 'POST', '/api/v1/tokens', root, {
      label: 'sensor on the edge',
      service: { user: 'edge-sensor', organisation: 'cert-ee', roles: ['sensor'] },
    })
    expect(made.status).toBe(201)
    const token = made.json.secret
    const observation = event({ type: 'incident.observation', payload: { incidentId: 'inc-edge', count: 1 } } as never)
    const inFlight = await pending(server.url, 'POST', '/api/v1/events', { token }, { events: [observation] })
    expect((await call(server.url, 'DELETE', `/api/v1/tokens/${made.json.token.id}`, root)).status).toBe(200)
    const head = await logHead(server)
    const answer = await inFlight.finish()
    expect(answer).toEqual({ status: 401, json: { error: { code: 'unauthenticated', message: 'token revoked' } } })
    expect(await logHead(server)).toBe(head)
  })

  it("a disabled account's pending POST /api/v1/commands (signed in by session) is refused as at the door; the incident is not acknowledged", async () => {
    const reported = event({
      type: 'incident.reported',
      payload: {
        incidentId: 'inc-pending-ack',
        title: 'Pending acknowledgement',
        severity: 'high',
        category: 'malware',
        affectedNetworks: [],
      },
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, reported)).status).toBe(201)
    await account(server.url, 'dora', 'cert-ee', ['watch_officer'])
    const cookie = await signIn(server.url, 'dora')
    const inFlight = await pending(
      server.url,
      'POST',
      '/api/v1/commands',
      { cookie },
      {
        type: 'incident.acknowledge',
        incidentId: 'inc-pending-ack',
        expectedVersion: 1,
      },
    )
    expect((await call(server.url, 'PATCH', '/api/v1/accounts/dora', root, { disabled: true })).status).toBe(200)
    const head = await logHead(server)
    const answer = await inFlight.finish()
    expect(answer.status).toBe(401)
    expect(answer).toEqual(await atTheDoor(server.url, { cookie }))
    expect(await logHead(server)).toBe(head)
  })
})

/** A socket.io client authenticated by token. */
function connect(url: string, token: string): Socket<ServerToClientEvents, ClientToServerEvents> {
  return io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } })
}

describe('a command is checked again inside the command lock (PostgreSQL: another process holds it)', () => {
  const schema = `wf_rck_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`
  let server: ServerProcess
  let log: PostgresEventStore
  let dir = ''
  const sockets: Socket[] = []

  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-recheck-pg-'))
    const tokens = join(dir, 'tokens.json')
    const rootToken = { token: ROOT, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] }
    writeFileSync(tokens, JSON.stringify([...PRINCIPALS, rootToken]))
    server = await startServerProcess({
      env: { ...CHEAP, WATCHFLOOR_DATABASE_URL: databaseUrl, WATCHFLOOR_TOKENS: tokens },
    })
    log = await PostgresEventStore.open({ connectionString: databaseUrl })
  })

  afterAll(async () => {
    for (const socket of sockets) socket.close()
    await server?.stop()
    await log?.close()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** Hold the log's command lock, as another server process deciding a command would, until `release`. */
  async function holdCommandLock(): Promise<{ release(): Promise<void> }> {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let taken!: () => void
    const held = new Promise<void>((resolve) => {
      taken = resolve
    })
    const done = log.exclusive('commands', async () => {
      taken()
      await gate
    })
    await held
    return {
      release: async () => {
        release()
        await done
      },
    }
  }

  /** A command of coord-a's over REST, answered once every command queued before it in the process is done. */
  const afterQueued = () =>
    call(
      server.url,
      'POST',
      '/api/v1/commands',
      { token: TOKENS.coordEeA },
      {
        type: 'bookmark.save',
        title: 'after the queue',
        clock: 'recorded',
        at: new Date().toISOString(),
      },
    )

  async function incident(id: string): Promise<void> {
    const reported = event({
      type: 'incident.reported',
      payload: { incidentId: id, title: `Incident ${id}`, severity: 'high', category: 'malware', affectedNetworks: [] },
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, reported)).status).toBe(201)
  }

  /** Whether the log holds an acknowledgement of the incident. */
  async function acknowledged(id: string): Promise<boolean> {
    return (await log.readAfter(0, 10_000)).some(
      (e) => e.type === 'incident.acknowledged' && (e.payload as { incidentId: string }).incidentId === id,
    )
  }

  it('REST: a session whose account is disabled while its command waits for the lock is refused as at the door; nothing is appended', async () => {
    await incident('inc-lock-rest')
    await call(server.url, 'POST', '/api/v1/accounts', root, {
      username: 'wo-rest',
      organisation: 'cert-ee',
      roles: ['watch_officer'],
      password: PASSWORD,
    })
    const cookie = await signIn(server.url, 'wo-rest')
    const lock = await holdCommandLock()
    const answer = call(
      server.url,
      'POST',
      '/api/v1/commands',
      { cookie },
      {
        type: 'incident.acknowledge',
        incidentId: 'inc-lock-rest',
        expectedVersion: 1,
      },
    )
    await sleep(300)
    expect((await call(server.url, 'PATCH', '/api/v1/accounts/wo-rest', root, { disabled: true })).status).toBe(200)
    await lock.release()
    const refused = await answer
    expect(refused.status).toBe(401)
    expect(refused).toEqual(await atTheDoor(server.url, { cookie }))
    expect(await acknowledged('inc-lock-rest')).toBe(false)
  })

  it("socket: a coordinator's command that waits for the lock is decided with the roles of when it runs (C2)", async () => {
    await incident('inc-lock-roles')
    const { token } = await account(server.url, 'coord-sock', 'cert-ee', ['coordinator'])
    const socket = connect(server.url, token)
    sockets.push(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve())
      socket.once('connect_error', reject)
    })
    const lock = await holdCommandLock()
    const ack = socket
      .timeout(30_000)
      .emitWithAck('command', { type: 'incident.acknowledge', incidentId: 'inc-lock-roles', expectedVersion: 1 })
    await sleep(300)
    const demoted = await call(server.url, 'PATCH', '/api/v1/accounts/coord-sock', root, { roles: ['analyst'] })
    expect(demoted.status).toBe(200)
    await lock.release()
    const answer = (await ack) as { ok: boolean; error?: { code: string; details?: { rule?: string } } }
    expect(answer.ok).toBe(false)
    expect(answer.error?.code).toBe('forbidden')
    expect(answer.error?.details?.rule).toBe('C2')
    expect(await acknowledged('inc-lock-roles')).toBe(false)
  })

  it('socket: a token revoked while its command waits for the lock appends nothing', async () => {
    await incident('inc-lock-revoked')
    const { token, tokenId } = await account(server.url, 'coord-gone', 'cert-ee', ['coordinator'])
    const socket = connect(server.url, token)
    sockets.push(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve())
      socket.once('connect_error', reject)
    })
    const lock = await holdCommandLock()
    socket.emit(
      'command',
      { type: 'incident.acknowledge', incidentId: 'inc-lock-revoked', expectedVersion: 1 },
      () => {},
    )
    await sleep(300)
    expect((await call(server.url, 'DELETE', `/api/v1/tokens/${tokenId}`, root)).status).toBe(200)
    const queued = afterQueued()
    await lock.release()
    expect((await queued).status).toBe(200)
    expect(await acknowledged('inc-lock-revoked')).toBe(false)
  })
})

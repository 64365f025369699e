import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type {
  ClientToServerEvents,
  EventInput,
  RevokedMessage,
  ServerToClientEvents,
  StoredEvent,
} from '@watchfloor/protocol'
import { hashSecret, SqliteCredentialStore } from '@watchfloor/store'
import pg from 'pg'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, PRINCIPALS, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

/** better-sqlite3 (a dependency of the server; its types belong to the store package), to write a row by hand. */
interface SqliteFile {
  prepare(sql: string): { run(...values: unknown[]): unknown }
  close(): void
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => SqliteFile

const ADMIN_TOKEN = 'static-admin-token-0123456789'
const PASSWORD = 'correct horse battery staple'
/** scrypt N = 2^12 here: the default cost (2^15) is tested in passwords.test.ts; many sign-ins here. */
const CHEAP = { WATCHFLOOR_PASSWORD_COST: '12' }

/** The harness principals plus a static admin, who makes the accounts. */
function tokensFile(): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-access-'))
  const file = join(dir, 'tokens.json')
  const admin = { token: ADMIN_TOKEN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] }
  writeFileSync(file, JSON.stringify([...PRINCIPALS, admin]))
  return { file, dir }
}

interface Reply<T> {
  status: number
  json: T
  headers: Headers
}

type Json = Record<string, unknown> & { error?: { code: string; message: string } }

/** One HTTP call; `cookie` sends a session cookie, `token` a bearer token. JSON bodies are sent as JSON. */
async function call<T = Json>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; cookie?: string; body?: unknown; contentType?: string | null } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = {}
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (options.cookie) headers.cookie = options.cookie
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType
  if (contentType !== null && (options.body !== undefined || method !== 'GET')) headers['content-type'] = contentType
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  })
  const text = await response.text()
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as T, headers: response.headers }
}

/** Sign in; returns the `Cookie` header value to send and the raw Set-Cookie. */
async function signIn(base: string, username: string, password = PASSWORD) {
  const reply = await call(base, 'POST', '/api/v1/session', { body: { username, password } })
  const setCookie = reply.headers.get('set-cookie') ?? ''
  const cookie = setCookie.split(';')[0]!
  return { ...reply, setCookie, cookie }
}

async function createAccount(
  base: string,
  username: string,
  organisation: string,
  nation: string,
  roles: string[],
): Promise<void> {
  const reply = await call(base, 'POST', '/api/v1/accounts', {
    token: ADMIN_TOKEN,
    body: { username, organisation, nation, roles, password: PASSWORD },
  })
  expect(reply.status).toBe(201)
}

/** A socket.io client authenticated by token or by session cookie, recording what it receives. */
class Client {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>
  readonly events: StoredEvent[] = []
  readonly revoked: RevokedMessage[] = []
  lastSeq = 0
  heartbeats = 0
  disconnected = false

  constructor(
    private readonly url: string,
    private readonly credential: { token?: string; cookie?: string; origin?: string },
  ) {
    const extraHeaders: Record<string, string> = {}
    if (credential.cookie) extraHeaders.cookie = credential.cookie
    if (credential.origin) extraHeaders.origin = credential.origin
    this.socket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: credential.token ? { token: credential.token } : {},
      extraHeaders,
    })
    this.socket.on('events', ({ events }) => {
      this.events.push(...events)
      this.lastSeq = Math.max(this.lastSeq, events.at(-1)!.seq)
    })
    this.socket.on('checkpoint', ({ seq }) => {
      this.lastSeq = Math.max(this.lastSeq, seq)
    })
    this.socket.on('heartbeat', () => this.heartbeats++)
    this.socket.on('revoked', (message) => this.revoked.push(message))
    this.socket.on('disconnect', () => {
      this.disconnected = true
    })
  }

  /** Resolves once connected; rejects with the connect_error. */
  connected(): Promise<void> {
    if (this.socket.connected) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve())
      this.socket.once('connect_error', reject)
    })
  }

  async subscribe(after = 0): Promise<{ ok: boolean; head?: number }> {
    await this.connected()
    return this.socket.timeout(20_000).emitWithAck('subscribe', { after }) as Promise<{ ok: boolean; head?: number }>
  }

  /** Subscribe from the caller's own head [D14]: only what comes next. */
  async subscribeNow(): Promise<{ ok: boolean; head?: number }> {
    const { token, cookie } = this.credential
    const state = await call<{ seq: number }>(this.url, 'GET', '/api/v1/state', {
      ...(token ? { token } : {}),
      ...(cookie ? { cookie } : {}),
    })
    if (state.status !== 200) throw new Error(`GET /api/v1/state answered ${state.status}`)
    this.lastSeq = Math.max(this.lastSeq, state.json.seq)
    return this.subscribe(state.json.seq)
  }

  tlps(): string[] {
    return this.events.map((e) => e.marking.tlp)
  }

  close(): void {
    this.socket.close()
  }
}

async function until(check: () => boolean, timeout = 10_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** One event under each TLP from cert-ee, the RED one addressed to kadri. */
function everyTlp(): EventInput[] {
  const markings: EventInput['marking'][] = [
    { tlp: 'CLEAR' },
    { tlp: 'GREEN' },
    { tlp: 'AMBER' },
    { tlp: 'AMBER+STRICT' },
    { tlp: 'RED', recipients: ['kadri'] },
  ]
  return markings.map((marking, i) =>
    event({ type: 'incident.observation', payload: { incidentId: `inc-tlp-${i}`, count: 1 }, marking } as never),
  )
}

describe('people and access', () => {
  let server: ServerProcess
  let url: string
  let dir: string
  const clients: Client[] = []
  const connect = (credential: { token?: string; cookie?: string; origin?: string }) => {
    const client = new Client(url, credential)
    clients.push(client)
    return client
  }

  beforeAll(async () => {
    const tokens = tokensFile()
    dir = tokens.dir
    server = await startServerProcess({
      env: { ...CHEAP, WATCHFLOOR_TOKENS: tokens.file, WATCHFLOOR_CREDENTIAL_RECHECK_MS: '60000' },
    })
    url = server.url
    await createAccount(url, 'kadri', 'cert-ee', 'EE', ['watch_officer'])
    await createAccount(url, 'janis', 'cert-lv', 'LV', ['liaison'])
    await createAccount(url, 'koordinaator', 'cert-ee', 'EE', ['coordinator'])
    await createAccount(url, 'leida', 'cert-ee', 'EE', ['analyst'])
  })
  afterAll(async () => {
    for (const client of clients) client.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  describe('accounts (admin)', () => {
    it('an admin creates and lists accounts; no password or hash ever comes back', async () => {
      const created = await call<{ account: Record<string, unknown> }>(url, 'POST', '/api/v1/accounts', {
        token: ADMIN_TOKEN,
        body: {
          username: 'Pieter',
          displayName: 'Pieter de Vries',
          organisation: 'ncsc-nl',
          nation: 'NL',
          roles: ['analyst'],
          password: PASSWORD,
        },
      })
      expect(created.status).toBe(201)
      expect(created.json.account).toMatchObject({
        username: 'pieter',
        displayName: 'Pieter de Vries',
        organisation: 'ncsc-nl',
        nation: 'NL',
        roles: ['analyst'],
        disabled: false,
      })
      const listed = await call<{ accounts: { username: string }[] }>(url, 'GET', '/api/v1/accounts', {
        token: ADMIN_TOKEN,
      })
      expect(listed.status).toBe(200)
      expect(listed.json.accounts.map((a) => a.username)).toEqual(
        expect.arrayContaining(['janis', 'kadri', 'koordinaator', 'pieter']),
      )
      const text = JSON.stringify([created.json, listed.json])
      expect(text).not.toContain(PASSWORD)
      expect(text).not.toMatch(/password|scrypt/i)
      expect(listed.headers.get('cache-control')).toBe('no-store')
    })

    it('refuses a taken username (409) and a short password (400)', async () => {
      const again = await call(url, 'POST', '/api/v1/accounts', {
        token: ADMIN_TOKEN,
        body: { username: 'kadri', organisation: 'cert-ee', nation: 'EE', roles: ['analyst'], password: PASSWORD },
      })
      expect(again.status).toBe(409)
      const short = await call<Json>(url, 'POST', '/api/v1/accounts', {
        token: ADMIN_TOKEN,
        body: { username: 'shorty', organisation: 'x', nation: 'X', roles: ['analyst'], password: 'short' },
      })
      expect(short.status).toBe(400)
      expect(short.json.error!.code).toBe('validation')
    })

    it('admin routes are forbidden (403) to non-admins, by token or by session', async () => {
      const { cookie } = await signIn(url, 'kadri')
      for (const credential of [{ token: TOKENS.viewerEe }, { cookie }]) {
        expect((await call(url, 'GET', '/api/v1/accounts', credential)).status).toBe(403)
        const body = { username: 'x', organisation: 'x', nation: 'X', roles: ['admin'], password: PASSWORD }
        expect((await call(url, 'POST', '/api/v1/accounts', { ...credential, body })).status).toBe(403)
        expect(
          (await call(url, 'PATCH', '/api/v1/accounts/kadri', { ...credential, body: { roles: ['admin'] } })).status,
        ).toBe(403)
      }
      expect((await call(url, 'GET', '/api/v1/accounts')).status).toBe(401)
    })
  })

  describe('one user id, one organisation (admin)', () => {
    type Refusal = { error: { code: string; message: string; details?: unknown } }
    const account = (username: string, organisation: string) =>
      call<Refusal>(url, 'POST', '/api/v1/accounts', {
        token: ADMIN_TOKEN,
        body: { username, organisation, roles: ['analyst'], password: PASSWORD },
      })
    const service = (user: string, organisation: string, label = `${user} of ${organisation}`) =>
      call<Refusal & { token: { id: string } }>(url, 'POST', '/api/v1/tokens', {
        token: ADMIN_TOKEN,
        body: { label, service: { user, organisation, roles: ['sensor'] } },
      })
    const taken = (userId: string, organisation: string, heldBy: string) => ({
      error: {
        code: 'conflict',
        message: `user id ${userId} is taken by another organisation (${heldBy === 'account' ? 'an account' : `a ${heldBy}`} of ${organisation}): a user id names one person of one organisation`,
        details: { userId, organisation, heldBy },
      },
    })

    it('[V5] an account or a service token whose user id a static token, an account or a service token of another organisation has is refused (409, naming it); the same organisation may', async () => {
      // a static token's user id (sensor-lv of cert-lv, officer of alliance)
      const byStatic = await account('sensor-lv', 'cert-ee')
      expect(byStatic.status).toBe(409)
      expect(byStatic.json).toEqual(taken('sensor-lv', 'cert-lv', 'static token'))
      expect((await service('officer', 'cert-ee')).json).toEqual(taken('officer', 'alliance', 'static token'))
      // an account's (leida of cert-ee): a service identity of cert-lv named leida would read RED addressed to her
      const byAccount = await service('leida', 'cert-lv')
      expect(byAccount.status).toBe(409)
      expect(byAccount.json).toEqual(taken('leida', 'cert-ee', 'account'))
      // a service token's (ids-7 of cert-lv), revoked too: the log's events name it still
      const ids = await service('ids-7', 'cert-lv')
      expect(ids.status).toBe(201)
      expect((await account('ids-7', 'cert-ee')).json).toEqual(taken('ids-7', 'cert-lv', 'service token'))
      expect((await service('ids-7', 'ncsc-nl')).json).toEqual(taken('ids-7', 'cert-lv', 'service token'))
      expect((await call(url, 'DELETE', `/api/v1/tokens/${ids.json.token.id}`, { token: ADMIN_TOKEN })).status).toBe(
        200,
      )
      expect((await account('ids-7', 'cert-ee')).status).toBe(409)
      // a non-admin learns nothing: asking for any service identity is forbidden first
      expect(
        (
          await call<Refusal>(url, 'POST', '/api/v1/tokens', {
            token: TOKENS.viewerEe,
            body: { label: 'x', service: { user: 'sensor-lv', organisation: 'cert-ee', roles: ['sensor'] } },
          })
        ).json.error.code,
      ).toBe('forbidden')

      // the same organisation: a person's account beside their static token, a service identity named like an account
      expect((await account('coord-a', 'cert-ee')).status).toBe(201)
      expect((await service('leida', 'cert-ee')).status).toBe(201)
      expect((await service('ids-7', 'cert-lv', 'ids-7 again')).status).toBe(201)

      // nothing refused was written
      const accounts = await call<{ accounts: { username: string; organisation: string }[] }>(
        url,
        'GET',
        '/api/v1/accounts',
        { token: ADMIN_TOKEN },
      )
      const tokens = await call<{ tokens: { service: { user: string; organisation: string } | null }[] }>(
        url,
        'GET',
        '/api/v1/tokens',
        { token: ADMIN_TOKEN },
      )
      const holders = (user: string) => [
        ...accounts.json.accounts.filter((a) => a.username === user).map((a) => `account of ${a.organisation}`),
        ...tokens.json.tokens.flatMap((t) =>
          t.service?.user === user ? [`service of ${t.service.organisation}`] : [],
        ),
      ]
      expect(holders('sensor-lv')).toEqual([])
      expect(holders('officer')).toEqual([])
      expect(holders('leida')).toEqual(['account of cert-ee', 'service of cert-ee'])
      expect(holders('ids-7')).toEqual(['service of cert-lv', 'service of cert-lv'])
    })

    it("[A9] user ids starting feed: are the partner feeds' own: a service identity or an account named so is refused (400 naming the field), so no token posts as a feed", async () => {
      for (const user of ['feed:partner-x', 'FEED:partner-x', 'feed:']) {
        const refused = await service(user, 'cert-lv')
        expect(refused.status, user).toBe(400)
        expect(refused.json.error.code).toBe('validation')
        expect(refused.json.error.message).toContain('feed:')
        expect(refused.json.error.details).toMatchObject({ issues: [{ path: 'service.user' }] })
      }
      const named = await account('feed:partner-x', 'cert-lv')
      expect(named.status).toBe(400)
      expect(named.json.error.details).toMatchObject({ issues: [{ path: 'username' }] })
      // nothing was made, so nothing posts in the feed's namespace but the feed [A9]
      const tokens = await call<{ tokens: { service: { user: string } | null }[] }>(url, 'GET', '/api/v1/tokens', {
        token: ADMIN_TOKEN,
      })
      expect(tokens.json.tokens.filter((t) => t.service?.user.toLowerCase().startsWith('feed:'))).toEqual([])
    })

    it("[A9] a service token given a feed's user id by an earlier release is refused at the door: REST, the events route and a socket; one named otherwise, stored alike, passes", async () => {
      // as an earlier release could have stored them: straight into the server's credential store
      const credentials = new SqliteCredentialStore({ file: join(server.dataDir, 'events.sqlite') })
      const stored = async (user: string) => {
        const secret = `wf_${randomUUID()}`
        await credentials.createToken({
          id: randomUUID(),
          secretHash: hashSecret(secret),
          label: user,
          kind: 'api',
          owner: null,
          service: { user, organisation: 'cert-lv', nation: 'LV', roles: ['sensor'], sources: [] },
          preset: null,
          tlpCeiling: null,
          createdBy: 'root',
          expiresAt: null,
        })
        return secret
      }
      let feedNamed: string
      let otherwise: string
      try {
        feedNamed = await stored('feed:partner-old')
        otherwise = await stored('ids-old')
      } finally {
        await credentials.close()
      }
      const posted = (token: string) =>
        call<Refusal>(url, 'POST', '/api/v1/events', {
          token,
          body: event({
            type: 'incident.observation',
            payload: { incidentId: 'inc-a9-old', count: 1 },
            source: { organisation: 'cert-lv' },
            marking: { tlp: 'GREEN' },
          } as never),
        })
      expect((await posted(otherwise)).status).toBe(201)
      const refused = await posted(feedNamed)
      expect(refused.status).toBe(401)
      expect(refused.json.error.message).toContain('feed:partner-old')
      expect((await call<Refusal>(url, 'GET', '/api/v1/state', { token: feedNamed })).status).toBe(401)
      const socket = connect({ token: feedNamed })
      await expect(socket.connected()).rejects.toThrow(/feed:partner-old/)
      await connect({ token: otherwise }).connected()
      // nothing was posted as the old token
      const log = await call<{ events: StoredEvent[] }>(url, 'GET', '/api/v1/events?after=0&limit=1000', {
        token: ADMIN_TOKEN,
      })
      expect(log.json.events.filter((e) => e.actor?.user === 'feed:partner-old')).toEqual([])
      expect(log.json.events.filter((e) => e.actor?.user === 'ids-old')).toHaveLength(1)
    })

    it('[V5] an account never changes organisation: PATCH with an organisation is refused (400) and the account stays', async () => {
      const moved = await call<Refusal>(url, 'PATCH', '/api/v1/accounts/leida', {
        token: ADMIN_TOKEN,
        body: { organisation: 'cert-lv' },
      })
      expect(moved.status).toBe(400)
      expect(moved.json.error.code).toBe('validation')
      const me = await call(url, 'GET', '/api/v1/accounts', { token: ADMIN_TOKEN })
      expect(
        (me.json.accounts as { username: string; organisation: string }[]).find((a) => a.username === 'leida'),
      ).toMatchObject({ organisation: 'cert-ee' })
    })
  })

  describe('sessions', () => {
    it('signing in sets an HttpOnly, SameSite=Strict session cookie and says who you are', async () => {
      const before = Date.now()
      const reply = await signIn(url, 'kadri')
      expect(reply.status).toBe(200)
      expect(reply.json).toMatchObject({
        user: 'kadri',
        displayName: 'kadri',
        organisation: 'cert-ee',
        nation: 'EE',
        roles: ['watch_officer'],
        kind: 'session',
      })
      const attributes = reply.setCookie.split(';').map((part) => part.trim())
      expect(attributes[0]).toMatch(/^watchfloor_session=[A-Za-z0-9_-]{40,}$/)
      expect(attributes).toEqual(
        expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/', `Max-Age=${12 * 3600}`]),
      )
      expect(attributes).not.toContain('Secure') // plain HTTP, WATCHFLOOR_COOKIE_SECURE unset
      const me = await call(url, 'GET', '/api/v1/session', { cookie: reply.cookie })
      expect(me.json).toMatchObject({ user: 'kadri', kind: 'session' })
      // when it was signed in (the start of a shift handed over, in any tab), and when it ends
      const { startedAt, expiresAt } = me.json as { startedAt: string; expiresAt: string }
      expect((reply.json as { startedAt: string }).startedAt).toBe(startedAt)
      expect(Date.parse(startedAt)).toBeGreaterThanOrEqual(before - 1000)
      expect(Date.parse(startedAt)).toBeLessThanOrEqual(Date.now())
      expect(Date.parse(expiresAt) - Date.parse(startedAt)).toBeCloseTo(12 * 3600 * 1000, -4)
    })

    it('the cookie works on /api/v1/state and /api/v1/events', async () => {
      const { cookie } = await signIn(url, 'kadri')
      const strict = event({
        type: 'incident.reported',
        marking: { tlp: 'AMBER+STRICT' },
        payload: {
          incidentId: 'inc-cookie',
          title: 'Cookie',
          severity: 'low',
          category: 'malware',
          affectedNetworks: [],
        },
      } as never)
      const seq = (await post(url, TOKENS.sensorEe, strict)).json.results![0]!.seq
      const state = await call<{ incidents: { incidentId: string }[] }>(url, 'GET', '/api/v1/state', { cookie })
      expect(state.status).toBe(200)
      expect(state.json.incidents.map((i) => i.incidentId)).toContain('inc-cookie')
      const events = await call<{ events: StoredEvent[] }>(url, 'GET', `/api/v1/events?after=${seq - 1}`, { cookie })
      expect(events.json.events.map((e) => e.seq)).toContain(seq)
      // janis (cert-lv) does not see cert-ee's AMBER+STRICT
      const janis = await signIn(url, 'janis')
      const other = await call<{ incidents: { incidentId: string }[] }>(url, 'GET', '/api/v1/state', {
        cookie: janis.cookie,
      })
      expect(other.json.incidents.map((i) => i.incidentId)).not.toContain('inc-cookie')
    })

    it('[D3, D12] the cookie authenticates a socket subscription', async () => {
      const { cookie } = await signIn(url, 'kadri')
      const client = connect({ cookie })
      expect((await client.subscribeNow()).ok).toBe(true)
      const { json } = await post(url, TOKENS.sensorEe, { events: everyTlp() })
      const last = json.results!.at(-1)!.seq
      await until(() => client.lastSeq >= last)
      expect(client.tlps()).toEqual(['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'])
    })

    it('[D12] a cookie handshake from another origin is refused', async () => {
      const { cookie } = await signIn(url, 'kadri')
      const client = connect({ cookie, origin: 'https://elsewhere.example' })
      await expect(client.connected()).rejects.toThrow(/unauthenticated/)
    })

    it('a cookie may change things only with Content-Type: application/json (CSRF)', async () => {
      const { cookie } = await signIn(url, 'koordinaator')
      const body = event({ type: 'incident.observation', payload: { incidentId: 'inc-csrf', count: 1 } } as never)
      const asForm = await call<Json>(url, 'POST', '/api/v1/events', {
        cookie,
        body,
        contentType: 'application/x-www-form-urlencoded',
      })
      expect(asForm.status).toBe(403)
      expect(asForm.json.error!.code).toBe('forbidden')
      expect((await call(url, 'POST', '/api/v1/events', { cookie, body, contentType: 'text/plain' })).status).toBe(403)
      expect((await call(url, 'POST', '/api/v1/events', { cookie, body })).status).toBe(201)
      // nor end a session from another site
      expect((await call(url, 'DELETE', '/api/v1/session', { cookie, contentType: null })).status).toBe(403)
      expect((await call(url, 'GET', '/api/v1/session', { cookie })).status).toBe(200)
    })

    it('a wrong password or an unknown user is 401, with the same message', async () => {
      const wrong = await signIn(url, 'leida', 'not the password at all')
      const unknown = await signIn(url, 'nobody-here', PASSWORD)
      expect(wrong.status).toBe(401)
      expect(unknown.status).toBe(401)
      expect(wrong.json.error).toEqual({ code: 'unauthenticated', message: 'wrong username or password' })
      expect(unknown.json.error).toEqual(wrong.json.error)
      expect(wrong.setCookie).toBe('')
      // a form post cannot sign in (login CSRF)
      const form = await call(url, 'POST', '/api/v1/session', {
        body: { username: 'leida', password: PASSWORD },
        contentType: 'text/plain',
      })
      expect(form.status).toBe(400)
    })

    it('[D10] signing out ends the session on the server: the cookie is refused and its live socket is revoked', async () => {
      const { cookie } = await signIn(url, 'kadri')
      const client = connect({ cookie })
      expect((await client.subscribeNow()).ok).toBe(true)
      const out = await call(url, 'DELETE', '/api/v1/session', { cookie })
      expect(out.status).toBe(204)
      expect(out.headers.get('set-cookie')).toMatch(
        /^watchfloor_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/,
      )
      const after = await call<Json>(url, 'GET', '/api/v1/state', { cookie })
      expect(after.status).toBe(401)
      expect(after.json.error!.code).toBe('unauthenticated')
      await until(() => client.disconnected)
      expect(client.revoked).toEqual([{ reason: 'session_ended' }])
      // a new handshake with the ended session fails
      await expect(connect({ cookie }).connected()).rejects.toThrow(/unauthenticated/)
    })
  })

  describe('API tokens', () => {
    it('a user creates, lists and revokes their own API tokens; the secret is shown once', async () => {
      const { cookie } = await signIn(url, 'janis')
      const made = await call<{ token: Record<string, unknown>; secret: string }>(url, 'POST', '/api/v1/tokens', {
        cookie,
        body: { label: 'janis script' },
      })
      expect(made.status).toBe(201)
      expect(made.json.secret).toMatch(/^wf_[A-Za-z0-9_-]{40,}$/)
      expect(made.json.token).toMatchObject({ label: 'janis script', kind: 'api', owner: 'janis', revokedAt: null })
      const me = await call(url, 'GET', '/api/v1/session', { token: made.json.secret })
      expect(me.json).toMatchObject({ user: 'janis', organisation: 'cert-lv', kind: 'api' })
      const listed = await call<{ tokens: { id: string; owner: string }[] }>(url, 'GET', '/api/v1/tokens', { cookie })
      expect(listed.json.tokens.map((t) => t.id)).toContain(made.json.token.id)
      expect(listed.json.tokens.every((t) => t.owner === 'janis')).toBe(true)
      const text = JSON.stringify(listed.json)
      expect(text).not.toContain(made.json.secret)
      expect(text).not.toMatch(/secret|hash/i)
      // the token may not make display tokens, nor tokens for others
      expect(
        (
          await call(url, 'POST', '/api/v1/tokens', {
            cookie,
            body: { label: 'x', kind: 'display', preset: 'overview' },
          })
        ).status,
      ).toBe(403)
      expect((await call(url, 'POST', '/api/v1/tokens', { cookie, body: { label: 'x', owner: 'kadri' } })).status).toBe(
        403,
      )
      const revoked = await call<{ token: { revokedAt: string | null } }>(
        url,
        'DELETE',
        `/api/v1/tokens/${made.json.token.id}`,
        { cookie },
      )
      expect(revoked.status).toBe(200)
      expect(revoked.json.token.revokedAt).not.toBeNull()
    })

    it('a non-admin cannot see or revoke anyone else’s token; an admin sees and revokes all', async () => {
      const kadri = await signIn(url, 'kadri')
      const made = await call<{ token: { id: string }; secret: string }>(url, 'POST', '/api/v1/tokens', {
        cookie: kadri.cookie,
        body: { label: 'kadri laptop' },
      })
      const janis = await signIn(url, 'janis')
      const theirs = await call<{ tokens: { id: string }[] }>(url, 'GET', '/api/v1/tokens', { cookie: janis.cookie })
      expect(theirs.json.tokens.map((t) => t.id)).not.toContain(made.json.token.id)
      expect((await call(url, 'DELETE', `/api/v1/tokens/${made.json.token.id}`, { cookie: janis.cookie })).status).toBe(
        404,
      )
      expect((await call(url, 'GET', '/api/v1/session', { token: made.json.secret })).status).toBe(200)
      const all = await call<{ tokens: { id: string }[] }>(url, 'GET', '/api/v1/tokens', { token: ADMIN_TOKEN })
      expect(all.json.tokens.map((t) => t.id)).toContain(made.json.token.id)
      expect(JSON.stringify(all.json)).not.toContain(made.json.secret)
      expect((await call(url, 'DELETE', `/api/v1/tokens/${made.json.token.id}`, { token: ADMIN_TOKEN })).status).toBe(
        200,
      )
      expect((await call(url, 'GET', '/api/v1/session', { token: made.json.secret })).status).toBe(401)
    })

    it('a non-admin reads who made a token only when it made it itself: createdBy is left out otherwise', async () => {
      const byAdmin = await call<{ token: { id: string; createdBy?: string } }>(url, 'POST', '/api/v1/tokens', {
        token: ADMIN_TOKEN,
        body: { label: 'leida, made by an admin', owner: 'leida' },
      })
      expect(byAdmin.json.token.createdBy).toBe('root')
      const { cookie } = await signIn(url, 'leida')
      const own = await call<{ token: { id: string; createdBy?: string } }>(url, 'POST', '/api/v1/tokens', {
        cookie,
        body: { label: 'leida, made by leida' },
      })
      expect(own.json.token.createdBy).toBe('leida')
      const listed = await call<{ tokens: { id: string; createdBy?: string }[] }>(url, 'GET', '/api/v1/tokens', {
        cookie,
      })
      const mine = new Map(listed.json.tokens.map((t) => [t.id, t]))
      expect(mine.get(byAdmin.json.token.id)).toBeDefined()
      expect(mine.get(byAdmin.json.token.id)).not.toHaveProperty('createdBy')
      expect(mine.get(own.json.token.id)?.createdBy).toBe('leida')
      expect(JSON.stringify(listed.json)).not.toContain('root')
      // revoking it answers the token the same way
      const revoked = await call<{ token: { createdBy?: string } }>(
        url,
        'DELETE',
        `/api/v1/tokens/${byAdmin.json.token.id}`,
        {
          cookie,
        },
      )
      expect(revoked.status).toBe(200)
      expect(revoked.json.token).not.toHaveProperty('createdBy')
      // an admin reads every maker
      const all = await call<{ tokens: { id: string; createdBy?: string }[] }>(url, 'GET', '/api/v1/tokens', {
        token: ADMIN_TOKEN,
      })
      expect(all.json.tokens.find((t) => t.id === byAdmin.json.token.id)?.createdBy).toBe('root')
    })

    it('[D10, D12] a revoked token is refused at once on REST, its live socket gets `revoked` and is disconnected, and it cannot connect again', async () => {
      const made = await call<{ token: { id: string }; secret: string }>(url, 'POST', '/api/v1/tokens', {
        token: ADMIN_TOKEN,
        body: { label: 'kadri feed', owner: 'kadri' },
      })
      const secret = made.json.secret
      const client = connect({ token: secret })
      expect((await client.subscribeNow()).ok).toBe(true)
      const bystander = connect({ token: TOKENS.viewerEe })
      expect((await bystander.subscribeNow()).ok).toBe(true)
      expect((await call(url, 'GET', '/api/v1/state', { token: secret })).status).toBe(200)

      expect((await call(url, 'DELETE', `/api/v1/tokens/${made.json.token.id}`, { token: ADMIN_TOKEN })).status).toBe(
        200,
      )
      const refused = await call<Json>(url, 'GET', '/api/v1/state', { token: secret })
      expect(refused.status).toBe(401)
      expect(refused.json).toEqual({ error: { code: 'unauthenticated', message: 'token revoked' } })
      await until(() => client.disconnected)
      expect(client.revoked).toEqual([{ reason: 'token_revoked' }])
      await expect(connect({ token: secret }).connected()).rejects.toThrow(/revoked/)
      await expect(connect({ token: 'wf_never-issued-0123456789' }).connected()).rejects.toThrow(/unknown/)
      // others are untouched
      const { json } = await post(url, TOKENS.sensorEe, { events: everyTlp() })
      await until(() => bystander.lastSeq >= json.results!.at(-1)!.seq)
      expect(bystander.disconnected).toBe(false)
      expect(bystander.revoked).toEqual([])
    })
  })

  describe('display tokens', () => {
    let wall: { id: string; secret: string }
    beforeAll(async () => {
      // a wall of kadri's organisation, capped at GREEN
      const made = await call<{ token: { id: string }; secret: string }>(url, 'POST', '/api/v1/tokens', {
        token: ADMIN_TOKEN,
        body: { label: 'EE wall', kind: 'display', owner: 'kadri', preset: 'overview', tlpCeiling: 'GREEN' },
      })
      expect(made.status).toBe(201)
      wall = { id: made.json.token.id, secret: made.json.secret }
    })

    it('says it is a display token with its preset and ceiling', async () => {
      const me = await call(url, 'GET', '/api/v1/session', { token: wall.secret })
      expect(me.json).toMatchObject({
        user: 'kadri',
        kind: 'display',
        preset: 'overview',
        tlpCeiling: 'GREEN',
      })
    })

    it('is read-only: POST events or any other change is 403', async () => {
      const body = event({ type: 'incident.observation', payload: { incidentId: 'inc-wall', count: 1 } } as never)
      const posted = await call<Json>(url, 'POST', '/api/v1/events', { token: wall.secret, body })
      expect(posted.status).toBe(403)
      expect(posted.json.error!.code).toBe('forbidden')
      expect((await call(url, 'POST', '/api/v1/commands', { token: wall.secret, body: {} })).status).toBe(403)
      expect((await call(url, 'POST', '/api/v1/tokens', { token: wall.secret, body: { label: 'x' } })).status).toBe(403)
      expect((await call(url, 'DELETE', `/api/v1/tokens/${wall.id}`, { token: wall.secret })).status).toBe(403)
      expect((await call(url, 'GET', '/api/v1/tokens', { token: wall.secret })).status).toBe(403)
      expect((await call(url, 'GET', '/api/v1/accounts', { token: wall.secret })).status).toBe(403)
    })

    it('[V9] its ceiling narrows what it receives on REST, while its owner sees everything', async () => {
      const { json } = await post(url, TOKENS.sensorEe, { events: everyTlp() })
      const seqs = json.results!.map((r) => r.seq)
      const path = `/api/v1/events?after=${seqs[0]! - 1}&limit=5`
      const onWall = await call<{ events: StoredEvent[] }>(url, 'GET', path, { token: wall.secret })
      expect(onWall.json.events.map((e) => e.marking.tlp)).toEqual(['CLEAR', 'GREEN'])
      const { cookie } = await signIn(url, 'kadri')
      const owner = await call<{ events: StoredEvent[] }>(url, 'GET', path, { cookie })
      expect(owner.json.events.map((e) => e.marking.tlp)).toEqual(['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'])
      // the folded state too
      const state = await call<{ recent: StoredEvent[] }>(url, 'GET', '/api/v1/state', { token: wall.secret })
      expect(state.json.recent.every((e) => ['CLEAR', 'GREEN'].includes(e.marking.tlp))).toBe(true)
    })

    it('[V9, D3, D11] its ceiling narrows the socket stream, live and on catch-up, beside an uncapped socket of the same user', async () => {
      const { cookie } = await signIn(url, 'kadri')
      const onWall = connect({ token: wall.secret })
      const owner = connect({ cookie })
      await Promise.all([onWall.subscribeNow(), owner.subscribeNow()])
      const from = onWall.lastSeq
      const { json } = await post(url, TOKENS.sensorEe, { events: [...everyTlp(), ...everyTlp()] })
      const last = json.results!.at(-1)!.seq
      // the wall's last is the second GREEN; then two heartbeats, after which nothing more comes
      const wallLast = json.results![6]!.seq
      await until(() => onWall.lastSeq >= wallLast && owner.lastSeq >= last)
      const beats = onWall.heartbeats
      await until(() => onWall.heartbeats >= beats + 2)
      expect(onWall.tlps()).toEqual(['CLEAR', 'GREEN', 'CLEAR', 'GREEN'])
      expect(owner.tlps()).toEqual([
        ...['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'],
        ...['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'],
      ])
      // catch-up from the store obeys the ceiling too
      const late = connect({ token: wall.secret })
      await late.subscribe(from)
      expect(late.tlps()).toEqual(['CLEAR', 'GREEN', 'CLEAR', 'GREEN'])
    })

    it('[D11] a display socket may subscribe but nothing else', async () => {
      const client = connect({ token: wall.secret })
      await client.connected()
      const loose = client.socket as unknown as {
        timeout(ms: number): { emitWithAck(name: string, body: unknown): Promise<unknown> }
      }
      const answer = await loose.timeout(5000).emitWithAck('command', { type: 'incident.acknowledge' })
      const readOnly = { code: 'forbidden', message: 'a display token is read-only', details: { rule: 'A1' } }
      expect(answer).toEqual({ ok: false, error: readOnly })
      // nor may it announce presence
      const viewing = await loose.timeout(5000).emitWithAck('viewing', { incidentId: 'inc-1' })
      expect(viewing).toEqual({ ok: false, error: readOnly })
      expect((await client.subscribeNow()).ok).toBe(true)
    })
  })

  describe('disabled accounts', () => {
    it('an admin may not disable their own account nor drop their own admin role (409); another admin may', async () => {
      await createAccount(url, 'selma', 'alliance', 'ALLIANCE', ['admin'])
      const { cookie } = await signIn(url, 'selma')
      for (const body of [{ disabled: true }, { roles: ['analyst'] }]) {
        const refused = await call<{ error: { message: string } }>(url, 'PATCH', '/api/v1/accounts/selma', {
          cookie,
          body,
        })
        expect(refused.status, JSON.stringify(body)).toBe(409)
        expect(refused.json.error.message).toBe(
          'an admin cannot disable their own account or drop their own admin role',
        )
      }
      expect((await call(url, 'GET', '/api/v1/session', { cookie })).status).toBe(200)
      const byAnother = await call<{ account: { disabled: boolean } }>(url, 'PATCH', '/api/v1/accounts/selma', {
        token: ADMIN_TOKEN,
        body: { disabled: true },
      })
      expect(byAnother.json.account.disabled).toBe(true)
    })

    it('[D10] cannot sign in; their sessions, tokens and live sockets are refused at once', async () => {
      await createAccount(url, 'maris', 'cert-lv', 'LV', ['analyst'])
      const { cookie } = await signIn(url, 'maris')
      const made = await call<{ secret: string }>(url, 'POST', '/api/v1/tokens', { cookie, body: { label: 'maris' } })
      const bySession = connect({ cookie })
      const byToken = connect({ token: made.json.secret })
      await Promise.all([bySession.subscribeNow(), byToken.subscribeNow()])

      const patched = await call<{ account: { disabled: boolean } }>(url, 'PATCH', '/api/v1/accounts/maris', {
        token: ADMIN_TOKEN,
        body: { disabled: true },
      })
      expect(patched.json.account.disabled).toBe(true)
      await until(() => bySession.disconnected && byToken.disconnected)
      expect(bySession.revoked).toEqual([{ reason: 'account_disabled' }])
      expect(byToken.revoked).toEqual([{ reason: 'account_disabled' }])
      expect((await call(url, 'GET', '/api/v1/state', { cookie })).status).toBe(401)
      const byTokenNow = await call<Json>(url, 'GET', '/api/v1/state', { token: made.json.secret })
      expect(byTokenNow.json.error).toEqual({ code: 'unauthenticated', message: 'account disabled' })
      // signing in says nothing about the password: the right one answers as a wrong one does
      const again = await signIn(url, 'maris')
      expect(again.status).toBe(401)
      expect(again.json.error!.message).toBe('wrong username or password')
      const wrong = await call<Json>(url, 'POST', '/api/v1/session', {
        body: { username: 'maris', password: 'not the password at all' },
      })
      expect(wrong.status).toBe(401)
      expect(wrong.json).toEqual(again.json)

      // enabled again with a new password: the old one no longer works
      const newPassword = 'another long passphrase'
      await call(url, 'PATCH', '/api/v1/accounts/maris', {
        token: ADMIN_TOKEN,
        body: { disabled: false, password: newPassword },
      })
      expect((await signIn(url, 'maris')).status).toBe(401)
      expect((await signIn(url, 'maris', newPassword)).status).toBe(200)
    })

    it('a new password revokes the account’s tokens: none outlives it', async () => {
      await createAccount(url, 'tiit', 'cert-ee', 'EE', ['analyst'])
      const { cookie } = await signIn(url, 'tiit')
      const made = await call<{ secret: string }>(url, 'POST', '/api/v1/tokens', { cookie, body: { label: 'script' } })
      expect((await call(url, 'GET', '/api/v1/state', { token: made.json.secret })).status).toBe(200)
      const socket = connect({ token: made.json.secret })
      await socket.subscribeNow()
      await call(url, 'PATCH', '/api/v1/accounts/tiit', {
        token: ADMIN_TOKEN,
        body: { password: 'a brand new passphrase' },
      })
      const after = await call<Json>(url, 'GET', '/api/v1/state', { token: made.json.secret })
      expect(after.status).toBe(401)
      expect(after.json.error).toEqual({ code: 'unauthenticated', message: 'token revoked' })
      await until(() => socket.disconnected)
      expect(socket.revoked).toEqual([{ reason: 'token_revoked' }])
    })

    it('an admin cannot lock themselves out', async () => {
      await createAccount(url, 'boss', 'alliance', 'ALLIANCE', ['admin'])
      const { cookie } = await signIn(url, 'boss')
      const reply = await call(url, 'PATCH', '/api/v1/accounts/boss', { cookie, body: { disabled: true } })
      expect(reply.status).toBe(409)
    })
  })
})

describe('sign-in throttling and session expiry', () => {
  let server: ServerProcess
  let dir: string
  const clients: Client[] = []
  beforeAll(async () => {
    const tokens = tokensFile()
    dir = tokens.dir
    server = await startServerProcess({
      env: {
        ...CHEAP,
        WATCHFLOOR_TOKENS: tokens.file,
        WATCHFLOOR_LOGIN_MAX_FAILURES: '3',
        WATCHFLOOR_LOGIN_MAX_FAILURES_PER_ADDRESS: '5',
        WATCHFLOOR_SESSION_TTL_S: '2',
        WATCHFLOOR_COOKIE_SECURE: 'true',
        WATCHFLOOR_CREDENTIAL_RECHECK_MS: '200',
      },
    })
    for (const name of ['alice', 'bob', 'carol']) await createAccount(server.url, name, 'cert-ee', 'EE', ['analyst'])
  })
  afterAll(async () => {
    for (const client of clients) client.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('[D10] a session expires: the cookie carries Secure and the configured Max-Age; then REST and the socket are refused', async () => {
    const reply = await signIn(server.url, 'carol')
    expect(reply.setCookie).toContain('; Secure')
    expect(reply.setCookie).toContain('Max-Age=2;')
    const client = new Client(server.url, { cookie: reply.cookie })
    clients.push(client)
    expect((await client.subscribe(0)).ok).toBe(true)
    await until(() => client.disconnected, 6000)
    expect(client.revoked).toEqual([{ reason: 'session_expired' }])
    const after = await call<Json>(server.url, 'GET', '/api/v1/state', { cookie: reply.cookie })
    expect(after.status).toBe(401)
  })

  it('after N failures for a username: 429 with Retry-After, even with the right password', async () => {
    for (let i = 0; i < 3; i++) expect((await signIn(server.url, 'alice', 'wrong password number')).status).toBe(401)
    const throttled = await signIn(server.url, 'alice', PASSWORD)
    expect(throttled.status).toBe(429)
    expect(throttled.json.error!.code).toBe('too_many_requests')
    const retryAfter = Number(throttled.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(15 * 60)
    expect(throttled.setCookie).toBe('')
  })

  it('after N failures from one address: 429 for every username from it', async () => {
    // alice's 3 failures count for this address too: 2 more reach its limit of 5
    for (let i = 0; i < 2; i++) expect((await signIn(server.url, 'bob', 'wrong password number')).status).toBe(401)
    const throttled = await signIn(server.url, 'bob', PASSWORD)
    expect(throttled.status).toBe(429)
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})

describe('token expiry', () => {
  const DAY_MS = 24 * 3600 * 1000
  let server: ServerProcess
  let dir: string
  const clients: Client[] = []
  beforeAll(async () => {
    const tokens = tokensFile()
    dir = tokens.dir
    // WATCHFLOOR_TOKEN_TTL_DAYS unset: the default, 90
    server = await startServerProcess({
      env: { ...CHEAP, WATCHFLOOR_TOKENS: tokens.file, WATCHFLOOR_CREDENTIAL_RECHECK_MS: '200' },
    })
    await createAccount(server.url, 'dora', 'cert-ee', 'EE', ['analyst'])
    await createAccount(server.url, 'emil', 'cert-lv', 'LV', ['liaison'])
  })
  afterAll(async () => {
    for (const client of clients) client.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  type TokenReply = { token: { id: string; kind: string; expiresAt: string | null }; secret: string }
  type Refusal = { error: { code: string; message: string; details?: { issues: { path: string }[] } } }

  it('[D10, D12] a token works until its expiresAt, then REST says 401 token expired, its live socket gets `revoked` (token_expired) and it cannot connect again', async () => {
    const expiresAt = new Date(Date.now() + 2500).toISOString()
    const made = await call<TokenReply>(server.url, 'POST', '/api/v1/tokens', {
      token: ADMIN_TOKEN,
      body: { label: 'dora short-lived', owner: 'dora', expiresAt },
    })
    expect(made.status).toBe(201)
    expect(made.json.token.expiresAt).toBe(expiresAt)
    const { secret } = made.json
    expect((await call(server.url, 'GET', '/api/v1/state', { token: secret })).status).toBe(200)
    const client = new Client(server.url, { token: secret })
    clients.push(client)
    expect((await client.subscribeNow()).ok).toBe(true)
    const bystander = new Client(server.url, { token: TOKENS.viewerEe })
    clients.push(bystander)
    expect((await bystander.subscribeNow()).ok).toBe(true)

    // the periodic check (every 200 ms here) finds it expired
    await until(() => client.disconnected, 5000)
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt))
    expect(client.revoked).toEqual([{ reason: 'token_expired' }])
    const refused = await call<Refusal>(server.url, 'GET', '/api/v1/state', { token: secret })
    expect(refused.status).toBe(401)
    expect(refused.json).toEqual({ error: { code: 'unauthenticated', message: 'token expired' } })
    const again = new Client(server.url, { token: secret })
    clients.push(again)
    await expect(again.connected()).rejects.toThrow(/expired/)
    expect(bystander.disconnected).toBe(false)
    expect(bystander.revoked).toEqual([])
  })

  it('an API token expires after WATCHFLOOR_TOKEN_TTL_DAYS (90) unless asked otherwise; a display token never does; GET /tokens says when', async () => {
    const { cookie } = await signIn(server.url, 'emil')
    const before = Date.now()
    const byDefault = await call<TokenReply>(server.url, 'POST', '/api/v1/tokens', {
      cookie,
      body: { label: 'emil default' },
    })
    expect(byDefault.status).toBe(201)
    const expires = Date.parse(byDefault.json.token.expiresAt!)
    expect(expires).toBeGreaterThanOrEqual(before + 90 * DAY_MS)
    expect(expires).toBeLessThanOrEqual(Date.now() + 90 * DAY_MS)
    const inAMonth = new Date(Date.now() + 30 * DAY_MS).toISOString()
    const asked = await call<TokenReply>(server.url, 'POST', '/api/v1/tokens', {
      cookie,
      body: { label: 'emil month', expiresAt: inAMonth },
    })
    expect(asked.status).toBe(201)
    expect(asked.json.token.expiresAt).toBe(inAMonth)

    const display = await call<TokenReply>(server.url, 'POST', '/api/v1/tokens', {
      token: ADMIN_TOKEN,
      body: { label: 'EE wall', kind: 'display', owner: 'dora', preset: 'overview' },
    })
    expect(display.status).toBe(201)
    expect(display.json.token).toMatchObject({ kind: 'display', expiresAt: null })
    const adminApi = await call<TokenReply>(server.url, 'POST', '/api/v1/tokens', {
      token: ADMIN_TOKEN,
      body: { label: 'dora default', owner: 'dora' },
    })
    expect(Date.parse(adminApi.json.token.expiresAt!)).toBeGreaterThanOrEqual(before + 90 * DAY_MS)
    // an admin may ask for any future time (another offset comes back as the same instant in UTC), or none
    const forever = await call<TokenReply>(server.url, 'POST', '/api/v1/tokens', {
      token: ADMIN_TOKEN,
      body: { label: 'dora forever', owner: 'dora', expiresAt: null },
    })
    expect(forever.status).toBe(201)
    expect(forever.json.token.expiresAt).toBeNull()
    const far = await call<TokenReply>(server.url, 'POST', '/api/v1/tokens', {
      token: ADMIN_TOKEN,
      body: { label: 'dora far', owner: 'dora', expiresAt: '2100-01-01T02:00:00+02:00' },
    })
    expect(far.status).toBe(201)
    expect(far.json.token.expiresAt).toBe('2100-01-01T00:00:00.000Z')
    expect((await call(server.url, 'GET', '/api/v1/session', { token: forever.json.secret })).status).toBe(200)

    const mine = await call<{ tokens: { id: string; expiresAt: string | null }[] }>(
      server.url,
      'GET',
      '/api/v1/tokens',
      { cookie },
    )
    expect(Object.fromEntries(mine.json.tokens.map((t) => [t.id, t.expiresAt]))).toEqual({
      [byDefault.json.token.id]: byDefault.json.token.expiresAt,
      [asked.json.token.id]: inAMonth,
    })
    const all = await call<{ tokens: { id: string; expiresAt: string | null }[] }>(
      server.url,
      'GET',
      '/api/v1/tokens?owner=dora',
      { token: ADMIN_TOKEN },
    )
    const dora = Object.fromEntries(all.json.tokens.map((t) => [t.id, t.expiresAt]))
    expect(dora[display.json.token.id]).toBeNull()
    expect(dora[forever.json.token.id]).toBeNull()
    expect(dora[far.json.token.id]).toBe('2100-01-01T00:00:00.000Z')
  })

  it('a non-admin may not ask for a token that never expires nor one beyond the TTL (403); a past time or one without a zone is 400', async () => {
    const { cookie } = await signIn(server.url, 'emil')
    const never = await call<Refusal>(server.url, 'POST', '/api/v1/tokens', {
      cookie,
      body: { label: 'emil forever', expiresAt: null },
    })
    expect(never.status).toBe(403)
    expect(never.json.error.code).toBe('forbidden')
    expect(never.json.error.message).toContain('within 90 days')
    const beyond = await call<Refusal>(server.url, 'POST', '/api/v1/tokens', {
      cookie,
      body: { label: 'emil long', expiresAt: new Date(Date.now() + 91 * DAY_MS).toISOString() },
    })
    expect(beyond.status).toBe(403)
    expect(beyond.json.error.message).toBe('your token must expire within 90 days (WATCHFLOOR_TOKEN_TTL_DAYS)')

    for (const [credential, expiresAt] of [
      [{ cookie }, new Date(Date.now() - 1000).toISOString()],
      [{ token: ADMIN_TOKEN }, new Date(Date.now() - 1000).toISOString()],
      [{ token: ADMIN_TOKEN }, '2030-01-01T00:00:00'],
      [{ token: ADMIN_TOKEN }, 'tomorrow'],
    ] as const) {
      const bad = await call<Refusal>(server.url, 'POST', '/api/v1/tokens', {
        ...credential,
        body: { label: 'bad expiry', owner: 'emil', expiresAt },
      })
      expect(bad.status, expiresAt).toBe(400)
      expect(bad.json.error.code).toBe('validation')
      expect(bad.json.error.details?.issues.map((i) => i.path)).toEqual(['expiresAt'])
    }
    // none of these made a token
    const mine = await call<{ tokens: { label: string }[] }>(server.url, 'GET', '/api/v1/tokens', { cookie })
    expect(mine.json.tokens.map((t) => t.label)).not.toContain('bad expiry')
    expect(mine.json.tokens.map((t) => t.label)).not.toContain('emil forever')
  })

  it('a token made with a token expires no later than its maker: by default its time, a later one is 403', async () => {
    const { cookie } = await signIn(server.url, 'emil')
    const makerExpiry = new Date(Date.now() + 3 * DAY_MS).toISOString()
    const maker = await call<TokenReply>(server.url, 'POST', '/api/v1/tokens', {
      cookie,
      body: { label: 'emil maker', expiresAt: makerExpiry },
    })
    expect(maker.status).toBe(201)
    const byToken = { token: maker.json.secret }
    const child = await call<TokenReply>(server.url, 'POST', '/api/v1/tokens', { ...byToken, body: { label: 'child' } })
    expect(child.status).toBe(201)
    expect(child.json.token.expiresAt).toBe(makerExpiry)
    const sooner = new Date(Date.now() + DAY_MS).toISOString()
    const earlier = await call<TokenReply>(server.url, 'POST', '/api/v1/tokens', {
      ...byToken,
      body: { label: 'sooner', expiresAt: sooner },
    })
    expect(earlier.json.token.expiresAt).toBe(sooner)
    const later = await call<Refusal>(server.url, 'POST', '/api/v1/tokens', {
      ...byToken,
      body: { label: 'later', expiresAt: new Date(Date.now() + 10 * DAY_MS).toISOString() },
    })
    expect(later.status).toBe(403)
    expect(later.json.error.message).toBe(
      `a token made with a token must expire no later than it does (${makerExpiry})`,
    )
  })
})

describe('a start that would give one user id to two organisations', () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-userids-'))
    dirs.push(dir)
    return dir
  }
  /** The harness principals, the admin and `extra`, in a file of its own (the harness writes tokens.json in the data folder). */
  const tokenFile = (dir: string, name: string, extra: object[]) => {
    const file = join(dir, name)
    const admin = { token: ADMIN_TOKEN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] }
    writeFileSync(file, JSON.stringify([...PRINCIPALS, admin, ...extra]))
    return file
  }
  /** The start's output when it stops (the server exits); one that starts after all is stopped and fails the test. */
  const refusedStart = (options: Parameters<typeof startServerProcess>[0]) =>
    startServerProcess(options).then(
      async (server) => {
        await server.stop()
        throw new Error('the server started')
      },
      (error: Error) => error.message,
    )
  const ANNA_EE = 'anna-ee-static-token-0123456789'
  const IDS_LV = 'ids-lv-static-token-0123456789'

  it('[V5] a token file that gives one user id to two organisations is no token list: the start stops, naming it', async () => {
    const file = tokenFile(tempDir(), 'tokens.json', [
      {
        token: 'kadri-lv-static-token-012345',
        user: 'kadri',
        organisation: 'cert-lv',
        nation: 'LV',
        roles: ['analyst'],
      },
    ])
    const output = await refusedStart({ env: { ...CHEAP, WATCHFLOOR_TOKENS: file } })
    expect(output).toContain('server exited with 1')
    expect(output).not.toMatch(/\n\s+at /)
    expect(output).toContain(
      `WATCHFLOOR_TOKENS: ${file} is not a valid token list: ${PRINCIPALS.length + 1}.user: user id kadri is of cert-ee in an earlier entry, of cert-lv here: a user id names one person of one organisation`,
    )
    expect(output).not.toContain('listening on')
  })

  it("[A9] a static token whose user id starts feed: (a partner feed's) stops the start, naming it", async () => {
    const file = tokenFile(tempDir(), 'tokens.json', [
      {
        token: 'feed-partner-static-token-0123',
        user: 'feed:partner-x',
        organisation: 'cert-lv',
        nation: 'LV',
        roles: ['sensor'],
      },
    ])
    const output = await refusedStart({ env: { ...CHEAP, WATCHFLOOR_TOKENS: file } })
    expect(output).toContain('server exited with 1')
    expect(output).not.toMatch(/\n\s+at /)
    expect(output).toContain(`WATCHFLOOR_TOKENS: ${file} is not a valid token list: ${PRINCIPALS.length + 1}.user: `)
    expect(output).toContain('feed:partner-x')
    expect(output).not.toContain('listening on')
  })

  it('[V5] a static token whose user id an account or a service token of another organisation has stops the start, naming each; renamed, it starts', async () => {
    const dataDir = tempDir()
    const files = tempDir()
    const first = await startServerProcess({
      dataDir,
      env: { ...CHEAP, WATCHFLOOR_TOKENS: tokenFile(files, 'before.json', []) },
    })
    try {
      // anna, an account of cert-lv; ids-9, a service identity of cert-ee, since revoked
      await createAccount(first.url, 'anna', 'cert-lv', 'LV', ['analyst'])
      const ids = await call<{ token: { id: string } }>(first.url, 'POST', '/api/v1/tokens', {
        token: ADMIN_TOKEN,
        body: { label: 'ids-9', service: { user: 'ids-9', organisation: 'cert-ee', roles: ['sensor'] } },
      })
      expect(ids.status).toBe(201)
      await call(first.url, 'DELETE', `/api/v1/tokens/${ids.json.token.id}`, { token: ADMIN_TOKEN })
    } finally {
      await first.stop()
    }

    // the token file now gives both user ids to other organisations
    const clash = tokenFile(files, 'clash.json', [
      { token: ANNA_EE, user: 'anna', organisation: 'cert-ee', nation: 'EE', roles: ['analyst'] },
      { token: IDS_LV, user: 'ids-9', organisation: 'cert-lv', nation: 'LV', roles: ['sensor'] },
    ])
    const output = await refusedStart({ dataDir, env: { ...CHEAP, WATCHFLOOR_TOKENS: clash } })
    expect(output).toContain('server exited with 1')
    // one line, no stack trace: the operator's file, not a fault of ours
    expect(output).toContain('\nwatchfloor: WATCHFLOOR_TOKENS: the static token of user id anna')
    expect(output).not.toMatch(/\n\s+at /)
    expect(output).toContain(
      'WATCHFLOOR_TOKENS: the static token of user id anna (cert-ee) gives it to a second organisation: an account of cert-lv already has it; ' +
        'the static token of user id ids-9 (cert-lv) gives it to a second organisation: a service token of cert-ee already has it. ' +
        'A user id names one person of one organisation: give the static token another user id (docs/operate.md, "One user id, one organisation")',
    )
    expect(output).not.toContain('listening on')

    // as docs/operate.md says: another user id for the static token (or one of the holder's organisation)
    const fixed = tokenFile(files, 'fixed.json', [
      { token: ANNA_EE, user: 'anna-ee', organisation: 'cert-ee', nation: 'EE', roles: ['analyst'] },
      { token: IDS_LV, user: 'ids-9', organisation: 'cert-ee', nation: 'EE', roles: ['sensor'] },
    ])
    const second = await startServerProcess({ dataDir, env: { ...CHEAP, WATCHFLOOR_TOKENS: fixed } })
    try {
      const anna = await call(second.url, 'GET', '/api/v1/session', { token: ANNA_EE })
      expect(anna.json).toMatchObject({ user: 'anna-ee', organisation: 'cert-ee' })
      expect(second.output()).not.toContain('one user id is held in more than one organisation')
    } finally {
      await second.stop()
    }

    // one user id in two organisations within the store alone (written before the store refused it): a warning, naming it
    const db = new Database(join(dataDir, 'events.sqlite'))
    try {
      db.prepare(
        `INSERT INTO api_tokens (id, secret_hash, label, kind, owner, service_user, service_organisation, service_nation,
           service_roles, service_sources, preset, tlp_ceiling, created_by, created_at, expires_at)
         VALUES (?, ?, 'old', 'api', NULL, 'anna', 'cert-ee', 'EE', '["analyst"]', '[]', NULL, NULL, 'root', ?, NULL)`,
      ).run(randomUUID(), randomUUID(), new Date().toISOString())
    } finally {
      db.close()
    }
    const third = await startServerProcess({ dataDir, env: { ...CHEAP, WATCHFLOOR_TOKENS: fixed } })
    try {
      const warning = third
        .output()
        .split('\n')
        .find((line) => line.includes('one user id is held in more than one organisation'))
      expect(JSON.parse(warning!)).toMatchObject({
        level: 40,
        userId: 'anna',
        holders: ['an account of cert-lv', 'a service token of cert-ee'],
      })
    } finally {
      await third.stop()
    }
  }, 180_000) // four server starts one after another: minutes on a busy two-core machine
})

describe('demo start', () => {
  it('makes one account per role and a wall display token, in demo-accounts.json (mode 600), and prints how to sign in; never changes a password it did not make', {
    timeout: 180_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'watchfloor-demo-'))
    const first = await startServerProcess({ dataDir, env: { ...CHEAP, WATCHFLOOR_TOKENS: '' } })
    try {
      const file = join(dataDir, 'demo-accounts.json')
      expect(statSync(file).mode & 0o777).toBe(0o600)
      const demo = JSON.parse(readFileSync(file, 'utf8')) as {
        accounts: { username: string; password: string }[]
        wall: { secret: string; preset: string; tlpCeiling: string }
      }
      expect(demo.accounts.map((a) => a.username)).toEqual([
        'watch-officer',
        'coordinator',
        'analyst',
        'liaison-lv',
        'admin',
      ])
      const liaison = demo.accounts.find((a) => a.username === 'liaison-lv')!
      const signedIn = await signIn(first.url, 'liaison-lv', liaison.password)
      expect(signedIn.json).toMatchObject({ organisation: 'cert-lv', nation: 'LV', roles: ['liaison'] })
      const wall = await call(first.url, 'GET', '/api/v1/session', { token: demo.wall.secret })
      expect(wall.json).toMatchObject({ kind: 'display', preset: 'overview', tlpCeiling: 'AMBER' })
      expect(first.output()).toContain(`${first.url}/wall#token=${demo.wall.secret}`)
      expect(first.output()).toContain(file)
      expect(first.output()).not.toContain(liaison.password)
      // the static demo tokens keep working
      const demoTokens = JSON.parse(readFileSync(join(dataDir, 'demo-tokens.json'), 'utf8')) as { token: string }[]
      expect((await call(first.url, 'GET', '/api/v1/state', { token: demoTokens[0]!.token })).status).toBe(200)
      await first.stop()

      // a restart keeps the same passwords and wall link
      const second = await startServerProcess({ dataDir, env: { ...CHEAP, WATCHFLOOR_TOKENS: '' } })
      const changed = 'a password the admin chose'
      try {
        expect((await signIn(second.url, 'liaison-lv', liaison.password)).status).toBe(200)
        expect(second.output()).toContain(`/wall#token=${demo.wall.secret}`)
        expect(second.output()).not.toContain('its own password, kept')
        // an admin changes the liaison's password
        const admin = demo.accounts.find((a) => a.username === 'admin')!
        const { cookie } = await signIn(second.url, 'admin', admin.password)
        const patched = await call(second.url, 'PATCH', '/api/v1/accounts/liaison-lv', {
          cookie,
          body: { password: changed },
        })
        expect(patched.status).toBe(200)
      } finally {
        await second.stop()
      }

      // a start never changes a password it did not make: the admin's stands, and the file no longer claims one
      const third = await startServerProcess({ dataDir, env: { ...CHEAP, WATCHFLOOR_TOKENS: '' } })
      try {
        expect((await signIn(third.url, 'liaison-lv', changed)).status).toBe(200)
        expect((await signIn(third.url, 'liaison-lv', liaison.password)).status).toBe(401)
        const kept = JSON.parse(readFileSync(file, 'utf8')) as typeof demo
        expect(kept.accounts.find((a) => a.username === 'liaison-lv')!.password).toBeNull()
        expect(kept.accounts.find((a) => a.username === 'analyst')!.password).toBe(
          demo.accounts.find((a) => a.username === 'analyst')!.password,
        )
        expect(third.output()).toMatch(/liaison-lv .* \(its own password, kept; `pnpm watchfloor accounts password/)
      } finally {
        await third.stop()
      }

      // a restored site (its database, without the demo's file): every password goes on working
      rmSync(file)
      const restored = await startServerProcess({ dataDir, env: { ...CHEAP, WATCHFLOOR_TOKENS: '' } })
      try {
        for (const account of demo.accounts)
          expect(
            (
              await signIn(
                restored.url,
                account.username,
                account.username === 'liaison-lv' ? changed : account.password,
              )
            ).status,
          ).toBe(200)
        const remade = JSON.parse(readFileSync(file, 'utf8')) as typeof demo
        expect(remade.accounts.map((a) => a.password)).toEqual(demo.accounts.map(() => null))
        expect(statSync(file).mode & 0o777).toBe(0o600)
        // the wall's secret is not in the store, so a new wall token is made and printed
        expect(restored.output()).toContain(`/wall#token=${remade.wall.secret}`)
      } finally {
        await restored.stop()
      }
    } finally {
      await first.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('revocation across server processes on one PostgreSQL database', () => {
  const schema = `wf_acc_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const servers: ServerProcess[] = []
  const clients: Client[] = []
  let dir = ''
  afterAll(async () => {
    for (const client of clients) client.close()
    for (const server of servers) await server.stop()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('[D10] a token revoked on one process drops its socket on the other at once', async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const databaseUrl = `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`
    const tokens = tokensFile()
    dir = tokens.dir
    const env = {
      ...CHEAP,
      WATCHFLOOR_DATABASE_URL: databaseUrl,
      WATCHFLOOR_TOKENS: tokens.file,
      WATCHFLOOR_CREDENTIAL_RECHECK_MS: '600000',
    }
    for (let i = 0; i < 2; i++) servers.push(await startServerProcess({ env }))
    const [a, b] = servers as [ServerProcess, ServerProcess]
    await createAccount(a.url, 'kadri', 'cert-ee', 'EE', ['watch_officer'])
    const { cookie } = await signIn(a.url, 'kadri')
    const made = await call<{ token: { id: string }; secret: string }>(a.url, 'POST', '/api/v1/tokens', {
      cookie,
      body: { label: 'kadri on b' },
    })
    // the session made on a works on b
    expect((await call(b.url, 'GET', '/api/v1/session', { cookie })).json).toMatchObject({ user: 'kadri' })
    const onB = new Client(b.url, { token: made.json.secret })
    const sessionOnB = new Client(b.url, { cookie })
    clients.push(onB, sessionOnB)
    await Promise.all([onB.subscribe(0), sessionOnB.subscribe(0)])

    await call(a.url, 'DELETE', `/api/v1/tokens/${made.json.token.id}`, { cookie })
    await until(() => onB.disconnected, 5000)
    expect(onB.revoked).toEqual([{ reason: 'token_revoked' }])
    expect((await call(b.url, 'GET', '/api/v1/state', { token: made.json.secret })).status).toBe(401)

    await call(a.url, 'DELETE', '/api/v1/session', { cookie })
    await until(() => sessionOnB.disconnected, 5000)
    expect(sessionOnB.revoked).toEqual([{ reason: 'session_ended' }])
  })
})

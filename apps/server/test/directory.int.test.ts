import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventInput, PresenceMessage, StoredEvent, ViewingAck } from '@watchfloor/protocol'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { busSender } from '../src/live/bus.ts'
import {
  event,
  headOf,
  PRINCIPALS,
  post,
  type ServerProcess,
  startServerProcess,
  TOKENS,
  tokensWithAdmin,
  Watcher,
} from './harness.ts'

const ADMIN = 'directory-admin-token-0123456789'
const PASSWORD = 'a long enough passphrase'

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } }

/** One call with a bearer token, or a session cookie (`{ cookie }`). */
async function call<T = Json>(
  base: string,
  method: string,
  path: string,
  token: string | { cookie: string },
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(typeof token === 'string' ? { authorization: `Bearer ${token}` } : token),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as T }
}

const until = async (check: () => boolean, what: string, timeoutMs = 10_000) => {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('the directory: organisations and communities [V10]', () => {
  let server: ServerProcess
  let dir: string
  const seqsOf = async (token: string) =>
    (await call<{ events: StoredEvent[] }>(server.url, 'GET', '/api/v1/events?limit=5000', token)).json.events.map(
      (e) => e.id,
    )

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-directory-'))
    const tokens = tokensWithAdmin(dir, ADMIN)
    server = await startServerProcess({ env: { WATCHFLOOR_TOKENS: tokens, WATCHFLOOR_PASSWORD_COST: '12' } })
  })
  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('holds, from the first start, every organisation the static tokens belong to', async () => {
    const { status, json } = await call<{ organisations: { id: string; nation: string; kind: string }[] }>(
      server.url,
      'GET',
      '/api/v1/directory',
      TOKENS.viewerLv,
    )
    expect(status).toBe(200)
    const byId = new Map(json.organisations.map((o) => [o.id, o]))
    for (const principal of PRINCIPALS) expect(byId.get(principal.organisation)?.nation).toBe(principal.nation)
    expect(byId.get('alliance')?.kind).toBe('alliance_body')
    expect(byId.get('cert-ee')?.kind).toBe('ally_cert')
  })

  it('only an admin changes it; bad input is 400 naming the field, a taken id 409, a missing one 404', async () => {
    const org = { id: 'energy-co', name: 'Energy Co', nation: 'EE', kind: 'industry' }
    expect((await call(server.url, 'POST', '/api/v1/directory/organisations', TOKENS.viewerEe, org)).status).toBe(403)
    const made = await call<{ organisation: { id: string; name: string; createdAt: string } }>(
      server.url,
      'POST',
      '/api/v1/directory/organisations',
      ADMIN,
      org,
    )
    expect(made.status).toBe(201)
    expect(made.json.organisation).toMatchObject({ id: 'energy-co', name: 'Energy Co', nation: 'EE', kind: 'industry' })
    expect((await call(server.url, 'POST', '/api/v1/directory/organisations', ADMIN, org)).status).toBe(409)
    const bad = await call(server.url, 'POST', '/api/v1/directory/organisations', ADMIN, {
      ...org,
      id: 'Bad Id',
      kind: 'x',
    })
    expect(bad.status).toBe(400)
    expect((bad.json.error!.details as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual([
      'id',
      'kind',
    ])
    const renamed = await call<{ organisation: { name: string } }>(
      server.url,
      'PATCH',
      '/api/v1/directory/organisations/energy-co',
      ADMIN,
      { name: 'Energy Company' },
    )
    expect(renamed.json.organisation.name).toBe('Energy Company')
    expect(
      (await call(server.url, 'PATCH', '/api/v1/directory/organisations/nobody', ADMIN, { name: 'x' })).status,
    ).toBe(404)
    // a community may not take an organisation's id, nor name a member that is not one
    expect(
      (await call(server.url, 'POST', '/api/v1/directory/communities', ADMIN, { id: 'energy-co', name: 'E' })).status,
    ).toBe(409)
    const missing = await call(server.url, 'POST', '/api/v1/directory/communities', ADMIN, {
      id: 'ghosts',
      name: 'Ghosts',
      members: ['nobody'],
    })
    expect(missing.status).toBe(400)
    expect(missing.json.error!.message).toContain('nobody')
    // an organisation in use (here by static tokens) is not deleted
    const inUse = await call(server.url, 'DELETE', '/api/v1/directory/organisations/cert-ee', ADMIN)
    expect(inUse.status).toBe(409)
    expect(inUse.json.error!.message).toBe(
      "cert-ee is in use: the server's static tokens (WATCHFLOOR_TOKENS, or the demo set when it is unset) belong to it",
    )
    expect((await call(server.url, 'DELETE', '/api/v1/directory/organisations/energy-co', ADMIN)).status).toBe(204)
    expect((await call(server.url, 'DELETE', '/api/v1/directory/organisations/energy-co', ADMIN)).status).toBe(404)
  })

  it('accounts and service tokens belong to an organisation of the directory, with its nation', async () => {
    const account = (body: Record<string, unknown>) =>
      call<Json & { account: { nation: string } }>(server.url, 'POST', '/api/v1/accounts', ADMIN, {
        username: 'liis',
        roles: ['analyst'],
        password: PASSWORD,
        ...body,
      })
    const unknown = await account({ organisation: 'cert-zz' })
    expect(unknown.status).toBe(400)
    expect(unknown.json.error!.message).toBe('no organisation cert-zz in the directory: add it first')
    const wrongNation = await account({ organisation: 'cert-ee', nation: 'LV' })
    expect(wrongNation.status).toBe(400)
    expect((wrongNation.json.error!.details as { issues: { path: string }[] }).issues[0]!.path).toBe('nation')
    const made = await account({ organisation: 'cert-ee' })
    expect(made.status).toBe(201)
    expect(made.json.account.nation).toBe('EE')
    const token = await call(server.url, 'POST', '/api/v1/tokens', ADMIN, {
      label: 'a sensor of nowhere',
      service: { user: 'sensor-zz', organisation: 'cert-zz', roles: ['sensor'] },
    })
    expect(token.status).toBe(400)
    expect((token.json.error!.details as { issues: { path: string }[] }).issues[0]!.path).toBe('service.organisation')
  })

  it('releasableTo naming a community reaches its members on REST and live; joining and leaving move the socket and withdraw the past', {
    timeout: 30_000,
  }, async () => {
    const community = { id: 'energy-sector', name: 'Energy sector partners', members: ['ncsc-nl'] }
    const made = await call(server.url, 'POST', '/api/v1/directory/communities', ADMIN, community)
    expect(made.status).toBe(201)
    // a liaison of cert-lv, outside the community, subscribed live from its own head
    const lv = new Watcher(server.url, TOKENS.viewerLv)
    const resyncs: string[] = []
    lv.socket.on('resync', ({ reason }) => resyncs.push(reason))
    expect((await lv.subscribe(await headOf(server.url, TOKENS.viewerLv))).ok).toBe(true)

    const shared: EventInput = event({
      type: 'incident.observation',
      payload: { incidentId: 'inc-energy', count: 1 },
      marking: { tlp: 'AMBER', releasableTo: ['energy-sector'], pap: 'GREEN' },
    } as never)
    const { json } = await post(server.url, TOKENS.sensorEe, { events: [shared] })
    const seq = json.results![0]!.seq
    // the member sees it (REST), the others do not
    expect(await seqsOf(TOKENS.viewerNl)).toContain(shared.id)
    expect(await seqsOf(TOKENS.viewerLv)).not.toContain(shared.id)

    // cert-lv joins: the liaison's socket is told its access changed, and from 0 it gets the event
    const lvBeats = lv.heartbeats.length
    await until(() => lv.heartbeats.length >= lvBeats + 2, 'two heartbeats')
    expect(lv.events.map((e) => e.id)).not.toContain(shared.id)
    const joined = await call(server.url, 'PATCH', '/api/v1/directory/communities/energy-sector', ADMIN, {
      members: ['ncsc-nl', 'cert-lv'],
    })
    expect(joined.status).toBe(200)
    expect(await seqsOf(TOKENS.viewerLv)).toContain(shared.id)
    await until(() => resyncs.includes('access_changed'), 'resync access_changed')
    expect((await lv.subscribe(0)).ok).toBe(true)
    expect(lv.events.filter((e) => e.id === shared.id).map((e) => e.seq)).toEqual([seq])
    // a non-admin sees its own communities only
    const view = await call<{ communities: { id: string }[] }>(server.url, 'GET', '/api/v1/directory', TOKENS.viewerLv)
    expect(view.json.communities.map((c) => c.id)).toEqual(['energy-sector'])
    expect(
      (await call<{ communities: unknown[] }>(server.url, 'GET', '/api/v1/directory', TOKENS.viewerEe)).json
        .communities,
    ).toEqual([])

    // and leaves: told again, and the event is withdrawn everywhere
    resyncs.length = 0
    const left = await call(server.url, 'PATCH', '/api/v1/directory/communities/energy-sector', ADMIN, {
      members: ['ncsc-nl'],
    })
    expect(left.status).toBe(200)
    expect(await seqsOf(TOKENS.viewerLv)).not.toContain(shared.id)
    await until(() => resyncs.includes('access_changed'), 'resync access_changed')
    const again = new Watcher(server.url, TOKENS.viewerLv)
    expect((await again.subscribe(0)).ok).toBe(true)
    expect(again.events.map((e) => e.id)).not.toContain(shared.id)
    again.close()
    lv.close()
  })
  it('presence follows the directory: an organisation taken out of a community leaves the presence of the incidents shared with it through it, at once', {
    timeout: 30_000,
  }, async () => {
    const made = await call(server.url, 'POST', '/api/v1/directory/communities', ADMIN, {
      id: 'water-sector',
      name: 'Water sector partners',
      members: ['cert-lv'],
    })
    expect(made.status).toBe(201)
    const report = event({
      type: 'incident.reported',
      marking: { tlp: 'AMBER', releasableTo: ['water-sector'] },
      payload: {
        incidentId: 'inc-water',
        title: 'Pump controller beacon',
        severity: 'high',
        category: 'malware',
        affectedNetworks: [],
      },
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, { events: [report] })).status).toBe(201)
    const presenceOf = (watcher: Watcher) => {
      const heard: PresenceMessage[] = []
      watcher.socket.on('presence', (message: PresenceMessage) => heard.push(message))
      return heard
    }
    const janis = new Watcher(server.url, TOKENS.viewerLv)
    const kadri = new Watcher(server.url, TOKENS.viewerEe)
    const heard = presenceOf(kadri)
    expect((await janis.subscribe(await headOf(server.url, TOKENS.viewerLv))).ok).toBe(true)
    expect((await kadri.subscribe(await headOf(server.url, TOKENS.viewerEe))).ok).toBe(true)
    const view = (watcher: Watcher) =>
      watcher.socket.timeout(10_000).emitWithAck('viewing', { incidentId: 'inc-water' }) as Promise<ViewingAck>
    expect(await view(janis)).toEqual({ ok: true })
    expect(await view(kadri)).toEqual({ ok: true })
    const users = (message: PresenceMessage | undefined) =>
      message?.viewers
        .map((viewer) => viewer.user)
        .sort()
        .join()
    await until(() => users(heard.filter((m) => m.incidentId === 'inc-water').at(-1)) === 'janis,kadri', 'both viewing')
    // cert-lv leaves the community: janis may no longer see it, and is no longer seen viewing it
    const left = await call(server.url, 'PATCH', '/api/v1/directory/communities/water-sector', ADMIN, { members: [] })
    expect(left.status).toBe(200)
    await until(() => users(heard.filter((m) => m.incidentId === 'inc-water').at(-1)) === 'kadri', 'janis left')
    janis.close()
    kadri.close()
  })

  it("an organisation's nation is its people's: after it changes, its accounts and service tokens see what is releasable to the new nation only, on REST and live", {
    timeout: 30_000,
  }, async () => {
    const org = await call(server.url, 'POST', '/api/v1/directory/organisations', ADMIN, {
      id: 'grid-co',
      name: 'Grid Co',
      nation: 'EE',
      kind: 'industry',
    })
    expect(org.status).toBe(201)
    const account = await call(server.url, 'POST', '/api/v1/accounts', ADMIN, {
      username: 'mari',
      organisation: 'grid-co',
      roles: ['liaison'],
      password: PASSWORD,
    })
    expect(account.status).toBe(201)
    const signIn = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'mari', password: PASSWORD }),
    })
    expect(signIn.status).toBe(200)
    const session = { cookie: signIn.headers.get('set-cookie')!.split(';')[0]! }
    const own = await call<{ secret: string }>(server.url, 'POST', '/api/v1/tokens', session, { label: 'mari api' })
    expect(own.status).toBe(201)
    const service = await call<{ secret: string; token: { id: string } }>(server.url, 'POST', '/api/v1/tokens', ADMIN, {
      label: 'grid relay',
      service: { user: 'grid-relay', organisation: 'grid-co', roles: ['analyst'] },
    })
    expect(service.status).toBe(201)
    const credentials = { session, token: own.json.secret, service: service.json.secret }

    const toEe = event({
      type: 'incident.observation',
      payload: { incidentId: 'inc-nation-ee', count: 1 },
      marking: { tlp: 'AMBER', releasableTo: ['EE'] },
    } as never)
    const toLv = event({
      type: 'incident.observation',
      payload: { incidentId: 'inc-nation-lv', count: 1 },
      marking: { tlp: 'AMBER', releasableTo: ['LV'] },
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, { events: [toEe, toLv] })).status).toBe(201)
    const idsOf = async (credential: string | { cookie: string }) =>
      (await call<{ events: StoredEvent[] }>(server.url, 'GET', '/api/v1/events?limit=5000', credential)).json.events
        .map((e) => e.id)
        .filter((id) => id === toEe.id || id === toLv.id)
    for (const [name, credential] of Object.entries(credentials))
      expect(await idsOf(credential), `${name} before`).toEqual([toEe.id])

    // live sockets of the account (token and session) and of the service token
    const sockets = [
      new Watcher(server.url, credentials.token),
      new Watcher(server.url, session),
      new Watcher(server.url, credentials.service),
    ]
    const resyncs = sockets.map((w) => {
      const reasons: string[] = []
      w.socket.on('resync', ({ reason }) => reasons.push(reason))
      return reasons
    })
    for (const w of sockets) {
      expect((await w.subscribe(0)).ok).toBe(true)
      expect(w.events.map((e) => e.id).filter((id) => id === toEe.id || id === toLv.id)).toEqual([toEe.id])
    }

    const moved = await call(server.url, 'PATCH', '/api/v1/directory/organisations/grid-co', ADMIN, { nation: 'LV' })
    expect(moved.status).toBe(200)
    for (const [name, credential] of Object.entries(credentials))
      expect(await idsOf(credential), `${name} after`).toEqual([toLv.id])
    expect((await call(server.url, 'GET', '/api/v1/session', session)).json).toMatchObject({ nation: 'LV' })
    expect((await call(server.url, 'GET', '/api/v1/session', credentials.service)).json).toMatchObject({
      nation: 'LV',
    })
    const accounts = await call<{ accounts: { username: string; nation: string }[] }>(
      server.url,
      'GET',
      '/api/v1/accounts',
      ADMIN,
    )
    expect(accounts.json.accounts.find((a) => a.username === 'mari')?.nation).toBe('LV')
    const tokens = await call<{ tokens: { id: string; service: { nation: string } | null }[] }>(
      server.url,
      'GET',
      '/api/v1/tokens',
      ADMIN,
    )
    expect(tokens.json.tokens.find((t) => t.id === service.json.token.id)?.service?.nation).toBe('LV')

    // each live socket is told its access changed, and from 0 holds what the new nation may see
    for (const [i, w] of sockets.entries()) {
      await until(() => resyncs[i]!.includes('access_changed'), `resync access_changed on socket ${i}`)
      w.events.length = 0
      expect((await w.subscribe(0)).ok).toBe(true)
      expect(w.events.map((e) => e.id).filter((id) => id === toEe.id || id === toLv.id)).toEqual([toLv.id])
      w.close()
    }
    // a static token follows its organisation too, whatever WATCHFLOOR_TOKENS says
    const nationOfPieter = async () =>
      (await call<{ nation: string }>(server.url, 'GET', '/api/v1/session', TOKENS.viewerNl)).json.nation
    expect(await nationOfPieter()).toBe('NL')
    const toBe = (nation: string) =>
      call(server.url, 'PATCH', '/api/v1/directory/organisations/ncsc-nl', ADMIN, { nation })
    expect((await toBe('BE')).status).toBe(200)
    expect(await nationOfPieter()).toBe('BE')
    expect((await toBe('NL')).status).toBe(200)
    expect(await nationOfPieter()).toBe('NL')
  })
})

describe('the directory across server processes on one PostgreSQL database: a lost notification, a failed load', () => {
  // a database of its own: NOTIFY reaches every session of a database, whatever its schema, so no
  // other test's directory change can stand in for the reload under test
  const database = `wf_dir_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  let db: pg.Client | undefined
  const servers: ServerProcess[] = []
  const watchers: Watcher[] = []
  let dir = ''
  afterAll(async () => {
    for (const w of watchers) w.close()
    for (const server of servers) await server.stop()
    await db?.end()
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin.end()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('a process reloads within WATCHFLOOR_DIRECTORY_RELOAD_MS what it was never told of, and retries a load that failed; its sockets resync as on a notified change', {
    timeout: 60_000,
  }, async () => {
    await admin.connect()
    await admin.query(`CREATE DATABASE ${database}`)
    const databaseUrl = `postgres://postgres@127.0.0.1:5432/${database}`
    db = new pg.Client({ connectionString: databaseUrl })
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-directory-pg-'))
    const tokens = tokensWithAdmin(dir, ADMIN)
    const env = { WATCHFLOOR_TOKENS: tokens, WATCHFLOOR_DATABASE_URL: databaseUrl }
    // a reloads only when told (or after a failed load), b every second besides
    const a = await startServerProcess({ env: { ...env, WATCHFLOOR_DIRECTORY_RELOAD_MS: '3600000' } })
    servers.push(a)
    const b = await startServerProcess({ env: { ...env, WATCHFLOOR_DIRECTORY_RELOAD_MS: '1000' } })
    servers.push(b)
    await db.connect()

    const made = await call(a.url, 'POST', '/api/v1/directory/communities', ADMIN, {
      id: 'grid',
      name: 'Grid operators',
      members: ['ncsc-nl'],
    })
    expect(made.status).toBe(201)
    const shared = event({
      type: 'incident.observation',
      payload: { incidentId: 'inc-grid', count: 1 },
      marking: { tlp: 'AMBER', releasableTo: ['grid'] },
    } as never)
    expect((await post(a.url, TOKENS.sensorEe, { events: [shared] })).status).toBe(201)
    const seesIt = async (server: ServerProcess) =>
      (
        await call<{ events: StoredEvent[] }>(server.url, 'GET', '/api/v1/events?limit=5000', TOKENS.viewerLv)
      ).json.events.some((e) => e.id === shared.id)
    const watch = async (server: ServerProcess) => {
      const w = new Watcher(server.url, TOKENS.viewerLv)
      watchers.push(w)
      const reasons: string[] = []
      w.socket.on('resync', ({ reason }) => reasons.push(reason))
      expect((await w.subscribe(0)).ok).toBe(true)
      return { w, reasons }
    }
    const onA = await watch(a)
    const onB = await watch(b)
    expect(await seesIt(a)).toBe(false)
    expect(await seesIt(b)).toBe(false)

    // cert-lv joins by hand, in the database: no process is told
    await db.query(
      `INSERT INTO watchfloor_community_members (community_id, organisation_id) VALUES ('grid', 'cert-lv')`,
    )
    await until(() => onB.reasons.includes('access_changed'), 'b: resync access_changed', 5000)
    expect(await seesIt(b)).toBe(true)
    expect((await onB.w.subscribe(0)).ok).toBe(true)
    await onB.w.waitFor(() => onB.w.events.some((e) => e.id === shared.id), 5000)
    // a was told nothing and reloads only hourly: it still has the old directory
    expect(await seesIt(a)).toBe(false)
    expect(onA.reasons).toEqual([])

    // a is told of a change, but cannot read the directory: it keeps the last one, and tries again
    await db.query('ALTER TABLE watchfloor_organisations RENAME TO watchfloor_organisations_away')
    const told = await busSender({ databaseUrl, redisUrl: undefined, sealer: undefined })
    told.tellCredentials({ type: 'directory' })
    await told.close()
    await until(() => a.output().includes('could not load the directory'), 'a: a failed load', 5000)
    expect(await seesIt(a)).toBe(false)
    await db.query('ALTER TABLE watchfloor_organisations_away RENAME TO watchfloor_organisations')
    // long before its hourly reload, a has read it again: what cert-lv joined reaches its socket too
    await until(() => onA.reasons.includes('access_changed'), 'a: resync access_changed', 10_000)
    expect(await seesIt(a)).toBe(true)
    expect((await onA.w.subscribe(0)).ok).toBe(true)
    await onA.w.waitFor(() => onA.w.events.some((e) => e.id === shared.id), 5000)
  })
})

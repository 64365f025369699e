import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventInput, StoredEvent } from '@watchfloor/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, headOf, PRINCIPALS, post, type ServerProcess, startServerProcess, TOKENS, Watcher } from './harness.ts'

const ADMIN = 'directory-admin-token-0123456789'
const PASSWORD = 'a long enough passphrase'

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } }

async function call<T = Json>(
  base: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
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
    const tokens = join(dir, 'tokens.json')
    writeFileSync(
      tokens,
      JSON.stringify([
        ...PRINCIPALS,
        { token: ADMIN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] },
      ]),
    )
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
    expect(missing.status).toBe(404)
    expect(missing.json.error!.message).toContain('nobody')
    // an organisation in use (here by static tokens) is not deleted
    const inUse = await call(server.url, 'DELETE', '/api/v1/directory/organisations/cert-ee', ADMIN)
    expect(inUse.status).toBe(409)
    expect(inUse.json.error!.message).toBe('cert-ee is in use: the static tokens of WATCHFLOOR_TOKENS belong to it')
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
})

import { createHash, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canSee } from '@watchfloor/core'
import type { EventInput, PresenceMessage, RevokedMessage, StoredEvent, Viewer } from '@watchfloor/protocol'
import { PostgresEventStore } from '@watchfloor/store'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  accountWithToken,
  event,
  getJson,
  PRINCIPALS,
  post,
  type ServerProcess,
  startServerProcess,
  TOKENS,
  Watcher,
} from './harness.ts'

/**
 * Three server processes on one PostgreSQL log (a schema of its own): delivery, commands, presence,
 * revocation and a SIGKILL, whichever process a client or a writer talks to. What each viewer should
 * get never comes from a server: it is core's `canSee` over the log read back from the database.
 */

const ADMIN_TOKEN = 'static-admin-token-0123456789'

type Json = Record<string, unknown>
type Reply = { status: number; json: Json & { events?: StoredEvent[]; version?: number; current?: Json } }

async function call(url: string, method: string, path: string, token: string, body?: unknown): Promise<Reply> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as Reply['json'] }
}

const command = (url: string, token: string, body: unknown) => call(url, 'POST', '/api/v1/commands', token, body)

async function until(check: () => boolean, what: string, timeout = 15_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** The viewers of the harness principals, as core's `canSee` takes them. */
const VIEWERS = (['viewerEe', 'viewerLv', 'viewerNl', 'redReader', 'watchOfficer'] as const).map((name) => {
  const principal = PRINCIPALS.find((p) => p.token === TOKENS[name])!
  const viewer: Viewer = {
    userId: principal.user,
    organisation: principal.organisation,
    nation: principal.nation,
    roles: principal.roles as Viewer['roles'],
  }
  return { name, token: TOKENS[name], viewer }
})

/** Events of every marking shape, from one sensor's organisation. */
function mixed(organisation: string, n: number): EventInput[] {
  const markings: EventInput['marking'][] = [
    { tlp: 'CLEAR' },
    { tlp: 'GREEN' },
    { tlp: 'AMBER' },
    { tlp: 'AMBER+STRICT' },
    { tlp: 'AMBER', releasableTo: ['cert-lv'] },
    { tlp: 'RED', recipients: ['kadri'] },
    { tlp: 'RED', recipients: ['red-reader', 'pieter'] },
  ]
  return Array.from({ length: n }, (_, i) =>
    event({
      type: 'incident.observation',
      payload: { incidentId: `cl-${organisation}`, count: i + 1 },
      source: { organisation },
      marking: markings[i % markings.length]!,
    } as never),
  )
}

/** A watcher that also records presence and revocation. */
class Console extends Watcher {
  readonly presence: PresenceMessage[] = []
  readonly revoked: RevokedMessage[] = []
  disconnected = false
  constructor(url: string, token: string) {
    super(url, token)
    this.socket.on('presence', (message) => this.presence.push(message))
    this.socket.on('revoked', (message) => this.revoked.push(message))
    this.socket.on('disconnect', () => {
      this.disconnected = true
    })
  }

  async view(incidentId: string | null): Promise<{ ok: boolean }> {
    if (!this.socket.connected) await new Promise<void>((resolve) => this.socket.once('connect', () => resolve()))
    return this.socket.timeout(10_000).emitWithAck('viewing', { incidentId }) as Promise<{ ok: boolean }>
  }

  /** The people in the latest presence message about an incident. */
  presenceOf(incidentId: string): string[] | undefined {
    return this.presence
      .filter((m) => m.incidentId === incidentId)
      .at(-1)
      ?.viewers.map((v) => v.user)
      .sort()
  }
}

const network = () =>
  event({
    type: 'network.registered',
    payload: {
      networkId: 'ee-gov',
      name: 'Estonian government network',
      organisation: 'cert-ee',
      nation: 'EE',
      kind: 'government',
      location: { lat: 59.437, lon: 24.754 },
    },
  } as never)

const incident = (incidentId: string, marking: EventInput['marking']) =>
  event({
    type: 'incident.reported',
    marking,
    payload: {
      incidentId,
      title: `Incident ${incidentId}`,
      severity: 'medium',
      category: 'malware',
      affectedNetworks: ['ee-gov'],
    },
  } as never)

/** A role that may connect to the database and nothing more, LISTENing on `channel` (it may NOTIFY there too). */
async function listeningRole(channel: string) {
  const role = `wf_test_spy_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  await admin.connect()
  await admin.query(`CREATE ROLE ${role} LOGIN`)
  const client = new pg.Client({ connectionString: `postgres://${role}@127.0.0.1:5432/test` })
  await client.connect()
  const payloads: string[] = []
  client.on('notification', (message) => payloads.push(message.payload ?? ''))
  await client.query(`LISTEN "${channel}"`)
  return {
    payloads,
    notify: (payload: string) => client.query('SELECT pg_notify($1, $2)', [channel, payload]),
    async end() {
      await client.end()
      await admin.query(`DROP ROLE ${role}`)
      await admin.end()
    },
  }
}

describe('three server processes on one PostgreSQL log', { timeout: 40_000 }, () => {
  const schema = `wf_cl_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-cluster-'))
  const servers: ServerProcess[] = []
  const consoles: Console[] = []
  let log: PostgresEventStore
  const open = (server: ServerProcess, token: string) => {
    const client = new Console(server.url, token)
    consoles.push(client)
    return client
  }
  /** The whole log, read back from the database. */
  const readLog = () => log.readAfter(0, 1_000_000)

  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const tokens = join(dir, 'tokens.json')
    const root = { token: ADMIN_TOKEN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] }
    writeFileSync(tokens, JSON.stringify([...PRINCIPALS, root]))
    const env = {
      WATCHFLOOR_DATABASE_URL: databaseUrl,
      WATCHFLOOR_TOKENS: tokens,
      WATCHFLOOR_PASSWORD_COST: '12',
      // revocation must travel by the bus (live/bus.ts), not by the periodic recheck
      WATCHFLOOR_CREDENTIAL_RECHECK_MS: '600000',
    }
    servers.push(...(await Promise.all([0, 1, 2].map(() => startServerProcess({ env })))))
    log = await PostgresEventStore.open({ connectionString: databaseUrl })
  }, 40_000)

  afterAll(async () => {
    for (const client of consoles) client.close()
    await Promise.all(servers.map((s) => s.stop()))
    await log?.close()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await admin.end().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  })

  it('[D1, D2, D3, D5] every viewer on every process gets exactly its visible events in seq order, whichever process took them', async () => {
    const [a] = servers as [ServerProcess, ServerProcess, ServerProcess]
    expect((await getJson<{ store: string }>(`${a.url}/readyz`, null)).json.store).toBe('postgres')
    const watching = servers.flatMap((server) => VIEWERS.map((v) => ({ ...v, client: open(server, v.token) })))
    await Promise.all(watching.map(({ client }) => client.subscribe(0)))

    // three sensors write through the three processes at once
    const writers = [
      [TOKENS.sensorEe, 'cert-ee'],
      [TOKENS.sensorLv, 'cert-lv'],
      [TOKENS.relay, 'ncsc-nl'],
    ] as const
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const [token, organisation] = writers[i % 3]!
        return post(servers[(i + 1) % 3]!.url, token, { events: mixed(organisation, 14) })
      }),
    )
    expect(replies.map((r) => r.status)).toEqual(Array(12).fill(201))
    const stored = await readLog()
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 12 * 14 }, (_, i) => i + 1))

    for (const { name, viewer, client } of watching) {
      const expected = stored.filter((e) => canSee(viewer, e)).map((e) => e.seq)
      expect(expected.length, name).toBeGreaterThan(0)
      await client.waitFor(() => client.events.length >= expected.length)
    }
    // a few heartbeats more: anything duplicated or out of order through another process would arrive by now
    await new Promise((r) => setTimeout(r, 1200))
    for (const { name, viewer, client } of watching) {
      expect(client.seqs(), name).toEqual(stored.filter((e) => canSee(viewer, e)).map((e) => e.seq))
      expect(client.events.map((e) => e.id)).toEqual(stored.filter((e) => canSee(viewer, e)).map((e) => e.id))
    }
    // the viewers really differ
    expect(new Set(watching.map(({ client }) => client.events.length)).size).toBeGreaterThan(2)
  })

  it("GET /metrics on PostgreSQL tells how full the cluster's notification queue is", async () => {
    const [a] = servers as [ServerProcess, ServerProcess, ServerProcess]
    const reply = await fetch(`${a.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(reply.status).toBe(200)
    const text = await reply.text()
    expect(text).toContain('# TYPE watchfloor_store_notification_queue_usage gauge')
    const usage = Number(/^watchfloor_store_notification_queue_usage (\S+)$/m.exec(text)?.[1])
    expect(usage).toBeGreaterThanOrEqual(0)
    expect(usage).toBeLessThan(1)
  })

  it('[C3] one command racing on three processes: exactly one wins, the others get 409 with the winner', async () => {
    const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess]
    expect(
      (await post(a.url, TOKENS.sensorEe, { events: [network(), incident('cl-race', { tlp: 'GREEN' })] })).status,
    ).toBe(201)
    const created = await command(b.url, TOKENS.coordEeA, {
      type: 'task.create',
      incidentId: 'cl-race',
      title: 'Contain',
    })
    expect(created.status).toBe(200)
    const taskId = (created.json.events![0]!.payload as { taskId: string }).taskId
    let version = 1
    for (let round = 0; round < 6; round++) {
      const body = (who: string) => ({
        type: 'task.assign',
        taskId,
        assignee: { kind: 'user', userId: `${who}-${round}` },
        expectedVersion: version,
      })
      const replies = await Promise.all([
        command(a.url, TOKENS.coordEeA, body('a')),
        command(b.url, TOKENS.coordEeB, body('b')),
        command(c.url, TOKENS.coordEeA, body('c')),
      ])
      expect(replies.map((r) => r.status).sort()).toEqual([200, 409, 409])
      const winner = replies.find((r) => r.status === 200)!
      const assignee = (winner.json.events![0]!.payload as { assignee: unknown }).assignee
      for (const loser of replies.filter((r) => r.status === 409))
        expect(loser.json.current).toMatchObject({ assignee, version: version + 1 })
      version = winner.json.version!
    }
    expect(version).toBe(7)
    // the log holds one assignment per round
    const assigned = (await readLog()).filter(
      (e) => e.type === 'task.assigned' && (e.payload as { taskId: string }).taskId === taskId,
    )
    expect(assigned).toHaveLength(6)
  })

  it('presence: who views an incident shows on every process, only to those who may see it, and leaves with them', async () => {
    const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess]
    expect(
      (
        await post(a.url, TOKENS.sensorEe, {
          events: [incident('cl-green', { tlp: 'GREEN' }), incident('cl-strict', { tlp: 'AMBER+STRICT' })],
        })
      ).status,
    ).toBe(201)
    // a role that may connect to the database, and may not read the log, listens on the presence channel
    const spy = await listeningRole(
      `watchfloor_presence_${createHash('sha256').update(schema).digest('hex').slice(0, 12)}#/`,
    )
    const coordA = open(a, TOKENS.coordEeA)
    const janis = open(b, TOKENS.viewerLv)
    const kadri = open(c, TOKENS.viewerEe)
    const coordB = open(b, TOKENS.coordEeB)
    expect((await coordA.view('cl-green')).ok).toBe(true)
    expect((await janis.view('cl-green')).ok).toBe(true)
    expect((await kadri.view('cl-green')).ok).toBe(true)
    const everyone = ['coord-a', 'janis', 'kadri']
    for (const client of [coordA, janis, kadri, coordB])
      await until(() => `${client.presenceOf('cl-green')}` === `${everyone}`, 'presence on every process')

    // an AMBER+STRICT incident of cert-ee: its viewers are shown to cert-ee on any process, never to cert-lv
    expect((await coordA.view('cl-strict')).ok).toBe(true)
    await until(() => `${kadri.presenceOf('cl-strict')}` === 'coord-a', 'strict presence on C')
    await until(() => `${coordB.presenceOf('cl-strict')}` === 'coord-a', 'strict presence on B')
    await until(() => `${kadri.presenceOf('cl-green')}` === 'janis,kadri', 'coord-a left cl-green')
    expect(janis.presence.some((m) => m.incidentId === 'cl-strict')).toBe(false)
    // asking for an incident it may not see is not_found, and janis then views nothing: back to cl-green
    expect((await janis.view('cl-strict')).ok).toBe(false)
    await until(() => `${kadri.presenceOf('cl-green')}` === 'kadri', 'janis left cl-green')
    expect((await janis.view('cl-green')).ok).toBe(true)
    await until(() => `${kadri.presenceOf('cl-green')}` === 'janis,kadri', 'janis back on cl-green')

    // leaving by disconnecting, on another process
    kadri.close()
    await until(() => `${coordB.presenceOf('cl-green')}` === 'janis', 'kadri gone on B')
    await until(() => `${coordA.presenceOf('cl-green')}` === 'janis', 'kadri gone on A')
    expect(janis.presence.some((m) => m.incidentId === 'cl-strict')).toBe(false)

    // what the spy heard went between the processes sealed: no incident, no person
    try {
      expect(spy.payloads.length).toBeGreaterThan(0)
      for (const payload of spy.payloads)
        for (const name of ['cl-green', 'cl-strict', 'coord-a', 'janis', 'kadri']) expect(payload).not.toContain(name)
      // nor may it make presence up: neither as the earlier release's cleartext announcement nor sealed by another key
      const forged = (event: string, data: unknown) =>
        JSON.stringify({ uid: 'forger', type: 9, nsp: '/', data: { packet: [event, data] } })
      const mallory = {
        from: 'forger',
        n: 1,
        kind: 'state',
        incidents: { 'cl-green': [{ user: 'mallory', organisation: 'cert-ee' }] },
      }
      await spy.notify(forged('presence', mallory))
      await spy.notify(forged('presence.sealed', Buffer.from(JSON.stringify(mallory)).toString('base64')))
      // a real change after them, so that each process has handled what came before it
      expect((await coordA.view('cl-green')).ok).toBe(true)
      await until(() => `${coordB.presenceOf('cl-green')}` === 'coord-a,janis', 'coord-a back on cl-green')
      for (const client of [coordA, janis, coordB])
        expect(client.presence.some((m) => m.viewers.some((viewer) => viewer.user === 'mallory'))).toBe(false)
    } finally {
      await spy.end()
    }
  })

  it('TAXII: the status of objects added through one process is answered by the others, to its maker only', async () => {
    const TAXII = 'application/taxii+json;version=2.1'
    const taxii = (url: string, path: string, token: string, body?: unknown) =>
      fetch(`${url}/taxii2${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          accept: TAXII,
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': TAXII }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    const collections = (await (await taxii(servers[0]!.url, '/api/collections/', TOKENS.sensorLv)).json()) as {
      collections: { id: string; can_write: boolean }[]
    }
    const all = collections.collections.find((c) => c.can_write)!
    const stamp = '2026-11-26T08:00:00.000Z'
    const added = await taxii(servers[0]!.url, `/api/collections/${all.id}/objects/`, TOKENS.sensorLv, {
      objects: [
        {
          type: 'incident',
          spec_version: '2.1',
          id: `incident--${randomUUID()}`,
          created: stamp,
          modified: stamp,
          name: 'Added on one process',
          object_marking_refs: ['marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb'],
        },
      ],
    })
    expect(added.status).toBe(202)
    const status = (await added.json()) as { id: string; success_count: number }
    expect(status.success_count).toBe(1)
    for (const server of servers.slice(1)) {
      const again = await taxii(server.url, `/api/status/${status.id}/`, TOKENS.sensorLv)
      expect(again.status).toBe(200)
      expect(await again.json()).toEqual(status)
      // another caller hears what it would of a status that does not exist
      expect((await taxii(server.url, `/api/status/${status.id}/`, TOKENS.sensorEe)).status).toBe(404)
    }
  })

  it('[D10] a token revoked through one process cuts its sockets on the others at once', async () => {
    const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess]
    const { secret, tokenId } = await accountWithToken(a.url, ADMIN_TOKEN, 'liis')
    const onB = open(b, secret)
    const onC = open(c, secret)
    const bystander = open(c, TOKENS.viewerEe)
    for (const client of [onB, onC, bystander]) expect((await client.subscribe(0)).ok).toBe(true)

    expect((await call(a.url, 'DELETE', `/api/v1/tokens/${tokenId}`, ADMIN_TOKEN)).status).toBe(200)
    await until(() => onB.disconnected && onC.disconnected, 'revoked sockets cut', 5_000)
    expect(onB.revoked).toEqual([{ reason: 'token_revoked' }])
    expect(onC.revoked).toEqual([{ reason: 'token_revoked' }])
    expect((await call(c.url, 'GET', '/api/v1/state', secret)).status).toBe(401)
    await expect(open(b, secret).subscribe(0)).rejects.toThrow(/revoked/)
    expect(bystander.disconnected).toBe(false)
    expect(bystander.revoked).toEqual([])
  })

  it('[D7, D2, D5] SIGKILL of a process while events stream: no acknowledged event lost; its consoles resume on another process with no gap and no duplicate', async () => {
    const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess]
    const onC = VIEWERS.map((v) => ({ ...v, client: open(c, v.token) }))
    await Promise.all(onC.map(({ client }) => client.subscribe(0)))
    // someone views an incident on C: when C dies, the other processes drop them from presence
    const officer = open(a, TOKENS.coordEeA)
    const onCViewing = open(c, TOKENS.viewerEe)
    expect((await onCViewing.view('cl-green')).ok).toBe(true)
    expect((await officer.view('cl-green')).ok).toBe(true)
    await until(() => `${officer.presenceOf('cl-green')}` === 'coord-a,janis,kadri', 'presence before the kill')

    const acknowledged = new Set<string>()
    let stop = false
    const writers = [
      [c, TOKENS.sensorEe, 'cert-ee'],
      [c, TOKENS.sensorLv, 'cert-lv'],
      [a, TOKENS.relay, 'ncsc-nl'],
      [b, TOKENS.sensorEe, 'cert-ee'],
    ] as const
    const posting = writers.map(async ([server, token, organisation]) => {
      while (!stop) {
        try {
          const reply = await post(server.url, token, { events: mixed(organisation, 7) })
          if (reply.status === 201) for (const r of reply.json.results!) acknowledged.add(r.id)
        } catch {
          if (server === c) return // C died mid-request: that batch was never acknowledged
          throw new Error('a live process failed a post')
        }
      }
    })
    await new Promise((r) => setTimeout(r, 800))
    await c.kill9()
    await new Promise((r) => setTimeout(r, 300))
    stop = true
    await Promise.all(posting)
    expect(acknowledged.size).toBeGreaterThan(50)

    // its consoles come back on A and B, each from the last seq it got
    const resumed = onC.map(({ name, viewer, client }, i) => {
      const before = [...client.events]
      const next = open(i % 2 ? a : b, TOKENS[name])
      return { name, viewer, before, next, after: client.lastSeq }
    })
    for (const r of resumed) expect((await r.next.subscribe(r.after)).ok, r.name).toBe(true)
    // one more batch after the resume, live
    expect((await post(b.url, TOKENS.sensorLv, { events: mixed('cert-lv', 7) })).status).toBe(201)

    const stored = await readLog()
    const ids = new Set(stored.map((e) => e.id))
    expect([...acknowledged].filter((id) => !ids.has(id))).toEqual([])
    expect(ids.size).toBe(stored.length)
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1))
    for (const r of resumed) {
      const expected = stored.filter((e) => canSee(r.viewer, e)).map((e) => e.seq)
      await r.next.waitFor(() => r.before.length + r.next.events.length >= expected.length)
    }
    await new Promise((r) => setTimeout(r, 600))
    for (const r of resumed) {
      const expected = stored.filter((e) => canSee(r.viewer, e)).map((e) => e.seq)
      expect(r.before.length, r.name).toBeGreaterThan(0)
      expect([...r.before.map((e) => e.seq), ...r.next.seqs()], r.name).toEqual(expected)
    }
    // the killed process's viewer leaves presence on the others (not heard for three heartbeats)
    await until(() => `${officer.presenceOf('cl-green')}` === 'coord-a,janis', 'presence after the kill', 8_000)
  })
})

describe("two server processes on one PostgreSQL log: the other process's commits go out gathered", {
  timeout: 40_000,
}, () => {
  const schema = `wf_cg_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const servers: ServerProcess[] = []
  let watcher: Watcher | undefined

  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    // the longest allowed: what waits and what does not are far apart
    const env = { WATCHFLOOR_DATABASE_URL: databaseUrl, WATCHFLOOR_FANOUT_GATHER_MS: '1000' }
    servers.push(await startServerProcess({ env }))
    servers.push(await startServerProcess({ env }))
  }, 40_000)

  afterAll(async () => {
    watcher?.close()
    await Promise.all(servers.map((s) => s.stop()))
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await admin.end().catch(() => {})
  })

  it('commits heard within WATCHFLOOR_FANOUT_GATHER_MS of the last fan-out reach a socket in one message; its own process commits go out at once', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess]
    watcher = new Watcher(a.url, TOKENS.viewerEe)
    const messages: number[][] = []
    const arrivals: number[] = []
    watcher.socket.on('events', ({ events }) => {
      messages.push(events.map((e) => e.seq))
      arrivals.push(performance.now())
    })
    await watcher.subscribe(0)
    const observe = (count: number) =>
      event({ type: 'incident.observation', payload: { incidentId: 'cg-1', count } } as never)
    const sent = async (url: string, count: number) => {
      const reply = await post(url, TOKENS.sensorEe, { events: [observe(count)] })
      expect(reply.status).toBe(201)
      return reply.json.results![0]!.seq
    }

    // the first commit heard after a quiet spell goes out at once
    const first = await sent(b.url, 1)
    await until(() => messages.length >= 1, 'the first commit')
    // two more through the other process right after it: they wait out the gather time, together
    const second = await sent(b.url, 2)
    const third = await sent(b.url, 3)
    await until(() => messages.length >= 2, 'the gathered commits', 10_000)
    // a commit through the socket's own process, right after that fan-out, does not wait: waiting,
    // it would go out a gather time (1,000 ms) after that fan-out, which came before its message's
    // arrival; not waiting, it takes a POST and a commit (well under that even on a loaded machine)
    const fourth = await sent(a.url, 4)
    await until(() => messages.flat().includes(fourth), "the own process's commit", 10_000)
    expect(messages).toEqual([[first], [second, third], [fourth]])
    expect(arrivals[2]! - arrivals[1]!).toBeLessThan(900)
  })
})

import { randomUUID } from 'node:crypto'
import type {
  ClientToServerEvents,
  CommandAck,
  EventInput,
  ServerToClientEvents,
  StoredEvent,
} from '@watchfloor/protocol'
import pg from 'pg'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, getJson, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

/**
 * Idempotent commands: a command with a `commandId` sent again (its answer lost) is applied once
 * and answered as the first time; another caller's `commandId` tells nothing of the first.
 */

type Json = Record<string, unknown>
type Rest = { status: number; json: Json & { events?: StoredEvent[]; version?: number } }

async function rest(url: string, token: string, body: unknown): Promise<Rest> {
  const response = await fetch(`${url}/api/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  })
  return { status: response.status, json: (await response.json()) as Rest['json'] }
}

async function socketOf(url: string, token: string): Promise<Socket<ServerToClientEvents, ClientToServerEvents>> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
    transports: ['websocket'],
    auth: { token },
    reconnection: false,
    forceNew: true,
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  return socket
}

const command = (socket: Socket<ServerToClientEvents, ClientToServerEvents>, body: Json): Promise<CommandAck> =>
  socket.timeout(20_000).emitWithAck('command', body as never)

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

const incident = (incidentId: string, marking: EventInput['marking'] = { tlp: 'GREEN' }) =>
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

/** The log as `token` sees it. */
async function log(url: string, token: string): Promise<StoredEvent[]> {
  const { json } = await getJson<{ events: StoredEvent[] }>(`${url}/api/v1/events?after=0&limit=5000`, token)
  return json.events
}

const ofType = (events: StoredEvent[], type: string, incidentId?: string) =>
  events.filter(
    (e) =>
      e.type === type && (incidentId === undefined || (e.payload as { incidentId?: string }).incidentId === incidentId),
  )

describe('idempotent commands: one commandId, one action', () => {
  let server: ServerProcess
  const sockets: Socket[] = []
  const socket = async (token: string) => {
    const s = await socketOf(server.url, token)
    sockets.push(s)
    return s
  }

  beforeAll(async () => {
    server = await startServerProcess()
    const seeded = await post(server.url, TOKENS.sensorEe, {
      events: [
        network(),
        ...[
          'retry-rest',
          'retry-sock',
          'retry-mixed',
          'retry-ack',
          'retry-ack-late',
          'retry-race',
          'retry-far',
          'retry-reuse',
        ].map((id) => incident(id)),
        incident('retry-amber', { tlp: 'AMBER' }),
      ],
    })
    expect(seeded.status).toBe(201)
  })
  afterAll(async () => {
    for (const s of sockets) s.close()
    await server?.stop()
  })

  it('comment.post and task.create sent twice over REST with one commandId: one comment, one task, equal answers', async () => {
    const comment = { type: 'comment.post', incidentId: 'retry-rest', body: 'Hosts isolated', commandId: randomUUID() }
    const task = {
      type: 'task.create',
      incidentId: 'retry-rest',
      title: 'Collect the logs',
      expectedVersion: 1,
      commandId: randomUUID(),
    }
    const first = [await rest(server.url, TOKENS.coordEeA, comment), await rest(server.url, TOKENS.coordEeA, task)]
    const again = [await rest(server.url, TOKENS.coordEeA, comment), await rest(server.url, TOKENS.coordEeA, task)]
    expect(first.map((r) => r.status)).toEqual([200, 200])
    expect(again).toEqual(first)
    expect(first[1]!.json.version).toBe(1)

    const events = await log(server.url, TOKENS.coordEeA)
    expect(ofType(events, 'comment.posted', 'retry-rest')).toEqual(first[0]!.json.events)
    expect(ofType(events, 'task.created', 'retry-rest')).toEqual(first[1]!.json.events)

    // the same words under another commandId are another action: a second comment and task
    const second = [
      await rest(server.url, TOKENS.coordEeA, { ...comment, commandId: randomUUID() }),
      await rest(server.url, TOKENS.coordEeA, { ...task, commandId: randomUUID() }),
    ]
    expect(second.map((r) => r.status)).toEqual([200, 200])
    expect(second[0]!.json.events![0]!.id).not.toBe(first[0]!.json.events![0]!.id)
    const after = await log(server.url, TOKENS.coordEeA)
    expect(ofType(after, 'comment.posted', 'retry-rest')).toHaveLength(2)
    expect(ofType(after, 'task.created', 'retry-rest')).toHaveLength(2)
  })

  it('the same over the socket, and a REST command retried over the socket', async () => {
    const coord = await socket(TOKENS.coordEeA)
    const comment = { type: 'comment.post', incidentId: 'retry-sock', body: 'Seen it too', commandId: randomUUID() }
    const task = { type: 'task.create', incidentId: 'retry-sock', title: 'Call the ISP', commandId: randomUUID() }
    const first = [await command(coord, comment), await command(coord, task)]
    const again = [await command(coord, comment), await command(coord, task)]
    expect(first).toMatchObject([{ ok: true }, { ok: true }])
    expect(again).toEqual(first)

    const viaRest = { type: 'comment.post', incidentId: 'retry-mixed', body: 'Lost answer', commandId: randomUUID() }
    const answered = await rest(server.url, TOKENS.coordEeA, viaRest)
    expect(answered.status).toBe(200)
    expect(await command(coord, viaRest)).toEqual({ ok: true, ...answered.json })

    const events = await log(server.url, TOKENS.coordEeA)
    expect(ofType(events, 'comment.posted', 'retry-sock')).toHaveLength(1)
    expect(ofType(events, 'task.created', 'retry-sock')).toHaveLength(1)
    expect(ofType(events, 'comment.posted', 'retry-mixed')).toHaveLength(1)
  })

  it('sent twice at once, it is applied once; a bookmark too', async () => {
    const comment = { type: 'comment.post', incidentId: 'retry-race', body: 'Double click', commandId: randomUUID() }
    const coord = await socket(TOKENS.coordEeA)
    const [a, b] = await Promise.all([rest(server.url, TOKENS.coordEeA, comment), command(coord, comment)])
    expect(b).toEqual({ ok: true, ...a.json })
    expect(ofType(await log(server.url, TOKENS.coordEeA), 'comment.posted', 'retry-race')).toHaveLength(1)

    const bookmark = {
      type: 'bookmark.save',
      title: 'Retry bookmark',
      clock: 'recorded',
      at: new Date().toISOString(),
      commandId: randomUUID(),
    }
    const saved = await Promise.all([
      rest(server.url, TOKENS.coordEeA, bookmark),
      rest(server.url, TOKENS.coordEeA, bookmark),
    ])
    expect(saved[0]).toMatchObject({ status: 200, json: { version: 1 } })
    expect(saved[1]).toEqual(saved[0])
    const bookmarks = ofType(await log(server.url, TOKENS.coordEeA), 'bookmark.saved').filter(
      (e) => (e.payload as { title: string }).title === 'Retry bookmark',
    )
    expect(bookmarks).toHaveLength(1)
  })

  it('a retried acknowledge is answered as the first time, not refused as already acknowledged', async () => {
    const ack = { type: 'incident.acknowledge', incidentId: 'retry-ack', expectedVersion: 1, commandId: randomUUID() }
    const first = await rest(server.url, TOKENS.coordEeA, ack)
    expect(first).toMatchObject({ status: 200, json: { version: 2 } })
    expect(await rest(server.url, TOKENS.coordEeA, ack)).toEqual(first)
    // without the commandId it is another acknowledge: refused [C6]
    const { commandId: _, ...again } = ack
    expect(await rest(server.url, TOKENS.coordEeA, again)).toMatchObject({ status: 409 })
  })

  it('an acknowledge retried after many newer events is found in the log and answered as the first time', async () => {
    const ack = {
      type: 'incident.acknowledge',
      incidentId: 'retry-ack-late',
      expectedVersion: 1,
      commandId: randomUUID(),
    }
    const first = await rest(server.url, TOKENS.coordEeA, ack)
    expect(first).toMatchObject({ status: 200, json: { version: 2 } })
    const many = Array.from({ length: 250 }, (_, i) => incident(`retry-ack-filler-${i}`))
    expect((await post(server.url, TOKENS.sensorEe, { events: many })).status).toBe(201)
    expect(await rest(server.url, TOKENS.coordEeA, ack)).toEqual(first)
    expect(ofType(await log(server.url, TOKENS.coordEeA), 'incident.acknowledged', 'retry-ack-late')).toHaveLength(1)
  })

  it('found in the picture, not only among its recent events', async () => {
    const comment = { type: 'comment.post', incidentId: 'retry-far', body: 'Long ago', commandId: randomUUID() }
    const first = await rest(server.url, TOKENS.coordEeA, comment)
    expect(first.status).toBe(200)
    const many = Array.from({ length: 250 }, (_, i) => incident(`retry-filler-${i}`))
    expect((await post(server.url, TOKENS.sensorEe, { events: many })).status).toBe(201)
    expect(await rest(server.url, TOKENS.coordEeA, comment)).toEqual(first)
    expect(ofType(await log(server.url, TOKENS.coordEeA), 'comment.posted', 'retry-far')).toHaveLength(1)
  })

  it('a retry the picture no longer lists among its recent events is caught by the log: not applied again', async () => {
    const created = await rest(server.url, TOKENS.coordEeA, {
      type: 'task.create',
      incidentId: 'retry-far',
      title: 'Hand over',
    })
    const taskId = (created.json.events![0]!.payload as { taskId: string }).taskId
    const toMart = { type: 'task.assign', taskId, assignee: { kind: 'user', userId: 'mart' }, commandId: randomUUID() }
    const first = await rest(server.url, TOKENS.coordEeA, toMart)
    expect(first).toMatchObject({ status: 200, json: { version: 2 } })
    const many = Array.from({ length: 250 }, (_, i) => incident(`retry-later-${i}`))
    expect((await post(server.url, TOKENS.sensorEe, { events: many })).status).toBe(201)
    const toKadri = { type: 'task.assign', taskId, assignee: { kind: 'user', userId: 'kadri' } }
    expect((await rest(server.url, TOKENS.coordEeA, toKadri)).status).toBe(200)
    // the first assignment's answer came late: sent again, it is not assigned back to mart
    expect(await rest(server.url, TOKENS.coordEeA, toMart)).toEqual({
      status: 200,
      json: { ...first.json, version: 3 },
    })
    const assigned = ofType(await log(server.url, TOKENS.coordEeA), 'task.assigned').filter(
      (e) => (e.payload as { taskId: string }).taskId === taskId,
    )
    expect(assigned.map((e) => (e.payload as { assignee: { userId: string } }).assignee.userId)).toEqual([
      'mart',
      'kadri',
    ])
  })

  it('a commandId used for something else is refused, and nothing is appended', async () => {
    const commandId = randomUUID()
    const first = await rest(server.url, TOKENS.coordEeA, {
      type: 'comment.post',
      incidentId: 'retry-reuse',
      body: 'First words',
      commandId,
    })
    expect(first.status).toBe(200)
    const other = await rest(server.url, TOKENS.coordEeA, {
      type: 'comment.post',
      incidentId: 'retry-reuse',
      body: 'Other words',
      commandId,
    })
    expect(other).toMatchObject({
      status: 400,
      json: { error: { code: 'validation', details: { issues: [{ path: 'commandId' }] } } },
    })
    const bodies = ofType(await log(server.url, TOKENS.coordEeA), 'comment.posted', 'retry-reuse').map(
      (e) => (e.payload as { body: string }).body,
    )
    expect(bodies.filter((b) => b === 'Other words')).toEqual([])
  })

  it("another caller reusing the commandId learns nothing of the first: its own new comment, or the unseen's 404", async () => {
    const commandId = randomUUID()
    const body = { type: 'comment.post', incidentId: 'retry-amber', body: 'Internal note', commandId }
    const first = await rest(server.url, TOKENS.coordEeA, body)
    expect(first.status).toBe(200)
    const [mine] = first.json.events!
    const secret = [mine!.id, (mine!.payload as { commentId: string }).commentId]

    // a colleague who sees the incident: a new comment of its own, nothing of the first in the answer
    const colleague = await rest(server.url, TOKENS.coordEeB, body)
    expect(colleague.status).toBe(200)
    expect(colleague.json.events).toHaveLength(1)
    const theirs = colleague.json.events![0]!
    expect(theirs.actor).toEqual({ user: 'coord-b', organisation: 'cert-ee' })
    expect(theirs.seq).not.toBe(mine!.seq)
    for (const id of secret) expect(JSON.stringify(colleague.json)).not.toContain(id)
    const viaSocket = await command(await socket(TOKENS.coordEeB), body)
    expect(viaSocket).toEqual({ ok: true, ...colleague.json }) // its own retry, answered as its own first time
    expect(ofType(await log(server.url, TOKENS.coordEeA), 'comment.posted', 'retry-amber')).toHaveLength(2)

    // someone who may not see the incident: exactly the answer of a commandId never used
    const outsider = await rest(server.url, TOKENS.viewerLv, body)
    const fresh = await rest(server.url, TOKENS.viewerLv, { ...body, commandId: randomUUID() })
    expect(outsider).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } })
    expect(outsider).toEqual(fresh)
    const outsiderSocket = await command(await socket(TOKENS.viewerLv), body)
    expect(outsiderSocket).toEqual({ ok: false, ...fresh.json })
  })

  it('a commandId must be a UUID', async () => {
    const invalid = await rest(server.url, TOKENS.coordEeA, {
      type: 'comment.post',
      incidentId: 'retry-reuse',
      body: 'x',
      commandId: 'again',
    })
    expect(invalid).toMatchObject({
      status: 400,
      json: { error: { code: 'validation', details: { issues: [{ path: 'commandId' }] } } },
    })
  })
})

describe('idempotent commands on two server processes sharing one PostgreSQL log', () => {
  const schema = `wf_retry_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const servers: ServerProcess[] = []
  afterAll(async () => {
    for (const s of servers) await s.stop()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await admin.end().catch(() => {})
  })

  it('a command retried on the other process, or sent to both at once, is applied once', async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const databaseUrl = `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`
    for (let i = 0; i < 2; i++)
      servers.push(await startServerProcess({ env: { WATCHFLOOR_DATABASE_URL: databaseUrl } }))
    const [a, b] = servers as [ServerProcess, ServerProcess]
    expect((await post(a.url, TOKENS.sensorEe, { events: [network(), incident('pg-retry')] })).status).toBe(201)

    const task = { type: 'task.create', incidentId: 'pg-retry', title: 'Contain', commandId: randomUUID() }
    const first = await rest(a.url, TOKENS.coordEeA, task)
    expect(first.status).toBe(200)
    expect(await rest(b.url, TOKENS.coordEeA, task)).toEqual(first)

    for (let round = 0; round < 5; round++) {
      const comment = { type: 'comment.post', incidentId: 'pg-retry', body: `Round ${round}`, commandId: randomUUID() }
      const [x, y] = await Promise.all([rest(a.url, TOKENS.coordEeA, comment), rest(b.url, TOKENS.coordEeA, comment)])
      expect(x.status).toBe(200)
      expect(y).toEqual(x)
    }
    const events = await log(a.url, TOKENS.coordEeA)
    expect(ofType(events, 'task.created', 'pg-retry')).toHaveLength(1)
    expect(ofType(events, 'comment.posted', 'pg-retry')).toHaveLength(5)
  })
})

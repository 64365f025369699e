/**
 * The console's open sequence against the real server (no mock of it): the snapshot and the recent
 * window read over REST, the socket subscribed after the snapshot's seq, older history read on
 * demand, and the same viewer on both (token, view-as).
 */
import {
  defaultLiveSince,
  fold,
  initialState,
  type LiveStateJson,
  livePicture,
  type StateJson,
  stateToJson,
} from '@watchfloor/core'
import { type EventPageReply, PROTOCOL_VERSION, type StoredEvent } from '@watchfloor/protocol'
import { io } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, post, type ServerProcess, startServerProcess, TOKENS } from '../../../server/test/harness.ts'
import { type Connection, createConnection, handshakeAuth, type WatchfloorSocket } from './connection.ts'
import type { Retention } from './retention.ts'
import { createWatchfloorStore } from './store.ts'

let server: ServerProcess
const connections: Connection[] = []

async function get<T>(path: string, token: string, viewAs?: string): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, ...(viewAs ? { 'x-watchfloor-view-as': viewAs } : {}) },
  })
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

/** Every event the viewer may see, through the public API. */
async function visibleEvents(token: string, viewAs?: string): Promise<StoredEvent[]> {
  const all: StoredEvent[] = []
  let after = 0
  for (;;) {
    const page = await get<EventPageReply>(`/api/v1/events?after=${after}&limit=5000`, token, viewAs)
    all.push(...page.events)
    if (page.next >= page.head || page.next <= after) return all
    after = page.next
  }
}

function open(token: string, options: { viewAs?: string; retention?: Retention; protocolVersion?: number } = {}) {
  const store = createWatchfloorStore()
  if (options.retention) store.getState().setRetention(options.retention)
  const connection = createConnection({
    store,
    batchMs: 0,
    baseUrl: server.url,
    fetchFn: (...args) => fetch(...args),
    socketFactory: (t, viewAs) =>
      io(server.url, {
        transports: ['websocket'],
        forceNew: true,
        // a console of another release: the handshake as this one makes it, but another protocol version
        auth: {
          ...handshakeAuth(t, viewAs),
          ...(options.protocolVersion ? { protocolVersion: options.protocolVersion } : {}),
        },
      }) as WatchfloorSocket,
  })
  connections.push(connection)
  connection.connect(token, options.viewAs)
  return { store, connection }
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The live picture the server sends (`scope=live`), without what it says it left out. */
async function servedLive(token: string, viewAs?: string, include: string[] = []): Promise<StateJson> {
  const query = include.map((id) => `&include=${encodeURIComponent(id)}`).join('')
  const { omitted: _, ...picture } = await get<LiveStateJson>(`/api/v1/state?scope=live${query}`, token, viewAs)
  return picture
}

/** Core's live cut of the fold of `visible` (the default since: 7 days before its newest event). */
function liveOf(visible: StoredEvent[], include: string[] = []): StateJson {
  const whole = fold(initialState, visible)
  return stateToJson(livePicture(whole, { sinceMs: defaultLiveSince(whole, Date.now()), include }).state)
}

const network = (networkId: string, organisation: string, nation: string) =>
  event({
    type: 'network.registered',
    source: { organisation },
    payload: { networkId, name: networkId, organisation, nation, kind: 'government', location: { lat: 59, lon: 24 } },
  } as never)
const report = (incidentId: string, organisation = 'cert-ee', tlp = 'GREEN') =>
  event({
    type: 'incident.reported',
    source: { organisation },
    marking: { tlp } as never,
    payload: { incidentId, title: incidentId, severity: 'high', category: 'malware', affectedNetworks: [] },
  } as never)
const observe = (incidentId: string, n: number, organisation = 'cert-ee') =>
  Array.from({ length: n }, (_, i) =>
    event({ type: 'incident.observation', source: { organisation }, payload: { incidentId, count: i + 1 } } as never),
  )

/** When the second part of the log was recorded (everything before it is "older history"). */
let secondPartFrom = 0

beforeAll(async () => {
  server = await startServerProcess()
  // part one: networks, incidents of two organisations (cert-lv's AMBER is not cert-ee's to see), observations
  const first = [
    network('ee-gov', 'cert-ee', 'EE'),
    network('lv-gov', 'cert-lv', 'LV'),
    report('inc-ee-1'),
    report('inc-ee-2'),
    report('inc-lv-amber', 'cert-lv', 'AMBER'),
    report('inc-ee-amber', 'cert-ee', 'AMBER'),
    ...observe('inc-ee-1', 400),
  ]
  const ee = first.filter((e) => e.source.organisation === 'cert-ee')
  expect((await post(server.url, TOKENS.sensorEe, { events: ee })).status).toBe(201)
  expect(
    (await post(server.url, TOKENS.sensorLv, { events: first.filter((e) => e.source.organisation === 'cert-lv') }))
      .status,
  ).toBe(201)
  await sleep(1500)
  secondPartFrom = Date.now()
  // part two, a second and a half later
  const second = [
    report('inc-ee-3'),
    event({ type: 'incident.updated', payload: { incidentId: 'inc-ee-2', status: 'closed' } } as never),
    ...observe('inc-ee-3', 300),
  ]
  expect((await post(server.url, TOKENS.sensorEe, { events: second })).status).toBe(201)
})

afterAll(async () => {
  for (const connection of connections) connection.disconnect()
  await server?.stop()
})

describe('opening a console on a real server', () => {
  it('opens from the snapshot at N (the viewer’s head), equal to the fold of what it may see, and subscribes after N', async () => {
    const { store } = open(TOKENS.viewerEe)
    await until(() => store.getState().status === 'live', 'live')
    const served = await servedLive(TOKENS.viewerEe)
    const visible = await visibleEvents(TOKENS.viewerEe)
    const s = store.getState()
    expect(s.opened?.seq).toBe(served.seq)
    expect(served.seq).toBeGreaterThan(0)
    expect(s.subscribedAfter).toBe(served.seq)
    expect(stateToJson(s.state)).toEqual(served)
    expect(stateToJson(s.state)).toEqual(liveOf(visible))
    expect(s.state.incidents.has('inc-lv-amber')).toBe(false)
    // the live picture: inc-ee-2, closed weeks ago (occurredAt), is left out and counted
    expect(s.state.incidents.has('inc-ee-2')).toBe(false)
    expect(s.omitted).toMatchObject({ incidents: 1, advisories: 0 })
    // everything is recent here: the window holds every visible event
    expect(s.window.map((e) => e.seq)).toEqual(visible.map((e) => e.seq))

    // live from N on
    const live = report('inc-ee-live')
    expect((await post(server.url, TOKENS.sensorEe, { events: [live] })).status).toBe(201)
    await until(() => store.getState().state.incidents.has('inc-ee-live'), 'the live event')
    expect(store.getState().window.at(-1)?.id).toBe(live.id)
  })

  it('with a short opening span reads only the recent part, and reads the older part when asked', async () => {
    const { store, connection } = open(TOKENS.viewerEe, {
      retention: { hours: Number.POSITIVE_INFINITY, maxEvents: 200_000, openHours: 0.5 / 3600 },
    })
    await until(() => store.getState().status === 'live', 'live')
    const visible = await visibleEvents(TOKENS.viewerEe)
    let s = store.getState()
    expect(stateToJson(s.state)).toEqual(liveOf(visible))
    const loadedFrom = s.loaded[0]!.from
    expect(loadedFrom).toBeGreaterThan(secondPartFrom - 1000)
    expect(s.window.length).toBeLessThan(visible.length)
    expect(s.window.some((e) => e.payload && (e.payload as { incidentId?: string }).incidentId === 'inc-ee-1')).toBe(
      false,
    )
    // the timeline moves back before the loaded window: the older part is read and added
    await connection.loadHistory({ from: loadedFrom - 60_000, to: loadedFrom })
    s = store.getState()
    expect(s.window.map((e) => e.seq)).toEqual(visible.map((e) => e.seq))
    expect(s.loaded).toEqual([{ from: loadedFrom - 60_000, to: Number.POSITIVE_INFINITY }])
    expect(s.historyError).toBeNull()
  })

  it('caps what it reads at open (openMaxEvents), the picture whole all the same', async () => {
    const { store } = open(TOKENS.viewerEe, {
      retention: { hours: Number.POSITIVE_INFINITY, maxEvents: 200_000, openMaxEvents: 100 },
    })
    await until(() => store.getState().status === 'live', 'live')
    const served = await servedLive(TOKENS.viewerEe)
    const s = store.getState()
    expect(stateToJson(s.state)).toEqual(served)
    expect(s.window.length).toBeLessThanOrEqual(100)
    expect(s.window.at(-1)?.seq).toBe(served.seq)
  })

  it('views as another audience on both the socket and the reads', async () => {
    const viewAs = 'organisation:cert-lv'
    const { store } = open(TOKENS.coordEeA, { viewAs })
    await until(() => store.getState().status === 'live', 'live')
    const served = await servedLive(TOKENS.coordEeA, viewAs)
    const own = await get<StateJson>('/api/v1/state', TOKENS.coordEeA)
    const s = store.getState()
    expect(stateToJson(s.state)).toEqual(served)
    expect(s.opened?.seq).toBe(served.seq)
    expect(s.subscribedAfter).toBe(served.seq)
    expect(s.window.map((e) => e.seq)).toEqual((await visibleEvents(TOKENS.coordEeA, viewAs)).map((e) => e.seq))
    // what cert-lv receives from a coordinator of cert-ee is not the coordinator's own picture
    expect(own.incidents.some((i) => i.incidentId === 'inc-ee-amber')).toBe(true)
    expect(s.state.incidents.has('inc-ee-amber')).toBe(false)
    expect(s.state.incidents.has('inc-lv-amber')).toBe(false)
  })

  it('a live event about an incident the live picture left out brings it in, and the picture agrees with the server', async () => {
    const { store } = open(TOKENS.viewerEe)
    await until(() => store.getState().status === 'live', 'live')
    expect(store.getState().state.incidents.has('inc-ee-2')).toBe(false)
    // inc-ee-2, closed and left out, is reopened; observations of a held incident before and after it
    const reopened = event({
      type: 'incident.updated',
      payload: { incidentId: 'inc-ee-2', status: 'triaged', severity: 'critical' },
    } as never)
    const batch = [...observe('inc-ee-3', 3), reopened, ...observe('inc-ee-3', 3)]
    expect((await post(server.url, TOKENS.sensorEe, { events: batch })).status).toBe(201)
    await until(() => store.getState().state.incidents.get('inc-ee-2')?.status === 'triaged', 'the reopened incident')
    await until(() => store.getState().window.at(-1)?.id === batch.at(-1)!.id, 'the last event')
    const visible = await visibleEvents(TOKENS.viewerEe)
    const s = store.getState()
    // the picture is the server's live picture with inc-ee-2 asked for, and core's cut of every visible event
    expect(stateToJson(s.state)).toEqual(await servedLive(TOKENS.viewerEe, undefined, ['inc-ee-2']))
    expect(stateToJson(s.state)).toEqual(liveOf(visible, ['inc-ee-2']))
    expect(s.state.incidents.get('inc-ee-3')!.observationReports).toBe(
      visible.filter((e) => e.type === 'incident.observation' && e.payload.incidentId === 'inc-ee-3').length,
    )
    // nothing lost or doubled in the window, which kept taking events meanwhile
    expect(s.window.map((e) => e.seq)).toEqual(visible.map((e) => e.seq))
    expect(s.omitted).toMatchObject({ incidents: 0 })
  })

  it('opening an incident the live picture left out (want) brings it in', async () => {
    const closed = [
      report('inc-ee-old'),
      event({ type: 'incident.updated', payload: { incidentId: 'inc-ee-old', status: 'closed' } } as never),
    ]
    expect((await post(server.url, TOKENS.sensorEe, { events: closed })).status).toBe(201)
    const { store, connection } = open(TOKENS.viewerEe)
    await until(() => store.getState().status === 'live', 'live')
    expect(store.getState().state.incidents.has('inc-ee-old')).toBe(false)
    connection.want('inc-ee-old')
    await until(() => store.getState().state.incidents.has('inc-ee-old'), 'the incident asked for')
    expect(store.getState().state.incidents.get('inc-ee-old')!.status).toBe('closed')
    // something it never left out (or may not see) asks nothing
    const reads = store.getState().liveState
    connection.want('inc-lv-amber')
    connection.want('inc-ee-3')
    await sleep(300)
    expect(store.getState().liveState).toBe(reads)
    // everything closed, asked for: the whole picture, nothing left out
    connection.wantEverything()
    await until(() => store.getState().omitted?.incidents === 0, 'the whole picture')
    expect(stateToJson(store.getState().state)).toEqual(await get<StateJson>('/api/v1/state', TOKENS.viewerEe))
  })

  it('a console of another protocol version is refused and asks for a reload, without retrying', async () => {
    const other = PROTOCOL_VERSION + 1
    const { store } = open(TOKENS.viewerEe, { protocolVersion: other })
    await until(() => store.getState().status === 'outdated', 'outdated')
    expect(store.getState().error).toBe(
      `This console is out of date: it speaks protocol version ${other} and the server ${PROTOCOL_VERSION}. Reload the page to load the server's console.`,
    )
    await sleep(2_500) // longer than the connection's retry delay (2 s): still refused, not reconnecting
    expect(store.getState().status).toBe('outdated')
  })
})

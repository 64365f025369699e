import { fold, initialState, makeEvent, stateToJson } from '@watchfloor/core'
import { PROTOCOL_VERSION, type StoredEvent } from '@watchfloor/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type Ack, FakeSocket, fakeServer } from './connection.test-helpers.ts'
import {
  createConnection,
  handshakeAuth,
  livePath,
  outdatedMessage,
  type SocketFactory,
  type WatchfloorSocket,
} from './connection.ts'
import type { Retention } from './retention.ts'
import { createWatchfloorStore } from './store.ts'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 10, 26, 0, 0, 0)

/** An event recorded (and occurred) `minutes` after T0. */
function at<E extends StoredEvent>(event: E, minutes: number): E {
  const time = new Date(T0 + minutes * 60_000).toISOString()
  return { ...event, occurredAt: time, recordedAt: time }
}

const reported = (seq: number, minutes = seq) =>
  at(
    makeEvent(seq, 'incident.reported', {
      incidentId: `i${seq}`,
      title: `t${seq}`,
      severity: 'high',
      category: 'c',
      affectedNetworks: [],
    }),
    minutes,
  )

const observed = (seq: number, incidentId: string, minutes = seq) =>
  at(makeEvent(seq, 'incident.observation', { incidentId }), minutes)

function setup(
  options: {
    log?: StoredEvent[]
    batchMs?: number
    retention?: Retention
    historyMaxEvents?: number
    watchdog?: boolean
    watchdogEveryMs?: number
  } = {},
) {
  const store = createWatchfloorStore()
  if (options.retention) store.getState().setRetention(options.retention)
  const server = fakeServer(options.log ?? [])
  const sockets: FakeSocket[] = []
  const asked: [string | null, string | null | undefined][] = []
  const onUnauthenticated = vi.fn()
  const socketFactory: SocketFactory = (token, viewAs) => {
    asked.push([token, viewAs])
    const socket = new FakeSocket()
    sockets.push(socket)
    return socket as unknown as WatchfloorSocket
  }
  const connection = createConnection({
    store,
    batchMs: options.batchMs ?? 0,
    onUnauthenticated,
    socketFactory,
    fetchFn: server.fetchFn,
    retryMs: 1000,
    ...(options.historyMaxEvents ? { historyMaxEvents: options.historyMaxEvents } : {}),
    ...(options.watchdog ? { watchdog: true, watchdogEveryMs: options.watchdogEveryMs ?? 5_000 } : {}),
  })
  return { store, sockets, connection, onUnauthenticated, server, asked }
}

/** Wait until the socket has sent `n` subscribes (the open runs its reads first). */
async function subscribed(socket: FakeSocket, n = 1): Promise<void> {
  await vi.waitFor(() => expect(socket.subscribes.length).toBeGreaterThanOrEqual(n))
}

/** Let pending reads finish under fake timers without moving the clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(0)
}

afterEach(() => {
  vi.useRealTimers()
})

describe('connection: opening from the snapshot', () => {
  it('reads the snapshot at N and the recent window up to N, then subscribes after N; the picture equals the fold', async () => {
    // 10 hours of history, one event a minute, the last one at 600 min
    const log: StoredEvent[] = []
    for (let seq = 1; seq <= 600; seq++) log.push(seq % 50 === 1 ? reported(seq) : observed(seq, 'i1'))
    const { store, sockets, connection, server } = setup({ log })
    connection.connect('tok')
    expect(store.getState().status).toBe('connecting')
    const socket = sockets[0]!
    socket.fire('connect')
    expect(store.getState().opening).toMatchObject({ step: 'picture' })
    await subscribed(socket)
    // the snapshot, then the recorded window of the last 6 hours (before the newest event recorded)
    expect(server.calls.map((c) => c.path)).toEqual(['/api/v1/state', '/api/v1/events'])
    const events = server.calls[1]!.params
    expect(events.get('clock')).toBe('recorded')
    expect(events.get('from')).toBe(new Date(T0 + 600 * 60_000 - 6 * HOUR).toISOString())
    expect(events.get('after')).toBe('0')
    expect(socket.subscribes.map((s) => s.after)).toEqual([600])
    const s = store.getState()
    expect(stateToJson(s.state)).toEqual(stateToJson(fold(initialState, log)))
    expect(s.lastSeq).toBe(600)
    expect(s.subscribedAfter).toBe(600)
    expect(s.opened).toEqual({ seq: 600, events: 361, from: T0 + 240 * 60_000 })
    // only the recent window is in memory, not the history
    expect(s.window.map((e) => e.seq)).toEqual(log.slice(239).map((e) => e.seq))
    expect(s.loaded).toEqual([{ from: T0 + 240 * 60_000, to: Number.POSITIVE_INFINITY }])
    expect(s.activityFrom).toBe(T0 + 240 * 60_000)
    expect(s.opening).toBeNull()
    expect(s.status).toBe('connecting') // not live before the subscribe is acknowledged
    socket.lastAck()(null, { ok: true, head: 600 })
    expect(store.getState().status).toBe('live')
    // live events continue the picture exactly
    socket.fire('events', { events: [observed(601, 'i1', 601)] })
    expect(store.getState().state.seq).toBe(601)
    expect(store.getState().window.at(-1)?.seq).toBe(601)
  })

  it('reads the recent window in pages, shows progress, and keeps nothing beyond N (it comes on the socket)', async () => {
    const log: StoredEvent[] = []
    for (let seq = 1; seq <= 12_000; seq++) log.push(seq === 1 ? reported(1, 0) : observed(seq, 'i1', seq / 100))
    const { store, sockets, connection, server } = setup({ log })
    const progress: number[] = []
    store.subscribe((s) => {
      if (s.opening?.step === 'events') progress.push(s.opening.received)
    })
    // an event is appended between the snapshot and the pages: the pages hold it, the picture does not
    server.onCall = (call) => {
      if (call.path === '/api/v1/events' && log.length === 12_000) log.push(observed(12_001, 'i1', 121))
    }
    connection.connect('tok')
    sockets[0]!.fire('connect')
    await subscribed(sockets[0]!)
    expect(server.calls.filter((c) => c.path === '/api/v1/events')).toHaveLength(3)
    expect(progress).toEqual([0, 5000, 10_000, 12_000])
    expect(store.getState().lastSeq).toBe(12_000)
    expect(store.getState().window.at(-1)?.seq).toBe(12_000)
    expect(sockets[0]!.subscribes[0]!.after).toBe(12_000)
  })

  it('reads at most the newest openMaxEvents seqs: complete from just after the first one read', async () => {
    const log: StoredEvent[] = []
    for (let seq = 1; seq <= 1000; seq++) log.push(seq === 1 ? reported(1, 0) : observed(seq, 'i1', seq / 10))
    const { store, sockets, connection, server } = setup({
      log,
      retention: { hours: Number.POSITIVE_INFINITY, maxEvents: 200_000, openMaxEvents: 100 },
    })
    connection.connect('tok')
    sockets[0]!.fire('connect')
    await subscribed(sockets[0]!)
    expect(server.calls[1]!.params.get('after')).toBe('900')
    const s = store.getState()
    expect(s.window.map((e) => e.seq)).toEqual(log.slice(900).map((e) => e.seq))
    expect(s.loaded[0]!.from).toBe(Date.parse(log[900]!.recordedAt) + 1)
    expect(s.state.incidents.get('i1')?.observationCount).toBe(999) // the picture is whole all the same
  })

  it('reads as the socket’s viewer: the same token and the same X-Watchfloor-View-As; a cookie sends no Authorization', async () => {
    const log = [reported(1)]
    const { sockets, connection, server, asked } = setup({ log })
    connection.connect('tok', 'organisation:cert-lv')
    sockets[0]!.fire('connect')
    await subscribed(sockets[0]!)
    expect(asked).toEqual([['tok', 'organisation:cert-lv']])
    for (const call of server.calls) {
      expect(call.headers.Authorization).toBe('Bearer tok')
      expect(call.headers['X-Watchfloor-View-As']).toBe('organisation:cert-lv')
    }

    connection.connect(null)
    sockets[1]!.fire('connect')
    await subscribed(sockets[1]!)
    const cookie = server.calls.slice(2)
    expect(cookie.length).toBeGreaterThan(0)
    for (const call of cookie) {
      expect(call.headers.Authorization).toBeUndefined()
      expect(call.headers['X-Watchfloor-View-As']).toBeUndefined()
    }
  })

  it('an empty log opens at 0 and subscribes from 0', async () => {
    const { store, sockets, connection, server } = setup({ log: [] })
    connection.connect('tok')
    sockets[0]!.fire('connect')
    await subscribed(sockets[0]!)
    expect(server.calls.map((c) => c.path)).toEqual(['/api/v1/state'])
    expect(sockets[0]!.subscribes[0]!.after).toBe(0)
    sockets[0]!.fire('events', { events: [reported(1)] })
    sockets[0]!.lastAck()(null, { ok: true, head: 1 })
    expect(store.getState()).toMatchObject({ status: 'live', lastSeq: 1 })
  })

  it('shows a failed read and tries again with back-off, the status still connecting; then opens', async () => {
    vi.useFakeTimers()
    const { store, sockets, connection, server } = setup({ log: [reported(1), reported(2)] })
    server.failures.push({ status: 503, code: 'unavailable', message: 'the event store is not reachable' })
    server.failures.push({ status: 503, code: 'unavailable', message: 'the event store is not reachable' })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await settle()
    expect(store.getState().error).toMatch(/503: the event store is not reachable; retrying in 1 s/)
    expect(store.getState().status).toBe('connecting')
    expect(socket.subscribes).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1000)
    await settle()
    expect(store.getState().error).toMatch(/retrying in 2 s/)
    expect(server.calls).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1999)
    expect(server.calls).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    await settle()
    expect(socket.subscribes[0]!.after).toBe(2)
    socket.lastAck()(null, { ok: true, head: 2 })
    expect(store.getState()).toMatchObject({ status: 'live', error: null })
  })

  it('signs out when a read says the credential is not accepted', async () => {
    const { store, sockets, connection, server, onUnauthenticated } = setup({ log: [reported(1)] })
    server.failures.push({ status: 401, code: 'unauthenticated', message: 'token revoked' })
    connection.connect('tok')
    sockets[0]!.fire('connect')
    await vi.waitFor(() => expect(store.getState().status).toBe('signed-out'))
    expect(store.getState().error).toMatch(/token revoked/)
    expect(onUnauthenticated).toHaveBeenCalledWith('token revoked')
    expect(sockets[0]!.disconnected).toBe(true)
    expect(sockets[0]!.subscribes).toHaveLength(0)
  })

  it('a reconnect with a picture resumes from its cursor: no reads', async () => {
    const { store, sockets, connection, server } = setup({ log: [reported(1), reported(2)] })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    socket.lastAck()(null, { ok: true, head: 2 })
    socket.fire('events', { events: [reported(3)] })
    const reads = server.calls.length
    socket.fire('disconnect', 'transport close')
    socket.fire('connect')
    expect(socket.subscribes.map((s) => s.after)).toEqual([2, 3])
    expect(server.calls).toHaveLength(reads)
    connection.reconnect()
    socket.fire('connect')
    expect(socket.subscribes.at(-1)?.after).toBe(3)
    expect(server.calls).toHaveLength(reads)
    expect(store.getState().state.eventCount).toBe(3)
  })

  it('a reconnect while the picture is being read subscribes once the reads are done', async () => {
    const { store, sockets, connection, server } = setup({ log: [reported(1), reported(2)] })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    socket.fire('disconnect', 'transport close')
    socket.fire('connect')
    await subscribed(socket)
    expect(socket.subscribes.map((s) => s.after)).toEqual([2])
    expect(server.calls.filter((c) => c.path === '/api/v1/state')).toHaveLength(1)
    expect(store.getState().lastSeq).toBe(2)
  })

  it('a new viewer while the picture is read: the old reads are dropped, the new viewer opens its own', async () => {
    const { store, sockets, connection, server } = setup({ log: [reported(1), reported(2)] })
    connection.connect('tok')
    sockets[0]!.fire('connect')
    connection.connect('tok', 'organisation:cert-lv')
    sockets[1]!.fire('connect')
    await subscribed(sockets[1]!)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(sockets[0]!.subscribes).toHaveLength(0)
    expect(server.calls.at(-1)?.headers['X-Watchfloor-View-As']).toBe('organisation:cert-lv')
    expect(store.getState().opened?.seq).toBe(2)
  })
})

describe('connection', () => {
  it('folds the events of one batching window in one store update; a checkpoint waits for them', async () => {
    vi.useFakeTimers()
    const { store, sockets, connection } = setup({ batchMs: 100 })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    const updates = vi.fn()
    store.subscribe(updates)
    socket.fire('events', { events: [reported(1)] })
    socket.fire('events', { events: [reported(2), reported(3)] })
    expect(store.getState().lastSeq).toBe(0)
    vi.advanceTimersByTime(100)
    expect(store.getState().lastSeq).toBe(3)
    expect(updates).toHaveBeenCalledOnce()
    socket.fire('events', { events: [reported(4)] })
    socket.fire('checkpoint', { seq: 6 }) // folds seq 4 first, then moves the cursor
    expect(store.getState().state.seq).toBe(4)
    expect(store.getState().lastSeq).toBe(6)
    socket.fire('events', { events: [reported(7)] })
    socket.fire('disconnect', 'transport close')
    socket.fire('connect') // resubscribes from what really arrived
    expect(socket.subscribes.at(-1)?.after).toBe(7)
  })

  it('goes live on ack and folds batches; checkpoints and heartbeats move the cursor', async () => {
    const { store, sockets, connection } = setup()
    connection.connect('tok')
    expect(store.getState().status).toBe('connecting')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    expect(socket.subscribes.map((s) => s.after)).toEqual([0])
    socket.fire('events', { events: [reported(1), reported(2)] })
    socket.lastAck()(null, { ok: true, head: 7 })
    expect(store.getState().status).toBe('live')
    expect(store.getState().headSeq).toBe(7)
    expect(store.getState().lastSeq).toBe(2)
    socket.fire('checkpoint', { seq: 5 })
    expect(store.getState().lastSeq).toBe(5)
    socket.fire('heartbeat', { seq: 9, serverTime: new Date().toISOString() })
    expect(store.getState().lastSeq).toBe(9)
    expect(store.getState().headSeq).toBe(9)
  })

  it('resubscribes from the last seq on reconnect and on a slow-consumer resync, never folding twice', async () => {
    const { store, sockets, connection } = setup({ log: [reported(1)] })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    socket.lastAck()(null, { ok: true, head: 3 })
    socket.fire('events', { events: [reported(3)] })
    socket.fire('disconnect', 'transport close')
    expect(store.getState().status).toBe('reconnecting')
    socket.fire('connect')
    expect(socket.subscribes.at(-1)?.after).toBe(3)
    expect(store.getState().status).toBe('reconnecting')
    socket.fire('events', { events: [reported(3), reported(4)] })
    socket.lastAck()(null, { ok: true, head: 4 })
    expect(store.getState().status).toBe('live')
    expect(store.getState().state.eventCount).toBe(3)

    socket.fire('resync', { after: 4, reason: 'slow_consumer' })
    expect(store.getState().status).toBe('resyncing')
    expect(socket.subscribes.at(-1)?.after).toBe(4)
    socket.lastAck()(null, { ok: true, head: 10 })
    expect(store.getState().status).toBe('live')
  })

  it('on resync access_changed drops the picture (it may hold what the viewer may no longer see) and opens it again from the snapshot', async () => {
    const { store, sockets, connection, server } = setup({ log: [reported(1), reported(3)] })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    socket.lastAck()(null, { ok: true, head: 3 })
    expect(store.getState().state.eventCount).toBe(2)

    // the server's projection for the viewer now holds only seq 3
    server.log.splice(0, 1)
    socket.fire('resync', { after: 0, reason: 'access_changed' })
    expect(store.getState().status).toBe('resyncing')
    expect(store.getState().state.eventCount).toBe(0)
    expect(store.getState().window).toEqual([])
    await subscribed(socket, 2)
    expect(server.calls.filter((c) => c.path === '/api/v1/state')).toHaveLength(2)
    expect(socket.subscribes.at(-1)?.after).toBe(3)
    expect(store.getState().state.eventCount).toBe(1)
    socket.lastAck()(null, { ok: true, head: 3 })
    expect(store.getState().status).toBe('live')
  })

  it('a subscribe with no ack in time is asked again from where events got to, each wait twice the one before; the picture stays', async () => {
    const { store, sockets, connection, server } = setup({ log: [reported(1), reported(2)] })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    socket.lastAck()(null, { ok: true, head: 2 })
    const reads = server.calls.length
    socket.fire('disconnect', 'transport close')
    socket.fire('connect')
    expect(socket.subscribes.at(-1)?.after).toBe(2)
    // a long catch-up: an event comes, the ack does not
    socket.fire('events', { events: [reported(3)] })
    socket.lastAck()(new Error('operation has timed out'), undefined as never)
    expect(socket.subscribes.at(-1)?.after).toBe(3)
    // nothing comes in time now either: asked again, waiting longer, the picture kept
    socket.lastAck()(new Error('operation has timed out'), undefined as never)
    expect(socket.subscribes.at(-1)?.after).toBe(3)
    expect(socket.timeouts.slice(-3)).toEqual([30_000, 60_000, 120_000])
    expect(store.getState().state.eventCount).toBe(3)
    expect(server.calls).toHaveLength(reads)
    socket.lastAck()(null, { ok: true, head: 3 })
    expect(store.getState().status).toBe('live')
    // acked: the next subscribe waits the first wait again
    socket.fire('disconnect', 'transport close')
    socket.fire('connect')
    expect(socket.timeouts.at(-1)).toBe(30_000)
  })

  it('a heartbeat’s serverTime sets how far the server’s clock is from this one (a drifting kiosk)', async () => {
    const { store, sockets, connection } = setup({ log: [reported(1)] })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    socket.lastAck()(null, { ok: true, head: 1 })
    expect(store.getState().clockOffsetMs).toBe(0)
    socket.fire('heartbeat', { seq: 1, serverTime: new Date(Date.now() + HOUR).toISOString() })
    expect(Math.abs(store.getState().clockOffsetMs - HOUR)).toBeLessThan(1_000)
    // within a second: the network's, kept as it was
    const offset = store.getState().clockOffsetMs
    socket.fire('heartbeat', { seq: 1, serverTime: new Date(Date.now() + HOUR + 300).toISOString() })
    expect(store.getState().clockOffsetMs).toBe(offset)
    socket.fire('heartbeat', { seq: 1, serverTime: new Date(Date.now() - HOUR).toISOString() })
    expect(Math.abs(store.getState().clockOffsetMs + HOUR)).toBeLessThan(1_000)
  })

  it('with the watchdog, a live socket the server went quiet on (three heartbeats and 5 s) is reconnected', async () => {
    vi.useFakeTimers()
    const { store, sockets, connection } = setup({ log: [reported(1)], watchdog: true, watchdogEveryMs: 1_000 })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await settle()
    socket.lastAck()(null, { ok: true, head: 1 })
    const beat = () => socket.fire('heartbeat', { seq: 1, serverTime: new Date().toISOString() })
    beat()
    await vi.advanceTimersByTimeAsync(2_000)
    beat() // heartbeats every 2 s
    // quiet for less than three heartbeats and 5 s: left alone
    await vi.advanceTimersByTimeAsync(10_000)
    expect(store.getState().status).toBe('live')
    expect(socket.disconnected).toBe(false)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(store.getState().status).toBe('reconnecting')
    expect(socket.disconnected).toBe(true)
    connection.disconnect()
  })

  it('ignores an ack from an older subscribe', async () => {
    const { store, sockets, connection } = setup()
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    const first = socket.lastAck()
    socket.fire('resync', { after: 0, reason: 'slow_consumer' })
    first(null, { ok: true, head: 1 })
    expect(store.getState().status).toBe('resyncing')
    socket.lastAck()(null, { ok: true, head: 1 })
    expect(store.getState().status).toBe('live')
  })

  it('signs out when the server says why it refuses the token, and when a live token is revoked', async () => {
    const refused = setup()
    refused.connection.connect('revoked-token')
    refused.sockets[0]!.active = false
    refused.sockets[0]!.fire('connect_error', new Error('unauthenticated: token revoked'))
    expect(refused.store.getState().status).toBe('signed-out')
    expect(refused.store.getState().error).toMatch(/token revoked/)
    expect(refused.onUnauthenticated).toHaveBeenCalledWith('token revoked')

    const live = setup({ log: [reported(1)] })
    live.connection.connect('good')
    const socket = live.sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    socket.lastAck()(null, { ok: true, head: 1 })
    expect(live.store.getState().status).toBe('live')
    expect(live.store.getState().state.incidents.size).toBe(1)
    socket.fire('revoked', { reason: 'token_revoked' })
    expect(live.store.getState().status).toBe('signed-out')
    expect(live.store.getState().state.incidents.size).toBe(0)
    expect(socket.disconnected).toBe(true)
    expect(live.onUnauthenticated).toHaveBeenCalledWith('token revoked')
  })

  it('signs out on connect_error unauthenticated', () => {
    const { store, sockets, connection, onUnauthenticated } = setup()
    store.getState().setSession({ user: 'u', organisation: 'o', nation: 'n', roles: [] })
    connection.connect('bad')
    const socket = sockets[0]!
    socket.active = false
    socket.fire('connect_error', new Error('unauthenticated'))
    expect(store.getState().status).toBe('signed-out')
    expect(store.getState().session).toBeNull()
    expect(store.getState().error).toMatch(/rejected/)
    expect(socket.disconnected).toBe(true)
    expect(onUnauthenticated).toHaveBeenCalledOnce()
  })

  it('a new connect starts from an empty picture and drops the old socket', async () => {
    const { store, sockets, connection } = setup({ log: [reported(1)] })
    connection.connect('a')
    sockets[0]!.fire('connect')
    await subscribed(sockets[0]!)
    expect(store.getState().window.map((e) => e.seq)).toEqual([1])
    connection.connect('b')
    expect(sockets[0]!.disconnected).toBe(true)
    expect(store.getState().lastSeq).toBe(0)
    expect(store.getState().state.eventCount).toBe(0)
    expect(store.getState().window).toEqual([]) // another viewer's events do not stay in memory
    expect(store.getState().opened).toBeNull()
    sockets[0]!.fire('events', { events: [reported(2)] }) // listeners removed: nothing happens
    expect(store.getState().state.eventCount).toBe(0)
  })

  it('a handshake refused by the server (not the credential) is tried again, waiting twice as long each time', async () => {
    vi.useFakeTimers()
    const { store, sockets, connection } = setup({ log: [reported(1)] })
    connection.connect('tok')
    const socket = sockets[0]!
    let connects = 0
    socket.connect = () => {
      connects++
      return socket
    }
    socket.active = false
    const refuse = () => socket.fire('connect_error', new Error('too_many_sockets: 20 sockets of this viewer'))
    refuse()
    expect(store.getState().error).toContain('too_many_sockets')
    await vi.advanceTimersByTimeAsync(1_000) // retryMs
    expect(connects).toBe(1)
    refuse()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(connects).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(connects).toBe(2)
    refuse()
    await vi.advanceTimersByTimeAsync(3_000)
    expect(connects).toBe(2)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(connects).toBe(3)
    // a handshake that succeeds starts the waits again
    socket.fire('connect')
    await settle()
    socket.lastAck()(null, { ok: true, head: 1 })
    socket.fire('disconnect', 'transport close')
    refuse()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(connects).toBe(4)
    connection.disconnect()
  })

  it('retries a refused subscribe', async () => {
    vi.useFakeTimers()
    const { store, sockets, connection } = setup()
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    socket.lastAck()(null, { ok: false, error: { code: 'unavailable', message: 'busy' } })
    expect(store.getState().error).toMatch(/busy/)
    vi.advanceTimersByTime(1_500)
    expect(socket.subscribes).toHaveLength(2)
  })

  it('opens again from the snapshot when the cursor is refused (conflict): the second time after a wait', async () => {
    vi.useFakeTimers()
    const { store, sockets, connection, server } = setup({ log: [reported(1), reported(2)] })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    expect(socket.subscribes.at(-1)?.after).toBe(2)
    // the server's data was reset: a shorter log
    server.log.splice(1, 1)
    socket.lastAck()(null, {
      ok: false,
      error: { code: 'conflict', message: 'after 2 is not the seq of an event you may see' },
    })
    expect(store.getState().state.eventCount).toBe(0)
    await subscribed(socket, 2)
    expect(socket.subscribes.at(-1)?.after).toBe(1)
    expect(store.getState().state.eventCount).toBe(1)
    // refused again: this time it waits before opening again
    socket.lastAck()(null, { ok: false, error: { code: 'conflict', message: 'again' } })
    const reads = server.calls.length
    await vi.advanceTimersByTimeAsync(500)
    expect(server.calls).toHaveLength(reads)
    await vi.advanceTimersByTimeAsync(600)
    await subscribed(socket, 3)
    socket.lastAck()(null, { ok: true, head: 1 })
    expect(store.getState().status).toBe('live')
    expect(store.getState().state.eventCount).toBe(1)
  })
})

describe('connection: older history on demand', () => {
  /** 48 hours of history, one event every 10 minutes. */
  const history = () => {
    const log: StoredEvent[] = [reported(1, 0)]
    for (let seq = 2; seq <= 289; seq++) log.push(observed(seq, 'i1', (seq - 1) * 10))
    return log
  }

  it('reads the times asked for that are not loaded, adds them to the window, and reads nothing twice', async () => {
    const log = history()
    const { store, sockets, connection, server } = setup({ log })
    connection.connect('tok')
    sockets[0]!.fire('connect')
    await subscribed(sockets[0]!)
    const opened = store.getState().window.length
    const loadedFrom = store.getState().loaded[0]!.from
    expect(loadedFrom).toBe(T0 + (2880 - 360) * 60_000)

    // the timeline shows 24 h to 20 h before the end: that range is read, on the recorded clock
    const range = { from: T0 + 24 * HOUR, to: T0 + 28 * HOUR }
    await connection.loadHistory(range)
    const read = server.calls.at(-1)!
    expect(read.params.get('from')).toBe(new Date(range.from).toISOString())
    expect(read.params.get('to')).toBe(new Date(range.to).toISOString())
    expect(read.params.get('clock')).toBe('recorded')
    const s = store.getState()
    expect(s.window.length).toBe(opened + 24)
    expect(s.window.map((e) => e.seq)).toEqual([...s.window.map((e) => e.seq)].sort((a, b) => a - b))
    expect(s.loaded).toEqual([range, { from: loadedFrom, to: Number.POSITIVE_INFINITY }])
    expect(s.historyLoading).toBeNull()

    // asked again, or a range in between: only what is missing is read
    const calls = server.calls.length
    await connection.loadHistory(range)
    expect(server.calls).toHaveLength(calls)
    await connection.loadHistory({ from: T0 + 26 * HOUR, to: loadedFrom + HOUR })
    expect(server.calls).toHaveLength(calls + 1)
    expect(server.calls.at(-1)!.params.get('from')).toBe(new Date(T0 + 28 * HOUR).toISOString())
    expect(store.getState().loaded).toEqual([{ from: T0 + 24 * HOUR, to: Number.POSITIVE_INFINITY }])
    // the picture itself did not move
    expect(store.getState().state.seq).toBe(289)
    expect(store.getState().lastSeq).toBe(289)
  })

  it('a read is at most historyMaxEvents; the rest of the range is read by the next reads', async () => {
    const log = history()
    const { store, sockets, connection, server } = setup({ log, historyMaxEvents: 10 })
    connection.connect('tok')
    sockets[0]!.fire('connect')
    await subscribed(sockets[0]!)
    const before = server.calls.length
    await connection.loadHistory({ from: T0, to: T0 + 10 * HOUR })
    // four reads of at most 10 (a page asks for 5,000 and stops after 10 are in)
    expect(server.calls.length - before).toBe(4)
    const loaded = store.getState().loaded
    expect(loaded[0]!.from).toBe(T0)
    expect(loaded[0]!.to).toBeLessThan(T0 + 10 * HOUR)
  })

  it('says so when a read fails, and tries again at the next ask', async () => {
    const { store, sockets, connection, server } = setup({ log: history() })
    connection.connect('tok')
    sockets[0]!.fire('connect')
    await subscribed(sockets[0]!)
    server.failures.push({ status: 500, code: 'internal', message: 'boom' })
    await connection.loadHistory({ from: T0, to: T0 + HOUR })
    expect(store.getState().historyError).toMatch(/500: boom/)
    expect(store.getState().historyLoading).toBeNull()
    await connection.loadHistory({ from: T0, to: T0 + HOUR })
    expect(store.getState().historyError).toBeNull()
    expect(store.getState().loaded[0]).toEqual({ from: T0, to: T0 + HOUR })
  })

  it('reads nothing before the picture is open, nor for another viewer', async () => {
    const { sockets, connection, server } = setup({ log: history() })
    await connection.loadHistory({ from: T0, to: T0 + HOUR })
    connection.connect('tok')
    await connection.loadHistory({ from: T0, to: T0 + HOUR })
    expect(server.calls).toHaveLength(0)
    sockets[0]!.fire('connect')
    await subscribed(sockets[0]!)
  })
})

describe('connection: cookie sessions and presence', () => {
  it('connects with no token (the session cookie) through the same factory', () => {
    const { store, connection, asked } = setup()
    connection.connect(null)
    expect(asked).toEqual([[null, undefined]])
    expect(store.getState().status).toBe('connecting')
  })

  it('views as another audience with auth.viewAs: a new viewer, from an empty picture', async () => {
    const { store, sockets, connection, asked, server } = setup({ log: [reported(1), reported(2)] })
    connection.connect('tok')
    sockets[0]!.fire('connect')
    await subscribed(sockets[0]!)
    sockets[0]!.lastAck()(null, { ok: true, head: 2 })
    expect(store.getState().state.eventCount).toBe(2)

    connection.connect('tok', 'organisation:cert-lv')
    expect(sockets[0]!.disconnected).toBe(true)
    expect(asked).toEqual([
      ['tok', undefined],
      ['tok', 'organisation:cert-lv'],
    ])
    // what the previous viewer was sent is gone; the new viewer opens from its own snapshot
    expect(store.getState()).toMatchObject({ status: 'connecting', lastSeq: 0, headSeq: 0 })
    expect(store.getState().state.eventCount).toBe(0)
    expect(store.getState().window).toEqual([])
    server.log.splice(1, 1) // what cert-lv receives: seq 1
    sockets[1]!.fire('connect')
    await subscribed(sockets[1]!)
    expect(sockets[1]!.subscribes.map((s) => s.after)).toEqual([1])
    expect(server.calls.at(-1)?.headers['X-Watchfloor-View-As']).toBe('organisation:cert-lv')
  })

  it('the handshake’s auth: the token (none: the cookie), the audience and the protocol version', () => {
    const protocolVersion = PROTOCOL_VERSION
    expect(handshakeAuth(null)).toEqual({ protocolVersion })
    expect(handshakeAuth('tok')).toEqual({ token: 'tok', protocolVersion })
    expect(handshakeAuth(null, 'community:baltic')).toEqual({ viewAs: 'community:baltic', protocolVersion })
    expect(handshakeAuth('tok', 'organisation:cert-lv')).toEqual({
      token: 'tok',
      viewAs: 'organisation:cert-lv',
      protocolVersion,
    })
    expect(handshakeAuth('tok', null)).toEqual({ token: 'tok', protocolVersion })
  })

  it('refused for another protocol version: asks for a reload, keeps the session, does not retry', async () => {
    const { store, sockets, connection, onUnauthenticated } = setup()
    store.getState().setSession({ user: 'u', organisation: 'o', nation: 'n', roles: [] })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.active = false
    const server = PROTOCOL_VERSION + 1
    const message = `this client speaks protocol version ${PROTOCOL_VERSION}, this server ${server}: reload the console (or update the client)`
    const refusal = Object.assign(new Error(`protocol_mismatch: ${message}`), {
      data: { code: 'protocol_mismatch', message, details: { client: PROTOCOL_VERSION, server } },
    })
    socket.fire('connect_error', refusal)
    expect(store.getState().status).toBe('outdated')
    expect(store.getState().error).toBe(
      `This console is out of date: it speaks protocol version ${PROTOCOL_VERSION} and the server ${server}. Reload the page to load the server's console.`,
    )
    expect(store.getState().session).not.toBeNull()
    expect(onUnauthenticated).not.toHaveBeenCalled()
    expect(socket.disconnected).toBe(true)
    // other refusals are retried after retryMs (1 s here); this one is not
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    expect(sockets).toHaveLength(1)
    expect(store.getState().status).toBe('outdated')
    // the message alone (a client that gets no err.data) says the same
    expect(outdatedMessage(new Error(`protocol_mismatch: ${message}`))).toMatch(/Reload the page/)
    expect(outdatedMessage(new Error('unauthenticated: token revoked'))).toBeNull()
  })

  it('says which incident it shows, again after a reconnect, and passes presence on', async () => {
    const store = createWatchfloorStore()
    const sockets: FakeSocket[] = []
    const presence = vi.fn()
    const resets: number[] = []
    const connection = createConnection({
      store,
      onPresence: presence,
      onPresenceReset: () => resets.push(presence.mock.calls.length),
      fetchFn: fakeServer([]).fetchFn,
      socketFactory: () => {
        const socket = new FakeSocket()
        sockets.push(socket)
        return socket as unknown as WatchfloorSocket
      },
    })
    const viewing: unknown[] = []
    connection.connect('tok')
    const socket = sockets[0]!
    const emit = socket.emit.bind(socket)
    socket.emit = (event: string, request: { after: number }, ack: Ack) => {
      if (event === 'viewing') viewing.push(request)
      return emit(event, request, ack)
    }
    connection.setViewing('inc-1') // not connected yet: remembered
    expect(viewing).toEqual([])
    socket.fire('connect')
    expect(viewing).toEqual([{ incidentId: 'inc-1' }])
    connection.setViewing('inc-1') // unchanged: nothing sent
    connection.setViewing(null)
    expect(viewing).toEqual([{ incidentId: 'inc-1' }, { incidentId: null }])
    connection.setViewing('inc-2')
    socket.fire('disconnect', 'transport close')
    socket.fire('connect')
    expect(viewing.at(-1)).toEqual({ incidentId: 'inc-2' })
    socket.fire('presence', { incidentId: 'inc-2', viewers: [{ user: 'mari', organisation: 'cert-lv' }] })
    expect(presence).toHaveBeenCalledWith({ incidentId: 'inc-2', viewers: [{ user: 'mari', organisation: 'cert-lv' }] })
    // every (re)connect forgets what was heard before it (the server says who views what now)
    expect(resets).toEqual([0, 0])
    socket.fire('disconnect', 'transport close')
    socket.fire('connect')
    expect(resets).toEqual([0, 0, 1])
    await subscribed(socket)
  })
})

describe('connection: the live picture', () => {
  const DAY = 24 * HOUR
  /** An old incident closed a month before the rest, a recent one; the live picture leaves the old one out. */
  function history(): StoredEvent[] {
    return [
      { ...reported(1), payload: { ...reported(1).payload, incidentId: 'old' } } as StoredEvent,
      at(makeEvent(2, 'incident.updated', { incidentId: 'old', status: 'closed' }), 1),
      reported(3, 30 * 24 * 60),
    ]
  }
  /** A console live on that history. */
  async function openLive() {
    const log = history()
    const { store, sockets, connection, server } = setup({ log })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    socket.lastAck()(null, { ok: true, head: 3 })
    return { log, store, socket, server, connection }
  }
  const reopen = (seq: number) =>
    at(makeEvent(seq, 'incident.updated', { incidentId: 'old', status: 'triaged' }), 30 * 24 * 60 + seq)

  it('holds what arrives while it reads the picture again, checkpoints too, and folds each event once', async () => {
    const { log, store, socket, server } = await openLive()
    expect(store.getState().state.incidents.has('old')).toBe(false)
    expect(store.getState().omitted).toMatchObject({ incidents: 1 })
    expect(store.getState().omitted!.since).toBe(new Date(Date.parse(log[2]!.recordedAt) - 7 * DAY).toISOString())

    // the server appends three events; the socket sends them in two messages and a checkpoint beyond
    log.push(reopen(4), observed(5, 'i3', 30 * 24 * 60 + 5), observed(6, 'i3', 30 * 24 * 60 + 6))
    let release: () => void = () => {}
    server.gate = new Promise<void>((resolve) => {
      release = resolve
    })
    socket.fire('events', { events: [log[3]!, log[4]!] })
    socket.fire('events', { events: [log[5]!] })
    socket.fire('checkpoint', { seq: 7 })
    // held while the picture is read again: nothing folded, the cursor where it was
    await vi.waitFor(() => expect(server.calls.at(-1)!.params.get('include')).toBe('old'))
    expect(store.getState().lastSeq).toBe(3)
    expect(store.getState().window.map((e) => e.seq)).toEqual([3])
    server.gate = null
    release()
    await vi.waitFor(() => expect(store.getState().state.incidents.get('old')?.status).toBe('triaged'))
    const s = store.getState()
    const refresh = server.calls.filter((c) => c.path === '/api/v1/state').at(-1)!
    expect(refresh.params.get('scope')).toBe('live')
    expect(refresh.params.get('include')).toBe('old')
    expect(s.state.incidents.get('i3')!.observationReports).toBe(2)
    expect(s.window.map((e) => e.seq)).toEqual([3, 4, 5, 6])
    expect(s.lastSeq).toBe(7)
    expect(s.omitted).toMatchObject({ incidents: 0 })
    // an event of the incident now held folds at once, with no read
    const calls = server.calls.length
    socket.fire('events', {
      events: [at(makeEvent(8, 'incident.updated', { incidentId: 'old', status: 'closed' }), 99)],
    })
    expect(store.getState().state.incidents.get('old')!.status).toBe('closed')
    expect(server.calls.length).toBe(calls)
  })

  it('what is asked for while a read of the picture runs is read next (everything, here)', async () => {
    const { log, store, socket, server, connection } = await openLive()
    log.push(reopen(4))
    let release: () => void = () => {}
    server.gate = new Promise<void>((resolve) => {
      release = resolve
    })
    socket.fire('events', { events: [log[3]!] })
    await vi.waitFor(() => expect(server.calls.at(-1)!.params.get('include')).toBe('old'))
    connection.wantEverything()
    server.gate = null
    release()
    await vi.waitFor(() => expect(server.calls.at(-1)!.params.get('since')).toBe(new Date(0).toISOString()))
    await vi.waitFor(() => expect(store.getState().omitted).toMatchObject({ incidents: 0, advisories: 0 }))
    expect(store.getState().state.incidents.get('old')!.status).toBe('triaged')
  })

  it('asks for each id in a parameter of its own (an id may hold commas), since only when asked', () => {
    expect(livePath([])).toBe('/api/v1/state?scope=live')
    const path = new URL(livePath(['a,b', 'c d'], '1970-01-01T00:00:00.000Z'), 'http://console.test')
    expect(path.searchParams.getAll('include')).toEqual(['a,b', 'c d'])
    expect(path.searchParams.get('since')).toBe('1970-01-01T00:00:00.000Z')
  })

  it('an incident the retention pruned (a wall’s 6 hours) comes back when an event names it: reopened and raised to critical', async () => {
    const NOW = Date.now()
    const dated = <E extends StoredEvent>(event: E, ms: number): E => {
      const time = new Date(ms).toISOString()
      return { ...event, occurredAt: time, recordedAt: time }
    }
    const update = (seq: number, patch: Record<string, unknown>, ms: number) =>
      dated(makeEvent(seq, 'incident.updated', { incidentId: 'old', ...patch } as never), ms)
    const log: StoredEvent[] = [
      dated({ ...reported(1), payload: { ...reported(1).payload, incidentId: 'old' } } as StoredEvent, NOW - 8 * HOUR),
      dated(
        makeEvent(2, 'task.created', { taskId: 'task-old', incidentId: 'old', title: 'Block', priority: 'low' }),
        NOW - 8 * HOUR,
      ),
      update(3, { status: 'closed' }, NOW - 7 * HOUR),
      dated(reported(4), NOW - 10 * 60_000),
    ]
    const { store, sockets, connection, server } = setup({ log, retention: { hours: 6, maxEvents: 20_000 } })
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    socket.lastAck()(null, { ok: true, head: 4 })
    // closed 7 hours ago: pruned with its task, and listed as left out
    expect(store.getState().state.incidents.has('old')).toBe(false)
    expect(store.getState().state.tasks.has('task-old')).toBe(false)
    expect(store.getState().omitted).toMatchObject({ incidents: 1, tasks: 1 })

    // the picture read again is the server's before this event (at seq 4): the incident asked for is
    // kept though still closed 7 hours ago, so the event folds onto it
    const reopened = update(5, { status: 'triaged', severity: 'critical' }, NOW)
    socket.fire('events', { events: [reopened] })
    await vi.waitFor(() => expect(store.getState().state.incidents.get('old')?.severity).toBe('critical'))
    log.push(reopened)
    expect(store.getState().state.incidents.get('old')!.status).toBe('triaged')
    expect(store.getState().state.tasks.has('task-old')).toBe(true)
    const asked = () =>
      server.calls.filter((c) => c.path === '/api/v1/state' && c.params.get('include') === 'old').length
    expect(asked()).toBe(1)

    // closed again, pruned again hours later, and reopened again: asked for again
    log.push(update(6, { status: 'closed' }, NOW + 60_000), dated(observed(7, 'i4'), NOW + 8 * HOUR))
    socket.fire('events', { events: [log[5]!, log[6]!] })
    expect(store.getState().state.incidents.has('old')).toBe(false)
    log.push(update(8, { status: 'triaged' }, NOW + 8 * HOUR + 60_000))
    socket.fire('events', { events: [log[7]!] })
    await vi.waitFor(() => expect(store.getState().state.incidents.get('old')?.status).toBe('triaged'))
    expect(asked()).toBe(2)
    expect(store.getState().lastSeq).toBe(8)
  })

  it('the first open prunes on the server’s clock (its answers’ Date), not on a kiosk’s hours ahead', async () => {
    const SERVER_NOW = Date.now() - 3 * HOUR // this kiosk is three hours fast
    const dated = <E extends StoredEvent>(event: E, ms: number): E => {
      const time = new Date(ms).toISOString()
      return { ...event, occurredAt: time, recordedAt: time }
    }
    const log: StoredEvent[] = [
      dated(reported(1), SERVER_NOW - 4 * HOUR),
      dated(makeEvent(2, 'incident.updated', { incidentId: 'i1', status: 'closed' } as never), SERVER_NOW - 4 * HOUR),
    ]
    const { store, sockets, connection, server } = setup({ log, retention: { hours: 6, maxEvents: 20_000 } })
    server.clockOffsetMs = SERVER_NOW - Date.now()
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    await subscribed(socket)
    // closed four hours ago by the server's clock: within the wall's six hours, so kept (by this
    // kiosk's clock it was seven hours ago)
    expect(Math.abs(store.getState().clockOffsetMs + 3 * HOUR)).toBeLessThan(1_500)
    expect(store.getState().state.incidents.get('i1')?.status).toBe('closed')
    expect(store.getState().omitted?.incidents ?? 0).toBe(0)
    // once a heartbeat has set the clock, the reads' Date (to the second) no longer moves it
    socket.lastAck()(null, { ok: true, head: 2 })
    const beat = new Date(Date.now() - 3 * HOUR + 400).toISOString()
    socket.fire('heartbeat', { seq: 2, serverTime: beat })
    const offset = store.getState().clockOffsetMs
    server.clockOffsetMs = -HOUR
    await connection.loadHistory({ from: SERVER_NOW - 12 * HOUR, to: SERVER_NOW - 11 * HOUR })
    expect(server.calls.filter((c) => c.path === '/api/v1/events').length).toBeGreaterThan(0)
    expect(store.getState().clockOffsetMs).toBe(offset)
  })

  it('opens again (with what it asked for) when the second read fails', async () => {
    const { log, store, socket, server } = await openLive()
    log.push(reopen(4))
    server.failures.push({ status: 503, code: 'unavailable', message: 'busy' })
    socket.fire('events', { events: [log[3]!] })
    await subscribed(socket, 2)
    const s = store.getState()
    expect(s.state.incidents.get('old')?.status).toBe('triaged')
    expect(socket.subscribes.at(-1)!.after).toBe(4)
    const reads = server.calls.filter((c) => c.path === '/api/v1/state').map((c) => c.params.get('include'))
    expect(reads).toEqual([null, 'old', 'old'])
    expect(s.window.map((e) => e.seq)).toEqual([3, 4])
  })
})

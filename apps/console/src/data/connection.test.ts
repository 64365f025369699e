import { makeEvent } from '@watchfloor/core'
import type { SubscribeAck } from '@watchfloor/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createConnection, handshakeAuth, type WatchfloorSocket } from './connection.ts'
import { createWatchfloorStore } from './store.ts'

type Handler = (...args: unknown[]) => void
type Ack = (err: Error | null, ack: SubscribeAck) => void

/** Just enough of a socket.io client socket to drive the connection module. */
class FakeSocket {
  connected = false
  active = true
  handlers = new Map<string, Handler[]>()
  subscribes: { after: number; ack: Ack }[] = []
  disconnected = false

  on(event: string, handler: Handler) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler])
    return this
  }
  removeAllListeners() {
    this.handlers.clear()
    return this
  }
  timeout() {
    return this
  }
  emit(event: string, request: { after: number }, ack: Ack) {
    if (event === 'subscribe') this.subscribes.push({ after: request.after, ack })
    return this
  }
  connect() {
    return this
  }
  disconnect() {
    this.disconnected = true
    this.connected = false
    return this
  }
  fire(event: string, ...args: unknown[]) {
    if (event === 'connect') this.connected = true
    if (event === 'disconnect') this.connected = false
    for (const handler of this.handlers.get(event) ?? []) handler(...args)
  }
  lastAck(): Ack {
    const last = this.subscribes.at(-1)
    if (!last) throw new Error('no subscribe')
    return last.ack
  }
}

function setup(batchMs = 0) {
  const store = createWatchfloorStore()
  const sockets: FakeSocket[] = []
  const onUnauthenticated = vi.fn()
  const connection = createConnection({
    store,
    batchMs,
    onUnauthenticated,
    socketFactory: () => {
      const socket = new FakeSocket()
      sockets.push(socket)
      return socket as unknown as WatchfloorSocket
    },
  })
  return { store, sockets, connection, onUnauthenticated }
}

const reported = (seq: number) =>
  makeEvent(seq, 'incident.reported', {
    incidentId: `i${seq}`,
    title: `t${seq}`,
    severity: 'high',
    category: 'c',
    affectedNetworks: [],
  })

afterEach(() => {
  vi.useRealTimers()
})

describe('connection', () => {
  it('folds the events of one batching window in one store update; a checkpoint waits for them', () => {
    vi.useFakeTimers()
    const { store, sockets, connection } = setup(100)
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
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

  it('connects, subscribes from 0, goes live on ack and folds batches', () => {
    const { store, sockets, connection } = setup()
    connection.connect('tok')
    expect(store.getState().status).toBe('connecting')
    const socket = sockets[0]!
    socket.fire('connect')
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

  it('resubscribes from the last seq on reconnect and on resync, never folding twice', () => {
    const { store, sockets, connection } = setup()
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    socket.lastAck()(null, { ok: true, head: 3 })
    socket.fire('events', { events: [reported(1), reported(3)] })
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

  it('on resync access_changed drops the picture and subscribes from 0: it may hold what the viewer may no longer see', () => {
    const { store, sockets, connection } = setup()
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    socket.lastAck()(null, { ok: true, head: 3 })
    socket.fire('events', { events: [reported(1), reported(3)] })
    socket.fire('checkpoint', { seq: 3 })
    expect(store.getState().state.eventCount).toBe(2)

    socket.fire('resync', { after: 0, reason: 'access_changed' })
    expect(store.getState().status).toBe('resyncing')
    expect(store.getState().state.eventCount).toBe(0)
    expect(store.getState().window).toEqual([])
    expect(socket.subscribes.at(-1)?.after).toBe(0)
    socket.fire('events', { events: [reported(3)] })
    socket.lastAck()(null, { ok: true, head: 3 })
    expect(store.getState().status).toBe('live')
    expect(store.getState().state.eventCount).toBe(1)
  })

  it('ignores an ack from an older subscribe', () => {
    const { store, sockets, connection } = setup()
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    const first = socket.lastAck()
    socket.fire('resync', { after: 0, reason: 'slow_consumer' })
    first(null, { ok: true, head: 1 })
    expect(store.getState().status).toBe('resyncing')
    socket.lastAck()(null, { ok: true, head: 1 })
    expect(store.getState().status).toBe('live')
  })

  it('signs out when the server says why it refuses the token, and when a live token is revoked', () => {
    const refused = setup()
    refused.connection.connect('revoked-token')
    refused.sockets[0]!.active = false
    refused.sockets[0]!.fire('connect_error', new Error('unauthenticated: token revoked'))
    expect(refused.store.getState().status).toBe('signed-out')
    expect(refused.store.getState().error).toMatch(/token revoked/)
    expect(refused.onUnauthenticated).toHaveBeenCalledWith('token revoked')

    const live = setup()
    live.connection.connect('good')
    const socket = live.sockets[0]!
    socket.fire('connect')
    socket.lastAck()(null, { ok: true, head: 0 })
    expect(live.store.getState().status).toBe('live')
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

  it('a new connect starts from an empty picture and drops the old socket', () => {
    const { store, sockets, connection } = setup()
    connection.connect('a')
    sockets[0]!.fire('connect')
    sockets[0]!.fire('events', { events: [reported(1)] })
    expect(store.getState().window.map((e) => e.seq)).toEqual([1])
    connection.connect('b')
    expect(sockets[0]!.disconnected).toBe(true)
    expect(store.getState().lastSeq).toBe(0)
    expect(store.getState().state.eventCount).toBe(0)
    expect(store.getState().window).toEqual([]) // another viewer's events do not stay in memory
    sockets[0]!.fire('events', { events: [reported(2)] }) // listeners removed: nothing happens
    expect(store.getState().state.eventCount).toBe(0)
  })

  it('retries a refused subscribe', () => {
    vi.useFakeTimers()
    const { store, sockets, connection } = setup()
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    socket.lastAck()(null, { ok: false, error: { code: 'unavailable', message: 'busy' } })
    expect(store.getState().error).toMatch(/busy/)
    vi.advanceTimersByTime(2_500)
    expect(socket.subscribes).toHaveLength(2)
  })

  it('starts over from 0 when the cursor is beyond the server log (conflict)', () => {
    const { store, sockets, connection } = setup()
    connection.connect('tok')
    const socket = sockets[0]!
    socket.fire('connect')
    socket.fire('events', { events: [reported(1), reported(2)] })
    socket.lastAck()(null, { ok: true, head: 2 })
    socket.fire('disconnect', 'transport close')
    socket.fire('connect')
    expect(socket.subscribes.at(-1)?.after).toBe(2)
    socket.lastAck()(null, { ok: false, error: { code: 'conflict', message: 'beyond head' } })
    expect(socket.subscribes.at(-1)?.after).toBe(0)
    expect(store.getState().state.eventCount).toBe(0)
    socket.fire('events', { events: [reported(1)] })
    socket.lastAck()(null, { ok: true, head: 1 })
    expect(store.getState().status).toBe('live')
    expect(store.getState().state.eventCount).toBe(1)
  })
})

describe('connection: cookie sessions and presence', () => {
  it('connects with no token (the session cookie) through the same factory', () => {
    const tokens: (string | null)[] = []
    const store = createWatchfloorStore()
    const connection = createConnection({
      store,
      socketFactory: (token) => {
        tokens.push(token)
        return new FakeSocket() as unknown as WatchfloorSocket
      },
    })
    connection.connect(null)
    expect(tokens).toEqual([null])
    expect(store.getState().status).toBe('connecting')
  })

  it('views as another audience with auth.viewAs: a new viewer, from an empty picture', () => {
    const asked: [string | null, string | null | undefined][] = []
    const sockets: FakeSocket[] = []
    const store = createWatchfloorStore()
    const connection = createConnection({
      store,
      socketFactory: (token, viewAs) => {
        asked.push([token, viewAs])
        const socket = new FakeSocket()
        sockets.push(socket)
        return socket as unknown as WatchfloorSocket
      },
    })
    connection.connect('tok')
    sockets[0]!.fire('connect')
    sockets[0]!.fire('events', { events: [reported(1), reported(2)] })
    sockets[0]!.lastAck()(null, { ok: true, head: 2 })
    expect(store.getState().state.eventCount).toBe(2)

    connection.connect('tok', 'organisation:cert-lv')
    expect(sockets[0]!.disconnected).toBe(true)
    expect(asked).toEqual([
      ['tok', undefined],
      ['tok', 'organisation:cert-lv'],
    ])
    // what the previous viewer was sent is gone; the new socket subscribes from 0
    expect(store.getState()).toMatchObject({ status: 'connecting', lastSeq: 0, headSeq: 0 })
    expect(store.getState().state.eventCount).toBe(0)
    expect(store.getState().window).toEqual([])
    sockets[1]!.fire('connect')
    expect(sockets[1]!.subscribes.map((s) => s.after)).toEqual([0])
  })

  it('the handshake’s auth: the token (none: the cookie) and the audience', () => {
    expect(handshakeAuth(null)).toEqual({})
    expect(handshakeAuth('tok')).toEqual({ token: 'tok' })
    expect(handshakeAuth(null, 'community:baltic')).toEqual({ viewAs: 'community:baltic' })
    expect(handshakeAuth('tok', 'organisation:cert-lv')).toEqual({ token: 'tok', viewAs: 'organisation:cert-lv' })
    expect(handshakeAuth('tok', null)).toEqual({ token: 'tok' })
  })

  it('says which incident it shows, again after a reconnect, and passes presence on', () => {
    const store = createWatchfloorStore()
    const sockets: FakeSocket[] = []
    const presence = vi.fn()
    const connection = createConnection({
      store,
      onPresence: presence,
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
  })
})

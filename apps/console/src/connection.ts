/**
 * The one connection module: a token in, a live picture in the store out.
 *
 * Contract with the server (apps/server): connect with `auth: { token }` over
 * WebSocket only, emit `subscribe { after: lastSeq }`, then fold every `events`
 * batch, advance the cursor on `checkpoint` / `heartbeat`, and on `resync` or any
 * reconnect subscribe again from the last seq seen. The store drops anything at or
 * below its cursor, so nothing is folded twice; subscribing from the cursor means
 * nothing is missed.
 */
import { initialState } from '@watchfloor/core'
import type { ClientToServerEvents, ServerToClientEvents, StoredEvent, SubscribeAck } from '@watchfloor/protocol'
import { io, type Socket } from 'socket.io-client'
import { type WatchfloorStore, watchfloor } from './store.ts'
import { clearToken } from './token.ts'

export type WatchfloorSocket = Socket<ServerToClientEvents, ClientToServerEvents>
export type SocketFactory = (token: string) => WatchfloorSocket
type StoreApi = { getState(): WatchfloorStore; setState(partial: Partial<WatchfloorStore>): void }

export interface ConnectionOptions {
  store?: StoreApi
  socketFactory?: SocketFactory
  /** Called when the server rejects the token (connect_error 'unauthenticated' or a refused subscribe). */
  onUnauthenticated?: (message: string) => void
  /**
   * Events arriving within this many ms are folded together (one store update,
   * one render). 0 folds each message at once. Checkpoints wait for the batch.
   */
  batchMs?: number
  /** How long to wait for a subscribe ack, and before retrying a refused subscribe or a dead connection. */
  ackTimeoutMs?: number
  retryMs?: number
}

export interface Connection {
  connect(token: string): void
  disconnect(): void
}

const defaultSocketFactory: SocketFactory = (token) => io({ transports: ['websocket'], auth: { token } })

export function createConnection(options: ConnectionOptions = {}): Connection {
  const store = options.store ?? watchfloor
  const socketFactory = options.socketFactory ?? defaultSocketFactory
  const ackTimeoutMs = options.ackTimeoutMs ?? 30_000
  const retryMs = options.retryMs ?? 2_000
  const batchMs = options.batchMs ?? 0

  let socket: WatchfloorSocket | null = null
  /** Bumped on every subscribe; an ack for an older one is ignored. */
  let subscription = 0
  let retryTimer: ReturnType<typeof setTimeout> | undefined

  const actions = () => store.getState()

  /** Events received but not yet folded (batching), in arrival order. */
  let buffered: StoredEvent[] = []
  let flushTimer: ReturnType<typeof setTimeout> | undefined
  function flush(): void {
    if (flushTimer !== undefined) clearTimeout(flushTimer)
    flushTimer = undefined
    if (buffered.length === 0) return
    const events = buffered
    buffered = []
    actions().applyEvents(events)
  }
  function receive(events: readonly StoredEvent[]): void {
    if (batchMs <= 0) {
      actions().applyEvents(events)
      return
    }
    for (const event of events) buffered.push(event)
    flushTimer ??= setTimeout(flush, batchMs)
  }
  /** A fresh, empty event window (the old one may hold another viewer's events). */
  const emptyWindow = () => ({ window: [], windowVersion: actions().windowVersion + 1 })

  function clearRetry(): void {
    if (retryTimer !== undefined) clearTimeout(retryTimer)
    retryTimer = undefined
  }

  function retry(s: WatchfloorSocket, action: () => void): void {
    clearRetry()
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      if (s === socket) action()
    }, retryMs)
  }

  function subscribe(s: WatchfloorSocket): void {
    clearRetry()
    flush() // subscribe from what has really arrived
    const id = ++subscription
    const after = actions().lastSeq
    s.timeout(ackTimeoutMs).emit('subscribe', { after }, (err: Error | null, ack: SubscribeAck) => {
      if (s !== socket || id !== subscription) return // a newer subscribe (or connection) took over
      if (err) {
        // no ack in time: ask again if still connected (a reconnect subscribes by itself)
        if (s.connected) subscribe(s)
        return
      }
      if (ack.ok) {
        actions().setHead(ack.head)
        actions().setStatus('live', null)
        return
      }
      if (ack.error.code === 'unauthenticated') {
        unauthenticated(ack.error.message)
        return
      }
      if (ack.error.code === 'conflict' && after > 0) {
        // our cursor is beyond the server's log (its data was reset): the picture we hold no longer exists
        store.setState({ lastSeq: 0, headSeq: 0, state: initialState, ...emptyWindow() })
        subscribe(s)
        return
      }
      actions().setError(`subscribe refused: ${ack.error.message}`)
      retry(s, () => {
        if (s.connected) subscribe(s)
      })
    })
  }

  function unauthenticated(message: string): void {
    disconnect()
    actions().reset(`Signed out: the server rejected the token (${message}).`)
    options.onUnauthenticated?.(message)
  }

  function connect(token: string): void {
    disconnect()
    // a new connection (maybe a different viewer) starts from an empty picture
    store.setState({ status: 'connecting', lastSeq: 0, headSeq: 0, state: initialState, error: null, ...emptyWindow() })
    const s = socketFactory(token)
    socket = s

    s.on('connect', () => {
      if (s !== socket) return
      subscribe(s)
    })
    s.on('disconnect', (reason) => {
      if (s !== socket) return
      subscription++ // any ack still in flight belongs to the old connection
      actions().setStatus('reconnecting')
      // the client only reconnects by itself when the server did not close the socket on purpose
      if (reason === 'io server disconnect') retry(s, () => s.connect())
    })
    s.on('connect_error', (error) => {
      if (s !== socket) return
      if (error.message === 'unauthenticated') {
        unauthenticated(error.message)
        return
      }
      if (actions().status !== 'connecting') actions().setStatus('reconnecting')
      actions().setError(`connection failed: ${error.message}`)
      // refused by a middleware (socket.active false): socket.io will not retry by itself
      if (!s.active) retry(s, () => s.connect())
    })
    s.on('events', (message) => {
      if (s !== socket) return
      receive(message.events)
    })
    s.on('checkpoint', (message) => {
      if (s !== socket) return
      flush()
      actions().checkpoint(message.seq)
    })
    s.on('heartbeat', (message) => {
      if (s !== socket) return
      flush()
      actions().heartbeat(message.seq)
    })
    s.on('resync', () => {
      if (s !== socket) return
      actions().setStatus('resyncing')
      subscribe(s)
    })
  }

  function disconnect(): void {
    clearRetry()
    if (flushTimer !== undefined) clearTimeout(flushTimer)
    flushTimer = undefined
    buffered = []
    subscription++
    const s = socket
    socket = null
    if (s) {
      s.removeAllListeners()
      s.disconnect()
    }
  }

  return { connect, disconnect }
}

/** The app's one connection; a rejected token is also forgotten. */
const appConnection = createConnection({ onUnauthenticated: clearToken, batchMs: 250 })
export const connect = (token: string): void => appConnection.connect(token)
export const disconnect = (): void => appConnection.disconnect()

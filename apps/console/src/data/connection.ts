/**
 * The one connection module: a credential in, a live picture in the store out.
 *
 * Contract with the server (apps/server): connect with `auth: { token }` (or, with no
 * token, the browser's session cookie in the handshake) over WebSocket only, plus
 * `auth.viewAs: 'organisation:<id>'` while viewing as another audience (a read-only socket of
 * what both may see, data/viewAs.ts), emit `subscribe { after: lastSeq }`, then fold every `events`
 * batch, advance the cursor on `checkpoint` / `heartbeat`, and on `resync` or any
 * reconnect subscribe again from the last seq seen. The store drops anything at or
 * below its cursor, so nothing is folded twice; subscribing from the cursor means
 * nothing is missed.
 *
 * Presence is not in the log: `viewing { incidentId }` says which incident this console shows
 * (sent again after every reconnect), `presence { incidentId, viewers }` says who shows it.
 */
import type {
  ClientToServerEvents,
  PresenceMessage,
  ServerToClientEvents,
  StoredEvent,
  SubscribeAck,
} from '@watchfloor/protocol'
import { io, type Socket } from 'socket.io-client'
import { MinuteCounts } from './activity.ts'
import { emptyPicture, type WatchfloorStore, watchfloor } from './store.ts'
import { clearToken } from './token.ts'

/** Who has an incident open right now (presence; not in the log). */
export type { PresenceMessage }

export type WatchfloorSocket = Socket<ServerToClientEvents, ClientToServerEvents>
/**
 * Makes the socket; `token` null means "authenticate with the session cookie"; `viewAs`
 * (`organisation:<id>`, `community:<id>`) asks for the picture as that audience receives it.
 */
export type SocketFactory = (token: string | null, viewAs?: string | null) => WatchfloorSocket
type StoreApi = { getState(): WatchfloorStore; setState(partial: Partial<WatchfloorStore>): void }

export interface ConnectionOptions {
  store?: StoreApi
  socketFactory?: SocketFactory
  /** Called when the server rejects the token (connect_error 'unauthenticated' or a refused subscribe). */
  onUnauthenticated?: (message: string) => void
  /** Called with every `presence` message. */
  onPresence?: (message: PresenceMessage) => void
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
  /**
   * Connect with a token, or with the session cookie (`null`); with `viewAs` as that audience
   * (a new viewer: the picture starts again from empty).
   */
  connect(token: string | null, viewAs?: string | null): void
  disconnect(): void
  /**
   * Drop the current socket and connect again at once, resuming from the last seq seen (the
   * wall's watchdog uses it when the server has gone quiet while the socket still looks open).
   */
  reconnect(): void
  /** The incident this console shows (or null): sent now when connected, and again after every reconnect. */
  setViewing(incidentId: string | null): void
}

/** The handshake's `auth`: the token (none: the cookie) and the audience viewed as, if any. */
export function handshakeAuth(token: string | null, viewAs?: string | null): { token?: string; viewAs?: string } {
  return { ...(token === null ? {} : { token }), ...(viewAs ? { viewAs } : {}) }
}

const defaultSocketFactory: SocketFactory = (token, viewAs) => {
  const auth = handshakeAuth(token, viewAs)
  return Object.keys(auth).length === 0 ? io({ transports: ['websocket'] }) : io({ transports: ['websocket'], auth })
}

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
  /** The incident this console shows (presence). */
  let viewing: string | null = null

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
  const emptyWindow = () => ({
    ...emptyPicture(actions().windowVersion),
    activity: new MinuteCounts(),
    newestAt: 0,
  })

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
        actions().heard()
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
        store.setState({ lastSeq: 0, headSeq: 0, ...emptyWindow() })
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
    const credential = actions().session?.kind === 'session' ? 'your session' : 'the token'
    disconnect()
    actions().reset(`Signed out: the server rejected ${credential} (${message}).`)
    options.onUnauthenticated?.(message)
  }

  function connect(token: string | null, viewAs?: string | null): void {
    disconnect()
    // a new connection (maybe a different viewer) starts from an empty picture
    store.setState({ status: 'connecting', lastSeq: 0, headSeq: 0, error: null, ...emptyWindow() })
    const s = viewAs ? socketFactory(token, viewAs) : socketFactory(token)
    socket = s

    s.on('connect', () => {
      if (s !== socket) return
      subscribe(s)
      // presence lives in the server's memory of this socket: say it again on every (re)connect
      if (viewing !== null) s.emit('viewing', { incidentId: viewing })
    })
    s.on('presence', (message) => {
      if (s !== socket) return
      options.onPresence?.(message)
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
      // the server refuses a token with `unauthenticated: <why>` (unknown, revoked, expired session)
      if (error.message === 'unauthenticated' || error.message.startsWith('unauthenticated:')) {
        unauthenticated(error.message.replace(/^unauthenticated:\s*/, '') || error.message)
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
    s.on('revoked', (message) => {
      // the token was revoked, the session ended or the account was disabled: the picture must go
      if (s !== socket) return
      unauthenticated(message.reason.replace(/_/g, ' '))
    })
    s.on('resync', (message) => {
      if (s !== socket) return
      actions().setStatus('resyncing')
      // what this viewer may see changed (a community joined or left): the picture held may show
      // what it may no longer see, so it goes, and the stream starts again from 0
      if (message.reason === 'access_changed') {
        buffered = []
        store.setState({ lastSeq: 0, headSeq: 0, ...emptyWindow() })
      }
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

  function reconnect(): void {
    const s = socket
    if (!s) return
    clearRetry()
    flush()
    subscription++
    actions().setStatus('reconnecting')
    s.disconnect()
    s.connect()
  }

  function setViewing(incidentId: string | null): void {
    if (incidentId === viewing) return
    viewing = incidentId
    if (socket?.connected) socket.emit('viewing', { incidentId })
  }

  return { connect, disconnect, reconnect, setViewing }
}

/** Where the app's presence messages go (set by the coordination store, which imports this module). */
let presenceListener: ((message: PresenceMessage) => void) | undefined
export function onPresence(listener: ((message: PresenceMessage) => void) | undefined): void {
  presenceListener = listener
}

/** The app's one connection; a rejected token is also forgotten. */
const appConnection = createConnection({
  onUnauthenticated: clearToken,
  onPresence: (message) => presenceListener?.(message),
  batchMs: 250,
})
export const connect = (token: string | null, viewAs?: string | null): void => appConnection.connect(token, viewAs)
export const disconnect = (): void => appConnection.disconnect()
export const setViewing = (incidentId: string | null): void => appConnection.setViewing(incidentId)

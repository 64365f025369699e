/**
 * The one connection module: a credential in, a live picture in the store out.
 *
 * Contract with the server (apps/server): connect with `auth: { token }` (or, with no
 * token, the browser's session cookie in the handshake) and `auth.protocolVersion` (the protocol's
 * `PROTOCOL_VERSION`: a server of another version refuses with `protocol_mismatch`, and the console
 * then asks to be reloaded rather than retrying) over WebSocket only, plus
 * `auth.viewAs: 'organisation:<id>'` while viewing as another audience (a read-only socket of
 * what both may see, data/viewAs.ts). Opening costs the size of the picture, not of the history:
 * with an empty picture (a fresh open, a new viewer, after `resync access_changed`, after a
 * subscribe conflict) the console first reads the viewer's snapshot (`GET /api/v1/state`: the
 * picture at seq N, the server's projection) and the recent events its views show (recorded in the
 * retention's opening span, up to N, in pages of `GET /api/v1/events`; data/history.ts), as the
 * same viewer as the socket (the token or the cookie, and `X-Watchfloor-View-As`); then it emits
 * `subscribe { after: N }`. It folds every `events` batch, advances the cursor on
 * `checkpoint` / `heartbeat`, and on a `slow_consumer` resync or any reconnect subscribes again
 * from the last seq seen. The store drops anything at or below its cursor, so nothing is folded
 * twice; subscribing from the cursor means nothing is missed. Older history is read in pages on
 * demand (`loadHistory`, the timeline).
 *
 * Presence is not in the log: `viewing { incidentId }` says which incident this console shows
 * (sent again after every reconnect), `presence { incidentId, viewers }` says who shows it.
 */
import {
  isOmitted,
  type LiveStateJson as LiveJson,
  omitsAnything,
  omittedFromJson,
  omittedNames,
  stateFromJson,
} from '@watchfloor/core'
import {
  type ClientToServerEvents,
  type ErrorBody,
  PROTOCOL_VERSION,
  type PresenceMessage,
  type ServerToClientEvents,
  type StoredEvent,
  type SubscribeAck,
} from '@watchfloor/protocol'
import { io, type Socket } from 'socket.io-client'
import {
  missingRanges,
  ReadError,
  type ReadJson,
  readJsonAs,
  readOlder,
  readRecent,
  type TimeRange,
} from './history.ts'
import { openWindow } from './retention.ts'
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
   * Called on every (re)connect, before the server's `presence` of the new connection: the server
   * tells a socket that connects who views what now, and nothing of those who left meanwhile.
   */
  onPresenceReset?: () => void
  /**
   * Events arriving within this many ms are folded together (one store update,
   * one render). 0 folds each message at once. Checkpoints wait for the batch.
   */
  batchMs?: number
  /**
   * Reconnect a live socket the server has gone quiet on (a half-open connection, a frozen server):
   * once heartbeats have shown their interval, silence for three of them (and 5 s) reconnects, which
   * resumes from the last seq. Looked at every `watchdogEveryMs` (default 5 s).
   */
  watchdog?: boolean
  watchdogEveryMs?: number
  /** How long to wait for a subscribe ack, and before retrying a refused subscribe or a dead connection. */
  ackTimeoutMs?: number
  retryMs?: number
  /** The REST reads of an opening console and of older history (default: the page's `fetch`). */
  fetchFn?: typeof fetch
  /** Prefix of the REST paths (default '': the page's origin). */
  baseUrl?: string
  /** Older history read per request of `loadHistory` at most (events). Default 50,000. */
  historyMaxEvents?: number
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
  /** The interval the server's heartbeats come at on this socket, as measured (ms; 0 until two came). */
  heartbeatInterval(): number
  /** The incident this console shows (or null): sent now when connected, and again after every reconnect. */
  setViewing(incidentId: string | null): void
  /**
   * Read the viewer's older history for the times of `range` the event window does not hold yet
   * (the timeline asks when it is moved before what is loaded): newest part first, at most
   * `historyMaxEvents` a read and a few reads a call. Resolves when done (errors go to the store).
   */
  loadHistory(range: TimeRange): Promise<void>
  /**
   * Bring an incident the live picture left out (closed before its `since`) into the picture: the
   * live picture is read again with it included. Nothing happens when it is held, or not left out.
   */
  want(incidentId: string): void
  /**
   * Bring everything the live picture left out into it (every closed incident and advisory): from
   * then on this viewer's picture is the whole one, its memory growing with the history.
   */
  wantEverything(): void
}

/** The handshake's `auth`: the token (none: the cookie), the audience viewed as, if any, and the protocol spoken. */
export function handshakeAuth(
  token: string | null,
  viewAs?: string | null,
): { token?: string; viewAs?: string; protocolVersion: number } {
  return { ...(token === null ? {} : { token }), ...(viewAs ? { viewAs } : {}), protocolVersion: PROTOCOL_VERSION }
}

const defaultSocketFactory: SocketFactory = (token, viewAs) =>
  io({ transports: ['websocket'], auth: handshakeAuth(token, viewAs) })

/**
 * What the console says when the server refuses its protocol version (`protocol_mismatch`): this page
 * is another release than the server, and only loading it again (the server's console) helps.
 */
export function outdatedMessage(error: Error & { data?: unknown }): string | null {
  const body = error.data as Partial<ErrorBody> | undefined
  if (body?.code !== 'protocol_mismatch' && !error.message.startsWith('protocol_mismatch:')) return null
  const { client, server } = (body?.details ?? {}) as { client?: unknown; server?: unknown }
  return `This console is out of date: it speaks protocol version ${typeof client === 'number' ? client : PROTOCOL_VERSION}${
    typeof server === 'number' ? ` and the server ${server}` : ', the server another'
  }. Reload the page to load the server's console.`
}

/** Reads of older history per `loadHistory` call at most (each up to `historyMaxEvents`). */
const HISTORY_READS = 4
/** Ids a console asks the live picture to include, at most (the server takes 200; the oldest asked go first). */
const MAX_WANTED = 200
/** A live picture as read (`omitted` absent: a whole picture). */
type LiveStateJson = Omit<LiveJson, 'omitted'> & { omitted?: LiveJson['omitted'] }

/** The live picture as the console reads it: everything open or recent, plus what it asked for. */
export function livePath(wanted: Iterable<string>, since: string | null = null): string {
  const query = new URLSearchParams({ scope: 'live' })
  if (since !== null) query.set('since', since)
  for (const id of wanted) query.append('include', id)
  return `/api/v1/state?${query}`
}

/** The most characters the ids asked for may take in a URL (well under a server's 16 KiB of headers). */
const MAX_WANTED_CHARS = 8_000

/** The `since` that keeps every closed incident and advisory (the whole picture, asked for by the user). */
const EVERYTHING_SINCE = new Date(0).toISOString()
/** The longest wait between two attempts to open the picture. */
const MAX_OPEN_RETRY_MS = 30_000
/** The longest wait for a subscribe's ack, in ack timeouts (30 s: 8 minutes). */
const MAX_ACK_WAIT_FACTOR = 16

export function createConnection(options: ConnectionOptions = {}): Connection {
  const store = options.store ?? watchfloor
  const socketFactory = options.socketFactory ?? defaultSocketFactory
  const ackTimeoutMs = options.ackTimeoutMs ?? 30_000
  const retryMs = options.retryMs ?? 2_000
  const batchMs = options.batchMs ?? 0
  const historyMaxEvents = options.historyMaxEvents ?? 50_000

  let socket: WatchfloorSocket | null = null
  /** Bumped on every subscribe; an ack for an older one is ignored. */
  let subscription = 0
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  /** The incident this console shows (presence). */
  let viewing: string | null = null
  /** GET as the socket's viewer (its credential and audience); null when not connected. */
  let read: ReadJson | null = null
  /** A heartbeat has set the server's clock (to the millisecond): the reads' `Date` (to the second) no longer does. */
  let clockFromHeartbeat = false
  /**
   * Whether the store holds this viewer's picture (opened from a snapshot): then a (re)connect
   * subscribes from the cursor; without one, it opens first.
   */
  let hasPicture = false
  /** The running open (its reads are aborted when the connection changes), or null. */
  let opening: AbortController | null = null
  /** Failed opens in a row (back-off); subscribe conflicts in a row (the second waits). */
  let openFailures = 0
  let conflicts = 0
  /** Handshakes refused in a row (the socket cap reached, an audience gone): each retry waits longer. */
  let refusals = 0
  /** Subscribes in a row with no ack in time: each waits twice as long as the one before. */
  let unacked = 0
  /** Bumped whenever the viewer or its picture is dropped: reads started before are ignored. */
  let generation = 0
  /** The running history read, and the range asked for meanwhile (read after it). */
  let historyRunning: Promise<void> | null = null
  let historyWanted: TimeRange | null = null
  /**
   * Ids asked to be kept in the live picture (events named them while left out, or the user opened
   * one), oldest first; sent as `include` with every read of the live picture of this viewer.
   */
  let wanted = new Set<string>()
  /** The live picture's `since` when the user asked for everything closed too (null: the server's default). */
  let since: string | null = null
  /** While the live picture is read again: the events (and the highest checkpoint) that arrive meanwhile. */
  let refreshing = false
  let held: StoredEvent[] = []
  let heldCheckpoint = 0
  /** Asked for while a refresh ran (ids, or everything): read again once it is done. */
  let wantedNext = new Set<string>()
  let refreshAgain = false

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
    deliver(events)
  }
  function receive(events: readonly StoredEvent[]): void {
    if (batchMs <= 0) {
      deliver(events)
      return
    }
    for (const event of events) buffered.push(event)
    flushTimer ??= setTimeout(flush, batchMs)
  }
  /**
   * Fold events onto the picture, unless one names what the live picture left out (core's
   * `omittedNames`): then fold those before it, hold it and the rest, and read the live picture
   * again with what it named included; the held events follow once it is in.
   */
  function deliver(events: readonly StoredEvent[]): void {
    if (refreshing) {
      for (const event of events) held.push(event)
      return
    }
    const omitted = actions().omitted
    if (omitted !== null && omitsAnything(omitted)) {
      // what the picture already holds is not folded again; what was asked for and is still listed
      // is a hash that only looks like one left out (or nothing this viewer may see): fold it
      const after = Math.max(actions().lastSeq, actions().liveState.seq)
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!
        if (event.seq <= after) continue
        const names = omittedNames(event, omitted).filter((id) => !wanted.has(id))
        if (names.length === 0) continue
        if (i > 0) apply(events.slice(0, i))
        held = events.slice(i)
        refresh(names)
        return
      }
    }
    apply(events)
  }

  /**
   * Fold events. When the retention pruned the picture meanwhile (it lists what it pruned as left
   * out), what was asked for and is gone again is asked for no more: an event naming it asks anew.
   */
  function apply(events: readonly StoredEvent[]): void {
    const before = actions().omitted
    actions().applyEvents(events)
    if (actions().omitted === before || wanted.size === 0) return
    const { incidents, tasks, advisories } = actions().liveState
    for (const id of wanted) if (!incidents.has(id) && !tasks.has(id) && !advisories.has(id)) wanted.delete(id)
  }

  /** A checkpoint (or heartbeat): after what is held, when a refresh runs. */
  function checkpoint(seq: number, heartbeat: boolean): void {
    if (refreshing) {
      heldCheckpoint = Math.max(heldCheckpoint, seq)
      actions().setHead(seq)
      actions().heard()
      return
    }
    if (heartbeat) actions().heartbeat(seq)
    else actions().checkpoint(seq)
  }

  function addWanted(ids: Iterable<string>): void {
    for (const id of ids) {
      wanted.delete(id)
      wanted.add(id)
    }
    let chars = 0
    for (const id of wanted) chars += encodeURIComponent(id).length + 9
    for (const id of wanted) {
      if (wanted.size <= MAX_WANTED && chars <= MAX_WANTED_CHARS) break
      wanted.delete(id)
      chars -= encodeURIComponent(id).length + 9
    }
  }

  /**
   * Read the live picture again with `ids` included, put it in place, then deliver what was held.
   * A read that fails (or a picture behind the stream, three times) opens the picture again.
   */
  function refresh(ids: Iterable<string>): void {
    if (refreshing) {
      for (const id of ids) wantedNext.add(id)
      refreshAgain = true
      return
    }
    addWanted(ids)
    refreshing = true
    const mine = generation
    const reader = read
    void (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          if (reader === null) throw new Error('not connected')
          const json = await reader<LiveStateJson>(livePath(wanted, since))
          if (mine !== generation) return
          const omitted = json.omitted === undefined ? null : omittedFromJson(json.omitted)
          if (actions().refreshPicture(stateFromJson(json), omitted, wanted)) break
          if (attempt >= 2) throw new Error('the server is behind this console')
          await new Promise((resolve) => setTimeout(resolve, retryMs / 4))
          if (mine !== generation) return
        } catch (error) {
          if (mine !== generation) return
          // open again from scratch, with what is wanted (what was asked meanwhile too), unless the
          // server refused what was asked (then without it): simpler than guessing what went wrong
          if (error instanceof ReadError && error.status >= 400 && error.status < 500 && error.status !== 401)
            wanted = new Set()
          else addWanted(wantedNext)
          endRefresh()
          const s = socket
          dropPicture()
          if (s?.connected) ready(s)
          return
        }
      }
      const events = held
      const seq = heldCheckpoint
      endRefresh()
      if (events.length > 0) deliver(events)
      if (seq > 0) checkpoint(seq, false)
      if (!refreshing && refreshAgain) {
        const next = wantedNext
        wantedNext = new Set()
        refreshAgain = false
        refresh(next)
      }
    })()
  }

  function endRefresh(): void {
    refreshing = false
    held = []
    heldCheckpoint = 0
  }

  /** A fresh, empty event window (the old one may hold another viewer's events). */
  const emptyWindow = () => emptyPicture(actions().windowVersion, actions().retention)

  /** Drop the picture: what is held may be another viewer's, or no longer exist. The next subscribe opens first. */
  function dropPicture(): void {
    generation++
    hasPicture = false
    opening?.abort()
    opening = null
    buffered = []
    endRefresh()
    wantedNext = new Set()
    refreshAgain = false
    historyWanted = null
    store.setState({ lastSeq: 0, headSeq: 0, opening: null, ...emptyWindow() })
  }

  function clearRetry(): void {
    if (retryTimer !== undefined) clearTimeout(retryTimer)
    retryTimer = undefined
  }

  function retry(s: WatchfloorSocket, action: () => void, delayMs = retryMs): void {
    clearRetry()
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      if (s === socket) action()
    }, delayMs)
  }

  /** Connected (or told to resync): resume from the cursor, or open the picture first when there is none. */
  function ready(s: WatchfloorSocket): void {
    if (hasPicture) subscribe(s)
    else if (opening === null) void open(s)
    // else: the open running subscribes when it is done
  }

  /**
   * Open an empty picture from the viewer's snapshot: `GET /api/v1/state` (the picture at seq N),
   * the recent events up to N, then `subscribe { after: N }`. Failures are shown and retried
   * (with back-off); a refused credential signs out.
   */
  async function open(s: WatchfloorSocket): Promise<void> {
    const reader = read
    if (reader === null) return
    clearRetry()
    const controller = new AbortController()
    opening = controller
    const mine = generation
    const stale = () => mine !== generation || opening !== controller
    actions().setOpening({ step: 'picture', received: 0, next: 0, last: 0 })
    try {
      const json = await reader<LiveStateJson>(livePath(wanted, since), controller.signal)
      const snapshot = stateFromJson(json)
      const omitted = json.omitted === undefined ? null : omittedFromJson(json.omitted)
      if (stale()) return
      const span = openWindow(actions().retention)
      // the span ends at the newest event recorded (the server's clock), or now
      let newest = Number.NEGATIVE_INFINITY
      for (const event of snapshot.recent) newest = Math.max(newest, Date.parse(event.recordedAt) || 0)
      const end = Number.isFinite(newest) ? newest : Date.now()
      const fromMs = Number.isFinite(span.hours) ? end - span.hours * 3_600_000 : Number.NEGATIVE_INFINITY
      actions().setOpening({ step: 'events', received: 0, next: 0, last: snapshot.seq })
      const recent = await readRecent(reader, {
        fromMs,
        through: snapshot.seq,
        maxSeqs: span.maxEvents,
        signal: controller.signal,
        onPage: (received, next, last) => {
          if (!stale()) actions().setOpening({ step: 'events', received, next, last })
        },
      })
      if (stale()) return
      opening = null
      openFailures = 0
      hasPicture = true
      actions().openPicture(snapshot, recent.events, recent.covered, omitted, wanted)
      const current = socket
      if (current?.connected) subscribe(current)
    } catch (error) {
      if (stale()) return
      opening = null
      actions().setOpening(null)
      if (error instanceof ReadError && error.code === 'unauthenticated') {
        unauthenticated(error.message.replace(/^\d+: /, ''))
        return
      }
      // the server refused what was asked for: ask for it no more
      if (error instanceof ReadError && error.status >= 400 && error.status < 500) wanted = new Set()
      openFailures++
      const wait = Math.min(MAX_OPEN_RETRY_MS, retryMs * 2 ** (openFailures - 1))
      actions().setError(
        `could not open the picture: ${error instanceof Error ? error.message : String(error)}; retrying in ${Math.round(wait / 1000)} s`,
      )
      // still connected: try again; else the next connect does
      retry(
        s,
        () => {
          const current = socket
          if (current?.connected && !hasPicture && opening === null) void open(current)
        },
        wait,
      )
    }
  }

  function subscribe(s: WatchfloorSocket): void {
    clearRetry()
    flush() // subscribe from what has really arrived
    const id = ++subscription
    const after = actions().lastSeq
    actions().setSubscribedAfter(after)
    // the server acks once its catch-up is done, and a long one (a long time away, little of it this
    // viewer's) may take longer than the wait: each wait in a row is twice the one before
    const wait = Math.min(ackTimeoutMs * 2 ** unacked, ackTimeoutMs * MAX_ACK_WAIT_FACTOR)
    s.timeout(wait).emit('subscribe', { after }, (err: Error | null, ack: SubscribeAck) => {
      if (s !== socket || id !== subscription) return // a newer subscribe (or connection) took over
      if (err) {
        // no ack in time: ask again if still connected (a reconnect subscribes by itself), from
        // where the events got to, waiting longer; the picture held stays
        unacked++
        if (s.connected) subscribe(s)
        return
      }
      unacked = 0
      if (ack.ok) {
        conflicts = 0
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
        // our cursor is not an event this viewer may see (the server's data was reset, or what it may
        // see changed): the picture we hold no longer exists; open it again (the second time after a wait)
        dropPicture()
        conflicts++
        if (conflicts > 1) retry(s, () => ready(s), Math.min(MAX_OPEN_RETRY_MS, retryMs * 2 ** (conflicts - 2)))
        else ready(s)
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

  /** The interval the server's heartbeats come at on this socket (ms; 0 until two came), and the last one. */
  let heartbeatEvery = 0
  let lastHeartbeatAt = 0
  let watchdogTimer: ReturnType<typeof setInterval> | undefined
  function watch(): void {
    if (!options.watchdog || watchdogTimer !== undefined) return
    watchdogTimer = setInterval(() => {
      const s = socket
      if (s === null || heartbeatEvery === 0 || actions().status !== 'live') return
      if (Date.now() - actions().lastMessageAt > 3 * heartbeatEvery + 5_000) {
        heartbeatEvery = 0
        lastHeartbeatAt = 0
        reconnect()
      }
    }, options.watchdogEveryMs ?? 5_000)
  }
  function heartbeatHeard(): void {
    const now = Date.now()
    // (two that waited in a queue arrive together: an interval under a second is none)
    if (lastHeartbeatAt > 0) heartbeatEvery = Math.max(1_000, now - lastHeartbeatAt)
    lastHeartbeatAt = now
  }

  function connect(token: string | null, viewAs?: string | null): void {
    disconnect()
    watch()
    // a new connection (maybe a different viewer) starts from an empty picture
    dropPicture()
    wanted = new Set()
    since = null
    openFailures = 0
    conflicts = 0
    refusals = 0
    unacked = 0
    store.setState({ status: 'connecting', error: null })
    // the REST reads are the socket's viewer: same credential, same audience
    // until a heartbeat has set the server's clock (every few seconds), the reads' `Date` does: the
    // first open prunes by it, and a kiosk's clock may be hours off
    read = readJsonAs(token, viewAs, options.fetchFn, options.baseUrl, (iso) => {
      if (!clockFromHeartbeat) actions().serverTime(iso)
    })
    const s = viewAs ? socketFactory(token, viewAs) : socketFactory(token)
    socket = s

    s.on('connect', () => {
      if (s !== socket) return
      refusals = 0
      // what was heard of presence before is forgotten: the server says who views what now
      options.onPresenceReset?.()
      ready(s)
      // presence lives in the server's memory of this socket: say it again on every (re)connect
      if (viewing !== null) s.emit('viewing', { incidentId: viewing })
    })
    s.on('presence', (message) => {
      if (s !== socket) return
      options.onPresence?.(message)
    })
    s.on('disconnect', (reason) => {
      if (s !== socket) return
      lastHeartbeatAt = 0 // the next interval is measured on the next connection
      subscription++ // any ack still in flight belongs to the old connection
      actions().setStatus('reconnecting')
      // the client only reconnects by itself when the server did not close the socket on purpose
      if (reason === 'io server disconnect') retry(s, () => s.connect())
    })
    s.on('connect_error', (error) => {
      if (s !== socket) return
      // another protocol version: no retry can help, only a reload (the server's own console)
      const outdated = outdatedMessage(error)
      if (outdated !== null) {
        disconnect()
        actions().setStatus('outdated', outdated)
        return
      }
      // the server refuses a token with `unauthenticated: <why>` (unknown, revoked, expired session)
      if (error.message === 'unauthenticated' || error.message.startsWith('unauthenticated:')) {
        unauthenticated(error.message.replace(/^unauthenticated:\s*/, '') || error.message)
        return
      }
      if (actions().status !== 'connecting') actions().setStatus('reconnecting')
      actions().setError(`connection failed: ${error.message}`)
      // refused by a middleware (socket.active false): socket.io will not retry by itself; the
      // refusal may last (too many sockets of this viewer), so each retry waits twice as long
      if (!s.active) {
        refusals++
        retry(s, () => s.connect(), Math.min(MAX_OPEN_RETRY_MS, retryMs * 2 ** (refusals - 1)))
      }
    })
    s.on('events', (message) => {
      if (s !== socket) return
      receive(message.events)
    })
    s.on('checkpoint', (message) => {
      if (s !== socket) return
      flush()
      checkpoint(message.seq, false)
    })
    s.on('heartbeat', (message) => {
      if (s !== socket) return
      flush()
      clockFromHeartbeat = true
      actions().serverTime(message.serverTime)
      heartbeatHeard()
      checkpoint(message.seq, true)
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
      // what it may no longer see, so it goes, and the picture opens again from the snapshot
      if (message.reason === 'access_changed') dropPicture()
      ready(s)
    })
  }

  function disconnect(): void {
    clearRetry()
    if (flushTimer !== undefined) clearTimeout(flushTimer)
    flushTimer = undefined
    buffered = []
    subscription++
    generation++
    opening?.abort()
    opening = null
    hasPicture = false
    read = null
    historyWanted = null
    endRefresh()
    heartbeatEvery = 0
    lastHeartbeatAt = 0
    if (watchdogTimer !== undefined) clearInterval(watchdogTimer)
    watchdogTimer = undefined
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

  /** One pass over what `range` lacks, newest part first, a few reads at most. */
  async function readHistory(range: TimeRange): Promise<void> {
    const mine = generation
    for (let reads = 0; reads < HISTORY_READS; reads++) {
      const reader = read
      if (reader === null || !hasPicture || mine !== generation) return
      const { loaded, lastSeq } = actions()
      const target = missingRanges(loaded, range).at(-1)
      if (target === undefined) return
      actions().setHistoryLoading(target, null)
      try {
        const older = await readOlder(reader, {
          fromMs: target.from,
          toMs: target.to,
          through: lastSeq,
          maxEvents: historyMaxEvents,
        })
        if (mine !== generation) return
        actions().addHistory(older.events, older.covered)
        // the retention dropped what was read (the window is full): say so rather than read it again
        if (missingRanges(actions().loaded, target).length > 0 && older.covered.to >= target.to) {
          actions().setHistoryLoading(
            null,
            `older history not kept: the window holds at most ${actions().retention.maxEvents} events`,
          )
          return
        }
      } catch (error) {
        if (mine !== generation) return
        actions().setHistoryLoading(null, error instanceof Error ? error.message : String(error))
        return
      }
    }
  }

  function loadHistory(range: TimeRange): Promise<void> {
    if (!(range.to > range.from)) return Promise.resolve()
    if (historyRunning) {
      historyWanted = range // the latest ask wins; read once the running one is done
      return historyRunning
    }
    const run = async () => {
      let next: TimeRange | null = range
      while (next) {
        await readHistory(next)
        next = historyWanted
        historyWanted = null
      }
    }
    historyRunning = run().finally(() => {
      historyRunning = null
    })
    return historyRunning
  }

  function want(incidentId: string): void {
    const { omitted, liveState } = actions()
    if (!hasPicture || omitted === null || liveState.incidents.has(incidentId)) return
    if (!isOmitted(omitted, 'incident', incidentId)) return
    refresh([incidentId])
  }

  function wantEverything(): void {
    const { omitted } = actions()
    if (!hasPicture || omitted === null || !omitsAnything(omitted)) return
    since = EVERYTHING_SINCE
    refresh([])
  }

  return {
    connect,
    disconnect,
    reconnect,
    heartbeatInterval: () => heartbeatEvery,
    setViewing,
    loadHistory,
    want,
    wantEverything,
  }
}

/** Where the app's presence messages go (set by the coordination store, which imports this module). */
let presenceListener: ((message: PresenceMessage) => void) | undefined
let presenceReset: (() => void) | undefined
export function onPresence(
  listener: ((message: PresenceMessage) => void) | undefined,
  reset?: (() => void) | undefined,
): void {
  presenceListener = listener
  presenceReset = reset
}

/** The app's one connection; a rejected token is also forgotten. */
const appConnection = createConnection({
  onUnauthenticated: clearToken,
  onPresence: (message) => presenceListener?.(message),
  onPresenceReset: () => presenceReset?.(),
  batchMs: 250,
  watchdog: true,
})
export const connect = (token: string | null, viewAs?: string | null): void => appConnection.connect(token, viewAs)
export const disconnect = (): void => appConnection.disconnect()
export const setViewing = (incidentId: string | null): void => appConnection.setViewing(incidentId)
/** Read older history of the app's viewer for the times of `range` not loaded yet (the timeline). */
export const loadHistory = (range: TimeRange): Promise<void> => appConnection.loadHistory(range)
/** Bring an incident the live picture left out into it (the detail of an old closed incident). */
export const wantIncident = (incidentId: string): void => appConnection.want(incidentId)
/** Bring every closed incident and advisory the live picture left out into it (the incident list asks). */
export const wantEverything = (): void => appConnection.wantEverything()

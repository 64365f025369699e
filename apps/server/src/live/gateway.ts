import { audienceKey, canSee, viewerKey } from '@watchfloor/core'
import {
  type ClientToServerEvents,
  exhaustiveSwitchError,
  PROTOCOL_VERSION,
  type RevokedReason,
  type ServerToClientEvents,
  type StoredEvent,
  type SubscribeAck,
  SubscribeRequest,
  type Viewer,
  WatchfloorError,
} from '@watchfloor/protocol'
import type { CredentialChange, EventStore } from '@watchfloor/store'
import type { Logger } from 'pino'
import type { BroadcastOperator, Server, Socket } from 'socket.io'
import type { Access, Caller } from '../access/access.ts'
import { viewerOf } from '../access/tokens.ts'
import { errorBody, readOnlyReason, toWatchfloorError } from '../http/errors.ts'
import type { GatewayMetrics } from '../ops/metrics.ts'
import { asSocket, outsideRequest } from '../ops/requestContext.ts'
import { messageArgs, refuseUnknownMessages } from './acks.ts'

export type WatchSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>
export type WatchServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>

export interface SocketData {
  viewer: Viewer
  /** Who connected, and with what credential: checked again when credentials change. */
  caller: Caller
  /** Bumped by each subscribe; a catch-up of an older generation stops. */
  generation: number
  live: boolean
  /**
   * The seq of the last event the socket was sent by its catch-up, or the `after` it named (an
   * event its viewer may see, or 0): with its rooms' heads, the socket's own head [D14].
   */
  head: number
}

export interface GatewayOptions {
  heartbeatMs: number
  /**
   * Bytes a socket may have waiting to be written (engine.io's write buffer and the WebSocket's) [D8]:
   * a live socket over it is told to resync; a catch-up never queues more.
   */
  maxBufferedBytes: number
  /** Packets a socket may have waiting: a second bound beside the bytes, whichever is reached first. */
  maxBufferedPackets: number
  /** A socket with bytes waiting and none written for this long is stalled: told to resync, or dropped [D8]. */
  stallMs: number
  /** Sockets one principal may have open at once [D13]. */
  socketsPerPrincipal: number
  /** Events per store read (fewer when they are large: a catch-up reads about half the byte budget at once). */
  pageSize: number
  /**
   * Another process's commit heard within this many ms of the last fan-out waits for the rest of
   * them, and goes out with whatever else comes meanwhile (0: at once). This process's own commits
   * always go out at once.
   */
  gatherMs: number
  /** How often every socket's credential is checked again (expired sessions, missed notifications). */
  recheckMs: number
  /** Resyncs, slow consumers, catch-up pages and fan-out lag, for `/metrics` (ops/metrics.ts). */
  metrics?: GatewayMetrics
  /** Called with each batch of the log once it is sent to the rooms that may see it. */
  fannedOut?: (events: readonly StoredEvent[]) => void
}

/** What a read-only display socket may emit; anything else (a command) is refused. */
const READ_ONLY_SOCKET_EVENTS: ReadonlySet<string> = new Set(['subscribe'])

/** Fan-outs look at slow consumers at most this often (a backlog grows at most this long unseen). */
const SHED_EVERY_MS = 25
/** Heartbeats are spread over at most this many slices of the interval. */
const BEAT_SLICES = 10

const LIVE_ROOM = 'live'
const audienceRoom = (key: string) => `aud:${key}`
const userRoom = (key: string) => `user:${key}`
/**
 * RED goes per viewer: the whole viewer tuple (organisation, nation, user, TLP ceiling [V9]), so
 * users of the same name in two organisations, or with two ceilings, never share a room.
 */
const userKey = viewerKey

/**
 * Streams the log to sockets. One tailer per process reads what the store
 * appended (whoever appended it) and fans it out once per audience: sockets of
 * viewers with the same organisation and nation share a room, so a batch is
 * encoded once per audience [V7]. RED events go per user. A socket first
 * catches up from the store, then joins its rooms in the same tick in which
 * its cursor meets the tailer's, so it gets every visible event exactly once.
 */
export class Gateway {
  /** Everything up to this seq has been fanned out to the live rooms. */
  private delivered = 0
  /** The highest head the store told of (or a subscribe named): the fan-out reads up to it. */
  private target = 0
  private pumping = false
  private pumpAgain = false
  /** When the last fan-out went out (`performance.now()`, ms), and the timer of the next while heard commits gather. */
  private lastFanOut = 0
  private gatherTimer: NodeJS.Timeout | undefined
  /** When the fan-out last looked for slow consumers (ms). */
  private lastShed = 0
  /** Live rooms, with the seq of the last event each was sent (0: none yet) [D14]. */
  private readonly audiences = new Map<string, Room>()
  private readonly users = new Map<string, Room>()
  private heartbeat: NodeJS.Timeout | undefined
  /**
   * Heartbeats go out in slices, each socket in its own, every `heartbeatMs`: a beat of every socket
   * at once is two writes per socket (a thousand consoles hold the event loop for tens of
   * milliseconds, and every delivery waits behind them); a slice is a tenth of that.
   */
  private readonly beatSlices: number
  private beatTick = 0
  private nextSlot = 0
  private readonly slots = new WeakMap<WatchSocket, number>()
  private recheckTimer: NodeJS.Timeout | undefined
  private sweepTimer: NodeJS.Timeout | undefined
  /** What the slow-consumer checks remember of each socket [D8]. */
  private readonly pressure = new WeakMap<WatchSocket, Pressure>()
  /** Open sockets per principal [D13]. */
  private readonly principals = new Map<string, number>()
  private unsubscribe: (() => void) | undefined
  private unwatchCredentials: (() => void) | undefined
  private unwatchDirectory: (() => void) | undefined

  constructor(
    private readonly io: WatchServer,
    private readonly store: EventStore,
    private readonly access: Access,
    private readonly logger: Logger,
    private readonly options: GatewayOptions,
  ) {
    // slices at least 50 ms apart, at most ten of them
    this.beatSlices = Math.max(1, Math.min(BEAT_SLICES, Math.floor(options.heartbeatMs / 50)))
  }

  async start(): Promise<void> {
    // told of new heads first, then the head: a commit in between is not left for the next one
    this.unsubscribe = this.store.onAppend((head, heard) => this.pump(head, heard))
    this.delivered = Math.max(this.delivered, await this.store.head())
    this.target = Math.max(this.target, this.delivered)
    // `auth: { token }` or the session cookie; a refusal says why (`unauthenticated: token revoked`).
    // First the protocol: a client of another version is refused before its credential is looked up.
    // In the socket's logging context: what the lookup logs carries the socket's id and, once found, its principal.
    this.io.use((socket, next) =>
      asSocket(socket.id, undefined, () => {
        const mismatch = protocolMismatch(socket.handshake.auth)
        if (mismatch) return next(refusalOf(mismatch))
        this.access.fromHandshake(socket.handshake).then(
          (caller) => {
            const refusal = this.admit(socket, caller)
            if (refusal) return next(refusal)
            socket.data = { viewer: viewerOf(caller), caller, generation: 0, live: false, head: 0 }
            next()
          },
          (error: unknown) => {
            if (toWatchfloorError(error).code === 'internal')
              this.logger.error({ err: error }, 'socket authentication failed')
            next(refusalOf(error))
          },
        )
      }),
    )
    this.io.on('connection', (socket) => this.accept(socket))
    this.unwatchCredentials = this.access.credentials.onChange((change) => this.credentialsChanged(change))
    this.unwatchDirectory = this.access.directory.onChange(() => this.directoryChanged())
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs / this.beatSlices)
    this.heartbeat.unref()
    this.recheckTimer = setInterval(() => this.recheck([...this.io.sockets.sockets.values()]), this.options.recheckMs)
    this.recheckTimer.unref()
    // a few looks per stall period, so a stall is seen within a quarter of it (and every second at most)
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, this.options.stallMs / 4)))
    this.sweepTimer.unref()
  }

  stop(): void {
    clearInterval(this.heartbeat)
    clearTimeout(this.gatherTimer)
    clearInterval(this.recheckTimer)
    clearInterval(this.sweepTimer)
    this.unsubscribe?.()
    this.unwatchCredentials?.()
    this.unwatchDirectory?.()
  }

  /**
   * The directory changed: a socket whose organisation's communities changed has another viewer
   * now [V10]. It leaves its rooms and is told to start again from 0 with the new viewer
   * (`resync` `access_changed`): what it holds may include events it may no longer see.
   */
  private directoryChanged(): void {
    for (const socket of this.io.sockets.sockets.values()) {
      const { caller, viewer } = socket.data
      if (!caller) continue
      const moved = this.access.inDirectory(caller)
      const next = viewerOf(moved)
      if (viewerKey(next) === viewerKey(viewer)) continue
      this.leave(socket)
      socket.data.generation++
      socket.data.caller = moved
      socket.data.viewer = next
      socket.data.head = 0
      this.logAbout(socket, (log) =>
        log.info({ user: next.userId, communities: next.communities ?? [] }, 'socket viewer changed'),
      )
      socket.emit('resync', { after: 0, reason: 'access_changed' })
      this.options.metrics?.resync('access_changed')
    }
  }

  /** A token was revoked, a session ended or an account changed: check the sockets that used it. */
  private credentialsChanged(change: CredentialChange): void {
    const affected = [...this.io.sockets.sockets.values()].filter(
      (socket) => socket.data.caller !== undefined && uses(socket.data.caller, change),
    )
    if (affected.length > 0) this.recheck(affected)
  }

  /** Check each socket's credential again (once per credential); disconnect those that no longer hold. */
  private recheck(sockets: WatchSocket[]): void {
    const byCredential = new Map<string, WatchSocket[]>()
    for (const socket of sockets) {
      const caller = socket.data.caller
      if (!caller || caller.credential.type === 'static') continue
      const key = JSON.stringify([caller.credential, caller.account])
      byCredential.set(key, [...(byCredential.get(key) ?? []), socket])
    }
    for (const group of byCredential.values())
      this.access.recheck(group[0]!.data.caller).then(
        (reason) => {
          if (reason) for (const socket of group) this.revoke(socket, reason)
        },
        (error: unknown) =>
          this.logAbout(group[0]!, (log) =>
            log.warn({ err: error }, 'could not check a socket credential; keeping it'),
          ),
      )
  }

  /** A line about one socket, with its id and principal as `reqId` and `principal` (ops/requestContext.ts). */
  private logAbout(socket: WatchSocket, write: (log: Logger) => void): void {
    asSocket(socket.id, socket.data.caller, () => write(this.logger))
  }

  /** Tell the socket why, then disconnect it (the message is written before the close). */
  private revoke(socket: WatchSocket, reason: RevokedReason): void {
    if (socket.disconnected) return
    this.logAbout(socket, (log) => log.info({ user: socket.data.viewer.userId, reason }, 'socket access revoked'))
    this.leave(socket)
    socket.data.generation++
    socket.emit('revoked', { reason })
    socket.disconnect(true)
  }

  /**
   * The cap of sockets per principal [D13], checked once the handshake's credential is known: a
   * refusal (`too_many_requests`), or null with the socket counted until its connection closes
   * (whether or not it ever connects to the namespace, so no place is lost).
   */
  private admit(socket: WatchSocket, caller: Caller): Error | null {
    const key = JSON.stringify([caller.organisation, caller.nation, caller.user])
    const open = this.principals.get(key) ?? 0
    const cap = this.options.socketsPerPrincipal
    if (open >= cap)
      return refusalOf(
        new WatchfloorError(
          'too_many_requests',
          `at most ${cap} sockets at once for ${caller.user} (${caller.organisation})`,
          { limit: cap },
        ),
      )
    this.principals.set(key, open + 1)
    let held = true
    const release = () => {
      if (!held) return
      held = false
      const left = (this.principals.get(key) ?? 1) - 1
      if (left > 0) this.principals.set(key, left)
      else this.principals.delete(key)
    }
    socket.once('disconnect', release)
    socket.conn.once('close', release)
    // the client went away while its credential was looked up: nothing will close it again
    if (socket.conn.readyState === 'closed') release()
    return null
  }

  /** The seq the live rooms have been sent up to. */
  get deliveredSeq(): number {
    return this.delivered
  }

  private accept(socket: WatchSocket): void {
    // each message it sends is handled in its logging context, `<socket id>.<n>` (ops/requestContext.ts)
    let messages = 0
    socket.use((_packet, next) => asSocket(`${socket.id}.${++messages}`, socket.data.caller, next))
    // a message no handler listens for is answered (a `validation` ack), never left waiting
    socket.use(refuseUnknownMessages)
    // a revocation notified between the handshake's lookup and now missed this socket: look once more
    this.recheck([socket])
    // a finished write of the transport is progress, even while more is queued behind it [D8]: engine.io
    // hands its write buffer to the transport (its `drain`) only once the transport's last write finished.
    // Counted there rather than on the transport's own `drain`, which engine.io listens to already: a
    // second listener there costs a copy of the listener list on every write of every socket.
    const pressure: Pressure = { bytes: 0, since: undefined, drains: 0, seen: 0 }
    this.pressure.set(socket, pressure)
    this.slots.set(socket, this.nextSlot++ % this.beatSlices)
    socket.conn.on('drain', () => {
      pressure.drains++
    })
    const readOnly = readOnlyReason(socket.data.caller) // [A1, A7]
    if (readOnly)
      // read-only: whatever a display socket (or one viewing as another audience) emits beyond reading is
      // refused, with a `forbidden` ack if it asked for one
      socket.use((packet, next) => {
        if (READ_ONLY_SOCKET_EVENTS.has(String(packet[0]))) return next()
        const ack = packet.at(-1)
        if (typeof ack === 'function') ack({ ok: false, error: errorBody(readOnlyReason(socket.data.caller)!) })
      })
    socket.on('subscribe', (...args: unknown[]) => {
      const { body: request, reply } = messageArgs<SubscribeAck>(args)
      const parsed = SubscribeRequest.safeParse(request)
      if (!parsed.success) {
        reply({ ok: false, error: { code: 'validation', message: 'subscribe needs { after: seq >= 0 }' } })
        return
      }
      this.subscribe(socket, parsed.data.after).then(
        () => reply({ ok: true, head: this.headOf(socket) }),
        (error: unknown) => {
          if (!(error instanceof WatchfloorError)) this.logger.error({ err: error }, 'subscribe failed')
          reply({ ok: false, error: errorBody(error) })
        },
      )
    })
    socket.on('disconnect', () => this.leave(socket))
  }

  private async subscribe(socket: WatchSocket, after: number): Promise<void> {
    this.leave(socket)
    const generation = ++socket.data.generation
    socket.data.head = 0
    const stopped = () => socket.data.generation !== generation || socket.disconnected
    const { viewer } = socket.data
    const { maxBufferedBytes, pageSize } = this.options
    let cursor = after
    let readLimit = pageSize
    if (after > 0) {
      // a resume point is an event the viewer may see: the same refusal for a hidden event and a
      // missing one, so no answer tells how long the log is [D6, D14]
      const [named] = await this.store.readAfter(after - 1, 1)
      if (named?.seq !== after || !canSee(viewer, named))
        throw new WatchfloorError('conflict', `after ${after} is not the seq of an event you may see`)
    }
    if (stopped()) return
    socket.data.head = after
    if (after > this.delivered) {
      // Another process appended what this one has not fanned out yet: let the tailer pass `after` first.
      while (this.delivered < after && socket.data.generation === generation && socket.connected) {
        this.pump(after)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
    while (cursor < this.delivered) {
      // read the next page once half the budget is free: catch-up follows the client's pace
      if (!(await this.room(socket, maxBufferedBytes / 2, stopped))) return
      const page = await this.store.readAfter(cursor, readLimit)
      this.options.metrics?.catchUpPage()
      if (stopped()) return
      // Only what the tailer has already fanned out: the rest reaches this socket through its rooms.
      const limit = this.delivered
      const visible: StoredEvent[] = []
      for (const event of page) {
        if (event.seq > limit) break
        cursor = event.seq
        if (canSee(viewer, event)) visible.push(event)
      }
      if (page.length === 0) cursor = limit
      // in messages of at most a quarter of the budget, each sent once it fits in the budget [D8]
      const sizes = visible.map(eventBytes)
      readLimit = nextReadLimit(page.length, sum(sizes), maxBufferedBytes / 2, pageSize)
      for (const [from, to] of byBytes(sizes, maxBufferedBytes / 4)) {
        if (!(await this.room(socket, messageBytes(sizes, from, to), stopped))) return
        socket.emit('events', { events: visible.slice(from, to) })
        socket.data.head = visible[to - 1]!.seq
      }
    }
    // a newer subscribe (or a change of viewer) took over while this one waited: it joins, not this one
    if (stopped()) return
    // cursor === delivered here, in this tick: join before the tailer can fan out again.
    this.join(socket)
  }

  /**
   * The socket's head [D14]: the last seq it was sent by its catch-up or its rooms, or the `after`
   * it named; always 0 or the seq of an event its viewer may see, never the log's head.
   */
  private headOf(socket: WatchSocket): number {
    const { viewer, head, live } = socket.data
    if (!live) return head
    return Math.max(
      head,
      this.audiences.get(audienceKey(viewer))?.head ?? 0,
      this.users.get(userKey(viewer))?.head ?? 0,
    )
  }

  /**
   * Wait until `bytes` more fit in the socket's budget (anything fits when nothing waits: an event
   * larger than the budget goes alone), with at most half the packet limit queued. False once the
   * catch-up is over (a new subscribe, a resync, a disconnect).
   */
  private async room(socket: WatchSocket, bytes: number, stopped: () => boolean): Promise<boolean> {
    const { maxBufferedBytes, maxBufferedPackets } = this.options
    for (;;) {
      if (stopped()) return false
      const waiting = backlog(socket)
      if (
        (waiting.bytes === 0 || waiting.bytes + bytes <= maxBufferedBytes) &&
        waiting.packets <= maxBufferedPackets / 2
      )
        return true
      // until the transport finishes a write, or 100 ms (a write of one large message drains gradually)
      await new Promise<void>((resolve) => {
        const transport = socket.conn.transport
        const done = () => {
          clearTimeout(timer)
          transport.off('drain', done)
          resolve()
        }
        const timer = setTimeout(done, 100)
        transport.once('drain', done)
      })
    }
  }

  private join(socket: WatchSocket): void {
    const { viewer } = socket.data
    socket.data.live = true
    const key = audienceKey(viewer)
    socket.join([LIVE_ROOM, audienceRoom(key), userRoom(userKey(viewer))])
    count(this.audiences, key, viewer, 1)
    count(this.users, userKey(viewer), viewer, 1)
  }

  private leave(socket: WatchSocket): void {
    if (!socket.data.live) return
    const { viewer } = socket.data
    socket.data.head = this.headOf(socket)
    socket.data.live = false
    const key = audienceKey(viewer)
    socket.leave(LIVE_ROOM)
    socket.leave(audienceRoom(key))
    socket.leave(userRoom(userKey(viewer)))
    count(this.audiences, key, viewer, -1)
    count(this.users, userKey(viewer), viewer, -1)
  }

  /**
   * Read what was appended since the last fan-out, up to the newest head the store told of, one read
   * at a time. Reads no further than that head: a store that keeps its newest events in memory
   * answers them without a query, and anything later comes with its own head.
   *
   * A head heard from another process (`heard`) within `gatherMs` of the last fan-out waits for the
   * rest of that time: on one PostgreSQL log each process commits only the POSTs it took, so N
   * processes make about N times the commits of one, and each would be a message to every live
   * socket of every process. Gathered, they go out together, or with this process's next commit if
   * that comes first: its own commits go out once answered (the store tells them again as not
   * heard when their notification came first), so one process alone never waits.
   */
  private pump(head = 0, heard = false): void {
    // background work, whichever append or subscribe set it going: its lines are no request's
    outsideRequest(() => this.pumpOutside(head, heard))
  }

  private pumpOutside(head: number, heard: boolean): void {
    if (head > this.target) this.target = head
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    // a monotonic clock: a wall clock set back would hold heard commits for as long as it went back
    const wait = this.lastFanOut + this.options.gatherMs - performance.now()
    if (heard && wait > 0 && this.delivered < this.target) {
      this.gatherTimer ??= setTimeout(() => {
        this.gatherTimer = undefined
        this.pump()
      }, wait)
      return
    }
    clearTimeout(this.gatherTimer)
    this.gatherTimer = undefined
    this.pumping = true
    void (async () => {
      try {
        do {
          this.pumpAgain = false
          for (;;) {
            if (this.nobodyLive()) {
              // nobody is live: move on without reading (catch-ups read the store themselves);
              // a socket that went live while the head was read is served by reading below
              const head = await this.store.head()
              if (this.nobodyLive()) {
                this.delivered = Math.max(this.delivered, head)
                break
              }
            }
            if (this.delivered >= this.target) break
            const page = await this.store.readAfter(
              this.delivered,
              Math.min(this.options.pageSize, this.target - this.delivered),
            )
            if (page.length === 0) break
            this.fanOut(page)
          }
        } while (this.pumpAgain)
      } catch (error) {
        this.logger.error({ err: error }, 'reading the log for fan-out failed; retrying')
        setTimeout(() => this.pump(), 500).unref()
      } finally {
        this.pumping = false
      }
    })()
  }

  private nobodyLive(): boolean {
    return this.audiences.size === 0 && this.users.size === 0
  }

  private fanOut(events: StoredEvent[]): void {
    const end = events.at(-1)!.seq
    this.delivered = end
    this.lastFanOut = performance.now()
    // Users with a live socket who may see a RED event of this batch get a batch of their own
    // (keyed by user and TLP ceiling: a wall capped below RED is not one of them [V9]).
    const redUsers = new Set<string>()
    const red = events.filter((event) => event.marking.tlp === 'RED')
    if (red.length > 0)
      for (const [key, user] of this.users) if (red.some((event) => canSee(user.viewer, event))) redUsers.add(key)
    const except = [...redUsers].map(userRoom)
    // A batch none of whose events a room may see sends it nothing: not even a checkpoint, which
    // would tell that something hidden was just recorded [D4, D14].
    for (const [key, audience] of this.audiences) {
      const visible = events.filter((event) => event.marking.tlp !== 'RED' && canSee(audience.viewer, event))
      this.send(this.io.to(audienceRoom(key)).except(except), audience, visible)
    }
    for (const user of redUsers) {
      const room = this.users.get(user)!
      this.send(
        this.io.to(userRoom(user)),
        room,
        events.filter((event) => canSee(room.viewer, event)),
      )
    }
    this.options.metrics?.fannedOut(events)
    try {
      this.options.fannedOut?.(events)
    } catch (error) {
      this.logger.error({ err: error }, 'after a fan-out: its listener failed')
    }
    this.shedSlowConsumers()
  }

  private send(target: BroadcastOperator<ServerToClientEvents, SocketData>, room: Room, visible: StoredEvent[]): void {
    if (visible.length === 0) return
    target.emit('events', { events: visible })
    room.head = visible.at(-1)!.seq
  }

  /**
   * After a live fan-out: a live socket over its budget, or stalled, is told to resync [D8]. At most
   * every `SHED_EVERY_MS` (fan-outs come a hundred times a second under load, and each look is a
   * walk over every socket's queue); the sweep looks at every socket as well.
   */
  private shedSlowConsumers(): void {
    const now = Date.now()
    if (now - this.lastShed < SHED_EVERY_MS) return
    this.lastShed = now
    for (const socket of this.io.sockets.sockets.values()) if (socket.data.live) this.check(socket)
  }

  /** Every socket, every so often: heartbeats and presence queue up too, and a stall needs a clock [D8]. */
  private sweep(): void {
    for (const socket of this.io.sockets.sockets.values()) this.check(socket)
  }

  private check(socket: WatchSocket): void {
    const pressure = this.pressure.get(socket)
    if (!pressure || socket.disconnected) return
    const waiting = backlog(socket)
    const verdict = judge(pressure, waiting, socket.data.live, Date.now(), this.options)
    if (verdict === null) return
    const fields = { user: socket.data.viewer.userId, why: verdict.why, ...waiting }
    if (verdict.action === 'resync') {
      // a live socket has been sent every fan-out up to `delivered`, its events and checkpoint queued before this
      this.leave(socket)
      socket.data.generation++
      this.logAbout(socket, (log) => log.warn(fields, 'slow consumer told to resync'))
      socket.emit('resync', { after: socket.data.head, reason: 'slow_consumer' })
      this.options.metrics?.resync('slow_consumer')
      this.options.metrics?.slowConsumer('resync')
      return
    }
    // not live and still not draining: a client that stopped reading; what waits for it is freed now
    this.logAbout(socket, (log) => log.warn(fields, 'slow consumer disconnected'))
    this.options.metrics?.slowConsumer('disconnect')
    this.leave(socket)
    socket.data.generation++
    const ws = (socket.conn.transport as unknown as { socket?: { terminate?: () => void } }).socket
    socket.disconnect(true)
    // no closing handshake (the client does not read it): engine.io would keep its buffer until a ping timeout
    ws?.terminate?.()
  }

  /**
   * Each live socket hears its own head [D9, D14]: the log's would count what it may not see. One
   * slice of the sockets per call, so each socket hears it every `heartbeatMs`.
   */
  private beat(): void {
    const slice = this.beatTick++ % this.beatSlices
    const serverTime = new Date().toISOString()
    // Sockets that hear the same head share one encoding of each message (a room of a thousand
    // consoles is a few messages to encode, not two thousand).
    const bySeq = new Map<number, string[]>()
    for (const socket of this.io.sockets.sockets.values()) {
      if (!socket.data.live || this.slots.get(socket) !== slice) continue
      const seq = this.headOf(socket)
      const ids = bySeq.get(seq)
      if (ids) ids.push(socket.id)
      else bySeq.set(seq, [socket.id])
    }
    for (const [seq, ids] of bySeq) {
      // each socket is in the room of its own id; this server's adapter is in-memory (local)
      this.io.to(ids).emit('checkpoint', { seq })
      this.io.to(ids).emit('heartbeat', { seq, serverTime })
    }
  }
}

/** Does this caller depend on what changed? */
function uses(caller: Caller, change: CredentialChange): boolean {
  const { credential } = caller
  switch (change.type) {
    case 'token':
      return credential.type === 'token' && credential.id === change.id
    case 'session':
      return credential.type === 'session' && credential.idHash === change.idHash
    case 'account':
      return caller.account === change.username
    case 'directory':
      return false // the viewer's communities: see directoryChanged
    case 'feeds':
      return false // a partner feed is no credential
    default:
      return exhaustiveSwitchError(change)
  }
}

/** A live room: whose it is, its sockets, and the seq of the last event it was sent [D14]. */
interface Room {
  viewer: Viewer
  sockets: number
  head: number
}

function count(map: Map<string, Room>, key: string, viewer: Viewer, delta: number): void {
  const entry = map.get(key)
  if (!entry) {
    if (delta > 0) map.set(key, { viewer, sockets: delta, head: 0 })
    return
  }
  entry.sockets += delta
  if (entry.sockets <= 0) map.delete(key)
}

/**
 * The handshake's `auth.protocolVersion` against this server's `PROTOCOL_VERSION`: null when it is the
 * same (a number, or the same digits as a string), or when the client sends none (an outside tool);
 * else a `protocol_mismatch` naming both (`details: { client, server }`), which the console answers
 * by asking to be reloaded.
 */
export function protocolMismatch(auth: Record<string, unknown> | undefined): WatchfloorError | null {
  const sent = auth?.protocolVersion
  if (sent === undefined || sent === null || sent === PROTOCOL_VERSION || sent === String(PROTOCOL_VERSION)) return null
  // what the client sent: a number as it is, anything else as (at most 64 characters of) its JSON
  const client = typeof sent === 'number' ? sent : String(JSON.stringify(sent)).slice(0, 64)
  return new WatchfloorError(
    'protocol_mismatch',
    `this client speaks protocol version ${client}, this server ${PROTOCOL_VERSION}: reload the console (or update the client)`,
    { client, server: PROTOCOL_VERSION },
  )
}

/** A refusal of a handshake: `connect_error` with `code: message`, and the error body as `err.data` [D12]. */
function refusalOf(error: unknown): Error {
  const body = errorBody(error)
  const refusal = new Error(`${body.code}: ${body.message}`) as Error & { data?: unknown }
  refusal.data = body
  return refusal
}

/** What waits to be written to one socket: bytes, and engine.io packets. */
export interface Backlog {
  bytes: number
  packets: number
}

/**
 * Bytes waiting for a socket, where they wait: packets in engine.io's write buffer (not yet handed
 * to the transport, which takes them only once its previous write has finished; each packet's
 * encoded size is measured once), plus what the WebSocket was handed and the kernel has not taken
 * yet (`ws.bufferedAmount`: the sender's queue and the TCP socket's write buffer). Whoever emitted
 * (a catch-up, a fan-out, a heartbeat, presence), it is counted.
 */
export function backlog(socket: WatchSocket): Backlog {
  const conn = socket.conn as unknown as {
    writeBuffer: { data?: unknown }[]
    transport: { socket?: { bufferedAmount?: unknown } }
  }
  let bytes = 0
  for (const packet of conn.writeBuffer) bytes += packetBytes(packet)
  const buffered = conn.transport.socket?.bufferedAmount
  if (typeof buffered === 'number') bytes += buffered
  return { bytes, packets: conn.writeBuffer.length }
}

const packetSizes = new WeakMap<object, number>()

/** An engine.io packet's bytes on the wire (its type and its data), computed once per packet. */
export function packetBytes(packet: { data?: unknown }): number {
  let size = packetSizes.get(packet)
  if (size === undefined) {
    const { data } = packet
    size =
      1 +
      (typeof data === 'string'
        ? Buffer.byteLength(data)
        : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
          ? data.byteLength
          : 0)
    packetSizes.set(packet, size)
  }
  return size
}

/** What the slow-consumer checks remember of a socket between two looks [D8]. */
export interface Pressure {
  /** Bytes waiting at the last look. */
  bytes: number
  /** Since when bytes have waited with nothing written (undefined: nothing waits). */
  since: number | undefined
  /** Write buffers engine.io handed to the transport, each after the transport's last write finished (its `drain`). */
  drains: number
  /** `drains` at the last look. */
  seen: number
}

export type Verdict = { action: 'resync' | 'drop'; why: 'bytes' | 'packets' | 'stalled' } | null

/**
 * One look at a socket [D8]. Progress is a finished write, or fewer bytes waiting than at the last
 * look; the stall clock runs while bytes wait without progress. A live socket over the byte or packet
 * limit, or stalled for `stallMs`, is to be told to resync, and its clock starts again: one that then
 * still does not drain for `stallMs` (no longer live) is to be dropped, as is any socket that is not
 * live (catching up, told to resync, never subscribed) and stalled.
 */
export function judge(
  pressure: Pressure,
  waiting: Backlog,
  live: boolean,
  now: number,
  limits: Pick<GatewayOptions, 'maxBufferedBytes' | 'maxBufferedPackets' | 'stallMs'>,
): Verdict {
  const progressed = waiting.bytes < pressure.bytes || pressure.drains !== pressure.seen
  pressure.bytes = waiting.bytes
  pressure.seen = pressure.drains
  if (waiting.bytes === 0) pressure.since = undefined
  else if (progressed || pressure.since === undefined) pressure.since = now
  const stalled = pressure.since !== undefined && now - pressure.since >= limits.stallMs
  if (!live) return stalled ? { action: 'drop', why: 'stalled' } : null
  const why =
    waiting.bytes > limits.maxBufferedBytes
      ? 'bytes'
      : waiting.packets > limits.maxBufferedPackets
        ? 'packets'
        : stalled
          ? 'stalled'
          : null
  if (why === null) return null
  if (pressure.since !== undefined) pressure.since = now
  return { action: 'resync', why }
}

/** An event's bytes in an `events` message (its JSON, UTF-8). */
export function eventBytes(event: StoredEvent): number {
  return Buffer.byteLength(JSON.stringify(event))
}

/** `42["events",{"events":[` ... `]}]` around the events of a message, and a comma between two. */
const MESSAGE_FRAME_BYTES = 26

/** The bytes of an `events` message of the events `from` (inclusive) to `to` (exclusive). */
export function messageBytes(sizes: number[], from: number, to: number): number {
  let bytes = MESSAGE_FRAME_BYTES + Math.max(0, to - from - 1)
  for (let i = from; i < to; i++) bytes += sizes[i]!
  return bytes
}

/** Consecutive ranges `[from, to)` of at most `max` bytes as a message each; an event larger than `max` alone. */
export function byBytes(sizes: number[], max: number): [number, number][] {
  const ranges: [number, number][] = []
  let from = 0
  let bytes = 0
  for (let i = 0; i < sizes.length; i++) {
    if (i > from && bytes + 1 + sizes[i]! > max) {
      ranges.push([from, i])
      from = i
    }
    bytes = i === from ? MESSAGE_FRAME_BYTES + sizes[i]! : bytes + 1 + sizes[i]!
  }
  if (from < sizes.length) ranges.push([from, sizes.length])
  return ranges
}

/** How many events to read next so that a page holds about `target` bytes of events (1 to `pageSize`). */
export function nextReadLimit(read: number, bytes: number, target: number, pageSize: number): number {
  if (read === 0 || bytes <= 0) return pageSize
  return Math.max(1, Math.min(pageSize, Math.floor((read * target) / bytes)))
}

function sum(values: number[]): number {
  let total = 0
  for (const value of values) total += value
  return total
}

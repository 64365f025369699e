import { audienceKey, canSee } from '@watchfloor/core'
import {
  type ClientToServerEvents,
  type ErrorBody,
  type ServerToClientEvents,
  type StoredEvent,
  SubscribeRequest,
  type Viewer,
  WatchfloorError,
} from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import type { Logger } from 'pino'
import type { BroadcastOperator, Server, Socket } from 'socket.io'
import { type TokenRegistry, viewerOf } from './auth.ts'

type WatchSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>
type WatchServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>

interface SocketData {
  viewer: Viewer
  /** Bumped by each subscribe; a catch-up of an older generation stops. */
  generation: number
  live: boolean
}

export interface GatewayOptions {
  heartbeatMs: number
  /** Packets a socket may have waiting before it is told to resync. */
  maxBufferedPackets: number
  /** Events per store read. */
  pageSize: number
}

const LIVE_ROOM = 'live'
const audienceRoom = (key: string) => `aud:${key}`
const userRoom = (user: string) => `user:${user}`

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
  private pumping = false
  private pumpAgain = false
  private readonly audiences = new Map<string, { viewer: Viewer; sockets: number }>()
  private readonly users = new Map<string, { viewer: Viewer; sockets: number }>()
  private heartbeat: NodeJS.Timeout | undefined
  private unsubscribe: (() => void) | undefined

  constructor(
    private readonly io: WatchServer,
    private readonly store: EventStore,
    private readonly registry: TokenRegistry,
    private readonly logger: Logger,
    private readonly options: GatewayOptions,
  ) {}

  async start(): Promise<void> {
    this.delivered = await this.store.head()
    this.unsubscribe = this.store.onAppend(() => this.pump())
    this.io.use((socket, next) => {
      const principal = this.registry.authenticate(socket.handshake.auth?.token)
      if (!principal) return next(new Error('unauthenticated'))
      socket.data = { viewer: viewerOf(principal), generation: 0, live: false }
      next()
    })
    this.io.on('connection', (socket) => this.accept(socket))
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs)
    this.heartbeat.unref()
  }

  stop(): void {
    clearInterval(this.heartbeat)
    this.unsubscribe?.()
  }

  /** The seq the live rooms have been sent up to. */
  get deliveredSeq(): number {
    return this.delivered
  }

  private accept(socket: WatchSocket): void {
    socket.on('subscribe', (request, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {}
      const parsed = SubscribeRequest.safeParse(request)
      if (!parsed.success) {
        reply({ ok: false, error: { code: 'validation', message: 'subscribe needs { after: seq >= 0 }' } })
        return
      }
      this.subscribe(socket, parsed.data.after).then(
        (head) => reply({ ok: true, head }),
        (error: unknown) => reply({ ok: false, error: errorBody(error) }),
      )
    })
    socket.on('disconnect', () => this.leave(socket))
  }

  private async subscribe(socket: WatchSocket, after: number): Promise<number> {
    this.leave(socket)
    const generation = ++socket.data.generation
    const { viewer } = socket.data
    let cursor = after
    let sentThrough = after
    if (after > this.delivered) {
      const head = await this.store.head()
      if (after > head)
        throw new WatchfloorError('conflict', `after ${after} is beyond the head of the log (${head})`, { head })
      // Another process appended what this one has not fanned out yet: let the tailer pass `after` first.
      while (this.delivered < after && socket.data.generation === generation && socket.connected) {
        this.pump()
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
    while (cursor < this.delivered) {
      await this.drained(socket)
      if (socket.data.generation !== generation || socket.disconnected) return this.delivered
      const page = await this.store.readAfter(cursor, this.options.pageSize)
      if (socket.data.generation !== generation || socket.disconnected) return this.delivered
      // Only what the tailer has already fanned out: the rest reaches this socket through its rooms.
      const limit = this.delivered
      const visible: StoredEvent[] = []
      for (const event of page) {
        if (event.seq > limit) break
        cursor = event.seq
        if (canSee(viewer, event)) visible.push(event)
      }
      if (page.length === 0) cursor = limit
      if (visible.length > 0) {
        socket.emit('events', { events: visible })
        sentThrough = visible.at(-1)!.seq
      }
    }
    // cursor === delivered here, in this tick: join before the tailer can fan out again.
    if (sentThrough < this.delivered) socket.emit('checkpoint', { seq: this.delivered })
    this.join(socket)
    return this.delivered
  }

  /** Wait while a socket has much waiting to be written: catch-up follows the client's pace. */
  private async drained(socket: WatchSocket): Promise<void> {
    while (queued(socket) > this.options.maxBufferedPackets / 2 && socket.connected)
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(done, 200)
        socket.conn.once('drain', done)
      })
  }

  private join(socket: WatchSocket): void {
    const { viewer } = socket.data
    socket.data.live = true
    const key = audienceKey(viewer)
    socket.join([LIVE_ROOM, audienceRoom(key), userRoom(viewer.userId)])
    count(this.audiences, key, viewer, 1)
    count(this.users, viewer.userId, viewer, 1)
  }

  private leave(socket: WatchSocket): void {
    if (!socket.data.live) return
    const { viewer } = socket.data
    socket.data.live = false
    const key = audienceKey(viewer)
    socket.leave(LIVE_ROOM)
    socket.leave(audienceRoom(key))
    socket.leave(userRoom(viewer.userId))
    count(this.audiences, key, viewer, -1)
    count(this.users, viewer.userId, viewer, -1)
  }

  /** Read what was appended since the last fan-out, one read at a time. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
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
            const page = await this.store.readAfter(this.delivered, this.options.pageSize)
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
    // Users with a live socket who may see a RED event of this batch get a batch of their own.
    const redUsers = new Set<string>()
    for (const event of events) {
      if (event.marking.tlp !== 'RED') continue
      for (const user of event.marking.recipients ?? []) if (this.users.has(user)) redUsers.add(user)
      if (event.actor && this.users.has(event.actor.user)) redUsers.add(event.actor.user)
    }
    const except = [...redUsers].map(userRoom)
    for (const [key, audience] of this.audiences) {
      const visible = events.filter((event) => event.marking.tlp !== 'RED' && canSee(audience.viewer, event))
      this.send(this.io.to(audienceRoom(key)).except(except), visible, end)
    }
    for (const user of redUsers) {
      const viewer = this.users.get(user)!.viewer
      this.send(
        this.io.to(userRoom(user)),
        events.filter((event) => canSee(viewer, event)),
        end,
      )
    }
    this.shedSlowConsumers(end)
  }

  private send(target: BroadcastOperator<ServerToClientEvents, SocketData>, visible: StoredEvent[], end: number): void {
    if (visible.length > 0) target.emit('events', { events: visible })
    if ((visible.at(-1)?.seq ?? 0) < end) target.emit('checkpoint', { seq: end })
  }

  /** A socket too slow to keep up leaves the live rooms and is told to resume from the store. */
  private shedSlowConsumers(end: number): void {
    for (const socket of this.io.sockets.sockets.values()) {
      if (!socket.data.live || queued(socket) <= this.options.maxBufferedPackets) continue
      this.leave(socket)
      socket.data.generation++
      this.logger.warn({ user: socket.data.viewer.userId }, 'slow consumer told to resync')
      socket.emit('resync', { after: end, reason: 'slow_consumer' })
    }
  }

  private beat(): void {
    const seq = this.delivered
    const room = this.io.to(LIVE_ROOM)
    room.emit('checkpoint', { seq })
    room.emit('heartbeat', { seq, serverTime: new Date().toISOString() })
  }
}

function count(
  map: Map<string, { viewer: Viewer; sockets: number }>,
  key: string,
  viewer: Viewer,
  delta: number,
): void {
  const entry = map.get(key)
  if (!entry) {
    if (delta > 0) map.set(key, { viewer, sockets: delta })
    return
  }
  entry.sockets += delta
  if (entry.sockets <= 0) map.delete(key)
}

function errorBody(error: unknown): ErrorBody {
  if (error instanceof WatchfloorError) return error.toBody()
  return { code: 'internal', message: 'internal error' }
}

/** Packets engine.io holds for a socket that the transport has not yet written. */
function queued(socket: WatchSocket): number {
  return (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length
}

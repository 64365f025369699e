import { audienceKey, canSee, viewerKey } from '@watchfloor/core'
import {
  type ClientToServerEvents,
  exhaustiveSwitchError,
  type RevokedReason,
  type ServerToClientEvents,
  type StoredEvent,
  SubscribeRequest,
  type Viewer,
  WatchfloorError,
} from '@watchfloor/protocol'
import type { CredentialChange, EventStore } from '@watchfloor/store'
import type { Logger } from 'pino'
import type { BroadcastOperator, Server, Socket } from 'socket.io'
import type { Access, Caller } from '../access/access.ts'
import { viewerOf } from '../access/tokens.ts'
import { errorBody } from '../http/errors.ts'

export type WatchSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>
export type WatchServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>

export interface SocketData {
  viewer: Viewer
  /** Who connected, and with what credential: checked again when credentials change. */
  caller: Caller
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
  /** How often every socket's credential is checked again (expired sessions, missed notifications). */
  recheckMs: number
}

/** What a read-only display socket may emit; anything else (a command) is refused. */
const DISPLAY_SOCKET_EVENTS: ReadonlySet<string> = new Set(['subscribe'])

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
  private pumping = false
  private pumpAgain = false
  private readonly audiences = new Map<string, { viewer: Viewer; sockets: number }>()
  private readonly users = new Map<string, { viewer: Viewer; sockets: number }>()
  private heartbeat: NodeJS.Timeout | undefined
  private recheckTimer: NodeJS.Timeout | undefined
  private unsubscribe: (() => void) | undefined
  private unwatchCredentials: (() => void) | undefined

  constructor(
    private readonly io: WatchServer,
    private readonly store: EventStore,
    private readonly access: Access,
    private readonly logger: Logger,
    private readonly options: GatewayOptions,
  ) {}

  async start(): Promise<void> {
    this.delivered = await this.store.head()
    this.unsubscribe = this.store.onAppend(() => this.pump())
    // `auth: { token }` or the session cookie; a refusal says why (`unauthenticated: token revoked`)
    this.io.use((socket, next) => {
      this.access.fromHandshake(socket.handshake).then(
        (caller) => {
          socket.data = { viewer: viewerOf(caller), caller, generation: 0, live: false }
          next()
        },
        (error: unknown) => {
          const body = errorBody(error)
          const refusal = new Error(`${body.code}: ${body.message}`) as Error & { data?: unknown }
          refusal.data = body
          if (body.code === 'internal') this.logger.error({ err: error }, 'socket authentication failed')
          next(refusal)
        },
      )
    })
    this.io.on('connection', (socket) => this.accept(socket))
    this.unwatchCredentials = this.access.credentials.onChange((change) => this.credentialsChanged(change))
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs)
    this.heartbeat.unref()
    this.recheckTimer = setInterval(() => this.recheck([...this.io.sockets.sockets.values()]), this.options.recheckMs)
    this.recheckTimer.unref()
  }

  stop(): void {
    clearInterval(this.heartbeat)
    clearInterval(this.recheckTimer)
    this.unsubscribe?.()
    this.unwatchCredentials?.()
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
        (error: unknown) => this.logger.warn({ err: error }, 'could not check a socket credential; keeping it'),
      )
  }

  /** Tell the socket why, then disconnect it (the message is written before the close). */
  private revoke(socket: WatchSocket, reason: RevokedReason): void {
    if (socket.disconnected) return
    this.logger.info({ user: socket.data.viewer.userId, reason }, 'socket access revoked')
    this.leave(socket)
    socket.data.generation++
    socket.emit('revoked', { reason })
    socket.disconnect(true)
  }

  /** The seq the live rooms have been sent up to. */
  get deliveredSeq(): number {
    return this.delivered
  }

  private accept(socket: WatchSocket): void {
    // a revocation notified between the handshake's lookup and now missed this socket: look once more
    this.recheck([socket])
    if (socket.data.caller.kind === 'display')
      // read-only: whatever a display socket emits beyond reading is refused, with a `forbidden` ack if it asked for one
      socket.use((packet, next) => {
        if (DISPLAY_SOCKET_EVENTS.has(String(packet[0]))) return next()
        const ack = packet.at(-1)
        if (typeof ack === 'function')
          ack({ ok: false, error: { code: 'forbidden', message: 'a display token is read-only' } })
      })
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
    socket.join([LIVE_ROOM, audienceRoom(key), userRoom(userKey(viewer))])
    count(this.audiences, key, viewer, 1)
    count(this.users, userKey(viewer), viewer, 1)
  }

  private leave(socket: WatchSocket): void {
    if (!socket.data.live) return
    const { viewer } = socket.data
    socket.data.live = false
    const key = audienceKey(viewer)
    socket.leave(LIVE_ROOM)
    socket.leave(audienceRoom(key))
    socket.leave(userRoom(userKey(viewer)))
    count(this.audiences, key, viewer, -1)
    count(this.users, userKey(viewer), viewer, -1)
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
    // Users with a live socket who may see a RED event of this batch get a batch of their own
    // (keyed by user and TLP ceiling: a wall capped below RED is not one of them [V9]).
    const redUsers = new Set<string>()
    const red = events.filter((event) => event.marking.tlp === 'RED')
    if (red.length > 0)
      for (const [key, user] of this.users) if (red.some((event) => canSee(user.viewer, event))) redUsers.add(key)
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
    default:
      return exhaustiveSwitchError(change)
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

/** Packets engine.io holds for a socket that the transport has not yet written. */
function queued(socket: WatchSocket): number {
  return (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length
}

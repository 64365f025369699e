import { randomUUID } from 'node:crypto'
import { isPerson } from '@watchfloor/core'
import {
  type PresenceMessage,
  type PresenceViewer,
  type StoredEvent,
  type ViewingAck,
  ViewingRequest,
  WatchfloorError,
} from '@watchfloor/protocol'
import type { Logger } from 'pino'
import { errorBody, readOnlyReason } from '../http/errors.ts'
import type { FullState } from '../read/projection.ts'
import { messageArgs } from './acks.ts'
import type { WatchServer, WatchSocket } from './gateway.ts'

/**
 * What processes sharing one log tell each other about presence: the people each views, by incident.
 * `n` counts one sender's announcements (notifications may overtake each other); `bye`: the sender stops.
 */
export interface PresenceAnnouncement {
  from: string
  n: number
  kind: 'state' | 'hello' | 'bye'
  incidents: Record<string, PresenceViewer[]>
}

/** How presence reaches the other processes of the same log (live/bus.ts), when there are any. */
export interface PresenceBus {
  publish(announcement: PresenceAnnouncement): void
  onAnnouncement(handler: (announcement: PresenceAnnouncement) => void): void
}

/** What another process last announced, and when; `gone` once it said goodbye. */
interface RemoteProcess {
  n: number
  at: number
  incidents: Map<string, PresenceViewer[]>
  gone: boolean
}

/**
 * Who is viewing which incident: volatile, never in the log. With a bus (PostgreSQL), every process
 * announces its own viewers to the others (on each change and every `announceMs`; a process not heard
 * for three periods counts as gone), and presence counts the viewers of every process.
 * A person's socket announces `viewing { incidentId | null }`; every person's socket the incident
 * is shared with now (it may see the owner's latest report: `FullState.sharesIncident`, C18) gets
 * `presence` when the set of people viewing it changes, and a socket gets it when it starts viewing.
 * An organisation a narrowing cut off keeps its frozen copy but takes no part: its viewers leave the
 * incident's presence, and it hears no more of it; so does a socket whose organisation's
 * communities changed (`rejudge`, on every report folded and every change of the directory).
 * Only persons take part: display sockets and machines (sensors, relays) may not announce and
 * receive no presence. A socket that connects is told who views what now (`greet`).
 */
export class Presence {
  /** socket id -> the incident it views. */
  private readonly viewing = new Map<string, string>()
  /** incident id -> the sockets viewing it, in the order they came. */
  private readonly sockets = new Map<string, Map<string, WatchSocket>>()
  /** One `viewing` at a time per socket, in the order sent. */
  private readonly queues = new WeakMap<WatchSocket, Promise<unknown>>()
  /** Other processes (by id): what each last announced, and when. */
  private readonly remote = new Map<string, RemoteProcess>()
  private readonly id = randomUUID()
  private sent = 0
  private timer: NodeJS.Timeout | undefined
  /** Said goodbye: the sockets closing after it announce nothing more (each would bring its viewers back). */
  private stopped = false
  private readonly stopJudging: () => void
  /** A catch-up of the whole picture that `reported` started is running; another is due after it. */
  private catchingUp = false
  private catchUpAgain = false

  constructor(
    private readonly io: WatchServer,
    private readonly full: FullState,
    private readonly logger: Logger,
    private readonly bus?: PresenceBus,
    private readonly announceMs = 5000,
  ) {
    this.stopJudging = full.onReported((incidentIds) => this.rejudge(incidentIds))
    if (!bus) return
    bus.onAnnouncement((announcement) => this.heard(announcement))
    this.announce('hello')
    this.timer = setInterval(() => {
      this.announce('state')
      this.expire()
    }, announceMs)
    this.timer.unref()
  }

  /**
   * A batch of the log as it goes out: a report (a marking changed, an incident reported again) of an
   * incident someone views brings the whole picture up to date at once, not at its next periodic
   * catch-up (up to a second later), so the people a narrowing cut off leave the incident's presence,
   * and hear no more of it, as the narrowing goes out [C18] (`rejudge`, on the reports the catch-up
   * folds). One catch-up at a time: reports meanwhile wait for the next, which covers them all.
   */
  reported(events: readonly StoredEvent[]): void {
    if (events.some((event) => event.type === 'incident.reported' && this.viewed(event.payload.incidentId)))
      this.catchUp()
  }

  private catchUp(): void {
    if (this.catchingUp) {
      this.catchUpAgain = true
      return
    }
    this.catchingUp = true
    this.full
      .fresh()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'full state catch-up for presence failed'))
      .finally(() => {
        this.catchingUp = false
        if (!this.catchUpAgain) return
        this.catchUpAgain = false
        this.catchUp()
      })
  }

  /** Whether anyone views the incident, on this process or another. */
  private viewed(incidentId: string): boolean {
    if (this.sockets.has(incidentId)) return true
    for (const process of this.remote.values()) if (process.incidents.has(incidentId)) return true
    return false
  }

  /** Tell the other processes this one is gone (its viewers leave their presence at once). */
  stop(): void {
    this.stopJudging()
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    if (this.bus && !this.stopped) this.announce('bye')
    this.stopped = true
  }

  attach(socket: WatchSocket): void {
    socket.on('viewing', (...args: unknown[]) => {
      const { body: request, reply } = messageArgs<ViewingAck>(args)
      const previous = this.queues.get(socket) ?? Promise.resolve()
      const next = previous
        .then(() => this.view(socket, request))
        .then(reply, (error: unknown) => {
          if (!(error instanceof WatchfloorError)) this.logger.error({ err: error }, 'viewing failed')
          reply({ ok: false, error: errorBody(error) })
        })
      this.queues.set(socket, next)
    })
    socket.on('disconnect', () => this.leave(socket))
    this.greet(socket)
  }

  /**
   * A socket that connects hears who views what now, for every incident its viewer may see (never a
   * display): presence is otherwise sent on a change, and a console that opens later (or comes back)
   * would not know who already has an incident open (the triage queue shows it).
   */
  private greet(socket: WatchSocket): void {
    const { caller, viewer } = socket.data
    if (!takesPart(caller)) return
    const incidents = new Set(this.sockets.keys())
    for (const process of this.remote.values())
      for (const incidentId of process.incidents.keys()) incidents.add(incidentId)
    for (const incidentId of incidents) {
      if (!this.full.sharesIncident(viewer, incidentId)) continue
      const message = this.message(incidentId, namesFor(socket.data))
      if (message.viewers.length > 0) socket.emit('presence', message)
    }
  }

  /** The people viewing an incident now (each person once: a user id of an organisation). */
  viewersOf(incidentId: string): PresenceViewer[] {
    const people = new Map<string, PresenceViewer>()
    for (const socket of this.sockets.get(incidentId)?.values() ?? []) {
      const viewer = viewerOf(socket.data.caller)
      if (!people.has(personKey(viewer))) people.set(personKey(viewer), viewer)
    }
    for (const process of this.remote.values())
      for (const viewer of process.incidents.get(incidentId) ?? [])
        if (!people.has(personKey(viewer))) people.set(personKey(viewer), viewer)
    return [...people.values()]
  }

  /** The people viewing each incident on this process only (what it announces). */
  private localState(): Record<string, PresenceViewer[]> {
    const incidents: Record<string, PresenceViewer[]> = {}
    for (const [incidentId, sockets] of this.sockets) {
      const people = new Map<string, PresenceViewer>()
      for (const { data } of sockets.values()) {
        const viewer = viewerOf(data.caller)
        if (!people.has(personKey(viewer))) people.set(personKey(viewer), viewer)
      }
      incidents[incidentId] = [...people.values()]
    }
    return incidents
  }

  private announce(kind: PresenceAnnouncement['kind']): void {
    if (this.stopped) return
    this.sent++
    this.bus?.publish({ from: this.id, n: this.sent, kind, incidents: kind === 'bye' ? {} : this.localState() })
  }

  /** Another process's announcement: take its viewers, and tell this process's sockets what changed. */
  private heard(announcement: PresenceAnnouncement): void {
    if (announcement.from === this.id) return
    const known = this.remote.get(announcement.from)
    // a process that said goodbye is gone, whatever its closing sockets (of an earlier release) still say
    if (known && (announcement.n <= known.n || known.gone)) return
    if (announcement.kind === 'hello') this.announce('state') // a new process: tell it who views what here
    const gone = announcement.kind === 'bye'
    const incidents = new Map(gone ? [] : Object.entries(announcement.incidents))
    this.replace(announcement.from, { n: announcement.n, at: Date.now(), incidents, gone })
  }

  /** Processes not heard for three periods are gone (killed): their viewers leave. */
  private expire(): void {
    const now = Date.now()
    for (const [from, process] of this.remote) {
      if (now - process.at > 3 * this.announceMs && process.incidents.size > 0)
        this.replace(from, { ...process, incidents: new Map() })
      // long gone (a stale announcement of it can no longer arrive): forget it
      else if (now - process.at > 20 * this.announceMs) this.remote.delete(from)
    }
  }

  private replace(from: string, next: RemoteProcess): void {
    const previous = this.remote.get(from)
    const touched = new Set([...(previous?.incidents.keys() ?? []), ...next.incidents.keys()])
    const before = new Map([...touched].map((incidentId) => [incidentId, this.key(incidentId)]))
    this.remote.set(from, next)
    for (const incidentId of touched) if (this.key(incidentId) !== before.get(incidentId)) this.broadcast(incidentId)
  }

  private async view(socket: WatchSocket, request: unknown): Promise<ViewingAck> {
    const readOnly = readOnlyReason(socket.data.caller) // [A1, A7]
    if (readOnly) throw readOnly
    if (!takesPart(socket.data.caller))
      throw new WatchfloorError('forbidden', 'presence is of people: a machine (a sensor) does not view incidents', {
        rule: 'A1',
      })
    const parsed = ViewingRequest.safeParse(request)
    if (!parsed.success)
      throw new WatchfloorError('validation', 'viewing needs { incidentId: string | null }', {
        issues: [{ path: 'incidentId', message: 'expected an incident id or null' }],
      })
    const { incidentId } = parsed.data
    if (incidentId === null) {
      this.leave(socket)
      return { ok: true }
    }
    // one the viewer's picture does not hold yet is looked for once more after a catch-up, whether it
    // is missing from the log or hidden from the viewer: the two are told apart by nothing, not even time
    // shared with the viewer now [C18]: a copy a narrowing froze is not one to be seen viewing
    let holds = this.full.sharesIncident(socket.data.viewer, incidentId)
    if (!holds) {
      await this.full.fresh()
      holds = this.full.sharesIncident(socket.data.viewer, incidentId)
    }
    if (socket.disconnected) return { ok: true }
    if (!holds) {
      this.leave(socket)
      throw new WatchfloorError('not_found', `no incident ${incidentId}`)
    }
    if (this.viewing.get(socket.id) === incidentId) {
      socket.emit('presence', this.message(incidentId, namesFor(socket.data)))
      return { ok: true }
    }
    this.leave(socket)
    const before = this.key(incidentId)
    this.viewing.set(socket.id, incidentId)
    let viewers = this.sockets.get(incidentId)
    if (!viewers) {
      viewers = new Map()
      this.sockets.set(incidentId, viewers)
    }
    viewers.set(socket.id, socket)
    if (this.key(incidentId) !== before) this.changed(incidentId)
    else socket.emit('presence', this.message(incidentId, namesFor(socket.data)))
    return { ok: true }
  }

  private leave(socket: WatchSocket): void {
    const incidentId = this.viewing.get(socket.id)
    if (incidentId === undefined) return
    const before = this.key(incidentId)
    this.viewing.delete(socket.id)
    const viewers = this.sockets.get(incidentId)
    viewers?.delete(socket.id)
    if (viewers?.size === 0) this.sockets.delete(incidentId)
    if (this.key(incidentId) !== before) this.changed(incidentId)
  }

  /** The people viewing an incident changed here: this process's sockets and the other processes hear it. */
  private changed(incidentId: string): void {
    this.broadcast(incidentId)
    if (this.bus) this.announce('state')
  }

  /** The set of people viewing, as a comparable string. */
  private key(incidentId: string): string {
    return JSON.stringify(this.viewersOf(incidentId).map(personKey))
  }

  /**
   * What a socket hears of who views an incident: each viewer's user id and organisation, as the
   * events it may see name their actors; a display name only of the people of `organisation`, its
   * own (another's directory of names is not shared with it, peopleDirectory.ts; `namesFor`).
   */
  private message(incidentId: string, organisation: string | undefined): PresenceMessage {
    return { incidentId, viewers: this.viewersOf(incidentId).map((viewer) => namedFor(viewer, organisation)) }
  }

  /** To every socket of this process whose viewer's picture holds the incident (never a display). */
  private broadcast(incidentId: string): void {
    if (!this.full.latest.incidents.has(incidentId)) {
      // another process announced an incident this one has not read yet
      if (this.remote.size > 0)
        void this.full.fresh().then(
          () => this.send(incidentId),
          () => {},
        )
      return
    }
    this.send(incidentId)
  }

  private send(incidentId: string): void {
    // one message per organisation whose people the sockets hear by name (`namesFor`)
    const messages = new Map<string | undefined, PresenceMessage>()
    for (const socket of this.io.sockets.sockets.values()) {
      const { caller, viewer } = socket.data
      if (!takesPart(caller) || !this.full.sharesIncident(viewer, incidentId)) continue
      const names = namesFor(socket.data)
      let message = messages.get(names)
      if (message === undefined) {
        message = this.message(incidentId, names)
        messages.set(names, message)
      }
      socket.emit('presence', message)
    }
  }

  /**
   * Judge again who of this process may be seen viewing `incidentIds` (every incident viewed here
   * when none are named): a socket the incident is no longer shared with (a narrowing, C18; its
   * organisation's communities changed, V10) leaves it, and the others hear the new set. Called on
   * every report the whole picture folds and every change of the directory.
   */
  rejudge(incidentIds: Iterable<string> = [...this.sockets.keys()]): void {
    for (const incidentId of incidentIds) {
      const viewers = this.sockets.get(incidentId)
      if (viewers === undefined) continue
      const before = this.key(incidentId)
      for (const socket of [...viewers.values()])
        if (!this.full.sharesIncident(socket.data.viewer, incidentId)) {
          viewers.delete(socket.id)
          this.viewing.delete(socket.id)
        }
      if (viewers.size === 0) this.sockets.delete(incidentId)
      if (this.key(incidentId) !== before) this.changed(incidentId)
    }
  }
}

/**
 * A person as presence names them: a service identity's display name is its token's label, an
 * admin's note on the token, not a name: it goes by its user id.
 */
function viewerOf(caller: WatchSocket['data']['caller']): PresenceViewer {
  const named = caller.credential.type !== 'token' || caller.account !== null
  return {
    user: caller.user,
    organisation: caller.organisation,
    ...(named && caller.displayName !== undefined ? { displayName: caller.displayName } : {}),
  }
}

/** A person as presence counts them: user ids are each organisation's own (two may hold the same). */
function personKey(viewer: PresenceViewer): string {
  return JSON.stringify([viewer.organisation, viewer.user])
}

/**
 * Whose people a socket hears by name: its caller's organisation's; viewing as another audience
 * [V11], no one's (what both the caller and that audience may know: an audience of another
 * organisation, or a community, is not given the caller's names); viewing as its own
 * organisation, its own's.
 */
function namesFor(data: Pick<WatchSocket['data'], 'caller' | 'viewer'>): string | undefined {
  const as = data.viewer.viewingAs
  if (as === undefined || (as.kind === 'organisation' && as.id === data.caller.organisation))
    return data.caller.organisation
  return undefined
}

/** `viewer` as a socket hearing the names of `organisation`'s people hears of them: anyone else by user id only. */
function namedFor(viewer: PresenceViewer, organisation: string | undefined): PresenceViewer {
  if (viewer.organisation === organisation || viewer.displayName === undefined) return viewer
  return { user: viewer.user, organisation: viewer.organisation }
}

/** Presence is of people: not displays, not machines (sensors and relays, whose labels are an admin's notes). */
function takesPart(caller: WatchSocket['data']['caller'] | undefined): boolean {
  return caller !== undefined && caller.kind !== 'display' && isPerson(caller)
}

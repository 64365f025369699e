import { canSee, incidentVisibility } from '@watchfloor/core'
import {
  type PresenceMessage,
  type PresenceViewer,
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
 * Who is viewing which incident: volatile, never in the log, per server process.
 * A socket announces `viewing { incidentId | null }`; every socket whose viewer may
 * see the incident (its report's marking, `canSee`) gets `presence` when the set
 * of people viewing it changes, and a socket gets it when it starts viewing.
 * Display sockets may not announce (the gateway refuses their `viewing`) and
 * receive no presence.
 */
export class Presence {
  /** socket id -> the incident it views. */
  private readonly viewing = new Map<string, string>()
  /** incident id -> the sockets viewing it, in the order they came. */
  private readonly sockets = new Map<string, Map<string, WatchSocket>>()
  /** One `viewing` at a time per socket, in the order sent. */
  private readonly queues = new WeakMap<WatchSocket, Promise<unknown>>()

  constructor(
    private readonly io: WatchServer,
    private readonly full: FullState,
    private readonly logger: Logger,
  ) {}

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
  }

  /** The people viewing an incident now (each user once). */
  viewersOf(incidentId: string): PresenceViewer[] {
    const people = new Map<string, PresenceViewer>()
    for (const socket of this.sockets.get(incidentId)?.values() ?? []) {
      const { caller } = socket.data
      if (people.has(caller.user)) continue
      people.set(caller.user, { user: caller.user, organisation: caller.organisation, displayName: caller.displayName })
    }
    return [...people.values()]
  }

  private async view(socket: WatchSocket, request: unknown): Promise<ViewingAck> {
    const readOnly = readOnlyReason(socket.data.caller) // [A1, A7]
    if (readOnly) throw readOnly
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
    const incident = this.full.latest.incidents.get(incidentId) ?? (await this.full.fresh()).incidents.get(incidentId)
    if (socket.disconnected) return { ok: true }
    if (!incident || !canSee(socket.data.viewer, incidentVisibility(incident))) {
      this.leave(socket)
      throw new WatchfloorError('not_found', `no incident ${incidentId}`)
    }
    if (this.viewing.get(socket.id) === incidentId) {
      socket.emit('presence', this.message(incidentId))
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
    if (this.key(incidentId) !== before) this.broadcast(incidentId)
    else socket.emit('presence', this.message(incidentId))
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
    if (this.key(incidentId) !== before) this.broadcast(incidentId)
  }

  /** The set of people viewing, as a comparable string. */
  private key(incidentId: string): string {
    return JSON.stringify(this.viewersOf(incidentId).map((v) => v.user))
  }

  private message(incidentId: string): PresenceMessage {
    return { incidentId, viewers: this.viewersOf(incidentId) }
  }

  /** To every socket of this process whose viewer may see the incident (never a display). */
  private broadcast(incidentId: string): void {
    const incident = this.full.latest.incidents.get(incidentId)
    if (!incident) return
    const visibility = incidentVisibility(incident)
    const message = this.message(incidentId)
    for (const socket of this.io.sockets.sockets.values()) {
      const { caller, viewer } = socket.data
      if (!caller || caller.kind === 'display' || !canSee(viewer, visibility)) continue
      socket.emit('presence', message)
    }
  }
}

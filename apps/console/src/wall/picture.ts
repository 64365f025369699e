/** The wall's derivations: pure functions of the picture, the clock and the wall's configuration. */
import {
  type AdvisoryState,
  highestTlp,
  type IncidentState,
  incidentOf,
  type NetworkState,
  severityRank,
  type TaskState,
} from '@watchfloor/core'
import { SEVERITIES, type Severity, type StoredEvent, type Tlp } from '@watchfloor/protocol'
import type { ConnectionStatus } from '../data/store.ts'

/** Open incidents, most important first: severity, then the latest update. */
export function spotlightCandidates(incidents: readonly IncidentState[], limit = 8): IncidentState[] {
  return incidents
    .filter((incident) => incident.status !== 'closed')
    .sort(
      (a, b) =>
        severityRank(b.severity) - severityRank(a.severity) ||
        Date.parse(b.updatedAt) - Date.parse(a.updatedAt) ||
        a.incidentId.localeCompare(b.incidentId),
    )
    .slice(0, limit)
}

/** The incident the rotation shows at `now`: a new one every `rotateMs`, in candidate order. */
export function rotationIndex(now: number, rotateMs: number, count: number): number {
  if (count <= 0) return -1
  return Math.floor(now / rotateMs) % count
}

/** A new critical incident holds the spotlight until `until` (or until it is acknowledged). */
export interface Pin {
  incidentId: string
  since: number
  until: number
}

/**
 * Did this event make an incident critical? Reports at critical, updates (or escalations) to
 * critical. Pins start at the event's recordedAt, so a wall catching up after an outage pins only
 * what is still recent, and a wall opened fresh does not flash the whole history.
 */
export function criticalArrival(event: StoredEvent): string | null {
  if (!('severity' in event.payload) || event.payload.severity !== 'critical') return null
  return event.type.startsWith('incident.') ? (incidentOf(event) ?? null) : null
}

/**
 * Fold new events into the pins: arrivals of critical incidents recorded within `pinMs` of `now`
 * pin them. Returns the same map when nothing changes.
 */
export function addPins(
  pins: ReadonlyMap<string, Pin>,
  events: readonly StoredEvent[],
  now: number,
  pinMs: number,
): ReadonlyMap<string, Pin> {
  let next: Map<string, Pin> | undefined
  for (const event of events) {
    const incidentId = criticalArrival(event)
    if (incidentId === null) continue
    const since = Date.parse(event.recordedAt)
    if (!(now - since < pinMs)) continue
    if (pins.get(incidentId)?.since === since) continue
    next ??= new Map(pins)
    next.set(incidentId, { incidentId, since, until: since + pinMs })
  }
  return next ?? pins
}

/**
 * The pin that holds the spotlight now. Pins stand while not expired and their incident is still
 * critical, not closed, not acknowledged (ever: before it became critical too), and (given `shown`) on this wall;
 * standing pins take the spotlight in turn, `rotateMs` each, in the order they came (a new critical
 * never displaces one nobody has acknowledged: they share the spotlight). Without `rotateMs`, the
 * oldest standing pin.
 */
export function activePin(
  pins: ReadonlyMap<string, Pin>,
  incidents: ReadonlyMap<string, IncidentState>,
  now: number,
  shown?: ReadonlySet<string>,
  rotateMs?: number,
): Pin | null {
  const standing: Pin[] = []
  for (const pin of pins.values()) {
    if (pin.until <= now) continue
    if (shown && !shown.has(pin.incidentId)) continue // not on this wall (its filters)
    const incident = incidents.get(pin.incidentId)
    if (incident?.severity !== 'critical' || incident.status === 'closed') continue
    // acknowledged, even before it became critical: someone has it, and it cannot be acknowledged
    // again, so a pin would ask for what no one can give (the console's alarm skips it alike)
    if (incident.acknowledgedAt !== undefined) continue
    standing.push(pin)
  }
  if (standing.length === 0) return null
  standing.sort((a, b) => a.since - b.since || (a.incidentId < b.incidentId ? -1 : 1))
  return standing[rotateMs === undefined ? 0 : rotationIndex(now, rotateMs, standing.length)]!
}

/** Pins that can no longer matter. */
export function expirePins(pins: ReadonlyMap<string, Pin>, now: number): ReadonlyMap<string, Pin> {
  let next: Map<string, Pin> | undefined
  for (const [id, pin] of pins) {
    if (pin.until > now) continue
    next ??= new Map(pins)
    next.delete(id)
  }
  return next ?? pins
}

export interface Headline {
  open: Record<Severity, number>
  openTotal: number
  networksAffected: number
}

/** Open incidents by severity and the number of distinct networks they affect. */
export function headline(incidents: readonly IncidentState[]): Headline {
  const open = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>
  const networks = new Set<string>()
  let openTotal = 0
  for (const incident of incidents) {
    if (incident.status === 'closed') continue
    open[incident.severity]++
    openTotal++
    for (const id of incident.affectedNetworks) networks.add(id)
  }
  return { open, openTotal, networksAffected: networks.size }
}

export type Health = 'loading' | 'live' | 'lost' | 'revoked' | 'outdated'

/** The screen width the wall's type and its presets' map regions are drawn for (a 1080p screen). */
export const WALL_DESIGN_WIDTH = 1920

/**
 * How much larger the wall draws its panels on a screen wider than it was drawn for (a 4K screen at
 * a device scale of 1: twice, so text stays legible from the same distance), never smaller, at most
 * three times.
 */
export function wallScale(screenWidth: number): number {
  if (!(screenWidth > WALL_DESIGN_WIDTH)) return 1
  return Math.min(3, screenWidth / WALL_DESIGN_WIDTH)
}

/** A preset's map zoom on a wall drawn `scale` times larger: the same region framed (one zoom level per doubling). */
export function scaledZoom(zoom: number, scale: number): number {
  return zoom + Math.log2(scale)
}

/**
 * How long the wall waits in silence before it says the connection is lost and reconnects: its
 * configured window (`heartbeat`, from 2 s), but never less than two of the server's heartbeat
 * intervals as measured on the socket and 2 s more, so a server that beats more slowly than the
 * window (WATCHFLOOR_HEARTBEAT_MS) never makes a healthy wall flash "connection lost" and reconnect
 * between beats. `heartbeatEveryMs` 0: not measured yet.
 */
export function silenceWindowMs(configuredMs: number, heartbeatEveryMs: number): number {
  return heartbeatEveryMs > 0 ? Math.max(configuredMs, 2 * heartbeatEveryMs + 2_000) : configuredMs
}

/**
 * What the wall may claim about its picture. Until it has been live once it is loading (opening
 * reads the snapshot and the recent events, then subscribes), never lost: an opening wall is not
 * an outage. Once it has been live, it is lost when the socket is down or nothing (not even a
 * heartbeat) arrived for `heartbeatMs`, and loading again while a picture it dropped is read anew
 * (a `resync` for `access_changed`). A wall whose page the server refused as another protocol
 * version (`outdated`) is neither: it reloads itself (WallApp).
 */
export function connectionHealth(
  status: ConnectionStatus,
  lastMessageAt: number,
  now: number,
  heartbeatMs: number,
  wasLive: boolean,
  /** A picture is being read (`opening` in the store): none is on screen, or it is about to be replaced. */
  opening = false,
): Health {
  if (status === 'revoked') return 'revoked'
  if (status === 'outdated') return 'outdated'
  if (!wasLive) return status === 'live' ? 'live' : 'loading'
  if (status === 'connecting' || status === 'signed-out' || status === 'reconnecting') return 'lost'
  // the picture was dropped and is read again (what the viewer may see changed): what is on screen
  // is no picture, so it is not claimed live, however recent the last message
  if (opening) return 'loading'
  if (lastMessageAt > 0 && now - lastMessageAt > heartbeatMs) return 'lost'
  return 'live'
}

/**
 * [M1] The TLP of the wall's banners: the highest of everything on screen. Incidents (on the map,
 * in the lists and the spotlight, and the open ones the board counts per network) by what every
 * event folded into each carries, since their severity, status and counts are shown; networks
 * (named on the map and the board, and in the headline's reason) by their registrations and
 * posture changes; the advisories whose sharing arcs or ticker marks are drawn; the events the
 * ticker marks and counts.
 */
export function wallTlp(shown: {
  incidents: Iterable<IncidentState>
  spotlight: IncidentState | null
  networks: Iterable<NetworkState>
  advisories: Iterable<AdvisoryState>
  events?: Iterable<StoredEvent>
  /** The tasks the counters count (overdue). */
  tasks?: Iterable<TaskState>
  /** The markings of what is shown only counted (the ticker's density strip: `MinuteCounts.strictestTlp`). */
  counted?: Iterable<Tlp>
}): Tlp {
  const tlps: Tlp[] = []
  for (const incident of shown.incidents) tlps.push(incident.contentMarking.tlp)
  if (shown.spotlight) tlps.push(shown.spotlight.contentMarking.tlp)
  for (const network of shown.networks) tlps.push(network.marking.tlp)
  for (const advisory of shown.advisories) tlps.push(advisory.marking.tlp)
  for (const event of shown.events ?? []) tlps.push(event.marking.tlp)
  for (const task of shown.tasks ?? []) tlps.push(task.contentMarking.tlp)
  for (const tlp of shown.counted ?? []) tlps.push(tlp)
  return highestTlp(tlps)
}

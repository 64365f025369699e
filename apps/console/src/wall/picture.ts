/** The wall's derivations: pure functions of the picture, the clock and the wall's configuration. */
import { type IncidentState, type NetworkState, severityRank } from '@watchfloor/core'
import { type Posture, SEVERITIES, type Severity, type StoredEvent, TLP_LEVELS, type Tlp } from '@watchfloor/protocol'
import type { ConnectionStatus } from '../store.ts'

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
  const payload = event.payload as { incidentId?: unknown; severity?: unknown }
  if (typeof payload.incidentId !== 'string' || payload.severity !== 'critical') return null
  return event.type.startsWith('incident.') ? payload.incidentId : null
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
 * The pin that holds the spotlight now: the newest one not expired whose incident is still
 * critical, not closed and not acknowledged since it was pinned.
 */
export function activePin(
  pins: ReadonlyMap<string, Pin>,
  incidents: ReadonlyMap<string, IncidentState>,
  now: number,
): Pin | null {
  let best: Pin | null = null
  for (const pin of pins.values()) {
    if (pin.until <= now) continue
    const incident = incidents.get(pin.incidentId)
    if (incident?.severity !== 'critical' || incident.status === 'closed') continue
    if (incident.acknowledgedAt !== undefined && Date.parse(incident.acknowledgedAt) >= pin.since) continue
    if (!best || pin.since > best.since) best = pin
  }
  return best
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

const TLP_RANK: Record<Tlp, number> = Object.fromEntries(TLP_LEVELS.map((tlp, i) => [tlp, i])) as Record<Tlp, number>

/** The most restrictive TLP among those given (CLEAR < GREEN < AMBER < AMBER+STRICT < RED); CLEAR when none. */
export function highestTlp(tlps: Iterable<Tlp>): Tlp {
  let best: Tlp = 'CLEAR'
  for (const tlp of tlps) if (TLP_RANK[tlp] > TLP_RANK[best]) best = tlp
  return best
}

const POSTURE_RANK: Record<Posture, number> = { normal: 0, elevated: 1, degraded: 2, compromised: 3 }

/** The worst posture among the networks (normal when there are none), and how many are in it. */
export function overallPosture(networks: Iterable<NetworkState>): { posture: Posture; count: number } {
  let posture: Posture = 'normal'
  let count = 0
  for (const network of networks) {
    const rank = POSTURE_RANK[network.posture]
    if (rank > POSTURE_RANK[posture]) {
      posture = network.posture
      count = 1
    } else if (network.posture === posture) count++
  }
  return { posture, count }
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

export type Health = 'connecting' | 'live' | 'lost' | 'revoked'

/**
 * What the wall may claim about its picture. Lost when the socket is down or nothing (not even a
 * heartbeat) arrived for `heartbeatMs`; connecting until the first subscription is live.
 */
export function connectionHealth(
  status: ConnectionStatus,
  lastMessageAt: number,
  now: number,
  heartbeatMs: number,
): Health {
  if (status === 'revoked') return 'revoked'
  if (status === 'connecting' || status === 'signed-out') return lastMessageAt === 0 ? 'connecting' : 'lost'
  if (status === 'reconnecting') return 'lost'
  if (lastMessageAt > 0 && now - lastMessageAt > heartbeatMs) return 'lost'
  return 'live'
}

/** How long ago, in words that fit a wall: "45 s", "12 min", "3 h 5 min", "2 d". */
export function ageText(ms: number): string {
  if (ms < 0 || !Number.isFinite(ms)) return '0 s'
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min`
  const h = Math.floor(m / 60)
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`
  return `${Math.floor(h / 24)} d`
}

/** The same in a tile's width: "45s", "12m", "3h", "2d". */
export function shortAge(ms: number): string {
  const s = ms > 0 && Number.isFinite(ms) ? Math.floor(ms / 1000) : 0
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 172_800) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86_400)}d`
}

/** `hh:mm:ssZ` of an epoch ms. */
export function utcClock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)}Z`
}

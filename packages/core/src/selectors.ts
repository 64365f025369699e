import { SEVERITIES, type Severity, type StoredEvent } from '@watchfloor/protocol'
import type { AdvisoryState, IncidentState, NetworkState, State } from './state.ts'

const SEVERITY_RANK: Record<Severity, number> = { critical: 3, high: 2, medium: 1, low: 0 }

export function severityRank(severity: Severity): number {
  return SEVERITY_RANK[severity]
}

export function isOpen(incident: IncidentState): boolean {
  return incident.status !== 'closed'
}

/** Open incidents, most severe first, then most recently updated first. */
export function openIncidentsBySeverity(state: State): IncidentState[] {
  const open: IncidentState[] = []
  for (const incident of state.incidents.values()) if (isOpen(incident)) open.push(incident)
  return open.sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      Date.parse(b.updatedAt) - Date.parse(a.updatedAt) ||
      b.lastSeq - a.lastSeq,
  )
}

/** Count of open incidents per severity. */
export function openCountsBySeverity(state: State): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>
  for (const incident of state.incidents.values()) if (isOpen(incident)) counts[incident.severity]++
  return counts
}

export interface NetworkPosture {
  network: NetworkState
  openIncidents: Record<Severity, number>
}

/** Every network with its posture and open incidents by severity, by nation then name. */
export function networkPostures(state: State): NetworkPosture[] {
  const byNetwork = new Map<string, Record<Severity, number>>()
  for (const incident of state.incidents.values()) {
    if (!isOpen(incident)) continue
    for (const id of incident.affectedNetworks) {
      let counts = byNetwork.get(id)
      if (!counts) {
        counts = { low: 0, medium: 0, high: 0, critical: 0 }
        byNetwork.set(id, counts)
      }
      counts[incident.severity]++
    }
  }
  return [...state.networks.values()]
    .sort((a, b) => a.nation.localeCompare(b.nation) || a.name.localeCompare(b.name))
    .map((network) => ({
      network,
      openIncidents: byNetwork.get(network.networkId) ?? { low: 0, medium: 0, high: 0, critical: 0 },
    }))
}

/** The latest `limit` events, newest first. */
export function recentActivity(state: State, limit = 50): StoredEvent[] {
  return state.recent.slice(-limit).reverse()
}

/** The picture as plain JSON (what `GET /api/v1/state` returns). */
export interface StateJson {
  seq: number
  eventCount: number
  networks: NetworkState[]
  incidents: IncidentState[]
  advisories: AdvisoryState[]
  recent: StoredEvent[]
}

export function stateToJson(state: State): StateJson {
  return {
    seq: state.seq,
    eventCount: state.eventCount,
    networks: [...state.networks.values()],
    incidents: [...state.incidents.values()],
    advisories: [...state.advisories.values()],
    recent: [...state.recent],
  }
}

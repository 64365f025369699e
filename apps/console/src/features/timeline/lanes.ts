import type { IncidentState, NetworkState, State } from '@watchfloor/core'
import { incidentOf, networkName, severityRank } from '@watchfloor/core'
import type { Severity, StoredEvent } from '@watchfloor/protocol'
import { networkIdOf } from '../../view/filters.ts'
import type { Lanes } from '../../view/view.ts'

/**
 * What of the picture places and colours an event: its incidents (severity, affected networks)
 * and its tasks (the incident of a task event, see core's `incidentOf`).
 */
export type TimelinePicture = Pick<State, 'incidents' | 'tasks'>

/** The lane for events that belong to no network (or no incident). */
export const OTHER_LANE = '\u0000other'

export interface Lane {
  key: string
  /** What the lane's gutter shows (fitted to it at word boundaries, see `fitText`). */
  label: string
  /** The name in full, for the lane's tooltip, when the label is a short one. */
  title?: string
  /** Shown after the label, dimmer: a nation code, an incident id. */
  detail?: string
  /** Incident lanes: the incident's current severity. */
  severity?: Severity
}

/**
 * The network lane of an event: reports and updates sit on their incident's
 * (first) affected network, so an incident's story stays on one lane;
 * observations on the network they were seen on; everything else on
 * `networkIdOf` (its subject, else where it came from).
 */
export function networkLaneOf(event: StoredEvent, picture: TimelinePicture): string | undefined {
  const placing = placingIncidentOf(event)
  return (
    (placing === undefined ? undefined : picture.incidents.get(placing)?.affectedNetworks[0]) ?? ownNetworkOf(event)
  )
}

/** The incident whose first affected network places the event on the network lanes (reports, updates). */
export function placingIncidentOf(event: StoredEvent): string | undefined {
  return event.type === 'incident.reported' || event.type === 'incident.updated' ? event.payload.incidentId : undefined
}

/** The network lane of an event from the event alone (when no incident places it). */
export function ownNetworkOf(event: StoredEvent): string | undefined {
  if (event.type === 'incident.reported' || event.type === 'incident.updated')
    return event.payload.affectedNetworks?.[0] ?? event.source.network
  return networkIdOf(event)
}

/** The lane an event goes in: its network lane, or its incident (`incidentOf`, task events through their task). */
export function laneKeyOf(event: StoredEvent, mode: Lanes, picture: TimelinePicture): string {
  return (mode === 'network' ? networkLaneOf(event, picture) : incidentOf(event, picture)) ?? OTHER_LANE
}

/**
 * A network's lane: its short name (core's `networkName`; else its name in full, which the drawing
 * fits at word boundaries), the full name for the tooltip, the nation code beside it.
 */
export function networkLane(network: NetworkState): Lane {
  const label = networkName(network)
  const lane: Lane = { key: network.networkId, label, detail: network.nation }
  if (label !== network.name) lane.title = network.name
  return lane
}

/** Networks by nation, then name, then id. */
export function compareNetworks(a: NetworkState, b: NetworkState): number {
  return (
    a.nation.localeCompare(b.nation) ||
    a.name.localeCompare(b.name) ||
    (a.networkId < b.networkId ? -1 : a.networkId > b.networkId ? 1 : 0)
  )
}

/** Incidents by severity (critical first), then most recently updated, then latest seq. */
export function compareIncidents(a: IncidentState, b: IncidentState): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    Date.parse(b.updatedAt) - Date.parse(a.updatedAt) ||
    b.lastSeq - a.lastSeq
  )
}

/** `known.sort(compareIncidents)`, parsing each time once (thousands of incident lanes). */
function sortIncidents(known: IncidentState[]): IncidentState[] {
  const keyed = known.map((incident) => ({
    incident,
    rank: severityRank(incident.severity),
    updated: Date.parse(incident.updatedAt),
  }))
  keyed.sort((a, b) => b.rank - a.rank || b.updated - a.updated || b.incident.lastSeq - a.incident.lastSeq)
  return keyed.map((k) => k.incident)
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * One lane per network (or incident) that has at least one of `events`, in
 * order: known networks by nation then name (known incidents by severity then
 * recency), then ids the state does not know, then the "other" lane.
 */
export function buildLanes(
  events: readonly StoredEvent[],
  mode: Lanes,
  networks: ReadonlyMap<string, NetworkState>,
  picture: TimelinePicture,
): Lane[] {
  const keys = new Set<string>()
  for (const event of events) keys.add(laneKeyOf(event, mode, picture))
  return lanesFor(keys, mode, networks, picture.incidents)
}

/** The lanes for a set of lane keys (each once), in the order `buildLanes` gives. */
export function lanesFor(
  keys: Iterable<string>,
  mode: Lanes,
  networks: ReadonlyMap<string, NetworkState>,
  incidents: ReadonlyMap<string, IncidentState>,
): Lane[] {
  const unknown: string[] = []
  let other = false
  const lanes: Lane[] = []
  if (mode === 'network') {
    const known: NetworkState[] = []
    for (const key of keys) {
      if (key === OTHER_LANE) other = true
      else {
        const network = networks.get(key)
        if (network) known.push(network)
        else unknown.push(key)
      }
    }
    known.sort(compareNetworks)
    for (const n of known) lanes.push(networkLane(n))
    for (const key of unknown.sort(byString)) lanes.push({ key, label: key })
    if (other) lanes.push({ key: OTHER_LANE, label: 'No network' })
  } else {
    const known: IncidentState[] = []
    for (const key of keys) {
      if (key === OTHER_LANE) other = true
      else {
        const incident = incidents.get(key)
        if (incident) known.push(incident)
        else unknown.push(key)
      }
    }
    for (const i of sortIncidents(known))
      lanes.push({ key: i.incidentId, label: i.title, detail: i.incidentId, severity: i.severity })
    for (const key of unknown.sort(byString)) lanes.push({ key, label: key })
    if (other) lanes.push({ key: OTHER_LANE, label: 'Networks & advisories' })
  }
  return lanes
}

/** The lane index of each event (-1 if it has none). */
export function laneIndexes(
  events: readonly StoredEvent[],
  lanes: readonly Lane[],
  mode: Lanes,
  picture: TimelinePicture,
): Int32Array {
  const position = new Map<string, number>()
  for (let i = 0; i < lanes.length; i++) position.set(lanes[i]!.key, i)
  const out = new Int32Array(events.length)
  for (let i = 0; i < events.length; i++) out[i] = position.get(laneKeyOf(events[i]!, mode, picture)) ?? -1
  return out
}

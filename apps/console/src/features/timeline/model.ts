import type { IncidentState, NetworkState, TaskIndex } from '@watchfloor/core'
import { incidentOf, severityRank } from '@watchfloor/core'
import type { Lanes } from '../../view/view.ts'
import { type Lane, lanesFor, OTHER_LANE, ownNetworkOf, placingIncidentOf, type TimelinePicture } from './lanes.ts'
import { colouringIncidentOf, kindOf, type MarkData, type MarkKind, NO_SEVERITY, priorityOf } from './marks.ts'
import type { TimeIndex } from './timeIndex.ts'

/**
 * The timeline's lanes, lane per event and mark data, kept up to date as events stream in.
 *
 * What an event contributes splits in two: facts of the event alone (its kind, its incident,
 * the network it names) and facts of its incident in the current picture (severity, first
 * affected network). The first kind is computed once per position of the time index, and only
 * for positions an update changed (appends, the rare late insertion); the second once per
 * changed incident, then spread over the events with typed-array lookups. A task event's
 * incident comes from its task in the picture, looked up when its position is computed: a task
 * never changes incident, and its `task.created` comes before its other events in seq order, so
 * the picture has the task by the time one of them is in the window. So a batch of
 * arriving events costs a pass over plain arrays, not a string key and map lookups per event.
 * The result equals `buildLanes`, `laneIndexes` and `markData` over the index's events.
 */
export interface TimelineData {
  lanes: Lane[]
  /** The lane index of each sorted event (-1 if it has none). */
  lane: Int32Array
  marks: MarkData
}

/** Strings (incident ids, lane keys) as small numbers, for typed-array tables. */
class Interned {
  private readonly numbers = new Map<string, number>()
  readonly names: string[] = []

  /** The number of a name seen before, else undefined. */
  get(name: string): number | undefined {
    return this.numbers.get(name)
  }

  of(name: string): number {
    let n = this.numbers.get(name)
    if (n === undefined) {
      n = this.names.length
      this.numbers.set(name, n)
      this.names.push(name)
    }
    return n
  }
}

/** Per-position facts of the index's events (independent of the picture), grown as the index grows. */
interface Facts {
  /** The index these positions belong to (see `TimeIndex.stable`). */
  indexId: number
  length: number
  kind: Uint8Array
  /** incidentOf(event, tasks), advisories included (MarkData.incident). */
  incident: (string | undefined)[]
  /** The incident whose severity colours the event (not advisories), else -1. */
  severityOf: Int32Array
  /** Network lanes: the incident whose first affected network places the event (reports, updates), else -1. */
  placedBy: Int32Array
  /** Network lanes: the lane when `placedBy` gives none (or there is no `placedBy`). */
  networkLane: Int32Array
  /** Incident lanes: the lane (the incident, else the "other" lane). */
  incidentLane: Int32Array
}

/** What the derivation keeps between updates (one per timeline). */
export interface TimelineCache {
  names: Interned
  facts: Facts
  /**
   * Per incident number: its severity index and first affected network (numbers), valid when
   * `stamp` is the current generation (the incident is in the picture).
   */
  severity: Uint8Array
  network: Int32Array
  stamp: Uint32Array
  generation: number
  /** The picture's incidents in map order at the last update, and their numbers. */
  byPosition: IncidentState[]
  numberAt: number[]
}

export function emptyTimelineCache(): TimelineCache {
  return {
    names: new Interned(),
    facts: emptyFacts(0),
    severity: new Uint8Array(0),
    network: new Int32Array(0),
    stamp: new Uint32Array(0),
    generation: 0,
    byPosition: [],
    numberAt: [],
  }
}

function emptyFacts(capacity: number): Facts {
  return {
    indexId: 0,
    length: 0,
    kind: new Uint8Array(capacity),
    incident: [],
    severityOf: new Int32Array(capacity),
    placedBy: new Int32Array(capacity),
    networkLane: new Int32Array(capacity),
    incidentLane: new Int32Array(capacity),
  }
}

/** Room for `n` positions, keeping the first `keep` (grown by half again, like the time index). */
function ensureCapacity(facts: Facts, n: number, keep: number): Facts {
  if (facts.kind.length >= n) return facts
  const grown = emptyFacts(Math.max(n, Math.ceil(facts.kind.length * 1.5), 1024))
  grown.kind.set(facts.kind.subarray(0, keep))
  grown.severityOf.set(facts.severityOf.subarray(0, keep))
  grown.placedBy.set(facts.placedBy.subarray(0, keep))
  grown.networkLane.set(facts.networkLane.subarray(0, keep))
  grown.incidentLane.set(facts.incidentLane.subarray(0, keep))
  grown.incident = facts.incident
  return grown
}

/** Bring the per-position facts up to `index` (only the positions it changed, when it can tell). */
function updateFacts(cache: TimelineCache, index: TimeIndex, tasks: TaskIndex): Facts {
  const n = index.events.length
  let from = 0
  if (cache.facts.indexId === index.id) from = cache.facts.length
  else if (cache.facts.indexId === index.stableFrom) from = Math.min(index.stable, cache.facts.length)
  const facts = ensureCapacity(cache.facts, n, from)
  const other = cache.names.of(OTHER_LANE)
  for (let i = from; i < n; i++) {
    const event = index.events[i]!
    const incidentId = incidentOf(event, tasks)
    const colouring = colouringIncidentOf(event, tasks)
    const placing = placingIncidentOf(event)
    facts.kind[i] = kindOf(event)
    facts.incident[i] = incidentId
    facts.severityOf[i] = colouring === undefined ? -1 : cache.names.of(colouring)
    facts.placedBy[i] = placing === undefined ? -1 : cache.names.of(placing)
    const own = ownNetworkOf(event)
    facts.networkLane[i] = own === undefined ? other : cache.names.of(own)
    facts.incidentLane[i] = incidentId === undefined ? other : cache.names.of(incidentId)
  }
  facts.incident.length = n
  facts.indexId = index.id
  facts.length = n
  cache.facts = facts
  return facts
}

/**
 * Bring the per-incident tables up to the picture; returns whether an incident number is in it.
 * The picture's map is new after every fold but keeps its order, and only changed incidents are
 * new objects: comparing each entry with the one at the same position last time reads the map
 * in order and touches only the incidents that changed (reading all ten thousand scattered
 * incident objects per batch cost more than everything else here).
 */
function updateIncidents(cache: TimelineCache, incidents: ReadonlyMap<string, IncidentState>): (k: number) => boolean {
  const generation = ++cache.generation
  const { byPosition, numberAt, names } = cache
  let p = 0
  for (const incident of incidents.values()) {
    let k: number
    if (byPosition[p] === incident) k = numberAt[p]!
    else {
      k = names.of(incident.incidentId)
      growTables(cache, names.names.length)
      cache.severity[k] = severityRank(incident.severity)
      const network = incident.affectedNetworks[0]
      cache.network[k] = network === undefined ? -1 : names.of(network)
      byPosition[p] = incident
      numberAt[p] = k
    }
    cache.stamp[k] = generation
    p++
  }
  byPosition.length = p
  numberAt.length = p
  growTables(cache, names.names.length)
  const stamp = cache.stamp
  return (k) => stamp[k] === generation
}

/** Room in the per-incident tables for `n` numbers. */
function growTables(cache: TimelineCache, n: number): void {
  if (cache.stamp.length >= n) return
  const size = Math.max(n, cache.stamp.length * 2, 1024)
  const severity = new Uint8Array(size)
  severity.set(cache.severity)
  const network = new Int32Array(size)
  network.set(cache.network)
  const stamp = new Uint32Array(size)
  stamp.set(cache.stamp)
  Object.assign(cache, { severity, network, stamp })
}

/** Lanes, lane per event and marks for `index` under the current picture; updates `cache`. */
export function deriveTimeline(
  cache: TimelineCache,
  index: TimeIndex,
  mode: Lanes,
  networks: ReadonlyMap<string, NetworkState>,
  picture: TimelinePicture,
): TimelineData {
  const { incidents } = picture
  // a rebuilt index starts afresh (and forgets incidents that left the window)
  if (cache.facts.indexId !== index.id && (cache.facts.indexId !== index.stableFrom || index.stable === 0))
    Object.assign(cache, emptyTimelineCache())
  const facts = updateFacts(cache, index, picture)
  const n = facts.length
  const names = cache.names.names
  const present = updateIncidents(cache, incidents)
  const { severity: incidentSeverity, network: incidentNetwork } = cache
  // per event: table lookups
  const kind = facts.kind.slice(0, n)
  const severity = new Uint8Array(n)
  const priority = new Uint8Array(n)
  const laneKey = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const s = facts.severityOf[i]!
    const sev = s < 0 || !present(s) ? NO_SEVERITY : incidentSeverity[s]!
    severity[i] = sev
    priority[i] = priorityOf(kind[i] as MarkKind, sev)
  }
  if (mode === 'network')
    for (let i = 0; i < n; i++) {
      const p = facts.placedBy[i]!
      const placed = p < 0 || !present(p) ? -1 : incidentNetwork[p]!
      laneKey[i] = placed >= 0 ? placed : facts.networkLane[i]!
    }
  else laneKey.set(facts.incidentLane.subarray(0, n))
  // lanes: the keys present, in lane order; then each event's position
  const used = new Uint8Array(names.length)
  const keys: string[] = []
  for (let i = 0; i < n; i++) {
    const k = laneKey[i]!
    if (used[k] === 0) {
      used[k] = 1
      keys.push(names[k]!)
    }
  }
  const lanes = lanesFor(keys, mode, networks, incidents)
  const position = new Int32Array(names.length).fill(-1)
  for (let l = 0; l < lanes.length; l++) position[cache.names.of(lanes[l]!.key)] = l
  const lane = new Int32Array(n)
  for (let i = 0; i < n; i++) lane[i] = position[laneKey[i]!]!
  return { lanes, lane, marks: { kind, severity, priority, incident: facts.incident.slice(0, n) } }
}

import type { IncidentState, NetworkState, State } from '@watchfloor/core'
import { incidentOf, severityRank, tlpRank } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { IncidentStatus } from '@watchfloor/protocol'
import type { Filters, IncidentSort, TimeRange, View } from './view.ts'

/** Does an incident pass the filters (and, when given, was it active in the range)? */
export function incidentMatches(
  incident: IncidentState,
  filters: Filters,
  networks: ReadonlyMap<string, NetworkState>,
  range: TimeRange | null,
): boolean {
  if (filters.statuses.length === 0 ? incident.status === 'closed' : !filters.statuses.includes(incident.status))
    return false
  if (filters.severities.length > 0 && !filters.severities.includes(incident.severity)) return false
  if (filters.categories.length > 0 && !filters.categories.includes(incident.category)) return false
  if (filters.tlps.length > 0 && !filters.tlps.includes(incident.contentMarking.tlp)) return false
  if (filters.organisations.length > 0 && !touchesOrganisation(incident, filters.organisations, networks)) return false
  if (range && (Date.parse(incident.reportedAt) > range.to || Date.parse(incident.updatedAt) < range.from)) return false
  const text = filters.text.trim().toLowerCase()
  if (text) {
    const haystack = `${incident.incidentId} ${incident.title} ${incident.summary ?? ''} ${incident.category} ${
      incident.organisation
    } ${incident.affectedNetworks.join(' ')}`.toLowerCase()
    if (!haystack.includes(text)) return false
  }
  return true
}

function touchesOrganisation(
  incident: IncidentState,
  wanted: readonly string[],
  networks: ReadonlyMap<string, NetworkState>,
): boolean {
  if (wanted.includes(incident.organisation)) return true
  for (const id of incident.affectedNetworks) {
    const network = networks.get(id)
    if (network && (wanted.includes(network.organisation) || wanted.includes(network.nation))) return true
  }
  return false
}

/** Incidents passing the view's filters and range, in the chosen order. */
export function filterIncidents(state: State, view: Pick<View, 'filters' | 'range' | 'sort'>): IncidentState[] {
  return filteredFrom(state, view).result
}

/** One `filterIncidents` result with what it takes to update it (see `refilterIncidents`). */
export interface FilteredIncidents {
  state: State
  view: Pick<View, 'filters' | 'range' | 'sort'>
  result: IncidentState[]
  /** Undefined when the result cannot be updated (an unparsable time: the order is the sort's own). */
  incremental?: {
    /** `state.incidents` in map order. */
    order: IncidentState[]
    /** The sort keys of `result`, and each one's position in `order`. */
    keyed: Keyed[]
    at: Int32Array
  }
}

/**
 * `filterIncidents(state, view)`, updated from an earlier result for the same filters, range,
 * sort and networks. Core `fold` copies the incident map in its order and makes a new object only
 * for an incident that changed, so comparing the map with the earlier one position by position
 * finds the changed incidents without reading the others: only those are matched and sorted,
 * then merged into the earlier result (unchanged incidents keep their match and their order).
 * Under a stream of events that is a few dozen incidents per batch; reading all ten thousand
 * scattered incident objects again (and sorting them) cost several ms per batch. Ties are
 * broken by map position, as the full (stable) sort does.
 */
export function refilterIncidents(
  previous: FilteredIncidents | undefined,
  state: State,
  view: Pick<View, 'filters' | 'range' | 'sort'>,
): FilteredIncidents {
  const inc = previous?.incremental
  if (
    !previous ||
    !inc ||
    previous.view.filters !== view.filters ||
    previous.view.range !== view.range ||
    previous.view.sort !== view.sort ||
    previous.state.networks !== state.networks
  )
    return filteredFrom(state, view)
  if (previous.state.incidents === state.incidents) return { ...previous, state }
  // walk the map in order: a different object at a position means the old one went
  const before = inc.order
  const gone = new Uint8Array(before.length)
  const order: IncidentState[] = []
  const changed: Positioned[] = []
  let p = 0
  for (const incident of state.incidents.values()) {
    if (before[p] !== incident) {
      if (p < before.length) gone[p] = 1
      if (incidentMatches(incident, view.filters, state.networks, view.range)) {
        const k = keyedOf(incident)
        if (Number.isNaN(k.updated)) return filteredFrom(state, view)
        changed.push({ k, at: p })
      }
    }
    order.push(incident)
    p++
  }
  gone.fill(1, Math.min(p, before.length))
  const compare = comparator(view.sort)
  const total = (a: Positioned, b: Positioned) => compare(a.k, b.k) || a.at - b.at
  changed.sort(total)
  // merge the unchanged part of the earlier result with the changed ones
  const result: IncidentState[] = []
  const keyed: Keyed[] = []
  const at: number[] = []
  const push = (k: Keyed, position: number) => {
    result.push(k.incident)
    keyed.push(k)
    at.push(position)
  }
  let j = 0
  for (let i = 0; i < inc.keyed.length; i++) {
    const position = inc.at[i]!
    if (gone[position] === 1) continue
    const kept = { k: inc.keyed[i]!, at: position }
    while (j < changed.length && total(changed[j]!, kept) < 0) push(changed[j]!.k, changed[j++]!.at)
    push(kept.k, position)
  }
  while (j < changed.length) push(changed[j]!.k, changed[j++]!.at)
  return { state, view, result, incremental: { order, keyed, at: Int32Array.from(at) } }
}

interface Positioned {
  k: Keyed
  at: number
}

/**
 * The incidents passing the view, from scratch, with what it takes to update the result later.
 * Decorated once (one Date.parse per incident object), sorted on numbers, undecorated.
 */
function filteredFrom(state: State, view: Pick<View, 'filters' | 'range' | 'sort'>): FilteredIncidents {
  const order = [...state.incidents.values()]
  const list: Positioned[] = []
  for (let at = 0; at < order.length; at++) {
    const incident = order[at]!
    if (incidentMatches(incident, view.filters, state.networks, view.range)) list.push({ k: keyedOf(incident), at })
  }
  const compare = comparator(view.sort)
  // stable: ties keep map order
  list.sort((a, b) => compare(a.k, b.k))
  const result = list.map((e) => e.k.incident)
  if (list.some((e) => Number.isNaN(e.k.updated))) return { state, view, result }
  return {
    state,
    view,
    result,
    incremental: { order, keyed: list.map((e) => e.k), at: Int32Array.from(list, (e) => e.at) },
  }
}

/** Sort keys per incident object (parsed once: the object never changes). */
const keyed = new WeakMap<IncidentState, Keyed>()
function keyedOf(incident: IncidentState): Keyed {
  let k = keyed.get(incident)
  if (!k) {
    k = { incident, updated: Date.parse(incident.updatedAt), rank: severityRank(incident.severity) }
    keyed.set(incident, k)
  }
  return k
}

const STATUS_RANK = Object.fromEntries(IncidentStatus.options.map((status, i) => [status, i])) as Record<
  IncidentState['status'],
  number
>

interface Keyed {
  incident: IncidentState
  updated: number
  rank: number
}

function comparator(sort: IncidentSort): (a: Keyed, b: Keyed) => number {
  const recency = (a: Keyed, b: Keyed) => b.updated - a.updated || b.incident.lastSeq - a.incident.lastSeq
  switch (sort) {
    case 'severity':
      return (a, b) => b.rank - a.rank || recency(a, b)
    case 'recency':
      return recency
    case 'networks':
      return (a, b) =>
        b.incident.affectedNetworks.length - a.incident.affectedNetworks.length || b.rank - a.rank || recency(a, b)
    case 'status':
      // in the order of the workflow: new first, closed last
      return (a, b) =>
        STATUS_RANK[a.incident.status] - STATUS_RANK[b.incident.status] || b.rank - a.rank || recency(a, b)
    case 'observations':
      return (a, b) =>
        b.incident.observationReports - a.incident.observationReports ||
        b.incident.observationCount - a.incident.observationCount ||
        b.rank - a.rank ||
        recency(a, b)
    case 'tlp':
      // the most restricted first
      return (a, b) =>
        tlpRank(b.incident.contentMarking.tlp) - tlpRank(a.incident.contentMarking.tlp) ||
        b.rank - a.rank ||
        recency(a, b)
  }
}

/** The network an event is placed on (its subject, else where it came from). */
export function networkIdOf(event: StoredEvent): string | undefined {
  switch (event.type) {
    case 'network.registered':
    case 'network.posture_changed':
      return event.payload.networkId
    case 'incident.observation':
      return event.payload.networkId ?? event.source.network
    default:
      return event.source.network
  }
}

/**
 * Events of the window that pass the filters: incident events when their
 * incident passes (by id in `matching`), other events when no incident-only
 * filter is set and their marking and organisation pass. Keeps seq order.
 */
export function filterEvents(
  events: readonly StoredEvent[],
  matching: ReadonlySet<string>,
  filters: Filters,
  state: Pick<State, 'networks' | 'tasks'>,
  range: TimeRange | null,
): StoredEvent[] {
  const { networks } = state
  const incidentOnly =
    filters.severities.length > 0 || filters.statuses.length > 0 || filters.categories.length > 0 || filters.text !== ''
  const out: StoredEvent[] = []
  for (const event of events) {
    if (range) {
      const t = Date.parse(event.occurredAt)
      if (t < range.from || t > range.to) continue
    }
    const incidentId = incidentOf(event, state)
    if (incidentId !== undefined && event.type !== 'advisory.published') {
      if (matching.has(incidentId)) out.push(event)
      continue
    }
    if (incidentOnly) continue
    if (filters.tlps.length > 0 && !filters.tlps.includes(event.marking.tlp)) continue
    if (filters.organisations.length > 0) {
      const network = networks.get(networkIdOf(event) ?? '')
      const orgs = [event.source.organisation, network?.organisation, network?.nation]
      if (!orgs.some((o) => o !== undefined && filters.organisations.includes(o))) continue
    }
    out.push(event)
  }
  return out
}

import type { IncidentState, NetworkState, State } from '@watchfloor/core'
import { severityRank } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
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
  if (filters.tlps.length > 0 && !filters.tlps.includes(incident.marking.tlp)) return false
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
  // decorate once (one Date.parse per incident), sort on numbers, undecorate
  const keyed: Keyed[] = []
  for (const incident of state.incidents.values())
    if (incidentMatches(incident, view.filters, state.networks, view.range))
      keyed.push({ incident, updated: Date.parse(incident.updatedAt), rank: severityRank(incident.severity) })
  keyed.sort(comparator(view.sort))
  return keyed.map((k) => k.incident)
}

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
  }
}

/** The incident an event is about, if any. */
export function incidentIdOf(event: StoredEvent): string | undefined {
  switch (event.type) {
    case 'incident.reported':
    case 'incident.updated':
    case 'incident.observation':
      return event.payload.incidentId
    case 'advisory.published':
      return event.payload.incidentId
    default:
      return undefined
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
  networks: ReadonlyMap<string, NetworkState>,
  range: TimeRange | null,
): StoredEvent[] {
  const incidentOnly =
    filters.severities.length > 0 || filters.statuses.length > 0 || filters.categories.length > 0 || filters.text !== ''
  const out: StoredEvent[] = []
  for (const event of events) {
    if (range) {
      const t = Date.parse(event.occurredAt)
      if (t < range.from || t > range.to) continue
    }
    const incidentId = incidentIdOf(event)
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

import { exhaustiveSwitchError, type StoredEvent } from '@watchfloor/protocol'
import { type AdvisoryState, type IncidentState, type NetworkState, RECENT_LIMIT, type State } from './state.ts'

/**
 * Fold one event into the state. Pure: the input state is never changed.
 * [R1] Events must arrive in seq order; an event at or below `state.seq` is ignored.
 */
export function reduce(state: State, event: StoredEvent): State {
  return fold(state, [event])
}

/**
 * Fold many events at once: the same result as reducing them one by one, but
 * each map and entity is copied at most once per call, so a batch costs about
 * as much as its events.
 */
export function fold(state: State, events: readonly StoredEvent[]): State {
  if (events.length === 0) return state
  const draft = new Draft(state)
  const applied: StoredEvent[] = []
  for (const event of events) {
    if (event.seq <= draft.seq) continue // [R1]
    draft.seq = event.seq
    draft.eventCount++
    apply(draft, event)
    applied.push(event)
  }
  if (applied.length === 0) return state
  return draft.finish(applied)
}

function apply(draft: Draft, event: StoredEvent): void {
  touchSourceNetwork(draft, event)
  switch (event.type) {
    case 'network.registered': {
      const p = event.payload
      const previous = draft.networks().get(p.networkId)
      const network: NetworkState = {
        networkId: p.networkId,
        name: p.name,
        organisation: p.organisation,
        nation: p.nation,
        kind: p.kind,
        location: p.location,
        posture: previous?.posture ?? 'normal', // [R2] re-registering keeps the posture
        registeredAt: previous?.registeredAt ?? event.occurredAt,
        lastReportAt: maxTime(previous?.lastReportAt, event.occurredAt),
        lastSeq: event.seq,
      }
      if (previous?.postureReason !== undefined) network.postureReason = previous.postureReason
      draft.put('network', p.networkId, network)
      return
    }
    case 'network.posture_changed': {
      const p = event.payload
      const network = draft.network(p.networkId)
      if (!network) return // [R3] facts about something this viewer never saw registered are left out
      network.posture = p.posture
      if (p.reason === undefined) delete network.postureReason
      else network.postureReason = p.reason
      network.lastReportAt = maxTime(network.lastReportAt, event.occurredAt)
      network.lastSeq = event.seq
      return
    }
    case 'incident.reported': {
      const p = event.payload
      const previous = draft.incidents().get(p.incidentId)
      const incident: IncidentState = {
        incidentId: p.incidentId,
        title: p.title,
        severity: p.severity,
        status: previous?.status ?? 'new',
        category: p.category,
        affectedNetworks: p.affectedNetworks,
        organisation: event.source.organisation,
        marking: event.marking,
        reportedAt: previous?.reportedAt ?? event.occurredAt,
        updatedAt: event.occurredAt,
        version: (previous?.version ?? 0) + 1,
        lastSeq: event.seq,
        observationCount: previous?.observationCount ?? 0,
      }
      if (p.summary !== undefined) incident.summary = p.summary
      if (p.attackSource !== undefined) incident.attackSource = p.attackSource
      if (previous?.lastObservationAt !== undefined) incident.lastObservationAt = previous.lastObservationAt
      draft.put('incident', p.incidentId, incident)
      return
    }
    case 'incident.updated': {
      const p = event.payload
      const incident = draft.incident(p.incidentId)
      if (!incident) return // [R3]
      if (p.severity !== undefined) incident.severity = p.severity
      if (p.status !== undefined) incident.status = p.status
      if (p.category !== undefined) incident.category = p.category
      if (p.summary !== undefined) incident.summary = p.summary
      if (p.affectedNetworks !== undefined) incident.affectedNetworks = p.affectedNetworks
      bumpIncident(incident, event)
      return
    }
    case 'incident.observation': {
      const p = event.payload
      const incident = draft.incident(p.incidentId)
      if (!incident) return // [R3]
      incident.observationCount += p.count ?? 1
      incident.lastObservationAt = maxTime(incident.lastObservationAt, event.occurredAt)
      bumpIncident(incident, event)
      if (p.networkId !== undefined && p.networkId !== event.source.network) {
        const network = draft.network(p.networkId)
        if (network) {
          network.lastReportAt = maxTime(network.lastReportAt, event.occurredAt)
          network.lastSeq = event.seq
        }
      }
      return
    }
    case 'advisory.published': {
      const p = event.payload
      const advisory: AdvisoryState = {
        advisoryId: p.advisoryId,
        title: p.title,
        body: p.body,
        organisation: event.source.organisation,
        marking: event.marking,
        publishedAt: event.occurredAt,
        seq: event.seq,
      }
      if (p.incidentId !== undefined) advisory.incidentId = p.incidentId
      draft.advisories().set(p.advisoryId, advisory)
      return
    }
    default:
      exhaustiveSwitchError(event)
  }
}

function bumpIncident(incident: IncidentState, event: StoredEvent): void {
  incident.version++
  incident.lastSeq = event.seq
  incident.updatedAt = maxTime(incident.updatedAt, event.occurredAt)
}

/** [R4] Any event sent from a network counts as that network reporting. */
function touchSourceNetwork(draft: Draft, event: StoredEvent): void {
  const networkId = event.source.network
  if (networkId === undefined || event.type === 'network.registered') return
  const network = draft.network(networkId)
  if (!network) return
  network.lastReportAt = maxTime(network.lastReportAt, event.occurredAt)
  network.lastSeq = event.seq
}

function maxTime(a: string | undefined, b: string): string {
  if (a === undefined) return b
  return Date.parse(a) >= Date.parse(b) ? a : b
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** Copy-on-write view of a state during one fold. */
class Draft {
  seq: number
  eventCount: number
  private networkMap: Map<string, NetworkState> | null = null
  private incidentMap: Map<string, IncidentState> | null = null
  private advisoryMap: Map<string, AdvisoryState> | null = null
  private readonly copiedNetworks = new Set<string>()
  private readonly copiedIncidents = new Set<string>()

  constructor(readonly state: State) {
    this.seq = state.seq
    this.eventCount = state.eventCount
  }

  networks(): Map<string, NetworkState> {
    this.networkMap ??= new Map(this.state.networks)
    return this.networkMap
  }
  incidents(): Map<string, IncidentState> {
    this.incidentMap ??= new Map(this.state.incidents)
    return this.incidentMap
  }
  advisories(): Map<string, AdvisoryState> {
    this.advisoryMap ??= new Map(this.state.advisories)
    return this.advisoryMap
  }

  /** Store a freshly built entity; it may be changed in place for the rest of the fold. */
  put(kind: 'network', id: string, value: NetworkState): void
  put(kind: 'incident', id: string, value: IncidentState): void
  put(kind: 'network' | 'incident', id: string, value: NetworkState | IncidentState): void {
    if (kind === 'network') {
      this.networks().set(id, value as NetworkState)
      this.copiedNetworks.add(id)
    } else {
      this.incidents().set(id, value as IncidentState)
      this.copiedIncidents.add(id)
    }
  }

  /** A network that may be changed in place (copied on first touch), or undefined. */
  network(id: string): Mutable<NetworkState> | undefined {
    const current = (this.networkMap ?? this.state.networks).get(id)
    if (!current) return undefined
    const map = this.networks()
    if (this.copiedNetworks.has(id)) return current
    const copy = { ...current }
    map.set(id, copy)
    this.copiedNetworks.add(id)
    return copy
  }

  incident(id: string): Mutable<IncidentState> | undefined {
    const current = (this.incidentMap ?? this.state.incidents).get(id)
    if (!current) return undefined
    const map = this.incidents()
    if (this.copiedIncidents.has(id)) return current
    const copy = { ...current }
    map.set(id, copy)
    this.copiedIncidents.add(id)
    return copy
  }

  finish(fresh: readonly StoredEvent[]): State {
    const recent =
      fresh.length >= RECENT_LIMIT ? fresh.slice(-RECENT_LIMIT) : [...this.state.recent, ...fresh].slice(-RECENT_LIMIT)
    return {
      seq: this.seq,
      eventCount: this.eventCount,
      networks: this.networkMap ?? this.state.networks,
      incidents: this.incidentMap ?? this.state.incidents,
      advisories: this.advisoryMap ?? this.state.advisories,
      recent,
    }
  }
}

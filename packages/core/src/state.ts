import type {
  IncidentStatus,
  Location,
  Marking,
  NetworkKind,
  Posture,
  Severity,
  StoredEvent,
} from '@watchfloor/protocol'

export interface NetworkState {
  networkId: string
  name: string
  organisation: string
  nation: string
  kind: NetworkKind
  location: Location
  posture: Posture
  postureReason?: string
  registeredAt: string
  /** occurredAt of the latest event from or about this network. */
  lastReportAt: string
  lastSeq: number
}

export interface IncidentState {
  incidentId: string
  title: string
  severity: Severity
  status: IncidentStatus
  category: string
  summary?: string
  affectedNetworks: readonly string[]
  attackSource?: { networkId?: string | undefined; location?: Location | undefined }
  /** The organisation that reported it and the marking of the report. */
  organisation: string
  marking: Marking
  reportedAt: string
  updatedAt: string
  /** Number of events folded into this incident; commands quote it as their expected version. */
  version: number
  lastSeq: number
  observationCount: number
  lastObservationAt?: string
}

export interface AdvisoryState {
  advisoryId: string
  title: string
  body: string
  incidentId?: string
  organisation: string
  marking: Marking
  publishedAt: string
  seq: number
}

export interface State {
  /** The highest seq folded in. */
  seq: number
  eventCount: number
  networks: ReadonlyMap<string, NetworkState>
  incidents: ReadonlyMap<string, IncidentState>
  advisories: ReadonlyMap<string, AdvisoryState>
  /** The latest events, oldest first, at most RECENT_LIMIT. */
  recent: readonly StoredEvent[]
}

export const RECENT_LIMIT = 200

export const initialState: State = Object.freeze({
  seq: 0,
  eventCount: 0,
  networks: new Map(),
  incidents: new Map(),
  advisories: new Map(),
  recent: [],
})

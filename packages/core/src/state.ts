import type {
  Assignee,
  BookmarkClock,
  IncidentNetworkState,
  IncidentRelation,
  IncidentStatus,
  Location,
  Marking,
  NetworkKind,
  Posture,
  Severity,
  StoredEvent,
  TaskPriority,
  TaskStatus,
} from '@watchfloor/protocol'

export interface NetworkState {
  networkId: string
  name: string
  /** A short name for tight places (`network.registered`'s optional `shortName`); absent when none was given. */
  shortName?: string
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
  /**
   * [M1] The strictest marking of the events that shaped what the picture holds of it (its
   * registrations and posture changes): a document or a map that shows it carries at least this.
   */
  marking: Marking
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
  /**
   * [M1] The strictest marking of the events that shaped what the picture holds of it: its
   * reports and updates, its coordination (acknowledgements, escalations, status, network
   * states, links) and its observations (the counts and times). A document or a map that shows
   * its fields carries at least this; `marking` alone is the report's, which decides who may see
   * it and its tasks.
   */
  contentMarking: Marking
  reportedAt: string
  updatedAt: string
  /**
   * Number of changes to this incident (reports, updates, coordination actions; not observations
   * [R11], which arrive far too often to be edits). Commands quote it as their expected version.
   */
  version: number
  lastSeq: number
  /** The sum of the `count` fields of its observation reports (1 for a report that gives none). */
  observationCount: number
  /** Its observation reports (events): a packet count and a sighting are one report each [R13]. */
  observationReports: number
  lastObservationAt?: string
  /**
   * `actor.user` of its latest report: the author a RED incident is always visible to [V5]. Who
   * reported it first is `firstReportedBy`.
   */
  reportedBy?: string
  /**
   * `actor.user` of its first report in this picture (the one `reportedAt` is of), when that report
   * names one; a later report (a correction, a narrower marking) never changes it.
   */
  firstReportedBy?: string
  /**
   * The first acknowledgement [R7]: when, by whom (`actor.user`) when the event names one, and the
   * note given with it, when one was.
   */
  acknowledgedAt?: string
  acknowledgedBy?: string
  acknowledgedNote?: string
  /**
   * [R14] The strictest marking of what a marking change would restate (severity, summary, category,
   * networks, status, network states), when an event that set one of them was marked stricter than
   * the report it followed; absent while that is the report's own marking. A marking change never
   * restates it wider [C20].
   */
  statedMarking?: Marking
  /**
   * [R14] What a later report keeps rather than says again (the status; each network's state), by
   * the marking of the event that set it where that was stricter than the report it followed: a
   * report that says something new starts `statedMarking` again from their floor. Set again by an
   * event not stricter, a field leaves it. Absent: none.
   */
  keptMarkings?: KeptMarkings
  /**
   * [R15] The seq of the event that set each field in this picture (0: never set, a default): a
   * marking change takes, field by field, what was set later in its author's picture. Absent: as
   * all 0.
   */
  setAt?: IncidentSetAt
  /** Links to other incidents, one per other incident, in the order made [R8]; absent means none. */
  links?: readonly IncidentLink[]
  /** How each network stands in this incident's response [R9]; absent means none set. */
  networkStates?: Readonly<Record<string, IncidentNetworkState>>
  /** Set when this incident was merged into another (the survivor); it is then closed [R8]. */
  mergedInto?: string
}

/**
 * A link as seen from one incident. The incident that made the link holds the
 * relation it named; the other incident holds the inverse (`related` both ways,
 * `duplicate_of` / `duplicated_by`, `merged_into` / `merged_from`).
 */
export type LinkRelation = IncidentRelation | 'duplicated_by' | 'merged_from'

export interface IncidentLink {
  incidentId: string
  relation: LinkRelation
  linkedAt: string
  seq: number
}

export interface TaskState {
  taskId: string
  incidentId: string
  title: string
  description?: string
  priority: TaskPriority
  status: TaskStatus
  assignee?: Assignee
  /** The user who accepted (or started) it; cleared when it is reassigned or reopened. */
  acceptedBy?: string
  dueAt?: string
  blockedReason?: string
  completedAt?: string
  /** The note given when it was completed (`task.completed`'s `note`); cleared when it is reopened. */
  completedNote?: string
  /** The reason given when it was last reopened (`task.reopened`'s `reason`); cleared when it is completed again. */
  reopenedReason?: string
  /**
   * [M1] The strictest marking of every event folded into it (its creation, assignments, status
   * changes): what a document showing its status, assignee or times carries at least.
   */
  contentMarking: Marking
  /** The organisation, author and marking of `task.created`: who may see the task. */
  organisation: string
  createdBy?: string
  marking: Marking
  createdAt: string
  updatedAt: string
  /** Number of events folded into this task; task commands quote it as their expected version. */
  version: number
  createdSeq: number
  lastSeq: number
}

export interface CommentState {
  commentId: string
  incidentId: string
  taskId?: string
  body: string
  mentions: readonly string[]
  /** `actor.user` of the event, when it names one. */
  author?: string
  organisation: string
  marking: Marking
  postedAt: string
  seq: number
}

export interface BookmarkState {
  bookmarkId: string
  title: string
  note?: string
  clock: BookmarkClock
  at?: string
  from?: string
  to?: string
  savedBy?: string
  organisation: string
  marking: Marking
  savedAt: string
  seq: number
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
  tasks: ReadonlyMap<string, TaskState>
  comments: ReadonlyMap<string, CommentState>
  bookmarks: ReadonlyMap<string, BookmarkState>
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
  tasks: new Map(),
  comments: new Map(),
  bookmarks: new Map(),
  recent: [],
})

/** [R15] The seq of the event that set each of an incident's fields (0: never set, a default). */
export interface IncidentSetAt {
  title: number
  severity: number
  category: number
  summary: number
  /** `affectedNetworks`. */
  networks: number
  attackSource: number
  status: number
  /** Each network's state, by network id; a network without one: 0. */
  networkStates?: Readonly<Record<string, number>>
}

/** [R15] `setAt` of an incident that says nothing of when its fields were set: as never set. */
export const NEVER_SET_AT: IncidentSetAt = {
  title: 0,
  severity: 0,
  category: 0,
  summary: 0,
  networks: 0,
  attackSource: 0,
  status: 0,
}

/** [R14] The markings of what a report keeps, where stricter than the report they followed. */
export interface KeptMarkings {
  status?: Marking
  networkStates?: Readonly<Record<string, Marking>>
}

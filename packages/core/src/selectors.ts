import { SEVERITIES, type Severity, type StoredEvent, type TaskPriority, type Viewer } from '@watchfloor/protocol'
import { severityRank } from './facts.ts'
import type {
  AdvisoryState,
  BookmarkState,
  CommentState,
  IncidentState,
  NetworkState,
  State,
  TaskState,
} from './state.ts'

export function isOpen(incident: IncidentState): boolean {
  return incident.status !== 'closed'
}

/** Open incidents, most severe first, then most recently updated first. */
export function openIncidentsBySeverity(state: State): IncidentState[] {
  const open: IncidentState[] = []
  for (const incident of state.incidents.values()) if (isOpen(incident)) open.push(incident)
  return open.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
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

const PRIORITY_RANK: Record<TaskPriority, number> = { urgent: 3, high: 2, normal: 1, low: 0 }

/** A task is overdue when it has a due time before `now` (ISO string or epoch ms) and is not done. */
export function isOverdue(task: TaskState, now: string | number): boolean {
  if (task.dueAt === undefined || task.status === 'done') return false
  return Date.parse(task.dueAt) < (typeof now === 'number' ? now : Date.parse(now))
}

/** The tasks of one incident, in the order they were created. */
export function tasksForIncident(state: State, incidentId: string): TaskState[] {
  const tasks: TaskState[] = []
  for (const task of state.tasks.values()) if (task.incidentId === incidentId) tasks.push(task)
  return tasks.sort((a, b) => a.createdSeq - b.createdSeq)
}

/** Overdue tasks (see `isOverdue`), longest overdue first. */
export function overdueTasks(state: State, now: string | number): TaskState[] {
  const overdue: TaskState[] = []
  for (const task of state.tasks.values()) if (isOverdue(task, now)) overdue.push(task)
  return overdue.sort((a, b) => Date.parse(a.dueAt!) - Date.parse(b.dueAt!) || a.createdSeq - b.createdSeq)
}

/** Is the task assigned to this viewer: to the user, or to a team of the viewer's organisation? */
export function isAssignedTo(task: TaskState, viewer: Pick<Viewer, 'userId' | 'organisation'>): boolean {
  const assignee = task.assignee
  if (assignee === undefined) return false
  return assignee.kind === 'user' ? assignee.userId === viewer.userId : assignee.organisation === viewer.organisation
}

/**
 * The tasks assigned to the viewer (the user, or the viewer's organisation as a
 * team): not done ones first (done ones only with `includeDone`), most urgent
 * first, then earliest due, then oldest.
 */
export function tasksFor(
  state: State,
  viewer: Pick<Viewer, 'userId' | 'organisation'>,
  options: { includeDone?: boolean } = {},
): TaskState[] {
  const mine: TaskState[] = []
  for (const task of state.tasks.values()) {
    if (!isAssignedTo(task, viewer)) continue
    if (task.status === 'done' && !options.includeDone) continue
    mine.push(task)
  }
  return mine.sort(
    (a, b) =>
      Number(a.status === 'done') - Number(b.status === 'done') ||
      PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority] ||
      dueMs(a) - dueMs(b) ||
      a.createdSeq - b.createdSeq,
  )
}

function dueMs(task: TaskState): number {
  return task.dueAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(task.dueAt)
}

/** The comments on one incident (its tasks' included), oldest first. */
export function commentsForIncident(state: State, incidentId: string): CommentState[] {
  const comments: CommentState[] = []
  for (const comment of state.comments.values()) if (comment.incidentId === incidentId) comments.push(comment)
  return comments.sort((a, b) => a.seq - b.seq)
}

/** The picture as plain JSON (what `GET /api/v1/state` returns). */
export interface StateJson {
  seq: number
  eventCount: number
  networks: NetworkState[]
  incidents: IncidentState[]
  advisories: AdvisoryState[]
  tasks: TaskState[]
  comments: CommentState[]
  bookmarks: BookmarkState[]
  recent: StoredEvent[]
}

/**
 * The version of what `stateToJson` writes and of what `reduce` makes of a log: a snapshot
 * saved with another version is never folded on [S2]. Raise it with any change to `State`,
 * `StateJson` or `reduce`.
 */
export const STATE_FORMAT_VERSION = 1

/** The core `State` of a `GET /api/v1/state` answer: the inverse of `stateToJson`. */
export function stateFromJson(json: StateJson): State {
  return {
    seq: json.seq,
    eventCount: json.eventCount,
    networks: new Map(json.networks.map((n) => [n.networkId, n])),
    incidents: new Map(json.incidents.map((i) => [i.incidentId, i])),
    advisories: new Map(json.advisories.map((a) => [a.advisoryId, a])),
    tasks: new Map(json.tasks.map((t) => [t.taskId, t])),
    comments: new Map(json.comments.map((c) => [c.commentId, c])),
    bookmarks: new Map(json.bookmarks.map((b) => [b.bookmarkId, b])),
    recent: json.recent,
  }
}

export function stateToJson(state: State): StateJson {
  return {
    seq: state.seq,
    eventCount: state.eventCount,
    networks: [...state.networks.values()],
    incidents: [...state.incidents.values()],
    advisories: [...state.advisories.values()],
    tasks: [...state.tasks.values()],
    comments: [...state.comments.values()],
    bookmarks: [...state.bookmarks.values()],
    recent: [...state.recent],
  }
}

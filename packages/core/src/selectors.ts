import {
  type Posture,
  SEVERITIES,
  type Severity,
  type StoredEvent,
  type TaskPriority,
  type Viewer,
} from '@watchfloor/protocol'
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

/** Postures from best to worst: the scale on which reported posture and incident impact compare. */
export const POSTURE_RANK: Record<Posture, number> = { normal: 0, elevated: 1, degraded: 2, compromised: 3 }

/**
 * What open incidents do to a network, on the posture scale: a critical incident compromises it,
 * a high one degrades it, a medium one elevates it; low ones (or none) leave it normal.
 */
export const IMPACT_OF_SEVERITY: Record<Severity, Posture> = {
  critical: 'compromised',
  high: 'degraded',
  medium: 'elevated',
  low: 'normal',
}

/** The most severe of a network's open incidents (undefined when it has none). */
export function worstOpenSeverity(open: Record<Severity, number>): Severity | undefined {
  for (let i = SEVERITIES.length - 1; i >= 0; i--) {
    const severity = SEVERITIES[i]!
    if (open[severity] > 0) return severity
  }
  return undefined
}

/** The incident impact of a network on the posture scale (see `IMPACT_OF_SEVERITY`). */
export function incidentImpact(open: Record<Severity, number>): Posture {
  const worst = worstOpenSeverity(open)
  return worst === undefined ? 'normal' : IMPACT_OF_SEVERITY[worst]
}

/** The worse of a network's reported posture and its incident impact: what it is sorted and counted by. */
export function networkLevel(posture: NetworkPosture): Posture {
  const impact = incidentImpact(posture.openIncidents)
  return POSTURE_RANK[impact] > POSTURE_RANK[posture.network.posture] ? impact : posture.network.posture
}

/** Worst first: by `networkLevel`, then reported posture, then open incidents by severity, then name. */
export function worstNetworkFirst(a: NetworkPosture, b: NetworkPosture): number {
  const bySeverity = () => {
    for (let i = SEVERITIES.length - 1; i >= 0; i--) {
      const severity = SEVERITIES[i]!
      const d = b.openIncidents[severity] - a.openIncidents[severity]
      if (d !== 0) return d
    }
    return 0
  }
  return (
    POSTURE_RANK[networkLevel(b)] - POSTURE_RANK[networkLevel(a)] ||
    POSTURE_RANK[b.network.posture] - POSTURE_RANK[a.network.posture] ||
    bySeverity() ||
    a.network.name.localeCompare(b.network.name)
  )
}

/** The picture's headline: its level and why, in words ("2 critical incidents affecting 3 networks"). */
export interface PictureHeadline {
  /** The worse of the worst reported posture and the worst incident impact. */
  level: Posture
  /** Why, in words: the incidents behind the level and/or the networks reporting it. */
  reason: string
  /** The worst reported posture, and how many networks report it. */
  reported: { posture: Posture; networks: number }
  /** The worst open incident severity (undefined: none open), how many, and how many networks they affect. */
  impact: { severity: Severity | undefined; incidents: number; networks: number }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/**
 * The headline of a picture [H1]: reported posture and incident impact are different facts, and
 * the headline is the worse of them, with the reason. A picture with two critical incidents open
 * is never "normal", whatever the networks report.
 */
export function pictureHeadline(
  networks: Iterable<Pick<NetworkState, 'posture'>>,
  incidents: Iterable<Pick<IncidentState, 'status' | 'severity' | 'affectedNetworks'>>,
): PictureHeadline {
  let reportedPosture: Posture = 'normal'
  let reportedCount = 0
  for (const network of networks) {
    if (POSTURE_RANK[network.posture] > POSTURE_RANK[reportedPosture]) {
      reportedPosture = network.posture
      reportedCount = 1
    } else if (network.posture === reportedPosture) reportedCount++
  }
  let severity: Severity | undefined
  let count = 0
  let affected = new Set<string>()
  for (const incident of incidents) {
    if (incident.status === 'closed') continue
    if (severity === undefined || severityRank(incident.severity) > severityRank(severity)) {
      severity = incident.severity
      count = 0
      affected = new Set()
    }
    if (incident.severity !== severity) continue
    count++
    for (const id of incident.affectedNetworks) affected.add(id)
  }
  const impact: Posture = severity === undefined ? 'normal' : IMPACT_OF_SEVERITY[severity]
  const level = POSTURE_RANK[impact] > POSTURE_RANK[reportedPosture] ? impact : reportedPosture
  const reasons: string[] = []
  if (severity !== undefined && impact === level && level !== 'normal')
    reasons.push(`${plural(count, `${severity} incident`)} affecting ${plural(affected.size, 'network')}`)
  if (reportedPosture === level && level !== 'normal')
    reasons.push(`${plural(reportedCount, 'network')} ${reportedCount === 1 ? 'reports' : 'report'} ${level}`)
  const reason =
    reasons.length > 0
      ? reasons.join('; ')
      : severity === undefined
        ? 'no open incidents, all networks report normal'
        : `${plural(count, `${severity} incident`)} open, all networks report normal`
  return {
    level,
    reason,
    reported: { posture: reportedPosture, networks: reportedPosture === 'normal' ? 0 : reportedCount },
    impact: { severity, incidents: count, networks: affected.size },
  }
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

/**
 * The organisations a picture names: of its networks, its incidents and the teams its tasks are
 * assigned to. A task may go to the team of any of them, or of the directory (the console offers
 * these; the server accepts them).
 */
export function pictureOrganisations(state: State): Set<string> {
  const organisations = new Set<string>()
  for (const network of state.networks.values()) organisations.add(network.organisation)
  for (const incident of state.incidents.values()) organisations.add(incident.organisation)
  for (const task of state.tasks.values())
    if (task.assignee?.kind === 'team') organisations.add(task.assignee.organisation)
  return organisations
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
export const STATE_FORMAT_VERSION = 12

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

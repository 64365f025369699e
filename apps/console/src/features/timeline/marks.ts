import { incidentOf, SEVERITIES_ASCENDING, severityRank, type TaskIndex } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import type { TimelinePicture } from './lanes.ts'

/** How a mark is drawn. */
export const MarkKind = {
  registered: 0,
  posture: 1,
  advisory: 2,
  observation: 3,
  incident: 4,
} as const
export type MarkKind = (typeof MarkKind)[keyof typeof MarkKind]

import { SEVERITY_COLOURS } from '../../ui/theme.ts'

export { SEVERITY_COLOURS }

export const KIND_COLOURS = {
  registered: '#8b98a9',
  posture: '#c77dff',
  advisory: '#2ec4b6',
  /** An incident event whose incident is unknown to the state. */
  unknown: '#93a1b1',
} as const

export function kindOf(event: StoredEvent): MarkKind {
  switch (event.type) {
    case 'network.registered':
      return MarkKind.registered
    case 'network.posture_changed':
      return MarkKind.posture
    case 'advisory.published':
      return MarkKind.advisory
    case 'incident.observation':
      return MarkKind.observation
    default:
      return MarkKind.incident
  }
}

/** No severity known (not an incident event, or an incident not in the state). */
export const NO_SEVERITY = 255

/**
 * The incident whose severity colours an event's mark: `incidentOf` (task events through their
 * task in `tasks`), except that an advisory's incident does not.
 */
export function colouringIncidentOf(event: StoredEvent, tasks: TaskIndex): string | undefined {
  return event.type === 'advisory.published' ? undefined : incidentOf(event, tasks)
}

/** The incident severity rank (core's `severityRank`: 0 low .. 3 critical) an event is drawn in, or NO_SEVERITY. */
export function severityIndexOf(event: StoredEvent, picture: TimelinePicture): number {
  const id = colouringIncidentOf(event, picture)
  if (id === undefined) return NO_SEVERITY
  const incident = picture.incidents.get(id)
  return incident ? severityRank(incident.severity) : NO_SEVERITY
}

/**
 * Which mark wins a cell: incident events by severity (a report or update over
 * an observation of the same severity), then advisories, posture changes,
 * registrations. Higher wins. Fits in 0..31; the selection adds 32.
 */
export function priorityOf(kind: MarkKind, severity: number): number {
  if (kind === MarkKind.incident || kind === MarkKind.observation) {
    const s = severity === NO_SEVERITY ? -1 : severity
    return 10 + (s + 1) * 2 + (kind === MarkKind.incident ? 1 : 0)
  }
  if (kind === MarkKind.advisory) return 4
  if (kind === MarkKind.posture) return 3
  return 2
}

export const SELECTED_BONUS = 32

/** Per sorted event: what the aggregation and drawing need, computed once per data change. */
export interface MarkData {
  kind: Uint8Array
  severity: Uint8Array
  priority: Uint8Array
  /** incidentOf(event, tasks) for each event (advisories included). */
  incident: (string | undefined)[]
}

export function markData(events: readonly StoredEvent[], picture: TimelinePicture): MarkData {
  const n = events.length
  const kind = new Uint8Array(n)
  const severity = new Uint8Array(n)
  const priority = new Uint8Array(n)
  const incident = new Array<string | undefined>(n)
  for (let i = 0; i < n; i++) {
    const event = events[i]!
    const k = kindOf(event)
    const s = severityIndexOf(event, picture)
    kind[i] = k
    severity[i] = s
    priority[i] = priorityOf(k, s)
    incident[i] = incidentOf(event, picture)
  }
  return { kind, severity, priority, incident }
}

/** Fill colour of a mark. */
export function colourOf(kind: number, severity: number): string {
  if (kind === MarkKind.registered) return KIND_COLOURS.registered
  if (kind === MarkKind.posture) return KIND_COLOURS.posture
  if (kind === MarkKind.advisory) return KIND_COLOURS.advisory
  const s = SEVERITIES_ASCENDING[severity]
  return s ? SEVERITY_COLOURS[s] : KIND_COLOURS.unknown
}

export const KIND_LABELS: Record<StoredEvent['type'], string> = {
  'network.registered': 'Network registered',
  'network.posture_changed': 'Posture change',
  'incident.reported': 'Incident reported',
  'incident.updated': 'Incident updated',
  'incident.observation': 'Observation',
  'advisory.published': 'Advisory',
  'incident.acknowledged': 'Acknowledged',
  'incident.escalated': 'Escalated',
  'incident.status_changed': 'Status change',
  'incident.linked': 'Incidents linked',
  'incident.network_state_set': 'Network state',
  'task.created': 'Task created',
  'task.assigned': 'Task assigned',
  'task.accepted': 'Task accepted',
  'task.started': 'Task started',
  'task.blocked': 'Task blocked',
  'task.completed': 'Task completed',
  'task.reopened': 'Task reopened',
  'comment.posted': 'Comment',
  'bookmark.saved': 'Bookmark',
}

/**
 * Facts about events and incidents that every part of Watchfloor reads the same way: which
 * incident an event is about, and the order of severities. One function each, used by the
 * server's exports, the console's filters, timeline, detail and wall.
 */
import { exhaustiveSwitchError, SEVERITIES, type Severity, type StoredEvent } from '@watchfloor/protocol'
import type { State } from './state.ts'

/** Severities from the least to the most severe (low, medium, high, critical). */
export const SEVERITIES_ASCENDING: readonly Severity[] = SEVERITIES
/** Severities from the most to the least severe (critical, high, medium, low): lists, legends, counters. */
export const SEVERITIES_DESCENDING: readonly Severity[] = [...SEVERITIES].reverse()

const SEVERITY_RANK: Readonly<Record<Severity, number>> = Object.fromEntries(
  SEVERITIES.map((severity, rank) => [severity, rank]),
) as Record<Severity, number>

/** 0 for low up to 3 for critical: compare severities with it. */
export function severityRank(severity: Severity): number {
  return SEVERITY_RANK[severity]
}

/** The tasks an event's incident is looked up in: a `State`, or any map of task ids to their incident. */
export type TaskIndex = Pick<State, 'tasks'> | { tasks: ReadonlyMap<string, { incidentId: string }> }

/**
 * The event types whose content an incident's fields show (its report, updates, acknowledgement,
 * severity, status, network states): what shows them must carry the strictest of their markings.
 */
export const INCIDENT_SHAPING_TYPES: ReadonlySet<string> = new Set([
  'incident.reported',
  'incident.updated',
  'incident.acknowledged',
  'incident.escalated',
  'incident.status_changed',
  'incident.network_state_set',
])

/**
 * The incident an event is about, if any: the incident of every incident event, observation,
 * task creation and comment; an advisory's incident when it names one; for the other task events
 * the incident of their task, looked up in `index` (undefined when the task is not there).
 * Networks and bookmarks are about no incident.
 */
export function incidentOf(event: StoredEvent, index?: TaskIndex): string | undefined {
  switch (event.type) {
    case 'incident.reported':
    case 'incident.updated':
    case 'incident.observation':
    case 'incident.acknowledged':
    case 'incident.escalated':
    case 'incident.status_changed':
    case 'incident.linked':
    case 'incident.network_state_set':
    case 'task.created':
    case 'comment.posted':
      return event.payload.incidentId
    case 'advisory.published':
      return event.payload.incidentId
    case 'task.assigned':
    case 'task.accepted':
    case 'task.started':
    case 'task.blocked':
    case 'task.completed':
    case 'task.reopened':
      return index?.tasks.get(event.payload.taskId)?.incidentId
    case 'network.registered':
    case 'network.posture_changed':
    case 'bookmark.saved':
      return undefined
    default:
      return exhaustiveSwitchError(event)
  }
}

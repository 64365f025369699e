/**
 * What the signed-in person may do, to decide which actions to show. A mirror of core `decide`'s
 * role and state rules (C2, C6-C14 in packages/core/SPEC.md); the server enforces them regardless,
 * so a stale picture only means a button that is refused with a clear answer.
 */
import { type IncidentState, isAssignedTo, severityRank, TASK_TRANSITIONS, type TaskState } from '@watchfloor/core'
import type { CommandType } from '@watchfloor/protocol'
import type { Session } from '../../data/store.ts'

export type Action = CommandType
export type Target = IncidentState | TaskState

const ACKNOWLEDGERS = ['watch_officer', 'coordinator', 'admin']
const COORDINATORS = ['coordinator', 'admin']

function hasRole(session: Session, roles: readonly string[]): boolean {
  return session.roles.some((role) => roles.includes(role))
}

/** A person, not a machine: any role but `sensor`. */
function isPerson(session: Session): boolean {
  return session.roles.some((role) => role !== 'sensor')
}

function isTask(target: Target | undefined): target is TaskState {
  return target !== undefined && 'taskId' in target
}

function isIncident(target: Target | undefined): target is IncidentState {
  return target !== undefined && !('taskId' in target)
}

/**
 * May `session` take `action` on `target`? Without a target: may the role take it at all.
 * A display token (read-only) may take nothing.
 */
export function can(session: Session | null | undefined, action: Action, target?: Target): boolean {
  if (!session || session.kind === 'display') return false
  const incident = isIncident(target) ? target : undefined
  const task = isTask(target) ? target : undefined
  // [C11] a merged incident takes nothing but comments
  const live = incident === undefined || incident.mergedInto === undefined
  switch (action) {
    case 'incident.acknowledge':
      // [C6] once, and not on a closed incident
      return (
        hasRole(session, ACKNOWLEDGERS) &&
        live &&
        (incident === undefined || (incident.status !== 'closed' && incident.acknowledgedAt === undefined))
      )
    case 'incident.escalate':
      // [C7] only upwards, not on a closed incident
      return (
        hasRole(session, COORDINATORS) &&
        live &&
        (incident === undefined ||
          (incident.status !== 'closed' && severityRank(incident.severity) < severityRank('critical')))
      )
    case 'incident.set_status':
    case 'incident.link':
    case 'network.set_state':
      return hasRole(session, COORDINATORS) && live
    case 'task.create':
      // [C12] no new tasks on a closed incident
      return hasRole(session, COORDINATORS) && live && incident?.status !== 'closed'
    case 'task.assign':
      // [C14] not on a done task
      return hasRole(session, COORDINATORS) && task?.status !== 'done'
    case 'task.accept':
    case 'task.start':
    case 'task.block':
    case 'task.complete':
    case 'task.reopen': {
      if (task === undefined) return hasRole(session, COORDINATORS) || isPerson(session)
      // [C2] a coordinator or admin, or the assignee (the user, or a person of the assigned team)
      const mayWork =
        hasRole(session, COORDINATORS) ||
        (isPerson(session) && isAssignedTo(task, { userId: session.user, organisation: session.organisation }))
      // [C13] only from the statuses the command starts from
      return mayWork && TASK_TRANSITIONS[action].includes(task.status)
    }
    case 'comment.post':
    case 'bookmark.save':
      // [C16] a bookmark, like a comment: any person
      return isPerson(session)
  }
}

/** The severities an escalation may choose: those above the current one [C7]. */
export function escalationChoices(incident: IncidentState): IncidentState['severity'][] {
  return (['low', 'medium', 'high', 'critical'] as const).filter(
    (s) => severityRank(s) > severityRank(incident.severity),
  )
}

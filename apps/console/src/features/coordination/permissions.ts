/**
 * What the signed-in person may do, to decide which actions to show: core's policy (`may`,
 * rules A1, C2, C6, C7, C11-C14 in packages/core/SPEC.md) asked for the session's principal. The
 * server enforces the same rules regardless, so a stale picture only means a button that is
 * refused with a clear answer; once that answer says an incident is no longer shared with this
 * viewer (C18, withdrawn.ts), nothing about it or its tasks is offered any more.
 */
import { type Action, type Actor, escalationChoices, may, type Target, viewAsRefusal } from '@watchfloor/core'
import { IncidentStatus } from '@watchfloor/protocol'
import type { Session } from '../../data/store.ts'
import { isWithdrawn } from './withdrawn.ts'

export { escalationChoices }

/**
 * The statuses an incident may be set to, the next step of its course first: those after its
 * status in order, then those before it (going back). A select shows the first before anything is
 * chosen, so one click never sends a contained incident back to new.
 */
export function statusChoices(current: IncidentStatus): IncidentStatus[] {
  const order = IncidentStatus.options
  const at = order.indexOf(current)
  return [...order.slice(at + 1), ...order.slice(0, at)]
}

/**
 * The session as core's policy reads it: a display token is read-only [A1], and so is a console
 * viewing as another audience [A7]: it shows what that audience receives, and changes nothing.
 */
export function actorOf(session: Session): Actor {
  return {
    roles: session.roles,
    userId: session.user,
    organisation: session.organisation,
    readOnly: session.kind === 'display' || session.viewingAs !== undefined,
  }
}

/**
 * May `session` take `action` on `target`? Without a target: may its roles take it at all. Never on
 * an incident (or a task of one) the server told this viewer is no longer shared with it [C18]:
 * the picture holds the copy it last received, and every command about it is refused.
 */
export function can(session: Session | null | undefined, action: Action, target?: Target): boolean {
  if (!session) return false
  if (target !== undefined && isWithdrawn(session, target.incidentId)) return false
  return may(actorOf(session), action, target)
}

/**
 * May `session` view as another organisation or community [A7]: a coordinator or an admin, not a
 * display token. Asked of the person, not of the view: one viewing as may switch or stop.
 */
export function mayViewAs(session: Session | null | undefined): boolean {
  return session ? viewAsRefusal({ roles: session.roles, readOnly: session.kind === 'display' }) === undefined : false
}

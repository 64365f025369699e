/**
 * What the signed-in person may do, to decide which actions to show: core's policy (`may`,
 * rules A1, C2, C6, C7, C11-C14 in packages/core/SPEC.md) asked for the session's principal. The
 * server enforces the same rules regardless, so a stale picture only means a button that is
 * refused with a clear answer.
 */
import { type Action, type Actor, escalationChoices, may, type Target } from '@watchfloor/core'
import type { Session } from '../../data/store.ts'

export { escalationChoices }

/** The session as core's policy reads it: a display token is read-only [A1]. */
export function actorOf(session: Session): Actor {
  return {
    roles: session.roles,
    userId: session.user,
    organisation: session.organisation,
    readOnly: session.kind === 'display',
  }
}

/** May `session` take `action` on `target`? Without a target: may its roles take it at all. */
export function can(session: Session | null | undefined, action: Action, target?: Target): boolean {
  return session ? may(actorOf(session), action, target) : false
}

/**
 * Who manages access (accounts, API and display tokens; `/api/v1/accounts`, `/api/v1/tokens`): an
 * admin, as the server's `isAdmin` asks it, and not a read-only session (core's policy: a display
 * token [A1], or a console viewing as another audience [A7], which changes nothing). The server
 * decides regardless (403). Kept apart from the page so that the header and the shell, which ask
 * it on the first load, do not pull the page in.
 */
import { hasRole, readOnlyRefusal } from '@watchfloor/core'
import type { Session } from '../../data/store.ts'
import { actorOf } from '../coordination/permissions.ts'

export function mayManageAccess(session: Session | null | undefined): boolean {
  if (!session) return false
  const actor = actorOf(session)
  return readOnlyRefusal(actor) === undefined && hasRole(actor, ['admin'])
}

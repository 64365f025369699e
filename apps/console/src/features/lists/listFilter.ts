/**
 * The incident list's own filters, on top of the view's (which also narrow the map and the
 * timeline): acknowledged or not, and assigned to me or my team (an incident with a task not done
 * for me or my organisation: core's `assignedIncidentIds`, rule T4). They are the view's `list`
 * (in the link: `?ack=acknowledged&assigned=team`).
 */
import { type AssignedScope, assignedIncidentIds, type IncidentState, type State } from '@watchfloor/core'
import type { ListFilter } from '../../view/view.ts'

/** The incidents of `incidents` (in their order) that pass the list's filter, for the viewer. */
export function applyListFilter(
  incidents: readonly IncidentState[],
  filter: ListFilter,
  state: Pick<State, 'tasks'>,
  viewer: { userId: string; organisation: string } | null,
): readonly IncidentState[] {
  if (filter.ack === 'any' && filter.assigned === 'anyone') return incidents
  const assigned: ReadonlySet<string> | null =
    filter.assigned === 'anyone'
      ? null
      : viewer
        ? assignedIncidentIds(state, viewer, filter.assigned satisfies AssignedScope)
        : new Set()
  return incidents.filter((incident) => {
    if (filter.ack === 'acknowledged' && incident.acknowledgedAt === undefined) return false
    if (filter.ack === 'unacknowledged' && incident.acknowledgedAt !== undefined) return false
    return assigned === null || assigned.has(incident.incidentId)
  })
}

/**
 * Triage: what waits for someone to take it (rules T1-T4 in packages/core/SPEC.md), and which
 * incidents are someone's through their tasks. Pure: the console's triage queue and the incident
 * list's filters read these.
 */
import type { Viewer } from '@watchfloor/protocol'
import { isAssignedTo } from './selectors.ts'
import type { IncidentState, State } from './state.ts'
import { canSee, incidentVisibility } from './visibility.ts'

/** [T1] Waiting for triage: nobody has acknowledged it, and it is neither closed nor merged away. */
export function awaitsTriage(incident: IncidentState): boolean {
  return incident.acknowledgedAt === undefined && incident.status !== 'closed' && incident.mergedInto === undefined
}

/** [T2] Oldest report first; ties by the seq of its last change, then by id (a total order). */
export function oldestFirst(a: IncidentState, b: IncidentState): number {
  const byReport = Date.parse(a.reportedAt) - Date.parse(b.reportedAt)
  if (byReport !== 0 && !Number.isNaN(byReport)) return byReport
  return a.lastSeq - b.lastSeq || (a.incidentId < b.incidentId ? -1 : a.incidentId > b.incidentId ? 1 : 0)
}

/**
 * [T1-T3] The triage queue: incidents waiting for triage (`awaitsTriage`), oldest first. Given a
 * viewer, only the incidents that viewer may see (`canSee` on the report's marking) [T3]: a
 * console's picture already holds only those, a server-side reader passes its viewer.
 */
export function triageQueue(state: Pick<State, 'incidents'>, viewer?: Viewer): IncidentState[] {
  // decorated: one Date.parse per incident, not one per comparison (a console runs this every batch)
  const queue: { incident: IncidentState; at: number }[] = []
  for (const incident of state.incidents.values()) {
    if (!awaitsTriage(incident)) continue
    if (viewer !== undefined && !canSee(viewer, incidentVisibility(incident))) continue
    queue.push({ incident, at: Date.parse(incident.reportedAt) })
  }
  queue.sort((a, b) => a.at - b.at || oldestFirst(a.incident, b.incident))
  return queue.map((entry) => entry.incident)
}

/** Whose incidents: those with a task for me (the user), or for my team (my organisation). */
export type AssignedScope = 'me' | 'team'

/**
 * [T4] The incidents with a task not done assigned to the viewer: `me`, to the user; `team`, to
 * the viewer's organisation as a team, or to the user (what my team holds includes what I hold).
 */
export function assignedIncidentIds(
  state: Pick<State, 'tasks'>,
  viewer: Pick<Viewer, 'userId' | 'organisation'>,
  scope: AssignedScope,
): Set<string> {
  const ids = new Set<string>()
  for (const task of state.tasks.values()) {
    if (task.status === 'done' || !isAssignedTo(task, viewer)) continue
    if (scope === 'me' && task.assignee?.kind !== 'user') continue
    ids.add(task.incidentId)
  }
  return ids
}

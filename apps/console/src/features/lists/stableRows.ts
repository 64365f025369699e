/**
 * Rows that keep their place while the pointer is over a list: a click lands on the row that was
 * under the pointer, not on one that moved there between the moment the pointer came to rest and
 * the click. While frozen the order is the one the list had when the pointer entered; each row
 * shows its incident's current values; new matches are counted, not inserted; a row that no longer
 * matches stays where it was, marked stale. When the pointer leaves, the list takes its live order.
 */
import type { IncidentState } from '@watchfloor/core'

export interface StableRows {
  rows: IncidentState[]
  /** Ids of the rows kept in place though they no longer match (acknowledged, filtered out). */
  stale: ReadonlySet<string>
  /** Incidents that match now but are not shown until the list is unfrozen. */
  added: number
}

const NONE: ReadonlySet<string> = new Set()

/**
 * The rows to show: `current` (the live order) when `frozen` is null, else the frozen ids in their
 * order with the incidents as they are now (`incidents`). An id no longer in the picture at all
 * (a resync, another audience) is dropped: there is nothing to show for it.
 */
export function stableRows(
  frozen: readonly string[] | null,
  current: readonly IncidentState[],
  incidents: ReadonlyMap<string, IncidentState>,
): StableRows {
  if (frozen === null) return { rows: [...current], stale: NONE, added: 0 }
  const matching = new Set(current.map((incident) => incident.incidentId))
  const kept = new Set<string>()
  const rows: IncidentState[] = []
  const stale = new Set<string>()
  for (const id of frozen) {
    const incident = incidents.get(id)
    if (!incident || kept.has(id)) continue
    kept.add(id)
    rows.push(incident)
    if (!matching.has(id)) stale.add(id)
  }
  let added = 0
  for (const id of matching) if (!kept.has(id)) added++
  return { rows, stale, added }
}

/** Late reports: recorded long after what they report happened (marked on the occurred clock). */
import type { StoredEvent } from '@watchfloor/protocol'

/** A report this much later than what it reports counts as late (shown apart on the occurred clock). */
export const LATE_MS = 5 * 60_000

/** How much later than it happened the floor learned of an event (ms; negative or NaN: not late). */
export function lateBy(event: StoredEvent): number {
  return Date.parse(event.recordedAt) - Date.parse(event.occurredAt)
}

export function isLate(event: StoredEvent, thresholdMs = LATE_MS): boolean {
  return lateBy(event) > thresholdMs
}

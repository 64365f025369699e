import type { State } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'

/**
 * How much of the past a console keeps in memory. A wall runs for days: what is older than
 * `hours` (by the data clock: the later of now and the newest occurredAt seen) leaves the event
 * window, and closed incidents and advisories last updated before then leave the picture.
 */
export interface Retention {
  hours: number
  /** The event window never holds more than this many events. */
  maxEvents: number
  /** Which events the window keeps at all (the wall keeps no observations: the density strip counts them). */
  keep?: (event: StoredEvent) => boolean
}

/** The console's default: the newest 200,000 events, whatever their age (the wall sets hours). */
export const DEFAULT_RETENTION: Retention = { hours: Number.POSITIVE_INFINITY, maxEvents: 200_000 }

/** The picture without closed incidents and advisories older than `beforeMs`; the same object when nothing goes. */
export function pruneState(state: State, beforeMs: number): State {
  let incidents: Map<string, State['incidents'] extends ReadonlyMap<string, infer I> ? I : never> | undefined
  for (const [id, incident] of state.incidents) {
    if (incident.status !== 'closed' || Date.parse(incident.updatedAt) >= beforeMs) continue
    incidents ??= new Map(state.incidents)
    incidents.delete(id)
  }
  let advisories: Map<string, State['advisories'] extends ReadonlyMap<string, infer A> ? A : never> | undefined
  for (const [id, advisory] of state.advisories) {
    if (Date.parse(advisory.publishedAt) >= beforeMs) continue
    advisories ??= new Map(state.advisories)
    advisories.delete(id)
  }
  if (!incidents && !advisories) return state
  return { ...state, incidents: incidents ?? state.incidents, advisories: advisories ?? state.advisories }
}

/** Index of the first event to keep: the leading run of window events that occurred before `beforeMs` goes. */
export function firstKept(window: readonly StoredEvent[], beforeMs: number): number {
  // occurredAt is not sorted in a window (late reports); seq order is. Drop the leading run that is old.
  let i = 0
  while (i < window.length && Date.parse(window[i]!.occurredAt) < beforeMs) i++
  return i
}

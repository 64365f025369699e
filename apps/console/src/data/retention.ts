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
  /**
   * What an opening console reads besides the snapshot: the events recorded in the last
   * `openHours` (before the newest one recorded), at most the newest `openMaxEvents` (counted in
   * log seqs). Older history is read on demand (the timeline). Defaults: `hours` when finite,
   * else `OPEN_HOURS`; `maxEvents`, at most `OPEN_MAX_EVENTS`.
   */
  openHours?: number
  openMaxEvents?: number
}

/** The console's default: the newest 200,000 events, whatever their age (the wall sets hours). */
export const DEFAULT_RETENTION: Retention = { hours: Number.POSITIVE_INFINITY, maxEvents: 200_000 }

/** The span an opening console reads when its retention keeps everything: the timeline's first view. */
export const OPEN_HOURS = 6
/** At most this many events read at open (by default): more is read when the timeline asks. */
export const OPEN_MAX_EVENTS = 50_000

/** The recent window an opening console reads with its snapshot. */
export function openWindow(retention: Retention): { hours: number; maxEvents: number } {
  const hours = retention.openHours ?? (Number.isFinite(retention.hours) ? retention.hours : OPEN_HOURS)
  const maxEvents = retention.openMaxEvents ?? Math.min(retention.maxEvents, OPEN_MAX_EVENTS)
  return { hours: Math.max(0, hours), maxEvents: Math.max(1, maxEvents) }
}

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

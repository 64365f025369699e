import { canSee, eventTime, REPLAY_CLOCKS, type ReplayClock } from '@watchfloor/core'
import { type EventPageReply, MAX_TIMESTAMP, MIN_TIMESTAMP, type StoredEvent, type Viewer } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import type { QueryReader } from '../http/query.ts'

// A store time range's bounds are the instants a timestamp may name (PostgreSQL has no year 0):
// earlier and later times are clamped to them.
const MIN_MS = Date.parse(MIN_TIMESTAMP)
const MAX_MS = Date.parse(MAX_TIMESTAMP)
/** A time as a store bound, clamped to [MIN_TIMESTAMP, MAX_TIMESTAMP]. */
export const storeTime = (ms: number) => new Date(Math.min(MAX_MS, Math.max(MIN_MS, ms))).toISOString()

/** The exclusive store bound for "recorded at or before atMs" (recordedAt has millisecond precision). */
export function upperBound(atMs: number): string {
  return storeTime(atMs + 1)
}

/** A half-open window `[fromMs, toMs)` on one clock; open ends are infinite. */
export interface Window {
  clock: ReplayClock
  fromMs: number
  toMs: number
}

export function readWindow(query: QueryReader): Window {
  const clock = query.oneOf('clock', REPLAY_CLOCKS, 'recorded')
  const fromMs = query.time('from') ?? Number.NEGATIVE_INFINITY
  const toMs = query.time('to') ?? Number.POSITIVE_INFINITY
  if (fromMs >= toMs) query.fail('to', 'expected a time after from')
  return { clock, fromMs, toMs }
}

export function inWindow(event: StoredEvent, window: Window): boolean {
  const time = eventTime(event, window.clock)
  return time >= window.fromMs && time < window.toMs
}

/**
 * One page of a window of the log, in seq order, after `cursor`, at most `want`:
 * on the recorded clock through the store's recorded range (a seq range, as
 * recordedAt follows seq [L5]); on the occurred clock the log itself, so the
 * caller still filters by `inWindow` (and always by visibility).
 */
export function readWindowPage(
  store: EventStore,
  window: Window,
  cursor: number,
  want: number,
): Promise<StoredEvent[]> {
  if (window.clock === 'occurred') return store.readAfter(cursor, want)
  const from = Number.isFinite(window.fromMs) ? storeTime(window.fromMs) : MIN_TIMESTAMP
  const to = Number.isFinite(window.toMs) ? storeTime(window.toMs) : MAX_TIMESTAMP
  return store.readRecordedRange(from, to, cursor, want)
}

/**
 * The caller's events in a window, in seq order, at most `limit`, scanning at
 * most `scanLimit` log events per call. `next` is the seq to continue after;
 * once the window is exhausted it is `head`, the caller's own head [D14] (the
 * seq of the last event it may see, at least `after`); it never passes it.
 */
export async function readVisibleWindow(
  store: EventStore,
  viewer: Viewer,
  visibleHead: number,
  window: Window,
  after: number,
  limit: number,
  scanLimit = 20_000,
): Promise<EventPageReply> {
  const events: StoredEvent[] = []
  let cursor = after
  let scanned = 0
  let exhausted = false
  while (events.length < limit && scanned < scanLimit) {
    const want = Math.min(1000, scanLimit - scanned)
    const page = await readWindowPage(store, window, cursor, want)
    let consumed = 0
    for (const event of page) {
      cursor = event.seq
      scanned++
      consumed++
      if (canSee(viewer, event) && inWindow(event, window)) {
        events.push(event)
        if (events.length === limit) break
      }
    }
    if (page.length < want && consumed === page.length) {
      exhausted = true
      break
    }
  }
  const head = Math.max(visibleHead, after, events.at(-1)?.seq ?? 0)
  return { events, next: exhausted ? head : Math.min(cursor, head), head }
}

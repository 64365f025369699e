/**
 * Replay in the console: the picture at a playhead, folded locally from a base picture and the
 * window's events (rules P1-P2 in packages/core/SPEC.md). Pure; no I/O.
 *
 * `base` is the viewer's picture at the start of the window (`GET /api/v1/state?at=from`), `events`
 * the viewer's events of the window in seq order (`GET /api/v1/events?from&to&clock`). The picture
 * at `t` is `fold(base, every event whose time on the clock is at or before t)`, in seq order:
 *
 * - recorded clock: those events are a prefix of `events` (recordedAt never decreases along seq).
 * - occurred clock: a prefix (every event up to the first one that occurred after t) plus the
 *   later events that occurred at or before t (late reports). Prefixes are snapshotted.
 *
 * Seeking folds from the nearest snapshot (every `interval` events) kept in memory, so seeking
 * backwards is as fast as forwards; playing forwards folds only what is new since the last frame.
 */
import { eventTime, fold, type ReplayClock, type State } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { isSignificant } from '../lists/eventGroups.ts'

// late reports (late.ts) are marked by the lists and the timeline too, which load without replay
export { isLate, LATE_MS, lateBy } from './late.ts'
export type { ReplayClock }

/**
 * How far one arrow key moves the playhead over a window of `spanMs`: a two-hundredth of it, in
 * whole seconds, at least one second (a range input's own step, 1 ms, moved nothing one could see).
 */
export function playheadStep(spanMs: number): number {
  return Math.max(1000, Math.round(spanMs / 200 / 1000) * 1000)
}

/** The playhead moved `direction` steps of `stepMs` from `at`, held inside [`from`, `to`]. */
export function steppedPlayhead(at: number, direction: number, stepMs: number, from: number, to: number): number {
  return Math.min(to, Math.max(from, at + direction * stepMs))
}

/**
 * On the occurred clock the base picture may already hold an event recorded after some events of
 * the window (a late report that happened before `from`): those window events cannot be folded on
 * top of it (fold keeps seq order [R1]). Then the events before the window are needed as events,
 * folded from the empty picture instead (`ReplayModel` with `always`).
 */
export function needsHistory(base: State, events: readonly StoredEvent[], clock: ReplayClock, fromMs: number): boolean {
  if (clock === 'recorded') return false
  return events.some((event) => event.seq <= base.seq && eventTime(event, clock) > fromMs)
}

export interface ReplayModelOptions {
  /** Events between two snapshots (default 1,000). */
  interval?: number
  /** Events always folded whatever the playhead (the history before the window); default none. */
  always?: (event: StoredEvent) => boolean
}

export interface ReplayFrame {
  /** The picture at the playhead. */
  state: State
  /** The window's events folded into it, in seq order (for the timeline and histories). */
  events: StoredEvent[]
}

export class ReplayModel {
  /** Each event's time on the clock (ms); -Infinity for `always` events. */
  readonly times: Float64Array
  /** prefixMax[k]: the latest time among events[0..k); non-decreasing. */
  private readonly prefixMax: Float64Array
  /** The distinct finite event times, ascending (for stepping). */
  readonly steps: Float64Array
  /** The same, of significant events only: anything but an observation (for stepping from change to change). */
  readonly significantSteps: Float64Array
  private readonly interval: number
  /** snapshots[i]: fold(base, events[0..i*interval)), computed on demand. */
  private readonly snapshots: State[]
  private last: { t: number; k: number; extras: number; frame: ReplayFrame } | undefined

  constructor(
    readonly base: State,
    readonly events: readonly StoredEvent[],
    readonly clock: ReplayClock,
    options: ReplayModelOptions = {},
  ) {
    this.interval = Math.max(1, Math.floor(options.interval ?? 1000))
    const n = events.length
    this.times = new Float64Array(n)
    this.prefixMax = new Float64Array(n + 1)
    this.prefixMax[0] = Number.NEGATIVE_INFINITY
    const finite: number[] = []
    const significant: number[] = []
    for (let i = 0; i < n; i++) {
      const event = events[i]!
      const time = options.always?.(event) ? Number.NEGATIVE_INFINITY : eventTime(event, clock)
      // an unparseable time never selects its event
      const t = Number.isNaN(time) ? Number.POSITIVE_INFINITY : time
      this.times[i] = t
      this.prefixMax[i + 1] = Math.max(this.prefixMax[i]!, t)
      if (Number.isFinite(t)) {
        finite.push(t)
        if (isSignificant(event)) significant.push(t)
      }
    }
    this.steps = distinctAscending(finite)
    this.significantSteps = distinctAscending(significant)
    this.snapshots = [base]
  }

  get length(): number {
    return this.events.length
  }

  /** The first event time after `t` (null: none); of a significant event only, when asked. */
  nextTime(t: number, significant = false): number | null {
    const steps = significant ? this.significantSteps : this.steps
    const i = firstAbove(steps, t)
    return i < steps.length ? steps[i]! : null
  }

  /** The last event time before `t` (null: none); of a significant event only, when asked. */
  previousTime(t: number, significant = false): number | null {
    const steps = significant ? this.significantSteps : this.steps
    const i = firstAtOrAbove(steps, t)
    return i > 0 ? steps[i - 1]! : null
  }

  /** The picture at `t` [P1], and the window's events folded into it. */
  at(t: number): ReplayFrame {
    const k = this.prefixAt(t)
    const extras: StoredEvent[] = []
    for (let j = k; j < this.events.length; j++) if (this.times[j]! <= t) extras.push(this.events[j]!)
    const last = this.last
    if (last && last.k === k && last.extras === extras.length && extras.length === 0) {
      last.t = t
      return last.frame
    }
    let state: State
    if (last && last.extras === 0 && last.k <= k && k - last.k <= this.interval) {
      state = fold(last.frame.state, this.events.slice(last.k, k)) // playing forwards
    } else {
      const s = Math.floor(k / this.interval)
      state = fold(this.snapshot(s), this.events.slice(s * this.interval, k))
    }
    if (extras.length > 0) state = fold(state, extras)
    const included = extras.length > 0 ? this.events.slice(0, k).concat(extras) : this.events.slice(0, k)
    const frame = { state, events: included }
    this.last = { t, k, extras: extras.length, frame }
    return frame
  }

  /** The largest k with every time of events[0..k) at or before t. */
  private prefixAt(t: number): number {
    let low = 0
    let high = this.events.length
    while (low < high) {
      const middle = (low + high + 1) >> 1
      if (this.prefixMax[middle]! <= t) low = middle
      else high = middle - 1
    }
    return low
  }

  private snapshot(i: number): State {
    while (this.snapshots.length <= i) {
      const j = this.snapshots.length
      const from = (j - 1) * this.interval
      this.snapshots.push(fold(this.snapshots[j - 1]!, this.events.slice(from, from + this.interval)))
    }
    return this.snapshots[i]!
  }
}

function distinctAscending(times: number[]): Float64Array {
  times.sort((a, b) => a - b)
  return Float64Array.from(times.filter((t, i) => i === 0 || t !== times[i - 1]))
}

/** The index of the first value above `t` in an ascending array (its length: none). */
function firstAbove(values: Float64Array, t: number): number {
  let low = 0
  let high = values.length
  while (low < high) {
    const middle = (low + high) >> 1
    if (values[middle]! > t) high = middle
    else low = middle + 1
  }
  return low
}

/** The index of the first value at or above `t` in an ascending array (its length: none). */
function firstAtOrAbove(values: Float64Array, t: number): number {
  let low = 0
  let high = values.length
  while (low < high) {
    const middle = (low + high) >> 1
    if (values[middle]! < t) low = middle + 1
    else high = middle
  }
  return low
}

/**
 * The replay a bookmark opens: its range, or half an hour either side of its moment, but never past
 * `now` (the server's): a moment saved minutes ago opened a window into the future, whose exports
 * grew between two clicks and held events the replay never showed.
 */
export function bookmarkWindow(
  bookmark: { at: number | undefined; from: number; to: number; clock: ReplayClock },
  now: number,
): { from: number; to: number; clock: ReplayClock; at?: number } {
  const to = Math.max(bookmark.from + 1, Math.min(bookmark.to, now))
  const at = bookmark.at === undefined ? undefined : Math.min(bookmark.at, to)
  return { from: bookmark.from, to, clock: bookmark.clock, ...(at !== undefined ? { at } : {}) }
}

/**
 * The playhead's time: to the second, and to the millisecond when it is not on a whole second (a step
 * to the next change often lands within the same second: shown to the second, it seemed not to move).
 */
export function playheadTime(ms: number): string {
  const iso = new Date(ms).toISOString()
  return ms % 1000 === 0 ? `${iso.slice(0, 19).replace('T', ' ')}Z` : `${iso.slice(0, 23).replace('T', ' ')}Z`
}

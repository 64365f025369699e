/**
 * A frame coalescer: any number of `push` calls between two frames become one `flush` carrying
 * their merged value. The scheduler is injectable (requestAnimationFrame in the browser, a manual
 * one in tests). Pure: touches no DOM at import time.
 */

/** Run `callback` once, later (next frame); returns a function that cancels it. */
export type Scheduler = (callback: () => void) => () => void

export interface Coalescer<T> {
  /** Add a change; schedules a flush if none is pending. */
  push(value: T): void
  /** Flush now whatever is pending (no-op if nothing is). */
  flushNow(): void
  /** Drop whatever is pending and cancel the scheduled flush. */
  cancel(): void
  /** Whether a flush is scheduled. */
  readonly pending: boolean
}

export interface CoalescerOptions<T> {
  /** Combine a pending value with a newer one (e.g. keep the latest snapshot, or union two diffs). */
  merge: (pending: T, next: T) => T
  flush: (value: T) => void
  schedule: Scheduler
}

export function createCoalescer<T>({ merge, flush, schedule }: CoalescerOptions<T>): Coalescer<T> {
  let hasValue = false
  let value: T | undefined
  let cancelScheduled: (() => void) | undefined
  const run = () => {
    cancelScheduled = undefined
    if (!hasValue) return
    const out = value as T
    hasValue = false
    value = undefined
    flush(out)
  }
  return {
    push(next) {
      value = hasValue ? merge(value as T, next) : next
      hasValue = true
      if (!cancelScheduled) cancelScheduled = schedule(run)
    },
    flushNow() {
      cancelScheduled?.()
      run()
    },
    cancel() {
      cancelScheduled?.()
      cancelScheduled = undefined
      hasValue = false
      value = undefined
    },
    get pending() {
      return cancelScheduled !== undefined
    },
  }
}

/** The browser's frame scheduler (looked up when called, so importing this module needs no DOM). */
export const animationFrameScheduler: Scheduler = (callback) => {
  const id = requestAnimationFrame(() => callback())
  return () => cancelAnimationFrame(id)
}

/** A scheduler whose pending run can be brought forward. */
export interface PacedScheduler extends Scheduler {
  /** Run what is pending on the next frame, without waiting out the gap. */
  hurry(): void
}

/**
 * Runs callbacks on a frame (from `frame`) at least `gap()` ms after the last one it ran: the
 * map's pace when each of its frames is expensive. `gap` is read at each scheduling; 0 is every
 * frame.
 */
export function pacedScheduler(
  gap: () => number,
  frame: Scheduler = animationFrameScheduler,
  clock: () => number = () => performance.now(),
): PacedScheduler {
  let last = Number.NEGATIVE_INFINITY
  interface Pending {
    run: () => void
    timer?: ReturnType<typeof setTimeout> | undefined
    cancelFrame?: () => void
  }
  let pending: Pending | undefined
  const onFrame = (p: Pending) => {
    p.timer = undefined
    p.cancelFrame = frame(() => {
      if (pending === p) pending = undefined
      last = clock()
      p.run()
    })
  }
  const schedule = ((callback) => {
    const p: Pending = { run: callback }
    pending = p
    const wait = last + gap() - clock()
    if (wait > 0) p.timer = setTimeout(() => onFrame(p), wait)
    else onFrame(p)
    return () => {
      if (p.timer !== undefined) clearTimeout(p.timer)
      p.cancelFrame?.()
      if (pending === p) pending = undefined
    }
  }) as PacedScheduler
  schedule.hurry = () => {
    const p = pending
    if (p?.timer === undefined) return
    clearTimeout(p.timer)
    onFrame(p)
  }
  return schedule
}

/** Keep the newest value: for snapshots, where the flush diffs against what was last applied. */
export const latest = <T>(_pending: T, next: T): T => next

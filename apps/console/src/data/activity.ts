/**
 * Events per minute of occurredAt, for density strips: a bounded map of minute -> count, so a
 * wall that runs for days keeps a fixed amount of it whatever the event rate. Each minute also
 * keeps the strictest TLP of what it counts: a strip drawn from counts says as much as the events
 * counted, and the marking shown over it must cover them.
 */
import { highestTlp, tlpRank } from '@watchfloor/core'
import type { Tlp } from '@watchfloor/protocol'

export const MINUTE_MS = 60_000

/** The longest span a density strip shows (the wall's `hours`): counts are kept for at most this long. */
export const COUNT_HOURS = 72

/**
 * The minutes of counts a picture keeps for a retention of `hours`: its hours (a wall's retention
 * is at least its ticker's hours), at most `COUNT_HOURS`, and an hour more (a strip's first bucket
 * starts before its span, and the newest minute counted may be ahead of now).
 */
export function countMinutes(hours: number): number {
  return Math.ceil(Math.min(Number.isNaN(hours) ? COUNT_HOURS : hours, COUNT_HOURS) * 60) + 60
}

export class MinuteCounts {
  private readonly counts = new Map<number, number>()
  /** The strictest TLP counted in a minute; a minute with none counted marked is not in it. */
  private readonly tlps = new Map<number, Tlp>()
  private newestMinute = Number.NEGATIVE_INFINITY

  /** @param keepMinutes minutes before the newest one that are kept */
  constructor(readonly keepMinutes = countMinutes(COUNT_HOURS)) {}

  add(atMs: number, count = 1, tlp: Tlp = 'CLEAR'): void {
    if (!Number.isFinite(atMs)) return
    const minute = Math.floor(atMs / MINUTE_MS)
    if (minute <= this.newestMinute - this.keepMinutes) return // older than anything kept
    this.counts.set(minute, (this.counts.get(minute) ?? 0) + count)
    const was = this.tlps.get(minute)
    if (tlp !== 'CLEAR' && (was === undefined || tlpRank(tlp) > tlpRank(was))) this.tlps.set(minute, tlp)
    if (minute > this.newestMinute) {
      this.newestMinute = minute
      if (this.counts.size > this.keepMinutes + 1) this.trim()
    }
  }

  private trim(): void {
    const oldest = this.newestMinute - this.keepMinutes
    for (const minute of this.counts.keys()) if (minute <= oldest) this.counts.delete(minute)
    for (const minute of this.tlps.keys()) if (minute <= oldest) this.tlps.delete(minute)
  }

  /** The same counts, keeping `keepMinutes` from now on. */
  resized(keepMinutes: number): MinuteCounts {
    const copy = new MinuteCounts(keepMinutes)
    const minutes = [...this.counts.keys()].sort((a, b) => a - b)
    for (const minute of minutes) copy.add(minute * MINUTE_MS, this.counts.get(minute)!, this.tlps.get(minute))
    return copy
  }

  /**
   * From when these counts hold every event (epoch ms): the later of `countingFrom` (when counting
   * began) and the oldest minute kept. A strip hatches what is before it rather than show it quiet.
   */
  heldFrom(countingFrom = Number.NEGATIVE_INFINITY): number {
    const oldestKept = Number.isFinite(this.newestMinute)
      ? (this.newestMinute - this.keepMinutes + 1) * MINUTE_MS
      : Number.NEGATIVE_INFINITY
    return Math.max(countingFrom, oldestKept)
  }

  /** Counts per bucket of `bucketMs` over [fromMs, toMs), oldest first. */
  buckets(fromMs: number, toMs: number, bucketMs: number): number[] {
    const n = Math.max(0, Math.ceil((toMs - fromMs) / bucketMs))
    const out = new Array<number>(n).fill(0)
    for (const [minute, count] of this.counts) {
      const at = minute * MINUTE_MS
      if (at < fromMs || at >= toMs) continue
      const i = Math.floor((at - fromMs) / bucketMs)
      out[i] = (out[i] ?? 0) + count
    }
    return out
  }

  /** The strictest TLP of the events counted over [fromMs, toMs): what a strip of them must be marked. */
  strictestTlp(fromMs: number, toMs: number): Tlp {
    const tlps: Tlp[] = []
    for (const [minute, tlp] of this.tlps) {
      const at = minute * MINUTE_MS
      if (at >= fromMs && at < toMs) tlps.push(tlp)
    }
    return highestTlp(tlps)
  }

  get size(): number {
    return this.counts.size
  }

  total(): number {
    let sum = 0
    for (const count of this.counts.values()) sum += count
    return sum
  }
}

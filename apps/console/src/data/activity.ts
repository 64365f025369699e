/**
 * Events per minute of occurredAt, for density strips: a bounded map of minute -> count, so a
 * wall that runs for days keeps a fixed amount of it whatever the event rate.
 */
export const MINUTE_MS = 60_000

export class MinuteCounts {
  private readonly counts = new Map<number, number>()
  private newestMinute = Number.NEGATIVE_INFINITY

  /** @param keepMinutes minutes before the newest one that are kept */
  constructor(readonly keepMinutes = 48 * 60) {}

  add(atMs: number, count = 1): void {
    if (!Number.isFinite(atMs)) return
    const minute = Math.floor(atMs / MINUTE_MS)
    if (minute <= this.newestMinute - this.keepMinutes) return // older than anything kept
    this.counts.set(minute, (this.counts.get(minute) ?? 0) + count)
    if (minute > this.newestMinute) {
      this.newestMinute = minute
      if (this.counts.size > this.keepMinutes + 1) this.trim()
    }
  }

  private trim(): void {
    const oldest = this.newestMinute - this.keepMinutes
    for (const minute of this.counts.keys()) if (minute <= oldest) this.counts.delete(minute)
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

  get size(): number {
    return this.counts.size
  }

  total(): number {
    let sum = 0
    for (const count of this.counts.values()) sum += count
    return sum
  }
}

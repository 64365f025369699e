import { DAY, type Domain, HOUR, MINUTE, niceStep, SECOND } from './scale.ts'
import { lowerBound } from './timeIndex.ts'

export const DENSITY_STEPS: readonly number[] = [
  100,
  250,
  500,
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
]

export interface Density {
  /** Bucket width, ms. */
  step: number
  /** Start of bucket 0 (a multiple of step, <= domain.from). */
  start: number
  counts: Uint32Array
  max: number
}

/** The bucket width for a domain drawn `width` px wide: a nice step at least `minBucketPx` wide. */
export function bucketStep(domain: Domain, width: number, minBucketPx = 6): number {
  return niceStep(((domain.to - domain.from) / Math.max(1, width)) * minBucketPx, DENSITY_STEPS)
}

/** Events per time bucket across the domain, from time-sorted `times` (binary search per bucket edge). */
export function density(times: Float64Array, domain: Domain, width: number, minBucketPx = 6): Density {
  const step = bucketStep(domain, width, minBucketPx)
  const start = Math.floor(domain.from / step) * step
  const n = Math.max(1, Math.ceil((domain.to - start) / step))
  const counts = new Uint32Array(n)
  let max = 0
  let lo = lowerBound(times, start)
  for (let i = 0; i < n; i++) {
    const hi = lowerBound(times, start + (i + 1) * step)
    const c = hi - lo
    counts[i] = c
    if (c > max) max = c
    lo = hi
  }
  return { step, start, counts, max }
}

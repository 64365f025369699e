import { describe, expect, it } from 'vitest'
import { bucketStep, density } from './density.ts'
import { DAY, HOUR, MINUTE, SECOND } from './scale.ts'

const T0 = Date.UTC(2026, 10, 1)

describe('density bucketing', () => {
  it('adapts the bucket width to the zoom', () => {
    expect(bucketStep({ from: T0, to: T0 + HOUR }, 600)).toBe(MINUTE)
    expect(bucketStep({ from: T0, to: T0 + DAY }, 600)).toBe(15 * MINUTE)
    expect(bucketStep({ from: T0, to: T0 + MINUTE }, 600)).toBe(SECOND)
  })

  it('counts events per bucket', () => {
    const times = Float64Array.from([T0 - 1, T0, T0 + 500, T0 + SECOND, T0 + 2.5 * SECOND, T0 + MINUTE + 1])
    const d = density(times, { from: T0, to: T0 + 10 * SECOND }, 60, 6)
    expect(d.step).toBe(SECOND)
    expect(d.start).toBe(T0)
    expect(Array.from(d.counts)).toEqual([2, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    expect(d.max).toBe(2)
  })

  it('aligns buckets to the step', () => {
    const d = density(Float64Array.from([T0 + 90 * SECOND]), { from: T0 + 30 * SECOND, to: T0 + HOUR }, 600)
    expect(d.start % d.step).toBe(0)
    expect(d.counts.reduce((a, b) => a + b, 0)).toBe(1)
  })
})

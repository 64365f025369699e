import { describe, expect, it } from 'vitest'
import { PULSE_MS, ringAt } from './pulses.ts'

describe('ringAt', () => {
  it('grows and fades over the pulse, then is over', () => {
    const first = ringAt(0)!
    const middle = ringAt(PULSE_MS / 2)!
    const late = ringAt(PULSE_MS - 1)!
    expect(first).toEqual({ scale: 0.2, opacity: 1 })
    expect(middle.scale).toBeGreaterThan(first.scale)
    expect(late.scale).toBeGreaterThan(middle.scale)
    expect(late.scale).toBeLessThanOrEqual(1.4)
    expect(middle.opacity).toBeLessThan(1)
    expect(late.opacity).toBeLessThan(middle.opacity)
    expect(ringAt(PULSE_MS)).toBeNull()
    expect(ringAt(-1)).toBeNull()
  })

  it('with reduced motion shows two still frames in half the time', () => {
    expect(ringAt(0, true)).toEqual({ scale: 0.6, opacity: 1 })
    expect(ringAt(PULSE_MS / 4, true)).toEqual({ scale: 1.2, opacity: 0.5 })
    expect(ringAt(PULSE_MS / 2, true)).toBeNull()
  })
})

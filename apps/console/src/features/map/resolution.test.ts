import { describe, expect, it } from 'vitest'
import { ResolutionGovernor } from './resolution.ts'

describe('ResolutionGovernor', () => {
  it('never acts while map frames are short (a GPU)', () => {
    const governor = new ResolutionGovernor()
    for (let i = 0; i < 1000; i++) expect(governor.frame(16 + (i % 30))).toBeNull()
    expect(governor.scale).toBe(1)
  })

  it('steps the resolution down when map frames keep running long, down to the last step', () => {
    const governor = new ResolutionGovernor({ steps: [1, 0.75, 0.5], longMs: 100, window: 10, limit: 3 })
    expect(governor.frame(250)).toBeNull()
    expect(governor.frame(20)).toBeNull()
    expect(governor.frame(250)).toBeNull()
    expect(governor.frame(250)).toBe(0.75) // the third long frame of the last ten
    for (let i = 0; i < 2; i++) expect(governor.frame(180)).toBeNull()
    expect(governor.frame(180)).toBe(0.5)
    for (let i = 0; i < 20; i++) expect(governor.frame(180)).toBeNull() // nothing lower
    expect(governor.scale).toBe(0.5)
  })

  it('forgets long frames that scrolled out of its window', () => {
    const governor = new ResolutionGovernor({ window: 5, limit: 3 })
    governor.frame(300)
    governor.frame(300)
    for (let i = 0; i < 5; i++) governor.frame(10)
    expect(governor.frame(300)).toBeNull()
    expect(governor.scale).toBe(1)
  })
})

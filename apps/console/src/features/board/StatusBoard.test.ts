import type { NetworkPosture } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { formatDuration } from '../../ui/format.ts'
import { formatAge, isStale, STALE_AFTER_MS } from './StatusBoard.tsx'

const posture = (lastReportAt: string) => ({ network: { lastReportAt } }) as unknown as NetworkPosture

describe('status board', () => {
  it('marks a network stale once it has not reported for the threshold', () => {
    const now = Date.parse('2026-11-26T10:00:00Z')
    expect(isStale(posture(new Date(now - STALE_AFTER_MS + 1000).toISOString()), now)).toBe(false)
    expect(isStale(posture(new Date(now - STALE_AFTER_MS - 1000).toISOString()), now)).toBe(true)
  })

  it('says ages in words', () => {
    expect(formatAge(5_000)).toBe('5s ago')
    expect(formatAge(999)).toBe('just now')
    expect(formatAge(0)).toBe('just now')
    expect(formatAge(-200)).toBe('just now')
    expect(formatAge(1_000)).toBe('1s ago')
    expect(formatAge(125_000)).toBe('2m ago')
    expect(formatAge(3 * 3_600_000 + 60_000)).toBe('3h 1m ago')
    expect(formatAge(-10)).toBe('just now')
    expect(formatAge(3 * 86_400_000)).toBe('3d ago')
    expect(formatDuration(59_999)).toBe('59s')
    expect(formatDuration(-5)).toBe('0s')
  })
})

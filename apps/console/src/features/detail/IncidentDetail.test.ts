import { makeEvent } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { observationRate } from './IncidentDetail.tsx'

describe('observation rate', () => {
  it('counts observations (with their count) per minute over the last ten minutes', () => {
    const now = Date.parse('2026-11-26T10:00:00Z')
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString()
    const history = [
      makeEvent(1, 'incident.observation', { incidentId: 'i', count: 10 }, { occurredAt: at(30) }),
      makeEvent(2, 'incident.observation', { incidentId: 'i', count: 15 }, { occurredAt: at(5) }),
      makeEvent(3, 'incident.observation', { incidentId: 'i' }, { occurredAt: at(1) }),
      makeEvent(4, 'incident.updated', { incidentId: 'i', status: 'triaged' }, { occurredAt: at(1) }),
    ]
    expect(observationRate(history, now)).toBeCloseTo(1.6)
  })
})

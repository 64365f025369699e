import { fold, initialState, type State } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { createScenario, takeEvents } from '@watchfloor/simulator'
import { describe, expect, it } from 'vitest'
import { stateText, stateTextInSlices } from './stateText.ts'

/** The picture after the first `n` events of the demo scenario (networks, incidents, tasks, advisories, RED). */
function pictureAfter(n: number, seed = 7): State {
  const scenario = createScenario({ seed, startTime: '2026-11-26T08:00:00.000Z', rate: 5 })
  const events = takeEvents(scenario, n).map(
    ({ event }, i) =>
      ({
        ...event,
        actor: event.actor ?? { user: 'sensor', organisation: event.source.organisation },
        marking: event.marking ?? { tlp: 'AMBER' },
        seq: i + 1,
        recordedAt: event.occurredAt,
      }) as StoredEvent,
  )
  return fold(initialState, events)
}

describe('a picture as text, in slices', () => {
  it('is the same text as in one go, for pictures large and small', async () => {
    for (const [n, seed] of [
      [0, 1],
      [40, 2],
      [3_000, 3],
    ] as const) {
      const state = n === 0 ? initialState : pictureAfter(n, seed)
      const expected = JSON.stringify(JSON.parse(stateText(state)))
      // a fresh fold of the same events: an object of its own, so nothing is cached for it yet
      const again = n === 0 ? fold(initialState, []) : pictureAfter(n, seed)
      const sliced = await stateTextInSlices(again, 0)
      expect(sliced).toBe(expected)
      // and it is kept with the picture: asked again, the same string
      expect(stateText(again)).toBe(sliced)
    }
  })

  it('lets the event loop turn between slices', async () => {
    // two thousand incidents: a slice of no time at all ends every 256 of them
    const reports = Array.from(
      { length: 2_000 },
      (_, i) =>
        ({
          id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          type: 'incident.reported',
          occurredAt: '2026-11-26T08:00:00.000Z',
          recordedAt: '2026-11-26T08:00:00.000Z',
          seq: i + 1,
          source: { organisation: 'cert-ee' },
          actor: { user: 'sensor', organisation: 'cert-ee' },
          marking: { tlp: 'GREEN' },
          payload: {
            incidentId: `inc-${i}`,
            title: `Incident ${i}`,
            severity: 'low',
            category: 'worm',
            affectedNetworks: [],
          },
        }) as StoredEvent,
    )
    const state = fold(initialState, reports)
    let turns = 0
    let done = false
    const turn = () => {
      turns++
      if (!done) setImmediate(turn)
    }
    setImmediate(turn)
    const text = await stateTextInSlices(state, 0)
    done = true
    expect(turns).toBeGreaterThanOrEqual(7)
    expect(text).toBe(JSON.stringify(JSON.parse(text)))
    expect(JSON.parse(text).incidents).toHaveLength(2_000)
  })
})

import { describe, expect, it } from 'vitest'
import { fold } from './reduce.ts'
import { stateFromJson, stateToJson } from './selectors.ts'
import { initialState } from './state.ts'
import { makeEvent } from './testing.ts'

describe('stateToJson and stateFromJson', () => {
  it('a GET /api/v1/state answer turns back into the core state', () => {
    const state = fold(initialState, [
      makeEvent(1, 'incident.reported', {
        incidentId: 'i1',
        title: 'Worm',
        severity: 'high',
        category: 'malware',
        affectedNetworks: ['ee-gov'],
      }),
      makeEvent(2, 'bookmark.saved', { bookmarkId: 'b1', title: 'b', clock: 'occurred', at: '2026-11-01T00:00:00Z' }),
    ])
    const json = JSON.parse(JSON.stringify(stateToJson(state)))
    const back = stateFromJson(json)
    expect(stateToJson(back)).toEqual(stateToJson(state))
    expect(back.incidents.get('i1')?.title).toBe('Worm')
    // and it folds on as the live state would
    const next = makeEvent(3, 'incident.updated', { incidentId: 'i1', status: 'closed' })
    expect(stateToJson(fold(back, [next]))).toEqual(stateToJson(fold(state, [next])))
  })
})

import type { EventInput } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { HandsOff } from './handsOff.ts'

const update = (incidentId: string) =>
  ({ type: 'incident.updated', payload: { incidentId, status: 'closed' } }) as unknown as EventInput
const observation = (incidentId: string) =>
  ({
    type: 'incident.observation',
    payload: { incidentId, indicator: '198.51.100.1', count: 1 },
  }) as unknown as EventInput

describe('HandsOff', () => {
  it('holds back scripted updates of an incident once anyone but the simulator acted on it, never its observations', () => {
    const handsOff = new HandsOff('simulator')
    handsOff.note([
      { type: 'incident.reported', actor: { user: 'simulator' }, payload: { incidentId: 'inc-1' } },
      { type: 'incident.updated', actor: { user: 'simulator' }, payload: { incidentId: 'inc-1' } },
      { type: 'incident.reported', actor: { user: 'simulator' }, payload: { incidentId: 'inc-2' } },
    ])
    expect(handsOff.holdsBack(update('inc-1'))).toBe(false)
    handsOff.note([{ type: 'incident.escalated', actor: { user: 'ilze' }, payload: { incidentId: 'inc-1' } }])
    expect(handsOff.isTaken('inc-1')).toBe(true)
    expect(handsOff.holdsBack(update('inc-1'))).toBe(true)
    expect(handsOff.holdsBack(observation('inc-1'))).toBe(false)
    expect(handsOff.holdsBack(update('inc-2'))).toBe(false)
    // an event with no actor, or about no incident, takes nothing over
    handsOff.note([
      { type: 'incident.updated', payload: { incidentId: 'inc-2' } },
      { type: 'network.posture_changed', actor: { user: 'ilze' }, payload: { networkId: 'cert-ee-net' } },
    ])
    expect(handsOff.isTaken('inc-2')).toBe(false)
  })
})

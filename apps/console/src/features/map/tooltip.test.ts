import { fold, initialState, makeEvent, tasksForIncident } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { incidentTipTlp } from './tooltip.ts'

describe('the map tooltip of an incident', () => {
  it('carries the strictest marking of what it says: the incident as folded and its tasks', () => {
    let state = fold(initialState, [
      makeEvent(
        1,
        'incident.reported',
        {
          incidentId: 'i',
          title: 'Ransomware',
          severity: 'medium',
          category: 'malware',
          affectedNetworks: [],
        },
        { marking: { tlp: 'GREEN' } },
      ),
    ])
    const tip = () => incidentTipTlp(state.incidents.get('i')!, tasksForIncident(state, 'i'))
    expect(tip()).toBe('GREEN')
    // a task created under AMBER: its summary is on the tip
    state = fold(state, [
      makeEvent(
        2,
        'task.created',
        { taskId: 't', incidentId: 'i', title: 'Isolate', priority: 'high' },
        { marking: { tlp: 'AMBER' } },
      ),
    ])
    expect(state.incidents.get('i')!.contentMarking.tlp).toBe('GREEN')
    expect(tip()).toBe('AMBER')
    // an escalation under RED: the severity the tip shows came from it
    state = fold(state, [
      makeEvent(
        3,
        'incident.escalated',
        { incidentId: 'i', severity: 'critical', reason: 'spreading' },
        { marking: { tlp: 'RED', recipients: ['kadri'] } },
      ),
    ])
    expect(state.incidents.get('i')!.marking.tlp).toBe('GREEN') // who may see it is unchanged
    expect(tip()).toBe('RED')
  })
})

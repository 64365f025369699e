import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { incidentOf, SEVERITIES_ASCENDING, SEVERITIES_DESCENDING, severityRank } from './facts.ts'
import { fold } from './reduce.ts'
import { initialState } from './state.ts'
import { makeEvent } from './testing.ts'

const reported = makeEvent(1, 'incident.reported', {
  incidentId: 'inc-1',
  title: 'Worm',
  severity: 'high',
  category: 'worm',
  affectedNetworks: [],
})
const created = makeEvent(2, 'task.created', { taskId: 't-1', incidentId: 'inc-1', title: 'Isolate', priority: 'high' })
const state = fold(initialState, [reported, created])

describe('incidentOf: which incident an event is about', () => {
  it('incident events, observations, task creations and comments name their incident', () => {
    const events: StoredEvent[] = [
      reported,
      makeEvent(3, 'incident.updated', { incidentId: 'inc-1', severity: 'critical' }),
      makeEvent(4, 'incident.observation', { incidentId: 'inc-1', indicator: 'smb' }),
      makeEvent(5, 'incident.acknowledged', { incidentId: 'inc-1' }),
      makeEvent(6, 'incident.escalated', { incidentId: 'inc-1', severity: 'critical', reason: 'spread' }),
      makeEvent(7, 'incident.status_changed', { incidentId: 'inc-1', status: 'triaged' }),
      makeEvent(8, 'incident.linked', { incidentId: 'inc-1', otherIncidentId: 'inc-2', relation: 'related' }),
      makeEvent(9, 'incident.network_state_set', { incidentId: 'inc-1', networkId: 'ee-gov', state: 'contained' }),
      created,
      makeEvent(10, 'comment.posted', { commentId: 'c-1', incidentId: 'inc-1', body: 'on it', mentions: [] }),
    ]
    for (const event of events) expect(incidentOf(event), event.type).toBe('inc-1')
  })

  it('other task events resolve through their task, and name none when the task is unknown', () => {
    const moves: StoredEvent[] = [
      makeEvent(11, 'task.assigned', { taskId: 't-1', assignee: { kind: 'user', userId: 'mari' } }),
      makeEvent(12, 'task.accepted', { taskId: 't-1' }),
      makeEvent(13, 'task.started', { taskId: 't-1' }),
      makeEvent(14, 'task.blocked', { taskId: 't-1', reason: 'waiting' }),
      makeEvent(15, 'task.completed', { taskId: 't-1' }),
      makeEvent(16, 'task.reopened', { taskId: 't-1' }),
    ]
    for (const event of moves) {
      expect(incidentOf(event, state), event.type).toBe('inc-1')
      expect(incidentOf(event), event.type).toBeUndefined()
      expect(incidentOf(event, { tasks: new Map() }), event.type).toBeUndefined()
    }
    // any index of task ids will do: an export builds one from the viewer's picture
    expect(incidentOf(moves[0]!, { tasks: new Map([['t-1', { incidentId: 'inc-9' }]]) })).toBe('inc-9')
  })

  it('an advisory names an incident only when it says so; networks and bookmarks name none', () => {
    const advisory = { advisoryId: 'a-1', title: 'Patch', body: 'Patch now', severity: 'high' } as const
    expect(incidentOf(makeEvent(17, 'advisory.published', { ...advisory, incidentId: 'inc-1' }))).toBe('inc-1')
    expect(incidentOf(makeEvent(18, 'advisory.published', advisory))).toBeUndefined()
    expect(
      incidentOf(
        makeEvent(19, 'network.registered', {
          networkId: 'ee-gov',
          name: 'EE gov',
          kind: 'government',
          organisation: 'cert-ee',
          nation: 'EE',
          location: { lat: 59.4, lon: 24.7 },
        }),
      ),
    ).toBeUndefined()
    expect(incidentOf(makeEvent(20, 'network.posture_changed', { networkId: 'ee-gov', posture: 'elevated' }))).toBe(
      undefined,
    )
    expect(
      incidentOf(
        makeEvent(21, 'bookmark.saved', {
          bookmarkId: 'b-1',
          title: 'Start',
          clock: 'recorded',
          at: reported.recordedAt,
        }),
      ),
    ).toBe(undefined)
  })
})

describe('severity order', () => {
  it('ranks low < medium < high < critical, both ways', () => {
    expect(SEVERITIES_ASCENDING.map(severityRank)).toEqual([0, 1, 2, 3])
    expect(SEVERITIES_DESCENDING).toEqual(['critical', 'high', 'medium', 'low'])
  })
})

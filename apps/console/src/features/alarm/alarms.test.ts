import { fold, initialState, makeEvent, type State } from '@watchfloor/core'
import type { Severity, StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { alarmsOf, alarmTitle, baselineOf, standingCriticalsOf } from './alarms.ts'

const reported = (seq: number, incidentId: string, severity: Severity, minute = seq): StoredEvent =>
  makeEvent(
    seq,
    'incident.reported',
    { incidentId, title: `Title ${incidentId}`, severity, category: 'malware', affectedNetworks: ['ee-gov'] },
    { occurredAt: new Date(Date.UTC(2026, 10, 1, 8, minute)).toISOString() },
  )

const criticalsOnly = { includeHigh: false }
const none = new Set<string>()

describe('alarms', () => {
  // the console opened on a picture with one critical and one high
  const opening = fold(initialState, [reported(1, 'old-crit', 'critical'), reported(2, 'old-high', 'high')])
  const baseline = baselineOf(opening)
  const live = (events: StoredEvent[]): State => fold(opening, events)

  it('the baseline holds only what could have alarmed at opening; a closed critical reopened alarms as news', () => {
    const closed = makeEvent(3, 'incident.updated', { incidentId: 'was-closed', status: 'closed' })
    const opened = fold(initialState, [
      reported(1, 'old-crit', 'critical'),
      reported(2, 'was-closed', 'critical'),
      closed,
      reported(4, 'old-low', 'low'),
    ])
    const held = baselineOf(opened)
    expect([...held.keys()]).toEqual(['old-crit'])
    const reopened = fold(opened, [makeEvent(5, 'incident.updated', { incidentId: 'was-closed', status: 'new' })])
    expect(alarmsOf(reopened, held, criticalsOnly, none).map((i) => i.incidentId)).toEqual(['was-closed'])
  })

  it('raises none before the console is live, nor for what it opened with', () => {
    expect(alarmsOf(opening, null, criticalsOnly, none)).toEqual([])
    expect(alarmsOf(opening, baseline, { includeHigh: true }, none)).toEqual([])
  })

  it('a critical that arrives live alarms; a high only when the setting asks', () => {
    const state = live([reported(3, 'new-crit', 'critical'), reported(4, 'new-high', 'high')])
    expect(alarmsOf(state, baseline, criticalsOnly, none).map((i) => i.incidentId)).toEqual(['new-crit'])
    expect(alarmsOf(state, baseline, { includeHigh: true }, none).map((i) => i.incidentId)).toEqual([
      'new-high',
      'new-crit',
    ])
  })

  it('several alarms come newest first', () => {
    const state = live([
      reported(3, 'a', 'critical', 10),
      reported(4, 'b', 'critical', 20),
      reported(5, 'c', 'critical', 15),
    ])
    expect(alarmsOf(state, baseline, criticalsOnly, none).map((i) => i.incidentId)).toEqual(['b', 'c', 'a'])
  })

  it('an escalation to critical received live alarms', () => {
    const state = live([
      makeEvent(3, 'incident.escalated', { incidentId: 'old-high', severity: 'critical', reason: 'spreading' }),
    ])
    expect(alarmsOf(state, baseline, criticalsOnly, none).map((i) => i.incidentId)).toEqual(['old-high'])
  })

  it('an acknowledgement, a close or a dismissal ends the alarm', () => {
    const raised = live([reported(3, 'x', 'critical'), reported(4, 'y', 'critical'), reported(5, 'z', 'critical')])
    const ended = fold(raised, [
      makeEvent(6, 'incident.acknowledged', { incidentId: 'x' }, { actor: 'mari' }),
      makeEvent(7, 'incident.status_changed', { incidentId: 'y', status: 'closed' }),
    ])
    expect(alarmsOf(ended, baseline, criticalsOnly, none).map((i) => i.incidentId)).toEqual(['z'])
    expect(alarmsOf(ended, baseline, criticalsOnly, new Set(['z']))).toEqual([])
  })

  it('lists the unacknowledged criticals already open at opening, until acknowledged', () => {
    expect(standingCriticalsOf(opening, baseline).map((i) => i.incidentId)).toEqual(['old-crit'])
    expect(standingCriticalsOf(opening, null)).toEqual([])
    const acked = live([makeEvent(3, 'incident.acknowledged', { incidentId: 'old-crit' })])
    expect(standingCriticalsOf(acked, baseline)).toEqual([])
  })

  it('titles the tab with the severity and the title', () => {
    const [alarm] = alarmsOf(live([reported(3, 'n', 'critical')]), baseline, criticalsOnly, none)
    expect(alarmTitle(alarm!)).toBe('(!) CRITICAL: Title n')
  })
})

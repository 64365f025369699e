import { makeEvent } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { person, picture, reportEvent } from './fixtures.test-helpers.ts'
import { can, escalationChoices } from './permissions.ts'

const base = [
  reportEvent(1, 'inc-1'),
  reportEvent(2, 'inc-2'),
  makeEvent(
    3,
    'task.created',
    {
      taskId: 't-team',
      incidentId: 'inc-1',
      title: 'Isolate hosts',
      priority: 'high',
      assignee: { kind: 'team', organisation: 'cert-ee' },
    },
    { actor: 'coord' },
  ),
  makeEvent(
    4,
    'task.created',
    { taskId: 't-none', incidentId: 'inc-1', title: 'Nobody', priority: 'low' },
    { actor: 'coord' },
  ),
  makeEvent(
    5,
    'task.created',
    {
      taskId: 't-user',
      incidentId: 'inc-1',
      title: 'For mari',
      priority: 'low',
      assignee: { kind: 'user', userId: 'mari' },
    },
    { actor: 'coord' },
  ),
]
const state = picture(base)
const inc = state.incidents.get('inc-1')!
const task = (id: string) => state.tasks.get(id)!

const coordinator = person(['coordinator'], 'coord', 'alliance')
const officer = person(['watch_officer'])
const analyst = person(['analyst'])
const sensor = person(['sensor'])

describe('can: who sees which action (mirrors decide C2, C6-C14)', () => {
  it('[C2] incident commands by role', () => {
    expect(can(officer, 'incident.acknowledge', inc)).toBe(true)
    expect(can(analyst, 'incident.acknowledge', inc)).toBe(false)
    expect(can(coordinator, 'incident.acknowledge', inc)).toBe(true)
    for (const action of [
      'incident.escalate',
      'incident.set_status',
      'incident.link',
      'network.set_state',
      'task.create',
    ] as const) {
      expect(can(coordinator, action, inc)).toBe(true)
      expect(can(person(['admin']), action, inc)).toBe(true)
      expect(can(officer, action, inc)).toBe(false)
    }
  })

  it('nothing for nobody or for a read-only display', () => {
    expect(can(null, 'comment.post', inc)).toBe(false)
    expect(can({ ...coordinator, kind: 'display' }, 'incident.escalate', inc)).toBe(false)
  })

  it('[C6] [C7] acknowledge once, escalate only upwards, neither on a closed incident', () => {
    const acked = picture([...base, makeEvent(6, 'incident.acknowledged', { incidentId: 'inc-1' }, { actor: 'x' })])
    expect(can(officer, 'incident.acknowledge', acked.incidents.get('inc-1'))).toBe(false)
    const critical = picture([
      ...base,
      makeEvent(6, 'incident.escalated', { incidentId: 'inc-1', severity: 'critical', reason: 'r' }),
    ])
    expect(can(coordinator, 'incident.escalate', critical.incidents.get('inc-1'))).toBe(false)
    expect(escalationChoices(inc)).toEqual(['critical'])
    const closed = picture([
      ...base,
      makeEvent(6, 'incident.status_changed', { incidentId: 'inc-1', status: 'closed' }),
    ])
    expect(can(officer, 'incident.acknowledge', closed.incidents.get('inc-1'))).toBe(false)
    expect(can(coordinator, 'incident.escalate', closed.incidents.get('inc-1'))).toBe(false)
    expect(can(coordinator, 'task.create', closed.incidents.get('inc-1'))).toBe(false) // [C12]
    expect(can(coordinator, 'incident.set_status', closed.incidents.get('inc-1'))).toBe(true) // reopening
  })

  it('[C11] a merged incident takes only comments', () => {
    const merged = picture([
      ...base,
      makeEvent(6, 'incident.linked', { incidentId: 'inc-1', otherIncidentId: 'inc-2', relation: 'merged_into' }),
    ]).incidents.get('inc-1')!
    expect(can(coordinator, 'incident.set_status', merged)).toBe(false)
    expect(can(coordinator, 'task.create', merged)).toBe(false)
    expect(can(coordinator, 'comment.post', merged)).toBe(true)
  })

  it('[C2] task work: the assignee (user or a person of the team), coordinators; not sensors', () => {
    expect(can(analyst, 'task.accept', task('t-team'))).toBe(true) // kadri is of cert-ee
    expect(can(person(['analyst'], 'juhan', 'cert-lv'), 'task.accept', task('t-team'))).toBe(false)
    expect(can(sensor, 'task.accept', task('t-team'))).toBe(false)
    expect(can(analyst, 'task.accept', task('t-none'))).toBe(false) // unassigned: coordinators only
    expect(can(coordinator, 'task.accept', task('t-none'))).toBe(true)
    expect(can(person(['analyst'], 'mari', 'cert-lv'), 'task.accept', task('t-user'))).toBe(true)
    expect(can(analyst, 'task.accept', task('t-user'))).toBe(false)
  })

  it('[C13] task buttons follow the status', () => {
    const t = task('t-team')
    expect(
      ['task.accept', 'task.start', 'task.block', 'task.complete', 'task.reopen'].filter((a) =>
        can(analyst, a as 'task.accept', t),
      ),
    ).toEqual(['task.accept', 'task.start'])
    const done = picture([...base, makeEvent(6, 'task.completed', { taskId: 't-team' }, { actor: 'kadri' })]).tasks.get(
      't-team',
    )!
    expect(
      ['task.accept', 'task.start', 'task.block', 'task.complete', 'task.reopen'].filter((a) =>
        can(analyst, a as 'task.accept', done),
      ),
    ).toEqual(['task.reopen'])
    expect(can(coordinator, 'task.assign', done)).toBe(false) // [C14]
  })

  it('comments: any person, not a sensor', () => {
    expect(can(analyst, 'comment.post', inc)).toBe(true)
    expect(can(sensor, 'comment.post', inc)).toBe(false)
  })
})

import type { Viewer } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { fold } from './reduce.ts'
import { initialState } from './state.ts'
import { makeEvent } from './testing.ts'
import { assignedIncidentIds, awaitsTriage, triageQueue } from './triage.ts'

const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 8, minute)).toISOString()
let seq = 0
const report = (incidentId: string, minute: number, options: Parameters<typeof makeEvent>[3] = {}) =>
  makeEvent(
    ++seq,
    'incident.reported',
    { incidentId, title: incidentId, severity: 'high', category: 'malware', affectedNetworks: [] },
    { occurredAt: at(minute), ...options },
  )
const ids = (incidents: { incidentId: string }[]) => incidents.map((i) => i.incidentId)
const viewer = (organisation: string, nation: string, userId: string): Viewer => ({
  organisation,
  nation,
  roles: ['coordinator'],
  userId,
})

describe('triage queue', () => {
  it('[T1, T2] holds the unacknowledged open incidents, oldest report first, whatever order they arrived in', () => {
    const state = fold(initialState, [report('late', 30), report('early', 5), report('middle', 12)])
    expect(ids(triageQueue(state))).toEqual(['early', 'middle', 'late'])
  })

  it('[T1] an acknowledged, closed or merged incident leaves the queue', () => {
    const state = fold(initialState, [
      report('acked', 1),
      report('closed', 2),
      report('survivor', 3),
      report('merged', 4),
      report('waiting', 5),
      makeEvent(++seq, 'incident.acknowledged', { incidentId: 'acked' }, { actor: 'mari' }),
      makeEvent(++seq, 'incident.updated', { incidentId: 'closed', status: 'closed' }),
      makeEvent(++seq, 'incident.linked', {
        incidentId: 'merged',
        otherIncidentId: 'survivor',
        relation: 'merged_into',
      }),
    ])
    expect(awaitsTriage(state.incidents.get('acked')!)).toBe(false)
    expect(ids(triageQueue(state))).toEqual(['survivor', 'waiting'])
  })

  it('[T1] a triaged status without an acknowledgement still waits: only acknowledging takes it', () => {
    const state = fold(initialState, [
      report('triaged', 1),
      makeEvent(++seq, 'incident.updated', { incidentId: 'triaged', status: 'triaged' }),
    ])
    expect(ids(triageQueue(state))).toEqual(['triaged'])
  })

  it('[T2] reports at the same moment keep the order they were logged in', () => {
    const state = fold(initialState, [report('b', 7), report('a', 7)])
    expect(ids(triageQueue(state))).toEqual(['b', 'a'])
  })

  it('[T3] given a viewer, only what that viewer may see: AMBER+STRICT stays with its organisation', () => {
    const state = fold(initialState, [
      report('green', 1),
      report('strict', 2, { organisation: 'cert-ee', marking: { tlp: 'AMBER+STRICT' } }),
    ])
    expect(ids(triageQueue(state, viewer('cert-ee', 'EE', 'kadri')))).toEqual(['green', 'strict'])
    expect(ids(triageQueue(state, viewer('cert-lv', 'LV', 'janis')))).toEqual(['green'])
  })
})

describe('assigned incidents', () => {
  const task = (taskId: string, incidentId: string, assignee?: object) =>
    makeEvent(++seq, 'task.created', {
      taskId,
      incidentId,
      title: taskId,
      priority: 'normal',
      ...(assignee ? { assignee } : {}),
    } as never)
  const state = fold(initialState, [
    report('mine', 1),
    report('team', 2),
    report('other-team', 3),
    report('unassigned', 4),
    report('done', 5),
    task('t1', 'mine', { kind: 'user', userId: 'kadri' }),
    task('t2', 'team', { kind: 'team', organisation: 'cert-ee' }),
    task('t3', 'other-team', { kind: 'team', organisation: 'cert-lv' }),
    task('t4', 'unassigned'),
    task('t5', 'done', { kind: 'user', userId: 'kadri' }),
    makeEvent(++seq, 'task.completed', { taskId: 't5' }, { actor: 'kadri' }),
  ])
  const kadri = { userId: 'kadri', organisation: 'cert-ee' }

  it('[T4] assigned to me: incidents with a task not done for the user', () => {
    expect([...assignedIncidentIds(state, kadri, 'me')]).toEqual(['mine'])
  })

  it("[T4] my team: tasks for my organisation as a team, and mine; not another team's", () => {
    expect([...assignedIncidentIds(state, kadri, 'team')].sort()).toEqual(['mine', 'team'])
    expect([...assignedIncidentIds(state, { userId: 'janis', organisation: 'cert-lv' }, 'team')]).toEqual([
      'other-team',
    ])
  })
})

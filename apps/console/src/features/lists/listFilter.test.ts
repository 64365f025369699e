import { fold, initialState, makeEvent } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { applyListFilter } from './listFilter.ts'

const report = (seq: number, incidentId: string) =>
  makeEvent(seq, 'incident.reported', {
    incidentId,
    title: incidentId,
    severity: 'high',
    category: 'malware',
    affectedNetworks: [],
  })
const state = fold(initialState, [
  report(1, 'acked-mine'),
  report(2, 'team'),
  report(3, 'free'),
  makeEvent(4, 'incident.acknowledged', { incidentId: 'acked-mine' }, { actor: 'mari' }),
  makeEvent(5, 'task.created', {
    taskId: 't1',
    incidentId: 'acked-mine',
    title: 'contain',
    priority: 'high',
    assignee: { kind: 'user', userId: 'kadri' },
  }),
  makeEvent(6, 'task.created', {
    taskId: 't2',
    incidentId: 'team',
    title: 'look',
    priority: 'normal',
    assignee: { kind: 'team', organisation: 'cert-ee' },
  }),
])
const all = [...state.incidents.values()]
const kadri = { userId: 'kadri', organisation: 'cert-ee' }
const ids = (list: readonly { incidentId: string }[]) => list.map((i) => i.incidentId)

describe('the incident list filter', () => {
  it('acknowledged, unacknowledged, any', () => {
    expect(ids(applyListFilter(all, { ack: 'acknowledged', assigned: 'anyone' }, state, kadri))).toEqual(['acked-mine'])
    expect(ids(applyListFilter(all, { ack: 'unacknowledged', assigned: 'anyone' }, state, kadri))).toEqual([
      'team',
      'free',
    ])
    expect(applyListFilter(all, { ack: 'any', assigned: 'anyone' }, state, kadri)).toBe(all)
  })

  it('assigned to me, to my team (which includes mine), and both filters together', () => {
    expect(ids(applyListFilter(all, { ack: 'any', assigned: 'me' }, state, kadri))).toEqual(['acked-mine'])
    expect(ids(applyListFilter(all, { ack: 'any', assigned: 'team' }, state, kadri))).toEqual(['acked-mine', 'team'])
    expect(ids(applyListFilter(all, { ack: 'unacknowledged', assigned: 'team' }, state, kadri))).toEqual(['team'])
  })

  it('assigned to me without a session: nothing', () => {
    expect(applyListFilter(all, { ack: 'any', assigned: 'me' }, state, null)).toEqual([])
  })
})

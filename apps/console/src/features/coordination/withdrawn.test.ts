import { fold, initialState, makeEvent } from '@watchfloor/core'
import type { Command } from '@watchfloor/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { createStore } from 'zustand/vanilla'
import { createWatchfloorStore } from '../../data/store.ts'
import { viewerKey } from '../../data/viewAs.ts'
import { type CommandResult, parseCommandResponse } from './commands.ts'
import { person, picture, reportEvent } from './fixtures.test-helpers.ts'
import { can } from './permissions.ts'
import {
  isWithdrawn,
  learnWithdrawn,
  markWithdrawn,
  type Withdrawn,
  wireWithdrawn,
  withdrawnBy,
  withdrawnStore,
} from './withdrawn.ts'

const taskCreated = (seq: number, taskId: string, incidentId: string) =>
  makeEvent(seq, 'task.created', { taskId, incidentId, title: `Task ${taskId}`, priority: 'normal' })

const log = [reportEvent(1, 'inc-1'), reportEvent(2, 'inc-2'), taskCreated(3, 't-1', 'inc-1')]
const held = picture(log)
const notFound = (message: string, rule = 'C1'): CommandResult =>
  parseCommandResponse(404, { error: { code: 'not_found', message, details: { rule } } })

const coordinator = person(['coordinator', 'watch_officer'], 'janis', 'cert-lv')
const me = viewerKey(coordinator)

afterEach(() => withdrawnStore.setState({ viewer: null, ids: new Set() }, true))

describe('[C18] a not_found about an incident the picture holds: no longer shared with this viewer', () => {
  it('is the incident the command is about, or its task’s incident', () => {
    const ack: Command = { type: 'incident.acknowledge', incidentId: 'inc-1' }
    expect(withdrawnBy(ack, notFound('no incident inc-1'), held)).toBe('inc-1')
    const accept: Command = { type: 'task.accept', taskId: 't-1' }
    expect(withdrawnBy(accept, notFound('no task t-1'), held)).toBe('inc-1')
    const comment: Command = { type: 'comment.post', incidentId: 'inc-2', body: 'x' }
    expect(withdrawnBy(comment, notFound('no incident inc-2'), held)).toBe('inc-2')
  })

  it('a link: the incident the answer names, and no guess when it names neither', () => {
    const link: Command = { type: 'incident.link', incidentId: 'inc-1', otherIncidentId: 'inc-2', relation: 'related' }
    expect(withdrawnBy(link, notFound('no incident inc-2'), held)).toBe('inc-2')
    expect(withdrawnBy(link, notFound('no incident inc-1'), held)).toBe('inc-1')
    expect(withdrawnBy(link, notFound('something else'), held)).toBeUndefined()
    // an id typed that the picture does not hold: simply missing
    expect(withdrawnBy({ ...link, otherIncidentId: 'inc-9' }, notFound('no incident inc-9'), held)).toBeUndefined()
  })

  it('nothing for what the picture does not hold, another rule or another answer', () => {
    expect(withdrawnBy({ type: 'task.start', taskId: 't-9' }, notFound('no task t-9'), held)).toBeUndefined()
    expect(
      withdrawnBy({ type: 'incident.acknowledge', incidentId: 'inc-9' }, notFound('no incident inc-9'), held),
    ).toBeUndefined()
    const state: Command = { type: 'network.set_state', incidentId: 'inc-1', networkId: 'x', state: 'contained' }
    expect(withdrawnBy(state, notFound('no network x', 'C10'), held)).toBeUndefined()
    const forbidden = parseCommandResponse(403, {
      error: { code: 'forbidden', message: 'no', details: { rule: 'C2' } },
    })
    expect(withdrawnBy(state, forbidden, held)).toBeUndefined()
  })

  it('is learnt for the viewer that sent the command, not for one signed in since', () => {
    const data = createWatchfloorStore()
    data.setState({ session: coordinator, liveState: held })
    const store = createStore<Withdrawn>(() => ({ viewer: null, ids: new Set() }))
    const ack: Command = { type: 'incident.acknowledge', incidentId: 'inc-1' }
    expect(learnWithdrawn(viewerKey(person(['admin'])), ack, notFound('no incident inc-1'), data, store)).toBe(
      undefined,
    )
    expect(store.getState().ids.size).toBe(0)
    expect(learnWithdrawn(me, ack, notFound('no incident inc-1'), data, store)).toBe('inc-1')
    expect(isWithdrawn(coordinator, 'inc-1', store.getState())).toBe(true)
  })
})

describe('can: nothing is offered on an incident withdrawn from this viewer, nor on its tasks', () => {
  const inc1 = held.incidents.get('inc-1')!
  const inc2 = held.incidents.get('inc-2')!
  const task = held.tasks.get('t-1')!

  it('[C18] every action on it and its tasks is off; other incidents and other viewers are untouched', () => {
    expect(can(coordinator, 'incident.acknowledge', inc1)).toBe(true)
    expect(can(coordinator, 'task.accept', task)).toBe(true)
    markWithdrawn(me, 'inc-1')
    for (const action of [
      'incident.acknowledge',
      'incident.escalate',
      'incident.set_status',
      'incident.link',
      'network.set_state',
      'task.create',
      'comment.post',
    ] as const)
      expect(can(coordinator, action, inc1)).toBe(false)
    for (const action of ['task.accept', 'task.assign', 'task.block'] as const)
      expect(can(coordinator, action, task)).toBe(false)
    expect(can(coordinator, 'incident.acknowledge', inc2)).toBe(true)
    // without a target: what the roles allow at all
    expect(can(coordinator, 'incident.acknowledge')).toBe(true)
    // per viewer: another person, or the same one viewing as
    expect(can(person(['coordinator'], 'ilze', 'cert-lv'), 'incident.acknowledge', inc1)).toBe(true)
  })
})

describe('the set follows the picture', () => {
  function opened() {
    const data = createWatchfloorStore()
    data.setState({ session: coordinator })
    data.getState().openPicture(fold(initialState, log), log, { from: 0, to: Number.POSITIVE_INFINITY })
    const store = createStore<Withdrawn>(() => ({ viewer: null, ids: new Set() }))
    const off = wireWithdrawn(data, store)
    markWithdrawn(me, 'inc-1', store)
    markWithdrawn(me, 'inc-2', store)
    return { data, store, off }
  }

  it('an incident reported again in a live event is shared again; other live events change nothing', () => {
    const { data, store, off } = opened()
    data.getState().applyEvents([makeEvent(4, 'incident.observation', { incidentId: 'inc-1' })])
    data
      .getState()
      .applyEvents([makeEvent(5, 'comment.posted', { commentId: 'c', incidentId: 'inc-1', body: 'x', mentions: [] })])
    expect([...store.getState().ids]).toEqual(['inc-1', 'inc-2'])
    data.getState().applyEvents([reportEvent(6, 'inc-1')])
    expect([...store.getState().ids]).toEqual(['inc-2'])
    off()
  })

  it('is forgotten when the picture is dropped or opened again, or another viewer signs in', () => {
    const dropped = opened()
    dropped.data.getState().reset()
    expect(dropped.store.getState().ids.size).toBe(0)
    dropped.off()

    const reopened = opened()
    reopened.data.getState().openPicture(fold(initialState, log), log, { from: 0, to: Number.POSITIVE_INFINITY })
    expect(reopened.store.getState().ids.size).toBe(0)
    reopened.off()

    const other = opened()
    other.data.setState({ session: { ...coordinator, viewingAs: { kind: 'organisation', id: 'cert-ee' } } })
    expect(other.store.getState().ids.size).toBe(0)
    other.off()
  })
})

import { makeEvent, type TaskState } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { picture, reportEvent } from '../coordination/fixtures.test-helpers.ts'
import { assigneeLabel, assigneeOf, boardColumns, myOverdueCount, overdueShown, taskSummary } from './board.ts'

const me = { user: 'kadri', organisation: 'cert-ee' }
const created = (
  seq: number,
  taskId: string,
  assignee?: { kind: 'user'; userId: string } | { kind: 'team'; organisation: string },
  dueAt?: string,
) =>
  makeEvent(seq, 'task.created', {
    taskId,
    incidentId: 'inc-1',
    title: taskId,
    priority: 'normal',
    ...(assignee ? { assignee } : {}),
    ...(dueAt ? { dueAt } : {}),
  })

const state = picture([
  reportEvent(1, 'inc-1'),
  created(2, 'mine', { kind: 'user', userId: 'kadri' }, '2026-11-01T00:00:00Z'),
  created(3, 'team', { kind: 'team', organisation: 'cert-ee' }),
  created(4, 'other', { kind: 'team', organisation: 'cert-lv' }),
  created(5, 'taken', { kind: 'team', organisation: 'cert-lv' }),
  makeEvent(6, 'task.accepted', { taskId: 'taken' }, { actor: 'kadri' }),
  makeEvent(7, 'task.completed', { taskId: 'team' }, { actor: 'mari' }),
])
const ids = (columns: ReturnType<typeof boardColumns>) =>
  Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, v.map((t) => t.taskId)]))

describe('task board', () => {
  it("mine, my team's and all, by status column", () => {
    expect(ids(boardColumns(state, 'mine', me))).toEqual({
      open: ['mine'],
      accepted: ['taken'],
      in_progress: [],
      blocked: [],
      done: [],
    })
    expect(ids(boardColumns(state, 'team', me))).toEqual({
      open: ['mine'],
      accepted: [],
      in_progress: [],
      blocked: [],
      done: ['team'],
    })
    expect(ids(boardColumns(state, 'all', me)).open).toEqual(['mine', 'other'])
  })

  it('counts my overdue tasks', () => {
    expect(myOverdueCount(state, me, Date.parse('2026-12-01T00:00:00Z'))).toBe(1)
    expect(myOverdueCount(state, me, Date.parse('2026-10-01T00:00:00Z'))).toBe(0)
  })

  it("the board's heading counts the overdue tasks of the scope it shows, not every task it could", () => {
    const later = picture([
      ...[reportEvent(1, 'inc-1')],
      created(2, 'theirs', { kind: 'team', organisation: 'cert-lv' }, '2026-11-01T00:00:00Z'),
    ])
    const now = Date.parse('2026-12-01T00:00:00Z')
    expect(overdueShown(boardColumns(later, 'team', me), now)).toBe(0)
    expect(overdueShown(boardColumns(later, 'mine', me), now)).toBe(0)
    expect(overdueShown(boardColumns(later, 'all', me), now)).toBe(1)
    expect(overdueShown(boardColumns(state, 'mine', me), now)).toBe(1)
  })

  it('labels', () => {
    expect(assigneeLabel(undefined)).toBe('unassigned')
    expect(assigneeLabel({ kind: 'team', organisation: 'cert-ee' })).toBe('team cert-ee')
  })
})

describe('taskSummary (the map tooltip line)', () => {
  it('counts open and done tasks and says how many are overdue', () => {
    const task = (status: TaskState['status'], dueAt?: string) => ({ status, dueAt }) as TaskState
    expect(taskSummary([], 0)).toBeNull()
    const now = Date.parse('2026-11-26T12:00:00Z')
    expect(
      taskSummary(
        [task('open', '2026-11-26T11:00:00Z'), task('in_progress'), task('done', '2026-11-26T10:00:00Z')],
        now,
      ),
    ).toEqual({ text: 'tasks: 2 open, 1 done · 1 OVERDUE', overdue: 1 })
  })
})

describe('assigneeOf (the task forms)', () => {
  it('names a person or a team, without a leading @, or nobody', () => {
    expect(assigneeOf('user', ' @mart ')).toEqual({ kind: 'user', userId: 'mart' })
    expect(assigneeOf('team', 'cert-ee')).toEqual({ kind: 'team', organisation: 'cert-ee' })
    expect(assigneeOf('team', '  ')).toBeUndefined()
    expect(assigneeOf('none', 'mart')).toBeUndefined()
  })
})

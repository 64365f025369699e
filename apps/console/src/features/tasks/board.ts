import { isAssignedTo, isOverdue, type State, type TaskState, tasksFor } from '@watchfloor/core'
import { type Assignee, TaskStatus } from '@watchfloor/protocol'

export const BOARD_COLUMNS = TaskStatus.options
export type BoardColumn = (typeof BOARD_COLUMNS)[number]

export const TASK_SCOPES = ['mine', 'team', 'all'] as const
export type TaskScope = (typeof TASK_SCOPES)[number]
export const SCOPE_LABELS: Record<TaskScope, string> = { mine: 'mine', team: "my team's", all: 'all' }

export interface Me {
  user: string
  organisation: string
}

/** Is the task mine personally: assigned to me, or taken on (accepted / started) by me? */
export function isMine(task: TaskState, me: Me): boolean {
  return (task.assignee?.kind === 'user' && task.assignee.userId === me.user) || task.acceptedBy === me.user
}

const PRIORITY = { urgent: 3, high: 2, normal: 1, low: 0 } as const

function byUrgency(a: TaskState, b: TaskState): number {
  const due = (t: TaskState) => (t.dueAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(t.dueAt))
  return PRIORITY[b.priority] - PRIORITY[a.priority] || due(a) - due(b) || a.createdSeq - b.createdSeq
}

/**
 * The tasks of a scope, by status column, most urgent first: `mine` (assigned to me or taken on by
 * me), `team` (assigned to me or to my organisation: core `tasksFor`), `all` (every task I can see).
 */
export function boardColumns(state: State, scope: TaskScope, me: Me): Record<BoardColumn, TaskState[]> {
  const columns = Object.fromEntries(BOARD_COLUMNS.map((c) => [c, [] as TaskState[]])) as Record<
    BoardColumn,
    TaskState[]
  >
  const viewer = { userId: me.user, organisation: me.organisation }
  let tasks: TaskState[]
  if (scope === 'team') tasks = tasksFor(state, viewer, { includeDone: true })
  else {
    tasks = []
    for (const task of state.tasks.values()) if (scope === 'all' || isMine(task, me)) tasks.push(task)
    tasks.sort(byUrgency)
  }
  for (const task of tasks) columns[task.status].push(task)
  return columns
}

/** Overdue tasks among those the board shows (its columns, of the scope chosen): the board's heading. */
export function overdueShown(columns: Record<BoardColumn, TaskState[]>, now: number): number {
  let count = 0
  for (const status of BOARD_COLUMNS) for (const task of columns[status]) if (isOverdue(task, now)) count++
  return count
}

/** Overdue tasks among those assigned to me or my team (for the tab's badge). */
export function myOverdueCount(state: State, me: Me, now: number): number {
  let count = 0
  const viewer = { userId: me.user, organisation: me.organisation }
  for (const task of state.tasks.values()) if (isAssignedTo(task, viewer) && isOverdue(task, now)) count++
  return count
}

export function assigneeLabel(assignee: Assignee | undefined): string {
  if (assignee === undefined) return 'unassigned'
  return assignee.kind === 'user' ? `@${assignee.userId}` : `team ${assignee.organisation}`
}

/** "tasks: 2 open, 1 done · 1 OVERDUE", or null when the incident has none. */
export function taskSummary(tasks: readonly TaskState[], now: number): { text: string; overdue: number } | null {
  if (tasks.length === 0) return null
  const done = tasks.filter((t) => t.status === 'done').length
  const overdue = tasks.filter((t) => isOverdue(t, now)).length
  const parts = [`${tasks.length - done} open`, `${done} done`]
  return { text: `tasks: ${parts.join(', ')}${overdue ? ` · ${overdue} OVERDUE` : ''}`, overdue }
}

export type AssigneeKind = 'none' | 'user' | 'team'

/** The assignee a form names: a person, a team (organisation), or none (also when nothing is typed). */
export function assigneeOf(kind: AssigneeKind, who: string): Assignee | undefined {
  const name = who.trim().replace(/^@/, '')
  if (kind === 'none' || !name) return undefined
  return kind === 'user' ? { kind: 'user', userId: name } : { kind: 'team', organisation: name }
}

import { useMemo, useState } from 'react'
import { useWatchfloor } from '../../data/store.ts'
import { ChoiceChips } from '../../ui/ChoiceChips.tsx'
import { useServerNow } from '../../ui/useNow.ts'
import { BOARD_COLUMNS, boardColumns, overdueShown, SCOPE_LABELS, TASK_SCOPES, type TaskScope } from './board.ts'
import { STATUS_LABELS, TaskCard } from './TaskCard.tsx'

/** The task board: one column per status, for my tasks, my team's or all I can see. */
export function TaskBoard() {
  const state = useWatchfloor((s) => s.state)
  const session = useWatchfloor((s) => s.session)
  const replaying = useWatchfloor((s) => s.mode === 'replay')
  const [scope, setScope] = useState<TaskScope>('team')
  const now = useServerNow(15_000)
  const me = useMemo(
    () => ({ user: session?.user ?? '', organisation: session?.organisation ?? '' }),
    [session?.user, session?.organisation],
  )
  const columns = useMemo(() => boardColumns(state, scope, me), [state, scope, me])
  // of the tasks the board shows (the scope chosen), as the tab's badge counts mine and my team's
  const overdue = useMemo(() => overdueShown(columns, now), [columns, now])
  return (
    <section className="panel task-board-panel" aria-labelledby="tasks-heading">
      <h2 id="tasks-heading">
        Tasks{' '}
        {overdue > 0 && (
          <span className="overdue-text" data-testid="overdue-count">
            {overdue} overdue
          </span>
        )}
      </h2>
      <ChoiceChips
        className="chips scope"
        ariaLabel="Whose tasks"
        choices={TASK_SCOPES}
        chosen={scope}
        label={(s) => SCOPE_LABELS[s]}
        testid={(s) => `task-scope-${s}`}
        onChoose={setScope}
      />
      {/* a replay is the past: no actions on it (a fieldset disables every button inside) */}
      <fieldset className="readonly-when-replaying" disabled={replaying}>
        <div className="task-board" data-testid="task-board">
          {BOARD_COLUMNS.map((status) => (
            <section key={status} className="task-column" data-testid="task-column" data-status={status}>
              <h3>
                {STATUS_LABELS[status]} <span className="muted">{columns[status].length}</span>
              </h3>
              {columns[status].map((task) => (
                <TaskCard key={task.taskId} task={task} now={now} showIncident place="board" />
              ))}
            </section>
          ))}
        </div>
      </fieldset>
    </section>
  )
}

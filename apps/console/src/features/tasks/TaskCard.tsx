import { commandVisibility, type IncidentState, isOverdue, type TaskState, type Visible } from '@watchfloor/core'
import { type Assignee, type Command, TaskPriority } from '@watchfloor/protocol'
import { type FormEvent, memo, useEffect, useMemo, useRef } from 'react'
import { useWatchfloor } from '../../data/store.ts'
import { formatTime } from '../../ui/format.ts'
import { parseOptionalUtc } from '../../ui/time.ts'
import { UtcTimeField } from '../../ui/UtcTimeField.tsx'
import { useServerNow } from '../../ui/useNow.ts'
import { viewStore } from '../../view/viewStore.ts'
import { Combobox } from '../coordination/Combobox.tsx'
import { type DraftForm, type DraftOf, type DraftPlace, draftForm, useDraft } from '../coordination/formDrafts.ts'
import { type Names, teamName } from '../coordination/people.ts'
import { can } from '../coordination/permissions.ts'
import { CommandOutcome, useCommand } from '../coordination/useCommand.tsx'
import { useNames, usePeople } from '../coordination/usePeople.ts'
import { useWithdrawn, WITHDRAWN_NOTICE } from '../coordination/withdrawn.ts'
import { type AssigneeKind, assigneeLabel, assigneeOf } from './board.ts'

type Move = 'task.accept' | 'task.start' | 'task.complete' | 'task.reopen'
const MOVES: { action: Move; label: string; testid: string }[] = [
  { action: 'task.accept', label: 'Accept', testid: 'task-accept' },
  { action: 'task.start', label: 'Start', testid: 'task-start' },
  { action: 'task.complete', label: 'Complete', testid: 'task-complete' },
  { action: 'task.reopen', label: 'Reopen', testid: 'task-reopen' },
]

export const STATUS_LABELS: Record<TaskState['status'], string> = {
  open: 'open',
  accepted: 'accepted',
  in_progress: 'in progress',
  blocked: 'blocked',
  done: 'done',
}

/** A task card's moves with nothing typed (accept, start): their last action; no fields. */
const TASK_MOVES = draftForm<object>('task.moves', {})

/**
 * Tasks this console just moved on the board (accept, start, complete, reopen, block), and until
 * when: the card shown in its new column (another column of the board, often scrolled out of view on
 * a narrow screen) is scrolled into view, so it does not seem to vanish.
 */
const followed = new Map<string, number>()
const FOLLOW_MS = 15_000

/**
 * The form a task card's command is typed in, where its last action is kept and which it ends once
 * applied: each form of the card its own, so an earlier action of another form still settles.
 */
function taskActionForm(command: Command): DraftForm<object> {
  switch (command.type) {
    case 'task.block':
      return BLOCK_FORM
    case 'task.complete':
    case 'task.reopen':
      return NOTE_FORM
    case 'task.assign':
      return REASSIGN_FORM
    default:
      return TASK_MOVES
  }
}
/** What Complete sends as its note, and Reopen as its reason (one draft per task; optional). */
export const NOTE_FORM = draftForm<{ note: string }>('task.note', { note: '' })
/** Block a task (one draft per task): whether the form is open, and the reason typed. */
export const BLOCK_FORM = draftForm<{ open: boolean; reason: string }>('task.block', { open: false, reason: '' })
/** Reassign a task (one draft per task): whether the form is open, the kind of assignee (null: the task's) and who. */
export const REASSIGN_FORM = draftForm<{ open: boolean; kind: AssigneeKind | null; who: string }>('task.assign', {
  open: false,
  kind: null,
  who: '',
})
/** A new task of an incident: whether the form is open, and what it holds. */
export const NEW_TASK_FORM = draftForm<{
  open: boolean
  title: string
  priority: TaskState['priority']
  due: string
  kind: AssigneeKind
  who: string
}>(
  'task.new',
  { open: false, title: '', priority: 'normal', due: '', kind: 'team', who: '' },
  // created: the form stays open, with its priority and kind of assignee, for the next task
  (draft) => ({ ...draft, title: '', due: '', who: '' }),
)

/**
 * One task: what it is, who has it, when it is due (overdue in red, and said in words), and its buttons.
 * `place`: where the card is (its drafts are that place's: the panel's go with the selection).
 */
export const TaskCard = memo(function TaskCard({
  task,
  now,
  showIncident = false,
  place = 'panel',
}: {
  task: TaskState
  now: number
  showIncident?: boolean
  place?: DraftPlace
}) {
  const session = useWatchfloor((s) => s.session)
  const incidentTitle = useWatchfloor((s) => (showIncident ? s.state.incidents.get(task.incidentId)?.title : undefined))
  // what was typed outlives the card (a picture opened again), for this viewer (formDrafts.ts), and so
  // does the card's last action: sent again from the card shown again, it is applied once
  const of: DraftOf = { incidentId: task.incidentId, taskId: task.taskId, place }
  const runner = useCommand({ of, form: taskActionForm })
  const [blockDraft, setBlockDraft] = useDraft(of, BLOCK_FORM)
  const { open: blocking, reason } = blockDraft
  const [reassignDraft, setReassignDraft] = useDraft(of, REASSIGN_FORM)
  const [{ note }, setNoteDraft] = useDraft(of, NOTE_FORM)
  const assigning = reassignDraft.open
  const overdue = isOverdue(task, now)
  // its incident is no longer shared with this viewer [C18]: `can` offers nothing; say why
  const withdrawn = useWithdrawn(task.incidentId)
  const cardRef = useRef<HTMLElement>(null)
  /** Send a move, its card followed into its new column; refused, it stays where it is and is not followed. */
  const moveOn = (command: Command) => {
    if (place === 'board') followed.set(task.taskId, Date.now() + FOLLOW_MS)
    void runner.run(command, task).then((result) => {
      if (!result.ok) followed.delete(task.taskId)
    })
  }
  // shown in the column its move put it in: into view (each column holds its own card)
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new status is a new column
  useEffect(() => {
    const until = followed.get(task.taskId)
    if (place !== 'board' || until === undefined) return
    followed.delete(task.taskId)
    const card = cardRef.current
    const board = card?.closest('[data-testid="task-board"]')
    if (until <= Date.now() || !card || !board) return
    const shown = board.getBoundingClientRect()
    const at = card.getBoundingClientRect()
    // its column to the board's left edge (where the board's columns snap), when the card is not whole in view
    if (at.left < shown.left || at.right > shown.right) card.scrollIntoView({ block: 'nearest', inline: 'start' })
  }, [task.status])
  /** A move, with the note typed: Complete's note, Reopen's reason (said on the card and in the report). */
  const move = (action: Move) => {
    const said = note.trim()
    const command: Command =
      action === 'task.complete' && said
        ? { type: action, taskId: task.taskId, note: said, expectedVersion: expected }
        : action === 'task.reopen' && said
          ? { type: action, taskId: task.taskId, reason: said, expectedVersion: expected }
          : { type: action, taskId: task.taskId, expectedVersion: expected }
    // answered ok (or shown applied), the note ends with it (formDrafts.ts)
    moveOn(command)
  }
  const expected = runner.versionOf(task)
  const moves = MOVES.filter((m) => can(session, m.action, task))
  // a note for Complete or Reopen, whichever the task offers now
  const noted = moves.some((m) => m.action === 'task.complete' || m.action === 'task.reopen')
  const mayBlock = can(session, 'task.block', task)
  const mayAssign = can(session, 'task.assign', task)
  const names = useNames()

  const block = (e: FormEvent) => {
    e.preventDefault()
    if (!reason.trim()) return
    moveOn({ type: 'task.block', taskId: task.taskId, reason: reason.trim(), expectedVersion: expected })
  }

  return (
    <article
      ref={cardRef}
      className={`task-card${overdue ? ' overdue' : ''}`}
      data-testid="task-card"
      data-task-id={task.taskId}
      data-status={task.status}
      data-overdue={overdue}
      data-withdrawn={withdrawn || undefined}
    >
      <header className="task-head">
        <span className={`priority priority-${task.priority}`}>{task.priority}</span>
        <strong className="task-title">{task.title}</strong>
        <span className={`task-status task-status-${task.status}`} data-testid="task-status">
          {STATUS_LABELS[task.status]}
        </span>
      </header>
      {showIncident && (
        <button
          type="button"
          className="link task-incident"
          onClick={() => viewStore.getState().select(task.incidentId)}
          title={`Show the incident (${task.incidentId})`}
        >
          {incidentTitle ?? task.incidentId}
        </button>
      )}
      <div className="task-meta">
        <span data-testid="task-assignee-label">
          <AssigneeName assignee={task.assignee} names={names} />
        </span>
        {task.acceptedBy && (
          <span>
            taken by <PersonName userId={task.acceptedBy} names={names} />
          </span>
        )}
        {task.dueAt && (
          <span className={overdue ? 'due overdue-text' : 'due'} data-testid="task-due">
            due {formatTime(task.dueAt)}
            {overdue && <strong> · OVERDUE</strong>}
          </span>
        )}
        {task.completedAt && <span>done {formatTime(task.completedAt)}</span>}
      </div>
      {task.description && <p className="task-description">{task.description}</p>}
      {withdrawn && (
        <p className="withdrawn-notice" role="status" data-testid="task-withdrawn">
          {WITHDRAWN_NOTICE}
        </p>
      )}
      {task.status === 'blocked' && task.blockedReason && <p className="task-blocked">Blocked: {task.blockedReason}</p>}
      {task.status !== 'done' && task.reopenedReason && (
        <p className="task-description" data-testid="task-reopened-reason">
          Reopened: {task.reopenedReason}
        </p>
      )}
      {task.status === 'done' && task.completedNote && (
        <p className="task-description" data-testid="task-completed-note">
          Completed: {task.completedNote}
        </p>
      )}
      {(moves.length > 0 || mayBlock || mayAssign) && (
        <div className="row task-actions">
          {moves.map((m) => (
            <button
              key={m.action}
              type="button"
              className="button small"
              data-testid={m.testid}
              disabled={runner.pending}
              onClick={() => move(m.action)}
            >
              {m.label}
            </button>
          ))}
          {mayAssign && !assigning && (
            <button
              type="button"
              className="button small"
              data-testid="task-reassign"
              disabled={runner.pending}
              onClick={() => setReassignDraft({ open: true })}
            >
              Reassign…
            </button>
          )}
          {mayBlock && !blocking && (
            <button
              type="button"
              className="button small"
              data-testid="task-block"
              disabled={runner.pending}
              onClick={() => setBlockDraft({ open: true })}
            >
              Block…
            </button>
          )}
        </div>
      )}
      {noted && !blocking && (
        <input
          className="input grow task-note"
          data-testid="task-note"
          aria-label={task.status === 'done' ? 'Why it is reopened (optional)' : 'What was done (optional)'}
          placeholder={task.status === 'done' ? 'Why reopen? (optional)' : 'What was done? (optional, with Complete)'}
          maxLength={2000}
          value={note}
          onChange={(e) => setNoteDraft({ note: e.target.value })}
        />
      )}
      {blocking && (
        <form className="row" onSubmit={block}>
          <input
            className="input grow"
            data-testid="task-block-reason"
            placeholder="Why is it blocked?"
            value={reason}
            onChange={(e) => setBlockDraft({ reason: e.target.value })}
            required
          />
          <button type="submit" className="button small" data-testid="task-block-confirm" disabled={runner.pending}>
            Block
          </button>
          {/* the reason stays for the next Block… */}
          <button type="button" className="link" onClick={() => setBlockDraft({ open: false })}>
            cancel
          </button>
        </form>
      )}
      {assigning && (
        <ReassignForm
          task={task}
          draftOf={of}
          pending={runner.pending}
          onCancel={() => setReassignDraft(REASSIGN_FORM.empty)}
          onAssign={(assignee) =>
            void runner.run({ type: 'task.assign', taskId: task.taskId, assignee, expectedVersion: expected }, task)
          }
        />
      )}
      <CommandOutcome runner={runner} shown={task} />
    </article>
  )
})

/** A person by name, the user id in the title (and as `@id` when no name is known). */
export function PersonName({ userId, names }: { userId: string; names: Names }) {
  const name = names.people.get(userId)
  return (
    <span className="person" title={userId} data-user-id={userId}>
      {name ?? `@${userId}`}
    </span>
  )
}

/** Who has a task: a person by name, a team by its organisation's name ("team cert-ee"), or nobody. */
export function AssigneeName({ assignee, names }: { assignee: Assignee | undefined; names: Names }) {
  if (assignee === undefined) return assigneeLabel(undefined)
  if (assignee.kind === 'user') return <PersonName userId={assignee.userId} names={names} />
  return <span title={assignee.organisation}>team {teamName(names, assignee.organisation)}</span>
}

/** Give a task to another person or team (coordinators); the current assignee is the starting point. */
function ReassignForm({
  task,
  draftOf,
  pending,
  onAssign,
  onCancel,
}: {
  task: TaskState
  /** Where its draft is kept: the card's. */
  draftOf: DraftOf
  pending: boolean
  onAssign: (assignee: Assignee) => void
  onCancel: () => void
}) {
  const [draft, setDraft] = useDraft(draftOf, REASSIGN_FORM)
  const kind = draft.kind ?? task.assignee?.kind ?? 'team'
  const { who } = draft
  const incident = useWatchfloor((s) => s.state.incidents.get(task.incidentId))
  // the teams the assignment will reach: those that may see it [C19]
  const reaching = useMemo(
    () => (incident === undefined ? undefined : commandVisibility(incident, task)),
    [incident, task],
  )
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const assignee = assigneeOf(kind, who)
    if (assignee) onAssign(assignee)
  }
  return (
    <form className="row" onSubmit={submit} data-testid="task-reassign-form">
      <AssigneeFields
        kind={kind}
        who={who}
        onKind={(next) => setDraft({ kind: next })}
        onWho={(next) => setDraft({ who: next })}
        reaching={reaching}
        required
        testids={{ kind: 'task-reassign-kind', who: 'task-reassign-who' }}
      />
      <button type="submit" className="button small" data-testid="task-reassign-confirm" disabled={pending}>
        Assign
      </button>
      <button type="button" className="link" onClick={onCancel}>
        cancel
      </button>
    </form>
  )
}

/** "Assign to" a team or a person (or nobody, when `onKind` may pick it), with the names this console knows. */
function AssigneeFields({
  kind,
  who,
  onKind,
  onWho,
  required = false,
  testids,
  reaching,
}: {
  kind: AssigneeKind
  who: string
  onKind: (kind: AssigneeKind) => void
  onWho: (who: string) => void
  /** A reassignment: somebody must be named (no "nobody yet"). */
  required?: boolean
  testids: { kind: string; who: string }
  /** What the task's events will carry: only the teams it reaches are offered [C19]. */
  reaching?: Visible | undefined
}) {
  const { people, teams, names } = usePeople(reaching)
  const name = kind === 'user' ? names.people.get(who.trim().replace(/^@/, '')) : names.teams.get(who.trim())
  // a team typed that is none on the list (part of a name, not picked): said before the server refuses it
  const notATeam = kind === 'team' && who.trim() !== '' && teams.length > 0 && !teams.some((t) => t.id === who.trim())
  return (
    <>
      <label className="form-field">
        <span>Assign to</span>
        <select data-testid={testids.kind} value={kind} onChange={(e) => onKind(e.target.value as AssigneeKind)}>
          <option value="team">a team (organisation)</option>
          <option value="user">a person</option>
          {!required && <option value="none">nobody yet</option>}
        </select>
      </label>
      {kind !== 'none' && (
        <div className="form-field grow">
          <span>{kind === 'team' ? 'Organisation' : 'Person (name or user id)'}</span>
          <Combobox
            label={kind === 'team' ? 'Assign to the team' : 'Assign to the person'}
            testid={testids.who}
            value={who}
            options={kind === 'team' ? teams : people}
            onChange={onWho}
            onPick={(option) => onWho(option.id)}
            placeholder={kind === 'team' ? 'cert-ee, or a name' : 'a name or user id'}
            required={required}
            after={
              name !== undefined && name !== who.trim() ? (
                <span className="muted combobox-chosen" data-testid={`${testids.who}-name`}>
                  {name}
                </span>
              ) : notATeam ? (
                <span className="combobox-chosen error" data-testid={`${testids.who}-unknown`}>
                  not a team on the list: choose one of the suggestions
                </span>
              ) : null
            }
          />
        </div>
      )}
    </>
  )
}

/** New task on an incident: title, priority, due time, assignee (a person or a team). */
export function CreateTaskForm({ incident }: { incident: IncidentState }) {
  // the teams a new task of this incident reaches: those that may see it [C19]
  const reaching = useMemo(() => commandVisibility(incident), [incident])
  const runner = useCommand({ of: { incidentId: incident.incidentId }, form: NEW_TASK_FORM })
  const [draft, setDraft] = useDraft({ incidentId: incident.incidentId }, NEW_TASK_FORM)
  const { title, priority, due, kind, who } = draft
  // a due time already past may be meant (a task written down after the fact), but is said
  const now = useServerNow(30_000)
  const dueTyped = parseOptionalUtc(due)
  const pastDue = dueTyped.ok && dueTyped.ms !== undefined && dueTyped.ms < now

  const submit = (e: FormEvent) => {
    e.preventDefault()
    const dueParsed = parseOptionalUtc(due)
    if (!dueParsed.ok) return
    const dueAt = dueParsed.ms === undefined ? undefined : new Date(dueParsed.ms).toISOString()
    const assignee = assigneeOf(kind, who)
    const command: Command = {
      type: 'task.create',
      incidentId: incident.incidentId,
      title: title.trim(),
      priority,
      expectedVersion: runner.versionOf(incident),
      ...(dueAt !== undefined ? { dueAt } : {}),
      ...(assignee !== undefined ? { assignee } : {}),
    }
    // answered ok (or shown applied), the form ends as `afterOk` says: open, for the next task
    void runner.run(command, incident)
  }

  return (
    <form className="task-form" data-testid="task-form" onSubmit={submit}>
      <input
        className="input"
        data-testid="task-title"
        placeholder="New task: what needs doing?"
        value={title}
        onChange={(e) => setDraft({ title: e.target.value })}
        required
        maxLength={300}
      />
      <div className="row">
        <label className="form-field">
          <span>Priority</span>
          <select
            data-testid="task-priority"
            value={priority}
            onChange={(e) => setDraft({ priority: e.target.value as TaskState['priority'] })}
          >
            {TaskPriority.options.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <UtcTimeField
          label="Due"
          testId="task-due-input"
          value={due}
          onChange={(text) => setDraft({ due: text })}
          optional
          note={pastDue ? 'already past: the task will be overdue at once' : undefined}
        />
      </div>
      <div className="row">
        <AssigneeFields
          kind={kind}
          who={who}
          onKind={(next) => setDraft({ kind: next })}
          onWho={(next) => setDraft({ who: next })}
          testids={{ kind: 'task-assignee-kind', who: 'task-assignee' }}
          reaching={reaching}
        />
      </div>
      <button type="submit" className="button primary" data-testid="task-create" disabled={runner.pending}>
        {runner.pending ? 'Creating…' : 'Create task'}
      </button>
      <CommandOutcome runner={runner} shown={incident} />
    </form>
  )
}

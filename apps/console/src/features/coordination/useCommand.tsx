import type { Command } from '@watchfloor/protocol'
import { useCallback, useRef, useState } from 'react'
import { useStore } from 'zustand'
import { useWatchfloor, watchfloor } from '../../data/store.ts'
import { viewerKey } from '../../data/viewAs.ts'
import { type ActionSlot, CommandIds, ownSlot, sendAction } from './commandIds.ts'
import {
  basisFor,
  type CommandResult,
  describeConflict,
  mayRetry,
  retryOnCurrent,
  sendCommand,
  type Target,
} from './commands.ts'
import { actionSlot, type DraftForm, type DraftOf, draftForm, formDrafts } from './formDrafts.ts'
import { learnWithdrawn } from './withdrawn.ts'

export interface CommandRunner {
  pending: boolean
  result: CommandResult | null
  /** The last command sent (with its `commandId`), or undefined. */
  command: Command | undefined
  /** The target as it stood when the last command was sent (what a conflict is compared with). */
  sent: Target | undefined
  /** The incident the last answer said is no longer shared with this viewer [C18], or undefined. */
  withdrawn: string | undefined
  /**
   * Send a command; `shown` is the copy of the target it was decided on (`basisOf`), for the conflict
   * message.
   */
  run(command: Command, shown?: Target): Promise<CommandResult>
  /** The copy of `shown`'s target the next command should be based on (fresher after a conflict). */
  basisOf(shown: Target): Target
  /** The version the next command on `shown` should expect (`basisOf(shown).version`). */
  versionOf(shown: Target): number
  clear(): void
  /** The same command again on the fresh version: only when `mayRetry` (a C3 conflict it could pass). */
  retry(): void
}

/**
 * One form's command: pending state, the last answer, and a retry on the fresh version after a
 * conflict. Each action carries a `commandId` (commandIds.ts): sending the same command again
 * after a failure, or **Retry**, reuses it, so the server applies the action once. A `not_found`
 * about an incident the picture holds is kept as "no longer shared with you" (withdrawn.ts).
 *
 * A form of an incident or a task names its draft (`draft`): its last action is kept with the draft
 * (formDrafts.ts), so the form shown again after the picture was opened again still sends the same
 * input under the same `commandId`; and once the live stream shows that action applied (its answer
 * lost), the draft ends and no failure of it is shown. Without it, the action lives as long as the
 * form. `answered` is told every answer, also one that comes once the form was unmounted (a picture
 * opened again meanwhile): what a form does with its draft on an answer belongs there.
 */
export function useCommand(draft?: {
  of: DraftOf
  /** The form (its draft) a command is typed in; a card of several forms names it by command. */
  form: DraftForm<object> | ((command: Command) => DraftForm<object>)
  answered?: (result: CommandResult) => void
}): CommandRunner {
  const [pending, setPending] = useState(false)
  const [answer, setAnswer] = useState<Answer | null>(null)
  const own = useRef<ActionSlot | null>(null)
  own.current ??= ownSlot()
  // the draft as of this render: the one a command sent now belongs to
  const at = useRef(draft)
  at.current = draft
  const session = useWatchfloor((s) => s.session)

  // the fresher copy a conflict reported, as of this render (what `versionOf` answered with)
  const fresher = useRef<Target | undefined>(undefined)

  const run = useCallback(async (command: Command, shown?: Target) => {
    setPending(true)
    // the viewer the answer is about: another may be signed in (or viewed as) by the time it comes
    const viewer = viewerKey(watchfloor.getState().session)
    // the copy the command was decided on: its version is the one the command expects
    const copy = shown === undefined ? undefined : basisFor(shown, fresher.current)
    let sent: { command: Command; shown: Target | undefined } = { command, shown: copy }
    const where = at.current
    const slot =
      where === undefined
        ? own.current!
        : actionSlot(viewer, where.of, typeof where.form === 'function' ? where.form(command) : where.form)
    const session = watchfloor.getState().session
    const sender = session ? { userId: session.user, organisation: session.organisation } : undefined
    const { result } = await sendAction(new CommandIds(undefined, slot, sender), command, (stamped) => {
      sent = { command: stamped, shown: copy }
      return sendCommand(stamped)
    })
    const withdrawn = learnWithdrawn(viewer, sent.command, result)
    setAnswer({ result, ...sent, withdrawn })
    setPending(false)
    where?.answered?.(result)
    return result
  }, [])

  // a failure of an action the live stream showed applied (its answer lost) is no failure
  const settled = useStore(
    formDrafts,
    (drafts) => answer?.command.commandId !== undefined && drafts.settled?.has(answer.command.commandId) === true,
  )
  const result = settled ? null : (answer?.result ?? null)
  const conflictCurrent = result && !result.ok && result.kind === 'conflict' ? result.current : undefined
  fresher.current = conflictCurrent
  const basisOf = (shown: Target) => basisFor(shown, conflictCurrent)

  return {
    pending,
    result,
    command: answer?.command,
    sent: answer?.shown,
    withdrawn: answer?.withdrawn,
    run,
    basisOf,
    versionOf: (shown) => basisOf(shown).version,
    clear: () => setAnswer(null),
    retry: () => {
      if (answer && conflictCurrent && mayRetry(result, answer.command, session))
        void run(retryOnCurrent(answer.command, conflictCurrent), conflictCurrent)
    },
  }
}

/** The last answer of a form, with the command (as sent) and the copy of the target it was sent on. */
interface Answer {
  result: CommandResult
  command: Command
  shown: Target | undefined
  withdrawn: string | undefined
}

/**
 * The answer of a command where the form is: a conflict (worded by its rule, compared with the copy
 * the command was sent on, with **Retry** when a retry could pass), a withdrawn incident, or an error.
 */
export function CommandOutcome({ runner, shown }: { runner: CommandRunner; shown?: Target | undefined }) {
  const session = useWatchfloor((s) => s.session)
  const withdrawnTitle = useWatchfloor((s) =>
    runner.withdrawn === undefined ? undefined : s.state.incidents.get(runner.withdrawn)?.title,
  )
  const { result } = runner
  if (result === null || result.ok) return null
  if (result.kind === 'conflict') {
    return (
      <div className="conflict" role="alert" data-testid="conflict" data-rule={result.rule}>
        <p>{describeConflict(result, runner.sent ?? shown)}</p>
        <div className="row">
          {result.current && mayRetry(result, runner.command, session) && (
            <button
              type="button"
              className="button"
              data-testid="conflict-retry"
              disabled={runner.pending}
              onClick={runner.retry}
            >
              Retry on version {result.current.version}
            </button>
          )}
          <button type="button" className="button" data-testid="conflict-dismiss" onClick={runner.clear}>
            Dismiss
          </button>
        </div>
      </div>
    )
  }
  if (result.kind === 'not_found' && runner.withdrawn !== undefined) {
    // all the answer says: what this viewer holds is no longer shared with it (never how it is marked now)
    const which =
      runner.withdrawn !== shown?.incidentId
        ? `incident “${withdrawnTitle ?? runner.withdrawn}”`
        : 'taskId' in shown
          ? 'the incident of this task'
          : 'this incident'
    return (
      <div className="command-error" role="alert" data-testid="command-error" data-withdrawn={runner.withdrawn}>
        <strong>Refused:</strong> {which} is no longer shared with you; what you see is the copy you last received.
        <button type="button" className="link" onClick={runner.clear} aria-label="Dismiss">
          ✕
        </button>
      </div>
    )
  }
  const what =
    result.kind === 'forbidden'
      ? 'Not allowed'
      : result.kind === 'not_found'
        ? 'Not found (or not visible to you)'
        : result.kind === 'validation'
          ? 'Check the input'
          : result.kind === 'unauthenticated'
            ? 'Signed out'
            : 'Failed'
  return (
    <div className="command-error" role="alert" data-testid="command-error">
      <strong>{what}:</strong> {result.message}
      {result.issues && result.issues.length > 0 && (
        <ul>
          {result.issues.map((issue) => (
            <li key={`${issue.path}:${issue.message}`}>
              <span className="mono">{issue.path || 'body'}</span>: {issue.message}
            </li>
          ))}
        </ul>
      )}
      <button type="button" className="link" onClick={runner.clear} aria-label="Dismiss">
        ✕
      </button>
    </div>
  )
}

/**
 * Acknowledge's draft and last action, kept apart where it is (the panel, a triage row): the note
 * typed with it in the panel (a triage row types none), emptied once the acknowledgement is applied.
 */
export const ACKNOWLEDGE_ACTION = draftForm<{ note: string }>('incident.acknowledge', { note: '' })

/** One-click acknowledge of an incident, on its current version (the detail panel, the triage queue). */
export function AcknowledgeButton({
  runner,
  incident,
  testid,
  note = '',
}: {
  runner: CommandRunner
  incident: Target & { incidentId: string }
  testid: string
  /** Said with it (what was done, who was told); nothing when empty. */
  note?: string
}) {
  return (
    <button
      type="button"
      className="button primary"
      data-testid={testid}
      disabled={runner.pending}
      onClick={() => acknowledge(runner, incident, note)}
    >
      Acknowledge
    </button>
  )
}

/** Acknowledge `incident`, with `note` when one is given: the button's action, and Enter's in the note. */
export function acknowledge(runner: CommandRunner, incident: Target & { incidentId: string }, note = ''): void {
  if (runner.pending) return
  void runner.run(
    {
      type: 'incident.acknowledge',
      incidentId: incident.incidentId,
      expectedVersion: runner.versionOf(incident),
      ...(note.trim() === '' ? {} : { note: note.trim() }),
    },
    incident,
  )
}

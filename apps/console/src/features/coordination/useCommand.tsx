import type { Command } from '@watchfloor/protocol'
import { useCallback, useRef, useState } from 'react'
import { CommandIds, sendAction } from './commandIds.ts'
import {
  type CommandResult,
  describeConflict,
  expectedVersionFor,
  retryOnCurrent,
  sendCommand,
  type Target,
} from './commands.ts'

export interface CommandRunner {
  pending: boolean
  result: CommandResult | null
  /** Send a command; `shown` is the target as the panel showed it (for the conflict message). */
  run(command: Command, shown?: Target): Promise<CommandResult>
  /** The version the next command on `shown` should expect (fresher after a conflict). */
  versionOf(shown: Target): number
  clear(): void
  retry(): void
}

/**
 * One form's command: pending state, the last answer, and a retry on the fresh version after a
 * conflict. Each action carries a `commandId` (commandIds.ts): sending the same command again
 * after a failure, or **Retry**, reuses it, so the server applies the action once.
 */
export function useCommand(): CommandRunner {
  const [pending, setPending] = useState(false)
  const [result, setResult] = useState<CommandResult | null>(null)
  const [last, setLast] = useState<{ command: Command; shown: Target | undefined } | null>(null)
  const ids = useRef<CommandIds | null>(null)
  ids.current ??= new CommandIds()

  const run = useCallback(async (command: Command, shown?: Target) => {
    setPending(true)
    const { result: answer } = await sendAction(ids.current!, command, (stamped) => {
      setLast({ command: stamped, shown })
      return sendCommand(stamped)
    })
    setResult(answer)
    setPending(false)
    return answer
  }, [])

  const conflictCurrent = result && !result.ok && result.kind === 'conflict' ? result.current : undefined

  return {
    pending,
    result,
    run,
    versionOf: (shown) => expectedVersionFor(shown, conflictCurrent),
    clear: () => setResult(null),
    retry: () => {
      if (last && conflictCurrent) void run(retryOnCurrent(last.command, conflictCurrent), conflictCurrent)
    },
  }
}

/** The answer of a command where the form is: a conflict (with the values now and a retry), or an error. */
export function CommandOutcome({ runner, shown }: { runner: CommandRunner; shown?: Target | undefined }) {
  const { result } = runner
  if (result === null || result.ok) return null
  if (result.kind === 'conflict') {
    return (
      <div className="conflict" role="alert" data-testid="conflict">
        <p>{describeConflict(result, shown)}</p>
        <div className="row">
          {result.current && (
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

/** One-click acknowledge of an incident, on its current version (the detail panel, the triage queue). */
export function AcknowledgeButton({
  runner,
  incident,
  testid,
}: {
  runner: CommandRunner
  incident: Target & { incidentId: string }
  testid: string
}) {
  return (
    <button
      type="button"
      className="button primary"
      data-testid={testid}
      disabled={runner.pending}
      onClick={() =>
        void runner.run(
          {
            type: 'incident.acknowledge',
            incidentId: incident.incidentId,
            expectedVersion: runner.versionOf(incident),
          },
          incident,
        )
      }
    >
      Acknowledge
    </button>
  )
}

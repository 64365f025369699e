/**
 * Sending a coordination command (`POST /api/v1/commands`) and making sense of the answer.
 *
 * Every command names the version of its target that the person saw (`expectedVersion`). When
 * someone else changed the target meanwhile the server answers 409 with the target as it is now
 * (`current`); the console then shows what changed, keeps the person's input, and does not send
 * again by itself. A retry is the person's choice and goes out on the fresh version.
 */
import type { IncidentState, TaskState } from '@watchfloor/core'
import type { Command, ErrorCode, FieldIssue, StoredEvent } from '@watchfloor/protocol'
import { ApiError, type Failure, type Fetch, failureOf, request, unreachable } from '../../data/api.ts'
import { formatTime } from '../../ui/format.ts'

export type Target = IncidentState | TaskState

export type CommandResult =
  | { ok: true; version: number; events: StoredEvent[] }
  | { ok: false; kind: 'conflict'; status: number; message: string; rule?: string; current?: Target }
  | {
      ok: false
      /** The error family's code, as the server sent it (`unavailable` when it could not be reached). */
      kind: Exclude<ErrorCode, 'conflict'>
      status: number
      message: string
      issues?: FieldIssue[]
    }

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
}

function isTarget(value: unknown): value is Target {
  const v = record(value)
  return v !== undefined && typeof v.version === 'number' && typeof v.incidentId === 'string'
}

/** The answer of `POST /api/v1/commands` (or the socket ack's body) as a result. */
export function parseCommandResponse(status: number, body: unknown): CommandResult {
  if (status >= 200 && status < 300) {
    const b = record(body)
    const version = typeof b?.version === 'number' ? b.version : 0
    const events = Array.isArray(b?.events) ? (b.events as StoredEvent[]) : []
    return { ok: true, version, events }
  }
  return commandFailure(failureOf(status, body))
}

/** A refused command as a result: the code, message, rule and issues of the server's error body. */
export function commandFailure({ status, error, current }: Failure): CommandResult {
  const details = record(error.details)
  if (error.code === 'conflict') {
    const rule = typeof details?.rule === 'string' ? details.rule : undefined
    return {
      ok: false,
      kind: 'conflict',
      status,
      message: error.message,
      ...(rule !== undefined ? { rule } : {}),
      ...(isTarget(current) ? { current } : {}),
    }
  }
  const issues = Array.isArray(details?.issues) ? (details.issues as FieldIssue[]) : undefined
  return { ok: false, kind: error.code, status, message: error.message, ...(issues !== undefined ? { issues } : {}) }
}

/** POST the command through the console's REST client; never throws (no answer is `unavailable`). */
export async function sendCommand(command: Command, fetchFn: Fetch = fetch): Promise<CommandResult> {
  try {
    const response = await request('/api/v1/commands', { method: 'POST', json: command, fetchFn })
    return parseCommandResponse(response.status, await response.json().catch(() => undefined))
  } catch (error) {
    if (error instanceof ApiError) return commandFailure(error.failure)
    return commandFailure(unreachable(error))
  }
}

function assigneeText(a: TaskState['assignee']): string {
  if (a === undefined) return 'nobody'
  return a.kind === 'user' ? a.userId : `team ${a.organisation}`
}

/** What differs between the target as shown and as it is now: `status triaged (was new)`. */
export function conflictChanges(shown: Target | undefined, current: Target): string[] {
  const changes: string[] = []
  const diff = (label: string, now: string | undefined, was: string | undefined) => {
    if (now === was) return
    changes.push(shown === undefined ? `${label} ${now ?? 'none'}` : `${label} ${now ?? 'none'} (was ${was ?? 'none'})`)
  }
  if ('taskId' in current) {
    const was = shown !== undefined && 'taskId' in shown ? shown : undefined
    diff('status', current.status, was?.status)
    diff('assignee', assigneeText(current.assignee), was ? assigneeText(was.assignee) : undefined)
    diff('accepted by', current.acceptedBy, was?.acceptedBy)
    diff('priority', current.priority, was?.priority)
    diff('due', current.dueAt && formatTime(current.dueAt), was?.dueAt && formatTime(was.dueAt))
    diff('blocked because', current.blockedReason, was?.blockedReason)
  } else {
    const was = shown !== undefined && !('taskId' in shown) ? shown : undefined
    diff('status', current.status, was?.status)
    diff('severity', current.severity, was?.severity)
    diff(
      'acknowledged by',
      current.acknowledgedBy ?? (current.acknowledgedAt ? 'someone' : undefined),
      was && (was.acknowledgedBy ?? (was.acknowledgedAt ? 'someone' : undefined)),
    )
    diff('merged into', current.mergedInto, was?.mergedInto)
    diff(
      'links',
      current.links?.map((l) => `${l.relation} ${l.incidentId}`).join(', '),
      was?.links?.map((l) => `${l.relation} ${l.incidentId}`).join(', '),
    )
    diff(
      'network states',
      Object.entries(current.networkStates ?? {})
        .map(([id, s]) => `${id} ${s}`)
        .join(', ') || undefined,
      was &&
        (Object.entries(was.networkStates ?? {})
          .map(([id, s]) => `${id} ${s}`)
          .join(', ') ||
          undefined),
    )
  }
  return changes
}

/** The sentence shown on a 409: what the server said and the values as they are now. */
export function describeConflict(result: Extract<CommandResult, { kind: 'conflict' }>, shown?: Target): string {
  const { current } = result
  if (current === undefined) return `Changed by someone else meanwhile: ${result.message}.`
  const changes = conflictChanges(shown, current)
  const versions =
    shown !== undefined && shown.version !== current.version
      ? `version ${current.version}, you saw ${shown.version}`
      : `version ${current.version}`
  const now = changes.length > 0 ? changes.join(', ') : 'no visible change'
  return `Changed by someone else meanwhile: now ${now} (${versions}). ${capitalise(result.message)}.`
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/**
 * The version a form's next command should expect: what the panel shows, or, after a conflict on
 * the same target, the fresher version the server reported (the live picture may not have caught up).
 */
export function expectedVersionFor(shown: Target, conflict: Target | undefined): number {
  if (conflict === undefined) return shown.version
  const same =
    'taskId' in shown
      ? 'taskId' in conflict && conflict.taskId === shown.taskId
      : !('taskId' in conflict) && conflict.incidentId === shown.incidentId
  return same ? Math.max(shown.version, conflict.version) : shown.version
}

/** The same command again, on the version the conflict reported. */
export function retryOnCurrent(command: Command, current: Target): Command {
  return { ...command, expectedVersion: current.version }
}

/**
 * Sending a coordination command (`POST /api/v1/commands`) and making sense of the answer.
 *
 * Every command names the version of its target that the person saw (`expectedVersion`). When
 * the target changed meanwhile the server answers 409 C3 with the target as it is now (`current`);
 * the console then shows what changed since the copy it sent, keeps the person's input, and does
 * not send again by itself. A retry is the person's choice, offered only when it could pass, and
 * goes out on the fresh version.
 */
import { escalationChoices, type IncidentState, networkStateOf, sameMarking, type TaskState } from '@watchfloor/core'
import type { Command, ErrorCode, FieldIssue, StoredEvent } from '@watchfloor/protocol'
import { ApiError, type Failure, type Fetch, failureOf, request, unreachable } from '../../data/api.ts'
import type { Session } from '../../data/store.ts'
import { formatTime } from '../../ui/format.ts'
import { can } from './permissions.ts'

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
      /** The rule refusing it (`details.rule`), when the server names one. */
      rule?: string
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
  const rule = typeof details?.rule === 'string' ? details.rule : undefined
  if (error.code === 'conflict') {
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
  return {
    ok: false,
    kind: error.code,
    status,
    message: error.message,
    ...(rule !== undefined ? { rule } : {}),
    ...(issues !== undefined ? { issues } : {}),
  }
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

/**
 * The sentence shown on a 409, worded by its rule. A stale version [C3] says what changed since
 * `sent`, the target as it stood when the command was sent (not the live copy, which may have
 * caught up since): "Changed meanwhile: now status triaged (was new) (version 3, you saw 1)". Any
 * other rule (already acknowledged [C6], the same marking [C20], a merge into a closed incident
 * [C9]...) is no change by anyone: its plain reason.
 */
export function describeConflict(result: Extract<CommandResult, { kind: 'conflict' }>, sent?: Target): string {
  const reason = `${capitalise(result.message)}.`
  if (result.rule !== 'C3') return reason
  const { current } = result
  if (current === undefined) return `Changed meanwhile: ${reason}`
  const changes = conflictChanges(sent, current)
  const versions =
    sent !== undefined && sent.version !== current.version
      ? `version ${current.version}, you saw ${sent.version}`
      : `version ${current.version}`
  const now = changes.length > 0 ? changes.join(', ') : 'no visible change'
  return `Changed meanwhile: now ${now} (${versions}). ${reason}`
}

/**
 * Would the same command pass on the target as it is now? Only a stale version [C3] is mended by
 * sending again, and only while core's policy still allows the action on the target now (`can`:
 * `may`, and not withdrawn [C18]) and what the command asks still changes something (a severity
 * above the current one [C7], another status [C8] or network state [C10], another marking [C20]).
 * Anything else would only be refused again: no **Retry** is offered.
 */
export function mayRetry(
  result: CommandResult | null,
  command: Command | undefined,
  session: Session | null | undefined,
): boolean {
  if (result === null || result.ok || result.kind !== 'conflict' || result.rule !== 'C3') return false
  const { current } = result
  if (current === undefined || command === undefined || !can(session, command.type, current)) return false
  if ('taskId' in current) return true
  switch (command.type) {
    case 'incident.escalate':
      return escalationChoices(current).includes(command.severity)
    case 'incident.set_status':
      return command.status !== current.status
    case 'network.set_state':
      return networkStateOf(current, command.networkId) !== command.state
    case 'incident.set_marking':
      return !sameMarking(command.marking, current.marking)
    default:
      return true
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/**
 * The copy of the target a form's next command should be based on: `shown` (the panel's, or the one a
 * draft was started on), or, after a conflict on the same target, the fresher one the server
 * reported (the live picture may not have caught up). Its version is the command's `expectedVersion`.
 */
export function basisFor(shown: Target, conflict: Target | undefined): Target {
  if (conflict === undefined) return shown
  const same =
    'taskId' in shown
      ? 'taskId' in conflict && conflict.taskId === shown.taskId
      : !('taskId' in conflict) && conflict.incidentId === shown.incidentId
  return same && conflict.version > shown.version ? conflict : shown
}

/** The version a form's next command should expect (`basisFor`'s). */
export function expectedVersionFor(shown: Target, conflict: Target | undefined): number {
  return basisFor(shown, conflict).version
}

/** The same command again, on the version the conflict reported. */
export function retryOnCurrent(command: Command, current: Target): Command {
  return { ...command, expectedVersion: current.version }
}

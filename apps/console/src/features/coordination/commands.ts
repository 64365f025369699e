/**
 * Sending a coordination command (`POST /api/v1/commands`) and making sense of the answer.
 *
 * Every command names the version of its target that the person saw (`expectedVersion`). When
 * someone else changed the target meanwhile the server answers 409 with the target as it is now
 * (`current`); the console then shows what changed, keeps the person's input, and does not send
 * again by itself. A retry is the person's choice and goes out on the fresh version.
 */
import type { IncidentState, TaskState } from '@watchfloor/core'
import type { Command, FieldIssue, StoredEvent } from '@watchfloor/protocol'
import { formatTime } from '../../ui/format.ts'

export type Target = IncidentState | TaskState

export type CommandResult =
  | { ok: true; version: number; events: StoredEvent[] }
  | { ok: false; kind: 'conflict'; status: 409; message: string; rule?: string; current?: Target }
  | {
      ok: false
      kind: 'validation' | 'forbidden' | 'not_found' | 'unauthenticated' | 'error'
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
  const b = record(body)
  if (status >= 200 && status < 300) {
    const version = typeof b?.version === 'number' ? b.version : 0
    const events = Array.isArray(b?.events) ? (b.events as StoredEvent[]) : []
    return { ok: true, version, events }
  }
  const error = record(b?.error)
  const details = record(error?.details)
  const message = typeof error?.message === 'string' ? error.message : `the server answered ${status}`
  if (status === 409 || error?.code === 'conflict') {
    const rule = typeof details?.rule === 'string' ? details.rule : undefined
    const current = isTarget(b?.current) ? b.current : undefined
    return {
      ok: false,
      kind: 'conflict',
      status: 409,
      message,
      ...(rule !== undefined ? { rule } : {}),
      ...(current !== undefined ? { current } : {}),
    }
  }
  const kind =
    status === 400
      ? 'validation'
      : status === 403
        ? 'forbidden'
        : status === 404
          ? 'not_found'
          : status === 401
            ? 'unauthenticated'
            : 'error'
  const issues = Array.isArray(details?.issues) ? (details.issues as FieldIssue[]) : undefined
  return { ok: false, kind, status, message, ...(issues !== undefined ? { issues } : {}) }
}

/** POST the command; never throws (a network failure is an `error` result). */
export async function sendCommand(
  command: Command,
  headers: Record<string, string>,
  fetchFn: typeof fetch = fetch,
): Promise<CommandResult> {
  try {
    const response = await fetchFn('/api/v1/commands', {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json', Accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(command),
    })
    const body: unknown = await response.json().catch(() => undefined)
    return parseCommandResponse(response.status, body)
  } catch (error) {
    return { ok: false, kind: 'error', status: 0, message: `cannot reach the server (${String(error)})` }
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

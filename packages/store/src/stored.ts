import { type StoredEvent, WatchfloorError } from '@watchfloor/protocol'
import { contentJson, type Row, storedBody } from './plan.ts'
import type { AcceptedEvent } from './types.ts'

/**
 * Rows for events written as they were stored elsewhere (a restore, an import): their seq,
 * recordedAt and content kept. The first must be `head + 1` and the rest follow without a gap
 * [L1]; recordedAt must be an ISO 8601 time as the stores write it (UTC, milliseconds) and never
 * below `lastRecordedAt` nor the one before [L5]; an id may come once. Throws a `conflict`
 * WatchfloorError naming the first event that breaks a rule; nothing is written then.
 */
export function storedRows(events: readonly StoredEvent[], head: number, lastRecordedAt: string): Row[] {
  const rows: Row[] = []
  const ids = new Set<string>()
  let last = lastRecordedAt
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!
    const expected = head + i + 1
    if (event.seq !== expected)
      throw new WatchfloorError(
        'conflict',
        `stored event ${event.id} has seq ${event.seq}, but the next seq of this log is ${expected}: ` +
          'stored events must continue the log without a gap',
        { seq: event.seq, expected, index: i },
      )
    const time = typeof event.recordedAt === 'string' ? Date.parse(event.recordedAt) : Number.NaN
    if (Number.isNaN(time) || new Date(time).toISOString() !== event.recordedAt)
      throw new WatchfloorError(
        'validation',
        `stored event seq ${event.seq} has recordedAt ${JSON.stringify(event.recordedAt)}, not a UTC ISO 8601 time`,
        { seq: event.seq, index: i },
      )
    if (event.recordedAt < last)
      throw new WatchfloorError(
        'conflict',
        `stored event seq ${event.seq} was recorded at ${event.recordedAt}, before the event ahead of it (${last})`,
        { seq: event.seq, index: i },
      )
    if (ids.has(event.id))
      throw new WatchfloorError('conflict', `event ${event.id} comes twice (again at seq ${event.seq})`, {
        id: event.id,
        seq: event.seq,
        index: i,
      })
    ids.add(event.id)
    last = event.recordedAt
    // the body as the store wrote it first: seq and recordedAt in front of the sender's content
    const content = contentJson(event as AcceptedEvent)
    const body = storedBody(event.seq, event.recordedAt, content)
    rows.push({ seq: event.seq, id: event.id, recordedAt: event.recordedAt, body, content, event })
  }
  return rows
}

/** The error for stored events whose id is already in the log. */
export function idInLog(id: string, seq: number): WatchfloorError {
  return new WatchfloorError('conflict', `event ${id} is already in the log (at seq ${seq})`, { id, seq })
}

/**
 * A stored event read back from its row's body; a body that is not JSON (a damaged file or table)
 * is an error naming its seq, so `check` and every read say where the log is damaged.
 */
export function eventOfRow(row: { seq: number | string; body: string }): StoredEvent {
  try {
    return JSON.parse(row.body) as StoredEvent
  } catch (error) {
    throw new LogDamagedError(Number(row.seq), (error as Error).message)
  }
}

/** A row of the log whose body cannot be read: where the log is damaged, said in one line. */
export class LogDamagedError extends Error {
  readonly code = 'log_damaged'
  constructor(
    readonly seq: number,
    why: string,
  ) {
    super(`the event at seq ${seq} is not JSON (${why}): the log is damaged there`)
    this.name = 'LogDamagedError'
  }
}

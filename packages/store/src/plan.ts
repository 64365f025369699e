import { canonicalJson, type StoredEvent, WatchfloorError } from '@watchfloor/protocol'
import type { AcceptedEvent, AppendResult } from './types.ts'

/**
 * The sender's content of an event as JSON. The stored body is this text with
 * `seq` and `recordedAt` put in front, so it is built once, by the engine's own
 * JSON.stringify; the slower canonical form is only needed when an id comes again.
 */
export function contentJson(event: AcceptedEvent): string {
  const { id, type, occurredAt, source, actor, marking, payload } = event
  return JSON.stringify({ id, type, occurredAt, source, actor, marking, payload })
}

/** Whether two contents are the same event: equal once keys are sorted at every depth [L2, L3]. */
export function sameContent(a: string, b: string): boolean {
  return a === b || canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b))
}

/** The stored body: the content with `seq` and `recordedAt` put in front. */
export function storedBody(seq: number, recordedAt: string, content: string): string {
  return `{"seq":${seq},"recordedAt":${JSON.stringify(recordedAt)},${content.slice(1)}`
}

/** The content of a stored body (for the rare check of a reused id), compared with `sameContent`. */
export function contentOfBody(body: string): string {
  const { seq: _seq, recordedAt: _recordedAt, ...content } = JSON.parse(body) as StoredEvent
  return canonicalJson(content)
}

export interface PendingAppend {
  events: readonly AcceptedEvent[]
  contents: string[]
  resolve: (results: AppendResult[]) => void
  reject: (error: unknown) => void
}

export interface Row {
  seq: number
  id: string
  recordedAt: string
  body: string
  /** The sender's content (`contentJson`): `body` without `seq` and `recordedAt`. */
  content: string
  event: StoredEvent
}

export interface Existing {
  seq: number
  content: string
}

export interface Plan {
  rows: Row[]
  /** Per pending append, in order: its results, or the error to reject it with. */
  outcomes: ({ ok: true; results: AppendResult[] } | { ok: false; error: WatchfloorError })[]
  head: number
  lastRecordedAt: string
}

/**
 * Decide a group commit: which rows to insert with which seq, and what each
 * pending append gets back. Shared by every store so the rules hold alike:
 * gap-free seq [L1], idempotent ids [L2], conflicts reject a whole batch [L3],
 * recordedAt never decreasing [L5].
 */
export function planGroup(
  pending: readonly PendingAppend[],
  existing: ReadonlyMap<string, Existing>,
  head: number,
  lastRecordedAt: string,
  now: Date,
): Plan {
  const nowIso = now.toISOString()
  const recordedAt = nowIso > lastRecordedAt ? nowIso : lastRecordedAt
  const known = new Map(existing)
  const rows: Row[] = []
  const outcomes: Plan['outcomes'] = []
  let next = head
  for (const append of pending) {
    const staged = new Map<string, Existing & { event: AcceptedEvent }>()
    const results: AppendResult[] = []
    let conflict: WatchfloorError | null = null
    for (let i = 0; i < append.events.length; i++) {
      const event = append.events[i]!
      const content = append.contents[i]!
      const prior = known.get(event.id) ?? staged.get(event.id)
      if (prior) {
        if (!sameContent(prior.content, content)) {
          conflict = new WatchfloorError('conflict', `event ${event.id} is already in the log with other content`, {
            id: event.id,
            seq: prior.seq,
            index: i,
          })
          break
        }
        results.push({ id: event.id, seq: prior.seq, duplicate: true })
        continue
      }
      const seq = next + staged.size + 1
      staged.set(event.id, { seq, content, event })
      results.push({ id: event.id, seq, duplicate: false })
    }
    if (conflict) {
      outcomes.push({ ok: false, error: conflict })
      continue
    }
    for (const { seq, content, event } of staged.values()) {
      const stored = { ...event, recordedAt, seq } as StoredEvent
      rows.push({ seq, id: event.id, recordedAt, body: storedBody(seq, recordedAt, content), content, event: stored })
      known.set(event.id, { seq, content })
    }
    next += staged.size
    outcomes.push({ ok: true, results })
  }
  return { rows, outcomes, head: next, lastRecordedAt: rows.length > 0 ? recordedAt : lastRecordedAt }
}

/** Serialise every event of a batch up front, outside the commit. */
export function pendingAppend(
  events: readonly AcceptedEvent[],
  resolve: PendingAppend['resolve'],
  reject: PendingAppend['reject'],
): PendingAppend {
  return { events, contents: events.map(contentJson), resolve, reject }
}

/** Normalise a time bound to the stored ISO form (UTC, milliseconds). */
export function isoBound(value: string): string {
  const time = Date.parse(value)
  if (Number.isNaN(time)) throw new WatchfloorError('validation', `not a time: ${value}`)
  return new Date(time).toISOString()
}

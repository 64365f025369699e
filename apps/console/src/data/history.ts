/**
 * What of the viewer's log the console holds, and how it reads more of it.
 *
 * A console opens from the viewer's snapshot (`GET /api/v1/state`, the picture at seq N) plus the
 * recent events its views show, read in pages of `GET /api/v1/events?from=&clock=recorded`; older
 * history is read the same way, a time range at a time, when the timeline is moved before what is
 * loaded. `Coverage` says which times the event window is complete for: every event this viewer
 * may see that occurred in one of its ranges is in the window (up to the cursor; live events
 * arrive on the socket). Ranges are read on the recorded clock, a seq range on the server
 * (binary search, no scan of the log); as an event is recorded at or after it occurs, the events
 * recorded from `t` on hold every event that occurred from `t` on. A late report (recorded long
 * after it occurred) of an older range loaded on its own shows once the time it was recorded is
 * loaded too; so does an event stamped ahead of the time it was recorded (a sender's clock running
 * fast), which the server takes: it may be missing from a range drawn as read (docs/console.md).
 */
import type { EventPageReply, StoredEvent } from '@watchfloor/protocol'

/** A half-open time range [from, to), epoch ms; `to` may be +Infinity (the live end). */
export interface TimeRange {
  from: number
  to: number
}

/** Sorted, disjoint, non-empty ranges. */
export type Coverage = readonly TimeRange[]

/** Nothing loaded. */
export const NO_COVERAGE: Coverage = Object.freeze([])

/** `ranges` with `range` added (merged with the ranges it touches or overlaps). */
export function addCoverage(ranges: Coverage, range: TimeRange): Coverage {
  if (!(range.to > range.from)) return ranges
  const out: TimeRange[] = []
  let { from, to } = range
  let placed = false
  for (const r of ranges) {
    if (r.to < from) out.push(r)
    else if (r.from > to) {
      if (!placed) {
        out.push({ from, to })
        placed = true
      }
      out.push(r)
    } else {
      from = Math.min(from, r.from)
      to = Math.max(to, r.to)
    }
  }
  if (!placed) out.push({ from, to })
  return out
}

/** `ranges` without anything before `beforeMs` (the same array when nothing goes). */
export function trimCoverage(ranges: Coverage, beforeMs: number): Coverage {
  if (ranges.length === 0 || ranges[0]!.from >= beforeMs) return ranges
  const out: TimeRange[] = []
  for (const r of ranges) {
    if (r.to <= beforeMs) continue
    out.push(r.from < beforeMs ? { from: beforeMs, to: r.to } : r)
  }
  return out
}

/** The parts of `domain` no range covers, oldest first. */
export function missingRanges(ranges: Coverage, domain: TimeRange): TimeRange[] {
  const missing: TimeRange[] = []
  let cursor = domain.from
  for (const r of ranges) {
    if (cursor >= domain.to) break
    if (r.to <= cursor) continue
    if (r.from > cursor) missing.push({ from: cursor, to: Math.min(r.from, domain.to) })
    cursor = Math.max(cursor, r.to)
  }
  if (cursor < domain.to) missing.push({ from: cursor, to: domain.to })
  return missing
}

/** Where the range that reaches the live end starts (+Infinity when none does: nothing opened yet). */
export function liveFrom(ranges: Coverage): number {
  const last = ranges.at(-1)
  return last && last.to === Number.POSITIVE_INFINITY ? last.from : Number.POSITIVE_INFINITY
}

/**
 * Merge two seq-ordered event lists into one, each seq once (`older` wins a tie: they are the same
 * event). Returns `newer` itself when `older` adds nothing.
 */
export function mergeBySeq(older: readonly StoredEvent[], newer: readonly StoredEvent[]): StoredEvent[] | null {
  if (older.length === 0) return null
  const out: StoredEvent[] = []
  let i = 0
  let j = 0
  let added = 0
  while (i < older.length || j < newer.length) {
    const a = older[i]
    const b = newer[j]
    if (b === undefined || (a !== undefined && a.seq < b.seq)) {
      out.push(a!)
      i++
      added++
    } else if (a !== undefined && a.seq === b.seq) {
      out.push(b)
      i++
      j++
    } else {
      out.push(b)
      j++
    }
  }
  return added === 0 ? null : out
}

// ---------------------------------------------------------------- reading the log

/** A refused or failed read: the HTTP status (0: no answer) and the server's error code and message. */
export class ReadError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(status === 0 ? message : `${status}: ${message}`)
    this.name = 'ReadError'
  }
}

/** A GET of a JSON answer as the connection's viewer (credentials and view-as of the socket). */
export type ReadJson = <T>(path: string, signal?: AbortSignal) => Promise<T>

/**
 * The GET of the connection: same credential as the socket (a bearer token, or the session
 * cookie), and while viewing as, the same `X-Watchfloor-View-As`, so every read is the socket's
 * viewer. A non-2xx answer throws a `ReadError` with the server's error body. `onServerTime` hears
 * each answer's `Date` (the server's clock, to the second: the middle of that second is passed).
 */
export function readJsonAs(
  token: string | null,
  viewAs: string | null | undefined,
  fetchFn: typeof fetch = (...args) => fetch(...args),
  baseUrl = '',
  onServerTime?: (iso: string) => void,
): ReadJson {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (token !== null) headers.Authorization = `Bearer ${token}`
  if (viewAs) headers['X-Watchfloor-View-As'] = viewAs
  return async <T>(path: string, signal?: AbortSignal): Promise<T> => {
    let response: Response
    try {
      response = await fetchFn(`${baseUrl}${path}`, {
        headers,
        credentials: 'same-origin',
        ...(signal ? { signal } : {}),
      })
    } catch (error) {
      if (signal?.aborted) throw error
      throw new ReadError(0, 'unavailable', `cannot reach the server (${String(error)})`)
    }
    const date = Date.parse(response.headers.get('date') ?? '')
    if (onServerTime && Number.isFinite(date)) onServerTime(new Date(date + 500).toISOString())
    const body: unknown = await response.json().catch(() => undefined)
    if (!response.ok) {
      const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
      throw new ReadError(
        response.status,
        typeof error?.code === 'string' ? error.code : 'internal',
        typeof error?.message === 'string' ? error.message : `the server answered ${response.status}`,
      )
    }
    return body as T
  }
}

interface PageQuery {
  /** Recorded at or after this (epoch ms; -Infinity: from the start of the log). */
  fromMs: number
  /** Recorded before this (+Infinity: no end). */
  toMs: number
  /** Only events up to this seq (the picture's cursor: later ones arrive on the socket). */
  through: number
  pageSize?: number
  signal?: AbortSignal
  /** After each page: the events read so far, the seq reached and the last seq to read. */
  onPage?: (received: number, next: number, last: number) => void
}

/**
 * The viewer's events recorded in [fromMs, toMs) with a seq in (after, through], in seq order, in
 * pages of `GET /api/v1/events?from&to&clock=recorded&after&limit`; stops early once `enough`
 * events are read (then `cut` is true).
 */
async function readPages(
  read: ReadJson,
  query: PageQuery,
  after: number,
  enough = Number.POSITIVE_INFINITY,
): Promise<{ events: StoredEvent[]; cut: boolean }> {
  const events: StoredEvent[] = []
  const last = query.through
  if (last <= after) return { events, cut: false }
  const q = new URLSearchParams({ clock: 'recorded', limit: String(query.pageSize ?? 5000) })
  if (Number.isFinite(query.fromMs)) q.set('from', new Date(query.fromMs).toISOString())
  if (Number.isFinite(query.toMs)) q.set('to', new Date(query.toMs).toISOString())
  let cursor = after
  for (;;) {
    q.set('after', String(cursor))
    const page = await read<EventPageReply>(`/api/v1/events?${q}`, query.signal)
    let beyond = false
    for (const event of page.events) {
      if (event.seq > last) {
        beyond = true
        break
      }
      events.push(event)
    }
    query.onPage?.(events.length, Math.min(page.next, last), last)
    if (events.length >= enough && !beyond && page.next < last && page.next < page.head) return { events, cut: true }
    if (beyond || page.next >= last || page.next >= page.head || page.next <= cursor) return { events, cut: false }
    cursor = page.next
  }
}

export interface RangeRead {
  /** In seq order. */
  events: StoredEvent[]
  /** The times the read is complete for (see `Coverage`). */
  covered: TimeRange
}

/**
 * The recent window a console opens with: the viewer's events recorded from `fromMs` on, up to
 * the snapshot's seq `through` (the viewer's own head: an event it may see), at most the newest
 * `maxSeqs` log seqs of them (so at most that many events). Cut by `maxSeqs`, it is complete from
 * just after the first event read on (others of that millisecond may be older).
 */
export async function readRecent(
  read: ReadJson,
  query: Omit<PageQuery, 'toMs'> & { maxSeqs: number },
): Promise<RangeRead> {
  const after = Math.max(0, query.through - Math.max(1, query.maxSeqs))
  const { events } = await readPages(read, { ...query, toMs: Number.POSITIVE_INFINITY }, after)
  const first = events[0]
  // nothing read although cut: `through` itself (visible) was recorded before fromMs, so was everything before it
  const from =
    after > 0 && first !== undefined ? Math.max(query.fromMs, Date.parse(first.recordedAt) + 1) : query.fromMs
  return { events, covered: { from, to: Number.POSITIVE_INFINITY } }
}

/**
 * Older history: the viewer's events recorded in [fromMs, toMs) up to `through`, oldest first,
 * stopping after about `maxEvents` (then complete up to the millisecond of the last one read).
 */
export async function readOlder(read: ReadJson, query: PageQuery & { maxEvents: number }): Promise<RangeRead> {
  const pageSize = Math.min(query.pageSize ?? 5000, Math.max(1, query.maxEvents))
  const { events, cut } = await readPages(read, { ...query, pageSize }, 0, query.maxEvents)
  const last = events.at(-1)
  const to = cut && last !== undefined ? Math.min(query.toMs, Date.parse(last.recordedAt)) : query.toMs
  return { events, covered: { from: query.fromMs, to } }
}

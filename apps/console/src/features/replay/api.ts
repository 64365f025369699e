/**
 * The REST calls of replay, export and bookmarks (docs/api.md, "Replay and export"), through the
 * console's one REST client (data/api.ts).
 */
import { type ReplayClock, type State, type StateJson, stateFromJson } from '@watchfloor/core'
import { type EventPageReply, MAX_TIMESTAMP, type Marking, MIN_TIMESTAMP, type StoredEvent } from '@watchfloor/protocol'
import { ApiError, type Fetch, request, requestJson } from '../../data/api.ts'

const MIN_MS = Date.parse(MIN_TIMESTAMP)
const MAX_MS = Date.parse(MAX_TIMESTAMP)

/**
 * A time for a query (ISO 8601, UTC), held to what the server takes (`MIN_TIMESTAMP` to
 * `MAX_TIMESTAMP`): a window's exclusive end one ms past the latest instant (a bookmark to the end of
 * time) would otherwise be written as an expanded year the server refuses.
 */
export function timeParam(ms: number): string {
  return new Date(Math.min(Math.max(ms, MIN_MS), MAX_MS)).toISOString()
}

/** `GET /api/v1/state?at=&clock=`: the viewer's picture at a moment. */
export async function fetchStateAt(atMs: number, clock: ReplayClock, fetchFn: Fetch = fetch): Promise<State> {
  const q = new URLSearchParams({ at: timeParam(atMs), clock })
  return stateFromJson(await requestJson<StateJson>(`/api/v1/state?${q}`, { fetchFn }))
}

export interface WindowQuery {
  from?: number
  to?: number
  clock: ReplayClock
}

/**
 * Every event of the window, page by page (`GET /api/v1/events?from&to&clock&after&limit`), in seq
 * order. `onProgress(next, head)` after each page; `signal` aborts.
 */
export async function fetchWindow(
  query: WindowQuery,
  onProgress: (next: number, head: number, received: number) => void = () => {},
  options: { fetchFn?: Fetch; signal?: AbortSignal; limit?: number } = {},
): Promise<StoredEvent[]> {
  const fetchFn = options.fetchFn ?? fetch
  const events: StoredEvent[] = []
  let after = 0
  for (;;) {
    const q = new URLSearchParams({ clock: query.clock, after: String(after), limit: String(options.limit ?? 5000) })
    if (query.from !== undefined) q.set('from', timeParam(query.from))
    if (query.to !== undefined) q.set('to', timeParam(query.to))
    const page = await requestJson<EventPageReply>(`/api/v1/events?${q}`, {
      fetchFn,
      ...(options.signal ? { signal: options.signal } : {}),
    })
    for (const event of page.events) events.push(event)
    onProgress(page.next, page.head, events.length)
    if (page.next >= page.head || page.next <= after) return events
    after = page.next
  }
}

// ---------------------------------------------------------------- export

/** The export formats (docs/api.md): the events as JSON or CSV, or the picture they make as a STIX 2.1 bundle. */
export type ExportFormat = 'json' | 'csv' | 'stix'

/** The media type of a downloaded export, by format. */
export const EXPORT_TYPES: Readonly<Record<ExportFormat, string>> = {
  json: 'application/json',
  csv: 'text/csv',
  stix: 'application/stix+json;version=2.1',
}

export interface ExportQuery {
  format: ExportFormat
  from?: number
  to?: number
  clock?: ReplayClock
  incidentId?: string
}

export function exportUrl(query: ExportQuery): string {
  const q = new URLSearchParams({ format: query.format })
  if (query.from !== undefined) q.set('from', timeParam(query.from))
  if (query.to !== undefined) q.set('to', timeParam(query.to))
  if (query.clock) q.set('clock', query.clock)
  if (query.incidentId) q.set('incidentId', query.incidentId)
  return `/api/v1/export?${q}`
}

/** The file name of a `Content-Disposition: attachment; filename="..."` header. */
export function filenameOf(disposition: string | null, fallback: string): string {
  const match = disposition?.match(/filename="?([^";]+)"?/)
  return match?.[1] ?? fallback
}

/**
 * The highest `"seq":N` in a piece of a JSON export (or, for CSV, the first cell of its last full
 * row). A STIX bundle has no seqs: null (its progress is its bytes, and the head at the end).
 */
export function lastSeqIn(text: string, format: ExportFormat): number | null {
  if (format === 'stix') return null
  if (format === 'json') {
    let last: number | null = null
    for (const match of text.matchAll(/"seq":(\d+)/g)) last = Number(match[1])
    return last
  }
  const rows = text.split('\r\n')
  for (let i = rows.length - 2; i >= 0; i--) {
    const seq = Number(rows[i]!.split(',', 1)[0])
    if (Number.isInteger(seq) && seq > 0) return seq
  }
  return null
}

export interface ExportProgress {
  bytes: number
  /** The last seq seen against the head (`X-Watchfloor-Head`): the share done. */
  seq: number
  head: number
}

/**
 * [M1] A file's name with the marking of what it holds (`X-Watchfloor-Marking`, "TLP:AMBER" or
 * "TLP:AMBER; PAP:GREEN") before its extension: `watchfloor-export-to-seq-9.TLP-AMBER.PAP-GREEN.csv`.
 * A JSON or CSV file carries no banner of its own, so its name does, wherever it is copied.
 */
export function markedFileName(filename: string, marking: string): string {
  const tag = marking
    .split(';')
    .map((part) => part.trim().replace(':', '-'))
    .filter((part) => /^(TLP|PAP)-[A-Z+]+$/.test(part))
    .join('.')
  if (tag === '') return filename
  const dot = filename.indexOf('.', 1)
  return dot < 0 ? `${filename}.${tag}` : `${filename.slice(0, dot)}.${tag}${filename.slice(dot)}`
}

/**
 * Stream an export into a Blob, reporting bytes and seq against the head as it arrives. Its
 * marking [M1] comes with it (`X-Watchfloor-Marking`): an export without one is refused, never saved
 * unmarked.
 */
export async function downloadExport(
  query: ExportQuery,
  onProgress: (progress: ExportProgress) => void,
  fetchFn: Fetch = fetch,
): Promise<{ blob: Blob; filename: string; marking: string; progress: ExportProgress }> {
  const response = await request(exportUrl(query), { accept: '*/*', fetchFn })
  if (!response.body)
    throw new ApiError({ status: response.status, error: { code: 'internal', message: 'empty export' } })
  const marking = response.headers.get('X-Watchfloor-Marking')?.trim() ?? ''
  if (!/^TLP:/.test(marking)) {
    await response.body.cancel().catch(() => {})
    throw new ApiError({
      status: response.status,
      error: { code: 'internal', message: 'the export came without its marking (X-Watchfloor-Marking): not saved' },
    })
  }
  const head = Number(response.headers.get('X-Watchfloor-Head') ?? 0)
  const filename = filenameOf(
    response.headers.get('Content-Disposition'),
    query.format === 'stix' ? 'watchfloor-export.stix.json' : `watchfloor-export.${query.format}`,
  )
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  const chunks: Uint8Array[] = []
  const progress: ExportProgress = { bytes: 0, seq: 0, head }
  let tail = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    progress.bytes += value.byteLength
    tail = (tail + decoder.decode(value, { stream: true })).slice(-4096)
    progress.seq = lastSeqIn(tail, query.format) ?? progress.seq
    onProgress({ ...progress })
  }
  if (head > 0) progress.seq = head
  onProgress({ ...progress })
  return {
    blob: new Blob(chunks as BlobPart[], { type: EXPORT_TYPES[query.format] }),
    filename: markedFileName(filename, marking),
    marking,
    progress,
  }
}

// ---------------------------------------------------------------- bookmarks

export interface BookmarkInput {
  title: string
  note?: string
  clock: ReplayClock
  at?: number
  from?: number
  to?: number
  tlp: Marking['tlp']
}

/** The `bookmark.save` command: the server makes the `bookmark.saved` event for the viewer's organisation. */
export function bookmarkCommand(input: BookmarkInput) {
  const when =
    input.at !== undefined
      ? { at: new Date(input.at).toISOString() }
      : { from: new Date(input.from!).toISOString(), to: new Date(input.to!).toISOString() }
  return {
    type: 'bookmark.save' as const,
    title: input.title,
    ...(input.note ? { note: input.note } : {}),
    clock: input.clock,
    ...when,
    marking: { tlp: input.tlp },
  }
}

export async function postBookmark(input: BookmarkInput, fetchFn: Fetch = fetch): Promise<void> {
  await request('/api/v1/commands', { method: 'POST', json: bookmarkCommand(input), fetchFn })
}

/**
 * The REST calls of replay, export and bookmarks (docs/api.md, "Replay and export"). Headers come
 * from `apiHeaders()` like every REST call of the console (a bearer token, or the session cookie).
 */
import type { ReplayClock, State, StateJson } from '@watchfloor/core'
import type { Marking, StoredEvent } from '@watchfloor/protocol'
import { apiHeaders } from '../../data/session.ts'

export type Fetch = typeof fetch

async function failure(response: Response): Promise<Error> {
  const body = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined
  return new Error(`${response.status}${body?.error?.message ? `: ${body.error.message}` : ''}`)
}

/** The core `State` of a `GET /api/v1/state` answer. */
export function stateFromJson(json: StateJson): State {
  return {
    seq: json.seq,
    eventCount: json.eventCount,
    networks: new Map(json.networks.map((n) => [n.networkId, n])),
    incidents: new Map(json.incidents.map((i) => [i.incidentId, i])),
    advisories: new Map(json.advisories.map((a) => [a.advisoryId, a])),
    tasks: new Map(json.tasks.map((t) => [t.taskId, t])),
    comments: new Map(json.comments.map((c) => [c.commentId, c])),
    bookmarks: new Map((json.bookmarks ?? []).map((b) => [b.bookmarkId, b])),
    recent: json.recent,
  }
}

/** `GET /api/v1/state?at=&clock=`: the viewer's picture at a moment. */
export async function fetchStateAt(atMs: number, clock: ReplayClock, fetchFn: Fetch = fetch): Promise<State> {
  const q = new URLSearchParams({ at: new Date(atMs).toISOString(), clock })
  const response = await fetchFn(`/api/v1/state?${q}`, {
    headers: apiHeaders({ Accept: 'application/json' }),
    credentials: 'same-origin',
  })
  if (!response.ok) throw await failure(response)
  return stateFromJson((await response.json()) as StateJson)
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
    if (query.from !== undefined) q.set('from', new Date(query.from).toISOString())
    if (query.to !== undefined) q.set('to', new Date(query.to).toISOString())
    const response = await fetchFn(`/api/v1/events?${q}`, {
      headers: apiHeaders({ Accept: 'application/json' }),
      credentials: 'same-origin',
      ...(options.signal ? { signal: options.signal } : {}),
    })
    if (!response.ok) throw await failure(response)
    const page = (await response.json()) as { events: StoredEvent[]; next: number; head: number }
    for (const event of page.events) events.push(event)
    onProgress(page.next, page.head, events.length)
    if (page.next >= page.head || page.next <= after) return events
    after = page.next
  }
}

// ---------------------------------------------------------------- export

export interface ExportQuery {
  format: 'json' | 'csv'
  from?: number
  to?: number
  clock?: ReplayClock
  incidentId?: string
}

export function exportUrl(query: ExportQuery): string {
  const q = new URLSearchParams({ format: query.format })
  if (query.from !== undefined) q.set('from', new Date(query.from).toISOString())
  if (query.to !== undefined) q.set('to', new Date(query.to).toISOString())
  if (query.clock) q.set('clock', query.clock)
  if (query.incidentId) q.set('incidentId', query.incidentId)
  return `/api/v1/export?${q}`
}

/** The file name of a `Content-Disposition: attachment; filename="..."` header. */
export function filenameOf(disposition: string | null, fallback: string): string {
  const match = disposition?.match(/filename="?([^";]+)"?/)
  return match?.[1] ?? fallback
}

/** The highest `"seq":N` in a piece of a JSON export (or, for CSV, the first cell of its last full row). */
export function lastSeqIn(text: string, format: 'json' | 'csv'): number | null {
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

/** Stream an export into a Blob, reporting bytes and seq against the head as it arrives. */
export async function downloadExport(
  query: ExportQuery,
  onProgress: (progress: ExportProgress) => void,
  fetchFn: Fetch = fetch,
): Promise<{ blob: Blob; filename: string; progress: ExportProgress }> {
  const response = await fetchFn(exportUrl(query), { headers: apiHeaders(), credentials: 'same-origin' })
  if (!response.ok || !response.body) throw await failure(response)
  const head = Number(response.headers.get('X-Watchfloor-Head') ?? 0)
  const filename = filenameOf(response.headers.get('Content-Disposition'), `watchfloor-export.${query.format}`)
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
  const type = query.format === 'csv' ? 'text/csv' : 'application/json'
  return { blob: new Blob(chunks as BlobPart[], { type }), filename, progress }
}

/** Hand a Blob to the browser as a download. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

// ---------------------------------------------------------------- bookmarks

/** [C16] Anyone but a sensor may save a bookmark (`bookmark.save`); a display token may not. */
export function canBookmark(roles: readonly string[], kind?: string): boolean {
  return kind !== 'display' && roles.some((role) => role !== 'sensor')
}

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
  const response = await fetchFn('/api/v1/commands', {
    method: 'POST',
    headers: apiHeaders({ 'Content-Type': 'application/json', Accept: 'application/json' }),
    credentials: 'same-origin',
    body: JSON.stringify(bookmarkCommand(input)),
  })
  if (!response.ok) throw await failure(response)
}

/**
 * The incident's own history, for its after-action report: the viewer's events about it as the
 * server holds them (`GET /api/v1/export?format=json&incidentId=`, docs/api.md), whatever the
 * console's event window holds. The export answers in one response, streamed, up to the viewer's
 * head when it was asked (`X-Watchfloor-Head`): no paging. It is read with the console's one REST
 * client (data/api.ts `request`: the session's credential, and the audience viewed as, if any).
 */
import type { StoredEvent } from '@watchfloor/protocol'
import { useEffect, useState } from 'react'
import { type Fetch, request } from '../../data/api.ts'
import { mergeBySeq } from '../../data/history.ts'
import { useWatchfloor } from '../../data/store.ts'
import { exportUrl, lastSeqIn } from '../replay/api.ts'

export interface IncidentHistory {
  /** The viewer's events about the incident (core's `incidentOf`), in seq order. */
  events: StoredEvent[]
  /** The viewer's head when it was read: the history is whole up to this seq. */
  head: number
}

/** How far a read has got: the last seq received against the head. */
export interface HistoryProgress {
  seq: number
  head: number
}

/**
 * Read the incident's history. Throws `ApiError` when the server refuses (404: not an incident the
 * viewer may see) or cannot be reached, and an `Error` when the answer is not a whole JSON array of
 * events (an export that failed after its first byte ends early, its array unclosed).
 */
export async function fetchIncidentHistory(
  incidentId: string,
  options: { fetchFn?: Fetch; signal?: AbortSignal; onProgress?: (progress: HistoryProgress) => void } = {},
): Promise<IncidentHistory> {
  const response = await request(exportUrl({ format: 'json', incidentId }), {
    accept: 'application/json',
    ...(options.fetchFn ? { fetchFn: options.fetchFn } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  const head = Number(response.headers.get('X-Watchfloor-Head') ?? Number.NaN)
  let text = ''
  if (response.body) {
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    const progress: HistoryProgress = { seq: 0, head: Number.isFinite(head) ? head : 0 }
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      const piece = decoder.decode(value, { stream: true })
      text += piece
      progress.seq = lastSeqIn(text.slice(-(piece.length + 64)), 'json') ?? progress.seq
      options.onProgress?.({ ...progress })
    }
    text += decoder.decode()
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new Error('the history arrived incomplete (the export ended early)')
  }
  if (!Array.isArray(body) || !body.every(isEvent)) throw new Error('the history is not a list of events')
  const events = body as StoredEvent[]
  for (let i = 1; i < events.length; i++)
    if (events[i]!.seq <= events[i - 1]!.seq) throw new Error('the history is not in seq order')
  const last = events.at(-1)?.seq ?? 0
  return { events, head: Number.isFinite(head) ? Math.max(head, last) : last }
}

function isEvent(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const event = value as Partial<StoredEvent>
  return (
    Number.isInteger(event.seq) &&
    typeof event.type === 'string' &&
    typeof event.occurredAt === 'string' &&
    typeof event.payload === 'object' &&
    event.payload !== null &&
    typeof event.marking === 'object' &&
    event.marking !== null
  )
}

/**
 * The events a report is built from: the incident's history and the console's window (what arrived
 * since the history was read, and anything else it holds), both in seq order, each seq once.
 */
export function withHistory(history: readonly StoredEvent[], window: readonly StoredEvent[]): readonly StoredEvent[] {
  return mergeBySeq(history, window) ?? window
}

/** Where the read of an incident's history is. */
export type HistoryRead =
  | { state: 'loading'; progress: HistoryProgress | null }
  | { state: 'loaded'; history: IncidentHistory }
  | { state: 'failed'; message: string }

/**
 * The incident's history, read when the report opens (again for another incident or audience,
 * and on `retry`). A read no longer wanted is aborted.
 */
export function useIncidentHistory(incidentId: string): { read: HistoryRead; retry: () => void } {
  // who reads: the same credential, viewing as an audience or not (the report remounts on a change too)
  const viewer = useWatchfloor((s) => {
    const viewingAs = s.session?.viewingAs
    return viewingAs ? `${viewingAs.kind}:${viewingAs.id}` : 'self'
  })
  const [attempt, setAttempt] = useState(0)
  const [read, setRead] = useState<HistoryRead>({ state: 'loading', progress: null })
  // biome-ignore lint/correctness/useExhaustiveDependencies: the viewer and the attempt say when to read again
  useEffect(() => {
    const controller = new AbortController()
    setRead({ state: 'loading', progress: null })
    fetchIncidentHistory(incidentId, {
      signal: controller.signal,
      onProgress: (progress) => {
        if (!controller.signal.aborted) setRead({ state: 'loading', progress })
      },
    }).then(
      (history) => {
        if (!controller.signal.aborted) setRead({ state: 'loaded', history })
      },
      (error: unknown) => {
        if (!controller.signal.aborted)
          setRead({ state: 'failed', message: error instanceof Error ? error.message : String(error) })
      },
    )
    return () => controller.abort()
  }, [incidentId, viewer, attempt])
  return { read, retry: () => setAttempt((n) => n + 1) }
}

import { canSee } from '@watchfloor/core'
import type { StoredEvent, Viewer } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import type { Response } from 'express'
import type { Logger } from 'pino'
import type { QueryReader } from '../http/query.ts'
import { inWindow, readWindow, readWindowPage } from './window.ts'

export const EXPORT_FORMATS = ['json', 'csv'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** Log events read per page; each page's rows go out as one write. */
const PAGE = 1000

export const CSV_COLUMNS = [
  'seq',
  'id',
  'type',
  'occurredAt',
  'recordedAt',
  'sourceOrganisation',
  'sourceNetwork',
  'actor',
  'tlp',
  'releasableTo',
  'recipients',
  'incidentId',
  'summary',
  'payload',
] as const

class Aborted extends Error {}

/**
 * GET /api/v1/export: the caller's visible events of a window (or of one
 * incident), streamed as a JSON array or CSV. The log is read page by page up
 * to the head at the start of the request (sent as `X-Watchfloor-Head`), and
 * each page is written before the next is read, waiting for 'drain' when the
 * client reads slower than the store.
 */
export async function exportEvents(
  store: EventStore,
  viewer: Viewer,
  query: QueryReader,
  res: Response,
  logger: Logger,
): Promise<void> {
  const format = query.oneOf('format', EXPORT_FORMATS, 'json')
  const window = readWindow(query)
  const incidentId = query.text('incidentId')
  query.done()

  const head = await store.head()
  const subject = incidentId === undefined ? 'events' : `incident-${incidentId.replace(/[^A-Za-z0-9._-]+/g, '_')}`
  res.status(200)
  res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
  res.setHeader('Content-Disposition', `attachment; filename="watchfloor-${subject}-to-seq-${head}.${format}"`)
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('X-Watchfloor-Head', String(head))

  const writer = format === 'csv' ? csvWriter() : jsonWriter()
  const wanted = (event: StoredEvent) =>
    canSee(viewer, event) && inWindow(event, window) && (incidentId === undefined || incidentOf(event) === incidentId)
  try {
    await send(res, writer.start)
    let cursor = 0
    let done = false
    while (!done && cursor < head) {
      const want = Math.min(PAGE, head - cursor)
      const page = await readWindowPage(store, window, cursor, want)
      let chunk = ''
      for (const event of page) {
        if (event.seq > head) {
          done = true // appended after the request arrived
          break
        }
        cursor = event.seq
        if (wanted(event)) chunk += writer.row(event)
      }
      if (chunk) await send(res, chunk)
      if (page.length < want) done = true
    }
    await send(res, writer.end)
    res.end()
  } catch (error) {
    if (error instanceof Aborted) return // the client went away
    logger.error({ err: error }, 'export failed')
    res.destroy(error as Error) // the headers are out: end the response so the client sees it incomplete
  }
}

/** The incident an event is about, for any event type with `payload.incidentId` (tasks and comments included). */
export function incidentOf(event: StoredEvent): string | undefined {
  const value = (event.payload as { incidentId?: unknown }).incidentId
  return typeof value === 'string' ? value : undefined
}

async function send(res: Response, chunk: string): Promise<void> {
  if (res.destroyed || res.writableEnded) throw new Aborted()
  if (res.write(chunk)) return
  await new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      res.off('close', onClose)
      resolve()
    }
    const onClose = () => {
      res.off('drain', onDrain)
      reject(new Aborted())
    }
    res.once('drain', onDrain)
    res.once('close', onClose)
  })
}

interface Writer {
  start: string
  row(event: StoredEvent): string
  end: string
}

/** A JSON array of envelopes, one per line. */
function jsonWriter(): Writer {
  let first = true
  return {
    start: '[\n',
    row(event) {
      const text = JSON.stringify(event)
      if (first) {
        first = false
        return text
      }
      return `,\n${text}`
    },
    end: '\n]\n',
  }
}

/** RFC 4180 CSV (CRLF line ends), a header row, one row per event. */
function csvWriter(): Writer {
  return {
    start: `${CSV_COLUMNS.join(',')}\r\n`,
    row: (event) => `${csvRow(event).map(csvCell).join(',')}\r\n`,
    end: '',
  }
}

export function csvRow(event: StoredEvent): (string | number)[] {
  return [
    event.seq,
    event.id,
    event.type,
    event.occurredAt,
    event.recordedAt,
    event.source.organisation,
    event.source.network ?? '',
    event.actor?.user ?? '',
    event.marking.tlp,
    event.marking.releasableTo?.join(';') ?? '',
    event.marking.recipients?.join(';') ?? '',
    incidentOf(event) ?? '',
    summaryOf(event),
    JSON.stringify(event.payload),
  ]
}

/**
 * One CSV cell: text that a spreadsheet would run as a formula (starting with
 * = + - @, tab or carriage return) gets a leading apostrophe; a cell with a
 * comma, quote or line break is quoted, quotes doubled.
 */
export function csvCell(value: string | number): string {
  let text = String(value)
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** A short human line per event for the CSV; the payload column has everything. */
export function summaryOf(event: StoredEvent): string {
  const p = event.payload as Record<string, unknown>
  const text = (key: string) => (typeof p[key] === 'string' ? (p[key] as string) : undefined)
  switch (event.type) {
    case 'network.registered':
      return `${text('name') ?? ''} registered`
    case 'network.posture_changed':
      return `${text('networkId') ?? ''} posture ${text('posture') ?? ''}${text('reason') ? `: ${text('reason')}` : ''}`
    case 'incident.reported':
      return `${text('title') ?? ''} (${text('severity') ?? ''})`
    case 'incident.observation':
      return [text('indicator'), typeof p.count === 'number' ? `count ${p.count}` : undefined]
        .filter(Boolean)
        .join(', ')
    case 'advisory.published':
      return text('title') ?? ''
    default: {
      // any other type: its changed fields, e.g. "status closed, severity high"
      const parts: string[] = []
      for (const key of ['title', 'status', 'severity', 'state', 'relation', 'assignee', 'reason', 'note', 'body']) {
        const value = p[key]
        if (typeof value === 'string') parts.push(`${key} ${value}`)
      }
      return parts.join(', ').slice(0, 500)
    }
  }
}

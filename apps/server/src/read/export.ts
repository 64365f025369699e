import { canSee, incidentOf, summarise, type TaskIndex } from '@watchfloor/core'
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
  // appended last, so columns read by position keep their place
  'pap',
] as const

class Aborted extends Error {}

/**
 * GET /api/v1/export: the caller's visible events of a window (or of one
 * incident), streamed as a JSON array or CSV. The log is read page by page up
 * to the caller's head at the start of the request [D14] (the last event it may
 * see, sent as `X-Watchfloor-Head`), and
 * each page is written before the next is read, waiting for 'drain' when the
 * client reads slower than the store.
 */
export async function exportEvents(
  store: EventStore,
  viewer: Viewer,
  query: QueryReader,
  res: Response,
  logger: Logger,
  /** Where task events find their incident: the viewer's own picture. */
  tasks: TaskIndex,
  /** The viewer's head [D14]: the seq of the last event it may see, as of that picture. */
  head: number,
): Promise<void> {
  const format = query.oneOf('format', EXPORT_FORMATS, 'json')
  const window = readWindow(query)
  const incidentId = query.text('incidentId')
  query.done()

  const subject = incidentId === undefined ? 'events' : `incident-${incidentId.replace(/[^A-Za-z0-9._-]+/g, '_')}`
  res.status(200)
  res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
  res.setHeader('Content-Disposition', `attachment; filename="watchfloor-${subject}-to-seq-${head}.${format}"`)
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('X-Watchfloor-Head', String(head))

  const writer = format === 'csv' ? csvWriter(tasks) : jsonWriter()
  const wanted = (event: StoredEvent) =>
    canSee(viewer, event) &&
    inWindow(event, window) &&
    (incidentId === undefined || incidentOf(event, tasks) === incidentId)
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
function csvWriter(tasks: TaskIndex): Writer {
  return {
    start: `${CSV_COLUMNS.join(',')}\r\n`,
    row: (event) => `${csvRow(event, tasks).map(csvCell).join(',')}\r\n`,
    end: '',
  }
}

export function csvRow(event: StoredEvent, tasks?: TaskIndex): (string | number)[] {
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
    incidentOf(event, tasks) ?? '',
    summarise(event),
    JSON.stringify(event.payload),
    event.marking.pap ?? '',
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

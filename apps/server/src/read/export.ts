import { randomUUID } from 'node:crypto'
import {
  canSee,
  type DocumentMarking,
  documentMarking,
  incidentOf,
  type State,
  summarise,
  type TaskIndex,
} from '@watchfloor/core'
import { type Marking, type StoredEvent, type Viewer, WatchfloorError } from '@watchfloor/protocol'
import { exportMarkedMispEvent, type OrganisationDirectory, StixExport } from '@watchfloor/sharing'
import type { EventStore } from '@watchfloor/store'
import type { Response } from 'express'
import type { Logger } from 'pino'
import type { QueryReader } from '../http/query.ts'
import { catchUp } from './projection.ts'
import { inWindow, readWindow, readWindowPage } from './window.ts'

export const EXPORT_FORMATS = ['json', 'csv', 'stix', 'misp'] as const

/** The STIX 2.1 media type (TAXII 2.1 and the STIX specification). */
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1'

const CONTENT_TYPES: Record<ExportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  stix: STIX_MEDIA_TYPE,
  misp: 'application/json; charset=utf-8',
}
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

/** [M1] The export's own marking (the strictest TLP and PAP of what it holds), as its banner reads [M2]. */
export const MARKING_HEADER = 'X-Watchfloor-Marking'

/** The header's value, plain ASCII: `TLP:AMBER`, or `TLP:AMBER; PAP:GREEN`. */
export function markingHeader(marking: DocumentMarking): string {
  return marking.pap === undefined ? `TLP:${marking.tlp}` : `TLP:${marking.tlp}; PAP:${marking.pap}`
}

/**
 * GET /api/v1/export: the caller's visible events of a window (or of one
 * incident), streamed as a JSON array, CSV, or a STIX 2.1 bundle (the objects those events
 * make, with the marking definitions and identities they refer to). The log is read page by page up
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
  /** The viewer's own picture: where task events find their incident, and what STIX objects say. */
  picture: State,
  /** The viewer's head [D14]: the seq of the last event it may see, as of that picture. */
  head: number,
  /** Organisation names for STIX identities. */
  directory?: OrganisationDirectory,
): Promise<void> {
  const tasks: TaskIndex = picture
  const format = query.oneOf('format', EXPORT_FORMATS, 'json')
  const window = readWindow(query)
  const incidentId = query.text('incidentId')
  query.done()
  if (format === 'misp' && incidentId === undefined)
    throw new WatchfloorError('validation', 'format=misp exports one incident: give incidentId', {
      issues: [{ path: 'incidentId', message: 'required with format=misp' }],
    })
  // one incident, in any format: one the caller may not see is missing like one that does not exist
  // (the same 404, before the first byte), never an empty file that would say the id is wrong or hidden
  if (incidentId !== undefined && !picture.incidents.has(incidentId))
    throw new WatchfloorError('not_found', `no incident ${incidentId}`)

  if (format === 'misp' && incidentId !== undefined) {
    // one incident as a MISP event: answered whole, so every refusal comes before the first byte
    const events: StoredEvent[] = []
    await catchUp(
      store,
      0,
      (page) => {
        for (const event of page)
          if (event.seq <= head && canSee(viewer, event) && incidentOf(event, tasks) === incidentId) events.push(event)
      },
      { yieldBetweenPages: true, upTo: head },
    )
    // [M1] marked by what the document holds: the event and its attributes, not what it leaves out
    const { document, markings } = exportMarkedMispEvent(incidentId, events, picture, directory)
    res.setHeader(MARKING_HEADER, markingHeader(documentMarking(markings)))
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="watchfloor-incident-${safe(incidentId)}-to-seq-${head}.misp.json"`,
    )
    res.setHeader('X-Watchfloor-Head', String(head))
    res.json(document)
    return
  }

  const wanted = (event: StoredEvent) =>
    canSee(viewer, event) &&
    inWindow(event, window) &&
    (incidentId === undefined || incidentOf(event, tasks) === incidentId)
  /** Every wanted event up to the head, page by page, in seq order. */
  const scan = async (each: (page: StoredEvent[]) => Promise<void> | void) => {
    let cursor = 0
    let done = false
    while (!done && cursor < head) {
      const want = Math.min(PAGE, head - cursor)
      const page = await readWindowPage(store, window, cursor, want)
      const kept: StoredEvent[] = []
      for (const event of page) {
        if (event.seq > head) {
          done = true // appended after the request arrived
          break
        }
        cursor = event.seq
        if (wanted(event)) kept.push(event)
      }
      await each(kept)
      if (page.length < want) done = true
    }
  }
  // STIX of a window or of one incident: only what those events make; of the whole log: the whole picture
  const narrowed = Number.isFinite(window.fromMs) || Number.isFinite(window.toMs) || incidentId !== undefined
  const scope = narrowed ? 'events' : 'picture'
  const stix = format === 'stix' ? new StixExport({ directory, scope }) : undefined
  /**
   * The STIX export done once without sending, for the markings its objects carry: the header's.
   * Events that make no object (a task, a comment) carry nothing into the bundle, so their markings
   * do not count (a RED comment does not make a bundle of GREEN objects RED).
   */
  let dry = stix ? new StixExport({ directory, scope }) : undefined
  if (stix && dry && narrowed) {
    // its incidents and networks are written as the picture holds them: every visible event that
    // shaped them counts in their markings, in the window or not
    // (a turn of the event loop between pages: a long log must not hold live delivery meanwhile)
    await catchUp(
      store,
      0,
      (page) => {
        const visible = page.filter((event) => event.seq <= head && canSee(viewer, event))
        stix.shapeFrom(visible)
        dry?.shapeFrom(visible)
      },
      { yieldBetweenPages: true, upTo: head },
    )
  }
  // [M1] the export's own marking goes in a header, before the first byte: a first pass reads the
  // markings only, of the events it holds (JSON, CSV) or of the objects it makes (STIX)
  let marking: DocumentMarking = documentMarking([])
  /**
   * The seq in the file's name. JSON and CSV: the last event the file holds (0: none), so the same
   * window twice has the same name, and the name says nothing the file does not. STIX (and MISP,
   * above): the caller's head, as a bundle leaves out events that make no object (a task, a comment),
   * and naming the last event seen would tell of one it leaves out.
   */
  let last = 0
  await scan((page) => {
    last = page.at(-1)?.seq ?? last
    if (dry) dry.add(page)
    else marking = documentMarking([marking, ...page.map((event): Marking => event.marking)])
  })
  if (dry) {
    dry.finish(picture)
    marking = documentMarking(dry.markings())
    dry = undefined // its objects' ids (observables of the whole log) are not kept while the bundle is sent
  }

  const subject = incidentId === undefined ? 'events' : `incident-${safe(incidentId)}`
  res.status(200)
  res.setHeader('Content-Type', CONTENT_TYPES[format])
  const extension = format === 'stix' ? 'stix.json' : format
  const named = stix ? head : last
  res.setHeader('Content-Disposition', `attachment; filename="watchfloor-${subject}-to-seq-${named}.${extension}"`)
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('X-Watchfloor-Head', String(head))
  res.setHeader(MARKING_HEADER, markingHeader(marking))

  const writer = format === 'csv' ? csvWriter(tasks) : stix ? stixWriter(picture, stix) : jsonWriter()
  try {
    await send(res, writer.start)
    await scan(async (page) => {
      let chunk = ''
      for (const event of page) chunk += writer.row(event)
      if (chunk) await send(res, chunk)
    })
    await send(res, writer.end())
    res.end()
  } catch (error) {
    if (error instanceof Aborted) return // the client went away
    logger.error({ err: error }, 'export failed')
    res.destroy(error as Error) // the headers are out: end the response so the client sees it incomplete
  }
}

/** An id as a file name may hold it. */
function safe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_')
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
  end(): string
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
    end: () => '\n]\n',
  }
}

/**
 * A STIX 2.1 bundle, streamed: each page's events become the objects they complete (observations
 * and what they refer to), and the incidents, advisories, networks and relationships come at the
 * end from the caller's picture. One object per line.
 */
function stixWriter(picture: State, exporter: StixExport): Writer {
  let first = true
  const objects = (list: readonly unknown[]) => {
    let text = ''
    for (const object of list) {
      text += `${first ? '' : ',\n'}${JSON.stringify(object)}`
      first = false
    }
    return text
  }
  return {
    start: `{"type":"bundle","id":"bundle--${randomUUID()}","objects":[\n`,
    row: (event) => objects(exporter.add([event])),
    end: () => `${objects(exporter.finish(picture))}\n]}\n`,
  }
}

/** RFC 4180 CSV (CRLF line ends), a header row, one row per event. */
function csvWriter(tasks: TaskIndex): Writer {
  return {
    start: `${CSV_COLUMNS.join(',')}\r\n`,
    row: (event) => `${csvRow(event, tasks).map(csvCell).join(',')}\r\n`,
    end: () => '',
  }
}

/** A time as UTC ISO 8601 (`…Z`), so a sheet sorts it as text; as given when it cannot be read. */
function utc(time: string): string {
  const ms = Date.parse(time)
  return Number.isNaN(ms) ? time : new Date(ms).toISOString()
}

export function csvRow(event: StoredEvent, tasks?: TaskIndex): (string | number)[] {
  return [
    event.seq,
    event.id,
    event.type,
    // as the sender gave it, with its offset, in the JSON export; in UTC here, like recordedAt
    utc(event.occurredAt),
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

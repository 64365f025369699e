import { HandoverBuilder, handoverMarkdown } from '@watchfloor/core'
import { MAX_TIMESTAMP, MIN_TIMESTAMP, type Viewer } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import express, { type Request } from 'express'
import { QueryReader } from '../http/query.ts'
import { MARKING_HEADER, markingHeader } from './export.ts'
import type { Replay } from './projection.ts'
import { storeTime } from './window.ts'

/** The default window when `since` is not given: one 12-hour shift before `until`. */
export const DEFAULT_SHIFT_MS = 12 * 3600 * 1000
/** The longest window a brief covers. */
export const MAX_WINDOW_MS = 31 * 24 * 3600 * 1000

export interface HandoverDeps {
  store: EventStore
  /** The viewer's picture at `since` comes from the replay snapshots. */
  replay: Replay
  viewerFor: (req: Request) => Viewer
  /** Events per store read. Default 5,000. */
  pageSize?: number
}

/**
 * `GET /api/v1/handover?since=ISO&until=ISO`: the shift-handover brief of the
 * caller, as JSON or (`Accept: text/markdown`, or `format=markdown`) a printable
 * Markdown document. Built from the caller's picture at `since` and the events
 * recorded in [`since`, `until`), every one through `canSee`.
 */
export function handoverRouter({ store, replay, viewerFor, pageSize = 5000 }: HandoverDeps): express.Router {
  const router = express.Router()
  router.get('/handover', async (req, res) => {
    const { since, until, markdown } = readQuery(req)
    const viewer = viewerFor(req)
    // in the stores' range (PostgreSQL has no year 0), as every time read from a query is
    const sinceIso = storeTime(since)
    const untilIso = storeTime(until)
    // the picture before the window: events recorded at or before since - 1 ms (times are to the millisecond)
    const before = await replay.stateAt(viewer, 'recorded', since - 1)
    const builder = new HandoverBuilder(before, { viewer, since: sinceIso, until: untilIso })
    let after = before.seq
    for (;;) {
      const page = await store.readRecordedRange(sinceIso, untilIso, after, pageSize)
      if (page.length === 0) break
      builder.add(page) // canSee on every event, in the builder
      after = page.at(-1)!.seq
      if (page.length < pageSize) break
    }
    const brief = builder.finish()
    res.setHeader('Cache-Control', 'no-store')
    res.setHeader('Vary', 'Accept')
    // [M1] its own marking, as an export's: what a client saving the Markdown names the file by
    res.setHeader(MARKING_HEADER, markingHeader(brief.marking))
    if (markdown) res.type('text/markdown; charset=utf-8').send(handoverMarkdown(brief))
    else res.json(brief)
  })
  return router
}

const MIN_MS = Date.parse(MIN_TIMESTAMP)
const MAX_MS = Date.parse(MAX_TIMESTAMP)
const RANGE = `expected a time from ${MIN_TIMESTAMP} to ${MAX_TIMESTAMP}`
const outOfRange = (ms: number) => ms < MIN_MS || ms > MAX_MS

function readQuery(req: Request): { since: number; until: number; markdown: boolean } {
  const query = new QueryReader(req)
  const untilGiven = query.time('until')
  const sinceGiven = query.time('since')
  const format = query.oneOf('format', ['json', 'markdown'] as const, 'json')
  // a time given must be one the log may hold; the default `since` is cut to the earliest there is
  if (untilGiven !== undefined && outOfRange(untilGiven)) query.fail('until', RANGE)
  if (sinceGiven !== undefined && outOfRange(sinceGiven)) query.fail('since', RANGE)
  const until = untilGiven ?? Date.now()
  const since = sinceGiven ?? Math.max(until - DEFAULT_SHIFT_MS, MIN_MS)
  if (query.issues.length === 0) {
    if (since >= until) query.fail('until', '`until` must be after `since`')
    else if (until - since > MAX_WINDOW_MS) query.fail('since', 'the window may be at most 31 days')
  }
  query.done()
  const markdown =
    format === 'markdown' ||
    (!query.has('format') && req.accepts(['application/json', 'text/markdown']) === 'text/markdown')
  return { since, until, markdown }
}

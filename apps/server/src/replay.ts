import {
  canSee,
  eventTime,
  REPLAY_CLOCKS,
  type ReplayClock,
  SnapshotIndex,
  type SnapshotIndexOptions,
  type State,
  stateToJson,
} from '@watchfloor/core'
import { type FieldIssue, type StoredEvent, type Viewer, WatchfloorError } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import express, { type Request } from 'express'
import type { Logger } from 'pino'
import { z } from 'zod'
import { exportEvents } from './export.ts'
import type { EventPage } from './reads.ts'

export interface ReplayOptions extends SnapshotIndexOptions {
  /** Snapshot indexes kept (one per viewer: organisation, nation, user, TLP ceiling); least recently used dropped. Default 8. */
  maxAudiences?: number
  /** Events per store read while building or seeking. Default 5,000. */
  pageSize?: number
}

/** The bounds of a store time range (PostgreSQL has no year 0): earlier and later times are clamped to them. */
export const MIN_TIME = '0001-01-01T00:00:00.000Z'
export const MAX_TIME = '9999-12-31T23:59:59.999Z'
const MIN_MS = Date.parse(MIN_TIME)
const MAX_MS = Date.parse(MAX_TIME)
/** A time as a store bound, clamped to [MIN_TIME, MAX_TIME]. */
const storeTime = (ms: number) => new Date(Math.min(MAX_MS, Math.max(MIN_MS, ms))).toISOString()

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Replay for the server: per viewer (organisation, nation, user and TLP ceiling,
 * as StateCache keys its states, so RED stays per user) a `SnapshotIndex` built lazily on the
 * first replay request by paging through the store, extended on later requests
 * as the log grows, and dropped least recently used. A seek folds from the
 * nearest snapshot, reading only the events the plan names.
 */
export class Replay {
  private readonly indexes = new Map<string, SnapshotIndex>()
  private readonly pending = new Map<string, Promise<SnapshotIndex>>()
  private readonly maxAudiences: number
  private readonly pageSize: number

  constructor(
    private readonly store: EventStore,
    private readonly options: ReplayOptions = {},
  ) {
    this.maxAudiences = Math.max(1, options.maxAudiences ?? 8)
    this.pageSize = Math.max(1, options.pageSize ?? 5000)
  }

  /** The viewer's picture at `atMs` on `clock` [P1]. */
  async stateAt(viewer: Viewer, clock: ReplayClock, atMs: number): Promise<State> {
    const index = await this.indexFor(viewer)
    const plan = index.plan(clock, atMs)
    const events: StoredEvent[] = []
    for (const [after, through] of plan.ranges) {
      let cursor = after
      while (cursor < through) {
        const want = Math.min(this.pageSize, through - cursor)
        const page =
          clock === 'recorded'
            ? await this.store.readRecordedRange(MIN_TIME, upperBound(atMs), cursor, want)
            : await this.store.readAfter(cursor, want)
        if (page.length === 0) break
        for (const event of page) if (event.seq <= through) events.push(event)
        cursor = page.at(-1)!.seq
        if (page.length < want) break
      }
    }
    return index.finish(plan, events)
  }

  /** Audiences with an index now (for diagnostics and tests). */
  get audiences(): number {
    return this.indexes.size
  }

  /** The viewer's index, built or brought up to the head of the log. */
  private indexFor(viewer: Viewer): Promise<SnapshotIndex> {
    const key = audienceOf(viewer)
    const running = this.pending.get(key)
    if (running) return running
    const work = this.catchUp(key, viewer).finally(() => this.pending.delete(key))
    this.pending.set(key, work)
    return work
  }

  private async catchUp(key: string, viewer: Viewer): Promise<SnapshotIndex> {
    let index = this.indexes.get(key)
    if (!index) index = new SnapshotIndex((event) => canSee(viewer, event), this.options)
    for (;;) {
      const page = await this.store.readAfter(index.position, this.pageSize)
      if (page.length === 0) break
      index.extend(page)
      if (page.length < this.pageSize) break
      await yieldToIo() // a long build must not hold up other requests
    }
    this.indexes.delete(key)
    this.indexes.set(key, index)
    while (this.indexes.size > this.maxAudiences) this.indexes.delete(this.indexes.keys().next().value!)
    return index
  }
}

/**
 * The index key: everything about the viewer (organisation, nation, user, TLP
 * ceiling, roles), so two viewers share snapshots only when `canSee` cannot tell
 * them apart [P3].
 */
export function audienceOf(viewer: Viewer): string {
  return JSON.stringify(Object.entries(viewer).sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** The exclusive store bound for "recorded at or before atMs" (recordedAt has millisecond precision). */
function upperBound(atMs: number): string {
  return storeTime(atMs + 1)
}

// ---- query parameters ----

const isoTime = z.iso.datetime({ offset: true })

/** Collects every bad parameter of a request, then throws one `validation` error naming them all. */
export class QueryReader {
  readonly issues: FieldIssue[] = []
  constructor(private readonly req: Request) {}

  private single(name: string): string | undefined {
    const raw = this.req.query[name]
    if (raw === undefined) return undefined
    if (typeof raw !== 'string') {
      this.issues.push({ path: name, message: 'expected a single value' })
      return undefined
    }
    return raw
  }

  has(name: string): boolean {
    return this.req.query[name] !== undefined
  }

  /** An ISO 8601 date-time with offset, as epoch ms. */
  time(name: string): number | undefined {
    const raw = this.single(name)
    if (raw === undefined) return undefined
    if (!isoTime.safeParse(raw).success || Number.isNaN(Date.parse(raw))) {
      this.issues.push({ path: name, message: 'expected an ISO 8601 date-time, e.g. 2026-11-26T08:00:00Z' })
      return undefined
    }
    return Date.parse(raw)
  }

  oneOf<T extends string>(name: string, options: readonly T[], fallback: T): T {
    const raw = this.single(name)
    if (raw === undefined) return fallback
    if (!(options as readonly string[]).includes(raw)) {
      this.issues.push({ path: name, message: `expected one of ${options.join(', ')}` })
      return fallback
    }
    return raw as T
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.single(name)
    if (raw === undefined) return fallback
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      this.issues.push({ path: name, message: `expected a whole number from ${min} to ${max}` })
      return fallback
    }
    return value
  }

  text(name: string, max = 200): string | undefined {
    const raw = this.single(name)
    if (raw === undefined) return undefined
    if (raw.trim().length === 0 || raw.length > max) {
      this.issues.push({ path: name, message: `expected 1 to ${max} characters` })
      return undefined
    }
    return raw
  }

  fail(path: string, message: string): void {
    this.issues.push({ path, message })
  }

  /** Throw a `validation` error when any parameter was bad. */
  done(): void {
    if (this.issues.length === 0) return
    throw new WatchfloorError(
      'validation',
      `bad query: ${this.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      { issues: this.issues },
    )
  }
}

/** A half-open window `[fromMs, toMs)` on one clock; open ends are infinite. */
export interface Window {
  clock: ReplayClock
  fromMs: number
  toMs: number
}

export function readWindow(query: QueryReader): Window {
  const clock = query.oneOf('clock', REPLAY_CLOCKS, 'recorded')
  const fromMs = query.time('from') ?? Number.NEGATIVE_INFINITY
  const toMs = query.time('to') ?? Number.POSITIVE_INFINITY
  if (fromMs >= toMs) query.fail('to', 'expected a time after from')
  return { clock, fromMs, toMs }
}

export function inWindow(event: StoredEvent, window: Window): boolean {
  const time = eventTime(event, window.clock)
  return time >= window.fromMs && time < window.toMs
}

/**
 * One page of a window of the log, in seq order, after `cursor`, at most `want`:
 * on the recorded clock through the store's recorded range (a seq range, as
 * recordedAt follows seq [L5]); on the occurred clock the log itself, so the
 * caller still filters by `inWindow` (and always by visibility).
 */
export function readWindowPage(
  store: EventStore,
  window: Window,
  cursor: number,
  want: number,
): Promise<StoredEvent[]> {
  if (window.clock === 'occurred') return store.readAfter(cursor, want)
  const from = Number.isFinite(window.fromMs) ? storeTime(window.fromMs) : MIN_TIME
  const to = Number.isFinite(window.toMs) ? storeTime(window.toMs) : MAX_TIME
  return store.readRecordedRange(from, to, cursor, want)
}

/**
 * The caller's events in a window, in seq order, at most `limit`, scanning at
 * most `scanLimit` log events per call. `next` is the seq to continue after;
 * once the window is exhausted it is the head of the log.
 */
export async function readVisibleWindow(
  store: EventStore,
  viewer: Viewer,
  window: Window,
  after: number,
  limit: number,
  scanLimit = 20_000,
): Promise<EventPage> {
  const head = await store.head()
  const events: StoredEvent[] = []
  let cursor = after
  let scanned = 0
  let exhausted = false
  while (events.length < limit && scanned < scanLimit) {
    const want = Math.min(1000, scanLimit - scanned)
    const page = await readWindowPage(store, window, cursor, want)
    let consumed = 0
    for (const event of page) {
      cursor = event.seq
      scanned++
      consumed++
      if (canSee(viewer, event) && inWindow(event, window)) {
        events.push(event)
        if (events.length === limit) break
      }
    }
    if (page.length < want && consumed === page.length) {
      exhausted = true
      break
    }
  }
  const top = Math.max(head, cursor)
  return { events, next: exhausted ? top : cursor, head: top }
}

// ---- routes ----

export interface ReplayRouterDeps {
  store: EventStore
  replay: Replay
  logger: Logger
  /** The authenticated caller of a request as a viewer (throws `unauthenticated` without one). */
  viewerFor: (req: Request) => Viewer
}

/**
 * GET /state?at=, GET /events?from=&to=&clock= and GET /export. Mount before
 * the plain /state and /events routes: requests without replay parameters fall
 * through to them unchanged.
 */
export function createReplayRouter({ store, replay, logger, viewerFor }: ReplayRouterDeps): express.Router {
  const router = express.Router()

  router.get('/state', async (req, res, next) => {
    if (req.query.at === undefined) return next()
    const viewer = viewerFor(req)
    const query = new QueryReader(req)
    const at = query.time('at')
    const clock = query.oneOf('clock', REPLAY_CLOCKS, 'recorded')
    query.done()
    const state = await replay.stateAt(viewer, clock, at!)
    res.json(stateToJson(state))
  })

  router.get('/events', async (req, res, next) => {
    if (req.query.from === undefined && req.query.to === undefined && req.query.clock === undefined) return next()
    const viewer = viewerFor(req)
    const query = new QueryReader(req)
    const window = readWindow(query)
    const after = query.int('after', 0, 0, Number.MAX_SAFE_INTEGER)
    const limit = query.int('limit', 500, 1, 5000)
    query.done()
    res.json(await readVisibleWindow(store, viewer, window, after, limit))
  })

  router.get('/export', async (req, res) => {
    const viewer = viewerFor(req)
    await exportEvents(store, viewer, new QueryReader(req), res, logger)
  })

  return router
}

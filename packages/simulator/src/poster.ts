import { setTimeout as sleep } from 'node:timers/promises'
import { type EventInput, MAX_EVENTS_PER_POST } from '@watchfloor/protocol'
import type { Seed } from './random.ts'
import { createScenario, type ScenarioName, type TimedEvent } from './scenario.ts'

export interface SimulatorLogger {
  info(message: string): void
  warn(message: string): void
}

/** A batch the server refused with a 4xx: reported, then skipped. */
export class BatchRejectedError extends Error {
  override readonly name = 'BatchRejectedError'
  constructor(
    readonly status: number,
    readonly body: string,
    readonly events: readonly EventInput[],
  ) {
    super(`server rejected a batch of ${events.length} events with HTTP ${status}: ${body.slice(0, 500)}`)
  }
}

export interface SimulatorProgress {
  /** Events in the batch just posted. */
  count: number
  /** Events posted so far. */
  posted: number
  /** Batches posted so far. */
  batches: number
  /** Scenario time (ms after start) of the last event posted. */
  scenarioMs: number
}

export interface SimulatorOptions {
  /** Base URL of the Watchfloor server, e.g. 'http://127.0.0.1:8080'. */
  url: string
  /** Bearer token of a sender allowed to post events. */
  token: string
  seed: Seed
  /** Scenario time runs this many times faster than wall time; Infinity posts as fast as the server takes it. */
  speed: number
  /** Background observations per second of scenario time. */
  rate: number
  /** Stops the simulator when aborted. */
  signal: AbortSignal
  /** Scenario time zero (default: now, when the simulator starts). */
  startTime?: number | string | Date
  /** What ids are drawn with (`ScenarioOptions.idSalt`; default `startTime`): the run this one continues. */
  idSalt?: number
  /**
   * Continue an earlier run of the same story (with its `idSalt`): the scenario is played through
   * the last event that run posted (`id`), looked for up to a little past the scenario times it may
   * have had (`near`, ms: one per time base it may have been posted on, the likeliest first), and
   * what comes after it is posted, on a time base that makes it happen now (`startTime` is then not
   * used: each event's `occurredAt` is stamped on that time base, `onTimeBase` says it). Nothing
   * posted is posted again, nothing after it is left out. An id not found there (a log of another
   * version of the story) goes on from `near[0]`, said at warn.
   */
  resumeAfter?: { id: string; near: readonly number[] }
  /** The time base the run plays on (`occurredAt` = it + at / speed), once known (a resume finds it). */
  onTimeBase?: (timeBase: number) => void
  /** Most events per POST (default 500, at most the protocol's limit). */
  batchMax?: number
  scenario?: ScenarioName
  /** Called for a batch the server refused with a 4xx; that batch is skipped. */
  onError?: (error: BatchRejectedError) => void
  /** Called after every accepted batch. */
  onProgress?: (progress: SimulatorProgress) => void
  logger?: SimulatorLogger
  /** How often due events are collected (default 100 ms). */
  tickMs?: number
  /** First retry delay after a failed POST (default 250 ms), doubling up to `maxRetryDelayMs`. */
  retryDelayMs?: number
  /** Longest delay between retries (default 10 s). */
  maxRetryDelayMs?: number
  /** How long a POST in flight when `signal` aborts may still take before it is cut off (default 2 s). */
  abortGraceMs?: number
  /** Scripted events not to send when they fall due (people took the incident over: `HandsOff`). */
  holdBack?: (event: EventInput) => boolean
}

export interface SimulatorResult {
  /** Events the server accepted. */
  posted: number
  /** Requests the server accepted. */
  batches: number
  /** Events in batches the server refused with a 4xx. */
  rejected: number
  /** Scripted events held back when due (`holdBack`). */
  heldBack: number
}

const silent: SimulatorLogger = { info: () => {}, warn: () => {} }

/**
 * Plays a scenario against a server in scaled real time: every tick, the events that are
 * due are posted in order, in batches; a failed POST (network error, 5xx or 429) is retried
 * with back-off until it succeeds, so events are never dropped or reordered.
 */
export async function runSimulator(options: SimulatorOptions): Promise<SimulatorResult> {
  const { signal, speed } = options
  if (!(speed > 0)) throw new Error(`speed must be > 0, got ${speed}`)
  const batchMax = Math.max(1, Math.min(options.batchMax ?? 500, MAX_EVENTS_PER_POST))
  const tickMs = options.tickMs ?? 100
  const logger = options.logger ?? silent
  const endpoint = `${options.url.replace(/\/+$/, '')}/api/v1/events`
  const scenario = createScenario({
    seed: options.seed,
    startTime: options.startTime ?? Date.now(),
    rate: options.rate,
    speed: Number.isFinite(speed) ? speed : 1,
    ...(options.scenario ? { scenario: options.scenario } : {}),
    ...(options.idSalt === undefined ? {} : { idSalt: options.idSalt }),
  })
  const result: SimulatorResult = { posted: 0, batches: 0, rejected: 0, heldBack: 0 }

  // the clock runs from here: the time a resume takes to find its place counts (what fell due meanwhile goes at once)
  const wallStart = performance.now()
  const epochStart = Date.now()
  const storySpeed = Number.isFinite(speed) ? speed : 1
  let resumed = 0
  let events: Iterator<TimedEvent> = scenario[Symbol.iterator]()
  let timeBase = scenario.startTime
  if (options.resumeAfter) {
    const place = await placeAfter(scenario, options.resumeAfter, storySpeed, logger, signal)
    if (place === undefined) return result // stopped while finding it
    events = place.events
    resumed = place.atMs
    timeBase = Math.round(epochStart - resumed / storySpeed)
  }
  options.onTimeBase?.(timeBase)
  /** The event as posted: on a resume, its `occurredAt` on the time base found (as the scenario writes it). */
  const posted = options.resumeAfter
    ? (timed: TimedEvent): EventInput => ({
        ...timed.event,
        occurredAt: new Date(timeBase + Math.round(timed.at / storySpeed)).toISOString(),
      })
    : (timed: TimedEvent): EventInput => timed.event
  let upcoming: IteratorResult<TimedEvent> = events.next()
  const scenarioNow = (): number =>
    Number.isFinite(speed) ? resumed + (performance.now() - wallStart) * speed : Infinity

  while (!signal.aborted) {
    // collect at most one batch of due events, post it, and go on while more are due
    const now = scenarioNow()
    const batch: TimedEvent[] = []
    while (batch.length < batchMax && !upcoming.done && upcoming.value.at <= now) {
      // asked when due, not when scripted: people may have taken the incident over meanwhile
      if (options.holdBack?.(upcoming.value.event)) result.heldBack++
      else batch.push(upcoming.value)
      upcoming = events.next()
    }
    if (batch.length === 0) {
      await pause(tickMs, signal)
      continue
    }
    const outcome = await postBatch(endpoint, options, batch.map(posted), logger)
    if (outcome === 'aborted') break
    if (outcome === 'posted') {
      result.posted += batch.length
      result.batches += 1
      options.onProgress?.({
        count: batch.length,
        posted: result.posted,
        batches: result.batches,
        scenarioMs: batch[batch.length - 1]?.at ?? 0,
      })
    } else {
      result.rejected += batch.length
      if (options.onError) options.onError(outcome)
      else logger.warn(outcome.message)
    }
    // a full batch means more may already be due: post on without waiting for the tick
    if (batch.length < batchMax) await pause(tickMs, signal)
  }
  return result
}

/** Posts one batch, retrying until accepted, refused (4xx) or aborted. */
async function postBatch(
  endpoint: string,
  options: SimulatorOptions,
  events: EventInput[],
  logger: SimulatorLogger,
): Promise<'posted' | 'aborted' | BatchRejectedError> {
  const { signal } = options
  const body = JSON.stringify({ events })
  let delay = options.retryDelayMs ?? 250
  const maxDelay = options.maxRetryDelayMs ?? 10_000
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) return 'aborted'
    let failure: string
    // a request in flight when the signal aborts gets a grace period, so that what the
    // server accepted is counted; only a server that hangs is cut off
    const request = new AbortController()
    let grace: ReturnType<typeof setTimeout> | undefined
    const onAbort = (): void => {
      grace = setTimeout(() => request.abort(), options.abortGraceMs ?? 2000)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body,
        signal: request.signal,
      })
      const text = await response.text()
      if (response.ok) return 'posted'
      if (response.status >= 400 && response.status < 500 && response.status !== 429 && response.status !== 408) {
        return new BatchRejectedError(response.status, text, events)
      }
      failure = `HTTP ${response.status}`
    } catch (error) {
      if (signal.aborted) return 'aborted'
      failure = error instanceof Error ? `${error.message}${causeOf(error)}` : String(error)
    } finally {
      signal.removeEventListener('abort', onAbort)
      clearTimeout(grace)
    }
    if (signal.aborted) return 'aborted'
    logger.warn(`POST of ${events.length} events failed (${failure}, attempt ${attempt}); retrying in ${delay} ms`)
    if (!(await pause(delay, signal))) return 'aborted'
    delay = Math.min(delay * 2, maxDelay)
  }
}

function causeOf(error: Error): string {
  const cause = (error as { cause?: unknown }).cause
  return cause instanceof Error ? `: ${cause.message}` : ''
}

/** Waits `ms`; resolves false when the signal aborts first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal })
    return true
  } catch {
    return false
  }
}

/** Scenario events gone through before giving the event loop a turn (a server runs the simulator in its own process). */
const SKIP_SLICE = 5000

/**
 * Where to go on in the story: after the last event an earlier run posted (`resume.id`), looked for
 * up to a little past the latest of the places it may be (`resume.near`); not found there, after
 * `resume.near[0]`. The story is gone through in slices, yielding between them (a long story must
 * not hold the server) and stopping when `signal` aborts (undefined then).
 */
async function placeAfter(
  scenario: Iterable<TimedEvent>,
  resume: { id: string; near: readonly number[] },
  speed: number,
  logger: SimulatorLogger,
  signal: AbortSignal,
): Promise<{ events: Iterator<TimedEvent>; atMs: number } | undefined> {
  // a place is known to half a millisecond of wall time: at most `speed` ms of story each way
  const horizon = Math.max(...resume.near) + 1000 + 2 * speed
  const slice = async (n: number) => {
    if (n % SKIP_SLICE === 0) await new Promise((resolve) => setImmediate(resolve))
    return signal.aborted
  }
  let events = scenario[Symbol.iterator]()
  let n = 0
  for (let next = events.next(); !next.done && next.value.at <= horizon; next = events.next()) {
    if (next.value.event.id === resume.id) return { events, atMs: next.value.at }
    if (await slice(++n)) return undefined
  }
  // not where the story has it (a log of another version of the story): from the likeliest place,
  // the story gone through again, so that nothing after it is left out
  const atMs = resume.near[0] ?? 0
  logger.warn(
    `the last event posted (${resume.id}) is not where the story has it: going on at ${Math.round(atMs)} ms of the story`,
  )
  events = scenario[Symbol.iterator]()
  let next = events.next()
  for (n = 0; !next.done && next.value.at <= atMs; next = events.next()) if (await slice(++n)) return undefined
  const first = next
  const rest = events
  return {
    atMs,
    events: (function* () {
      if (!first.done) yield first.value
      for (let after = rest.next(); !after.done; after = rest.next()) yield after.value
    })(),
  }
}

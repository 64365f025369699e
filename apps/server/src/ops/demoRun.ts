import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { StoredEvent } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import { catchUp } from '../read/projection.ts'

/**
 * The demo scenario's run in a data folder (`demo-scenario.json`), so that a demo started again on
 * the same log continues its story where it stopped: the same incidents go on, under the ids they
 * had, with what happens next; nothing is told twice. Without it, a restart told the story again as
 * new incidents beside the first run's, which stayed open where they stopped.
 */
export interface DemoRun {
  seed: number
  speed: number
  rate: number
  /** What the run's ids are drawn with (the first run's start time). */
  idSalt: number
  /**
   * Scenario time zero of the runs' time bases (`occurredAt` = time base + at / speed), the latest
   * first (at most `KEPT_TIME_BASES`): the log's last event was posted on one of them (the latest,
   * unless a run's first batch was stored but its answer lost).
   */
  timeBases: number[]
}

/** How many time bases a record keeps. */
export const KEPT_TIME_BASES = 5

export const DEMO_RUN_FILE = 'demo-scenario.json'

/** How the simulator starts: afresh, or continuing an earlier run after the last event it posted. */
export interface DemoStart {
  startTime: number
  idSalt: number
  /** When continuing: the last event posted, and where it may be in the story (ms, one per time base, the latest first). */
  resumeAfter?: { id: string; near: number[] }
}

/**
 * How to start, given the earlier run (if any, of the same seed, speed and rate: recorded once it
 * had posted, so its time base is that of the last event it posted) and that last event (if any is
 * in the log): a run continues after that event, on a new time base that makes what comes next
 * happen now. Where it is in the story is found by its id (the simulator's `resumeAfter`); its
 * time, against the recorded time base, says about where to look.
 */
export function demoStart(
  earlier: DemoRun | undefined,
  settings: { seed: number; speed: number; rate: number },
  lastPosted: { id: string; occurredAt: string } | undefined,
  now: number,
): DemoStart {
  const same =
    earlier !== undefined &&
    earlier.seed === settings.seed &&
    earlier.speed === settings.speed &&
    earlier.rate === settings.rate
  if (!same || lastPosted === undefined) return { startTime: now, idSalt: now }
  const near = earlier.timeBases
    .map((timeBase) => (Date.parse(lastPosted.occurredAt) - timeBase) * settings.speed)
    .filter((at) => at >= 0)
  if (near.length === 0) return { startTime: now, idSalt: now }
  return { startTime: now, idSalt: earlier.idSalt, resumeAfter: { id: lastPosted.id, near } }
}

/** The earlier run recorded in `dataDir`, if one is there and readable. */
export function readDemoRun(dataDir: string): DemoRun | undefined {
  try {
    const run = JSON.parse(readFileSync(join(dataDir, DEMO_RUN_FILE), 'utf8')) as Partial<DemoRun>
    const numbers = [run.seed, run.speed, run.rate, run.idSalt, ...(Array.isArray(run.timeBases) ? run.timeBases : [])]
    const whole = Array.isArray(run.timeBases) && run.timeBases.length > 0
    return whole && numbers.every((n) => typeof n === 'number' && Number.isFinite(n)) ? (run as DemoRun) : undefined
  } catch {
    return undefined
  }
}

/** Record this run (written beside, then renamed: never half a file). */
export function writeDemoRun(dataDir: string, run: DemoRun): void {
  const file = join(dataDir, DEMO_RUN_FILE)
  writeFileSync(`${file}.partial`, `${JSON.stringify(run)}\n`, { mode: 0o600 })
  renameSync(`${file}.partial`, file)
}

/**
 * Read the log up to `head` once: every event to `each` (what people took over), and the id and
 * `occurredAt` of the last one the simulator (`user`) posted.
 */
export async function readDemoLog(
  store: EventStore,
  head: number,
  user: string,
  each: (events: StoredEvent[]) => void,
): Promise<{ id: string; occurredAt: string } | undefined> {
  let last: { id: string; occurredAt: string } | undefined
  await catchUp(
    store,
    0,
    (page) => {
      each(page)
      for (const event of page) if (event.actor?.user === user) last = { id: event.id, occurredAt: event.occurredAt }
    },
    { yieldBetweenPages: true, upTo: head },
  )
  return last
}

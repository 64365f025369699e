import { randomUUID } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  canSee,
  fold,
  initialState,
  reduce,
  SnapshotIndex,
  type State,
  stateToJson,
} from '../packages/core/src/index.ts'
import type { EventInput, Marking, StoredEvent, Viewer } from '../packages/protocol/src/index.ts'
import { type AcceptedEvent, SqliteEventStore } from '../packages/store/src/index.ts'
import { fmt, listeningUrl, PRINCIPALS, printTable, root, round, scratch, spawnTs, stopChild, TOKENS } from './lib.ts'
import type { BenchEntry } from './results.ts'

/**
 * Replay: (1) reducer throughput, folding generated events in pages as the
 * server does, against reducing one event at a time; (2) seek latency of
 * `GET /api/v1/state?at=` on a real server over a SQLite log, against folding
 * from zero without snapshots. Sizes shrink with BENCH_REPLAY_EVENTS (log and
 * fold), BENCH_REPLAY_SEEKS and BENCH_REPLAY_BASELINE_SEEKS.
 */
const EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 1_000_000)
const SEEKS = Number(process.env.BENCH_REPLAY_SEEKS ?? 200)
const WARM_SEEKS = 20
const BASELINE_SEEKS = Number(process.env.BENCH_REPLAY_BASELINE_SEEKS ?? 5)
/** The naive baseline stops after this many seconds (it is quadratic in the number of incidents). */
const BASELINE_SECONDS = Number(process.env.BENCH_REPLAY_BASELINE_SECONDS ?? 20)
const FOLD_REPEATS = 3
const PAGE = 5000

const NETWORKS = 60
/** One incident reported per this many events: 2,000 incidents in a million events. */
const REPORT_EVERY = 500
const ORGANISATIONS = ['cert-ee', 'cert-lv', 'ncsc-nl', 'cert-fi', 'alliance']
const VIEWER: Viewer = { organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'], userId: 'kadri' }
/** Simulated time: one event every 2.6 s of occurredAt, so a million events cover about a month. */
const START = Date.UTC(2026, 9, 26)
const STEP_MS = 2600

/** A small deterministic generator (mulberry32), so every run folds the same log. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function marking(r: number): Marking {
  if (r < 0.55) return { tlp: 'GREEN' }
  if (r < 0.7) return { tlp: 'CLEAR' }
  if (r < 0.85) return { tlp: 'AMBER', releasableTo: ['EE', 'LV'] }
  if (r < 0.95) return { tlp: 'AMBER' }
  if (r < 0.99) return { tlp: 'AMBER+STRICT' }
  return { tlp: 'RED', recipients: ['kadri'] }
}

/**
 * The i-th event of the realistic mix: networks first, then about 96 %
 * incident.observation, 1 % incident.updated (some closing), 0.2 % reports,
 * posture changes and advisories; one event in 50 reported late (occurredAt up
 * to 6 hours before its turn).
 */
function logEvent(i: number, random: () => number): EventInput & { marking: Marking } {
  const organisation = ORGANISATIONS[Math.floor(random() * ORGANISATIONS.length)]!
  const late = random() < 0.02 ? Math.floor(random() * 6 * 3600_000) : 0
  const base = {
    id: randomUUID(),
    occurredAt: new Date(START + i * STEP_MS - late).toISOString(),
    source: { organisation, network: `net-${i % NETWORKS}` },
    marking: marking(random()),
    actor: { user: `sensor-${organisation}` },
  }
  const reported = Math.floor(i / REPORT_EVERY)
  const incidentId = `inc-${Math.max(0, reported - Math.floor(random() * 50))}`
  if (i < NETWORKS)
    return {
      ...base,
      marking: { tlp: 'GREEN' },
      type: 'network.registered',
      payload: {
        networkId: `net-${i}`,
        name: `Network ${i}`,
        organisation,
        nation: ['EE', 'LV', 'NL', 'FI'][i % 4]!,
        kind: 'government',
        location: { lat: 50 + (i % 10), lon: 10 + (i % 20) },
      },
    }
  if (i % REPORT_EVERY === 0)
    return {
      ...base,
      type: 'incident.reported',
      payload: {
        incidentId: `inc-${reported}`,
        title: `Incident ${reported}`,
        severity: (['low', 'medium', 'high', 'critical'] as const)[reported % 4]!,
        category: ['malware', 'phishing', 'ddos', 'intrusion'][reported % 4]!,
        affectedNetworks: [`net-${reported % NETWORKS}`, `net-${(reported * 7) % NETWORKS}`],
      },
    }
  const r = random()
  if (r < 0.01)
    return {
      ...base,
      type: 'incident.updated',
      payload: r < 0.004 ? { incidentId, status: 'closed' } : { incidentId, severity: 'high', status: 'triaged' },
    }
  if (r < 0.012)
    return {
      ...base,
      type: 'network.posture_changed',
      payload: { networkId: `net-${i % NETWORKS}`, posture: (['normal', 'elevated', 'degraded'] as const)[i % 3]! },
    }
  if (r < 0.014)
    return {
      ...base,
      type: 'advisory.published',
      payload: { advisoryId: `adv-${i}`, title: `Advisory ${i}`, body: 'Patch the VPN concentrators.', incidentId },
    }
  return {
    ...base,
    type: 'incident.observation',
    payload: { incidentId, networkId: `net-${i % NETWORKS}`, indicator: `198.51.100.${i % 256}`, count: 1 + (i % 10) },
  }
}

export function storedLog(n: number): StoredEvent[] {
  const random = rng(7)
  const events: StoredEvent[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const input = logEvent(i, random)
    events[i] = { ...input, seq: i + 1, recordedAt: new Date(START + i * STEP_MS).toISOString() } as StoredEvent
  }
  return events
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

// ---- (1) reducer throughput ----

export async function benchReplayFold(): Promise<BenchEntry> {
  console.log(`  generating ${fmt(EVENTS)} events`)
  const log = storedLog(EVENTS)
  const foldRuns: number[] = []
  const indexRuns: number[] = []
  let final: State = initialState
  for (let r = 0; r < FOLD_REPEATS; r++) {
    let start = performance.now()
    let state = initialState
    for (let i = 0; i < log.length; i += PAGE) state = fold(state, log.slice(i, i + PAGE))
    foldRuns.push(log.length / ((performance.now() - start) / 1000))
    final = state
    start = performance.now()
    const index = new SnapshotIndex((event) => canSee(VIEWER, event))
    for (let i = 0; i < log.length; i += PAGE) index.extend(log.slice(i, i + PAGE))
    indexRuns.push(log.length / ((performance.now() - start) / 1000))
    process.stdout.write(`  replay.fold repeat ${r + 1}/${FOLD_REPEATS} done\n`)
  }
  // the naive loop: one reduce per event, each copying the maps it touches
  let naive = initialState
  let reduced = 0
  const start = performance.now()
  const deadline = start + BASELINE_SECONDS * 1000
  for (const event of log) {
    naive = reduce(naive, event)
    reduced++
    if (reduced % 1000 === 0 && performance.now() > deadline) break
  }
  const naiveRate = reduced / ((performance.now() - start) / 1000)
  const figures = {
    events: log.length,
    repeats: FOLD_REPEATS,
    pageSize: PAGE,
    eventsPerSecond: round(median(foldRuns)),
    runs: foldRuns.map((v) => round(v)),
    snapshotIndexEventsPerSecond: round(median(indexRuns)),
    incidents: final.incidents.size,
    networks: final.networks.size,
  }
  const baselineFigures = {
    events: reduced,
    eventsPerSecond: round(naiveRate),
    stoppedAfterSeconds: reduced < log.length ? BASELINE_SECONDS : null,
  }
  const ratio = round(figures.eventsPerSecond / baselineFigures.eventsPerSecond, 2)
  printTable(
    `replay.fold: ${fmt(log.length)} events (${fmt(final.incidents.size)} incidents, ~96 % observations), median of ${FOLD_REPEATS}`,
    ['', 'events/s'],
    [
      [`fold in pages of ${fmt(PAGE)}`, fmt(figures.eventsPerSecond)],
      ['SnapshotIndex.extend (cert-ee viewer, snapshots)', fmt(figures.snapshotIndexEventsPerSecond)],
      [
        `reduce one at a time (${fmt(reduced)} events${reduced < log.length ? `, stopped after ${BASELINE_SECONDS} s` : ''})`,
        fmt(baselineFigures.eventsPerSecond),
      ],
      ['fold / one at a time', fmt(ratio, 1)],
    ],
  )
  return {
    name: 'replay.fold',
    headline: 'eventsPerSecond',
    figures,
    baseline: {
      name: 'reduce(state, event) one event at a time, same log, same run (a prefix when it hits the time limit)',
      figures: baselineFigures,
    },
    ratio,
    target: { figure: 'eventsPerSecond', min: 1_000_000, text: '≥ 1,000,000 events/s' },
    met: figures.eventsPerSecond >= 1_000_000,
  }
}

// ---- (2) seek on a real server ----

export async function buildLog(file: string): Promise<{ seconds: number }> {
  const store = new SqliteEventStore({ file, recentEvents: 0 })
  const random = rng(7)
  const start = performance.now()
  try {
    for (let i = 0; i < EVENTS; i += 1000) {
      const batch: AcceptedEvent[] = []
      for (let k = i; k < Math.min(EVENTS, i + 1000); k++) batch.push(logEvent(k, random) as AcceptedEvent)
      await store.append(batch)
      if ((i / 1000) % 100 === 99) process.stdout.write(`  appended ${fmt(i + 1000)} events\n`)
    }
    if ((await store.head()) !== EVENTS) throw new Error(`store head ${await store.head()} != ${EVENTS}`)
  } finally {
    await store.close()
  }
  return { seconds: (performance.now() - start) / 1000 }
}

/** The log's first and last recordedAt and occurredAt range. */
async function timeRange(file: string): Promise<{ first: number; last: number }> {
  const store = new SqliteEventStore({ file, recentEvents: 0 })
  try {
    const [first] = await store.readAfter(0, 1)
    const [last] = await store.readAfter(EVENTS - 1, 1)
    return { first: Date.parse(first!.recordedAt), last: Date.parse(last!.recordedAt) }
  } finally {
    await store.close()
  }
}

/** Fold from zero with no snapshots: read the log up to `at` (recorded clock) and fold what the viewer may see. */
async function foldFromZero(file: string, at: number): Promise<{ ms: number; bytes: number }> {
  const store = new SqliteEventStore({ file, recentEvents: 0 })
  try {
    const start = performance.now()
    const to = new Date(at + 1).toISOString()
    let state = initialState
    let cursor = 0
    for (;;) {
      const page = await store.readRecordedRange('0001-01-01T00:00:00.000Z', to, cursor, PAGE)
      if (page.length === 0) break
      cursor = page.at(-1)!.seq
      state = fold(
        state,
        page.filter((event) => canSee(VIEWER, event)),
      )
    }
    const bytes = JSON.stringify(stateToJson(state)).length
    return { ms: performance.now() - start, bytes }
  } finally {
    await store.close()
  }
}

async function timedGet(url: string): Promise<{ ms: number; bytes: number }> {
  const start = performance.now()
  const response = await fetch(url, { headers: { authorization: `Bearer ${TOKENS.viewer}` } })
  const text = await response.text()
  const ms = performance.now() - start
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 300)}`)
  return { ms, bytes: text.length }
}

export async function benchReplaySeek(): Promise<BenchEntry> {
  const data = scratch('replay')
  const file = join(data.dir, 'events.sqlite')
  try {
    console.log(`  building a ${fmt(EVENTS)}-event SQLite log`)
    const built = await buildLog(file)
    console.log(`  built in ${round(built.seconds, 1)} s (${fmt(EVENTS / built.seconds)} events/s)`)
    const { first, last } = await timeRange(file)
    const random = rng(11)
    const moment = () => Math.round(first + random() * (last - first))

    // baseline: fold from zero, no snapshots, in this process (no HTTP, so it is the cheaper side)
    const baseline: number[] = []
    let baselineBytes = 0
    for (let i = 0; i < BASELINE_SEEKS; i++) {
      const result = await foldFromZero(file, moment())
      baseline.push(result.ms)
      baselineBytes = Math.max(baselineBytes, result.bytes)
    }
    baseline.sort((a, b) => a - b)

    const tokens = join(data.dir, 'tokens.json')
    writeFileSync(tokens, JSON.stringify(PRINCIPALS))
    const child = spawnTs(join(root, 'apps/server/src/main.ts'), [], {
      env: {
        WATCHFLOOR_PORT: '0',
        WATCHFLOOR_HOST: '127.0.0.1',
        WATCHFLOOR_DATA_DIR: data.dir,
        WATCHFLOOR_SIMULATOR: 'off',
        WATCHFLOOR_TOKENS: tokens,
        WATCHFLOOR_LOG_LEVEL: 'warn',
      },
    })
    try {
      const url = await listeningUrl(child, 60_000)
      const seek = (at: number, clock = 'recorded') =>
        timedGet(`${url}/api/v1/state?at=${encodeURIComponent(new Date(at).toISOString())}&clock=${clock}`)
      // the first replay request builds the viewer's snapshot index from the whole log
      const build = await seek(moment())
      console.log(`  first seek (builds the index): ${fmt(build.ms)} ms`)
      await timedGet(`${url}/api/v1/state`) // builds the live state cache
      for (let i = 0; i < WARM_SEEKS; i++) await seek(moment())
      // each seek is followed by a live cached GET /state (no folding: the cost of the answer alone),
      // so that both see the same moments of a shared machine
      const times: number[] = []
      const live: number[] = []
      let bytes = 0
      for (let i = 0; i < SEEKS; i++) {
        const result = await seek(moment())
        times.push(result.ms)
        bytes = Math.max(bytes, result.bytes)
        live.push((await timedGet(`${url}/api/v1/state`)).ms)
      }
      times.sort((a, b) => a - b)
      live.sort((a, b) => a - b)
      // the occurred clock, over the simulated month
      const occurredTimes: number[] = []
      for (let i = 0; i < Math.min(SEEKS, 100); i++)
        occurredTimes.push((await seek(START + random() * EVENTS * STEP_MS, 'occurred')).ms)
      occurredTimes.sort((a, b) => a - b)
      const rss = processRss(child.pid)

      const figures = {
        events: EVENTS,
        seeks: SEEKS,
        p50Ms: round(percentile(times, 0.5), 1),
        p95Ms: round(percentile(times, 0.95), 1),
        maxMs: round(times.at(-1)!, 1),
        responseBytes: bytes,
        firstSeekMs: round(build.ms),
        occurredP50Ms: round(percentile(occurredTimes, 0.5), 1),
        occurredP95Ms: round(percentile(occurredTimes, 0.95), 1),
        occurredMaxMs: round(occurredTimes.at(-1)!, 1),
        liveStateP50Ms: round(percentile(live, 0.5), 1),
        liveStateP95Ms: round(percentile(live, 0.95), 1),
        serverRssMb: rss,
        logBuildSeconds: round(built.seconds, 1),
      }
      const baselineFigures = {
        seeks: BASELINE_SEEKS,
        p50Ms: round(percentile(baseline, 0.5), 1),
        p95Ms: round(percentile(baseline, 0.95), 1),
        maxMs: round(baseline.at(-1)!, 1),
        stateBytes: baselineBytes,
      }
      const ratio = round(figures.p95Ms / baselineFigures.p95Ms, 4)
      printTable(
        `replay.seek: GET /api/v1/state?at= on a ${fmt(EVENTS)}-event SQLite log, real server, ${SEEKS} random moments`,
        ['', 'p50 ms', 'p95 ms', 'max ms'],
        [
          ['state?at (recorded), from snapshots', fmt(figures.p50Ms, 1), fmt(figures.p95Ms, 1), fmt(figures.maxMs, 1)],
          [
            'state?at&clock=occurred',
            fmt(figures.occurredP50Ms, 1),
            fmt(figures.occurredP95Ms, 1),
            fmt(figures.occurredMaxMs, 1),
          ],
          [
            'live GET /state (cached), after each seek',
            fmt(figures.liveStateP50Ms, 1),
            fmt(figures.liveStateP95Ms, 1),
            fmt(live.at(-1)!, 1),
          ],
          [
            `fold from zero, no snapshots (${BASELINE_SEEKS} seeks, in process)`,
            fmt(baselineFigures.p50Ms, 1),
            fmt(baselineFigures.p95Ms, 1),
            fmt(baselineFigures.maxMs, 1),
          ],
          ['ours / baseline (p95)', '', fmt(ratio, 4), ''],
        ],
      )
      console.log(
        `  first seek ${fmt(figures.firstSeekMs)} ms (index build), response up to ${fmt(bytes)} bytes, server RSS ${fmt(rss)} MB`,
      )
      return {
        name: 'replay.seek',
        headline: 'p95Ms',
        figures,
        baseline: {
          name: 'fold from seq 0 without snapshots (SqliteEventStore.readRecordedRange + fold + JSON), same log, same run',
          figures: baselineFigures,
        },
        ratio,
        target: { figure: 'p95Ms', max: 100, text: 'p95 ≤ 100 ms' },
        met: figures.p95Ms <= 100,
      }
    } finally {
      await stopChild(child)
    }
  } finally {
    data.remove()
  }
}

/** Resident memory of a process in MB, from /proc (0 where it cannot be read). */
function processRss(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0)
    return Math.round(kb / 1024)
  } catch {
    return 0
  }
}

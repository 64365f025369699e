import { join } from 'node:path'
import type { EventInput } from '../packages/protocol/src/index.ts'
import { type AcceptedEvent, SqliteEventStore } from '../packages/store/src/index.ts'
import { Database } from './deps.ts'
import {
  accepted,
  cpuSeconds,
  fmt,
  observation,
  pgSchema,
  printTable,
  type RunningProcess,
  round,
  scratch,
  sleep,
  startBare,
  startWatchfloor,
  TOKENS,
  viewerHead,
} from './lib.ts'
import { writeLog } from './log.ts'
import type { BenchEntry } from './results.ts'

const EVENTS = 200_000
const REPEATS = 3
const REST_BATCH = 500
const REST_EVENTS = 100_000
const REST_IN_FLIGHT = 4

/**
 * The events table of packages/store/src/sqlite.ts: the baseline writes the same
 * rows to the same table, and nothing else (the store also keeps its id index).
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    body TEXT NOT NULL
  );
`

interface RawRow {
  seq: number
  id: string
  recorded_at: string
  body: string
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** Events/s through SqliteEventStore.append, one awaited append per batch (acknowledged = committed). */
async function storeRun(file: string, events: readonly AcceptedEvent[], batch: number): Promise<number> {
  const store = new SqliteEventStore({ file })
  try {
    const start = performance.now()
    for (let i = 0; i < events.length; i += batch) await store.append(events.slice(i, i + batch))
    const seconds = (performance.now() - start) / 1000
    if ((await store.head()) !== events.length) throw new Error(`store head ${await store.head()} != ${events.length}`)
    return events.length / seconds
  } finally {
    await store.close()
  }
}

/** Rows/s of plain better-sqlite3 (WAL, synchronous=FULL) inserting prepared rows in `batch`-row transactions. */
function rawRun(file: string, rows: readonly RawRow[], batch: number): number {
  const db = new Database(file)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.exec(SCHEMA)
    const insert = db.prepare<[number, string, string, string]>(
      'INSERT INTO events (seq, id, recorded_at, body) VALUES (?, ?, ?, ?)',
    )
    const write = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const r = rows[i]!
        insert.run(r.seq, r.id, r.recorded_at, r.body)
      }
    })
    const start = performance.now()
    for (let i = 0; i < rows.length; i += batch) write.immediate(i, Math.min(i + batch, rows.length))
    const seconds = (performance.now() - start) / 1000
    const count = (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n
    if (count !== rows.length) throw new Error(`raw count ${count} != ${rows.length}`)
    return rows.length / seconds
  } finally {
    db.close()
  }
}

function readRows(file: string): RawRow[] {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare<[], RawRow>('SELECT seq, id, recorded_at, body FROM events ORDER BY seq').all()
  } finally {
    db.close()
  }
}

export interface IngestStoreResult {
  entry: BenchEntry
  /** Raw better-sqlite3 rows/s in 1,000-row transactions, for the REST comparison. */
  raw1000: number
}

export async function benchIngestStore(): Promise<IngestStoreResult> {
  const events = Array.from({ length: EVENTS }, (_, i) => accepted(observation(i)))
  const tmp = scratch('store')
  let n = 0
  const file = () => join(tmp.dir, `run-${n++}.sqlite`)
  try {
    // Warm-up (JIT, page cache), not measured; it also yields the exact rows the store writes.
    const warmFile = file()
    await storeRun(warmFile, events, 1000)
    const rows = readRows(warmFile)
    rawRun(file(), rows.slice(0, 20_000), 1000)

    const ours1000: number[] = []
    const raw1000: number[] = []
    const ours100: number[] = []
    const raw100: number[] = []
    for (let r = 0; r < REPEATS; r++) {
      // Alternate so that drift of the machine (other work, disk cache) affects both alike.
      ours1000.push(await storeRun(file(), events, 1000))
      raw1000.push(rawRun(file(), rows, 1000))
      raw100.push(rawRun(file(), rows, 100))
      ours100.push(await storeRun(file(), events, 100))
      process.stdout.write(`  ingest.store repeat ${r + 1}/${REPEATS} done\n`)
    }
    const figures = {
      events: EVENTS,
      repeats: REPEATS,
      eventsPerSecond: round(median(ours1000)),
      eventsPerSecondBatch100: round(median(ours100)),
      runsBatch1000: ours1000.map((v) => round(v)),
      runsBatch100: ours100.map((v) => round(v)),
    }
    const baselineFigures = {
      events: EVENTS,
      repeats: REPEATS,
      eventsPerSecond: round(median(raw1000)),
      eventsPerSecondBatch100: round(median(raw100)),
      runsBatch1000: raw1000.map((v) => round(v)),
      runsBatch100: raw100.map((v) => round(v)),
    }
    const ratio = round(figures.eventsPerSecond / baselineFigures.eventsPerSecond, 3)
    printTable(
      `ingest.store: ${fmt(EVENTS)} incident.observation events (GREEN), durable (WAL synced before acknowledging; raw: synchronous=FULL), median of ${REPEATS}`,
      ['', 'batch 1,000 (events/s)', 'batch 100 (events/s)'],
      [
        ['SqliteEventStore.append', fmt(figures.eventsPerSecond), fmt(figures.eventsPerSecondBatch100)],
        ['raw better-sqlite3', fmt(baselineFigures.eventsPerSecond), fmt(baselineFigures.eventsPerSecondBatch100)],
        [
          'ours / raw',
          fmt(ratio, 2),
          fmt(figures.eventsPerSecondBatch100 / baselineFigures.eventsPerSecondBatch100, 2),
        ],
      ],
    )
    return {
      raw1000: baselineFigures.eventsPerSecond,
      entry: {
        name: 'ingest.store',
        headline: 'eventsPerSecond',
        figures,
        baseline: {
          name: 'raw better-sqlite3 (WAL, synchronous=FULL), same rows, 1,000-row transactions',
          figures: baselineFigures,
        },
        ratio,
        target: { figure: 'eventsPerSecond', min: 50_000, text: '≥ 50,000 events/s, batches of 1,000' },
        met: figures.eventsPerSecond >= 50_000,
      },
    }
  } finally {
    tmp.remove()
  }
}

async function postBody(url: string, body: string, expected: number): Promise<void> {
  const response = await fetch(`${url}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.sensor}` },
    body,
  })
  const json = (await response.json()) as { results?: unknown[] }
  if (response.status !== 201 || json.results?.length !== expected)
    throw new Error(`POST answered ${response.status}: ${JSON.stringify(json).slice(0, 300)}`)
}

function bodies(count: number, offset: number): string[] {
  const out: string[] = []
  for (let b = 0; b < count; b++) {
    const events: EventInput[] = []
    for (let i = 0; i < REST_BATCH; i++) events.push(observation(offset + b * REST_BATCH + i))
    out.push(JSON.stringify({ events }))
  }
  return out
}

export async function benchIngestRest(raw1000: number): Promise<BenchEntry> {
  const warm = bodies(20, 0)
  const perRepeat = REST_EVENTS / REST_BATCH
  const measured = bodies(perRepeat * REPEATS, warm.length * REST_BATCH)
  const server = await startWatchfloor()
  try {
    for (const body of warm) await postBody(server.url, body, REST_BATCH)
    const runs: number[] = []
    const latencies: number[] = []
    for (let r = 0; r < REPEATS; r++) {
      const share = measured.slice(r * perRepeat, (r + 1) * perRepeat)
      let next = 0
      const start = performance.now()
      await Promise.all(
        Array.from({ length: REST_IN_FLIGHT }, async () => {
          while (next < share.length) {
            const body = share[next++]!
            const sent = performance.now()
            await postBody(server.url, body, REST_BATCH)
            latencies.push(performance.now() - sent)
          }
        }),
      )
      runs.push(REST_EVENTS / ((performance.now() - start) / 1000))
    }
    const head = await viewerHead(server.url)
    const total = (warm.length + measured.length) * REST_BATCH
    if (head !== total) throw new Error(`server head ${head} != ${total}`)
    latencies.sort((a, b) => a - b)
    const pct = (p: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!, 1)
    const figures = {
      events: REST_EVENTS,
      repeats: REPEATS,
      eventsPerRequest: REST_BATCH,
      inFlight: REST_IN_FLIGHT,
      eventsPerSecond: round(median(runs)),
      runs: runs.map((v) => round(v)),
      requestP50Ms: pct(0.5),
      requestP99Ms: pct(0.99),
    }
    const ratio = round(figures.eventsPerSecond / raw1000, 3)
    printTable(
      `ingest.rest: ${fmt(REST_EVENTS)} events as POST /api/v1/events of ${REST_BATCH}, ${REST_IN_FLIGHT} in flight, real server, median of ${REPEATS}`,
      ['', 'events/s', 'request p50 (ms)', 'request p99 (ms)'],
      [
        [
          'REST ingest (server process)',
          fmt(figures.eventsPerSecond),
          fmt(figures.requestP50Ms, 1),
          fmt(figures.requestP99Ms, 1),
        ],
        ['raw better-sqlite3, 1,000-row tx', fmt(raw1000), '-', '-'],
        ['ours / raw', fmt(ratio, 2), '', ''],
      ],
    )
    return {
      name: 'ingest.rest',
      headline: 'eventsPerSecond',
      figures,
      baseline: {
        name: 'raw better-sqlite3 (WAL, synchronous=FULL), same run, 1,000-row transactions',
        figures: { eventsPerSecond: raw1000 },
      },
      ratio,
      target: { figure: 'eventsPerSecond', min: 20_000, text: '≥ 20,000 events/s' },
      met: figures.eventsPerSecond >= 20_000,
    }
  } finally {
    await server.stop()
  }
}

const CPU_ROUNDS = 5
const CPU_WARM_POSTS = 1_000
const CPU_POSTS = 6_000
const CPU_IN_FLIGHT = 2

/**
 * The server's CPU per small POST (`ingest.post-cpu`): what one sensor's POST of two events costs the
 * server, the shape of the fan-out bench's POSTs, with no socket connected. Baseline: the durable bare
 * server (bench/bare-server.ts `--mode durable`: the POST parsed, committed to SQLite and synced, and
 * answered), so the ratio is the share of Watchfloor's own request path (request context, security
 * headers, the caller, validation, policy, metrics). Also measured, as a figure: the same POSTs to
 * `/api/v1/events/`, which Express's route answers instead of the events lane. Rounds alternate the
 * three, each a fresh process (the log level `warn`, as in every bench: no line per request): 1,000
 * POSTs of warm-up, then 6,000 POSTs, 2 in flight, timed by the server's CPU seconds (user and
 * system, every thread, /proc); the median of five rounds of each.
 */
export async function benchIngestPostCpu(): Promise<BenchEntry> {
  const measure = async (server: RunningProcess, path: string): Promise<number> => {
    const post = async (i: number) => {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.sensor}` },
        body: JSON.stringify({ events: [observation(2 * i), observation(2 * i + 1)] }),
      })
      await response.arrayBuffer()
      if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}`)
    }
    try {
      for (let i = 0; i < CPU_WARM_POSTS; i++) await post(i)
      await sleep(300)
      const before = cpuSeconds(server.child.pid)
      let next = CPU_WARM_POSTS
      await Promise.all(
        Array.from({ length: CPU_IN_FLIGHT }, async () => {
          while (next < CPU_WARM_POSTS + CPU_POSTS) await post(next++)
        }),
      )
      const after = cpuSeconds(server.child.pid)
      if (before === null || after === null) throw new Error('the server process has no CPU figures')
      return ((after - before) * 1000) / CPU_POSTS
    } finally {
      await server.stop()
    }
  }
  const ours: number[] = []
  const expressRoute: number[] = []
  const bare: number[] = []
  for (let r = 0; r < CPU_ROUNDS; r++) {
    ours.push(await measure(await startWatchfloor(), '/api/v1/events'))
    expressRoute.push(await measure(await startWatchfloor(), '/api/v1/events/'))
    bare.push(await measure(await startBare('durable'), '/api/v1/events'))
  }
  const figures = {
    cpuMsPerPost: round(median(ours), 3),
    rounds: ours.map((v) => round(v, 3)),
    expressRouteCpuMsPerPost: round(median(expressRoute), 3),
    expressRouteRounds: expressRoute.map((v) => round(v, 3)),
    posts: CPU_POSTS,
    eventsPerPost: 2,
    inFlight: CPU_IN_FLIGHT,
  }
  const baseline = { cpuMsPerPost: round(median(bare), 3), rounds: bare.map((v) => round(v, 3)) }
  const ratio = round(figures.cpuMsPerPost / baseline.cpuMsPerPost, 3)
  const row = (name: string, cpuMs: number, rounds: number[]) => [
    name,
    fmt(cpuMs, 3),
    fmt(cpuMs / baseline.cpuMsPerPost, 2),
    rounds.map((v) => fmt(v, 3)).join(' '),
  ]
  printTable(
    `ingest.post-cpu: server CPU per POST of 2 events, ${fmt(CPU_POSTS)} POSTs, ${CPU_IN_FLIGHT} in flight, median of ${CPU_ROUNDS} alternated rounds`,
    ['', 'CPU ms / POST', '/ bare', 'rounds'],
    [
      row('Watchfloor, /api/v1/events (events lane)', figures.cpuMsPerPost, figures.rounds),
      row(
        "Watchfloor, /api/v1/events/ (Express's route)",
        figures.expressRouteCpuMsPerPost,
        figures.expressRouteRounds,
      ),
      row('durable bare server', baseline.cpuMsPerPost, baseline.rounds),
    ],
  )
  return {
    name: 'ingest.post-cpu',
    headline: 'cpuMsPerPost',
    figures,
    baseline: {
      name: 'durable bare Socket.IO server (parse, SQLite commit, fdatasync, answer), same run, alternated',
      figures: baseline,
    },
    ratio,
    target: {
      figure: 'cpuMsPerPost',
      max: round(baseline.cpuMsPerPost * 2, 3),
      text: "the project's own guard, not a target of the issue: at most 2x the durable bare server's CPU per POST",
    },
    met: ratio <= 2,
  }
}

/**
 * REST ingest on PostgreSQL (`pnpm bench postgres`): the same POSTs of 500 as ingest.rest, 4 in
 * flight, to one Watchfloor process on a fresh schema (the baseline), then to two processes on
 * another fresh schema, the POSTs going to each in turn. Target: two processes >= 20,000 events/s.
 * One repeat of 100,000 events each (PostgreSQL is shared with others' tests; keep it short).
 */
export async function benchIngestRestPostgres(): Promise<BenchEntry> {
  const measure = async (processes: number) => {
    const schema = await pgSchema('ingest')
    const servers: RunningProcess[] = []
    try {
      servers.push(await startWatchfloor({ databaseUrl: schema.url }))
      while (servers.length < processes) servers.push(await startWatchfloor({ databaseUrl: schema.url }))
      const urls = servers.map((server) => server.url)
      const warm = bodies(20, 0)
      for (const [i, body] of warm.entries()) await postBody(urls[i % urls.length]!, body, REST_BATCH)
      const measured = bodies(REST_EVENTS / REST_BATCH, warm.length * REST_BATCH)
      const latencies: number[] = []
      let next = 0
      const start = performance.now()
      await Promise.all(
        Array.from({ length: REST_IN_FLIGHT }, async () => {
          while (next < measured.length) {
            const index = next++
            const sent = performance.now()
            await postBody(urls[index % urls.length]!, measured[index]!, REST_BATCH)
            latencies.push(performance.now() - sent)
          }
        }),
      )
      const seconds = (performance.now() - start) / 1000
      const head = await viewerHead(urls[0]!)
      const total = (warm.length + measured.length) * REST_BATCH
      if (head !== total) throw new Error(`server head ${head} != ${total}`)
      latencies.sort((a, b) => a - b)
      const pct = (p: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!, 1)
      return {
        processes,
        events: REST_EVENTS,
        eventsPerRequest: REST_BATCH,
        inFlight: REST_IN_FLIGHT,
        eventsPerSecond: round(REST_EVENTS / seconds),
        requestP50Ms: pct(0.5),
        requestP99Ms: pct(0.99),
      }
    } finally {
      await Promise.all(servers.map((server) => server.stop()))
      await schema.drop()
    }
  }
  const one = await measure(1)
  const two = await measure(2)
  const ratio = round(two.eventsPerSecond / one.eventsPerSecond, 3)
  printTable(
    `ingest.rest.postgres: ${fmt(REST_EVENTS)} events as POST /api/v1/events of ${REST_BATCH}, ${REST_IN_FLIGHT} in flight, PostgreSQL`,
    ['', 'events/s', 'request p50 (ms)', 'request p99 (ms)'],
    [one, two].map((r) => [
      `${r.processes} process${r.processes > 1 ? 'es' : ''}`,
      fmt(r.eventsPerSecond),
      fmt(r.requestP50Ms, 1),
      fmt(r.requestP99Ms, 1),
    ]),
  )
  return {
    name: 'ingest.rest.postgres',
    headline: 'eventsPerSecond',
    figures: two,
    baseline: { name: 'one Watchfloor process on PostgreSQL, same posts, same run', figures: one },
    ratio,
    target: { figure: 'eventsPerSecond', min: 20_000, text: 'two processes on PostgreSQL >= 20,000 events/s' },
    met: two.eventsPerSecond >= 20_000,
  }
}

/** The logs of `ingest.history`: one of a day or so (baseline) and one of months. */
const HISTORY_LOGS = { baseline: 20_000, history: 1_000_000 }
/** One incident reported every this many events: 40,000 incidents in the log of months. */
const HISTORY_REPORT_EVERY = 25
const HISTORY_POSTS = 300
const HISTORY_ROUNDS = 3

/**
 * A sensor's POST on a log of months: one observation per request (as a sensor sends them), one
 * request at a time, on a server opened on a log of 1,000,000 events with 40,000 incidents
 * (bench/log.ts), against the same on a log of 20,000 events (800 incidents) in the same run.
 * Figure: the median request time (median of 3 rounds of 300). Target: within 1.5x of the short
 * log's: what a request costs must not grow with the history (the owners check of [A5] reads the
 * events since the last request, not a fold of the whole picture).
 */
export async function benchIngestHistory(): Promise<BenchEntry> {
  const measure = async (events: number) => {
    let incidents = 0
    const server = await startWatchfloor({
      prepare: async (dir) => {
        incidents = (await writeLog(join(dir, 'events.sqlite'), { events, reportEvery: HISTORY_REPORT_EVERY }))
          .incidents
      },
    })
    try {
      let n = 0
      // an observation of one of the 40 newest incidents (observations are anyone's to report [A5])
      const post = async () => {
        const event = observation(n)
        ;(event.payload as { incidentId: string }).incidentId = `inc-${incidents - 1 - (n % 40)}`
        n++
        const sent = performance.now()
        await postBody(server.url, JSON.stringify({ events: [event] }), 1)
        return performance.now() - sent
      }
      // the first request waits for the server's start from the log (no snapshot yet): not measured
      for (let i = 0; i < 50; i++) await post()
      const rounds: { p50: number; p90: number }[] = []
      for (let r = 0; r < HISTORY_ROUNDS; r++) {
        const times: number[] = []
        for (let i = 0; i < HISTORY_POSTS; i++) times.push(await post())
        times.sort((a, b) => a - b)
        rounds.push({ p50: times[Math.floor(times.length / 2)]!, p90: times[Math.floor(times.length * 0.9)]! })
      }
      const mid = [...rounds].sort((a, b) => a.p50 - b.p50)[Math.floor(rounds.length / 2)]!
      return {
        events,
        incidents,
        requestP50Ms: round(mid.p50, 2),
        requestP90Ms: round(mid.p90, 2),
        roundsP50Ms: rounds.map((x) => round(x.p50, 2)),
      }
    } finally {
      await server.stop()
    }
  }
  const baseline = await measure(HISTORY_LOGS.baseline)
  const history = await measure(HISTORY_LOGS.history)
  const ratio = round(history.requestP50Ms / baseline.requestP50Ms, 3)
  printTable(
    `ingest.history: one observation per POST, one at a time, ${HISTORY_POSTS} x ${HISTORY_ROUNDS} (median round), real server`,
    ['log', 'incidents', 'request p50 (ms)', 'p90 (ms)', 'rounds p50 (ms)'],
    [baseline, history].map((f) => [
      `${fmt(f.events)} events`,
      fmt(f.incidents),
      fmt(f.requestP50Ms, 2),
      fmt(f.requestP90Ms, 2),
      f.roundsP50Ms.map((v) => fmt(v, 2)).join(' '),
    ]),
  )
  return {
    name: 'ingest.history',
    headline: 'requestP50Ms',
    figures: history,
    baseline: { name: `the same POSTs on a log of ${fmt(HISTORY_LOGS.baseline)} events, same run`, figures: baseline },
    ratio,
    target: {
      figure: 'requestP50Ms',
      max: 1.5,
      text: 'a POST on a log of months within 1.5x of one on a log of a day',
    },
    met: ratio <= 1.5,
  }
}

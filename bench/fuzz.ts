import {
  type FuzzReport,
  fuzzSeed,
  KNOWN_BUGS,
  mb,
  plainRequests,
  rssOf,
  runFuzz,
  startFuzzServer,
  WRITER_TOKEN,
} from '../apps/server/test/fuzz.ts'
import { fmt, printTable, round, track } from './lib.ts'
import type { BenchEntry } from './results.ts'

/** Cases of the full run (`pnpm test` runs 3,000 of the same seed). */
const CASES = 100_000
const CONCURRENCY = 8
/** The baseline: as many plain valid requests, through the same client, as many in flight. */
const BASELINE_PATH = '/healthz'
const READ_PATH = '/api/v1/events?after=0&limit=1'

/**
 * `pnpm bench fuzz`: 100,000 generated cases (apps/server/test/fuzz.ts) against the real server,
 * 8 in flight, seed WATCHFLOOR_FUZZ_SEED (default fixed). Baseline, same run, same server, same
 * client: 100,000 GET /healthz, and 100,000 authenticated GET /api/v1/events?after=0&limit=1.
 * The headline is cases/s; `ratio` is cases/s over /healthz requests/s. Met when no failure
 * falls outside KNOWN_BUGS (those are reported apart, with their first messages).
 */
export async function benchFuzz(): Promise<BenchEntry> {
  const seed = fuzzSeed()
  const cases = Number(process.env.WATCHFLOOR_FUZZ_CASES ?? CASES)
  const target = await startFuzzServer()
  track(target.server.child)
  try {
    const rssAtStart = rssOf(target.pid) ?? 0
    console.log(`  fuzz server pid ${target.pid}, RSS ${mb(rssAtStart)} MB after setup; seed ${seed}`)
    const health = await plainRequests(target.url, BASELINE_PATH, null, cases, CONCURRENCY)
    console.log(`  baseline GET ${BASELINE_PATH}: ${fmt(health.perSecond)} requests/s`)
    const read = await plainRequests(target.url, READ_PATH, WRITER_TOKEN, cases, CONCURRENCY)
    console.log(`  baseline GET ${READ_PATH}: ${fmt(read.perSecond)} requests/s`)
    const rssAfterBaseline = rssOf(target.pid) ?? 0

    const report = await runFuzz(target, {
      seed,
      from: 0,
      to: cases - 1,
      concurrency: CONCURRENCY,
      progressEvery: 10_000,
      onProgress: (done, total, partial) =>
        console.log(
          `  fuzz ${fmt(done)}/${fmt(total)}: ${fmt(done / (partial.durationMs / 1000))} cases/s, ` +
            `RSS ${mb(rssOf(target.pid) ?? 0)} MB, failures ${partial.failures.length}`,
        ),
    })
    print(report, health.perSecond, read.perSecond, rssAtStart, rssAfterBaseline)

    const known = report.failures.filter((f) => KNOWN_BUGS[f.family] !== undefined)
    const unknown = report.failures.filter((f) => KNOWN_BUGS[f.family] === undefined)
    const casesPerSecond = report.cases / (report.durationMs / 1000)
    return {
      name: 'fuzz',
      headline: 'casesPerSecond',
      figures: {
        seed,
        cases: report.cases,
        concurrency: CONCURRENCY,
        seconds: round(report.durationMs / 1000, 1),
        casesPerSecond: round(casesPerSecond),
        statuses: [report.statuses],
        statusesByTarget: [report.statusesByTarget],
        meanMsByTarget: [
          Object.fromEntries(
            Object.entries(report.msByTarget).map(([t, { first, second }]) => [
              t,
              [round(first[1] / Math.max(1, first[0]), 1), round(second[1] / Math.max(1, second[0]), 1)],
            ]),
          ),
        ],
        failures: report.failures.length,
        knownBugFailures: known.length,
        newFailures: unknown.length,
        failuresByFamily: [countBy(report.failures.map((f) => f.family))],
        logHeadBefore: report.headBefore,
        logHeadAfter: report.headAfter,
        appendedByAnswers: report.appended,
        appendedByAcklessCommands: report.appendedUnacked,
        rssAfterSetupMb: mb(rssAtStart),
        rssStartMb: mb(report.rss.start),
        rssPeakMb: mb(report.rss.peak),
        rssEndMb: mb(report.rss.end),
        rssBoundMb: mb(report.rss.bound),
        rssEvery10kMb: report.rssSamples.map((s) => mb(s.rss)),
        serverErrorLines: report.serverErrors.length,
      },
      baseline: {
        name: `GET ${BASELINE_PATH} x ${cases}, ${CONCURRENCY} in flight (and GET ${READ_PATH} with a token)`,
        figures: {
          requests: cases,
          requestsPerSecond: round(health.perSecond),
          authenticatedReadsPerSecond: round(read.perSecond),
        },
      },
      ratio: round(casesPerSecond / health.perSecond, 3),
      target: {
        figure: 'newFailures',
        max: 0,
        text: 'no failure outside KNOWN_BUGS: no 5xx, no hang, 4xx error bodies, RSS under its bound, log intact',
      },
      met: unknown.length === 0,
    }
  } finally {
    await target.stop()
  }
}

function countBy(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const key of keys) out[key] = (out[key] ?? 0) + 1
  return out
}

function print(
  report: FuzzReport,
  healthPerSecond: number,
  readPerSecond: number,
  rssAtStart: number,
  rssAfterBaseline: number,
): void {
  const seconds = report.durationMs / 1000
  const perSecond = report.cases / seconds
  printTable(
    `fuzz: ${fmt(report.cases)} cases, seed ${report.seed}, ${CONCURRENCY} in flight`,
    ['', 'count', 'per second', 'vs /healthz'],
    [
      ['fuzz cases', fmt(report.cases), fmt(perSecond), fmt(perSecond / healthPerSecond, 3)],
      [`GET ${BASELINE_PATH}`, fmt(report.cases), fmt(healthPerSecond), '1.000'],
      [`GET ${READ_PATH}`, fmt(report.cases), fmt(readPerSecond), fmt(readPerSecond / healthPerSecond, 3)],
    ],
  )
  const targets = Object.keys(report.statusesByTarget).sort()
  printTable(
    'statuses and acks by target',
    ['target', 'cases', 'outcomes'],
    targets.map((t) => [
      t,
      fmt(report.byTarget[t] ?? 0),
      Object.entries(report.statusesByTarget[t] ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}:${v}`)
        .join(' '),
    ]),
  )
  const mean = ([n, ms]: [number, number]) => (n === 0 ? '-' : fmt(ms / n, 1))
  printTable(
    'mean ms per case, from sending to the checked answer (8 in flight), by half of the run',
    ['target', 'first half', 'second half'],
    targets.map((t) => {
      const times = report.msByTarget[t]
      return [t, times ? mean(times.first) : '-', times ? mean(times.second) : '-']
    }),
  )
  printTable(
    'all outcomes',
    ['outcome', 'count'],
    Object.entries(report.statuses)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, fmt(v)]),
  )
  printTable(
    'server RSS (VmRSS of the server process)',
    ['after setup', 'after baselines', 'fuzz start', 'peak', 'end', 'bound'],
    [
      [rssAtStart, rssAfterBaseline, report.rss.start, report.rss.peak, report.rss.end, report.rss.bound].map(
        (b) => `${mb(b)} MB`,
      ),
    ],
  )
  console.log(`  RSS every 10,000 cases (MB): ${report.rssSamples.map((s) => mb(s.rss)).join(', ')}`)
  console.log(
    `  log: head ${report.headBefore} -> ${report.headAfter}; ${report.appended} events reported by 2xx answers and ok acks, ` +
      `${report.appendedUnacked} by ack-less socket commands`,
  )
  console.log(`  server log: ${report.serverErrors.length} lines at error level`)
  const byFamily = countBy(report.failures.map((f) => f.family))
  if (report.failures.length === 0) console.log('  failures: none')
  for (const [family, n] of Object.entries(byFamily)) {
    const bug = KNOWN_BUGS[family]
    console.log(`\n  ${n} failure(s) of ${family}${bug ? ` (KNOWN BUG: ${bug})` : ' (NEW)'}; first:`)
    for (const f of report.failures.filter((x) => x.family === family).slice(0, 2))
      console.log(`    ${f.message.replace(/\n/g, '\n    ')}`)
  }
}

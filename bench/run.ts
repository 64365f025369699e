import { benchFanout, benchFanoutPostgres } from './fanout.ts'
import { benchFuzz } from './fuzz.ts'
import {
  benchIngestHistory,
  benchIngestPostCpu,
  benchIngestRest,
  benchIngestRestPostgres,
  benchIngestStore,
} from './ingest.ts'
import { backgroundCores, guardChildren, killAll } from './lib.ts'
import { benchOpen } from './open.ts'
import { runPicture } from './picture.ts'
import { benchReplayFold, benchReplaySeek } from './replay.ts'
import { type BenchEntry, environment, RESULTS_FILE, saveResults } from './results.ts'
import { benchSoak } from './soak.ts'

/**
 * `pnpm bench [ingest|history|fanout|picture|replay|soak|fuzz|open|postgres]`: run the benchmarks, print their
 * tables and merge the entries into bench/results/latest.json (`history` is `ingest.history` alone,
 * which `ingest` runs too). Every child process is killed on exit.
 * `fuzz` (100,000 generated requests, several minutes), `open` (logs of 10,000 to 1,000,000 events, or the sizes of `BENCH_OPEN_SIZES` such as 10,000,000,
 * written and opened, a few minutes) and `postgres` (three processes on PostgreSQL against one, and
 * REST ingest with two; needs PostgreSQL) run only when named: `pnpm bench` alone leaves them out.
 */
const FILTERS = ['ingest', 'history', 'fanout', 'picture', 'replay', 'soak', 'fuzz', 'open', 'postgres'] as const
type Filter = (typeof FILTERS)[number]

async function main(): Promise<void> {
  const filter = process.argv[2] as Filter | undefined
  if (filter !== undefined && !FILTERS.includes(filter)) {
    console.error(`usage: pnpm bench [${FILTERS.join('|')}]`)
    process.exit(2)
  }
  guardChildren()
  const env = environment()
  console.log(`Watchfloor benchmarks, ${env.date}: Node ${env.node}, ${env.cores} cores (${env.cpu})`)
  const entries: BenchEntry[] = []
  const started = Date.now()
  // The machine is shared: note how busy it is with other work before each benchmark.
  const run = async (name: string, bench: () => Promise<BenchEntry | BenchEntry[]>): Promise<void> => {
    const background = await backgroundCores()
    console.log(`\n[${name}] background load before start: ${background ?? '?'} of ${env.cores} cores busy`)
    const result = await bench()
    const after = await backgroundCores()
    console.log(`[${name}] background load after: ${after ?? '?'} of ${env.cores} cores busy`)
    for (const entry of Array.isArray(result) ? result : [result]) {
      entry.environment = {
        ...env,
        date: new Date().toISOString(),
        backgroundCores: background,
        backgroundCoresAfter: after,
      }
      entries.push(entry)
    }
  }
  if (!filter || filter === 'ingest') {
    let raw1000 = 0
    await run('ingest.store', async () => {
      const store = await benchIngestStore()
      raw1000 = store.raw1000
      return store.entry
    })
    await run('ingest.rest', () => benchIngestRest(raw1000))
    await run('ingest.post-cpu', benchIngestPostCpu)
  }
  if (!filter || filter === 'ingest' || filter === 'history') await run('ingest.history', benchIngestHistory)
  if (!filter || filter === 'fanout') await run('fanout', benchFanout)
  if (!filter || filter === 'picture') await run('picture.live', runPicture)
  if (!filter || filter === 'replay') {
    await run('replay.fold', benchReplayFold)
    await run('replay.seek', benchReplaySeek)
  }
  if (!filter || filter === 'soak') await run('wall.soak', benchSoak)
  if (filter === 'fuzz') await run('fuzz', benchFuzz)
  if (filter === 'open') await run('open', benchOpen)
  if (filter === 'postgres') {
    await run('fanout.postgres', benchFanoutPostgres)
    await run('ingest.rest.postgres', benchIngestRestPostgres)
  }
  saveResults(entries)

  console.log('\nSummary')
  for (const entry of entries)
    console.log(
      `  ${entry.name.padEnd(20)} ${entry.met ? 'met    ' : 'NOT met'}  ratio ${entry.ratio}  target ${entry.target.text}`,
    )
  console.log(`\nwrote ${RESULTS_FILE} in ${Math.round((Date.now() - started) / 1000)} s`)
}

main()
  .then(() => {
    killAll()
    process.exit(0)
  })
  .catch((error: unknown) => {
    console.error(error)
    killAll()
    process.exit(1)
  })

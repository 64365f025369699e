import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { EventInput } from '../packages/protocol/src/index.ts'
import type { ClientStats } from './fanout-clients.ts'
import {
  cpuSeconds,
  fmt,
  nowMs,
  observation,
  pgSchema,
  printTable,
  type RunningProcess,
  root,
  round,
  sleep,
  spawnTs,
  startBare,
  startWatchfloor,
  stopChild,
  TOKENS,
  viewerHead,
} from './lib.ts'
import type { BenchEntry } from './results.ts'

/**
 * Per client count: the steady rate and the sweep. With 1,000 clients the rates are a fifth of
 * those with 200, so the steady phase asks for the same deliveries per second (40,000).
 */
const PLANS: Record<number, { steady: { rate: number; seconds: number }; sweep: number[] }> = {
  200: { steady: { rate: 200, seconds: 10 }, sweep: [200, 300, 500, 700, 1000, 1500, 2000, 3000] },
  1000: { steady: { rate: 40, seconds: 10 }, sweep: [40, 60, 100, 140, 200, 300, 400, 600] },
}
/** Client counts to run (`FANOUT_CLIENTS=200,1000`, the default). */
const CLIENT_COUNTS = (process.env.FANOUT_CLIENTS ?? '200,1000').split(',').map(Number)
/** Also run the old per-event baseline at 200 clients (`FANOUT_PER_EVENT=0` leaves it out). */
const PER_EVENT = process.env.FANOUT_PER_EVENT !== '0'
/**
 * `FANOUT_DURABLE=1`: also run the durable bare server (bare-server.ts `--mode durable`), a reference
 * that is not a target: the batched bare server plus the durable commit before the emit, so the
 * part of the gap that durability costs shows apart from Watchfloor's own request path.
 */
const DURABLE = process.env.FANOUT_DURABLE === '1'
const SWEEP_SECONDS = 6
/** `FANOUT_SWEEP=0`: the steady rounds only, no sweep (no saturation figure; for profiling the steady rate). */
const SWEEP = process.env.FANOUT_SWEEP !== '0'
/**
 * Steady rounds per server, alternated between the servers compared (`FANOUT_ROUNDS`, default 5);
 * the figure is the median round.
 */
const ROUNDS = Math.max(1, Math.floor(Number(process.env.FANOUT_ROUNDS ?? 5)) || 5)
const WARM_MS = 1000
const WARMUP_PHASE = 99
const TICK_MS = 10
const P99_LIMIT_MS = 250
/** POSTs allowed in flight before the sender waits (only reached when the server is far behind). */
const MAX_IN_FLIGHT = 64

export interface PhaseResult {
  rate: number
  seconds: number
  events: number
  expected: number
  deliveries: number
  delivered: number
  deliveriesPerSecond: number | null
  p50Ms: number | null
  p90Ms: number | null
  p99Ms: number | null
  maxMs: number | null
  postErrors: number
  resyncs: number
  /** Worst latency per second of send time (ms). */
  maxMsBySecond: number[]
  /**
   * Cores the server processes (together) and the clients process kept busy from the first POST to
   * the last delivery (CPU seconds per second, all threads: the garbage collector's and libuv's too).
   */
  serverCores: number | null
  clientsCores: number | null
  ok: boolean
  /** A sweep phase run again at once after it failed (2); absent for a first try. */
  attempt?: number
}

type Kind = 'watchfloor' | 'bare-batched' | 'bare-durable' | 'bare' | 'watchfloor-pg' | 'watchfloor-pg3'

interface TargetResult {
  kind: Kind
  /** The steady round with the median p99. */
  steady: PhaseResult
  /** Every steady round, in the order run. */
  rounds: PhaseResult[]
  sweep: PhaseResult[]
  saturation: number
  clients: number
  /** Seconds of this server's own work (start, connect, warm-up, its phases). */
  seconds: number
  anomalies: { duplicates: number; gaps: number; disconnects: number; unparsed: number }
}

/** A request/answer channel over the IPC of the clients process. */
class Clients {
  private nextId = 1
  private readonly waiting = new Map<number, (message: Record<string, unknown>) => void>()

  constructor(readonly child: ChildProcess) {
    child.on('message', (message: { id: number } & Record<string, unknown>) => {
      const resolve = this.waiting.get(message.id)
      if (resolve) {
        this.waiting.delete(message.id)
        resolve(message)
      }
    })
  }

  ready(timeoutMs: number): Promise<number> {
    return this.wait<{ clients: number }>(0, timeoutMs).then((m) => m.clients)
  }

  async count(phase: number): Promise<number> {
    return (await this.ask<{ deliveries: number }>({ type: 'count', phase })).deliveries
  }

  async stats(phase: number): Promise<ClientStats> {
    return (await this.ask<{ stats: ClientStats }>({ type: 'stats', phase })).stats
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ id: -1, type: 'stop' })
    await stopChild(this.child, 5_000)
  }

  private ask<T>(message: object, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++
    const answer = this.wait<T>(id, timeoutMs)
    this.child.send({ id, ...message })
    return answer
  }

  private wait<T>(id: number, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new Error(`clients process did not answer (${id}) within ${timeoutMs} ms`))
      }, timeoutMs)
      const onExit = (code: number | null) => reject(new Error(`clients process exited with ${code}`))
      this.child.once('exit', onExit)
      this.waiting.set(id, (message) => {
        clearTimeout(timer)
        this.child.off('exit', onExit)
        resolve(message as T)
      })
    })
  }
}

async function startClients(urls: string[], kind: Kind, count: number, after: number): Promise<Clients> {
  const mode = kind.startsWith('watchfloor') ? 'watchfloor' : kind === 'bare-durable' ? 'bare-batched' : kind
  const child = spawnTs(
    join(root, 'bench/fanout-clients.ts'),
    [
      '--url',
      urls.join(','),
      '--mode',
      mode,
      '--clients',
      String(count),
      '--token',
      TOKENS.viewer,
      '--after',
      String(after),
    ],
    { ipc: true },
  )
  child.stdout!.pipe(process.stdout)
  child.stderr!.pipe(process.stderr)
  const clients = new Clients(child)
  const connected = await clients.ready(120_000)
  if (connected !== count) throw new Error(`only ${connected} of ${count} clients connected`)
  return clients
}

/**
 * Post `rate` events/s for `seconds`: every ~10 ms one POST with the events due by then,
 * each carrying its phase, whether it is in the warm-up second, and its send time. With several
 * server processes the POSTs go to each in turn, as a load balancer would send them.
 */
async function drive(
  urls: string[],
  phase: number,
  rate: number,
  seconds: number,
): Promise<{ measured: number; warm: number; errors: number }> {
  const total = rate * seconds
  const inFlight = new Set<Promise<void>>()
  let sent = 0
  let measured = 0
  let warm = 0
  let errors = 0
  let posts = 0
  const start = nowMs()
  while (sent < total) {
    const elapsed = nowMs() - start
    const due = Math.min(total, Math.floor((elapsed * rate) / 1000)) - sent
    if (due > 0) {
      const t = nowMs()
      const isWarm = elapsed < WARM_MS
      const events: EventInput[] = []
      for (let i = 0; i < Math.min(due, 1000); i++)
        events.push(observation(sent + i, `${phase}:${isWarm ? 1 : 0}:${t.toFixed(3)}`))
      sent += events.length
      if (isWarm) warm += events.length
      else measured += events.length
      const url = urls[posts++ % urls.length]!
      const request = fetch(`${url}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.sensor}` },
        body: JSON.stringify({ events }),
      })
        .then(async (response) => {
          await response.arrayBuffer()
          if (response.status !== 201) errors++
        })
        .catch(() => {
          errors++
        })
        .finally(() => inFlight.delete(request))
      inFlight.add(request)
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight)
    }
    const nextTick = start + Math.ceil((nowMs() - start + 0.001) / TICK_MS) * TICK_MS
    await sleep(Math.max(1, nextTick - nowMs()))
  }
  await Promise.all(inFlight)
  return { measured, warm, errors }
}

async function runPhase(
  urls: string[],
  servers: ChildProcess[],
  clients: Clients,
  count: number,
  phase: number,
  rate: number,
  seconds: number,
) {
  const cpu = () => ({
    at: performance.now(),
    server: sum(servers.map((server) => cpuSeconds(server.pid))),
    clients: cpuSeconds(clients.child.pid),
  })
  const before = cpu()
  const sent = await drive(urls, phase, rate, seconds)
  const expected = sent.measured * count
  // Drain: wait until every delivery arrived, or nothing moved for 3 s, or 15 s at most.
  const drainStart = Date.now()
  let last = -1
  let lastMove = Date.now()
  for (;;) {
    const count = await clients.count(phase)
    if (count >= expected) break
    if (count !== last) {
      last = count
      lastMove = Date.now()
    }
    if (Date.now() - lastMove > 3_000 || Date.now() - drainStart > 15_000) break
    await sleep(250)
  }
  const after = cpu()
  const stats = await clients.stats(phase)
  const wallSeconds = (after.at - before.at) / 1000
  const cores = (from: number | null, to: number | null) =>
    from === null || to === null ? null : round((to - from) / wallSeconds, 3)
  const delivered = expected > 0 ? stats.deliveries / expected : 0
  const result: PhaseResult = {
    rate,
    seconds,
    events: sent.measured,
    expected,
    deliveries: stats.deliveries,
    delivered: round(delivered, 4),
    deliveriesPerSecond: stats.deliveriesPerSecond === null ? null : round(stats.deliveriesPerSecond),
    p50Ms: stats.p50 === null ? null : round(stats.p50, 1),
    p90Ms: stats.p90 === null ? null : round(stats.p90, 1),
    p99Ms: stats.p99 === null ? null : round(stats.p99, 1),
    maxMs: stats.max === null ? null : round(stats.max, 1),
    postErrors: sent.errors,
    resyncs: stats.resyncs,
    maxMsBySecond: stats.maxMsBySecond,
    serverCores: cores(before.server, after.server),
    clientsCores: cores(before.clients, after.clients),
    ok: stats.deliveries === expected && sent.errors === 0 && stats.p99 !== null && stats.p99 < P99_LIMIT_MS,
  }
  return { result, stats }
}

/** A server (or servers of one log) started with its clients connected and warmed up. */
interface Running {
  kind: Kind
  count: number
  plan: (typeof PLANS)[number]
  urls: string[]
  servers: RunningProcess[]
  schema: { url: string; drop(): Promise<void> } | undefined
  clients: Clients | undefined
  /** The next phase number in its clients process (0 and up; the warm-up is WARMUP_PHASE). */
  phase: number
  /** Time spent starting it and in its own phases (ms). */
  busyMs: number
}

async function startTarget(kind: Kind, count: number): Promise<Running> {
  const plan = PLANS[count]
  if (!plan) throw new Error(`no fanout plan for ${count} clients (have ${Object.keys(PLANS).join(', ')})`)
  const began = Date.now()
  console.log(`\n  fanout: ${kind} server, ${count} clients`)
  const running: Running = {
    kind,
    count,
    plan,
    urls: [],
    servers: [],
    schema: undefined,
    clients: undefined,
    phase: 0,
    busyMs: 0,
  }
  try {
    if (kind === 'watchfloor') running.servers.push(await startWatchfloor())
    else if (kind === 'bare-batched' || kind === 'bare-durable' || kind === 'bare')
      running.servers.push(
        await startBare(kind === 'bare-batched' ? 'batched' : kind === 'bare-durable' ? 'durable' : 'per-event'),
      )
    else {
      // One PostgreSQL log in a schema of its own; the first process creates the tables.
      const schema = await pgSchema('fanout')
      running.schema = schema
      running.servers.push(await startWatchfloor({ databaseUrl: schema.url }))
      if (kind === 'watchfloor-pg3')
        running.servers.push(...(await Promise.all([1, 2].map(() => startWatchfloor({ databaseUrl: schema.url })))))
    }
    running.urls = running.servers.map((server) => server.url)
    let head = 0
    if (kind.startsWith('watchfloor')) head = await viewerHead(running.urls[0]!)
    // With several processes the clients are spread over them in turn.
    running.clients = await startClients(running.urls, kind, count, head)
    // Unmeasured warm-up after the clients connect (JIT, socket buffers).
    await runPhase(running.urls, children(running), running.clients, count, WARMUP_PHASE, plan.steady.rate, 3)
  } catch (error) {
    await stopTarget(running)
    throw error
  }
  running.busyMs += Date.now() - began
  return running
}

const children = (running: Running) => running.servers.map((server) => server.child)

/** The sum of figures, or null when one of them is missing. */
function sum(values: (number | null)[]): number | null {
  return values.some((value) => value === null) ? null : values.reduce<number>((a, b) => a + b!, 0)
}

async function stopTarget(running: Running): Promise<void> {
  await running.clients?.stop()
  await Promise.all(running.servers.map((server) => server.stop()))
  await running.schema?.drop()
}

/** One measured phase of `running` at `rate` for `seconds`, after a second of quiet. */
async function measure(running: Running, rate: number, seconds: number): Promise<PhaseResult> {
  await sleep(1000)
  const began = Date.now()
  const { result } = await runPhase(
    running.urls,
    children(running),
    running.clients!,
    running.count,
    running.phase++,
    rate,
    seconds,
  )
  running.busyMs += Date.now() - began
  return result
}

/**
 * The sweeps of every server compared, rate by rate (A and B at 200/s, then B and A at 300/s, ...),
 * so that the machine's slow minutes fall on both alike; each server climbs until the first rate it
 * fails twice running (a phase that fails is tried once more at once: one stall of the machine fails
 * a phase of 6 s as surely as saturation does). Saturation is the last rate passed.
 */
async function sweepsOf(running: Running[]): Promise<Map<Running, { sweep: PhaseResult[]; saturation: number }>> {
  const sweeps = new Map(running.map((r) => [r, { sweep: [] as PhaseResult[], saturation: 0, over: !SWEEP }]))
  for (const [i, rate] of (running[0]?.plan.sweep ?? []).entries()) {
    // the order turns at every rate, so that no server always runs right after another's failed phase
    for (const r of i % 2 === 0 ? running : [...running].reverse()) {
      const state = sweeps.get(r)!
      if (state.over) continue
      for (let attempt = 1; attempt <= 2; attempt++) {
        const result = await measure(r, rate, SWEEP_SECONDS)
        state.sweep.push(attempt > 1 ? { ...result, attempt } : result)
        console.log(
          `  ${r.kind} ${rate}/s${attempt > 1 ? ' (again)' : ''}: p99 ${fmt(result.p99Ms, 1)} ms, delivered ${result.delivered}, ${fmt(result.deliveriesPerSecond)} deliveries/s${result.ok ? '' : ' (over)'}`,
        )
        if (result.ok) {
          state.saturation = rate
          break
        }
        // Past saturation the backlog only grows: stop rather than flood the machine.
        if (attempt === 2) state.over = true
      }
    }
  }
  return sweeps
}

/** The round with the median p99 (a missing p99 counts as the worst). */
function medianRound(rounds: PhaseResult[]): PhaseResult {
  const sorted = [...rounds].sort(
    (a, b) => (a.p99Ms ?? Number.POSITIVE_INFINITY) - (b.p99Ms ?? Number.POSITIVE_INFINITY),
  )
  return sorted[Math.floor((sorted.length - 1) / 2)]!
}

/**
 * Start every server of one comparison (each with its own clients, all idle but the one measured),
 * then alternate their steady rounds (A B A B ...: a stall of the machine lands on one round of one
 * server, not on all of its figure), then their sweeps rate by rate (`sweepsOf`). The steady figure
 * of each is its median round.
 */
async function runComparison(kinds: Kind[], count: number): Promise<TargetResult[]> {
  const running: Running[] = []
  try {
    for (const kind of kinds) running.push(await startTarget(kind, count))
    const rounds = new Map<Running, PhaseResult[]>(running.map((r) => [r, []]))
    for (let round = 1; round <= ROUNDS; round++)
      for (const r of running) {
        const result = await measure(r, r.plan.steady.rate, r.plan.steady.seconds)
        rounds.get(r)!.push(result)
        console.log(
          `  ${r.kind} steady ${r.plan.steady.rate}/s, round ${round} of ${ROUNDS}: p99 ${fmt(result.p99Ms, 1)} ms, delivered ${result.delivered}, worst per second ${result.maxMsBySecond.join(' ')} ms; cores busy: server ${fmt(result.serverCores, 2)}, clients ${fmt(result.clientsCores, 2)}`,
        )
      }
    const sweeps = await sweepsOf(running)
    const results: TargetResult[] = []
    for (const r of running) {
      const { sweep, saturation } = sweeps.get(r)!
      const final = await r.clients!.stats(0)
      const steadyRounds = rounds.get(r)!
      results.push({
        kind: r.kind,
        steady: medianRound(steadyRounds),
        rounds: steadyRounds,
        sweep,
        saturation,
        clients: count,
        seconds: Math.round(r.busyMs / 1000),
        anomalies: {
          duplicates: final.duplicates,
          gaps: final.gaps,
          disconnects: final.disconnects,
          unparsed: final.unparsed,
        },
      })
    }
    return results
  } finally {
    for (const r of running) await stopTarget(r)
  }
}

const LABELS: Record<Kind, string> = {
  watchfloor: 'watchfloor',
  'watchfloor-pg': 'watchfloor pg x1',
  'watchfloor-pg3': 'watchfloor pg x3',
  'bare-batched': 'bare batched',
  'bare-durable': 'bare durable',
  bare: 'bare per-event',
}

const BASELINE_NAMES: Record<Exclude<Kind, 'watchfloor' | 'watchfloor-pg3'>, string> = {
  'watchfloor-pg': 'one Watchfloor process on PostgreSQL, same clients and posts (all to it), run before the three',
  'bare-batched':
    'bare Socket.IO 4 server, batched: one io.to(room).emit("events") per POST (committed group), same clients and posts',
  'bare-durable':
    'bare Socket.IO 4 server, batched, each POST committed to SQLite and its write-ahead log synced before the emit (a reference: durability without the rest of the request path)',
  bare: 'bare Socket.IO 4 server, per-event: io.emit per event (the old baseline), same clients and posts',
}

function figures(t: TargetResult) {
  return {
    clients: t.clients,
    steadyRate: t.steady.rate,
    p99MsSteady: t.steady.p99Ms,
    p50MsSteady: t.steady.p50Ms,
    // -1: a round with no delivery
    p99MsRounds: t.rounds.map((p) => p.p99Ms ?? -1),
    deliveredSteady: t.steady.delivered,
    saturationEventsPerSecond: t.saturation,
    runSeconds: t.seconds,
    steady: t.rounds as unknown as Record<string, unknown>[],
    sweep: t.sweep as unknown as Record<string, unknown>[],
    duplicates: t.anomalies.duplicates,
    gaps: t.anomalies.gaps,
    disconnects: t.anomalies.disconnects,
  }
}

/**
 * Watchfloor against a baseline: p99 at the steady rate (the median round of each) within 1.1x the
 * baseline's (every event of every round delivered), and a saturation rate at least 0.8x the
 * baseline's.
 */
function compare(
  name: string,
  ours: TargetResult,
  bare: TargetResult & { kind: 'bare' | 'bare-batched' | 'bare-durable' | 'watchfloor-pg' },
  p99Factor = 1.1,
  saturationFactor: number | null = 0.8,
): BenchEntry {
  const limit = (bare.steady.p99Ms ?? 0) * p99Factor
  const everyDelivered = ours.rounds.every((round) => round.delivered === 1)
  const steadyMet = everyDelivered && ours.steady.p99Ms !== null && ours.steady.p99Ms <= limit
  const saturationMet = saturationFactor === null || ours.saturation >= bare.saturation * saturationFactor
  // A baseline that fails its own steady phase (the machine was too busy for it) settles nothing.
  const conclusive = bare.steady.ok && (saturationFactor === null || bare.saturation > 0)
  const ratio = ours.steady.p99Ms !== null && bare.steady.p99Ms ? round(ours.steady.p99Ms / bare.steady.p99Ms, 3) : 0
  const saturationRatio = bare.saturation > 0 ? round(ours.saturation / bare.saturation, 3) : 0
  console.log(
    `${name}: p99 ${fmt(ours.steady.p99Ms, 1)} ms vs ${LABELS[bare.kind]} ${fmt(bare.steady.p99Ms, 1)} ms (ratio ${ratio}, target <= ${p99Factor}): ${steadyMet ? 'met' : 'NOT met'}; ` +
      `saturation ${fmt(ours.saturation)} vs ${fmt(bare.saturation)} ev/s (ratio ${saturationRatio}, target ${saturationFactor === null ? 'none' : `>= ${saturationFactor}`}): ${saturationMet ? 'met' : 'NOT met'}${conclusive ? '' : '; INCONCLUSIVE: the baseline failed its own steady phase or lowest rate'}`,
  )
  return {
    name,
    headline: 'p99MsSteady',
    figures: { ...figures(ours), saturationRatio, steadyMet, saturationMet, conclusive },
    baseline: { name: BASELINE_NAMES[bare.kind], figures: figures(bare) },
    ratio,
    target: {
      figure: 'p99MsSteady',
      max: round(limit, 1),
      text: `${ours.clients} clients: at ${ours.steady.rate} events/s all delivered with p99 <= baseline p99 x ${p99Factor}${saturationFactor === null ? '' : `; saturation rate >= baseline x ${saturationFactor}`}`,
    },
    met: conclusive && steadyMet && saturationMet,
  }
}

/**
 * Per client count (200 and 1,000 by default): Watchfloor, the batched bare server and (at 200
 * clients) the old per-event bare server, started together and measured one at a time, never at the
 * same time: steady rounds alternated, then their sweeps rate by rate. Entries: `fanout.<clients>` against
 * the batched baseline, `fanout.per-event.200` against the old one.
 */
export async function benchFanout(): Promise<BenchEntry[]> {
  const entries: BenchEntry[] = []
  const runs: TargetResult[] = []
  for (const count of CLIENT_COUNTS) {
    const kinds: Kind[] = ['watchfloor', 'bare-batched']
    if (PER_EVENT && count === 200) kinds.push('bare')
    if (DURABLE) kinds.push('bare-durable')
    const results = await runComparison(kinds, count)
    const of = <K extends Kind>(kind: K) =>
      results.find((result) => result.kind === kind) as (TargetResult & { kind: K }) | undefined
    const ours = of('watchfloor')!
    runs.push(...results)
    entries.push(compare(`fanout.${count}`, ours, of('bare-batched')!))
    const perEvent = of('bare')
    if (perEvent) entries.push(compare(`fanout.per-event.${count}`, ours, perEvent))
    const durable = of('bare-durable')
    if (durable) entries.push(compare(`fanout.durable-reference.${count}`, ours, durable))
  }
  printRuns(runs)
  return entries
}

/**
 * Three Watchfloor processes on one PostgreSQL log against one process on another (`pnpm bench
 * postgres`), started together and measured in turn as above: 200 clients spread over the
 * processes, POSTs to each in turn; target p99 at the steady rate within 1.5x the one process's
 * (saturation is recorded, not targeted).
 */
export async function benchFanoutPostgres(): Promise<BenchEntry> {
  const count = 200
  const [one, three] = await runComparison(['watchfloor-pg', 'watchfloor-pg3'], count)
  const entry = compare(
    `fanout.postgres.3x${count}`,
    three!,
    one as TargetResult & { kind: 'watchfloor-pg' },
    1.5,
    null,
  )
  printRuns([one!, three!])
  return entry
}

function printRuns(runs: TargetResult[]): void {
  const row = (t: TargetResult, label: string, p: PhaseResult) => [
    `${LABELS[t.kind]} ${t.clients} ${label}`,
    fmt(p.rate),
    fmt(p.expected),
    fmt(p.deliveries),
    `${fmt(p.delivered * 100, 2)}%`,
    fmt(p.deliveriesPerSecond),
    fmt(p.p50Ms, 1),
    fmt(p.p99Ms, 1),
    fmt(p.maxMs, 1),
    String(p.resyncs),
    fmt(p.serverCores, 2),
    fmt(p.clientsCores, 2),
    p.ok ? 'yes' : 'no',
  ]
  printTable(
    `fanout: WebSocket clients (separate process); steady rounds of 10 s alternated between the servers (* the median), sweeps alternated rate by rate, ${SWEEP_SECONDS} s per rate, a failed rate tried once more; first second dropped`,
    [
      'server clients phase',
      'ev/s',
      'expected',
      'delivered',
      'fraction',
      'deliv/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'resyncs',
      'server cores',
      'clients cores',
      'ok',
    ],
    runs.flatMap((t) => [
      ...t.rounds.map((p, i) => row(t, `steady ${i + 1}${p === t.steady ? '*' : ''}`, p)),
      ...t.sweep.map((p) => row(t, 'sweep', p)),
    ]),
  )
  for (const t of runs)
    console.log(
      `${LABELS[t.kind]}, ${t.clients} clients: saturation (p99 < ${P99_LIMIT_MS} ms, all delivered) ${fmt(t.saturation)} ev/s; ${t.seconds} s; anomalies ${JSON.stringify(t.anomalies)}`,
    )
}

import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { EventInput } from '../packages/protocol/src/index.ts'
import type { ClientStats } from './fanout-clients.ts'
import {
  fmt,
  nowMs,
  observation,
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

const CLIENTS = 200
const STEADY = { rate: 200, seconds: 10 }
const SWEEP = [200, 300, 500, 700, 1000, 1500, 2000, 3000]
const SWEEP_SECONDS = 6
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
  ok: boolean
}

interface TargetResult {
  steady: PhaseResult
  sweep: PhaseResult[]
  saturation: number
  clients: number
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

async function startClients(url: string, mode: 'watchfloor' | 'bare', after: number): Promise<Clients> {
  const child = spawnTs(
    join(root, 'bench/fanout-clients.ts'),
    ['--url', url, '--mode', mode, '--clients', String(CLIENTS), '--token', TOKENS.viewer, '--after', String(after)],
    { ipc: true },
  )
  child.stdout!.pipe(process.stdout)
  child.stderr!.pipe(process.stderr)
  const clients = new Clients(child)
  const connected = await clients.ready(60_000)
  if (connected !== CLIENTS) throw new Error(`only ${connected} of ${CLIENTS} clients connected`)
  return clients
}

/**
 * Post `rate` events/s for `seconds`: every ~10 ms one POST with the events due by then,
 * each carrying its phase, whether it is in the warm-up second, and its send time.
 */
async function drive(
  url: string,
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

async function runPhase(url: string, clients: Clients, phase: number, rate: number, seconds: number) {
  const sent = await drive(url, phase, rate, seconds)
  const expected = sent.measured * CLIENTS
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
  const stats = await clients.stats(phase)
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
    ok: stats.deliveries === expected && sent.errors === 0 && stats.p99 !== null && stats.p99 < P99_LIMIT_MS,
  }
  return { result, stats }
}

async function runTarget(kind: 'watchfloor' | 'bare'): Promise<TargetResult> {
  console.log(`\n  fanout: ${kind} server, ${CLIENTS} clients`)
  let server: RunningProcess | undefined
  let clients: Clients | undefined
  try {
    server = kind === 'watchfloor' ? await startWatchfloor() : await startBare()
    let head = 0
    if (kind === 'watchfloor') head = await viewerHead(server.url)
    clients = await startClients(server.url, kind, head)
    // Unmeasured warm-up after the clients connect (JIT, socket buffers), then the measured phases.
    await runPhase(server.url, clients, WARMUP_PHASE, STEADY.rate, 3)
    await sleep(1000)
    const steady = (await runPhase(server.url, clients, 0, STEADY.rate, STEADY.seconds)).result
    console.log(
      `  ${kind} steady ${STEADY.rate}/s: p99 ${fmt(steady.p99Ms, 1)} ms, delivered ${steady.delivered}, worst per second ${steady.maxMsBySecond.join(' ')} ms`,
    )
    const sweep: PhaseResult[] = []
    let saturation = 0
    let climbing = true
    let phase = 1
    for (const rate of SWEEP) {
      await sleep(1000)
      const { result } = await runPhase(server.url, clients, phase++, rate, SWEEP_SECONDS)
      sweep.push(result)
      console.log(
        `  ${kind} ${rate}/s: p99 ${fmt(result.p99Ms, 1)} ms, delivered ${result.delivered}, ${fmt(result.deliveriesPerSecond)} deliveries/s${result.ok ? '' : ' (over)'}`,
      )
      if (result.ok && climbing) saturation = rate
      else climbing = false
      // Past saturation the backlog only grows: stop rather than flood the machine.
      if (!result.ok) break
    }
    const final = await clients.stats(0)
    return {
      steady,
      sweep,
      saturation,
      clients: CLIENTS,
      anomalies: {
        duplicates: final.duplicates,
        gaps: final.gaps,
        disconnects: final.disconnects,
        unparsed: final.unparsed,
      },
    }
  } finally {
    await clients?.stop()
    await server?.stop()
  }
}

export async function benchFanout(): Promise<BenchEntry> {
  const ours = await runTarget('watchfloor')
  await sleep(2000)
  const bare = await runTarget('bare')

  const limit = (bare.steady.p99Ms ?? 0) * 1.1 + 5
  const steadyMet = ours.steady.delivered === 1 && ours.steady.p99Ms !== null && ours.steady.p99Ms <= limit
  const saturationMet = ours.saturation >= bare.saturation
  const ratio = ours.steady.p99Ms !== null && bare.steady.p99Ms ? round(ours.steady.p99Ms / bare.steady.p99Ms, 3) : 0

  const row = (label: string, p: PhaseResult) => [
    label,
    fmt(p.rate),
    fmt(p.expected),
    fmt(p.deliveries),
    `${fmt(p.delivered * 100, 2)}%`,
    fmt(p.deliveriesPerSecond),
    fmt(p.p50Ms, 1),
    fmt(p.p99Ms, 1),
    fmt(p.maxMs, 1),
    String(p.resyncs),
    p.ok ? 'yes' : 'no',
  ]
  printTable(
    `fanout: ${CLIENTS} WebSocket clients (separate process); steady ${STEADY.seconds} s, sweep ${SWEEP_SECONDS} s per rate; first second dropped`,
    [
      'server / phase',
      'ev/s',
      'expected',
      'delivered',
      'fraction',
      'deliv/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'resyncs',
      'ok',
    ],
    [
      row('watchfloor steady', ours.steady),
      ...ours.sweep.map((p) => row('watchfloor sweep', p)),
      row('bare steady', bare.steady),
      ...bare.sweep.map((p) => row('bare sweep', p)),
    ],
  )
  console.log(
    `saturation (highest rate with p99 < ${P99_LIMIT_MS} ms and all delivered): watchfloor ${fmt(ours.saturation)} ev/s, bare ${fmt(bare.saturation)} ev/s`,
  )
  console.log(
    `steady target: watchfloor p99 ${fmt(ours.steady.p99Ms, 1)} ms <= bare p99 x 1.1 + 5 ms = ${fmt(limit, 1)} ms: ${steadyMet ? 'met' : 'NOT met'}`,
  )
  console.log(`anomalies (watchfloor): ${JSON.stringify(ours.anomalies)}; (bare): ${JSON.stringify(bare.anomalies)}`)

  const figures = (t: TargetResult) => ({
    clients: t.clients,
    p99MsAt200: t.steady.p99Ms,
    p50MsAt200: t.steady.p50Ms,
    deliveredAt200: t.steady.delivered,
    saturationEventsPerSecond: t.saturation,
    steady: [t.steady as unknown as Record<string, unknown>],
    sweep: t.sweep as unknown as Record<string, unknown>[],
    duplicates: t.anomalies.duplicates,
    gaps: t.anomalies.gaps,
    disconnects: t.anomalies.disconnects,
  })
  return {
    name: 'fanout',
    headline: 'p99MsAt200',
    figures: figures(ours),
    baseline: { name: 'bare Socket.IO 4 server, io.emit per event, same clients and posts', figures: figures(bare) },
    ratio,
    target: {
      figure: 'p99MsAt200',
      max: round(limit, 1),
      text: 'at 200 events/s all delivered with p99 <= bare p99 x 1.1 + 5 ms (noise allowance); saturation rate >= bare',
    },
    met: steadyMet && saturationMet,
  }
}

import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import type { EventInput } from '@watchfloor/protocol'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { event, headOf, post, type ServerProcess, startServerProcess, TOKENS, Watcher } from './harness.ts'

/**
 * Slow consumers against a real server process (apps/server/SPEC.md D8, D13): a socket that stops
 * reading holds at most its byte budget of server memory, is told to resync or dropped, and does not
 * slow the others down; a principal's sockets are capped.
 */
const MiB = 1024 * 1024
const BUDGET = 1 * MiB
const STALL_S = 3
const PER_PRINCIPAL = 6
const METRICS_TOKEN = 'slow-consumer-metrics-token-0123'
/** The log the paused sockets catch up: 14 batches of 1000 observations, about 28 MB (26.5 MiB) of JSON. */
const LOG_BATCHES = 14
const PAUSED = 4
const LATENCY_SAMPLES = 300

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** mulberry32: the same "random" sizes and texts on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./:-_'
function textPool(random: () => number, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(random() * ALPHABET.length)]
  return out
}

/** The server process's resident set, from /proc (Linux). */
function rss(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match![1]) * 1024
}
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10

/** Stop reading from the socket's TCP connection (as the existing D8 tests do): the server's buffers fill. */
function pauseReading(w: Watcher): { resume(): void } {
  const engine = (
    w.socket.io as unknown as { engine: { transport: { ws: { _socket: { pause(): void; resume(): void } } } } }
  ).engine
  const tcp = engine.transport.ws._socket
  tcp.pause()
  return { resume: () => tcp.resume() }
}

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.ceil(sorted.length * 0.99) - 1]!
}

const connected = (w: Watcher) =>
  new Promise<void>((resolve, reject) => {
    if (w.socket.connected) return resolve()
    w.socket.once('connect', () => resolve())
    w.socket.once('connect_error', reject)
  })

const count = (text: string, needle: string) => text.split(needle).length - 1

/** A counter of `GET /metrics`, by its name and labels as exposed (`name{label="value"}`); 0 before it counts. */
async function counterOf(url: string, series: string): Promise<number> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  expect(response.status).toBe(200)
  const line = (await response.text()).split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}
const SHED_RESYNC = 'watchfloor_slow_consumers_total{action="resync"}'
const SHED_DISCONNECT = 'watchfloor_slow_consumers_total{action="disconnect"}'
const RESYNC_SLOW = 'watchfloor_resyncs_total{reason="slow_consumer"}'

describe('slow consumers (SPEC.md D8, D13)', () => {
  let server: ServerProcess
  let watchers: Watcher[] = []
  const watch = (token: string) => {
    const w = new Watcher(server.url, token)
    watchers.push(w)
    return w
  }
  /** A viewer's own head [D14]: where its socket subscribes from to get only what comes next. */
  const head = (token: string) => headOf(server.url, token)
  const counter = (series: string) => counterOf(server.url, series)

  /**
   * Latency of a live socket: post one small event at a time and time it from before the POST to its
   * arrival on the socket (so it includes the durable append, the same in every run).
   */
  const latencies = async (live: Watcher, n: number): Promise<number[]> => {
    const arrivals = new Map<string, number>()
    let waiting: { id: string; resolve: () => void } | undefined
    const onEvents = ({ events }: { events: { id: string }[] }) => {
      const now = performance.now()
      for (const e of events) {
        arrivals.set(e.id, now)
        if (waiting?.id === e.id) waiting.resolve()
      }
    }
    live.socket.on('events', onEvents)
    const out: number[] = []
    try {
      for (let i = 0; i < n; i++) {
        const one = event({ type: 'incident.observation', payload: { incidentId: 'inc-live', count: i + 1 } } as never)
        const arrived = new Promise<void>((resolve) => {
          waiting = { id: one.id, resolve }
        })
        const start = performance.now()
        expect((await post(server.url, TOKENS.sensorEe, one)).status).toBe(201)
        if (!arrivals.has(one.id))
          await Promise.race([
            arrived,
            sleep(10_000).then(() => {
              throw new Error(`event ${i} did not arrive live within 10 s`)
            }),
          ])
        out.push(arrivals.get(one.id)! - start)
      }
    } finally {
      live.socket.off('events', onEvents)
    }
    return out
  }

  beforeAll(async () => {
    server = await startServerProcess({
      env: {
        WATCHFLOOR_SOCKET_BUFFER_BYTES: String(BUDGET),
        WATCHFLOOR_SOCKET_STALL_S: String(STALL_S),
        WATCHFLOOR_SOCKETS_PER_PRINCIPAL: String(PER_PRINCIPAL),
        // the default packet limit: only the byte budget holds the paused sockets back
        WATCHFLOOR_SOCKET_BUFFER_PACKETS: '500',
        WATCHFLOOR_METRICS_TOKEN: METRICS_TOKEN,
      },
    })
  })
  afterEach(() => {
    for (const w of watchers) w.close()
    watchers = []
  })
  afterAll(async () => {
    await server?.stop()
  })

  it(`[D8] ${PAUSED} sockets that stop reading while catching up a ~28 MB log hold at most their byte budget and are dropped; a live socket keeps its latency`, {
    timeout: 60_000,
  }, async () => {
    // the log: observations with seeded indicators of 1500-2000 characters, posted as the relay does
    const random = seeded(0x5eed)
    const pool = textPool(random, 64 * 1024)
    let logBytes = 0
    for (let b = 0; b < LOG_BATCHES; b++) {
      const events: EventInput[] = Array.from({ length: 1000 }, (_, i) => {
        const length = 1500 + Math.floor(random() * 501)
        const offset = Math.floor(random() * (pool.length - length))
        return event({
          type: 'incident.observation',
          payload: { incidentId: `inc-${b}`, count: i + 1, indicator: pool.slice(offset, offset + length) },
        } as never)
      })
      const { status } = await post(server.url, TOKENS.relay, { events })
      expect(status).toBe(201)
      logBytes += events.reduce((sum, e) => sum + JSON.stringify(e).length, 0)
    }
    expect(logBytes).toBeGreaterThan(25 * MiB)

    const live = watch(TOKENS.viewerLv)
    expect(await live.subscribe(await head(TOKENS.viewerLv))).toMatchObject({ ok: true })
    const quiet = await latencies(live, LATENCY_SAMPLES)

    const pid = server.child.pid!
    const baseline = rss(pid)
    let peak = baseline
    const sampler = setInterval(() => {
      peak = Math.max(peak, rss(pid))
    }, 25)
    const dropped = () => count(server.output(), 'slow consumer disconnected')
    const before = dropped()
    try {
      // four sockets of one principal stop reading at the TCP level, then subscribe from the start
      const paused = Array.from({ length: PAUSED }, () => watch(TOKENS.viewerEe))
      await Promise.all(paused.map(connected))
      const readers = paused.map(pauseReading)
      for (const w of paused) w.socket.emit('subscribe', { after: 0 }, () => {})
      await sleep(500)

      const loaded = await latencies(live, LATENCY_SAMPLES)

      // not reading: each is dropped once it has not drained for WATCHFLOOR_SOCKET_STALL_S
      const deadline = Date.now() + 2 * STALL_S * 1000 + 8_000
      while (dropped() - before < PAUSED && Date.now() < deadline) await sleep(100)
      await sleep(500)
      clearInterval(sampler)
      peak = Math.max(peak, rss(pid))
      const growth = peak - baseline
      const summary = {
        logMiB: mib(logBytes),
        baselineRssMiB: mib(baseline),
        peakRssMiB: mib(peak),
        growthMiB: mib(growth),
        dropped: dropped() - before,
        p99QuietMs: Math.round(p99(quiet) * 10) / 10,
        p99LoadedMs: Math.round(p99(loaded) * 10) / 10,
      }
      console.info(`slow consumers: ${JSON.stringify(summary)}`)

      // Each paused socket holds at most its budget waiting, plus the page its catch-up has in hand
      // (at most half a budget of JSON, as parsed objects about three times that); 48 MiB is room for
      // the collector, which does not return garbage at once. Before the fix each socket held the log.
      expect(growth).toBeLessThan(PAUSED * 2.5 * BUDGET + 48 * MiB)
      expect(summary.dropped).toBe(PAUSED)
      // reading again, each finds its connection closed
      for (const reader of readers) reader.resume()
      await Promise.all(paused.map((w) => w.waitFor(() => !w.socket.connected, 10_000)))

      // the live socket kept up: every event, no resync, and its p99 stayed near the quiet run's
      expect(live.resyncs).toEqual([])
      expect(p99(loaded)).toBeLessThan(Math.max(4 * p99(quiet), p99(quiet) + 50))
    } finally {
      clearInterval(sampler)
    }
  })

  it('[D8] a live socket over its byte budget is told to resync and resumes exactly; one of the same audience is not held back', {
    timeout: 30_000,
  }, async () => {
    const slow = watch(TOKENS.viewerEe)
    const fast = watch(TOKENS.viewerEe)
    const reasons: string[] = []
    slow.socket.on('resync', ({ reason }) => reasons.push(reason))
    const h = await head(TOKENS.viewerEe)
    await Promise.all([slow.subscribe(h), fast.subscribe(h)])
    const counted = { shed: await counter(SHED_RESYNC), resyncs: await counter(RESYNC_SLOW) }
    const reader = pauseReading(slow)
    const shed = () => server.output().includes('slow consumer told to resync')
    const random = seeded(7)
    const pool = textPool(random, 16 * 1024)
    const sentSeqs: number[] = []
    // batches of ~200 KB, far fewer than the 500 packets of the packet limit
    for (let round = 0; round < 80 && !shed(); round++) {
      const events = Array.from({ length: 100 }, (_, i) =>
        event({
          type: 'incident.observation',
          payload: { incidentId: `inc-b${round}`, count: i + 1, indicator: pool.slice(i * 100, i * 100 + 2000) },
        } as never),
      )
      const { json } = await post(server.url, TOKENS.sensorEe, { events })
      sentSeqs.push(...json.results!.map((r) => r.seq))
    }
    expect(shed()).toBe(true)
    expect(server.output()).toMatch(/"why":"bytes".*slow consumer told to resync/)
    const last = sentSeqs.at(-1)!
    await fast.waitFor(() => fast.lastSeq >= last, 10_000)
    expect(fast.seqs()).toEqual(sentSeqs)
    expect(fast.resyncs).toEqual([])

    reader.resume()
    await slow.waitFor(() => slow.resyncs.length > 0, 10_000)
    expect(reasons).toEqual(['slow_consumer'])
    expect(slow.lastSeq).toBe(slow.resyncs[0])
    expect(await slow.subscribe(slow.lastSeq)).toMatchObject({ ok: true })
    await slow.waitFor(() => slow.lastSeq >= last, 10_000)
    expect(slow.seqs()).toEqual(sentSeqs)
    // counted in GET /metrics, as what was done and as a resync
    expect(await counter(SHED_RESYNC)).toBe(counted.shed + 1)
    expect(await counter(RESYNC_SLOW)).toBe(counted.resyncs + 1)
  })

  it(`[D13] a principal may have ${PER_PRINCIPAL} sockets at once: one more is refused with too_many_requests, others are not`, {
    timeout: 30_000,
  }, async () => {
    // all at once: exactly the cap gets through
    const first = Array.from({ length: PER_PRINCIPAL + 3 }, () => watch(TOKENS.viewerNl))
    const outcomes = await Promise.allSettled(first.map(connected))
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as Error & { data?: unknown }] : []))
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(PER_PRINCIPAL)
    expect(refused).toHaveLength(3)
    for (const error of refused) {
      expect(error.message).toBe(`too_many_requests: at most ${PER_PRINCIPAL} sockets at once for pieter (ncsc-nl)`)
      expect(error.data).toEqual({
        code: 'too_many_requests',
        message: `at most ${PER_PRINCIPAL} sockets at once for pieter (ncsc-nl)`,
        details: { limit: PER_PRINCIPAL },
      })
    }
    // another principal is not affected, and the ones in get their stream
    const other = watch(TOKENS.viewerLv)
    expect(await other.subscribe(await head(TOKENS.viewerLv))).toMatchObject({ ok: true })
    const inside = first.filter((w) => w.socket.connected)
    expect(await inside[0]!.subscribe(await head(TOKENS.viewerNl))).toMatchObject({ ok: true })

    // a closed socket gives its place back
    inside[0]!.close()
    let again: Watcher | undefined
    for (let attempt = 0; attempt < 50 && !again; attempt++) {
      const w = watch(TOKENS.viewerNl)
      try {
        await connected(w)
        again = w
      } catch {
        w.close()
        await sleep(50)
      }
    }
    expect(again?.socket.connected).toBe(true)
    await expect(connected(watch(TOKENS.viewerNl))).rejects.toThrow('too_many_requests')
  })
})

describe('slow consumers that stall under their budget (SPEC.md D8)', () => {
  let server: ServerProcess
  let watchers: Watcher[] = []
  const watch = (token: string) => {
    const w = new Watcher(server.url, token)
    watchers.push(w)
    return w
  }
  beforeAll(async () => {
    server = await startServerProcess({
      env: {
        WATCHFLOOR_SOCKET_BUFFER_BYTES: String(32 * MiB),
        WATCHFLOOR_SOCKET_STALL_S: '1',
        WATCHFLOOR_SOCKET_BUFFER_PACKETS: '500',
        WATCHFLOOR_METRICS_TOKEN: METRICS_TOKEN,
      },
    })
  })
  const counter = (series: string) => counterOf(server.url, series)
  afterEach(() => {
    for (const w of watchers) w.close()
    watchers = []
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('[D8] a live socket that does not drain for WATCHFLOOR_SOCKET_STALL_S is told to resync, and dropped if it still does not', {
    timeout: 30_000,
  }, async () => {
    const slow = watch(TOKENS.viewerEe)
    const fast = watch(TOKENS.viewerEe)
    const h = await headOf(server.url, TOKENS.viewerEe)
    await Promise.all([slow.subscribe(h), fast.subscribe(h)])
    const counted = { shed: await counter(SHED_RESYNC), dropped: await counter(SHED_DISCONNECT) }
    pauseReading(slow)
    // one batch of ~8 MB: more than the kernel takes for a reader that stopped, well under the budget
    const body = textPool(seeded(11), 40_000)
    const events = Array.from({ length: 200 }, (_, i) =>
      event({ type: 'advisory.published', payload: { advisoryId: `adv-${i}`, title: 'Flood', body } } as never),
    )
    const { json } = await post(server.url, TOKENS.sensorEe, { events })
    const last = json.results!.at(-1)!.seq
    await fast.waitFor(() => fast.lastSeq >= last, 10_000)
    const started = Date.now()
    const log = () => server.output()
    while (!log().includes('slow consumer disconnected') && Date.now() - started < 8_000) await sleep(50)
    expect(log()).toMatch(/"why":"stalled".*slow consumer told to resync/)
    expect(log()).toContain('slow consumer disconnected')
    expect(log().indexOf('slow consumer told to resync')).toBeLessThan(log().indexOf('slow consumer disconnected'))
    expect(fast.resyncs).toEqual([])
    expect(fast.socket.connected).toBe(true)
    expect(await counter(SHED_RESYNC)).toBe(counted.shed + 1)
    expect(await counter(SHED_DISCONNECT)).toBe(counted.dropped + 1)
  })
})

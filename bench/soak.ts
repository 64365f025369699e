import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, type CDPSession, chromium, type Page } from '@playwright/test'
import type { EventInput } from '../packages/protocol/src/index.ts'
import { createScenario, ORGANISATIONS } from '../packages/simulator/src/index.ts'
import { fmt, listeningUrl, printTable, root, round, scratch, sleep, spawnTs, stopChild } from './lib.ts'
import type { BenchEntry } from './results.ts'

/**
 * The wall left running: an accelerated run of simulated hours (24 by default, about 2 million
 * events) streamed into a real server and the real `/wall` in headless Chromium, as fast as
 * they are taken. After each simulated hour (once the wall has caught up) the JS heap is measured
 * after a full garbage collection, with the DOM node count. Bounded memory means the heap after
 * the last hour stays within a small factor of the heap after the first, and the DOM stays flat.
 */
export interface SoakOptions {
  hours: number
  /** Background observations per simulated second (23/s is about 2 million events a day). */
  rate: number
  /** Measure after every `sampleEvery` simulated hours (and always after the first and the last). */
  sampleEvery?: number
  seed?: number
  log?: (line: string) => void
  /** Save a screenshot of the wall at the end. */
  screenshot?: string
  /** Extra query parameters for the wall link (e.g. `retention=1`). */
  wallQuery?: string
}

export interface SoakSample {
  hour: number
  events: number
  seq: number
  heapMB: number
  domNodes: number
  windowEvents: number
  incidents: number
  seconds: number
}

export interface SoakResult {
  samples: SoakSample[]
  events: number
  seconds: number
  heapRatio: number
  domRatio: number
  eventsPerSecond: number
}

const RELAY = 'soak-relay-token-0123456789abcdef'
const WALL = 'soak-wall-token-0123456789abcdefgh'

async function post(url: string, events: EventInput[]): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${url}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${RELAY}` },
      body: JSON.stringify({ events }),
    })
    if (response.ok) {
      // the relay is told the seqs of the events it may see [D14]: the wall's organisation's, as the wall sees
      const body = (await response.json()) as { results: { seq?: number }[] }
      return Math.max(0, ...body.results.map((r) => r.seq ?? 0))
    }
    if (attempt >= 3 || response.status < 500)
      throw new Error(`POST failed: ${response.status} ${await response.text()}`)
    await sleep(200)
  }
}

async function measure(page: Page, cdp: CDPSession): Promise<{ heapMB: number; domNodes: number }> {
  await cdp.send('HeapProfiler.collectGarbage')
  await sleep(200)
  await cdp.send('HeapProfiler.collectGarbage')
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }
  const domNodes = (await page.evaluate('document.getElementsByTagName("*").length')) as number
  return { heapMB: heap.usedSize / 1_048_576, domNodes }
}

async function caughtUp(page: Page, seq: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const shown = Number(await page.getByTestId('wall').getAttribute('data-seq'))
    if (shown >= seq) return
    if (Date.now() > deadline) throw new Error(`the wall did not catch up to seq ${seq} (at ${shown})`)
    await sleep(250)
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {})
  const data = scratch('soak')
  const tokens = join(data.dir, 'tokens.json')
  writeFileSync(
    tokens,
    JSON.stringify([
      {
        token: RELAY,
        user: 'relay',
        organisation: 'alliance',
        nation: 'ALLIANCE',
        roles: ['sensor'],
        sources: [...ORGANISATIONS],
      },
      { token: WALL, user: 'wall', organisation: 'alliance', nation: 'ALLIANCE', roles: ['watch_officer'] },
    ]),
  )
  const server = spawnTs(join(root, 'apps/server/src/main.ts'), [], {
    env: {
      WATCHFLOOR_PORT: '0',
      WATCHFLOOR_HOST: '127.0.0.1',
      WATCHFLOOR_DATA_DIR: data.dir,
      WATCHFLOOR_SIMULATOR: 'off',
      WATCHFLOOR_TOKENS: tokens,
      WATCHFLOOR_LOG_LEVEL: 'warn',
      WATCHFLOOR_HEARTBEAT_MS: '2000',
    },
  })
  let browser: Browser | undefined
  try {
    const url = await listeningUrl(server)
    browser = await chromium.launch({
      executablePath: process.env.WATCHFLOOR_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic'],
    })
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } })
    page.on('pageerror', (error) => log(`page error: ${error.message}`))
    const cdp = await page.context().newCDPSession(page)
    await page.goto(`${url}/wall?heartbeat=60${options.wallQuery ? `&${options.wallQuery}` : ''}#token=${WALL}`)
    await page.getByTestId('wall').waitFor({ timeout: 30_000 })

    // scenario time starts now and runs ahead of the clock: the wall's data clock follows it
    const hourMs = 3_600_000
    const scenario = createScenario({ seed: options.seed ?? 24, startTime: Date.now(), rate: options.rate, speed: 1 })
    const started = Date.now()
    const samples: SoakSample[] = []
    let batch: EventInput[] = []
    let posted = 0
    let head = 0
    let hour = 1
    const inFlight = new Set<Promise<void>>()
    const flush = async () => {
      if (batch.length === 0) return
      const events = batch
      batch = []
      const sending = post(url, events).then((seq) => {
        head = Math.max(head, seq)
        inFlight.delete(sending)
      })
      inFlight.add(sending)
      if (inFlight.size >= 3) await Promise.race(inFlight)
    }
    const sample = async () => {
      await Promise.all(inFlight)
      await caughtUp(page, head, 120_000)
      await sleep(1500) // let the last batch render and the map settle
      const { heapMB, domNodes } = await measure(page, cdp)
      const { windowEvents, incidents } = (await page.evaluate(
        `(() => { const s = window.__watchfloorStore?.getState(); return { windowEvents: s ? s.window.length : -1, incidents: s ? s.state.incidents.size : -1 } })()`,
      )) as { windowEvents: number; incidents: number }
      const s: SoakSample = {
        hour,
        events: posted,
        seq: head,
        heapMB: round(heapMB, 1),
        domNodes,
        windowEvents,
        incidents,
        seconds: round((Date.now() - started) / 1000, 1),
      }
      samples.push(s)
      log(
        `  hour ${String(hour).padStart(2)}: ${posted.toLocaleString('en-GB')} events, heap ${fmt(heapMB, 1)} MB, ${domNodes} DOM nodes, window ${windowEvents}, incidents ${incidents}, ${s.seconds} s`,
      )
    }
    const every = options.sampleEvery ?? 1
    for (const { at, event } of scenario) {
      while (at >= hour * hourMs) {
        await flush()
        if (hour === 1 || hour % every === 0 || hour === options.hours) await sample()
        hour++
        if (hour > options.hours) break
      }
      if (hour > options.hours) break
      batch.push(event)
      posted++
      if (batch.length === 500) await flush()
    }
    if (options.screenshot) await page.screenshot({ path: options.screenshot })
    const seconds = (Date.now() - started) / 1000
    const first = samples[0]!
    const last = samples.at(-1)!
    return {
      samples,
      events: posted,
      seconds: round(seconds, 1),
      heapRatio: round(last.heapMB / first.heapMB, 3),
      domRatio: round(last.domNodes / first.domNodes, 3),
      eventsPerSecond: round(posted / seconds),
    }
  } finally {
    await browser?.close()
    await stopChild(server)
    data.remove()
  }
}

/** `pnpm bench soak`: 24 simulated hours, about 2 million events (BENCH_SOAK_HOURS, BENCH_SOAK_RATE). */
export async function benchSoak(): Promise<BenchEntry> {
  const hours = Number(process.env.BENCH_SOAK_HOURS ?? 24)
  const rate = Number(process.env.BENCH_SOAK_RATE ?? 23)
  console.log(`soak: ${hours} simulated hours at ${rate} observations/s of scenario time, into /wall`)
  const result = await runSoak({ hours, rate, log: console.log, screenshot: join(root, 'bench/results/soak-wall.png') })
  const first = result.samples[0]!
  const last = result.samples.at(-1)!
  printTable(
    'Wall soak: JS heap after GC and DOM nodes per simulated hour',
    ['hour', 'events', 'heap MB', 'DOM nodes', 'window', 'incidents', 's'],
    result.samples.map((s) => [
      String(s.hour),
      s.events.toLocaleString('en-GB'),
      fmt(s.heapMB, 1),
      String(s.domNodes),
      String(s.windowEvents),
      String(s.incidents),
      fmt(s.seconds, 1),
    ]),
  )
  const domFlat = result.domRatio <= 1.1
  return {
    name: 'wall.soak',
    headline: 'heapRatio',
    figures: {
      hours,
      events: result.events,
      seconds: result.seconds,
      eventsPerSecond: result.eventsPerSecond,
      heapMBLast: last.heapMB,
      domNodesLast: last.domNodes,
      domRatio: result.domRatio,
      samples: result.samples as unknown as Record<string, unknown>[],
    },
    baseline: {
      name: 'the same wall after the first simulated hour',
      figures: { heapMB: first.heapMB, domNodes: first.domNodes },
    },
    ratio: result.heapRatio,
    target: {
      figure: 'heapRatio',
      max: 1.2,
      text: `heap after ${hours} h <= 1.2x heap after 1 h, DOM nodes flat (<= 1.1x)`,
    },
    met: result.heapRatio <= 1.2 && domFlat,
  }
}

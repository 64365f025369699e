import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, type CDPSession, chromium, type Page } from '@playwright/test'
import {
  ensureConsoleBuilt,
  fmt,
  listeningUrl,
  PRINCIPALS,
  printTable,
  root,
  round,
  scratch,
  sleep,
  spawnTs,
  stopChild,
  TOKENS,
} from './lib.ts'
import { writeLog } from './log.ts'
import { CHROMIUM_ARGS } from './picture.ts'
import type { BenchEntry, Figures } from './results.ts'

/**
 * `pnpm bench open`: opening a console on months of history. For each log size (default 10,000 as
 * the baseline, 100,000 and 1,000,000 events; BENCH_OPEN_SIZES=10000,10000000 for the issue's
 * target size) a log of the realistic mix (bench/log.ts: one event every 2.6 s of recorded time,
 * so a million is a month; observations dominate, 4,000 incidents a million, 34 networks) is
 * written straight into the store's SQLite file, the real server is started on it, and then:
 *
 * - server start to ready: spawning the process to `/readyz` answering 200;
 * - open (cold): a console in headless Chromium, from navigation start to a live complete
 *   picture (the store live, holding the snapshot at the viewer's head N), on a server that has
 *   not folded this viewer yet (so it includes the server's per-viewer fold from zero);
 * - open (warm): the same in a new page, the server's projection of the viewer cached;
 * - JS heap after the warm open (two forced collections), and server RSS;
 * - the server's per-viewer fold from zero, on its own: the first `GET /api/v1/state` of a
 *   viewer the server has not seen (another user), then the same request again (cached).
 *
 * Ratios are against the 10,000-event baseline of the same run.
 */
const SIZES = (process.env.BENCH_OPEN_SIZES ?? '10000,100000,1000000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0)
/** A viewer only the fold-from-zero measurement uses (so its first request finds nothing cached). */
const OTHER_VIEWER = { token: 'bench-other-viewer-token-0123', user: 'mari', organisation: 'cert-ee', nation: 'EE' }

interface SizeFigures {
  events: number
  buildSeconds: number
  logMb: number
  incidents: number
  serverReadyMs: number
  coldOpenMs: number
  /** Of the warm open: navigation to the first read, the snapshot's read, the recent events' read. */
  warmToReadMs: number
  warmSnapshotMs: number
  warmEventsMs: number
  coldSnapshotMs: number
  warmOpenMs: number
  openedEvents: number
  openedSeq: number
  windowEvents: number
  incidentsShown: number
  heapMb: number
  serverRssMb: number
  foldFromZeroMs: number
  cachedStateMs: number
  stateBytes: number
}

/** Resident memory of a process in MB, from /proc (0 where it cannot be read). */
function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Math.round(Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024)
  } catch {
    return 0
  }
}

async function timedGet(url: string, token: string): Promise<{ ms: number; bytes: number; body: string }> {
  const start = performance.now()
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  const body = await response.text()
  const ms = performance.now() - start
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${body.slice(0, 300)}`)
  return { ms, bytes: body.length, body }
}

/**
 * In the page, before any script: note when the open starts reading (the socket is connected),
 * when the snapshot is in (the recent events are being read), when the picture is put on screen,
 * and when the data store first says live, holding it (ms since navigation start).
 */
const OPEN_PROBE = `(() => {
  window.__openBench = { live: 0, reading: 0, events: 0, opened: null, shown: 0 }
  const timer = setInterval(() => {
    const s = window.__watchfloorStore && window.__watchfloorStore.getState()
    if (!s) return
    const b = window.__openBench
    if (!b.reading && s.opening) b.reading = performance.now()
    if (!b.events && s.opening && s.opening.step === 'events') b.events = performance.now()
    if (!b.shown && s.opened) b.shown = performance.now()
    if (s.status === 'live' && s.opened) {
      window.__openBench.live = performance.now()
      window.__openBench.opened = s.opened
      window.__openBench.window = s.window.length
      window.__openBench.incidents = s.state.incidents.size
      clearInterval(timer)
    }
  }, 5)
})()`

interface Probe {
  live: number
  /** The open started reading (socket connected), the snapshot was in, the picture was shown. */
  reading: number
  events: number
  shown: number
  opened: { seq: number; events: number; from: number }
  window: number
  incidents: number
}

/** Open the console and wait for the live picture: ms from navigation start, and what it holds. */
async function openConsole(browser: Browser, url: string): Promise<{ page: Page; cdp: CDPSession; probe: Probe }> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } })
  await page.addInitScript(OPEN_PROBE)
  const cdp = await page.context().newCDPSession(page)
  await page.goto(`${url}/#token=${TOKENS.viewer}`)
  // polled from here: the page's CSP allows no string evaluation inside it (waitForFunction)
  const deadline = Date.now() + 600_000
  while (!(await page.evaluate('!!(window.__openBench && window.__openBench.live > 0)'))) {
    if (Date.now() > deadline) throw new Error('the console did not open within 10 minutes')
    await sleep(50)
  }
  const probe = (await page.evaluate('window.__openBench')) as Probe
  return { page, cdp, probe }
}

async function heapMb(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage')
  await sleep(200)
  await cdp.send('HeapProfiler.collectGarbage')
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }
  return round(heap.usedSize / 1_048_576, 1)
}

async function measureSize(browser: Browser, events: number): Promise<SizeFigures> {
  const data = scratch('open')
  try {
    const file = join(data.dir, 'events.sqlite')
    console.log(`  writing a ${fmt(events)}-event log`)
    const built = await writeLog(file, { events }, (written) => console.log(`    ${fmt(written)} events written`))
    const logMb = round(statSync(file).size / 1_048_576)
    console.log(
      `  written in ${fmt(built.seconds, 1)} s (${fmt(events / built.seconds)} events/s, ${fmt(logMb)} MB, ${fmt(built.incidents)} incidents)`,
    )
    const tokens = join(data.dir, 'tokens.json')
    writeFileSync(tokens, JSON.stringify([...PRINCIPALS, { ...OTHER_VIEWER, roles: ['watch_officer'] }]))
    const started = performance.now()
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
      const url = await listeningUrl(child, 600_000)
      for (;;) {
        const ready = await fetch(`${url}/readyz`).catch(() => null)
        if (ready?.ok) break
        await sleep(10)
      }
      const serverReadyMs = performance.now() - started

      // the first console of this viewer: the server folds the viewer's picture from zero on its way
      const cold = await openConsole(browser, url)
      await cold.page.close()
      // again, the viewer's projection cached on the server
      const warm = await openConsole(browser, url)
      const heap = await heapMb(warm.cdp)
      const served = JSON.parse((await timedGet(`${url}/api/v1/state`, TOKENS.viewer)).body) as { seq: number }
      if (warm.probe.opened.seq !== served.seq)
        throw new Error(`the console opened at ${warm.probe.opened.seq}, the viewer's head is ${served.seq}`)
      await warm.page.close()
      const serverRssMb = rssMb(child.pid)

      // the per-viewer fold from zero, alone: a viewer the server has not seen yet
      const first = await timedGet(`${url}/api/v1/state`, OTHER_VIEWER.token)
      const cached = await timedGet(`${url}/api/v1/state`, OTHER_VIEWER.token)
      return {
        events,
        buildSeconds: round(built.seconds, 1),
        logMb,
        incidents: built.incidents,
        serverReadyMs: round(serverReadyMs),
        coldOpenMs: round(cold.probe.live),
        coldSnapshotMs: round(cold.probe.events - cold.probe.reading),
        warmToReadMs: round(warm.probe.reading),
        warmSnapshotMs: round(warm.probe.events - warm.probe.reading),
        warmEventsMs: round(warm.probe.shown - warm.probe.events),
        warmOpenMs: round(warm.probe.live),
        openedEvents: warm.probe.opened.events,
        openedSeq: warm.probe.opened.seq,
        windowEvents: warm.probe.window,
        incidentsShown: warm.probe.incidents,
        heapMb: heap,
        serverRssMb,
        foldFromZeroMs: round(first.ms),
        cachedStateMs: round(cached.ms, 1),
        stateBytes: first.bytes,
      }
    } finally {
      await stopChild(child)
    }
  } finally {
    data.remove()
  }
}

export async function benchOpen(): Promise<BenchEntry> {
  if (SIZES.length === 0) throw new Error('BENCH_OPEN_SIZES names no size')
  ensureConsoleBuilt()
  const browser = await chromium.launch({
    executablePath: process.env.WATCHFLOOR_CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS.split(' ').filter(Boolean),
  })
  const results: SizeFigures[] = []
  try {
    for (const size of SIZES) {
      console.log(`\n  ${fmt(size)} events`)
      const figures = await measureSize(browser, size)
      results.push(figures)
      console.log(
        `  ready ${fmt(figures.serverReadyMs)} ms, open cold ${fmt(figures.coldOpenMs)} ms, warm ${fmt(figures.warmOpenMs)} ms, heap ${fmt(figures.heapMb, 1)} MB, RSS ${fmt(figures.serverRssMb)} MB, fold from zero ${fmt(figures.foldFromZeroMs)} ms`,
      )
    }
  } finally {
    await browser.close()
  }
  const base = results[0]!
  const last = results.at(-1)!
  const ratio = (value: number, of: number) => (of > 0 ? round(value / of, 2) : 0)
  printTable(
    `open: a console on months of history (one event every 2.6 s; ratios against ${fmt(base.events)} events, same run)`,
    [
      'events',
      'log build s',
      'server ready ms',
      'open cold ms',
      'of it /state',
      'open warm ms',
      'page→read',
      '/state',
      'events',
      '× base (warm)',
      'events read',
      'heap MB',
      '× base',
      'server RSS MB',
      'fold from zero ms',
      'cached /state ms',
      '/state KB',
    ],
    results.map((r) => [
      fmt(r.events),
      fmt(r.buildSeconds, 1),
      fmt(r.serverReadyMs),
      fmt(r.coldOpenMs),
      fmt(r.coldSnapshotMs),
      fmt(r.warmOpenMs),
      fmt(r.warmToReadMs),
      fmt(r.warmSnapshotMs),
      fmt(r.warmEventsMs),
      fmt(ratio(r.warmOpenMs, base.warmOpenMs), 2),
      fmt(r.openedEvents),
      fmt(r.heapMb, 1),
      fmt(ratio(r.heapMb, base.heapMb), 2),
      fmt(r.serverRssMb),
      fmt(r.foldFromZeroMs),
      fmt(r.cachedStateMs, 1),
      fmt(r.stateBytes / 1024),
    ]),
  )
  const bySize = results.map((r) => ({ ...r }) as unknown as Record<string, unknown>)
  const figures: Figures = {
    ...(last as unknown as Figures),
    sizes: bySize,
    warmOpenRatio: ratio(last.warmOpenMs, base.warmOpenMs),
    coldOpenRatio: ratio(last.coldOpenMs, base.coldOpenMs),
    heapRatio: ratio(last.heapMb, base.heapMb),
    chromiumArgs: CHROMIUM_ARGS,
  }
  const met = last.warmOpenMs <= Math.max(2 * base.warmOpenMs, 3000) && last.heapMb <= 2 * base.heapMb
  return {
    name: 'open',
    headline: 'warmOpenMs',
    figures,
    baseline: { name: `the same, on a ${fmt(base.events)}-event log`, figures: base as unknown as Figures },
    ratio: ratio(last.warmOpenMs, base.warmOpenMs),
    target: {
      figure: 'warmOpenMs and heapMb',
      text: 'opening on the largest log costs at most 2x the 10,000-event baseline (time, within 3 s, and JS heap)',
    },
    met,
  }
}

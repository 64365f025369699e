import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, type CDPSession, chromium, type Page } from '@playwright/test'
import { Database } from './deps.ts'
import {
  ensureConsoleBuilt,
  fmt,
  listeningUrl,
  PRINCIPALS,
  printTable,
  round,
  scratch,
  sleep,
  spawnServer,
  stopChild,
  TOKENS,
} from './lib.ts'
import { writeLog } from './log.ts'
import { CHROMIUM_ARGS, printProfile } from './picture.ts'
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
 *   viewer the server has not seen (another user), then the same request again (cached), and a
 *   cached viewer's `/state` sent while that fold runs (the fold yields between pages);
 * - a restart on persisted snapshots (SIGTERM, which saves them, then a new process): ready again,
 *   the first `/state` of the viewers it had folded (from their snapshots plus the tail), and the
 *   first `/state?scope=live` of new viewers it never saw, what their console reads first
 *   (BENCH_OPEN_NEW_VIEWERS, default 21: p95 by nearest rank and max of all but the last), and the console, in the
 *   browser, of the last (page load to a live picture).
 *
 * Ratios are against the 10,000-event baseline of the same run.
 */
const SIZES = (process.env.BENCH_OPEN_SIZES ?? '10000,100000,1000000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0)
/**
 * A viewer only the fold-from-zero measurement uses (so its first request finds nothing cached): a
 * user RED events name (bench/log.ts), so no audience picture stands for hers.
 */
const OTHER_VIEWER = { token: 'bench-other-viewer-token-0123', user: 'mari', organisation: 'cert-ee', nation: 'EE' }
/** Viewers first seen after the restart: other users of the same organisation. */
const NEW_VIEWERS = Array.from({ length: Math.max(2, Number(process.env.BENCH_OPEN_NEW_VIEWERS ?? 21)) }, (_, i) => ({
  token: `bench-new-viewer-token-${String(i).padStart(6, '0')}`,
  user: `new-${i}`,
  organisation: 'cert-ee',
  nation: 'EE',
}))

interface SizeFigures {
  events: number
  buildSeconds: number
  logMb: number
  incidents: number
  serverReadyMs: number
  /** Spawn to the audiences' pictures folded (the server's own log line), at the first start and after the restart. */
  preparedMs: number
  restartPreparedMs: number
  coldOpenMs: number
  /** Of the warm open: navigation to the first read, the snapshot's read, the recent events' read. */
  warmToReadMs: number
  warmSnapshotMs: number
  warmEventsMs: number
  /** Of those, the reads on the wire (the rest is the page parsing, storing and drawing). */
  warmStateNetMs: number
  warmEventsNetMs: number
  coldSnapshotMs: number
  /** The live picture a new viewer's console reads (`/state?scope=live`), bytes; `stateBytes` is the whole picture's. */
  liveStateBytes: number
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
  /** A cached viewer's /state sent while another viewer's fold from zero runs. */
  warmDuringFoldMs: number
  /** After a restart on the snapshots the first process saved at SIGTERM. */
  restartReadyMs: number
  /** The first /state, after the restart, of the two viewers the first process had folded. */
  restartViewerStateMs: number
  restartOtherStateMs: number
  /** After the restart, a console (in the browser) of a viewer never seen before: page load to a live picture. */
  restartNewConsoleMs: number
  /** The first /state of viewers never seen before (no snapshot of theirs): p95 and max. */
  newViewerP95Ms: number
  newViewerMaxMs: number
  snapshotsSaved: number
}

/** The value at quantile q (nearest rank). */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0
}

/** Start the server on a data folder; resolves once `/readyz` answers, with the time from spawn. */
async function startServer(dir: string, tokens: string) {
  const started = performance.now()
  const child = spawnServer({
    WATCHFLOOR_PORT: '0',
    WATCHFLOOR_HOST: '127.0.0.1',
    WATCHFLOOR_DATA_DIR: dir,
    WATCHFLOOR_SIMULATOR: 'off',
    WATCHFLOOR_TOKENS: tokens,
    // info: the line that says the audiences' pictures are folded (and one per request)
    WATCHFLOOR_LOG_LEVEL: 'info',
  })
  // from spawning to the server's "audience pictures prepared" (every signed-in audience folded)
  const prepared = new Promise<number | undefined>((resolve) => {
    let tail = ''
    const onData = (chunk: Buffer) => {
      tail = (tail + chunk).slice(-20_000)
      if (!/"msg":"audience pictures prepared"/.test(tail)) return
      child.stdout!.off('data', onData)
      resolve(performance.now() - started)
    }
    child.stdout!.on('data', onData)
    child.once('exit', () => resolve(undefined))
  })
  try {
    const url = await listeningUrl(child, 600_000)
    for (;;) {
      const ready = await fetch(`${url}/readyz`).catch(() => null)
      if (ready?.ok) break
      await sleep(10)
    }
    return { child, url, readyMs: performance.now() - started, prepared }
  } catch (error) {
    await stopChild(child)
    throw error
  }
}

/** Snapshots in the store's file (read once the server stopped). */
function snapshotCount(file: string): number {
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n
  } catch {
    return 0
  } finally {
    db.close()
  }
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
  /** The snapshot's and the recent window's reads on the wire (resource timing: request to the last byte). */
  stateNetMs?: number
  eventsNetMs?: number
}

/** Open the console and wait for the live picture: ms from navigation start, and what it holds. */
async function openConsole(
  browser: Browser,
  url: string,
  profile = false,
  token: string = TOKENS.viewer,
): Promise<{ page: Page; cdp: CDPSession; probe: Probe }> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } })
  await page.addInitScript(OPEN_PROBE)
  const cdp = await page.context().newCDPSession(page)
  if (profile) {
    await cdp.send('Profiler.enable')
    await cdp.send('Profiler.start')
  }
  await page.goto(`${url}/#token=${token}`)
  // polled from here: the page's CSP allows no string evaluation inside it (waitForFunction)
  const deadline = Date.now() + 600_000
  while (!(await page.evaluate('!!(window.__openBench && window.__openBench.live > 0)'))) {
    if (Date.now() > deadline) throw new Error('the console did not open within 10 minutes')
    await sleep(50)
  }
  const probe = (await page.evaluate('window.__openBench')) as Probe
  if (profile) await printProfile(cdp, 'where the warm open spent the main thread of the page')
  // how long the reads took on the wire (request to the last byte), apart from the page's own work
  const net = (await page.evaluate(`(() => {
    const sum = (part) => performance.getEntriesByType('resource')
      .filter((e) => e.name.includes(part))
      .reduce((total, e) => total + (e.responseEnd - e.startTime), 0)
    return { state: sum('/api/v1/state'), events: sum('/api/v1/events') }
  })()`)) as { state: number; events: number }
  return { page, cdp, probe: { ...probe, stateNetMs: net.state, eventsNetMs: net.events } }
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
    writeFileSync(
      tokens,
      JSON.stringify(
        [...PRINCIPALS, OTHER_VIEWER, ...NEW_VIEWERS].map((p) =>
          'roles' in p ? p : { ...p, roles: ['watch_officer'] },
        ),
      ),
    )
    let { child, url, readyMs: serverReadyMs, prepared } = await startServer(data.dir, tokens)
    try {
      // the first console of this viewer: the server folds the viewer's picture from zero on its way
      const cold = await openConsole(browser, url)
      await cold.page.close()
      // again, the viewer's projection cached on the server
      const warm = await openConsole(browser, url, process.env.BENCH_OPEN_PROFILE === '1')
      const heap = await heapMb(warm.cdp)
      const served = JSON.parse((await timedGet(`${url}/api/v1/state`, TOKENS.viewer)).body) as { seq: number }
      if (warm.probe.opened.seq !== served.seq)
        throw new Error(`the console opened at ${warm.probe.opened.seq}, the viewer's head is ${served.seq}`)
      await warm.page.close()
      const serverRssMb = rssMb(child.pid)

      // the per-viewer fold from zero: a viewer the server has not seen yet; meanwhile a cached
      // viewer's request (it must not wait for the fold)
      const folding = timedGet(`${url}/api/v1/state`, OTHER_VIEWER.token)
      await sleep(20)
      const during = await timedGet(`${url}/api/v1/state`, TOKENS.viewer)
      const first = await folding
      const cached = await timedGet(`${url}/api/v1/state`, OTHER_VIEWER.token)
      const preparedMs = (await prepared) ?? Number.NaN

      // a restart: SIGTERM saves the snapshots (the whole picture, each cached viewer)
      await stopChild(child, 120_000)
      const snapshotsSaved = snapshotCount(file)
      const restarted = await startServer(data.dir, tokens)
      child = restarted.child
      url = restarted.url
      const restartReadyMs = restarted.readyMs
      const again = await timedGet(`${url}/api/v1/state`, TOKENS.viewer)
      const otherAgain = await timedGet(`${url}/api/v1/state`, OTHER_VIEWER.token)
      // the new viewers are asked once the server has prepared its audiences (from their snapshots)
      const restartPreparedMs = (await restarted.prepared) ?? Number.NaN
      // what a console of theirs reads first: the live picture
      const newViewers: number[] = []
      let liveBytes = 0
      for (const viewer of NEW_VIEWERS.slice(0, -1)) {
        const reply = await timedGet(`${url}/api/v1/state?scope=live`, viewer.token)
        newViewers.push(reply.ms)
        liveBytes = reply.bytes
      }
      // and the console of one more in the browser, page load to a live picture: a first console on
      // the restarted server, of a viewer it never saw
      const afterRestart = await openConsole(browser, url, false, NEW_VIEWERS.at(-1)!.token)
      await afterRestart.page.close()
      return {
        events,
        buildSeconds: round(built.seconds, 1),
        logMb,
        incidents: built.incidents,
        serverReadyMs: round(serverReadyMs),
        preparedMs: round(preparedMs),
        restartPreparedMs: round(restartPreparedMs),
        coldOpenMs: round(cold.probe.live),
        coldSnapshotMs: round(cold.probe.events - cold.probe.reading),
        warmToReadMs: round(warm.probe.reading),
        warmSnapshotMs: round(warm.probe.events - warm.probe.reading),
        warmEventsMs: round(warm.probe.shown - warm.probe.events),
        warmStateNetMs: round(warm.probe.stateNetMs ?? Number.NaN),
        warmEventsNetMs: round(warm.probe.eventsNetMs ?? Number.NaN),
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
        liveStateBytes: liveBytes,
        warmDuringFoldMs: round(during.ms, 1),
        restartReadyMs: round(restartReadyMs),
        restartViewerStateMs: round(again.ms),
        restartOtherStateMs: round(otherAgain.ms),
        restartNewConsoleMs: round(afterRestart.probe.live),
        newViewerP95Ms: round(quantile(newViewers, 0.95)),
        newViewerMaxMs: round(Math.max(...newViewers)),
        snapshotsSaved,
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
        `  ready ${fmt(figures.serverReadyMs)} ms, open cold ${fmt(figures.coldOpenMs)} ms, warm ${fmt(figures.warmOpenMs)} ms, heap ${fmt(figures.heapMb, 1)} MB, RSS ${fmt(figures.serverRssMb)} MB, fold from zero ${fmt(figures.foldFromZeroMs)} ms (a cached /state meanwhile ${fmt(figures.warmDuringFoldMs, 1)} ms); audiences prepared ${fmt(figures.preparedMs)} ms; after a restart: ready ${fmt(figures.restartReadyMs)} ms, audiences prepared ${fmt(figures.restartPreparedMs)} ms, /state ${fmt(figures.restartViewerStateMs)} ms, a new viewer's console ${fmt(figures.restartNewConsoleMs)} ms, new viewers p95 ${fmt(figures.newViewerP95Ms)} ms`,
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
      '/state (wire)',
      'events (wire)',
      '× base (warm)',
      'events read',
      'heap MB',
      '× base',
      'server RSS MB',
      'fold from zero ms',
      'cached /state ms',
      '/state KB',
      'live /state KB',
    ],
    results.map((r) => [
      fmt(r.events),
      fmt(r.buildSeconds, 1),
      fmt(r.serverReadyMs),
      fmt(r.coldOpenMs),
      fmt(r.coldSnapshotMs),
      fmt(r.warmOpenMs),
      fmt(r.warmToReadMs),
      `${fmt(r.warmSnapshotMs)} (${fmt(r.warmStateNetMs)})`,
      `${fmt(r.warmEventsMs)} (${fmt(r.warmEventsNetMs)})`,
      fmt(ratio(r.warmOpenMs, base.warmOpenMs), 2),
      fmt(r.openedEvents),
      fmt(r.heapMb, 1),
      fmt(ratio(r.heapMb, base.heapMb), 2),
      fmt(r.serverRssMb),
      fmt(r.foldFromZeroMs),
      fmt(r.cachedStateMs, 1),
      fmt(r.stateBytes / 1024),
      fmt(r.liveStateBytes / 1024),
    ]),
  )
  printTable(
    'open: fold from zero without a stall, and a restart on persisted snapshots (same logs)',
    [
      'events',
      'ready (no snapshot) ms',
      'fold from zero ms',
      'cached /state during it ms',
      'snapshots saved',
      'audiences prepared ms',
      'ready after restart ms',
      'audiences prepared after restart ms',
      'first /state after restart ms',
      'other viewer ms',
      `new viewers' live /state p95 ms (${NEW_VIEWERS.length - 1})`,
      'max ms',
      "a new viewer's console ms",
    ],
    results.map((r) => [
      fmt(r.events),
      fmt(r.serverReadyMs),
      fmt(r.foldFromZeroMs),
      fmt(r.warmDuringFoldMs, 1),
      fmt(r.snapshotsSaved),
      fmt(r.preparedMs),
      fmt(r.restartReadyMs),
      fmt(r.restartPreparedMs),
      fmt(r.restartViewerStateMs),
      fmt(r.restartOtherStateMs),
      fmt(r.newViewerP95Ms),
      fmt(r.newViewerMaxMs),
      fmt(r.restartNewConsoleMs),
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
  // the targets: ready and a live console within 3 s, heap within 1.5x of the baseline's,
  // a new viewer's snapshot within 200 ms at p95
  const met =
    last.serverReadyMs <= 3000 &&
    last.warmOpenMs <= 3000 &&
    last.heapMb <= 1.5 * base.heapMb &&
    last.newViewerP95Ms <= 200
  return {
    name: 'open',
    headline: 'warmOpenMs',
    figures,
    baseline: { name: `the same, on a ${fmt(base.events)}-event log`, figures: base as unknown as Figures },
    ratio: ratio(last.warmOpenMs, base.warmOpenMs),
    target: {
      figure: 'serverReadyMs, warmOpenMs, heapMb, newViewerP95Ms',
      text: "on the largest log: server ready and a live console each within 3 s, JS heap within 1.5x of the 10,000-event baseline, a new viewer's live picture within 200 ms at p95",
    },
    met,
  }
}

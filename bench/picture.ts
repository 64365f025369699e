import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { type CDPSession, chromium } from '@playwright/test'
import type { EventInput, Severity } from '../packages/protocol/src/index.ts'
import { NETWORKS } from '../packages/simulator/src/index.ts'
import { ensureConsoleBuilt, fmt, printTable, round, sleep, startWatchfloor, TOKENS } from './lib.ts'
import { type BenchEntry, environment } from './results.ts'

/**
 * The live picture under load, in headless Chromium: 10,000 open incidents and
 * 200 events/s arriving for 60 s (BENCH_PICTURE_SECONDS). Figures: frame times
 * (requestAnimationFrame deltas), long tasks, and the share of wall time the
 * main thread was busy (CDP TaskDuration). The baseline is the same page, same
 * data, with nothing arriving, measured in the same run.
 *
 * Chromium runs as it does on a machine without a GPU: WebGL in SwiftShader,
 * compositing in software (what chrome://gpu reports for headless Chromium with
 * no flags but the one that lets WebGL use SwiftShader). BENCH_CHROMIUM_ARGS
 * replaces the flags, e.g. `--use-angle=swiftshader --enable-unsafe-swiftshader`
 * for compositing through SwiftShader as if it were a GPU (see docs/performance.md).
 */
const INCIDENTS = Number(process.env.BENCH_PICTURE_INCIDENTS ?? 10_000)
const RATE = Number(process.env.BENCH_PICTURE_RATE ?? 200)
const SECONDS = Number(process.env.BENCH_PICTURE_SECONDS ?? 60)
const IDLE_SECONDS = Number(process.env.BENCH_PICTURE_IDLE_SECONDS ?? 10)
/** Headless Chromium's own configuration where there is no GPU (see above). */
export const CHROMIUM_ARGS = process.env.BENCH_CHROMIUM_ARGS ?? '--enable-unsafe-swiftshader --disable-quic'
const SEVERITIES: Severity[] = ['low', 'medium', 'high', 'critical']

function pick<T>(items: readonly T[], i: number): T {
  return items[i % items.length]!
}

function base(type: EventInput['type']) {
  return {
    id: randomUUID(),
    type,
    occurredAt: new Date().toISOString(),
    source: { organisation: 'cert-ee' },
    marking: { tlp: 'GREEN' as const },
  }
}

async function post(url: string, events: object[]): Promise<void> {
  const response = await fetch(`${url}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.sensor}` },
    body: JSON.stringify({ events }),
  })
  if (!response.ok) throw new Error(`POST failed: ${response.status} ${await response.text()}`)
}

interface Window {
  frames: number[]
  longTasks: number[]
  /** Times the map rendered a frame. */
  mapRenders: number
}

interface Measured {
  seconds: number
  frames: number
  maxFrameMs: number
  p99FrameMs: number
  framesOver100ms: number
  longTasks: number
  longestTaskMs: number
  busyShare: number
  mapRendersPerSecond: number
}

export async function runPicture(): Promise<BenchEntry> {
  ensureConsoleBuilt()
  const server = await startWatchfloor()
  const browser = await chromium.launch({
    executablePath: process.env.WATCHFLOOR_CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS.split(' ').filter(Boolean),
  })
  try {
    // the picture: every allied network, then 10,000 open incidents across them
    await post(
      server.url,
      NETWORKS.map((n) => ({
        ...base('network.registered'),
        payload: {
          networkId: n.networkId,
          name: n.name,
          organisation: n.organisation,
          nation: n.nation,
          kind: n.kind,
          location: n.location,
        },
      })),
    )
    const incidentIds: string[] = []
    for (let start = 0; start < INCIDENTS; start += 1000) {
      const batch = []
      for (let i = start; i < Math.min(INCIDENTS, start + 1000); i++) {
        const incidentId = `inc-bench-${i}`
        incidentIds.push(incidentId)
        const affected = pick(NETWORKS, i * 7)
        const source = pick(NETWORKS, i * 13 + 5)
        batch.push({
          ...base('incident.reported'),
          payload: {
            incidentId,
            title: `Benchmark incident ${i}`,
            severity: pick(SEVERITIES, i),
            category: pick(['malware', 'phishing', 'ddos', 'intrusion'], i),
            affectedNetworks: [affected.networkId],
            ...(i % 5 === 0 ? { attackSource: { networkId: source.networkId } } : {}),
          },
        })
      }
      await post(server.url, batch)
    }

    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } })
    await page.goto(`${server.url}/${process.env.BENCH_PICTURE_QUERY ?? ''}#token=${TOKENS.viewer}`)
    await page.getByTestId('connection-status').getByText('live').waitFor({ timeout: 120_000 })
    await page.locator('[data-testid="map"][data-ready="true"]').waitFor({ timeout: 120_000 })
    await page.getByTestId('incident-count').getByText(String(INCIDENTS)).waitFor({ timeout: 120_000 })
    // plain text, not a function: the bundler's helpers (keepNames) do not exist in the page
    await page.evaluate(`(() => {
      window.__bench = { frames: [], longTasks: [] }
      let last = performance.now()
      const loop = (now) => {
        window.__bench.frames.push(now - last)
        last = now
        requestAnimationFrame(loop)
      }
      requestAnimationFrame(loop)
      window.__bench.mapRenders = 0
      window.__watchfloorMap?.on('render', () => { window.__bench.mapRenders++ })
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.__bench.longTasks.push(entry.duration)
      }).observe({ type: 'longtask', buffered: false })
    })()`)
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Performance.enable')

    const measure = async (seconds: number, load: boolean): Promise<Measured> => {
      await page.evaluate('window.__bench.frames = []; window.__bench.longTasks = []; window.__bench.mapRenders = 0')
      const taskTime = async () => {
        const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }
        return metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0
      }
      const startTask = await taskTime()
      const started = performance.now()
      let sent = 0
      let i = 0
      while (performance.now() - started < seconds * 1000) {
        const tick = performance.now()
        if (load) {
          // 200 events/s in 20 posts a second: mostly observations, some updates and new incidents
          const due = Math.floor(((tick - started) / 1000) * RATE) - sent
          if (due > 0) {
            const events = []
            for (let k = 0; k < due; k++, i++) {
              const incidentId = pick(incidentIds, i * 31)
              if (i % 50 === 0)
                events.push({
                  ...base('incident.updated'),
                  payload: { incidentId, severity: pick(SEVERITIES, i / 50) },
                })
              else events.push({ ...base('incident.observation'), payload: { incidentId, count: 1 } })
            }
            await post(server.url, events)
            sent += due
          }
        }
        await sleep(Math.max(0, 50 - (performance.now() - tick)))
      }
      const elapsed = (performance.now() - started) / 1000
      const busy = (await taskTime()) - startTask
      const { frames, longTasks, mapRenders } = (await page.evaluate('window.__bench')) as Window
      const settled = frames.slice(1)
      const sorted = [...settled].sort((a, b) => a - b)
      return {
        seconds: round(elapsed, 1),
        frames: settled.length,
        maxFrameMs: round(sorted.at(-1) ?? 0, 1),
        p99FrameMs: round(sorted[Math.floor(sorted.length * 0.99)] ?? 0, 1),
        framesOver100ms: settled.filter((f) => f > 100).length,
        longTasks: longTasks.length,
        longestTaskMs: round(Math.max(0, ...longTasks), 1),
        busyShare: round(busy / elapsed, 3),
        mapRendersPerSecond: round(mapRenders / elapsed, 1),
      }
    }

    await sleep(3000)
    const idle = await measure(IDLE_SECONDS, false)
    const profiling = process.env.BENCH_PICTURE_PROFILE === '1'
    if (profiling) {
      await cdp.send('Profiler.enable')
      await cdp.send('Profiler.start')
    }
    const tracing = process.env.BENCH_PICTURE_TRACE
    if (tracing)
      await browser.startTracing(page, {
        path: tracing,
        categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'gpu', 'cc', 'viz', 'blink'],
      })
    const loaded = await measure(SECONDS, true)
    if (tracing) await browser.stopTracing()
    // BENCH_PICTURE_PROFILE_OUT=file also writes the raw profile (inclusive times: DevTools, a script)
    if (profiling)
      await printProfile(cdp, "where the page's main thread spent the load", process.env.BENCH_PICTURE_PROFILE_OUT)
    await page.screenshot({ path: 'bench/results/picture-under-load.png' })

    printTable(
      `live picture: ${INCIDENTS} open incidents, ${RATE} events/s for ${SECONDS} s (headless Chromium, SwiftShader)`,
      ['', 'frames', 'max frame ms', 'p99 frame ms', '>100 ms', 'long tasks', 'longest ms', 'busy', 'map renders/s'],
      [idle, loaded].map((m, k) => [
        k === 0 ? 'idle (baseline)' : 'under load',
        String(m.frames),
        fmt(m.maxFrameMs, 1),
        fmt(m.p99FrameMs, 1),
        String(m.framesOver100ms),
        String(m.longTasks),
        fmt(m.longestTaskMs, 1),
        `${fmt(m.busyShare * 100, 1)}%`,
        fmt(m.mapRendersPerSecond, 1),
      ]),
    )
    const met = loaded.maxFrameMs <= 100 && loaded.busyShare <= 0.5
    return {
      name: 'picture.live',
      headline: 'busyShare',
      figures: {
        incidents: INCIDENTS,
        rate: RATE,
        ...loaded,
        chromium: browser.version(),
        chromiumArgs: CHROMIUM_ARGS,
      },
      baseline: { name: 'same page, nothing arriving', figures: { ...idle } },
      ratio: idle.busyShare > 0 ? round(loaded.busyShare / idle.busyShare, 2) : 0,
      target: {
        figure: 'maxFrameMs and busyShare',
        max: 100,
        text: 'no frame over 100 ms; main thread busy at most 50%',
      },
      met,
      environment: environment(),
    }
  } finally {
    await browser.close()
    await server.stop()
  }
}

/** Stop the CDP profiler and print self time per function, the top 25 (and write the raw profile to `rawFile`). */
export async function printProfile(cdp: CDPSession, title: string, rawFile?: string): Promise<void> {
  const { profile } = (await cdp.send('Profiler.stop')) as {
    profile: {
      nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
      samples: number[]
      timeDeltas: number[]
    }
  }
  if (rawFile) writeFileSync(rawFile, JSON.stringify(profile))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const byName = new Map<string, number>()
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame
    const name = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber}`
    byName.set(name, (byName.get(name) ?? 0) + (self.get(node.id) ?? 0) / 1000)
  }
  console.log(`  ${title} (self time):`)
  for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`${ms.toFixed(0).padStart(8)} ms  ${name}`)
}

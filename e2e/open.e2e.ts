import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, type Page } from '@playwright/test'
import { writeLog } from '../bench/log.ts'
import { E2E_PRINCIPALS, E2E_TOKENS, test } from './fixtures.ts'

/**
 * Opening a console on a server whose log holds two days of history: the console reads the
 * viewer's snapshot and the recent window, subscribes after the snapshot's seq, and reads older
 * history only when the timeline is moved back. Its own server (not the suite's), on a log written
 * straight into the store with `recordedAt` spread over two days.
 */
const EVENTS = 3_000
const HOURS = 48
const root = new URL('..', import.meta.url).pathname

let server: { url: string; child: ChildProcess; dir: string } | null = null

test.beforeAll(async () => {
  test.setTimeout(120_000)
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-e2e-open-'))
  const built = await writeLog(join(dir, 'events.sqlite'), {
    events: EVENTS,
    stepMs: Math.floor((HOURS * 3_600_000) / EVENTS),
    seed: 11,
    reportEvery: 50,
  })
  expect(built.events).toBe(EVENTS)
  const tokens = join(dir, 'tokens.json')
  writeFileSync(tokens, JSON.stringify(E2E_PRINCIPALS))
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'apps/server/src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      WATCHFLOOR_PORT: '0',
      WATCHFLOOR_HOST: '127.0.0.1',
      WATCHFLOOR_DATA_DIR: dir,
      WATCHFLOOR_TOKENS: tokens,
      WATCHFLOOR_SIMULATOR: 'off',
      WATCHFLOOR_LOG_LEVEL: 'warn',
      WATCHFLOOR_HEARTBEAT_MS: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk
      const match = output.match(/listening on (http:\/\/\S+)/)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}:\n${output}`))
    })
  })
  server = { url, child, dir }
})

test.afterAll(async () => {
  if (!server) return
  const { child, dir } = server
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
  rmSync(dir, { recursive: true, force: true })
})

interface Picture {
  opened: { seq: number; events: number; from: number } | null
  subscribedAfter: number | null
  lastSeq: number
  seq: number
  incidents: string[]
  networks: number
  advisories: number
  window: number
  windowFirst: number | null
  loadedFrom: number | null
  status: string
}

function picture(page: Page): Promise<Picture> {
  return page.evaluate(() => {
    const s = window.__watchfloorStore!.getState()
    return {
      opened: s.opened,
      subscribedAfter: s.subscribedAfter,
      lastSeq: s.lastSeq,
      seq: s.state.seq,
      incidents: [...s.state.incidents.values()]
        .map((i) => `${i.incidentId}/${i.status}/${i.severity}/${i.version}/${i.observationCount}`)
        .sort(),
      networks: s.state.networks.size,
      advisories: s.state.advisories.size,
      window: s.window.length,
      windowFirst: s.window[0]?.seq ?? null,
      loadedFrom: s.loaded[0]?.from ?? null,
      status: s.status,
    }
  })
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(`${server!.url}${path}`, {
    headers: { authorization: `Bearer ${E2E_TOKENS.officer}` },
  })
  expect(response.status, path).toBe(200)
  return (await response.json()) as T
}

test('a console opens from the snapshot, live from its seq, and reads older history when the timeline goes back', async ({
  page,
  outsideRequests: _outside,
}) => {
  test.setTimeout(120_000)
  const url = server!.url
  // what the page asks of the log, and what it subscribes with
  const reads: URL[] = []
  page.on('request', (request) => {
    const u = new URL(request.url())
    if (u.pathname === '/api/v1/events' || u.pathname === '/api/v1/state') reads.push(u)
  })
  const subscribes: number[] = []
  page.on('websocket', (ws) =>
    ws.on('framesent', ({ payload }) => {
      const match = String(payload).match(/^42\d*\["subscribe",\{"after":(\d+)\}/)
      if (match) subscribes.push(Number(match[1]))
    }),
  )

  await page.goto(`${url}/#token=${E2E_TOKENS.officer}`)
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 30_000 })
  const served = await getJson<{
    seq: number
    incidents: { incidentId: string; status: string; severity: string; version: number; observationCount: number }[]
    networks: unknown[]
    advisories: unknown[]
  }>('/api/v1/state?scope=live')
  const opened = await picture(page)

  // the picture is the server's live picture at N (48 hours of history: all of it), N > 0, and the
  // socket subscribed after N
  expect(served.seq).toBeGreaterThan(0)
  expect(opened.opened?.seq).toBe(served.seq)
  expect(opened.subscribedAfter).toBe(served.seq)
  expect(subscribes).toEqual([served.seq])
  expect(opened.incidents).toEqual(
    served.incidents.map((i) => `${i.incidentId}/${i.status}/${i.severity}/${i.version}/${i.observationCount}`).sort(),
  )
  expect(opened.networks).toBe(served.networks.length)
  expect(opened.networks).toBeGreaterThanOrEqual(30)
  expect(opened.advisories).toBe(served.advisories.length)
  expect(opened.incidents.length).toBeGreaterThan(20)

  // only the recent window was read (6 hours of 48), never the log from its start
  const visible = await getJson<{ head: number }>('/api/v1/events?after=0&limit=1')
  expect(visible.head).toBe(served.seq)
  const eventReads = reads.filter((u) => u.pathname === '/api/v1/events')
  expect(eventReads.length).toBeGreaterThan(0)
  for (const read of eventReads) {
    expect(read.searchParams.get('clock')).toBe('recorded')
    expect(read.searchParams.get('from')).not.toBeNull()
  }
  expect(opened.window).toBeGreaterThan(100)
  expect(opened.window).toBeLessThan(EVENTS / 4)
  expect(Date.now() - opened.opened!.from).toBeLessThan(6.5 * 3_600_000)
  // the open incidents are listed (open by default), the same number as the server's
  const open = served.incidents.filter((i) => i.status !== 'closed').length
  await expect(page.getByTestId('incident-count')).toContainText(String(open))

  // live: a report posted now arrives on the socket
  const incidentId = `inc-open-live-${randomUUID().slice(0, 6)}`
  const posted = await fetch(`${url}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${E2E_TOKENS.sensor}` },
    body: JSON.stringify({
      events: [
        {
          id: randomUUID(),
          type: 'incident.reported',
          occurredAt: new Date().toISOString(),
          source: { organisation: 'cert-ee', network: 'cert-ee-net' },
          marking: { tlp: 'GREEN' },
          payload: {
            incidentId,
            title: 'Arrived after the open',
            severity: 'critical',
            category: 'malware',
            affectedNetworks: ['cert-ee-net'],
          },
        },
      ],
    }),
  })
  expect(posted.status).toBe(201)
  const postedSeq = ((await posted.json()) as { results: { seq: number }[] }).results[0]!.seq
  await expect(page.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`)).toBeVisible()
  expect(subscribes).toEqual([served.seq]) // no second subscribe, no re-read

  // the timeline zoomed out and panned back before the loaded window: that history is read and added
  const canvas = page.getByTestId('timeline-canvas')
  await page.getByTestId('timeline').focus()
  for (let i = 0; i < 4; i++) await page.keyboard.press('-')
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft')
  await expect
    .poll(async () => (await picture(page)).loadedFrom ?? Number.POSITIVE_INFINITY, { timeout: 20_000 })
    .toBeLessThan(opened.opened!.from - 12 * 3_600_000)
  await expect(canvas).toHaveAttribute('data-unloaded', '0', { timeout: 20_000 })
  const after = await picture(page)
  expect(after.window).toBeGreaterThan(opened.window + 500)
  expect(after.windowFirst!).toBeLessThan(opened.windowFirst!)
  expect(Number(await canvas.getAttribute('data-marks'))).toBeGreaterThan(0)
  // older reads were time ranges on the recorded clock, and the picture itself did not move
  const older = reads.filter((u) => u.pathname === '/api/v1/events' && u.searchParams.get('to') !== null)
  expect(older.length).toBeGreaterThan(0)
  // (the log's last events may be ones this viewer does not see: the posted one is the next it does)
  expect(after.seq).toBe(postedSeq)
  expect(after.incidents.length).toBe(opened.incidents.length + 1)
  await page.screenshot({ path: 'e2e/artifacts/open-history.png' })
})

import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type APIRequestContext, expect as baseExpect, type Page, request as playwrightRequest } from '@playwright/test'
import { type ServerProcess, startServerProcess } from '../apps/server/test/harness.ts'
import { E2E_PRINCIPALS, E2E_TOKENS, expectHeaderOnOneLine, incident, postEvents, test } from './fixtures.ts'

/**
 * Alarms, on a server of its own (not the suite's): the criticals posted here would otherwise stay
 * open, unacknowledged, on the shared server and change the picture of every spec after this one.
 */
let server: ServerProcess | null = null
/** Two browsers with a WebGL map each, and a server of its own: more patience than the suite's default. */
const expect = baseExpect.configure({ timeout: 15_000 })

/** Sign in with a token link and wait until live (the suite's signIn allows 15 s; two consoles need more). */
async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`/#token=${token}`)
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 60_000 })
}
let dir = ''
let api: APIRequestContext | null = null

test.beforeAll(async () => {
  test.setTimeout(90_000)
  dir = mkdtempSync(join(tmpdir(), 'watchfloor-e2e-alarm-'))
  // the suite's people (E2E_TOKENS), not the integration harness's
  const tokens = join(dir, 'e2e-tokens.json')
  writeFileSync(tokens, JSON.stringify(E2E_PRINCIPALS))
  server = await startServerProcess({
    dataDir: dir,
    env: { WATCHFLOOR_TOKENS: tokens, WATCHFLOOR_HEARTBEAT_MS: '1000' },
  })
  api = await playwrightRequest.newContext({ baseURL: server.url })
})

test.afterAll(async () => {
  await api?.dispose()
  await server?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** A rectangle of the page. */
interface Box {
  x: number
  y: number
  width: number
  height: number
}

async function boxOf(page: Page, testId: string): Promise<Box> {
  const box = await page.getByTestId(testId).boundingBox()
  expect(box, testId).not.toBeNull()
  return box!
}

/**
 * Whether what is on top, just inside each corner and at the centre of an element, belongs to
 * the element or to its panel (`within`: the map's own legend and attribution sit on the map).
 */
async function uncovered(page: Page, testId: string, within?: string): Promise<boolean[]> {
  return page.evaluate(
    ([id, panel]) => {
      const element = document.querySelector(`[data-testid="${id}"]`)!
      const owner = panel ? element.closest(panel)! : element
      const r = element.getBoundingClientRect()
      const points = [
        [r.left + 3, r.top + 3],
        [r.right - 3, r.top + 3],
        [r.left + 3, r.bottom - 3],
        [r.right - 3, r.bottom - 3],
        [(r.left + r.right) / 2, (r.top + r.bottom) / 2],
      ] as const
      return points.map(([x, y]) => {
        const top = document.elementFromPoint(x, y)
        return top !== null && owner.contains(top)
      })
    },
    [testId, within] as const,
  )
}

const NETWORK = 'ee-alarm-net'

/** A network of cert-ee on the map (incidents sit on the first network they affect). */
const network = {
  id: randomUUID(),
  type: 'network.registered',
  occurredAt: new Date().toISOString(),
  source: { organisation: 'cert-ee' },
  marking: { tlp: 'GREEN' },
  payload: {
    networkId: NETWORK,
    name: 'Estonian energy grid',
    organisation: 'cert-ee',
    nation: 'EE',
    kind: 'national-cert',
    location: { lat: 59.437, lon: 24.754 },
  },
}

/** The network, registered already when a test before ran (200, a duplicate) or now (201). */
async function networkRegistered(request: APIRequestContext): Promise<void> {
  const registered = await request.post('/api/v1/events', {
    headers: { authorization: `Bearer ${E2E_TOKENS.sensor}` },
    data: { events: [network] },
  })
  expect([200, 201]).toContain(registered.status())
}

/** An incident on that network. */
const onNetwork = (incidentId: string, title: string, severity: string) => {
  const event = incident(incidentId, title, 'GREEN', severity)
  return { ...event, payload: { ...event.payload, affectedNetworks: [NETWORK] } }
}

declare global {
  interface Window {
    __alarmTitles?: string[]
  }
}

test('a critical posted live raises an alarm until it is acknowledged; a dismissal is for the viewer only', async ({
  browser,
}) => {
  test.setTimeout(240_000) // two browsers with a WebGL map each
  const request = api!
  // already open when the consoles open: a critical (counted, no alarm) and a high on the same network
  await postEvents(request, [network])
  await postEvents(request, [
    onNetwork('inc-alarm-old', 'Old critical already on the floor', 'critical'),
    onNetwork('inc-alarm-near', 'Phishing wave at the ministry', 'high'),
  ])
  const officerContext = await browser.newContext({ baseURL: server!.url })
  const liaisonContext = await browser.newContext({ baseURL: server!.url })
  const officer = await officerContext.newPage()
  const liaison = await liaisonContext.newPage()
  await signIn(officer, E2E_TOKENS.officer)
  await signIn(liaison, E2E_TOKENS.liaison)

  // what the console opened with raises no alarm, but the open criticals are counted, in the header
  await expect(officer.getByTestId('alarm-banner')).toHaveCount(0)
  await expect(officer.locator('header').getByTestId('alarm-standing-text')).toHaveText(
    '1 unacknowledged critical already open',
  )
  await expect(officer.getByTestId('alarm-standing')).toHaveAttribute('data-count', '1')
  // at 1280 px it says so in fewer words, and the header keeps to one line
  expect(officer.viewportSize()?.width).toBe(1280)
  await expect(officer.getByTestId('alarm-standing')).toHaveAccessibleName(/1 unacknowledged critical already open/)
  await expect(officer.getByTestId('alarm-standing').locator('.standing-short')).toHaveText('◆ 1 not acknowledged')
  await expectHeaderOnOneLine(officer)
  // pressed, it shows the incidents it counts: critical, not acknowledged
  await officer.getByTestId('alarm-standing').click()
  await expect(officer.getByTestId('list-ack-unacknowledged')).toHaveAttribute('aria-pressed', 'true')
  await expect(officer.getByTestId('filter-severity-critical')).toHaveAttribute('aria-pressed', 'true')
  await officer.getByTestId('filter-clear').click()
  await officer.getByTestId('list-ack-any').click()
  await officer.getByTestId('alarm-settings').locator('summary').click()
  await expect(officer.getByTestId('alarm-sound')).not.toBeChecked() // sound off by default
  // a menu: Escape closes it, its button focused again (from inside it); so does a press anywhere else
  await officer.getByTestId('alarm-sound').focus()
  await officer.keyboard.press('Escape')
  await expect(officer.getByTestId('alarm-settings')).not.toHaveAttribute('open')
  await expect(officer.getByTestId('alarm-settings').locator('summary')).toBeFocused()
  await officer.getByTestId('alarm-settings').locator('summary').click()
  await expect(officer.getByTestId('alarm-settings')).toHaveAttribute('open', '')
  await officer.getByTestId('timeline').click({ position: { x: 5, y: 5 } })
  await expect(officer.getByTestId('alarm-settings')).not.toHaveAttribute('open')

  // the liaison turns the sound on: remembered for the user (the tone is made with the Web Audio API)
  await liaison.getByTestId('alarm-settings').locator('summary').click()
  await liaison.getByTestId('alarm-sound').check()
  expect(await liaison.evaluate(() => localStorage.getItem('watchfloor.alarm.sound.liaison-lv'))).toBe('on')
  await liaison.getByTestId('alarm-settings').locator('summary').click()

  // record the tab titles as they change
  await officer.evaluate(() => {
    window.__alarmTitles = []
    const titleElement = document.querySelector('title')!
    new MutationObserver(() => window.__alarmTitles!.push(document.title)).observe(titleElement, {
      childList: true,
      characterData: true,
      subtree: true,
    })
  })
  const normalTitle = await officer.title()

  // where the map, the timeline and the lists are with no alarm
  await expect(officer.getByTestId('map')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
  const quiet = {
    map: await boxOf(officer, 'map'),
    timeline: await boxOf(officer, 'timeline'),
    tabs: await boxOf(officer, 'tab-incidents'),
  }

  // a sensor posts a critical
  await postEvents(request, [onNetwork('inc-alarm-new', 'Ransomware on the power grid', 'critical')])
  for (const page of [officer, liaison]) {
    const banner = page.getByRole('alert').filter({ has: page.getByTestId('alarm') })
    await expect(banner).toBeVisible()
    const alarm = banner.locator('[data-testid="alarm"][data-incident-id="inc-alarm-new"]')
    await expect(alarm.getByTestId('alarm-title')).toHaveText('Ransomware on the power grid')
    await expect(alarm.getByTestId('alarm-organisation')).toHaveText('cert-ee')
    await expect(alarm.getByTestId('alarm-networks')).toHaveText('Estonian energy grid')
  }
  await officer.screenshot({ path: test.info().outputPath('alarm-banner.png') })

  // the banner is a strip in the page's flow under the header: it covers nothing. The map gives up
  // the strip's height; the timeline keeps its place and size; nothing is drawn over them.
  const banner = await boxOf(officer, 'alarm-banner')
  const header = await officer.locator('header.header').boundingBox()
  expect(header).not.toBeNull()
  expect(banner.y).toBeGreaterThanOrEqual(header!.y + header!.height - 1)
  const alarmed = {
    map: await boxOf(officer, 'map'),
    timeline: await boxOf(officer, 'timeline'),
    tabs: await boxOf(officer, 'tab-incidents'),
  }
  expect(banner.y + banner.height).toBeLessThanOrEqual(alarmed.map.y + 1)
  expect(banner.y + banner.height).toBeLessThanOrEqual(alarmed.tabs.y + 1)
  expect(alarmed.timeline).toEqual(quiet.timeline)
  expect(alarmed.map.height).toBeLessThan(quiet.map.height)
  const all = [true, true, true, true, true]
  expect(await uncovered(officer, 'map', '.map-panel'), 'map uncovered').toEqual(all)
  for (const testId of ['timeline', 'tab-incidents', 'map-layers', 'map-legend'])
    expect(await uncovered(officer, testId), `${testId} uncovered`).toEqual(all)

  // the tab title flashes: the alarm's title, then the normal one again
  await expect
    .poll(() => officer.evaluate(() => window.__alarmTitles!), { timeout: 10_000 })
    .toEqual(expect.arrayContaining(['(!) CRITICAL: Ransomware on the power grid', normalTitle]))

  // centre on the network, at a zoom where its incidents cluster
  await officer.evaluate(() => window.__watchfloorMap?.jumpTo({ center: [24.754, 59.437], zoom: 4 }))
  await expect
    .poll(() =>
      officer.evaluate(() =>
        (window.__watchfloorMap?.queryRenderedFeatures({ layers: ['incident-clusters'] }) ?? []).map(
          (f) => f.properties.point_count as number,
        ),
      ),
    )
    .toContain(3) // the three incidents of the network are one cluster
  // on the map the alarmed marker is drawn by its own unclustered layer, while its neighbours cluster
  await expect
    .poll(
      () =>
        officer.evaluate(() =>
          (window.__watchfloorMap?.queryRenderedFeatures({ layers: ['incident-alarmed'] }) ?? []).map(
            (f) => f.properties.incidentId as string,
          ),
        ),
      { timeout: 20_000 },
    )
    .toContain('inc-alarm-new')
  expect(
    await officer.evaluate(
      () => window.__watchfloorMap?.getLayer('incident-alarmed')?.source !== 'incidents', // not the clustered source
    ),
  ).toBe(true)

  // the liaison dismisses it for themselves: the officer's alarm stands
  await liaison.locator('[data-testid="alarm"][data-incident-id="inc-alarm-new"]').getByTestId('alarm-dismiss').click()
  await expect(liaison.getByTestId('alarm-banner')).toHaveCount(0)
  expect(await liaison.evaluate(() => localStorage.getItem('watchfloor.alarm.dismissed.liaison-lv'))).toContain(
    'inc-alarm-new',
  ) // remembered for this user
  // dismissed, it still leaves a trace while it waits: counted in the header with the criticals not acknowledged
  await expect(liaison.getByTestId('alarm-standing')).toHaveAttribute('data-count', /^[1-9]/)
  const countedBefore = Number(await liaison.getByTestId('alarm-standing').getAttribute('data-count'))
  await expect(officer.locator('[data-testid="alarm"][data-incident-id="inc-alarm-new"]')).toBeVisible()

  // a coordinator acknowledges it: the alarm goes everywhere, and the title stops flashing
  const ack = await request.post('/api/v1/commands', {
    headers: { authorization: `Bearer ${E2E_TOKENS.coordinator}` },
    data: { type: 'incident.acknowledge', incidentId: 'inc-alarm-new', expectedVersion: 1 },
  })
  expect(ack.status()).toBe(200)
  await expect(officer.getByTestId('alarm-banner')).toHaveCount(0)
  await expect(officer).toHaveTitle(normalTitle)
  // and with no alarm the layout is as it was before: no space kept for the strip
  await expect.poll(() => boxOf(officer, 'map')).toEqual(quiet.map)
  expect(await boxOf(officer, 'timeline')).toEqual(quiet.timeline)
  expect(await boxOf(officer, 'tab-incidents')).toEqual(quiet.tabs)
  await expect
    .poll(() =>
      officer.evaluate(() => window.__watchfloorMap?.queryRenderedFeatures({ layers: ['incident-alarmed'] }).length),
    )
    .toBe(0)
  await liaison.waitForTimeout(500)
  await expect(liaison.getByTestId('alarm-banner')).toHaveCount(0)
  // acknowledged, it no longer counts
  await expect
    .poll(async () =>
      Number(
        await liaison.getByTestId('alarm-standing').evaluateAll((found) => found[0]?.getAttribute('data-count') ?? '0'),
      ),
    )
    .toBe(countedBefore - 1)

  await officerContext.close()
  await liaisonContext.close()
})

test('at 1280 and 1920 px the header of a coordinator and an admin keeps to one line with criticals open and a directory of long names', async ({
  browser,
}, testInfo) => {
  test.setTimeout(120_000)
  const request = api!
  await networkRegistered(request)
  await postEvents(request, [onNetwork('inc-alarm-header', 'Critical waiting on the floor', 'critical')])
  // the longest entry of "View as" is an organisation's full name
  const added = await request.post('/api/v1/directory/organisations', {
    headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
    data: {
      id: 'cert-lt-long',
      name: 'Computer Emergency Response Team of the Republic of Lithuania (CERT-LT)',
      nation: 'LT',
      kind: 'ally_cert',
    },
  })
  expect([201, 409]).toContain(added.status())
  for (const width of [1280, 1920])
    for (const token of [E2E_TOKENS.coordinator, E2E_TOKENS.admin]) {
      const context = await browser.newContext({ baseURL: server!.url, viewport: { width, height: 720 } })
      const page = await context.newPage()
      await signIn(page, token)
      await expect(page.getByTestId('alarm-standing')).toBeVisible()
      await expect(page.locator('.viewas-control select')).toBeVisible()
      await expectHeaderOnOneLine(page)
      await page.screenshot({ path: testInfo.outputPath(`header-${width}-${token.slice(4, 12)}.png`) })
      await context.close()
    }
})

test('several alarms at 1280 px: counted, each on one line, a long title cut short and whole in its tooltip', async ({
  browser,
}, testInfo) => {
  test.setTimeout(120_000)
  const request = api!
  await networkRegistered(request)
  const context = await browser.newContext({ baseURL: server!.url, viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  await signIn(page, E2E_TOKENS.officer)
  const run = randomUUID().slice(0, 6)
  const long = `Ransomware ${run} spreading from the grid operator's historian to every substation controller of the northern region and beyond`
  await postEvents(request, [
    onNetwork(`inc-many-${run}-1`, `Wiper ${run} on the ministry mail servers`, 'critical'),
    onNetwork(`inc-many-${run}-2`, long, 'critical'),
    onNetwork(`inc-many-${run}-3`, `Beaconing ${run} from the customs office`, 'critical'),
  ])
  const banner = page.getByTestId('alarm-banner')
  await expect(banner).toHaveAttribute('data-count', '3')
  await expect(page.getByTestId('alarm-count')).toHaveText('3 alarms standing, newest first')
  // one line each: no alarm is taller than its buttons' row
  const heights = await banner.getByTestId('alarm').evaluateAll((rows) => rows.map((row) => row.clientHeight))
  expect(heights).toHaveLength(3)
  for (const height of heights) expect(height).toBeLessThan(34)
  const title = banner.locator(`[data-testid="alarm"][data-incident-id="inc-many-${run}-2"]`).getByTestId('alarm-title')
  await expect(title).toHaveAttribute('title', long)
  expect(await title.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true)
  await page.screenshot({ path: testInfo.outputPath('alarms-1280.png') })
  await context.close()
})

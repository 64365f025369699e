import { randomUUID } from 'node:crypto'
import { expect, type Page } from '@playwright/test'
import { isOmitted } from '../packages/core/src/index.ts'
import { E2E_TOKENS, pixelStats, postEvents, signIn, test } from './fixtures.ts'

const MIN = 60_000
const iso = (ms: number) => new Date(ms).toISOString()

/** A recorded scenario: everything happened in the last half hour, but is reported only now. */
const T = Math.floor((Date.now() - 30 * MIN) / 1000) * 1000
const run = randomUUID().slice(0, 6)
const A = `inc-rp-a-${run}`
const B = `inc-rp-b-${run}`
const LATER = `inc-rp-later-${run}`

const event = (type: string, occurredAt: number, payload: object) => ({
  id: randomUUID(),
  type,
  occurredAt: iso(occurredAt),
  source: { organisation: 'cert-ee', network: 'ee-gov' },
  marking: { tlp: 'GREEN' },
  payload,
})
const report = (incidentId: string, title: string, at: number) =>
  event('incident.reported', at, {
    incidentId,
    title,
    severity: 'high',
    category: 'malware',
    affectedNetworks: ['ee-gov'],
  })

const row = (page: Page, incidentId: string) =>
  page.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`)

/** What the live picture left out (core's `Omitted`), read from the page's data store. */
async function omittedOf(page: Page) {
  const json = await page.evaluate(() => {
    const omitted = window.__watchfloorStore!.getState().omitted
    return omitted === null ? null : { ...omitted, hashes: [...omitted.hashes] }
  })
  if (json === null) return null
  return { ...json, hashes: Uint32Array.from(json.hashes) }
}

/** The statuses of every incident in the picture on screen, or in the live picture behind a replay. */
function statuses(page: Page, which: 'state' | 'liveState'): Promise<Record<string, string>> {
  return page.evaluate(
    (key) =>
      Object.fromEntries(
        [...window.__watchfloorStore!.getState()[key].incidents.values()].map((i) => [
          i.incidentId,
          `${i.status}/${i.severity}/${i.version}`,
        ]),
      ),
    which,
  )
}

test.describe('replay', () => {
  test.beforeAll(async ({ request }) => {
    await postEvents(request, [
      report(A, 'Replay worm', T),
      report(B, 'Replay phish', T + 5 * MIN),
      // observations between the changes: a step of every event stops at them, a step of changes does not
      event('incident.observation', T + 12 * MIN, {
        incidentId: A,
        networkId: 'ee-gov',
        indicator: '198.51.100.7',
        count: 3,
      }),
      event('incident.observation', T + 15 * MIN, {
        incidentId: A,
        networkId: 'ee-gov',
        indicator: '198.51.100.7',
        count: 2,
      }),
      event('incident.updated', T + 20 * MIN, { incidentId: A, status: 'closed' }),
    ])
  })

  test('replays the occurred clock: open at a moment, closed at the end, equal to live; the link reopens it', async ({
    page,
    context,
    request,
    outsideRequests: _outside,
  }) => {
    await signIn(page, E2E_TOKENS.officer)
    await expect(row(page, B)).toBeVisible()
    await expect(row(page, A)).toHaveCount(0) // closed in live

    // a link to a moment when A was open
    const from = T - MIN
    const to = Date.now() + 2 * MIN
    const at = T + 10 * MIN
    const query = `mode=replay&clock=occurred&window=${iso(from)}/${iso(to)}&at=${iso(at)}&speed=1000000`
    await page.goto(`/?${query}`)
    // a replay is never shown as live: the pill says REPLAY, the connection is behind it
    await expect(page.getByTestId('connection-status')).toHaveAttribute('data-connection', 'live', { timeout: 15_000 })
    await expect(page.getByTestId('replay-bar')).toBeVisible()
    await expect(page.getByTestId('replay-play')).toBeEnabled({ timeout: 15_000 })
    await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', iso(at))
    await expect(page.getByTestId('replay-clock-occurred')).toHaveAttribute('aria-pressed', 'true')
    await expect(page.getByTestId('replay-clock-help')).toContainText('What happened when')
    await expect(row(page, A)).toBeVisible()
    await expect(row(page, B)).toBeVisible()
    expect((await statuses(page, 'state'))[A]).toMatch(/^new\//)
    // the live picture behind the replay folds its backlog in batches of 250 ms
    await expect.poll(async () => (await statuses(page, 'liveState'))[A]).toMatch(/^closed\//)
    // every event of the scenario was reported late: marked on the occurred clock
    await page.getByTestId('tab-events').click()
    await expect(page.locator('[data-testid="event-row"][data-late="true"]').first()).toBeVisible()
    await expect(page.getByTestId('late-marker').first()).toContainText('LATE')
    await page.getByTestId('tab-incidents').click()
    await expect
      .poll(async () => Number(await page.getByTestId('timeline-canvas').getAttribute('data-late')))
      .toBeGreaterThan(0)
    await page.screenshot({ path: 'e2e/artifacts/replay-open.png' })

    // step to the next event: an observation of A (T + 12 min)
    await page.getByTestId('replay-step').click()
    await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', iso(T + 12 * MIN))
    // the next change passes the observation at T + 15 min: A's closure (T + 20 min)
    await page.getByTestId('replay-change').click()
    await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', iso(T + 20 * MIN))
    await expect(row(page, A)).toHaveCount(0)
    // one event back is the observation; one change back, B's report (T + 5 min)
    await page.getByTestId('replay-step-back').click()
    await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', iso(T + 15 * MIN))
    await page.getByTestId('replay-change-back').click()
    await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', iso(T + 5 * MIN))
    await expect(row(page, A)).toBeVisible()

    // something arrives live while replaying: not in the replay, in live afterwards
    await postEvents(request, [report(LATER, 'Arrived during the replay', Date.now())])
    await expect.poll(async () => Object.keys(await statuses(page, 'liveState'))).toContain(LATER)
    expect(Object.keys(await statuses(page, 'state'))).not.toContain(LATER)

    // play at high speed to the end: the picture matches live (as it was when the window loaded)
    await page.getByTestId('replay-play').click()
    await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', iso(to), { timeout: 20_000 })
    await expect(page.getByTestId('replay-play')).toBeVisible()
    const end = await statuses(page, 'state')
    const live = await statuses(page, 'liveState')
    delete live[LATER]
    // the replay's picture is the whole one; the live picture leaves out incidents closed long ago
    // (other specs make them): those, and only those, are in the replay alone
    const omitted = await omittedOf(page)
    for (const id of Object.keys(end)) {
      if (id in live) continue
      expect(omitted !== null && isOmitted(omitted, 'incident', id), `${id} in the replay only`).toBe(true)
      delete end[id]
    }
    expect(end).toEqual(live)
    expect(end[A]).toMatch(/^closed\//)

    // a copied link reopens the same moment in a new page
    await page.getByTestId('replay-playhead').fill(String(T + 12 * MIN))
    await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', iso(T + 12 * MIN))
    // from the keyboard: an arrow moves a step one can see (a two-hundredth of the window, whole
    // seconds), and the slider reads as a time, not a number of milliseconds
    const playhead = page.getByTestId('replay-playhead')
    const span = Number(await playhead.getAttribute('max')) - Number(await playhead.getAttribute('min'))
    const stepMs = Math.max(1000, Math.round(span / 200 / 1000) * 1000)
    await playhead.focus()
    await page.keyboard.press('ArrowRight')
    await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', iso(T + 12 * MIN + stepMs))
    await expect(playhead).toHaveAttribute(
      'aria-valuetext',
      `${iso(T + 12 * MIN + stepMs)
        .slice(0, 19)
        .replace('T', ' ')}Z`,
    )
    await page.keyboard.press('ArrowLeft')
    await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', iso(T + 12 * MIN))
    await page.waitForTimeout(500) // the URL follows the view within 250 ms
    const link = page.url()
    expect(link).toContain('mode=replay')
    expect(link).toContain('clock=occurred')
    const other = await context.newPage()
    await other.goto(`${link}#token=${E2E_TOKENS.officer}`)
    await expect(other.getByTestId('replay-play')).toBeEnabled({ timeout: 15_000 })
    await expect(other.getByTestId('replay-at')).toHaveAttribute('data-at', iso(T + 12 * MIN))
    await expect(row(other, A)).toBeVisible()
    expect((await statuses(other, 'state'))[A]).toMatch(/^new\//)
    await other.close()

    // back to live: everything that arrived meanwhile, no reload
    await page.getByTestId('replay-close').click()
    await expect(page.getByTestId('replay-bar')).toHaveCount(0)
    await expect(row(page, LATER)).toBeVisible()
    await expect(row(page, A)).toHaveCount(0)
    await page.waitForTimeout(500)
    expect(page.url()).not.toContain('mode=replay')
  })

  test('the recorded clock shows what we knew when; an incident replays its own window', async ({
    page,
    outsideRequests: _outside,
  }) => {
    await signIn(page, E2E_TOKENS.officer)
    await row(page, B).click()
    await expect(page.getByTestId('incident-detail')).toHaveAttribute('data-incident-id', B)
    await page.getByTestId('replay-incident-button').click()
    await expect(page.getByTestId('replay-incident')).toBeVisible()
    await expect(page.getByTestId('replay-play')).toBeEnabled({ timeout: 15_000 })
    // the recorded clock (the default): at the start of B's window nothing of the scenario was known yet
    await page.getByTestId('replay-clock-recorded').click()
    await expect(page.getByTestId('replay-play')).toBeEnabled({ timeout: 15_000 })
    await expect(page.getByTestId('replay-clock-help')).toContainText('What we knew when')
    const folded = Number(await page.getByTestId('replay-folded').getAttribute('data-total'))
    expect(folded).toBeGreaterThan(0)
    await expect(row(page, B)).toHaveCount(0)
    // its panel says the moment is before its report, not that it is kept from this viewer
    await expect(page.getByTestId('detail-not-yet')).toContainText('not reported yet')
    // step from change to change (the specs before this one post on the same server, so their
    // reports may come first) until B's report is known
    for (let i = 0; i < 200 && (await row(page, B).count()) === 0; i++) {
      const before = await page.getByTestId('replay-at').getAttribute('data-at')
      await page.getByTestId('replay-change').click()
      await expect(page.getByTestId('replay-at')).not.toHaveAttribute('data-at', before!)
    }
    await expect(row(page, B)).toBeVisible()
    await page.getByTestId('replay-close').click()
  })

  test('exports the selected incident as CSV, streamed to a download', async ({ page, outsideRequests: _outside }) => {
    await signIn(page, E2E_TOKENS.officer)
    await row(page, B).click()
    await page.getByTestId('open-replay').click()
    await expect(page.getByTestId('replay-bar')).toBeVisible()
    const download = page.waitForEvent('download')
    await page.getByTestId('export-incident-csv').click()
    const file = await download
    // [M1] a CSV carries no banner: its name carries its marking, and the console says it
    expect(file.suggestedFilename()).toMatch(/\.TLP-(CLEAR|GREEN|AMBER|AMBER\+STRICT|RED)(\.PAP-[A-Z]+)?\.csv$/)
    await expect(page.getByTestId('export-marking')).toHaveText(/^TLP:/)
    // at 1280 px the bar keeps to three rows with a file saved, so the map keeps its height
    expect(page.viewportSize()?.width).toBe(1280)
    expect((await page.getByTestId('replay-bar').boundingBox())!.height).toBeLessThan(140)
    const path = await file.path()
    const { readFileSync } = await import('node:fs')
    const text = readFileSync(path, 'utf8')
    expect(text.split('\r\n')[0]).toContain('seq,id,type')
    expect(text).toContain(B)
    await page.getByTestId('replay-close').click()
  })

  test('exports an incident from its panel, live, without opening the replay; in replay up to the playhead', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    // a later event of B: recorded after its report, and happened after it
    await postEvents(request, [
      event('incident.observation', T + 25 * MIN, {
        incidentId: B,
        networkId: 'ee-gov',
        indicator: '203.0.113.9',
        count: 1,
      }),
    ])
    await signIn(page, E2E_TOKENS.officer)
    await row(page, B).click()
    const panel = page.getByTestId('detail-export')
    await expect(panel).toBeVisible()
    await expect(page.getByTestId('replay-bar')).toHaveCount(0)
    const download = page.waitForEvent('download')
    await panel.getByTestId('detail-export-json').click()
    const file = await download
    // [M1] its name carries its marking, and the panel says it
    expect(file.suggestedFilename()).toMatch(
      new RegExp(
        `^watchfloor-incident-${B}-to-seq-\\d+\\.TLP-(CLEAR|GREEN|AMBER|AMBER\\+STRICT|RED)(\\.PAP-[A-Z]+)?\\.json$`,
      ),
    )
    await expect(panel.getByTestId('export-marking')).toHaveText(/^TLP:/)
    const { readFileSync } = await import('node:fs')
    type Row = { seq: number; recordedAt: string; occurredAt: string; payload: { incidentId?: string } }
    const events = JSON.parse(readFileSync(await file.path(), 'utf8')) as Row[]
    expect(events.length).toBeGreaterThan(1)
    expect(events.every((event) => event.payload.incidentId === B)).toBe(true)

    // in replay the panel shows the incident at the playhead, and its export stops there too
    await page.getByTestId('open-replay').click()
    await expect(page.getByTestId('replay-play')).toBeEnabled({ timeout: 15_000 })
    const first = events[0]!
    // the URL follows the view (within 250 ms): the replay's clock is read from it
    await expect.poll(() => page.url()).toContain('mode=replay')
    const occurred = page.url().includes('clock=occurred')
    const moment = Date.parse(occurred ? first.occurredAt : first.recordedAt)
    await page.getByTestId('replay-playhead').fill(String(moment))
    await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', new Date(moment).toISOString())
    await expect(panel).toContainText('Export this incident, up to the playhead:')
    // a STIX bundle would write the incident as it stands now: not offered at a playhead
    await expect(panel.getByTestId('detail-export-stix')).toHaveCount(0)
    const atPlayhead = page.waitForEvent('download')
    await panel.getByTestId('detail-export-json').click()
    const until = JSON.parse(readFileSync(await (await atPlayhead).path(), 'utf8')) as Row[]
    expect(until.map((event) => event.seq)).toContain(first.seq)
    expect(until.length).toBeLessThan(events.length)
    await page.getByTestId('replay-close').click()
  })

  test('an incident reported after the replay\'s window says so in its panel, not "play on"', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    const id = `inc-rp-after-${run}`
    await postEvents(request, [report(id, 'Reported after the window', Date.now())])
    // a replay of a window that ended ten minutes ago, the new incident selected (as a live alarm's Show does)
    const window = `${iso(T)}/${iso(Date.now() - 10 * MIN)}`
    await page.goto(`/?mode=replay&window=${encodeURIComponent(window)}&sel=${id}#token=${E2E_TOKENS.officer}`)
    await expect(page.getByTestId('replay-play')).toBeEnabled({ timeout: 15_000 })
    const panel = page.getByTestId('incident-detail')
    await expect(panel.getByTestId('detail-after-window')).toContainText('Reported after the window this replay shows')
    await expect(panel.getByTestId('detail-not-yet')).toHaveCount(0)
    await page.getByTestId('replay-close').click()
  })

  test('a bookmark saved in replay is listed and jumps back to its moment', async ({
    page,
    outsideRequests: _outside,
  }) => {
    await signIn(page, E2E_TOKENS.coordinator)
    const at = T + 10 * MIN
    await page.goto(`/?mode=replay&clock=occurred&window=${iso(T - MIN)}/${iso(T + 30 * MIN)}&at=${iso(at)}`)
    await expect(page.getByTestId('replay-play')).toBeEnabled({ timeout: 15_000 })
    await page.getByTestId('bookmark-new').click()
    await page.getByTestId('bookmark-title').fill(`Worm still open ${run}`)
    await page.getByTestId('bookmark-note').fill('before the closure')
    await expect(page.getByTestId('bookmark-tlp')).toHaveValue('AMBER')
    await page.getByTestId('bookmark-save').click()
    await expect(page.getByTestId('bookmark-status')).toHaveText(/saved/)
    await page.getByTestId('replay-close').click()
    await page.getByTestId('tab-bookmarks').click()
    const bookmark = page.getByTestId('bookmark').filter({ hasText: `Worm still open ${run}` })
    await expect(bookmark).toBeVisible()
    await bookmark.getByRole('button').first().click()
    await expect(page.getByTestId('replay-play')).toBeEnabled({ timeout: 15_000 })
    await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', iso(at))
    await expect(page.getByTestId('replay-clock-occurred')).toHaveAttribute('aria-pressed', 'true')
  })

  test('a watch officer may bookmark too (C16)', async ({ page, outsideRequests: _o }) => {
    await signIn(page, E2E_TOKENS.officer)
    await page.getByTestId('open-replay').click()
    await expect(page.getByTestId('replay-bar')).toBeVisible()
    await expect(page.getByTestId('bookmark-new')).toHaveCount(1)
  })

  test('the after-action report renders its timeline, durations and networks', async ({
    page,
    outsideRequests: _outside,
  }) => {
    await signIn(page, E2E_TOKENS.officer)
    await page.goto(`/?report=${A}`)
    await expect(page.getByTestId('report')).toBeVisible({ timeout: 15_000 })
    await expect(page.getByTestId('report-status')).toHaveText('closed')
    await expect(page.getByTestId('report-timeline').locator('li')).toHaveCount(2)
    await expect(page.getByTestId('report-timeline')).toContainText('incident.reported')
    await expect(page.getByTestId('report-ttr')).toHaveText('20 min')
    // A was closed and never acknowledged: the report says so plainly
    await expect(page.getByTestId('report-tta')).toHaveText('never acknowledged (closed without acknowledgement)')
    await expect(page.getByTestId('report-networks')).toContainText('ee-gov')
    await page.screenshot({ path: 'e2e/artifacts/replay-report.png' })
    await page.getByTestId('report-close').click()
    await expect(page.getByTestId('report-page')).toHaveCount(0)

    // opened from the detail panel, the report keeps a picture of the map
    await expect(page.getByTestId('map')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
    await row(page, B).click()
    await page.getByTestId('open-report').click()
    await expect(page.getByTestId('report')).toHaveAttribute('data-incident-id', B)
    const snapshot = page.getByTestId('report-snapshot').locator('img')
    await expect(snapshot).toHaveAttribute('src', /^data:image\/png;base64,/)
    // the basemap is in the picture, under the live layers: sea and land, not a transparent canvas
    const colours = await pixelStats(page, (await snapshot.getAttribute('src')) ?? '')
    expect(colours.opaqueShare).toBeGreaterThan(0.99)
    expect(colours.distinct).toBeGreaterThan(20)
    expect(colours.dominantShare).toBeLessThan(0.8)
    await page.waitForTimeout(500)
    expect(page.url()).toContain(`report=${B}`)
  })
})

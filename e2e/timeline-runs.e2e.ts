import { randomUUID } from 'node:crypto'
import { expect, type Page } from '@playwright/test'
import { E2E_TOKENS, postEvents, signIn, test } from './fixtures.ts'

/*
 * The timeline as a person reads it: a network lane labelled by its short name with the full name
 * in its tooltip, an incident's observations folded into one band that says how many reports it
 * holds, and the bar's toggle that shows each observation again. The canvas is not DOM, so the
 * spec reads the tooltip, the toggle and the canvas's data attributes, and finds where to point
 * through the timeline's test hook.
 */

/** The timeline's test hook, as this spec uses it (other specs declare their own view of it). */
interface TimelineHook {
  runAt(incidentId: string): { x: number; y: number } | null
  laneLabelAt(key: string): { x: number; y: number } | null
  domain(): { from: number; to: number }
}
type HookWindow = { __watchfloorTimeline?: TimelineHook }

// unique to this run: the specs share one server
const run = randomUUID().slice(0, 8)
const networkId = `ee-tl-${run}`
const incidentId = `inc-tl-${run}`
const fullName = `National CERT network of the Republic of Estonia, Tallinn operations ${run}`
const shortName = `Estonia ${run}`
const OBSERVATIONS = 40

const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString()

function events(): object[] {
  const source = { organisation: 'cert-ee', network: networkId }
  const marking = { tlp: 'GREEN' }
  return [
    {
      id: randomUUID(),
      type: 'network.registered',
      occurredAt: at(180_000),
      source: { organisation: 'cert-ee' },
      marking,
      payload: {
        networkId,
        name: fullName,
        shortName,
        organisation: 'cert-ee',
        nation: 'EE',
        kind: 'national-cert',
        location: { lat: 59.437, lon: 24.754 },
      },
    },
    {
      id: randomUUID(),
      type: 'incident.reported',
      occurredAt: at(150_000),
      source,
      marking,
      payload: {
        incidentId,
        title: `Timeline runs ${run}: scanning from a ministry relay`,
        severity: 'medium',
        category: 'reconnaissance',
        affectedNetworks: [networkId],
      },
    },
    // one a second, from 80 s ago to 41 s ago
    ...Array.from({ length: OBSERVATIONS }, (_, k) => ({
      id: randomUUID(),
      type: 'incident.observation',
      occurredAt: at(80_000 - k * 1000),
      source,
      marking,
      payload: { incidentId, networkId, indicator: `198.51.100.${k + 1}` },
    })),
  ]
}

const canvas = (page: Page) => page.getByTestId('timeline-canvas')
const span = (page: Page) =>
  page.evaluate(() => {
    const d = (window as unknown as HookWindow).__watchfloorTimeline!.domain()
    return d.to - d.from
  })

test('the timeline labels a lane by its short name, folds observations into a band, and shows each on demand', async ({
  page,
  request,
  outsideRequests: _outside,
}) => {
  test.setTimeout(120_000)
  await postEvents(request, events())
  await page.setViewportSize({ width: 1600, height: 1000 })
  await signIn(page, E2E_TOKENS.officer)
  await expect
    .poll(() => page.evaluate(() => (window as unknown as HookWindow).__watchfloorTimeline !== undefined))
    .toBe(true)

  // folded by default
  const toggle = page.getByTestId('timeline-observations')
  await expect(toggle).toHaveText('Observations: runs')
  await expect(toggle).toHaveAttribute('data-mode', 'runs')
  await expect(canvas(page)).toHaveAttribute('data-observations', 'runs')

  // zoom in (keys, following now) until the last few minutes fill the timeline
  await page.getByTestId('timeline').focus()
  while ((await span(page)) > 5 * 60_000) await page.keyboard.press('+')

  // (a) the lane: its tooltip gives the full name and the nation code
  const label = await page.evaluate(
    (key) => (window as unknown as HookWindow).__watchfloorTimeline!.laneLabelAt(key),
    networkId,
  )
  expect(label).not.toBeNull()
  await canvas(page).hover({ position: label! })
  const tip = page.getByTestId('timeline-tooltip')
  await expect(tip).toContainText(fullName)
  await expect(tip).toContainText('EE')

  // (b) the band: one run of the 40 observations, its tooltip says what it is
  await expect.poll(async () => Number(await canvas(page).getAttribute('data-runs'))).toBeGreaterThan(0)
  const band = await page.evaluate(
    (id) => (window as unknown as HookWindow).__watchfloorTimeline!.runAt(id),
    incidentId,
  )
  expect(band).not.toBeNull()
  await canvas(page).hover({ position: band! })
  await expect(tip).toContainText(`Observations: ${OBSERVATIONS} reports ·`)
  await expect(tip).toContainText(/\d\d:\d\d:\d\d–\d\d:\d\d:\d\dZ/)
  await expect(tip).toContainText(`Timeline runs ${run}`)
  await page.screenshot({ path: 'e2e/artifacts/timeline-runs.png' })

  // (c) each observation on demand: ticks again, no runs, an observation under the pointer
  await toggle.click()
  await expect(toggle).toHaveText('Observations: each')
  await expect(toggle).toHaveAttribute('aria-pressed', 'true')
  await expect(canvas(page)).toHaveAttribute('data-observations', 'each')
  await expect(canvas(page)).toHaveAttribute('data-runs', '0')
  await expect.poll(() => new URL(page.url()).searchParams.get('obs')).toBe('each')
  await canvas(page).hover({ position: { x: band!.x + 1, y: band!.y } })
  await expect(tip).toContainText('Observation ·')
  await expect(tip).not.toContainText('reports ·')
  await page.screenshot({ path: 'e2e/artifacts/timeline-runs-each.png' })

  // and back
  await toggle.click()
  await expect(toggle).toHaveText('Observations: runs')
  await expect(canvas(page)).toHaveAttribute('data-observations', 'runs')

  // on a 1280 px screen the key wraps onto a second row: every entry inside the bar, none cut off
  await page.setViewportSize({ width: 1280, height: 800 })
  const bar = page.locator('.timeline-bar')
  await expect
    .poll(async () => {
      const edge = (await bar.boundingBox())!
      const rights = await page
        .locator('.timeline-key')
        .evaluateAll((keys) => keys.map((key) => key.getBoundingClientRect().right))
      return rights.length > 0 && rights.every((right) => right <= edge.x + edge.width)
    })
    .toBe(true)

  // a brushed range on that narrow bar: its times and Clear take the key's room, the bar keeps its
  // height (the lanes keep theirs), and nothing overlaps
  const now = Date.now()
  const range = `from=${new Date(now - 600_000).toISOString()}&to=${new Date(now - 60_000).toISOString()}`
  await page.goto(`/?${range}#token=${E2E_TOKENS.officer}`)
  await expect(page.getByTestId('timeline-clear-range')).toBeVisible({ timeout: 30_000 })
  await expect(page.locator('.timeline-legend')).toBeHidden()
  const withRange = (await bar.boundingBox())!
  expect(withRange.height).toBeLessThan(34)
  const clear = (await page.getByTestId('timeline-clear-range').boundingBox())!
  expect(clear.x + clear.width).toBeLessThanOrEqual(withRange.x + withRange.width)
  // Replay takes the range as its window: no longer a filter beside it (which hid every incident
  // not changed within it at the playhead)
  await page.getByTestId('open-replay').click()
  await expect(page.getByTestId('replay-play')).toBeEnabled({ timeout: 15_000 })
  await expect(page.getByTestId('timeline-clear-range')).toHaveCount(0)
  await expect(page.getByTestId('replay-at')).toHaveAttribute('data-at', new Date(now - 600_000).toISOString())
  await page.getByTestId('replay-close').click()
})

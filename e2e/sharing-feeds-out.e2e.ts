import { type APIRequestContext, expect, type Page } from '@playwright/test'
import { E2E_TOKENS, incident, postEvents, signIn, test } from './fixtures.ts'

const TAXII = 'application/taxii+json;version=2.1'
const UTC = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/
const admin = { authorization: `Bearer ${E2E_TOKENS.admin}` }

interface Activity {
  organisation: string
  channel: 'taxii' | 'misp'
  pulls: number
  failedPulls: number
  objectsServed: number
}

/** What the server says was pulled, as the admin reads it: the counts before this test's pulls. */
async function activity(request: APIRequestContext, organisation: string, channel: string) {
  const reply = await request.get('/api/v1/feeds/out', { headers: admin })
  expect(reply.status()).toBe(200)
  const { activity } = (await reply.json()) as { activity: Activity[] }
  return (
    activity.find((a) => a.organisation === organisation && a.channel === channel) ?? {
      pulls: 0,
      failedPulls: 0,
      objectsServed: 0,
    }
  )
}

const pullRow = (page: Page, organisation: string, channel: string) =>
  page.locator(`[data-testid="feeds-out-pull"][data-organisation="${organisation}"][data-channel="${channel}"]`)

async function openSharing(page: Page): Promise<void> {
  await page.getByTestId('open-sharing').click()
  await expect(page.getByTestId('sharing-page')).toBeVisible()
}

test('the Sharing page shows who pulled what over TAXII and MISP, its errors and counts, kept fresh', async ({
  page,
  request,
  outsideRequests: _outside,
}) => {
  await postEvents(request, [incident(`pull-e2e-${Date.now()}`, 'Pulled by a partner (e2e)')])
  const taxiiBefore = await activity(request, 'cert-lv', 'taxii')
  const mispBefore = await activity(request, 'cert-lv', 'misp')

  // the liaison of cert-lv pulls, as a partner's TAXII client and MISP instance would
  const liaison = { authorization: `Bearer ${E2E_TOKENS.liaison}` }
  const objects = await request.get('/taxii2/api/collections/all/objects/', { headers: { ...liaison, accept: TAXII } })
  expect(objects.status()).toBe(200)
  // the figures count no marking definition (and no RED object): docs/api.md
  const served = (((await objects.json()) as { objects?: { type: string }[] }).objects ?? []).filter(
    (o) => o.type !== 'marking-definition',
  ).length
  expect(served).toBeGreaterThan(0)
  const manifest = await request.get('/misp/feed/manifest.json', { headers: liaison })
  expect(manifest.status()).toBe(200)
  // a refused pull: no TAXII media type asked for
  const refused = await request.get('/taxii2/api/collections/all/objects/', {
    headers: { ...liaison, accept: 'application/json' },
  })
  expect(refused.status()).toBe(406)
  // the admin pulls too: another organisation's row
  expect((await request.get('/taxii2/api/collections/', { headers: { ...admin, accept: TAXII } })).status()).toBe(200)

  await page.setViewportSize({ width: 1440, height: 1200 })
  await signIn(page, E2E_TOKENS.admin)
  await openSharing(page)
  const table = page.getByTestId('feeds-out-activity-table')
  await expect(table).toBeVisible()
  const taxii = pullRow(page, 'cert-lv', 'taxii')
  await expect(taxii.getByTestId('feeds-out-pulls')).toHaveText(String(taxiiBefore.pulls + 2))
  await expect(taxii.getByTestId('feeds-out-failed')).toHaveText(String(taxiiBefore.failedPulls + 1))
  await expect(taxii.getByTestId('feeds-out-objects')).toContainText(
    (taxiiBefore.objectsServed + served).toLocaleString('en-GB'),
  )
  await expect(taxii.getByTestId('feeds-out-last-success')).toHaveText(UTC)
  await expect(taxii.getByTestId('feeds-out-last-error-message')).toHaveText(
    `406: the Accept header must include ${TAXII}`,
  )
  await expect(taxii).toHaveAttribute('data-health', 'failing')
  await expect(taxii.getByTestId('feeds-out-health')).toHaveText('last pull refused')
  const misp = pullRow(page, 'cert-lv', 'misp')
  await expect(misp.getByTestId('feeds-out-pulls')).toHaveText(String(mispBefore.pulls + 1))
  await expect(misp).toHaveAttribute('data-health', 'ok')
  await expect(pullRow(page, 'alliance', 'taxii')).toBeVisible()

  // a new pull shows without touching the page (it is read again every 15 s)
  const again = await request.get('/taxii2/api/collections/all/manifest/', { headers: { ...liaison, accept: TAXII } })
  expect(again.status()).toBe(200)
  await expect(taxii.getByTestId('feeds-out-pulls')).toHaveText(String(taxiiBefore.pulls + 3), { timeout: 25_000 })
  await expect(taxii).toHaveAttribute('data-health', 'ok')
  await expect(taxii.getByTestId('feeds-out-last-error-message')).toContainText('406')

  const sharing = page.getByTestId('sharing-page')
  await page.getByTestId('feeds-out-activity').scrollIntoViewIfNeeded()
  await page.screenshot({ path: 'e2e/artifacts/sharing-feeds-out.png' })
  await sharing.evaluate((el) => el.scrollTo(0, 0))

  // cert-lv's liaison sees cert-lv's rows, and not the alliance's
  await page.getByTestId('sharing-back').click()
  await page.getByTestId('sign-out').click()
  await signIn(page, E2E_TOKENS.liaison)
  await openSharing(page)
  await expect(pullRow(page, 'cert-lv', 'taxii').getByTestId('feeds-out-pulls')).toHaveText(
    String(taxiiBefore.pulls + 3),
  )
  const organisations = await page
    .getByTestId('feeds-out-pull')
    .evaluateAll((rows) => [...new Set(rows.map((row) => (row as HTMLElement).dataset.organisation))])
  expect(organisations).toEqual(['cert-lv'])
})

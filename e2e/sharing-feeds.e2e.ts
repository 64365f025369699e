import { randomUUID } from 'node:crypto'
import { expect, type Page } from '@playwright/test'
import { E2E_TOKENS, signIn, test } from './fixtures.ts'

const admin = { authorization: `Bearer ${E2E_TOKENS.admin}` }
const TAXII = 'application/taxii+json;version=2.1'
/** The feed that reads this e2e server's own TAXII, with a secret whose variable is not set. */
const FEED = 'own-taxii-e2e'
/** A feed that speaks for cert-lv, the liaison's organisation. */
const LV_FEED = 'lv-taxii-e2e'
const SECRET_ENV = 'WATCHFLOOR_FEED_E2E_NOT_SET'
const COMMUNITY = 'feeds-e2e'
const UTC = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/

const feedRow = (page: Page, id: string) => page.locator(`[data-testid="feed-row"][data-feed-id="${id}"]`)

async function openSharing(page: Page): Promise<void> {
  await page.getByTestId('open-sharing').click()
  await expect(page.getByTestId('sharing-page')).toBeVisible()
  await expect(page.getByTestId('organisations-table')).toBeVisible()
}

/** A STIX 2.1 bundle: one incident with no marking of its own, one malware object (no counterpart on the floor). */
function bundleOf(incidentId: string) {
  const now = new Date().toISOString()
  return {
    type: 'bundle',
    id: `bundle--${randomUUID()}`,
    objects: [
      {
        type: 'incident',
        spec_version: '2.1',
        id: incidentId,
        created: now,
        modified: now,
        name: 'Imported from a partner bundle (e2e)',
        description: 'An incident that arrived as STIX',
      },
      {
        type: 'malware',
        spec_version: '2.1',
        id: `malware--${randomUUID()}`,
        created: now,
        modified: now,
        name: 'Loader (e2e)',
        is_family: false,
      },
    ],
  }
}
const fileOf = (name: string, json: unknown) => ({
  name,
  mimeType: 'application/json',
  buffer: Buffer.from(JSON.stringify(json)),
})

test('an admin registers a feed, polls it and sees why it fails, finds what partners pull, and imports a bundle', async ({
  page,
  request,
  baseURL,
  outsideRequests: _outside,
}) => {
  const origin = new URL(baseURL!).origin
  // a community, so that "feeds out" has a community's collection to name
  const made = await request.post('/api/v1/directory/communities', {
    headers: admin,
    data: { id: COMMUNITY, name: 'Feeds (e2e)', members: ['cert-ee'] },
  })
  expect(made.status()).toBe(201)

  await page.setViewportSize({ width: 1440, height: 1200 })
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'])
  await signIn(page, E2E_TOKENS.admin)
  await openSharing(page)
  const feedsIn = page.getByTestId('feeds-in')
  await expect(feedsIn).toBeVisible()
  await expect(page.getByTestId('feeds-readonly')).toHaveCount(0)

  // ---------------------------------------------------------------- register: this floor's own TAXII
  const form = page.getByTestId('add-feed')
  await expect(form.getByTestId('feed-secret-note')).toContainText('The secret is never entered here')
  await form.getByLabel('Id', { exact: true }).fill(FEED)
  await form.getByLabel('Label', { exact: true }).fill('This floor as a partner (e2e)')
  await form.getByLabel('Speaks for', { exact: true }).selectOption('cert-ee')
  await form.getByLabel('URL', { exact: true }).fill(origin)
  await expect(form.getByLabel('API root', { exact: true })).toHaveValue('/taxii2/api/')
  await expect(form.getByLabel('Collection', { exact: true })).toHaveValue('all')
  await form.getByLabel('Authentication', { exact: true }).selectOption('bearer')
  // off: only "Poll now" polls it here, so its failures are exactly the ones this test makes
  await form.getByLabel('Enabled', { exact: true }).uncheck()
  // a secret typed where the variable's name goes: the server refuses it, and the field says why
  const secretEnv = form.getByLabel("Secret's environment variable", { exact: true })
  await secretEnv.fill('s3cr3t-partner-token')
  await form.getByTestId('feed-add').click()
  const invalid = page.getByTestId('add-feed-error')
  await expect(invalid).toHaveAttribute('data-code', 'validation')
  await expect(invalid.getByTestId('add-feed-error-issue')).toHaveAttribute('data-field', 'auth.secretEnv')
  await expect(invalid.getByTestId('add-feed-error-issue')).toContainText('Authentication')
  await expect(secretEnv).toHaveAttribute('aria-invalid', 'true')
  await expect(form.getByTestId('feed-secret-env-issue')).toContainText('WATCHFLOOR_FEED_')
  // the name of a variable that is not set on the server: the field edited is no longer said to be wrong
  await secretEnv.fill(SECRET_ENV)
  await expect(invalid).toHaveCount(0)
  await expect(secretEnv).not.toHaveAttribute('aria-invalid', 'true')
  await secretEnv.press('Enter') // submits the form
  await expect(page.getByTestId('feed-added')).toHaveText(`Registered ${FEED}.`)
  const row = feedRow(page, FEED)
  await expect(row).toBeVisible()
  await expect(row.getByTestId('feed-label')).toHaveText('This floor as a partner (e2e)')
  await expect(row.getByTestId('feed-url')).toHaveText(`${origin}/taxii2/api/collections/all/`)
  await expect(row.getByTestId('feed-organisation')).toHaveText('cert-ee')
  await expect(row).toContainText(`Bearer token from ${SECRET_ENV}`)
  await expect(row).toHaveAttribute('data-enabled', 'false')
  await expect(row.getByTestId('feed-failures')).toHaveText('0')
  await expect(row.getByTestId('feed-last-success')).toHaveText('never')
  await expect(form.getByLabel('Id', { exact: true })).toHaveValue('')

  // ---------------------------------------------------------------- poll now: the server's reason
  await row.getByRole('button', { name: `Poll ${FEED} now` }).click()
  const pollError = page.getByTestId('feed-poll-error')
  await expect(pollError).toHaveAttribute('data-code', 'unavailable')
  // the reason, said as the poll's (not as this server failing to answer)
  await expect(pollError).toContainText('The poll failed:')
  await expect(page.getByTestId('feed-poll-error-message')).toHaveText(
    `the environment variable ${SECRET_ENV} (the feed's secret) is not set`,
  )
  // the table: the last error, prominent, and one failure in a row
  const lastError = page
    .locator(`[data-testid="feed-error-row"][data-feed-id="${FEED}"]`)
    .getByTestId('feed-last-error')
  await expect(lastError).toBeVisible()
  await expect(lastError.getByTestId('feed-last-error-message')).toHaveText(
    `the environment variable ${SECRET_ENV} (the feed's secret) is not set`,
  )
  await expect(lastError).toContainText(UTC)
  await expect(row.getByTestId('feed-failures')).toHaveText('1')
  await expect(row).toHaveAttribute('data-health', 'failing')
  await expect(row.getByTestId('feed-health')).toHaveText('failing')
  await expect(row.getByTestId('feed-last-success')).toHaveText('never')
  const stored = await request.get(`/api/v1/feeds/${FEED}`, { headers: admin })
  const { feed } = (await stored.json()) as { feed: { state: { consecutiveFailures: number; lastError: string } } }
  expect(feed.state.consecutiveFailures).toBe(1)
  expect(feed.state.lastError).toContain(SECRET_ENV)

  // enabled: it backs off, and says when it polls next (its interval after one failure, so not during this test)
  await row.getByRole('button', { name: `Enable ${FEED}` }).click()
  await expect(row).toHaveAttribute('data-enabled', 'true')
  await expect(row.getByTestId('feed-next-poll')).toHaveText(UTC)
  await expect(row.getByRole('button', { name: `Disable ${FEED}` })).toBeVisible()

  // a feed made elsewhere appears on Reload, and goes at the second press
  const scratch = await request.post('/api/v1/feeds', {
    headers: admin,
    data: {
      id: 'scratch-feed-e2e',
      label: 'Scratch',
      url: origin,
      apiRoot: '/taxii2/api/',
      collectionId: 'all',
      organisation: 'cert-lv',
      enabled: false,
    },
  })
  expect(scratch.status()).toBe(201)
  await page.getByTestId('sharing-reload').click()
  const scratchRow = feedRow(page, 'scratch-feed-e2e')
  await expect(scratchRow).toContainText('No authentication')
  // at 1280 px the table, a failing feed's error row with it, fits its section: Delete in view, no sideways scroll
  await page.setViewportSize({ width: 1280, height: 800 })
  const feedsSection = page.getByTestId('feeds-table').locator('xpath=ancestor::section[1]')
  await expect
    .poll(() => feedsSection.evaluate((section) => section.scrollWidth - section.clientWidth))
    .toBeLessThanOrEqual(0)
  for (const feedRowShown of [row, scratchRow]) {
    const sectionBox = (await feedsSection.boundingBox())!
    const deleteBox = (await feedRowShown.getByTestId('feed-delete').boundingBox())!
    expect(deleteBox.x + deleteBox.width).toBeLessThanOrEqual(sectionBox.x + sectionBox.width)
  }
  await expect(scratchRow.getByTestId('feed-health')).toHaveText('disabled')
  await scratchRow.getByTestId('feed-delete').click()
  await expect(scratchRow.getByRole('button', { name: 'Cancel' })).toBeFocused()
  await scratchRow.getByTestId('feed-delete-confirm').click()
  await expect(scratchRow).toHaveCount(0)
  await expect(row).toBeVisible()

  // ---------------------------------------------------------------- feeds out: what partners pull, as the server names it
  const out = page.getByTestId('feeds-out')
  await expect(out.getByTestId('feeds-out-discovery')).toHaveText(`${origin}/taxii2/`)
  await expect(out.getByTestId('feeds-out-api-root')).toHaveText(`${origin}/taxii2/api/`)
  await expect(out.getByTestId('feeds-out-misp')).toHaveText(`${origin}/misp/feed/`)
  const listed = await out.getByTestId('feeds-out-collection').evaluateAll((items) => items.map((i) => i.dataset.alias))
  expect(listed).toContain('all')
  expect(listed).toContain(`community-${COMMUNITY}`)
  // the same collections the server gives the admin's token
  const collections = await request.get('/taxii2/api/collections/', { headers: { ...admin, accept: TAXII } })
  expect(collections.status()).toBe(200)
  const served = ((await collections.json()) as { collections: { alias: string }[] }).collections.map((c) => c.alias)
  expect(listed).toEqual(served)
  await out.getByRole('button', { name: 'Copy the TAXII discovery URL' }).click()
  await expect(out.getByText('Copied.')).toBeVisible()
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${origin}/taxii2/`)

  // ---------------------------------------------------------------- import a STIX bundle
  const zone = page.getByTestId('import')
  await expect(zone).toBeVisible()
  const incidentId = `incident--${randomUUID()}`
  const bundle = bundleOf(incidentId)
  await zone.getByTestId('import-file').setInputFiles(fileOf('partner-bundle.json', bundle))
  await expect(zone.getByTestId('import-ready')).toHaveAttribute('data-format', 'stix')
  await expect(zone.getByTestId('import-format')).toHaveText('STIX 2.1 bundle')
  await expect(zone.getByTestId('import-ready')).toContainText('2 objects (1 incident, 1 malware)')
  await zone.getByLabel('Default TLP for unmarked objects').selectOption('AMBER')
  await zone.getByTestId('import-send').click()
  const reports = zone.getByTestId('import-report')
  await expect(reports).toHaveCount(1)
  const report = reports.first()
  await expect(report).toHaveAttribute('data-ok', 'true')
  await expect(report).toContainText('partner-bundle.json')
  await expect(report.getByTestId('import-headline')).toContainText('1 created')
  await expect(report.getByTestId('import-created')).toHaveAttribute('data-count', '1')
  await expect(report.getByTestId('import-created-item')).toContainText(incidentId)
  await expect(report.getByTestId('import-skipped')).toHaveAttribute('data-count', '1')
  await expect(report.getByTestId('import-skipped-item')).toContainText('malware')
  await expect(report.getByTestId('import-skipped-item')).toContainText('no counterpart for malware objects')
  await expect(report.getByTestId('import-defaulted')).toContainText('TLP:AMBER')
  await expect(report.getByTestId('import-defaulted-item')).toHaveText(incidentId)
  await expect(report.getByTestId('import-new')).toHaveText('1')
  await expect(report.getByTestId('import-duplicates')).toHaveText('0')
  await expect(report.getByTestId('import-refused')).toHaveCount(0)
  await expect(zone.getByTestId('import-ready')).toHaveCount(0)

  // the same file again: nothing new, and both reports are kept, newest first
  await zone.getByTestId('import-file').setInputFiles(fileOf('partner-bundle.json', bundle))
  await zone.getByTestId('import-send').click()
  await expect(reports).toHaveCount(2)
  await expect(reports.first().getByTestId('import-new')).toHaveText('0')
  await expect(reports.first().getByTestId('import-duplicates')).toHaveText('1')

  // a bundle the server finds invalid: its issues, listed
  const broken = bundleOf(`incident--${randomUUID()}`)
  delete (broken.objects[0] as { name?: string }).name
  await zone.getByTestId('import-file').setInputFiles(fileOf('broken.json', broken))
  await zone.getByTestId('import-send').click()
  await expect(reports).toHaveCount(3)
  const refused = reports.first()
  await expect(refused).toHaveAttribute('data-ok', 'false')
  await expect(refused.getByTestId('import-error')).toHaveAttribute('data-code', 'validation')
  await expect(refused.getByTestId('import-error-message')).not.toContainText('The server answered')
  await expect(refused.getByTestId('import-error-issue').first()).toHaveAttribute('data-path', 'objects.0.name')

  // a file that is not JSON is not sent; chosen with the keyboard this time: the file input takes focus, Enter opens it
  await zone.getByTestId('import-tlp').focus()
  await page.keyboard.press('Shift+Tab')
  await expect(zone.getByLabel('choose a file…')).toBeFocused()
  const chooser = page.waitForEvent('filechooser')
  await page.keyboard.press('Enter')
  await (await chooser).setFiles({
    name: 'notes.json',
    mimeType: 'application/json',
    buffer: Buffer.from('{ not json'),
  })
  await expect(zone.getByTestId('import-file-error')).toContainText('notes.json is not JSON')
  await expect(zone.getByTestId('import-send')).toBeDisabled()
  await expect(reports).toHaveCount(3)
  // focusing the hidden input scrolled the Sharing page only: the header is still in view
  expect(await page.evaluate(() => window.scrollY)).toBe(0)
  await expect(page.getByTestId('open-sharing')).toBeInViewport()

  // the whole page: a viewport as tall as the Sharing page's content (it scrolls inside its own box)
  const sharing = page.getByTestId('sharing-page')
  const tall = await sharing.evaluate((el) => el.scrollHeight + el.getBoundingClientRect().top + 16)
  await page.setViewportSize({ width: 1440, height: Math.min(Math.ceil(tall), 6000) })
  await sharing.evaluate((el) => el.scrollTo(0, 0))
  await page.screenshot({ path: 'e2e/artifacts/sharing-feeds.png' })
  await page.setViewportSize({ width: 1440, height: 1200 })

  // the imported incident is in the picture
  await page.getByTestId('sharing-back').click()
  await page.getByTestId('tab-incidents').click()
  const imported = page.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}@alliance"]`)
  await expect(imported).toBeVisible()
  await expect(imported).toContainText('Imported from a partner bundle (e2e)')
  await expect(imported.getByTestId('tlp-badge')).toHaveText('TLP:AMBER')
})

test('a liaison sees its own organisation’s feeds read-only and no import; a sensor imports but sees no feeds', async ({
  page,
  request,
  baseURL,
  outsideRequests: _outside,
}) => {
  // a feed that speaks for cert-lv, the liaison's organisation, failing as the admin's did
  const lvFeed = await request.post('/api/v1/feeds', {
    headers: admin,
    data: {
      id: LV_FEED,
      label: 'Latvia’s partner (e2e)',
      url: new URL(baseURL!).origin,
      apiRoot: '/taxii2/api/',
      collectionId: 'all',
      organisation: 'cert-lv',
      auth: { kind: 'bearer', secretEnv: SECRET_ENV },
      enabled: false,
    },
  })
  expect(lvFeed.status()).toBe(201)
  expect((await request.post(`/api/v1/feeds/${LV_FEED}/poll`, { headers: admin })).status()).toBe(503)

  await signIn(page, E2E_TOKENS.liaison)
  await openSharing(page)
  const feedsIn = page.getByTestId('feeds-in')
  await expect(page.getByTestId('feeds-readonly')).toBeVisible()
  const row = feedRow(page, LV_FEED)
  await expect(row).toBeVisible()
  await expect(row.getByTestId('feed-failures')).toHaveText('1')
  await expect(page.locator(`[data-testid="feed-error-row"][data-feed-id="${LV_FEED}"]`)).toContainText(SECRET_ENV)
  // polled again (the server's doing, not this page's): the page shows it by itself, without Reload
  expect((await request.post(`/api/v1/feeds/${LV_FEED}/poll`, { headers: admin })).status()).toBe(503)
  await expect(row.getByTestId('feed-failures')).toHaveText('2', { timeout: 15_000 })
  // cert-ee's feed, its counts and its error are not cert-lv's to read
  await expect(feedRow(page, FEED)).toHaveCount(0)
  await expect(feedsIn.getByTestId('feed-row')).toHaveCount(1)
  // nothing to change: no form, no button in the feeds, no import zone
  await expect(page.getByTestId('add-feed')).toHaveCount(0)
  await expect(feedsIn.getByRole('button')).toHaveCount(0)
  await expect(feedsIn.locator('input, select')).toHaveCount(0)
  await expect(page.getByTestId('import')).toHaveCount(0)
  await expect(page.getByTestId('import-file')).toHaveCount(0)
  // feeds out: "all", and no collection for a community cert-lv is not in
  const out = page.getByTestId('feeds-out')
  await expect(out.locator('[data-testid="feeds-out-collection"][data-alias="all"]')).toBeVisible()
  await expect(out.locator(`[data-testid="feeds-out-collection"][data-alias="community-${COMMUNITY}"]`)).toHaveCount(0)
  await page.getByTestId('sharing-back').click()
  await page.getByTestId('sign-out').click()

  // a sensor may import (a posting role), and reads no feeds
  await signIn(page, E2E_TOKENS.sensor)
  await openSharing(page)
  await expect(page.getByTestId('import')).toBeVisible()
  await expect(page.getByTestId('feeds-in')).toHaveCount(0)
  await expect(page.getByTestId('feeds-out')).toBeVisible()
  await expect(page.getByTestId('feeds-out-activity')).toHaveCount(0)

  // leave the server as it was for the other files: the feeds (they would poll again) and the community
  expect((await request.delete(`/api/v1/feeds/${FEED}`, { headers: admin })).status()).toBe(204)
  expect((await request.delete(`/api/v1/feeds/${LV_FEED}`, { headers: admin })).status()).toBe(204)
  expect((await request.delete(`/api/v1/directory/communities/${COMMUNITY}`, { headers: admin })).status()).toBe(204)
})

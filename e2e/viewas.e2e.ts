import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { type APIRequestContext, expect, type Page } from '@playwright/test'
import { E2E_TOKENS, signIn, test } from './fixtures.ts'

const admin = { authorization: `Bearer ${E2E_TOKENS.admin}` }
/** This run's ids and titles: the list is narrowed to them, whatever other tests left on the floor. */
const run = `va${randomUUID().replace(/-/g, '').slice(0, 8)}`
const community = `${run}-nordic`
const INCIDENTS = {
  green: { tlp: 'GREEN' },
  lv: { tlp: 'AMBER', releasableTo: ['cert-lv'] },
  strict: { tlp: 'AMBER+STRICT' },
  community: { tlp: 'AMBER', releasableTo: [community] },
} as const
type Name = keyof typeof INCIDENTS
const idOf = (name: Name) => `${run}-${name}`
const titleOf = (name: Name) => `View-as ${run} ${name}`

/** The admin's own organisation (alliance) reports an incident with this marking. */
function report(name: Name) {
  return {
    id: randomUUID(),
    type: 'incident.reported',
    occurredAt: new Date().toISOString(),
    source: { organisation: 'alliance' },
    marking: INCIDENTS[name],
    payload: {
      incidentId: idOf(name),
      title: titleOf(name),
      severity: 'high',
      category: 'malware',
      affectedNetworks: [],
    },
  }
}

async function directoryName(request: APIRequestContext, kind: 'organisations' | 'communities', id: string) {
  const reply = await request.get('/api/v1/directory', { headers: admin })
  const body = (await reply.json()) as Record<string, { id: string; name: string }[]>
  return body[kind]!.find((entry) => entry.id === id)!.name
}

/** The incidents of this run in the list, sorted. */
async function listed(page: Page): Promise<string[]> {
  const ids = await page
    .getByTestId('incident-row')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-incident-id') ?? ''))
  return ids.filter((id) => id.startsWith(run)).sort()
}
const ids = (...names: Name[]) => names.map(idOf).sort()

async function expectListed(page: Page, ...names: Name[]): Promise<void> {
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
  await expect.poll(() => listed(page), { timeout: 15_000 }).toEqual(ids(...names))
  await expect(page.getByTestId('incident-count')).toHaveText(String(names.length))
}

test('an admin views the console as an organisation and as a community: only what they receive, read-only', async ({
  page,
  request,
  outsideRequests: _outside,
}) => {
  test.setTimeout(120_000)
  await page.setViewportSize({ width: 1440, height: 900 })
  // a community without cert-lv, and four incidents of the admin's organisation
  const made = await request.post('/api/v1/directory/communities', {
    headers: admin,
    data: { id: community, name: `Nordic exchange ${run}`, members: ['cert-ee'] },
  })
  expect(made.status()).toBe(201)
  const posted = await request.post('/api/v1/events', {
    headers: admin,
    data: { events: (Object.keys(INCIDENTS) as Name[]).map(report) },
  })
  expect(posted.status()).toBe(201)
  const lvName = await directoryName(request, 'organisations', 'cert-lv')
  const communityName = await directoryName(request, 'communities', community)

  // as myself: all four, the actions of an admin, no banner
  await signIn(page, E2E_TOKENS.admin)
  await page.getByTestId('filter-text').fill(run)
  await expectListed(page, 'green', 'lv', 'strict', 'community')
  await expect(page.getByTestId('view-as-banner')).toHaveCount(0)
  const baseTitle = await page.title()
  await page.locator(`[data-testid="incident-row"][data-incident-id="${idOf('green')}"]`).click()
  await expect(page.getByTestId('action-acknowledge')).toBeVisible()

  // view as cert-lv from the header
  await page.getByTestId('view-as-select').selectOption('organisation:cert-lv')
  const banner = page.getByTestId('view-as-banner')
  await expect(banner).toBeVisible()
  await expect(page.getByTestId('view-as-banner-text')).toHaveText(
    `VIEWING AS ${lvName} (organisation) — what they receive from what you may see. Read-only.`,
  )
  await expect(banner.getByRole('button', { name: 'Stop' })).toBeVisible()
  await expect(page).toHaveTitle(`VIEWING AS ${lvName} · ${baseTitle}`)
  await expect.poll(() => new URL(page.url()).search).toContain('viewAs=organisation:cert-lv')
  // exactly what cert-lv receives from the admin: the GREEN one and the one released to it
  await expectListed(page, 'green', 'lv')
  // the same as the server says for that audience
  const state = await request.get('/api/v1/state', {
    headers: { ...admin, 'X-Watchfloor-View-As': 'organisation:cert-lv' },
  })
  const { incidents } = (await state.json()) as { incidents: { incidentId: string }[] }
  expect(
    incidents
      .map((i) => i.incidentId)
      .filter((id) => id.startsWith(run))
      .sort(),
  ).toEqual(ids('green', 'lv'))

  // read-only: the selected incident is still open, without a single action
  const detail = page.locator(`[data-testid="incident-detail"][data-incident-id="${idOf('green')}"]`)
  await expect(detail).toBeVisible()
  for (const action of [
    'action-acknowledge',
    'action-escalate',
    'action-set-status',
    'action-link',
    'task-new',
    'comment-post',
    'network-state-select',
  ])
    await expect(page.getByTestId(action)).toHaveCount(0)
  await expect(page.locator('[data-testid^="action-"]')).toHaveCount(0)
  await page.screenshot({ path: 'e2e/artifacts/viewas.png' })

  // the STIX export while viewing as holds what cert-lv receives, and its name says whose it is
  await page.getByTestId('open-replay').click()
  await expect(page.getByTestId('replay-play')).toBeEnabled({ timeout: 15_000 })
  await expect(banner).toBeVisible()
  await expect(page.getByTestId('bookmark-new')).toHaveCount(0)
  const download = page.waitForEvent('download')
  await page.getByTestId('export-stix').click()
  const file = await download
  // the audience viewed as, and the export's marking [M1], in its name
  expect(file.suggestedFilename()).toMatch(/\.as-organisation-cert-lv\.TLP-[A-Z+]+(\.PAP-[A-Z]+)?\.stix\.json$/)
  const bundle = JSON.parse(readFileSync((await file.path())!, 'utf8')) as {
    type: string
    objects: { type: string; name?: string }[]
  }
  expect(bundle.type).toBe('bundle')
  const exported = bundle.objects
    .filter((o) => o.type === 'incident' && o.name?.startsWith(`View-as ${run}`))
    .map((o) => o.name)
    .sort()
  expect(exported).toEqual([titleOf('green'), titleOf('lv')].sort())
  const markings = bundle.objects.filter((o) => o.type === 'marking-definition').map((o) => o.name)
  expect(markings).not.toContain('TLP:RED')
  expect(markings).not.toContain('TLP:AMBER+STRICT')
  await page.getByTestId('replay-close').click()
  await expect(page.getByTestId('replay-bar')).toHaveCount(0)
  await expectListed(page, 'green', 'lv')

  // the link reproduces it: another tab opening it sees cert-lv's picture from the first frame
  await expect.poll(() => new URL(page.url()).search).not.toContain('mode=replay')
  const link = new URL(page.url())
  expect(link.searchParams.get('viewAs')).toBe('organisation:cert-lv')
  const other = await page.context().newPage()
  await other.goto(`${link.pathname}${link.search}#token=${E2E_TOKENS.admin}`)
  await expect(other.getByTestId('view-as-banner')).toBeVisible({ timeout: 15_000 })
  await expectListed(other, 'green', 'lv')
  await other.close()

  // Stop: everything the admin may see is back, and the actions with it
  await banner.getByRole('button', { name: 'Stop' }).click()
  await expect(banner).toHaveCount(0)
  await expectListed(page, 'green', 'lv', 'strict', 'community')
  await expect(page.getByTestId('action-acknowledge')).toBeVisible()
  await expect(page).toHaveTitle(baseTitle)
  await expect.poll(() => new URL(page.url()).search).not.toContain('viewAs')
  await expect(page.getByTestId('view-as-select')).toHaveValue('')

  // from the Sharing page: view as the community (only what is shared with everyone or named to it)
  await page.getByTestId('open-sharing').click()
  const card = page.locator(`[data-testid="community"][data-community-id="${community}"]`)
  await card.getByTestId('view-as-open').click()
  await expect(page.getByTestId('sharing-page')).toHaveCount(0)
  await expect(page.getByTestId('view-as-banner-text')).toHaveText(
    `VIEWING AS ${communityName} (community) — what they receive from what you may see. Read-only.`,
  )
  await expectListed(page, 'green', 'community')
  // the Sharing page itself is read-only while viewing as: no directory changes offered
  await page.getByTestId('open-sharing').click()
  await expect(page.getByTestId('sharing-page')).toHaveAttribute('data-editable', 'false')
  await expect(page.getByTestId('add-organisation')).toHaveCount(0)
  await expect(page.getByTestId('sharing-page').getByRole('button', { name: /^(Delete|Rename|Remove)/ })).toHaveCount(0)
  // the page says why once (viewing as); the feeds do not add "admins register feeds" to an admin
  await expect(page.getByTestId('sharing-readonly')).toContainText('Read-only while viewing as')
  await expect(page.getByTestId('feeds-in')).toBeVisible()
  await expect(page.getByTestId('feeds-readonly')).toHaveCount(0)
  await expect(card.getByTestId('view-as-open')).toHaveAttribute('aria-pressed', 'true')
  await expect(page.getByTestId('view-as-banner')).toBeVisible()
  await page.getByTestId('view-as-stop').click()
  await expect(page.getByTestId('view-as-banner')).toHaveCount(0)
  await expect(page.getByTestId('sharing-page')).toHaveAttribute('data-editable', 'true')
})

test('liaisons, analysts and watch officers never see the control; a link asking for a view is refused', async ({
  page,
  outsideRequests: _outside,
}) => {
  for (const token of [E2E_TOKENS.liaison, E2E_TOKENS.officer, E2E_TOKENS.memberEe]) {
    await signIn(page, token)
    await expect(page.getByTestId('whoami')).toBeVisible()
    await expect(page.getByTestId('view-as-select')).toHaveCount(0)
    await page.getByTestId('sign-out').click()
  }
  // a coordinator has it
  await signIn(page, E2E_TOKENS.coordinator)
  await expect(page.getByTestId('view-as-select')).toBeVisible()
  await page.getByTestId('sign-out').click()

  // an analyst opening a link that views as: its own picture, and why not
  await page.goto(`/?viewAs=organisation:cert-lv#token=${E2E_TOKENS.memberEe}`)
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
  await expect(page.getByTestId('view-as-error')).toContainText('Cannot view as organisation cert-lv: 403')
  await expect(page.getByTestId('view-as-banner')).toHaveCount(0)
  await expect.poll(() => new URL(page.url()).search).not.toContain('viewAs')
})

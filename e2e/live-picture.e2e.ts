import { randomUUID } from 'node:crypto'
import { expect } from '@playwright/test'
import { E2E_TOKENS, openIncident, postEvents, signIn, test } from './fixtures.ts'

/*
 * The live picture as a person meets it: an incident closed weeks ago is not in the picture the
 * console opens with; searching for it says so and offers to load what was left out, which brings
 * it into the list and its detail; an after-action report asked for by link loads its incident.
 */

// unique to this run: the specs share one server
const run = randomUUID().slice(0, 8)
const incidentId = `inc-old-${run}`
const title = `Closed long ago ${run}: VPN concentrator exploited`
const reportedId = `inc-old-report-${run}`
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString()

test('an incident closed weeks ago is left out of the opening picture, found by a search and loaded on demand', async ({
  page,
  request,
}) => {
  const source = { organisation: 'cert-ee', network: 'ee-gov' }
  await postEvents(request, [
    {
      id: randomUUID(),
      type: 'incident.reported',
      occurredAt: daysAgo(40),
      source,
      marking: { tlp: 'GREEN' },
      payload: { incidentId, title, severity: 'high', category: 'intrusion', affectedNetworks: ['ee-gov'] },
    },
    {
      id: randomUUID(),
      type: 'incident.updated',
      occurredAt: daysAgo(38),
      source,
      marking: { tlp: 'GREEN' },
      payload: { incidentId, status: 'closed' },
    },
  ])
  await signIn(page, E2E_TOKENS.officer)
  await page.getByTestId('tab-incidents').click()
  await page.getByTestId('filter-status-closed').click()
  await page.getByTestId('filter-text').fill(run)
  await expect(page.getByTestId('incident-row')).toHaveCount(0)
  const note = page.getByTestId('list-left-out')
  await expect(note).toContainText('closed before')
  await expect(note).toContainText('not loaded')
  await page.getByTestId('list-load-closed').click()
  await expect(page.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`)).toBeVisible()
  await expect(note).toHaveCount(0)
  await openIncident(page, incidentId)
  await expect(page.getByTestId('incident-detail')).toContainText(title)
})

test('the after-action report of an incident closed weeks ago, opened by link, loads it', async ({ page, request }) => {
  const source = { organisation: 'cert-ee', network: 'ee-gov' }
  const marking = { tlp: 'GREEN' }
  await postEvents(request, [
    {
      id: randomUUID(),
      type: 'incident.reported',
      occurredAt: daysAgo(30),
      source,
      marking,
      payload: {
        incidentId: reportedId,
        title: `Reported on ${run}`,
        severity: 'medium',
        category: 'phishing',
        affectedNetworks: ['ee-gov'],
      },
    },
    {
      id: randomUUID(),
      type: 'incident.updated',
      occurredAt: daysAgo(29),
      source,
      marking,
      payload: { incidentId: reportedId, status: 'closed' },
    },
  ])
  // posted just now, these events were recorded just now, so the console's window (the events recorded
  // in the last hours) would hold them; one closed weeks ago was recorded weeks ago: its window reads leave
  // them out, as they would be, so that the report has only the server's history of the incident to go by
  await page.route(
    (url) => url.pathname === '/api/v1/events',
    async (route) => {
      if (route.request().method() !== 'GET') return route.continue()
      const response = await route.fetch()
      const body = (await response.json()) as { events?: { payload: { incidentId?: string } }[] }
      if (body.events) body.events = body.events.filter((event) => event.payload.incidentId !== reportedId)
      await route.fulfill({ response, json: body })
    },
  )
  await signIn(page, E2E_TOKENS.officer)
  await page.goto(`/?report=${reportedId}`)
  await expect(page.getByTestId('report')).toBeVisible({ timeout: 15_000 })
  await expect(page.getByTestId('report-status')).toHaveText('closed')
  await expect(page.getByTestId('report-missing')).toHaveCount(0)
  // what it says is the incident's own history, read from the server: its events are long out of the window
  await expect(page.getByTestId('report-history')).toHaveAttribute('data-state', 'loaded', { timeout: 15_000 })
  await expect(page.getByTestId('report-ttc')).toHaveText('24 h 0 min')
  await expect(page.getByTestId('report-ttr')).toHaveText('24 h 0 min')
  await expect(page.getByTestId('report-peak')).toHaveAttribute('data-severity', 'medium')
  const timeline = page.getByTestId('report-timeline').locator('li')
  await expect(timeline).toHaveCount(2)
  await expect(timeline.nth(0)).toHaveAttribute('data-type', 'incident.reported')
  await expect(timeline.nth(1)).toHaveAttribute('data-type', 'incident.updated')
  const networks = page.getByTestId('report-networks').locator('tbody tr')
  await expect(networks).toHaveCount(1)
  await expect(networks.first()).toContainText('affected')
})

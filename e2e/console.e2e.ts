import { expect } from '@playwright/test'
import { E2E_TOKENS, incident, postEvents, signIn, test } from './fixtures.ts'

test('the console signs in from a link, streams live events and keeps the token out of the address bar', async ({
  page,
  request,
  outsideRequests: _outside,
}) => {
  await signIn(page, E2E_TOKENS.officer)
  expect(page.url()).not.toContain('token')
  await expect(page.getByTestId('whoami')).toContainText('officer')

  const [seq] = await postEvents(request, [
    incident('inc-e2e-1', 'Worm spreading on ministry hosts', 'GREEN', 'critical'),
  ])
  const row = page.locator('[data-testid="incident-row"][data-incident-id="inc-e2e-1"]')
  await expect(row).toBeVisible()
  await expect(row).toContainText('Worm spreading on ministry hosts')
  await expect(row.getByTestId('tlp-badge')).toHaveText('TLP:GREEN')
  await page.getByTestId('tab-events').click()
  await expect(page.locator(`[data-testid="event-row"][data-seq="${seq}"]`)).toBeVisible()
  await expect(page.getByTestId('head-seq')).toHaveText(String(seq))

  // more events keep arriving live, without a reload
  const more = await postEvents(request, [
    incident('inc-e2e-2', 'Ransom note on hospital workstations', 'AMBER', 'high'),
    {
      id: crypto.randomUUID(),
      type: 'incident.observation',
      occurredAt: new Date().toISOString(),
      source: { organisation: 'cert-ee', network: 'ee-gov' },
      marking: { tlp: 'GREEN' },
      payload: { incidentId: 'inc-e2e-1', count: 7, indicator: '445/tcp scan' },
    },
  ])
  // the Events tab lists changes, with observations folded into a run per incident and indicator
  const run = page.locator('[data-testid="event-run-row"][data-incident-id="inc-e2e-1"]')
  await expect(run).toBeVisible()
  await expect(run).toContainText('445/tcp scan')
  // the incident by its title, not its id
  await expect(run).toContainText('1 report on "Worm spreading on ministry hosts" of 445/tcp scan')
  await expect(run).toHaveAttribute('data-sum', '7')
  await expect(page.locator(`[data-testid="event-row"][data-seq="${more[1]}"]`)).toHaveCount(0)
  // another port seen, by another organisation: the same run (one kind of indicator), said as how many; its PAP on the row's badge
  await postEvents(request, [
    {
      id: crypto.randomUUID(),
      type: 'incident.observation',
      occurredAt: new Date().toISOString(),
      source: { organisation: 'cert-fr' },
      marking: { tlp: 'GREEN', pap: 'AMBER' },
      payload: { incidentId: 'inc-e2e-1', count: 2, indicator: '3389/tcp scan' },
    },
  ])
  await expect(run).toHaveAttribute('data-reports', '2')
  await expect(run).toHaveAttribute('data-sum', '9')
  // it stands where its first report came, with that report's time (the last in its tooltip)
  const times = await run.locator('time').evaluateAll((els) => els.map((el) => el.getAttribute('datetime')))
  const stored = await page.evaluate(() =>
    window
      .__watchfloorStore!.getState()
      .window.filter(
        (e) => e.type === 'incident.observation' && (e.payload as { incidentId?: string }).incidentId === 'inc-e2e-1',
      )
      .map((e) => e.occurredAt),
  )
  expect(times).toEqual([stored[0]])
  await expect(run).toContainText('of 2 port / service indicators')
  await expect(run.getByTestId('pap-badge')).toBeVisible()
  // seen by two organisations: the row says so, and names them on hover
  await expect(run.locator('td.source')).toHaveText('2 organisations')
  await expect(run.locator('td.source')).toHaveAttribute('title', /cert-ee, cert-fr/)
  // every event, one click away
  await page.getByTestId('events-mode-all').click()
  await expect(page.locator(`[data-testid="event-row"][data-seq="${more[1]}"]`)).toBeVisible()
  // what changed in the last 15 minutes: the two reports (and the run of observations between them)
  await page.getByTestId('events-mode-changes').click()
  await page.getByTestId('events-span-15').click()
  await expect(page.locator(`[data-testid="event-row"][data-seq="${more[0]}"]`)).toBeVisible()
  await page.screenshot({ path: 'e2e/artifacts/console-events.png' })
  await page.getByTestId('tab-incidents').click()
  await expect(page.locator('[data-testid="incident-row"][data-incident-id="inc-e2e-2"]')).toBeVisible()
  await page.screenshot({ path: 'e2e/artifacts/console-live.png', fullPage: true })
})

test('a liaison sees only what is shared with its organisation', async ({
  page,
  request,
  outsideRequests: _outside,
}) => {
  await postEvents(request, [
    incident('inc-e2e-shared', 'Shared with everyone', 'CLEAR'),
    incident('inc-e2e-closed', 'Kept in Estonia', 'AMBER+STRICT'),
  ])
  await signIn(page, E2E_TOKENS.liaison)
  await expect(page.locator('[data-testid="incident-row"][data-incident-id="inc-e2e-shared"]')).toBeVisible()
  await expect(page.locator('[data-testid="incident-row"][data-incident-id="inc-e2e-closed"]')).toHaveCount(0)
})

test('a wrong token is refused with a clear message', async ({ page, outsideRequests: _outside }) => {
  await page.goto('/#token=not-a-real-token')
  await expect(page.getByTestId('sign-in-error')).toBeVisible()
  await expect(page.getByTestId('token-input')).toBeVisible()
})

import { randomUUID } from 'node:crypto'
import { expect } from '@playwright/test'
import { E2E_TOKENS, incident, openIncident, postEvents, signIn, test } from './fixtures.ts'

test("an incident's own coordinator widens and narrows its marking from the detail panel; a partner receives it live", async ({
  browser,
  request,
}) => {
  test.setTimeout(180_000) // two browsers with a WebGL map each, on a small machine
  await postEvents(request, [
    incident('inc-marking-1', 'Phishing wave on the ministry', 'AMBER', 'high'), // cert-ee only
    incident('inc-marking-2', 'Scanning of the border posts', 'GREEN', 'low'),
  ])
  // a coordinator of cert-ee, the incident's organisation (a service token the admin makes)
  const made = await request.post('/api/v1/tokens', {
    headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
    data: {
      label: 'e2e marking coordinator',
      service: { user: 'coord-ee-marking', organisation: 'cert-ee', nation: 'EE', roles: ['coordinator'] },
    },
  })
  expect(made.status()).toBe(201)
  const { secret } = (await made.json()) as { secret: string }

  const ownerContext = await browser.newContext()
  const partnerContext = await browser.newContext()
  const owner = await ownerContext.newPage()
  const partner = await partnerContext.newPage()
  // cert-lv's liaison: the AMBER incident is not shared with it
  await signIn(partner, E2E_TOKENS.liaison)
  await partner.getByTestId('tab-incidents').click()
  const partnerRow = partner.locator('[data-testid="incident-row"][data-incident-id="inc-marking-1"]')
  await expect(partner.locator('[data-testid="incident-row"][data-incident-id="inc-marking-2"]')).toBeVisible()
  await expect(partnerRow).toHaveCount(0)

  await signIn(owner, secret)
  await openIncident(owner, 'inc-marking-1')
  const detail = owner.getByTestId('incident-detail')
  await expect(detail.getByTestId('tlp-badge').first()).toHaveText('TLP:AMBER')
  const change = detail.getByTestId('marking-change')
  await expect(change).toHaveAttribute('aria-expanded', 'false')

  // widening: names typed and added with the keyboard; it shows the incident to someone new, so the
  // form asks first
  await change.click()
  const form = detail.getByTestId('marking-form')
  await form.getByLabel('PAP').selectOption('GREEN')
  await form.getByTestId('marking-releasable-input').fill('cert-lv')
  await form.getByTestId('marking-releasable-input').press('Enter')
  await expect(form.getByTestId('marking-releasable-name')).toHaveText(['cert-lv ✕'])
  await form.getByTestId('marking-send').click()
  await expect(form.getByTestId('marking-confirm-widen')).toContainText('as it stands')
  await form.getByTestId('marking-confirm-send').click()
  await expect(form).toHaveCount(0)
  await expect(detail).toContainText('releasable to cert-lv')
  await expect(detail.getByTestId('detail-version')).toHaveText('2')
  // the partner receives it live, as it stands
  await expect(partnerRow).toBeVisible()
  await openIncident(partner, 'inc-marking-1')
  await expect(partner.getByTestId('incident-detail')).toContainText('releasable to cert-lv')
  // a partner it is shared with is offered no marking change
  await expect(partner.getByTestId('marking-change')).toHaveCount(0)

  // narrowing: the form says who loses it and asks first
  await change.click()
  await form.getByRole('button', { name: 'Remove cert-lv' }).click()
  await form.getByLabel('TLP').selectOption('AMBER+STRICT')
  await form.getByTestId('marking-send').click()
  const confirm = form.getByTestId('marking-confirm')
  await expect(confirm).toContainText('cert-lv, named until now')
  await form.screenshot({ path: 'e2e/artifacts/marking-confirm.png' })
  await confirm.getByTestId('marking-confirm-send').click()
  await expect(form).toHaveCount(0)
  await expect(detail.getByTestId('tlp-badge').first()).toHaveText('TLP:AMBER+STRICT')
  // the marking shown (the history keeps saying what it was marked before: core's summary of each change)
  await expect(detail.locator('.facts')).not.toContainText('releasable to cert-lv')
  await expect(detail.getByTestId('detail-version')).toHaveText('3')

  // the same again changes nothing: the form says so (core's sameMarking) and sends nothing (C20)
  await change.click()
  let sentSame = 0
  const countSame = (r: { url(): string }) => {
    if (r.url().includes('/api/v1/commands')) sentSame++
  }
  owner.on('request', countSame)
  await form.getByTestId('marking-send').click()
  const unchanged = form.getByTestId('marking-blocked')
  await expect(unchanged).toHaveAttribute('data-reason', 'unchanged')
  await expect(unchanged).toContainText('Already marked TLP:AMBER+STRICT')
  expect(sentSame).toBe(0)
  owner.off('request', countSame)
  await expect(detail.getByTestId('detail-version')).toHaveText('3')

  // the partner received nothing of the narrowing: what it was sent stays as it was sent
  await expect(partner.getByTestId('incident-detail')).toContainText('releasable to cert-lv')

  // the form expects the version it was opened on: a change by someone else meanwhile is a
  // conflict (C3), never overwritten by a click made on what the form showed before it
  if ((await change.getAttribute('aria-expanded')) === 'true') await change.click()
  await change.click()
  await form.getByLabel('PAP').selectOption('RED')
  await postEvents(request, [
    {
      id: randomUUID(),
      type: 'incident.updated',
      occurredAt: new Date().toISOString(),
      source: { organisation: 'cert-ee' },
      marking: { tlp: 'AMBER+STRICT' },
      payload: { incidentId: 'inc-marking-1', summary: 'mail relays in two ministries' },
    },
  ])
  await expect(detail.getByTestId('detail-version')).toHaveText('4')
  await form.getByTestId('marking-send').click()
  const conflict = form.getByTestId('conflict')
  await expect(conflict).toHaveAttribute('data-rule', 'C3')
  await expect(conflict).toContainText('Changed meanwhile')
  await expect(detail.getByTestId('tlp-badge').first()).toHaveText('TLP:AMBER+STRICT')
  await change.click() // cancelled

  // an update marked stricter than the report: what it said is never restated wider (core R14),
  // and the form says so before asking the server
  await postEvents(request, [
    {
      id: randomUUID(),
      type: 'incident.updated',
      occurredAt: new Date().toISOString(),
      source: { organisation: 'cert-ee' },
      marking: { tlp: 'RED', recipients: ['coord-ee-marking'] },
      payload: { incidentId: 'inc-marking-2', severity: 'critical', summary: 'the border posts are the target' },
    },
  ])
  await openIncident(owner, 'inc-marking-2')
  await expect(detail).toContainText('the border posts are the target')
  await change.click()
  await form.getByLabel('TLP').selectOption('CLEAR')
  let sent = 0
  owner.on('request', (r) => {
    if (r.url().includes('/api/v1/commands')) sent++
  })
  await form.getByTestId('marking-send').click()
  await expect(form.getByTestId('marking-blocked')).toContainText('TLP:RED')
  expect(sent).toBe(0)

  await ownerContext.close()
  await partnerContext.close()
})

import { randomUUID } from 'node:crypto'
import { type APIRequestContext, expect, type Page } from '@playwright/test'
import { E2E_TOKENS, incident, openIncident, postEvents, signIn, test } from './fixtures.ts'

// unique to this run: the specs share one server
const run = randomUUID().slice(0, 8)

/** Someone else acts on the incident, through the REST API (the admin). */
async function elsewhere(request: APIRequestContext, body: object): Promise<void> {
  const reply = await request.post('/api/v1/commands', {
    headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
    data: body,
  })
  expect(reply.status(), await reply.text()).toBe(200)
}

/**
 * The coordinator's picture dropped and opened again, and every form with it: the directory puts its
 * organisation in a new community (what it may see changed: `resync` `access_changed`), `during` runs
 * once the picture was dropped, and the community goes again afterwards.
 */
async function pictureOpenedAgain(
  page: Page,
  request: APIRequestContext,
  community: string,
  during: () => Promise<void>,
): Promise<void> {
  const admin = { authorization: `Bearer ${E2E_TOKENS.admin}` }
  await page.evaluate(() => {
    const store = window.__watchfloorStore!
    const w = window as unknown as { dropped: number }
    w.dropped = 0
    store.subscribe((s, prev) => {
      if (prev.opened !== null && s.opened === null) w.dropped++
    })
  })
  const made = await request.post('/api/v1/directory/communities', {
    headers: admin,
    data: { id: community, name: `Community ${community}`, members: ['alliance'] },
  })
  expect(made.status(), await made.text()).toBe(201)
  try {
    await expect.poll(() => page.evaluate(() => (window as unknown as { dropped: number }).dropped)).toBe(1)
    await during()
  } finally {
    expect((await request.delete(`/api/v1/directory/communities/${community}`, { headers: admin })).status()).toBe(204)
  }
}

test('escalate and set status never replace the choice made: what someone else did meanwhile is said, and nothing is sent until the person chooses again', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000)
  const incidentId = `inc-draft-${run}`
  await postEvents(request, [incident(incidentId, `Draft ${run}: scanning of the port authority`, 'GREEN', 'medium')])
  await signIn(page, E2E_TOKENS.coordinator)
  await openIncident(page, incidentId)
  const detail = page.getByTestId('incident-detail')
  await expect(detail.getByTestId('detail-version')).toHaveText('1')
  let sent = 0
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/commands')) sent++
  })

  // the person picks high and gives a reason; someone else escalates to high meanwhile
  const severity = detail.getByTestId('escalate-severity')
  await severity.selectOption('high')
  await detail.getByTestId('escalate-reason').fill('beaconing from two more hosts')
  await elsewhere(request, { type: 'incident.escalate', incidentId, severity: 'high', reason: 'spreading' })
  await expect(detail.getByTestId('detail-version')).toHaveText('2')
  // high is no longer a choice: the form says so, and critical is not chosen in its place
  await expect(detail.getByTestId('escalate-gone')).toHaveText('Already high, changed meanwhile: choose again.')
  await expect(severity).toHaveValue('')
  await expect(detail.getByTestId('action-escalate')).toBeDisabled()
  await detail.getByTestId('escalate-reason').press('Enter')
  await detail.getByTestId('incident-actions').screenshot({ path: 'e2e/artifacts/draft-gone.png' })
  expect(sent).toBe(0)
  // choosing again is the person's decision, on the incident as it is now
  await severity.selectOption('critical')
  await expect(detail.getByTestId('escalate-gone')).toHaveCount(0)
  await detail.getByTestId('action-escalate').click()
  await expect(detail.getByTestId('detail-version')).toHaveText('3')
  await expect(detail.getByTestId('escalate-severity')).toHaveCount(0) // critical: nothing is left above

  // the same with a status: the person picks contained; someone else sets contained meanwhile
  const status = detail.getByTestId('status-select')
  await status.selectOption('contained')
  await elsewhere(request, { type: 'incident.set_status', incidentId, status: 'contained' })
  await expect(detail.getByTestId('detail-status')).toHaveText('contained')
  await expect(detail.getByTestId('status-gone')).toHaveText('Already contained, changed meanwhile: choose again.')
  await expect(status).toHaveValue('') // not "new", which a click would have reopened it as
  await expect(detail.getByTestId('action-set-status')).toBeDisabled()
  const before = sent
  await detail.getByTestId('status-reason').press('Enter')
  expect(sent).toBe(before)
  await expect(detail.getByTestId('detail-status')).toHaveText('contained')
})

test('[C3] a draft expects the version it was started on: a change meanwhile is a conflict, said against the copy sent', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000)
  const incidentId = `inc-draft-version-${run}`
  await postEvents(request, [incident(incidentId, `Draft ${run}: phishing of the rail operator`, 'GREEN', 'medium')])
  await signIn(page, E2E_TOKENS.coordinator)
  await openIncident(page, incidentId)
  const detail = page.getByTestId('incident-detail')
  await expect(detail.getByTestId('detail-version')).toHaveText('1')

  // the person starts an escalation on version 1; someone else sets the status meanwhile
  await detail.getByTestId('escalate-reason').fill('credentials reused on the signalling VPN')
  await elsewhere(request, { type: 'incident.set_status', incidentId, status: 'triaged' })
  await expect(detail.getByTestId('detail-version')).toHaveText('2')
  await expect(detail.getByTestId('detail-status')).toHaveText('triaged')
  await expect(detail.getByTestId('escalate-severity')).toHaveValue('high') // still offered: still theirs
  await detail.getByTestId('action-escalate').click()
  // refused on the version the draft was started on, and said against the copy as it was sent
  const conflict = detail.getByTestId('conflict')
  await expect(conflict).toContainText('Changed meanwhile: now status triaged (was new) (version 2, you saw 1)')
  await expect(detail.getByTestId('detail-version')).toHaveText('2') // nothing sent behind their back
  await detail.getByTestId('incident-actions').screenshot({ path: 'e2e/artifacts/draft-conflict.png' })
  // a retry could pass (still above medium, still allowed): offered, and it goes on the fresh version
  await conflict.getByTestId('conflict-retry').click()
  await expect(conflict).toHaveCount(0)
  await expect(detail.getByTestId('detail-version')).toHaveText('3')
  await expect(detail.locator('.facts [data-severity]')).toHaveAttribute('data-severity', 'high')
  // the draft ended with its command: an empty form on the incident as it is now
  await expect(detail.getByTestId('escalate-reason')).toHaveValue('')
  await expect(detail.getByTestId('escalate-severity')).toHaveValue('critical')
})

test('what was typed survives the picture opened again (resync access_changed): every form shows it, and the escalation still expects the version it was started on', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000)
  const incidentId = `inc-draft-reopen-${run}`
  const community = `reopen-${run}`
  await postEvents(request, [incident(incidentId, `Draft ${run}: wiper on the grid operator`, 'GREEN', 'medium')])
  await signIn(page, E2E_TOKENS.coordinator)
  await openIncident(page, incidentId)
  const detail = page.getByTestId('incident-detail')
  await expect(detail.getByTestId('detail-version')).toHaveText('1')

  // the coordinator types in every form of the incident
  await detail.getByTestId('escalate-reason').fill('spreading to the substations')
  await detail.getByTestId('status-select').selectOption('contained')
  await detail.getByTestId('status-reason').fill('the OT network is cut off')
  await detail.getByTestId('task-new').click()
  await detail.getByTestId('task-title').fill('Image the engineering workstations')
  await detail.getByTestId('comment-body').fill('the wiper is the one seen in March')
  // the directory puts the coordinator's organisation in a community: what it may see changed, and
  // the server says so (`resync` `access_changed`); someone else changes the incident meanwhile
  await pictureOpenedAgain(page, request, community, async () => {
    await elsewhere(request, { type: 'incident.set_status', incidentId, status: 'triaged' })
    await expect(page.getByTestId('connection-status')).toHaveText('live')
    await expect(detail.getByTestId('detail-version')).toHaveText('2')

    // every form shows what was typed, exactly as before
    await expect(detail.getByTestId('escalate-reason')).toHaveValue('spreading to the substations')
    await expect(detail.getByTestId('escalate-severity')).toHaveValue('high')
    await expect(detail.getByTestId('status-select')).toHaveValue('contained')
    await expect(detail.getByTestId('status-reason')).toHaveValue('the OT network is cut off')
    await expect(detail.getByTestId('task-title')).toHaveValue('Image the engineering workstations')
    await expect(detail.getByTestId('comment-body')).toHaveValue('the wiper is the one seen in March')
    // the escalation was started on version 1: the change meanwhile is a conflict the person sees
    await detail.getByTestId('action-escalate').click()
    await expect(detail.getByTestId('conflict')).toContainText('(version 2, you saw 1)')
    await expect(detail.getByTestId('detail-version')).toHaveText('2')
  })
})

test('a comment that did not reach the server, posted again from the form shown again after the picture was opened again, goes under the same commandId: one comment', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000)
  const incidentId = `inc-draft-lost-${run}`
  const community = `lost-${run}`
  const text = `Hosts isolated at the port authority (${run})`
  await postEvents(request, [incident(incidentId, `Draft ${run}: ransomware at the port authority`, 'GREEN', 'high')])
  await signIn(page, E2E_TOKENS.coordinator)
  await openIncident(page, incidentId)
  const detail = page.getByTestId('incident-detail')
  await expect(detail.getByTestId('detail-version')).toHaveText('1')
  const commandIds: string[] = []
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/commands') && r.method() === 'POST')
      commandIds.push((r.postDataJSON() as { commandId: string }).commandId)
  })

  // the first Post never reaches the server (whether it did, the console cannot tell)
  await page.route('**/api/v1/commands', (route) => route.abort('failed'), { times: 1 })
  await detail.getByTestId('comment-body').fill(text)
  await detail.getByTestId('comment-post').click()
  await expect(detail.getByTestId('command-error')).toBeVisible()
  await expect(detail.getByTestId('comment-body')).toHaveValue(text)
  // what the coordinator's organisation may see changes: the picture is dropped and opened again,
  // and the comment form with it
  await pictureOpenedAgain(page, request, community, async () => {
    await expect(page.getByTestId('connection-status')).toHaveText('live')
    await expect(detail.getByTestId('comment-body')).toHaveValue(text)

    // Post again: the same action, under the same commandId (had the first arrived, the server would
    // answer this one as it did the first, and add nothing)
    await detail.getByTestId('comment-post').click()
    await expect(detail.getByTestId('comment-body')).toHaveValue('')
    expect(commandIds).toHaveLength(2)
    expect(commandIds[1]).toBe(commandIds[0])
    await expect(detail.getByTestId('comment').filter({ hasText: text })).toHaveCount(1)
  })
})

test('a comment applied whose answer was lost: the live stream shows it posted, the form ends as on an answer ok, and what is typed next is a new comment', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000)
  const incidentId = `inc-draft-applied-${run}`
  const text = `Backups verified offline (${run})`
  await postEvents(request, [incident(incidentId, `Draft ${run}: wiper at the water utility`, 'GREEN', 'high')])
  await signIn(page, E2E_TOKENS.coordinator)
  await openIncident(page, incidentId)
  const detail = page.getByTestId('incident-detail')
  await expect(detail.getByTestId('detail-version')).toHaveText('1')
  const commandIds: string[] = []
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/commands') && r.method() === 'POST')
      commandIds.push((r.postDataJSON() as { commandId: string }).commandId)
  })

  // the Post reaches the server, which applies it; its answer is lost on the way back
  await page.route(
    '**/api/v1/commands',
    async (route) => {
      await route.fetch()
      await route.abort('failed')
    },
    { times: 1 },
  )
  await detail.getByTestId('comment-body').fill(text)
  const failed = page.waitForEvent('requestfailed', (r) => r.url().includes('/api/v1/commands'))
  await detail.getByTestId('comment-post').click()
  await failed
  // the comment arrives live: the console knows it for its own (its id derives from the commandId),
  // so the form is emptied and no failure is shown
  await expect(detail.getByTestId('comment').filter({ hasText: text })).toHaveCount(1)
  await expect(detail.getByTestId('comment-body')).toHaveValue('')
  await expect(detail.getByTestId('comment-post')).toBeEnabled() // its answer (a failure) is in
  await expect(detail.getByTestId('command-error')).toHaveCount(0)

  // the same words again are another comment, under a new commandId
  await detail.getByTestId('comment-body').fill(text)
  await detail.getByTestId('comment-post').click()
  await expect(detail.getByTestId('comment').filter({ hasText: text })).toHaveCount(2)
  expect(commandIds).toHaveLength(2)
  expect(commandIds[1]).not.toBe(commandIds[0])
})

import { readFileSync } from 'node:fs'
import { expect } from '@playwright/test'
import { E2E_TOKENS, incident, openIncident, postEvents, signIn, test } from './fixtures.ts'

test('a coordinator tasks a team; a member sees it live, accepts and completes it; the handover lists it', async ({
  browser,
  request,
}) => {
  test.setTimeout(240_000) // two browsers with a WebGL map each, on a small machine
  await postEvents(request, [incident('inc-coord-1', 'Wiper malware on energy grid SCADA', 'GREEN', 'high')])

  const coordinatorContext = await browser.newContext()
  const memberContext = await browser.newContext()
  const coordinator = await coordinatorContext.newPage()
  const member = await memberContext.newPage()
  await signIn(coordinator, E2E_TOKENS.coordinator)
  await signIn(member, E2E_TOKENS.memberEe)
  await expect(member.getByTestId('whoami')).toContainText('kadri')
  await expect(member.getByTestId('whoami-roles')).toHaveText('analyst')

  // the member, an analyst, sees no incident actions; the coordinator does
  await openIncident(member, 'inc-coord-1')
  await expect(member.getByTestId('incident-actions')).toHaveCount(0)
  await expect(member.getByTestId('task-new')).toHaveCount(0)
  await member.getByTestId('detail-close').click()

  await openIncident(coordinator, 'inc-coord-1')
  const detail = coordinator.getByTestId('incident-detail')
  await expect(detail.getByTestId('action-escalate')).toBeVisible()
  await detail.getByTestId('task-new').click()
  await detail.getByTestId('task-title').fill('Isolate the SCADA jump hosts')
  await detail.getByTestId('task-priority').selectOption('urgent')
  await detail.getByTestId('task-assignee-kind').selectOption('team')
  await detail.getByTestId('task-assignee').fill('cert-ee')
  await detail.getByTestId('task-create').click()
  const coordinatorCard = detail.locator('[data-testid="task-card"]', { hasText: 'Isolate the SCADA jump hosts' })
  await expect(coordinatorCard).toHaveAttribute('data-status', 'open')
  await expect(coordinatorCard.getByTestId('task-assignee-label')).toHaveText('team cert-ee')

  // an overdue task is shown as such (red, and in words)
  await detail.getByTestId('task-title').fill('Report the indicators to the alliance')
  await detail.getByTestId('task-due-input').fill(new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 16))
  await expect(detail.getByTestId('task-due-input-note')).toHaveCount(0)
  await detail.getByTestId('task-due-input').fill('2020-01-01T08:00')
  // said, not refused: a task may be written down after the fact
  await expect(detail.getByTestId('task-due-input-note')).toHaveText('already past: the task will be overdue at once')
  await detail.getByTestId('task-assignee').fill('cert-ee')
  await detail.getByTestId('task-create').click()
  const overdueCard = detail.locator('[data-testid="task-card"]', { hasText: 'Report the indicators' })
  await expect(overdueCard).toHaveAttribute('data-overdue', 'true')
  await expect(overdueCard.getByTestId('task-due')).toContainText('OVERDUE')

  // a coordinator can give a task to someone else: here to a person of the team
  await overdueCard.getByTestId('task-reassign').click()
  const reassign = overdueCard.getByTestId('task-reassign-form')
  await reassign.locator('select').selectOption('user')
  await overdueCard.getByTestId('task-reassign-who').fill('mart')
  await overdueCard.getByTestId('task-reassign-confirm').click()
  await expect(overdueCard.getByTestId('task-assignee-label')).toContainText('mart')
  await expect(reassign).toHaveCount(0)

  // the member of cert-ee is told live: a toast and the bell
  const toast = member.getByTestId('toast').filter({ hasText: 'Isolate the SCADA jump hosts' })
  await expect(toast).toBeVisible()
  await expect(member.getByTestId('bell-count')).toHaveText('2')
  await member.screenshot({ path: 'e2e/artifacts/coordination-notified.png' })
  await toast.locator('.toast-body').click() // opens the incident
  const memberDetail = member.getByTestId('incident-detail')
  await expect(memberDetail).toHaveAttribute('data-incident-id', 'inc-coord-1')

  // both have the incident open: each sees the other
  await expect(coordinator.getByTestId('presence')).toContainText('kadri')
  await expect(member.getByTestId('presence')).toContainText('coordinator')

  const memberCard = memberDetail.locator('[data-testid="task-card"]', { hasText: 'Isolate the SCADA jump hosts' })
  await expect(memberCard.getByTestId('task-complete')).toHaveCount(0) // not before accepting
  await memberCard.getByTestId('task-accept').click()
  await expect(memberCard).toHaveAttribute('data-status', 'accepted')
  await expect(coordinatorCard).toHaveAttribute('data-status', 'accepted') // live at the coordinator's
  // what was done goes with Complete, said on the card
  await memberCard.getByTestId('task-note').fill('Both jump hosts isolated; memory images taken')
  await memberCard.getByTestId('task-complete').click()
  await expect(memberCard).toHaveAttribute('data-status', 'done')
  await expect(memberCard.getByTestId('task-completed-note')).toHaveText(
    'Completed: Both jump hosts isolated; memory images taken',
  )
  await expect(memberCard.getByTestId('task-note')).toHaveValue('')
  await expect(memberCard.getByTestId('task-reopen')).toBeVisible()

  // the coordinator sees it done, live, on the incident and on the task board
  await expect(coordinatorCard).toHaveAttribute('data-status', 'done')
  await coordinator.getByTestId('tab-tasks').click()
  await coordinator.getByTestId('task-scope-all').click()
  const doneColumn = coordinator.locator('[data-testid="task-column"][data-status="done"]')
  await expect(doneColumn.getByText('Isolate the SCADA jump hosts')).toBeVisible()
  await expect(
    coordinator.locator('[data-testid="task-column"][data-status="open"] [data-overdue="true"]'),
  ).toHaveCount(1)
  await coordinator.screenshot({ path: 'e2e/artifacts/coordination-board.png' })

  // the Events tab names the task by its title, never its id (docs/console.md, "Names, not ids")
  await coordinator.getByTestId('tab-events').click()
  const completed = coordinator.locator('[data-testid="event-row"][data-type="task.completed"]')
  await expect(completed).toContainText('Task "Isolate the SCADA jump hosts" completed by')
  const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
  for (const row of await coordinator.locator('[data-testid="event-row"][data-type^="task."]').all())
    await expect(row).not.toContainText(uuid)

  // a comment that mentions the member reaches them
  await coordinator.getByTestId('tab-incidents').click()
  await detail.getByTestId('comment-body').fill('Thanks @kadri, please keep the logs')
  await expect(detail.getByTestId('comment-mentions')).toContainText('@kadri')
  await detail.getByTestId('comment-post').click()
  await expect(detail.getByTestId('comment')).toContainText('Thanks @kadri')
  await expect(member.getByTestId('toast').filter({ hasText: 'mentioned you' })).toBeVisible()
  await member.getByTestId('bell').click()
  await expect(member.getByTestId('notification')).toHaveCount(3)
  await expect(member.getByTestId('bell-count')).toHaveCount(0) // seen

  // the handover brief lists the task
  await coordinator.getByTestId('open-handover').click()
  const brief = coordinator.getByTestId('handover-brief')
  await expect(brief).toContainText('Isolate the SCADA jump hosts')
  await coordinator.screenshot({ path: 'e2e/artifacts/coordination-handover.png', fullPage: true })
  const [download] = await Promise.all([
    coordinator.waitForEvent('download'),
    coordinator.getByTestId('handover-download').click(),
  ])
  expect(download.suggestedFilename()).toMatch(/^handover-since-.*\.md$/)
  const markdown = readFileSync((await download.path())!, 'utf8')
  expect(markdown).toContain('Isolate the SCADA jump hosts')

  // the member reopens it, saying why: the card says it until it is done again
  await memberCard.getByTestId('task-note').fill('A third jump host found in the asset list')
  await memberCard.getByTestId('task-reopen').click()
  await expect(memberCard).not.toHaveAttribute('data-status', 'done')
  await expect(memberCard.getByTestId('task-reopened-reason')).toHaveText(
    'Reopened: A third jump host found in the asset list',
  )

  await coordinatorContext.close()
  await memberContext.close()
})

test('a conflict is shown with the values now and retried on the fresh version', async ({ page, request }) => {
  test.setTimeout(120_000)
  await postEvents(request, [incident('inc-coord-2', 'Credential stuffing on the e-ID portal', 'GREEN', 'medium')])
  await signIn(page, E2E_TOKENS.coordinator)
  await openIncident(page, 'inc-coord-2')
  const detail = page.getByTestId('incident-detail')
  await expect(detail.getByTestId('detail-version')).toHaveText('1')
  // hold the live stream back so the panel still shows version 1 when someone else acts
  await page.evaluate(() => {
    window.__watchfloorStore!.setState({ applyEvents: () => {} })
  })
  const other = await request.post('/api/v1/commands', {
    headers: { authorization: `Bearer ${E2E_TOKENS.officer}` },
    data: { type: 'incident.acknowledge', incidentId: 'inc-coord-2', expectedVersion: 1 },
  })
  expect(other.status()).toBe(200)
  await detail.getByTestId('status-select').selectOption('triaged')
  await detail.getByTestId('action-set-status').click()
  const conflict = detail.getByTestId('conflict')
  await expect(conflict).toContainText('Changed meanwhile: now acknowledged by officer')
  await expect(conflict).toContainText('version 2, you saw 1')
  await expect(detail.getByTestId('detail-status')).toHaveText('new') // nothing overwritten
  await page.screenshot({ path: 'e2e/artifacts/coordination-conflict.png' })
  await conflict.getByTestId('conflict-retry').click()
  await expect(conflict).toHaveCount(0)
  const status = await request.get('/api/v1/state', { headers: { authorization: `Bearer ${E2E_TOKENS.officer}` } })
  const body = (await status.json()) as { incidents: { incidentId: string; status: string; version: number }[] }
  expect(body.incidents.find((i) => i.incidentId === 'inc-coord-2')).toMatchObject({ status: 'triaged', version: 3 })
})

test('another incident opens with empty forms: no draft, conflict or retry of the one shown before', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000)
  await postEvents(request, [
    incident('inc-coord-draft-a', 'Phishing wave against the tax board', 'GREEN', 'medium'),
    incident('inc-coord-draft-b', 'Defacement of a ministry site', 'GREEN', 'medium'),
  ])
  await signIn(page, E2E_TOKENS.coordinator)
  await openIncident(page, 'inc-coord-draft-b') // in the picture before the stream is held
  await openIncident(page, 'inc-coord-draft-a')
  const detail = page.getByTestId('incident-detail')
  await expect(detail.getByTestId('detail-version')).toHaveText('1')
  await detail.getByTestId('comment-body').fill('Draft for incident A only')
  await detail.getByTestId('escalate-reason').fill('Spreading to A’s neighbours')
  await detail.getByTestId('status-reason').fill('A is under control')
  // a conflict on A, with its retry on A's fresh version
  await page.evaluate(() => {
    window.__watchfloorStore!.setState({ applyEvents: () => {} })
  })
  const other = await request.post('/api/v1/commands', {
    headers: { authorization: `Bearer ${E2E_TOKENS.officer}` },
    data: { type: 'incident.acknowledge', incidentId: 'inc-coord-draft-a', expectedVersion: 1 },
  })
  expect(other.status()).toBe(200)
  await detail.getByTestId('status-select').selectOption('triaged')
  await detail.getByTestId('action-set-status').click()
  await expect(detail.getByTestId('conflict-retry')).toHaveText('Retry on version 2')

  await openIncident(page, 'inc-coord-draft-b')
  await expect(detail.getByTestId('comment-body')).toHaveValue('')
  await expect(detail.getByTestId('escalate-reason')).toHaveValue('')
  await expect(detail.getByTestId('status-reason')).toHaveValue('')
  await expect(detail.getByTestId('conflict')).toHaveCount(0) // no retry that would re-send A's command
  await openIncident(page, 'inc-coord-draft-a')
  await expect(detail.getByTestId('comment-body')).toHaveValue('')
  await expect(detail.getByTestId('conflict')).toHaveCount(0)
})

test('a lost answer: the comment and the task show applied and their forms end; saving the bookmark again adds one, not two', async ({
  page,
  request,
}) => {
  test.setTimeout(180_000)
  await postEvents(request, [incident('inc-coord-retry', 'Ransomware at a water utility', 'GREEN', 'high')])
  const auth = { authorization: `Bearer ${E2E_TOKENS.coordinator}` }
  const picture = async () =>
    (await (await request.get('/api/v1/state', { headers: auth })).json()) as {
      comments: { incidentId: string; body: string }[]
      tasks: { incidentId: string; title: string }[]
      bookmarks: { title: string }[]
    }
  // the next `lose` commands reach the server and are applied, but their answers never come back
  let lose = 0
  let hold: Promise<void> | null = null
  await page.route('**/api/v1/commands', async (route) => {
    if (hold !== null) await hold
    if (lose > 0) {
      lose--
      await route.fetch()
      return route.abort('failed')
    }
    return route.continue()
  })
  await signIn(page, E2E_TOKENS.coordinator)
  await openIncident(page, 'inc-coord-retry')
  const detail = page.getByTestId('incident-detail')

  // applied, its answer lost: the comment arrives live, and the console knows it for its own (its id
  // derives from the commandId): the form ends as on an answer ok, no failure stays. Post pressed
  // again before it arrived would be the same action (drafts.e2e.ts); after, there is nothing to post
  lose = 1
  const commandFailed = () => page.waitForEvent('requestfailed', (r) => r.url().includes('/api/v1/commands'))
  await detail.getByTestId('comment-body').fill('Backups are offline, restoring')
  let failed = commandFailed()
  await detail.getByTestId('comment-post').click()
  await failed
  await expect(detail.getByTestId('comment')).toHaveCount(1)
  await expect(detail.getByTestId('comment-body')).toHaveValue('')
  await expect(detail.getByTestId('comment-post')).toBeEnabled() // its answer (a failure) is in
  await expect(detail.getByTestId('command-error')).toHaveCount(0)

  // the same for a task: the form stays open for the next one, its title emptied
  lose = 1
  await detail.getByTestId('task-new').click()
  await detail.getByTestId('task-title').fill('Restore the SCADA historian')
  failed = commandFailed()
  await detail.getByTestId('task-create').click()
  await failed
  await expect(detail.getByTestId('task-card')).toHaveCount(1)
  await expect(detail.getByTestId('task-title')).toHaveValue('')
  await expect(detail.getByTestId('task-create')).toBeEnabled()
  await expect(detail.getByTestId('command-error')).toHaveCount(0)

  const now = await picture()
  expect(now.comments.filter((c) => c.incidentId === 'inc-coord-retry')).toHaveLength(1)
  expect(now.tasks.filter((t) => t.incidentId === 'inc-coord-retry')).toHaveLength(1)

  // the bookmark: Save is disabled while saving, and a lost answer saved again saves one
  await page.getByTestId('open-replay').click()
  await expect(page.getByTestId('replay-bar')).toBeVisible()
  await page.getByTestId('bookmark-new').click()
  await page.getByTestId('bookmark-title').fill('Water utility: before the restore')
  await page.getByTestId('bookmark-kind').selectOption('range') // the window: the playhead may move meanwhile
  let release = () => {}
  hold = new Promise<void>((resolve) => {
    release = resolve
  })
  lose = 1
  await page.getByTestId('bookmark-save').click()
  await expect(page.getByTestId('bookmark-save')).toBeDisabled()
  hold = null
  release()
  await expect(page.getByTestId('bookmark-form')).toContainText('not saved: cannot reach the server')
  await expect(page.getByTestId('bookmark-save')).toBeEnabled()
  await page.getByTestId('bookmark-save').click()
  await expect(page.getByTestId('bookmark-status')).toHaveText(/saved/)
  const bookmarks = (await picture()).bookmarks.filter((b) => b.title === 'Water utility: before the restore')
  expect(bookmarks).toHaveLength(1)
})

test('password sign-in: an account made by an admin signs in, resumes after a reload and signs out', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000)
  const created = await request.post('/api/v1/accounts', {
    headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
    data: {
      username: 'e2e-liis',
      displayName: 'Liis Kask',
      organisation: 'cert-ee',
      nation: 'EE',
      roles: ['watch_officer'],
      password: 'correct horse battery staple',
    },
  })
  expect(created.status()).toBe(201)

  await page.goto('/')
  // the sign-in page is ready to type into
  await expect(page.getByTestId('username-input')).toBeFocused()
  await page.getByTestId('username-input').fill('e2e-liis')
  await page.getByTestId('password-input').fill('not the password at all')
  await page.getByTestId('password-sign-in').click()
  await expect(page.getByTestId('sign-in-error')).toContainText('wrong username or password')

  await page.getByTestId('password-input').fill('correct horse battery staple')
  await page.getByTestId('password-sign-in').click()
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
  await expect(page.getByTestId('whoami-name')).toHaveText('Liis Kask')
  await expect(page.getByTestId('whoami')).toContainText('cert-ee')
  await expect(page.getByTestId('whoami-roles')).toHaveText('watch officer')
  await page.screenshot({ path: 'e2e/artifacts/coordination-password-signed-in.png' })

  await page.reload() // the HttpOnly cookie resumes the session
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
  await expect(page.getByTestId('whoami-name')).toHaveText('Liis Kask')

  await page.getByTestId('sign-out').click()
  await expect(page.getByTestId('username-input')).toBeVisible()
  await page.reload()
  await expect(page.getByTestId('username-input')).toBeVisible()
  await expect(page.getByTestId('connection-status')).toHaveCount(0)

  // the token way in is still there
  await page.getByTestId('use-token').click()
  await page.getByTestId('token-input').fill(E2E_TOKENS.officer)
  await page.getByTestId('sign-in').click()
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
})

test('an acknowledgement is said with a note typed beside it: the panel shows it, and the form is emptied', async ({
  page,
  request,
  outsideRequests: _outside,
}) => {
  const id = `inc-ack-note-${crypto.randomUUID().slice(0, 8)}`
  await postEvents(request, [incident(id, 'Beacon on the customs gateway', 'GREEN', 'high')])
  await signIn(page, E2E_TOKENS.coordinator)
  await openIncident(page, id)
  const note = page.getByTestId('acknowledge-note')
  await note.fill('Gateway isolated; customs CERT told by phone')
  // Enter in the note acknowledges, as the button does (the keyboard's way: type, then Enter)
  await note.press('Enter')
  await expect(page.getByTestId('detail-acknowledged-note')).toContainText(
    'Gateway isolated; customs CERT told by phone',
  )
  // acknowledged: nothing more to acknowledge, so neither the button nor its note is offered
  await expect(page.getByTestId('action-acknowledge')).toHaveCount(0)
  await expect(note).toHaveCount(0)
  // the focus the note had stays in the panel (not back at the top of the page): Tab goes on from there
  await expect
    .poll(() => page.evaluate(() => document.activeElement?.closest('[data-testid="incident-detail"]') !== null))
    .toBe(true)
  // and Escape closes the panel
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('incident-detail')).toHaveCount(0)
  const state = await request.get('/api/v1/state', { headers: { authorization: `Bearer ${E2E_TOKENS.coordinator}` } })
  const { incidents } = (await state.json()) as { incidents: { incidentId: string; acknowledgedNote?: string }[] }
  expect(incidents.find((i) => i.incidentId === id)?.acknowledgedNote).toBe(
    'Gateway isolated; customs CERT told by phone',
  )
})

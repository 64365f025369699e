import { randomUUID } from 'node:crypto'
import { expect } from '@playwright/test'
import { E2E_TOKENS, incident, openIncident, postEvents, signIn, test } from './fixtures.ts'

const SHOTS = process.env.WATCHFLOOR_E2E_SHOTS ?? '/tmp/pw-people'

test('a coordinator assigns by name, mentions with @ and links incidents by title: no raw ids', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000)
  const run = randomUUID().slice(0, 6)
  // two people of the coordinator's organisation (alliance), made by the admin
  const people = [
    { username: `ivaltonen${run}`, displayName: `Ingrid Valtonen ${run}` },
    { username: `okarlsen${run}`, displayName: `Ola Karlsen ${run}` },
  ]
  for (const person of people) {
    const made = await request.post('/api/v1/accounts', {
      headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
      data: {
        ...person,
        organisation: 'alliance',
        roles: ['analyst', 'watch_officer'],
        password: 'people e2e passphrase',
      },
    })
    expect(made.status(), await made.text()).toBe(201)
  }
  // the route lists them for the coordinator, and nobody of another organisation
  const listed = await request.get('/api/v1/people', {
    headers: { authorization: `Bearer ${E2E_TOKENS.coordinator}` },
  })
  const reply = (await listed.json()) as { people: { userId: string; organisation: string }[] }
  expect(reply.people.map((p) => p.userId)).toEqual(expect.arrayContaining(people.map((p) => p.username)))
  expect(reply.people.filter((p) => p.organisation !== 'alliance')).toEqual([])

  const gateway = { id: `inc-people-a-${run}`, title: `Beacon on the port gateway ${run}` }
  const ministry = { id: `inc-people-b-${run}`, title: `Credential dump at the ministry ${run}` }
  await postEvents(request, [
    incident(gateway.id, gateway.title, 'GREEN', 'high'),
    incident(ministry.id, ministry.title, 'GREEN', 'medium'),
  ])

  await signIn(page, E2E_TOKENS.coordinator)
  await openIncident(page, gateway.id)
  const detail = page.getByTestId('incident-detail')

  // a task for a person, found by typing part of the name, chosen with the keyboard
  await detail.getByTestId('task-new').click()
  await detail.getByTestId('task-title').fill(`Capture the beacon traffic ${run}`)
  await detail.getByTestId('task-assignee-kind').selectOption('user')
  const assignee = detail.getByTestId('task-assignee')
  await assignee.pressSequentially('Valt')
  const list = detail.getByTestId('task-assignee-list')
  await expect(list).toBeVisible()
  await expect(assignee).toHaveAttribute('aria-expanded', 'true')
  await expect(list.getByRole('option')).toHaveText([`Ingrid Valtonen ${run}@${people[0]!.username} · alliance`])
  await assignee.press('ArrowDown')
  await expect(assignee).toHaveAttribute('aria-activedescendant', /.+/)
  const activeId = await assignee.getAttribute('aria-activedescendant')
  await expect(page.locator(`[id="${activeId}"]`)).toHaveAttribute('aria-selected', 'true')
  await page.screenshot({ path: `${SHOTS}/people-assignee.png` })
  await assignee.press('Enter')
  await expect(assignee).toHaveValue(people[0]!.username)
  await expect(list).toHaveCount(0)
  await expect(detail.getByTestId('task-assignee-name')).toHaveText(people[0]!.displayName)
  await detail.getByTestId('task-create').click()
  const card = detail.locator('[data-testid="task-card"]', { hasText: `Capture the beacon traffic ${run}` })
  const label = card.getByTestId('task-assignee-label')
  await expect(label).toHaveText(people[0]!.displayName)
  await expect(label.locator('[title]')).toHaveAttribute('title', people[0]!.username)

  // Escape closes the list and keeps what was typed
  await detail.getByTestId('task-assignee').pressSequentially('Kar')
  await expect(detail.getByTestId('task-assignee-list')).toBeVisible()
  await detail.getByTestId('task-assignee').press('Escape')
  await expect(detail.getByTestId('task-assignee-list')).toHaveCount(0)
  await expect(detail.getByTestId('task-assignee')).toHaveValue('Kar')
  // a team typed but not picked (part of a name) is said before the server would refuse it
  await detail.getByTestId('task-assignee-kind').selectOption('team')
  await detail.getByTestId('task-assignee').fill('Latv')
  await expect(detail.getByTestId('task-assignee-unknown')).toHaveText(
    'not a team on the list: choose one of the suggestions',
  )
  await detail.getByTestId('task-assignee').fill('alliance')
  await expect(detail.getByTestId('task-assignee-unknown')).toHaveCount(0)

  // a comment that mentions someone: @ and part of the name, chosen with the pointer
  const body = detail.getByTestId('comment-body')
  await body.click()
  await body.pressSequentially('Please look at the pcap @Ola')
  const mentions = detail.getByTestId('comment-body-list')
  await expect(mentions.getByRole('option')).toHaveCount(1)
  await page.screenshot({ path: `${SHOTS}/people-mention.png` })
  await mentions.getByRole('option', { name: new RegExp(`Ola Karlsen ${run}`) }).click()
  await expect(body).toHaveValue(`Please look at the pcap @${people[1]!.username} `)
  await body.pressSequentially('today')
  await expect(detail.getByTestId('comment-mentions')).toContainText(`@${people[1]!.username}`)
  await detail.getByTestId('comment-post').click()
  const comment = detail.getByTestId('comment').filter({ hasText: 'Please look at the pcap' })
  await expect(comment.locator('.mention')).toHaveText(`@${people[1]!.displayName}`)
  await expect(comment.locator('.mention')).toHaveAttribute('title', `@${people[1]!.username}`)
  await expect(comment.locator('.comment-head .person')).toHaveAttribute('title', 'coordinator')

  // a link to the other incident, chosen by its title
  const other = detail.getByTestId('link-other')
  // text that names no incident is said, not sent (the server would answer "no incident ...")
  await other.fill('no such incident anywhere')
  await other.press('Escape')
  await detail.getByTestId('action-link').click()
  await expect(detail.getByTestId('link-problem')).toHaveText(
    'No incident you can see matches "no such incident anywhere".',
  )
  await expect(detail.getByTestId('incident-link')).toHaveCount(0)
  await other.fill('')
  await expect(detail.getByTestId('link-problem')).toHaveCount(0)
  await other.pressSequentially('credential dump')
  const incidents = detail.getByTestId('link-other-list')
  await expect(incidents.getByRole('option', { name: new RegExp(ministry.title) })).toBeVisible()
  await page.screenshot({ path: `${SHOTS}/people-link-picker.png` })
  await other.press('Enter')
  await expect(other).toHaveValue(ministry.title)
  await detail.getByTestId('action-link').click()
  const link = detail.getByTestId('incident-link')
  await expect(link).toContainText(ministry.title)
  await expect(link.getByRole('button', { name: ministry.title })).toHaveAttribute('title', ministry.id)
  await expect(detail.getByTestId('incident-links')).not.toContainText(`${ministry.id} `)
  await page.screenshot({ path: `${SHOTS}/people-done.png` })

  await card.screenshot({ path: `${SHOTS}/people-task-card.png` })
  await comment.screenshot({ path: `${SHOTS}/people-comment.png` })

  // an acknowledgement names its person as the comments and tasks do: Ingrid acknowledges the other incident
  const token = await request.post('/api/v1/tokens', {
    headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
    data: { label: 'people e2e', owner: people[0]!.username },
  })
  expect(token.status(), await token.text()).toBe(201)
  const { secret } = (await token.json()) as { secret: string }
  const acked = await request.post('/api/v1/commands', {
    headers: { authorization: `Bearer ${secret}` },
    data: { type: 'incident.acknowledge', incidentId: ministry.id },
  })
  expect(acked.status(), await acked.text()).toBe(200)
  await openIncident(page, ministry.id)
  const acknowledged = page.getByTestId('detail-acknowledged')
  await expect(acknowledged).toContainText(`by ${people[0]!.displayName}`)
  await expect(acknowledged.locator('strong')).toHaveAttribute('title', people[0]!.username)
})

test('notifications name the people who assigned and mentioned, not their user ids', async ({
  page,
  playwright,
  request,
  baseURL,
}) => {
  test.setTimeout(120_000)
  const run = randomUUID().slice(0, 6)
  const password = 'people e2e passphrase'
  const mette = { username: `mnilsen${run}`, displayName: `Mette Nilsen ${run}`, roles: ['coordinator'] }
  const ola = { username: `obakken${run}`, displayName: `Ola Bakken ${run}`, roles: ['analyst'] }
  for (const person of [mette, ola]) {
    const made = await request.post('/api/v1/accounts', {
      headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
      data: { ...person, organisation: 'alliance', password },
    })
    expect(made.status(), await made.text()).toBe(201)
  }
  const incidentId = `inc-people-n-${run}`
  await postEvents(request, [incident(incidentId, `Beacon from the harbour cranes ${run}`, 'GREEN', 'high')])

  // Ola signs in and is live before anything is assigned
  await page.goto('/')
  await page.getByTestId('username-input').fill(ola.username)
  await page.getByTestId('password-input').fill(password)
  await page.getByTestId('password-sign-in').click()
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })

  // Mette, signed in with her own session, gives Ola a task and mentions Ola in a comment
  const asMette = await playwright.request.newContext({ baseURL: baseURL ?? '' })
  try {
    const signedIn = await asMette.post('/api/v1/session', { data: { username: mette.username, password } })
    expect(signedIn.status(), await signedIn.text()).toBe(200)
    const task = await asMette.post('/api/v1/commands', {
      data: {
        type: 'task.create',
        incidentId,
        title: `Image the crane controller ${run}`,
        assignee: { kind: 'user', userId: ola.username },
      },
    })
    expect(task.status(), await task.text()).toBe(200)
    const comment = await asMette.post('/api/v1/commands', {
      data: {
        type: 'comment.post',
        incidentId,
        body: `@${ola.username} the pcap is on the share`,
        mentions: [ola.username],
      },
    })
    expect(comment.status(), await comment.text()).toBe(200)
  } finally {
    await asMette.dispose()
  }

  const toast = page.getByTestId('toast').filter({ hasText: `Image the crane controller ${run}` })
  await expect(toast).toContainText(`New task for you: Image the crane controller ${run} (from ${mette.displayName})`)
  await page.getByTestId('bell').click()
  const list = page.getByTestId('notification-list')
  await expect(list.getByTestId('notification').filter({ hasText: 'mentioned you' })).toContainText(
    `${mette.displayName} mentioned you on Beacon from the harbour cranes ${run}`,
  )
  await expect(list).not.toContainText(mette.username)
  await page.screenshot({ path: `${SHOTS}/people-notifications.png` })
})

/**
 * Time is UTC everywhere: in a browser in another zone, a task's due time, the replay window
 * and the handover's "since" are typed and shown as UTC (24-hour, labelled Z), and the server
 * gets the UTC instant typed.
 */
import { randomUUID } from 'node:crypto'
import { expect } from '@playwright/test'
import { E2E_TOKENS, incident, openIncident, postEvents, signIn, test } from './fixtures.ts'

const MIN = 60_000
/** `2026-11-26 14:30Z` (or with seconds), as a person types it. */
const typed = (ms: number, seconds = false) => {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, seconds ? 19 : 16)}Z`
}
const minute = (ms: number) => Math.floor(ms / MIN) * MIN

for (const zone of ['Europe/Brussels', 'America/New_York']) {
  test.describe(`a browser in ${zone}`, () => {
    test.use({ timezoneId: zone, locale: 'en-US' })

    test('types and sees UTC: task due, replay window, handover since', async ({ page, request }) => {
      test.setTimeout(120_000)
      const incidentId = `inc-utc-${zone.replace('/', '-').toLowerCase()}`
      const title = `Due in UTC from ${zone}`
      await postEvents(request, [incident(incidentId, `Clock check ${zone}`, 'GREEN', 'medium')])
      await signIn(page, E2E_TOKENS.coordinator)
      // the browser is really elsewhere: its local hour is not the UTC hour
      expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe(zone)
      expect(await page.evaluate(() => new Date(Date.UTC(2030, 2, 10, 14, 30)).getHours())).not.toBe(14)

      // a task due at 14:30 UTC
      await openIncident(page, incidentId)
      const detail = page.getByTestId('incident-detail')
      await detail.getByTestId('task-new').click()
      await detail.getByTestId('task-title').fill(title)
      await detail.getByTestId('task-assignee-kind').selectOption('team')
      await detail.getByTestId('task-assignee').fill('cert-ee')
      const due = detail.getByTestId('task-due-input')
      await expect(detail.getByTestId('task-form')).toContainText('Due (UTC)')
      // 12-hour or local-looking text is refused, with a clear error, and nothing is sent
      await due.fill('03/10/2030 2:30 PM')
      await expect(detail.getByTestId('task-due-input-error')).toContainText('YYYY-MM-DD HH:MMZ')
      await detail.getByTestId('task-create').click()
      await expect(detail.locator('[data-testid="task-card"]', { hasText: title })).toHaveCount(0)
      await due.fill('2030-03-10 14:30Z')
      await expect(detail.getByTestId('task-due-input-error')).toHaveCount(0)
      await detail.getByTestId('task-create').click()
      const card = detail.locator('[data-testid="task-card"]', { hasText: title })
      await expect(card.getByTestId('task-due')).toHaveText('due 2030-03-10 14:30:00Z')

      // what the server stored is that instant
      const events = await request.get('/api/v1/events?after=0&limit=5000', {
        headers: { authorization: `Bearer ${E2E_TOKENS.coordinator}` },
      })
      const body = (await events.json()) as { events: { type: string; payload: { title?: string; dueAt?: string } }[] }
      const created = body.events.find((e) => e.type === 'task.created' && e.payload.title === title)
      expect(Date.parse(created?.payload.dueAt ?? '')).toBe(Date.UTC(2030, 2, 10, 14, 30))

      // a replay window typed in UTC
      await page.getByTestId('open-replay').click()
      await expect(page.getByTestId('replay-bar')).toBeVisible()
      await expect(page.getByTestId('replay-bar')).toContainText('From (UTC)')
      const from = minute(Date.now()) - 40 * MIN
      const to = from + 30 * MIN
      await page.getByTestId('replay-from').fill(typed(from))
      await page.getByTestId('replay-to').fill(typed(from - MIN))
      await expect(page.getByTestId('replay-window-error')).toHaveText('To must be after From.')
      await page.getByTestId('replay-to').fill(typed(to))
      await expect(page.getByTestId('replay-window-error')).toHaveCount(0)
      const stateRead = page.waitForRequest((r) => r.url().includes('/api/v1/state?'))
      await page.getByTestId('replay-load').click()
      const at = new URL((await stateRead).url()).searchParams.get('at')
      expect(Date.parse(at ?? '')).toBe(from)
      await expect(page.getByTestId('replay-from')).toHaveValue(typed(from, true))
      await expect(page.getByTestId('replay-to')).toHaveValue(typed(to, true))
      await page.getByTestId('open-replay').click() // back to live

      // the handover since a UTC time
      await page.getByTestId('open-handover').click()
      await expect(page.getByTestId('handover-page')).toContainText('Since (UTC)')
      const since = minute(Date.now()) - 125 * MIN
      const sinceInput = page.getByTestId('handover-since')
      await expect(sinceInput).toHaveValue(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z$/)
      await sinceInput.fill('yesterday')
      await expect(page.getByTestId('handover-since-error')).toBeVisible()
      const briefRead = page.waitForRequest(
        (r) =>
          r.url().includes('/api/v1/handover?') &&
          Date.parse(new URL(r.url()).searchParams.get('since') ?? '') === since,
      )
      await sinceInput.fill(typed(since))
      await briefRead
      await expect(page.getByTestId('handover-since-shown')).toHaveText(typed(since))
      await expect(page.getByTestId('handover-brief')).toContainText(title)
      await page.screenshot({ path: `e2e/artifacts/time-utc-${zone.replace('/', '-')}.png` })
    })
  })
}

test.describe('a workstation whose clock runs an hour fast', () => {
  test('times ages, staleness and the replay window by the server’s clock', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    const hour = 3_600_000
    await postEvents(request, [
      {
        id: randomUUID(),
        type: 'network.registered',
        occurredAt: new Date().toISOString(),
        source: { organisation: 'cert-ee' },
        marking: { tlp: 'GREEN' },
        payload: {
          networkId: 'ee-clock-net',
          name: 'Estonia clock check',
          organisation: 'cert-ee',
          nation: 'EE',
          kind: 'national-cert',
          location: { lat: 58.38, lon: 26.72 },
        },
      },
    ])
    await page.clock.install({ time: new Date(Date.now() + hour) })
    await signIn(page, E2E_TOKENS.coordinator)
    // reported just now by the server's clock: not stale (by this machine's, an hour ago)
    await page.getByTestId('tab-networks').click()
    const row = page.locator('[data-testid="network-row"][data-network-id="ee-clock-net"]')
    await expect(row).toHaveAttribute('data-stale', 'false')
    await expect(row).not.toContainText('1 h')
    // the replay's default window is the server's last hour
    const stateRead = page.waitForRequest((r) => r.url().includes('/api/v1/state?'))
    await page.getByTestId('open-replay').click()
    const at = Date.parse(new URL((await stateRead).url()).searchParams.get('at') ?? '')
    expect(Math.abs(at - (Date.now() - hour))).toBeLessThan(2 * MIN)
    await page.getByTestId('open-replay').click() // back to live
  })
})

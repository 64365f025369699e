/**
 * The handover page reads like a brief: the summary first, naming the open incident that needs
 * attention, then sections with fields labelled in words (acknowledgements and comments
 * included), the marking banner top and bottom; the downloaded Markdown says the same.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { expect } from '@playwright/test'
import { E2E_TOKENS, incident, postEvents, signIn, test } from './fixtures.ts'

const run = randomUUID().slice(0, 6)
const UNACKED = { id: `inc-ho-${run}-a`, title: `Handover beacon on the ministry mail relay ${run}` }
const ACKED = { id: `inc-ho-${run}-b`, title: `Handover phishing wave at the port authority ${run}` }

test('the handover brief: the summary first with the incident that needs attention named, labelled fields, the same in Markdown', async ({
  page,
  request,
  outsideRequests: _outside,
}) => {
  // posted now, high and medium (no critical: the shared server's picture stays as the later specs expect it)
  await postEvents(request, [
    incident(UNACKED.id, UNACKED.title, 'GREEN', 'high'),
    incident(ACKED.id, ACKED.title, 'GREEN', 'medium'),
  ])
  for (const body of [
    { type: 'incident.acknowledge', incidentId: ACKED.id },
    { type: 'comment.post', incidentId: ACKED.id, body: `Blocked the sender domain ${run}` },
  ]) {
    const reply = await request.post('/api/v1/commands', {
      headers: { authorization: `Bearer ${E2E_TOKENS.memberEe2}` },
      data: body,
    })
    expect(reply.status(), JSON.stringify(body)).toBe(200)
  }

  await signIn(page, E2E_TOKENS.officer)
  await page.getByTestId('open-handover').click()
  await expect(page.getByTestId('handover-summary')).toBeVisible()
  // the incoming officer has just signed in: by default the brief covers the 8 hours before (the shift
  // handed over), which hold the reports, and says why
  await expect(page.getByTestId('handover-since-why')).toContainText('the shift before yours')
  await expect(page.getByTestId('handover-summary')).toContainText(UNACKED.title)
  const reply = page.waitForResponse((r) => r.url().includes('/api/v1/handover?'))
  await page.getByTestId('handover-8h').click()
  const json = (await (await reply).json()) as {
    summary: string
    until: string
    marking: { tlp: string; pap?: string }
  }
  const brief = page.getByTestId('handover-brief')

  // the summary comes first, before any section, and names the incident that needs attention
  const summary = brief.getByTestId('handover-summary')
  await expect(summary).toContainText(
    /^Summary\s*Since \d{4}-\d{2}-\d{2} \d{2}:\d{2}Z: \d+ incidents? reported, \d+ closed, \d+ escalated; \d+ open, of which \d+ critical or high not acknowledged\. Needs attention: /,
  )
  await expect(summary).toContainText(`“${UNACKED.title}” (high, new, owner cert-ee, not acknowledged, open `)
  await expect(summary).not.toContainText(ACKED.title)
  await expect(summary).toContainText(json.summary)
  const order = await brief.evaluate((el) =>
    [...el.querySelectorAll('section')].map((s) => s.getAttribute('data-key') ?? s.getAttribute('data-testid')),
  )
  expect(order).toEqual([
    'handover-summary',
    'attention',
    'open',
    'closed',
    'tasks',
    'done',
    'acknowledgements',
    'comments',
    'advisories',
  ])

  // fields labelled in words, the incident by its title, times in UTC with Z
  const attention = brief.locator('[data-testid="brief-section"][data-key="attention"]')
  await expect(attention.getByRole('heading')).toContainText('Needs attention')
  const item = attention.getByTestId('brief-item').filter({ hasText: UNACKED.title })
  await expect(item).toHaveCount(1)
  for (const text of [
    'Severity: high',
    'Status: new',
    'Owner: cert-ee',
    'Acknowledgement: not acknowledged',
    `Incident id: ${UNACKED.id}`,
  ])
    await expect(item).toContainText(text)
  await expect(item).toContainText(/Reported: \d{4}-\d{2}-\d{2} \d{2}:\d{2}Z by sensor-ee \(this shift\)/)
  await expect(attention).not.toContainText(ACKED.title)
  const acks = brief.locator('[data-testid="brief-section"][data-key="acknowledgements"]')
  await expect(acks.getByTestId('brief-item').filter({ hasText: ACKED.title })).toContainText(
    'Acknowledged by: mart (cert-ee)',
  )
  const comments = brief.locator('[data-testid="brief-section"][data-key="comments"]')
  const comment = comments.getByTestId('brief-item').filter({ hasText: ACKED.title })
  await expect(comment).toContainText('Author: mart (cert-ee)')
  await expect(comment).toContainText(`Blocked the sender domain ${run}`)
  // no raw field names, no machine times
  await expect(brief).not.toContainText(/incidentId|acknowledgedBy|previousSeverity|\d{2}:\d{2}:\d{2}\.\d{3}Z/)

  // the marking banner, top and bottom, as the JSON says
  const banners = brief.getByTestId('marking-banner')
  await expect(banners).toHaveCount(2)
  await expect(banners.first()).toHaveAttribute('data-tlp', json.marking.tlp)
  await expect(banners.last()).toHaveAttribute('data-position', 'bottom')
  await page.screenshot({ path: 'e2e/artifacts/handover-brief.png' })
  await comments.scrollIntoViewIfNeeded()
  await page.screenshot({ path: 'e2e/artifacts/handover-brief-comments.png' })

  // the Markdown says the same, in the same order, its marking line first and last
  const [download, asked] = await Promise.all([
    page.waitForEvent('download'),
    page.waitForRequest(
      (sent) => sent.url().includes('/api/v1/handover?') && sent.headers().accept === 'text/markdown',
    ),
    page.getByTestId('handover-download').click(),
  ])
  // the window the page shows, not one that ends when the button is pressed
  expect(new URL(asked.url()).searchParams.get('until')).toBe(json.until)
  // [M1] its name carries its marking, as an export's does
  const tag = `TLP-${json.marking.tlp}${json.marking.pap ? `.PAP-${json.marking.pap}` : ''}`
  expect(download.suggestedFilename()).toMatch(
    new RegExp(`^handover-since-\\d{4}-\\d\\d-\\d\\dT\\d{4}Z\\.${tag.replace('+', '\\+')}\\.md$`),
  )
  const markdown = readFileSync((await download.path())!, 'utf8')
  const lines = markdown.trimEnd().split('\n')
  expect(lines[0]).toMatch(new RegExp(`^\\*\\*TLP:${json.marking.tlp.replace('+', '\\+')}`))
  expect(lines.at(-1)).toBe(lines[0])
  expect(markdown.indexOf('## Summary')).toBeLessThan(markdown.indexOf('## Needs attention'))
  expect(markdown).toContain(`to ${json.until.slice(0, 10)} ${json.until.slice(11, 16)}Z (recorded time)`)
  expect(markdown).toContain(`“${UNACKED.title}” (high, new, owner cert-ee, not acknowledged, open `)
  expect(markdown).toMatch(
    new RegExp(
      `- \\*\\*${UNACKED.title}\\*\\*: Severity: high; Status: new; Owner: cert-ee; Acknowledgement: not acknowledged;`,
    ),
  )
  expect(markdown).toContain(`Acknowledged by: mart (cert-ee)`)
})

test('a page whose files are gone (the server updated under an open console) says so in its place; the console stays', async ({
  page,
  outsideRequests: _outside,
}) => {
  await signIn(page, E2E_TOKENS.officer)
  await expect(page.getByTestId('open-handover')).toBeVisible()
  // the handover's chunk, as a new build leaves the old one's name: 404
  await page.route(/\/assets\/Handover-[^/]*\.js$/, (route) => route.fulfill({ status: 404, body: 'not found' }))
  await page.getByTestId('open-handover').click()
  const notice = page.getByTestId('chunk-error')
  await expect(notice).toContainText('The handover could not be loaded: the server may have been updated')
  await expect(notice.getByTestId('chunk-reload')).toBeVisible()
  // the rest of the console is still there, and works: back to the picture
  await expect(page.getByTestId('open-handover')).toBeVisible()
  await page.unroute(/\/assets\/Handover-[^/]*\.js$/)
  await notice.getByTestId('chunk-reload').click()
  await expect(page.getByTestId('open-handover')).toBeVisible()
  await page.getByTestId('open-handover').click()
  await expect(page.getByTestId('handover-summary')).toBeVisible()
})

test("a map whose worker file is gone (the server updated under an open console) says so in the map's place", async ({
  page,
  outsideRequests: _outside,
}) => {
  // MapLibre's worker, as a new build leaves the old one's name: 404
  await page.route(/\/assets\/maplibre-gl-worker[^/]*$/, (route) => route.fulfill({ status: 404, body: 'not found' }))
  await signIn(page, E2E_TOKENS.officer)
  const notice = page.getByTestId('map').getByTestId('chunk-error')
  await expect(notice).toContainText('The map could not be loaded: the server may have been updated')
  await expect(notice.getByTestId('chunk-reload')).toBeVisible()
  // the rest of the console works meanwhile
  await expect(page.getByTestId('connection-status')).toHaveText('live')
  await page.unroute(/\/assets\/maplibre-gl-worker[^/]*$/)
  await notice.getByTestId('chunk-reload').click()
  await expect(page.getByTestId('map')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 })
  await expect(page.getByTestId('map').getByTestId('chunk-error')).toHaveCount(0)
})

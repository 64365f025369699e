import { randomUUID } from 'node:crypto'
import { expect, type Locator, type Page } from '@playwright/test'
import { E2E_TOKENS, incident, postEvents, test } from './fixtures.ts'

/** Sign in with a token and wait for the live picture (two consoles with a map each open slowly on a busy machine). */
async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`/#token=${token}`)
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 60_000 })
}

// unique to this run: the specs share one server, and others may post incidents too
const run = randomUUID().slice(0, 8)

/** The ids the triage queue shows, in order, with each one's report time from the picture. */
async function queueOrder(page: Page): Promise<{ id: string; reportedAt: number }[]> {
  return page.evaluate(() => {
    const state = window.__watchfloorStore!.getState().state
    return [...document.querySelectorAll<HTMLElement>('[data-testid="triage-item"]')].map((item) => {
      const id = item.dataset.incidentId!
      return { id, reportedAt: Date.parse(state.incidents.get(id)?.reportedAt ?? '') }
    })
  })
}

test('a coordinator sees a new incident in the triage queue, acknowledges it in one click, and a second console sees who has it open', async ({
  browser,
  request,
}) => {
  test.setTimeout(180_000)
  const incidentId = `inc-triage-${run}`
  await postEvents(request, [incident(incidentId, `Triage ${run}: beaconing from a ministry mail relay`)])

  const coordinatorContext = await browser.newContext()
  const officerContext = await browser.newContext()
  const coordinator = await coordinatorContext.newPage()
  const officer = await officerContext.newPage()
  await signIn(coordinator, E2E_TOKENS.coordinator)
  await signIn(officer, E2E_TOKENS.officer)

  // the officer, a second console, watches the queue
  await officer.getByTestId('tab-triage').click()
  const seenByOfficer = officer.locator(`[data-testid="triage-item"][data-incident-id="${incidentId}"]`)
  await expect(seenByOfficer).toBeVisible()
  await expect(seenByOfficer.getByTestId('triage-presence')).toHaveCount(0)

  // the coordinator: the tab says how many wait; the new one is there, oldest first
  await coordinator.getByTestId('tab-triage').click()
  const item = coordinator.locator(`[data-testid="triage-item"][data-incident-id="${incidentId}"]`)
  await expect(item).toBeVisible()
  await expect(coordinator.getByTestId('tab-triage-count')).toHaveText(
    (await coordinator.getByTestId('triage-count').textContent()) ?? '',
  )
  const order = await queueOrder(coordinator)
  expect(order.map((o) => o.id)).toContain(incidentId)
  for (let i = 1; i < order.length; i++) expect(order[i]!.reportedAt).toBeGreaterThanOrEqual(order[i - 1]!.reportedAt)
  await expect(item.getByTestId('triage-age')).toContainText('waiting')
  // how long it has waited keeps time with the clock, second by second
  const waited = async () => {
    const text = (await item.getByTestId('triage-age').textContent()) ?? ''
    const [, seconds] = /waiting (\d+)s/.exec(text) ?? []
    return seconds === undefined ? undefined : Number(seconds)
  }
  const first = await waited()
  expect(first).toBeLessThan(50) // posted moments ago: counted in seconds
  await coordinator.waitForTimeout(3000)
  expect(await waited()).toBeGreaterThanOrEqual(first! + 2)

  // the coordinator opens it: the officer's queue says who has it open
  await item.getByTestId('triage-open').click()
  await expect(coordinator.locator(`[data-testid="incident-detail"][data-incident-id="${incidentId}"]`)).toBeVisible()
  await expect(seenByOfficer.getByTestId('triage-presence')).toContainText('coordinator')
  // a console that opens later knows at once who already has it open
  await officer.reload()
  await expect(officer.getByTestId('connection-status')).toHaveText('live', { timeout: 60_000 })
  await officer.getByTestId('tab-triage').click()
  await expect(seenByOfficer.getByTestId('triage-presence')).toContainText('coordinator')
  await seenByOfficer.scrollIntoViewIfNeeded()
  await officer.screenshot({ path: 'e2e/artifacts/triage-presence.png' })

  // one click acknowledges it; it stays in place while the pointer is over the queue, marked, then leaves
  await item.getByTestId('triage-acknowledge').click()
  await expect(item.getByTestId('triage-acknowledged')).toContainText('coordinator')
  await expect(item).toHaveAttribute('data-taken', 'true')
  await coordinator.screenshot({ path: 'e2e/artifacts/triage-acknowledged.png' })
  // the Triage tab takes no other tab off the screen (they wrap)
  for (const name of ['incidents', 'triage', 'tasks', 'networks', 'events', 'bookmarks'])
    await expectInside(coordinator.getByTestId(`tab-${name}`), coordinator.locator('.sidebar'), `tab ${name}`)
  await coordinator.mouse.move(5, 5)
  await expect(item).toHaveCount(0)
  await expect(coordinator.locator('[data-testid="detail-acknowledged"]')).toContainText('coordinator')
  // and from the other console's queue too
  await expect(seenByOfficer).toHaveCount(0)

  // the incident list: the "acknowledged" filter shows it, "not acknowledged" does not
  await coordinator.getByTestId('tab-incidents').click()
  await coordinator.getByTestId('filter-text').fill(run)
  const row = coordinator.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`)
  await expect(row).toBeVisible()
  await coordinator.getByTestId('list-ack-acknowledged').click()
  await expect(row).toBeVisible()
  await expect(coordinator.locator('[data-testid="incident-row"][data-acknowledged="false"]')).toHaveCount(0)
  await coordinator.getByTestId('list-ack-unacknowledged').click()
  await expect(row).toHaveCount(0)
  await coordinator.getByTestId('list-ack-any').click()
  await expect(row).toBeVisible()

  await coordinatorContext.close()
  await officerContext.close()
})

/** The box of `inner` lies wholly inside the box of `outer` (to half a pixel). */
async function expectInside(inner: Locator, outer: Locator, what: string): Promise<void> {
  const a = (await inner.boundingBox())!
  const b = (await outer.boundingBox())!
  expect(a, what).not.toBeNull()
  expect(a.x, `${what}: left`).toBeGreaterThanOrEqual(b.x - 0.5)
  expect(a.y, `${what}: top`).toBeGreaterThanOrEqual(b.y - 0.5)
  expect(a.x + a.width, `${what}: right`).toBeLessThanOrEqual(b.x + b.width + 0.5)
  expect(a.y + a.height, `${what}: bottom`).toBeLessThanOrEqual(b.y + b.height + 0.5)
}

/** Nothing covers the middle of `badge` and no scrolling box cuts it: what is on screen there is the badge. */
async function expectFullyVisible(badge: Locator, what: string): Promise<void> {
  const clipped = await badge.evaluate((element) => {
    const box = element.getBoundingClientRect()
    const problems: string[] = []
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      const style = getComputedStyle(parent)
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue
      const p = parent.getBoundingClientRect()
      // the visible part of a scrolling box: its client area
      const right = p.left + parent.clientLeft + parent.clientWidth
      const bottom = p.top + parent.clientTop + parent.clientHeight
      if (box.left < p.left - 0.5 || box.right > right + 0.5 || box.top < p.top - 0.5 || box.bottom > bottom + 0.5)
        problems.push(`${parent.tagName}.${parent.className} cuts it`)
    }
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2)
    if (hit !== element && !element.contains(hit)) problems.push(`covered by ${hit?.tagName}.${hit?.className}`)
    return problems
  })
  expect(clipped, what).toEqual([])
}

test('a 200-character title takes at most two lines and its TLP and PAP badges are wholly visible', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000)
  const incidentId = `inc-triage-long-${run}`
  const words = `Triage ${run} coordinated intrusion across allied ministry mail relays with credential theft, lateral movement into the procurement network and staged exfiltration through a compromised partner VPN gateway`
  // no space at the end: the server trims titles
  const title = `${words.slice(0, 198).trimEnd()} …`.padEnd(200, '.')
  expect(title).toHaveLength(200)
  const event = incident(incidentId, title, 'AMBER+STRICT')
  await postEvents(request, [{ ...event, marking: { tlp: 'AMBER+STRICT', pap: 'AMBER' } }])
  // the officer is of cert-ee, the reporter: AMBER+STRICT reaches it
  await signIn(page, E2E_TOKENS.officer)
  await page.getByTestId('filter-text').fill(run)

  const row = page.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`)
  await expect(row).toBeVisible()
  await row.scrollIntoViewIfNeeded()
  const titleText = row.getByTestId('incident-title')
  const lines = await titleText.evaluate((element) => {
    const style = getComputedStyle(element)
    const lineHeight = Number.parseFloat(style.lineHeight) || Number.parseFloat(style.fontSize) * 1.2
    return {
      lines: element.getBoundingClientRect().height / lineHeight,
      // the whole title would need more room than it is given: it is clamped, not merely short
      clamped: element.scrollHeight > element.clientHeight + 1,
    }
  })
  expect(lines.lines).toBeGreaterThan(1.5) // it wraps (two lines)...
  expect(lines.lines).toBeLessThanOrEqual(2.05) // ...and no more
  expect(lines.clamped).toBe(true)
  await expect(titleText).toHaveAttribute('title', title)

  const cell = row.getByTestId('incident-tlp')
  for (const badge of [cell.getByTestId('tlp-badge'), cell.getByTestId('pap-badge')]) {
    await expect(badge).toBeVisible()
    await expectInside(badge, cell, 'badge in its cell')
    await expectInside(badge, row, 'badge in its row')
    await expectFullyVisible(badge, 'badge on screen')
  }
  await expect(cell.getByTestId('tlp-badge')).toHaveText('TLP:AMBER+STRICT')
  await expect(cell.getByTestId('pap-badge')).toHaveText('PAP:AMBER')
  await page.screenshot({ path: 'e2e/artifacts/triage-long-title.png' })

  // the same in the triage queue
  await page.getByTestId('tab-triage').click()
  const item = page.locator(`[data-testid="triage-item"][data-incident-id="${incidentId}"]`)
  await expect(item).toBeVisible()
  await item.scrollIntoViewIfNeeded() // other specs' incidents may wait above it
  const queued = await item.locator('.triage-title').evaluate((element) => {
    const style = getComputedStyle(element)
    return element.getBoundingClientRect().height / Number.parseFloat(style.lineHeight)
  })
  expect(queued).toBeLessThanOrEqual(2.05)
  await expectFullyVisible(item.getByTestId('tlp-badge'), 'badge in the queue')
  await expectFullyVisible(item.getByTestId('pap-badge'), 'PAP badge in the queue')
  await page.screenshot({ path: 'e2e/artifacts/triage-queue.png' })
})

test('a row keeps its place while the pointer is over the list, and a click opens the incident under it', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000)
  const tag = `Hover ${run}`
  await postEvents(request, [incident(`inc-hover-a-${run}`, `${tag} A: scanning of the border agency portal`)])
  await postEvents(request, [incident(`inc-hover-b-${run}`, `${tag} B: phishing of defence procurement staff`)])
  await signIn(page, E2E_TOKENS.coordinator)
  await page.getByTestId('filter-text').fill(tag)
  await page.getByTestId('sort-recency').click() // the newest on top: a new incident would push the others down
  const rows = page.getByTestId('incident-row')
  await expect(rows).toHaveCount(2)
  await expect(rows.first()).toHaveAttribute('data-incident-id', `inc-hover-b-${run}`)

  // the pointer rests on the second row, A
  const hovered = page.locator(`[data-testid="incident-row"][data-incident-id="inc-hover-a-${run}"]`)
  const before = (await hovered.boundingBox())!
  const x = before.x + before.width / 2
  const y = before.y + before.height / 2
  await page.mouse.move(x, y)
  await expect(page.getByTestId('incident-list')).toHaveAttribute('data-frozen', 'true')

  // a new incident arrives: counted, not inserted; the rows do not move
  const newId = `inc-hover-c-${run}`
  await postEvents(request, [incident(newId, `${tag} C: wiper on a logistics depot`)])
  await expect(page.getByTestId('incident-list-new')).toHaveAttribute('data-count', '1')
  await expect(page.getByTestId('incident-count')).toHaveText('3')
  await expect(page.locator(`[data-testid="incident-row"][data-incident-id="${newId}"]`)).toHaveCount(0)
  const after = (await hovered.boundingBox())!
  expect(after.y).toBe(before.y)
  await page.screenshot({ path: 'e2e/artifacts/triage-hover-frozen.png' })

  // the click lands on the row under the pointer
  await page.mouse.click(x, y)
  await expect(page.locator(`[data-testid="incident-detail"][data-incident-id="inc-hover-a-${run}"]`)).toBeVisible()

  // the pointer leaves: the new incident takes its place on top
  await page.mouse.move(5, 5)
  await expect(page.getByTestId('incident-list')).toHaveAttribute('data-frozen', 'false')
  await expect(page.getByTestId('incident-list-new')).toHaveCount(0)
  await expect(rows).toHaveCount(3)
  await expect(rows.first()).toHaveAttribute('data-incident-id', newId)

  // what the person asks for applies at once, even with the pointer resting on the rows
  await rows.first().hover()
  await expect(page.getByTestId('incident-list')).toHaveAttribute('data-frozen', 'true')
  await page.getByTestId('filter-text').fill(`${tag} C`)
  await expect(rows).toHaveCount(1)
  await expect(rows.first()).toHaveAttribute('data-incident-id', newId)
  // ... and the list, filtered, still holds still under the resting pointer
  await expect(page.getByTestId('incident-list')).toHaveAttribute('data-frozen', 'true')
})

/**
 * Room to work, as a coordinator on a 1280 x 800 screen sees it: the detail panel and the side
 * panel are resized by their separators (pointer and keyboard, remembered across a reload), the
 * side panel can take the whole width, long values wrap, the task board scrolls across with
 * readable cards and its scrollbar in view, and setting filters never moves the map.
 */
import { randomUUID } from 'node:crypto'
import { expect, type Locator } from '@playwright/test'
import { E2E_TOKENS, incident, networkRegistered, openIncident, postEvents, signIn, test } from './fixtures.ts'

const SHOTS = process.env.WATCHFLOOR_E2E_SHOTS ?? 'e2e/artifacts'

test.use({ viewport: { width: 1280, height: 800 } })

async function box(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await locator.boundingBox()
  expect(b, 'laid out').not.toBeNull()
  return b!
}

test('the detail and the side panel are resized, widened and remembered; the task board scrolls across', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000)
  const run = randomUUID().slice(0, 6)
  const incidentId = `inc-room-${run}`
  const longValue = `https://files.example.invalid/${'a1b2c3d4e5'.repeat(12)}`
  const report = incident(incidentId, `Wiper staged on the grid operator's historian ${run}`, 'GREEN', 'medium')
  ;(report.payload as Record<string, unknown>).summary = `Staged from ${longValue} and spread over SMB.`
  await postEvents(request, [report])
  // four tasks for the coordinator's team, with long titles
  for (const n of [1, 2, 3, 4]) {
    const reply = await request.post('/api/v1/commands', {
      headers: { authorization: `Bearer ${E2E_TOKENS.coordinator}` },
      data: {
        type: 'task.create',
        incidentId,
        title: `Task ${n} ${run}: collect the historian's memory image and the SMB session logs before reimaging`,
        assignee: { kind: 'team', organisation: 'alliance' },
      },
    })
    expect(reply.status(), await reply.text()).toBe(200)
  }

  await signIn(page, E2E_TOKENS.coordinator)
  await page.evaluate(() => localStorage.removeItem('watchfloor.layout'))
  await page.reload()
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
  await openIncident(page, incidentId)

  // long values wrap inside the detail: nothing runs out sideways
  const detail = page.getByTestId('incident-detail')
  await expect(detail).toContainText(longValue.slice(0, 40))
  const overflow = await detail.evaluate((el) => el.scrollWidth - el.clientWidth)
  const wide = await detail.evaluate((el) => {
    const right = el.getBoundingClientRect().right
    return [...el.querySelectorAll('*')]
      .filter((e) => e.getBoundingClientRect().right > right + 1)
      .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().width)}`)
      .slice(0, 8)
  })
  expect(wide, 'elements wider than the detail').toEqual([])
  expect(overflow).toBeLessThanOrEqual(0)

  // the detail's separator: the keyboard makes it taller, the tabs below get less
  const slot = page.locator('.detail-slot')
  const splitter = page.getByTestId('detail-splitter')
  const before = await box(slot)
  await splitter.focus()
  await splitter.press('Shift+ArrowUp')
  await splitter.press('Shift+ArrowUp')
  const smaller = await box(slot)
  expect(smaller.height).toBeLessThan(before.height - 100)
  await expect(splitter).toHaveAttribute('aria-valuenow', String(Math.round(smaller.height)))
  // and the pointer drags it down again
  const handle = await box(splitter)
  await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2)
  await page.mouse.down()
  await page.mouse.move(handle.x + handle.width / 2, handle.y + 120, { steps: 6 })
  await page.mouse.up()
  const dragged = await box(slot)
  expect(Math.abs(dragged.height - (smaller.height + 120))).toBeLessThanOrEqual(3)

  // the side panel's separator: dragged left, the panel grows and the map shrinks by as much
  const sidebar = page.getByTestId('sidebar')
  const map = page.locator('.map-panel')
  const sideBefore = await box(sidebar)
  const mapBefore = await box(map)
  const bar = await box(page.getByTestId('sidebar-splitter'))
  await page.mouse.move(bar.x + bar.width / 2, bar.y + 300)
  await page.mouse.down()
  await page.mouse.move(bar.x + bar.width / 2 - 200, bar.y + 300, { steps: 8 })
  await page.mouse.up()
  const sideAfter = await box(sidebar)
  expect(Math.abs(sideAfter.width - (sideBefore.width + 200))).toBeLessThanOrEqual(3)
  expect(Math.abs((await box(map)).width - (mapBefore.width - 200))).toBeLessThanOrEqual(3)

  // both sizes are remembered in this browser
  await page.reload()
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
  // the selection is in the address: the same incident is open again
  await expect(page.locator(`[data-testid="incident-detail"][data-incident-id="${incidentId}"]`)).toBeVisible()
  expect(Math.abs((await box(page.getByTestId('sidebar'))).width - sideAfter.width)).toBeLessThanOrEqual(2)
  expect(Math.abs((await box(page.locator('.detail-slot'))).height - dragged.height)).toBeLessThanOrEqual(2)

  // the task board: five status columns side by side, scrolled across; cards readable, scrollbar in view
  await page.getByTestId('tab-tasks').click()
  const board = page.getByTestId('task-board')
  const cards = board.locator('[data-testid="task-card"]').filter({ hasText: run })
  await expect(cards).toHaveCount(4)
  const across = await board.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }))
  expect(across.scroll).toBeGreaterThan(across.client)
  const boardBox = await box(board)
  expect(boardBox.y + boardBox.height).toBeLessThanOrEqual(800)
  for (const card of await cards.all()) {
    const c = await box(card)
    expect(c.width).toBeGreaterThanOrEqual(200) // a readable card, not a sliver
    expect(await card.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0)
  }
  await board.evaluate((el) => el.scrollBy({ left: el.scrollWidth }))
  await expect.poll(() => board.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0)
  await page.screenshot({ path: `${SHOTS}/room-task-board.png` })

  // a card moved on into a column scrolled out of view is followed there, not lost from sight
  await board.evaluate((el) => el.scrollTo({ left: 0 }))
  const first = cards.first()
  const taskId = await first.getAttribute('data-task-id')
  const moved = board.locator(`[data-testid="task-card"][data-task-id="${taskId}"]`)
  await first.getByTestId('task-accept').click()
  await expect(moved).toHaveAttribute('data-status', 'accepted')
  await moved.getByTestId('task-start').click()
  await expect(moved).toHaveAttribute('data-status', 'in_progress')
  // its column, the third, is scrolled into the board's view (the detail above leaves the column short:
  // across is what is checked)
  const wholeAcross = (el: Element) => {
    const card = el.getBoundingClientRect()
    const shown = el.closest('[data-testid="task-board"]')!.getBoundingClientRect()
    return card.left >= shown.left - 1 && card.right <= shown.right + 1
  }
  await expect.poll(() => moved.evaluate(wholeAcross)).toBe(true)
  expect(await board.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0)

  // the side panel over the whole width, and back to the map
  await page.getByTestId('sidebar-wide').click()
  await expect(page.getByTestId('sidebar-wide')).toHaveAttribute('aria-pressed', 'true')
  await expect(page.locator('.map-panel')).toBeHidden()
  expect((await box(page.getByTestId('sidebar'))).width).toBeGreaterThan(1200)
  await expect(board.locator('[data-testid="task-column"]').last()).toBeInViewport()
  await page.screenshot({ path: `${SHOTS}/room-wide.png` })
  await page.getByTestId('sidebar-wide').click()
  await expect(page.locator('.map-panel')).toBeVisible()

  // a double click gives the default sizes back
  await page.getByTestId('sidebar-splitter').dblclick()
  await page.getByTestId('detail-splitter').dblclick()
  expect(Math.abs((await box(page.getByTestId('sidebar'))).width - sideBefore.width)).toBeLessThanOrEqual(2)
  expect(Math.abs((await box(page.locator('.detail-slot'))).height - before.height)).toBeLessThanOrEqual(2)
})

test('setting filters never moves the map', async ({ page, request }) => {
  test.setTimeout(60_000)
  const run = randomUUID().slice(0, 6)
  const report = incident(`inc-room-f-${run}`, `Filter bar steadiness ${run}`, 'GREEN', 'low')
  report.payload.category = `a-very-long-category-name-for-the-select-${run}`
  await postEvents(request, [report])
  await signIn(page, E2E_TOKENS.coordinator)
  const map = page.locator('.map-panel')
  const bar = page.getByTestId('filter-bar')
  const at = async () => {
    const m = await box(map)
    const b = await box(bar)
    return { mapTop: Math.round(m.y), barHeight: Math.round(b.height) }
  }
  const start = await at()
  await page.getByTestId('filter-severity-high').click()
  expect(await at()).toEqual(start)
  await page.getByTestId('filter-category').selectOption(report.payload.category)
  expect(await at()).toEqual(start)
  await page.getByTestId('filter-status-new').click()
  await page.getByTestId('filter-tlp-AMBER').click()
  await page.getByTestId('filter-text').fill('steadiness')
  expect(await at()).toEqual(start)
  await page.getByTestId('filter-clear').click()
  expect(await at()).toEqual(start)
  await expect(page.getByTestId('filter-clear')).toHaveCount(0)
})

test('the networks and events tabs fit the side panel: a network by its short name, the full one in its title; every column in view', async ({
  page,
  request,
}) => {
  const run = randomUUID().slice(0, 6)
  const networkId = `lv-room-${run}`
  // a critical impact and counts of two digits, as a floor in an outbreak has them
  const affecting = (n: number, severity: string) => {
    const report = incident(`inc-room-${run}-${severity}-${n}`, `Room ${run}: worm on host ${n}`, 'GREEN', severity)
    return { ...report, payload: { ...report.payload, affectedNetworks: [networkId] } }
  }
  await postEvents(request, [
    networkRegistered({
      networkId,
      name: `National CERT network of the Republic of Latvia and its critical infrastructure ${run}`,
      shortName: `Latvia ${run}`,
      nation: 'LV',
      location: { lat: 56.95, lon: 24.1 },
    }),
    // its owner reports it compromised: the posture's longest word
    {
      id: randomUUID(),
      type: 'network.posture_changed',
      occurredAt: new Date().toISOString(),
      source: { organisation: 'cert-ee', network: networkId },
      marking: { tlp: 'GREEN' },
      payload: { networkId, posture: 'compromised', reason: 'Worm spreading' },
    },
    ...Array.from({ length: 12 }, (_, n) => affecting(n, 'critical')),
    ...Array.from({ length: 11 }, (_, n) => affecting(n, 'high')),
  ])
  await signIn(page, E2E_TOKENS.coordinator)
  await page.evaluate(() => localStorage.removeItem('watchfloor.layout'))
  await page.reload()
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
  await page.getByTestId('tab-networks').click()
  const row = page.locator(`[data-testid="network-row"][data-network-id="${networkId}"]`)
  await expect(row.getByTestId('network-name')).toHaveText(`Latvia ${run} LV`)
  await expect(row.getByTestId('network-name')).toHaveAttribute(
    'title',
    /^National CERT network of the Republic of Latvia/,
  )
  await expect(row.getByTestId('network-posture')).toHaveText('compromised')
  await expect(row.getByTestId('network-impact')).toHaveAttribute('data-impact', 'critical')
  await expect(row.locator('td.num').first()).toHaveText('12')
  // every column in view, none cut at the panel's edge
  const cutOff = (table: Locator) =>
    table.evaluate((element) => {
      const right = (element.closest('.tab-body') as HTMLElement).getBoundingClientRect().right
      return [...element.querySelectorAll('th, td')]
        .filter((cell) => cell.getBoundingClientRect().width > 0 && cell.getBoundingClientRect().right > right + 1)
        .map((cell) => cell.textContent)
    })
  expect(await cutOff(page.getByTestId('status-board'))).toEqual([])
  await page.screenshot({ path: `${SHOTS}/room-networks-1280.png` })

  // the events tab: the summary has room to be read (the seq, type and source head it), the marking is in view
  await page.getByTestId('tab-events').click()
  await page.getByTestId('events-mode-all').click()
  const reported = page.locator('[data-testid="event-row"][data-type="incident.reported"]').first()
  await expect(reported.locator('.summary-text')).toContainText(`Room ${run}`)
  await expect(reported.locator('.event-kind')).toContainText(/^\d+ · incident\.reported · cert-ee$/)
  expect((await box(reported.locator('td.summary'))).width).toBeGreaterThan(150)
  expect(await cutOff(page.getByTestId('event-list'))).toEqual([])
  await page.screenshot({ path: `${SHOTS}/room-events-1280.png` })

  // the longest marking, TLP:AMBER+STRICT with a PAP, is never cut short (an officer of cert-ee sees it)
  const strict = incident(`inc-room-${run}-strict`, `Room ${run}: strict`, 'AMBER+STRICT', 'low')
  await postEvents(request, [{ ...strict, marking: { tlp: 'AMBER+STRICT', pap: 'AMBER' } }])
  await signIn(page, E2E_TOKENS.officer)
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
  await page.getByTestId('tab-events').click()
  await page.getByTestId('events-mode-all').click()
  const marked = page.locator('[data-testid="event-row"]', { hasText: `Room ${run}: strict` }).first()
  await expect(marked.getByTestId('tlp-badge')).toHaveText('TLP:AMBER+STRICT')
  await expect(marked.getByTestId('pap-badge')).toHaveText('PAP:AMBER')
  const badges = await marked.locator('td.marking').evaluate((cell) => {
    const right = cell.getBoundingClientRect().right
    const panel = (cell.closest('.tab-body') as HTMLElement).getBoundingClientRect().right
    return [...cell.querySelectorAll('[data-testid$="-badge"]')].map((badge) => ({
      inCell: badge.getBoundingClientRect().right <= right + 0.5,
      inPanel: badge.getBoundingClientRect().right <= panel + 0.5,
      whole: badge.scrollWidth <= badge.clientWidth + 1,
    }))
  })
  expect(badges).toEqual([
    { inCell: true, inPanel: true, whole: true },
    { inCell: true, inPanel: true, whole: true },
  ])
  await page.getByTestId('sidebar').screenshot({ path: `${SHOTS}/room-events-marking-1280.png` })
})

test('the side panel’s tabs keep to one line at 1280 px with both counts shown (triage, overdue tasks) and the widen button', async ({
  page,
  request,
}) => {
  const run = randomUUID().slice(0, 6)
  const incidentId = `inc-room-tabs-${run}`
  await postEvents(request, [incident(incidentId, `Tabs ${run}: beaconing from the customs office`, 'GREEN', 'high')])
  // a task of the coordinator's team, due an hour ago: overdue
  const reply = await request.post('/api/v1/commands', {
    headers: { authorization: `Bearer ${E2E_TOKENS.coordinator}` },
    data: {
      type: 'task.create',
      incidentId,
      title: `Tabs ${run}: pull the proxy logs`,
      dueAt: new Date(Date.now() - 3_600_000).toISOString(),
      assignee: { kind: 'team', organisation: 'alliance' },
    },
  })
  expect(reply.status(), await reply.text()).toBe(200)
  await signIn(page, E2E_TOKENS.coordinator)
  await page.evaluate(() => localStorage.removeItem('watchfloor.layout'))
  await page.reload()
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
  await expect(page.getByTestId('tab-overdue')).toBeVisible()
  await expect(page.getByTestId('tab-triage')).toContainText(/\d/)
  const tabs = page.locator('.tabs [role="tab"], .tabs .tab')
  const tops = await tabs.evaluateAll((els) => els.map((el) => Math.round(el.getBoundingClientRect().top)))
  expect(tops.length).toBe(7)
  expect(new Set(tops).size, `tab tops ${tops.join(', ')}`).toBe(1)
  // and the tabs stay inside the panel
  const inside = await page
    .locator('.tabs')
    .evaluate((bar) =>
      [...bar.children].every((el) => el.getBoundingClientRect().right <= bar.getBoundingClientRect().right + 0.5),
    )
  expect(inside).toBe(true)
  await page.locator('.tabs').screenshot({ path: `${SHOTS}/room-tabs-1280.png` })
})

test('a replay on a 1280 x 800 screen: the map, shortened by the replay bar, starts with its legend and layers closed; the viewer’s choice then holds', async ({
  page,
}) => {
  await signIn(page, E2E_TOKENS.officer)
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
  const legend = page.getByTestId('map-legend')
  // live, the map has room for it
  expect((await box(page.getByTestId('map'))).height).toBeGreaterThan(300)
  await expect(legend).toHaveAttribute('open', '')
  await page.getByTestId('open-replay').click()
  await expect(page.getByTestId('replay-bar')).toBeVisible()
  await expect.poll(async () => (await box(page.getByTestId('map'))).height).toBeLessThan(300)
  await expect(legend).not.toHaveAttribute('open')
  // the layers close too: open, they covered the map's zoom buttons
  const layers = page.getByTestId('map-layers')
  await expect(layers).not.toHaveAttribute('open')
  const zoomIn = page.locator('.maplibregl-ctrl-zoom-in')
  await expect(zoomIn).toBeVisible()
  const [zoomBox, layersBox] = [await box(zoomIn), await box(layers)]
  expect(
    zoomBox.y >= layersBox.y + layersBox.height || zoomBox.x + zoomBox.width <= layersBox.x,
    'the zoom button is not under the layers',
  ).toBe(true)
  // opened by the viewer, it stays open, back in live too
  await legend.locator('summary').click()
  await expect(legend).toHaveAttribute('open', '')
  await page.getByTestId('open-replay').click()
  await expect(page.getByTestId('replay-bar')).toHaveCount(0)
  await expect(legend).toHaveAttribute('open', '')
  // live again, the map is tall: the layers, never chosen, are open again
  await expect(layers).toHaveAttribute('open', '')
  await page.getByTestId('open-replay').click()
  await expect(page.getByTestId('replay-bar')).toBeVisible()
  await expect(legend).toHaveAttribute('open', '')
  await page.screenshot({ path: `${SHOTS}/room-replay-1280.png` })
})

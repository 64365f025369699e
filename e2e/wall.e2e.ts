import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { expect, type Page } from '@playwright/test'
import { post, startServerProcess, TOKENS } from '../apps/server/test/harness.ts'
import { E2E_TOKENS, incident, postEvents, test } from './fixtures.ts'

const registered = (networkId: string, organisation: string, nation: string, lat: number, lon: number) => ({
  id: randomUUID(),
  type: 'network.registered',
  occurredAt: new Date().toISOString(),
  source: { organisation },
  marking: { tlp: 'GREEN' },
  payload: {
    networkId,
    name: `${nation} government network`,
    organisation,
    nation,
    kind: 'government',
    location: { lat, lon },
  },
})

/** Other test files post to the same server: the wall's incidents have a category of their own, and the walls filter on it. */
const CATEGORY = 'wall-e2e'

const at = (networkId: string, event: ReturnType<typeof incident>) => ({
  ...event,
  source: { organisation: 'cert-ee', network: networkId },
  payload: { ...event.payload, category: CATEGORY, affectedNetworks: [networkId] },
})

/** The wall incident closed by its organisation (which releases a pin). */
const closed = (incidentId: string) => ({
  id: randomUUID(),
  type: 'incident.updated',
  occurredAt: new Date().toISOString(),
  source: { organisation: 'cert-ee', network: 'ee-wall-net' },
  marking: { tlp: 'GREEN' },
  payload: { incidentId, status: 'closed' },
})

/** Every element with its own text, and its computed font size (px). */
async function textSizes(page: Page): Promise<{ text: string; size: number }[]> {
  return page.evaluate(`(() => {
    const out = []
    for (const el of document.querySelectorAll('body *')) {
      const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join(' ').trim()
      if (!own) continue
      const style = getComputedStyle(el)
      if (style.display === 'none' || style.visibility === 'hidden') continue
      out.push({ text: own.slice(0, 40), size: parseFloat(style.fontSize) })
    }
    return out
  })()`)
}

async function wallLive(page: Page): Promise<void> {
  await expect(page.getByTestId('wall')).toHaveAttribute('data-health', 'live', { timeout: 20_000 })
}

test.describe('the wall display', () => {
  test.use({ viewport: { width: 1920, height: 1080 } })

  test.beforeAll(async ({ request }) => {
    await postEvents(request, [
      {
        ...registered('ee-wall-net', 'cert-ee', 'EE', 59.437, 24.754),
        payload: { ...registered('ee-wall-net', 'cert-ee', 'EE', 59.437, 24.754).payload, shortName: 'Estonia gov' },
      },
      // more networks than a short screen's board holds
      ...Array.from({ length: 12 }, (_, i) =>
        registered(`ee-wall-net-${i + 2}`, 'cert-ee', 'EE', 58.4 + i * 0.05, 22.5 + i * 0.1),
      ),
    ])
  })

  test('renders the picture with no controls, legible from across the room', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    await postEvents(request, [
      at('ee-wall-net', incident('inc-wall-green', 'Scanning of the ministry perimeter', 'GREEN', 'medium')),
      at('ee-wall-net', incident('inc-wall-amber', 'Worm on the health board network', 'AMBER', 'high')),
    ])
    // a link made from a console's address carries its brushed range and sort: the wall is the live
    // picture all the same, its view only what the wall's own parameters say
    await page.goto(
      `/wall?tz=Europe/Tallinn&cat=${CATEGORY}&from=2020-01-01T00:00:00.000Z&to=2020-01-02T00:00:00.000Z&sort=tlp#token=${E2E_TOKENS.officer}`,
    )
    await wallLive(page)
    expect(page.url()).not.toContain('token')
    await expect(page.getByTestId('map')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })

    // no chrome, nothing to click or type into
    const controls = await page
      .locator('button, input, select, textarea, a[href], details, summary, [role="button"], [contenteditable="true"]')
      .count()
    expect(controls).toBe(0)
    await expect(page.locator('.maplibregl-ctrl')).toHaveCount(0)

    // the panels, the banners with the highest marking on screen, the clocks
    for (const id of ['wall-counters', 'wall-spotlight', 'wall-board', 'wall-ticker', 'map'])
      await expect(page.getByTestId(id)).toBeVisible()
    // at least the AMBER incident shown; the board and the ticker also show what other tests of this
    // server posted (their open incidents per network, their events), which may be stricter
    const top = page.getByTestId('wall-banner-top').getByTestId('wall-marking')
    await expect(top).toHaveText(/^TLP:(AMBER|AMBER\+STRICT|RED)$/)
    await expect(page.getByTestId('wall-banner-bottom').getByTestId('wall-marking').first()).toHaveText(
      (await top.textContent()) ?? '',
    )
    // the banner covers what the ticker's density strip counts, as drawn
    const levels = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED']
    const counted = await page.getByTestId('wall-ticker').getAttribute('data-tlp')
    expect(levels).toContain(counted)
    expect(levels.indexOf(((await top.textContent()) ?? '').replace('TLP:', ''))).toBeGreaterThanOrEqual(
      levels.indexOf(counted ?? 'RED'),
    )
    await expect(page.getByTestId('wall-clock')).toContainText(/\d{4}-\d\d-\d\d\s*\d\d:\d\d:\d\dZ/)
    await expect(page.getByTestId('wall-clock-zone')).toContainText(/\d\d:\d\d/)
    await expect(page.getByTestId('wall-count-high').locator('.wall-counter-value')).toHaveText('1')
    // a network by its short name, as the console says it (the full name in its title); one without, by its name
    const tile = page.locator('[data-testid="wall-network"][data-network-id="ee-wall-net"]')
    await expect(tile.locator('.wall-tile-name')).toHaveText('Estonia gov')
    await expect(tile.locator('.wall-tile-name')).toHaveAttribute('title', 'EE government network')
    await expect(
      page.locator('[data-testid="wall-network"][data-network-id="ee-wall-net-2"] .wall-tile-name'),
    ).toHaveText('EE government network')

    // legible at 5 m: no text under 18 px at 1080p
    const sizes = await textSizes(page)
    expect(sizes.length).toBeGreaterThan(20)
    expect(sizes.filter((s) => s.size < 18)).toEqual([])
    await page.screenshot({ path: 'e2e/artifacts/wall.png' })

    // the status board never cuts a tile off at its edge: what does not fit whole is counted in its
    // last cell ("+N more"), at any size of the screen
    const board = async () => {
      await page.waitForTimeout(300) // the board measures itself as the window changes
      return page.evaluate(`(() => {
        const board = document.querySelector('[data-testid="wall-board"]').getBoundingClientRect()
        const cells = [...document.querySelectorAll('[data-testid="wall-network"], [data-testid="wall-board-more"]')]
        const more = document.querySelector('[data-testid="wall-board-more"]')
        const panel = document.querySelector('[data-testid="wall-board"]')
        const style = getComputedStyle(panel)
        const room = panel.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom)
        return {
          tiles: cells.length - (more ? 1 : 0),
          more: more ? Number(more.getAttribute('data-more')) : 0,
          cut: cells.filter((c) => c.getBoundingClientRect().bottom > board.bottom + 0.5).length,
          row: room >= cells[0].offsetHeight,
        }
      })()`) as Promise<{ tiles: number; more: number; cut: number; row: boolean }>
    }
    const large = await board()
    expect(large.cut).toBe(0)
    // shorter and shorter screens: the board holds fewer rows, each whole, the rest counted
    let summed = 0
    for (let height = 800; height >= 600; height -= 25) {
      await page.setViewportSize({ width: 1920, height })
      const small = await board()
      if (!small.row) break // no room for one row: the screen is too short for a board at all
      expect(small.cut, `${height}px`).toBe(0)
      expect(small.tiles + small.more, `${height}px`).toBe(large.tiles + large.more)
      if (small.more === 0) continue
      summed++
      await expect(page.getByTestId('wall-board-more')).toHaveText(new RegExp(`^\\+${small.more} more`))
    }
    expect(summed).toBeGreaterThan(0)

    // a narrower screen: the banner's marking, title, level and clock stay whole and on screen; the
    // posture's reason (which grows with the picture) is what is cut short
    const banner = async (width: number) => {
      await page.setViewportSize({ width, height: 768 })
      return (await page.evaluate(`(() => {
        const box = (selector) => {
          const element = document.querySelector('[data-testid="wall-banner-top"] ' + selector)
          const rect = element.getBoundingClientRect()
          return { left: rect.left, right: rect.right, whole: element.scrollWidth <= element.clientWidth + 1 }
        }
        return {
          marking: box('.wall-tlp'),
          title: box('.wall-title'),
          level: box('.wall-level'),
          reason: box('.wall-posture-reason'),
          clock: box('.wall-clock'),
        }
      })()`)) as Record<
        'marking' | 'title' | 'level' | 'reason' | 'clock',
        { left: number; right: number; whole: boolean }
      >
    }
    // (at 1024 px with the strictest marking, the longest level and a second time zone, the title may
    // give way too: the suite's other tests decide what this wall shows)
    for (const width of [1280, 1024]) {
      const shown = await banner(width)
      for (const part of width === 1280
        ? (['marking', 'title', 'level', 'clock'] as const)
        : (['marking', 'level', 'clock'] as const)) {
        expect(shown[part].whole, `${part} at ${width}px`).toBe(true)
        expect(shown[part].right, `${part} at ${width}px`).toBeLessThanOrEqual(width)
      }
      expect(shown.title.right, `${width}px`).toBeLessThanOrEqual(shown.level.left)
      expect(shown.reason.right, `${width}px`).toBeLessThanOrEqual(shown.clock.left)
      if (width === 1024) expect(shown.reason.whole, 'the reason at 1024px').toBe(false)
    }
    // a title of 120 characters (the longest a preset may have) is cut short too, never the clock or the level
    await page.goto(
      `/wall?title=${encodeURIComponent('Critical and high incidents '.repeat(5).slice(0, 120))}#token=${E2E_TOKENS.officer}`,
    )
    await wallLive(page)
    const long = await banner(1024)
    for (const part of ['marking', 'level', 'clock'] as const) {
      expect(long[part].whole, `${part}, a long title`).toBe(true)
      expect(long[part].right, `${part}, a long title`).toBeLessThanOrEqual(1024)
    }
    // side by side, none over another
    expect(long.title.right, 'a long title').toBeLessThanOrEqual(long.level.left)
    expect(long.level.right, 'a long title').toBeLessThanOrEqual(long.clock.left)
    expect(long.title.whole, 'a long title').toBe(false)
    await page.locator('[data-testid="wall-banner-top"]').screenshot({ path: 'e2e/artifacts/wall-banner-1024.png' })
  })

  test('on a screen wider than 1080p its panels are drawn larger and its map frames the same region', async ({
    browser,
  }) => {
    // a 4K wall at a device scale of 1 would be twice; one and a half times keeps this quick
    const context = await browser.newContext({ viewport: { width: 2880, height: 1620 } })
    try {
      const wide = await context.newPage()
      await wide.goto(`/wall#token=${E2E_TOKENS.officer}`)
      await wallLive(wide)
      const wall = wide.getByTestId('wall')
      await expect(wall).toHaveAttribute('data-scale', '1.5')
      // the type as legible from the same distance: the side panels drawn 1.5 times, the map's frame kept
      const side = await wide.locator('.wall-side').evaluate((el) => getComputedStyle(el).zoom)
      expect(Number(side)).toBe(1.5)
      await expect
        .poll(() => wide.evaluate(() => window.__watchfloorMap?.getZoom() ?? null), { timeout: 30_000 })
        .toBeCloseTo(3.1 + Math.log2(1.5), 2)
      // made full screen from a window: drawn and framed again
      await wide.setViewportSize({ width: 1920, height: 1080 })
      await expect(wall).toHaveAttribute('data-scale', '1')
      await expect
        .poll(() => wide.evaluate(() => window.__watchfloorMap?.getZoom() ?? null), { timeout: 30_000 })
        .toBeCloseTo(3.1, 2)
    } finally {
      await context.close()
    }
  })

  test('a new critical incident pins the spotlight and flashes its location', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    await page.setViewportSize({ width: 1280, height: 720 }) // software WebGL draws a smaller map faster
    await page.goto(`/wall?rotate=3&pin=120&cat=${CATEGORY}#token=${E2E_TOKENS.officer}`)
    await wallLive(page)
    await expect(page.getByTestId('map')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
    await expect(page.getByTestId('wall-spotlight')).toHaveAttribute('data-pinned', 'false')

    await postEvents(request, [
      at('ee-wall-net', incident('inc-wall-critical', 'Destructive wiper on the energy grid', 'GREEN', 'critical')),
    ])
    const spotlight = page.getByTestId('wall-spotlight')
    await expect(spotlight).toHaveAttribute('data-pinned', 'true')
    await expect(spotlight).toHaveAttribute('data-incident-id', 'inc-wall-critical')
    await expect(page.getByTestId('wall-pin')).toContainText('NEW CRITICAL')
    await expect(page.getByTestId('map-flash')).toHaveAttribute('data-incident-id', 'inc-wall-critical')
    // rotation (every 3 s) does not move a pinned spotlight
    await page.waitForTimeout(4000)
    await expect(spotlight).toHaveAttribute('data-incident-id', 'inc-wall-critical')
    await page.screenshot({ path: 'e2e/artifacts/wall-pinned.png' })

    // the WebGL context is lost (a GPU reset): the map rebuilds itself and the flash comes back
    await page.evaluate(`(() => {
      const gl = window.__watchfloorMap.getCanvas().getContext('webgl2')
      const lose = gl.getExtension('WEBGL_lose_context')
      lose.loseContext()
      setTimeout(() => lose.restoreContext(), 500)
    })()`)
    await expect(page.getByTestId('map')).toHaveAttribute('data-ready', 'false')
    await expect(page.getByTestId('map')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
    await expect(page.getByTestId('map-flash')).toHaveAttribute('data-incident-id', 'inc-wall-critical')

    // closing it releases the pin
    await postEvents(request, [closed('inc-wall-critical')])
    await expect(spotlight).toHaveAttribute('data-pinned', 'false')
    await expect(page.getByTestId('map-flash')).toHaveCount(0)
  })
})

test.describe('a wall on a kiosk whose clock runs an hour fast', () => {
  test.use({ viewport: { width: 1280, height: 720 } })

  test('shows the server’s time and still pins a new critical incident', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    const hour = 3_600_000
    await page.clock.install({ time: new Date(Date.now() + hour) })
    await page.goto(`/wall?rotate=3&pin=120&cat=${CATEGORY}#token=${E2E_TOKENS.officer}`)
    await wallLive(page)
    // once a heartbeat told the server's time, the clock shows it, not the kiosk's
    const shown = async () => {
      const text = (await page.getByTestId('wall-clock').textContent()) ?? ''
      const [, date, time] = /(\d{4}-\d{2}-\d{2})(\d{2}:\d{2}:\d{2})Z/.exec(text) ?? []
      return date === undefined ? Number.NaN : Date.parse(`${date}T${time}Z`)
    }
    await expect.poll(async () => Math.abs((await shown()) - Date.now()), { timeout: 15_000 }).toBeLessThan(60_000)
    // the attack arcs fade by the server's now too, not by the kiosk's (which would fade them all)
    const fadeNow = () =>
      page.evaluate(() => {
        const opacity = window.__watchfloorMap?.getPaintProperty('attack-arcs', 'line-opacity') as unknown[] | undefined
        return typeof opacity?.[5] === 'number' ? opacity[5] : Number.NaN
      })
    await expect.poll(async () => Math.abs((await fadeNow()) - Date.now()), { timeout: 15_000 }).toBeLessThan(60_000)
    // a critical incident the server records now: within the pin time on the server's clock
    await postEvents(request, [
      at('ee-wall-net', incident('inc-wall-kiosk', 'Wiper on a kiosk’s network', 'GREEN', 'critical')),
    ])
    const spotlight = page.getByTestId('wall-spotlight')
    await expect(spotlight).toHaveAttribute('data-pinned', 'true')
    await expect(spotlight).toHaveAttribute('data-incident-id', 'inc-wall-kiosk')
    await postEvents(request, [closed('inc-wall-kiosk')])
    await expect(spotlight).toHaveAttribute('data-pinned', 'false')
  })
})

test.describe('the wall with a display token', () => {
  test.use({ viewport: { width: 1280, height: 720 } })

  test('is held to its preset and marking ceiling, and says "access revoked" once revoked', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    const made = await request.post('/api/v1/tokens', {
      headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
      data: {
        label: 'e2e wall',
        kind: 'display',
        service: { user: 'wall-e2e', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'] },
        preset: 'critical',
        tlpCeiling: 'GREEN',
      },
    })
    expect(made.status()).toBe(201)
    const { token, secret } = (await made.json()) as { token: { id: string }; secret: string }
    await postEvents(request, [
      at('ee-wall-net', incident('inc-display-green', 'Shared widely: defacement wave', 'GREEN', 'high')),
      at('ee-wall-net', incident('inc-display-amber', 'Above the ceiling: data theft', 'AMBER', 'critical')),
    ])

    // the link asks for another preset and other filters: the token's preset wins
    await page.goto(`/wall?preset=overview&sev=low&panels=map#token=${secret}`)
    await wallLive(page)
    const wall = page.getByTestId('wall')
    await expect(wall).toHaveAttribute('data-preset', 'critical')
    await expect(page.getByTestId('wall-spotlight')).toBeVisible()
    // nothing above GREEN reaches it, so nothing above GREEN is on screen
    await expect(page.getByTestId('wall-banner-top').getByTestId('wall-marking')).toHaveText('TLP:GREEN')
    const seen = (await page.evaluate(
      'Object.fromEntries([...window.__watchfloorStore.getState().state.incidents.values()].map((i) => [i.incidentId, i.marking.tlp]))',
    )) as Record<string, string>
    expect(seen['inc-display-green']).toBe('GREEN')
    expect(seen['inc-display-amber']).toBeUndefined()
    expect(Object.values(seen).filter((tlp) => tlp !== 'CLEAR' && tlp !== 'GREEN')).toEqual([])

    const revoked = await request.delete(`/api/v1/tokens/${token.id}`, {
      headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
    })
    expect(revoked.status()).toBe(200)
    await expect(page.getByTestId('wall-revoked')).toBeVisible({ timeout: 10_000 })
    await expect(page.getByTestId('wall-revoked')).toContainText('ACCESS REVOKED')
    await expect(page.getByTestId('wall')).toHaveCount(0)
    expect(await page.evaluate('window.__watchfloorStore.getState().state.incidents.size')).toBe(0)
    await page.screenshot({ path: 'e2e/artifacts/wall-revoked.png' })

    // and it stays so after a reload
    await page.reload()
    await expect(page.getByTestId('wall-revoked')).toBeVisible()
  })

  test('of a disabled account says "access suspended" and comes back once enabled; revoked meanwhile, it stops asking', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    test.setTimeout(120_000)
    const admin = { authorization: `Bearer ${E2E_TOKENS.admin}` }
    const username = `e2e-wall-owner-${randomUUID().slice(0, 8)}`
    const account = await request.post('/api/v1/accounts', {
      headers: admin,
      data: { username, organisation: 'cert-ee', roles: ['watch_officer'], password: 'a wall owner passphrase' },
    })
    expect(account.status(), await account.text()).toBe(201)
    const issue = async () => {
      const made = await request.post('/api/v1/tokens', {
        headers: admin,
        data: { label: 'e2e suspended wall', kind: 'display', owner: username, preset: 'overview' },
      })
      expect(made.status(), await made.text()).toBe(201)
      return (await made.json()) as { token: { id: string }; secret: string }
    }
    const setDisabled = async (disabled: boolean) =>
      expect(
        (await request.patch(`/api/v1/accounts/${username}`, { headers: admin, data: { disabled } })).status(),
      ).toBe(200)

    // disabled: suspended, and back by itself once enabled again (its first ask is 5 s after)
    const first = await issue()
    await page.goto(`/wall#token=${first.secret}`)
    await wallLive(page)
    await setDisabled(true)
    await expect(page.getByTestId('wall-revoked')).toContainText('ACCESS SUSPENDED', { timeout: 10_000 })
    await setDisabled(false)
    await wallLive(page)

    // disabled, then its token revoked: the next ask is told so, the wall says revoked and asks no more
    await setDisabled(true)
    await expect(page.getByTestId('wall-revoked')).toContainText('ACCESS SUSPENDED', { timeout: 10_000 })
    const asked: string[] = []
    page.on('request', (sent) => {
      if (new URL(sent.url()).pathname.startsWith('/api/')) asked.push(sent.url())
    })
    expect((await request.delete(`/api/v1/tokens/${first.token.id}`, { headers: admin })).status()).toBe(200)
    await expect(page.getByTestId('wall-revoked')).toContainText('ACCESS REVOKED', { timeout: 10_000 })
    const after = asked.length
    await setDisabled(false)
    await page.waitForTimeout(17_000) // past the next two asks a suspended wall would make (15 s, then 30 s)
    expect(asked.slice(after)).toEqual([])
    await expect(page.getByTestId('wall-revoked')).toContainText('ACCESS REVOKED')
  })
})

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

test.describe('the wall on a failing connection', () => {
  test.use({ viewport: { width: 1920, height: 1080 } })

  test('says loudly when the server is gone or silent, then catches up exactly by itself', async ({ page }) => {
    test.setTimeout(120_000)
    const port = await freePort()
    const env = { WATCHFLOOR_PORT: String(port), WATCHFLOOR_HEARTBEAT_MS: '1000' }
    let server = await startServerProcess({ env })
    const dataDir = server.dataDir
    try {
      const first = await post(server.url, TOKENS.sensorEe, {
        events: [incident('inc-outage-1', 'Before the outage', 'GREEN', 'high')],
      })
      expect(first.status).toBe(201)
      // a 3 s heartbeat window; the server beats every second
      await page.goto(`${server.url}/wall?heartbeat=3&panels=counters,spotlight,board#token=${TOKENS.viewerEe}`)
      await wallLive(page)
      await expect(page.getByTestId('wall-count-high').locator('.wall-counter-value')).toHaveText('1')
      await expect(page.getByTestId('wall-connection-lost')).toHaveCount(0)

      // 1. the server freezes: the socket stays open but no heartbeat comes
      process.kill(server.child.pid!, 'SIGSTOP')
      const frozenAt = Date.now()
      await expect(page.getByTestId('wall-connection-lost')).toBeVisible({ timeout: 6_000 })
      expect(Date.now() - frozenAt).toBeLessThan(6_000)
      await expect(page.getByTestId('wall')).toHaveAttribute('data-health', 'lost')
      process.kill(server.child.pid!, 'SIGCONT')
      await wallLive(page)
      await expect(page.getByTestId('wall-connection-lost')).toHaveCount(0)

      // 2. the tab is frozen as a hidden tab may be (no timers, no rendering), then shown again
      const cdp = await page.context().newCDPSession(page)
      await cdp.send('Page.setWebLifecycleState', { state: 'frozen' })
      const whileFrozen = await post(server.url, TOKENS.sensorEe, {
        events: [incident('inc-outage-frozen', 'Reported while the tab was frozen', 'GREEN', 'medium')],
      })
      expect(whileFrozen.status).toBe(201)
      await new Promise((resolve) => setTimeout(resolve, 4_000))
      await cdp.send('Page.setWebLifecycleState', { state: 'active' })
      await wallLive(page)
      await expect(page.getByTestId('wall-count-medium').locator('.wall-counter-value')).toHaveText('1')

      // 3. the server dies
      await server.kill9()
      const killedAt = Date.now()
      const banner = page.getByTestId('wall-connection-lost')
      await expect(banner).toBeVisible({ timeout: 5_000 })
      expect(Date.now() - killedAt).toBeLessThan(5_000)
      await expect(banner).toContainText('CONNECTION LOST')
      // the last update is frozen, not ticking
      const frozen = await page.getByTestId('wall-last-update').textContent()
      expect(frozen).toMatch(/^\d\d:\d\d:\d\dZ$/)
      await page.waitForTimeout(2_500)
      await expect(page.getByTestId('wall-last-update')).toHaveText(frozen!)
      await page.screenshot({ path: 'e2e/artifacts/wall-connection-lost.png' })

      // 4. it comes back on the same port and data; events arrive before the wall reconnects
      server = await startServerProcess({ dataDir, env })
      const meanwhile = await post(server.url, TOKENS.sensorEe, {
        events: [
          incident('inc-outage-2', 'Reported while the wall was away', 'GREEN', 'high'),
          incident('inc-outage-3', 'Also reported while away', 'GREEN', 'critical'),
        ],
      })
      expect(meanwhile.status).toBe(201)
      const head = Math.max(...(meanwhile.json.results ?? []).map((r) => r.seq))
      await wallLive(page)
      await expect(page.getByTestId('wall-connection-lost')).toHaveCount(0)
      await expect(page.getByTestId('wall-count-high').locator('.wall-counter-value')).toHaveText('2')
      await expect(page.getByTestId('wall-count-critical').locator('.wall-counter-value')).toHaveText('1')
      await expect(page.getByTestId('wall')).toHaveAttribute('data-seq', String(head))
    } finally {
      try {
        process.kill(server.child.pid!, 'SIGCONT')
      } catch {}
      await server.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

import { randomUUID } from 'node:crypto'
import { expect } from '@playwright/test'
import { E2E_TOKENS, openIncident, postEvents, signIn, test } from './fixtures.ts'

const MIN = 60_000
const iso = (ms: number) => new Date(ms).toISOString()
// hours before the replay spec's window (the last half hour), so its steps never meet these events
const T = Math.floor((Date.now() - 3 * 60 * MIN) / 1000) * 1000
const run = randomUUID().slice(0, 6)
const INCIDENT = `inc-mk-${run}`

const event = (type: string, occurredAt: number, payload: object, tlp = 'GREEN') => ({
  id: randomUUID(),
  type,
  occurredAt: iso(occurredAt),
  source: { organisation: 'cert-ee', network: 'ee-gov' },
  marking: { tlp },
  payload,
})

test.describe('a document carries its marking; a replay is marked as one', () => {
  test.beforeAll(async ({ request }) => {
    await postEvents(request, [
      event('incident.reported', T, {
        incidentId: INCIDENT,
        title: 'Green incident, amber advice',
        severity: 'medium',
        category: 'malware',
        affectedNetworks: ['ee-gov'],
      }),
      event('incident.updated', T + 2 * MIN, { incidentId: INCIDENT, severity: 'critical' }),
      event(
        'advisory.published',
        T + 5 * MIN,
        { advisoryId: `adv-mk-${run}`, title: 'Amber advice', body: 'Patch now', incidentId: INCIDENT },
        'AMBER',
      ),
      event('incident.updated', T + 10 * MIN, { incidentId: INCIDENT, severity: 'low' }),
    ])
  })

  test('[M1] a report listing an AMBER advisory on a GREEN incident shows TLP:AMBER top and bottom', async ({
    page,
    outsideRequests: _outside,
  }) => {
    await signIn(page, E2E_TOKENS.officer)
    await page.goto(`/?report=${INCIDENT}`)
    const report = page.getByTestId('report')
    await expect(report).toBeVisible({ timeout: 15_000 })
    await expect(page.getByTestId('report-advisories')).toContainText('Amber advice')
    const banners = report.getByTestId('marking-banner')
    await expect(banners).toHaveCount(2)
    for (const [index, position] of ['top', 'bottom'].entries()) {
      const banner = banners.nth(index)
      await expect(banner).toHaveAttribute('data-position', position)
      await expect(banner).toHaveAttribute('data-tlp', 'AMBER')
      await expect(banner).toHaveText('TLP:AMBER')
    }
    // the banners are the first and last thing of the report
    const edges = await report.evaluate((el) => [
      el.firstElementChild?.getAttribute('data-position'),
      el.lastElementChild?.getAttribute('data-position'),
    ])
    expect(edges).toEqual(['top', 'bottom'])
    // printed, the marking heads and foots every page: the page's margins take it from the root
    // (a printed page between the first and the last had none)
    const printed = () =>
      page.evaluate(() => ({
        marking: getComputedStyle(document.documentElement).getPropertyValue('--print-marking'),
        colour: getComputedStyle(document.documentElement).getPropertyValue('--print-marking-colour'),
        margins: [...document.styleSheets]
          .flatMap((sheet) => [...sheet.cssRules])
          .filter((rule) => rule instanceof CSSPageRule)
          .map((rule) => rule.cssText)
          .filter(
            (text) =>
              /@top-center[^}]*var\(--print-marking/.test(text) && /@bottom-center[^}]*var\(--print-marking/.test(text),
          ).length,
      }))
    expect(await printed()).toEqual({ marking: '"TLP:AMBER"', colour: '#FFC000', margins: 1 })
    // leaving the report (in the page, not a new document) takes it away
    await page.getByTestId('report-close').click()
    await expect(page.getByTestId('report-page')).toHaveCount(0)
    expect((await printed()).marking).toBe('')
    await page.goto(`/?report=${INCIDENT}`)
    await expect(report).toBeVisible({ timeout: 15_000 })
    // peak and final severity in the headline
    await expect(page.getByTestId('report-peak')).toHaveAttribute('data-severity', 'critical')
    await expect(page.getByTestId('report-final')).toHaveAttribute('data-severity', 'low')
  })

  test('[M1] a GREEN report whose timeline names a linked incident re-reported AMBER under a new title is TLP:AMBER', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    const own = `inc-mk-link-${run}`
    const other = `inc-mk-other-${run}`
    const reported = (incidentId: string, title: string, tlp: string) =>
      event(
        'incident.reported',
        T + MIN,
        { incidentId, title, severity: 'medium', category: 'malware', affectedNetworks: ['ee-gov'] },
        tlp,
      )
    await postEvents(request, [
      reported(own, 'Green incident, linked', 'GREEN'),
      reported(other, 'Green other', 'GREEN'),
    ])
    const link = await request.post('/api/v1/commands', {
      headers: { authorization: `Bearer ${E2E_TOKENS.coordinator}` },
      data: { type: 'incident.link', incidentId: own, otherIncidentId: other, relation: 'related' },
    })
    expect(link.status()).toBe(200)
    await postEvents(request, [reported(other, 'Amber title of the other', 'AMBER')])
    await signIn(page, E2E_TOKENS.officer)
    await page.goto(`/?report=${own}`)
    const report = page.getByTestId('report')
    await expect(report).toBeVisible({ timeout: 15_000 })
    await expect(page.getByTestId('report-timeline')).toContainText('related "Amber title of the other"')
    const banners = report.getByTestId('marking-banner')
    await expect(banners).toHaveCount(2)
    for (const banner of [banners.first(), banners.last()]) await expect(banner).toHaveAttribute('data-tlp', 'AMBER')
    // the detail panel's history: the line naming the AMBER title carries its own badge
    await signIn(page, E2E_TOKENS.officer)
    await openIncident(page, own)
    const line = page.getByTestId('detail-history').locator('li', { hasText: 'Amber title of the other' })
    await expect(line).toHaveAttribute('data-tlp', 'AMBER')
    await expect(line.getByTestId('tlp-badge')).toHaveText('TLP:AMBER')
  })

  test('[M1] the history names networks by their short name; a run of observations on an AMBER network carries TLP:AMBER', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    const networkId = `ee-hist-${run}`
    const own = `inc-mk-net-${run}`
    await postEvents(request, [
      {
        ...event(
          'network.registered',
          T,
          {
            networkId,
            name: `Estonian energy distribution network ${run}`,
            shortName: `EE energy ${run}`,
            organisation: 'cert-ee',
            nation: 'EE',
            kind: 'industry',
            location: { lat: 59.4, lon: 24.7 },
          },
          'AMBER',
        ),
        source: { organisation: 'cert-ee' },
      },
      event('incident.reported', T + MIN, {
        incidentId: own,
        title: 'Green incident on an amber network',
        severity: 'medium',
        category: 'malware',
        affectedNetworks: ['ee-gov'],
      }),
      event('incident.observation', T + 2 * MIN, { incidentId: own, networkId, count: 3, indicator: '198.51.100.7' }),
      event('incident.observation', T + 3 * MIN, { incidentId: own, networkId, count: 4, indicator: '198.51.100.7' }),
    ])
    await signIn(page, E2E_TOKENS.officer)
    await openIncident(page, own)
    const runs = page.getByTestId('detail-history').getByTestId('history-observations')
    await expect(runs).toHaveCount(1)
    await expect(runs).toContainText(`on EE energy ${run}`)
    await expect(runs).not.toContainText(`on ${networkId}`)
    await expect(runs).toHaveAttribute('data-tlp', 'AMBER')
    await expect(runs.getByTestId('tlp-badge')).toHaveText('TLP:AMBER')
    // each report of the run names the network the same way
    await runs.getByTestId('history-observations-toggle').click()
    await expect(runs.locator('.history-run-events li').first()).toContainText(`on EE energy ${run}`)
  })

  test('[M1] a map snapshot is marked with what the map drew, and the banner counts it', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    test.setTimeout(120_000)
    const green = `inc-mk-map-${run}`
    const now = Date.now()
    await postEvents(request, [
      event('incident.reported', now - MIN, {
        incidentId: green,
        title: 'Green incident, strict neighbour on the map',
        severity: 'medium',
        category: 'malware',
        affectedNetworks: ['ee-gov'],
      }),
      event(
        'incident.reported',
        now - MIN,
        {
          incidentId: `inc-mk-strict-${run}`,
          title: 'Strict incident on the same map',
          severity: 'medium',
          category: 'malware',
          affectedNetworks: ['ee-gov'],
        },
        'AMBER+STRICT',
      ),
    ])
    await signIn(page, E2E_TOKENS.officer)
    await expect(page.getByTestId('map')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
    await openIncident(page, green)
    await page.getByTestId('open-report').click() // takes a picture of the map first
    const report = page.getByTestId('report')
    await expect(report).toBeVisible({ timeout: 15_000 })
    const image = report.getByTestId('report-snapshot')
    await expect(image).toHaveCount(1)
    // the report lists only GREEN things; its map drew the AMBER+STRICT incident (and whatever else is open)
    await expect(image).toHaveAttribute('data-tlp', /^(AMBER\+STRICT|RED)$/)
    const tlp = (await image.getAttribute('data-tlp'))!
    const banners = report.getByTestId('marking-banner')
    await expect(banners).toHaveCount(2)
    for (const banner of [banners.first(), banners.last()]) await expect(banner).toHaveAttribute('data-tlp', tlp)
  })

  test('[M1] the handover brief carries its marking top and bottom, as its JSON says', async ({
    page,
    outsideRequests: _outside,
  }) => {
    await signIn(page, E2E_TOKENS.officer)
    const reply = page.waitForResponse((r) => r.url().includes('/api/v1/handover?'))
    await page.getByTestId('open-handover').click()
    const brief = (await (await reply).json()) as { tlp: string; marking: { tlp: string } }
    expect(brief.marking.tlp).toBe(brief.tlp)
    const banners = page.getByTestId('handover-brief').getByTestId('marking-banner')
    await expect(banners).toHaveCount(2)
    await expect(banners.first()).toHaveAttribute('data-position', 'top')
    await expect(banners.last()).toHaveAttribute('data-position', 'bottom')
    for (const banner of [banners.first(), banners.last()])
      await expect(banner).toHaveAttribute('data-tlp', brief.marking.tlp)
  })

  test('during a replay the header and the timeline say REPLAY, never live', async ({
    page,
    outsideRequests: _outside,
  }) => {
    await signIn(page, E2E_TOKENS.officer)
    await expect(page.getByTestId('timeline-live')).toHaveText('● Live')
    await expect(page.getByTestId('connection-status')).toHaveAttribute('data-mode', 'live')

    const at = T + 5 * MIN
    const query = `mode=replay&clock=recorded&window=${iso(T - MIN)}/${iso(Date.now() + MIN)}&at=${iso(at)}`
    await page.goto(`/?${query}`)
    await expect(page.getByTestId('replay-play')).toBeEnabled({ timeout: 15_000 })
    const pill = page.getByTestId('connection-status')
    await expect(pill).toHaveAttribute('data-mode', 'replay')
    await expect(pill).toHaveText(/^REPLAY \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/)
    await expect(pill).not.toContainText('live')
    const stamp = (await page.getByTestId('connection-replay-at').textContent()) ?? ''
    expect(Date.parse(stamp.replace(' ', 'T'))).toBe(Math.floor(at / 1000) * 1000)
    const follow = page.getByTestId('timeline-live')
    await expect(follow).toHaveAttribute('data-mode', 'replay')
    await expect(follow).toContainText('REPLAY')
    await expect(follow).not.toContainText('Live')

    // back to live: live again, in both places
    await page.getByTestId('replay-close').click()
    await expect(pill).toHaveAttribute('data-mode', 'live')
    await expect(pill).toHaveText('live')
    await expect(follow).toHaveAttribute('data-mode', 'live')
  })
})

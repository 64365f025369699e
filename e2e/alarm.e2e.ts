import { randomUUID } from 'node:crypto'
import { expect } from '@playwright/test'
import { E2E_TOKENS, incident, postEvents, signIn, test } from './fixtures.ts'

const NETWORK = 'ee-alarm-net'

/** A network of cert-ee on the map (incidents sit on the first network they affect). */
const network = {
  id: randomUUID(),
  type: 'network.registered',
  occurredAt: new Date().toISOString(),
  source: { organisation: 'cert-ee' },
  marking: { tlp: 'GREEN' },
  payload: {
    networkId: NETWORK,
    name: 'Estonian energy grid',
    organisation: 'cert-ee',
    nation: 'EE',
    kind: 'national-cert',
    location: { lat: 59.437, lon: 24.754 },
  },
}

/** An incident on that network. */
const onNetwork = (incidentId: string, title: string, severity: string) => {
  const event = incident(incidentId, title, 'GREEN', severity)
  return { ...event, payload: { ...event.payload, affectedNetworks: [NETWORK] } }
}

declare global {
  interface Window {
    __alarmTitles?: string[]
  }
}

test('a critical posted live raises an alarm until it is acknowledged; a dismissal is for the viewer only', async ({
  browser,
  request,
}) => {
  test.setTimeout(180_000) // two browsers with a WebGL map each
  // already open when the consoles open: a critical (counted, no alarm) and a high on the same network
  await postEvents(request, [network])
  await postEvents(request, [
    onNetwork('inc-alarm-old', 'Old critical already on the floor', 'critical'),
    onNetwork('inc-alarm-near', 'Phishing wave at the ministry', 'high'),
  ])
  const officerContext = await browser.newContext()
  const liaisonContext = await browser.newContext()
  const officer = await officerContext.newPage()
  const liaison = await liaisonContext.newPage()
  await signIn(officer, E2E_TOKENS.officer)
  await signIn(liaison, E2E_TOKENS.liaison)

  // what the console opened with raises no alarm, but the open criticals are counted
  await expect(officer.getByTestId('alarm-banner')).toHaveCount(0)
  await expect(officer.getByTestId('alarm-standing')).toContainText(
    '1 unacknowledged critical incident was already open',
  )
  await officer.getByTestId('alarm-settings').locator('summary').click()
  await expect(officer.getByTestId('alarm-sound')).not.toBeChecked() // sound off by default
  await officer.getByTestId('alarm-settings').locator('summary').click()

  // the liaison turns the sound on: remembered for the user (the tone is made with the Web Audio API)
  await liaison.getByTestId('alarm-settings').locator('summary').click()
  await liaison.getByTestId('alarm-sound').check()
  expect(await liaison.evaluate(() => localStorage.getItem('watchfloor.alarm.sound.liaison-lv'))).toBe('on')
  await liaison.getByTestId('alarm-settings').locator('summary').click()

  // record the tab titles as they change
  await officer.evaluate(() => {
    window.__alarmTitles = []
    const titleElement = document.querySelector('title')!
    new MutationObserver(() => window.__alarmTitles!.push(document.title)).observe(titleElement, {
      childList: true,
      characterData: true,
      subtree: true,
    })
  })
  const normalTitle = await officer.title()

  // a sensor posts a critical
  await expect(officer.getByTestId('map')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
  await postEvents(request, [onNetwork('inc-alarm-new', 'Ransomware on the power grid', 'critical')])
  for (const page of [officer, liaison]) {
    const banner = page.getByRole('alert').filter({ has: page.getByTestId('alarm') })
    await expect(banner).toBeVisible()
    const alarm = banner.locator('[data-testid="alarm"][data-incident-id="inc-alarm-new"]')
    await expect(alarm.getByTestId('alarm-title')).toHaveText('Ransomware on the power grid')
    await expect(alarm.getByTestId('alarm-organisation')).toHaveText('cert-ee')
    await expect(alarm.getByTestId('alarm-networks')).toHaveText('Estonian energy grid')
  }
  await officer.screenshot({ path: 'e2e/artifacts/alarm-banner.png' })

  // the tab title flashes: the alarm's title, then the normal one again
  await expect
    .poll(() => officer.evaluate(() => window.__alarmTitles!), { timeout: 10_000 })
    .toEqual(expect.arrayContaining(['(!) CRITICAL: Ransomware on the power grid', normalTitle]))

  // centre on the network, at a zoom where its incidents cluster
  await officer.evaluate(() => window.__watchfloorMap?.jumpTo({ center: [24.754, 59.437], zoom: 4 }))
  await expect
    .poll(() =>
      officer.evaluate(() =>
        (window.__watchfloorMap?.queryRenderedFeatures({ layers: ['incident-clusters'] }) ?? []).map(
          (f) => f.properties.point_count as number,
        ),
      ),
    )
    .toContain(3) // the three incidents of the network are one cluster
  // on the map the alarmed marker is drawn by its own unclustered layer, while its neighbours cluster
  await expect
    .poll(
      () =>
        officer.evaluate(() =>
          (window.__watchfloorMap?.queryRenderedFeatures({ layers: ['incident-alarmed'] }) ?? []).map(
            (f) => f.properties.incidentId as string,
          ),
        ),
      { timeout: 20_000 },
    )
    .toContain('inc-alarm-new')
  expect(
    await officer.evaluate(
      () => window.__watchfloorMap?.getLayer('incident-alarmed')?.source !== 'incidents', // not the clustered source
    ),
  ).toBe(true)

  // the liaison dismisses it for themselves: the officer's alarm stands
  await liaison.locator('[data-testid="alarm"][data-incident-id="inc-alarm-new"]').getByTestId('alarm-dismiss').click()
  await expect(liaison.getByTestId('alarm-banner')).toHaveCount(0)
  expect(await liaison.evaluate(() => localStorage.getItem('watchfloor.alarm.dismissed.liaison-lv'))).toContain(
    'inc-alarm-new',
  ) // remembered for this user
  await expect(officer.locator('[data-testid="alarm"][data-incident-id="inc-alarm-new"]')).toBeVisible()

  // a coordinator acknowledges it: the alarm goes everywhere, and the title stops flashing
  const ack = await request.post('/api/v1/commands', {
    headers: { authorization: `Bearer ${E2E_TOKENS.coordinator}` },
    data: { type: 'incident.acknowledge', incidentId: 'inc-alarm-new', expectedVersion: 1 },
  })
  expect(ack.status()).toBe(200)
  await expect(officer.getByTestId('alarm-banner')).toHaveCount(0)
  await expect(officer).toHaveTitle(normalTitle)
  await expect
    .poll(() =>
      officer.evaluate(() => window.__watchfloorMap?.queryRenderedFeatures({ layers: ['incident-alarmed'] }).length),
    )
    .toBe(0)
  await liaison.waitForTimeout(500)
  await expect(liaison.getByTestId('alarm-banner')).toHaveCount(0)

  await officerContext.close()
  await liaisonContext.close()
})

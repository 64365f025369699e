import { randomUUID } from 'node:crypto'
import { type APIRequestContext, test as base, expect, type Page } from '@playwright/test'

export const E2E_TOKENS = {
  sensor: 'e2e-sensor-ee-0123456789abcdef',
  officer: 'e2e-watch-officer-0123456789ab',
  liaison: 'e2e-liaison-lv-0123456789abcd',
  admin: 'e2e-admin-alliance-0123456789a',
  /** Coordination: a coordinator of the alliance and two people of cert-ee. */
  coordinator: 'e2e-coordinator-alliance-01234',
  memberEe: 'e2e-member-ee-kadri-0123456789',
  memberEe2: 'e2e-member-ee-mart-01234567890',
}

export const E2E_PRINCIPALS = [
  // the Estonian sensor also relays for the networks of other nations (each registered by its own organisation)
  {
    token: E2E_TOKENS.sensor,
    user: 'sensor-ee',
    organisation: 'cert-ee',
    nation: 'EE',
    roles: ['sensor'],
    sources: ['cert-fr', 'cert-es', 'cert-lv'],
  },
  { token: E2E_TOKENS.officer, user: 'officer', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'] },
  { token: E2E_TOKENS.liaison, user: 'liaison-lv', organisation: 'cert-lv', nation: 'LV', roles: ['liaison'] },
  { token: E2E_TOKENS.admin, user: 'admin', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] },
  {
    token: E2E_TOKENS.coordinator,
    user: 'coordinator',
    organisation: 'alliance',
    nation: 'ALLIANCE',
    roles: ['coordinator'],
  },
  { token: E2E_TOKENS.memberEe, user: 'kadri', organisation: 'cert-ee', nation: 'EE', roles: ['analyst'] },
  { token: E2E_TOKENS.memberEe2, user: 'mart', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'] },
]

/** Post events through the real REST API as the Estonian sensor. */
export async function postEvents(request: APIRequestContext, events: object[]): Promise<number[]> {
  const response = await request.post('/api/v1/events', {
    headers: { authorization: `Bearer ${E2E_TOKENS.sensor}` },
    data: { events },
  })
  expect(response.status()).toBe(201)
  const body = (await response.json()) as { results: { seq: number }[] }
  return body.results.map((r) => r.seq)
}

/** A network registered by cert-ee (GREEN), as a sensor posts it. */
export function networkRegistered(payload: {
  networkId: string
  name: string
  shortName?: string
  nation: string
  location: { lat: number; lon: number }
}) {
  return {
    id: randomUUID(),
    type: 'network.registered',
    occurredAt: new Date().toISOString(),
    source: { organisation: 'cert-ee' },
    marking: { tlp: 'GREEN' },
    payload: { organisation: 'cert-ee', kind: 'national-cert', ...payload },
  }
}

export function incident(incidentId: string, title: string, tlp = 'GREEN', severity = 'high') {
  return {
    id: randomUUID(),
    type: 'incident.reported',
    occurredAt: new Date().toISOString(),
    source: { organisation: 'cert-ee', network: 'ee-gov' },
    marking: { tlp },
    payload: { incidentId, title, severity, category: 'malware', affectedNetworks: ['ee-gov'] },
  }
}

/** Fails the test on any request that leaves this machine. */
export const test = base.extend<{ outsideRequests: string[] }>({
  outsideRequests: async ({ page }, use) => {
    const outside: string[] = []
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url())
      if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.protocol === 'data:')
        return route.continue()
      outside.push(url.href)
      return route.abort()
    })
    await use(outside)
    expect(outside, 'requests that left localhost').toEqual([])
  },
})

/** Every control of the header on the first line: the same middle as the product name, within a few px. */
export async function expectHeaderOnOneLine(page: Page): Promise<void> {
  const middles = await page
    .locator('header.header')
    .evaluate((element) =>
      [...element.children]
        .filter((child) => (child as HTMLElement).offsetParent !== null && !child.classList.contains('header-error'))
        .map((child) => Math.round(child.getBoundingClientRect().top + child.getBoundingClientRect().height / 2)),
    )
  expect(middles.length).toBeGreaterThan(8)
  expect(Math.max(...middles) - Math.min(...middles), 'header controls on one line').toBeLessThanOrEqual(6)
}

/** Open an incident's detail panel from the incident list. */
export async function openIncident(page: Page, incidentId: string): Promise<void> {
  await page.getByTestId('tab-incidents').click()
  await page.locator(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`).click()
  await expect(page.locator(`[data-testid="incident-detail"][data-incident-id="${incidentId}"]`)).toBeVisible()
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`/#token=${token}`)
  await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
}

/**
 * Colour statistics of a PNG (a data URL), computed by the browser itself (no image library
 * needed): distinct colours (5 bits a channel), the share of the most common one, the share of
 * opaque pixels.
 */
export async function pixelStats(
  page: Page,
  dataUrl: string,
): Promise<{ distinct: number; dominantShare: number; opaqueShare: number }> {
  return page.evaluate(async (src) => {
    const image = new Image()
    image.src = src
    await image.decode()
    const canvas = document.createElement('canvas')
    canvas.width = image.width
    canvas.height = image.height
    const context = canvas.getContext('2d')!
    context.drawImage(image, 0, 0)
    const { data } = context.getImageData(0, 0, image.width, image.height)
    const counts = new Map<number, number>()
    let opaque = 0
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 255) opaque++
      const key = ((data[i]! >> 3) << 10) | ((data[i + 1]! >> 3) << 5) | (data[i + 2]! >> 3)
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    const pixels = data.length / 4
    return { distinct: counts.size, dominantShare: Math.max(...counts.values()) / pixels, opaqueShare: opaque / pixels }
  }, dataUrl)
}

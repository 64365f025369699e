import { randomUUID } from 'node:crypto'
import { expect, type Page } from '@playwright/test'
import { E2E_TOKENS, incident, pixelStats, postEvents, signIn, test } from './fixtures.ts'

declare global {
  interface Window {
    __watchfloorTimeline?: { markAt(incidentId: string): { x: number; y: number } | null }
  }
}

const network = (networkId: string, name: string, organisation: string, nation: string, lat: number, lon: number) => ({
  id: randomUUID(),
  type: 'network.registered',
  occurredAt: new Date().toISOString(),
  source: { organisation }, // a network is registered by its own organisation (A5)
  marking: { tlp: 'GREEN' },
  payload: { networkId, name, organisation, nation, kind: 'national-cert', location: { lat, lon } },
})

async function mapReady(page: Page): Promise<void> {
  await expect(page.getByTestId('map')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
}

async function idle(page: Page): Promise<void> {
  await page.waitForTimeout(600)
}

test.describe('the live picture', () => {
  test.beforeAll(async ({ request }) => {
    await postEvents(request, [
      network('ee-net', 'Estonia CERT', 'cert-ee', 'EE', 59.437, 24.754),
      network('fr-net', 'France CERT', 'cert-fr', 'FR', 48.857, 2.352),
      network('es-net', 'Spain CERT', 'cert-es', 'ES', 40.417, -3.704),
    ])
  })

  test('the map draws the offline basemap with no request leaving localhost', async ({
    page,
    outsideRequests: _outside,
  }) => {
    await signIn(page, E2E_TOKENS.officer)
    await mapReady(page)
    await idle(page)
    const png = await page.getByTestId('map').screenshot({ path: 'e2e/artifacts/map-basemap.png' })
    const stats = await pixelStats(page, `data:image/png;base64,${png.toString('base64')}`)
    // land, sea, borders and labels: many colours, and no single colour covering the canvas
    expect(stats.distinct).toBeGreaterThan(40)
    expect(stats.dominantShare).toBeLessThan(0.8)
  })

  test('incidents posted through REST appear on map and timeline; clicking one opens its detail', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    await signIn(page, E2E_TOKENS.officer)
    await mapReady(page)
    const marksBefore = Number(await page.getByTestId('timeline-canvas').getAttribute('data-marks'))
    // record the most pulses seen running at once (each lasts 1.6 s)
    await page.evaluate(() => {
      const layer = document.querySelector<HTMLCanvasElement>('[data-testid="map-pulses"]')!
      const w = window as unknown as { __mostPulses: number }
      w.__mostPulses = 0
      new MutationObserver(() => {
        w.__mostPulses = Math.max(w.__mostPulses, Number(layer.dataset.pulses))
      }).observe(layer, { attributes: true, attributeFilter: ['data-pulses'] })
    })
    await postEvents(request, [
      {
        ...incident('inc-pic-worm', 'Worm in the Spanish ministry', 'GREEN', 'critical'),
        source: { organisation: 'cert-ee' },
      },
    ])
    await postEvents(request, [
      {
        ...incident('inc-pic-phish', 'Phishing against Paris hospitals', 'GREEN', 'low'),
        payload: {
          incidentId: 'inc-pic-phish',
          title: 'Phishing against Paris hospitals',
          severity: 'low',
          category: 'phishing',
          affectedNetworks: ['fr-net'],
        },
      },
    ])
    // the first incident sits on the Spanish network
    await postEvents(request, [
      {
        id: randomUUID(),
        type: 'incident.updated',
        occurredAt: new Date().toISOString(),
        source: { organisation: 'cert-ee' },
        marking: { tlp: 'GREEN' },
        payload: { incidentId: 'inc-pic-worm', affectedNetworks: ['es-net'] },
      },
    ])
    await expect(page.locator('[data-testid="incident-row"][data-incident-id="inc-pic-worm"]')).toBeVisible()
    // the new incidents pulsed on the map
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { __mostPulses: number }).__mostPulses))
      .toBeGreaterThan(0)
    await expect
      .poll(async () => Number(await page.getByTestId('timeline-canvas').getAttribute('data-marks')))
      .toBeGreaterThan(marksBefore)
    await expect
      .poll(() =>
        page.evaluate(
          () =>
            window.__watchfloorMap
              ?.queryRenderedFeatures({ layers: ['incidents'] })
              .map((f) => f.properties.incidentId) ?? [],
        ),
      )
      .toContain('inc-pic-worm')

    // the basemap, a map of its own under the live layers, follows the camera and is drawn there
    await page.evaluate(() => {
      const w = window as unknown as { __basemapRenders: number }
      w.__basemapRenders = 0
      window.__watchfloorBasemap?.on('render', () => {
        w.__basemapRenders++
      })
      window.__watchfloorMap?.jumpTo({ center: [-3.704, 40.417], zoom: 4 })
    })
    await idle(page)
    const cameras = await page.evaluate(() =>
      [window.__watchfloorMap!, window.__watchfloorBasemap!].map((m) => ({ ...m.getCenter(), zoom: m.getZoom() })),
    )
    expect(cameras[1]).toEqual(cameras[0])
    expect(cameras[0]!.zoom).toBe(4)
    expect(
      await page.evaluate(() => (window as unknown as { __basemapRenders: number }).__basemapRenders),
    ).toBeGreaterThan(0)
    // the basemap's own canvas, drawn and read in one task: land at Madrid, sea off Portugal
    const basemap = await page.evaluate(() => {
      const m = window.__watchfloorBasemap!
      m.redraw()
      const canvas = m.getCanvas()
      const gl = canvas.getContext('webgl2')!
      const ratio = m.getPixelRatio()
      const at = (lngLat: [number, number]) => {
        const p = window.__watchfloorMap!.project(lngLat) // the live map's camera
        const pixel = new Uint8Array(4)
        const x = Math.round(p.x * ratio)
        const y = canvas.height - 1 - Math.round(p.y * ratio) // WebGL rows start at the bottom
        gl.readPixels(x, y, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel)
        return [...pixel.slice(0, 3)]
      }
      return { land: at([-3.5, 40.0]), sea: at([-11.0, 40.0]) }
    })
    const distance = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]!))
    const OCEAN = [0x07, 0x10, 0x1a]
    expect(distance(basemap.sea, OCEAN)).toBeLessThan(12)
    expect(distance(basemap.land, OCEAN)).toBeGreaterThan(40)

    // click the marker on the map
    await page.evaluate(() => window.__watchfloorMap?.jumpTo({ center: [-3.704, 40.417], zoom: 6 }))
    await idle(page)
    const point = await page.evaluate(() => window.__watchfloorMap!.project([-3.704, 40.417]))
    await page.getByTestId('map-live-canvas').click({ position: point })
    await expect(page.getByTestId('incident-detail')).toHaveAttribute('data-incident-id', 'inc-pic-worm')
    await expect(page.getByTestId('incident-detail')).toContainText('Worm in the Spanish ministry')
    await expect(page.getByTestId('detail-history').locator('li')).toHaveCount(2)
    // the address bar follows the view within 250 ms
    await expect.poll(() => new URL(page.url()).searchParams.get('sel')).toBe('inc-pic-worm')

    // click the other incident's mark on the timeline
    const mark = await page.evaluate(() => window.__watchfloorTimeline?.markAt('inc-pic-phish') ?? null)
    expect(mark).not.toBeNull()
    await page.getByTestId('timeline-canvas').click({ position: mark! })
    await expect(page.getByTestId('incident-detail')).toHaveAttribute('data-incident-id', 'inc-pic-phish')
    await page.screenshot({ path: 'e2e/artifacts/picture-detail.png' })
  })

  test('a filter narrows map, list and timeline together, and the URL restores the view', async ({
    page,
    outsideRequests: _outside,
  }) => {
    await signIn(page, E2E_TOKENS.officer)
    await mapReady(page)
    await expect(page.locator('[data-testid="incident-row"][data-incident-id="inc-pic-phish"]')).toBeVisible()
    const rendered = () =>
      page.evaluate(
        () =>
          window.__watchfloorMap
            ?.queryRenderedFeatures({ layers: ['incidents'] })
            .map((f) => String(f.properties.incidentId)) ?? [],
      )
    await page.evaluate(() => window.__watchfloorMap?.jumpTo({ center: [0, 45], zoom: 4 }))
    await expect.poll(rendered).toContain('inc-pic-phish')
    const marksAll = Number(await page.getByTestId('timeline-canvas').getAttribute('data-marks'))

    await page.getByTestId('filter-severity-critical').click()
    await expect(page.locator('[data-testid="incident-row"][data-incident-id="inc-pic-phish"]')).toHaveCount(0)
    await expect(page.locator('[data-testid="incident-row"][data-incident-id="inc-pic-worm"]')).toBeVisible()
    await expect.poll(rendered).not.toContain('inc-pic-phish')
    await expect(rendered()).resolves.toContain('inc-pic-worm')
    await expect
      .poll(async () => Number(await page.getByTestId('timeline-canvas').getAttribute('data-marks')))
      .toBeLessThan(marksAll)

    await page.locator('[data-testid="incident-row"][data-incident-id="inc-pic-worm"]').click()
    await page.waitForTimeout(500) // the URL follows the view within 250 ms
    const url = page.url()
    expect(url).toContain('sev=critical')
    expect(url).toContain('sel=inc-pic-worm')
    expect(url).toContain('map=')

    // opening the same link again reproduces the view (the token stays in this tab's sessionStorage)
    await page.goto('about:blank')
    const other = page
    await other.goto(url)
    await expect(other.getByTestId('connection-status')).toHaveText('live')
    await expect(other.getByTestId('filter-severity-critical')).toHaveAttribute('aria-pressed', 'true')
    await expect(other.getByTestId('incident-detail')).toHaveAttribute('data-incident-id', 'inc-pic-worm')
    await expect(other.locator('[data-testid="incident-row"][data-incident-id="inc-pic-phish"]')).toHaveCount(0)
    await expect(other.getByTestId('map')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
    const center = await other.evaluate(() => window.__watchfloorMap!.getCenter())
    expect(center.lng).toBeCloseTo(0, 0)
    expect(center.lat).toBeCloseTo(45, 0)
    await other.screenshot({ path: 'e2e/artifacts/picture-restored.png' })
  })
})

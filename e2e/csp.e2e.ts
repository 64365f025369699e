import { expect, type Page, type Response } from '@playwright/test'
import { E2E_TOKENS, incident, postEvents, test } from './fixtures.ts'

interface Violation {
  directive: string
  blocked: string
  source: string
  line: number
  column: number
}

declare global {
  interface Window {
    __cspViolations?: Violation[]
  }
}

/**
 * Everything that says the Content-Security-Policy got in the way: the browser's console messages
 * about it, `securitypolicyviolation` events in the page, requests it blocked, and uncaught errors
 * (a blocked script or worker usually ends in one).
 */
async function watchForViolations(page: Page): Promise<{ problems: string[]; violations: () => Promise<Violation[]> }> {
  const problems: string[] = []
  page.on('console', (message) => {
    if (/content security policy/i.test(message.text())) problems.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText ?? ''
    if (/csp/i.test(failure)) problems.push(`blocked request: ${request.url()} (${failure})`)
  })
  await page.addInitScript(() => {
    window.__cspViolations = []
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__cspViolations!.push({
        directive: event.effectiveDirective,
        blocked: event.blockedURI,
        source: event.sourceFile,
        line: event.lineNumber,
        column: event.columnNumber,
      })
    })
  })
  return { problems, violations: () => page.evaluate(() => window.__cspViolations ?? []) }
}

async function expectNoViolations(watch: {
  problems: string[]
  violations: () => Promise<Violation[]>
}): Promise<void> {
  // none at all: zod's probe for eval is switched off in the console (validateWithoutEval)
  expect(await watch.violations(), 'securitypolicyviolation events').toEqual([])
  expect(watch.problems, 'console messages, page errors and requests about the policy').toEqual([])
}

function expectPolicy(response: Response | null): string {
  expect(response, 'the page response').not.toBeNull()
  const csp = response!.headers()['content-security-policy'] ?? ''
  expect(csp).toContain("default-src 'self'")
  expect(csp).toContain("script-src 'self'")
  expect(csp).toContain("worker-src 'self' blob:")
  expect(csp).toContain("frame-ancestors 'none'")
  expect(csp).not.toContain('unsafe-eval')
  expect(csp).not.toContain('upgrade-insecure-requests')
  return csp
}

async function mapReady(page: Page): Promise<void> {
  await expect(page.getByTestId('map')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
  // let MapLibre load its tiles, labels and images (the worker at work) before judging
  await page.waitForTimeout(1_000)
}

test.describe('under the Content-Security-Policy', () => {
  test('the console signs in, streams over the WebSocket and draws the map with no violation', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    const watch = await watchForViolations(page)
    const response = await page.goto(`/#token=${E2E_TOKENS.officer}`)
    const csp = expectPolicy(response)
    await expect(page.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
    await mapReady(page)
    // the socket (WebSocket only, under connect-src 'self') delivers a new incident live
    await postEvents(request, [incident('inc-csp-1', 'Seen under the policy', 'GREEN', 'high')])
    await expect(page.locator('[data-testid="incident-row"][data-incident-id="inc-csp-1"]')).toBeVisible()
    // MapLibre's worker is a same-origin module script: it runs, under the same policy
    expect(page.workers().length, 'MapLibre workers running').toBeGreaterThan(0)
    const workerUrl = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .map((entry) => entry.name)
        .find((name) => name.includes('maplibre-gl-worker')),
    )
    expect(workerUrl, 'the MapLibre worker was loaded').toBeTruthy()
    expect((await request.get(workerUrl!)).headers()['content-security-policy']).toBe(csp)
    await expectNoViolations(watch)

    // and the watch does see a violation when there is one: an image from another origin
    await page.evaluate(() => {
      const image = document.createElement('img')
      image.src = 'http://localhost:9/not-allowed.png'
      document.body.append(image)
    })
    await expect
      .poll(async () => (await watch.violations()).map((v) => `${v.directive} ${v.blocked}`))
      .toContain('img-src http://localhost:9/not-allowed.png')
    await expect.poll(() => watch.problems.some((p) => p.includes('not-allowed.png'))).toBe(true)
  })

  test('the wall with a display token draws its map with no violation', async ({
    page,
    request,
    outsideRequests: _outside,
  }) => {
    test.setTimeout(90_000)
    const made = await request.post('/api/v1/tokens', {
      headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
      data: {
        label: 'e2e csp wall',
        kind: 'display',
        service: { user: 'wall-csp', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'] },
        preset: 'overview',
        tlpCeiling: 'GREEN',
      },
    })
    expect(made.status()).toBe(201)
    const { secret } = (await made.json()) as { secret: string }

    await page.setViewportSize({ width: 1280, height: 720 })
    const watch = await watchForViolations(page)
    const response = await page.goto(`/wall#token=${secret}`)
    expectPolicy(response)
    await expect(page.getByTestId('wall')).toHaveAttribute('data-health', 'live', { timeout: 20_000 })
    await expect(page.getByTestId('wall')).toHaveAttribute('data-preset', 'overview')
    await mapReady(page)
    await expectNoViolations(watch)
  })
})

import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { expect } from '@playwright/test'
import { post, startServerProcess, TOKENS } from '../apps/server/test/harness.ts'
import { incident, test } from './fixtures.ts'

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

const observation = (incidentId: string, n: number) => ({
  id: randomUUID(),
  type: 'incident.observation',
  occurredAt: new Date().toISOString(),
  source: { organisation: 'cert-ee', network: 'ee-gov' },
  marking: { tlp: 'GREEN' },
  payload: { incidentId, indicator: `10.0.${Math.floor(n / 250)}.${n % 250}` },
})

interface Sample {
  at: number
  rendered: boolean
  health: string | null
  loading: boolean
  lost: boolean
}

test.describe('the wall while it opens', () => {
  test.use({ viewport: { width: 1920, height: 1080 } })

  test('says loading with progress until live, never "connection lost"', async ({ page }) => {
    test.setTimeout(120_000)
    const port = await freePort()
    // a short heartbeat window: a slow opening would have shown "lost" with the old wall
    const env = { WATCHFLOOR_PORT: String(port), WATCHFLOOR_HEARTBEAT_MS: '500' }
    const server = await startServerProcess({ env })
    try {
      // a few thousand events: incidents, and observations about them
      const events: unknown[] = []
      for (let i = 0; i < 300; i++)
        events.push(incident(`inc-open-${i}`, `Opening ${i}`, 'GREEN', i % 10 === 0 ? 'critical' : 'high'))
      for (let i = 0; i < 3700; i++) events.push(observation(`inc-open-${i % 300}`, i))
      for (let i = 0; i < events.length; i += 1000) {
        const sent = await post(server.url, TOKENS.sensorEe, { events: events.slice(i, i + 1000) })
        expect(sent.status, JSON.stringify(sent.json).slice(0, 300)).toBe(201)
      }

      // sample the page from its first script: every animation frame, and on every DOM change
      await page.addInitScript(() => {
        const samples: Sample[] = []
        ;(window as unknown as { __samples: Sample[] }).__samples = samples
        const sample = () => {
          const wall = document.querySelector<HTMLElement>('[data-testid="wall"]')
          samples.push({
            at: performance.now(),
            rendered: document.querySelector('.wall') !== null,
            health: wall?.dataset.health ?? null,
            loading: document.querySelector('[data-testid="wall-loading"], [data-testid="wall-starting"]') !== null,
            lost: document.querySelector('[data-testid="wall-connection-lost"]') !== null,
          })
        }
        const frame = () => {
          sample()
          requestAnimationFrame(frame)
        }
        requestAnimationFrame(frame)
        new MutationObserver(sample).observe(document, { childList: true, subtree: true, attributes: true })
      })
      await page.goto(`${server.url}/wall?heartbeat=3&panels=counters,spotlight,board,ticker#token=${TOKENS.viewerEe}`)
      await expect(page.getByTestId('wall')).toHaveAttribute('data-health', 'live', { timeout: 30_000 })
      await expect(page.getByTestId('wall-count-critical').locator('.wall-counter-value')).toHaveText('30')
      await page.waitForTimeout(1_500) // and it stays live, without a lost banner
      await expect(page.getByTestId('wall-loading')).toHaveCount(0)

      const samples = await page.evaluate(() => (window as unknown as { __samples: Sample[] }).__samples)
      expect(samples.length).toBeGreaterThan(10)
      expect(samples.filter((s) => s.lost)).toEqual([])
      expect(samples.some((s) => s.health === 'lost')).toBe(false)
      const firstLive = samples.findIndex((s) => s.health === 'live')
      expect(firstLive).toBeGreaterThan(0)
      const before = samples.slice(0, firstLive).filter((s) => s.rendered)
      expect(before.length).toBeGreaterThan(0)
      // every rendered moment before live says loading
      expect(before.filter((s) => !s.loading)).toEqual([])
      // and the headline agrees with the incidents: critical ones open make it compromised, with the reason
      await expect(page.getByTestId('wall-posture')).toHaveAttribute('data-posture', 'compromised')
      await expect(page.getByTestId('wall-posture-reason')).toContainText('30 critical incidents affecting')
    } finally {
      await server.stop()
      rmSync(server.dataDir, { recursive: true, force: true })
    }
  })
})

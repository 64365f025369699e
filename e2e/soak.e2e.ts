import { expect, test } from '@playwright/test'
import { runSoak } from '../bench/soak.ts'

/**
 * The short soak: three simulated hours streamed into /wall as fast as the server takes them,
 * with a one-hour retention, so that anything the wall keeps without bound shows up as growth
 * between the first and the last hour. `pnpm bench soak` runs the full 24 hours.
 */
test('the wall stays within memory while hours of events stream through it', async () => {
  test.setTimeout(300_000)
  const result = await runSoak({
    hours: 3,
    rate: 8,
    wallQuery: 'retention=1',
    screenshot: 'e2e/artifacts/wall-soak.png',
    log: (line) => console.log(line),
  })
  const first = result.samples[0]!
  const last = result.samples.at(-1)!
  expect(result.samples.map((s) => s.hour)).toEqual([1, 2, 3])
  expect(last.events).toBeGreaterThan(80_000)
  // observations never pile up in the window; closed incidents and old events leave
  expect(last.windowEvents).toBeLessThan(1_000)
  expect(last.heapMB / first.heapMB).toBeLessThan(1.3)
  expect(last.domNodes / first.domNodes).toBeLessThanOrEqual(1.1)
})

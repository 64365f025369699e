import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteEventStore } from '@watchfloor/store'
import { afterEach, describe, expect, it } from 'vitest'
import { FullState } from './projection.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function reported(incidentId: string) {
  return {
    id: randomUUID(),
    type: 'incident.reported' as const,
    occurredAt: new Date().toISOString(),
    source: { organisation: 'cert-ee' },
    marking: { tlp: 'GREEN' as const },
    payload: { incidentId, title: incidentId, severity: 'high' as const, category: 'worm', affectedNetworks: [] },
  }
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('FullState.follow', () => {
  it('catches up with the log at once and as it grows, without a command asking', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-full-'))
    dirs.push(dir)
    const store = new SqliteEventStore({ file: join(dir, 'events.sqlite') })
    try {
      await store.append([reported('inc-1'), reported('inc-2')])
      const full = new FullState(store)
      const errors: unknown[] = []
      const stop = full.follow((error) => errors.push(error), 50)
      await until(() => full.latest.seq === 2)
      await store.append([reported('inc-3')])
      await until(() => full.latest.seq === 3)
      expect([...full.latest.incidents.keys()].sort()).toEqual(['inc-1', 'inc-2', 'inc-3'])
      stop()
      await store.append([reported('inc-4')])
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(full.latest.seq).toBe(3) // stopped: no more background reads
      expect(errors).toEqual([])
    } finally {
      await store.close()
    }
  })
})

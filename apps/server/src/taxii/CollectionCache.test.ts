import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Viewer } from '@watchfloor/protocol'
import { SqliteEventStore } from '@watchfloor/store'
import { afterEach, describe, expect, it } from 'vitest'
import { CollectionCache } from './CollectionCache.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const reported = (incidentId: string) => ({
  id: randomUUID(),
  type: 'incident.reported' as const,
  occurredAt: new Date().toISOString(),
  source: { organisation: 'cert-ee' },
  marking: { tlp: 'GREEN' as const },
  payload: { incidentId, title: incidentId, severity: 'high' as const, category: 'worm', affectedNetworks: [] },
})

const viewer = (organisation: string): Viewer => ({ organisation, nation: 'EE', roles: ['analyst'], userId: 'u' })

async function withStore(run: (store: SqliteEventStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-taxii-cache-'))
  dirs.push(dir)
  const store = new SqliteEventStore({ file: join(dir, 'events.sqlite') })
  try {
    await run(store)
  } finally {
    await store.close()
  }
}

describe('CollectionCache', () => {
  it('keeps contents per viewer and collection while the head stands, built again when it moves', async () => {
    await withStore(async (store) => {
      await store.append([reported('inc-1'), reported('inc-2')])
      const cache = new CollectionCache(store, undefined)
      const first = await cache.get(viewer('cert-ee'), 'all', 2, () => true)
      expect(await cache.get(viewer('cert-ee'), 'all', 2, () => true)).toBe(first)
      await store.append([reported('inc-3')])
      const moved = await cache.get(viewer('cert-ee'), 'all', 3, () => true)
      expect(moved).not.toBe(first)
      expect(moved.objects.length).toBeGreaterThan(first.objects.length)
    })
  })

  it('holds at most maxObjects objects together: the least recently used go, the newest stays', async () => {
    await withStore(async (store) => {
      await store.append(Array.from({ length: 30 }, (_, i) => reported(`inc-${i}`)))
      const cache = new CollectionCache(store, undefined, 32, 1)
      const a = await cache.get(viewer('cert-ee'), 'all', 30, () => true)
      expect(a.objects.length).toBeGreaterThan(1) // larger than the bound alone: kept, as the newest
      expect(await cache.get(viewer('cert-ee'), 'all', 30, () => true)).toBe(a)
      await cache.get(viewer('cert-lv'), 'all', 30, () => true)
      // the first viewer's contents went to make room: asked again, they are built again
      const again = await cache.get(viewer('cert-ee'), 'all', 30, () => true)
      expect(again).not.toBe(a)
      expect(again.objects.map((o) => o.id)).toEqual(a.objects.map((o) => o.id))
    })
  })
})

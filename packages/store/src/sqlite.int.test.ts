import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { registerEventStoreContract } from './contract.ts'
import { SqliteEventStore } from './sqlite.ts'
import type { EventStore } from './types.ts'

const files = new WeakMap<EventStore, string>()

for (const [name, options] of [
  ['sqlite', {}],
  // readers of older events go to the file rather than the in-memory tail
  ['sqlite, 3 events kept in memory', { recentEvents: 3 }],
] as const)
  registerEventStoreContract(name, {
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'watchfloor-sqlite-'))
      const file = join(dir, 'events.sqlite')
      const store = new SqliteEventStore({ file, ...options })
      files.set(store, file)
      return store
    },
    async reopen(store) {
      const file = files.get(store)!
      const reopened = new SqliteEventStore({ file, ...options })
      files.set(reopened, file)
      return reopened
    },
    async destroy(store) {
      await store.close()
      const file = files.get(store)
      if (file) rmSync(join(file, '..'), { recursive: true, force: true })
    },
  })

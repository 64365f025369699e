import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { registerEventStoreContract } from './contract.ts'
import { SqliteEventStore } from './sqlite.ts'
import type { EventStore } from './types.ts'

const files = new WeakMap<EventStore, string>()

registerEventStoreContract('sqlite', {
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-sqlite-'))
    const file = join(dir, 'events.sqlite')
    const store = new SqliteEventStore({ file })
    files.set(store, file)
    return store
  },
  async reopen(store) {
    const file = files.get(store)!
    const reopened = new SqliteEventStore({ file })
    files.set(reopened, file)
    return reopened
  },
  async destroy(store) {
    await store.close()
    const file = files.get(store)
    if (file) rmSync(join(file, '..'), { recursive: true, force: true })
  },
})

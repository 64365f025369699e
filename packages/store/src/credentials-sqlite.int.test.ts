import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { observation } from './contract.ts'
import type { CredentialStore } from './credentials.ts'
import { newAccount, newToken, registerCredentialStoreContract } from './credentials-contract.ts'
import { SqliteCredentialStore } from './credentials-sqlite.ts'
import { openStores } from './open.ts'
import { SqliteEventStore } from './sqlite.ts'

const files = new WeakMap<CredentialStore, string>()

registerCredentialStoreContract('sqlite', {
  async create() {
    const file = join(mkdtempSync(join(tmpdir(), 'watchfloor-credentials-')), 'events.sqlite')
    const store = new SqliteCredentialStore({ file })
    files.set(store, file)
    return store
  },
  async reopen(store) {
    const file = files.get(store)!
    const reopened = new SqliteCredentialStore({ file })
    files.set(reopened, file)
    return reopened
  },
  async destroy(store) {
    await store.close()
    const file = files.get(store)
    if (file) rmSync(join(file, '..'), { recursive: true, force: true })
  },
})

describe('SQLite credentials beside the event log', () => {
  it('openStores opens the log and the credentials in the same database file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'watchfloor-stores-'))
    try {
      const first = await openStores({ dataDir })
      expect(first.events.kind).toBe('sqlite')
      expect(first.credentials.kind).toBe('sqlite')
      // interleaved writes on both connections: neither waits for the other
      const appends = Promise.all(Array.from({ length: 20 }, (_, i) => first.events.append([observation(i)])))
      await first.credentials.createAccount(newAccount('janis'))
      const token = newToken({ owner: 'janis' })
      await first.credentials.createToken(token)
      await appends
      await first.events.close()
      await first.credentials.close()

      // both live in events.sqlite
      const events = new SqliteEventStore({ file: join(dataDir, 'events.sqlite') })
      const credentials = new SqliteCredentialStore({ file: join(dataDir, 'events.sqlite') })
      expect(await events.head()).toBe(20)
      expect((await credentials.findToken(token.secretHash))?.owner).toBe('janis')
      await events.close()
      await credentials.close()
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

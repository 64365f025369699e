import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { type CredentialChange, type CredentialStore, hashSecret } from './credentials.ts'
import { newAccount, newToken, registerCredentialStoreContract } from './credentials-contract.ts'
import { PostgresCredentialStore } from './credentials-postgres.ts'
import { openStores } from './open.ts'
import type { PostgresEventStore } from './postgres.ts'

const connectionString = process.env.WATCHFLOOR_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const prefixes = new WeakMap<CredentialStore, string>()
const freshPrefix = () => `wf_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`

async function drop(prefix: string): Promise<void> {
  const cleaner = await PostgresCredentialStore.open({ connectionString, prefix })
  await cleaner.drop()
  await cleaner.close()
}

registerCredentialStoreContract('postgres', {
  async create() {
    const prefix = freshPrefix()
    const store = await PostgresCredentialStore.open({ connectionString, prefix })
    prefixes.set(store, prefix)
    return store
  },
  async reopen(store) {
    const prefix = prefixes.get(store)!
    const reopened = await PostgresCredentialStore.open({ connectionString, prefix })
    prefixes.set(reopened, prefix)
    return reopened
  },
  async destroy(store) {
    await store.close()
    await drop(prefixes.get(store)!)
  },
})

describe('PostgreSQL credentials with several processes', () => {
  const prefix = freshPrefix()
  const stores: PostgresCredentialStore[] = []
  afterAll(async () => {
    for (const store of stores) await store.close()
    await drop(prefix)
  })

  it('a change made by one process reaches the others at once (NOTIFY), and only once in its own', async () => {
    const a = await PostgresCredentialStore.open({ connectionString, prefix })
    const b = await PostgresCredentialStore.open({ connectionString, prefix })
    stores.push(a, b)
    const seenA: CredentialChange[] = []
    const seenB: CredentialChange[] = []
    a.onChange((change) => seenA.push(change))
    b.onChange((change) => seenB.push(change))
    await a.createAccount(newAccount('janis'))
    const token = newToken({ owner: 'janis' })
    await a.createToken(token)
    await a.createSession({
      idHash: hashSecret('s'),
      account: 'janis',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    })
    await a.revokeToken(token.id)
    await a.deleteSession(hashSecret('s'))
    const expected = [
      { type: 'token', id: token.id },
      { type: 'session', idHash: hashSecret('s') },
    ]
    await expect.poll(() => seenB, { timeout: 3000 }).toEqual(expected)
    await new Promise((r) => setTimeout(r, 100))
    expect(seenA).toEqual(expected)
    // b sees what a wrote
    expect((await b.findToken(token.secretHash))?.revokedAt).not.toBeNull()
  })

  it('openStores opens the log and the credentials in the same database', async () => {
    const table = `${freshPrefix()}_events`
    const credentialsPrefix = freshPrefix()
    const { events, credentials } = await openStores({
      databaseUrl: connectionString,
      dataDir: '/nonexistent',
      eventsTable: table,
      credentialsPrefix,
    })
    try {
      expect([events.kind, credentials.kind]).toEqual(['postgres', 'postgres'])
      await credentials.createAccount(newAccount('kadri'))
      expect((await credentials.getAccount('kadri'))?.username).toBe('kadri')
    } finally {
      await (events as PostgresEventStore).drop()
      await events.close()
      await (credentials as PostgresCredentialStore).drop()
      await credentials.close()
    }
  })
})

import { randomUUID } from 'node:crypto'
import type { StoredEvent } from '@watchfloor/protocol'
import { afterAll, describe, expect, it } from 'vitest'
import { observation, registerEventStoreContract } from './contract.ts'
import { PostgresEventStore } from './postgres.ts'
import type { EventStore } from './types.ts'

const connectionString = process.env.WATCHFLOOR_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const tables = new WeakMap<EventStore, string>()
const freshTable = () => `wf_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`

registerEventStoreContract('postgres', {
  async create() {
    const table = freshTable()
    const store = await PostgresEventStore.open({ connectionString, table, pollMs: 200 })
    tables.set(store, table)
    return store
  },
  async reopen(store) {
    const table = tables.get(store)!
    const reopened = await PostgresEventStore.open({ connectionString, table, pollMs: 200 })
    tables.set(reopened, table)
    return reopened
  },
  async destroy(store) {
    const table = tables.get(store)!
    await store.close()
    const cleaner = await PostgresEventStore.open({ connectionString, table })
    await cleaner.drop()
    await cleaner.close()
  },
})

describe('PostgreSQL store with several processes', () => {
  const table = freshTable()
  const stores: PostgresEventStore[] = []
  afterAll(async () => {
    await stores[0]?.drop()
    for (const store of stores) await store.close()
  })

  it('[L1] concurrent appenders on separate connections: a tailing reader sees every seq exactly once, in order', async () => {
    for (let i = 0; i < 4; i++) stores.push(await PostgresEventStore.open({ connectionString, table, pollMs: 100 }))
    const reader = await PostgresEventStore.open({ connectionString, table, pollMs: 50 })
    stores.push(reader)
    const seen: StoredEvent[] = []
    let tailing = true
    const tail = (async () => {
      while (tailing || seen.length < 2000) {
        const page = await reader.readAfter(seen.at(-1)?.seq ?? 0, 100)
        seen.push(...page)
        if (page.length === 0) await new Promise((r) => setTimeout(r, 2))
      }
    })()
    const appenders = stores.slice(0, 4).map(async (store, w) => {
      for (let b = 0; b < 50; b++) {
        const size = 1 + ((w * 7 + b * 3) % 19)
        await store.append(Array.from({ length: size }, (_, i) => observation(b * 100 + i)))
      }
    })
    await Promise.all(appenders)
    const total = await reader.head()
    tailing = false
    while (seen.length < total) await new Promise((r) => setTimeout(r, 10))
    await Promise.race([tail, new Promise((r) => setTimeout(r, 100))])
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    expect(new Set(seen.map((e) => e.id)).size).toBe(total)
  })

  it('notifies other processes of new appends', async () => {
    const [writer, listener] = stores
    const heads: number[] = []
    listener!.onAppend((head) => heads.push(head))
    const [result] = await writer!.append([observation(1, randomUUID())])
    await expect.poll(() => heads.at(-1), { timeout: 3000 }).toBe(result!.seq)
  })
})

import { randomUUID } from 'node:crypto'
import type { StoredEvent } from '@watchfloor/protocol'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { observation, registerEventStoreContract } from './contract.ts'
import { contentJson, storedBody } from './plan.ts'
import { PostgresEventStore } from './postgres.ts'
import { tablesStartingWith, testSchemas } from './testSchemas.ts'
import type { AcceptedEvent, EventStore } from './types.ts'

const connectionString = process.env.WATCHFLOOR_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const tables = new WeakMap<EventStore, string>()
const freshTable = () => `wf_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`

/** Count the queries a store sends through its pool until `stop`. */
function countQueries(store: PostgresEventStore): { readonly count: number; stop(): void } {
  const pool = (store as unknown as { pool: pg.Pool }).pool
  const query = pool.query.bind(pool)
  let count = 0
  pool.query = ((...args: Parameters<typeof query>) => {
    count++
    return query(...args)
  }) as typeof pool.query
  return {
    get count() {
      return count
    },
    stop: () => {
      pool.query = query
    },
  }
}

type Query = (...args: unknown[]) => unknown

/**
 * The statements the store's commits send on their own connections go through `wrap` until `stop`.
 * Only the commit's own connection: the pool's queries (the slow poll of the head) pass a callback,
 * and go through as they came.
 */
function onCommitConnections(store: PostgresEventStore, wrap: (query: Query) => Query): { stop(): void } {
  const pool = (store as unknown as { pool: pg.Pool }).pool
  const connect = pool.connect.bind(pool)
  pool.connect = (async (callback?: unknown) => {
    if (callback !== undefined) return (connect as (callback: unknown) => unknown)(callback)
    const client = await connect()
    const query = client.query.bind(client)
    client.query = wrap(query as Query) as typeof client.query
    client.release = ((release) => (error?: Error | boolean) => {
      client.query = query
      return release(error)
    })(client.release.bind(client))
    return client
  }) as typeof pool.connect
  return {
    stop: () => {
      pool.connect = connect
    },
  }
}

/** Every answer to a commit's statements comes `ms` late: the commit's notification then always arrives first. */
const answerLate = (store: PostgresEventStore, ms: number) =>
  onCommitConnections(store, (query) => async (...args) => {
    const answer = await query(...args)
    await new Promise((resolve) => setTimeout(resolve, ms))
    return answer
  })

/** The first word of each statement the store's commits send, until `stop`. */
function recordStatements(store: PostgresEventStore): { statements: string[]; stop(): void } {
  const statements: string[] = []
  const { stop } = onCommitConnections(store, (query) => (text, ...rest) => {
    statements.push(String(text).trim().split(/\s+/)[0]!)
    return query(text, ...rest)
  })
  return { statements, stop }
}

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
    // the reader tails until it has seen as many events as the appenders wrote (known once they are done)
    let expected = Number.POSITIVE_INFINITY
    const tail = (async () => {
      while (seen.length < expected) {
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
    expected = total
    await Promise.race([tail, new Promise((r) => setTimeout(r, 10_000))])
    expected = 0 // the tail stops, whatever it saw
    await tail
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    expect(new Set(seen.map((e) => e.id)).size).toBe(total)
  })

  it('sends the events of a commit to the other processes sealed: a role that only LISTENs learns nothing of them', async () => {
    const [writer, reader] = stores
    // a role that may connect, and may not read the log, may still LISTEN on any channel
    const role = `wf_test_listen_${randomUUID().replaceAll('-', '').slice(0, 12)}`
    const admin = new pg.Client({ connectionString })
    await admin.connect()
    await admin.query(`CREATE ROLE ${role} LOGIN`)
    const asRole = new URL(connectionString)
    asRole.username = role
    const listener = new pg.Client({ connectionString: asRole.toString() })
    await listener.connect()
    await expect(listener.query(`SELECT body FROM ${table}`)).rejects.toThrow(/permission denied/)
    await expect(listener.query(`SELECT key FROM ${table}_notify_key`)).rejects.toThrow(/permission denied/)
    const payloads: { channel: string; payload: string }[] = []
    listener.on('notification', (m) => payloads.push({ channel: m.channel, payload: m.payload ?? '' }))
    await listener.query(`LISTEN ${table}_events`)
    await listener.query(`LISTEN ${table}_appended`)
    try {
      const secret = `secret-${randomUUID()}`
      const event = observation(1)
      event.payload = { ...event.payload, indicator: secret }
      // the other process hears the events, then the head: from then on it holds them
      const heard: number[] = []
      const unsubscribe = reader!.onAppend((head) => heard.push(head))
      const [result] = await writer!.append([event])
      await expect.poll(() => payloads.length, { timeout: 3000 }).toBe(2)
      // the events first, then the head
      expect(payloads.map((p) => p.channel)).toEqual([`${table}_events`, `${table}_appended`])
      expect(payloads[1]!.payload).toBe(String(result!.seq))
      const sealed = payloads[0]!.payload
      expect(sealed).not.toContain(secret)
      expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain(secret)
      expect(sealed).not.toContain(result!.id)
      // the other process opens them: once it has heard of that seq, it reads it from memory, without a
      // query (waiting for the notification rather than polling reads, which would fill its memory from the table)
      await expect.poll(() => Math.max(0, ...heard), { timeout: 10_000 }).toBeGreaterThanOrEqual(result!.seq)
      unsubscribe()
      const queries = countQueries(reader!)
      try {
        const [read] = await reader!.readAfter(result!.seq - 1, 1)
        expect({
          indicator: (read?.payload as { indicator?: string } | undefined)?.indicator,
          queries: queries.count,
        }).toEqual({ indicator: secret, queries: 0 })
      } finally {
        queries.stop()
      }
    } finally {
      await listener.end()
      await admin.query(`DROP ROLE ${role}`)
      await admin.end()
    }
  })

  it('commits a group in one round trip, or in two when its events go in a notification: the append lock never waits for this process between them', async () => {
    const [writer] = stores
    const sent = recordStatements(writer!)
    try {
      await writer!.append([observation(1), observation(2)])
      // the first takes the lock and reads the head and the ids; the second writes, notifies and commits
      expect(sent.statements).toEqual(['BEGIN', 'INSERT'])
      sent.statements.length = 0
      // too large for a notification: placed after the head, written, notified and committed at once
      await writer!.append(Array.from({ length: 2_000 }, (_, i) => observation(i)))
      expect(sent.statements).toEqual(['BEGIN'])
    } finally {
      sent.stop()
    }
  })

  it('[L1] appends from several processes keep gap-free seqs when the database defaults to a stricter isolation', async () => {
    const table = freshTable()
    // a site whose database or role sets default_transaction_isolation: the head must still be read
    // after the lock is granted
    const strict = new URL(connectionString)
    strict.searchParams.set('options', '-c default_transaction_isolation=serializable')
    const writers = [
      await PostgresEventStore.open({ connectionString: strict.toString(), table }),
      await PostgresEventStore.open({ connectionString: strict.toString(), table }),
    ]
    try {
      const results = await Promise.all(
        writers.flatMap((writer, w) =>
          Array.from({ length: 10 }, (_, b) =>
            writer.append([observation(w * 100 + b), observation(w * 100 + b + 50)]),
          ),
        ),
      )
      const seqs = results.flat().map((r) => r.seq)
      expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    } finally {
      await writers[0]!.drop()
      for (const writer of writers) await writer.close()
    }
  })

  it('notifies other processes of new appends', async () => {
    const [writer, listener] = stores
    const heads: number[] = []
    listener!.onAppend((head) => heads.push(head))
    const [result] = await writer!.append([observation(1, randomUUID())])
    await expect.poll(() => heads.at(-1), { timeout: 3000 }).toBe(result!.seq)
  })

  it("tells each head as heard when it comes in a notification, and this process's own again, as not heard, once its commit is answered", async () => {
    const table = freshTable()
    const [a, b] = await Promise.all(
      [0, 1].map(() => PostgresEventStore.open({ connectionString, table, pollMs: 60_000 })),
    )
    const told = new Map([a, b].map((store) => [store!, [] as [number, boolean][]]))
    for (const [store, heads] of told) store.onAppend((head, heard) => heads.push([head, heard]))
    const late = [a!, b!].map((store) => answerLate(store, 150))
    try {
      // small groups go with their events in the notification, in two round trips; groups of 300
      // as a head alone, in one round trip whose head is not known before it answers
      const group = (n: number, size: number) => Array.from({ length: size }, (_, i) => observation(n + i))
      const steps = [
        [a!, group(0, 3)],
        [b!, group(10, 3)],
        [a!, group(100, 300)],
        [b!, group(1000, 300)],
      ] as const
      for (const [writer, events] of steps) {
        const results = await writer.append(events)
        const head = results.at(-1)!.seq
        await expect.poll(() => [...told.values()].every((heads) => heads.at(-1)?.[0] === head)).toBe(true)
      }
      // each answer comes late, so each notification comes first, its own too
      expect(told.get(a!)).toEqual([
        [3, true],
        [3, false],
        [6, true],
        [306, true],
        [306, false],
        [606, true],
      ])
      expect(told.get(b!)).toEqual([
        [3, true],
        [6, true],
        [6, false],
        [306, true],
        [606, true],
        [606, false],
      ])
    } finally {
      for (const l of late) l.stop()
      await a!.drop()
      await a!.close()
      await b!.close()
    }
  })
})

describe('PostgreSQL store: groups placed after the head in one round trip', () => {
  // text SQL and JSON treat specially
  const awkward = ["it's", 'C:\\Windows', "E'\\x00'", '$1; DROP TABLE x; --', 'line\nbreak\u0000', '✓ 🛡', '"}', '\\n']
  const withText = (n: number, id?: string): AcceptedEvent => ({
    ...observation(n, id),
    type: 'incident.observation',
    payload: { incidentId: 'inc-1', indicator: awkward[n % awkward.length]!, count: n + 1 },
  })
  const bodies = async (store: PostgresEventStore) => {
    const pool = (store as unknown as { pool: pg.Pool }).pool
    const table = (store as unknown as { table: string }).table
    // as text: the store's connections may have any DateStyle
    const { rows } = await pool.query<{ seq: string; recorded_at: string; body: string }>(
      `SELECT seq, to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded_at, body FROM ${table} ORDER BY seq`,
    )
    return rows.map((row) => ({ seq: Number(row.seq), recordedAt: row.recorded_at, body: row.body }))
  }

  it('writes each body character for character as storedBody does, with the seqs after the head and one recordedAt [L1, L5]', async () => {
    const store = await PostgresEventStore.open({ connectionString, table: freshTable(), pollMs: 60_000 })
    try {
      const sent = recordStatements(store)
      const first = Array.from({ length: 300 }, (_, i) => withText(i))
      const second = Array.from({ length: 300 }, (_, i) => withText(300 + i))
      await store.append(first)
      await store.append(second)
      sent.stop()
      expect(sent.statements).toEqual(['BEGIN', 'BEGIN'])
      const stored = await bodies(store)
      expect(stored.map((row) => row.seq)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1))
      const events = [...first, ...second]
      expect(stored.map((row) => row.body)).toEqual(
        stored.map((row, i) => storedBody(row.seq, row.recordedAt, contentJson(events[i]!))),
      )
      // what this process keeps in memory is what the table holds
      const held = await store.readAfter(0, 600)
      expect(held).toEqual(stored.map((row) => JSON.parse(row.body)))
      expect(new Set(stored.slice(0, 300).map((row) => row.recordedAt)).size).toBe(1)
      expect(stored[300]!.recordedAt >= stored[299]!.recordedAt).toBe(true)
    } finally {
      await store.drop()
      await store.close()
    }
  })

  it("records a group at the last event's recordedAt when that is later than this process's clock [L5]", async () => {
    const store = await PostgresEventStore.open({ connectionString, table: freshTable(), pollMs: 60_000 })
    try {
      // a log written by a process whose clock ran ahead
      const ahead = '2099-01-02T03:04:05.678Z'
      await store.appendStored([{ ...observation(0), seq: 1, recordedAt: ahead } as StoredEvent])
      const results = await store.append(Array.from({ length: 300 }, (_, i) => withText(1 + i)))
      expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 2))
      const stored = await bodies(store)
      expect(stored.every((row) => row.recordedAt === ahead)).toBe(true)
      expect((await store.readAfter(1, 300)).every((event) => event.recordedAt === ahead)).toBe(true)
      expect(stored.slice(1).every((row) => (JSON.parse(row.body) as StoredEvent).recordedAt === ahead)).toBe(true)
    } finally {
      await store.drop()
      await store.close()
    }
  })

  it('[L1] several processes placing groups at once keep gap-free seqs, and each hears every head as it is committed', async () => {
    const table = freshTable()
    const writers = await Promise.all(
      [0, 1, 2].map(() => PostgresEventStore.open({ connectionString, table, pollMs: 60_000 })),
    )
    // no poll to set a head right: only the notifications tell this one
    const listener = await PostgresEventStore.open({ connectionString, table, pollMs: 60_000 })
    const heads: number[] = []
    listener.onAppend((head) => heads.push(head))
    try {
      const sent = writers.map((writer) => recordStatements(writer))
      const results = await Promise.all(
        writers.map((writer, w) =>
          (async () => {
            const seqs: number[][] = []
            for (let g = 0; g < 8; g++)
              seqs.push(
                (await writer.append(Array.from({ length: 40 }, (_, i) => withText(w * 1_000 + g * 40 + i)))).map(
                  (r) => r.seq,
                ),
              )
            return seqs
          })(),
        ),
      )
      for (const s of sent) s.stop()
      // every group in one round trip, none of them turned back
      expect(sent.flatMap((s) => s.statements)).toEqual(Array(24).fill('BEGIN'))
      const groups = results.flat().sort((a, b) => a[0]! - b[0]!)
      expect(groups.flat()).toEqual(Array.from({ length: 960 }, (_, i) => i + 1))
      expect(groups.every((seqs) => seqs.every((seq, i) => seq === seqs[0]! + i))).toBe(true)
      // each commit's head, heard from its notification alone
      await expect.poll(() => heads.at(-1), { timeout: 3000 }).toBe(960)
      expect(heads.every((head) => groups.some((seqs) => seqs.at(-1) === head))).toBe(true)
      const stored = await bodies(listener)
      expect(stored.map((row) => row.seq)).toEqual(groups.flat())
    } finally {
      await listener.drop()
      for (const store of [...writers, listener]) await store.close()
    }
  })

  it('[L2, L3] a group of several appends: a repeated id is a duplicate, an append that conflicts with an earlier one is refused alone, and one that clashes within the group goes in two round trips', async () => {
    const store = await PostgresEventStore.open({ connectionString, table: freshTable(), pollMs: 60_000 })
    try {
      const sent = recordStatements(store)
      const a = Array.from({ length: 30 }, (_, i) => withText(i))
      const b = [a[4]!, ...Array.from({ length: 29 }, (_, i) => withText(100 + i))]
      const c = [...Array.from({ length: 29 }, (_, i) => withText(200 + i)), withText(7, a[9]!.id)]
      const d = Array.from({ length: 30 }, (_, i) => withText(300 + i))
      // the first append commits alone; the four behind it, queued meanwhile, commit as one group
      const alone = withText(999)
      const first = store.append([alone])
      const [ra, rb, rc, rd] = [store.append(a), store.append(b), store.append(c), store.append(d)]
      await first
      const results = await Promise.allSettled([ra, rb, rc, rd])
      sent.stop()
      // the first, small enough for a notification, in two round trips; the group of four, one of its
      // appends refused within it, in two as well
      expect(sent.statements).toEqual(['BEGIN', 'INSERT', 'BEGIN', 'INSERT'])
      const [okA, okB, refusedC, okD] = results
      expect(okA).toMatchObject({ status: 'fulfilled' })
      expect((okA as PromiseFulfilledResult<{ seq: number }[]>).value.map((r) => r.seq)).toEqual(
        Array.from({ length: 30 }, (_, i) => i + 2),
      )
      const bResults = (okB as PromiseFulfilledResult<{ seq: number; duplicate: boolean }[]>).value
      expect(bResults[0]).toEqual({ id: a[4]!.id, seq: 6, duplicate: true })
      expect(bResults.slice(1).map((r) => r.seq)).toEqual(Array.from({ length: 29 }, (_, i) => i + 32))
      expect(refusedC).toMatchObject({ status: 'rejected', reason: { code: 'conflict' } })
      expect((okD as PromiseFulfilledResult<{ seq: number }[]>).value.map((r) => r.seq)).toEqual(
        Array.from({ length: 30 }, (_, i) => i + 61),
      )
      const stored = await bodies(store)
      expect(stored.map((row) => row.seq)).toEqual(Array.from({ length: 90 }, (_, i) => i + 1))
      expect(stored.map((row) => row.body)).toEqual(
        stored.map((row, i) =>
          storedBody(row.seq, row.recordedAt, contentJson([alone, ...a, ...b.slice(1), ...d][i]!)),
        ),
      )
      // without a clash, a group of several appends (one repeating another's id) goes in one round trip
      sent.statements.length = 0
      const restart = recordStatements(store)
      const e = Array.from({ length: 30 }, (_, i) => withText(400 + i))
      const f = [e[2]!, ...Array.from({ length: 29 }, (_, i) => withText(500 + i))]
      const next = store.append([withText(998)])
      const [re, rf] = [store.append(e), store.append(f)]
      await next
      expect((await rf)[0]).toEqual({ id: e[2]!.id, seq: (await re)[2]!.seq, duplicate: true })
      restart.stop()
      expect(restart.statements).toEqual(['BEGIN', 'INSERT', 'BEGIN'])
      // an append whose first id is in the log with other content and whose second clashes with an
      // earlier append of the group: refused as in two round trips, naming the first
      const p = Array.from({ length: 30 }, (_, i) => withText(600 + i))
      const q = [withText(3, a[0]!.id), withText(700, p[5]!.id)]
      const before = store.append([withText(997)])
      const [rp, rq] = [store.append(p), store.append(q)]
      await before
      await rp
      await expect(rq).rejects.toMatchObject({ code: 'conflict', details: { id: a[0]!.id, index: 0 } })
    } finally {
      await store.drop()
      await store.close()
    }
  })

  it("[L5] reads the last event's recordedAt right whatever the session's DateStyle and TimeZone", async () => {
    const url = new URL(connectionString)
    url.searchParams.set('options', '-c DateStyle=SQL,DMY -c TimeZone=Asia/Kathmandu')
    const store = await PostgresEventStore.open({
      connectionString: url.toString(),
      table: freshTable(),
      pollMs: 60_000,
    })
    try {
      const ahead = '2099-01-02T03:04:05.678Z'
      await store.appendStored([{ ...observation(0), seq: 1, recordedAt: ahead } as StoredEvent])
      // in one round trip (placed after the head) and in two (small enough for a notification)
      const large = await store.append(Array.from({ length: 300 }, (_, i) => withText(1 + i)))
      const small = await store.append([withText(400), withText(401)])
      expect([...large, ...small].map((r) => r.seq)).toEqual(Array.from({ length: 302 }, (_, i) => i + 2))
      const stored = await bodies(store)
      expect(stored.every((row) => row.recordedAt === ahead)).toBe(true)
      const held = await store.readAfter(0, 303)
      expect(held.map((event) => event.recordedAt)).toEqual(stored.map(() => ahead))
      expect(held).toEqual(stored.map((row) => JSON.parse(row.body)))
      // a restore after them continues from the same recordedAt
      await expect(
        store.appendStored([{ ...observation(500), seq: 304, recordedAt: '2099-01-02T03:04:05.677Z' } as StoredEvent]),
      ).rejects.toMatchObject({ code: 'conflict' })
    } finally {
      await store.drop()
      await store.close()
    }
  })

  it('takes two round trips when an id of the group is already in the log: duplicates get their seqs, other content is refused and nothing written [L2, L3]', async () => {
    const store = await PostgresEventStore.open({ connectionString, table: freshTable(), pollMs: 60_000 })
    try {
      const first = Array.from({ length: 300 }, (_, i) => withText(i))
      await store.append(first)
      const sent = recordStatements(store)
      const again = [first[7]!, ...Array.from({ length: 299 }, (_, i) => withText(1_000 + i))]
      const results = await store.append(again)
      // nothing written by the first (no error either), then the lock, the head and the ids read first
      expect(sent.statements).toEqual(['BEGIN', 'BEGIN', 'INSERT'])
      expect(results[0]).toEqual({ id: first[7]!.id, seq: 8, duplicate: true })
      expect(results.slice(1).map((r) => r.seq)).toEqual(Array.from({ length: 299 }, (_, i) => 301 + i))
      const other = [
        withText(2_000),
        ...Array.from({ length: 299 }, (_, i) => withText(3_000 + i)),
        withText(5, first[3]!.id),
      ]
      sent.statements.length = 0
      await expect(store.append(other)).rejects.toMatchObject({ code: 'conflict' })
      expect(sent.statements).toEqual(['BEGIN', 'BEGIN', 'COMMIT'])
      sent.stop()
      expect(await store.head()).toBe(599)
      expect((await bodies(store)).length).toBe(599)
    } finally {
      await store.drop()
      await store.close()
    }
  })
})

describe('PostgreSQL store: drop', () => {
  it('leaves no table of its own behind (tests drop what every migration made)', async () => {
    const table = freshTable()
    const store = await PostgresEventStore.open({ connectionString, table, pollMs: 60_000 })
    try {
      await store.append([observation(1)])
      expect(await tablesStartingWith(connectionString, table)).toContain(`${table}_notify_key`)
      await store.drop()
      expect(await tablesStartingWith(connectionString, table)).toEqual([])
    } finally {
      await store.close()
    }
  })
})

describe('PostgreSQL store: reads of what memory lacks', () => {
  it('reads from the table only the events another process committed unheard, and its own from memory', async () => {
    const table = freshTable()
    const [mine, other] = [
      await PostgresEventStore.open({ connectionString, table, pollMs: 60_000 }),
      await PostgresEventStore.open({ connectionString, table, pollMs: 60_000 }),
    ]
    const pool = (mine as unknown as { pool: pg.Pool }).pool
    const query = pool.query.bind(pool)
    const rows: number[] = []
    try {
      // a commit too large for a notification: this process hears its head only
      await other.append(Array.from({ length: 60 }, (_, i) => observation(i)))
      await mine.append(Array.from({ length: 40 }, (_, i) => observation(100 + i)))
      await other.append(Array.from({ length: 30 }, (_, i) => observation(200 + i)))
      await mine.append(Array.from({ length: 20 }, (_, i) => observation(300 + i)))
      pool.query = (async (...args: Parameters<typeof query>) => {
        const result = (await query(...args)) as unknown as pg.QueryResult
        rows.push(result.rowCount ?? 0)
        return result
      }) as typeof pool.query
      const read = await mine.readAfter(0, 1_000)
      expect(read.map((e) => e.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1))
      // the other's 60 and 30 from the table, this one's 40 and 20 from memory; the last query
      // asks for anything committed since (none)
      expect(rows).toEqual([60, 30, 0])
      // read again, all of it is in memory but what may have been committed since
      rows.length = 0
      expect((await mine.readAfter(0, 1_000)).map((e) => e.seq)).toEqual(read.map((e) => e.seq))
      expect(rows).toEqual([0])
    } finally {
      pool.query = query
      await mine.drop()
      await mine.close()
      await other.close()
    }
  })

  it('takes rows that its own commit brought into memory while the query ran from memory, not parsed again', async () => {
    const table = freshTable()
    const store = await PostgresEventStore.open({ connectionString, table, pollMs: 60_000 })
    const pool = (store as unknown as { pool: pg.Pool }).pool
    const query = pool.query.bind(pool)
    try {
      let committing: Promise<unknown> | undefined
      // the commit lands between the read's look at memory and its query's answer
      pool.query = (async (...args: Parameters<typeof query>) => {
        committing ??= store.append(Array.from({ length: 30 }, (_, i) => observation(i)))
        await committing
        return query(...args)
      }) as typeof pool.query
      const read = await store.readAfter(0, 100)
      pool.query = query
      expect(read.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
      const held = await store.readAfter(0, 100)
      expect(held.every((event, i) => event === read[i])).toBe(true)
    } finally {
      pool.query = query
      await store.drop()
      await store.close()
    }
  })
})

describe('PostgreSQL store and the roles of its database', () => {
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString })
    await client.connect()
    try {
      return await work(client)
    } finally {
      await client.end()
    }
  }
  /**
   * A role that may read and write the log's tables but create none (and read its notify key only
   * when `key`), and the connection string that signs in as it.
   */
  const roleOnLog = async (prefix: string, table: string, { key }: { key: boolean }) => {
    const role = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`
    const tables = [table, `${table}_snapshots`, `${table}_snapshot_parts`, `${table}_schema_migrations`]
    if (key) tables.push(`${table}_notify_key`)
    await admin(async (client) => {
      await client.query(`CREATE ROLE ${role} LOGIN`)
      await client.query(`REVOKE CREATE ON SCHEMA public FROM ${role}`)
      for (const t of tables) await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${t} TO ${role}`)
    })
    const url = new URL(connectionString)
    url.username = role
    return { role, url: url.toString() }
  }

  it('a head no commit made (any role may NOTIFY) is set right by the poll: later appends are told', async () => {
    const table = freshTable()
    const [writer, listener] = [
      await PostgresEventStore.open({ connectionString, table, pollMs: 60_000 }),
      await PostgresEventStore.open({ connectionString, table, pollMs: 100 }),
    ]
    try {
      const heads: number[] = []
      listener.onAppend((head) => heads.push(head))
      await admin((client) => client.query(`NOTIFY ${table}_appended, '1000000'`))
      await expect.poll(() => heads.at(-1), { timeout: 3000 }).toBe(1_000_000)
      const [result] = await writer.append([observation(1)])
      await expect.poll(() => heads.at(-1), { timeout: 3000 }).toBe(result!.seq)
      const [read] = await listener.readAfter(0, 10)
      expect(read?.id).toBe(result!.id)
    } finally {
      await writer.drop()
      await writer.close()
      await listener.close()
    }
  })

  it('a poll answered before a commit it hears of meanwhile is not taken for a lost head: the events stay in memory', async () => {
    const table = freshTable()
    const [writer, reader] = [
      await PostgresEventStore.open({ connectionString, table, pollMs: 60_000 }),
      await PostgresEventStore.open({ connectionString, table, pollMs: 50 }),
    ]
    const head = reader.head.bind(reader)
    let release = () => {}
    try {
      const heads: number[] = []
      reader.onAppend((seq) => heads.push(seq))
      const [first] = await writer.append([observation(1)])
      await expect.poll(() => heads.at(-1), { timeout: 3000 }).toBe(first!.seq)
      // the next poll's query is answered, and its answer is held until another commit has been heard
      let answered!: () => void
      const polled = new Promise<void>((resolve) => {
        answered = resolve
      })
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      reader.head = async () => {
        const seq = await head()
        reader.head = head
        answered()
        await held
        return seq
      }
      await polled
      const [second] = await writer.append([observation(2)])
      await expect.poll(() => heads.at(-1), { timeout: 3000 }).toBe(second!.seq)
      release()
      // the poll's answer (the first seq) comes after the second was heard; it is not a lost head
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(heads).toEqual([first!.seq, second!.seq])
      const queries = countQueries(reader)
      try {
        const read = await reader.readAfter(first!.seq, 1)
        expect({ ids: read.map((event) => event.id), queries: queries.count }).toEqual({
          ids: [second!.id],
          queries: 0,
        })
      } finally {
        queries.stop()
      }
    } finally {
      release()
      reader.head = head
      await writer.drop()
      await writer.close()
      await reader.close()
    }
  })

  it('a role that may read and write the log, but not create tables, opens it', async () => {
    const table = freshTable()
    const maker = await PostgresEventStore.open({ connectionString, table })
    await maker.append([observation(1)])
    const { role, url } = await roleOnLog('wf_test_app', table, { key: true })
    try {
      const app = await PostgresEventStore.open({ connectionString: url, table })
      try {
        const [result] = await app.append([observation(2)])
        expect(result!.seq).toBe(2)
      } finally {
        await app.close()
      }
    } finally {
      await maker.drop()
      await maker.close()
      await admin((client) => client.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`))
    }
  })

  it('a role that may not read the key opens the log all the same: its commits go as heads only, and are read back', async () => {
    const table = freshTable()
    const maker = await PostgresEventStore.open({ connectionString, table })
    const { role, url } = await roleOnLog('wf_test_nokey', table, { key: false })
    try {
      const app = await PostgresEventStore.open({ connectionString: url, table })
      try {
        expect(app.sealer).toBeUndefined()
        expect(maker.sealer).toBeDefined()
        const heads: number[] = []
        maker.onAppend((head) => heads.push(head))
        const [result] = await app.append([observation(7)])
        expect(result!.seq).toBe(1)
        await expect.poll(() => heads.at(-1), { timeout: 3000 }).toBe(1)
        const [read] = await maker.readAfter(0, 1)
        expect(read!.id).toBe(result!.id)
      } finally {
        await app.close()
      }
    } finally {
      await maker.drop()
      await maker.close()
      await admin((client) => client.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`))
    }
  })
})

/**
 * PostgreSQL keeps NOTIFY channels and advisory locks per database, not per schema. Two logs in two
 * schemas of one database (each its own `search_path`, the same table name) must neither hear each
 * other's heads nor wait on each other's locks.
 */
describe('PostgreSQL stores in two schemas of one database', () => {
  const schemas = testSchemas(connectionString, 2)
  const url = schemas.url
  const stores: PostgresEventStore[] = []
  afterAll(async () => {
    for (const store of stores) await store.close()
    await schemas.drop()
  })

  it('hear only their own heads and take only their own locks', async () => {
    await schemas.create()
    // two processes per log, every one with the default table name
    for (const schema of schemas.names)
      for (let i = 0; i < 2; i++)
        stores.push(await PostgresEventStore.open({ connectionString: url(schema), pollMs: 60_000 }))
    const [aWriter, aListener, bWriter, bListener] = stores as [
      PostgresEventStore,
      PostgresEventStore,
      PostgresEventStore,
      PostgresEventStore,
    ]
    const heard = { a: [] as number[], b: [] as number[] }
    aListener.onAppend((head) => heard.a.push(head))
    bListener.onAppend((head) => heard.b.push(head))

    await aWriter.append(Array.from({ length: 5 }, (_, i) => observation(i)))
    await expect.poll(() => heard.a.at(-1), { timeout: 3000 }).toBe(5)
    const [b] = await bWriter.append([observation(1)])
    expect(b!.seq).toBe(1)
    // b's own head reaches b's other process, though a's log is ahead of it
    await expect.poll(() => heard.b.at(-1), { timeout: 3000 }).toBe(1)
    await new Promise((r) => setTimeout(r, 200))
    expect(heard.b).toEqual([1])
    expect(heard.a).toEqual([5])

    // a lock of one log held: the other log's lock of the same name is free
    let release!: () => void
    const held = new Promise<void>((r) => {
      release = r
    })
    const aHolds = aWriter.exclusive('lease', () => held)
    const bTook = await Promise.race([
      bWriter.exclusive('lease', async () => 'taken'),
      new Promise((r) => setTimeout(() => r('waited'), 2000)),
    ])
    release()
    await aHolds
    expect(bTook).toBe('taken')
  })
})

describe('PostgreSQL store: the notification queue', () => {
  it('tells how full the cluster notification queue is, 0 to 1', async () => {
    const table = freshTable()
    const store = await PostgresEventStore.open({ connectionString, table })
    try {
      await store.append([observation(1)])
      const usage = await store.notificationQueueUsage()
      expect(usage).toBeGreaterThanOrEqual(0)
      expect(usage).toBeLessThan(1)
    } finally {
      await store.drop()
      await store.close()
    }
  })
})

describe('PostgreSQL store: a lock whose connection is cut', () => {
  it('says it no longer holds, and another process takes the lock while the first still works', async () => {
    const table = freshTable()
    const name = `wf_lock_${table.slice(8)}`
    const url = new URL(connectionString)
    url.searchParams.set('application_name', name)
    const [a, b] = await Promise.all(
      [0, 1].map(() => PostgresEventStore.open({ connectionString: url.toString(), table, pollMs: 60_000 })),
    )
    const admin = new pg.Client({ connectionString })
    await admin.connect()
    let release!: () => void
    const working = new Promise<void>((r) => {
      release = r
    })
    try {
      const seen: boolean[] = []
      let heldOf!: () => boolean
      const aWorks = a!.exclusive('commands', async (held) => {
        heldOf = held
        seen.push(held())
        await working
        seen.push(held())
      })
      await expect.poll(() => seen.length).toBe(1)
      // the lock's connection is the one whose last statement took it
      const cut = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'SELECT pg_advisory_lock%'",
        [name],
      )
      expect(cut.rowCount).toBe(1)
      await expect.poll(() => heldOf(), { timeout: 3000 }).toBe(false)
      // PostgreSQL released it with the connection: the other process takes it at once
      expect(await b!.exclusive('commands', async (held) => held())).toBe(true)
      release()
      await aWorks
      expect(seen).toEqual([true, false])
      // and the first takes it again afterwards, on a new connection
      expect(await a!.exclusive('commands', async (held) => held())).toBe(true)
    } finally {
      release()
      await admin.end()
      await a!.drop()
      await Promise.all([a!.close(), b!.close()])
    }
  })
})

describe("PostgreSQL log's writers: servers side by side, an import or a restore alone", () => {
  it('refuses a restore while a server holds the log, and a server while a restore does; a lost shared claim is taken again', async () => {
    const table = freshTable()
    const open = (writers?: 'shared' | 'alone') =>
      PostgresEventStore.open({ connectionString, table, ...(writers ? { writers } : {}) })
    const opened: PostgresEventStore[] = []
    const admin = new pg.Client({ connectionString })
    await admin.connect()
    try {
      // two servers (or a server and an import) append side by side; a reader claims nothing
      const first = await open('shared')
      opened.push(first)
      opened.push(await open('shared'))
      opened.push(await open())
      await expect(open('alone')).rejects.toThrow(
        `the event log in PostgreSQL 127.0.0.1:5432/test (table ${table}) is open for writing in another process (a server, an import or a restore): stop it first; an import or a restore writes alone`,
      )
      await expect(open('alone')).rejects.toMatchObject({ name: 'LogInUseError' })
      // the claim's connection cut (a database restart): taken again, so a restore is still refused
      const claimers = async () =>
        (
          await admin.query<{ pid: number }>(
            // the connections holding a claim (one that tried and was refused may still be listed, ending)
            "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted WHERE a.application_name = $1",
            [`watchfloor-writers ${table}`],
          )
        ).rows.map((row) => row.pid)
      const before = await claimers()
      expect(before).toHaveLength(2)
      expect(await cutClaims(admin, table)).toBe(2)
      // taken again on new connections: a cut backend may still be listed, holding its lock, while it
      // ends (pg_terminate_backend does not wait), so the count alone could be the old two
      await expect
        .poll(
          async () => {
            const now = await claimers()
            return now.length === 2 && now.every((pid) => !before.includes(pid))
          },
          { timeout: 5000, interval: 100 },
        )
        .toBe(true)
      await expect(open('alone')).rejects.toMatchObject({ name: 'LogInUseError' })
      // the writers gone (closed, or their process ended): the restore takes the log alone
      for (const store of opened.splice(0)) await store.close()
      const restore = await open('alone')
      try {
        await expect(open('shared')).rejects.toThrow(
          `the event log in PostgreSQL 127.0.0.1:5432/test (table ${table}) is being imported or restored by another process: start once it has finished`,
        )
        await expect(open('alone')).rejects.toMatchObject({ name: 'LogInUseError' })
        // a reader still reads beside it
        const reader = await open()
        expect(await reader.head()).toBe(0)
        await reader.close()
      } finally {
        await restore.close()
      }
      // once it is done, servers start again
      opened.push(await open('shared'))
    } finally {
      for (const store of opened) await store.close()
      // the tables go whatever happened above
      const cleaner = await open()
      await cleaner.drop()
      await cleaner.close()
      await admin.end()
    }
  })
})

/** Cut the connections holding a claim on `table`'s log (a database restart, an operator's pg_terminate_backend): how many. */
async function cutClaims(admin: pg.Client, table: string): Promise<number> {
  const cut = await admin.query(
    "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted WHERE a.application_name = $1",
    [`watchfloor-writers ${table}`],
  )
  return cut.rowCount ?? 0
}

/** `table`'s log opened as a writer of `writers` as soon as it may be (tried every `interval` ms), within `timeout` ms. */
async function openOnceFree(
  table: string,
  writers: 'shared' | 'alone',
  timeout: number,
  interval: number,
): Promise<PostgresEventStore> {
  const until = Date.now() + timeout
  for (;;) {
    const store = await PostgresEventStore.open({ connectionString, table, writers }).catch((error: unknown) => {
      if (Date.now() > until) throw error
      return undefined
    })
    if (store !== undefined) return store
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}

describe('a PostgreSQL writer alone whose claim is lost', () => {
  it('writes no more stored events: a server may have started beside it since', async () => {
    const table = freshTable()
    const admin = new pg.Client({ connectionString })
    await admin.connect()
    const restore = await PostgresEventStore.open({ connectionString, table, writers: 'alone' })
    let server: PostgresEventStore | undefined
    try {
      const recordedAt = new Date().toISOString()
      const stored = (n: number) => ({ ...observation(n), seq: n, recordedAt }) as StoredEvent
      expect(await restore.appendStored([stored(1)])).toBe(1)
      // its connection cut: the claim went with it, and a server takes the log
      expect(await cutClaims(admin, table)).toBe(1)
      server = await openOnceFree(table, 'shared', 5000, 100)
      // the restore stops rather than write between the server's appends
      await expect(restore.appendStored([stored(2)])).rejects.toThrow(
        /the claim on the event log .* was lost \(its connection to PostgreSQL was cut\)/,
      )
      expect(await restore.head()).toBe(1)
    } finally {
      await server?.close()
      await restore.drop()
      await restore.close()
      await admin.end()
    }
  })
})

describe('a PostgreSQL server whose claim is lost', () => {
  it('appends nothing while it does not hold the claim again: a restore may hold the log alone by then', async () => {
    const table = freshTable()
    const admin = new pg.Client({ connectionString })
    await admin.connect()
    const server = await PostgresEventStore.open({ connectionString, table, writers: 'shared' })
    let restore: PostgresEventStore | undefined
    try {
      // the server's claim cut (a database restart, an operator's pg_terminate_backend)
      expect(await cutClaims(admin, table)).toBe(1)
      // a restore takes the log alone before the server takes its claim again (it tries every second)
      restore = await openOnceFree(table, 'alone', 900, 20)
      const recordedAt = new Date().toISOString()
      expect(await restore!.appendStored([{ ...observation(1), seq: 1, recordedAt } as StoredEvent])).toBe(1)
      // the server appends nothing beside it, and says why
      const refused = server.append([observation(2)])
      await expect(refused).rejects.toThrow(
        `the event log in PostgreSQL 127.0.0.1:5432/test (table ${table}) cannot be written now: this process's claim on it was lost (its connection to PostgreSQL was cut) and is being taken again; try again shortly`,
      )
      await expect(refused).rejects.toMatchObject({ code: 'unavailable' })
      // the restore goes on, its seqs its own
      expect(await restore!.appendStored([{ ...observation(3), seq: 2, recordedAt } as StoredEvent])).toBe(2)
      await restore!.close()
      restore = undefined
      // done: the server holds its claim again and appends after the restored events
      let appended: number | undefined
      await expect
        .poll(
          async () => {
            appended ??= await server.append([observation(4)]).then(
              ([result]) => result!.seq,
              () => undefined,
            )
            return appended
          },
          { timeout: 5000, interval: 100 },
        )
        .toBe(3)
    } finally {
      await restore?.close()
      await server.drop()
      await server.close()
      await admin.end()
    }
  })
})

describe('a PostgreSQL server asks the database under the append lock', () => {
  it('appends nothing while a restore holds the log, even while its own claim still says it holds it', async () => {
    const table = freshTable()
    const server = await PostgresEventStore.open({ connectionString, table, writers: 'shared' })
    let restore: PostgresEventStore | undefined
    try {
      // the lock let go on the claim's own connection (as a cut the client has not heard of yet would)
      const claim = (server as unknown as { writers: { client: pg.Client; held: boolean } }).writers
      await claim.client.query('SELECT pg_advisory_unlock_all()')
      expect(claim.held).toBe(true)
      restore = await PostgresEventStore.open({ connectionString, table, writers: 'alone' })
      const recordedAt = new Date().toISOString()
      expect(await restore.appendStored([{ ...observation(1), seq: 1, recordedAt } as StoredEvent])).toBe(1)
      // every way of a group commit: in two round trips (a group that goes out in a notification, or
      // with an id already in the log), and in one (a group too large for a notification)
      await expect(server.append([observation(2)])).rejects.toMatchObject({ code: 'unavailable' })
      await expect(server.append([observation(1)])).rejects.toThrow(/cannot be written now/)
      const large = Array.from({ length: 40 }, (_, i) => observation(100 + i))
      await expect(server.append(large)).rejects.toThrow(/cannot be written now/)
      // the server now knows its claim lost: its ping says so (/readyz), and it takes the claim again
      expect(claim.held).toBe(false)
      await expect(server.ping()).rejects.toMatchObject({ code: 'unavailable', details: { reason: 'claim_lost' } })
      expect(await restore.appendStored([{ ...observation(3), seq: 2, recordedAt } as StoredEvent])).toBe(2)
      expect(await restore.head()).toBe(2)
      await restore.close()
      restore = undefined
      await expect.poll(() => claim.held, { timeout: 5000, interval: 100 }).toBe(true)
      await server.ping()
      expect((await server.append([observation(4)]))[0]!.seq).toBe(3)
      // and holds it as a session claim again: a restore is refused at start
      await expect(PostgresEventStore.open({ connectionString, table, writers: 'alone' })).rejects.toMatchObject({
        name: 'LogInUseError',
      })
    } finally {
      await restore?.close()
      await server.drop()
      await server.close()
    }
  })
})

describe('a PostgreSQL writer alone asks the database before each page', () => {
  it('writes nothing once the lock is gone, even while its own connection still says it holds it', async () => {
    const table = freshTable()
    const restore = await PostgresEventStore.open({ connectionString, table, writers: 'alone' })
    try {
      const recordedAt = new Date().toISOString()
      const stored = (n: number) => ({ ...observation(n), seq: n, recordedAt }) as StoredEvent
      expect(await restore.appendStored([stored(1)])).toBe(1)
      // the lock let go on the claim's own connection (as a cut the client has not heard of yet would)
      const claim = (restore as unknown as { writers: { client: pg.Client; held: boolean } }).writers
      await claim.client.query('SELECT pg_advisory_unlock_all()')
      expect(claim.held).toBe(true)
      await expect(restore.appendStored([stored(2)])).rejects.toThrow(/the claim on the event log .* was lost/)
      expect(await restore.head()).toBe(1)
    } finally {
      await restore.drop()
      await restore.close()
    }
  })
})

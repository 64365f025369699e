import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { observation, registerEventStoreContract } from './contract.ts'
import { SqliteCredentialStore } from './credentials-sqlite.ts'
import { contentJson, storedBody } from './plan.ts'
import { SNAPSHOT_PART_CHARS } from './snapshots.ts'
import { SqliteEventStore, secureSqliteFiles } from './sqlite.ts'
import type { EventStore } from './types.ts'

const files = new WeakMap<EventStore, string>()

for (const [name, options] of [
  ['sqlite', {}],
  // readers of older events go to the file rather than the in-memory tail
  ['sqlite, 3 events kept in memory', { recentEvents: 3 }],
  // ids move into the id index every 4 events, 3 per transaction
  ['sqlite, ids indexed every 4 events', { indexEvery: 4, indexChunk: 3 }],
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

/** A new SQLite file in a folder of its own for each call; the folders go after each test. */
function scratchFiles(): () => string {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-sqlite-'))
    dirs.push(dir)
    return join(dir, 'events.sqlite')
  }
}

describe('SqliteEventStore id index', () => {
  const fileIn = scratchFiles()

  it('opens a file of the first schema (UNIQUE ids) and keeps every id findable', async () => {
    const file = fileIn()
    const events = Array.from({ length: 30 }, (_, i) => observation(i))
    const old = new Database(file)
    old.exec(
      `CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, recorded_at TEXT NOT NULL, body TEXT NOT NULL)`,
    )
    const insert = old.prepare('INSERT INTO events (seq, id, recorded_at, body) VALUES (?, ?, ?, ?)')
    events.forEach((event, i) => {
      const recordedAt = new Date(Date.UTC(2026, 10, 26, 9) + i).toISOString()
      insert.run(i + 1, event.id, recordedAt, storedBody(i + 1, recordedAt, contentJson(event)))
    })
    old.close()

    const store = new SqliteEventStore({ file })
    try {
      expect(await store.head()).toBe(30)
      expect((await store.readAfter(28, 5)).map((e) => e.id)).toEqual([events[28]!.id, events[29]!.id])
      expect(await store.append([events[3]!])).toEqual([{ id: events[3]!.id, seq: 4, duplicate: true }])
      await expect(store.append([observation(77, events[3]!.id)])).rejects.toMatchObject({ code: 'conflict' })
      expect((await store.append([observation(30)]))[0]).toMatchObject({ seq: 31, duplicate: false })
    } finally {
      await store.close()
    }
    const db = new Database(file, { readonly: true })
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(1)
      expect(db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').pluck().get('events')).not.toMatch(/UNIQUE/)
      // the migration moved every id of the first schema into the index
      expect(db.prepare('SELECT count(*) FROM event_ids').pluck().get()).toBe(30)
    } finally {
      db.close()
    }
  })

  it('moves ids into the index between appends, and a job cut short is redone after a restart', async () => {
    const file = fileIn()
    const options = { file, indexEvery: 20, indexChunk: 5 }
    const events = Array.from({ length: 40 }, (_, i) => observation(i))
    const store = new SqliteEventStore(options)
    const appended = store.append(events.slice(0, 20))
    // the group commits in the next turn and a job of 20 ids in chunks of 5 starts; let one chunk
    // commit, then stop the process (the append is acknowledged once its sync is done)
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    const closed = store.close()
    await appended
    await closed
    const indexed = () => {
      const db = new Database(file, { readonly: true })
      try {
        return {
          ids: db.prepare('SELECT count(*) FROM event_ids').pluck().get(),
          upTo: db.prepare("SELECT value FROM event_store WHERE key = 'indexed_to'").pluck().get() ?? 0,
        }
      } finally {
        db.close()
      }
    }
    const cut = indexed()
    expect(cut.upTo).toBe(0)
    expect(cut.ids).toBeGreaterThan(0)
    expect(cut.ids).toBeLessThan(20)

    const reopened = new SqliteEventStore(options)
    try {
      await reopened.append(events.slice(20))
      await expect.poll(() => indexed().upTo).toBe(40)
      expect(indexed().ids).toBe(40)
      for (const k of [0, 4, 19, 20, 39])
        expect(await reopened.append([events[k]!])).toEqual([{ id: events[k]!.id, seq: k + 1, duplicate: true }])
      expect(await reopened.head()).toBe(40)
    } finally {
      await reopened.close()
    }
  })
})

/** Node's FileHandle prototype, whose `datasync` the store calls on its write-ahead log. */
async function fileHandlePrototype(file: string): Promise<{ datasync: () => Promise<void> }> {
  const handle = await open(file, 'w')
  await handle.close()
  return Object.getPrototypeOf(handle) as { datasync: () => Promise<void> }
}

describe('SqliteEventStore durability', () => {
  const dirs: string[] = []
  afterEach(() => {
    vi.restoreAllMocks()
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it('after a failed sync of its write-ahead log, acknowledges and serves nothing more, and takes no more events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-sqlite-'))
    dirs.push(dir)
    const file = join(dir, 'events.sqlite')
    const store = new SqliteEventStore({ file })
    const proto = await fileHandlePrototype(join(dir, 'probe'))
    try {
      await store.append([observation(1)])
      // the disk fails the next sync once (EIO); the kernel may have dropped what it could not write
      const sync = vi.spyOn(proto, 'datasync').mockRejectedValueOnce(Object.assign(new Error('EIO'), { code: 'EIO' }))
      const told: number[] = []
      store.onAppend((head) => told.push(head))
      await expect(store.append([observation(2)])).rejects.toThrow(/could not be synced/)
      expect(sync).toHaveBeenCalledTimes(1)
      // nothing after the failure is acknowledged, told or readable, even though a sync would now succeed
      await expect(store.append([observation(3)])).rejects.toThrow(/could not be synced/)
      expect(told).toEqual([])
      expect(await store.head()).toBe(1)
      expect((await store.readAfter(0, 10)).map((event) => event.seq)).toEqual([1])
    } finally {
      await store.close()
    }
    // opened again, the store takes events once more
    const reopened = new SqliteEventStore({ file })
    try {
      const [result] = await reopened.append([observation(4)])
      expect(result!.seq).toBeGreaterThan(1)
    } finally {
      await reopened.close()
    }
  })

  it('on an in-memory database (no log to sync) acknowledges one group after another', async () => {
    const store = new SqliteEventStore({ file: ':memory:' })
    try {
      const told: number[] = []
      store.onAppend((head) => told.push(head))
      // one after the other (each sync over before the next commit) and two in one turn
      expect((await store.append([observation(1)])).map((r) => r.seq)).toEqual([1])
      expect((await store.append([observation(2)])).map((r) => r.seq)).toEqual([2])
      const both = await Promise.all([store.append([observation(3)]), store.append([observation(4)])])
      expect(both.map((results) => results.map((r) => r.seq))).toEqual([[3], [4]])
      expect(told.at(-1)).toBe(4)
      expect((await store.readAfter(0, 10)).map((event) => event.seq)).toEqual([1, 2, 3, 4])
    } finally {
      await store.close()
    }
  })

  it('acknowledges, tells and serves a group only once its write-ahead log is synced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-sqlite-'))
    dirs.push(dir)
    const file = join(dir, 'events.sqlite')
    const store = new SqliteEventStore({ file })
    const sync = vi.spyOn(await fileHandlePrototype(join(dir, 'probe')), 'datasync')
    try {
      const told: number[] = []
      store.onAppend((head) => told.push(head))
      let acknowledged = false
      let syncedBeforeAcknowledged = false
      const appended = store.append([observation(1), observation(2)]).then((results) => {
        acknowledged = true
        syncedBeforeAcknowledged = sync.mock.calls.length > 0
        return results
      })
      // the group commits in the next turn; its sync runs on the thread pool, after this turn
      await new Promise((r) => setImmediate(r))
      const db = new Database(file, { readonly: true })
      try {
        // committed in the file (another connection reads it) ...
        expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(2)
      } finally {
        db.close()
      }
      // ... but neither acknowledged, told nor readable before the sync returns
      expect(acknowledged).toBe(false)
      expect(told).toEqual([])
      expect(await store.head()).toBe(0)
      expect(await store.readAfter(0, 10)).toEqual([])
      expect(await store.readRecordedRange('2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z', 0, 10)).toEqual([])
      const results = await appended
      expect(syncedBeforeAcknowledged).toBe(true)
      expect(results.map((result) => result.seq)).toEqual([1, 2])
      expect(told).toEqual([2])
      expect(await store.head()).toBe(2)
      expect((await store.readAfter(0, 10)).map((event) => event.seq)).toEqual([1, 2])
    } finally {
      await store.close()
    }
  })

  it('answers a repeated id, sent while its first group waits for its sync, only after that sync', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-sqlite-'))
    dirs.push(dir)
    const store = new SqliteEventStore({ file: join(dir, 'events.sqlite') })
    try {
      const event = observation(7)
      const first = store.append([event])
      await new Promise((r) => setImmediate(r))
      // committed, not yet synced: the repeat is a duplicate of seq 1 and waits like the first
      const again = store.append([event])
      const [a, b] = await Promise.all([first, again])
      expect(a[0]!.seq).toBe(1)
      expect(b[0]).toMatchObject({ seq: 1, duplicate: true })
      expect(await store.head()).toBe(1)
    } finally {
      await store.close()
    }
  })
})

describe('SqliteEventStore snapshots in parts', () => {
  const fileIn = scratchFiles()
  const longBody = (parts: number, mark: string) =>
    JSON.stringify({ mark, fill: 'x'.repeat(Math.ceil(SNAPSHOT_PART_CHARS * (parts - 0.5))) })
  const partRows = (file: string) => {
    const db = new Database(file, { readonly: true })
    try {
      return db.prepare<[], { n: number }>('SELECT count(*) AS n FROM snapshot_parts').get()!.n
    } finally {
      db.close()
    }
  }

  it('a long body is written a part per turn of the event loop, not in one statement', async () => {
    const file = fileIn()
    const store = new SqliteEventStore({ file })
    try {
      const body = longBody(6, 'six')
      let turns = 0
      let counting = true
      const count = () => {
        turns++
        if (counting) setImmediate(count)
      }
      setImmediate(count)
      await store.snapshots.save({ key: 'whole', version: 1, seq: 5, body })
      counting = false
      // one turn after each of the six parts at least (one statement would leave the loop no turn)
      expect(turns).toBeGreaterThanOrEqual(6)
      expect((await store.snapshots.load('whole', 1, 5))?.body).toBe(body)
      expect(partRows(file)).toBe(6)
    } finally {
      await store.close()
    }
  })

  it('keeps no parts of bodies replaced or snapshots trimmed; parts a crash left are gone at open', async () => {
    const file = fileIn()
    let store = new SqliteEventStore({ file })
    try {
      await store.snapshots.save({ key: 'whole', version: 1, seq: 5, body: longBody(3, 'a') }, 2)
      await store.snapshots.save({ key: 'whole', version: 1, seq: 5, body: longBody(2, 'b') }, 2)
      expect(partRows(file)).toBe(2)
      await store.snapshots.save({ key: 'whole', version: 1, seq: 6, body: longBody(3, 'c') }, 2)
      await store.snapshots.save({ key: 'whole', version: 1, seq: 7, body: '{"short":true}' }, 2)
      // kept: 6 (three parts) and 7 (none); 5 was trimmed with its parts
      expect(partRows(file)).toBe(3)
      expect(await store.snapshots.prune({ version: 2, keepPerKey: 1, maxKeys: 10 })).toBe(2)
      expect(partRows(file)).toBe(0)
      await store.close()
      // a save cut short: parts written, the row never
      const db = new Database(file)
      db.prepare('INSERT INTO snapshot_parts (id, part, body) VALUES (?, ?, ?), (?, ?, ?)').run(7, 0, 'x', 7, 1, 'y')
      // a row whose parts are not all there (not written by this code) is not read as a body
      db.prepare(
        'INSERT INTO snapshots (key, version, seq, used_at, body, parts_id, parts) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run('broken', 1, 3, 1, '', 9, 2)
      db.prepare('INSERT INTO snapshot_parts (id, part, body) VALUES (?, ?, ?)').run(9, 0, '{"half":')
      db.close()
      store = new SqliteEventStore({ file })
      expect(partRows(file)).toBe(1)
      expect(await store.snapshots.load('broken', 1, 3)).toBeUndefined()
    } finally {
      await store.close()
    }
  })
})

describe('SqliteEventStore file modes', () => {
  const mode = (path: string) => (statSync(path).mode & 0o777).toString(8)

  it('makes its folder 0700 and the database, -wal and -shm 0600; tightens wider ones it opens, and says which', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-sqlite-modes-'))
    try {
      const file = join(dir, 'data', 'events.sqlite')
      const store = new SqliteEventStore({ file })
      await store.append([observation(1)])
      expect(mode(join(dir, 'data'))).toBe('700')
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(mode(path), path).toBe('600')
      expect(store.tightened).toEqual([])
      // the credential store of the same file finds nothing to tighten
      const credentials = new SqliteCredentialStore({ file })
      expect(credentials.tightened).toEqual([])
      await credentials.close()

      // files left readable by others (an older release, a copy made by hand): set to 0600 at open
      for (const path of [file, `${file}-wal`, `${file}-shm`]) chmodSync(path, 0o644)
      const again = new SqliteEventStore({ file })
      expect(again.tightened).toEqual([file, `${file}-wal`, `${file}-shm`])
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(mode(path), path).toBe('600')
      await again.close()
      await store.close()
      expect(secureSqliteFiles(':memory:')).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

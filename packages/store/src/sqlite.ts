import { chmodSync, closeSync, openSync, statSync } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { StoredEvent } from '@watchfloor/protocol'
import Database from 'better-sqlite3'
import { makeFolder } from './folder.ts'
import { idHash } from './id-hash.ts'
import { checkSqliteVersion, migrateSqlite } from './migrations.ts'
import {
  contentOfBody,
  type Existing,
  isoBound,
  type PendingAppend,
  type Plan,
  pendingAppend,
  planGroup,
  type Row,
} from './plan.ts'
import { detectSqliteEvents, SQLITE_EVENT_MIGRATIONS } from './schema-sqlite.ts'
import { SqliteSnapshotStore } from './snapshots.ts'
import { eventOfRow, idInLog, storedRows } from './stored.ts'
import type { AcceptedEvent, AppendResult, EventStore } from './types.ts'
import { claimWriter, type WriterClaim } from './writer.ts'

export { idHash }

export interface SqliteStoreOptions {
  /** Path of the database file; its folder is created. */
  file: string
  /** Events kept in memory after commit so that readers of the newest events need not parse them back. */
  recentEvents?: number
  /** Ids of the newest events kept in memory before they are moved into the id index, in one go. */
  indexEvery?: number
  /** Ids moved into the id index per transaction while it catches up. */
  indexChunk?: number
  /**
   * Claim the log's one writer (writer.ts) for as long as it is open: a server, an import, a
   * restore. Opening fails with `LogInUseError` while another process holds it. Readers (a check,
   * an export, a backup) do not claim it.
   */
  writer?: boolean
  /**
   * Bring an older schema up to date on open (default true: a server, an import, a restore). False
   * for a command that only reads: nothing of the schema is written, and a file whose events schema
   * is not this release's is refused (`SchemaTooOldError`, `SchemaTooNewError`).
   */
  migrate?: boolean
}

/**
 * Make ready the folder and the files of a SQLite database before it is opened: it holds password
 * and token hashes and every event, TLP:RED included, so none of it is for other users of the
 * machine. A folder made here is 0700; a new database file is made 0600 (SQLite gives its `-wal` and
 * `-shm` the database file's mode); an existing database, `-wal` or `-shm` file that others may
 * read or write is set to 0600. Returns the files so tightened, for the caller to warn of; a file
 * this process may not change (another user's) is left as it is. `:memory:` needs nothing.
 */
export function secureSqliteFiles(file: string): string[] {
  if (file === '' || file === ':memory:') return []
  makeFolder(dirname(file))
  try {
    closeSync(openSync(file, 'wx', 0o600))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const tightened: string[] = []
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    let mode: number
    try {
      mode = statSync(path).mode
    } catch {
      continue
    }
    if ((mode & 0o077) === 0) continue
    try {
      chmodSync(path, 0o600)
      tightened.push(path)
    } catch {
      // not this process's file: whoever owns it sets its mode
    }
  }
  return tightened
}

/** Rows per INSERT statement. */
const CHUNK = 50
/** Hashes per id index lookup. */
const LOOKUP = 100

/** Ids being moved into the id index: sorted by hash, so each transaction writes one stretch of it. */
interface IndexJob {
  ids: ReadonlyMap<string, number>
  entries: { hash: number; seq: number }[]
  done: number
  /** Every id up to this seq is in the index once the job is done. */
  upTo: number
}

/**
 * The embedded event log: one SQLite file in WAL mode. Appends that arrive in
 * the same turn of the event loop share one transaction (group commit), and
 * acknowledged means on disk: after each commit the write-ahead log is synced
 * (`fdatasync`, what synchronous=FULL does inside the commit) on libuv's thread
 * pool, so the event loop keeps serving while the disk works. Until that sync
 * returns, the group is neither acknowledged nor readable: `head`, `readAfter`,
 * `readRecordedRange` and `onAppend` stop at the durable head, so no reader ever
 * sees an event a power cut could take back. Commits made while a sync runs
 * share the next one. A file belongs to one server process at a time.
 *
 * Ids are random (UUIDs chosen by senders), so an index on them would take a
 * write to a random page of a large B-tree for every event: with it, commits
 * wrote several times more pages than the events themselves. Instead the ids
 * of the newest events (seq above `indexedTo`) are held in memory, and moved
 * into `event_ids` (keyed by a hash of the id) in bulk, sorted, in short
 * transactions between appends. A restart rebuilds the in-memory part from
 * the events above `indexedTo`, so an id is found in one place or the other at
 * every moment [L2, L3].
 */
export class SqliteEventStore implements EventStore {
  readonly kind = 'sqlite'
  private readonly db: Database.Database
  private readonly listeners = new Set<(head: number, heard: boolean) => void>()
  private queue: PendingAppend[] = []
  private flushScheduled = false
  /** The last committed seq (what the next group is numbered after). */
  private headSeq: number
  /** The last seq whose commit is synced to disk: what readers and listeners are told. */
  private durableSeq: number
  /** The write-ahead log's path (undefined for an in-memory database: nothing to sync). */
  private readonly walFile: string | undefined
  /** Callbacks of commits made since the running sync started: the next sync covers them. */
  private unsynced: ((error: unknown) => void)[] = []
  private syncing: Promise<void> | undefined
  /**
   * The first failed sync of the write-ahead log. After one, the kernel may have dropped the pages
   * it could not write and a later sync would report success over them, so no later commit is
   * acknowledged, told or made readable, and appends are refused until the store is opened again.
   */
  private syncFailure: unknown
  /**
   * The write-ahead log, open for syncing from the first sync to `close`: SQLite keeps that file (it
   * resets it in place after a checkpoint) as long as this connection is open.
   */
  private wal: FileHandle | undefined
  private lastRecordedAt: string
  private closed = false
  private readonly statements
  private readonly insertChunk: Database.Statement<unknown[]>
  private readonly lookupChunk: Database.Statement<unknown[], { seq: number; id: string; body: string }>
  /** The newest committed events, in seq order, ending at headSeq. */
  private recent: StoredEvent[] = []
  private readonly recentLimit: number
  /** Every event up to this seq has its id in `event_ids`. */
  private indexedTo: number
  /** Ids of the events above `indexedTo` not in a running index job: id -> seq. */
  private tail = new Map<string, number>()
  private indexing: IndexJob | null = null
  private readonly indexEvery: number
  private readonly indexChunk: number
  /** Snapshots of folds, table `snapshots` in the same file. */
  readonly snapshots: SqliteSnapshotStore
  /** The files others could read or write that opening set to 0600 (`secureSqliteFiles`): a warning for the operator. */
  readonly tightened: readonly string[]
  /** The log's one writer, claimed when opened with `writer` (writer.ts). */
  private readonly writer: WriterClaim | undefined

  constructor(options: SqliteStoreOptions) {
    this.tightened = secureSqliteFiles(options.file)
    const memory = options.file === '' || options.file === ':memory:'
    this.writer = options.writer === true && !memory ? claimWriter(options.file) : undefined
    this.recentLimit = options.recentEvents ?? 20_000
    this.indexEvery = options.indexEvery ?? 50_000
    this.indexChunk = options.indexChunk ?? 5_000
    // whatever fails from here (not a database, a damaged file, a schema refused) lets the file and the claim go
    try {
      this.db = new Database(options.file)
      this.db.pragma('journal_mode = WAL')
      // commits do not sync inside SQLite: `sync` does, off the event loop, before anything is acknowledged
      this.db.pragma('synchronous = NORMAL')
      this.db.pragma('busy_timeout = 5000')
      this.migrate(options.migrate ?? true)
      this.snapshots = new SqliteSnapshotStore(this.db)
      this.statements = {
        insert: this.db.prepare<[number, string, string, string]>(
          'INSERT INTO events (seq, id, recorded_at, body) VALUES (?, ?, ?, ?)',
        ),
        body: this.db.prepare<[number], { body: string }>('SELECT body FROM events WHERE seq = ?'),
        after: this.db.prepare<[number, number], { seq: number; body: string }>(
          'SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
        ),
        between: this.db.prepare<[number, number, number], { seq: number; body: string }>(
          'SELECT seq, body FROM events WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?',
        ),
        recordedAt: this.db.prepare<[number], { recorded_at: string }>('SELECT recorded_at FROM events WHERE seq = ?'),
        last: this.db.prepare<[], { seq: number; recorded_at: string }>(
          'SELECT seq, recorded_at FROM events ORDER BY seq DESC LIMIT 1',
        ),
        tail: this.db.prepare<[number], { id: string; seq: number }>(
          'SELECT id, seq FROM events WHERE seq > ? ORDER BY seq',
        ),
        indexId: this.db.prepare<[number, number]>('INSERT OR IGNORE INTO event_ids (hash, seq) VALUES (?, ?)'),
        indexedTo: this.db.prepare<[], { value: number }>("SELECT value FROM event_store WHERE key = 'indexed_to'"),
        setIndexedTo: this.db.prepare<[number]>(
          "INSERT INTO event_store (key, value) VALUES ('indexed_to', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ),
      }
      this.insertChunk = this.db.prepare(
        `INSERT INTO events (seq, id, recorded_at, body) VALUES ${Array.from({ length: CHUNK }, () => '(?, ?, ?, ?)').join(', ')}`,
      )
      this.lookupChunk = this.db.prepare(
        `SELECT k.seq AS seq, e.id AS id, e.body AS body FROM event_ids k JOIN events e ON e.seq = k.seq
         WHERE k.hash IN (${Array.from({ length: LOOKUP }, () => '?').join(', ')})`,
      )
      const last = this.statements.last.get()
      this.headSeq = last?.seq ?? 0
      this.durableSeq = this.headSeq
      this.walFile = this.db.memory ? undefined : `${this.db.name}-wal`
      this.lastRecordedAt = last?.recorded_at ?? ''
      this.indexedTo = this.statements.indexedTo.get()?.value ?? 0
      for (const row of this.statements.tail.iterate(this.indexedTo)) this.tail.set(row.id, row.seq)
    } catch (error) {
      const opened = (this as unknown as { db?: Database.Database }).db
      if (opened?.open) opened.close()
      this.writer?.release()
      throw error
    }
    this.scheduleIndexing()
  }

  /**
   * Create the tables, or bring a file written by an earlier version up to date (the numbered
   * steps of `SQLITE_EVENT_MIGRATIONS`); a file of a newer schema is refused. Without `migrate`,
   * only the version is read, and a file of another version than this release's is refused.
   */
  private migrate(migrate: boolean): void {
    if (migrate) migrateSqlite(this.db, 'events', SQLITE_EVENT_MIGRATIONS, detectSqliteEvents)
    else checkSqliteVersion(this.db, 'events', SQLITE_EVENT_MIGRATIONS, detectSqliteEvents)
  }

  append(events: readonly AcceptedEvent[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Error('store is closed'))
    if (this.syncFailure !== undefined) return Promise.reject(syncFailed(this.syncFailure))
    if (events.length === 0) return Promise.resolve([])
    return new Promise((resolve, reject) => {
      this.queue.push(pendingAppend(events, resolve, reject))
      if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  private flush(): void {
    this.flushScheduled = false
    const pending = this.queue
    this.queue = []
    if (pending.length === 0) return
    let plan: Plan
    try {
      plan = this.db
        .transaction(() => {
          const plan = planGroup(pending, this.existing(pending), this.headSeq, this.lastRecordedAt, new Date())
          this.insert(plan.rows)
          return plan
        })
        .immediate()
    } catch (error) {
      for (const append of pending) append.reject(error)
      return
    }
    this.headSeq = plan.head
    this.lastRecordedAt = plan.lastRecordedAt
    for (const row of plan.rows) this.tail.set(row.id, row.seq)
    this.remember(plan.rows)
    this.scheduleIndexing()
    const answer = (error: unknown) =>
      plan.outcomes.forEach((outcome, i) => {
        const append = pending[i]!
        if (error) append.reject(error)
        else if (outcome.ok) append.resolve(outcome.results)
        else append.reject(outcome.error)
      })
    // nothing new and nothing waiting to be synced: the answers name durable seqs only
    if (plan.rows.length === 0 && this.headSeq === this.durableSeq) answer(undefined)
    // a duplicate's answer may name a seq still waiting for its sync: such answers wait for the next one
    else this.afterSync(answer)
  }

  /**
   * Call `done` once everything committed so far is synced to disk (with the error if the sync
   * failed: the commit stays in the file, unacknowledged and unread until the store is opened again,
   * which syncs it or finds it gone; a sender that retries with the same ids then gets its answer [L2]).
   */
  private afterSync(done: (error: unknown) => void): void {
    this.unsynced.push(done)
    if (!this.syncing) this.syncing = this.sync()
  }

  /** Sync the write-ahead log for the commits waiting, then for those that came meanwhile, in turn. */
  private async sync(): Promise<void> {
    // let `afterSync` note this sync as running first: one with nothing to await (an in-memory
    // database has no log to sync) would be over before it was noted, and none would start again
    await Promise.resolve()
    while (this.unsynced.length > 0) {
      const waiting = this.unsynced
      this.unsynced = []
      const upTo = this.headSeq
      let failure: unknown = this.syncFailure
      if (failure === undefined)
        try {
          if (this.walFile) {
            this.wal ??= await open(this.walFile, 'r')
            await this.wal.datasync()
          }
        } catch (error) {
          failure = syncFailed(error)
          this.syncFailure = failure
        }
      if (!failure && upTo > this.durableSeq) this.durableSeq = upTo
      // readers first: the fan-out of a group starts before its senders' answers are written (a
      // listener that throws never keeps an answer back)
      if (!failure)
        for (const listener of this.listeners)
          try {
            listener(this.durableSeq, false)
          } catch {}
      for (const done of waiting) done(failure)
    }
    this.syncing = undefined
  }

  /** Events as another log stored them (a restore), after what is queued; see `EventStore.appendStored`. */
  async appendStored(events: readonly StoredEvent[]): Promise<number> {
    if (this.closed) throw new Error('store is closed')
    if (this.syncFailure !== undefined) throw syncFailed(this.syncFailure)
    this.flush()
    const rows = storedRows(events, this.headSeq, this.lastRecordedAt)
    if (rows.length === 0) return this.headSeq
    this.db
      .transaction(() => {
        const found = this.existing([{ events: rows.map((row) => row.event), contents: [], resolve() {}, reject() {} }])
        for (const [id, { seq }] of found) throw idInLog(id, seq)
        this.insert(rows)
      })
      .immediate()
    const last = rows.at(-1)!
    this.headSeq = last.seq
    this.lastRecordedAt = last.recordedAt
    for (const row of rows) this.tail.set(row.id, row.seq)
    this.remember(rows)
    this.scheduleIndexing()
    await new Promise<void>((resolve, reject) => this.afterSync((error) => (error ? reject(error) : resolve())))
    return this.headSeq
  }

  async seqsOf(ids: readonly string[]): Promise<Map<string, number>> {
    const found = this.existing([
      { events: ids.map((id) => ({ id })) as AcceptedEvent[], contents: [], resolve() {}, reject() {} },
    ])
    return new Map([...found].map(([id, existing]) => [id, existing.seq]))
  }

  /** The ids of these appends that are already in the log, with their seq and content [L2, L3]. */
  private existing(pending: readonly PendingAppend[]): Map<string, Existing> {
    const existing = new Map<string, Existing>()
    const unknown = new Set<string>()
    for (const append of pending)
      for (const { id } of append.events) {
        if (existing.has(id) || unknown.has(id)) continue
        const seq = this.tail.get(id) ?? this.indexing?.ids.get(id)
        if (seq === undefined) unknown.add(id)
        else existing.set(id, { seq, content: contentOfBody(this.statements.body.get(seq)!.body) })
      }
    // before the first index job is done, every id in `event_ids` is also in memory
    if (unknown.size === 0 || this.indexedTo === 0) return existing
    const hashes = Array.from(unknown, idHash)
    for (let i = 0; i < hashes.length; i += LOOKUP) {
      const chunk = hashes.slice(i, i + LOOKUP)
      // -1 is no hash (hashes are never negative): it pads the last chunk
      while (chunk.length < LOOKUP) chunk.push(-1)
      // ids that only share a hash with one of ours are not ours
      for (const row of this.lookupChunk.all(chunk))
        if (unknown.has(row.id)) existing.set(row.id, { seq: row.seq, content: contentOfBody(row.body) })
    }
    return existing
  }

  /** Once enough ids are held in memory, start moving them into the index. */
  private scheduleIndexing(): void {
    if (this.indexing || this.closed || this.tail.size < this.indexEvery) return
    const ids = this.tail
    this.tail = new Map()
    const entries = Array.from(ids, ([id, seq]) => ({ hash: idHash(id), seq }))
    entries.sort((a, b) => a.hash - b.hash || a.seq - b.seq)
    this.indexing = { ids, entries, done: 0, upTo: this.headSeq }
    setImmediate(() => this.indexStep())
  }

  /** One short transaction of the running index job; appends waiting in between go first. */
  private indexStep(): void {
    const job = this.indexing
    if (!job || this.closed) return
    const end = Math.min(job.entries.length, job.done + this.indexChunk)
    try {
      this.db
        .transaction(() => {
          for (let i = job.done; i < end; i++) {
            const entry = job.entries[i]!
            this.statements.indexId.run(entry.hash, entry.seq)
          }
          if (end === job.entries.length) this.statements.setIndexedTo.run(job.upTo)
        })
        .immediate()
    } catch {
      // the ids stay in memory, so lookups still find them; try again later
      setTimeout(() => this.indexStep(), 1000).unref()
      return
    }
    job.done = end
    if (end < job.entries.length) {
      setImmediate(() => this.indexStep())
      return
    }
    this.indexedTo = job.upTo
    this.indexing = null
    this.scheduleIndexing()
  }

  private insert(rows: readonly Row[]): void {
    let i = 0
    for (; i + CHUNK <= rows.length; i += CHUNK) {
      const values: unknown[] = []
      for (let k = i; k < i + CHUNK; k++) {
        const row = rows[k]!
        values.push(row.seq, row.id, row.recordedAt, row.body)
      }
      this.insertChunk.run(values)
    }
    for (; i < rows.length; i++) {
      const row = rows[i]!
      this.statements.insert.run(row.seq, row.id, row.recordedAt, row.body)
    }
  }

  private remember(rows: readonly Row[]): void {
    if (rows.length === 0 || this.recentLimit === 0) return
    for (const row of rows) this.recent.push(row.event)
    if (this.recent.length > this.recentLimit * 1.5)
      this.recent = this.recent.slice(this.recent.length - this.recentLimit)
  }

  async readAfter(after: number, requested: number): Promise<StoredEvent[]> {
    // seqs have no gaps: at most the events up to the durable head
    const limit = Math.min(requested, this.durableSeq - after)
    if (limit <= 0) return []
    const first = this.recent[0]
    if (first && after + 1 >= first.seq) {
      // the newest events are still in memory (shared, immutable objects)
      const start = after + 1 - first.seq
      return this.recent.slice(start, start + limit)
    }
    return this.statements.after.all(after, limit).map(eventOfRow)
  }

  async readRecordedRange(from: string, to: string, after: number, limit: number): Promise<StoredEvent[]> {
    const start = Math.max(this.firstRecordedAtOrAfter(isoBound(from)), after + 1)
    const end = this.firstRecordedAtOrAfter(isoBound(to))
    if (start >= end) return []
    return this.statements.between.all(start - 1, end, limit).map(eventOfRow)
  }

  /** The first seq recorded at or after `time` (head + 1 when none): binary search, as recordedAt follows seq [L5]. */
  private firstRecordedAtOrAfter(time: string): number {
    let low = 1
    let high = this.durableSeq + 1
    while (low < high) {
      const middle = Math.floor((low + high) / 2)
      const row = this.statements.recordedAt.get(middle)
      if (row && row.recorded_at >= time) high = middle
      else low = middle + 1
    }
    return low
  }

  async head(): Promise<number> {
    return this.durableSeq
  }

  onAppend(listener: (head: number, heard: boolean) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.flush()
    this.closed = true
    // what was committed is acknowledged once synced, before the file closes
    while (this.syncing) await this.syncing
    await this.wal?.close()
    this.listeners.clear()
    this.db.close()
    this.writer?.release()
  }
}

/** The error of a failed sync of the write-ahead log, as every later append is refused with it. */
function syncFailed(cause: unknown): Error {
  if (cause instanceof Error && cause.message.startsWith('the write-ahead log could not be synced')) return cause
  return new Error(
    `the write-ahead log could not be synced (${cause instanceof Error ? cause.message : String(cause)}): no more events are taken until the store is opened again`,
    { cause },
  )
}

import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { StoredEvent } from '@watchfloor/protocol'
import Database from 'better-sqlite3'
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
import type { AcceptedEvent, AppendResult, EventStore } from './types.ts'

export interface SqliteStoreOptions {
  /** Path of the database file; its folder is created. */
  file: string
  /** Events kept in memory after commit so that readers of the newest events need not parse them back. */
  recentEvents?: number
}

/** Rows per INSERT statement. */
const CHUNK = 50

/**
 * The embedded event log: one SQLite file in WAL mode with synchronous=FULL.
 * Appends that arrive in the same turn of the event loop share one transaction
 * (group commit), so acknowledged means on disk without paying a sync per event.
 * A file belongs to one server process at a time.
 */
export class SqliteEventStore implements EventStore {
  readonly kind = 'sqlite'
  private readonly db: Database.Database
  private readonly listeners = new Set<(head: number) => void>()
  private queue: PendingAppend[] = []
  private flushScheduled = false
  private headSeq: number
  private lastRecordedAt: string
  private closed = false
  private readonly statements
  private readonly insertChunk: Database.Statement<unknown[]>
  /** The newest committed events, in seq order, ending at headSeq. */
  private recent: StoredEvent[] = []
  private readonly recentLimit: number

  constructor(options: SqliteStoreOptions) {
    mkdirSync(dirname(options.file), { recursive: true })
    this.recentLimit = options.recentEvents ?? 20_000
    this.db = new Database(options.file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.pragma('busy_timeout = 5000')
    // recorded_at never decreases along seq [L5]: ranges are found by binary search on seq, no index needed
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        recorded_at TEXT NOT NULL,
        body TEXT NOT NULL
      );
    `)
    this.statements = {
      find: this.db.prepare<[string], { seq: number; body: string }>('SELECT seq, body FROM events WHERE id = ?'),
      insert: this.db.prepare<[number, string, string, string]>(
        'INSERT INTO events (seq, id, recorded_at, body) VALUES (?, ?, ?, ?)',
      ),
      after: this.db.prepare<[number, number], { body: string }>(
        'SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      between: this.db.prepare<[number, number, number], { body: string }>(
        'SELECT body FROM events WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?',
      ),
      recordedAt: this.db.prepare<[number], { recorded_at: string }>('SELECT recorded_at FROM events WHERE seq = ?'),
      last: this.db.prepare<[], { seq: number; recorded_at: string }>(
        'SELECT seq, recorded_at FROM events ORDER BY seq DESC LIMIT 1',
      ),
    }
    this.insertChunk = this.db.prepare(
      `INSERT INTO events (seq, id, recorded_at, body) VALUES ${Array.from({ length: CHUNK }, () => '(?, ?, ?, ?)').join(', ')}`,
    )
    const last = this.statements.last.get()
    this.headSeq = last?.seq ?? 0
    this.lastRecordedAt = last?.recorded_at ?? ''
  }

  append(events: readonly AcceptedEvent[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Error('store is closed'))
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
      plan = this.commitAssumingNew(pending) ?? this.commitWithLookup(pending)
    } catch (error) {
      for (const append of pending) append.reject(error)
      return
    }
    this.headSeq = plan.head
    this.lastRecordedAt = plan.lastRecordedAt
    this.remember(plan.rows)
    plan.outcomes.forEach((outcome, i) => {
      const append = pending[i]!
      if (outcome.ok) append.resolve(outcome.results)
      else append.reject(outcome.error)
    })
    if (plan.rows.length > 0) for (const listener of this.listeners) listener(this.headSeq)
  }

  /**
   * The usual case: no id is in the log yet. Insert straight away; a UNIQUE
   * violation rolls the transaction back and returns null (then ids are looked up).
   */
  private commitAssumingNew(pending: PendingAppend[]): Plan | null {
    try {
      return this.db
        .transaction(() => {
          const plan = planGroup(pending, new Map(), this.headSeq, this.lastRecordedAt, new Date())
          this.insert(plan.rows)
          return plan
        })
        .immediate()
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return null
      throw error
    }
  }

  /** Some id was already in the log: decide with what it holds [L2, L3]. */
  private commitWithLookup(pending: PendingAppend[]): Plan {
    return this.db
      .transaction(() => {
        const existing = new Map<string, Existing>()
        for (const append of pending)
          for (const event of append.events) {
            if (existing.has(event.id)) continue
            const row = this.statements.find.get(event.id)
            if (row) existing.set(event.id, { seq: row.seq, content: contentOfBody(row.body) })
          }
        const plan = planGroup(pending, existing, this.headSeq, this.lastRecordedAt, new Date())
        this.insert(plan.rows)
        return plan
      })
      .immediate()
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

  async readAfter(after: number, limit: number): Promise<StoredEvent[]> {
    const first = this.recent[0]
    if (first && after + 1 >= first.seq) {
      // the newest events are still in memory (shared, immutable objects)
      const start = after + 1 - first.seq
      return this.recent.slice(start, start + limit)
    }
    return this.statements.after.all(after, limit).map((row) => JSON.parse(row.body) as StoredEvent)
  }

  async readRecordedRange(from: string, to: string, after: number, limit: number): Promise<StoredEvent[]> {
    const start = Math.max(this.firstRecordedAtOrAfter(isoBound(from)), after + 1)
    const end = this.firstRecordedAtOrAfter(isoBound(to))
    if (start >= end) return []
    return this.statements.between.all(start - 1, end, limit).map((row) => JSON.parse(row.body) as StoredEvent)
  }

  /** The first seq recorded at or after `time` (head + 1 when none): binary search, as recordedAt follows seq [L5]. */
  private firstRecordedAtOrAfter(time: string): number {
    let low = 1
    let high = this.headSeq + 1
    while (low < high) {
      const middle = Math.floor((low + high) / 2)
      const row = this.statements.recordedAt.get(middle)
      if (row && row.recorded_at >= time) high = middle
      else low = middle + 1
    }
    return low
  }

  async head(): Promise<number> {
    return this.headSeq
  }

  onAppend(listener: (head: number) => void): () => void {
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
    this.listeners.clear()
    this.db.close()
  }
}

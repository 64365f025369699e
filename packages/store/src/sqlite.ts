import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { StoredEvent } from '@watchfloor/protocol'
import Database from 'better-sqlite3'
import { type Existing, isoBound, type PendingAppend, pendingAppend, planGroup, type Row } from './plan.ts'
import type { AcceptedEvent, AppendResult, EventStore } from './types.ts'

export interface SqliteStoreOptions {
  /** Path of the database file; its folder is created. */
  file: string
}

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

  constructor(options: SqliteStoreOptions) {
    mkdirSync(dirname(options.file), { recursive: true })
    this.db = new Database(options.file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.pragma('busy_timeout = 5000')
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        hash TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_recorded_at ON events (recorded_at);
    `)
    this.statements = {
      find: this.db.prepare<[string], Existing>('SELECT seq, hash FROM events WHERE id = ?'),
      insert: this.db.prepare<[number, string, string, string, string]>(
        'INSERT INTO events (seq, id, hash, recorded_at, body) VALUES (?, ?, ?, ?, ?)',
      ),
      after: this.db.prepare<[number, number], { body: string }>(
        'SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      range: this.db.prepare<[string, string, number, number], { body: string }>(
        'SELECT body FROM events WHERE recorded_at >= ? AND recorded_at < ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      last: this.db.prepare<[], { seq: number; recorded_at: string }>(
        'SELECT seq, recorded_at FROM events ORDER BY seq DESC LIMIT 1',
      ),
    }
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
    let plan: ReturnType<typeof planGroup>
    try {
      plan = this.db
        .transaction(() => {
          const existing = new Map<string, Existing>()
          for (const append of pending)
            for (const event of append.events) {
              const row = this.statements.find.get(event.id)
              if (row) existing.set(event.id, row)
            }
          const planned = planGroup(pending, existing, this.headSeq, this.lastRecordedAt, new Date())
          for (const row of planned.rows) this.insert(row)
          return planned
        })
        .immediate()
    } catch (error) {
      for (const append of pending) append.reject(error)
      return
    }
    this.headSeq = plan.head
    this.lastRecordedAt = plan.lastRecordedAt
    plan.outcomes.forEach((outcome, i) => {
      const append = pending[i]!
      if (outcome.ok) append.resolve(outcome.results)
      else append.reject(outcome.error)
    })
    if (plan.rows.length > 0) for (const listener of this.listeners) listener(this.headSeq)
  }

  private insert(row: Row): void {
    this.statements.insert.run(row.seq, row.id, row.hash, row.recordedAt, row.body)
  }

  async readAfter(after: number, limit: number): Promise<StoredEvent[]> {
    return this.statements.after.all(after, limit).map((row) => JSON.parse(row.body) as StoredEvent)
  }

  async readRecordedRange(from: string, to: string, after: number, limit: number): Promise<StoredEvent[]> {
    return this.statements.range
      .all(isoBound(from), isoBound(to), after, limit)
      .map((row) => JSON.parse(row.body) as StoredEvent)
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

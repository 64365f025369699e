import type Database from 'better-sqlite3'
import type pg from 'pg'
import type { Snapshot, SnapshotPrune, SnapshotStore } from './types.ts'

/**
 * A clock for "last used" that never runs backwards nor repeats within a process, so the least
 * recently used key is well defined even for uses in the same millisecond.
 */
let lastUse = 0
function useClock(): number {
  lastUse = Math.max(Date.now(), lastUse + 1)
  return lastUse
}

/**
 * Snapshots in the SQLite file of the log, table `snapshots`: one row per key, format version and
 * seq; `used_at` (ms) is the last save or load of the key, for pruning the least recently used.
 */
export class SqliteSnapshotStore implements SnapshotStore {
  private readonly statements

  constructor(private readonly db: Database.Database) {
    this.statements = {
      save: db.prepare<[string, number, number, number, string]>(
        `INSERT INTO snapshots (key, version, seq, used_at, body) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key, version, seq) DO UPDATE SET used_at = excluded.used_at, body = excluded.body`,
      ),
      trimKey: db.prepare<[string, string, number, number]>(
        `DELETE FROM snapshots WHERE key = ? AND rowid NOT IN (
           SELECT rowid FROM snapshots WHERE key = ? AND version = ? ORDER BY seq DESC LIMIT ?)`,
      ),
      load: db.prepare<[string, number, number], { seq: number; body: string }>(
        'SELECT seq, body FROM snapshots WHERE key = ? AND version = ? AND seq <= ? ORDER BY seq DESC LIMIT 1',
      ),
      touch: db.prepare<[number, string]>('UPDATE snapshots SET used_at = ? WHERE key = ?'),
      otherVersions: db.prepare<[number]>('DELETE FROM snapshots WHERE version <> ?'),
      beyondPerKey: db.prepare<[number]>(
        `DELETE FROM snapshots WHERE rowid IN (
           SELECT rowid FROM (
             SELECT rowid, row_number() OVER (PARTITION BY key ORDER BY seq DESC) AS n FROM snapshots
           ) WHERE n > ?)`,
      ),
      leastUsed: db.prepare<[number]>(
        `DELETE FROM snapshots WHERE key IN (
           SELECT key FROM snapshots GROUP BY key ORDER BY max(used_at) DESC LIMIT -1 OFFSET ?)`,
      ),
      keys: db.prepare<[], { key: string }>('SELECT DISTINCT key FROM snapshots ORDER BY key'),
    }
  }

  async save(snapshot: Snapshot, keep = 2): Promise<void> {
    const { key, version, seq, body } = snapshot
    this.db
      .transaction(() => {
        this.statements.save.run(key, version, seq, useClock(), body)
        this.statements.trimKey.run(key, key, version, Math.max(1, keep))
      })
      .immediate()
  }

  async load(key: string, version: number, atOrBelow: number): Promise<Snapshot | undefined> {
    const row = this.statements.load.get(key, version, atOrBelow)
    if (!row) return undefined
    this.statements.touch.run(useClock(), key)
    return { key, version, seq: row.seq, body: row.body }
  }

  async prune({ version, keepPerKey, maxKeys }: SnapshotPrune): Promise<number> {
    return this.db
      .transaction(
        () =>
          this.statements.otherVersions.run(version).changes +
          this.statements.beyondPerKey.run(Math.max(1, keepPerKey)).changes +
          this.statements.leastUsed.run(Math.max(0, maxKeys)).changes,
      )
      .immediate()
  }

  async keys(): Promise<string[]> {
    return this.statements.keys.all().map((row) => row.key)
  }
}

/** Snapshots beside a PostgreSQL log, table `<log table>_snapshots`, shared by every process. */
export class PostgresSnapshotStore implements SnapshotStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
  ) {}

  async save(snapshot: Snapshot, keep = 2): Promise<void> {
    const { key, version, seq, body } = snapshot
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(
        `INSERT INTO ${this.table} (key, version, seq, used_at, body) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key, version, seq) DO UPDATE SET used_at = excluded.used_at, body = excluded.body`,
        [key, version, seq, useClock(), body],
      )
      await client.query(
        `DELETE FROM ${this.table} WHERE key = $1 AND (version <> $2 OR seq NOT IN (
           SELECT seq FROM ${this.table} WHERE key = $1 AND version = $2 ORDER BY seq DESC LIMIT $3))`,
        [key, version, Math.max(1, keep)],
      )
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      client.release()
    }
  }

  async load(key: string, version: number, atOrBelow: number): Promise<Snapshot | undefined> {
    const result = await this.pool.query<{ seq: string; body: string }>(
      `SELECT seq, body FROM ${this.table} WHERE key = $1 AND version = $2 AND seq <= $3 ORDER BY seq DESC LIMIT 1`,
      [key, version, atOrBelow],
    )
    const row = result.rows[0]
    if (!row) return undefined
    await this.pool.query(`UPDATE ${this.table} SET used_at = $1 WHERE key = $2`, [useClock(), key])
    return { key, version, seq: Number(row.seq), body: row.body }
  }

  async prune({ version, keepPerKey, maxKeys }: SnapshotPrune): Promise<number> {
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      let deleted = (await client.query(`DELETE FROM ${this.table} WHERE version <> $1`, [version])).rowCount ?? 0
      deleted +=
        (
          await client.query(
            `DELETE FROM ${this.table} s USING (
               SELECT key, seq, row_number() OVER (PARTITION BY key ORDER BY seq DESC) AS n FROM ${this.table}
             ) r WHERE s.key = r.key AND s.seq = r.seq AND r.n > $1`,
            [Math.max(1, keepPerKey)],
          )
        ).rowCount ?? 0
      deleted +=
        (
          await client.query(
            `DELETE FROM ${this.table} WHERE key IN (
               SELECT key FROM ${this.table} GROUP BY key ORDER BY max(used_at) DESC OFFSET $1)`,
            [Math.max(0, maxKeys)],
          )
        ).rowCount ?? 0
      await client.query('COMMIT')
      return deleted
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      client.release()
    }
  }

  async keys(): Promise<string[]> {
    const result = await this.pool.query<{ key: string }>(`SELECT DISTINCT key FROM ${this.table} ORDER BY key`)
    return result.rows.map((row) => row.key)
  }
}

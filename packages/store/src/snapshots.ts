import { randomInt } from 'node:crypto'
import type Database from 'better-sqlite3'
import type pg from 'pg'
import type { Snapshot, SnapshotPrune, SnapshotStore } from './types.ts'

/**
 * Characters of a snapshot's body per row of the parts table. A body longer than this (a picture of
 * months of history is tens of megabytes of JSON) is written in parts: in SQLite each in its own
 * short transaction with a turn of the event loop between them (one statement of 20 MB held the
 * loop, and every live delivery, for 0.1 to 0.35 s), in PostgreSQL one query per part.
 */
export const SNAPSHOT_PART_CHARS = 1 << 20

/** A body cut into parts of at most `size` characters, never between the two halves of a surrogate pair. */
export function partsOf(body: string, size = SNAPSHOT_PART_CHARS): string[] {
  if (size < 2) throw new Error('a part holds at least two characters')
  const parts: string[] = []
  let from = 0
  while (from < body.length) {
    let to = Math.min(body.length, from + size)
    const last = body.charCodeAt(to - 1)
    if (to < body.length && last >= 0xd800 && last <= 0xdbff) to--
    parts.push(body.slice(from, to))
    from = to
  }
  return parts
}

/** The id of one save's parts: random, so that processes sharing a database need no counter. */
const partsId = () => randomInt(1, 2 ** 48)

/** The body of a snapshot whose row says it is in parts, or undefined when they are not all there. */
function joined(parts: { body: string }[], count: number): string | undefined {
  return parts.length === count ? parts.map((part) => part.body).join('') : undefined
}

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
 * seq; `used_at` (ms) is the last save or load of the key, for pruning the least recently used. A
 * long body is in `snapshot_parts` under the row's `parts_id`, written before the row: a row is
 * there only once all its parts are. Saves and prunes run one at a time, so parts that no row names
 * are those of a save cut short (a crash), removed at open and by the next save or prune.
 */
export class SqliteSnapshotStore implements SnapshotStore {
  private readonly statements

  constructor(private readonly db: Database.Database) {
    this.statements = {
      save: db.prepare<[string, number, number, number, string, number | null, number]>(
        `INSERT INTO snapshots (key, version, seq, used_at, body, parts_id, parts) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key, version, seq) DO UPDATE SET used_at = excluded.used_at, body = excluded.body,
           parts_id = excluded.parts_id, parts = excluded.parts`,
      ),
      savePart: db.prepare<[number, number, string]>('INSERT INTO snapshot_parts (id, part, body) VALUES (?, ?, ?)'),
      parts: db.prepare<[number], { body: string }>('SELECT body FROM snapshot_parts WHERE id = ? ORDER BY part'),
      unnamedParts: db.prepare(
        `DELETE FROM snapshot_parts WHERE id NOT IN (SELECT parts_id FROM snapshots WHERE parts_id IS NOT NULL)`,
      ),
      trimKey: db.prepare<[string, string, number, number]>(
        `DELETE FROM snapshots WHERE key = ? AND rowid NOT IN (
           SELECT rowid FROM snapshots WHERE key = ? AND version = ? ORDER BY seq DESC LIMIT ?)`,
      ),
      load: db.prepare<[string, number, number], { seq: number; body: string; parts_id: number | null; parts: number }>(
        'SELECT seq, body, parts_id, parts FROM snapshots WHERE key = ? AND version = ? AND seq <= ? ORDER BY seq DESC LIMIT 1',
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
    // the parts of a save a crash cut short
    this.statements.unnamedParts.run()
  }

  /** The saves and prunes, one after the other. */
  private turn: Promise<unknown> = Promise.resolve()

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(work)
    this.turn = run.catch(() => {})
    return run
  }

  save(snapshot: Snapshot, keep = 2): Promise<void> {
    return this.inTurn(async () => {
      const { key, version, seq, body } = snapshot
      const parts = body.length > SNAPSHOT_PART_CHARS ? partsOf(body) : []
      const id = parts.length > 0 ? partsId() : null
      for (const [i, part] of parts.entries()) {
        // each part in its own transaction, with a turn of the event loop after it
        this.statements.savePart.run(id!, i, part)
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      this.db
        .transaction(() => {
          this.statements.save.run(key, version, seq, useClock(), id === null ? body : '', id, parts.length)
          this.statements.trimKey.run(key, key, version, Math.max(1, keep))
          // the parts of the body this one replaced, and of the snapshots trimmed
          this.statements.unnamedParts.run()
        })
        .immediate()
    })
  }

  async load(key: string, version: number, atOrBelow: number): Promise<Snapshot | undefined> {
    const row = this.statements.load.get(key, version, atOrBelow)
    if (!row) return undefined
    const body = row.parts_id === null ? row.body : joined(this.statements.parts.all(row.parts_id), row.parts)
    if (body === undefined) return undefined
    this.statements.touch.run(useClock(), key)
    return { key, version, seq: row.seq, body }
  }

  prune({ version, keepPerKey, maxKeys }: SnapshotPrune): Promise<number> {
    return this.inTurn(async () =>
      this.db
        .transaction(() => {
          const deleted =
            this.statements.otherVersions.run(version).changes +
            this.statements.beyondPerKey.run(Math.max(1, keepPerKey)).changes +
            this.statements.leastUsed.run(Math.max(0, maxKeys)).changes
          this.statements.unnamedParts.run()
          return deleted
        })
        .immediate(),
    )
  }

  async keys(): Promise<string[]> {
    return this.statements.keys.all().map((row) => row.key)
  }
}

/**
 * Snapshots beside a PostgreSQL log, table `<log table>_snapshots`, shared by every process. A long
 * body is in `<log table>_snapshot_parts` under the row's `parts_id`, written by one query per part
 * in the transaction that writes the row (what another process's save has not committed, this one's
 * clean-up does not see).
 */
export class PostgresSnapshotStore implements SnapshotStore {
  private readonly table: string
  private readonly parts: string

  /** `log`: the event table the snapshots are of. */
  constructor(
    private readonly pool: pg.Pool,
    log: string,
  ) {
    this.table = `${log}_snapshots`
    this.parts = `${log}_snapshot_parts`
  }

  async save(snapshot: Snapshot, keep = 2): Promise<void> {
    const { key, version, seq, body } = snapshot
    const parts = body.length > SNAPSHOT_PART_CHARS ? partsOf(body) : []
    const id = parts.length > 0 ? partsId() : null
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      for (const [i, part] of parts.entries())
        await client.query(`INSERT INTO ${this.parts} (id, part, body) VALUES ($1, $2, $3)`, [id, i, part])
      await client.query(
        `INSERT INTO ${this.table} (key, version, seq, used_at, body, parts_id, parts) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (key, version, seq) DO UPDATE SET used_at = excluded.used_at, body = excluded.body,
           parts_id = excluded.parts_id, parts = excluded.parts`,
        [key, version, seq, useClock(), id === null ? body : '', id, parts.length],
      )
      await client.query(
        `DELETE FROM ${this.table} WHERE key = $1 AND (version <> $2 OR seq NOT IN (
           SELECT seq FROM ${this.table} WHERE key = $1 AND version = $2 ORDER BY seq DESC LIMIT $3))`,
        [key, version, Math.max(1, keep)],
      )
      await this.dropUnnamedParts(client)
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      client.release()
    }
  }

  async load(key: string, version: number, atOrBelow: number): Promise<Snapshot | undefined> {
    const result = await this.pool.query<{ seq: string; body: string; parts_id: string | null; parts: number }>(
      `SELECT seq, body, parts_id, parts FROM ${this.table} WHERE key = $1 AND version = $2 AND seq <= $3 ORDER BY seq DESC LIMIT 1`,
      [key, version, atOrBelow],
    )
    const row = result.rows[0]
    if (!row) return undefined
    const body =
      row.parts_id === null
        ? row.body
        : joined(
            (
              await this.pool.query<{ body: string }>(`SELECT body FROM ${this.parts} WHERE id = $1 ORDER BY part`, [
                row.parts_id,
              ])
            ).rows,
            row.parts,
          )
    if (body === undefined) return undefined
    await this.pool.query(`UPDATE ${this.table} SET used_at = $1 WHERE key = $2`, [useClock(), key])
    return { key, version, seq: Number(row.seq), body }
  }

  /** Parts no committed row names: those of bodies replaced and of snapshots deleted. */
  private async dropUnnamedParts(client: pg.ClientBase): Promise<void> {
    await client.query(
      `DELETE FROM ${this.parts} p WHERE NOT EXISTS (SELECT 1 FROM ${this.table} s WHERE s.parts_id = p.id)`,
    )
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
      await this.dropUnnamedParts(client)
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

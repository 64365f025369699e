import { createHash } from 'node:crypto'
import type pg from 'pg'

/** The longest name PostgreSQL keeps for a channel (NAMEDATALEN - 1). */
const MAX_NAME = 63

/**
 * What tells apart the stores of two schemas of one database. PostgreSQL keeps NOTIFY channels and
 * advisory locks per database, not per schema, so two logs in two schemas (each its own
 * `search_path`, the same table names) would hear each other's heads and wait on each other's locks.
 * Channels and lock keys are scoped by the connection's schema (`current_schema()`); the default
 * schema (`public`) keeps the names of earlier releases, so processes of two releases sharing one
 * log still hear each other during a rolling upgrade.
 */
export class DatabaseScope {
  private constructor(readonly suffix: string) {}

  static async of(pool: pg.Pool): Promise<DatabaseScope> {
    const { rows } = await pool.query<{ schema: string | null }>('SELECT current_schema() AS schema')
    const schema = rows[0]?.schema ?? 'public'
    return new DatabaseScope(
      schema === 'public' ? '' : `_${createHash('sha256').update(schema).digest('hex').slice(0, 12)}`,
    )
  }

  /** A channel name of this scope, at most 63 characters. */
  channel(name: string): string {
    return `${name.slice(0, MAX_NAME - this.suffix.length)}${this.suffix}`
  }

  /** A 32-bit advisory lock key of this scope. */
  lockKey(name: string): number {
    return hashKey(`${name}${this.suffix}`)
  }

  /** Text for `hashtext()` in a two-int advisory lock of this scope. */
  lockText(name: string): string {
    return `${name}${this.suffix}`
  }
}

function hashKey(text: string): number {
  let hash = 0x2545f491
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x5bd1e995)
  return hash | 0
}

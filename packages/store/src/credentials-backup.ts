import { WatchfloorError } from '@watchfloor/protocol'
import type Database from 'better-sqlite3'
import type pg from 'pg'
import { latestVersion } from './migrations.ts'
import type { CredentialTables } from './schema-postgres.ts'
import { SQLITE_CREDENTIAL_MIGRATIONS, SQLITE_EVENT_MIGRATIONS } from './schema-sqlite.ts'

/**
 * The schema versions this code writes (the same numbers in SQLite and PostgreSQL, docs/deploy.md):
 * a backup names them, and one from newer schemas is refused.
 */
export const SCHEMA_VERSIONS = {
  events: latestVersion(SQLITE_EVENT_MIGRATIONS),
  credentials: latestVersion(SQLITE_CREDENTIAL_MIGRATIONS),
} as const

/** How a column travels: text, an ISO 8601 time, a boolean, a whole number, or JSON. */
type ColumnKind = 'text' | 'time' | 'bool' | 'int' | 'json'

interface DurableTable {
  /** Its name in a dump, and in SQLite but where `sqlite` says otherwise. */
  name: string
  sqlite?: string
  postgres: (t: CredentialTables) => string
  /** The columns kept, by their SQL names; the first `key` of them identify a row. */
  columns: Record<string, ColumnKind>
  key: number
}

/**
 * The credential store's durable content, in the order a restore writes it (foreign keys point
 * backwards). Left out as transient: `CREDENTIALS_TRANSIENT`.
 */
const DURABLE_TABLES: readonly DurableTable[] = [
  {
    name: 'organisations',
    postgres: (t) => t.organisations,
    columns: { id: 'text', name: 'text', nation: 'text', kind: 'text', created_at: 'time', updated_at: 'time' },
    key: 1,
  },
  {
    name: 'communities',
    postgres: (t) => t.communities,
    columns: { id: 'text', name: 'text', created_at: 'time', updated_at: 'time' },
    key: 1,
  },
  {
    name: 'community_members',
    postgres: (t) => t.members,
    columns: { community_id: 'text', organisation_id: 'text' },
    key: 2,
  },
  {
    name: 'accounts',
    postgres: (t) => t.accounts,
    columns: {
      username: 'text',
      display_name: 'text',
      organisation: 'text',
      nation: 'text',
      roles: 'text',
      password_hash: 'text',
      disabled: 'bool',
      created_at: 'time',
      updated_at: 'time',
    },
    key: 1,
  },
  {
    name: 'tokens',
    sqlite: 'api_tokens',
    postgres: (t) => t.tokens,
    columns: {
      id: 'text',
      secret_hash: 'text',
      label: 'text',
      kind: 'text',
      owner: 'text',
      service_user: 'text',
      service_organisation: 'text',
      service_nation: 'text',
      service_roles: 'text',
      service_sources: 'text',
      preset: 'text',
      tlp_ceiling: 'text',
      created_by: 'text',
      created_at: 'time',
      last_used_at: 'time',
      revoked_at: 'time',
      expires_at: 'time',
    },
    key: 1,
  },
  {
    name: 'feeds',
    postgres: (t) => t.feeds,
    columns: {
      id: 'text',
      label: 'text',
      url: 'text',
      api_root: 'text',
      collection_id: 'text',
      organisation: 'text',
      auth: 'json',
      poll_seconds: 'int',
      default_tlp: 'text',
      enabled: 'bool',
      created_by: 'text',
      created_at: 'time',
      updated_at: 'time',
    },
    key: 1,
  },
  {
    name: 'feed_states',
    postgres: (t) => t.feedStates,
    columns: {
      feed_id: 'text',
      cursor: 'text',
      last_attempt_at: 'time',
      last_success_at: 'time',
      last_error: 'text',
      consecutive_failures: 'int',
      objects_imported: 'int',
      events_stored: 'int',
      next_poll_at: 'time',
    },
    key: 1,
  },
  {
    name: 'feed_out_activity',
    postgres: (t) => t.feedOut,
    columns: {
      organisation: 'text',
      channel: 'text',
      pulls: 'int',
      failed_pulls: 'int',
      objects_served: 'int',
      last_pull_objects: 'int',
      last_pull_at: 'time',
      last_success_at: 'time',
      last_error_status: 'int',
      last_error_message: 'text',
      last_error_at: 'time',
    },
    key: 2,
  },
]

/**
 * What a backup of the credential store leaves out as transient, by SQLite table and by column of a
 * durable table, each with what the backup's `leftOut` calls it. Every table and column of the store
 * is either here or kept by `DURABLE_TABLES` (a test of the store holds them to it), so a table
 * added later is backed up or named here, never dropped unsaid.
 */
export const CREDENTIALS_TRANSIENT: {
  tables: Readonly<Record<string, string>>
  columns: Readonly<Record<string, Readonly<Record<string, string>>>>
} = {
  tables: {
    sessions: 'sessions',
    login_attempts: 'sign-in throttle slots',
    taxii_statuses: 'TAXII Add Objects statuses',
  },
  columns: {
    feed_states: { lease_holder: 'feed polling leases', lease_expires_at: 'feed polling leases' },
  },
}

/** What a backup of the credential store leaves out (transient), as its header's `leftOut` says. */
export const CREDENTIALS_LEFT_OUT: readonly string[] = [
  ...new Set([
    ...Object.values(CREDENTIALS_TRANSIENT.tables),
    ...Object.values(CREDENTIALS_TRANSIENT.columns).flatMap((columns) => Object.values(columns)),
  ]),
]

/** Each durable table's SQLite name and the columns a backup keeps of it. */
export const DURABLE_SQLITE_COLUMNS: ReadonlyMap<string, readonly string[]> = new Map(
  DURABLE_TABLES.map((table) => [table.sqlite ?? table.name, Object.keys(table.columns)]),
)

/** Each durable table's PostgreSQL name (under `tables.prefix`) and the columns a backup keeps of it. */
export function durablePostgresColumns(tables: CredentialTables): ReadonlyMap<string, readonly string[]> {
  return new Map(DURABLE_TABLES.map((table) => [table.postgres(tables), Object.keys(table.columns)]))
}

/** `CREDENTIALS_TRANSIENT` by the PostgreSQL names of the tables (under `tables.prefix`). */
export function transientPostgres(tables: CredentialTables): typeof CREDENTIALS_TRANSIENT {
  const named: Readonly<Record<string, string>> = {
    sessions: tables.sessions,
    login_attempts: tables.loginAttempts,
    taxii_statuses: tables.taxiiStatuses,
    feed_states: tables.feedStates,
  }
  const rename = <T>(byName: Readonly<Record<string, T>>): Record<string, T> =>
    Object.fromEntries(Object.entries(byName).map(([table, value]) => [named[table] ?? table, value]))
  return { tables: rename(CREDENTIALS_TRANSIENT.tables), columns: rename(CREDENTIALS_TRANSIENT.columns) }
}

/** A row of a durable table: its columns by SQL name; times ISO 8601, booleans, numbers, JSON values. */
export type DurableRow = Record<string, string | number | boolean | null | object>

/**
 * The credential store's durable content: every row of its durable tables (organisations,
 * communities, community_members, accounts, tokens with their secrets' hashes, feeds, feed_states,
 * feed_out_activity), by table, each sorted by its key. The same content reads the same from
 * SQLite and PostgreSQL.
 */
export type CredentialDump = Record<string, DurableRow[]>

/** The tables a dump may hold, in the order they are restored. */
export const DURABLE_TABLE_NAMES: readonly string[] = DURABLE_TABLES.map((table) => table.name)

function normalise(table: DurableTable, raw: Record<string, unknown>): DurableRow {
  const row: DurableRow = {}
  for (const [column, kind] of Object.entries(table.columns)) {
    const value = raw[column]
    if (value === null || value === undefined) row[column] = null
    else if (kind === 'time') row[column] = (value instanceof Date ? value : new Date(String(value))).toISOString()
    else if (kind === 'bool') row[column] = Boolean(value)
    else if (kind === 'int') row[column] = Number(value)
    else if (kind === 'json')
      row[column] = typeof value === 'string' ? (JSON.parse(value) as object) : (value as object)
    else row[column] = String(value)
  }
  return row
}

function sortByKey(table: DurableTable, rows: DurableRow[]): DurableRow[] {
  const keyOf = (row: DurableRow) =>
    JSON.stringify(
      Object.keys(table.columns)
        .slice(0, table.key)
        .map((column) => row[column]),
    )
  return rows.sort((a, b) => {
    const x = keyOf(a)
    const y = keyOf(b)
    return x < y ? -1 : x > y ? 1 : 0
  })
}

/** The values of a row to write, in its table's column order; a column the row lacks (an older backup) is null. */
function values(table: DurableTable, row: DurableRow, sqlite: boolean): unknown[] {
  return Object.entries(table.columns).map(([column, kind]) => {
    const value = row[column] ?? null
    if (value === null) return null
    if (kind === 'json') return JSON.stringify(value)
    if (kind === 'bool' && sqlite) return value ? 1 : 0
    return value
  })
}

/** Refuses a dump naming a table or column this code does not know (a newer backup). */
function checkDump(dump: CredentialDump): void {
  for (const [name, rows] of Object.entries(dump)) {
    const table = DURABLE_TABLES.find((t) => t.name === name)
    if (!table)
      throw new WatchfloorError('validation', `the backup holds a table this Watchfloor does not know: ${name}`)
    for (const row of rows)
      for (const column of Object.keys(row))
        if (!(column in table.columns))
          throw new WatchfloorError(
            'validation',
            `the backup's ${name} has a column this Watchfloor does not know: ${column}`,
          )
  }
}

function notEmpty(names: string[]): WatchfloorError {
  return new WatchfloorError(
    'conflict',
    `the credential store is not empty (${names.join(', ')}): a restore goes into an empty store only`,
    { tables: names },
  )
}

/** The durable content of a SQLite credential store, read in one transaction. */
export function dumpSqliteCredentials(db: Database.Database): CredentialDump {
  return db.transaction(() => {
    const dump: CredentialDump = {}
    for (const table of DURABLE_TABLES) {
      const rows = db
        .prepare<[], Record<string, unknown>>(
          `SELECT ${Object.keys(table.columns).join(', ')} FROM ${table.sqlite ?? table.name}`,
        )
        .all()
      dump[table.name] = sortByKey(
        table,
        rows.map((row) => normalise(table, row)),
      )
    }
    return dump
  })()
}

/** Write a dump into an empty SQLite credential store, in one transaction; refuses a store with any durable row. */
export function restoreSqliteCredentials(db: Database.Database, dump: CredentialDump): void {
  checkDump(dump)
  db.transaction(() => {
    const filled = DURABLE_TABLES.filter(
      (table) => db.prepare(`SELECT 1 FROM ${table.sqlite ?? table.name} LIMIT 1`).get() !== undefined,
    )
    if (filled.length > 0) throw notEmpty(filled.map((table) => table.name))
    for (const table of DURABLE_TABLES) {
      const columns = Object.keys(table.columns)
      const insert = db.prepare(
        `INSERT INTO ${table.sqlite ?? table.name} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      )
      for (const row of dump[table.name] ?? []) insert.run(values(table, row, true))
    }
  }).immediate()
}

/** The durable content of a PostgreSQL credential store, read in one REPEATABLE READ transaction. */
export async function dumpPostgresCredentials(pool: pg.Pool, tables: CredentialTables): Promise<CredentialDump> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    const dump: CredentialDump = {}
    for (const table of DURABLE_TABLES) {
      const { rows } = await client.query<Record<string, unknown>>(
        `SELECT ${Object.keys(table.columns).join(', ')} FROM ${table.postgres(tables)}`,
      )
      dump[table.name] = sortByKey(
        table,
        rows.map((row) => normalise(table, row)),
      )
    }
    await client.query('COMMIT')
    return dump
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

/** Write a dump into an empty PostgreSQL credential store, in one transaction; refuses a store with any durable row. */
export async function restorePostgresCredentials(
  pool: pg.Pool,
  tables: CredentialTables,
  dump: CredentialDump,
): Promise<void> {
  checkDump(dump)
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    // no directory write of another process comes between the check and the rows
    await client.query(
      `LOCK TABLE ${DURABLE_TABLES.map((table) => table.postgres(tables)).join(', ')} IN SHARE ROW EXCLUSIVE MODE`,
    )
    const filled: string[] = []
    for (const table of DURABLE_TABLES)
      if ((await client.query(`SELECT 1 FROM ${table.postgres(tables)} LIMIT 1`)).rowCount) filled.push(table.name)
    if (filled.length > 0) throw notEmpty(filled)
    for (const table of DURABLE_TABLES) {
      const columns = Object.keys(table.columns)
      const sql = `INSERT INTO ${table.postgres(tables)} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`
      for (const row of dump[table.name] ?? []) await client.query(sql, values(table, row, false))
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

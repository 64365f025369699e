import type Database from 'better-sqlite3'
import type pg from 'pg'

/**
 * One numbered step of a schema: `up` takes a database at `version - 1` to `version`. Steps
 * run in order, each in the same transaction as the record of its number.
 */
export interface Migration<Db> {
  version: number
  description: string
  up(db: Db): unknown
}

/** A database whose schema is newer than this code: it is never opened, nor changed. */
export class SchemaTooNewError extends Error {
  readonly code = 'schema_too_new'
  constructor(
    readonly schema: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `the ${schema} schema of this database is version ${found}, newer than version ${known} that this Watchfloor knows: ` +
        'run a Watchfloor at least as new as the one that last opened it (or restore a backup made by this version)',
    )
    this.name = 'SchemaTooNewError'
  }
}

/**
 * A database whose schema is older than this code, opened by a command that only reads (`migrate:
 * false`): it is not upgraded, so that the release that wrote it can still open it (and a backup
 * taken "before an upgrade" is of the database as it was). Version 0: the schema is not there at all.
 */
export class SchemaTooOldError extends Error {
  readonly code = 'schema_too_old'
  constructor(
    readonly schema: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      found === 0
        ? `this database holds no ${schema} schema (version 0; this Watchfloor's is version ${known}): a command that only reads does not create it; ` +
            "check that the setting names the server's database (WATCHFLOOR_DATA_DIR, WATCHFLOOR_DATABASE_URL), or start this release's server to create it"
        : `the ${schema} schema of this database is version ${found}, older than version ${known} of this Watchfloor: ` +
            'a command that only reads does not upgrade it; back it up with the release that wrote it, ' +
            "or start this release's server to upgrade it first",
    )
    this.name = 'SchemaTooOldError'
  }
}

/** The version the migrations lead to; checks that they are numbered 1, 2, 3... in order. */
export function latestVersion(migrations: readonly Migration<unknown>[]): number {
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) throw new Error(`migration ${i + 1} is numbered ${migration.version}`)
  })
  return migrations.length
}

/**
 * Bring one schema (`events` or `credentials`) of a SQLite file to the newest version, in one
 * write transaction: the versions applied are rows of `schema_migrations` (schema, version,
 * description, applied_at). A file made before numbering has no rows for the schema: `detect`
 * says which version its tables are, and those versions are recorded as found. Returns the version.
 */
export function migrateSqlite(
  db: Database.Database,
  schema: string,
  migrations: readonly Migration<Database.Database>[],
  detect: (db: Database.Database) => number,
): number {
  const latest = latestVersion(migrations)
  return db
    .transaction(() => {
      db.exec(`
        CREATE TABLE IF NOT EXISTS schema_migrations (
          schema TEXT NOT NULL,
          version INTEGER NOT NULL,
          description TEXT NOT NULL,
          applied_at TEXT NOT NULL,
          PRIMARY KEY (schema, version)
        )
      `)
      const record = db.prepare<[string, number, string, string]>(
        'INSERT INTO schema_migrations (schema, version, description, applied_at) VALUES (?, ?, ?, ?)',
      )
      let current = recordedSqliteVersion(db, schema)
      if (current === null) {
        current = detect(db)
        const at = new Date().toISOString()
        for (const migration of migrations.slice(0, current))
          record.run(schema, migration.version, `${migration.description} (found on open)`, at)
      }
      if (current > latest) throw new SchemaTooNewError(schema, current, latest)
      for (const migration of migrations.slice(current)) {
        const result = migration.up(db)
        if (result instanceof Promise) throw new Error(`SQLite migration ${migration.version} must be synchronous`)
        record.run(schema, migration.version, migration.description, new Date().toISOString())
      }
      return latest
    })
    .immediate()
}

/**
 * Bring one schema in PostgreSQL to the newest version, in one transaction: the versions applied
 * are rows of `table` (version, description, applied_at). The caller holds the schema's advisory
 * lock, so processes opening at once migrate one after the other. A database made before
 * numbering has no such table: `detect` says which version its tables are. Returns the version.
 */
export async function migratePostgres(
  client: pg.ClientBase,
  table: string,
  schema: string,
  migrations: readonly Migration<pg.ClientBase>[],
  detect: (client: pg.ClientBase) => Promise<number>,
): Promise<number> {
  const latest = latestVersion(migrations)
  await client.query('BEGIN')
  try {
    const { exists, version } = await recordedPostgresVersion(client, table)
    let current = version
    if (exists) {
      // up to date: nothing to write, no lock taken on any table
      if (current === latest) {
        await client.query('COMMIT')
        return latest
      }
    } else {
      await client.query(`
        CREATE TABLE ${table} (
          version integer PRIMARY KEY,
          description text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )
      `)
    }
    const record = (version: number, description: string) =>
      client.query(`INSERT INTO ${table} (version, description) VALUES ($1, $2)`, [version, description])
    if (current === null) {
      current = await detect(client)
      for (const migration of migrations.slice(0, current))
        await record(migration.version, `${migration.description} (found on open)`)
    }
    if (current > latest) throw new SchemaTooNewError(schema, current, latest)
    for (const migration of migrations.slice(current)) {
      await migration.up(client)
      await record(migration.version, migration.description)
    }
    await client.query('COMMIT')
    return latest
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/** The version found, when it is this code's; else the refusal (too new, or too old to read unmigrated). */
function sameVersion(schema: string, found: number, latest: number): number {
  if (found > latest) throw new SchemaTooNewError(schema, found, latest)
  if (found < latest) throw new SchemaTooOldError(schema, found, latest)
  return latest
}

/**
 * For a store opened without migrating (`migrate: false`, a command that only reads): the version of
 * one schema of a SQLite file, read as `migrateSqlite` reads it (the newest row of
 * `schema_migrations`, else what `detect` finds), writing nothing: no table made, no version
 * recorded. Returns it when it is the newest; throws `SchemaTooNewError` or `SchemaTooOldError`.
 */
export function checkSqliteVersion(
  db: Database.Database,
  schema: string,
  migrations: readonly Migration<Database.Database>[],
  detect: (db: Database.Database) => number,
): number {
  const latest = latestVersion(migrations)
  // one read transaction (deferred: it takes no write lock), so the record and the tables agree
  const found = db.transaction(() => {
    // a file made before numbering, never opened since, has no `schema_migrations`: no record
    return (sqliteHas(db, 'schema_migrations') ? recordedSqliteVersion(db, schema) : null) ?? detect(db)
  })()
  return sameVersion(schema, found, latest)
}

/**
 * `checkSqliteVersion` for PostgreSQL: the newest row of `table`, else what `detect` finds, read in
 * one read-only transaction. Returns the version when it is the newest; throws `SchemaTooNewError`
 * or `SchemaTooOldError`.
 */
export async function checkPostgresVersion(
  client: pg.ClientBase,
  table: string,
  schema: string,
  migrations: readonly Migration<pg.ClientBase>[],
  detect: (client: pg.ClientBase) => Promise<number>,
): Promise<number> {
  const latest = latestVersion(migrations)
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  let found: number
  try {
    found = (await recordedPostgresVersion(client, table)).version ?? (await detect(client))
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
  return sameVersion(schema, found, latest)
}

/** The newest version of `schema` recorded in a SQLite file's `schema_migrations` (which must exist); null: none. */
function recordedSqliteVersion(db: Database.Database, schema: string): number | null {
  return (
    db
      .prepare<[string], number | null>('SELECT max(version) FROM schema_migrations WHERE schema = ?')
      .pluck()
      .get(schema) ?? null
  )
}

/** Whether PostgreSQL's table of versions exists, and the newest version it records (null: none). */
async function recordedPostgresVersion(
  client: pg.ClientBase,
  table: string,
): Promise<{ exists: boolean; version: number | null }> {
  const exists = (await client.query('SELECT to_regclass($1) IS NOT NULL AS exists', [table])).rows[0]?.exists === true
  if (!exists) return { exists, version: null }
  const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${table}`)
  return { exists, version: rows[0]?.version ?? null }
}

/** Whether a SQLite table exists, and (when `column` is given) has that column. */
export function sqliteHas(db: Database.Database, table: string, column?: string): boolean {
  const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all()
  if (columns.length === 0) return false
  return column === undefined || columns.some((c) => c.name === column)
}

/** Whether a PostgreSQL table exists, and (when `column` is given) has that column. */
export async function postgresHas(client: pg.ClientBase, table: string, column?: string): Promise<boolean> {
  if (column === undefined)
    return (await client.query('SELECT to_regclass($1) IS NOT NULL AS ok', [table])).rows[0]?.ok === true
  const { rowCount } = await client.query(
    `SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND NOT attisdropped`,
    [table, column],
  )
  return (rowCount ?? 0) > 0
}

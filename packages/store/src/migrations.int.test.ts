import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { observation, registerEventStoreContract } from './contract.ts'
import { type CredentialStore, hashSecret } from './credentials.ts'
import { registerCredentialStoreContract } from './credentials-contract.ts'
import { PostgresCredentialStore } from './credentials-postgres.ts'
import { SqliteCredentialStore } from './credentials-sqlite.ts'
import { latestVersion, migratePostgres, migrateSqlite, SchemaTooNewError, SchemaTooOldError } from './migrations.ts'
import { contentJson, storedBody } from './plan.ts'
import { PostgresEventStore } from './postgres.ts'
import {
  credentialTables,
  detectPostgresCredentials,
  detectPostgresEvents,
  postgresCredentialMigrations,
  postgresEventMigrations,
} from './schema-postgres.ts'
import {
  detectSqliteCredentials,
  detectSqliteEvents,
  SQLITE_CREDENTIAL_MIGRATIONS,
  SQLITE_EVENT_MIGRATIONS,
} from './schema-sqlite.ts'
import { SNAPSHOT_PART_CHARS } from './snapshots.ts'
import { SqliteEventStore } from './sqlite.ts'
import type { EventStore } from './types.ts'

/*
 * Databases as earlier versions of Watchfloor made them, before schemas were numbered: each is
 * made by running the first k steps of a migration list straight on a bare database, with no
 * record of versions. The steps are the DDL of those releases, copied unchanged (git history of
 * sqlite.ts, postgres.ts, credentials-sqlite.ts and credentials-postgres.ts: each release only
 * added tables or columns, apart from the events' first schemas).
 */

const connectionString = process.env.WATCHFLOOR_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const freshName = () => `wf_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`
const CREDENTIALS_LATEST = latestVersion(SQLITE_CREDENTIAL_MIGRATIONS)
const EVENTS_LATEST = latestVersion(SQLITE_EVENT_MIGRATIONS)

const tempFile = () => join(mkdtempSync(join(tmpdir(), 'watchfloor-migrations-')), 'events.sqlite')
const removeFile = (file: string) => rmSync(join(file, '..'), { recursive: true, force: true })

/** A bare SQLite file holding the schema of version `version` (no record of it). */
function sqliteAt(file: string, steps: typeof SQLITE_CREDENTIAL_MIGRATIONS, version: number): Database.Database {
  const db = new Database(file)
  for (const step of steps.slice(0, version)) step.up(db)
  return db
}

/** The first event schema in PostgreSQL (a30384b): a content hash column beside the body. */
const firstPostgresEvents = (table: string) => `
  CREATE TABLE ${table} (
    seq bigint PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    hash text NOT NULL,
    recorded_at timestamptz NOT NULL,
    body text NOT NULL
  );
  CREATE INDEX ${table}_recorded_at ON ${table} (recorded_at);
`

function storedRows(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const event = observation(i)
    const recordedAt = new Date(Date.UTC(2026, 10, 26, 9) + i).toISOString()
    return { seq: i + 1, id: event.id, recordedAt, body: storedBody(i + 1, recordedAt, contentJson(event)) }
  })
}

const NEW_ACCOUNT = {
  username: 'janis',
  displayName: 'Janis',
  organisation: 'cert-lv',
  nation: 'LV',
  roles: ['liaison' as const],
  passwordHash: null,
}

const ACCOUNT_ROW = {
  username: 'janis',
  display: 'Janis',
  organisation: 'cert-lv',
  nation: 'LV',
  roles: '["liaison"]',
  at: '2026-01-02T03:04:05.000Z',
}

// ---------------------------------------------------------------------------------------- SQLite

const sqliteFiles = new WeakMap<object, string>()

registerEventStoreContract('sqlite, a file of the first schema migrated on open', {
  async create() {
    const file = tempFile()
    sqliteAt(file, SQLITE_EVENT_MIGRATIONS, 1).close()
    const store = new SqliteEventStore({ file })
    sqliteFiles.set(store, file)
    return store
  },
  async reopen(store) {
    const file = sqliteFiles.get(store)!
    const reopened = new SqliteEventStore({ file })
    sqliteFiles.set(reopened, file)
    return reopened
  },
  async destroy(store) {
    await store.close()
    removeFile(sqliteFiles.get(store)!)
  },
})

registerCredentialStoreContract('sqlite, a file of the first credential schema migrated on open', {
  async create() {
    const file = tempFile()
    sqliteAt(file, SQLITE_CREDENTIAL_MIGRATIONS, 1).close()
    const store = new SqliteCredentialStore({ file })
    sqliteFiles.set(store, file)
    return store
  },
  async reopen(store) {
    const file = sqliteFiles.get(store)!
    const reopened = new SqliteCredentialStore({ file })
    sqliteFiles.set(reopened, file)
    return reopened
  },
  async destroy(store) {
    await store.close()
    removeFile(sqliteFiles.get(store)!)
  },
})

function recordedVersions(file: string, schema: string): { version: number; description: string }[] {
  const db = new Database(file, { readonly: true })
  try {
    return db
      .prepare<[string], { version: number; description: string }>(
        'SELECT version, description FROM schema_migrations WHERE schema = ? ORDER BY version',
      )
      .all(schema)
  } finally {
    db.close()
  }
}

/**
 * A store opened on a file or table of event schema 3 holding the snapshot `picture` at seq 0 with
 * body `{"earlier":true}`: it reads that snapshot as it was, then takes a body of three parts in
 * its place and reads it back whole.
 */
async function earlierSnapshotKeptLongOneTaken(store: EventStore): Promise<void> {
  expect(await store.snapshots!.load('picture', 1, 0)).toEqual({
    key: 'picture',
    version: 1,
    seq: 0,
    body: '{"earlier":true}',
  })
  const long = JSON.stringify({ fill: 'y'.repeat(SNAPSHOT_PART_CHARS * 2) })
  await store.snapshots!.save({ key: 'picture', version: 1, seq: 0, body: long })
  expect((await store.snapshots!.load('picture', 1, 0))?.body).toBe(long)
}

describe('SQLite schema versions', () => {
  it('a new file is made at the newest versions, each step recorded with its number', async () => {
    const file = tempFile()
    try {
      const events = new SqliteEventStore({ file })
      const credentials = new SqliteCredentialStore({ file })
      await events.close()
      await credentials.close()
      expect(recordedVersions(file, 'events').map((r) => r.version)).toEqual([1, 2, 3, 4].slice(0, EVENTS_LATEST))
      expect(recordedVersions(file, 'credentials')).toHaveLength(CREDENTIALS_LATEST)
      expect(recordedVersions(file, 'credentials').every((r, i) => r.version === i + 1)).toBe(true)
    } finally {
      removeFile(file)
    }
  })

  it('a file of event schema 2 (id index, no snapshots) keeps its events, gains snapshots', async () => {
    const file = tempFile()
    try {
      const old = sqliteAt(file, SQLITE_EVENT_MIGRATIONS, 2)
      const rows = storedRows(12)
      const insert = old.prepare('INSERT INTO events (seq, id, recorded_at, body) VALUES (?, ?, ?, ?)')
      for (const row of rows) insert.run(row.seq, row.id, row.recordedAt, row.body)
      old.close()

      const store = new SqliteEventStore({ file })
      expect(await store.head()).toBe(12)
      expect((await store.readAfter(10, 5)).map((e) => e.id)).toEqual([rows[10]!.id, rows[11]!.id])
      const [first] = await store.readAfter(0, 1)
      expect(await store.append([{ ...observation(0, first!.id) }])).toEqual([
        { id: first!.id, seq: 1, duplicate: true },
      ])
      await store.snapshots.save({ key: 'picture', version: 1, seq: 12, body: '{}' })
      expect(await store.snapshots.load('picture', 1, 12)).toMatchObject({ seq: 12 })
      await store.close()
      expect(recordedVersions(file, 'events').map((r) => r.description.endsWith('(found on open)'))).toEqual([
        true,
        true,
        false,
        false,
      ])
    } finally {
      removeFile(file)
    }
  })

  it('a file of event schema 3 (each snapshot body in its row) keeps its snapshots and takes bodies in parts', async () => {
    const file = tempFile()
    try {
      const old = sqliteAt(file, SQLITE_EVENT_MIGRATIONS, 3)
      old
        .prepare('INSERT INTO snapshots (key, version, seq, used_at, body) VALUES (?, ?, ?, ?, ?)')
        .run('picture', 1, 0, 1, '{"earlier":true}')
      old.close()
      const store = new SqliteEventStore({ file })
      await earlierSnapshotKeptLongOneTaken(store)
      await store.close()
      expect(recordedVersions(file, 'events').map((r) => r.version)).toEqual([1, 2, 3, 4])
    } finally {
      removeFile(file)
    }
  })

  for (let version = 1; version < CREDENTIALS_LATEST; version++)
    it(`a file of credential schema ${version} keeps its accounts, tokens and sessions (and directory)`, async () => {
      const file = tempFile()
      try {
        const old = sqliteAt(file, SQLITE_CREDENTIAL_MIGRATIONS, version)
        old
          .prepare(
            `INSERT INTO accounts (username, display_name, organisation, nation, roles, password_hash, disabled, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, NULL, 0, ?, ?)`,
          )
          .run(
            ACCOUNT_ROW.username,
            ACCOUNT_ROW.display,
            ACCOUNT_ROW.organisation,
            ACCOUNT_ROW.nation,
            ACCOUNT_ROW.roles,
            ACCOUNT_ROW.at,
            ACCOUNT_ROW.at,
          )
        old
          .prepare(
            `INSERT INTO api_tokens (id, secret_hash, label, kind, owner, created_by, created_at)
             VALUES ('old-token', ?, 'laptop', 'api', 'janis', 'admin', ?)`,
          )
          .run(hashSecret('wf_old'), ACCOUNT_ROW.at)
        old
          .prepare(`INSERT INTO sessions (id_hash, account, created_at, expires_at) VALUES ('s1', 'janis', ?, ?)`)
          .run(ACCOUNT_ROW.at, '2099-01-01T00:00:00.000Z')
        if (version >= 3) {
          old
            .prepare(
              `INSERT INTO organisations (id, name, nation, kind, created_at, updated_at) VALUES ('cert-lv', 'CERT.LV', 'LV', 'ally_cert', ?, ?)`,
            )
            .run(ACCOUNT_ROW.at, ACCOUNT_ROW.at)
          old
            .prepare(`INSERT INTO communities (id, name, created_at, updated_at) VALUES ('baltic', 'Baltic', ?, ?)`)
            .run(ACCOUNT_ROW.at, ACCOUNT_ROW.at)
          old.exec(`INSERT INTO community_members (community_id, organisation_id) VALUES ('baltic', 'cert-lv')`)
        }
        old.close()

        const store = new SqliteCredentialStore({ file })
        await checkCredentialRows(store, version)
        await store.close()
        const recorded = recordedVersions(file, 'credentials')
        expect(recorded.map((r) => r.version)).toEqual(Array.from({ length: CREDENTIALS_LATEST }, (_, i) => i + 1))
        expect(recorded.filter((r) => r.description.endsWith('(found on open)'))).toHaveLength(version)
      } finally {
        removeFile(file)
      }
    })

  it('refuses a file whose schema is newer than the code, and leaves it as it is', async () => {
    const file = tempFile()
    try {
      await new SqliteCredentialStore({ file }).close()
      await new SqliteEventStore({ file }).close()
      const db = new Database(file)
      db.prepare(
        `INSERT INTO schema_migrations (schema, version, description, applied_at) VALUES ('credentials', ?, 'from the future', 'x')`,
      ).run(CREDENTIALS_LATEST + 1)
      db.prepare(
        `INSERT INTO schema_migrations (schema, version, description, applied_at) VALUES ('events', ?, 'from the future', 'x')`,
      ).run(EVENTS_LATEST + 2)
      db.close()
      expect(() => new SqliteCredentialStore({ file })).toThrow(SchemaTooNewError)
      expect(() => new SqliteCredentialStore({ file })).toThrow(
        `the credentials schema of this database is version ${CREDENTIALS_LATEST + 1}, newer than version ${CREDENTIALS_LATEST}`,
      )
      expect(() => new SqliteEventStore({ file })).toThrow(
        `the events schema of this database is version ${EVENTS_LATEST + 2}, newer than version ${EVENTS_LATEST}`,
      )
      expect(recordedVersions(file, 'credentials').at(-1)?.version).toBe(CREDENTIALS_LATEST + 1)
    } finally {
      removeFile(file)
    }
  })
})

/** What a SQLite file holds of its schemas: every table and index as made, the versions recorded, `user_version`. */
function sqliteShape(file: string) {
  const db = new Database(file, { readonly: true })
  try {
    const objects = db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY type, name').all() as {
      type: string
      name: string
      sql: string | null
    }[]
    const recorded = objects.some((o) => o.name === 'schema_migrations')
      ? db
          .prepare('SELECT schema, version, description, applied_at FROM schema_migrations ORDER BY schema, version')
          .all()
      : null
    const events = objects.some((o) => o.name === 'events')
      ? db.prepare('SELECT seq, id, recorded_at, body FROM events ORDER BY seq').all()
      : null
    return { objects, recorded, events, userVersion: db.pragma('user_version', { simple: true }) }
  } finally {
    db.close()
  }
}

describe('SQLite, opened without migrating (a command that only reads)', () => {
  it('a file of an earlier schema, recorded or not, is refused (SchemaTooOldError) and left exactly as it was', async () => {
    const file = tempFile()
    try {
      // no record of versions: events 1 (with events in it) and credentials 1, as the first releases left them
      const old = sqliteAt(file, SQLITE_EVENT_MIGRATIONS, 1)
      for (const step of SQLITE_CREDENTIAL_MIGRATIONS.slice(0, 1)) step.up(old)
      const insert = old.prepare('INSERT INTO events (seq, id, recorded_at, body) VALUES (?, ?, ?, ?)')
      for (const row of storedRows(3)) insert.run(row.seq, row.id, row.recordedAt, row.body)
      old.close()
      const before = sqliteShape(file)
      expect(before.recorded).toBeNull()
      expect(() => new SqliteEventStore({ file, migrate: false })).toThrow(SchemaTooOldError)
      expect(() => new SqliteEventStore({ file, migrate: false })).toThrow(
        `the events schema of this database is version 1, older than version ${EVENTS_LATEST} of this Watchfloor: ` +
          'a command that only reads does not upgrade it',
      )
      const refused = (() => {
        try {
          new SqliteCredentialStore({ file, migrate: false })
          return undefined
        } catch (error) {
          return error
        }
      })()
      expect(refused).toBeInstanceOf(SchemaTooOldError)
      expect(refused).toMatchObject({
        code: 'schema_too_old',
        schema: 'credentials',
        found: 1,
        known: CREDENTIALS_LATEST,
      })
      expect(sqliteShape(file)).toEqual(before)

      // versions recorded, one short of the newest: the same
      const recorded = new Database(file)
      migrateSqlite(recorded, 'events', SQLITE_EVENT_MIGRATIONS.slice(0, EVENTS_LATEST - 1), detectSqliteEvents)
      migrateSqlite(
        recorded,
        'credentials',
        SQLITE_CREDENTIAL_MIGRATIONS.slice(0, CREDENTIALS_LATEST - 1),
        detectSqliteCredentials,
      )
      recorded.close()
      const again = sqliteShape(file)
      expect(again.recorded).toHaveLength(EVENTS_LATEST - 1 + CREDENTIALS_LATEST - 1)
      expect(() => new SqliteEventStore({ file, migrate: false })).toThrow(
        `the events schema of this database is version ${EVENTS_LATEST - 1}, older than version ${EVENTS_LATEST}`,
      )
      expect(() => new SqliteCredentialStore({ file, migrate: false })).toThrow(
        `the credentials schema of this database is version ${CREDENTIALS_LATEST - 1}, older than version ${CREDENTIALS_LATEST}`,
      )
      expect(sqliteShape(file)).toEqual(again)
      // opened as a server opens it, it is brought up to date
      await new SqliteEventStore({ file }).close()
      await new SqliteCredentialStore({ file }).close()
      expect(recordedVersions(file, 'events').map((r) => r.version)).toEqual([1, 2, 3, 4])
      expect(recordedVersions(file, 'credentials')).toHaveLength(CREDENTIALS_LATEST)
    } finally {
      removeFile(file)
    }
  })

  it('a file holding neither schema is refused as version 0, and nothing is made in it', async () => {
    const file = tempFile()
    try {
      new Database(file).close()
      const before = sqliteShape(file)
      expect(() => new SqliteEventStore({ file, migrate: false })).toThrow(SchemaTooOldError)
      expect(() => new SqliteCredentialStore({ file, migrate: false })).toThrow(
        'this database holds no credentials schema (version 0',
      )
      expect(sqliteShape(file)).toEqual(before)
      expect(before.objects).toEqual([])
    } finally {
      removeFile(file)
    }
  })

  it('a file of the newest versions opens and reads, writing no version', async () => {
    const file = tempFile()
    try {
      const writer = new SqliteEventStore({ file })
      await writer.append([observation(1), observation(2)])
      await writer.close()
      const credentials = new SqliteCredentialStore({ file })
      await credentials.createAccount({ ...NEW_ACCOUNT })
      await credentials.close()
      const before = sqliteShape(file)

      const events = new SqliteEventStore({ file, migrate: false })
      const reader = new SqliteCredentialStore({ file, migrate: false })
      try {
        expect(await events.head()).toBe(2)
        expect(await events.readAfter(0, 10)).toHaveLength(2)
        expect((await reader.listAccounts()).map((a) => a.username)).toEqual(['janis'])
      } finally {
        await events.close()
        await reader.close()
      }
      expect(sqliteShape(file).recorded).toEqual(before.recorded)
    } finally {
      removeFile(file)
    }
  })

  it('a file of a newer schema is refused (SchemaTooNewError) as when migrating', async () => {
    const file = tempFile()
    try {
      await new SqliteCredentialStore({ file }).close()
      await new SqliteEventStore({ file }).close()
      const db = new Database(file)
      const future = db.prepare(
        `INSERT INTO schema_migrations (schema, version, description, applied_at) VALUES (?, ?, 'from the future', 'x')`,
      )
      future.run('events', EVENTS_LATEST + 1)
      future.run('credentials', CREDENTIALS_LATEST + 1)
      db.close()
      const before = sqliteShape(file)
      expect(() => new SqliteEventStore({ file, migrate: false })).toThrow(SchemaTooNewError)
      expect(() => new SqliteCredentialStore({ file, migrate: false })).toThrow(
        `the credentials schema of this database is version ${CREDENTIALS_LATEST + 1}, newer than version ${CREDENTIALS_LATEST}`,
      )
      expect(sqliteShape(file)).toEqual(before)
    } finally {
      removeFile(file)
    }
  })
})

async function checkCredentialRows(store: CredentialStore, version: number): Promise<void> {
  expect(await store.getAccount('janis')).toMatchObject({
    username: 'janis',
    organisation: 'cert-lv',
    roles: ['liaison'],
  })
  expect(await store.findToken(hashSecret('wf_old'))).toMatchObject({
    id: 'old-token',
    owner: 'janis',
    expiresAt: null,
  })
  expect(await store.findSession('s1')).toMatchObject({ account: 'janis' })
  if (version >= 3) {
    expect((await store.listOrganisations()).map((o) => o.id)).toEqual(['cert-lv'])
    expect(await store.communitiesOf('cert-lv')).toEqual(['baltic'])
  } else expect(await store.listOrganisations()).toEqual([])
  // every table of the newest version is there
  expect(await store.listFeeds()).toEqual([])
  expect(await store.listFeedOutActivity()).toEqual([])
}

// ------------------------------------------------------------------------------------ PostgreSQL

describe('PostgreSQL schema versions', () => {
  const pool = new pg.Pool({ connectionString, max: 2 })
  const cleanups: (() => Promise<unknown>)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => {})
    await pool.end()
  })
  const dropEvents = (table: string) => () =>
    pool.query(
      `DROP TABLE IF EXISTS ${table}, ${table}_snapshots, ${table}_snapshot_parts, ${table}_notify_key, ${table}_schema_migrations`,
    )
  /** A fresh event table at schema `version` (its first migrations only), dropped after the tests. */
  const eventTableAt = async (version: number): Promise<string> => {
    const table = freshName()
    cleanups.push(dropEvents(table))
    const client = await pool.connect()
    try {
      for (const step of postgresEventMigrations(table).slice(0, version)) await step.up(client)
    } finally {
      client.release()
    }
    return table
  }
  const dropCredentials = (prefix: string) => async () => {
    const t = credentialTables(prefix)
    await pool.query(
      `DROP TABLE IF EXISTS ${t.feedOut}, ${t.feedStates}, ${t.feeds}, ${t.members}, ${t.communities}, ${t.organisations}, ${t.sessions}, ${t.tokens}, ${t.accounts}, ${prefix}_schema_migrations, ${prefix}_login_attempts, ${t.taxiiStatuses}`,
    )
  }

  it('an event table of the first schema (a content hash column) keeps its rows, loses the column', async () => {
    const table = freshName()
    cleanups.push(dropEvents(table))
    await pool.query(firstPostgresEvents(table))
    const rows = storedRows(5)
    for (const row of rows)
      await pool.query(`INSERT INTO ${table} (seq, id, hash, recorded_at, body) VALUES ($1, $2, 'h', $3, $4)`, [
        row.seq,
        row.id,
        row.recordedAt,
        row.body,
      ])
    const store = await PostgresEventStore.open({ connectionString, table })
    try {
      expect(await store.head()).toBe(5)
      expect((await store.readAfter(3, 5)).map((e) => e.id)).toEqual([rows[3]!.id, rows[4]!.id])
      expect((await store.append([observation(9)]))[0]).toMatchObject({ seq: 6, duplicate: false })
      await store.snapshots.save({ key: 'picture', version: 1, seq: 6, body: '{}' })
    } finally {
      await store.close()
    }
    const { rows: versions } = await pool.query(`SELECT version, description FROM ${table}_schema_migrations`)
    expect(versions.map((r) => r.version)).toEqual([1, 2, 3, 4])
    expect(versions[0].description).toMatch(/found on open/)
    expect(versions[1].description).not.toMatch(/found on open/)
  })

  it('an event table of schema 2 (no snapshots) keeps its rows and gains the snapshots table', async () => {
    const table = await eventTableAt(2)
    const rows = storedRows(3)
    for (const row of rows)
      await pool.query(`INSERT INTO ${table} (seq, id, recorded_at, body) VALUES ($1, $2, $3, $4)`, [
        row.seq,
        row.id,
        row.recordedAt,
        row.body,
      ])
    const store = await PostgresEventStore.open({ connectionString, table })
    try {
      expect((await store.readAfter(0, 10)).map((e) => e.id)).toEqual(rows.map((r) => r.id))
      await store.snapshots.save({ key: 'picture', version: 1, seq: 3, body: '{}' })
      expect(await store.snapshots.load('picture', 1, 3)).toMatchObject({ seq: 3 })
    } finally {
      await store.close()
    }
  })

  it('an event table of schema 3 (each snapshot body in its row) keeps its snapshots and takes bodies in parts', async () => {
    const table = await eventTableAt(3)
    await pool.query(`INSERT INTO ${table}_snapshots (key, version, seq, used_at, body) VALUES ($1, $2, $3, $4, $5)`, [
      'picture',
      1,
      0,
      1,
      '{"earlier":true}',
    ])
    const store = await PostgresEventStore.open({ connectionString, table })
    try {
      await earlierSnapshotKeptLongOneTaken(store)
      const parts = await pool.query(`SELECT count(*)::int AS n FROM ${table}_snapshot_parts`)
      expect(parts.rows[0].n).toBe(3)
    } finally {
      await store.close()
    }
    const { rows: versions } = await pool.query(`SELECT version FROM ${table}_schema_migrations ORDER BY version`)
    expect(versions.map((r) => r.version)).toEqual([1, 2, 3, 4])
  })

  for (let version = 1; version < CREDENTIALS_LATEST; version++)
    it(`credential tables of schema ${version} keep their accounts, tokens and sessions (and directory)`, async () => {
      const prefix = freshName()
      cleanups.push(dropCredentials(prefix))
      const t = credentialTables(prefix)
      const client = await pool.connect()
      try {
        for (const step of postgresCredentialMigrations(t).slice(0, version)) await step.up(client)
        await client.query(
          `INSERT INTO ${t.accounts} (username, display_name, organisation, nation, roles, password_hash, disabled, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, NULL, false, $6, $6)`,
          [
            ACCOUNT_ROW.username,
            ACCOUNT_ROW.display,
            ACCOUNT_ROW.organisation,
            ACCOUNT_ROW.nation,
            ACCOUNT_ROW.roles,
            ACCOUNT_ROW.at,
          ],
        )
        await client.query(
          `INSERT INTO ${t.tokens} (id, secret_hash, label, kind, owner, created_by, created_at)
           VALUES ('old-token', $1, 'laptop', 'api', 'janis', 'admin', $2)`,
          [hashSecret('wf_old'), ACCOUNT_ROW.at],
        )
        await client.query(
          `INSERT INTO ${t.sessions} (id_hash, account, created_at, expires_at) VALUES ('s1', 'janis', $1, '2099-01-01T00:00:00Z')`,
          [ACCOUNT_ROW.at],
        )
        if (version >= 3) {
          await client.query(
            `INSERT INTO ${t.organisations} (id, name, nation, kind, created_at, updated_at) VALUES ('cert-lv', 'CERT.LV', 'LV', 'ally_cert', $1, $1)`,
            [ACCOUNT_ROW.at],
          )
          await client.query(
            `INSERT INTO ${t.communities} (id, name, created_at, updated_at) VALUES ('baltic', 'Baltic', $1, $1)`,
            [ACCOUNT_ROW.at],
          )
          await client.query(`INSERT INTO ${t.members} (community_id, organisation_id) VALUES ('baltic', 'cert-lv')`)
        }
      } finally {
        client.release()
      }
      const store = await PostgresCredentialStore.open({ connectionString, prefix })
      try {
        await checkCredentialRows(store, version)
      } finally {
        await store.close()
      }
      const { rows } = await pool.query(`SELECT version, description FROM ${prefix}_schema_migrations ORDER BY version`)
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: CREDENTIALS_LATEST }, (_, i) => i + 1))
      expect(rows.filter((r) => String(r.description).endsWith('(found on open)'))).toHaveLength(version)
    })

  it('refuses tables whose schema is newer than the code, and leaves them as they are', async () => {
    const prefix = freshName()
    const table = freshName()
    cleanups.push(dropCredentials(prefix), dropEvents(table))
    await (await PostgresCredentialStore.open({ connectionString, prefix })).close()
    await (await PostgresEventStore.open({ connectionString, table })).close()
    await pool.query(`INSERT INTO ${prefix}_schema_migrations (version, description) VALUES ($1, 'from the future')`, [
      CREDENTIALS_LATEST + 1,
    ])
    await pool.query(`INSERT INTO ${table}_schema_migrations (version, description) VALUES ($1, 'from the future')`, [
      EVENTS_LATEST + 1,
    ])
    await expect(PostgresCredentialStore.open({ connectionString, prefix })).rejects.toThrow(
      `the credentials schema of this database is version ${CREDENTIALS_LATEST + 1}, newer than version ${CREDENTIALS_LATEST}`,
    )
    await expect(PostgresEventStore.open({ connectionString, table })).rejects.toBeInstanceOf(SchemaTooNewError)
    const { rows } = await pool.query(`SELECT max(version) AS v FROM ${prefix}_schema_migrations`)
    expect(rows[0].v).toBe(CREDENTIALS_LATEST + 1)
  })

  /** What PostgreSQL holds under a name: its tables and their columns, and the versions recorded. */
  const postgresShape = async (name: string) => {
    const { rows: columns } = await pool.query(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND starts_with(table_name, $1) ORDER BY 1, 2`,
      [name],
    )
    const recorded = (await pool.query('SELECT to_regclass($1) IS NOT NULL AS ok', [`${name}_schema_migrations`]))
      .rows[0].ok
      ? (await pool.query(`SELECT version, description, applied_at FROM ${name}_schema_migrations ORDER BY version`))
          .rows
      : null
    return { columns, recorded }
  }
  /** The error an open rejects with. */
  const refusal = (opening: Promise<{ close(): Promise<void> }>) =>
    opening.then(
      async (store) => {
        await store.close()
        return undefined
      },
      (error: unknown) => error,
    )

  it('opened without migrating, an event table of an earlier schema, recorded or not, is refused and left as it was', async () => {
    const table = await eventTableAt(2)
    for (const row of storedRows(3))
      await pool.query(`INSERT INTO ${table} (seq, id, recorded_at, body) VALUES ($1, $2, $3, $4)`, [
        row.seq,
        row.id,
        row.recordedAt,
        row.body,
      ])
    const before = await postgresShape(table)
    expect(before.recorded).toBeNull()
    const error = await refusal(PostgresEventStore.open({ connectionString, table, migrate: false }))
    expect(error).toBeInstanceOf(SchemaTooOldError)
    expect(error).toMatchObject({ schema: 'events', found: 2, known: EVENTS_LATEST })
    // nothing made: no record of versions, no notifications' key
    expect(await postgresShape(table)).toEqual(before)
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).toBe(3)

    // versions recorded, one short of the newest
    const client = await pool.connect()
    try {
      await migratePostgres(
        client,
        `${table}_schema_migrations`,
        'events',
        postgresEventMigrations(table).slice(0, EVENTS_LATEST - 1),
        (c) => detectPostgresEvents(c, table),
      )
    } finally {
      client.release()
    }
    const recorded = await postgresShape(table)
    expect(recorded.recorded?.map((r) => r.version)).toEqual([1, 2, 3].slice(0, EVENTS_LATEST - 1))
    await expect(PostgresEventStore.open({ connectionString, table, migrate: false })).rejects.toThrow(
      `the events schema of this database is version ${EVENTS_LATEST - 1}, older than version ${EVENTS_LATEST} of this Watchfloor`,
    )
    expect(await postgresShape(table)).toEqual(recorded)
  })

  it('opened without migrating, credential tables of an earlier schema, recorded or not, are refused and left as they were', async () => {
    const prefix = freshName()
    cleanups.push(dropCredentials(prefix))
    const t = credentialTables(prefix)
    const client = await pool.connect()
    try {
      for (const step of postgresCredentialMigrations(t).slice(0, 1)) await step.up(client)
      const before = await postgresShape(prefix)
      const error = await refusal(PostgresCredentialStore.open({ connectionString, prefix, migrate: false }))
      expect(error).toBeInstanceOf(SchemaTooOldError)
      expect(error).toMatchObject({ code: 'schema_too_old', schema: 'credentials', found: 1 })
      expect(await postgresShape(prefix)).toEqual(before)

      await migratePostgres(
        client,
        `${prefix}_schema_migrations`,
        'credentials',
        postgresCredentialMigrations(t).slice(0, CREDENTIALS_LATEST - 1),
        (c) => detectPostgresCredentials(c, t),
      )
    } finally {
      client.release()
    }
    const recorded = await postgresShape(prefix)
    expect(recorded.recorded).toHaveLength(CREDENTIALS_LATEST - 1)
    await expect(PostgresCredentialStore.open({ connectionString, prefix, migrate: false })).rejects.toThrow(
      `the credentials schema of this database is version ${CREDENTIALS_LATEST - 1}, older than version ${CREDENTIALS_LATEST}`,
    )
    expect(await postgresShape(prefix)).toEqual(recorded)
  })

  it('opened without migrating, tables of the newest versions open and read; of a newer one, they are refused', async () => {
    const prefix = freshName()
    const table = freshName()
    cleanups.push(dropCredentials(prefix), dropEvents(table))
    const writer = await PostgresEventStore.open({ connectionString, table })
    await writer.append([observation(1), observation(2)])
    await writer.close()
    const credentials = await PostgresCredentialStore.open({ connectionString, prefix })
    await credentials.createAccount({ ...NEW_ACCOUNT })
    await credentials.close()
    const events = await PostgresEventStore.open({ connectionString, table, migrate: false })
    const reader = await PostgresCredentialStore.open({ connectionString, prefix, migrate: false })
    try {
      expect(await events.head()).toBe(2)
      expect(await events.readAfter(0, 10)).toHaveLength(2)
      expect((await reader.listAccounts()).map((a) => a.username)).toEqual(['janis'])
    } finally {
      await events.close()
      await reader.close()
    }

    await pool.query(`INSERT INTO ${prefix}_schema_migrations (version, description) VALUES ($1, 'from the future')`, [
      CREDENTIALS_LATEST + 1,
    ])
    await pool.query(`INSERT INTO ${table}_schema_migrations (version, description) VALUES ($1, 'from the future')`, [
      EVENTS_LATEST + 1,
    ])
    const future = await postgresShape(table)
    await expect(PostgresEventStore.open({ connectionString, table, migrate: false })).rejects.toBeInstanceOf(
      SchemaTooNewError,
    )
    await expect(PostgresCredentialStore.open({ connectionString, prefix, migrate: false })).rejects.toThrow(
      `the credentials schema of this database is version ${CREDENTIALS_LATEST + 1}, newer than version ${CREDENTIALS_LATEST}`,
    )
    expect(await postgresShape(table)).toEqual(future)
  })

  it('processes opening one new database at once migrate it once', async () => {
    const prefix = freshName()
    const table = freshName()
    cleanups.push(dropCredentials(prefix), dropEvents(table))
    const stores: { close(): Promise<void> }[] = await Promise.all([
      PostgresCredentialStore.open({ connectionString, prefix }),
      PostgresCredentialStore.open({ connectionString, prefix }),
      PostgresEventStore.open({ connectionString, table }),
      PostgresEventStore.open({ connectionString, table }),
    ])
    for (const store of stores) await store.close()
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${prefix}_schema_migrations`)
    expect(rows[0].n).toBe(CREDENTIALS_LATEST)
  })
})

// the contract on PostgreSQL tables of the first schemas, migrated on open
const pgNames = new WeakMap<object, string>()
registerEventStoreContract('postgres, a table of the first schema migrated on open', {
  async create() {
    const table = freshName()
    const pool = new pg.Pool({ connectionString, max: 1 })
    await pool.query(firstPostgresEvents(table))
    await pool.end()
    const store = await PostgresEventStore.open({ connectionString, table, pollMs: 200 })
    pgNames.set(store, table)
    return store
  },
  async reopen(store: EventStore) {
    const table = pgNames.get(store)!
    const reopened = await PostgresEventStore.open({ connectionString, table, pollMs: 200 })
    pgNames.set(reopened, table)
    return reopened
  },
  async destroy(store) {
    await store.close()
    const cleaner = await PostgresEventStore.open({ connectionString, table: pgNames.get(store)! })
    await cleaner.drop()
    await cleaner.close()
  },
})

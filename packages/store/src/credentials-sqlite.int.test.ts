import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { observation } from './contract.ts'
import { type CredentialStore, hashSecret } from './credentials.ts'
import { CREDENTIALS_LEFT_OUT, CREDENTIALS_TRANSIENT, DURABLE_SQLITE_COLUMNS } from './credentials-backup.ts'
import {
  newAccount,
  newCommunity,
  newFeed,
  newOrganisation,
  newToken,
  registerCredentialStoreContract,
} from './credentials-contract.ts'
import { SqliteCredentialStore } from './credentials-sqlite.ts'
import { openStores } from './open.ts'
import { SqliteEventStore } from './sqlite.ts'

/** What a promise rejects with; null when it resolves. */
const refusal = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => null,
    (error: unknown) => error,
  )

const files = new WeakMap<CredentialStore, string>()

registerCredentialStoreContract('sqlite', {
  async create() {
    const file = join(mkdtempSync(join(tmpdir(), 'watchfloor-credentials-')), 'events.sqlite')
    const store = new SqliteCredentialStore({ file })
    files.set(store, file)
    return store
  },
  async reopen(store) {
    const file = files.get(store)!
    const reopened = new SqliteCredentialStore({ file })
    files.set(reopened, file)
    return reopened
  },
  async destroy(store) {
    await store.close()
    const file = files.get(store)
    if (file) rmSync(join(file, '..'), { recursive: true, force: true })
  },
})

describe('SQLite credentials beside the event log', () => {
  it('openStores opens the log and the credentials in the same database file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'watchfloor-stores-'))
    try {
      const first = await openStores({ dataDir })
      expect(first.events.kind).toBe('sqlite')
      expect(first.credentials.kind).toBe('sqlite')
      // interleaved writes on both connections: neither waits for the other
      const appends = Promise.all(Array.from({ length: 20 }, (_, i) => first.events.append([observation(i)])))
      await first.credentials.createAccount(newAccount('janis'))
      const token = newToken({ owner: 'janis' })
      await first.credentials.createToken(token)
      await appends
      await first.events.close()
      await first.credentials.close()

      // both live in events.sqlite
      const events = new SqliteEventStore({ file: join(dataDir, 'events.sqlite') })
      const credentials = new SqliteCredentialStore({ file: join(dataDir, 'events.sqlite') })
      expect(await events.head()).toBe(20)
      expect((await credentials.findToken(token.secretHash))?.owner).toBe('janis')
      await events.close()
      await credentials.close()
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('SQLite credentials in a backup', () => {
  it('every table and column of the store is kept by a backup or named in what it leaves out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-credentials-'))
    try {
      const file = join(dir, 'credentials.sqlite')
      const store = new SqliteCredentialStore({ file })
      await store.close()
      const db = new Database(file, { readonly: true })
      const tables = db
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'",
        )
        .all()
        .map((row) => row.name)
      const undecided: string[] = []
      for (const table of tables) {
        if (table in CREDENTIALS_TRANSIENT.tables) continue
        const kept = DURABLE_SQLITE_COLUMNS.get(table)
        if (!kept) {
          undecided.push(table)
          continue
        }
        const transient = CREDENTIALS_TRANSIENT.columns[table] ?? {}
        const columns = db
          .prepare<[], { name: string }>(`PRAGMA table_info(${table})`)
          .all()
          .map((column) => column.name)
        for (const name of columns) if (!kept.includes(name) && !(name in transient)) undecided.push(`${table}.${name}`)
        // and every column named is one the table has
        for (const column of [...kept, ...Object.keys(transient)])
          expect(columns, `${table}.${column}`).toContain(column)
      }
      db.close()
      expect(undecided).toEqual([])
      // and nothing named that the store does not have
      for (const table of [...DURABLE_SQLITE_COLUMNS.keys(), ...Object.keys(CREDENTIALS_TRANSIENT.tables)])
        expect(tables).toContain(table)
      expect(CREDENTIALS_LEFT_OUT).toEqual([
        'sessions',
        'sign-in throttle slots',
        'TAXII Add Objects statuses',
        'feed polling leases',
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('SQLite credentials shared by two processes', () => {
  it('a lease one holds, the other sees held, until it is released or expires', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-credentials-two-'))
    const file = join(dir, 'events.sqlite')
    const a = new SqliteCredentialStore({ file })
    const b = new SqliteCredentialStore({ file })
    try {
      await a.createOrganisation(newOrganisation('cert-ee'))
      await a.createFeed(newFeed('ee-taxii', 'cert-ee'))
      expect(await b.getFeed('ee-taxii')).toEqual(await a.getFeed('ee-taxii'))
      expect(await a.claimFeed('ee-taxii', 'process-a', 60_000)).toBe(true)
      expect(await b.claimFeed('ee-taxii', 'process-b', 60_000)).toBe(false)
      expect(await b.releaseFeed('ee-taxii', 'process-b')).toBe(false)
      expect(await a.releaseFeed('ee-taxii', 'process-a')).toBe(true)
      expect(await b.claimFeed('ee-taxii', 'process-b', 200)).toBe(true)
      expect(await a.claimFeed('ee-taxii', 'process-a', 60_000)).toBe(false)
      await new Promise((r) => setTimeout(r, 300))
      expect(await a.claimFeed('ee-taxii', 'process-a', 60_000)).toBe(true)
      await a.recordFeedState('ee-taxii', { cursor: 'c1' })
      expect(await b.getFeedState('ee-taxii')).toMatchObject({ cursor: 'c1' })
      expect(await refusal(b.deleteOrganisation('cert-ee'))).toMatchObject({ code: 'conflict' })
    } finally {
      await a.close()
      await b.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** The credential tables as the version before token expiry made them (no `api_tokens.expires_at`). */
const TABLES_BEFORE_EXPIRY = `
  CREATE TABLE IF NOT EXISTS accounts (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    organisation TEXT NOT NULL,
    nation TEXT NOT NULL,
    roles TEXT NOT NULL,
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('api', 'display')),
    owner TEXT REFERENCES accounts (username),
    service_user TEXT,
    service_organisation TEXT,
    service_nation TEXT,
    service_roles TEXT,
    service_sources TEXT,
    preset TEXT,
    tlp_ceiling TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT,
    CHECK ((owner IS NULL) <> (service_user IS NULL))
  );
  CREATE INDEX IF NOT EXISTS api_tokens_owner ON api_tokens (owner);
  CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS sessions_account ON sessions (account);
  CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
`

describe('SQLite credentials made before tokens could expire', () => {
  it('adds api_tokens.expires_at on open: the old tokens never expire, new ones may', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-credentials-old-'))
    const file = join(dir, 'events.sqlite')
    try {
      const old = new Database(file)
      old.exec(TABLES_BEFORE_EXPIRY)
      old
        .prepare(
          `INSERT INTO accounts (username, display_name, organisation, nation, roles, password_hash, disabled, created_at, updated_at)
           VALUES ('janis', 'Janis', 'cert-lv', 'LV', '["liaison"]', NULL, 0, '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z')`,
        )
        .run()
      old
        .prepare(
          `INSERT INTO api_tokens (id, secret_hash, label, kind, owner, created_by, created_at, last_used_at)
           VALUES ('old-token', ?, 'janis laptop', 'api', 'janis', 'admin', '2026-01-02T03:04:06.000Z', '2026-01-03T00:00:00.000Z')`,
        )
        .run(hashSecret('wf_old-secret'))
      old.close()

      const store = new SqliteCredentialStore({ file })
      expect(await store.findToken(hashSecret('wf_old-secret'))).toEqual({
        id: 'old-token',
        label: 'janis laptop',
        kind: 'api',
        owner: 'janis',
        service: null,
        preset: null,
        tlpCeiling: null,
        createdBy: 'admin',
        createdAt: '2026-01-02T03:04:06.000Z',
        lastUsedAt: '2026-01-03T00:00:00.000Z',
        revokedAt: null,
        expiresAt: null,
      })
      const fresh = newToken({ owner: 'janis', expiresAt: '2031-01-01T00:00:00.000Z' })
      expect((await store.createToken(fresh)).expiresAt).toBe('2031-01-01T00:00:00.000Z')
      // the directory's tables are made on open, and hold the same rules
      expect(await store.listOrganisations()).toEqual([])
      await store.createOrganisation(newOrganisation('cert-lv', { nation: 'LV' }))
      await store.createCommunity(newCommunity('baltic', ['cert-lv']))
      expect(await refusal(store.deleteOrganisation('cert-lv'))).toMatchObject({ code: 'conflict' })
      // and so are the feeds'
      await store.createFeed(newFeed('lv-taxii', 'cert-lv'))
      await store.recordFeedState('lv-taxii', { objectsImported: 1 })
      expect(await store.claimFeed('lv-taxii', 'a', 60_000)).toBe(true)
      // and feeds out's activity
      await store.recordFeedOutPull({
        organisation: 'cert-lv',
        channel: 'taxii',
        at: '2026-01-04T00:00:00.000Z',
        objects: 3,
      })
      await store.close()

      // opening it again finds the column there and leaves it
      const again = new SqliteCredentialStore({ file })
      expect((await again.getToken('old-token'))?.expiresAt).toBeNull()
      expect((await again.findToken(fresh.secretHash))?.expiresAt).toBe('2031-01-01T00:00:00.000Z')
      expect(await again.communitiesOf('cert-lv')).toEqual(['baltic'])
      expect((await again.listFeeds()).map((feed) => feed.id)).toEqual(['lv-taxii'])
      expect((await again.getFeedState('lv-taxii'))?.objectsImported).toBe(1)
      expect(await again.claimFeed('lv-taxii', 'b', 60_000)).toBe(false)
      expect(await again.listFeedOutActivity()).toMatchObject([{ organisation: 'cert-lv', pulls: 1, objectsServed: 3 }])
      await again.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

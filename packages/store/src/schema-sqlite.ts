import type Database from 'better-sqlite3'
import { idHash } from './id-hash.ts'
import { type Migration, sqliteHas } from './migrations.ts'

/*
 * The numbered schemas of the SQLite file (`events.sqlite`), one list per schema; a new version
 * is one more entry at the end of its list (never change an entry once released). The version
 * each list leads to, and what every step does, are in packages/store/README.md and
 * docs/deploy.md ("Upgrades").
 */

type Step = Migration<Database.Database>

/** The event log: `events`, its id index and `snapshots`. */
export const SQLITE_EVENT_MIGRATIONS: readonly Step[] = [
  {
    version: 1,
    description: 'events (seq, id UNIQUE, recorded_at, body)',
    up: (db) =>
      db.exec(
        'CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, recorded_at TEXT NOT NULL, body TEXT NOT NULL)',
      ),
  },
  {
    version: 2,
    description: 'events without the UNIQUE index on id; ids hashed into event_ids; event_store.indexed_to',
    up: (db) => {
      db.exec(`
        ALTER TABLE events RENAME TO events_v1;
        CREATE TABLE events (
          seq INTEGER PRIMARY KEY,
          id TEXT NOT NULL,
          recorded_at TEXT NOT NULL,
          body TEXT NOT NULL
        );
        CREATE TABLE event_ids (
          hash INTEGER NOT NULL,
          seq INTEGER NOT NULL,
          PRIMARY KEY (hash, seq)
        ) WITHOUT ROWID;
        CREATE TABLE event_store (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      `)
      db.function('watchfloor_id_hash', { deterministic: true }, (id) => idHash(String(id)))
      db.exec(`
        INSERT INTO events (seq, id, recorded_at, body) SELECT seq, id, recorded_at, body FROM events_v1 ORDER BY seq;
        DROP TABLE events_v1;
        INSERT INTO event_ids (hash, seq) SELECT watchfloor_id_hash(id), seq FROM events ORDER BY 1, 2;
        INSERT INTO event_store (key, value) SELECT 'indexed_to', coalesce(max(seq), 0) FROM events;
      `)
      // what a Watchfloor from before numbered schemas reads: "converted already"
      db.pragma('user_version = 1')
    },
  },
  {
    version: 3,
    description: 'snapshots (key, version, seq, used_at, body)',
    up: (db) =>
      db.exec(`
        CREATE TABLE IF NOT EXISTS snapshots (
          key TEXT NOT NULL,
          version INTEGER NOT NULL,
          seq INTEGER NOT NULL,
          used_at INTEGER NOT NULL,
          body TEXT NOT NULL,
          PRIMARY KEY (key, version, seq)
        );
      `),
  },
  {
    version: 4,
    description: 'snapshot bodies in parts: snapshots.parts_id and parts, snapshot_parts (id, part, body)',
    up: (db) =>
      db.exec(`
        ALTER TABLE snapshots ADD COLUMN parts_id INTEGER;
        ALTER TABLE snapshots ADD COLUMN parts INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE IF NOT EXISTS snapshot_parts (
          id INTEGER NOT NULL,
          part INTEGER NOT NULL,
          body TEXT NOT NULL,
          PRIMARY KEY (id, part)
        );
      `),
  },
]

/**
 * The event schema of a file made before numbering, from what it holds: no `events` is 0 (an
 * empty file); `user_version` 0 is the first schema (UNIQUE ids); 1 had the id index, and the
 * snapshots once `snapshots` is there.
 */
export function detectSqliteEvents(db: Database.Database): number {
  if (!sqliteHas(db, 'events')) return 0
  if ((db.pragma('user_version', { simple: true }) as number) < 1) return 1
  return sqliteHas(db, 'snapshots') ? 3 : 2
}

/** Accounts, tokens, sessions, the directory and feeds. */
export const SQLITE_CREDENTIAL_MIGRATIONS: readonly Step[] = [
  {
    version: 1,
    description: 'accounts, api_tokens, sessions',
    up: (db) =>
      db.exec(`
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
      `),
  },
  {
    version: 2,
    description: 'api_tokens.expires_at (tokens made before it never expire)',
    up: (db) => {
      if (!sqliteHas(db, 'api_tokens', 'expires_at')) db.exec('ALTER TABLE api_tokens ADD COLUMN expires_at TEXT')
    },
  },
  {
    version: 3,
    description: 'the directory: organisations, communities, community_members',
    up: (db) =>
      db.exec(`
        CREATE TABLE IF NOT EXISTS organisations (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          nation TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('ally_cert', 'partner_country', 'industry', 'alliance_body')),
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS communities (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS community_members (
          community_id TEXT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
          organisation_id TEXT NOT NULL REFERENCES organisations (id),
          PRIMARY KEY (community_id, organisation_id)
        );
        CREATE INDEX IF NOT EXISTS community_members_organisation ON community_members (organisation_id);
      `),
  },
  {
    version: 4,
    description: 'partner feeds: feeds, feed_states',
    up: (db) =>
      db.exec(`
        CREATE TABLE IF NOT EXISTS feeds (
          id TEXT PRIMARY KEY,
          label TEXT NOT NULL,
          url TEXT NOT NULL,
          api_root TEXT NOT NULL,
          collection_id TEXT NOT NULL,
          organisation TEXT NOT NULL REFERENCES organisations (id),
          auth TEXT NOT NULL,
          poll_seconds INTEGER NOT NULL CHECK (poll_seconds BETWEEN 10 AND 86400),
          default_tlp TEXT NOT NULL CHECK (default_tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')),
          enabled INTEGER NOT NULL,
          created_by TEXT NOT NULL,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS feeds_organisation ON feeds (organisation);
        CREATE TABLE IF NOT EXISTS feed_states (
          feed_id TEXT PRIMARY KEY REFERENCES feeds (id) ON DELETE CASCADE,
          cursor TEXT,
          last_attempt_at TEXT,
          last_success_at TEXT,
          last_error TEXT,
          consecutive_failures INTEGER NOT NULL DEFAULT 0,
          objects_imported INTEGER NOT NULL DEFAULT 0,
          events_stored INTEGER NOT NULL DEFAULT 0,
          next_poll_at TEXT,
          lease_holder TEXT,
          lease_expires_at TEXT
        );
      `),
  },
  {
    version: 5,
    description: 'feeds out: feed_out_activity',
    up: (db) =>
      db.exec(`
        CREATE TABLE IF NOT EXISTS feed_out_activity (
          organisation TEXT NOT NULL,
          channel TEXT NOT NULL CHECK (channel IN ('taxii', 'misp')),
          pulls INTEGER NOT NULL,
          failed_pulls INTEGER NOT NULL,
          objects_served INTEGER NOT NULL,
          last_pull_objects INTEGER NOT NULL,
          last_pull_at TEXT NOT NULL,
          last_success_at TEXT,
          last_error_status INTEGER,
          last_error_message TEXT,
          last_error_at TEXT,
          PRIMARY KEY (organisation, channel)
        );
      `),
  },
  {
    version: 6,
    description: 'sign-in throttle slots shared by every process: login_attempts',
    up: (db) =>
      db.exec(`
        CREATE TABLE IF NOT EXISTS login_attempts (
          n INTEGER PRIMARY KEY,
          attempt TEXT NOT NULL,
          key TEXT NOT NULL,
          at INTEGER NOT NULL,
          pending INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS login_attempts_key ON login_attempts (key, at);
        CREATE INDEX IF NOT EXISTS login_attempts_attempt ON login_attempts (attempt);
        CREATE INDEX IF NOT EXISTS login_attempts_at ON login_attempts (at);
      `),
  },
  {
    version: 7,
    description: 'TAXII Add Objects statuses shared by every process: taxii_statuses',
    up: (db) =>
      db.exec(`
        CREATE TABLE IF NOT EXISTS taxii_statuses (
          id TEXT PRIMARY KEY,
          owner TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          body TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS taxii_statuses_created ON taxii_statuses (created_at);
      `),
  },
]

/** The credential schema of a file made before numbering, from the tables and columns it holds. */
export function detectSqliteCredentials(db: Database.Database): number {
  if (!sqliteHas(db, 'accounts')) return 0
  if (!sqliteHas(db, 'api_tokens', 'expires_at')) return 1
  if (!sqliteHas(db, 'organisations')) return 2
  if (!sqliteHas(db, 'feeds')) return 3
  if (!sqliteHas(db, 'feed_out_activity')) return 4
  if (!sqliteHas(db, 'login_attempts')) return 5
  return 6
}

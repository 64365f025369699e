import type pg from 'pg'
import { type Migration, postgresHas } from './migrations.ts'

/*
 * The numbered schemas in PostgreSQL, one list per schema (the versions applied are rows of
 * `<events table>_schema_migrations` and `<prefix>_schema_migrations`); a new version is one more
 * entry at the end of its list (never change an entry once released). The version each list
 * leads to, and what every step does, are in packages/store/README.md and docs/deploy.md.
 */

type Step = Migration<pg.ClientBase>

/** The event log `table`, its `<table>_snapshots` and their `<table>_snapshot_parts`. */
export function postgresEventMigrations(table: string): readonly Step[] {
  return [
    {
      version: 1,
      description: `${table} (seq, id UNIQUE, recorded_at, body), index on recorded_at`,
      up: (client) =>
        client.query(`
          CREATE TABLE IF NOT EXISTS ${table} (
            seq bigint PRIMARY KEY,
            id uuid NOT NULL UNIQUE,
            recorded_at timestamptz NOT NULL,
            body text NOT NULL
          );
          CREATE INDEX IF NOT EXISTS ${table}_recorded_at ON ${table} (recorded_at);
        `),
    },
    {
      version: 2,
      description: `${table}.hash dropped (the first schema's content hash, no longer written)`,
      up: (client) => client.query(`ALTER TABLE ${table} DROP COLUMN IF EXISTS hash`),
    },
    {
      version: 3,
      description: `${table}_snapshots (key, version, seq, used_at, body)`,
      up: (client) =>
        client.query(`
          CREATE TABLE IF NOT EXISTS ${table}_snapshots (
            key text NOT NULL,
            version integer NOT NULL,
            seq bigint NOT NULL,
            used_at bigint NOT NULL,
            body text NOT NULL,
            PRIMARY KEY (key, version, seq)
          );
        `),
    },
    {
      version: 4,
      description: `snapshot bodies in parts: ${table}_snapshots.parts_id and parts, ${table}_snapshot_parts (id, part, body)`,
      up: (client) =>
        client.query(`
          ALTER TABLE ${table}_snapshots ADD COLUMN IF NOT EXISTS parts_id bigint;
          ALTER TABLE ${table}_snapshots ADD COLUMN IF NOT EXISTS parts integer NOT NULL DEFAULT 0;
          CREATE TABLE IF NOT EXISTS ${table}_snapshot_parts (
            id bigint NOT NULL,
            part integer NOT NULL,
            body text NOT NULL,
            PRIMARY KEY (id, part)
          );
        `),
    },
  ]
}

/** The event schema of a database made before numbering, from the tables and columns it holds. */
export async function detectPostgresEvents(client: pg.ClientBase, table: string): Promise<number> {
  if (!(await postgresHas(client, table))) return 0
  if (await postgresHas(client, table, 'hash')) return 1
  return (await postgresHas(client, `${table}_snapshots`)) ? 3 : 2
}

/** The table names of the credential store. */
export interface CredentialTables {
  prefix: string
  accounts: string
  tokens: string
  sessions: string
  organisations: string
  communities: string
  members: string
  feeds: string
  feedStates: string
  feedOut: string
  loginAttempts: string
  taxiiStatuses: string
}

/** The table names of the credential store under `prefix`. */
export function credentialTables(prefix: string): CredentialTables {
  return {
    prefix,
    accounts: `${prefix}_accounts`,
    tokens: `${prefix}_tokens`,
    sessions: `${prefix}_sessions`,
    organisations: `${prefix}_organisations`,
    communities: `${prefix}_communities`,
    members: `${prefix}_community_members`,
    feeds: `${prefix}_feeds`,
    feedStates: `${prefix}_feed_states`,
    feedOut: `${prefix}_feed_out_activity`,
    loginAttempts: `${prefix}_login_attempts`,
    taxiiStatuses: `${prefix}_taxii_statuses`,
  }
}

/** Accounts, tokens, sessions, the directory and feeds, under one prefix. */
export function postgresCredentialMigrations(t: CredentialTables): readonly Step[] {
  return [
    {
      version: 1,
      description: `${t.accounts}, ${t.tokens}, ${t.sessions}`,
      up: (client) =>
        client.query(`
          CREATE TABLE IF NOT EXISTS ${t.accounts} (
            username text PRIMARY KEY,
            display_name text NOT NULL,
            organisation text NOT NULL,
            nation text NOT NULL,
            roles text NOT NULL,
            password_hash text,
            disabled boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
          );
          CREATE TABLE IF NOT EXISTS ${t.tokens} (
            id text PRIMARY KEY,
            secret_hash text NOT NULL UNIQUE,
            label text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('api', 'display')),
            owner text REFERENCES ${t.accounts} (username),
            service_user text,
            service_organisation text,
            service_nation text,
            service_roles text,
            service_sources text,
            preset text,
            tlp_ceiling text,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL,
            last_used_at timestamptz,
            revoked_at timestamptz,
            CHECK ((owner IS NULL) <> (service_user IS NULL))
          );
          CREATE INDEX IF NOT EXISTS ${t.tokens}_owner ON ${t.tokens} (owner);
          CREATE TABLE IF NOT EXISTS ${t.sessions} (
            id_hash text PRIMARY KEY,
            account text NOT NULL REFERENCES ${t.accounts} (username) ON DELETE CASCADE,
            created_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL
          );
          CREATE INDEX IF NOT EXISTS ${t.sessions}_account ON ${t.sessions} (account);
          CREATE INDEX IF NOT EXISTS ${t.sessions}_expires_at ON ${t.sessions} (expires_at);
        `),
    },
    {
      version: 2,
      description: `${t.tokens}.expires_at (tokens made before it never expire)`,
      up: (client) => client.query(`ALTER TABLE ${t.tokens} ADD COLUMN IF NOT EXISTS expires_at timestamptz`),
    },
    {
      version: 3,
      description: `the directory: ${t.organisations}, ${t.communities}, ${t.members}`,
      up: (client) =>
        client.query(`
          CREATE TABLE IF NOT EXISTS ${t.organisations} (
            id text COLLATE "C" PRIMARY KEY,
            name text NOT NULL,
            nation text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('ally_cert', 'partner_country', 'industry', 'alliance_body')),
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
          );
          CREATE TABLE IF NOT EXISTS ${t.communities} (
            id text COLLATE "C" PRIMARY KEY,
            name text NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
          );
          CREATE TABLE IF NOT EXISTS ${t.members} (
            community_id text COLLATE "C" NOT NULL REFERENCES ${t.communities} (id) ON DELETE CASCADE,
            organisation_id text COLLATE "C" NOT NULL REFERENCES ${t.organisations} (id),
            PRIMARY KEY (community_id, organisation_id)
          );
          CREATE INDEX IF NOT EXISTS ${t.prefix}_members_organisation ON ${t.members} (organisation_id);
        `),
    },
    {
      version: 4,
      description: `partner feeds: ${t.feeds}, ${t.feedStates}`,
      up: (client) =>
        client.query(`
          CREATE TABLE IF NOT EXISTS ${t.feeds} (
            id text COLLATE "C" PRIMARY KEY,
            label text NOT NULL,
            url text NOT NULL,
            api_root text NOT NULL,
            collection_id text NOT NULL,
            organisation text COLLATE "C" NOT NULL REFERENCES ${t.organisations} (id),
            auth jsonb NOT NULL,
            poll_seconds integer NOT NULL CHECK (poll_seconds BETWEEN 10 AND 86400),
            default_tlp text NOT NULL CHECK (default_tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')),
            enabled boolean NOT NULL,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
          );
          CREATE INDEX IF NOT EXISTS ${t.prefix}_feeds_organisation ON ${t.feeds} (organisation);
          CREATE TABLE IF NOT EXISTS ${t.feedStates} (
            feed_id text COLLATE "C" PRIMARY KEY REFERENCES ${t.feeds} (id) ON DELETE CASCADE,
            cursor text,
            last_attempt_at timestamptz,
            last_success_at timestamptz,
            last_error text,
            consecutive_failures integer NOT NULL DEFAULT 0,
            objects_imported bigint NOT NULL DEFAULT 0,
            events_stored bigint NOT NULL DEFAULT 0,
            next_poll_at timestamptz,
            lease_holder text,
            lease_expires_at timestamptz
          );
        `),
    },
    {
      version: 5,
      description: `feeds out: ${t.feedOut}`,
      up: (client) =>
        client.query(`
          CREATE TABLE IF NOT EXISTS ${t.feedOut} (
            organisation text COLLATE "C" NOT NULL,
            channel text COLLATE "C" NOT NULL CHECK (channel IN ('taxii', 'misp')),
            pulls bigint NOT NULL,
            failed_pulls bigint NOT NULL,
            objects_served bigint NOT NULL,
            last_pull_objects bigint NOT NULL,
            last_pull_at timestamptz NOT NULL,
            last_success_at timestamptz,
            last_error_status integer,
            last_error_message text,
            last_error_at timestamptz,
            PRIMARY KEY (organisation, channel)
          );
        `),
    },
    {
      version: 6,
      description: `sign-in throttle slots shared by every process: ${t.loginAttempts}`,
      up: (client) =>
        client.query(`
          CREATE TABLE IF NOT EXISTS ${t.loginAttempts} (
            n bigserial PRIMARY KEY,
            attempt text NOT NULL,
            key text NOT NULL,
            at bigint NOT NULL,
            pending boolean NOT NULL
          );
          CREATE INDEX IF NOT EXISTS ${t.loginAttempts}_key ON ${t.loginAttempts} (key, at);
          CREATE INDEX IF NOT EXISTS ${t.loginAttempts}_attempt ON ${t.loginAttempts} (attempt);
          CREATE INDEX IF NOT EXISTS ${t.loginAttempts}_at ON ${t.loginAttempts} (at);
        `),
    },
    {
      version: 7,
      description: `TAXII Add Objects statuses shared by every process: ${t.taxiiStatuses}`,
      up: (client) =>
        client.query(`
          CREATE TABLE IF NOT EXISTS ${t.taxiiStatuses} (
            id text PRIMARY KEY,
            owner text NOT NULL,
            created_at bigint NOT NULL,
            body text NOT NULL
          );
          CREATE INDEX IF NOT EXISTS ${t.taxiiStatuses}_created ON ${t.taxiiStatuses} (created_at);
        `),
    },
  ]
}

/** The credential schema of a database made before numbering, from the tables and columns it holds. */
export async function detectPostgresCredentials(client: pg.ClientBase, t: CredentialTables): Promise<number> {
  if (!(await postgresHas(client, t.accounts))) return 0
  if (!(await postgresHas(client, t.tokens, 'expires_at'))) return 1
  if (!(await postgresHas(client, t.organisations))) return 2
  if (!(await postgresHas(client, t.feeds))) return 3
  if (!(await postgresHas(client, t.feedOut))) return 4
  if (!(await postgresHas(client, t.loginAttempts))) return 5
  return 6
}

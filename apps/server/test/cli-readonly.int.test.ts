import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteEventStore } from '@watchfloor/store'
import { afterAll, describe, expect, it } from 'vitest'
import { buildServer } from './compiled.ts'
import { observations, startServerProcess } from './harness.ts'

/*
 * The command line's commands that only read (check, export, backup, the lists) never upgrade a
 * schema: run "before an upgrade" on a database an older release wrote, they refuse it in one line
 * and leave it as it was, so that release can still open it. A server (or a command that writes)
 * still upgrades it.
 */

const root = new URL('../../../', import.meta.url).pathname

/** better-sqlite3 (a dependency of the server; its types belong to the store package), to make and read a file by hand. */
interface SqliteFile {
  exec(sql: string): unknown
  prepare(sql: string): { run(...values: unknown[]): unknown; all(...values: unknown[]): unknown[] }
  pragma(sql: string, options: { simple: true }): unknown
  close(): void
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  file: string,
  options?: { readonly?: boolean },
) => SqliteFile

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** The compiled command line (`apps/server/build.mjs` -> cli.js), built once for this file. */
let compiled: ReturnType<typeof buildServer> | undefined

/** The command line as an operator runs it: a process of its own, `node cli.js`. */
function cli(args: string[], env: Record<string, string>): Promise<Run> {
  const { NODE_OPTIONS: _options, WATCHFLOOR_DATABASE_URL: _url, ...parentEnv } = process.env
  compiled ??= buildServer()
  const child = spawn(process.execPath, [join(compiled.main, '..', 'cli.js'), ...args], {
    cwd: root,
    env: { ...parentEnv, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  child.stdin.end('')
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })))
}

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-cli-readonly-'))
  dirs.push(dir)
  return dir
}

afterAll(() => {
  compiled?.remove()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** The first release's schemas, events 1 and credentials 1, as it made them (packages/store/src/schema-sqlite.ts, step 1 of each). */
const FIRST_SCHEMAS = `
  CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, recorded_at TEXT NOT NULL, body TEXT NOT NULL);
  CREATE TABLE accounts (
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
  CREATE TABLE api_tokens (
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
  CREATE INDEX api_tokens_owner ON api_tokens (owner);
  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
  );
  CREATE INDEX sessions_account ON sessions (account);
  CREATE INDEX sessions_expires_at ON sessions (expires_at);
`

/**
 * A data folder whose events.sqlite is as the first release left it (events schema 1, credentials
 * schema 1, no record of versions): `n` events, stored by this release's store in a scratch file
 * and copied over row by row, and one account.
 */
async function firstReleaseDataDir(n: number): Promise<string> {
  const scratch = join(tempDir(), 'scratch.sqlite')
  const store = new SqliteEventStore({ file: scratch })
  await store.append(observations(n) as never[])
  await store.close()
  const dataDir = tempDir()
  const db = new Database(join(dataDir, 'events.sqlite'))
  try {
    db.exec(FIRST_SCHEMAS)
    db.exec(`ATTACH DATABASE '${scratch}' AS scratch`)
    db.exec('INSERT INTO events (seq, id, recorded_at, body) SELECT seq, id, recorded_at, body FROM scratch.events')
    db.exec('DETACH DATABASE scratch')
    db.prepare(
      `INSERT INTO accounts (username, display_name, organisation, nation, roles, password_hash, disabled, created_at, updated_at)
       VALUES ('janis', 'Janis', 'cert-lv', 'LV', '["liaison"]', NULL, 0, ?, ?)`,
    ).run('2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z')
  } finally {
    db.close()
  }
  // as a server makes it: for no one else to read
  chmodSync(join(dataDir, 'events.sqlite'), 0o600)
  return dataDir
}

/** What the file holds of its schemas: every table and index, the versions recorded, `user_version`, the events. */
function shape(dataDir: string) {
  const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true })
  try {
    const objects = db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY type, name').all() as {
      name: string
    }[]
    const recorded = objects.some((o) => o.name === 'schema_migrations')
      ? db.prepare('SELECT schema, version FROM schema_migrations ORDER BY schema, version').all()
      : null
    return {
      objects,
      recorded,
      userVersion: db.pragma('user_version', { simple: true }),
      events: db.prepare('SELECT seq, id, recorded_at, body FROM events ORDER BY seq').all(),
    }
  } finally {
    db.close()
  }
}

describe('read-only commands on a database of an older schema', () => {
  it('check, export, backup and the lists refuse it in one line and leave it as it was; a server start upgrades it', {
    timeout: 120_000,
  }, async () => {
    const dataDir = await firstReleaseDataDir(5)
    const env = { WATCHFLOOR_DATA_DIR: dataDir }
    const before = shape(dataDir)
    expect(before.recorded).toBeNull()
    expect(before.events).toHaveLength(5)

    const backupFile = join(dataDir, 'before-upgrade.backup')
    const olderEvents =
      /^the events schema of this database is version 1, older than version [0-9]+ of this Watchfloor: a command that only reads does not upgrade it; back it up with the release that wrote it, or start this release's server to upgrade it first$/
    const olderCredentials =
      /^the credentials schema of this database is version 1, older than version [0-9]+ of this Watchfloor: a command that only reads does not upgrade it; /
    for (const [args, expected] of [
      [['check'], olderEvents],
      [['export', '-'], olderEvents],
      [['backup', backupFile], olderEvents],
      [['accounts', 'list'], olderCredentials],
      [['tokens', 'list'], olderCredentials],
      [['orgs', 'list', '--json'], olderCredentials],
    ] as const) {
      const run = await cli([...args], env)
      const name = args.filter((arg) => /^[a-z]+$/.test(arg)).join(' ')
      expect(run.code, `${name}: ${run.stderr}`).toBe(1)
      expect(run.stdout, name).toBe('')
      const lines = run.stderr.trimEnd().split('\n')
      expect(lines, name).toHaveLength(1)
      expect(lines[0]!.startsWith(`watchfloor ${name}: `), lines[0]).toBe(true)
      expect(lines[0]!.slice(`watchfloor ${name}: `.length)).toMatch(expected)
      expect(run.stderr).not.toMatch(/\n\s+at /)
      // nothing written: no record of versions made, no table changed, no event moved
      expect(shape(dataDir), name).toEqual(before)
    }
    expect(existsSync(backupFile)).toBe(false)
    expect(existsSync(`${backupFile}.partial`)).toBe(false)

    // a restore into it is refused as it stands, before anything is upgraded or read through
    const restoreFile = join(tempDir(), 'any.backup')
    writeFileSync(restoreFile, '{"not":"read"}\n')
    const restored = await cli(['restore', restoreFile], env)
    expect(restored.code, restored.stderr).toBe(1)
    expect(restored.stderr).toContain('holds a database of an older release')
    expect(restored.stderr).not.toMatch(/\n\s+at /)
    expect(shape(dataDir)).toEqual(before)
    // a damaged backup into a folder with no store leaves none behind
    const empty = tempDir()
    const damaged = await cli(['restore', restoreFile], { WATCHFLOOR_DATA_DIR: empty })
    expect(damaged.code, damaged.stderr).toBe(1)
    expect(existsSync(join(empty, 'events.sqlite'))).toBe(false)

    // this release's server upgrades it as before
    const server = await startServerProcess({ dataDir })
    await server.stop()
    const after = shape(dataDir)
    const versions = (after.recorded as { schema: string; version: number }[]).filter((r) => r.schema === 'events')
    expect(versions.map((r) => r.version)).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1))
    expect(versions.length).toBeGreaterThan(1)
    expect(after.events).toEqual(before.events)

    // and the commands that only read now read it
    const checked = await cli(['check'], env)
    expect(checked.code, checked.stderr).toBe(0)
    expect(checked.stdout).toContain('events: 5, head seq 5')
    const listed = await cli(['accounts', 'list', '--json'], env)
    expect(listed.code, listed.stderr).toBe(0)
    expect(JSON.parse(listed.stdout).accounts.map((a: { username: string }) => a.username)).toContain('janis')
    const backedUp = await cli(['backup', backupFile], env)
    expect(backedUp.code, backedUp.stderr).toBe(0)
    expect(backedUp.stderr).toContain('backed up 5 events')
    // reading it changed nothing either
    expect(shape(dataDir)).toEqual(after)
  })
})

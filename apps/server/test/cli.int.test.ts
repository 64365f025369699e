import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canSee, fold, initialState, STATE_FORMAT_VERSION, stateToJson, viewerKey } from '@watchfloor/core'
import { PostgresEventStore, SqliteEventStore } from '@watchfloor/store'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { buildServer } from './compiled.ts'
import { getJson, observations, post, startServerProcess, TOKENS, Watcher } from './harness.ts'

const root = new URL('../../../', import.meta.url).pathname

/** better-sqlite3 (a dependency of the server; its types belong to the store package), to corrupt a file by hand. */
interface SqliteFile {
  prepare(sql: string): { run(...values: unknown[]): unknown; get(...values: unknown[]): unknown }
  close(): void
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => SqliteFile
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test'
const FIXTURE = join(root, 'apps/server/test/fixtures/backup-v1.ndjson')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * The compiled command line (`apps/server/build.mjs` -> cli.js), built once for this file: each
 * run under plain node starts in a fraction of the time tsx takes to compile the source again.
 * One test runs the source itself, as `pnpm watchfloor` does.
 */
let compiled: ReturnType<typeof buildServer> | undefined
const SOURCE = 'source'

/** The command line as an operator runs it: a process of its own, `node cli.js` (or `node --import tsx src/cli/main.ts`). */
function cli(args: string[], env: Record<string, string>, input?: string, main?: string): Promise<Run> {
  const { NODE_OPTIONS: _options, WATCHFLOOR_DATABASE_URL: _url, ...parentEnv } = process.env
  compiled ??= buildServer()
  const argv =
    main === SOURCE
      ? ['--import', 'tsx', join(root, 'apps/server/src/cli/main.ts'), ...args]
      : [main ?? join(compiled.main, '..', 'cli.js'), ...args]
  const child = spawn(process.execPath, argv, {
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
  child.stdin.end(input ?? '')
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })))
}

const dirs: string[] = []
const schemas: string[] = []
const admin = new pg.Client({ connectionString: ADMIN_URL })
let adminConnected: Promise<unknown> | undefined

/** A fresh SQLite data folder: the environment that points the command line (and a server) at it. */
function sqliteEnv(): { WATCHFLOOR_DATA_DIR: string } {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-cli-'))
  dirs.push(dir)
  return { WATCHFLOOR_DATA_DIR: dir }
}

/** A fresh PostgreSQL schema of its own: the environment that points at it. */
async function postgresEnv(): Promise<{ WATCHFLOOR_DATABASE_URL: string; WATCHFLOOR_DATA_DIR: string }> {
  adminConnected ??= admin.connect()
  await adminConnected
  const schema = `wf_cli_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  await admin.query(`CREATE SCHEMA ${schema}`)
  schemas.push(schema)
  return {
    WATCHFLOOR_DATABASE_URL: `${ADMIN_URL}?options=-c%20search_path%3D${schema}`,
    // a data folder that holds nothing: PostgreSQL is the store
    ...sqliteEnv(),
  }
}

afterAll(async () => {
  compiled?.remove()
  for (const schema of schemas) await admin.query(`DROP SCHEMA ${schema} CASCADE`)
  if (adminConnected) await admin.end()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A SQLite log of `n` events in three appends, written by the real store. */
async function sqliteLog(n: number): Promise<{ WATCHFLOOR_DATA_DIR: string }> {
  const env = sqliteEnv()
  const store = new SqliteEventStore({ file: join(env.WATCHFLOOR_DATA_DIR, 'events.sqlite') })
  const events = observations(n) as never[]
  const third = Math.ceil(n / 3)
  for (let i = 0; i < n; i += third) {
    await store.append(events.slice(i, i + third))
    await new Promise((r) => setTimeout(r, 3))
  }
  await store.close()
  return env
}

/** A backup's lines but its header (which says when and from which store it was taken). */
function content(file: string): string[] {
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(1)
}

const noStack = (run: Run) => expect(run.stderr).not.toMatch(/\n\s+at /)

describe('watchfloor command line', () => {
  it('--help lists every command; <command> --help explains one; a bad command or option exits 2', async () => {
    const help = await cli(['--help'], sqliteEnv())
    expect(help.code).toBe(0)
    for (const command of [
      'check',
      'backup',
      'restore',
      'export',
      'import',
      'accounts create',
      'tokens revoke',
      'orgs list',
    ])
      expect(help.stdout).toContain(command)
    const one = await cli(['restore', '--help'], sqliteEnv())
    expect(one.code).toBe(0)
    expect(one.stdout).toContain('Usage: watchfloor restore FILE')
    expect(one.stdout).toContain('Exit codes')

    const unknown = await cli(['frobnicate'], sqliteEnv())
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('unknown command "frobnicate"')
    const option = await cli(['check', '--frob'], sqliteEnv())
    expect(option.code).toBe(2)
    expect(option.stderr).toContain("Unknown option '--frob'")
    const missing = await cli(['backup'], sqliteEnv())
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('missing argument')
    const setting = await cli(['check'], { ...sqliteEnv(), WATCHFLOOR_PASSWORD_COST: 'lots' })
    expect(setting.code).toBe(2)
    expect(setting.stderr).toContain('WATCHFLOOR_PASSWORD_COST')
    const nothing = await cli([], sqliteEnv())
    expect(nothing.code).toBe(2)
    const noLog = await cli(['check'], sqliteEnv())
    expect(noLog.code).toBe(1)
    expect(noLog.stderr).toContain('no event log at')
    for (const run of [unknown, option, missing, setting, noLog]) {
      expect(run.stdout).toBe('')
      noStack(run)
    }
  })

  it('a bad WATCHFLOOR_LOG_LEVEL, DATABASE_URL or HOST, or a number not in plain digits, is bad usage naming it (exit 2)', async () => {
    const env = await sqliteLog(3)
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['check'], { WATCHFLOOR_LOG_LEVEL: 'verbose' }, /^watchfloor: WATCHFLOOR_LOG_LEVEL must be one of/],
      [
        ['check'],
        { WATCHFLOOR_DATABASE_URL: 'sqlite:///tmp/x.sqlite' },
        /^watchfloor: WATCHFLOOR_DATABASE_URL must be/,
      ],
      [['check'], { WATCHFLOOR_DATABASE_URL: 'mysql://root:hunter2secret@127.0.0.1/x' }, /WATCHFLOOR_DATABASE_URL/],
      [['check'], { WATCHFLOOR_HOST: 'not a host' }, /^watchfloor: WATCHFLOOR_HOST must be/],
      [['check'], { WATCHFLOOR_PASSWORD_COST: '1e1' }, /^watchfloor: WATCHFLOOR_PASSWORD_COST must be a whole number/],
      [['check', '--show', ' '], {}, /^watchfloor: --show must be a whole number/],
      [['check', '--show', '0x10'], {}, /^watchfloor: --show must be a whole number/],
    ]
    const runs = await Promise.all(cases.map(([args, extra]) => cli(args, { ...env, ...extra })))
    for (const [i, run] of runs.entries()) {
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toMatch(cases[i]![2])
      expect(run.stderr).not.toContain('hunter2secret')
      expect(run.stdout).toBe('')
      noStack(run)
    }
  })

  it('a PostgreSQL it cannot reach, or a WATCHFLOOR_WALL_PRESETS file it cannot read, is one line naming the setting (exit 1)', async () => {
    const unreachable = await cli(['check'], {
      WATCHFLOOR_DATABASE_URL: 'postgres://postgres:hunter2secret@127.0.0.1:1/watchfloor',
    })
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr.trim()).toMatch(
      /^watchfloor check: cannot reach PostgreSQL \(WATCHFLOOR_DATABASE_URL\): .*ECONNREFUSED 127\.0\.0\.1:1$/,
    )
    expect(unreachable.stderr).not.toContain('hunter2secret')
    noStack(unreachable)
    const env = await sqliteLog(1)
    const missing = join(env.WATCHFLOOR_DATA_DIR, 'no-presets.json')
    // the presets are read before the token is made (a display token's preset is checked against them)
    const relay = ['tokens', 'create', '--label', 'x', '--service-user', 'relay-1', '--organisation', 'cert-ee']
    const created = await cli([...relay, '--roles', 'sensor'], { ...env, WATCHFLOOR_WALL_PRESETS: missing })
    expect(created.code).toBe(1)
    expect(created.stderr.trim()).toMatch(
      new RegExp(`^watchfloor tokens create: WATCHFLOOR_WALL_PRESETS: cannot read ${missing}: ENOENT`),
    )
    noStack(created)
    // one that defines a preset twice, as the server refuses it
    const twice = join(env.WATCHFLOOR_DATA_DIR, 'presets.json')
    writeFileSync(twice, JSON.stringify([{ name: 'night' }, { name: 'night' }]))
    const refused = await cli([...relay, '--roles', 'sensor'], { ...env, WATCHFLOOR_WALL_PRESETS: twice })
    expect(refused.code).toBe(1)
    expect(refused.stderr.trim()).toBe(
      "watchfloor tokens create: WATCHFLOOR_WALL_PRESETS: preset 'night' is defined twice",
    )
    noStack(refused)
  })

  it('a SQLite database others may read is set to 0600 as it is opened, with a note', async () => {
    const env = await sqliteLog(3)
    const file = join(env.WATCHFLOOR_DATA_DIR, 'events.sqlite')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    chmodSync(file, 0o644)
    const checked = await cli(['check'], env)
    expect(checked.code, checked.stderr).toBe(0)
    expect(checked.stderr).toContain(`note: set ${file} to mode 0600`)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect((await cli(['check'], env)).stderr).not.toContain('mode 0600')
  })

  it('check beside servers appending to a PostgreSQL log reads up to the head it read first: no false alarm', async () => {
    const env = await postgresEnv()
    const store = await PostgresEventStore.open({ connectionString: env.WATCHFLOOR_DATABASE_URL })
    try {
      // a log of several pages, so that appends land while check reads it
      const seeded = observations(5000) as never[]
      for (let i = 0; i < seeded.length; i += 1000) await store.append(seeded.slice(i, i + 1000))
      let appending = true
      let appended = 0
      const appends = (async () => {
        while (appending) {
          await store.append(observations(25) as never[])
          appended += 25
        }
      })()
      const runs: Run[] = []
      for (let i = 0; i < 3; i++) runs.push(await cli(['check'], env))
      appending = false
      await appends
      expect(appended).toBeGreaterThan(0)
      for (const run of runs) {
        expect(run.code, `${run.stdout}${run.stderr}`).toBe(0)
        const [, events, head] = run.stdout.match(/events: ([0-9]+), head seq ([0-9]+)/)!
        expect(events).toBe(head)
        expect(run.stdout).toContain('ok:')
        // the log named with its schema: two logs may share one database
        const schema = /search_path%3D(\w+)/.exec(env.WATCHFLOOR_DATABASE_URL)![1]
        expect(run.stdout).toContain(`log: PostgreSQL 127.0.0.1:5432/test, schema ${schema}`)
      }
      // appends went on while each check ran: each read a later head than the one before
      const heads = runs.map((run) => Number(run.stdout.match(/head seq ([0-9]+)/)![1]))
      expect(heads[0]).toBeGreaterThanOrEqual(5000)
      expect(heads[2]).toBeGreaterThan(heads[0]!)
    } finally {
      await store.close()
    }
  })

  it('check passes a sound log, and on a corrupted SQLite file exits 1 naming the gap and the bad body', async () => {
    const env = await sqliteLog(12)
    const good = await cli(['check'], env)
    expect(good.code).toBe(0)
    expect(good.stdout).toContain('events: 12, head seq 12')
    expect(good.stdout).toContain('ok:')

    const db = new Database(join(env.WATCHFLOOR_DATA_DIR, 'events.sqlite'))
    db.prepare('DELETE FROM events WHERE seq IN (3, 4)').run()
    const row = db.prepare('SELECT body FROM events WHERE seq = 7').get() as { body: string }
    const body = JSON.parse(row.body) as { payload: Record<string, unknown> }
    body.payload.count = 'many'
    db.prepare('UPDATE events SET body = ? WHERE seq = 7').run(JSON.stringify(body))
    // seq 9 carries the id of seq 8
    const eight = JSON.parse((db.prepare('SELECT body FROM events WHERE seq = 8').get() as { body: string }).body)
    const nine = JSON.parse((db.prepare('SELECT body FROM events WHERE seq = 9').get() as { body: string }).body)
    db.prepare('UPDATE events SET body = ? WHERE seq = 9').run(JSON.stringify({ ...nine, id: eight.id }))
    db.close()

    const bad = await cli(['check'], env)
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain('gap: seqs 3 to 4 are missing')
    expect(bad.stdout).toMatch(/invalid body: seq 7: payload\.count/)
    expect(bad.stdout).toContain('duplicate id: seq 9 has the id of seq 8')
    expect(bad.stdout).toContain('PROBLEMS: 3')
    expect(bad.stderr).toContain('the log has 3 problems')
    noStack(bad)
    const fewer = await cli(['check', '--show', '1'], env)
    expect(fewer.code).toBe(1)
    expect(fewer.stdout).toContain('... and 2 more')
  })

  it("restore reads a backup's end line whatever the order of its keys, refuses a store that is not empty before reading the file, and says when a fault leaves the store part restored", async () => {
    const source = await sqliteLog(5)
    const file = join(source.WATCHFLOOR_DATA_DIR, 'a.backup')
    expect((await cli(['backup', file], source)).code).toBe(0)
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    const end = JSON.parse(lines.at(-1)!) as Record<string, unknown>
    expect(end.end).toBe(true)
    // the same end line, its keys in another order: the read-through and the restore agree
    const reordered = join(source.WATCHFLOOR_DATA_DIR, 'reordered.backup')
    const { end: _end, ...counts } = end
    writeFileSync(reordered, `${[...lines.slice(0, -1), JSON.stringify({ ...counts, end: true })].join('\n')}\n`)
    const target = sqliteEnv()
    const restored = await cli(['restore', reordered], target)
    expect(restored.stderr).toContain('restored 5 events')
    expect(restored.code).toBe(0)
    expect((await cli(['check'], target)).code).toBe(0)

    // a store that is not empty is refused first, whatever the file holds
    const damaged = join(source.WATCHFLOOR_DATA_DIR, 'damaged.backup')
    writeFileSync(damaged, `${[...lines.slice(0, -2), '{"seq":"x"}', lines.at(-1)].join('\n')}\n`)
    const notEmpty = await cli(['restore', damaged], target)
    expect(notEmpty.code).toBe(1)
    expect(notEmpty.stderr).toContain('is not empty (head seq 5)')

    // from stdin there is no read-through: a fault among the events says what was restored and what to do
    const fresh = sqliteEnv()
    const piped = await cli(['restore', '-'], fresh, readFileSync(damaged, 'utf8'))
    expect(piped.code).toBe(1)
    expect(piped.stderr).toContain('not a valid stored event')
    expect(piped.stderr).toContain('accounts, tokens and directory of the backup were restored')
    expect(piped.stderr).toContain('empty the store')
    noStack(piped)
  })

  it('an id is one id however it is spelt: import and restore write the form the server stores, and check counts a capitalised id again as a duplicate', async () => {
    const source = await sqliteLog(4)
    const file = join(source.WATCHFLOOR_DATA_DIR, 'log.ndjson')
    expect((await cli(['export', file], source)).code).toBe(0)
    const backup = join(source.WATCHFLOOR_DATA_DIR, 'log.wfb')
    expect((await cli(['backup', backup], source)).code).toBe(0)
    const capitalised = (text: string) =>
      text.replace(/"id":"([0-9a-f-]{36})"/g, (_, id: string) => `"id":"${id.toUpperCase()}"`)
    // the same log with every event id in capitals: each is written as the server stores it, the same bytes back
    const shouted = join(source.WATCHFLOOR_DATA_DIR, 'shouted.ndjson')
    writeFileSync(shouted, capitalised(readFileSync(file, 'utf8')))
    expect(readFileSync(shouted, 'utf8')).not.toBe(readFileSync(file, 'utf8'))
    const imported = sqliteEnv()
    expect((await cli(['import', shouted], imported)).code).toBe(0)
    expect((await cli(['export', '-'], imported)).stdout).toBe(readFileSync(file, 'utf8'))
    const shoutedBackup = join(source.WATCHFLOOR_DATA_DIR, 'shouted.wfb')
    writeFileSync(shoutedBackup, capitalised(readFileSync(backup, 'utf8')))
    const restored = sqliteEnv()
    expect((await cli(['restore', shoutedBackup], restored)).code).toBe(0)
    expect((await cli(['export', '-'], restored)).stdout).toBe(readFileSync(file, 'utf8'))

    // seq 4 carries the id of seq 2 in capitals: the same id, so a duplicate
    const db = new Database(join(imported.WATCHFLOOR_DATA_DIR, 'events.sqlite'))
    const two = JSON.parse((db.prepare('SELECT body FROM events WHERE seq = 2').get() as { body: string }).body)
    const four = JSON.parse((db.prepare('SELECT body FROM events WHERE seq = 4').get() as { body: string }).body)
    db.prepare('UPDATE events SET body = ? WHERE seq = 4').run(JSON.stringify({ ...four, id: two.id.toUpperCase() }))
    db.close()
    const checked = await cli(['check'], imported)
    expect(checked.code).toBe(1)
    expect(checked.stdout).toContain('duplicate id: seq 4 has the id of seq 2')
  })

  it('check on a body that is not JSON names its seq', async () => {
    const env = await sqliteLog(5)
    const db = new Database(join(env.WATCHFLOOR_DATA_DIR, 'events.sqlite'))
    db.prepare('UPDATE events SET body = ? WHERE seq = 3').run('{"seq":3,"recordedAt":')
    db.close()
    const bad = await cli(['check'], env)
    expect(bad.code).toBe(1)
    expect(`${bad.stdout}${bad.stderr}`).toContain('the event at seq 3 is not JSON')
    noStack(bad)
    // export and backup say the same, in one line
    for (const args of [
      ['export', '-'],
      ['backup', join(env.WATCHFLOOR_DATA_DIR, 'b.wfb')],
    ]) {
      const refused = await cli(args, env)
      expect(refused.code, args[0]).toBe(1)
      expect(refused.stderr, args[0]).toContain('the event at seq 3 is not JSON')
      expect(refused.stderr, args[0]).not.toContain('failed unexpectedly')
      noStack(refused)
    }
  })

  it('backup of SQLite, restored into PostgreSQL, backs up to the same content; and the reverse', async () => {
    const sqlite = await sqliteLog(30)
    // credentials too: an organisation, an account, a token
    expect(
      (await cli(['orgs', 'create', 'cert-ee', '--name', 'CERT-EE', '--nation', 'EE', '--kind', 'ally_cert'], sqlite))
        .code,
    ).toBe(0)
    const account = await cli(['accounts', 'create', 'kadri', '--organisation', 'cert-ee', '--roles', 'analyst'], {
      ...sqlite,
      WATCHFLOOR_PASSWORD_COST: '10',
    })
    expect(account.code).toBe(0)
    expect((await cli(['tokens', 'create', '--label', 'laptop', '--owner', 'kadri'], sqlite)).code).toBe(0)

    const first = join(sqlite.WATCHFLOOR_DATA_DIR, 'first.backup')
    const backedUp = await cli(['backup', first], sqlite)
    expect(backedUp.code).toBe(0)
    expect(backedUp.stderr).toContain('backed up 30 events')
    const header = JSON.parse(readFileSync(first, 'utf8').split('\n')[0]!)
    expect(header).toMatchObject({ format: 'watchfloor-backup', version: 1, store: 'sqlite', head: 30 })
    expect(header.schemas).toEqual({ events: expect.any(Number), credentials: expect.any(Number) })

    const postgres = await postgresEnv()
    const restored = await cli(['restore', first], postgres)
    expect(restored.stderr).toContain('restored 30 events')
    expect(restored.stderr).toContain(
      'saved the whole picture and the pictures of 1 audience and 0 users RED events name at seq 30 as snapshots',
    )
    expect(restored.code).toBe(0)
    expect((await cli(['check'], postgres)).code).toBe(0)
    const second = join(sqlite.WATCHFLOOR_DATA_DIR, 'second.backup')
    expect((await cli(['backup', second], postgres)).code).toBe(0)
    expect(content(second)).toEqual(content(first))
    expect(JSON.parse(readFileSync(second, 'utf8').split('\n')[0]!).store).toBe('postgres')

    // the reverse: PostgreSQL into a new SQLite file
    const back = sqliteEnv()
    const restoredBack = await cli(['restore', second], back)
    expect(restoredBack.code).toBe(0)
    // the whole picture and the audiences' are saved for the first start (a backup leaves snapshots out)
    expect(restoredBack.stderr).toContain(
      'saved the whole picture and the pictures of 1 audience and 0 users RED events name at seq 30 as snapshots',
    )
    const file = new SqliteEventStore({ file: join(back.WATCHFLOOR_DATA_DIR, 'events.sqlite') })
    try {
      const saved = await file.snapshots.load('full', STATE_FORMAT_VERSION, Number.MAX_SAFE_INTEGER)
      expect(saved?.seq).toBe(30)
      const folded = fold(initialState, await file.readAfter(0, 1000))
      expect(JSON.parse(saved!.body)).toEqual(stateToJson(folded))
      for (const index of ['red-index', 'reports-index'])
        expect(await file.snapshots.load(index, STATE_FORMAT_VERSION, Number.MAX_SAFE_INTEGER)).toMatchObject({
          seq: 30,
        })
      // kadri's audience (cert-ee, no user): under the key the server looks it up by, the fold of what it may see
      const audience = { organisation: 'cert-ee', nation: 'EE', roles: [], userId: '' }
      const key = `viewer:${viewerKey(audience)}`
      expect((await file.snapshots.keys()).filter((k) => k.startsWith('viewer:'))).toEqual([key])
      const ofAudience = await file.snapshots.load(key, STATE_FORMAT_VERSION, Number.MAX_SAFE_INTEGER)
      expect(ofAudience?.seq).toBe(30)
      const visible = (await file.readAfter(0, 1000)).filter((event) => canSee(audience, event))
      expect(JSON.parse(ofAudience!.body)).toEqual(stateToJson(fold(initialState, visible)))
    } finally {
      await file.close()
    }
    const third = join(back.WATCHFLOOR_DATA_DIR, 'third.backup')
    expect((await cli(['backup', third], back)).code).toBe(0)
    expect(content(third)).toEqual(content(first))
    // events are exactly the originals: seq, id, recordedAt and body
    const exported = await cli(['export', '-'], back)
    const original = await cli(['export', '-'], sqlite)
    expect(exported.stdout.split('\n').length).toBe(31)
    expect(exported.stdout).toBe(original.stdout)
  })

  it("restore saves the static tokens' audiences too, and refuses a token list it cannot read before it writes", async () => {
    const source = await sqliteLog(5)
    // a RED event for the liaison: its picture is its own, saved beside its audience's
    const log = new SqliteEventStore({ file: join(source.WATCHFLOOR_DATA_DIR, 'events.sqlite') })
    await log.append(observations(1, { marking: { tlp: 'RED', recipients: ['liaison'] } }) as never[])
    await log.close()
    const file = join(source.WATCHFLOOR_DATA_DIR, 'a.backup')
    expect((await cli(['backup', file], source)).code).toBe(0)
    const tokens = join(source.WATCHFLOOR_DATA_DIR, 'tokens.json')
    const principal = { organisation: 'cert-lv', nation: 'LV', user: 'liaison', roles: ['liaison'] }
    writeFileSync(tokens, JSON.stringify([{ ...principal, token: `liaison-${randomUUID()}` }]))

    const broken = join(source.WATCHFLOOR_DATA_DIR, 'broken.json')
    writeFileSync(broken, '[{"token": 1}]')
    const refused = sqliteEnv()
    const refusal = await cli(['restore', file], { ...refused, WATCHFLOOR_TOKENS: broken })
    expect(refusal.code).toBe(1)
    expect(refusal.stderr).toContain('is not a valid token list')
    expect(refusal.stderr).toContain('nothing was restored')
    noStack(refusal)
    expect((await cli(['restore', file], refused)).code).toBe(0) // the store was left empty

    const target = sqliteEnv()
    const restored = await cli(['restore', file], { ...target, WATCHFLOOR_TOKENS: tokens })
    expect(restored.code).toBe(0)
    expect(restored.stderr).toContain(
      'saved the whole picture and the pictures of 1 audience and 1 user RED events name at seq 6 as snapshots',
    )
    const store = new SqliteEventStore({ file: join(target.WATCHFLOOR_DATA_DIR, 'events.sqlite') })
    try {
      const audience = { organisation: 'cert-lv', nation: 'LV', roles: [], userId: '' }
      const liaison = { ...audience, userId: 'liaison' }
      expect((await store.snapshots.keys()).sort()).toEqual(
        ['full', 'red-index', 'reports-index', `viewer:${viewerKey(audience)}`, `viewer:${viewerKey(liaison)}`].sort(),
      )
      // the liaison's own picture holds the RED event its audience's does not
      const own = await store.snapshots.load(`viewer:${viewerKey(liaison)}`, STATE_FORMAT_VERSION, 1e9)
      const events = await store.readAfter(0, 100)
      expect(JSON.parse(own!.body)).toEqual(
        stateToJson(
          fold(
            initialState,
            events.filter((event) => canSee(liaison, event)),
          ),
        ),
      )
      expect(events.filter((event) => canSee(liaison, event))).toHaveLength(6)
      expect(events.filter((event) => canSee(audience, event))).toHaveLength(5)
    } finally {
      await store.close()
    }
  })

  it('restore refuses a store that is not empty, and a backup that is cut short or of a newer format', async () => {
    const source = await sqliteLog(5)
    const file = join(source.WATCHFLOOR_DATA_DIR, 'a.backup')
    expect((await cli(['backup', file], source)).code).toBe(0)

    const withEvents = await cli(['restore', file], source)
    expect(withEvents.code).toBe(1)
    expect(withEvents.stderr).toContain('is not empty (head seq 5)')
    noStack(withEvents)

    // no event, but an organisation: still not empty
    const postgres = await postgresEnv()
    expect(
      (await cli(['orgs', 'create', 'cert-lv', '--name', 'CERT.LV', '--nation', 'LV', '--kind', 'ally_cert'], postgres))
        .code,
    ).toBe(0)
    const withDirectory = await cli(['restore', file], postgres)
    expect(withDirectory.code).toBe(1)
    expect(withDirectory.stderr).toContain('organisations: 1')
    // and says what to do: a new folder, one no server has started on
    expect(withDirectory.stderr).toContain('restore into a new data folder (or database), one no server has started on')
    expect((await cli(['export', '-'], postgres)).stdout).toBe('')

    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    const cut = join(source.WATCHFLOOR_DATA_DIR, 'cut.backup')
    writeFileSync(cut, `${lines.slice(0, -2).join('\n')}\n`)
    // a damaged file is refused before anything is written: the same store takes the whole backup after
    const target = sqliteEnv()
    const short = await cli(['restore', cut], target)
    expect(short.code).toBe(1)
    expect(short.stderr).toContain('cut short')
    expect(short.stderr).toContain('nothing was restored')
    const broken = join(source.WATCHFLOOR_DATA_DIR, 'broken.backup')
    writeFileSync(broken, `${[...lines.slice(0, -2), '{"seq":"x"}', ...lines.slice(-1)].join('\n')}\n`)
    const invalid = await cli(['restore', broken], target)
    expect(invalid.code).toBe(1)
    expect(invalid.stderr).toContain('not a valid stored event')
    // what the store would refuse half-way is refused before anything is written: a gap, an id twice,
    // a recordedAt going back, a header's head the events do not reach
    const events = lines.slice(0, -1).filter((line) => line.startsWith('{"seq"'))
    const before = lines.slice(0, lines.length - 1 - events.length)
    const end = lines.at(-1)!
    const edited = (label: string, list: string[], last = end) => {
      const path = join(source.WATCHFLOOR_DATA_DIR, `${label}.backup`)
      writeFileSync(path, `${[...before, ...list, last].join('\n')}\n`)
      return path
    }
    const parsed = events.map((line) => JSON.parse(line) as { seq: number; id: string; recordedAt: string })
    const withSeq = (e: (typeof parsed)[number], seq: number) => JSON.stringify({ ...e, seq })
    const damaged: [string, string, string][] = [
      [
        'gap',
        edited(
          'gap',
          [...events.slice(0, 2), ...parsed.slice(3).map((e) => withSeq(e, e.seq))],
          end.replace('"events":5', '"events":4'),
        ),
        'a log has no gap',
      ],
      [
        'twice',
        edited('twice', [...events.slice(0, 4), JSON.stringify({ ...parsed[4], id: parsed[0]!.id })]),
        'comes twice',
      ],
      [
        'back',
        edited('back', [
          ...events.slice(0, 4),
          JSON.stringify({ ...parsed[4], recordedAt: '2020-01-01T00:00:00.000Z' }),
        ]),
        'before the event ahead of it',
      ],
      [
        'short',
        edited('short', events.slice(0, 4), end.replace('"events":5', '"events":4')),
        'the events end at seq 4',
      ],
    ]
    for (const [label, path, why] of damaged) {
      const refusedRun = await cli(['restore', path], target)
      expect(refusedRun.code, label).toBe(1)
      expect(refusedRun.stderr, label).toContain(why)
      expect(refusedRun.stderr, label).toContain('nothing was restored')
    }
    expect((await cli(['restore', file], target)).code).toBe(0)

    const newer = join(source.WATCHFLOOR_DATA_DIR, 'newer.backup')
    writeFileSync(newer, [JSON.stringify({ ...JSON.parse(lines[0]!), version: 99 }), ...lines.slice(1)].join('\n'))
    const refused = await cli(['restore', newer], sqliteEnv())
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('format version 99')
    const notBackup = await cli(['restore', join(root, 'package.json')], sqliteEnv())
    expect(notBackup.code).toBe(1)
    expect(notBackup.stderr).toContain('not a Watchfloor backup')
    // and the other way round: a backup handed to import is told where it goes
    const imported = await cli(['import', file], sqliteEnv())
    expect(imported.code).toBe(1)
    expect(imported.stderr).toContain(`${file} is a Watchfloor backup, not an export of the log: read it with restore`)
    for (const run of [short, invalid, refused, notBackup, imported]) noStack(run)
  })

  it('export and import: NDJSON of the log into an empty log, every seq and recordedAt kept; a non-empty log refused', async () => {
    const source = await sqliteLog(9)
    const file = join(source.WATCHFLOOR_DATA_DIR, 'log.ndjson')
    const exported = await cli(['export', file], source)
    expect(exported.code).toBe(0)
    expect(exported.stderr).toContain('exported 9 events')
    const postgres = await postgresEnv()
    // from stdin
    const imported = await cli(['import', '-'], postgres, readFileSync(file, 'utf8'))
    expect(imported.code).toBe(0)
    expect((await cli(['export', '-'], postgres)).stdout).toBe(readFileSync(file, 'utf8'))
    const again = await cli(['import', file], postgres)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('not empty')

    // an import with a gap stops at it, naming the line
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    const gapped = join(source.WATCHFLOOR_DATA_DIR, 'gap.ndjson')
    writeFileSync(gapped, `${[...lines.slice(0, 4), ...lines.slice(5)].join('\n')}\n`)
    const gap = await cli(['import', gapped], sqliteEnv())
    expect(gap.code).toBe(1)
    expect(gap.stderr).toContain('seq 6, but the next seq of this log is 5')
    // the line of the event refused, not the first of its page
    expect(gap.stderr).toContain('gap.ndjson, line 5: ')
    expect(gap.stderr).toContain('empty the store before trying again')
    // a seq given twice: the second one's line
    const twice = join(source.WATCHFLOOR_DATA_DIR, 'twice.ndjson')
    writeFileSync(
      twice,
      `${[...lines.slice(0, 2), lines[1]!.replace(/"id":"[0-9a-f-]+"/, `"id":"${randomUUID()}"`), ...lines.slice(2)].join('\n')}\n`,
    )
    const repeated = await cli(['import', twice], sqliteEnv())
    expect(repeated.code).toBe(1)
    expect(repeated.stderr).toContain('twice.ndjson, line 3: ')
    noStack(gap)
  })

  it('a PostgreSQL log: an import or a restore beside a server is refused in one line, and so is a server started during a restore', {
    timeout: 120_000,
  }, async () => {
    const source = await sqliteLog(5)
    const backup = join(source.WATCHFLOOR_DATA_DIR, 'log.wfb')
    expect((await cli(['backup', backup], source)).code).toBe(0)
    const file = join(source.WATCHFLOOR_DATA_DIR, 'log.ndjson')
    expect((await cli(['export', file], source)).code).toBe(0)
    const env = await postgresEnv()
    // a server beside which an import or a restore would write (appending between its events): the log is still empty
    const appending = await PostgresEventStore.open({
      connectionString: env.WATCHFLOOR_DATABASE_URL,
      writers: 'shared',
    })
    try {
      for (const run of [await cli(['restore', backup], env), await cli(['import', file], env)]) {
        expect(run.code).toBe(1)
        expect(run.stderr).toContain('is open for writing in another process (a server, an import or a restore)')
        expect(run.stderr).toContain(`schema ${/search_path%3D(\w+)/.exec(env.WATCHFLOOR_DATABASE_URL)![1]}`)
        noStack(run)
      }
    } finally {
      await appending.close()
    }
    // a server started while a restore holds the log alone stops at its start, naming the restore
    const restoring = await PostgresEventStore.open({ connectionString: env.WATCHFLOOR_DATABASE_URL, writers: 'alone' })
    try {
      const started = await startServerProcess({ env: { WATCHFLOOR_DATABASE_URL: env.WATCHFLOOR_DATABASE_URL } }).then(
        async (server) => {
          await server.stop()
          return 'the server started'
        },
        (error: Error) => error.message,
      )
      expect(started).toContain('is being imported or restored by another process')
    } finally {
      await restoring.close()
    }
    // with neither, the restore goes through, and a server starts on what it restored
    const done = await cli(['restore', backup], env)
    expect(done.code, done.stderr).toBe(0)
    const server = await startServerProcess({ env: { WATCHFLOOR_DATABASE_URL: env.WATCHFLOOR_DATABASE_URL } })
    try {
      expect((await getJson<{ seq: number }>(`${server.url}/api/v1/state`, TOKENS.sensorEe)).json.seq).toBe(5)
    } finally {
      await server.stop()
    }
  })

  it('a SQLite log has one writer: import and restore beside a running server, or a second server, are refused in one line, and the server goes on appending', {
    timeout: 120_000,
  }, async () => {
    const source = await sqliteLog(5)
    const file = join(source.WATCHFLOOR_DATA_DIR, 'log.ndjson')
    expect((await cli(['export', file], source)).code).toBe(0)
    const backup = join(source.WATCHFLOOR_DATA_DIR, 'log.wfb')
    expect((await cli(['backup', backup], source)).code).toBe(0)
    const env = sqliteEnv()
    const server = await startServerProcess({
      dataDir: env.WATCHFLOOR_DATA_DIR,
      env: { WATCHFLOOR_PASSWORD_COST: '10' },
    })
    try {
      const before = await getJson<{ seq: number }>(`${server.url}/api/v1/state`, TOKENS.sensorEe)
      const imported = await cli(['import', file], env)
      expect(imported.code).toBe(1)
      expect(imported.stderr).toContain('is open for writing in another process')
      expect(imported.stderr).toContain(join(server.dataDir, 'events.sqlite'))
      noStack(imported)
      // a restore reads the store first, as it is: a running server's holds its directory at least
      const restored = await cli(['restore', backup], env)
      expect(restored.code).toBe(1)
      expect(restored.stderr).toContain('is not empty')
      noStack(restored)
      // a second server on the same data folder stops at its start, naming the log
      const second = await startServerProcess({ dataDir: server.dataDir }).then(
        async (other) => {
          await other.stop()
          return 'the second server started'
        },
        (error: Error) => error.message,
      )
      expect(second).toContain('is open for writing in another process')
      // readers still read beside it
      const checked = await cli(['check'], env)
      expect(checked.code).toBe(0)
      // nothing was written, and the server appends as before
      const posted = await post(server.url, TOKENS.sensorEe, { events: observations(1) })
      expect(posted.status).toBe(201)
      const after = await getJson<{ seq: number }>(`${server.url}/api/v1/state`, TOKENS.sensorEe)
      expect(after.json.seq).toBe(before.json.seq + 1)
    } finally {
      // killed: the operating system lets the claim go, with no stale lock to clean up
      await server.kill9()
    }
    const claimed = (run: Run) => {
      expect(run.code).toBe(1)
      expect(run.stderr).not.toContain('is open for writing in another process')
      expect(run.stderr).toContain('is not empty')
    }
    // an import takes the claim (and stops at the log holding events), and so does a server again
    claimed(await cli(['import', file], env))
    const again = await startServerProcess({
      dataDir: env.WATCHFLOOR_DATA_DIR,
      env: { WATCHFLOOR_PASSWORD_COST: '10' },
    })
    expect((await cli(['import', file], env)).stderr).toContain('is open for writing in another process')
    await again.stop()
    claimed(await cli(['import', file], env))
  })

  it('accounts and tokens made by the command line work against a running server; disabled and revoked they stop', {
    timeout: 120_000,
  }, async () => {
    const server = await startServerProcess({ env: { WATCHFLOOR_PASSWORD_COST: '10' } })
    try {
      const env = { WATCHFLOOR_DATA_DIR: server.dataDir, WATCHFLOOR_PASSWORD_COST: '10' }
      const orgs = await cli(['orgs', 'list', '--json'], env)
      expect(JSON.parse(orgs.stdout).organisations.map((o: { id: string }) => o.id)).toContain('cert-ee')

      const created = await cli(
        ['accounts', 'create', 'Mari', '--organisation', 'cert-ee', '--roles', 'analyst,liaison', '--password-stdin'],
        env,
        'a long enough password\n',
      )
      expect(created.code).toBe(0)
      const signIn = (password: string) =>
        fetch(`${server.url}/api/v1/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'mari', password }),
        })
      const session = await signIn('a long enough password')
      expect(session.status).toBe(200)
      expect(await session.json()).toMatchObject({ user: 'mari', organisation: 'cert-ee', nation: 'EE' })

      // a refusal of the API's rules is said with the option typed, not the API's field
      const past = await cli(
        ['tokens', 'create', '--label', 'past', '--owner', 'mari', '--expires-at', '2020-01-01T00:00:00Z'],
        env,
      )
      expect(past.code).toBe(1)
      expect(past.stderr).toContain('--expires-at must be in the future')
      expect(past.stderr).not.toContain('expiresAt')
      const token = await cli(['tokens', 'create', '--label', 'script', '--owner', 'mari'], env)
      expect(token.code).toBe(0)
      const secret = token.stdout.trim()
      expect(secret).toMatch(/^wf_/)
      expect(token.stderr).toContain('shown this once')
      const state = await getJson<{ seq: number }>(`${server.url}/api/v1/state`, secret)
      expect(state.status).toBe(200)

      const listed = JSON.parse((await cli(['tokens', 'list', '--owner', 'mari', '--json'], env)).stdout) as {
        tokens: { id: string; createdBy: string }[]
      }
      expect(listed.tokens).toHaveLength(1)
      expect(listed.tokens[0]!.createdBy).toMatch(/^cli/)
      expect(JSON.stringify(listed)).not.toContain(secret)

      // a service token: a sensor of its own
      const sensor = await cli(
        [
          'tokens',
          'create',
          '--label',
          'ids',
          '--service-user',
          'ids-1',
          '--organisation',
          'cert-lv',
          '--roles',
          'sensor',
          '--json',
        ],
        env,
      )
      expect(sensor.code).toBe(0)
      // a display token for a wall preset the server does not have: refused, naming it
      const wall = (preset: string) =>
        cli(
          [
            'tokens',
            'create',
            '--label',
            'wall',
            '--kind',
            'display',
            '--service-user',
            'wall-lv',
            '--organisation',
            'cert-lv',
            '--roles',
            'watch_officer',
            '--preset',
            preset,
          ],
          env,
        )
      const unknownPreset = await wall('no-such-preset')
      expect(unknownPreset.code).not.toBe(0)
      expect(unknownPreset.stderr).toContain("no wall preset 'no-such-preset'")
      expect((await wall('baltic')).code).toBe(0)
      const { secret: sensorSecret } = JSON.parse(sensor.stdout) as { secret: string }
      expect((await getJson(`${server.url}/api/v1/state`, sensorSecret)).status).toBe(200)

      expect((await cli(['accounts', 'disable', 'mari'], env)).code).toBe(0)
      expect((await signIn('a long enough password')).status).toBe(401)
      expect((await getJson(`${server.url}/api/v1/state`, secret)).status).toBe(401)
      expect((await cli(['accounts', 'enable', 'mari'], env)).code).toBe(0)
      expect((await getJson(`${server.url}/api/v1/state`, secret)).status).toBe(200)
      expect((await cli(['tokens', 'revoke', listed.tokens[0]!.id], env)).code).toBe(0)
      expect((await getJson(`${server.url}/api/v1/state`, secret)).status).toBe(401)

      // a new password: the old one, its sessions and the tokens made with it stop; a random one is printed once
      const before = (await cli(['tokens', 'create', '--label', 'before', '--owner', 'mari'], env)).stdout.trim()
      expect((await getJson(`${server.url}/api/v1/state`, before)).status).toBe(200)
      const signedIn = await signIn('a long enough password')
      const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!
      const sessionNow = () => fetch(`${server.url}/api/v1/session`, { headers: { cookie } })
      expect((await sessionNow()).status).toBe(200)
      const reset = await cli(['accounts', 'password', 'Mari', '--password-stdin'], env, 'another long password\n')
      expect(reset.code).toBe(0)
      expect(reset.stderr).toContain('account mari: new password set; its sessions ended and its tokens revoked')
      expect((await signIn('a long enough password')).status).toBe(401)
      expect((await signIn('another long password')).status).toBe(200)
      expect((await getJson(`${server.url}/api/v1/state`, before)).status).toBe(401)
      expect((await sessionNow()).status).toBe(401)
      const printed = await cli(['accounts', 'password', 'mari', '--json'], env)
      const { password } = JSON.parse(printed.stdout) as { password: string }
      expect((await signIn(password)).status).toBe(200)
      const short = await cli(['accounts', 'password', 'mari', '--password-stdin'], env, 'short\n')
      expect(short.code).toBe(1)
      expect(short.stderr).toContain('password')
      expect((await signIn(password)).status).toBe(200)
      const nobody = await cli(['accounts', 'password', 'nobody'], env)
      expect(nobody.code).toBe(1)
      expect(nobody.stderr).toContain('no account nobody')
      for (const run of [short, nobody]) noStack(run)

      const taken = await cli(['accounts', 'create', 'mari', '--organisation', 'cert-ee', '--roles', 'analyst'], env)
      expect(taken.code).toBe(1)
      const nowhere = await cli(
        ['accounts', 'create', 'olga', '--organisation', 'no-such-org', '--roles', 'analyst'],
        env,
      )
      expect(nowhere.code).toBe(1)
      expect(nowhere.stderr).toContain('no organisation no-such-org in the directory')
      const noRoles = await cli(['accounts', 'create', 'olga', '--organisation', 'cert-ee'], env)
      expect(noRoles.code).toBe(2)
      expect((await cli(['tokens', 'revoke', randomUUID()], env)).code).toBe(1)
      for (const run of [taken, nowhere, noRoles]) noStack(run)
    } finally {
      await server.stop()
    }
  })

  it('on PostgreSQL, a token revoked and an account disabled by the command line cut their live sockets at once (the bus)', {
    timeout: 120_000,
  }, async () => {
    const env = { ...(await postgresEnv()), WATCHFLOOR_PASSWORD_COST: '10' }
    // the server's own periodic checks are an hour away: only the bus can tell it in time
    const server = await startServerProcess({
      env: { ...env, WATCHFLOOR_CREDENTIAL_RECHECK_MS: '3600000' },
    })
    const watchers: Watcher[] = []
    try {
      for (const name of ['mari', 'olev'])
        expect(
          (await cli(['accounts', 'create', name, '--organisation', 'cert-ee', '--roles', 'analyst'], env)).code,
        ).toBe(0)
      const tokenOf = async (owner: string) => {
        const made = await cli(['tokens', 'create', '--label', 'wall', '--owner', owner, '--json'], env)
        expect(made.code).toBe(0)
        return JSON.parse(made.stdout) as { secret: string; token: { id: string } }
      }
      const mari = await tokenOf('mari')
      const olev = await tokenOf('olev')
      const live = async (secret: string) => {
        const watcher = new Watcher(server.url, secret)
        watchers.push(watcher)
        const revoked: string[] = []
        watcher.socket.on('revoked', ({ reason }) => revoked.push(reason))
        expect((await watcher.subscribe(0)).ok).toBe(true)
        return revoked
      }
      const mariRevoked = await live(mari.secret)
      const olevRevoked = await live(olev.secret)

      const revoke = await cli(['tokens', 'revoke', mari.token.id], env)
      expect(revoke.code).toBe(0)
      expect(revoke.stderr).toBe('')
      await expect.poll(() => mariRevoked, { timeout: 5000 }).toEqual(['token_revoked'])
      expect(olevRevoked).toEqual([])

      expect((await cli(['accounts', 'disable', 'olev'], env)).code).toBe(0)
      await expect.poll(() => olevRevoked, { timeout: 5000 }).toEqual(['account_disabled'])
    } finally {
      for (const watcher of watchers) watcher.close()
      await server.stop()
    }
  })

  it('a backup made by format version 1 (Watchfloor 0.1) restores, and its accounts and tokens still work', {
    timeout: 120_000,
  }, async () => {
    const header = JSON.parse(readFileSync(FIXTURE, 'utf8').split('\n')[0]!)
    expect(header).toMatchObject({ format: 'watchfloor-backup', version: 1 })
    // into PostgreSQL, and into SQLite to run a server on
    const postgres = await postgresEnv()
    expect((await cli(['restore', FIXTURE], postgres)).code).toBe(0)
    const env = sqliteEnv()
    const restored = await cli(['restore', FIXTURE], env)
    expect(restored.code).toBe(0)
    expect(restored.stderr).toContain('restored 5 events')
    for (const target of [env, postgres]) {
      expect((await cli(['check'], target)).code).toBe(0)
      const tokens = JSON.parse((await cli(['tokens', 'list', '--json'], target)).stdout) as {
        tokens: { label: string; revokedAt: string | null }[]
      }
      expect(tokens.tokens.map((t) => t.label).sort()).toEqual(['kadri laptop', 'relay', 'wall'])
      expect(tokens.tokens.find((t) => t.label === 'wall')!.revokedAt).not.toBeNull()
      const accounts = JSON.parse((await cli(['accounts', 'list', '--json'], target)).stdout) as {
        accounts: { username: string; disabled: boolean }[]
      }
      expect(accounts.accounts.map((a) => [a.username, a.disabled])).toEqual([
        ['janis', true],
        ['kadri', false],
      ])
    }
    // the same content either way, as in the file
    const fromPostgres = join(env.WATCHFLOOR_DATA_DIR, 'again.backup')
    expect((await cli(['backup', fromPostgres], postgres)).code).toBe(0)
    expect(content(fromPostgres)).toEqual(content(FIXTURE))

    const server = await startServerProcess({ dataDir: env.WATCHFLOOR_DATA_DIR })
    try {
      const session = await fetch(`${server.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'kadri', password: 'fixture-password-of-0.1' }),
      })
      expect(session.status).toBe(200)
      const state = await getJson<{ seq: number }>(`${server.url}/api/v1/state`, 'wf_fixture-api-token-of-0.1-backup')
      expect(state.status).toBe(200)
      expect(state.json.seq).toBe(5)
      expect((await getJson(`${server.url}/api/v1/state`, 'wf_fixture-wall-token-of-0.1-backup')).status).toBe(401)
    } finally {
      await server.stop()
    }
  })

  it('cli.js is plain JavaScript: the workspace packages bundled, every other import a dependency of the server', () => {
    compiled ??= buildServer()
    const code = readFileSync(join(compiled.main, '..', 'cli.js'), 'utf8')
    const imports = [...code.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]!)
    expect(imports).toContain('better-sqlite3')
    expect(imports.filter((specifier) => specifier.endsWith('.ts') || specifier.startsWith('@watchfloor/'))).toEqual([])
    expect(imports.filter((specifier) => specifier.startsWith('.'))).toEqual([])
    const manifest = JSON.parse(readFileSync(join(root, 'apps/server/package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    const packageOf = (specifier: string) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/')
    expect(
      imports
        .filter((specifier) => !specifier.startsWith('node:'))
        .map(packageOf)
        .filter((name) => !(name in manifest.dependencies)),
    ).toEqual([])
  })

  it('the source runs as `pnpm watchfloor` runs it (tsx), with the same answers as the compiled cli.js', async () => {
    const help = await cli(['--help'], sqliteEnv(), undefined, SOURCE)
    expect(help.code).toBe(0)
    expect(help.stdout).toBe((await cli(['--help'], sqliteEnv())).stdout)
    const env = await sqliteLog(6)
    const check = await cli(['check'], env, undefined, SOURCE)
    expect(check.code).toBe(0)
    expect(check.stdout).toContain('events: 6, head seq 6')
    const bad = await cli(['restore'], env, undefined, SOURCE)
    expect(bad.code).toBe(2)
    noStack(bad)
  })
})

import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'
import { startServer } from '../src/server.ts'
import { logHead, observations, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

/**
 * What an operator's settings make fail at start: a bad value stops the server with exit 2 and one
 * line naming the variable (docs/api.md, Configuration), and a start that fails because of one (a
 * port in use, a database that cannot be reached, a data folder or a file that cannot be read) with
 * exit 1 and one line naming it, never a stack trace (unless WATCHFLOOR_DEBUG=1). Real server
 * processes, real SQLite files, a real PostgreSQL.
 */
const root = new URL('../../../', import.meta.url).pathname
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test'
const CHEAP = { WATCHFLOOR_PASSWORD_COST: '10' }

const dirs: string[] = []
const started: ServerProcess[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-startup-'))
  dirs.push(dir)
  return dir
}

afterAll(async () => {
  for (const server of started) await server.stop()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

interface Exit {
  code: number | null
  output: string
}

/** The server from source (`node --import tsx src/main.ts`) with `env` over a SQLite default; resolves when it exits. */
function startExpectingExit(env: Record<string, string>): Promise<Exit> {
  const dataDir = tempDir()
  const tokens = join(dataDir, 'tokens.json')
  writeFileSync(tokens, '[]')
  const { NODE_OPTIONS: _options, WATCHFLOOR_DATABASE_URL: _url, WATCHFLOOR_DEBUG: _debug, ...parentEnv } = process.env
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'apps/server/src/main.ts')], {
    cwd: root,
    env: {
      ...parentEnv,
      WATCHFLOOR_PORT: '0',
      WATCHFLOOR_HOST: '127.0.0.1',
      WATCHFLOOR_DATA_DIR: dataDir,
      WATCHFLOOR_SIMULATOR: 'off',
      WATCHFLOOR_TOKENS: tokens,
      WATCHFLOOR_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    }),
  )
}

/** The one line the server says about why it stopped: exactly one `watchfloor: ` line, and no stack trace. */
function oneLine(exit: Exit): string {
  const lines = exit.output.split('\n').filter((line) => line.startsWith('watchfloor: '))
  expect(lines, exit.output).toHaveLength(1)
  expect(exit.output, 'a stack trace').not.toMatch(/\n\s+at /)
  return lines[0]!
}

const until = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) => {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The integer settings: those docs/api.md gives a number as default. */
function integerSettings(): string[] {
  const api = readFileSync(join(root, 'docs/api.md'), 'utf8')
  return [...api.matchAll(/^\|\s*`(WATCHFLOOR_[A-Z0-9_]+)`\s*\|\s*`[0-9]+`\s*\|/gm)].map((match) => match[1]!)
}

describe('settings refused by loadConfig, for the server and the command line alike', () => {
  it('WATCHFLOOR_LOG_LEVEL: one of pino levels', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      expect(loadConfig({ WATCHFLOOR_LOG_LEVEL: level }).logLevel).toBe(level)
    expect(loadConfig({}).logLevel).toBe('info')
    for (const level of ['verbose', 'INFO', ' info', '10'])
      expect(() => loadConfig({ WATCHFLOOR_LOG_LEVEL: level })).toThrow(
        /^WATCHFLOOR_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/,
      )
  })

  it('WATCHFLOOR_DATABASE_URL: a postgres:// or postgresql:// URL, never repeated (it may hold a password)', () => {
    for (const url of ['postgres://u:p@db:5432/x', 'postgresql://db/x', 'postgres://[::1]/x'])
      expect(loadConfig({ WATCHFLOOR_DATABASE_URL: url }).databaseUrl).toBe(url)
    expect(loadConfig({ WATCHFLOOR_DATABASE_URL: '' }).databaseUrl).toBeUndefined()
    for (const url of [
      'not-a-url',
      'sqlite:///tmp/x.sqlite',
      'mysql://root:hunter2secret@127.0.0.1/x',
      'http://u:hunter2secret@db/x',
    ]) {
      let message = ''
      try {
        loadConfig({ WATCHFLOOR_DATABASE_URL: url })
      } catch (error) {
        message = (error as Error).message
      }
      expect(message, url).toMatch(/^WATCHFLOOR_DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/)
      expect(message).not.toContain('hunter2secret')
    }
  })

  it('WATCHFLOOR_HOST: an IP address or a host name', () => {
    for (const host of ['127.0.0.1', '0.0.0.0', '::', '::1', 'fe80::1', 'localhost', 'watchfloor-1.example.org', 'db.'])
      expect(loadConfig({ WATCHFLOOR_HOST: host }).host).toBe(host)
    expect(loadConfig({}).host).toBe('0.0.0.0')
    for (const host of ['256.1.1.1', '1.2.3', '[::1]', 'http://host', 'a b', '-host', 'host_name', 'a..b', ' ::1'])
      expect(() => loadConfig({ WATCHFLOOR_HOST: host }), host).toThrow(/^WATCHFLOOR_HOST must be an IP address/)
  })

  it('every integer setting takes plain decimal digits only: no blank, sign, hex, exponent or fraction', () => {
    const names = integerSettings()
    expect(names).toEqual(expect.arrayContaining(['WATCHFLOOR_PORT', 'WATCHFLOOR_LOGIN_WINDOW_S']))
    expect(names.length).toBeGreaterThan(20)
    for (const name of names) {
      for (const raw of [' ', '0x10', '1e3', '+10', '10.0', ' 10', '10 ', '1_000', '0b11', '0o7'])
        expect(() => loadConfig({ [name]: raw }), `${name}=${JSON.stringify(raw)}`).toThrow(
          new RegExp(`^${name} must be a whole number`),
        )
    }
    expect(loadConfig({ WATCHFLOOR_PORT: '4720', WATCHFLOOR_LOGIN_WINDOW_S: '1000' })).toMatchObject({
      port: 4720,
      loginWindowMs: 1_000_000,
    })
    expect(loadConfig({ WATCHFLOOR_PORT: '007' }).port).toBe(7)
  })

  it('stop the server with exit 2 and one line naming the variable', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ WATCHFLOOR_LOG_LEVEL: 'verbose' }, /^watchfloor: WATCHFLOOR_LOG_LEVEL must be one of/],
      [{ WATCHFLOOR_DATABASE_URL: 'mysql://root:hunter2secret@127.0.0.1/x' }, /^watchfloor: WATCHFLOOR_DATABASE_URL /],
      [{ WATCHFLOOR_HOST: '256.1.1.1' }, /^watchfloor: WATCHFLOOR_HOST must be/],
      [{ WATCHFLOOR_PORT: ' ' }, /^watchfloor: WATCHFLOOR_PORT must be a whole number from 0 to 65535, got " "$/],
      [{ WATCHFLOOR_PORT: '0x1260' }, /^watchfloor: WATCHFLOOR_PORT must be a whole number/],
    ]
    const exits = await Promise.all(cases.map(([env]) => startExpectingExit(env)))
    for (const [i, exit] of exits.entries()) {
      expect(exit.code, exit.output).toBe(2)
      expect(oneLine(exit)).toMatch(cases[i]![1])
      expect(exit.output).not.toContain('hunter2secret')
    }
  })
})

describe('a start that fails because of a setting: exit 1, one line naming it, no stack trace', () => {
  let holder: Server | undefined
  afterAll(() => holder?.close())

  it('a port in use, an unreachable PostgreSQL (its password never printed), a data folder that cannot be made', async () => {
    holder = createServer()
    const port = await new Promise<number>((resolve) =>
      holder!.listen(0, '127.0.0.1', () => resolve((holder!.address() as { port: number }).port)),
    )
    const file = join(tempDir(), 'a-file')
    writeFileSync(file, '')
    const [inUse, unreachable, dataDir, proc] = await Promise.all([
      startExpectingExit({ WATCHFLOOR_PORT: String(port) }),
      startExpectingExit({ WATCHFLOOR_DATABASE_URL: 'postgres://postgres:hunter2secret@127.0.0.1:1/watchfloor' }),
      // a data folder under a file: nothing can make it, whoever runs the test
      startExpectingExit({ WATCHFLOOR_DATA_DIR: join(file, 'data'), WATCHFLOOR_TOKENS: '', ...CHEAP }),
      // a file system that refuses new folders with ENOENT: Node's recursive mkdir never returned
      startExpectingExit({ WATCHFLOOR_DATA_DIR: '/proc/watchfloor-data', WATCHFLOOR_TOKENS: '', ...CHEAP }),
    ])
    expect(inUse.code, inUse.output).toBe(1)
    expect(oneLine(inUse)).toBe(
      `watchfloor: cannot listen on 127.0.0.1:${port} (WATCHFLOOR_HOST / WATCHFLOOR_PORT): address in use`,
    )
    expect(unreachable.code, unreachable.output).toBe(1)
    expect(oneLine(unreachable)).toMatch(
      /^watchfloor: cannot reach PostgreSQL \(WATCHFLOOR_DATABASE_URL\): .*ECONNREFUSED 127\.0\.0\.1:1$/,
    )
    expect(unreachable.output).not.toContain('hunter2secret')
    expect(dataDir.code, dataDir.output).toBe(1)
    expect(oneLine(dataDir)).toMatch(
      new RegExp(`^watchfloor: cannot use the data folder ${join(file, 'data')} \\(WATCHFLOOR_DATA_DIR\\): ENOTDIR`),
    )
    expect(proc.code, proc.output).toBe(1)
    expect(oneLine(proc)).toMatch(
      /^watchfloor: cannot use the data folder \/proc\/watchfloor-data \(WATCHFLOOR_DATA_DIR\): ENOENT/,
    )
  })

  it('a WATCHFLOOR_TOKENS or WATCHFLOOR_WALL_PRESETS file that is not there or not right; WATCHFLOOR_DEBUG=1 adds the stack', async () => {
    const missing = join(tempDir(), 'missing.json')
    // and a preset list that defines one preset twice
    const twice = join(tempDir(), 'presets.json')
    writeFileSync(twice, JSON.stringify([{ name: 'night' }, { name: 'night' }]))
    const [tokens, presets, debug, reused] = await Promise.all([
      startExpectingExit({ WATCHFLOOR_TOKENS: missing }),
      startExpectingExit({ WATCHFLOOR_WALL_PRESETS: missing }),
      startExpectingExit({ WATCHFLOOR_WALL_PRESETS: missing, WATCHFLOOR_DEBUG: '1' }),
      startExpectingExit({ WATCHFLOOR_WALL_PRESETS: twice }),
    ])
    expect(reused.code, reused.output).toBe(1)
    expect(oneLine(reused)).toBe("watchfloor: WATCHFLOOR_WALL_PRESETS: preset 'night' is defined twice")
    expect(tokens.code, tokens.output).toBe(1)
    expect(oneLine(tokens)).toMatch(new RegExp(`^watchfloor: WATCHFLOOR_TOKENS: cannot read ${missing}: ENOENT`))
    expect(presets.code, presets.output).toBe(1)
    expect(oneLine(presets)).toMatch(new RegExp(`^watchfloor: WATCHFLOOR_WALL_PRESETS: cannot read ${missing}: ENOENT`))
    expect(debug.code).toBe(1)
    expect(debug.output).toMatch(/^watchfloor: WATCHFLOOR_WALL_PRESETS: cannot read/m)
    expect(debug.output).toMatch(/\n\s+at /)
  })
})

describe('a start that fails after the stores are open', () => {
  it('lets them go: started again in the same process on the same log, on a port free now, it serves (the writer claim released)', async () => {
    const holder = createServer()
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)),
    )
    const dataDir = tempDir()
    const tokens = join(dataDir, 'tokens.json')
    writeFileSync(tokens, JSON.stringify([]))
    const env = {
      WATCHFLOOR_HOST: '127.0.0.1',
      WATCHFLOOR_DATA_DIR: dataDir,
      WATCHFLOOR_TOKENS: tokens,
      WATCHFLOOR_SIMULATOR: 'off',
      WATCHFLOOR_LOG_LEVEL: 'silent',
    }
    try {
      // the port is the last step of a start: the stores, the directory, the gateway came before it
      await expect(startServer(loadConfig({ ...env, WATCHFLOOR_PORT: String(port) }))).rejects.toThrow(
        `cannot listen on 127.0.0.1:${port}`,
      )
      const server = await startServer(loadConfig({ ...env, WATCHFLOOR_PORT: '0' }))
      try {
        const health = await fetch(`${server.url}/healthz`)
        expect(health.status).toBe(200)
        expect(await server.store.head()).toBe(0)
      } finally {
        await server.close()
      }
    } finally {
      await new Promise((resolve) => holder.close(resolve))
    }
  })
})

describe('an IPv6 WATCHFLOOR_HOST', () => {
  it('prints links with the address in brackets, and the embedded simulator posts to them', async () => {
    // the demo start (no WATCHFLOOR_TOKENS) prints its links; the simulator posts to the same url
    const server = await startServerProcess({
      env: {
        ...CHEAP,
        WATCHFLOOR_HOST: '::1',
        WATCHFLOOR_TOKENS: '',
        WATCHFLOOR_SIMULATOR: 'on',
        WATCHFLOOR_SIMULATOR_SPEED: '60',
      },
    })
    started.push(server)
    expect(server.url).toMatch(/^http:\/\/\[::1\]:[0-9]+$/)
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    const links = server.output().match(/http:\/\/\S+/g) ?? []
    expect(links.length).toBeGreaterThanOrEqual(8) // the start line, six demo tokens, the wall
    for (const link of links) expect(new URL(link).hostname, link).toBe('[::1]')
    await until(async () => (await logHead(server)) > 0, 'the simulator to post')
    expect(server.output()).not.toMatch(/simulator: POST/)
  })
})

describe('the embedded simulator', () => {
  const schema = `wf_startup_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  let connected = false
  afterAll(async () => {
    if (!connected) return
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
  })

  it('logs a warning when its posts fail, and goes on once they pass again', async () => {
    await admin.connect()
    connected = true
    await admin.query(`CREATE SCHEMA ${schema}`)
    const server = await startServerProcess({
      env: {
        WATCHFLOOR_DATABASE_URL: `${ADMIN_URL}?options=-c%20search_path%3D${schema}`,
        WATCHFLOOR_SIMULATOR: 'on',
        WATCHFLOOR_SIMULATOR_SPEED: '60',
      },
    })
    started.push(server)
    const head = async () =>
      Number((await admin.query(`SELECT coalesce(max(seq), 0) AS head FROM ${schema}.watchfloor_events`)).rows[0].head)
    await until(async () => (await head()) > 0, 'the simulator to post')
    // every append fails in the database (a 500 to the poster, which retries)
    await admin.query(
      `CREATE FUNCTION ${schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'appends refused by the test'; END $$`,
    )
    await admin.query(
      `CREATE TRIGGER refuse BEFORE INSERT ON ${schema}.watchfloor_events FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse()`,
    )
    await until(() => /"msg":"simulator: POST of [0-9]+ events failed \(HTTP 500/.test(server.output()), 'a warning')
    const warning = server.output().match(/^.*simulator: POST of.*$/m)![0]
    expect(JSON.parse(warning).level).toBe(40)
    await admin.query(`DROP TRIGGER refuse ON ${schema}.watchfloor_events`)
    const before = await head()
    await until(async () => (await head()) > before, 'the simulator to post again')
  })
})

describe('the SQLite data folder and database files are for the server alone', () => {
  const mode = (path: string) => statSync(path).mode & 0o777

  it('a folder the server makes is 0700; events.sqlite, -wal and -shm are 0600; a wider file is tightened, said once', async () => {
    const dataDir = join(tempDir(), 'data', 'watchfloor')
    const first = await startServerProcess({ env: { WATCHFLOOR_DATA_DIR: dataDir } })
    started.push(first)
    expect((await post(first.url, TOKENS.sensorEe, { events: observations(3) })).status).toBe(201)
    expect(mode(dataDir)).toBe(0o700)
    for (const file of ['events.sqlite', 'events.sqlite-wal', 'events.sqlite-shm'])
      expect(mode(join(dataDir, file)).toString(8), file).toBe('600')
    expect(first.output()).not.toMatch(/mode 0600/)
    await first.stop()

    // a database left readable by others (an older release, a copy made by hand)
    chmodSync(join(dataDir, 'events.sqlite'), 0o644)
    const second = await startServerProcess({ env: { WATCHFLOOR_DATA_DIR: dataDir } })
    started.push(second)
    expect((await post(second.url, TOKENS.sensorEe, { events: observations(2) })).status).toBe(201)
    for (const file of ['events.sqlite', 'events.sqlite-wal', 'events.sqlite-shm'])
      expect(mode(join(dataDir, file)).toString(8), file).toBe('600')
    const warnings = second.output().match(/^.*mode 0600.*$/gm) ?? []
    expect(warnings).toHaveLength(1)
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, files: [join(dataDir, 'events.sqlite')] })
    await second.stop()
  })
})

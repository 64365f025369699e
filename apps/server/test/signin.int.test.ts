import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'
import { PRINCIPALS, type ServerProcess, startServerProcess } from './harness.ts'

/**
 * Sign-in throttling under concurrency and behind a proxy: a real server process each,
 * on loopback. scrypt N = 2^12 (as access.int.test.ts): many sign-ins here.
 */
const CHEAP = { WATCHFLOOR_PASSWORD_COST: '12' }
const ADMIN_TOKEN = 'static-admin-token-0123456789'
const PASSWORD = 'correct horse battery staple'
const WRONG = 'wrong password number'

interface Attempt {
  status: number
  retryAfter: string | null
  code: string | undefined
}

/** `POST /api/v1/session`, optionally as if through a proxy (`X-Forwarded-For`). */
async function signIn(base: string, username: string, password: string, forwardedFor?: string): Promise<Attempt> {
  const response = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(forwardedFor !== undefined ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    body: JSON.stringify({ username, password }),
  })
  const json = (await response.json()) as { error?: { code: string } }
  return { status: response.status, retryAfter: response.headers.get('retry-after'), code: json.error?.code }
}

/** How many attempts of each status. */
function tally(attempts: Attempt[]): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const { status } of attempts) counts[status] = (counts[status] ?? 0) + 1
  return counts
}

/** Every refusal is a 429 `too_many_requests` with a positive whole `Retry-After`. */
function expectThrottled(attempts: Attempt[]): void {
  for (const attempt of attempts.filter((a) => a.status === 429)) {
    expect(attempt.code).toBe('too_many_requests')
    expect(attempt.retryAfter).toMatch(/^[1-9][0-9]*$/)
  }
}

const started: { server: ServerProcess; dir: string }[] = []

/** A server with the harness principals plus a static admin, and an account `alice` (unless `account` is false). */
async function start(env: Record<string, string>, account = true): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-signin-'))
  const file = join(dir, 'tokens.json')
  const admin = { token: ADMIN_TOKEN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] }
  writeFileSync(file, JSON.stringify([...PRINCIPALS, admin]))
  const server = await startServerProcess({ env: { ...CHEAP, WATCHFLOOR_TOKENS: file, ...env } })
  started.push({ server, dir })
  if (!account) return server
  const created = await fetch(`${server.url}/api/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({
      username: 'alice',
      organisation: 'cert-ee',
      nation: 'EE',
      roles: ['analyst'],
      password: PASSWORD,
    }),
  })
  expect(created.status).toBe(201)
  return server
}

afterAll(async () => {
  for (const { server, dir } of started) {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

describe('concurrent sign-ins for one user (default limits: 5 per user, 20 per address)', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await start({})
  })

  it('50 at once, 49 wrong and 1 right: at most 5 wrong ones reach the password check, the rest 429 with Retry-After', async () => {
    const passwords = Array.from({ length: 50 }, (_, i) => (i === 0 ? PASSWORD : `${WRONG} ${i}`))
    const attempts = await Promise.all(passwords.map((password) => signIn(server.url, 'alice', password)))
    const counts = tally(attempts)
    // a 401 is a wrong guess that reached the password check: at most the limit of them. The right
    // one reaches it too when it wins a slot (200; its slot is given back) or is refused with 429.
    expect(counts[401] ?? 0).toBeLessThanOrEqual(5)
    expect(counts[200] ?? 0).toBeLessThanOrEqual(1)
    expect(counts[429] ?? 0).toBeGreaterThanOrEqual(50 - 5 - 1)
    expect(Object.keys(counts).every((status) => ['200', '401', '429'].includes(status))).toBe(true)
    expectThrottled(attempts)
  })
})

describe('a correct password after the window (WATCHFLOOR_LOGIN_WINDOW_S=2)', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await start({ WATCHFLOOR_LOGIN_WINDOW_S: '2' })
  })

  it('after a throttled burst, the right password signs in once the window has passed', async () => {
    const passwords = Array.from({ length: 50 }, (_, i) => (i === 49 ? PASSWORD : `${WRONG} ${i}`))
    const attempts = await Promise.all(passwords.map((password) => signIn(server.url, 'alice', password)))
    const counts = tally(attempts)
    expect((counts[401] ?? 0) + (counts[200] ?? 0)).toBeLessThanOrEqual(5)
    expectThrottled(attempts)
    const wait = Math.max(...attempts.map((a) => Number(a.retryAfter ?? 0)))
    expect(wait).toBeGreaterThan(0)
    expect(wait).toBeLessThanOrEqual(2)
    await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 100))
    expect((await signIn(server.url, 'alice', PASSWORD)).status).toBe(200)
  })
})

describe('the per-address limit (WATCHFLOOR_TRUST_PROXY=loopback, 3 per address)', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await start({
      WATCHFLOOR_TRUST_PROXY: 'loopback',
      WATCHFLOOR_LOGIN_MAX_FAILURES: '1000',
      WATCHFLOOR_LOGIN_MAX_FAILURES_PER_ADDRESS: '3',
    })
  })

  it('50 at once from one address, each for another username: at most 3 reach the password check', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 50 }, (_, i) => signIn(server.url, `user-${i}`, WRONG, '198.51.100.7')),
    )
    const counts = tally(attempts)
    expect(counts[401] ?? 0).toBeLessThanOrEqual(3)
    expect(counts[429] ?? 0).toBeGreaterThanOrEqual(47)
    expectThrottled(attempts)
    // another client address (as the trusted proxy says) is not held back
    expect((await signIn(server.url, 'user-0', WRONG, '198.51.100.8')).status).toBe(401)
  })

  it('requests from a trusted proxy count against the address in X-Forwarded-For', async () => {
    for (let i = 0; i < 3; i++) expect((await signIn(server.url, 'alice', WRONG, '203.0.113.1')).status).toBe(401)
    expect((await signIn(server.url, 'alice', PASSWORD, '203.0.113.1')).status).toBe(429)
    // the right-most untrusted address is the client's: a client cannot pick its own by prepending one
    expect((await signIn(server.url, 'bob', WRONG, '192.0.2.99, 203.0.113.1')).status).toBe(429)
    expect((await signIn(server.url, 'alice', PASSWORD, '203.0.113.2')).status).toBe(200)
  })
})

describe('X-Forwarded-For without a trusted proxy (WATCHFLOOR_TRUST_PROXY unset, 3 per address)', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await start({ WATCHFLOOR_LOGIN_MAX_FAILURES: '1000', WATCHFLOOR_LOGIN_MAX_FAILURES_PER_ADDRESS: '3' })
  })

  it('is ignored: requests with different X-Forwarded-For from loopback count against one address', async () => {
    expect((await signIn(server.url, 'alice', WRONG, '203.0.113.1')).status).toBe(401)
    expect((await signIn(server.url, 'alice', WRONG, '203.0.113.2')).status).toBe(401)
    expect((await signIn(server.url, 'alice', WRONG, '203.0.113.3')).status).toBe(401)
    const refused = await signIn(server.url, 'alice', PASSWORD, '203.0.113.4')
    expect(refused.status).toBe(429)
    expect(Number(refused.retryAfter)).toBeGreaterThan(0)
  })
})

describe('WATCHFLOOR_TRUST_PROXY', () => {
  it('is off by default and takes what Express takes: loopback and other names, hops, addresses and subnets', () => {
    expect(loadConfig({}).trustProxy).toBe(false)
    expect(loadConfig({ WATCHFLOOR_TRUST_PROXY: '' }).trustProxy).toBe(false)
    expect(loadConfig({ WATCHFLOOR_TRUST_PROXY: 'off' }).trustProxy).toBe(false)
    expect(loadConfig({ WATCHFLOOR_TRUST_PROXY: 'true' }).trustProxy).toBe(true)
    expect(loadConfig({ WATCHFLOOR_TRUST_PROXY: '2' }).trustProxy).toBe(2)
    expect(loadConfig({ WATCHFLOOR_TRUST_PROXY: 'loopback' }).trustProxy).toEqual(['loopback'])
    expect(
      loadConfig({ WATCHFLOOR_TRUST_PROXY: 'loopback, 10.0.0.0/8,192.168.1.1, fd00::/8, 172.16.0.0/255.240.0.0' })
        .trustProxy,
    ).toEqual(['loopback', '10.0.0.0/8', '192.168.1.1', 'fd00::/8', '172.16.0.0/255.240.0.0'])
  })

  it.each([
    'yes',
    'loopback,',
    '10.0.0.0/33',
    '10.0.0.0/0',
    'fd00::/129',
    '10.0.0.300',
    '10.0.0.0/255.0.255.0',
    '-1',
    '1.5',
  ])('refuses %j with a message naming the setting', (value) => {
    expect(() => loadConfig({ WATCHFLOOR_TRUST_PROXY: value })).toThrow(/WATCHFLOOR_TRUST_PROXY/)
  })

  it('stops the server at start on an invalid value', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'watchfloor-signin-'))
    try {
      const outcome = await startServerProcess({
        dataDir,
        env: { ...CHEAP, WATCHFLOOR_TRUST_PROXY: 'not-an-address' },
      }).then(
        async (server) => {
          await server.stop() // it should not have started
          return 'started'
        },
        (error: Error) => error.message,
      )
      expect(outcome).toMatch(/exited with 2[\s\S]*WATCHFLOOR_TRUST_PROXY.*not-an-address/)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('two server processes on one PostgreSQL database count sign-ins together', () => {
  const schema = `wf_signin_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await admin.end().catch(() => {})
  })

  it('failures spread over both processes are throttled as one (5 per user), and both refuse the 6th', async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const env = {
      WATCHFLOOR_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`,
    }
    const a = await start(env)
    const b = await start(env, false) // alice, made through a, is in the shared database
    for (let i = 0; i < 5; i++) expect((await signIn([a, b][i % 2]!.url, 'alice', `${WRONG} ${i}`)).status).toBe(401)
    for (const server of [a, b]) {
      const refused = await signIn(server.url, 'alice', PASSWORD)
      expect(refused).toMatchObject({ status: 429, code: 'too_many_requests' })
      expect(Number(refused.retryAfter)).toBeGreaterThan(14 * 60)
    }
    // another user from the same address is not held back (5 failures < 20 per address)
    expect((await signIn(b.url, 'bob', WRONG)).status).toBe(401)
    // at once on both: no more than the limit reach the password check in all
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => signIn([a, b][i % 2]!.url, 'carol', `${WRONG} ${i}`)),
    )
    expect(tally(burst)[401]).toBe(5)
    expectThrottled(burst)
  })
})

/**
 * A sign-in that races an admin's password reset: the sign-in checked the old password before the
 * reset landed and makes its session after. Neither outlives the reset: no session of the old
 * password survives it, and the sign-in's rehash (an account hashed at a lower cost than the
 * server's) never writes the old password back over the new one. Against real server processes.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServerProcess, startServerProcess, tokensWithAdmin } from './harness.ts'

const ADMIN = 'signin-race-admin-token-0123'
const OLD = 'the old password, 2026'
const NEW = 'the new password, after the reset'
/** Delays between the reset and the sign-in (ms): the sign-in's check overlaps the reset's hashing. */
const DELAYS = [0, 10, 25, 50, 80]

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  await response.text()
  return { status: response.status, cookie: (response.headers.get('set-cookie') ?? '').split(';')[0]! }
}

const admin = { authorization: `Bearer ${ADMIN}` }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('a sign-in racing a password reset', () => {
  let dir: string
  let server: ServerProcess | undefined
  const names = (prefix: string) => DELAYS.map((delay) => `${prefix}-${delay}`)

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-signin-race-'))
    const tokens = tokensWithAdmin(dir, ADMIN)
    mkdirSync(join(dir, 'data'))
    // accounts hashed at cost 12; the server then runs at 15, so signing in rehashes them
    const cheap = await startServerProcess({
      dataDir: join(dir, 'data'),
      env: { WATCHFLOOR_TOKENS: tokens, WATCHFLOOR_PASSWORD_COST: '12' },
    })
    try {
      for (const username of names('cheap')) {
        const body = { username, organisation: 'cert-ee', nation: 'EE', roles: ['analyst'], password: OLD }
        expect((await call(cheap.url, 'POST', '/api/v1/accounts', body, admin)).status).toBe(201)
      }
    } finally {
      await cheap.stop()
    }
    server = await startServerProcess({
      dataDir: join(dir, 'data'),
      // every refused sign-in here comes from one address: more than the default 20 of them
      env: {
        WATCHFLOOR_TOKENS: tokens,
        WATCHFLOOR_PASSWORD_COST: '15',
        WATCHFLOOR_LOGIN_MAX_FAILURES_PER_ADDRESS: '1000',
      },
    })
    for (const username of names('current')) {
      const body = { username, organisation: 'cert-ee', nation: 'EE', roles: ['analyst'], password: OLD }
      expect((await call(server.url, 'POST', '/api/v1/accounts', body, admin)).status).toBe(201)
    }
  }, 120_000)

  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it.each([
    ['hashed at the server’s cost', 'current'],
    ['to be rehashed as it signs in', 'cheap'],
  ])(
    'an account %s: no session of the old password outlives the reset, and the new password stays',
    async (_, prefix) => {
      const url = server!.url
      for (const [i, username] of names(prefix).entries()) {
        const reset = call(url, 'PATCH', `/api/v1/accounts/${username}`, { password: NEW }, admin)
        await sleep(DELAYS[i]!)
        const racing = call(url, 'POST', '/api/v1/session', { username, password: OLD })
        const [done, signedIn] = await Promise.all([reset, racing])
        expect(done.status, username).toBe(200)
        if (signedIn.status === 200) {
          // made before the reset: ended by it
          const me = await call(url, 'GET', '/api/v1/session', undefined, { cookie: signedIn.cookie })
          expect(me.status, `${username}: the old password's session after the reset`).toBe(401)
        } else expect(signedIn.status, username).toBe(401)
        // the reset holds: the old password is refused, the new one signs in
        expect((await call(url, 'POST', '/api/v1/session', { username, password: OLD })).status, username).toBe(401)
        expect((await call(url, 'POST', '/api/v1/session', { username, password: NEW })).status, username).toBe(200)
      }
    },
    120_000,
  )
})

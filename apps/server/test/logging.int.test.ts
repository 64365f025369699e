import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, PRINCIPALS, type ServerProcess, startServerProcess, TOKENS, Watcher } from './harness.ts'

/**
 * Structured logs (docs/security.md, Logs): a real server process at level `debug`, its output
 * captured. Every line of a request carries the request id and the principal; no secret
 * (password, token, session cookie, metrics token) appears in any line.
 */
const ADMIN = 'logging-admin-token-0123456789'
const METRICS_TOKEN = 'logging-metrics-token-0123456789'
const PASSWORD = 'the very secret passphrase 42'
const WRONG_PASSWORD = 'a wrong but secret passphrase'
const BAD_TOKEN = 'wf_badTokenThatIsNotKnown000000000000000000000'

interface Line {
  msg?: string
  reqId?: string
  principal?: { kind: string; user: string; organisation: string; credential: string; tokenId?: string } | null
  req?: { method: string; url: string; route: string }
  reason?: string
  res?: { statusCode: number }
}

async function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return {
    status: response.status,
    json: response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: response.headers,
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('request logs: request id, principal, and no secret', () => {
  let server: ServerProcess
  let dir: string
  const secrets: Record<string, string> = {
    password: PASSWORD,
    wrongPassword: WRONG_PASSWORD,
    badToken: BAD_TOKEN,
    adminToken: ADMIN,
    coordinatorToken: TOKENS.coordEeA,
    metricsToken: METRICS_TOKEN,
  }
  let tokenId: string

  /** The JSON lines of the server's output (the start banner is not JSON). */
  const lines = (): Line[] =>
    server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Line)

  /** The lines of one request, once its completion line is out. */
  async function linesOf(reqId: string): Promise<Line[]> {
    const start = Date.now()
    while (!lines().some((line) => line.reqId === reqId && line.msg === 'request completed')) {
      if (Date.now() - start > 10_000) throw new Error(`no completion line for ${reqId}:\n${server.output()}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return lines().filter((line) => line.reqId === reqId)
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-logging-'))
    const file = join(dir, 'tokens.json')
    const admin = { token: ADMIN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] }
    writeFileSync(file, JSON.stringify([...PRINCIPALS, admin]))
    server = await startServerProcess({
      env: {
        WATCHFLOOR_TOKENS: file,
        WATCHFLOOR_LOG_LEVEL: 'debug',
        WATCHFLOOR_PASSWORD_COST: '10',
        WATCHFLOOR_METRICS_TOKEN: METRICS_TOKEN,
      },
    })

    // an account, signed in; an API token made with the session and used; a wrong password; a bad token
    const account = { username: 'logged-user', organisation: 'cert-ee', roles: ['coordinator'], password: PASSWORD }
    const created = await call(
      server.url,
      'POST',
      '/api/v1/accounts',
      { ...bearer(ADMIN), 'x-request-id': 'req-create' },
      account,
    )
    expect(created.status).toBe(201)
    const signedIn = await call(
      server.url,
      'POST',
      '/api/v1/session',
      { 'x-request-id': 'req-sign-in' },
      {
        username: 'logged-user',
        password: PASSWORD,
      },
    )
    expect(signedIn.status).toBe(200)
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!
    secrets.sessionCookie = cookie.split('=')[1]!
    const made = await call(
      server.url,
      'POST',
      '/api/v1/tokens',
      { cookie, 'x-request-id': 'req-make-token' },
      { label: 'cli' },
    )
    expect(made.status).toBe(201)
    secrets.apiToken = made.json.secret as string
    tokenId = (made.json.token as { id: string }).id
    expect(
      (
        await call(server.url, 'GET', '/api/v1/session', {
          ...bearer(secrets.apiToken),
          'x-request-id': 'req-token-use',
        })
      ).status,
    ).toBe(200)
    expect((await call(server.url, 'GET', '/api/v1/state', { cookie, 'x-request-id': 'req-cookie-use' })).status).toBe(
      200,
    )
    const wrong = await call(
      server.url,
      'POST',
      '/api/v1/session',
      { 'x-request-id': 'req-wrong-password' },
      {
        username: 'logged-user',
        password: WRONG_PASSWORD,
      },
    )
    expect(wrong.status).toBe(401)
    expect(
      (await call(server.url, 'GET', '/api/v1/state', { ...bearer(BAD_TOKEN), 'x-request-id': 'req-bad-token' }))
        .status,
    ).toBe(401)
    // a command logs a line of its own (debug) in the middle of the request, after the body was read
    const report = event({
      type: 'incident.reported',
      payload: {
        incidentId: 'inc-logged',
        title: 'Logged',
        severity: 'low',
        category: 'malware',
        affectedNetworks: [],
      },
    } as never)
    expect((await call(server.url, 'POST', '/api/v1/events', bearer(TOKENS.coordEeA), report)).status).toBe(201)
    const command = await call(
      server.url,
      'POST',
      '/api/v1/commands',
      { ...bearer(TOKENS.coordEeA), 'x-request-id': 'req-command' },
      { type: 'incident.acknowledge', incidentId: 'inc-logged', note: 'seen' },
    )
    expect(command.status).toBe(200)
    expect(
      (await call(server.url, 'GET', '/metrics', { ...bearer(METRICS_TOKEN), 'x-request-id': 'req-metrics' })).status,
    ).toBe(200)
    await linesOf('req-metrics')
  })

  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('echoes a well-formed X-Request-Id, and every line of its request carries it with the principal', async () => {
    const use = await linesOf('req-token-use')
    expect(use.map((line) => line.principal)).toEqual(
      use.map(() => ({ kind: 'api', user: 'logged-user', organisation: 'cert-ee', credential: 'token', tokenId })),
    )
    const completed = use.find((line) => line.msg === 'request completed')!
    expect(completed.req).toMatchObject({ method: 'GET', url: '/api/v1/session', route: '/api/v1/session' })
    expect(completed.res).toEqual({ statusCode: 200 })

    const signIn = (await linesOf('req-sign-in')).find((line) => line.msg === 'request completed')!
    expect(signIn.principal).toEqual({
      kind: 'session',
      user: 'logged-user',
      organisation: 'cert-ee',
      credential: 'session',
    })
    const cookieUse = (await linesOf('req-cookie-use')).find((line) => line.msg === 'request completed')!
    expect(cookieUse.principal).toMatchObject({ kind: 'session', user: 'logged-user', credential: 'session' })

    // a line logged in the middle of the request (after its JSON body was read) carries them too
    const command = await linesOf('req-command')
    const accepted = command.find((line) => line.msg === 'command accepted')
    expect(accepted).toBeDefined()
    for (const line of command)
      expect(line.principal).toEqual({ kind: 'api', user: 'coord-a', organisation: 'cert-ee', credential: 'static' })

    // refused requests: the id, and no principal
    for (const reqId of ['req-wrong-password', 'req-bad-token']) {
      const refused = (await linesOf(reqId)).find((line) => line.msg === 'request completed')!
      expect(refused.principal).toBeNull()
      expect(refused.res!.statusCode).toBe(401)
    }
  })

  it('every line of a socket carries its id and principal, from its messages to its revocation; its credential appears in none', async () => {
    const report = event({
      type: 'incident.reported',
      payload: {
        incidentId: 'inc-socket',
        title: 'Socket',
        severity: 'low',
        category: 'malware',
        affectedNetworks: [],
      },
    } as never)
    expect((await call(server.url, 'POST', '/api/v1/events', bearer(TOKENS.coordEeA), report)).status).toBe(201)
    const watcher = new Watcher(server.url, secrets.apiToken!)
    try {
      expect((await watcher.subscribe(0)).ok).toBe(true)
      const socketId = watcher.socket.id!
      const ack = (await watcher.socket.timeout(10_000).emitWithAck('command', {
        type: 'incident.acknowledge',
        incidentId: 'inc-socket',
        note: 'over the socket',
      })) as {
        ok: boolean
      }
      expect(ack.ok).toBe(true)
      // an admin revokes the token: the socket is cut, with a line of its own
      const revoked = new Promise((resolve) => watcher.socket.once('revoked', resolve))
      expect((await call(server.url, 'DELETE', `/api/v1/tokens/${tokenId}`, bearer(ADMIN))).status).toBe(200)
      await revoked
      const ofSocket = async () => {
        for (const start = Date.now(); Date.now() - start < 10_000; await new Promise((r) => setTimeout(r, 20))) {
          const found = lines().filter((line) => line.reqId === socketId || line.reqId?.startsWith(`${socketId}.`))
          if (found.some((line) => line.msg === 'socket access revoked')) return found
        }
        throw new Error(`no revocation line for socket ${socketId}:\n${server.output()}`)
      }
      const found = await ofSocket()
      const accepted = found.find((line) => line.msg === 'command accepted')!
      // its message's own id: the socket's, and the message's number
      expect(accepted.reqId!.startsWith(socketId)).toBe(true)
      expect(accepted.reqId!.slice(socketId.length)).toMatch(/^\.\d+$/)
      expect(found.find((line) => line.msg === 'socket access revoked')).toMatchObject({
        reqId: socketId,
        reason: 'token_revoked',
      })
      for (const line of found)
        expect(line.principal).toEqual({
          kind: 'api',
          user: 'logged-user',
          organisation: 'cert-ee',
          credential: 'token',
          tokenId,
        })
      expect(server.output()).not.toContain(secrets.apiToken)
    } finally {
      watcher.close()
    }
  })

  it('every request line carries a request id; a malformed or secret-bearing X-Request-Id is replaced', async () => {
    const echoed = await call(server.url, 'GET', '/healthz', { 'x-request-id': 'abc-123_x.y:z' })
    expect(echoed.headers.get('x-request-id')).toBe('abc-123_x.y:z')
    for (const asked of [
      'has spaces in it',
      'x'.repeat(129),
      '<script>',
      'a\u00e9b',
      TOKENS.viewerEe,
      'wf_looks-like-a-token',
    ]) {
      const reply = await call(server.url, 'GET', '/api/v1/state', {
        ...bearer(TOKENS.viewerEe),
        'x-request-id': asked,
      })
      const id = reply.headers.get('x-request-id')
      expect(id).not.toBe(asked)
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
      expect((await linesOf(id!)).length).toBeGreaterThan(0)
    }
    const none = await call(server.url, 'GET', '/api/v1/nothing-here', bearer(TOKENS.viewerEe))
    expect(none.status).toBe(404)
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(server.output()).not.toContain(TOKENS.viewerEe)
    for (const line of lines().filter((line) => line.req !== undefined)) {
      expect(line.reqId).toMatch(/.+/)
      expect(line).toHaveProperty('principal')
    }
  })

  // last: what every test before it made the server log, the socket's handshake and the revocation too
  it('no secret appears in any line of the log', () => {
    const output = server.output()
    expect(lines().length).toBeGreaterThan(10)
    for (const [name, secret] of Object.entries(secrets))
      expect({ name, found: output.includes(secret) }).toEqual({ name, found: false })
  })
})

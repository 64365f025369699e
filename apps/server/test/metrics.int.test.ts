import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  event,
  logHead,
  observations,
  PRINCIPALS,
  post,
  type ServerProcess,
  startServerProcess,
  TOKENS,
  Watcher,
} from './harness.ts'

/**
 * `GET /metrics` (docs/api.md, Operations): operator data, guarded. Real server processes, real
 * SQLite; the text format is parsed and read back.
 */
const ADMIN = 'metrics-admin-token-0123456789'
const METRICS_TOKEN = 'metrics-scrape-token-0123456789'
const PASSWORD = 'a long enough passphrase'
const CHEAP = { WATCHFLOOR_PASSWORD_COST: '10' }
const root = new URL('../../../', import.meta.url).pathname

type Json = Record<string, unknown> & { error?: { code: string; message: string } }

/** One call with a bearer token, a session cookie (`{ cookie }`) or nothing. */
async function call(
  base: string,
  method: string,
  path: string,
  credential: string | { cookie: string } | null,
  body?: unknown,
): Promise<{ status: number; json: Json; text: string; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(credential === null
        ? {}
        : typeof credential === 'string'
          ? { authorization: `Bearer ${credential}` }
          : credential),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  let json: Json = {}
  if (response.headers.get('content-type')?.includes('json')) json = JSON.parse(text) as Json
  return { status: response.status, json, text, headers: response.headers }
}

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The samples of a Prometheus text exposition (0.0.4). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/)
    if (!match) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    samples.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return samples
}

/** The value of one sample (0 when absent): the metric by name and every given label. */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )
  return found.reduce((total, sample) => total + sample.value, 0)
}

async function scrape(base: string, credential: string | { cookie: string }): Promise<Sample[]> {
  const reply = await call(base, 'GET', '/metrics', credential)
  expect(reply.status).toBe(200)
  return parseMetrics(reply.text)
}

async function signIn(base: string, username: string, password: string): Promise<{ status: number; cookie: string }> {
  const response = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  await response.text()
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0]!
  return { status: response.status, cookie }
}

const until = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) => {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const started: ServerProcess[] = []
const dirs: string[] = []

/** A server with the harness principals plus a static admin. */
async function startWithAdmin(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-metrics-'))
  dirs.push(dir)
  const file = join(dir, 'tokens.json')
  const admin = { token: ADMIN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] }
  writeFileSync(file, JSON.stringify([...PRINCIPALS, admin]))
  const server = await startServerProcess({ env: { ...CHEAP, WATCHFLOOR_TOKENS: file, ...env } })
  started.push(server)
  return server
}

afterAll(async () => {
  for (const server of started) await server.stop()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('GET /metrics without WATCHFLOOR_METRICS_TOKEN: signed-in admins only', () => {
  let server: ServerProcess
  let adminCookie: string
  let adminApiToken: string
  let displayToken: string

  beforeAll(async () => {
    server = await startWithAdmin()
    for (const account of [
      { username: 'ops-admin', organisation: 'alliance', roles: ['admin'] },
      { username: 'analyst-ee', organisation: 'cert-ee', roles: ['analyst'] },
    ])
      expect(
        (await call(server.url, 'POST', '/api/v1/accounts', ADMIN, { ...account, password: PASSWORD })).status,
      ).toBe(201)
    const signedIn = await signIn(server.url, 'ops-admin', PASSWORD)
    expect(signedIn.status).toBe(200)
    adminCookie = signedIn.cookie
    const made = await call(server.url, 'POST', '/api/v1/tokens', { cookie: adminCookie }, { label: 'scraper' })
    expect(made.status).toBe(201)
    adminApiToken = made.json.secret as string
    const display = await call(server.url, 'POST', '/api/v1/tokens', ADMIN, {
      label: 'wall',
      kind: 'display',
      owner: 'ops-admin',
      preset: 'overview',
    })
    expect(display.status).toBe(201)
    displayToken = display.json.secret as string
  })

  it('answers an admin by session cookie, API token and static token, in the text format', async () => {
    for (const credential of [{ cookie: adminCookie }, adminApiToken, ADMIN]) {
      const reply = await call(server.url, 'GET', '/metrics', credential)
      expect(reply.status).toBe(200)
      expect(reply.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
      expect(reply.headers.get('cache-control')).toBe('no-store')
      const samples = parseMetrics(reply.text)
      // prom-client's process metrics beside ours
      expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0)
      expect(samples.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds')).toBe(true)
    }
  })

  it('refuses everyone else with a JSON error: 401 without or with a bad credential, 403 for a non-admin', async () => {
    const signedIn = await signIn(server.url, 'analyst-ee', PASSWORD)
    const refusals: [string | { cookie: string } | null, number, string][] = [
      [null, 401, 'unauthenticated'],
      ['wf_not-a-token-at-all-0000000000000000000000000', 401, 'unauthenticated'],
      ['Basic-looking token', 401, 'unauthenticated'],
      [{ cookie: 'watchfloor_session=ended-or-never-was' }, 401, 'unauthenticated'],
      [METRICS_TOKEN, 401, 'unauthenticated'], // no metrics token is set on this server
      [TOKENS.watchOfficer, 403, 'forbidden'],
      [TOKENS.coordEeA, 403, 'forbidden'],
      [{ cookie: signedIn.cookie }, 403, 'forbidden'],
      [displayToken, 403, 'forbidden'], // a wall's token, even an admin's, is no admin
    ]
    for (const [credential, status, code] of refusals) {
      const reply = await call(server.url, 'GET', '/metrics', credential)
      expect({ credential, status: reply.status }).toEqual({ credential, status })
      expect(reply.json.error?.code).toBe(code)
      expect(reply.text).not.toContain('watchfloor_')
    }
  })

  it('counts appended events, appends, commands and the head after N events and a command', async () => {
    const before = await scrape(server.url, ADMIN)
    const N = 37
    const report = event({
      type: 'incident.reported',
      payload: {
        incidentId: 'inc-metrics',
        title: 'Metrics',
        severity: 'medium',
        category: 'malware',
        affectedNetworks: [],
      },
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, report)).status).toBe(201)
    expect((await post(server.url, TOKENS.sensorEe, { events: observations(N - 10) })).status).toBe(201)
    for (const one of observations(9)) expect((await post(server.url, TOKENS.sensorEe, one)).status).toBe(201)
    // a duplicate is no new event
    expect((await post(server.url, TOKENS.sensorEe, report)).status).toBe(200)
    const accepted = await call(server.url, 'POST', '/api/v1/commands', TOKENS.coordEeA, {
      type: 'incident.acknowledge',
      incidentId: 'inc-metrics',
    })
    expect(accepted.status).toBe(200)
    const missing = await call(server.url, 'POST', '/api/v1/commands', TOKENS.coordEeA, {
      type: 'incident.acknowledge',
      incidentId: 'no-such-incident',
    })
    expect(missing.status).toBe(404)
    const forbidden = await call(server.url, 'POST', '/api/v1/commands', TOKENS.sensorEe, {
      type: 'incident.escalate',
      incidentId: 'inc-metrics',
      severity: 'high',
      reason: 'sensors cannot',
    })
    expect(forbidden.status).toBe(403)
    expect((await call(server.url, 'POST', '/api/v1/commands', TOKENS.coordEeA, { type: 'no.such' })).status).toBe(400)

    const after = await scrape(server.url, ADMIN)
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels)
    // N events (the report and N - 1 observations) and the command's one event; the duplicate not
    expect(delta('watchfloor_events_appended_total')).toBe(N + 1)
    // one append per request: 1 report, 1 batch, 9 single events, the duplicate, the command
    expect(delta('watchfloor_append_duration_seconds_count')).toBe(13)
    expect(delta('watchfloor_commands_total', { type: 'incident.acknowledge', outcome: 'accepted' })).toBe(1)
    expect(delta('watchfloor_commands_total', { type: 'incident.acknowledge', outcome: 'not_found' })).toBe(1)
    expect(delta('watchfloor_commands_total', { type: 'incident.escalate', outcome: 'forbidden' })).toBe(1)
    expect(delta('watchfloor_commands_total', { type: 'unknown', outcome: 'validation' })).toBe(1)
    expect(sampleValue(after, 'watchfloor_store_head')).toBe(await logHead(server))
    expect(sampleValue(after, 'watchfloor_store_head')).toBe(sampleValue(before, 'watchfloor_store_head') + N + 1)
    // and the HTTP requests, by route pattern and status
    expect(delta('watchfloor_http_request_duration_seconds_count', { route: '/api/v1/events', status: '201' })).toBe(11)
    expect(delta('watchfloor_http_request_duration_seconds_count', { route: '/api/v1/events', status: '200' })).toBe(1)
    expect(delta('watchfloor_http_request_duration_seconds_count', { route: '/api/v1/commands', status: '404' })).toBe(
      1,
    )
  })

  it('labels requests with the route pattern, never the URL with its ids', async () => {
    const made = await call(server.url, 'POST', '/api/v1/tokens', ADMIN, { label: 'short-lived', owner: 'ops-admin' })
    const id = (made.json.token as { id: string }).id
    expect((await call(server.url, 'DELETE', `/api/v1/tokens/${id}`, ADMIN)).status).toBe(200)
    expect((await call(server.url, 'DELETE', '/api/v1/tokens/not-a-token-id-4711', ADMIN)).status).toBe(404)
    expect((await call(server.url, 'PATCH', '/api/v1/accounts/analyst-ee', ADMIN, { displayName: 'A' })).status).toBe(
      200,
    )
    expect((await call(server.url, 'GET', '/api/v1/wall/presets/overview', TOKENS.viewerEe)).status).toBe(200)
    expect((await call(server.url, 'GET', '/api/v1/no-such-route/secret-id-0815', TOKENS.viewerEe)).status).toBe(404)
    // routing ignores case: so does the label
    expect((await call(server.url, 'GET', '/API/V1/state', TOKENS.viewerEe)).status).toBe(200)
    const reply = await call(server.url, 'GET', '/metrics', ADMIN)
    const samples = parseMetrics(reply.text)
    const count = (labels: Record<string, string>) =>
      sampleValue(samples, 'watchfloor_http_request_duration_seconds_count', labels)
    expect(count({ method: 'DELETE', route: '/api/v1/tokens/:id', status: '200' })).toBe(1)
    expect(count({ method: 'DELETE', route: '/api/v1/tokens/:id', status: '404' })).toBe(1)
    expect(count({ method: 'PATCH', route: '/api/v1/accounts/:username', status: '200' })).toBe(1)
    expect(count({ method: 'GET', route: '/api/v1/wall/presets/:name', status: '200' })).toBe(1)
    expect(count({ method: 'GET', route: '/api/v1/state', status: '200' })).toBeGreaterThanOrEqual(1)
    expect(count({ method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1)
    for (const raw of [id, 'not-a-token-id-4711', 'analyst-ee', 'secret-id-0815', '/API/V1', 'overview'])
      expect(reply.text).not.toContain(raw)
    const routes = new Set(
      samples.filter((s) => s.name === 'watchfloor_http_request_duration_seconds_count').map((s) => s.labels.route),
    )
    for (const route of routes) expect(route).toMatch(/^(unmatched|static|(\/[a-z0-9._{}*:-]*)+)$/)
  })

  it('counts sockets by kind, catch-up pages, fan-out lag, access_changed resyncs and sign-in refusals', async () => {
    const before = await scrape(server.url, ADMIN)
    const delta = (after: Sample[], name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels)
    const api = new Watcher(server.url, TOKENS.viewerEe)
    const wall = new Watcher(server.url, displayToken)
    const browser = new Watcher(server.url, { cookie: adminCookie })
    try {
      for (const watcher of [api, wall, browser]) expect((await watcher.subscribe(0)).ok).toBe(true)
      const live = await scrape(server.url, ADMIN)
      expect(sampleValue(live, 'watchfloor_sockets', { kind: 'api' })).toBe(1)
      expect(sampleValue(live, 'watchfloor_sockets', { kind: 'display' })).toBe(1)
      expect(sampleValue(live, 'watchfloor_sockets', { kind: 'session' })).toBe(1)
      // each catch-up from 0 read at least one page of a log that is not empty
      expect(delta(live, 'watchfloor_catchup_pages_total')).toBeGreaterThanOrEqual(3)

      const fresh = observations(5)
      expect((await post(server.url, TOKENS.sensorEe, { events: fresh })).status).toBe(201)
      await api.waitFor(() => fresh.every((e) => api.events.some((got) => got.id === e.id)))
      const fannedOut = await scrape(server.url, ADMIN)
      expect(delta(fannedOut, 'watchfloor_fanout_lag_seconds_count')).toBeGreaterThanOrEqual(5)

      // cert-ee joins a community: its live socket is told to resync [V10]
      const resyncs: string[] = []
      api.socket.on('resync', ({ reason }) => resyncs.push(reason))
      const community = { id: 'metrics-community', name: 'Metrics', members: ['cert-ee'] }
      expect((await call(server.url, 'POST', '/api/v1/directory/communities', ADMIN, community)).status).toBe(201)
      await until(() => resyncs.includes('access_changed'), 'the resync')
      await until(
        async () =>
          delta(await scrape(server.url, ADMIN), 'watchfloor_resyncs_total', { reason: 'access_changed' }) === 1,
        'the resync counted',
      )
    } finally {
      for (const watcher of [api, wall, browser]) watcher.close()
    }
    await until(
      async () => sampleValue(await scrape(server.url, ADMIN), 'watchfloor_sockets', { kind: 'api' }) === 0,
      'the sockets gone',
    )

    expect((await signIn(server.url, 'ops-admin', 'not the password at all')).status).toBe(401)
    expect(
      (await call(server.url, 'GET', '/api/v1/state', 'wf_unknown-token-000000000000000000000000000')).status,
    ).toBe(401)
    const revoked = await call(server.url, 'POST', '/api/v1/tokens', ADMIN, {
      label: 'soon revoked',
      owner: 'ops-admin',
    })
    const revokedId = (revoked.json.token as { id: string }).id
    expect((await call(server.url, 'DELETE', `/api/v1/tokens/${revokedId}`, ADMIN)).status).toBe(200)
    expect((await call(server.url, 'GET', '/api/v1/state', revoked.json.secret as string)).status).toBe(401)
    expect((await call(server.url, 'GET', '/api/v1/state', { cookie: 'watchfloor_session=nope' })).status).toBe(401)
    const refused = await scrape(server.url, ADMIN)
    expect(delta(refused, 'watchfloor_signin_refusals_total', { reason: 'wrong_password' })).toBe(1)
    expect(delta(refused, 'watchfloor_signin_refusals_total', { reason: 'unknown_token' })).toBe(1)
    expect(delta(refused, 'watchfloor_signin_refusals_total', { reason: 'token_revoked' })).toBe(1)
    expect(delta(refused, 'watchfloor_signin_refusals_total', { reason: 'session_ended' })).toBe(1)
  })

  it('documents every metric it serves (docs/api.md)', async () => {
    const reply = await call(server.url, 'GET', '/metrics', ADMIN)
    const docs = readFileSync(join(root, 'docs/api.md'), 'utf8')
    const ours = [...reply.text.matchAll(/^# TYPE (watchfloor_\S+) /gm)].map((match) => match[1]!)
    expect(ours.length).toBeGreaterThanOrEqual(11)
    for (const name of ours)
      expect({ name, documented: docs.includes(`\`${name}\``) }).toEqual({ name, documented: true })
  })
})

describe('GET /metrics with WATCHFLOOR_METRICS_TOKEN: that token only', () => {
  let server: ServerProcess

  beforeAll(async () => {
    server = await startWithAdmin({ WATCHFLOOR_METRICS_TOKEN: METRICS_TOKEN })
  })

  it('answers the metrics token, and no one else (admins included), with a JSON 401', async () => {
    const reply = await call(server.url, 'GET', '/metrics', METRICS_TOKEN)
    expect(reply.status).toBe(200)
    expect(sampleValue(parseMetrics(reply.text), 'watchfloor_store_head')).toBe(0)
    for (const credential of [null, ADMIN, TOKENS.viewerEe, `${METRICS_TOKEN}x`, METRICS_TOKEN.slice(0, -1)]) {
      const refused = await call(server.url, 'GET', '/metrics', credential)
      expect({ credential, status: refused.status }).toEqual({ credential, status: 401 })
      expect(refused.json.error?.code).toBe('unauthenticated')
      expect(refused.text).not.toContain('watchfloor_')
    }
  })
})

describe('the console in the metrics', () => {
  it('labels its page, its own paths (/wall, deep links) and its files `static`; a missing asset is `unmatched`', async () => {
    const consoleDir = mkdtempSync(join(tmpdir(), 'watchfloor-metrics-console-'))
    dirs.push(consoleDir)
    mkdirSync(join(consoleDir, 'assets'))
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>Watchfloor</title>\n')
    writeFileSync(join(consoleDir, 'assets', 'index-3f9a1c.js'), 'console.log("watchfloor")\n')
    const server = await startWithAdmin({ WATCHFLOOR_CONSOLE_DIR: consoleDir, WATCHFLOOR_LOG_LEVEL: 'info' })
    for (const path of ['/', '/index.html', '/wall', '/incident/inc-4711', '/assets/index-3f9a1c.js'])
      expect((await call(server.url, 'GET', path, null)).status, path).toBe(200)
    expect((await call(server.url, 'GET', '/assets/index-0ld.js', null)).status).toBe(404)
    const samples = await scrape(server.url, ADMIN)
    const count = (labels: Record<string, string>) =>
      sampleValue(samples, 'watchfloor_http_request_duration_seconds_count', labels)
    expect(count({ method: 'GET', route: 'static', status: '200' })).toBe(5)
    expect(count({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1)
    const routes = samples
      .filter((s) => s.name === 'watchfloor_http_request_duration_seconds_count')
      .map((s) => s.labels.route)
    expect(routes.filter((route) => route?.includes('splat'))).toEqual([])
    // and the request log says the same
    const logged = server
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"request completed"'))
      .map((line) => JSON.parse(line) as { req: { url: string; route: string } })
    for (const path of ['/wall', '/incident/inc-4711'])
      expect(logged.find((line) => line.req.url === path)?.req.route, path).toBe('static')
    expect(server.output()).not.toContain('splat')
  })
})

describe('WATCHFLOOR_METRICS_TOKEN', () => {
  it('stops the server at start when it is shorter than 16 characters, without printing it', async () => {
    const failed = await startWithAdmin({ WATCHFLOOR_METRICS_TOKEN: 'short-secret' }).then(
      () => new Error('the server started'),
      (error: Error) => error,
    )
    expect(failed.message).toContain('WATCHFLOOR_METRICS_TOKEN must be at least 16 characters')
    expect(failed.message).not.toContain('short-secret')
  })
})

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import helmet, { strictTransportSecurity } from 'helmet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY, securityHeaders } from '../src/http/app.ts'
import { type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

/** The directives every response's Content-Security-Policy must have (docs/security.md). */
const REQUIRED_DIRECTIVES: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'worker-src': ["'self'", 'blob:'],
  'img-src': ["'self'", 'data:', 'blob:'],
  'connect-src': ["'self'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'object-src': ["'none'"],
}

function directives(csp: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const part of csp.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/)
    if (name) out.set(name.toLowerCase(), sources)
  }
  return out
}

/** The security headers every response carries, whatever it is (page, API, health, error). */
function expectSecurityHeaders(response: Response, what: string): void {
  const csp = response.headers.get('content-security-policy')
  expect(csp, `${what}: Content-Security-Policy`).toBeTruthy()
  const parsed = directives(csp!)
  for (const [name, sources] of Object.entries(REQUIRED_DIRECTIVES))
    expect(parsed.get(name), `${what}: CSP ${name}`).toEqual(expect.arrayContaining(sources))
  // plain HTTP on loopback must keep working: no upgrade to https, no unsafe script sources
  expect(parsed.has('upgrade-insecure-requests'), `${what}: upgrade-insecure-requests`).toBe(false)
  expect(parsed.get('script-src'), `${what}: script-src`).toEqual(["'self'"])
  expect(response.headers.get('x-content-type-options'), `${what}: nosniff`).toBe('nosniff')
  expect(response.headers.get('referrer-policy'), `${what}: Referrer-Policy`).toBe('no-referrer')
  expect(response.headers.get('x-frame-options'), `${what}: X-Frame-Options`).toBe('DENY')
  expect(response.headers.get('cross-origin-opener-policy'), `${what}: COOP`).toBe('same-origin')
  // HSTS only over HTTPS (browsers ignore it on plain HTTP; sent there it only confuses)
  expect(response.headers.get('strict-transport-security'), `${what}: HSTS on plain HTTP`).toBeNull()
  expect(response.headers.get('x-powered-by'), `${what}: X-Powered-By`).toBeNull()
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })

describe('security headers', () => {
  let dir: string
  let built: ServerProcess
  let unbuilt: ServerProcess

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-headers-'))
    // a stand-in for the built console (the harness must not depend on apps/console/dist)
    const consoleDir = join(dir, 'console')
    mkdirSync(join(consoleDir, 'assets'), { recursive: true })
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>Watchfloor</title><div id="root"></div>\n')
    writeFileSync(join(consoleDir, 'assets', 'app.js'), 'console.log("watchfloor")\n')
    const emptyDir = join(dir, 'empty')
    mkdirSync(emptyDir)
    ;[built, unbuilt] = await Promise.all([
      startServerProcess({ env: { WATCHFLOOR_CONSOLE_DIR: consoleDir } }),
      startServerProcess({ env: { WATCHFLOOR_CONSOLE_DIR: emptyDir } }),
    ])
  })

  afterAll(async () => {
    await Promise.all([built?.stop(), unbuilt?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  it('the console page and the wall carry them (built console)', async () => {
    for (const path of ['/', '/wall', '/wall?preset=critical', '/index.html']) {
      const response = await fetch(`${built.url}${path}`)
      expect(response.status, path).toBe(200)
      expect(response.headers.get('content-type'), path).toMatch(/^text\/html/)
      expectSecurityHeaders(response, path)
    }
    // static assets too, and they stay cacheable (no-store is for the API only)
    const asset = await fetch(`${built.url}/assets/app.js`)
    expect(asset.status).toBe(200)
    expectSecurityHeaders(asset, '/assets/app.js')
    expect(asset.headers.get('cache-control')).toMatch(/max-age=31536000/)
  })

  it('the console page is revalidated on every load, its hashed assets kept, a missing asset a 404 (an upgrade)', async () => {
    // the page, by any of its paths: the root, its file, the console's own paths (deep links)
    for (const path of ['/', '/index.html', '/wall', '/wall?preset=critical', '/incident/inc-1', '/a/b/c']) {
      const response = await fetch(`${built.url}${path}`)
      expect(response.status, path).toBe(200)
      expect(response.headers.get('content-type'), path).toMatch(/^text\/html/)
      expect(response.headers.get('cache-control'), path).toBe('no-cache')
    }
    // asked again with what the browser kept: unchanged, a 304 (node:http: fetch adds no-cache to a conditional request)
    for (const path of ['/', '/wall']) {
      const modified = (await fetch(`${built.url}${path}`)).headers.get('last-modified')
      expect(modified, path).toBeTruthy()
      const status = await new Promise<number | undefined>((resolve, reject) =>
        get(`${built.url}${path}`, { headers: { 'if-modified-since': modified! } }, (res) => {
          res.resume()
          resolve(res.statusCode)
        }).on('error', reject),
      )
      expect(status, path).toBe(304)
    }
    // an asset's name is its content's (vite's hash): kept for a year, never asked again
    const asset = await fetch(`${built.url}/assets/app.js`)
    expect(asset.status).toBe(200)
    expect(asset.headers.get('content-type')).toMatch(/javascript/)
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    // one a page of an older build asks for after an upgrade: not there, and not the page in its place
    for (const path of ['/assets/index-0ld.js', '/assets/gone/deeper.css', '/assets/', '/assets']) {
      const missing = await fetch(`${built.url}${path}`)
      expect(missing.status, path).toBe(404)
      expect(missing.headers.get('content-type'), path).toMatch(/^application\/json/)
      expect(((await missing.json()) as { error: { code: string } }).error.code, path).toBe('not_found')
      expectSecurityHeaders(missing, path)
    }
  })

  it('the "console not built" page and its 404s carry them', async () => {
    const page = await fetch(`${unbuilt.url}/`)
    expect(page.status).toBe(503)
    // and the operator was told at start, naming the folder
    expect(unbuilt.output()).toContain(`no console in ${join(dir, 'empty')} (no index.html)`)
    expect(built.output()).not.toContain('no console in')
    expectSecurityHeaders(page, '/ (not built)')
    const wall = await fetch(`${unbuilt.url}/wall`)
    expect(wall.status).toBe(404)
    expectSecurityHeaders(wall, '/wall (not built)')
  })

  it('health, readiness and errors outside the API carry them', async () => {
    for (const path of ['/healthz', '/readyz']) expectSecurityHeaders(await fetch(`${built.url}${path}`), path)
    const missing = await fetch(`${built.url}/no-such-thing`, { method: 'POST' })
    expect(missing.status).toBe(404)
    expectSecurityHeaders(missing, 'POST /no-such-thing')
  })

  it('every /api/v1 response carries them and Cache-Control: no-store', async () => {
    const cases: [string, RequestInit, number][] = [
      ['/api/v1/state', bearer(TOKENS.viewerEe), 200],
      ['/api/v1/state?at=2026-11-26T08:00:00Z', bearer(TOKENS.viewerEe), 200],
      ['/api/v1/events', bearer(TOKENS.viewerEe), 200],
      ['/api/v1/export?format=csv', bearer(TOKENS.viewerEe), 200],
      ['/api/v1/handover', bearer(TOKENS.viewerEe), 200],
      ['/api/v1/session', bearer(TOKENS.viewerEe), 200],
      ['/api/v1/wall/presets', bearer(TOKENS.viewerEe), 200],
      ['/api/v1/wall/presets/overview', bearer(TOKENS.viewerEe), 200],
      ['/api/v1/tokens', bearer(TOKENS.viewerEe), 200],
      // errors: no caller, an unknown route, a bad query
      ['/api/v1/state', {}, 401],
      ['/api/v1/no-such-route', bearer(TOKENS.viewerEe), 404],
      ['/api/v1/events?limit=nope', bearer(TOKENS.viewerEe), 400],
    ]
    for (const [path, init, status] of cases) {
      const response = await fetch(`${built.url}${path}`, init)
      await response.arrayBuffer()
      expect(response.status, path).toBe(status)
      expectSecurityHeaders(response, path)
      expect(response.headers.get('cache-control'), `${path}: Cache-Control`).toBe('no-store')
    }
  })

  it('sends HSTS (helmet default) only when the request came over HTTPS', async () => {
    const app = express()
    app.set('trust proxy', 'loopback') // stands in for a TLS-terminating proxy
    app.use(securityHeaders())
    app.get('/', (_req, res) => {
      res.send('ok')
    })
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
      const plain = await fetch(url)
      expectSecurityHeaders(plain, 'plain http')
      const secure = await fetch(url, { headers: { 'x-forwarded-proto': 'https' } })
      expect(secure.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
      expect(secure.headers.get('content-security-policy')).toBe(plain.headers.get('content-security-policy'))
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('are exactly what helmet itself sets, on plain and HTTPS requests (set once, not by helmet per request)', async () => {
    // the reference: helmet's middlewares run on every request, as the server did before
    const reference = express.Router()
    reference.use(
      helmet({
        contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
        referrerPolicy: { policy: 'no-referrer' },
        xFrameOptions: { action: 'deny' },
        strictTransportSecurity: false,
      }),
    )
    const hsts = strictTransportSecurity()
    reference.use((req, res, next) => (req.secure ? hsts(req, res, next) : next()))
    const app = express()
    app.set('trust proxy', 'loopback')
    app.get('/ours', securityHeaders(), (_req, res) => {
      res.send('ok')
    })
    app.get('/helmet', reference, (_req, res) => {
      res.send('ok')
    })
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const security = async (path: string, init?: RequestInit) => {
        const response = await fetch(`${base}${path}`, init)
        await response.arrayBuffer()
        // what the middlewares set: everything but what Node and Express add to any response
        const ignored = new Set([
          'date',
          'connection',
          'keep-alive',
          'content-length',
          'content-type',
          'etag',
          'x-powered-by',
        ])
        return [...response.headers].filter(([name]) => !ignored.has(name)).sort()
      }
      const https = { headers: { 'x-forwarded-proto': 'https' } }
      const plain = await security('/helmet')
      expect(plain.length).toBeGreaterThanOrEqual(10)
      expect(await security('/ours')).toEqual(plain)
      const secure = await security('/helmet', https)
      expect(secure.map(([name]) => name)).toContain('strict-transport-security')
      expect(await security('/ours', https)).toEqual(secure)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

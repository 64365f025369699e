import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoredEvent } from '@watchfloor/protocol'
import { SqliteCredentialStore, SqliteEventStore } from '@watchfloor/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_PAGES_PER_POLL } from '../src/feeds/poller.ts'
import { event, post, type ServerProcess, startServerProcess, TOKENS, tokensWithAdmin } from './harness.ts'

const ADMIN = 'feeds-admin-token-0123456789'

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } }
interface FeedReply extends Json {
  feed: {
    id: string
    auth: Record<string, unknown>
    state: {
      cursor: string | null
      lastSuccessAt: string | null
      lastError: string | null
      consecutiveFailures: number
      objectsImported: number
      eventsStored: number
      nextPollAt: string | null
    } | null
  }
}

/** A poll's outcome (`POST /api/v1/feeds/:id/poll`). */
interface Outcome {
  objects: number
  imported: number
  stored: number
  refused: number
  skipped: number
  pages: number
  reasons: { kind: 'skipped' | 'refused'; reason: string; count: number; first?: string }[]
}

async function call<T = Json>(base: string, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as T }
}

const until = async (check: () => Promise<boolean>, what: string, timeoutMs = 15_000) => {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Every event of a server's log, read from its SQLite file (what no response would tell). */
async function wholeLog(server: ServerProcess): Promise<StoredEvent[]> {
  const store = new SqliteEventStore({ file: join(server.dataDir, 'events.sqlite') })
  try {
    return await store.readAfter(0, 100_000)
  } finally {
    await store.close()
  }
}

describe('partner feeds: one instance pulls another over TAXII 2.1, and nothing beyond what it was shared leaks', () => {
  let partner: ServerProcess
  let floor: ServerProcess
  let dir: string
  const titles = {
    open: 'Shared with everyone',
    latvia: 'Shared with Latvia',
    home: 'Kept at home (AMBER+STRICT)',
    red: 'RED for one person',
    dutch: 'Shared with the Netherlands only',
    redToUs: 'RED to janis and kadri, at the partner',
    wider: 'Shared with Latvia and the Netherlands',
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-feeds-'))
    const tokens = tokensWithAdmin(dir, ADMIN)
    partner = await startServerProcess({ env: { WATCHFLOOR_TOKENS: tokens } })
    // the floor reads the partner with a token the partner gave cert-lv (janis's, here)
    floor = await startServerProcess({
      env: { WATCHFLOOR_TOKENS: tokens, WATCHFLOOR_FEED_TICK_MS: '200', WATCHFLOOR_FEED_PARTNER: TOKENS.viewerLv },
    })
    const reported = (id: string, title: string, marking: Record<string, unknown>) => [
      event({
        type: 'incident.reported',
        payload: { incidentId: id, title, severity: 'high', category: 'malware', affectedNetworks: [] },
        marking,
      } as never),
      event({
        type: 'incident.observation',
        payload: { incidentId: id, indicator: `${id}.example`, count: 2 },
        marking,
      } as never),
    ]
    // hidden and shared mixed, so a poll must read past what it may not see
    const events = [
      ...reported('p-home', titles.home, { tlp: 'AMBER+STRICT' }),
      ...reported('p-open', titles.open, { tlp: 'GREEN' }),
      ...reported('p-red', titles.red, { tlp: 'RED', recipients: ['kadri'] }),
      ...reported('p-lv', titles.latvia, { tlp: 'AMBER', releasableTo: ['cert-lv'], pap: 'AMBER' }),
      ...reported('p-nl', titles.dutch, { tlp: 'AMBER', releasableTo: ['NL'] }),
      // served to the token's holder (janis is a recipient); its recipients are the partner's users
      ...reported('p-red-lv', titles.redToUs, { tlp: 'RED', recipients: ['janis', 'kadri'] }),
      // released to cert-lv among others: what the partner's other names mean here is unknown
      ...reported('p-lv-nl', titles.wider, { tlp: 'AMBER', releasableTo: ['cert-lv', 'NL'] }),
    ]
    expect((await post(partner.url, TOKENS.sensorEe, { events })).status).toBe(201)
  })
  afterAll(async () => {
    await Promise.all([partner?.stop(), floor?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  it('an admin registers the feed; it is polled by itself; the floor shows what was shared, markings kept, nothing else', async () => {
    const registered = await call<FeedReply>(floor.url, 'POST', '/api/v1/feeds', ADMIN, {
      id: 'partner',
      label: 'Partner CERT over TAXII',
      url: partner.url,
      apiRoot: '/taxii2/api/',
      collectionId: 'all',
      // the organisation the partner gave the token to
      organisation: 'cert-lv',
      auth: { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_PARTNER' },
      pollSeconds: 10,
      defaultTlp: 'AMBER',
    })
    expect(registered.status, JSON.stringify(registered.json)).toBe(201)
    // the secret is never stored nor shown: only the variable's name
    expect(registered.json.feed.auth).toEqual({ kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_PARTNER' })

    const titlesOn = async (token: string) =>
      (
        await call<{ incidents: { title: string; marking: Record<string, unknown> }[] }>(
          floor.url,
          'GET',
          '/api/v1/state',
          token,
        )
      ).json.incidents
    await until(async () => (await titlesOn(TOKENS.viewerLv)).length >= 3, 'the feed to be polled')
    const seen = await titlesOn(TOKENS.viewerLv)
    expect(seen.map((i) => i.title).sort()).toEqual([titles.latvia, titles.open, titles.wider].sort())
    expect(seen.find((i) => i.title === titles.latvia)?.marking).toEqual({
      tlp: 'AMBER',
      releasableTo: ['cert-lv'],
      pap: 'AMBER',
    })
    // released to cert-lv and NL at the partner: here, to cert-lv only (never wider than the partner said)
    expect(seen.find((i) => i.title === titles.wider)?.marking).toEqual({ tlp: 'AMBER', releasableTo: ['cert-lv'] })
    // on the floor, the markings work as on the partner: what was released to Latvia stays there,
    // the others see the open one only (kadri is no recipient of the partner's RED here)
    expect((await titlesOn(TOKENS.viewerEe)).map((i) => i.title)).toEqual([titles.open])
    expect((await titlesOn(TOKENS.viewerNl)).map((i) => i.title)).toEqual([titles.open])

    // nothing the partner kept from cert-lv is anywhere in the floor's log, nor any RED
    const log = JSON.stringify(await wholeLog(floor))
    for (const hidden of [titles.home, titles.red, titles.dutch, titles.redToUs, 'p-home', 'p-red', 'p-nl'])
      expect(log, hidden).not.toContain(hidden)
    expect((await wholeLog(floor)).filter((e) => e.marking.tlp === 'RED')).toEqual([])
    expect((await wholeLog(floor)).filter((e) => e.marking.releasableTo?.some((id) => id !== 'cert-lv'))).toEqual([])

    // the scheduled poll's skips are not thrown away: logged at warn, with their reasons
    const warned = () =>
      floor
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { feed?: string; skipped?: number; reasons?: { reason: string }[] })
        .filter((line) => line.feed === 'partner' && line.reasons !== undefined)
    await until(async () => warned().length > 0, "the poll's skips to be logged")
    const [logged] = warned()
    expect(logged!.skipped).toBeGreaterThanOrEqual(2)
    expect(logged!.reasons!.map((r) => r.reason)).toContainEqual(expect.stringContaining('a feed never imports RED'))

    // its state says so; polling again brings nothing new
    const state = (await call<FeedReply>(floor.url, 'GET', '/api/v1/feeds/partner', ADMIN)).json.feed.state!
    expect(state.lastError).toBeNull()
    expect(state.lastSuccessAt).not.toBeNull()
    expect(state.eventsStored).toBeGreaterThanOrEqual(6)
    // the objects that became events the log took: no more than the events they made
    expect(state.objectsImported).toBeGreaterThanOrEqual(3)
    expect(state.objectsImported).toBeLessThanOrEqual(state.eventsStored)
    const before = (await wholeLog(floor)).length
    const again = await call<{ outcome: { stored: number } }>(floor.url, 'POST', '/api/v1/feeds/partner/poll', ADMIN)
    expect(again.status).toBe(200)
    expect(again.json.outcome.stored).toBe(0)
    expect((await wholeLog(floor)).length).toBe(before)

    // new events on the partner arrive at the next poll
    const later = event({
      type: 'incident.reported',
      payload: {
        incidentId: 'p-later',
        title: 'Shared later',
        severity: 'low',
        category: 'other',
        affectedNetworks: [],
      },
      marking: { tlp: 'GREEN' },
    } as never)
    expect((await post(partner.url, TOKENS.sensorEe, { events: [later] })).status).toBe(201)
    const next = await call<{ outcome: { stored: number } }>(floor.url, 'POST', '/api/v1/feeds/partner/poll', ADMIN)
    expect(next.json.outcome.stored).toBeGreaterThanOrEqual(1)
    expect((await titlesOn(TOKENS.viewerNl)).map((i) => i.title).sort()).toEqual([titles.open, 'Shared later'].sort())
  })

  it('polled now, a feed answers what it skipped and refused, and why; it counts as imported only what entered the log', async () => {
    // a second feed of the same organisation reads the same objects: the partner's Watchfloor ids are
    // each feed's own, so it makes its own copies of what names them, and touches nothing of the first's
    const registered = await call<FeedReply>(floor.url, 'POST', '/api/v1/feeds', ADMIN, {
      id: 'partner-again',
      label: 'The same partner, again',
      url: partner.url,
      apiRoot: '/taxii2/api/',
      collectionId: 'all',
      organisation: 'cert-lv',
      auth: { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_PARTNER' },
      pollSeconds: 3600,
      enabled: false,
    })
    expect(registered.status).toBe(201)
    const polled = await call<{ outcome: Outcome; feed: FeedReply['feed'] }>(
      floor.url,
      'POST',
      '/api/v1/feeds/partner-again/poll',
      ADMIN,
    )
    expect(polled.status, JSON.stringify(polled.json)).toBe(200)
    const { outcome } = polled.json
    expect(outcome.objects).toBeGreaterThan(0)
    const mine = (await wholeLog(floor)).filter((e) => e.actor?.user === 'feed:partner-again')
    expect(mine.length).toBe(outcome.stored)
    expect(mine.length).toBeGreaterThan(0)
    for (const e of mine) {
      const { incidentId } = e.payload as { incidentId?: string }
      if (incidentId !== undefined) expect(incidentId).toMatch(/@feed:partner-again$/)
    }
    expect(polled.json.feed.state!.objectsImported).toBe(outcome.imported)
    // polled again: the same ids, nothing new, nothing counted as imported
    const again = await call<{ outcome: Outcome; feed: FeedReply['feed'] }>(
      floor.url,
      'POST',
      '/api/v1/feeds/partner-again/poll',
      ADMIN,
    )
    expect(again.json.outcome).toMatchObject({ imported: 0, stored: 0 })
    expect(again.json.feed.state!.objectsImported).toBe(outcome.imported)
    // the partner's RED report and its observation: skipped, counted, saying why
    const red = outcome.reasons.find((r) => r.reason.includes('a feed never imports RED'))
    expect(red).toMatchObject({ kind: 'skipped' })
    expect(red!.count).toBeGreaterThanOrEqual(2)
    expect(outcome.skipped).toBeGreaterThanOrEqual(red!.count)
    expect(outcome.reasons.filter((r) => r.kind === 'skipped').reduce((n, r) => n + r.count, 0)).toBe(outcome.skipped)
  })

  it('a feed that speaks for an organisation the objects were not released to leaves them out', async () => {
    // the same token (cert-lv's at the partner), registered as speaking for cert-ee
    const registered = await call<FeedReply>(floor.url, 'POST', '/api/v1/feeds', ADMIN, {
      id: 'misdirected',
      label: 'The Latvian token, for cert-ee',
      url: partner.url,
      apiRoot: '/taxii2/api/',
      collectionId: 'all',
      organisation: 'cert-ee',
      auth: { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_PARTNER' },
      pollSeconds: 3600,
      enabled: false,
    })
    expect(registered.status).toBe(201)
    const polled = await call<{ outcome: Outcome }>(floor.url, 'POST', '/api/v1/feeds/misdirected/poll', ADMIN)
    expect(polled.status).toBe(200)
    // the Latvian report and its observation: refused, counted, saying why
    expect(polled.json.outcome.refused).toBeGreaterThanOrEqual(2)
    expect(polled.json.outcome.reasons).toContainEqual(
      expect.objectContaining({ kind: 'refused', reason: expect.stringContaining('not releasable to cert-ee') }),
    )
    const kadri = await call<{ incidents: { title: string }[] }>(floor.url, 'GET', '/api/v1/state', TOKENS.viewerEe)
    expect(kadri.json.incidents.map((i) => i.title)).not.toContain(titles.latvia)
    const mine = (await wholeLog(floor)).filter(
      (e) => e.source.organisation === 'cert-ee' && e.marking.releasableTo?.includes('cert-lv'),
    )
    expect(mine).toEqual([])
  })

  it('a feed that is down says why, backs off, and keeps what it had', async () => {
    const down = await call<FeedReply>(floor.url, 'POST', '/api/v1/feeds', ADMIN, {
      id: 'down',
      label: 'A partner that is down',
      url: 'http://127.0.0.1:9',
      apiRoot: 'taxii2/api',
      collectionId: 'all',
      organisation: 'cert-lv',
      pollSeconds: 60,
      enabled: false,
    })
    expect(down.status).toBe(201)
    const polled = await call(floor.url, 'POST', '/api/v1/feeds/down/poll', ADMIN)
    expect(polled.status).toBe(503)
    // why, in words an admin can act on: not fetch's own "fetch failed"
    const why =
      'http://127.0.0.1:9: fetch never connects to that port (one the Fetch standard blocks); the partner must serve TAXII on another'
    expect(JSON.stringify(polled.json)).toContain(why)
    expect(JSON.stringify(polled.json)).not.toContain('fetch failed')
    const state = (await call<FeedReply>(floor.url, 'GET', '/api/v1/feeds/down', ADMIN)).json.feed.state!
    expect(state.consecutiveFailures).toBe(1)
    expect(state.lastError).toBe(why)
    expect(Date.parse(state.nextPollAt!)).toBeGreaterThan(Date.now() + 30_000)
    const twice = await call(floor.url, 'POST', '/api/v1/feeds/down/poll', ADMIN)
    expect(twice.status).toBe(503)
    const backedOff = (await call<FeedReply>(floor.url, 'GET', '/api/v1/feeds/down', ADMIN)).json.feed.state!
    expect(backedOff.consecutiveFailures).toBe(2)
    expect(Date.parse(backedOff.nextPollAt!)).toBeGreaterThan(Date.now() + 90_000)
  })

  it('only admins manage feeds, admins and liaisons read them; bad input is 400 naming the field; a secret is refused', async () => {
    const body = {
      id: 'x',
      label: 'x',
      url: partner.url,
      apiRoot: 'taxii2/api',
      collectionId: 'all',
      organisation: 'cert-ee',
    }
    expect((await call(floor.url, 'POST', '/api/v1/feeds', TOKENS.coordEeA, body)).status).toBe(403)
    expect((await call(floor.url, 'GET', '/api/v1/feeds', TOKENS.viewerLv)).status).toBe(200)
    expect((await call(floor.url, 'GET', '/api/v1/feeds', TOKENS.viewerEe)).status).toBe(403)
    const secret = await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, {
      ...body,
      auth: { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_X', secret: 'do-not-keep' },
    })
    expect(secret.status).toBe(400)
    // a setting of the server is never a feed's secret (it would be sent to the partner)
    for (const setting of ['WATCHFLOOR_FEED_TICK_MS', 'WATCHFLOOR_FEED_ALLOW_HTTP', 'WATCHFLOOR_FEED_MAX_BODY_BYTES'])
      expect(
        (
          await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, {
            ...body,
            auth: { kind: 'bearer', secretEnv: setting },
          })
        ).status,
        setting,
      ).toBe(400)
    const badUrl = await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, { ...body, url: 'ftp://x' })
    expect(badUrl.status).toBe(400)
    expect((badUrl.json.error!.details as { issues: { path: string }[] }).issues[0]!.path).toBe('url')
    // it says what a feed's URL may be, not only that this is not one
    expect(badUrl.json.error!.message).toContain('url: must be an http:// or https:// URL')
    const unknownOrg = await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, { ...body, organisation: 'nobody' })
    expect(unknownOrg.status).toBe(400)
    expect((unknownOrg.json.error!.details as { issues: { path: string }[] }).issues[0]!.path).toBe('organisation')
    expect((await call(floor.url, 'DELETE', '/api/v1/feeds/down', ADMIN)).status).toBe(204)
    expect((await call(floor.url, 'GET', '/api/v1/feeds/down', ADMIN)).status).toBe(404)
  })
})

/**
 * A partner's TAXII server that answers each objects page after `delayMs`, counting the requests
 * it holds at once (not ours: the feed's other end, so that two polls would overlap).
 */
async function slowPartner(delayMs: number) {
  const seen = { requests: 0, atOnce: 0, mostAtOnce: 0, authorization: [] as (string | undefined)[] }
  const server = createServer((req, res) => {
    seen.requests++
    seen.atOnce++
    seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.atOnce)
    seen.authorization.push(req.headers.authorization)
    setTimeout(() => {
      seen.atOnce--
      res.setHeader('content-type', 'application/taxii+json;version=2.1')
      res.end(JSON.stringify({ more: false }))
    }, delayMs)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** One object of a collection and when the partner added it (`date_added`, all written alike). */
interface Entry {
  object: Record<string, unknown>
  added: string
  /** Served only when asked for by id (`match[id]`), never on a page. */
  hidden?: true
}

/**
 * A partner's TAXII 2.1 server of another kind: it serves `entries` in order, at most `perPage` a
 * page, applying every filter it is given, as a server may: `added_after` (added strictly after)
 * and `next` (the place after the last object served, in the whole collection) together. With
 * `paging: 'next'` a page that has more says `next`; with `'added_after'` it says `more` alone, and
 * the client asks again after the last `date_added`. `fail(n)` answers the n-th request with 500.
 * A request with `match[id]` gets the entries of those ids, hidden ones too (`byId: 'filter'`), a
 * 400 (`'refuse'`), or, as a server that ignores the filter, the page it would give without it
 * (the default). Each request's query is kept.
 */
async function taxiiPartner(
  entries: Entry[],
  options: {
    perPage: number
    paging: 'next' | 'added_after'
    fail?: (n: number) => boolean
    byId?: 'filter' | 'refuse'
  },
) {
  const requests: URLSearchParams[] = []
  const server = createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://partner').searchParams
    requests.push(query)
    if (options.fail?.(requests.length)) {
      res.writeHead(500)
      res.end()
      return
    }
    if (query.has('match[id]') && options.byId !== undefined) {
      if (options.byId === 'refuse') {
        res.writeHead(400, { 'content-type': 'application/taxii+json;version=2.1' })
        res.end(JSON.stringify({ title: 'match[id] is not supported' }))
        return
      }
      const ids = new Set(query.get('match[id]')!.split(','))
      const type = query.get('match[type]')
      const found = entries.filter(
        ({ object }) => ids.has(String(object.id)) && (type === null || object.type === type),
      )
      res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1' })
      res.end(JSON.stringify({ more: false, objects: found.map((entry) => entry.object) }))
      return
    }
    const after = query.get('added_after')
    const from = query.has('next') ? Number(query.get('next')) : 0
    const limit = Math.min(Number(query.get('limit') ?? options.perPage), options.perPage)
    const chosen = entries
      .map((entry, place) => ({ ...entry, place }))
      .filter((entry) => !entry.hidden && entry.place >= from && (after === null || entry.added > after))
    const page = chosen.slice(0, limit)
    const more = chosen.length > page.length
    const headers: Record<string, string> = { 'content-type': 'application/taxii+json;version=2.1' }
    if (page.length > 0) {
      headers['x-taxii-date-added-first'] = page[0]!.added
      headers['x-taxii-date-added-last'] = page.at(-1)!.added
    }
    res.writeHead(200, headers)
    res.end(
      JSON.stringify({
        more,
        ...(more && options.paging === 'next' ? { next: String(page.at(-1)!.place + 1) } : {}),
        ...(page.length > 0 ? { objects: page.map((entry) => entry.object) } : {}),
      }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** A partner's server of any kind: `handle` answers every request (each one's URL is kept). */
async function anyPartner(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: string[] = []
  const server = createServer((req, res) => {
    requests.push(req.url ?? '/')
    handle(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const MiB = 1024 * 1024
/** The most one answer of a partner may be on the floor below (WATCHFLOOR_FEED_MAX_BODY_BYTES). */
const FEED_MAX_BODY_BYTES = MiB

describe('a partner that is not Watchfloor: its own TLP definitions, sent once', () => {
  let floor: ServerProcess
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-feeds-foreign-'))
    const tokens = tokensWithAdmin(dir, ADMIN)
    // a small cap on a partner's answer, so that a test can go over it (the default is 32 MiB)
    floor = await startServerProcess({
      env: { WATCHFLOOR_TOKENS: tokens, WATCHFLOOR_FEED_MAX_BODY_BYTES: String(FEED_MAX_BODY_BYTES) },
    })
  })
  afterAll(async () => {
    await floor?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a TLP:AMBER+STRICT defined as OpenCTI defines it, on one page, marks the objects of the next', async () => {
    const T = '2026-11-20T08:00:00.000Z'
    // as OpenCTI defines TLP:AMBER+STRICT (STIX 2.1 had no id for it)
    const strict = {
      type: 'marking-definition',
      spec_version: '2.1',
      id: 'marking-definition--826578e1-40ad-459f-bc73-ede076f81f37',
      created: T,
      definition_type: 'TLP',
      name: 'TLP:AMBER+STRICT',
      definition: { TLP: 'AMBER+STRICT' },
    }
    const incident = (n: number) => ({
      type: 'incident',
      spec_version: '2.1',
      id: `incident--0000000${n}-0000-4000-8000-000000000000`,
      created: T,
      modified: T,
      name: `Foreign incident ${n}`,
      object_marking_refs: [strict.id],
    })
    const pages = [
      { objects: [strict, incident(1)], more: true, next: 'page-2' },
      { objects: [incident(2)], more: false },
    ]
    const partner = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://partner')
      const page = url.searchParams.get('next') === 'page-2' ? pages[1]! : pages[0]!
      res.writeHead(200, {
        'content-type': 'application/taxii+json;version=2.1',
        'x-taxii-date-added-last': T,
      })
      res.end(JSON.stringify(page))
    })
    await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(partner.address() as AddressInfo).port}`
      const registered = await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, {
        id: 'foreign',
        label: 'A platform of its own',
        url,
        apiRoot: 'taxii2/api',
        collectionId: 'all',
        organisation: 'cert-ee',
        defaultTlp: 'GREEN',
        enabled: false,
      })
      expect(registered.status).toBe(201)
      const polled = await call<{ outcome: { stored: number; pages: number } }>(
        floor.url,
        'POST',
        '/api/v1/feeds/foreign/poll',
        ADMIN,
      )
      expect(polled.status, JSON.stringify(polled.json)).toBe(200)
      expect(polled.json.outcome.pages).toBe(2)
      const reported = (await wholeLog(floor)).filter((e) => e.type === 'incident.reported')
      expect(reported.map((e) => [(e.payload as { title: string }).title, e.marking.tlp])).toEqual([
        ['Foreign incident 1', 'AMBER+STRICT'],
        ['Foreign incident 2', 'AMBER+STRICT'],
      ])
    } finally {
      await new Promise((resolve) => partner.close(resolve))
    }
  })

  // what the foreign partners below serve: GREEN incidents, named `<prefix> <n>`
  let serial = 0
  const greenIncident = (name: string, extra: Record<string, unknown> = {}) => ({
    type: 'incident',
    spec_version: '2.1',
    id: `incident--00000000-0000-4000-8000-${(++serial).toString(16).padStart(12, '0')}`,
    created: '2026-11-21T08:00:00.000Z',
    modified: '2026-11-21T08:00:00.000Z',
    name,
    object_marking_refs: ['marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb'],
    ...extra,
  })
  const at = (minute: number) => `2026-11-21T09:${String(minute).padStart(2, '0')}:00.000000Z`
  const register = async (id: string, url: string, extra: { collectionId?: string } = {}) => {
    const registered = await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, {
      id,
      label: id,
      url,
      apiRoot: 'taxii2/api',
      collectionId: extra.collectionId ?? 'all',
      organisation: 'cert-ee',
      defaultTlp: 'GREEN',
      enabled: false,
    })
    expect(registered.status, JSON.stringify(registered.json)).toBe(201)
  }
  const pollNow = (id: string) =>
    call<{ outcome: Outcome; feed: FeedReply['feed'] } & Json>(floor.url, 'POST', `/api/v1/feeds/${id}/poll`, ADMIN)
  /** The titles of the incidents reported in the floor's log that start with `prefix`, sorted. */
  const reportedTitles = async (prefix: string) =>
    (await wholeLog(floor))
      .filter((e) => e.type === 'incident.reported')
      .map((e) => (e.payload as { title: string }).title)
      .filter((title) => title.startsWith(prefix))
      .sort()

  it('one object of a page that is not valid STIX is skipped, saying why; the rest is imported and the cursor moves on', async () => {
    const entries = [
      { object: greenIncident('Invalid page 1'), added: at(1) },
      // no name: an incident STIX 2.1 does not allow
      { object: { ...greenIncident('-'), name: undefined }, added: at(2) },
      { object: greenIncident('Invalid page 3', { created: '2026-11-21T08:00:00Z' }), added: at(3) },
      { object: greenIncident('Invalid page 4'), added: at(4) },
    ]
    const partner = await taxiiPartner(entries, { perPage: 100, paging: 'next' })
    try {
      await register('invalid-objects', partner.url)
      const polled = await pollNow('invalid-objects')
      expect(polled.status, JSON.stringify(polled.json)).toBe(200)
      expect(await reportedTitles('Invalid page')).toEqual(['Invalid page 1', 'Invalid page 4'])
      const { outcome } = polled.json
      expect(outcome).toMatchObject({ objects: 4, imported: 2, stored: 2, skipped: 2, refused: 0 })
      expect(outcome.reasons).toEqual([
        { kind: 'skipped', reason: 'not valid STIX 2.1: name: is required', count: 1, first: entries[1]!.object.id },
        {
          kind: 'skipped',
          reason: expect.stringMatching(/^not valid STIX 2\.1: created: /),
          count: 1,
          first: entries[2]!.object.id,
        },
      ])
      expect(polled.json.feed.state).toMatchObject({ cursor: at(4), lastError: null, objectsImported: 2 })
      // the next poll goes on after them: nothing is asked again, nothing fails
      const again = await pollNow('invalid-objects')
      expect(again.status).toBe(200)
      expect(partner.requests.at(-1)!.get('added_after')).toBe(at(4))
      expect(again.json.outcome).toMatchObject({ objects: 0, stored: 0, skipped: 0 })
    } finally {
      await partner.close()
    }
  })

  it('an object whose releasability is there but cannot be read is skipped, never imported for everyone', async () => {
    const entries = [
      { object: greenIncident('Unreadable 1', { x_watchfloor_releasable_to: 'cert-lv' }), added: at(11) },
      { object: greenIncident('Unreadable 2', { x_watchfloor_releasable_to_none: 'true' }), added: at(12) },
      { object: greenIncident('Unreadable 3', { x_watchfloor_releasable_to: ['cert-ee'] }), added: at(13) },
    ]
    const partner = await taxiiPartner(entries, { perPage: 100, paging: 'next' })
    try {
      await register('unreadable', partner.url)
      const polled = await pollNow('unreadable')
      expect(polled.status, JSON.stringify(polled.json)).toBe(200)
      expect(await reportedTitles('Unreadable')).toEqual(['Unreadable 3'])
      expect(polled.json.outcome).toMatchObject({ objects: 3, imported: 1, skipped: 2 })
      expect(polled.json.outcome.reasons.map((r) => [r.first, r.reason])).toEqual([
        [
          entries[0]!.object.id,
          'a marking it gives cannot be read, so whom it may reach is unknown: x_watchfloor_releasable_to is "cert-lv", not a list of ids',
        ],
        [
          entries[1]!.object.id,
          'a marking it gives cannot be read, so whom it may reach is unknown: x_watchfloor_releasable_to_none is "true", not true',
        ],
      ])
    } finally {
      await partner.close()
    }
  })

  // TLP:AMBER+STRICT as a platform of its own defines it, served by a partner once, long ago
  const definedStrict = {
    type: 'marking-definition',
    spec_version: '2.1',
    id: 'marking-definition--7b1e6a52-9c3d-4f0e-8a21-5d6c4b3e2f10',
    created: '2026-11-01T08:00:00.000Z',
    definition_type: 'TLP',
    name: 'TLP:AMBER+STRICT',
    definition: { TLP: 'AMBER+STRICT' },
  }
  const strictIncident = (name: string) =>
    greenIncident(name, { object_marking_refs: [definedStrict.id] }) as Record<string, unknown>
  const asksById = (partner: { requests: URLSearchParams[] }) =>
    partner.requests.filter((query) => query.has('match[id]')).map((query) => query.get('match[id]'))

  it('a definition served before this process polled the feed (a restart, another process) is asked for by id', async () => {
    const unasked = { ...definedStrict, id: 'marking-definition--0c2f6a7e-2f5b-4d52-9b1e-3f1f3a1d6c11', name: 'x' }
    const entries: Entry[] = [
      { object: definedStrict, added: at(31), hidden: true },
      { object: unasked, added: at(31), hidden: true },
      { object: strictIncident('Asked by id 1'), added: at(32) },
      { object: strictIncident('Asked by id 2'), added: at(33) },
    ]
    const partner = await taxiiPartner(entries, { perPage: 1, paging: 'next', byId: 'filter' })
    try {
      await register('asked-by-id', partner.url)
      const polled = await pollNow('asked-by-id')
      expect(polled.status, JSON.stringify(polled.json)).toBe(200)
      expect(polled.json.outcome).toMatchObject({ objects: 2, imported: 2, skipped: 0, refused: 0 })
      const reported = (await wholeLog(floor)).filter(
        (e) => e.type === 'incident.reported' && (e.payload as { title: string }).title.startsWith('Asked by id'),
      )
      expect(reported.map((e) => e.marking.tlp)).toEqual(['AMBER+STRICT', 'AMBER+STRICT'])
      // asked once, for that one id and type; the second page's object found it at hand
      expect(asksById(partner)).toEqual([definedStrict.id])
      expect(partner.requests.find((q) => q.has('match[id]'))!.get('match[type]')).toBe('marking-definition')
    } finally {
      await partner.close()
    }
  })

  it('a partner that cannot give a definition by id: what it alone marks is skipped, and it is not asked on every page', async () => {
    const entries: Entry[] = [
      { object: strictIncident('Not given 1'), added: at(35) },
      { object: strictIncident('Not given 2'), added: at(36) },
    ]
    for (const byId of ['refuse', undefined] as const) {
      const partner = await taxiiPartner(entries, { perPage: 1, paging: 'next', ...(byId ? { byId } : {}) })
      try {
        const id = `not-given-${byId ?? 'ignored'}`
        await register(id, partner.url)
        const polled = await pollNow(id)
        expect(polled.status, JSON.stringify(polled.json)).toBe(200)
        expect(polled.json.outcome).toMatchObject({ objects: 2, imported: 0, skipped: 2 })
        expect(polled.json.feed.state).toMatchObject({ lastError: null, cursor: at(36) })
        expect(asksById(partner)).toEqual([definedStrict.id])
      } finally {
        await partner.close()
      }
    }
    expect(await reportedTitles('Not given')).toEqual([])
  })

  it('objects added at one time across two pages: one pagination keeps its added_after and follows next', async () => {
    const entries = [
      { object: greenIncident('Same time 1'), added: at(21) },
      { object: greenIncident('Same time 2'), added: at(22) },
      { object: greenIncident('Same time 3'), added: at(22) },
      { object: greenIncident('Same time 4'), added: at(23) },
    ]
    const partner = await taxiiPartner(entries, { perPage: 2, paging: 'next' })
    try {
      await register('same-time', partner.url)
      const polled = await pollNow('same-time')
      expect(polled.status, JSON.stringify(polled.json)).toBe(200)
      expect(await reportedTitles('Same time')).toEqual(['Same time 1', 'Same time 2', 'Same time 3', 'Same time 4'])
      expect(polled.json.outcome.pages).toBe(2)
      expect(partner.requests.map((q) => [q.get('added_after'), q.get('next')])).toEqual([
        [null, null],
        [null, '2'],
      ])
      expect(polled.json.feed.state!.cursor).toBe(at(23))
      // from a cursor too: every page of the pagination asks after it
      entries.push(
        { object: greenIncident('Same time 5'), added: at(24) },
        { object: greenIncident('Same time 6'), added: at(25) },
        { object: greenIncident('Same time 7'), added: at(25) },
      )
      const again = await pollNow('same-time')
      expect(again.status).toBe(200)
      expect(partner.requests.slice(2).map((q) => [q.get('added_after'), q.get('next')])).toEqual([
        [at(23), null],
        [at(23), '6'],
      ])
      expect(await reportedTitles('Same time')).toHaveLength(7)
    } finally {
      await partner.close()
    }
  })

  it('more without next: the poll goes on, after the last date_added served', async () => {
    const entries = [1, 2, 3, 4, 5].map((n) => ({ object: greenIncident(`No next ${n}`), added: at(30 + n) }))
    const partner = await taxiiPartner(entries, { perPage: 2, paging: 'added_after' })
    try {
      await register('no-next', partner.url)
      const polled = await pollNow('no-next')
      expect(polled.status, JSON.stringify(polled.json)).toBe(200)
      expect(await reportedTitles('No next')).toEqual([1, 2, 3, 4, 5].map((n) => `No next ${n}`))
      expect(polled.json.outcome.pages).toBe(3)
      expect(partner.requests.map((q) => q.get('added_after'))).toEqual([null, at(32), at(34)])
      expect(polled.json.feed.state!.cursor).toBe(at(35))
    } finally {
      await partner.close()
    }
  })

  it('a partner whose next goes round in a circle, or says the same next again, does not hold the poll for ever', async () => {
    const objects = [greenIncident('Circle A'), greenIncident('Circle B')]
    // next=a serves A and says next=b; next=b serves B and says next=a; `empty` says more with nothing
    const partner = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://partner').searchParams
      res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1', 'x-taxii-date-added-last': at(50) })
      const b = query.get('next') === 'b'
      res.end(
        JSON.stringify(
          req.url?.includes('/empty/')
            ? { more: true, next: 'again' }
            : { more: true, next: b ? 'a' : 'b', objects: [objects[b ? 1 : 0]] },
        ),
      )
    })
    await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(partner.address() as AddressInfo).port}`
      await register('circle', url)
      const circled = await pollNow('circle')
      expect(circled.status, JSON.stringify(circled.json)).toBe(200)
      expect(circled.json.outcome.pages).toBe(MAX_PAGES_PER_POLL)
      expect(await reportedTitles('Circle')).toEqual(['Circle A', 'Circle B'])
      await register('empty', url, { collectionId: 'empty' })
      // an empty page may say more with a new next (a server filtering after its limit): followed;
      // the same next again ends the poll
      const empty = await pollNow('empty')
      expect(empty.status, JSON.stringify(empty.json)).toBe(200)
      expect(empty.json.outcome.pages).toBe(2)
    } finally {
      await new Promise<void>((resolve) => partner.close(() => resolve()))
    }
  }, 60_000)

  it('a poll that fails between two pages of one time resumes where nothing is skipped', async () => {
    const entries = [
      { object: greenIncident('Resumed 1'), added: at(41) },
      { object: greenIncident('Resumed 2'), added: at(42) },
      { object: greenIncident('Resumed 3'), added: at(42) },
      { object: greenIncident('Resumed 4'), added: at(43) },
    ]
    // the second request (the second page) fails once
    const partner = await taxiiPartner(entries, { perPage: 2, paging: 'next', fail: (n) => n === 2 })
    try {
      await register('resumed', partner.url)
      expect((await pollNow('resumed')).status).toBe(503)
      expect(await reportedTitles('Resumed')).toEqual(['Resumed 1', 'Resumed 2'])
      // all added up to 09:41 is in; 'Resumed 3', added at 09:42 too, is not yet
      const state = (await call<FeedReply>(floor.url, 'GET', '/api/v1/feeds/resumed', ADMIN)).json.feed.state!
      expect(state.cursor).toBe(at(41))
      const again = await pollNow('resumed')
      expect(again.status, JSON.stringify(again.json)).toBe(200)
      expect(await reportedTitles('Resumed')).toEqual(['Resumed 1', 'Resumed 2', 'Resumed 3', 'Resumed 4'])
      // 'Resumed 2' was read again: a duplicate, neither stored nor counted twice
      expect(again.json.outcome).toMatchObject({ objects: 3, imported: 2, stored: 2 })
      expect(again.json.feed.state).toMatchObject({ cursor: at(43), objectsImported: 4, eventsStored: 4 })
    } finally {
      await partner.close()
    }
  })

  it('a partner that answers a redirect is not followed: the poll fails saying where to, nothing is asked there nor imported', async () => {
    // where the redirects point: a service inside the floor's network, that would answer a page
    const internal = await taxiiPartner([{ object: greenIncident('Redirected 1'), added: at(51) }], {
      perPage: 100,
      paging: 'next',
    })
    const partner = await anyPartner((req, res) => {
      const location = req.url?.includes('/collections/moved/')
        ? // with credentials, relative to nothing of the partner's
          `http://admin:hunter2@${new URL(internal.url).host}/taxii2/api/collections/all/objects/`
        : `${internal.url}/internal-admin/export?key=internal-secret#top`
      res.writeHead(req.url?.includes('/collections/moved/') ? 308 : 302, { location })
      res.end()
    })
    try {
      await register('redirected', partner.url)
      const polled = await pollNow('redirected')
      expect(polled.status, JSON.stringify(polled.json)).toBe(503)
      const message = polled.json.error!.message
      expect(message).toContain(`${partner.url} answered 302, a redirect to ${internal.url}/internal-admin/export`)
      expect(message).toContain("an admin must change the feed's url")
      // nothing of the Location's query (a secret, perhaps) is repeated
      expect(message).not.toContain('internal-secret')
      expect(message).not.toContain('#top')
      // nothing was asked of the internal service, nothing imported
      expect(internal.requests).toEqual([])
      expect(await reportedTitles('Redirected')).toEqual([])
      // the feed's state says why, and it backs off
      const state = (await call<FeedReply>(floor.url, 'GET', '/api/v1/feeds/redirected', ADMIN)).json.feed.state!
      expect(state.consecutiveFailures).toBe(1)
      expect(state.lastError).toContain(`a redirect to ${internal.url}/internal-admin/export`)
      expect(state.lastError).not.toContain('internal-secret')
      expect(state.lastSuccessAt).toBeNull()
      expect(state.cursor).toBeNull()
      expect(Date.parse(state.nextPollAt!)).toBeGreaterThan(Date.now() + 60_000)

      // a Location with credentials: they are not repeated either
      await register('redirected-with-credentials', partner.url, { collectionId: 'moved' })
      const moved = await pollNow('redirected-with-credentials')
      expect(moved.status).toBe(503)
      expect(moved.json.error!.message).toContain(
        `answered 308, a redirect to ${internal.url}/taxii2/api/collections/all/objects/`,
      )
      expect(moved.json.error!.message).not.toMatch(/hunter2|admin:/)
      expect(internal.requests).toEqual([])
    } finally {
      await Promise.all([partner.close(), internal.close()])
    }
  })

  /**
   * A page serving one GREEN incident named `name`, `bytes` long in all (the envelope padded with a
   * member the poller does not read).
   */
  const pageOf = (name: string, bytes: number): string => {
    const head = `${JSON.stringify({ more: false, objects: [greenIncident(name)] }).slice(0, -1)},"x_padding":"`
    const tail = '"}'
    return head + 'x'.repeat(bytes - head.length - tail.length) + tail
  }
  /** Writes `body` in 64 KiB chunks, each after the last one was taken (a stream, no Content-Length). */
  const stream = (res: ServerResponse, body: string) => {
    let at = 0
    const more = () => {
      while (at < body.length && !res.destroyed) {
        const chunk = body.slice(at, at + 64 * 1024)
        at += chunk.length
        if (!res.write(chunk)) {
          res.once('drain', more)
          return
        }
      }
      if (!res.destroyed) res.end()
    }
    more()
  }

  it('a partner answer over WATCHFLOOR_FEED_MAX_BODY_BYTES fails the poll, read no further; one at the cap imports', async () => {
    const headers = { 'content-type': 'application/taxii+json;version=2.1', 'x-taxii-date-added-last': at(55) }
    const partner = await anyPartner((req, res) => {
      res.on('error', () => {}) // the floor hangs up part way
      const collection = /\/collections\/([^/]+)\//.exec(req.url ?? '')?.[1]
      if (collection === 'streamed') {
        // 5 MiB, streamed without a Content-Length: only counting tells
        res.writeHead(200, headers)
        stream(res, pageOf('Oversized streamed', 5 * MiB))
      } else if (collection === 'declared') {
        const body = pageOf('Oversized declared', 5 * MiB)
        res.writeHead(200, { ...headers, 'content-length': String(body.length) })
        res.end(body)
      } else {
        // exactly the cap
        res.writeHead(200, headers)
        stream(res, pageOf('At the cap', FEED_MAX_BODY_BYTES))
      }
    })
    try {
      for (const [id, how] of [
        ['oversized-streamed', /answered more than 1 MiB \(1048576 bytes\)/],
        ['oversized-declared', /answered 5242880 bytes \(its Content-Length\), more than 1 MiB \(1048576 bytes\)/],
      ] as const) {
        await register(id, partner.url, { collectionId: id.replace('oversized-', '') })
        const polled = await pollNow(id)
        expect(polled.status, JSON.stringify(polled.json)).toBe(503)
        expect(polled.json.error!.message).toMatch(how)
        expect(polled.json.error!.message).toContain(`${partner.url} answered`)
        expect(polled.json.error!.message).toContain('WATCHFLOOR_FEED_MAX_BODY_BYTES')
        const state = (await call<FeedReply>(floor.url, 'GET', `/api/v1/feeds/${id}`, ADMIN)).json.feed.state!
        expect(state.consecutiveFailures).toBe(1)
        expect(state.lastError).toMatch(how)
        expect(state.objectsImported).toBe(0)
      }
      expect(await reportedTitles('Oversized')).toEqual([])
      // the server is up, and a page of the cap itself is read and imported
      expect(floor.child.exitCode).toBeNull()
      expect((await fetch(`${floor.url}/healthz`)).status).toBe(200)
      await register('at-the-cap', partner.url, { collectionId: 'at-cap' })
      const polled = await pollNow('at-the-cap')
      expect(polled.status, JSON.stringify(polled.json)).toBe(200)
      expect(polled.json.outcome).toMatchObject({ objects: 1, imported: 1 })
      expect(await reportedTitles('At the cap')).toEqual(['At the cap'])
    } finally {
      await partner.close()
    }
  })

  it('a page over the cap is asked for again with fewer objects, down to one: large objects still come in', async () => {
    // five incidents of 300 KB each: 1.5 MB a page, over the 1 MiB cap, until three or fewer a page
    const entries: Entry[] = [1, 2, 3, 4, 5].map((n) => ({
      object: greenIncident(`Large object ${n}`, { description: `${n} `.padEnd(300 * 1024, 'x') }),
      added: at(40 + n),
    }))
    const partner = await taxiiPartner(entries, { perPage: 100, paging: 'next' })
    try {
      await register('large-objects', partner.url)
      const polled = await pollNow('large-objects')
      expect(polled.status, JSON.stringify(polled.json)).toBe(200)
      expect(polled.json.outcome).toMatchObject({ objects: 5, imported: 5 })
      expect(await reportedTitles('Large object')).toHaveLength(5)
      // halved from 500 while over the cap, then kept for the rest of the poll
      const limits = partner.requests.map((query) => Number(query.get('limit')))
      expect(limits).toEqual([500, 250, 125, 63, 32, 16, 8, 4, 2, 2, 2])
      expect(polled.json.feed.state).toMatchObject({ lastError: null, cursor: at(45) })
    } finally {
      await partner.close()
    }
  })

  it('a partner answer that is not JSON, or not a TAXII envelope, fails the poll saying so', async () => {
    const partner = await anyPartner((req, res) => {
      if (req.url?.includes('/collections/html/')) {
        res.writeHead(200, { 'content-type': 'text/html' })
        res.end('<html><body>Sign in to continue</body></html>')
      } else {
        res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1' })
        res.end('null')
      }
    })
    try {
      for (const [id, why] of [
        ['html', 'with a body that is not JSON (content-type text/html)'],
        ['null', 'with JSON that is not a TAXII envelope (an object)'],
      ] as const) {
        await register(`not-json-${id}`, partner.url, { collectionId: id })
        const polled = await pollNow(`not-json-${id}`)
        expect(polled.status, JSON.stringify(polled.json)).toBe(503)
        expect(polled.json.error!.message).toContain(`${partner.url} answered 200 ${why}`)
        const state = (await call<FeedReply>(floor.url, 'GET', `/api/v1/feeds/not-json-${id}`, ADMIN)).json.feed.state!
        expect(state.consecutiveFailures).toBe(1)
        expect(state.lastError).toContain(why)
        // a web page is said to be one; the JSON parser's own words are not passed on
        if (id === 'html')
          expect(state.lastError).toContain('a web page, not a TAXII API; check the url and the API root')
        expect(state.lastError).not.toContain('Unexpected token')
      }
    } finally {
      await partner.close()
    }
  })
})

describe('partner feeds, hardened', () => {
  let floor: ServerProcess
  let permissive: ServerProcess
  let dir: string
  const feedBody = (id: string, organisation: string, extra: Record<string, unknown> = {}) => ({
    id,
    label: id,
    url: 'https://taxii.partner.example',
    apiRoot: 'taxii2/api',
    collectionId: 'all',
    organisation,
    enabled: false,
    ...extra,
  })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-feeds-hardened-'))
    const tokens = tokensWithAdmin(dir, ADMIN)
    ;[floor, permissive] = await Promise.all([
      startServerProcess({ env: { WATCHFLOOR_TOKENS: tokens, WATCHFLOOR_FEED_SLOW: 'slow-partner-secret' } }),
      startServerProcess({ env: { WATCHFLOOR_TOKENS: tokens, WATCHFLOOR_FEED_ALLOW_HTTP: '1' } }),
    ])
  })
  afterAll(async () => {
    await Promise.all([floor?.stop(), permissive?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  it('a liaison sees only the feeds that speak for its own organisation; an admin sees every one', async () => {
    for (const [id, organisation] of [
      ['ee-feed', 'cert-ee'],
      ['lv-feed', 'cert-lv'],
    ] as const)
      expect((await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, feedBody(id, organisation))).status).toBe(201)
    await call(floor.url, 'PATCH', '/api/v1/feeds/ee-feed', ADMIN, { enabled: false })
    const idsOf = async (token: string) =>
      (await call<{ feeds: { id: string }[] }>(floor.url, 'GET', '/api/v1/feeds', token)).json.feeds.map((f) => f.id)
    expect(await idsOf(ADMIN)).toEqual(expect.arrayContaining(['ee-feed', 'lv-feed']))
    // janis is cert-lv's liaison: cert-ee's feed, its counts and its errors are not hers to read
    const janis = await call<{ feeds: { id: string; organisation: string }[] }>(
      floor.url,
      'GET',
      '/api/v1/feeds',
      TOKENS.viewerLv,
    )
    expect(janis.status).toBe(200)
    expect(janis.json.feeds.map((f) => f.id)).toContain('lv-feed')
    expect(janis.json.feeds.every((f) => f.organisation === 'cert-lv')).toBe(true)
    expect(JSON.stringify(janis.json)).not.toContain('ee-feed')
    // one by id: the same 404 as a feed that does not exist
    const hidden = await call(floor.url, 'GET', '/api/v1/feeds/ee-feed', TOKENS.viewerLv)
    const missing = await call(floor.url, 'GET', '/api/v1/feeds/no-such-feed', TOKENS.viewerLv)
    expect(hidden.status).toBe(404)
    expect(hidden.json.error!.message).toBe('no feed ee-feed')
    expect(missing.status).toBe(404)
    expect((await call(floor.url, 'GET', '/api/v1/feeds/lv-feed', TOKENS.viewerLv)).status).toBe(200)
    expect((await call(floor.url, 'GET', '/api/v1/feeds/ee-feed', ADMIN)).status).toBe(200)
  })

  it('repointing a feed’s url drops its credential unless the same change names it again', async () => {
    const bearer = { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_MOVED' }
    expect(
      (await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, feedBody('moved', 'cert-ee', { auth: bearer }))).status,
    ).toBe(201)
    // other changes keep it, the same url too
    const relabelled = await call<FeedReply>(floor.url, 'PATCH', '/api/v1/feeds/moved', ADMIN, {
      label: 'Moved',
      url: 'https://taxii.partner.example',
      collectionId: 'other',
    })
    expect(relabelled.status).toBe(200)
    expect(relabelled.json.feed.auth).toEqual(bearer)
    // another url alone: the credential does not follow it
    const moved = await call<FeedReply>(floor.url, 'PATCH', '/api/v1/feeds/moved', ADMIN, {
      url: 'https://elsewhere.example',
    })
    expect(moved.status).toBe(200)
    expect(moved.json.feed.auth).toEqual({ kind: 'none' })
    expect((await call<FeedReply>(floor.url, 'GET', '/api/v1/feeds/moved', ADMIN)).json.feed.auth).toEqual({
      kind: 'none',
    })
    // named again in the same change: kept, the username as the partner gave it (spaces too)
    const basic = { kind: 'basic', username: ' wf partner ', secretEnv: 'WATCHFLOOR_FEED_MOVED' }
    const renamed = await call<FeedReply>(floor.url, 'PATCH', '/api/v1/feeds/moved', ADMIN, {
      url: 'https://third.example/',
      auth: basic,
    })
    expect(renamed.status).toBe(200)
    expect(renamed.json.feed.auth).toEqual(basic)
  })

  it('a feed with credentials must use https, but to a loopback host; 400 saying so', async () => {
    const bearer = { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_X' }
    for (const url of ['http://taxii.partner.example', 'http://10.0.0.7:9000', 'http://[2001:db8::1]']) {
      const refused = await call(
        floor.url,
        'POST',
        '/api/v1/feeds',
        ADMIN,
        feedBody('plain', 'cert-ee', { url, auth: bearer }),
      )
      expect(refused.status, url).toBe(400)
      expect(refused.json.error!.code).toBe('validation')
      expect(refused.json.error!.message).toContain('https')
      expect(refused.json.error!.message).toContain('WATCHFLOOR_FEED_ALLOW_HTTP')
      expect((refused.json.error!.details as { issues: { path: string }[] }).issues[0]!.path).toBe('url')
    }
    expect((await call(floor.url, 'GET', '/api/v1/feeds/plain', ADMIN)).status).toBe(404)
    // without credentials, http is fine; so is a loopback host, and https
    expect(
      (
        await call(
          floor.url,
          'POST',
          '/api/v1/feeds',
          ADMIN,
          feedBody('plain', 'cert-ee', { url: 'http://taxii.partner.example' }),
        )
      ).status,
    ).toBe(201)
    for (const [id, url] of [
      ['loop-v4', 'http://127.0.0.1:9'],
      ['loop-name', 'http://localhost:9'],
      ['loop-v6', 'http://[::1]:9'],
      ['tls', 'https://taxii.partner.example'],
    ] as const)
      expect(
        (await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, feedBody(id, 'cert-ee', { url, auth: bearer }))).status,
        url,
      ).toBe(201)
    // a change that would send credentials over http is refused too, and changes nothing
    const patched = await call(floor.url, 'PATCH', '/api/v1/feeds/plain', ADMIN, { auth: bearer })
    expect(patched.status).toBe(400)
    expect(patched.json.error!.message).toContain('https')
    const moved = await call(floor.url, 'PATCH', '/api/v1/feeds/tls', ADMIN, {
      url: 'http://taxii.partner.example',
      auth: bearer,
    })
    expect(moved.status).toBe(400)
    expect((await call<FeedReply>(floor.url, 'GET', '/api/v1/feeds/plain', ADMIN)).json.feed.auth).toEqual({
      kind: 'none',
    })
    expect((await call<FeedReply>(floor.url, 'GET', '/api/v1/feeds/tls', ADMIN)).json.feed.auth).toEqual(bearer)

    // WATCHFLOOR_FEED_ALLOW_HTTP=1 allows it
    expect(
      (
        await call(
          permissive.url,
          'POST',
          '/api/v1/feeds',
          ADMIN,
          feedBody('plain', 'cert-ee', { url: 'http://taxii.partner.example', auth: bearer }),
        )
      ).status,
    ).toBe(201)
  })

  it('a feed stored with credentials over http before the rule is not polled with them', async () => {
    // as an older version could have stored it: straight into the server's credential store
    const credentials = new SqliteCredentialStore({ file: join(floor.dataDir, 'events.sqlite') })
    try {
      await credentials.createFeed({
        ...feedBody('legacy', 'cert-ee', { url: 'http://taxii.partner.example' }),
        auth: { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_SLOW' },
        pollSeconds: 300,
        defaultTlp: 'AMBER',
        createdBy: 'root',
      } as never)
    } finally {
      await credentials.close()
    }
    const polled = await call(floor.url, 'POST', '/api/v1/feeds/legacy/poll', ADMIN)
    expect(polled.status).toBe(503)
    expect(polled.json.error!.message).toContain('https')
  })

  it('two polls of one feed never run at once in one process: the second is refused while the first runs', async () => {
    const partner = await slowPartner(1500)
    try {
      expect(
        (
          await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, {
            ...feedBody('slow', 'cert-ee', { url: partner.url }),
            auth: { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_SLOW' },
          })
        ).status,
      ).toBe(201)
      const polls = await Promise.all(
        Array.from({ length: 3 }, () => call(floor.url, 'POST', '/api/v1/feeds/slow/poll', ADMIN)),
      )
      expect(polls.map((p) => p.status).sort()).toEqual([200, 409, 409])
      expect(polls.find((p) => p.status === 409)!.json.error!.message).toContain('being polled')
      expect(partner.seen.mostAtOnce).toBe(1)
      expect(partner.seen.requests).toBe(1)
      // loopback over http: the credential is sent
      expect(partner.seen.authorization).toEqual(['Bearer slow-partner-secret'])
      // once it is done, the next poll runs
      expect((await call(floor.url, 'POST', '/api/v1/feeds/slow/poll', ADMIN)).status).toBe(200)
      expect(partner.seen.requests).toBe(2)
    } finally {
      await partner.close()
    }
  })
})

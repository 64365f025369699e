import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoredEvent } from '@watchfloor/protocol'
import { SqliteEventStore } from '@watchfloor/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, PRINCIPALS, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

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
      eventsStored: number
      nextPollAt: string | null
    } | null
  }
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
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-feeds-'))
    const tokens = join(dir, 'tokens.json')
    writeFileSync(
      tokens,
      JSON.stringify([
        ...PRINCIPALS,
        { token: ADMIN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] },
      ]),
    )
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
      organisation: 'cert-ee',
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
    await until(async () => (await titlesOn(TOKENS.viewerEe)).length >= 2, 'the feed to be polled')
    const seen = await titlesOn(TOKENS.viewerEe)
    expect(seen.map((i) => i.title).sort()).toEqual([titles.latvia, titles.open].sort())
    expect(seen.find((i) => i.title === titles.latvia)?.marking).toEqual({
      tlp: 'AMBER',
      releasableTo: ['cert-lv'],
      pap: 'AMBER',
    })
    // on the floor, the markings work as on the partner: Latvia sees its own, the Netherlands only the open one
    expect((await titlesOn(TOKENS.viewerLv)).map((i) => i.title).sort()).toEqual([titles.latvia, titles.open].sort())
    expect((await titlesOn(TOKENS.viewerNl)).map((i) => i.title)).toEqual([titles.open])

    // nothing the partner kept from cert-lv is anywhere in the floor's log
    const log = JSON.stringify(await wholeLog(floor))
    for (const hidden of [titles.home, titles.red, titles.dutch, 'p-home', 'p-red', 'p-nl'])
      expect(log, hidden).not.toContain(hidden)

    // its state says so; polling again brings nothing new
    const state = (await call<FeedReply>(floor.url, 'GET', '/api/v1/feeds/partner', TOKENS.viewerLv)).json.feed.state!
    expect(state.lastError).toBeNull()
    expect(state.lastSuccessAt).not.toBeNull()
    expect(state.eventsStored).toBeGreaterThanOrEqual(4)
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
    const state = (await call<FeedReply>(floor.url, 'GET', '/api/v1/feeds/down', ADMIN)).json.feed.state!
    expect(state.consecutiveFailures).toBe(1)
    expect(state.lastError).toBeTruthy()
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
    const badUrl = await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, { ...body, url: 'ftp://x' })
    expect(badUrl.status).toBe(400)
    expect((badUrl.json.error!.details as { issues: { path: string }[] }).issues[0]!.path).toBe('url')
    const unknownOrg = await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, { ...body, organisation: 'nobody' })
    expect(unknownOrg.status).toBe(404)
    expect((await call(floor.url, 'DELETE', '/api/v1/feeds/down', ADMIN)).status).toBe(204)
    expect((await call(floor.url, 'GET', '/api/v1/feeds/down', ADMIN)).status).toBe(404)
  })
})

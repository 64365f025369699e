import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../data/api.ts'
import type { Session } from '../../data/store.ts'
import {
  collectionUrlOf,
  createFeed,
  deleteFeed,
  describeAuth,
  describeInterval,
  describeOutcome,
  emptyFeedForm,
  type Feed,
  type FeedForm,
  feedBodyOf,
  feedHealth,
  feedPath,
  feedsOf,
  loadFeeds,
  mayReadFeeds,
  pollFailure,
  pollFeed,
  setFeedEnabled,
} from './feeds.ts'

const T = '2026-11-01T12:00:00.000Z'
const feed = (id: string, extra: Partial<Feed> = {}): Feed => ({
  id,
  label: id.toUpperCase(),
  url: 'https://taxii.partner.example',
  apiRoot: '/taxii2/api/',
  collectionId: 'all',
  organisation: 'cert-ee',
  auth: { kind: 'none' },
  pollSeconds: 300,
  defaultTlp: 'AMBER',
  enabled: true,
  createdBy: 'admin',
  createdAt: T,
  updatedAt: T,
  state: null,
  ...extra,
})
const state = (extra: Partial<NonNullable<Feed['state']>> = {}): NonNullable<Feed['state']> => ({
  cursor: null,
  lastAttemptAt: T,
  lastSuccessAt: T,
  lastError: null,
  consecutiveFailures: 0,
  objectsImported: 12,
  eventsStored: 10,
  nextPollAt: T,
  ...extra,
})
const session = (roles: Session['roles'], kind?: Session['kind']): Session => ({
  user: 'u',
  organisation: 'cert-lv',
  nation: 'LV',
  roles,
  ...(kind === undefined ? {} : { kind }),
})

type Call = [string, RequestInit]
function fakeFetch(status: number, body: unknown) {
  return vi.fn(async (_input: RequestInfo | URL, _init?: RequestInit) =>
    status === 204 ? new Response(null, { status }) : Response.json(body, { status }),
  )
}
const callOf = (fetchFn: ReturnType<typeof fakeFetch>, i = 0) => fetchFn.mock.calls[i] as unknown as Call

describe('the registration form as a request body', () => {
  const filled = (extra: Partial<FeedForm> = {}): FeedForm => ({
    ...emptyFeedForm('cert-ee'),
    id: ' partner-a ',
    label: ' Partner A ',
    url: ' https://taxii.partner.example/ ',
    ...extra,
  })

  it('trims the text, names the secret by its variable, and keeps the choices', () => {
    expect(feedBodyOf(filled({ secretEnv: ' WATCHFLOOR_FEED_PARTNER_A ' }))).toEqual({
      id: 'partner-a',
      label: 'Partner A',
      url: 'https://taxii.partner.example/',
      apiRoot: '/taxii2/api/',
      collectionId: 'all',
      organisation: 'cert-ee',
      auth: { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_PARTNER_A' },
      pollSeconds: 300,
      defaultTlp: 'AMBER',
      enabled: true,
    })
  })

  it('sends only the fields each kind of authentication has', () => {
    const basic = filled({ authKind: 'basic', username: ' bob ', secretEnv: 'WATCHFLOOR_FEED_B' })
    expect(feedBodyOf(basic).auth).toEqual({ kind: 'basic', username: 'bob', secretEnv: 'WATCHFLOOR_FEED_B' })
    expect(feedBodyOf(filled({ authKind: 'none', username: 'bob', secretEnv: 'WATCHFLOOR_FEED_B' })).auth).toEqual({
      kind: 'none',
    })
  })

  it('leaves an empty interval to the server’s default, and sends a bad one for the server to name', () => {
    expect(feedBodyOf(filled({ pollSeconds: '' }))).not.toHaveProperty('pollSeconds')
    expect(feedBodyOf(filled({ pollSeconds: ' 60 ' })).pollSeconds).toBe(60)
    expect(feedBodyOf(filled({ pollSeconds: 'often' })).pollSeconds).toBe('often')
    expect(feedBodyOf(filled({ enabled: false, defaultTlp: 'GREEN' }))).toMatchObject({
      enabled: false,
      defaultTlp: 'GREEN',
    })
  })

  it('starts blank: Watchfloor’s API root, the "all" collection, a variable to name', () => {
    expect(emptyFeedForm()).toMatchObject({
      apiRoot: '/taxii2/api/',
      collectionId: 'all',
      authKind: 'bearer',
      secretEnv: 'WATCHFLOOR_FEED_',
      pollSeconds: '300',
      defaultTlp: 'AMBER',
      enabled: true,
    })
  })
})

describe('a feed as the table shows it', () => {
  it('builds the collection URL the server polls, whatever the slashes', () => {
    expect(collectionUrlOf(feed('a'))).toBe('https://taxii.partner.example/taxii2/api/collections/all/')
    expect(collectionUrlOf({ url: 'http://h:8080/', apiRoot: 'api', collectionId: 'x y' })).toBe(
      'http://h:8080/api/collections/x%20y/',
    )
    expect(collectionUrlOf({ url: 'http://h', apiRoot: '/', collectionId: 'c' })).toBe('http://h/collections/c/')
  })

  it('says how it authenticates, never with a secret', () => {
    expect(describeAuth({ kind: 'none' })).toBe('No authentication')
    expect(describeAuth({ kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_A' })).toBe('Bearer token from WATCHFLOOR_FEED_A')
    expect(describeAuth({ kind: 'basic', username: 'bob', secretEnv: 'WATCHFLOOR_FEED_B' })).toBe(
      'HTTP Basic as bob, password from WATCHFLOOR_FEED_B',
    )
  })

  it('tells a failing feed from a new, a disabled and a healthy one', () => {
    expect(feedHealth(feed('a'))).toBe('new')
    expect(feedHealth(feed('a', { state: state({ lastSuccessAt: null, lastError: null }) }))).toBe('new')
    expect(feedHealth(feed('a', { state: state() }))).toBe('ok')
    expect(feedHealth(feed('a', { enabled: false, state: state() }))).toBe('disabled')
    // a failure is shown even when the feed is off since
    expect(feedHealth(feed('a', { enabled: false, state: state({ lastError: 'down', consecutiveFailures: 1 }) }))).toBe(
      'failing',
    )
  })

  it('says the interval and what a poll did in words', () => {
    expect(describeInterval(300)).toBe('every 5m')
    expect(describeInterval(45)).toBe('every 45s')
    const none = { imported: 0, skipped: 0, reasons: [] }
    expect(describeOutcome({ ...none, objects: 12, stored: 10, refused: 0, pages: 1 })).toBe(
      '12 objects read, 10 new events stored, 0 refused, 0 skipped, 1 page',
    )
    expect(
      describeOutcome({
        objects: 4,
        imported: 1,
        stored: 1,
        refused: 1,
        skipped: 2,
        pages: 3,
        reasons: [
          { kind: 'skipped', reason: 'RED is not imported from a feed', count: 2, first: 'incident--1' },
          { kind: 'refused', reason: 'not released to cert-lv', count: 1 },
        ],
      }),
    ).toBe(
      '4 objects read, 1 new event stored, 1 refused, 2 skipped (RED is not imported from a feed; not released to cert-lv), 3 pages',
    )
  })

  it('reads the list by id, a missing list as empty, a feed not of protocol’s shape as the server’s fault', () => {
    expect(feedsOf({ feeds: [feed('b'), feed('a')] }).map((f) => f.id)).toEqual(['a', 'b'])
    expect(feedsOf({})).toEqual([])
    expect(feedsOf(null)).toEqual([])
    const odd = () => feedsOf({ feeds: [{ ...feed('a'), auth: { kind: 'oauth' } }] })
    expect(odd).toThrow(ApiError)
    expect(odd).toThrow(/not a list of feeds \(0\.auth/)
  })

  it('is read by admins and liaisons, not by a display token nor anyone else', () => {
    expect(mayReadFeeds(session(['admin']))).toBe(true)
    expect(mayReadFeeds(session(['liaison'], 'session'))).toBe(true)
    expect(mayReadFeeds(session(['admin'], 'display'))).toBe(false)
    expect(mayReadFeeds(session(['coordinator', 'sensor']))).toBe(false)
    expect(mayReadFeeds(null)).toBe(false)
  })
})

describe('the feeds’ REST calls', () => {
  it('lists, registers, enables and deletes through the console’s client', async () => {
    const list = fakeFetch(200, { feeds: [feed('b'), feed('a')] })
    expect((await loadFeeds(list)).map((f) => f.id)).toEqual(['a', 'b'])
    expect(callOf(list)[0]).toBe('/api/v1/feeds')
    expect(callOf(list)[1]).toMatchObject({ method: 'GET', credentials: 'same-origin' })

    const post = fakeFetch(201, { feed: feed('a') })
    const body = feedBodyOf({ ...emptyFeedForm('cert-ee'), id: 'a', label: 'A', url: 'https://x.example' })
    expect((await createFeed(body, post)).id).toBe('a')
    expect(callOf(post)[1]).toMatchObject({ method: 'POST', body: JSON.stringify(body) })

    const patch = fakeFetch(200, { feed: feed('a', { enabled: false }) })
    expect((await setFeedEnabled('a/b', false, patch)).enabled).toBe(false)
    expect(callOf(patch)[0]).toBe('/api/v1/feeds/a%2Fb')
    expect(callOf(patch)[1]).toMatchObject({ method: 'PATCH', body: '{"enabled":false}' })

    const del = fakeFetch(204, null)
    await deleteFeed('a', del)
    expect(callOf(del)).toEqual([feedPath('a'), expect.objectContaining({ method: 'DELETE' })])
  })

  it('polls now: the outcome, or the server’s reason the partner could not be read', async () => {
    const ok = fakeFetch(200, {
      outcome: { objects: 3, imported: 2, stored: 2, refused: 1, skipped: 0, pages: 1, reasons: [] },
      feed: feed('a'),
    })
    const done = await pollFeed('a', ok)
    expect(done).toMatchObject({ ok: true, outcome: { objects: 3, stored: 2, refused: 1, pages: 1 } })
    expect(callOf(ok)[0]).toBe('/api/v1/feeds/a/poll')
    expect(callOf(ok)[1]).toMatchObject({ method: 'POST' })

    const message =
      "the feed could not be polled: the environment variable WATCHFLOOR_FEED_X (the feed's secret) is not set"
    const down = fakeFetch(503, { error: { code: 'unavailable', message, details: { feed: feed('a') } } })
    expect(await pollFeed('a', down)).toMatchObject({
      ok: false,
      error: { status: 503, code: 'unavailable', message, issues: [] },
    })
    const lost = vi.fn(async () => {
      throw new TypeError('failed to fetch')
    })
    expect(await pollFeed('a', lost)).toMatchObject({ ok: false, error: { status: 0, code: 'unavailable' } })
  })
})

describe('a failed poll, said as the poll’s', () => {
  const failure = (status: number, code: string, message: string) => ({ status, code, message, issues: [] })
  it('a 503 of the poll: the reason alone; anything else is not the poll’s own failure', () => {
    expect(
      pollFailure(
        failure(
          503,
          'unavailable',
          'the feed could not be polled: https://taxii.partner.example refused the connection',
        ),
      ),
    ).toBe('https://taxii.partner.example refused the connection')
    expect(pollFailure(failure(409, 'conflict', 'feed x is being polled right now'))).toBeNull()
    expect(pollFailure(failure(0, 'unavailable', 'Failed to fetch'))).toBeNull()
    // another 503 of this server (its store away) is not said to be the partner's
    expect(pollFailure(failure(503, 'unavailable', 'the store is not available'))).toBeNull()
  })
})

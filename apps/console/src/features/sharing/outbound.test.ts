import type { FeedOutActivity } from '@watchfloor/protocol'
import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../data/api.ts'
import type { Session } from '../../data/store.ts'
import {
  ALL_COLLECTION_ID,
  curlOf,
  describePullError,
  FEEDS_OUT_PATH,
  loadFeedsOut,
  mayReadFeedsOut,
  mispFeedUrl,
  outboundCollections,
  pullHealth,
  sortActivity,
  taxiiApiRootUrl,
  taxiiDiscoveryUrl,
} from './outbound.ts'

describe('what partners pull from this floor', () => {
  it('names the TAXII and MISP URLs from the origin', () => {
    for (const origin of ['https://floor.example', 'https://floor.example/']) {
      expect(taxiiDiscoveryUrl(origin)).toBe('https://floor.example/taxii2/')
      expect(taxiiApiRootUrl(origin)).toBe('https://floor.example/taxii2/api/')
      expect(mispFeedUrl(origin)).toBe('https://floor.example/misp/feed/')
    }
  })

  it('lists "all", then a community-<id> alias per community, by id, as the server names them', () => {
    const collections = outboundCollections('http://h:8080', [
      { id: 'nordic', name: 'Nordic CERTs' },
      { id: 'baltic', name: 'Baltic CERTs' },
    ])
    expect(collections.map((c) => c.alias)).toEqual(['all', 'community-baltic', 'community-nordic'])
    expect(collections[0]).toEqual({
      alias: 'all',
      title: 'All I may see',
      id: ALL_COLLECTION_ID,
      objectsUrl: 'http://h:8080/taxii2/api/collections/all/objects/',
    })
    expect(collections[1]).toEqual({
      alias: 'community-baltic',
      title: 'Releasable to Baltic CERTs',
      community: 'baltic',
      objectsUrl: 'http://h:8080/taxii2/api/collections/community-baltic/objects/',
    })
    expect(outboundCollections('http://h', []).map((c) => c.alias)).toEqual(['all'])
  })

  it('keeps the id of "all" the server computes (uuidv5 of the TAXII namespace)', () => {
    expect(ALL_COLLECTION_ID).toBe('0cefe999-e035-5f3f-b2e9-40db7e0aca21')
  })

  it('shows a partner how to try it with a token of its own', () => {
    expect(curlOf('https://h/taxii2/')).toBe(
      `curl -H 'Accept: application/taxii+json;version=2.1' -H "Authorization: Bearer $TOKEN" https://h/taxii2/`,
    )
  })
})

const T1 = '2026-11-01T12:00:00.000Z'
const T2 = '2026-11-01T12:05:00.000Z'
const pulls = (organisation: string, channel: FeedOutActivity['channel'], extra: Partial<FeedOutActivity> = {}) =>
  ({
    organisation,
    channel,
    pulls: 3,
    failedPulls: 0,
    objectsServed: 40,
    lastPullObjects: 12,
    lastPullAt: T2,
    lastSuccessAt: T2,
    lastError: null,
    ...extra,
  }) satisfies FeedOutActivity
const session = (roles: Session['roles'], kind?: Session['kind']): Session => ({
  user: 'u',
  organisation: 'cert-lv',
  nation: 'LV',
  roles,
  ...(kind === undefined ? {} : { kind }),
})

describe('what partners pulled from this floor', () => {
  it('is read by admins, liaisons and coordinators, not by a display token nor anyone else', () => {
    expect(mayReadFeedsOut(session(['admin']))).toBe(true)
    expect(mayReadFeedsOut(session(['liaison']))).toBe(true)
    expect(mayReadFeedsOut(session(['coordinator'], 'session'))).toBe(true)
    expect(mayReadFeedsOut(session(['admin'], 'display'))).toBe(false)
    expect(mayReadFeedsOut(session(['analyst', 'sensor', 'watch_officer']))).toBe(false)
    expect(mayReadFeedsOut(null)).toBe(false)
  })

  it('tells a refused last pull from a healthy one and from one that never succeeded', () => {
    expect(pullHealth(pulls('cert-lv', 'taxii'))).toBe('ok')
    const refusedLast = { status: 406, message: 'the Accept header must include …', at: T2 }
    expect(pullHealth(pulls('cert-lv', 'taxii', { lastSuccessAt: T1, lastError: refusedLast }))).toBe('failing')
    // an error before the last success is history, not the state
    expect(pullHealth(pulls('cert-lv', 'taxii', { lastError: { ...refusedLast, at: T1 } }))).toBe('ok')
    expect(pullHealth(pulls('cert-lv', 'taxii', { lastSuccessAt: null, lastError: { ...refusedLast, at: T1 } }))).toBe(
      'never',
    )
    expect(describePullError(refusedLast)).toBe('406: the Accept header must include …')
  })

  it('lists by organisation, TAXII before MISP', () => {
    const sorted = sortActivity([pulls('cert-lv', 'misp'), pulls('cert-lv', 'taxii'), pulls('cert-ee', 'misp')])
    expect(sorted.map((a) => `${a.organisation}/${a.channel}`)).toEqual([
      'cert-ee/misp',
      'cert-lv/taxii',
      'cert-lv/misp',
    ])
  })

  it('reads GET /api/v1/feeds/out through the console’s client, with protocol’s schema', async () => {
    const ok = vi.fn(async () => Response.json({ activity: [pulls('cert-lv', 'misp'), pulls('cert-ee', 'taxii')] }))
    expect((await loadFeedsOut(ok)).map((a) => a.organisation)).toEqual(['cert-ee', 'cert-lv'])
    expect((ok.mock.calls[0] as unknown as [string, RequestInit])[0]).toBe(FEEDS_OUT_PATH)
    // a reply not of the promised shape is the server's fault, said so
    const odd = vi.fn(async () => Response.json({ activity: [{ organisation: 'cert-lv', channel: 'ftp' }] }))
    const thrown = await loadFeedsOut(odd).catch((error: unknown) => error)
    expect(thrown).toBeInstanceOf(ApiError)
    expect((thrown as ApiError).failure.error).toMatchObject({ code: 'internal' })
    expect((thrown as ApiError).failure.error.message).toContain('activity.0.channel')
    // a refusal is the server's error body
    const refused = vi.fn(async () =>
      Response.json({ error: { code: 'forbidden', message: 'what partners pull is for admins' } }, { status: 403 }),
    )
    const denied = await loadFeedsOut(refused).catch((error: unknown) => error)
    expect((denied as ApiError).failure).toMatchObject({ status: 403, error: { code: 'forbidden' } })
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoredEvent } from '@watchfloor/protocol'
import { TLP2_MARKING_IDS } from '@watchfloor/sharing'
import { SqliteEventStore } from '@watchfloor/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, post, type ServerProcess, startServerProcess, TOKENS, tokensWithAdmin } from './harness.ts'

/**
 * What partners send in, on every incoming path (a feed's poll, `POST /api/v1/import/stix`, TAXII
 * Add Objects), against a real server and a partner's TAXII server over http:
 * - one malformed object is never a failed bundle, a 500 or a feed stuck on its page: it is refused
 *   as invalid, or skipped saying why, and the rest comes in (the feed's cursor moves past it);
 * - a feed's partner's Watchfloor ids are the partner's: they reach only what the feed made, never
 *   an incident, network or advisory of this floor's with the same id;
 * - a statement named `TLP:RED` never lets what it marks reach more than RED would;
 * - what a feed's partner served (its marking definitions) is not read for another partner's.
 */

const ADMIN = 'incoming-admin-token-0123456789'
const TAXII = 'application/taxii+json;version=2.1'
const T = '2026-11-26T08:00:00.000Z'
const ADDED = '2026-11-26T09:00:00.000000Z'

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } }
interface Outcome {
  objects: number
  imported: number
  stored: number
  refused: number
  skipped: number
  reasons: { kind: 'skipped' | 'refused'; reason: string; count: number; first?: string }[]
}
interface PollReply extends Json {
  outcome: Outcome
  feed: { state: { cursor: string | null; lastError: string | null; consecutiveFailures: number } | null }
}
interface Incident {
  incidentId: string
  title: string
  severity: string
  organisation: string
  observationCount: number
  marking: { tlp: string; releasableTo?: string[] }
}
interface Network {
  networkId: string
  name: string
  lastReportAt?: string
}

async function call<T = Json>(base: string, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as T }
}

async function push(base: string, token: string, body: string) {
  const response = await fetch(`${base}/taxii2/api/collections/all/objects/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, accept: TAXII, 'content-type': TAXII },
    body,
  })
  const text = await response.text()
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as Json }
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

let serial = 0
const uuid = () => `00000000-0000-4000-8000-${(++serial).toString(16).padStart(12, '0')}`
const sdo = (type: string, properties: Record<string, unknown> = {}): { id: string; [property: string]: unknown } => ({
  type,
  spec_version: '2.1',
  id: `${type}--${uuid()}`,
  created: T,
  modified: T,
  object_marking_refs: [TLP2_MARKING_IDS.GREEN],
  ...properties,
})
const incident = (name: string, properties: Record<string, unknown> = {}) => sdo('incident', { name, ...properties })
const observedData = (properties: Record<string, unknown>) =>
  sdo('observed-data', { first_observed: T, last_observed: T, number_observed: 1, ...properties })
const statement = (name: string) => ({
  type: 'marking-definition',
  spec_version: '2.1',
  id: `marking-definition--${uuid()}`,
  created: T,
  definition_type: 'statement',
  name,
  definition: { statement: 'Handle with care' },
})

/** A JSON text whose objects are `objects`, `DEEP` in any of them standing for lists 20,000 deep. */
const DEEP = '__deep__'
const DEEP_JSON = `${'['.repeat(20_000)}"x"${']'.repeat(20_000)}`
const textOf = (value: unknown) => JSON.stringify(value).replaceAll(`"${DEEP}"`, DEEP_JSON)

/**
 * A partner's TAXII server: each collection (by id) serves all its objects on one page, whatever
 * the filters (a server that ignores `added_after` serves the same objects again at every poll), as
 * raw JSON text, added at `ADDED`; a request by id (`match[id]`) gets nothing.
 */
async function partnerServing(collections: Record<string, unknown[]>) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://partner')
    const collection = /\/collections\/([^/]+)\/objects\/$/.exec(url.pathname)?.[1] ?? ''
    const objects = url.searchParams.has('match[id]') ? [] : (collections[collection] ?? [])
    res.writeHead(200, {
      'content-type': TAXII,
      ...(objects.length === 0 ? {} : { 'x-taxii-date-added-first': ADDED, 'x-taxii-date-added-last': ADDED }),
    })
    res.end(textOf({ more: false, ...(objects.length === 0 ? {} : { objects }) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

describe('incoming sharing paths: a partner object never fails a bundle, never speaks for this floor, never widens', () => {
  let floor: ServerProcess
  let partner: Awaited<ReturnType<typeof partnerServing>>
  let dir: string
  const collections: Record<string, unknown[]> = {}

  const register = async (id: string, collectionId: string, extra: Record<string, unknown> = {}) => {
    const registered = await call(floor.url, 'POST', '/api/v1/feeds', ADMIN, {
      id,
      label: id,
      url: partner.url,
      apiRoot: 'taxii2/api',
      collectionId,
      organisation: 'cert-lv',
      defaultTlp: 'GREEN',
      enabled: false,
      ...extra,
    })
    expect(registered.status, JSON.stringify(registered.json)).toBe(201)
  }
  const pollNow = (id: string) => call<PollReply>(floor.url, 'POST', `/api/v1/feeds/${id}/poll`, ADMIN)
  const stateOf = async (token: string) =>
    (await call<{ incidents: Incident[]; networks: Network[] }>(floor.url, 'GET', '/api/v1/state', token)).json
  const incidentsOf = async (token: string) => new Map((await stateOf(token)).incidents.map((i) => [i.incidentId, i]))
  const reportedTitles = async (prefix: string) =>
    (await wholeLog(floor))
      .filter((e) => e.type === 'incident.reported')
      .map((e) => (e.payload as { title: string }).title)
      .filter((title) => title.startsWith(prefix))
      .sort()

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-incoming-'))
    floor = await startServerProcess({ env: { WATCHFLOOR_TOKENS: tokensWithAdmin(dir, ADMIN) } })
    partner = await partnerServing(collections)
    // cert-lv's own incident, kept in cert-lv, and its network; cert-ee's incident, for cert-ee only
    const lv = await post(floor.url, TOKENS.sensorLv, {
      events: [
        event({
          type: 'network.registered',
          source: { organisation: 'cert-lv' },
          occurredAt: '2026-11-26T07:00:00.000Z',
          payload: {
            networkId: 'NET-LV-1',
            name: 'LV ministries',
            organisation: 'cert-lv',
            nation: 'LV',
            kind: 'government',
            location: { lat: 56.9, lon: 24.1 },
          },
        }),
        event({
          type: 'incident.reported',
          source: { organisation: 'cert-lv' },
          marking: { tlp: 'AMBER+STRICT' },
          payload: {
            incidentId: 'INC-LV-1',
            title: 'LV internal: ministry breach',
            severity: 'critical',
            category: 'intrusions',
            affectedNetworks: ['NET-LV-1'],
          },
        }),
      ],
    })
    expect(lv.status, JSON.stringify(lv.json)).toBe(201)
    const ee = await post(floor.url, TOKENS.sensorEe, {
      events: [
        event({
          type: 'incident.reported',
          marking: { tlp: 'AMBER' },
          payload: {
            incidentId: 'INC-EE-SECRET',
            title: 'EE secret',
            severity: 'high',
            category: 'malware',
            affectedNetworks: [],
          },
        }),
      ],
    })
    expect(ee.status, JSON.stringify(ee.json)).toBe(201)
  })
  afterAll(async () => {
    await Promise.all([floor?.stop(), partner?.close()])
    rmSync(dir, { recursive: true, force: true })
  })

  // an observed-data holding a null, one holding a number, an object nested 20,000 deep where a
  // releasability goes, and a day the calendar does not have, among valid objects
  const malformed = () => {
    const objects = {
      nullObservable: observedData({ objects: { '0': null }, x_watchfloor_incident_id: 'INC-LV-1' }),
      numberObservable: observedData({ objects: { '0': 5 }, x_watchfloor_incident_id: 'INC-LV-1' }),
      deep: incident('Malformed deep', { x_watchfloor_releasable_to: { a: DEEP } }),
      noSuchDay: incident('Malformed no such day', { created: '2026-02-31T00:00:00.000Z' }),
    }
    return objects
  }
  const DEEP_SHOWN = 'x_watchfloor_releasable_to is {"a":[[[[…]]]]}, not a list of ids'

  it('a feed: the valid objects of a page with malformed ones come in, the others are skipped saying why, the cursor moves on', async () => {
    const odd = malformed()
    const valid = [incident('Malformed page 1'), incident('Malformed page 2')]
    collections.malformed = [valid[0], odd.nullObservable, odd.deep, odd.noSuchDay, odd.numberObservable, valid[1]]
    await register('malformed', 'malformed')
    const polled = await pollNow('malformed')
    expect(polled.status, JSON.stringify(polled.json)).toBe(200)
    expect(await reportedTitles('Malformed')).toEqual(['Malformed page 1', 'Malformed page 2'])
    expect(polled.json.outcome).toMatchObject({ objects: 6, imported: 2, stored: 2, skipped: 4, refused: 0 })
    // each reason once, with how many and the first it was given for
    expect(polled.json.outcome.reasons.map((r) => [r.first, r.count, r.reason])).toEqual([
      [odd.nullObservable.id, 2, 'not valid STIX 2.1: objects.0: must be a cyber-observable: an object with a type'],
      [odd.noSuchDay.id, 1, 'not valid STIX 2.1: created: must be a day the calendar has (RFC 3339), not 2026-02-31'],
      [odd.deep.id, 1, `a marking it gives cannot be read, so whom it may reach is unknown: ${DEEP_SHOWN}`],
    ])
    expect(polled.json.feed.state).toMatchObject({ cursor: ADDED, lastError: null, consecutiveFailures: 0 })
    // polled again (this partner serves the same page again): nothing fails, nothing new
    const again = await pollNow('malformed')
    expect(again.status, JSON.stringify(again.json)).toBe(200)
    expect(again.json.outcome).toMatchObject({ objects: 6, imported: 0, stored: 0, skipped: 4 })
  })

  it('POST /api/v1/import/stix: an invalid observable or day is a 400 naming it; a deep value skips its object; never a 500', async () => {
    const odd = malformed()
    const bundle = (...objects: unknown[]) => textOf({ type: 'bundle', id: `bundle--${uuid()}`, objects })
    const fine = incident('Imported beside a malformed one')
    for (const [object, path, message] of [
      [odd.nullObservable, 'objects.1.objects.0', 'must be a cyber-observable: an object with a type'],
      [odd.numberObservable, 'objects.1.objects.0', 'must be a cyber-observable: an object with a type'],
      [odd.noSuchDay, 'objects.1.created', 'must be a day the calendar has (RFC 3339), not 2026-02-31'],
    ] as const) {
      const refused = await call(floor.url, 'POST', '/api/v1/import/stix', TOKENS.sensorLv, bundle(fine, object))
      expect(refused.status, JSON.stringify(refused.json)).toBe(400)
      expect(refused.json.error!.code).toBe('validation')
      expect((refused.json.error!.details as { issues: unknown[] }).issues).toEqual([{ path, message }])
    }
    const deep = await call<{ created: { stixId: string }[]; skipped: { stixId: string; reason: string }[] } & Json>(
      floor.url,
      'POST',
      '/api/v1/import/stix',
      TOKENS.sensorLv,
      bundle(fine, odd.deep),
    )
    expect(deep.status, JSON.stringify(deep.json)).toBe(200)
    expect(deep.json.created.map((entry) => entry.stixId)).toEqual([fine.id])
    expect(deep.json.skipped).toEqual([
      {
        stixId: odd.deep.id,
        type: 'incident',
        reason: `a marking it gives cannot be read, so whom it may reach is unknown: ${DEEP_SHOWN}`,
      },
    ])
  })

  it('TAXII Add Objects: an invalid observable or day is a 422 naming it; a deep value is a failure of its object; never a 500', async () => {
    const odd = malformed()
    const fine = incident('Pushed beside a malformed one')
    for (const object of [odd.nullObservable, odd.numberObservable, odd.noSuchDay]) {
      const refused = await push(floor.url, TOKENS.sensorLv, textOf({ objects: [fine, object] }))
      expect(refused.status, JSON.stringify(refused.json)).toBe(422)
      expect(refused.json.http_status).toBe('422')
    }
    const deep = await push(floor.url, TOKENS.sensorLv, textOf({ objects: [fine, odd.deep] }))
    expect(deep.status, JSON.stringify(deep.json)).toBe(202)
    expect(deep.json).toMatchObject({
      success_count: 1,
      successes: [{ id: fine.id, message: 'added as 1 event' }],
      failure_count: 1,
      failures: [
        {
          id: odd.deep.id,
          message: `a marking it gives cannot be read, so whom it may reach is unknown: ${DEEP_SHOWN}`,
        },
      ],
    })
  })

  it("a feed's Watchfloor ids are its partner's: they never reach this floor's incident, network or advisory of the same id", async () => {
    // what another Watchfloor exports of its own INC-LV-1 and NET-LV-1 (ids that name others here)
    const network = sdo('identity', {
      name: "Partner's network",
      identity_class: 'system',
      x_watchfloor_network_id: 'NET-LV-1',
      x_watchfloor_organisation: 'cert-lv',
      x_watchfloor_nation: 'LV',
      x_watchfloor_network_kind: 'government',
    })
    const place = sdo('location', { latitude: 57.1, longitude: 25.0 })
    const locatedAt = sdo('relationship', {
      relationship_type: 'located-at',
      source_ref: network.id,
      target_ref: place.id,
    })
    const theirs = incident("Partner's own incident 1", {
      x_watchfloor_incident_id: 'INC-LV-1',
      x_watchfloor_severity: 'low',
      x_watchfloor_affected_networks: ['NET-LV-1'],
    })
    // a sighting of it by its STIX id, seen on its network; one of another incident of the partner's
    const sighting = sdo('sighting', {
      sighting_of_ref: theirs.id,
      where_sighted_refs: [network.id],
      x_watchfloor_incident_id: 'INC-LV-1',
      description: '192.0.2.7',
      count: 7,
      last_seen: '2026-11-26T08:30:00.000Z',
    })
    const elsewhere = sdo('sighting', {
      sighting_of_ref: `incident--${uuid()}`,
      x_watchfloor_incident_id: 'INC-EE-SECRET',
      description: '192.0.2.9',
      count: 500,
    })
    collections.watchfloor = [network, place, locatedAt, theirs, sighting, elsewhere]
    // the partner's later page: a sighting that names its incident by the partner's id alone
    collections['watchfloor-later'] = [
      sdo('sighting', {
        sighting_of_ref: theirs.id,
        x_watchfloor_incident_id: 'INC-LV-1',
        description: '192.0.2.8',
        count: 2,
      }),
    ]
    await register('lv-partner', 'watchfloor', { defaultTlp: 'AMBER' })
    // [A9] the feed's namespace is the feed's: nobody else takes its ids first, or sights on them
    const taken = [
      event({
        type: 'incident.reported',
        source: { organisation: 'cert-lv' },
        payload: {
          incidentId: 'INC-LV-1@feed:lv-partner',
          title: 'first!',
          severity: 'low',
          category: 'x',
          affectedNetworks: [],
        },
      } as never),
      event({
        type: 'network.registered',
        source: { organisation: 'cert-lv' },
        payload: {
          networkId: 'NET-LV-1@feed:lv-partner',
          name: 'first!',
          organisation: 'cert-lv',
          nation: 'LV',
          kind: 'government',
          location: { lat: 57, lon: 25 },
        },
      } as never),
      event({
        type: 'incident.observation',
        source: { organisation: 'cert-lv' },
        payload: { incidentId: 'INC-LV-1@feed:lv-partner', count: 3 },
      } as never),
    ]
    for (const one of taken) {
      const refused = await post(floor.url, TOKENS.sensorLv, { events: [one] })
      expect(refused.status, JSON.stringify(refused.json)).toBe(403)
      expect(JSON.stringify(refused.json)).toContain('A9')
    }
    const before = (await stateOf(TOKENS.viewerLv)).networks.find((n) => n.networkId === 'NET-LV-1')!
    const polled = await pollNow('lv-partner')
    expect(polled.status, JSON.stringify(polled.json)).toBe(200)
    // nothing refused: no id taken, nothing said about whose it is (A5 never comes into it)
    expect(polled.json.outcome.refused).toBe(0)
    // the network, the incident and both sightings (the location and located-at served the network)
    expect(polled.json.outcome.imported).toBe(4)

    // cert-lv's own incident and network are as cert-lv left them
    const lv = await incidentsOf(TOKENS.viewerLv)
    expect(lv.get('INC-LV-1')).toMatchObject({
      title: 'LV internal: ministry breach',
      severity: 'critical',
      marking: { tlp: 'AMBER+STRICT' },
      observationCount: 0,
    })
    const after = (await stateOf(TOKENS.viewerLv)).networks.find((n) => n.networkId === 'NET-LV-1')!
    expect(after).toEqual(before)
    // the partner's incident is the feed's own, marked as the partner marked it, its sighting on it
    const id = 'INC-LV-1@feed:lv-partner'
    expect(lv.get(id)).toMatchObject({
      title: "Partner's own incident 1",
      organisation: 'cert-lv',
      severity: 'low',
      marking: { tlp: 'GREEN' },
      observationCount: 7,
    })
    expect((await stateOf(TOKENS.viewerLv)).networks.map((n) => n.networkId)).toContain('NET-LV-1@feed:lv-partner')
    // another organisation sees the GREEN copy, never cert-lv's AMBER+STRICT incident
    const nl = await incidentsOf(TOKENS.viewerNl)
    expect(nl.has('INC-LV-1')).toBe(false)
    expect(nl.get(id)?.title).toBe("Partner's own incident 1")
    // cert-ee's incident counts nothing a partner of cert-lv's said
    expect((await incidentsOf(TOKENS.viewerEe)).get('INC-EE-SECRET')).toMatchObject({ observationCount: 0 })
    const log = await wholeLog(floor)
    expect(log.filter((e) => e.actor?.user === 'feed:lv-partner').length).toBeGreaterThan(0)
    const onOthers = log.filter(
      (e) =>
        e.actor?.user === 'feed:lv-partner' &&
        ['INC-LV-1', 'INC-EE-SECRET', 'NET-LV-1'].some((other) => JSON.stringify(e.payload).includes(`"${other}"`)),
    )
    expect(onOthers).toEqual([])

    // polled again, the same objects land on the same incident: nothing new, nothing counted twice
    const again = await pollNow('lv-partner')
    expect(again.status, JSON.stringify(again.json)).toBe(200)
    expect(again.json.outcome).toMatchObject({ imported: 0, stored: 0, refused: 0 })
    expect((await incidentsOf(TOKENS.viewerLv)).get(id)).toMatchObject({ observationCount: 7 })
    // a later page (here: another collection of the partner's) names it by the partner's id: the same incident
    expect(
      (await call(floor.url, 'PATCH', '/api/v1/feeds/lv-partner', ADMIN, { collectionId: 'watchfloor-later' })).status,
    ).toBe(200)
    const later = await pollNow('lv-partner')
    expect(later.json.outcome).toMatchObject({ imported: 1, stored: 1, refused: 0 })
    expect((await incidentsOf(TOKENS.viewerLv)).get(id)).toMatchObject({ observationCount: 9 })
    expect((await incidentsOf(TOKENS.viewerLv)).get('INC-LV-1')).toMatchObject({ observationCount: 0 })
  })

  it('a statement named TLP:RED marks RED, which a feed skips; one named TLP:AMBER+STRICT is never read as the GREEN default', async () => {
    const red = statement('TLP:RED')
    const strict = statement('TLP:AMBER+STRICT')
    const purple = statement('TLP:PURPLE')
    const byRed = incident('Statement RED', { object_marking_refs: [red.id] })
    const byStrict = incident('Statement AMBER+STRICT', { object_marking_refs: [strict.id] })
    const byPurple = incident('Statement PURPLE', { object_marking_refs: [purple.id] })
    collections.statements = [red, strict, purple, byRed, byStrict, byPurple]
    await register('statements', 'statements', { defaultTlp: 'GREEN' })
    const polled = await pollNow('statements')
    expect(polled.status, JSON.stringify(polled.json)).toBe(200)
    expect(polled.json.outcome).toMatchObject({ imported: 1, skipped: 2 })
    const reasons = new Map(polled.json.outcome.reasons.map((r) => [r.first, r.reason]))
    expect(reasons.get(byRed.id)).toContain('a feed never imports RED')
    expect(reasons.get(byPurple.id)).toContain('a marking this import does not know or cannot read')
    const reported = (await wholeLog(floor)).filter(
      (e) => e.type === 'incident.reported' && (e.payload as { title: string }).title.startsWith('Statement'),
    )
    expect(reported.map((e) => [(e.payload as { title: string }).title, e.marking.tlp])).toEqual([
      ['Statement AMBER+STRICT', 'AMBER+STRICT'],
    ])
    expect((await incidentsOf(TOKENS.viewerNl)).get(`${byRed.id}@cert-lv`)).toBeUndefined()
  })

  it("a feed repointed, or deleted and made again, does not read its new partner's objects with the old one's definitions", async () => {
    // the first partner defines a marking of its own as GREEN; the second means something else by
    // the same id, and does not give it when asked
    const theirGreen = {
      type: 'marking-definition',
      spec_version: '2.1',
      id: `marking-definition--${uuid()}`,
      created: T,
      definition_type: 'TLP',
      name: 'TLP:GREEN',
      definition: { TLP: 'GREEN' },
    }
    collections['first-partner'] = [theirGreen, incident('Defined 1', { object_marking_refs: [theirGreen.id] })]
    collections['second-partner'] = [incident('Defined 2', { object_marking_refs: [theirGreen.id] })]
    await register('definitions', 'first-partner', { defaultTlp: 'AMBER' })
    expect((await pollNow('definitions')).json.outcome).toMatchObject({ imported: 1, skipped: 0 })
    // repointed: the second partner's object is not read with the first one's definition
    const patched = await call(floor.url, 'PATCH', '/api/v1/feeds/definitions', ADMIN, {
      collectionId: 'second-partner',
    })
    expect(patched.status).toBe(200)
    const repointed = await pollNow('definitions')
    expect(repointed.status, JSON.stringify(repointed.json)).toBe(200)
    expect(repointed.json.outcome).toMatchObject({ imported: 0, skipped: 1 })
    expect(repointed.json.outcome.reasons[0]!.reason).toContain('a marking this import does not know or cannot read')
    // back on the first partner it reads the definition again; then the feed is deleted, and made
    // again under the same id on the same url and collection, which another partner now serves:
    // a feed made anew has none of the old one's definitions
    await call(floor.url, 'PATCH', '/api/v1/feeds/definitions', ADMIN, { collectionId: 'first-partner' })
    expect((await pollNow('definitions')).json.outcome).toMatchObject({ skipped: 0 })
    expect((await call(floor.url, 'DELETE', '/api/v1/feeds/definitions', ADMIN)).status).toBe(204)
    collections['first-partner'] = [incident('Defined 3', { object_marking_refs: [theirGreen.id] })]
    await register('definitions', 'first-partner', { defaultTlp: 'AMBER' })
    const remade = await pollNow('definitions')
    expect(remade.status, JSON.stringify(remade.json)).toBe(200)
    expect(remade.json.outcome).toMatchObject({ imported: 0, skipped: 1 })
    expect(await reportedTitles('Defined')).toEqual(['Defined 1'])
  })
})

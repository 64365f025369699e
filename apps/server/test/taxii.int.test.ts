import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canSee } from '@watchfloor/core'
import type { EventInput, Marking, StoredEvent, Viewer } from '@watchfloor/protocol'
import { type StixObject, stixIds, TLP2_MARKING_IDS, UUID_NAMESPACE_URL, uuidv5 } from '@watchfloor/sharing'
import { SqliteEventStore } from '@watchfloor/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, logHead, PRINCIPALS, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

/**
 * TAXII 2.1 (apps/server/src/taxii/): discovery, the API root, collections ("all" and one per
 * community), objects, manifests and versions with their filters and both ways of paging, Add
 * Objects with its status, content negotiation and authentication, each answer only what the
 * caller's own projection holds (expected visibility from core's `canSee` over the posted
 * events), and a federation of two instances through TAXII and the STIX import.
 */

const TAXII = 'application/taxii+json;version=2.1'
const ADMIN = 'taxii-admin-token-0123456789'
const COMMUNITY = 'baltic-watch'
const NAMESPACE = uuidv5(UUID_NAMESPACE_URL, 'urn:watchfloor:taxii')
const ALL = uuidv5(NAMESPACE, 'all')
const BALTIC = uuidv5(NAMESPACE, `community:${COMMUNITY}`)
const MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

type Json = Record<string, unknown>
interface Envelope {
  more?: boolean
  next?: string
  objects?: StixObject[]
}
interface Manifest {
  more?: boolean
  next?: string
  objects?: { id: string; date_added: string; version: string; media_type: string }[]
}
interface Reply<T> {
  status: number
  json: T
  headers: Headers
  text: string
}
type Credential = string | { basic: string } | null

async function taxii<T = Json>(
  base: string,
  path: string,
  credential: Credential,
  init: {
    method?: string
    body?: unknown
    accept?: string | null
    contentType?: string
    headers?: Record<string, string>
  } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...init.headers }
  if (init.accept !== null) headers.accept = init.accept ?? TAXII
  if (typeof credential === 'string') headers.authorization = `Bearer ${credential}`
  else if (credential !== null) headers.authorization = `Basic ${Buffer.from(credential.basic).toString('base64')}`
  if (init.body !== undefined) headers['content-type'] = init.contentType ?? TAXII
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  })
  const text = await response.text()
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as T, headers: response.headers, text }
}

async function rest<T = Json>(base: string, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, json: (await response.json()) as T }
}

const objectsPath = (collection: string, query = '') => `/taxii2/api/collections/${collection}/objects/${query}`

/** Every object of a collection, page after page with `next`. */
async function allObjects(base: string, credential: Credential, collection = ALL, query = ''): Promise<StixObject[]> {
  const objects: StixObject[] = []
  let next: string | undefined
  for (let pages = 0; pages < 100; pages++) {
    const params = new URLSearchParams(query)
    if (next !== undefined) params.set('next', next)
    const reply = await taxii<Envelope>(base, objectsPath(collection, `?${params}`), credential)
    expect(reply.status, reply.text.slice(0, 300)).toBe(200)
    objects.push(...(reply.json.objects ?? []))
    if (!reply.json.more) return objects
    next = reply.json.next
  }
  throw new Error('more than 100 pages')
}

const idsOf = (objects: readonly { id: string }[]) => objects.map((o) => o.id)
const ofType = (objects: readonly StixObject[], type: string) => objects.filter((o) => o.type === type)
const sorted = (ids: Iterable<string>) => [...ids].sort()

interface Incident {
  incidentId: string
  title: string
  organisation: string
  marking: Marking
}
const incidentsOf = async (base: string, token: string) =>
  new Map(
    (await rest<{ incidents: Incident[] }>(base, 'GET', '/api/v1/state', token)).json.incidents.map((i) => [
      i.title,
      i,
    ]),
  )

async function startWithAdmin(dir: string, name: string): Promise<ServerProcess> {
  const tokens = join(dir, `${name}-tokens.json`)
  writeFileSync(
    tokens,
    JSON.stringify([
      ...PRINCIPALS,
      { token: ADMIN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] },
    ]),
  )
  return startServerProcess({ env: { WATCHFLOOR_TOKENS: tokens } })
}

const viewer = (organisation: string, nation: string, userId: string, roles: string[], communities: string[] = []) =>
  ({ organisation, nation, userId, roles, ...(communities.length > 0 ? { communities } : {}) }) as Viewer

/** The markings the incidents cycle through (observations take their incident's, unless said). */
const MARKINGS: Marking[] = [
  { tlp: 'GREEN' },
  { tlp: 'CLEAR' },
  { tlp: 'AMBER' },
  { tlp: 'AMBER', releasableTo: ['cert-lv'] },
  { tlp: 'AMBER+STRICT' },
  { tlp: 'RED', recipients: ['red-reader'] },
  { tlp: 'AMBER', releasableTo: [COMMUNITY] },
  { tlp: 'GREEN', releasableTo: ['ncsc-nl'] },
  { tlp: 'RED', recipients: [] },
  { tlp: 'AMBER', releasableTo: ['LV'] },
]

const reported = (incidentId: string, title: string, marking: Marking) =>
  event({
    type: 'incident.reported',
    payload: { incidentId, title, severity: 'high', category: 'malware', affectedNetworks: [] },
    marking,
  } as never)
const observed = (incidentId: string, indicator: string, marking: Marking) =>
  event({ type: 'incident.observation', payload: { incidentId, indicator, count: 2 }, marking } as never)

/** 30 incidents of cert-ee, two observations each, in six posts (six recordedAt). */
function floorEvents(): EventInput[][] {
  const batches: EventInput[][] = []
  for (let batch = 0; batch < 6; batch++) {
    const events: EventInput[] = []
    for (let k = 0; k < 5; k++) {
      const i = batch * 5 + k
      const marking = MARKINGS[i % MARKINGS.length]!
      events.push(reported(`taxii-${i}`, `Incident ${i} (${marking.tlp})`, marking))
      events.push(observed(`taxii-${i}`, `198.51.100.${i + 1}`, marking))
      // the second observation of every GREEN incident is stricter than its incident
      events.push(
        observed(`taxii-${i}`, `Failed logins wave ${i}`, marking.tlp === 'GREEN' ? { tlp: 'AMBER+STRICT' } : marking),
      )
    }
    batches.push(events)
  }
  return batches
}

describe('TAXII 2.1: Watchfloor as a TAXII server, each caller served its own projection', () => {
  let server: ServerProcess
  let dir: string
  /** The events posted, as stored (seq, recordedAt, actor), read back by their author. */
  let posted: StoredEvent[]

  const VIEWERS = {
    kadri: { token: TOKENS.viewerEe, viewer: viewer('cert-ee', 'EE', 'kadri', ['watch_officer'], [COMMUNITY]) },
    janis: { token: TOKENS.viewerLv, viewer: viewer('cert-lv', 'LV', 'janis', ['liaison'], [COMMUNITY]) },
    redReader: { token: TOKENS.redReader, viewer: viewer('cert-lv', 'LV', 'red-reader', ['analyst'], [COMMUNITY]) },
    pieter: { token: TOKENS.viewerNl, viewer: viewer('ncsc-nl', 'NL', 'pieter', ['analyst']) },
    officer: { token: TOKENS.watchOfficer, viewer: viewer('alliance', 'ALLIANCE', 'officer', ['watch_officer']) },
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-taxii-'))
    server = await startWithAdmin(dir, 'taxii')
    const community = await rest(server.url, 'POST', '/api/v1/directory/communities', ADMIN, {
      id: COMMUNITY,
      name: 'Baltic watch',
      members: ['cert-ee', 'cert-lv'],
    })
    expect(community.status).toBe(201)
    let count = 0
    for (const events of floorEvents()) {
      const reply = await post(server.url, TOKENS.sensorEe, { events })
      expect(reply.status).toBe(201)
      count += events.length
    }
    const mine = await rest<{ events: StoredEvent[] }>(server.url, 'GET', '/api/v1/events?limit=5000', TOKENS.sensorEe)
    posted = mine.json.events
    expect(posted.length).toBe(count)
  })
  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  /** What core says a viewer may see of the posted events, as STIX ids of incidents and sightings. */
  const expected = (v: Viewer, where: (e: StoredEvent) => boolean = () => true) => ({
    incidents: sorted(
      posted
        .filter((e) => e.type === 'incident.reported' && canSee(v, e) && where(e))
        .map((e) => stixIds.incident((e.payload as { incidentId: string }).incidentId)),
    ),
    sightings: sorted(
      posted
        .filter((e) => e.type === 'incident.observation' && canSee(v, e) && where(e))
        .map((e) => stixIds.sighting(e.id)),
    ),
  })

  it('discovery, the API root and the collections are TAXII 2.1 resources with the TAXII media type', async () => {
    const discovery = await taxii(server.url, '/taxii2/', TOKENS.viewerLv)
    expect(discovery.status).toBe(200)
    expect(discovery.headers.get('content-type')).toBe(TAXII)
    expect(discovery.json).toMatchObject({
      title: expect.any(String),
      default: '/taxii2/api/',
      api_roots: ['/taxii2/api/'],
    })

    const root = await taxii(server.url, '/taxii2/api/', TOKENS.viewerLv)
    expect(root.status).toBe(200)
    expect(root.headers.get('content-type')).toBe(TAXII)
    expect(root.json).toMatchObject({
      title: expect.any(String),
      versions: [TAXII],
      max_content_length: 10 * 1024 * 1024,
    })

    type Collections = { collections: { id: string; can_read: boolean; can_write: boolean; media_types: string[] }[] }
    const janis = await taxii<Collections>(server.url, '/taxii2/api/collections/', TOKENS.viewerLv)
    expect(janis.status).toBe(200)
    expect(janis.headers.get('content-type')).toBe(TAXII)
    expect(janis.json.collections.map((c) => c.id)).toEqual([ALL, BALTIC])
    for (const collection of janis.json.collections)
      expect(collection).toMatchObject({
        title: expect.any(String),
        can_read: true,
        can_write: false, // a liaison posts nothing
        media_types: ['application/stix+json;version=2.1'],
      })
    const sensor = await taxii<Collections>(server.url, '/taxii2/api/collections/', TOKENS.sensorLv)
    expect(sensor.json.collections.map((c) => [c.id, c.can_write])).toEqual([
      [ALL, true],
      [BALTIC, true],
    ])
    // not a member: only "all"; an admin: every community
    const pieter = await taxii<Collections>(server.url, '/taxii2/api/collections/', TOKENS.viewerNl)
    expect(pieter.json.collections.map((c) => c.id)).toEqual([ALL])
    const admin = await taxii<Collections>(server.url, '/taxii2/api/collections/', ADMIN)
    expect(admin.json.collections.map((c) => c.id)).toEqual([ALL, BALTIC])

    const one = await taxii(server.url, `/taxii2/api/collections/${BALTIC}/`, TOKENS.viewerLv)
    expect(one.status).toBe(200)
    expect(one.json).toMatchObject({ id: BALTIC, can_read: true })
    // a community the caller is not in is not found, exactly as one that does not exist
    const hidden = await taxii(server.url, `/taxii2/api/collections/${BALTIC}/`, TOKENS.viewerNl)
    const missing = await taxii(server.url, `/taxii2/api/collections/${randomUUID()}/`, TOKENS.viewerNl)
    expect(hidden.status).toBe(404)
    expect(hidden.json).toEqual(missing.json)
    expect((await taxii(server.url, objectsPath(BALTIC), TOKENS.viewerNl)).json).toEqual(missing.json)
  })

  it('content negotiation (406, 415), authentication (401 with WWW-Authenticate, HTTP Basic) and TAXII errors', async () => {
    const path = '/taxii2/api/collections/'
    for (const accept of ['application/json', '*/*', 'application/taxii+json;version=2.0', null]) {
      const refused = await taxii(server.url, path, TOKENS.viewerLv, { accept })
      expect(refused.status, String(accept)).toBe(406)
      expect(refused.headers.get('content-type')).toBe(TAXII)
      expect(refused.json).toMatchObject({
        title: expect.any(String),
        description: expect.any(String),
        http_status: '406',
      })
    }
    for (const accept of ['application/taxii+json', 'application/json, application/taxii+json;version=2.1;q=0.5'])
      expect((await taxii(server.url, path, TOKENS.viewerLv, { accept })).status, accept).toBe(200)

    const anonymous = await taxii(server.url, path, null)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toMatch(/Basic/)
    expect(anonymous.json).toMatchObject({ http_status: '401' })
    const wrong = await taxii(server.url, path, 'not-a-token-at-all-0123456789')
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toMatch(/Basic/)
    expect((await taxii(server.url, path, { basic: 'opencti:wrong-token-0123456789' })).status).toBe(401)

    // HTTP Basic: any username, the token as the password
    const basic = await taxii(server.url, path, { basic: `opencti:${TOKENS.viewerLv}` })
    expect(basic.status).toBe(200)
    expect(basic.json).toEqual((await taxii(server.url, path, TOKENS.viewerLv)).json)

    const add = objectsPath(ALL)
    const envelope = { objects: [] }
    for (const contentType of [
      'application/json',
      'application/stix+json;version=2.1',
      'application/taxii+json;version=2.0',
    ]) {
      const refused = await taxii(server.url, add, TOKENS.sensorLv, { body: envelope, contentType })
      expect(refused.status, contentType).toBe(415)
      expect(refused.json).toMatchObject({ http_status: '415' })
    }
    const tooLarge = await taxii(server.url, add, TOKENS.sensorLv, {
      body: `{"objects":[],"padding":"${'x'.repeat(10 * 1024 * 1024)}"}`,
    })
    expect(tooLarge.status).toBe(413)
    expect(tooLarge.json).toMatchObject({ http_status: '413' })
    expect((await taxii(server.url, add, TOKENS.sensorLv, { body: '{"objects": ' })).status).toBe(400)
    expect((await taxii(server.url, add, TOKENS.sensorLv, { body: { objects: 'none' } })).status).toBe(422)
    // an envelope without objects is told so (not that its objects are empty "when present")
    for (const body of [{}, { type: 'bundle' }]) {
      const empty = await taxii<{ description: string }>(server.url, add, TOKENS.sensorLv, { body })
      expect(empty.status).toBe(422)
      expect(empty.json.description).toBe(
        'the envelope has no objects: send { "objects": [ ... ] } with one STIX object or more',
      )
    }
    const invalid = await taxii(server.url, add, TOKENS.sensorLv, {
      body: { objects: [{ type: 'incident', id: 'incident--nope', spec_version: '2.1' }] },
    })
    expect(invalid.status).toBe(422)
    expect(invalid.json).toMatchObject({ http_status: '422', details: { issues: expect.any(Array) } })

    const unknown = await taxii(server.url, '/taxii2/api/channels/', TOKENS.viewerLv)
    expect(unknown.status).toBe(404)
    expect(unknown.headers.get('content-type')).toBe(TAXII)
    const deleting = await taxii(server.url, `${add}${stixIds.incident('taxii-0')}/`, TOKENS.sensorEe, {
      method: 'DELETE',
    })
    expect(deleting.status).toBe(405)
    expect(deleting.headers.get('allow')).toBe('GET')
  })

  it('paging with limit and next, and with added_after and X-TAXII-Date-Added-Last, returns every object exactly once', async () => {
    const token = TOKENS.viewerEe
    const whole = await taxii<Envelope>(server.url, objectsPath(ALL), token)
    expect(whole.status).toBe(200)
    expect(whole.json.more).toBe(false)
    const everything = idsOf(whole.json.objects ?? [])
    expect(everything.length).toBeGreaterThan(100)
    expect(new Set(everything).size).toBe(everything.length)

    const manifest = await taxii<Manifest>(server.url, `/taxii2/api/collections/${ALL}/manifest/`, token)
    const records = manifest.json.objects ?? []
    expect(idsOf(records)).toEqual(everything)
    for (const record of records) {
      expect(record.date_added).toMatch(MICROS)
      expect(record.media_type).toBe('application/stix+json;version=2.1')
    }
    // 3.3: sorted by date_added, each date once
    for (let i = 1; i < records.length; i++) expect(records[i]!.date_added > records[i - 1]!.date_added).toBe(true)
    expect(whole.headers.get('x-taxii-date-added-first')).toBe(records[0]!.date_added)
    expect(whole.headers.get('x-taxii-date-added-last')).toBe(records.at(-1)!.date_added)
    // an observation's objects were added when the log recorded it
    const added = new Map(records.map((r) => [r.id, r.date_added]))
    for (const e of posted.filter((e) => e.type === 'incident.observation' && canSee(VIEWERS.kadri.viewer, e))) {
      const at = Date.parse(`${added.get(stixIds.sighting(e.id))!.slice(0, 23)}Z`)
      expect(at - Date.parse(e.recordedAt)).toBeGreaterThanOrEqual(0)
      expect(at - Date.parse(e.recordedAt)).toBeLessThan(5)
    }

    // limit and next
    const byNext: string[] = []
    let next: string | undefined
    let pages = 0
    for (;;) {
      const reply = await taxii<Envelope>(
        server.url,
        objectsPath(ALL, `?limit=7${next === undefined ? '' : `&next=${encodeURIComponent(next)}`}`),
        token,
      )
      expect(reply.status).toBe(200)
      const objects = reply.json.objects ?? []
      expect(objects.length).toBeLessThanOrEqual(7)
      expect(reply.headers.get('x-taxii-date-added-first')).toBe(added.get(objects[0]!.id))
      expect(reply.headers.get('x-taxii-date-added-last')).toBe(added.get(objects.at(-1)!.id))
      byNext.push(...idsOf(objects))
      pages++
      if (!reply.json.more) {
        expect(reply.json.next).toBeUndefined()
        break
      }
      expect(objects.length).toBe(7)
      next = reply.json.next
    }
    expect(pages).toBe(Math.ceil(everything.length / 7))
    expect(byNext).toEqual(everything)

    // added_after with the last date of each page
    const byDate: string[] = []
    let after: string | undefined
    for (pages = 0; pages < 1000; pages++) {
      const reply = await taxii<Envelope>(
        server.url,
        objectsPath(ALL, `?limit=7${after === undefined ? '' : `&added_after=${after}`}`),
        token,
      )
      expect(reply.status).toBe(200)
      byDate.push(...idsOf(reply.json.objects ?? []))
      if (!reply.json.more) break
      after = reply.headers.get('x-taxii-date-added-last')!
    }
    expect(byDate).toEqual(everything)
    // after the last one: an empty envelope
    const none = await taxii<Envelope>(
      server.url,
      objectsPath(ALL, `?added_after=${records.at(-1)!.date_added}`),
      token,
    )
    expect(none.status).toBe(200)
    expect(none.json.objects).toBeUndefined()
    expect(none.headers.get('x-taxii-date-added-last')).toBeNull()

    // the manifest pages the same way
    const manifestPages: string[] = []
    next = undefined
    for (pages = 0; pages < 1000; pages++) {
      const reply: Reply<Manifest> = await taxii<Manifest>(
        server.url,
        `/taxii2/api/collections/${ALL}/manifest/?limit=11${next === undefined ? '' : `&next=${encodeURIComponent(next)}`}`,
        token,
      )
      manifestPages.push(...idsOf(reply.json.objects ?? []))
      if (!reply.json.more) break
      next = reply.json.next
    }
    expect(manifestPages).toEqual(everything)
  })

  it('another organisation gets only the objects of what it may see (canSee over the posted events); the rest is 404', async () => {
    const strict = TLP2_MARKING_IDS['AMBER+STRICT']
    for (const [name, { token, viewer: v }] of Object.entries(VIEWERS)) {
      const objects = await allObjects(server.url, token)
      const want = expected(v)
      expect(sorted(idsOf(ofType(objects, 'incident'))), name).toEqual(want.incidents)
      expect(sorted(idsOf(ofType(objects, 'sighting'))), name).toEqual(want.sightings)
      // nothing else speaks of an incident or an observation it may not see
      const visibleEvents = new Set(posted.filter((e) => canSee(v, e)).map((e) => e.id))
      const hiddenIncidents = posted
        .filter((e) => e.type === 'incident.reported' && !canSee(v, e))
        .map((e) => (e.payload as { incidentId: string }).incidentId)
      for (const object of objects) {
        if (
          typeof object.x_watchfloor_incident_id === 'string' &&
          object.type !== 'sighting' &&
          object.type !== 'observed-data'
        )
          expect(hiddenIncidents, `${name} ${object.id}`).not.toContain(object.x_watchfloor_incident_id)
        const refs = (object.object_marking_refs as string[] | undefined) ?? []
        if (!canSee(v, { source: { organisation: 'cert-ee' }, marking: { tlp: 'AMBER+STRICT' } }))
          expect(refs, `${name} ${object.id}`).not.toContain(strict)
      }
      for (const e of posted.filter((e) => e.type === 'incident.observation' && !visibleEvents.has(e.id)))
        expect(idsOf(objects), name).not.toContain(stixIds.observedData(e.id))
      const redSeen = posted.some((e) => e.marking.tlp === 'RED' && canSee(v, e))
      expect(idsOf(objects).includes(TLP2_MARKING_IDS.RED), name).toBe(redSeen)

      // the manifest counts the same objects, and says no more
      const manifest = await taxii<Manifest>(server.url, `/taxii2/api/collections/${ALL}/manifest/`, token)
      expect(manifest.json.more).toBe(false)
      expect(sorted(idsOf(manifest.json.objects ?? []))).toEqual(sorted(idsOf(objects)))
    }

    // an object Janis may not see is not found, exactly as one that does not exist
    const janis = TOKENS.viewerLv
    const strictIncident = stixIds.incident('taxii-4')
    const madeUp = stixIds.incident('never-reported')
    for (const suffix of ['', 'versions/']) {
      const hidden = await taxii(server.url, `${objectsPath(ALL)}${strictIncident}/${suffix}`, janis)
      const missing = await taxii(server.url, `${objectsPath(ALL)}${madeUp}/${suffix}`, janis)
      expect(hidden.status).toBe(404)
      expect(hidden.text).toBe(missing.text)
      expect(hidden.headers.get('x-taxii-date-added-first')).toBeNull()
    }
    const byMatch = await taxii(server.url, objectsPath(ALL, `?match[id]=${strictIncident}`), janis)
    expect(byMatch.status).toBe(200)
    expect(byMatch.text).toBe((await taxii(server.url, objectsPath(ALL, `?match[id]=${madeUp}`), janis)).text)
    // Kadri's organisation wrote it: she gets it
    expect((await taxii(server.url, `${objectsPath(ALL)}${strictIncident}/`, TOKENS.viewerEe)).status).toBe(200)
  })

  it('match[type], match[id], match[version], match[spec_version], one object and its versions', async () => {
    const token = TOKENS.viewerEe
    const all = await allObjects(server.url, token)
    const incidents = await allObjects(server.url, token, ALL, 'match[type]=incident')
    expect(sorted(idsOf(incidents))).toEqual(expected(VIEWERS.kadri.viewer).incidents)
    const two = await allObjects(server.url, token, ALL, 'match[type]=incident,sighting')
    expect(new Set(two.map((o) => o.type))).toEqual(new Set(['incident', 'sighting']))
    expect(two.length).toBe(ofType(all, 'incident').length + ofType(all, 'sighting').length)

    const [a, b] = [incidents[0]!, incidents[3]!]
    const byId = await allObjects(server.url, token, ALL, `match[id]=${a.id},${b.id}`)
    expect(sorted(idsOf(byId))).toEqual(sorted([a.id, b.id]))
    expect(await allObjects(server.url, token, ALL, `match[id]=${a.id}&match[type]=sighting`)).toEqual([])

    for (const version of ['last', 'first', 'all', String(a.modified)])
      expect(
        idsOf(await allObjects(server.url, token, ALL, `match[id]=${a.id}&match[version]=${version}`)),
        version,
      ).toEqual([a.id])
    expect(
      await allObjects(server.url, token, ALL, `match[id]=${a.id}&match[version]=2001-01-01T00:00:00.000Z`),
    ).toEqual([])
    expect((await allObjects(server.url, token, ALL, 'match[spec_version]=2.1')).length).toBe(all.length)
    expect(await allObjects(server.url, token, ALL, 'match[spec_version]=2.0')).toEqual([])

    const one = await taxii<Envelope>(server.url, `${objectsPath(ALL)}${a.id}/`, token)
    expect(one.status).toBe(200)
    expect(one.json.objects).toEqual([a])
    expect(one.headers.get('x-taxii-date-added-first')).toMatch(MICROS)
    const otherVersion = await taxii<Envelope>(
      server.url,
      `${objectsPath(ALL)}${a.id}/?match[version]=2001-01-01T00:00:00.000Z`,
      token,
    )
    expect(otherVersion.status).toBe(200)
    expect(otherVersion.json.objects).toBeUndefined()
    const versions = await taxii<{ versions?: string[]; more?: boolean }>(
      server.url,
      `${objectsPath(ALL)}${a.id}/versions/`,
      token,
    )
    expect(versions.status).toBe(200)
    expect(versions.json).toEqual({ more: false, versions: [a.modified] })
    expect(versions.headers.get('x-taxii-date-added-last')).toMatch(MICROS)

    for (const bad of [
      'limit=0',
      'limit=x',
      'added_after=yesterday',
      'match[version]=all,last',
      'next=nonsense',
      'match[type]=a&match[type]=b',
      'match[type]=a,,b',
    ])
      expect((await taxii(server.url, objectsPath(ALL, `?${bad}`), token)).status, bad).toBe(400)

    // a change makes a new version: it moves after everything added before, with its new modified
    const manifest = async () =>
      (await taxii<Manifest>(server.url, `/taxii2/api/collections/${ALL}/manifest/`, token)).json.objects ?? []
    const before = await manifest()
    const incidentId = String(a.x_watchfloor_incident_id)
    const update = event({
      type: 'incident.updated',
      payload: { incidentId, severity: 'critical' },
      marking: posted.find(
        (e) => e.type === 'incident.reported' && (e.payload as { incidentId: string }).incidentId === incidentId,
      )!.marking,
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, { events: [update] })).status).toBe(201)
    const after = await manifest()
    expect(after.at(-1)!.id).toBe(a.id)
    expect(after.at(-1)!.date_added > before.at(-1)!.date_added).toBe(true)
    expect(after.at(-1)!.version > String(a.modified)).toBe(true)
    expect(sorted(idsOf(after))).toEqual(sorted(idsOf(before)))
    const newer = await taxii<Envelope>(
      server.url,
      objectsPath(ALL, `?added_after=${before.at(-1)!.date_added}`),
      token,
    )
    expect(idsOf(newer.json.objects ?? [])).toContain(a.id)
    expect((newer.json.objects ?? []).find((o) => o.id === a.id)?.x_watchfloor_severity).toBe('critical')
  })

  it('a community collection holds only what the caller may see that is releasable to the community', async () => {
    const releasable = (e: StoredEvent) => e.marking.releasableTo?.includes(COMMUNITY) ?? false
    for (const { token, viewer: v } of [VIEWERS.kadri, VIEWERS.janis, VIEWERS.redReader]) {
      const objects = await allObjects(server.url, token, BALTIC)
      const want = expected(v, releasable)
      expect(want.incidents.length).toBeGreaterThan(0)
      expect(sorted(idsOf(ofType(objects, 'incident')))).toEqual(want.incidents)
      expect(sorted(idsOf(ofType(objects, 'sighting')))).toEqual(want.sightings)
      for (const object of objects.filter((o) => o.type !== 'marking-definition'))
        if (object.type === 'incident' || object.type === 'sighting')
          expect(object.x_watchfloor_releasable_to).toEqual([COMMUNITY])
    }
    // an admin outside the community lists its collection, and it holds what the admin may see of it: nothing
    expect(await allObjects(server.url, ADMIN, BALTIC)).toEqual([])
  })

  it('Add Objects: a sensor adds an envelope as events of its organisation, markings kept; its status is its own', async () => {
    const pushed = randomUUID()
    const incident = {
      type: 'incident',
      spec_version: '2.1',
      id: `incident--${pushed}`,
      created: '2026-11-26T08:00:00.000Z',
      modified: '2026-11-26T08:00:00.000Z',
      name: 'Pushed over TAXII',
      object_marking_refs: [TLP2_MARKING_IDS.GREEN],
    }
    const sighting = {
      type: 'sighting',
      spec_version: '2.1',
      id: `sighting--${randomUUID()}`,
      created: '2026-11-26T08:05:00.000Z',
      modified: '2026-11-26T08:05:00.000Z',
      sighting_of_ref: incident.id,
      description: '192.0.2.55',
      count: 4,
      object_marking_refs: [TLP2_MARKING_IDS.GREEN],
    }
    const unmarked = {
      type: 'incident',
      spec_version: '2.1',
      id: `incident--${randomUUID()}`,
      created: '2026-11-26T08:10:00.000Z',
      modified: '2026-11-26T08:10:00.000Z',
      name: 'Pushed without a marking',
    }
    const malware = {
      type: 'malware',
      spec_version: '2.1',
      id: `malware--${randomUUID()}`,
      created: '2026-11-26T08:00:00.000Z',
      modified: '2026-11-26T08:00:00.000Z',
      name: 'Not for the floor',
      is_family: true,
    }
    const envelope = { objects: [incident, sighting, unmarked, malware] }
    const reply = await taxii<Json>(server.url, objectsPath(ALL), TOKENS.sensorLv, { body: envelope })
    expect(reply.status, reply.text.slice(0, 500)).toBe(202)
    expect(reply.headers.get('content-type')).toBe(TAXII)
    const status = reply.json as {
      id: string
      status: string
      request_timestamp: string
      total_count: number
      success_count: number
      failure_count: number
      pending_count: number
      successes: { id: string; version: string }[]
      failures: { id: string; version: string; message: string }[]
    }
    expect(status).toMatchObject({
      status: 'complete',
      total_count: 4,
      success_count: 3,
      failure_count: 1,
      pending_count: 0,
    })
    expect(status.request_timestamp).toMatch(MICROS)
    expect(sorted(status.successes.map((s) => s.id))).toEqual(sorted([incident.id, sighting.id, unmarked.id]))
    expect(status.successes.find((s) => s.id === incident.id)!.version).toBe(incident.modified)
    expect(status.failures).toEqual([
      { id: malware.id, version: malware.modified, message: expect.stringMatching(/malware/) },
    ])

    // the status: to its maker only
    const again = await taxii(server.url, `/taxii2/api/status/${status.id}/`, TOKENS.sensorLv)
    expect(again.status).toBe(200)
    expect(again.json).toEqual(status)
    const strangers = [TOKENS.sensorEe, TOKENS.viewerLv, ADMIN]
    const missing = await taxii(server.url, `/taxii2/api/status/${randomUUID()}/`, TOKENS.sensorEe)
    expect(missing.status).toBe(404)
    for (const token of strangers) {
      const other = await taxii(server.url, `/taxii2/api/status/${status.id}/`, token)
      expect(other.status).toBe(404)
      expect(other.text).toBe(missing.text)
    }

    // events of cert-lv, as marked; the unmarked one AMBER
    const lv = await incidentsOf(server.url, TOKENS.viewerLv)
    expect(lv.get('Pushed over TAXII')).toMatchObject({ organisation: 'cert-lv', marking: { tlp: 'GREEN' } })
    expect(lv.get('Pushed without a marking')).toMatchObject({ organisation: 'cert-lv', marking: { tlp: 'AMBER' } })
    expect((await incidentsOf(server.url, TOKENS.viewerNl)).has('Pushed without a marking')).toBe(false)
    const events = await rest<{ events: StoredEvent[] }>(
      server.url,
      'GET',
      '/api/v1/events?limit=5000',
      TOKENS.viewerLv,
    )
    expect(
      events.json.events.find(
        (e) => e.type === 'incident.observation' && (e.payload as { indicator?: string }).indicator === '192.0.2.55',
      ),
    ).toMatchObject({ source: { organisation: 'cert-lv' }, marking: { tlp: 'GREEN' } })

    // the same envelope again: nothing new, no error for the duplicates (5.5)
    const head = await logHead(server)
    const repeat = await taxii<typeof status>(server.url, objectsPath(ALL), TOKENS.sensorLv, { body: envelope })
    expect(repeat.status).toBe(202)
    expect(repeat.json).toMatchObject({ success_count: 3, failure_count: 1 })
    expect(repeat.json.id).not.toBe(status.id)
    expect(await logHead(server)).toBe(head)

    // into the community's collection: made releasable to the community when it says nothing
    const local = {
      ...unmarked,
      id: `incident--${randomUUID()}`,
      name: 'Pushed to the Baltic watch',
    }
    const green = {
      ...incident,
      id: `incident--${randomUUID()}`,
      name: 'Green, pushed to the Baltic watch',
    }
    const toCommunity = await taxii<typeof status>(server.url, objectsPath(BALTIC), TOKENS.sensorLv, {
      body: { objects: [local, green] },
    })
    expect(toCommunity.status, toCommunity.text.slice(0, 500)).toBe(202)
    expect(toCommunity.json).toMatchObject({ success_count: 2, failure_count: 0 })
    const ee = await incidentsOf(server.url, TOKENS.viewerEe)
    expect(ee.get('Pushed to the Baltic watch')).toMatchObject({
      organisation: 'cert-lv',
      marking: { tlp: 'AMBER', releasableTo: [COMMUNITY] },
    })
    expect(ee.get('Green, pushed to the Baltic watch')?.marking).toEqual({ tlp: 'GREEN', releasableTo: [COMMUNITY] })
    const nl = await incidentsOf(server.url, TOKENS.viewerNl)
    expect(nl.has('Pushed to the Baltic watch') || nl.has('Green, pushed to the Baltic watch')).toBe(false)
    const names = (await allObjects(server.url, TOKENS.viewerEe, BALTIC, 'match[type]=incident')).map((o) => o.name)
    expect(names).toEqual(expect.arrayContaining(['Pushed to the Baltic watch', 'Green, pushed to the Baltic watch']))
  })

  it('read-only tokens may not add objects (403); a display token reads up to its TLP ceiling', async () => {
    const head = await logHead(server)
    const envelope = {
      objects: [
        {
          type: 'incident',
          spec_version: '2.1',
          id: `incident--${randomUUID()}`,
          created: '2026-11-26T08:00:00.000Z',
          modified: '2026-11-26T08:00:00.000Z',
          name: 'From a read-only token',
        },
      ],
    }
    const liaison = await taxii(server.url, objectsPath(ALL), TOKENS.viewerLv, { body: envelope })
    expect(liaison.status).toBe(403)
    expect(liaison.json).toMatchObject({ http_status: '403' })
    expect((liaison.json as { description: string }).description).toMatch(
      /^may not add objects: posting events needs one of the roles /,
    )
    // a view as another audience is read-only [A7], and says so, whatever the caller's roles
    const viewing = await taxii<{ description: string }>(server.url, objectsPath(ALL), ADMIN, {
      body: envelope,
      headers: { 'x-watchfloor-view-as': 'organisation:cert-lv' },
    })
    expect(viewing.status).toBe(403)
    expect(viewing.json.description).toBe('may not add objects: a view as another audience is read-only')

    const made = await rest<{ secret: string }>(server.url, 'POST', '/api/v1/tokens', ADMIN, {
      label: 'TAXII wall',
      kind: 'display',
      service: { user: 'wall-lv', organisation: 'cert-lv', nation: 'LV', roles: ['sensor'] },
      preset: 'overview',
      tlpCeiling: 'GREEN',
    })
    expect(made.status).toBe(201)
    const display = made.json.secret
    const refused = await taxii<{ description: string }>(
      server.url,
      objectsPath(ALL),
      { basic: `wall:${display}` },
      { body: envelope },
    )
    expect(refused.status).toBe(403)
    expect(refused.json.description).toBe('may not add objects: a display token is read-only')
    const collections = await taxii<{ collections: { can_write: boolean }[] }>(
      server.url,
      '/taxii2/api/collections/',
      display,
    )
    expect(collections.json.collections.every((c) => c.can_write === false)).toBe(true)
    expect(await logHead(server)).toBe(head)

    const ceiling = { ...viewer('cert-lv', 'LV', 'wall-lv', ['sensor'], [COMMUNITY]), tlpCeiling: 'GREEN' } as Viewer
    const objects = await allObjects(server.url, display)
    // of the floor's incidents, exactly those up to GREEN it may see (the rest are the ones pushed above)
    const floor = new Set(
      posted
        .filter((e) => e.type === 'incident.reported')
        .map((e) => stixIds.incident((e.payload as { incidentId: string }).incidentId)),
    )
    const fromFloor = idsOf(ofType(objects, 'incident')).filter((id) => floor.has(id))
    expect(sorted(fromFloor)).toEqual(expected(ceiling).incidents)
    expect(expected(ceiling).incidents.length).toBeGreaterThan(0)
    for (const object of objects) {
      const refs = (object.object_marking_refs as string[] | undefined) ?? []
      for (const tlp of ['AMBER', 'AMBER+STRICT', 'RED'] as const) expect(refs).not.toContain(TLP2_MARKING_IDS[tlp])
    }
  })
})

describe('TAXII 2.1 federation: one instance pulls what it may see of another and imports it', () => {
  let a: ServerProcess
  let b: ServerProcess

  beforeAll(async () => {
    ;[a, b] = await Promise.all([startServerProcess(), startServerProcess()])
  })
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
  })

  it("A's picture shows B's incidents shared with cert-lv, markings kept; nothing RED or not releasable to cert-lv reaches A", async () => {
    const shared: [string, Marking][] = [
      ['Ransomware at the port', { tlp: 'GREEN', pap: 'GREEN' }],
      ['Phishing wave for Latvia', { tlp: 'AMBER', releasableTo: ['cert-lv'] }],
      ['Scanning from a botnet', { tlp: 'CLEAR' }],
      ['Wiper, nation-wide', { tlp: 'AMBER', releasableTo: ['LV', 'cert-ee'] }],
    ]
    const withheld: [string, Marking][] = [
      ['Kept in Estonia', { tlp: 'AMBER' }],
      ['Strictly Estonian', { tlp: 'AMBER+STRICT' }],
      ['Red for one reader', { tlp: 'RED', recipients: ['red-reader'] }],
      ['Green for the Dutch', { tlp: 'GREEN', releasableTo: ['ncsc-nl'] }],
    ]
    const events: EventInput[] = []
    // withheld and shared interleaved, a shared one last: what cert-lv may not see lies inside its part of the log
    const interleaved = withheld.flatMap((entry, i) => [entry, shared[i]!])
    interleaved.forEach(([title, marking], i) => {
      events.push(reported(`fed-${i}`, title, marking))
      events.push(observed(`fed-${i}`, `203.0.113.${i + 1}`, marking))
    })
    expect((await post(b.url, TOKENS.sensorEe, { events })).status).toBe(201)
    const stored = (await rest<{ events: StoredEvent[] }>(b.url, 'GET', '/api/v1/events?limit=5000', TOKENS.sensorEe))
      .json.events
    const janis = viewer('cert-lv', 'LV', 'janis', ['liaison'])
    const visibleTitles = stored
      .filter((e) => e.type === 'incident.reported' && canSee(janis, e))
      .map((e) => (e.payload as { title: string }).title)
    expect(sorted(visibleTitles)).toEqual(sorted(shared.map(([title]) => title)))

    // A pulls B's "all" collection with a B token of cert-lv, seven objects at a time
    const objects = await allObjects(b.url, TOKENS.viewerLv, ALL, 'limit=7')
    expect(ofType(objects, 'incident').length).toBe(shared.length)
    const imported = await rest<{ refused: unknown[]; results: unknown[] }>(
      a.url,
      'POST',
      '/api/v1/import/stix',
      TOKENS.sensorLv,
      {
        type: 'bundle',
        id: `bundle--${randomUUID()}`,
        objects,
      },
    )
    expect(imported.status, JSON.stringify(imported.json).slice(0, 500)).toBe(200)
    expect(imported.json.refused).toEqual([])

    const onA = await incidentsOf(a.url, TOKENS.viewerLv)
    expect(sorted(onA.keys())).toEqual(sorted(shared.map(([title]) => title)))
    for (const [title, marking] of shared)
      expect(onA.get(title), title).toMatchObject({ organisation: 'cert-lv', marking })
    // the observations came along, with their markings
    const sharedAt = interleaved.flatMap(([title], i) => (shared.some(([t]) => t === title) ? [i] : []))
    const observations = (
      await rest<{ events: StoredEvent[] }>(a.url, 'GET', '/api/v1/events?limit=5000', TOKENS.viewerLv)
    ).json.events.filter((e) => e.type === 'incident.observation')
    expect(sorted(observations.map((e) => String((e.payload as { indicator?: string }).indicator)))).toEqual(
      sorted(sharedAt.map((i) => `203.0.113.${i + 1}`)),
    )
    // nothing else is anywhere in A's log
    const store = new SqliteEventStore({ file: join(a.dataDir, 'events.sqlite') })
    try {
      const log = await store.readAfter(0, 10_000)
      expect(log.length).toBeGreaterThan(0)
      expect(log.filter((e) => e.marking.tlp === 'RED' || e.marking.tlp === 'AMBER+STRICT')).toEqual([])
      const text = JSON.stringify(log)
      for (const [title] of withheld) expect(text).not.toContain(title)
      for (let i = 0; i < interleaved.length; i++)
        if (!sharedAt.includes(i)) expect(text).not.toContain(`203.0.113.${i + 1}`)
    } finally {
      await store.close()
    }
  })
})

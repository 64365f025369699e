import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Owners } from '@watchfloor/core'
import type { EventInput, StoredEvent } from '@watchfloor/protocol'
import { type AcceptedEvent, type EventStore, SqliteEventStore } from '@watchfloor/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Caller } from '../src/access/access.ts'
import { toWatchfloorError } from '../src/http/errors.ts'
import { FullState } from '../src/read/projection.ts'
import { importEvents, type Refused } from '../src/write/imports.ts'
import { type IngestResult, ingest } from '../src/write/ingest.ts'
import { documentedReply } from './documented.ts'
import { Rng } from './fuzz.ts'
import { event, logHead, PRINCIPALS, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

const ADMIN = 'imports-admin-token-0123456789'
const FIXTURES = new URL('../../../packages/sharing/src/misp-fixtures/', import.meta.url).pathname

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } }
interface ImportReply extends Json {
  created: { type?: string; kind?: string }[]
  skipped: { type?: string; what?: string; reason: string }[]
  defaulted?: string[]
  results: { id: string; seq: number; duplicate: boolean }[]
  refused: { id: string; type: string; code: string; message: string }[]
}
interface Incident {
  incidentId: string
  title: string
  severity: string
  organisation: string
  marking: { tlp: string; releasableTo?: string[]; pap?: string }
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
  const json = text ? JSON.parse(text) : {}
  // an import's report is what the OpenAPI document says it is (the protocol's zod schema), no field more or less
  const template = path.split('?')[0]!
  if (method === 'POST' && template.startsWith('/api/v1/import/') && response.status === 200) {
    const checked = documentedReply('post', template, 200).safeParse(json)
    if (!checked.success)
      throw new Error(
        `${template} answered what its schema refuses: ${JSON.stringify(checked.error.issues.slice(0, 3))}`,
      )
  }
  return { status: response.status, json: json as T, headers: response.headers }
}

const incidentsOf = async (base: string, token: string) =>
  new Map(
    (await call<{ incidents: Incident[] }>(base, 'GET', '/api/v1/state', token)).json.incidents.map((i) => [
      i.title,
      i,
    ]),
  )

async function start(dir: string, name: string): Promise<ServerProcess> {
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

describe('imports: STIX bundles and MISP documents enter the log as the importer, markings kept', () => {
  let source: ServerProcess
  let target: ServerProcess
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-imports-'))
    ;[source, target] = await Promise.all([start(dir, 'source'), start(dir, 'target')])
  })
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  it('round trip: an export from one instance imported into a fresh one keeps content and markings, per viewer', async () => {
    const reported = (id: string, title: string, marking: Record<string, unknown>, severity = 'high') =>
      event({
        type: 'incident.reported',
        payload: { incidentId: id, title, severity, category: 'malware', affectedNetworks: [] },
        marking,
      } as never)
    const seen = (id: string, indicator: string, marking: Record<string, unknown>) =>
      event({ type: 'incident.observation', payload: { incidentId: id, indicator, count: 3 }, marking } as never)
    const events = [
      reported('inc-open', 'Wiper on the ministry network', { tlp: 'GREEN', pap: 'GREEN' }, 'critical'),
      seen('inc-open', '198.51.100.7', { tlp: 'GREEN' }),
      reported('inc-lv', 'Phishing wave shared with Latvia', { tlp: 'AMBER', releasableTo: ['cert-lv'], pap: 'AMBER' }),
      seen('inc-lv', 'evil.example', { tlp: 'AMBER', releasableTo: ['cert-lv'] }),
      reported('inc-home', 'Kept at home', { tlp: 'AMBER+STRICT' }),
    ]
    expect((await post(source.url, TOKENS.sensorEe, { events })).status).toBe(201)
    const exported = await call<{ type: string; objects: unknown[] }>(
      source.url,
      'GET',
      '/api/v1/export?format=stix',
      TOKENS.viewerEe,
    )
    expect(exported.status).toBe(200)

    const imported = await call<ImportReply>(target.url, 'POST', '/api/v1/import/stix', TOKENS.sensorEe, exported.json)
    expect(imported.status, JSON.stringify(imported.json).slice(0, 500)).toBe(200)
    expect(imported.json.refused).toEqual([])
    expect(imported.json.results.length).toBeGreaterThanOrEqual(5)
    expect(imported.json.results.every((r) => !r.duplicate)).toBe(true)

    // the importer's organisation sees everything it imported, as it was marked
    const home = await incidentsOf(target.url, TOKENS.viewerEe)
    expect(home.get('Wiper on the ministry network')).toMatchObject({
      severity: 'critical',
      organisation: 'cert-ee',
      marking: { tlp: 'GREEN', pap: 'GREEN' },
    })
    expect(home.get('Phishing wave shared with Latvia')?.marking).toEqual({
      tlp: 'AMBER',
      releasableTo: ['cert-lv'],
      pap: 'AMBER',
    })
    expect(home.get('Kept at home')?.marking.tlp).toBe('AMBER+STRICT')
    // and each other viewer exactly what the markings allow, as on the instance it came from
    for (const token of [TOKENS.viewerLv, TOKENS.viewerNl]) {
      const before = [...(await incidentsOf(source.url, token)).keys()].sort()
      const after = [...(await incidentsOf(target.url, token)).keys()].sort()
      expect(after, token).toEqual(before)
    }
    expect([...(await incidentsOf(target.url, TOKENS.viewerLv)).keys()].sort()).toEqual([
      'Phishing wave shared with Latvia',
      'Wiper on the ministry network',
    ])
    // the observations came along
    const lvEvents = (
      await call<{ events: StoredEvent[] }>(target.url, 'GET', '/api/v1/events?limit=5000', TOKENS.viewerLv)
    ).json.events
    expect(
      lvEvents
        .filter((e) => e.type === 'incident.observation')
        .map((e) => (e.payload as { indicator?: string }).indicator)
        .sort(),
    ).toEqual(['198.51.100.7', 'evil.example'])

    // importing the same bundle again: duplicates, nothing new
    const head = await logHead(target)
    const again = await call<ImportReply>(target.url, 'POST', '/api/v1/import/stix', TOKENS.sensorEe, exported.json)
    expect(again.status).toBe(200)
    expect(again.json.results.every((r) => r.duplicate)).toBe(true)
    expect(await logHead(target)).toBe(head)
  })

  it('reports what it cannot take, and stores the rest: unknown types skipped, unmarked defaulted, refusals per event', async () => {
    const unmarked = {
      type: 'bundle',
      id: 'bundle--6f1b6c8e-8c7e-4b5f-9d64-1a1a5b7d0c01',
      objects: [
        {
          type: 'incident',
          spec_version: '2.1',
          id: 'incident--0b6e1f5c-2c57-4a55-a3c4-8d1cbe2f8a11',
          created: '2026-11-26T08:00:00.000Z',
          modified: '2026-11-26T08:00:00.000Z',
          name: 'An unmarked incident from a vendor feed',
        },
        {
          type: 'malware',
          spec_version: '2.1',
          id: 'malware--0c8a8f0e-7e0d-4c1c-8a9b-5b6c7d8e9f01',
          created: '2026-11-26T08:00:00.000Z',
          modified: '2026-11-26T08:00:00.000Z',
          name: 'NotPetya-like',
          is_family: true,
        },
      ],
    }
    const reply = await call<ImportReply>(
      target.url,
      'POST',
      '/api/v1/import/stix?defaultTlp=GREEN',
      TOKENS.sensorLv,
      unmarked,
    )
    expect(reply.status, JSON.stringify(reply.json).slice(0, 500)).toBe(200)
    expect(reply.json.defaulted).toEqual(['incident--0b6e1f5c-2c57-4a55-a3c4-8d1cbe2f8a11'])
    expect(reply.json.skipped.map((s) => s.type)).toContain('malware')
    const lv = await incidentsOf(target.url, TOKENS.viewerLv)
    expect(lv.get('An unmarked incident from a vendor feed')).toMatchObject({
      organisation: 'cert-lv',
      marking: { tlp: 'GREEN' },
    })

    // the same incident imported by another organisation: that organisation's own copy, cert-lv's untouched
    const relayed = await call<ImportReply>(target.url, 'POST', '/api/v1/import/stix?defaultTlp=GREEN', TOKENS.relay, {
      ...unmarked,
      objects: [{ ...unmarked.objects[0], modified: '2026-11-26T09:00:00.000Z', name: 'Relayed copy' }],
    })
    expect(relayed.status).toBe(200)
    expect(relayed.json.refused).toEqual([])
    const after = await incidentsOf(target.url, TOKENS.viewerLv)
    expect(after.get('An unmarked incident from a vendor feed')).toMatchObject({
      incidentId: `${unmarked.objects[0]!.id}@cert-lv`,
      organisation: 'cert-lv',
    })
    expect(after.get('Relayed copy')).toMatchObject({
      incidentId: `${unmarked.objects[0]!.id}@alliance`,
      organisation: 'alliance',
    })

    // naming cert-lv's incident by its Watchfloor id is re-reporting it: refused, reported [A5]
    const other = await call<ImportReply>(target.url, 'POST', '/api/v1/import/stix?defaultTlp=GREEN', TOKENS.relay, {
      ...unmarked,
      objects: [
        {
          ...unmarked.objects[0],
          modified: '2026-11-26T09:00:00.000Z',
          name: 'Taken over',
          x_watchfloor_incident_id: `${unmarked.objects[0]!.id}@cert-lv`,
        },
      ],
    })
    expect(other.status).toBe(200)
    expect(other.json.results).toEqual([])
    expect(other.json.refused.length).toBeGreaterThan(0)
    expect(new Set(other.json.refused.map((r) => r.code))).toEqual(new Set(['forbidden']))
    expect(other.json.refused[0]!.message).toMatch(/owned by|belongs to|another organisation/)
    expect((await incidentsOf(target.url, TOKENS.viewerLv)).has('Taken over')).toBe(false)
  })

  it('an invalid bundle is 400 listing what is wrong; a viewer without a posting role is 403; nothing is stored', async () => {
    const head = await logHead(target)
    const invalid = await call(target.url, 'POST', '/api/v1/import/stix', TOKENS.sensorEe, {
      type: 'bundle',
      objects: 'no',
    })
    expect(invalid.status).toBe(400)
    expect(invalid.json.error!.code).toBe('validation')
    expect((invalid.json.error!.details as { issues: unknown[] }).issues.length).toBeGreaterThan(0)
    expect((await call(target.url, 'POST', '/api/v1/import/stix', TOKENS.sensorEe, '{"type": ')).status).toBe(400)
    const liaison = await call(target.url, 'POST', '/api/v1/import/stix', TOKENS.viewerLv, {
      type: 'bundle',
      id: 'bundle--6f1b6c8e-8c7e-4b5f-9d64-1a1a5b7d0c02',
      objects: [],
    })
    expect(liaison.status).toBe(403)
    expect((liaison.json.error!.details as { rule: string }).rule).toBe('A2')
    expect(
      (await call(target.url, 'POST', '/api/v1/import/stix?defaultTlp=PURPLE', TOKENS.sensorEe, { type: 'bundle' }))
        .status,
    ).toBe(400)
    expect(await logHead(target)).toBe(head)
  })

  it('MISP: an event, a search answer and a sharing group become incidents and observations with their markings', async () => {
    const phishing = JSON.parse(readFileSync(join(FIXTURES, 'cert-ee-phishing.json'), 'utf8')) as {
      Event: Record<string, unknown>
    }
    const reply = await call<ImportReply>(target.url, 'POST', '/api/v1/import/misp', TOKENS.sensorEe, phishing)
    expect(reply.status, JSON.stringify(reply.json).slice(0, 500)).toBe(200)
    expect(reply.json.refused).toEqual([])
    expect(reply.json.created.length).toBe(1)
    const home = await incidentsOf(target.url, TOKENS.viewerEe)
    const imported = home.get(String(phishing.Event.info))
    expect(imported?.organisation).toBe('cert-ee')
    const again = await call<ImportReply>(target.url, 'POST', '/api/v1/import/misp', TOKENS.sensorEe, phishing)
    expect(again.json.results.every((r) => r.duplicate)).toBe(true)

    // distribution 4: a sharing group that is a community of the directory; its members see it
    const community = await call(target.url, 'POST', '/api/v1/directory/communities', ADMIN, {
      id: 'energy-sector',
      name: 'Energy sector partners',
      // the importer (cert-ee) is a member: a sharing group is a community it may know of [A8]
      members: ['cert-ee', 'ncsc-nl'],
    })
    expect(community.status).toBe(201)
    const grouped = {
      Event: {
        uuid: '5a0c6a5e-3c1f-4a0b-9d1e-2b3c4d5e6f70',
        info: 'Grid operator intrusion shared with the energy sector',
        date: '2026-11-25',
        threat_level_id: '2',
        analysis: '1',
        timestamp: '1795939200',
        distribution: '4',
        sharing_group_id: '7',
        SharingGroup: { id: '7', name: 'energy-sector', uuid: '0d3e5f7a-1b2c-4d5e-8f90-a1b2c3d4e5f6' },
        Orgc: { name: 'cert-ee' },
        Tag: [{ name: 'tlp:amber' }, { name: 'PAP:GREEN' }],
        Attribute: [
          {
            uuid: '6b1d7b6f-4d20-4b1c-8e2f-3c4d5e6f7081',
            type: 'ip-dst',
            category: 'Network activity',
            value: '203.0.113.9',
            to_ids: true,
            distribution: '5',
            timestamp: '1795939200',
          },
        ],
      },
    }
    const shared = await call<ImportReply>(target.url, 'POST', '/api/v1/import/misp', TOKENS.sensorEe, grouped)
    expect(shared.status, JSON.stringify(shared.json).slice(0, 500)).toBe(200)
    const title = grouped.Event.info
    const asNl = await incidentsOf(target.url, TOKENS.viewerNl)
    expect(asNl.get(title)?.marking).toMatchObject({ tlp: 'AMBER', pap: 'GREEN' })
    expect(asNl.get(title)?.marking.releasableTo).toContain('energy-sector')
    expect((await incidentsOf(target.url, TOKENS.viewerLv)).has(title)).toBe(false)

    // an unknown sharing group is never widened: skipped with a reason
    const unknown = structuredClone(grouped)
    unknown.Event.uuid = '7c2e8c70-5e31-4c2d-9f30-4d5e6f708192'
    unknown.Event.SharingGroup = { id: '8', name: 'nobody-knows', uuid: '1e4f6a8b-2c3d-4e5f-9a01-b2c3d4e5f607' }
    const skipped = await call<ImportReply>(target.url, 'POST', '/api/v1/import/misp', TOKENS.sensorEe, unknown)
    expect(skipped.status).toBe(200)
    expect(skipped.json.results).toEqual([])
    expect(skipped.json.skipped.length).toBeGreaterThan(0)

    const invalid = await call(target.url, 'POST', '/api/v1/import/misp', TOKENS.sensorEe, { nothing: true })
    expect(invalid.status).toBe(400)
  })
})

const T0 = '2026-11-26T08:00:00.000Z'
const GREEN_MARKING = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb'
const STRICT_MARKING = 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003'
const TAXII = 'application/taxii+json;version=2.1'
const ALL_COLLECTION = 'all'

/** A third-party bundle: incidents under several markings, a sighting, observed data, a report and a malware. */
function partnerBundle(tag: string) {
  const sdo = (type: string, n: number, properties: Record<string, unknown>) => ({
    type,
    spec_version: '2.1',
    id: `${type}--7a9e0000-0000-4000-8000-${tag}${String(n).padStart(12 - tag.length, '0')}`,
    created: T0,
    modified: T0,
    ...properties,
  })
  const green = sdo('incident', 1, { name: `${tag} green incident`, object_marking_refs: [GREEN_MARKING] })
  const strict = sdo('incident', 2, {
    name: `${tag} strict incident`,
    object_marking_refs: [STRICT_MARKING],
    x_watchfloor_status: 'triaged',
  })
  const unmarked = sdo('incident', 3, { name: `${tag} unmarked incident` })
  const ip = {
    type: 'ipv4-addr',
    id: `ipv4-addr--7a9e0000-0000-4000-8000-${tag}${'a'.repeat(12 - tag.length)}`,
    value: '198.51.100.23',
  }
  const observed = sdo('observed-data', 4, {
    first_observed: T0,
    last_observed: T0,
    number_observed: 3,
    object_refs: [ip.id],
    object_marking_refs: [GREEN_MARKING],
  })
  const sighting = sdo('sighting', 5, {
    sighting_of_ref: green.id,
    observed_data_refs: [observed.id],
    count: 3,
    object_marking_refs: [GREEN_MARKING],
  })
  const loose = sdo('observed-data', 6, {
    first_observed: T0,
    last_observed: T0,
    number_observed: 1,
    objects: { 0: { type: 'domain-name', value: `${tag}.example` } },
  })
  const tie = sdo('relationship', 7, { relationship_type: 'related-to', source_ref: strict.id, target_ref: loose.id })
  const report = sdo('report', 8, {
    name: `${tag} weekly`,
    published: T0,
    object_refs: [strict.id],
    object_marking_refs: [STRICT_MARKING],
  })
  const malware = sdo('malware', 9, { name: 'Wiper', is_family: true })
  return {
    type: 'bundle',
    id: `bundle--7a9e0000-0000-4000-8000-${tag}${'0'.repeat(12 - tag.length)}`,
    objects: [green, strict, unmarked, ip, observed, sighting, loose, tie, report, malware],
  }
}

/**
 * An answer without what only says where in the log it landed (seqs) or when it was asked (a TAXII
 * status's own id and request_timestamp, which also stands as the version of an object without one).
 */
function placeless(json: Json): unknown {
  const { request_timestamp: asked, ...rest } = json
  if (asked !== undefined) delete rest.id
  return JSON.parse(JSON.stringify(rest), (key, value) =>
    key === 'seq' || (asked !== undefined && value === asked) ? undefined : value,
  )
}

async function taxiiPush(base: string, token: string, objects: unknown[]) {
  const response = await fetch(`${base}/taxii2/api/collections/${ALL_COLLECTION}/objects/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, accept: TAXII, 'content-type': TAXII },
    body: JSON.stringify({ objects }),
  })
  return { status: response.status, json: (await response.json()) as Json }
}

describe('imports by a second organisation: its own copy, and nothing of the first importer in any answer', () => {
  let shared: ServerProcess
  let alone: ServerProcess
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-imports-second-'))
    ;[shared, alone] = await Promise.all([start(dir, 'shared'), start(dir, 'alone')])
  })
  afterAll(async () => {
    await Promise.all([shared?.stop(), alone?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  /** cert-ee's imports and pushes of the bundles: the same answers whether cert-lv imported them first or not. */
  async function asCertEe(server: ServerProcess, bundle: ReturnType<typeof partnerBundle>, pushed: unknown[]) {
    const first = await call<ImportReply>(server.url, 'POST', '/api/v1/import/stix', TOKENS.sensorEe, bundle)
    const again = await call<ImportReply>(server.url, 'POST', '/api/v1/import/stix', TOKENS.sensorEe, bundle)
    // the unmarked objects as GREEN this time: other content under the same ids, refused per event [L3]
    const regreened = await call<ImportReply>(
      server.url,
      'POST',
      '/api/v1/import/stix?defaultTlp=GREEN',
      TOKENS.sensorEe,
      bundle,
    )
    const taxii = await taxiiPush(server.url, TOKENS.sensorEe, pushed)
    const taxiiAgain = await taxiiPush(server.url, TOKENS.sensorEe, pushed)
    return { first, again, regreened, taxii, taxiiAgain }
  }

  it('[A5, L3] cert-ee imports and pushes what cert-lv imported and pushed: created as its own, answered as on a floor without cert-lv', async () => {
    const bundle = partnerBundle('b1')
    const pushed = partnerBundle('b2').objects
    // cert-lv first, on the shared floor only
    const byLv = await call<ImportReply>(shared.url, 'POST', '/api/v1/import/stix', TOKENS.sensorLv, bundle)
    expect(byLv.status, JSON.stringify(byLv.json).slice(0, 500)).toBe(200)
    expect(byLv.json.refused).toEqual([])
    const lvPush = await taxiiPush(shared.url, TOKENS.sensorLv, pushed)
    expect(lvPush.status, JSON.stringify(lvPush.json).slice(0, 500)).toBe(202)
    expect(lvPush.json.failure_count).toBe(1) // the malware
    const lvEvents = (
      await call<{ events: StoredEvent[] }>(shared.url, 'GET', '/api/v1/events?limit=5000', TOKENS.sensorLv)
    ).json.events.filter((e) => e.source.organisation === 'cert-lv')
    expect(lvEvents.length).toBeGreaterThanOrEqual(2 * byLv.json.results.length)

    const onShared = await asCertEe(shared, bundle, pushed)
    const onAlone = await asCertEe(alone, bundle, pushed)

    // cert-ee's first import: every event its own and new, nothing refused
    const first = onShared.first.json
    expect(onShared.first.status, JSON.stringify(first).slice(0, 500)).toBe(200)
    expect(first.refused).toEqual([])
    expect(first.results.length).toBe(byLv.json.results.length)
    expect(first.results.every((r) => !r.duplicate)).toBe(true)
    expect(first.created.map((c) => c.type)).toEqual([
      'incident',
      'incident',
      'incident',
      'sighting',
      'observed-data',
      'report',
    ])
    // again: duplicates of its own; under another default TLP: refused, per event, for its own events only
    expect(onShared.again.json.results.every((r) => r.duplicate)).toBe(true)
    expect(onShared.regreened.json.refused.length).toBeGreaterThan(0)
    expect(new Set(onShared.regreened.json.refused.map((r) => r.code))).toEqual(new Set(['conflict']))
    const eeIds = new Set(first.results.map((r) => r.id))
    for (const refusal of onShared.regreened.json.refused) expect(eeIds.has(refusal.id)).toBe(true)
    // TAXII: every object added as cert-ee's (the malware aside), then already in the log
    expect(onShared.taxii.status).toBe(202)
    expect(onShared.taxii.json).toMatchObject({ success_count: pushed.length - 1, failure_count: 1 })
    const successes = onShared.taxii.json.successes as { message: string }[]
    expect(successes.filter((s) => s.message.startsWith('added as')).length).toBe(6)
    expect(onShared.taxiiAgain.json).toMatchObject({ success_count: pushed.length - 1, failure_count: 1 })

    // every answer is the one a floor without cert-lv's imports gives, but for where in the log it landed
    for (const step of ['first', 'again', 'regreened', 'taxii', 'taxiiAgain'] as const) {
      expect(onShared[step].status, step).toBe(onAlone[step].status)
      expect(placeless(onShared[step].json), step).toEqual(placeless(onAlone[step].json))
      const text = JSON.stringify(onShared[step].json)
      expect(text, step).not.toContain('cert-lv')
      for (const e of lvEvents) expect(text, `${step} names cert-lv's event ${e.id}`).not.toContain(e.id)
    }

    // both copies are there, each its organisation's; cert-lv's untouched
    const lvIncidents = await incidentsOf(shared.url, TOKENS.viewerLv)
    expect(lvIncidents.get('b1 strict incident')).toMatchObject({
      organisation: 'cert-lv',
      marking: { tlp: 'AMBER+STRICT' },
    })
    const eeIncidents = await incidentsOf(shared.url, TOKENS.viewerEe)
    expect(eeIncidents.get('b1 strict incident')).toMatchObject({
      organisation: 'cert-ee',
      marking: { tlp: 'AMBER+STRICT' },
    })
    expect(eeIncidents.get('b1 unmarked incident')).toMatchObject({
      organisation: 'cert-ee',
      marking: { tlp: 'AMBER' },
    })
    const ids = (
      await call<{ incidents: Incident[] }>(shared.url, 'GET', '/api/v1/state', TOKENS.viewerEe)
    ).json.incidents
      .filter((i) => i.title === 'b1 green incident')
      .map((i) => [i.organisation, i.incidentId])
      .sort()
    expect(ids).toEqual([
      ['cert-ee', `${bundle.objects[0]!.id}@cert-ee`],
      ['cert-lv', `${bundle.objects[0]!.id}@cert-lv`],
    ])
  })

  it('[L3, A5] a bundle of many refused objects: each refused event reported, checks first, then the log, in order', async () => {
    const incidentAt = (tag: string, n: number, properties: Record<string, unknown> = {}) => ({
      type: 'incident',
      spec_version: '2.1',
      id: `incident--7a9e0000-0000-4000-8000-${tag}${n.toString(16).padStart(12 - tag.length, '0')}`,
      created: T0,
      modified: T0,
      name: `${tag} incident ${n}`,
      ...properties,
    })
    const many = Array.from({ length: 700 }, (_, n) => incidentAt('c1', n))
    const bundleOfMany = (objects: unknown[]) => ({
      type: 'bundle',
      id: `bundle--7a9e0000-0000-4000-8000-${randomUUID().slice(-12)}`,
      objects,
    })
    const first = await call<ImportReply>(
      shared.url,
      'POST',
      '/api/v1/import/stix',
      TOKENS.sensorEe,
      bundleOfMany(many),
    )
    expect(first.status, JSON.stringify(first.json).slice(0, 300)).toBe(200)
    expect(first.json.refused).toEqual([])
    expect(first.json.results.filter((r) => !r.duplicate)).toHaveLength(700)
    const storedAs = first.json.results.map((r) => r.id)

    // the same objects under another default TLP (other content: refused by the log), a new incident
    // after every seventh, and fifty naming cert-lv's incident (refused by the checks, A5)
    const lvIncident = `${partnerBundle('b1').objects[0]!.id}@cert-lv`
    const objects: unknown[] = []
    const expected: { kind: 'new' | 'log' | 'checks'; n: number }[] = []
    for (let n = 0; n < 700; n++) {
      objects.push(many[n])
      expected.push({ kind: 'log', n })
      if (n % 7 === 6) {
        objects.push(incidentAt('c2', n))
        expected.push({ kind: 'new', n })
      }
      if (n % 14 === 3) {
        objects.push(incidentAt('c3', n, { x_watchfloor_incident_id: lvIncident }))
        expected.push({ kind: 'checks', n })
      }
    }
    const head = await logHead(shared)
    const again = await call<ImportReply>(
      shared.url,
      'POST',
      '/api/v1/import/stix?defaultTlp=GREEN',
      TOKENS.sensorEe,
      bundleOfMany(objects),
    )
    expect(again.status, JSON.stringify(again.json).slice(0, 300)).toBe(200)
    const eventOf = again.json.created.map((c) => (c as { eventIds: string[] }).eventIds[0]!)
    const ofKind = (kind: string) => expected.flatMap((e, i) => (e.kind === kind ? [eventOf[i]!] : []))
    expect(again.json.results.map((r) => [r.id, r.duplicate])).toEqual(ofKind('new').map((id) => [id, false]))
    expect(again.json.refused.map((r) => [r.id, r.code])).toEqual([
      ...ofKind('checks').map((id) => [id, 'forbidden']),
      ...ofKind('log').map((id) => [id, 'conflict']),
    ])
    expect(ofKind('log')).toEqual(storedAs)
    for (const r of again.json.refused)
      expect(r.message).toBe(
        r.code === 'forbidden'
          ? `incident ${lvIncident} belongs to another organisation: only its owner changes it`
          : `event ${r.id} is already in the log with other content`,
      )
    expect(await logHead(shared)).toBe(head + ofKind('new').length)
    expect(again.json.results.map((r) => r.seq)).toEqual(ofKind('new').map((_, i) => head + i + 1))
  })
})

/**
 * The former `importEvents`, kept as the reference the linear one must answer exactly like: on a
 * refusal it took the event out and posted the rest of its request again.
 */
async function formerImportEvents(
  store: EventStore,
  caller: Caller,
  events: readonly EventInput[],
  owners: () => Promise<Owners>,
): Promise<{ results: IngestResult[]; refused: Refused[] }> {
  const results: IngestResult[] = []
  const refused: Refused[] = []
  for (let start = 0; start < events.length; start += 1000) {
    let chunk = events.slice(start, start + 1000)
    while (chunk.length > 0) {
      try {
        results.push(...(await ingest(store, caller, { events: chunk }, owners)))
        break
      } catch (error) {
        const failure = toWatchfloorError(error)
        const details = (failure.details ?? {}) as { index?: number; path?: string; issues?: { path?: string }[] }
        const path = details.path ?? details.issues?.[0]?.path
        const index = details.index ?? Number(String(path ?? '').match(/^events\.(\d+)/)?.[1])
        const event = chunk[index]!
        refused.push({ id: event.id, type: event.type, code: failure.code, message: failure.message })
        chunk = chunk.filter((_, i) => i !== index)
      }
    }
  }
  return { results, refused }
}

/** A real SQLite store that counts the events each append is given (the work of the log's side). */
function countingStore(file: string): { store: EventStore; appended: () => number; close: () => Promise<void> } {
  const real = new SqliteEventStore({ file })
  let appended = 0
  const store = new Proxy(real, {
    get(target, key) {
      if (key === 'append')
        return (events: readonly AcceptedEvent[]) => {
          appended += events.length
          return target.append(events)
        }
      const value = Reflect.get(target, key) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { store, appended: () => appended, close: () => real.close() }
}

/** The whole picture's owners, counting every lookup ingest's checks make (the work of the checks' side) [A5]. */
function countingOwners(store: EventStore): { owners: () => Promise<Owners>; lookups: () => number } {
  const full = new FullState(store)
  let lookups = 0
  const counted = (map: Owners['incidents']): Owners['incidents'] => ({
    get: (id) => {
      lookups++
      return map.get(id)
    },
  })
  return {
    owners: async () => {
      const state = await full.fresh()
      return {
        incidents: counted(state.incidents),
        networks: counted(state.networks),
        advisories: counted(state.advisories),
      }
    },
    lookups: () => lookups,
  }
}

describe('importEvents: linear however many events are refused, and the report the former one gave', () => {
  const caller: Caller = {
    user: 'importer',
    organisation: 'cert-ee',
    nation: 'EE',
    roles: ['sensor'],
    sources: ['ncsc-nl'],
    displayName: 'Importer',
    kind: 'api',
    account: null,
    credential: { type: 'static' },
    communities: [],
  }
  const at = '2026-11-26T08:00:00.000Z'
  const incident = (id: string, incidentId: string, organisation: string, title = `Incident ${incidentId}`) =>
    ({
      id,
      type: 'incident.reported',
      occurredAt: at,
      source: { organisation },
      marking: { tlp: 'GREEN' },
      payload: { incidentId, title, severity: 'high', category: 'malware', affectedNetworks: [] },
    }) as EventInput
  const observation = (id: string, incidentId: string, count: number) =>
    ({
      id,
      type: 'incident.observation',
      occurredAt: at,
      source: { organisation: 'cert-ee' },
      marking: { tlp: 'GREEN' },
      payload: { incidentId, count },
    }) as EventInput

  /** What the log holds before: cert-lv's incidents (A5 for anyone else) and the importer's own events. */
  function baseline(): { lv: EventInput[]; own: EventInput[] } {
    const lv = Array.from({ length: 10 }, (_, i) =>
      incident(`00000000-0000-4000-8000-1000000000${10 + i}`, `lv-${i}`, 'cert-lv'),
    )
    const own = Array.from({ length: 40 }, (_, i) =>
      observation(`00000000-0000-4000-8000-2000000000${10 + i}`, `lv-${i % 10}`, i + 1),
    )
    return { lv, own }
  }

  /** An import of `n` events, a `refusedShare` of them refused in every way ingest and the log refuse, seeded. */
  function importOf(seed: number, n: number, refusedShare: number, own: EventInput[]): EventInput[] {
    const rng = new Rng(seed)
    const events: EventInput[] = []
    const claimed: [string, string][] = []
    for (let i = 0; i < n; i++) {
      const id = `00000000-0000-4000-8000-${(0x300000000000 + seed * 0x100000 + i).toString(16)}`
      if (rng.float() >= refusedShare) {
        const kind = rng.int(4)
        if (kind === 0 || claimed.length === 0) {
          const source = rng.chance(0.5) ? 'cert-ee' : 'ncsc-nl'
          const incidentId = `imp-${seed}-${i}`
          claimed.push([incidentId, source])
          events.push(incident(id, incidentId, source))
        } else if (kind === 1) {
          const [incidentId, source] = rng.pick(claimed)
          events.push({
            ...incident(id, incidentId, source),
            type: 'incident.updated',
            payload: { incidentId, severity: 'low' },
          } as EventInput)
        } else if (kind === 2) events.push(observation(id, rng.pick(claimed)[0], i + 1))
        else events.push(rng.chance(0.5) ? rng.pick(own) : (events[rng.int(events.length)] ?? observation(id, 'x', 1)))
        continue
      }
      switch (rng.int(7)) {
        case 0: // another organisation's incident [A5]
          events.push(incident(id, `lv-${rng.int(10)}`, rng.pick(['cert-ee', 'ncsc-nl'])))
          break
        case 1: // an incident claimed earlier in the import by the other source [A5]
          if (claimed.length > 0) {
            const [incidentId, source] = rng.pick(claimed)
            events.push(incident(id, incidentId, source === 'cert-ee' ? 'ncsc-nl' : 'cert-ee'))
          } else events.push(incident(id, 'lv-1', 'cert-ee'))
          break
        case 2: // a source the importer may not post for [A3]
          events.push(incident(id, `imp-${seed}-x${i}`, 'cert-fr'))
          break
        case 3: // a coordination type, posted raw [A4]
          events.push({
            ...observation(id, 'lv-1', 1),
            type: 'task.created',
            payload: { taskId: `t-${i}`, incidentId: 'lv-1', title: 'Raw', priority: 'high' },
          } as EventInput)
          break
        case 4: // not an event: a title over 300 characters (validation)
          events.push(incident(id, `imp-${seed}-v${i}`, 'cert-ee', 'x'.repeat(301)))
          break
        case 5: // an id in the log with other content [L3]
          events.push({ ...rng.pick(own), payload: { incidentId: 'lv-2', count: 10_000 + i } } as EventInput)
          break
        default: // an id earlier in the import with other content [L3]
          events.push(
            events.length > 0 && events.at(-1)!.type === 'incident.observation'
              ? ({ ...events.at(-1)!, payload: { incidentId: 'lv-3', count: 20_000 + i } } as EventInput)
              : ({ ...rng.pick(own), payload: { incidentId: 'lv-4', count: 30_000 + i } } as EventInput),
          )
      }
    }
    return events
  }

  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-import-events-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it.each([
    [1, 1500, 0.3],
    [2, 2400, 0.5],
    [3, 900, 0.9],
  ])('seed %i: %i events, %f refused: the same report, work within 4 per event', async (seed, n, share) => {
    const runs = []
    for (const which of ['former', 'linear'] as const) {
      const { store, appended, close } = countingStore(join(dir, `${which}-${seed}.sqlite`))
      try {
        const { lv, own } = baseline()
        const { owners, lookups } = countingOwners(store)
        await ingest(store, { ...caller, sources: ['cert-lv'] }, { events: lv }, owners)
        await ingest(store, caller, { events: own }, owners)
        const [appendedBefore, lookupsBefore] = [appended(), lookups()]
        const events = importOf(seed, n, share, own)
        const report = await (which === 'former' ? formerImportEvents : importEvents)(store, caller, events, owners)
        runs.push({
          report,
          appended: appended() - appendedBefore,
          lookups: lookups() - lookupsBefore,
          head: await store.head(),
        })
      } finally {
        await close()
      }
    }
    const [former, linear] = runs as [(typeof runs)[0], (typeof runs)[0]]
    expect(linear.report.refused.length).toBeGreaterThan(n * share * 0.8)
    expect(new Set(linear.report.refused.map((r) => r.code))).toEqual(new Set(['forbidden', 'validation', 'conflict']))
    expect(linear.report).toEqual(former.report)
    expect(linear.head).toBe(former.head)
    // the work: at most 4 events appended and 4 owner lookups per imported event; the former one's grew with n x refused
    expect(linear.appended).toBeLessThanOrEqual(4 * n)
    expect(linear.lookups).toBeLessThanOrEqual(4 * n)
    expect(former.appended + former.lookups).toBeGreaterThan(20 * n)
  })
})

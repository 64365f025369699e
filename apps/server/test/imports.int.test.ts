import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoredEvent } from '@watchfloor/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as T, headers: response.headers }
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

    // the same incident imported by another organisation: its owner is cert-lv [A5]; refused, reported
    const other = await call<ImportReply>(target.url, 'POST', '/api/v1/import/stix?defaultTlp=GREEN', TOKENS.relay, {
      ...unmarked,
      objects: [{ ...unmarked.objects[0], modified: '2026-11-26T09:00:00.000Z', name: 'Taken over' }],
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
      members: ['ncsc-nl'],
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

import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mispEventUuid } from '@watchfloor/sharing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

type Json = Record<string, unknown> & { error?: { code: string; message: string } }

async function get<T = Json>(base: string, path: string, token: string | null) {
  const response = await fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {})
  const text = await response.text()
  let json: T | undefined
  try {
    json = JSON.parse(text) as T
  } catch {
    json = undefined
  }
  return { status: response.status, text, json: json as T, headers: response.headers }
}

describe('MISP: Watchfloor as a feed, and one incident as a MISP event', () => {
  let server: ServerProcess
  let consoleDir = ''
  const incidents = {
    open: { id: 'misp-open', marking: { tlp: 'GREEN' } },
    latvia: { id: 'misp-lv', marking: { tlp: 'AMBER', releasableTo: ['cert-lv'], pap: 'AMBER' } },
    home: { id: 'misp-home', marking: { tlp: 'AMBER+STRICT' } },
    red: { id: 'misp-red', marking: { tlp: 'RED', recipients: ['janis'] } },
  } as const

  beforeAll(async () => {
    // a console to serve (a page of its own, as the built one: the suite runs before the build), so a
    // path that falls through to the console's page would be seen
    consoleDir = mkdtempSync(join(tmpdir(), 'watchfloor-misp-console-'))
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><html><body>console</body></html>')
    server = await startServerProcess({ env: { WATCHFLOOR_CONSOLE_DIR: consoleDir } })
    const events = Object.values(incidents).flatMap(({ id, marking }) => [
      event({
        type: 'incident.reported',
        payload: {
          incidentId: id,
          title: `Title of ${id}`,
          severity: 'high',
          category: 'malware',
          affectedNetworks: [],
        },
        marking,
      } as never),
      event({
        type: 'incident.observation',
        payload: { incidentId: id, indicator: `${id}.example`, count: 1 },
        marking,
      } as never),
    ])
    const { status } = await post(server.url, TOKENS.sensorEe, { events })
    expect(status).toBe(201)
  })
  afterAll(async () => {
    await server?.stop()
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true })
  })

  it('the feed holds exactly the incidents the caller may see, never RED; a hidden one is missing like one that is not', async () => {
    const uuid = (id: string) => mispEventUuid(id)
    const asLv = await get<Record<string, { info: string }>>(server.url, '/misp/feed/manifest.json', TOKENS.viewerLv)
    expect(asLv.status).toBe(200)
    expect(Object.keys(asLv.json).sort()).toEqual([uuid('misp-lv'), uuid('misp-open')].sort())
    const asEe = await get<Record<string, unknown>>(server.url, '/misp/feed/manifest.json', TOKENS.viewerEe)
    expect(Object.keys(asEe.json).sort()).toEqual([uuid('misp-home'), uuid('misp-lv'), uuid('misp-open')].sort())

    const one = await get<{ Event: { info: string; Tag: { name: string }[]; Attribute: { value: string }[] } }>(
      server.url,
      `/misp/feed/${uuid('misp-lv')}.json`,
      TOKENS.viewerLv,
    )
    expect(one.status).toBe(200)
    expect(one.json.Event.info).toBe('Title of misp-lv')
    expect(one.json.Event.Tag.map((t) => t.name)).toEqual(expect.arrayContaining(['tlp:amber', 'PAP:AMBER']))
    expect(one.json.Event.Attribute.map((a) => a.value)).toEqual(['misp-lv.example'])

    const hidden = await get(server.url, `/misp/feed/${uuid('misp-home')}.json`, TOKENS.viewerLv)
    const missing = await get(server.url, `/misp/feed/${uuid('nothing')}.json`, TOKENS.viewerLv)
    expect(hidden.status).toBe(404)
    expect(missing.status).toBe(404)
    expect(hidden.text.replace(uuid('misp-home'), 'X')).toBe(missing.text.replace(uuid('nothing'), 'X'))
    const red = await get(server.url, `/misp/feed/${uuid('misp-red')}.json`, TOKENS.viewerLv)
    expect(red.status).toBe(404)

    const hashes = await get(server.url, '/misp/feed/hashes.csv', TOKENS.viewerLv)
    expect(hashes.status).toBe(200)
    expect(hashes.text).not.toContain(uuid('misp-home'))
    expect((await get(server.url, '/misp/feed/manifest.json', null)).status).toBe(401)
    expect((await get(server.url, '/misp/feed/other.txt', TOKENS.viewerLv)).status).toBe(404)
    // the feed's folder itself, and paths beside it: a 404 saying where the files are, never the console's page
    for (const path of ['/misp/feed', '/misp/feed/', '/misp', '/api', '/api/v2/state']) {
      const reply = await get(server.url, path, TOKENS.viewerLv)
      expect(reply.status, path).toBe(404)
      expect(reply.text, path).not.toContain('<html')
      expect(JSON.parse(reply.text), path).toMatchObject({ error: { code: 'not_found' } })
    }
    expect((await get(server.url, '/misp/feed', TOKENS.viewerLv)).text).toContain('/misp/feed/manifest.json')
  })

  it('an incident reported GREEN whose update is RED leaves as RED: STIX marks it RED, MISP never takes it', async () => {
    const report = event({
      type: 'incident.reported',
      payload: {
        incidentId: 'misp-upd',
        title: 'Reported GREEN',
        severity: 'low',
        category: 'malware',
        affectedNetworks: [],
      },
      marking: { tlp: 'GREEN' },
    } as never)
    const update = event({
      type: 'incident.updated',
      payload: { incidentId: 'misp-upd', summary: 'RED-ONLY detail for janis', severity: 'critical' },
      marking: { tlp: 'RED', recipients: ['janis'] },
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, { events: [report, update] })).status).toBe(201)
    // janis, a recipient, sees the update: every export of hers labels it as the update is labelled
    const stix = await get<{ objects: Record<string, unknown>[] }>(
      server.url,
      '/api/v1/export?format=stix',
      TOKENS.viewerLv,
    )
    const incident = stix.json.objects.find((o) => o.x_watchfloor_incident_id === 'misp-upd')!
    expect(incident.description).toBe('RED-ONLY detail for janis')
    const names = (incident.object_marking_refs as string[]).map(
      (ref) => stix.json.objects.find((o) => o.id === ref)?.name,
    )
    expect(names).toContain('TLP:RED')
    expect(names).not.toContain('TLP:GREEN')
    expect((await get(server.url, '/api/v1/export?format=misp&incidentId=misp-upd', TOKENS.viewerLv)).status).toBe(403)
    const feed = await get<Record<string, unknown>>(server.url, '/misp/feed/manifest.json', TOKENS.viewerLv)
    expect(Object.keys(feed.json)).not.toContain(mispEventUuid('misp-upd'))
    // someone who sees only the report gets the GREEN report as it was
    const nl = await get<{ objects: Record<string, unknown>[] }>(
      server.url,
      '/api/v1/export?format=stix',
      TOKENS.viewerNl,
    )
    const seen = nl.json.objects.find((o) => o.x_watchfloor_incident_id === 'misp-upd')!
    expect(seen.description).toBeUndefined()
    expect(JSON.stringify(nl.json)).not.toContain('RED-ONLY')
  })

  it('a window or one incident goes out marked as what the picture holds, whatever shaped it outside the window', async () => {
    const strict = { tlp: 'AMBER+STRICT' } as const
    const report = (incidentId: string, marking: { tlp: string } = { tlp: 'GREEN' }) =>
      event({
        type: 'incident.reported',
        payload: {
          incidentId,
          title: `Title of ${incidentId}`,
          severity: 'high',
          category: 'malware',
          affectedNetworks: [],
        },
        marking,
      } as never)
    const pause = () => new Promise((resolve) => setTimeout(resolve, 30))
    await pause()
    const start = new Date().toISOString()
    expect(
      (await post(server.url, TOKENS.sensorEe, { events: [report('win-updated'), report('win-merged')] })).status,
    ).toBe(201)
    await pause()
    const end = new Date().toISOString()
    await pause()
    // after the window: a stricter update, and a merge into a stricter incident (the link takes the
    // stricter of the two markings [C4])
    const update = event({
      type: 'incident.updated',
      payload: { incidentId: 'win-updated', summary: 'STRICT detail' },
      marking: strict,
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, { events: [update, report('win-survivor', strict)] })).status).toBe(
      201,
    )
    const merge = await fetch(`${server.url}/api/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.coordEeA}` },
      body: JSON.stringify({
        type: 'incident.link',
        incidentId: 'win-merged',
        otherIncidentId: 'win-survivor',
        relation: 'merged_into',
      }),
    })
    expect(merge.status).toBe(200)
    const tlpsOf = (bundle: { objects: Record<string, unknown>[] }, incidentId: string) => {
      const incident = bundle.objects.find((o) => o.x_watchfloor_incident_id === incidentId)!
      return (incident.object_marking_refs as string[]).map((ref) => bundle.objects.find((o) => o.id === ref)?.name)
    }
    const window = await get<{ objects: Record<string, unknown>[] }>(
      server.url,
      `/api/v1/export?format=stix&from=${start}&to=${end}`,
      TOKENS.viewerEe,
    )
    expect(window.status).toBe(200)
    // the incident says what the update said: it carries the update's marking, as does the header
    const updated = window.json.objects.find((o) => o.x_watchfloor_incident_id === 'win-updated')!
    expect(updated.description).toBe('STRICT detail')
    expect(tlpsOf(window.json, 'win-updated')).toEqual(['TLP:AMBER+STRICT'])
    // the merged incident is closed and names its survivor: the merge's marking too
    expect(tlpsOf(window.json, 'win-merged')).toEqual(['TLP:AMBER+STRICT'])
    expect(window.headers.get('x-watchfloor-marking')).toBe('TLP:AMBER+STRICT')
    // one incident, no window: the same
    const one = await get<{ objects: Record<string, unknown>[] }>(
      server.url,
      '/api/v1/export?format=stix&incidentId=win-merged',
      TOKENS.viewerEe,
    )
    expect(tlpsOf(one.json, 'win-merged')).toEqual(['TLP:AMBER+STRICT'])
    expect(one.headers.get('x-watchfloor-marking')).toBe('TLP:AMBER+STRICT')
    // MISP: the merged incident's event (closed by the merge) carries the merge's marking
    const misp = await get<{ Event: { Tag: { name: string }[]; analysis: string } }>(
      server.url,
      '/api/v1/export?format=misp&incidentId=win-merged',
      TOKENS.viewerEe,
    )
    expect(misp.json.Event.analysis).toBe('2')
    expect(misp.json.Event.Tag.map((tag) => tag.name)).toContain('tlp:amber+strict')
    expect(misp.json.Event.Tag.map((tag) => tag.name)).not.toContain('tlp:green')
  })

  it('export one incident as a MISP event: needs incidentId; RED is refused; hidden is missing', async () => {
    const lv = await get<{ Event: { uuid: string; info: string } }>(
      server.url,
      '/api/v1/export?format=misp&incidentId=misp-lv',
      TOKENS.viewerLv,
    )
    expect(lv.status).toBe(200)
    expect(lv.headers.get('content-disposition')).toContain('.misp.json')
    expect(lv.json.Event).toMatchObject({ uuid: mispEventUuid('misp-lv'), info: 'Title of misp-lv' })
    expect((await get(server.url, '/api/v1/export?format=misp', TOKENS.viewerLv)).status).toBe(400)
    const hidden = await get(server.url, '/api/v1/export?format=misp&incidentId=misp-home', TOKENS.viewerLv)
    const missing = await get(server.url, '/api/v1/export?format=misp&incidentId=misp-none', TOKENS.viewerLv)
    expect([hidden.status, missing.status]).toEqual([404, 404])
    expect(hidden.text.replace('misp-home', 'X')).toBe(missing.text.replace('misp-none', 'X'))
    const red = await get(server.url, '/api/v1/export?format=misp&incidentId=misp-red', TOKENS.viewerLv)
    expect(red.status).toBe(403)
  })
})

describe('MISP markings as core combines them: the export, the feed and their re-import never reach further [V4, V6, M1]', () => {
  let server: ServerProcess
  type Attribute = { value: string; distribution: string; comment: string; Tag?: { name: string }[] }
  type MispDocument = { Event: { uuid: string; distribution: string; Tag: { name: string }[]; Attribute: Attribute[] } }
  type Observed = { type: string; marking: { tlp: string; releasableTo?: string[] }; payload: Record<string, unknown> }
  const md5 = (value: string) => createHash('md5').update(value).digest('hex')
  const tagsOf = (tags: { name: string }[] | undefined) => (tags ?? []).map((tag) => tag.name)
  const report = (incidentId: string, marking: object) =>
    event({
      type: 'incident.reported',
      payload: {
        incidentId,
        title: `Title of ${incidentId}`,
        severity: 'medium',
        category: 'scanning',
        affectedNetworks: [],
      },
      marking,
    } as never)
  const observation = (incidentId: string, indicator: string, count: number, marking: object) =>
    event({ type: 'incident.observation', payload: { incidentId, indicator, count }, marking } as never)

  beforeAll(async () => {
    server = await startServerProcess()
    const events = [
      // repro A: one indicator seen under AMBER naming no one (cert-ee only) and GREEN releasable to cert-lv
      report('inc-m1', { tlp: 'GREEN' }),
      observation('inc-m1', '198.51.100.7', 40, { tlp: 'AMBER' }),
      observation('inc-m1', '198.51.100.7', 1, { tlp: 'GREEN', releasableTo: ['cert-lv'] }),
      // repro B: an incident releasable to cert-lv, one of its observations AMBER naming no one
      report('inc-m2', { tlp: 'AMBER', releasableTo: ['cert-lv'] }),
      observation('inc-m2', '192.0.2.77', 3, { tlp: 'AMBER' }),
      observation('inc-m2', '192.0.2.78', 1, { tlp: 'AMBER', releasableTo: ['cert-lv'] }),
      // releasable to nobody: reported for cert-lv, updated for cert-lt
      report('inc-m3', { tlp: 'GREEN', releasableTo: ['cert-lv'] }),
      event({
        type: 'incident.updated',
        payload: { incidentId: 'inc-m3', summary: 'Also seen against Lithuanian e-services' },
        marking: { tlp: 'GREEN', releasableTo: ['cert-lt'] },
      } as never),
      observation('inc-m3', '203.0.113.5', 2, { tlp: 'GREEN', releasableTo: ['cert-lv'] }),
    ]
    const { status } = await post(server.url, TOKENS.sensorEe, { events })
    expect(status).toBe(201)
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** POST /api/v1/import/misp as cert-ee's sensor: the id of the one incident it made. */
  async function imported(document: unknown): Promise<string> {
    const response = await fetch(`${server.url}/api/v1/import/misp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.sensorEe}` },
      body: JSON.stringify(document),
    })
    const reply = (await response.json()) as { created: { id: string }[]; refused: unknown[] }
    expect(response.status, JSON.stringify(reply).slice(0, 500)).toBe(200)
    expect(reply.refused).toEqual([])
    expect(reply.created).toHaveLength(1)
    return reply.created[0]!.id
  }
  /** The events of an incident a viewer may read (REST events). */
  async function eventsOf(token: string, incidentId: string): Promise<Observed[]> {
    const page = await get<{ events: Observed[] }>(server.url, '/api/v1/events?after=0&limit=5000', token)
    expect(page.status).toBe(200)
    return page.json.events.filter((e) => e.payload.incidentId === incidentId)
  }
  const indicators = (events: Observed[]) =>
    events.filter((e) => e.type === 'incident.observation').map((e) => e.payload.indicator as string)

  it('[V4] an AMBER sighting naming no one and a GREEN one for cert-lv of one indicator export as AMBER naming no one; re-imported, cert-lv never gets it', async () => {
    const ee = await get<MispDocument>(server.url, '/api/v1/export?format=misp&incidentId=inc-m1', TOKENS.viewerEe)
    expect(ee.status).toBe(200)
    expect(ee.json.Event.Attribute).toHaveLength(1)
    const [attribute] = ee.json.Event.Attribute
    expect(attribute).toMatchObject({
      value: '198.51.100.7',
      // cert-ee's only: your organisation only, never this community
      distribution: '0',
      comment: 'Observed 41 times in 2 Watchfloor reports',
    })
    expect(tagsOf(attribute!.Tag)).toEqual(['tlp:amber'])
    // cert-lv's own export holds its sighting alone, as it was marked
    const lv = await get<MispDocument>(server.url, '/api/v1/export?format=misp&incidentId=inc-m1', TOKENS.viewerLv)
    expect(lv.json.Event.Attribute.map((a) => [a.value, a.comment, tagsOf(a.Tag)])).toEqual([
      ['198.51.100.7', 'Observed 1 time in 1 Watchfloor report', ['tlp:green', 'watchfloor:releasable-to="cert-lv"']],
    ])

    const id = await imported(ee.json)
    expect(indicators(await eventsOf(TOKENS.viewerEe, id))).toEqual(['198.51.100.7'])
    const asLv = await eventsOf(TOKENS.viewerLv, id)
    expect(asLv.map((e) => e.type)).toEqual(['incident.reported']) // the GREEN incident, not the AMBER sighting
  })

  it('[V4, V6] the feed leaves out an AMBER observation naming no one of an incident releasable to cert-lv (event and hashes.csv); no re-import gives it to cert-lv', async () => {
    const uuid = mispEventUuid('inc-m2')
    const feedEvent = await get<MispDocument>(server.url, `/misp/feed/${uuid}.json`, TOKENS.viewerEe)
    expect(feedEvent.status).toBe(200)
    expect(feedEvent.json.Event.Attribute.map((a) => [a.value, a.distribution])).toEqual([['192.0.2.78', '5']])
    const hashes = await get(server.url, '/misp/feed/hashes.csv', TOKENS.viewerEe)
    expect(hashes.text).toContain(`${md5('192.0.2.78')},${uuid}`)
    expect(hashes.text).not.toContain(md5('192.0.2.77'))
    // the one-incident export keeps it, with its own distribution and tags naming no one
    const ee = await get<MispDocument>(server.url, '/api/v1/export?format=misp&incidentId=inc-m2', TOKENS.viewerEe)
    const strict = ee.json.Event.Attribute.find((a) => a.value === '192.0.2.77')!
    expect([strict.distribution, tagsOf(strict.Tag)]).toEqual(['0', ['tlp:amber']])

    const fromFeed = await imported(feedEvent.json)
    const fromExport = await imported(ee.json)
    expect(fromExport).toBe(fromFeed) // the same MISP event: the same incident
    expect(indicators(await eventsOf(TOKENS.viewerEe, fromFeed)).sort()).toEqual(['192.0.2.77', '192.0.2.78'])
    expect(indicators(await eventsOf(TOKENS.viewerLv, fromFeed))).toEqual(['192.0.2.78'])
  })

  it('[V6] releasable to nobody (reported for cert-lv, updated for cert-lt): distribution 0 and watchfloor:releasable-to-none in the export and the feed; re-imported, for cert-ee alone', async () => {
    const uuid = mispEventUuid('inc-m3')
    const ee = await get<MispDocument>(server.url, '/api/v1/export?format=misp&incidentId=inc-m3', TOKENS.viewerEe)
    expect(ee.status).toBe(200)
    expect(ee.json.Event.distribution).toBe('0')
    const markingTags = (tags: { name: string }[]) =>
      tagsOf(tags).filter((name) => /^(tlp|PAP):|^watchfloor:releasable/.test(name))
    expect(markingTags(ee.json.Event.Tag)).toEqual(['tlp:green', 'watchfloor:releasable-to-none'])
    expect(ee.json.Event.Attribute.map((a) => [a.value, a.distribution])).toEqual([['203.0.113.5', '5']])
    const manifest = await get<Record<string, { Tag: { name: string }[] }>>(
      server.url,
      '/misp/feed/manifest.json',
      TOKENS.viewerEe,
    )
    expect(markingTags(manifest.json[uuid]!.Tag)).toEqual(['tlp:green', 'watchfloor:releasable-to-none'])
    const feedEvent = await get<MispDocument>(server.url, `/misp/feed/${uuid}.json`, TOKENS.viewerEe)
    expect(feedEvent.json.Event.distribution).toBe('0')
    // cert-lv, which saw only the report, is served the report as it was marked
    const lv = await get<MispDocument>(server.url, '/api/v1/export?format=misp&incidentId=inc-m3', TOKENS.viewerLv)
    expect(markingTags(lv.json.Event.Tag)).toEqual(['tlp:green', 'watchfloor:releasable-to="cert-lv"'])

    const id = await imported(ee.json)
    const asEe = await eventsOf(TOKENS.viewerEe, id)
    expect(asEe.map((e) => [e.type, e.marking])).toEqual([
      ['incident.reported', { tlp: 'GREEN', releasableTo: [] }],
      ['incident.observation', { tlp: 'GREEN', releasableTo: [] }],
    ])
    expect(await eventsOf(TOKENS.viewerLv, id)).toEqual([])
    expect(await eventsOf(TOKENS.viewerNl, id)).toEqual([])
  })
})

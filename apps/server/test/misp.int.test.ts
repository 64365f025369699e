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
  const incidents = {
    open: { id: 'misp-open', marking: { tlp: 'GREEN' } },
    latvia: { id: 'misp-lv', marking: { tlp: 'AMBER', releasableTo: ['cert-lv'], pap: 'AMBER' } },
    home: { id: 'misp-home', marking: { tlp: 'AMBER+STRICT' } },
    red: { id: 'misp-red', marking: { tlp: 'RED', recipients: ['janis'] } },
  } as const

  beforeAll(async () => {
    server = await startServerProcess()
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

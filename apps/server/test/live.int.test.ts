import { rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  canSee,
  fold,
  initialState,
  type LiveStateJson,
  livePicture,
  liveStateToJson,
  omittedFromJson,
  omittedNames,
} from '@watchfloor/core'
import type { EventInput, Marking, StoredEvent, Viewer } from '@watchfloor/protocol'
import { SqliteEventStore } from '@watchfloor/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, getJson, PRINCIPALS, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

/**
 * `GET /api/v1/state?scope=live` against a real server: each viewer's live picture is core's live
 * cut of its own projection, and what it leaves out, and what `include` brings, is counted and
 * hashed from that projection only: an incident another viewer may not see is neither counted nor
 * brought by asking for it by id.
 */

const DAY = 86_400_000
const now = Date.now()
const at = (daysAgo: number) => new Date(now - daysAgo * DAY).toISOString()

const viewerOf = (token: string): Viewer => {
  const p = PRINCIPALS.find((x) => x.token === token)!
  return { organisation: p.organisation, nation: p.nation, roles: p.roles as Viewer['roles'], userId: p.user }
}

/** An incident event of `organisation` with `marking`, `daysAgo`. */
function about(
  type: 'incident.reported' | 'incident.updated',
  incidentId: string,
  marking: Marking,
  daysAgo: number,
  organisation = 'cert-ee',
): EventInput {
  const payload =
    type === 'incident.reported'
      ? { incidentId, title: incidentId, severity: 'high', category: 'malware', affectedNetworks: [] }
      : { incidentId, status: 'closed' }
  return event({ type, occurredAt: at(daysAgo), source: { organisation }, marking, payload } as never)
}
const reported = (incidentId: string, marking: Marking, daysAgo: number, organisation?: string) =>
  about('incident.reported', incidentId, marking, daysAgo, organisation)
const closed = (incidentId: string, marking: Marking, daysAgo: number, organisation?: string) =>
  about('incident.updated', incidentId, marking, daysAgo, organisation)

const GREEN = { tlp: 'GREEN' } as const
const RED_JANIS: Marking = { tlp: 'RED', recipients: ['janis'] }

const LOG: EventInput[] = [
  reported('old-green', GREEN, 40),
  closed('old-green', GREEN, 39),
  reported('old-red-janis', RED_JANIS, 40),
  closed('old-red-janis', RED_JANIS, 39),
  reported('old-amber-lv', { tlp: 'AMBER' }, 40, 'cert-lv'),
  closed('old-amber-lv', { tlp: 'AMBER' }, 39, 'cert-lv'),
  reported('open-green', GREEN, 30),
  reported('recent-closed', GREEN, 20),
  closed('recent-closed', GREEN, 2),
  event({
    type: 'advisory.published',
    occurredAt: at(35),
    payload: { advisoryId: 'adv-old', title: 'Old advisory', body: 'Patch' },
  } as never),
  event({
    type: 'advisory.published',
    occurredAt: at(1),
    payload: { advisoryId: 'adv-new', title: 'New advisory', body: 'Patch' },
  } as never),
]

describe('GET /api/v1/state?scope=live', () => {
  let server: ServerProcess
  let log: StoredEvent[] = []
  beforeAll(async () => {
    server = await startServerProcess()
    expect((await post(server.url, TOKENS.relay, { events: LOG })).status).toBe(201)
    const store = new SqliteEventStore({ file: join(server.dataDir, 'events.sqlite') })
    log = await store.readAfter(0, 1000)
    await store.close()
  })
  afterAll(async () => {
    await server?.stop()
    if (server) rmSync(server.dataDir, { recursive: true, force: true })
  })

  const live = (token: string, query: string) => getJson<LiveStateJson>(`${server.url}/api/v1/state?${query}`, token)
  const wanted = (token: string, sinceMs: number, include: string[] = []) => {
    const whole = fold(
      initialState,
      log.filter((e) => canSee(viewerOf(token), e)),
    )
    const cut = livePicture(whole, { sinceMs, include })
    return JSON.parse(JSON.stringify(liveStateToJson(cut.state, cut.omitted))) as LiveStateJson
  }

  it("by default keeps the last seven days: each viewer's own cut, its own counts", async () => {
    const newest = Date.parse(log.at(-1)!.recordedAt)
    for (const token of [TOKENS.viewerEe, TOKENS.viewerLv, TOKENS.viewerNl, TOKENS.redReader]) {
      const reply = await live(token, 'scope=live')
      expect(reply.status).toBe(200)
      // the default since: seven days before the newest event the viewer may see was recorded
      const own = log.filter((e) => canSee(viewerOf(token), e)).at(-1)!
      expect(reply.json).toEqual(wanted(token, Date.parse(own.recordedAt) - 7 * DAY))
      expect(Date.parse(own.recordedAt)).toBeLessThanOrEqual(newest)
    }
    const ee = (await live(TOKENS.viewerEe, 'scope=live')).json
    expect(ee.incidents.map((i) => i.incidentId).sort()).toEqual(['open-green', 'recent-closed'])
    expect(ee.advisories.map((a) => a.advisoryId)).toEqual(['adv-new'])
    // kadri may see neither janis's RED incident nor cert-lv's AMBER one: not counted, not hashed
    expect(ee.omitted).toMatchObject({ incidents: 1, advisories: 1 })
    const janis = (await live(TOKENS.viewerLv, 'scope=live')).json
    expect(janis.omitted).toMatchObject({ incidents: 3, advisories: 1 })
    const hashesOf = (json: LiveStateJson) => omittedFromJson(json.omitted)
    const reopen = { ...log[0]!, type: 'incident.updated', payload: { incidentId: 'old-red-janis', status: 'triaged' } }
    expect(omittedNames(reopen as StoredEvent, hashesOf(janis))).toEqual(['old-red-janis'])
    expect(omittedNames(reopen as StoredEvent, hashesOf(ee))).toEqual([])
  })

  it('brings what `include` names, only when the viewer may see it', async () => {
    const query = 'scope=live&since=2000-01-01T00:00:00Z&include=old-red-janis&include=old-green'
    const sinceFuture = 'scope=live&since=2100-01-01T00:00:00Z&include=old-red-janis&include=old-green&include=adv-old'
    const janis = await live(TOKENS.viewerLv, sinceFuture)
    expect(janis.json).toEqual(
      wanted(TOKENS.viewerLv, Date.parse('2100-01-01T00:00:00Z'), ['old-red-janis', 'old-green', 'adv-old']),
    )
    expect(janis.json.incidents.map((i) => i.incidentId).sort()).toEqual(['old-green', 'old-red-janis', 'open-green'])
    const kadri = await live(TOKENS.viewerEe, sinceFuture)
    expect(kadri.json.incidents.map((i) => i.incidentId).sort()).toEqual(['old-green', 'open-green'])
    expect(kadri.json.omitted).toMatchObject({ incidents: 1, advisories: 1 })
    // a since before everything: the whole picture, nothing left out
    const whole = await live(TOKENS.viewerEe, query)
    expect(whole.json.omitted).toMatchObject({ incidents: 0, tasks: 0, comments: 0, advisories: 0, hashes: '' })
    const plain = await getJson<LiveStateJson>(`${server.url}/api/v1/state`, TOKENS.viewerEe)
    expect({ ...whole.json, omitted: undefined }).toEqual({ ...plain.json, omitted: undefined })
    expect((await getJson(`${server.url}/api/v1/state?scope=all`, TOKENS.viewerEe)).json).toEqual(plain.json)
  })

  it('refuses what it cannot read with a 400 that names the parameter', async () => {
    for (const [query, path] of [
      ['scope=everything', 'scope'],
      ['scope=live&since=yesterday', 'since'],
      ['scope=live&include=a&include=', 'include'],
      ['since=2026-01-01T00:00:00Z', 'scope'],
      ['include=inc-1', 'scope'],
      [`scope=live&include=${'x'.repeat(201)}`, 'include'],
      [`scope=live${Array.from({ length: 201 }, (_, i) => `&include=i${i}`).join('')}`, 'include'],
      ['scope=live&at=2026-01-01T00:00:00Z', 'at'],
      ['scope=all&since=2026-01-01T00:00:00Z', 'scope'],
    ] as const) {
      const reply = await getJson<{
        error: { code: string; message: string; details: { issues: { path: string }[] } }
      }>(`${server.url}/api/v1/state?${query}`, TOKENS.viewerEe)
      expect(reply.status, query).toBe(400)
      expect(reply.json.error.code).toBe('validation')
      expect(
        reply.json.error.details.issues.map((i) => i.path),
        query,
      ).toContain(path)
    }
    expect((await getJson(`${server.url}/api/v1/state?scope=live`, null)).status).toBe(401)
  })

  it('takes an id with a comma as one id', async () => {
    const id = 'old,with,commas'
    expect(
      (await post(server.url, TOKENS.relay, { events: [reported(id, GREEN, 40), closed(id, GREEN, 39)] })).status,
    ).toBe(201)
    const without = await live(TOKENS.viewerEe, 'scope=live')
    expect(without.json.incidents.some((i) => i.incidentId === id)).toBe(false)
    const asked = await live(TOKENS.viewerEe, `scope=live&include=${encodeURIComponent(id)}`)
    expect(asked.status).toBe(200)
    expect(asked.json.incidents.some((i) => i.incidentId === id)).toBe(true)
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoredEvent } from '@watchfloor/protocol'
import { mispEventUuid } from '@watchfloor/sharing'
import { io } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, post, type ServerProcess, startServerProcess, TOKENS, tokensWithAdmin, Watcher } from './harness.ts'

const ADMIN = 'viewas-admin-token-0123456789'
const COORD_LV = 'viewas-coord-lv-token-01234567'

/** cert-ee and cert-lv are in `baltic`; only ncsc-nl is in `nordic-club`, whose name nobody else knows. */
const BALTIC = { id: 'baltic', name: 'Baltic exchange', members: ['cert-ee', 'cert-lv'] }
const CLUB = { id: 'nordic-club', name: 'The quiet Nordic club', members: ['ncsc-nl'] }

interface Reply {
  status: number
  text: string
  json: Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } }
}

async function call(
  base: string,
  method: string,
  path: string,
  token: string,
  options: { viewAs?: string; body?: unknown } = {},
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(options.viewAs === undefined ? {} : { 'x-watchfloor-view-as': options.viewAs }),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  })
  const text = await response.text()
  return { status: response.status, text, json: text ? JSON.parse(text) : {} }
}

/** The refusal of a socket handshake (`connect_error`): its message and data. */
async function handshake(base: string, token: string, viewAs: string): Promise<{ message: string; data: unknown }> {
  const socket = io(base, { transports: ['websocket'], auth: { token, viewAs }, reconnection: false, forceNew: true })
  try {
    return await new Promise((resolve, reject) => {
      socket.once('connect', () => resolve({ message: 'connected', data: null }))
      socket.once('connect_error', (error: Error & { data?: unknown }) =>
        resolve({ message: error.message, data: error.data ?? null }),
      )
      setTimeout(() => reject(new Error('no answer to the handshake')), 10_000)
    })
  } finally {
    socket.close()
  }
}

/** A refusal as the caller reads it, with the id it asked for taken out (it only echoes the caller's own input). */
const shapeOf = (text: string, asked: string) => text.replaceAll(asked, '<id>')

describe('what a caller may know of the directory, and viewing as another audience without probing it [A7, A8, V11]', () => {
  let server: ServerProcess
  let dir: string
  // all from cert-ee, so its coordinator sees them all [V2]; it is not in the club
  /** AMBER to the club and to EE. */
  const clubAndEe = event({
    type: 'incident.reported',
    payload: {
      incidentId: 'inc-club',
      title: 'Shared with the club and EE',
      severity: 'high',
      category: 'malware',
      affectedNetworks: [],
    },
    marking: { tlp: 'AMBER', releasableTo: [CLUB.id, 'EE'] },
  } as never)
  const clubObservation = event({
    type: 'incident.observation',
    payload: { incidentId: 'inc-club', indicator: 'club.example', count: 1 },
    marking: { tlp: 'AMBER', releasableTo: [CLUB.id, 'EE'] },
  } as never)
  /** AMBER to the Baltic exchange, which the coordinator of cert-ee is in. */
  const baltic = event({
    type: 'incident.observation',
    payload: { incidentId: 'inc-baltic', count: 1 },
    marking: { tlp: 'AMBER', releasableTo: [BALTIC.id] },
  } as never)
  /** AMBER to the club and to the alliance: the admin sees it by its nation, not as a member. */
  const clubAndAlliance = event({
    type: 'incident.observation',
    payload: { incidentId: 'inc-club-alliance', count: 1 },
    marking: { tlp: 'AMBER', releasableTo: [CLUB.id, 'ALLIANCE'] },
  } as never)
  const ids = [clubAndEe.id, clubObservation.id, baltic.id, clubAndAlliance.id]
  const seen = (events: readonly StoredEvent[]) => events.map((e) => e.id).filter((id) => ids.includes(id))
  const eventsOf = async (token: string, viewAs?: string) =>
    seen(
      JSON.parse(
        (await call(server.url, 'GET', '/api/v1/events?limit=5000', token, viewAs === undefined ? {} : { viewAs }))
          .text,
      ).events as StoredEvent[],
    )

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-viewas-'))
    const tokens = tokensWithAdmin(dir, ADMIN, [
      { token: COORD_LV, user: 'coord-lv', organisation: 'cert-lv', nation: 'LV', roles: ['coordinator'] },
    ])
    server = await startServerProcess({ env: { WATCHFLOOR_TOKENS: tokens } })
    for (const community of [BALTIC, CLUB])
      expect((await call(server.url, 'POST', '/api/v1/directory/communities', ADMIN, { body: community })).status).toBe(
        201,
      )
    expect(
      (await post(server.url, TOKENS.sensorEe, { events: [clubAndEe, clubObservation, baltic, clubAndAlliance] }))
        .status,
    ).toBe(201)
  })
  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('[A8] everyone signed in knows every organisation; an admin every community, anyone else its own organisation’s', async () => {
    const directoryOf = async (token: string) =>
      (await call(server.url, 'GET', '/api/v1/directory', token)).json as {
        organisations: { id: string }[]
        communities: { id: string; members: string[] }[]
      }
    const everyOrganisation = (await directoryOf(ADMIN)).organisations.map((o) => o.id)
    expect(everyOrganisation).toEqual(expect.arrayContaining(['alliance', 'cert-ee', 'cert-lv', 'ncsc-nl']))
    const known = {
      [ADMIN]: [BALTIC.id, CLUB.id],
      [TOKENS.coordEeA]: [BALTIC.id],
      [COORD_LV]: [BALTIC.id],
      [TOKENS.viewerNl]: [CLUB.id],
      [TOKENS.watchOfficer]: [],
    }
    for (const [token, communities] of Object.entries(known)) {
      const seen = await directoryOf(token)
      expect(seen.organisations.map((o) => o.id)).toEqual(everyOrganisation)
      expect(seen.communities.map((c) => c.id)).toEqual(communities)
    }
  })

  it('[A7] a community the caller may not know is refused exactly like one that does not exist, on REST and on the socket', async () => {
    const ghost = 'community:no-such-club'
    const hidden = `community:${CLUB.id}`
    for (const token of [TOKENS.coordEeA, COORD_LV]) {
      const [unknown, notKnown] = [
        await call(server.url, 'GET', '/api/v1/state', token, { viewAs: ghost }),
        await call(server.url, 'GET', '/api/v1/state', token, { viewAs: hidden }),
      ]
      expect(unknown.status).toBe(404)
      expect(notKnown.status).toBe(404)
      expect(shapeOf(notKnown.text, CLUB.id)).toBe(shapeOf(unknown.text, 'no-such-club'))
      expect(notKnown.text).not.toContain(CLUB.name)
      const [socketUnknown, socketNotKnown] = [
        await handshake(server.url, token, ghost),
        await handshake(server.url, token, hidden),
      ]
      expect(socketUnknown.message).toMatch(/^not_found: /)
      expect(shapeOf(JSON.stringify(socketNotKnown), CLUB.id)).toBe(
        shapeOf(JSON.stringify(socketUnknown), 'no-such-club'),
      )
      // its own community it may view as
      expect((await call(server.url, 'GET', '/api/v1/state', token, { viewAs: `community:${BALTIC.id}` })).status).toBe(
        200,
      )
      expect((await handshake(server.url, token, `community:${BALTIC.id}`)).message).toBe('connected')
    }
    // an admin knows the club: viewing as it is allowed; a community that does not exist is 404 all the same
    expect((await call(server.url, 'GET', '/api/v1/state', ADMIN, { viewAs: hidden })).status).toBe(200)
    expect((await call(server.url, 'GET', '/api/v1/state', ADMIN, { viewAs: ghost })).status).toBe(404)
    // the member may not view as at all (an analyst): the same refusal for its own community, another, and none
    const refusals = await Promise.all(
      [hidden, ghost, `community:${BALTIC.id}`].map((viewAs) =>
        call(server.url, 'GET', '/api/v1/state', TOKENS.viewerNl, { viewAs }),
      ),
    )
    expect(refusals.map((r) => r.status)).toEqual([403, 403, 403])
    expect(new Set(refusals.map((r) => r.text)).size).toBe(1)
    // organisations are known to everyone: an unknown one is 404, and says so
    const nobody = await call(server.url, 'GET', '/api/v1/state', TOKENS.coordEeA, { viewAs: 'organisation:nobody' })
    expect(nobody.status).toBe(404)
    expect(
      (await call(server.url, 'GET', '/api/v1/state', TOKENS.coordEeA, { viewAs: 'organisation:ncsc-nl' })).status,
    ).toBe(200)
  })

  it('[V11] a view as an organisation counts only the communities the caller knows: it does not tell who is in another', async () => {
    expect(await eventsOf(TOKENS.coordEeA)).toEqual(ids)
    // ncsc-nl is in the club, but the coordinator of cert-ee may not know that: its view as ncsc-nl is
    // what it would be if ncsc-nl were not, so comparing views tells nothing of who is in the club
    expect(await eventsOf(TOKENS.coordEeA, 'organisation:ncsc-nl')).toEqual([])
    // a community the caller is in still counts: cert-lv receives what is releasable to the Baltic exchange
    expect(await eventsOf(TOKENS.coordEeA, 'organisation:cert-lv')).toEqual([baltic.id])
    expect(await eventsOf(TOKENS.coordEeA, 'organisation:alliance')).toEqual([clubAndAlliance.id])
    // the same on the socket
    for (const [viewAs, expected] of [
      ['organisation:ncsc-nl', []],
      ['organisation:cert-lv', [baltic.id]],
    ] as const) {
      const w = new Watcher(server.url, { token: TOKENS.coordEeA, viewAs })
      try {
        expect((await w.subscribe(0)).ok).toBe(true)
        await w.waitFor(() => w.checkpoints.length > 0 || w.heartbeats.length > 0)
        expect(seen(w.events), viewAs).toEqual(expected)
      } finally {
        w.close()
      }
    }
    // an admin knows every community: its view as ncsc-nl holds what the club receives of what it sees
    expect(await eventsOf(ADMIN)).toEqual([clubAndAlliance.id])
    expect(await eventsOf(ADMIN, 'organisation:ncsc-nl')).toEqual([clubAndAlliance.id])
    expect(await eventsOf(ADMIN, 'organisation:cert-lv')).toEqual([])
  })

  it('the MISP export and feed name a community only by the id its marking carries: never its name or members', async () => {
    const uuid = mispEventUuid('inc-club')
    const exported = await call(server.url, 'GET', '/api/v1/export?format=misp&incidentId=inc-club', TOKENS.coordEeA)
    expect(exported.status).toBe(200)
    const feedEvent = await call(server.url, 'GET', `/misp/feed/${uuid}.json`, TOKENS.coordEeA)
    const manifest = await call(server.url, 'GET', '/misp/feed/manifest.json', TOKENS.coordEeA)
    expect(feedEvent.status).toBe(200)
    expect(manifest.status).toBe(200)
    // the marking's own releasable-to tag, which the caller reads on the event itself
    expect(exported.text).toContain(CLUB.id)
    expect(feedEvent.text).toContain(CLUB.id)
    for (const reply of [exported, feedEvent, manifest]) {
      expect(reply.text).not.toContain(CLUB.name)
      expect(reply.text).not.toContain('SharingGroup')
      expect(reply.text).not.toContain('ncsc-nl')
    }
  })
  /**
   * A MISP sharing group becomes the directory community of that id or name (write/imports.ts,
   * `communityOf`), among the communities the importer may know only: for one it may not know, the
   * answer and the stored event are those of a group that does not exist.
   */
  it('[A8] a MISP import does not tell whether a sharing group is a community the importer may not know', async () => {
    const misp = (uuid: string, group: string) => ({
      Event: {
        uuid,
        info: `Shared with sharing group ${uuid.slice(0, 4)}`,
        date: '2026-11-25',
        threat_level_id: '2',
        analysis: '1',
        timestamp: '1795939200',
        distribution: '4',
        sharing_group_id: '7',
        SharingGroup: { id: '7', name: group, uuid: '0d3e5f7a-1b2c-4d5e-8f90-a1b2c3d4e5f6' },
        Orgc: { name: 'cert-ee' },
        Tag: [{ name: 'tlp:amber' }],
        Attribute: [],
      },
    })
    const answers = []
    for (const [uuid, group] of [
      ['1a0c6a5e-3c1f-4a0b-9d1e-2b3c4d5e6f70', 'No such club'],
      ['2a0c6a5e-3c1f-4a0b-9d1e-2b3c4d5e6f70', CLUB.name],
      ['3a0c6a5e-3c1f-4a0b-9d1e-2b3c4d5e6f70', CLUB.id],
    ] as const) {
      const reply = await call(server.url, 'POST', '/api/v1/import/misp', TOKENS.sensorEe, { body: misp(uuid, group) })
      expect(reply.status).toBe(200)
      answers.push(
        reply.text.replaceAll(uuid, '<uuid>').replaceAll(uuid.slice(0, 4), '<n>').replaceAll(group, '<group>'),
      )
    }
    expect(answers[1]).toBe(answers[0])
    expect(answers[2]).toBe(answers[0])
    const stored = JSON.parse((await call(server.url, 'GET', '/api/v1/events?limit=5000', TOKENS.sensorEe)).text)
      .events as StoredEvent[]
    expect(stored.filter((e) => e.marking.releasableTo?.includes(CLUB.id)).map((e) => e.id)).toEqual([
      clubAndEe.id,
      clubObservation.id,
      clubAndAlliance.id,
    ])
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  canSee,
  fold,
  initialState,
  STATE_FORMAT_VERSION,
  type StateJson,
  stateToJson,
  viewerKey,
} from '@watchfloor/core'
import type { EventInput, Marking, StoredEvent, Viewer } from '@watchfloor/protocol'
import { SqliteEventStore } from '@watchfloor/store'
import { afterAll, describe, expect, it } from 'vitest'
import { event, getJson, PRINCIPALS, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

/**
 * Persisted snapshots against real server processes [S1-S3]: each viewer's snapshot holds exactly
 * the fold of what that viewer may see, two viewers never share one, and after a restart every
 * viewer's /api/v1/state still equals core's fold of its visible events, the projection starting
 * from that viewer's own snapshot.
 */

const VIEWERS = [TOKENS.viewerEe, TOKENS.viewerLv, TOKENS.redReader, TOKENS.viewerNl, TOKENS.watchOfficer] as const

const viewerOf = (token: string): Viewer => {
  const p = PRINCIPALS.find((x) => x.token === token)!
  return { organisation: p.organisation, nation: p.nation, roles: p.roles as Viewer['roles'], userId: p.user }
}

const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as StateJson

function reported(incidentId: string, marking: Marking, organisation = 'cert-ee'): EventInput {
  return event({
    type: 'incident.reported',
    source: { organisation },
    marking,
    payload: { incidentId, title: incidentId, severity: 'high', category: 'malware', affectedNetworks: [] },
  } as never)
}

async function readLog(dataDir: string): Promise<{ log: StoredEvent[]; snapshots: Map<string, StateJson> }> {
  const store = new SqliteEventStore({ file: join(dataDir, 'events.sqlite') })
  try {
    const log: StoredEvent[] = []
    for (;;) {
      const page = await store.readAfter(log.at(-1)?.seq ?? 0, 1000)
      if (page.length === 0) break
      log.push(...page)
    }
    const snapshots = new Map<string, StateJson>()
    for (const key of await store.snapshots.keys()) {
      const snapshot = await store.snapshots.load(key, STATE_FORMAT_VERSION, log.length)
      if (snapshot) snapshots.set(key, JSON.parse(snapshot.body) as StateJson)
    }
    return { log, snapshots }
  } finally {
    await store.close()
  }
}

const expectedState = (log: StoredEvent[], token: string) =>
  asJson(
    stateToJson(
      fold(
        initialState,
        log.filter((e) => canSee(viewerOf(token), e)),
      ),
    ),
  )

describe('persisted snapshots across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'watchfloor-snapshots-'))
  const env = { WATCHFLOOR_SNAPSHOT_EVERY_EVENTS: '3' }
  let server: ServerProcess | undefined
  afterAll(async () => {
    await server?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('[S3, P3] each viewer gets only its own snapshot; after a restart every /api/v1/state equals the fold of its visible events', async () => {
    server = await startServerProcess({ dataDir, env })
    const first = [
      reported('inc-green', { tlp: 'GREEN' }),
      reported('inc-amber-ee', { tlp: 'AMBER' }),
      reported('inc-red-janis', { tlp: 'RED', recipients: ['janis'] }),
      reported('inc-red-reader', { tlp: 'RED', recipients: ['red-reader'] }),
      reported('inc-lv-to-ee', { tlp: 'AMBER', releasableTo: ['EE'] }, 'cert-lv'),
      reported('inc-nl', { tlp: 'AMBER' }, 'ncsc-nl'),
    ]
    expect((await post(server.url, TOKENS.relay, { events: first })).status).toBe(201)
    for (const token of VIEWERS) expect((await getJson(`${server.url}/api/v1/state`, token)).status).toBe(200)
    // the whole picture follows the log in the background (at most every second)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await server.stop()
    server = undefined

    const before = await readLog(dataDir)
    // every viewer snapshot holds exactly the fold of what the viewer its key names may see: a
    // person (janis and red-reader, whom RED events name), or an audience as a whole (no user),
    // whose picture the users no RED event names share [V5, V7]
    const viewerKeys = [...before.snapshots.keys()].filter((key) => key.startsWith('viewer:'))
    for (const key of viewerKeys) {
      const [organisation, nation, userId] = JSON.parse(key.slice('viewer:'.length)) as [string, string, string]
      const viewer: Viewer = { organisation, nation, userId, roles: [] }
      const wanted = asJson(
        stateToJson(
          fold(
            initialState,
            before.log.filter((e) => canSee(viewer, e)),
          ),
        ),
      )
      expect(before.snapshots.get(key), `the snapshot of ${key}`).toEqual(wanted)
    }
    const keyOf = (token: string) => {
      const { organisation, nation, userId } = viewerOf(token)
      return `viewer:${JSON.stringify([organisation, nation, userId, null, [], null])}`
    }
    const audienceOf = (token: string) => {
      const { organisation, nation } = viewerOf(token)
      return `viewer:${JSON.stringify([organisation, nation, '', null, [], null])}`
    }
    for (const token of [TOKENS.viewerLv, TOKENS.redReader]) expect(viewerKeys).toContain(keyOf(token))
    for (const token of [TOKENS.viewerEe, TOKENS.viewerNl, TOKENS.watchOfficer])
      expect(viewerKeys).toContain(audienceOf(token))
    // janis and red-reader share an audience, not a snapshot
    expect(before.snapshots.get(keyOf(TOKENS.viewerLv))).not.toEqual(before.snapshots.get(keyOf(TOKENS.redReader)))
    const full = before.snapshots.get('full')!
    expect(full.incidents.map((i) => i.incidentId).sort()).toEqual(
      first.map((e) => (e.payload as { incidentId: string }).incidentId).sort(),
    )

    // plant a mark in janis's snapshot: only janis's projection may start from it
    {
      const store = new SqliteEventStore({ file: join(dataDir, 'events.sqlite') })
      const key = keyOf(TOKENS.viewerLv)
      const snapshot = (await store.snapshots.load(key, STATE_FORMAT_VERSION, before.log.length))!
      const body = JSON.parse(snapshot.body) as StateJson
      body.incidents.find((i) => i.incidentId === 'inc-green')!.title = 'planted for janis'
      await store.snapshots.save({ ...snapshot, body: JSON.stringify(body) })
      await store.close()
    }

    server = await startServerProcess({ dataDir, env })
    const second = [
      reported('inc-after', { tlp: 'GREEN' }),
      reported('inc-red-after', { tlp: 'RED', recipients: ['janis', 'officer'] }),
      event({
        type: 'incident.updated',
        marking: { tlp: 'GREEN' },
        payload: { incidentId: 'inc-green', severity: 'low' },
      } as EventInput),
    ]
    expect((await post(server.url, TOKENS.relay, { events: second })).status).toBe(201)
    const states = new Map<string, StateJson>()
    for (const token of VIEWERS) {
      const reply = await getJson<StateJson>(`${server.url}/api/v1/state`, token)
      expect(reply.status).toBe(200)
      states.set(token, reply.json)
    }
    await server.stop()
    server = undefined
    const { log } = await readLog(dataDir)
    for (const token of VIEWERS) {
      const wanted = expectedState(log, token)
      // janis's projection started from janis's own (planted) snapshot and folded the tail on
      if (token === TOKENS.viewerLv)
        wanted.incidents.find((i) => i.incidentId === 'inc-green')!.title = 'planted for janis'
      expect(asJson(states.get(token)), `GET /api/v1/state of ${viewerOf(token).userId}`).toEqual(wanted)
    }
  })
})

describe('audiences prepared at start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'watchfloor-audiences-'))
  let server: ServerProcess | undefined
  afterAll(async () => {
    await server?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("folds the picture of every signed-in audience before anyone asks, each exactly its audience's fold", async () => {
    // a log written with snapshots off: the next start has nothing to start from
    server = await startServerProcess({ dataDir, env: { WATCHFLOOR_SNAPSHOTS: 'off' } })
    const events = [
      reported('inc-a-green', { tlp: 'GREEN' }),
      reported('inc-a-amber', { tlp: 'AMBER' }),
      reported('inc-a-red', { tlp: 'RED', recipients: ['janis'] }),
      reported('inc-a-lv', { tlp: 'AMBER', releasableTo: ['EE'] }, 'cert-lv'),
      reported('inc-a-nl', { tlp: 'AMBER' }, 'ncsc-nl'),
    ]
    expect((await post(server.url, TOKENS.relay, { events })).status).toBe(201)
    await server.stop()
    server = undefined
    expect((await readLog(dataDir)).snapshots.size).toBe(0)

    server = await startServerProcess({
      dataDir,
      env: { WATCHFLOOR_LOG_LEVEL: 'info', WATCHFLOOR_SNAPSHOT_EVERY_EVENTS: '1' },
    })
    // no request at all: the server prepares the four organisations' audiences by itself, and the
    // pictures of the two users the RED event names (its recipient and its sender)
    await expect.poll(() => server!.output(), { timeout: 15_000 }).toMatch(/"audiences":4,.*audience pictures prepared/)
    await expect
      .poll(() => server!.output(), { timeout: 15_000 })
      .toMatch(/"users":2,.*pictures of users RED events name prepared/)
    await server.stop()
    server = undefined

    const { log, snapshots } = await readLog(dataDir)
    for (const [organisation, nation] of [
      ['cert-ee', 'EE'],
      ['cert-lv', 'LV'],
      ['alliance', 'ALLIANCE'],
      ['ncsc-nl', 'NL'],
    ] as const) {
      const key = `viewer:${JSON.stringify([organisation, nation, '', null, [], null])}`
      const audience: Viewer = { organisation, nation, userId: '', roles: [] }
      expect(snapshots.get(key), key).toEqual(
        asJson(
          stateToJson(
            fold(
              initialState,
              log.filter((e) => canSee(audience, e)),
            ),
          ),
        ),
      )
    }
    // of people, only those the RED event names have pictures of their own, each exactly their fold
    const own = [...snapshots.keys()].filter((key) => key.startsWith('viewer:') && !key.includes('"",null'))
    const people: Viewer[] = [
      { organisation: 'cert-lv', nation: 'LV', userId: 'janis', roles: [] },
      { organisation: 'alliance', nation: 'ALLIANCE', userId: 'relay', roles: [] },
    ]
    expect(own.sort()).toEqual(people.map((viewer) => `viewer:${viewerKey(viewer)}`).sort())
    for (const viewer of people)
      expect(snapshots.get(`viewer:${viewerKey(viewer)}`)).toEqual(
        asJson(
          stateToJson(
            fold(
              initialState,
              log.filter((e) => canSee(viewer, e)),
            ),
          ),
        ),
      )
  })
})

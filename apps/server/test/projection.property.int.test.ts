import { canSee, fold, initialState, stateToJson } from '@watchfloor/core'
import type { EventInput, Marking, StoredEvent, Tlp, Viewer } from '@watchfloor/protocol'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  event,
  getJson,
  PRINCIPALS,
  post,
  type ServerProcess,
  seqsOfPost,
  startServerProcess,
  TOKENS,
  Watcher,
} from './harness.ts'

/**
 * Property: for every viewer, every path out (REST events, state, JSON export, socket catch-up)
 * gives exactly what the viewer's own projection of the log gives: the events `canSee` lets
 * through, and `fold` of them. Random logs from several organisations with random markings, and
 * random commands on them, against one real server; seeded, so a failure replays.
 */

const SEED = Number(process.env.WATCHFLOOR_PROPERTY_SEED ?? 20261205)
const ORGANISATIONS = ['cert-ee', 'cert-lv', 'ncsc-nl'] as const
const USERS = ['kadri', 'janis', 'pieter', 'red-reader', 'coord-a', 'officer'] as const
const VIEWER_TOKENS = [
  TOKENS.viewerEe,
  TOKENS.viewerLv,
  TOKENS.viewerNl,
  TOKENS.redReader,
  TOKENS.watchOfficer,
  TOKENS.coordEeA,
] as const
const COMMANDERS = [TOKENS.coordEeA, TOKENS.viewerLv, TOKENS.watchOfficer, TOKENS.viewerEe] as const
const RELAY = { user: 'relay', organisation: 'alliance' }

const viewerOf = (token: string): Viewer => {
  const p = PRINCIPALS.find((x) => x.token === token)!
  return { organisation: p.organisation, nation: p.nation, roles: p.roles as Viewer['roles'], userId: p.user }
}

const tlp = fc.constantFrom<Tlp>('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')
const marking: fc.Arbitrary<Marking> = fc
  .record({
    tlp,
    releasableTo: fc.option(
      fc.subarray(['cert-ee', 'cert-lv', 'ncsc-nl', 'EE', 'LV', 'NL', 'ALLIANCE'], { minLength: 1 }),
      {
        nil: undefined,
      },
    ),
    recipients: fc.subarray([...USERS], { minLength: 0 }),
  })
  .map(({ tlp, releasableTo, recipients }) => ({
    tlp,
    ...(releasableTo !== undefined ? { releasableTo } : {}),
    ...(tlp === 'RED' ? { recipients } : {}),
  }))

/** One step of a scenario: a raw event by an incident's owner, or a command by a person. */
type Step =
  | { kind: 'report'; incident: number; organisation: number; marking: Marking; severity: 'low' | 'high' }
  | { kind: 'update'; incident: number; marking: Marking; status: 'triaged' | 'contained' }
  | { kind: 'observe'; incident: number; organisation: number; marking: Marking }
  | { kind: 'advisory'; incident: number; organisation: number; marking: Marking }
  | { kind: 'command'; incident: number; by: number; type: 'comment' | 'acknowledge' | 'status'; stale: boolean }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('report' as const),
    incident: fc.nat(5),
    organisation: fc.nat(2),
    marking,
    severity: fc.constantFrom('low' as const, 'high' as const),
  }),
  fc.record({
    kind: fc.constant('update' as const),
    incident: fc.nat(5),
    marking,
    status: fc.constantFrom('triaged' as const, 'contained' as const),
  }),
  fc.record({ kind: fc.constant('observe' as const), incident: fc.nat(5), organisation: fc.nat(2), marking }),
  fc.record({ kind: fc.constant('advisory' as const), incident: fc.nat(5), organisation: fc.nat(2), marking }),
  fc.record({
    kind: fc.constant('command' as const),
    incident: fc.nat(5),
    by: fc.nat(COMMANDERS.length - 1),
    type: fc.constantFrom('comment' as const, 'acknowledge' as const, 'status' as const),
    stale: fc.boolean(),
  }),
)

describe('property: every path out equals the viewer’s own projection', () => {
  let server: ServerProcess
  /** The log as the oracle knows it: what was posted (actor set by the server) and what commands made. */
  const log = new Map<number, Omit<StoredEvent, 'recordedAt'> & { recordedAt?: string }>()
  let run = 0

  beforeAll(async () => {
    server = await startServerProcess()
  })
  afterAll(async () => {
    await server?.stop()
  })

  async function play(steps: Step[]): Promise<void> {
    run++
    const owners = new Map<string, string>() // incident id -> owner organisation
    const id = (n: number) => `p${run}-inc-${n}`
    for (const s of steps) {
      if (s.kind === 'command') {
        const body =
          s.type === 'comment'
            ? {
                type: 'comment.post',
                incidentId: id(s.incident),
                body: `note ${run}`,
                ...(s.stale ? { expectedVersion: 0 } : {}),
              }
            : s.type === 'acknowledge'
              ? { type: 'incident.acknowledge', incidentId: id(s.incident), ...(s.stale ? { expectedVersion: 0 } : {}) }
              : { type: 'incident.set_status', incidentId: id(s.incident), status: 'contained' }
        const response = await fetch(`${server.url}/api/v1/commands`, {
          method: 'POST',
          headers: { authorization: `Bearer ${COMMANDERS[s.by]!}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
        const reply = (await response.json()) as { events?: StoredEvent[]; error?: { code: string } }
        expect([200, 403, 404, 409], JSON.stringify(reply)).toContain(response.status)
        for (const made of reply.events ?? []) log.set(made.seq, made)
        continue
      }
      const incidentId = id(s.incident)
      const owner = owners.get(incidentId)
      let raw: EventInput
      if (s.kind === 'report') {
        const organisation = owner ?? ORGANISATIONS[s.organisation]!
        owners.set(incidentId, organisation)
        raw = event({
          type: 'incident.reported',
          source: { organisation },
          marking: s.marking,
          payload: {
            incidentId,
            title: `${incidentId} ${s.marking.tlp}`,
            severity: s.severity,
            category: 'malware',
            affectedNetworks: [],
          },
        })
      } else if (s.kind === 'update') {
        if (owner === undefined) continue // only an owner updates (A5); nothing to update yet
        raw = event({
          type: 'incident.updated',
          source: { organisation: owner },
          marking: s.marking,
          payload: { incidentId, status: s.status },
        })
      } else if (s.kind === 'observe') {
        raw = event({
          type: 'incident.observation',
          source: { organisation: ORGANISATIONS[s.organisation]! },
          marking: s.marking,
          payload: { incidentId },
        })
      } else {
        raw = event({
          type: 'advisory.published',
          source: { organisation: ORGANISATIONS[s.organisation]! },
          marking: s.marking,
          payload: { advisoryId: `${incidentId}-adv-${log.size}`, title: `about ${incidentId}`, body: 'b', incidentId },
        })
      }
      const posted = await post(server.url, TOKENS.relay, raw)
      expect(posted.status, JSON.stringify(posted.json)).toBe(201)
      const seq = (await seqsOfPost(server, posted.json.results!))[0]!
      log.set(seq, { ...(raw as EventInput & { marking: Marking }), actor: RELAY, seq } as Omit<
        StoredEvent,
        'recordedAt'
      >)
    }
  }

  async function allEvents(token: string): Promise<StoredEvent[]> {
    const out: StoredEvent[] = []
    let after = 0
    for (;;) {
      const page = (
        await getJson<{ events: StoredEvent[]; next: number; head: number }>(
          `${server.url}/api/v1/events?after=${after}&limit=5000`,
          token,
        )
      ).json
      out.push(...page.events)
      if (page.next >= page.head || page.next <= after) return out
      after = page.next
    }
  }

  async function check(): Promise<void> {
    const received = new Map<string, StoredEvent[]>()
    for (const token of VIEWER_TOKENS) received.set(token, await allEvents(token))
    // recordedAt is the server's: learn it from any viewer who received the event
    for (const events of received.values())
      for (const e of events) {
        const known = log.get(e.seq)
        expect(known, `seq ${e.seq} was never posted or made by a command`).toBeDefined()
        if (known) known.recordedAt = e.recordedAt
      }
    for (const token of VIEWER_TOKENS) {
      const viewer = viewerOf(token)
      const expected = [...log.values()]
        .filter((e) => canSee(viewer, e as StoredEvent))
        .sort((a, b) => a.seq - b.seq) as StoredEvent[]
      const who = `${viewer.userId} of ${viewer.organisation}`
      // REST events: exactly the visible subsequence, content as posted (actor set by the server)
      expect(received.get(token)!, `GET /events for ${who}`).toEqual(expected)
      // state: the fold of exactly those events
      const state = (await getJson(`${server.url}/api/v1/state`, token)).json
      const projection = stateToJson(fold(initialState, expected))
      expect({ ...state, seq: 0 }, `GET /state for ${who}`).toEqual({
        ...JSON.parse(JSON.stringify(projection)),
        seq: 0,
      })
      // JSON export: the same list
      const exported = (await getJson<StoredEvent[]>(`${server.url}/api/v1/export?format=json`, token)).json
      expect(exported, `GET /export for ${who}`).toEqual(expected)
      // socket catch-up from 0: the same seqs
      const watcher = new Watcher(server.url, token)
      try {
        const ack = await watcher.subscribe(0)
        expect(ack.ok).toBe(true)
        await watcher.waitFor(() => watcher.lastSeq >= (ack.head ?? 0))
        expect(watcher.seqs(), `socket catch-up for ${who}`).toEqual(expected.map((e) => e.seq))
      } finally {
        watcher.close()
      }
    }
  }

  it('[V1-V9][C17][P4] REST events, state, export and catch-up equal fold(canSee-filtered log) for every viewer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 25 }), async (steps) => {
        await play(steps)
        await check()
      }),
      { seed: SEED, numRuns: 25, endOnFailure: true },
    )
  })
})

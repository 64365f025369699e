import type { Marking, StoredEvent, Viewer } from '@watchfloor/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fold } from './reduce.ts'
import { isoMs, type ReplayClock, replayFromScratch, SnapshotIndex } from './replay.ts'
import { stateFromJson, stateToJson } from './selectors.ts'
import { initialState } from './state.ts'
import { makeEvent } from './testing.ts'
import { canSee } from './visibility.ts'

const T0 = Date.UTC(2026, 10, 1)
const iso = (ms: number) => new Date(ms).toISOString()

const viewers: Viewer[] = [
  { organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'], userId: 'kadri' },
  { organisation: 'cert-lv', nation: 'LV', roles: ['liaison'], userId: 'janis' },
  { organisation: 'ncsc-nl', nation: 'NL', roles: ['analyst'], userId: 'pieter' },
]

const markings: Marking[] = [
  { tlp: 'CLEAR' },
  { tlp: 'GREEN' },
  { tlp: 'GREEN', releasableTo: ['LV'] },
  { tlp: 'AMBER' },
  { tlp: 'AMBER', releasableTo: ['cert-lv', 'NL'] },
  { tlp: 'AMBER+STRICT' },
  { tlp: 'RED', recipients: ['janis'] },
]
const organisations = ['cert-ee', 'cert-lv', 'ncsc-nl']
const networks = ['ee-gov', 'lv-gov', 'nl-mod']
const incidents = ['inc-1', 'inc-2', 'inc-3', 'inc-4']

/** One event before seq and times are given: a type, a payload and who sent it with which marking. */
interface Draft {
  kind: number
  target: number
  organisation: number
  marking: number
  actor: boolean
  /** occurredAt relative to recordedAt, in seconds: late reports and fast clocks. */
  skew: number
  /** Seconds since the previous event was recorded (0 = same millisecond). */
  gap: number
}

const draftArbitrary: fc.Arbitrary<Draft> = fc.record({
  kind: fc.nat({ max: 99 }),
  target: fc.nat({ max: 11 }),
  organisation: fc.nat({ max: organisations.length - 1 }),
  marking: fc.nat({ max: markings.length - 1 }),
  actor: fc.boolean(),
  skew: fc.oneof(fc.constant(0), fc.integer({ min: -3600, max: 120 }), fc.integer({ min: -86_400, max: 86_400 })),
  gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60 })),
})

/** Build a log: seq 1..n, recordedAt never decreasing [L5], occurredAt anywhere around it. */
function buildLog(drafts: readonly Draft[]): StoredEvent[] {
  let recorded = T0
  return drafts.map((d, i) => {
    const seq = i + 1
    recorded += d.gap * 1000
    const options = {
      organisation: organisations[d.organisation]!,
      marking: markings[d.marking]!,
      occurredAt: iso(recorded + d.skew * 1000),
      ...(d.actor ? { actor: 'kadri' } : {}),
      ...(d.target % 3 === 0 ? { network: networks[d.target % networks.length]! } : {}),
    }
    const incidentId = incidents[d.target % incidents.length]!
    const networkId = networks[d.target % networks.length]!
    let event: StoredEvent
    if (d.kind < 8)
      event = makeEvent(
        seq,
        'network.registered',
        {
          networkId,
          name: `Network ${networkId} ${d.target}`,
          organisation: options.organisation,
          nation: 'EE',
          kind: 'government',
          location: { lat: 59, lon: 24 },
        },
        options,
      )
    else if (d.kind < 14)
      event = makeEvent(
        seq,
        'network.posture_changed',
        { networkId, posture: (['normal', 'elevated', 'degraded', 'compromised'] as const)[d.target % 4]! },
        options,
      )
    else if (d.kind < 26)
      event = makeEvent(
        seq,
        'incident.reported',
        {
          incidentId,
          title: `Incident ${incidentId}`,
          severity: (['low', 'medium', 'high', 'critical'] as const)[d.target % 4]!,
          category: 'malware',
          affectedNetworks: [networkId],
        },
        options,
      )
    else if (d.kind < 38)
      event = makeEvent(
        seq,
        'incident.updated',
        d.target % 2 === 0 ? { incidentId, status: 'closed' } : { incidentId, severity: 'critical', status: 'triaged' },
        options,
      )
    else if (d.kind < 94)
      event = makeEvent(seq, 'incident.observation', { incidentId, networkId, count: d.target + 1 }, options)
    else
      event = makeEvent(
        seq,
        'advisory.published',
        { advisoryId: `adv-${d.target}`, title: 'Patch now', body: 'Details', incidentId },
        options,
      )
    return { ...event, recordedAt: iso(recorded) } as StoredEvent
  })
}

/** Feed the log to an index in pages, as the server does. */
function indexOf(
  log: readonly StoredEvent[],
  viewer: Viewer,
  interval: number,
  maxSnapshots: number,
  page: number,
  maxEntries?: number,
) {
  const index = new SnapshotIndex((event) => canSee(viewer, event), {
    interval,
    maxSnapshots,
    mergeGap: 2,
    ...(maxEntries === undefined ? {} : { maxEntries }),
  })
  for (let i = 0; i < log.length; i += page) index.extend(log.slice(i, i + page))
  return index
}

const readFrom = (log: readonly StoredEvent[]) => (after: number, through: number) => log.slice(after, through)

const CLOCKS: ReplayClock[] = ['recorded', 'occurred']

describe('replay', () => {
  it('[P2] folding to t from the nearest snapshot equals folding from scratch, on both clocks', () => {
    fc.assert(
      fc.property(
        fc.array(draftArbitrary, { minLength: 0, maxLength: 300 }),
        fc.nat({ max: viewers.length - 1 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 1, max: 97 }),
        fc.array(fc.double({ min: -0.1, max: 1.1, noNaN: true }), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat({ max: 600 }), { nil: undefined }),
        (drafts, v, interval, maxSnapshots, page, fractions, maxEntries) => {
          const log = buildLog(drafts)
          const viewer = viewers[v]!
          const visible = (event: StoredEvent) => canSee(viewer, event)
          const index = indexOf(log, viewer, interval, maxSnapshots, page, maxEntries)
          expect(index.snapshotCount).toBeLessThanOrEqual(maxSnapshots)
          if (maxEntries !== undefined && index.snapshotCount > 2)
            expect(index.entryCount).toBeLessThanOrEqual(maxEntries)
          const first = T0 - 86_400_000
          const last = (log.length > 0 ? Date.parse(log.at(-1)!.recordedAt) : T0) + 86_400_000
          // random moments, plus the exact times of events (ties at the boundary)
          const moments = fractions.map((f) => Math.round(first + f * (last - first)))
          for (const event of log.slice(0, 3)) moments.push(Date.parse(event.recordedAt), Date.parse(event.occurredAt))
          for (const clock of CLOCKS)
            for (const at of moments) {
              const expected = replayFromScratch(log, visible, clock, at)
              const actual = index.seek(clock, at, readFrom(log))
              expect(stateToJson(actual)).toEqual(stateToJson(expected))
            }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('[P3] a snapshot never holds an event its audience may not see', () => {
    fc.assert(
      fc.property(fc.array(draftArbitrary, { maxLength: 200 }), fc.nat({ max: viewers.length - 1 }), (drafts, v) => {
        const log = buildLog(drafts)
        const viewer = viewers[v]!
        const index = indexOf(log, viewer, 7, 6, 50)
        for (const snapshot of [...index.list(), { state: index.state }]) {
          for (const event of snapshot.state.recent) expect(canSee(viewer, event)).toBe(true)
          for (const incident of snapshot.state.incidents.values()) {
            const report = log.find((e) => e.seq === incident.lastSeq)!
            expect(canSee(viewer, report)).toBe(true)
          }
        }
      }),
      { numRuns: 100 },
    )
  })

  it('[P1] recorded replays what was known when; occurred what had happened by then, in seq order', () => {
    const network = makeEvent(1, 'network.registered', {
      networkId: 'ee-gov',
      name: 'EE gov',
      organisation: 'cert-ee',
      nation: 'EE',
      kind: 'government',
      location: { lat: 59, lon: 24 },
    })
    const report = makeEvent(
      2,
      'incident.reported',
      { incidentId: 'inc-1', title: 'Worm', severity: 'high', category: 'malware', affectedNetworks: ['ee-gov'] },
      { occurredAt: iso(T0 + 10_000) },
    )
    // reported late: it happened before the report reached the floor
    const closed = {
      ...makeEvent(3, 'incident.updated', { incidentId: 'inc-1', status: 'closed' }, { occurredAt: iso(T0 + 20_000) }),
      recordedAt: iso(T0 + 60_000),
    } as StoredEvent
    const log = [
      { ...network, occurredAt: iso(T0), recordedAt: iso(T0) },
      { ...report, recordedAt: iso(T0 + 10_000) },
      closed,
    ] as StoredEvent[]
    const index = new SnapshotIndex(() => true, { interval: 1 })
    index.extend(log)
    const status = (clock: ReplayClock, at: number) =>
      index.seek(clock, at, readFrom(log)).incidents.get('inc-1')?.status
    expect(status('recorded', T0 + 30_000)).toBe('new')
    expect(status('occurred', T0 + 30_000)).toBe('closed')
    expect(status('recorded', T0 + 60_000)).toBe('closed')
    expect(status('recorded', T0 + 5_000)).toBeUndefined()
    expect(status('occurred', T0 + 10_000)).toBe('new')
  })

  it('isoMs reads times exactly as Date.parse does', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(Date.UTC(-1000, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }),
        (date) => {
          const text = date.toISOString()
          expect(isoMs(text)).toBe(Date.parse(text))
          const offset = text.replace('Z', '+02:00')
          expect(isoMs(offset)).toBe(Date.parse(offset))
        },
      ),
      { numRuns: 2000 },
    )
    fc.assert(
      fc.property(fc.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/), (text) => {
        expect(Object.is(isoMs(text), Date.parse(text))).toBe(true)
      }),
      { numRuns: 2000 },
    )
    for (const text of ['0050-01-01T00:00:00.000Z', '2026-02-29T00:00:00.000Z', '2026-13-01T00:00:00.000Z', 'x'])
      expect(Object.is(isoMs(text), Date.parse(text))).toBe(true)
  })

  it('keeps at most maxSnapshots by doubling the interval', () => {
    const log = buildLog(
      Array.from({ length: 1000 }, (_, i) => ({
        kind: 50,
        target: i % 12,
        organisation: 0,
        marking: 1,
        actor: false,
        skew: 0,
        gap: 1,
      })),
    )
    const index = indexOf(log, viewers[0]!, 10, 16, 100)
    expect(index.snapshotCount).toBeLessThanOrEqual(16)
    expect(index.interval).toBe(80)
    expect(index.position).toBe(1000)
    const positions = index.list().map((s) => s.position)
    expect(positions).toEqual([...positions].sort((a, b) => a - b))
  })

  it('keeps the entries its snapshots hold (a shared map once) at most maxEntries by doubling the interval', () => {
    // every interval changes the networks and the recent events: each snapshot holds its own copies
    const log = buildLog(
      Array.from({ length: 2000 }, (_, i) => ({
        kind: 0,
        target: i,
        organisation: 0,
        marking: 1,
        actor: false,
        skew: 0,
        gap: 1,
      })),
    )
    const held = (index: ReturnType<typeof indexOf>) => {
      const maps = new Set<unknown>()
      let entries = 0
      for (const { state } of index.list())
        for (const part of [
          state.networks,
          state.incidents,
          state.advisories,
          state.tasks,
          state.comments,
          state.bookmarks,
          state.recent,
        ])
          if (!maps.has(part)) {
            maps.add(part)
            entries += 'size' in part ? part.size : part.length
          }
      return entries
    }
    const unbounded = indexOf(log, viewers[0]!, 10, 512, 100)
    expect(unbounded.interval).toBe(10)
    expect(held(unbounded)).toBeGreaterThan(30_000)
    const bounded = indexOf(log, viewers[0]!, 10, 512, 100, 10_000)
    expect(bounded.entryCount).toBe(held(bounded))
    expect(bounded.entryCount).toBeLessThanOrEqual(10_000)
    expect(bounded.interval).toBeGreaterThan(10)
    expect(bounded.snapshotCount).toBeGreaterThan(2)
  })
})

describe('snapshots', () => {
  it('[S1] a state written by stateToJson, as JSON, and read back by stateFromJson folds on exactly as the state itself', () => {
    fc.assert(
      fc.property(
        fc.array(draftArbitrary, { maxLength: 250 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.nat({ max: viewers.length - 1 }),
        (drafts, cut, v) => {
          const visible = buildLog(drafts).filter((event) => canSee(viewers[v]!, event))
          const at = Math.floor(cut * visible.length)
          const before = fold(initialState, visible.slice(0, at))
          const back = stateFromJson(JSON.parse(JSON.stringify(stateToJson(before))))
          expect(stateToJson(back)).toEqual(stateToJson(before))
          const tail = visible.slice(at)
          expect(stateToJson(fold(back, tail))).toEqual(stateToJson(fold(initialState, visible)))
        },
      ),
      { seed: 20261205, numRuns: 150 },
    )
  })
})

import { fold, initialState, makeEvent, type State } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import type { Lanes } from '../../view/view.ts'
import { buildLanes, laneIndexes, OTHER_LANE } from './lanes.ts'
import { colourOf, markData, NO_SEVERITY, SEVERITY_COLOURS } from './marks.ts'
import { deriveTimeline, emptyTimelineCache, type TimelineCache } from './model.ts'
import { buildTimeIndex, type TimeIndex, updateTimeIndex } from './timeIndex.ts'

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 1) + seconds * 1000).toISOString()

const net = (seq: number, networkId: string, name: string, nation: string) =>
  makeEvent(
    seq,
    'network.registered',
    {
      networkId,
      name,
      organisation: `cert-${nation.toLowerCase()}`,
      nation,
      kind: 'national-cert',
      location: { lat: 50, lon: 10 },
    },
    { occurredAt: at(seq) },
  )

const report = (seq: number, incidentId: string, severity: 'low' | 'high', affectedNetworks: string[]) =>
  makeEvent(
    seq,
    'incident.reported',
    { incidentId, title: incidentId, severity, category: 'malware', affectedNetworks },
    { occurredAt: at(seq) },
  )

const observe = (seq: number, incidentId: string, networkId: string, seconds = seq) =>
  makeEvent(seq, 'incident.observation', { incidentId, networkId }, { occurredAt: at(seconds) })

const start: StoredEvent[] = [
  net(1, 'fr-a', 'Alpha', 'FR'),
  net(2, 'ee-z', 'Zulu', 'EE'),
  net(3, 'de-m', 'Mike', 'DE'),
  report(4, 'inc-1', 'low', ['fr-a']),
  report(5, 'inc-2', 'high', []),
  observe(6, 'inc-1', 'ee-z'),
  makeEvent(7, 'advisory.published', { advisoryId: 'adv-1', title: 'Patch', body: 'Now', incidentId: 'inc-1' }),
]

/** What the timeline computed before the incremental model: everything from scratch. */
function fromScratch(index: TimeIndex, mode: Lanes, state: State) {
  const lanes = buildLanes(index.events, mode, state.networks, state.incidents)
  return {
    lanes,
    lane: laneIndexes(index.events, lanes, mode, state.incidents),
    marks: markData(index.events, state.incidents),
  }
}

function expectSame(cache: TimelineCache, index: TimeIndex, mode: Lanes, state: State) {
  const got = deriveTimeline(cache, index, mode, state.networks, state.incidents)
  const want = fromScratch(index, mode, state)
  expect(got.lanes).toEqual(want.lanes)
  expect(Array.from(got.lane)).toEqual(Array.from(want.lane))
  expect(Array.from(got.marks.kind)).toEqual(Array.from(want.marks.kind))
  expect(Array.from(got.marks.severity)).toEqual(Array.from(want.marks.severity))
  expect(Array.from(got.marks.priority)).toEqual(Array.from(want.marks.priority))
  expect(got.marks.incident).toEqual(want.marks.incident)
  return got
}

/** The window as the timeline sees it: a list that grows, folded into the picture. */
class Stream {
  events: StoredEvent[] = []
  state: State = initialState
  index: TimeIndex | null = null
  add(...events: StoredEvent[]): TimeIndex {
    this.events = [...this.events, ...events]
    this.state = fold(this.state, events)
    this.index = updateTimeIndex(this.index, this.events)
    return this.index
  }
}

describe('incremental timeline model', () => {
  it('equals the from-scratch lanes, lane indexes and marks, in both lane modes', () => {
    const s = new Stream()
    const index = s.add(...start)
    for (const mode of ['network', 'incident'] as const) expectSame(emptyTimelineCache(), index, mode, s.state)
  })

  it('keeps up as events are appended and merged in late', () => {
    const s = new Stream()
    const cache = emptyTimelineCache()
    expectSame(cache, s.add(...start), 'network', s.state)
    expectSame(cache, s.add(observe(8, 'inc-2', 'de-m'), report(9, 'inc-3', 'high', ['de-m'])), 'network', s.state)
    // late: occurred before most of the window, so it is inserted in the middle of the index
    const late = s.add(observe(10, 'inc-3', 'fr-a', 2), observe(11, 'inc-9', 'fr-a', 0.5))
    expect(late.stable).toBeLessThan(late.events.length - 2)
    expectSame(cache, late, 'network', s.state)
    for (let seq = 12; seq < 200; seq++)
      expectSame(
        cache,
        s.add(observe(seq, `inc-${seq % 4}`, seq % 3 ? 'fr-a' : 'ee-z', seq % 7 ? seq : seq - 50)),
        'network',
        s.state,
      )
  })

  it('recolours marks when an incident changes severity, with the same events', () => {
    const s = new Stream()
    const cache = emptyTimelineCache()
    const index = s.add(...start)
    const before = expectSame(cache, index, 'network', s.state)
    const observation = index.events.findIndex((e) => e.type === 'incident.observation')
    expect(colourOf(before.marks.kind[observation]!, before.marks.severity[observation]!)).toBe(SEVERITY_COLOURS.low)
    // the picture changes, the index does not (the update is filtered out, say)
    const state = fold(s.state, [makeEvent(20, 'incident.updated', { incidentId: 'inc-1', severity: 'critical' })])
    const after = expectSame(cache, index, 'network', state)
    expect(colourOf(after.marks.kind[observation]!, after.marks.severity[observation]!)).toBe(SEVERITY_COLOURS.critical)
    expect(after.marks.priority[observation]).toBeGreaterThan(before.marks.priority[observation]!)
  })

  it('follows incidents leaving and coming back to the picture (later ones move up in its map)', () => {
    const s = new Stream()
    const cache = emptyTimelineCache()
    const index = s.add(...start, report(8, 'inc-3', 'high', ['de-m']), observe(9, 'inc-3', 'de-m'))
    expectSame(cache, index, 'network', s.state)
    const without = new Map(s.state.incidents)
    without.delete('inc-1')
    const pruned = { ...s.state, incidents: without }
    const gone = expectSame(cache, index, 'network', pruned)
    const observation = index.events.findIndex((e) => e.type === 'incident.observation')
    expect(gone.marks.severity[observation]).toBe(NO_SEVERITY)
    expectSame(cache, index, 'incident', pruned)
    // back, at the end of the map this time
    const back = new Map(without)
    back.set('inc-1', s.state.incidents.get('inc-1')!)
    expectSame(cache, index, 'network', { ...s.state, incidents: back })
    expectSame(cache, index, 'network', s.state)
  })

  it('moves reports to the lane of the network the incident now affects first', () => {
    const s = new Stream()
    const cache = emptyTimelineCache()
    const index = s.add(...start)
    const first = expectSame(cache, index, 'network', s.state)
    const reportAt = index.events.findIndex((e) => e.type === 'incident.reported')
    expect(first.lanes[first.lane[reportAt]!]!.key).toBe('fr-a')
    const moved = s.add(makeEvent(30, 'incident.updated', { incidentId: 'inc-1', affectedNetworks: ['de-m'] }))
    const next = expectSame(cache, moved, 'network', s.state)
    expect(next.lanes[next.lane[reportAt]!]!.key).toBe('de-m')
  })

  it('follows a lane toggle and back, and a rebuilt index', () => {
    const s = new Stream()
    const cache = emptyTimelineCache()
    const index = s.add(...start, report(8, 'inc-3', 'high', ['ee-z']))
    expectSame(cache, index, 'network', s.state)
    const incidentLanes = expectSame(cache, index, 'incident', s.state)
    expect(incidentLanes.lanes.map((l) => l.key)).toEqual(['inc-3', 'inc-2', 'inc-1', OTHER_LANE])
    expectSame(cache, index, 'network', s.state)
    // a filter change: a new list that does not extend the old one
    const filtered = s.events.filter((e) => e.type !== 'incident.observation')
    const rebuilt = updateTimeIndex(index, filtered)
    expect(rebuilt.stable).toBe(0)
    expectSame(cache, rebuilt, 'network', s.state)
    expectSame(cache, rebuilt, 'incident', s.state)
  })

  it('does not reuse positions of an index it did not come from', () => {
    const s = new Stream()
    const cache = emptyTimelineCache()
    expectSame(cache, s.add(...start), 'network', s.state)
    // a fresh index of other events, of the same length
    const other = buildTimeIndex(start.map((_e, i) => observe(100 + i, 'inc-2', 'de-m', i)))
    expectSame(cache, other, 'network', s.state)
  })
})

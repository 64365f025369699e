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

const createTask = (seq: number, taskId: string, incidentId: string, seconds = seq) =>
  makeEvent(
    seq,
    'task.created',
    { taskId, incidentId, title: taskId, priority: 'normal' },
    { occurredAt: at(seconds), network: 'de-m' },
  )

/** A task event after its creation, about its incident only through the task. */
const progress = (seq: number, taskId: string, seconds = seq) =>
  seq % 2
    ? makeEvent(seq, 'task.started', { taskId }, { occurredAt: at(seconds) })
    : makeEvent(
        seq,
        'task.assigned',
        { taskId, assignee: { kind: 'team', organisation: 'cert-ee' } },
        { occurredAt: at(seconds), network: 'ee-z' },
      )

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
  const lanes = buildLanes(index.events, mode, state.networks, state)
  return {
    lanes,
    lane: laneIndexes(index.events, lanes, mode, state),
    marks: markData(index.events, state),
  }
}

function expectSame(cache: TimelineCache, index: TimeIndex, mode: Lanes, state: State) {
  const got = deriveTimeline(cache, index, mode, state.networks, state)
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

  it('keeps up with task events, placed and coloured through their task, in both lane modes', () => {
    for (const mode of ['network', 'incident'] as const) {
      const s = new Stream()
      const cache = emptyTimelineCache()
      expectSame(cache, s.add(...start, report(8, 'inc-3', 'high', ['de-m'])), mode, s.state)
      for (let seq = 9; seq < 200; seq++) {
        // a task every fifth seq (on inc-1, inc-2 or inc-3), otherwise progress on an earlier task,
        // some of it occurring before most of the window (late), some of it on a task never created
        const task = `task-${Math.floor(seq / 5) - (seq % 5 === 0 ? 0 : seq % 3)}`
        const seconds = seq % 7 ? seq : seq - 40
        const event =
          seq % 5 === 0
            ? createTask(seq, task, `inc-${(seq % 3) + 1}`, seconds)
            : seq % 11 === 0
              ? progress(seq, `task-missing-${seq}`, seconds)
              : progress(seq, task, seconds)
        expectSame(cache, s.add(event), mode, s.state)
      }
      const got = expectSame(cache, s.index!, mode, s.state)
      const taskEvents = s.index!.events.flatMap((e, i) => (e.type.startsWith('task.') ? [i] : []))
      expect(taskEvents.length).toBeGreaterThan(150)
      const placed = taskEvents.filter((i) => got.marks.incident[i] !== undefined)
      expect(placed.length).toBeGreaterThan(100)
      for (const i of placed) expect(got.marks.severity[i]).not.toBe(NO_SEVERITY)
    }
  })

  it("puts a task event in its incident's lane and colour, recoloured with the incident", () => {
    const s = new Stream()
    const cache = emptyTimelineCache()
    s.add(...start)
    const index = s.add(createTask(8, 'task-1', 'inc-1'), progress(10, 'task-1'))
    const assigned = index.events.findIndex((e) => e.type === 'task.assigned')
    const reported = index.events.findIndex((e) => e.type === 'incident.reported')
    const byIncident = expectSame(cache, index, 'incident', s.state)
    expect(byIncident.lanes[byIncident.lane[assigned]!]!.key).toBe('inc-1')
    expect(byIncident.lane[assigned]).toBe(byIncident.lane[reported])
    expect(byIncident.marks.incident[assigned]).toBe('inc-1')
    expect(colourOf(byIncident.marks.kind[assigned]!, byIncident.marks.severity[assigned]!)).toBe(SEVERITY_COLOURS.low)
    // the network lanes keep a task event on its own network
    const byNetwork = expectSame(cache, index, 'network', s.state)
    expect(byNetwork.lanes[byNetwork.lane[assigned]!]!.key).toBe('ee-z')
    const state = fold(s.state, [makeEvent(20, 'incident.updated', { incidentId: 'inc-1', severity: 'critical' })])
    const after = expectSame(cache, index, 'incident', state)
    expect(colourOf(after.marks.kind[assigned]!, after.marks.severity[assigned]!)).toBe(SEVERITY_COLOURS.critical)
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

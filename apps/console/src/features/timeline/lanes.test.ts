import { fold, initialState, makeEvent, networkName, severityRank } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { buildLanes, laneIndexes, laneKeyOf, networkLane, OTHER_LANE } from './lanes.ts'
import { colourOf, markData, NO_SEVERITY, SEVERITY_COLOURS } from './marks.ts'

const net = (seq: number, networkId: string, name: string, nation: string) =>
  makeEvent(seq, 'network.registered', {
    networkId,
    name,
    organisation: `cert-${nation.toLowerCase()}`,
    nation,
    kind: 'national-cert',
    location: { lat: 50, lon: 10 },
  })

const events = [
  net(1, 'fr-b', 'Bravo', 'FR'),
  net(2, 'ee-z', 'Zulu', 'EE'),
  net(3, 'fr-a', 'Alpha', 'FR'),
  makeEvent(4, 'incident.reported', {
    incidentId: 'inc-low',
    title: 'Low one',
    severity: 'low',
    category: 'malware',
    affectedNetworks: ['fr-a'],
  }),
  makeEvent(5, 'incident.reported', {
    incidentId: 'inc-high-old',
    title: 'High old',
    severity: 'high',
    category: 'malware',
    affectedNetworks: [],
  }),
  makeEvent(6, 'incident.reported', {
    incidentId: 'inc-high-new',
    title: 'High new',
    severity: 'medium',
    category: 'malware',
    affectedNetworks: ['ee-z'],
  }),
  makeEvent(7, 'incident.updated', { incidentId: 'inc-high-new', severity: 'high' }),
  makeEvent(8, 'incident.observation', { incidentId: 'inc-low', networkId: 'fr-b' }),
  makeEvent(9, 'advisory.published', { advisoryId: 'adv-1', title: 'Patch', body: 'Patch now' }),
]
const state = fold(initialState, events)

describe('lane layout', () => {
  it('one lane per network, by nation then name, then the events without a network', () => {
    const lanes = buildLanes(events, 'network', state.networks, state)
    expect(lanes.map((l) => l.key)).toEqual(['ee-z', 'fr-a', 'fr-b', OTHER_LANE])
    expect(lanes[0]).toMatchObject({ label: 'Zulu', detail: 'EE' })
  })

  it('labels a network lane with its short name, else its name; the full name is kept for the tooltip', () => {
    const albania = { name: 'National CERT network of Albania', shortName: 'Albania' }
    expect(networkName(albania)).toBe('Albania')
    expect(networkName({ name: 'Ministry of Defence' })).toBe('Ministry of Defence')
    expect(networkName({ name: 'Ministry of Defence', shortName: '  ' })).toBe('Ministry of Defence')
    const registered = fold(initialState, [
      makeEvent(1, 'network.registered', {
        networkId: 'al-net',
        organisation: 'cert-al',
        nation: 'AL',
        kind: 'national-cert',
        location: { lat: 41, lon: 19 },
        ...albania,
      }),
    ]).networks.get('al-net')!
    expect(networkLane(registered)).toEqual({
      key: 'al-net',
      label: 'Albania',
      title: 'National CERT network of Albania',
      detail: 'AL',
    })
    expect(buildLanes([], 'network', state.networks, state)).toEqual([])
    expect(networkLane(state.networks.get('ee-z')!)).not.toHaveProperty('title')
  })

  it("puts incident reports and updates on the incident's affected network, observations where seen", () => {
    expect(laneKeyOf(events[3]!, 'network', state)).toBe('fr-a')
    expect(laneKeyOf(events[6]!, 'network', state)).toBe('ee-z')
    expect(laneKeyOf(events[7]!, 'network', state)).toBe('fr-b')
    expect(laneKeyOf(events[4]!, 'network', state)).toBe(OTHER_LANE)
  })

  it('one lane per incident, by current severity then recency, then the rest', () => {
    const lanes = buildLanes(events, 'incident', state.networks, state)
    expect(lanes.map((l) => l.key)).toEqual(['inc-high-new', 'inc-high-old', 'inc-low', OTHER_LANE])
    expect(lanes[0]).toMatchObject({ label: 'High new', severity: 'high' })
  })

  it('only lanes with events, and unknown ids after known ones', () => {
    const some = [
      events[3]!,
      makeEvent(10, 'incident.observation', { incidentId: 'inc-gone', networkId: 'zz-unknown' }),
    ]
    expect(buildLanes(some, 'network', state.networks, state).map((l) => l.key)).toEqual(['fr-a', 'zz-unknown'])
    expect(buildLanes(some, 'incident', state.networks, state).map((l) => l.key)).toEqual(['inc-low', 'inc-gone'])
  })

  it('indexes each event to its lane', () => {
    const lanes = buildLanes(events, 'incident', state.networks, state)
    const index = laneIndexes(events, lanes, 'incident', state)
    expect(Array.from(index)).toEqual([3, 3, 3, 2, 1, 0, 0, 2, 3])
  })
})

describe('task events', () => {
  const taskEvents = [
    ...events,
    makeEvent(10, 'task.created', { taskId: 'task-1', incidentId: 'inc-high-new', title: 'Contain', priority: 'high' }),
    makeEvent(
      11,
      'task.assigned',
      { taskId: 'task-1', assignee: { kind: 'user', userId: 'kadri' } },
      { network: 'fr-b' },
    ),
    makeEvent(12, 'task.started', { taskId: 'task-1' }),
    // a task the picture does not hold
    makeEvent(13, 'task.completed', { taskId: 'task-gone' }),
  ]
  const picture = fold(initialState, taskEvents)
  const [created, assigned, started, unknown] = [9, 10, 11, 12].map((i) => taskEvents[i]!)

  it("land in their incident's lane, through their task", () => {
    expect(laneKeyOf(created!, 'incident', picture)).toBe('inc-high-new')
    expect(laneKeyOf(assigned!, 'incident', picture)).toBe('inc-high-new')
    expect(laneKeyOf(started!, 'incident', picture)).toBe('inc-high-new')
    expect(laneKeyOf(unknown!, 'incident', picture)).toBe(OTHER_LANE)
    const lanes = buildLanes(taskEvents, 'incident', picture.networks, picture)
    const lane = laneIndexes(taskEvents, lanes, 'incident', picture)
    expect(lanes[lane[10]!]!.key).toBe('inc-high-new')
    expect(lane[10]).toBe(lane[5])
    expect(lane[11]).toBe(lane[5])
    expect(lanes[lane[12]!]!.key).toBe(OTHER_LANE)
  })

  it('stay on their own network on the network lanes', () => {
    expect(laneKeyOf(assigned!, 'network', picture)).toBe('fr-b')
    expect(laneKeyOf(started!, 'network', picture)).toBe(OTHER_LANE)
  })

  it("take their incident's severity colour and select their incident", () => {
    const marks = markData(taskEvents, picture)
    expect(marks.severity[10]).toBe(severityRank('high'))
    expect(marks.severity[10]).toBe(marks.severity[6])
    expect(colourOf(marks.kind[10]!, marks.severity[10]!)).toBe(SEVERITY_COLOURS.high)
    expect(marks.priority[10]).toBe(marks.priority[6])
    expect(marks.incident[10]).toBe('inc-high-new')
    expect(marks.severity[12]).toBe(NO_SEVERITY)
    expect(marks.incident[12]).toBeUndefined()
  })
})

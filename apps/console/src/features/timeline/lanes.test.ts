import { fold, initialState, makeEvent } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { buildLanes, laneIndexes, laneKeyOf, OTHER_LANE } from './lanes.ts'

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
    const lanes = buildLanes(events, 'network', state.networks, state.incidents)
    expect(lanes.map((l) => l.key)).toEqual(['ee-z', 'fr-a', 'fr-b', OTHER_LANE])
    expect(lanes[0]).toMatchObject({ label: 'Zulu', detail: 'EE' })
  })

  it("puts incident reports and updates on the incident's affected network, observations where seen", () => {
    expect(laneKeyOf(events[3]!, 'network', state.incidents)).toBe('fr-a')
    expect(laneKeyOf(events[6]!, 'network', state.incidents)).toBe('ee-z')
    expect(laneKeyOf(events[7]!, 'network', state.incidents)).toBe('fr-b')
    expect(laneKeyOf(events[4]!, 'network', state.incidents)).toBe(OTHER_LANE)
  })

  it('one lane per incident, by current severity then recency, then the rest', () => {
    const lanes = buildLanes(events, 'incident', state.networks, state.incidents)
    expect(lanes.map((l) => l.key)).toEqual(['inc-high-new', 'inc-high-old', 'inc-low', OTHER_LANE])
    expect(lanes[0]).toMatchObject({ label: 'High new', severity: 'high' })
  })

  it('only lanes with events, and unknown ids after known ones', () => {
    const some = [
      events[3]!,
      makeEvent(10, 'incident.observation', { incidentId: 'inc-gone', networkId: 'zz-unknown' }),
    ]
    expect(buildLanes(some, 'network', state.networks, state.incidents).map((l) => l.key)).toEqual([
      'fr-a',
      'zz-unknown',
    ])
    expect(buildLanes(some, 'incident', state.networks, state.incidents).map((l) => l.key)).toEqual([
      'inc-low',
      'inc-gone',
    ])
  })

  it('indexes each event to its lane', () => {
    const lanes = buildLanes(events, 'incident', state.networks, state.incidents)
    const index = laneIndexes(events, lanes, 'incident', state.incidents)
    expect(Array.from(index)).toEqual([3, 3, 3, 2, 1, 0, 0, 2, 3])
  })
})

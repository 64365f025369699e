import { describe, expect, it } from 'vitest'
import { fold } from './reduce.ts'
import {
  incidentImpact,
  networkLevel,
  networkPostures,
  pictureHeadline,
  stateFromJson,
  stateToJson,
  worstNetworkFirst,
} from './selectors.ts'
import { initialState } from './state.ts'
import { makeEvent } from './testing.ts'

describe('stateToJson and stateFromJson', () => {
  it('a GET /api/v1/state answer turns back into the core state', () => {
    const state = fold(initialState, [
      makeEvent(1, 'incident.reported', {
        incidentId: 'i1',
        title: 'Worm',
        severity: 'high',
        category: 'malware',
        affectedNetworks: ['ee-gov'],
      }),
      makeEvent(2, 'bookmark.saved', { bookmarkId: 'b1', title: 'b', clock: 'occurred', at: '2026-11-01T00:00:00Z' }),
    ])
    const json = JSON.parse(JSON.stringify(stateToJson(state)))
    const back = stateFromJson(json)
    expect(stateToJson(back)).toEqual(stateToJson(state))
    expect(back.incidents.get('i1')?.title).toBe('Worm')
    // and it folds on as the live state would
    const next = makeEvent(3, 'incident.updated', { incidentId: 'i1', status: 'closed' })
    expect(stateToJson(fold(back, [next]))).toEqual(stateToJson(fold(state, [next])))
  })

  it('[S1] the notes and reasons people gave, and who reported first, survive the round trip and fold on', () => {
    const report = (seq: number, actor: string) =>
      makeEvent(
        seq,
        'incident.reported',
        { incidentId: 'i1', title: 'Worm', severity: 'high', category: 'malware', affectedNetworks: [] },
        { actor },
      )
    const state = fold(initialState, [
      report(1, 'sensor-ee'),
      makeEvent(2, 'incident.acknowledged', { incidentId: 'i1', note: 'on it' }, { actor: 'kadri' }),
      makeEvent(3, 'task.created', { taskId: 't1', incidentId: 'i1', title: 'Sweep', priority: 'high' }),
      makeEvent(4, 'task.created', { taskId: 't2', incidentId: 'i1', title: 'Patch', priority: 'high' }),
      makeEvent(5, 'task.completed', { taskId: 't1', note: 'swept' }, { actor: 'mari' }),
      makeEvent(6, 'task.completed', { taskId: 't2' }, { actor: 'mari' }),
      makeEvent(7, 'task.reopened', { taskId: 't2', reason: 'again' }, { actor: 'kadri' }),
    ])
    const back = stateFromJson(JSON.parse(JSON.stringify(stateToJson(state))))
    expect(back.incidents.get('i1')).toMatchObject({ firstReportedBy: 'sensor-ee', acknowledgedNote: 'on it' })
    expect(back.tasks.get('t1')).toMatchObject({ completedNote: 'swept' })
    expect(back.tasks.get('t2')).toMatchObject({ reopenedReason: 'again' })
    const next = [report(8, 'coord-ee'), makeEvent(9, 'task.completed', { taskId: 't2', note: 'twice' })]
    expect(stateToJson(fold(back, next))).toEqual(stateToJson(fold(state, next)))
    expect(fold(back, next).incidents.get('i1')).toMatchObject({ reportedBy: 'coord-ee', firstReportedBy: 'sensor-ee' })
  })
})

const network = (seq: number, networkId: string, name: string) =>
  makeEvent(seq, 'network.registered', {
    networkId,
    name,
    organisation: 'cert-ee',
    nation: 'EE',
    kind: 'government',
    location: { lat: 59, lon: 24 },
  })
const report = (seq: number, incidentId: string, severity: 'low' | 'medium' | 'high' | 'critical', nets: string[]) =>
  makeEvent(seq, 'incident.reported', {
    incidentId,
    title: incidentId,
    severity,
    category: 'malware',
    affectedNetworks: nets,
  })

describe('picture headline', () => {
  it('[H2] two critical incidents open make the picture compromised, though every network reports normal', () => {
    const state = fold(initialState, [
      network(1, 'a', 'A'),
      network(2, 'b', 'B'),
      network(3, 'c', 'C'),
      report(4, 'wiper', 'critical', ['a', 'b']),
      report(5, 'worm', 'critical', ['b', 'c']),
      report(6, 'scan', 'high', ['a']),
    ])
    const headline = pictureHeadline(state.networks.values(), state.incidents.values())
    expect(headline.level).toBe('compromised')
    expect(headline.reason).toBe('2 critical incidents affecting 3 networks')
    expect(headline.reported).toEqual({ posture: 'normal', networks: 0 })
    expect(headline.impact).toEqual({ severity: 'critical', incidents: 2, networks: 3 })
  })

  it('[H2] a reported posture worse than any impact gives the level, with the networks reporting it', () => {
    const state = fold(initialState, [
      network(1, 'a', 'A'),
      network(2, 'b', 'B'),
      makeEvent(3, 'network.posture_changed', { networkId: 'a', posture: 'degraded' }),
      report(4, 'phish', 'medium', ['b']),
    ])
    const headline = pictureHeadline(state.networks.values(), state.incidents.values())
    expect(headline).toMatchObject({ level: 'degraded', reason: '1 network reports degraded' })
  })

  it('[H2] when both agree, both reasons are given; closed incidents and quiet pictures are normal', () => {
    const both = fold(initialState, [
      network(1, 'a', 'A'),
      makeEvent(2, 'network.posture_changed', { networkId: 'a', posture: 'compromised' }),
      report(3, 'wiper', 'critical', ['a']),
    ])
    expect(pictureHeadline(both.networks.values(), both.incidents.values()).reason).toBe(
      '1 critical incident affecting 1 network; 1 network reports compromised',
    )
    const closed = fold(both, [
      makeEvent(4, 'incident.updated', { incidentId: 'wiper', status: 'closed' }),
      makeEvent(5, 'network.posture_changed', { networkId: 'a', posture: 'normal' }),
    ])
    expect(pictureHeadline(closed.networks.values(), closed.incidents.values())).toMatchObject({
      level: 'normal',
      reason: 'no open incidents, all networks report normal',
    })
    const low = fold(closed, [report(6, 'odd', 'low', ['a'])])
    expect(pictureHeadline(low.networks.values(), low.incidents.values())).toMatchObject({
      level: 'normal',
      reason: '1 low incident open, all networks report normal',
    })
  })

  it('[H1] [H3] a network shows its impact beside its posture, and lists sort worst first by the worse of both', () => {
    const state = fold(initialState, [
      network(1, 'a', 'A'),
      network(2, 'b', 'B'),
      network(3, 'c', 'C'),
      makeEvent(4, 'network.posture_changed', { networkId: 'a', posture: 'elevated' }),
      report(5, 'wiper', 'critical', ['c']),
      report(6, 'scan', 'high', ['b']),
    ])
    const postures = networkPostures(state)
    const c = postures.find((p) => p.network.networkId === 'c')!
    expect(c.network.posture).toBe('normal')
    expect(incidentImpact(c.openIncidents)).toBe('compromised')
    expect(networkLevel(c)).toBe('compromised')
    expect(postures.sort(worstNetworkFirst).map((p) => p.network.networkId)).toEqual(['c', 'b', 'a'])
  })
})

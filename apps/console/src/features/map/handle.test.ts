import { fold, initialState, makeEvent } from '@watchfloor/core'
import type { Marking } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { drawnMarking, type MapHandle, mapHandle, registerMap } from './handle.ts'

const handle = (name: string): MapHandle => ({
  settle: async () => {},
  capture: () => ({ dataUrl: name, marking: { tlp: 'CLEAR' } }),
})

describe('registerMap', () => {
  it('makes the mounted map the handle until it unregisters; a remount replaces it', () => {
    expect(mapHandle()).toBeNull()
    const unregisterFirst = registerMap(handle('first'))
    expect(mapHandle()?.capture()?.dataUrl).toBe('first')
    // a remount registers before the old map's teardown runs: that teardown must not unregister the new one
    const unregisterSecond = registerMap(handle('second'))
    unregisterFirst()
    expect(mapHandle()?.capture()?.dataUrl).toBe('second')
    unregisterSecond()
    expect(mapHandle()).toBeNull()
  })
})

describe('drawnMarking', () => {
  const marked = (marking: Marking) => ({ marking })
  const picture = fold(initialState, [
    makeEvent(
      1,
      'incident.reported',
      { incidentId: 'green', title: 'G', severity: 'low', category: 'x', affectedNetworks: [] },
      { marking: { tlp: 'GREEN' } },
    ),
    makeEvent(
      2,
      'incident.reported',
      { incidentId: 'strict', title: 'S', severity: 'high', category: 'x', affectedNetworks: [] },
      { marking: { tlp: 'AMBER+STRICT' } },
    ),
    makeEvent(
      3,
      'advisory.published',
      { advisoryId: 'a', title: 'A', body: 'b' },
      { marking: { tlp: 'AMBER', pap: 'GREEN' } },
    ),
  ])
  const incident = (id: string) => picture.incidents.get(id)!
  const advisories = [...picture.advisories.values()]

  it('[M1] is the strictest of the incidents, networks and advisories the map was given; CLEAR for none', () => {
    expect(drawnMarking({ incidents: [], networks: [], advisories: [] })).toEqual({ tlp: 'CLEAR' })
    expect(drawnMarking({ incidents: [incident('green')], networks: [], advisories: [] })).toEqual({ tlp: 'GREEN' })
    expect(drawnMarking({ incidents: [incident('green')], networks: [], advisories })).toEqual({
      tlp: 'AMBER',
      pap: 'GREEN',
    })
    expect(drawnMarking({ incidents: picture.incidents.values(), networks: [], advisories })).toEqual({
      tlp: 'AMBER+STRICT',
      pap: 'GREEN',
    })
  })

  it('[M1] an incident drawn carries what every event folded into it carries: a RED escalation of a GREEN report', () => {
    const escalated = fold(picture, [
      makeEvent(
        4,
        'incident.escalated',
        { incidentId: 'green', severity: 'critical', reason: 'spreading' },
        { marking: { tlp: 'RED', recipients: ['kadri'] } },
      ),
    ])
    const green = escalated.incidents.get('green')!
    expect(green.marking.tlp).toBe('GREEN')
    expect(drawnMarking({ incidents: [green], networks: [], advisories: [] })).toEqual({ tlp: 'RED' })
  })

  it('counts the marking of the networks it drew', () => {
    const network = {
      networkId: 'ee-gov',
      name: 'EE gov',
      organisation: 'cert-ee',
      nation: 'EE',
      kind: 'government' as const,
      location: { lat: 59.4, lon: 24.7 },
      posture: 'normal' as const,
      registeredAt: '2026-11-01T08:00:00.000Z',
      lastReportAt: '2026-11-01T08:00:00.000Z',
      lastSeq: 1,
      marking: { tlp: 'CLEAR' as const },
    }
    expect(drawnMarking({ incidents: [incident('green')], networks: [network], advisories: [] })).toEqual({
      tlp: 'GREEN',
    })
    const red = { ...network, ...marked({ tlp: 'RED', recipients: ['kadri'] }) }
    expect(drawnMarking({ incidents: [incident('green')], networks: [red], advisories: [] })).toEqual({ tlp: 'RED' })
  })
})

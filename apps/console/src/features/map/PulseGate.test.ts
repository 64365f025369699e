import type { IncidentState, NetworkState } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { type FeatureMap, type IncidentFeature, incidentFeature, SLOT_OFFSETS } from './features.ts'
import { MAX_PULSES, PULSE_COOLDOWN_MS, PulseGate } from './PulseGate.ts'
import { SEVERITY_COLOURS } from './style.ts'

const network: NetworkState = {
  networkId: 'ee-net',
  name: 'Network ee-net',
  organisation: 'cert-ee',
  nation: 'EE',
  kind: 'national-cert',
  location: { lon: 24.75, lat: 59.44 },
  posture: 'normal',
  registeredAt: '2030-01-01T00:00:00.000Z',
  lastReportAt: '2030-01-01T00:00:00.000Z',
  lastSeq: 1,
  marking: { tlp: 'GREEN' },
}
const networks = new Map([[network.networkId, network]])

const inc = (incidentId: string, extra: Partial<IncidentState> = {}): IncidentState => ({
  incidentId,
  title: `Incident ${incidentId}`,
  severity: 'high',
  status: 'new',
  category: 'malware',
  affectedNetworks: [network.networkId],
  organisation: 'cert-ee',
  marking: { tlp: 'GREEN' },
  contentMarking: { tlp: 'GREEN' },
  reportedAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:01:00.000Z',
  version: 1,
  lastSeq: 10,
  observationCount: 0,
  observationReports: 0,
  ...extra,
})

/** The map's features for `incidents`, the nth in slot n. */
const featuresOf = (incidents: IncidentState[]): FeatureMap =>
  new Map(
    incidents.map((incident, slot) => [
      incident.incidentId,
      incidentFeature(incident, networks, slot) as IncidentFeature,
    ]),
  )

const ids = (n: number, prefix = 'i') => Array.from({ length: n }, (_, i) => inc(`${prefix}${i}`))

describe('PulseGate', () => {
  it('rings each incident at its place on the map, offset to its slot, in its severity colour', () => {
    const incidents = [inc('a', { severity: 'critical' }), inc('b', { severity: 'low' })]
    const pulses = new PulseGate().admit(incidents, featuresOf(incidents), 1000, 0)
    expect(pulses).toEqual([
      { lngLat: [24.75, 59.44], offset: SLOT_OFFSETS[0], colour: SEVERITY_COLOURS.critical, start: 1000 },
      { lngLat: [24.75, 59.44], offset: SLOT_OFFSETS[1], colour: SEVERITY_COLOURS.low, start: 1000 },
    ])
    expect(pulses[1]?.offset).not.toEqual([0, 0])
  })

  it('pulses an incident again only once the cooldown is over', () => {
    const gate = new PulseGate()
    const incidents = [inc('a')]
    const features = featuresOf(incidents)
    expect(gate.admit(incidents, features, 0, 0)).toHaveLength(1)
    expect(gate.admit(incidents, features, 1, 0)).toHaveLength(0)
    expect(gate.admit(incidents, features, PULSE_COOLDOWN_MS, 0)).toHaveLength(0)
    expect(gate.admit(incidents, features, PULSE_COOLDOWN_MS + 1, 0)).toHaveLength(1)
    // the cooldown runs from the last pulse, not the first
    expect(gate.admit(incidents, features, PULSE_COOLDOWN_MS + 2, 0)).toHaveLength(0)
  })

  it('keeps no more than MAX_PULSES running, counting those already running', () => {
    const incidents = ids(MAX_PULSES + 10)
    const features = featuresOf(incidents)
    expect(new PulseGate().admit(incidents, features, 0, 0)).toHaveLength(MAX_PULSES)
    const pulses = new PulseGate().admit(incidents, features, 0, MAX_PULSES - 3)
    expect(pulses).toHaveLength(3)
    expect(new PulseGate().admit(incidents, features, 0, MAX_PULSES)).toEqual([])
  })

  it('does not hold back incidents left out for want of room', () => {
    const gate = new PulseGate(2)
    const incidents = ids(4)
    const features = featuresOf(incidents)
    expect(gate.admit(incidents, features, 0, 0).map((p) => p.start)).toEqual([0, 0])
    // a and b pulsed and are cooling down; c and d did not pulse and may now
    const later = gate.admit(incidents, features, 10, 0)
    expect(later).toHaveLength(2)
    expect(later.map((p) => p.offset)).toEqual([SLOT_OFFSETS[2], SLOT_OFFSETS[3]])
  })

  it('counts an incident without a feature as pulsed, and it takes no room', () => {
    const gate = new PulseGate(1)
    const incidents = [inc('gone'), inc('here')]
    const features = featuresOf([inc('here')])
    const pulses = gate.admit(incidents, features, 0, 0)
    expect(pulses).toHaveLength(1)
    expect(pulses[0]?.offset).toEqual(SLOT_OFFSETS[0])
    // once on the map, the one without a feature still cools down
    expect(gate.admit([inc('gone')], featuresOf([inc('gone')]), 1, 0)).toEqual([])
  })
})

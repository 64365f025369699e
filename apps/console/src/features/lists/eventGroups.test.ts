import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { groupEvents, indicatorKind, summariseObservations } from './eventGroups.ts'

const T0 = Date.parse('2026-12-05T10:00:00Z')
let seq = 0
function ev(type: string, payload: object, at: number, tlp = 'GREEN'): StoredEvent {
  seq++
  return {
    seq,
    id: `e-${seq}`,
    type,
    occurredAt: new Date(at).toISOString(),
    recordedAt: new Date(at).toISOString(),
    source: { organisation: 'cert-ee', network: 'ee-gov' },
    marking: { tlp },
    payload,
  } as unknown as StoredEvent
}
const obs = (incidentId: string, indicator: string | undefined, count: number | undefined, at: number, tlp = 'GREEN') =>
  ev(
    'incident.observation',
    { incidentId, ...(indicator ? { indicator } : {}), ...(count ? { count } : {}), networkId: 'ee-gov' },
    at,
    tlp,
  )

describe('indicatorKind', () => {
  it('tells what an indicator is from its text', () => {
    expect(indicatorKind('198.51.100.7')).toBe('ipv4')
    expect(indicatorKind('198.51.100.0/24')).toBe('cidr')
    expect(indicatorKind('2001:db8::1')).toBe('ipv6')
    expect(indicatorKind('update.example-cdn.net')).toBe('domain')
    expect(indicatorKind('hxxp://bad.example/x')).toBe('url')
    expect(indicatorKind('ceo@example.org')).toBe('email')
    expect(indicatorKind('d41d8cd98f00b204e9800998ecf8427e')).toBe('hash')
    expect(indicatorKind('445/tcp scan')).toBe('port')
    expect(indicatorKind('beaconing every 60 s')).toBe('other')
    expect(indicatorKind(undefined)).toBe('none')
  })
})

describe('groupEvents', () => {
  it('folds observations into one run per incident and indicator until a change to that incident', () => {
    const events = [
      ev('incident.reported', { incidentId: 'a', title: 'A' }, T0),
      obs('a', '198.51.100.7', 5, T0 + 1_000),
      obs('a', 'bad.example', undefined, T0 + 2_000),
      obs('b', '198.51.100.7', 2, T0 + 2_500),
      obs('a', '198.51.100.7', 3, T0 + 3_000, 'AMBER'),
      ev('incident.updated', { incidentId: 'a', status: 'triaged' }, T0 + 4_000),
      obs('a', '198.51.100.7', 1, T0 + 5_000),
      obs('b', '198.51.100.7', 4, T0 + 6_000),
    ]
    const entries = groupEvents(events)
    expect(
      entries.map((e) =>
        e.kind === 'event' ? e.event.type : `${e.incidentId}:${e.indicator ?? '-'}×${e.reports}=${e.sum}/${e.tlp}`,
      ),
    ).toEqual([
      'incident.reported',
      'a:198.51.100.7×2=8/AMBER',
      'a:bad.example×1=1/GREEN',
      // b's run is not cut by a change to a
      'b:198.51.100.7×2=6/GREEN',
      'incident.updated',
      'a:198.51.100.7×1=1/GREEN',
    ])
    // every event is in exactly one entry
    const held = entries.flatMap((e) => (e.kind === 'event' ? [e.event] : e.events))
    expect(held.map((e) => e.seq).sort((x, y) => x - y)).toEqual(events.map((e) => e.seq))
  })
})

describe('summariseObservations', () => {
  it('counts reports and the sum of counts apart, per kind of indicator, and a rate over the real span', () => {
    const now = T0 + 100_000
    const history = [
      ev('incident.reported', { incidentId: 'a' }, T0),
      // a DDoS sensor reports packet counts; another reports single sightings of a domain
      obs('a', '198.51.100.7', 1_000_000, T0 + 10_000),
      obs('a', '198.51.100.8', 2_000_000, T0 + 40_000),
      obs('a', 'bad.example', undefined, T0 + 70_000),
    ]
    const summary = summariseObservations(history, now)
    expect(summary.reports).toBe(3)
    expect(summary.sum).toBe(3_000_001)
    expect(summary.byKind).toEqual([
      { kind: 'ipv4', reports: 2, sum: 3_000_000 },
      { kind: 'domain', reports: 1, sum: 1 },
    ])
    // the first observation is 90 s old: the rate is over 1.5 min, not 10
    expect(summary.spanMinutes).toBeCloseTo(1.5)
    expect(summary.ratePerMinute).toBeCloseTo(2)
    // an hour later: over the last 10 minutes, nothing
    expect(summariseObservations(history, now + 3_600_000)).toMatchObject({ spanMinutes: 10, ratePerMinute: 0 })
    expect(summariseObservations([], now)).toMatchObject({ reports: 0, ratePerMinute: 0, spanMinutes: 0 })
  })
})

import type { StoredEvent } from '@watchfloor/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type EventEntry,
  type Grouping,
  groupEvents,
  groupingOf,
  historyShown,
  indicatorKind,
  runIndicators,
  summariseObservations,
} from './eventGroups.ts'

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
  it('folds observations into one run per incident and kind of indicator until a change to that incident', () => {
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

  it('a worm seen at many addresses is one run of that kind of indicator, said as how many', () => {
    const events = [
      ev('incident.reported', { incidentId: 'w', title: 'Worm' }, T0),
      ...Array.from({ length: 9 }, (_, i) => obs('w', `203.0.113.${i}`, 2, T0 + 1_000 + i)),
      obs('w', '203.0.113.0', 1, T0 + 2_000),
      obs('w', 'bad.example', 1, T0 + 2_001),
      obs('w', undefined, 4, T0 + 2_002),
    ]
    const runs = groupEvents(events).filter((e) => e.kind === 'observations')
    expect(runs.map((run) => [run.indicatorKind, run.reports, run.sum, run.indicators.size])).toEqual([
      ['ipv4', 10, 19, 9],
      ['domain', 1, 1, 1],
      ['none', 1, 4, 1],
    ])
    expect(runs.map(runIndicators)).toEqual([
      { words: '9 IPv4 indicators' },
      { indicator: 'bad.example', words: '(domain)' },
      { words: 'no indicator' },
    ])
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

describe('a grouping that grows with the window', () => {
  const shape = (entries: readonly EventEntry[]) =>
    entries.map((e) =>
      e.kind === 'event'
        ? `${e.event.seq}`
        : `${e.incidentId}:${e.indicator ?? '-'}×${e.reports}=${e.sum}/${e.tlp}[${e.events.map((x) => x.seq).join(',')}]{${e.networks.join(',')}}`,
    )

  it('grouping in batches gives what grouping all at once gives, whatever the batches', () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('obs' as const),
        incident: fc.constantFrom('a', 'b', 'c'),
        indicator: fc.constantFrom(undefined, '198.51.100.7', 'bad.example'),
        count: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
        tlp: fc.constantFrom('CLEAR', 'GREEN', 'AMBER'),
      }),
      fc.record({ kind: fc.constant('change' as const), incident: fc.constantFrom('a', 'b', 'c') }),
    )
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.array(fc.nat(60), { maxLength: 6 }), (steps, cuts) => {
        const events = steps.map((s, i) =>
          s.kind === 'obs'
            ? obs(s.incident, s.indicator, s.count, T0 + i * 1_000, s.tlp)
            : ev('incident.updated', { incidentId: s.incident, status: 'triaged' }, T0 + i * 1_000),
        )
        const whole = groupEvents(events)
        let grouping: Grouping | undefined
        const window: StoredEvent[] = []
        const ends = [...new Set(cuts.map((c) => Math.min(c, events.length)))].sort((x, y) => x - y)
        for (const end of [...ends, events.length]) {
          window.push(...events.slice(window.length, end))
          const before = (grouping?.entries ?? []).map((e) => ({
            entry: e,
            reports: e.kind === 'observations' ? e.reports : 0,
          }))
          grouping = groupingOf(grouping, window)
          // a run that grew in this batch is a new object; the same object has the same count
          for (const [i, { entry, reports }] of before.entries())
            if (entry.kind === 'observations' && grouping.entries[i] === entry) expect(entry.reports).toBe(reports)
        }
        expect(shape(grouping!.entries)).toEqual(shape(whole))
      }),
      { numRuns: 200 },
    )
  })

  it('groups again from the start when the window lost its first events or was replaced', () => {
    const events = [obs('a', 'x.example', 1, T0), obs('a', 'x.example', 1, T0 + 1), obs('b', 'y.example', 1, T0 + 2)]
    const all = groupingOf(undefined, events)
    expect(shape(all.entries)).toHaveLength(2)
    const trimmed = groupingOf(all, events.slice(1))
    expect(trimmed).not.toBe(all)
    expect(shape(trimmed.entries)).toEqual(shape(groupEvents(events.slice(1))))
    expect(groupingOf(trimmed, events.slice(1))).toBe(trimmed) // nothing new: the same grouping
  })

  it('a run that grows in a batch is a new object, so rows memoised by run see it', () => {
    const first = [obs('a', 'x.example', 1, T0)]
    const grouping = groupingOf(undefined, first)
    const run = grouping.entries[0]
    const window = [...first, obs('a', 'x.example', 2, T0 + 1)]
    const grown = groupingOf(grouping, window)
    expect(grown.entries[0]).not.toBe(run)
    expect(grown.entries[0]).toMatchObject({ reports: 2, sum: 3 })
  })
})

describe('historyShown', () => {
  it('lists every change of a long history, the report first, and only the latest observation runs, counting the rest', () => {
    const events: StoredEvent[] = [
      ev(
        'incident.reported',
        { incidentId: 'w', title: 'Worm', severity: 'high', category: 'malware', affectedNetworks: [] },
        T0,
      ),
    ]
    // 300 runs: ten kinds of indicator in turn and a change after every ten, so each is its own run
    const KINDS = [
      '198.51.100.7',
      '2001:db8::7',
      '198.51.100.0/24',
      'https://bad.example/drop',
      'phish@bad.example',
      'd41d8cd98f00b204e9800998ecf8427e',
      'bad.example',
      '445/tcp scan',
      'beacon pattern 7',
      '',
    ]
    for (let i = 0; i < 300; i++) {
      events.push(obs('w', KINDS[i % 10]!, 2, T0 + i * 1000))
      if (i % 10 === 9)
        events.push(ev('incident.updated', { incidentId: 'w', severity: 'critical' }, T0 + i * 1000 + 1))
    }
    const entries = groupEvents(events)
    expect(entries.length).toBe(331)
    const { shown, hiddenRuns, hiddenReports } = historyShown(entries, 200)
    expect(shown.length).toBe(200)
    expect(shown.filter((e) => e.kind === 'event').length).toBe(31)
    expect(shown[0]).toMatchObject({ kind: 'event', event: { type: 'incident.reported' } })
    expect(hiddenRuns).toBe(131)
    expect(hiddenReports).toBe(131)
    // the runs kept are the latest, in order
    const last = entries.at(-1)!
    expect(shown.at(-1)).toBe(last)
    const order = shown.map((e) => entries.indexOf(e))
    expect(order).toEqual([...order].sort((a, b) => a - b))
  })

  it('lists a short history whole', () => {
    const entries = groupEvents([obs('w', 'a', 1, T0), obs('w', 'b', 1, T0 + 1)])
    expect(historyShown(entries, 200)).toEqual({ shown: entries, hiddenRuns: 0, hiddenReports: 0 })
  })
})

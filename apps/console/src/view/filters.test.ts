import { fold, initialState, makeEvent, type State } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { type FilteredIncidents, filterEvents, filterIncidents, incidentMatches, refilterIncidents } from './filters.ts'
import { EMPTY_FILTERS, SORTS } from './view.ts'

const t = (minute: number) => new Date(Date.UTC(2026, 10, 26, 8, minute)).toISOString()

const events = [
  makeEvent(1, 'network.registered', {
    networkId: 'ee-net',
    name: 'Estonia',
    organisation: 'cert-ee',
    nation: 'EE',
    kind: 'national-cert',
    location: { lat: 59.4, lon: 24.7 },
  }),
  makeEvent(2, 'network.registered', {
    networkId: 'lv-net',
    name: 'Latvia',
    organisation: 'cert-lv',
    nation: 'LV',
    kind: 'national-cert',
    location: { lat: 56.9, lon: 24.1 },
  }),
  makeEvent(
    3,
    'incident.reported',
    { incidentId: 'worm', title: 'SMB worm', severity: 'critical', category: 'malware', affectedNetworks: ['lv-net'] },
    { occurredAt: t(0) },
  ),
  makeEvent(
    4,
    'incident.reported',
    {
      incidentId: 'phish',
      title: 'Phishing wave',
      severity: 'low',
      category: 'phishing',
      affectedNetworks: ['ee-net'],
    },
    { occurredAt: t(10), marking: { tlp: 'AMBER' } },
  ),
  makeEvent(5, 'incident.observation', { incidentId: 'worm', count: 2 }, { occurredAt: t(20) }),
  makeEvent(6, 'incident.updated', { incidentId: 'phish', status: 'closed' }, { occurredAt: t(30) }),
  makeEvent(7, 'network.posture_changed', { networkId: 'lv-net', posture: 'degraded' }, { occurredAt: t(31) }),
]
const state = fold(initialState, events)
const ids = (list: { incidentId: string }[]) => list.map((i) => i.incidentId)

describe('incident filters', () => {
  it('shows open incidents by default and closed ones when asked', () => {
    expect(ids(filterIncidents(state, { filters: EMPTY_FILTERS, range: null, sort: 'severity' }))).toEqual(['worm'])
    const closed = { ...EMPTY_FILTERS, statuses: ['closed' as const] }
    expect(ids(filterIncidents(state, { filters: closed, range: null, sort: 'severity' }))).toEqual(['phish'])
  })

  it('narrows by severity, category, TLP, text and organisation or nation of affected networks', () => {
    const worm = state.incidents.get('worm')!
    const m = (patch: Partial<typeof EMPTY_FILTERS>) =>
      incidentMatches(worm, { ...EMPTY_FILTERS, ...patch }, state.networks, null)
    expect(m({ severities: ['critical'] })).toBe(true)
    expect(m({ severities: ['low'] })).toBe(false)
    expect(m({ categories: ['phishing'] })).toBe(false)
    expect(m({ tlps: ['GREEN'] })).toBe(true)
    expect(m({ tlps: ['AMBER'] })).toBe(false)
    expect(m({ text: 'SMB' })).toBe(true)
    expect(m({ text: 'ransom' })).toBe(false)
    expect(m({ organisations: ['LV'] })).toBe(true) // an affected network's nation
    expect(m({ organisations: ['cert-ee'] })).toBe(true) // the reporter
    expect(m({ organisations: ['cert-fi'] })).toBe(false)
  })

  it('[M1] filters by what an incident holds: a GREEN report escalated in an AMBER+STRICT update is AMBER+STRICT', () => {
    const escalated = fold(state, [
      makeEvent(
        8,
        'incident.escalated',
        { incidentId: 'worm', severity: 'critical', reason: 'spreading' },
        { occurredAt: t(40), marking: { tlp: 'AMBER+STRICT' } },
      ),
    ])
    const worm = escalated.incidents.get('worm')!
    const m = (tlps: (typeof EMPTY_FILTERS)['tlps']) =>
      incidentMatches(worm, { ...EMPTY_FILTERS, tlps }, escalated.networks, null)
    expect(m(['GREEN'])).toBe(false)
    expect(m(['AMBER+STRICT'])).toBe(true)
  })

  it('keeps incidents active in the brushed range', () => {
    const worm = state.incidents.get('worm')!
    expect(
      incidentMatches(worm, EMPTY_FILTERS, state.networks, { from: Date.parse(t(15)), to: Date.parse(t(25)) }),
    ).toBe(true)
    expect(
      incidentMatches(worm, EMPTY_FILTERS, state.networks, { from: Date.parse(t(40)), to: Date.parse(t(50)) }),
    ).toBe(false)
  })

  it('sorts by severity, recency or affected networks', () => {
    const all = { ...EMPTY_FILTERS, statuses: ['new' as const, 'closed' as const] }
    expect(ids(filterIncidents(state, { filters: all, range: null, sort: 'severity' }))).toEqual(['worm', 'phish'])
    expect(ids(filterIncidents(state, { filters: all, range: null, sort: 'recency' }))).toEqual(['phish', 'worm'])
  })

  it('sorts by status (workflow order), observations or TLP (most restricted first)', () => {
    const all = { ...EMPTY_FILTERS, statuses: ['new' as const, 'closed' as const] }
    // worm: new, 2 observations, GREEN; phish: closed, none, AMBER
    expect(ids(filterIncidents(state, { filters: all, range: null, sort: 'status' }))).toEqual(['worm', 'phish'])
    expect(ids(filterIncidents(state, { filters: all, range: null, sort: 'observations' }))).toEqual(['worm', 'phish'])
    expect(ids(filterIncidents(state, { filters: all, range: null, sort: 'tlp' }))).toEqual(['phish', 'worm'])
  })
})

describe('incident filters, updated batch by batch', () => {
  const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const
  const report = (seq: number, i: number, minute = seq) =>
    makeEvent(
      seq,
      'incident.reported',
      {
        incidentId: `inc-${i}`,
        title: `Incident ${i}`,
        severity: SEVERITIES[i % 4]!,
        category: i % 2 ? 'malware' : 'phishing',
        affectedNetworks: [i % 3 ? 'ee-net' : 'lv-net'],
      },
      { occurredAt: t(minute) },
    )
  /** A batch like the live stream's: observations, a severity change, a closure, an arrival. */
  const batch = (seq: number, k: number) => [
    makeEvent(seq, 'incident.observation', { incidentId: `inc-${(k * 7) % 40}`, count: 1 }, { occurredAt: t(100 + k) }),
    makeEvent(
      seq + 1,
      'incident.observation',
      { incidentId: `inc-${(k * 11) % 40}`, count: 1 },
      { occurredAt: t(100 + k) },
    ),
    makeEvent(
      seq + 2,
      'incident.updated',
      { incidentId: `inc-${(k * 5) % 40}`, severity: SEVERITIES[k % 4]! },
      { occurredAt: t(100 + k) },
    ),
    ...(k % 4 === 0
      ? [
          makeEvent(
            seq + 3,
            'incident.updated',
            { incidentId: `inc-${k % 40}`, status: 'closed' as const },
            { occurredAt: t(101 + k) },
          ),
        ]
      : []),
    ...(k % 3 === 0 ? [report(seq + 4, 100 + k, 99)] : []),
  ]

  it('equals filtering from scratch after every batch, for each sort and with filters', () => {
    const base = fold(initialState, events)
    for (const sort of SORTS)
      for (const filters of [EMPTY_FILTERS, { ...EMPTY_FILTERS, categories: ['malware'] }]) {
        const view = { filters, range: null, sort }
        let state: State = fold(
          base,
          Array.from({ length: 40 }, (_, i) => report(10 + i, i)),
        )
        let previous: FilteredIncidents | undefined
        for (let k = 0; k < 60; k++) {
          previous = refilterIncidents(previous, state, view)
          expect(ids(previous.result)).toEqual(ids(filterIncidents(state, view)))
          state = fold(state, batch(1000 + k * 10, k))
          // now and then an incident leaves the picture (pruned): later ones move up in the map
          if (k % 10 === 5) {
            const incidents = new Map(state.incidents)
            incidents.delete(`inc-${k % 40}`)
            state = { ...state, incidents }
          }
        }
      }
  })

  it('orders ties as the full sort does (by map order)', () => {
    const view = { filters: EMPTY_FILTERS, range: null, sort: 'severity' as const }
    // one event touching two incidents gives them the same time and seq: a tie
    const tied = fold(initialState, [report(1, 0), report(2, 4), report(3, 8)])
    const previous = refilterIncidents(undefined, tied, view)
    const twin = (id: string) => ({ ...tied.incidents.get(id)!, updatedAt: t(50), lastSeq: 9 })
    const incidents = new Map(tied.incidents)
    incidents.set('inc-8', twin('inc-8'))
    incidents.set('inc-0', twin('inc-0'))
    const next = { ...tied, incidents }
    expect(ids(refilterIncidents(previous, next, view).result)).toEqual(ids(filterIncidents(next, view)))
    expect(ids(filterIncidents(next, view))).toEqual(['inc-0', 'inc-8', 'inc-4'])
  })

  it('moves an incident whose severity changed, and drops one that closed', () => {
    const view = { filters: EMPTY_FILTERS, range: null, sort: 'severity' as const }
    const first = fold(initialState, [report(1, 0), report(2, 1), report(3, 3)]) // low, medium, critical
    const previous = refilterIncidents(undefined, first, view)
    expect(ids(previous.result)).toEqual(['inc-3', 'inc-1', 'inc-0'])
    const next = fold(first, [
      makeEvent(4, 'incident.updated', { incidentId: 'inc-0', severity: 'critical' }),
      makeEvent(5, 'incident.updated', { incidentId: 'inc-3', status: 'closed' }),
    ])
    expect(ids(refilterIncidents(previous, next, view).result)).toEqual(['inc-0', 'inc-1'])
    // other filters: computed afresh, not from the earlier result
    const lows = { ...view, filters: { ...EMPTY_FILTERS, severities: ['medium' as const] } }
    expect(ids(refilterIncidents(previous, next, lows).result)).toEqual(['inc-1'])
  })
})

describe('event filters', () => {
  it('keeps the events of matching incidents and, without incident-only filters, the others', () => {
    const matching = new Set(['worm'])
    const kept = filterEvents(events, matching, EMPTY_FILTERS, state, null).map((e) => e.seq)
    expect(kept).toEqual([1, 2, 3, 5, 7])
    const critical = filterEvents(events, matching, { ...EMPTY_FILTERS, severities: ['critical'] }, state, null)
    expect(critical.map((e) => e.seq)).toEqual([3, 5])
  })

  it('applies organisation filters to network events and a range to everything', () => {
    const kept = filterEvents(events, new Set(['worm']), { ...EMPTY_FILTERS, organisations: ['LV'] }, state, {
      from: Date.parse(t(15)),
      to: Date.parse(t(40)),
    })
    expect(kept.map((e) => e.seq)).toEqual([5, 7])
  })
})

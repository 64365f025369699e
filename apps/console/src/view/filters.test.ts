import { fold, initialState, makeEvent } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { filterEvents, filterIncidents, incidentMatches } from './filters.ts'
import { EMPTY_FILTERS } from './view.ts'

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
})

describe('event filters', () => {
  it('keeps the events of matching incidents and, without incident-only filters, the others', () => {
    const matching = new Set(['worm'])
    const kept = filterEvents(events, matching, EMPTY_FILTERS, state.networks, null).map((e) => e.seq)
    expect(kept).toEqual([1, 2, 3, 5, 7])
    const critical = filterEvents(
      events,
      matching,
      { ...EMPTY_FILTERS, severities: ['critical'] },
      state.networks,
      null,
    )
    expect(critical.map((e) => e.seq)).toEqual([3, 5])
  })

  it('applies organisation filters to network events and a range to everything', () => {
    const kept = filterEvents(events, new Set(['worm']), { ...EMPTY_FILTERS, organisations: ['LV'] }, state.networks, {
      from: Date.parse(t(15)),
      to: Date.parse(t(40)),
    })
    expect(kept.map((e) => e.seq)).toEqual([5, 7])
  })
})

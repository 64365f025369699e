import { describe, expect, it } from 'vitest'
import { DEFAULT_VIEW, parseView, serializeView, type View } from './view.ts'

describe('view in the URL', () => {
  it('leaves defaults out, so the default view is an empty query', () => {
    expect(serializeView(DEFAULT_VIEW)).toBe('')
    expect(parseView('')).toEqual(DEFAULT_VIEW)
  })

  it("round-trips the incident list's own filters, and ignores unknown values", () => {
    const view: View = { ...DEFAULT_VIEW, sort: 'tlp', list: { ack: 'acknowledged', assigned: 'team' } }
    const query = serializeView(view)
    expect(query).toBe('sort=tlp&ack=acknowledged&assigned=team')
    expect(parseView(`?${query}`)).toEqual(view)
    expect(parseView('?ack=maybe&assigned=everyone').list).toEqual(DEFAULT_VIEW.list)
  })

  it('shows observations as runs unless a link says each (obs=each), and leaves the default out', () => {
    expect(parseView('').observations).toBe('runs')
    expect(parseView('?obs=each').observations).toBe('each')
    expect(parseView('?obs=sometimes').observations).toBe('runs')
    expect(serializeView(DEFAULT_VIEW)).not.toContain('obs=')
    expect(serializeView({ ...DEFAULT_VIEW, observations: 'each' })).toContain('obs=each')
  })

  it('round-trips filters, range, selection, map, layers, lanes, observations and sort', () => {
    const view: View = {
      filters: {
        severities: ['critical', 'high'],
        statuses: ['triaged'],
        categories: ['malware'],
        organisations: ['cert-lv', 'EE'],
        tlps: ['AMBER', 'AMBER+STRICT'],
        text: 'smb worm',
      },
      range: { from: Date.UTC(2026, 10, 26, 8), to: Date.UTC(2026, 10, 26, 9, 30) },
      selection: 'inc-3fa9c2d1',
      map: { lng: 24.7536, lat: 59.437, zoom: 5.5 },
      layers: { networks: true, incidents: true, attacks: false, sharing: false },
      lanes: 'incident',
      observations: 'each',
      sort: 'recency',
      list: { ack: 'unacknowledged', assigned: 'me' },
      replay: null,
      report: null,
      viewAs: null,
    }
    expect(parseView(`?${serializeView(view)}`)).toEqual(view)
  })

  it('round-trips a replay (mode, clock, window, playhead, speed, incident) beside the other view params', () => {
    const view: View = {
      ...DEFAULT_VIEW,
      filters: { ...DEFAULT_VIEW.filters, severities: ['critical'] },
      selection: 'inc-1',
      range: { from: Date.UTC(2026, 10, 26, 8, 10), to: Date.UTC(2026, 10, 26, 8, 20) },
      replay: {
        clock: 'occurred',
        from: Date.UTC(2026, 10, 26, 8),
        to: Date.UTC(2026, 10, 26, 9, 30),
        at: Date.UTC(2026, 10, 26, 8, 45, 12, 345),
        speed: 1000,
        incidentId: 'inc-1',
      },
      report: 'inc-1',
    }
    const query = serializeView(view)
    expect(query).toContain('mode=replay')
    expect(query).toContain('clock=occurred')
    expect(parseView(`?${query}`)).toEqual(view)
    // the default speed and no incident are left out
    const plain = { ...view, replay: { ...view.replay!, speed: 60, incidentId: null }, report: null }
    expect(serializeView(plain)).not.toMatch(/speed|incident|report/)
    expect(parseView(`?${serializeView(plain)}`)).toEqual(plain)
  })

  it('drops a malformed replay, and keeps the playhead inside the window', () => {
    expect(parseView('?mode=replay&window=yesterday/today').replay).toBeNull()
    expect(parseView('?mode=replay&window=2026-11-26T09:00:00Z/2026-11-26T08:00:00Z').replay).toBeNull()
    expect(parseView('?window=2026-11-26T08:00:00Z/2026-11-26T09:00:00Z').replay).toBeNull()
    const replay = parseView(
      '?mode=replay&clock=sideways&window=2026-11-26T08:00:00Z/2026-11-26T09:00:00Z&at=2027-01-01T00:00:00Z&speed=-5',
    ).replay!
    expect(replay.clock).toBe('recorded')
    expect(replay.at).toBe(Date.UTC(2026, 10, 26, 9))
    expect(replay.speed).toBe(60)
    expect(parseView('?mode=replay&window=2026-11-26T08:00:00Z/2026-11-26T09:00:00Z').replay!.at).toBe(
      Date.UTC(2026, 10, 26, 8),
    )
  })

  it('ignores malformed values instead of failing', () => {
    const view = parseView('?sev=apocalyptic,low&tlp=PURPLE&from=yesterday&to=2026-01-01&map=999,0,3&sort=random')
    expect(view.filters.severities).toEqual(['low'])
    expect(view.filters.tlps).toEqual([])
    expect(view.range).toBeNull()
    expect(view.map).toEqual(DEFAULT_VIEW.map)
    expect(view.sort).toBe('severity')
  })

  it('keeps an empty layer list as "no layers shown"', () => {
    const hidden = { ...DEFAULT_VIEW, layers: { networks: false, incidents: false, attacks: false, sharing: false } }
    expect(parseView(`?${serializeView(hidden)}`).layers).toEqual(hidden.layers)
  })

  it('round-trips the audience viewed as, readable and first, beside the rest of the view', () => {
    const view: View = {
      ...DEFAULT_VIEW,
      filters: { ...DEFAULT_VIEW.filters, text: 'worm' },
      selection: 'inc-1',
      viewAs: { kind: 'organisation', id: 'cert-lv' },
    }
    const query = serializeView(view)
    expect(query).toBe('viewAs=organisation:cert-lv&q=worm&sel=inc-1')
    expect(parseView(`?${query}`)).toEqual(view)
    const community = { ...DEFAULT_VIEW, viewAs: { kind: 'community' as const, id: 'baltic.cert_2' } }
    expect(serializeView(community)).toBe('viewAs=community:baltic.cert_2')
    expect(parseView(`?${serializeView(community)}`)).toEqual(community)
    // the encoded form a browser may write reads the same
    expect(parseView('?viewAs=organisation%3Acert-lv').viewAs).toEqual({ kind: 'organisation', id: 'cert-lv' })
  })

  it('drops a malformed audience: another kind, no id, an id the directory cannot have', () => {
    for (const raw of [
      'nation:EE',
      'organisation:',
      'organisation',
      'organisation:CERT-LV',
      ':cert-lv',
      'community:a b',
    ])
      expect(parseView(`?viewAs=${encodeURIComponent(raw)}`).viewAs).toBeNull()
    expect(serializeView({ ...DEFAULT_VIEW, viewAs: null })).toBe('')
  })
})

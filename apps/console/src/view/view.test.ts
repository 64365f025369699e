import { describe, expect, it } from 'vitest'
import { DEFAULT_VIEW, parseView, serializeView, type View } from './view.ts'

describe('view in the URL', () => {
  it('leaves defaults out, so the default view is an empty query', () => {
    expect(serializeView(DEFAULT_VIEW)).toBe('')
    expect(parseView('')).toEqual(DEFAULT_VIEW)
  })

  it('round-trips filters, range, selection, map, layers, lanes and sort', () => {
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
      sort: 'recency',
    }
    expect(parseView(`?${serializeView(view)}`)).toEqual(view)
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
})

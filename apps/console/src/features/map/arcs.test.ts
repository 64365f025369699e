import { describe, expect, it } from 'vitest'
import { curvedArc, fromMercator, recencyOpacity, recencyOpacityExpression, samePlace, toMercator } from './arcs.ts'

describe('curvedArc', () => {
  const tallinn = { lon: 24.754, lat: 59.437 }
  const washington = { lon: -77.037, lat: 38.907 }

  it('starts and ends exactly at its places', () => {
    const arc = curvedArc(tallinn, washington, 16)
    expect(arc).toHaveLength(17)
    expect(arc[0]).toEqual([tallinn.lon, tallinn.lat])
    expect(arc[16]).toEqual([washington.lon, washington.lat])
  })

  it('is curved: the middle is off the straight line', () => {
    const arc = curvedArc(tallinn, washington, 16)
    const [mx, my] = toMercator(arc[8]![0]!, arc[8]![1]!)
    const [ax, ay] = toMercator(tallinn.lon, tallinn.lat)
    const [bx, by] = toMercator(washington.lon, washington.lat)
    const chord = Math.hypot(bx - ax, by - ay)
    const distance = Math.abs((bx - ax) * (ay - my) - (ax - mx) * (by - ay)) / chord
    expect(distance / chord).toBeGreaterThan(0.05)
  })

  it('bows A→B and B→A to opposite sides', () => {
    const there = curvedArc(tallinn, washington, 8)[4]!
    const back = curvedArc(washington, tallinn, 8)[4]!
    expect(Math.abs(there[1]! - back[1]!)).toBeGreaterThan(1)
  })

  it('takes the short way across the antimeridian, with no jump', () => {
    const tokyo = { lon: 139.69, lat: 35.69 }
    const anchorage = { lon: -149.9, lat: 61.22 }
    const arc = curvedArc(tokyo, anchorage)
    for (let i = 1; i < arc.length; i++) expect(Math.abs(arc[i]![0]! - arc[i - 1]![0]!)).toBeLessThan(20)
    expect(arc.at(-1)![0]).toBeCloseTo(-149.9 + 360)
  })
})

describe('mercator', () => {
  it('round-trips', () => {
    const [x, y] = toMercator(24.754, 59.437)
    const [lon, lat] = fromMercator(x, y)
    expect(lon).toBeCloseTo(24.754, 6)
    expect(lat).toBeCloseTo(59.437, 6)
  })
})

describe('samePlace', () => {
  it('treats -180 and 180 as the same meridian', () => {
    expect(samePlace({ lon: -180, lat: 10 }, { lon: 180, lat: 10 })).toBe(true)
    expect(samePlace({ lon: 10, lat: 10 }, { lon: 11, lat: 10 })).toBe(false)
  })
})

describe('recency', () => {
  it('fades linearly to a floor', () => {
    expect(recencyOpacity(0, 1000)).toBe(0.95)
    expect(recencyOpacity(500, 1000, 0.15)).toBeCloseTo(0.55)
    expect(recencyOpacity(5000, 1000, 0.15)).toBe(0.15)
  })

  it('has an expression with the same end points', () => {
    expect(recencyOpacityExpression(10_000, 1000, 0.2)).toEqual([
      'interpolate',
      ['linear'],
      ['get', 't'],
      9000,
      0.2,
      10_000,
      0.95,
    ])
  })
})

import type { Position } from 'geojson'
import { describe, expect, it } from 'vitest'
import countries50m from 'world-atlas/countries-50m.json'
import {
  ALLIANCE_MEMBERS,
  ALLIANCE_PARTNERS,
  buildBasemap,
  cleanLines,
  countryGroup,
  labelPoint,
  ringArea,
  ringsOf,
  type Topology,
  unwrapPolygon,
  unwrapRing,
} from './basemap.ts'

const basemap = buildBasemap(countries50m as unknown as Topology)

const maxJump = (ring: readonly Position[]) => {
  let max = 0
  for (let i = 1; i < ring.length; i++) max = Math.max(max, Math.abs(ring[i]![0]! - ring[i - 1]![0]!))
  return max
}

describe('unwrapRing', () => {
  it('shifts longitudes so that consecutive points never jump across the antimeridian', () => {
    const ring = [
      [170, 60],
      [179, 61],
      [-179, 62],
      [-170, 60],
      [179, 59],
      [170, 60],
    ]
    const out = unwrapRing(ring)
    expect(out.map((p) => p[0])).toEqual([170, 179, 181, 190, 179, 170])
    expect(maxJump(out)).toBeLessThanOrEqual(180)
    expect(ring[2]).toEqual([-179, 62]) // input untouched
  })

  it('closes a ring that winds around a pole through the pole', () => {
    const coast = [
      [-180, -70],
      [-90, -72],
      [0, -69],
      [90, -71],
      [180, -70],
      [-180, -70],
    ]
    const [outer] = unwrapPolygon([coast])
    expect(outer).toBeDefined()
    expect(maxJump(outer!)).toBeLessThanOrEqual(180)
    expect(outer!.some((p) => p[1] === -90)).toBe(true)
    expect(Math.abs(ringArea(outer!))).toBeGreaterThan(1000)
  })
})

describe('the 50m basemap', () => {
  it('has no ring jumping more than 180° between consecutive points', () => {
    let rings = 0
    for (const country of basemap.countries.features) {
      for (const ring of ringsOf(country.geometry)) {
        rings++
        expect(maxJump(ring), country.properties.name).toBeLessThanOrEqual(180)
      }
    }
    expect(rings).toBeGreaterThan(1000)
    for (const collection of [basemap.borders, basemap.coastlines])
      for (const f of collection.features)
        for (const line of ringsOf(f.geometry)) expect(maxJump(line)).toBeLessThanOrEqual(180)
  })

  it('keeps every ring within one world copy or just past the antimeridian', () => {
    let min = Infinity
    let max = -Infinity
    for (const country of basemap.countries.features)
      for (const ring of ringsOf(country.geometry))
        for (const [x = 0] of ring) {
          min = Math.min(min, x)
          max = Math.max(max, x)
        }
    expect(min).toBeGreaterThanOrEqual(-180)
    expect(max).toBeLessThan(200)
  })

  it('draws Russia, Fiji and Antarctica without bands across the map', () => {
    const byName = (name: string) => basemap.countries.features.find((f) => f.properties.name === name)!
    for (const name of ['Russia', 'Fiji']) {
      for (const ring of ringsOf(byName(name).geometry)) {
        const xs = ring.map((p) => p[0]!)
        // no part spans (almost) the whole world
        expect(Math.max(...xs) - Math.min(...xs), name).toBeLessThan(200)
      }
    }
    const antarctica = ringsOf(byName('Antarctica').geometry)
    // the main landmass spans the whole width and reaches down to the pole
    expect(antarctica.some((ring) => ring.some((p) => p[1] === -90) && maxJump(ring) <= 180)).toBe(true)
  })

  it('shades the 32 members and the partners', () => {
    expect(Object.keys(ALLIANCE_MEMBERS)).toHaveLength(32)
    expect(countryGroup('233')).toBe('member')
    expect(countryGroup('804')).toBe('partner')
    expect(countryGroup('643')).toBe('other')
    expect(countryGroup(undefined)).toBe('other')
    const groups = new Map(basemap.countries.features.map((f) => [f.properties.name, f.properties.group]))
    expect(groups.get('Estonia')).toBe('member')
    expect(groups.get('United States')).toBe('member')
    expect(groups.get('Ukraine')).toBe('partner')
    expect(groups.get('Japan')).toBe('partner')
    expect(groups.get('Russia')).toBe('other')
    const members = new Set(
      basemap.countries.features
        .filter((f) => f.properties.key.split(':')[0]! in ALLIANCE_MEMBERS)
        .map((f) => f.properties.key),
    )
    expect(members.size).toBe(32)
    expect(Object.keys(ALLIANCE_PARTNERS).length).toBeGreaterThanOrEqual(12)
  })

  it('has one label per named country, inside it, with unique feature keys', () => {
    const keys = basemap.countries.features.map((f) => f.properties.key)
    expect(new Set(keys).size).toBe(keys.length)
    const labelKeys = basemap.labels.features.map((f) => f.properties.key)
    expect(new Set(labelKeys).size).toBe(labelKeys.length)
    expect(labelKeys.length).toBeGreaterThan(200)
    const norway = basemap.labels.features.find((f) => f.properties.name === 'Norway')!
    const [lon, lat] = norway.geometry.coordinates
    expect(lon).toBeGreaterThan(4)
    expect(lon).toBeLessThan(31)
    expect(lat).toBeGreaterThan(57)
    expect(lat).toBeLessThan(71.5)
    const russia = basemap.labels.features.find((f) => f.properties.name === 'Russia')!
    expect(russia.geometry.coordinates[0]).toBeGreaterThan(40)
    expect(russia.geometry.coordinates[0]).toBeLessThanOrEqual(180)
  })
})

describe('labelPoint', () => {
  it('finds a point inside a concave polygon, away from its edges', () => {
    // a U shape: the centroid of its box is outside it
    const u = [
      [
        [0, 0],
        [10, 0],
        [10, 10],
        [7, 10],
        [7, 3],
        [3, 3],
        [3, 10],
        [0, 10],
        [0, 0],
      ],
    ]
    const [x, y] = labelPoint(u)
    const insideBase = y! > 0 && y! < 3
    const insideArms = (x! > 0 && x! < 3) || (x! > 7 && x! < 10)
    expect(insideBase || insideArms).toBe(true)
  })
})

describe('cleanLines', () => {
  it('splits at antimeridian jumps and drops edges along the cut and the pole', () => {
    const lines = cleanLines([
      [
        [179, 60],
        [180, 61],
        [180, 65],
        [-179, 66],
        [-178, 67],
      ],
      [
        [10, -89.999],
        [20, -89.999],
      ],
    ])
    expect(lines).toEqual([
      [
        [179, 60],
        [180, 61],
      ],
      [
        [-179, 66],
        [-178, 67],
      ],
    ])
  })
})

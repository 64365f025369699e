/**
 * Arc geometry: a quadratic Bézier curve between two places, bowed to one side, computed in Web
 * Mercator so that it looks like the same gentle curve at any latitude, and taking the short way
 * across the antimeridian. Pure.
 */
import type { Position } from 'geojson'

export interface LonLat {
  lon: number
  lat: number
}

const MAX_LAT = 85.051129

/** Longitude/latitude to Web Mercator units (x, y in [0, 1] for the first world copy, y down). */
export function toMercator(lon: number, lat: number): [number, number] {
  const clamped = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat))
  const sin = Math.sin((clamped * Math.PI) / 180)
  return [(lon + 180) / 360, 0.5 - (0.25 * Math.log((1 + sin) / (1 - sin))) / Math.PI]
}

export function fromMercator(x: number, y: number): [number, number] {
  const lon = x * 360 - 180
  const lat = (360 / Math.PI) * Math.atan(Math.exp((180 - y * 360) * (Math.PI / 180))) - 90
  return [lon, lat]
}

/**
 * Points of a curved arc from `from` to `to` (inclusive), `segments` + 1 of them. `bend` is the
 * control point's offset from the chord's middle as a fraction of the chord's length (to the left
 * of the direction of travel), so arcs A→B and B→A bow to opposite sides and do not overlap.
 * Longitudes are continuous (never jump by 180° or more), so the arc may end beyond ±180.
 */
export function curvedArc(from: LonLat, to: LonLat, segments = 32, bend = 0.22): Position[] {
  let toLon = to.lon
  while (toLon - from.lon > 180) toLon -= 360
  while (toLon - from.lon < -180) toLon += 360
  const [ax, ay] = toMercator(from.lon, from.lat)
  const [bx, by] = toMercator(toLon, to.lat)
  const dx = bx - ax
  const dy = by - ay
  // left normal in screen space (y down): (dy, -dx)
  const cx = (ax + bx) / 2 + dy * bend
  const cy = (ay + by) / 2 - dx * bend
  const points: Position[] = []
  for (let i = 0; i <= segments; i++) {
    const t = i / segments
    const u = 1 - t
    const x = u * u * ax + 2 * u * t * cx + t * t * bx
    const y = u * u * ay + 2 * u * t * cy + t * t * by
    const [lon, lat] = fromMercator(x, Math.max(0, Math.min(1, y)))
    points.push([round(lon), round(lat)])
  }
  // exact endpoints
  points[0] = [from.lon, from.lat]
  points[segments] = [toLon, to.lat]
  return points
}

const round = (v: number): number => Math.round(v * 1e5) / 1e5

/** Whether two places are (nearly) the same, so that no arc is worth drawing between them. */
export function samePlace(a: LonLat, b: LonLat): boolean {
  const dLon = Math.abs(((((a.lon - b.lon) % 360) + 540) % 360) - 180)
  return Math.abs(a.lat - b.lat) < 1e-3 && dLon < 1e-3
}

/**
 * Opacity from recency: 0.95 for something that just happened, fading linearly to `floor` at
 * `fadeMs` old and staying there.
 */
export function recencyOpacity(ageMs: number, fadeMs: number, floor = 0.15): number {
  if (!(ageMs > 0)) return 0.95
  if (ageMs >= fadeMs) return floor
  return round(0.95 - (0.95 - floor) * (ageMs / fadeMs))
}

/**
 * The same fade as a style expression over a feature's `t` (epoch ms) property, for `now`:
 * rebuilt every few seconds, so opacity follows age without touching the source data.
 */
export function recencyOpacityExpression(now: number, fadeMs: number, floor = 0.15, max = 0.95): unknown[] {
  return ['interpolate', ['linear'], ['get', 't'], now - fadeMs, floor, now, max]
}

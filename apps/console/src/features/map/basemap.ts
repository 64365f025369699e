/**
 * The offline basemap: world-atlas TopoJSON (Natural Earth) turned into flat-map GeoJSON.
 *
 * World-atlas is drawn for a sphere: a few rings cross the antimeridian (Russia, Fiji) or wind
 * around a pole (Antarctica). On a flat map those paint bands across the world, so rings are
 * unwrapped (consecutive longitudes never jump by more than 180°) and polar rings are closed
 * through the pole. Pure: no DOM, no MapLibre.
 */
import type {
  Feature,
  FeatureCollection,
  Geometry,
  MultiLineString,
  MultiPolygon,
  Point,
  Polygon,
  Position,
} from 'geojson'
import { feature, mesh } from 'topojson-client'

/** The 32 alliance members, ISO 3166-1 numeric (world-atlas ids). */
export const ALLIANCE_MEMBERS: Readonly<Record<string, string>> = {
  '008': 'Albania',
  '056': 'Belgium',
  '100': 'Bulgaria',
  '124': 'Canada',
  '191': 'Croatia',
  '203': 'Czechia',
  '208': 'Denmark',
  '233': 'Estonia',
  '246': 'Finland',
  '250': 'France',
  '276': 'Germany',
  '300': 'Greece',
  '348': 'Hungary',
  '352': 'Iceland',
  '380': 'Italy',
  '428': 'Latvia',
  '440': 'Lithuania',
  '442': 'Luxembourg',
  '499': 'Montenegro',
  '528': 'Netherlands',
  '578': 'Norway',
  '616': 'Poland',
  '620': 'Portugal',
  '642': 'Romania',
  '703': 'Slovakia',
  '705': 'Slovenia',
  '724': 'Spain',
  '752': 'Sweden',
  '792': 'Türkiye',
  '807': 'North Macedonia',
  '826': 'United Kingdom',
  '840': 'United States',
}

/** Territories of members that world-atlas draws as their own shapes (shaded as members). */
export const MEMBER_TERRITORIES: Readonly<Record<string, string>> = {
  '304': 'Greenland (Denmark)',
  '234': 'Faroe Islands (Denmark)',
}

/** Partner nations (ISO 3166-1 numeric). */
export const ALLIANCE_PARTNERS: Readonly<Record<string, string>> = {
  '804': 'Ukraine',
  '268': 'Georgia',
  '498': 'Moldova',
  '070': 'Bosnia and Herzegovina',
  '040': 'Austria',
  '372': 'Ireland',
  '756': 'Switzerland',
  '470': 'Malta',
  '392': 'Japan',
  '410': 'South Korea',
  '036': 'Australia',
  '554': 'New Zealand',
}

/** Friendlier label text than Natural Earth's abbreviations, where it matters here. */
const NAME_OVERRIDES: Readonly<Record<string, string>> = {
  '840': 'United States',
  '792': 'Türkiye',
  '807': 'North Macedonia',
  '070': 'Bosnia and Herzegovina',
  '203': 'Czechia',
}

export type CountryGroup = 'member' | 'partner' | 'other'

export function countryGroup(id: string | undefined): CountryGroup {
  if (id === undefined) return 'other'
  if (id in ALLIANCE_MEMBERS || id in MEMBER_TERRITORIES) return 'member'
  if (id in ALLIANCE_PARTNERS) return 'partner'
  return 'other'
}

export interface CountryProps {
  /** Unique per feature (world-atlas leaves a few ids out and shares '036'). */
  key: string
  name: string
  group: CountryGroup
}

export interface LabelProps {
  key: string
  name: string
  group: CountryGroup
  /** Approximate area of the part labelled (deg² scaled by cos(lat)), for label priority. */
  area: number
}

export interface Basemap {
  countries: FeatureCollection<Polygon | MultiPolygon, CountryProps>
  /** Land borders between countries. */
  borders: FeatureCollection<MultiLineString>
  /** Coastlines (arcs used by one country only). */
  coastlines: FeatureCollection<MultiLineString>
  /** One point per country, for its label. */
  labels: FeatureCollection<Point, LabelProps>
}

/**
 * Unwrap a ring: shift longitudes by multiples of 360 so that consecutive points never jump by
 * more than 180°. The input is left alone (and returned as is when nothing jumps).
 */
export function unwrapRing(ring: readonly Position[]): Position[] {
  let jumps = false
  for (let i = 1; i < ring.length && !jumps; i++) jumps = Math.abs(ring[i]![0]! - ring[i - 1]![0]!) > 180
  // the usual case: nothing to unwrap, no copy
  if (!jumps) return ring as Position[]
  const out: Position[] = []
  let offset = 0
  let previous: number | undefined
  for (const point of ring) {
    const [lon = 0, lat = 0] = point
    if (previous !== undefined) {
      const delta = lon + offset - previous
      if (delta > 180) offset -= 360 * Math.round(delta / 360)
      else if (delta < -180) offset += 360 * Math.round(-delta / 360)
    }
    const x = lon + offset
    out.push([x, lat])
    previous = x
  }
  return out
}

/** Signed planar area (shoelace), in deg². */
export function ringArea(ring: readonly Position[]): number {
  let sum = 0
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[j]!
    const b = ring[i]!
    sum += (a[0]! - b[0]!) * (a[1]! + b[1]!)
  }
  return sum / 2
}

/**
 * A ring that, once unwrapped, ends a whole turn away from where it started winds around a pole
 * (Antarctica's coast): close it through the pole so that it encloses the polar cap.
 */
function closePolar(ring: Position[]): Position[] {
  const first = ring[0]
  const last = ring[ring.length - 1]
  if (!first || !last) return ring
  if (Math.abs(last[0]! - first[0]!) < 180) return ring
  const meanLat = ring.reduce((s, p) => s + p[1]!, 0) / ring.length
  const pole = meanLat < 0 ? -90 : 90
  // along the pole in steps of at most 90°, so that no edge spans more than 180°
  const along: Position[] = []
  const from = last[0]!
  const to = first[0]!
  const steps = Math.max(1, Math.ceil(Math.abs(to - from) / 90))
  for (let i = 0; i <= steps; i++) along.push([from + ((to - from) * i) / steps, pole])
  return [...ring, ...along, [first[0]!, first[1]!]]
}

const mid = (ring: readonly Position[]): number => {
  let min = Infinity
  let max = -Infinity
  for (const p of ring) {
    min = Math.min(min, p[0]!)
    max = Math.max(max, p[0]!)
  }
  return (min + max) / 2
}

/** Shift a ring by a multiple of 360 so that its middle longitude is nearest `target`. */
function shiftNear(ring: Position[], target: number): Position[] {
  const k = Math.round((target - mid(ring)) / 360)
  return k === 0 ? ring : ring.map(([x, y]) => [x! + 360 * k, y!])
}

/** Unwrap every ring of a polygon, drop degenerate ones, keep holes with their outer ring, and keep it west of 180 + ε. */
export function unwrapPolygon(rings: readonly (readonly Position[])[]): Position[][] {
  const unwrapped = rings.map((ring) => closePolar(unwrapRing(ring))).filter((ring) => Math.abs(ringArea(ring)) > 1e-9)
  const outer = unwrapped[0]
  if (!outer) return []
  let west = Infinity
  for (const p of outer) west = Math.min(west, p[0]!)
  // start the outer ring within [-180, 180): a ring far in another world copy is not drawn in this one
  const k =
    west < -180 - 1e-9 ? Math.ceil((-180 - west) / 360) : west >= 180 ? -Math.ceil((west - 180 + 1e-9) / 360) : 0
  const outerShifted = k === 0 ? outer : outer.map(([x, y]) => [x! + 360 * k, y!])
  const centre = mid(outerShifted)
  return [outerShifted, ...unwrapped.slice(1).map((hole) => shiftNear(hole, centre))]
}

/** Unwrap a Polygon or MultiPolygon geometry. */
export function unwrapGeometry(geometry: Polygon | MultiPolygon): Polygon | MultiPolygon {
  if (geometry.type === 'Polygon') return { type: 'Polygon', coordinates: unwrapPolygon(geometry.coordinates) }
  return {
    type: 'MultiPolygon',
    coordinates: geometry.coordinates.map(unwrapPolygon).filter((polygon) => polygon.length > 0),
  }
}

/**
 * Split lines where they jump across the antimeridian, and drop the artificial edges a sphere's
 * data has on a flat map (along the antimeridian cut, along the pole).
 */
export function cleanLines(lines: readonly (readonly Position[])[]): Position[][] {
  const out: Position[][] = []
  for (const line of lines) {
    let current: Position[] = []
    for (let i = 0; i < line.length; i++) {
      const p = line[i]!
      const q = line[i - 1]
      if (q) {
        const jump = Math.abs(p[0]! - q[0]!) > 180
        const alongCut = Math.abs(p[0]!) >= 179.999 && Math.abs(q[0]!) >= 179.999 && p[0] === q[0]
        const alongPole = Math.abs(p[1]!) >= 89.99 && Math.abs(q[1]!) >= 89.99
        if (jump || alongCut || alongPole) {
          if (current.length > 1) out.push(current)
          current = []
        }
      }
      current.push([p[0]!, p[1]!])
    }
    if (current.length > 1) out.push(current)
  }
  return out
}

/** Distance from a point to a polygon's outline (negative outside), planar. */
function signedDistance(x: number, y: number, polygon: readonly (readonly Position[])[]): number {
  let inside = false
  let best = Infinity
  for (const ring of polygon) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const a = ring[i]!
      const b = ring[j]!
      const ax = a[0]!
      const ay = a[1]!
      const bx = b[0]!
      const by = b[1]!
      if (ay > y !== by > y && x < ((bx - ax) * (y - ay)) / (by - ay) + ax) inside = !inside
      best = Math.min(best, segmentDistance(x, y, ax, ay, bx, by))
    }
  }
  return (inside ? 1 : -1) * Math.sqrt(best)
}

function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  let x = ax
  let y = ay
  const dx = bx - ax
  const dy = by - ay
  if (dx !== 0 || dy !== 0) {
    const t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)
    if (t > 1) {
      x = bx
      y = by
    } else if (t > 0) {
      x += dx * t
      y += dy * t
    }
  }
  return (px - x) ** 2 + (py - y) ** 2
}

/**
 * A point well inside a polygon (pole of inaccessibility, after Mapbox's polylabel): cells are
 * split while they could still hold a better point than the best found.
 */
export function labelPoint(polygon: readonly (readonly Position[])[]): Position {
  const outer = polygon[0] ?? []
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  for (const [x = 0, y = 0] of outer) {
    minX = Math.min(minX, x)
    minY = Math.min(minY, y)
    maxX = Math.max(maxX, x)
    maxY = Math.max(maxY, y)
  }
  const width = maxX - minX
  const height = maxY - minY
  if (Math.min(width, height) === 0 || !Number.isFinite(width + height)) return [minX, minY]
  // at most 16 × 16 initial cells, even for a long thin polygon
  const size = Math.max(Math.min(width, height), Math.max(width, height) / 16)
  const precision = Math.max(width, height) / 40
  interface Cell {
    x: number
    y: number
    h: number
    d: number
    max: number
  }
  const cell = (x: number, y: number, h: number): Cell => {
    const d = signedDistance(x, y, polygon)
    return { x, y, h, d, max: d + h * Math.SQRT2 }
  }
  const queue: Cell[] = []
  let h = size / 2
  for (let x = minX; x < maxX; x += size) for (let y = minY; y < maxY; y += size) queue.push(cell(x + h, y + h, h))
  let best = cell(minX + width / 2, minY + height / 2, 0)
  for (const c of queue) if (c.d > best.d) best = c
  let iterations = 0
  while (queue.length > 0 && iterations++ < 1000) {
    // take the most promising cell
    let index = 0
    for (let i = 1; i < queue.length; i++) if (queue[i]!.max > queue[index]!.max) index = i
    const c = queue.splice(index, 1)[0]!
    if (c.d > best.d) best = c
    if (c.max - best.d <= precision) continue
    h = c.h / 2
    queue.push(
      cell(c.x - h, c.y - h, h),
      cell(c.x + h, c.y - h, h),
      cell(c.x - h, c.y + h, h),
      cell(c.x + h, c.y + h, h),
    )
  }
  return [best.x, best.y]
}

const normaliseLon = (lon: number): number => ((((lon + 180) % 360) + 360) % 360) - 180

/** A TopoJSON topology, as topojson-client takes it. */
export type Topology = Parameters<typeof mesh>[0]

/** Turn world-atlas `countries-*.json` into the basemap's sources. */
export function buildBasemap(topology: Topology): Basemap {
  const object = topology.objects.countries
  if (!object) throw new Error('topology has no countries object')
  const collection = feature(topology, object) as unknown as FeatureCollection<
    Polygon | MultiPolygon | null,
    { name: string } | null
  >
  const countries: Feature<Polygon | MultiPolygon, CountryProps>[] = []
  const labels: Feature<Point, LabelProps>[] = []
  for (const country of collection.features) {
    if (!country.geometry) continue
    const id = country.id === undefined ? undefined : String(country.id)
    const name = (id && NAME_OVERRIDES[id]) || country.properties?.name || ''
    const key = `${id ?? 'x'}:${country.properties?.name ?? ''}`
    const group = countryGroup(id)
    const geometry = unwrapGeometry(country.geometry)
    countries.push({ type: 'Feature', id: key, properties: { key, name, group }, geometry })
    // label the largest part
    const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates
    let largest: Position[][] | undefined
    let largestArea = 0
    for (const polygon of polygons) {
      const outer = polygon[0]
      if (!outer) continue
      const area = Math.abs(ringArea(outer))
      if (area > largestArea) {
        largestArea = area
        largest = polygon
      }
    }
    if (!largest || !name) continue
    const [x = 0, y = 0] = labelPoint(largest)
    labels.push({
      type: 'Feature',
      id: key,
      properties: { key, name, group, area: largestArea * Math.cos((y * Math.PI) / 180) },
      geometry: { type: 'Point', coordinates: [normaliseLon(x), y] },
    })
  }
  const meshObject = object as Parameters<typeof mesh>[1]
  const borders = mesh(topology, meshObject, (a, b) => a !== b)
  const coastlines = mesh(topology, meshObject, (a, b) => a === b)
  const lines = (geometry: MultiLineString): FeatureCollection<MultiLineString> => ({
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        properties: {},
        geometry: { type: 'MultiLineString', coordinates: cleanLines(geometry.coordinates) },
      },
    ],
  })
  return {
    countries: { type: 'FeatureCollection', features: countries },
    borders: lines(borders),
    coastlines: lines(coastlines),
    labels: { type: 'FeatureCollection', features: labels },
  }
}

/** Every position of a geometry's rings or lines, for tests. */
export function ringsOf(geometry: Geometry): Position[][] {
  switch (geometry.type) {
    case 'Polygon':
    case 'MultiLineString':
      return geometry.coordinates
    case 'MultiPolygon':
      return geometry.coordinates.flat()
    case 'LineString':
      return [geometry.coordinates]
    default:
      return []
  }
}

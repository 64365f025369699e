/**
 * The map's style, built in code: no tile server, no glyphs URL, no sprite. Text is drawn by
 * MapLibre from a font loaded in the page (Noto Sans, @fontsource), icons are added at run time
 * (see icons.ts). Pure: no DOM.
 */
import type { Posture, Severity } from '@watchfloor/protocol'
import type { FeatureCollection } from 'geojson'
import type {
  ExpressionSpecification,
  FilterSpecification,
  GeoJSONSourceSpecification,
  LayerSpecification,
  StyleSpecification,
} from 'maplibre-gl'
import type { Basemap } from './basemap.ts'
import { FID, SLOT_OFFSETS } from './features.ts'

/** The CSS family @fontsource/noto-sans registers; MapLibre draws labels with it. */
export const FONT_FAMILY = 'Noto Sans'
export const TEXT_FONT = [FONT_FAMILY]

/** Same as the incident list's colours. */
import { SEVERITY_COLOURS } from '../../ui/theme.ts'

export { SEVERITY_COLOURS }
export const SEVERITY_SHAPES: Record<Severity, 'diamond' | 'triangle' | 'square' | 'circle'> = {
  critical: 'diamond',
  high: 'triangle',
  medium: 'square',
  low: 'circle',
}
/** Icon scale per severity: worse is bigger. */
export const SEVERITY_SIZE: Record<Severity, number> = { critical: 1, high: 0.88, medium: 0.76, low: 0.7 }

export const POSTURE_COLOURS: Record<Posture, string> = {
  normal: '#4cb782',
  elevated: '#d9b43b',
  degraded: '#ec7d3a',
  compromised: '#f0506e',
}
export const POSTURES: readonly Posture[] = ['normal', 'elevated', 'degraded', 'compromised']
/** Ring radius and width per posture: worse is bigger and bolder (not colour alone). */
export const POSTURE_RADIUS: Record<Posture, number> = { normal: 5, elevated: 6.5, degraded: 8, compromised: 9.5 }
export const POSTURE_STROKE: Record<Posture, number> = { normal: 1.5, elevated: 2, degraded: 2.5, compromised: 3.5 }

export const COUNTRY_COLOURS = {
  member: '#1f4470',
  partner: '#21414a',
  other: '#161d27',
} as const

export const OCEAN = '#07101a'
export const ATTACK_COLOUR = '#ff4d6a'
export const SHARING_COLOUR = '#3dd6c6'

/** How long arcs take to fade to their floor opacity. */
export const ARC_FADE_MS = 20 * 60_000

/** Source ids. */
export const SOURCES = {
  countries: 'countries',
  borders: 'borders',
  coastlines: 'coastlines',
  labels: 'country-labels',
  networks: 'networks',
  incidents: 'incidents',
  attacks: 'attack-arcs',
  sharing: 'sharing-arcs',
  selection: 'selection',
  /** Alarmed incidents (features/alarm), unclustered: never hidden in a cluster. */
  alarmed: 'alarmed-incidents',
} as const

/** Layer ids (tests query these). */
export const LAYERS = {
  networks: 'networks',
  incidents: 'incidents',
  clusters: 'incident-clusters',
  clusterCount: 'incident-cluster-count',
  attacks: 'attack-arcs',
  sharing: 'sharing-arcs',
  selection: 'incident-selected',
  alarmed: 'incident-alarmed',
  countryLabels: 'country-labels',
} as const

/** Which layers each toggle shows or hides. */
export const TOGGLED_LAYERS = {
  networks: [LAYERS.networks],
  incidents: [LAYERS.incidents, LAYERS.clusters, LAYERS.clusterCount, LAYERS.selection, LAYERS.alarmed],
  attacks: [LAYERS.attacks],
  sharing: [LAYERS.sharing],
} as const

export const iconName = (severity: Severity): string => `incident-${severity}`
export const SELECTION_ICON = 'incident-selected'

/** `icon-offset` from a feature's `slot` (incidents of one network fan out around it). */
export const slotOffset = [
  'match',
  ['get', 'slot'],
  ...SLOT_OFFSETS.flatMap((offset, slot) => [slot, ['literal', offset]]),
  ['literal', [0, 0]],
] as unknown as ExpressionSpecification

const match = <K extends string>(property: string, values: Record<K, string | number>, fallback: string | number) =>
  ['match', ['get', property], ...Object.entries(values).flat(), fallback] as unknown as ExpressionSpecification

const empty = (): FeatureCollection => ({ type: 'FeatureCollection', features: [] })

const dynamicSource = (extra: Partial<GeoJSONSourceSpecification> = {}): GeoJSONSourceSpecification => ({
  type: 'geojson',
  data: empty(),
  promoteId: FID,
  ...extra,
})

/** A zoom-scaled value: `base` at zoom 3, more when zoomed in. */
const zoomed = (value: ExpressionSpecification | number, low = 0.8, high = 1.6): ExpressionSpecification => [
  'interpolate',
  ['linear'],
  ['zoom'],
  1,
  ['*', value, low],
  3,
  value,
  8,
  ['*', value, high],
]

export const severityColour = match('severity', SEVERITY_COLOURS, '#888888')
const incidentIconSize = zoomed(match('severity', SEVERITY_SIZE, 0.7) as ExpressionSpecification, 0.85, 1.25)

/** Countries smaller than this (deg² × cos(lat)) are labelled from zoom 4 on. */
const SMALL_COUNTRY = 0.5

function countryLabels(id: string, filter: FilterSpecification, minzoom: number): LayerSpecification {
  return {
    id,
    type: 'symbol',
    source: SOURCES.labels,
    minzoom,
    filter,
    layout: {
      'text-field': ['get', 'name'],
      'text-font': TEXT_FONT,
      'text-size': ['interpolate', ['linear'], ['zoom'], 1, 9, 4, 12, 8, 15],
      'text-max-width': 7,
      'text-padding': 3,
      'text-letter-spacing': 0.02,
      'symbol-sort-key': ['-', 0, ['get', 'area']],
    },
    paint: {
      'text-color': ['match', ['get', 'group'], 'other', '#6d7f92', '#a9bdd2'],
      'text-halo-color': OCEAN,
      'text-halo-width': 1.2,
    },
  }
}

/**
 * The basemap: sea, land, coasts, borders and country names, in a map of its own under the live
 * layers (see controller.ts). It changes only when the camera moves.
 */
export function buildBasemapStyle(basemap: Basemap): StyleSpecification {
  const layers: LayerSpecification[] = [
    { id: 'ocean', type: 'background', paint: { 'background-color': OCEAN } },
    {
      id: 'countries',
      type: 'fill',
      source: SOURCES.countries,
      paint: { 'fill-color': match('group', COUNTRY_COLOURS, COUNTRY_COLOURS.other), 'fill-antialias': false },
    },
    {
      id: 'coastlines',
      type: 'line',
      source: SOURCES.coastlines,
      paint: { 'line-color': '#3d5a78', 'line-width': ['interpolate', ['linear'], ['zoom'], 1, 0.5, 6, 1.2] },
    },
    {
      id: 'borders',
      type: 'line',
      source: SOURCES.borders,
      paint: {
        'line-color': '#587493',
        'line-opacity': 0.75,
        'line-width': ['interpolate', ['linear'], ['zoom'], 1, 0.4, 6, 1],
      },
    },
    // small countries only once zoomed in (placed after the big ones: this layer is below)
    countryLabels(`${LAYERS.countryLabels}-small`, ['<', ['get', 'area'], SMALL_COUNTRY], 4),
    countryLabels(LAYERS.countryLabels, ['>=', ['get', 'area'], SMALL_COUNTRY], 0),
  ]
  return {
    version: 8,
    name: 'Watchfloor offline basemap',
    // no glyphs, no sprite: nothing is fetched
    sources: {
      [SOURCES.countries]: { type: 'geojson', data: basemap.countries, tolerance: 0.3 },
      [SOURCES.borders]: { type: 'geojson', data: basemap.borders, tolerance: 0.3 },
      [SOURCES.coastlines]: { type: 'geojson', data: basemap.coastlines, tolerance: 0.3 },
      [SOURCES.labels]: { type: 'geojson', data: basemap.labels },
    },
    layers,
  }
}

/**
 * The live layers: networks, incidents (clustered), attack paths and sharing flows, drawn over
 * the basemap on a transparent canvas.
 */
export function buildLiveStyle(visible: Record<keyof typeof TOGGLED_LAYERS, boolean>): StyleSpecification {
  const visibility = (toggle: keyof typeof TOGGLED_LAYERS) =>
    ({ visibility: visible[toggle] ? 'visible' : 'none' }) as const
  const sevRankColour: ExpressionSpecification = [
    'match',
    ['get', 'maxSev'],
    4,
    SEVERITY_COLOURS.critical,
    3,
    SEVERITY_COLOURS.high,
    2,
    SEVERITY_COLOURS.medium,
    SEVERITY_COLOURS.low,
  ]
  const layers: LayerSpecification[] = [
    {
      id: LAYERS.sharing,
      type: 'line',
      source: SOURCES.sharing,
      layout: { 'line-cap': 'round', ...visibility('sharing') },
      paint: {
        'line-color': SHARING_COLOUR,
        'line-width': ['interpolate', ['linear'], ['zoom'], 1, 1, 6, 2.2],
        'line-dasharray': [2, 1.5],
        'line-opacity': 0.6,
      },
    },
    {
      id: LAYERS.attacks,
      type: 'line',
      source: SOURCES.attacks,
      layout: { 'line-cap': 'round', ...visibility('attacks') },
      paint: {
        'line-width': ['interpolate', ['linear'], ['zoom'], 1, 1.8, 6, 4],
        // a plain colour: a line-gradient costs a ramp per arc on the main thread at every update,
        // too much with thousands of arcs; the target is marked by the incident itself
        'line-color': ATTACK_COLOUR,
        'line-opacity': 0.8,
      },
    },
    {
      id: LAYERS.networks,
      type: 'circle',
      source: SOURCES.networks,
      layout: { 'circle-sort-key': ['get', 'postureRank'], ...visibility('networks') },
      paint: {
        'circle-radius': zoomed(match('posture', POSTURE_RADIUS, 5) as ExpressionSpecification),
        'circle-color': '#0b1520',
        'circle-opacity': 0.7,
        'circle-stroke-color': match('posture', POSTURE_COLOURS, '#888888'),
        'circle-stroke-width': match('posture', POSTURE_STROKE, 1.5),
      },
    },
    {
      id: LAYERS.clusters,
      type: 'circle',
      source: SOURCES.incidents,
      filter: ['has', 'point_count'],
      layout: visibility('incidents'),
      paint: {
        'circle-color': sevRankColour,
        'circle-opacity': 0.92,
        'circle-radius': ['step', ['get', 'point_count'], 11, 5, 13, 20, 16, 100, 20],
        'circle-stroke-color': '#0b0f14',
        'circle-stroke-width': 2,
      },
    },
    {
      id: LAYERS.clusterCount,
      type: 'symbol',
      source: SOURCES.incidents,
      filter: ['has', 'point_count'],
      layout: {
        'text-field': ['get', 'point_count_abbreviated'],
        'text-font': TEXT_FONT,
        'text-size': 12,
        'text-allow-overlap': true,
        'text-ignore-placement': true,
        ...visibility('incidents'),
      },
      paint: { 'text-color': '#0b0f14' },
    },
    {
      id: LAYERS.selection,
      type: 'symbol',
      source: SOURCES.selection,
      layout: {
        'icon-image': SELECTION_ICON,
        'icon-size': incidentIconSize,
        'icon-offset': slotOffset,
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
        ...visibility('incidents'),
      },
    },
    {
      id: LAYERS.incidents,
      type: 'symbol',
      source: SOURCES.incidents,
      filter: ['!', ['has', 'point_count']],
      layout: {
        'icon-image': ['concat', 'incident-', ['get', 'severity']],
        'icon-size': incidentIconSize,
        'icon-offset': slotOffset,
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
        'symbol-sort-key': ['get', 'sevRank'],
        ...visibility('incidents'),
      },
    },
    {
      // alarmed incidents over everything, even where their source clusters them (features/alarm)
      id: LAYERS.alarmed,
      type: 'symbol',
      source: SOURCES.alarmed,
      layout: {
        'icon-image': ['concat', 'incident-', ['get', 'severity']],
        'icon-size': incidentIconSize,
        'icon-offset': slotOffset,
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
        ...visibility('incidents'),
      },
    },
  ]
  return {
    version: 8,
    name: 'Watchfloor live layers',
    // no glyphs, no sprite: nothing is fetched
    sources: {
      [SOURCES.networks]: dynamicSource(),
      [SOURCES.incidents]: dynamicSource({
        cluster: true,
        clusterRadius: 36,
        clusterMaxZoom: 7,
        clusterProperties: { maxSev: ['max', ['get', 'sevRank']] },
      }),
      [SOURCES.attacks]: dynamicSource(),
      [SOURCES.sharing]: dynamicSource(),
      [SOURCES.selection]: { type: 'geojson', data: empty() },
      [SOURCES.alarmed]: { type: 'geojson', data: empty() },
    },
    layers,
  }
}

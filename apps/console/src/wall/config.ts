/**
 * What a wall shows and how it behaves: defaults, then the named preset, then the link's query
 * parameters (unless a display token locks the wall to its preset, when the link cannot widen it).
 */
import { isTimeZone, WALL_PANELS, type WallPanel, type WallPreset } from '@watchfloor/protocol'
import { COUNT_HOURS } from '../data/activity.ts'
import { DEFAULT_VIEW, EMPTY_FILTERS, type Filters, type Layers, type MapView, parseView } from '../view/view.ts'

export interface WallConfig {
  preset: string
  title: string
  panels: WallPanel[]
  rotateSeconds: number
  pinSeconds: number
  tickerHours: number
  region: MapView
  filters: Filters
  layers: Layers
  /** A second clock next to UTC, or null. */
  timeZone: string | null
  staleMinutes: number
  silentMinutes: number
  heartbeatSeconds: number
  retentionHours: number
}

export const DEFAULT_WALL: WallConfig = {
  preset: 'overview',
  title: 'Allied networks',
  panels: [...WALL_PANELS],
  rotateSeconds: 20,
  pinSeconds: 300,
  tickerHours: 6,
  region: { lng: 14, lat: 52, zoom: 3.1 },
  filters: EMPTY_FILTERS,
  layers: DEFAULT_VIEW.layers,
  timeZone: null,
  staleMinutes: 60,
  silentMinutes: 15,
  heartbeatSeconds: 15,
  retentionHours: 6,
}

/** The preset named in a wall link (`?preset=`), or the default one. */
export function presetName(search: string): string {
  const name = new URLSearchParams(search).get('preset')?.trim()
  return name && /^[a-z0-9][a-z0-9-]{0,62}$/.test(name) ? name : DEFAULT_WALL.preset
}

function applyPreset(base: WallConfig, preset: WallPreset): WallConfig {
  const f = preset.filters
  return {
    ...base,
    preset: preset.name,
    title: preset.title ?? base.title,
    panels: preset.panels ?? base.panels,
    rotateSeconds: preset.rotateSeconds ?? base.rotateSeconds,
    pinSeconds: preset.pinSeconds ?? base.pinSeconds,
    tickerHours: Math.min(preset.tickerHours ?? base.tickerHours, COUNT_HOURS),
    region: preset.region ?? base.region,
    filters: f
      ? {
          severities: f.severities ?? [],
          statuses: f.statuses ?? [],
          categories: f.categories ?? [],
          organisations: f.organisations ?? [],
          tlps: f.tlps ?? [],
          text: f.text ?? '',
        }
      : base.filters,
    timeZone: preset.timeZone ?? base.timeZone,
    staleMinutes: preset.staleMinutes ?? base.staleMinutes,
    silentMinutes: preset.silentMinutes ?? base.silentMinutes,
    heartbeatSeconds: preset.heartbeatSeconds ?? base.heartbeatSeconds,
    retentionHours: preset.retentionHours ?? base.retentionHours,
  }
}

function number(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = q.get(name)
  if (raw === null || raw.trim() === '') return undefined
  const value = Number(raw)
  return Number.isFinite(value) && value >= min && value <= max ? value : undefined
}

/**
 * The wall's configuration. `search` is the link's query string; `locked` is true when a display
 * token limits this wall to its preset (the query string is then ignored).
 */
export function wallConfig(search: string, preset: WallPreset | null, locked = false): WallConfig {
  const base = preset ? applyPreset(DEFAULT_WALL, preset) : DEFAULT_WALL
  if (locked) return base
  const q = new URLSearchParams(search)
  const view = parseView(search)
  const panels = q
    .get('panels')
    ?.split(',')
    .map((p) => p.trim())
    .filter((p): p is WallPanel => (WALL_PANELS as readonly string[]).includes(p))
  const zone = q.get('tz')?.trim()
  const hasFilter = ['sev', 'status', 'cat', 'org', 'tlp', 'q'].some((name) => q.has(name))
  return {
    ...base,
    title: q.get('title')?.trim().slice(0, 120) || base.title,
    panels: panels && panels.length > 0 ? panels : base.panels,
    rotateSeconds: number(q, 'rotate', 3, 3600) ?? base.rotateSeconds,
    pinSeconds: number(q, 'pin', 10, 86_400) ?? base.pinSeconds,
    // no more than the density strip's counts are kept for
    tickerHours: number(q, 'hours', 0.25, COUNT_HOURS) ?? base.tickerHours,
    region: q.has('map') ? view.map : base.region,
    filters: hasFilter ? view.filters : base.filters,
    layers: q.has('layers') ? view.layers : base.layers,
    timeZone: zone && isTimeZone(zone) ? zone : base.timeZone,
    staleMinutes: number(q, 'stale', 1, 10_080) ?? base.staleMinutes,
    silentMinutes: number(q, 'silent', 1, 10_080) ?? base.silentMinutes,
    heartbeatSeconds: number(q, 'heartbeat', 2, 600) ?? base.heartbeatSeconds,
    retentionHours: number(q, 'retention', 1, 168) ?? base.retentionHours,
  }
}

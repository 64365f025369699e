import {
  IncidentStatus,
  type IncidentStatus as IncidentStatusT,
  Severity,
  type Severity as SeverityT,
  TLP_LEVELS,
  type Tlp,
} from '@watchfloor/protocol'
import { parseViewAs, VIEW_AS_PARAM, type ViewAs, viewAsValue } from '../data/viewAs.ts'

/** What narrows map, timeline and lists together. An empty list means "any". */
export interface Filters {
  severities: SeverityT[]
  /** Empty: open incidents (every status but closed). */
  statuses: IncidentStatusT[]
  categories: string[]
  /** Organisation ids or nation codes: the reporter or an affected network's. */
  organisations: string[]
  tlps: Tlp[]
  text: string
}

/** A brushed time range, epoch ms, inclusive. */
export interface TimeRange {
  from: number
  to: number
}

export interface MapView {
  lng: number
  lat: number
  zoom: number
}

export const LAYER_NAMES = ['networks', 'incidents', 'attacks', 'sharing'] as const
export type LayerName = (typeof LAYER_NAMES)[number]
export type Layers = Record<LayerName, boolean>

export const SORTS = ['severity', 'recency', 'status', 'networks', 'observations', 'tlp'] as const
export type IncidentSort = (typeof SORTS)[number]

export type Lanes = 'network' | 'incident'

/** How the timeline draws observations: folded into runs (a band per lane), or each its own tick. */
export type ObservationMode = 'runs' | 'each'

export const ACK_FILTERS = ['any', 'acknowledged', 'unacknowledged'] as const
export type AckFilter = (typeof ACK_FILTERS)[number]
export const ASSIGNED_FILTERS = ['anyone', 'me', 'team'] as const
export type AssignedFilter = (typeof ASSIGNED_FILTERS)[number]

/** The incident list's own filters (features/lists/listFilter.ts): `?ack=acknowledged&assigned=team`. */
export interface ListFilter {
  ack: AckFilter
  assigned: AssignedFilter
}

export const ANY_LIST_FILTER: ListFilter = { ack: 'any', assigned: 'anyone' }

export const REPLAY_CLOCKS = ['recorded', 'occurred'] as const
export type ReplayClockName = (typeof REPLAY_CLOCKS)[number]

/** A replay on screen (features/replay): the window, the playhead, the clock and the speed. */
export interface ReplayView {
  clock: ReplayClockName
  /** The window, epoch ms: from <= at <= to. */
  from: number
  to: number
  /** The playhead, epoch ms. */
  at: number
  /** Replay milliseconds per real millisecond. */
  speed: number
  /** The incident whose window this is, if any. */
  incidentId: string | null
}

export const DEFAULT_REPLAY_SPEED = 60

/** Everything a link must reproduce of what someone sees. */
export interface View {
  filters: Filters
  range: TimeRange | null
  selection: string | null
  map: MapView
  layers: Layers
  lanes: Lanes
  /** The timeline's observations: `?obs=each` shows each one, else runs. */
  observations: ObservationMode
  sort: IncidentSort
  /** The incident list's own filters (not the map's nor the timeline's). */
  list: ListFilter
  /** Replay mode (null: live). */
  replay: ReplayView | null
  /** The incident whose after-action report is open (null: none). */
  report: string | null
  /**
   * The audience the picture is viewed as (null: myself): `?viewAs=organisation:cert-lv`. Written
   * from what the server agreed to (features/viewas); a link's is asked for at sign-in (data/session.ts).
   */
  viewAs: ViewAs | null
}

export const EMPTY_FILTERS: Filters = {
  severities: [],
  statuses: [],
  categories: [],
  organisations: [],
  tlps: [],
  text: '',
}

export const DEFAULT_MAP: MapView = { lng: 15, lat: 50, zoom: 2.6 }

export const DEFAULT_VIEW: View = {
  filters: EMPTY_FILTERS,
  range: null,
  selection: null,
  map: DEFAULT_MAP,
  layers: { networks: true, incidents: true, attacks: true, sharing: true },
  lanes: 'network',
  observations: 'runs',
  sort: 'severity',
  list: ANY_LIST_FILTER,
  replay: null,
  report: null,
  viewAs: null,
}

const list = (raw: string | null): string[] =>
  raw
    ? raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : []

function oneOf<T extends string>(values: readonly T[], raw: string[]): T[] {
  return raw.filter((v): v is T => (values as readonly string[]).includes(v))
}

function time(raw: string | null): number | null {
  if (!raw) return null
  const ms = Date.parse(raw)
  return Number.isNaN(ms) ? null : ms
}

/** Read a view from a query string; anything missing or malformed falls back to the default. */
export function parseView(search: string): View {
  const q = new URLSearchParams(search)
  const filters: Filters = {
    severities: oneOf(Severity.options, list(q.get('sev'))),
    statuses: oneOf(IncidentStatus.options, list(q.get('status'))),
    categories: list(q.get('cat')),
    organisations: list(q.get('org')),
    tlps: oneOf(TLP_LEVELS, list(q.get('tlp'))),
    text: q.get('q') ?? '',
  }
  const from = time(q.get('from'))
  const to = time(q.get('to'))
  const [lng, lat, zoom] = list(q.get('map')).map(Number)
  const map =
    lng !== undefined &&
    lat !== undefined &&
    zoom !== undefined &&
    Math.abs(lng) <= 180 &&
    Math.abs(lat) <= 85 &&
    zoom >= 0 &&
    zoom <= 22
      ? { lng, lat, zoom }
      : DEFAULT_MAP
  const layerParam = q.get('layers')
  const shown = layerParam === null ? [...LAYER_NAMES] : oneOf(LAYER_NAMES, list(layerParam))
  const layers = Object.fromEntries(LAYER_NAMES.map((name) => [name, shown.includes(name)])) as Layers
  const sort = oneOf(SORTS, list(q.get('sort')))[0] ?? DEFAULT_VIEW.sort
  return {
    filters,
    replay: parseReplay(q),
    report: q.get('report') || null,
    range: from !== null && to !== null && from <= to ? { from, to } : null,
    selection: q.get('sel') || null,
    map,
    layers,
    lanes: q.get('lanes') === 'incident' ? 'incident' : 'network',
    observations: q.get('obs') === 'each' ? 'each' : 'runs',
    sort,
    list: {
      ack: oneOf(ACK_FILTERS, list(q.get('ack')))[0] ?? ANY_LIST_FILTER.ack,
      assigned: oneOf(ASSIGNED_FILTERS, list(q.get('assigned')))[0] ?? ANY_LIST_FILTER.assigned,
    },
    viewAs: parseViewAs(q.get(VIEW_AS_PARAM)),
  }
}

/** `mode=replay&clock=occurred&window=<from>/<to>&at=<iso>&speed=60&incident=<id>`; null when absent or malformed. */
function parseReplay(q: URLSearchParams): ReplayView | null {
  if (q.get('mode') !== 'replay') return null
  const [rawFrom, rawTo] = (q.get('window') ?? '').split('/')
  const from = time(rawFrom ?? null)
  const to = time(rawTo ?? null)
  if (from === null || to === null || to < from) return null
  const at = time(q.get('at'))
  const speed = Number(q.get('speed'))
  const clock = oneOf(REPLAY_CLOCKS, [q.get('clock') ?? ''])[0] ?? 'recorded'
  return {
    clock,
    from,
    to,
    at: at === null ? from : Math.min(to, Math.max(from, at)),
    speed: Number.isFinite(speed) && speed > 0 && speed <= 1_000_000 ? speed : DEFAULT_REPLAY_SPEED,
    incidentId: q.get('incident') || null,
  }
}

/** Write a view as a query string (without '?'); defaults are left out so links stay short. */
export function serializeView(view: View): string {
  const q = new URLSearchParams()
  // first, so a link says at once whose picture it is
  if (view.viewAs) q.set(VIEW_AS_PARAM, viewAsValue(view.viewAs))
  const { filters } = view
  if (filters.severities.length) q.set('sev', filters.severities.join(','))
  if (filters.statuses.length) q.set('status', filters.statuses.join(','))
  if (filters.categories.length) q.set('cat', filters.categories.join(','))
  if (filters.organisations.length) q.set('org', filters.organisations.join(','))
  if (filters.tlps.length) q.set('tlp', filters.tlps.join(','))
  if (filters.text) q.set('q', filters.text)
  if (view.range) {
    q.set('from', new Date(view.range.from).toISOString())
    q.set('to', new Date(view.range.to).toISOString())
  }
  if (view.selection) q.set('sel', view.selection)
  const { lng, lat, zoom } = view.map
  if (lng !== DEFAULT_MAP.lng || lat !== DEFAULT_MAP.lat || zoom !== DEFAULT_MAP.zoom)
    q.set('map', `${lng.toFixed(4)},${lat.toFixed(4)},${zoom.toFixed(2)}`)
  const shown = LAYER_NAMES.filter((name) => view.layers[name])
  if (shown.length !== LAYER_NAMES.length) q.set('layers', shown.join(','))
  if (view.lanes !== 'network') q.set('lanes', view.lanes)
  if (view.observations !== DEFAULT_VIEW.observations) q.set('obs', view.observations)
  if (view.sort !== DEFAULT_VIEW.sort) q.set('sort', view.sort)
  if (view.list.ack !== ANY_LIST_FILTER.ack) q.set('ack', view.list.ack)
  if (view.list.assigned !== ANY_LIST_FILTER.assigned) q.set('assigned', view.list.assigned)
  const { replay } = view
  if (replay) {
    q.set('mode', 'replay')
    q.set('clock', replay.clock)
    q.set('window', `${new Date(replay.from).toISOString()}/${new Date(replay.to).toISOString()}`)
    q.set('at', new Date(replay.at).toISOString())
    if (replay.speed !== DEFAULT_REPLAY_SPEED) q.set('speed', String(replay.speed))
    if (replay.incidentId) q.set('incident', replay.incidentId)
  }
  if (view.report) q.set('report', view.report)
  // `viewAs=organisation:cert-lv` reads better than `organisation%3Acert-lv` (a colon is fine in a query)
  return q.toString().replace(/^viewAs=(organisation|community)%3A/, `${VIEW_AS_PARAM}=$1:`)
}

export function hasFilters(filters: Filters): boolean {
  return (
    filters.severities.length > 0 ||
    filters.statuses.length > 0 ||
    filters.categories.length > 0 ||
    filters.organisations.length > 0 ||
    filters.tlps.length > 0 ||
    filters.text.trim() !== ''
  )
}

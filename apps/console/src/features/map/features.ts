/**
 * State -> GeoJSON features for the live map, and the diffs between two feature sets that feed
 * GeoJSONSource.updateData. Pure: no DOM, no MapLibre at run time.
 *
 * Change detection is by object identity: core `fold` copies an entity only when it changes,
 * so an unchanged incident, network or advisory keeps its features (the same objects), and only
 * features whose object changed are compared and sent.
 */
import { type AdvisoryState, type IncidentState, type NetworkState, severityRank } from '@watchfloor/core'
import type { Location, Posture, Severity, Tlp } from '@watchfloor/protocol'
import type { Feature, LineString, Point } from 'geojson'
import type { GeoJSONFeatureDiff, GeoJSONSourceDiff } from 'maplibre-gl'
import { curvedArc, samePlace } from './arcs.ts'

/** The feature id property every dynamic source promotes (`promoteId: 'fid'`). */
export const FID = 'fid'

/**
 * An incident feature's `sevRank`: core's severity rank + 1 (1 low .. 4 critical), so a cluster's
 * `max` of it is never confused with 0, no incident.
 */
export const featureSeverityRank = (severity: Severity): number => severityRank(severity) + 1
export const POSTURE_RANK: Record<Posture, number> = { normal: 0, elevated: 1, degraded: 2, compromised: 3 }

export interface IncidentProps {
  fid: string
  incidentId: string
  title: string
  severity: Severity
  /** 1 (low) .. 4 (critical), for sorting and cluster colour. */
  sevRank: number
  status: string
  tlp: Tlp
  /** The network the marker stands at. */
  networkId: string
  /** Where around the network the marker sits once clusters break up (index into SLOT_OFFSETS). */
  slot: number
}

export interface NetworkProps {
  fid: string
  networkId: string
  name: string
  posture: Posture
  postureRank: number
  organisation: string
  nation: string
}

export interface ArcProps {
  fid: string
  kind: 'attack' | 'sharing'
  /** Attack arcs: the incident; sharing arcs: the advisory's incident, or ''. */
  incidentId: string
  advisoryId: string
  severity: Severity | ''
  tlp: Tlp
  /** Epoch ms of what the arc shows (incident update, advisory publication), for the fade. */
  t: number
}

export type IncidentFeature = Feature<Point, IncidentProps>
export type NetworkFeature = Feature<Point, NetworkProps>
export type ArcFeature = Feature<LineString, ArcProps>
export type AnyFeature = IncidentFeature | NetworkFeature | ArcFeature

/** Features keyed by their `fid`. */
export type FeatureMap<F extends AnyFeature = AnyFeature> = ReadonlyMap<string, F>

const time = (iso: string): number => {
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? 0 : ms
}

/**
 * Incidents of one network share its location; past the zoom where clusters break up they fan
 * out around it in pixel space (`icon-offset`): slot 0 (the worst) sits on the network, then
 * rings of 6, 12 and 18 slots. Offsets are in icon units (MapLibre multiplies by icon-size).
 */
export const SLOT_SPACING = 22
export const SLOT_OFFSETS: ReadonlyArray<readonly [number, number]> = (() => {
  const slots: Array<[number, number]> = [[0, 0]]
  for (let ring = 1; ring <= 3; ring++) {
    const count = 6 * ring
    for (let i = 0; i < count; i++) {
      const angle = (2 * Math.PI * i) / count - Math.PI / 2
      slots.push([
        Math.round(SLOT_SPACING * ring * Math.cos(angle) * 10) / 10,
        Math.round(SLOT_SPACING * ring * Math.sin(angle) * 10) / 10,
      ])
    }
  }
  return slots
})()

/**
 * Each incident's slot around its network: worst severity first, then oldest, then by id, so a
 * slot only moves when an incident of the same network comes, goes or changes severity.
 */
export function assignSlots(
  incidents: Iterable<IncidentState>,
  networks: ReadonlyMap<string, NetworkState>,
): Map<string, number> {
  const groups = new Map<string, IncidentState[]>()
  for (const incident of incidents) {
    const network = anchorNetwork(incident, networks)
    if (!network) continue
    const group = groups.get(network.networkId)
    if (group) group.push(incident)
    else groups.set(network.networkId, [incident])
  }
  const slots = new Map<string, number>()
  for (const group of groups.values()) fillSlots(group, slots)
  return slots
}

/** The order of incidents around one network: worst first, then oldest, then by id. */
function compareSlots(a: IncidentState, b: IncidentState): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    a.reportedAt.localeCompare(b.reportedAt) ||
    a.incidentId.localeCompare(b.incidentId)
  )
}

/** Sort one network's incidents and write their slots. */
function fillSlots(group: IncidentState[], slots: Map<string, number>): void {
  const last = SLOT_OFFSETS.length - 1
  group.sort(compareSlots)
  group.forEach((incident, i) => {
    slots.set(incident.incidentId, Math.min(i, last))
  })
}

/** What a slot depends on: the network an incident stands at and its place in that network's order. */
interface Placed {
  incident: IncidentState
  network: string
  /** The sync that last saw it (older: it left the list). */
  seen: number
}

/**
 * `assignSlots` kept up to date from one call to the next: a network's incidents are sorted
 * again only when one of them arrived, left, moved network or changed severity. Observations,
 * nearly every change under load, leave the order (so every slot) as it was. The map it returns
 * is updated in place and equals what `assignSlots` returns for the same arguments.
 */
export class SlotAssigner {
  private readonly placed = new Map<string, Placed>()
  private readonly slots = new Map<string, number>()
  private generation = 0
  private networks: ReadonlyMap<string, NetworkState> | undefined

  assign(incidents: Iterable<IncidentState>, networks: ReadonlyMap<string, NetworkState>): ReadonlyMap<string, number> {
    const seen = ++this.generation
    const dirty = new Set<string>()
    const sameNetworks = networks === this.networks
    this.networks = networks
    for (const incident of incidents) {
      const before = this.placed.get(incident.incidentId)
      // the same incident object among the same networks stands where it stood
      if (before?.incident === incident && sameNetworks) {
        before.seen = seen
        continue
      }
      const network = anchorNetwork(incident, networks)?.networkId
      if (network === undefined) {
        if (before) {
          dirty.add(before.network)
          this.placed.delete(incident.incidentId)
          this.slots.delete(incident.incidentId)
        }
        continue
      }
      if (!before) {
        this.placed.set(incident.incidentId, { incident, network, seen })
        dirty.add(network)
        continue
      }
      const previous = before.incident
      if (
        before.network !== network ||
        previous.severity !== incident.severity ||
        previous.reportedAt !== incident.reportedAt
      ) {
        dirty.add(before.network)
        dirty.add(network)
      }
      before.incident = incident
      before.network = network
      before.seen = seen
    }
    // those that left the list
    for (const [id, placed] of this.placed)
      if (placed.seen !== seen) {
        dirty.add(placed.network)
        this.placed.delete(id)
        this.slots.delete(id)
      }
    if (dirty.size === 0) return this.slots
    // the networks to sort again, with all their incidents
    const groups = new Map<string, IncidentState[]>()
    for (const network of dirty) groups.set(network, [])
    for (const placed of this.placed.values()) groups.get(placed.network)?.push(placed.incident)
    for (const group of groups.values()) fillSlots(group, this.slots)
    return this.slots
  }

  reset(): void {
    this.placed.clear()
    this.slots.clear()
    this.networks = undefined
  }
}

/** The network an incident's marker stands at: its first affected network the map knows. */
export function anchorNetwork(
  incident: IncidentState,
  networks: ReadonlyMap<string, NetworkState>,
): NetworkState | undefined {
  for (const id of incident.affectedNetworks) {
    const network = networks.get(id)
    if (network) return network
  }
  return undefined
}

/** One marker per incident, at its first affected network, in `slot` around it (see `SLOT_OFFSETS`). */
export function incidentFeature(
  incident: IncidentState,
  networks: ReadonlyMap<string, NetworkState>,
  slot = 0,
): IncidentFeature | undefined {
  const network = anchorNetwork(incident, networks)
  if (!network) return undefined
  return {
    type: 'Feature',
    properties: {
      fid: incident.incidentId,
      incidentId: incident.incidentId,
      title: incident.title,
      severity: incident.severity,
      sevRank: featureSeverityRank(incident.severity),
      status: incident.status,
      tlp: incident.contentMarking.tlp,
      networkId: network.networkId,
      slot,
    },
    geometry: { type: 'Point', coordinates: [network.location.lon, network.location.lat] },
  }
}

export function networkFeature(network: NetworkState): NetworkFeature {
  return {
    type: 'Feature',
    properties: {
      fid: network.networkId,
      networkId: network.networkId,
      name: network.name,
      posture: network.posture,
      postureRank: POSTURE_RANK[network.posture],
      organisation: network.organisation,
      nation: network.nation,
    },
    geometry: { type: 'Point', coordinates: [network.location.lon, network.location.lat] },
  }
}

/** Where an attack came from, if known: its location, else its source network's. */
export function attackOrigin(
  incident: IncidentState,
  networks: ReadonlyMap<string, NetworkState>,
): Location | undefined {
  const source = incident.attackSource
  if (!source) return undefined
  if (source.location) return source.location
  return source.networkId ? networks.get(source.networkId)?.location : undefined
}

/**
 * Arc times are kept to `ARC_TIME_STEP`: a busy incident's observations bump its `updatedAt`
 * many times a second, and its arcs need not be resent for each.
 */
export const ARC_TIME_STEP = 30_000
const quantise = (ms: number): number => Math.floor(ms / ARC_TIME_STEP) * ARC_TIME_STEP

/**
 * The attack paths worth drawing: of the incidents with a known attack source, the
 * `limit` most recently reported. Hundreds of arcs already fill a wall; thousands cost
 * seconds per frame where WebGL runs in software, and say no more.
 */
export function latestAttacks(incidents: readonly IncidentState[], limit: number): IncidentState[] {
  const withSource = incidents.filter((incident) => incident.attackSource !== undefined)
  if (withSource.length <= limit) return withSource
  return withSource
    .map((incident) => ({ incident, reported: Date.parse(incident.reportedAt) }))
    .sort((a, b) => b.reported - a.reported || b.incident.lastSeq - a.incident.lastSeq)
    .slice(0, limit)
    .map((k) => k.incident)
}

/** Arcs from the attack source to each affected network (none when the source is unknown). */
export function attackArcs(incident: IncidentState, networks: ReadonlyMap<string, NetworkState>): ArcFeature[] {
  const from = attackOrigin(incident, networks)
  if (!from) return []
  const arcs: ArcFeature[] = []
  for (const networkId of new Set(incident.affectedNetworks)) {
    const target = networks.get(networkId)
    if (!target || samePlace(from, target.location)) continue
    const fid = `attack:${incident.incidentId}:${networkId}`
    arcs.push({
      type: 'Feature',
      properties: {
        fid,
        kind: 'attack',
        incidentId: incident.incidentId,
        advisoryId: '',
        severity: incident.severity,
        tlp: incident.contentMarking.tlp,
        // the age of the attack path is the age of the report: observations must not resend arcs
        t: quantise(time(incident.reportedAt)),
      },
      geometry: { type: 'LineString', coordinates: curvedArc(from, target.location) },
    })
  }
  return arcs
}

/** Most sharing arcs drawn for one advisory. */
export const MAX_AUDIENCE = 40
/** Most advisories drawn (the latest). */
export const MAX_ADVISORIES = 30

/** The network an advisory is shared from: the first network of its organisation. */
export function advisoryOrigin(
  advisory: AdvisoryState,
  networks: ReadonlyMap<string, NetworkState>,
): NetworkState | undefined {
  for (const network of networks.values()) if (network.organisation === advisory.organisation) return network
  return undefined
}

/**
 * Who an advisory goes to: networks whose organisation or nation is in `releasableTo`; for
 * CLEAR/GREEN without `releasableTo`, every network; otherwise nobody the map can tell. The
 * publisher's own networks are left out, and at most `limit` are returned.
 */
export function sharingAudience(
  advisory: AdvisoryState,
  networks: ReadonlyMap<string, NetworkState>,
  limit = MAX_AUDIENCE,
): NetworkState[] {
  const releasable = advisory.marking.releasableTo
  const open = advisory.marking.tlp === 'CLEAR' || advisory.marking.tlp === 'GREEN'
  const audience: NetworkState[] = []
  if (!releasable?.length && !open) return audience
  const allowed = releasable?.length ? new Set(releasable) : undefined
  for (const network of networks.values()) {
    if (audience.length >= limit) break
    if (network.organisation === advisory.organisation) continue
    if (allowed && !allowed.has(network.organisation) && !allowed.has(network.nation)) continue
    audience.push(network)
  }
  return audience
}

export function sharingArcs(advisory: AdvisoryState, networks: ReadonlyMap<string, NetworkState>): ArcFeature[] {
  const origin = advisoryOrigin(advisory, networks)
  if (!origin) return []
  const arcs: ArcFeature[] = []
  for (const target of sharingAudience(advisory, networks)) {
    if (samePlace(origin.location, target.location)) continue
    const fid = `sharing:${advisory.advisoryId}:${target.networkId}`
    arcs.push({
      type: 'Feature',
      properties: {
        fid,
        kind: 'sharing',
        incidentId: advisory.incidentId ?? '',
        advisoryId: advisory.advisoryId,
        severity: '',
        tlp: advisory.marking.tlp,
        t: time(advisory.publishedAt),
      },
      geometry: { type: 'LineString', coordinates: curvedArc(origin.location, target.location, 32, 0.15) },
    })
  }
  return arcs
}

/**
 * Advisories the map draws: the latest `MAX_ADVISORIES` published within the brushed range (if
 * any) and, when the TLP filter is set, of those markings. The incident filters are not applied:
 * an advisory about a closed incident still shows how information flowed.
 */
export function shownAdvisories(
  advisories: ReadonlyMap<string, AdvisoryState>,
  options: { range?: { from: number; to: number } | null; tlps?: readonly Tlp[] } = {},
  max = MAX_ADVISORIES,
): AdvisoryState[] {
  const { range, tlps } = options
  const shown: AdvisoryState[] = []
  for (const advisory of advisories.values()) {
    if (tlps?.length && !tlps.includes(advisory.marking.tlp)) continue
    if (range) {
      const t = time(advisory.publishedAt)
      if (t < range.from || t > range.to) continue
    }
    shown.push(advisory)
  }
  shown.sort((a, b) => b.seq - a.seq)
  return shown.slice(0, max)
}

const locationKeys = new WeakMap<Location, string>()

/**
 * A location as a cache key. Kept per location object (state objects are never changed in
 * place): a sync may ask for the key of every incident's network, ten thousand float-to-string
 * conversions per update otherwise.
 */
const at = (location: Location | undefined): string => {
  if (!location) return '-'
  let key = locationKeys.get(location)
  if (key === undefined) {
    key = `${location.lon},${location.lat}`
    locationKeys.set(location, key)
  }
  return key
}

/**
 * Derives features from entities, keeping an entity's features (the same objects) while the
 * entity (by identity) and what else it depends on (`deps`, e.g. locations) are unchanged.
 */
export class FeatureDeriver<E, F extends AnyFeature> {
  /** Updated in place (`seen` marks the entries of the last derive): ten thousand entries per update. */
  private readonly cache = new Map<string, { entity: E; deps: string; features: F[]; seen: number }>()
  private generation = 0

  constructor(
    private readonly deps: (entity: E) => string,
    private readonly build: (entity: E) => F[],
  ) {}

  /** Features of these entities, keyed by fid. */
  derive(entities: Iterable<readonly [string, E]>): Map<string, F> {
    const seen = ++this.generation
    const out = new Map<string, F>()
    for (const [id, entity] of entities) {
      const cached = this.cache.get(id)
      const deps = this.deps(entity)
      let features: F[]
      if (cached && cached.entity === entity && cached.deps === deps) features = cached.features
      else {
        features = this.build(entity)
        if (cached) Object.assign(cached, { entity, deps, features })
        else this.cache.set(id, { entity, deps, features, seen })
      }
      if (cached) cached.seen = seen
      for (const feature of features) out.set(feature.properties.fid, feature)
    }
    for (const [id, entry] of this.cache) if (entry.seen !== seen) this.cache.delete(id)
    return out
  }

  reset(): void {
    this.cache.clear()
  }
}

export function incidentDeriver(
  networks: () => ReadonlyMap<string, NetworkState>,
  slots: () => ReadonlyMap<string, number>,
) {
  // the deps of an unchanged incident among unchanged networks, at an unchanged slot: the same
  // string object (found again, not rebuilt and compared character by character, per update)
  const known = new WeakMap<
    IncidentState,
    { networks: ReadonlyMap<string, NetworkState>; slot: number; deps: string }
  >()
  return new FeatureDeriver<IncidentState, IncidentFeature>(
    (incident) => {
      const map = networks()
      const slot = slots().get(incident.incidentId) ?? 0
      const last = known.get(incident)
      if (last?.networks === map && last.slot === slot) return last.deps
      const deps = `${at(anchorNetwork(incident, map)?.location)}#${slot}`
      known.set(incident, { networks: map, slot, deps })
      return deps
    },
    (incident) => {
      const feature = incidentFeature(incident, networks(), slots().get(incident.incidentId) ?? 0)
      return feature ? [feature] : []
    },
  )
}

export function networkDeriver() {
  return new FeatureDeriver<NetworkState, NetworkFeature>(
    () => '',
    (network) => [networkFeature(network)],
  )
}

export function attackDeriver(networks: () => ReadonlyMap<string, NetworkState>) {
  return new FeatureDeriver<IncidentState, ArcFeature>(
    (incident) => {
      const map = networks()
      return `${at(attackOrigin(incident, map))}>${incident.affectedNetworks.map((id) => at(map.get(id)?.location)).join(';')}`
    },
    (incident) => attackArcs(incident, networks()),
  )
}

export function sharingDeriver(networks: () => ReadonlyMap<string, NetworkState>) {
  return new FeatureDeriver<AdvisoryState, ArcFeature>(
    (advisory) => {
      const map = networks()
      const origin = advisoryOrigin(advisory, map)
      return `${at(origin?.location)}>${sharingAudience(advisory, map)
        .map((n) => `${n.networkId}@${at(n.location)}`)
        .join(';')}`
    },
    (advisory) => sharingArcs(advisory, networks()),
  )
}

/** Entries added, changed (by identity) and removed between two maps. */
export interface EntityDiff<K, V> {
  added: V[]
  changed: Array<{ id: K; previous: V; next: V }>
  removed: K[]
}

/** Compare two keyed collections by object identity: `prev.get(id) !== next.get(id)` means changed. */
export function diffByIdentity<K, V>(prev: ReadonlyMap<K, V>, next: ReadonlyMap<K, V>): EntityDiff<K, V> {
  const diff: EntityDiff<K, V> = { added: [], changed: [], removed: [] }
  if (prev === next) return diff
  for (const [id, value] of next) {
    const previous = prev.get(id)
    if (previous === undefined) diff.added.push(value)
    else if (previous !== value) diff.changed.push({ id, previous, next: value })
  }
  for (const id of prev.keys()) if (!next.has(id)) diff.removed.push(id)
  return diff
}

function sameCoordinates(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (!sameCoordinates(a[i], b[i])) return false
  return true
}

function geometryOf(feature: AnyFeature): unknown {
  return feature.geometry.coordinates
}

/** The update that turns `previous` into `next` (same id), or undefined if nothing differs. */
export function featureUpdate(previous: AnyFeature, next: AnyFeature): GeoJSONFeatureDiff | undefined {
  const update: GeoJSONFeatureDiff = { id: next.properties.fid }
  if (previous.geometry.type !== next.geometry.type || !sameCoordinates(geometryOf(previous), geometryOf(next)))
    update.newGeometry = next.geometry
  const before = previous.properties as unknown as Record<string, unknown>
  const after = next.properties as unknown as Record<string, unknown>
  const changed: Array<{ key: string; value: unknown }> = []
  for (const [key, value] of Object.entries(after)) if (before[key] !== value) changed.push({ key, value })
  const removed = Object.keys(before).filter((key) => !(key in after))
  if (changed.length) update.addOrUpdateProperties = changed
  if (removed.length) update.removeProperties = removed
  return update.newGeometry || changed.length || removed.length ? update : undefined
}

/** What `updateData` needs to turn a source holding `prev` into one holding `next`. */
export interface SourceDiff extends GeoJSONSourceDiff {
  add: AnyFeature[]
  update: GeoJSONFeatureDiff[]
  remove: string[]
}

export function isEmptyDiff(diff: SourceDiff): boolean {
  return diff.add.length === 0 && diff.update.length === 0 && diff.remove.length === 0
}

/** Diff two feature sets by identity, then by content for the features whose object changed. */
export function diffFeatures(prev: FeatureMap, next: FeatureMap): SourceDiff {
  const { added, changed, removed } = diffByIdentity(prev, next)
  const update: GeoJSONFeatureDiff[] = []
  for (const { previous, next: feature } of changed) {
    const u = featureUpdate(previous, feature)
    if (u) update.push(u)
  }
  return { add: added, update, remove: removed }
}

/**
 * Whether an incident's change is worth a pulse: a new arrival or an update (severity, status,
 * networks, anything but observations). A stream of observations alone does not pulse, or a busy
 * incident would pulse for ever.
 */
export function pulseWorthy(previous: IncidentState | undefined, next: IncidentState): boolean {
  if (!previous) return true
  if (previous === next) return false
  if (
    previous.severity !== next.severity ||
    previous.status !== next.status ||
    previous.affectedNetworks !== next.affectedNetworks ||
    previous.title !== next.title
  )
    return true
  return previous.observationCount === next.observationCount
}

/**
 * Incidents of the list with events newer than `seq` whose change is worth a pulse, given what
 * the map showed before (`previous`, by id).
 */
export function freshIncidents(
  incidents: Iterable<IncidentState>,
  seq: number,
  previous: ReadonlyMap<string, IncidentState> = new Map(),
): IncidentState[] {
  const fresh: IncidentState[] = []
  for (const incident of incidents)
    if (incident.lastSeq > seq && pulseWorthy(previous.get(incident.incidentId), incident)) fresh.push(incident)
  return fresh
}

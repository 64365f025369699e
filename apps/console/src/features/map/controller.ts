/**
 * The imperative side of the live map: creates the MapLibre map, keeps its sources in step with
 * the stores (one coalesced, diffed update per animation frame), and wires hover, click, camera
 * and layer toggles. MapView.tsx mounts it.
 */
import '@fontsource/noto-sans'
import 'maplibre-gl/dist/maplibre-gl.css'
import { type IncidentState, type NetworkState, tasksForIncident } from '@watchfloor/core'
import type { Severity } from '@watchfloor/protocol'
import type { Point } from 'geojson'
import * as maplibregl from 'maplibre-gl'
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url'
import countries50m from 'world-atlas/countries-50m.json'
import { watchfloor } from '../../data/store.ts'
import { selectFilteredIncidents } from '../../view/selectors.ts'
import type { LayerName, Layers } from '../../view/view.ts'
import { viewStore } from '../../view/viewStore.ts'
import { displayNow } from '../replay/now.ts'
import { taskSummary } from '../tasks/board.ts'
import { recencyOpacityExpression } from './arcs.ts'
import { type Basemap, buildBasemap, type Topology } from './basemap.ts'
import { createCoalescer, latest, pacedScheduler } from './coalesce.ts'
import {
  type AnyFeature,
  type ArcFeature,
  attackDeriver,
  diffFeatures,
  type FeatureMap,
  freshIncidents,
  type IncidentFeature,
  incidentDeriver,
  isEmptyDiff,
  latestAttacks,
  networkDeriver,
  SLOT_OFFSETS,
  SlotAssigner,
  sharingDeriver,
  shownAdvisories,
} from './features.ts'
import { registerMap } from './handle.ts'
import { addIncidentIcons } from './icons.ts'
import { PulseLayer } from './pulses.ts'
import { ResolutionGovernor } from './resolution.ts'
import {
  ARC_FADE_MS,
  buildBasemapStyle,
  buildLiveStyle,
  FONT_FAMILY,
  LAYERS,
  POSTURE_COLOURS,
  SEVERITY_COLOURS,
  SOURCES,
  TOGGLED_LAYERS,
} from './style.ts'

maplibregl.setWorkerUrl(workerUrl)

declare global {
  interface Window {
    /** The live map, for browser tests (`map.project`, `queryRenderedFeatures`, `getSource`). */
    __watchfloorMap?: maplibregl.Map
    /** The basemap under it (see `mountMap`). */
    __watchfloorBasemap?: maplibregl.Map
  }
}

let basemap: Basemap | undefined
/** Built once per page: converting the 50m atlas takes a moment. */
export function getBasemap(): Basemap {
  basemap ??= buildBasemap(countries50m as unknown as Topology)
  return basemap
}

let fontsReady: Promise<void> | undefined
/**
 * Load every Noto Sans subset the labels need before the map draws text: MapLibre draws glyphs
 * with the page's font, and a subset still loading would be drawn in a fallback font.
 */
export function loadMapFonts(): Promise<void> {
  fontsReady ??= (async () => {
    if (typeof document === 'undefined' || !document.fonts?.load) return
    const text = new Set<string>('0123456789+k')
    for (const label of getBasemap().labels.features) for (const ch of label.properties.name) text.add(ch)
    try {
      await document.fonts.load(`400 16px "${FONT_FAMILY}"`, [...text].join(''))
    } catch (error) {
      console.warn('map: could not load the label font', error)
    }
  })()
  return fontsReady
}

type DynamicSource = 'incidents' | 'networks' | 'attacks' | 'sharing'
const DYNAMIC: Record<DynamicSource, string> = {
  incidents: SOURCES.incidents,
  networks: SOURCES.networks,
  attacks: SOURCES.attacks,
  sharing: SOURCES.sharing,
}

/** Most pulses animating at once (an outbreak can bring dozens in a second). */
const MAX_PULSES = 40
/** An incident pulses at most this often, however often it is updated. */
const PULSE_COOLDOWN_MS = 4000
/** Attack paths drawn at most (the most recently reported). */
export const MAX_ATTACK_PATHS = 200

/** How often arc opacity follows age. */
const FADE_REFRESH_MS = 5000

/**
 * Once map frames run long (no GPU: the resolution governor stepped down), the map takes in
 * changes at most this often (ms). Each change redraws the live layers and, with software
 * compositing, reads the canvas back on the main thread: tens of milliseconds.
 */
export const SLOW_SYNC_MS = 1000

export interface MapHooks {
  /** The style loaded and the map went idle once. */
  onReady(): void
  /** The WebGL context was lost: the map shows nothing until it is rebuilt. */
  onLost(): void
  /** The WebGL context came back after a loss: mount a fresh map. */
  onRebuild(): void
}

export interface MapOptions {
  /**
   * A wall: no controls, no pointer or keyboard interaction, the camera stays where the view
   * puts it. Default false.
   */
  wall?: boolean
  /** The incident whose location flashes until it is null again (the wall's pinned critical). */
  flash?: FlashSource
}

/** Where the map reads the incident to flash: a zustand-like store. */
export interface FlashSource {
  getState(): { flash: string | null }
  subscribe(listener: (state: { flash: string | null }) => void): () => void
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits

/**
 * Create the map in `container`; returns the teardown.
 *
 * Two MapLibre maps, one over the other: the basemap (sea, land, coasts, borders, country names)
 * below, drawn only when the camera moves, and the live layers above on a transparent canvas,
 * which alone are drawn again when incidents, networks or flows change. Without a GPU each map
 * frame costs milliseconds per layer and tile, and the basemap was most of it (10,000 incidents,
 * 200 events/s, software compositing: main thread busy 69 -> 48-57 %, long tasks 101 -> 8-11 in
 * 20 s). The live map is the interactive one; the basemap follows its camera in the same frame.
 */
export function mountMap(container: HTMLElement, hooks: MapHooks, options: MapOptions = {}): () => void {
  const view = viewStore.getState()
  const wall = options.wall ?? false
  const camera = {
    center: [view.map.lng, view.map.lat] as [number, number],
    zoom: view.map.zoom,
    minZoom: 0.8,
    maxZoom: 10,
  }
  const baseContainer = document.createElement('div')
  baseContainer.className = 'wf-map-base'
  baseContainer.setAttribute('aria-hidden', 'true') // the live map is the one to announce
  container.append(baseContainer)
  const base = new maplibregl.Map({
    container: baseContainer,
    interactive: false,
    style: buildBasemapStyle(getBasemap()),
    ...camera,
    attributionControl: false,
    fadeDuration: 0,
  })
  base.getCanvas().dataset.testid = 'map-base-canvas'
  // drawn once (or failed: the basemap is scenery, the live layers must not wait for it)
  const baseIdle = new Promise<void>((resolve) => {
    base.once('idle', () => resolve())
    base.once('error', () => resolve())
  })
  let map: maplibregl.Map
  try {
    map = createLiveMap(container, view.layers, camera, wall)
  } catch (error) {
    base.remove()
    baseContainer.remove()
    throw error
  }
  window.__watchfloorMap = map
  window.__watchfloorBasemap = base

  // the basemap follows the live map's camera, drawn in the same frame as the live layers
  let baseBehind = false
  map.on('move', () => {
    base.jumpTo({ center: map.getCenter(), zoom: map.getZoom(), bearing: map.getBearing(), pitch: map.getPitch() })
    baseBehind = true
  })
  map.on('render', () => {
    if (!baseBehind) return
    baseBehind = false
    base.redraw()
  })

  let disposed = false
  let loaded = false
  const cleanups: Array<() => void> = []

  // --- images -------------------------------------------------------------------------------
  map.on('styleimagemissing', () => addIncidentIcons(map))

  // --- data ---------------------------------------------------------------------------------
  const networks = (): ReadonlyMap<string, NetworkState> => watchfloor.getState().state.networks
  let slots: ReadonlyMap<string, number> = new Map()
  // sorts a network's incidents again only when one of them came, went or changed severity
  const slotAssigner = new SlotAssigner()
  const derivers = {
    incidents: incidentDeriver(networks, () => slots),
    networks: networkDeriver(),
    attacks: attackDeriver(networks),
    sharing: sharingDeriver(networks),
  }
  const empty = (): FeatureMap => new Map()
  const applied: Record<DynamicSource, FeatureMap> = {
    incidents: empty(),
    networks: empty(),
    attacks: empty(),
    sharing: empty(),
  }
  /** Incidents with events up to this seq do not pulse (what was there when the map opened). */
  let seenSeq = watchfloor.getState().state.seq
  let newestArc = 0

  const source = (id: string) => map.getSource<maplibregl.GeoJSONSource>(id)

  /** What the map showed at the last sync, for telling arrivals and updates from observations. */
  let shownIncidents: ReadonlyMap<string, IncidentState> = new Map()
  /** Until the first idle after load, hold further updates so that the map settles (data-ready). */
  let ready = false
  let syncedOnce = false

  /** The source updates of the last sync that sent any (for `settle`). */
  let lastUpdates: Promise<unknown> = Promise.resolve()
  const sync = () => {
    if (!loaded || disposed) return
    if (syncedOnce && !ready) return // picked up again once the map went idle
    const data = watchfloor.getState()
    const v = viewStore.getState()
    const incidents = selectFilteredIncidents(data.state, v.filters, v.range, v.sort)
    const entries = incidents.map((incident) => [incident.incidentId, incident] as const)
    slots = slotAssigner.assign(incidents, data.state.networks)
    const next: Record<DynamicSource, FeatureMap> = {
      incidents: derivers.incidents.derive(entries),
      networks: derivers.networks.derive(data.state.networks),
      attacks: derivers.attacks.derive(
        latestAttacks(incidents, MAX_ATTACK_PATHS).map((incident) => [incident.incidentId, incident] as const),
      ),
      sharing: derivers.sharing.derive(
        shownAdvisories(data.state.advisories, { range: v.range, tlps: v.filters.tlps }).map(
          (a) => [a.advisoryId, a] as const,
        ),
      ),
    }
    const updates: Promise<unknown>[] = []
    for (const key of Object.keys(DYNAMIC) as DynamicSource[]) {
      const diff = diffFeatures(applied[key], next[key])
      applied[key] = next[key]
      if (isEmptyDiff(diff)) continue
      const update = source(DYNAMIC[key])
        ?.updateData(diff)
        .catch((error: unknown) => console.warn(`map: update of ${key} failed`, error))
      if (update) updates.push(update)
    }
    if (updates.length) lastUpdates = Promise.all(updates)
    newestArc = 0
    for (const arcs of [next.attacks, next.sharing])
      for (const arc of arcs.values()) newestArc = Math.max(newestArc, (arc as ArcFeature).properties.t)
    updateSelection()
    updateFlash()
    if (ready) pulse(freshIncidents(incidents, seenSeq, shownIncidents), next.incidents)
    seenSeq = data.state.seq
    shownIncidents = new Map(entries)
    syncedOnce = true
  }

  // without a GPU, fewer pixels per frame (see resolution.ts; wired to the frames further down)
  const governor = new ResolutionGovernor()
  // one sync per animation frame; once frames run long, at most one per SLOW_SYNC_MS
  const pace = pacedScheduler(() => (governor.scale < 1 ? SLOW_SYNC_MS : 0))
  const coalescer = createCoalescer<null>({ merge: latest, flush: sync, schedule: pace })
  cleanups.push(() => coalescer.cancel())
  cleanups.push(
    watchfloor.subscribe((s, prev) => {
      if (s.state === prev.state) return
      coalescer.push(null)
      // a replay (a seek, a step, back to live) is someone's request, not the stream: no waiting
      if (s.mode === 'replay' || prev.mode === 'replay') pace.hurry()
    }),
  )

  // --- selection ----------------------------------------------------------------------------
  let selectedShown: AnyFeature | undefined | null = null
  const updateSelection = () => {
    if (!loaded) return
    const id = viewStore.getState().selection
    const feature = id ? applied.incidents.get(id) : undefined
    if (feature === selectedShown) return
    selectedShown = feature
    source(SOURCES.selection)?.setData({
      type: 'FeatureCollection',
      features: feature ? [{ type: 'Feature', properties: feature.properties, geometry: feature.geometry }] : [],
    })
    const selected = id ?? ''
    map.setPaintProperty(LAYERS.attacks, 'line-width', [
      'interpolate',
      ['linear'],
      ['zoom'],
      1,
      ['case', ['==', ['get', 'incidentId'], selected], 3.2, 1.8],
      6,
      ['case', ['==', ['get', 'incidentId'], selected], 6, 4],
    ])
  }

  // --- flash: a ring that pulses over one incident until told otherwise -----------------------
  let flashMarker: maplibregl.Marker | undefined
  const updateFlash = () => {
    const id = loaded ? (options.flash?.getState().flash ?? null) : null
    const feature = id ? (applied.incidents.get(id) as IncidentFeature | undefined) : undefined
    if (!feature) {
      flashMarker?.remove()
      flashMarker = undefined
      return
    }
    const [lng = 0, lat = 0] = feature.geometry.coordinates
    const [dx = 0, dy = 0] = SLOT_OFFSETS[feature.properties.slot] ?? []
    if (!flashMarker) {
      const element = document.createElement('div')
      element.className = 'wf-map-flash'
      element.dataset.testid = 'map-flash'
      const ring = document.createElement('div')
      ring.className = 'wf-map-flash-ring' // the marker positions the element by transform: animate a child
      element.append(ring)
      flashMarker = new maplibregl.Marker({ element, anchor: 'center' })
    }
    flashMarker.setOffset([dx, dy]).setLngLat([lng, lat]).addTo(map)
    flashMarker.getElement().dataset.incidentId = id ?? ''
  }
  if (options.flash) cleanups.push(options.flash.subscribe(() => updateFlash()))
  cleanups.push(() => flashMarker?.remove())

  // --- layers -------------------------------------------------------------------------------
  const applyLayers = (layers: Layers) => {
    if (!loaded) return
    for (const name of Object.keys(TOGGLED_LAYERS) as LayerName[])
      for (const layer of TOGGLED_LAYERS[name])
        if (map.getLayer(layer)) map.setLayoutProperty(layer, 'visibility', layers[name] ? 'visible' : 'none')
  }

  // --- camera -------------------------------------------------------------------------------
  map.on('moveend', () => {
    const c = map.getCenter().wrap()
    const next = { lng: round(c.lng, 4), lat: round(c.lat, 4), zoom: round(map.getZoom(), 2) }
    const current = viewStore.getState().map
    if (next.lng !== current.lng || next.lat !== current.lat || next.zoom !== current.zoom)
      viewStore.getState().setMap(next)
  })

  cleanups.push(
    viewStore.subscribe((v, prev) => {
      if (v.filters !== prev.filters || v.range !== prev.range || v.sort !== prev.sort) {
        // the user changed the view: on the next frame, whatever the pace
        coalescer.push(null)
        pace.hurry()
      }
      if (v.selection !== prev.selection) updateSelection()
      if (v.layers !== prev.layers) applyLayers(v.layers)
      if (v.map !== prev.map) {
        // someone else moved the view (a link, history): follow it; our own moveend is a no-op here
        const c = map.getCenter().wrap()
        if (
          Math.abs(c.lng - v.map.lng) > 1e-3 ||
          Math.abs(c.lat - v.map.lat) > 1e-3 ||
          Math.abs(map.getZoom() - v.map.zoom) > 1e-2
        )
          map.jumpTo({ center: [v.map.lng, v.map.lat], zoom: v.map.zoom })
      }
    }),
  )

  // --- arcs fade with age -------------------------------------------------------------------
  let lastFadeNow = 0
  const refreshFade = (force = false) => {
    if (!loaded) return
    const now = displayNow() // the replay playhead while replaying
    // nothing left fading since the last refresh: the expression would paint the same (unless time went back)
    if (!force && newestArc < lastFadeNow - ARC_FADE_MS && now >= lastFadeNow) return
    lastFadeNow = now
    map.setPaintProperty(LAYERS.attacks, 'line-opacity', recencyOpacityExpression(now, ARC_FADE_MS, 0.2) as never)
    map.setPaintProperty(LAYERS.sharing, 'line-opacity', recencyOpacityExpression(now, ARC_FADE_MS, 0.1, 0.6) as never)
  }
  const fadeTimer = setInterval(() => refreshFade(), FADE_REFRESH_MS)
  cleanups.push(() => clearInterval(fadeTimer))

  // --- pulses: rings on one canvas over the map (see pulses.ts) ------------------------------
  const pulseLayer = new PulseLayer(
    map.getContainer(),
    map,
    window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false,
  )
  const lastPulse = new Map<string, number>()
  const pulse = (incidents: IncidentState[], features: FeatureMap) => {
    if (!viewStore.getState().layers.incidents || incidents.length === 0) return
    const now = performance.now()
    for (const [id, at] of lastPulse) if (now - at > PULSE_COOLDOWN_MS) lastPulse.delete(id)
    for (const incident of incidents) {
      if (pulseLayer.size >= MAX_PULSES) break
      if (lastPulse.has(incident.incidentId)) continue
      lastPulse.set(incident.incidentId, now)
      const feature = features.get(incident.incidentId) as IncidentFeature | undefined
      if (!feature) continue
      const [lng = 0, lat = 0] = feature.geometry.coordinates
      const [dx = 0, dy = 0] = SLOT_OFFSETS[feature.properties.slot] ?? []
      pulseLayer.add({ lngLat: [lng, lat], offset: [dx, dy], colour: SEVERITY_COLOURS[incident.severity], start: now })
    }
  }
  cleanups.push(() => pulseLayer.remove())

  // --- hover and click ----------------------------------------------------------------------
  const popup = new maplibregl.Popup({
    closeButton: false,
    closeOnClick: false,
    className: 'wf-map-tooltip',
    offset: 14,
    maxWidth: '280px',
  })
  cleanups.push(() => popup.remove())
  const interactive = [LAYERS.incidents, LAYERS.clusters, LAYERS.networks]
  const featureAt = (point: maplibregl.PointLike) => {
    const layers = interactive.filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none')
    return layers.length ? map.queryRenderedFeatures(point, { layers })[0] : undefined
  }
  let hovered: string | undefined
  map.on('mousemove', (e) => {
    const feature = featureAt(e.point)
    map.getCanvas().style.cursor = feature && feature.layer.id !== LAYERS.networks ? 'pointer' : ''
    if (!feature) {
      hovered = undefined
      popup.remove()
      return
    }
    const key = `${feature.layer.id}:${feature.id ?? feature.properties.cluster_id}`
    const at = (feature.geometry as Point).coordinates as [number, number]
    if (key !== hovered) {
      hovered = key
      popup.setDOMContent(tooltipFor(feature)).setLngLat(at)
      if (!popup.isOpen()) popup.addTo(map)
    }
  })
  map.on('mouseout', () => {
    hovered = undefined
    popup.remove()
  })
  map.on('click', (e) => {
    const feature = featureAt(e.point)
    if (!feature) return // a click on empty map keeps the selection
    if (feature.layer.id === LAYERS.incidents) {
      viewStore.getState().select(String(feature.properties.incidentId))
    } else if (feature.layer.id === LAYERS.clusters) {
      const clusterId = Number(feature.properties.cluster_id)
      const center = (feature.geometry as Point).coordinates as [number, number]
      void source(SOURCES.incidents)
        ?.getClusterExpansionZoom(clusterId)
        .then((zoom) => map.easeTo({ center, zoom: Math.min(zoom + 0.2, map.getMaxZoom()) }))
        .catch(() => map.easeTo({ center, zoom: map.getZoom() + 2 }))
    }
  })

  // --- dynamic resolution: without a GPU, fewer pixels per frame (see resolution.ts) ----------
  const devicePixelRatio = window.devicePixelRatio || 1
  let mapRendered = false
  /** A capture drew (and encoded) out of turn: the next frame's length is not the renderer's. */
  let skipSample = false
  map.on('render', () => {
    mapRendered = true
  })
  let lastFrame = performance.now()
  let frameRequest = requestAnimationFrame(function watchFrames(now) {
    const ms = now - lastFrame
    lastFrame = now
    // a frame after a hidden spell is not slow rendering
    if (mapRendered && !skipSample && document.visibilityState === 'visible') {
      const scale = governor.frame(ms)
      if (scale !== null) {
        console.info(`map: frames run long (${Math.round(ms)} ms); drawing at ${scale * 100} % resolution`)
        map.setPixelRatio(devicePixelRatio * scale)
        base.setPixelRatio(devicePixelRatio * scale)
      }
    }
    mapRendered = false
    skipSample = false
    frameRequest = requestAnimationFrame(watchFrames)
  })
  cleanups.push(() => cancelAnimationFrame(frameRequest))

  // --- lifecycle ----------------------------------------------------------------------------
  map.on('load', () => {
    if (disposed) return
    loaded = true
    addIncidentIcons(map)
    applyLayers(viewStore.getState().layers)
    refreshFade(true)
    sync()
    map.once('idle', () => {
      if (disposed) return
      ready = true
      coalescer.push(null) // whatever arrived meanwhile
      // ready for the page once the basemap has drawn too
      void baseIdle.then(() => {
        if (!disposed) hooks.onReady()
      })
    })
  })
  // a GPU reset loses both contexts: rebuild once
  let lost = false
  let rebuilding = false
  for (const m of [map, base]) {
    m.on('error', (e) => console.warn('map:', e.error?.message ?? e))
    m.on('webglcontextlost', () => {
      if (lost) return
      lost = true
      console.warn('map: WebGL context lost; the map will be rebuilt when it is restored')
      coalescer.cancel()
      hooks.onLost()
    })
    m.on('webglcontextrestored', () => {
      if (rebuilding) return
      rebuilding = true
      console.info('map: WebGL context restored; rebuilding the map')
      hooks.onRebuild()
    })
  }

  // --- for other features: settle and capture (report snapshots) -----------------------------
  cleanups.push(
    registerMap({
      async settle(timeoutMs = 1500) {
        if (!loaded || disposed) return
        coalescer.flushNow()
        const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs))
        const drawn = (async () => {
          await lastUpdates
          if (disposed || (map.loaded() && map.areTilesLoaded())) return
          await new Promise<void>((resolve) => map.once('idle', () => resolve()))
        })()
        await Promise.race([drawn, deadline])
      },
      capture() {
        try {
          const live = map.getCanvas()
          const image = document.createElement('canvas')
          image.width = live.width
          image.height = live.height
          const context = image.getContext('2d')
          if (!context) return null
          // both drawn now, live layers first (its pending camera step moves the basemap too);
          // without preserveDrawingBuffer each canvas holds its frame until this task ends
          map.redraw()
          base.redraw()
          skipSample = true
          context.drawImage(base.getCanvas(), 0, 0, image.width, image.height)
          context.drawImage(live, 0, 0)
          return image.toDataURL('image/png')
        } catch {
          return null
        }
      },
    }),
  )

  return () => {
    disposed = true
    for (const cleanup of cleanups) cleanup()
    if (window.__watchfloorMap === map) delete window.__watchfloorMap
    if (window.__watchfloorBasemap === base) delete window.__watchfloorBasemap
    map.remove()
    base.remove()
    baseContainer.remove()
  }
}

/** The live map: interactive (unless on a wall), transparent where it draws nothing. */
function createLiveMap(
  container: HTMLElement,
  layers: Layers,
  camera: Pick<maplibregl.MapOptions, 'center' | 'zoom' | 'minZoom' | 'maxZoom'>,
  wall: boolean,
): maplibregl.Map {
  const map = new maplibregl.Map({
    container,
    interactive: !wall,
    style: buildLiveStyle(layers),
    ...camera,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    attributionControl: wall ? false : { compact: true, customAttribution: 'Natural Earth via world-atlas' },
    // no symbol fade: each fade runs the map for several more frames after every source update,
    // and without a GPU each frame is long (40 s under load: frames over 100 ms 69-100 -> 33-40)
    fadeDuration: 0,
  })
  map.getCanvas().dataset.testid = 'map-live-canvas'
  map.touchZoomRotate.disableRotation()
  map.keyboard.disableRotation()
  if (!wall) map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right')
  return map
}

/** The tooltip for a hovered incident, cluster or network (DOM built from text: nothing is parsed as HTML). */
function tooltipFor(feature: maplibregl.MapGeoJSONFeature): HTMLElement {
  const root = document.createElement('div')
  root.className = 'wf-map-tip'
  const line = (className: string, ...parts: Array<string | Node>) => {
    const el = document.createElement('div')
    el.className = className
    el.append(...parts)
    root.append(el)
    return el
  }
  const span = (text: string, colour?: string, className?: string) => {
    const el = document.createElement('span')
    el.textContent = text
    if (colour) el.style.color = colour
    if (className) el.className = className
    return el
  }
  const p = feature.properties
  const state = watchfloor.getState().state
  if (feature.layer.id === LAYERS.incidents) {
    const incident = state.incidents.get(String(p.incidentId))
    const severity = (incident?.severity ?? p.severity) as Severity
    const tlp = incident?.marking.tlp ?? String(p.tlp)
    line('wf-map-tip-title', incident?.title ?? String(p.title))
    line(
      'wf-map-tip-meta',
      span(`${SHAPE_GLYPH[severity]} ${severity}`, SEVERITY_COLOURS[severity], 'wf-map-tip-sev'),
      span(` · ${incident?.status ?? String(p.status)} · `),
      span(`TLP:${tlp}`, TLP_TEXT[tlp] ?? '#fff', 'wf-map-tip-tlp'),
    )
    const network = state.networks.get(String(p.networkId))
    if (network) line('wf-map-tip-sub', `at ${network.name}`)
    const tasks = taskSummary(tasksForIncident(state, String(p.incidentId)), Date.now())
    if (tasks) line('wf-map-tip-sub', tasks.text).dataset.overdue = String(tasks.overdue > 0)
  } else if (feature.layer.id === LAYERS.clusters) {
    const worst = (['low', 'medium', 'high', 'critical'] as const)[Number(p.maxSev) - 1] ?? 'low'
    line('wf-map-tip-title', `${p.point_count} incidents`)
    line(
      'wf-map-tip-meta',
      span('worst: '),
      span(`${SHAPE_GLYPH[worst]} ${worst}`, SEVERITY_COLOURS[worst], 'wf-map-tip-sev'),
    )
    line('wf-map-tip-sub', 'Click to zoom in')
  } else {
    const network = state.networks.get(String(p.networkId))
    const posture = (network?.posture ?? p.posture) as NetworkState['posture']
    line('wf-map-tip-title', network?.name ?? String(p.name))
    line('wf-map-tip-meta', span('posture: '), span(posture, POSTURE_COLOURS[posture], 'wf-map-tip-sev'))
    if (network) {
      line('wf-map-tip-sub', `${network.organisation} · ${network.nation}`)
      if (network.postureReason) line('wf-map-tip-sub', network.postureReason)
    }
  }
  return root
}

const SHAPE_GLYPH: Record<Severity, string> = { critical: '◆', high: '▲', medium: '■', low: '●' }
const TLP_TEXT: Record<string, string> = {
  RED: '#FF2B2B',
  'AMBER+STRICT': '#FFC000',
  AMBER: '#FFC000',
  GREEN: '#33FF00',
  CLEAR: '#FFFFFF',
}

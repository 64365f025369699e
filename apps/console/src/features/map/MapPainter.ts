/**
 * The drawing side of the live map (MapInput.ts is the listening side, as MapLibre splits its Map
 * from its handlers): creates the basemap and the live MapLibre maps, keeps the live sources in
 * step with the stores (one coalesced, diffed update per animation frame), and draws selection,
 * flash, layer visibility, arc fading and pulses. It also keeps the resolution in step with the
 * frame times, rebuilds after a lost GPU context and answers `settle` and `capture` (handle.ts).
 */
import 'maplibre-gl/dist/maplibre-gl.css'
import type { AdvisoryState, IncidentState, NetworkState } from '@watchfloor/core'
import type { Point } from 'geojson'
import * as maplibregl from 'maplibre-gl'
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url'
import { watchfloor } from '../../data/store.ts'
import { selectFilteredIncidents } from '../../view/selectors.ts'
import type { LayerName, Layers } from '../../view/view.ts'
import { viewStore } from '../../view/viewStore.ts'
import { alarmView } from '../alarm/alarmStore.ts'
import { serverDisplayNow } from '../replay/now.ts'
import { recencyOpacityExpression } from './arcs.ts'
import type { Basemap } from './basemap.ts'
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
import { drawnMarking, type MapCapture, registerMap } from './handle.ts'
import { addIncidentIcons } from './icons.ts'
import { PulseGate } from './PulseGate.ts'
import { PulseLayer } from './pulses.ts'
import { ResolutionGovernor } from './resolution.ts'
import { sendDiff } from './sourceSync.ts'
import { ARC_FADE_MS, buildBasemapStyle, buildLiveStyle, LAYERS, SOURCES, TOGGLED_LAYERS } from './style.ts'
import { tooltipFor } from './tooltip.ts'

maplibregl.setWorkerUrl(workerUrl)
/** Where MapLibre's worker is loaded from: the map draws nothing without it. */
export const MAP_WORKER_URL: string = workerUrl

declare global {
  interface Window {
    /** The live map, for browser tests (`map.project`, `queryRenderedFeatures`, `getSource`). */
    __watchfloorMap?: maplibregl.Map
    /** The basemap under it (see `MapPainter`). */
    __watchfloorBasemap?: maplibregl.Map
  }
}

type DynamicSource = 'incidents' | 'networks' | 'attacks' | 'sharing'
const DYNAMIC: Record<DynamicSource, string> = {
  incidents: SOURCES.incidents,
  networks: SOURCES.networks,
  attacks: SOURCES.attacks,
  sharing: SOURCES.sharing,
}

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

const networks = (): ReadonlyMap<string, NetworkState> => watchfloor.getState().state.networks

/** The layers a pointer can hover or click, when shown. */
const INTERACTIVE_LAYERS = [LAYERS.alarmed, LAYERS.incidents, LAYERS.clusters, LAYERS.networks]

export interface MapHooks {
  /** The style loaded and the map went idle once. */
  onReady(): void
  /** The WebGL context was lost: the map shows nothing until it is rebuilt. */
  onLost(): void
  /** The WebGL context came back after a loss: mount a fresh map. */
  onRebuild(): void
}

/** Where the map reads the incident to flash: a zustand-like store. */
export interface FlashSource {
  getState(): { flash: string | null }
  subscribe(listener: (state: { flash: string | null }) => void): () => void
}

export interface MapPainterOptions {
  /** The countries, coasts and names to draw under the live layers. */
  basemap: Basemap
  /**
   * A wall: no controls, no pointer or keyboard interaction, the camera stays where the view
   * puts it.
   */
  wall: boolean
  /** The incident whose location flashes until it is null again (the wall's pinned critical). */
  flash?: FlashSource
}

/**
 * Draws the map in a container, from the stores; `destroy` removes it.
 *
 * Two MapLibre maps, one over the other: the basemap (sea, land, coasts, borders, country names)
 * below, drawn only when the camera moves, and the live layers above on a transparent canvas,
 * which alone are drawn again when incidents, networks or flows change. Without a GPU each map
 * frame costs milliseconds per layer and tile, and the basemap was most of it (10,000 incidents,
 * 200 events/s, software compositing: main thread busy 69 -> 48-57 %, long tasks 101 -> 8-11 in
 * 20 s). The live map is the interactive one; the basemap follows its camera in the same frame.
 *
 * It reads the data and the view's filters, range, sort, selection and layers from the stores
 * itself; what the user does reaches it through MapInput (`showSelection`, `showLayers`,
 * `setHover`), and the camera is the live map's own.
 */
export class MapPainter {
  /**
   * The live map: the interactive one. MapInput listens to it and moves its camera, as MapLibre's
   * handlers do their Map's; the basemap follows.
   */
  readonly map: maplibregl.Map
  private readonly base: maplibregl.Map
  private readonly baseContainer: HTMLElement
  /** The basemap drew once (or failed: it is scenery, the live layers must not wait for it). */
  private readonly baseIdle: Promise<void>
  private readonly hooks: MapHooks
  private readonly flash: FlashSource | undefined
  private readonly cleanups: Array<() => void> = []
  private disposed = false
  private loaded = false

  // --- data ---------------------------------------------------------------------------------
  private slots: ReadonlyMap<string, number> = new Map()
  /** Sorts a network's incidents again only when one of them came, went or changed severity. */
  private readonly slotAssigner = new SlotAssigner()
  private readonly derivers = {
    incidents: incidentDeriver(networks, () => this.slots),
    networks: networkDeriver(),
    attacks: attackDeriver(networks),
    sharing: sharingDeriver(networks),
  }
  /** What each source was last given. */
  private readonly applied: Record<DynamicSource, FeatureMap> = {
    incidents: new Map(),
    networks: new Map(),
    attacks: new Map(),
    sharing: new Map(),
  }
  /** Incidents with events up to this seq do not pulse (what was there when the map opened). */
  private seenSeq = watchfloor.getState().state.seq
  /** The time of the newest arc shown (for skipping fade refreshes). */
  private newestArc = 0
  /**
   * What the map showed at the last sync, for telling arrivals and updates from observations (and
   * for a capture's marking).
   */
  private shownIncidents: ReadonlyMap<string, IncidentState> = new Map()
  /** The networks and the advisories (sharing arcs) the last sync gave the map, for a capture's marking. */
  private drawnNetworks: ReadonlyMap<string, NetworkState> = new Map()
  private drawnAdvisories: readonly AdvisoryState[] = []
  /** Until the first idle after load, hold further updates so that the map settles (data-ready). */
  private ready = false
  private syncedOnce = false
  /** The source updates of the last sync that sent any (for `settle`). */
  private lastUpdates: Promise<unknown> = Promise.resolve()

  /** Without a GPU, fewer pixels per frame (see resolution.ts; fed by `watchFrames`). */
  private readonly governor = new ResolutionGovernor()
  /** One sync per animation frame; once frames run long, at most one per SLOW_SYNC_MS. */
  private readonly pace = pacedScheduler(() => (this.governor.scale < 1 ? SLOW_SYNC_MS : 0))
  private readonly coalescer = createCoalescer<null>({ merge: latest, flush: () => this.sync(), schedule: this.pace })
  /** A capture drew (and encoded) out of turn: the next frame's length is not the renderer's. */
  private skipSample = false

  // --- what is drawn besides the sources ------------------------------------------------------
  private selectedShown: AnyFeature | undefined | null = null
  private alarmedShown: AnyFeature[] = []
  private flashMarker: maplibregl.Marker | undefined
  private lastFadeNow = 0
  private readonly pulseLayer: PulseLayer
  private readonly pulseGate = new PulseGate()
  private readonly popup: maplibregl.Popup
  /** The hovered feature (layer and id) the tooltip shows. */
  private hovered: string | undefined

  /** Throws if the live map cannot be created (after removing the basemap). */
  constructor(container: HTMLElement, hooks: MapHooks, options: MapPainterOptions) {
    this.hooks = hooks
    this.flash = options.flash
    const view = viewStore.getState()
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
    this.baseContainer = baseContainer
    const base = new maplibregl.Map({
      container: baseContainer,
      interactive: false,
      style: buildBasemapStyle(options.basemap),
      ...camera,
      attributionControl: false,
      fadeDuration: 0,
    })
    this.base = base
    base.getCanvas().dataset.testid = 'map-base-canvas'
    this.baseIdle = new Promise<void>((resolve) => {
      base.once('idle', () => resolve())
      base.once('error', () => resolve())
    })
    try {
      this.map = createLiveMap(container, view.layers, camera, options.wall)
    } catch (error) {
      base.remove()
      baseContainer.remove()
      throw error
    }
    window.__watchfloorMap = this.map
    window.__watchfloorBasemap = base

    this.followCamera()
    this.map.on('styleimagemissing', () => addIncidentIcons(this.map))
    this.watchStores()
    if (this.flash) this.cleanups.push(this.flash.subscribe(() => this.updateFlash()))
    this.cleanups.push(() => this.flashMarker?.remove())
    const fadeTimer = setInterval(() => this.refreshFade(), FADE_REFRESH_MS)
    this.cleanups.push(() => clearInterval(fadeTimer))
    // pulses: rings on one canvas over the map (see pulses.ts)
    this.pulseLayer = new PulseLayer(
      this.map.getContainer(),
      this.map,
      window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false,
    )
    this.cleanups.push(() => this.pulseLayer.remove())
    this.popup = new maplibregl.Popup({
      closeButton: false,
      closeOnClick: false,
      className: 'wf-map-tooltip',
      offset: 14,
      maxWidth: '280px',
    })
    this.cleanups.push(() => this.popup.remove())
    this.watchFrames()
    this.watchLifecycle()
    this.cleanups.push(registerMap({ settle: (timeoutMs) => this.settle(timeoutMs), capture: () => this.capture() }))
  }

  /** Remove both maps and everything drawn over them; stop listening to the stores. */
  destroy(): void {
    this.disposed = true
    for (const cleanup of this.cleanups) cleanup()
    if (window.__watchfloorMap === this.map) delete window.__watchfloorMap
    if (window.__watchfloorBasemap === this.base) delete window.__watchfloorBasemap
    this.map.remove()
    this.base.remove()
    this.baseContainer.remove()
  }

  /** The topmost shown incident, cluster or network at a point of the live map, if any. */
  featureAt(point: maplibregl.PointLike): maplibregl.MapGeoJSONFeature | undefined {
    const map = this.map
    const layers = INTERACTIVE_LAYERS.filter(
      (id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none',
    )
    return layers.length ? map.queryRenderedFeatures(point, { layers })[0] : undefined
  }

  /** Show the tooltip for a hovered feature (from `featureAt`), or hide it (undefined). */
  setHover(feature: maplibregl.MapGeoJSONFeature | undefined): void {
    if (!feature) {
      this.hovered = undefined
      this.popup.remove()
      return
    }
    const key = `${feature.layer.id}:${feature.id ?? feature.properties.cluster_id}`
    const at = (feature.geometry as Point).coordinates as [number, number]
    if (key !== this.hovered) {
      this.hovered = key
      this.popup.setDOMContent(tooltipFor(feature)).setLngLat(at)
      if (!this.popup.isOpen()) this.popup.addTo(this.map)
    }
  }

  /** The zoom at which an incident cluster breaks up; undefined before the incidents are drawn. */
  clusterExpansionZoom(clusterId: number): Promise<number> | undefined {
    return this.source(SOURCES.incidents)?.getClusterExpansionZoom(clusterId)
  }

  /** Draw the alarmed incidents (features/alarm) unclustered, over any cluster; call when they changed. */
  showAlarms(): void {
    if (!this.loaded) return
    const features: AnyFeature[] = []
    for (const alarm of alarmView.getState().alarms) {
      const feature = this.applied.incidents.get(alarm.incidentId)
      if (feature) features.push(feature)
    }
    if (features.length === this.alarmedShown.length && features.every((f, i) => f === this.alarmedShown[i])) return
    this.alarmedShown = features
    this.source(SOURCES.alarmed)?.setData({
      type: 'FeatureCollection',
      features: features.map((f) => ({ type: 'Feature', properties: f.properties, geometry: f.geometry })),
    })
  }

  /** Draw the view's selection (`selection` in the view store); call when it changed. */
  showSelection(): void {
    if (!this.loaded) return
    const id = viewStore.getState().selection
    const feature = id ? this.applied.incidents.get(id) : undefined
    if (feature === this.selectedShown) return
    this.selectedShown = feature
    this.source(SOURCES.selection)?.setData({
      type: 'FeatureCollection',
      features: feature ? [{ type: 'Feature', properties: feature.properties, geometry: feature.geometry }] : [],
    })
    const selected = id ?? ''
    this.map.setPaintProperty(LAYERS.attacks, 'line-width', [
      'interpolate',
      ['linear'],
      ['zoom'],
      1,
      ['case', ['==', ['get', 'incidentId'], selected], 3.2, 1.8],
      6,
      ['case', ['==', ['get', 'incidentId'], selected], 6, 4],
    ])
  }

  /** Show or hide the toggled layers (the view's `layers`). */
  showLayers(layers: Layers): void {
    if (!this.loaded) return
    for (const name of Object.keys(TOGGLED_LAYERS) as LayerName[])
      for (const layer of TOGGLED_LAYERS[name])
        if (this.map.getLayer(layer)) this.map.setLayoutProperty(layer, 'visibility', layers[name] ? 'visible' : 'none')
  }

  private source(id: string): maplibregl.GeoJSONSource | undefined {
    return this.map.getSource<maplibregl.GeoJSONSource>(id)
  }

  /** The basemap follows the live map's camera, drawn in the same frame as the live layers. */
  private followCamera(): void {
    const { map, base } = this
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
  }

  /** A sync on the next paced frame when the data changes, or the view's choice of it. */
  private watchStores(): void {
    this.cleanups.push(() => this.coalescer.cancel())
    this.cleanups.push(
      watchfloor.subscribe((s, prev) => {
        if (s.state === prev.state) return
        this.coalescer.push(null)
        // a replay (a seek, a step, back to live) is someone's request, not the stream: no waiting
        if (s.mode === 'replay' || prev.mode === 'replay') this.pace.hurry()
      }),
    )
    this.cleanups.push(
      viewStore.subscribe((v, prev) => {
        if (v.filters !== prev.filters || v.range !== prev.range || v.sort !== prev.sort) {
          // the user changed the view: on the next frame, whatever the pace
          this.coalescer.push(null)
          this.pace.hurry()
        }
      }),
    )
  }

  /** Bring the sources in step with the stores: derive features, send each source its diff. */
  private sync(): void {
    if (!this.loaded || this.disposed) return
    if (this.syncedOnce && !this.ready) return // picked up again once the map went idle
    const data = watchfloor.getState()
    const v = viewStore.getState()
    const incidents = selectFilteredIncidents(data.state, v.filters, v.range, v.sort)
    const entries = incidents.map((incident) => [incident.incidentId, incident] as const)
    const advisories = shownAdvisories(data.state.advisories, { range: v.range, tlps: v.filters.tlps })
    this.slots = this.slotAssigner.assign(incidents, data.state.networks)
    const next: Record<DynamicSource, FeatureMap> = {
      incidents: this.derivers.incidents.derive(entries),
      networks: this.derivers.networks.derive(data.state.networks),
      attacks: this.derivers.attacks.derive(
        latestAttacks(incidents, MAX_ATTACK_PATHS).map((incident) => [incident.incidentId, incident] as const),
      ),
      sharing: this.derivers.sharing.derive(advisories.map((a) => [a.advisoryId, a] as const)),
    }
    const updates: Promise<unknown>[] = []
    for (const key of Object.keys(DYNAMIC) as DynamicSource[]) {
      const diff = diffFeatures(this.applied[key], next[key])
      this.applied[key] = next[key]
      if (isEmptyDiff(diff)) continue
      const source = this.source(DYNAMIC[key])
      if (source)
        updates.push(
          sendDiff(
            source,
            diff,
            () => this.applied[key],
            (message, error) => console.warn(message, key, error),
          ),
        )
    }
    if (updates.length) this.lastUpdates = Promise.all(updates)
    this.newestArc = 0
    for (const arcs of [next.attacks, next.sharing])
      for (const arc of arcs.values()) this.newestArc = Math.max(this.newestArc, (arc as ArcFeature).properties.t)
    this.showSelection()
    this.showAlarms()
    this.updateFlash()
    if (this.ready) this.pulse(freshIncidents(incidents, this.seenSeq, this.shownIncidents), next.incidents)
    this.seenSeq = data.state.seq
    this.shownIncidents = new Map(entries)
    this.drawnNetworks = data.state.networks
    this.drawnAdvisories = advisories
    this.syncedOnce = true
  }

  /** Flash: a ring that pulses over one incident until told otherwise. */
  private updateFlash(): void {
    const id = this.loaded ? (this.flash?.getState().flash ?? null) : null
    const feature = id ? (this.applied.incidents.get(id) as IncidentFeature | undefined) : undefined
    if (!feature) {
      this.flashMarker?.remove()
      this.flashMarker = undefined
      return
    }
    const [lng = 0, lat = 0] = feature.geometry.coordinates
    const [dx = 0, dy = 0] = SLOT_OFFSETS[feature.properties.slot] ?? []
    if (!this.flashMarker) {
      const element = document.createElement('div')
      element.className = 'wf-map-flash'
      element.dataset.testid = 'map-flash'
      const ring = document.createElement('div')
      ring.className = 'wf-map-flash-ring' // the marker positions the element by transform: animate a child
      element.append(ring)
      this.flashMarker = new maplibregl.Marker({ element, anchor: 'center' })
    }
    this.flashMarker.setOffset([dx, dy]).setLngLat([lng, lat]).addTo(this.map)
    this.flashMarker.getElement().dataset.incidentId = id ?? ''
  }

  /** Arcs fade with age. */
  private refreshFade(force = false): void {
    if (!this.loaded) return
    // the replay playhead while replaying, else the server's now: arcs are timed by what it stamped,
    // so a kiosk whose clock is fast does not draw them all faded
    const now = serverDisplayNow(watchfloor.getState().clockOffsetMs)
    // nothing left fading since the last refresh: the expression would paint the same (unless time went back)
    if (!force && this.newestArc < this.lastFadeNow - ARC_FADE_MS && now >= this.lastFadeNow) return
    this.lastFadeNow = now
    this.map.setPaintProperty(LAYERS.attacks, 'line-opacity', recencyOpacityExpression(now, ARC_FADE_MS, 0.2) as never)
    this.map.setPaintProperty(
      LAYERS.sharing,
      'line-opacity',
      recencyOpacityExpression(now, ARC_FADE_MS, 0.1, 0.6) as never,
    )
  }

  /** Pulse what arrived or changed (see PulseGate.ts), while incidents are shown. */
  private pulse(incidents: IncidentState[], features: FeatureMap): void {
    if (!viewStore.getState().layers.incidents || incidents.length === 0) return
    const now = performance.now()
    for (const pulse of this.pulseGate.admit(incidents, features, now, this.pulseLayer.size)) this.pulseLayer.add(pulse)
  }

  /** Dynamic resolution: without a GPU, fewer pixels per frame (see resolution.ts). */
  private watchFrames(): void {
    const { map, base, governor } = this
    const devicePixelRatio = window.devicePixelRatio || 1
    let mapRendered = false
    map.on('render', () => {
      mapRendered = true
    })
    let lastFrame = performance.now()
    const watchFrames = (now: number) => {
      const ms = now - lastFrame
      lastFrame = now
      // a frame after a hidden spell is not slow rendering
      if (mapRendered && !this.skipSample && document.visibilityState === 'visible') {
        const scale = governor.frame(ms)
        if (scale !== null) {
          console.info(`map: frames run long (${Math.round(ms)} ms); drawing at ${scale * 100} % resolution`)
          map.setPixelRatio(devicePixelRatio * scale)
          base.setPixelRatio(devicePixelRatio * scale)
        }
      }
      mapRendered = false
      this.skipSample = false
      frameRequest = requestAnimationFrame(watchFrames)
    }
    let frameRequest = requestAnimationFrame(watchFrames)
    this.cleanups.push(() => cancelAnimationFrame(frameRequest))
  }

  /** The first sync once the style loaded, ready once drawn; a GPU reset loses both contexts: rebuild once. */
  private watchLifecycle(): void {
    const { map, base, hooks } = this
    map.on('load', () => {
      if (this.disposed) return
      this.loaded = true
      addIncidentIcons(map)
      this.showLayers(viewStore.getState().layers)
      this.refreshFade(true)
      this.sync()
      map.once('idle', () => {
        if (this.disposed) return
        this.ready = true
        this.coalescer.push(null) // whatever arrived meanwhile
        // ready for the page once the basemap has drawn too
        void this.baseIdle.then(() => {
          if (!this.disposed) hooks.onReady()
        })
      })
    })
    let lost = false
    let rebuilding = false
    for (const m of [map, base]) {
      m.on('error', (e) => console.warn('map:', e.error?.message ?? e))
      m.on('webglcontextlost', () => {
        if (lost) return
        lost = true
        console.warn('map: WebGL context lost; the map will be rebuilt when it is restored')
        this.coalescer.cancel()
        hooks.onLost()
      })
      m.on('webglcontextrestored', () => {
        if (rebuilding) return
        rebuilding = true
        console.info('map: WebGL context restored; rebuilding the map')
        hooks.onRebuild()
      })
    }
  }

  /** For other features (report snapshots): take in pending changes, resolve once drawn. */
  private async settle(timeoutMs = 1500): Promise<void> {
    if (!this.loaded || this.disposed) return
    this.coalescer.flushNow()
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs))
    const drawn = (async () => {
      await this.lastUpdates
      if (this.disposed || (this.map.loaded() && this.map.areTilesLoaded())) return
      await new Promise<void>((resolve) => this.map.once('idle', () => resolve()))
    })()
    await Promise.race([drawn, deadline])
  }

  /** For other features (report snapshots): both maps as one PNG, drawn now, and the marking of what they show. */
  private capture(): MapCapture | null {
    try {
      const live = this.map.getCanvas()
      const image = document.createElement('canvas')
      image.width = live.width
      image.height = live.height
      const context = image.getContext('2d')
      if (!context) return null
      // both drawn now, live layers first (its pending camera step moves the basemap too);
      // without preserveDrawingBuffer each canvas holds its frame until this task ends
      this.map.redraw()
      this.base.redraw()
      this.skipSample = true
      context.drawImage(this.base.getCanvas(), 0, 0, image.width, image.height)
      context.drawImage(live, 0, 0)
      const marking = drawnMarking({
        incidents: this.shownIncidents.values(),
        networks: this.drawnNetworks.values(),
        advisories: this.drawnAdvisories,
      })
      return { dataUrl: image.toDataURL('image/png'), marking }
    } catch {
      return null
    }
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

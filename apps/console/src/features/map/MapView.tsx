import { SEVERITIES_DESCENDING } from '@watchfloor/core'
import type { Posture } from '@watchfloor/protocol'
import { type JSX, type ReactNode, type RefObject, useEffect, useLayoutEffect, useRef, useState } from 'react'
import { SeverityShape } from '../../ui/badges.tsx'
import { ChunkNotice } from '../../ui/ChunkBoundary.tsx'
import { useFilteredIncidents } from '../../view/selectors.ts'
import { LAYER_NAMES, type LayerName } from '../../view/view.ts'
import { useView, viewStore } from '../../view/viewStore.ts'
import { type FlashSource, loadMapFonts, MAP_WORKER_URL, mountMap } from './controller.ts'
import { ATTACK_COLOUR, COUNTRY_COLOURS, POSTURE_COLOURS, POSTURE_STROKE, POSTURES, SHARING_COLOUR } from './style.ts'
import './map.css'

/** A wall whose map could not be loaded reloads itself after this long (nobody is there to press Reload). */
const WALL_RELOAD_MS = 10_000

/**
 * Is MapLibre's worker there to be loaded? A console left open across an upgrade asks for the old
 * build's file, which is gone (404): the map would stay blank with no word of why. Unanswered (the
 * server away), it is taken as there: the map tries, and the connection's state says the rest.
 */
async function workerThere(): Promise<boolean> {
  try {
    const response = await fetch(MAP_WORKER_URL, { method: 'HEAD', cache: 'no-store' })
    return response.status !== 404
  } catch {
    return true
  }
}

/** A map shorter than this (CSS px) starts with its legend closed: open, it would cover most of it. */
const SHORT_MAP_PX = 300
/**
 * The viewer's own choice of the legend and of the layers, open or closed, for as long as the page
 * is open (the map is made again after a lost WebGL context).
 */
const chosenOpen: { legend: boolean | null; layers: boolean | null } = { legend: null, layers: null }

const LAYER_LABELS: Record<LayerName, string> = {
  networks: 'Networks',
  incidents: 'Incidents',
  attacks: 'Attack paths',
  sharing: 'Sharing flows',
}

/**
 * The live map: allied networks by posture, incidents by severity (clustered), attack paths and
 * sharing flows, over an offline basemap. Fills its parent.
 */
export function MapView({ wall = false, flash }: { wall?: boolean; flash?: FlashSource } = {}): JSX.Element {
  const containerRef = useRef<HTMLDivElement>(null)
  const mapRef = useRef<HTMLDivElement>(null)
  const [ready, setReady] = useState(false)
  /** The map's own files could not be had (its worker gone after an upgrade), or it could not be made. */
  const [failed, setFailed] = useState(false)
  const [generation, setGeneration] = useState(0)
  const short = useShorterThan(mapRef, SHORT_MAP_PX)

  // biome-ignore lint/correctness/useExhaustiveDependencies: `generation` remounts the map after a lost WebGL context
  useEffect(() => {
    const container = containerRef.current
    if (!container) return
    let teardown: (() => void) | undefined
    let cancelled = false
    setReady(false)
    void Promise.all([loadMapFonts(), workerThere()]).then(([, there]) => {
      if (cancelled) return
      if (!there) {
        setFailed(true)
        return
      }
      try {
        teardown = mountMap(
          container,
          {
            onReady: () => setReady(true),
            onLost: () => setReady(false),
            onRebuild: () => {
              setReady(false)
              setGeneration((g) => g + 1)
            },
          },
          flash ? { wall, flash } : { wall },
        )
      } catch (error) {
        // WebGL refused (no GPU, a context not given): not files gone, so no notice of an upgrade
        // and no reload; the rest of the page goes on (a lost context is made again by onRebuild)
        console.error('map: could not create the map', error)
      }
    })
    return () => {
      cancelled = true
      teardown?.()
    }
  }, [generation])

  // unattended, a wall reloads itself (as ChunkBoundary's parts do)
  useEffect(() => {
    if (!failed || !wall) return
    const timer = setTimeout(() => window.location.reload(), WALL_RELOAD_MS)
    return () => clearTimeout(timer)
  }, [failed, wall])

  return (
    <div ref={mapRef} className="wf-map" data-testid="map" data-ready={ready ? 'true' : 'false'}>
      {failed && (
        <div className="wf-map-failed">
          <ChunkNotice what="the map" reloadAfterMs={wall ? WALL_RELOAD_MS : undefined} />
        </div>
      )}
      <div ref={containerRef} className="wf-map-canvas" key={generation} />
      {/* no map, no key to it: the notice stands alone */}
      {!wall && !failed && (
        <>
          <div className="wf-map-overlay wf-map-overlay-top">
            <MapLayers short={short} />
          </div>
          <div className="wf-map-overlay wf-map-overlay-bottom">
            <MapLegend short={short} />
          </div>
        </>
      )}
    </div>
  )
}

/**
 * The layers: open, unless the map is short (opened over a replay's map at 1280 x 800, they covered
 * its zoom buttons); once the viewer opens or closes them, as they chose.
 */
function MapLayers({ short }: { short: boolean }) {
  const layers = useView((v) => v.layers)
  return (
    <Collapsible which="layers" short={short} className="wf-map-layers" testId="map-layers" title="Layers">
      {LAYER_NAMES.map((name) => (
        <label key={name}>
          <input
            type="checkbox"
            data-testid={`layer-${name}`}
            checked={layers[name]}
            onChange={(e) => viewStore.getState().toggleLayer(name, e.target.checked)}
          />
          {LAYER_LABELS[name]}
          {name === 'incidents' && <IncidentCount />}
        </label>
      ))}
    </Collapsible>
  )
}

/** A panel over the map that starts closed on a short map and then keeps the viewer's choice. */
function Collapsible({
  which,
  short,
  className,
  testId,
  title,
  children,
}: {
  which: keyof typeof chosenOpen
  short: boolean
  className: string
  testId: string
  title: string
  children: ReactNode
}) {
  const [chosen, setChosen] = useState<boolean | null>(chosenOpen[which])
  const open = chosen ?? !short
  return (
    <details
      className={className}
      data-testid={testId}
      open={open}
      onToggle={(event) => {
        // React setting `open` toggles it too: only a change it did not make is the viewer's
        if (event.currentTarget.open === open) return
        chosenOpen[which] = event.currentTarget.open
        setChosen(chosenOpen[which])
      }}
    >
      <summary>{title}</summary>
      {children}
    </details>
  )
}

function IncidentCount() {
  const count = useFilteredIncidents().length
  return (
    <span className="wf-map-count" data-testid="map-incident-count">
      {count}
    </span>
  )
}

function PostureRing({ posture }: { posture: Posture }) {
  const stroke = POSTURE_STROKE[posture]
  const r = 3 + stroke
  return (
    <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
      <circle cx="8" cy="8" r={r} fill="#0b1520" stroke={POSTURE_COLOURS[posture]} strokeWidth={stroke} />
    </svg>
  )
}

/** Whether the element is shorter than `px` (CSS px), as it is resized; measured before the first paint. */
function useShorterThan(ref: RefObject<HTMLElement | null>, px: number): boolean {
  const [shorter, setShorter] = useState(false)
  useLayoutEffect(() => {
    const element = ref.current
    if (!element) return
    setShorter(element.clientHeight < px)
    const observer = new ResizeObserver(() => setShorter(element.clientHeight < px))
    observer.observe(element)
    return () => observer.disconnect()
  }, [ref, px])
  return shorter
}

/**
 * The legend: open, unless the map is short (a replay's bar on a 1280 x 800 screen leaves it about
 * 250 px, which the legend would mostly cover); once the viewer opens or closes it, as they chose.
 */
function MapLegend({ short }: { short: boolean }) {
  return (
    <Collapsible which="legend" short={short} className="wf-map-legend" testId="map-legend" title="Legend">
      <div className="wf-map-legend-body">
        <div className="wf-map-legend-group">
          <div className="wf-map-legend-title">Incidents</div>
          {SEVERITIES_DESCENDING.map((severity) => (
            <div key={severity} className="wf-map-legend-row" data-severity={severity}>
              <SeverityShape severity={severity} />
              {severity}
            </div>
          ))}
          <div className="wf-map-legend-row">
            <span className="wf-map-legend-cluster">n</span>
            cluster (colour: worst)
          </div>
        </div>
        <div className="wf-map-legend-group">
          <div className="wf-map-legend-title">Network posture</div>
          {POSTURES.map((posture) => (
            <div key={posture} className="wf-map-legend-row" data-posture={posture}>
              <PostureRing posture={posture} />
              {posture}
            </div>
          ))}
        </div>
        <div className="wf-map-legend-group">
          <div className="wf-map-legend-title">Arcs (fade with age)</div>
          <div className="wf-map-legend-row">
            <svg width="22" height="8" aria-hidden="true">
              <defs>
                <linearGradient id="wf-attack-gradient" gradientUnits="userSpaceOnUse" x1="1" y1="0" x2="21" y2="0">
                  <stop offset="0" stopColor={ATTACK_COLOUR} stopOpacity="0.1" />
                  <stop offset="1" stopColor={ATTACK_COLOUR} />
                </linearGradient>
              </defs>
              <line x1="1" y1="4" x2="21" y2="4" stroke="url(#wf-attack-gradient)" strokeWidth="3" />
            </svg>
            attack path → target
          </div>
          <div className="wf-map-legend-row">
            <svg width="22" height="8" aria-hidden="true">
              <line x1="1" y1="4" x2="21" y2="4" stroke={SHARING_COLOUR} strokeWidth="2" strokeDasharray="3 3" />
            </svg>
            advisory sharing
          </div>
        </div>
        <div className="wf-map-legend-group">
          <div className="wf-map-legend-title">Countries</div>
          <div className="wf-map-legend-row">
            <span className="wf-map-legend-swatch" style={{ background: COUNTRY_COLOURS.member }} />
            alliance member
          </div>
          <div className="wf-map-legend-row">
            <span className="wf-map-legend-swatch" style={{ background: COUNTRY_COLOURS.partner }} />
            partner
          </div>
        </div>
      </div>
    </Collapsible>
  )
}

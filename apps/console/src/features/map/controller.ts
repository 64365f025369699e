/**
 * The imperative side of the live map, which MapView.tsx mounts: a MapPainter draws the maps and
 * keeps them in step with the stores, a MapInput listens to the pointer, the camera and the view
 * and tells the painter or the view store (as MapLibre splits its Map from its handlers).
 */
import '@fontsource/noto-sans'
import countries50m from 'world-atlas/countries-50m.json'
import { type Basemap, buildBasemap, type Topology } from './basemap.ts'
import { MapInput } from './MapInput.ts'
import { type FlashSource, type MapHooks, MapPainter } from './MapPainter.ts'
import { FONT_FAMILY } from './style.ts'

export type { FlashSource, MapHooks } from './MapPainter.ts'
export { MAP_WORKER_URL, MAX_ATTACK_PATHS, SLOW_SYNC_MS } from './MapPainter.ts'

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

export interface MapOptions {
  /**
   * A wall: no controls, no pointer or keyboard interaction, the camera stays where the view
   * puts it. Default false.
   */
  wall?: boolean
  /** The incident whose location flashes until it is null again (the wall's pinned critical). */
  flash?: FlashSource
}

/**
 * Create the map in `container`; returns the teardown.
 *
 * Two MapLibre maps, one over the other, the basemap drawn only when the camera moves (see
 * MapPainter for why); the live map is the interactive one, and MapInput listens to it.
 */
export function mountMap(container: HTMLElement, hooks: MapHooks, options: MapOptions = {}): () => void {
  const painter = new MapPainter(container, hooks, {
    basemap: getBasemap(),
    wall: options.wall ?? false,
    ...(options.flash ? { flash: options.flash } : {}),
  })
  const input = new MapInput(painter)
  return () => {
    input.destroy()
    painter.destroy()
  }
}

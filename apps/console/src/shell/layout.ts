/**
 * The picture's room: how wide the side panel is, how tall the incident detail is above the
 * tabs, and whether the side panel takes the whole width (the map and the timeline set aside).
 * Set by dragging or with the keyboard on the separators, remembered in this browser
 * (localStorage); a double click on a separator gives the default back.
 */
import { createStore } from 'zustand/vanilla'

export interface Layout {
  /** The side panel's width in CSS px; null: the default (34% of the page, at least 22rem). */
  sidebarPx: number | null
  /** The incident detail's height in CSS px; null: the default (48% of the page's height at most). */
  detailPx: number | null
  /** The side panel over the whole width. */
  wide: boolean
}

export const DEFAULT_LAYOUT: Layout = { sidebarPx: null, detailPx: null, wide: false }

/** The narrowest the side panel and the map may each be, and the least height of the detail and the tabs. */
export const MIN_SIDEBAR_PX = 320
export const MIN_STAGE_PX = 360
export const MIN_DETAIL_PX = 120
export const MIN_TABS_PX = 160

/** A keyboard step on a separator, and with Shift. */
export const STEP_PX = 16
export const BIG_STEP_PX = 80

/** `value` kept within [min, max]; when the room is smaller than the minimum, the minimum wins. */
export function clampSize(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return min
  return Math.round(Math.max(min, Math.min(value, Math.max(min, max))))
}

/** The widths the side panel may take in a page `pageWidth` wide. */
export function sidebarBounds(pageWidth: number): { min: number; max: number } {
  return { min: MIN_SIDEBAR_PX, max: Math.max(MIN_SIDEBAR_PX, pageWidth - MIN_STAGE_PX) }
}

/** The heights the detail may take in a side panel `panelHeight` tall. */
export function detailBounds(panelHeight: number): { min: number; max: number } {
  return { min: MIN_DETAIL_PX, max: Math.max(MIN_DETAIL_PX, panelHeight - MIN_TABS_PX) }
}

/** The size a key asks for, or null for any other key. Arrows towards the start make the pane smaller. */
export function sizeForKey(
  key: string,
  shift: boolean,
  current: number,
  bounds: { min: number; max: number },
  grows: 'forward' | 'backward',
): number | null {
  const step = shift ? BIG_STEP_PX : STEP_PX
  const forward = grows === 'forward' ? step : -step
  switch (key) {
    case 'ArrowRight':
    case 'ArrowDown':
      return clampSize(current + forward, bounds.min, bounds.max)
    case 'ArrowLeft':
    case 'ArrowUp':
      return clampSize(current - forward, bounds.min, bounds.max)
    case 'Home':
      return bounds.min
    case 'End':
      return bounds.max
    default:
      return null
  }
}

const STORAGE_KEY = 'watchfloor.layout'

/** A stored layout read back, anything unexpected dropped to its default. */
export function parseLayout(text: string | null): Layout {
  if (!text) return DEFAULT_LAYOUT
  try {
    const raw = JSON.parse(text) as Partial<Record<keyof Layout, unknown>>
    const size = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v) : null)
    return { sidebarPx: size(raw.sidebarPx), detailPx: size(raw.detailPx), wide: raw.wide === true }
  } catch {
    return DEFAULT_LAYOUT
  }
}

function load(): Layout {
  try {
    return parseLayout(globalThis.localStorage?.getItem(STORAGE_KEY) ?? null)
  } catch {
    return DEFAULT_LAYOUT
  }
}

export const layout = createStore<Layout>(() => load())

layout.subscribe((now) => {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(now))
  } catch {
    // private mode or a full storage: the layout holds for this page only
  }
})

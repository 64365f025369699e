/**
 * The map's camera as the view records it (`view.map`, which the address bar shows), and the
 * other way: when the view moved far enough that the camera should follow. Pure.
 *
 * The two go round a loop: a camera move records a view, and a new view moves the camera. A
 * recorded view is rounded (4 decimals of a degree, 2 of zoom), well inside the tolerance for
 * following, so the map's own moves never make it jump back.
 */
import type { MapView } from '../../view/view.ts'

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits

/** How far (degrees) the camera's centre may be from the view's before it follows. */
export const CENTRE_TOLERANCE = 1e-3
/** How far the camera's zoom may be from the view's before it follows. */
export const ZOOM_TOLERANCE = 1e-2

/** The view to record for a camera at `center` (wrapped to -180..180) and `zoom`: rounded. */
export function cameraView(center: { lng: number; lat: number }, zoom: number): MapView {
  return { lng: round(center.lng, 4), lat: round(center.lat, 4), zoom: round(zoom, 2) }
}

/** Whether two recorded views are the same (then there is nothing to record). */
export function sameView(a: MapView, b: MapView): boolean {
  return a.lng === b.lng && a.lat === b.lat && a.zoom === b.zoom
}

/**
 * Whether the camera (`current`, unrounded) is beyond the tolerance from the view `wanted`, so
 * that someone else moved the view (a link, history) and the camera should jump to it.
 */
export function viewMovedAway(current: MapView, wanted: MapView): boolean {
  return (
    Math.abs(current.lng - wanted.lng) > CENTRE_TOLERANCE ||
    Math.abs(current.lat - wanted.lat) > CENTRE_TOLERANCE ||
    Math.abs(current.zoom - wanted.zoom) > ZOOM_TOLERANCE
  )
}

/**
 * Map snapshots for after-action reports: a PNG of the map canvas taken at a chosen moment (live,
 * or a replay's playhead), kept in memory for this tab. The map is drawn without
 * `preserveDrawingBuffer`, so the capture happens inside a `render` event, right after a frame.
 */
import { createStore } from 'zustand/vanilla'

export interface MapSnapshot {
  /** The incident it was taken for (null: none). */
  incidentId: string | null
  /** The moment shown (epoch ms) and in words. */
  at: number
  label: string
  dataUrl: string
}

export const snapshots = createStore<{ list: MapSnapshot[] }>()(() => ({ list: [] }))

/** The most snapshots kept (they are a few hundred KB each). */
const MAX_SNAPSHOTS = 12

/** Capture the map as it is drawn now; null when there is no map (or it cannot be read) within `timeoutMs`. */
export function captureMapImage(timeoutMs = 1500): Promise<string | null> {
  const map = typeof window === 'undefined' ? undefined : window.__watchfloorMap
  if (!map) return Promise.resolve(null)
  return new Promise((resolve) => {
    let done = false
    const finish = (value: string | null) => {
      if (done) return
      done = true
      map.off('render', onRender)
      resolve(value)
    }
    const onRender = () => {
      try {
        finish(map.getCanvas().toDataURL('image/png'))
      } catch {
        finish(null)
      }
    }
    map.on('render', onRender)
    map.triggerRepaint()
    setTimeout(() => finish(null), timeoutMs)
  })
}

/** Capture and keep a snapshot; returns it (null when there was no map to capture). */
export async function takeSnapshot(incidentId: string | null, at: number, label: string): Promise<MapSnapshot | null> {
  const dataUrl = await captureMapImage()
  if (!dataUrl) return null
  const snapshot = { incidentId, at, label, dataUrl }
  snapshots.setState({ list: [...snapshots.getState().list, snapshot].slice(-MAX_SNAPSHOTS) })
  return snapshot
}

/** The snapshots for one incident's report (and those taken for no incident), oldest moment first. */
export function snapshotsFor(list: readonly MapSnapshot[], incidentId: string): MapSnapshot[] {
  return list.filter((s) => s.incidentId === incidentId || s.incidentId === null).sort((a, b) => a.at - b.at)
}

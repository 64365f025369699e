/**
 * Map snapshots for after-action reports: a PNG of the map (the basemap with the live layers over
 * it) taken at a chosen moment (live, or a replay's playhead), kept in memory for this tab. The
 * maps are drawn without `preserveDrawingBuffer`, so each is drawn again and read in one go.
 */
import { createStore } from 'zustand/vanilla'
import { mapHandle } from '../map/handle.ts'

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

/**
 * Capture the map once it has drawn what the picture holds now (a replay seek a moment ago
 * included); null when there is no map or it cannot be read.
 */
export async function captureMapImage(): Promise<string | null> {
  const handle = mapHandle()
  if (!handle) return null
  await handle.settle()
  return mapHandle()?.capture() ?? null
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

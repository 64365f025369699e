/**
 * Map snapshots for after-action reports: a PNG of the map (the basemap with the live layers over
 * it) taken at a chosen moment (live, or a replay's playhead), kept in memory for this tab and
 * this viewer (features/viewas/viewAs.ts `wireViewAs` clears them for another). Each keeps the
 * marking of what the map drew, which the report's banner counts. The maps are drawn without
 * `preserveDrawingBuffer`, so each is drawn again and read in one go.
 */
import type { DocumentMarking } from '@watchfloor/core'
import { createStore } from 'zustand/vanilla'
import { type MapCapture, mapHandle } from '../map/handle.ts'

export interface MapSnapshot {
  /** The incident it was taken for (null: none). */
  incidentId: string | null
  /** The moment shown (epoch ms) and in words. */
  at: number
  label: string
  dataUrl: string
  /** [M1] The marking of what the map drew: the incidents, networks and advisories it was given. */
  marking: DocumentMarking
}

export const snapshots = createStore<{ list: MapSnapshot[] }>()(() => ({ list: [] }))

/** The most snapshots kept (they are a few hundred KB each). */
const MAX_SNAPSHOTS = 12

/** Counts `clearSnapshots`: a capture under way when the viewer changed is not kept. */
let viewer = 0

/** Forget every snapshot (another viewer: what the old one's map drew is not theirs). */
export function clearSnapshots(): void {
  viewer++
  if (snapshots.getState().list.length > 0) snapshots.setState({ list: [] })
}

/**
 * Capture the map once it has drawn what the picture holds now (a replay seek a moment ago
 * included), with the marking of what it drew; null when there is no map or it cannot be read.
 */
export async function captureMapImage(): Promise<MapCapture | null> {
  const handle = mapHandle()
  if (!handle) return null
  await handle.settle()
  return mapHandle()?.capture() ?? null
}

/** Capture and keep a snapshot; returns it (null when there was no map to capture). */
export async function takeSnapshot(incidentId: string | null, at: number, label: string): Promise<MapSnapshot | null> {
  const mine = viewer
  const captured = await captureMapImage()
  if (!captured || mine !== viewer) return null
  const snapshot = { incidentId, at, label, dataUrl: captured.dataUrl, marking: captured.marking }
  snapshots.setState({ list: [...snapshots.getState().list, snapshot].slice(-MAX_SNAPSHOTS) })
  return snapshot
}

/** The snapshots for one incident's report (and those taken for no incident), oldest moment first. */
export function snapshotsFor(list: readonly MapSnapshot[], incidentId: string): MapSnapshot[] {
  return list.filter((s) => s.incidentId === incidentId || s.incidentId === null).sort((a, b) => a.at - b.at)
}

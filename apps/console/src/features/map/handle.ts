/**
 * What other features may ask of the mounted map (report snapshots), without importing MapLibre:
 * the controller registers a handle while a map is mounted.
 */
export interface MapHandle {
  /** Take in pending changes now and resolve once the map has drawn them (or after `timeoutMs`). */
  settle(timeoutMs?: number): Promise<void>
  /** The basemap and the live layers as one PNG data URL, drawn now; null if it cannot be read. */
  capture(): string | null
}

let current: MapHandle | null = null

/** The mounted map's handle, or null when no map is mounted. */
export function mapHandle(): MapHandle | null {
  return current
}

/** Register the mounted map; returns the unregistration (a no-op once another map registered). */
export function registerMap(handle: MapHandle): () => void {
  current = handle
  return () => {
    if (current === handle) current = null
  }
}

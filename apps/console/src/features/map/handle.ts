/**
 * What other features may ask of the mounted map (report snapshots), without importing MapLibre:
 * the controller registers a handle while a map is mounted.
 */
import {
  type AdvisoryState,
  type DocumentMarking,
  documentMarking,
  type IncidentState,
  type NetworkState,
} from '@watchfloor/core'
import type { Marking } from '@watchfloor/protocol'

/** A picture of the map and the marking of what it drew. */
export interface MapCapture {
  /** The basemap and the live layers as one PNG data URL. */
  dataUrl: string
  /** [M1] The strictest marking of the incidents, networks and advisories the map was given. */
  marking: DocumentMarking
}

export interface MapHandle {
  /** Take in pending changes now and resolve once the map has drawn them (or after `timeoutMs`). */
  settle(timeoutMs?: number): Promise<void>
  /** The basemap and the live layers, drawn now, with their marking; null if it cannot be read. */
  capture(): MapCapture | null
}

/** What a sync gave the map's sources (MapPainter `sync`), as marked things. */
export interface Drawn {
  /** The incidents after the view's filters (their markers, attack arcs, alarmed and selected markers). */
  incidents: Iterable<IncidentState>
  /** The networks, each with the marking of what shaped it. */
  networks: Iterable<NetworkState>
  /** The advisories whose sharing arcs are drawn (`shownAdvisories`). */
  advisories: Iterable<AdvisoryState>
}

/**
 * [M1] The marking of a map picture: the strictest of everything the map was given, whether a
 * layer was switched off or not (never less than the picture shows): incidents (every event folded
 * into each), networks (their registrations and posture changes) and advisories.
 */
export function drawnMarking(drawn: Drawn): DocumentMarking {
  const markings: Marking[] = []
  // an incident's symbol says its severity, status and observation counts: every event folded into it
  for (const incident of drawn.incidents) markings.push(incident.contentMarking)
  for (const network of drawn.networks) markings.push(network.marking)
  for (const advisory of drawn.advisories) markings.push(advisory.marking)
  return documentMarking(markings)
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

/**
 * Watchfloor as a MISP feed, pure: what the server serves under `/misp/feed/` to a MISP instance
 * that pulls it (Sync Actions > Feeds, source format "MISP Feed"). MISP fetches
 * `<url>/manifest.json` (event uuid -> summary), then `<url>/<uuid>.json` for each event it lacks
 * or that grew (a later `timestamp`), and `<url>/hashes.csv` to cache the feed for correlation.
 * The server builds the feed from the caller's own picture and visible events, so a feed token
 * sees exactly what its organisation may see; RED incidents are never in it.
 */

import { type IncidentState, incidentOf, type State } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { WatchfloorError } from '@watchfloor/protocol'
import { exportMispEvent, type MispDirectory } from './mispExport.ts'
import { DISTRIBUTION, type MispEventDocument, type MispManifest } from './mispFormat.ts'
import { md5Hex } from './mispHash.ts'
import { isUuid } from './uuid.ts'

/** manifest.json: every event's uuid with the fields MISP decides on (its `timestamp` says whether to pull again). */
export function mispFeedManifest(exported: readonly MispEventDocument[]): MispManifest {
  const manifest: MispManifest = {}
  for (const { Event: e } of exported) {
    manifest[e.uuid] = {
      info: e.info,
      date: e.date,
      threat_level_id: e.threat_level_id,
      analysis: e.analysis,
      timestamp: e.timestamp,
      Orgc: { ...e.Orgc },
      Tag: e.Tag.map((tag) => ({ ...tag })),
    }
  }
  return manifest
}

/**
 * hashes.csv: `md5(value),event uuid` per attribute value (each part of a composite `a|b` type),
 * what MISP's "cache feed" reads to correlate without downloading every event.
 */
export function mispFeedHashes(exported: readonly MispEventDocument[]): string {
  const lines: string[] = []
  for (const { Event: e } of exported)
    for (const attribute of e.Attribute) {
      const values = attribute.type.includes('|') ? attribute.value.split('|') : [attribute.value]
      for (const value of values) lines.push(`${md5Hex(value)},${e.uuid}`)
    }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

export interface MispFeed {
  manifest: MispManifest
  /** Each event's `{ "Event": ... }` by its uuid: the body of `/misp/feed/<uuid>.json`. */
  events: ReadonlyMap<string, MispEventDocument>
  /** The body of `/misp/feed/hashes.csv`. */
  hashes: string
}

export interface MispFeedOptions {
  directory?: MispDirectory
  /** Which incidents to serve (default: all but RED, which never leaves). */
  include?: (incident: IncidentState) => boolean
  /**
   * Keep attributes marked stricter than their event (own distribution and TLP tag). Default false:
   * a MISP feed whose distribution setting is not "Inherit from feed" rewrites every attribute to
   * inherit the event's distribution, which would widen them, so the feed leaves them out.
   */
  keepStricterObservations?: boolean
}

/**
 * The whole feed of one caller: every incident of its picture (but RED ones) exported with the
 * caller's visible events about it, without the observations marked stricter than their incident
 * unless asked. Cache it by the picture's seq: it changes only when that does.
 */
export function mispFeed(picture: State, events: readonly StoredEvent[], options: MispFeedOptions = {}): MispFeed {
  const byIncident = new Map<string, StoredEvent[]>()
  for (const event of events) {
    const incidentId = incidentOf(event, picture)
    if (incidentId === undefined || !picture.incidents.has(incidentId)) continue
    const list = byIncident.get(incidentId)
    if (list === undefined) byIncident.set(incidentId, [event])
    else list.push(event)
  }
  const exported: MispEventDocument[] = []
  for (const incident of picture.incidents.values()) {
    if (incident.marking.tlp === 'RED') continue
    if (options.include !== undefined && !options.include(incident)) continue
    let document: MispEventDocument
    try {
      document = exportMispEvent(
        incident.incidentId,
        byIncident.get(incident.incidentId) ?? [],
        picture,
        options.directory,
      )
    } catch (error) {
      // RED once its updates count: it never leaves
      if (error instanceof WatchfloorError && error.code === 'forbidden') continue
      throw error
    }
    if (!options.keepStricterObservations)
      document.Event.Attribute = document.Event.Attribute.filter((a) => a.distribution === String(DISTRIBUTION.inherit))
    exported.push(document)
  }
  return {
    manifest: mispFeedManifest(exported),
    events: new Map(exported.map((document) => [document.Event.uuid, document])),
    hashes: mispFeedHashes(exported),
  }
}

/** What a request under `/misp/feed/` asks for. */
export type MispFeedRequest = { kind: 'manifest' } | { kind: 'hashes' } | { kind: 'event'; uuid: string }

/**
 * Read the path after `/misp/feed` (`/manifest.json`, `/hashes.csv`, `/<uuid>.json`; a query is
 * ignored). MISP joins the feed URL and the file with a `/`, so a URL saved with a trailing slash
 * asks for `//manifest.json`: empty segments are ignored. Undefined for anything else (404).
 */
export function parseMispFeedPath(tail: string): MispFeedRequest | undefined {
  const path = tail.split(/[?#]/)[0]!
  const segments = path.split('/').filter((s) => s !== '')
  if (segments.length !== 1) return undefined
  const file = segments[0]!
  if (file === 'manifest.json') return { kind: 'manifest' }
  if (file === 'hashes.csv') return { kind: 'hashes' }
  const match = /^(.+)\.json$/.exec(file)
  if (match && isUuid(match[1])) return { kind: 'event', uuid: match[1].toLowerCase() }
  return undefined
}

/** The Content-Type of each feed file. */
export const MISP_FEED_CONTENT_TYPE: Readonly<Record<MispFeedRequest['kind'], string>> = {
  manifest: 'application/json; charset=utf-8',
  event: 'application/json; charset=utf-8',
  hashes: 'text/csv; charset=utf-8',
}

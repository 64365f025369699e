import type { AnyFeature, FeatureMap, SourceDiff } from './features.ts'

/** What of a GeoJSON source the map's sync uses: the diff it sends, and the whole set when a diff failed. */
export interface DiffedSource {
  updateData(diff: SourceDiff): Promise<unknown>
  setData(data: GeoJSON.FeatureCollection): unknown
}

/**
 * Send a source its diff. A diff that fails leaves the source out of step with what the painter
 * believes it holds, and every later diff would be reckoned from that belief: so the source is then
 * given the whole of what it should hold now (`latest()`, asked at that moment, which later syncs
 * may have moved on), and is in step again. Resolves either way; `warn` says what failed.
 */
export function sendDiff(
  source: DiffedSource,
  diff: SourceDiff,
  latest: () => FeatureMap,
  warn: (message: string, error: unknown) => void,
): Promise<unknown> {
  return source.updateData(diff).catch((error: unknown) => {
    warn('map: an update failed; the source is given all it holds again', error)
    try {
      source.setData({ type: 'FeatureCollection', features: [...latest().values()] as AnyFeature[] })
    } catch (again: unknown) {
      warn('map: the source could not be set again', again)
    }
  })
}

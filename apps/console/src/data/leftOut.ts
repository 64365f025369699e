import { isOmitted } from '@watchfloor/core'
import { useEffect } from 'react'
import { wantIncident } from './connection.ts'
import { useWatchfloor } from './store.ts'

/**
 * When `incidentId` is not in the live picture because the live picture left it out (closed
 * before its `since`), ask for it and return that `since` (ISO) for the page to say so; else null.
 * The incident detail and the after-action report use it.
 */
export function useLeftOutIncident(incidentId: string | null): string | null {
  const since = useWatchfloor((s) =>
    incidentId &&
    s.mode === 'live' &&
    !s.liveState.incidents.has(incidentId) &&
    s.omitted !== null &&
    isOmitted(s.omitted, 'incident', incidentId)
      ? s.omitted.since
      : null,
  )
  useEffect(() => {
    if (incidentId && since !== null) wantIncident(incidentId)
  }, [incidentId, since])
  return since
}

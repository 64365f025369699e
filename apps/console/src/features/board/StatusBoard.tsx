import type { NetworkPosture } from '@watchfloor/core'
import { SEVERITIES } from '@watchfloor/protocol'
import { selectNetworkPostures, useWatchfloor } from '../../data/store.ts'
import { SeverityShape } from '../../ui/badges.tsx'
import { formatDuration, formatTime } from '../../ui/format.ts'
import { useNow } from '../../ui/useNow.ts'

/** A network that has not reported for this long is marked stale. */
export const STALE_AFTER_MS = 15 * 60_000

export function isStale(posture: NetworkPosture, now: number, staleAfterMs = STALE_AFTER_MS): boolean {
  return now - Date.parse(posture.network.lastReportAt) > staleAfterMs
}

export function formatAge(ms: number): string {
  return ms < 0 ? 'just now' : `${formatDuration(ms)} ago`
}

/** For each allied network: posture, open incidents by severity, when it last reported. */
export function StatusBoard() {
  const postures = useWatchfloor(selectNetworkPostures)
  const now = useNow()
  return (
    <section className="panel" aria-labelledby="board-heading">
      <h2 id="board-heading">
        Networks <span className="muted">{postures.length}</span>
      </h2>
      <table className="table" data-testid="status-board">
        <thead>
          <tr>
            <th>Network</th>
            <th>Posture</th>
            {SEVERITIES.toReversed().map((severity) => (
              <th key={severity} className="num" title={`Open ${severity} incidents`}>
                <SeverityShape severity={severity} />
              </th>
            ))}
            <th>Last report</th>
          </tr>
        </thead>
        <tbody>
          {postures.map((posture) => {
            const stale = isStale(posture, now)
            const { network } = posture
            return (
              <tr
                key={network.networkId}
                data-testid="network-row"
                data-network-id={network.networkId}
                data-stale={stale}
                className={stale ? 'stale' : undefined}
              >
                <td title={`${network.organisation} · ${network.kind}`}>
                  {network.name} <span className="muted">{network.nation}</span>
                </td>
                <td>
                  <span className={`posture posture-${network.posture}`}>{network.posture}</span>
                </td>
                {SEVERITIES.toReversed().map((severity) => (
                  <td key={severity} className="num">
                    {posture.openIncidents[severity] || ''}
                  </td>
                ))}
                <td title={formatTime(network.lastReportAt)}>
                  {formatAge(now - Date.parse(network.lastReportAt))}
                  {stale && <span className="stale-label"> stale</span>}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      {postures.length === 0 && <p className="empty">No networks visible to you yet.</p>}
      <p className="hint">Stale: no report for {STALE_AFTER_MS / 60_000} minutes.</p>
    </section>
  )
}

import { type NetworkPosture, networkLevel, networkName, worstNetworkFirst, worstOpenSeverity } from '@watchfloor/core'
import { SEVERITIES } from '@watchfloor/protocol'
import { useMemo } from 'react'
import { selectNetworkPostures, useWatchfloor } from '../../data/store.ts'
import { SeverityLabel, SeverityShape } from '../../ui/badges.tsx'
import { formatDuration, formatTime } from '../../ui/format.ts'
import { useServerNow } from '../../ui/useNow.ts'

/** A network that has not reported for this long is marked stale. */
export const STALE_AFTER_MS = 15 * 60_000

export function isStale(posture: NetworkPosture, now: number, staleAfterMs = STALE_AFTER_MS): boolean {
  return now - Date.parse(posture.network.lastReportAt) > staleAfterMs
}

export function formatAge(ms: number): string {
  // under a second (or a clock a little ahead): "just now", never "0s ago" beside another's "just now"
  return ms < 1000 ? 'just now' : `${formatDuration(ms)} ago`
}

/**
 * For each allied network, worst first (by the worse of its reported posture and its incident
 * impact): posture, impact, open incidents by severity, when it last reported.
 */
export function StatusBoard() {
  const unsorted = useWatchfloor(selectNetworkPostures)
  const postures = useMemo(() => [...unsorted].sort(worstNetworkFirst), [unsorted])
  const now = useServerNow()
  return (
    <section className="panel" aria-labelledby="board-heading">
      <h2 id="board-heading">
        Networks <span className="muted">{postures.length}</span>
      </h2>
      <table className="table" data-testid="status-board">
        <thead>
          <tr>
            <th>Network</th>
            <th title="What the network reports">Posture</th>
            <th title="The most severe open incident affecting it">Impact</th>
            {SEVERITIES.toReversed().map((severity) => (
              <th key={severity} className="num" title={`Open ${severity} incidents`}>
                <SeverityShape severity={severity} />
              </th>
            ))}
            <th title="When it last reported">Last</th>
          </tr>
        </thead>
        <tbody>
          {postures.map((posture) => {
            const stale = isStale(posture, now)
            const { network } = posture
            const worst = worstOpenSeverity(posture.openIncidents)
            return (
              <tr
                key={network.networkId}
                data-testid="network-row"
                data-network-id={network.networkId}
                data-stale={stale}
                data-level={networkLevel(posture)}
                className={stale ? 'stale' : undefined}
              >
                {/* its short name, as the timeline's lanes say it: the side panel is narrow; the full one in the title */}
                <td title={`${network.name} · ${network.organisation} · ${network.kind}`} data-testid="network-name">
                  {networkName(network)} <span className="muted">{network.nation}</span>
                </td>
                <td>
                  <span className={`posture posture-${network.posture}`} data-testid="network-posture">
                    {network.posture}
                  </span>
                </td>
                <td data-testid="network-impact" data-impact={worst ?? 'none'}>
                  {worst === undefined ? (
                    <span className="muted">none</span>
                  ) : (
                    <span title={`Open ${worst} incidents affect this network`}>
                      <SeverityLabel severity={worst} />
                    </span>
                  )}
                </td>
                {SEVERITIES.toReversed().map((severity) => (
                  <td key={severity} className="num">
                    {posture.openIncidents[severity] || ''}
                  </td>
                ))}
                <td className="network-last" title={formatTime(network.lastReportAt)}>
                  {formatAge(now - Date.parse(network.lastReportAt))}
                  {stale && <span className="stale-label"> stale</span>}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      {postures.length === 0 && <p className="empty">No networks visible to you yet.</p>}
      <p className="hint">
        Worst first, by the worse of the posture it reports and the impact of its open incidents. Stale: no report for{' '}
        {STALE_AFTER_MS / 60_000} minutes.
      </p>
    </section>
  )
}

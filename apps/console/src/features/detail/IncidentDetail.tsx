import type { IncidentState, NetworkState } from '@watchfloor/core'
import { summarise } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { useEffect } from 'react'
import { setViewing } from '../../data/connection.ts'
import { useWatchfloor, watchfloor } from '../../data/store.ts'
import { SeverityLabel, TlpBadge } from '../../ui/badges.tsx'
import { formatTime } from '../../ui/format.ts'
import { historyOf } from '../../view/selectors.ts'
import { useView, viewStore } from '../../view/viewStore.ts'
import { IncidentCoordination, PresenceLine } from '../coordination/IncidentCoordination.tsx'
import { ReplayIncidentButton } from '../replay/ReplayEntry.tsx'
import { takeSnapshot } from '../report/snapshots.ts'

/** Observations per minute over the last `minutes` of the incident's own history. */
export function observationRate(history: readonly StoredEvent[], now: number, minutes = 10): number {
  const since = now - minutes * 60_000
  let count = 0
  for (const event of history)
    if (event.type === 'incident.observation' && Date.parse(event.occurredAt) >= since)
      count += event.payload.count ?? 1
  return count / minutes
}

let historyCache: { version: number; incidentId: string; events: StoredEvent[] } | undefined
/** The selected incident's history, recomputed only when the window or the selection changes. */
function historyMemo(version: number, incidentId: string): StoredEvent[] {
  if (historyCache?.version !== version || historyCache.incidentId !== incidentId)
    historyCache = {
      version,
      incidentId,
      events: historyOf(watchfloor.getState().window, incidentId, watchfloor.getState().state),
    }
  return historyCache.events
}

export function IncidentDetail() {
  const selection = useView((v) => v.selection)
  const incident = useWatchfloor((s) => (selection ? s.state.incidents.get(selection) : undefined))
  const networks = useWatchfloor((s) => s.state.networks)
  const windowVersion = useWatchfloor((s) => s.windowVersion)
  const history = selection ? historyMemo(windowVersion, selection) : []
  const shown = incident ? selection : null
  // presence: tell the server which incident this console shows (and nothing when the panel closes)
  useEffect(() => {
    setViewing(shown)
    return () => setViewing(null)
  }, [shown])
  if (!selection) return null
  if (!incident)
    return (
      <section className="panel detail" data-testid="incident-detail">
        <DetailHeader title={selection} />
        <p className="empty">This incident is not in your picture (not visible to you, or not yet received).</p>
      </section>
    )
  return <DetailBody incident={incident} networks={networks} history={history} />
}

function DetailHeader({ title }: { title: string }) {
  return (
    <header className="detail-header">
      <h2>{title}</h2>
      <button
        type="button"
        className="link"
        data-testid="detail-close"
        aria-label="Close"
        onClick={() => viewStore.getState().select(null)}
      >
        ✕
      </button>
    </header>
  )
}

function DetailBody({
  incident,
  networks,
  history,
}: {
  incident: IncidentState
  networks: ReadonlyMap<string, NetworkState>
  history: StoredEvent[]
}) {
  const rate = observationRate(history, Date.now())
  const replaying = useWatchfloor((s) => s.mode === 'replay')
  const { marking } = incident
  return (
    <section className="panel detail" data-testid="incident-detail" data-incident-id={incident.incidentId}>
      <DetailHeader title={incident.title} />
      <PresenceLine incidentId={incident.incidentId} />
      <dl className="facts">
        <dt>Severity</dt>
        <dd>
          <SeverityLabel severity={incident.severity} />
        </dd>
        <dt>Status</dt>
        <dd>
          <span className={`status status-${incident.status}`} data-testid="detail-status">
            {incident.status}
          </span>
        </dd>
        <dt>Acknowledged</dt>
        <dd data-testid="detail-acknowledged">
          {incident.acknowledgedAt ? (
            <>
              by <strong>{incident.acknowledgedBy ?? 'someone'}</strong> at {formatTime(incident.acknowledgedAt)}
            </>
          ) : (
            <span className="muted">not yet</span>
          )}
        </dd>
        <dt>Category</dt>
        <dd>{incident.category}</dd>
        <dt>Source</dt>
        <dd>{incident.organisation}</dd>
        <dt>Marking</dt>
        <dd>
          <TlpBadge tlp={marking.tlp} pap={marking.pap} />
          {marking.releasableTo && <span className="muted"> releasable to {marking.releasableTo.join(', ')}</span>}
          {marking.recipients && <span className="muted"> for {marking.recipients.join(', ')}</span>}
        </dd>
        <dt>Reported</dt>
        <dd>{formatTime(incident.reportedAt)}</dd>
        <dt>Updated</dt>
        <dd>
          {formatTime(incident.updatedAt)} <span className="muted">· version </span>
          <span data-testid="detail-version">{incident.version}</span>
        </dd>
        <dt>Observations</dt>
        <dd data-testid="detail-observations">
          {incident.observationCount} <span className="muted">({rate.toFixed(1)}/min over 10 min)</span>
        </dd>
      </dl>
      {incident.summary && <p className="summary-text">{incident.summary}</p>}
      <div className="detail-replay no-print">
        <ReplayIncidentButton incidentId={incident.incidentId} />
        <button
          type="button"
          className="button"
          data-testid="open-report"
          onClick={() => {
            // the report replaces the map: take a picture of it first
            const label = `the map when the report was opened (${replaying ? 'replay' : 'live'})`
            void takeSnapshot(incident.incidentId, Date.now(), label).finally(() =>
              viewStore.getState().setReport(incident.incidentId),
            )
          }}
        >
          After-action report
        </button>
      </div>
      {replaying && (
        <p className="muted" data-testid="replay-readonly">
          Replaying: this is the incident as it was at the playhead; actions are off until you are back to live.
        </p>
      )}
      <fieldset className="readonly-when-replaying" disabled={replaying}>
        <IncidentCoordination incident={incident} networks={networks} />
      </fieldset>
      <h3>History ({history.length})</h3>
      <ol className="history" data-testid="detail-history">
        {history.slice(-200).map((event) => (
          <li key={event.seq} data-seq={event.seq}>
            <time dateTime={event.occurredAt}>{formatTime(event.occurredAt)}</time>{' '}
            <span className="mono">{event.type}</span> {summarise(event)}
          </li>
        ))}
      </ol>
    </section>
  )
}

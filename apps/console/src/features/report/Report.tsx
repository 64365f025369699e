import { useMemo } from 'react'
import { useStore } from 'zustand'
import { useLeftOutIncident } from '../../data/leftOut.ts'
import { useWatchfloor } from '../../data/store.ts'
import { SeverityLabel, TlpBadge } from '../../ui/badges.tsx'
import { formatTime } from '../../ui/format.ts'
import { MarkingBanner } from '../../ui/MarkingBanner.tsx'
import { viewStore } from '../../view/viewStore.ts'
import { personName } from '../coordination/people.ts'
import { useNames } from '../coordination/usePeople.ts'
import { useIncidentHistory, withHistory } from './history.ts'
import {
  acknowledgeText,
  bannerMarking,
  buildReport,
  durationText,
  type ReportBasis,
  taskStepsText,
  timelineLines,
} from './report.ts'
import { snapshots, snapshotsFor } from './snapshots.ts'

/** The after-action report of one incident (`?report=<incidentId>`), printable on its own. */
export function ReportPage({ incidentId }: { incidentId: string }) {
  const state = useWatchfloor((s) => s.liveState)
  const events = useWatchfloor((s) => s.liveWindow)
  const version = useWatchfloor((s) => s.liveWindowVersion)
  // the incident's own history, read from the server: the window holds only the last hours
  const { read, retry } = useIncidentHistory(incidentId)
  const history = read.state === 'loaded' ? read.history : null
  const basis: ReportBasis = history ? 'history' : read.state === 'failed' ? 'window' : 'loading'
  // biome-ignore lint/correctness/useExhaustiveDependencies: the window is appended in place; its version says when
  const from = useMemo(() => (history ? withHistory(history.events, events) : events), [history, events, version])
  // biome-ignore lint/correctness/useExhaustiveDependencies: the window is appended in place; its version says when
  const report = useMemo(() => buildReport(state, from, incidentId), [state, from, version, incidentId])
  // names, not ids: people by the directory; incidents and tasks by the report's own `titles` (the
  // picture it is built from), which its marking counts
  const people = useNames()
  const names = useMemo(() => ({ person: (userId: string) => people.people.get(userId) }), [people])
  const timeline = useMemo(() => (report ? timelineLines(report, names) : []), [report, names])
  const allSnapshots = useStore(snapshots, (s) => s.list)
  const images = useMemo(() => snapshotsFor(allSnapshots, incidentId), [allSnapshots, incidentId])
  // the banner counts the map images too: what else their maps drew
  const banner = useMemo(() => (report ? bannerMarking(report.marking, images) : null), [report, images])
  const close = () => viewStore.getState().setReport(null)
  // an incident closed long ago (the usual one to report on) left out of the live picture: asked for
  const leftOut = useLeftOutIncident(report ? null : incidentId)
  return (
    <main className="report" data-testid="report-page">
      <div className="report-actions no-print">
        <button type="button" className="button" data-testid="report-close" onClick={close}>
          ← Picture
        </button>
        <button type="button" className="button" data-testid="report-print" onClick={() => window.print()}>
          Print
        </button>
      </div>
      {!report && leftOut !== null ? (
        <p className="empty" data-testid="report-loading-old">
          Incident {incidentId} was closed before {formatTime(leftOut)}, so not in the picture the console opened with:
          loading it…
        </p>
      ) : !report ? (
        <p className="empty" data-testid="report-missing">
          Incident {incidentId} is not in your picture (not visible to you, or not yet received).
        </p>
      ) : (
        <article className="report-body" data-testid="report" data-incident-id={incidentId}>
          <MarkingBanner marking={banner ?? report.marking} position="top" />
          <h1>After-action report: {report.incident.title}</h1>
          <p className="report-headline" data-testid="report-severity">
            Peak severity{basis === 'history' ? ' ' : ' at least '}
            <strong data-testid="report-peak" data-severity={report.peak.severity}>
              <SeverityLabel severity={report.peak.severity} />
            </strong>{' '}
            (from {formatTime(report.peak.at)}) · final severity{' '}
            <strong data-testid="report-final" data-severity={report.incident.severity}>
              <SeverityLabel severity={report.incident.severity} />
            </strong>
          </p>
          <p>
            status <strong data-testid="report-status">{report.incident.status}</strong> · {report.incident.category} ·
            reported by {report.incident.organisation} at {formatTime(report.incident.reportedAt)} · the incident itself
            is marked <TlpBadge tlp={report.incident.marking.tlp} pap={report.incident.marking.pap} />, what it holds
            now <TlpBadge tlp={report.incident.contentMarking.tlp} pap={report.incident.contentMarking.pap} />
          </p>
          {read.state === 'failed' ? (
            <p className="error" role="alert" data-testid="report-history" data-state="failed">
              The incident's history could not be read ({read.message}). This report is built from what this console
              holds (the events of its last hours) only: its times, timeline and networks may be incomplete.{' '}
              <button type="button" className="button no-print" data-testid="report-history-retry" onClick={retry}>
                Try again
              </button>
            </p>
          ) : read.state === 'loading' ? (
            <p className="notice" data-testid="report-history" data-state="loading">
              Loading the incident's history…
              {read.progress && read.progress.head > 0 && ` (to seq ${read.progress.seq} of ${read.progress.head})`}{' '}
              Until it is read, this report shows what this console holds: its times, timeline and networks may be
              incomplete.
            </p>
          ) : (
            <p className="muted" data-testid="report-history" data-state="loaded">
              Built from the incident's history as the server holds it for you ({read.history.events.length} events, to
              seq {read.history.head}) and what this console received since; generated{' '}
              {formatTime(new Date().toISOString())}.
            </p>
          )}

          <h2>Response times</h2>
          <dl className="facts" data-testid="report-durations">
            <dt>Time to acknowledge</dt>
            <dd data-testid="report-tta">{acknowledgeText(report)}</dd>
            <dt>Time to contain</dt>
            <dd data-testid="report-ttc">{durationText(report.durations.contain, basis)}</dd>
            <dt>Time to recover</dt>
            <dd data-testid="report-ttr">{durationText(report.durations.recover, basis)}</dd>
          </dl>

          <h2>
            Timeline of key events ({timeline.length}
            {basis === 'history' ? '' : ', from what this console holds'})
          </h2>
          <ol className="report-timeline" data-testid="report-timeline">
            {timeline.map((line) => (
              <li key={line.seq} data-seq={line.seq} data-type={line.type}>
                <time dateTime={line.at}>{formatTime(line.at)}</time> <span className="mono">{line.type}</span>{' '}
                {line.text}
                {line.actor && <span className="muted"> · {line.actor}</span>}
              </li>
            ))}
          </ol>
          {report.observations.count > 0 && (
            <p>
              {basis === 'history' ? '' : 'At least '}
              {report.observations.reports.toLocaleString('en')} observation report
              {report.observations.reports === 1 ? '' : 's'}, counts summing to{' '}
              {report.observations.count.toLocaleString('en')}
              {report.observations.first &&
                ` from ${formatTime(report.observations.first)} to ${formatTime(report.observations.last!)}`}
              .
            </p>
          )}

          <h2>Affected networks over time</h2>
          {report.networks.length === 0 ? (
            <p className="muted">
              {basis === 'history'
                ? 'None recorded.'
                : 'None in what this console holds (the history is not read: there may be some).'}
            </p>
          ) : (
            <table className="report-table" data-testid="report-networks">
              <thead>
                <tr>
                  <th className="report-cell">When</th>
                  <th className="report-cell">Network</th>
                  <th className="report-cell">State</th>
                </tr>
              </thead>
              <tbody>
                {report.networks.map((n) => (
                  <tr key={`${n.seq}-${n.networkId}`}>
                    <td className="report-cell">{formatTime(n.at)}</td>
                    <td className="report-cell">{n.name}</td>
                    <td className="report-cell">{n.state}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {basis !== 'history' && report.networks.length > 0 && (
            <p className="muted">From what this console holds: earlier changes may be missing.</p>
          )}

          <h2>Tasks ({report.tasks.length})</h2>
          {report.tasks.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul data-testid="report-tasks">
              {report.tasks.map((line) => (
                <li key={line.task.taskId}>
                  <strong>{line.task.title}</strong> ({line.task.priority}, {line.task.status}
                  {line.task.assignee &&
                    `, for ${line.task.assignee.kind === 'user' ? personName(people, line.task.assignee.userId) : `team ${line.task.assignee.organisation}`}`}
                  )
                  <div className="muted">
                    {taskStepsText(line, names) || `created ${formatTime(line.task.createdAt)}`}
                  </div>
                </li>
              ))}
            </ul>
          )}

          {images.length > 0 && (
            <>
              <h2>The map</h2>
              {images.map((image) => (
                <figure key={`${image.at}-${image.label}`} data-testid="report-snapshot" data-tlp={image.marking.tlp}>
                  <img className="report-snapshot" src={image.dataUrl} alt={`The map at ${image.label}`} />
                  <figcaption className="muted">
                    {image.label} · what it shows is marked <TlpBadge tlp={image.marking.tlp} pap={image.marking.pap} />
                  </figcaption>
                </figure>
              ))}
            </>
          )}

          <h2>Advisories shared ({report.advisories.length})</h2>
          {report.advisories.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul data-testid="report-advisories">
              {report.advisories.map((a) => (
                <li key={a.advisoryId}>
                  <strong>{a.title}</strong> <TlpBadge tlp={a.marking.tlp} pap={a.marking.pap} />{' '}
                  <span className="muted">
                    {a.organisation} at {formatTime(a.publishedAt)}
                  </span>
                </li>
              ))}
            </ul>
          )}
          <MarkingBanner marking={banner ?? report.marking} position="bottom" />
        </article>
      )}
    </main>
  )
}

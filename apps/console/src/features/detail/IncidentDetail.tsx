import type { IncidentState, NetworkState } from '@watchfloor/core'
import {
  highestTlp,
  networkName,
  type State,
  type SummaryNames,
  sameMarking,
  summarise,
  summaryLine,
  tlpRank,
} from '@watchfloor/core'
import type { StoredEvent, Tlp } from '@watchfloor/protocol'
import { type KeyboardEvent as ReactKeyboardEvent, useEffect, useRef, useState } from 'react'
import { setViewing } from '../../data/connection.ts'
import { useLeftOutIncident } from '../../data/leftOut.ts'
import { useWatchfloor, watchfloor } from '../../data/store.ts'
import { SeverityLabel, TlpBadge } from '../../ui/badges.tsx'
import { formatTime } from '../../ui/format.ts'
import { useFocusHome } from '../../ui/useFocusHome.ts'
import { useServerNow } from '../../ui/useNow.ts'
import { historyOf } from '../../view/selectors.ts'
import { useView, viewStore } from '../../view/viewStore.ts'
import { IncidentCoordination, PresenceLine } from '../coordination/IncidentCoordination.tsx'
import { useSummaryNames } from '../coordination/usePeople.ts'
import { useWithdrawn, WITHDRAWN_NOTICE } from '../coordination/withdrawn.ts'
import {
  groupEvents,
  historyShown,
  INDICATOR_KIND_LABEL,
  type ObservationRun,
  type ObservationSummary,
  runIndicators,
  summariseObservations,
} from '../lists/eventGroups.ts'
import { IncidentExport } from '../replay/Export.tsx'
import { ReplayIncidentButton } from '../replay/ReplayEntry.tsx'
import { useReplay } from '../replay/replayStore.ts'
import { takeSnapshot } from '../report/snapshots.ts'
import { MarkingControl } from './MarkingControl.tsx'

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
  const replaying = useWatchfloor((s) => s.mode === 'replay')
  // in replay, an incident the live picture holds that was reported after the replay's window (a
  // live alarm's Show): said so, as playing on would never show it
  const windowEnd = useReplay((r) => r.to)
  const liveReport = useWatchfloor((s) => (selection ? s.liveState.incidents.get(selection)?.reportedAt : undefined))
  const laterInLive =
    replaying && incident === undefined && liveReport !== undefined && Date.parse(liveReport) > windowEnd
      ? liveReport
      : undefined
  const history = selection ? historyMemo(windowVersion, selection) : []
  // an incident the live picture left out (closed before its `since`): asked for, then shown
  const leftOut = useLeftOutIncident(incident ? null : selection)
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
        {leftOut !== null ? (
          <p className="empty" data-testid="detail-loading-old">
            Closed before {formatTime(leftOut)}, so not in the picture the console opened with: loading it…
          </p>
        ) : laterInLive !== undefined ? (
          // in the live picture, reported after the window this replay read: playing on never shows it
          <p className="empty" data-testid="detail-after-window">
            Reported after the window this replay shows (at {formatTime(laterInLive)}): <strong>Back to live</strong>{' '}
            shows it, or a replay of a later window.
          </p>
        ) : replaying ? (
          // a replay's playhead before the report: not an access problem, a moment before it existed
          <p className="empty" data-testid="detail-not-yet">
            Not in the picture at this moment of the replay: not reported yet (play on, or move the playhead later), or
            not shared with you.
          </p>
        ) : (
          <p className="empty">This incident is not in your picture (not visible to you, or not yet received).</p>
        )}
      </section>
    )
  // another incident starts afresh: no draft, answer or retry of the one shown before (keyed; the
  // panel's drafts of that one are put away, coordination/formDrafts.ts). The same incident back in a
  // picture opened again mounts afresh too, and its forms show their drafts as they were.
  return <DetailBody key={incident.incidentId} incident={incident} networks={networks} history={history} />
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
  // the rate over the last minutes: of the clock (ticking, so a quiet incident's rate falls), or of
  // the playhead in a replay
  const now = useServerNow(15_000)
  const replaying = useWatchfloor((s) => s.mode === 'replay')
  const playhead = useReplay((s) => s.at)
  const observations = summariseObservations(history, replaying ? playhead : now)
  // every change listed; of the observation runs the latest, the rest counted
  const listed = historyShown(groupEvents(history))
  // people and incidents by name, ids as a title only
  const names = useSummaryNames()
  const incidents = useWatchfloor((s) => s.state.incidents)
  const tasks = useWatchfloor((s) => s.state.tasks)
  const changes = history.length - observations.reports
  const { marking } = incident
  // a command about it was refused as for one that does not exist [C18]: no longer shared with this viewer
  const withdrawn = useWithdrawn(incident.incidentId)
  // the keyboard's way round the panel: focus an action took away stays in it; Escape closes it,
  // giving the focus back to where it was when the incident was opened
  const panel = useRef<HTMLElement>(null)
  useFocusHome(panel)
  const opener = useRef<Element | null>(null)
  // biome-ignore lint/correctness/useExhaustiveDependencies: where the focus was when this incident was opened
  useEffect(() => {
    const active = document.activeElement
    opener.current = active !== null && !panel.current?.contains(active) ? active : null
  }, [incident.incidentId])
  // React's handler, not the element's own: a combobox inside takes its Escape first (preventing the
  // default), and React's handlers run in the tree's order, after the DOM's own
  const closeOnEscape = (event: ReactKeyboardEvent<HTMLElement>) => {
    if (event.key !== 'Escape' || event.defaultPrevented) return
    // in a field, Escape is the field's (a list of suggestions, what is typed): it never closes the panel
    if (event.target instanceof HTMLElement && event.target.closest('input, textarea, select, [contenteditable]'))
      return
    event.preventDefault()
    viewStore.getState().select(null)
    const back = opener.current
    if (back instanceof HTMLElement && back.isConnected) back.focus()
  }
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: Escape closes the panel from anywhere inside it
    <section
      ref={panel}
      tabIndex={-1}
      onKeyDown={closeOnEscape}
      className="panel detail focus-home"
      data-testid="incident-detail"
      data-incident-id={incident.incidentId}
      data-withdrawn={withdrawn || undefined}
    >
      <DetailHeader title={incident.title} />
      {withdrawn && (
        <p className="withdrawn-notice" role="status" data-testid="detail-withdrawn">
          {WITHDRAWN_NOTICE}
        </p>
      )}
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
              by{' '}
              <strong title={incident.acknowledgedBy}>
                {incident.acknowledgedBy === undefined
                  ? 'someone'
                  : (names.person?.(incident.acknowledgedBy) ?? incident.acknowledgedBy)}
              </strong>{' '}
              at {formatTime(incident.acknowledgedAt)}
              {incident.acknowledgedNote && (
                <span data-testid="detail-acknowledged-note">: {incident.acknowledgedNote}</span>
              )}
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
          {!sameMarking(incident.contentMarking, marking) && (
            <span data-testid="detail-content-marking">
              {' '}
              · what it holds now (later updates, coordination, observations):{' '}
              <TlpBadge tlp={incident.contentMarking.tlp} pap={incident.contentMarking.pap} />
            </span>
          )}
          {/* who it is shared with: its own organisation's coordinators (C20); not while replaying */}
          {!replaying && <MarkingControl incident={incident} />}
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
          <ObservationFacts summary={observations} />
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
      <IncidentExport incidentId={incident.incidentId} />
      {replaying && (
        <p className="muted" data-testid="replay-readonly">
          Replaying: this is the incident as it was at the playhead; actions are off until you are back to live.
        </p>
      )}
      <fieldset className="readonly-when-replaying" disabled={replaying}>
        <IncidentCoordination incident={incident} networks={networks} />
      </fieldset>
      <h3 data-testid="detail-history-heading">
        History: {changes} {changes === 1 ? 'change' : 'changes'}, {observations.reports} observation{' '}
        {observations.reports === 1 ? 'report' : 'reports'}
      </h3>
      {listed.hiddenRuns > 0 && (
        <p className="muted" data-testid="detail-history-hidden">
          {listed.hiddenRuns.toLocaleString('en')} earlier observation {listed.hiddenRuns === 1 ? 'run' : 'runs'} (
          {listed.hiddenReports.toLocaleString('en')} {listed.hiddenReports === 1 ? 'report' : 'reports'}) not listed;
          every change is.
        </p>
      )}
      <ol className="history" data-testid="detail-history">
        {listed.shown.map((entry) =>
          entry.kind === 'event' ? (
            <HistoryItem
              key={entry.event.seq}
              event={entry.event}
              picture={{ incidents, tasks, networks }}
              person={names.person}
              shown={incident.contentMarking.tlp}
            />
          ) : (
            <ObservationRunItem
              key={`run-${entry.events[0]!.seq}`}
              run={entry}
              networks={networks}
              shown={incident.contentMarking.tlp}
            />
          ),
        )}
      </ol>
    </section>
  )
}

/**
 * Observation reports and the sum of the counts they give, apart (a packet count and a sighting
 * are not the same unit), per kind of indicator, and the rate of reports over the span it covers.
 */
function ObservationFacts({ summary }: { summary: ObservationSummary }) {
  if (summary.reports === 0) return <span className="muted">none in the loaded history</span>
  const span =
    summary.spanMinutes >= 1 ? `${Math.round(summary.spanMinutes)} min` : `${Math.round(summary.spanMinutes * 60)} s`
  return (
    <>
      <span data-testid="detail-observation-reports">{summary.reports.toLocaleString('en')}</span> reports, counts
      summing to <span data-testid="detail-observation-sum">{summary.sum.toLocaleString('en')}</span>{' '}
      <span className="muted" data-testid="detail-observation-rate">
        ({summary.ratePerMinute.toFixed(1)} reports/min over the last {span})
      </span>
      <span className="observation-kinds muted" data-testid="detail-observation-kinds">
        {summary.byKind.map((tally) => (
          <span key={tally.kind}>
            {INDICATOR_KIND_LABEL[tally.kind]}: {tally.reports.toLocaleString('en')} reports, sum{' '}
            {tally.sum.toLocaleString('en')}
          </span>
        ))}
      </span>
    </>
  )
}

/**
 * One change in the history. What it names by title (a linked incident, a task) counts in its
 * marking (core's `summaryLine`): a line stricter than what the panel's badges show carries its own.
 */
function HistoryItem({
  event,
  picture,
  person,
  shown,
}: {
  event: StoredEvent
  picture: Pick<State, 'incidents' | 'tasks' | 'networks'>
  person: SummaryNames['person']
  shown: Tlp
}) {
  const line = summaryLine(picture, event, person)
  return (
    // a line cut at its length says the whole of it in its title (a reason, a note)
    <li data-seq={event.seq} data-tlp={line.tlp} title={line.whole === line.text ? undefined : line.whole}>
      <time dateTime={event.occurredAt}>{formatTime(event.occurredAt)}</time> <span className="mono">{event.type}</span>{' '}
      {line.text}
      {tlpRank(line.tlp) > tlpRank(shown) && (
        <>
          {' '}
          <TlpBadge tlp={line.tlp} />
        </>
      )}
    </li>
  )
}

/** A run of observations as one line of the history, its reports listed on demand. */
function ObservationRunItem({
  run,
  networks,
  shown,
}: {
  run: ObservationRun
  networks: ReadonlyMap<string, NetworkState>
  shown: Tlp
}) {
  const [open, setOpen] = useState(false)
  const names = useSummaryNames()
  const first = run.events[0]!
  const last = run.events.at(-1)!
  const indicators = runIndicators(run)
  // [M1] networks by name: the row carries their markings (a registration's), and its reports' own
  const named = run.networks.map((id) => networks.get(id))
  const tlp = highestTlp([
    ...run.events.map((event) => event.marking.tlp),
    ...named.flatMap((network) => (network === undefined ? [] : [network.marking.tlp])),
  ])
  return (
    <li
      className="history-run"
      data-testid="history-observations"
      data-reports={run.reports}
      data-sum={run.sum}
      data-tlp={tlp}
    >
      <time dateTime={first.occurredAt}>{formatTime(first.occurredAt)}</time>{' '}
      <strong>
        {run.reports} observation {run.reports === 1 ? 'report' : 'reports'}
      </strong>{' '}
      of {indicators.indicator !== undefined && <span className="mono">{indicators.indicator}</span>} {indicators.words}
      , counts summing to {run.sum.toLocaleString('en')}
      {run.networks.length > 0 && (
        <>
          {' '}
          on{' '}
          {run.networks
            .map((id, i) => {
              const network = named[i]
              return network === undefined ? id : networkName(network)
            })
            .join(', ')}
        </>
      )}
      {run.reports > 1 && <> until {formatTime(last.occurredAt)}</>}{' '}
      {tlpRank(tlp) > tlpRank(shown) && (
        <>
          <TlpBadge tlp={tlp} />{' '}
        </>
      )}
      <button
        type="button"
        className="link-button"
        aria-expanded={open}
        data-testid="history-observations-toggle"
        onClick={() => setOpen(!open)}
      >
        {open ? 'hide' : 'show each'}
      </button>
      {open && (
        <ol className="history-run-events">
          {run.events.slice(-50).map((event) => (
            <li key={event.seq} data-seq={event.seq}>
              <time dateTime={event.occurredAt}>{formatTime(event.occurredAt)}</time> {summarise(event, names)}
            </li>
          ))}
        </ol>
      )}
    </li>
  )
}

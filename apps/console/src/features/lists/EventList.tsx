import { documentMarking, type State, type SummaryNames, summaryLine } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { memo, useMemo, useRef, useState } from 'react'
import { selectRecentEvents, useWatchfloor } from '../../data/store.ts'
import { TlpBadge } from '../../ui/badges.tsx'
import { formatClock, formatTime } from '../../ui/format.ts'
import { useServerNow } from '../../ui/useNow.ts'
import { useNames } from '../coordination/usePeople.ts'
import { isLate } from '../replay/late.ts'
import { LateMarker } from '../replay/ReplayEntry.tsx'
import { useReplay, useReplayClock } from '../replay/replayStore.ts'
import {
  type EventEntry,
  type Grouping,
  groupEvents,
  groupingOf,
  type ObservationRun,
  runIndicators,
} from './eventGroups.ts'

/** What the Events tab lists: changes with observations folded into runs, or every event. */
type Mode = 'changes' | 'all'
/** How far back it looks, in minutes (null: everything loaded). */
const SPANS = [15, 60, 360, null] as const
type Span = (typeof SPANS)[number]
const spanLabel = (span: Span) => (span === null ? 'all loaded' : span < 60 ? `${span} min` : `${span / 60} h`)
/** Rows shown at most (the newest). */
const MAX_ROWS = 300

const EventRow = memo(function EventRow({
  event,
  markLate,
  picture,
  person,
}: {
  event: StoredEvent
  markLate: boolean
  /** Names, not ids (docs/console.md): titles from the picture shown... */
  picture: Pick<State, 'incidents' | 'tasks' | 'networks'>
  /** ...people from the directory. */
  person: SummaryNames['person']
}) {
  // [M1] the row's TLP covers the titles it shows (a linked incident re-reported stricter) as well as the event
  const { text: summary, tlp } = summaryLine(picture, event, person)
  const late = markLate && isLate(event)
  return (
    <tr data-testid="event-row" data-seq={event.seq} data-type={event.type} data-late={String(late)}>
      <td className="num mono seq">{event.seq}</td>
      <td className="mono" title={`occurred ${formatTime(event.occurredAt)}\nrecorded ${formatTime(event.recordedAt)}`}>
        <time dateTime={event.occurredAt}>{formatClock(event.occurredAt)}</time>
        {late && <LateMarker event={event} />}
      </td>
      <td className="mono type" title={event.type}>
        {event.type}
      </td>
      <td className="summary" title={summary}>
        {/* in a narrow side panel the seq, type and source columns give way: they head the summary instead */}
        <span className="event-kind mono">
          {event.seq} · {event.type} · {event.source.organisation}
        </span>
        <span className="summary-text">{summary}</span>
      </td>
      <td className="source" title={event.source.network ?? event.source.organisation}>
        {event.source.organisation}
      </td>
      <td className="marking">
        <TlpBadge tlp={tlp} pap={event.marking.pap} />
      </td>
    </tr>
  )
})

const RunRow = memo(function RunRow({
  run,
  picture,
}: {
  run: ObservationRun
  /** The incident by title (docs/console.md), as the picture holds it. */
  picture: Pick<State, 'incidents'>
}) {
  const first = run.events[0]!
  const last = run.events.at(-1)!
  const incident = picture.incidents.get(run.incidentId)
  // [M1] the row names the incident by its title, which may be stricter than the observations
  // (contentMarking): its badge is the strictest TLP and PAP of both
  const marking = documentMarking([
    ...run.events.map((event) => event.marking),
    ...(incident === undefined ? [] : [incident.contentMarking]),
  ])
  const indicators = runIndicators(run)
  // a run of one kind of indicator is often seen by several organisations
  const organisations = [...new Set(run.events.map((event) => event.source.organisation))]
  const source = organisations.length === 1 ? organisations[0]! : `${organisations.length} organisations`
  const seqs = first.seq === last.seq ? first.seq : `${first.seq}…${last.seq}`
  return (
    <tr
      data-testid="event-run-row"
      data-incident-id={run.incidentId}
      data-reports={run.reports}
      data-sum={run.sum}
      className="event-run"
    >
      <td className="num mono seq">{seqs}</td>
      <td className="mono" title={`first ${formatTime(first.occurredAt)}\nlast ${formatTime(last.occurredAt)}`}>
        {/* its first report's time, as it stands where its first report came (the last is in the title) */}
        <time dateTime={first.occurredAt}>{formatClock(first.occurredAt)}</time>
      </td>
      <td className="mono type">observations ×{run.reports}</td>
      <td className="summary">
        <span className="event-kind mono">
          {seqs} · observations ×{run.reports} · {source}
        </span>
        <span className="summary-text">
          {run.reports} {run.reports === 1 ? 'report' : 'reports'} on{' '}
          {incident === undefined ? run.incidentId : `"${incident.title}"`} of{' '}
          {indicators.indicator !== undefined && <span className="mono">{indicators.indicator}</span>}{' '}
          {indicators.words}, counts summing to {run.sum.toLocaleString('en')}
        </span>
      </td>
      <td className="source" title={[...organisations, ...run.networks].join(', ')}>
        {source}
      </td>
      <td className="marking">
        <TlpBadge tlp={marking.tlp} pap={marking.pap} />
      </td>
    </tr>
  )
})

/**
 * The newest entries first, at most `MAX_ROWS`, of the events since `since` (ms; null: all). Folding
 * the whole window (the live case, every batch) grows `grouping` by the events appended since.
 */
function entriesOf(
  events: readonly StoredEvent[],
  mode: Mode,
  since: number | null,
  grouping: { current: Grouping | undefined },
): EventEntry[] {
  if (mode === 'changes' && since === null) {
    grouping.current = groupingOf(grouping.current, events)
    return grouping.current.entries.slice(-MAX_ROWS).reverse()
  }
  const inSpan = since === null ? events : events.filter((event) => Date.parse(event.recordedAt) >= since)
  const entries: EventEntry[] =
    mode === 'changes' ? groupEvents(inSpan) : inSpan.map((event) => ({ kind: 'event', event }))
  return entries.slice(-MAX_ROWS).reverse()
}

export function EventList() {
  const window = useWatchfloor((s) => s.window)
  const windowVersion = useWatchfloor((s) => s.windowVersion)
  const recent = useWatchfloor(selectRecentEvents)
  // replaying "what happened when": reports that arrived late stand out
  const replaying = useWatchfloor((s) => s.mode === 'replay')
  const clock = useReplayClock()
  const markLate = replaying && clock === 'occurred'
  const person = useNames().people
  const incidents = useWatchfloor((s) => s.state.incidents)
  const tasks = useWatchfloor((s) => s.state.tasks)
  const networks = useWatchfloor((s) => s.state.networks)
  const picture = useMemo(() => ({ incidents, tasks, networks }), [incidents, tasks, networks])
  const personName = useMemo(() => (userId: string) => person.get(userId), [person])
  const [mode, setMode] = useState<Mode>('changes')
  const [span, setSpan] = useState<Span>(null)
  // the loaded window (what the timeline shows), or the picture's latest events when none is loaded
  const newestLast = useMemo(() => [...recent].reverse(), [recent])
  const source = window.length > 0 ? window : newestLast
  // "the last 15 min" moves on with the clock, not only when events come (a quiet floor); in a
  // replay, the minutes before the playhead
  const now = useServerNow(15_000)
  const playhead = useReplay((s) => s.at)
  const since = span === null ? null : (replaying ? playhead : now) - span * 60_000
  const grouping = useRef<Grouping | undefined>(undefined)
  // biome-ignore lint/correctness/useExhaustiveDependencies: the window array is updated in place; its version says when
  const entries = useMemo(() => entriesOf(source, mode, since, grouping), [windowVersion, source, mode, since])
  return (
    <section className="panel" aria-labelledby="events-heading">
      <h2 id="events-heading">Events</h2>
      <div className="event-filters" role="toolbar" aria-label="Which events">
        {(['changes', 'all'] as const).map((m) => (
          <button
            key={m}
            type="button"
            className={`chip${mode === m ? ' on' : ''}`}
            aria-pressed={mode === m}
            data-testid={`events-mode-${m}`}
            onClick={() => setMode(m)}
          >
            {m === 'changes' ? 'Changes (observations folded)' : 'Every event'}
          </button>
        ))}
        <span className="muted">What changed in the last</span>
        {SPANS.map((s) => (
          <button
            key={String(s)}
            type="button"
            className={`chip${span === s ? ' on' : ''}`}
            aria-pressed={span === s}
            data-testid={`events-span-${s ?? 'all'}`}
            onClick={() => setSpan(s)}
          >
            {spanLabel(s)}
          </button>
        ))}
      </div>
      <table className="table events-table" data-testid="event-list">
        <colgroup>
          <col className="col-seq" />
          <col className="col-time" />
          <col className="col-type" />
          <col />
          <col className="col-source" />
          <col className="col-tlp" />
        </colgroup>
        <thead>
          <tr>
            <th className="num seq">Seq</th>
            <th>Time (UTC)</th>
            <th className="type">Type</th>
            <th>Summary</th>
            <th className="source">Source</th>
            <th>TLP</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) =>
            entry.kind === 'event' ? (
              <EventRow
                key={entry.event.seq}
                event={entry.event}
                markLate={markLate}
                picture={picture}
                person={personName}
              />
            ) : (
              <RunRow key={`run-${entry.events[0]!.seq}`} run={entry} picture={picture} />
            ),
          )}
        </tbody>
      </table>
      {entries.length === 0 && (
        <p className="empty">{span === null ? 'No events yet.' : `Nothing in the last ${spanLabel(span)}.`}</p>
      )}
    </section>
  )
}

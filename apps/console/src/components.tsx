import type { IncidentState } from '@watchfloor/core'
import type { Severity, StoredEvent, Tlp } from '@watchfloor/protocol'
import { memo, type ReactNode } from 'react'
import { ui, useUi } from './features/coordination/coordination.ts'
import { Bell } from './features/coordination/Notifications.tsx'
import { isLate } from './features/replay/model.ts'
import { LateMarker, ReplayButton, useReplayClock } from './features/replay/ReplayBar.tsx'
import { type ConnectionStatus, selectOpenCounts, selectRecentEvents, useWatchfloor } from './store.ts'
import { formatClock, formatTime, summarise } from './summary.ts'
import { SEVERITY_COLOURS, TLP_COLOURS } from './theme.ts'
import { useFilteredIncidents } from './view/selectors.ts'
import type { IncidentSort } from './view/view.ts'
import { useView, viewStore } from './view/viewStore.ts'

export function TlpBadge({ tlp }: { tlp: Tlp }) {
  return (
    <span
      className="tlp"
      data-testid="tlp-badge"
      data-tlp={tlp}
      style={{ color: TLP_COLOURS[tlp], background: '#000000' }}
    >
      TLP:{tlp}
    </span>
  )
}

/** Colour and shape, so severity never rests on colour alone: ◆ critical, ▲ high, ■ medium, ● low. */
export function SeverityShape({ severity, size = 14 }: { severity: Severity; size?: number }) {
  const fill = SEVERITY_COLOURS[severity]
  let shape: ReactNode
  switch (severity) {
    case 'critical':
      shape = <polygon points="7,0.5 13.5,7 7,13.5 0.5,7" fill={fill} />
      break
    case 'high':
      shape = <polygon points="7,1 13.5,13 0.5,13" fill={fill} />
      break
    case 'medium':
      shape = <rect x="2" y="2" width="10" height="10" fill={fill} />
      break
    case 'low':
      shape = <circle cx="7" cy="7" r="5" fill={fill} />
      break
  }
  return (
    <svg className="severity-shape" width={size} height={size} viewBox="0 0 14 14" aria-hidden="true">
      {shape}
    </svg>
  )
}

export function SeverityLabel({ severity }: { severity: Severity }) {
  return (
    <span
      className={`severity severity-${severity}`}
      data-severity={severity}
      style={{ color: SEVERITY_COLOURS[severity] }}
    >
      <SeverityShape severity={severity} />
      {severity}
    </span>
  )
}

export function StatusPill({ status }: { status: ConnectionStatus }) {
  return (
    <span className={`pill pill-${status}`} data-testid="connection-status" role="status" aria-live="polite">
      {status}
    </span>
  )
}

export function Header({ onSignOut }: { onSignOut: () => void }) {
  const session = useWatchfloor((s) => s.session)
  const status = useWatchfloor((s) => s.status)
  const headSeq = useWatchfloor((s) => s.headSeq)
  const lastSeq = useWatchfloor((s) => s.lastSeq)
  const error = useWatchfloor((s) => s.error)
  const counts = useWatchfloor(selectOpenCounts)
  return (
    <header className="header">
      <h1 className="product">Watchfloor</h1>
      {session && (
        <span className="whoami" data-testid="whoami" title={`signed in with ${session.kind ?? 'a token'}`}>
          <strong data-testid="whoami-name">{session.displayName ?? session.user}</strong>
          {session.displayName !== undefined && session.displayName !== session.user && (
            <span className="mono"> @{session.user}</span>
          )}{' '}
          · <span data-testid="whoami-organisation">{session.organisation}</span> · {session.nation} ·{' '}
          <span className="roles" data-testid="whoami-roles">
            {session.roles.map((r) => r.replace(/_/g, ' ')).join(', ') || 'no roles'}
          </span>
        </span>
      )}
      <span className="counts" title="Open incidents by severity">
        {(['critical', 'high', 'medium', 'low'] as const).map((severity) => (
          <span key={severity} className="count" data-severity={severity}>
            <SeverityShape severity={severity} />
            {counts[severity]}
          </span>
        ))}
      </span>
      <span className="spacer" />
      <ReplayButton />
      <HandoverButton />
      <Bell />
      <StatusPill status={status} />
      <span className="seq">
        head <span data-testid="head-seq">{headSeq}</span>
      </span>
      <span className="seq">
        last <span data-testid="last-seq">{lastSeq}</span>
      </span>
      <button type="button" className="button" data-testid="sign-out" onClick={onSignOut}>
        Sign out
      </button>
      {error && status !== 'live' && <div className="header-error">{error}</div>}
    </header>
  )
}

function HandoverButton() {
  const page = useUi((u) => u.page)
  return (
    <button
      type="button"
      className="button"
      data-testid="open-handover"
      aria-pressed={page === 'handover'}
      onClick={() => ui.getState().setPage(page === 'handover' ? 'picture' : 'handover')}
    >
      {page === 'handover' ? 'Picture' : 'Handover'}
    </button>
  )
}

const IncidentRow = memo(function IncidentRow({ incident, selected }: { incident: IncidentState; selected: boolean }) {
  const select = () => viewStore.getState().select(selected ? null : incident.incidentId)
  return (
    <tr
      data-testid="incident-row"
      data-incident-id={incident.incidentId}
      data-severity={incident.severity}
      className={selected ? 'selected' : undefined}
      aria-selected={selected}
      tabIndex={0}
      onClick={select}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault()
          select()
        }
      }}
    >
      <td>
        <SeverityLabel severity={incident.severity} />
      </td>
      <td className="title" title={incident.summary ?? incident.title}>
        {incident.title}
        <div className="sub">
          {incident.incidentId} · {incident.category} · {incident.organisation}
        </div>
      </td>
      <td>
        <span className={`status status-${incident.status}`}>{incident.status}</span>
      </td>
      <td className="num" title="Affected networks">
        {incident.affectedNetworks.length}
      </td>
      <td className="num" title="Observations">
        {incident.observationCount}
      </td>
      <td>
        <TlpBadge tlp={incident.marking.tlp} />
      </td>
    </tr>
  )
})

/** Rows rendered at most; the rest are counted, and filters narrow them. */
export const LIST_LIMIT = 100

function SortHeader({ sort, label, className }: { sort: IncidentSort; label: string; className?: string }) {
  const current = useView((v) => v.sort)
  return (
    <th className={className} aria-sort={current === sort ? 'descending' : 'none'}>
      <button
        type="button"
        className={`sort ${current === sort ? 'active' : ''}`}
        data-testid={`sort-${sort}`}
        onClick={() => viewStore.getState().setSort(sort)}
      >
        {label}
        {current === sort ? ' ▾' : ''}
      </button>
    </th>
  )
}

export function IncidentList() {
  const incidents = useFilteredIncidents()
  const selection = useView((v) => v.selection)
  const shown = incidents.length > LIST_LIMIT ? incidents.slice(0, LIST_LIMIT) : incidents
  return (
    <section className="panel" aria-labelledby="incidents-heading">
      <h2 id="incidents-heading">
        Incidents{' '}
        <span className="muted" data-testid="incident-count">
          {incidents.length}
        </span>
      </h2>
      <table className="table" data-testid="incident-list">
        <thead>
          <tr>
            <SortHeader sort="severity" label="Severity" />
            <SortHeader sort="recency" label="Title (recent)" />
            <th>Status</th>
            <SortHeader sort="networks" label="Nets" className="num" />
            <th className="num">Obs.</th>
            <th>TLP</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((incident) => (
            <IncidentRow key={incident.incidentId} incident={incident} selected={incident.incidentId === selection} />
          ))}
        </tbody>
      </table>
      {incidents.length > shown.length && (
        <p className="empty">
          Showing {shown.length} of {incidents.length}: narrow with the filters.
        </p>
      )}
      {incidents.length === 0 && <p className="empty">No incidents match.</p>}
    </section>
  )
}

const EventRow = memo(function EventRow({ event, markLate }: { event: StoredEvent; markLate: boolean }) {
  const summary = summarise(event)
  const late = markLate && isLate(event)
  return (
    <tr data-testid="event-row" data-seq={event.seq} data-type={event.type} data-late={String(late)}>
      <td className="num mono">{event.seq}</td>
      <td className="mono" title={`occurred ${formatTime(event.occurredAt)}\nrecorded ${formatTime(event.recordedAt)}`}>
        <time dateTime={event.occurredAt}>{formatClock(event.occurredAt)}</time>
        {late && <LateMarker event={event} />}
      </td>
      <td className="mono type" title={event.type}>
        {event.type}
      </td>
      <td className="summary" title={summary}>
        {summary}
      </td>
      <td title={event.source.network ?? event.source.organisation}>{event.source.organisation}</td>
      <td>
        <TlpBadge tlp={event.marking.tlp} />
      </td>
    </tr>
  )
})

export function EventList() {
  const events = useWatchfloor(selectRecentEvents)
  // replaying "what happened when": reports that arrived late stand out
  const replaying = useWatchfloor((s) => s.mode === 'replay')
  const clock = useReplayClock()
  const markLate = replaying && clock === 'occurred'
  return (
    <section className="panel" aria-labelledby="events-heading">
      <h2 id="events-heading">Latest events</h2>
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
            <th className="num">Seq</th>
            <th>Time (UTC)</th>
            <th>Type</th>
            <th>Summary</th>
            <th>Source</th>
            <th>TLP</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <EventRow key={event.seq} event={event} markLate={markLate} />
          ))}
        </tbody>
      </table>
      {events.length === 0 && <p className="empty">No events yet.</p>}
    </section>
  )
}

export { SEVERITY_COLOURS, TLP_COLOURS }

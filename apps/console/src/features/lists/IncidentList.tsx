import type { IncidentState } from '@watchfloor/core'
import { memo } from 'react'
import { SeverityLabel, TlpBadge } from '../../ui/badges.tsx'
import { useFilteredIncidents } from '../../view/selectors.ts'
import type { IncidentSort } from '../../view/view.ts'
import { useView, viewStore } from '../../view/viewStore.ts'

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
        <TlpBadge tlp={incident.marking.tlp} pap={incident.marking.pap} />
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

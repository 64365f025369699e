import type { IncidentState } from '@watchfloor/core'
import { memo, useEffect, useMemo, useState } from 'react'
import { wantEverything } from '../../data/connection.ts'
import { useWatchfloor } from '../../data/store.ts'
import { SeverityLabel, TlpBadge } from '../../ui/badges.tsx'
import { ChoiceChips } from '../../ui/ChoiceChips.tsx'
import { formatTime } from '../../ui/format.ts'
import { useFilteredIncidents } from '../../view/selectors.ts'
import {
  ACK_FILTERS,
  type AckFilter,
  ASSIGNED_FILTERS,
  type AssignedFilter,
  type IncidentSort,
} from '../../view/view.ts'
import { useView, viewStore } from '../../view/viewStore.ts'
import { ListHeading } from './ListHeading.tsx'
import { applyListFilter } from './listFilter.ts'
import { stableRows } from './stableRows.ts'
import './lists.css'

const IncidentRow = memo(function IncidentRow({
  incident,
  selected,
  stale,
}: {
  incident: IncidentState
  selected: boolean
  stale: boolean
}) {
  const select = () => viewStore.getState().select(selected ? null : incident.incidentId)
  const classes = [selected ? 'selected' : '', stale ? 'stale' : ''].filter(Boolean).join(' ')
  return (
    <tr
      data-testid="incident-row"
      data-incident-id={incident.incidentId}
      data-severity={incident.severity}
      data-acknowledged={incident.acknowledgedAt !== undefined}
      data-stale={stale || undefined}
      className={classes || undefined}
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
      <td className="col-severity">
        <SeverityLabel severity={incident.severity} />
        <div className={`status status-${incident.status}`} data-testid="incident-status">
          {incident.status}
        </div>
      </td>
      <td className="title">
        <div className="title-text two-lines" data-testid="incident-title" title={incident.summary ?? incident.title}>
          {incident.title}
        </div>
        <div className="sub">
          {incident.incidentId} · {incident.category} · {incident.organisation}
          {incident.acknowledgedAt === undefined ? ' · not acknowledged' : ''}
        </div>
      </td>
      <td className="num col-counts">
        <div title="Affected networks" data-testid="incident-networks">
          {incident.affectedNetworks.length} net{incident.affectedNetworks.length === 1 ? '' : 's'}
        </div>
        <div
          className="muted"
          title={`${incident.observationReports.toLocaleString('en')} observation reports; their counts sum to ${incident.observationCount.toLocaleString('en')}`}
          data-testid="incident-observations"
          data-sum={incident.observationCount}
        >
          {incident.observationReports.toLocaleString('en')} obs.
        </div>
      </td>
      <td className="col-tlp" data-testid="incident-tlp">
        <TlpBadge tlp={incident.contentMarking.tlp} pap={incident.contentMarking.pap} />
      </td>
    </tr>
  )
})

/** Rows rendered at most; the rest are counted, and filters narrow them. */
export const LIST_LIMIT = 100

/** What each sort puts first, for the header's tooltip. */
const SORT_HELP: Record<IncidentSort, string> = {
  severity: 'most severe first',
  recency: 'most recently updated first',
  status: 'in workflow order: new first',
  networks: 'most affected networks first',
  observations: 'most observations first',
  tlp: 'most restricted first',
}

/** A column's sort: the list's order, also the map's and the wall's (the view's `sort`, in the link). */
function SortButton({ sort, label }: { sort: IncidentSort; label: string }) {
  const current = useView((v) => v.sort)
  return (
    <button
      type="button"
      className={`sort ${current === sort ? 'active' : ''}`}
      data-testid={`sort-${sort}`}
      aria-pressed={current === sort}
      title={`Sort: ${SORT_HELP[sort]}`}
      onClick={() => viewStore.getState().setSort(sort)}
    >
      {label}
      {current === sort ? ' ▾' : ''}
    </button>
  )
}

function SortHeader({ sort, label, className }: { sort: IncidentSort; label: string; className?: string }) {
  const current = useView((v) => v.sort)
  return (
    <th className={className} aria-sort={current === sort ? 'descending' : 'none'}>
      <SortButton sort={sort} label={label} />
    </th>
  )
}

const ACK_LABELS: Record<AckFilter, string> = {
  any: 'any',
  acknowledged: 'acknowledged',
  unacknowledged: 'not acknowledged',
}
const ASSIGNED_LABELS: Record<AssignedFilter, string> = { anyone: 'anyone', me: 'to me', team: 'to my team' }

/** The list's own filters: acknowledged or not, assigned to me or my team. */
function ListFilterBar() {
  const ack = useView((v) => v.list.ack)
  const assigned = useView((v) => v.list.assigned)
  return (
    <div className="list-filters" data-testid="incident-list-filters">
      <ChoiceChips
        legend="Acknowledged"
        choices={ACK_FILTERS}
        chosen={ack}
        label={(value) => ACK_LABELS[value]}
        testid={(value) => `list-ack-${value}`}
        onChoose={(value) => viewStore.getState().setList({ ack: value })}
      />
      <ChoiceChips
        legend="Assigned"
        choices={ASSIGNED_FILTERS}
        chosen={assigned}
        label={(value) => ASSIGNED_LABELS[value]}
        testid={(value) => `list-assigned-${value}`}
        title={(value) =>
          value === 'anyone' ? undefined : `incidents with a task not done assigned ${ASSIGNED_LABELS[value]}`
        }
        onChoose={(value) => viewStore.getState().setList({ assigned: value })}
      />
    </div>
  )
}

export function IncidentList() {
  const filtered = useFilteredIncidents()
  const picture = useWatchfloor((s) => s.state.incidents)
  const allTasks = useWatchfloor((s) => s.state.tasks)
  const session = useWatchfloor((s) => s.session)
  const ack = useView((v) => v.list.ack)
  const assigned = useView((v) => v.list.assigned)
  const viewer = useMemo(
    () => (session ? { userId: session.user, organisation: session.organisation } : null),
    [session],
  )
  // the tasks matter only to the assigned filter: without it, a task event does not filter again
  const tasks = assigned === 'anyone' ? null : allTasks
  const incidents = useMemo(
    () => applyListFilter(filtered, { ack, assigned }, { tasks: tasks ?? new Map() }, viewer),
    [filtered, ack, assigned, tasks, viewer],
  )
  const selection = useView((v) => v.selection)
  const filters = useView((v) => v.filters)
  const range = useView((v) => v.range)
  const sort = useView((v) => v.sort)
  const mode = useWatchfloor((s) => s.mode)
  const live = useMemo(() => (incidents.length > LIST_LIMIT ? incidents.slice(0, LIST_LIMIT) : incidents), [incidents])
  // While the pointer is over the rows they keep the order they had when it came (stableRows.ts),
  // against what arrives; what the person asks for (filters, sort, replay or live) applies at once.
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new query object whenever one of them changes
  const query = useMemo(() => ({}), [filters, range, sort, ack, assigned, mode])
  const [frozen, setFrozen] = useState<{ ids: string[]; query: object } | null>(null)
  const freeze = () => setFrozen({ ids: live.map((incident) => incident.incidentId), query })
  useEffect(() => {
    // the query changed under a resting pointer: freeze the new order
    if (frozen !== null && frozen.query !== query)
      setFrozen({ ids: live.map((incident) => incident.incidentId), query })
  }, [frozen, query, live])
  const frozenIds = frozen !== null && frozen.query === query ? frozen.ids : null
  const { rows, stale, added } = useMemo(() => stableRows(frozenIds, live, picture), [frozenIds, live, picture])
  return (
    <section className="panel" aria-labelledby="incidents-heading">
      <ListHeading
        id="incidents-heading"
        title="Incidents"
        count={incidents.length}
        countTestid="incident-count"
        added={added}
        newTestid="incident-list-new"
        what="list"
      />
      <ListFilterBar />
      <table className="table incident-table" data-testid="incident-list" data-frozen={frozenIds !== null}>
        <thead>
          <tr>
            <th className="stacked">
              <SortButton sort="severity" label="Severity" />
              <SortButton sort="status" label="Status" />
            </th>
            <SortHeader sort="recency" label="Title (recent)" className="wraps" />
            <th className="stacked num">
              <SortButton sort="networks" label="Nets" />
              <SortButton sort="observations" label="Obs." />
            </th>
            <SortHeader sort="tlp" label="TLP" />
          </tr>
        </thead>
        <tbody onPointerEnter={freeze} onPointerLeave={() => setFrozen(null)}>
          {rows.map((incident) => (
            <IncidentRow
              key={incident.incidentId}
              incident={incident}
              selected={incident.incidentId === selection}
              stale={stale.has(incident.incidentId)}
            />
          ))}
        </tbody>
      </table>
      {incidents.length > live.length && (
        <p className="empty">
          Showing {live.length} of {incidents.length}: narrow with the filters.
        </p>
      )}
      {rows.length === 0 && <p className="empty">No incidents match.</p>}
      <LeftOut />
    </section>
  )
}

/**
 * What the live picture left out, said where someone looks for it: under a list that shows closed
 * incidents or searches, with a way to load them (the whole picture from then on).
 */
function LeftOut() {
  const omitted = useWatchfloor((s) => (s.mode === 'live' ? s.omitted : null))
  const looking = useView((v) => v.filters.statuses.includes('closed') || v.filters.text.trim() !== '')
  if (omitted === null || omitted.incidents === 0 || !looking) return null
  return (
    <p className="empty" data-testid="list-left-out">
      {omitted.incidents} {omitted.incidents === 1 ? 'incident' : 'incidents'} closed before {formatTime(omitted.since)}{' '}
      {omitted.incidents === 1 ? 'is' : 'are'} not loaded.{' '}
      <button type="button" className="link" data-testid="list-load-closed" onClick={() => wantEverything()}>
        Load {omitted.incidents === 1 ? 'it' : 'them'}
      </button>
    </p>
  )
}

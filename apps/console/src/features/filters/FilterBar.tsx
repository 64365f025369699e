import { IncidentStatus, SEVERITIES, TLP_LEVELS } from '@watchfloor/protocol'
import { useMemo } from 'react'
import { useWatchfloor } from '../../data/store.ts'
import { SeverityShape } from '../../ui/badges.tsx'
import { formatTime } from '../../ui/format.ts'
import { TLP_COLOURS } from '../../ui/theme.ts'
import { hasFilters } from '../../view/view.ts'
import { useView, viewStore } from '../../view/viewStore.ts'

function toggle<T>(list: readonly T[], value: T): T[] {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value]
}

/**
 * Filters that apply to map, timeline and lists together; they live in the URL. The bar keeps its
 * size whatever is chosen (fixed-width selects, a slot for the time range and the clear button),
 * so setting a filter never moves the map under the pointer.
 */
export function FilterBar() {
  const filters = useView((v) => v.filters)
  const range = useView((v) => v.range)
  const state = useWatchfloor((s) => s.state)
  const { setFilters, clearFilters, setRange } = viewStore.getState()
  const categories = useMemo(() => {
    const set = new Set<string>()
    for (const incident of state.incidents.values()) set.add(incident.category)
    return [...set].sort()
  }, [state.incidents])
  const organisations = useMemo(() => {
    const set = new Set<string>()
    for (const network of state.networks.values()) {
      set.add(network.organisation)
      set.add(network.nation)
    }
    return [...set].sort()
  }, [state.networks])

  return (
    <section className="filterbar" data-testid="filter-bar" aria-label="Filters">
      <fieldset className="chips">
        <legend>Severity</legend>
        {SEVERITIES.map((severity) => (
          <button
            key={severity}
            type="button"
            className="chip"
            aria-pressed={filters.severities.includes(severity)}
            data-testid={`filter-severity-${severity}`}
            onClick={() => setFilters({ severities: toggle(filters.severities, severity) })}
          >
            <SeverityShape severity={severity} /> {severity}
          </button>
        ))}
      </fieldset>
      <fieldset className="chips">
        <legend>Status</legend>
        {IncidentStatus.options.map((status) => (
          <button
            key={status}
            type="button"
            className="chip"
            aria-pressed={filters.statuses.includes(status)}
            data-testid={`filter-status-${status}`}
            onClick={() => setFilters({ statuses: toggle(filters.statuses, status) })}
          >
            {status}
          </button>
        ))}
      </fieldset>
      <fieldset className="chips">
        <legend>TLP</legend>
        {TLP_LEVELS.map((tlp) => (
          <button
            key={tlp}
            type="button"
            className="chip tlp-chip"
            aria-pressed={filters.tlps.includes(tlp)}
            data-testid={`filter-tlp-${tlp}`}
            style={{ color: TLP_COLOURS[tlp] }}
            onClick={() => setFilters({ tlps: toggle(filters.tlps, tlp) })}
          >
            {tlp}
          </button>
        ))}
      </fieldset>
      <label className="field">
        <span>Category</span>
        <select
          data-testid="filter-category"
          value={filters.categories[0] ?? ''}
          onChange={(e) => setFilters({ categories: e.target.value ? [e.target.value] : [] })}
        >
          <option value="">any</option>
          {categories.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Organisation / nation</span>
        <select
          data-testid="filter-organisation"
          value={filters.organisations[0] ?? ''}
          onChange={(e) => setFilters({ organisations: e.target.value ? [e.target.value] : [] })}
        >
          <option value="">any</option>
          {organisations.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </label>
      <label className="field grow">
        <span>Search</span>
        <input
          type="search"
          data-testid="filter-text"
          placeholder="title, id, summary, network…"
          value={filters.text}
          onChange={(e) => setFilters({ text: e.target.value })}
        />
      </label>
      {/* the time range and the clear button keep their room when empty, so nothing below moves */}
      <div className="field range-field">
        <span>Time range</span>
        {range ? (
          <span className="range" data-testid="filter-range">
            {formatTime(new Date(range.from).toISOString())} – {formatTime(new Date(range.to).toISOString())}
            <button type="button" className="link" onClick={() => setRange(null)} aria-label="Clear time range">
              ✕
            </button>
          </span>
        ) : (
          <span className="range range-empty" title="Drag across the timeline to choose a time range">
            any
          </span>
        )}
      </div>
      <button
        type="button"
        className={`button filter-clear${hasFilters(filters) ? '' : ' unused'}`}
        data-testid={hasFilters(filters) ? 'filter-clear' : undefined}
        disabled={!hasFilters(filters)}
        aria-hidden={hasFilters(filters) ? undefined : true}
        tabIndex={hasFilters(filters) ? undefined : -1}
        onClick={clearFilters}
      >
        Clear filters
      </button>
    </section>
  )
}

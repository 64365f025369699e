import { type IncidentState, incidentOf, type State, type TaskIndex } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { useStore } from 'zustand'
import { type WatchfloorStore, watchfloor } from '../data/store.ts'
import { type FilteredIncidents, filterEvents, refilterIncidents } from './filters.ts'
import type { Filters, IncidentSort, TimeRange } from './view.ts'
import { type ViewStore, viewStore } from './viewStore.ts'

/** Memoise on the identity of every argument. */
function memo<A extends unknown[], T>(derive: (...args: A) => T): (...args: A) => T {
  let last: { args: A; value: T } | undefined
  return (...args) => {
    if (last && last.args.length === args.length && last.args.every((a, i) => a === args[i])) return last.value
    const value = derive(...args)
    last = { args, value }
    return value
  }
}

let lastFiltered: FilteredIncidents | undefined

/**
 * Incidents passing filters and range, sorted as the view says (the list, the map and the wall
 * use this). Each new picture is filtered from the last one (see `refilterIncidents`).
 */
export const selectFilteredIncidents = memo(
  (state: State, filters: Filters, range: TimeRange | null, sort: IncidentSort): IncidentState[] => {
    lastFiltered = refilterIncidents(lastFiltered, state, { filters, range, sort })
    return lastFiltered.result
  },
)

const idsOf = memo((incidents: IncidentState[]): ReadonlySet<string> => new Set(incidents.map((i) => i.incidentId)))

/** Ids of the incidents passing filters (any order). */
export function selectMatchingIds(data: WatchfloorStore, view: ViewStore): ReadonlySet<string> {
  return idsOf(selectFilteredIncidents(data.state, view.filters, view.range, view.sort))
}

const eventsMemo = memo(
  (
    _version: number,
    window: readonly StoredEvent[],
    matching: ReadonlySet<string>,
    filters: Filters,
    state: State,
    range: TimeRange | null,
  ): StoredEvent[] => filterEvents(window, matching, filters, state, range),
)

/**
 * Events of the in-memory window passing the view's filters (not the range:
 * the timeline shows the whole window and draws the brushed range on it).
 */
export function selectFilteredEvents(data: WatchfloorStore, view: ViewStore): StoredEvent[] {
  const matching = idsOf(selectFilteredIncidents(data.state, view.filters, null, view.sort))
  return eventsMemo(data.windowVersion, data.window, matching, view.filters, data.state, null)
}

/** React hooks over both stores. */
export function useFilteredIncidents(): IncidentState[] {
  const state = useStore(watchfloor, (s) => s.state)
  const filters = useStore(viewStore, (v) => v.filters)
  const range = useStore(viewStore, (v) => v.range)
  const sort = useStore(viewStore, (v) => v.sort)
  return selectFilteredIncidents(state, filters, range, sort)
}

export function useFilteredEvents(): StoredEvent[] {
  useStore(watchfloor, (s) => s.windowVersion)
  useStore(viewStore, (v) => v.filters)
  useStore(watchfloor, (s) => s.state)
  return selectFilteredEvents(watchfloor.getState(), viewStore.getState())
}

/** Every event of the window about one incident (`incidentOf`, tasks through `state`), in seq order. */
export function historyOf(window: readonly StoredEvent[], incidentId: string, state: TaskIndex): StoredEvent[] {
  return window.filter((event) => incidentOf(event, state) === incidentId)
}

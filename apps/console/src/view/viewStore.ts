import { useStore } from 'zustand'
import { createStore } from 'zustand/vanilla'
import type { ViewAs } from '../data/viewAs.ts'
import {
  DEFAULT_VIEW,
  EMPTY_FILTERS,
  type Filters,
  type IncidentSort,
  type Lanes,
  type LayerName,
  type ListFilter,
  type MapView,
  type ObservationMode,
  parseView,
  type ReplayView,
  serializeView,
  type TimeRange,
  type View,
} from './view.ts'

export interface ViewActions {
  setFilters(patch: Partial<Filters>): void
  clearFilters(): void
  /** A brushed time range, or null for "all time". */
  setRange(range: TimeRange | null): void
  /** Select an incident (map, list, timeline, detail panel), or null. */
  select(incidentId: string | null): void
  setMap(map: MapView): void
  toggleLayer(layer: LayerName, shown?: boolean): void
  setLanes(lanes: Lanes): void
  /** The timeline's observations: runs or each. */
  setObservations(observations: ObservationMode): void
  setSort(sort: IncidentSort): void
  /** The incident list's own filters. */
  setList(patch: Partial<ListFilter>): void
  /** The replay on screen (features/replay writes it), or null for live. */
  setReplay(replay: ReplayView | null): void
  /** Open (or close, null) an incident's after-action report. */
  setReport(incidentId: string | null): void
  /** The audience viewed as (features/viewas writes what the server agreed to), or null. */
  setViewAs(viewAs: ViewAs | null): void
}

export type ViewStore = View & ViewActions

export function createViewStore(initial: View = DEFAULT_VIEW) {
  return createStore<ViewStore>()((set, get) => ({
    ...initial,
    setFilters(patch) {
      set({ filters: { ...get().filters, ...patch } })
    },
    clearFilters() {
      set({ filters: EMPTY_FILTERS })
    },
    setRange(range) {
      set({ range })
    },
    select(selection) {
      if (selection !== get().selection) set({ selection })
    },
    setMap(map) {
      set({ map })
    },
    toggleLayer(layer, shown) {
      const layers = get().layers
      set({ layers: { ...layers, [layer]: shown ?? !layers[layer] } })
    },
    setLanes(lanes) {
      set({ lanes })
    },
    setObservations(observations) {
      set({ observations })
    },
    setSort(sort) {
      set({ sort })
    },
    setList(patch) {
      set({ list: { ...get().list, ...patch } })
    },
    setReplay(replay) {
      const current = get().replay
      if (replay === current) return
      if (
        replay &&
        current &&
        replay.clock === current.clock &&
        replay.from === current.from &&
        replay.to === current.to &&
        replay.at === current.at &&
        replay.speed === current.speed &&
        replay.incidentId === current.incidentId
      )
        return
      set({ replay })
    },
    setReport(report) {
      if (report !== get().report) set({ report })
    },
    setViewAs(viewAs) {
      const current = get().viewAs
      if (viewAs === current || (viewAs && current && viewAs.kind === current.kind && viewAs.id === current.id)) return
      set({ viewAs })
    },
  }))
}

export const viewStore = createViewStore(
  typeof window === 'undefined' ? DEFAULT_VIEW : parseView(window.location.search),
)

export function useView<T>(selector: (view: ViewStore) => T): T {
  return useStore(viewStore, selector)
}

export function viewOf(store: ViewStore): View {
  const { filters, range, selection, map, layers, lanes, observations, sort, list, replay, report, viewAs } = store
  return { filters, range, selection, map, layers, lanes, observations, sort, list, replay, report, viewAs }
}

/**
 * Keep the address bar in step with the view (replaceState, at most every
 * `delayMs`), so a link reproduces what someone sees. The hash is left alone.
 */
export function syncViewToUrl(store = viewStore, delayMs = 250): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  const write = () => {
    timer = undefined
    const query = serializeView(viewOf(store.getState()))
    const url = `${window.location.pathname}${query ? `?${query}` : ''}${window.location.hash}`
    if (url !== `${window.location.pathname}${window.location.search}${window.location.hash}`)
      window.history.replaceState(window.history.state, '', url)
  }
  const unsubscribe = store.subscribe(() => {
    if (timer === undefined) timer = setTimeout(write, delayMs)
  })
  return () => {
    unsubscribe()
    if (timer !== undefined) clearTimeout(timer)
  }
}

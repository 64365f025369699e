import { formatUtc } from '../../ui/time.ts'
import { MarkKind, NO_SEVERITY } from './marks.ts'
import type { Domain } from './scale.ts'
import { lowerBound, upperBound } from './timeIndex.ts'

/*
 * Observations folded into runs on the timeline, as the lists fold them (features/lists/eventGroups.ts),
 * but by lane and time rather than by incident and indicator: the timeline asks "when was this lane
 * busy", not "what changed". A run is the observations of one lane in view whose neighbours are at most
 * `gapMs` apart (RUN_GAP_COLS columns at the current zoom, so zooming in splits a run where it has
 * gaps and zooming out joins runs). Significant events (anything but an observation) do not break a
 * run: they keep their own marks, drawn over the band, so a busy incident reads as one band with its
 * reports and updates on it.
 */

/** Two observations of a lane more than this many aggregation columns apart are in different runs. */
export const RUN_GAP_COLS = 5

/** The narrowest band a run is drawn as, CSS px (a run of one observation, or of one instant). */
export const RUN_MIN_PX = 4

/** Per sorted event: what a run needs (see MarkData and TimelineModel.lane). */
export interface RunInput {
  times: Float64Array
  lane: Int32Array
  kind: Uint8Array
  severity: Uint8Array
  incident: readonly (string | undefined)[]
}

export interface RunOptions {
  domain: Domain
  /** The widest gap (ms) between two observations of one run. */
  gapMs: number
  /** Lanes [laneFrom, laneTo) get runs (the visible ones). */
  laneFrom: number
  laneTo: number
}

/** The runs of a frame, as parallel arrays (one entry per run, in order of their first observation). */
export interface ObservationRuns {
  count: number
  lane: number[]
  /** Times of the first and the last observation, epoch ms. */
  from: number[]
  to: number[]
  /** Observation reports in the run (in view). */
  reports: number[]
  /** Sorted-event indexes of the first and the last observation. */
  first: number[]
  last: number[]
  /** The highest severity rank of their incidents (core's severityRank), or NO_SEVERITY when none is known. */
  severity: number[]
  /** The incident of every observation in it; null when they belong to several. */
  incident: (string | null)[]
}

/** A set of runs with none in it yet. */
function emptyRuns(): ObservationRuns {
  return { count: 0, lane: [], from: [], to: [], reports: [], first: [], last: [], severity: [], incident: [] }
}

/** No runs (observations shown each on its own). */
export const NO_RUNS: ObservationRuns = emptyRuns()

/**
 * The observation runs of lanes [laneFrom, laneTo) within the domain: one pass over the sorted
 * events in view, a run per lane kept open while the next observation of the lane comes within
 * `gapMs` of its last one. Costs a small array per lane and an entry per run, nothing per event.
 */
export function observationRuns(input: RunInput, opts: RunOptions): ObservationRuns {
  const { domain, gapMs, laneFrom, laneTo } = opts
  const runs = emptyRuns()
  const open = new Int32Array(Math.max(0, laneTo - laneFrom)).fill(-1)
  const start = lowerBound(input.times, domain.from)
  const end = upperBound(input.times, domain.to)
  for (let i = start; i < end; i++) {
    if (input.kind[i] !== MarkKind.observation) continue
    const lane = input.lane[i]!
    if (lane < laneFrom || lane >= laneTo) continue
    const t = input.times[i]!
    const s = input.severity[i]!
    const incident = input.incident[i] ?? null
    const r = open[lane - laneFrom]!
    if (r >= 0 && t - runs.to[r]! <= gapMs) {
      runs.to[r] = t
      runs.last[r] = i
      runs.reports[r]!++
      if (s !== NO_SEVERITY && (runs.severity[r] === NO_SEVERITY || s > runs.severity[r]!)) runs.severity[r] = s
      if (runs.incident[r] !== incident) runs.incident[r] = null
      continue
    }
    open[lane - laneFrom] = runs.count
    runs.lane.push(lane)
    runs.from.push(t)
    runs.to.push(t)
    runs.reports.push(1)
    runs.first.push(i)
    runs.last.push(i)
    runs.severity.push(s)
    runs.incident.push(incident)
    runs.count++
  }
  return runs
}

/**
 * The run of `lane` under time `t`, allowing `slopMs` either side (a short run is drawn wider than
 * it lasts): the nearest one, -1 if none.
 */
export function runAt(runs: ObservationRuns, lane: number, t: number, slopMs: number): number {
  let best = -1
  let bestDistance = Number.POSITIVE_INFINITY
  for (let r = 0; r < runs.count; r++) {
    if (runs.lane[r] !== lane) continue
    const from = runs.from[r]!
    const to = runs.to[r]!
    const distance = t < from ? from - t : t > to ? t - to : 0
    if (distance <= slopMs && distance < bestDistance) {
      best = r
      bestDistance = distance
    }
  }
  return best
}

/** The first run that is all of `incidentId`'s observations, else the first that has some of them (-1 if none). */
export function runOfIncident(runs: ObservationRuns, incidentId: string): number {
  for (let r = 0; r < runs.count; r++) if (runs.incident[r] === incidentId) return r
  return -1
}

/** The incidents whose observations are in run `r` (distinct, in order of their first): read on hover, not per frame. */
export function incidentsOfRun(
  runs: ObservationRuns,
  r: number,
  input: Pick<RunInput, 'lane' | 'kind' | 'incident'>,
): string[] {
  const only = runs.incident[r]
  if (only !== null && only !== undefined) return [only]
  const seen = new Set<string>()
  const lane = runs.lane[r]
  for (let i = runs.first[r]!; i <= runs.last[r]!; i++) {
    if (input.lane[i] !== lane || input.kind[i] !== MarkKind.observation) continue
    const incident = input.incident[i]
    if (incident !== undefined) seen.add(incident)
  }
  return [...seen]
}

/** What a click on a run selects: its last observation (whose incident is the run's), or -1 when it spans several incidents. */
export function runPick(runs: Pick<ObservationRuns, 'count' | 'last' | 'incident'> | null, r: number): number {
  return runs && r >= 0 && r < runs.count && runs.incident[r] !== null ? runs.last[r]! : -1
}

/** "17:23:25–17:24:27Z" (24-hour UTC), with the dates when the run is not within one day. */
export function formatRunSpan(from: number, to: number): string {
  const a = formatUtc(from, { seconds: true })
  const b = formatUtc(to, { seconds: true })
  if (a.slice(0, 10) !== b.slice(0, 10)) return `${a.slice(0, -1)}–${b}`
  return from === to ? a.slice(11) : `${a.slice(11, -1)}–${b.slice(11)}`
}

/** "Observations: 403 reports · 17:23:25–17:24:27Z": what a run's tooltip says it is. */
export function describeRun(runs: ObservationRuns, r: number): string {
  const n = runs.reports[r]!
  return `Observations: ${n} report${n === 1 ? '' : 's'} · ${formatRunSpan(runs.from[r]!, runs.to[r]!)}`
}

/** The count written on a band `widthPx` wide, or '' when it does not fit (3 px of room either side). */
export function runLabel(
  ctx: { measureText(text: string): { width: number } },
  reports: number,
  widthPx: number,
): string {
  const label = String(reports)
  return ctx.measureText(label).width + 6 <= widthPx ? label : ''
}

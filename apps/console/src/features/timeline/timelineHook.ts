import { type Cells, cellOfIncident } from './aggregate.ts'
import type { TimelineModel } from './drawTimeline.ts'
import { cellCentre, LABEL_W, LANE_H, laneCentreY, maxScroll, type Point, runCentre } from './layout.ts'
import { type ObservationRuns, runOfIncident } from './observationRuns.ts'
import { type Domain, zoomAround } from './scale.ts'
import { lowerBound, upperBound } from './timeIndex.ts'

/** Test hook (Playwright): where to click a drawn mark of an incident, and the visible domain. */
export interface TimelineHook {
  /** A drawn mark of the incident, or (observations folded) a run of its observations. */
  markAt(incidentId: string): { x: number; y: number } | null
  /** The middle of a drawn run of the incident's observations (as drawn now), or null. */
  runAt(incidentId: string): { x: number; y: number } | null
  /** A point on the label of the lane keyed `key`, scrolled into view; null when there is no such lane. */
  laneLabelAt(key: string): { x: number; y: number } | null
  domain(): { from: number; to: number }
}

/** What the hook reads of the timeline, and the moves it may make to bring a mark into view. */
export interface TimelineHookHost {
  cells(): Cells | null
  /** The observation runs drawn last (null or none when observations are drawn each). */
  runs(): ObservationRuns | null
  model(): Pick<TimelineModel, 'index' | 'lane' | 'marks' | 'lanes'>
  /** The canvas size, CSS px. */
  size(): { w: number; h: number }
  domain(): Domain
  scrollY(): number
  scrollTo(scrollY: number): void
  moveTo(domain: Domain): void
  /** Draw at once (not on the next animation frame), so `cells()` shows the move. */
  drawNow(): void
}

/** `window.__watchfloorTimeline` (typed locally: tests declare their own view of it). */
const hookHost = (): { __watchfloorTimeline?: TimelineHook } =>
  window as unknown as { __watchfloorTimeline?: TimelineHook }

/** The first event of `incidentId` in `domain` that has a lane (sorted index), or -1. */
export function firstEventInView(
  model: Pick<TimelineModel, 'index' | 'lane' | 'marks'>,
  domain: Domain,
  incidentId: string,
): number {
  const end = upperBound(model.index.times, domain.to)
  for (let i = lowerBound(model.index.times, domain.from); i < end; i++)
    if (model.marks.incident[i] === incidentId && model.lane[i]! >= 0) return i
  return -1
}

/**
 * A hook whose `markAt` finds a drawn mark of the incident, scrolling its lane
 * into view and zooming in (marks of the same cell hide all but the strongest)
 * until one is drawn.
 */
export function createTimelineHook(host: TimelineHookHost): TimelineHook {
  const runOf = (incidentId: string): Point | null => {
    const runs = host.runs()
    const r = runs ? runOfIncident(runs, incidentId) : -1
    return runs && r >= 0 ? runCentre(runs, r, host.domain(), host.size().w, host.scrollY()) : null
  }
  return {
    markAt(incidentId) {
      const find = (): Point | null => {
        const agg = host.cells()
        if (!agg) return null
        const cell = cellOfIncident(agg, host.model().marks.incident, incidentId)
        // the centre of its cell: what hit-testing maps back to that cell
        return cell < 0 ? runOf(incidentId) : cellCentre(agg, cell, host.scrollY())
      }
      const found = find()
      if (found) return found
      // one of its events in the visible time span
      let i = firstEventInView(host.model(), host.domain(), incidentId)
      if (i < 0) return null
      // in a lane scrolled out of view: bring it in
      const lanePos = host.model().lane[i]!
      const agg = host.cells()
      if (!agg || lanePos < agg.laneFrom || lanePos >= agg.laneTo) {
        host.scrollTo(lanePos * LANE_H)
        host.drawNow()
        const again = find()
        if (again) return again
      }
      // covered by stronger marks in the same cells: zoom in around it until one shows
      for (let k = 0; k < 20 && i >= 0; k++) {
        const t = host.model().index.times[i]!
        host.moveTo(zoomAround(host.domain(), 0.5, t))
        host.drawNow()
        const again = find()
        if (again) return again
        i = firstEventInView(host.model(), host.domain(), incidentId)
      }
      return null
    },
    runAt(incidentId) {
      host.drawNow()
      return runOf(incidentId)
    },
    laneLabelAt(key) {
      const lanes = host.model().lanes
      const i = lanes.findIndex((lane) => lane.key === key)
      if (i < 0) return null
      const top = Math.min(i * LANE_H, maxScroll(lanes.length, host.size().h))
      if (host.scrollY() > i * LANE_H || laneCentreY(i, host.scrollY()) > host.size().h - LANE_H / 2) {
        host.scrollTo(top)
        host.drawNow()
      }
      return { x: LABEL_W / 3, y: laneCentreY(i, host.scrollY()) }
    },
    domain() {
      const { from, to } = host.domain()
      return { from, to }
    },
  }
}

/** Publish `hook` as `window.__watchfloorTimeline`; the returned function withdraws it (if still the one published). */
export function installTimelineHook(hook: TimelineHook): () => void {
  hookHost().__watchfloorTimeline = hook
  return () => {
    if (hookHost().__watchfloorTimeline === hook) delete hookHost().__watchfloorTimeline
  }
}

import { type Cells, cellOfIncident } from './aggregate.ts'
import type { TimelineModel } from './drawTimeline.ts'
import { cellCentre, LANE_H, type Point } from './layout.ts'
import { type Domain, zoomAround } from './scale.ts'
import { lowerBound, upperBound } from './timeIndex.ts'

/** Test hook (Playwright): where to click a drawn mark of an incident, and the visible domain. */
export interface TimelineHook {
  markAt(incidentId: string): { x: number; y: number } | null
  domain(): { from: number; to: number }
}

/** What the hook reads of the timeline, and the moves it may make to bring a mark into view. */
export interface TimelineHookHost {
  cells(): Cells | null
  model(): Pick<TimelineModel, 'index' | 'lane' | 'marks'>
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
  return {
    markAt(incidentId) {
      const find = (): Point | null => {
        const agg = host.cells()
        if (!agg) return null
        const cell = cellOfIncident(agg, host.model().marks.incident, incidentId)
        if (cell < 0) return null
        // the centre of its cell: what hit-testing maps back to that cell
        return cellCentre(agg, cell, host.scrollY())
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

import { describe, expect, it } from 'vitest'
import { aggregate, type Cells } from './aggregate.ts'
import type { TimelineModel } from './drawTimeline.ts'
import { COL_PX, LABEL_W, LANE_H, laneAt, markAt, TOP } from './layout.ts'
import type { Domain } from './scale.ts'
import { createTimelineHook, firstEventInView, type TimelineHookHost } from './timelineHook.ts'

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0)
const PLOT = 300
const LANES = 10
/** Three lanes show at a time. */
const VISIBLE = 3

/** Events as (seconds from T0, lane, priority, incident), sorted by time. */
function modelOf(rows: [s: number, lane: number, priority: number, incident: string][]) {
  const model: Pick<TimelineModel, 'index' | 'lane' | 'marks' | 'lanes'> = {
    lanes: Array.from({ length: LANES }, (_, i) => ({ key: `lane-${i}`, label: `Lane ${i}` })),
    index: {
      source: [],
      events: [],
      times: Float64Array.from(rows.map((r) => T0 + r[0] * 1000)),
      id: 1,
      stable: 0,
      stableFrom: 0,
    },
    lane: Int32Array.from(rows.map((r) => r[1])),
    marks: {
      kind: new Uint8Array(rows.length),
      severity: new Uint8Array(rows.length),
      priority: Uint8Array.from(rows.map((r) => r[2])),
      incident: rows.map((r) => r[3]),
    },
  }
  return model
}

/** A timeline that draws (aggregates) the visible lanes when told to. */
function fakeTimeline(model: Pick<TimelineModel, 'index' | 'lane' | 'marks' | 'lanes'>) {
  let domain: Domain = { from: T0, to: T0 + 300_000 }
  let scrollY = 0
  let cells: Cells | null = null
  let draws = 0
  const draw = () => {
    draws++
    cells = aggregate(
      { times: model.index.times, lane: model.lane, priority: model.marks.priority, incident: model.marks.incident },
      {
        domain,
        width: PLOT,
        colPx: COL_PX,
        laneFrom: Math.floor(scrollY / LANE_H),
        laneTo: Math.min(LANES, Math.ceil((scrollY + VISIBLE * LANE_H) / LANE_H)),
        selection: null,
      },
    )
  }
  draw()
  const host: TimelineHookHost = {
    cells: () => cells,
    runs: () => null,
    size: () => ({ w: LABEL_W + PLOT, h: TOP + VISIBLE * LANE_H }),
    model: () => model,
    domain: () => domain,
    scrollY: () => scrollY,
    scrollTo: (y) => {
      scrollY = y
    },
    moveTo: (d) => {
      domain = d
    },
    drawNow: draw,
  }
  return {
    host,
    hook: createTimelineHook(host),
    /** The event under a canvas point, as a click would find it. */
    clickAt: (p: { x: number; y: number }) => markAt(cells, p.x, p.y, scrollY, LANES),
    get draws() {
      return draws
    },
    get domain() {
      return domain
    },
  }
}

describe('the timeline test hook', () => {
  const model = modelOf([
    [50, 0, 5, 'shown'],
    [100, 6, 5, 'deep'],
    [200, 1, 1, 'weak'],
    [200.5, 1, 9, 'strong'],
    [400, 2, 5, 'later'],
  ])

  it('finds the first event of an incident in the domain that has a lane', () => {
    const domain = { from: T0, to: T0 + 300_000 }
    expect(firstEventInView(model, domain, 'deep')).toBe(1)
    expect(firstEventInView(model, domain, 'later')).toBe(-1)
    expect(firstEventInView(model, { from: T0, to: T0 + 500_000 }, 'later')).toBe(4)
    expect(firstEventInView(model, { from: T0 + 60_000, to: T0 + 300_000 }, 'shown')).toBe(-1)
    expect(firstEventInView({ ...model, lane: Int32Array.from([-1, -1, -1, -1, -1]) }, domain, 'deep')).toBe(-1)
  })

  it('returns a point that clicks the drawn mark', () => {
    const t = fakeTimeline(model)
    const p = t.hook.markAt('shown')
    expect(p).not.toBeNull()
    expect(t.clickAt(p!)).toBe(0)
    expect(t.draws).toBe(1)
  })

  it('scrolls a lane out of view into it', () => {
    const t = fakeTimeline(model)
    const p = t.hook.markAt('deep')
    expect(p).not.toBeNull()
    expect(t.host.scrollY()).toBe(6 * LANE_H)
    expect(t.clickAt(p!)).toBe(1)
  })

  it('zooms in around a mark covered by a stronger one until it shows', () => {
    const t = fakeTimeline(model)
    expect(t.clickAt(t.hook.markAt('strong')!)).toBe(3)
    const p = t.hook.markAt('weak')
    expect(p).not.toBeNull()
    expect(t.clickAt(p!)).toBe(2)
    // zoomed around the event, halving the span each time
    const span = t.domain.to - t.domain.from
    expect(span).toBeLessThan(300_000)
    expect(Math.log2(300_000 / span) % 1).toBeCloseTo(0)
    expect(t.domain.from).toBeLessThanOrEqual(T0 + 200_000)
    expect(t.domain.to).toBeGreaterThanOrEqual(T0 + 200_000)
    expect(t.hook.domain()).toEqual(t.domain)
  })

  it('points at the label of a lane, scrolling it into view', () => {
    const t = fakeTimeline(model)
    const p = t.hook.laneLabelAt('lane-1')
    expect(p!.x).toBeLessThan(LABEL_W)
    expect(laneAt(p!.y, t.host.scrollY(), LANES)).toBe(1)
    const deep = t.hook.laneLabelAt('lane-8')
    expect(t.host.scrollY()).toBeGreaterThan(0)
    expect(laneAt(deep!.y, t.host.scrollY(), LANES)).toBe(8)
    expect(deep!.y).toBeGreaterThanOrEqual(TOP)
    expect(t.hook.laneLabelAt('nowhere')).toBeNull()
  })

  it('gives up on an incident with no event in view', () => {
    const t = fakeTimeline(model)
    expect(t.hook.markAt('later')).toBeNull()
    expect(t.hook.markAt('nobody')).toBeNull()
    expect(t.domain).toEqual({ from: T0, to: T0 + 300_000 })
  })
})

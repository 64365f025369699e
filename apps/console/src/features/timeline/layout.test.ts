import { describe, expect, it } from 'vitest'
import { aggregate } from './aggregate.ts'
import {
  AXIS_H,
  COL_PX,
  cellCentre,
  clampScroll,
  LABEL_W,
  LANE_H,
  laneAt,
  laneCentreY,
  markAt,
  maxScroll,
  plotWidth,
  TOP,
  timeAtX,
  xOfTime,
} from './layout.ts'

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0)
/** 300 px of plot over 300 s: 1 s per px. */
const WIDTH = LABEL_W + 300
const domain = { from: T0, to: T0 + 300_000 }

describe('timeline layout', () => {
  it('maps canvas x to time and back, the plot starting right of the labels', () => {
    expect(plotWidth(WIDTH)).toBe(300)
    expect(plotWidth(LABEL_W - 50)).toBe(1)
    expect(timeAtX(domain, WIDTH, LABEL_W)).toBe(T0)
    expect(timeAtX(domain, WIDTH, LABEL_W + 150)).toBe(T0 + 150_000)
    expect(timeAtX(domain, WIDTH, WIDTH)).toBe(T0 + 300_000)
    // over the labels: before the domain
    expect(timeAtX(domain, WIDTH, LABEL_W - 10)).toBe(T0 - 10_000)
    expect(xOfTime(domain, WIDTH, T0 + 42_000)).toBe(LABEL_W + 42)
    for (const x of [LABEL_W, 201.5, 333, WIDTH])
      expect(xOfTime(domain, WIDTH, timeAtX(domain, WIDTH, x))).toBeCloseTo(x)
  })

  it('finds the lane under y, scrolled, and none above the lanes or past the last', () => {
    expect(laneAt(TOP - 1, 0, 10)).toBe(-1)
    expect(laneAt(AXIS_H, 0, 10)).toBe(-1)
    expect(laneAt(TOP, 0, 10)).toBe(0)
    expect(laneAt(TOP + LANE_H - 0.5, 0, 10)).toBe(0)
    expect(laneAt(TOP + LANE_H, 0, 10)).toBe(1)
    expect(laneAt(TOP, 2 * LANE_H, 10)).toBe(2)
    expect(laneAt(TOP + 5, LANE_H - 4, 10)).toBe(1)
    expect(laneAt(TOP + 3 * LANE_H, 0, 3)).toBe(-1)
    expect(laneAt(TOP + 2 * LANE_H, 0, 3)).toBe(2)
    // scrolled by 40 px: lanes 3 and on show (lane 2 partly), their centres map back to them
    for (const lane of [3, 5, 7]) expect(laneAt(laneCentreY(lane, 40), 40, 10)).toBe(lane)
  })

  it('scrolls no further than the last lane at the bottom', () => {
    // 10 lanes (180 px) in 100 px of lanes
    const h = TOP + 100
    expect(maxScroll(10, h)).toBe(80)
    expect(maxScroll(3, h)).toBe(0)
    expect(clampScroll(-5, 10, h)).toBe(0)
    expect(clampScroll(50, 10, h)).toBe(50)
    expect(clampScroll(500, 10, h)).toBe(80)
    expect(clampScroll(30, 3, h)).toBe(0)
  })

  it('hit-tests the drawn marks at canvas points, and maps a cell back to a point that hits it', () => {
    // events at 100 s (lane 0), 200 s (lane 1), 200.5 s (lane 1, same cell, stronger)
    const times = Float64Array.from([T0 + 100_000, T0 + 200_000, T0 + 200_500])
    const lane = Int32Array.from([0, 1, 1])
    const cells = aggregate(
      { times, lane, priority: Uint8Array.from([1, 1, 5]), incident: ['a', 'b', 'c'] },
      { domain, width: plotWidth(WIDTH), colPx: COL_PX, laneFrom: 0, laneTo: 2, selection: null },
    )
    const y0 = laneCentreY(0, 0)
    expect(markAt(cells, LABEL_W + 100, y0, 0, 2)).toBe(0)
    // within the slop either side, not beyond
    expect(markAt(cells, LABEL_W + 103, y0, 0, 2)).toBe(0)
    expect(markAt(cells, LABEL_W + 120, y0, 0, 2)).toBe(-1)
    // the lane matters
    expect(markAt(cells, LABEL_W + 100, laneCentreY(1, 0), 0, 2)).toBe(-1)
    expect(markAt(cells, LABEL_W + 200, laneCentreY(1, 0), 0, 2)).toBe(2)
    // the labels and the axis hit nothing; neither does a frame not drawn yet
    expect(markAt(cells, LABEL_W - 1, y0, 0, 2)).toBe(-1)
    expect(markAt(cells, LABEL_W + 100, TOP - 1, 0, 2)).toBe(-1)
    expect(markAt(null, LABEL_W + 100, y0, 0, 2)).toBe(-1)
    // scrolled by one lane, lane 1 sits where lane 0 was
    expect(markAt(cells, LABEL_W + 200, y0, LANE_H, 2)).toBe(2)

    for (const cell of cells.occupied) {
      const p = cellCentre(cells, cell, 0)
      expect(markAt(cells, p.x, p.y, 0, 2)).toBe(cells.best[cell])
      const scrolled = cellCentre(cells, cell, 7)
      expect(scrolled.y).toBe(p.y - 7)
      expect(markAt(cells, scrolled.x, scrolled.y, 7, 2)).toBe(cells.best[cell])
    }
  })
})

import { describe, expect, it } from 'vitest'
import { aggregate, cellOfIncident, cellPosition, columnAt, columnCentre, hitTest, othersInCell } from './aggregate.ts'
import { MarkKind, priorityOf } from './marks.ts'

const T0 = 1_000_000_000_000
const domain = { from: T0, to: T0 + 1000 } // 1 ms per px at width 1000

function input(rows: [t: number, lane: number, priority: number, incident?: string][]) {
  return {
    times: Float64Array.from(rows.map((r) => T0 + r[0])),
    lane: Int32Array.from(rows.map((r) => r[1])),
    priority: Uint8Array.from(rows.map((r) => r[2])),
    incident: rows.map((r) => r[3]),
  }
}

const opts = { domain, width: 1000, colPx: 4, laneFrom: 0, laneTo: 3, selection: null }

describe('per-cell aggregation', () => {
  it('draws one mark per occupied cell, the highest priority winning', () => {
    const data = input([
      [0, 0, 5, 'a'],
      [1, 0, 9, 'b'],
      [2, 0, 3, 'c'],
      [5, 0, 1, 'd'],
      [1, 1, 1, 'e'],
    ])
    const cells = aggregate(data, opts)
    expect(cells.marks).toBe(3)
    expect(cells.cols).toBe(250)
    const first = cells.occupied[0]!
    expect(cells.best[first]).toBe(1)
    expect(cells.count[first]).toBe(3)
    expect(cellPosition(cells, first)).toEqual({ lane: 0, col: 0 })
  })

  it('leaves out the events of a skipped kind (observations drawn as runs)', () => {
    const data = {
      ...input([
        [0, 0, 11, 'a'],
        [1, 0, 13, 'a'],
        [40, 0, 11, 'a'],
      ]),
      kind: Uint8Array.from([MarkKind.observation, MarkKind.incident, MarkKind.observation]),
    }
    expect(aggregate(data, opts).marks).toBe(2)
    const cells = aggregate(data, { ...opts, skipKind: MarkKind.observation })
    expect(cells.marks).toBe(1)
    expect(cells.best[cells.occupied[0]!]).toBe(1)
    expect(cells.count[cells.occupied[0]!]).toBe(1)
  })

  it('the selected incident wins its cells', () => {
    const data = input([
      [0, 0, 17, 'crit'],
      [1, 0, 2, 'low'],
    ])
    expect(aggregate(data, opts).best[0]).toBe(0)
    expect(aggregate(data, { ...opts, selection: 'low' }).best[0]).toBe(1)
  })

  it('severity outranks kind: a critical observation beats a low report, reports beat observations', () => {
    expect(priorityOf(MarkKind.observation, 3)).toBeGreaterThan(priorityOf(MarkKind.incident, 0))
    expect(priorityOf(MarkKind.incident, 2)).toBeGreaterThan(priorityOf(MarkKind.observation, 2))
    expect(priorityOf(MarkKind.incident, 0)).toBeGreaterThan(priorityOf(MarkKind.advisory, 255))
    expect(priorityOf(MarkKind.posture, 255)).toBeGreaterThan(priorityOf(MarkKind.registered, 255))
  })

  it('skips events outside the domain and lanes outside the visible range', () => {
    const data = input([
      [-5, 0, 1],
      [10, 2, 1],
      [10, 5, 1],
      [2000, 0, 1],
    ])
    const cells = aggregate(data, { ...opts, laneFrom: 1, laneTo: 3 })
    expect(cells.marks).toBe(1)
    expect(cellPosition(cells, cells.occupied[0]!)).toEqual({ lane: 2, col: 2 })
  })

  it('handles 200,000 events quickly', () => {
    const n = 200_000
    const times = new Float64Array(n)
    const lane = new Int32Array(n)
    const priority = new Uint8Array(n)
    for (let i = 0; i < n; i++) {
      times[i] = T0 + (i / n) * 1000
      lane[i] = i % 40
      priority[i] = i % 17
    }
    const started = performance.now()
    const cells = aggregate(
      { times, lane, priority, incident: new Array(n) },
      { ...opts, laneFrom: 0, laneTo: 40, width: 1000 },
    )
    expect(cells.marks).toBe(40 * 250)
    expect(performance.now() - started).toBeLessThan(500)
  })

  it('hit-tests through the same cells, with a little slop', () => {
    const data = input([
      [100, 1, 5, 'x'],
      [500, 1, 5, 'y'],
    ])
    const cells = aggregate(data, opts)
    expect(hitTest(cells, 101, 1)).toBe(0)
    expect(hitTest(cells, 105, 1)).toBe(0)
    expect(hitTest(cells, 300, 1)).toBe(-1)
    expect(hitTest(cells, 100, 0)).toBe(-1)
    expect(hitTest(cells, 100, 7)).toBe(-1)
    expect(hitTest(cells, 499, 1)).toBe(1)
    expect(cellOfIncident(cells, data.incident, 'y')).toBe(1 * cells.cols + 125)
    expect(cellOfIncident(cells, data.incident, 'z')).toBe(-1)
  })

  it('columns are aligned to time, and hit-testing maps x to the same columns', () => {
    const shifted = { from: T0 + 2.5, to: T0 + 1002.5 }
    const data = input([
      [3, 0, 5, 'a'],
      [5.9, 0, 5, 'b'],
    ])
    const cells = aggregate(data, { ...opts, domain: shifted })
    expect(cells.marks).toBe(2)
    // 'b' sits at x = 3.4 px: in the column starting at t = 4 ms, not floor(3.4 / 4) = 0
    expect(hitTest(cells, 3.4, 0, 0)).toBe(1)
    expect(hitTest(cells, 0.6, 0, 0)).toBe(0)
    const cell = cellOfIncident(cells, data.incident, 'b')
    const x = columnCentre(cells, cellPosition(cells, cell).col)
    expect(columnAt(cells, x)).toBe(cellPosition(cells, cell).col)
    expect(hitTest(cells, x, 0, 0)).toBe(1)
  })

  it('counts the events hidden under a mark, for the tooltip', () => {
    const data = input([
      [0, 0, 5],
      [1, 0, 9],
      [2, 0, 3],
      [9, 0, 1],
      [1, 1, 1],
    ])
    const cells = aggregate(data, { ...opts, laneFrom: 0, laneTo: 2 })
    // three events share lane 0's first column (x 0..4 px), one is alone in its column
    expect(othersInCell(cells, 1, 0)).toBe(2)
    expect(othersInCell(cells, 9, 0)).toBe(0)
    expect(othersInCell(cells, 1, 1)).toBe(0)
    // an empty cell, and lanes not aggregated, hide nothing
    expect(othersInCell(cells, 40, 0)).toBe(0)
    expect(othersInCell(cells, 1, 2)).toBe(0)
    expect(othersInCell({ ...cells, laneFrom: 1 }, 1, 0)).toBe(0)
  })
})

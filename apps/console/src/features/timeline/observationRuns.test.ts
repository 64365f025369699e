import { describe, expect, it } from 'vitest'
import { MarkKind, NO_SEVERITY } from './marks.ts'
import {
  describeRun,
  formatRunSpan,
  incidentsOfRun,
  observationRuns,
  RUN_GAP_COLS,
  runAt,
  runLabel,
  runOfIncident,
  runPick,
} from './observationRuns.ts'

const T0 = Date.UTC(2026, 11, 5, 17, 23, 25)
const O = MarkKind.observation
const R = MarkKind.incident

/** Sorted events as (seconds from T0, lane, kind, severity, incident). */
function input(rows: [s: number, lane: number, kind: number, severity: number, incident?: string][]) {
  return {
    times: Float64Array.from(rows.map((r) => T0 + r[0] * 1000)),
    lane: Int32Array.from(rows.map((r) => r[1])),
    kind: Uint8Array.from(rows.map((r) => r[2])),
    severity: Uint8Array.from(rows.map((r) => r[3])),
    incident: rows.map((r) => r[4]),
  }
}

const domain = { from: T0, to: T0 + 600_000 }
const opts = { domain, gapMs: 10_000, laneFrom: 0, laneTo: 3 }

describe('observation runs', () => {
  it('folds the observations of a lane into one run while they come within the gap', () => {
    const runs = observationRuns(
      input([
        [0, 0, O, 1, 'a'],
        [5, 0, O, 2, 'a'],
        [6, 1, O, NO_SEVERITY, 'b'],
        [12, 0, R, 3, 'a'], // a report on the lane: a mark over the band, no break
        [14, 0, O, 1, 'a'],
        [15, 1, O, 0, 'c'],
        [30, 0, O, 1, 'a'], // 16 s after the last: a new run
      ]),
      opts,
    )
    expect(runs.count).toBe(3)
    expect(runs.lane).toEqual([0, 1, 0])
    expect(runs.reports).toEqual([3, 2, 1])
    expect(runs.from).toEqual([T0, T0 + 6000, T0 + 30_000])
    expect(runs.to).toEqual([T0 + 14_000, T0 + 15_000, T0 + 30_000])
    expect(runs.first).toEqual([0, 2, 6])
    expect(runs.last).toEqual([4, 5, 6])
    // the highest known severity; several incidents: null
    expect(runs.severity).toEqual([2, 0, 1])
    expect(runs.incident).toEqual(['a', null, 'a'])
  })

  it('keeps to the domain and the visible lanes', () => {
    const data = input([
      [-5, 0, O, 1, 'a'],
      [1, 0, O, 1, 'a'],
      [2, 2, O, 1, 'b'],
      [3, 5, O, 1, 'c'],
      [700, 0, O, 1, 'a'],
    ])
    const runs = observationRuns(data, { ...opts, laneFrom: 0, laneTo: 2 })
    expect(runs.count).toBe(1)
    expect(runs.reports).toEqual([1])
    expect(observationRuns(data, { ...opts, laneFrom: 2, laneTo: 6 }).lane).toEqual([2, 5])
    expect(observationRuns(data, { ...opts, laneFrom: 3, laneTo: 3 }).count).toBe(0)
  })

  it('a zoom that widens the gap joins runs; the break rule is RUN_GAP_COLS columns', () => {
    const data = input([
      [0, 0, O, 1, 'a'],
      [20, 0, O, 1, 'a'],
      [40, 0, O, 1, 'a'],
    ])
    expect(observationRuns(data, opts).count).toBe(3)
    expect(observationRuns(data, { ...opts, gapMs: 20_000 }).count).toBe(1)
    expect(RUN_GAP_COLS).toBeGreaterThan(1)
  })

  it('folds 100,000 events in one quick pass', () => {
    const n = 100_000
    const times = new Float64Array(n)
    const lane = new Int32Array(n)
    const kind = new Uint8Array(n)
    const severity = new Uint8Array(n)
    const incident = new Array<string | undefined>(n)
    for (let i = 0; i < n; i++) {
      times[i] = T0 + i * 10
      lane[i] = i % 30
      kind[i] = i % 50 === 0 ? R : O
      severity[i] = i % 4
      incident[i] = `inc-${i % 30}`
    }
    const started = performance.now()
    const runs = observationRuns(
      { times, lane, kind, severity, incident },
      { domain: { from: T0, to: T0 + n * 10 }, gapMs: 5000, laneFrom: 0, laneTo: 30 },
    )
    expect(performance.now() - started).toBeLessThan(100)
    expect(runs.count).toBe(30)
    expect(runs.reports.reduce((a, b) => a + b, 0)).toBe(n - n / 50)
  })

  it('finds the run under a time, the nearest within the slop', () => {
    const runs = observationRuns(
      input([
        [0, 0, O, 1, 'a'],
        [5, 0, O, 1, 'a'],
        [30, 0, O, 1, 'b'],
        [31, 1, O, 1, 'c'],
      ]),
      opts,
    )
    expect(runAt(runs, 0, T0 + 2000, 0)).toBe(0)
    expect(runAt(runs, 0, T0 + 7000, 1000)).toBe(-1)
    expect(runAt(runs, 0, T0 + 7000, 3000)).toBe(0)
    expect(runAt(runs, 0, T0 + 28_000, 3000)).toBe(1)
    expect(runAt(runs, 1, T0 + 28_000, 3000)).toBe(2)
    expect(runAt(runs, 2, T0 + 30_000, 3000)).toBe(-1)
    expect(runOfIncident(runs, 'b')).toBe(1)
    expect(runOfIncident(runs, 'z')).toBe(-1)
    // a click picks the last observation of a run of one incident
    expect(runPick(runs, 0)).toBe(1)
    expect(runPick(runs, -1)).toBe(-1)
    expect(runPick(null, 0)).toBe(-1)
  })

  it('a run of several incidents picks none, and names them on hover', () => {
    const data = input([
      [0, 0, O, 1, 'a'],
      [1, 0, R, 1, 'z'],
      [2, 1, O, 1, 'y'],
      [3, 0, O, 1, 'b'],
      [4, 0, O, 1, 'a'],
    ])
    const runs = observationRuns(data, opts)
    expect(runs.incident[0]).toBeNull()
    expect(runPick(runs, 0)).toBe(-1)
    expect(incidentsOfRun(runs, 0, data)).toEqual(['a', 'b'])
    expect(incidentsOfRun(runs, 1, data)).toEqual(['y'])
  })

  it('says what a run is: reports and span in 24-hour UTC', () => {
    const runs = observationRuns(
      input([
        [0, 0, O, 1, 'a'],
        [62, 0, O, 1, 'a'],
        [100, 1, O, 1, 'b'],
      ]),
      { ...opts, gapMs: 100_000 },
    )
    expect(describeRun(runs, 0)).toBe('Observations: 2 reports · 17:23:25–17:24:27Z')
    expect(describeRun(runs, 1)).toBe('Observations: 1 report · 17:25:05Z')
    expect(formatRunSpan(Date.UTC(2026, 11, 5, 23, 59, 0), Date.UTC(2026, 11, 6, 0, 1, 0))).toBe(
      '2026-12-05 23:59:00–2026-12-06 00:01:00Z',
    )
  })

  it('writes the count on a band only when it fits', () => {
    const ctx = { measureText: (text: string) => ({ width: text.length * 6 }) }
    expect(runLabel(ctx, 403, 24)).toBe('403')
    expect(runLabel(ctx, 403, 23)).toBe('')
    expect(runLabel(ctx, 7, 12)).toBe('7')
  })
})

import { SELECTED_BONUS } from './marks.ts'
import type { Domain } from './scale.ts'
import { lowerBound, upperBound } from './timeIndex.ts'

/**
 * The marks of the current view, one per occupied (lane, column) cell: the
 * event with the highest priority wins the cell (the selected incident's
 * events win over any other).
 */
export interface Cells {
  /** Columns across the plot; cell id = (lane - laneFrom) * cols + col. */
  cols: number
  colPx: number
  laneFrom: number
  laneTo: number
  /** Absolute column of column 0 (columns are aligned to time, so panning does not reshuffle them). */
  colOrigin: number
  msPerCol: number
  /** The domain's start: x (plot px) = (t - from) / msPerCol * colPx. */
  from: number
  /** Winning sorted-event index per cell, -1 when empty. */
  best: Int32Array
  /** Events per cell. */
  count: Uint32Array
  /** The occupied cell ids (each one drawn mark). */
  occupied: Int32Array
  marks: number
}

export interface AggregateInput {
  times: Float64Array
  lane: Int32Array
  priority: Uint8Array
  incident: readonly (string | undefined)[]
  /** Mark kind per event: needed with `skipKind`. */
  kind?: Uint8Array
}

export interface AggregateOptions {
  domain: Domain
  /** Plot width in CSS px. */
  width: number
  /** Column width in CSS px. */
  colPx: number
  /** Lanes [laneFrom, laneTo) are aggregated (the visible ones). */
  laneFrom: number
  laneTo: number
  selection: string | null
  /** Events of this mark kind get no mark (observations drawn as runs, see observationRuns.ts). */
  skipKind?: number
}

export function aggregate(input: AggregateInput, opts: AggregateOptions): Cells {
  const { domain, width, colPx, laneFrom, laneTo, selection } = opts
  const kind = opts.skipKind === undefined ? undefined : input.kind
  const skip = opts.skipKind ?? -1
  const cols = Math.max(1, Math.ceil(width / colPx))
  const msPerCol = ((domain.to - domain.from) / Math.max(1, width)) * colPx
  const colOrigin = Math.floor(domain.from / msPerCol)
  const lanes = Math.max(0, laneTo - laneFrom)
  const size = lanes * cols
  const best = new Int32Array(size).fill(-1)
  const count = new Uint32Array(size)
  const bestPriority = new Uint8Array(size)
  const occupiedList: number[] = []
  const start = lowerBound(input.times, domain.from)
  const end = upperBound(input.times, domain.to)
  for (let i = start; i < end; i++) {
    const lane = input.lane[i]!
    if (lane < laneFrom || lane >= laneTo) continue
    if (kind !== undefined && kind[i] === skip) continue
    const col = Math.floor(input.times[i]! / msPerCol) - colOrigin
    if (col < 0 || col >= cols) continue
    const cell = (lane - laneFrom) * cols + col
    let p = input.priority[i]!
    if (selection !== null && input.incident[i] === selection) p += SELECTED_BONUS
    const c = count[cell]!
    count[cell] = c + 1
    if (c === 0) {
      occupiedList.push(cell)
      best[cell] = i
      bestPriority[cell] = p
    } else if (p >= bestPriority[cell]!) {
      // ties go to the later event
      best[cell] = i
      bestPriority[cell] = p
    }
  }
  return {
    cols,
    colPx,
    laneFrom,
    laneTo,
    colOrigin,
    msPerCol,
    from: domain.from,
    best,
    count,
    occupied: Int32Array.from(occupiedList),
    marks: occupiedList.length,
  }
}

/** The cell's lane and column. */
export function cellPosition(cells: Cells, cell: number): { lane: number; col: number } {
  return { lane: cells.laneFrom + Math.floor(cell / cells.cols), col: cell % cells.cols }
}

/** The column under x (plot px), as the aggregation assigned it (-1 or >= cols when outside). */
export function columnAt(cells: Cells, x: number): number {
  return Math.floor((cells.from + (x / cells.colPx) * cells.msPerCol) / cells.msPerCol) - cells.colOrigin
}

/** The x (plot px) of a column's centre. */
export function columnCentre(cells: Cells, col: number): number {
  return (((cells.colOrigin + col + 0.5) * cells.msPerCol - cells.from) / cells.msPerCol) * cells.colPx
}

/**
 * The winning event index under (x, lane), looking `slopPx` either side (marks
 * are wider than a column): the nearest occupied cell wins, -1 if none.
 */
export function hitTest(cells: Cells, x: number, lane: number, slopPx = 4): number {
  if (lane < cells.laneFrom || lane >= cells.laneTo) return -1
  const col = columnAt(cells, x)
  const reach = Math.ceil(slopPx / cells.colPx)
  const row = (lane - cells.laneFrom) * cells.cols
  for (let d = 0; d <= reach; d++) {
    for (const c of d === 0 ? [col] : [col - d, col + d]) {
      if (c < 0 || c >= cells.cols) continue
      const hit = cells.best[row + c]!
      if (hit >= 0) return hit
    }
  }
  return -1
}

/**
 * How many other events share the cell of an event at x (plot px) in `lane`,
 * hidden under its mark (a tooltip's "+n more"); 0 outside the aggregated lanes.
 */
export function othersInCell(cells: Cells, x: number, lane: number): number {
  if (lane < cells.laneFrom || lane >= cells.laneTo) return 0
  const col = columnAt(cells, x)
  return Math.max(0, (cells.count[(lane - cells.laneFrom) * cells.cols + col] ?? 1) - 1)
}

/** A drawn cell whose winning event belongs to `incidentId`, or -1. */
export function cellOfIncident(cells: Cells, incident: readonly (string | undefined)[], incidentId: string): number {
  for (const cell of cells.occupied) if (incident[cells.best[cell]!] === incidentId) return cell
  return -1
}

import { type Cells, cellPosition, columnCentre, hitTest } from './aggregate.ts'
import { type ObservationRuns, RUN_MIN_PX, runAt } from './observationRuns.ts'
import { type Domain, timeToX, xToTime } from './scale.ts'

/**
 * Where things sit on the timeline canvas, CSS px: the lane labels on the left
 * (LABEL_W wide), the time axis and the density strip on top (TOP high), the
 * lanes below, scrolled by `scrollY`. The drawing and the input both map
 * through these, so a point the input hit-tests is the point the drawing used.
 */
export const LABEL_W = 190
export const AXIS_H = 20
export const DENSITY_H = 32
export const TOP = AXIS_H + DENSITY_H
export const LANE_H = 18
/** Width of an aggregation column: one mark is drawn per lane and column. */
export const COL_PX = 3

export interface Point {
  x: number
  y: number
}

/** The plot's width (right of the labels) in a canvas `width` px wide; at least 1 so scales stay finite. */
export function plotWidth(width: number): number {
  return Math.max(1, width - LABEL_W)
}

/** How far the lanes can scroll in a canvas `height` px high. */
export function maxScroll(laneCount: number, height: number): number {
  return Math.max(0, laneCount * LANE_H - (height - TOP))
}

/** `scrollY` kept within [0, maxScroll]. */
export function clampScroll(scrollY: number, laneCount: number, height: number): number {
  return Math.min(Math.max(0, scrollY), maxScroll(laneCount, height))
}

/** Canvas x of time `t` in a canvas `width` px wide. */
export function xOfTime(domain: Domain, width: number, t: number): number {
  return LABEL_W + timeToX(domain, plotWidth(width), t)
}

/** Time at canvas x in a canvas `width` px wide (before LABEL_W: earlier than the domain). */
export function timeAtX(domain: Domain, width: number, x: number): number {
  return xToTime(domain, plotWidth(width), x - LABEL_W)
}

/** Canvas y of the middle of lane `lane`. */
export function laneCentreY(lane: number, scrollY: number): number {
  return TOP + lane * LANE_H - scrollY + LANE_H / 2
}

/** Lane index under a y (CSS px in the canvas), or -1. */
export function laneAt(y: number, scrollY: number, laneCount: number): number {
  if (y < TOP) return -1
  const i = Math.floor((y - TOP + scrollY) / LANE_H)
  return i < laneCount ? i : -1
}

/** The drawn mark (sorted event index) under a canvas point, or -1: none over the labels or the axis. */
export function markAt(cells: Cells | null, x: number, y: number, scrollY: number, laneCount: number): number {
  if (!cells || x < LABEL_W) return -1
  const l = laneAt(y, scrollY, laneCount)
  return l < 0 ? -1 : hitTest(cells, x - LABEL_W, l)
}

/** The canvas point of a cell's centre: what hit-testing maps back to that cell. */
export function cellCentre(cells: Cells, cell: number, scrollY: number): Point {
  const { lane, col } = cellPosition(cells, cell)
  return { x: LABEL_W + columnCentre(cells, col), y: laneCentreY(lane, scrollY) }
}

/** How far beside a band (CSS px) a point still hovers it: half the narrowest band and a little more. */
const RUN_SLOP_PX = RUN_MIN_PX / 2 + 2

/** The drawn observation run under a canvas point (its index in `runs`), or -1: none over the labels or the axis. */
export function runAtPoint(
  runs: ObservationRuns | null,
  domain: Domain,
  width: number,
  x: number,
  y: number,
  scrollY: number,
  laneCount: number,
): number {
  if (!runs || runs.count === 0 || x < LABEL_W) return -1
  const l = laneAt(y, scrollY, laneCount)
  if (l < 0) return -1
  const msPerPx = (domain.to - domain.from) / plotWidth(width)
  return runAt(runs, l, timeAtX(domain, width, x), RUN_SLOP_PX * msPerPx)
}

/** The canvas point of a run's middle: what `runAtPoint` maps back to that run. */
export function runCentre(runs: ObservationRuns, r: number, domain: Domain, width: number, scrollY: number): Point {
  const t = (runs.from[r]! + runs.to[r]!) / 2
  return { x: xOfTime(domain, width, t), y: laneCentreY(runs.lane[r]!, scrollY) }
}

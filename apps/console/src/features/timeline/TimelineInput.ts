import type { Cells } from './aggregate.ts'
import type { TimeRange } from './drawTimeline.ts'
import { AXIS_H, LABEL_W, LANE_H, laneAt, markAt, type Point, plotWidth, runAtPoint, TOP, timeAtX } from './layout.ts'
import { type ObservationRuns, runPick } from './observationRuns.ts'
import { type Domain, panPixels, zoomAround } from './scale.ts'

/*
 * The timeline's input, after MapLibre's handlers: listeners on the canvas
 * (pointer, wheel) and on the focusable timeline (keys) that turn gestures
 * into view changes through the host's callbacks. It draws nothing and owns
 * no view state; what it owns is the gesture in progress (a drag, the range
 * being brushed) and what is under the pointer, which the drawing shows.
 */

/** A press moves less than this (CSS px, either axis) and stays a click. */
export const DRAG_THRESHOLD = 3

/** The view as the input needs it, read afresh on every event. */
export interface InputView {
  domain: Domain
  /** Following now: keyboard zoom then keeps the right edge at now. */
  live: boolean
  /** Canvas size, CSS px. */
  width: number
  scrollY: number
  maxScroll: number
  laneCount: number
  /** The marks drawn last (see drawTimeline), hit-tested under the pointer. */
  cells: Cells | null
  /** The observation runs drawn last, hit-tested where no mark is. */
  runs: ObservationRuns | null
}

/** What is under a resting pointer: a lane's label, a drawn mark (sorted event index) or a run (its index in `runs`). */
export type HoverTarget = (
  | { kind: 'lane'; lane: number }
  | { kind: 'mark'; index: number }
  | { kind: 'run'; run: number }
) &
  Point

/** How the input reads the view and changes it. */
export interface TimelineInputHost {
  view(): InputView
  /** Zoomed or panned to `domain` (following now or not is the host's call). */
  moveTo(domain: Domain): void
  /** Scroll the lanes to `scrollY`, and draw. */
  scrollTo(scrollY: number): void
  /** Follow now again ('l'). */
  goLive(): void
  /** A click on the drawn mark of a sorted event (or on a run of one incident: its last observation). */
  pick(index: number): void
  /** Commit a brushed range, or clear it (null, Escape). */
  setRange(range: TimeRange | null): void
  /** What the tooltip shows: null hides it. */
  hover(target: HoverTarget | null): void
  /** The brush or the hovered mark changed: draw again. */
  redraw(): void
}

type Drag =
  | { kind: 'pan'; x: number; y: number; domain: Domain; scrollY: number; moved: boolean }
  | { kind: 'brush'; x: number; y: number; t0: number; moved: boolean }

/** Where a press starts a brush (else a pan): in the density strip, or shift-pressed over the lanes. */
export function startsBrush(x: number, y: number, shiftKey: boolean): boolean {
  const inStrip = y >= AXIS_H && y < TOP && x >= LABEL_W
  return (inStrip || (shiftKey && y >= TOP)) && x >= LABEL_W
}

/** What a wheel turn does at canvas x. */
export type WheelAction =
  /** Scroll the lanes by `by` px. */
  | { kind: 'scroll'; by: number }
  /** Move the content `dx` px (positive: right, to earlier times). */
  | { kind: 'pan'; dx: number }
  /** Zoom by `factor` (< 1 in) around the time at canvas x. */
  | { kind: 'zoom'; factor: number; x: number }

/** The wheel's fields that matter. */
export type WheelLike = Pick<WheelEvent, 'deltaMode' | 'deltaX' | 'deltaY' | 'shiftKey'>

/**
 * A wheel turn at canvas x: over the labels or with shift it scrolls the lanes
 * (shift+wheel arrives as deltaX on some systems); over the plot a mostly
 * sideways turn pans (trackpads) and an up/down one zooms, bounded per event
 * so a fast wheel cannot jump. Null when there is nothing to do.
 */
export function wheelAction(e: WheelLike, x: number): WheelAction | null {
  const scale = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1
  const dx = e.deltaX * scale
  const dy = e.deltaY * scale
  if (e.shiftKey || x < LABEL_W) return { kind: 'scroll', by: dy || dx }
  if (Math.abs(dx) > Math.abs(dy)) return { kind: 'pan', dx: -dx }
  if (dy === 0) return null
  return { kind: 'zoom', factor: Math.exp(Math.max(-0.5, Math.min(0.5, dy * 0.0015))), x }
}

/** What a key does. */
export type KeyAction =
  | { kind: 'move'; domain: Domain }
  | { kind: 'scroll'; scrollY: number }
  | { kind: 'live' }
  | { kind: 'escape' }

/** The key's action on `view`, or null for keys the timeline leaves alone. */
export function keyAction(
  key: string,
  view: Pick<InputView, 'domain' | 'live' | 'scrollY' | 'maxScroll'>,
): KeyAction | null {
  const domain = view.domain
  // while live, keyboard zoom keeps the right edge at now
  const anchor = view.live ? domain.to : (domain.from + domain.to) / 2
  switch (key) {
    case '+':
    case '=':
      return { kind: 'move', domain: zoomAround(domain, 1 / 1.5, anchor) }
    case '-':
    case '_':
      return { kind: 'move', domain: zoomAround(domain, 1.5, anchor) }
    case 'ArrowLeft':
      return { kind: 'move', domain: panPixels(domain, 1, 0.1) }
    case 'ArrowRight':
      return { kind: 'move', domain: panPixels(domain, 1, -0.1) }
    case 'ArrowUp':
      return { kind: 'scroll', scrollY: Math.max(0, view.scrollY - LANE_H * 3) }
    case 'ArrowDown':
      return { kind: 'scroll', scrollY: Math.min(view.maxScroll, view.scrollY + LANE_H * 3) }
    case 'l':
    case 'L':
      return { kind: 'live' }
    case 'Escape':
      return { kind: 'escape' }
    default:
      return null
  }
}

/**
 * Listens on `canvas` (pointer, wheel) and `root` (keys; focused on a press so
 * the keys work after a click) until `destroy()`. A press and a move of under
 * DRAG_THRESHOLD px is a click (select the mark under it); more pans (both
 * axes: time and lanes) or brushes a range (see startsBrush). A resting
 * pointer hovers the mark or lane label under it.
 */
export class TimelineInput {
  private drag: Drag | null = null
  private brushing: TimeRange | null = null
  private hovered = -1
  /** The hovered run: the sorted index of its first and last observation (-1: none). */
  private hoveredRun = -1
  private hoveredRunLast = -1
  private hoveredLane = -1
  private pointer: Point | null = null

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly root: HTMLElement,
    private readonly host: TimelineInputHost,
  ) {
    canvas.addEventListener('pointerdown', this.onPointerDown)
    canvas.addEventListener('pointermove', this.onPointerMove)
    canvas.addEventListener('pointerup', this.onPointerUp)
    canvas.addEventListener('pointercancel', this.onPointerCancel)
    canvas.addEventListener('pointerleave', this.onPointerLeave)
    // not passive, to be able to preventDefault (page scroll and browser zoom)
    canvas.addEventListener('wheel', this.onWheel, { passive: false })
    root.addEventListener('keydown', this.onKeyDown)
  }

  destroy(): void {
    const { canvas, root } = this
    canvas.removeEventListener('pointerdown', this.onPointerDown)
    canvas.removeEventListener('pointermove', this.onPointerMove)
    canvas.removeEventListener('pointerup', this.onPointerUp)
    canvas.removeEventListener('pointercancel', this.onPointerCancel)
    canvas.removeEventListener('pointerleave', this.onPointerLeave)
    canvas.removeEventListener('wheel', this.onWheel)
    root.removeEventListener('keydown', this.onKeyDown)
  }

  /** The range being brushed (not yet committed), or null. */
  get brush(): TimeRange | null {
    return this.brushing
  }

  /** The hovered mark (sorted event index), or -1. */
  get hover(): number {
    return this.hovered
  }

  /** The hovered run: the sorted event index of its first observation, or -1. */
  get hoverRun(): number {
    return this.hoveredRun
  }

  /** The data changed: event indexes moved, so the hovered mark is no longer known (recheckHover finds it). */
  forgetHover(): void {
    this.hovered = -1
    this.hoveredRun = -1
    this.hoveredRunLast = -1
  }

  /** After each frame, what is under a resting pointer may have moved (live, new events). */
  recheckHover(): void {
    const p = this.pointer
    if (p && !this.drag) this.updateHover(p.x, p.y)
  }

  private pointFrom(e: { clientX: number; clientY: number }): Point {
    const rect = this.canvas.getBoundingClientRect()
    return { x: e.clientX - rect.left, y: e.clientY - rect.top }
  }

  private markAt(x: number, y: number): number {
    const v = this.host.view()
    return markAt(v.cells, x, y, v.scrollY, v.laneCount)
  }

  /** The run under a point where no mark is: its index in the runs drawn last, or -1. */
  private runAt(x: number, y: number): number {
    const v = this.host.view()
    return runAtPoint(v.runs, v.domain, v.width, x, y, v.scrollY, v.laneCount)
  }

  /** Nothing hovered on the plot any more; true when something was (to be drawn unringed). */
  private clearPlotHover(): boolean {
    const had = this.hovered >= 0 || this.hoveredRun >= 0
    this.hovered = -1
    this.hoveredRun = -1
    this.hoveredRunLast = -1
    return had
  }

  private updateHover(x: number, y: number): void {
    if (x < LABEL_W) {
      // the lane label in full
      if (this.clearPlotHover()) this.host.redraw()
      const v = this.host.view()
      const l = laneAt(y, v.scrollY, v.laneCount)
      if (l === this.hoveredLane) return
      this.hoveredLane = l
      this.host.hover(l >= 0 ? { kind: 'lane', lane: l, x, y } : null)
      return
    }
    if (this.hoveredLane >= 0) {
      this.hoveredLane = -1
      this.host.hover(null)
    }
    const i = this.markAt(x, y)
    const r = i >= 0 ? -1 : this.runAt(x, y)
    const runs = this.host.view().runs
    const first = r >= 0 && runs ? runs.first[r]! : -1
    const last = r >= 0 && runs ? runs.last[r]! : -1
    if (i === this.hovered && first === this.hoveredRun && last === this.hoveredRunLast) return
    const moved = i !== this.hovered || first !== this.hoveredRun
    this.hovered = i
    this.hoveredRun = first
    this.hoveredRunLast = last
    if (moved) this.host.redraw()
    this.host.hover(i >= 0 ? { kind: 'mark', index: i, x, y } : r >= 0 ? { kind: 'run', run: r, x, y } : null)
  }

  private readonly onPointerDown = (e: PointerEvent): void => {
    if (e.button !== 0) return
    const { x, y } = this.pointFrom(e)
    this.canvas.setPointerCapture(e.pointerId)
    this.root.focus({ preventScroll: true })
    const v = this.host.view()
    if (startsBrush(x, y, e.shiftKey)) {
      this.drag = { kind: 'brush', x, y, t0: timeAtX(v.domain, v.width, x), moved: false }
    } else {
      this.drag = { kind: 'pan', x, y, domain: v.domain, scrollY: v.scrollY, moved: false }
    }
  }

  private readonly onPointerMove = (e: PointerEvent): void => {
    const { x, y } = this.pointFrom(e)
    this.pointer = { x, y }
    const d = this.drag
    if (!d) {
      this.updateHover(x, y)
      this.canvas.style.cursor =
        x < LABEL_W ? 'default' : this.hovered >= 0 || this.hoveredRun >= 0 ? 'pointer' : 'grab'
      return
    }
    if (!d.moved && Math.abs(x - d.x) < DRAG_THRESHOLD && Math.abs(y - d.y) < DRAG_THRESHOLD) return
    d.moved = true
    if (this.clearPlotHover()) this.host.hover(null)
    const v = this.host.view()
    if (d.kind === 'pan') {
      this.canvas.style.cursor = 'grabbing'
      this.host.scrollTo(Math.min(Math.max(0, d.scrollY - (y - d.y)), v.maxScroll))
      this.host.moveTo(panPixels(d.domain, plotWidth(v.width), x - d.x))
      this.host.redraw()
    } else {
      const t = timeAtX(v.domain, v.width, Math.min(Math.max(x, LABEL_W), v.width))
      this.brushing = { from: Math.min(d.t0, t), to: Math.max(d.t0, t) }
      this.host.redraw()
    }
  }

  private readonly onPointerUp = (e: PointerEvent): void => {
    const d = this.drag
    this.drag = null
    if (!d) return
    const { x, y } = this.pointFrom(e)
    this.canvas.style.cursor = ''
    if (d.kind === 'brush' && d.moved && this.brushing) {
      const b = this.brushing
      this.brushing = null
      if (b.to > b.from) this.host.setRange({ from: Math.round(b.from), to: Math.round(b.to) })
      this.host.redraw()
      return
    }
    this.brushing = null
    if (!d.moved) {
      const i = this.markAt(x, y)
      const picked = i >= 0 ? i : runPick(this.host.view().runs, this.runAt(x, y))
      if (picked >= 0) this.host.pick(picked)
    }
    this.host.redraw()
  }

  private readonly onPointerCancel = (): void => {
    this.drag = null
    this.brushing = null
    this.host.redraw()
  }

  private readonly onPointerLeave = (): void => {
    this.pointer = null
    if (this.drag) return
    this.hoveredLane = -1
    this.host.hover(null)
    if (this.clearPlotHover()) this.host.redraw()
  }

  private readonly onWheel = (e: WheelEvent): void => {
    e.preventDefault()
    const { x } = this.pointFrom(e)
    const action = wheelAction(e, x)
    if (!action) return
    const v = this.host.view()
    switch (action.kind) {
      case 'scroll':
        this.host.scrollTo(Math.min(Math.max(0, v.scrollY + action.by), v.maxScroll))
        return
      case 'pan':
        this.host.moveTo(panPixels(v.domain, plotWidth(v.width), action.dx))
        return
      case 'zoom':
        this.host.moveTo(zoomAround(v.domain, action.factor, timeAtX(v.domain, v.width, action.x)))
    }
  }

  private readonly onKeyDown = (e: KeyboardEvent): void => {
    if (e.ctrlKey || e.metaKey || e.altKey) return
    // Enter and Space press the timeline's own buttons
    if (e.target instanceof HTMLButtonElement && (e.key === 'Enter' || e.key === ' ')) return
    const action = keyAction(e.key, this.host.view())
    if (!action) return
    switch (action.kind) {
      case 'move':
        this.host.moveTo(action.domain)
        break
      case 'scroll':
        this.host.scrollTo(action.scrollY)
        break
      case 'live':
        this.host.goLive()
        break
      case 'escape':
        this.brushing = null
        this.drag = null
        this.host.setRange(null)
        break
    }
    e.preventDefault()
  }
}

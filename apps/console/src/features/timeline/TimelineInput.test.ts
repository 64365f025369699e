import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { aggregate, type Cells } from './aggregate.ts'
import { AXIS_H, COL_PX, LABEL_W, LANE_H, laneCentreY, plotWidth, TOP } from './layout.ts'
import { MarkKind, NO_SEVERITY } from './marks.ts'
import { observationRuns } from './observationRuns.ts'
import type { Domain } from './scale.ts'
import {
  DRAG_THRESHOLD,
  type HoverTarget,
  type InputView,
  keyAction,
  startsBrush,
  TimelineInput,
  type TimelineInputHost,
  wheelAction,
} from './TimelineInput.ts'

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0)
/** 300 px of plot over 300 s: 1 s per px. */
const WIDTH = LABEL_W + 300
const domain: Domain = { from: T0, to: T0 + 300_000 }
/** Where the canvas sits in the page: client coordinates are offset by this. */
const RECT = { left: 10, top: 20 }

describe('wheel, keys and where a press starts a brush', () => {
  it('brushes from the density strip, or with shift over the lanes; pans elsewhere', () => {
    const strip = AXIS_H + 5
    const lanes = TOP + 5
    expect(startsBrush(LABEL_W + 10, strip, false)).toBe(true)
    expect(startsBrush(LABEL_W + 10, lanes, false)).toBe(false)
    expect(startsBrush(LABEL_W + 10, lanes, true)).toBe(true)
    // not over the labels, nor in the axis
    expect(startsBrush(LABEL_W - 1, strip, false)).toBe(false)
    expect(startsBrush(LABEL_W - 1, lanes, true)).toBe(false)
    expect(startsBrush(LABEL_W + 10, AXIS_H - 1, false)).toBe(false)
    expect(startsBrush(LABEL_W + 10, AXIS_H - 1, true)).toBe(false)
  })

  it('wheels: scroll over the labels or with shift, pan sideways, zoom up and down (bounded)', () => {
    const plot = LABEL_W + 50
    const wheel = (deltaX: number, deltaY: number, deltaMode = 0, shiftKey = false) => ({
      deltaX,
      deltaY,
      deltaMode,
      shiftKey,
    })
    expect(wheelAction(wheel(0, 30), LABEL_W - 1)).toEqual({ kind: 'scroll', by: 30 })
    expect(wheelAction(wheel(0, 30, 0, true), plot)).toEqual({ kind: 'scroll', by: 30 })
    // shift+wheel arrives as deltaX on some systems
    expect(wheelAction(wheel(25, 0, 0, true), plot)).toEqual({ kind: 'scroll', by: 25 })
    // lines and pages are scaled to pixels
    expect(wheelAction(wheel(0, 2, 1), LABEL_W - 1)).toEqual({ kind: 'scroll', by: 32 })
    expect(wheelAction(wheel(0, 1, 2), LABEL_W - 1)).toEqual({ kind: 'scroll', by: 400 })
    // sideways: the content follows the fingers
    expect(wheelAction(wheel(40, 10), plot)).toEqual({ kind: 'pan', dx: -40 })
    expect(wheelAction(wheel(0, 0), plot)).toBeNull()
    const zoomOut = wheelAction(wheel(0, 100), plot)
    expect(zoomOut).toEqual({ kind: 'zoom', factor: Math.exp(0.15), x: plot })
    const zoomIn = wheelAction(wheel(0, -100), plot)
    expect(zoomIn).toEqual({ kind: 'zoom', factor: Math.exp(-0.15), x: plot })
    expect(wheelAction(wheel(0, 10_000), plot)).toEqual({ kind: 'zoom', factor: Math.exp(0.5), x: plot })
    expect(wheelAction(wheel(0, -10_000), plot)).toEqual({ kind: 'zoom', factor: Math.exp(-0.5), x: plot })
  })

  it('keys zoom (around now while live, the middle otherwise), pan by a tenth, scroll by three lanes', () => {
    const view = { domain, live: false, scrollY: 40, maxScroll: 100 }
    const mid = T0 + 150_000
    expect(keyAction('+', view)).toEqual({ kind: 'move', domain: { from: mid - 100_000, to: mid + 100_000 } })
    expect(keyAction('=', view)).toEqual(keyAction('+', view))
    expect(keyAction('-', view)).toEqual({ kind: 'move', domain: { from: mid - 225_000, to: mid + 225_000 } })
    expect(keyAction('_', view)).toEqual(keyAction('-', view))
    const live = { ...view, live: true }
    expect(keyAction('+', live)).toEqual({ kind: 'move', domain: { from: T0 + 100_000, to: T0 + 300_000 } })
    expect(keyAction('-', live)).toEqual({ kind: 'move', domain: { from: T0 - 150_000, to: T0 + 300_000 } })
    expect(keyAction('ArrowLeft', view)).toEqual({ kind: 'move', domain: { from: T0 - 30_000, to: T0 + 270_000 } })
    expect(keyAction('ArrowRight', view)).toEqual({ kind: 'move', domain: { from: T0 + 30_000, to: T0 + 330_000 } })
    expect(keyAction('ArrowUp', view)).toEqual({ kind: 'scroll', scrollY: 0 })
    expect(keyAction('ArrowUp', { ...view, scrollY: 90 })).toEqual({ kind: 'scroll', scrollY: 90 - 3 * LANE_H })
    expect(keyAction('ArrowDown', view)).toEqual({ kind: 'scroll', scrollY: 40 + 3 * LANE_H })
    expect(keyAction('ArrowDown', { ...view, scrollY: 80 })).toEqual({ kind: 'scroll', scrollY: 100 })
    expect(keyAction('l', view)).toEqual({ kind: 'live' })
    expect(keyAction('L', view)).toEqual({ kind: 'live' })
    expect(keyAction('Escape', view)).toEqual({ kind: 'escape' })
    expect(keyAction('x', view)).toBeNull()
    expect(keyAction('Enter', view)).toBeNull()
  })
})

/** Just enough of an element for the input: events, a bounding rect, capture, focus and a cursor. */
class FakeElement extends EventTarget {
  style = { cursor: '' }
  captured: number[] = []
  focused = 0
  getBoundingClientRect() {
    return RECT
  }
  setPointerCapture(id: number) {
    this.captured.push(id)
  }
  focus() {
    this.focused++
  }
}
/** Stands in for HTMLButtonElement (absent in Node), so `instanceof` has something to test. */
class FakeButton extends FakeElement {}

type Call = [string, ...unknown[]]

function setup(view: Partial<InputView> = {}) {
  // events at 100 s in lane 0 ('inc-a') and 200 s in lane 1 ('inc-b')
  const times = Float64Array.from([T0 + 100_000, T0 + 200_000])
  const cells: Cells = aggregate(
    { times, lane: Int32Array.from([0, 1]), priority: Uint8Array.from([1, 1]), incident: ['inc-a', 'inc-b'] },
    { domain, width: plotWidth(WIDTH), colPx: COL_PX, laneFrom: 0, laneTo: 2, selection: null },
  )
  const state: InputView = {
    domain,
    live: false,
    width: WIDTH,
    scrollY: 0,
    maxScroll: 50,
    laneCount: 2,
    cells,
    runs: null,
    ...view,
  }
  const calls: Call[] = []
  const host: TimelineInputHost = {
    view: () => state,
    moveTo: (d) => calls.push(['moveTo', d]),
    scrollTo: (y) => {
      state.scrollY = y
      calls.push(['scrollTo', y])
    },
    goLive: () => calls.push(['goLive']),
    pick: (i) => calls.push(['pick', i]),
    setRange: (r) => calls.push(['setRange', r]),
    hover: (t: HoverTarget | null) => calls.push(['hover', t]),
    redraw: () => calls.push(['redraw']),
  }
  const canvas = new FakeElement()
  const root = new FakeElement()
  const input = new TimelineInput(canvas as unknown as HTMLCanvasElement, root as unknown as HTMLElement, host)
  const of = (name: string) => calls.filter((c) => c[0] === name).map((c) => c.slice(1))
  /** Fire a pointer event at canvas point (x, y). */
  const pointer = (type: string, x: number, y: number, extra: { button?: number; shiftKey?: boolean } = {}) =>
    canvas.dispatchEvent(
      Object.assign(new Event(type), {
        clientX: x + RECT.left,
        clientY: y + RECT.top,
        button: 0,
        shiftKey: false,
        pointerId: 7,
        ...extra,
      }),
    )
  const key = (k: string, target: FakeElement = root, mods: { ctrlKey?: boolean } = {}) => {
    const e = Object.assign(new Event('keydown', { cancelable: true }), {
      key: k,
      ctrlKey: false,
      metaKey: false,
      altKey: false,
      ...mods,
    })
    target.dispatchEvent(e)
    return e.defaultPrevented
  }
  return { state, calls, of, canvas, root, input, pointer, key }
}

describe('TimelineInput', () => {
  /** Canvas point of the mark of event 0 and 1. */
  const mark0 = { x: LABEL_W + 100, y: laneCentreY(0, 0) }
  const mark1 = { x: LABEL_W + 200, y: laneCentreY(1, 0) }

  beforeEach(() => {
    vi.stubGlobal('HTMLButtonElement', FakeButton)
  })
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('a click on a mark picks it, captures the pointer and focuses the timeline', () => {
    const t = setup()
    t.pointer('pointerdown', mark1.x, mark1.y)
    // a wobble under the threshold is still a click
    t.pointer('pointermove', mark1.x + DRAG_THRESHOLD - 1, mark1.y - DRAG_THRESHOLD + 1)
    t.pointer('pointerup', mark1.x + DRAG_THRESHOLD - 1, mark1.y - DRAG_THRESHOLD + 1)
    expect(t.of('pick')).toEqual([[1]])
    expect(t.of('moveTo')).toEqual([])
    expect(t.canvas.captured).toEqual([7])
    expect(t.root.focused).toBe(1)
    // a click on empty plot or a button other than the main one picks nothing
    t.pointer('pointerdown', LABEL_W + 150, mark0.y)
    t.pointer('pointerup', LABEL_W + 150, mark0.y)
    t.pointer('pointerdown', mark0.x, mark0.y, { button: 2 })
    t.pointer('pointerup', mark0.x, mark0.y, { button: 2 })
    expect(t.of('pick')).toEqual([[1]])
  })

  it('a drag pans time with the pointer and scrolls the lanes, from where it started', () => {
    const t = setup({ scrollY: 20 })
    t.pointer('pointerdown', LABEL_W + 100, TOP + 40)
    t.pointer('pointermove', LABEL_W + 130, TOP + 30)
    expect(t.canvas.style.cursor).toBe('grabbing')
    // content moved right by 30 px = 30 s earlier; lanes dragged up by 10 px scroll down by 10
    expect(t.of('moveTo')).toEqual([[{ from: T0 - 30_000, to: T0 + 270_000 }]])
    expect(t.of('scrollTo')).toEqual([[30]])
    // relative to the press, not the last move; the scroll stays within [0, maxScroll]
    t.pointer('pointermove', LABEL_W + 50, TOP + 500)
    expect(t.of('moveTo').at(-1)).toEqual([{ from: T0 + 50_000, to: T0 + 350_000 }])
    expect(t.of('scrollTo').at(-1)).toEqual([0])
    t.pointer('pointermove', LABEL_W + 50, TOP - 500)
    expect(t.of('scrollTo').at(-1)).toEqual([50])
    t.pointer('pointerup', LABEL_W + 50, TOP - 500)
    expect(t.canvas.style.cursor).toBe('')
    expect(t.of('pick')).toEqual([])
  })

  it('a drag from the density strip brushes a range, committed on release in whole ms', () => {
    const t = setup()
    t.pointer('pointerdown', LABEL_W + 200, AXIS_H + 4)
    t.pointer('pointermove', LABEL_W + 120, AXIS_H + 4)
    // drawn while brushing, earlier end first
    expect(t.input.brush).toEqual({ from: T0 + 120_000, to: T0 + 200_000 })
    expect(t.of('redraw').length).toBeGreaterThan(0)
    expect(t.of('moveTo')).toEqual([])
    // past the labels: clamped to the plot
    t.pointer('pointermove', 20, AXIS_H + 4)
    expect(t.input.brush).toEqual({ from: T0, to: T0 + 200_000 })
    t.pointer('pointermove', LABEL_W + 100.6, AXIS_H + 4)
    t.pointer('pointerup', LABEL_W + 100.6, AXIS_H + 4)
    expect(t.of('setRange')).toEqual([[{ from: T0 + 100_600, to: T0 + 200_000 }]])
    expect(t.input.brush).toBeNull()
  })

  it('a shift-drag over the lanes brushes too; a click in the strip commits nothing', () => {
    const t = setup()
    t.pointer('pointerdown', LABEL_W + 10, TOP + 5, { shiftKey: true })
    t.pointer('pointermove', LABEL_W + 60, TOP + 5)
    t.pointer('pointerup', LABEL_W + 60, TOP + 5)
    expect(t.of('setRange')).toEqual([[{ from: T0 + 10_000, to: T0 + 60_000 }]])
    t.pointer('pointerdown', LABEL_W + 10, AXIS_H + 4)
    t.pointer('pointerup', LABEL_W + 10, AXIS_H + 4)
    expect(t.of('setRange')).toHaveLength(1)
    expect(t.of('moveTo')).toEqual([])
  })

  it('Escape drops a brush in progress and clears the range; a cancelled pointer drops it too', () => {
    const t = setup()
    t.pointer('pointerdown', LABEL_W + 10, AXIS_H + 4)
    t.pointer('pointermove', LABEL_W + 60, AXIS_H + 4)
    expect(t.key('Escape')).toBe(true)
    expect(t.input.brush).toBeNull()
    expect(t.of('setRange')).toEqual([[null]])
    // the drag is over: moving and releasing do nothing more
    t.pointer('pointermove', LABEL_W + 90, AXIS_H + 4)
    t.pointer('pointerup', LABEL_W + 90, AXIS_H + 4)
    expect(t.input.brush).toBeNull()
    expect(t.of('setRange')).toEqual([[null]])

    t.pointer('pointerdown', LABEL_W + 10, AXIS_H + 4)
    t.pointer('pointermove', LABEL_W + 60, AXIS_H + 4)
    t.canvas.dispatchEvent(new Event('pointercancel'))
    expect(t.input.brush).toBeNull()
    t.pointer('pointerup', LABEL_W + 60, AXIS_H + 4)
    expect(t.of('setRange')).toEqual([[null]])
  })

  it('hovers marks and lane labels, and lets go when the pointer leaves', () => {
    const t = setup()
    t.pointer('pointermove', mark0.x + 1, mark0.y)
    expect(t.input.hover).toBe(0)
    expect(t.canvas.style.cursor).toBe('pointer')
    expect(t.of('hover')).toEqual([[{ kind: 'mark', index: 0, x: mark0.x + 1, y: mark0.y }]])
    // the same mark again: nothing new
    t.pointer('pointermove', mark0.x, mark0.y)
    expect(t.of('hover')).toHaveLength(1)
    t.pointer('pointermove', LABEL_W + 150, mark0.y)
    expect(t.input.hover).toBe(-1)
    expect(t.canvas.style.cursor).toBe('grab')
    expect(t.of('hover').at(-1)).toEqual([null])
    t.pointer('pointermove', 30, laneCentreY(1, 0))
    expect(t.canvas.style.cursor).toBe('default')
    expect(t.of('hover').at(-1)).toEqual([{ kind: 'lane', lane: 1, x: 30, y: laneCentreY(1, 0) }])
    t.canvas.dispatchEvent(new Event('pointerleave'))
    expect(t.of('hover').at(-1)).toEqual([null])

    // after a frame, a resting pointer hovers what is under it now
    t.pointer('pointermove', mark1.x, mark1.y)
    expect(t.input.hover).toBe(1)
    t.input.forgetHover()
    expect(t.input.hover).toBe(-1)
    const hovers = t.of('hover').length
    t.input.recheckHover()
    expect(t.input.hover).toBe(1)
    expect(t.of('hover')).toHaveLength(hovers + 1)
  })

  it('hovers a run of observations where no mark is, and a click on it picks its incident', () => {
    // observations (sorted indexes 2..4) in lane 1 from 20 s to 60 s, of one incident; one of lane 0 alone at 250 s
    const times = Float64Array.from([T0 + 100_000, T0 + 200_000, T0 + 20_000, T0 + 40_000, T0 + 60_000, T0 + 250_000])
    const order = [2, 3, 4, 0, 1, 5]
    const sorted = Float64Array.from(order.map((i) => times[i]!))
    const lane = Int32Array.from([1, 1, 1, 0, 1, 0])
    const kind = Uint8Array.from([3, 3, 3, 4, 4, 3].map((k) => k as number))
    const runs = observationRuns(
      {
        times: sorted,
        lane,
        kind,
        severity: new Uint8Array(6).fill(NO_SEVERITY),
        incident: ['inc-b', 'inc-b', 'inc-b', 'inc-a', 'inc-b', 'inc-c'],
      },
      { domain, gapMs: 30_000, laneFrom: 0, laneTo: 2 },
    )
    expect(kind[0]).toBe(MarkKind.observation)
    expect(runs.count).toBe(2)
    const t = setup({ runs })
    const y = laneCentreY(1, 0)
    t.pointer('pointermove', LABEL_W + 45, y)
    expect(t.input.hover).toBe(-1)
    expect(t.input.hoverRun).toBe(0)
    expect(t.canvas.style.cursor).toBe('pointer')
    expect(t.of('hover').at(-1)).toEqual([{ kind: 'run', run: 0, x: LABEL_W + 45, y }])
    // along the same run: nothing new
    t.pointer('pointermove', LABEL_W + 50, y)
    expect(t.of('hover')).toHaveLength(1)
    // past its end: nothing
    t.pointer('pointermove', LABEL_W + 80, y)
    expect(t.input.hoverRun).toBe(-1)
    expect(t.of('hover').at(-1)).toEqual([null])
    // a click on it picks its last observation (whose incident is the run's)
    t.pointer('pointerdown', LABEL_W + 30, y)
    t.pointer('pointerup', LABEL_W + 30, y)
    expect(t.of('pick')).toEqual([[2]])
    t.canvas.dispatchEvent(new Event('pointerleave'))
    expect(t.input.hoverRun).toBe(-1)
  })

  it('a drag hides the hover, and a resting pointer is not rechecked while dragging', () => {
    const t = setup()
    t.pointer('pointermove', mark0.x, mark0.y)
    t.pointer('pointerdown', mark0.x, mark0.y)
    t.pointer('pointermove', mark0.x + 20, mark0.y)
    expect(t.input.hover).toBe(-1)
    expect(t.of('hover').at(-1)).toEqual([null])
    t.input.recheckHover()
    expect(t.input.hover).toBe(-1)
  })

  it('the wheel zooms around the pointer, pans, and scrolls within bounds, never scrolling the page', () => {
    const t = setup({ scrollY: 10 })
    const wheel = (x: number, deltaX: number, deltaY: number, shiftKey = false) => {
      const e = Object.assign(new Event('wheel', { cancelable: true }), {
        clientX: x + RECT.left,
        clientY: TOP + RECT.top,
        deltaX,
        deltaY,
        deltaMode: 0,
        shiftKey,
      })
      t.canvas.dispatchEvent(e)
      return e.defaultPrevented
    }
    expect(wheel(LABEL_W + 100, 0, -1000 / 3)).toBe(true)
    // zoomed in by e^-0.5 around the time under the pointer (100 s), which keeps its pixel
    const zoomed = t.of('moveTo').at(-1)?.[0] as Domain
    const s = 300_000 * Math.exp(-0.5)
    expect(zoomed.to - zoomed.from).toBeCloseTo(s, 3)
    expect(((T0 + 100_000 - zoomed.from) / s) * 300).toBeCloseTo(100, 6)
    wheel(LABEL_W + 100, 30, 0)
    expect(t.of('moveTo').at(-1)).toEqual([{ from: T0 + 30_000, to: T0 + 330_000 }])
    wheel(20, 0, 100)
    expect(t.of('scrollTo').at(-1)).toEqual([50])
    wheel(LABEL_W + 100, 0, -500, true)
    expect(t.of('scrollTo').at(-1)).toEqual([0])
  })

  it('keys act on the focused timeline, not with modifiers nor Enter on its buttons', () => {
    const t = setup({ live: true, scrollY: 0 })
    expect(t.key('+')).toBe(true)
    expect(t.of('moveTo')).toEqual([[{ from: T0 + 100_000, to: T0 + 300_000 }]])
    expect(t.key('ArrowDown')).toBe(true)
    expect(t.of('scrollTo')).toEqual([[50]])
    expect(t.key('l')).toBe(true)
    expect(t.of('goLive')).toHaveLength(1)
    expect(t.key('+', t.root, { ctrlKey: true })).toBe(false)
    expect(t.key('q')).toBe(false)
    expect(t.of('moveTo')).toHaveLength(1)
    // keys from a button inside: Enter and Space press it, the others still steer
    const button = new FakeButton()
    const inside = new TimelineInput(
      new FakeElement() as unknown as HTMLCanvasElement,
      button as unknown as HTMLElement,
      {
        view: () => t.state,
        moveTo: () => {},
        scrollTo: () => {},
        goLive: () => {},
        pick: () => {},
        setRange: () => {},
        hover: () => {},
        redraw: () => {},
      },
    )
    expect(t.key('Enter', button)).toBe(false)
    expect(t.key(' ', button)).toBe(false)
    expect(t.key('-', button)).toBe(true)
    inside.destroy()
  })

  it('destroy removes every listener', () => {
    const t = setup()
    t.input.destroy()
    t.pointer('pointermove', mark0.x, mark0.y)
    t.pointer('pointerdown', mark0.x, mark0.y)
    t.pointer('pointerup', mark0.x, mark0.y)
    expect(t.key('+')).toBe(false)
    expect(t.calls).toEqual([])
  })
})

import type { StoredEvent } from '@watchfloor/protocol'
import { type JSX, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import { useWatchfloor, watchfloor } from '../../data/store.ts'
import { summarise } from '../../summary.ts'
import { formatTime } from '../../ui/format.ts'
import { useFilteredEvents } from '../../view/selectors.ts'
import type { Lanes } from '../../view/view.ts'
import { useView, viewStore } from '../../view/viewStore.ts'
import { isLate } from '../replay/model.ts'
import { displayNow, isReplaying } from '../replay/now.ts'
import { replay } from '../replay/replay.ts'
import { aggregate, type Cells, cellOfIncident, cellPosition, columnAt, columnCentre, hitTest } from './aggregate.ts'
import { density } from './density.ts'
import type { Lane } from './lanes.ts'
import { type Follow, type FollowAction, followReducer, initialFollow } from './live.ts'
import {
  colourOf,
  KIND_COLOURS,
  KIND_LABELS,
  type MarkData,
  MarkKind,
  SEVERITY_BY_INDEX,
  SEVERITY_COLOURS,
} from './marks.ts'
import { deriveTimeline, emptyTimelineCache, type TimelineCache } from './model.ts'
import { DAY, type Domain, iso, MINUTE, panPixels, ticks, timeToX, xToTime, zoomAround } from './scale.ts'
import { lowerBound, type TimeIndex, updateTimeIndex, upperBound } from './timeIndex.ts'
import './timeline.css'

/** Layout, CSS px. */
const LABEL_W = 190
const AXIS_H = 20
const DENSITY_H = 32
const TOP = AXIS_H + DENSITY_H
const LANE_H = 18
const COL_PX = 3
const DRAG_THRESHOLD = 3

const COLOURS = {
  bg: '#0e141b',
  gutter: '#121821',
  laneAlt: '#111922',
  line: '#263241',
  grid: 'rgba(147, 161, 177, 0.12)',
  gridMajor: 'rgba(147, 161, 177, 0.3)',
  text: '#e6edf3',
  muted: '#93a1b1',
  density: 'rgba(90, 169, 255, 0.65)',
  brush: 'rgba(90, 169, 255, 0.16)',
  brushEdge: 'rgba(90, 169, 255, 0.8)',
  now: '#5aa9ff',
  late: '#ffb347',
  selected: '#ffffff',
  selectedLane: 'rgba(255, 255, 255, 0.07)',
}

/** Per event of an index: 1 when it was reported late (recorded over 5 min after it happened). */
const lateFlags = new WeakMap<TimeIndex, Uint8Array>()
function lateFlagsOf(index: TimeIndex): Uint8Array {
  let flags = lateFlags.get(index)
  if (!flags) {
    flags = Uint8Array.from(index.events, (event) => (isLate(event) ? 1 : 0))
    lateFlags.set(index, flags)
  }
  return flags
}

/** The replay clock while a replay is on screen, else null. */
function replayClockShown(): 'occurred' | 'recorded' | null {
  return isReplaying() ? replay.getState().clock : null
}

/** Test hook (Playwright): where to click a drawn mark of an incident, and the visible domain. */
export interface TimelineHook {
  markAt(incidentId: string): { x: number; y: number } | null
  domain(): { from: number; to: number }
}

/** `window.__watchfloorTimeline` (typed locally: tests declare their own view of it). */
const hookHost = (): { __watchfloorTimeline?: TimelineHook } =>
  window as unknown as { __watchfloorTimeline?: TimelineHook }

/** Everything derived from the data, rebuilt when it changes (not per frame). */
interface Model {
  index: TimeIndex
  lanes: Lane[]
  lane: Int32Array
  marks: MarkData
  mode: Lanes
  range: { from: number; to: number } | null
  selection: string | null
}

type Drag =
  | { kind: 'pan'; x: number; y: number; domain: Domain; scrollY: number; moved: boolean }
  | { kind: 'brush'; x: number; y: number; t0: number; moved: boolean }

interface Tip {
  x: number
  y: number
  time: string
  type: string
  title: string
  detail: string
  more: number
}

/** The extent the view fits to before anyone zooms or pans: all events, within reason. */
function fitSpan(index: TimeIndex, now: number): number {
  const first = index.times[0]
  if (first === undefined) return 15 * MINUTE
  return Math.min(30 * DAY, Math.max(MINUTE, (now - first) * 1.08))
}

/**
 * The latest value, but at most once per `delay` ms where the delay grows with
 * the size of the list (rebuilding lanes and marks for 200,000 events takes a
 * while; small windows update at once).
 */
function useThrottled(events: StoredEvent[]): StoredEvent[] {
  const [shown, setShown] = useState(events)
  const last = useRef(0)
  const delay = Math.min(1000, events.length / 200)
  useEffect(() => {
    if (events === shown) return
    const wait = last.current + delay - performance.now()
    if (wait <= 0) {
      last.current = performance.now()
      setShown(events)
      return
    }
    const timer = setTimeout(() => {
      last.current = performance.now()
      setShown(events)
    }, wait)
    return () => clearTimeout(timer)
  }, [events, shown, delay])
  return shown
}

function tipFor(event: StoredEvent, more: number): Omit<Tip, 'x' | 'y'> {
  const incidents = watchfloor.getState().state.incidents
  const incidentId = 'incidentId' in event.payload ? event.payload.incidentId : undefined
  const incident = incidentId ? incidents.get(incidentId) : undefined
  let title = incident?.title ?? ''
  if (event.type === 'advisory.published') title = event.payload.title
  else if (event.type === 'network.registered') title = event.payload.name
  return {
    time: formatTime(event.occurredAt),
    type: `${KIND_LABELS[event.type]}${incident ? ` · ${incident.severity}` : ''} · TLP:${event.marking.tlp}`,
    title,
    detail: summarise(event),
    more,
  }
}

export function Timeline(): JSX.Element {
  const events = useThrottled(useFilteredEvents())
  const state = useWatchfloor((s) => s.state)
  const mode = useView((v) => v.lanes)
  const range = useView((v) => v.range)
  const selection = useView((v) => v.selection)

  const previousIndex = useRef<TimeIndex | null>(null)
  const index = useMemo(() => {
    const next = updateTimeIndex(previousIndex.current, events)
    previousIndex.current = next
    return next
  }, [events])
  // per batch, only the new events and the picture's incidents are looked at (see model.ts)
  const cache = useRef<TimelineCache | null>(null)
  const { lanes, lane, marks } = useMemo(() => {
    cache.current ??= emptyTimelineCache()
    return deriveTimeline(cache.current, index, mode, state.networks, state.incidents)
  }, [index, mode, state.networks, state.incidents])

  const canvasRef = useRef<HTMLCanvasElement>(null)
  const wrapRef = useRef<HTMLDivElement>(null)
  const model = useRef<Model>({ index, lanes, lane, marks, mode, range, selection })
  const follow = useRef<Follow>(initialFollow(displayNow(), fitSpan(index, displayNow())))
  const touched = useRef(false)
  const scrollY = useRef(0)
  const size = useRef({ w: 0, h: 0 })
  const cells = useRef<Cells | null>(null)
  const drag = useRef<Drag | null>(null)
  const brush = useRef<{ from: number; to: number } | null>(null)
  const hover = useRef<number>(-1)
  const hoverLane = useRef<number>(-1)
  const pointer = useRef<{ x: number; y: number } | null>(null)
  const afterDraw = useRef<() => void>(() => {})
  const frame = useRef(0)
  const [live, setLive] = useState(true)
  const [tip, setTip] = useState<Tip | null>(null)

  const maxScroll = useCallback(() => Math.max(0, model.current.lanes.length * LANE_H - (size.current.h - TOP)), [])

  const draw = useCallback(() => {
    frame.current = 0
    const canvas = canvasRef.current
    if (!canvas) return
    const { w, h } = size.current
    const dpr = window.devicePixelRatio || 1
    const pw = Math.max(1, Math.round(w * dpr))
    const ph = Math.max(1, Math.round(h * dpr))
    if (canvas.width !== pw || canvas.height !== ph) {
      canvas.width = pw
      canvas.height = ph
    }
    const ctx = canvas.getContext('2d')
    const m = model.current
    const domain = follow.current.domain
    const plotW = Math.max(1, w - LABEL_W)
    scrollY.current = Math.min(Math.max(0, scrollY.current), maxScroll())
    const sy = scrollY.current
    const lanesH = Math.max(0, h - TOP)
    const laneFrom = Math.min(m.lanes.length, Math.floor(sy / LANE_H))
    const laneTo = Math.min(m.lanes.length, Math.ceil((sy + lanesH) / LANE_H))
    const agg = aggregate(
      { times: m.index.times, lane: m.lane, priority: m.marks.priority, incident: m.marks.incident },
      { domain, width: plotW, colPx: COL_PX, laneFrom, laneTo, selection: m.selection },
    )
    cells.current = agg
    canvas.dataset.marks = String(agg.marks)
    canvas.dataset.lanes = String(m.lanes.length)
    canvas.dataset.from = iso(domain.from)
    canvas.dataset.to = iso(domain.to)
    canvas.dataset.live = String(follow.current.live)
    if (!ctx || w === 0 || h === 0) return

    ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
    ctx.fillStyle = COLOURS.bg
    ctx.fillRect(0, 0, w, h)
    const xOf = (t: number) => LABEL_W + timeToX(domain, plotW, t)

    // lane backgrounds
    ctx.save()
    ctx.beginPath()
    ctx.rect(0, TOP, w, lanesH)
    ctx.clip()
    for (let i = laneFrom; i < laneTo; i++) {
      const y = TOP + i * LANE_H - sy
      const l = m.lanes[i]!
      if (l.key === m.selection) {
        ctx.fillStyle = COLOURS.selectedLane
        ctx.fillRect(0, y, w, LANE_H)
      } else if (i % 2 === 1) {
        ctx.fillStyle = COLOURS.laneAlt
        ctx.fillRect(0, y, w, LANE_H)
      }
    }
    ctx.restore()

    // grid and axis
    const tk = ticks(domain, plotW)
    ctx.font = '11px system-ui, sans-serif'
    ctx.textBaseline = 'middle'
    ctx.textAlign = 'left'
    for (const tick of tk.ticks) {
      const x = Math.round(xOf(tick.t)) + 0.5
      ctx.strokeStyle = tick.major ? COLOURS.gridMajor : COLOURS.grid
      ctx.beginPath()
      ctx.moveTo(x, AXIS_H - 5)
      ctx.lineTo(x, h)
      ctx.stroke()
      ctx.fillStyle = tick.major ? COLOURS.text : COLOURS.muted
      ctx.fillText(tick.label, x + 3, AXIS_H / 2)
    }

    // density strip
    const d = density(m.index.times, domain, plotW)
    const stripTop = AXIS_H + 2
    const stripH = DENSITY_H - 6
    ctx.fillStyle = COLOURS.density
    if (d.max > 0) {
      for (let i = 0; i < d.counts.length; i++) {
        const c = d.counts[i]!
        if (c === 0) continue
        const x0 = Math.max(LABEL_W, xOf(d.start + i * d.step))
        const x1 = Math.min(w, xOf(d.start + (i + 1) * d.step))
        if (x1 <= x0) continue
        const bh = Math.max(1, (c / d.max) * stripH)
        ctx.fillRect(x0, stripTop + stripH - bh, Math.max(1, x1 - x0 - 1), bh)
      }
    }
    ctx.strokeStyle = COLOURS.line
    ctx.beginPath()
    ctx.moveTo(0, TOP - 0.5)
    ctx.lineTo(w, TOP - 0.5)
    ctx.moveTo(0, AXIS_H + 0.5)
    ctx.lineTo(w, AXIS_H + 0.5)
    ctx.stroke()

    // brushed range (committed, and the one being drawn)
    const shade = brush.current ?? m.range
    if (shade) {
      const x0 = Math.max(LABEL_W, xOf(shade.from))
      const x1 = Math.min(w, xOf(shade.to))
      if (x1 >= x0) {
        ctx.fillStyle = COLOURS.brush
        ctx.fillRect(x0, AXIS_H, Math.max(1, x1 - x0), h - AXIS_H)
        ctx.strokeStyle = COLOURS.brushEdge
        ctx.beginPath()
        if (xOf(shade.from) >= LABEL_W) {
          ctx.moveTo(Math.round(x0) + 0.5, AXIS_H)
          ctx.lineTo(Math.round(x0) + 0.5, h)
        }
        if (xOf(shade.to) <= w) {
          ctx.moveTo(Math.round(x1) - 0.5, AXIS_H)
          ctx.lineTo(Math.round(x1) - 0.5, h)
        }
        ctx.stroke()
      }
    }

    // now
    const now = displayNow()
    if (now >= domain.from && now <= domain.to) {
      const x = Math.round(xOf(now)) - 0.5
      ctx.strokeStyle = COLOURS.now
      ctx.setLineDash([3, 3])
      ctx.beginPath()
      ctx.moveTo(x, AXIS_H)
      ctx.lineTo(x, h)
      ctx.stroke()
      ctx.setLineDash([])
    }

    // replaying "what happened when": reports that arrived late get an orange tick over the density strip
    let lateShown = 0
    if (replayClockShown() === 'occurred') {
      const flags = lateFlagsOf(m.index)
      ctx.fillStyle = COLOURS.late
      for (let i = 0; i < flags.length; i++) {
        if (flags[i] === 0) continue
        const t = m.index.times[i]!
        if (t < domain.from || t > domain.to) continue
        const x = xOf(t)
        ctx.beginPath()
        ctx.moveTo(x - 4, AXIS_H + 1)
        ctx.lineTo(x + 4, AXIS_H + 1)
        ctx.lineTo(x, AXIS_H + 8)
        ctx.closePath()
        ctx.fill()
        lateShown++
      }
    }
    canvas.dataset.late = String(lateShown)

    // marks
    ctx.save()
    ctx.beginPath()
    ctx.rect(LABEL_W, TOP, plotW, lanesH)
    ctx.clip()
    const dim = m.selection !== null
    const selected: number[] = []
    const drawMark = (i: number, lanePos: number, isSelected: boolean) => {
      const x = xOf(m.index.times[i]!)
      const y = TOP + lanePos * LANE_H - sy + LANE_H / 2
      const kind = m.marks.kind[i]!
      ctx.fillStyle = colourOf(kind, m.marks.severity[i]!)
      ctx.strokeStyle = ctx.fillStyle
      switch (kind) {
        case MarkKind.observation:
          ctx.fillRect(x - 1, y - 5, 2, 10)
          break
        case MarkKind.incident:
          ctx.beginPath()
          ctx.arc(x, y, 4, 0, Math.PI * 2)
          ctx.fill()
          break
        case MarkKind.posture:
          ctx.beginPath()
          ctx.moveTo(x, y - 5)
          ctx.lineTo(x + 5, y)
          ctx.lineTo(x, y + 5)
          ctx.lineTo(x - 5, y)
          ctx.closePath()
          ctx.fill()
          break
        case MarkKind.advisory:
          ctx.fillRect(x - 3.5, y - 3.5, 7, 7)
          break
        default:
          ctx.lineWidth = 1.5
          ctx.beginPath()
          ctx.arc(x, y, 3.5, 0, Math.PI * 2)
          ctx.stroke()
          ctx.lineWidth = 1
      }
      if (isSelected) {
        ctx.strokeStyle = COLOURS.selected
        ctx.lineWidth = 1.5
        ctx.beginPath()
        ctx.arc(x, y, 6.5, 0, Math.PI * 2)
        ctx.stroke()
        ctx.lineWidth = 1
      }
    }
    ctx.globalAlpha = dim ? 0.45 : 1
    for (const cell of agg.occupied) {
      const i = agg.best[cell]!
      if (dim && m.marks.incident[i] === m.selection) {
        selected.push(cell)
        continue
      }
      drawMark(i, cellPosition(agg, cell).lane, false)
    }
    ctx.globalAlpha = 1
    for (const cell of selected) drawMark(agg.best[cell]!, cellPosition(agg, cell).lane, true)
    // hovered mark
    if (hover.current >= 0) {
      const i = hover.current
      const l = m.lane[i]!
      if (l >= laneFrom && l < laneTo) {
        ctx.strokeStyle = COLOURS.text
        ctx.beginPath()
        ctx.arc(xOf(m.index.times[i]!), TOP + l * LANE_H - sy + LANE_H / 2, 8, 0, Math.PI * 2)
        ctx.stroke()
      }
    }
    ctx.restore()

    // lane labels
    ctx.fillStyle = COLOURS.gutter
    ctx.fillRect(0, 0, LABEL_W, h)
    ctx.save()
    ctx.beginPath()
    ctx.rect(0, TOP, LABEL_W - 4, lanesH)
    ctx.clip()
    ctx.font = '12px system-ui, sans-serif'
    for (let i = laneFrom; i < laneTo; i++) {
      const l = m.lanes[i]!
      const y = TOP + i * LANE_H - sy + LANE_H / 2
      let x = 8
      if (l.severity) {
        ctx.fillStyle = SEVERITY_COLOURS[l.severity]
        ctx.fillRect(x, y - 4, 3, 8)
        x += 8
      }
      ctx.fillStyle = l.key === m.selection ? COLOURS.selected : COLOURS.text
      let right = LABEL_W - 8
      if (l.detail && !l.severity) {
        ctx.fillStyle = COLOURS.muted
        ctx.textAlign = 'right'
        const detail = fitText(ctx, l.detail, 64)
        ctx.fillText(detail, right, y)
        ctx.textAlign = 'left'
        right -= ctx.measureText(detail).width + 8
      }
      ctx.fillStyle = l.key === m.selection ? COLOURS.selected : COLOURS.text
      ctx.fillText(fitText(ctx, l.label, right - x), x, y)
    }
    ctx.restore()
    ctx.fillStyle = COLOURS.muted
    ctx.font = '11px system-ui, sans-serif'
    ctx.fillText('UTC', 8, AXIS_H / 2)
    ctx.fillText(`per ${stepLabel(d.step)}${d.max ? ` · max ${d.max}` : ''}`, 8, AXIS_H + DENSITY_H / 2)
    if (m.lanes.length === 0) {
      ctx.fillText('No events in the window', LABEL_W + 12, TOP + 14)
    }
    ctx.strokeStyle = COLOURS.line
    ctx.beginPath()
    ctx.moveTo(LABEL_W - 0.5, 0)
    ctx.lineTo(LABEL_W - 0.5, h)
    ctx.stroke()

    // vertical scrollbar when lanes overflow
    const total = m.lanes.length * LANE_H
    if (total > lanesH && lanesH > 0) {
      const barH = Math.max(16, (lanesH * lanesH) / total)
      const barY = TOP + (sy / (total - lanesH)) * (lanesH - barH)
      ctx.fillStyle = 'rgba(147, 161, 177, 0.45)'
      ctx.fillRect(w - 5, barY, 4, barH)
    }
    afterDraw.current()
  }, [maxScroll])

  const requestDraw = useCallback(() => {
    if (frame.current === 0) frame.current = requestAnimationFrame(draw)
  }, [draw])

  const dispatch = useCallback(
    (action: FollowAction) => {
      if (action.type === 'user' || action.type === 'live') touched.current = true
      const next = followReducer(follow.current, action)
      if (next === follow.current) return
      follow.current = next
      setLive(next.live)
      requestDraw()
    },
    [requestDraw],
  )

  // new data or view: swap the model, follow now, refit while untouched
  useLayoutEffect(() => {
    const before = model.current
    model.current = { index, lanes, lane, marks, mode, range, selection }
    if (before.mode !== mode) scrollY.current = 0
    const now = displayNow()
    if (!touched.current) dispatch({ type: 'fit', span: fitSpan(index, now), now })
    else dispatch({ type: 'tick', now })
    if (hover.current >= 0 && before.index !== index) hover.current = -1
    requestDraw()
  }, [index, lanes, lane, marks, mode, range, selection, dispatch, requestDraw])

  // each second: live follows now (and the now line moves)
  useEffect(() => {
    const timer = setInterval(() => {
      const now = displayNow()
      if (!touched.current) dispatch({ type: 'fit', span: fitSpan(model.current.index, now), now })
      else dispatch({ type: 'tick', now })
      requestDraw()
    }, 1000)
    return () => clearInterval(timer)
  }, [dispatch, requestDraw])

  // size
  useEffect(() => {
    const wrap = wrapRef.current
    if (!wrap) return
    const measure = () => {
      const rect = wrap.getBoundingClientRect()
      size.current = { w: Math.floor(rect.width), h: Math.floor(rect.height) }
      requestDraw()
    }
    measure()
    const observer = new ResizeObserver(measure)
    observer.observe(wrap)
    // devicePixelRatio changes (zoom, moving between screens)
    const media = window.matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`)
    media.addEventListener('change', measure)
    return () => {
      observer.disconnect()
      media.removeEventListener('change', measure)
      if (frame.current) cancelAnimationFrame(frame.current)
      frame.current = 0
    }
  }, [requestDraw])

  /** Lane index under a y (CSS px in the canvas), or -1. */
  const laneAt = useCallback((y: number) => {
    if (y < TOP) return -1
    const i = Math.floor((y - TOP + scrollY.current) / LANE_H)
    return i < model.current.lanes.length ? i : -1
  }, [])

  const hitAt = useCallback(
    (x: number, y: number) => {
      const agg = cells.current
      if (!agg || x < LABEL_W) return -1
      const l = laneAt(y)
      return l < 0 ? -1 : hitTest(agg, x - LABEL_W, l)
    },
    [laneAt],
  )

  // test hook
  useEffect(() => {
    const hook: TimelineHook = {
      markAt(incidentId) {
        const find = () => {
          const agg = cells.current
          if (!agg) return null
          const cell = cellOfIncident(agg, model.current.marks.incident, incidentId)
          if (cell < 0) return null
          // the centre of its cell: what hit-testing maps back to that cell
          const { lane: l, col } = cellPosition(agg, cell)
          return { x: LABEL_W + columnCentre(agg, col), y: TOP + l * LANE_H - scrollY.current + LANE_H / 2 }
        }
        const found = find()
        if (found) return found
        const drawNow = () => {
          if (frame.current) cancelAnimationFrame(frame.current)
          draw()
        }
        // one of its events in the visible time span
        const firstInView = () => {
          const m = model.current
          const { from, to } = follow.current.domain
          const end = upperBound(m.index.times, to)
          for (let i = lowerBound(m.index.times, from); i < end; i++)
            if (m.marks.incident[i] === incidentId && m.lane[i]! >= 0) return i
          return -1
        }
        let i = firstInView()
        if (i < 0) return null
        // in a lane scrolled out of view: bring it in
        const lanePos = model.current.lane[i]!
        const agg = cells.current
        if (!agg || lanePos < agg.laneFrom || lanePos >= agg.laneTo) {
          scrollY.current = lanePos * LANE_H
          drawNow()
          const again = find()
          if (again) return again
        }
        // covered by stronger marks in the same cells: zoom in around it until one shows
        for (let k = 0; k < 20 && i >= 0; k++) {
          const t = model.current.index.times[i]!
          dispatch({ type: 'user', domain: zoomAround(follow.current.domain, 0.5, t), now: displayNow() })
          drawNow()
          const again = find()
          if (again) return again
          i = firstInView()
        }
        return null
      },
      domain() {
        const { from, to } = follow.current.domain
        return { from, to }
      },
    }
    hookHost().__watchfloorTimeline = hook
    return () => {
      if (hookHost().__watchfloorTimeline === hook) delete hookHost().__watchfloorTimeline
    }
  }, [draw, dispatch])

  const pointFrom = (e: { clientX: number; clientY: number }) => {
    const rect = canvasRef.current?.getBoundingClientRect()
    return { x: e.clientX - (rect?.left ?? 0), y: e.clientY - (rect?.top ?? 0) }
  }
  const plotWidth = () => Math.max(1, size.current.w - LABEL_W)
  const timeAtX = (x: number) => xToTime(follow.current.domain, plotWidth(), x - LABEL_W)

  // wheel: React's onWheel is passive, so listen directly to be able to preventDefault
  // biome-ignore lint/correctness/useExhaustiveDependencies: the helpers it uses read refs only
  useEffect(() => {
    const canvas = canvasRef.current
    if (!canvas) return
    const onWheel = (e: WheelEvent) => {
      e.preventDefault()
      const scale = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1
      const dx = e.deltaX * scale
      const dy = e.deltaY * scale
      const { x } = pointFrom(e)
      if (e.shiftKey || x < LABEL_W) {
        // vertical scroll over the lanes (shift+wheel arrives as deltaX on some systems)
        scrollY.current = Math.min(Math.max(0, scrollY.current + (dy || dx)), maxScroll())
        requestDraw()
        return
      }
      const now = displayNow()
      if (Math.abs(dx) > Math.abs(dy)) {
        dispatch({ type: 'user', domain: panPixels(follow.current.domain, plotWidth(), -dx), now })
        return
      }
      if (dy === 0) return
      const factor = Math.exp(Math.max(-0.5, Math.min(0.5, dy * 0.0015)))
      dispatch({ type: 'user', domain: zoomAround(follow.current.domain, factor, timeAtX(x)), now })
    }
    canvas.addEventListener('wheel', onWheel, { passive: false })
    return () => canvas.removeEventListener('wheel', onWheel)
  }, [dispatch, requestDraw])

  const onPointerDown = (e: React.PointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0) return
    const { x, y } = pointFrom(e)
    e.currentTarget.setPointerCapture(e.pointerId)
    wrapRef.current?.parentElement?.focus({ preventScroll: true })
    const inStrip = y >= AXIS_H && y < TOP && x >= LABEL_W
    if ((inStrip || (e.shiftKey && y >= TOP)) && x >= LABEL_W) {
      drag.current = { kind: 'brush', x, y, t0: timeAtX(x), moved: false }
    } else {
      drag.current = {
        kind: 'pan',
        x,
        y,
        domain: follow.current.domain,
        scrollY: scrollY.current,
        moved: false,
      }
    }
  }

  const updateHover = (x: number, y: number) => {
    if (x < LABEL_W) {
      // the lane label in full
      if (hover.current >= 0) {
        hover.current = -1
        requestDraw()
      }
      const l = laneAt(y)
      if (l === hoverLane.current) return
      hoverLane.current = l
      const lane = model.current.lanes[l]
      setTip(lane ? { x, y, time: '', type: lane.detail ?? '', title: lane.label, detail: '', more: 0 } : null)
      return
    }
    if (hoverLane.current >= 0) {
      hoverLane.current = -1
      setTip(null)
    }
    const i = hitAt(x, y)
    if (i === hover.current) return
    hover.current = i
    requestDraw()
    if (i < 0) {
      setTip(null)
      return
    }
    const m = model.current
    const agg = cells.current
    let more = 0
    if (agg) {
      const col = columnAt(agg, timeToX(follow.current.domain, plotWidth(), m.index.times[i]!))
      const l = m.lane[i]!
      if (l >= agg.laneFrom && l < agg.laneTo) more = (agg.count[(l - agg.laneFrom) * agg.cols + col] ?? 1) - 1
    }
    setTip({ x, y, ...tipFor(m.index.events[i]!, Math.max(0, more)) })
  }

  // after each frame, what is under a resting pointer may have moved (live, new events)
  afterDraw.current = () => {
    const p = pointer.current
    if (p && !drag.current) updateHover(p.x, p.y)
  }

  const onPointerMove = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const { x, y } = pointFrom(e)
    pointer.current = { x, y }
    const d = drag.current
    if (!d) {
      updateHover(x, y)
      e.currentTarget.style.cursor = x < LABEL_W ? 'default' : hover.current >= 0 ? 'pointer' : 'grab'
      return
    }
    if (!d.moved && Math.abs(x - d.x) < DRAG_THRESHOLD && Math.abs(y - d.y) < DRAG_THRESHOLD) return
    d.moved = true
    if (hover.current >= 0) {
      hover.current = -1
      setTip(null)
    }
    if (d.kind === 'pan') {
      e.currentTarget.style.cursor = 'grabbing'
      scrollY.current = Math.min(Math.max(0, d.scrollY - (y - d.y)), maxScroll())
      dispatch({ type: 'user', domain: panPixels(d.domain, plotWidth(), x - d.x), now: displayNow() })
      requestDraw()
    } else {
      const t = timeAtX(Math.min(Math.max(x, LABEL_W), size.current.w))
      brush.current = { from: Math.min(d.t0, t), to: Math.max(d.t0, t) }
      requestDraw()
    }
  }

  const onPointerUp = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current
    drag.current = null
    if (!d) return
    const { x, y } = pointFrom(e)
    e.currentTarget.style.cursor = ''
    if (d.kind === 'brush' && d.moved && brush.current) {
      const b = brush.current
      brush.current = null
      if (b.to > b.from) viewStore.getState().setRange({ from: Math.round(b.from), to: Math.round(b.to) })
      requestDraw()
      return
    }
    brush.current = null
    if (!d.moved) {
      const i = hitAt(x, y)
      const incidentId = i >= 0 ? model.current.marks.incident[i] : undefined
      if (incidentId !== undefined) viewStore.getState().select(incidentId)
    }
    requestDraw()
  }

  const onPointerLeave = () => {
    pointer.current = null
    if (drag.current) return
    hoverLane.current = -1
    setTip(null)
    if (hover.current >= 0) {
      hover.current = -1
      requestDraw()
    }
  }

  const onKeyDown = (e: React.KeyboardEvent<HTMLDivElement>) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return
    if (e.target instanceof HTMLButtonElement && (e.key === 'Enter' || e.key === ' ')) return
    const domain = follow.current.domain
    const now = displayNow()
    // while live, keyboard zoom keeps the right edge at now
    const anchor = follow.current.live ? domain.to : (domain.from + domain.to) / 2
    switch (e.key) {
      case '+':
      case '=':
        dispatch({ type: 'user', domain: zoomAround(domain, 1 / 1.5, anchor), now })
        break
      case '-':
      case '_':
        dispatch({ type: 'user', domain: zoomAround(domain, 1.5, anchor), now })
        break
      case 'ArrowLeft':
        dispatch({ type: 'user', domain: panPixels(domain, 1, 0.1), now })
        break
      case 'ArrowRight':
        dispatch({ type: 'user', domain: panPixels(domain, 1, -0.1), now })
        break
      case 'ArrowUp':
        scrollY.current = Math.max(0, scrollY.current - LANE_H * 3)
        requestDraw()
        break
      case 'ArrowDown':
        scrollY.current = Math.min(maxScroll(), scrollY.current + LANE_H * 3)
        requestDraw()
        break
      case 'l':
      case 'L':
        dispatch({ type: 'live', now })
        break
      case 'Escape':
        brush.current = null
        drag.current = null
        viewStore.getState().setRange(null)
        break
      default:
        return
    }
    e.preventDefault()
  }

  const goLive = () => dispatch({ type: 'live', now: displayNow() })
  const toggleLanes = () => viewStore.getState().setLanes(mode === 'network' ? 'incident' : 'network')

  return (
    <section
      className="timeline"
      data-testid="timeline"
      aria-label="Timeline: + and - zoom, arrows pan, l follows live, Escape clears the range"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: keyboard-operable: +/- zoom, arrows pan, l live, Escape
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      <div className="timeline-bar">
        <span className="timeline-title">Timeline</span>
        <button
          type="button"
          className="timeline-btn"
          data-testid="timeline-lanes"
          data-mode={mode}
          aria-pressed={mode === 'incident'}
          title="Lanes per network or per incident"
          onClick={toggleLanes}
        >
          Lanes: {mode === 'network' ? 'networks' : 'incidents'}
        </button>
        <button
          type="button"
          className={`timeline-btn live${live ? ' on' : ''}`}
          data-testid="timeline-live"
          data-live={String(live)}
          aria-pressed={live}
          title={live ? 'Following now' : 'Back to live (l)'}
          onClick={goLive}
        >
          {live ? '● Live' : 'Back to live'}
        </button>
        {range && (
          <span className="timeline-range">
            <span className="mono">
              {formatTime(iso(range.from))} – {formatTime(iso(range.to))}
            </span>
            <button
              type="button"
              className="timeline-btn"
              data-testid="timeline-clear-range"
              title="Clear the time range (Escape)"
              onClick={() => viewStore.getState().setRange(null)}
            >
              Clear range ✕
            </button>
          </span>
        )}
        <Legend />
      </div>
      <div className="timeline-canvas-wrap" ref={wrapRef}>
        <canvas
          ref={canvasRef}
          className="timeline-canvas"
          data-testid="timeline-canvas"
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={() => {
            drag.current = null
            brush.current = null
            requestDraw()
          }}
          onPointerLeave={onPointerLeave}
        />
        {tip && (
          <div
            className="timeline-tip"
            data-testid="timeline-tooltip"
            role="tooltip"
            style={{
              left: Math.min(tip.x + 12, Math.max(0, size.current.w - 320)),
              top: tip.y > size.current.h / 2 ? undefined : tip.y + 14,
              bottom: tip.y > size.current.h / 2 ? size.current.h - tip.y + 10 : undefined,
            }}
          >
            {tip.time && <div className="mono">{tip.time}</div>}
            {tip.type && <div className="timeline-tip-type">{tip.type}</div>}
            {tip.title && <div className="timeline-tip-title">{tip.title}</div>}
            {tip.detail && <div className="timeline-tip-detail">{tip.detail}</div>}
            {tip.more > 0 && <div className="timeline-tip-type">+{tip.more} more here (zoom in)</div>}
          </div>
        )}
      </div>
    </section>
  )
}

function Legend() {
  return (
    <span className="timeline-legend" title="Legend">
      {SEVERITY_BY_INDEX.slice()
        .reverse()
        .map((s) => (
          <span key={s} className="timeline-key">
            <i className="dot" style={{ background: SEVERITY_COLOURS[s] }} />
            {s}
          </span>
        ))}
      <span className="timeline-key">
        <i className="tick" style={{ background: SEVERITY_COLOURS.medium }} />
        observation
      </span>
      <span className="timeline-key">
        <i className="diamond" style={{ background: KIND_COLOURS.posture }} />
        posture
      </span>
      <span className="timeline-key">
        <i className="ring" style={{ borderColor: KIND_COLOURS.registered }} />
        registered
      </span>
      <span className="timeline-key">
        <i className="square" style={{ background: KIND_COLOURS.advisory }} />
        advisory
      </span>
    </span>
  )
}

function stepLabel(ms: number): string {
  if (ms >= DAY) return `${ms / DAY}d`
  if (ms >= 3_600_000) return `${ms / 3_600_000}h`
  if (ms >= MINUTE) return `${ms / MINUTE}m`
  if (ms >= 1000) return `${ms / 1000}s`
  return `${ms}ms`
}

/** The text, or its start and end around an ellipsis, in at most `max` px (names often differ at the end). */
function fitText(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (ctx.measureText(text).width <= max) return text
  let lo = 0
  let hi = text.length
  const cut = (n: number) => {
    const head = Math.ceil(n * 0.3)
    return `${text.slice(0, head).trimEnd()}…${text.slice(text.length - (n - head)).trimStart()}`
  }
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (ctx.measureText(cut(mid)).width <= max) lo = mid
    else hi = mid - 1
  }
  return lo === 0 ? '' : cut(lo)
}

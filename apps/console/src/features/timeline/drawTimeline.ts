import type { ObservationMode } from '../../view/view.ts'
import { isLate } from '../replay/late.ts'
import { aggregate, type Cells, cellPosition } from './aggregate.ts'
import { density } from './density.ts'
import type { Lane } from './lanes.ts'
import { AXIS_H, COL_PX, DENSITY_H, LABEL_W, LANE_H, TOP } from './layout.ts'
import { colourOf, type MarkData, MarkKind, SEVERITY_COLOURS } from './marks.ts'
import {
  NO_RUNS,
  type ObservationRuns,
  observationRuns,
  RUN_GAP_COLS,
  RUN_MIN_PX,
  runLabel,
} from './observationRuns.ts'
import { DAY, type Domain, iso, MINUTE, ticks, timeToX } from './scale.ts'
import type { TimeIndex } from './timeIndex.ts'

/*
 * The timeline's picture: one function that paints a frame from a description
 * of it (the scene) and reports what it drew. It listens to nothing and keeps
 * no view state: the component decides when to draw (one frame per animation
 * frame, see Timeline.tsx) and TimelineInput.ts turns pointer, wheel and keys
 * into the view changes that the next scene shows.
 */

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
  unloaded: 'rgba(147, 161, 177, 0.10)',
  unloadedHatch: 'rgba(147, 161, 177, 0.22)',
}

/** A time range, epoch ms. */
export interface TimeRange {
  from: number
  to: number
}

/** Everything derived from the data, rebuilt when it changes (not per frame). */
export interface TimelineModel {
  index: TimeIndex
  lanes: Lane[]
  /** The lane of each sorted event (-1 if it has none). */
  lane: Int32Array
  marks: MarkData
  /** The committed time range (the view's filter), shaded. */
  range: TimeRange | null
  /** The selected incident: its lane is highlighted, its marks drawn on top, the others dimmed. */
  selection: string | null
  /** Observations folded into runs (a band per run, see observationRuns.ts), or each a tick. */
  observations: ObservationMode
}

/** A band's height, CSS px. */
const RUN_H = 10

/** One frame: the data, and where and how the view looks at it. */
export interface TimelineScene {
  /** Canvas size, CSS px. */
  width: number
  height: number
  /** Device pixels per CSS px: the backing store is sized to it, so lines stay sharp. */
  dpr: number
  domain: Domain
  /** Following now (reported as the canvas's data-live). */
  live: boolean
  /** Lanes scrolled by, CSS px, within [0, maxScroll] (see layout.ts). */
  scrollY: number
  model: TimelineModel
  /** The range being brushed, shaded over the committed one; null when none. */
  brush: TimeRange | null
  /** The hovered mark (sorted event index), ringed; -1 for none. */
  hover: number
  /** The hovered run, outlined: the sorted event index of its first observation; -1 (or absent) for none. */
  hoverRun?: number
  /** Where the now line goes (the replay playhead while replaying). */
  now: number
  /** Replaying the occurred clock: mark the reports that arrived late. */
  lateTicks: boolean
  /** What an empty timeline says (by default, that the window holds no events). */
  empty?: string | undefined
  /**
   * Times of the domain whose events are not in memory (older history not read yet, see
   * data/history.ts): hatched, so an empty stretch is not taken for a quiet one.
   */
  unloaded?: readonly TimeRange[]
  /** Older history is being read (the hatched parts say "loading"). */
  historyLoading?: boolean
}

/** What a frame drew. */
export interface DrawnTimeline {
  /**
   * The marks drawn, one per occupied cell: what hit-testing looks at, so a
   * click lands on the mark that is seen. Computed even when nothing could be
   * painted (no 2D context, zero size).
   */
  cells: Cells
  /** The observation runs drawn (none when observations are drawn each on its own): hit-tested too. */
  runs: ObservationRuns
  /** False when the canvas had no 2D context or no size, so nothing was painted. */
  painted: boolean
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

/**
 * Paint `scene` on `canvas` (resizing its backing store to the scene's size
 * and pixel ratio) and describe it in the canvas's data attributes (marks,
 * lanes, from, to, live, late), which tests and tools read.
 */
export const NOTHING_AT_PLAYHEAD = 'Nothing at the playhead yet'

/**
 * What an empty timeline says (`TimelineScene.empty`): replaying a window that holds events, nothing
 * has happened yet at the playhead (the lanes are what happened up to it); else the default, that the
 * window holds none.
 */
export function emptyText(replaying: { active: boolean; total: number; folded: number }): string | undefined {
  return replaying.active && replaying.total > 0 && replaying.folded === 0 ? NOTHING_AT_PLAYHEAD : undefined
}

export function drawTimeline(canvas: HTMLCanvasElement, scene: TimelineScene): DrawnTimeline {
  const { width: w, height: h, dpr, domain, model: m } = scene
  const pw = Math.max(1, Math.round(w * dpr))
  const ph = Math.max(1, Math.round(h * dpr))
  if (canvas.width !== pw || canvas.height !== ph) {
    canvas.width = pw
    canvas.height = ph
  }
  const ctx = canvas.getContext('2d')
  const plotW = Math.max(1, w - LABEL_W)
  const sy = scene.scrollY
  const lanesH = Math.max(0, h - TOP)
  const laneFrom = Math.min(m.lanes.length, Math.floor(sy / LANE_H))
  const laneTo = Math.min(m.lanes.length, Math.ceil((sy + lanesH) / LANE_H))
  const folded = m.observations === 'runs'
  const agg = aggregate(
    { times: m.index.times, lane: m.lane, priority: m.marks.priority, incident: m.marks.incident, kind: m.marks.kind },
    {
      domain,
      width: plotW,
      colPx: COL_PX,
      laneFrom,
      laneTo,
      selection: m.selection,
      ...(folded ? { skipKind: MarkKind.observation } : {}),
    },
  )
  const runs = folded
    ? observationRuns(
        {
          times: m.index.times,
          lane: m.lane,
          kind: m.marks.kind,
          severity: m.marks.severity,
          incident: m.marks.incident,
        },
        { domain, gapMs: RUN_GAP_COLS * agg.msPerCol, laneFrom, laneTo },
      )
    : NO_RUNS
  canvas.dataset.marks = String(agg.marks)
  canvas.dataset.runs = String(runs.count)
  canvas.dataset.observations = m.observations
  canvas.dataset.lanes = String(m.lanes.length)
  canvas.dataset.from = iso(domain.from)
  canvas.dataset.to = iso(domain.to)
  canvas.dataset.live = String(scene.live)
  const unloaded = (scene.unloaded ?? []).filter((r) => r.to > domain.from && r.from < domain.to)
  canvas.dataset.unloaded = String(unloaded.length)
  canvas.dataset.history = scene.historyLoading ? 'loading' : 'idle'
  if (!ctx || w === 0 || h === 0) return { cells: agg, runs, painted: false }

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

  // not in memory: hatched over the strip and the lanes, with a word on what to do
  for (const r of unloaded) {
    const x0 = Math.max(LABEL_W, xOf(r.from))
    const x1 = Math.min(w, xOf(r.to))
    if (x1 - x0 < 1) continue
    ctx.save()
    ctx.beginPath()
    ctx.rect(x0, AXIS_H + 1, x1 - x0, h - AXIS_H - 1)
    ctx.clip()
    ctx.fillStyle = COLOURS.unloaded
    ctx.fillRect(x0, AXIS_H + 1, x1 - x0, h - AXIS_H - 1)
    ctx.strokeStyle = COLOURS.unloadedHatch
    ctx.beginPath()
    for (let x = x0 - (h - AXIS_H); x < x1; x += 8) {
      ctx.moveTo(x, h)
      ctx.lineTo(x + (h - AXIS_H), AXIS_H)
    }
    ctx.stroke()
    if (x1 - x0 > 60) {
      ctx.fillStyle = COLOURS.muted
      ctx.font = '11px system-ui, sans-serif'
      ctx.fillText(scene.historyLoading ? 'loading…' : 'not loaded', x0 + 6, AXIS_H + DENSITY_H / 2)
    }
    ctx.restore()
  }

  // brushed range (committed, and the one being drawn)
  const shade = scene.brush ?? m.range
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
  const now = scene.now
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
  if (scene.lateTicks) {
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
  // observation runs: bands under the marks, the number of reports written on them when it fits
  if (runs.count > 0) {
    ctx.font = '10px system-ui, sans-serif'
    ctx.textAlign = 'center'
    for (let r = 0; r < runs.count; r++) {
      const x0 = xOf(runs.from[r]!)
      const x1 = xOf(runs.to[r]!)
      const bw = Math.max(RUN_MIN_PX, x1 - x0)
      const bx = (x0 + x1 - bw) / 2
      const y = TOP + runs.lane[r]! * LANE_H - sy + LANE_H / 2
      const alpha = dim && runs.incident[r] !== m.selection ? 0.45 : 1
      const colour = colourOf(MarkKind.observation, runs.severity[r]!)
      ctx.fillStyle = colour
      ctx.globalAlpha = alpha * 0.35
      ctx.fillRect(bx, y - RUN_H / 2, bw, RUN_H)
      ctx.globalAlpha = alpha
      // its first and last observation, as the ticks they are in the other mode
      ctx.fillRect(bx, y - RUN_H / 2, Math.min(2, bw), RUN_H)
      ctx.fillRect(bx + bw - Math.min(2, bw), y - RUN_H / 2, Math.min(2, bw), RUN_H)
      const label = bw >= 10 ? runLabel(ctx, runs.reports[r]!, bw - 4) : ''
      if (label) {
        ctx.fillStyle = COLOURS.text
        ctx.fillText(label, bx + bw / 2, y + 0.5)
      }
      if (runs.first[r] === scene.hoverRun) {
        ctx.strokeStyle = COLOURS.text
        ctx.strokeRect(bx - 1.5, y - RUN_H / 2 - 1.5, bw + 3, RUN_H + 3)
      }
    }
    ctx.globalAlpha = 1
    ctx.textAlign = 'left'
  }
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
  if (scene.hover >= 0) {
    const i = scene.hover
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
    ctx.fillText(scene.empty ?? 'No events in the window', LABEL_W + 12, TOP + 14)
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
  return { cells: agg, runs, painted: true }
}

/** The density strip's bin width, short ("5m", "1h"). */
export function stepLabel(ms: number): string {
  if (ms >= DAY) return `${ms / DAY}d`
  if (ms >= 3_600_000) return `${ms / 3_600_000}h`
  if (ms >= MINUTE) return `${ms / MINUTE}m`
  if (ms >= 1000) return `${ms / 1000}s`
  return `${ms}ms`
}

/** Trailing separators left before an ellipsis ("Ministry of Defence, …" reads as "Ministry of Defence…"). */
const TRAILING = /[\s,;:.\-–—/(&+]+$/u

/**
 * The text in at most `max` px, never cutting a word: the text itself when it fits, else as many of
 * its whole words as fit before an ellipsis ("Alliance cyber security…"). Last resort, when not
 * even the first word and the ellipsis fit: that word cut to fit, with the ellipsis (a lane is
 * still told from its neighbours, and its tooltip gives the name in full), or '' when not even a
 * letter and the ellipsis fit.
 */
export function fitText(ctx: Pick<CanvasRenderingContext2D, 'measureText'>, text: string, max: number): string {
  if (ctx.measureText(text).width <= max) return text
  // the ends of the words: candidates are text.slice(0, end) for each end
  const ends: number[] = []
  const word = /\S+/gu
  for (let m = word.exec(text); m !== null; m = word.exec(text)) ends.push(m.index + m[0].length)
  const cut = (end: number) => {
    const head = text.slice(0, end).replace(TRAILING, '')
    return head === '' ? '' : `${head}…`
  }
  // the most words that fit (widths grow with the words), by binary search
  let lo = 0
  let hi = ends.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (ctx.measureText(cut(ends[mid]!)).width <= max) lo = mid
    else hi = mid - 1
  }
  const words = ends.length > 0 ? cut(ends[lo]!) : ''
  if (words !== '' && ctx.measureText(words).width <= max) return words
  // last resort: the first word, cut
  const first = /\S+/u.exec(text)?.[0] ?? ''
  let n = first.length
  while (n > 0 && ctx.measureText(`${first.slice(0, n)}…`).width > max) n--
  return n === 0 ? '' : `${first.slice(0, n)}…`
}

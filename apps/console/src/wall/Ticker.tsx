/**
 * The wall's ticker: the last hours on one strip. Activity density (every event, per bucket)
 * above, the significant events (reports, escalations, advisories, posture changes) as marks
 * below, hourly labels. Canvas: thousands of marks cost one draw, and nothing to interact with.
 */
import type { StoredEvent, Tlp } from '@watchfloor/protocol'
import { useEffect, useRef } from 'react'
import type { MinuteCounts } from '../data/activity.ts'
import { serverNow, watchfloor } from '../data/store.ts'
import { POSTURE_COLOURS, SHARING_COLOUR } from '../features/map/style.ts'
import { SEVERITY_COLOURS } from '../ui/theme.ts'
import { useFilteredEvents } from '../view/selectors.ts'

const HOUR = 3_600_000
/** Redraw at most this often for new data; the clock moves it every `TICK_MS` anyway. */
const DRAW_MS = 1000
const TICK_MS = 10_000

export interface TickerMark {
  at: number
  colour: string
  row: 0 | 1 | 2
}

/** What a significant event looks like on the ticker, or null for events it leaves to the density strip. */
export function markOf(event: StoredEvent, severityOf: (incidentId: string) => string | undefined): TickerMark | null {
  const at = Date.parse(event.occurredAt)
  switch (event.type) {
    case 'incident.reported':
      return { at, colour: SEVERITY_COLOURS[event.payload.severity], row: 0 }
    case 'incident.updated': {
      const severity = event.payload.severity ?? severityOf(event.payload.incidentId)
      return { at, colour: SEVERITY_COLOURS[(severity as keyof typeof SEVERITY_COLOURS) ?? 'low'] ?? '#93a1b1', row: 0 }
    }
    case 'advisory.published':
      return { at, colour: SHARING_COLOUR, row: 1 }
    case 'network.posture_changed':
      return { at, colour: POSTURE_COLOURS[event.payload.posture], row: 2 }
    default:
      return null
  }
}

function draw(
  canvas: HTMLCanvasElement,
  events: readonly StoredEvent[],
  activity: MinuteCounts,
  hours: number,
  now: number,
  countsFrom = Number.NEGATIVE_INFINITY,
): Tlp | null {
  // the wall's panels may be drawn larger (CSS zoom on a 4K screen): its pixels are the screen's, so
  // the canvas is drawn at the zoom too, not stretched from a smaller one
  const zoom = (canvas as HTMLCanvasElement & { currentCSSZoom?: number }).currentCSSZoom ?? 1
  const ratio = (window.devicePixelRatio || 1) * zoom
  const width = canvas.clientWidth
  const height = canvas.clientHeight
  if (width === 0 || height === 0) return null
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio)
    canvas.height = Math.round(height * ratio)
  }
  const ctx = canvas.getContext('2d')
  if (!ctx) return null
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
  ctx.clearRect(0, 0, width, height)
  const span = hours * HOUR
  const from = now - span
  const x = (t: number) => ((t - from) / span) * width
  const axisH = 26
  const densityH = Math.round((height - axisH) * 0.45)
  const marksTop = densityH + 4
  const rowH = (height - axisH - marksTop) / 3

  // density: per bucket of about 6 px
  const bucketMs = Math.max(60_000, Math.ceil(span / Math.max(1, width / 6) / 60_000) * 60_000)
  const start = Math.floor(from / bucketMs) * bucketMs
  const counts = activity.buckets(start, now + bucketMs, bucketMs)
  // the strip says how much went on when: as much as the events it counts, whose marking it carries
  const densityTlp = activity.strictestTlp(start, now + bucketMs)
  canvas.dataset.tlp = densityTlp
  const max = Math.max(1, ...counts)
  ctx.fillStyle = '#2f6f9f'
  counts.forEach((count, i) => {
    if (count === 0) return
    const left = x(start + i * bucketMs)
    const w = Math.max(1, x(start + (i + 1) * bucketMs) - left - 1)
    const h = Math.max(2, (count / max) * (densityH - 4))
    ctx.fillRect(left, densityH - h, w, h)
  })

  // the counts start where the events read at open start (data/store.ts `activityFrom`), and go
  // back no further than they are kept (`heldFrom`): before that the strip would look quiet without
  // being so, so it is hatched and says so
  if (countsFrom > from) {
    const x1 = Math.min(width, x(countsFrom))
    ctx.save()
    ctx.beginPath()
    ctx.rect(0, 0, x1, densityH)
    ctx.clip()
    ctx.fillStyle = 'rgba(147, 161, 177, 0.12)'
    ctx.fillRect(0, 0, x1, densityH)
    ctx.strokeStyle = 'rgba(147, 161, 177, 0.3)'
    ctx.beginPath()
    for (let hx = -densityH; hx < x1; hx += 10) {
      ctx.moveTo(hx, densityH)
      ctx.lineTo(hx + densityH, 0)
    }
    ctx.stroke()
    ctx.fillStyle = '#c9d4df'
    ctx.font = '14px "Noto Sans", system-ui, sans-serif'
    ctx.textBaseline = 'top'
    const label = `no counts before ${new Date(countsFrom).toISOString().slice(11, 16)}Z`
    if (x1 > ctx.measureText(label).width + 12) ctx.fillText(label, 6, 4)
    ctx.restore()
  }
  canvas.dataset.countsFrom = Number.isFinite(countsFrom) ? new Date(countsFrom).toISOString() : ''

  // marks
  const state = watchfloor.getState().state
  const severityOf = (id: string) => state.incidents.get(id)?.severity
  for (const event of events) {
    const mark = markOf(event, severityOf)
    if (!mark || mark.at < from || mark.at > now + 60_000) continue
    ctx.fillStyle = mark.colour
    ctx.fillRect(Math.round(x(mark.at)) - 2, marksTop + mark.row * rowH + 2, 4, Math.max(4, rowH - 4))
  }

  // hour ticks and labels
  ctx.strokeStyle = '#3a4656'
  ctx.fillStyle = '#c9d4df'
  ctx.font = '18px "Noto Sans", system-ui, sans-serif'
  ctx.textBaseline = 'bottom'
  const step = hours > 12 ? 3 * HOUR : hours > 6 ? 2 * HOUR : HOUR
  for (let t = Math.ceil(from / step) * step; t <= now; t += step) {
    const px = Math.round(x(t)) + 0.5
    ctx.beginPath()
    ctx.moveTo(px, 0)
    ctx.lineTo(px, height - axisH)
    ctx.stroke()
    const label = `${new Date(t).toISOString().slice(11, 16)}Z`
    const w = ctx.measureText(label).width
    if (px - w / 2 > 0 && px + w / 2 < width) ctx.fillText(label, px - w / 2, height - 2)
  }
  return densityTlp
}

/**
 * @param onMarking told the strictest TLP of the events the density strip counts, after each draw
 *   that changes it: the wall's banner covers them as it covers the marks
 */
export function Ticker({ hours, onMarking }: { hours: number; onMarking?: (tlp: Tlp) => void }) {
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const events = useFilteredEvents()
  const latest = useRef({ events, hours, onMarking })
  latest.current = { events, hours, onMarking }

  useEffect(() => {
    const canvas = canvasRef.current
    if (!canvas) return
    let timer: ReturnType<typeof setTimeout> | undefined
    let lastDraw = 0
    const paint = () => {
      timer = undefined
      lastDraw = Date.now()
      const data = watchfloor.getState()
      // the right edge is now on the server's clock, as the event times it places are
      const now = serverNow(Date.now(), data.clockOffsetMs)
      const countsFrom = data.activity.heldFrom(data.activityFrom)
      const tlp = draw(canvas, latest.current.events, data.activity, latest.current.hours, now, countsFrom)
      if (tlp !== null) latest.current.onMarking?.(tlp)
    }
    const schedule = () => {
      if (timer !== undefined) return
      timer = setTimeout(paint, Math.max(0, DRAW_MS - (Date.now() - lastDraw)))
    }
    paint()
    const unsubscribe = watchfloor.subscribe((s, prev) => {
      if (s.windowVersion !== prev.windowVersion) schedule()
    })
    const tick = setInterval(schedule, TICK_MS)
    const observer = new ResizeObserver(schedule)
    observer.observe(canvas)
    const onVisible = () => {
      if (document.visibilityState === 'visible') schedule()
    }
    document.addEventListener('visibilitychange', onVisible)
    return () => {
      unsubscribe()
      clearInterval(tick)
      observer.disconnect()
      document.removeEventListener('visibilitychange', onVisible)
      if (timer !== undefined) clearTimeout(timer)
    }
  }, [])

  return (
    <canvas
      ref={canvasRef}
      className="wall-ticker-canvas"
      data-testid="wall-ticker"
      aria-label={`Activity over the last ${hours} hours`}
    />
  )
}

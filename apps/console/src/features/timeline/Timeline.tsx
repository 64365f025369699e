import { highestTlp, incidentOf, SEVERITIES_DESCENDING, summaryLine } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { type JSX, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import { useStore } from 'zustand'
import { loadHistory } from '../../data/connection.ts'
import { type Coverage, liveFrom, missingRanges, NO_COVERAGE } from '../../data/history.ts'
import { useWatchfloor, watchfloor } from '../../data/store.ts'
import { formatTime } from '../../ui/format.ts'
import { useFilteredEvents } from '../../view/selectors.ts'
import type { Lanes, ObservationMode } from '../../view/view.ts'
import { useView, viewStore } from '../../view/viewStore.ts'
import { namesOf, peopleDirectory } from '../coordination/people.ts'
import { displayNow, isReplaying } from '../replay/now.ts'
import { replay } from '../replay/replayStore.ts'
import { type Cells, othersInCell } from './aggregate.ts'
import { drawTimeline, emptyText, type TimelineModel } from './drawTimeline.ts'
import { clampScroll, maxScroll, plotWidth } from './layout.ts'
import { type Follow, type FollowAction, followReducer, initialFollow } from './live.ts'
import { KIND_COLOURS, KIND_LABELS, SEVERITY_COLOURS } from './marks.ts'
import { deriveTimeline, emptyTimelineCache, type TimelineCache } from './model.ts'
import { describeRun, incidentsOfRun, type ObservationRuns } from './observationRuns.ts'
import { DAY, type Domain, iso, MINUTE, timeToX } from './scale.ts'
import { type HoverTarget, TimelineInput, type TimelineInputHost } from './TimelineInput.ts'
import { type TimeIndex, updateTimeIndex } from './timeIndex.ts'
import { createTimelineHook, installTimelineHook } from './timelineHook.ts'
import './timeline.css'

export type { TimelineHook } from './timelineHook.ts'

/*
 * The timeline: lanes of marks over time, a density strip and an axis, on one
 * canvas. This component holds the view (the followed domain, the lane scroll,
 * the size) and wires the parts to the stores: drawTimeline.ts paints a frame
 * from the model and the view and returns the marks it drew; TimelineInput.ts
 * listens to pointer, wheel and keys, hit-tests against those marks and asks
 * for view changes through callbacks; timelineHook.ts is the tests' handle.
 */

/** The replay clock while a replay is on screen, else null. */
function replayClockShown(): 'occurred' | 'recorded' | null {
  return isReplaying() ? replay.getState().clock : null
}

/** The model as kept here: what is drawn, and the lane mode it was derived for. */
interface Model extends TimelineModel {
  mode: Lanes
}

interface Tip {
  x: number
  y: number
  time: string
  type: string
  title: string
  detail: string
  more: number
}

/**
 * The extent the view fits to before anyone zooms or pans: all events in memory, within reason,
 * but not before `loadedFrom` (where the events the console opened with start: a late report
 * among them may have occurred earlier, and fitting to it would show unloaded time).
 */
function fitSpan(index: TimeIndex, now: number, loadedFrom = Number.NEGATIVE_INFINITY): number {
  const first = index.times[0]
  if (first === undefined) return 15 * MINUTE
  if (first < loadedFrom) return Math.min(30 * DAY, Math.max(MINUTE, now - loadedFrom))
  return Math.min(30 * DAY, Math.max(MINUTE, (now - first) * 1.08))
}

/** Where the events in memory start, for fitting (a replay fits to its own window). */
function fitFrom(view: HistoryView): number {
  return view.live ? liveFrom(view.loaded) : Number.NEGATIVE_INFINITY
}

/** How long the view must rest before older history is read for it. */
const HISTORY_DEBOUNCE_MS = 250

/** What the timeline knows of the history held (live picture only; a replay holds its own window). */
interface HistoryView {
  loaded: Coverage
  loading: boolean
  /** False in replay: nothing is read for it, nothing hatched. */
  live: boolean
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
  const state = watchfloor.getState().state
  const incidentId = incidentOf(event, state)
  const incident = incidentId === undefined ? undefined : state.incidents.get(incidentId)
  let title = incident?.title ?? ''
  if (event.type === 'advisory.published') title = event.payload.title
  else if (event.type === 'network.registered') title = event.payload.name
  // names, not ids (docs/console.md): titles from the picture shown, people from the directory
  const people = namesOf(peopleDirectory.getState().reply).people
  const line = summaryLine(state, event, (userId) => people.get(userId))
  // [M1] the tip carries what it shows: the event, its incident (title, severity) and every
  // incident and task its summary names by title (a linked incident re-reported stricter)
  const tlp = highestTlp([line.tlp, ...(incident ? [incident.contentMarking.tlp] : [])])
  return {
    time: formatTime(event.occurredAt),
    type: `${KIND_LABELS[event.type]}${incident ? ` · ${incident.severity}` : ''} · TLP:${tlp}`,
    title,
    detail: line.text,
    more,
  }
}

/** A run's tooltip: what it is (reports, span), whose observations, and what a click does. */
function tipForRun(runs: ObservationRuns, r: number, m: Model): Omit<Tip, 'x' | 'y'> {
  const incidents = watchfloor.getState().state.incidents
  const ids = incidentsOfRun(runs, r, { lane: m.lane, kind: m.marks.kind, incident: m.marks.incident })
  const only = ids.length === 1 ? incidents.get(ids[0]!) : undefined
  return {
    time: '',
    type: describeRun(runs, r),
    title: only ? only.title : ids.length > 1 ? `${ids.length} incidents` : (ids[0] ?? ''),
    detail: only
      ? `${only.incidentId} · ${only.severity} · click to select`
      : 'Observations: each (in the bar above) shows every report',
    more: 0,
  }
}

/**
 * The tooltip of what is under the pointer: a lane label in full (a network's full name and nation code),
 * a run of observations, or a mark's event (and how many share its cell).
 */
function tipAt(
  target: HoverTarget,
  m: Model,
  cells: Cells | null,
  runs: ObservationRuns | null,
  domain: Domain,
  width: number,
): Tip | null {
  const { x, y } = target
  if (target.kind === 'lane') {
    const lane = m.lanes[target.lane]
    return lane
      ? { x, y, time: '', type: lane.detail ?? '', title: lane.title ?? lane.label, detail: '', more: 0 }
      : null
  }
  if (target.kind === 'run') return runs && target.run < runs.count ? { x, y, ...tipForRun(runs, target.run, m) } : null
  const i = target.index
  const more = cells ? othersInCell(cells, timeToX(domain, plotWidth(width), m.index.times[i]!), m.lane[i]!) : 0
  return { x, y, ...tipFor(m.index.events[i]!, more) }
}

export function Timeline(): JSX.Element {
  const events = useThrottled(useFilteredEvents())
  const state = useWatchfloor((s) => s.state)
  const mode = useView((v) => v.lanes)
  const observations = useView((v) => v.observations)
  const range = useView((v) => v.range)
  const selection = useView((v) => v.selection)
  const loaded = useWatchfloor((s) => s.loaded)
  const historyLoading = useWatchfloor((s) => s.historyLoading)
  const historyError = useWatchfloor((s) => s.historyError)
  const dataMode = useWatchfloor((s) => s.mode)

  const previousIndex = useRef<TimeIndex | null>(null)
  const index = useMemo(() => {
    const next = updateTimeIndex(previousIndex.current, events)
    previousIndex.current = next
    return next
  }, [events])
  // per batch, only the new events and the picture's incidents are looked at (see model.ts);
  // task events find their incident through the picture's tasks
  const cache = useRef<TimelineCache | null>(null)
  const { lanes, lane, marks } = useMemo(() => {
    cache.current ??= emptyTimelineCache()
    return deriveTimeline(cache.current, index, mode, state.networks, {
      incidents: state.incidents,
      tasks: state.tasks,
    })
  }, [index, mode, state.networks, state.incidents, state.tasks])

  const sectionRef = useRef<HTMLElement>(null)
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const wrapRef = useRef<HTMLDivElement>(null)
  // the view: read by each frame and each input event, so kept in refs (a change redraws, not re-renders)
  const model = useRef<Model>({ index, lanes, lane, marks, mode, range, selection, observations })
  const history = useRef<HistoryView>({ loaded: NO_COVERAGE, loading: false, live: true })
  const follow = useRef<Follow>(initialFollow(displayNow(), fitSpan(index, displayNow())))
  const historyTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const touched = useRef(false)
  const scrollY = useRef(0)
  const size = useRef({ w: 0, h: 0 })
  /** The marks and the observation runs drawn last, for hit-testing. */
  const cells = useRef<Cells | null>(null)
  const runs = useRef<ObservationRuns | null>(null)
  const input = useRef<TimelineInput | null>(null)
  const frame = useRef(0)
  const [live, setLive] = useState(true)
  const [tip, setTip] = useState<Tip | null>(null)

  const draw = useCallback(() => {
    frame.current = 0
    const canvas = canvasRef.current
    if (!canvas) return
    const m = model.current
    const { w, h } = size.current
    scrollY.current = clampScroll(scrollY.current, m.lanes.length, h)
    const shown = history.current
    const domain = follow.current.domain
    const drawn = drawTimeline(canvas, {
      unloaded: shown.live && !isReplaying() ? missingRanges(shown.loaded, domain) : [],
      historyLoading: shown.loading,
      width: w,
      height: h,
      dpr: window.devicePixelRatio || 1,
      domain: follow.current.domain,
      live: follow.current.live,
      scrollY: scrollY.current,
      model: m,
      brush: input.current?.brush ?? null,
      hover: input.current?.hover ?? -1,
      hoverRun: input.current?.hoverRun ?? -1,
      now: displayNow(),
      lateTicks: replayClockShown() === 'occurred',
      // replaying, the lanes are what happened up to the playhead: none yet is not an empty window
      empty: emptyText(replay.getState()),
    })
    cells.current = drawn.cells
    runs.current = drawn.runs
    if (drawn.painted) input.current?.recheckHover()
  }, [])

  const requestDraw = useCallback(() => {
    if (frame.current === 0) frame.current = requestAnimationFrame(draw)
  }, [draw])

  /** Once the view rests after a move: read the older history it shows that is not in memory yet. */
  const askHistory = useCallback(() => {
    if (historyTimer.current !== undefined) clearTimeout(historyTimer.current)
    historyTimer.current = setTimeout(() => {
      historyTimer.current = undefined
      if (!history.current.live || isReplaying()) return
      const { from, to } = follow.current.domain
      void loadHistory({ from, to })
    }, HISTORY_DEBOUNCE_MS)
  }, [])
  useEffect(() => () => clearTimeout(historyTimer.current), [])

  const dispatch = useCallback(
    (action: FollowAction) => {
      if (action.type === 'user' || action.type === 'live') touched.current = true
      const next = followReducer(follow.current, action)
      if (next === follow.current) return
      follow.current = next
      setLive(next.live)
      // only a move by someone reads history: fitting to what is loaded never does
      if (action.type === 'user') askHistory()
      requestDraw()
    },
    [requestDraw, askHistory],
  )

  // what is loaded changed: hatch the rest
  useEffect(() => {
    history.current = { loaded, loading: historyLoading !== null, live: dataMode === 'live' }
    requestDraw()
  }, [loaded, historyLoading, dataMode, requestDraw])

  // new data or view: swap the model, follow now, refit while untouched
  useLayoutEffect(() => {
    const before = model.current
    model.current = { index, lanes, lane, marks, mode, range, selection, observations }
    if (before.mode !== mode) scrollY.current = 0
    if (before.observations !== observations) input.current?.forgetHover()
    const now = displayNow()
    if (!touched.current) dispatch({ type: 'fit', span: fitSpan(index, now, fitFrom(history.current)), now })
    else dispatch({ type: 'tick', now })
    if (before.index !== index) input.current?.forgetHover()
    requestDraw()
  }, [index, lanes, lane, marks, mode, range, selection, observations, dispatch, requestDraw])

  // each second: live follows now (and the now line moves)
  useEffect(() => {
    const timer = setInterval(() => {
      const now = displayNow()
      if (!touched.current)
        dispatch({ type: 'fit', span: fitSpan(model.current.index, now, fitFrom(history.current)), now })
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

  const moveTo = useCallback((domain: Domain) => dispatch({ type: 'user', domain, now: displayNow() }), [dispatch])

  // input: gestures on the canvas and keys on the section become view changes
  useEffect(() => {
    const canvas = canvasRef.current
    const root = sectionRef.current
    if (!canvas || !root) return
    const host: TimelineInputHost = {
      view: () => ({
        domain: follow.current.domain,
        live: follow.current.live,
        width: size.current.w,
        scrollY: scrollY.current,
        maxScroll: maxScroll(model.current.lanes.length, size.current.h),
        laneCount: model.current.lanes.length,
        cells: cells.current,
        runs: runs.current,
      }),
      moveTo,
      scrollTo: (y) => {
        scrollY.current = y
        requestDraw()
      },
      goLive: () => dispatch({ type: 'live', now: displayNow() }),
      pick: (i) => {
        const incidentId = model.current.marks.incident[i]
        if (incidentId !== undefined) viewStore.getState().select(incidentId)
      },
      setRange: (r) => viewStore.getState().setRange(r),
      hover: (target) =>
        setTip(
          target && tipAt(target, model.current, cells.current, runs.current, follow.current.domain, size.current.w),
        ),
      redraw: requestDraw,
    }
    const created = new TimelineInput(canvas, root, host)
    input.current = created
    return () => {
      created.destroy()
      if (input.current === created) input.current = null
    }
  }, [dispatch, moveTo, requestDraw])

  // test hook
  useEffect(
    () =>
      installTimelineHook(
        createTimelineHook({
          cells: () => cells.current,
          runs: () => runs.current,
          model: () => model.current,
          size: () => size.current,
          domain: () => follow.current.domain,
          scrollY: () => scrollY.current,
          scrollTo: (y) => {
            scrollY.current = y
          },
          moveTo,
          drawNow: () => {
            if (frame.current) cancelAnimationFrame(frame.current)
            draw()
          },
        }),
      ),
    [draw, moveTo],
  )

  const goLive = () => dispatch({ type: 'live', now: displayNow() })
  const toggleLanes = () => viewStore.getState().setLanes(mode === 'network' ? 'incident' : 'network')
  const toggleObservations = () => viewStore.getState().setObservations(observations === 'runs' ? 'each' : 'runs')

  return (
    <section
      className="timeline"
      data-testid="timeline"
      aria-label="Timeline: + and - zoom, arrows pan, l follows live, Escape clears the range"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: keyboard-operable: +/- zoom, arrows pan, l live, Escape
      tabIndex={0}
      ref={sectionRef}
    >
      <div className={`timeline-bar${range ? ' has-range' : ''}`}>
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
          className="timeline-btn"
          data-testid="timeline-observations"
          data-mode={observations}
          aria-pressed={observations === 'each'}
          title={
            observations === 'runs'
              ? 'Observations folded into runs (a band with the number of reports): show each one'
              : 'Each observation its own tick: fold them into runs'
          }
          onClick={toggleObservations}
        >
          Observations: {observations}
        </button>
        <FollowButton live={live} onClick={goLive} />
        {(historyLoading || historyError) && (
          <span
            className="timeline-history muted"
            data-testid="timeline-history"
            data-state={historyLoading ? 'loading' : 'error'}
            title={historyError ?? undefined}
          >
            {historyLoading ? 'Loading older events…' : `Older events: ${historyError}`}
          </span>
        )}
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
        <Legend observations={observations} />
      </div>
      <div className="timeline-canvas-wrap" ref={wrapRef}>
        <canvas ref={canvasRef} className="timeline-canvas" data-testid="timeline-canvas" />
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

function Legend({ observations }: { observations: ObservationMode }) {
  return (
    <span className="timeline-legend" title="Legend">
      {SEVERITIES_DESCENDING.map((s) => (
        <span key={s} className="timeline-key">
          <i className="dot" style={{ background: SEVERITY_COLOURS[s] }} />
          {s}
        </span>
      ))}
      <span className="timeline-key">
        <i
          className={observations === 'runs' ? 'band' : 'tick'}
          style={{ background: SEVERITY_COLOURS.medium, borderColor: SEVERITY_COLOURS.medium }}
        />
        {observations === 'runs' ? 'observations' : 'observation'}
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

/**
 * Follows now (live) or, in a replay, the playhead: a replay is labelled REPLAY with the
 * playhead's time, never "Live". Its own component, so the moving playhead re-renders only it.
 */
function FollowButton({ live, onClick }: { live: boolean; onClick: () => void }) {
  const replaying = useStore(replay, (s) => s.active)
  const at = useStore(replay, (s) => Math.floor(s.at / 1000) * 1000)
  if (replaying)
    return (
      <button
        type="button"
        className={`timeline-btn replay${live ? ' on' : ''}`}
        data-testid="timeline-live"
        data-live={String(live)}
        data-mode="replay"
        aria-pressed={live}
        title={live ? 'Following the replay playhead' : 'Follow the playhead (l)'}
        onClick={onClick}
      >
        {live ? `▶ REPLAY ${formatTime(new Date(at).toISOString())}` : 'REPLAY: follow playhead'}
      </button>
    )
  return (
    <button
      type="button"
      className={`timeline-btn live${live ? ' on' : ''}`}
      data-testid="timeline-live"
      data-live={String(live)}
      data-mode="live"
      aria-pressed={live}
      title={live ? 'Following now' : 'Back to live (l)'}
      onClick={onClick}
    >
      {live ? '● Live' : 'Back to live'}
    </button>
  )
}

/**
 * The replay controller: loads a window (base picture + events), moves a playhead over it and puts
 * the picture at the playhead on screen through the data store (`showReplay`), so the map,
 * timeline, lists and boards show it unchanged. The live connection keeps folding into the live
 * picture meanwhile; leaving replay (`closeReplay`) shows it again with everything that arrived.
 * The replay view is written to the view store, hence to the URL (view.ts).
 */
import { initialState, type State } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { watchfloor } from '../../data/store.ts'
import { historyOf } from '../../view/selectors.ts'
import type { ReplayView } from '../../view/view.ts'
import { viewStore } from '../../view/viewStore.ts'
import { fetchStateAt, fetchWindow } from './api.ts'
import { needsHistory, type ReplayClock, ReplayModel } from './model.ts'
import { setDisplayNow } from './now.ts'
import { idleReplay as idle, type ReplayProgress, type ReplayState, replay } from './replayStore.ts'

export const SPEEDS = [1, 10, 60, 300, 1000, 3600, 36_000] as const

// the state lives in replayStore.ts (in the first load); this module (on demand) drives it
export type { ReplayProgress, ReplayState } from './replayStore.ts'
export { replay }

let generation = 0
let abort: AbortController | null = null
let frameHandle = 0
let lastUrlWrite = 0
/** The events before the window the base picture holds (its `recent`), shown on the timeline and in histories. */
let baseRecent: readonly StoredEvent[] = []
let lastFrame: { state: State; events: StoredEvent[] } | null = null

export interface OpenOptions {
  from: number
  to: number
  clock: ReplayClock
  at?: number
  speed?: number
  incidentId?: string | null
  loop?: boolean
}

/** Load a window and show the picture at `at` (default: its start). */
export async function openReplay(options: OpenOptions): Promise<void> {
  stopPlaying()
  abort?.abort()
  const controller = new AbortController()
  abort = controller
  const mine = ++generation
  const from = Math.min(options.from, options.to)
  const to = Math.max(options.from, options.to)
  const previous = replay.getState()
  replay.setState({
    active: true,
    phase: 'loading',
    clock: options.clock,
    from,
    to,
    at: clamp(options.at ?? from, from, to),
    speed: options.speed ?? previous.speed,
    loop: options.loop ?? previous.loop,
    incidentId: options.incidentId ?? null,
    playing: false,
    progress: { step: 'base', next: 0, head: 0, received: 0 },
    error: null,
    model: null,
  })
  writeUrl(true)
  const progress = (step: ReplayProgress['step']) => (next: number, head: number, received: number) => {
    if (mine === generation) replay.setState({ progress: { step, next, head, received } })
  }
  try {
    const signal = controller.signal
    // the window is half-open [from, to): ask for 1 ms more so the playhead can stand on `to`
    const [base, events] = await Promise.all([
      fetchStateAt(from, options.clock),
      fetchWindow({ from, to: to + 1, clock: options.clock }, progress('events'), { signal }),
    ])
    if (mine !== generation) return
    let model: ReplayModel
    if (needsHistory(base, events, options.clock, from)) {
      // a late report in the base overtakes window events: fold the history before the window too
      const before = await fetchWindow({ to: from, clock: options.clock }, progress('history'), { signal })
      if (mine !== generation) return
      const seqs = new Set(before.map((e) => e.seq))
      const merged = [...before, ...events.filter((e) => !seqs.has(e.seq))].sort((a, b) => a.seq - b.seq)
      model = new ReplayModel(initialState, merged, options.clock, {
        always: (e) => seqs.has(e.seq),
      })
      baseRecent = []
    } else {
      model = new ReplayModel(base, events, options.clock)
      baseRecent = base.recent
    }
    lastFrame = null
    replay.setState({ phase: 'ready', model, progress: null, total: events.length })
    seek(replay.getState().at, true)
  } catch (error) {
    if (mine !== generation || controller.signal.aborted) return
    replay.setState({
      phase: 'error',
      error: `Replay could not load: ${String(error instanceof Error ? error.message : error)}`,
    })
  }
}

const clamp = (t: number, from: number, to: number) => Math.min(to, Math.max(from, t))

/** Move the playhead and show the picture there. */
export function seek(t: number, force = false): void {
  const s = replay.getState()
  if (!s.active) return
  const at = clamp(t, s.from, s.to)
  setDisplayNow(at)
  if (!s.model) {
    replay.setState({ at })
    return
  }
  const frame = s.model.at(at)
  if (force || lastFrame?.state !== frame.state || lastFrame.events.length !== frame.events.length) {
    lastFrame = frame
    const window = baseRecent.length > 0 ? [...baseRecent, ...frame.events] : frame.events
    watchfloor.getState().showReplay(frame.state, window)
  }
  replay.setState({ at, folded: frame.events.length })
  writeUrl(force || !s.playing)
}

export function play(): void {
  const s = replay.getState()
  if (!s.active || s.phase !== 'ready' || s.playing) return
  if (s.at >= s.to) seek(s.from)
  replay.setState({ playing: true })
  let last = performance.now()
  const tick = (now: number) => {
    const r = replay.getState()
    if (!r.playing) return
    const next = r.at + (now - last) * r.speed
    last = now
    if (next >= r.to) {
      if (r.loop) seek(r.from)
      else {
        seek(r.to)
        pause()
        return
      }
    } else seek(next)
    frameHandle = requestAnimationFrame(tick)
  }
  frameHandle = requestAnimationFrame(tick)
}

function stopPlaying(): void {
  if (frameHandle) cancelAnimationFrame(frameHandle)
  frameHandle = 0
}

export function pause(): void {
  stopPlaying()
  if (replay.getState().playing) replay.setState({ playing: false })
  writeUrl(true)
}

/** Step to the next (`+1`) or previous (`-1`) event time; the window's end or start when there is none. */
/** Move the playhead to the next (or previous) event's time; with `significant`, of anything but an observation. */
export function step(direction: 1 | -1, significant = false): void {
  const s = replay.getState()
  if (!s.model) return
  pause()
  const t = direction > 0 ? s.model.nextTime(s.at, significant) : s.model.previousTime(s.at, significant)
  seek(t ?? (direction > 0 ? s.to : s.from), true)
}

export function setSpeed(speed: number): void {
  replay.setState({ speed })
  writeUrl(true)
}

export function setLoop(loop: boolean): void {
  replay.setState({ loop })
}

/** Reload the same window on the other clock, at the same moment. */
export function setClock(clock: ReplayClock): void {
  const s = replay.getState()
  if (!s.active || s.clock === clock) return
  void openReplay({ from: s.from, to: s.to, clock, at: s.at, incidentId: s.incidentId })
}

/** Leave replay: the live picture again, with everything that arrived meanwhile. */
export function closeReplay(): void {
  stopPlaying()
  abort?.abort()
  generation++
  lastFrame = null
  baseRecent = []
  setDisplayNow(null)
  const wasActive = replay.getState().active
  replay.setState({ ...idle, speed: replay.getState().speed, clock: replay.getState().clock })
  if (wasActive || watchfloor.getState().mode === 'replay') watchfloor.getState().showLive()
  viewStore.getState().setReplay(null)
}

/** The replay view for the URL. */
export function replayView(s: ReplayState = replay.getState()): ReplayView | null {
  if (!s.active) return null
  return { clock: s.clock, from: s.from, to: s.to, at: Math.round(s.at), speed: s.speed, incidentId: s.incidentId }
}

/** Write the replay view to the view store (and so the URL); while playing at most twice a second. */
function writeUrl(now: boolean): void {
  const t = performance.now()
  if (!now && t - lastUrlWrite < 500) return
  lastUrlWrite = t
  viewStore.getState().setReplay(replayView())
}

/** The window of an incident: its first to its last event on the clock, a minute either side. */
export function incidentWindow(
  events: readonly StoredEvent[],
  clock: ReplayClock,
  fallback?: { reportedAt: string; updatedAt: string },
  padMs = 60_000,
): { from: number; to: number } | null {
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  for (const event of events) {
    const t = Date.parse(clock === 'recorded' ? event.recordedAt : event.occurredAt)
    if (!Number.isFinite(t)) continue
    first = Math.min(first, t)
    last = Math.max(last, t)
  }
  if (!Number.isFinite(first) && fallback) {
    first = Date.parse(fallback.reportedAt)
    last = Date.parse(fallback.updatedAt)
  }
  if (!Number.isFinite(first) || !Number.isFinite(last)) return null
  return { from: first - padMs, to: last + padMs }
}

/** Replay one incident's window (from the live picture's history of it). */
export function replayIncident(incidentId: string, clock: ReplayClock = replay.getState().clock): boolean {
  const data = watchfloor.getState()
  const incident = data.liveState.incidents.get(incidentId)
  const window = incidentWindow(historyOf(data.liveWindow, incidentId, data.liveState), clock, incident)
  if (!window) return false
  // the event window may not reach back to its report (an older incident: only recent history is
  // in memory, data/history.ts): the replay starts at the report all the same
  const reported = incident ? Date.parse(incident.reportedAt) - 60_000 : Number.NaN
  if (reported < window.from) window.from = reported
  void openReplay({ ...window, clock, incidentId })
  viewStore.getState().select(incidentId)
  return true
}

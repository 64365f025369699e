import {
  fold,
  initialState,
  type NetworkPosture,
  networkPostures,
  type Omitted,
  openCountsBySeverity,
  recentActivity,
  type State,
} from '@watchfloor/core'
import type { SessionReply, Severity, StoredEvent } from '@watchfloor/protocol'
import { useStore } from 'zustand'
import { createStore } from 'zustand/vanilla'
import { countMinutes, MinuteCounts } from './activity.ts'
import { addCoverage, type Coverage, mergeBySeq, NO_COVERAGE, type TimeRange, trimCoverage } from './history.ts'
import { DEFAULT_RETENTION, firstKept, leaveOut, pruneState, type Retention } from './retention.ts'

/** `outdated`: the server refused this console's protocol version (`protocol_mismatch`); only a reload helps. */
export type ConnectionStatus =
  | 'signed-out'
  | 'connecting'
  | 'live'
  | 'reconnecting'
  | 'resyncing'
  | 'revoked'
  | 'outdated'

/** How far the reads of an opening console are (status 'connecting' meanwhile). */
export interface OpeningProgress {
  /** The snapshot (`GET /api/v1/state`), then the recent events. */
  step: 'picture' | 'events'
  /** Events read so far. */
  received: number
  /** The seq reached, of `last` (the snapshot's seq). */
  next: number
  last: number
}

/** What the console opened from: the snapshot's seq, the recent events read with it, and from when they are complete. */
export interface Opened {
  seq: number
  events: number
  from: number
}

/** Who the server says I am (`GET /api/v1/session`). */
export type Session = SessionReply

export interface WatchfloorState {
  status: ConnectionStatus
  /** The client's cursor: every event up to it that this viewer may see has been folded. */
  lastSeq: number
  /** The highest log seq the server has told us about (ack head, heartbeat, checkpoint). */
  headSeq: number
  /**
   * The picture, folded with core `fold` from exactly the events this viewer was sent onto the
   * live picture it opened with (`GET /api/v1/state?scope=live`). Its `seq` may be ahead of
   * `lastSeq` after a refresh (`refreshPicture`): events up to it still join the window, unfolded.
   */
  state: State
  /**
   * What the live picture leaves out of the viewer's whole picture (core's `Omitted`: closed
   * incidents and advisories older than its `since`), with what the retention pruned since (see
   * retention.ts `leaveOut`), or null when it holds everything (or none yet).
   */
  omitted: Omitted | null
  session: Session | null
  /** The last connection problem worth showing (cleared when live again). */
  error: string | null
  /** Why the last "view as" was refused (data/session.ts `setViewAs`), until the next one or sign-out. */
  viewAsError: string | null
  /**
   * The events received, oldest first, at most `WINDOW_MAX` (for the timeline and
   * incident histories). Appended in place; `windowVersion` changes whenever it does.
   */
  window: StoredEvent[]
  windowVersion: number
  /**
   * Events per minute of occurredAt (all events, also those the window does not keep); changes with
   * `windowVersion`. Complete from `activityFrom` on: the recent events read at open and what
   * arrived live since (not older history read later).
   */
  activity: MinuteCounts
  /** Epoch ms from which `activity` counts every event (-Infinity: from the start of the log). */
  activityFrom: number
  /**
   * The times the live event window is complete for (data/history.ts): from the recent window the
   * console opened with to the live end, plus older ranges read on demand; shrinks as the
   * retention drops events.
   */
  loaded: Coverage
  /** While an opening console reads its picture; null otherwise. */
  opening: OpeningProgress | null
  /** The last open from a snapshot (null: none since the picture was emptied). */
  opened: Opened | null
  /** The `after` of the last subscribe sent (null: none yet). */
  subscribedAfter: number | null
  /** Older history being read (the range), or null. */
  historyLoading: TimeRange | null
  /** Why the last read of older history failed (cleared by the next one). */
  historyError: string | null
  /** What is kept in memory (see retention.ts). */
  retention: Retention
  /** The newest occurredAt folded (epoch ms, 0 before any); the data clock is the later of it and now. */
  newestAt: number
  /** When the server was last heard from (events, checkpoint, heartbeat, subscribe ack): local epoch ms, 0 = never. */
  lastMessageAt: number
  /**
   * The server's clock less this machine's, from the last heartbeat's `serverTime` (ms; 0 until
   * one came): a kiosk whose clock drifts still times what the server stamped (`serverNow`).
   */
  clockOffsetMs: number
  /**
   * What `state`, `window` and `windowVersion` show: the live picture, or a replay (features/replay).
   * In live mode they are the live fields below (the same objects); in replay mode they hold the
   * replay picture at the playhead while the live fields keep folding what arrives.
   */
  mode: 'live' | 'replay'
  /** The live picture, always folding (=== `state` in live mode). */
  liveState: State
  /** The live event window (=== `window` in live mode); `liveWindowVersion` changes whenever it does. */
  liveWindow: StoredEvent[]
  liveWindowVersion: number
}

/** Events kept in memory for the timeline and histories (by default; see `retention`). */
export const WINDOW_MAX = DEFAULT_RETENTION.maxEvents

export interface WatchfloorActions {
  /** Fold one `events` message: one fold per batch; events at or below `lastSeq` (or out of order) are dropped. */
  applyEvents(events: readonly StoredEvent[]): void
  /**
   * Put a snapshot on screen (an empty picture opening): `state` at seq N (the server's
   * projection, `stateFromJson`), the recent events up to N (seq order), complete for `covered`.
   * The cursor becomes N, so the stream resumes after it. `include`: what the picture was asked to
   * include, kept whatever the retention says (see `refreshPicture`).
   */
  openPicture(
    state: State,
    events: readonly StoredEvent[],
    covered: TimeRange,
    omitted?: Omitted | null,
    include?: ReadonlySet<string>,
  ): void
  /**
   * Put a fresher live picture in place of the live one (asked for because an event named what the
   * picture left out, or the user opened something left out): `state` at a seq at or after
   * `lastSeq`, else nothing changes and false is returned. The window stays; events up to its seq
   * that arrive later join the window without being folded again. `include`: what it was asked to
   * include, kept whatever the retention says (the event that named it may not be folded yet).
   */
  refreshPicture(state: State, omitted: Omitted | null, include?: ReadonlySet<string>): boolean
  /** Add older events (seq order, at or below the cursor) read for `covered` to the live window. */
  addHistory(events: readonly StoredEvent[], covered: TimeRange): void
  setOpening(progress: OpeningProgress | null): void
  setSubscribedAfter(after: number | null): void
  setHistoryLoading(range: TimeRange | null, error?: string | null): void
  /** Everything visible up to `seq` has been sent: advance the cursor. */
  checkpoint(seq: number): void
  /** The server's head (also a checkpoint). */
  heartbeat(seq: number): void
  /** The subscribe ack's head. */
  setHead(seq: number): void
  setStatus(status: ConnectionStatus, error?: string | null): void
  setSession(session: Session | null): void
  setError(error: string | null): void
  setViewAsError(error: string | null): void
  /** Back to signed-out with an empty picture. */
  reset(error?: string | null): void
  setRetention(retention: Retention): void
  /** Something arrived from the server (keeps the connection watchdog quiet). */
  heard(): void
  /** A heartbeat's `serverTime`: the server's clock now. */
  serverTime(iso: string): void
  /** Show a replay picture (enters replay mode); live keeps folding in the background. */
  showReplay(state: State, window: StoredEvent[]): void
  /** Back to the live picture, with everything that arrived meanwhile. */
  showLive(): void
}

export type WatchfloorStore = WatchfloorState & WatchfloorActions

const initial: WatchfloorState = {
  status: 'signed-out',
  lastSeq: 0,
  headSeq: 0,
  state: initialState,
  omitted: null,
  session: null,
  error: null,
  viewAsError: null,
  window: [],
  windowVersion: 0,
  activity: new MinuteCounts(),
  activityFrom: Number.NEGATIVE_INFINITY,
  loaded: NO_COVERAGE,
  opening: null,
  opened: null,
  subscribedAfter: null,
  historyLoading: null,
  historyError: null,
  retention: DEFAULT_RETENTION,
  newestAt: 0,
  lastMessageAt: 0,
  clockOffsetMs: 0,
  mode: 'live',
  liveState: initialState,
  liveWindow: [],
  liveWindowVersion: 0,
}

/**
 * An empty picture (live mode), with one fresh window array shared by `window` and `liveWindow`,
 * fresh activity counts (for what `retention` keeps) and nothing loaded: what a new viewer starts from.
 */
export function emptyPicture(
  windowVersion: number,
  retention: Retention = DEFAULT_RETENTION,
): Partial<WatchfloorState> {
  const window: StoredEvent[] = []
  return {
    mode: 'live',
    state: initialState,
    liveState: initialState,
    omitted: null,
    window,
    liveWindow: window,
    windowVersion: windowVersion + 1,
    liveWindowVersion: windowVersion + 1,
    activity: new MinuteCounts(countMinutes(retention.hours)),
    activityFrom: Number.NEGATIVE_INFINITY,
    loaded: NO_COVERAGE,
    opened: null,
    subscribedAfter: null,
    historyLoading: null,
    historyError: null,
    newestAt: 0,
  }
}

/** Where the coverage of a window must start once its events before `window[dropped]` are gone. */
function afterDropped(window: readonly StoredEvent[], dropped: number): number {
  // the events left all have a higher seq, so were recorded at or after the last one dropped: those that
  // occurred after its millisecond are all still here
  const last = window[dropped - 1]
  return last === undefined ? Number.NEGATIVE_INFINITY : Date.parse(last.recordedAt) + 1
}

/** How far the data clock moves between two prunes of the picture. */
const PRUNE_EVERY_MS = 60_000
/**
 * How far ahead of the server's clock (the event's `recordedAt`, stamped by the server) an event's
 * occurredAt may carry the data clock. The data clock follows the data, so a kiosk whose own clock
 * is behind still prunes by the server's time; but one event from a sensor whose clock is ahead by
 * more is shown without moving retention's clock (which would prune the whole picture at once, then
 * not again until real time caught up) or the density strip's newest minute.
 */
export const AHEAD_MS = 5 * 60_000

/** An event's time for the data clock: its occurredAt (ms), at most `AHEAD_MS` after its recordedAt. */
export function dataTime(occurred: number, recordedAt: string): number {
  const recorded = Date.parse(recordedAt)
  return Number.isNaN(recorded) ? occurred : Math.min(occurred, recorded + AHEAD_MS)
}

/**
 * Keep only the events strictly after `after`, in strictly increasing seq order.
 * Returns the input array itself when nothing is dropped (the usual case).
 */
export function freshEvents(events: readonly StoredEvent[], after: number): readonly StoredEvent[] {
  let last = after
  let clean = true
  for (const event of events) {
    if (event.seq <= last) {
      clean = false
      break
    }
    last = event.seq
  }
  if (clean) return events
  const kept: StoredEvent[] = []
  last = after
  for (const event of events) {
    if (event.seq <= last) continue
    kept.push(event)
    last = event.seq
  }
  return kept
}

/** A fresh store (the app uses the `watchfloor` singleton; tests make their own). */
export function createWatchfloorStore() {
  let prunedAt = 0
  return createStore<WatchfloorStore>()((set, get) => ({
    ...initial,
    ...emptyPicture(0),
    applyEvents(events) {
      const { lastSeq, liveState: state, headSeq, liveWindow: window, activity, retention, mode } = get()
      const fresh = freshEvents(events, lastSeq)
      if (fresh.length === 0) {
        if (events.length > 0) set({ lastMessageAt: Date.now() })
        return
      }
      // after a refresh the picture may be ahead of the stream: what it holds joins the window only
      // (fold skips events at or below the picture's seq)
      let next = fold(state, fresh)
      const through = fresh.at(-1)!.seq
      let newest = get().newestAt
      let loaded = get().loaded
      for (const event of fresh) {
        const occurred = Date.parse(event.occurredAt)
        const at = dataTime(occurred, event.recordedAt)
        // one far ahead of when the server recorded it is not counted in the strip
        if (at === occurred) activity.add(at, 1, event.marking.tlp)
        if (at > newest) newest = at
        if (retention.keep === undefined || retention.keep(event)) window.push(event)
      }
      const now = Date.now()
      // retention's clock is the server's, as the times it prunes by (a kiosk's may be hours off)
      const dataNow = Math.max(newest, serverNow(now, get().clockOffsetMs))
      let omitted = get().omitted
      const maxEvents = Math.max(0, retention.maxEvents)
      if (window.length > maxEvents * 1.1 || (maxEvents === 0 && window.length > 0)) {
        const drop = window.length - maxEvents
        loaded = trimCoverage(loaded, afterDropped(window, drop))
        window.splice(0, drop)
      }
      if (Number.isFinite(retention.hours) && dataNow - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = dataNow
        const before = dataNow - retention.hours * 3_600_000
        const pruned = pruneState(next, before)
        next = pruned.state
        omitted = leaveOut(omitted, pruned, before)
        const drop = firstKept(window, before)
        if (drop > 0) window.splice(0, drop)
        loaded = trimCoverage(loaded, before)
      }
      const liveWindowVersion = get().liveWindowVersion + 1
      set({
        ...(mode === 'live' ? { window, windowVersion: get().windowVersion + 1, state: next } : {}),
        liveWindow: window,
        liveWindowVersion,
        liveState: next,
        lastSeq: Math.max(lastSeq, through),
        headSeq: Math.max(headSeq, through),
        newestAt: newest,
        lastMessageAt: now,
        ...(loaded === get().loaded ? {} : { loaded }),
        ...(omitted === get().omitted ? {} : { omitted }),
      })
    },
    openPicture(snapshot, events, covered, omitted = null, include) {
      const { retention, mode, windowVersion, liveWindowVersion } = get()
      const activity = new MinuteCounts(countMinutes(retention.hours))
      const window: StoredEvent[] = []
      let newest = 0
      let last = 0
      for (const event of events) {
        if (event.seq <= last || event.seq > snapshot.seq) continue // seq order, none beyond the snapshot
        last = event.seq
        const occurred = Date.parse(event.occurredAt)
        const at = dataTime(occurred, event.recordedAt)
        // one far ahead of when the server recorded it is not counted in the strip
        if (at === occurred) activity.add(at, 1, event.marking.tlp)
        if (at > newest) newest = at
        if (retention.keep === undefined || retention.keep(event)) window.push(event)
      }
      for (const event of snapshot.recent)
        newest = Math.max(newest, dataTime(Date.parse(event.occurredAt), event.recordedAt) || 0)
      let state = snapshot
      let loaded = addCoverage(NO_COVERAGE, covered)
      const maxEvents = Math.max(0, retention.maxEvents)
      if (window.length > maxEvents) {
        const drop = window.length - maxEvents
        loaded = trimCoverage(loaded, afterDropped(window, drop))
        window.splice(0, drop)
      }
      prunedAt = 0
      if (Number.isFinite(retention.hours)) {
        const dataNow = Math.max(newest, serverNow(Date.now(), get().clockOffsetMs))
        prunedAt = dataNow
        const before = dataNow - retention.hours * 3_600_000
        const pruned = pruneState(state, before, include)
        state = pruned.state
        omitted = leaveOut(omitted, pruned, before)
        const drop = firstKept(window, before)
        if (drop > 0) window.splice(0, drop)
        loaded = trimCoverage(loaded, before)
      }
      const version = Math.max(windowVersion, liveWindowVersion) + 1
      set({
        ...(mode === 'live' ? { window, windowVersion: version, state } : {}),
        liveWindow: window,
        liveWindowVersion: version,
        liveState: state,
        activity,
        activityFrom: covered.from,
        loaded,
        lastSeq: snapshot.seq,
        headSeq: Math.max(get().headSeq, snapshot.seq),
        newestAt: newest,
        opened: { seq: snapshot.seq, events: events.length, from: covered.from },
        opening: null,
        omitted,
        lastMessageAt: Date.now(),
      })
    },
    refreshPicture(snapshot, fromServer, include) {
      const { lastSeq, retention, mode, newestAt, clockOffsetMs } = get()
      if (snapshot.seq < lastSeq) return false
      let state = snapshot
      let omitted = fromServer
      if (Number.isFinite(retention.hours)) {
        const before = Math.max(newestAt, serverNow(Date.now(), clockOffsetMs)) - retention.hours * 3_600_000
        const pruned = pruneState(state, before, include)
        state = pruned.state
        omitted = leaveOut(omitted, pruned, before)
      }
      set({
        ...(mode === 'live' ? { state } : {}),
        liveState: state,
        omitted,
        headSeq: Math.max(get().headSeq, snapshot.seq),
        lastMessageAt: Date.now(),
      })
      return true
    },
    addHistory(events, covered) {
      const { liveWindow, lastSeq, retention, mode } = get()
      const kept = events.filter(
        (event) => event.seq <= lastSeq && (retention.keep === undefined || retention.keep(event)),
      )
      let loaded = addCoverage(get().loaded, covered)
      const merged = mergeBySeq(kept, liveWindow)
      if (merged === null) {
        set({ loaded, historyLoading: null, historyError: null })
        return
      }
      const maxEvents = Math.max(0, retention.maxEvents)
      if (merged.length > maxEvents) {
        const drop = merged.length - maxEvents
        loaded = trimCoverage(loaded, afterDropped(merged, drop))
        merged.splice(0, drop)
      }
      const liveWindowVersion = get().liveWindowVersion + 1
      set({
        ...(mode === 'live' ? { window: merged, windowVersion: get().windowVersion + 1 } : {}),
        liveWindow: merged,
        liveWindowVersion,
        loaded,
        historyLoading: null,
        historyError: null,
      })
    },
    setOpening(opening) {
      set({ opening })
    },
    setSubscribedAfter(subscribedAfter) {
      set({ subscribedAfter })
    },
    setHistoryLoading(historyLoading, historyError) {
      set(historyError === undefined ? { historyLoading } : { historyLoading, historyError })
    },
    checkpoint(seq) {
      const { lastSeq, headSeq } = get()
      if (seq <= lastSeq) {
        get().heard()
        return
      }
      set({ lastSeq: seq, headSeq: Math.max(headSeq, seq), lastMessageAt: Date.now() })
    },
    heartbeat(seq) {
      get().checkpoint(seq)
      get().setHead(seq)
    },
    setHead(seq) {
      if (seq > get().headSeq) set({ headSeq: seq })
    },
    setStatus(status, error) {
      set(error === undefined ? { status } : { status, error })
    },
    setSession(session) {
      set({ session })
    },
    setError(error) {
      set({ error })
    },
    setViewAsError(viewAsError) {
      if (viewAsError !== get().viewAsError) set({ viewAsError })
    },
    reset(error = null) {
      prunedAt = 0
      set({
        ...initial,
        ...emptyPicture(get().windowVersion, get().retention),
        retention: get().retention,
        error,
      })
    },
    setRetention(retention) {
      prunedAt = 0
      const keep = countMinutes(retention.hours)
      // the counts keep what the new retention may show (what they hold so far stays)
      const { activity } = get()
      set(activity.keepMinutes === keep ? { retention } : { retention, activity: activity.resized(keep) })
    },
    heard() {
      set({ lastMessageAt: Date.now() })
    },
    serverTime(iso) {
      const offset = Date.parse(iso) - Date.now()
      // a second either way is the network's, not a clock's: kept as it was, so nothing re-renders
      if (Number.isFinite(offset) && Math.abs(offset - get().clockOffsetMs) > 1_000) {
        prunedAt = 0 // retention's clock moved (maybe back): prune by the new one at the next batch
        set({ clockOffsetMs: offset })
      }
    },
    showReplay(state, window) {
      set({ mode: 'replay', state, window, windowVersion: get().windowVersion + 1 })
    },
    showLive() {
      const { liveState, liveWindow, windowVersion } = get()
      set({ mode: 'live', state: liveState, window: liveWindow, windowVersion: windowVersion + 1 })
    },
  }))
}

export const watchfloor = createWatchfloorStore()

declare global {
  interface Window {
    /** The data store, for browser tests and the soak benchmark (read-only use). */
    __watchfloorStore?: typeof watchfloor
  }
}
if (typeof window !== 'undefined') window.__watchfloorStore = watchfloor

/** React hook: `useWatchfloor((s) => s.status)`. Selectors must return stable values (see the memoised ones below). */
export function useWatchfloor<T>(selector: (state: WatchfloorStore) => T): T {
  return useStore(watchfloor, selector)
}

/** Memoise a derivation of the core `State` on the state object's identity (fold returns a new object on change). */
export function memoOnState<T>(derive: (state: State) => T): (state: State) => T {
  let cache: { state: State; value: T } | undefined
  return (state) => {
    if (cache?.state !== state) cache = { state, value: derive(state) }
    return cache.value
  }
}

export const RECENT_SHOWN = 100

const openCounts = memoOnState(openCountsBySeverity)
const recent = memoOnState((state) => recentActivity(state, RECENT_SHOWN))
const postures = memoOnState(networkPostures)

export const selectOpenCounts = (s: WatchfloorState): Record<Severity, number> => openCounts(s.state)
export const selectRecentEvents = (s: WatchfloorState): StoredEvent[] => recent(s.state)
export const selectNetworkPostures = (s: WatchfloorState): NetworkPosture[] => postures(s.state)

/** The server's clock now, as this machine's clock and the last heartbeat say (`clockOffsetMs`). */
export function serverNow(localNow: number, clockOffsetMs: number): number {
  return localNow + clockOffsetMs
}

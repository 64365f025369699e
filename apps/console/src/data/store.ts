import {
  fold,
  initialState,
  type NetworkPosture,
  networkPostures,
  openCountsBySeverity,
  recentActivity,
  type State,
} from '@watchfloor/core'
import type { SessionReply, Severity, StoredEvent } from '@watchfloor/protocol'
import { useStore } from 'zustand'
import { createStore } from 'zustand/vanilla'
import { MinuteCounts } from './activity.ts'
import { DEFAULT_RETENTION, firstKept, pruneState, type Retention } from './retention.ts'

export type ConnectionStatus = 'signed-out' | 'connecting' | 'live' | 'reconnecting' | 'resyncing' | 'revoked'

/** Who the server says I am (`GET /api/v1/session`). */
export type Session = SessionReply

export interface WatchfloorState {
  status: ConnectionStatus
  /** The client's cursor: every event up to it that this viewer may see has been folded. */
  lastSeq: number
  /** The highest log seq the server has told us about (ack head, heartbeat, checkpoint). */
  headSeq: number
  /** The picture, folded with core `fold` from exactly the events this viewer was sent. */
  state: State
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
  /** Events per minute of occurredAt (all events, also those the window does not keep); changes with `windowVersion`. */
  activity: MinuteCounts
  /** What is kept in memory (see retention.ts). */
  retention: Retention
  /** The newest occurredAt folded (epoch ms, 0 before any); the data clock is the later of it and now. */
  newestAt: number
  /** When the server was last heard from (events, checkpoint, heartbeat, subscribe ack): local epoch ms, 0 = never. */
  lastMessageAt: number
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
  session: null,
  error: null,
  viewAsError: null,
  window: [],
  windowVersion: 0,
  activity: new MinuteCounts(),
  retention: DEFAULT_RETENTION,
  newestAt: 0,
  lastMessageAt: 0,
  mode: 'live',
  liveState: initialState,
  liveWindow: [],
  liveWindowVersion: 0,
}

/** An empty picture (live mode), with one fresh window array shared by `window` and `liveWindow`. */
export function emptyPicture(windowVersion: number): Partial<WatchfloorState> {
  const window: StoredEvent[] = []
  return {
    mode: 'live',
    state: initialState,
    liveState: initialState,
    window,
    liveWindow: window,
    windowVersion: windowVersion + 1,
    liveWindowVersion: windowVersion + 1,
  }
}

/** How far the data clock moves between two prunes of the picture. */
const PRUNE_EVERY_MS = 60_000

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
    activity: new MinuteCounts(),
    applyEvents(events) {
      const { lastSeq, liveState: state, headSeq, liveWindow: window, activity, retention, mode } = get()
      const fresh = freshEvents(events, Math.max(lastSeq, state.seq))
      if (fresh.length === 0) {
        if (events.length > 0) set({ lastMessageAt: Date.now() })
        return
      }
      let next = fold(state, fresh)
      let newest = get().newestAt
      for (const event of fresh) {
        const at = Date.parse(event.occurredAt)
        activity.add(at)
        if (at > newest) newest = at
        if (retention.keep === undefined || retention.keep(event)) window.push(event)
      }
      const now = Date.now()
      const dataNow = Math.max(newest, now)
      const maxEvents = Math.max(0, retention.maxEvents)
      if (window.length > maxEvents * 1.1 || (maxEvents === 0 && window.length > 0))
        window.splice(0, window.length - maxEvents)
      if (Number.isFinite(retention.hours) && dataNow - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = dataNow
        const before = dataNow - retention.hours * 3_600_000
        next = pruneState(next, before)
        const drop = firstKept(window, before)
        if (drop > 0) window.splice(0, drop)
      }
      const liveWindowVersion = get().liveWindowVersion + 1
      set({
        ...(mode === 'live' ? { window, windowVersion: get().windowVersion + 1, state: next } : {}),
        liveWindow: window,
        liveWindowVersion,
        liveState: next,
        lastSeq: Math.max(lastSeq, next.seq),
        headSeq: Math.max(headSeq, next.seq),
        newestAt: newest,
        lastMessageAt: now,
      })
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
        ...emptyPicture(get().windowVersion),
        activity: new MinuteCounts(),
        retention: get().retention,
        error,
      })
    },
    setRetention(retention) {
      prunedAt = 0
      set({ retention })
    },
    heard() {
      set({ lastMessageAt: Date.now() })
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

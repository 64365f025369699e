/**
 * What the first load knows of replay: its state (a small store the header, the lists and the
 * timeline read). The machinery that fills it (replay.ts: loading a window, the playhead, the
 * model) and the bar (ReplayBar.tsx) load on demand, when a replay starts (startReplay.ts).
 */
import { useStore } from 'zustand'
import { createStore } from 'zustand/vanilla'
import type { ReplayClock, ReplayModel } from './model.ts'

export interface ReplayProgress {
  /** Which read is running: the base picture, the window's events, the history before it. */
  step: 'base' | 'events' | 'history'
  next: number
  head: number
  received: number
}

export interface ReplayState {
  active: boolean
  phase: 'loading' | 'ready' | 'error'
  clock: ReplayClock
  from: number
  to: number
  at: number
  speed: number
  playing: boolean
  loop: boolean
  /** The incident whose window this is (null: a chosen window). */
  incidentId: string | null
  progress: ReplayProgress | null
  error: string | null
  model: ReplayModel | null
  /** Events of the window folded in at the playhead, and in all. */
  folded: number
  total: number
}

/** No replay on screen. */
export const idleReplay: ReplayState = {
  active: false,
  phase: 'ready',
  clock: 'recorded',
  from: 0,
  to: 0,
  at: 0,
  speed: 60,
  playing: false,
  loop: false,
  incidentId: null,
  progress: null,
  error: null,
  model: null,
  folded: 0,
  total: 0,
}

export const replay = createStore<ReplayState>()(() => idleReplay)

export function useReplay<T>(selector: (s: ReplayState) => T): T {
  return useStore(replay, selector)
}

/** The replay's clock (for views that mark late reports). */
export function useReplayClock(): ReplayClock {
  return useReplay((s) => s.clock)
}

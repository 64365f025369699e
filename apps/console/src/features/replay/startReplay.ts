/**
 * Replay's entry points for the first load: each loads the replay machinery (replay.ts, its own
 * chunk) on first use, then calls it. Nothing here pulls replay into the entry chunk.
 */

import { type WatchfloorStore, watchfloor } from '../../data/store.ts'
import type { ReplayView } from '../../view/view.ts'
import { clearSnapshots } from '../report/snapshots.ts'
import { replay } from './replayStore.ts'

type ReplayEngine = typeof import('./replay.ts')
type OpenOptions = import('./replay.ts').OpenOptions

let engine: Promise<ReplayEngine> | undefined

/** The replay machinery, loaded once (on demand); the bar's chunk is fetched alongside. */
export function loadReplayEngine(): Promise<ReplayEngine> {
  engine ??= Promise.all([import('./replay.ts'), import('./ReplayBar.tsx')]).then(([loaded]) => loaded)
  return engine
}

/** Load a window and show the picture at `at` (default: its start). */
export async function startReplay(options: OpenOptions): Promise<void> {
  await (await loadReplayEngine()).openReplay(options)
}

/** Leave replay (nothing to do when none was ever started: the machinery is not loaded then). */
export async function stopReplay(): Promise<void> {
  if (!engine && !replay.getState().active) return
  ;(await loadReplayEngine()).closeReplay()
}

/** Replay one incident's window; false when it has none. */
export async function startIncidentReplay(incidentId: string): Promise<boolean> {
  return (await loadReplayEngine()).replayIncident(incidentId)
}

/** Open the replay a URL names (once signed in). */
export function openFromView(view: ReplayView): void {
  void startReplay({ ...view })
}

/**
 * The picture was dropped (data/connection.ts `dropPicture`: `access_changed`, a conflicting
 * cursor, a failed refresh): the open picture went, or the replay picture was taken off screen by
 * the empty one. Entering, moving and leaving replay never do either (`showReplay` and `showLive`
 * leave `opened` alone; `showLive` runs once replay is no longer active).
 */
export function pictureDropped(s: Pick<WatchfloorStore, 'opened' | 'mode'>, prev: typeof s): boolean {
  return (prev.opened !== null && s.opened === null) || (prev.mode === 'replay' && s.mode === 'live')
}

/**
 * Leave replay when the viewer changes (sign-out, another sign-in) or the picture is dropped (what
 * the replay showed may be what this viewer may no longer see). Returns the unsubscribe.
 */
export function wireReplay(): () => void {
  return watchfloor.subscribe((s, prev) => {
    // map snapshots too: drawn from a picture this viewer may no longer hold (access narrowed)
    if (pictureDropped(s, prev)) clearSnapshots()
    if (!replay.getState().active) return
    if (s.session !== prev.session || pictureDropped(s, prev)) void stopReplay()
  })
}

/**
 * Replay's entry points for the first load: each loads the replay machinery (replay.ts, its own
 * chunk) on first use, then calls it. Nothing here pulls replay into the entry chunk.
 */
import { watchfloor } from '../../data/store.ts'
import type { ReplayView } from '../../view/view.ts'
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

/** Leave replay when the viewer changes (sign-out, another sign-in). Returns the unsubscribe. */
export function wireReplay(): () => void {
  return watchfloor.subscribe((s, prev) => {
    if (s.session !== prev.session && replay.getState().active) void stopReplay()
  })
}

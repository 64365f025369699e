import type { IncidentState, State } from '@watchfloor/core'
import { createStore, useStore } from 'zustand'
import { type WatchfloorStore, watchfloor } from '../../data/store.ts'
import { viewerKey } from '../../data/viewAs.ts'
import { isWithdrawn, type Withdrawn, withdrawnStore } from '../coordination/withdrawn.ts'
import { alarmPrefs, loadAlarmPrefs, playAlarmTone } from './alarmPrefs.ts'
import { alarmViewOf, followBaseline, type HeldBaseline } from './alarms.ts'

/** The alarms standing in this console, derived from the live picture (also while replaying). */
export interface AlarmView {
  /** The incidents alarmed, newest first. */
  alarms: readonly IncidentState[]
  /** Unacknowledged criticals already open when the console opened (shown as a count). */
  standing: readonly IncidentState[]
}

export const alarmView = createStore<AlarmView>(() => ({ alarms: [], standing: [] }))

export function useAlarmView<T>(selector: (view: AlarmView) => T): T {
  return useStore(alarmView, selector)
}

type DataStore = {
  getState(): WatchfloorStore
  subscribe(listener: (s: WatchfloorStore, p: WatchfloorStore) => void): () => void
}

/**
 * Follows the data store: the baseline is the picture the console opened with for this viewer
 * (taken when `opened` is first set; kept when the picture empties and opens again; another
 * viewer's taken at their own open, see `followBaseline`), and every change of the live picture or
 * of the preferences derives the alarms again. A new alarm beeps when the viewer turned sound on.
 */
export function wireAlarms(data: DataStore = watchfloor): () => void {
  let held: HeldBaseline = { viewer: viewerKey(data.getState().session), opened: null, baseline: null }
  let last: { state: State; prefs: unknown; withdrawn: Withdrawn } | null = null
  const sounded = new Set<string>()
  const sync = () => {
    const s = data.getState()
    loadAlarmPrefs(s.session?.user ?? null)
    const next = followBaseline(held, { viewer: viewerKey(s.session), opened: s.opened, state: s.liveState })
    if (next.baseline !== held.baseline) last = null
    held = next
    const { baseline } = held
    const prefs = alarmPrefs.getState()
    const withdrawn = withdrawnStore.getState()
    if (last !== null && last.state === s.liveState && last.prefs === prefs && last.withdrawn === withdrawn) return
    last = { state: s.liveState, prefs, withdrawn }
    const view = alarmViewOf(s.liveState, baseline, prefs, prefs.dismissed)
    // an incident no longer shared with this viewer [C18] asks nothing of it: no alarm, not counted
    const shared = (incident: IncidentState) => !isWithdrawn(s.session, incident.incidentId, withdrawn)
    const alarms = view.alarms.filter(shared)
    const standing = view.standing.filter(shared)
    const fresh = alarms.filter((a) => !sounded.has(a.incidentId))
    for (const a of fresh) sounded.add(a.incidentId)
    // incidents the picture no longer holds (retention pruned them) are forgotten: bounded for days
    if (sounded.size > 256) for (const id of sounded) if (!s.liveState.incidents.has(id)) sounded.delete(id)
    if (fresh.length > 0 && prefs.sound) playAlarmTone()
    // the same incidents as before (most batches): nothing to draw again
    const shown = alarmView.getState()
    if (sameIncidents(shown.alarms, alarms) && sameIncidents(shown.standing, standing)) return
    alarmView.setState({ alarms, standing })
  }
  sync()
  const offData = data.subscribe(sync)
  const offPrefs = alarmPrefs.subscribe(sync)
  const offWithdrawn = withdrawnStore.subscribe(sync)
  return () => {
    offData()
    offPrefs()
    offWithdrawn()
  }
}

/** The same incident objects in the same order (an update makes a new object). */
function sameIncidents(a: readonly IncidentState[], b: readonly IncidentState[]): boolean {
  return a.length === b.length && a.every((incident, i) => incident === b[i])
}

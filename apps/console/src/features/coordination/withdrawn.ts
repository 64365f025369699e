/**
 * Incidents no longer shared with this viewer [C18]. When the owner narrows an incident away from
 * an organisation, the organisation's picture keeps the copy it last received (the narrowing report
 * is one it may not see), and the server answers every command about it, or one of its tasks,
 * `not_found`, exactly as for an incident that does not exist. That answer, about an incident the
 * picture holds, is all the console learns: it is no longer shared with this viewer (nothing about
 * the new marking). The console then keeps the id here, per viewer, so `can` (permissions.ts)
 * offers no action on the incident and its tasks, and the panels say why.
 *
 * The set is forgotten when the picture is dropped or opened again (what the server sends then is
 * what it shares now), and an id leaves it when the incident arrives again in a live report: a
 * re-widened incident is shared again.
 */
import type { State } from '@watchfloor/core'
import type { Command, StoredEvent } from '@watchfloor/protocol'
import { useStore } from 'zustand'
import { createStore } from 'zustand/vanilla'
import { type WatchfloorStore, watchfloor } from '../../data/store.ts'
import { viewerKey } from '../../data/viewAs.ts'
import type { CommandResult } from './commands.ts'

export interface Withdrawn {
  /** The viewer the ids are of (data/viewAs.ts `viewerKey`); null: none yet. */
  viewer: string | null
  /** Incidents a command about was answered `not_found` while the picture held them. */
  ids: ReadonlySet<string>
}

const NONE: ReadonlySet<string> = new Set()

export const withdrawnStore = createStore<Withdrawn>(() => ({ viewer: null, ids: NONE }))

/** The sentence every panel shows for an incident (or a task of one) no longer shared with this viewer. */
export const WITHDRAWN_NOTICE =
  'No longer shared with you: this is the copy you last received; changes to it are refused.'

type Viewerish = Parameters<typeof viewerKey>[0]

/** Is `incidentId` withdrawn from `session`'s viewer? */
export function isWithdrawn(
  session: Viewerish,
  incidentId: string,
  withdrawn: Withdrawn = withdrawnStore.getState(),
): boolean {
  return withdrawn.ids.size > 0 && withdrawn.viewer === viewerKey(session) && withdrawn.ids.has(incidentId)
}

/** `withdrawn` with `incidentId` added for `viewer` (another viewer's ids are dropped). */
export function withWithdrawn(withdrawn: Withdrawn, viewer: string | null, incidentId: string): Withdrawn {
  if (viewer === null) return withdrawn
  if (withdrawn.viewer === viewer && withdrawn.ids.has(incidentId)) return withdrawn
  const ids = new Set(withdrawn.viewer === viewer ? withdrawn.ids : NONE)
  ids.add(incidentId)
  return { viewer, ids }
}

/** Keep `incidentId` as no longer shared with `viewer`. */
export function markWithdrawn(viewer: string | null, incidentId: string, store = withdrawnStore): void {
  const next = withWithdrawn(store.getState(), viewer, incidentId)
  if (next !== store.getState()) store.setState(next, true)
}

/**
 * The incident a `not_found` answer says is no longer shared with this viewer, or undefined: the
 * incident the command is about (a task command's: its task's incident) when `picture` holds it,
 * on the server's rule C1 (an unknown network, C10, is `not_found` too).
 * A link is about two incidents: the one the answer names (`no incident <id>`), when the picture
 * holds it; the console does not guess when it names neither.
 */
export function withdrawnBy(command: Command, result: CommandResult, picture: State): string | undefined {
  // C1 only: a network unknown (C10) is not_found too, and says nothing about the incident
  if (result.ok || result.kind !== 'not_found' || (result.rule !== undefined && result.rule !== 'C1')) return undefined
  const held = (id: string | undefined) => (id !== undefined && picture.incidents.has(id) ? id : undefined)
  if (command.type === 'incident.link') {
    for (const id of [command.incidentId, command.otherIncidentId])
      if (result.message === `no incident ${id}`) return held(id)
    return undefined
  }
  if ('incidentId' in command) return held(command.incidentId)
  if ('taskId' in command) return held(picture.tasks.get(command.taskId)?.incidentId)
  return undefined
}

type DataState = { getState(): Pick<WatchfloorStore, 'session' | 'liveState'> }

/**
 * Learn from a command's answer: a `not_found` about an incident the live picture holds (`withdrawnBy`)
 * is kept as withdrawn for `viewer`, the viewer that sent it, unless another viewer is signed in (or
 * viewed as) by the time the answer came. Returns the incident withdrawn, if any.
 */
export function learnWithdrawn(
  viewer: string | null,
  command: Command,
  result: CommandResult,
  data: DataState = watchfloor,
  store = withdrawnStore,
): string | undefined {
  const { session, liveState } = data.getState()
  if (viewerKey(session) !== viewer) return undefined
  const withdrawn = withdrawnBy(command, result, liveState)
  if (withdrawn !== undefined) markWithdrawn(viewer, withdrawn, store)
  return withdrawn
}

/** The ids of `ids` that the events report again (an `incident.reported` about them). */
export function reportedAgain(ids: ReadonlySet<string>, events: Iterable<StoredEvent>): string[] {
  const again: string[] = []
  for (const event of events)
    if (event.type === 'incident.reported' && ids.has(event.payload.incidentId)) again.push(event.payload.incidentId)
  return again
}

export type Picture = Pick<WatchfloorStore, 'session' | 'opened' | 'lastSeq' | 'liveWindow' | 'liveWindowVersion'>

/** The live events folded between `prev` and `s`: the tail of the live window after `prev`'s cursor. */
export function* foldedSince(s: Picture, prev: Picture): Generator<StoredEvent> {
  if (s.liveWindowVersion === prev.liveWindowVersion || s.lastSeq <= prev.lastSeq) return
  for (let i = s.liveWindow.length - 1; i >= 0; i--) {
    const event = s.liveWindow[i]!
    if (event.seq <= prev.lastSeq) return
    yield event
  }
}

/**
 * What is withdrawn once the data store went from `prev` to `s`: nothing when the viewer changed or
 * the picture was dropped or opened again; without the incidents a live event reported again.
 */
export function followPicture(withdrawn: Withdrawn, s: Picture, prev: Picture): Withdrawn {
  if (withdrawn.ids.size === 0) return withdrawn
  if (s.opened !== prev.opened || viewerKey(s.session) !== withdrawn.viewer) return { viewer: null, ids: NONE }
  const again = reportedAgain(withdrawn.ids, foldedSince(s, prev))
  if (again.length === 0) return withdrawn
  const ids = new Set(withdrawn.ids)
  for (const id of again) ids.delete(id)
  return { viewer: withdrawn.viewer, ids }
}

type DataStore = {
  subscribe(listener: (s: WatchfloorStore, prev: WatchfloorStore) => void): () => void
}

/** Follow the data store (see `followPicture`). Returns the unsubscribe. */
export function wireWithdrawn(data: DataStore = watchfloor, store = withdrawnStore): () => void {
  return data.subscribe((s, prev) => {
    const next = followPicture(store.getState(), s, prev)
    if (next !== store.getState()) store.setState(next, true)
  })
}

/** React: is this incident no longer shared with the signed-in viewer? Re-renders when that changes. */
export function useWithdrawn(incidentId: string | undefined): boolean {
  const session = useStore(watchfloor, (s) => s.session)
  return useStore(withdrawnStore, (w) => incidentId !== undefined && isWithdrawn(session, incidentId, w))
}

/**
 * What a person has typed or chosen in the forms of an incident and of its tasks (a comment, a new
 * task, a reason to escalate, set a status or block, a link, a reassignment, a marking change): one
 * home for it, apart from the forms, so that it outlives them.
 *
 * The forms come and go with the picture. When it is dropped and opened again (`resync` for
 * `access_changed`, a subscribe the server refused as a conflict: data/connection.ts `dropPicture`)
 * the incident leaves the picture for a moment: its panel and its task cards go, and come back
 * when the picture holds it again. Each form then shows what was typed, exactly as before; a draft's
 * choice keeps the copy it was started on (draft.ts), so a change meanwhile is still a conflict the
 * person sees. An incident the picture no longer holds (no longer shared with this viewer) shows no
 * form and sends nothing; its drafts stay here for the session, and are shown again if it comes back.
 *
 * The drafts are the viewer's (data/viewAs.ts `viewerKey`: the person, their organisation and the
 * audience viewed as): another viewer starts with none, and those of the one before are forgotten.
 * The detail panel's are the incident's shown: selecting another incident (or closing the panel)
 * puts them away, and the next incident's panel opens afresh; a task card on the task board keeps
 * its own (`wireFormDrafts`). They are kept in memory only.
 */
import type { StoredEvent } from '@watchfloor/protocol'
import { useCallback } from 'react'
import { useStore } from 'zustand'
import { createStore } from 'zustand/vanilla'
import { useWatchfloor, watchfloor } from '../../data/store.ts'
import { viewerKey } from '../../data/viewAs.ts'
import { viewStore } from '../../view/viewStore.ts'
import type { ActionSlot, LastAction } from './commandIds.ts'
import { foldedSince, type Picture } from './withdrawn.ts'

/** One form of an incident, or of each of its tasks: its name, and what it holds before anything is typed. */
export interface DraftForm<T extends object> {
  readonly name: string
  /** The form untouched: a draft back to it (every field the same) is forgotten. */
  readonly empty: T
  /** What the form keeps once its action is applied (a new task's form stays open); absent: it is emptied. */
  answeredOk?(draft: T): T
}

export function draftForm<T extends object>(name: string, empty: T, answeredOk?: (draft: T) => T): DraftForm<T> {
  return answeredOk === undefined ? { name, empty } : { name, empty, answeredOk }
}

/**
 * What becomes of `form`'s draft once its action is applied, answered ok or shown applied by the
 * live stream (`settleActions`): one rule for both.
 */
export function afterOk<T extends object>(form: DraftForm<T>): (draft: T) => T {
  return (draft) => (form.answeredOk === undefined ? form.empty : form.answeredOk(draft))
}

/**
 * Where a form is: the selected incident's detail panel, a task card on the task board, or a row of
 * the triage queue (its Acknowledge). Only the panel's are put away when another incident is selected.
 */
export type DraftPlace = 'panel' | 'board' | 'triage'

/** Which draft of a form: the incident's, or its task's, in the panel (the default) or on the board. */
export interface DraftOf {
  incidentId: string
  taskId?: string | undefined
  place?: DraftPlace | undefined
}

interface Held {
  place: DraftPlace
  incidentId: string
  value: object
  /**
   * The last command the form sent, with its `commandId` (commandIds.ts): sent again from the form
   * shown again, the same input is the same action, applied once.
   */
  action?: LastAction | undefined
  /**
   * What the draft held when `action` was last sent, and what it becomes once the action is applied
   * (`afterOk`; `emptied`: the form untouched). A draft that still holds what was sent (field by
   * field) becomes that, answered ok or shown applied (`endAction`); one changed since stays.
   */
  ends?: { sent: object; after: object; emptied: boolean } | undefined
}

export interface FormDrafts {
  /** The viewer the drafts are of (`viewerKey`); null: none yet. */
  viewer: string | null
  /** What each form holds, by `draftKey`; a form not here is empty. */
  forms: ReadonlyMap<string, Held>
  /**
   * The `commandId`s of the latest actions whose answer was lost but whose events the live stream
   * brought (`settleActions`): applied, their forms ended as on an answer ok. A form's runner shows
   * no failure of one of them (useCommand.tsx). The latest `SETTLED_KEPT`.
   */
  settled?: ReadonlySet<string>
}

const NONE: ReadonlyMap<string, Held> = new Map()
const SETTLED_KEPT = 50

export const formDrafts = createStore<FormDrafts>(() => ({ viewer: null, forms: NONE }))

/** Where a form's draft is kept: its place, its incident, its name and, for a task's form, the task. */
export function draftKey(of: DraftOf, form: string): string {
  return JSON.stringify([of.place ?? 'panel', of.incidentId, form, of.taskId ?? null])
}

/** A change to a form's draft: the fields that change, or the draft it becomes. */
export type DraftChange<T extends object> = Partial<T> | ((draft: T) => T)

/** What `form` holds for `viewer`: its empty value when nothing was typed. */
export function readDraft<T extends object>(
  drafts: FormDrafts,
  viewer: string | null,
  of: DraftOf,
  form: DraftForm<T>,
): T {
  if (viewer === null || drafts.viewer !== viewer) return form.empty
  return (drafts.forms.get(draftKey(of, form.name))?.value as T | undefined) ?? form.empty
}

/** Every field the same (`Object.is`)? */
function sameFields(a: object, b: object): boolean {
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) if (!Object.is(x[key], y[key])) return false
  return true
}

/**
 * Change what `form` holds for `viewer`; back to empty, it is forgotten. Drafts of another viewer
 * are dropped; with no viewer (signed out) nothing is kept.
 */
export function writeDraft<T extends object>(
  viewer: string | null,
  of: DraftOf,
  form: DraftForm<T>,
  change: DraftChange<T>,
  store = formDrafts,
): void {
  if (viewer === null) return
  const drafts = store.getState()
  const current = readDraft(drafts, viewer, of, form)
  const next: T = typeof change === 'function' ? change(current) : { ...current, ...change }
  if (sameFields(next, current)) return
  const key = draftKey(of, form.name)
  const forms = new Map(drafts.viewer === viewer ? drafts.forms : NONE)
  const { action, ends } = forms.get(key) ?? {}
  // an action sent and not yet answered ok stays, with the form as it is (it may be sent again)
  if (sameFields(next, form.empty) && (action === undefined || action.done)) forms.delete(key)
  else forms.set(key, { place: of.place ?? 'panel', incidentId: of.incidentId, value: next, action, ends })
  store.setState(withForms(drafts, viewer, forms), true)
}

/** `drafts` with `forms` for `viewer`: what was settled is kept while the viewer is the same. */
function withForms(drafts: FormDrafts, viewer: string | null, forms: ReadonlyMap<string, Held>): FormDrafts {
  return drafts.viewer === viewer && drafts.settled !== undefined
    ? { viewer, forms, settled: drafts.settled }
    : { viewer, forms }
}

/** The viewer signed in (or viewed as) now. */
function viewerNow(): string | null {
  return viewerKey(watchfloor.getState().session)
}

/**
 * Where `form` keeps its last action for `viewer`: with its draft, so that the form shown again (the
 * picture opened again) sends the same input under the same `commandId`, and the server applies it
 * once. Nothing is kept once another viewer is signed in (an answer that comes late). Each time the
 * action is sent, what its draft holds is noted; answered ok, the draft ends (`endAction`: as
 * `afterOk` says, unless it was changed since it was sent), as it does when the live stream shows the
 * action applied (`settleActions`), whichever comes first.
 */
export function actionSlot<T extends object>(
  viewer: string | null,
  of: DraftOf,
  form: DraftForm<T>,
  store = formDrafts,
  current: () => string | null = viewerNow,
): ActionSlot {
  const key = draftKey(of, form.name)
  return {
    read: () => {
      const drafts = store.getState()
      return viewer !== null && drafts.viewer === viewer ? (drafts.forms.get(key)?.action ?? null) : null
    },
    write: (action, sending = false) => {
      if (viewer === null || current() !== viewer) return
      const drafts = store.getState()
      const forms = new Map(drafts.viewer === viewer ? drafts.forms : NONE)
      const held = forms.get(key)
      const same = held?.action?.commandId === action.commandId
      const value = held?.value ?? form.empty
      // sent (again): the draft as it goes, to tell later whether anything was typed since
      const after = afterOk(form)(value as T)
      const ends = same && !sending ? held?.ends : { sent: value, after, emptied: sameFields(after, form.empty) }
      const next: Held = { place: of.place ?? 'panel', incidentId: of.incidentId, value, action, ends }
      forms.set(key, next)
      // answered ok: the draft ends (not again when the live stream showed it applied first: done already)
      if (action.done && same && held?.action?.done === false) endAction(forms, key, next)
      store.setState(withForms(drafts, viewer, forms), true)
    },
  }
}

/**
 * The draft `key` (holding `held`, its action applied) once the action is over: as `afterOk` says,
 * unless it was changed since the action was sent (field by field), which keeps what was typed.
 */
function endAction(forms: Map<string, Held>, key: string, held: Held): void {
  const ends = held.ends
  if (ends === undefined || !sameFields(held.value, ends.sent)) return
  if (ends.emptied) forms.delete(key)
  else forms.set(key, { ...held, value: ends.after })
}

/**
 * A form's draft for the signed-in viewer, as `useState` would give it, but kept in `formDrafts`, so
 * it outlives the form: a picture opened again unmounts it, and it shows the draft again when it
 * comes back.
 */
export function useDraft<T extends object>(of: DraftOf, form: DraftForm<T>): [T, (change: DraftChange<T>) => void] {
  const viewer = useWatchfloor((s) => viewerKey(s.session))
  const { incidentId, taskId, place } = of
  const draft = useStore(formDrafts, (drafts) => readDraft(drafts, viewer, { incidentId, taskId, place }, form))
  const change = useCallback(
    (next: DraftChange<T>) => {
      // a form's answer that comes once another viewer is signed in changes nothing of theirs
      if (viewerNow() === viewer) writeDraft(viewer, { incidentId, taskId, place }, form, next)
    },
    [viewer, incidentId, taskId, place, form],
  )
  return [draft, change]
}

/**
 * The drafts once `events` came in the live stream: a form whose last action has no answer ok yet and
 * whose events are among them (their ids derived from its `commandId`) was applied, its answer lost on
 * the way (or not come yet): its draft ends as on an answer ok (`endAction`), the action is over, so
 * that what is sent next is a new action, never answered as this one, and its `commandId` is kept
 * in `settled` (an answer ok coming later changes nothing more).
 */
export function settleActions(drafts: FormDrafts, events: Iterable<Pick<StoredEvent, 'id'>>): FormDrafts {
  const pending = new Map<string, string>()
  for (const [key, held] of drafts.forms)
    if (held.action !== undefined && !held.action.done)
      for (const id of held.action.eventIds ?? []) pending.set(id, key)
  if (pending.size === 0) return drafts
  let forms: Map<string, Held> | undefined
  let settled: Set<string> | undefined
  for (const event of events) {
    const key = pending.get(event.id)
    const held = key === undefined ? undefined : drafts.forms.get(key)
    if (key === undefined || held?.action === undefined || held.action.done || settled?.has(held.action.commandId))
      continue
    forms ??= new Map(drafts.forms)
    settled ??= new Set(drafts.settled)
    const done: Held = { ...held, action: { ...held.action, done: true } }
    forms.set(key, done)
    endAction(forms, key, done)
    settled.add(held.action.commandId)
  }
  if (forms === undefined || settled === undefined) return drafts
  const kept = [...settled].slice(-SETTLED_KEPT)
  return { viewer: drafts.viewer, forms, settled: new Set(kept) }
}

/** The drafts once `viewer` is the one signed in: kept for the same viewer, none for another. */
export function followViewer(drafts: FormDrafts, viewer: string | null): FormDrafts {
  return drafts.viewer === viewer || drafts.forms.size === 0 ? drafts : { viewer: null, forms: NONE }
}

/** The drafts once the panel no longer shows `left` (another incident is selected, or none): its panel's go. */
export function leavePanel(drafts: FormDrafts, left: string): FormDrafts {
  let forms: Map<string, Held> | undefined
  for (const [key, held] of drafts.forms) {
    if (held.place !== 'panel' || held.incidentId !== left) continue
    forms ??= new Map(drafts.forms)
    forms.delete(key)
  }
  return forms === undefined ? drafts : withForms(drafts, drafts.viewer, forms)
}

type DataStore = {
  getState(): Picture
  subscribe(listener: (s: Picture, prev: Picture) => void): () => void
}
type ViewStore = {
  subscribe(listener: (s: { selection: string | null }, prev: { selection: string | null }) => void): () => void
}

/**
 * Follow the viewer, the live stream and the selection: another viewer (sign-out, another person, view
 * as on, off or another audience) forgets every draft; events folded end the drafts whose lost actions
 * they show applied (`settleActions`; a picture opened again: every event of its window); another
 * incident selected puts the panel's drafts of the one before away. The drafts stay when the picture
 * is dropped and opened again. Returns the unsubscribe.
 */
export function wireFormDrafts(
  data: DataStore = watchfloor,
  view: ViewStore = viewStore,
  store = formDrafts,
): () => void {
  const set = (next: FormDrafts) => {
    if (next !== store.getState()) store.setState(next, true)
  }
  set(followViewer(store.getState(), viewerKey(data.getState().session)))
  const unsubscribeData = data.subscribe((s, prev) => {
    if (s.session !== prev.session) set(followViewer(store.getState(), viewerKey(s.session)))
    const drafts = store.getState()
    if (drafts.forms.size === 0 || drafts.viewer !== viewerKey(s.session)) return
    if (s.opened !== prev.opened) set(settleActions(drafts, s.liveWindow))
    else set(settleActions(drafts, foldedSince(s, prev)))
  })
  const unsubscribeView = view.subscribe((s, prev) => {
    if (prev.selection !== null && s.selection !== prev.selection) set(leavePanel(store.getState(), prev.selection))
  })
  return () => {
    unsubscribeData()
    unsubscribeView()
  }
}

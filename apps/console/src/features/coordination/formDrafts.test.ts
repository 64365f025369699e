import type { Command } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { createStore } from 'zustand/vanilla'
import { createWatchfloorStore, emptyPicture } from '../../data/store.ts'
import { viewerKey } from '../../data/viewAs.ts'
import { createViewStore } from '../../view/viewStore.ts'
import { CommandIds, sendAction } from './commandIds.ts'
import type { CommandResult } from './commands.ts'
import { person } from './fixtures.test-helpers.ts'
import {
  actionSlot,
  type DraftOf,
  draftForm,
  type FormDrafts,
  readDraft,
  wireFormDrafts,
  writeDraft,
} from './formDrafts.ts'

const REASON = draftForm('reason', { open: false, reason: '' })
const KADRI = person(['coordinator'], 'kadri', 'cert-ee')
const MARI = person(['coordinator'], 'mari', 'cert-lv')
const A = viewerKey(KADRI)
const B = viewerKey(MARI)
const INC_1: DraftOf = { incidentId: 'inc-1' }

const drafts = () => createStore<FormDrafts>(() => ({ viewer: null, forms: new Map() }))

describe('form drafts: one home for what was typed in the forms of an incident and its tasks', () => {
  it('a form untouched holds its empty value; a change keeps the other fields; back to empty, it is forgotten', () => {
    const store = drafts()
    expect(readDraft(store.getState(), A, INC_1, REASON)).toBe(REASON.empty)
    writeDraft(A, INC_1, REASON, { open: true }, store)
    writeDraft(A, INC_1, REASON, { reason: 'waiting for the logs' }, store)
    expect(readDraft(store.getState(), A, INC_1, REASON)).toEqual({ open: true, reason: 'waiting for the logs' })
    writeDraft(A, INC_1, REASON, (draft) => ({ ...draft, reason: `${draft.reason}!` }), store)
    expect(readDraft(store.getState(), A, INC_1, REASON).reason).toBe('waiting for the logs!')
    writeDraft(A, INC_1, REASON, REASON.empty, store)
    expect(readDraft(store.getState(), A, INC_1, REASON)).toBe(REASON.empty)
    expect(store.getState().forms.size).toBe(0)
  })

  it('each incident, form, task and place has its own draft', () => {
    const store = drafts()
    const other = draftForm('other', { open: false, reason: '' })
    const write = (of: DraftOf, reason: string, form = REASON) => writeDraft(A, of, form, { reason }, store)
    const read = (of: DraftOf, form = REASON) => readDraft(store.getState(), A, of, form).reason
    write(INC_1, 'one')
    write({ incidentId: 'inc-2' }, 'two')
    write(INC_1, 'other', other)
    write({ incidentId: 'inc-1', taskId: 'task-1' }, 'task in the panel')
    write({ incidentId: 'inc-1', taskId: 'task-1', place: 'board' }, 'task on the board')
    expect([
      read(INC_1),
      read({ incidentId: 'inc-2' }),
      read(INC_1, other),
      read({ incidentId: 'inc-1', taskId: 'task-1', place: 'panel' }),
      read({ incidentId: 'inc-1', taskId: 'task-1', place: 'board' }),
      read({ incidentId: 'inc-1', taskId: 'task-2' }),
    ]).toEqual(['one', 'two', 'other', 'task in the panel', 'task on the board', ''])
  })

  it('a viewer reads none of another viewer’s drafts, and writing as another viewer drops them; signed out, nothing is kept', () => {
    const store = drafts()
    writeDraft(A, INC_1, REASON, { reason: 'as kadri' }, store)
    expect(readDraft(store.getState(), B, INC_1, REASON)).toBe(REASON.empty)
    expect(readDraft(store.getState(), null, INC_1, REASON)).toBe(REASON.empty)
    writeDraft(B, { incidentId: 'inc-2' }, REASON, { reason: 'as mari' }, store)
    expect(store.getState().viewer).toBe(B)
    expect([...store.getState().forms.values()].map((held) => held.value)).toEqual([{ open: false, reason: 'as mari' }])
    writeDraft(null, INC_1, REASON, { reason: 'nobody' }, store)
    expect(store.getState().viewer).toBe(B)
    expect(store.getState().forms.size).toBe(1)
  })

  it('wired: kept while the viewer stays (its session read again, the picture dropped and opened again), forgotten when it changes', () => {
    const data = createWatchfloorStore()
    const view = createViewStore()
    const store = drafts()
    data.getState().setSession(KADRI)
    const unwire = wireFormDrafts(data, view, store)
    writeDraft(A, INC_1, REASON, { reason: 'kept' }, store)

    data.getState().setSession({ ...KADRI }) // the same viewer, its session read again
    data.setState({ lastSeq: 0, headSeq: 0, ...emptyPicture(data.getState().windowVersion) }) // the picture dropped
    expect(readDraft(store.getState(), A, INC_1, REASON).reason).toBe('kept')

    // viewing as another audience is another viewer; back as themselves, the drafts went
    data.getState().setSession({ ...KADRI, viewingAs: { kind: 'organisation', id: 'cert-lv' } })
    expect(store.getState().forms.size).toBe(0)
    data.getState().setSession(KADRI)
    expect(readDraft(store.getState(), A, INC_1, REASON)).toBe(REASON.empty)

    // signed out: forgotten too
    writeDraft(A, INC_1, REASON, { reason: 'typed again' }, store)
    data.getState().reset()
    expect(store.getState().forms.size).toBe(0)
    unwire()
  })

  it('wired: another incident selected (or none) puts away the panel’s drafts of the one shown before; the board’s stay', () => {
    const data = createWatchfloorStore()
    const view = createViewStore()
    const store = drafts()
    data.getState().setSession(KADRI)
    const unwire = wireFormDrafts(data, view, store)
    view.getState().select('inc-1')
    const board: DraftOf = { incidentId: 'inc-1', taskId: 'task-1', place: 'board' }
    writeDraft(A, INC_1, REASON, { reason: 'in the panel' }, store)
    writeDraft(A, { incidentId: 'inc-1', taskId: 'task-1' }, REASON, { reason: 'its task in the panel' }, store)
    writeDraft(A, board, REASON, { reason: 'on the board' }, store)
    writeDraft(A, { incidentId: 'inc-2' }, REASON, { reason: 'another' }, store)

    view.getState().select('inc-2')
    const read = (of: DraftOf) => readDraft(store.getState(), A, of, REASON).reason
    expect([
      read(INC_1),
      read({ incidentId: 'inc-1', taskId: 'task-1' }),
      read(board),
      read({ incidentId: 'inc-2' }),
    ]).toEqual(['', '', 'on the board', 'another'])
    view.getState().select(null)
    expect(read({ incidentId: 'inc-2' })).toBe('')
    expect(read(board)).toBe('on the board')
    unwire()
  })

  describe('a form’s last action is kept with its draft: sent again from the form shown again, it is the same action', () => {
    const COMMENT = draftForm('comment', { body: '' })
    const comment: Command = { type: 'comment.post', incidentId: 'inc-1', body: 'Hosts isolated', mentions: [] }
    const lost: CommandResult = {
      ok: false,
      kind: 'unavailable',
      status: 0,
      message: 'the server could not be reached',
    }
    const done: CommandResult = { ok: true, events: [], version: 1 }
    /** A form shown (again): a `CommandIds` of its own on the draft's slot, as `useCommand` makes for each command. */
    const form = (store: ReturnType<typeof drafts>, viewer: string | null, now: () => string | null = () => viewer) =>
      new CommandIds(undefined, actionSlot(viewer, INC_1, COMMENT, store, now))
    const send = async (ids: CommandIds, answer: CommandResult) => {
      const { sent } = await sendAction(ids, comment, async () => answer)
      return sent.commandId
    }

    it('a lost answer, the form unmounted and shown again: Post sends the same commandId; once answered ok, a new one', async () => {
      const store = drafts()
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      const first = await send(form(store, A), lost)
      const again = await send(form(store, A), lost)
      expect(first).toBeDefined()
      expect(again).toBe(first)
      expect(await send(form(store, A), done)).toBe(first)
      // answered ok: the same input again is another comment
      const next = await send(form(store, A), done)
      expect(next).not.toBe(first)
      // the draft's text is kept as typed all along
      expect(readDraft(store.getState(), A, INC_1, COMMENT).body).toBe('Hosts isolated')
    })

    it('a form emptied while its action has no answer ok keeps the action; once answered, the empty form is forgotten', async () => {
      const store = drafts()
      const first = await send(form(store, A), lost)
      writeDraft(A, INC_1, COMMENT, { body: 'typed' }, store)
      writeDraft(A, INC_1, COMMENT, { body: '' }, store)
      expect(store.getState().forms.size).toBe(1)
      expect(await send(form(store, A), done)).toBe(first)
      writeDraft(A, INC_1, COMMENT, { body: 'x' }, store)
      writeDraft(A, INC_1, COMMENT, { body: '' }, store)
      expect(store.getState().forms.size).toBe(0)
    })

    it('another viewer keeps nothing of it: their form sends a commandId of its own, and a late answer changes nothing of theirs', async () => {
      const store = drafts()
      const kadri = await send(form(store, A), lost)
      expect(await send(form(store, B), lost)).not.toBe(kadri)
      // kadri's answer comes once mari is signed in: nothing is written
      const before = store.getState()
      await send(
        form(store, A, () => B),
        lost,
      )
      expect(store.getState()).toBe(before)
      // signed out: nothing is kept
      const signedOut = drafts()
      const one = await send(form(signedOut, null), lost)
      expect(await send(form(signedOut, null), lost)).not.toBe(one)
      expect(signedOut.getState().forms.size).toBe(0)
    })
  })
})

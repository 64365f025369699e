import { fold, initialState, makeEvent } from '@watchfloor/core'
import { type Command, commandEventIds } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { createStore } from 'zustand/vanilla'
import { createWatchfloorStore, emptyPicture } from '../../data/store.ts'
import { viewerKey } from '../../data/viewAs.ts'
import { createViewStore } from '../../view/viewStore.ts'
import { CommandIds, sendAction } from './commandIds.ts'
import type { CommandResult } from './commands.ts'
import { person, reportEvent } from './fixtures.test-helpers.ts'
import {
  actionSlot,
  afterOk,
  type DraftForm,
  type DraftOf,
  draftForm,
  type FormDrafts,
  readDraft,
  settleActions,
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
      // the draft's text is kept as typed while the action has no answer ok
      expect(readDraft(store.getState(), A, INC_1, COMMENT).body).toBe('Hosts isolated')
      expect(await send(form(store, A), done)).toBe(first)
      // answered ok: the form is emptied, and the same input again is another comment
      expect(readDraft(store.getState(), A, INC_1, COMMENT)).toBe(COMMENT.empty)
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      const next = await send(form(store, A), done)
      expect(next).not.toBe(first)
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

  describe('an action the live stream shows applied (its answer lost) ends its draft', () => {
    const COMMENT = draftForm('comment', { body: '' })
    const comment: Command = { type: 'comment.post', incidentId: 'inc-1', body: 'Hosts isolated', mentions: [] }
    const lost: CommandResult = {
      ok: false,
      kind: 'unavailable',
      status: 0,
      message: 'the server could not be reached',
    }
    const sender = { userId: 'kadri', organisation: 'cert-ee' }
    /** The comment posted by the action `commandId` of kadri: its id is the action's second derived id. */
    const posted = (seq: number, commandId: string, id = commandEventIds(commandId, sender)[1]!) => ({
      ...makeEvent(seq, 'comment.posted', {
        incidentId: 'inc-1',
        commentId: 'c-1',
        body: 'Hosts isolated',
        mentions: [],
      }),
      id,
    })
    const wired = () => {
      const data = createWatchfloorStore()
      const store = drafts()
      data.getState().setSession(KADRI)
      data.getState().openPicture(fold(initialState, [reportEvent(1)]), [reportEvent(1)], { from: 0, to: 1 })
      const unwire = wireFormDrafts(data, createViewStore(), store)
      const send = async () => {
        const ids = new CommandIds(
          undefined,
          actionSlot(A, INC_1, COMMENT, store, () => A),
          sender,
        )
        return (await sendAction(ids, comment, async () => lost)).sent.commandId!
      }
      return { data, store, unwire, send }
    }

    it('the form ends as on an answer ok: empty, and what is sent next is a new action', async () => {
      const { data, store, unwire, send } = wired()
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      const first = await send()
      // an event of someone else's command changes nothing
      data.getState().applyEvents([posted(2, first, '00000000-0000-4000-8000-0000000000aa')])
      expect(readDraft(store.getState(), A, INC_1, COMMENT).body).toBe('Hosts isolated')
      expect(await send()).toBe(first)
      // its own comment arrives: applied
      data.getState().applyEvents([posted(3, first)])
      expect(readDraft(store.getState(), A, INC_1, COMMENT)).toBe(COMMENT.empty)
      expect(store.getState().settled?.has(first)).toBe(true)
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      expect(await send()).not.toBe(first)
      unwire()
    })

    it('what was typed since it was sent stays; the action is over all the same', async () => {
      const { data, store, unwire, send } = wired()
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      const first = await send()
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated, and the backups' }, store)
      data.getState().applyEvents([posted(2, first)])
      expect(readDraft(store.getState(), A, INC_1, COMMENT).body).toBe('Hosts isolated, and the backups')
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      expect(await send()).not.toBe(first)
      unwire()
    })

    it('a form edited and put back to what was sent is still what was sent: emptied', async () => {
      const { data, store, unwire, send } = wired()
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      const first = await send()
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated!' }, store)
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      expect(await send()).toBe(first)
      data.getState().applyEvents([posted(2, first)])
      expect(readDraft(store.getState(), A, INC_1, COMMENT)).toBe(COMMENT.empty)
      unwire()
    })

    it('each form of a card keeps its own action: an earlier one still settles after another was sent', async () => {
      const { data, store, unwire } = wired()
      const card: DraftOf = { incidentId: 'inc-1', taskId: 'task-1', place: 'board' }
      const BLOCK = draftForm('task.block', { open: false, reason: '' })
      const NOTE = draftForm('task.note', { note: '' })
      const send = async (form: typeof BLOCK | typeof NOTE, command: Command) => {
        const ids = new CommandIds(
          undefined,
          actionSlot(A, card, form as DraftForm<object>, store, () => A),
          sender,
        )
        return (await sendAction(ids, command, async () => lost)).sent.commandId!
      }
      writeDraft(A, card, BLOCK, { open: true, reason: 'waiting for the vendor' }, store)
      const blocking = await send(BLOCK, { type: 'task.block', taskId: 'task-1', reason: 'waiting for the vendor' })
      writeDraft(A, card, NOTE, { note: 'for the report' }, store)
      await send(NOTE, { type: 'task.complete', taskId: 'task-1', note: 'for the report' })
      // the block was applied, its answer lost: it ends the block form, and not the note
      const blocked = {
        ...makeEvent(2, 'task.blocked', { taskId: 'task-1', reason: 'waiting for the vendor' }),
        id: commandEventIds(blocking, sender)[0]!,
      }
      data.getState().applyEvents([blocked])
      expect(readDraft(store.getState(), A, card, BLOCK)).toBe(BLOCK.empty)
      expect(readDraft(store.getState(), A, card, NOTE).note).toBe('for the report')
      expect(store.getState().settled?.has(blocking)).toBe(true)
      unwire()
    })

    it('answered ok, the draft ends the same way, unless changed since it was sent; after a settle, an answer changes nothing', async () => {
      const { data, store, unwire } = wired()
      const ok: CommandResult = { ok: true, events: [], version: 2 }
      const slot = () => actionSlot(A, INC_1, COMMENT, store, () => A)
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      await sendAction(new CommandIds(undefined, slot(), sender), comment, async () => ok)
      expect(readDraft(store.getState(), A, INC_1, COMMENT)).toBe(COMMENT.empty)
      // typed while the answer was on its way: kept
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      await sendAction(new CommandIds(undefined, slot(), sender), comment, async () => {
        writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated, and the next one' }, store)
        return ok
      })
      expect(readDraft(store.getState(), A, INC_1, COMMENT).body).toBe('Hosts isolated, and the next one')
      // shown applied before its answer: the next comment typed meanwhile stays when the answer comes
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      await sendAction(new CommandIds(undefined, slot(), sender), comment, async (sent) => {
        data.getState().applyEvents([posted(data.getState().lastSeq + 1, sent.commandId!)])
        writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
        return ok
      })
      expect(readDraft(store.getState(), A, INC_1, COMMENT).body).toBe('Hosts isolated')
      unwire()
    })

    it('sent again after a change (a conflict said, the choice rebased), what was sent is what it holds then', async () => {
      const { data, store, unwire } = wired()
      const STATUS = draftForm<{ choice: { value: string } | null; reason: string }>('status', {
        choice: null,
        reason: '',
      })
      const conflict: CommandResult = { ok: false, kind: 'conflict', status: 409, message: 'changed meanwhile' }
      const ids = () =>
        new CommandIds(
          undefined,
          actionSlot(A, INC_1, STATUS, store, () => A),
          sender,
        )
      const contain: Command = {
        type: 'incident.set_status',
        incidentId: 'inc-1',
        status: 'contained',
        expectedVersion: 1,
      }
      writeDraft(A, INC_1, STATUS, { choice: { value: 'contained' }, reason: 'cut off' }, store)
      const sent = (await sendAction(ids(), contain, async () => conflict)).sent
      const first = sent.commandId!
      // rebased on the fresh copy: the same choice, a new object; Retry on version 2 sends the command
      // as it was sent, on the fresh version: the same action
      writeDraft(A, INC_1, STATUS, { choice: { value: 'contained' } }, store)
      const again = (await sendAction(ids(), { ...sent, expectedVersion: 2 }, async () => lost)).sent.commandId!
      expect(again).toBe(first)
      // applied, its answer lost: shown applied, the draft ends
      data.getState().applyEvents([posted(2, first)])
      expect(readDraft(store.getState(), A, INC_1, STATUS)).toBe(STATUS.empty)
      unwire()
    })

    it('a form that keeps something once answered ok keeps the same once shown applied (afterOk)', async () => {
      const { data, store, unwire } = wired()
      const ABOUT = draftForm('comment.about', { body: '', taskId: '' }, (draft) => ({ ...draft, body: '' }))
      writeDraft(A, INC_1, ABOUT, { body: 'Hosts isolated', taskId: 'task-1' }, store)
      const ids = new CommandIds(
        undefined,
        actionSlot(A, INC_1, ABOUT, store, () => A),
        sender,
      )
      const { sent } = await sendAction(ids, { ...comment, taskId: 'task-1' }, async () => lost)
      data.getState().applyEvents([posted(2, sent.commandId!)])
      expect(readDraft(store.getState(), A, INC_1, ABOUT)).toEqual({ body: '', taskId: 'task-1' })
      expect(afterOk(ABOUT)({ body: 'x', taskId: 'task-2' })).toEqual({ body: '', taskId: 'task-2' })
      expect(afterOk(COMMENT)({ body: 'x' })).toBe(COMMENT.empty)
      unwire()
    })

    it('a picture opened again with the action’s events in its window settles it too', async () => {
      const { data, store, unwire, send } = wired()
      writeDraft(A, INC_1, COMMENT, { body: 'Hosts isolated' }, store)
      const first = await send()
      const log = [reportEvent(1), posted(2, first)]
      data.getState().openPicture(fold(initialState, log), log, { from: 0, to: 2 })
      expect(readDraft(store.getState(), A, INC_1, COMMENT)).toBe(COMMENT.empty)
      expect(settleActions(store.getState(), log)).toBe(store.getState())
      unwire()
    })
  })
})

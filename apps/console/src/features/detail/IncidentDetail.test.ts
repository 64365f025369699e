import { makeEvent } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeSocket, fakeServer } from '../../data/connection.test-helpers.ts'
import { createConnection, type WatchfloorSocket } from '../../data/connection.ts'
import { watchfloor } from '../../data/store.ts'
import { viewerKey } from '../../data/viewAs.ts'
import { viewStore } from '../../view/viewStore.ts'
import { person, reportEvent } from '../coordination/fixtures.test-helpers.ts'
import {
  type DraftChange,
  type DraftForm,
  type DraftOf,
  formDrafts,
  readDraft,
  wireFormDrafts,
  writeDraft,
} from '../coordination/formDrafts.ts'
import { COMMENT_FORM, ESCALATE_FORM, LINK_FORM, STATUS_FORM } from '../coordination/IncidentCoordination.tsx'
import { TaskBoard } from '../tasks/TaskBoard.tsx'
import { BLOCK_FORM, NEW_TASK_FORM } from '../tasks/TaskCard.tsx'
import { IncidentDetail } from './IncidentDetail.tsx'
import { MARKING_FORM } from './MarkingControl.tsx'

// The detail panel and the task board as the console draws them, from the app's stores, with the
// real connection module under them (a socket and the server's reads in memory). Without a DOM,
// each render is a fresh mount: what a picture opened again does to the panel and the task cards.

const COORDINATOR = person(['coordinator'], 'kadri', 'cert-ee')
const VIEWER = viewerKey(COORDINATOR)

/** The incident the coordinator works on, one task of it, and another incident (to link to). */
function log(): StoredEvent[] {
  return [
    reportEvent(1, 'inc-1'),
    makeEvent(2, 'task.created', {
      taskId: 'task-1',
      incidentId: 'inc-1',
      title: 'Sweep',
      priority: 'high',
      assignee: { kind: 'team', organisation: 'cert-ee' },
    }),
    reportEvent(3, 'inc-2'),
  ]
}

/** Server rendering reads a store's initial state (zustand's server snapshot): here, what it holds now. */
function showsNow(store: { getState(): unknown; getInitialState(): unknown }): void {
  vi.spyOn(store, 'getInitialState').mockImplementation(() => store.getState())
}

/** The value a form field shows: an input's `value`, a textarea's text, a select's selected option. */
function field(html: string, testid: string): string | undefined {
  const tag = new RegExp(`<(input|textarea|select)\\b[^>]*data-testid="${testid}"[^>]*>`).exec(html)
  if (!tag) return undefined
  const rest = html.slice(tag.index + tag[0].length)
  const text =
    tag[1] === 'input'
      ? /\bvalue="([^"]*)"/.exec(tag[0])?.[1]
      : tag[1] === 'textarea'
        ? rest.slice(0, rest.indexOf('</textarea>'))
        : /<option[^>]*value="([^"]*)"[^>]*selected=""/.exec(rest.slice(0, rest.indexOf('</select>')))?.[1]
  return text
    ?.replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

/** What the coordinator types, form by form, written as the forms' handlers write it (there is no DOM to type into). */
function type<T extends object>(form: DraftForm<T>, change: DraftChange<T>, of: Partial<DraftOf> = {}): void {
  writeDraft(VIEWER, { incidentId: 'inc-1', ...of }, form, change)
}

/** Every form of the incident and its task, as typed below. */
const TYPED = {
  'escalate-severity': 'critical',
  'escalate-reason': 'beaconing from two more hosts',
  'status-select': 'contained',
  'status-reason': 'hosts isolated',
  'link-relation': 'duplicate_of',
  'link-other': 'Incident inc-2',
  'task-title': 'Collect the proxy logs',
  'task-priority': 'urgent',
  'task-due-input': '2030-03-10 14:30Z',
  'task-assignee': 'cert-lv',
  'task-block-reason': 'waiting for the ministry',
  'comment-body': 'seen from @mari too',
  'comment-task': 'task-1',
  'marking-tlp': 'AMBER',
  'marking-releasable-input': 'cert-l',
}

function typeEverything(): void {
  const incident = watchfloor.getState().state.incidents.get('inc-1')!
  type(ESCALATE_FORM, { choice: { choice: 'critical', basis: incident }, reason: TYPED['escalate-reason'] })
  type(STATUS_FORM, { choice: { choice: 'contained', basis: incident }, reason: TYPED['status-reason'] })
  type(LINK_FORM, { relation: 'duplicate_of', other: TYPED['link-other'], otherId: 'inc-2' })
  type(NEW_TASK_FORM, {
    open: true,
    title: TYPED['task-title'],
    priority: 'urgent',
    due: TYPED['task-due-input'],
    who: TYPED['task-assignee'],
  })
  type(BLOCK_FORM, { open: true, reason: TYPED['task-block-reason'] }, { taskId: 'task-1' })
  type(COMMENT_FORM, { body: TYPED['comment-body'], taskId: 'task-1' })
  type(MARKING_FORM, {
    open: true,
    marking: { tlp: 'AMBER', pap: '', releasableTo: [], recipients: [] },
    openedOn: incident,
    releasable: TYPED['marking-releasable-input'],
  })
}

/** On the task board, the task's card has a block form of its own. */
const ON_THE_BOARD = 'the ministry has not answered'

function render(what: 'detail' | 'board' = 'detail'): string {
  return renderToStaticMarkup(createElement(what === 'detail' ? IncidentDetail : TaskBoard))
}

function expectEverythingShown(html: string): void {
  for (const [testid, value] of Object.entries(TYPED)) expect([testid, field(html, testid)]).toEqual([testid, value])
}

function setup(events: StoredEvent[] = log()) {
  const server = fakeServer(events)
  const sockets: FakeSocket[] = []
  const connection = createConnection({
    store: watchfloor,
    socketFactory: () => {
      const socket = new FakeSocket()
      sockets.push(socket)
      return socket as unknown as WatchfloorSocket
    },
    fetchFn: server.fetchFn,
    retryMs: 1000,
  })
  watchfloor.getState().setSession(COORDINATOR)
  connection.connect(null)
  const socket = sockets[0]!
  socket.fire('connect')
  return { server, socket, connection }
}

/** Wait until the socket has sent `n` subscribes (the picture is open), and ack the last. */
async function opened(socket: FakeSocket, n: number): Promise<void> {
  await vi.waitFor(() => expect(socket.subscribes.length).toBeGreaterThanOrEqual(n))
  socket.subscribes.at(-1)!.ack(null, { ok: true, head: watchfloor.getState().lastSeq })
}

let unwire: () => void = () => {}
beforeEach(() => {
  watchfloor.getState().reset()
  viewStore.getState().select(null)
  formDrafts.setState({ viewer: null, forms: new Map() }, true)
  for (const store of [watchfloor, viewStore, formDrafts]) showsNow(store)
  unwire = wireFormDrafts()
})
afterEach(() => {
  unwire()
  vi.restoreAllMocks()
})

describe('the forms of an incident keep what was typed when the picture is opened again', () => {
  it('resync access_changed: the picture is dropped and opened again; every form of the incident and its task shows what was typed', async () => {
    const { socket, connection } = setup()
    await opened(socket, 1)
    viewStore.getState().select('inc-1')
    expect(field(render(), 'escalate-reason')).toBe('')

    typeEverything()
    type(BLOCK_FORM, { open: true, reason: ON_THE_BOARD }, { taskId: 'task-1', place: 'board' })
    expectEverythingShown(render())
    expect(field(render('board'), 'task-block-reason')).toBe(ON_THE_BOARD)

    // what this viewer may see changed: the picture goes, the panel with it, and opens again
    socket.fire('resync', { after: 0, reason: 'access_changed' })
    expect(watchfloor.getState().state.incidents.has('inc-1')).toBe(false)
    expect(render()).toContain('not in your picture')
    expect(render('board')).not.toContain('data-testid="task-card"')
    await opened(socket, 2)
    expect(watchfloor.getState().state.incidents.has('inc-1')).toBe(true)

    const html = render()
    expectEverythingShown(html)
    // the new task's and the marking's forms are open, as they were; the escalation still expects
    // the version it was started on (draft.ts)
    expect(html).toContain('data-testid="task-form"')
    expect(html).toContain('data-testid="marking-form"')
    const escalation = readDraft(formDrafts.getState(), VIEWER, { incidentId: 'inc-1' }, ESCALATE_FORM).choice
    expect(escalation?.basis.version).toBe(1)
    expect(field(render('board'), 'task-block-reason')).toBe(ON_THE_BOARD)
    connection.disconnect()
  })

  it('an incident no longer in the picture sends nothing and shows no form; what was typed comes back with it', async () => {
    const { socket, server, connection } = setup()
    await opened(socket, 1)
    viewStore.getState().select('inc-1')
    typeEverything()

    // narrowed away from this viewer: the picture opened again no longer holds it
    server.log.splice(0, 2)
    socket.fire('resync', { after: 0, reason: 'access_changed' })
    await opened(socket, 2)
    expect(watchfloor.getState().state.incidents.has('inc-1')).toBe(false)
    const away = render()
    expect(away).toContain('not in your picture')
    expect(field(away, 'escalate-reason')).toBeUndefined()
    expect(server.calls.filter((c) => c.path === '/api/v1/commands')).toEqual([])

    // shared again: the picture opened again holds it, and every form shows what was typed
    server.log.splice(0, 0, ...log().slice(0, 2))
    socket.fire('resync', { after: 0, reason: 'access_changed' })
    await opened(socket, 3)
    expectEverythingShown(render())
    connection.disconnect()
  })

  it('a reconnect whose subscribe is refused as a conflict opens the picture afresh: the forms keep what was typed', async () => {
    const { socket, connection } = setup()
    await opened(socket, 1)
    viewStore.getState().select('inc-1')
    typeEverything()

    socket.fire('disconnect', 'transport close')
    socket.fire('connect')
    await vi.waitFor(() => expect(socket.subscribes.length).toBe(2))
    socket.lastAck()(null, {
      ok: false,
      error: { code: 'conflict', message: 'after 3 is not the seq of an event you may see' },
    })
    expect(render()).toContain('not in your picture')
    await opened(socket, 3)
    expectEverythingShown(render())
    connection.disconnect()
  })

  it('a comment typed about a task that has left the picture is held for the person to choose again, never posted on the incident', async () => {
    const { socket, server, connection } = setup()
    await opened(socket, 1)
    viewStore.getState().select('inc-1')
    type(COMMENT_FORM, { body: 'the sweep found the beacon on host 7', taskId: 'task-1' })
    expect(field(render(), 'comment-task')).toBe('task-1')

    // the task is no longer shared with this viewer; the incident still is
    server.log.splice(1, 1)
    socket.fire('resync', { after: 0, reason: 'access_changed' })
    await opened(socket, 2)
    expect(watchfloor.getState().state.incidents.has('inc-1')).toBe(true)
    expect(watchfloor.getState().state.tasks.has('task-1')).toBe(false)
    const html = render()
    // what was typed is there, its task said to be gone, and Post is off until a place is chosen again
    expect(field(html, 'comment-body')).toBe('the sweep found the beacon on host 7')
    expect(html).toContain('data-testid="comment-task-gone"')
    expect(field(html, 'comment-task')).toBe('task-1')
    expect(/<button[^>]*data-testid="comment-post"[^>]*disabled=""/.test(html)).toBe(true)
    // chosen again: on the incident, and Post is on
    type(COMMENT_FORM, { taskId: '' })
    const chosen = render()
    expect(chosen).not.toContain('data-testid="comment-task-gone"')
    expect(/<button[^>]*data-testid="comment-post"[^>]*disabled=""/.test(chosen)).toBe(false)
    connection.disconnect()
  })

  it('another viewer (view as, then back as themselves) finds none of them', async () => {
    const { socket, connection } = setup()
    await opened(socket, 1)
    viewStore.getState().select('inc-1')
    typeEverything()
    expectEverythingShown(render())

    watchfloor.getState().setSession({ ...COORDINATOR, viewingAs: { kind: 'organisation', id: 'cert-lv' } })
    watchfloor.getState().setSession(COORDINATOR)
    // back as themselves: the drafts went with the viewer before (nothing of one viewer is kept for another)
    const html = render()
    expect(field(html, 'escalate-reason')).toBe('')
    expect(field(html, 'comment-body')).toBe('')
    expect(html).not.toContain('data-testid="task-form"')
    connection.disconnect()
  })
})

describe('the status select', () => {
  it('shows the next step of the incident’s course before anything is chosen: never back to new in one click', async () => {
    const { socket, connection } = setup([
      ...log(),
      makeEvent(4, 'incident.status_changed', { incidentId: 'inc-1', status: 'contained' }),
    ])
    await opened(socket, 1)
    viewStore.getState().select('inc-1')
    expect(watchfloor.getState().state.incidents.get('inc-1')?.status).toBe('contained')
    expect(field(render(), 'status-select')).toBe('eradicated')
    connection.disconnect()
  })
})

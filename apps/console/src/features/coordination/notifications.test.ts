import { makeEvent } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { createWatchfloorStore, emptyPicture } from '../../data/store.ts'
import { eventsAfter, othersViewing, presence, viewerName, wireCoordination } from './coordination.ts'
import { picture, reportEvent } from './fixtures.test-helpers.ts'
import {
  createNotificationCentre,
  deriveNotifications,
  isToastWorthy,
  notificationText,
  type SeenStorage,
  unreadCount,
} from './notifications.ts'
import { NO_NAMES } from './people.ts'

const me = { user: 'kadri', organisation: 'cert-ee' }

const taskForTeam = (seq: number, actor = 'coord') =>
  makeEvent(
    seq,
    'task.created',
    {
      taskId: `t${seq}`,
      incidentId: 'inc-1',
      title: `Task ${seq}`,
      priority: 'high',
      assignee: { kind: 'team', organisation: 'cert-ee' },
    },
    { actor },
  )

const events = [
  reportEvent(1, 'inc-1'),
  taskForTeam(2),
  makeEvent(3, 'task.created', {
    taskId: 't3',
    incidentId: 'inc-1',
    title: 'For Latvia',
    priority: 'low',
    assignee: { kind: 'team', organisation: 'cert-lv' },
  }),
  makeEvent(4, 'task.assigned', { taskId: 't3', assignee: { kind: 'user', userId: 'kadri' } }, { actor: 'coord' }),
  makeEvent(
    5,
    'comment.posted',
    { commentId: 'c1', incidentId: 'inc-1', body: 'please check @kadri', mentions: ['kadri'] },
    { actor: 'mari' },
  ),
  makeEvent(
    6,
    'comment.posted',
    { commentId: 'c2', incidentId: 'inc-1', body: 'note to self @kadri', mentions: ['kadri'] },
    { actor: 'kadri' },
  ),
  makeEvent(
    7,
    'comment.posted',
    { commentId: 'c3', incidentId: 'inc-1', body: 'for @mari', mentions: ['mari'] },
    { actor: 'coord' },
  ),
  taskForTeam(8, 'kadri'), // my own action
]

function memoryStorage(initial: Record<string, number> = {}): SeenStorage & { saved: Record<string, number> } {
  const saved = { ...initial }
  return {
    saved,
    load: (user) => saved[user] ?? 0,
    save: (user, seq) => {
      saved[user] = seq
    },
  }
}

describe('notification derivation', () => {
  it('assignments to me or my team and mentions of me, never my own actions, newest first', () => {
    const found = deriveNotifications(events, me, picture(events))
    expect(found.map((n) => [n.seq, n.kind])).toEqual([
      [5, 'mentioned'],
      [4, 'assigned'],
      [2, 'assigned'],
    ])
    expect(notificationText(found[2]!, NO_NAMES)).toBe('New task for your team (cert-ee): Task 2 (from coord)')
    expect(found[1]).toMatchObject({ incidentId: 'inc-1', taskId: 't3', subject: 'For Latvia' })
    expect(notificationText(found[1]!, NO_NAMES)).toBe('Task assigned to you: For Latvia (by coord)')
    expect(notificationText(found[0]!, NO_NAMES)).toBe('mari mentioned you on Incident inc-1: please check @kadri')
  })

  it('names people and teams from the directory when it knows them, ids otherwise', () => {
    const found = deriveNotifications(events, me, picture(events))
    const names = {
      people: new Map([
        ['coord', 'Clara Coordinator'],
        ['mari', 'Mari Tamm'],
      ]),
      teams: new Map([['cert-ee', 'CERT-EE']]),
    }
    expect(notificationText(found[2]!, names)).toBe('New task for your team (CERT-EE): Task 2 (from Clara Coordinator)')
    expect(notificationText(found[1]!, names)).toBe('Task assigned to you: For Latvia (by Clara Coordinator)')
    expect(notificationText(found[0]!, names)).toBe('Mari Tamm mentioned you on Incident inc-1: please check @kadri')
  })

  it('unread after the last seen seq; toasts only live and unseen', () => {
    const found = deriveNotifications(events, me, picture(events))
    expect(unreadCount(found, 0)).toBe(3)
    expect(unreadCount(found, 4)).toBe(1)
    const n = found[0]!
    expect(isToastWorthy(n, null, 0)).toBe(false) // not live yet: backlog
    expect(isToastWorthy(n, 4, 0)).toBe(true)
    expect(isToastWorthy(n, 5, 0)).toBe(false)
    expect(isToastWorthy(n, 4, 5)).toBe(false) // seen elsewhere already
  })
})

describe('notification centre', () => {
  it('the backlog fills the bell without toasts; live events toast; seen marks persist per user', () => {
    const storage = memoryStorage({ kadri: 2 })
    const centre = createNotificationCentre(storage)
    centre.getState().start(me)
    expect(centre.getState().lastSeen).toBe(2)
    const backlog = events.slice(0, 5)
    centre.getState().ingest(backlog, picture(backlog))
    centre.getState().markLive(5)
    expect(centre.getState().items.map((n) => n.seq)).toEqual([5, 4, 2])
    expect(unreadCount(centre.getState().items, centre.getState().lastSeen)).toBe(2)
    expect(centre.getState().toasts).toEqual([])

    const live = [...events, taskForTeam(9)]
    centre.getState().ingest(live, picture(live)) // only seq > processed is looked at
    expect(centre.getState().items.map((n) => n.seq)).toEqual([9, 5, 4, 2])
    expect(centre.getState().toasts.map((n) => n.seq)).toEqual([9])
    centre.getState().dismissToast(9)
    expect(centre.getState().toasts).toEqual([])

    centre.getState().markAllSeen()
    expect(storage.saved.kadri).toBe(9)
    expect(unreadCount(centre.getState().items, centre.getState().lastSeen)).toBe(0)
    centre.getState().markLive(100) // only the first live mark of a session counts
    expect(centre.getState().liveAfter).toBe(5)
    centre.getState().stop()
    expect(centre.getState().items).toEqual([])
  })

  it('is fed by the data store: session, going live, events received', () => {
    const data = createWatchfloorStore()
    const centre = createNotificationCentre(memoryStorage())
    const stop = wireCoordination(data, centre, false)
    data.getState().setSession({ user: 'kadri', organisation: 'cert-ee', nation: 'EE', roles: ['analyst'] })
    data.getState().applyEvents(events.slice(0, 3)) // backlog
    data.getState().setHead(3)
    data.getState().setStatus('live')
    expect(centre.getState().liveAfter).toBe(3)
    expect(centre.getState().items.map((n) => n.seq)).toEqual([2])
    data.getState().applyEvents(events.slice(3, 5)) // live
    expect(centre.getState().toasts.map((n) => n.seq)).toEqual([5, 4])
    data.getState().reset()
    expect(centre.getState().me).toBeNull()
    stop()
  })

  it('a picture opened anew (viewing as a narrower audience, then back) notifies nothing twice', () => {
    const data = createWatchfloorStore()
    const centre = createNotificationCentre(memoryStorage())
    const stop = wireCoordination(data, centre, false)
    data.getState().setSession({ user: 'kadri', organisation: 'cert-ee', nation: 'EE', roles: ['analyst'] })
    data.getState().applyEvents(events.slice(0, 5))
    data.getState().setHead(5)
    data.getState().setStatus('live')
    data.getState().applyEvents([taskForTeam(6)])
    data.getState().applyEvents([taskForTeam(7)])
    const before = centre.getState().items.map((n) => n.seq)
    const toasts = centre.getState().toasts.map((n) => n.seq)
    // a narrower picture (it ends at 1), then the user's own again, with everything up to 7
    const narrow = events.slice(0, 1)
    data.getState().openPicture(picture(narrow), narrow, { from: 0, to: Number.POSITIVE_INFINITY })
    const own = [...events.slice(0, 5), taskForTeam(6), taskForTeam(7)]
    data.getState().openPicture(picture(own), own, { from: 0, to: Number.POSITIVE_INFINITY })
    data.getState().applyEvents([taskForTeam(8, 'coord')])
    expect(centre.getState().items.map((n) => n.seq)).toEqual([8, ...before])
    expect(centre.getState().toasts.map((n) => n.seq)).toEqual([8, ...toasts])
    stop()
  })
})

describe('notifications follow the viewer', () => {
  const covered = { from: 0, to: Number.POSITIVE_INFINITY }
  const kadri = { user: 'kadri', organisation: 'cert-ee', nation: 'EE', roles: ['coordinator' as const] }
  /** The picture the server sends a viewer: the events it may see, up to the last one. */
  function open(data: ReturnType<typeof createWatchfloorStore>, seen: StoredEvent[]) {
    // as the connection does: the picture goes, then the viewer's own opens
    data.setState({ lastSeq: 0, headSeq: 0, opening: null, ...emptyPicture(data.getState().windowVersion) })
    data.getState().openPicture(picture(seen), seen, covered)
  }

  it('view as a partner and back: the bell and toasts are the picture viewed as, and nothing notifies twice', () => {
    const data = createWatchfloorStore()
    const centre = createNotificationCentre(memoryStorage())
    const stop = wireCoordination(data, centre, false)
    data.getState().setSession(kadri)
    open(data, events.slice(0, 5))
    data.getState().setHead(5)
    data.getState().setStatus('live')
    data.getState().applyEvents([taskForTeam(6)])
    expect(centre.getState().items.map((n) => n.seq)).toEqual([6, 5, 4, 2])
    expect(centre.getState().toasts.map((n) => n.seq)).toEqual([6])

    // viewing as cert-lv: my task titles and the comment that mentions me go at once
    data.getState().setSession({ ...kadri, viewingAs: { kind: 'organisation', id: 'cert-lv' } })
    expect(centre.getState().items).toEqual([])
    expect(centre.getState().toasts).toEqual([])
    // cert-lv receives the report, the task for Latvia and its assignment, my team's new task; not the comment
    const partner = [events[0]!, events[2]!, events[3]!, taskForTeam(6)]
    open(data, partner)
    expect(centre.getState().items.map((n) => n.seq)).toEqual([6, 4])
    expect(centre.getState().toasts).toEqual([])
    data.getState().applyEvents([taskForTeam(7)])
    expect(centre.getState().toasts.map((n) => n.seq)).toEqual([7])

    // back to myself: derived again from my picture; what toasted before toasts no more
    data.getState().setSession(kadri)
    expect(centre.getState().items).toEqual([])
    open(data, [...events.slice(0, 5), taskForTeam(6), taskForTeam(7)])
    expect(centre.getState().items.map((n) => n.seq)).toEqual([7, 6, 5, 4, 2])
    expect(centre.getState().toasts).toEqual([])
    data.getState().applyEvents([taskForTeam(8)])
    expect(centre.getState().toasts.map((n) => n.seq)).toEqual([8])
    stop()
  })

  it('a picture opened anew for the same viewer (access changed) shows only what it may see now', () => {
    const data = createWatchfloorStore()
    const centre = createNotificationCentre(memoryStorage())
    const stop = wireCoordination(data, centre, false)
    data.getState().setSession(kadri)
    open(data, events.slice(0, 5))
    expect(centre.getState().items.map((n) => n.seq)).toEqual([5, 4, 2])
    // the comment that mentions me is no longer mine to see
    open(data, events.slice(0, 4))
    expect(centre.getState().items.map((n) => n.seq)).toEqual([4, 2])
    stop()
  })
})

describe('presence and the event window', () => {
  it('keeps an incident only while someone views it', () => {
    presence.getState().clear()
    presence.getState().set({ incidentId: 'inc-1', viewers: [{ user: 'mari', organisation: 'cert-lv' }] })
    presence.getState().set({ incidentId: 'inc-2', viewers: [{ user: 'mari', organisation: 'cert-lv' }] })
    presence.getState().set({ incidentId: 'inc-1', viewers: [] })
    expect(Object.keys(presence.getState().byIncident)).toEqual(['inc-2'])
    presence.getState().clear()
  })

  it('lists the others viewing, once each', () => {
    const viewers = [
      { user: 'kadri', organisation: 'cert-ee' },
      { user: 'mari', organisation: 'cert-lv' },
      { user: 'mari', organisation: 'cert-lv' },
    ]
    const kadri = { user: 'kadri', organisation: 'cert-ee' }
    expect(othersViewing(viewers, kadri)).toEqual([{ user: 'mari', organisation: 'cert-lv' }])
    expect(othersViewing(undefined, kadri)).toEqual([])
    // a user id is its organisation's own: another organisation's kadri is someone else
    const namesake = { user: 'kadri', organisation: 'ncsc-nl' }
    expect(othersViewing([...viewers, namesake], kadri)).toEqual([{ user: 'mari', organisation: 'cert-lv' }, namesake])
  })

  it('names a viewer by display name, else by user id; another organisation’s with it', () => {
    expect(viewerName({ user: 'kadri', organisation: 'cert-ee', displayName: 'Kadri Tamm' }, 'cert-ee')).toBe(
      'Kadri Tamm',
    )
    expect(viewerName({ user: 'mari', organisation: 'cert-lv' }, 'cert-ee')).toBe('mari (cert-lv)')
    expect(viewerName({ user: 'mari', organisation: 'cert-lv' }, 'cert-lv')).toBe('mari')
  })

  it('takes the events above a seq from the end of the window', () => {
    expect(eventsAfter(events, 6).map((e) => e.seq)).toEqual([7, 8])
    expect(eventsAfter(events, 8)).toEqual([])
    expect(eventsAfter(events, 0)).toHaveLength(8)
  })
})

/**
 * Notifications, derived from the events this console receives (nothing extra from the server):
 * a task assigned to me or to my organisation's team, and a comment that mentions me. My own
 * actions never notify me.
 *
 * - Unread: notifications after the last seq I saw in the bell (kept in localStorage per user).
 * - Toast: only what arrives live, i.e. after the head of the log when this console went live for
 *   this session (the backlog catch-up at sign-in raises none), and after the last seq seen.
 * - Another viewer of the same person (view as on, off, another audience) or a picture opened
 *   anew: derived again from its picture, never toasting what was looked at before (`picture`).
 */
import type { State } from '@watchfloor/core'
import type { Assignee, StoredEvent } from '@watchfloor/protocol'
import { createStore } from 'zustand/vanilla'
import { type Names, personName, teamName } from './people.ts'

export interface Me {
  user: string
  organisation: string
}

export interface Notification {
  seq: number
  kind: 'assigned' | 'mentioned'
  incidentId?: string
  taskId?: string
  /** assigned: to me, or to my team (`team`: its organisation). */
  to?: { kind: 'you' } | { kind: 'team'; organisation: string }
  /** assigned: a new task (else an existing task assigned). */
  created?: boolean
  /** What it is about: the task's title, or the incident's (or task's) the comment is on; else its id. */
  subject: string
  /** mentioned: the comment. */
  body?: string
  /** The user id who did it. */
  by?: string
  /** recordedAt of the event. */
  at: string
}

function assignedToMe(assignee: Assignee | undefined, me: Me): Notification['to'] | null {
  if (assignee === undefined) return null
  if (assignee.kind === 'user') return assignee.userId === me.user ? { kind: 'you' } : null
  return assignee.organisation === me.organisation ? { kind: 'team', organisation: me.organisation } : null
}

function clip(text: string, max = 140): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/**
 * The notification one event raises for me, if any (`state`: the picture with the event folded).
 * It holds the facts (ids and titles); `notificationText` puts them in words with the names known
 * when it is shown (the people directory may arrive after the notification).
 */
export function notificationFor(event: StoredEvent, me: Me, state: State): Notification | null {
  const by = event.actor?.user
  if (by === me.user) return null
  const base = { seq: event.seq, at: event.recordedAt, ...(by !== undefined ? { by } : {}) }
  switch (event.type) {
    case 'task.created': {
      const to = assignedToMe(event.payload.assignee, me)
      if (!to) return null
      const p = event.payload
      return {
        ...base,
        kind: 'assigned',
        incidentId: p.incidentId,
        taskId: p.taskId,
        to,
        created: true,
        subject: p.title,
      }
    }
    case 'task.assigned': {
      const to = assignedToMe(event.payload.assignee, me)
      if (!to) return null
      const task = state.tasks.get(event.payload.taskId)
      return {
        ...base,
        kind: 'assigned',
        ...(task ? { incidentId: task.incidentId } : {}),
        taskId: event.payload.taskId,
        to,
        subject: task?.title ?? event.payload.taskId,
      }
    }
    case 'comment.posted': {
      const p = event.payload
      if (!p.mentions.includes(me.user)) return null
      const subject = p.taskId
        ? (state.tasks.get(p.taskId)?.title ?? p.taskId)
        : (state.incidents.get(p.incidentId)?.title ?? p.incidentId)
      return {
        ...base,
        kind: 'mentioned',
        incidentId: p.incidentId,
        ...(p.taskId !== undefined ? { taskId: p.taskId } : {}),
        subject,
        body: p.body,
      }
    }
    default:
      return null
  }
}

/** One line for a notification, people and teams by name where the directory knows them. */
export function notificationText(n: Notification, names: Names): string {
  const by = n.by === undefined ? undefined : personName(names, n.by)
  if (n.kind === 'mentioned') return clip(`${by ?? 'Someone'} mentioned you on ${n.subject}: ${n.body ?? ''}`)
  const whom = n.to?.kind === 'team' ? `your team (${teamName(names, n.to.organisation)})` : 'you'
  return n.created
    ? clip(`New task for ${whom}: ${n.subject}${by ? ` (from ${by})` : ''}`)
    : clip(`Task assigned to ${whom}: ${n.subject}${by ? ` (by ${by})` : ''}`)
}

/** Notifications of a batch of events, newest first. */
export function deriveNotifications(events: readonly StoredEvent[], me: Me, state: State): Notification[] {
  const found: Notification[] = []
  for (const event of events) {
    const n = notificationFor(event, me, state)
    if (n) found.push(n)
  }
  return found.reverse()
}

/** Should a notification pop up as a toast? Only live ones: after the live mark and after what was seen. */
export function isToastWorthy(n: Notification, liveAfter: number | null, lastSeen: number): boolean {
  return liveAfter !== null && n.seq > liveAfter && n.seq > lastSeen
}

export function unreadCount(items: readonly Notification[], lastSeen: number): number {
  let count = 0
  for (const n of items) if (n.seq > lastSeen) count++
  return count
}

// ---------------------------------------------------------------- the console's notification centre

export const MAX_NOTIFICATIONS = 200
export const MAX_TOASTS = 4
const SEEN_KEY = 'watchfloor.notifications.lastSeen.'

export interface SeenStorage {
  load(user: string): number
  save(user: string, seq: number): void
}

export const localSeenStorage: SeenStorage = {
  load(user) {
    try {
      const value = Number(globalThis.localStorage?.getItem(SEEN_KEY + user))
      return Number.isFinite(value) && value > 0 ? value : 0
    } catch {
      return 0
    }
  },
  save(user, seq) {
    try {
      globalThis.localStorage?.setItem(SEEN_KEY + user, String(seq))
    } catch {
      // storage disabled: unread counts start over next time
    }
  },
}

export interface NotificationCentre {
  me: Me | null
  items: Notification[]
  toasts: Notification[]
  /** The highest seq marked as seen (bell opened). */
  lastSeen: number
  /** Notifications after this seq are live (toast-worthy); null until the console is live. */
  liveAfter: number | null
  /** The highest seq looked at by `ingest` in this picture. */
  processed: number
  /** The highest seq looked at in any picture of this session: nothing at or below it toasts again. */
  looked: number
  start(me: Me): void
  /**
   * A new picture to derive from: the items go (the toasts too for `anotherViewer`), and `ingest`
   * looks at its events from the first; what was looked at before raises no toast.
   */
  picture(anotherViewer: boolean): void
  stop(): void
  /** The console went live: everything up to `head` is backlog. Only the first call per session counts. */
  markLive(head: number): void
  /** Look at newly received events (seq above `processed`), with the picture they were folded into. */
  ingest(events: readonly StoredEvent[], state: State): void

  markAllSeen(): void
  dismissToast(seq: number): void
}

export function createNotificationCentre(storage: SeenStorage = localSeenStorage) {
  const empty = { me: null, items: [], toasts: [], lastSeen: 0, liveAfter: null, processed: 0, looked: 0 }
  return createStore<NotificationCentre>()((set, get) => ({
    ...empty,
    start(me) {
      const current = get().me
      if (current?.user === me.user && current.organisation === me.organisation) return
      set({ ...empty, me, lastSeen: storage.load(me.user) })
    },
    stop() {
      set({ ...empty })
    },
    markLive(head) {
      if (get().liveAfter === null && get().me !== null) set({ liveAfter: head })
    },
    picture(anotherViewer) {
      const { looked, processed } = get()
      set({ items: [], ...(anotherViewer ? { toasts: [] } : {}), processed: 0, looked: Math.max(looked, processed) })
    },

    ingest(events, state) {
      const { me, processed, liveAfter, lastSeen, looked } = get()
      if (me === null) return
      const fresh = events.filter((e) => e.seq > processed)
      if (fresh.length === 0) return
      const found = deriveNotifications(fresh, me, state)
      const maxSeq = fresh.at(-1)!.seq
      if (found.length === 0) {
        set({ processed: Math.max(processed, maxSeq), looked: Math.max(looked, maxSeq) })
        return
      }
      // what an earlier picture looked at toasted then, or not at all
      const toasts = found.filter((n) => n.seq > looked && isToastWorthy(n, liveAfter, lastSeen))
      set({
        processed: Math.max(processed, maxSeq),
        looked: Math.max(looked, maxSeq),
        items: [...found, ...get().items].slice(0, MAX_NOTIFICATIONS),
        toasts: toasts.length > 0 ? [...toasts, ...get().toasts].slice(0, MAX_TOASTS) : get().toasts,
      })
    },
    markAllSeen() {
      const { me, items, lastSeen } = get()
      const newest = items[0]?.seq ?? 0
      if (me === null || newest <= lastSeen) return
      storage.save(me.user, newest)
      set({ lastSeen: newest })
    },
    dismissToast(seq) {
      set({ toasts: get().toasts.filter((t) => t.seq !== seq) })
    },
  }))
}

export type NotificationCentreStore = ReturnType<typeof createNotificationCentre>

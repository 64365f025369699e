/**
 * Notifications, derived from the events this console receives (nothing extra from the server):
 * a task assigned to me or to my organisation's team, and a comment that mentions me. My own
 * actions never notify me.
 *
 * - Unread: notifications after the last seq I saw in the bell (kept in localStorage per user).
 * - Toast: only what arrives live, i.e. after the head of the log when this console went live for
 *   this session (the backlog catch-up at sign-in raises none), and after the last seq seen.
 */
import type { State } from '@watchfloor/core'
import type { Assignee, StoredEvent } from '@watchfloor/protocol'
import { createStore } from 'zustand/vanilla'

export interface Me {
  user: string
  organisation: string
}

export interface Notification {
  seq: number
  kind: 'assigned' | 'mentioned'
  incidentId?: string
  taskId?: string
  /** One line to show. */
  text: string
  by?: string
  /** recordedAt of the event. */
  at: string
}

function assignedToMe(assignee: Assignee | undefined, me: Me): 'you' | 'team' | null {
  if (assignee === undefined) return null
  if (assignee.kind === 'user') return assignee.userId === me.user ? 'you' : null
  return assignee.organisation === me.organisation ? 'team' : null
}

function clip(text: string, max = 140): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** The notification one event raises for me, if any (`state`: the picture with the event folded). */
export function notificationFor(event: StoredEvent, me: Me, state: State): Notification | null {
  const by = event.actor?.user
  if (by === me.user) return null
  const base = { seq: event.seq, at: event.recordedAt, ...(by !== undefined ? { by } : {}) }
  const whom = (to: 'you' | 'team') => (to === 'you' ? 'you' : `your team (${me.organisation})`)
  switch (event.type) {
    case 'task.created': {
      const to = assignedToMe(event.payload.assignee, me)
      if (to === null) return null
      const p = event.payload
      return {
        ...base,
        kind: 'assigned',
        incidentId: p.incidentId,
        taskId: p.taskId,
        text: clip(`New task for ${whom(to)}: ${p.title}${by ? ` (from ${by})` : ''}`),
      }
    }
    case 'task.assigned': {
      const to = assignedToMe(event.payload.assignee, me)
      if (to === null) return null
      const task = state.tasks.get(event.payload.taskId)
      return {
        ...base,
        kind: 'assigned',
        ...(task ? { incidentId: task.incidentId } : {}),
        taskId: event.payload.taskId,
        text: clip(`Task assigned to ${whom(to)}: ${task?.title ?? event.payload.taskId}${by ? ` (by ${by})` : ''}`),
      }
    }
    case 'comment.posted': {
      const p = event.payload
      if (!p.mentions.includes(me.user)) return null
      const where = p.taskId
        ? (state.tasks.get(p.taskId)?.title ?? p.taskId)
        : (state.incidents.get(p.incidentId)?.title ?? p.incidentId)
      return {
        ...base,
        kind: 'mentioned',
        incidentId: p.incidentId,
        ...(p.taskId !== undefined ? { taskId: p.taskId } : {}),
        text: clip(`${by ?? 'Someone'} mentioned you on ${where}: ${p.body}`),
      }
    }
    default:
      return null
  }
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
  /** The highest seq looked at by `ingest`. */
  processed: number
  start(me: Me): void
  stop(): void
  /** The console went live: everything up to `head` is backlog. Only the first call per session counts. */
  markLive(head: number): void
  /** Look at newly received events (seq above `processed`), with the picture they were folded into. */
  ingest(events: readonly StoredEvent[], state: State): void
  markAllSeen(): void
  dismissToast(seq: number): void
}

export function createNotificationCentre(storage: SeenStorage = localSeenStorage) {
  const empty = { me: null, items: [], toasts: [], lastSeen: 0, liveAfter: null, processed: 0 }
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
    ingest(events, state) {
      const { me, processed, liveAfter, lastSeen } = get()
      if (me === null) return
      const fresh = events.filter((e) => e.seq > processed)
      if (fresh.length === 0) return
      const found = deriveNotifications(fresh, me, state)
      const maxSeq = fresh.at(-1)!.seq
      if (found.length === 0) {
        set({ processed: Math.max(processed, maxSeq) })
        return
      }
      const toasts = found.filter((n) => isToastWorthy(n, liveAfter, lastSeen))
      set({
        processed: Math.max(processed, maxSeq),
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

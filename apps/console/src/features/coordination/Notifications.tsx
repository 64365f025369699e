import { useEffect, useRef, useState } from 'react'
import { formatClock } from '../../ui/format.ts'
import { viewStore } from '../../view/viewStore.ts'
import { notifications, ui, useNotifications } from './coordination.ts'
import { type Notification, notificationText, unreadCount } from './notifications.ts'
import { useNames } from './usePeople.ts'

function open(n: Notification): void {
  if (n.incidentId) {
    ui.getState().setPage('picture')
    viewStore.getState().select(n.incidentId)
  }
}

/** The bell: unread count; opening it lists the notifications and marks them seen. */
export function Bell() {
  const items = useNotifications((c) => c.items)
  const lastSeen = useNotifications((c) => c.lastSeen)
  const [expanded, setExpanded] = useState(false)
  const names = useNames()
  /** What was unread when the list was opened stays marked while it is open. */
  const [seenBefore, setSeenBefore] = useState(0)
  const unread = unreadCount(items, lastSeen)
  const root = useRef<HTMLDivElement>(null)

  useEffect(() => {
    if (!expanded) return
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !root.current?.contains(e.target as Node))
        setExpanded(false)
    }
    document.addEventListener('mousedown', close)
    document.addEventListener('keydown', close)
    return () => {
      document.removeEventListener('mousedown', close)
      document.removeEventListener('keydown', close)
    }
  }, [expanded])

  const toggle = () => {
    if (!expanded) {
      setSeenBefore(lastSeen)
      notifications.getState().markAllSeen()
    }
    setExpanded(!expanded)
  }

  return (
    <div className="bell" ref={root}>
      <button
        type="button"
        className="button bell-button"
        data-testid="bell"
        aria-expanded={expanded}
        aria-label={`Notifications: ${unread} unread`}
        onClick={toggle}
      >
        <svg className="bell-icon" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
          <path
            d="M8 1.5a4.5 4.5 0 0 0-4.5 4.5v3L2 11.5h12L12.5 9V6A4.5 4.5 0 0 0 8 1.5Zm-1.8 11a1.8 1.8 0 0 0 3.6 0Z"
            fill="currentColor"
          />
        </svg>
        {unread > 0 && (
          <span className="badge" data-testid="bell-count">
            {unread}
          </span>
        )}
      </button>
      {expanded && (
        <div className="bell-list" data-testid="notification-list" role="dialog" aria-label="Notifications">
          {items.length === 0 && <p className="empty">Nothing for you yet.</p>}
          <ul>
            {items.map((n) => (
              <li key={n.seq} className={n.seq > seenBefore ? 'unread' : undefined}>
                <button
                  type="button"
                  className="notification"
                  data-testid="notification"
                  data-kind={n.kind}
                  onClick={() => {
                    open(n)
                    setExpanded(false)
                  }}
                >
                  <span className="muted mono">{formatClock(n.at)}</span> {notificationText(n, names)}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  )
}

export const TOAST_MS = 10_000

function Toast({ n }: { n: Notification }) {
  const names = useNames()
  useEffect(() => {
    const timer = setTimeout(() => notifications.getState().dismissToast(n.seq), TOAST_MS)
    return () => clearTimeout(timer)
  }, [n.seq])
  return (
    <div className={`toast toast-${n.kind}`} data-testid="toast" data-seq={n.seq}>
      <button type="button" className="toast-body" onClick={() => open(n)}>
        {notificationText(n, names)}
      </button>
      <button
        type="button"
        className="link"
        aria-label="Dismiss"
        onClick={() => notifications.getState().dismissToast(n.seq)}
      >
        ✕
      </button>
    </div>
  )
}

/** New notifications that arrived live, for a few seconds. */
export function Toasts() {
  const toasts = useNotifications((c) => c.toasts)
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((n) => (
        <Toast key={n.seq} n={n} />
      ))}
    </div>
  )
}

/**
 * The console's coordination state besides the picture: notifications, presence and which page
 * shows. `wireCoordination` feeds them from the data store (events received, session, status)
 * and from the connection's presence messages.
 */
import type { StoredEvent } from '@watchfloor/protocol'
import { useStore } from 'zustand'
import { createStore } from 'zustand/vanilla'
import { onPresence, type PresenceMessage } from '../../data/connection.ts'
import type { Opened, WatchfloorStore } from '../../data/store.ts'
import { watchfloor } from '../../data/store.ts'
import { viewerKey } from '../../data/viewAs.ts'
import { createNotificationCentre, type NotificationCentre, type NotificationCentreStore } from './notifications.ts'

export const notifications = createNotificationCentre()
export function useNotifications<T>(selector: (centre: NotificationCentre) => T): T {
  return useStore(notifications, selector)
}

export type Viewer = PresenceMessage['viewers'][number]

export interface PresenceState {
  byIncident: Readonly<Record<string, readonly Viewer[]>>
  set(message: PresenceMessage): void
  clear(): void
}

export const presence = createStore<PresenceState>()((set, get) => ({
  byIncident: {},
  set(message) {
    const { [message.incidentId]: _left, ...others } = get().byIncident
    // nobody viewing: no entry (a console open for days sees thousands of incidents come and go)
    set({ byIncident: message.viewers.length === 0 ? others : { ...others, [message.incidentId]: message.viewers } })
  },
  clear() {
    set({ byIncident: {} })
  },
}))

const NOBODY: readonly Viewer[] = []
/** A person of presence: a user id is its organisation's own (two organisations may hold the same). */
export function presenceKey(viewer: Pick<Viewer, 'user' | 'organisation'>): string {
  return JSON.stringify([viewer.organisation, viewer.user])
}

/** Who else has this incident open (not me), each person once. */
export function othersViewing(
  viewers: readonly Viewer[] | undefined,
  me: Pick<Viewer, 'user' | 'organisation'> | undefined,
): readonly Viewer[] {
  if (!viewers || viewers.length === 0) return NOBODY
  const seen = new Set<string>(me === undefined ? [] : [presenceKey(me)])
  const others: Viewer[] = []
  for (const v of viewers) {
    if (seen.has(presenceKey(v))) continue
    seen.add(presenceKey(v))
    others.push(v)
  }
  return others
}

/**
 * A viewer as the console names them: by display name (the server sends one for people of the
 * viewer's own organisation only), else by user id; another organisation's person with it.
 */
export function viewerName(viewer: Viewer, myOrganisation: string | undefined): string {
  const name = viewer.displayName ?? viewer.user
  return viewer.organisation === myOrganisation ? name : `${name} (${viewer.organisation})`
}

export function usePresence(incidentId: string): readonly Viewer[] | undefined {
  return useStore(presence, (p) => p.byIncident[incidentId])
}

/**
 * The page on screen: the picture, the shift handover, Sharing (the directory; admins and liaisons)
 * or Access (accounts and tokens; admins).
 */
export type Page = 'picture' | 'handover' | 'sharing' | 'access'

export interface UiState {
  page: Page
  setPage(page: Page): void
}

/** The page a link asks for: `?handover=1`, `?sharing=1` or `?access=1`, else the picture. */
export function pageRequested(search: string): Page {
  const params = new URLSearchParams(search)
  if (params.get('handover') === '1') return 'handover'
  if (params.get('sharing') === '1') return 'sharing'
  if (params.get('access') === '1') return 'access'
  return 'picture'
}

function initialPage(): Page {
  return typeof window === 'undefined' ? 'picture' : pageRequested(window.location.search)
}

export const ui = createStore<UiState>()((set) => ({
  page: initialPage(),
  setPage(page) {
    set({ page })
  },
}))
export function useUi<T>(selector: (state: UiState) => T): T {
  return useStore(ui, selector)
}

/** The events of the window above `after` (they are at its end: the window is in seq order). */
export function eventsAfter(window: readonly StoredEvent[], after: number): StoredEvent[] {
  let i = window.length
  while (i > 0 && window[i - 1]!.seq > after) i--
  return i === window.length ? [] : window.slice(i)
}

type DataStore = {
  getState(): WatchfloorStore
  subscribe(listener: (s: WatchfloorStore, p: WatchfloorStore) => void): () => void
}

/** Keep notifications and presence in step with the data store. Returns the unsubscribe. */
export function wireCoordination(
  data: DataStore = watchfloor,
  centre: NotificationCentreStore = notifications,
  withPresence = true,
): () => void {
  /** The viewer (data/viewAs.ts `viewerKey`) and the picture opened that the notifications are of. */
  let viewer: string | null = null
  let opened: Opened | null = null
  /** After another viewer came: the window of the one before, still held until the picture goes. */
  let before: readonly StoredEvent[] | null = null
  const sync = (s: WatchfloorStore) => {
    const c = centre.getState()
    if (s.session === null) {
      if (c.me !== null) c.stop()
      viewer = null
      before = null
      return
    }
    c.start({ user: s.session.user, organisation: s.session.organisation })
    const key = viewerKey(s.session)
    if (viewer !== null && key !== viewer) {
      // another viewer (view as on, off, another audience): the bell and toasts show what its own
      // picture derives, not subjects of the viewer before
      centre.getState().picture(true)
      before = s.liveWindow
    } else if (s.opened !== opened) {
      // a picture opened anew (resync for access_changed): its subjects are what the viewer may see now
      centre.getState().picture(false)
    }
    viewer = key
    opened = s.opened
    if (s.status === 'live') centre.getState().markLive(s.headSeq)
    if (before !== null && s.liveWindow === before) return
    before = null
    // the live picture, also while a replay is on screen
    const fresh = eventsAfter(s.liveWindow, centre.getState().processed)
    if (fresh.length > 0) centre.getState().ingest(fresh, s.liveState)
  }
  sync(data.getState())
  const unsubscribe = data.subscribe((s, prev) => {
    if (
      s.session !== prev.session ||
      s.status !== prev.status ||
      s.liveWindowVersion !== prev.liveWindowVersion ||
      s.opened !== prev.opened
    )
      sync(s)
    if (withPresence && s.session === null && prev.session !== null) presence.getState().clear()
  })
  if (withPresence)
    onPresence(
      (message) => presence.getState().set(message),
      () => presence.getState().clear(),
    )
  return () => {
    unsubscribe()
    if (withPresence) onPresence(undefined)
  }
}

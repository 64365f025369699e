/**
 * "View as" in the console [V11, A7]: a coordinator or an admin picks an organisation or a
 * community (the header's control, or a "View as" button on the Sharing page) and the whole
 * console shows what that audience receives from what they may see, read-only. The switch itself
 * is data/session.ts `setViewAs` (the server is asked, the socket connects again with
 * `auth.viewAs`, the picture starts from empty); every REST call then carries the header
 * (data/api.ts). Here: the switch as the screens ask for it, the directory the names come from,
 * and `wireViewAs`, which keeps the link (`?viewAs=`), the page title, presence and map snapshots
 * in step.
 */
import { useStore } from 'zustand'
import { createStore } from 'zustand/vanilla'
import { setViewAs } from '../../data/session.ts'
import { type Session, type WatchfloorStore, watchfloor } from '../../data/store.ts'
import { type AudienceKind, sameViewAs, type ViewAs, viewerKey } from '../../data/viewAs.ts'
import { viewStore } from '../../view/viewStore.ts'
import { presence } from '../coordination/coordination.ts'
import { clearSnapshots } from '../report/snapshots.ts'
import { type Directory, formErrorOf, loadDirectory } from '../sharing/directory.ts'

export interface ViewAsUi {
  /** The audience a switch under way asks for (null: back to myself); undefined: none under way. */
  pending: ViewAs | null | undefined
  /** The directory the audiences and their names come from (`GET /api/v1/directory`). */
  directory: Directory | null
  /** When it was read (epoch ms; 0: never). */
  directoryAt: number
  directoryError: string | null
}

const idle: ViewAsUi = { pending: undefined, directory: null, directoryAt: 0, directoryError: null }

export const viewAsUi = createStore<ViewAsUi>()(() => idle)

export function useViewAsUi<T>(selector: (state: ViewAsUi) => T): T {
  return useStore(viewAsUi, selector)
}

/** The audience the signed-in console views as (what the server agreed to), or null. */
export function viewingAsOf(session: Session | null | undefined): ViewAs | null {
  const as = session?.viewingAs
  return as ? { kind: as.kind, id: as.id } : null
}

/**
 * View as `target` (null: stop). Resolves true once the console shows that audience's picture,
 * false when the server refused (the store's `viewAsError` says why) or another switch took over.
 */
export async function viewAs(
  target: ViewAs | null,
  switchTo: (target: ViewAs | null) => Promise<string | null> = setViewAs,
): Promise<boolean> {
  viewAsUi.setState({ pending: target })
  try {
    return (await switchTo(target)) === null
  } finally {
    if (sameViewAs(viewAsUi.getState().pending, target)) viewAsUi.setState({ pending: undefined })
  }
}

/** Back to my own picture. */
export function stopViewingAs(): Promise<boolean> {
  return viewAs(null)
}

/** Read again at most this often (the control asks on every focus). */
const DIRECTORY_FRESH_MS = 15_000
let loading: Promise<void> | null = null

/** Read the directory for the audiences and their names, unless it was read a moment ago. */
export function loadAudiences(force = false, load: () => Promise<Directory> = loadDirectory): Promise<void> {
  if (loading) return loading
  const { directoryAt } = viewAsUi.getState()
  if (!force && directoryAt > 0 && Date.now() - directoryAt < DIRECTORY_FRESH_MS) return Promise.resolve()
  loading = load()
    .then(
      (directory) => viewAsUi.setState({ directory, directoryAt: Date.now(), directoryError: null }),
      (error: unknown) => {
        const failure = formErrorOf(error)
        viewAsUi.setState({ directoryError: failure.message })
      },
    )
    .finally(() => {
      loading = null
    })
  return loading
}

/** An audience's name as the directory says it (its id when the directory does not list it). */
export function audienceName(directory: Directory | null | undefined, audience: ViewAs): string {
  const entries: readonly { id: string; name: string }[] | undefined =
    audience.kind === 'organisation' ? directory?.organisations : directory?.communities
  return entries?.find((entry) => entry.id === audience.id)?.name ?? audience.id
}

/** The banner's words. */
export function bannerText(name: string, kind: AudienceKind): string {
  return `VIEWING AS ${name} (${kind}) — what they receive from what you may see. Read-only.`
}

/** The page title while viewing as (null: not), so a tab, a window list and a screenshot say so. */
export function titleOf(base: string, name: string | null): string {
  return name === null ? base : `VIEWING AS ${name} · ${base}`
}

type DataStore = {
  getState(): WatchfloorStore
  subscribe(listener: (s: WatchfloorStore, p: WatchfloorStore) => void): () => void
}

/**
 * Keep the rest of the console in step with the audience viewed as: the link (`?viewAs=`, through
 * the view store) says what the server agreed to; signing out forgets it; a new viewer starts with
 * no presence and no map snapshots of the old one; the directory is read for the names; the page
 * title is prefixed.
 * Returns the unsubscribe.
 */
export function wireViewAs(data: DataStore = watchfloor, view = viewStore): () => void {
  const doc = typeof document === 'undefined' ? undefined : document
  const baseTitle = doc?.title ?? 'Watchfloor'
  const retitle = () => {
    if (!doc) return
    const as = viewingAsOf(data.getState().session)
    doc.title = titleOf(baseTitle, as ? audienceName(viewAsUi.getState().directory, as) : null)
  }
  const sync = (s: WatchfloorStore, prev: WatchfloorStore | undefined) => {
    const now = viewingAsOf(s.session)
    if (s.session !== null) view.getState().setViewAs(now)
    else if (prev?.session) {
      // signed out: the next person starts as themselves, with their own directory
      view.getState().setViewAs(null)
      viewAsUi.setState({ directory: null, directoryAt: 0, directoryError: null })
    }
    if (prev && !sameViewAs(now, viewingAsOf(prev.session))) presence.getState().clear()
    // sign-out, another person, another audience: the old viewer's map pictures go (a report printed
    // now must not carry them)
    if (prev && viewerKey(s.session) !== viewerKey(prev.session)) clearSnapshots()
    if (now && !sameViewAs(now, viewingAsOf(prev?.session))) void loadAudiences(true)
    retitle()
  }
  sync(data.getState(), undefined)
  const unsubscribe = data.subscribe((s, prev) => {
    if (s.session !== prev.session) sync(s, prev)
  })
  const unsubscribeNames = viewAsUi.subscribe((s, prev) => {
    if (s.directory !== prev.directory) retitle()
  })
  return () => {
    unsubscribe()
    unsubscribeNames()
    if (doc) doc.title = baseTitle
  }
}

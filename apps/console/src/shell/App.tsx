import { type FormEvent, Fragment, lazy, type ReactNode, Suspense, useEffect, useMemo, useRef, useState } from 'react'
import { useStore } from 'zustand'
import { resumeSession, signIn, signInWithPassword, signOut } from '../data/session.ts'
import { useWatchfloor } from '../data/store.ts'
import { takeTokenFromLocation, tokenFromHash } from '../data/token.ts'
import { viewAsValue } from '../data/viewAs.ts'
import { mayManageAccess } from '../features/access/permissions.ts'
import { AlarmBanner } from '../features/alarm/AlarmBanner.tsx'
import { wireAlarms } from '../features/alarm/alarmStore.ts'
import { StatusBoard } from '../features/board/StatusBoard.tsx'
import { type Page, useUi, wireCoordination } from '../features/coordination/coordination.ts'
import { wireFormDrafts } from '../features/coordination/formDrafts.ts'
import { Toasts } from '../features/coordination/Notifications.tsx'
import { wireWithdrawn } from '../features/coordination/withdrawn.ts'
import { IncidentDetail } from '../features/detail/IncidentDetail.tsx'
import { FilterBar } from '../features/filters/FilterBar.tsx'
import { EventList } from '../features/lists/EventList.tsx'
import { IncidentList } from '../features/lists/IncidentList.tsx'
import { BookmarkList, ReplayBarOnDemand } from '../features/replay/ReplayEntry.tsx'
import { replay } from '../features/replay/replayStore.ts'
import { openFromView, wireReplay } from '../features/replay/startReplay.ts'
import { mayOpenSharing } from '../features/sharing/directory.ts'
import { myOverdueCount } from '../features/tasks/board.ts'
import { TaskBoard } from '../features/tasks/TaskBoard.tsx'
import { Timeline } from '../features/timeline/Timeline.tsx'
import { TriageCount, TriageQueue } from '../features/triage/TriageQueue.tsx'
import { ViewAsBanner, ViewAsRefusal } from '../features/viewas/ViewAs.tsx'
import { wireViewAs } from '../features/viewas/viewAs.ts'
import { ChunkBoundary } from '../ui/ChunkBoundary.tsx'
import { Splitter } from '../ui/Splitter.tsx'
import { useServerNow } from '../ui/useNow.ts'
import { syncViewToUrl, useView, viewStore } from '../view/viewStore.ts'
import { Header } from './Header.tsx'
import { detailBounds, layout, MIN_STAGE_PX, sidebarBounds } from './layout.ts'

// Loaded on demand (their own chunks): the map (MapLibre and the basemap, the bulk of the console),
// the report, the handover, the Sharing page, the Access page, and replay (its bar and machinery,
// features/replay/startReplay.ts).
// The sign-in form, the header, the lists and the timeline come with the first load.
const MapView = lazy(() => import('../features/map/MapView.tsx').then((m) => ({ default: m.MapView })))
const ReportPage = lazy(() => import('../features/report/Report.tsx').then((m) => ({ default: m.ReportPage })))
const HandoverPage = lazy(() => import('../features/handover/Handover.tsx').then((m) => ({ default: m.HandoverPage })))
const SharingPage = lazy(() => import('../features/sharing/Sharing.tsx').then((m) => ({ default: m.SharingPage })))
const AccessPage = lazy(() => import('../features/access/Access.tsx').then((m) => ({ default: m.AccessPage })))

/** What shows while a page's chunk loads. */
function Loading({ what, children }: { what: string; children: ReactNode }) {
  return (
    <ChunkBoundary what={what}>
      <Suspense
        fallback={
          <p className="hint page-loading" role="status" data-testid="page-loading">
            Loading {what}…
          </p>
        }
      >
        {children}
      </Suspense>
    </ChunkBoundary>
  )
}

const TABS = ['incidents', 'triage', 'tasks', 'networks', 'events', 'bookmarks'] as const
type Tab = (typeof TABS)[number]

/** My (and my team's) overdue tasks, for the tab label. */
function OverdueBadge() {
  const state = useWatchfloor((s) => s.state)
  const session = useWatchfloor((s) => s.session)
  const now = useServerNow(30_000)
  const count = useMemo(
    () => (session ? myOverdueCount(state, { user: session.user, organisation: session.organisation }, now) : 0),
    [state, session, now],
  )
  if (count === 0) return null
  return (
    <span className="badge overdue-badge" title={`${count} of your tasks are overdue`} data-testid="tab-overdue">
      {count}
    </span>
  )
}

/**
 * The side panel: the selected incident's detail over the tabs, with a separator between them
 * that sizes the detail, and a button that gives the panel the whole width.
 */
function Sidebar() {
  const [tab, setTab] = useState<Tab>('incidents')
  const selection = useView((v) => v.selection)
  const detailPx = useStore(layout, (l) => l.detailPx)
  const wide = useStore(layout, (l) => l.wide)
  const panel = useRef<HTMLElement>(null)
  const detail = useRef<HTMLDivElement>(null)
  return (
    <aside className="sidebar" ref={panel} data-testid="sidebar">
      {selection && (
        <>
          <div
            className={`detail-slot${detailPx === null ? '' : ' sized'}`}
            ref={detail}
            style={detailPx === null ? undefined : { height: detailPx }}
          >
            <IncidentDetail />
          </div>
          <Splitter
            orientation="horizontal"
            label="Resize the incident detail"
            testId="detail-splitter"
            grows="forward"
            measure={() => detail.current?.getBoundingClientRect().height ?? 0}
            bounds={() => detailBounds(panel.current?.getBoundingClientRect().height ?? window.innerHeight)}
            onSize={(px) => layout.setState({ detailPx: px })}
            onReset={() => layout.setState({ detailPx: null })}
          />
        </>
      )}
      <div className="tabs" role="tablist">
        {TABS.map((name) => (
          <button
            key={name}
            type="button"
            role="tab"
            aria-selected={tab === name}
            data-testid={`tab-${name}`}
            className="tab"
            onClick={() => setTab(name)}
          >
            {name}
            {name === 'tasks' && <OverdueBadge />}
            {name === 'triage' && <TriageCount />}
          </button>
        ))}
        <button
          type="button"
          className="tab widen"
          aria-pressed={wide}
          data-testid="sidebar-wide"
          title={wide ? 'Show the map and the timeline again' : 'Give this panel the whole width'}
          aria-label={wide ? 'Show the map and the timeline again' : 'Give this panel the whole width'}
          onClick={() => layout.setState({ wide: !wide })}
        >
          <span aria-hidden="true">{wide ? '⇥' : '⇤'}</span>
        </button>
      </div>
      <div className={`tab-body tab-body-${tab}`}>
        {tab === 'incidents' && <IncidentList />}
        {tab === 'triage' && <TriageQueue />}
        {tab === 'tasks' && <TaskBoard />}
        {tab === 'networks' && <StatusBoard />}
        {tab === 'events' && <EventList />}
        {tab === 'bookmarks' && <BookmarkList />}
      </div>
    </aside>
  )
}

/**
 * The live picture: the map over the timeline, the side panel beside them; the separator between
 * sizes the side panel, and a wide side panel sets the map and the timeline aside.
 */
function Picture() {
  const sidebarPx = useStore(layout, (l) => l.sidebarPx)
  const wide = useStore(layout, (l) => l.wide)
  const picture = useRef<HTMLElement>(null)
  const sidebarWidth = () => picture.current?.querySelector<HTMLElement>('.sidebar')?.getBoundingClientRect().width ?? 0
  return (
    <main
      className={`picture${wide ? ' sidebar-wide' : ''}`}
      ref={picture}
      data-testid="picture"
      style={
        sidebarPx === null || wide
          ? undefined
          : { gridTemplateColumns: `minmax(0, 1fr) auto min(${sidebarPx}px, calc(100% - ${MIN_STAGE_PX}px))` }
      }
    >
      <div className="stage" aria-hidden={wide || undefined}>
        <div className="map-panel">
          <Loading what="the map">
            <MapView />
          </Loading>
        </div>
        <div className="timeline-panel">
          <Timeline />
        </div>
      </div>
      {!wide && (
        <Splitter
          orientation="vertical"
          label="Resize the side panel"
          testId="sidebar-splitter"
          grows="backward"
          measure={sidebarWidth}
          bounds={() => sidebarBounds(picture.current?.getBoundingClientRect().width ?? window.innerWidth)}
          onSize={(px) => layout.setState({ sidebarPx: px })}
          onReset={() => layout.setState({ sidebarPx: null })}
        />
      )}
      <Sidebar />
    </main>
  )
}

type Mode = 'password' | 'token'

function SignIn({
  pending,
  resuming,
  initialMode,
  onToken,
  onPassword,
}: {
  pending: boolean
  resuming: boolean
  initialMode: Mode
  onToken: (token: string) => void
  onPassword: (username: string, password: string) => void
}) {
  const error = useWatchfloor((s) => s.error)
  const [mode, setMode] = useState<Mode>(initialMode)
  const [token, setToken] = useState('')
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const submitToken = (e: FormEvent) => {
    e.preventDefault()
    onToken(token)
  }
  const submitPassword = (e: FormEvent) => {
    e.preventDefault()
    onPassword(username, password)
    setPassword('')
  }
  return (
    <main className="signin">
      <div className="signin-form">
        <h1 className="product">Watchfloor</h1>
        {mode === 'password' ? (
          <form className="signin-fields" onSubmit={submitPassword} data-testid="password-form">
            <label htmlFor="username">Username</label>
            <input
              id="username"
              data-testid="username-input"
              // biome-ignore lint/a11y/noAutofocus: the sign-in page has nothing else to do
              autoFocus
              autoComplete="username"
              spellCheck={false}
              autoCapitalize="none"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
            <label htmlFor="password">Password</label>
            <input
              id="password"
              data-testid="password-input"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <button type="submit" className="button primary" data-testid="password-sign-in" disabled={pending}>
              {pending ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        ) : (
          <form className="signin-fields" onSubmit={submitToken} data-testid="token-form">
            <label htmlFor="token">API token</label>
            <input
              id="token"
              data-testid="token-input"
              // biome-ignore lint/a11y/noAutofocus: shown when the person asked for it, with nothing else to do
              autoFocus
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={token}
              onChange={(e) => setToken(e.target.value)}
              placeholder="Paste your API token"
            />
            <button type="submit" className="button primary" data-testid="sign-in" disabled={pending}>
              {pending ? 'Signing in…' : 'Sign in with the token'}
            </button>
            <p className="hint">The token stays in this tab only (sessionStorage).</p>
          </form>
        )}
        {resuming && <p className="hint">Looking for your session…</p>}
        {error && !pending && (
          <p className="error" data-testid="sign-in-error" role="alert">
            {error}
          </p>
        )}
        <button
          type="button"
          className="link signin-switch"
          data-testid={mode === 'password' ? 'use-token' : 'use-password'}
          onClick={() => setMode(mode === 'password' ? 'token' : 'password')}
        >
          {mode === 'password' ? 'Use an API token instead' : 'Sign in with username and password'}
        </button>
      </div>
    </main>
  )
}

export function App({ initialToken }: { initialToken: string | null }) {
  const session = useWatchfloor((s) => s.session)
  const page = useUi((u) => u.page)
  const [pending, setPending] = useState(initialToken !== null)
  const [resuming, setResuming] = useState(initialToken === null)

  const attempt = (token: string) => {
    setPending(true)
    void signIn(token).finally(() => setPending(false))
  }
  const attemptPassword = (username: string, password: string) => {
    setPending(true)
    setResuming(false)
    void signInWithPassword(username, password).finally(() => setPending(false))
  }

  useEffect(() => {
    if (initialToken !== null) {
      setPending(true)
      void signIn(initialToken).finally(() => setPending(false))
      return
    }
    // no token: a session cookie from earlier in this browser?
    setResuming(true)
    void resumeSession().finally(() => setResuming(false))
  }, [initialToken])

  // a `#token=...` link opened in a tab that is already showing the console
  useEffect(() => {
    const onHashChange = () => {
      if (tokenFromHash(window.location.hash) === null) return
      const token = takeTokenFromLocation()
      if (token !== null) attempt(token)
    }
    window.addEventListener('hashchange', onHashChange)
    return () => window.removeEventListener('hashchange', onHashChange)
  })

  useEffect(() => syncViewToUrl(), [])
  useEffect(() => wireCoordination(), [])
  useEffect(() => wireReplay(), [])
  useEffect(() => wireViewAs(), [])
  useEffect(() => wireAlarms(), [])
  useEffect(() => wireWithdrawn(), [])
  useEffect(() => wireFormDrafts(), [])
  // a link that names a replay reopens it once signed in
  useEffect(() => {
    const wanted = viewStore.getState().replay
    if (session && wanted && !replay.getState().active) openFromView(wanted)
  }, [session])
  const report = useView((v) => v.report)

  if (!session)
    return (
      <SignIn
        pending={pending}
        resuming={resuming}
        initialMode={initialToken !== null ? 'token' : 'password'}
        onToken={attempt}
        onPassword={attemptPassword}
      />
    )
  // the Sharing page is for admins and liaisons, the Access page for admins (not while viewing as);
  // a link that asks anyone else for either shows the picture
  const sharing = page === 'sharing' && mayOpenSharing(session)
  const access = page === 'access' && mayManageAccess(session)
  const shown: Page = sharing
    ? 'sharing'
    : access
      ? 'access'
      : page === 'sharing' || page === 'access'
        ? 'picture'
        : page
  // viewing as another audience is another viewer: every screen below starts again (no brief,
  // export or form of the previous viewer is left on screen)
  const viewer = session.viewingAs ? viewAsValue(session.viewingAs) : 'self'
  return (
    <div className={`app page-${shown}${session.viewingAs ? ' viewing-as' : ''}`}>
      <ViewAsBanner />
      <Header onSignOut={signOut} />
      <ViewAsRefusal />
      <AlarmBanner />
      <Fragment key={viewer}>
        {sharing ? (
          <Loading what="the Sharing page">
            <SharingPage />
          </Loading>
        ) : access ? (
          <Loading what="the Access page">
            <AccessPage />
          </Loading>
        ) : page === 'handover' ? (
          <Loading what="the handover">
            <HandoverPage />
          </Loading>
        ) : report ? (
          <Loading what="the report">
            <ReportPage incidentId={report} />
          </Loading>
        ) : (
          <>
            <FilterBar />
            <ReplayBarOnDemand />
            <Picture />
          </>
        )}
      </Fragment>
      <Toasts />
    </div>
  )
}

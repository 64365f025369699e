import { type FormEvent, useEffect, useState } from 'react'
import { EventList, Header, IncidentList } from './components.tsx'
import { StatusBoard } from './features/board/StatusBoard.tsx'
import { IncidentDetail } from './features/detail/IncidentDetail.tsx'
import { FilterBar } from './features/filters/FilterBar.tsx'
import { MapView } from './features/map/MapView.tsx'
import { Timeline } from './features/timeline/Timeline.tsx'
import { signIn, signOut } from './session.ts'
import { useWatchfloor } from './store.ts'
import { takeTokenFromLocation, tokenFromHash } from './token.ts'
import { syncViewToUrl } from './view/viewStore.ts'

const TABS = ['incidents', 'networks', 'events'] as const
type Tab = (typeof TABS)[number]

function Sidebar() {
  const [tab, setTab] = useState<Tab>('incidents')
  return (
    <aside className="sidebar">
      <IncidentDetail />
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
          </button>
        ))}
      </div>
      <div className="tab-body">
        {tab === 'incidents' && <IncidentList />}
        {tab === 'networks' && <StatusBoard />}
        {tab === 'events' && <EventList />}
      </div>
    </aside>
  )
}

function SignIn({ pending, onSubmit }: { pending: boolean; onSubmit: (token: string) => void }) {
  const error = useWatchfloor((s) => s.error)
  const [token, setToken] = useState('')
  const submit = (e: FormEvent) => {
    e.preventDefault()
    onSubmit(token)
  }
  return (
    <main className="signin">
      <form className="signin-form" onSubmit={submit}>
        <h1 className="product">Watchfloor</h1>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          data-testid="token-input"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          placeholder="Paste your API token"
        />
        <button type="submit" className="button primary" data-testid="sign-in" disabled={pending}>
          {pending ? 'Signing in…' : 'Sign in'}
        </button>
        {error && !pending && (
          <p className="error" data-testid="sign-in-error" role="alert">
            {error}
          </p>
        )}
        <p className="hint">The token stays in this tab only (sessionStorage).</p>
      </form>
    </main>
  )
}

export function App({ initialToken }: { initialToken: string | null }) {
  const session = useWatchfloor((s) => s.session)
  const [pending, setPending] = useState(initialToken !== null)

  const attempt = (token: string) => {
    setPending(true)
    void signIn(token).finally(() => setPending(false))
  }

  useEffect(() => {
    if (initialToken !== null) {
      setPending(true)
      void signIn(initialToken).finally(() => setPending(false))
    }
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

  if (!session) return <SignIn pending={pending} onSubmit={attempt} />
  return (
    <div className="app">
      <Header onSignOut={signOut} />
      <FilterBar />
      <main className="picture">
        <div className="stage">
          <div className="map-panel">
            <MapView />
          </div>
          <div className="timeline-panel">
            <Timeline />
          </div>
        </div>
        <Sidebar />
      </main>
    </div>
  )
}

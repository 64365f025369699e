// first, before any schema is built: the console runs under a CSP without 'unsafe-eval' (first in
// execution order across chunks too: `strictExecutionOrder` in vite.config.ts)
import '@watchfloor/protocol/no-eval'
import { lazy, StrictMode, Suspense } from 'react'
import { createRoot } from 'react-dom/client'
import { takeTokenFromLocation } from './data/token.ts'
import { App } from './shell/App.tsx'
import { ChunkBoundary } from './ui/ChunkBoundary.tsx'
import './styles.css'

// the wall is its own page: its chunk (and the map's, which it imports) loads only at /wall
const WallApp = lazy(() => import('./wall/WallApp.tsx').then((m) => ({ default: m.WallApp })))

const initialToken = takeTokenFromLocation()
const root = document.getElementById('root')
if (!root) throw new Error('#root missing')
const wall = /^\/wall\/?$/.test(window.location.pathname)
createRoot(root).render(
  <StrictMode>
    {wall ? (
      <ChunkBoundary what="the wall" reloadAfterMs={10_000}>
        <Suspense
          fallback={
            <p className="hint page-loading" role="status" data-testid="page-loading">
              Loading the wall…
            </p>
          }
        >
          <WallApp token={initialToken} />
        </Suspense>
      </ChunkBoundary>
    ) : (
      <App initialToken={initialToken} />
    )}
  </StrictMode>,
)

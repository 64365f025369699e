/**
 * About: which release this console is and which the server is (its `/healthz`), and the socket
 * protocol each speaks. Opened from the header; what a bug report should quote.
 */
import { PROTOCOL_VERSION } from '@watchfloor/protocol'
import { useEffect, useRef, useState } from 'react'
import { requestJson } from '../../data/api.ts'
import { CONSOLE_RELEASE } from '../../data/release.ts'
import { useWatchfloor } from '../../data/store.ts'

/** `GET /healthz` (docs/api.md). */
interface Health {
  status: string
  version?: string
  commit?: string
  protocolVersion?: number
}

type ServerRelease = { kind: 'reading' } | { kind: 'read'; health: Health } | { kind: 'failed'; message: string }

/** The server's release, read each time the panel opens. */
function useServerRelease(open: boolean): ServerRelease {
  const [release, setRelease] = useState<ServerRelease>({ kind: 'reading' })
  useEffect(() => {
    if (!open) return
    const controller = new AbortController()
    setRelease({ kind: 'reading' })
    requestJson<Health>('/healthz', { viewAs: null, signal: controller.signal }).then(
      (health) => setRelease({ kind: 'read', health }),
      (error: unknown) => {
        if (!controller.signal.aborted)
          setRelease({ kind: 'failed', message: error instanceof Error ? error.message : String(error) })
      },
    )
    return () => controller.abort()
  }, [open])
  return release
}

function ServerRows({ release }: { release: ServerRelease }) {
  if (release.kind === 'reading')
    return (
      <tr>
        <th scope="row">Server</th>
        <td colSpan={2}>reading…</td>
      </tr>
    )
  if (release.kind === 'failed')
    return (
      <tr>
        <th scope="row">Server</th>
        <td colSpan={2} data-testid="about-server-error">
          could not read /healthz: {release.message}
        </td>
      </tr>
    )
  const { health } = release
  return (
    <tr>
      <th scope="row">Server</th>
      <td className="mono" data-testid="about-server-version">
        {health.version ?? 'unknown'} <span className="muted">({health.commit ?? 'unknown'})</span>
      </td>
      <td className="mono" data-testid="about-server-protocol">
        {health.protocolVersion ?? '?'}
      </td>
    </tr>
  )
}

/** The header's product name (its heading), a button that opens About: no room taken beside the header's controls. */
export function AboutButton() {
  const [open, setOpen] = useState(false)
  const root = useRef<HTMLDivElement>(null)
  const release = useServerRelease(open)
  const outdated = useWatchfloor((s) => s.status === 'outdated')

  useEffect(() => {
    if (!open) return
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !root.current?.contains(e.target as Node)) setOpen(false)
    }
    document.addEventListener('mousedown', close)
    document.addEventListener('keydown', close)
    return () => {
      document.removeEventListener('mousedown', close)
      document.removeEventListener('keydown', close)
    }
  }, [open])

  const serverProtocol = release.kind === 'read' ? release.health.protocolVersion : undefined
  return (
    <div className="about" ref={root}>
      <h1 className="product">
        <button
          type="button"
          className="about-button"
          data-testid="open-about"
          title="About Watchfloor: versions"
          aria-expanded={open}
          aria-haspopup="dialog"
          onClick={() => setOpen(!open)}
        >
          Watchfloor
        </button>
      </h1>
      {open && (
        <div className="about-panel" role="dialog" aria-label="About Watchfloor" data-testid="about">
          <h2>Watchfloor</h2>
          <table>
            <thead>
              <tr>
                <th />
                <th scope="col">version (commit)</th>
                <th scope="col">protocol</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">Console</th>
                <td className="mono" data-testid="about-console-version">
                  {CONSOLE_RELEASE.version} <span className="muted">({CONSOLE_RELEASE.commit})</span>
                </td>
                <td className="mono" data-testid="about-console-protocol">
                  {PROTOCOL_VERSION}
                </td>
              </tr>
              <ServerRows release={release} />
            </tbody>
          </table>
          {(outdated || (serverProtocol !== undefined && serverProtocol !== PROTOCOL_VERSION)) && (
            <p className="about-warning" data-testid="about-mismatch">
              The console and the server speak different protocol versions: reload the page. <ReloadButton />
            </p>
          )}
          <p className="muted">Apache License 2.0. Third-party notices: NOTICE in the source.</p>
        </div>
      )}
    </div>
  )
}

function ReloadButton() {
  return (
    <button type="button" className="button" data-testid="reload" onClick={() => window.location.reload()}>
      Reload
    </button>
  )
}

/** When the server refused this console's protocol version (status `outdated`): the way out, a reload. */
export function OutdatedNotice() {
  const outdated = useWatchfloor((s) => s.status === 'outdated')
  if (!outdated) return null
  return <ReloadButton />
}

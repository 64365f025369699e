/**
 * The handover page: what happened since a moment (default: 8 hours ago, or the start of my
 * session), as the server's brief; download it as Markdown, or print it (print stylesheet).
 */
import { type ReactNode, useCallback, useEffect, useState } from 'react'
import { ApiError, currentViewAs, request, requestJson } from '../../data/api.ts'
import { sessionStartedAt } from '../../data/session.ts'
import { viewAsFileName } from '../../data/viewAs.ts'
import { MarkingBanner } from '../../ui/MarkingBanner.tsx'
import { saveBlob } from '../../ui/saveBlob.ts'
import { formatUtc, parseUtc } from '../../ui/time.ts'
import { UtcTimeField } from '../../ui/UtcTimeField.tsx'
import { ui } from '../coordination/coordination.ts'
import {
  briefMarking,
  DEFAULT_HOURS,
  defaultSince,
  handoverUrl,
  humanise,
  isScalar,
  markdownFileName,
  scalarText,
  titleKey,
} from './brief.ts'

type Loaded =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'ready'; brief: unknown }
  | { kind: 'error'; message: string }

/** "The server answered 403: ...", or why it could not be reached. */
function failureText(error: unknown): string {
  if (!(error instanceof ApiError)) return `Cannot reach the server (${String(error)}).`
  const { status, error: body } = error.failure
  return status === 0 ? `Cannot reach the server (${body.message}).` : `The server answered ${status}: ${body.message}.`
}

/** Any JSON brief, readably: scalars as facts, lists of records as items, nested parts as sections. */
function BriefValue({ value, depth }: { value: unknown; depth: number }): ReactNode {
  if (isScalar(value)) return <span>{scalarText(value)}</span>
  if (Array.isArray(value)) {
    if (value.length === 0) return <p className="empty">None.</p>
    return (
      <ul className="brief-list">
        {value.map((item, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a brief is rendered once, never reordered
          <li key={i} data-testid="brief-item">
            <BriefItem item={item} depth={depth + 1} />
          </li>
        ))}
      </ul>
    )
  }
  const entries = Object.entries(value as Record<string, unknown>)
  const facts = entries.filter(([, v]) => isScalar(v))
  const parts = entries.filter(([, v]) => !isScalar(v))
  const Heading = depth <= 0 ? 'h2' : depth === 1 ? 'h3' : 'h4'
  return (
    <>
      {facts.length > 0 && (
        <dl className="facts">
          {facts.map(([k, v]) => (
            <FactRow key={k} label={humanise(k)} value={v} />
          ))}
        </dl>
      )}
      {parts.map(([k, v]) => (
        <section key={k} className="brief-section" data-testid="brief-section" data-key={k}>
          <Heading>
            {humanise(k)}
            {Array.isArray(v) && <span className="muted"> ({v.length})</span>}
          </Heading>
          <BriefValue value={v} depth={depth + 1} />
        </section>
      ))}
    </>
  )
}

/** "Since", in UTC: the typed text is kept while it is not a time; a valid one moves `since`. */
function SinceField({ since, onSince }: { since: number; onSince: (ms: number) => void }) {
  const [text, setText] = useState(() => formatUtc(since))
  const [shown, setShown] = useState(since)
  if (shown !== since) {
    setShown(since)
    setText(formatUtc(since))
  }
  return (
    <UtcTimeField
      label="Since"
      testId="handover-since"
      value={text}
      onChange={(value) => {
        setText(value)
        const parsed = parseUtc(value)
        if (parsed.ok && parsed.ms !== since) {
          setShown(parsed.ms)
          onSince(parsed.ms)
        }
      }}
    />
  )
}

function FactRow({ label, value }: { label: string; value: unknown }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{scalarText(value)}</dd>
    </>
  )
}

function BriefItem({ item, depth }: { item: unknown; depth: number }): ReactNode {
  if (isScalar(item)) return scalarText(item)
  if (Array.isArray(item)) return <BriefValue value={item} depth={depth} />
  const record = item as Record<string, unknown>
  const key = titleKey(record)
  const rest = Object.entries(record).filter(([k]) => k !== key)
  const facts = rest.filter(([, v]) => isScalar(v))
  const nested = rest.filter(([, v]) => !isScalar(v))
  return (
    <>
      {key && <strong>{String(record[key])}</strong>}
      {facts.length > 0 && (
        <span className="muted">
          {' '}
          {facts.map(([k, v]) => `${humanise(k).toLowerCase()}: ${scalarText(v)}`).join(' · ')}
        </span>
      )}
      {nested.map(([k, v]) => (
        <div key={k} className="brief-nested">
          <span className="muted">{humanise(k)}:</span> <BriefValue value={v} depth={depth + 1} />
        </div>
      ))}
    </>
  )
}

export function HandoverPage() {
  const [since, setSince] = useState(() => defaultSince(Date.now(), sessionStartedAt()))
  const [loaded, setLoaded] = useState<Loaded>({ kind: 'idle' })
  const [downloading, setDownloading] = useState(false)
  const [downloadError, setDownloadError] = useState<string | null>(null)

  const load = useCallback(async (from: number) => {
    setLoaded({ kind: 'loading' })
    try {
      setLoaded({ kind: 'ready', brief: await requestJson<unknown>(handoverUrl(from)) })
    } catch (error) {
      setLoaded({ kind: 'error', message: failureText(error) })
    }
  }, [])

  useEffect(() => {
    void load(since)
  }, [since, load])

  const download = async () => {
    setDownloading(true)
    setDownloadError(null)
    const viewAs = currentViewAs()
    try {
      const response = await request(handoverUrl(since), { accept: 'text/markdown', viewAs })
      saveBlob(
        new Blob([await response.text()], { type: 'text/markdown;charset=utf-8' }),
        viewAsFileName(markdownFileName(since), viewAs),
      )
    } catch (error) {
      setDownloadError(failureText(error))
    } finally {
      setDownloading(false)
    }
  }

  const started = sessionStartedAt()
  const marking = loaded.kind === 'ready' ? briefMarking(loaded.brief) : null
  return (
    <main className="handover" data-testid="handover-page">
      <div className="handover-controls no-print">
        <button
          type="button"
          className="button"
          data-testid="handover-back"
          onClick={() => ui.getState().setPage('picture')}
        >
          ← Back to the picture
        </button>
        <SinceField since={since} onSince={setSince} />
        <button
          type="button"
          className="button"
          onClick={() => setSince(Date.now() - DEFAULT_HOURS * 3_600_000)}
          data-testid="handover-8h"
        >
          Last {DEFAULT_HOURS} h
        </button>
        {started > 0 && (
          <button type="button" className="button" onClick={() => setSince(started)} data-testid="handover-session">
            Since my session started
          </button>
        )}
        <span className="spacer" />
        <button
          type="button"
          className="button"
          data-testid="handover-download"
          disabled={downloading}
          onClick={() => void download()}
        >
          {downloading ? 'Downloading…' : 'Download Markdown'}
        </button>
        <button type="button" className="button" data-testid="handover-print" onClick={() => window.print()}>
          Print
        </button>
        {downloadError && (
          <p className="error" role="alert">
            {downloadError}
          </p>
        )}
      </div>
      <article className="handover-brief" data-testid="handover-brief" aria-busy={loaded.kind === 'loading'}>
        {marking && <MarkingBanner marking={marking} position="top" />}
        <h1>Handover brief</h1>
        <p className="muted">
          Since <span data-testid="handover-since-shown">{formatUtc(since)}</span> · made {formatUtc(Date.now())}
        </p>
        {loaded.kind === 'loading' && <p className="muted">Loading…</p>}
        {loaded.kind === 'error' && (
          <p className="error" role="alert" data-testid="handover-error">
            {loaded.message}
          </p>
        )}
        {loaded.kind === 'ready' && <BriefValue value={loaded.brief} depth={0} />}
        {marking && <MarkingBanner marking={marking} position="bottom" />}
      </article>
    </main>
  )
}

/**
 * The handover page: what happened since a moment (default: 8 hours ago, or the start of my
 * session), as the server's brief, read like one: the summary first, then the sections with
 * fields labelled in words (core's `handoverSections`, which the Markdown is made from too);
 * download it as Markdown, or print it (print stylesheet).
 */
import { type HandoverBrief, handoverSections, handoverTime } from '@watchfloor/core'
import { type ReactNode, useEffect, useState } from 'react'
import { ApiError, currentViewAs, request, requestJson } from '../../data/api.ts'
import { sessionStartedOnServerClock } from '../../data/session.ts'
import { serverNow, watchfloor } from '../../data/store.ts'
import { viewAsFileName } from '../../data/viewAs.ts'
import { SeverityShape } from '../../ui/badges.tsx'
import { MarkingBanner } from '../../ui/MarkingBanner.tsx'
import { saveBlob } from '../../ui/saveBlob.ts'
import { formatUtc, parseUtc } from '../../ui/time.ts'
import { UtcTimeField } from '../../ui/UtcTimeField.tsx'
import { ui } from '../coordination/coordination.ts'
import { markedFileName } from '../replay/api.ts'
import {
  briefMarking,
  DEFAULT_HOURS,
  defaultSinceChoice,
  handoverUrl,
  markdownFileName,
  readableBrief,
} from './brief.ts'
import './handover.css'

type Loaded =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'ready'; brief: HandoverBrief }
  | { kind: 'error'; message: string }

/** "The server answered 403: ...", or why it could not be reached. */
function failureText(error: unknown): string {
  if (!(error instanceof ApiError)) return `Cannot reach the server (${String(error)}).`
  const { status, error: body } = error.failure
  return status === 0 ? `Cannot reach the server (${body.message}).` : `The server answered ${status}: ${body.message}.`
}

/** The brief as the Markdown says it: the summary first, then the sections with labelled fields. */
function BriefBody({ brief }: { brief: HandoverBrief }): ReactNode {
  return (
    <>
      <section className="brief-summary" data-testid="handover-summary">
        <h2>Summary</h2>
        <p>{brief.summary}</p>
      </section>
      {handoverSections(brief).map((section) => (
        <section key={section.key} className="brief-section" data-testid="brief-section" data-key={section.key}>
          <h2>
            {section.heading} <span className="muted">({section.entries.length})</span>
          </h2>
          {section.entries.length === 0 ? (
            <p className="empty">None.</p>
          ) : (
            <ul className="brief-list">
              {section.entries.map((entry, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a brief is rendered once, never reordered
                <li key={i} data-testid="brief-item">
                  <strong className="brief-title">
                    {entry.severity && <SeverityShape severity={entry.severity} size={12} />} {entry.title}
                  </strong>
                  <dl className="brief-fields">
                    {entry.fields.map((field) => (
                      <div key={field.label} data-testid="brief-field">
                        <dt>{field.label}:</dt> <dd>{field.value}</dd>
                      </div>
                    ))}
                  </dl>
                  {entry.text !== undefined && <blockquote className="brief-text">{entry.text}</blockquote>}
                </li>
              ))}
            </ul>
          )}
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

export function HandoverPage() {
  // both on the server's clock, as the brief's window is: a workstation's clock set wrong moves neither
  const [initial] = useState(() => {
    const offset = watchfloor.getState().clockOffsetMs
    return defaultSinceChoice(serverNow(Date.now(), offset), sessionStartedOnServerClock(offset))
  })
  const [since, setSince] = useState(initial.ms)
  const [loaded, setLoaded] = useState<Loaded>({ kind: 'idle' })
  const [downloading, setDownloading] = useState(false)
  const [downloadError, setDownloadError] = useState<string | null>(null)

  // the brief since `since`; a reply to an earlier "since" that arrives late is dropped
  useEffect(() => {
    let current = true
    setLoaded({ kind: 'loading' })
    requestJson<unknown>(handoverUrl(since)).then(
      (reply) => {
        if (!current) return
        const brief = readableBrief(reply)
        setLoaded(
          brief === null
            ? { kind: 'error', message: 'The server sent a brief this console cannot read (an older server?).' }
            : { kind: 'ready', brief },
        )
      },
      (error) => {
        if (current) setLoaded({ kind: 'error', message: failureText(error) })
      },
    )
    return () => {
      current = false
    }
  }, [since])

  const download = async () => {
    setDownloading(true)
    setDownloadError(null)
    const viewAs = currentViewAs()
    try {
      // the brief shown, as Markdown: the same window (a new one would end now, and could differ)
      const until = loaded.kind === 'ready' ? loaded.brief.until : undefined
      const response = await request(handoverUrl(since, until), { accept: 'text/markdown', viewAs })
      // [M1] its name carries its marking, as an export's does: the reply's own (what it holds, for the
      // audience it was asked as)
      const named = markedFileName(markdownFileName(since), response.headers.get('X-Watchfloor-Marking')?.trim() ?? '')
      saveBlob(
        new Blob([await response.text()], { type: 'text/markdown;charset=utf-8' }),
        viewAsFileName(named, viewAs),
      )
    } catch (error) {
      setDownloadError(failureText(error))
    } finally {
      setDownloading(false)
    }
  }

  const started = sessionStartedOnServerClock(watchfloor.getState().clockOffsetMs)
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
          onClick={() =>
            setSince(serverNow(Date.now(), watchfloor.getState().clockOffsetMs) - DEFAULT_HOURS * 3_600_000)
          }
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
          Since <span data-testid="handover-since-shown">{formatUtc(since)}</span>
          {loaded.kind === 'ready' && (
            <>
              {' '}
              to {handoverTime(loaded.brief.until)} (recorded time) · prepared for {loaded.brief.viewer.user} (
              {loaded.brief.viewer.organisation}), from the events this viewer may see
            </>
          )}
        </p>
        {since === initial.ms && (
          <p className="muted no-print" data-testid="handover-since-why">
            {initial.why === 'session'
              ? 'From when you signed in: the shift you are handing over.'
              : initial.why === 'new-shift'
                ? `The last ${DEFAULT_HOURS} hours: you signed in less than an hour ago, so this is mostly the shift before yours (with what you did since).`
                : `The last ${DEFAULT_HOURS} hours: you signed in longer ago than that.`}
          </p>
        )}
        {loaded.kind === 'loading' && <p className="muted">Loading…</p>}
        {loaded.kind === 'error' && (
          <p className="error" role="alert" data-testid="handover-error">
            {loaded.message}
          </p>
        )}
        {loaded.kind === 'ready' && <BriefBody brief={loaded.brief} />}
        {marking && <MarkingBanner marking={marking} position="bottom" />}
      </article>
    </main>
  )
}

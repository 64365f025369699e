/**
 * Import: drop (or choose) a STIX 2.1 bundle or a MISP JSON document, pick the TLP of what arrives
 * unmarked, and send it as it is to `POST /api/v1/import/stix` or `/misp` (imports.ts says which).
 * The report follows: what was created, what was skipped and why, what took the default TLP, what
 * the log refused (code and message) and which results are new or already there; a 400 lists the
 * server's `details.issues`. The last few reports of this session stay on the page.
 * Shown to whoever may post (core's `postingRefusal`); the server checks the same.
 */
import type { Tlp } from '@watchfloor/protocol'
import { type DragEvent, type ReactNode, useId, useRef, useState } from 'react'
import { useStore } from 'zustand'
import { formatTime } from '../../ui/format.ts'
import { describeFormError, headlineOf } from './directory.ts'
import {
  DEFAULT_IMPORT_TLP,
  FORMAT_LABELS,
  formatBytes,
  headlineOfReport,
  IMPORT_TLPS,
  type ImportEntry,
  type ImportFile,
  type ImportReport,
  importHistory,
  KEPT_REPORTS,
  readImportFile,
  sendImport,
} from './imports.ts'

/** The most items of one list a report shows (the counts are always whole). */
const SHOWN = 100

function ReportList<T>({
  title,
  items,
  testId,
  render,
  tone,
}: {
  title: string
  items: readonly T[]
  testId: string
  render: (item: T) => ReactNode
  tone?: 'danger'
}) {
  if (items.length === 0) return null
  return (
    <div className={`import-list${tone ? ` import-list-${tone}` : ''}`} data-testid={testId} data-count={items.length}>
      <h4>
        {title} <span className="muted">({items.length})</span>
      </h4>
      <ul>
        {items.slice(0, SHOWN).map((item, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a report's lists never change
          <li key={i} data-testid={`${testId}-item`}>
            {render(item)}
          </li>
        ))}
        {items.length > SHOWN && <li className="muted">… and {items.length - SHOWN} more</li>}
      </ul>
    </div>
  )
}

function ReportBody({ report }: { report: ImportReport }) {
  return (
    <>
      <p className="import-headline" data-testid="import-headline">
        {headlineOfReport(report)}
      </p>
      <p className="import-counts" data-testid="import-results">
        Results: <strong data-testid="import-new">{report.stored}</strong> new{' '}
        {report.stored === 1 ? 'event' : 'events'}, <strong data-testid="import-duplicates">{report.duplicates}</strong>{' '}
        already in the log (the same objects imported before){report.refused.length > 0 ? ', ' : '.'}
        {report.refused.length > 0 && (
          <>
            <strong className="error">{report.refused.length}</strong> refused.
          </>
        )}
      </p>
      <ReportList
        title="Refused by the log"
        tone="danger"
        items={report.refused}
        testId="import-refused"
        render={(r) => (
          <>
            <span className="mono">{r.code}</span>: {r.message}{' '}
            <span className="muted">
              ({r.type} <span className="mono">{r.id}</span>)
            </span>
          </>
        )}
      />
      <ReportList
        title="Created"
        items={report.created}
        testId="import-created"
        render={(c) => (
          <>
            <span className="sharing-tag">{c.type}</span> <span className="mono">{c.id}</span>
            {c.target && (
              <>
                {' '}
                → <span className="mono">{c.target}</span>
              </>
            )}{' '}
            <span className="muted">
              ({c.eventIds.length} {c.eventIds.length === 1 ? 'event' : 'events'})
            </span>
            {c.notes.length > 0 && <div className="hint">{c.notes.join('; ')}</div>}
          </>
        )}
      />
      <ReportList
        title="Skipped"
        items={report.skipped}
        testId="import-skipped"
        render={(s) => (
          <>
            <span className="sharing-tag">{s.type}</span> {s.id && <span className="mono">{s.id}</span>}: {s.reason}
            {s.event && <span className="muted"> (event {s.event})</span>}
          </>
        )}
      />
      <ReportList
        title={`Defaulted to TLP:${report.defaultTlp} (no marking of their own)`}
        items={report.defaulted}
        testId="import-defaulted"
        render={(id) => <span className="mono">{id}</span>}
      />
      {report.used.length > 0 && (
        <details className="import-details">
          <summary>Used to shape the others ({report.used.length})</summary>
          <ul data-testid="import-used">
            {report.used.slice(0, SHOWN).map((u) => (
              <li key={u.id}>
                <span className="sharing-tag">{u.type}</span> <span className="mono">{u.id}</span>: {u.as}
              </li>
            ))}
          </ul>
        </details>
      )}
      {report.results.length > 0 && (
        <details className="import-details">
          <summary>Events ({report.results.length})</summary>
          <ul data-testid="import-result-list">
            {report.results.slice(0, SHOWN).map((r) => (
              <li key={r.id} data-duplicate={r.duplicate}>
                <span className="mono">{r.seq === undefined ? 'not in your picture' : `#${r.seq}`}</span>{' '}
                <span className="mono">{r.id}</span>{' '}
                <span className="muted">{r.duplicate ? 'already in the log' : 'new'}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  )
}

function EntryView({ entry }: { entry: ImportEntry }) {
  const titleId = useId()
  const { outcome } = entry
  return (
    <article
      className={`import-report${outcome.ok ? '' : ' import-report-refused'}`}
      data-testid="import-report"
      data-format={entry.format}
      data-ok={outcome.ok}
      aria-labelledby={titleId}
    >
      <h3 id={titleId}>
        <span className="mono">{entry.fileName}</span>{' '}
        <span className="muted">
          · {FORMAT_LABELS[entry.format]} · default TLP:{entry.defaultTlp} ·{' '}
          <span className="mono">{formatTime(entry.at)}</span>
        </span>
      </h3>
      {outcome.ok ? (
        <ReportBody report={outcome.report} />
      ) : (
        <div className="command-error" data-testid="import-error" data-code={outcome.error.code}>
          <strong>{headlineOf(outcome.error.code)}:</strong>{' '}
          <span data-testid="import-error-message">{describeFormError(outcome.error)}</span>
          {outcome.error.issues.length > 0 && (
            <ul>
              {outcome.error.issues.slice(0, SHOWN).map((issue) => (
                <li key={`${issue.path}:${issue.message}`} data-testid="import-error-issue" data-path={issue.path}>
                  <span className="mono">{issue.path}</span>: {issue.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </article>
  )
}

export function ImportZone({ user, organisation }: { user: string; organisation: string }) {
  const [file, setFile] = useState<ImportFile | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  const [tlp, setTlp] = useState<Tlp>(DEFAULT_IMPORT_TLP)
  const [over, setOver] = useState(false)
  const [sending, setSending] = useState(false)
  const inputRef = useRef<HTMLInputElement>(null)
  const inputId = useId()
  const tlpId = useId()
  const hintId = useId()
  const entries = useStore(importHistory, (s) => s.entries).filter((e) => e.user === user)

  const take = async (chosen: File | undefined) => {
    setProblem(null)
    setFile(null)
    if (!chosen) return
    const read = readImportFile(chosen.name, chosen.size, await chosen.text())
    if (read.ok) setFile(read.file)
    else setProblem(read.message)
  }
  const drop = (e: DragEvent) => {
    e.preventDefault()
    setOver(false)
    void take(e.dataTransfer.files[0])
  }
  const send = async () => {
    if (!file) return
    setSending(true)
    const outcome = await sendImport(file, tlp)
    importHistory.getState().add({
      at: new Date().toISOString(),
      fileName: file.name,
      format: file.format,
      defaultTlp: tlp,
      user,
      outcome,
    })
    setSending(false)
    setFile(null)
    if (inputRef.current) inputRef.current.value = ''
  }

  return (
    <section className="sharing-section" aria-labelledby="sharing-import" data-testid="import">
      <h2 id="sharing-import">Import</h2>
      <p className="muted sharing-intro" id={hintId}>
        A STIX 2.1 bundle or a MISP JSON document (an event, a search answer or a feed), up to 10 MB. Its objects become
        events of <span className="mono">{organisation}</span>, through the same checks as any event you post; each
        refusal is reported, the rest is stored. Importing the same objects again stores nothing new.
      </p>
      <section
        className={`import-drop${over ? ' import-drop-over' : ''}`}
        data-testid="import-drop"
        aria-label="Drop a file to import"
        onDragEnter={(e) => {
          e.preventDefault()
          setOver(true)
        }}
        onDragOver={(e) => {
          e.preventDefault()
          e.dataTransfer.dropEffect = 'copy'
        }}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false)
        }}
        onDrop={drop}
      >
        <p>
          Drop a <strong>.json</strong> file here, or{' '}
          <label htmlFor={inputId} className="button small import-choose">
            choose a file…
          </label>
        </p>
        <input
          id={inputId}
          ref={inputRef}
          type="file"
          className="visually-hidden"
          data-testid="import-file"
          accept=".json,application/json,application/stix+json"
          aria-describedby={hintId}
          onChange={(e) => void take(e.target.files?.[0])}
        />
        {file && (
          <p className="import-ready" data-testid="import-ready" data-format={file.format}>
            Ready: <span className="mono">{file.name}</span> <span className="muted">({formatBytes(file.bytes)})</span>{' '}
            — a <strong data-testid="import-format">{FORMAT_LABELS[file.format]}</strong>: {file.summary}
          </p>
        )}
        {problem && (
          <p className="command-error" role="alert" data-testid="import-file-error">
            {problem}
          </p>
        )}
      </section>
      <div className="sharing-fields import-controls">
        <div className="form-field">
          <label htmlFor={tlpId}>Default TLP for unmarked objects</label>
          <select
            id={tlpId}
            className="input"
            data-testid="import-tlp"
            value={tlp}
            onChange={(e) => setTlp(e.target.value as Tlp)}
          >
            {IMPORT_TLPS.map((t) => (
              <option key={t} value={t}>
                TLP:{t}
              </option>
            ))}
          </select>
          <span className="hint">AMBER: your organisation only</span>
        </div>
        <button
          type="button"
          className="button primary sharing-submit"
          data-testid="import-send"
          disabled={!file || sending}
          onClick={() => void send()}
        >
          {sending ? 'Importing…' : file ? `Import ${file.name}` : 'Import'}
        </button>
      </div>
      <p className="visually-hidden" role="status">
        {entries[0]
          ? `${entries[0].fileName}: ${entries[0].outcome.ok ? headlineOfReport(entries[0].outcome.report) : describeFormError(entries[0].outcome.error)}`
          : ''}
      </p>
      <div className="import-reports" data-testid="import-reports">
        {entries.length > 0 && (
          <h3 className="import-reports-title">
            Reports of this session <span className="muted">(the last {KEPT_REPORTS}, newest first)</span>
          </h3>
        )}
        {entries.map((entry) => (
          <EntryView key={entry.key} entry={entry} />
        ))}
      </div>
    </section>
  )
}

/** Exports from the console: the replay bar's (the window, the selected incident) and an incident's own, in its panel. */
import { useState } from 'react'
import { currentViewAs } from '../../data/api.ts'
import { viewAsFileName } from '../../data/viewAs.ts'
import { saveBlob } from '../../ui/saveBlob.ts'
import { useView } from '../../view/viewStore.ts'
import { downloadExport, type ExportFormat, type ExportProgress, type ExportQuery } from './api.ts'
import { useReplay } from './replayStore.ts'

/** The export buttons' labels, by format. */
const FORMAT_LABELS: Readonly<Record<ExportFormat, string>> = { json: 'JSON', csv: 'CSV', stix: 'STIX' }
const FORMATS: readonly ExportFormat[] = ['json', 'csv', 'stix']
/** The formats that hold the events themselves (a STIX bundle holds objects as the picture has them now). */
const EVENT_FORMATS: readonly ExportFormat[] = ['json', 'csv']

/**
 * One export at a time, with its progress, what was saved and how it is marked, or why it failed.
 * While viewing as another audience the export is what that audience receives (the REST client
 * sends the header), and the file's name says so.
 */
function useExport() {
  const [progress, setProgress] = useState<(ExportProgress & { label: string }) | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [saved, setSaved] = useState<{ filename: string; marking: string } | null>(null)
  const run = async (label: string, query: ExportQuery) => {
    setError(null)
    setSaved(null)
    setProgress({ bytes: 0, seq: 0, head: 0, label })
    const viewAs = currentViewAs()
    try {
      const { blob, filename, marking } = await downloadExport(query, (p) => setProgress({ ...p, label }))
      const named = viewAsFileName(filename, viewAs)
      saveBlob(blob, named)
      // [M1] the file carries no banner: its name does, and the console says how it is marked
      setSaved({ filename: named, marking })
    } catch (e) {
      setError(`Export failed: ${e instanceof Error ? e.message : String(e)}`)
    } finally {
      setTimeout(() => setProgress(null), 1500)
    }
  }
  const outcome = (
    <>
      {progress && (
        <span className="muted" data-testid="export-progress" data-bytes={progress.bytes}>
          {progress.label}: {(progress.bytes / 1024).toFixed(1)} KB
          {progress.head > 0 && <progress max={progress.head} value={Math.min(progress.seq, progress.head)} />}
        </span>
      )}
      {saved && !progress && (
        // the file's name in full on hover: the bar keeps to its rows on a 1280 px screen
        <span
          className="muted"
          data-testid="export-saved"
          data-marking={saved.marking}
          title={`Saved ${saved.filename}: handle it as marked`}
        >
          Saved, marked <strong data-testid="export-marking">{saved.marking}</strong>
        </span>
      )}
      {error && (
        <span className="error" role="alert" data-testid="export-error">
          {error}
        </span>
      )}
    </>
  )
  return { run, outcome }
}

/** Export the window, or the selected incident, as JSON, CSV or a STIX 2.1 bundle (streamed, with progress). */
export function ExportButtons() {
  const s = useReplay((r) => r)
  const selection = useView((v) => v.selection)
  const { run, outcome } = useExport()
  const windowQuery = (format: ExportFormat): ExportQuery =>
    s.active ? { format, from: s.from, to: s.to + 1, clock: s.clock } : { format }
  return (
    <div className="replay-export" data-testid="export">
      <span className="muted">Export {s.active ? 'window' : 'all'}:</span>
      <FormatButtons testIdPrefix="export" onPick={(format) => run('window', windowQuery(format))} />
      {selection && (
        <>
          <span className="muted">{s.active ? 'incident, in the window:' : 'incident:'}</span>
          <FormatButtons
            testIdPrefix="export-incident"
            onPick={(format) => run('incident', { ...windowQuery(format), incidentId: selection })}
          />
        </>
      )}
      {outcome}
    </div>
  )
}

/**
 * One incident's events exported from its detail panel, live or in replay (an analyst need not open
 * the replay to take an incident's record away): JSON, CSV or STIX, marked as the bar's are. In
 * replay the panel shows the incident as it was at the playhead, and the export holds its events up
 * to the playhead (on the replay's clock), as the panel does.
 */
export function IncidentExport({ incidentId }: { incidentId: string }) {
  const replaying = useReplay((r) => r.active)
  const at = useReplay((r) => Math.floor(r.at))
  const clock = useReplay((r) => r.clock)
  const { run, outcome } = useExport()
  const query = (format: ExportFormat): ExportQuery =>
    replaying ? { format, incidentId, to: at + 1, clock } : { format, incidentId }
  return (
    <div className="detail-export" data-testid="detail-export">
      <span className="muted">{replaying ? 'Export this incident, up to the playhead:' : 'Export this incident:'}</span>
      {/* a STIX bundle writes the incident as it stands now, not as at the playhead: offered live only */}
      <FormatButtons
        testIdPrefix="detail-export"
        small
        formats={replaying ? EVENT_FORMATS : FORMATS}
        onPick={(format) => run('incident', query(format))}
      />
      {outcome}
    </div>
  )
}

/** One button per format (`<testIdPrefix>-json`, `-csv`, `-stix`). */
function FormatButtons({
  testIdPrefix,
  small = false,
  formats = FORMATS,
  onPick,
}: {
  testIdPrefix: string
  small?: boolean
  formats?: readonly ExportFormat[]
  onPick: (format: ExportFormat) => void
}) {
  return formats.map((format) => (
    <button
      key={format}
      type="button"
      className={small ? 'button small' : 'button'}
      data-testid={`${testIdPrefix}-${format}`}
      onClick={() => onPick(format)}
    >
      {FORMAT_LABELS[format]}
    </button>
  ))
}

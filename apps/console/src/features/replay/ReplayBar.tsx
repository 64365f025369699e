import { summarise } from '@watchfloor/core'
import { type StoredEvent, TLP_LEVELS, type Tlp } from '@watchfloor/protocol'
import { type FormEvent, useMemo, useState } from 'react'
import { useStore } from 'zustand'
import { currentViewAs } from '../../data/api.ts'
import { useWatchfloor, watchfloor } from '../../data/store.ts'
import { viewAsFileName } from '../../data/viewAs.ts'
import { TlpBadge } from '../../ui/badges.tsx'
import { formatTime } from '../../ui/format.ts'
import { saveBlob } from '../../ui/saveBlob.ts'
import { useView, viewStore } from '../../view/viewStore.ts'
import { can } from '../coordination/permissions.ts'
import { takeSnapshot } from '../report/snapshots.ts'
import { downloadExport, type ExportFormat, type ExportProgress, type ExportQuery, postBookmark } from './api.ts'
import { isLate, lateBy, type ReplayClock } from './model.ts'
import {
  closeReplay,
  openReplay,
  pause,
  play,
  replay,
  replayIncident,
  SPEEDS,
  seek,
  setClock,
  setLoop,
  setSpeed,
  step,
} from './replay.ts'

export function useReplay<T>(selector: (s: ReturnType<typeof replay.getState>) => T): T {
  return useStore(replay, selector)
}

const HOUR = 3_600_000

/** `datetime-local` value (local time) of epoch ms, and back. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms)
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}
const fromLocalInput = (value: string): number => new Date(value).getTime()

export const CLOCK_HELP: Record<ReplayClock, string> = {
  occurred: 'What happened when: events at the time they happened; reports over 5 min late are marked LATE.',
  recorded: 'What we knew when: events at the time the floor learned of them.',
}

/** "Replay" in the header: opens replay on the brushed range, or the last hour. */
export function ReplayButton() {
  const active = useReplay((s) => s.active)
  const open = () => {
    if (active) {
      closeReplay()
      return
    }
    const range = viewStore.getState().range
    const now = Date.now()
    void openReplay({
      from: range?.from ?? now - HOUR,
      to: range?.to ?? now,
      clock: replay.getState().clock,
    })
  }
  return (
    <button type="button" className="button" data-testid="open-replay" aria-pressed={active} onClick={open}>
      {active ? 'Back to live' : 'Replay'}
    </button>
  )
}

function ClockToggle() {
  const clock = useReplay((s) => s.clock)
  return (
    <fieldset className="replay-clock" aria-label="Clock">
      {(['occurred', 'recorded'] as const).map((c) => (
        <button
          key={c}
          type="button"
          className={`chip${clock === c ? ' on' : ''}`}
          aria-pressed={clock === c}
          data-testid={`replay-clock-${c}`}
          onClick={() => setClock(c)}
        >
          {c === 'occurred' ? 'What happened when' : 'What we knew when'}
        </button>
      ))}
      <span className="hint" data-testid="replay-clock-help">
        {CLOCK_HELP[clock]}
      </span>
    </fieldset>
  )
}

function WindowForm() {
  const from = useReplay((s) => s.from)
  const to = useReplay((s) => s.to)
  const clock = useReplay((s) => s.clock)
  const [f, setF] = useState(toLocalInput(from))
  const [t, setT] = useState(toLocalInput(to))
  const [shown, setShown] = useState({ from, to })
  if (shown.from !== from || shown.to !== to) {
    setShown({ from, to })
    setF(toLocalInput(from))
    setT(toLocalInput(to))
  }
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const a = fromLocalInput(f)
    const b = fromLocalInput(t)
    if (Number.isFinite(a) && Number.isFinite(b) && b > a) void openReplay({ from: a, to: b, clock })
  }
  return (
    <form className="replay-window" onSubmit={submit}>
      <label>
        <span>From</span>
        <input
          type="datetime-local"
          step="1"
          data-testid="replay-from"
          value={f}
          onChange={(e) => setF(e.target.value)}
        />
      </label>
      <label>
        <span>To</span>
        <input
          type="datetime-local"
          step="1"
          data-testid="replay-to"
          value={t}
          onChange={(e) => setT(e.target.value)}
        />
      </label>
      <button type="submit" className="button" data-testid="replay-load">
        Load
      </button>
    </form>
  )
}

function Controls() {
  const s = useReplay((r) => r)
  const ready = s.phase === 'ready'
  return (
    <div className="replay-controls">
      <button
        type="button"
        className="button"
        data-testid="replay-step-back"
        title="Previous event"
        disabled={!ready}
        onClick={() => step(-1)}
      >
        ◀ Prev
      </button>
      {s.playing ? (
        <button type="button" className="button" data-testid="replay-pause" onClick={pause}>
          ❚❚ Pause
        </button>
      ) : (
        <button type="button" className="button primary" data-testid="replay-play" disabled={!ready} onClick={play}>
          ▶ Play
        </button>
      )}
      <button
        type="button"
        className="button"
        data-testid="replay-step"
        title="Next event"
        disabled={!ready}
        onClick={() => step(1)}
      >
        Next event ▶
      </button>
      <label className="replay-speed">
        <span>Speed</span>
        <select data-testid="replay-speed" value={s.speed} onChange={(e) => setSpeed(Number(e.target.value))}>
          {(SPEEDS as readonly number[]).concat(SPEEDS.includes(s.speed as never) ? [] : [s.speed]).map((v) => (
            <option key={v} value={v}>
              {v}×
            </option>
          ))}
        </select>
      </label>
      <label className="replay-loop">
        <input type="checkbox" data-testid="replay-loop" checked={s.loop} onChange={(e) => setLoop(e.target.checked)} />{' '}
        loop
      </label>
      <input
        type="range"
        className="replay-playhead"
        data-testid="replay-playhead"
        aria-label="Playhead"
        min={s.from}
        max={s.to}
        step={1}
        value={Math.round(s.at)}
        disabled={!ready}
        onChange={(e) => {
          pause()
          seek(Number(e.target.value), true)
        }}
      />
      <span className="replay-at mono" data-testid="replay-at" data-at={new Date(s.at).toISOString()}>
        {formatTime(new Date(s.at).toISOString())}
      </span>
      <span className="muted" data-testid="replay-folded" data-folded={s.folded} data-total={s.total}>
        {s.folded} of {s.total} events
      </span>
    </div>
  )
}

function Progress() {
  const phase = useReplay((s) => s.phase)
  const progress = useReplay((s) => s.progress)
  const error = useReplay((s) => s.error)
  if (phase === 'error')
    return (
      <p className="error" role="alert" data-testid="replay-error">
        {error}
      </p>
    )
  if (phase !== 'loading') return null
  const share = progress && progress.head > 0 ? Math.min(1, progress.next / progress.head) : 0
  return (
    <div className="replay-progress" data-testid="replay-progress">
      Loading {progress?.step === 'history' ? 'the history before the window' : 'the window'}…{' '}
      <progress max={1} value={share} /> {progress?.received ?? 0} events
    </div>
  )
}

/** The replay's clock (for views that mark late reports). */
export function useReplayClock(): ReplayClock {
  return useReplay((s) => s.clock)
}

/** "LATE 25 min": a report recorded long after it happened. */
export function LateMarker({ event }: { event: StoredEvent }) {
  const minutes = Math.round(lateBy(event) / 60_000)
  return (
    <span
      className="late"
      data-testid="late-marker"
      title={`reported ${minutes} min after it happened (recorded ${formatTime(event.recordedAt)})`}
    >
      {' '}
      LATE {minutes} min
    </span>
  )
}

/** The latest events folded in, newest first; on the occurred clock late reports stand out. */
function ReplayEvents() {
  const window = useWatchfloor((s) => s.window)
  useWatchfloor((s) => s.windowVersion)
  const clock = useReplay((s) => s.clock)
  const shown = window.slice(-40).reverse()
  return (
    <ol className="replay-events" data-testid="replay-events">
      {shown.map((event) => (
        <li key={event.seq} data-testid="replay-event" data-seq={event.seq} data-late={String(isLate(event))}>
          <time dateTime={event.occurredAt}>
            {formatTime(clock === 'occurred' ? event.occurredAt : event.recordedAt)}
          </time>
          {clock === 'occurred' && isLate(event) && <LateMarker event={event} />}{' '}
          <span className="mono">{event.type}</span> {summarise(event)}
        </li>
      ))}
    </ol>
  )
}

/** The export buttons' labels, by format. */
const FORMAT_LABELS: Readonly<Record<ExportFormat, string>> = { json: 'JSON', csv: 'CSV', stix: 'STIX' }
const FORMATS: readonly ExportFormat[] = ['json', 'csv', 'stix']

/**
 * Export the window, or the selected incident, as JSON, CSV or a STIX 2.1 bundle (streamed, with
 * progress). While viewing as another audience the export is what that audience receives (the
 * REST client sends the header), and the file's name says so.
 */
export function ExportButtons() {
  const s = useReplay((r) => r)
  const selection = useView((v) => v.selection)
  const [progress, setProgress] = useState<(ExportProgress & { label: string }) | null>(null)
  const [error, setError] = useState<string | null>(null)
  const run = async (label: string, query: ExportQuery) => {
    setError(null)
    setProgress({ bytes: 0, seq: 0, head: 0, label })
    const viewAs = currentViewAs()
    try {
      const { blob, filename } = await downloadExport(query, (p) => setProgress({ ...p, label }))
      saveBlob(blob, viewAsFileName(filename, viewAs))
    } catch (e) {
      setError(`Export failed: ${e instanceof Error ? e.message : String(e)}`)
    } finally {
      setTimeout(() => setProgress(null), 1500)
    }
  }
  const windowQuery = (format: ExportFormat): ExportQuery =>
    s.active ? { format, from: s.from, to: s.to + 1, clock: s.clock } : { format }
  return (
    <div className="replay-export" data-testid="export">
      <span className="muted">Export {s.active ? 'window' : 'all'}:</span>
      {FORMATS.map((format) => (
        <button
          key={format}
          type="button"
          className="button"
          data-testid={`export-${format}`}
          onClick={() => run('window', windowQuery(format))}
        >
          {FORMAT_LABELS[format]}
        </button>
      ))}
      {selection && (
        <>
          <span className="muted">incident:</span>
          {FORMATS.map((format) => (
            <button
              key={format}
              type="button"
              className="button"
              data-testid={`export-incident-${format}`}
              onClick={() => run('incident', { format, incidentId: selection })}
            >
              {FORMAT_LABELS[format]}
            </button>
          ))}
        </>
      )}
      {progress && (
        <span className="muted" data-testid="export-progress" data-bytes={progress.bytes}>
          {progress.label}: {(progress.bytes / 1024).toFixed(1)} KB
          {progress.head > 0 && <progress max={progress.head} value={Math.min(progress.seq, progress.head)} />}
        </span>
      )}
      {error && (
        <span className="error" role="alert" data-testid="export-error">
          {error}
        </span>
      )}
    </div>
  )
}

/** Save the moment (paused) or the window as a bookmark (the `bookmark.save` command). */
function BookmarkForm() {
  const session = useWatchfloor((s) => s.session)
  const r = useReplay((s) => s)
  const [open, setOpen] = useState(false)
  const [title, setTitle] = useState('')
  const [note, setNote] = useState('')
  const [kind, setKind] = useState<'moment' | 'range'>('moment')
  const [tlp, setTlp] = useState<Tlp>('AMBER')
  const [status, setStatus] = useState<string | null>(null)
  if (!can(session, 'bookmark.save')) return null
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!title.trim()) return
    setStatus('saving…')
    try {
      await postBookmark({
        title: title.trim(),
        ...(note.trim() ? { note: note.trim() } : {}),
        clock: r.clock,
        ...(kind === 'moment' ? { at: Math.round(r.at) } : { from: r.from, to: r.to }),
        tlp,
      })
      setStatus('saved')
      setTitle('')
      setNote('')
      setOpen(false)
    } catch (error) {
      setStatus(`not saved: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  if (!open)
    return (
      <span>
        <button type="button" className="button" data-testid="bookmark-new" onClick={() => setOpen(true)}>
          ☆ Bookmark
        </button>
        {status && (
          <span className="muted" data-testid="bookmark-status">
            {' '}
            {status}
          </span>
        )}
      </span>
    )
  return (
    <form className="bookmark-form" data-testid="bookmark-form" onSubmit={submit}>
      <input
        data-testid="bookmark-title"
        placeholder="Title"
        value={title}
        maxLength={300}
        onChange={(e) => setTitle(e.target.value)}
      />
      <input
        data-testid="bookmark-note"
        placeholder="Note"
        value={note}
        maxLength={2000}
        onChange={(e) => setNote(e.target.value)}
      />
      <select data-testid="bookmark-kind" value={kind} onChange={(e) => setKind(e.target.value as 'moment' | 'range')}>
        <option value="moment">this moment</option>
        <option value="range">this window</option>
      </select>
      <select data-testid="bookmark-tlp" value={tlp} onChange={(e) => setTlp(e.target.value as Tlp)}>
        {TLP_LEVELS.map((level) => (
          <option key={level} value={level}>
            TLP:{level}
          </option>
        ))}
      </select>
      <button type="submit" className="button primary" data-testid="bookmark-save">
        Save
      </button>
      <button type="button" className="link" onClick={() => setOpen(false)}>
        cancel
      </button>
      {status && <span className="muted">{status}</span>}
    </form>
  )
}

/** The bookmarks of the live picture; a click replays the moment or range. */
export function BookmarkList() {
  const bookmarks = useWatchfloor((s) => s.liveState.bookmarks)
  const list = useMemo(() => [...bookmarks.values()].sort((a, b) => b.seq - a.seq), [bookmarks])
  if (list.length === 0) return <p className="empty">No bookmarks yet. Save one from the replay bar.</p>
  return (
    <ul className="bookmarks" data-testid="bookmark-list">
      {list.map((b) => {
        const at = b.at ? Date.parse(b.at) : undefined
        const from = b.from ? Date.parse(b.from) : (at ?? 0) - HOUR / 2
        const to = b.to ? Date.parse(b.to) : (at ?? 0) + HOUR / 2
        return (
          <li key={b.bookmarkId} data-testid="bookmark" data-bookmark-id={b.bookmarkId}>
            <button
              type="button"
              className="link"
              onClick={() => void openReplay({ from, to, clock: b.clock, ...(at !== undefined ? { at } : {}) })}
            >
              {b.title}
            </button>{' '}
            <TlpBadge tlp={b.marking.tlp} pap={b.marking.pap} />{' '}
            <span className="muted">
              {b.at ? formatTime(b.at) : `${formatTime(b.from!)} – ${formatTime(b.to!)}`} ({b.clock}) ·{' '}
              {b.savedBy ?? b.organisation}
            </span>
            {b.note && <div className="muted">{b.note}</div>}
          </li>
        )
      })}
    </ul>
  )
}

/** Keep a picture of the map at the playhead for the after-action report. */
function SnapshotButton() {
  const [taken, setTaken] = useState(0)
  const take = async () => {
    const r = replay.getState()
    const incidentId = viewStore.getState().selection ?? r.incidentId
    const label = `${formatTime(new Date(r.at).toISOString())} (${r.clock === 'occurred' ? 'what happened when' : 'what we knew when'})`
    if (await takeSnapshot(incidentId, r.at, label)) setTaken(taken + 1)
  }
  return (
    <button type="button" className="button" data-testid="snapshot-map" onClick={() => void take()}>
      Snapshot map for report{taken > 0 ? ` (${taken})` : ''}
    </button>
  )
}

/** What replay is doing right now, in words (for people and tests). */
function ReplayStatus() {
  const playing = useReplay((s) => s.playing)
  const phase = useReplay((s) => s.phase)
  const state = phase !== 'ready' ? phase : playing ? 'playing' : 'paused'
  return (
    <span className="muted" data-testid="replay-status" data-state={state}>
      {state}
    </span>
  )
}

/** Replay on screen: the bar above the map and timeline. */
export function ReplayBar() {
  const active = useReplay((s) => s.active)
  const incidentId = useReplay((s) => s.incidentId)
  const mode = useWatchfloor((s) => s.mode)
  const [showEvents, setShowEvents] = useState(false)
  if (!active) return null
  return (
    <section className="replay-bar" data-testid="replay-bar" data-mode={mode} aria-label="Replay">
      <div className="replay-row">
        <strong className="replay-badge">REPLAY</strong>
        {incidentId && (
          <span className="muted" data-testid="replay-incident">
            incident{' '}
            <button type="button" className="link" onClick={() => viewStore.getState().select(incidentId)}>
              {watchfloor.getState().liveState.incidents.get(incidentId)?.title ?? incidentId}
            </button>
          </span>
        )}
        <ClockToggle />
        <span className="spacer" />
        <ReplayStatus />
        <button type="button" className="button" data-testid="replay-close" onClick={closeReplay}>
          Back to live
        </button>
      </div>
      <div className="replay-row">
        <WindowForm />
        <ExportButtons />
        <BookmarkForm />
        <SnapshotButton />
        <button
          type="button"
          className="link"
          data-testid="replay-events-toggle"
          onClick={() => setShowEvents(!showEvents)}
        >
          {showEvents ? 'hide events' : 'events at the playhead'}
        </button>
      </div>
      <Controls />
      <Progress />
      {showEvents && <ReplayEvents />}
    </section>
  )
}

/** "Replay this incident" (detail panel). */
export function ReplayIncidentButton({ incidentId }: { incidentId: string }) {
  return (
    <button
      type="button"
      className="button"
      data-testid="replay-incident-button"
      onClick={() => replayIncident(incidentId)}
    >
      Replay this incident
    </button>
  )
}

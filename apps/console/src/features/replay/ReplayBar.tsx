/**
 * The replay bar (its own chunk, loaded on demand with replay.ts when a replay starts): window,
 * clock, playhead, export, bookmark and snapshot. What the first load shows of replay is in
 * ReplayEntry.tsx.
 */
import { summaryLine } from '@watchfloor/core'
import { TLP_LEVELS, type Tlp } from '@watchfloor/protocol'
import { type FormEvent, useRef, useState } from 'react'
import { useWatchfloor, watchfloor } from '../../data/store.ts'
import { TlpBadge } from '../../ui/badges.tsx'
import { formatTime } from '../../ui/format.ts'
import { formatUtc, parseUtc } from '../../ui/time.ts'
import { UtcTimeField } from '../../ui/UtcTimeField.tsx'
import { viewStore } from '../../view/viewStore.ts'
import { CommandIds, sendAction } from '../coordination/commandIds.ts'
import { sendCommand } from '../coordination/commands.ts'
import { can } from '../coordination/permissions.ts'
import { useNames } from '../coordination/usePeople.ts'
import { takeSnapshot } from '../report/snapshots.ts'
import { bookmarkCommand } from './api.ts'
import { ExportButtons } from './Export.tsx'
import { isLate, playheadStep, playheadTime, type ReplayClock, steppedPlayhead } from './model.ts'
import { LateMarker } from './ReplayEntry.tsx'
import {
  closeReplay,
  openReplay,
  pause,
  play,
  replay,
  SPEEDS,
  seek,
  setClock,
  setLoop,
  setSpeed,
  step,
} from './replay.ts'
import { useReplay } from './replayStore.ts'

/** The From/To fields' text of epoch ms: UTC, with seconds. */
const toUtcInput = (ms: number): string => formatUtc(ms, { seconds: true })

export const CLOCK_HELP: Record<ReplayClock, string> = {
  occurred: 'What happened when: events at the time they happened; reports over 5 min late are marked LATE.',
  recorded: 'What we knew when: events at the time the floor learned of them.',
}

function ClockToggle() {
  const clock = useReplay((s) => s.clock)
  return (
    <fieldset className="replay-clock" aria-label="Clock" title={CLOCK_HELP[clock]}>
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
  const [f, setF] = useState(toUtcInput(from))
  const [t, setT] = useState(toUtcInput(to))
  const [shown, setShown] = useState({ from, to })
  if (shown.from !== from || shown.to !== to) {
    setShown({ from, to })
    setF(toUtcInput(from))
    setT(toUtcInput(to))
  }
  const a = parseUtc(f)
  const b = parseUtc(t)
  const order = a.ok && b.ok && b.ms <= a.ms ? 'To must be after From.' : null
  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (a.ok && b.ok && b.ms > a.ms) void openReplay({ from: a.ms, to: b.ms, clock })
  }
  return (
    <form className="replay-window" onSubmit={submit}>
      <UtcTimeField label="From" testId="replay-from" value={f} onChange={setF} seconds />
      <UtcTimeField label="To" testId="replay-to" value={t} onChange={setT} seconds />
      {order && (
        <span className="error" role="alert" data-testid="replay-window-error">
          {order}
        </span>
      )}
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
        data-testid="replay-change-back"
        title="Previous change: the last event before the playhead that is not an observation"
        disabled={!ready}
        onClick={() => step(-1, true)}
      >
        ◀◀ Change
      </button>
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
      <button
        type="button"
        className="button"
        data-testid="replay-change"
        title="Next change: the next event that is not an observation (a report, an update, an acknowledgement, a task...)"
        disabled={!ready}
        onClick={() => step(1, true)}
      >
        Change ▶▶
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
        aria-valuetext={formatTime(new Date(s.at).toISOString())}
        min={s.from}
        max={s.to}
        step={1}
        value={Math.round(s.at)}
        disabled={!ready}
        onChange={(e) => {
          pause()
          seek(Number(e.target.value), true)
        }}
        onKeyDown={(e) => {
          // arrows move by a step one can see (the input's own step is a millisecond); Page keys and Home/End as they are
          const direction = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 }[e.key]
          if (direction === undefined) return
          e.preventDefault()
          pause()
          seek(steppedPlayhead(s.at, direction, playheadStep(s.to - s.from), s.from, s.to), true)
        }}
      />
      <span className="replay-at mono" data-testid="replay-at" data-at={new Date(s.at).toISOString()}>
        {playheadTime(s.at)}
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

/** The latest events folded in, newest first; on the occurred clock late reports stand out. */
function ReplayEvents() {
  const window = useWatchfloor((s) => s.window)
  useWatchfloor((s) => s.windowVersion)
  const clock = useReplay((s) => s.clock)
  // names, not ids: the replayed picture's titles, people from the directory
  const people = useNames().people
  const incidents = useWatchfloor((s) => s.state.incidents)
  const tasks = useWatchfloor((s) => s.state.tasks)
  const networks = useWatchfloor((s) => s.state.networks)
  const person = (userId: string) => people.get(userId)
  const shown = window.slice(-40).reverse()
  return (
    <ol className="replay-events" data-testid="replay-events">
      {shown.map((event) => {
        // [M1] the row's TLP covers the titles it shows (a linked incident re-reported stricter) and the event
        const line = summaryLine({ incidents, tasks, networks }, event, person)
        return (
          <li
            key={event.seq}
            data-testid="replay-event"
            data-seq={event.seq}
            data-late={String(isLate(event))}
            data-tlp={line.tlp}
          >
            <time dateTime={event.occurredAt}>
              {formatTime(clock === 'occurred' ? event.occurredAt : event.recordedAt)}
            </time>
            {clock === 'occurred' && isLate(event) && <LateMarker event={event} />}{' '}
            <span className="mono">{event.type}</span> {line.text} <TlpBadge tlp={line.tlp} />
          </li>
        )
      })}
    </ol>
  )
}

/**
 * Save the moment (paused) or the window as a bookmark (the `bookmark.save` command). Save is
 * disabled while a save is under way, and saving the same bookmark again after a failure is the
 * same action (its `commandId`), so a double click or a lost answer never saves two.
 */
function BookmarkForm() {
  const session = useWatchfloor((s) => s.session)
  const r = useReplay((s) => s)
  const [open, setOpen] = useState(false)
  const [title, setTitle] = useState('')
  const [note, setNote] = useState('')
  const [kind, setKind] = useState<'moment' | 'range'>('moment')
  const [tlp, setTlp] = useState<Tlp>('AMBER')
  const [status, setStatus] = useState<string | null>(null)
  const [saving, setSaving] = useState(false)
  const ids = useRef<CommandIds | null>(null)
  ids.current ??= new CommandIds()
  if (!can(session, 'bookmark.save')) return null
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!title.trim() || saving) return
    setSaving(true)
    setStatus('saving…')
    const command = bookmarkCommand({
      title: title.trim(),
      ...(note.trim() ? { note: note.trim() } : {}),
      clock: r.clock,
      ...(kind === 'moment' ? { at: Math.round(r.at) } : { from: r.from, to: r.to }),
      tlp,
    })
    const { result } = await sendAction(ids.current!, command, (stamped) => sendCommand(stamped))
    setSaving(false)
    if (result.ok) {
      setStatus('saved')
      setTitle('')
      setNote('')
      setOpen(false)
    } else {
      setStatus(`not saved: ${result.status === 0 ? result.message : `${result.status}: ${result.message}`}`)
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
      <button type="submit" className="button primary" data-testid="bookmark-save" disabled={saving}>
        Save
      </button>
      <button type="button" className="link" onClick={() => setOpen(false)}>
        cancel
      </button>
      {status && <span className="muted">{status}</span>}
    </form>
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
    <button
      type="button"
      className="button"
      data-testid="snapshot-map"
      title="Keep a picture of the map at the playhead for the after-action report"
      onClick={() => void take()}
    >
      Snapshot map{taken > 0 ? ` (${taken})` : ''}
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
        <WindowForm />
        <span className="spacer" />
        <ReplayStatus />
        <button type="button" className="button" data-testid="replay-close" onClick={closeReplay}>
          Back to live
        </button>
      </div>
      <div className="replay-row">
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

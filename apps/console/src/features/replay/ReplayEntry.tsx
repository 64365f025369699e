/**
 * The pieces of replay the first load shows: the header's Replay button, "Replay this incident",
 * the bookmark list, the late-report marker, and the bar's place on the page. The bar itself and
 * the replay machinery (ReplayBar.tsx, replay.ts) load on demand, when a replay starts.
 */
import type { BookmarkState } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { lazy, Suspense, useMemo } from 'react'
import { serverNow, useWatchfloor, watchfloor } from '../../data/store.ts'
import { TlpBadge } from '../../ui/badges.tsx'
import { ChunkBoundary } from '../../ui/ChunkBoundary.tsx'
import { formatTime } from '../../ui/format.ts'
import { viewStore } from '../../view/viewStore.ts'
import { lateBy } from './late.ts'
import { bookmarkWindow } from './model.ts'
import { replay, useReplay } from './replayStore.ts'
import { startIncidentReplay, startReplay, stopReplay } from './startReplay.ts'

const HOUR = 3_600_000

const ReplayBar = lazy(() => import('./ReplayBar.tsx').then((m) => ({ default: m.ReplayBar })))

/** The replay bar while a replay is on screen (its chunk loads with the first replay). */
export function ReplayBarOnDemand() {
  const active = useReplay((s) => s.active)
  if (!active) return null
  return (
    <ChunkBoundary what="the replay bar">
      <Suspense
        fallback={
          <p className="hint" role="status" data-testid="replay-bar-loading">
            Loading replay…
          </p>
        }
      >
        <ReplayBar />
      </Suspense>
    </ChunkBoundary>
  )
}

/** "Replay" in the header: opens replay on the brushed range, or the last hour. */
export function ReplayButton() {
  const active = useReplay((s) => s.active)
  const open = () => {
    if (active) {
      void stopReplay()
      return
    }
    const range = viewStore.getState().range
    // the brushed range becomes the replay's window: as a filter besides, it would hide every
    // incident not changed within it at the playhead ("No incidents match" beside the counts)
    if (range) viewStore.getState().setRange(null)
    // the window's times are the server's (recorded) or the senders' (occurred), not this machine's
    const now = serverNow(Date.now(), watchfloor.getState().clockOffsetMs)
    void startReplay({
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

/** "Replay this incident" (detail panel). */
export function ReplayIncidentButton({ incidentId }: { incidentId: string }) {
  return (
    <button
      type="button"
      className="button"
      data-testid="replay-incident-button"
      onClick={() => void startIncidentReplay(incidentId)}
    >
      Replay this incident
    </button>
  )
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

/** Now on the server's clock: a bookmark's window ends no later. */
const nowOnServer = () => serverNow(Date.now(), watchfloor.getState().clockOffsetMs)

/** The bookmarks of the live picture; a click replays the moment or range. */
export function BookmarkList() {
  const bookmarks = useWatchfloor((s) => s.liveState.bookmarks)
  const list = useMemo(() => [...bookmarks.values()].sort((a, b) => b.seq - a.seq), [bookmarks])
  // headed as the other tabs are
  return (
    <section className="panel" aria-labelledby="bookmarks-heading">
      <h2 id="bookmarks-heading">
        Bookmarks <span className="muted">{list.length}</span>
      </h2>
      {list.length === 0 ? (
        <p className="empty">No bookmarks yet. Save one from the replay bar.</p>
      ) : (
        <BookmarkItems list={list} />
      )}
    </section>
  )
}

function BookmarkItems({ list }: { list: readonly BookmarkState[] }) {
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
              onClick={() => void startReplay(bookmarkWindow({ at, from, to, clock: b.clock }, nowOnServer()))}
            >
              {b.title}
            </button>{' '}
            <TlpBadge tlp={b.marking.tlp} pap={b.marking.pap} />{' '}
            <span className="muted">
              {b.at ? formatTime(b.at) : `${formatTime(b.from!)} – ${formatTime(b.to!)}`} (
              {b.clock === 'occurred' ? 'what happened when' : 'what we knew when'}) · {b.savedBy ?? b.organisation}
            </span>
            {b.note && <div className="muted">{b.note}</div>}
          </li>
        )
      })}
    </ul>
  )
}

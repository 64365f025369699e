import { summarise } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { memo } from 'react'
import { selectRecentEvents, useWatchfloor } from '../../data/store.ts'
import { TlpBadge } from '../../ui/badges.tsx'
import { formatClock, formatTime } from '../../ui/format.ts'
import { isLate } from '../replay/late.ts'
import { LateMarker } from '../replay/ReplayEntry.tsx'
import { useReplayClock } from '../replay/replayStore.ts'

const EventRow = memo(function EventRow({ event, markLate }: { event: StoredEvent; markLate: boolean }) {
  const summary = summarise(event)
  const late = markLate && isLate(event)
  return (
    <tr data-testid="event-row" data-seq={event.seq} data-type={event.type} data-late={String(late)}>
      <td className="num mono">{event.seq}</td>
      <td className="mono" title={`occurred ${formatTime(event.occurredAt)}\nrecorded ${formatTime(event.recordedAt)}`}>
        <time dateTime={event.occurredAt}>{formatClock(event.occurredAt)}</time>
        {late && <LateMarker event={event} />}
      </td>
      <td className="mono type" title={event.type}>
        {event.type}
      </td>
      <td className="summary" title={summary}>
        {summary}
      </td>
      <td title={event.source.network ?? event.source.organisation}>{event.source.organisation}</td>
      <td>
        <TlpBadge tlp={event.marking.tlp} pap={event.marking.pap} />
      </td>
    </tr>
  )
})

export function EventList() {
  const events = useWatchfloor(selectRecentEvents)
  // replaying "what happened when": reports that arrived late stand out
  const replaying = useWatchfloor((s) => s.mode === 'replay')
  const clock = useReplayClock()
  const markLate = replaying && clock === 'occurred'
  return (
    <section className="panel" aria-labelledby="events-heading">
      <h2 id="events-heading">Latest events</h2>
      <table className="table events-table" data-testid="event-list">
        <colgroup>
          <col className="col-seq" />
          <col className="col-time" />
          <col className="col-type" />
          <col />
          <col className="col-source" />
          <col className="col-tlp" />
        </colgroup>
        <thead>
          <tr>
            <th className="num">Seq</th>
            <th>Time (UTC)</th>
            <th>Type</th>
            <th>Summary</th>
            <th>Source</th>
            <th>TLP</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <EventRow key={event.seq} event={event} markLate={markLate} />
          ))}
        </tbody>
      </table>
      {events.length === 0 && <p className="empty">No events yet.</p>}
    </section>
  )
}

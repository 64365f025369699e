/**
 * The triage queue (the Triage tab): incidents nobody has acknowledged yet, oldest first (core's
 * `triageQueue`, rules T1-T3), with who has each open (presence) and a one-click Acknowledge for
 * those core's policy lets acknowledge (`can`, rule C2; never while viewing as, in replay or on a
 * display). Rows keep their place while the pointer is over the queue (stableRows.ts): an
 * acknowledged one stays, marked, until the pointer leaves, so the next click lands where aimed;
 * so does one whose acknowledgement said it is no longer shared with this viewer (C18), with a notice.
 */
import { type IncidentState, triageQueue } from '@watchfloor/core'
import { memo, useMemo, useState } from 'react'
import { useStore } from 'zustand'
import { type Session, useWatchfloor } from '../../data/store.ts'
import { SeverityLabel, TlpBadge } from '../../ui/badges.tsx'
import { formatDuration, formatTime } from '../../ui/format.ts'
import { useServerNow } from '../../ui/useNow.ts'
import { useView, viewStore } from '../../view/viewStore.ts'
import { othersViewing, usePresence, viewerName } from '../coordination/coordination.ts'
import { personName } from '../coordination/people.ts'
import { can } from '../coordination/permissions.ts'
import { ACKNOWLEDGE_ACTION, AcknowledgeButton, CommandOutcome, useCommand } from '../coordination/useCommand.tsx'
import { useNames } from '../coordination/usePeople.ts'
import {
  isWithdrawn,
  useWithdrawn,
  WITHDRAWN_NOTICE,
  type Withdrawn,
  withdrawnStore,
} from '../coordination/withdrawn.ts'
import { ListHeading } from '../lists/ListHeading.tsx'
import { stableRows } from '../lists/stableRows.ts'
import '../lists/lists.css'
import './triage.css'

/** Rows rendered at most (the oldest); the count says how many wait. */
export const TRIAGE_LIMIT = 100

let last:
  | {
      incidents: ReadonlyMap<string, IncidentState>
      session: Session | null
      withdrawn: Withdrawn
      queue: IncidentState[]
    }
  | undefined
/**
 * The queue of the picture on screen (the replay's, while replaying), once per picture for the tab
 * and the list. An incident no longer shared with this viewer [C18] waits for nobody: its
 * acknowledgement would be refused, so it is neither listed nor counted.
 */
function useTriageQueue(): IncidentState[] {
  const incidents = useWatchfloor((s) => s.state.incidents)
  const session = useWatchfloor((s) => s.session)
  const withdrawn = useStore(withdrawnStore)
  if (last?.incidents !== incidents || last.session !== session || last.withdrawn !== withdrawn) {
    const queue = triageQueue({ incidents }).filter((incident) => !isWithdrawn(session, incident.incidentId, withdrawn))
    last = { incidents, session, withdrawn, queue }
  }
  return last.queue
}

/** How many incidents wait for triage, for the tab's label. */
export function TriageCount() {
  const count = useTriageQueue().length
  if (count === 0) return null
  return (
    <span
      className="badge triage-badge"
      title={`${count} ${count === 1 ? 'incident waits' : 'incidents wait'} to be acknowledged`}
      data-testid="tab-triage-count"
    >
      {count}
    </span>
  )
}

function Viewing({ incidentId }: { incidentId: string }) {
  const viewers = usePresence(incidentId)
  const session = useWatchfloor((s) => s.session)
  const others = othersViewing(viewers, session ?? undefined)
  if (others.length === 0) return null
  return (
    <span className="triage-presence" data-testid="triage-presence">
      open by {others.map((v) => viewerName(v, session?.organisation)).join(', ')}
    </span>
  )
}

const TriageItem = memo(function TriageItem({
  incident,
  session,
  selected,
  taken,
  readOnly,
  now,
}: {
  incident: IncidentState
  session: Session | null
  selected: boolean
  taken: boolean
  readOnly: boolean
  now: number
}) {
  const ack = useCommand({ of: { incidentId: incident.incidentId, place: 'triage' }, form: ACKNOWLEDGE_ACTION })
  const withdrawn = useWithdrawn(incident.incidentId)
  const names = useNames()
  const mayAck = !readOnly && can(session, 'incident.acknowledge', incident)
  const select = () => viewStore.getState().select(selected ? null : incident.incidentId)
  const waited = now - Date.parse(incident.reportedAt)
  return (
    <li
      className={`triage-item${selected ? ' selected' : ''}${taken ? ' taken' : ''}`}
      data-testid="triage-item"
      data-incident-id={incident.incidentId}
      data-taken={taken || undefined}
      data-withdrawn={withdrawn || undefined}
    >
      <div className="triage-main">
        <button
          type="button"
          className="triage-open"
          aria-pressed={selected}
          data-testid="triage-open"
          title={incident.summary ?? incident.title}
          onClick={select}
        >
          <span className="triage-title two-lines">{incident.title}</span>
        </button>
        <div className="triage-facts">
          <SeverityLabel severity={incident.severity} />
          <TlpBadge tlp={incident.contentMarking.tlp} pap={incident.contentMarking.pap} />
          <span className="muted" title={`reported ${formatTime(incident.reportedAt)}`} data-testid="triage-age">
            waiting {formatDuration(waited)}
          </span>
          <span className="muted">
            {incident.organisation} · {incident.category} · {incident.status}
          </span>
          <Viewing incidentId={incident.incidentId} />
        </div>
        {withdrawn && (
          <p className="withdrawn-notice" role="status" data-testid="triage-withdrawn">
            {WITHDRAWN_NOTICE}
          </p>
        )}
        <CommandOutcome runner={ack} shown={incident} />
      </div>
      <div className="triage-action">
        {withdrawn ? null : taken && incident.acknowledgedAt !== undefined ? (
          <span className="triage-taken" data-testid="triage-acknowledged">
            ✓ {incident.acknowledgedBy ? `by ${personName(names, incident.acknowledgedBy)}` : 'acknowledged'}
          </span>
        ) : taken ? (
          // closed or merged without an acknowledgement, or no longer in this picture's queue
          <span className="triage-taken" data-testid="triage-left">
            left the queue ({incident.status})
          </span>
        ) : (
          mayAck && <AcknowledgeButton runner={ack} incident={incident} testid="triage-acknowledge" />
        )}
      </div>
    </li>
  )
})

export function TriageQueue() {
  const queue = useTriageQueue()
  const incidents = useWatchfloor((s) => s.state.incidents)
  const session = useWatchfloor((s) => s.session)
  const replaying = useWatchfloor((s) => s.mode === 'replay')
  const selection = useView((v) => v.selection)
  // ages are shown to the second ("waiting 42s"): they keep time with the clock
  const now = useServerNow(1000)
  const live = useMemo(() => (queue.length > TRIAGE_LIMIT ? queue.slice(0, TRIAGE_LIMIT) : queue), [queue])
  const [frozen, setFrozen] = useState<string[] | null>(null)
  const { rows, stale, added } = useMemo(() => stableRows(frozen, live, incidents), [frozen, live, incidents])
  const mayAckAtAll = !replaying && can(session, 'incident.acknowledge')
  return (
    <section className="panel" aria-labelledby="triage-heading" data-testid="triage">
      <ListHeading
        id="triage-heading"
        title="Triage"
        count={queue.length}
        countTestid="triage-count"
        added={added}
        newTestid="triage-new"
        what="queue"
      />
      <p className="hint">
        Not yet acknowledged, oldest first
        {replaying ? ' · replay: actions off' : mayAckAtAll ? '' : ' · you may not acknowledge'}
      </p>
      <ol
        className="triage-list"
        data-testid="triage-queue"
        onPointerEnter={() => setFrozen(live.map((incident) => incident.incidentId))}
        onPointerLeave={() => setFrozen(null)}
      >
        {rows.map((incident) => (
          <TriageItem
            key={incident.incidentId}
            incident={incident}
            session={session}
            selected={incident.incidentId === selection}
            taken={stale.has(incident.incidentId)}
            readOnly={replaying}
            now={now}
          />
        ))}
      </ol>
      {queue.length > live.length && (
        <p className="empty">
          Showing the oldest {live.length} of {queue.length}.
        </p>
      )}
      {rows.length === 0 && (
        <p className="empty" data-testid="triage-empty">
          Nothing waits: every open incident is acknowledged.
        </p>
      )}
    </section>
  )
}

import { SEVERITIES_DESCENDING } from '@watchfloor/core'
import { type ConnectionStatus, type OpeningProgress, selectOpenCounts, useWatchfloor } from '../data/store.ts'
import { AboutButton, OutdatedNotice } from '../features/about/About.tsx'
import { mayManageAccess } from '../features/access/permissions.ts'
import { AlarmSettings, AlarmStanding } from '../features/alarm/AlarmBanner.tsx'
import { ui, useUi } from '../features/coordination/coordination.ts'
import { Bell } from '../features/coordination/Notifications.tsx'
import { ReplayButton } from '../features/replay/ReplayEntry.tsx'
import { useReplay } from '../features/replay/replayStore.ts'
import { mayOpenSharing } from '../features/sharing/directory.ts'
import { ViewAsControl } from '../features/viewas/ViewAs.tsx'
import { SeverityShape } from '../ui/badges.tsx'
import { formatTime } from '../ui/format.ts'

function StatusPill({ status, seqs }: { status: ConnectionStatus; seqs: string }) {
  const replaying = useReplay((s) => s.active)
  const at = useReplay((s) => Math.floor(s.at / 1000) * 1000) // a second is enough: fewer renders while playing
  // a replay is never shown as live: the pill says REPLAY and the playhead's time
  if (replaying)
    return (
      <span
        className="pill pill-replay"
        data-testid="connection-status"
        data-mode="replay"
        data-connection={status}
        title={`A replay, not the live picture (connection: ${status})`}
        role="status"
      >
        REPLAY <span data-testid="connection-replay-at">{formatTime(new Date(at).toISOString())}</span>
      </span>
    )
  return (
    <span
      className={`pill pill-${status}`}
      data-testid="connection-status"
      data-mode="live"
      data-connection={status}
      title={seqs}
      role="status"
      aria-live="polite"
    >
      {status}
    </span>
  )
}

/** What an opening console is reading (the snapshot, then the recent events), while it does. */
function Opening({ progress }: { progress: OpeningProgress }) {
  const text =
    progress.step === 'picture'
      ? 'reading the picture…'
      : `reading recent events… ${progress.received.toLocaleString('en-US')}${
          progress.last > 0 ? ` (to seq ${progress.last})` : ''
        }`
  return (
    <span className="seq" data-testid="opening" data-step={progress.step}>
      {text}
    </span>
  )
}

export function Header({ onSignOut }: { onSignOut: () => void }) {
  const session = useWatchfloor((s) => s.session)
  const status = useWatchfloor((s) => s.status)
  const headSeq = useWatchfloor((s) => s.headSeq)
  const lastSeq = useWatchfloor((s) => s.lastSeq)
  const error = useWatchfloor((s) => s.error)
  const opening = useWatchfloor((s) => s.opening)
  const counts = useWatchfloor(selectOpenCounts)
  return (
    <header className="header">
      <AboutButton />
      {session && (
        <span
          className="whoami"
          data-testid="whoami"
          title={`${session.displayName ?? session.user} (${session.user}) · ${session.organisation} · ${session.nation} · ${
            session.roles.map((r) => r.replace(/_/g, ' ')).join(', ') || 'no roles'
          }; signed in with ${session.kind ?? 'a token'}`}
        >
          <strong data-testid="whoami-name">{session.displayName ?? session.user}</strong>
          {session.displayName !== undefined && session.displayName !== session.user && (
            <span className="mono"> @{session.user}</span>
          )}{' '}
          · <span data-testid="whoami-organisation">{session.organisation}</span> · {session.nation} ·{' '}
          <span className="roles" data-testid="whoami-roles">
            {session.roles.map((r) => r.replace(/_/g, ' ')).join(', ') || 'no roles'}
          </span>
        </span>
      )}
      <span className="counts" title="Open incidents by severity">
        {SEVERITIES_DESCENDING.map((severity) => (
          <span key={severity} className="count" data-severity={severity}>
            <SeverityShape severity={severity} />
            {counts[severity]}
          </span>
        ))}
      </span>
      <span className="spacer" />
      <ViewAsControl />
      <ReplayButton />
      <HandoverButton />
      <SharingButton />
      <AccessButton />
      <AlarmStanding />
      <AlarmSettings />
      <Bell />
      <StatusPill status={status} seqs={`head ${headSeq} · last ${lastSeq}`} />
      <OutdatedNotice />
      {opening && <Opening progress={opening} />}
      <span className="seq">
        head <span data-testid="head-seq">{headSeq}</span>
      </span>
      <span className="seq">
        last <span data-testid="last-seq">{lastSeq}</span>
      </span>
      <button type="button" className="button" data-testid="sign-out" onClick={onSignOut}>
        Sign out
      </button>
      {error && status !== 'live' && <div className="header-error">{error}</div>}
    </header>
  )
}

function HandoverButton() {
  const page = useUi((u) => u.page)
  const shown = page === 'handover'
  return (
    <button
      type="button"
      className="button"
      data-testid="open-handover"
      aria-pressed={shown}
      onClick={() => ui.getState().setPage(shown ? 'picture' : 'handover')}
    >
      {shown ? 'Picture' : 'Handover'}
    </button>
  )
}

/** The Sharing page (directory, feeds, import): for admins, liaisons, coordinators and sensors (see mayOpenSharing). */
function SharingButton() {
  const session = useWatchfloor((s) => s.session)
  const open = useUi((u) => u.page === 'sharing')
  if (!mayOpenSharing(session)) return null
  return (
    <button
      type="button"
      className="button"
      data-testid="open-sharing"
      aria-pressed={open}
      onClick={() => ui.getState().setPage(open ? 'picture' : 'sharing')}
    >
      Sharing
    </button>
  )
}

/** The Access page (accounts, API and display tokens): for admins, not while viewing as (see mayManageAccess). */
function AccessButton() {
  const session = useWatchfloor((s) => s.session)
  const open = useUi((u) => u.page === 'access')
  if (!mayManageAccess(session)) return null
  return (
    <button
      type="button"
      className="button"
      data-testid="open-access"
      aria-pressed={open}
      title="Accounts, API tokens and wall display tokens"
      onClick={() => ui.getState().setPage(open ? 'picture' : 'access')}
    >
      Access
    </button>
  )
}

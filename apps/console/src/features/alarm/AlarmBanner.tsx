import './alarm.css'
import { useEffect, useRef } from 'react'
import { useWatchfloor } from '../../data/store.ts'
import { SeverityShape } from '../../ui/badges.tsx'
import { viewStore } from '../../view/viewStore.ts'
import { dismissAlarm, setAlarmIncludeHigh, setAlarmSound, useAlarmPrefs } from './alarmPrefs.ts'
import { useAlarmView } from './alarmStore.ts'
import { alarmTitle } from './alarms.ts'

const FLASH_MS = 1000

/** Alternates the tab title between the newest alarm and the page's own title while an alarm stands. */
function useTitleFlash(flash: string | null): void {
  useEffect(() => {
    if (flash === null) return
    let base = document.title
    const timer = window.setInterval(() => {
      if (document.title === flash) document.title = base
      else {
        base = document.title
        document.title = flash
      }
    }, FLASH_MS)
    return () => {
      window.clearInterval(timer)
      if (document.title === flash) document.title = base
    }
  }, [flash])
}

/**
 * The alarm strip: every alarm standing, newest first, announced (role=alert), each on one line (a
 * long title or list of networks cut short, whole in its tooltip), counted when there are several
 * (the strip scrolls past four). It sits in the
 * layout's flow under the header, so it covers nothing: while it stands the map gives up its
 * height (the timeline and the lists keep their place and size); with no alarm it is not there
 * at all and the layout is as without it.
 */
export function AlarmBanner() {
  const alarms = useAlarmView((a) => a.alarms)
  const networks = useWatchfloor((s) => s.liveState.networks)
  const newest = alarms[0]
  useTitleFlash(newest ? alarmTitle(newest) : null)
  const networkName = (id: string) => networks.get(id)?.name ?? id
  const networksOf = (incident: (typeof alarms)[number]) =>
    incident.affectedNetworks.map(networkName).join(', ') || 'no network named'
  if (alarms.length === 0) return null
  return (
    <section className="alarm-banner" role="alert" data-testid="alarm-banner" data-count={alarms.length}>
      {alarms.length > 1 && (
        <p className="alarm-count" data-testid="alarm-count">
          {alarms.length} alarms standing, newest first
        </p>
      )}
      <ul className="alarm-list">
        {alarms.map((incident) => (
          <li key={incident.incidentId} className="alarm" data-testid="alarm" data-incident-id={incident.incidentId}>
            <span className={`alarm-severity sev-${incident.severity}`}>
              <SeverityShape severity={incident.severity} /> {incident.severity.toUpperCase()}
            </span>{' '}
            <strong className="alarm-title" data-testid="alarm-title" title={incident.title}>
              {incident.title}
            </strong>
            <span className="alarm-sep">·</span>
            <span className="alarm-organisation" data-testid="alarm-organisation">
              {incident.organisation}
            </span>
            <span className="alarm-sep">·</span>
            <span className="alarm-networks" data-testid="alarm-networks" title={networksOf(incident)}>
              {networksOf(incident)}
            </span>
            <span className="alarm-actions">
              <button
                type="button"
                className="button"
                data-testid="alarm-show"
                onClick={() => viewStore.getState().select(incident.incidentId)}
              >
                Show
              </button>
              <button
                type="button"
                className="button"
                data-testid="alarm-dismiss"
                title="Dismiss for me only (the incident stays unacknowledged)"
                onClick={() => dismissAlarm(incident.incidentId)}
              >
                Dismiss
              </button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  )
}

/**
 * The unacknowledged criticals without an alarm (open when the console opened, or dismissed): a
 * count in the header, which shows the criticals not acknowledged (the severity filter and the
 * list's acknowledged filter). Nothing when there are none.
 */
export function AlarmStanding() {
  const standing = useAlarmView((a) => a.standing)
  if (standing.length === 0) return null
  const n = standing.length
  return (
    <button
      type="button"
      className="button alarm-standing"
      data-testid="alarm-standing"
      data-count={n}
      title={`${n} unacknowledged critical ${n === 1 ? 'incident' : 'incidents'} without an alarm (open when this console opened, or its alarm dismissed). Show the criticals not acknowledged`}
      onClick={() => {
        // the incidents it counts: critical, not acknowledged
        viewStore.getState().setFilters({ severities: ['critical'] })
        viewStore.getState().setList({ ack: 'unacknowledged' })
      }}
    >
      <span className="standing-long" data-testid="alarm-standing-text">
        {n} unacknowledged critical{n === 1 ? '' : 's'} already open
      </span>
      {/* on a narrower screen, so that the header keeps to one line; the words above stay for screen readers */}
      <span className="standing-short" aria-hidden="true">
        ◆ {n} not acknowledged
      </span>
    </button>
  )
}

/** A speaker, crossed out when the sound is off (drawn: no emoji font needed). */
function SpeakerIcon({ on }: { on: boolean }) {
  return (
    <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" data-sound={on ? 'on' : 'off'}>
      <path d="M2 6h3l4-3v10l-4-3H2z" fill="currentColor" />
      {on ? (
        <path
          d="M11 5.5a3.5 3.5 0 0 1 0 5M12.5 3.5a6 6 0 0 1 0 9"
          stroke="currentColor"
          fill="none"
          strokeWidth="1.3"
        />
      ) : (
        <path d="M11 5.5l4 5M15 5.5l-4 5" stroke="currentColor" strokeWidth="1.4" />
      )}
    </svg>
  )
}

/** The viewer's alarm settings, a small menu in the header: sound (off by default) and alarms on highs. */
export function AlarmSettings() {
  const sound = useAlarmPrefs((p) => p.sound)
  const includeHigh = useAlarmPrefs((p) => p.includeHigh)
  const menu = useRef<HTMLDetailsElement>(null)
  // a menu: Escape or a press anywhere else closes it (Escape gives the focus back to its button)
  useEffect(() => {
    const close = (event: Event) => {
      const details = menu.current
      if (!details?.open) return
      if (event instanceof KeyboardEvent) {
        if (event.key !== 'Escape') return
        details.open = false
        details.querySelector('summary')?.focus()
        return
      }
      if (!details.contains(event.target as Node)) details.open = false
    }
    document.addEventListener('keydown', close)
    document.addEventListener('pointerdown', close)
    return () => {
      document.removeEventListener('keydown', close)
      document.removeEventListener('pointerdown', close)
    }
  }, [])
  return (
    <details ref={menu} className="alarm-settings" data-testid="alarm-settings">
      <summary className="button alarm-settings-button" title="Alarm settings" aria-label="Alarm settings">
        <SpeakerIcon on={sound} />
      </summary>
      <div className="alarm-settings-menu">
        <label title="Sound a short tone when an alarm is raised">
          <input
            type="checkbox"
            data-testid="alarm-sound"
            checked={sound}
            onChange={(e) => setAlarmSound(e.target.checked)}
          />{' '}
          alarm sound
        </label>
        <label title="New highs raise an alarm too (criticals always do)">
          <input
            type="checkbox"
            data-testid="alarm-high"
            checked={includeHigh}
            onChange={(e) => setAlarmIncludeHigh(e.target.checked)}
          />{' '}
          alarm on highs
        </label>
      </div>
    </details>
  )
}

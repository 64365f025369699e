/** The wall's panels: banner, counters, spotlight and network board. No controls, large type. */
import { type IncidentState, incidentImpact, type NetworkState, networkName, worstNetworkFirst } from '@watchfloor/core'
import { SEVERITIES, type Severity, type Tlp } from '@watchfloor/protocol'
import { memo, type RefObject, useLayoutEffect, useRef, useState } from 'react'
import { selectNetworkPostures, useWatchfloor } from '../data/store.ts'
import { formatAge } from '../features/board/StatusBoard.tsx'
import { POSTURE_COLOURS } from '../features/map/style.ts'
import { SeverityShape } from '../ui/badges.tsx'
import { formatClock, formatDuration } from '../ui/format.ts'
import { SEVERITY_COLOURS, TLP_COLOURS } from '../ui/theme.ts'
import type { Headline, Pin } from './picture.ts'

function zoneTime(now: number, timeZone: string): { time: string; label: string } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(now)
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  return { time: `${get('hour')}:${get('minute')}`, label: get('timeZoneName') || timeZone }
}

export const TlpLabel = memo(function TlpLabel({ tlp }: { tlp: Tlp }) {
  return (
    <span className="wall-tlp" data-testid="wall-marking" data-tlp={tlp} style={{ color: TLP_COLOURS[tlp] }}>
      TLP:{tlp}
    </span>
  )
})

export function Clock({ now, timeZone }: { now: number; timeZone: string | null }) {
  const iso = new Date(now).toISOString()
  const second = timeZone ? zoneTime(now, timeZone) : null
  return (
    <span className="wall-clock" data-testid="wall-clock">
      <span className="wall-clock-date">{iso.slice(0, 10)}</span>
      <span className="wall-clock-time">{iso.slice(11, 19)}Z</span>
      {second && (
        <span className="wall-clock-zone" data-testid="wall-clock-zone">
          {second.time} {second.label}
        </span>
      )}
    </span>
  )
}

export function Counters({ headline, overdue }: { headline: Headline; overdue: number | null }) {
  return (
    <section className="wall-panel wall-counters" data-testid="wall-counters" aria-label="Headline counters">
      {SEVERITIES.toReversed().map((severity) => (
        <div key={severity} className="wall-counter" data-severity={severity} data-testid={`wall-count-${severity}`}>
          <span className="wall-counter-value" style={{ color: SEVERITY_COLOURS[severity] }}>
            <SeverityShape severity={severity} size={26} />
            {headline.open[severity]}
          </span>
          <span className="wall-counter-label">{severity}</span>
        </div>
      ))}
      <div className="wall-counter" data-testid="wall-count-networks">
        <span className="wall-counter-value">{headline.networksAffected}</span>
        <span className="wall-counter-label">networks affected</span>
      </div>
      {overdue !== null && (
        <div className="wall-counter" data-testid="wall-count-overdue">
          <span className={`wall-counter-value${overdue > 0 ? ' wall-alarm' : ''}`}>{overdue}</span>
          <span className="wall-counter-label">tasks overdue</span>
        </div>
      )}
    </section>
  )
}

function networkNames(incident: IncidentState, names: (id: string) => string): string {
  const shown = incident.affectedNetworks.slice(0, 4).map(names)
  const more = incident.affectedNetworks.length - shown.length
  return `${shown.join(', ')}${more > 0 ? ` +${more}` : ''}`
}

export function Spotlight({
  incident,
  next,
  pin,
  now,
  staleMs,
  position,
}: {
  incident: IncidentState | null
  next: readonly IncidentState[]
  pin: Pin | null
  now: number
  staleMs: number
  position: { index: number; count: number }
}) {
  const networks = useWatchfloor((s) => s.state.networks)
  const nameOf = (id: string) => networkLabel(id, networks)
  if (!incident)
    return (
      <section
        className="wall-panel wall-spotlight"
        data-testid="wall-spotlight"
        data-incident-id=""
        data-pinned="false"
      >
        <p className="wall-quiet">No open incidents.</p>
      </section>
    )
  const age = now - Date.parse(incident.updatedAt)
  const stale = age > staleMs
  return (
    <section
      className={`wall-panel wall-spotlight${pin ? ' wall-pinned' : ''}`}
      data-testid="wall-spotlight"
      data-incident-id={incident.incidentId}
      data-pinned={pin ? 'true' : 'false'}
      aria-live="polite"
    >
      <div className="wall-spotlight-head">
        {pin ? (
          <span className="wall-pin-label" data-testid="wall-pin">
            NEW CRITICAL · pinned {formatDuration(pin.until - now)} more, or until acknowledged
          </span>
        ) : (
          <span className="wall-muted">
            Spotlight {position.index + 1}/{position.count}
          </span>
        )}
        <TlpLabel tlp={incident.contentMarking.tlp} />
      </div>
      <h2 className="wall-spotlight-title">
        <SeverityShape severity={incident.severity} size={30} />
        <span>{incident.title}</span>
      </h2>
      <div className="wall-spotlight-facts">
        <span style={{ color: SEVERITY_COLOURS[incident.severity] }} className="wall-strong">
          {incident.severity}
        </span>
        <span>{incident.status}</span>
        <span>{incident.category}</span>
        <span>by {incident.organisation.toUpperCase()}</span>
      </div>
      <div className="wall-spotlight-facts">
        <span>Affects {networkNames(incident, nameOf) || 'no network named'}</span>
        <span>
          {incident.observationReports.toLocaleString('en-GB')} observation{' '}
          {incident.observationReports === 1 ? 'report' : 'reports'}
        </span>
      </div>
      <div
        className={`wall-spotlight-age${stale ? ' wall-stale' : ''}`}
        data-testid="wall-spotlight-age"
        data-stale={stale}
      >
        updated {formatAge(age)}
        {stale ? ' · STALE' : ''}
      </div>
      {next.length > 0 && (
        <ol className="wall-next" aria-label="Next in the spotlight">
          {next.map((other) => {
            const otherStale = now - Date.parse(other.updatedAt) > staleMs
            return (
              <li key={other.incidentId} className={otherStale ? 'wall-stale' : undefined} data-stale={otherStale}>
                <SeverityShape severity={other.severity} size={20} />
                <span className="wall-next-title">{other.title}</span>
                <span className="wall-muted">{formatDuration(now - Date.parse(other.updatedAt))}</span>
              </li>
            )
          })}
        </ol>
      )}
    </section>
  )
}

/**
 * A network on the wall: as the console names it (core's `networkName`: its short name, else its
 * name); one the picture does not hold (an incident names it, its registration not shared with this
 * wall) by its id.
 */
function networkLabel(networkId: string, networks: ReadonlyMap<string, NetworkState>): string {
  const network = networks.get(networkId)
  return network === undefined ? networkId : networkName(network)
}

/** The board's columns (`.wall-board` in wall.css). */
const BOARD_COLUMNS = 3

/**
 * How many networks the board shows as tiles when `capacity` tiles fit whole (null: not measured
 * yet), and how many the last cell sums up instead ("+N more"): never a tile cut off at the edge.
 */
export function boardSlots(count: number, capacity: number | null): { tiles: number; more: number } {
  if (capacity === null || count <= capacity) return { tiles: count, more: 0 }
  const tiles = Math.max(0, capacity - 1)
  return { tiles, more: count - tiles }
}

/** How many whole tiles fit in the board: its rows that fit, by the first tile's height, times its columns. */
function useBoardCapacity(board: RefObject<HTMLElement | null>, hasTiles: boolean): number | null {
  const [capacity, setCapacity] = useState<number | null>(null)
  useLayoutEffect(() => {
    const element = board.current
    if (!element || !hasTiles) return
    const measure = () => {
      const tile = element.querySelector<HTMLElement>('.wall-tile')
      if (!tile) return
      const style = getComputedStyle(element)
      const gap = Number.parseFloat(style.rowGap) || 0
      const inner = element.clientHeight - Number.parseFloat(style.paddingTop) - Number.parseFloat(style.paddingBottom)
      const rows = Math.max(1, Math.floor((inner + gap) / (tile.offsetHeight + gap)))
      setCapacity(rows * BOARD_COLUMNS)
    }
    measure()
    const observer = new ResizeObserver(measure)
    observer.observe(element)
    return () => observer.disconnect()
  }, [board, hasTiles])
  return capacity
}

/**
 * Every allied network as a tile: posture, open incidents by severity, last report (silent ones
 * marked). When they do not all fit, the last cell says how many more (and how many of those are
 * silent): the worst come first, so what is left out is the calmest, never cut off unseen.
 */
export function Board({ now, silentMs, networks }: { now: number; silentMs: number; networks?: ReadonlySet<string> }) {
  const postures = useWatchfloor(selectNetworkPostures)
  const shown = postures.filter((p) => !networks || networks.has(p.network.networkId)).sort(worstNetworkFirst)
  const board = useRef<HTMLElement>(null)
  const capacity = useBoardCapacity(board, shown.length > 0)
  const slots = boardSlots(shown.length, capacity)
  const left = shown.slice(slots.tiles)
  const leftSilent = left.filter(({ network }) => now - Date.parse(network.lastReportAt) > silentMs).length
  return (
    <section ref={board} className="wall-panel wall-board" data-testid="wall-board" aria-label="Networks">
      {shown.slice(0, slots.tiles).map(({ network, openIncidents }) => {
        const impact = incidentImpact(openIncidents)
        const age = now - Date.parse(network.lastReportAt)
        const silent = age > silentMs
        return (
          <div
            key={network.networkId}
            className={`wall-tile${silent ? ' wall-silent' : ''}`}
            data-testid="wall-network"
            data-network-id={network.networkId}
            data-posture={network.posture}
            data-impact={impact}
            data-silent={silent}
            style={{ borderLeftColor: POSTURE_COLOURS[network.posture] }}
          >
            <span className="wall-tile-name" title={network.name}>
              {networkName(network)}
            </span>
            <span className="wall-tile-counts">
              {SEVERITIES.toReversed().map((severity: Severity) =>
                openIncidents[severity] ? (
                  <span key={severity} style={{ color: SEVERITY_COLOURS[severity] }}>
                    <SeverityShape severity={severity} size={16} />
                    {openIncidents[severity]}
                  </span>
                ) : null,
              )}
            </span>
            <span className="wall-tile-age">{silent ? `SILENT ${formatDuration(age)}` : formatDuration(age)}</span>
          </div>
        )
      })}
      {slots.more > 0 && (
        <div
          className={`wall-tile wall-more${leftSilent > 0 ? ' wall-silent' : ''}`}
          data-testid="wall-board-more"
          data-more={slots.more}
          data-silent={leftSilent}
        >
          <span className="wall-tile-name">+{slots.more} more</span>
          <span />
          <span className="wall-tile-age">{leftSilent > 0 ? `${leftSilent} SILENT` : ''}</span>
        </div>
      )}
      {shown.length === 0 && <p className="wall-quiet">No networks visible.</p>}
    </section>
  )
}

/** The map's key, at wall size. */
export function WallLegend() {
  return (
    <div className="wall-legend">
      {SEVERITIES.toReversed().map((severity) => (
        <span key={severity}>
          <SeverityShape severity={severity} size={18} />
          {severity}
        </span>
      ))}
      {(['compromised', 'degraded', 'elevated', 'normal'] as const).map((posture) => (
        <span key={posture}>
          <span className="wall-legend-ring" style={{ borderColor: POSTURE_COLOURS[posture] }} />
          {posture}
        </span>
      ))}
    </div>
  )
}

/** When the server was last heard from (this machine's clock), told on the server's clock as the wall's clock is. */
export function lastUpdateText(lastMessageAt: number, clockOffsetMs = 0): string {
  return lastMessageAt > 0 ? formatClock(new Date(lastMessageAt + clockOffsetMs).toISOString()) : 'never'
}

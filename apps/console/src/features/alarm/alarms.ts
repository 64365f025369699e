import { awaitsTriage, type IncidentState, type State } from '@watchfloor/core'
import type { Severity } from '@watchfloor/protocol'

/**
 * Which incidents raise an alarm (pure: no DOM, no store).
 *
 * An incident alarms when it awaits triage (core's `awaitsTriage`: open, not acknowledged), is
 * critical (or high, when the viewer asked for highs too), not dismissed by this viewer, and it was not already so when the console went
 * live: the baseline is the severity of every incident in the picture the console opened with
 * (the snapshot and the recent window), so only what arrives live (a new report, or an
 * escalation to an alarming severity) raises one.
 */
export interface AlarmSettings {
  /** Highs alarm too (default: criticals only). */
  includeHigh: boolean
}

/**
 * The incidents of the opening picture that could have alarmed then (awaiting triage, high or
 * critical) and their severity then; null before the console is live. Only those: a picture of
 * months holds tens of thousands of closed or acknowledged incidents, none of which alarms until
 * it changes (a closed critical reopened alarms as news).
 */
export type AlarmBaseline = ReadonlyMap<string, Severity>

export function baselineOf(state: State): AlarmBaseline {
  const baseline = new Map<string, Severity>()
  for (const incident of state.incidents.values())
    if (awaitsTriage(incident) && (incident.severity === 'critical' || incident.severity === 'high'))
      baseline.set(incident.incidentId, incident.severity)
  return baseline
}

/** The baseline alarms are raised against, the viewer it is for, and the open it was taken at. */
export interface HeldBaseline {
  /** data/viewAs.ts `viewerKey` of the session. */
  viewer: string | null
  /** The store's `opened` last seen (compared by identity). */
  opened: unknown
  baseline: AlarmBaseline | null
}

/**
 * The baseline after a change of the data store. The picture the console opened with is kept while
 * the viewer is the same, when the picture empties and opens again too (a transient failure,
 * `resync`): an alarm that stood stands on, and a critical that arrived meanwhile alarms. Another
 * viewer (sign-out, another person, view as on, off or to another audience) has none until their
 * own picture opens: the old viewer's may still be in the store when the session changes.
 */
export function followBaseline(
  held: HeldBaseline,
  now: { viewer: string | null; opened: unknown; state: State },
): HeldBaseline {
  if (now.viewer !== held.viewer) return { viewer: now.viewer, opened: now.opened, baseline: null }
  if (now.opened === held.opened) return held
  if (now.opened === null || held.baseline !== null) return { ...held, opened: now.opened }
  return { viewer: now.viewer, opened: now.opened, baseline: baselineOf(now.state) }
}

function alarmingSeverity(severity: Severity, settings: AlarmSettings): boolean {
  return severity === 'critical' || (settings.includeHigh && severity === 'high')
}

export interface AlarmsNow {
  /** The incidents that alarm now, newest first (by report time, then by seq). */
  alarms: IncidentState[]
  /** Criticals that were already open and unacknowledged when the console opened (no alarm: a count). */
  standing: IncidentState[]
}

/** The alarms and the standing criticals, in one pass over the picture (it runs on every live batch). */
export function alarmViewOf(
  state: State,
  baseline: AlarmBaseline | null,
  settings: AlarmSettings,
  dismissed: ReadonlySet<string>,
): AlarmsNow {
  const view: AlarmsNow = { alarms: [], standing: [] }
  if (baseline === null) return view
  for (const incident of state.incidents.values()) {
    if (!awaitsTriage(incident)) continue
    const before = baseline.get(incident.incidentId)
    // counted in the header: criticals open when the console opened, and those whose alarm was
    // dismissed while they still wait (dismissed, an unacknowledged critical left no trace)
    if (incident.severity === 'critical' && (before === 'critical' || dismissed.has(incident.incidentId)))
      view.standing.push(incident)
    if (!alarmingSeverity(incident.severity, settings) || dismissed.has(incident.incidentId)) continue
    if (before !== undefined && alarmingSeverity(before, settings)) continue
    view.alarms.push(incident)
  }
  view.alarms.sort((a, b) => Date.parse(b.reportedAt) - Date.parse(a.reportedAt) || b.lastSeq - a.lastSeq)
  return view
}

export const alarmsOf = (...args: Parameters<typeof alarmViewOf>): IncidentState[] => alarmViewOf(...args).alarms

export function standingCriticalsOf(state: State, baseline: AlarmBaseline | null): IncidentState[] {
  return alarmViewOf(state, baseline, { includeHigh: false }, new Set()).standing
}

/** The tab title while an alarm stands, one of two alternating titles. */
export function alarmTitle(alarm: IncidentState): string {
  return `(!) ${alarm.severity.toUpperCase()}: ${alarm.title}`
}

/**
 * Observations folded into runs, so that lists and histories show what changed, not a flood of
 * sightings (issue 16): the log is mostly observations, and a history of 166 entries was almost
 * all of them. Pure functions, shared by the Events tab and the incident's history.
 */
import type { StoredEvent, Tlp } from '@watchfloor/protocol'
import { TLP_LEVELS } from '@watchfloor/protocol'

/**
 * Is this event a change worth stopping at: anything but an observation (observations arrive by the
 * thousand and change counts, not the course of an incident).
 */
export function isSignificant(event: StoredEvent): boolean {
  return event.type !== 'incident.observation'
}

/** What an indicator is, told from its text. */
export type IndicatorKind = 'ipv4' | 'ipv6' | 'cidr' | 'url' | 'email' | 'hash' | 'domain' | 'port' | 'other' | 'none'

export const INDICATOR_KIND_LABEL: Record<IndicatorKind, string> = {
  ipv4: 'IPv4',
  ipv6: 'IPv6',
  cidr: 'address range',
  url: 'URL',
  email: 'e-mail',
  hash: 'file hash',
  domain: 'domain',
  port: 'port / service',
  other: 'other',
  none: 'no indicator',
}

export function indicatorKind(indicator: string | undefined): IndicatorKind {
  const text = indicator?.trim()
  if (!text) return 'none'
  if (/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(text)) return 'cidr'
  if (/^\d{1,3}(\.\d{1,3}){3}(:\d+)?$/.test(text)) return 'ipv4'
  if (/^[0-9a-f]*:[0-9a-f:]+(\/\d{1,3})?$/i.test(text) && text.includes(':')) return 'ipv6'
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return 'url'
  if (/^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i.test(text)) return 'email'
  if (/^([0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/i.test(text)) return 'hash'
  if (/^\d{1,5}\/(tcp|udp)\b/i.test(text)) return 'port'
  if (/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/i.test(text)) return 'domain'
  return 'other'
}

/**
 * Observations of one incident and one kind of indicator, with no other change to that incident
 * between them: a worm's sightings of a hundred addresses are one run, not a hundred (the counts of
 * one kind may be summed; those of different kinds never are).
 */
export interface ObservationRun {
  kind: 'observations'
  incidentId: string
  /** The first report's indicator (the run's only one when `indicators` holds one). */
  indicator: string | undefined
  indicatorKind: IndicatorKind
  /** The distinct indicators of its reports ('' for a report with none). */
  indicators: Set<string>
  /** Observation reports in the run. */
  reports: number
  /** The sum of their `count` fields (1 when a report gives none). */
  sum: number
  /** The networks they were seen on. */
  networks: string[]
  /** The strictest TLP among them. */
  tlp: Tlp
  /** The events, in the order given. */
  events: StoredEvent[]
}

export type EventEntry = { kind: 'event'; event: StoredEvent } | ObservationRun

const observationOf = (event: StoredEvent) =>
  event.type === 'incident.observation'
    ? (event.payload as { incidentId: string; networkId?: string; indicator?: string; count?: number })
    : undefined

/**
 * A grouping that grows: the entries of the events grouped so far and the runs still open, so that
 * events appended to a live window are grouped without going over the window again.
 */
export interface Grouping {
  entries: EventEntry[]
  /** Open runs by incident, then by kind of indicator, with their place in `entries`. */
  open: Map<string, Map<string, number>>
  /** How many events were grouped, the first and the last of them. */
  count: number
  first: StoredEvent | undefined
  last: StoredEvent | undefined
}

/**
 * What a run's reports were of, in words: its one indicator ("of 203.0.113.7 (IPv4)"), or how many
 * of one kind ("of 9 IPv4 indicators"); `indicator` is set for the one to show in a monospace face.
 */
export function runIndicators(run: Pick<ObservationRun, 'indicator' | 'indicatorKind' | 'indicators'>): {
  indicator?: string
  words: string
} {
  if (run.indicatorKind === 'none') return { words: 'no indicator' }
  if (run.indicators.size <= 1 && run.indicator !== undefined)
    return { indicator: run.indicator, words: `(${INDICATOR_KIND_LABEL[run.indicatorKind]})` }
  return { words: `${run.indicators.size} ${INDICATOR_KIND_LABEL[run.indicatorKind]} indicators` }
}

export function newGrouping(): Grouping {
  return { entries: [], open: new Map(), count: 0, first: undefined, last: undefined }
}

/**
 * Groups `events` after those `grouping` holds (it is changed and returned). A run that takes more
 * observations is replaced in `entries` by a new object (its `events` and `networks` arrays are
 * shared with the one it replaces), so a list that memoises its rows by run sees the change.
 */
export function extendGrouping(grouping: Grouping, events: readonly StoredEvent[]): Grouping {
  const { entries, open } = grouping
  /** Runs already replaced by a new object in this call. */
  const renewed = new Set<ObservationRun>()
  for (const event of events) {
    grouping.count++
    grouping.first ??= event
    grouping.last = event
    const observation = observationOf(event)
    if (!observation || isSignificant(event)) {
      entries.push({ kind: 'event', event })
      const incidentId = (event.payload as { incidentId?: unknown }).incidentId
      if (typeof incidentId === 'string') open.delete(incidentId)
      continue
    }
    const byIndicator = open.get(observation.incidentId) ?? new Map<string, number>()
    open.set(observation.incidentId, byIndicator)
    const kind = indicatorKind(observation.indicator)
    const at = byIndicator.get(kind)
    let run: ObservationRun
    if (at === undefined) {
      run = {
        kind: 'observations',
        incidentId: observation.incidentId,
        indicator: observation.indicator,
        indicatorKind: kind,
        indicators: new Set(),
        reports: 0,
        sum: 0,
        networks: [],
        tlp: event.marking.tlp,
        events: [],
      }
      byIndicator.set(kind, entries.length)
      entries.push(run)
      renewed.add(run)
    } else {
      run = entries[at] as ObservationRun
      if (!renewed.has(run)) {
        run = { ...run }
        entries[at] = run
        renewed.add(run)
      }
    }
    run.reports++
    run.indicators.add(observation.indicator?.trim() ?? '')
    run.sum += observation.count ?? 1
    const network = observation.networkId ?? event.source.network
    if (network && !run.networks.includes(network)) run.networks.push(network)
    if (TLP_LEVELS.indexOf(event.marking.tlp) > TLP_LEVELS.indexOf(run.tlp)) run.tlp = event.marking.tlp
    run.events.push(event)
  }
  return grouping
}

/**
 * The events in the order given (seq order), each change on its own and the observations folded
 * into runs: one per incident and kind of indicator until a change to that incident, placed where its first
 * observation stood.
 */
export function groupEvents(events: readonly StoredEvent[]): EventEntry[] {
  return extendGrouping(newGrouping(), events).entries
}

/**
 * The grouping of `events` (a window that grows at its end), reusing `previous` when `events` only
 * has events appended to what it grouped; otherwise grouped again from the start.
 */
export function groupingOf(previous: Grouping | undefined, events: readonly StoredEvent[]): Grouping {
  const appended =
    previous !== undefined &&
    previous.count > 0 &&
    events.length >= previous.count &&
    events[0] === previous.first &&
    events[previous.count - 1] === previous.last
  if (!appended) return extendGrouping(newGrouping(), events)
  return previous.count === events.length ? previous : extendGrouping(previous, events.slice(previous.count))
}

/** Observation reports and the sum of their counts, of one kind of indicator. */
export interface ObservationTally {
  kind: IndicatorKind
  reports: number
  sum: number
}

export interface ObservationSummary {
  reports: number
  sum: number
  /** Per kind of indicator, most reports first. */
  byKind: ObservationTally[]
  /** Reports per minute over the last `spanMinutes`. */
  ratePerMinute: number
  /** The span the rate is over: at most the asked minutes, never more than the observations cover. */
  spanMinutes: number
}

/**
 * What the observations of a history say, counted honestly: reports and the sum of the counts they
 * give (two different facts; counts of different kinds are never added into one figure), per kind
 * of indicator, and the rate of reports over the last `minutes`, or over the time since the first
 * observation when that is shorter (an incident 1.6 minutes old has no 10-minute rate).
 */
export function summariseObservations(history: readonly StoredEvent[], now: number, minutes = 10): ObservationSummary {
  const byKind = new Map<IndicatorKind, ObservationTally>()
  let reports = 0
  let sum = 0
  let first = Number.POSITIVE_INFINITY
  const since = now - minutes * 60_000
  let recent = 0
  for (const event of history) {
    const observation = observationOf(event)
    if (!observation) continue
    const count = observation.count ?? 1
    reports++
    sum += count
    const kind = indicatorKind(observation.indicator)
    const tally = byKind.get(kind) ?? { kind, reports: 0, sum: 0 }
    tally.reports++
    tally.sum += count
    byKind.set(kind, tally)
    const at = Date.parse(event.occurredAt)
    if (at < first) first = at
    if (at >= since) recent++
  }
  const spanMs = Math.max(0, Math.min(minutes * 60_000, now - first))
  const spanMinutes = reports === 0 ? 0 : Math.max(1 / 60, spanMs / 60_000)
  return {
    reports,
    sum,
    byKind: [...byKind.values()].sort((a, b) => b.reports - a.reports || a.kind.localeCompare(b.kind)),
    ratePerMinute: reports === 0 ? 0 : recent / spanMinutes,
    spanMinutes,
  }
}

/**
 * What an incident's history lists when it is long: every change (the report, updates, coordination),
 * and of the runs of observations only the latest, so that at most `max` entries are listed; what is
 * left out is counted (runs and their reports), never dropped unsaid. The report stays at the top.
 */
export function historyShown(
  entries: readonly EventEntry[],
  max = 200,
): { shown: EventEntry[]; hiddenRuns: number; hiddenReports: number } {
  if (entries.length <= max) return { shown: [...entries], hiddenRuns: 0, hiddenReports: 0 }
  const changes = entries.filter((entry) => entry.kind === 'event').length
  let runsKept = Math.max(0, max - changes)
  const kept = new Set<EventEntry>()
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!
    if (entry.kind === 'event') kept.add(entry)
    else if (runsKept > 0) {
      kept.add(entry)
      runsKept--
    }
  }
  let hiddenRuns = 0
  let hiddenReports = 0
  for (const entry of entries)
    if (!kept.has(entry) && entry.kind === 'observations') {
      hiddenRuns++
      hiddenReports += entry.reports
    }
  return { shown: entries.filter((entry) => kept.has(entry)), hiddenRuns, hiddenReports }
}

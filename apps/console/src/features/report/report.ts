/**
 * The after-action report of an incident, built from the live picture and the events it is given:
 * the incident's own history as the server holds it for this viewer (history.ts) merged with the
 * event window, or the window alone while that history is loading or when it could not be read.
 * Pure: it asks nothing of the server.
 */
import {
  type AdvisoryState,
  type DocumentMarking,
  documentMarking,
  fold,
  type IncidentState,
  initialState,
  type State,
  type SummaryNames,
  type SummaryTitles,
  severityRank,
  summarise,
  summaryTitles,
  type TaskState,
  tasksForIncident,
  titleNames,
} from '@watchfloor/core'
import type { IncidentStatus, Marking, Severity, StoredEvent } from '@watchfloor/protocol'
import { formatTime } from '../../ui/format.ts'

export interface NetworkChange {
  at: string
  networkId: string
  name: string
  /** affected, contained, recovered; or 'affected' when listed by a report or an update. */
  state: string
  seq: number
}

export interface TaskStep {
  at: string
  type: string
  /** The acting user (an id), else the organisation. */
  by: string
  /** What they gave with it: a block's or a reopening's reason, a completion's note. */
  note?: string
}

export interface TaskLine {
  task: TaskState
  /** Who did what: the actor of each task event, in order. */
  steps: TaskStep[]
}

/** One entry of the report's timeline, in words: incidents and tasks by title, people by name. */
export interface TimelineLine {
  seq: number
  type: string
  at: string
  text: string
  /** Who acted, by name (the user id when no name is known); absent when the event names nobody. */
  actor?: string
}

export interface Durations {
  /** ms from the report to the first acknowledgement / containment / recovery; null: not yet. */
  acknowledge: number | null
  contain: number | null
  recover: number | null
}

export interface AfterActionReport {
  incident: IncidentState
  /** Every event about it but observations, in seq order. */
  keyEvents: StoredEvent[]
  /**
   * Its observations: how many reports (`reports`, observation events) and the sum of their counts
   * (`count`: one report may say it saw a thing 300 times), and when the first and last occurred.
   */
  observations: { reports: number; count: number; first?: string; last?: string }
  networks: NetworkChange[]
  tasks: TaskLine[]
  advisories: AdvisoryState[]
  durations: Durations
  /** The most severe the incident was (from its report and every change received), and when it first was. */
  peak: { severity: Severity; at: string }
  /**
   * The titles its timeline shows of the incidents and tasks its key events name (a linked
   * incident, a merge's survivor), from the picture the report is built from, with their markings.
   */
  titles: SummaryTitles
  /**
   * [M1] The report's own marking: the strictest of the incident, its events, tasks and advisories
   * shown, and of every incident and task its timeline names by title (`titles.markings`).
   */
  marking: DocumentMarking
}

const CONTAINED: readonly IncidentStatus[] = ['contained', 'eradicated', 'recovered', 'closed']
const RECOVERED: readonly IncidentStatus[] = ['recovered', 'closed']

function statusOf(event: StoredEvent, restatedTaken: ReadonlySet<number>): IncidentStatus | undefined {
  if (event.type === 'incident.status_changed') return event.payload.status
  if (event.type === 'incident.updated') return event.payload.status
  // [R15] a marking change restates the status (set by events this viewer may not have been sent):
  // it counts where this picture took it (not where its own status was set later)
  if (event.type === 'incident.reported' && restatedTaken.has(event.seq)) return event.payload.restated?.status
  return undefined
}

/**
 * The marking changes [R15] whose restated status this picture took, by seq: folded as the reducer
 * folds them (a holder takes a field only where it was set later in the author's picture than in
 * its own), each against the incident's history folded up to it.
 */
function restatedStatusTaken(history: readonly StoredEvent[], incidentId: string): Set<number> {
  const taken = new Set<number>()
  if (!history.some((event) => event.type === 'incident.reported' && event.payload.restated !== undefined)) return taken
  let state = initialState
  let batch: StoredEvent[] = []
  for (const event of history) {
    if (event.type !== 'incident.reported' || event.payload.restated === undefined) {
      batch.push(event)
      continue
    }
    state = fold(state, batch)
    batch = []
    const before = state.incidents.get(incidentId)
    state = fold(state, [event])
    const after = state.incidents.get(incidentId)
    if (after !== undefined && (before === undefined || after.setAt?.status !== before.setAt?.status))
      taken.add(event.seq)
  }
  return taken
}

/**
 * "Time to acknowledge" as the report says it: the duration, or plainly that a closed incident
 * was never acknowledged (not "not yet").
 */
export function acknowledgeText(report: Pick<AfterActionReport, 'durations' | 'incident'>): string {
  if (report.durations.acknowledge === null && report.incident.status === 'closed')
    return 'never acknowledged (closed without acknowledgement)'
  return formatDuration(report.durations.acknowledge)
}

/**
 * What the events a report is built from cover: `history`, the incident's whole history (merged with
 * the window); `loading`, the window alone while the history is read; `window`, the window alone as
 * the history could not be read. Only from the whole history is a missing time a fact ("not yet").
 */
export type ReportBasis = 'history' | 'loading' | 'window'

/**
 * "Time to contain" and "time to recover" as the report says them. From the window alone a time is
 * an upper bound (an earlier containment may be outside it), and none seen is not known.
 */
export function durationText(ms: number | null, basis: ReportBasis): string {
  if (basis === 'history') return formatDuration(ms)
  if (ms !== null) return `at most ${formatDuration(ms)} (from what this console holds)`
  return basis === 'loading' ? 'loading the history…' : 'not known (the history could not be read)'
}

/** Human form of a duration: "45 s", "1 min 42 s", "12 min", "3 h 20 min", "2 d 4 h". */
export function formatDuration(ms: number | null): string {
  if (ms === null) return 'not yet'
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 90) return `${s} s`
  // under ten minutes to the second: a response of 1 min 42 s is not "2 min" beside another's "57 s"
  if (s < 600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`
  const min = Math.round(s / 60)
  if (min < 120) return `${min} min`
  const h = Math.floor(min / 60)
  if (h < 48) return `${h} h ${min % 60} min`
  return `${Math.floor(h / 24)} d ${h % 24} h`
}

export function buildReport(
  state: State,
  window: readonly StoredEvent[],
  incidentId: string,
): AfterActionReport | null {
  const incident = state.incidents.get(incidentId)
  if (!incident) return null
  const tasks = tasksForIncident(state, incidentId)
  const taskIds = new Set(tasks.map((t) => t.taskId))
  const about = (event: StoredEvent) =>
    ('incidentId' in event.payload && event.payload.incidentId === incidentId) ||
    ('taskId' in event.payload && taskIds.has(event.payload.taskId as string))
  const history = window.filter(about)
  const restatedTaken = restatedStatusTaken(history, incidentId)
  const keyEvents: StoredEvent[] = []
  const observations: AfterActionReport['observations'] = { reports: 0, count: 0 }
  const networks: NetworkChange[] = []
  /** The networks the incident affects as of the event being read: a report or an update lists them all again. */
  const affectedNow = new Set<string>()
  const steps = new Map<string, TaskLine['steps']>()
  const reportedMs = Date.parse(incident.reportedAt)
  const durations: Durations = {
    acknowledge: incident.acknowledgedAt ? Date.parse(incident.acknowledgedAt) - reportedMs : null,
    contain: null,
    recover: null,
  }
  let peak = { severity: incident.severity, at: incident.reportedAt }
  let peakSeen = false
  // what the report says of the incident (severity, status, times) is what every event folded into it made it
  const markings: Marking[] = [incident.contentMarking]
  const name = (networkId: string) => {
    const network = state.networks.get(networkId)
    if (network === undefined) return networkId
    markings.push(network.marking) // its name is the registration's
    return network.name
  }
  for (const event of history) {
    // observations are only counted, but the count and its times are theirs
    markings.push(event.marking)
    if (event.type === 'incident.observation') {
      observations.reports++
      observations.count += event.payload.count ?? 1
      observations.first ??= event.occurredAt
      observations.last = event.occurredAt
      continue
    }
    keyEvents.push(event)
    const at = event.occurredAt
    const severity = severityOf(event)
    if (severity !== undefined && (!peakSeen || severityRank(severity) > severityRank(peak.severity))) {
      peak = { severity, at }
      peakSeen = true
    }
    if (event.type === 'incident.reported' && event.payload.restated !== undefined) {
      // [R15] a marking change says the networks again: new here only where this picture had none
      const { networkStates } = event.payload.restated
      for (const networkId of event.payload.affectedNetworks) {
        affectedNow.add(networkId)
        if (!networks.some((n) => n.networkId === networkId))
          networks.push({
            at,
            networkId,
            name: name(networkId),
            state: networkStates?.[networkId] ?? 'affected',
            seq: event.seq,
          })
      }
    } else if (
      event.type === 'incident.reported' ||
      (event.type === 'incident.updated' && event.payload.affectedNetworks)
    ) {
      // a report or an update lists every network it affects: a change only where one is new
      const listed = event.payload.affectedNetworks ?? []
      for (const networkId of listed)
        if (!affectedNow.has(networkId))
          networks.push({ at, networkId, name: name(networkId), state: 'affected', seq: event.seq })
      affectedNow.clear()
      for (const networkId of listed) affectedNow.add(networkId)
    }
    if (event.type === 'incident.network_state_set')
      networks.push({
        at,
        networkId: event.payload.networkId,
        name: name(event.payload.networkId),
        state: event.payload.state,
        seq: event.seq,
      })
    const status = statusOf(event, restatedTaken)
    if (status && CONTAINED.includes(status)) durations.contain ??= Date.parse(at) - reportedMs
    if (status && RECOVERED.includes(status)) durations.recover ??= Date.parse(at) - reportedMs
    if ('taskId' in event.payload && event.type.startsWith('task.')) {
      const taskId = event.payload.taskId as string
      const list = steps.get(taskId) ?? []
      const step: TaskStep = { at, type: event.type.slice(5), by: event.actor?.user ?? event.source.organisation }
      const note = stepNote(event)
      if (note !== undefined) step.note = note
      list.push(step)
      steps.set(taskId, list)
    }
  }
  const advisories = [...state.advisories.values()]
    .filter((a) => a.incidentId === incidentId)
    .sort((a, b) => a.seq - b.seq)
  if (severityRank(incident.severity) > severityRank(peak.severity))
    peak = { severity: incident.severity, at: incident.updatedAt }
  for (const task of tasks) markings.push(task.contentMarking) // its status and assignee: every event folded into it
  for (const advisory of advisories) markings.push(advisory.marking)
  // the titles its timeline shows (another incident's, re-reported stricter since it was linked): theirs too
  const titles = summaryTitles(state, keyEvents)
  markings.push(...titles.markings)
  return {
    incident,
    keyEvents,
    observations,
    networks,
    tasks: tasks.map((task) => ({ task, steps: steps.get(task.taskId) ?? [] })),
    advisories,
    durations,
    peak,
    titles,
    marking: documentMarking(markings),
  }
}

/**
 * [M1] The banner's marking, top and bottom: the report's own and that of each map image it carries
 * (what that map drew: other incidents, advisories, maybe stricter than the incident's own).
 */
export function bannerMarking(
  report: DocumentMarking,
  images: readonly { marking: DocumentMarking }[],
): DocumentMarking {
  return documentMarking([report, ...images.map((image) => image.marking)])
}

/**
 * The report's timeline in words, as the detail panel's history says it (core's `summarise`): a
 * task by its title, never its id, wherever the picture knows it (docs/console.md, "Names, not
 * ids"). Incidents and tasks by the report's `titles` only, the ones its marking counts [M1];
 * people by `people`.
 */
export function timelineLines(
  report: Pick<AfterActionReport, 'keyEvents' | 'titles'>,
  people: Pick<SummaryNames, 'person'>,
): TimelineLine[] {
  const names = titleNames(report.titles, people.person)
  return report.keyEvents.map((event) => {
    // whole: a report keeps the notes and reasons people gave, however long
    const line: TimelineLine = {
      seq: event.seq,
      type: event.type,
      at: event.occurredAt,
      text: summarise(event, names, { whole: true }),
    }
    if (event.actor?.user) line.actor = names.person?.(event.actor.user) ?? event.actor.user
    return line
  })
}

/**
 * A task's steps in words: `completed by Mari Tamm at 26 Nov 08:18: swept · reopened by …`. It
 * names people only, no incident or task by title (nothing for the marking to count).
 */
export function taskStepsText(line: TaskLine, people: Pick<SummaryNames, 'person'>): string {
  return line.steps
    .map((s) => {
      const by = people.person?.(s.by) ?? s.by
      return `${s.type} by ${by} at ${formatTime(s.at)}${s.note === undefined ? '' : `: ${s.note}`}`
    })
    .join(' · ')
}

/** The text a person gave with a task's step. */
function stepNote(event: StoredEvent): string | undefined {
  if (event.type === 'task.blocked') return event.payload.reason
  if (event.type === 'task.completed') return event.payload.note
  if (event.type === 'task.reopened') return event.payload.reason
  return undefined
}

function severityOf(event: StoredEvent): Severity | undefined {
  if (event.type === 'incident.reported' || event.type === 'incident.escalated') return event.payload.severity
  if (event.type === 'incident.updated') return event.payload.severity
  return undefined
}

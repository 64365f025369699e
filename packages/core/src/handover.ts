import type {
  Assignee,
  IncidentStatus,
  Marking,
  Severity,
  StoredEvent,
  TaskPriority,
  TaskStatus,
  Tlp,
  Viewer,
} from '@watchfloor/protocol'
import { severityRank } from './facts.ts'
import { fold } from './reduce.ts'
import { isOverdue } from './selectors.ts'
import type { IncidentState, State, TaskState } from './state.ts'
import { canSee, type DocumentMarking, documentMarking, markingBanner } from './visibility.ts'

/** An incident as the brief lists it: what it is now (at `until`), and the change that put it on the list. */
export interface HandoverIncident {
  incidentId: string
  title: string
  severity: Severity
  status: IncidentStatus
  /** The reporting organisation. */
  organisation: string
  tlp: Tlp
  /** When the listed change happened (`occurredAt`): the report, the last escalation, the closing, the last change. */
  at: string
  /** Who made it: the acting user, else the reporting organisation. */
  by: string
  /** Escalated: the severity at the start of the window (or at the report, for a new incident). */
  previousSeverity?: Severity
  /** The reason given with an escalation or a closing, when one was. */
  reason?: string
  /** Updated: how many changes the window holds (observations not counted). */
  changes?: number
}

export interface HandoverTask {
  taskId: string
  incidentId: string
  incidentTitle: string
  title: string
  status: TaskStatus
  priority: TaskPriority
  assignee?: Assignee
  dueAt?: string
  tlp: Tlp
  /** Assigned: when it was (last) assigned; done: when it was completed; overdue and open: when it was last changed. */
  at: string
  /** Assigned: the assigning user; done: the completing user; overdue and open: the task's creator. */
  by: string
}

export interface HandoverAdvisory {
  advisoryId: string
  title: string
  incidentId?: string
  organisation: string
  tlp: Tlp
  at: string
  by: string
}

export interface HandoverCounts {
  newIncidents: number
  escalatedIncidents: number
  closedIncidents: number
  updatedIncidents: number
  /** Incidents not closed at `until`. */
  openIncidents: number
  tasksAssigned: number
  tasksDone: number
  tasksOverdue: number
  tasksOpen: number
  advisories: number
  comments: number
  observations: number
  /** Every event of the window the viewer may see. */
  events: number
}

/**
 * The shift-handover brief of one viewer for the window [`since`, `until`) on the
 * recorded clock ("what the floor learned during the shift"), built only from the
 * events the viewer may see.
 */
export interface HandoverBrief {
  since: string
  until: string
  viewer: { user: string; organisation: string }
  /** The most restrictive TLP of what the brief lists (CLEAR when it lists nothing): the brief's own marking. */
  tlp: Tlp
  /** [M1] The brief's own marking: the highest TLP and PAP of what it lists (CLEAR when it lists nothing). */
  marking: DocumentMarking
  incidents: {
    /** Reported in the window (first seen by this viewer). */
    new: HandoverIncident[]
    /** More severe at `until` than at the start of the window (or than reported). */
    escalated: HandoverIncident[]
    /** Closed (or merged) in the window and still closed at `until`. */
    closed: HandoverIncident[]
    /** Changed in the window and on none of the lists above. */
    updated: HandoverIncident[]
  }
  tasks: {
    /** Assigned in the window (at creation or later), latest assignment per task. */
    assigned: HandoverTask[]
    /** Completed in the window and still done at `until`. */
    done: HandoverTask[]
    /** Not done and past due at `until`. */
    overdue: HandoverTask[]
    /** Every task not done at `until`, most urgent first. */
    open: HandoverTask[]
  }
  /** Published in the window. */
  advisories: HandoverAdvisory[]
  counts: HandoverCounts
}

interface Mark {
  at: string
  by: string
  reason?: string
}

/**
 * Builds a handover brief from the viewer's picture at `since` and the window's
 * events, fed in seq order one page at a time (so a long window need not be held
 * in memory). Pure: it reads no store. Events the viewer may not see, or outside
 * the window on the recorded clock, are ignored.
 */
export class HandoverBuilder {
  private state: State
  private readonly initial: State
  private readonly sinceMs: number
  private readonly untilMs: number
  private readonly reported = new Map<string, Mark & { severity: Severity }>()
  private readonly escalations = new Map<string, Mark>()
  private readonly closings = new Map<string, Mark>()
  private readonly touched = new Map<string, Mark & { changes: number }>()
  private readonly assignments = new Map<string, Mark>()
  private readonly completions = new Map<string, Mark>()
  private readonly published = new Map<string, HandoverAdvisory>()
  private readonly advisoryMarkings = new Map<string, Marking>()
  private comments = 0
  private observations = 0
  private events = 0

  /** `before`: the viewer's picture folded from its events recorded before `since`. */
  constructor(
    before: State,
    private readonly options: { viewer: Viewer; since: string; until: string },
  ) {
    this.state = before
    this.initial = before
    this.sinceMs = Date.parse(options.since)
    this.untilMs = Date.parse(options.until)
  }

  /** Feed the next events of the window, in seq order. */
  add(events: readonly StoredEvent[]): void {
    const visible: StoredEvent[] = []
    for (const event of events) {
      if (event.seq <= this.state.seq) continue
      const recorded = Date.parse(event.recordedAt)
      if (recorded < this.sinceMs || recorded >= this.untilMs) continue
      if (!canSee(this.options.viewer, event)) continue
      visible.push(event)
      this.note(event)
    }
    this.state = fold(this.state, visible)
  }

  private note(event: StoredEvent): void {
    this.events++
    const mark: Mark = { at: event.occurredAt, by: event.actor?.user ?? event.source.organisation }
    switch (event.type) {
      case 'incident.reported': {
        const { incidentId, severity } = event.payload
        if (!this.initial.incidents.has(incidentId) && !this.reported.has(incidentId))
          this.reported.set(incidentId, { ...mark, severity })
        else this.touch(incidentId, mark)
        return
      }
      case 'incident.updated':
        this.touch(event.payload.incidentId, mark)
        if (event.payload.status === 'closed') this.closings.set(event.payload.incidentId, mark)
        return
      case 'incident.escalated':
        this.touch(event.payload.incidentId, mark)
        this.escalations.set(event.payload.incidentId, { ...mark, reason: event.payload.reason })
        return
      case 'incident.status_changed': {
        const { incidentId, status, reason } = event.payload
        this.touch(incidentId, mark)
        if (status === 'closed') this.closings.set(incidentId, reason === undefined ? mark : { ...mark, reason })
        return
      }
      case 'incident.linked': {
        const { incidentId, otherIncidentId, relation } = event.payload
        this.touch(incidentId, mark)
        this.touch(otherIncidentId, mark)
        if (relation === 'merged_into')
          this.closings.set(incidentId, { ...mark, reason: `merged into ${otherIncidentId}` })
        return
      }
      case 'incident.acknowledged':
      case 'incident.network_state_set':
        this.touch(event.payload.incidentId, mark)
        return
      case 'incident.observation':
        this.observations++
        return
      case 'task.created':
        if (event.payload.assignee !== undefined) this.assignments.set(event.payload.taskId, mark)
        return
      case 'task.assigned':
        this.assignments.set(event.payload.taskId, mark)
        return
      case 'task.completed':
        this.completions.set(event.payload.taskId, mark)
        return
      case 'comment.posted':
        this.comments++
        return
      case 'advisory.published': {
        const { advisoryId, title, incidentId } = event.payload
        this.published.set(advisoryId, {
          advisoryId,
          title,
          ...(incidentId === undefined ? {} : { incidentId }),
          organisation: event.source.organisation,
          tlp: event.marking.tlp,
          ...mark,
        })
        this.advisoryMarkings.set(advisoryId, event.marking)
        return
      }
      default:
        return
    }
  }

  private touch(incidentId: string, mark: Mark): void {
    const changes = (this.touched.get(incidentId)?.changes ?? 0) + 1
    this.touched.set(incidentId, { ...mark, changes })
  }

  /** The brief, from everything fed so far. */
  finish(): HandoverBrief {
    const { state, initial } = this
    const markings: Marking[] = []
    const incidentItem = (incident: IncidentState, mark: Mark, extra: Partial<HandoverIncident> = {}) => {
      markings.push(incident.marking)
      const item: HandoverIncident = {
        incidentId: incident.incidentId,
        title: incident.title,
        severity: incident.severity,
        status: incident.status,
        organisation: incident.organisation,
        tlp: incident.marking.tlp,
        at: mark.at,
        by: mark.by,
        ...extra,
      }
      if (mark.reason !== undefined && item.reason === undefined) item.reason = mark.reason
      return item
    }

    const fresh: HandoverIncident[] = []
    for (const [id, mark] of this.reported) {
      const incident = state.incidents.get(id)
      if (incident) fresh.push(incidentItem(incident, { at: mark.at, by: mark.by }))
    }

    const escalated: HandoverIncident[] = []
    for (const id of new Set([...this.reported.keys(), ...this.touched.keys()])) {
      const incident = state.incidents.get(id)
      const start = initial.incidents.get(id)?.severity ?? this.reported.get(id)?.severity
      if (!incident || start === undefined || severityRank(incident.severity) <= severityRank(start)) continue
      const mark = this.escalations.get(id) ?? this.touched.get(id) ?? this.reported.get(id)!
      escalated.push(incidentItem(incident, mark, { previousSeverity: start }))
    }

    const closed: HandoverIncident[] = []
    for (const [id, mark] of this.closings) {
      const incident = state.incidents.get(id)
      if (incident?.status !== 'closed' || initial.incidents.get(id)?.status === 'closed') continue
      closed.push(incidentItem(incident, mark))
    }

    const listed = new Set([...fresh, ...escalated, ...closed].map((item) => item.incidentId))
    const updated: HandoverIncident[] = []
    for (const [id, mark] of this.touched) {
      const incident = state.incidents.get(id)
      if (!incident || listed.has(id)) continue
      updated.push(incidentItem(incident, { at: mark.at, by: mark.by }, { changes: mark.changes }))
    }

    const taskItem = (task: TaskState, mark: Mark): HandoverTask => {
      markings.push(task.marking)
      return taskRow(task, mark)
    }
    const taskRow = (task: TaskState, mark: Mark): HandoverTask => ({
      taskId: task.taskId,
      incidentId: task.incidentId,
      incidentTitle: state.incidents.get(task.incidentId)?.title ?? task.incidentId,
      title: task.title,
      status: task.status,
      priority: task.priority,
      ...(task.assignee === undefined ? {} : { assignee: task.assignee }),
      ...(task.dueAt === undefined ? {} : { dueAt: task.dueAt }),
      tlp: task.marking.tlp,
      at: mark.at,
      by: mark.by,
    })
    const standing = (task: TaskState): Mark => ({ at: task.updatedAt, by: task.createdBy ?? task.organisation })

    const assigned: HandoverTask[] = []
    for (const [id, mark] of this.assignments) {
      const task = state.tasks.get(id)
      if (task) assigned.push(taskItem(task, mark))
    }
    const done: HandoverTask[] = []
    for (const [id, mark] of this.completions) {
      const task = state.tasks.get(id)
      if (task?.status === 'done') done.push(taskItem(task, mark))
    }
    const overdue: HandoverTask[] = []
    const open: HandoverTask[] = []
    for (const task of state.tasks.values()) {
      if (task.status === 'done') continue
      open.push(taskItem(task, standing(task)))
      if (isOverdue(task, this.untilMs)) overdue.push(taskItem(task, standing(task)))
    }

    const bySeverity = (a: HandoverIncident, b: HandoverIncident) =>
      severityRank(b.severity) - severityRank(a.severity) || Date.parse(b.at) - Date.parse(a.at)
    const byTime = (a: { at: string }, b: { at: string }) => Date.parse(a.at) - Date.parse(b.at)
    const byUrgency = (a: HandoverTask, b: HandoverTask) =>
      PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority] || dueMs(a) - dueMs(b) || byTime(a, b)
    fresh.sort(bySeverity)
    escalated.sort(bySeverity)
    closed.sort(byTime)
    updated.sort(bySeverity)
    assigned.sort(byTime)
    done.sort(byTime)
    overdue.sort((a, b) => dueMs(a) - dueMs(b))
    open.sort(byUrgency)
    const advisories = [...this.published.values()].sort(byTime)

    let openIncidents = 0
    for (const incident of state.incidents.values()) if (incident.status !== 'closed') openIncidents++
    for (const advisory of advisories) markings.push(this.advisoryMarkings.get(advisory.advisoryId)!)
    const marking = documentMarking(markings)

    return {
      since: new Date(this.sinceMs).toISOString(),
      until: new Date(this.untilMs).toISOString(),
      viewer: { user: this.options.viewer.userId, organisation: this.options.viewer.organisation },
      tlp: marking.tlp,
      marking,
      incidents: { new: fresh, escalated, closed, updated },
      tasks: { assigned, done, overdue, open },
      advisories,
      counts: {
        newIncidents: fresh.length,
        escalatedIncidents: escalated.length,
        closedIncidents: closed.length,
        updatedIncidents: updated.length,
        openIncidents,
        tasksAssigned: assigned.length,
        tasksDone: done.length,
        tasksOverdue: overdue.length,
        tasksOpen: open.length,
        advisories: advisories.length,
        comments: this.comments,
        observations: this.observations,
        events: this.events,
      },
    }
  }
}

const PRIORITY_RANK: Record<TaskPriority, number> = { urgent: 3, high: 2, normal: 1, low: 0 }

function dueMs(task: HandoverTask): number {
  return task.dueAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(task.dueAt)
}

/** The brief in one go, from the picture at `since` and the window's events. */
export function handoverBrief(
  before: State,
  events: readonly StoredEvent[],
  options: { viewer: Viewer; since: string; until: string },
): HandoverBrief {
  const builder = new HandoverBuilder(before, options)
  builder.add(events)
  return builder.finish()
}

// ---------------------------------------------------------------- Markdown

/** Text from the log made safe inside a Markdown line: one line, Markdown syntax escaped. */
function md(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[\\`*_{}[\]<>()#+!|~]/g, '\\$&')
}

function time(iso: string): string {
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? md(iso) : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

function assigneeText(assignee: Assignee | undefined): string {
  if (assignee === undefined) return 'unassigned'
  return assignee.kind === 'user' ? md(assignee.userId) : `team ${md(assignee.organisation)}`
}

function incidentLine(item: HandoverIncident, what: string): string {
  const parts = [`${item.status}`, `${what} ${time(item.at)} by ${md(item.by)}`]
  if (item.previousSeverity !== undefined) parts.push(`was ${item.previousSeverity}`)
  if (item.changes !== undefined) parts.push(`${item.changes} change${item.changes === 1 ? '' : 's'}`)
  if (item.reason !== undefined) parts.push(`reason: ${md(item.reason)}`)
  parts.push(`${md(item.organisation)}, TLP:${item.tlp}`)
  return `- **[${item.severity.toUpperCase()}] ${md(item.title)}** (${md(item.incidentId)}): ${parts.join('; ')}`
}

function taskLine(item: HandoverTask, what: string): string {
  const parts = [
    `${item.status.replace('_', ' ')}`,
    `priority ${item.priority}`,
    `for ${assigneeText(item.assignee)}`,
    `${what} ${time(item.at)} by ${md(item.by)}`,
  ]
  if (item.dueAt !== undefined) parts.push(`due ${time(item.dueAt)}`)
  parts.push(`TLP:${item.tlp}`)
  return `- **${md(item.title)}** (${md(item.taskId)}) on _${md(item.incidentTitle)}_: ${parts.join('; ')}`
}

function section<T>(lines: string[], heading: string, items: readonly T[], line: (item: T) => string): void {
  lines.push(`${heading} (${items.length})`, '')
  if (items.length === 0) lines.push('_None._')
  else for (const item of items) lines.push(line(item))
  lines.push('')
}

/** The brief as a printable Markdown document: headings and bullet lists, its marking banner [M2] first and last. */
export function handoverMarkdown(brief: HandoverBrief): string {
  const c = brief.counts
  const marking = `**${markingBanner(brief.marking)}**`
  const lines = [
    marking,
    '',
    '# Shift handover brief',
    '',
    `- Window: ${time(brief.since)} to ${time(brief.until)} (recorded time)`,
    `- Prepared for: ${md(brief.viewer.user)} (${md(brief.viewer.organisation)}), from the events this viewer may see`,
    '',
    '## Summary',
    '',
    `- Incidents: ${c.newIncidents} new, ${c.escalatedIncidents} escalated, ${c.closedIncidents} closed, ${c.updatedIncidents} updated; ${c.openIncidents} open now`,
    `- Tasks: ${c.tasksAssigned} assigned, ${c.tasksDone} done, ${c.tasksOverdue} overdue; ${c.tasksOpen} open now`,
    `- Advisories: ${c.advisories}; comments: ${c.comments}; observations: ${c.observations}; events: ${c.events}`,
    '',
    '## Incidents',
    '',
  ]
  section(lines, '### New', brief.incidents.new, (i) => incidentLine(i, 'reported'))
  section(lines, '### Escalated', brief.incidents.escalated, (i) => incidentLine(i, 'escalated'))
  section(lines, '### Closed', brief.incidents.closed, (i) => incidentLine(i, 'closed'))
  section(lines, '### Updated', brief.incidents.updated, (i) => incidentLine(i, 'last change'))
  lines.push('## Tasks', '')
  section(lines, '### Assigned', brief.tasks.assigned, (t) => taskLine(t, 'assigned'))
  section(lines, '### Done', brief.tasks.done, (t) => taskLine(t, 'completed'))
  section(lines, '### Overdue', brief.tasks.overdue, (t) => taskLine(t, 'last change'))
  section(lines, '### Open', brief.tasks.open, (t) => taskLine(t, 'last change'))
  section(
    lines,
    '## Advisories',
    brief.advisories,
    (a) =>
      `- **${md(a.title)}** (${md(a.advisoryId)}): published ${time(a.at)} by ${md(a.by)}; ${md(a.organisation)}, TLP:${a.tlp}${a.incidentId === undefined ? '' : `; incident ${md(a.incidentId)}`}`,
  )
  lines.push(marking, '')
  return lines.join('\n')
}

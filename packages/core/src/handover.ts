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
import { canSee, type DocumentMarking, documentMarking, markingBanner, strictestMarking } from './visibility.ts'

/** An incident as the brief lists it: what it is now (at `until`), and the change that put it on the list. */
export interface HandoverIncident {
  incidentId: string
  title: string
  severity: Severity
  status: IncidentStatus
  /** The reporting organisation. */
  organisation: string
  /**
   * [M1] Its `contentMarking`'s TLP, or, when it names assignees, the strictest of that and its
   * tasks' (the assignments they come from).
   */
  tlp: Tlp
  /**
   * When the listed change happened (`occurredAt`): the report, the last escalation (escalated
   * without one: the last change), the closing, the last change.
   */
  at: string
  /** Who made it: the acting user, else the reporting organisation. */
  by: string
  /** Escalated: the severity at the start of the window (or at the report, for a new incident). */
  previousSeverity?: Severity
  /**
   * Escalated: each `incident.escalated` of the window, in order, with the severity it raised the
   * incident from; absent when the severity rose by a report or an update alone.
   */
  escalations?: HandoverEscalation[]
  /** The reason given with the last escalation or with the closing, when one was. */
  reason?: string
  /** Updated: how many changes the window holds (observations not counted). */
  changes?: number
  /**
   * Updated, or escalated and changed otherwise since: the last change of the window, in words
   * (`status contained`, `severity high`, `linked`, `acknowledged`...), when, by whom, and the
   * reason given with it, when one was.
   */
  lastChange?: HandoverChange
  /**
   * When it was first reported (`occurredAt`), and by whom (the acting user of that first report,
   * else the reporting organisation): a later report changes neither.
   */
  reportedAt: string
  reportedBy: string
  /** The first acknowledgement [R7], when there is one: when, by whom (as the log names them), its note. */
  acknowledgedAt?: string
  acknowledgedBy?: string
  acknowledgedNote?: string
  /** Who its tasks not done at `until` are assigned to (users and teams, once each); absent when none. */
  assignees?: Assignee[]
}

/** A change of an incident, in words. */
export interface HandoverChange {
  what: string
  at: string
  by: string
  reason?: string
}

/** One escalation of an incident in the window. */
export interface HandoverEscalation {
  /** `occurredAt` of the escalation. */
  at: string
  /** The escalating user as the log names them, else the reporting organisation. */
  by: string
  /** The severity just before it, and the one it set. */
  from: Severity
  to: Severity
  reason: string
}

/** An incident acknowledged in the window (each acknowledgement the viewer may see). */
export interface HandoverAcknowledgement {
  incidentId: string
  incidentTitle: string
  severity: Severity
  /** `occurredAt` of the acknowledgement. */
  at: string
  /** The acknowledging user as the log names them, else their organisation. */
  by: string
  organisation: string
  /** The note given with it, when one was. */
  note?: string
  /** [M1] The strictest of the acknowledgement's TLP and its incident's (`contentMarking`): the row shows it as it is now. */
  tlp: Tlp
}

/** A comment posted in the window on an incident in the viewer's picture. */
export interface HandoverComment {
  commentId: string
  incidentId: string
  incidentTitle: string
  taskId?: string
  taskTitle?: string
  body: string
  /** The author as the log names them, else their organisation. */
  author: string
  organisation: string
  /** [M1] The strictest of the comment's TLP and its incident's and task's (`contentMarking`): the row names them by title. */
  tlp: Tlp
  at: string
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
  /** As the task holds them at `until`: why it is blocked, why it was reopened, the note it was completed with. */
  blockedReason?: string
  reopenedReason?: string
  completedNote?: string
  /** [M1] The strictest of the task's `contentMarking` and its incident's: the row names the incident by title. */
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
  /** The title of its incident, when the viewer's picture holds it (the entry names it by title). */
  incidentTitle?: string
  organisation: string
  /** [M1] Its publication's TLP, or its incident's (`contentMarking`) when stricter: the entry names it by title. */
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
  /** Every event of the window the viewer may see but its bookmarks (a person's own notes). */
  events: number
  /** Acknowledgements listed (made in the window). */
  acknowledgements: number
  /** Open incidents that need attention: not acknowledged, or critical. */
  attentionIncidents: number
  /** Open incidents, critical or high, that nobody has acknowledged. */
  unacknowledgedCriticalHigh: number
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
    /** Every incident not closed at `until`, most severe first, then oldest first. */
    open: HandoverIncident[]
    /** The open incidents that need attention (not acknowledged, or critical), in the same order. */
    attention: HandoverIncident[]
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
  /** Acknowledgements made in the window, in time order. */
  acknowledgements: HandoverAcknowledgement[]
  /** Comments posted in the window on incidents in the viewer's picture, in time order. */
  comments: HandoverComment[]
  counts: HandoverCounts
  /**
   * The brief in one paragraph, for whoever takes the watch: since when, what changed, how many
   * are open and how many critical or high are not acknowledged, and each open incident that needs
   * attention named with its severity, status, owner, acknowledgement, assignee and age.
   */
  summary: string
}

interface Mark {
  at: string
  by: string
  reason?: string
}

/** A change as the brief says it (`touch`): what it was, and whether it was an escalation. */
interface Touch extends Mark {
  changes: number
  what: string
  escalation: boolean
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
  /** Each incident's escalations in the window, in order. */
  private readonly escalations = new Map<string, HandoverEscalation[]>()
  private readonly closings = new Map<string, Mark>()
  private readonly touched = new Map<string, Touch>()
  private readonly assignments = new Map<string, Mark>()
  private readonly completions = new Map<string, Mark>()
  /** Each advisory's latest publication in the window: its row but the incident's title, and its marking. */
  private readonly published = new Map<string, Omit<HandoverAdvisory, 'incidentTitle' | 'tlp'> & { marking: Marking }>()
  private readonly acks: {
    incidentId: string
    at: string
    by: string
    organisation: string
    note?: string
    marking: Marking
  }[] = []
  private readonly posted: {
    commentId: string
    incidentId: string
    taskId?: string
    body: string
    author: string
    organisation: string
    marking: Marking
    at: string
  }[] = []
  private comments = 0
  private observations = 0
  private events = 0
  /** [M1] The strictest marking of the events counted (`counts.events`, `counts.observations`). */
  private counted: Marking | undefined

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
    let visible: StoredEvent[] = []
    for (const event of events) {
      if (event.seq <= this.state.seq) continue
      const recorded = Date.parse(event.recordedAt)
      if (recorded < this.sinceMs || recorded >= this.untilMs) continue
      if (!canSee(this.options.viewer, event)) continue
      if (event.type === 'incident.escalated') {
        // the severity it escalates from is the picture's just before it (escalations are few)
        this.state = fold(this.state, visible)
        visible = []
        this.escalated(event)
      }
      visible.push(event)
      this.note(event)
    }
    this.state = fold(this.state, visible)
  }

  /** Note an escalation, folded up to the event before it. */
  private escalated(event: Extract<StoredEvent, { type: 'incident.escalated' }>): void {
    const { incidentId, severity, reason } = event.payload
    const from = this.state.incidents.get(incidentId)?.severity
    if (from === undefined) return // [R3] nothing the picture holds
    const list = this.escalations.get(incidentId) ?? []
    list.push({ at: event.occurredAt, by: event.actor?.user ?? event.source.organisation, from, to: severity, reason })
    this.escalations.set(incidentId, list)
  }

  private note(event: StoredEvent): void {
    // a bookmark is a person's own note on the picture, not something that happened on the floor
    if (event.type === 'bookmark.saved') return
    this.events++
    this.counted = this.counted === undefined ? event.marking : strictestMarking(this.counted, event.marking)
    const mark: Mark = { at: event.occurredAt, by: event.actor?.user ?? event.source.organisation }
    switch (event.type) {
      case 'incident.reported': {
        const { incidentId, severity, restated } = event.payload
        if (!this.initial.incidents.has(incidentId) && !this.reported.has(incidentId))
          this.reported.set(incidentId, { ...mark, severity })
        else this.touch(incidentId, mark, restated === undefined ? 'reported again' : 'marking changed')
        // [R15] a marking change restates the status: a picture that takes "closed" from it (closed
        // by an event it was never sent) lists the incident as closed, by the marking change. A close
        // the picture saw itself stands (its time, author and reason); one that kept its own later
        // status is not closed at `until`, so not listed
        if (restated?.status === 'closed' && !this.closings.has(incidentId))
          this.closings.set(incidentId, { ...mark, reason: 'closed, as a marking change restated it' })
        return
      }
      case 'incident.updated':
        this.touch(event.payload.incidentId, mark, 'updated')
        if (event.payload.status === 'closed') this.closings.set(event.payload.incidentId, mark)
        return
      case 'incident.escalated':
        // its own entry is made by `escalated`, which needs the picture just before it
        this.touch(
          event.payload.incidentId,
          { ...mark, reason: event.payload.reason },
          `severity ${event.payload.severity}`,
          true,
        )
        return
      case 'incident.status_changed': {
        const { incidentId, status, reason } = event.payload
        this.touch(incidentId, reason === undefined ? mark : { ...mark, reason }, `status ${words(status)}`)
        if (status === 'closed') this.closings.set(incidentId, reason === undefined ? mark : { ...mark, reason })
        return
      }
      case 'incident.linked': {
        const { incidentId, otherIncidentId, relation } = event.payload
        this.touch(incidentId, mark, 'linked')
        this.touch(otherIncidentId, mark, 'linked')
        if (relation === 'merged_into')
          this.closings.set(incidentId, { ...mark, reason: `merged into ${otherIncidentId}` })
        return
      }
      case 'incident.acknowledged':
        this.touch(event.payload.incidentId, mark, 'acknowledged')
        this.acks.push({
          incidentId: event.payload.incidentId,
          ...mark,
          organisation: event.actor?.organisation ?? event.source.organisation,
          ...(event.payload.note === undefined ? {} : { note: event.payload.note }),
          marking: event.marking,
        })
        return
      case 'incident.network_state_set':
        this.touch(event.payload.incidentId, mark, 'a network state set')
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
      case 'comment.posted': {
        this.comments++
        const { commentId, incidentId, taskId, body } = event.payload
        this.posted.push({
          commentId,
          incidentId,
          ...(taskId === undefined ? {} : { taskId }),
          body,
          author: mark.by,
          organisation: event.actor?.organisation ?? event.source.organisation,
          marking: event.marking,
          at: event.occurredAt,
        })
        return
      }
      case 'advisory.published': {
        const { advisoryId, title, incidentId } = event.payload
        this.published.set(advisoryId, {
          advisoryId,
          title,
          ...(incidentId === undefined ? {} : { incidentId }),
          organisation: event.source.organisation,
          ...mark,
          marking: event.marking,
        })
        return
      }
      default:
        return
    }
  }

  private touch(incidentId: string, mark: Mark, what: string, escalation = false): void {
    const changes = (this.touched.get(incidentId)?.changes ?? 0) + 1
    this.touched.set(incidentId, { ...mark, changes, what, escalation })
  }

  /** The brief, from everything fed so far. */
  finish(): HandoverBrief {
    const { state, initial } = this
    const markings: Marking[] = []
    const assigneesOf = new Map<string, Assignee[]>()
    /** The strictest marking of the tasks an incident's assignees come from (their assignments). */
    const assignedUnder = new Map<string, Marking>()
    for (const task of state.tasks.values()) {
      if (task.status === 'done' || task.assignee === undefined) continue
      const list = assigneesOf.get(task.incidentId) ?? []
      if (!list.some((a) => assigneeKey(a) === assigneeKey(task.assignee!))) list.push(task.assignee)
      assigneesOf.set(task.incidentId, list)
      const under = assignedUnder.get(task.incidentId)
      assignedUnder.set(
        task.incidentId,
        under === undefined ? task.contentMarking : strictestMarking(under, task.contentMarking),
      )
    }
    // the brief counts every event of the window: what it says of them carries their markings
    if (this.counted !== undefined) markings.push(this.counted)
    const incidentItem = (incident: IncidentState, mark: Mark, extra: Partial<HandoverIncident> = {}) => {
      // its severity, status and times are what every event folded into it made them
      const shown = [incident.contentMarking]
      const assignees = assigneesOf.get(incident.incidentId)
      // who it is assigned to is what its tasks' assignments say: the row and the brief carry both
      const under = assignedUnder.get(incident.incidentId)
      if (assignees !== undefined && under !== undefined) shown.push(under)
      markings.push(...shown)
      const item: HandoverIncident = {
        incidentId: incident.incidentId,
        title: incident.title,
        severity: incident.severity,
        status: incident.status,
        organisation: incident.organisation,
        tlp: strictestTlp(...shown),
        at: mark.at,
        by: mark.by,
        ...extra,
        reportedAt: incident.reportedAt,
        reportedBy: firstReporter(incident),
        ...(incident.acknowledgedAt === undefined ? {} : { acknowledgedAt: incident.acknowledgedAt }),
        ...(incident.acknowledgedBy === undefined ? {} : { acknowledgedBy: incident.acknowledgedBy }),
        ...(incident.acknowledgedNote === undefined ? {} : { acknowledgedNote: incident.acknowledgedNote }),
        ...(assignees === undefined ? {} : { assignees: [...assignees] }),
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
      // the last escalation's time, actor and reason, each escalation on its own; without one
      // (a report or an update raised it), the last change
      const steps = this.escalations.get(id)
      const last = steps?.at(-1)
      const touched = this.touched.get(id)
      const mark = last ?? touched ?? this.reported.get(id)!
      escalated.push(
        incidentItem(incident, mark, {
          previousSeverity: start,
          ...(steps === undefined ? {} : { escalations: steps.map((step) => ({ ...step })) }),
          // changed otherwise after its escalation (its status set, with a reason): said too
          ...(touched !== undefined && !touched.escalation
            ? { changes: touched.changes, lastChange: changeOf(touched) }
            : {}),
        }),
      )
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
      updated.push(
        incidentItem(incident, { at: mark.at, by: mark.by }, { changes: mark.changes, lastChange: changeOf(mark) }),
      )
    }

    const taskItem = (task: TaskState, mark: Mark): HandoverTask => {
      const incident = state.incidents.get(task.incidentId)
      // its status, assignee and times are what every event folded into it made them; its incident
      // is named by title
      const shown = [task.contentMarking, ...titled(incident)]
      markings.push(...shown)
      return taskRow(task, incident, mark, strictestTlp(...shown))
    }
    const taskRow = (task: TaskState, incident: IncidentState | undefined, mark: Mark, tlp: Tlp): HandoverTask => ({
      taskId: task.taskId,
      incidentId: task.incidentId,
      incidentTitle: incident?.title ?? task.incidentId,
      title: task.title,
      status: task.status,
      priority: task.priority,
      ...(task.assignee === undefined ? {} : { assignee: task.assignee }),
      ...(task.dueAt === undefined ? {} : { dueAt: task.dueAt }),
      ...(task.blockedReason === undefined ? {} : { blockedReason: task.blockedReason }),
      ...(task.reopenedReason === undefined ? {} : { reopenedReason: task.reopenedReason }),
      ...(task.completedNote === undefined ? {} : { completedNote: task.completedNote }),
      tlp,
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
    const openTasks: HandoverTask[] = []
    for (const task of state.tasks.values()) {
      if (task.status === 'done') continue
      openTasks.push(taskItem(task, standing(task)))
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
    openTasks.sort(byUrgency)
    const advisories: HandoverAdvisory[] = []
    for (const published of this.published.values()) {
      const { incidentId } = published
      const incident = incidentId === undefined ? undefined : state.incidents.get(incidentId)
      // its incident is named by title
      const shown = [published.marking, ...titled(incident)]
      markings.push(...shown)
      advisories.push({
        advisoryId: published.advisoryId,
        title: published.title,
        ...(incidentId === undefined ? {} : { incidentId }),
        ...(incident === undefined ? {} : { incidentTitle: incident.title }),
        organisation: published.organisation,
        tlp: strictestTlp(...shown),
        at: published.at,
        by: published.by,
      })
    }
    advisories.sort(byTime)

    // what stands at `until`: every open incident, and those that need attention
    const escalatedById = new Map(escalated.map((item) => [item.incidentId, item]))
    const open: HandoverIncident[] = []
    for (const incident of state.incidents.values()) {
      if (incident.status === 'closed') continue
      const escalation = escalatedById.get(incident.incidentId)
      const touched = this.touched.get(incident.incidentId)
      open.push(
        escalation !== undefined
          ? escalation
          : touched !== undefined
            ? incidentItem(
                incident,
                { at: touched.at, by: touched.by },
                { changes: touched.changes, lastChange: changeOf(touched) },
              )
            : incidentItem(incident, { at: incident.reportedAt, by: firstReporter(incident) }),
      )
    }
    const bySeverityThenAge = (a: HandoverIncident, b: HandoverIncident) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      Date.parse(a.reportedAt) - Date.parse(b.reportedAt) ||
      a.incidentId.localeCompare(b.incidentId)
    open.sort(bySeverityThenAge)
    const attention = open.filter(needsAttention)

    const acknowledgements: HandoverAcknowledgement[] = []
    for (const ack of this.acks) {
      const incident = state.incidents.get(ack.incidentId)
      if (!incident) continue
      // the row names the incident by title and shows its severity now
      const shown = [ack.marking, ...titled(incident)]
      markings.push(...shown)
      acknowledgements.push({
        incidentId: ack.incidentId,
        incidentTitle: incident.title,
        severity: incident.severity,
        at: ack.at,
        by: ack.by,
        organisation: ack.organisation,
        ...(ack.note === undefined ? {} : { note: ack.note }),
        tlp: strictestTlp(...shown),
      })
    }
    acknowledgements.sort(byTime)
    const comments: HandoverComment[] = []
    for (const posted of this.posted) {
      const incident = state.incidents.get(posted.incidentId)
      if (!incident) continue
      const task = posted.taskId === undefined ? undefined : state.tasks.get(posted.taskId)
      // its incident, and its task when it has one, are named by title
      const shown = [posted.marking, ...titled(incident, task)]
      markings.push(...shown)
      comments.push({
        commentId: posted.commentId,
        incidentId: posted.incidentId,
        incidentTitle: incident.title,
        ...(posted.taskId === undefined || task === undefined ? {} : { taskId: posted.taskId, taskTitle: task.title }),
        body: posted.body,
        author: posted.author,
        organisation: posted.organisation,
        tlp: strictestTlp(...shown),
        at: posted.at,
      })
    }
    comments.sort(byTime)

    const marking = documentMarking(markings)

    const brief: Omit<HandoverBrief, 'summary'> = {
      since: new Date(this.sinceMs).toISOString(),
      until: new Date(this.untilMs).toISOString(),
      viewer: { user: this.options.viewer.userId, organisation: this.options.viewer.organisation },
      tlp: marking.tlp,
      marking,
      incidents: { new: fresh, escalated, closed, updated, open, attention },
      tasks: { assigned, done, overdue, open: openTasks },
      advisories,
      acknowledgements,
      comments,
      counts: {
        newIncidents: fresh.length,
        escalatedIncidents: escalated.length,
        closedIncidents: closed.length,
        updatedIncidents: updated.length,
        openIncidents: open.length,
        tasksAssigned: assigned.length,
        tasksDone: done.length,
        tasksOverdue: overdue.length,
        tasksOpen: openTasks.length,
        advisories: advisories.length,
        comments: this.comments,
        observations: this.observations,
        events: this.events,
        acknowledgements: acknowledgements.length,
        attentionIncidents: attention.length,
        unacknowledgedCriticalHigh: open.filter(isUnacknowledgedCriticalHigh).length,
      },
    }
    return { ...brief, summary: handoverSummary(brief) }
  }
}

/** A change as the brief lists it. */
function changeOf(touch: Touch): HandoverChange {
  return {
    what: touch.what,
    at: touch.at,
    by: touch.by,
    ...(touch.reason === undefined || touch.reason.trim() === '' ? {} : { reason: touch.reason }),
  }
}

/** Who reported it first: the user of its first report, else its organisation (not whoever reported it last). */
function firstReporter(incident: IncidentState): string {
  return incident.firstReportedBy ?? incident.organisation
}

/** An open incident needs attention when nobody has acknowledged it, or when it is critical. */
export function needsAttention(item: Pick<HandoverIncident, 'status' | 'severity' | 'acknowledgedAt'>): boolean {
  return item.status !== 'closed' && (item.acknowledgedAt === undefined || item.severity === 'critical')
}

function isUnacknowledgedCriticalHigh(item: HandoverIncident): boolean {
  return (
    item.status !== 'closed' &&
    item.acknowledgedAt === undefined &&
    (item.severity === 'critical' || item.severity === 'high')
  )
}

function assigneeKey(assignee: Assignee): string {
  return assignee.kind === 'user' ? `user:${assignee.userId}` : `team:${assignee.organisation}`
}

function strictestTlp(...markings: Marking[]): Tlp {
  return documentMarking(markings).tlp
}

/**
 * [M1] The markings a row takes on by naming incidents and tasks by title: their `contentMarking`
 * (as core's `summaryTitles` counts them), since a title is its report's or a later one's and may be
 * stricter than the row's own events (a task's incident re-reported AMBER+STRICT under a new title).
 * A row that names one counts this in its own `tlp`, and the brief in its marking.
 */
function titled(...named: (Pick<IncidentState | TaskState, 'contentMarking'> | undefined)[]): Marking[] {
  return named.flatMap((thing) => (thing === undefined ? [] : [thing.contentMarking]))
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

// ---------------------------------------------------------------- Wording
// The console's page and the Markdown say the same, in the same order: both are made from
// `handoverSections` (and the brief's `summary`), never from the raw fields.

/** A time as the brief writes it, in UTC: `2026-11-26 08:10Z`. */
export function handoverTime(iso: string): string {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  const text = new Date(ms).toISOString()
  return `${text.slice(0, 10)} ${text.slice(11, 16)}Z`
}

/** A duration in words: `under a minute`, `38 min`, `2 h 05 min`, `3 d 4 h`. */
export function handoverAge(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000)
  if (minutes < 1) return 'under a minute'
  if (minutes < 60) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`
  return `${Math.floor(hours / 24)} d ${hours % 24} h`
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

function words(value: string): string {
  return value.replaceAll('_', ' ')
}

/** Who is assigned, in words: `kadri`, `team cert-lv`. */
export function assigneeWords(assignee: Assignee): string {
  return assignee.kind === 'user' ? assignee.userId : `team ${assignee.organisation}`
}

type Escape = (text: string) => string
const plain: Escape = (text) => text

/**
 * The brief's summary paragraph: since when, what changed (reported, closed, escalated), how
 * many are open and how many of them critical or high without an acknowledgement, then each open
 * incident that needs attention, named, with its severity, status, owner, acknowledgement,
 * assignee and age. `escapeText` is applied to every text from the log (the Markdown escapes it).
 */
export function handoverSummary(brief: Omit<HandoverBrief, 'summary'>, escapeText: Escape = plain): string {
  const c = brief.counts
  const lead =
    `Since ${handoverTime(brief.since)}: ${plural(c.newIncidents, 'incident')} reported, ` +
    `${c.closedIncidents} closed, ${c.escalatedIncidents} escalated; ` +
    `${c.openIncidents} open, of which ${c.unacknowledgedCriticalHigh} critical or high not acknowledged.`
  if (brief.incidents.attention.length === 0)
    return `${lead} ${c.openIncidents === 0 ? 'No incident is open.' : 'No open incident needs attention.'}`
  const untilMs = Date.parse(brief.until)
  const named = brief.incidents.attention.map((item) => {
    const parts = [
      item.severity,
      words(item.status),
      `owner ${escapeText(item.organisation)}`,
      item.acknowledgedBy !== undefined
        ? `acknowledged by ${escapeText(item.acknowledgedBy)}`
        : item.acknowledgedAt !== undefined
          ? 'acknowledged'
          : 'not acknowledged',
    ]
    if (item.assignees !== undefined)
      parts.push(`assigned to ${item.assignees.map((a) => escapeText(assigneeWords(a))).join(', ')}`)
    parts.push(`open ${handoverAge(untilMs - Date.parse(item.reportedAt))}`)
    return `“${escapeText(item.title)}” (${parts.join(', ')})`
  })
  return `${lead} Needs attention: ${named.join('; ')}.`
}

/**
 * An escalated incident's "Escalated" in words: from the severity at the start of the window to
 * the one at its end, then each escalation with its own from and to, time, actor and reason
 * (`from low to critical: low to high at … by kadri, reason: …; high to critical at … by mari,
 * reason: …`); one escalation that is the whole change is said once. Raised by a report or an
 * update alone, it says so, and names nobody.
 */
function escalationWords(item: HandoverIncident, when: (at: string, by: string) => string, e: Escape): string {
  const start = item.previousSeverity ?? 'its report'
  const steps = item.escalations ?? []
  const whole = `from ${start} to ${item.severity}`
  if (steps.length === 0) return `${whole}, by a report or an update`
  const step = (s: HandoverEscalation) => `at ${when(s.at, s.by)}, reason: ${e(s.reason)}`
  const only = steps.length === 1 ? steps[0]! : undefined
  if (only !== undefined && only.from === start && only.to === item.severity) return `${whole} ${step(only)}`
  return `${whole}: ${steps.map((s) => `${s.from} to ${s.to} ${step(s)}`).join('; ')}`
}

/** One labelled fact of an item: `Severity: critical`. */
export interface HandoverField {
  label: string
  value: string
}

/** One entry of a section: what it is called, its labelled facts, and a text (a comment's body). */
export interface HandoverEntry {
  /** An incident's title, a task's, an advisory's: never an id. */
  title: string
  severity?: Severity
  fields: HandoverField[]
  text?: string
}

export interface HandoverSection {
  key: 'attention' | 'open' | 'closed' | 'tasks' | 'done' | 'acknowledgements' | 'comments' | 'advisories'
  heading: string
  entries: HandoverEntry[]
}

/**
 * The brief's sections in words, in the order the page and the Markdown show them: Needs
 * attention, Open incidents, Closed this shift, Tasks open / overdue, Tasks done this shift,
 * Acknowledgements, Comments, Advisories. Labels are words, times UTC with Z, incidents named by
 * title (the id last, as a detail), people as the log names them. `escapeText` is applied to every
 * text from the log (the Markdown escapes it).
 */
export function handoverSections(brief: HandoverBrief, escapeText: Escape = plain): HandoverSection[] {
  const e = escapeText
  const untilMs = Date.parse(brief.until)
  const fresh = new Set(brief.incidents.new.map((i) => i.incidentId))
  const escalated = new Map(brief.incidents.escalated.map((i) => [i.incidentId, i]))
  const field = (label: string, value: string): HandoverField => ({ label, value })
  const when = (at: string, by: string) => `${handoverTime(at)} by ${e(by)}`

  const openEntry = (item: HandoverIncident): HandoverEntry => {
    const fields = [
      field('Severity', item.severity),
      field('Status', words(item.status)),
      field('Owner', e(item.organisation)),
      field(
        'Acknowledgement',
        item.acknowledgedAt === undefined
          ? 'not acknowledged'
          : `${item.acknowledgedBy === undefined ? '' : `by ${e(item.acknowledgedBy)} `}at ${handoverTime(item.acknowledgedAt)}${item.acknowledgedNote === undefined ? '' : `, note: ${e(item.acknowledgedNote)}`}`,
      ),
    ]
    if (item.assignees !== undefined)
      fields.push(field('Assigned to', item.assignees.map((a) => e(assigneeWords(a))).join(', ')))
    fields.push(
      field(
        'Reported',
        `${when(item.reportedAt, item.reportedBy)}${fresh.has(item.incidentId) ? ' (this shift)' : ''}`,
      ),
      field('Age', handoverAge(untilMs - Date.parse(item.reportedAt))),
    )
    const escalation = escalated.get(item.incidentId)
    if (escalation !== undefined) fields.push(field('Escalated', escalationWords(escalation, when, e)))
    if (item.changes !== undefined && (escalation === undefined || item.lastChange !== undefined)) {
      // what it was and why, when the brief knows (an older server's brief says when and by whom only)
      const change = item.lastChange
      const said =
        change === undefined
          ? when(item.at, item.by)
          : `${change.what}, ${when(change.at, change.by)}${change.reason === undefined ? '' : `, reason: ${e(change.reason)}`}`
      fields.push(field('Last change', `${said} (${plural(item.changes, 'change')} this shift)`))
    }
    fields.push(field('TLP', item.tlp), field('Incident id', e(item.incidentId)))
    return { title: e(item.title), severity: item.severity, fields }
  }

  const closedEntry = (item: HandoverIncident): HandoverEntry => {
    const fields = [field('Severity', item.severity), field('Closed', when(item.at, item.by))]
    if (item.reason !== undefined) fields.push(field('Reason', e(item.reason)))
    fields.push(
      field('Owner', e(item.organisation)),
      field('Reported', when(item.reportedAt, item.reportedBy)),
      field('TLP', item.tlp),
      field('Incident id', e(item.incidentId)),
    )
    return { title: e(item.title), severity: item.severity, fields }
  }

  const overdue = new Set(brief.tasks.overdue.map((t) => t.taskId))
  const taskEntry = (task: HandoverTask, what: string): HandoverEntry => {
    const fields = [
      field('Incident', e(task.incidentTitle)),
      field('Status', words(task.status)),
      field('Priority', task.priority),
      field('Assigned to', task.assignee === undefined ? 'nobody' : e(assigneeWords(task.assignee))),
    ]
    if (task.dueAt !== undefined)
      fields.push(field('Due', `${handoverTime(task.dueAt)}${overdue.has(task.taskId) ? ' (overdue)' : ''}`))
    if (task.status === 'blocked' && task.blockedReason !== undefined)
      fields.push(field('Blocked because', e(task.blockedReason)))
    if (task.reopenedReason !== undefined) fields.push(field('Reopened because', e(task.reopenedReason)))
    fields.push(field(what, when(task.at, task.by)))
    if (task.completedNote !== undefined) fields.push(field('Completion note', e(task.completedNote)))
    fields.push(field('TLP', task.tlp), field('Task id', e(task.taskId)))
    return { title: e(task.title), fields }
  }

  return [
    { key: 'attention', heading: 'Needs attention', entries: brief.incidents.attention.map(openEntry) },
    { key: 'open', heading: 'Open incidents', entries: brief.incidents.open.map(openEntry) },
    { key: 'closed', heading: 'Closed this shift', entries: brief.incidents.closed.map(closedEntry) },
    {
      key: 'tasks',
      heading: 'Tasks open / overdue',
      entries: [
        ...brief.tasks.overdue.map((t) => taskEntry(t, 'Last change')),
        ...brief.tasks.open.filter((t) => !overdue.has(t.taskId)).map((t) => taskEntry(t, 'Last change')),
      ],
    },
    { key: 'done', heading: 'Tasks done this shift', entries: brief.tasks.done.map((t) => taskEntry(t, 'Completed')) },
    {
      key: 'acknowledgements',
      heading: 'Acknowledgements',
      entries: brief.acknowledgements.map((ack) => ({
        title: e(ack.incidentTitle),
        severity: ack.severity,
        fields: [
          field('Acknowledged by', `${e(ack.by)} (${e(ack.organisation)})`),
          field('At', handoverTime(ack.at)),
          ...(ack.note === undefined ? [] : [field('Note', e(ack.note))]),
          field('Severity', ack.severity),
          field('TLP', ack.tlp),
          field('Incident id', e(ack.incidentId)),
        ],
      })),
    },
    {
      key: 'comments',
      heading: 'Comments',
      entries: brief.comments.map((comment) => ({
        title: e(comment.incidentTitle),
        fields: [
          field('Author', `${e(comment.author)} (${e(comment.organisation)})`),
          field('At', handoverTime(comment.at)),
          ...(comment.taskTitle === undefined ? [] : [field('Task', e(comment.taskTitle))]),
          field('TLP', comment.tlp),
          field('Incident id', e(comment.incidentId)),
        ],
        text: e(comment.body),
      })),
    },
    {
      key: 'advisories',
      heading: 'Advisories',
      entries: brief.advisories.map((advisory) => {
        const fields = [
          field('Published', when(advisory.at, advisory.by)),
          field('Organisation', e(advisory.organisation)),
        ]
        if (advisory.incidentId !== undefined)
          fields.push(field('Incident', e(advisory.incidentTitle ?? advisory.incidentId)))
        fields.push(field('TLP', advisory.tlp), field('Advisory id', e(advisory.advisoryId)))
        return { title: e(advisory.title), fields }
      }),
    },
  ]
}

// ---------------------------------------------------------------- Markdown

/** Text from the log made safe inside a Markdown line: one line, Markdown syntax escaped. */
function md(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[\\`*_{}[\]<>()#+!|~]/g, '\\$&')
}

/**
 * The brief as a printable Markdown document, saying what the page says in the same order: its
 * marking banner [M2] first and last, the summary, then the sections, each entry a
 * bullet with its labelled fields.
 */
export function handoverMarkdown(brief: HandoverBrief): string {
  const marking = `**${markingBanner(brief.marking)}**`
  const lines = [
    marking,
    '',
    '# Shift handover brief',
    '',
    `- Window: ${handoverTime(brief.since)} to ${handoverTime(brief.until)} (recorded time)`,
    `- Prepared for: ${md(brief.viewer.user)} (${md(brief.viewer.organisation)}), from the events this viewer may see`,
    '',
    '## Summary',
    '',
    handoverSummary(brief, md),
    '',
  ]
  for (const section of handoverSections(brief, md)) {
    lines.push(`## ${section.heading} (${section.entries.length})`, '')
    if (section.entries.length === 0) lines.push('_None._')
    for (const entry of section.entries) {
      const fields = entry.fields.map((f) => `${f.label}: ${f.value}`).join('; ')
      lines.push(`- **${entry.title}**: ${fields}`)
      if (entry.text !== undefined) lines.push(`  > ${entry.text}`)
    }
    lines.push('')
  }
  lines.push(marking, '')
  return lines.join('\n')
}

import {
  exhaustiveSwitchError,
  type IncidentRelation,
  type Marking,
  type PayloadOf,
  type StoredEvent,
} from '@watchfloor/protocol'
import {
  type AdvisoryState,
  type BookmarkState,
  type CommentState,
  type IncidentLink,
  type IncidentSetAt,
  type IncidentState,
  type KeptMarkings,
  type LinkRelation,
  NEVER_SET_AT,
  type NetworkState,
  RECENT_LIMIT,
  type State,
  type TaskState,
} from './state.ts'
import { foldMarking, sameMarking, strictestMarking } from './visibility.ts'

/**
 * Fold one event into the state. Pure: the input state is never changed.
 * [R1] Events must arrive in seq order; an event at or below `state.seq` is ignored.
 */
export function reduce(state: State, event: StoredEvent): State {
  return fold(state, [event])
}

/**
 * Fold many events at once: the same result as reducing them one by one, but
 * each map and entity is copied at most once per call, so a batch costs about
 * as much as its events.
 */
export function fold(state: State, events: readonly StoredEvent[]): State {
  if (events.length === 0) return state
  const draft = new Draft(state)
  const applied: StoredEvent[] = []
  for (const event of events) {
    if (event.seq <= draft.seq) continue // [R1]
    draft.seq = event.seq
    draft.eventCount++
    apply(draft, event)
    applied.push(event)
  }
  if (applied.length === 0) return state
  return draft.finish(applied)
}

function apply(draft: Draft, event: StoredEvent): void {
  touchSourceNetwork(draft, event)
  switch (event.type) {
    case 'network.registered': {
      const p = event.payload
      const previous = draft.peekNetwork(p.networkId)
      if (previous !== undefined && previous.organisation !== event.source.organisation) return // [R12]
      const network: NetworkState = {
        networkId: p.networkId,
        name: p.name,
        organisation: p.organisation,
        nation: p.nation,
        kind: p.kind,
        location: p.location,
        posture: previous?.posture ?? 'normal', // [R2] re-registering keeps the posture
        registeredAt: previous?.registeredAt ?? event.occurredAt,
        lastReportAt: maxTime(previous?.lastReportAt, reportTime(event)),
        lastSeq: event.seq,
        marking: previous === undefined ? event.marking : foldMarking(previous.marking, event.marking),
      }
      // registering again describes the network anew: a short name left out is no longer one
      if (p.shortName !== undefined) network.shortName = p.shortName
      if (previous?.postureReason !== undefined) network.postureReason = previous.postureReason
      draft.put('network', p.networkId, network)
      return
    }
    case 'network.posture_changed': {
      const p = event.payload
      const existing = draft.peekNetwork(p.networkId)
      if (!existing) return // [R3] facts about something this viewer never saw registered are left out
      if (existing.organisation !== event.source.organisation) return // [R12]
      const network = draft.network(p.networkId)!
      network.posture = p.posture
      if (p.reason === undefined) delete network.postureReason
      else network.postureReason = p.reason
      network.marking = foldMarking(network.marking, event.marking)
      network.lastReportAt = maxTime(network.lastReportAt, reportTime(event))
      network.lastSeq = event.seq
      return
    }
    case 'incident.reported': {
      const p = event.payload
      const previous = draft.peekIncident(p.incidentId)
      if (previous !== undefined && previous.organisation !== event.source.organisation) return // [R12]
      if (previous !== undefined && p.restated !== undefined) {
        // [R15] a marking change: this picture takes, field by field, what its author's set later,
        // and keeps what it holds that is newer (a RED update the author could not see)
        const incident = draft.incident(p.incidentId)!
        takeNewer(incident, p, p.restated)
        incident.marking = event.marking
        if (event.actor !== undefined) incident.reportedBy = event.actor.user
        bumpIncident(incident, event)
        return
      }
      const incident: IncidentState = {
        incidentId: p.incidentId,
        title: p.title,
        severity: p.severity,
        status: previous?.status ?? p.restated?.status ?? 'new',
        // [R15] what a report says is set at its seq; a status or network state it keeps, where it was
        setAt:
          p.restated === undefined
            ? {
                title: event.seq,
                severity: event.seq,
                category: event.seq,
                summary: event.seq,
                networks: event.seq,
                attackSource: event.seq,
                status: previous?.setAt?.status ?? 0,
                ...(previous?.setAt?.networkStates === undefined
                  ? {}
                  : { networkStates: previous.setAt.networkStates }),
              }
            : restatedSetAt(p.restated.setAt),
        category: p.category,
        affectedNetworks: p.affectedNetworks,
        organisation: event.source.organisation,
        marking: event.marking,
        contentMarking: previous === undefined ? event.marking : foldMarking(previous.contentMarking, event.marking),
        reportedAt: previous?.reportedAt ?? event.occurredAt,
        updatedAt: event.occurredAt,
        version: (previous?.version ?? 0) + 1,
        lastSeq: event.seq,
        observationCount: previous?.observationCount ?? 0,
        observationReports: previous?.observationReports ?? 0,
      }
      if (p.summary !== undefined) incident.summary = p.summary
      if (p.attackSource !== undefined) incident.attackSource = p.attackSource
      if (previous?.lastObservationAt !== undefined) incident.lastObservationAt = previous.lastObservationAt
      if (event.actor !== undefined) incident.reportedBy = event.actor.user
      // who reported it first stays; `reportedBy` follows the latest report (RED authorship [V5])
      const firstReportedBy = previous === undefined ? event.actor?.user : previous.firstReportedBy
      if (firstReportedBy !== undefined) incident.firstReportedBy = firstReportedBy
      if (previous !== undefined) keepCoordination(previous, incident)
      else if (p.restated?.networkStates !== undefined) incident.networkStates = { ...p.restated.networkStates }
      // [R14] a report that says again what the incident held keeps the marking of where that came
      // from; one that says something new is its own, but for what it keeps (status, network states)
      if (previous?.keptMarkings !== undefined) incident.keptMarkings = previous.keptMarkings
      // [R15] a picture a marking change newly reaches restates it no wider than it was given: what
      // its author restated may have come from what was marked stricter than its report
      const stated =
        previous === undefined
          ? p.restated === undefined
            ? undefined
            : event.marking
          : restates(previous, incident)
            ? previous.statedMarking
            : keptFloor(incident)
      if (stated !== undefined) incident.statedMarking = stated
      draft.put('incident', p.incidentId, incident)
      return
    }
    case 'incident.updated': {
      const p = event.payload
      const existing = draft.peekIncident(p.incidentId)
      if (!existing) return // [R3]
      if (existing.organisation !== event.source.organisation) return // [R12]
      const incident = draft.incident(p.incidentId)!
      if (p.severity !== undefined) incident.severity = p.severity
      if (p.status !== undefined) incident.status = p.status
      if (p.category !== undefined) incident.category = p.category
      if (p.summary !== undefined) incident.summary = p.summary
      if (p.affectedNetworks !== undefined) incident.affectedNetworks = p.affectedNetworks
      markSet(incident, event.seq, {
        severity: p.severity !== undefined,
        status: p.status !== undefined,
        category: p.category !== undefined,
        summary: p.summary !== undefined,
        networks: p.affectedNetworks !== undefined,
      })
      foldStated(incident, event) // [R14] a marking change restates all of it
      if (p.status !== undefined) keepStatusMarking(incident, event)
      bumpIncident(incident, event)
      return
    }
    case 'incident.observation': {
      const p = event.payload
      const incident = draft.incident(p.incidentId)
      if (!incident) return // [R3]
      incident.observationCount += p.count ?? 1
      incident.observationReports += 1 // [R13]
      incident.lastObservationAt = maxTime(incident.lastObservationAt, event.occurredAt)
      touchIncident(incident, event) // [R11] a sighting is not an edit: the version stays

      if (p.networkId !== undefined && p.networkId !== event.source.network) touchNetwork(draft, p.networkId, event)
      return
    }
    case 'advisory.published': {
      const p = event.payload
      const previous = draft.peekAdvisory(p.advisoryId)
      if (previous !== undefined && previous.organisation !== event.source.organisation) return // [R12]
      const advisory: AdvisoryState = {
        advisoryId: p.advisoryId,
        title: p.title,
        body: p.body,
        organisation: event.source.organisation,
        marking: event.marking,
        publishedAt: event.occurredAt,
        seq: event.seq,
      }
      if (p.incidentId !== undefined) advisory.incidentId = p.incidentId
      draft.advisories().set(p.advisoryId, advisory)
      return
    }
    case 'incident.acknowledged': {
      const incident = draft.incident(event.payload.incidentId)
      if (!incident) return // [R3]
      if (incident.acknowledgedAt === undefined) {
        // [R7] the first acknowledgement stands
        incident.acknowledgedAt = event.occurredAt
        if (event.actor !== undefined) incident.acknowledgedBy = event.actor.user
        if (event.payload.note !== undefined) incident.acknowledgedNote = event.payload.note
      }
      bumpIncident(incident, event)
      return
    }
    case 'incident.escalated': {
      const incident = draft.incident(event.payload.incidentId)
      if (!incident) return // [R3]
      incident.severity = event.payload.severity
      markSet(incident, event.seq, { severity: true })
      foldStated(incident, event)
      bumpIncident(incident, event)
      return
    }
    case 'incident.status_changed': {
      const incident = draft.incident(event.payload.incidentId)
      if (!incident) return // [R3]
      incident.status = event.payload.status
      markSet(incident, event.seq, { status: true })
      foldStated(incident, event) // [R14]
      keepStatusMarking(incident, event)
      bumpIncident(incident, event)
      return
    }
    case 'incident.linked': {
      const p = event.payload
      const incident = draft.incident(p.incidentId)
      if (!incident) return // [R3]
      incident.links = withLink(incident.links, p.otherIncidentId, p.relation, event)
      if (p.relation === 'merged_into') {
        // [R8] the merged incident closes and points at the survivor
        incident.status = 'closed'
        incident.mergedInto = p.otherIncidentId
        markSet(incident, event.seq, { status: true })
        foldStated(incident, event) // [R14] its status
        keepStatusMarking(incident, event)
      }
      bumpIncident(incident, event)
      const other = draft.incident(p.otherIncidentId)
      if (other) {
        other.links = withLink(other.links, p.incidentId, INVERSE[p.relation], event)
        bumpIncident(other, event)
      }
      return
    }
    case 'incident.network_state_set': {
      const p = event.payload
      const incident = draft.incident(p.incidentId)
      if (!incident) return // [R3]
      incident.networkStates = { ...incident.networkStates, [p.networkId]: p.state }
      // [R9] a network with a state in an incident is one of its affected networks
      const adds = !incident.affectedNetworks.includes(p.networkId)
      if (adds) incident.affectedNetworks = [...incident.affectedNetworks, p.networkId]
      const setAt = setAtOf(incident)
      incident.setAt = {
        ...setAt,
        networks: adds ? event.seq : setAt.networks,
        networkStates: { ...setAt.networkStates, [p.networkId]: event.seq },
      }
      foldStated(incident, event) // [R14] a marking change restates it
      keepNetworkStateMarking(incident, p.networkId, event)
      bumpIncident(incident, event)
      return
    }
    case 'task.created': {
      const p = event.payload
      // [R6] a task needs an incident this state holds; a task id is created once
      if (!draft.incidentExists(p.incidentId) || draft.taskExists(p.taskId)) return
      const task: TaskState = {
        taskId: p.taskId,
        incidentId: p.incidentId,
        title: p.title,
        priority: p.priority,
        status: 'open',
        organisation: event.source.organisation,
        marking: event.marking,
        contentMarking: event.marking,
        createdAt: event.occurredAt,
        updatedAt: event.occurredAt,
        version: 1,
        createdSeq: event.seq,
        lastSeq: event.seq,
      }
      if (p.description !== undefined) task.description = p.description
      if (p.dueAt !== undefined) task.dueAt = p.dueAt
      if (p.assignee !== undefined) task.assignee = p.assignee
      if (event.actor !== undefined) task.createdBy = event.actor.user
      draft.putTask(task)
      return
    }
    case 'task.assigned': {
      const task = draft.task(event.payload.taskId)
      if (!task) return // [R6]
      task.assignee = event.payload.assignee
      // [R10] a new assignee starts over: the task is open again unless done
      if (task.status !== 'done') task.status = 'open'
      delete task.acceptedBy
      delete task.blockedReason
      bumpTask(task, event)
      return
    }
    case 'task.accepted': {
      const task = draft.task(event.payload.taskId)
      if (!task) return // [R6]
      task.status = 'accepted'
      if (event.actor !== undefined) task.acceptedBy = event.actor.user
      delete task.blockedReason
      bumpTask(task, event)
      return
    }
    case 'task.started': {
      const task = draft.task(event.payload.taskId)
      if (!task) return // [R6]
      task.status = 'in_progress'
      if (task.acceptedBy === undefined && event.actor !== undefined) task.acceptedBy = event.actor.user
      delete task.blockedReason
      bumpTask(task, event)
      return
    }
    case 'task.blocked': {
      const task = draft.task(event.payload.taskId)
      if (!task) return // [R6]
      task.status = 'blocked'
      task.blockedReason = event.payload.reason
      bumpTask(task, event)
      return
    }
    case 'task.completed': {
      const task = draft.task(event.payload.taskId)
      if (!task) return // [R6]
      task.status = 'done'
      task.completedAt = event.occurredAt
      if (event.payload.note === undefined) delete task.completedNote
      else task.completedNote = event.payload.note
      delete task.blockedReason
      delete task.reopenedReason
      bumpTask(task, event)
      return
    }
    case 'task.reopened': {
      const task = draft.task(event.payload.taskId)
      if (!task) return // [R6]
      task.status = 'open'
      delete task.completedAt
      delete task.completedNote
      delete task.acceptedBy
      delete task.blockedReason
      if (event.payload.reason === undefined) delete task.reopenedReason
      else task.reopenedReason = event.payload.reason
      bumpTask(task, event)
      return
    }
    case 'comment.posted': {
      const p = event.payload
      if (!draft.incidentExists(p.incidentId)) return // [R3]
      const comment: CommentState = {
        commentId: p.commentId,
        incidentId: p.incidentId,
        body: p.body,
        mentions: p.mentions,
        organisation: event.source.organisation,
        marking: event.marking,
        postedAt: event.occurredAt,
        seq: event.seq,
      }
      if (p.taskId !== undefined) comment.taskId = p.taskId
      if (event.actor !== undefined) comment.author = event.actor.user
      draft.comments().set(p.commentId, comment)
      return
    }
    case 'bookmark.saved': {
      const p = event.payload
      const bookmark: BookmarkState = {
        bookmarkId: p.bookmarkId,
        title: p.title,
        clock: p.clock,
        organisation: event.source.organisation,
        marking: event.marking,
        savedAt: event.occurredAt,
        seq: event.seq,
      }
      if (p.note !== undefined) bookmark.note = p.note
      if (p.at !== undefined) bookmark.at = p.at
      if (p.from !== undefined) bookmark.from = p.from
      if (p.to !== undefined) bookmark.to = p.to
      if (event.actor !== undefined) bookmark.savedBy = event.actor.user
      draft.bookmarks().set(p.bookmarkId, bookmark) // saving the same id again replaces it
      return
    }
    default:
      exhaustiveSwitchError(event)
  }
}

function bumpIncident(incident: IncidentState, event: StoredEvent): void {
  incident.version++
  touchIncident(incident, event)
}

/** Every event folded into an incident (bar its report, which sets the same) marks what it holds [M1]. */
function touchIncident(incident: IncidentState, event: StoredEvent): void {
  incident.contentMarking = foldMarking(incident.contentMarking, event.marking)
  incident.lastSeq = event.seq
  incident.updatedAt = maxTime(incident.updatedAt, event.occurredAt)
}

function bumpTask(task: TaskState, event: StoredEvent): void {
  task.contentMarking = foldMarking(task.contentMarking, event.marking)
  task.version++
  task.lastSeq = event.seq
  task.updatedAt = maxTime(task.updatedAt, event.occurredAt)
}

/**
 * [R14] What a marking change restates (severity, summary, category, networks, status, network
 * states) may since have come from an event marked stricter than the report it followed:
 * `statedMarking` is the floor of those markings, absent while there is none. A report that says
 * something new starts it again from `keptMarking`, the floor of what a report keeps (status,
 * network states); one that restates the incident as it was keeps it (`restates`).
 */
function foldStated(incident: IncidentState, event: StoredEvent): void {
  if (!stricterThanReport(event, incident)) return
  const { marking } = event
  incident.statedMarking = incident.statedMarking === undefined ? marking : floorOf(incident.statedMarking, marking)
}

/** [R14] The status was set by an event marked `marking`: kept among `keptMarkings` while stricter. */
function keepStatusMarking(incident: IncidentState, event: StoredEvent): void {
  const states = incident.keptMarkings?.networkStates
  const kept: KeptMarkings = {
    ...(stricterThanReport(event, incident) ? { status: event.marking } : {}),
    ...(states === undefined ? {} : { networkStates: states }),
  }
  if (kept.status === undefined && kept.networkStates === undefined) delete incident.keptMarkings
  else incident.keptMarkings = kept
}

/** [R14] A network's state was set by an event marked `marking`: kept while stricter. */
function keepNetworkStateMarking(incident: IncidentState, networkId: string, event: StoredEvent): void {
  const { [networkId]: _, ...others } = incident.keptMarkings?.networkStates ?? {}
  const states = stricterThanReport(event, incident) ? { ...others, [networkId]: event.marking } : others
  const kept: KeptMarkings = {
    ...(incident.keptMarkings?.status === undefined ? {} : { status: incident.keptMarkings.status }),
    ...(Object.keys(states).length === 0 ? {} : { networkStates: states }),
  }
  if (kept.status === undefined && kept.networkStates === undefined) delete incident.keptMarkings
  else incident.keptMarkings = kept
}

/** [R14] The floor of what a report keeps, marked stricter than the report it followed; undefined: none. */
function keptFloor(incident: IncidentState): Marking | undefined {
  const kept = incident.keptMarkings
  if (kept === undefined) return undefined
  let floor = kept.status
  for (const marking of Object.values(kept.networkStates ?? {}))
    floor = floor === undefined ? marking : floorOf(floor, marking)
  return floor
}

/** [R15] A restated report's `setAt`, as a picture keeps it. */
function restatedSetAt(
  setAt: NonNullable<PayloadOf<'incident.reported'>['restated']>['setAt'] | undefined,
): IncidentSetAt {
  // a restatement always says when (the schema asks it); one that did not: as never set
  if (setAt === undefined) return NEVER_SET_AT
  const { networkStates, ...fields } = setAt
  return networkStates === undefined ? fields : { ...fields, networkStates }
}

/** [R15] When each field of `incident` was set (all 0 when it does not say). */
function setAtOf(incident: IncidentState): IncidentSetAt {
  return incident.setAt ?? NEVER_SET_AT
}

type SetAtField = Exclude<keyof IncidentSetAt, 'networkStates'>

/** [R15] The fields an event set, at its seq. */
function markSet(incident: IncidentState, seq: number, fields: Partial<Record<SetAtField, boolean>>): void {
  const setAt = { ...setAtOf(incident) }
  for (const field of Object.keys(fields) as SetAtField[]) if (fields[field]) setAt[field] = seq
  incident.setAt = setAt
}

/**
 * [R15] A marking change folded into a picture that holds the incident: each field its author's
 * picture set later than this one (`setAt`) is taken from the report; what this picture set later
 * (an update the author could not see) stays. A picture cut off before and reached again takes what
 * it missed.
 */
function takeNewer(
  incident: IncidentState,
  p: PayloadOf<'incident.reported'>,
  restated: NonNullable<PayloadOf<'incident.reported'>['restated']>,
): void {
  const mine = setAtOf(incident)
  const theirs = restatedSetAt(restated.setAt)
  const setAt: { -readonly [K in keyof IncidentSetAt]: IncidentSetAt[K] } = { ...mine }
  const newer = (field: SetAtField) => {
    if (theirs[field] <= mine[field]) return false
    setAt[field] = theirs[field]
    return true
  }
  if (newer('title')) incident.title = p.title
  if (newer('severity')) incident.severity = p.severity
  if (newer('category')) incident.category = p.category
  if (newer('summary')) {
    if (p.summary === undefined) delete incident.summary
    else incident.summary = p.summary
  }
  if (newer('attackSource')) {
    if (p.attackSource === undefined) delete incident.attackSource
    else incident.attackSource = p.attackSource
  }
  if (newer('networks')) incident.affectedNetworks = p.affectedNetworks
  if (newer('status')) incident.status = restated.status
  const states = { ...incident.networkStates }
  const seqs = { ...mine.networkStates }
  const taken: string[] = []
  for (const [networkId, state] of Object.entries(restated.networkStates ?? {})) {
    const at = theirs.networkStates?.[networkId] ?? 0
    if (at <= (seqs[networkId] ?? 0)) continue
    states[networkId] = state
    seqs[networkId] = at
    taken.push(networkId)
  }
  if (Object.keys(states).length > 0) incident.networkStates = states
  if (Object.keys(seqs).length > 0) setAt.networkStates = seqs
  // [R9] a network whose state it takes is one of its affected networks (the author's report named
  // it); one whose state it only keeps is where this picture's own reports left it
  const missing = taken.filter((networkId) => !incident.affectedNetworks.includes(networkId))
  if (missing.length > 0) incident.affectedNetworks = [...incident.affectedNetworks, ...missing]
  incident.setAt = setAt
}

/**
 * Does `event` reach fewer than the incident's latest report? A RED event and a RED report: fewer
 * of the people each reaches, its recipients and its author (the report's `reportedBy`, an event's
 * actor [V5]), or a stricter PAP.
 */
function stricterThanReport(event: StoredEvent, incident: IncidentState): boolean {
  return stricterThan(event.marking, incident.marking, event.actor?.user, incident.reportedBy)
}

/** Does `marking` reach fewer than `report` (a higher TLP or PAP, fewer names, other RED recipients)? */
function stricterThan(marking: Marking, report: Marking, author?: string, reportAuthor?: string): boolean {
  // a RED report names people, a non-RED event organisations: which of those people it reaches is
  // the directory's to say, not the log's, so only what reaches everyone (CLEAR, or GREEN to all,
  // no stricter a PAP) is no stricter
  if (report.tlp === 'RED' && marking.tlp !== 'RED')
    return (
      !(marking.tlp === 'CLEAR' || (marking.tlp === 'GREEN' && marking.releasableTo === undefined)) ||
      !sameMarking(strictestMarking({ tlp: 'RED', pap: marking.pap }, { tlp: 'RED', pap: report.pap }), {
        tlp: 'RED',
        pap: report.pap,
      })
    )
  if (report.tlp === 'RED') {
    const reached = new Set([...(marking.recipients ?? []), ...(author === undefined ? [] : [author])])
    const audience = [...(report.recipients ?? []), ...(reportAuthor === undefined ? [] : [reportAuthor])]
    return (
      !audience.every((user) => reached.has(user)) ||
      !sameMarking(strictestMarking({ tlp: 'RED', pap: marking.pap }, { tlp: 'RED', pap: report.pap }), {
        tlp: 'RED',
        pap: report.pap,
      })
    )
  }
  return !sameMarking(strictestMarking(report, marking), report)
}

/** The floor of two markings: who may read what both say. RED: the recipients both name. */
function floorOf(a: Marking, b: Marking): Marking {
  if (a.tlp !== 'RED' && b.tlp !== 'RED') return strictestMarking(a, b)
  const reds = [a, b].filter((m) => m.tlp === 'RED')
  const recipients =
    reds.length === 2 ? reds[0]!.recipients?.filter((u) => reds[1]!.recipients?.includes(u)) : reds[0]!.recipients
  const pap = strictestMarking({ tlp: 'RED', pap: a.pap }, { tlp: 'RED', pap: b.pap }).pap
  return { tlp: 'RED', recipients: [...(recipients ?? [])], ...(pap === undefined ? {} : { pap }) }
}

/** Does `next` (a report) say again what `previous` held, field by field of what a report restates? */
function restates(previous: IncidentState, next: IncidentState): boolean {
  return (
    previous.title === next.title &&
    previous.severity === next.severity &&
    previous.category === next.category &&
    previous.summary === next.summary &&
    JSON.stringify(previous.affectedNetworks) === JSON.stringify(next.affectedNetworks) &&
    JSON.stringify(previous.attackSource ?? null) === JSON.stringify(next.attackSource ?? null)
  )
}

/** A report of a known incident keeps what coordination added to it. */
function keepCoordination(previous: IncidentState, incident: IncidentState): void {
  if (previous.acknowledgedAt !== undefined) incident.acknowledgedAt = previous.acknowledgedAt
  if (previous.acknowledgedBy !== undefined) incident.acknowledgedBy = previous.acknowledgedBy
  if (previous.acknowledgedNote !== undefined) incident.acknowledgedNote = previous.acknowledgedNote
  if (previous.links !== undefined) incident.links = previous.links
  if (previous.networkStates !== undefined) incident.networkStates = previous.networkStates
  if (previous.mergedInto !== undefined) incident.mergedInto = previous.mergedInto
}

const INVERSE: Record<IncidentRelation, LinkRelation> = {
  related: 'related',
  duplicate_of: 'duplicated_by',
  merged_into: 'merged_from',
}

/** [R8] One link per other incident: a new relation replaces the old one. */
function withLink(
  links: readonly IncidentLink[] | undefined,
  otherId: string,
  relation: LinkRelation,
  event: StoredEvent,
): IncidentLink[] {
  const link: IncidentLink = { incidentId: otherId, relation, linkedAt: event.occurredAt, seq: event.seq }
  if (links === undefined) return [link]
  const kept = links.filter((l) => l.incidentId !== otherId)
  kept.push(link)
  return kept
}

/** [R4] Any event its own organisation sends from a network counts as that network reporting. */
function touchSourceNetwork(draft: Draft, event: StoredEvent): void {
  const networkId = event.source.network
  if (networkId === undefined || event.type === 'network.registered') return
  touchNetwork(draft, networkId, event)
}

/**
 * [R4] The network reported, if the event is its own organisation's: another's naming it (as its
 * source or in an observation) says nothing of whether its own sensors still report.
 */
function touchNetwork(draft: Draft, networkId: string, event: StoredEvent): void {
  if (draft.peekNetwork(networkId)?.organisation !== event.source.organisation) return
  const network = draft.network(networkId)!
  network.lastReportAt = maxTime(network.lastReportAt, reportTime(event))
  network.lastSeq = event.seq
}

/** How far ahead of its recording an event may say it happened and still count as then [R4]. */
const REPORT_AHEAD_MS = 5 * 60_000

/**
 * [R4] When an event says its network reported: its occurredAt, but at most five minutes after the
 * server recorded it, so that a sender's clock far ahead cannot keep a network from going silent.
 */
function reportTime(event: StoredEvent): string {
  const { occurredAt, recordedAt } = event
  // the usual case, both UTC of one shape: occurred before it was recorded, compared as strings
  if (occurredAt.length === recordedAt.length && occurredAt <= recordedAt && occurredAt.endsWith('Z')) return occurredAt
  const recorded = Date.parse(recordedAt)
  if (Number.isNaN(recorded)) return occurredAt
  return Date.parse(occurredAt) > recorded + REPORT_AHEAD_MS
    ? new Date(recorded + REPORT_AHEAD_MS).toISOString()
    : occurredAt
}

/** The later of two ISO timestamps (the first on a tie). */
export function maxTime(a: string | undefined, b: string): string {
  if (a === undefined) return b
  // UTC timestamps of one shape (`2026-11-26T08:00:00.000Z`) order as strings: no parsing on the hot path
  if (a.length === b.length && a.endsWith('Z') && b.endsWith('Z')) return a >= b ? a : b
  return Date.parse(a) >= Date.parse(b) ? a : b
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** Copy-on-write view of a state during one fold. */
class Draft {
  seq: number
  eventCount: number
  private networkMap: Map<string, NetworkState> | null = null
  private incidentMap: Map<string, IncidentState> | null = null
  private advisoryMap: Map<string, AdvisoryState> | null = null
  private taskMap: Map<string, TaskState> | null = null
  private commentMap: Map<string, CommentState> | null = null
  private bookmarkMap: Map<string, BookmarkState> | null = null
  private readonly copiedNetworks = new Set<string>()
  private readonly copiedIncidents = new Set<string>()
  /** Allocated on the first task touched: most folds touch none. */
  private copiedTasks: Set<string> | null = null

  constructor(readonly state: State) {
    this.seq = state.seq
    this.eventCount = state.eventCount
  }

  networks(): Map<string, NetworkState> {
    this.networkMap ??= new Map(this.state.networks)
    return this.networkMap
  }
  incidents(): Map<string, IncidentState> {
    this.incidentMap ??= new Map(this.state.incidents)
    return this.incidentMap
  }
  advisories(): Map<string, AdvisoryState> {
    this.advisoryMap ??= new Map(this.state.advisories)
    return this.advisoryMap
  }
  tasks(): Map<string, TaskState> {
    this.taskMap ??= new Map(this.state.tasks)
    return this.taskMap
  }
  comments(): Map<string, CommentState> {
    this.commentMap ??= new Map(this.state.comments)
    return this.commentMap
  }
  bookmarks(): Map<string, BookmarkState> {
    this.bookmarkMap ??= new Map(this.state.bookmarks)
    return this.bookmarkMap
  }

  /** Read without copying: for checks that may leave the maps untouched. */
  peekNetwork(id: string): NetworkState | undefined {
    return (this.networkMap ?? this.state.networks).get(id)
  }
  peekIncident(id: string): IncidentState | undefined {
    return (this.incidentMap ?? this.state.incidents).get(id)
  }
  peekAdvisory(id: string): AdvisoryState | undefined {
    return (this.advisoryMap ?? this.state.advisories).get(id)
  }

  incidentExists(id: string): boolean {
    return (this.incidentMap ?? this.state.incidents).has(id)
  }
  taskExists(id: string): boolean {
    return (this.taskMap ?? this.state.tasks).has(id)
  }

  /** Store a freshly built task; it may be changed in place for the rest of the fold. */
  putTask(task: TaskState): void {
    this.tasks().set(task.taskId, task)
    this.copiedTasks ??= new Set()
    this.copiedTasks.add(task.taskId)
  }

  /** A task that may be changed in place (copied on first touch), or undefined. */
  task(id: string): Mutable<TaskState> | undefined {
    const current = (this.taskMap ?? this.state.tasks).get(id)
    if (!current) return undefined
    const map = this.tasks()
    this.copiedTasks ??= new Set()
    if (this.copiedTasks.has(id)) return current
    const copy = { ...current }
    map.set(id, copy)
    this.copiedTasks.add(id)
    return copy
  }

  /** Store a freshly built entity; it may be changed in place for the rest of the fold. */
  put(kind: 'network', id: string, value: NetworkState): void
  put(kind: 'incident', id: string, value: IncidentState): void
  put(kind: 'network' | 'incident', id: string, value: NetworkState | IncidentState): void {
    if (kind === 'network') {
      this.networks().set(id, value as NetworkState)
      this.copiedNetworks.add(id)
    } else {
      this.incidents().set(id, value as IncidentState)
      this.copiedIncidents.add(id)
    }
  }

  /** A network that may be changed in place (copied on first touch), or undefined. */
  network(id: string): Mutable<NetworkState> | undefined {
    const current = (this.networkMap ?? this.state.networks).get(id)
    if (!current) return undefined
    const map = this.networks()
    if (this.copiedNetworks.has(id)) return current
    const copy = { ...current }
    map.set(id, copy)
    this.copiedNetworks.add(id)
    return copy
  }

  incident(id: string): Mutable<IncidentState> | undefined {
    const current = (this.incidentMap ?? this.state.incidents).get(id)
    if (!current) return undefined
    const map = this.incidents()
    if (this.copiedIncidents.has(id)) return current
    const copy = { ...current }
    map.set(id, copy)
    this.copiedIncidents.add(id)
    return copy
  }

  finish(fresh: readonly StoredEvent[]): State {
    const recent =
      fresh.length >= RECENT_LIMIT ? fresh.slice(-RECENT_LIMIT) : [...this.state.recent, ...fresh].slice(-RECENT_LIMIT)
    return {
      seq: this.seq,
      eventCount: this.eventCount,
      networks: this.networkMap ?? this.state.networks,
      incidents: this.incidentMap ?? this.state.incidents,
      advisories: this.advisoryMap ?? this.state.advisories,
      tasks: this.taskMap ?? this.state.tasks,
      comments: this.commentMap ?? this.state.comments,
      bookmarks: this.bookmarkMap ?? this.state.bookmarks,
      recent,
    }
  }
}

import {
  type Assignee,
  type Command,
  type CommandOf,
  type ErrorCode,
  type EventInput,
  type EventType,
  exhaustiveSwitchError,
  type IncidentNetworkState,
  MAX_MENTIONS,
  type Marking,
  type PayloadOf,
  type Viewer,
} from '@watchfloor/protocol'
import { escalationRefusal, ownerOnlyRefusal, type Refusal, roleRefusal, stateRefusal } from './policy.ts'
import { type IncidentState, NEVER_SET_AT, type State, type TaskState } from './state.ts'
import {
  audienceMarking,
  canSee,
  commandVisibility,
  describeMarking,
  incidentVisibility,
  reachesNoFurther,
  sameMarking as sameAudience,
  strictestMarking,
  taskVisibility,
} from './visibility.ts'

/** What `decide` needs besides the state and the command; `now` and `newId` keep it pure and testable. */
export interface DecideContext {
  viewer: Viewer
  /** ISO time; becomes the events' `occurredAt`. */
  now: string
  /** A fresh id: each event's `id` (must be a UUID) and each new task's or comment's id. */
  newId: () => string
}

/** An event as `decide` produces it: ready to append, marking always set. */
export type DecidedEvent = EventInput & { marking: Marking }

/** The error family's codes a decision may refuse with (packages/protocol errors.ts). */
export type RejectionCode = Extract<ErrorCode, 'forbidden' | 'not_found' | 'conflict' | 'validation'>

export interface Rejection {
  code: RejectionCode
  /** The SPEC rule that rejected it (`C1`, `C2`, ...). */
  rule: string
  message: string
  /** On a `validation` refusal: the command field that is wrong. */
  path?: string
  /** On a conflict: the target as it is now, so the client can reconcile. */
  current?: IncidentState | TaskState
}

export type Decision = { ok: true; events: DecidedEvent[]; version: number } | { ok: false; rejection: Rejection }

/**
 * Turn a command into events, or a typed rejection. Pure. Rules C1-C16 and C20 in
 * packages/core/SPEC.md. Checks run in this order: the target exists and the
 * viewer may see it [C1], the viewer's role [C2], `expectedVersion` [C3], then
 * the command's own rules. `version` is the target's version once the events
 * are folded [C5].
 */
export function decide(state: State, command: Command, context: DecideContext): Decision {
  switch (command.type) {
    case 'incident.acknowledge':
      return acknowledge(state, command, context)
    case 'incident.escalate':
      return escalate(state, command, context)
    case 'incident.set_status':
      return setStatus(state, command, context)
    case 'incident.link':
      return link(state, command, context)
    case 'incident.set_marking':
      return setMarking(state, command, context)
    case 'network.set_state':
      return setNetworkState(state, command, context)
    case 'task.create':
      return createTask(state, command, context)
    case 'task.assign':
      return assignTask(state, command, context)
    case 'task.accept':
    case 'task.start':
    case 'task.block':
    case 'task.complete':
    case 'task.reopen':
      return moveTask(state, command, context)
    case 'comment.post':
      return postComment(state, command, context)
    case 'bookmark.save':
      return saveBookmark(command, context)
    default:
      return exhaustiveSwitchError(command)
  }
}

// ---------------------------------------------------------------- incidents

function acknowledge(state: State, c: CommandOf<'incident.acknowledge'>, ctx: DecideContext): Decision {
  const incident = findIncident(state, ctx.viewer, c.incidentId)
  if (!incident) return noIncident(c.incidentId)
  const refused = checkRules(ctx, c, incident)
  if (refused) return refused
  return accepted(
    [emit(incident, ctx, 'incident.acknowledged', { incidentId: incident.incidentId, ...opt('note', c.note) })],
    incident.version + 1,
  )
}

function escalate(state: State, c: CommandOf<'incident.escalate'>, ctx: DecideContext): Decision {
  const incident = findIncident(state, ctx.viewer, c.incidentId)
  if (!incident) return noIncident(c.incidentId)
  const refused = checkRules(ctx, c, incident) ?? refusal(escalationRefusal(incident, c.severity), incident)
  if (refused) return refused
  return accepted(
    [
      emit(incident, ctx, 'incident.escalated', {
        incidentId: incident.incidentId,
        severity: c.severity,
        reason: c.reason,
      }),
    ],
    incident.version + 1,
  )
}

function setStatus(state: State, c: CommandOf<'incident.set_status'>, ctx: DecideContext): Decision {
  const incident = findIncident(state, ctx.viewer, c.incidentId)
  if (!incident) return noIncident(c.incidentId)
  const refused = checkRules(ctx, c, incident)
  if (refused) return refused
  if (c.status === incident.status) {
    return conflict('C8', `incident ${incident.incidentId} is already ${incident.status}`, incident)
  }
  return accepted(
    [
      emit(incident, ctx, 'incident.status_changed', {
        incidentId: incident.incidentId,
        status: c.status,
        ...opt('reason', c.reason),
      }),
    ],
    incident.version + 1,
  )
}

function link(state: State, c: CommandOf<'incident.link'>, ctx: DecideContext): Decision {
  const incident = findIncident(state, ctx.viewer, c.incidentId)
  if (!incident) return noIncident(c.incidentId)
  if (c.otherIncidentId === c.incidentId) {
    return reject('validation', 'C9', 'an incident cannot be linked to itself', 'otherIncidentId')
  }
  const other = findIncident(state, ctx.viewer, c.otherIncidentId)
  if (!other) return noIncident(c.otherIncidentId)
  const refused = checkRules(ctx, c, incident)
  if (refused) return refused
  const existing = incident.links?.find((l) => l.incidentId === other.incidentId)
  if (existing?.relation === c.relation) {
    return conflict('C9', `incident ${incident.incidentId} is already ${c.relation} ${other.incidentId}`, incident)
  }
  if (c.relation === 'merged_into') {
    if (other.mergedInto !== undefined) {
      return conflict(
        'C9',
        `incident ${other.incidentId} was itself merged into ${other.mergedInto}: merge into the survivor`,
        incident,
      )
    }
    if (other.status === 'closed') {
      return conflict('C9', `incident ${other.incidentId} is closed: merge only into an open incident`, incident)
    }
  }
  const event = emit(incident, ctx, 'incident.linked', {
    incidentId: incident.incidentId,
    otherIncidentId: other.incidentId,
    relation: c.relation,
  })
  return accepted([{ ...event, ...linkAudience(incident, other, ctx.viewer) }], incident.version + 1)
}

/**
 * [C20] Who the incident is shared with, changed by its own organisation: one `incident.reported`
 * that restates the incident as it stands in the caller's picture (title, summary, the current
 * severity, category, affected networks, attack source, and as `restated` its status and network
 * states) under the new marking, from the incident's organisation, the caller as actor (so its
 * author for RED [V5]). A picture that holds the incident changes only its marking [R15], so a RED
 * update the caller cannot see stays in the pictures of those who can; one it newly reaches takes
 * the incident as stated. Tasks keep their own markings [C4].
 */
function setMarking(state: State, c: CommandOf<'incident.set_marking'>, ctx: DecideContext): Decision {
  const incident = findIncident(state, ctx.viewer, c.incidentId)
  if (!incident) return noIncident(c.incidentId)
  const refused = checkRules(ctx, c, incident)
  if (refused) return refused
  const { marking } = c
  if (marking.tlp === 'RED' && (marking.recipients ?? []).length === 0) {
    const message = 'a RED marking names its recipients (user ids): nobody else but you, its author, would see it'
    return reject('validation', 'C20', message, 'marking.recipients')
  }
  if (marking.tlp !== 'RED' && marking.recipients !== undefined) {
    const message = `recipients name who may read a RED incident; ${marking.tlp} reaches organisations: use releasableTo`
    return reject('validation', 'C20', message, 'marking.recipients')
  }
  if (sameAudience(marking, incident.marking)) {
    return conflict('C20', `incident ${incident.incidentId} is already marked ${describeMarking(marking)}`, incident)
  }
  // a report names at most 500 networks; network states may have added more since [R9]
  if (incident.affectedNetworks.length > MAX_REPORTED_NETWORKS) {
    const message = `incident ${incident.incidentId} affects ${incident.affectedNetworks.length} networks, more than a report names (${MAX_REPORTED_NETWORKS}): report it again, naming at most ${MAX_REPORTED_NETWORKS}, under the new marking`
    return reject('validation', 'C20', message, 'incidentId')
  }
  // what it restates (severity, summary, networks) may come from an event marked stricter than
  // the report it followed [R14]: never restated under a marking that reaches further
  const stated = incident.statedMarking
  if (stated !== undefined && !reachesNoFurther(marking, stated, ctx.viewer.userId)) {
    const message = `incident ${incident.incidentId} holds what was marked ${describeMarking(stated)}, stricter than a report of it: it may be marked only as strictly as that`
    return reject('validation', 'C20', message, 'marking')
  }
  const attackSource = {
    ...opt('networkId', incident.attackSource?.networkId),
    ...opt('location', incident.attackSource?.location),
  }
  const payload: PayloadOf<'incident.reported'> = {
    incidentId: incident.incidentId,
    title: incident.title,
    severity: incident.severity,
    category: incident.category,
    ...opt('summary', incident.summary),
    affectedNetworks: [...incident.affectedNetworks],
    ...(Object.keys(attackSource).length > 0 ? { attackSource } : {}),
    // [R15] with when each field was set here: a picture that holds the incident takes what is newer
    restated: restatementOf(incident),
  }
  const event = {
    id: ctx.newId(),
    type: 'incident.reported',
    occurredAt: ctx.now,
    source: { organisation: incident.organisation },
    actor: { user: ctx.viewer.userId, organisation: ctx.viewer.organisation },
    marking: copyMarking(marking),
    payload,
  } as DecidedEvent
  // its own organisation (V2) or, for RED, its author (V5) sees it: checked all the same
  if (!canSee(ctx.viewer, event)) {
    return reject('validation', 'C20', 'you would no longer see this incident under that marking', 'marking')
  }
  return accepted([event], incident.version + 1)
}

/**
 * [R15] The status and network states a marking change restates, and when each field was set in
 * the caller's picture. Only states of the affected networks (a later report may have dropped a
 * network whose state the picture keeps [R9]): what the report names, and no more than it may.
 */
function restatementOf(incident: IncidentState): NonNullable<PayloadOf<'incident.reported'>['restated']> {
  const { networkStates: stateSeqs, ...setAt } = incident.setAt ?? NEVER_SET_AT
  const states = Object.entries(incident.networkStates ?? {}).filter(([networkId]) =>
    incident.affectedNetworks.includes(networkId),
  )
  if (states.length === 0) return { status: incident.status, setAt: { ...setAt } }
  return {
    status: incident.status,
    networkStates: Object.fromEntries(states),
    setAt: {
      ...setAt,
      networkStates: Object.fromEntries(states.map(([networkId]) => [networkId, stateSeqs?.[networkId] ?? 0])),
    },
  }
}

/** The most networks a report names (the protocol's `affectedNetworks` of `incident.reported`). */
const MAX_REPORTED_NETWORKS = 500

/** A copy of a marking, its lists copied, absent fields left absent. */
function copyMarking(marking: Marking): Marking {
  return {
    tlp: marking.tlp,
    ...opt('releasableTo', marking.releasableTo && [...marking.releasableTo]),
    ...opt('recipients', marking.recipients && [...marking.recipients]),
    ...opt('pap', marking.pap),
  }
}

/**
 * [C4] A link names two incidents, so it may reach only those who may see both: the strictest of
 * their markings. Its source is their organisation when they share one (which sees both [V2]);
 * otherwise the linking viewer's own, which could see both; never one incident's organisation,
 * which the other's marking may not reach.
 */
function linkAudience(
  incident: IncidentState,
  other: IncidentState,
  viewer: Viewer,
): Pick<DecidedEvent, 'source' | 'marking'> {
  const organisation = incident.organisation === other.organisation ? incident.organisation : viewer.organisation
  return {
    source: { organisation },
    marking: strictestMarking(audienceMarking(incident), audienceMarking(other)),
  }
}

function setNetworkState(state: State, c: CommandOf<'network.set_state'>, ctx: DecideContext): Decision {
  const incident = findIncident(state, ctx.viewer, c.incidentId)
  if (!incident) return noIncident(c.incidentId)
  const current = networkStateOf(incident, c.networkId)
  if (current === undefined && !state.networks.has(c.networkId)) {
    return reject('not_found', 'C10', `no network ${c.networkId}`)
  }
  const refused = checkRules(ctx, c, incident)
  if (refused) return refused
  if (current === c.state) {
    return conflict('C10', `network ${c.networkId} is already ${c.state} in incident ${incident.incidentId}`, incident)
  }
  return accepted(
    [
      emit(incident, ctx, 'incident.network_state_set', {
        incidentId: incident.incidentId,
        networkId: c.networkId,
        state: c.state,
      }),
    ],
    incident.version + 1,
  )
}

/**
 * How a network stands in an incident: its explicit state, else `affected`
 * when the incident names it among its affected networks, else undefined.
 */
export function networkStateOf(incident: IncidentState, networkId: string): IncidentNetworkState | undefined {
  return incident.networkStates?.[networkId] ?? (incident.affectedNetworks.includes(networkId) ? 'affected' : undefined)
}

// ---------------------------------------------------------------- tasks

function createTask(state: State, c: CommandOf<'task.create'>, ctx: DecideContext): Decision {
  const incident = findIncident(state, ctx.viewer, c.incidentId)
  if (!incident) return noIncident(c.incidentId)
  const refused = checkRules(ctx, c, incident)
  if (refused) return refused
  const taskId = ctx.newId()
  const payload: PayloadOf<'task.created'> = {
    taskId,
    incidentId: incident.incidentId,
    title: c.title,
    priority: c.priority,
    ...opt('description', c.description),
    ...opt('dueAt', c.dueAt),
    ...opt('assignee', c.assignee),
  }
  return accepted([emit(incident, ctx, 'task.created', payload)], 1)
}

function assignTask(state: State, c: CommandOf<'task.assign'>, ctx: DecideContext): Decision {
  const found = findTask(state, ctx.viewer, c.taskId)
  if (!found) return noTask(c.taskId)
  const { task, incident } = found
  const refused = checkRules(ctx, c, task)
  if (refused) return refused
  if (task.assignee !== undefined && sameAssignee(task.assignee, c.assignee)) {
    return conflict('C14', `task ${task.taskId} is already assigned to ${describeAssignee(c.assignee)}`, task)
  }
  const event = emit(incident, ctx, 'task.assigned', { taskId: task.taskId, assignee: { ...c.assignee } }, task)
  return unseenByActor(event, ctx, task) ?? accepted([event], task.version + 1)
}

type TaskMove = CommandOf<'task.accept' | 'task.start' | 'task.block' | 'task.complete' | 'task.reopen'>

function moveTask(state: State, c: TaskMove, ctx: DecideContext): Decision {
  const found = findTask(state, ctx.viewer, c.taskId)
  if (!found) return noTask(c.taskId)
  const { task, incident } = found
  const refused = checkRules(ctx, c, task)
  if (refused) return refused
  const taskId = task.taskId
  const event = (() => {
    switch (c.type) {
      case 'task.accept':
        return emit(incident, ctx, 'task.accepted', { taskId }, task)
      case 'task.start':
        return emit(incident, ctx, 'task.started', { taskId }, task)
      case 'task.block':
        return emit(incident, ctx, 'task.blocked', { taskId, reason: c.reason }, task)
      case 'task.complete':
        return emit(incident, ctx, 'task.completed', { taskId, ...opt('note', c.note) }, task)
      case 'task.reopen':
        return emit(incident, ctx, 'task.reopened', { taskId, ...opt('reason', c.reason) }, task)
      default:
        return exhaustiveSwitchError(c)
    }
  })()
  return unseenByActor(event, ctx, task) ?? accepted([event], task.version + 1)
}

function sameAssignee(a: Assignee, b: Assignee): boolean {
  return a.kind === 'user'
    ? b.kind === 'user' && a.userId === b.userId
    : b.kind === 'team' && a.organisation === b.organisation
}

function describeAssignee(a: Assignee): string {
  return a.kind === 'user' ? `user ${a.userId}` : `team ${a.organisation}`
}

// ---------------------------------------------------------------- comments

function postComment(state: State, c: CommandOf<'comment.post'>, ctx: DecideContext): Decision {
  const incident = findIncident(state, ctx.viewer, c.incidentId)
  if (!incident) return noIncident(c.incidentId)
  let task: TaskState | undefined
  if (c.taskId !== undefined) {
    const found = findTask(state, ctx.viewer, c.taskId)
    if (!found || found.task.incidentId !== incident.incidentId) {
      return reject('not_found', 'C1', `no task ${c.taskId} on incident ${incident.incidentId}`)
    }
    task = found.task
  }
  const target = task ?? incident
  const refused = checkRules(ctx, c, target)
  if (refused) return refused
  const mentions = unique([...(c.mentions ?? []), ...extractMentions(c.body)])
  if (mentions.length > MAX_MENTIONS) {
    return reject('validation', 'C15', `a comment may mention at most ${MAX_MENTIONS} users`, 'mentions')
  }
  const payload: PayloadOf<'comment.posted'> = {
    commentId: ctx.newId(),
    incidentId: incident.incidentId,
    ...opt('taskId', task?.taskId),
    body: c.body,
    mentions,
  }
  // [C5] a comment changes neither the incident's nor the task's version
  const event = emit(incident, ctx, 'comment.posted', payload, task)
  return (task && unseenByActor(event, ctx, task)) ?? accepted([event], target.version)
}

/**
 * [C4] An event about a task takes the strictest of its incident's audience and the task's. Once
 * the incident was re-marked, the two may no longer meet in a marking its actor is within (an actor
 * named by a community in one and by its organisation in the other): such a command is refused,
 * rather than appending an event its own author could not see. The actor sees both markings.
 */
function unseenByActor(event: DecidedEvent, ctx: DecideContext, task: TaskState): Decision | undefined {
  if (canSee(ctx.viewer, event)) return undefined
  return reject(
    'conflict',
    'C4',
    `incident ${task.incidentId} was re-marked since task ${task.taskId} was made, and the audiences of both no longer ` +
      'meet in one you are part of: make a new task on the incident',
  )
}

// ---------------------------------------------------------------- bookmarks

/**
 * [C16] Anyone but a sensor may bookmark a moment or a range. The bookmark is the viewer's
 * organisation's, marked as the viewer chooses (AMBER by default: the organisation only), so it
 * reaches exactly that audience, like any other event.
 */
function saveBookmark(c: CommandOf<'bookmark.save'>, ctx: DecideContext): Decision {
  const refused = refusal(roleRefusal(ctx.viewer, c.type))
  if (refused) return refused
  const payload: PayloadOf<'bookmark.saved'> = {
    bookmarkId: ctx.newId(),
    title: c.title,
    ...opt('note', c.note),
    clock: c.clock,
    ...opt('at', c.at),
    ...opt('from', c.from),
    ...opt('to', c.to),
  }
  const event = {
    id: ctx.newId(),
    type: 'bookmark.saved',
    occurredAt: ctx.now,
    source: { organisation: ctx.viewer.organisation },
    actor: { user: ctx.viewer.userId, organisation: ctx.viewer.organisation },
    marking: c.marking ?? { tlp: 'AMBER' },
    payload,
  } as DecidedEvent
  return accepted([event], 1)
}

/**
 * [C15] User ids mentioned in a text as `@user`: an `@` at the start or after a
 * character that cannot be part of an address (so `kadri@cert.ee` mentions no
 * one), then letters, digits, `_`, `.` or `-`, without a trailing `.` or `-`.
 * In order of first appearance, each once.
 */
export function extractMentions(body: string): string[] {
  const found: string[] = []
  for (const match of body.matchAll(/(?<![\p{L}\p{N}_.@-])@([\p{L}\p{N}_][\p{L}\p{N}_.-]*)/gu)) {
    const user = match[1]!.replace(/[.-]+$/, '')
    if (user !== '') found.push(user)
  }
  return unique(found)
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)]
}

// ---------------------------------------------------------------- visibility

/** [C1] The incident, when the state holds it and the viewer may see it. */
function findIncident(state: State, viewer: Viewer, incidentId: string): IncidentState | undefined {
  const incident = state.incidents.get(incidentId)
  return incident !== undefined && canSee(viewer, incidentVisibility(incident)) ? incident : undefined
}

/** [C1] The task and its incident, when the state holds both and the viewer may see both. */
function findTask(
  state: State,
  viewer: Viewer,
  taskId: string,
): { task: TaskState; incident: IncidentState } | undefined {
  const task = state.tasks.get(taskId)
  if (task === undefined || !canSee(viewer, taskVisibility(task))) return undefined
  const incident = findIncident(state, viewer, task.incidentId)
  return incident === undefined ? undefined : { task, incident }
}

/**
 * [C4] One event about `incident`: its organisation as source, its audience as marking, the viewer as
 * actor. About one of its tasks, the strictest of the incident's audience and the task's: an incident
 * re-reported to a wider audience since the task was made does not widen the task's events.
 */
function emit<T extends EventType>(
  incident: IncidentState,
  ctx: DecideContext,
  type: T,
  payload: PayloadOf<T>,
  task?: TaskState,
): DecidedEvent {
  // [C4] the incident's source and audience, with the task's marking where stricter: one rule,
  // which the console's choice of teams reads too (commandVisibility)
  const { source, marking } = commandVisibility(incident, task)
  return {
    id: ctx.newId(),
    type,
    occurredAt: ctx.now,
    source,
    actor: { user: ctx.viewer.userId, organisation: ctx.viewer.organisation },
    marking,
    payload,
  } as DecidedEvent
}

// ---------------------------------------------------------------- checks

/**
 * The policy's rules in SPEC order, after the target was found [C1]: the actor's roles [C2] and
 * organisation for an owner-only action [C20], the expected version [C3], then what the target's
 * state allows [C6, C7, C11-C14].
 */
function checkRules(
  ctx: DecideContext,
  command: Command & { expectedVersion?: number | undefined },
  target: IncidentState | TaskState,
): Decision | undefined {
  const task = 'taskId' in target ? target : undefined
  return (
    refusal(roleRefusal(ctx.viewer, command.type, task)) ??
    refusal(ownerOnlyRefusal(ctx.viewer, command.type, target)) ??
    checkVersion(command, target) ??
    refusal(stateRefusal(command.type, target), target)
  )
}

/** A policy refusal as a decision; a conflict carries the target as it is now. */
function refusal(refused: Refusal | undefined, current?: IncidentState | TaskState): Decision | undefined {
  if (refused === undefined) return undefined
  const { code, rule, message } = refused
  return code === 'conflict' && current !== undefined
    ? { ok: false, rejection: { code, rule, message, current } }
    : { ok: false, rejection: { code, rule, message } }
}

/** [C3] `expectedVersion`, when given, must equal the target's version. */
function checkVersion(
  command: { expectedVersion?: number | undefined },
  target: IncidentState | TaskState,
): Decision | undefined {
  if (command.expectedVersion === undefined || command.expectedVersion === target.version) return undefined
  return conflict('C3', `expected version ${command.expectedVersion}, but it is at version ${target.version}`, target)
}

function noIncident(incidentId: string): Decision {
  return reject('not_found', 'C1', `no incident ${incidentId}`)
}

function noTask(taskId: string): Decision {
  return reject('not_found', 'C1', `no task ${taskId}`)
}

function reject(code: RejectionCode, rule: string, message: string, path?: string): Decision {
  return { ok: false, rejection: path === undefined ? { code, rule, message } : { code, rule, message, path } }
}

function conflict(rule: string, message: string, current: IncidentState | TaskState): Decision {
  return { ok: false, rejection: { code: 'conflict', rule, message, current } }
}

function accepted(events: DecidedEvent[], version: number): Decision {
  return { ok: true, events, version }
}

/** `{ [key]: value }` when value is defined, else `{}`: optional fields stay absent, never `undefined`. */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]: V })
}

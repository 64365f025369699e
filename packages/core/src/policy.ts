/**
 * Who may do what: the only place that says it. `decide` (commands), the server's ingest (raw
 * events) and the console's buttons all ask here. Rules A1-A6 and C2, C6, C7, C11-C14 and C20 in
 * packages/core/SPEC.md; who may *see* what is `canSee` (visibility.ts).
 */
import {
  type CommandType,
  type EventInput,
  type EventType,
  exhaustiveSwitchError,
  type Role,
  SEVERITIES,
  type Severity,
  type Viewer,
} from '@watchfloor/protocol'
import { severityRank } from './facts.ts'
import { isAssignedTo } from './selectors.ts'
import type { IncidentState, TaskState } from './state.ts'

/** What the rules read of whoever acts. `readOnly` is a display token's [A1]. */
export interface Actor extends Pick<Viewer, 'roles' | 'userId' | 'organisation'> {
  readOnly?: boolean | undefined
}

/** What the posting rules read of whoever posts raw events [A2, A3]. */
export interface Poster {
  user: string
  organisation: string
  roles: readonly Role[]
  /** Other organisations this principal may post for (a relay). */
  sources: readonly string[]
  readOnly?: boolean | undefined
}

/** An action is a command type: each command is one thing someone may do. */
export type Action = CommandType

/** What an action is taken on: an incident, or a task for the task commands. */
export type Target = IncidentState | TaskState

/** Why a rule refuses: `forbidden` for who is acting, `conflict` for the target as it stands. */
export interface Refusal {
  code: 'forbidden' | 'conflict'
  rule: string
  message: string
  /** The field a posting refusal is about. */
  path?: string
}

/** [C2] Who may acknowledge. */
export const ACKNOWLEDGERS: readonly Role[] = ['watch_officer', 'coordinator', 'admin']
/** [C2] Who coordinates: escalate, set status, link, network states, create and assign tasks, any task work. */
export const COORDINATORS: readonly Role[] = ['coordinator', 'admin']
/** [A2] Who may post raw events. */
export const POSTING_ROLES: readonly Role[] = ['sensor', 'coordinator', 'admin']

type TaskMove = 'task.accept' | 'task.start' | 'task.block' | 'task.complete' | 'task.reopen'

/** [C13] The statuses each task command may start from. */
export const TASK_TRANSITIONS: Readonly<Record<TaskMove, readonly TaskState['status'][]>> = {
  'task.accept': ['open'],
  'task.start': ['open', 'accepted', 'blocked'],
  'task.block': ['accepted', 'in_progress'],
  'task.complete': ['accepted', 'in_progress', 'blocked'],
  'task.reopen': ['done'],
}

export function hasRole(actor: Pick<Actor, 'roles'>, roles: readonly Role[]): boolean {
  return actor.roles.some((role) => roles.includes(role))
}

/** A person, not a machine: any role but `sensor`. */
export function isPerson(actor: Pick<Actor, 'roles'>): boolean {
  return actor.roles.some((role) => role !== 'sensor')
}

/**
 * May `actor` take `action` on `target`? Without a target: may its roles take it at all
 * (for task work: is it a coordinator or a person who could be an assignee). The console's
 * buttons ask this; `decide` asks the same rules through `roleRefusal` and `stateRefusal`.
 */
export function may(actor: Actor | null | undefined, action: Action, target?: Target): boolean {
  if (!actor) return false
  const task = target !== undefined && 'taskId' in target ? target : undefined
  if (roleRefusal(actor, action, task) !== undefined) return false
  if (target === undefined) return true
  return ownerOnlyRefusal(actor, action, target) === undefined && stateRefusal(action, target) === undefined
}

/**
 * [A1, C2] The refusal of an actor's roles for an action, or undefined when its roles allow it.
 * For task work the task decides: its assignee (the user, or any person of the assigned
 * team's organisation) may work on it; without a task, any person might be the assignee.
 */
export function roleRefusal(actor: Actor, action: Action, task?: TaskState): Refusal | undefined {
  const readOnly = readOnlyRefusal(actor)
  if (readOnly) return readOnly
  switch (action) {
    case 'incident.acknowledge':
      return requireRole(actor, ACKNOWLEDGERS, action)
    case 'incident.escalate':
    case 'incident.set_status':
    case 'incident.set_marking':
    case 'incident.link':
    case 'network.set_state':
    case 'task.create':
    case 'task.assign':
      return requireRole(actor, COORDINATORS, action)
    case 'task.accept':
    case 'task.start':
    case 'task.block':
    case 'task.complete':
    case 'task.reopen': {
      const mayWork =
        hasRole(actor, COORDINATORS) || (isPerson(actor) && (task === undefined || isAssignedTo(task, actor)))
      return mayWork
        ? undefined
        : forbidden(
            'C2',
            `${action} needs the assignee (the user, or a person of the assigned organisation), a coordinator or an admin`,
          )
    }
    case 'comment.post':
    case 'bookmark.save':
      return isPerson(actor) ? undefined : forbidden('C2', `${action} needs a role other than sensor`)
    default:
      return exhaustiveSwitchError(action)
  }
}

/**
 * [C6, C7, C11-C14] The refusal of an action by the state of its target alone (whatever the
 * command's other fields), or undefined. `decide` checks the rest (the severity or status
 * asked for, the assignee, the other incident).
 */
export function stateRefusal(action: Action, target: Target): Refusal | undefined {
  if ('taskId' in target) {
    switch (action) {
      case 'task.assign':
        return target.status === 'done' ? conflict('C14', `task ${target.taskId} is done: reopen it first`) : undefined
      case 'task.accept':
      case 'task.start':
      case 'task.block':
      case 'task.complete':
      case 'task.reopen':
        return TASK_TRANSITIONS[action].includes(target.status)
          ? undefined
          : conflict('C13', `${action} is not possible while task ${target.taskId} is ${target.status}`)
      default:
        return undefined
    }
  }
  const incident = target
  // a comment, and who the incident is shared with, stay open on a merged or closed incident: its
  // owner may still have to withdraw it from someone [C20]
  if (action === 'comment.post' || action === 'bookmark.save' || action === 'incident.set_marking') return undefined
  if (incident.mergedInto !== undefined)
    return conflict('C11', `incident ${incident.incidentId} was merged into ${incident.mergedInto}`)
  switch (action) {
    case 'incident.acknowledge':
      if (incident.status === 'closed') return conflict('C6', `incident ${incident.incidentId} is closed`)
      if (incident.acknowledgedAt !== undefined) {
        const by = incident.acknowledgedBy === undefined ? '' : ` by ${incident.acknowledgedBy}`
        return conflict('C6', `incident ${incident.incidentId} was already acknowledged${by}`)
      }
      return undefined
    case 'incident.escalate':
      if (incident.status === 'closed') return conflict('C7', `incident ${incident.incidentId} is closed`)
      return escalationChoices(incident).length === 0 ? escalationRefusal(incident) : undefined
    case 'task.create':
      return incident.status === 'closed'
        ? conflict('C12', `incident ${incident.incidentId} is closed: no new tasks`)
        : undefined
    default:
      return undefined
  }
}

/** [C20] The actions only the incident's own organisation takes: who it is shared with is its owner's. */
export const OWNER_ONLY_ACTIONS: ReadonlySet<Action> = new Set<Action>(['incident.set_marking'])

/**
 * [C20] The refusal of an owner-only action (changing an incident's marking) by anyone outside the
 * incident's own organisation, whoever it is shared with; undefined for the owner and for any other
 * action. Read after the roles [C2]: a coordinator of a partner is refused here. A partner feed's
 * incident (its id `…@feed:<id>`) is the feed's alone, whichever organisation it speaks for [A9].
 */
export function ownerOnlyRefusal(
  actor: Pick<Actor, 'organisation' | 'userId'>,
  action: Action,
  target: Target,
): Refusal | undefined {
  if (!OWNER_ONLY_ACTIONS.has(action) || 'taskId' in target) return undefined
  const feed = feedOfId(target.incidentId)
  if (feed !== undefined && actor.userId !== feedUser(feed))
    return forbidden('A9', `ids ending in @feed:${feed} are partner feed ${feed}'s: only it marks its incidents`)
  if (target.organisation === actor.organisation) return undefined
  return forbidden(
    'C20',
    `only ${target.organisation}, the organisation that reported incident ${target.incidentId}, changes who it is shared with`,
  )
}

/** [C7] The severities an escalation may choose: those above the current one. */
export function escalationChoices(incident: Pick<IncidentState, 'severity'>): Severity[] {
  return SEVERITIES.filter((severity) => severityRank(severity) > severityRank(incident.severity))
}

/** [C7] An escalation to `severity` raises the incident's severity, or is refused. */
export function escalationRefusal(incident: IncidentState, severity?: Severity): Refusal | undefined {
  if (severity !== undefined && severityRank(severity) > severityRank(incident.severity)) return undefined
  return conflict(
    'C7',
    `escalation must raise the severity: incident ${incident.incidentId} is already ${incident.severity}`,
  )
}

/** [A1] A read-only principal (a display token) takes no command and posts nothing. */
export function readOnlyRefusal(principal: { readOnly?: boolean | undefined }): Refusal | undefined {
  return principal.readOnly ? forbidden('A1', 'a display token is read-only') : undefined
}

/**
 * [A8] May this principal change the directory (organisations, communities)? Admins only, not a
 * display token: a community decides who receives what is releasable to it [V10].
 */
export function directoryRefusal(principal: Pick<Actor, 'roles' | 'readOnly'>): Refusal | undefined {
  if (principal.readOnly || !hasRole(principal, ['admin']))
    return forbidden('A8', 'changing the directory needs the admin role')
  return undefined
}

/** [A7] Who may view the picture as another audience (an organisation, a community) receives it. */
export const VIEWERS_AS: readonly Role[] = ['coordinator', 'admin']

/**
 * [A7] May this principal view as another audience? Coordinators and admins, not a display token;
 * what they then see is what both they and the audience may see [V11], read-only.
 */
export function viewAsRefusal(principal: Pick<Actor, 'roles' | 'readOnly'>): Refusal | undefined {
  if (principal.readOnly) return forbidden('A7', 'a display token cannot view as another audience')
  if (!hasRole(principal, VIEWERS_AS))
    return forbidden('A7', 'viewing as another organisation or community needs the coordinator or admin role')
  return undefined
}

/** [A1, A2] May this principal post raw events at all? */
export function postingRefusal(poster: Poster): Refusal | undefined {
  const readOnly = readOnlyRefusal(poster)
  if (readOnly) return readOnly
  if (hasRole(poster, POSTING_ROLES)) return undefined
  return forbidden('A2', `posting events needs one of the roles ${POSTING_ROLES.join(', ')}`)
}

/** [A3] May this principal post an event whose source is `organisation`? */
export function sourceRefusal(poster: Poster, organisation: string): Refusal | undefined {
  if (organisation === poster.organisation || poster.sources.includes(organisation)) return undefined
  return {
    ...forbidden('A3', `${poster.user} may not post for organisation ${organisation}`),
    path: 'source.organisation',
  }
}

/**
 * [A4] The event types that enter the log only through commands (`decide`), never raw: the
 * coordination of incidents, tasks, comments and bookmarks.
 */
export const COMMAND_ONLY_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'incident.acknowledged',
  'incident.escalated',
  'incident.status_changed',
  'incident.linked',
  'incident.network_state_set',
  'task.created',
  'task.assigned',
  'task.accepted',
  'task.started',
  'task.blocked',
  'task.completed',
  'task.reopened',
  'comment.posted',
  'bookmark.saved',
])

/**
 * [A4] A coordination event posted raw is refused: it enters the log only through a command. So is
 * a report's `restated` [R15], which only `incident.set_marking` writes: its `setAt` says when each
 * field was set in its author's picture, which a raw poster cannot vouch for.
 */
export function commandOnlyRefusal(event: Pick<EventInput, 'type'> & { payload?: unknown }): Refusal | undefined {
  if (
    event.type === 'incident.reported' &&
    (event.payload as { restated?: unknown } | undefined)?.restated !== undefined
  )
    return {
      ...forbidden('A4', 'restated is written by incident.set_marking only (POST /api/v1/commands)'),
      path: 'payload.restated',
    }
  if (!COMMAND_ONLY_TYPES.has(event.type)) return undefined
  return {
    ...forbidden('A4', `${event.type} enters the log only through a command (POST /api/v1/commands)`),
    path: 'type',
  }
}

/** Who owns what an event is about: the incidents, networks and advisories of a picture. */
export interface Owners {
  incidents: OwnerLookup
  networks: OwnerLookup
  advisories: OwnerLookup
}

/** Looks up an id's owner: a picture's map, or any other lookup by id. */
export type OwnerLookup = Pick<ReadonlyMap<string, { organisation: string }>, 'get'>

/**
 * [A5] The organisation that owns what a raw event changes, and whether the event's source may
 * change it: an incident belongs to the organisation that first reported it, a network to its
 * organisation (a registration names its sender's own organisation), an advisory to its
 * publisher. Re-reporting or updating another organisation's incident, registering or changing
 * the posture of another organisation's network, or publishing over another organisation's
 * advisory is refused. Observations are sightings, not changes: anyone who may post reports them.
 */
export function ownerRefusal(owners: Owners, event: EventInput): Refusal | undefined {
  const source = event.source.organisation
  const lookups = { incident: owners.incidents, network: owners.networks, advisory: owners.advisories }
  const owned = (kind: keyof typeof lookups, id: string, path: string): Refusal | undefined => {
    const owner = lookups[kind].get(id)?.organisation
    if (owner === undefined || owner === source) return undefined
    return { ...forbidden('A5', `${kind} ${id} belongs to another organisation: only its owner changes it`), path }
  }
  switch (event.type) {
    case 'incident.reported':
    case 'incident.updated':
      return owned('incident', event.payload.incidentId, 'payload.incidentId')
    case 'network.registered':
      if (event.payload.organisation !== source)
        return {
          ...forbidden(
            'A5',
            `a network is registered by its own organisation: ${source} may not register one of ${event.payload.organisation}`,
          ),
          path: 'payload.organisation',
        }
      return owned('network', event.payload.networkId, 'payload.networkId')
    case 'network.posture_changed':
      return owned('network', event.payload.networkId, 'payload.networkId')
    case 'advisory.published':
      return owned('advisory', event.payload.advisoryId, 'payload.advisoryId')
    default:
      return undefined
  }
}

/** What an event claims to own, for which organisation (`ownerClaim`). */
export interface OwnerClaim {
  kind: keyof Owners
  id: string
  organisation: string
}

/**
 * [A5, R12] What an event claims to own: the incident it reports, the network it registers (for
 * the organisation the registration names), the advisory it publishes. In the log a claim stands
 * when nobody owns the thing yet or its owner sent the event; any other organisation's claim
 * changes nothing, as in the reducer's picture. Ingest's check of one request and the server's
 * index of the whole log's owners both claim with this.
 */
export function ownerClaim(event: Pick<EventInput, 'type' | 'source' | 'payload'>): OwnerClaim | undefined {
  const e = event as EventInput
  switch (e.type) {
    case 'incident.reported':
      return { kind: 'incidents', id: e.payload.incidentId, organisation: e.source.organisation }
    case 'network.registered':
      return { kind: 'networks', id: e.payload.networkId, organisation: e.payload.organisation }
    case 'advisory.published':
      return { kind: 'advisories', id: e.payload.advisoryId, organisation: e.source.organisation }
    default:
      return undefined
  }
}

/** An id in a partner feed's namespace (`<partner's id>@feed:<feed id>`): the feed's id. */
const FEED_NAMESPACE = /@feed:([^@]+)$/

/** The prefix of the user ids partner feeds post as (`feed:<feed id>`): no one else's user id starts so [A9]. */
export const FEED_USER_PREFIX = 'feed:'

/** [A9] The user id a partner feed's events are posted as: `feed:<feed id>`. */
export function feedUser(feedId: string): string {
  return `${FEED_USER_PREFIX}${feedId}`
}

/**
 * [A9] Why a user id given to a person or a machine (an account, a service identity, a static token)
 * may not be it: one starting `feed:` (in any letter case) would post as a partner feed, in its
 * namespace. Undefined for any other.
 */
export function reservedUserIdRefusal(user: string): string | undefined {
  if (!user.toLowerCase().startsWith(FEED_USER_PREFIX)) return undefined
  return `user ids starting ${FEED_USER_PREFIX} are the partner feeds' own (${FEED_USER_PREFIX}<feed id>, A9): give ${user} another user id`
}

/** The partner feed whose namespace an id is in (`…@feed:<feed id>`), if it is in one [A9]. */
export function feedOfId(id: string): string | undefined {
  return FEED_NAMESPACE.exec(id)?.[1]
}

/** The ids of incidents, networks and advisories a raw event names, with the field that names each. */
function namedIds(event: EventInput): [path: string, id: string][] {
  const e = event
  switch (e.type) {
    case 'incident.reported':
      return [
        ['payload.incidentId', e.payload.incidentId],
        ...e.payload.affectedNetworks.map((id, i): [string, string] => [`payload.affectedNetworks.${i}`, id]),
        ...(e.payload.attackSource?.networkId === undefined
          ? []
          : [['payload.attackSource.networkId', e.payload.attackSource.networkId] as [string, string]]),
      ]
    case 'incident.updated':
      return [
        ['payload.incidentId', e.payload.incidentId],
        ...(e.payload.affectedNetworks ?? []).map((id, i): [string, string] => [`payload.affectedNetworks.${i}`, id]),
      ]
    case 'incident.observation':
      return [
        ['payload.incidentId', e.payload.incidentId],
        ...(e.payload.networkId === undefined ? [] : [['payload.networkId', e.payload.networkId] as [string, string]]),
      ]
    case 'advisory.published':
      return [
        ['payload.advisoryId', e.payload.advisoryId],
        ...(e.payload.incidentId === undefined
          ? []
          : [['payload.incidentId', e.payload.incidentId] as [string, string]]),
      ]
    case 'network.registered':
    case 'network.posture_changed':
      return [['payload.networkId', e.payload.networkId]]
    default:
      return []
  }
}

/**
 * [A9] A partner feed's ids are the feed's: what it imports is named `<partner's id>@feed:<feed id>`
 * (its poller), so only that feed (the principal `feed:<feed id>`) posts a raw event naming one. Anyone
 * else could otherwise take such an id first, and the feed's reports of it would then be refused as
 * another organisation's [A5], or its sightings land on the taker's incident.
 */
export function feedNamespaceRefusal(poster: Pick<Poster, 'user'>, event: EventInput): Refusal | undefined {
  for (const [path, id] of namedIds(event)) {
    const feed = feedOfId(id)
    if (feed === undefined || poster.user === feedUser(feed)) continue
    return {
      ...forbidden('A9', `ids ending in @feed:${feed} are partner feed ${feed}'s: only it posts events naming them`),
      path,
    }
  }
  return undefined
}

/** [A1-A5, A9] May this principal post this raw event, given who owns what (`owners`: the whole picture)? */
export function mayPost(poster: Poster, event: EventInput, owners: Owners): boolean {
  return (
    postingRefusal(poster) === undefined &&
    sourceRefusal(poster, event.source.organisation) === undefined &&
    commandOnlyRefusal(event) === undefined &&
    ownerRefusal(owners, event) === undefined &&
    feedNamespaceRefusal(poster, event) === undefined
  )
}

function requireRole(actor: Actor, roles: readonly Role[], action: Action): Refusal | undefined {
  if (hasRole(actor, roles)) return undefined
  return forbidden('C2', `${action} needs the role ${roles.join(', ').replace(/, (\w+)$/, ' or $1')}`)
}

function forbidden(rule: string, message: string): Refusal {
  return { code: 'forbidden', rule, message }
}

function conflict(rule: string, message: string): Refusal {
  return { code: 'conflict', rule, message }
}

import { z } from 'zod'
import { BookmarkClock, bookmarkFields, id, text, timestamp } from './fields.ts'
import type { Agree } from './replies.ts'

/** Bumped whenever an event, command or socket message changes shape incompatibly. */
export const PROTOCOL_VERSION = 1

export const TLP_LEVELS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'] as const
export const Tlp = z.enum(TLP_LEVELS)
export type Tlp = z.infer<typeof Tlp>

/** Permissible Actions Protocol levels: what a recipient may do with the information (not who may see it). */
export const PAP_LEVELS = ['CLEAR', 'GREEN', 'AMBER', 'RED'] as const
export const Pap = z.enum(PAP_LEVELS)
export type Pap = z.infer<typeof Pap>

export const Marking = z
  .object({
    tlp: Tlp,
    /** Organisation, nation or community ids the event may go to; when present it always narrows. */
    releasableTo: z.array(id).max(200).optional(),
    /** User ids that may read a RED event (besides its author). */
    recipients: z.array(id).max(200).optional(),
    /** What recipients may do with it (PAP); shown and exported beside the TLP, never narrows who sees it. */
    pap: Pap.optional(),
  })
  .strict()
export type Marking = z.infer<typeof Marking>

export const Source = z
  .object({
    organisation: id,
    network: id.optional(),
  })
  .strict()
export type Source = z.infer<typeof Source>

export const Actor = z
  .object({
    user: id,
    organisation: id.optional(),
  })
  .strict()
export type Actor = z.infer<typeof Actor>

export const Location = z
  .object({
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
  })
  .strict()
export type Location = z.infer<typeof Location>

export const Severity = z.enum(['low', 'medium', 'high', 'critical'])
export type Severity = z.infer<typeof Severity>
export const SEVERITIES = Severity.options

export const IncidentStatus = z.enum(['new', 'triaged', 'contained', 'eradicated', 'recovered', 'closed'])
export type IncidentStatus = z.infer<typeof IncidentStatus>

export const Posture = z.enum(['normal', 'elevated', 'degraded', 'compromised'])
export type Posture = z.infer<typeof Posture>

export const NetworkKind = z.enum(['national-cert', 'government', 'military', 'alliance-body', 'industry', 'other'])
export type NetworkKind = z.infer<typeof NetworkKind>

/** How one network stands in one incident's response. */
export const IncidentNetworkState = z.enum(['affected', 'contained', 'recovered'])
/** [R15] The seq of the event that set a field, in a restated report (0: never set, a default). */
const setAtSeq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
export type IncidentNetworkState = z.infer<typeof IncidentNetworkState>

/** How one incident relates to another: `merged_into` closes it and points at the survivor. */
export const IncidentRelation = z.enum(['related', 'duplicate_of', 'merged_into'])
export type IncidentRelation = z.infer<typeof IncidentRelation>

export const TaskPriority = z.enum(['low', 'normal', 'high', 'urgent'])
export type TaskPriority = z.infer<typeof TaskPriority>

export const TaskStatus = z.enum(['open', 'accepted', 'in_progress', 'blocked', 'done'])
export type TaskStatus = z.infer<typeof TaskStatus>

/** Who a task is for: one user, or a team (every person of an organisation). */
export const Assignee = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user'), userId: id }).strict(),
  z.object({ kind: z.literal('team'), organisation: id }).strict(),
])
export type Assignee = z.infer<typeof Assignee>

export { BookmarkClock }

/** The most user ids one comment may mention. */
export const MAX_MENTIONS = 100

/**
 * One payload schema per event type. Adding an event type is one entry here and
 * one case in the core reducer (the compiler points at the missing case).
 */
export const eventPayloads = {
  'network.registered': z
    .object({
      networkId: id,
      name: text(200),
      /** A short name for tight places (a timeline lane, a badge); `name` stays the full one. */
      shortName: text(40).optional(),
      organisation: id,
      nation: id,
      kind: NetworkKind,
      location: Location,
    })
    .strict(),
  'network.posture_changed': z
    .object({
      networkId: id,
      posture: Posture,
      reason: text(2000).optional(),
    })
    .strict(),
  'incident.reported': z
    .object({
      incidentId: id,
      title: text(300),
      severity: Severity,
      category: text(100),
      summary: text(10_000).optional(),
      affectedNetworks: z.array(id).max(500),
      attackSource: z
        .object({ networkId: id.optional(), location: Location.optional() })
        .strict()
        .refine((s) => s.networkId !== undefined || s.location !== undefined, {
          message: 'attackSource needs a networkId or a location',
        })
        .optional(),
      /**
       * [R15] Written by a marking change (`incident.set_marking`) only: the report says the incident
       * again as it stands in its author's picture, under a new marking, with its status, network
       * states and, in `setAt`, the seq of the event that set each field there (0: never set). A
       * picture that holds the incident takes, field by field, what was set later there than in its
       * own; one it newly reaches takes the incident as stated.
       */
      restated: z
        .object({
          status: IncidentStatus,
          networkStates: z
            .record(id, IncidentNetworkState)
            .refine((states) => Object.keys(states).length <= 500, { message: 'at most 500 network states' })
            .optional(),
          setAt: z
            .object({
              title: setAtSeq,
              severity: setAtSeq,
              category: setAtSeq,
              summary: setAtSeq,
              networks: setAtSeq,
              attackSource: setAtSeq,
              status: setAtSeq,
              networkStates: z
                .record(id, setAtSeq)
                .refine((seqs) => Object.keys(seqs).length <= 500, { message: 'at most 500 network states' })
                .optional(),
            })
            .strict(),
        })
        .strict()
        .optional(),
    })
    .strict()
    .refine(
      (p) => Object.keys(p.restated?.networkStates ?? {}).every((network) => p.affectedNetworks.includes(network)),
      { message: 'a restated network state names one of the affected networks', path: ['restated', 'networkStates'] },
    )
    .refine(
      (p) =>
        Object.keys(p.restated?.setAt.networkStates ?? {}).every(
          (network) => p.restated?.networkStates?.[network] !== undefined,
        ),
      { message: 'a seq is given only for a restated network state', path: ['restated', 'setAt', 'networkStates'] },
    ),
  'incident.updated': z
    .object({
      incidentId: id,
      severity: Severity.optional(),
      status: IncidentStatus.optional(),
      category: text(100).optional(),
      summary: text(10_000).optional(),
      affectedNetworks: z.array(id).max(500).optional(),
    })
    .strict()
    .refine(
      (p) =>
        p.severity !== undefined ||
        p.status !== undefined ||
        p.category !== undefined ||
        p.summary !== undefined ||
        p.affectedNetworks !== undefined,
      { message: 'incident.updated needs at least one of severity, status, category, summary, affectedNetworks' },
    ),
  'incident.observation': z
    .object({
      incidentId: id,
      networkId: id.optional(),
      indicator: text(2000).optional(),
      count: z.number().int().min(1).max(1_000_000_000).optional(),
    })
    .strict(),
  'advisory.published': z
    .object({
      advisoryId: id,
      title: text(300),
      body: text(50_000),
      incidentId: id.optional(),
    })
    .strict(),
  'incident.acknowledged': z
    .object({
      incidentId: id,
      note: text(2000).optional(),
    })
    .strict(),
  'incident.escalated': z
    .object({
      incidentId: id,
      severity: Severity,
      reason: text(2000),
    })
    .strict(),
  'incident.status_changed': z
    .object({
      incidentId: id,
      status: IncidentStatus,
      reason: text(2000).optional(),
    })
    .strict(),
  'incident.linked': z
    .object({
      incidentId: id,
      otherIncidentId: id,
      relation: IncidentRelation,
    })
    .strict()
    .refine((p) => p.incidentId !== p.otherIncidentId, {
      message: 'an incident cannot be linked to itself',
      path: ['otherIncidentId'],
    }),
  'incident.network_state_set': z
    .object({
      incidentId: id,
      networkId: id,
      state: IncidentNetworkState,
    })
    .strict(),
  'task.created': z
    .object({
      taskId: id,
      incidentId: id,
      title: text(300),
      description: text(10_000).optional(),
      priority: TaskPriority,
      dueAt: timestamp.optional(),
      assignee: Assignee.optional(),
    })
    .strict(),
  'task.assigned': z.object({ taskId: id, assignee: Assignee }).strict(),
  'task.accepted': z.object({ taskId: id }).strict(),
  'task.started': z.object({ taskId: id }).strict(),
  'task.blocked': z.object({ taskId: id, reason: text(2000) }).strict(),
  'task.completed': z.object({ taskId: id, note: text(2000).optional() }).strict(),
  'task.reopened': z.object({ taskId: id, reason: text(2000).optional() }).strict(),
  'comment.posted': z
    .object({
      commentId: id,
      incidentId: id,
      taskId: id.optional(),
      body: text(10_000),
      mentions: z.array(id).max(MAX_MENTIONS),
    })
    .strict(),
  'bookmark.saved': z
    .object({
      bookmarkId: id,
      ...bookmarkFields,
    })
    .strict()
    .refine(
      (p) =>
        p.at !== undefined ? p.from === undefined && p.to === undefined : p.from !== undefined && p.to !== undefined,
      { message: 'a bookmark needs either `at` or both `from` and `to`' },
    )
    .refine((p) => p.from === undefined || p.to === undefined || Date.parse(p.from) <= Date.parse(p.to), {
      message: '`from` must not be after `to`',
      path: ['to'],
    }),
} as const

export type EventType = keyof typeof eventPayloads
export const EVENT_TYPES = Object.keys(eventPayloads) as EventType[]
export type PayloadOf<T extends EventType> = z.infer<(typeof eventPayloads)[T]>

const envelopeFields = {
  id: z.uuid().toLowerCase(),
  occurredAt: timestamp,
  source: Source,
  actor: Actor.optional(),
  marking: Marking.optional(),
}

function inputVariant<T extends EventType>(type: T) {
  return z.object({ ...envelopeFields, type: z.literal(type), payload: eventPayloads[type] }).strict()
}

type InputVariant = { [K in EventType]: ReturnType<typeof inputVariant<K>> }[EventType]
const variants = EVENT_TYPES.map((type) => inputVariant(type)) as unknown as [InputVariant, ...InputVariant[]]

/** What a sender posts: the envelope without `seq` and `recordedAt`; `marking` defaults on the server. */
export const EventInput = z.discriminatedUnion('type', variants)
export type EventInput = z.infer<typeof EventInput>

/** An event once accepted: marking filled in, `recordedAt` set by the server, `seq` by the store. */
export type NewEvent = EventInput & { marking: Marking; recordedAt: string }
export type StoredEvent = NewEvent & { seq: number }

/** A variant as stored: its input variant with `marking` required, `recordedAt` and `seq`. */
function storedVariant<T extends EventType>(type: T) {
  return inputVariant(type).extend({ marking: Marking, recordedAt: timestamp, seq: z.number().int().min(1) })
}
type StoredVariant = { [K in EventType]: ReturnType<typeof storedVariant<K>> }[EventType]
const storedVariants = EVENT_TYPES.map((type) => storedVariant(type)) as unknown as [StoredVariant, ...StoredVariant[]]

/**
 * An event as the server sends it (the socket's `events`, `/api/v1/events` pages): the `StoredEvent`
 * type's schema, for documents and for checking what a server sends.
 */
export const StoredEvent = z.discriminatedUnion('type', storedVariants).meta({ id: 'StoredEvent' })
export type EventOf<T extends EventType> = Extract<StoredEvent, { type: T }>

/** The most events one POST may carry. */
export const MAX_EVENTS_PER_POST = 1000

/** The `StoredEvent` schema and the `StoredEvent` type describe the same events. */
export const STORED_EVENT_SCHEMA_AGREES: Agree<z.infer<typeof StoredEvent>, StoredEvent> = true

import { z } from 'zod'
import {
  Assignee,
  type EventType,
  IncidentNetworkState,
  IncidentRelation,
  IncidentStatus,
  MAX_MENTIONS,
  Marking,
  Severity,
  TaskPriority,
} from './events.ts'
import { bookmarkFields, id, text, timestamp } from './fields.ts'
import { parseOrThrow } from './validate.ts'

/**
 * One schema per command a person sends (coordination). The body is flat:
 * `{ "type", "expectedVersion"?, "commandId"?, ...fields }`. `expectedVersion`, when given, must
 * equal the current version of the command's target (the incident, or the task
 * for task commands) or the command is a conflict (rule C3 in packages/core/SPEC.md).
 * `commandId`, when given, makes the command idempotent: a UUID the client makes once per user
 * action and sends again on every retry of that action, so the server applies it once (see
 * `commandId` below). `packages/core` `decide` turns a command into events or a typed rejection.
 */
export const commandFields = {
  'incident.acknowledge': {
    incidentId: id,
    note: text(2000).optional(),
  },
  'incident.escalate': {
    incidentId: id,
    severity: Severity,
    reason: text(2000),
  },
  'incident.set_status': {
    incidentId: id,
    status: IncidentStatus,
    reason: text(2000).optional(),
  },
  'incident.link': {
    incidentId: id,
    otherIncidentId: id,
    relation: IncidentRelation,
  },
  /**
   * Who the incident is shared with: its owner's coordinator or admin restates the incident as it
   * stands under a new marking (C20). RED names its recipients.
   */
  'incident.set_marking': {
    incidentId: id,
    marking: Marking,
  },
  'network.set_state': {
    incidentId: id,
    networkId: id,
    state: IncidentNetworkState,
  },
  'task.create': {
    incidentId: id,
    title: text(300),
    description: text(10_000).optional(),
    priority: TaskPriority.default('normal'),
    dueAt: timestamp.optional(),
    assignee: Assignee.optional(),
  },
  'task.assign': { taskId: id, assignee: Assignee },
  'task.accept': { taskId: id },
  'task.start': { taskId: id },
  'task.block': { taskId: id, reason: text(2000) },
  'task.complete': { taskId: id, note: text(2000).optional() },
  'task.reopen': { taskId: id, reason: text(2000).optional() },
  'comment.post': {
    incidentId: id,
    taskId: id.optional(),
    body: text(10_000),
    /** User ids mentioned besides the `@user` mentions in the body. */
    mentions: z.array(id).max(MAX_MENTIONS).optional(),
  },
  /** A moment (`at`) or a range (`from`, `to`) of the log, for the viewer's audience (C16). */
  'bookmark.save': {
    ...bookmarkFields,
    /** Who may see it; default AMBER (the viewer's organisation). */
    marking: Marking.optional(),
  },
} as const

export type CommandType = keyof typeof commandFields
export const COMMAND_TYPES = Object.keys(commandFields) as CommandType[]

/** The event each command makes when accepted (core's `decide`; `incident.link` one per link). */
export const COMMAND_EVENTS: Readonly<Record<CommandType, EventType>> = {
  'incident.acknowledge': 'incident.acknowledged',
  'incident.escalate': 'incident.escalated',
  'incident.set_status': 'incident.status_changed',
  'incident.link': 'incident.linked',
  'incident.set_marking': 'incident.reported',
  'network.set_state': 'incident.network_state_set',
  'task.create': 'task.created',
  'task.assign': 'task.assigned',
  'task.accept': 'task.accepted',
  'task.start': 'task.started',
  'task.block': 'task.blocked',
  'task.complete': 'task.completed',
  'task.reopen': 'task.reopened',
  'comment.post': 'comment.posted',
  'bookmark.save': 'bookmark.saved',
}

const expectedVersion = z.number().int().min(0).optional()

/**
 * The idempotency key of one user action (a UUID, compared lower-case): made once when the person
 * acts and sent again, unchanged, with every retry of that action (a lost answer, "Retry"). The
 * server derives the ids of the events the command makes (and the ids in their payloads) from it
 * and the caller, so a command whose events are already in the log is answered with those events
 * and appends nothing. The same command again: `expectedVersion` may differ, nothing else.
 * Another caller's command with the same `commandId` is another action (docs/api.md).
 */
const commandId = z.uuid().toLowerCase().optional()

function commandVariant<T extends CommandType>(type: T) {
  return z.object({ type: z.literal(type), expectedVersion, commandId, ...commandFields[type] }).strict()
}

type CommandVariant = { [K in CommandType]: ReturnType<typeof commandVariant<K>> }[CommandType]
const variants = COMMAND_TYPES.map((type) => commandVariant(type)) as unknown as [CommandVariant, ...CommandVariant[]]

/** Any command, discriminated on `type`. */
export const Command = z.discriminatedUnion('type', variants).superRefine((command, ctx) => {
  if (command.type === 'incident.link' && command.incidentId === command.otherIncidentId) {
    ctx.addIssue({ code: 'custom', message: 'an incident cannot be linked to itself', path: ['otherIncidentId'] })
  }
  if (command.type === 'bookmark.save') {
    const moment = command.at !== undefined
    const range = command.from !== undefined || command.to !== undefined
    if (moment === range || (range && (command.from === undefined || command.to === undefined)))
      ctx.addIssue({ code: 'custom', message: 'a bookmark needs either `at` or both `from` and `to`', path: ['at'] })
    else if (range && Date.parse(command.to!) < Date.parse(command.from!))
      ctx.addIssue({ code: 'custom', message: '`to` must not be before `from`', path: ['to'] })
  }
})
export type Command = z.infer<typeof Command>
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>

/** Parse a command body or throw a `validation` WatchfloorError naming every failing field (`prefix` first). */
export function parseCommand(value: unknown, prefix: (string | number)[] = []): Command {
  return parseOrThrow(Command, value, prefix)
}

import { z } from 'zod'
import type { Command } from './commands.ts'
import type { ErrorBody } from './errors.ts'
import { StoredEvent } from './events.ts'
import { timestamp } from './fields.ts'

export const SubscribeRequest = z.object({ after: z.number().int().min(0) }).strict()
export type SubscribeRequest = z.infer<typeof SubscribeRequest>

export type SubscribeAck = { ok: true; head: number } | { ok: false; error: ErrorBody }

const seq = z.number().int().min(0)

/** A batch of events, in seq order, all visible to the receiving viewer. */
export const EventsMessage = z.object({ events: z.array(StoredEvent) }).strict()
export type EventsMessage = z.infer<typeof EventsMessage>
/** The log has moved up to `seq`: everything up to it that this viewer may see has been sent. */
export const CheckpointMessage = z.object({ seq }).strict()
export type CheckpointMessage = z.infer<typeof CheckpointMessage>
/** Sent periodically to every live socket; `seq` is the head the server has delivered up to. */
export const HeartbeatMessage = z.object({ seq, serverTime: timestamp }).strict()
export type HeartbeatMessage = z.infer<typeof HeartbeatMessage>
/**
 * The client fell behind (or the server cannot continue its stream): subscribe again with the last
 * seq seen. `access_changed`: what the viewer may see changed (its organisation joined or left a
 * community): drop the picture and subscribe from 0 (`after` is 0).
 */
export const ResyncMessage = z
  .object({ after: seq, reason: z.enum(['slow_consumer', 'server_restart', 'access_changed']) })
  .strict()
export type ResyncMessage = z.infer<typeof ResyncMessage>

/** Why the server ended a socket's access; the socket is disconnected right after. */
export const REVOKED_REASONS = [
  'token_revoked',
  'token_expired',
  'session_ended',
  'session_expired',
  'account_disabled',
] as const
export type RevokedReason = (typeof REVOKED_REASONS)[number]
/** The credential this socket authenticated with no longer holds: the server disconnects it after this message. */
export const RevokedMessage = z.object({ reason: z.enum(REVOKED_REASONS) }).strict()
export type RevokedMessage = z.infer<typeof RevokedMessage>

/** A command as a client sends it (REST body or socket `command`): `{ type, expectedVersion?, ...fields }`. */
export type CommandBody = z.input<typeof Command>

/**
 * What an accepted command produced: the stored events (with `seq` and `recordedAt`)
 * and the target's version once they are folded (rule C5 in packages/core/SPEC.md).
 * The answer of `POST /api/v1/commands` (200).
 */
export interface CommandResult {
  events: StoredEvent[]
  version: number
}

/**
 * The ack of a socket `command`. On a refusal `error.code` is `validation`,
 * `unauthenticated`, `forbidden`, `not_found` or `conflict` (`details.rule` names the
 * SPEC rule when `decide` refused); a `conflict` carries `current`: the target as it
 * is now (the incident or the task, shaped as in `GET /api/v1/state`).
 */
export type CommandAck<Current = unknown> =
  | ({ ok: true } & CommandResult)
  | { ok: false; error: ErrorBody; current?: Current }

/** Which incident this socket's person is looking at now (`null`: none). Volatile: never in the log. */
export const ViewingRequest = z.object({ incidentId: z.string().trim().min(1).max(200).nullable() }).strict()
export type ViewingRequest = z.infer<typeof ViewingRequest>

/** The ack of `viewing`: `not_found` when the incident is unknown or not visible to the viewer. */
export type ViewingAck = { ok: true } | { ok: false; error: ErrorBody }

/** One person viewing an incident; each user once, however many sockets they have. */
export const PresenceViewer = z
  .object({
    user: z.string(),
    organisation: z.string(),
    /** The person's display name, when the server knows one. */
    displayName: z.string().optional(),
  })
  .strict()
export type PresenceViewer = z.infer<typeof PresenceViewer>

/**
 * Who is viewing an incident now (this server process's sockets). Sent to every
 * socket whose viewer may see the incident when the set changes (an empty list when the
 * last one leaves), and to a socket when it starts viewing that incident.
 */
export const PresenceMessage = z.object({ incidentId: z.string(), viewers: z.array(PresenceViewer) }).strict()
export type PresenceMessage = z.infer<typeof PresenceMessage>

/** What the server sends, by message: each message's schema (docs/api.md's table is made from them). */
export const SERVER_MESSAGES = {
  events: EventsMessage,
  checkpoint: CheckpointMessage,
  heartbeat: HeartbeatMessage,
  resync: ResyncMessage,
  revoked: RevokedMessage,
  presence: PresenceMessage,
} as const satisfies Record<keyof ServerToClientEvents, z.ZodType>

export interface ServerToClientEvents {
  events: (message: EventsMessage) => void
  checkpoint: (message: CheckpointMessage) => void
  heartbeat: (message: HeartbeatMessage) => void
  resync: (message: ResyncMessage) => void
  revoked: (message: RevokedMessage) => void
  presence: (message: PresenceMessage) => void
}

export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack: (result: SubscribeAck) => void) => void
  /** A coordination command, handled exactly as `POST /api/v1/commands`. */
  command: (command: CommandBody, ack: (result: CommandAck) => void) => void
  /** Announce which incident this socket is viewing; the ack is optional. */
  viewing: (request: ViewingRequest, ack?: (result: ViewingAck) => void) => void
}

import { z } from 'zod'
import type { ErrorBody } from './errors.ts'
import type { StoredEvent } from './events.ts'

export const SubscribeRequest = z.object({ after: z.number().int().min(0) }).strict()
export type SubscribeRequest = z.infer<typeof SubscribeRequest>

export type SubscribeAck = { ok: true; head: number } | { ok: false; error: ErrorBody }

/** A batch of events, in seq order, all visible to the receiving viewer. */
export interface EventsMessage {
  events: StoredEvent[]
}
/** The log has moved up to `seq`: everything up to it that this viewer may see has been sent. */
export interface CheckpointMessage {
  seq: number
}
/** Sent periodically to every live socket; `seq` is the head the server has delivered up to. */
export interface HeartbeatMessage {
  seq: number
  serverTime: string
}
/** The client fell behind (or the server cannot continue its stream): subscribe again with the last seq seen. */
export interface ResyncMessage {
  after: number
  reason: 'slow_consumer' | 'server_restart'
}

export interface ServerToClientEvents {
  events: (message: EventsMessage) => void
  checkpoint: (message: CheckpointMessage) => void
  heartbeat: (message: HeartbeatMessage) => void
  resync: (message: ResyncMessage) => void
}

export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack: (result: SubscribeAck) => void) => void
}

import type { EventInput, Marking, StoredEvent } from '@watchfloor/protocol'

/** An event ready for the log: validated, authorised and marked; the store adds `recordedAt` and `seq`. */
export type AcceptedEvent = EventInput & { marking: Marking }

export interface AppendResult {
  id: string
  seq: number
  /** True when the id was already in the log with the same content [L2]. */
  duplicate: boolean
}

/**
 * The ordered, durable event log. Every implementation passes the contract
 * suite in `contract.ts` (rules L1-L5 in packages/core/SPEC.md).
 */
export interface EventStore {
  readonly kind: 'sqlite' | 'postgres'
  /**
   * Append a batch atomically. Resolves once the batch is durable [L4]; rejects
   * with a `conflict` WatchfloorError when an id is reused with other content [L3].
   */
  append(events: readonly AcceptedEvent[]): Promise<AppendResult[]>
  /** Events with seq > after, in seq order, at most `limit`. */
  readAfter(after: number, limit: number): Promise<StoredEvent[]>
  /** Events recorded in [from, to), in seq order, after `after`, at most `limit`. */
  readRecordedRange(from: string, to: string, after: number, limit: number): Promise<StoredEvent[]>
  /** The highest seq in the log (0 when empty). */
  head(): Promise<number>
  /** Called with the new head after events become readable (local appends, and other processes' where the store can tell). */
  onAppend(listener: (head: number) => void): () => void
  /**
   * Run `work` while holding the lock `name`, shared by every process on this
   * store (PostgreSQL: a session advisory lock), so read-decide-append sequences
   * of several processes do not interleave. Stores that belong to one process
   * (SQLite) leave it out: an in-process mutex is enough there.
   */
  exclusive?<T>(name: string, work: () => Promise<T>): Promise<T>
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>
  close(): Promise<void>
}

import type { EventInput, Marking, StoredEvent } from '@watchfloor/protocol'
import type { Sealer } from './sealed.ts'

/** An event ready for the log: validated, authorised and marked; the store adds `recordedAt` and `seq`. */
export type AcceptedEvent = EventInput & { marking: Marking }

export interface AppendResult {
  id: string
  seq: number
  /** True when the id was already in the log with the same content [L2]. */
  duplicate: boolean
}

/**
 * A saved fold of the log: `body` is what the server wrote (core's `stateToJson`, as JSON), `seq`
 * the position in the log it was folded through, `version` the format it was written in.
 */
export interface Snapshot {
  /** Whose picture: the server keys a viewer's by core's `viewerKey`, so no key is shared by two audiences. */
  key: string
  seq: number
  version: number
  body: string
}

export interface SnapshotPrune {
  /** Snapshots of any other version are deleted. */
  version: number
  /** At most this many snapshots per key, the newest (highest seq) kept. */
  keepPerKey: number
  /** At most this many keys; the least recently used (saved or loaded) are deleted. */
  maxKeys: number
}

/**
 * Snapshots of folds, beside the log in the same database (contract in `contract.ts`). A snapshot
 * is only ever read back by its own key and version.
 */
export interface SnapshotStore {
  /** Save (or replace) the snapshot of `key` at `seq`; then keep only the `keep` newest of that key (default 2). */
  save(snapshot: Snapshot, keep?: number): Promise<void>
  /** The newest snapshot of `key` in `version` at or below seq `atOrBelow`; marks the key as used. */
  load(key: string, version: number, atOrBelow: number): Promise<Snapshot | undefined>
  /** Delete other versions, snapshots beyond `keepPerKey` per key and the least recently used keys beyond `maxKeys`; returns how many were deleted. */
  prune(options: SnapshotPrune): Promise<number>
  /** The keys held (for tests and diagnostics). */
  keys(): Promise<string[]>
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
  /**
   * Write events exactly as another log stored them (a restore): seq, recordedAt and content kept.
   * They must continue this log from its head without a gap, recordedAt never decreasing, with ids
   * new to it; else it rejects with a `conflict` (or `validation`) WatchfloorError and writes
   * nothing. Resolves with the new head once durable.
   */
  appendStored?(events: readonly StoredEvent[]): Promise<number>
  /** Events with seq > after, in seq order, at most `limit`. */
  readAfter(after: number, limit: number): Promise<StoredEvent[]>
  /** Where these ids stand in the log: the seq of each that is in it (those not in it are left out). */
  seqsOf(ids: readonly string[]): Promise<Map<string, number>>
  /** Events recorded in [from, to), in seq order, after `after`, at most `limit`. */
  readRecordedRange(from: string, to: string, after: number, limit: number): Promise<StoredEvent[]>
  /** The highest seq in the log (0 when empty). */
  head(): Promise<number>
  /**
   * Called with the new head after events become readable: this process's appends (`heard` false),
   * and other processes' where the store can tell (`heard` true: told by a notification). A
   * notification does not say whose commit it was: when this process's own comes before the
   * commit's answer, the head is told as heard, then again, as not heard, once answered.
   */
  onAppend(listener: (head: number, heard: boolean) => void): () => void
  /**
   * Run `work` while holding the lock `name`, shared by every process on this
   * store (PostgreSQL: a session advisory lock), so read-decide-append sequences
   * of several processes do not interleave. Stores that belong to one process
   * (SQLite) leave it out: an in-process mutex is enough there. `held()` tells
   * whether the lock still holds: a lost connection releases it, and another
   * process may then take it, so `work` asks before it appends.
   */
  exclusive?<T>(name: string, work: (held: () => boolean) => Promise<T>): Promise<T>
  /** Snapshots of folds in the same database (both stores have them). */
  readonly snapshots?: SnapshotStore
  /**
   * PostgreSQL: how full the database cluster's notification queue is (0 to 1). A listener that stops
   * reading without disconnecting fills it, and a full queue fails every commit.
   */
  notificationQueueUsage?(): Promise<number>
  /**
   * PostgreSQL: what the processes of this log seal their other messages through the database with
   * (presence), by the log's own key; absent when this role may read none (then such messages stay
   * on their process). See `Sealer`.
   */
  readonly sealer?: Sealer | undefined
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>
  close(): Promise<void>
}

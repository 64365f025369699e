import type { StoredEvent } from '@watchfloor/protocol'
import { fold } from './reduce.ts'
import { initialState, type State } from './state.ts'

/**
 * Replay: the picture at a moment, folded from the log. Rules P1-P4 in SPEC.md.
 *
 * - `recorded` ("what we knew when"): every visible event with `recordedAt <= at`.
 *   `recordedAt` never decreases along seq [L5], so this is a prefix of the log.
 * - `occurred` ("what happened when"): every visible event with `occurredAt <= at`,
 *   folded **in seq order** (the order the floor learned of them). This is not a
 *   prefix when sources report late, but folding a subsequence in seq order keeps
 *   the reducer's rule [R1] intact and gives one answer on every path.
 */
export const REPLAY_CLOCKS = ['recorded', 'occurred'] as const
export type ReplayClock = (typeof REPLAY_CLOCKS)[number]

/** Which events the folded viewer may see (the server passes `canSee` bound to one viewer). */
export type VisibleFilter = (event: StoredEvent) => boolean

/** The time of an event on a clock, in epoch milliseconds (NaN when unparseable, which never selects it). */
export function eventTime(event: StoredEvent, clock: ReplayClock): number {
  return isoMs(clock === 'recorded' ? event.recordedAt : event.occurredAt)
}

/** [P1] Does the replay at `atMs` on `clock` include this event (time only; visibility is separate)? */
export function happenedBy(event: StoredEvent, clock: ReplayClock, atMs: number): boolean {
  return eventTime(event, clock) <= atMs
}

/**
 * [P1] The definition of replay, without snapshots: fold, in seq order, the
 * visible events at or before `atMs` on `clock`. `log` must be in seq order.
 * The snapshot path (`SnapshotIndex`) must give exactly this state [P2].
 */
export function replayFromScratch(
  log: readonly StoredEvent[],
  visible: VisibleFilter,
  clock: ReplayClock,
  atMs: number,
): State {
  return fold(
    initialState,
    log.filter((event) => visible(event) && happenedBy(event, clock, atMs)),
  )
}

/** The reduced state of one audience after every log event up to `position`. */
export interface Snapshot {
  /** Every log event with seq <= position has been considered (visible or not). */
  readonly position: number
  /** recordedAt (ms) of the log event at `position`; -Infinity for the empty start. */
  readonly recordedMs: number
  /** The latest occurredAt (ms) among the visible events up to `position`; -Infinity when none. */
  readonly maxOccurredMs: number
  /** Immutable (reducer states are copy-on-write), so it can be shared. */
  readonly state: State
}

/** How to reach `atMs` from a snapshot: read these seq ranges of the log, then `finish`. */
export interface SeekPlan {
  readonly clock: ReplayClock
  readonly atMs: number
  readonly base: Snapshot
  /** The last seq the plan covers (the index position when it was made). */
  readonly through: number
  /** Half-open seq ranges `(after, through]` to read, ascending and disjoint. */
  readonly ranges: readonly (readonly [after: number, through: number])[]
}

export interface SnapshotIndexOptions {
  /** Log events between snapshots to start with; doubles whenever `maxSnapshots` is exceeded. Default 1,024. */
  interval?: number
  /** Snapshots kept at most (the start included); when exceeded every other one is dropped. Default 512. */
  maxSnapshots?: number
  /**
   * Entries the snapshots' maps (networks, incidents, advisories, tasks, comments, bookmarks) and
   * recent events hold together at most, a map shared by several snapshots counted once; when
   * exceeded every other snapshot is dropped and the interval doubles, as for `maxSnapshots`.
   * A picture of months holds tens of thousands of incidents, and each snapshot its own copy of
   * the maps an interval changed: without this bound one audience's index of a ten-million-event
   * log would hold about a gigabyte. Default 2,500,000 (about 120 MB).
   */
  maxEntries?: number
  /** Occurred-clock reads merge candidate seqs closer than this into one range. Default 4. */
  mergeGap?: number
}

/**
 * Epoch ms of an ISO time: a fast path for the `toISOString` shape
 * (`2026-11-26T08:00:00.000Z`, what senders and the store mostly write), else
 * `Date.parse`. Both give the same number wherever the fast path applies.
 */
export function isoMs(text: string): number {
  if (text.length !== 24 || text.charCodeAt(23) !== 90 /* Z */ || text.charCodeAt(10) !== 84 /* T */)
    return Date.parse(text)
  const n = (from: number, to: number) => {
    let value = 0
    for (let i = from; i < to; i++) {
      const digit = text.charCodeAt(i) - 48
      if (digit < 0 || digit > 9) return Number.NaN
      value = value * 10 + digit
    }
    return value
  }
  const month = n(5, 7)
  const day = n(8, 10)
  const hour = n(11, 13)
  const minute = n(14, 16)
  const second = n(17, 19)
  const ms = n(20, 23)
  if (
    !(month >= 1 && month <= 12 && day >= 1 && day <= 28 && hour <= 23 && minute <= 59 && second <= 59 && ms >= 0) ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(19) !== 46
  )
    return Date.parse(text) // day 29-31 (month lengths), or not the usual shape
  const year = n(0, 4)
  if (!(year >= 100)) return Date.parse(text) // Date.UTC reads years 0-99 as 1900-1999
  return Date.UTC(year, month - 1, day, hour, minute, second, ms)
}

const NOT_VISIBLE = 0xffffffff
const MAX_SECONDS = NOT_VISIBLE - 1

/** Whole seconds since 1970, clamped to what a Uint32 slot holds; monotonic in `ms`. */
function coarseSeconds(ms: number): number {
  if (Number.isNaN(ms)) return 0 // an unparseable time is always a candidate; the exact check drops it
  return Math.min(MAX_SECONDS, Math.max(0, Math.floor(ms / 1000)))
}

/**
 * Snapshots of one audience's reduced state along the log, for fast seeks [P2].
 * Pure and free of I/O: the caller feeds it every log event in seq order
 * (`extend`), asks it how to reach a moment (`plan`), reads the ranges the plan
 * names and folds them with `finish`.
 *
 * Only events that pass `visible` are ever folded, so a snapshot never holds
 * anything the audience may not see [P3]. Memory: at most `maxSnapshots` state
 * references (sharing unchanged entities) holding at most `maxEntries` map
 * entries together, plus 4 bytes per log event (the coarse occurredAt of each
 * visible event, for occurred-clock seeks).
 */
export class SnapshotIndex {
  private snapshots: Snapshot[]
  private snapshotInterval: number
  private readonly maxSnapshots: number
  private readonly maxEntries: number
  /** Entries held by the snapshots kept (`maxEntries`). */
  private entries = 0
  private readonly mergeGap: number
  private current: State = initialState
  private indexed = 0
  private latestOccurredMs = Number.NEGATIVE_INFINITY
  /** Coarse occurredAt (s) of the visible event at seq - 1, NOT_VISIBLE otherwise. */
  private occurred = new Uint32Array(1024)

  constructor(
    readonly visible: VisibleFilter,
    options: SnapshotIndexOptions = {},
  ) {
    this.snapshotInterval = Math.max(1, Math.floor(options.interval ?? 1024))
    this.maxSnapshots = Math.max(2, Math.floor(options.maxSnapshots ?? 512))
    this.maxEntries = Math.max(0, Math.floor(options.maxEntries ?? 2_500_000))
    this.mergeGap = Math.max(0, Math.floor(options.mergeGap ?? 4))
    this.snapshots = [
      {
        position: 0,
        recordedMs: Number.NEGATIVE_INFINITY,
        maxOccurredMs: Number.NEGATIVE_INFINITY,
        state: initialState,
      },
    ]
  }

  /** The last seq considered. */
  get position(): number {
    return this.indexed
  }
  /** The audience's state after every event up to `position`. */
  get state(): State {
    return this.current
  }
  get interval(): number {
    return this.snapshotInterval
  }
  get snapshotCount(): number {
    return this.snapshots.length
  }
  /** Entries the snapshots kept hold together (`maxEntries`). */
  get entryCount(): number {
    return this.entries
  }
  /** The snapshots kept, oldest first (for tests and diagnostics). */
  list(): readonly Snapshot[] {
    return this.snapshots
  }

  /**
   * Consider the next log events: every event (visible or not) in seq order.
   * Events at or below `position` are skipped, so a page may overlap the last.
   */
  extend(events: readonly StoredEvent[]): void {
    let pending: StoredEvent[] = []
    let nextSnapshot = this.snapshots.at(-1)!.position + this.snapshotInterval
    for (const event of events) {
      const seq = event.seq
      if (seq <= this.indexed) continue
      this.reserve(seq)
      for (let gap = this.indexed + 1; gap < seq; gap++) this.occurred[gap - 1] = NOT_VISIBLE
      if (this.visible(event)) {
        const occurredMs = isoMs(event.occurredAt)
        if (occurredMs > this.latestOccurredMs) this.latestOccurredMs = occurredMs
        this.occurred[seq - 1] = coarseSeconds(occurredMs)
        pending.push(event)
      } else {
        this.occurred[seq - 1] = NOT_VISIBLE
      }
      this.indexed = seq
      if (seq >= nextSnapshot) {
        this.current = fold(this.current, pending)
        pending = []
        this.entries += entriesOwn(this.current, this.snapshots.at(-1)!.state)
        this.snapshots.push({
          position: seq,
          recordedMs: isoMs(event.recordedAt),
          maxOccurredMs: this.latestOccurredMs,
          state: this.current,
        })
        while (
          this.snapshots.length > this.maxSnapshots ||
          (this.entries > this.maxEntries && this.snapshots.length > 2)
        ) {
          // keep the start and every other snapshot; the interval doubles
          this.snapshots = this.snapshots.filter((_, i) => i % 2 === 0)
          this.snapshotInterval *= 2
          this.entries = entriesHeld(this.snapshots)
        }
        nextSnapshot = this.snapshots.at(-1)!.position + this.snapshotInterval
      }
    }
    this.current = fold(this.current, pending)
  }

  /**
   * How to reach `atMs` on `clock` from the nearest usable snapshot:
   * - recorded: the last snapshot recorded at or before `atMs`; read on to the next snapshot.
   * - occurred: the last snapshot whose visible events all occurred at or before `atMs`;
   *   read the visible events after it whose (coarse) occurredAt is at or before `atMs`.
   */
  plan(clock: ReplayClock, atMs: number): SeekPlan {
    const snapshots = this.snapshots
    const key = clock === 'recorded' ? (s: Snapshot) => s.recordedMs : (s: Snapshot) => s.maxOccurredMs
    // both keys never decrease along the snapshots: binary search for the last one <= atMs
    let low = 0
    let high = snapshots.length - 1
    while (low < high) {
      const middle = Math.ceil((low + high) / 2)
      if (key(snapshots[middle]!) <= atMs) low = middle
      else high = middle - 1
    }
    const base = snapshots[low]!
    const through = this.indexed
    if (clock === 'recorded') {
      // the next snapshot was recorded after atMs, and so was everything after it
      const end = low + 1 < snapshots.length ? snapshots[low + 1]!.position - 1 : through
      return { clock, atMs, base, through, ranges: end > base.position ? [[base.position, end]] : [] }
    }
    const limit = coarseSeconds(atMs)
    const ranges: [number, number][] = []
    const occurred = this.occurred
    for (let seq = base.position + 1; seq <= through; seq++) {
      const seconds = occurred[seq - 1]!
      if (seconds === NOT_VISIBLE || seconds > limit) continue
      const last = ranges.at(-1)
      if (last && seq - last[1] <= this.mergeGap) last[1] = seq
      else ranges.push([seq - 1, seq])
    }
    return { clock, atMs, base, through, ranges }
  }

  /**
   * Fold the events read for a plan (in seq order; anything outside the plan's
   * ranges, invisible or after `atMs` is left out) onto its snapshot.
   */
  finish(plan: SeekPlan, events: readonly StoredEvent[]): State {
    const selected: StoredEvent[] = []
    let last = plan.base.position
    for (const event of events) {
      if (event.seq <= last || event.seq > plan.through) continue
      last = event.seq
      if (this.visible(event) && happenedBy(event, plan.clock, plan.atMs)) selected.push(event)
    }
    return fold(plan.base.state, selected)
  }

  /** Seek with a synchronous reader of `(after, through]` ranges: plan, read, finish. */
  seek(clock: ReplayClock, atMs: number, read: (after: number, through: number) => readonly StoredEvent[]): State {
    const plan = this.plan(clock, atMs)
    const events: StoredEvent[] = []
    for (const [after, through] of plan.ranges) events.push(...read(after, through))
    return this.finish(plan, events)
  }

  private reserve(seq: number): void {
    if (seq <= this.occurred.length) return
    let size = this.occurred.length
    while (size < seq) size *= 2
    const grown = new Uint32Array(size)
    grown.set(this.occurred.subarray(0, this.indexed))
    this.occurred = grown
  }
}

const MAPS = ['networks', 'incidents', 'advisories', 'tasks', 'comments', 'bookmarks'] as const

/** Entries of `state` not shared with `previous` (a map unchanged between two folds is the same map). */
function entriesOwn(state: State, previous: State): number {
  let entries = state.recent === previous.recent ? 0 : state.recent.length
  for (const name of MAPS) if (state[name] !== previous[name]) entries += state[name].size
  return entries
}

/** Entries the snapshots hold together, each map and list of recent events counted once. */
function entriesHeld(snapshots: readonly Snapshot[]): number {
  const seen = new Set<unknown>()
  let entries = 0
  for (const { state } of snapshots) {
    if (!seen.has(state.recent)) {
      seen.add(state.recent)
      entries += state.recent.length
    }
    for (const name of MAPS) {
      if (seen.has(state[name])) continue
      seen.add(state[name])
      entries += state[name].size
    }
  }
  return entries
}

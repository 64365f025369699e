import { nothingOmitted, type Omitted, omittedKey, type State } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'

/**
 * How much of the past a console keeps in memory. A wall runs for days: what is older than
 * `hours` (by the data clock: the later of now and the newest occurredAt seen) leaves the event
 * window, and closed incidents and advisories last updated before then leave the picture.
 */
export interface Retention {
  hours: number
  /** The event window never holds more than this many events. */
  maxEvents: number
  /** Which events the window keeps at all (the wall keeps no observations: the density strip counts them). */
  keep?: (event: StoredEvent) => boolean
  /**
   * What an opening console reads besides the snapshot: the events recorded in the last
   * `openHours` (before the newest one recorded), at most the newest `openMaxEvents` (counted in
   * log seqs). Older history is read on demand (the timeline). Defaults: `hours` when finite,
   * else `OPEN_HOURS`; `maxEvents`, at most `OPEN_MAX_EVENTS`.
   */
  openHours?: number
  openMaxEvents?: number
}

/** The console's default: the newest 200,000 events, whatever their age (the wall sets hours). */
export const DEFAULT_RETENTION: Retention = { hours: Number.POSITIVE_INFINITY, maxEvents: 200_000 }

/** The span an opening console reads when its retention keeps everything: the timeline's first view. */
export const OPEN_HOURS = 6
/** At most this many events read at open (by default): more is read when the timeline asks. */
export const OPEN_MAX_EVENTS = 50_000

/** The recent window an opening console reads with its snapshot. */
export function openWindow(retention: Retention): { hours: number; maxEvents: number } {
  const hours = retention.openHours ?? (Number.isFinite(retention.hours) ? retention.hours : OPEN_HOURS)
  const maxEvents = retention.openMaxEvents ?? Math.min(retention.maxEvents, OPEN_MAX_EVENTS)
  return { hours: Math.max(0, hours), maxEvents: Math.max(1, maxEvents) }
}

/** What a prune took out of the picture: the picture left, and what left it. */
export interface Pruned {
  /** The picture without it; the same object when nothing went. */
  state: State
  incidents: string[]
  /** The tasks of the incidents that went. */
  tasks: string[]
  /** How many comments on the incidents that went. */
  comments: number
  advisories: number
}

/**
 * The picture without closed incidents and advisories older than `beforeMs`, and without the tasks
 * and comments of the incidents that go. `keep`: incidents to keep whatever their age (by id, or by
 * the id of one of their tasks) and advisories (by id): what the live picture was asked to include.
 */
export function pruneState(state: State, beforeMs: number, keep: ReadonlySet<string> = NONE): Pruned {
  const kept = new Set<string>()
  for (const id of keep) {
    const incidentId = state.incidents.has(id) ? id : state.tasks.get(id)?.incidentId
    if (incidentId !== undefined) kept.add(incidentId)
  }
  let incidents: Map<string, State['incidents'] extends ReadonlyMap<string, infer I> ? I : never> | undefined
  const gone: string[] = []
  for (const [id, incident] of state.incidents) {
    if (incident.status !== 'closed' || Date.parse(incident.updatedAt) >= beforeMs || kept.has(id)) continue
    incidents ??= new Map(state.incidents)
    incidents.delete(id)
    gone.push(id)
  }
  // the tasks and comments of an incident gone go with it (a wall runs for days: they would pile up)
  let tasks: Map<string, State['tasks'] extends ReadonlyMap<string, infer T> ? T : never> | undefined
  const goneTasks: string[] = []
  let comments: Map<string, State['comments'] extends ReadonlyMap<string, infer C> ? C : never> | undefined
  let goneComments = 0
  if (incidents) {
    const removed = new Set(gone)
    for (const [id, task] of state.tasks) {
      if (!removed.has(task.incidentId)) continue
      tasks ??= new Map(state.tasks)
      tasks.delete(id)
      goneTasks.push(id)
    }
    for (const [id, comment] of state.comments) {
      if (!removed.has(comment.incidentId)) continue
      comments ??= new Map(state.comments)
      comments.delete(id)
      goneComments++
    }
  }
  let advisories: Map<string, State['advisories'] extends ReadonlyMap<string, infer A> ? A : never> | undefined
  let goneAdvisories = 0
  for (const [id, advisory] of state.advisories) {
    if (Date.parse(advisory.publishedAt) >= beforeMs || keep.has(id)) continue
    advisories ??= new Map(state.advisories)
    advisories.delete(id)
    goneAdvisories++
  }
  const pruned = { incidents: gone, tasks: goneTasks, comments: goneComments, advisories: goneAdvisories }
  if (!incidents && !advisories) return { state, ...pruned }
  return {
    state: {
      ...state,
      incidents: incidents ?? state.incidents,
      tasks: tasks ?? state.tasks,
      comments: comments ?? state.comments,
      advisories: advisories ?? state.advisories,
    },
    ...pruned,
  }
}

const NONE: ReadonlySet<string> = new Set()

/**
 * `omitted` with the incidents and tasks a prune took out listed too (null: nothing left out
 * before): an event about one is then asked for as for what the live picture left out
 * (connection.ts `deliver`), instead of being folded onto nothing [core R3]. Advisories are not
 * listed: a publication carries the whole advisory. The same object when nothing went.
 */
export function leaveOut(omitted: Omitted | null, pruned: Pruned, beforeMs: number): Omitted | null {
  if (pruned.incidents.length === 0 && pruned.advisories === 0) return omitted
  const base = omitted ?? nothingOmitted()
  const added: number[] = []
  for (const id of pruned.incidents) added.push(omittedKey('incident', id))
  for (const id of pruned.tasks) added.push(omittedKey('task', id))
  const since = Math.max(Date.parse(base.since), beforeMs)
  return {
    since: Number.isFinite(since) ? new Date(since).toISOString() : base.since,
    incidents: base.incidents + pruned.incidents.length,
    tasks: base.tasks + pruned.tasks.length,
    comments: base.comments + pruned.comments,
    advisories: base.advisories + pruned.advisories,
    hashes: mergeSorted(base.hashes, Uint32Array.from(added).sort()),
  }
}

/** Two ascending lists of hashes as one. */
function mergeSorted(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (b.length === 0) return a
  const out = new Uint32Array(a.length + b.length)
  let i = 0
  let j = 0
  let k = 0
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!
  while (i < a.length) out[k++] = a[i++]!
  while (j < b.length) out[k++] = b[j++]!
  return out
}

/** Index of the first event to keep: the leading run of window events that occurred before `beforeMs` goes. */
export function firstKept(window: readonly StoredEvent[], beforeMs: number): number {
  // occurredAt is not sorted in a window (late reports); seq order is. Drop the leading run that is old.
  let i = 0
  while (i < window.length && Date.parse(window[i]!.occurredAt) < beforeMs) i++
  return i
}

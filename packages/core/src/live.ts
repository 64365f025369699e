/**
 * The live picture: what a console opens with when the log holds months of history. A viewer's
 * whole picture keeps every incident and advisory ever reported to it; the live picture keeps
 * every network and bookmark, every incident not closed, incidents closed but active since a time
 * (`since`), incidents with a task not completed, the incidents those link to, their tasks and
 * comments, and the advisories published since then or about an incident kept. What it leaves out
 * is summed up in `Omitted`: counts for people, and a hash of each id left out, so a console can
 * tell when a live event names something its picture does not hold (and ask for the picture again
 * with it) instead of folding that event onto nothing. Pure; the server cuts, the console checks.
 */
import type { StoredEvent } from '@watchfloor/protocol'
import { type StateJson, stateToJson } from './selectors.ts'
import type { AdvisoryState, CommentState, IncidentState, State, TaskState } from './state.ts'

/** How far back closed incidents and advisories are kept, by default (days before the newest event). */
export const LIVE_DAYS = 7

export interface LiveScope {
  /** Closed incidents active at or after this time (ms), and advisories published at or after it, are kept. */
  sinceMs: number
  /** Incidents, tasks or advisories to keep whatever their age (by id; a task or advisory keeps its incident). */
  include?: Iterable<string>
}

/** What a live picture leaves out of the viewer's whole picture. */
export interface Omitted {
  /** The `since` of the cut (ISO). */
  since: string
  incidents: number
  tasks: number
  comments: number
  advisories: number
  /** `omittedKey` hashes of every incident, task and advisory left out, ascending. */
  hashes: Uint32Array
}

/** `Omitted` as JSON (`GET /api/v1/state?scope=live` sends it as `omitted`): the hashes as base64 of little-endian uint32s. */
export interface OmittedJson {
  since: string
  incidents: number
  tasks: number
  comments: number
  advisories: number
  hashes: string
}

/** What `GET /api/v1/state?scope=live` answers: a picture and what it leaves out. */
export type LiveStateJson = StateJson & { omitted: OmittedJson }

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

export type OmittedKind = 'incident' | 'task' | 'advisory'

/** The hash an omitted incident, task or advisory is listed under. */
export function omittedKey(kind: OmittedKind, id: string): number {
  return fnv1a(`${kind[0]}:${id}`)
}

/** Whether `omitted` lists `kind` `id` (a false positive is rare: 32 bits; it costs one needless refresh). */
export function isOmitted(omitted: Omitted, kind: OmittedKind, id: string): boolean {
  const key = omittedKey(kind, id)
  const hashes = omitted.hashes
  let low = 0
  let high = hashes.length - 1
  while (low <= high) {
    const middle = (low + high) >>> 1
    const value = hashes[middle]!
    if (value === key) return true
    if (value < key) low = middle + 1
    else high = middle - 1
  }
  return false
}

/** The time a closed incident was last active: its last change or observation. */
function activeAt(incident: IncidentState): number {
  const updated = Date.parse(incident.updatedAt)
  return incident.lastObservationAt === undefined ? updated : Math.max(updated, Date.parse(incident.lastObservationAt))
}

/** The newest recordedAt of a picture's recent events (ms), or undefined when it has none. */
export function newestRecorded(state: State): number | undefined {
  const last = state.recent.at(-1)
  return last === undefined ? undefined : Date.parse(last.recordedAt)
}

/** The default `since` of a live picture: `LIVE_DAYS` before its newest event recorded (or `nowMs`). */
export function defaultLiveSince(state: State, nowMs: number): number {
  return (newestRecorded(state) ?? nowMs) - LIVE_DAYS * 86_400_000
}

/** Cut the live picture out of a viewer's whole picture (see the module's comment). */
export function livePicture(state: State, scope: LiveScope): { state: State; omitted: Omitted } {
  const kept = new Set<string>()
  for (const id of scope.include ?? []) {
    const incidentId = state.incidents.has(id)
      ? id
      : (state.tasks.get(id)?.incidentId ?? state.advisories.get(id)?.incidentId)
    if (incidentId !== undefined && state.incidents.has(incidentId)) kept.add(incidentId)
  }
  for (const incident of state.incidents.values()) {
    if (incident.status !== 'closed' || activeAt(incident) >= scope.sinceMs) kept.add(incident.incidentId)
  }
  for (const task of state.tasks.values()) if (task.status !== 'done') kept.add(task.incidentId)
  // one step along the links, so a kept incident can name what it is linked to or merged into
  for (const id of [...kept]) {
    const incident = state.incidents.get(id)!
    for (const link of incident.links ?? []) if (state.incidents.has(link.incidentId)) kept.add(link.incidentId)
    if (incident.mergedInto !== undefined && state.incidents.has(incident.mergedInto)) kept.add(incident.mergedInto)
  }
  const includedAdvisories = new Set<string>()
  for (const id of scope.include ?? []) if (state.advisories.has(id)) includedAdvisories.add(id)

  const hashes: number[] = []
  const incidents = new Map<string, IncidentState>()
  for (const [id, incident] of state.incidents) {
    if (kept.has(id)) incidents.set(id, incident)
    else hashes.push(omittedKey('incident', id))
  }
  const tasks = new Map<string, TaskState>()
  for (const [id, task] of state.tasks) {
    if (kept.has(task.incidentId)) tasks.set(id, task)
    else hashes.push(omittedKey('task', id))
  }
  const comments = new Map<string, CommentState>()
  let commentsLeft = 0
  for (const [id, comment] of state.comments) {
    if (kept.has(comment.incidentId)) comments.set(id, comment)
    else commentsLeft++
  }
  const advisories = new Map<string, AdvisoryState>()
  for (const [id, advisory] of state.advisories) {
    const keep =
      Date.parse(advisory.publishedAt) >= scope.sinceMs ||
      includedAdvisories.has(id) ||
      (advisory.incidentId !== undefined && kept.has(advisory.incidentId))
    if (keep) advisories.set(id, advisory)
    else hashes.push(omittedKey('advisory', id))
  }
  const sorted = Uint32Array.from(hashes).sort()
  return {
    state: { ...state, incidents, tasks, comments, advisories },
    omitted: {
      since: new Date(scope.sinceMs).toISOString(),
      incidents: state.incidents.size - incidents.size,
      tasks: state.tasks.size - tasks.size,
      comments: commentsLeft,
      advisories: state.advisories.size - advisories.size,
      hashes: sorted,
    },
  }
}

/** Nothing left out: a whole picture. */
export function nothingOmitted(since = new Date(0).toISOString()): Omitted {
  return { since, incidents: 0, tasks: 0, comments: 0, advisories: 0, hashes: new Uint32Array(0) }
}

/** Whether a cut left anything out. */
export function omitsAnything(omitted: Omitted): boolean {
  return omitted.hashes.length > 0 || omitted.comments > 0
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
/** The value of each base64 digit by char code (255: not a digit). */
const BASE64_INDEX = new Uint8Array(128).fill(255)
for (let i = 0; i < BASE64.length; i++) BASE64_INDEX[BASE64.charCodeAt(i)] = i

function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = []
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!
    const b = bytes[i + 1]
    const c = bytes[i + 2]
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0)
    parts.push(
      BASE64[(n >> 18) & 63]! +
        BASE64[(n >> 12) & 63]! +
        (b === undefined ? '=' : BASE64[(n >> 6) & 63]!) +
        (c === undefined ? '=' : BASE64[n & 63]!),
    )
  }
  return parts.join('')
}

function base64ToBytes(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '')
  const bytes = new Uint8Array(Math.floor((clean.length * 3) / 4))
  let bits = 0
  let value = 0
  let at = 0
  for (let i = 0; i < clean.length; i++) {
    const digit = BASE64_INDEX[clean.charCodeAt(i)] ?? 255
    if (digit === 255) throw new Error('omitted.hashes is not base64')
    value = (value << 6) | digit
    bits += 6
    if (bits >= 8) {
      bits -= 8
      bytes[at++] = (value >> bits) & 0xff
    }
  }
  return bytes
}

export function omittedToJson(omitted: Omitted): OmittedJson {
  const bytes = new Uint8Array(omitted.hashes.length * 4)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < omitted.hashes.length; i++) view.setUint32(i * 4, omitted.hashes[i]!, true)
  const { hashes: _, ...counts } = omitted
  return { ...counts, hashes: bytesToBase64(bytes) }
}

export function omittedFromJson(json: OmittedJson): Omitted {
  const bytes = base64ToBytes(json.hashes)
  if (bytes.length % 4 !== 0) throw new Error('omitted.hashes is not a list of uint32')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const hashes = new Uint32Array(bytes.length / 4)
  for (let i = 0; i < hashes.length; i++) hashes[i] = view.getUint32(i * 4, true)
  return { ...json, hashes }
}

/** A live picture as `GET /api/v1/state?scope=live` sends it. */
export function liveStateToJson(state: State, omitted: Omitted): LiveStateJson {
  return { ...stateToJson(state), omitted: omittedToJson(omitted) }
}

/**
 * The ids an event names that `omitted` lists: what the picture must hold before the event can be
 * folded onto it (empty: fold it). The incident of an incident event or task creation (both
 * incidents of a link), the task of a task event, the advisory of an advisory. A comment on an
 * incident left out names nothing: it changes nothing held, and comes with its incident when that
 * is asked for.
 */
export function omittedNames(event: StoredEvent, omitted: Omitted): string[] {
  const names: string[] = []
  const check = (kind: OmittedKind, id: string | undefined) => {
    if (id !== undefined && isOmitted(omitted, kind, id)) names.push(id)
  }
  if (event.type === 'incident.linked') {
    check('incident', event.payload.incidentId)
    check('incident', event.payload.otherIncidentId)
  } else if (event.type === 'advisory.published') check('advisory', event.payload.advisoryId)
  else if (event.type === 'task.created') {
    // a task id already held (and left out) makes the creation a no-op on the whole picture
    check('incident', event.payload.incidentId)
    check('task', event.payload.taskId)
  } else if (event.type.startsWith('task.')) check('task', (event.payload as { taskId: string }).taskId)
  else if (event.type.startsWith('incident.')) check('incident', (event.payload as { incidentId: string }).incidentId)
  return names
}

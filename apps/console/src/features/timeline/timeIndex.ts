import type { StoredEvent } from '@watchfloor/protocol'

/** Events sorted by occurredAt (ties by seq), with their times as numbers for binary search. */
export interface TimeIndex {
  /** The array it was built from (identity tells whether a rebuild is needed). */
  source: readonly StoredEvent[]
  events: StoredEvent[]
  times: Float64Array
  /** Identifies this index (per-position data derived from it can be kept with this id). */
  id: number
  /**
   * Incremental updates: `events[0, stable)` are the same events at the same positions as in
   * the index `stableFrom` (so data derived per position there is still valid). 0 after a rebuild.
   */
  stable: number
  stableFrom: number
}

let nextId = 1

const parsed = new WeakMap<StoredEvent, number>()

/** occurredAt as epoch ms, parsed once per event object. */
export function timeOf(event: StoredEvent): number {
  let t = parsed.get(event)
  if (t === undefined) {
    t = Date.parse(event.occurredAt)
    if (Number.isNaN(t)) t = Date.parse(event.recordedAt)
    if (Number.isNaN(t)) t = 0
    parsed.set(event, t)
  }
  return t
}

/**
 * Sort a copy of `events` (seq order, nearly occurredAt order) by occurredAt.
 * Already-sorted input (the usual case) costs one pass.
 */
export function buildTimeIndex(source: readonly StoredEvent[]): TimeIndex {
  const n = source.length
  const raw = new Float64Array(n)
  let sorted = true
  for (let i = 0; i < n; i++) {
    raw[i] = timeOf(source[i]!)
    if (i > 0 && raw[i]! < raw[i - 1]!) sorted = false
  }
  if (sorted) return { source, events: source.slice(), times: raw, id: nextId++, stable: 0, stableFrom: 0 }
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  // Array.prototype.sort is stable (TimSort): near-sorted input is close to linear, ties keep seq order
  const sortedOrder = Array.from(order).sort((a, b) => raw[a]! - raw[b]!)
  const events = new Array<StoredEvent>(n)
  const times = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const j = sortedOrder[i]!
    events[i] = source[j]!
    times[i] = raw[j]!
  }
  return { source, events, times, id: nextId++, stable: 0, stableFrom: 0 }
}

/**
 * The index for `source`, reusing `prev` when `source` only appends to what
 * `prev` was built from (the usual case as events stream in): new events are
 * merged in by binary search (nearly always at the end) instead of sorting
 * everything again. `prev`'s arrays are reused, so only the result is valid.
 */
export function updateTimeIndex(prev: TimeIndex | null, source: readonly StoredEvent[]): TimeIndex {
  if (!prev || prev.source === source) return prev ?? buildTimeIndex(source)
  const old = prev.source
  const n = old.length
  if (source.length < n || n === 0) return buildTimeIndex(source)
  for (let i = 0; i < n; i++) if (source[i] !== old[i]) return buildTimeIndex(source)
  const total = source.length
  let buffer = prev.times.buffer as ArrayBuffer
  if (buffer.byteLength < total * 8) {
    const grown = new Float64Array(Math.max(total, Math.ceil(n * 1.5), 1024))
    grown.set(prev.times)
    buffer = grown.buffer
  }
  const all = new Float64Array(buffer)
  const events = prev.events
  let length = n
  // the first position an insertion moved (appends move none)
  let stable = n
  for (let j = n; j < total; j++) {
    const event = source[j]!
    const t = timeOf(event)
    if (length === 0 || all[length - 1]! <= t) {
      all[length] = t
      events.push(event)
    } else {
      // insert after every event at the same time (ties keep seq order)
      const at = upperBound(all.subarray(0, length), t)
      if (at < stable) stable = at
      all.copyWithin(at + 1, at, length)
      all[at] = t
      events.splice(at, 0, event)
    }
    length++
  }
  return { source, events, times: all.subarray(0, length), id: nextId++, stable, stableFrom: prev.id }
}

/** First index whose time is >= t. */
export function lowerBound(times: Float64Array, t: number): number {
  let lo = 0
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (times[mid]! < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index whose time is > t. */
export function upperBound(times: Float64Array, t: number): number {
  let lo = 0
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (times[mid]! <= t) lo = mid + 1
    else hi = mid
  }
  return lo
}

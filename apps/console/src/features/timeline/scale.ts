/** The visible time domain, epoch ms (from < to). */
export interface Domain {
  from: number
  to: number
}

export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

/** The narrowest and widest spans one can zoom to. */
export const MIN_SPAN = 5 * SECOND
export const MAX_SPAN = 400 * DAY

export function span(domain: Domain): number {
  return domain.to - domain.from
}

/** Time -> x (CSS px from the left of the plot). */
export function timeToX(domain: Domain, width: number, t: number): number {
  return ((t - domain.from) / (domain.to - domain.from)) * width
}

/** x (CSS px from the left of the plot) -> time. */
export function xToTime(domain: Domain, width: number, x: number): number {
  return domain.from + (x / width) * (domain.to - domain.from)
}

function clampSpan(s: number): number {
  return Math.min(MAX_SPAN, Math.max(MIN_SPAN, s))
}

/**
 * Zoom by `factor` (< 1 zooms in, > 1 out) keeping time `anchor` at the same
 * pixel. The span is clamped to [MIN_SPAN, MAX_SPAN].
 */
export function zoomAround(domain: Domain, factor: number, anchor: number): Domain {
  const old = span(domain)
  const next = clampSpan(old * factor)
  const ratio = old > 0 ? (anchor - domain.from) / old : 1
  const from = anchor - ratio * next
  return { from, to: from + next }
}

/** Shift the domain by `dt` ms (positive: later). */
export function pan(domain: Domain, dt: number): Domain {
  return { from: domain.from + dt, to: domain.to + dt }
}

/** Shift by a pixel distance (positive dx drags content right, i.e. shows earlier time). */
export function panPixels(domain: Domain, width: number, dx: number): Domain {
  return pan(domain, (-dx / width) * span(domain))
}

export type TickUnit = 'day' | 'hour' | 'minute' | 'second'

export interface Tick {
  t: number
  label: string
  /** A day boundary (or an hour boundary at minute/second zoom): drawn stronger. */
  major: boolean
}

export interface Ticks {
  step: number
  unit: TickUnit
  ticks: Tick[]
}

/** Nice UTC-aligned steps, each a divisor-friendly multiple of its unit. */
export const TICK_STEPS: readonly number[] = [
  1 * SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  1 * MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  1 * HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  1 * DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  60 * DAY,
]

/** The smallest nice step at least `minMs` long (the largest one if none is). */
export function niceStep(minMs: number, steps: readonly number[] = TICK_STEPS): number {
  for (const step of steps) if (step >= minMs) return step
  return steps[steps.length - 1]!
}

export function unitOf(step: number): TickUnit {
  if (step >= DAY) return 'day'
  if (step >= HOUR) return 'hour'
  if (step >= MINUTE) return 'minute'
  return 'second'
}

/** Which ticks are drawn stronger: the next unit up's boundaries. */
const MAJOR_EVERY: Record<TickUnit, number> = { day: 7 * DAY, hour: DAY, minute: HOUR, second: MINUTE }

const pad = (n: number) => String(n).padStart(2, '0')

/** A UTC label for a tick at `t` for the unit in use. */
export function tickLabel(t: number, unit: TickUnit): string {
  const d = new Date(t)
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
  const midnight = t % DAY === 0
  switch (unit) {
    case 'day':
      return date
    case 'hour':
    case 'minute':
      return midnight ? `${date.slice(5)} ${hm}` : hm
    case 'second':
      return midnight ? `${date.slice(5)} ${hm}:${pad(d.getUTCSeconds())}` : `${hm}:${pad(d.getUTCSeconds())}`
  }
}

/**
 * Ticks for a domain drawn `width` px wide, at least `minGapPx` apart, on UTC
 * boundaries (every step divides a day or is whole days from the epoch).
 */
export function ticks(domain: Domain, width: number, minGapPx = 90): Ticks {
  const msPerPx = span(domain) / Math.max(1, width)
  const step = niceStep(msPerPx * minGapPx)
  const unit = unitOf(step)
  const out: Tick[] = []
  const first = Math.ceil(domain.from / step) * step
  for (let t = first; t <= domain.to && out.length < 1000; t += step) {
    out.push({ t, label: tickLabel(t, unit), major: t % MAJOR_EVERY[unit] === 0 })
  }
  return { step, unit, ticks: out }
}

/** ISO string of a time, for test hooks. */
export function iso(t: number): string {
  return new Date(t).toISOString()
}

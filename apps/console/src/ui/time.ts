/**
 * Time in the console is UTC, 24-hour, labelled Z, whatever the browser's zone: one module
 * formats instants for display and for the time fields, and parses what a person typed into
 * one (`YYYY-MM-DD HH:MMZ`, seconds optional) as the UTC instant it names.
 */

/** The pattern a time field asks for. */
export const UTC_PATTERN = 'YYYY-MM-DD HH:MMZ'
/** The same, with seconds. */
export const UTC_PATTERN_SECONDS = 'YYYY-MM-DD HH:MM:SSZ'

/** Epoch ms as `2026-11-26 08:00Z` (or `2026-11-26 08:00:05Z` with seconds). */
export function formatUtc(ms: number, options: { seconds?: boolean } = {}): string {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, options.seconds ? 19 : 16)}Z`
}

export type ParsedUtc = { ok: true; ms: number } | { ok: false; error: string }

const SHAPE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?\s*(?:Z|UTC)?$/i

/**
 * A time typed into a field, as UTC: `2026-11-26 08:00Z`, `2026-11-26 08:00:05Z`, or the same
 * with `T` between date and time, or without the `Z` (the field says UTC). Never local time.
 */
export function parseUtc(text: string): ParsedUtc {
  const value = text.trim()
  if (value === '') return { ok: false, error: `Enter a UTC time as ${UTC_PATTERN}.` }
  const m = SHAPE.exec(value)
  if (!m) return { ok: false, error: `Not a UTC time: write it as ${UTC_PATTERN}, 24-hour (e.g. 2026-11-26 14:30Z).` }
  const [year, month, day, hour, minute, second] = m.slice(1).map((p) => (p === undefined ? 0 : Number(p))) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const ms = Date.UTC(year, month - 1, day, hour, minute, second)
  const d = new Date(ms)
  if (
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month - 1 ||
    d.getUTCDate() !== day
  )
    return { ok: false, error: `No such time: ${value} (${UTC_PATTERN}, 24-hour, UTC).` }
  return { ok: true, ms }
}

/** An optional time field: empty is `undefined`; otherwise the parsed instant or why not. */
export function parseOptionalUtc(text: string): { ok: true; ms: number | undefined } | { ok: false; error: string } {
  return text.trim() === '' ? { ok: true, ms: undefined } : parseUtc(text)
}

/** Field schemas shared by events and commands. */
import { z } from 'zod'

/**
 * Characters no name, label or id may hold: C0 and C1 controls and DEL (`Cc`; U+0000 among them:
 * PostgreSQL text cannot hold it), the bidirectional overrides (U+202D LRO, U+202E RLO: they make a
 * name read as another) and lone surrogates (`Cs`: no UTF-8 for them). With the `u` flag a paired
 * surrogate is one code point, so only a lone one matches. Embeddings and isolates (U+202A, U+202B,
 * U+2066-2068, closed by U+202C and U+2069), which right-to-left names pasted from other programs
 * carry, are allowed when each is closed in the name (`bidiBalanced`).
 */
const UNSAFE_IN_NAMES = /[\p{Cc}\u202d\u202e]|\p{Cs}/u
/**
 * What free text may not hold: U+0000 (no store keeps it as text) and lone surrogates. Other
 * controls (a form feed from a PDF, a vertical tab from a slide, ANSI colours in a forwarded log
 * line) are the sender's text, kept as sent.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is the one control character it refuses
const UNSAFE_IN_TEXT = /\u0000|\p{Cs}/u

export const UNSAFE_NAME_MESSAGE =
  'must not contain control characters (U+0000 among them), bidirectional overrides (U+202D, U+202E), an embedding or isolate left open, or lone surrogates'
export const UNSAFE_TEXT_MESSAGE = 'must not contain U+0000 or lone surrogates'

/** Whether every bidirectional embedding and isolate in the value is closed, in order. */
function bidiBalanced(value: string): boolean {
  const open: string[] = []
  for (const ch of value) {
    if (ch === '\u202a' || ch === '\u202b') open.push('embedding')
    else if (ch === '\u2066' || ch === '\u2067' || ch === '\u2068') open.push('isolate')
    else if (ch === '\u202c' && open.pop() !== 'embedding') return false
    else if (ch === '\u2069' && open.pop() !== 'isolate') return false
  }
  return open.length === 0
}

/** Whether a name, label, username or id holds a character none may (`UNSAFE_IN_NAMES`, `bidiBalanced`). */
export function unsafeInName(value: string): boolean {
  return UNSAFE_IN_NAMES.test(value) || !bidiBalanced(value)
}

/** Whether free text holds a character it may not (`UNSAFE_IN_TEXT`). */
export function unsafeInText(value: string): boolean {
  return UNSAFE_IN_TEXT.test(value)
}

/** What a required name or text that is empty (or only spaces) is told, in the words of a person. */
const EMPTY_MESSAGE = 'must not be empty'

/** A single-line name, label, display name or code: trimmed, 1 to `max` characters, none of `unsafeInName`. */
export const plainName = (max: number) =>
  z
    .string()
    .trim()
    .min(1, EMPTY_MESSAGE)
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !unsafeInName(value), UNSAFE_NAME_MESSAGE)

/** An id chosen by a sender (incident, network, task, user...): 1 to 200 characters, none of `unsafeInName`. */
export const id = plainName(200)
/** Free text of 1 to `max` characters, trimmed; anything but U+0000 and lone surrogates. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, EMPTY_MESSAGE)
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !unsafeInText(value), UNSAFE_TEXT_MESSAGE)

/** The earliest and latest instants a timestamp may name (in UTC): both stores and every export can hold them. */
export const MIN_TIMESTAMP = '0001-01-01T00:00:00.000Z'
export const MAX_TIMESTAMP = '9999-12-31T23:59:59.999Z'
const MIN_MS = Date.parse(MIN_TIMESTAMP)
const MAX_MS = Date.parse(MAX_TIMESTAMP)

/** Whether an ISO 8601 date-time names an instant from `MIN_TIMESTAMP` to `MAX_TIMESTAMP` (in UTC). */
export function timestampInRange(value: string): boolean {
  const ms = Date.parse(value)
  return !Number.isNaN(ms) && ms >= MIN_MS && ms <= MAX_MS
}

/**
 * An ISO 8601 date-time with an offset, naming an instant from 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999Z in UTC (`9999-12-31T23:59:59-23:59` is in the year 10000 there).
 */
export const timestamp = z.iso
  .datetime({ offset: true })
  // text that is no date-time at all is the format's issue alone
  .refine(
    (value) => Number.isNaN(Date.parse(value)) || timestampInRange(value),
    `must be from ${MIN_TIMESTAMP} to ${MAX_TIMESTAMP} (in UTC)`,
  )

/** Which of the two times a bookmark's moment or range is on. */
export const BookmarkClock = z.enum(['recorded', 'occurred'])
export type BookmarkClock = z.infer<typeof BookmarkClock>

/** A bookmark's moment (`at`) or range (`from`, `to`): the fields of `bookmark.save` and `bookmark.saved`. */
export const bookmarkFields = {
  title: text(300),
  note: text(2000).optional(),
  clock: BookmarkClock,
  at: timestamp.optional(),
  from: timestamp.optional(),
  to: timestamp.optional(),
}

/** Field schemas shared by events and commands. */
import { z } from 'zod'

/**
 * Characters no name, label or id may hold: C0 and C1 controls and DEL (`Cc`; U+0000 among them:
 * PostgreSQL text cannot hold it), the bidirectional overrides and isolates (U+202A-202E,
 * U+2066-2069: they make a name read as another) and lone surrogates (`Cs`: no UTF-8 for them).
 * With the `u` flag a paired surrogate is one code point, so only a lone one matches.
 */
const UNSAFE_IN_NAMES = /[\p{Cc}\u202a-\u202e\u2066-\u2069]|\p{Cs}/u
/** What free text may not hold: controls (`Cc`: C0, DEL, C1) other than tab, line feed and carriage return; lone surrogates. */
const UNSAFE_IN_TEXT = /(?![\t\n\r])\p{Cc}|\p{Cs}/u

export const UNSAFE_NAME_MESSAGE =
  'must not contain control characters (U+0000 among them), bidirectional overrides or lone surrogates'
export const UNSAFE_TEXT_MESSAGE =
  'must not contain control characters other than tab and line breaks (U+0000 among them) or lone surrogates'

/** Whether a name, label, username or id holds a character none may (`UNSAFE_IN_NAMES`). */
export function unsafeInName(value: string): boolean {
  return UNSAFE_IN_NAMES.test(value)
}

/** Whether free text holds a character it may not (`UNSAFE_IN_TEXT`). */
export function unsafeInText(value: string): boolean {
  return UNSAFE_IN_TEXT.test(value)
}

/** A single-line name, label, display name or code: trimmed, 1 to `max` characters, none of `unsafeInName`. */
export const plainName = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !unsafeInName(value), UNSAFE_NAME_MESSAGE)

/** An id chosen by a sender (incident, network, task, user...): 1 to 200 characters, none of `unsafeInName`. */
export const id = plainName(200)
/** Free text of 1 to `max` characters, trimmed; line breaks and tabs allowed, other controls not. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
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

/** Field schemas shared by events and commands. */
import { z } from 'zod'

/** An id chosen by a sender (incident, network, task, user...): 1 to 200 characters. */
export const id = z.string().trim().min(1).max(200)
/** Free text of 1 to `max` characters, trimmed. */
export const text = (max: number) => z.string().trim().min(1).max(max)
/** An ISO 8601 date-time with an offset. */
export const timestamp = z.iso.datetime({ offset: true })

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

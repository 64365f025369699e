/**
 * The REST replies both ends share (docs/api.md): the server builds them with these types and the
 * console reads them with these schemas, so neither end guesses the other's shape.
 */
import { z } from 'zod'
import { ERROR_CODES, type ErrorBody } from './errors.ts'
import { type StoredEvent, Tlp } from './events.ts'
import { Role } from './viewer.ts'

/** The error body of every refusal: REST `{ error }` and socket acks `{ ok: false, error }`. */
export const ErrorBodySchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.unknown().optional(),
})

/**
 * Every REST refusal: `{ error }`; a command's `conflict` adds `current`, the target as it is
 * now (`Current` on the server: the incident or the task, shaped as in `GET /api/v1/state`).
 */
export interface ErrorReply<Current = unknown> {
  error: ErrorBody
  current?: Current
}

export const ErrorReplySchema = z.object({ error: ErrorBodySchema, current: z.unknown().optional() })

export const CALLER_KINDS = ['session', 'api', 'display'] as const
export type CallerKind = (typeof CALLER_KINDS)[number]

/** `GET /api/v1/session` (and `POST` on a sign-in): who the server says the caller is. */
export const SessionReply = z.object({
  user: z.string(),
  /** The person's name (a static token's is its user). */
  displayName: z.string().optional(),
  organisation: z.string(),
  nation: z.string(),
  roles: z.array(Role),
  /** How the caller authenticated: a browser session (cookie), an API token or a display token. */
  kind: z.enum(CALLER_KINDS).optional(),
  /** Display tokens: the wall preset they are held to. */
  preset: z.string().optional(),
  /** Display tokens: the highest TLP they may see [V9]. */
  tlpCeiling: Tlp.optional(),
  /** Sessions only: when the session ends. */
  expiresAt: z.string().optional(),
  /** Viewing as another audience [V11]: what it names (`organisation` or `community`, and its id). */
  viewingAs: z.object({ kind: z.enum(['organisation', 'community']), id: z.string() }).optional(),
})
export type SessionReply = z.infer<typeof SessionReply>

/** `GET /api/v1/events`: the caller's visible events, and where to continue. */
export interface EventPageReply {
  events: StoredEvent[]
  /** Pass as `after` to continue; it moves past events the caller may not see. */
  next: number
  head: number
}

/** The error family's body of a reply (`{ error: { code, message, details? } }`), or undefined when it has none. */
export function errorBodyOf(reply: unknown): ErrorBody | undefined {
  const parsed = ErrorReplySchema.safeParse(reply)
  if (!parsed.success) return undefined
  const { code, message, details } = parsed.data.error
  return details === undefined ? { code, message } : { code, message, details }
}

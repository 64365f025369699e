/**
 * The REST replies both ends share (docs/api.md): the server builds them with these types and the
 * console reads them with these schemas, so neither end guesses the other's shape.
 */
import { z } from 'zod'
import { ERROR_CODES, type ErrorBody } from './errors.ts'
import { Marking, type StoredEvent, Tlp } from './events.ts'
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
  /** Sessions only: when it was signed in (the start of a shift handed over), and when it ends. */
  startedAt: z.string().optional(),
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

// ---------------------------------------------------------------------------- ingest

/** One event of a `POST /api/v1/events`, as the log took it. */
export const AppendResultReply = z.object({
  id: z.uuid(),
  /**
   * Its seq in the log; absent when the caller may not see the event (a relay posting for another
   * organisation under a marking that leaves its own out): a seq says where the log stands [D14].
   */
  seq: z.number().int().min(1).optional(),
  /** It was in the log already, with the same content [L2]. */
  duplicate: z.boolean(),
})
export type AppendResultReply = z.infer<typeof AppendResultReply>

/** `POST /api/v1/events`: one result per event posted, in order (201, or 200 when every one was a duplicate). */
export const IngestReply = z.object({ results: z.array(AppendResultReply) })
export type IngestReply = z.infer<typeof IngestReply>

// ---------------------------------------------------------------------------- imports

/** One event an import did not take, and why: the error body ingest gave (`code`, `message`). */
export const ImportRefusal = z.object({ id: z.string(), type: z.string(), code: z.string(), message: z.string() })
export type ImportRefusal = z.infer<typeof ImportRefusal>

/** `POST /api/v1/import/stix`: what the bundle became, what served, what was left out, and what the log took. */
export const StixImportReply = z.object({
  /** The marking of the objects that had no TLP (`defaultTlp`). */
  defaultMarking: Marking,
  /** The objects that became events. */
  created: z.array(z.object({ stixId: z.string(), type: z.string(), eventIds: z.array(z.string()) })),
  /** The objects that served the others: markings, authors, where sighted, locations, links, observables. */
  used: z.array(z.object({ stixId: z.string(), type: z.string(), as: z.string() })),
  /** The objects left out, and why. */
  skipped: z.array(z.object({ stixId: z.string().optional(), type: z.string(), reason: z.string() })),
  /** Objects with no TLP of their own: they took `defaultMarking`. */
  defaulted: z.array(z.string()),
  /** One per event the log took, in order (a duplicate too). */
  results: z.array(AppendResultReply),
  /** The events the log did not take. */
  refused: z.array(ImportRefusal),
})
export type StixImportReply = z.infer<typeof StixImportReply>

/** `POST /api/v1/import/misp`: the incidents and advisories the MISP events became, what was left out, and what the log took. */
export const MispImportReply = z.object({
  defaultMarking: Marking,
  created: z.array(
    z.object({
      /** The MISP event's uuid. */
      uuid: z.string(),
      kind: z.enum(['incident', 'advisory']),
      /** The incident or advisory id: `misp-<uuid>`. */
      id: z.string(),
      /** The ids of the events made for it, report first. */
      eventIds: z.array(z.string()),
      /** What the importer decided that a person should know (unknown organisation, narrowed source...). */
      notes: z.array(z.string()),
    }),
  ),
  skipped: z.array(
    z.object({
      uuid: z.string().optional(),
      /** The MISP event it belongs to (for attributes, objects and reports). */
      event: z.string().optional(),
      what: z.enum(['event', 'attribute', 'object', 'report', 'manifest entry']),
      reason: z.string(),
    }),
  ),
  results: z.array(AppendResultReply),
  refused: z.array(ImportRefusal),
})
export type MispImportReply = z.infer<typeof MispImportReply>

// ---------------------------------------------------------------------------- accounts, tokens, the directory

/**
 * An account as the API answers it (`GET /api/v1/accounts`, `{ account }` replies): never a
 * password or its hash. The credential store's `Account` type is checked against it at compile time.
 */
export const AccountJson = z.object({
  /** Unique, lower case; also the viewer's `userId`. */
  username: z.string(),
  displayName: z.string(),
  organisation: z.string(),
  nation: z.string(),
  roles: z.array(Role),
  /** A disabled account cannot sign in, and its sessions and tokens are refused. */
  disabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type AccountJson = z.infer<typeof AccountJson>

/** A token without an owner: the service identity it acts as. */
export const ServicePrincipalJson = z.object({
  user: z.string(),
  organisation: z.string(),
  nation: z.string(),
  roles: z.array(Role),
  /** Other organisations it may post for (a relay). */
  sources: z.array(z.string()),
})

export const TOKEN_KINDS = ['api', 'display'] as const

/**
 * An API or display token as the API answers it (`GET /api/v1/tokens`, `{ token }` replies): never
 * its secret, nor the secret's hash. The credential store's `TokenRecord` type is checked against it.
 */
export const TokenJson = z.object({
  id: z.string(),
  label: z.string(),
  kind: z.enum(TOKEN_KINDS),
  /** The account it acts as, or null for a service principal. */
  owner: z.string().nullable(),
  /** The identity of a token without an owner. */
  service: ServicePrincipalJson.nullable(),
  /** Display tokens: the console preset the wall shows. */
  preset: z.string().nullable(),
  /** Display tokens: the highest TLP the wall may receive [V9]; null: no ceiling. */
  tlpCeiling: Tlp.nullable(),
  /** Who made it (a username, a static token's user, `cli:<login>`): to an admin, or to the one who made it. */
  createdBy: z.string().optional(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  /** When the token stops being accepted (ISO 8601); null: it never expires. */
  expiresAt: z.string().nullable(),
})
export type TokenJson = z.infer<typeof TokenJson>

export const ORGANISATION_KINDS = ['ally_cert', 'partner_country', 'industry', 'alliance_body'] as const

/** An organisation of the directory (`GET /api/v1/directory`, `{ organisation }` replies). */
export const OrganisationJson = z.object({
  /** Lower case: letters, digits, `-`, `_`, `.`, starting with a letter or digit; 1 to 64 (`cert-ee`). */
  id: z.string(),
  name: z.string(),
  /** An ISO 3166 alpha-2 code (`EE`) or an alliance body id (`ALLIANCE`). */
  nation: z.string(),
  kind: z.enum(ORGANISATION_KINDS),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type OrganisationJson = z.infer<typeof OrganisationJson>

/** A community of the directory (`GET /api/v1/directory`, `{ community }` replies). */
export const CommunityJson = z.object({
  id: z.string(),
  name: z.string(),
  /** Organisation ids, sorted, unique. */
  members: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type CommunityJson = z.infer<typeof CommunityJson>

/**
 * True when `A` and `B` are each assignable to the other and name the same keys (a field only one
 * of them has, optional or not, is a difference): `const X: Agree<A, B> = true` fails to compile
 * otherwise (`pnpm typecheck`).
 */
export type Agree<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [keyof A] extends [keyof B]
      ? [keyof B] extends [keyof A]
        ? true
        : false
      : false
    : false
  : false

// ---------------------------------------------------------------------------- partner feeds

/** How Watchfloor authenticates to a feed's TAXII server: never a secret, only the variable naming it. */
export const FeedAuthReply = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('bearer'), secretEnv: z.string() }),
  z.object({ kind: z.literal('basic'), username: z.string(), secretEnv: z.string() }),
])
export type FeedAuthReply = z.infer<typeof FeedAuthReply>

/** Where polling a feed has got to (times ISO 8601 or null). */
export const FeedStateReply = z.object({
  /** The last `X-TAXII-Date-Added-Last` imported, sent back as `added_after`. */
  cursor: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  lastSuccessAt: z.string().nullable(),
  /** Why the last attempt failed; null after a success. */
  lastError: z.string().nullable(),
  consecutiveFailures: z.number().int(),
  objectsImported: z.number().int(),
  eventsStored: z.number().int(),
  nextPollAt: z.string().nullable(),
})
export type FeedStateReply = z.infer<typeof FeedStateReply>

/** A partner feed pulled in (`GET /api/v1/feeds/:id` `{ feed }`), with its state (null before the first poll). */
export const FeedReply = z.object({
  id: z.string(),
  label: z.string(),
  url: z.string(),
  apiRoot: z.string(),
  collectionId: z.string(),
  /** The directory organisation the feed speaks for (its events are sourced to it). */
  organisation: z.string(),
  auth: FeedAuthReply,
  pollSeconds: z.number().int(),
  defaultTlp: Tlp,
  enabled: z.boolean(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  state: FeedStateReply.nullable(),
})
export type FeedReply = z.infer<typeof FeedReply>

/** `GET /api/v1/feeds`: the feeds the caller may read (an admin: all; anyone else: its organisation's). */
export const FeedsReply = z.object({ feeds: z.array(FeedReply) })
export type FeedsReply = z.infer<typeof FeedsReply>

/** `GET /api/v1/feeds/:id`, `POST /api/v1/feeds`, `PATCH /api/v1/feeds/:id`: one feed. */
export const OneFeedReply = z.object({ feed: FeedReply })
export type OneFeedReply = z.infer<typeof OneFeedReply>

/** What one poll did (`POST /api/v1/feeds/:id/poll` `{ outcome, feed }`). */
export const PollOutcomeReply = z.object({
  /** The objects the partner served. */
  objects: z.number().int(),
  /** Of them, those that became events the log took as new. */
  imported: z.number().int(),
  /** The events the log took as new. */
  stored: z.number().int(),
  /** Events the ingest refused, and objects not released to the feed's organisation. */
  refused: z.number().int(),
  /** Objects left out before the log: not valid STIX, RED, a marking that cannot be read, nothing to map them to. */
  skipped: z.number().int(),
  pages: z.number().int(),
  /** Why, each reason once with its count and the first id it was given for (at most 50). */
  reasons: z.array(
    z.object({
      kind: z.enum(['skipped', 'refused']),
      reason: z.string(),
      count: z.number().int(),
      first: z.string().optional(),
    }),
  ),
})
export type PollOutcomeReply = z.infer<typeof PollOutcomeReply>

/** `POST /api/v1/feeds/:id/poll`: what the poll did, and the feed with its state since. */
export const PollReply = z.object({ outcome: PollOutcomeReply, feed: FeedReply })
export type PollReply = z.infer<typeof PollReply>

/** The ways partners pull from this floor: TAXII 2.1 (`/taxii2/`) and the MISP feed (`/misp/feed/`). */
export const FEED_OUT_CHANNELS = ['taxii', 'misp'] as const
export const FeedOutChannel = z.enum(FEED_OUT_CHANNELS)
export type FeedOutChannel = z.infer<typeof FeedOutChannel>

/**
 * One organisation's pulls over one channel (feeds out): how many, how many were refused or failed,
 * the objects served, the last pull, the last success and the last error (times ISO 8601).
 */
export const FeedOutActivity = z.object({
  /** The organisation of the callers that pulled. */
  organisation: z.string(),
  channel: FeedOutChannel,
  /** Every pull by an authenticated caller, refused ones included. */
  pulls: z.number().int(),
  /** Pulls answered with an error (4xx or 5xx). */
  failedPulls: z.number().int(),
  /** Objects served over all pulls: STIX objects or manifest records (TAXII), MISP events or hash rows (MISP). */
  objectsServed: z.number().int(),
  /** Objects served by the last pull (0 when it was refused). */
  lastPullObjects: z.number().int(),
  lastPullAt: z.string(),
  /** Null when no pull ever succeeded. */
  lastSuccessAt: z.string().nullable(),
  /** The last refused or failed pull: its status, the answer's message, when; null when none was. */
  lastError: z.object({ status: z.number().int(), message: z.string(), at: z.string() }).nullable(),
})
export type FeedOutActivity = z.infer<typeof FeedOutActivity>

/** `GET /api/v1/feeds/out`: the pulls the caller may see (an admin: every organisation's; else its own). */
export const FeedsOutReply = z.object({ activity: z.array(FeedOutActivity) })
export type FeedsOutReply = z.infer<typeof FeedsOutReply>

import {
  FEED_OUT_CHANNELS,
  type FeedOutActivity,
  type FeedOutChannel,
  MAX_TIMESTAMP,
  MIN_TIMESTAMP,
  type Role,
  TLP_LEVELS,
  type Tlp,
  timestampInRange,
  UNSAFE_NAME_MESSAGE,
  unsafeInName,
  WatchfloorError,
} from '@watchfloor/protocol'
import {
  type Account,
  type Community,
  type CommunityPatch,
  FEED_AUTH_KINDS,
  type Feed,
  type FeedAuth,
  type FeedOutPull,
  type FeedPatch,
  type FeedState,
  type NewCommunity,
  type NewFeed,
  type NewOrganisation,
  type NewToken,
  ORGANISATION_KINDS,
  type Organisation,
  type OrganisationKind,
  type OrganisationPatch,
  type ServicePrincipal,
  type SessionRecord,
  type TokenKind,
  type TokenRecord,
} from './credentials.ts'

/** Rows as both stores read them: SQLite gives text and integers, PostgreSQL Dates and booleans. */
type Time = string | Date
const iso = (time: Time): string => (typeof time === 'string' ? time : time.toISOString())
const isoOrNull = (time: Time | null): string | null => (time === null ? null : iso(time))

export interface AccountRow {
  username: string
  display_name: string
  organisation: string
  nation: string
  roles: string
  disabled: number | boolean
  created_at: Time
  updated_at: Time
}

export function accountOf(row: AccountRow): Account {
  return {
    username: row.username,
    displayName: row.display_name,
    organisation: row.organisation,
    nation: row.nation,
    roles: JSON.parse(row.roles) as Role[],
    disabled: Boolean(row.disabled),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  }
}

export interface TokenRow {
  id: string
  label: string
  kind: string
  owner: string | null
  service_user: string | null
  service_organisation: string | null
  service_nation: string | null
  service_roles: string | null
  service_sources: string | null
  preset: string | null
  tlp_ceiling: string | null
  created_by: string
  created_at: Time
  last_used_at: Time | null
  revoked_at: Time | null
  expires_at: Time | null
}

/** The columns of a token row that may leave the store: never `secret_hash`. */
export const TOKEN_COLUMNS =
  'id, label, kind, owner, service_user, service_organisation, service_nation, service_roles, service_sources, preset, tlp_ceiling, created_by, created_at, last_used_at, revoked_at, expires_at'

/** The columns a new token is written with, in the order of `newTokenValues`. */
export const NEW_TOKEN_COLUMNS =
  'id, secret_hash, label, kind, owner, service_user, service_organisation, service_nation, service_roles, service_sources, preset, tlp_ceiling, created_by, created_at, expires_at'

/**
 * A new token's values in the order of `NEW_TOKEN_COLUMNS`, with the times as the store writes
 * them (SQLite text, PostgreSQL a Date or the ISO text it casts).
 */
export function newTokenValues<T>(token: NewToken, createdAt: T, expiresAt: string | null): unknown[] {
  const { service } = token
  return [
    token.id,
    token.secretHash,
    token.label,
    token.kind,
    token.owner,
    service?.user ?? null,
    service?.organisation ?? null,
    service?.nation ?? null,
    service ? JSON.stringify(service.roles) : null,
    service ? JSON.stringify(service.sources) : null,
    token.preset,
    token.tlpCeiling,
    token.createdBy,
    createdAt,
    expiresAt,
  ]
}

export const ACCOUNT_COLUMNS = 'username, display_name, organisation, nation, roles, disabled, created_at, updated_at'

export function tokenOf(row: TokenRow): TokenRecord {
  const service: ServicePrincipal | null =
    row.service_user === null
      ? null
      : {
          user: row.service_user,
          organisation: row.service_organisation ?? '',
          nation: row.service_nation ?? '',
          roles: JSON.parse(row.service_roles ?? '[]') as Role[],
          sources: JSON.parse(row.service_sources ?? '[]') as string[],
        }
  return {
    id: row.id,
    label: row.label,
    kind: row.kind as TokenKind,
    owner: row.owner,
    service,
    preset: row.preset,
    tlpCeiling: row.tlp_ceiling as Tlp | null,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    lastUsedAt: isoOrNull(row.last_used_at),
    revokedAt: isoOrNull(row.revoked_at),
    expiresAt: isoOrNull(row.expires_at),
  }
}

export interface SessionRow {
  id_hash: string
  account: string
  created_at: Time
  expires_at: Time
}

export function sessionOf(row: SessionRow): SessionRecord {
  return {
    idHash: row.id_hash,
    account: row.account,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
  }
}

/** A token must act as exactly one of an account or a service principal. */
export function checkTokenIdentity(token: { owner: string | null; service: ServicePrincipal | null }): void {
  if ((token.owner === null) === (token.service === null))
    throw new WatchfloorError('validation', 'a token belongs to an account (owner) or a service principal, not both')
}

/**
 * ISO text of a time given as an ISO string: checked, so both stores agree on what they keep (a
 * time from 0001 to 9999 in UTC, as PostgreSQL keeps it and ISO text writes it in four digits).
 */
export function isoTime(text: string, name: string): string {
  const time = new Date(text)
  if (Number.isNaN(time.getTime())) throw new WatchfloorError('validation', `${name} is not a time: ${text}`)
  if (!timestampInRange(time.toISOString()))
    throw new WatchfloorError('validation', `${name} is not from ${MIN_TIMESTAMP} to ${MAX_TIMESTAMP}: ${text}`, {
      issues: [{ path: name, message: `must be from ${MIN_TIMESTAMP} to ${MAX_TIMESTAMP} (in UTC)` }],
    })
  return time.toISOString()
}

/** `isoTime`, or null for no time (a token that never expires). */
export function isoTimeOrNull(text: string | null | undefined, name: string): string | null {
  return text === null || text === undefined ? null : isoTime(text, name)
}

export interface OrganisationRow {
  id: string
  name: string
  nation: string
  kind: string
  created_at: Time
  updated_at: Time
}

export const ORGANISATION_COLUMNS = 'id, name, nation, kind, created_at, updated_at'

export function organisationOf(row: OrganisationRow): Organisation {
  return {
    id: row.id,
    name: row.name,
    nation: row.nation,
    kind: row.kind as OrganisationKind,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  }
}

/** A community with its members: a JSON array from SQLite, an array from PostgreSQL, in any order. */
export interface CommunityRow {
  id: string
  name: string
  members: string | string[] | null
  created_at: Time
  updated_at: Time
}

export function communityOf(row: CommunityRow): Community {
  const members = typeof row.members === 'string' ? (JSON.parse(row.members) as string[]) : (row.members ?? [])
  return {
    id: row.id,
    name: row.name,
    members: [...members].sort(),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  }
}

/** What keeps an organisation from being deleted; up to `USES_NAMED` of each. */
export interface OrganisationUses {
  communities: string[]
  accounts: string[]
  /** Service tokens that act for it (an account's tokens count through their account). */
  tokens: string[]
  /** Feeds that speak for it. */
  feeds: string[]
}

export const USES_NAMED = 10

/** A `conflict` naming what uses the organisation, or null when nothing does. */
export function organisationInUse(id: string, uses: OrganisationUses): WatchfloorError | null {
  const named = [
    ...uses.communities.map((community) => `community ${community}`),
    ...uses.accounts.map((account) => `account ${account}`),
    ...uses.tokens.map((token) => `service token ${token}`),
    ...uses.feeds.map((feed) => `feed ${feed}`),
  ]
  if (named.length === 0) return null
  return new WatchfloorError('conflict', `organisation ${id} is in use by ${named.join(', ')}`, uses)
}

/** Lower case letters, digits, `-`, `_`, `.`; a letter or digit first (never `.` or `..`); 1 to 64. */
const DIRECTORY_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/
/** An ISO 3166 alpha-2 code (`EE`) or an alliance body id (`ALLIANCE`): upper case, digits, `-`, a letter first; 2 to 32. */
const NATION = /^[A-Z][A-Z0-9-]{1,31}$/
const NAME_MAX = 200

const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value))

/** An organisation's or community's id, checked, so both stores refuse the same ones. */
export function directoryId(value: unknown, name: string): string {
  if (typeof value !== 'string' || !DIRECTORY_ID.test(value))
    throw new WatchfloorError(
      'validation',
      `${name} is not 1 to 64 lower-case letters, digits, '-', '_' or '.' starting with a letter or digit: ${shown(value)}`,
    )
  return value
}

function nationOf(value: unknown): string {
  if (typeof value !== 'string' || !NATION.test(value))
    throw new WatchfloorError(
      'validation',
      `nation is not an ISO 3166 alpha-2 code or an alliance body id (2 to 32 upper-case letters, digits or '-'): ${shown(value)}`,
    )
  return value
}

function kindOf(value: unknown): OrganisationKind {
  if (!(ORGANISATION_KINDS as readonly unknown[]).includes(value))
    throw new WatchfloorError('validation', `kind is not one of ${ORGANISATION_KINDS.join(', ')}: ${shown(value)}`)
  return value as OrganisationKind
}

/** A display name (or a feed's label): trimmed, 1 to 200 characters, none a control character (`unsafeInName`). */
function nameOf(value: unknown, field = 'name'): string {
  const name = typeof value === 'string' ? value.trim() : ''
  if (name.length === 0 || name.length > NAME_MAX)
    throw new WatchfloorError('validation', `${field} is not 1 to ${NAME_MAX} characters: ${shown(value)}`)
  if (unsafeInName(name))
    throw new WatchfloorError('validation', `${field} ${UNSAFE_NAME_MESSAGE}: ${shown(value)}`, {
      issues: [{ path: field, message: UNSAFE_NAME_MESSAGE }],
    })
  return name
}

/** Members as kept: valid ids, sorted, without repeats. */
function membersOf(value: unknown): string[] {
  if (!Array.isArray(value)) throw new WatchfloorError('validation', `members is not a list: ${shown(value)}`)
  return [...new Set(value.map((member) => directoryId(member, 'member')))].sort()
}

export function checkNewOrganisation(organisation: NewOrganisation): NewOrganisation {
  return {
    id: directoryId(organisation.id, 'id'),
    name: nameOf(organisation.name),
    nation: nationOf(organisation.nation),
    kind: kindOf(organisation.kind),
  }
}

export function checkOrganisationPatch(patch: OrganisationPatch): OrganisationPatch {
  const checked: OrganisationPatch = {}
  if (patch.name !== undefined) checked.name = nameOf(patch.name)
  if (patch.nation !== undefined) checked.nation = nationOf(patch.nation)
  if (patch.kind !== undefined) checked.kind = kindOf(patch.kind)
  return checked
}

export function checkNewCommunity(community: NewCommunity): NewCommunity {
  return {
    id: directoryId(community.id, 'id'),
    name: nameOf(community.name),
    members: membersOf(community.members),
  }
}

export function checkCommunityPatch(patch: CommunityPatch): CommunityPatch {
  const checked: CommunityPatch = {}
  if (patch.name !== undefined) checked.name = nameOf(patch.name)
  if (patch.members !== undefined) checked.members = membersOf(patch.members)
  return checked
}

/**
 * A `validation` error naming `members` and the first member that is no organisation, or null when
 * all are: the community is what the request is about, so a member that is not there is a bad
 * field, not a missing target.
 */
export function missingMember(members: readonly string[], existing: ReadonlySet<string>): WatchfloorError | null {
  const missing = members.filter((member) => !existing.has(member))
  if (missing.length === 0) return null
  const message = `no organisation ${missing[0]}: a member must be one`
  return new WatchfloorError('validation', message, { issues: [{ path: 'members', message }], missing })
}

/** What gives a principal its user id: an account, a token's service identity, a static token (`WATCHFLOOR_TOKENS`). */
export type UserIdHolder = 'account' | 'service token' | 'static token'

/**
 * A `conflict`: the user id is already a principal's of another organisation. A user id names one
 * person of one organisation everywhere (RED recipients and authors are user ids [V5]). Only an
 * admin or the operator makes an identity, and they see every organisation's accounts and tokens:
 * the refusal names the organisation that holds it, and what holds it.
 */
export function userIdTaken(userId: string, organisation: string, heldBy: UserIdHolder): WatchfloorError {
  const what = heldBy === 'account' ? 'an account' : `a ${heldBy}`
  return new WatchfloorError(
    'conflict',
    `user id ${userId} is taken by another organisation (${what} of ${organisation}): a user id names one person of one organisation`,
    { userId, organisation, heldBy },
  )
}

/** A `conflict`: the id is already an organisation's or a community's (ids are unique across both). */
export const idTaken = (id: string, by: 'organisation' | 'community'): WatchfloorError =>
  new WatchfloorError('conflict', `id ${id} is taken by ${by === 'organisation' ? 'an organisation' : 'a community'}`)

export interface FeedRow {
  id: string
  label: string
  url: string
  api_root: string
  collection_id: string
  organisation: string
  /** JSON text from SQLite, parsed jsonb from PostgreSQL. */
  auth: string | FeedAuth
  poll_seconds: number
  default_tlp: string
  enabled: number | boolean
  created_by: string
  created_at: Time
  updated_at: Time
}

export const FEED_COLUMNS =
  'id, label, url, api_root, collection_id, organisation, auth, poll_seconds, default_tlp, enabled, created_by, created_at, updated_at'

/** The auth as kept, its keys in one order whichever store read it. */
function authShape(auth: FeedAuth): FeedAuth {
  if (auth.kind === 'bearer') return { kind: 'bearer', secretEnv: auth.secretEnv }
  if (auth.kind === 'basic') return { kind: 'basic', username: auth.username, secretEnv: auth.secretEnv }
  return { kind: 'none' }
}

export function feedOf(row: FeedRow): Feed {
  return {
    id: row.id,
    label: row.label,
    url: row.url,
    apiRoot: row.api_root,
    collectionId: row.collection_id,
    organisation: row.organisation,
    auth: authShape(typeof row.auth === 'string' ? (JSON.parse(row.auth) as FeedAuth) : row.auth),
    pollSeconds: Number(row.poll_seconds),
    defaultTlp: row.default_tlp as Tlp,
    enabled: Boolean(row.enabled),
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  }
}

/** A feed's state; counts are bigint in PostgreSQL, which the driver gives as text. */
export interface FeedStateRow {
  feed_id: string
  cursor: string | null
  last_attempt_at: Time | null
  last_success_at: Time | null
  last_error: string | null
  consecutive_failures: number | string
  objects_imported: number | string
  events_stored: number | string
  next_poll_at: Time | null
}

/** The state's columns: never the lease's. */
export const FEED_STATE_COLUMNS =
  'feed_id, cursor, last_attempt_at, last_success_at, last_error, consecutive_failures, objects_imported, events_stored, next_poll_at'

export function feedStateOf(row: FeedStateRow): FeedState {
  return {
    feedId: row.feed_id,
    cursor: row.cursor,
    lastAttemptAt: isoOrNull(row.last_attempt_at),
    lastSuccessAt: isoOrNull(row.last_success_at),
    lastError: row.last_error,
    consecutiveFailures: Number(row.consecutive_failures),
    objectsImported: Number(row.objects_imported),
    eventsStored: Number(row.events_stored),
    nextPollAt: isoOrNull(row.next_poll_at),
  }
}

const POLL_SECONDS_MIN = 10
const POLL_SECONDS_MAX = 86_400
const URL_MAX = 2000
const TEXT_MAX = 200
/** Whitespace and control characters: never part of a URL, path, id or name we keep as given. */
const BLANK_OR_CONTROL = /[\s\p{Cc}]/u
/** `WATCHFLOOR_FEED_` then upper-case letters, digits or `_`; at most 128 in all. */
const SECRET_ENV = /^WATCHFLOOR_FEED_[A-Z0-9_]{1,112}$/
/** One path segment: unreserved, sub-delims, `:`, `@`, or percent-encoded (RFC 3986 `pchar`). */
const SEGMENT = "(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})+"
/** Segments joined by single slashes, with a slash before and after or not. */
const API_ROOT = new RegExp(`^/?${SEGMENT}(?:/${SEGMENT})*/?$`)
export const LEASE_MS_MAX = 86_400_000
export const FEED_ERROR_MAX = 2000

const invalid = (message: string) => new WatchfloorError('validation', message)

/**
 * The TAXII server's base URL, trimmed, as given: http or https, no credentials, query or fragment.
 * A refused URL that may hold credentials (an `@`) is not repeated in the message.
 */
function feedUrlOf(value: unknown): string {
  const text = typeof value === 'string' ? value.trim() : ''
  const said = text.includes('@') ? '(not shown: it may hold a secret)' : shown(value)
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    // not a URL
  }
  if (url !== undefined && (url.username !== '' || url.password !== ''))
    throw invalid('url must not carry credentials: name an environment variable in auth.secretEnv instead')
  if (
    url === undefined ||
    !/^https?:\/\/[^/]/i.test(text) ||
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    text.length > URL_MAX ||
    BLANK_OR_CONTROL.test(text)
  )
    throw invalid(`url is not an https:// or http:// URL of at most ${URL_MAX} characters: ${said}`)
  if (text.includes('?') || text.includes('#')) throw invalid(`url must have no query or fragment: ${said}`)
  return text
}

function apiRootOf(value: unknown): string {
  const text = typeof value === 'string' ? value.trim() : ''
  const segments = text.split('/').filter((segment) => segment !== '')
  if (text.length > TEXT_MAX || !API_ROOT.test(text) || segments.some((s) => s === '.' || s === '..'))
    throw invalid(
      `apiRoot is not a path of at most ${TEXT_MAX} characters (segments of URL path characters, no '.' or '..', e.g. 'api' or '/taxii2/api/'): ${shown(value)}`,
    )
  return text
}

function collectionIdOf(value: unknown): string {
  const text = typeof value === 'string' ? value.trim() : ''
  if (text.length === 0 || text.length > TEXT_MAX || BLANK_OR_CONTROL.test(text))
    throw invalid(`collectionId is not 1 to ${TEXT_MAX} characters without spaces: ${shown(value)}`)
  return text
}

function secretEnvOf(value: unknown): string {
  if (typeof value !== 'string' || !SECRET_ENV.test(value))
    throw invalid(
      `auth.secretEnv is not the name of an environment variable starting WATCHFLOOR_FEED_ (upper-case letters, digits, '_'; at most 128): ${shown(value)}`,
    )
  return value
}

/** A basic-auth user name (RFC 7617: no `:`), as given. */
function usernameOf(value: unknown): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > TEXT_MAX ||
    value.includes(':') ||
    /\p{Cc}/u.test(value)
  )
    throw invalid(`auth.username is not 1 to ${TEXT_MAX} characters without ':': ${shown(value)}`)
  return value
}

/** The auth as kept: only its known fields (never a secret, whatever else was sent). */
function authOf(value: unknown): FeedAuth {
  const auth = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>
  if (!(FEED_AUTH_KINDS as readonly unknown[]).includes(auth.kind))
    throw invalid(`auth.kind is not one of ${FEED_AUTH_KINDS.join(', ')}: ${shown(auth.kind)}`)
  if (auth.kind === 'bearer') return { kind: 'bearer', secretEnv: secretEnvOf(auth.secretEnv) }
  if (auth.kind === 'basic')
    return { kind: 'basic', username: usernameOf(auth.username), secretEnv: secretEnvOf(auth.secretEnv) }
  return { kind: 'none' }
}

function pollSecondsOf(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < POLL_SECONDS_MIN || value > POLL_SECONDS_MAX)
    throw invalid(`pollSeconds is not a whole number from ${POLL_SECONDS_MIN} to ${POLL_SECONDS_MAX}: ${shown(value)}`)
  return value
}

function tlpOf(value: unknown, field: string): Tlp {
  if (!(TLP_LEVELS as readonly unknown[]).includes(value))
    throw invalid(`${field} is not one of ${TLP_LEVELS.join(', ')}: ${shown(value)}`)
  return value as Tlp
}

function booleanOf(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${field} is not true or false: ${shown(value)}`)
  return value
}

/** A new feed, checked and trimmed, so both stores refuse the same ones and keep the same text. */
export function checkNewFeed(feed: NewFeed): Required<NewFeed> {
  return {
    id: directoryId(feed.id, 'id'),
    label: nameOf(feed.label, 'label'),
    url: feedUrlOf(feed.url),
    apiRoot: apiRootOf(feed.apiRoot),
    collectionId: collectionIdOf(feed.collectionId),
    organisation: directoryId(feed.organisation, 'organisation'),
    auth: authOf(feed.auth),
    pollSeconds: pollSecondsOf(feed.pollSeconds),
    defaultTlp: tlpOf(feed.defaultTlp, 'defaultTlp'),
    enabled: feed.enabled === undefined ? true : booleanOf(feed.enabled, 'enabled'),
    createdBy: nameOf(feed.createdBy, 'createdBy'),
  }
}

export function checkFeedPatch(patch: FeedPatch): FeedPatch {
  const checked: FeedPatch = {}
  if (patch.label !== undefined) checked.label = nameOf(patch.label, 'label')
  if (patch.url !== undefined) checked.url = feedUrlOf(patch.url)
  if (patch.apiRoot !== undefined) checked.apiRoot = apiRootOf(patch.apiRoot)
  if (patch.collectionId !== undefined) checked.collectionId = collectionIdOf(patch.collectionId)
  if (patch.auth !== undefined) checked.auth = authOf(patch.auth)
  if (patch.pollSeconds !== undefined) checked.pollSeconds = pollSecondsOf(patch.pollSeconds)
  if (patch.defaultTlp !== undefined) checked.defaultTlp = tlpOf(patch.defaultTlp, 'defaultTlp')
  if (patch.enabled !== undefined) checked.enabled = booleanOf(patch.enabled, 'enabled')
  return checked
}

/** A `validation` naming `organisation`: the organisation a feed would speak for is not in the directory. */
export function noFeedOrganisation(organisation: string): WatchfloorError {
  const message = `no organisation ${organisation}: a feed speaks for one in the directory`
  return new WatchfloorError('validation', message, { issues: [{ path: 'organisation', message }] })
}

export const noFeed = (id: string): WatchfloorError => new WatchfloorError('not_found', `no feed ${id}`)

function countOf(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalid(`${field} is not a whole number of at least 0: ${shown(value)}`)
  return value
}

function textOrNull(value: unknown, field: string, max: number, cut: boolean): string | null {
  if (value === null) return null
  if (typeof value !== 'string') throw invalid(`${field} is not text or null: ${shown(value)}`)
  if (value.length <= max) return value
  if (cut) return value.slice(0, max)
  throw invalid(`${field} is longer than ${max} characters`)
}

function timeOrNull(value: unknown, field: string): string | null {
  if (value !== null && typeof value !== 'string') throw invalid(`${field} is not a time or null: ${shown(value)}`)
  return isoTimeOrNull(value, field)
}

/** A feed state's fields to set, by column: only those given, checked (times as UTC ISO). */
export function checkFeedState(
  id: string,
  state: Partial<FeedState>,
): [column: string, value: string | number | null][] {
  if (state.feedId !== undefined && state.feedId !== id)
    throw invalid(`feedId ${shown(state.feedId)} is not the feed written (${id})`)
  const columns: [string, string | number | null][] = []
  const given = <K extends keyof FeedState>(
    key: K,
    column: string,
    check: (value: unknown) => string | number | null,
  ) => {
    if (state[key] !== undefined) columns.push([column, check(state[key])])
  }
  given('cursor', 'cursor', (value) => textOrNull(value, 'cursor', TEXT_MAX, false))
  given('lastAttemptAt', 'last_attempt_at', (value) => timeOrNull(value, 'lastAttemptAt'))
  given('lastSuccessAt', 'last_success_at', (value) => timeOrNull(value, 'lastSuccessAt'))
  given('lastError', 'last_error', (value) => textOrNull(value, 'lastError', FEED_ERROR_MAX, true))
  given('consecutiveFailures', 'consecutive_failures', (value) => countOf(value, 'consecutiveFailures'))
  given('objectsImported', 'objects_imported', (value) => countOf(value, 'objectsImported'))
  given('eventsStored', 'events_stored', (value) => countOf(value, 'eventsStored'))
  given('nextPollAt', 'next_poll_at', (value) => timeOrNull(value, 'nextPollAt'))
  return columns
}

/** A lease's holder and length, checked. */
export function checkLease(holder: unknown, leaseMs?: unknown): void {
  if (typeof holder !== 'string' || holder.length === 0 || holder.length > TEXT_MAX)
    throw invalid(`holder is not 1 to ${TEXT_MAX} characters: ${shown(holder)}`)
  if (
    leaseMs !== undefined &&
    (typeof leaseMs !== 'number' || !Number.isInteger(leaseMs) || leaseMs < 1 || leaseMs > LEASE_MS_MAX)
  )
    throw invalid(`leaseMs is not a whole number of milliseconds from 1 to ${LEASE_MS_MAX}: ${shown(leaseMs)}`)
}

/** One organisation's pulls over one channel; counts are bigint in PostgreSQL (text from the driver). */
export interface FeedOutActivityRow {
  organisation: string
  channel: string
  pulls: number | string
  failed_pulls: number | string
  objects_served: number | string
  last_pull_objects: number | string
  last_pull_at: Time
  last_success_at: Time | null
  last_error_status: number | null
  last_error_message: string | null
  last_error_at: Time | null
}

export const FEED_OUT_COLUMNS =
  'organisation, channel, pulls, failed_pulls, objects_served, last_pull_objects, last_pull_at, last_success_at, last_error_status, last_error_message, last_error_at'

export function feedOutActivityOf(row: FeedOutActivityRow): FeedOutActivity {
  return {
    organisation: row.organisation,
    channel: row.channel as FeedOutChannel,
    pulls: Number(row.pulls),
    failedPulls: Number(row.failed_pulls),
    objectsServed: Number(row.objects_served),
    lastPullObjects: Number(row.last_pull_objects),
    lastPullAt: iso(row.last_pull_at),
    lastSuccessAt: isoOrNull(row.last_success_at),
    lastError:
      row.last_error_at === null
        ? null
        : { status: Number(row.last_error_status), message: row.last_error_message ?? '', at: iso(row.last_error_at) },
  }
}

/**
 * A pull as both stores write it: the values of one row's insert (pulls 1), checked. A success
 * sets `last_success_at`, a refusal the `last_error_*` and one failed pull.
 */
export function checkFeedOutPull(pull: FeedOutPull): {
  organisation: string
  channel: FeedOutChannel
  at: string
  objects: number
  failed: 0 | 1
  success: string | null
  errorStatus: number | null
  errorMessage: string | null
  errorAt: string | null
} {
  const organisation = typeof pull.organisation === 'string' ? pull.organisation : ''
  if (organisation.length === 0 || organisation.length > TEXT_MAX || /\p{Cc}/u.test(organisation))
    throw invalid(`organisation is not 1 to ${TEXT_MAX} characters: ${shown(pull.organisation)}`)
  if (!(FEED_OUT_CHANNELS as readonly unknown[]).includes(pull.channel))
    throw invalid(`channel is not one of ${FEED_OUT_CHANNELS.join(', ')}: ${shown(pull.channel)}`)
  if (typeof pull.at !== 'string') throw invalid(`at is not a time: ${shown(pull.at)}`)
  const at = isoTime(pull.at, 'at')
  const objects = countOf(pull.objects, 'objects')
  if (pull.error === undefined)
    return {
      organisation,
      channel: pull.channel,
      at,
      objects,
      failed: 0,
      success: at,
      errorStatus: null,
      errorMessage: null,
      errorAt: null,
    }
  const { status, message } = pull.error
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599)
    throw invalid(`error.status is not an HTTP error status (400 to 599): ${shown(status)}`)
  const text = textOrNull(message, 'error.message', FEED_ERROR_MAX, true) ?? ''
  return {
    organisation,
    channel: pull.channel,
    at,
    objects,
    failed: 1,
    success: null,
    errorStatus: status,
    errorMessage: text,
    errorAt: at,
  }
}

/**
 * Milliseconds until one more sign-in slot fits under `max`, given the times (ms, oldest first)
 * of the slots of a key still in the window; 0 when it fits now. The slot that must leave the
 * window first is the max-th newest (sooner, if it is pending and given back).
 */
export function slotWait(times: readonly number[], max: number, windowMs: number, now: number): number {
  if (times.length < max) return 0
  return Math.max(1, times[times.length - max]! + windowMs - now)
}

import { createHash } from 'node:crypto'
import {
  type AccountJson,
  type Agree,
  type AppendResultReply,
  type CommunityJson,
  type FeedOutActivity,
  type FeedOutChannel,
  ORGANISATION_KINDS,
  type OrganisationJson,
  type Role,
  type Tlp,
  type TokenJson,
} from '@watchfloor/protocol'
import type { AppendResult } from './types.ts'

/** A person who signs in with a username and password. */
export interface Account {
  /** Unique, lower case; also the viewer's `userId`, which no principal of another organisation has. */
  username: string
  displayName: string
  organisation: string
  nation: string
  roles: Role[]
  /** A disabled account cannot sign in, and its sessions and tokens are refused. */
  disabled: boolean
  createdAt: string
  updatedAt: string
}

export interface NewAccount {
  username: string
  displayName: string
  organisation: string
  nation: string
  roles: Role[]
  /** An encoded password hash (never the password); null: the account cannot sign in with a password. */
  passwordHash: string | null
  disabled?: boolean
}

/** What may change on an account; absent fields stay as they are. */
export interface AccountPatch {
  displayName?: string
  roles?: Role[]
  disabled?: boolean
  passwordHash?: string | null
}

/** An account with its password hash: only for signing in, never for a response. */
/** A TAXII Add Objects status as kept: `body` is the status resource's JSON, `owner` who made it. */
export interface TaxiiStatusRecord {
  id: string
  owner: string
  body: string
  createdAt: Date
}

export interface AccountLogin {
  account: Account
  passwordHash: string | null
}

/** `api`: acts for its owner on every route. `display`: read-only, for an unattended wall screen. */
export type TokenKind = 'api' | 'display'

/** The identity of a token that belongs to no account (a sensor, a relay, a wall). */
export interface ServicePrincipal {
  user: string
  organisation: string
  nation: string
  roles: Role[]
  /** Other organisations it may post for (a relay). */
  sources: string[]
}

/**
 * An API or display token as stored: only the SHA-256 of its secret is kept, and
 * no record returned by the store carries even that.
 */
export interface TokenRecord {
  id: string
  label: string
  kind: TokenKind
  /** The account it acts as, or null for a service principal. */
  owner: string | null
  /** The identity of a token without an owner. */
  service: ServicePrincipal | null
  /** Display tokens: the console preset the wall shows. */
  preset: string | null
  /** Display tokens: the highest TLP the wall may receive [V9]; null: no ceiling. */
  tlpCeiling: Tlp | null
  createdBy: string
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
  /** When the token stops being accepted (ISO 8601); null: it never expires. */
  expiresAt: string | null
}

/** A token to store: its record's fields but the times the store sets, and the secret's hash. */
export interface NewToken extends Omit<TokenRecord, 'createdAt' | 'lastUsedAt' | 'revokedAt'> {
  /** SHA-256 (hex) of the secret: see `hashSecret`. */
  secretHash: string
}

/** A signed-in browser: the cookie holds the session id, the store only its SHA-256. */
export interface SessionRecord {
  idHash: string
  account: string
  createdAt: string
  expiresAt: string
}

/** What an organisation in the directory is. */
export { ORGANISATION_KINDS }
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number]

/**
 * An organisation in the directory. Its id is what accounts, service tokens, sources
 * and markings name; ids are unique across organisations and communities.
 */
export interface Organisation {
  /** Lower case: letters, digits, `-`, `_`, `.`, starting with a letter or digit; 1 to 64 (`cert-ee`). */
  id: string
  name: string
  /** An ISO 3166 alpha-2 code (`EE`) or an alliance body id (`ALLIANCE`): upper case, digits, `-`; 2 to 32. */
  nation: string
  kind: OrganisationKind
  createdAt: string
  updatedAt: string
}

export type NewOrganisation = Omit<Organisation, 'createdAt' | 'updatedAt'>

/** What may change on an organisation; absent fields stay as they are. */
export interface OrganisationPatch {
  name?: string
  nation?: string
  kind?: OrganisationKind
}

/** A named set of organisations (`energy-sector`), which a marking's `releasableTo` may name. */
export interface Community {
  /** The same form as an organisation's id, and never one of theirs. */
  id: string
  name: string
  /** Organisation ids, sorted, unique; each an organisation in the directory. */
  members: string[]
  createdAt: string
  updatedAt: string
}

export interface NewCommunity {
  id: string
  name: string
  /** Organisations in the directory; kept sorted and without repeats. */
  members: string[]
}

/** What may change on a community; `members` replaces the whole set. */
export interface CommunityPatch {
  name?: string
  members?: string[]
}

/** How Watchfloor authenticates to a feed's TAXII server. */
export const FEED_AUTH_KINDS = ['none', 'bearer', 'basic'] as const

/**
 * A feed's credentials, never its secret: `secretEnv` names the environment variable (upper-case
 * letters, digits, `_`, starting `WATCHFLOOR_FEED_`) the server reads when it polls.
 */
export type FeedAuth =
  | { kind: 'none' }
  | { kind: 'bearer'; secretEnv: string }
  | { kind: 'basic'; username: string; secretEnv: string }

/**
 * A partner feed: a TAXII 2.1 collection Watchfloor pulls from, in the name of one directory
 * organisation. Its objects become events sourced to that organisation.
 */
export interface Feed {
  /** The same form as a directory id (`cert-ee-misp`); its own namespace. */
  id: string
  /** Trimmed, 1 to 200 characters. */
  label: string
  /** The TAXII server's base: `https://` or `http://`, no credentials, query or fragment. */
  url: string
  /** The API root's path on that server, with or without slashes around it (`api`, `/taxii2/api/`). */
  apiRoot: string
  collectionId: string
  /** The directory organisation the feed speaks for; while a feed names it, it cannot be deleted. */
  organisation: string
  auth: FeedAuth
  /** How often it is polled: 10 to 86,400 seconds. */
  pollSeconds: number
  /** The TLP an object that carries no marking gets. */
  defaultTlp: Tlp
  enabled: boolean
  createdBy: string
  createdAt: string
  updatedAt: string
}

/** A feed to store: its fields but the times the store sets. `enabled` defaults to true. */
export interface NewFeed extends Omit<Feed, 'createdAt' | 'updatedAt' | 'enabled'> {
  enabled?: boolean
}

/**
 * What may change on a feed; absent (or undefined) fields stay as they are. Its id, organisation
 * and creator never change.
 */
export interface FeedPatch {
  label?: string | undefined
  url?: string | undefined
  apiRoot?: string | undefined
  collectionId?: string | undefined
  auth?: FeedAuth | undefined
  pollSeconds?: number | undefined
  defaultTlp?: Tlp | undefined
  enabled?: boolean | undefined
}

/** Where polling a feed has got to; written by the poller, never notified. Times ISO 8601 or null. */
export interface FeedState {
  feedId: string
  /** The last `X-TAXII-Date-Added-Last` seen, sent back as `added_after`; kept as the server wrote it. */
  cursor: string | null
  lastAttemptAt: string | null
  lastSuccessAt: string | null
  /** Why the last attempt failed; null after a success. At most 2,000 characters (longer is cut). */
  lastError: string | null
  consecutiveFailures: number
  objectsImported: number
  eventsStored: number
  nextPollAt: string | null
}

/**
 * One pull a partner made from this floor (feeds out), to add to its organisation's activity on
 * the channel. `objects`: what the answer served; `error`: the status and message of a refused or
 * failed pull (4xx, 5xx). The activity read back is protocol's `FeedOutActivity`.
 */
export interface FeedOutPull {
  /** The organisation of the authenticated caller that pulled. */
  organisation: string
  channel: FeedOutChannel
  /** When it was answered (ISO 8601). */
  at: string
  objects: number
  error?: { status: number; message: string } | undefined
}

/**
 * Something that may end access somewhere: live sockets using it are checked again.
 * `directory`: an organisation or community was created, changed or deleted.
 * `feeds`: a partner feed was created, changed or deleted (never its state or lease).
 */
export type CredentialChange =
  | { type: 'token'; id: string }
  | { type: 'session'; idHash: string }
  | { type: 'account'; username: string }
  | { type: 'directory' }
  | { type: 'feeds' }

/** One limit a sign-in attempt counts under: at most `max` slots of `key` within the window. */
export interface SignInLimit {
  key: string
  max: number
}

/** A slot under every limit (`attempt` names it), or how long until one more attempt fits. */
export type SignInReservation = { ok: true; attempt: string } | { ok: false; waitMs: number }

/**
 * How an attempt ended: `failed` keeps its slots until they leave the window; `succeeded` gives
 * them back and clears the failures of its first key settled before it was reserved; `released`
 * gives them back.
 */
export type SignInOutcome = 'failed' | 'succeeded' | 'released'

/**
 * Accounts, API and display tokens, sessions, the directory of organisations and
 * communities, and partner feeds. Every implementation passes
 * the contract suite in `credentials-contract.ts`. Times are ISO 8601 strings.
 */
export interface CredentialStore {
  readonly kind: 'sqlite' | 'postgres'

  /**
   * Rejects with a `conflict` WatchfloorError when the username is taken, or when a service token of
   * another organisation has it as its user id (revoked or expired too): a user id names one person
   * of one organisation [V5]. The look and the write are one step across processes.
   */
  createAccount(account: NewAccount): Promise<Account>
  getAccount(username: string): Promise<Account | null>
  /** The account and its password hash, for signing in. */
  getLogin(username: string): Promise<AccountLogin | null>
  /** Every account, by username. */
  listAccounts(): Promise<Account[]>
  /** Null when there is no such account. */
  updateAccount(username: string, patch: AccountPatch): Promise<Account | null>

  /**
   * Rejects with `not_found` when the owner is no account, `conflict` when the id or secret is taken
   * or when a service identity's user id is an account's (disabled too) or another service token's
   * (revoked or expired too) of another organisation; the same user id in the same organisation is
   * fine (a person's account and a token of their own). The look and the write are one step across
   * processes.
   */
  createToken(token: NewToken): Promise<TokenRecord>
  /** The token whose secret has this hash, revoked or not. */
  findToken(secretHash: string): Promise<TokenRecord | null>
  getToken(id: string): Promise<TokenRecord | null>
  /** Tokens, oldest first; only those of one owner when `owner` is given. */
  listTokens(filter?: { owner?: string }): Promise<TokenRecord[]>
  /** Sets `revokedAt` (once: revoking again keeps the first time). Null when there is no such token. */
  revokeToken(id: string, at?: Date): Promise<TokenRecord | null>
  /** Records when a token was last used. */
  touchToken(id: string, at: Date): Promise<void>

  /** Rejects with `not_found` when the account does not exist. */
  createSession(session: { idHash: string; account: string; expiresAt: string }): Promise<SessionRecord>
  /**
   * Signing in: a session, made only while the account still holds `checked.passwordHash` (the hash
   * the password was checked against) and is not disabled; with `checked.rehash`, that hash is
   * replaced by it in the same step. Null, with nothing written, when the account changed
   * meanwhile (a new password, disabled, gone): a password reset or disabling that lands during a
   * sign-in is never outlived by it, nor undone by its rehash. The look and the writes are one step
   * across processes; the account's own change waits for them, and ends the session made.
   */
  signIn(
    session: { idHash: string; account: string; expiresAt: string },
    checked: { passwordHash: string; rehash?: string | undefined },
  ): Promise<SessionRecord | null>
  findSession(idHash: string): Promise<SessionRecord | null>
  /** True when there was such a session. */
  deleteSession(idHash: string): Promise<boolean>
  /** Ends every session of an account; returns how many. */
  deleteSessionsOf(account: string): Promise<number>
  /** Drops sessions that expired before `now`; returns how many. */
  deleteExpiredSessions(now: Date): Promise<number>

  /** Every organisation, by id. */
  listOrganisations(): Promise<Organisation[]>
  getOrganisation(id: string): Promise<Organisation | null>
  /** Rejects with `validation` for a malformed field, `conflict` when an organisation or community has the id. */
  createOrganisation(organisation: NewOrganisation): Promise<Organisation>
  /** Null when there is no such organisation; rejects with `validation` for a malformed field. */
  updateOrganisation(id: string, patch: OrganisationPatch): Promise<Organisation | null>
  /**
   * True when there was such an organisation. Rejects with `conflict`, naming them, while a
   * community has it as a member, an account or a service token belongs to it, or a feed speaks for it.
   */
  deleteOrganisation(id: string): Promise<boolean>

  /** Every community, by id. */
  listCommunities(): Promise<Community[]>
  getCommunity(id: string): Promise<Community | null>
  /**
   * Rejects with `validation` for a malformed field, `conflict` when an organisation or
   * community has the id, `not_found` naming a member that is no organisation.
   */
  createCommunity(community: NewCommunity): Promise<Community>
  /** Null when there is no such community; rejects like `createCommunity` for the fields given. */
  updateCommunity(id: string, patch: CommunityPatch): Promise<Community | null>
  /** True when there was such a community. */
  deleteCommunity(id: string): Promise<boolean>
  /** The ids of the communities an organisation is a member of, sorted. */
  communitiesOf(organisation: string): Promise<string[]>

  /** Every feed, by id. */
  listFeeds(): Promise<Feed[]>
  getFeed(id: string): Promise<Feed | null>
  /**
   * Rejects with `validation` naming a malformed field, `conflict` when a feed has the id,
   * `not_found` when its organisation is not in the directory.
   */
  createFeed(feed: NewFeed): Promise<Feed>
  /** Null when there is no such feed; rejects with `validation` for a malformed field. Its state stays. */
  updateFeed(id: string, patch: FeedPatch): Promise<Feed | null>
  /** True when there was such a feed; its state and lease go with it. */
  deleteFeed(id: string): Promise<boolean>
  /** Null when nothing was recorded (nor claimed) for the feed yet, or there is no such feed. */
  getFeedState(id: string): Promise<FeedState | null>
  /**
   * Sets the fields given (absent and undefined ones stay; a first write starts from no cursor,
   * no times, no error and zero counts) and returns the whole state. Rejects with `not_found` when
   * there is no such feed, `validation` naming a malformed field. Never notified.
   */
  recordFeedState(id: string, state: Partial<FeedState>): Promise<FeedState>
  /**
   * Takes or renews the feed's polling lease for `leaseMs` milliseconds (1 to 86,400,000): true
   * when `holder` now holds it (there was none, it had expired, or it was already this holder's),
   * false when another holder's lease still runs. One clock decides for every process (the
   * database's, for PostgreSQL). Rejects with `not_found` when there is no such feed.
   */
  claimFeed(id: string, holder: string, leaseMs: number): Promise<boolean>
  /** Gives the lease up if `holder` holds it (expired or not); true when it did. */
  releaseFeed(id: string, holder: string): Promise<boolean>

  /**
   * Adds one pull to its organisation's activity on its channel: one upsert (counts add up, the
   * latest times win, whichever process writes). Rejects with `validation` naming a malformed
   * field; a long error message is cut. Never notified.
   */
  recordFeedOutPull(pull: FeedOutPull): Promise<void>
  /** The activity by organisation, then channel; only one organisation's when `organisation` is given. */
  listFeedOutActivity(filter?: { organisation?: string }): Promise<FeedOutActivity[]>

  /**
   * Take a slot for one sign-in attempt under every limit, in one step shared by every process on
   * the database, or say how long until one fits (the slot of `limits[i]` that must leave the
   * window first; at least 1 ms). A slot counts from its reservation (`now`, ms) until it is
   * given back or, settled as a failure or never settled (a process gone), leaves the window.
   */
  reserveSignIn(limits: readonly SignInLimit[], windowMs: number, now: number): Promise<SignInReservation>
  /** Settle a reserved attempt (see `SignInOutcome`); an unknown or expired attempt is a no-op. */
  settleSignIn(attempt: string, outcome: SignInOutcome): Promise<void>

  /**
   * Keep a TAXII Add Objects status (its JSON, and who made the request), for every process to
   * answer; then drop all but the newest `keep` (default 10,000). Transient: not in backups.
   */
  saveTaxiiStatus(status: TaxiiStatusRecord, keep?: number): Promise<void>
  /** A kept status by id (null: none, or dropped). */
  getTaxiiStatus(id: string): Promise<TaxiiStatusRecord | null>

  /**
   * The durable content (everything but sessions, sign-in slots and feed leases), for a backup:
   * see `credentials-backup.ts`.
   */
  exportDurable?(): Promise<import('./credentials-backup.ts').CredentialDump>
  /**
   * Write a backup's durable content into this store, which must hold none (else a `conflict`
   * WatchfloorError, nothing written); rows keep their times, tokens their secrets' hashes.
   */
  importDurable?(dump: import('./credentials-backup.ts').CredentialDump): Promise<void>

  /**
   * Called after a token is revoked, a session deleted, an account changed, the directory or a feed
   * written by this process, and for each change another process made that was `heard`.
   */
  onChange(listener: (change: CredentialChange) => void): () => void
  /**
   * A change another process made to the same store, as the server's bus carried it (apps/server
   * live/bus.ts): told to this process's listeners as its own changes are. The store itself sends
   * nothing between processes.
   */
  heard(change: CredentialChange): void
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>
  close(): Promise<void>
}

/** SHA-256 of a token secret or session id, hex: what the store keeps instead of the secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** Calls listeners, each isolated from the others' failures. */
export class ChangeListeners {
  private readonly listeners = new Set<(change: CredentialChange) => void>()

  add(listener: (change: CredentialChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(change: CredentialChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch {
        // a listener's failure is its own
      }
    }
  }

  clear(): void {
    this.listeners.clear()
  }
}

/** Parses a change sent between processes; null when it is not one. */
export function parseChange(text: string): CredentialChange | null {
  try {
    const value = JSON.parse(text) as Record<string, unknown>
    if (value.type === 'token' && typeof value.id === 'string') return { type: 'token', id: value.id }
    if (value.type === 'session' && typeof value.idHash === 'string') return { type: 'session', idHash: value.idHash }
    if (value.type === 'account' && typeof value.username === 'string')
      return { type: 'account', username: value.username }
    if (value.type === 'directory') return { type: 'directory' }
    if (value.type === 'feeds') return { type: 'feeds' }
  } catch {
    // not JSON
  }
  return null
}

/**
 * The records the store returns are what the API answers (the OpenAPI document's schemas are made
 * from the protocol's): a field added to one and not the other fails to compile here.
 */
export const CREDENTIAL_SCHEMAS_AGREE: [
  Agree<Account, AccountJson>,
  // the API leaves `createdBy` out for a non-admin who did not make the token; the record always has it
  Agree<TokenRecord, Omit<TokenJson, 'createdBy'> & { createdBy: string }>,
  Agree<Organisation, OrganisationJson>,
  Agree<Community, CommunityJson>,
  // an ingest's answer leaves out the seq of an event its caller may not see [D14]
  Agree<Omit<AppendResult, 'seq'> & { seq?: number | undefined }, AppendResultReply>,
] = [true, true, true, true, true]

import { randomBytes, randomUUID } from 'node:crypto'
import { parseOrThrow, plainName, Role, Tlp, timestamp, WatchfloorError } from '@watchfloor/protocol'
import { type Account, type CredentialStore, hashSecret, type NewToken, type TokenRecord } from '@watchfloor/store'
import { z } from 'zod'
import { accountInForce, tokenInForce } from './access.ts'
import { hashPassword } from './passwords.ts'
import type { Principal } from './tokens.ts'
import { refuseFeedUserId, refuseStaticUserId } from './userIds.ts'

/*
 * Creating and changing accounts and tokens: one home for the rules, used by the admin routes
 * (routes.ts) and by the operator's command line (src/cli/).
 */

const Username = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore; up to 64')
const Password = z.string().min(12, 'at least 12 characters').max(1024)
const Roles = z
  .array(Role)
  .min(1, 'choose at least one role')
  .transform((roles) => [...new Set(roles)])
/** Names, labels and codes hold no control character, bidirectional override or lone surrogate. */
const Name = plainName(200)
const Code = plainName(64)

export const NewAccountBody = z
  .object({
    username: Username,
    displayName: Name.optional(),
    organisation: Code,
    /** Default: the organisation's, from the directory; when given it must be that. */
    nation: Code.optional(),
    roles: Roles,
    password: Password,
    disabled: z.boolean().optional(),
  })
  .strict()

export const AccountPatchBody = z
  .object({
    displayName: Name.optional(),
    roles: Roles.optional(),
    disabled: z.boolean().optional(),
    password: Password.optional(),
  })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one of displayName, roles, disabled, password')
export type AccountPatchBody = z.infer<typeof AccountPatchBody>

export const NewTokenBody = z
  .object({
    label: Name,
    kind: z.enum(['api', 'display']).default('api'),
    /** The account the token acts as (default: the caller's own). */
    owner: Username.optional(),
    /** Or an identity of its own (admin only). */
    service: z
      .object({
        // `feed:<id>` is a partner feed's, and would post in its namespace [A9]
        user: Code.superRefine(refuseFeedUserId),
        organisation: Code,
        nation: Code.optional(),
        roles: Roles,
        sources: z.array(Code).default([]),
      })
      .strict()
      .optional(),
    preset: Code.optional(),
    tlpCeiling: Tlp.optional(),
    /**
     * When the token stops working (ISO 8601 with a zone, in the future); null: never (admin
     * only). Absent: an API token lasts WATCHFLOOR_TOKEN_TTL_DAYS, a display token never expires.
     */
    expiresAt: timestamp.nullable().optional(),
  })
  .strict()

const DAY_MS = 24 * 3600 * 1000
/** A non-admin asking for exactly the longest expiry, by a clock a little ahead of ours, still gets it. */
const CLOCK_LEEWAY_MS = 60_000

/** Organisations by id: the server's directory, or one read from the store. */
export interface OrganisationLookup {
  organisation(id: string): { nation: string } | undefined
}

/** A lookup over the directory as the store holds it now (for a process without a `Directory`). */
export async function organisationLookup(credentials: CredentialStore): Promise<OrganisationLookup> {
  const byId = new Map((await credentials.listOrganisations()).map((o) => [o.id, o]))
  return { organisation: (id) => byId.get(id) }
}

/**
 * The static tokens (WATCHFLOOR_TOKENS, not in the store) beside which accounts and service
 * identities are made: none may take the user id one of them gives another organisation [V5].
 */
export type StaticIdentities = readonly Pick<Principal, 'user' | 'organisation'>[]

/** The wall presets by name (wall/presets.ts `PresetRegistry`): a display token's must be one. */
export interface PresetLookup {
  get(name: string): unknown
}

/**
 * Who makes a token: its `createdBy`, the account it acts for, whether an admin, the token it uses.
 * That token and that account must be in force when the token is made (`issueToken`).
 */
export interface TokenMaker {
  user: string
  account: string | null
  admin: boolean
  /** The token the maker authenticated with, if any: a non-admin's new token never outlives it. */
  tokenId?: string | undefined
}

/**
 * An account from `NewAccountBody` (unchecked input): its organisation must be in the directory, and
 * its username (its user id) no principal's of another organisation: a static token's (`statics`),
 * or an account's or a service token's (the store refuses those), each a 409 `conflict`.
 */
export async function createAccount(
  credentials: CredentialStore,
  directory: OrganisationLookup,
  statics: StaticIdentities,
  input: unknown,
  passwordCost: number,
): Promise<Account> {
  const body = parseOrThrow(NewAccountBody, input)
  const nation = inDirectory(directory, body.organisation, body.nation, '')
  refuseStaticUserId(statics, body.username, body.organisation)
  return credentials.createAccount({
    username: body.username,
    displayName: body.displayName ?? body.username,
    organisation: body.organisation,
    nation,
    roles: body.roles,
    passwordHash: await hashPassword(body.password, passwordCost),
    disabled: body.disabled ?? false,
  })
}

/**
 * Change an account (a checked `AccountPatchBody`). A new password or disabling ends every
 * session of it (live sockets included); a new password also revokes its tokens, since whoever
 * knew the old one may have made some. `not_found` when there is no such account.
 */
export async function changeAccount(
  credentials: CredentialStore,
  username: string,
  body: AccountPatchBody,
  passwordCost: number,
): Promise<Account> {
  const account = await credentials.updateAccount(username, {
    ...(body.displayName !== undefined ? { displayName: body.displayName } : {}),
    ...(body.roles !== undefined ? { roles: body.roles } : {}),
    ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
    ...(body.password !== undefined ? { passwordHash: await hashPassword(body.password, passwordCost) } : {}),
  })
  if (!account) throw new WatchfloorError('not_found', `no account ${username}`)
  if (body.password !== undefined || body.disabled === true) await credentials.deleteSessionsOf(username)
  if (body.password !== undefined)
    for (const token of await credentials.listTokens({ owner: username }))
      if (token.revokedAt === null) await credentials.revokeToken(token.id)
  return account
}

/**
 * A new API or display token from `NewTokenBody` (unchecked input), made by `maker`: returns its
 * record and its secret, which is never stored (only its hash) and so shown this once. A service
 * identity's user id may be no principal's of another organisation (`createAccount`): 409. With
 * `presets`, a display token's preset must be one of them (a 400 naming `preset`): a wall could
 * show nothing with another.
 */
export async function issueToken(
  credentials: CredentialStore,
  directory: OrganisationLookup,
  statics: StaticIdentities,
  maker: TokenMaker,
  input: unknown,
  tokenTtlDays: number,
  presets?: PresetLookup,
): Promise<{ token: TokenRecord; secret: string }> {
  const body = parseOrThrow(NewTokenBody, input)
  const { admin } = maker
  if (body.kind === 'display' && body.preset === undefined)
    throw new WatchfloorError('validation', 'a display token needs a preset', {
      issues: [{ path: 'preset', message: 'required for a display token' }],
    })
  if (body.kind === 'api' && (body.preset !== undefined || body.tlpCeiling !== undefined))
    throw new WatchfloorError('validation', 'preset and tlpCeiling are for display tokens only')
  if (body.preset !== undefined && presets !== undefined && presets.get(body.preset) === undefined)
    throw new WatchfloorError('validation', `no wall preset '${body.preset}'`, {
      issues: [{ path: 'preset', message: 'not a wall preset of this server (GET /api/v1/wall/presets)' }],
    })
  if (body.owner !== undefined && body.service !== undefined)
    throw new WatchfloorError('validation', 'a token belongs to an account (owner) or has a service identity, not both')
  const service =
    body.service === undefined
      ? null
      : {
          ...body.service,
          nation: inDirectory(directory, body.service.organisation, body.service.nation, 'service.'),
        }
  const owner = body.service !== undefined ? null : (body.owner ?? maker.account)
  if (!admin) {
    if (body.kind !== 'api') throw new WatchfloorError('forbidden', 'only an admin may create display tokens')
    if (body.service !== undefined || owner === null || owner !== maker.account)
      throw new WatchfloorError('forbidden', 'you may create API tokens for your own account only')
  }
  if (owner === null && body.service === undefined)
    throw new WatchfloorError('validation', 'give an owner account or a service identity for the token')
  if (service !== null) refuseStaticUserId(statics, service.user, service.organisation)
  let expiresAt = tokenExpiry(body.kind, body.expiresAt, admin, tokenTtlDays)
  // the maker's token and account as the door reads them now, admins too: a token revoked or an
  // account disabled since the request came in makes nothing (401, as the door would answer)
  const made = maker.tokenId === undefined ? undefined : tokenInForce(await credentials.getToken(maker.tokenId))
  if (maker.account !== null) accountInForce(await credentials.getAccount(maker.account))
  // a token cannot outlive the token that made it (a stolen token must not renew itself for ever)
  if (!admin && made !== undefined) {
    if (made.expiresAt && (expiresAt === null || Date.parse(expiresAt) > Date.parse(made.expiresAt))) {
      if (body.expiresAt !== undefined)
        throw new WatchfloorError(
          'forbidden',
          `a token made with a token must expire no later than it does (${made.expiresAt})`,
        )
      expiresAt = made.expiresAt
    }
  }
  const secret = `wf_${randomBytes(32).toString('base64url')}`
  const record: NewToken = {
    id: randomUUID(),
    secretHash: hashSecret(secret),
    label: body.label,
    kind: body.kind,
    owner,
    service,
    preset: body.preset ?? null,
    tlpCeiling: body.tlpCeiling ?? null,
    createdBy: maker.user,
    expiresAt,
  }
  return { token: await credentials.createToken(record), secret }
}

/**
 * When a new token expires: what was asked for (a future time; null, never: admins only), else
 * WATCHFLOOR_TOKEN_TTL_DAYS from now for an API token and never for a display token (a wall runs
 * unattended). A non-admin's token expires within the TTL.
 */
function tokenExpiry(
  kind: 'api' | 'display',
  asked: string | null | undefined,
  admin: boolean,
  ttlDays: number,
): string | null {
  const now = Date.now()
  const limit = `within ${ttlDays} days (WATCHFLOOR_TOKEN_TTL_DAYS)`
  if (asked === undefined) return kind === 'display' ? null : new Date(now + ttlDays * DAY_MS).toISOString()
  if (asked === null) {
    if (!admin)
      throw new WatchfloorError(
        'forbidden',
        `only an admin may make a token that never expires: yours must expire ${limit}`,
      )
    return null
  }
  const at = Date.parse(asked)
  if (at <= now)
    throw new WatchfloorError('validation', 'expiresAt must be in the future', {
      issues: [{ path: 'expiresAt', message: 'must be in the future' }],
    })
  if (!admin && at > now + ttlDays * DAY_MS + CLOCK_LEEWAY_MS)
    throw new WatchfloorError('forbidden', `your token must expire ${limit}`)
  return new Date(at).toISOString()
}

/**
 * Accounts and tokens belong to an organisation of the directory: its nation, or a 400 naming the
 * field (`prefix` + organisation / nation) when the organisation is not there or the nation given
 * is not its own.
 */
function inDirectory(
  directory: OrganisationLookup,
  organisation: string,
  nation: string | undefined,
  prefix: string,
): string {
  const entry = directory.organisation(organisation)
  if (!entry)
    throw new WatchfloorError('validation', `no organisation ${organisation} in the directory: add it first`, {
      issues: [{ path: `${prefix}organisation`, message: 'not in the directory' }],
    })
  if (nation !== undefined && nation !== entry.nation)
    throw new WatchfloorError('validation', `${organisation} is of ${entry.nation}, not ${nation}`, {
      issues: [{ path: `${prefix}nation`, message: `the organisation's nation is ${entry.nation}` }],
    })
  return entry.nation
}

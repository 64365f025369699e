/**
 * API and display tokens (`/api/v1/tokens`, docs/api.md "API and display tokens"): an API token for
 * an account or a service identity (a sensor, a relay), a display token for a wall screen, held to a
 * wall preset and a TLP ceiling. Their shape (protocol's `TokenJson`: never the secret nor its hash),
 * what the Access page derives from them (the request body of the issue form, whose the token is,
 * whether it is in force, the wall link) and the REST calls through the console's one client.
 *
 * The secret is in the answer to `POST /api/v1/tokens` alone, once: the page shows it in a dialog
 * and drops it when the dialog closes; nothing here keeps it.
 */
import { type Role, TLP_LEVELS, type Tlp, TokenJson, WallPreset } from '@watchfloor/protocol'
import { ApiError, type Fetch, requestJson } from '../../data/api.ts'
import { parseOptionalUtc } from '../../ui/time.ts'
import { replyOf } from '../sharing/feeds.ts'
import { ROLES } from './accounts.ts'

export type Token = TokenJson
export type TokenKind = Token['kind']
export { TLP_LEVELS, type Tlp }

export const TOKENS_PATH = '/api/v1/tokens'
export const PRESETS_PATH = '/api/v1/wall/presets'
export const tokenPath = (id: string): string => `${TOKENS_PATH}/${encodeURIComponent(id)}`

export const TOKEN_KIND_LABELS: Readonly<Record<TokenKind, string>> = {
  api: 'API token',
  display: 'Display token (wall)',
}

/** Whom a new token acts as: an account (its owner), or an identity of its own (a sensor, a relay). */
export type Identity = 'account' | 'service'

/** When a new token stops working: the server's default, never, or at a time typed (UTC). */
export type Expiry = 'default' | 'never' | 'at'

/** The issue form as typed. */
export interface TokenForm {
  kind: TokenKind
  label: string
  identity: Identity
  /** The account (identity `account`). */
  owner: string
  /** The service identity (identity `service`). */
  serviceUser: string
  serviceOrganisation: string
  serviceRoles: Role[]
  /** Other organisations it posts for (a relay); API tokens only. */
  serviceSources: string[]
  /** Display tokens: the wall preset, and the highest TLP the wall receives ('' for none). */
  preset: string
  tlpCeiling: Tlp | ''
  expiry: Expiry
  /** `expiry` `at`: `YYYY-MM-DD HH:MMZ`. */
  expiresAt: string
}

/** The roles a display token's service identity is given: it is read-only, so they grant nothing [A1]. */
export const DISPLAY_ROLES: readonly Role[] = ['watch_officer']

/** A blank form: a display token for a wall (preset `overview`, ceiling AMBER, as the demo's wall) or an API token. */
export function emptyTokenForm(kind: TokenKind = 'display'): TokenForm {
  return {
    kind,
    label: '',
    identity: 'service',
    owner: '',
    serviceUser: '',
    serviceOrganisation: '',
    serviceRoles: kind === 'display' ? [...DISPLAY_ROLES] : ['sensor'],
    serviceSources: [],
    preset: 'overview',
    tlpCeiling: 'AMBER',
    expiry: 'default',
    expiresAt: '',
  }
}

/** The body of `POST /api/v1/tokens` (the identity: `owner` or `service`, never both). */
export interface NewToken {
  label: string
  kind: TokenKind
  owner?: string
  service?: { user: string; organisation: string; roles: Role[]; sources: string[] }
  preset?: string
  tlpCeiling?: Tlp
  expiresAt?: string | null
}

export type TokenBody = { ok: true; body: NewToken } | { ok: false; field: 'expiresAt'; error: string }

/**
 * The request body of a filled-in form: the label and user trimmed; the account, or the service
 * identity (its roles in protocol's order; sources for an API token only, without its own
 * organisation); a display token's preset and ceiling (none: left out), never on an API token (the
 * server refuses them there); the expiry left out for the server's default, `null` for never, or
 * the UTC instant typed. A time that does not parse is not sent: the field says why.
 */
export function tokenBodyOf(form: TokenForm): TokenBody {
  let expiresAt: string | null | undefined
  if (form.expiry === 'never') expiresAt = null
  else if (form.expiry === 'at') {
    const parsed = parseOptionalUtc(form.expiresAt)
    if (!parsed.ok) return { ok: false, field: 'expiresAt', error: parsed.error }
    if (parsed.ms === undefined) return { ok: false, field: 'expiresAt', error: 'Enter when the token stops working.' }
    expiresAt = new Date(parsed.ms).toISOString()
  }
  const body: NewToken = { label: form.label.trim(), kind: form.kind }
  if (form.identity === 'account') body.owner = form.owner
  else
    body.service = {
      user: form.serviceUser.trim(),
      organisation: form.serviceOrganisation,
      // a display token takes no action whatever its roles [A1]: it is given the one a wall's viewer has
      roles: form.kind === 'display' ? [...DISPLAY_ROLES] : ROLES.filter((role) => form.serviceRoles.includes(role)),
      sources:
        form.kind === 'api'
          ? [...new Set(form.serviceSources)].filter((source) => source !== form.serviceOrganisation).sort()
          : [],
    }
  if (form.kind === 'display') {
    body.preset = form.preset
    if (form.tlpCeiling !== '') body.tlpCeiling = form.tlpCeiling
  }
  if (expiresAt !== undefined) body.expiresAt = expiresAt
  return { ok: true, body }
}

/** The link a wall screen opens with its display token: `<origin>/wall#token=<secret>` (the wall takes it out of the address). */
export function wallLinkOf(origin: string, secret: string): string {
  return `${origin.replace(/\/+$/, '')}/wall#token=${encodeURIComponent(secret)}`
}

/** Whose a token is: its owner account, or its service identity (`wall-2@cert-ee`). */
export function whoseToken(token: Pick<Token, 'owner' | 'service'>): string {
  if (token.owner !== null) return token.owner
  return token.service ? `${token.service.user}@${token.service.organisation}` : 'nobody'
}

/**
 * Whether a token is still accepted: revoked, expired (its `expiresAt` passed), refused while the
 * account it acts as is disabled (`disabledOwners`: the server answers 401 `account disabled`;
 * enabled again, it is accepted again), or in force.
 */
export type TokenState = 'revoked' | 'expired' | 'account_disabled' | 'active'

const NO_ONE: ReadonlySet<string> = new Set()

export function tokenStateOf(
  token: Pick<Token, 'revokedAt' | 'expiresAt' | 'owner'>,
  now: number,
  disabledOwners: ReadonlySet<string> = NO_ONE,
): TokenState {
  if (token.revokedAt !== null) return 'revoked'
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now) return 'expired'
  if (token.owner !== null && disabledOwners.has(token.owner)) return 'account_disabled'
  return 'active'
}

/** The usernames of the disabled accounts, for `tokenStateOf`. */
export function disabledOwnersOf(accounts: readonly { username: string; disabled: boolean }[]): ReadonlySet<string> {
  return new Set(accounts.filter((account) => account.disabled).map((account) => account.username))
}

/**
 * The tokens the list shows: those in force, newest first (the one just issued on top); with `all`,
 * the revoked and expired ones after them, newest first too. `hidden` counts what is left out.
 */
export function tokensShown(tokens: readonly Token[], now: number, all: boolean): { shown: Token[]; hidden: number } {
  const newestFirst = (a: Token, b: Token) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id)
  // a token of a disabled account is still listed with those in force: enabling the account brings it back
  const ended = (token: Token) => token.revokedAt !== null || tokenStateOf(token, now) === 'expired'
  const inForce = tokens.filter((token) => !ended(token)).sort(newestFirst)
  const off = tokens.filter(ended).sort(newestFirst)
  return all ? { shown: [...inForce, ...off], hidden: 0 } : { shown: inForce, hidden: off.length }
}

export const TOKEN_STATE_LABELS: Readonly<Record<TokenState, string>> = {
  revoked: 'revoked',
  expired: 'expired',
  account_disabled: 'refused: its account is disabled',
  active: 'in force',
}

/** "TLP:AMBER"; "no ceiling". */
export function describeCeiling(ceiling: Tlp | null | ''): string {
  return ceiling ? `TLP:${ceiling}` : 'no ceiling'
}

/** The reply of `GET /api/v1/tokens`, in the server's order (oldest first); a token not of protocol's shape is an error. */
export function tokensOf(body: unknown): Token[] {
  const tokens = (body as { tokens?: unknown } | null)?.tokens
  return Array.isArray(tokens) ? replyOf(TokenJson.array(), tokens, 'a list of tokens') : []
}

/** A wall preset as the issue form offers it: its name, and its title when it has one. */
export interface PresetChoice {
  name: string
  title?: string
}

/** The reply of `GET /api/v1/wall/presets`: the presets by name. */
export function presetsOf(body: unknown): PresetChoice[] {
  const presets = (body as { presets?: unknown } | null)?.presets
  if (!Array.isArray(presets)) return []
  return replyOf(WallPreset.array(), presets, 'a list of wall presets')
    .map((p) => (p.title === undefined ? { name: p.name } : { name: p.name, title: p.title }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

// ---------------------------------------------------------------------------- REST calls

export async function loadTokens(fetchFn: Fetch = fetch): Promise<Token[]> {
  return tokensOf(await requestJson<unknown>(TOKENS_PATH, { fetchFn }))
}

export async function loadPresets(fetchFn: Fetch = fetch): Promise<PresetChoice[]> {
  return presetsOf(await requestJson<unknown>(PRESETS_PATH, { fetchFn }))
}

/** A new token and its secret, which the server shows this once. */
export interface Issued {
  token: Token
  secret: string
}

export async function issueToken(body: NewToken, fetchFn: Fetch = fetch): Promise<Issued> {
  const reply = await requestJson<{ token?: unknown; secret?: unknown }>(TOKENS_PATH, {
    method: 'POST',
    json: body,
    fetchFn,
  })
  const token = replyOf(TokenJson, reply.token, 'a token')
  if (typeof reply.secret !== 'string' || reply.secret === '')
    throw new ApiError({
      status: 201,
      error: { code: 'internal', message: `the server's reply has no secret for token ${token.id}: revoke it` },
    })
  return { token, secret: reply.secret }
}

/** Revoke: refused everywhere from now on; its live sockets (a wall) get `revoked`. Revoking again keeps the first time. */
export async function revokeToken(id: string, fetchFn: Fetch = fetch): Promise<Token> {
  const reply = await requestJson<{ token?: unknown }>(tokenPath(id), { method: 'DELETE', fetchFn })
  return replyOf(TokenJson, reply.token, 'a token')
}

import { type Role, type Tlp, WatchfloorError } from '@watchfloor/protocol'
import type { Account, ServicePrincipal, SessionRecord, TokenKind, TokenRecord } from './credentials.ts'

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

/** ISO text of a time given as an ISO string: checked, so both stores agree on what they keep. */
export function isoTime(text: string, name: string): string {
  const time = new Date(text)
  if (Number.isNaN(time.getTime())) throw new WatchfloorError('validation', `${name} is not a time: ${text}`)
  return time.toISOString()
}

/** `isoTime`, or null for no time (a token that never expires). */
export function isoTimeOrNull(text: string | null | undefined, name: string): string | null {
  return text === null || text === undefined ? null : isoTime(text, name)
}

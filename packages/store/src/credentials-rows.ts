import { type Role, type Tlp, WatchfloorError } from '@watchfloor/protocol'
import {
  type Account,
  type Community,
  type CommunityPatch,
  type NewCommunity,
  type NewOrganisation,
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
}

export const USES_NAMED = 10

/** A `conflict` naming what uses the organisation, or null when nothing does. */
export function organisationInUse(id: string, uses: OrganisationUses): WatchfloorError | null {
  const named = [
    ...uses.communities.map((community) => `community ${community}`),
    ...uses.accounts.map((account) => `account ${account}`),
    ...uses.tokens.map((token) => `service token ${token}`),
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

/** A display name: trimmed, 1 to 200 characters. */
function nameOf(value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : ''
  if (name.length === 0 || name.length > NAME_MAX)
    throw new WatchfloorError('validation', `name is not 1 to ${NAME_MAX} characters: ${shown(value)}`)
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

/** `not_found` naming the first member that is no organisation, or null when all are. */
export function missingMember(members: readonly string[], existing: ReadonlySet<string>): WatchfloorError | null {
  const missing = members.filter((member) => !existing.has(member))
  if (missing.length === 0) return null
  return new WatchfloorError('not_found', `no organisation ${missing[0]}: a member must be one`, { missing })
}

/** A `conflict`: the id is already an organisation's or a community's (ids are unique across both). */
export const idTaken = (id: string, by: 'organisation' | 'community'): WatchfloorError =>
  new WatchfloorError('conflict', `id ${id} is taken by ${by === 'organisation' ? 'an organisation' : 'a community'}`)

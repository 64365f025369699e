/**
 * The directory of partner organisations and communities (`/api/v1/directory`, docs/api.md): its
 * shapes, what the Sharing page derives from it, and its REST calls through the console's one
 * client (`request`/`requestJson`), whose refusals are read as the server's error body.
 *
 * Who may change it: core's policy (`may`) has no directory action (its actions are the
 * commands), so the console asks what the server's `isAdmin` asks: the `admin` role, and not a
 * read-only display token. The server enforces it regardless (403).
 */
import { directoryRefusal, POSTING_ROLES } from '@watchfloor/core'
import { type FieldIssue, ORGANISATION_KINDS, type OrganisationJson } from '@watchfloor/protocol'
import { ApiError, type Failure, type Fetch, request, requestJson, unreachable } from '../../data/api.ts'
import type { Session } from '../../data/store.ts'
import { actorOf } from '../coordination/permissions.ts'

/** What an organisation is: the protocol's `ORGANISATION_KINDS`, as the server's directory has them. */
export { ORGANISATION_KINDS }
export type OrganisationKind = OrganisationJson['kind']

export const KIND_LABELS: Readonly<Record<OrganisationKind, string>> = {
  ally_cert: 'Allied CERT',
  partner_country: 'Partner country',
  industry: 'Industry',
  alliance_body: 'Alliance body',
}

/** "Allied CERT"; a kind this console does not know yet is shown as the server wrote it. */
export function kindLabel(kind: string): string {
  return (KIND_LABELS as Record<string, string>)[kind] ?? kind
}

export interface Organisation {
  id: string
  name: string
  nation: string
  kind: string
  createdAt: string
  updatedAt: string
}

export interface Community {
  id: string
  name: string
  /** Organisation ids. */
  members: string[]
  createdAt: string
  updatedAt: string
}

/** `GET /api/v1/directory`: every organisation; every community for an admin, else its organisation's. */
export interface Directory {
  organisations: Organisation[]
  communities: Community[]
}

export interface NewOrganisation {
  id: string
  name: string
  nation: string
  kind: string
}

export interface NewCommunity {
  id: string
  name: string
  members: string[]
}

export interface CommunityPatch {
  name?: string
  /** Replaces the whole set. */
  members?: string[]
}

export const DIRECTORY_PATH = '/api/v1/directory'
export const organisationPath = (id: string): string => `${DIRECTORY_PATH}/organisations/${encodeURIComponent(id)}`
export const communityPath = (id: string): string => `${DIRECTORY_PATH}/communities/${encodeURIComponent(id)}`

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** The reply as a directory, both lists by id, members sorted (missing lists: empty). */
export function directoryOf(body: unknown): Directory {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Partial<Directory>
  return {
    organisations: Array.isArray(b.organisations) ? [...b.organisations].sort(byId) : [],
    communities: Array.isArray(b.communities)
      ? b.communities.map((c) => ({ ...c, members: [...(c.members ?? [])].sort() })).sort(byId)
      : [],
  }
}

/** Organisation id -> the ids of the communities (of those listed) it belongs to, sorted. */
export function communitiesByOrganisation(directory: Directory): Map<string, string[]> {
  const map = new Map<string, string[]>()
  for (const community of directory.communities)
    for (const member of community.members) {
      const list = map.get(member)
      if (list) list.push(community.id)
      else map.set(member, [community.id])
    }
  for (const list of map.values()) list.sort()
  return map
}

/** A community's members with add or remove applied: sorted, without repeats (the server keeps them so). */
export function withMember(members: readonly string[], id: string): string[] {
  return [...new Set([...members, id])].sort()
}
export function withoutMember(members: readonly string[], id: string): string[] {
  return members.filter((member) => member !== id)
}

/** The organisations that could still join `community` (not members yet), by id. */
export function candidates(organisations: readonly Organisation[], community: Community): Organisation[] {
  const members = new Set(community.members)
  return organisations.filter((o) => !members.has(o.id))
}

/**
 * Who sees the Sharing page (and its header link): admins and liaisons (the directory, partner
 * feeds), and whoever may import (a posting role: sensor, coordinator; not a display token).
 */
export function mayOpenSharing(session: Session | null | undefined): boolean {
  if (!session) return false
  if (session.roles.includes('admin') || session.roles.includes('liaison')) return true
  return session.kind !== 'display' && session.roles.some((role) => POSTING_ROLES.includes(role))
}

/** Who may change the directory: core's policy [A8], as the server asks it. */
export function mayEditDirectory(session: Session | null | undefined): boolean {
  return session ? directoryRefusal(actorOf(session)) === undefined : false
}

/** A change the server refused (or that got no answer), as a form shows it. */
export interface FormError {
  /** The HTTP status; 0: no answer. */
  status: number
  /** The server's error code (never guessed from the status). */
  code: string
  message: string
  /** `details.issues` of a 400: which field and what is wrong. */
  issues: FieldIssue[]
}

function isIssue(value: unknown): value is FieldIssue {
  const v = value as Partial<FieldIssue> | null
  return typeof v === 'object' && v !== null && typeof v.path === 'string' && typeof v.message === 'string'
}

export function formErrorOfFailure({ status, error }: Failure): FormError {
  const details = error.details as { issues?: unknown } | undefined
  const issues = Array.isArray(details?.issues) ? details.issues.filter(isIssue) : []
  return { status, code: error.code, message: error.message, issues }
}

/** Whatever a directory call threw, as a form error: the server's body, or why there was no answer. */
export function formErrorOf(error: unknown): FormError {
  return formErrorOfFailure(error instanceof ApiError ? error.failure : unreachable(error))
}

/**
 * The server's refusal in its own words, "Id x is taken by an organisation" (the note's headline
 * says what kind, from its code: "Refused", "Check the input"; the status is in `data-code`'s
 * family, no words for a person); with no answer, why ("Cannot reach the server (...)").
 */
export function describeFormError(error: FormError): string {
  return error.message.charAt(0).toUpperCase() + error.message.slice(1)
}

/** The start of a refusal's note, by the server's code: "Check the input", "Refused", ... */
export function headlineOf(code: string): string {
  switch (code) {
    case 'validation':
      return 'Check the input'
    case 'conflict':
      return 'Refused'
    case 'forbidden':
      return 'Not allowed'
    case 'not_found':
      return 'Not found'
    case 'unauthenticated':
      return 'Signed out'
    case 'unavailable':
      return 'No answer'
    default:
      return 'Failed'
  }
}

/** The form field an issue's path is about: its first segment (`members.2` -> `members`); `(root)` is none. */
export function fieldOfIssue(path: string): string {
  const [first = ''] = path.split('.')
  return first === '(root)' ? '' : first
}

/** The issues at `path` or inside it (`auth.secretEnv`, `auth`): a nested field's own issues. */
export function issuesUnder(error: FormError | null, path: string): FieldIssue[] {
  return error ? error.issues.filter((issue) => issue.path === path || issue.path.startsWith(`${path}.`)) : []
}

/** The issues about `field`. */
export function issuesFor(error: FormError | null, field: string): FieldIssue[] {
  return error ? error.issues.filter((issue) => fieldOfIssue(issue.path) === field) : []
}

// ---------------------------------------------------------------------------- REST calls

/** `GET /api/v1/directory`. Throws an `ApiError` when refused. */
export async function loadDirectory(fetchFn: Fetch = fetch): Promise<Directory> {
  return directoryOf(await requestJson<unknown>(DIRECTORY_PATH, { fetchFn }))
}

/** A PATCH through the console's one client: credentials, and the server's own error body on refusal. */
function patch(path: string, json: unknown, fetchFn: Fetch): Promise<Response> {
  return request(path, { method: 'PATCH', json, fetchFn })
}

export async function createOrganisation(body: NewOrganisation, fetchFn: Fetch = fetch): Promise<Organisation> {
  const reply = await requestJson<{ organisation: Organisation }>(`${DIRECTORY_PATH}/organisations`, {
    method: 'POST',
    json: body,
    fetchFn,
  })
  return reply.organisation
}

export async function renameOrganisation(id: string, name: string, fetchFn: Fetch = fetch): Promise<Organisation> {
  const reply = (await (await patch(organisationPath(id), { name }, fetchFn)).json()) as { organisation: Organisation }
  return reply.organisation
}

export async function deleteOrganisation(id: string, fetchFn: Fetch = fetch): Promise<void> {
  await request(organisationPath(id), { method: 'DELETE', fetchFn })
}

export async function createCommunity(body: NewCommunity, fetchFn: Fetch = fetch): Promise<Community> {
  const reply = await requestJson<{ community: Community }>(`${DIRECTORY_PATH}/communities`, {
    method: 'POST',
    json: body,
    fetchFn,
  })
  return reply.community
}

export async function updateCommunity(id: string, change: CommunityPatch, fetchFn: Fetch = fetch): Promise<Community> {
  const reply = (await (await patch(communityPath(id), change, fetchFn)).json()) as { community: Community }
  return reply.community
}

export async function deleteCommunity(id: string, fetchFn: Fetch = fetch): Promise<void> {
  await request(communityPath(id), { method: 'DELETE', fetchFn })
}

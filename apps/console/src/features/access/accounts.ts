/**
 * Accounts (`/api/v1/accounts`, docs/api.md "Accounts and sessions"): the people who sign in with a
 * username and a password. Their shape (protocol's `AccountJson`, never a password or its hash),
 * what the Access page derives from them (the request body of the new-account form, the roles in
 * their order), and the REST calls through the console's one client, whose refusals are read as the
 * server's error body (`formErrorOf`).
 *
 * The rules stay the server's: a username's characters, a password's length, an organisation in
 * the directory (400 naming the field), a taken username (409), an admin disabling their own account
 * or dropping their own admin role (409). The console sends what was typed and shows the answer.
 */
import { AccountJson, ROLES, type Role } from '@watchfloor/protocol'
import { type Fetch, requestJson } from '../../data/api.ts'
import { replyOf } from '../sharing/feeds.ts'

export type Account = AccountJson
export { ROLES, type Role }

export const ACCOUNTS_PATH = '/api/v1/accounts'
export const accountPath = (username: string): string => `${ACCOUNTS_PATH}/${encodeURIComponent(username)}`

/** "watch officer": a role as the console says it. */
export function roleLabel(role: string): string {
  return role.replace(/_/g, ' ')
}

/** "watch officer, coordinator"; "no roles". */
export function describeRoles(roles: readonly string[]): string {
  return roles.length === 0 ? 'no roles' : roles.map(roleLabel).join(', ')
}

/** `roles` with `role` added (`on`) or taken out, in protocol's order of the roles, without repeats. */
export function withRole(roles: readonly Role[], role: Role, on: boolean): Role[] {
  const chosen = new Set(roles)
  if (on) chosen.add(role)
  else chosen.delete(role)
  return ROLES.filter((r) => chosen.has(r))
}

/** The same roles, in whatever order (a roles editor has nothing to save). */
export function sameRoles(a: readonly Role[], b: readonly Role[]): boolean {
  const set = new Set(a)
  return set.size === new Set(b).size && b.every((role) => set.has(role))
}

/** The new-account form as typed. */
export interface AccountForm {
  username: string
  displayName: string
  organisation: string
  roles: Role[]
  password: string
}

/** A blank form: a watch officer, the organisation to be chosen. */
export function emptyAccountForm(organisation = ''): AccountForm {
  return { username: '', displayName: '', organisation, roles: ['watch_officer'], password: '' }
}

/** The body of `POST /api/v1/accounts`. */
export interface NewAccount {
  username: string
  displayName?: string
  organisation: string
  roles: Role[]
  password: string
}

/**
 * The request body of a filled-in form: the username and the display name trimmed (an empty
 * display name is left out: the server gives the username), the password exactly as typed (spaces
 * are part of a passphrase). The nation is the organisation's, which the server takes from the
 * directory.
 */
export function accountBodyOf(form: AccountForm): NewAccount {
  const displayName = form.displayName.trim()
  return {
    username: form.username.trim(),
    ...(displayName === '' ? {} : { displayName }),
    organisation: form.organisation,
    roles: ROLES.filter((role) => form.roles.includes(role)),
    password: form.password,
  }
}

/** The body of `PATCH /api/v1/accounts/:username`: any of these. */
export interface AccountPatch {
  displayName?: string
  roles?: Role[]
  disabled?: boolean
  password?: string
}

/** Is this account the one signed in (its user id)? Said beside it: an admin may not disable it. */
export function isOwnAccount(account: Pick<Account, 'username'>, user: string | undefined): boolean {
  return user !== undefined && account.username === user.toLowerCase()
}

const byUsername = (a: Account, b: Account): number => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0)

/** The reply of `GET /api/v1/accounts` as a list by username; an account not of protocol's shape is an error. */
export function accountsOf(body: unknown): Account[] {
  const accounts = (body as { accounts?: unknown } | null)?.accounts
  return Array.isArray(accounts) ? replyOf(AccountJson.array(), accounts, 'a list of accounts').sort(byUsername) : []
}

function oneAccount(body: unknown): Account {
  return replyOf(AccountJson, (body as { account?: unknown } | null)?.account, 'an account')
}

// ---------------------------------------------------------------------------- REST calls

export async function loadAccounts(fetchFn: Fetch = fetch): Promise<Account[]> {
  return accountsOf(await requestJson<unknown>(ACCOUNTS_PATH, { fetchFn }))
}

export async function createAccount(body: NewAccount, fetchFn: Fetch = fetch): Promise<Account> {
  return oneAccount(await requestJson<unknown>(ACCOUNTS_PATH, { method: 'POST', json: body, fetchFn }))
}

/** Change an account: a new password or disabling ends its sessions at once (a new password revokes its tokens). */
export async function updateAccount(username: string, patch: AccountPatch, fetchFn: Fetch = fetch): Promise<Account> {
  return oneAccount(await requestJson<unknown>(accountPath(username), { method: 'PATCH', json: patch, fetchFn }))
}

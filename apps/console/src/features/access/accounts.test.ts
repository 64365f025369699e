import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../data/api.ts'
import { formErrorOf, issuesFor } from '../sharing/directory.ts'
import {
  type Account,
  accountBodyOf,
  accountPath,
  accountsOf,
  createAccount,
  describeRoles,
  emptyAccountForm,
  isOwnAccount,
  loadAccounts,
  sameRoles,
  updateAccount,
  withRole,
} from './accounts.ts'

const T = '2026-11-01T12:00:00.000Z'
const account = (username: string, extra: Partial<Account> = {}): Account => ({
  username,
  displayName: username.toUpperCase(),
  organisation: 'cert-ee',
  nation: 'EE',
  roles: ['watch_officer'],
  disabled: false,
  createdAt: T,
  updatedAt: T,
  ...extra,
})

type Call = [string, RequestInit]
function fakeFetch(status: number, body: unknown) {
  return vi.fn(async (_input: RequestInfo | URL, _init?: RequestInit) => Response.json(body, { status }))
}
const callOf = (fetchFn: ReturnType<typeof fakeFetch>, i = 0) => fetchFn.mock.calls[i] as unknown as Call

describe('the new-account form as a request', () => {
  it('trims the username and the display name, keeps the password as typed, roles in their order', () => {
    expect(
      accountBodyOf({
        username: '  kadri.tamm ',
        displayName: ' Kadri Tamm ',
        organisation: 'cert-ee',
        roles: ['admin', 'watch_officer'],
        password: ' a long passphrase ',
      }),
    ).toEqual({
      username: 'kadri.tamm',
      displayName: 'Kadri Tamm',
      organisation: 'cert-ee',
      roles: ['watch_officer', 'admin'],
      password: ' a long passphrase ',
    })
  })

  it('leaves an empty display name out (the server gives the username), and sends no nation', () => {
    const body = accountBodyOf({ ...emptyAccountForm('cert-lv'), username: 'liis', displayName: '  ', password: 'x' })
    expect(body).toEqual({ username: 'liis', organisation: 'cert-lv', roles: ['watch_officer'], password: 'x' })
    expect('displayName' in body).toBe(false)
    expect('nation' in body).toBe(false)
  })

  it('sends what the server must refuse as it is, for the server to name it (no roles, no organisation)', () => {
    expect(accountBodyOf({ ...emptyAccountForm(), username: 'a', roles: [], password: 'short' })).toEqual({
      username: 'a',
      organisation: '',
      roles: [],
      password: 'short',
    })
  })
})

describe('roles', () => {
  it('adds and removes a role, in protocol’s order, without repeats', () => {
    expect(withRole(['admin'], 'watch_officer', true)).toEqual(['watch_officer', 'admin'])
    expect(withRole(['watch_officer', 'admin'], 'admin', false)).toEqual(['watch_officer'])
    expect(withRole(['admin'], 'admin', true)).toEqual(['admin'])
    expect(withRole([], 'sensor', false)).toEqual([])
  })

  it('tells the same roles in any order, and says them in words', () => {
    expect(sameRoles(['admin', 'coordinator'], ['coordinator', 'admin'])).toBe(true)
    expect(sameRoles(['admin'], ['admin', 'coordinator'])).toBe(false)
    expect(sameRoles(['admin', 'analyst'], ['admin', 'coordinator'])).toBe(false)
    expect(describeRoles(['watch_officer', 'admin'])).toBe('watch officer, admin')
    expect(describeRoles([])).toBe('no roles')
  })

  it('marks the account signed in as yours', () => {
    expect(isOwnAccount(account('kadri'), 'kadri')).toBe(true)
    expect(isOwnAccount(account('kadri'), 'Kadri')).toBe(true)
    expect(isOwnAccount(account('kadri'), 'mart')).toBe(false)
    expect(isOwnAccount(account('kadri'), undefined)).toBe(false)
  })
})

describe('the accounts’ REST calls', () => {
  it('reads the accounts by username, with protocol’s shape', async () => {
    const fetchFn = fakeFetch(200, { accounts: [account('mart'), account('kadri')] })
    expect((await loadAccounts(fetchFn)).map((a) => a.username)).toEqual(['kadri', 'mart'])
    expect(callOf(fetchFn)[0]).toBe('/api/v1/accounts')
    expect(callOf(fetchFn)[1]).toMatchObject({ method: 'GET', credentials: 'same-origin' })
    expect(accountsOf({})).toEqual([])
    // a reply that is not an account is an error; a field an account does not have is not kept
    expect(() => accountsOf({ accounts: [{ username: 'x' }] })).toThrow(ApiError)
    expect(accountsOf({ accounts: [{ ...account('x'), passwordHash: '$scrypt$' }] })[0]).not.toHaveProperty(
      'passwordHash',
    )
  })

  it('posts a new account as JSON and answers the account made', async () => {
    const fetchFn = fakeFetch(201, { account: account('liis', { organisation: 'cert-lv', nation: 'LV' }) })
    const made = await createAccount(
      { username: 'liis', organisation: 'cert-lv', roles: ['watch_officer'], password: 'twelve chars!' },
      fetchFn,
    )
    expect(made.nation).toBe('LV')
    const [path, init] = callOf(fetchFn)
    expect(path).toBe('/api/v1/accounts')
    expect(init).toMatchObject({ method: 'POST' })
    expect(init.headers).toMatchObject({ 'Content-Type': 'application/json' })
    expect(JSON.parse(String(init.body))).toEqual({
      username: 'liis',
      organisation: 'cert-lv',
      roles: ['watch_officer'],
      password: 'twelve chars!',
    })
  })

  it('changes an account with PATCH on its path, escaped, sending only what changes', async () => {
    const fetchFn = fakeFetch(200, { account: account('kadri', { disabled: true }) })
    expect((await updateAccount('kadri', { disabled: true }, fetchFn)).disabled).toBe(true)
    expect(callOf(fetchFn)[0]).toBe('/api/v1/accounts/kadri')
    expect(callOf(fetchFn)[1]).toMatchObject({ method: 'PATCH', body: '{"disabled":true}' })
    expect(accountPath('a/b')).toBe('/api/v1/accounts/a%2Fb')
  })

  it('throws the server’s refusal, which reads as the form’s error: a 409 with its message, a 400 with its fields', async () => {
    const own = fakeFetch(409, {
      error: { code: 'conflict', message: 'an admin cannot disable their own account or drop their own admin role' },
    })
    const refused = await updateAccount('admin', { disabled: true }, own).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ApiError)
    expect(formErrorOf(refused)).toEqual({
      status: 409,
      code: 'conflict',
      message: 'an admin cannot disable their own account or drop their own admin role',
      issues: [],
    })
    const invalid = fakeFetch(400, {
      error: {
        code: 'validation',
        message: 'invalid input',
        details: { issues: [{ path: 'password', message: 'at least 12 characters' }] },
      },
    })
    const short = await createAccount(
      { username: 'x', organisation: 'cert-ee', roles: ['analyst'], password: 'short' },
      invalid,
    ).catch((e: unknown) => e)
    expect(issuesFor(formErrorOf(short), 'password')).toEqual([{ path: 'password', message: 'at least 12 characters' }])
  })
})

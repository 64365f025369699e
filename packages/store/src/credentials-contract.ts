import { randomBytes, randomUUID } from 'node:crypto'
import { WatchfloorError } from '@watchfloor/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type CredentialChange,
  type CredentialStore,
  hashSecret,
  type NewAccount,
  type NewToken,
} from './credentials.ts'

export interface CredentialStoreFactory {
  /** A fresh, empty store. */
  create(): Promise<CredentialStore>
  /** The same data opened again (after `close`), as a restarted process would. */
  reopen(store: CredentialStore): Promise<CredentialStore>
  /** Remove what `create` made. */
  destroy(store: CredentialStore): Promise<void>
}

export function newAccount(username: string, overrides: Partial<NewAccount> = {}): NewAccount {
  return {
    username,
    displayName: `${username} (display)`,
    organisation: 'cert-lv',
    nation: 'LV',
    roles: ['liaison'],
    passwordHash: `$scrypt$ln=15,r=8,p=1$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`,
    ...overrides,
  }
}

export function newToken(overrides: Partial<NewToken> = {}): NewToken & { secret: string } {
  const secret = `wf_${randomBytes(32).toString('base64url')}`
  return {
    id: randomUUID(),
    secretHash: hashSecret(secret),
    label: 'laptop',
    kind: 'api',
    owner: null,
    service: null,
    preset: null,
    tlpCeiling: null,
    createdBy: 'admin',
    expiresAt: null,
    ...overrides,
    secret,
  }
}

const hourFromNow = () => new Date(Date.now() + 3_600_000).toISOString()

async function rejection(promise: Promise<unknown>): Promise<WatchfloorError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (reason: unknown) => reason,
  )
  expect(error).toBeInstanceOf(WatchfloorError)
  return error as WatchfloorError
}

/** The contract every CredentialStore passes. */
export function registerCredentialStoreContract(name: string, factory: CredentialStoreFactory): void {
  describe(`CredentialStore contract: ${name}`, () => {
    const open: CredentialStore[] = []
    const create = async () => {
      const store = await factory.create()
      open.push(store)
      return store
    }
    afterEach(async () => {
      for (const store of open.splice(0)) await factory.destroy(store)
    })

    it('creates accounts with unique usernames and lists them by username, never with the password hash', async () => {
      const store = await create()
      const created = await store.createAccount(newAccount('janis'))
      expect(created).toMatchObject({
        username: 'janis',
        displayName: 'janis (display)',
        organisation: 'cert-lv',
        nation: 'LV',
        roles: ['liaison'],
        disabled: false,
      })
      expect(Date.parse(created.createdAt)).not.toBeNaN()
      expect(created.updatedAt).toBe(created.createdAt)
      await store.createAccount(newAccount('anna', { roles: ['admin', 'analyst'], disabled: true }))
      const error = await rejection(store.createAccount(newAccount('janis', { organisation: 'other' })))
      expect(error.code).toBe('conflict')
      const accounts = await store.listAccounts()
      expect(accounts.map((a) => a.username)).toEqual(['anna', 'janis'])
      expect(accounts[0]).toMatchObject({ roles: ['admin', 'analyst'], disabled: true })
      for (const account of [...accounts, await store.getAccount('janis')])
        expect(Object.keys(account!).sort()).toEqual(
          ['createdAt', 'disabled', 'displayName', 'nation', 'organisation', 'roles', 'updatedAt', 'username'].sort(),
        )
      expect(await store.getAccount('nobody')).toBeNull()
    })

    it('gives the password hash only for signing in', async () => {
      const store = await create()
      const input = newAccount('kadri')
      await store.createAccount(input)
      const login = await store.getLogin('kadri')
      expect(login?.passwordHash).toBe(input.passwordHash)
      expect(login?.account.username).toBe('kadri')
      expect(await store.getLogin('nobody')).toBeNull()
      await store.createAccount(newAccount('nopass', { passwordHash: null }))
      expect((await store.getLogin('nopass'))?.passwordHash).toBeNull()
    })

    it('updates roles, display name, disabled flag and password hash, leaving the rest', async () => {
      const store = await create()
      const before = await store.createAccount(newAccount('pieter'))
      await new Promise((r) => setTimeout(r, 5))
      const after = await store.updateAccount('pieter', { roles: ['analyst', 'coordinator'], disabled: true })
      expect(after).toMatchObject({
        username: 'pieter',
        displayName: 'pieter (display)',
        roles: ['analyst', 'coordinator'],
        disabled: true,
        createdAt: before.createdAt,
      })
      expect(after!.updatedAt > before.updatedAt).toBe(true)
      await store.updateAccount('pieter', { passwordHash: 'new-hash', displayName: 'Pieter', disabled: false })
      expect(await store.getLogin('pieter')).toMatchObject({
        passwordHash: 'new-hash',
        account: { displayName: 'Pieter', disabled: false, roles: ['analyst', 'coordinator'] },
      })
      expect(await store.updateAccount('nobody', { disabled: true })).toBeNull()
    })

    it('keeps only the hash of a token secret and finds the token by it, revoked or not', async () => {
      const store = await create()
      await store.createAccount(newAccount('janis'))
      const input = newToken({ owner: 'janis', label: 'janis laptop' })
      const token = await store.createToken(input)
      expect(token).toEqual({
        id: input.id,
        label: 'janis laptop',
        kind: 'api',
        owner: 'janis',
        service: null,
        preset: null,
        tlpCeiling: null,
        createdBy: 'admin',
        createdAt: token.createdAt,
        lastUsedAt: null,
        revokedAt: null,
        expiresAt: null,
      })
      expect(JSON.stringify(token)).not.toContain(input.secretHash)
      expect(await store.findToken(hashSecret(input.secret))).toEqual(token)
      expect(await store.findToken(hashSecret('wrong'))).toBeNull()
      expect(await store.getToken(input.id)).toEqual(token)
      const revoked = await store.revokeToken(input.id)
      expect(Date.parse(revoked!.revokedAt!)).not.toBeNaN()
      expect((await store.findToken(input.secretHash))?.revokedAt).toBe(revoked!.revokedAt)
      // revoking again keeps the first time
      const again = await store.revokeToken(input.id, new Date(Date.now() + 60_000))
      expect(again!.revokedAt).toBe(revoked!.revokedAt)
      expect(await store.revokeToken('no-such-token')).toBeNull()
    })

    it('keeps when a token expires, or that it never does, and refuses an expiry that is no time', async () => {
      const store = await create()
      await store.createAccount(newAccount('janis'))
      // given with an offset, kept (and returned) as UTC
      const expiring = newToken({ owner: 'janis', expiresAt: '2031-02-03T06:05:06.789+02:00' })
      const expiresAt = '2031-02-03T04:05:06.789Z'
      const never = newToken({ owner: 'janis', expiresAt: null })
      const created = await store.createToken(expiring)
      expect(created.expiresAt).toBe(expiresAt)
      expect((await store.createToken(never)).expiresAt).toBeNull()
      expect((await store.findToken(expiring.secretHash))?.expiresAt).toBe(expiresAt)
      expect((await store.getToken(expiring.id))?.expiresAt).toBe(expiresAt)
      expect((await store.findToken(never.secretHash))?.expiresAt).toBeNull()
      expect((await store.getToken(never.id))?.expiresAt).toBeNull()
      const listed = await store.listTokens({ owner: 'janis' })
      expect(Object.fromEntries(listed.map((t) => [t.id, t.expiresAt]))).toEqual({
        [expiring.id]: expiresAt,
        [never.id]: null,
      })
      expect(await store.getToken(expiring.id)).toEqual(created)
      // revoking keeps the expiry
      expect((await store.revokeToken(expiring.id))?.expiresAt).toBe(expiresAt)
      const bad = await rejection(store.createToken(newToken({ owner: 'janis', expiresAt: 'next tuesday' })))
      expect(bad.code).toBe('validation')
      expect(bad.message).toContain('expiresAt')
    })

    it('holds display tokens with their preset and ceiling, and service principals', async () => {
      const store = await create()
      const wall = newToken({
        kind: 'display',
        label: 'wall',
        preset: 'overview',
        tlpCeiling: 'AMBER',
        service: { user: 'wall', organisation: 'alliance', nation: 'ALLIANCE', roles: ['watch_officer'], sources: [] },
      })
      const relay = newToken({
        label: 'relay',
        service: {
          user: 'relay',
          organisation: 'alliance',
          nation: 'ALLIANCE',
          roles: ['sensor'],
          sources: ['cert-ee', 'cert-lv'],
        },
      })
      await store.createToken(wall)
      await store.createToken(relay)
      expect(await store.findToken(wall.secretHash)).toMatchObject({
        kind: 'display',
        preset: 'overview',
        tlpCeiling: 'AMBER',
        owner: null,
        service: { user: 'wall', organisation: 'alliance', nation: 'ALLIANCE', roles: ['watch_officer'], sources: [] },
      })
      expect((await store.findToken(relay.secretHash))?.service?.sources).toEqual(['cert-ee', 'cert-lv'])
    })

    it('refuses a token for no account, for both an account and a service, and a reused id or secret', async () => {
      const store = await create()
      expect((await rejection(store.createToken(newToken({ owner: 'ghost' })))).code).toBe('not_found')
      expect((await rejection(store.createToken(newToken()))).code).toBe('validation')
      await store.createAccount(newAccount('janis'))
      const both = newToken({
        owner: 'janis',
        service: { user: 'x', organisation: 'x', nation: 'X', roles: ['sensor'], sources: [] },
      })
      expect((await rejection(store.createToken(both))).code).toBe('validation')
      const first = newToken({ owner: 'janis' })
      await store.createToken(first)
      expect((await rejection(store.createToken(newToken({ owner: 'janis', id: first.id })))).code).toBe('conflict')
      expect(
        (await rejection(store.createToken(newToken({ owner: 'janis', secretHash: first.secretHash })))).code,
      ).toBe('conflict')
    })

    it('lists tokens, all or of one owner, oldest first, without secrets', async () => {
      const store = await create()
      await store.createAccount(newAccount('janis'))
      await store.createAccount(newAccount('kadri'))
      const made: (NewToken & { secret: string })[] = []
      for (const owner of ['janis', 'kadri', 'janis']) {
        const token = newToken({ owner })
        made.push(token)
        await store.createToken(token)
        await new Promise((r) => setTimeout(r, 3))
      }
      const all = await store.listTokens()
      expect(all.map((t) => t.id)).toEqual(made.map((t) => t.id))
      const janis = await store.listTokens({ owner: 'janis' })
      expect(janis.map((t) => t.id)).toEqual([made[0]!.id, made[2]!.id])
      expect(await store.listTokens({ owner: 'nobody' })).toEqual([])
      const text = JSON.stringify(all)
      for (const token of made) {
        expect(text).not.toContain(token.secret)
        expect(text).not.toContain(token.secretHash)
      }
    })

    it('records when a token was last used', async () => {
      const store = await create()
      const token = newToken({
        service: { user: 's', organisation: 'cert-ee', nation: 'EE', roles: ['sensor'], sources: [] },
      })
      await store.createToken(token)
      const at = new Date('2026-11-26T08:00:00.000Z')
      await store.touchToken(token.id, at)
      expect((await store.getToken(token.id))?.lastUsedAt).toBe(at.toISOString())
    })

    it('creates, finds and deletes sessions by the hash of their id', async () => {
      const store = await create()
      await store.createAccount(newAccount('janis'))
      const expiresAt = hourFromNow()
      const session = await store.createSession({ idHash: hashSecret('session-1'), account: 'janis', expiresAt })
      expect(session).toMatchObject({ idHash: hashSecret('session-1'), account: 'janis', expiresAt })
      expect(await store.findSession(hashSecret('session-1'))).toEqual(session)
      expect(await store.findSession(hashSecret('session-2'))).toBeNull()
      expect(await store.deleteSession(hashSecret('session-1'))).toBe(true)
      expect(await store.deleteSession(hashSecret('session-1'))).toBe(false)
      expect(await store.findSession(hashSecret('session-1'))).toBeNull()
      expect(
        (await rejection(store.createSession({ idHash: hashSecret('x'), account: 'ghost', expiresAt }))).code,
      ).toBe('not_found')
    })

    it('ends every session of an account, and drops expired sessions', async () => {
      const store = await create()
      await store.createAccount(newAccount('janis'))
      await store.createAccount(newAccount('kadri'))
      const past = new Date(Date.now() - 1000).toISOString()
      await store.createSession({ idHash: hashSecret('j1'), account: 'janis', expiresAt: hourFromNow() })
      await store.createSession({ idHash: hashSecret('j2'), account: 'janis', expiresAt: hourFromNow() })
      await store.createSession({ idHash: hashSecret('k1'), account: 'kadri', expiresAt: hourFromNow() })
      await store.createSession({ idHash: hashSecret('k2'), account: 'kadri', expiresAt: past })
      expect(await store.deleteSessionsOf('janis')).toBe(2)
      expect(await store.findSession(hashSecret('j2'))).toBeNull()
      expect(await store.deleteExpiredSessions(new Date())).toBe(1)
      expect(await store.findSession(hashSecret('k2'))).toBeNull()
      expect(await store.findSession(hashSecret('k1'))).not.toBeNull()
    })

    it('tells listeners of revoked tokens, ended sessions and changed accounts', async () => {
      const store = await create()
      const changes: CredentialChange[] = []
      const off = store.onChange((change) => changes.push(change))
      await store.createAccount(newAccount('janis'))
      const token = newToken({ owner: 'janis' })
      await store.createToken(token)
      await store.createSession({ idHash: hashSecret('s1'), account: 'janis', expiresAt: hourFromNow() })
      await store.createSession({ idHash: hashSecret('s2'), account: 'janis', expiresAt: hourFromNow() })
      expect(changes).toEqual([])
      await store.revokeToken(token.id)
      await store.deleteSession(hashSecret('s1'))
      await store.updateAccount('janis', { disabled: true })
      await store.deleteSessionsOf('janis')
      await expect
        .poll(() => changes)
        .toEqual([
          { type: 'token', id: token.id },
          { type: 'session', idHash: hashSecret('s1') },
          { type: 'account', username: 'janis' },
          { type: 'account', username: 'janis' },
        ])
      off()
      await store.revokeToken(token.id)
      await new Promise((r) => setTimeout(r, 50))
      expect(changes).toHaveLength(4)
    })

    it('keeps everything across a reopen', async () => {
      const store = await create()
      await store.createAccount(newAccount('janis'))
      const token = newToken({ owner: 'janis' })
      await store.createToken(token)
      await store.revokeToken(token.id)
      const expiring = newToken({ owner: 'janis', expiresAt: '2030-01-01T00:00:00.000Z' })
      await store.createToken(expiring)
      await store.createSession({ idHash: hashSecret('s1'), account: 'janis', expiresAt: hourFromNow() })
      await store.close()
      const reopened = await factory.reopen(store)
      open.push(reopened)
      expect((await reopened.getAccount('janis'))?.roles).toEqual(['liaison'])
      expect((await reopened.findToken(token.secretHash))?.revokedAt).not.toBeNull()
      expect((await reopened.findToken(token.secretHash))?.expiresAt).toBeNull()
      expect((await reopened.findToken(expiring.secretHash))?.expiresAt).toBe('2030-01-01T00:00:00.000Z')
      expect((await reopened.findSession(hashSecret('s1')))?.account).toBe('janis')
    })
  })
}

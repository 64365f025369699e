import { randomBytes, randomUUID } from 'node:crypto'
import { WatchfloorError } from '@watchfloor/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { SignInOutcome } from './credentials.ts'
import {
  type CredentialChange,
  type CredentialStore,
  type FeedState,
  hashSecret,
  type NewAccount,
  type NewCommunity,
  type NewFeed,
  type NewOrganisation,
  type NewToken,
  ORGANISATION_KINDS,
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

export function newOrganisation(id: string, overrides: Partial<NewOrganisation> = {}): NewOrganisation {
  return { id, name: `${id} (name)`, nation: 'EE', kind: 'ally_cert', ...overrides }
}

export function newCommunity(id: string, members: string[], overrides: Partial<NewCommunity> = {}): NewCommunity {
  return { id, name: `${id} (name)`, members, ...overrides }
}

export function newFeed(id: string, organisation: string, overrides: Partial<NewFeed> = {}): NewFeed {
  return {
    id,
    label: `${id} (label)`,
    url: 'https://taxii.example.org',
    apiRoot: 'api',
    collectionId: '91a7b528-80eb-42ed-a74d-c6fbd5a26116',
    organisation,
    auth: { kind: 'none' },
    pollSeconds: 300,
    defaultTlp: 'AMBER',
    createdBy: 'admin',
    ...overrides,
  }
}

/** The state of a feed nothing was recorded for but a claim. */
const EMPTY_STATE: Omit<FeedState, 'feedId'> = {
  cursor: null,
  lastAttemptAt: null,
  lastSuccessAt: null,
  lastError: null,
  consecutiveFailures: 0,
  objectsImported: 0,
  eventsStored: 0,
  nextPollAt: null,
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

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

    it('[V5] gives a user id to one organisation: no account or service token of another takes one a principal has, revoked or disabled', async () => {
      const store = await create()
      const service = (user: string, organisation: string, nation = 'LV') =>
        newToken({ service: { user, organisation, nation, roles: ['sensor'], sources: [] } })
      await store.createAccount(newAccount('kadri', { organisation: 'cert-ee', nation: 'EE' }))
      // a service identity named like another organisation's account
      const byAccount = await rejection(store.createToken(service('kadri', 'cert-lv')))
      expect(byAccount.code).toBe('conflict')
      expect(byAccount.message).toBe(
        'user id kadri is taken by another organisation (an account of cert-ee): a user id names one person of one organisation',
      )
      expect(byAccount.details).toEqual({ userId: 'kadri', organisation: 'cert-ee', heldBy: 'account' })
      // the same organisation may: a person's account, and an identity of that organisation named alike
      await store.createToken(service('kadri', 'cert-ee', 'EE'))
      await store.createToken(newToken({ owner: 'kadri' }))
      // a service identity's user id: neither another organisation's service token nor its account takes it
      const probe = await store.createToken(service('probe', 'cert-lv'))
      const byService = await rejection(store.createToken(service('probe', 'cert-ee', 'EE')))
      expect(byService.code).toBe('conflict')
      expect(byService.details).toEqual({ userId: 'probe', organisation: 'cert-lv', heldBy: 'service token' })
      const account = await rejection(
        store.createAccount(newAccount('probe', { organisation: 'cert-ee', nation: 'EE' })),
      )
      expect(account.message).toContain('(a service token of cert-lv)')
      // revoked, a token keeps its user id; disabled, an account keeps its: the log's RED events name them still
      await store.revokeToken(probe.id)
      expect((await rejection(store.createToken(service('probe', 'cert-ee', 'EE')))).code).toBe('conflict')
      await store.updateAccount('kadri', { disabled: true })
      expect((await rejection(store.createToken(service('kadri', 'alliance', 'ALLIANCE')))).code).toBe('conflict')
      // an account of the service's own organisation is fine; a username taken is taken, in its organisation too
      await store.createAccount(newAccount('probe', { organisation: 'cert-lv' }))
      expect(
        (await rejection(store.createAccount(newAccount('kadri', { organisation: 'cert-ee', nation: 'EE' })))).message,
      ).toBe('account kadri already exists')
      // nothing refused was written
      const tokens = await store.listTokens()
      // (in any order: tokens made in one millisecond list as the store finds them)
      expect(tokens.map((t) => (t.service ? `${t.service.user}@${t.service.organisation}` : t.owner)).sort()).toEqual([
        'kadri',
        'kadri@cert-ee',
        'probe@cert-lv',
      ])
      expect((await store.listAccounts()).map((a) => `${a.username}@${a.organisation}`)).toEqual([
        'kadri@cert-ee',
        'probe@cert-lv',
      ])
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

    it('signs in only while the account holds the password checked: a reset, disabling or missing account in between is null, nothing written', async () => {
      const store = await create()
      const old = newAccount('janis').passwordHash!
      await store.createAccount(newAccount('janis', { passwordHash: old }))
      const at = { account: 'janis', expiresAt: hourFromNow() }
      const made = await store.signIn({ ...at, idHash: hashSecret('in-1') }, { passwordHash: old })
      expect(made).toMatchObject({ idHash: hashSecret('in-1'), account: 'janis' })
      expect(await store.findSession(hashSecret('in-1'))).toEqual(made)
      // the rehash goes in the same step
      const stronger = newAccount('x').passwordHash!
      await store.signIn({ ...at, idHash: hashSecret('in-2') }, { passwordHash: old, rehash: stronger })
      expect((await store.getLogin('janis'))?.passwordHash).toBe(stronger)
      // checked against the old hash while an admin set a new one: refused, and the new one stays
      const reset = newAccount('y').passwordHash!
      await store.updateAccount('janis', { passwordHash: reset })
      expect(
        await store.signIn({ ...at, idHash: hashSecret('in-3') }, { passwordHash: stronger, rehash: old }),
      ).toBeNull()
      expect(await store.findSession(hashSecret('in-3'))).toBeNull()
      expect((await store.getLogin('janis'))?.passwordHash).toBe(reset)
      // disabled meanwhile; no such account
      await store.updateAccount('janis', { disabled: true })
      expect(await store.signIn({ ...at, idHash: hashSecret('in-4') }, { passwordHash: reset })).toBeNull()
      expect(await store.findSession(hashSecret('in-4'))).toBeNull()
      expect(
        await store.signIn(
          { account: 'ghost', expiresAt: hourFromNow(), idHash: hashSecret('in-5') },
          { passwordHash: old },
        ),
      ).toBeNull()
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

    it('creates, gets, lists, updates and deletes organisations', async () => {
      const store = await create()
      const created = await store.createOrganisation({
        id: 'cert-ee',
        name: '  CERT-EE  ',
        nation: 'EE',
        kind: 'ally_cert',
      })
      expect(created).toEqual({
        id: 'cert-ee',
        name: 'CERT-EE',
        nation: 'EE',
        kind: 'ally_cert',
        createdAt: created.createdAt,
        updatedAt: created.createdAt,
      })
      expect(Date.parse(created.createdAt)).not.toBeNaN()
      expect(await store.getOrganisation('cert-ee')).toEqual(created)
      expect(await store.getOrganisation('nobody')).toBeNull()
      // every kind; ids that sort differently by byte and by a locale's collation
      const ids = ['b_x', 'b-x', 'bx', 'b.x', 'b9']
      for (const [i, id] of ids.entries())
        await store.createOrganisation(
          newOrganisation(id, { kind: ORGANISATION_KINDS[i % ORGANISATION_KINDS.length]! }),
        )
      const listed = await store.listOrganisations()
      expect(listed.map((o) => o.id)).toEqual(['b-x', 'b.x', 'b9', 'b_x', 'bx', 'cert-ee'])
      expect(new Set(listed.map((o) => o.kind))).toEqual(new Set(ORGANISATION_KINDS))
      expect(listed.at(-1)).toEqual(created)

      await new Promise((r) => setTimeout(r, 5))
      const renamed = await store.updateOrganisation('cert-ee', { name: 'CERT Estonia' })
      expect(renamed).toMatchObject({ id: 'cert-ee', name: 'CERT Estonia', nation: 'EE', kind: 'ally_cert' })
      expect(renamed!.createdAt).toBe(created.createdAt)
      expect(renamed!.updatedAt > created.updatedAt).toBe(true)
      const moved = await store.updateOrganisation('cert-ee', { nation: 'ALLIANCE', kind: 'alliance_body' })
      expect(moved).toMatchObject({ name: 'CERT Estonia', nation: 'ALLIANCE', kind: 'alliance_body' })
      expect(await store.getOrganisation('cert-ee')).toEqual(moved)
      expect(await store.updateOrganisation('nobody', { name: 'x' })).toBeNull()

      expect(await store.deleteOrganisation('cert-ee')).toBe(true)
      expect(await store.deleteOrganisation('cert-ee')).toBe(false)
      expect(await store.getOrganisation('cert-ee')).toBeNull()
      expect((await store.listOrganisations()).map((o) => o.id)).toEqual(['b-x', 'b.x', 'b9', 'b_x', 'bx'])
    })

    it("moves an organisation's accounts and service tokens with its nation, and nothing else", async () => {
      const store = await create()
      await store.createOrganisation(newOrganisation('grid-co', { nation: 'EE' }))
      await store.createOrganisation(newOrganisation('cert-ee', { nation: 'EE' }))
      const mari = await store.createAccount(newAccount('mari', { organisation: 'grid-co', nation: 'EE' }))
      await store.createAccount(newAccount('kadri', { organisation: 'cert-ee', nation: 'EE' }))
      const service = (user: string, organisation: string) =>
        newToken({ service: { user, organisation, nation: 'EE', roles: ['sensor'], sources: [] } })
      const relay = await store.createToken(service('grid-relay', 'grid-co'))
      const other = await store.createToken(service('sensor-ee', 'cert-ee'))
      const owned = await store.createToken(newToken({ owner: 'mari' }))
      await new Promise((r) => setTimeout(r, 5))

      await store.updateOrganisation('grid-co', { name: 'Grid Co' })
      expect(await store.getAccount('mari')).toEqual(mari)
      await store.updateOrganisation('grid-co', { nation: 'LV' })
      const moved = await store.getAccount('mari')
      expect(moved).toMatchObject({ organisation: 'grid-co', nation: 'LV', createdAt: mari.createdAt })
      expect(moved!.updatedAt > mari.updatedAt).toBe(true)
      expect((await store.getLogin('mari'))?.account.nation).toBe('LV')
      expect((await store.getToken(relay.id))?.service).toEqual({ ...relay.service, nation: 'LV' })
      expect(await store.getToken(owned.id)).toEqual(owned)
      // another organisation's people stay where they are
      expect((await store.getAccount('kadri'))?.nation).toBe('EE')
      expect(await store.getToken(other.id)).toEqual(other)
      // a reopened store says the same
      await store.close()
      const reopened = await factory.reopen(store)
      open.push(reopened)
      expect((await reopened.getAccount('mari'))?.nation).toBe('LV')
      expect((await reopened.listTokens()).find((t) => t.id === relay.id)?.service?.nation).toBe('LV')
    })

    it('creates, gets, lists, updates and deletes communities, keeping members sorted and unique', async () => {
      const store = await create()
      for (const id of ['cert-lv', 'cert-ee', 'energy-co', 'grid-op'])
        await store.createOrganisation(newOrganisation(id))
      const created = await store.createCommunity({
        id: 'energy-sector',
        name: ' Energy sector ',
        members: ['grid-op', 'cert-ee', 'energy-co', 'cert-ee'],
      })
      expect(created).toEqual({
        id: 'energy-sector',
        name: 'Energy sector',
        members: ['cert-ee', 'energy-co', 'grid-op'],
        createdAt: created.createdAt,
        updatedAt: created.createdAt,
      })
      expect(Date.parse(created.createdAt)).not.toBeNaN()
      expect(await store.getCommunity('energy-sector')).toEqual(created)
      expect(await store.getCommunity('nobody')).toBeNull()
      const empty = await store.createCommunity(newCommunity('baltic', []))
      expect(empty.members).toEqual([])
      expect(await store.listCommunities()).toEqual([empty, created])

      await new Promise((r) => setTimeout(r, 5))
      const renamed = await store.updateCommunity('energy-sector', { name: 'Energy' })
      expect(renamed).toMatchObject({ name: 'Energy', members: ['cert-ee', 'energy-co', 'grid-op'] })
      expect(renamed!.createdAt).toBe(created.createdAt)
      expect(renamed!.updatedAt > created.updatedAt).toBe(true)
      // members replace the whole set
      const regrouped = await store.updateCommunity('baltic', { members: ['cert-lv', 'cert-ee', 'cert-lv'] })
      expect(regrouped).toMatchObject({ id: 'baltic', name: 'baltic (name)', members: ['cert-ee', 'cert-lv'] })
      expect((await store.updateCommunity('baltic', { members: ['cert-lv'] }))?.members).toEqual(['cert-lv'])
      expect(await store.getCommunity('baltic')).toMatchObject({ members: ['cert-lv'] })
      expect(await store.updateCommunity('nobody', { name: 'x' })).toBeNull()
      expect(await store.updateCommunity('nobody', { members: ['ghost'] })).toBeNull()

      expect(await store.deleteCommunity('energy-sector')).toBe(true)
      expect(await store.deleteCommunity('energy-sector')).toBe(false)
      expect(await store.getCommunity('energy-sector')).toBeNull()
      expect((await store.listCommunities()).map((c) => c.id)).toEqual(['baltic'])
      // its members stay organisations, and may be deleted once nothing else has them
      expect(await store.deleteOrganisation('grid-op')).toBe(true)
    })

    it('keeps ids unique across organisations and communities', async () => {
      const store = await create()
      await store.createOrganisation(newOrganisation('cert-ee'))
      await store.createCommunity(newCommunity('energy-sector', ['cert-ee']))
      const asCommunity = await rejection(store.createCommunity(newCommunity('cert-ee', [])))
      expect(asCommunity.code).toBe('conflict')
      expect(asCommunity.message).toContain('cert-ee')
      const asOrganisation = await rejection(store.createOrganisation(newOrganisation('energy-sector')))
      expect(asOrganisation.code).toBe('conflict')
      expect(asOrganisation.message).toContain('energy-sector')
      expect((await rejection(store.createOrganisation(newOrganisation('cert-ee', { name: 'other' })))).code).toBe(
        'conflict',
      )
      expect((await rejection(store.createCommunity(newCommunity('energy-sector', [])))).code).toBe('conflict')
      expect(await store.listOrganisations()).toMatchObject([{ id: 'cert-ee', name: 'cert-ee (name)' }])
      expect(await store.listCommunities()).toMatchObject([{ id: 'energy-sector', members: ['cert-ee'] }])
      // once the community is gone, its id is free for an organisation
      await store.deleteCommunity('energy-sector')
      expect((await store.createOrganisation(newOrganisation('energy-sector'))).id).toBe('energy-sector')
    })

    it('refuses malformed ids, nations, kinds, names and members, changing nothing', async () => {
      const store = await create()
      const refuses = async (promise: Promise<unknown>, field: string) => {
        const error = await rejection(promise)
        expect(error.code).toBe('validation')
        expect(error.message).toContain(field)
      }
      const badIds = ['', 'Cert-EE', 'cert ee', 'a'.repeat(65), '.', '..', '-x', '_x', 'cert/ee', 'cërt', 'x\n']
      for (const id of badIds) {
        await refuses(store.createOrganisation(newOrganisation(id)), 'id')
        await refuses(store.createCommunity(newCommunity(id, [])), 'id')
      }
      await refuses(store.createOrganisation(newOrganisation(42 as unknown as string)), 'id')
      const badNations = ['', 'E', 'ee', 'Ee', 'E'.repeat(33), 'EE ', 'E_E', '-EE', '9A', 'ÉE']
      for (const nation of badNations)
        await refuses(store.createOrganisation(newOrganisation('x', { nation })), 'nation')
      for (const kind of ['', 'cert', 'ALLY_CERT', undefined])
        await refuses(store.createOrganisation(newOrganisation('x', { kind: kind as never })), 'kind')
      for (const name of ['', '   ', 'n'.repeat(201), null])
        await refuses(store.createOrganisation(newOrganisation('x', { name: name as never })), 'name')
      await refuses(store.createCommunity(newCommunity('c', [], { name: ' ' })), 'name')
      await refuses(store.createCommunity(newCommunity('c', ['Cert-EE'])), 'member')
      await refuses(store.createCommunity(newCommunity('c', 'cert-ee' as unknown as string[])), 'members')
      expect(await store.listOrganisations()).toEqual([])
      expect(await store.listCommunities()).toEqual([])

      // the edges that are allowed
      for (const id of ['a', '9', 'a'.repeat(64), 'cert-ee', 'x_y.z-0'])
        expect((await store.createOrganisation(newOrganisation(id))).id).toBe(id)
      for (const nation of ['LV', 'ALLIANCE', 'EU-CERT1', `A${'B'.repeat(31)}`])
        expect((await store.updateOrganisation('a', { nation }))?.nation).toBe(nation)

      // updates are checked the same way, and a refused one leaves the record as it was
      const before = await store.getOrganisation('cert-ee')
      await refuses(store.updateOrganisation('cert-ee', { nation: 'ee' }), 'nation')
      await refuses(store.updateOrganisation('cert-ee', { kind: 'cert' as never }), 'kind')
      await refuses(store.updateOrganisation('cert-ee', { name: '' }), 'name')
      await refuses(store.updateOrganisation('cert-ee', { name: 'ok', nation: 'ee' }), 'nation')
      expect(await store.getOrganisation('cert-ee')).toEqual(before)
      const community = await store.createCommunity(newCommunity('c', ['cert-ee']))
      await refuses(store.updateCommunity('c', { name: '' }), 'name')
      await refuses(store.updateCommunity('c', { members: ['cert-ee', 'Bad'] }), 'member')
      expect(await store.getCommunity('c')).toEqual(community)
    })

    it('refuses members that are no organisation, naming them, and changes nothing', async () => {
      const store = await create()
      await store.createOrganisation(newOrganisation('cert-ee'))
      await store.createCommunity(newCommunity('baltic', ['cert-ee']))
      const missing = await rejection(store.createCommunity(newCommunity('energy-sector', ['cert-ee', 'ghost'])))
      expect(missing.code).toBe('validation')
      expect(missing.message).toContain('ghost')
      expect(await store.getCommunity('energy-sector')).toBeNull()
      // a community is no organisation, so no member of another
      const nested = await rejection(store.createCommunity(newCommunity('energy-sector', ['baltic'])))
      expect(nested.code).toBe('validation')
      expect(nested.message).toContain('baltic')
      const before = await store.getCommunity('baltic')
      const update = await rejection(
        store.updateCommunity('baltic', { name: 'Baltic', members: ['spectre', 'cert-ee'] }),
      )
      expect(update.code).toBe('validation')
      expect(update.message).toContain('spectre')
      expect(await store.getCommunity('baltic')).toEqual(before)
    })

    it('refuses to delete an organisation while a community, an account or a service token uses it', async () => {
      const store = await create()
      for (const id of ['cert-ee', 'cert-lv', 'alliance', 'spare']) await store.createOrganisation(newOrganisation(id))
      await store.createCommunity(newCommunity('energy-sector', ['cert-ee', 'spare']))
      await store.createAccount(newAccount('janis', { organisation: 'cert-lv' }))
      // an account's token counts through its account
      await store.createToken(newToken({ owner: 'janis' }))
      const relay = newToken({
        label: 'relay',
        service: { user: 'relay', organisation: 'alliance', nation: 'ALLIANCE', roles: ['sensor'], sources: [] },
      })
      await store.createToken(relay)

      const byCommunity = await rejection(store.deleteOrganisation('cert-ee'))
      expect(byCommunity.code).toBe('conflict')
      expect(byCommunity.message).toContain('energy-sector')
      const byAccount = await rejection(store.deleteOrganisation('cert-lv'))
      expect(byAccount.code).toBe('conflict')
      expect(byAccount.message).toContain('janis')
      const byToken = await rejection(store.deleteOrganisation('alliance'))
      expect(byToken.code).toBe('conflict')
      expect(byToken.message).toContain(relay.id)
      expect((await store.listOrganisations()).map((o) => o.id)).toEqual(['alliance', 'cert-ee', 'cert-lv', 'spare'])
      expect(await store.getCommunity('energy-sector')).toMatchObject({ members: ['cert-ee', 'spare'] })

      // out of the community, it may go; the community stays with its other members
      await store.updateCommunity('energy-sector', { members: ['spare'] })
      expect(await store.deleteOrganisation('cert-ee')).toBe(true)
      // deleting the community frees its members
      await store.deleteCommunity('energy-sector')
      expect(await store.deleteOrganisation('spare')).toBe(true)
      // the account and the service token still hold theirs
      expect((await rejection(store.deleteOrganisation('cert-lv'))).code).toBe('conflict')
      expect((await rejection(store.deleteOrganisation('alliance'))).code).toBe('conflict')
    })

    it('tells which communities an organisation belongs to, sorted', async () => {
      const store = await create()
      for (const id of ['cert-ee', 'cert-lv', 'grid-op']) await store.createOrganisation(newOrganisation(id))
      await store.createCommunity(newCommunity('energy-sector', ['grid-op', 'cert-ee']))
      await store.createCommunity(newCommunity('baltic', ['cert-lv', 'cert-ee']))
      await store.createCommunity(newCommunity('b_x', ['cert-ee']))
      await store.createCommunity(newCommunity('b-x', ['cert-ee']))
      expect(await store.communitiesOf('cert-ee')).toEqual(['b-x', 'b_x', 'baltic', 'energy-sector'])
      expect(await store.communitiesOf('cert-lv')).toEqual(['baltic'])
      expect(await store.communitiesOf('grid-op')).toEqual(['energy-sector'])
      expect(await store.communitiesOf('ghost')).toEqual([])
      expect(await store.communitiesOf('baltic')).toEqual([])
      await store.updateCommunity('baltic', { members: ['cert-lv'] })
      await store.deleteCommunity('b_x')
      expect(await store.communitiesOf('cert-ee')).toEqual(['b-x', 'energy-sector'])
      await store.updateCommunity('energy-sector', { members: [] })
      await store.updateCommunity('b-x', { members: [] })
      expect(await store.communitiesOf('cert-ee')).toEqual([])
    })

    it('tells listeners of every directory write, and of nothing else there', async () => {
      const store = await create()
      const changes: CredentialChange[] = []
      store.onChange((change) => changes.push(change))
      await store.createOrganisation(newOrganisation('cert-ee'))
      await store.updateOrganisation('cert-ee', { name: 'CERT-EE' })
      await store.createCommunity(newCommunity('energy-sector', ['cert-ee']))
      await store.updateCommunity('energy-sector', { members: [] })
      await store.deleteCommunity('energy-sector')
      await store.deleteOrganisation('cert-ee')
      const directory = { type: 'directory' }
      await expect.poll(() => changes).toEqual([directory, directory, directory, directory, directory, directory])
      // reads, refusals and writes that find nothing say nothing
      await store.createOrganisation(newOrganisation('cert-lv'))
      await store.createAccount(newAccount('janis', { organisation: 'cert-lv' }))
      changes.length = 0
      await store.listOrganisations()
      await store.listCommunities()
      await store.communitiesOf('cert-lv')
      await rejection(store.createOrganisation(newOrganisation('cert-lv')))
      await rejection(store.createOrganisation(newOrganisation('Bad')))
      await rejection(store.createCommunity(newCommunity('c', ['ghost'])))
      await rejection(store.deleteOrganisation('cert-lv'))
      expect(await store.updateOrganisation('nobody', { name: 'x' })).toBeNull()
      expect(await store.updateCommunity('nobody', { name: 'x' })).toBeNull()
      expect(await store.deleteOrganisation('nobody')).toBe(false)
      expect(await store.deleteCommunity('nobody')).toBe(false)
      await new Promise((r) => setTimeout(r, 50))
      expect(changes).toEqual([])
    })

    it('keeps the directory across a reopen', async () => {
      const store = await create()
      const organisations = [
        await store.createOrganisation(newOrganisation('cert-ee')),
        await store.createOrganisation(newOrganisation('nato', { nation: 'ALLIANCE', kind: 'alliance_body' })),
      ]
      const community = await store.createCommunity(newCommunity('energy-sector', ['nato', 'cert-ee']))
      await store.close()
      const reopened = await factory.reopen(store)
      open.push(reopened)
      expect(await reopened.listOrganisations()).toEqual(organisations)
      expect(await reopened.listCommunities()).toEqual([community])
      expect(await reopened.communitiesOf('nato')).toEqual(['energy-sector'])
      // the rules hold after a reopen too
      expect((await rejection(reopened.createOrganisation(newOrganisation('energy-sector')))).code).toBe('conflict')
      expect((await rejection(reopened.deleteOrganisation('nato'))).code).toBe('conflict')
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

    it('creates, gets, lists, updates and deletes feeds, keeping only the name of a secret', async () => {
      const store = await create()
      await store.createOrganisation(newOrganisation('cert-ee'))
      await store.createOrganisation(newOrganisation('cert-lv', { nation: 'LV' }))
      const created = await store.createFeed({
        id: 'cert-ee-taxii',
        label: '  CERT-EE TAXII  ',
        url: ' https://taxii.cert.ee ',
        apiRoot: '/taxii2/api/',
        collectionId: '91a7b528-80eb-42ed-a74d-c6fbd5a26116',
        organisation: 'cert-ee',
        auth: { kind: 'basic', username: 'watchfloor', secretEnv: 'WATCHFLOOR_FEED_CERT_EE' },
        pollSeconds: 300,
        defaultTlp: 'AMBER+STRICT',
        createdBy: 'admin',
      })
      expect(created).toEqual({
        id: 'cert-ee-taxii',
        label: 'CERT-EE TAXII',
        url: 'https://taxii.cert.ee',
        apiRoot: '/taxii2/api/',
        collectionId: '91a7b528-80eb-42ed-a74d-c6fbd5a26116',
        organisation: 'cert-ee',
        auth: { kind: 'basic', username: 'watchfloor', secretEnv: 'WATCHFLOOR_FEED_CERT_EE' },
        pollSeconds: 300,
        defaultTlp: 'AMBER+STRICT',
        enabled: true,
        createdBy: 'admin',
        createdAt: created.createdAt,
        updatedAt: created.createdAt,
      })
      expect(Date.parse(created.createdAt)).not.toBeNaN()
      expect(await store.getFeed('cert-ee-taxii')).toEqual(created)
      expect(await store.getFeed('nobody')).toBeNull()
      expect(await store.getFeedState('cert-ee-taxii')).toBeNull()

      // ids that sort differently by byte and by a locale's collation; every auth kind
      const bearer = await store.createFeed(
        newFeed('b_x', 'cert-lv', { auth: { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_LV_1' }, enabled: false }),
      )
      expect(bearer).toMatchObject({ auth: { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_LV_1' }, enabled: false })
      const none = await store.createFeed(newFeed('b-x', 'cert-lv', { pollSeconds: 10, defaultTlp: 'CLEAR' }))
      expect(none).toMatchObject({ auth: { kind: 'none' }, pollSeconds: 10, defaultTlp: 'CLEAR', enabled: true })
      expect(await store.listFeeds()).toEqual([none, bearer, created])
      // a secret sent along is never kept
      const leaky = await store.createFeed(
        newFeed('leaky', 'cert-lv', {
          auth: { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_X', secret: 's3cret-value' } as never,
        }),
      )
      expect(leaky.auth).toEqual({ kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_X' })
      expect(JSON.stringify(await store.listFeeds())).not.toContain('s3cret-value')

      const taken = await rejection(store.createFeed(newFeed('cert-ee-taxii', 'cert-lv')))
      expect(taken.code).toBe('conflict')
      expect(taken.message).toContain('cert-ee-taxii')
      expect(await store.getFeed('cert-ee-taxii')).toEqual(created)

      await sleep(5)
      const paused = await store.updateFeed('cert-ee-taxii', { label: ' Paused ', pollSeconds: 86_400, enabled: false })
      expect(paused).toEqual({
        ...created,
        label: 'Paused',
        pollSeconds: 86_400,
        enabled: false,
        updatedAt: paused!.updatedAt,
      })
      expect(paused!.updatedAt > created.updatedAt).toBe(true)
      const moved = await store.updateFeed('cert-ee-taxii', {
        url: 'http://10.0.0.7:9000/',
        apiRoot: 'api1',
        collectionId: 'indicators',
        auth: { kind: 'none' },
        defaultTlp: 'GREEN',
        enabled: true,
      })
      expect(moved).toMatchObject({
        id: 'cert-ee-taxii',
        label: 'Paused',
        url: 'http://10.0.0.7:9000/',
        apiRoot: 'api1',
        collectionId: 'indicators',
        organisation: 'cert-ee',
        auth: { kind: 'none' },
        pollSeconds: 86_400,
        defaultTlp: 'GREEN',
        enabled: true,
        createdBy: 'admin',
        createdAt: created.createdAt,
      })
      expect(await store.getFeed('cert-ee-taxii')).toEqual(moved)
      const basic = { kind: 'basic', username: 'wf@cert.ee', secretEnv: 'WATCHFLOOR_FEED_B' } as const
      expect((await store.updateFeed('b-x', { auth: basic }))?.auth).toEqual(basic)
      expect(await store.updateFeed('nobody', { label: 'x' })).toBeNull()

      expect(await store.deleteFeed('cert-ee-taxii')).toBe(true)
      expect(await store.deleteFeed('cert-ee-taxii')).toBe(false)
      expect(await store.getFeed('cert-ee-taxii')).toBeNull()
      expect((await store.listFeeds()).map((f) => f.id)).toEqual(['b-x', 'b_x', 'leaky'])
      // the id is free again
      expect((await store.createFeed(newFeed('cert-ee-taxii', 'cert-ee'))).label).toBe('cert-ee-taxii (label)')
    })

    it('refuses a feed for an organisation that is not in the directory, naming it', async () => {
      const store = await create()
      await store.createOrganisation(newOrganisation('cert-ee'))
      await store.createCommunity(newCommunity('baltic', ['cert-ee']))
      const missing = await rejection(store.createFeed(newFeed('f', 'ghost')))
      expect(missing.code).toBe('validation')
      expect(missing.message).toContain('ghost')
      expect((missing.details as { issues: { path: string }[] }).issues[0]!.path).toBe('organisation')
      // a community speaks for no one
      const community = await rejection(store.createFeed(newFeed('f', 'baltic')))
      expect(community.code).toBe('validation')
      expect(community.message).toContain('baltic')
      expect(await store.listFeeds()).toEqual([])
    })

    it('refuses malformed feeds and patches, naming the field, and changes nothing', async () => {
      const store = await create()
      await store.createOrganisation(newOrganisation('cert-ee'))
      const refuses = async (promise: Promise<unknown>, field: string) => {
        const error = await rejection(promise)
        expect(error.code).toBe('validation')
        expect(error.message).toContain(field)
        return error
      }
      const feed = (overrides: Record<string, unknown>) => newFeed('f', 'cert-ee', overrides as Partial<NewFeed>)
      const badUrls = [
        '',
        'taxii.example.org',
        '//taxii.example.org',
        'ftp://taxii.example.org',
        'file:///etc/passwd',
        'javascript:alert(1)',
        'https://',
        'https:/taxii.example.org',
        'https://taxii.example.org/?key=1',
        'https://taxii.example.org/#top',
        'https://taxii example.org',
        'https://taxii.example.org/a\nb',
        'https://taxii.example.org/a\tb',
        `https://taxii.example.org/${'a'.repeat(2000)}`,
        42,
        null,
      ]
      for (const url of badUrls) await refuses(store.createFeed(feed({ url })), 'url')
      // credentials in the URL are refused without being repeated
      for (const url of [
        'https://wf:s3cret-value@taxii.example.org',
        'https://s3cret-value@taxii.example.org/',
        'ftp://wf:s3cret-value@taxii.example.org',
        'https://wf:s3cret-value@taxii.example.org/?q',
        'https://wf:s3cret value@taxii.example.org',
      ]) {
        const error = await refuses(store.createFeed(feed({ url })), 'url')
        expect(error.message).not.toContain('s3cret')
      }
      const badRoots = ['', '/', '//', 'api//x', '../api', 'api/../x', './api', 'https://x.org/api', 'api root']
      for (const apiRoot of [...badRoots, 'api?x', 'api#x', '%zz', 'a'.repeat(201), null, 7])
        await refuses(store.createFeed(feed({ apiRoot })), 'apiRoot')
      const badEnvs = [
        '',
        'WATCHFLOOR_FEED_',
        'watchfloor_feed_x',
        'WATCHFLOOR_FEED_x',
        'FEED_X',
        'PATH',
        'AWS_SECRET_ACCESS_KEY',
        'XWATCHFLOOR_FEED_X',
        'WATCHFLOOR_FEED_A-B',
        'WATCHFLOOR_FEED_A B',
        'WATCHFLOOR_FEED_X\n',
        `WATCHFLOOR_FEED_${'A'.repeat(113)}`,
        undefined,
        42,
      ]
      for (const secretEnv of badEnvs) {
        await refuses(store.createFeed(feed({ auth: { kind: 'bearer', secretEnv } })), 'secretEnv')
        await refuses(store.createFeed(feed({ auth: { kind: 'basic', username: 'wf', secretEnv } })), 'secretEnv')
      }
      for (const username of ['', 'wf:x', 'w\nf', undefined, 'u'.repeat(201)])
        await refuses(
          store.createFeed(feed({ auth: { kind: 'basic', username, secretEnv: 'WATCHFLOOR_FEED_X' } })),
          'username',
        )
      for (const auth of [{ kind: 'oauth' }, { kind: 'BEARER', secretEnv: 'WATCHFLOOR_FEED_X' }, {}, null, 'none'])
        await refuses(store.createFeed(feed({ auth })), 'auth')
      for (const pollSeconds of [9, 86_401, 0, -10, 10.5, Number.NaN, Number.POSITIVE_INFINITY, '60', null])
        await refuses(store.createFeed(feed({ pollSeconds })), 'pollSeconds')
      for (const defaultTlp of ['amber', 'WHITE', 'TLP:AMBER', '', null, undefined])
        await refuses(store.createFeed(feed({ defaultTlp })), 'defaultTlp')
      for (const organisation of ['Cert-EE', '', 'cert ee', '../cert-ee', null])
        await refuses(store.createFeed(feed({ organisation })), 'organisation')
      for (const label of ['', '   ', 'l'.repeat(201), null]) await refuses(store.createFeed(feed({ label })), 'label')
      for (const collectionId of ['', ' ', 'a b', 'c'.repeat(201), null])
        await refuses(store.createFeed(feed({ collectionId })), 'collectionId')
      for (const id of ['', 'Bad', 'a/b', '.', null]) await refuses(store.createFeed(feed({ id })), 'id')
      await refuses(store.createFeed(feed({ enabled: 'yes' })), 'enabled')
      await refuses(store.createFeed(feed({ createdBy: '' })), 'createdBy')
      expect(await store.listFeeds()).toEqual([])

      // the edges that are allowed
      for (const [i, apiRoot] of [
        'api',
        '/taxii2/api/',
        'api/',
        '/api',
        'a%20b',
        '.well-known/x',
        "a~b!$&'()*+,;=:@",
      ].entries())
        expect((await store.createFeed(newFeed(`root-${i}`, 'cert-ee', { apiRoot })))?.apiRoot).toBe(apiRoot)
      for (const [i, url] of [
        'http://localhost:8080',
        'HTTPS://TAXII.example.org/taxii2/',
        'https://[::1]:9000',
      ].entries())
        expect((await store.createFeed(newFeed(`url-${i}`, 'cert-ee', { url })))?.url).toBe(url)
      const env = `WATCHFLOOR_FEED_${'A'.repeat(112)}`
      expect(
        (await store.createFeed(newFeed('env', 'cert-ee', { auth: { kind: 'bearer', secretEnv: env } })))?.auth,
      ).toEqual({ kind: 'bearer', secretEnv: env })
      for (const pollSeconds of [10, 86_400])
        expect((await store.updateFeed('env', { pollSeconds }))?.pollSeconds).toBe(pollSeconds)

      // patches are checked the same way, and a refused one leaves the feed as it was
      const before = await store.createFeed(newFeed('f', 'cert-ee'))
      await refuses(store.updateFeed('f', { url: 'ftp://x.org' }), 'url')
      await refuses(store.updateFeed('f', { apiRoot: '../x' }), 'apiRoot')
      await refuses(store.updateFeed('f', { collectionId: '' }), 'collectionId')
      await refuses(store.updateFeed('f', { auth: { kind: 'bearer', secretEnv: 'HOME' } }), 'secretEnv')
      await refuses(store.updateFeed('f', { pollSeconds: 5 }), 'pollSeconds')
      await refuses(store.updateFeed('f', { defaultTlp: 'WHITE' as never }), 'defaultTlp')
      await refuses(store.updateFeed('f', { enabled: 1 as never }), 'enabled')
      await refuses(store.updateFeed('f', { label: 'fine', pollSeconds: 1 }), 'pollSeconds')
      expect(await store.getFeed('f')).toEqual(before)
    })

    it('records a feed state: an upsert of the fields given, read back whole', async () => {
      const store = await create()
      await store.createOrganisation(newOrganisation('cert-ee'))
      await store.createFeed(newFeed('f', 'cert-ee'))
      expect(await store.getFeedState('f')).toBeNull()
      const nextPollAt = '2026-03-01T08:05:00.000Z'
      const first = await store.recordFeedState('f', {
        lastAttemptAt: '2026-03-01T10:00:00.000+02:00',
        lastError: 'https://taxii.example.org answered 503 Service Unavailable',
        consecutiveFailures: 1,
        nextPollAt,
      })
      expect(first).toEqual({
        ...EMPTY_STATE,
        feedId: 'f',
        lastAttemptAt: '2026-03-01T08:00:00.000Z',
        lastError: 'https://taxii.example.org answered 503 Service Unavailable',
        consecutiveFailures: 1,
        nextPollAt,
      })
      expect(await store.getFeedState('f')).toEqual(first)
      // the cursor is kept as the server wrote it (microseconds and all)
      const paged = await store.recordFeedState('f', {
        cursor: '2026-03-01T08:00:00.123456Z',
        objectsImported: 2 ** 40,
        eventsStored: 37,
      })
      expect(paged).toEqual({
        ...first,
        cursor: '2026-03-01T08:00:00.123456Z',
        objectsImported: 2 ** 40,
        eventsStored: 37,
      })
      const succeeded = await store.recordFeedState('f', {
        feedId: 'f',
        lastSuccessAt: '2026-03-01T08:01:00.000Z',
        lastError: null,
        consecutiveFailures: 0,
      })
      expect(succeeded).toEqual({
        ...paged,
        lastSuccessAt: '2026-03-01T08:01:00.000Z',
        lastError: null,
        consecutiveFailures: 0,
      })
      expect(await store.recordFeedState('f', {})).toEqual(succeeded)
      expect(await store.recordFeedState('f', { cursor: null, nextPollAt: null })).toEqual({
        ...succeeded,
        cursor: null,
        nextPollAt: null,
      })
      // a long error is cut, not refused: the poller records what remote servers say
      const long = await store.recordFeedState('f', { lastError: 'e'.repeat(5000) })
      expect(long.lastError).toBe('e'.repeat(2000))

      const refuses = async (promise: Promise<unknown>, field: string) => {
        const error = await rejection(promise)
        expect(error.code).toBe('validation')
        expect(error.message).toContain(field)
      }
      const kept = await store.getFeedState('f')
      await refuses(store.recordFeedState('f', { lastAttemptAt: 'yesterday' }), 'lastAttemptAt')
      await refuses(store.recordFeedState('f', { lastSuccessAt: 42 as never }), 'lastSuccessAt')
      await refuses(store.recordFeedState('f', { nextPollAt: 'soon' }), 'nextPollAt')
      await refuses(store.recordFeedState('f', { consecutiveFailures: -1 }), 'consecutiveFailures')
      await refuses(store.recordFeedState('f', { objectsImported: 1.5 }), 'objectsImported')
      await refuses(store.recordFeedState('f', { eventsStored: '3' as never }), 'eventsStored')
      await refuses(store.recordFeedState('f', { cursor: 42 as never }), 'cursor')
      await refuses(store.recordFeedState('f', { cursor: 'c'.repeat(201) }), 'cursor')
      await refuses(store.recordFeedState('f', { lastError: {} as never }), 'lastError')
      await refuses(store.recordFeedState('f', { feedId: 'g', cursor: 'x' }), 'feedId')
      await refuses(store.recordFeedState('f', { eventsStored: 1, lastAttemptAt: 'never' }), 'lastAttemptAt')
      expect(await store.getFeedState('f')).toEqual(kept)
      const ghost = await rejection(store.recordFeedState('ghost', { consecutiveFailures: 1 }))
      expect(ghost.code).toBe('not_found')
      expect(ghost.message).toContain('ghost')
      expect((await rejection(store.recordFeedState('ghost', {}))).code).toBe('not_found')
      expect(await store.getFeedState('ghost')).toBeNull()

      // a feed's state goes with it, and does not come back with its id
      expect(await store.deleteFeed('f')).toBe(true)
      expect(await store.getFeedState('f')).toBeNull()
      await store.createFeed(newFeed('f', 'cert-ee'))
      expect(await store.getFeedState('f')).toBeNull()
    })

    it('lets one holder at a time claim a feed, until its lease expires or it is released', async () => {
      const store = await create()
      await store.createOrganisation(newOrganisation('cert-ee'))
      await store.createFeed(newFeed('f', 'cert-ee'))
      await store.createFeed(newFeed('g', 'cert-ee'))
      expect(await store.claimFeed('f', 'a', 60_000)).toBe(true)
      expect(await store.claimFeed('f', 'b', 60_000)).toBe(false)
      // its own: renewed
      expect(await store.claimFeed('f', 'a', 60_000)).toBe(true)
      // another feed, another lease
      expect(await store.claimFeed('g', 'b', 60_000)).toBe(true)
      // a claim alone gives the feed a state, of nothing yet
      expect(await store.getFeedState('g')).toEqual({ ...EMPTY_STATE, feedId: 'g' })
      expect(await store.releaseFeed('f', 'b')).toBe(false)
      expect(await store.claimFeed('f', 'b', 60_000)).toBe(false)
      expect(await store.releaseFeed('f', 'a')).toBe(true)
      expect(await store.releaseFeed('f', 'a')).toBe(false)
      // released: the next one takes it at once
      expect(await store.claimFeed('f', 'b', 200)).toBe(true)
      expect(await store.claimFeed('f', 'a', 60_000)).toBe(false)
      await sleep(300)
      // expired: anyone may take it, and the one it was is no longer its holder
      expect(await store.claimFeed('f', 'a', 60_000)).toBe(true)
      expect(await store.claimFeed('f', 'b', 60_000)).toBe(false)
      expect(await store.releaseFeed('f', 'b')).toBe(false)

      // state writes keep the lease, and the lease keeps the state
      await store.recordFeedState('f', { consecutiveFailures: 2, cursor: 'c1' })
      expect(await store.claimFeed('f', 'b', 60_000)).toBe(false)
      expect(await store.claimFeed('f', 'a', 60_000)).toBe(true)
      expect(await store.releaseFeed('f', 'a')).toBe(true)
      expect(await store.getFeedState('f')).toEqual({
        ...EMPTY_STATE,
        feedId: 'f',
        consecutiveFailures: 2,
        cursor: 'c1',
      })

      // many at once: exactly one wins
      for (let round = 0; round < 5; round++) {
        const holders = Array.from({ length: 6 }, (_, i) => `h${round}-${i}`)
        const won = await Promise.all(holders.map((holder) => store.claimFeed('f', holder, 60_000)))
        expect(won.filter(Boolean)).toHaveLength(1)
        expect(await store.releaseFeed('f', holders[won.indexOf(true)]!)).toBe(true)
      }

      const ghost = await rejection(store.claimFeed('ghost', 'a', 1000))
      expect(ghost.code).toBe('not_found')
      expect(ghost.message).toContain('ghost')
      expect(await store.releaseFeed('ghost', 'a')).toBe(false)
      for (const leaseMs of [0, -1, 1.5, 86_400_001, Number.NaN, '1000'])
        expect((await rejection(store.claimFeed('f', 'a', leaseMs as number))).message).toContain('leaseMs')
      for (const holder of ['', 'h'.repeat(201), null])
        expect((await rejection(store.claimFeed('f', holder as string, 1000))).message).toContain('holder')
      // deleting the feed drops its lease with its state
      expect(await store.claimFeed('g', 'b', 60_000)).toBe(true)
      await store.deleteFeed('g')
      await store.createFeed(newFeed('g', 'cert-ee'))
      expect(await store.claimFeed('g', 'a', 60_000)).toBe(true)
    })

    it('refuses to delete an organisation while a feed speaks for it, naming the feed', async () => {
      const store = await create()
      for (const id of ['cert-ee', 'cert-lv']) await store.createOrganisation(newOrganisation(id))
      await store.createFeed(newFeed('ee-taxii', 'cert-ee'))
      await store.createFeed(newFeed('lv-taxii', 'cert-lv'))
      await store.createCommunity(newCommunity('baltic', ['cert-lv']))
      const byFeed = await rejection(store.deleteOrganisation('cert-ee'))
      expect(byFeed.code).toBe('conflict')
      expect(byFeed.message).toContain('feed ee-taxii')
      expect(byFeed.details).toMatchObject({ feeds: ['ee-taxii'] })
      const byBoth = await rejection(store.deleteOrganisation('cert-lv'))
      expect(byBoth.message).toContain('baltic')
      expect(byBoth.message).toContain('feed lv-taxii')
      expect((await store.listOrganisations()).map((o) => o.id)).toEqual(['cert-ee', 'cert-lv'])
      // an update leaves the feed's organisation alone
      await store.updateFeed('ee-taxii', { organisation: 'cert-lv' } as never)
      expect((await store.getFeed('ee-taxii'))?.organisation).toBe('cert-ee')
      // once the feed is gone, the organisation may go
      await store.deleteFeed('ee-taxii')
      expect(await store.deleteOrganisation('cert-ee')).toBe(true)
      await store.deleteCommunity('baltic')
      expect((await rejection(store.deleteOrganisation('cert-lv'))).code).toBe('conflict')
    })

    it('tells listeners of every feed write, and not of states, leases, reads or refusals', async () => {
      const store = await create()
      await store.createOrganisation(newOrganisation('cert-ee'))
      const changes: CredentialChange[] = []
      store.onChange((change) => changes.push(change))
      await store.createFeed(newFeed('f', 'cert-ee'))
      await store.updateFeed('f', { enabled: false })
      await store.createFeed(newFeed('g', 'cert-ee'))
      await store.deleteFeed('g')
      const feeds = { type: 'feeds' }
      await expect.poll(() => changes).toEqual([feeds, feeds, feeds, feeds])
      changes.length = 0
      await store.recordFeedState('f', { consecutiveFailures: 1, lastError: 'down' })
      await store.recordFeedState('f', {})
      await store.claimFeed('f', 'a', 60_000)
      await store.claimFeed('f', 'b', 60_000)
      await store.releaseFeed('f', 'a')
      await store.listFeeds()
      await store.getFeed('f')
      await store.getFeedState('f')
      await rejection(store.createFeed(newFeed('f', 'cert-ee')))
      await rejection(store.createFeed(newFeed('h', 'ghost')))
      await rejection(store.createFeed(newFeed('h', 'cert-ee', { pollSeconds: 1 })))
      await rejection(store.updateFeed('f', { url: 'nope' }))
      await rejection(store.deleteOrganisation('cert-ee'))
      expect(await store.updateFeed('nobody', { label: 'x' })).toBeNull()
      expect(await store.deleteFeed('nobody')).toBe(false)
      await sleep(50)
      expect(changes).toEqual([])
    })

    it('keeps feeds, their states and their leases across a reopen', async () => {
      const store = await create()
      await store.createOrganisation(newOrganisation('cert-ee'))
      const feeds = [
        await store.createFeed(
          newFeed('a', 'cert-ee', { auth: { kind: 'basic', username: 'wf', secretEnv: 'WATCHFLOOR_FEED_A' } }),
        ),
        await store.createFeed(newFeed('b', 'cert-ee', { enabled: false, defaultTlp: 'RED' })),
      ]
      const state = await store.recordFeedState('a', {
        cursor: '2026-03-01T08:00:00.123456Z',
        lastSuccessAt: '2026-03-01T08:01:00.000Z',
        objectsImported: 12,
        eventsStored: 7,
      })
      expect(await store.claimFeed('a', 'first', 60_000)).toBe(true)
      await store.close()
      const reopened = await factory.reopen(store)
      open.push(reopened)
      expect(await reopened.listFeeds()).toEqual(feeds)
      expect(await reopened.getFeedState('a')).toEqual(state)
      expect(await reopened.getFeedState('b')).toBeNull()
      // the lease is still held, by the same holder
      expect(await reopened.claimFeed('a', 'second', 60_000)).toBe(false)
      expect(await reopened.claimFeed('a', 'first', 60_000)).toBe(true)
      expect((await rejection(reopened.deleteOrganisation('cert-ee'))).code).toBe('conflict')
    })

    it('adds up the pulls partners make, per organisation and channel, the latest times winning', async () => {
      const store = await create()
      const changes: CredentialChange[] = []
      store.onChange((change) => changes.push(change))
      expect(await store.listFeedOutActivity()).toEqual([])
      await store.recordFeedOutPull({
        organisation: 'cert-lv',
        channel: 'taxii',
        at: '2026-03-01T10:00:00.000+02:00',
        objects: 12,
      })
      await store.recordFeedOutPull({
        organisation: 'cert-lv',
        channel: 'taxii',
        at: '2026-03-01T08:01:00.000Z',
        objects: 3,
      })
      const lv = {
        organisation: 'cert-lv',
        channel: 'taxii',
        pulls: 2,
        failedPulls: 0,
        objectsServed: 15,
        lastPullObjects: 3,
        lastPullAt: '2026-03-01T08:01:00.000Z',
        lastSuccessAt: '2026-03-01T08:01:00.000Z',
        lastError: null,
      }
      expect(await store.listFeedOutActivity()).toEqual([lv])

      // a refused pull: counted, its error kept, the last success stays
      await store.recordFeedOutPull({
        organisation: 'cert-lv',
        channel: 'taxii',
        at: '2026-03-01T08:02:00.000Z',
        objects: 0,
        error: { status: 406, message: 'the Accept header must include application/taxii+json;version=2.1' },
      })
      const refused = {
        ...lv,
        pulls: 3,
        failedPulls: 1,
        lastPullObjects: 0,
        lastPullAt: '2026-03-01T08:02:00.000Z',
        lastError: {
          status: 406,
          message: 'the Accept header must include application/taxii+json;version=2.1',
          at: '2026-03-01T08:02:00.000Z',
        },
      }
      expect(await store.listFeedOutActivity({ organisation: 'cert-lv' })).toEqual([refused])
      // a success after it: the error stays as the last one, with its time
      await store.recordFeedOutPull({
        organisation: 'cert-lv',
        channel: 'taxii',
        at: '2026-03-01T08:03:00.000Z',
        objects: 1,
      })
      const recovered = {
        ...refused,
        pulls: 4,
        objectsServed: 16,
        lastPullObjects: 1,
        lastPullAt: '2026-03-01T08:03:00.000Z',
        lastSuccessAt: '2026-03-01T08:03:00.000Z',
      }
      // a pull written late (another process, an earlier time): counted, but the latest times stay
      await store.recordFeedOutPull({
        organisation: 'cert-lv',
        channel: 'taxii',
        at: '2026-03-01T07:00:00.000Z',
        objects: 5,
      })
      await store.recordFeedOutPull({
        organisation: 'cert-lv',
        channel: 'taxii',
        at: '2026-03-01T07:30:00.000Z',
        objects: 0,
        error: { status: 500, message: 'internal error' },
      })
      const late = { ...recovered, pulls: 6, failedPulls: 2, objectsServed: 21 }
      expect(await store.listFeedOutActivity({ organisation: 'cert-lv' })).toEqual([late])

      // other channels and organisations are rows of their own, listed by organisation then channel
      await store.recordFeedOutPull({
        organisation: 'cert-ee',
        channel: 'misp',
        at: '2026-03-02T00:00:00.000Z',
        objects: 0,
        error: { status: 404, message: 'e'.repeat(5000) },
      })
      await store.recordFeedOutPull({
        organisation: 'cert-lv',
        channel: 'misp',
        at: '2026-03-02T00:00:00.000Z',
        objects: 2 ** 40,
      })
      await store.recordFeedOutPull({
        organisation: 'b_x',
        channel: 'taxii',
        at: '2026-03-02T00:00:00.000Z',
        objects: 0,
      })
      await store.recordFeedOutPull({
        organisation: 'b-x',
        channel: 'taxii',
        at: '2026-03-02T00:00:00.000Z',
        objects: 0,
      })
      const all = await store.listFeedOutActivity()
      expect(all.map((a) => `${a.organisation}/${a.channel}`)).toEqual([
        'b-x/taxii',
        'b_x/taxii',
        'cert-ee/misp',
        'cert-lv/misp',
        'cert-lv/taxii',
      ])
      const ee = all.find((a) => a.organisation === 'cert-ee')!
      // never a success: no time; a long message is cut
      expect(ee).toMatchObject({ pulls: 1, failedPulls: 1, objectsServed: 0, lastSuccessAt: null })
      expect(ee.lastError?.message).toBe('e'.repeat(2000))
      expect(all.find((a) => a.organisation === 'cert-lv' && a.channel === 'misp')?.objectsServed).toBe(2 ** 40)
      // one organisation's rows only, never another's
      expect((await store.listFeedOutActivity({ organisation: 'cert-ee' })).map((a) => a.organisation)).toEqual([
        'cert-ee',
      ])
      expect(await store.listFeedOutActivity({ organisation: 'nobody' })).toEqual([])

      // malformed pulls are refused, naming the field, and change nothing
      const refuses = async (pull: Record<string, unknown>, field: string) => {
        const error = await rejection(
          store.recordFeedOutPull({
            organisation: 'cert-lv',
            channel: 'taxii',
            at: '2026-03-03T00:00:00.000Z',
            objects: 1,
            ...pull,
          } as never),
        )
        expect(error.code).toBe('validation')
        expect(error.message).toContain(field)
      }
      await refuses({ organisation: '' }, 'organisation')
      await refuses({ organisation: 'o'.repeat(201) }, 'organisation')
      await refuses({ channel: 'stix' }, 'channel')
      await refuses({ at: 'now' }, 'at')
      await refuses({ at: 42 }, 'at')
      await refuses({ objects: -1 }, 'objects')
      await refuses({ objects: 1.5 }, 'objects')
      await refuses({ error: { status: 200, message: 'fine' } }, 'status')
      await refuses({ error: { status: 406, message: 42 } }, 'message')
      expect(await store.listFeedOutActivity()).toEqual(all)

      // nothing of it is a change anyone is told of
      await sleep(50)
      expect(changes).toEqual([])

      // kept across a reopen
      await store.close()
      const reopened = await factory.reopen(store)
      open.push(reopened)
      expect(await reopened.listFeedOutActivity()).toEqual(all)
      await reopened.recordFeedOutPull({
        organisation: 'cert-lv',
        channel: 'taxii',
        at: '2026-03-04T00:00:00.000Z',
        objects: 1,
      })
      expect((await reopened.listFeedOutActivity({ organisation: 'cert-lv' }))[1]).toMatchObject({
        pulls: 7,
        objectsServed: 22,
        lastSuccessAt: '2026-03-04T00:00:00.000Z',
      })
    })

    it('counts every pull made at once, none lost', async () => {
      const store = await create()
      const at = (i: number) => new Date(Date.UTC(2026, 2, 1, 8, 0, 0, i)).toISOString()
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.recordFeedOutPull({
            organisation: 'cert-lv',
            channel: 'misp',
            at: at(i),
            objects: i,
            ...(i % 4 === 0 ? { error: { status: 403, message: `refused ${i}` } } : {}),
          }),
        ),
      )
      expect(await store.listFeedOutActivity()).toEqual([
        {
          organisation: 'cert-lv',
          channel: 'misp',
          pulls: 40,
          failedPulls: 10,
          objectsServed: (39 * 40) / 2,
          lastPullObjects: 39,
          lastPullAt: at(39),
          lastSuccessAt: at(39),
          lastError: { status: 403, message: 'refused 36', at: at(36) },
        },
      ])
    })

    it('keeps TAXII statuses for every process, the newest `keep` of them, and reads them back', async () => {
      const store = await create()
      const at = (i: number) => new Date(Date.UTC(2026, 2, 1, 8, 0, i))
      for (let i = 0; i < 5; i++)
        await store.saveTaxiiStatus(
          {
            id: `status-${i}`,
            owner: i % 2 ? 'cert-lv' : 'cert-ee',
            body: JSON.stringify({ id: `status-${i}` }),
            createdAt: at(i),
          },
          3,
        )
      // the two oldest were dropped
      expect(await store.getTaxiiStatus('status-0')).toBeNull()
      expect(await store.getTaxiiStatus('status-1')).toBeNull()
      expect(await store.getTaxiiStatus('status-4')).toEqual({
        id: 'status-4',
        owner: 'cert-ee',
        body: '{"id":"status-4"}',
        createdAt: at(4),
      })
      expect((await store.getTaxiiStatus('status-3'))?.owner).toBe('cert-lv')
      expect(await store.getTaxiiStatus('status-2')).not.toBeNull()
      expect(await store.getTaxiiStatus('no-such-status')).toBeNull()
    })

    describe('sign-in throttle slots (shared by every process on the database)', () => {
      const minute = 60_000
      const window = 15 * minute
      const limits = (user: string, address: string) => [
        { key: `user:${user}`, max: 5 },
        { key: `addr:${address}`, max: 8 },
      ]
      /** Reserve and settle at once; the attempt's id, or the wait when refused. */
      const attempt = async (
        store: CredentialStore,
        user: string,
        address: string,
        now: number,
        outcome: SignInOutcome | null,
      ): Promise<string | number> => {
        const reservation = await store.reserveSignIn(limits(user, address), window, now)
        if (!reservation.ok) return reservation.waitMs
        if (outcome) await store.settleSignIn(reservation.attempt, outcome)
        return reservation.attempt
      }
      /** 0 when one more attempt fits now (the look gives its slot back). */
      const waitOf = async (store: CredentialStore, user: string, address: string, now: number) => {
        const result = await attempt(store, user, address, now, 'released')
        return typeof result === 'number' ? result : 0
      }

      it('refuses a key at its limit until its oldest failure leaves the window, per key', async () => {
        const store = await create()
        for (let i = 0; i < 5; i++) {
          expect(await waitOf(store, 'anna', '10.0.0.1', i * minute)).toBe(0)
          await attempt(store, 'anna', '10.0.0.1', i * minute, 'failed')
        }
        expect(await waitOf(store, 'anna', '10.0.0.2', 5 * minute)).toBe(10 * minute)
        expect(await waitOf(store, 'bert', '10.0.0.2', 5 * minute)).toBe(0)
        expect(await waitOf(store, 'anna', '10.0.0.2', window + 1)).toBe(0)
        // the address's limit holds whatever the username
        for (let i = 0; i < 8; i++) await attempt(store, `user-${i}`, '10.0.0.9', 0, 'failed')
        expect(await waitOf(store, 'someone', '10.0.0.9', minute)).toBe(14 * minute)
        expect(await waitOf(store, 'someone', '10.0.0.10', minute)).toBe(0)
      })

      it('a success gives its slots back and clears the failures of its first key settled before it', async () => {
        const store = await create()
        for (let i = 0; i < 3; i++) await attempt(store, 'anna', '10.0.0.1', 0, 'failed')
        const running = await attempt(store, 'anna', '10.0.0.5', 0, null) // reserved before the success
        const success = await store.reserveSignIn(limits('anna', '10.0.0.1'), window, 0)
        if (!success.ok) throw new Error('refused')
        await store.settleSignIn(String(running), 'failed') // settled after the success began: it stays
        await store.settleSignIn(success.attempt, 'succeeded')
        for (let i = 0; i < 4; i++) await attempt(store, 'anna', '10.0.0.1', 0, 'failed')
        expect(await waitOf(store, 'anna', '10.0.0.3', 0)).toBeGreaterThan(0) // 1 kept + 4 new
        // the address's failures stayed: 3 + 4, and one more is its limit
        expect(await attempt(store, 'other', '10.0.0.1', 0, 'failed')).toEqual(expect.any(String))
        expect(await waitOf(store, 'third', '10.0.0.1', 0)).toBe(window)
        // successes never count against an address
        for (let i = 0; i < 20; i++) await attempt(store, `user-${i}`, '10.0.0.7', 0, 'succeeded')
        expect(await waitOf(store, 'anyone', '10.0.0.7', 0)).toBe(0)
      })

      it('a pending attempt counts until settled; one never settled leaves with the window', async () => {
        const store = await create()
        const pending = await Promise.all(
          Array.from({ length: 5 }, (_, i) => attempt(store, 'anna', `10.0.1.${i}`, 0, null)),
        )
        expect(await waitOf(store, 'anna', '10.0.2.1', minute)).toBe(14 * minute)
        await store.settleSignIn(String(pending[0]), 'released')
        await store.settleSignIn(String(pending[0]), 'failed') // settled once: a no-op
        expect(await waitOf(store, 'anna', '10.0.2.1', minute)).toBe(0)
        expect(await waitOf(store, 'anna', '10.0.2.1', window + 1)).toBe(0)
        await store.settleSignIn('no-such-attempt', 'failed')
      })

      it('attempts reserved at once: no more granted than the limit', async () => {
        const store = await create()
        const reservations = await Promise.all(
          Array.from({ length: 30 }, (_, i) => store.reserveSignIn(limits('anna', `10.0.3.${i}`), window, 0)),
        )
        expect(reservations.filter((r) => r.ok)).toHaveLength(5)
      })
    })

    it('exportDurable reads every durable row; importDurable writes them into an empty store alike, and refuses a filled one', async () => {
      const store = await create()
      await store.createOrganisation(newOrganisation('cert-ee'))
      await store.createOrganisation(newOrganisation('cert-lv', { nation: 'LV' }))
      await store.createCommunity(newCommunity('baltic', ['cert-lv', 'cert-ee']))
      await store.createAccount(newAccount('janis', { disabled: true }))
      const token = newToken({ owner: 'janis', expiresAt: hourFromNow() })
      await store.createToken(token)
      await store.revokeToken(token.id)
      await store.createFeed(
        newFeed('lv-feed', 'cert-lv', { auth: { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_LV' } }),
      )
      await store.recordFeedState('lv-feed', { cursor: '2026-12-01T09:00:00.123456Z', objectsImported: 3 })
      await store.claimFeed('lv-feed', 'process-a', 60_000)
      await store.recordFeedOutPull({
        organisation: 'cert-lv',
        channel: 'misp',
        at: new Date().toISOString(),
        objects: 2,
      })
      await store.createSession({ idHash: 'a'.repeat(64), account: 'janis', expiresAt: hourFromNow() })
      const dump = await store.exportDurable!()
      expect(Object.fromEntries(Object.entries(dump).map(([table, rows]) => [table, rows.length]))).toEqual({
        organisations: 2,
        communities: 1,
        community_members: 2,
        accounts: 1,
        tokens: 1,
        feeds: 1,
        feed_states: 1,
        feed_out_activity: 1,
      })
      // what a backup carries travels as JSON
      const copy = JSON.parse(JSON.stringify(dump)) as typeof dump
      const other = await create()
      await other.importDurable!(copy)
      expect(await other.exportDurable!()).toEqual(dump)
      // the restored token is found by its secret, revoked as it was; the account kept its hash
      expect(await other.findToken(token.secretHash)).toEqual(await store.findToken(token.secretHash))
      expect(await other.getLogin('janis')).toEqual(await store.getLogin('janis'))
      expect(await other.getFeedState('lv-feed')).toEqual(await store.getFeedState('lv-feed'))
      // sessions are not carried; the lease neither (another holder may claim at once)
      expect(await other.findSession('a'.repeat(64))).toBeNull()
      expect(await other.claimFeed('lv-feed', 'process-b', 60_000)).toBe(true)
      const refused = await rejection(other.importDurable!(copy))
      expect(refused.code).toBe('conflict')
      expect(refused.message).toContain('not empty')
    })
  })
}

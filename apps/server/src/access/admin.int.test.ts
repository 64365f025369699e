import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteCredentialStore } from '@watchfloor/store'
import { afterEach, describe, expect, it } from 'vitest'
import { createAccount, issueToken, type TokenMaker } from './admin.ts'

// issueToken beside a real credential store (a SQLite file): a token that makes a token must still be
// in force, and so must its account, whoever asks (the routes check the caller again too: routes.ts)
describe('issueToken: the token that makes a token', () => {
  const opened: { store: SqliteCredentialStore; dir: string }[] = []
  afterEach(async () => {
    for (const { store, dir } of opened.splice(0)) {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
  const directory = { organisation: (id: string) => (id === 'cert-ee' ? { nation: 'EE' } : undefined) }

  /** A store with an account `anna` (with `roles`) and an API token of hers, made by root. */
  async function withToken(roles: string[]) {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-admin-'))
    const store = new SqliteCredentialStore({ file: join(dir, 'events.sqlite') })
    opened.push({ store, dir })
    await createAccount(
      store,
      directory,
      [],
      { username: 'anna', organisation: 'cert-ee', roles, password: 'correct horse battery staple' },
      10,
    )
    const root: TokenMaker = { user: 'root', account: null, admin: true }
    const { token } = await issueToken(store, directory, [], root, { label: 'anna', owner: 'anna' }, 90)
    const maker: TokenMaker = { user: 'anna', account: 'anna', admin: roles.includes('admin'), tokenId: token.id }
    const make = () => issueToken(store, directory, [], maker, { label: 'made with a token' }, 90)
    return { store, token, make }
  }

  for (const roles of [['analyst'], ['admin']])
    it(`refuses a revoked maker token (${roles[0]}), as the door would: 401 token revoked, nothing made`, async () => {
      const { store, token, make } = await withToken(roles)
      expect((await make()).token.owner).toBe('anna')
      await store.revokeToken(token.id)
      const before = (await store.listTokens()).length
      await expect(make()).rejects.toMatchObject({ code: 'unauthenticated', message: 'token revoked' })
      expect((await store.listTokens()).length).toBe(before)
    })

  for (const roles of [['analyst'], ['admin']])
    it(`refuses a token of a disabled account (${roles[0]}): 401 account disabled, nothing made`, async () => {
      const { store, make } = await withToken(roles)
      await store.updateAccount('anna', { disabled: true })
      const before = (await store.listTokens()).length
      await expect(make()).rejects.toMatchObject({ code: 'unauthenticated', message: 'account disabled' })
      expect((await store.listTokens()).length).toBe(before)
    })
})

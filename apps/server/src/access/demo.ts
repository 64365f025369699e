import { randomBytes, randomUUID } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Role, Tlp } from '@watchfloor/protocol'
import { type CredentialStore, hashSecret, makeFolder } from '@watchfloor/store'
import { hashPassword, randomPassword, verifyPassword } from './passwords.ts'

/** The demo people: one account per role a person holds (sensors are machines: see demo-tokens.json). */
const DEMO_PEOPLE: { username: string; displayName: string; organisation: string; nation: string; roles: Role[] }[] = [
  {
    username: 'watch-officer',
    displayName: 'Watch officer',
    organisation: 'alliance',
    nation: 'ALLIANCE',
    roles: ['watch_officer'],
  },
  {
    username: 'coordinator',
    displayName: 'Coordinator',
    organisation: 'alliance',
    nation: 'ALLIANCE',
    roles: ['coordinator'],
  },
  { username: 'analyst', displayName: 'Analyst', organisation: 'alliance', nation: 'ALLIANCE', roles: ['analyst'] },
  {
    username: 'liaison-lv',
    displayName: 'Liaison (CERT.LV)',
    organisation: 'cert-lv',
    nation: 'LV',
    roles: ['liaison'],
  },
  { username: 'admin', displayName: 'Administrator', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] },
]

const WALL = { label: 'Watch floor wall', preset: 'overview', tlpCeiling: 'AMBER' as Tlp }

export interface DemoAccess {
  /** The file holding the passwords and the wall secret (mode 600). */
  file: string
  /**
   * The demo's accounts. `password` is the one a demo start made for the account; null when the
   * account was already in the store with another (a password an admin set, a restored site's):
   * a start never changes a password it did not make.
   */
  accounts: { username: string; password: string | null; roles: Role[]; organisation: string; nation: string }[]
  wall: { tokenId: string; secret: string; preset: string; tlpCeiling: Tlp }
}

/**
 * The demo's people and wall: at first start, one account per role with a random
 * password, and a read-only display token for the wall (preset `overview`, ceiling
 * AMBER), written to `demo-accounts.json` in the data folder (mode 600). Later
 * starts reuse the file; an account the store lacks (a fresh database) is made again
 * with the file's password, and a revoked or expired wall token is replaced.
 *
 * An account the store holds keeps its password: one an admin changed, or a restored
 * site's (a backup holds the password hashes, never this file), goes on working. The
 * file then says `"password": null` for it, as it no longer knows it
 * (`watchfloor accounts password USERNAME` sets a new one).
 */
export async function seedDemoAccess(
  credentials: CredentialStore,
  dataDir: string,
  passwordCost?: number,
): Promise<DemoAccess> {
  const file = join(dataDir, 'demo-accounts.json')
  const saved = readSaved(file)
  let changed = saved === null
  const accounts: DemoAccess['accounts'] = []
  for (const person of DEMO_PEOPLE) {
    const known = saved?.accounts.find((a) => a.username === person.username)
    const login = await credentials.getLogin(person.username)
    let password: string | null
    if (!login) {
      password = typeof known?.password === 'string' ? known.password : randomPassword()
      await credentials.createAccount({ ...person, passwordHash: await hashPassword(password, passwordCost) })
    } else {
      // the store's account stands: the file says its password only while it is still the one
      const stillKnown =
        typeof known?.password === 'string' && (await verifyPassword(known.password, login.passwordHash, passwordCost))
      password = stillKnown ? (known!.password as string) : null
    }
    if (known?.password !== password) changed = true
    accounts.push({
      username: person.username,
      password,
      roles: person.roles,
      organisation: person.organisation,
      nation: person.nation,
    })
  }

  let wall = saved?.wall
  const existing = wall ? await credentials.findToken(hashSecret(wall.secret)) : null
  const expired = existing?.expiresAt != null && Date.parse(existing.expiresAt) <= Date.now()
  if (!wall || !existing || existing.revokedAt !== null || expired || existing.kind !== 'display') {
    const secret = `wf_${randomBytes(32).toString('base64url')}`
    const token = await credentials.createToken({
      id: randomUUID(),
      secretHash: hashSecret(secret),
      label: WALL.label,
      kind: 'display',
      owner: null,
      service: { user: 'wall', organisation: 'alliance', nation: 'ALLIANCE', roles: ['watch_officer'], sources: [] },
      preset: WALL.preset,
      tlpCeiling: WALL.tlpCeiling,
      createdBy: 'demo',
      // a wall runs unattended: its token does not expire
      expiresAt: null,
    })
    wall = { tokenId: token.id, secret, preset: WALL.preset, tlpCeiling: WALL.tlpCeiling }
    changed = true
  }

  const demo: DemoAccess = { file, accounts, wall }
  if (changed) {
    makeFolder(dataDir)
    const { file: _file, ...content } = demo
    writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 })
    chmodSync(file, 0o600)
  }
  return demo
}

function readSaved(file: string): Omit<DemoAccess, 'file'> | null {
  if (!existsSync(file)) return null
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Omit<DemoAccess, 'file'>
    if (!Array.isArray(value.accounts)) return null
    return value
  } catch {
    return null
  }
}

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServerProcess, startServerProcess, TOKENS, tokensWithAdmin } from './harness.ts'

const ADMIN = 'people-admin-token-0123456789'
const PASSWORD = 'people directory passphrase'

interface PeopleReply {
  people: { userId: string; displayName: string; organisation: string }[]
  teams: { organisation: string; name: string }[]
  may: { assign: boolean; mention: boolean }
}

type Auth = string | { cookie: string } | { token: string; viewAs: string }

async function call(
  base: string,
  method: string,
  path: string,
  auth: Auth | null,
  body?: unknown,
): Promise<{ status: number; text: string; headers: Headers }> {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' }
  if (typeof auth === 'string') headers.authorization = `Bearer ${auth}`
  else if (auth && 'cookie' in auth) headers.cookie = auth.cookie
  else if (auth) {
    headers.authorization = `Bearer ${auth.token}`
    headers['x-watchfloor-view-as'] = auth.viewAs
  }
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, text: await response.text(), headers: response.headers }
}

/** Accounts the admin makes: two of cert-ee (one disabled), one of cert-lv, a cert-ee sensor. */
const ACCOUNTS = [
  { username: 'liis', displayName: 'Liis Saar', organisation: 'cert-ee', roles: ['analyst'] },
  { username: 'tonu', displayName: 'Tonu Disabled', organisation: 'cert-ee', roles: ['analyst'], disabled: true },
  { username: 'laila', displayName: 'Laila Ozola', organisation: 'cert-lv', roles: ['analyst'] },
  { username: 'probe-ee', displayName: 'Probe EE', organisation: 'cert-ee', roles: ['sensor'] },
]

describe('GET /api/v1/people: whom the caller may assign to or mention, per viewer', () => {
  let server: ServerProcess
  let dir: string
  const people = new Map<string, { status: number; text: string; reply?: PeopleReply }>()
  let organisations: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-people-'))
    const tokens = tokensWithAdmin(dir, ADMIN)
    server = await startServerProcess({ env: { WATCHFLOOR_TOKENS: tokens } })
    for (const account of ACCOUNTS) {
      const made = await call(server.url, 'POST', '/api/v1/accounts', ADMIN, { ...account, password: PASSWORD })
      if (made.status !== 201) throw new Error(`account ${account.username}: ${made.status} ${made.text}`)
    }
    const signedIn = await call(server.url, 'POST', '/api/v1/session', null, { username: 'laila', password: PASSWORD })
    const cookie = signedIn.headers.get('set-cookie')?.split(';')[0]
    if (!cookie) throw new Error(`sign-in: ${signedIn.status} ${signedIn.text}`)
    const display = await call(server.url, 'POST', '/api/v1/tokens', ADMIN, {
      label: 'people wall',
      kind: 'display',
      preset: 'overview',
      service: { user: 'wall-ee', organisation: 'cert-ee', nation: 'EE', roles: ['coordinator'] },
    })
    if (display.status !== 201) throw new Error(`display token: ${display.status} ${display.text}`)
    const viewers: Record<string, Auth | null> = {
      coordinator: TOKENS.coordEeA,
      officer: TOKENS.viewerEe,
      liaison: TOKENS.viewerLv,
      sensor: TOKENS.sensorEe,
      session: { cookie },
      display: (JSON.parse(display.text) as { secret: string }).secret,
      viewingAs: { token: TOKENS.coordEeA, viewAs: 'organisation:cert-lv' },
      admin: ADMIN,
      nobody: null,
    }
    for (const [key, auth] of Object.entries(viewers)) {
      const answer = await call(server.url, 'GET', '/api/v1/people', auth)
      people.set(key, {
        ...answer,
        ...(answer.status === 200 ? { reply: JSON.parse(answer.text) as PeopleReply } : {}),
      })
    }
    const directory = await call(server.url, 'GET', '/api/v1/directory', TOKENS.coordEeA)
    organisations = (JSON.parse(directory.text) as { organisations: { id: string }[] }).organisations.map((o) => o.id)
  }, 60_000)

  afterAll(async () => {
    await server?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const ids = (key: string) =>
    people
      .get(key)!
      .reply!.people.map((p) => p.userId)
      .sort()
  const teams = (key: string) =>
    people
      .get(key)!
      .reply!.teams.map((t) => t.organisation)
      .sort()

  it('[C2] a coordinator: the persons of its organisation (accounts and static tokens; not sensors, not disabled) and every team', () => {
    expect(people.get('coordinator')!.status).toBe(200)
    expect(ids('coordinator')).toEqual(['coord-a', 'coord-b', 'kadri', 'liis'])
    expect(people.get('coordinator')!.reply!.people.find((p) => p.userId === 'liis')!.displayName).toBe('Liis Saar')
    expect(teams('coordinator')).toEqual([...organisations].sort())
    expect(teams('coordinator')).toContain('cert-lv')
    expect(people.get('coordinator')!.reply!.may).toEqual({ assign: true, mention: true })
  })

  it('[C2] a watch officer may mention, not assign: its organisation’s people, no teams', () => {
    expect(ids('officer')).toEqual(['coord-a', 'coord-b', 'kadri', 'liis'])
    expect(teams('officer')).toEqual([])
    expect(people.get('officer')!.reply!.may).toEqual({ assign: false, mention: true })
  })

  it('[C4] another organisation’s people are never listed: cert-lv sees cert-lv only, by token or session cookie', () => {
    expect(ids('liaison')).toEqual(['janis', 'laila', 'red-reader'])
    expect(ids('session')).toEqual(['janis', 'laila', 'red-reader'])
    expect(ids('admin')).toEqual(['officer', 'root'])
    // account names only its own organisation may read; a disabled account and a sensor, no one
    const readers: Record<string, string[]> = {
      'Liis Saar': ['coordinator', 'officer'],
      'Laila Ozola': ['liaison', 'session'],
      'Tonu Disabled': [],
      'Probe EE': [],
      'probe-ee': [],
    }
    for (const [key, answer] of people)
      for (const [name, allowed] of Object.entries(readers))
        if (!allowed.includes(key)) expect(answer.text, `${key}: ${name}`).not.toContain(name)
  })

  it('[A1, A2, A7] a sensor, a display token and a coordinator viewing as another organisation get nobody; no credential is 401', () => {
    for (const key of ['sensor', 'display', 'viewingAs'])
      expect(people.get(key)!.reply, key).toEqual({ people: [], teams: [], may: { assign: false, mention: false } })
    expect(people.get('nobody')!.status).toBe(401)
  })
})

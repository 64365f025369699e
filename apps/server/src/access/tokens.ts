import { randomBytes } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Role, Role as RoleSchema, type Tlp, type Viewer, type ViewingAs } from '@watchfloor/protocol'
import { makeFolder } from '@watchfloor/store'
import { z } from 'zod'
import { readConfigFile } from '../config.ts'
import { refuseFeedUserId } from './userIds.ts'

/** Who is acting: the identity behind every request and socket. */
export interface Principal {
  user: string
  organisation: string
  nation: string
  roles: Role[]
  /** Other organisations this principal may post for (a relay). */
  sources: string[]
}

/** A token from the WATCHFLOOR_TOKENS file (or the demo set): static, not revocable through the API. */
export interface StaticToken extends Principal {
  token: string
}

const TokenEntry = z
  .object({
    token: z.string().min(16, 'a token needs at least 16 characters'),
    organisation: z.string().min(1),
    nation: z.string().min(1),
    // `feed:<id>` is a partner feed's, and would post in its namespace [A9]
    user: z.string().min(1).superRefine(refuseFeedUserId),
    roles: z.array(RoleSchema).min(1),
    sources: z.array(z.string().min(1)).optional(),
  })
  .strict()
/** A user id names one person of one organisation [V5]: a file that gives one to two is no token list. */
const TokenFile = z.array(TokenEntry).superRefine((entries, context) => {
  const first = new Map<string, string>()
  entries.forEach((entry, i) => {
    const organisation = first.get(entry.user)
    if (organisation === undefined) first.set(entry.user, entry.organisation)
    else if (organisation !== entry.organisation)
      context.addIssue({
        code: 'custom',
        path: [i, 'user'],
        message: `user id ${entry.user} is of ${organisation} in an earlier entry, of ${entry.organisation} here: a user id names one person of one organisation`,
      })
  })
})

/**
 * The static tokens. Requests and sockets are authenticated by `Access`
 * (access.ts), which asks this registry first, then the credential store.
 */
export class TokenRegistry {
  private readonly byToken = new Map<string, StaticToken>()

  constructor(principals: Iterable<StaticToken>) {
    for (const principal of principals) this.add(principal)
  }

  /** Throws when another organisation's static token has the user id: a user id names one person of one organisation. */
  add(principal: StaticToken): void {
    for (const known of this.byToken.values())
      if (known.user === principal.user && known.organisation !== principal.organisation)
        throw new Error(
          `a static token cannot give user id ${principal.user} to ${principal.organisation}: a static token of ${known.organisation} has it (a user id names one person of one organisation)`,
        )
    this.byToken.set(principal.token, principal)
  }

  authenticate(token: unknown): StaticToken | undefined {
    return typeof token === 'string' ? this.byToken.get(token) : undefined
  }

  /** The static principals (without their secrets), for the people directory. */
  principals(): Principal[] {
    return [...this.byToken.values()].map(({ token: _secret, ...principal }) => principal)
  }

  /** Does a static token belong to this organisation? */
  has(organisation: string): boolean {
    for (const principal of this.byToken.values()) if (principal.organisation === organisation) return true
    return false
  }
}

/**
 * The viewer visibility is decided for; a display token's TLP ceiling travels with it [V9], and
 * its organisation's communities [V10].
 */
export function viewerOf(
  principal: Principal & {
    tlpCeiling?: Tlp | undefined
    communities?: readonly string[] | undefined
    viewingAs?: ViewingAs | undefined
  },
): Viewer {
  return {
    organisation: principal.organisation,
    nation: principal.nation,
    roles: principal.roles,
    userId: principal.user,
    ...(principal.tlpCeiling !== undefined ? { tlpCeiling: principal.tlpCeiling } : {}),
    ...(principal.communities !== undefined && principal.communities.length > 0
      ? { communities: [...principal.communities] }
      : {}),
    ...(principal.viewingAs !== undefined ? { viewingAs: principal.viewingAs } : {}),
  }
}

/**
 * The static principals a server with this configuration has: those of WATCHFLOOR_TOKENS when it is
 * set, else the demo set when it was made (none otherwise); for the command line, which creates
 * accounts and tokens beside them. Throws, as a start would, on a file that is no token list.
 */
export function configuredPrincipals(config: { tokensFile: string | undefined; dataDir: string }): StaticToken[] {
  if (config.tokensFile) return loadTokenFile(config.tokensFile)
  const demo = join(config.dataDir, 'demo-tokens.json')
  return existsSync(demo) ? loadTokenFile(demo) : []
}

export function loadTokenFile(file: string): StaticToken[] {
  const entries = readConfigFile('WATCHFLOOR_TOKENS', file, TokenFile, 'token list')
  return entries.map((entry) => ({ ...entry, sources: entry.sources ?? [] }))
}

const DEMO_ACCOUNTS: Principal[] = [
  { user: 'watch-officer', organisation: 'alliance', nation: 'ALLIANCE', roles: ['watch_officer'], sources: [] },
  { user: 'coordinator', organisation: 'alliance', nation: 'ALLIANCE', roles: ['coordinator'], sources: [] },
  { user: 'analyst', organisation: 'alliance', nation: 'ALLIANCE', roles: ['analyst'], sources: [] },
  { user: 'admin', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'], sources: [] },
  { user: 'liaison-lv', organisation: 'cert-lv', nation: 'LV', roles: ['liaison'], sources: [] },
  { user: 'sensor-ee', organisation: 'cert-ee', nation: 'EE', roles: ['sensor'], sources: [] },
]

/**
 * The demo set for the embedded default: one token per role, made at first
 * start and kept in the data folder (demo-tokens.json), so links keep working
 * across restarts without shipping a known secret.
 */
export function demoPrincipals(dataDir: string): StaticToken[] {
  const file = join(dataDir, 'demo-tokens.json')
  if (existsSync(file)) return loadTokenFile(file)
  const principals = DEMO_ACCOUNTS.map((account) => ({
    ...account,
    token: `${account.user}-${randomBytes(12).toString('hex')}`,
  }))
  makeFolder(dataDir)
  writeFileSync(file, `${JSON.stringify(principals, null, 2)}\n`, { mode: 0o600 })
  return principals
}

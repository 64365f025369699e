import { userInfo } from 'node:os'
import { WatchfloorError } from '@watchfloor/protocol'
import type { TokenRecord } from '@watchfloor/store'
import { issueToken, organisationLookup } from '../access/admin.ts'
import { fromSetting } from '../config.ts'
import { loadPresetFile, PresetRegistry } from '../wall/presets.ts'
import { type Command, Failed, listOption, staticPrincipals, stringOption, table, UsageError } from './command.ts'

const JSON_OPTION = { json: { type: 'boolean' } } as const

/** Who a token made here says made it: `cli:<the operator's login>`. */
function operator(): string {
  try {
    return `cli:${userInfo().username}`
  } catch {
    return 'cli'
  }
}

function tokenState(token: TokenRecord, now: number): string {
  if (token.revokedAt !== null) return `revoked ${token.revokedAt}`
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now) return `expired ${token.expiresAt}`
  return token.expiresAt === null ? 'active, never expires' : `active until ${token.expiresAt}`
}

function whoseToken(token: TokenRecord): string {
  if (token.owner !== null) return token.owner
  const service = token.service!
  return `${service.user}@${service.organisation} (${service.roles.join(',')})`
}

const list: Command = {
  name: 'tokens list',
  summary: 'list API and display tokens (never their secrets)',
  usage: 'tokens list [--owner USERNAME] [--json]',
  help: `Lists API and display tokens, oldest first: id, kind, whose (an account, or a service identity),
label, state (active until, expired, revoked). Tokens from the WATCHFLOOR_TOKENS file are not in
the store and not listed.

Options:
  --owner USERNAME   only the tokens of this account
  --json             { "tokens": [...] } on stdout, as GET /api/v1/tokens answers`,
  options: { owner: { type: 'string' }, ...JSON_OPTION },
  positionals: [0, 0],
  async run(args, context) {
    const owner = stringOption(args, 'owner')?.toLowerCase()
    const tokens = await (await context.credentials({ write: false })).listTokens(owner === undefined ? {} : { owner })
    if (args.values.json) {
      context.say(JSON.stringify({ tokens }))
      return
    }
    const now = Date.now()
    context.say(
      table(
        ['ID', 'KIND', 'WHOSE', 'LABEL', 'STATE'],
        tokens.map((token) => [
          token.id,
          token.kind === 'display' ? `display:${token.preset}` : 'api',
          whoseToken(token),
          token.label,
          tokenState(token, now),
        ]),
      ),
    )
  },
}

const create: Command = {
  name: 'tokens create',
  summary: 'create an API or display token; its secret is printed once',
  usage:
    'tokens create --label LABEL (--owner USERNAME | --service-user USER --organisation ORG --roles ROLES) [options]',
  help: `Creates a token with the same rules as an admin's POST /api/v1/tokens, and prints its secret on
stdout, alone, this once (only its hash is stored): SECRET=$(pnpm -s watchfloor tokens create ...).

Options:
  --label LABEL          what it is for (required)
  --kind api|display     api (default): acts as its owner on every route; display: read-only, for a wall
  --owner USERNAME       the account it acts as
  --service-user USER    or an identity of its own (a sensor, a relay): its user name,
  --organisation ORG       its organisation (in the directory),
  --roles R1,R2            its roles,
  --sources ORG1,ORG2      other organisations it may post for (a relay),
  --nation CODE            checked against the organisation's nation when given
  --preset NAME          display tokens: the wall preset (required for display)
  --tlp-ceiling TLP      display tokens: the highest TLP the wall receives
  --expires-at TIME      ISO 8601 with a zone, or "never"; default: API tokens
                         WATCHFLOOR_TOKEN_TTL_DAYS from now, display tokens never
  --json                 { "token": {...}, "secret": "..." } on stdout

Exit codes: 0 created; 1 refused (no such owner, an organisation not in the directory, a service
user id another organisation's account, service token or static token has...); 2 bad usage.`,
  options: {
    label: { type: 'string' },
    kind: { type: 'string' },
    owner: { type: 'string' },
    'service-user': { type: 'string' },
    organisation: { type: 'string' },
    roles: { type: 'string' },
    sources: { type: 'string' },
    nation: { type: 'string' },
    preset: { type: 'string' },
    'tlp-ceiling': { type: 'string' },
    'expires-at': { type: 'string' },
    ...JSON_OPTION,
  },
  positionals: [0, 0],
  async run(args, context) {
    const label = stringOption(args, 'label')
    if (label === undefined) throw new UsageError('tokens create: --label is required')
    const owner = stringOption(args, 'owner')
    const serviceUser = stringOption(args, 'service-user')
    if ((owner === undefined) === (serviceUser === undefined))
      throw new UsageError('tokens create: give --owner USERNAME, or --service-user with --organisation and --roles')
    const organisation = stringOption(args, 'organisation')
    const roles = listOption(args, 'roles')
    if (serviceUser !== undefined && (organisation === undefined || roles === undefined))
      throw new UsageError('tokens create: --service-user needs --organisation and --roles')
    if (owner !== undefined && (organisation !== undefined || roles !== undefined))
      throw new UsageError('tokens create: --organisation and --roles are for --service-user; an owner has its own')
    const expires = stringOption(args, 'expires-at')
    const nation = stringOption(args, 'nation')
    const input = {
      label,
      ...(stringOption(args, 'kind') !== undefined ? { kind: stringOption(args, 'kind') } : {}),
      ...(owner !== undefined ? { owner } : {}),
      ...(serviceUser !== undefined
        ? {
            service: {
              user: serviceUser,
              organisation,
              roles,
              sources: listOption(args, 'sources') ?? [],
              ...(nation !== undefined ? { nation } : {}),
            },
          }
        : {}),
      ...(stringOption(args, 'preset') !== undefined ? { preset: stringOption(args, 'preset') } : {}),
      ...(stringOption(args, 'tlp-ceiling') !== undefined ? { tlpCeiling: stringOption(args, 'tlp-ceiling') } : {}),
      ...(expires !== undefined ? { expiresAt: expires === 'never' ? null : expires } : {}),
    }
    const credentials = await context.credentials({ write: true })
    if (owner !== undefined && !(await credentials.getAccount(owner.trim().toLowerCase())))
      throw new Failed(`no account ${owner}: create it first (accounts create)`)
    const organisations = await organisationLookup(credentials)
    const { token, secret } = await inOptionWords(() =>
      issueToken(
        credentials,
        organisations,
        staticPrincipals(context),
        { user: operator(), account: null, admin: true },
        input,
        context.config.tokenTtlDays,
        // a display token's preset is one the server will serve (WATCHFLOOR_WALL_PRESETS, or built in)
        new PresetRegistry(
          context.config.wallPresetsFile
            ? fromSetting('WATCHFLOOR_WALL_PRESETS', () => loadPresetFile(context.config.wallPresetsFile!))
            : [],
        ),
      ),
    )
    if (args.values.json) {
      context.say(JSON.stringify({ token, secret }))
      return
    }
    context.note(
      `token ${token.id} created: ${token.kind}, ${whoseToken(token)}, ${tokenState(token, Date.now())}; its secret (shown this once):`,
    )
    context.say(secret)
  },
}

const revoke: Command = {
  name: 'tokens revoke',
  summary: 'revoke a token: refused from now on, live sockets using it are dropped',
  usage: 'tokens revoke ID [--json]',
  help: `Revokes a token by its id (see "tokens list"): every server refuses it from now on. Running
servers drop the live sockets that use it: on PostgreSQL at once (told over their bus), on SQLite at
the next credential check (WATCHFLOOR_CREDENTIAL_RECHECK_MS). Revoking again keeps the first time.

Exit codes: 0 revoked; 1 no such token; 2 bad usage.`,
  options: JSON_OPTION,
  positionals: [1, 1],
  async run(args, context) {
    const id = args.positionals[0]!
    const token = await (await context.credentials({ write: true })).revokeToken(id)
    if (!token) throw new Failed(`no token ${id}`)
    if (args.values.json) context.say(JSON.stringify({ token }))
    else context.say(`token ${token.id} (${token.label}) revoked at ${token.revokedAt}`)
  },
}

export const tokenCommands: Command[] = [list, create, revoke]

/** The API's names of a new token's fields, as this command's options name them. */
const OPTION_OF: readonly [RegExp, string][] = [
  [/\bexpiresAt\b/g, '--expires-at'],
  [/\btlpCeiling\b/g, '--tlp-ceiling'],
  [/\bservice\.user\b/g, '--service-user'],
  [/\bservice\.organisation\b/g, '--organisation'],
  [/\bservice\.roles\b/g, '--roles'],
  [/\bservice\.nation\b/g, '--nation'],
  [/\bservice\.sources\b/g, '--sources'],
]

/**
 * A refusal of the API's rules (shared with `POST /api/v1/tokens`) said with the options the
 * operator typed: "--expires-at must be in the future", not "expiresAt ...".
 */
async function inOptionWords<T>(make: () => Promise<T>): Promise<T> {
  try {
    return await make()
  } catch (error) {
    if (!(error instanceof WatchfloorError)) throw error
    const words = (text: string) => OPTION_OF.reduce((said, [field, option]) => said.replace(field, option), text)
    throw new WatchfloorError(error.code, words(error.message), error.details)
  }
}

import { parseOrThrow } from '@watchfloor/protocol'
import type { Account } from '@watchfloor/store'
import { AccountPatchBody, changeAccount, createAccount, organisationLookup } from '../access/admin.ts'
import { randomPassword } from '../access/passwords.ts'
import {
  type Args,
  type Command,
  type Context,
  Failed,
  listOption,
  staticPrincipals,
  stringOption,
  table,
  UsageError,
} from './command.ts'

const JSON_OPTION = { json: { type: 'boolean' } } as const

function accountRow(account: Account): string[] {
  return [
    account.username,
    account.roles.join(','),
    `${account.organisation} (${account.nation})`,
    account.disabled ? 'disabled' : 'active',
    account.displayName,
  ]
}

/** Read a password from stdin (the first line), for `--password-stdin`. */
async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? ''
  if (password === '') throw new UsageError('--password-stdin: nothing on stdin')
  return password
}

const list: Command = {
  name: 'accounts list',
  summary: 'list the accounts',
  usage: 'accounts list [--json]',
  help: `Lists every account: username, roles, organisation (nation), active or disabled, display name.
Never a password hash.

Options:
  --json   one JSON object { "accounts": [...] } on stdout, as GET /api/v1/accounts answers`,
  options: JSON_OPTION,
  positionals: [0, 0],
  async run(args, context) {
    const accounts = await (await context.credentials({ write: false })).listAccounts()
    if (args.values.json) {
      context.say(JSON.stringify({ accounts }))
      return
    }
    context.say(table(['USERNAME', 'ROLES', 'ORGANISATION', 'STATE', 'NAME'], accounts.map(accountRow)))
  },
}

const create: Command = {
  name: 'accounts create',
  summary: 'create an account that signs in with a password',
  usage: 'accounts create USERNAME --organisation ORG --roles ROLE[,ROLE...] [options]',
  help: `Creates an account, with the same rules as POST /api/v1/accounts: the organisation must be in
the directory (see "orgs list"), its nation is the organisation's, roles are watch_officer,
coordinator, analyst, liaison, sensor, admin.

Options:
  --organisation ORG   the account's organisation (required)
  --roles R1,R2        its roles (required)
  --display-name NAME  shown in the console (default: the username)
  --nation CODE        checked against the organisation's nation when given
  --password-stdin     read the password (12 characters or more) from the first line of stdin;
                       without it a random password is made and printed once on stdout
  --disabled           create it disabled
  --json               print { "account": {...}, "password"?: "..." } on stdout

Exit codes: 0 created; 1 refused (the username is taken, or is the user id of another
organisation's service token or static token of WATCHFLOOR_TOKENS; the organisation is not in the
directory; a password too short...); 2 bad usage.`,
  options: {
    organisation: { type: 'string' },
    roles: { type: 'string' },
    'display-name': { type: 'string' },
    nation: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    disabled: { type: 'boolean' },
    ...JSON_OPTION,
  },
  positionals: [1, 1],
  async run(args, context) {
    const organisation = stringOption(args, 'organisation')
    const roles = listOption(args, 'roles')
    if (organisation === undefined) throw new UsageError('accounts create: --organisation is required')
    if (roles === undefined) throw new UsageError('accounts create: --roles is required')
    const generated = args.values['password-stdin'] ? undefined : randomPassword()
    const password = generated ?? (await passwordFromStdin())
    const credentials = await context.credentials({ write: true })
    const input = {
      username: args.positionals[0],
      organisation,
      roles,
      password,
      ...(stringOption(args, 'display-name') !== undefined ? { displayName: stringOption(args, 'display-name') } : {}),
      ...(stringOption(args, 'nation') !== undefined ? { nation: stringOption(args, 'nation') } : {}),
      ...(args.values.disabled ? { disabled: true } : {}),
    }
    const account = await createAccount(
      credentials,
      await organisationLookup(credentials),
      staticPrincipals(context),
      input,
      context.config.passwordCost,
    )
    if (args.values.json) {
      context.say(JSON.stringify({ account, ...(generated ? { password: generated } : {}) }))
      return
    }
    context.note(`account ${account.username} created: ${accountRow(account).slice(1, 4).join(', ')}`)
    if (generated) {
      context.note('its password (shown this once):')
      context.say(generated)
    }
  },
}

function switchCommand(name: 'disable' | 'enable'): Command {
  const disabled = name === 'disable'
  return {
    name: `accounts ${name}`,
    summary: disabled ? 'disable an account: it cannot sign in, its sessions end' : 'enable a disabled account',
    usage: `accounts ${name} USERNAME [--json]`,
    help: disabled
      ? `Disables an account, as PATCH /api/v1/accounts/{username} with { "disabled": true }: it cannot
sign in, its sessions are ended, and its API tokens are refused while it is disabled. Running
servers drop its live sockets: on PostgreSQL at once (told over their bus), on SQLite at the next
credential check (WATCHFLOOR_CREDENTIAL_RECHECK_MS).

Exit codes: 0 done (also when it was disabled already); 1 no such account; 2 bad usage.`
      : `Enables a disabled account: it may sign in again, and its tokens that are neither revoked nor
expired work again.

Exit codes: 0 done (also when it was enabled already); 1 no such account; 2 bad usage.`,
    options: JSON_OPTION,
    positionals: [1, 1],
    async run(args: Args, context: Context) {
      const username = args.positionals[0]!.trim().toLowerCase()
      const credentials = await context.credentials({ write: true })
      if (!(await credentials.getAccount(username))) throw new Failed(`no account ${username}`)
      const account = await changeAccount(credentials, username, { disabled }, context.config.passwordCost)
      if (args.values.json) context.say(JSON.stringify({ account }))
      else context.say(`account ${account.username} ${disabled ? 'disabled' : 'enabled'}`)
    },
  }
}

const password: Command = {
  name: 'accounts password',
  summary: 'set a new password for an account (ends its sessions, revokes its tokens)',
  usage: 'accounts password USERNAME [--password-stdin] [--json]',
  help: `Sets a new password for an account, as PATCH /api/v1/accounts/{username} with { "password": ... }:
for an admin locked out, or a demo account whose password the demo start no longer knows. Every
session of the account ends, and its API tokens are revoked (whoever knew the old password may
have made some). Running servers drop its live sockets: on PostgreSQL at once (told over their
bus), on SQLite at the next credential check (WATCHFLOOR_CREDENTIAL_RECHECK_MS).

Options:
  --password-stdin   read the password (12 characters or more) from the first line of stdin;
                     without it a random password is made and printed once on stdout
  --json             print { "account": {...}, "password"?: "..." } on stdout

Exit codes: 0 set; 1 no such account, or a password too short; 2 bad usage.`,
  options: { 'password-stdin': { type: 'boolean' }, ...JSON_OPTION },
  positionals: [1, 1],
  async run(args, context) {
    const username = args.positionals[0]!.trim().toLowerCase()
    const generated = args.values['password-stdin'] ? undefined : randomPassword()
    const body = parseOrThrow(AccountPatchBody, { password: generated ?? (await passwordFromStdin()) })
    const credentials = await context.credentials({ write: true })
    if (!(await credentials.getAccount(username))) throw new Failed(`no account ${username}`)
    const account = await changeAccount(credentials, username, body, context.config.passwordCost)
    if (args.values.json) {
      context.say(JSON.stringify({ account, ...(generated ? { password: generated } : {}) }))
      return
    }
    context.note(`account ${account.username}: new password set; its sessions ended and its tokens revoked`)
    if (generated) {
      context.note('its password (shown this once):')
      context.say(generated)
    }
  },
}

export const accountCommands: Command[] = [list, create, password, switchCommand('disable'), switchCommand('enable')]

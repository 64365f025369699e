#!/usr/bin/env node
/*
 * `pnpm watchfloor <command>` (and `node apps/server/dist/cli.js <command>` once built): the
 * operator's command line, on the store the server's environment names (WATCHFLOOR_DATABASE_URL,
 * else SQLite under WATCHFLOOR_DATA_DIR), read by the server's own config.ts. docs/operate.md.
 *
 * Exit codes: 0 done; 1 a check or operation failed (why on stderr); 2 bad usage.
 */
import { WatchfloorError } from '@watchfloor/protocol'
import { LogDamagedError, SchemaTooNewError, SchemaTooOldError } from '@watchfloor/store'
import { loadConfig, SettingError } from '../config.ts'
import { accountCommands } from './accounts.ts'
import { backupCommands } from './backup.ts'
import { type Command, Context, Failed, parseCommandArgs, UsageError } from './command.ts'
import { logCommands } from './log.ts'
import { orgCommands } from './orgs.ts'
import { tokenCommands } from './tokens.ts'

export const COMMANDS: readonly Command[] = [
  ...logCommands,
  ...backupCommands,
  ...accountCommands,
  ...tokenCommands,
  ...orgCommands,
]

const GROUPS = new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return `watchfloor: the operator's command line (docs/operate.md)

Usage: pnpm watchfloor <command> [options]      (built: node apps/server/dist/cli.js <command>)
       pnpm watchfloor <command> --help

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

The store is the server's: WATCHFLOOR_DATABASE_URL (PostgreSQL), else events.sqlite under
WATCHFLOOR_DATA_DIR (default ./data), with the server's other settings (docs/api.md).

Exit codes: 0 done; 1 a check or operation failed (why on stderr); 2 bad usage.`
}

function commandHelp(command: Command): string {
  return `Usage: watchfloor ${command.usage}\n\n${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.\n\n${command.help}`
}

/** Find the command the words name: `check`, `accounts create`. */
function find(argv: string[]): { command: Command; rest: string[] } | { group: string } | undefined {
  const [first, second] = argv
  if (first === undefined) return undefined
  if (GROUPS.has(first)) {
    const command = COMMANDS.find((c) => c.name === `${first} ${second}`)
    return command ? { command, rest: argv.slice(2) } : { group: first }
  }
  const command = COMMANDS.find((c) => c.name === first)
  return command ? { command, rest: argv.slice(1) } : undefined
}

/** An error the operator can act on, as one line; undefined for a fault of ours (a bug). */
function operatorMessage(error: unknown): string | undefined {
  if (
    error instanceof Failed ||
    error instanceof WatchfloorError ||
    error instanceof SchemaTooNewError ||
    error instanceof SchemaTooOldError ||
    error instanceof LogDamagedError ||
    error instanceof SettingError
  )
    return error.message
  const code = (error as { code?: unknown })?.code
  if (typeof code === 'string') {
    // the file system and the network: a path or a database that is not there
    if (/^E[A-Z]+$/.test(code)) return `${(error as Error).message}`
    // PostgreSQL's SQLSTATE (28P01 authentication, 3D000 no such database...) and SQLite's
    if (/^[0-9A-Z]{5}$/.test(code) || code.startsWith('SQLITE_')) return `database: ${(error as Error).message}`
  }
  return undefined
}

/**
 * Run one command line; resolves with its exit code. Never throws: an operator's mistake is a
 * message on `err` (exit 2 for usage, 1 for a failure); a stack trace only for a fault of ours,
 * or with WATCHFLOOR_DEBUG=1.
 */
export async function run(
  argv: string[],
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; env: NodeJS.ProcessEnv } = {
    out: process.stdout,
    err: process.stderr,
    env: process.env,
  },
): Promise<number> {
  const say = (stream: NodeJS.WritableStream, text: string) => stream.write(`${text}\n`)
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    say(argv.length === 0 ? io.err : io.out, overview())
    return argv.length === 0 ? 2 : 0
  }
  const found = find(argv)
  if (!found) {
    say(io.err, `watchfloor: unknown command "${argv[0]}"; "watchfloor --help" lists the commands`)
    return 2
  }
  if ('group' in found) {
    const members = COMMANDS.filter((c) => c.name.startsWith(`${found.group} `)).map((c) => c.name.split(' ')[1])
    const asked = argv[1]
    const helpAsked = asked === '--help' || asked === '-h'
    say(
      helpAsked ? io.out : io.err,
      `${asked === undefined || helpAsked ? '' : `watchfloor: unknown command "${found.group} ${asked}"\n`}` +
        `Usage: watchfloor ${found.group} <${members.join(' | ')}> [options]\n` +
        COMMANDS.filter((c) => c.name.startsWith(`${found.group} `))
          .map((c) => `  ${c.usage}\n      ${c.summary}`)
          .join('\n'),
    )
    return helpAsked ? 0 : 2
  }
  const { command, rest } = found
  if (rest.includes('--help') || rest.includes('-h')) {
    say(io.out, commandHelp(command))
    return 0
  }
  let context: Context | undefined
  try {
    const args = parseCommandArgs(command, rest)
    let config: ReturnType<typeof loadConfig>
    try {
      config = loadConfig(io.env)
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
    context = new Context(config, io.out, io.err, io.env)
    await command.run(args, context)
    return 0
  } catch (error) {
    if (error instanceof UsageError) {
      say(io.err, `watchfloor: ${error.message}\n"watchfloor ${command.name} --help" says more`)
      return 2
    }
    const message = operatorMessage(error)
    if (message !== undefined) {
      say(io.err, `watchfloor ${command.name}: ${message}`)
      if (io.env.WATCHFLOOR_DEBUG === '1' && error instanceof Error) say(io.err, error.stack ?? '')
      return 1
    }
    say(io.err, `watchfloor ${command.name}: failed unexpectedly: ${(error as Error)?.stack ?? String(error)}`)
    return 1
  } finally {
    await context?.close()
  }
}

// run when started as a program (tsx src/cli/main.ts, node dist/cli.js), not when imported
const entry = process.argv[1] ?? ''
if (/(?:cli[/\\]main\.ts|cli\.js)$/.test(entry)) {
  const code = await run(process.argv.slice(2))
  // let stdout drain into a pipe before leaving (a store's timers must not keep the process up)
  process.stdout.write('', () => process.exit(code))
}

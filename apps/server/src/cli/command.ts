import { existsSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  type CredentialChange,
  type CredentialStore,
  type EventStore,
  openCredentialStore,
  openEventStore,
  SchemaTooOldError,
  SqliteCredentialStore,
  SqliteEventStore,
  type WritersClaimMode,
} from '@watchfloor/store'
import { configuredPrincipals, type StaticToken } from '../access/tokens.ts'
import { type Config, wholeNumber } from '../config.ts'
import { busSender } from '../live/bus.ts'
import { cannotOpenStore } from '../ops/startup.ts'

/** A mistake in how the command was called: exit code 2, with a pointer to its help. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** A check or operation that failed for a reason already explained on stderr: exit code 1. */
export class Failed extends Error {
  override readonly name = 'Failed'
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>

/** One command of `watchfloor`: its words (`accounts create`), its help, and what it does. */
export interface Command {
  /** One or two words: `check`, `accounts create`. */
  name: string
  /** One line for the list of commands. */
  summary: string
  /** `accounts create USERNAME --organisation ORG --roles ROLE[,ROLE]`. */
  usage: string
  /** The rest of `<command> --help`: options, what it prints, exit codes. */
  help: string
  options: OptionSpec
  /** How many positional arguments it takes: [least, most]. */
  positionals: [number, number]
  run(args: Args, context: Context): Promise<void>
}

export interface Args {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/** Parse a command's arguments: an unknown option or a wrong number of arguments is a UsageError. */
export function parseCommandArgs(command: Command, argv: string[]): Args {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: argv, options: command.options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ''))
  }
  const [least, most] = command.positionals
  if (parsed.positionals.length < least)
    throw new UsageError(`${command.name}: missing argument (usage: watchfloor ${command.usage})`)
  if (parsed.positionals.length > most)
    throw new UsageError(`${command.name}: unexpected argument "${parsed.positionals[most]}"`)
  return { values: parsed.values as Args['values'], positionals: parsed.positionals }
}

export function stringOption(args: Args, name: string): string | undefined {
  const value = args.values[name]
  return typeof value === 'string' ? value : undefined
}

/** A comma-separated list option (`--roles analyst,liaison`). */
export function listOption(args: Args, name: string): string[] | undefined {
  const value = stringOption(args, name)
  if (value === undefined) return undefined
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

/** A whole-number option within bounds (plain decimal digits, as the settings), or `fallback` when absent. */
export function integerOption(args: Args, name: string, fallback: number, min: number, max: number): number {
  const raw = stringOption(args, name)
  if (raw === undefined) return fallback
  const value = wholeNumber(raw, min, max)
  if (value === undefined) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  return value
}

/**
 * The static tokens a server with this environment has (WATCHFLOOR_TOKENS, else the demo set once
 * made), so that an account or service token made here takes no user id one of them gives another
 * organisation; a token file it cannot read is a failure, as it stops the server.
 */
export function staticPrincipals(context: Pick<Context, 'config'>): StaticToken[] {
  try {
    return configuredPrincipals(context.config)
  } catch (error) {
    throw new Failed(error instanceof Error ? error.message : String(error))
  }
}

/**
 * What a command works with: the server's configuration, the stores it names (opened on first
 * use, closed when the command ends), and where to write.
 */
export class Context {
  private eventStore: EventStore | undefined
  private credentialStore: CredentialStore | undefined
  /** What this command changed in the credential store, for the running servers (`tellServers`). */
  private readonly changes: CredentialChange[] = []

  constructor(
    readonly config: Config,
    readonly out: NodeJS.WritableStream,
    readonly err: NodeJS.WritableStream,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Where the stores are: the SQLite file or the PostgreSQL database (never its password). */
  describeStore(): string {
    if (!this.config.databaseUrl) return `SQLite ${this.sqliteFile()}`
    try {
      const url = new URL(this.config.databaseUrl)
      // the schema, when the URL sets it (`?options=-c search_path=...`): two logs may share a database
      const schema = /search_path\s*=\s*([^\s,]+)/.exec(url.searchParams.get('options') ?? '')?.[1]
      return `PostgreSQL ${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}${schema ? `, schema ${schema}` : ''}`
    } catch {
      return 'PostgreSQL'
    }
  }

  private sqliteFile(): string {
    return join(this.config.dataDir, 'events.sqlite')
  }

  /**
   * The event log. `write: false` never creates a SQLite file that is not there (a typo in
   * WATCHFLOOR_DATA_DIR is an error, not a new empty log), never moves ids into the id index, so it
   * may read a file a running server writes, and never upgrades the schema: a log of an older
   * release is refused (`SchemaTooOldError`), so that release can still open it. `write: true`
   * migrates, as the server does, and claims the log as a writer: a SQLite log's one writer; on
   * PostgreSQL, with `alone` (an import, a restore), with no other writer.
   */
  async events(options: { write: boolean; alone?: boolean }): Promise<EventStore> {
    if (this.eventStore) return this.eventStore
    if (!this.config.databaseUrl && !options.write && !existsSync(this.sqliteFile()))
      throw new Failed(
        `no event log at ${this.sqliteFile()}: set WATCHFLOOR_DATA_DIR (or WATCHFLOOR_DATABASE_URL) to the server's`,
      )
    const store = await this.openEvents(options.write ? (options.alone ? 'alone' : 'shared') : undefined)
    if (store instanceof SqliteEventStore) this.noteTightened(store.tightened)
    this.eventStore = store
    return store
  }

  /**
   * A new event store of the configured database, not kept: for a writer (an import, a restore)
   * claimed as a writer of the log (writer.ts, writers-postgres.ts) and brought to this release's
   * schema; for a reader (`writers` undefined) as it is (no claim, no upgrade, no id indexing).
   */
  private openEvents(writers: WritersClaimMode | undefined): Promise<EventStore> {
    const { databaseUrl } = this.config
    const write = writers !== undefined
    return this.opening(() =>
      databaseUrl
        ? openEventStore({ databaseUrl, dataDir: '', migrate: write, ...(write ? { writers } : {}) })
        : new SqliteEventStore(
            write
              ? { file: this.sqliteFile(), recentEvents: 0, writer: true }
              : { file: this.sqliteFile(), recentEvents: 0, indexEvery: Number.MAX_SAFE_INTEGER, migrate: false },
          ),
    )
  }

  /** A new credential store of the configured database, not kept: migrated for a writer, as it is for a reader. */
  private openCredentials(write: boolean): Promise<CredentialStore> {
    return this.opening(() =>
      openCredentialStore({ databaseUrl: this.config.databaseUrl, dataDir: this.config.dataDir, migrate: write }),
    )
  }

  /**
   * What the store holds, read without making, claiming or upgrading anything (what it opens is
   * closed after): `absent` when there is no SQLite file yet; `older` with the schema and version
   * when a database of an older release is there; else its head and how many rows each credential
   * table holds. A restore asks this before it reads its file through, so a refusal leaves the
   * store exactly as it was.
   */
  async peek(): Promise<
    | { kind: 'absent' }
    | { kind: 'older'; schema: string; found: number }
    | { kind: 'held'; head: number; credentials: [table: string, rows: number][] }
  > {
    if (!this.config.databaseUrl && !existsSync(this.sqliteFile())) return { kind: 'absent' }
    const older = (error: unknown) =>
      error instanceof SchemaTooOldError && error.found > 0
        ? ({ kind: 'older', schema: error.schema, found: error.found } as const)
        : undefined
    let head = 0
    try {
      const events = await this.openEvents(undefined)
      try {
        head = await events.head()
      } finally {
        await events.close()
      }
    } catch (error) {
      const found = older(error)
      if (found) return found
      // no events schema at all (version 0): no events
      if (!(error instanceof SchemaTooOldError)) throw error
    }
    let credentials: [string, number][] = []
    try {
      const store = await this.openCredentials(false)
      try {
        const dump = store.exportDurable ? await store.exportDurable() : {}
        credentials = Object.entries(dump).map(([table, rows]) => [table, rows.length])
      } finally {
        await store.close()
      }
    } catch (error) {
      const found = older(error)
      if (found) return found
      if (!(error instanceof SchemaTooOldError)) throw error
    }
    return { kind: 'held', head, credentials }
  }

  /** A store being opened: a database that cannot be reached or opened is one line naming its setting. */
  private async opening<T>(open: () => T | Promise<T>): Promise<T> {
    try {
      return await open()
    } catch (error) {
      throw cannotOpenStore(error, this.config)
    }
  }

  /** Database files others could read or write, set to 0600 as they were opened: said once. */
  private noteTightened(files: readonly string[]): void {
    if (files.length > 0)
      this.note(`note: set ${files.join(', ')} to mode 0600: they hold password and token hashes and every event`)
  }

  /**
   * The credential store (accounts, tokens, the directory, feeds) of the same database. `write:
   * false` (a list) never upgrades the schema: credentials of an older release are refused
   * (`SchemaTooOldError`); a database that holds no credential tables at all (a log only imported)
   * reads as holding none, and nothing is made in it. `write: true` migrates, as the server does.
   */
  async credentials(options: { write: boolean }): Promise<CredentialStore> {
    if (!this.credentialStore) {
      if (!this.config.databaseUrl && !existsSync(this.sqliteFile()))
        throw new Failed(
          `no database at ${this.sqliteFile()}: set WATCHFLOOR_DATA_DIR (or WATCHFLOOR_DATABASE_URL) to the server's`,
        )
      const store = await this.openCredentials(options.write).catch((error: unknown) => {
        // no credentials schema (version 0): nothing to upgrade nor to read, so an empty store of
        // this process's memory stands for it
        if (!options.write && error instanceof SchemaTooOldError && error.found === 0)
          return new SqliteCredentialStore({ file: ':memory:' })
        throw error
      })
      if (store instanceof SqliteCredentialStore) this.noteTightened(store.tightened)
      this.credentialStore = store
      this.credentialStore.onChange((change) => this.changes.push(change))
    }
    return this.credentialStore
  }

  /**
   * On PostgreSQL, the running servers hear of what this command changed (a token revoked, an
   * account disabled, the directory written) at once, over the bus their processes share
   * (live/bus.ts), as they hear of each other's changes. On SQLite the one server process sees it
   * at its next check of live sockets (WATCHFLOOR_CREDENTIAL_RECHECK_MS) and of the directory
   * (WATCHFLOOR_DIRECTORY_RELOAD_MS). The change is made either way: a bus that cannot be reached is
   * a note, not a failure.
   */
  private async tellServers(): Promise<void> {
    const databaseUrl = this.config.databaseUrl
    if (!databaseUrl || this.changes.length === 0) return
    try {
      // the log's key seals them, as the servers seal theirs; a log that cannot be opened for it
      // (a role that may not read it) sends them as they are, which the servers hear all the same
      const sealer = await this.events({ write: false }).then(
        (events) => events.sealer,
        () => undefined,
      )
      const bus = await busSender({ databaseUrl, redisUrl: this.config.redisUrl, sealer })
      for (const change of this.changes.splice(0)) bus.tellCredentials(change)
      await bus.close()
    } catch (error) {
      this.note(
        `the change is made, but the running servers could not be told at once (${(error as Error).message}): they see it at their next check`,
      )
    }
  }

  /** A file named on the command line: relative to where `pnpm watchfloor` was typed, not the checkout. */
  file(name: string): string {
    if (isAbsolute(name)) return name
    const base = this.env.npm_lifecycle_event === 'watchfloor' ? this.env.INIT_CWD : undefined
    return resolve(base ?? process.cwd(), name)
  }

  say(line: string): void {
    this.out.write(`${line}\n`)
  }

  /** A line on stderr: progress and notes, kept out of what a command prints for a pipe. */
  note(line: string): void {
    this.err.write(`${line}\n`)
  }

  /** A progress reporter that writes at most one line a second on stderr. */
  progress(what: string): (done: number, total?: number) => void {
    let last = Date.now()
    return (done, total) => {
      const now = Date.now()
      if (now - last < 1000) return
      last = now
      this.note(
        `${what}: ${done.toLocaleString('en')}${total !== undefined ? ` of ${total.toLocaleString('en')}` : ''}`,
      )
    }
  }

  async close(): Promise<void> {
    await this.tellServers()
    const closing = [this.eventStore?.close(), this.credentialStore?.close()]
    this.eventStore = undefined
    this.credentialStore = undefined
    await Promise.allSettled(closing)
  }
}

/** Rows as aligned columns for a person to read. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

import {
  CREDENTIALS_LEFT_OUT,
  type CredentialDump,
  type CredentialStore,
  DURABLE_TABLE_NAMES,
  type DurableRow,
  SCHEMA_VERSIONS,
} from '@watchfloor/store'
import { audiencesOf, namedUsersOf } from '../access/access.ts'
import { Directory } from '../access/directory.ts'
import { createLogger } from '../ops/logger.ts'
import { FullState, StateCache } from '../read/projection.ts'
import { Snapshots } from '../read/snapshots.ts'
import { type Command, type Context, Failed, staticPrincipals } from './command.ts'
import { writeEvents } from './log.ts'
import {
  IdSeqs,
  lineWriter,
  PAGE,
  parseEventLine,
  readLines,
  refuseHead,
  requireEmptyLog,
  writeLogUpTo,
} from './streams.ts'

/**
 * Why a store with credentials is refused, and what to do: a server started on it, even one that
 * then could not listen, has added its tokens' organisations (and the demo's accounts).
 */
const EMPTY_ONLY =
  'restore writes into an empty store only: restore into a new data folder (or database), one no server has started on (a start adds its organisations and the demo accounts even when it then cannot listen)'

/** The name in a backup's header line, and the newest version of the format this code reads and writes. */
export const BACKUP_FORMAT = 'watchfloor-backup'
export const BACKUP_FORMAT_VERSION = 1

/**
 * A backup is NDJSON, in this order:
 * 1. the header: `{"format":"watchfloor-backup","version":1,"schemas":{"events":4,"credentials":7},
 *    "createdAt":..., "store":"sqlite"|"postgres", "head":N, "leftOut":[...]}`;
 * 2. one line per durable credential table: `{"table":"accounts","rows":[...]}`;
 * 3. one line per event, the stored event as the log holds it (`{"seq":1,"recordedAt":...}`);
 * 4. the end: `{"end":true,"events":N,"tables":M}`, so a cut file is told from a whole one.
 */
export interface BackupHeader {
  format: typeof BACKUP_FORMAT
  version: number
  schemas: { events: number; credentials: number }
  createdAt: string
  store: 'sqlite' | 'postgres'
  head: number
  leftOut: string[]
}

const LEFT_OUT = ['event snapshots (rebuilt from the log)', ...CREDENTIALS_LEFT_OUT]

async function durable(credentials: CredentialStore): Promise<CredentialDump> {
  if (!credentials.exportDurable) throw new Failed(`the ${credentials.kind} credential store cannot be backed up`)
  return credentials.exportDurable()
}

const backup: Command = {
  name: 'backup',
  summary: 'back up the whole store (log and credentials) into one file',
  usage: 'backup FILE',
  help: `Writes the event log (every event with its seq, id, recordedAt and body exactly) and the
credential store's durable content (organisations, communities and their members, accounts with
their password hashes, API and display tokens with their secrets' hashes, partner feeds with
their state, feeds-out activity) into FILE ("-": stdout), one format for SQLite and PostgreSQL.
Left out, as transient: sessions (people sign in again), sign-in throttle slots, feed polling
leases, TAXII Add Objects statuses (asked for after a restore, 404 as one aged out), and the log's
snapshots (rebuilt from the log: restore saves the whole picture's, the
audiences' of everyone who may sign in and those of the users RED events name; the others come as
the server folds).

The first line names the format and its version, and the schema versions of the store. The file
is written as FILE.partial (mode 0600) and renamed when complete. It holds password and token
hashes: keep it as you keep the server's secrets. On PostgreSQL it may run while servers run; on
SQLite too (it only reads), though events appended meanwhile may be left out. It never upgrades
the schema: a database of an older release's schema is refused, unchanged (back it up with that
release before an upgrade).

Exit codes: 0 written; 1 the store could not be read or the file written; 2 bad usage.`,
  options: {},
  positionals: [1, 1],
  async run(args, context) {
    const name = args.positionals[0]!
    const events = await context.events({ write: false })
    const credentials = await context.credentials({ write: false })
    // the credentials first, then the head: a partner feed's cursor is written after the events it
    // brought, so every event a dumped cursor stands for is at or below the head read after it
    const dump = await durable(credentials)
    const head = await events.head()
    const header: BackupHeader = {
      format: BACKUP_FORMAT,
      version: BACKUP_FORMAT_VERSION,
      schemas: { ...SCHEMA_VERSIONS },
      createdAt: new Date().toISOString(),
      store: events.kind,
      head,
      leftOut: LEFT_OUT,
    }
    const writer = lineWriter(context, name)
    const progress = context.progress('backed up')
    let count = 0
    try {
      await writer.write(JSON.stringify(header))
      for (const table of DURABLE_TABLE_NAMES) await writer.write(JSON.stringify({ table, rows: dump[table] ?? [] }))
      count = await writeLogUpTo(events, head, writer.write, progress)
      await writer.write(JSON.stringify({ end: true, events: count, tables: DURABLE_TABLE_NAMES.length }))
      await writer.finish()
    } catch (error) {
      await writer.abort()
      throw error
    }
    const rows = DURABLE_TABLE_NAMES.map((table) => `${table} ${dump[table]?.length ?? 0}`).join(', ')
    context.note(`backed up ${count} events (seq 1 to ${head}) and ${rows} from ${context.describeStore()}`)
  },
}

/** The header line of a backup, checked: its format, a version this code reads, schemas not newer than ours. */
export function readHeader(line: string | undefined, name: string): BackupHeader {
  let header: Partial<BackupHeader>
  try {
    header = JSON.parse(line ?? '') as Partial<BackupHeader>
  } catch {
    throw new Failed(`${name} is not a Watchfloor backup (its first line is not JSON)`)
  }
  if (header?.format !== BACKUP_FORMAT)
    throw new Failed(`${name} is not a Watchfloor backup (no "${BACKUP_FORMAT}" header)`)
  if (typeof header.version !== 'number' || header.version > BACKUP_FORMAT_VERSION || header.version < 1)
    throw new Failed(
      `${name} is a backup of format version ${header.version}; this Watchfloor reads versions 1 to ${BACKUP_FORMAT_VERSION}: ` +
        'restore it with the Watchfloor that made it, or a newer one',
    )
  for (const schema of ['events', 'credentials'] as const) {
    const found = header.schemas?.[schema]
    if (typeof found !== 'number' || found > SCHEMA_VERSIONS[schema])
      throw new Failed(
        `${name} was taken from a store whose ${schema} schema is version ${found}, newer than version ` +
          `${SCHEMA_VERSIONS[schema]} that this Watchfloor knows: restore it with a Watchfloor at least as new`,
      )
  }
  return header as BackupHeader
}

const restore: Command = {
  name: 'restore',
  summary: 'restore a backup into an empty store (SQLite or PostgreSQL, either way)',
  usage: 'restore FILE',
  help: `Reads a backup made by "backup" (FILE "-": stdin) into the store that WATCHFLOOR_DATABASE_URL or
WATCHFLOOR_DATA_DIR names, which must be empty: no event, no organisation, account, token, feed.
A backup from SQLite restores into PostgreSQL and the other way: that is how a site moves from one
machine to several. Every event keeps its seq, id, recordedAt and content; accounts keep their
password hashes and tokens their secrets, so both keep working. Sessions are not restored: people
sign in again. Run it with the servers stopped, then start them on the restored store. Once the
events are in, it folds the whole picture, the pictures of the audiences of everyone who may sign
in (with WATCHFLOOR_TOKENS set as for the server, its static tokens' too) and those of the users
RED events name, and saves them as snapshots, so that the first start folds none of them.

Backups of an older format version or older schemas restore into this version. A FILE is read
through first: a cut or damaged one is refused and the store left as it was (from stdin, the restore
stops where it finds the fault).

Exit codes: 0 restored; 1 the store is not empty, the file is not a whole backup this Watchfloor
reads (a newer format or schema, a cut file, an invalid event), or writing failed; 2 bad usage.`,
  options: {},
  positionals: [1, 1],
  async run(args, context) {
    const name = args.positionals[0]!
    // the static tokens' audiences are saved too (below): a token list that cannot be read stops the
    // restore before it writes anything
    // the same static tokens the server and every other command take (WATCHFLOOR_TOKENS, else the
    // demo set of the data folder); one it cannot read stops the restore before it writes anything
    const principals = (() => {
      try {
        return staticPrincipals(context)
      } catch (error) {
        throw new Failed(`${(error as Error).message}; nothing was restored`)
      }
    })()
    // the cheap refusals first, on the store as it is (nothing made, claimed or upgraded, so a refusal
    // leaves it exactly as it was): one that holds events, credentials, or an older release's database
    const held = await context.peek()
    if (held.kind === 'older')
      throw new Failed(
        `refusing: ${context.describeStore()} holds a database of an older release (its ${held.schema} schema is version ${held.found}); restore writes into an empty store only`,
      )
    if (held.kind === 'held') {
      refuseHead(held.head, context)
      const present = held.credentials.filter(([, rows]) => rows > 0)
      if (present.length > 0)
        throw new Failed(
          `refusing: the credential store of ${context.describeStore()} is not empty ` +
            `(${present.map(([table, rows]) => `${table}: ${rows}`).join(', ')}); ${EMPTY_ONLY}`,
        )
    }
    // a file is read through once first, so that a damaged one leaves the store untouched (stdin
    // cannot be read twice: there the checks below stop the restore where they find a fault)
    if (name !== '-') await checkBackup(context, name)
    // then, claimed as the log's one writer (writer.ts) and brought to this release's schema, the same
    // refusals again (a writer may have come meanwhile)
    const events = await context.events({ write: true, alone: true })
    const credentials = await context.credentials({ write: true })
    await requireEmptyLog(events, context)
    const present = Object.entries(await durable(credentials)).filter(([, rows]) => rows.length > 0)
    if (present.length > 0)
      throw new Failed(
        `refusing: the credential store of ${context.describeStore()} is not empty ` +
          `(${present.map(([table, rows]) => `${table}: ${rows.length}`).join(', ')}); ${EMPTY_ONLY}`,
      )
    const lines = readLines(context, name)
    const first = await lines.next()
    const header = readHeader(first.done ? undefined : first.value[0], name)
    const dump: CredentialDump = {}
    let end: { events: number } | undefined
    // the credential tables come first; then events, read on by writeEvents until the end line
    let pending: [string, number] | undefined
    for (;;) {
      const next = await lines.next()
      if (next.done) break
      const [line, n] = next.value
      const value = parseLine(line, n, name)
      if ('table' in value) {
        if (typeof value.table !== 'string' || !Array.isArray(value.rows))
          throw new Failed(`${name}, line ${n}: not a table of the backup`)
        dump[value.table] = value.rows as DurableRow[]
        continue
      }
      pending = next.value
      break
    }
    if (!credentials.importDurable) throw new Failed(`the ${credentials.kind} credential store cannot be restored`)
    await credentials.importDurable(dump)
    async function* eventLines(): AsyncGenerator<[string, number]> {
      let next = pending
      while (next) {
        const [line, n] = next
        // the end line as the read-through knows it (`endOf`), whatever the order of its keys
        const closing = line.includes('"end"') ? endOf(parseLine(line, n, name)) : undefined
        if (closing !== undefined) {
          end = { events: closing.events }
          if (!(await lines.next()).done) throw new Failed(`${name}, line ${n + 1}: lines after the end of the backup`)
          return
        }
        yield next
        const after = await lines.next()
        next = after.done ? undefined : after.value
      }
    }
    // the accounts, tokens and directory are in: a failure from here leaves the store part restored
    const count = await writeEvents(events, context, eventLines(), name, header.head).catch((error: unknown) => {
      const why = error instanceof Error ? error.message : String(error)
      throw new Failed(
        `${why}. The accounts, tokens and directory of the backup were restored, and the events before the fault: ` +
          'empty the store (a new SQLite data folder, or a new database or schema) before restoring again',
      )
    })
    if (!end)
      throw new Failed(
        `${name} is cut short (no end line): ${count} events were restored, the backup's header says seq 1 to ${header.head}. ` +
          'Empty the store before restoring a whole backup',
      )
    if (end.events !== count)
      throw new Failed(`${name} says it holds ${end.events} events, ${count} were read: the file is damaged`)
    const rows = Object.entries(dump)
      .map(([table, list]) => `${table} ${list.length}`)
      .join(', ')
    context.note(`restored ${count} events and ${rows} into ${context.describeStore()}`)
    context.note(`(taken ${header.createdAt} from ${header.store}; not in a backup: ${header.leftOut.join(', ')})`)
    // A backup leaves snapshots out. The whole picture (who owns what, which users RED events name),
    // the pictures of the audiences of everyone who may sign in and those of the users RED events
    // name are folded here, as a start prepares them, and saved, so that the first start on the
    // restored log folds none: it would hold raw ingest and first consoles back until it had (on a
    // log of months that is minutes).
    if (count > 0 && events.snapshots) {
      context.note('folding the pictures of the restored log, for the first start ...')
      const unsaved: unknown[] = []
      const snapshots = new Snapshots(events.snapshots, {}, (error) => unsaved.push(error))
      const full = new FullState(events, { snapshots })
      const directory = new Directory(credentials, createLogger('silent'))
      await directory.start()
      try {
        const states = new StateCache(events, { snapshots, red: full })
        const ahead = states.prepareAhead(
          () => audiencesOf(principals, credentials, directory),
          (named) => namedUsersOf(principals, credentials, directory, named),
        )
        const [picture, audiences, users] = await Promise.all([full.fresh(), ahead.audiences, ahead.users])
        await full.saveSnapshot()
        await states.saveSnapshots()
        await snapshots.settle()
        const of = `${audiences} audience${audiences === 1 ? '' : 's'} and ${users} user${users === 1 ? '' : 's'} RED events name`
        if (unsaved.length === 0)
          context.note(`saved the whole picture and the pictures of ${of} at seq ${picture.seq} as snapshots`)
        else
          context.note(
            `the restored log is whole, but ${unsaved.length} of its snapshots could not be saved (${String(unsaved[0])}): ` +
              'the first start folds what they would have held',
          )
      } finally {
        directory.stop()
      }
    }
  },
}

/**
 * A backup file read through without writing anything: its header, its tables, every event a valid
 * stored event after the one before, and an end line that counts them with nothing after it.
 */
async function checkBackup(context: Context, name: string): Promise<void> {
  let phase: 'header' | 'tables' | 'events' | 'ended' = 'header'
  let header: BackupHeader | undefined
  let tables = 0
  let count = 0
  let last = 0
  let lastRecordedAt = ''
  const ids = new IdSeqs()
  const progress = context.progress('read through')
  const refuse = (n: number, why: string) => {
    throw new Failed(`${name}, line ${n}: ${why}; nothing was restored`)
  }
  for await (const [line, n] of readLines(context, name)) {
    if (phase === 'header') {
      header = readHeader(line, name)
      phase = 'tables'
      continue
    }
    if (phase === 'ended')
      throw new Failed(`${name}, line ${n}: lines after the end of the backup; nothing was restored`)
    const value = parseLine(line, n, name)
    if (phase === 'tables' && 'table' in value) {
      if (typeof value.table !== 'string' || !Array.isArray(value.rows))
        throw new Failed(`${name}, line ${n}: not a table of the backup`)
      tables++
      continue
    }
    phase = 'events'
    const closing = endOf(value)
    if (closing !== undefined) {
      if (closing.events !== count)
        throw new Failed(
          `${name} says it holds ${closing.events} events, ${count} were read: the file is damaged; nothing was restored`,
        )
      if (closing.tables !== undefined && closing.tables !== tables)
        refuse(n, `the backup says it holds ${closing.tables} tables, ${tables} were read: the file is damaged`)
      if (last !== header!.head) refuse(n, `the header says seq 1 to ${header!.head}, the events end at seq ${last}`)
      phase = 'ended'
      continue
    }
    // what the store takes [L1, L2, L5]: seqs from 1 without a gap, each id once, recordedAt in the
    // stores' form and never going back; checked before anything is written
    const event = parseEventLine(line, n, name)
    if (event.seq !== last + 1) refuse(n, `seq ${event.seq} after seq ${last} (a log has no gap)`)
    if (ids.get(event.id) !== undefined) refuse(n, `event ${event.id} comes twice (again at seq ${event.seq})`)
    const time = Date.parse(event.recordedAt)
    if (Number.isNaN(time) || new Date(time).toISOString() !== event.recordedAt)
      refuse(n, `seq ${event.seq} has recordedAt ${JSON.stringify(event.recordedAt)}, not a UTC ISO 8601 time`)
    if (event.recordedAt < lastRecordedAt)
      refuse(n, `seq ${event.seq} was recorded at ${event.recordedAt}, before the event ahead of it`)
    ids.set(event.id, event.seq)
    lastRecordedAt = event.recordedAt
    last = event.seq
    count++
    if (count % PAGE === 0) progress(count, header!.head)
  }
  if (phase === 'header') throw new Failed(`${name} is not a Watchfloor backup (it is empty)`)
  if (phase !== 'ended')
    throw new Failed(`${name} is cut short (no end line after ${count} events): nothing was restored`)
}

/**
 * A backup's end line (`{"end":true,"events":N,"tables":N}`, its keys in any order): what it counts;
 * undefined for any other line. The read-through and the restore know it by this one test.
 */
function endOf(value: Record<string, unknown>): { events: number; tables?: number } | undefined {
  if (value.end !== true || typeof value.events !== 'number') return undefined
  return typeof value.tables === 'number' ? { events: value.events, tables: value.tables } : { events: value.events }
}

function parseLine(line: string, n: number, name: string): Record<string, unknown> {
  try {
    const value = JSON.parse(line) as unknown
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // said below
  }
  throw new Failed(`${name}, line ${n}: not a JSON object`)
}

export const backupCommands: Command[] = [backup, restore]

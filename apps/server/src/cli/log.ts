import type { StoredEvent } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import { type Command, type Context, Failed, integerOption } from './command.ts'
import {
  IdSeqs,
  lineWriter,
  PAGE,
  parseEventLine,
  readLines,
  readLogUpTo,
  readStoredEvent,
  requireEmptyLog,
  writeLogUpTo,
} from './streams.ts'

type ProblemKind = 'gap' | 'invalid body' | 'duplicate id' | 'recordedAt decreases' | 'head'

/** Problems found by `check`, counted by kind, the first `keep` of them kept to print. */
class Problems {
  readonly counts = new Map<ProblemKind, number>()
  readonly first: string[] = []
  constructor(private readonly keep: number) {}

  add(kind: ProblemKind, text: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1)
    if (this.first.length < this.keep) this.first.push(`${kind}: ${text}`)
  }

  get total(): number {
    let sum = 0
    for (const count of this.counts.values()) sum += count
    return sum
  }
}

/**
 * Check a log: seqs gap-free from 1 to the head, every body a valid event, ids unique, recordedAt
 * never decreasing along seq [L1, L2, L5]. The head is read once, first, and the log only up to it:
 * events that running servers append meanwhile are left for the next check, not taken for events
 * past the head. Returns the problems found and how many events were read.
 */
export async function checkLog(
  store: EventStore,
  keep: number,
  progress: (done: number, total?: number) => void,
): Promise<{ problems: Problems; events: number; head: number; first?: StoredEvent; last?: StoredEvent }> {
  const problems = new Problems(keep)
  const head = await store.head()
  const ids = new IdSeqs()
  let expected = 1
  let events = 0
  let first: StoredEvent | undefined
  let previous: StoredEvent | undefined
  for await (const page of readLogUpTo(store, head)) {
    for (const event of page) {
      events++
      first ??= event
      if (event.seq > expected)
        problems.add(
          'gap',
          event.seq === expected + 1
            ? `seq ${expected} is missing`
            : `seqs ${expected} to ${event.seq - 1} are missing`,
        )
      const read = readStoredEvent(event)
      if ('problem' in read) problems.add('invalid body', `seq ${event.seq}: ${read.problem}`)
      // an id is one id however it is spelt (the schema's form: lower case, as the server stores it)
      const id = 'event' in read ? read.event.id : typeof event.id === 'string' ? event.id : undefined
      if (id !== undefined) {
        const seen = ids.get(id)
        if (seen !== undefined) problems.add('duplicate id', `seq ${event.seq} has the id of seq ${seen} (${event.id})`)
        else ids.set(id, event.seq)
      }
      if (previous && typeof event.recordedAt === 'string' && event.recordedAt < previous.recordedAt)
        problems.add(
          'recordedAt decreases',
          `seq ${event.seq} recorded at ${event.recordedAt}, before seq ${previous.seq} (${previous.recordedAt})`,
        )
      expected = event.seq + 1
      previous = event
    }
    progress(events, head)
  }
  if (previous?.seq !== head && !(head === 0 && previous === undefined))
    problems.add('head', `the store says its head is ${head}, the last event read is seq ${previous?.seq ?? 0}`)
  return { problems, events, head, ...(first ? { first } : {}), ...(previous ? { last: previous } : {}) }
}

const check: Command = {
  name: 'check',
  summary: 'check the event log: gap-free seqs, valid bodies, unique ids, recordedAt in order',
  usage: 'check [--show N]',
  help: `Reads the log in seq order, up to the head it reads first, and checks that:
  - seqs run from 1 to the head without a gap,
  - every body is a valid event of the protocol (with its seq, recordedAt and marking),
  - no id comes twice,
  - recordedAt never decreases along seq.
Prints a summary on stdout. It may run beside running servers (it only reads; events they append
after it read the head are left for the next check).

Options:
  --show N   problems to list (default 20); all of them are counted

Exit codes: 0 the log is sound; 1 problems found (listed first, then counted by kind) or the log
could not be read; 2 bad usage.`,
  options: { show: { type: 'string' } },
  positionals: [0, 0],
  async run(args, context) {
    const keep = integerOption(args, 'show', 20, 0, 1_000_000)
    const store = await context.events({ write: false })
    let result: Awaited<ReturnType<typeof checkLog>>
    try {
      result = await checkLog(store, keep, context.progress('checked'))
    } catch (error) {
      throw new Failed(`cannot read the log of ${context.describeStore()}: ${(error as Error).message}`)
    }
    const { problems, events, head, first, last } = result
    context.say(`log: ${context.describeStore()}`)
    context.say(`events: ${events}, head seq ${head}`)
    if (first && last) context.say(`recorded: ${first.recordedAt} to ${last.recordedAt}`)
    if (problems.total === 0) {
      context.say('ok: seqs gap-free from 1, every body valid, ids unique, recordedAt in order')
      return
    }
    context.say(`PROBLEMS: ${problems.total}`)
    for (const line of problems.first) context.say(`  ${line}`)
    if (problems.total > problems.first.length)
      context.say(`  ... and ${problems.total - problems.first.length} more (--show N lists more)`)
    for (const [kind, count] of problems.counts) context.say(`${kind}: ${count}`)
    throw new Failed(`the log has ${problems.total} problem${problems.total === 1 ? '' : 's'}`)
  },
}

const exportLog: Command = {
  name: 'export',
  summary: 'write the whole log as NDJSON, one stored event per line',
  usage: 'export FILE',
  help: `Writes every event of the log, in seq order, as NDJSON: one stored event (with its seq and
recordedAt) per line. FILE "-" writes to stdout (use "pnpm -s watchfloor export -" so pnpm
prints nothing of its own). A file is written as FILE.partial and renamed when complete.
Only the log: for accounts, tokens and the directory too, use backup.

Exit codes: 0 written; 1 the log could not be read or the file written; 2 bad usage.`,
  options: {},
  positionals: [1, 1],
  async run(args, context) {
    const name = args.positionals[0]!
    const store = await context.events({ write: false })
    const head = await store.head()
    const writer = lineWriter(context, name)
    const progress = context.progress('exported')
    let count = 0
    try {
      count = await writeLogUpTo(store, head, writer.write, progress)
      await writer.finish()
    } catch (error) {
      await writer.abort()
      throw error
    }
    context.note(`exported ${count} events (seq 1 to ${head}) from ${context.describeStore()}`)
  },
}

const importLog: Command = {
  name: 'import',
  summary: 'read an NDJSON export into an empty log, keeping every seq and recordedAt',
  usage: 'import FILE',
  help: `Reads NDJSON written by export (one stored event per line; FILE "-" reads stdin) into the
event log, which must be empty. Every event is checked against the protocol's event schema and
written as it was stored: the same seq, id, recordedAt and content. Seqs must run from 1 without a
gap and recordedAt must not decrease.

Exit codes: 0 imported; 1 the log is not empty or a line is not a valid next event (named by its
line number; the events before it are in the log, see docs/operate.md); 2 bad usage.`,
  options: {},
  positionals: [1, 1],
  async run(args, context) {
    const name = args.positionals[0]!
    // stored events under their own seqs: alone (on PostgreSQL, no server appending between them)
    const store = await context.events({ write: true, alone: true })
    await requireEmptyLog(store, context)
    const count = await writeEvents(store, context, readLines(context, name), name)
    context.note(`imported ${count} events into ${context.describeStore()}`)
  },
}

/** Write lines of stored events into the log in pages, as they were stored; returns how many. */
export async function writeEvents(
  store: EventStore,
  context: Context,
  lines: AsyncIterable<[string, number]>,
  name: string,
  total?: number,
): Promise<number> {
  if (!store.appendStored) throw new Failed(`the ${store.kind} event store cannot write stored events`)
  const progress = context.progress('written')
  let batch: StoredEvent[] = []
  /** The line of each event of the batch. */
  let lineOf: number[] = []
  let count = 0
  const flush = async () => {
    if (batch.length === 0) return
    try {
      await store.appendStored!(batch)
    } catch (error) {
      const at = faultyIndex(batch, error)
      const where = at === undefined ? `lines from ${lineOf[0]}` : `line ${lineOf[at]}`
      throw new Failed(
        `${name}, ${where}: ${(error as Error).message} (${count} events written before: empty the store before trying again)`,
      )
    }
    count += batch.length
    batch = []
    lineOf = []
    progress(count, total)
  }
  for await (const [line, n] of lines) {
    batch.push(parseEventLine(line, n, name))
    lineOf.push(n)
    if (batch.length >= PAGE) await flush()
  }
  await flush()
  return count
}

/**
 * Which event of a batch the store refused, from its error's details (`seq`, and `id` for an event
 * already in the log at another seq): undefined when they name none of the batch.
 */
function faultyIndex(batch: readonly StoredEvent[], error: unknown): number | undefined {
  const details = (error as { details?: unknown }).details as
    | { seq?: unknown; id?: unknown; index?: unknown }
    | null
    | undefined
  if (typeof details !== 'object' || details === null) return undefined
  // the store names the event of the batch it refused (`storedRows`)
  if (typeof details.index === 'number' && details.index >= 0 && details.index < batch.length) return details.index
  const bySeq = batch.findIndex((event) => event.seq === details.seq && (details.id ?? event.id) === event.id)
  if (bySeq >= 0) return bySeq
  const byId = batch.findIndex((event) => event.id === details.id)
  return byId >= 0 ? byId : undefined
}

export const logCommands: Command[] = [check, exportLog, importLog]

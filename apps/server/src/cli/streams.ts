import { once } from 'node:events'
import { closeSync, createReadStream, createWriteStream, fsyncSync, openSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { EventInput, Marking, type StoredEvent } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import { type Context, Failed } from './command.ts'

/** Events per read from the log and per write into it. */
export const PAGE = 1000

/** Every event of the log after `after`, in seq order, a page at a time. */
export async function* readLog(store: EventStore, after = 0): AsyncGenerator<StoredEvent[]> {
  let cursor = after
  for (;;) {
    const page = await store.readAfter(cursor, PAGE)
    if (page.length === 0) return
    yield page
    cursor = page.at(-1)!.seq
  }
}

/**
 * Every event of the log up to `head` (a head read before: what servers append meanwhile is not
 * read), in seq order, a page at a time.
 */
export async function* readLogUpTo(store: EventStore, head: number): AsyncGenerator<StoredEvent[]> {
  if (head <= 0) return
  for await (const page of readLog(store)) {
    const last = page.at(-1)!.seq
    yield last <= head ? page : page.filter((event) => event.seq <= head)
    if (last >= head) return
  }
}

/** Every event of the log up to `head`, written a line each, with progress after each page; resolves to how many. */
export async function writeLogUpTo(
  store: EventStore,
  head: number,
  write: (line: string) => Promise<void>,
  progress: (done: number, of: number) => void,
): Promise<number> {
  let count = 0
  for await (const page of readLogUpTo(store, head)) {
    for (const event of page) {
      await write(JSON.stringify(event))
      count++
    }
    progress(count, head)
  }
  return count
}

/**
 * One stored event read against the protocol's event schema: `seq` a positive whole number,
 * `recordedAt` a time, a marking, and the rest a valid event. Valid, it is the event in the form
 * the server stores (the schema's output: ids in lower case, text trimmed), so what an import or a
 * restore writes is what the server's write path would have written, and an id is one id however
 * it was spelt; its keys keep the order they were read in, so a log exported and imported again
 * is the same bytes.
 */
export function readStoredEvent(value: unknown): { event: StoredEvent } | { problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not a JSON object' }
  const { seq, recordedAt, ...input } = value as Record<string, unknown>
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1)
    return { problem: `seq ${JSON.stringify(seq)} is not a positive whole number` }
  if (typeof recordedAt !== 'string' || Number.isNaN(Date.parse(recordedAt)))
    return { problem: `recordedAt ${JSON.stringify(recordedAt)} is not a time` }
  if (!Marking.safeParse(input.marking).success) return { problem: 'no valid marking' }
  const parsed = EventInput.safeParse(input)
  if (parsed.success) return { event: inOrderOf(value, { ...parsed.data, seq, recordedAt }) as unknown as StoredEvent }
  return {
    problem: parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
      .join('; '),
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** `canonical` with its keys in the order `read` has them (keys only `canonical` has after), at every depth. */
function inOrderOf(read: unknown, canonical: unknown): unknown {
  if (Array.isArray(read) && Array.isArray(canonical))
    return canonical.map((item, i) => (i < read.length ? inOrderOf(read[i], item) : item))
  if (!isRecord(read) || !isRecord(canonical)) return canonical
  const ordered: Record<string, unknown> = {}
  for (const key of Object.keys(read)) if (key in canonical) ordered[key] = inOrderOf(read[key], canonical[key])
  for (const key of Object.keys(canonical)) if (!(key in ordered)) ordered[key] = canonical[key]
  return ordered
}

/**
 * The seq of each event id read so far, in maps by the id's first two hex digits: one Map holds at
 * most 2^24 entries, and a log of months holds more events than that (`check` of a whole log, the
 * read-through of a restore).
 */
export class IdSeqs {
  private readonly shards = new Map<string, Map<string, number>>()
  get(id: string): number | undefined {
    return this.shards.get(id.slice(0, 2))?.get(id)
  }
  set(id: string, seq: number): void {
    const key = id.slice(0, 2)
    const shard = this.shards.get(key)
    if (shard) shard.set(id, seq)
    else this.shards.set(key, new Map([[id, seq]]))
  }
}

/** Lines of a file, or of stdin for `-`; each with its number (from 1). */
export async function* readLines(context: Context, name: string): AsyncGenerator<[string, number]> {
  const input = name === '-' ? process.stdin : createReadStream(context.file(name))
  if (name !== '-')
    try {
      await once(input, 'open')
    } catch (error) {
      throw new Failed(`cannot read ${name}: ${(error as Error).message}`)
    }
  let n = 0
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    n++
    if (line.trim() === '') continue
    yield [line, n]
  }
}

/**
 * A writer of lines to a file (written beside it as `<file>.partial`, published once complete by
 * `publishFile`, so neither an interrupted run nor a power cut leaves a file that looks whole; mode
 * 0600) or to stdout for `-`. `ops`: how the file is made durable (a parameter for tests).
 */
export function lineWriter(context: Pick<Context, 'file'>, name: string, ops: DurableOps = DURABLE_OPS) {
  const toStdout = name === '-'
  const target = toStdout ? '' : context.file(name)
  const partial = `${target}.partial`
  const stream = toStdout ? process.stdout : createWriteStream(partial, { mode: 0o600 })
  let failure: Error | null = null
  stream.on('error', (error: Error) => {
    failure = error
  })
  return {
    async write(line: string): Promise<void> {
      if (failure) throw new Failed(`cannot write ${name}: ${failure.message}`)
      if (!stream.write(`${line}\n`)) await once(stream, 'drain')
    },
    async finish(): Promise<void> {
      if (toStdout) return
      await new Promise<void>((resolve, reject) =>
        stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
      )
      if (failure) throw new Failed(`cannot write ${name}: ${(failure as Error).message}`)
      publishFile(partial, target, ops)
    },
    /** Stop and remove the partial file: once the stream has closed, as its file may be opened only now. */
    async abort(): Promise<void> {
      if (toStdout) return
      if (!stream.closed) {
        const closed = once(stream, 'close').catch(() => {})
        stream.destroy()
        await closed
      }
      rmSync(partial, { force: true })
    },
  }
}

/** The file operations a finished file is made durable with (a parameter, so tests can see their order). */
export interface DurableOps {
  syncFile(path: string): void
  rename(from: string, to: string): void
  syncFolder(path: string): void
}

export const DURABLE_OPS: DurableOps = {
  syncFile(path) {
    // opened for writing: some systems (Windows) sync only a file opened so
    const fd = openSync(path, 'r+')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  },
  rename: renameSync,
  syncFolder(path) {
    let fd: number | undefined
    try {
      fd = openSync(path, 'r')
      fsyncSync(fd)
    } catch {
      // a folder this file system cannot sync: the rename stands, as written
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  },
}

/**
 * Make `partial` whole under `target`: its content on disk first, then renamed, then the rename on
 * disk, so a power cut after "done" never leaves an empty or cut file under the final name.
 */
export function publishFile(partial: string, target: string, ops: DurableOps = DURABLE_OPS): void {
  ops.syncFile(partial)
  ops.rename(partial, target)
  ops.syncFolder(dirname(target))
}

/** Parse one line of stored-event JSON into the form the server stores (`readStoredEvent`), or fail naming the line. */
export function parseEventLine(line: string, n: number, name: string): StoredEvent {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw new Failed(`${name}, line ${n}: not JSON`)
  }
  const read = readStoredEvent(value)
  if ('problem' in read) {
    // a whole-store backup handed to `import`: its header names its format (backup.ts BACKUP_FORMAT)
    if (n === 1 && (value as { format?: unknown } | null)?.format === 'watchfloor-backup')
      throw new Failed(
        `${name} is a Watchfloor backup, not an export of the log: read it with restore (docs/operate.md)`,
      )
    throw new Failed(`${name}, line ${n}: not a valid stored event: ${read.problem}`)
  }
  return read.event
}

/** Refuse to write into a log that holds anything. */
export async function requireEmptyLog(store: EventStore, context: Context): Promise<void> {
  refuseHead(await store.head(), context)
}

/** The refusal of a log that holds events (`head` > 0). */
export function refuseHead(head: number, context: Pick<Context, 'describeStore'>): void {
  if (head > 0)
    throw new Failed(
      `refusing: the event log of ${context.describeStore()} is not empty (head seq ${head}); ` +
        'restore and import write into an empty store only',
    )
}

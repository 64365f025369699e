import { closeSync, openSync } from 'node:fs'
import Database from 'better-sqlite3'

/**
 * A SQLite event log has one writer at a time: a server (it keeps the log's head in memory and
 * numbers what it appends from it), or the CLI's `import` or `restore`. A second writer beside a
 * running server would write under seqs the server then gives again, and the server would fail
 * every append until restarted; a second server on one data folder likewise.
 *
 * The claim is an exclusive lock, held for as long as the log is open, on a small file beside it
 * (`<log>-writer`, with its `-writer-journal` while held), taken through SQLite's own file locking: the operating system lets it go when
 * the process ends, however it ends (SIGKILL and a crash included), so no stale claim outlives a
 * writer, and none is taken over by guessing from a process id.
 */
export class LogInUseError extends Error {
  /** `file`: the log (a SQLite file, or a PostgreSQL log as the store names it); `message`: another refusal of it. */
  constructor(
    readonly file: string,
    message = `the event log ${file} is open for writing in another process (a server on this data folder, or an import or restore): stop it first; one log has one writer at a time`,
  ) {
    super(message)
    this.name = 'LogInUseError'
  }
}

/** A claim on a log's one writer: `release` lets it go (closing the log does, too, at process end). */
export interface WriterClaim {
  release(): void
}

/** Claim `file`'s one writer, or throw `LogInUseError` at once when another process holds it. */
export function claimWriter(file: string): WriterClaim {
  // made 0600 like the log beside it (it holds nothing, but the folder's files are its owner's)
  closeSync(openSync(`${file}-writer`, 'a', 0o600))
  const lock = new Database(`${file}-writer`)
  try {
    // the lock stays with this connection until it closes: no other process reads or writes the file
    lock.pragma('locking_mode = EXCLUSIVE')
    lock.pragma('busy_timeout = 0')
    lock.exec('BEGIN EXCLUSIVE')
  } catch (error) {
    lock.close()
    if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new LogInUseError(file)
    throw error
  }
  return {
    release() {
      if (lock.open) lock.close()
    },
  }
}

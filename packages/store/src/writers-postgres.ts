import { WatchfloorError } from '@watchfloor/protocol'
import pg from 'pg'
import { LogInUseError } from './writer.ts'

/**
 * Who writes a PostgreSQL event log. Servers append side by side (seqs are allocated under a lock
 * at commit, so they never collide) and share the claim; an import or a restore writes stored events
 * under their own seqs into an empty log and must be alone, so it takes the claim exclusively. Either
 * is refused at once while the other holds it: an import or a restore beside running servers (which
 * would append between its events), or a server started during one.
 *
 * The claim is a session advisory lock (shared or exclusive) on a connection of its own, held for
 * as long as the store is open: PostgreSQL lets it go when the connection ends, however the process
 * ends (SIGKILL and a crash included), so no stale claim outlives a writer. A shared claim whose
 * connection is lost (a database restart) is taken again, every second until it is, and its server
 * appends nothing meanwhile (`notHeldError`): an import or a restore may hold the log alone by then. A
 * writer alone whose claim is lost writes no more (`lostError`): another may have started meanwhile.
 */
export type WritersClaimMode = 'shared' | 'alone'

const RECLAIM_MS = 1000

export class PostgresWritersClaim {
  private client: pg.Client | undefined
  /** The server process of the claim's connection (`pg_backend_pid`): who holds the lock in `pg_locks`. */
  private pid: number | undefined
  private released = false
  private retry: NodeJS.Timeout | undefined

  private constructor(
    private readonly connectionString: string,
    /** The advisory lock's key: a server's append asks for it shared, inside its transaction. */
    readonly key: number,
    readonly mode: WritersClaimMode,
    /** `watchfloor-writers <table>`: what `pg_stat_activity` shows of the claim's connection. */
    private readonly applicationName: string,
    /** The log as a refusal names it. */
    private readonly log: string,
  ) {}

  /**
   * Claim the log whose lock key is `key` (its scope's, see DatabaseScope), or throw `LogInUseError`
   * naming `log` at once when a writer of the other kind holds it.
   */
  static async take(
    connectionString: string,
    key: number,
    mode: WritersClaimMode,
    log: string,
    table: string,
  ): Promise<PostgresWritersClaim> {
    const claim = new PostgresWritersClaim(connectionString, key, mode, `watchfloor-writers ${table}`, log)
    if (!(await claim.lock())) {
      throw new LogInUseError(
        log,
        mode === 'alone'
          ? `the event log ${log} is open for writing in another process (a server, an import or a restore): stop it first; an import or a restore writes alone`
          : `the event log ${log} is being imported or restored by another process: start once it has finished`,
      )
    }
    return claim
  }

  /** Connect and try the lock; true when held (the connection kept), false when another holds it. */
  private async lock(): Promise<boolean> {
    // kept alive by TCP too: a connection cut without a word (a half-open one) is found out
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: this.applicationName,
      keepAlive: true,
    })
    // a connection lost later (a database restart): the lock went with it; a shared claim is taken again
    client.on('error', () => this.lost(client))
    client.on('end', () => this.lost(client))
    try {
      await client.connect()
      const fn = this.mode === 'alone' ? 'pg_try_advisory_lock' : 'pg_try_advisory_lock_shared'
      const { rows } = await client.query<{ held: boolean; pid: number }>(
        `SELECT ${fn}($1) AS held, pg_backend_pid() AS pid`,
        [this.key],
      )
      if (rows[0]?.held === true && !this.released) {
        this.client = client
        this.pid = rows[0].pid
        return true
      }
    } catch (error) {
      await client.end().catch(() => {})
      throw error
    }
    await client.end().catch(() => {})
    return false
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return
    this.client = undefined
    if (this.released || this.mode === 'alone') return
    this.reclaim()
  }

  private reclaim(): void {
    if (this.released || this.retry) return
    this.retry = setTimeout(() => {
      this.retry = undefined
      this.lock().then(
        (held) => {
          if (!held) this.reclaim()
        },
        () => this.reclaim(),
      )
    }, RECLAIM_MS)
    this.retry.unref()
  }

  /** Whether the claim is held now (false between a lost connection and the claim taken again). */
  get held(): boolean {
    return this.client !== undefined
  }

  /**
   * The database said, inside an append's transaction, that another writer holds the log alone, while
   * this claim's connection still seemed to hold it (cut without a word): it is ended, so that the
   * claim counts as lost (`held`, `/readyz`) and is taken again, once the other writer is done.
   */
  notHeldAfterAll(): void {
    const client = this.client
    if (client === undefined) return
    this.lost(client)
    void client.end().catch(() => {})
  }

  /**
   * Throw `lostError` unless the claim's connection still holds the lock, asked on `client` (inside
   * the transaction that is about to write, so what the database says is what holds at commit: an
   * append of another writer taking the log meanwhile waits on that transaction's lock).
   */
  async confirm(client: pg.ClientBase): Promise<void> {
    const pid = this.pid
    if (!this.held || pid === undefined) throw this.lostError()
    // the claim's connection holds this one lock and no other
    const { rows } = await client.query<{ held: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = $1 AND granted) AS held",
      [pid],
    )
    if (rows[0]?.held !== true) throw this.lostError()
  }

  /**
   * What a server's append hears while its shared claim is lost and not yet taken again: the log may
   * be an import's or a restore's alone meanwhile, so nothing is appended; a later append may pass.
   */
  notHeldError(): WatchfloorError {
    return new WatchfloorError(
      'unavailable',
      `the event log ${this.log} cannot be written now: this process's claim on it was lost (its connection to PostgreSQL was cut) and is being taken again; try again shortly`,
      { reason: 'claim_lost' },
    )
  }

  /** What a writer alone says once its claim is lost: it must not write on. */
  lostError(): LogInUseError {
    return new LogInUseError(
      this.log,
      `the claim on the event log ${this.log} was lost (its connection to PostgreSQL was cut): another writer may have started since; stopped`,
    )
  }

  async release(): Promise<void> {
    this.released = true
    if (this.retry) clearTimeout(this.retry)
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }
}

import { createHash } from 'node:crypto'
import { createAdapter } from '@socket.io/postgres-adapter'
import type { Sealer } from '@watchfloor/store'
import pg from 'pg'
import type { Logger } from 'pino'
import { Server } from 'socket.io'
import type { PresenceAnnouncement, PresenceBus } from './presence.ts'

/**
 * Presence between the processes of one PostgreSQL log, through Socket.IO's PostgreSQL adapter
 * (`@socket.io/postgres-adapter`: NOTIFY on a channel, a table for messages over 8000 bytes).
 *
 * The adapter is scoped to presence: it serves a Socket.IO server of its own that no client connects
 * to and that only carries `serverSideEmit` announcements. The server the sockets use keeps the
 * in-memory adapter, so the gateway's room broadcasts (log events, filtered per audience) stay on
 * their process; each process reads the log itself (D5) and nothing is delivered twice.
 * The channel and the table are named after the connection's schema (`current_schema()`), so
 * processes sharing one log share presence and no others do.
 *
 * Announcements go sealed by the log's key (`sealer`, the key of the events' notifications): any
 * role that may connect may LISTEN on the channel, and who views which incident is not for it to
 * read, nor for it to make up. They are sent as `presence.sealed`; the cleartext `presence` of an
 * earlier release is neither sent nor heard (during a rolling upgrade the two releases do not see
 * each other's viewers, and neither fails on the other's messages). Without a key (a role that may
 * read none) presence stays on its process.
 */
export async function postgresPresenceBus(
  connectionString: string,
  logger: Logger,
  sealer: Sealer | undefined,
): Promise<PresenceBus & { close(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString, max: 2 })
  pool.on('error', (error) => logger.warn({ err: error }, 'presence bus connection failed'))
  const { rows } = await pool.query<{ schema: string }>('SELECT current_schema() AS schema')
  const scope = createHash('sha256')
    .update(rows[0]?.schema ?? 'public')
    .digest('hex')
    .slice(0, 16)
  const tableName = `watchfloor_presence_${scope}`
  // the adapter's table for large messages; processes starting together may race to make it
  await pool
    .query(
      `CREATE TABLE IF NOT EXISTS ${tableName} (id bigserial UNIQUE, created_at timestamptz DEFAULT now(), payload bytea)`,
    )
    .catch((error: { code?: string }) => {
      if (error.code !== '23505' && error.code !== '42P07') throw error
    })
  const channelPrefix = `watchfloor_presence_${scope}`
  const bus = new Server()
  bus.adapter(
    createAdapter(pool, {
      channelPrefix,
      tableName,
      errorHandler: (error) => logger.warn({ err: error }, 'presence bus message failed'),
    }),
  )
  let refusedAt = 0
  if (!sealer) logger.warn('presence stays on this process: this role may read no key of the log to seal it with')
  return {
    publish(announcement) {
      if (sealer) bus.serverSideEmit(SEALED_EVENT, sealer.seal(channelPrefix, JSON.stringify(announcement)))
    },
    onAnnouncement(handler) {
      bus.on(SEALED_EVENT, (payload: unknown) => {
        const announcement =
          sealer && typeof payload === 'string' ? openAnnouncement(sealer, channelPrefix, payload) : null
        if (announcement) handler(announcement)
        else if (Date.now() - refusedAt > 60_000) {
          // at most a line a minute: whoever may NOTIFY could otherwise fill the log
          refusedAt = Date.now()
          logger.warn('presence announcement refused: not sealed by this log')
        }
      })
    },
    async close() {
      // the adapter's own close (its LISTEN connection, its timers); the bus server has no engine to close
      await bus.of('/').adapter.close()
      await pool.end()
    },
  }
}

/** The bus event of a sealed announcement (the earlier release's cleartext one was `presence`). */
const SEALED_EVENT = 'presence.sealed'

/** A sealed announcement opened and checked for shape; null when it is not one of this log's. */
function openAnnouncement(sealer: Sealer, context: string, payload: string): PresenceAnnouncement | null {
  const text = sealer.open(context, payload)
  if (text === null) return null
  try {
    const value = JSON.parse(text) as Partial<PresenceAnnouncement>
    const shaped =
      typeof value.from === 'string' &&
      Number.isSafeInteger(value.n) &&
      (value.kind === 'state' || value.kind === 'hello' || value.kind === 'bye') &&
      typeof value.incidents === 'object' &&
      value.incidents !== null &&
      Object.values(value.incidents).every(Array.isArray)
    return shaped ? (value as PresenceAnnouncement) : null
  } catch {
    return null
  }
}

import { createHash } from 'node:crypto'
import { createAdapter } from '@socket.io/postgres-adapter'
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
 */
export async function postgresPresenceBus(
  connectionString: string,
  logger: Logger,
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
  const bus = new Server()
  bus.adapter(
    createAdapter(pool, {
      channelPrefix: `watchfloor_presence_${scope}`,
      tableName,
      errorHandler: (error) => logger.warn({ err: error }, 'presence bus message failed'),
    }),
  )
  return {
    publish(announcement) {
      bus.serverSideEmit('presence', announcement)
    },
    onAnnouncement(handler) {
      bus.on('presence', (announcement: PresenceAnnouncement) => handler(announcement))
    },
    async close() {
      // the adapter's own close (its LISTEN connection, its timers); the bus server has no engine to close
      await bus.of('/').adapter.close()
      await pool.end()
    },
  }
}

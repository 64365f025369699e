import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter'
import { createAdapter as createRedisAdapter } from '@socket.io/redis-adapter'
import { DatabaseScope, type Sealer } from '@watchfloor/store'
import { Redis } from 'ioredis'
import pg from 'pg'
import type { Logger } from 'pino'
import { Server } from 'socket.io'
import type { PresenceAnnouncement, PresenceBus } from './presence.ts'

/**
 * Presence between the processes of one PostgreSQL log, through an existing engine: Socket.IO's
 * PostgreSQL adapter (`@socket.io/postgres-adapter`: NOTIFY on a channel, a table for messages over
 * 8000 bytes), or its Redis adapter (`@socket.io/redis-adapter`, publish and subscribe) when
 * WATCHFLOOR_REDIS_URL is set.
 *
 * The adapter is scoped to presence: it serves a Socket.IO server of its own that no client connects
 * to and that only carries `serverSideEmit` announcements. The server the sockets use keeps the
 * in-memory adapter, so the gateway's room broadcasts (log events, filtered per audience) stay on
 * their process; each process reads the log itself (D5) and nothing is delivered twice.
 * The channel (and the PostgreSQL table, or the Redis key prefix) is named after the connection's
 * schema like the log's own channels (`DatabaseScope`), so processes sharing one log share presence
 * and no others do.
 *
 * Announcements go sealed by the log's key (`sealer`, the key of the events' notifications): any
 * role that may connect may LISTEN on the channel (any client of the Redis server may subscribe),
 * and who views which incident is not for it to read, nor for it to make up. They are sent as
 * `presence.sealed`; the cleartext `presence` of an earlier release is neither sent nor heard
 * (during a rolling upgrade the two releases do not see each other's viewers, and neither fails on
 * the other's messages). Without a key (a role that may read none) presence stays on its process.
 */
export async function presenceBus(options: {
  databaseUrl: string
  redisUrl: string | undefined
  logger: Logger
  sealer: Sealer | undefined
}): Promise<PresenceBus & { close(): Promise<void> }> {
  const { logger, sealer } = options
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 })
  pool.on('error', (error) => logger.warn({ err: error }, 'presence bus connection failed'))
  const bus = new Server()
  try {
    // named like the log's own channels: after the connection's schema (outside `public`)
    const name = (await DatabaseScope.of(pool)).channel('watchfloor_presence')
    if (options.redisUrl) {
      const redis = await redisClients(options.redisUrl, logger)
      await pool.end()
      bus.adapter(createRedisAdapter(redis.pub, redis.sub, { key: name }))
      return sealedBus(bus, name, sealer, logger, redis.close)
    }
    // the adapter's table for large messages; processes starting together may race to make it, and
    // the loser hears of the winner's table, its row type or its sequence: a unique violation (23505),
    // a duplicate table (42P07) or a duplicate object (42710, `type ... already exists`)
    await pool
      .query(
        `CREATE TABLE IF NOT EXISTS ${name} (id bigserial UNIQUE, created_at timestamptz DEFAULT now(), payload bytea)`,
      )
      .catch((error: { code?: string }) => {
        if (!['23505', '42P07', '42710'].includes(error.code ?? '')) throw error
      })
    bus.adapter(
      createPostgresAdapter(pool, {
        channelPrefix: name,
        tableName: name,
        errorHandler: (error) => logger.warn({ err: error }, 'presence bus message failed'),
      }),
    )
    return sealedBus(bus, name, sealer, logger, () => pool.end())
  } catch (error) {
    await pool.end().catch(() => {})
    throw error
  }
}

/** Sealed announcements over `bus` (its adapter set), `context` the name of its channel. */
function sealedBus(
  bus: Server,
  context: string,
  sealer: Sealer | undefined,
  logger: Logger,
  closeEngine: () => Promise<void>,
): PresenceBus & { close(): Promise<void> } {
  let refusedAt = 0
  if (!sealer) logger.warn('presence stays on this process: this role may read no key of the log to seal it with')
  return {
    publish(announcement) {
      if (sealer) bus.serverSideEmit(SEALED_EVENT, sealer.seal(context, JSON.stringify(announcement)))
    },
    onAnnouncement(handler) {
      bus.on(SEALED_EVENT, (payload: unknown) => {
        const announcement = sealer && typeof payload === 'string' ? openAnnouncement(sealer, context, payload) : null
        if (announcement) handler(announcement)
        else if (Date.now() - refusedAt > 60_000) {
          // at most a line a minute: whoever may NOTIFY (or publish) could otherwise fill the log
          refusedAt = Date.now()
          logger.warn('presence announcement refused: not sealed by this log')
        }
      })
    },
    async close() {
      // the adapter's own close (its subscriptions, its timers); the bus server has no engine to close
      await bus.of('/').adapter.close()
      await closeEngine()
    },
  }
}

/**
 * The Redis adapter's two connections (one publishes, one subscribes), connected before the server
 * starts: a Redis it cannot reach stops the start with a message that names the setting (never the
 * URL, which may hold a password).
 */
async function redisClients(url: string, logger: Logger): Promise<{ pub: Redis; sub: Redis; close(): Promise<void> }> {
  const pub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 })
  const sub = pub.duplicate()
  let failing = false
  for (const client of [pub, sub])
    client.on('error', (error: Error) => {
      // ioredis reconnects by itself; one line per outage, not one per attempt
      if (!failing) logger.warn({ err: error }, 'presence bus (Redis) connection failed; reconnecting')
      failing = true
    })
  for (const client of [pub, sub]) client.on('ready', () => (failing = false))
  try {
    await Promise.all([pub.connect(), sub.connect()])
  } catch (error) {
    pub.disconnect()
    sub.disconnect()
    throw new Error(`cannot reach Redis (WATCHFLOOR_REDIS_URL): ${(error as Error).message}`)
  }
  return {
    pub,
    sub,
    async close() {
      await Promise.allSettled([pub.quit(), sub.quit()])
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

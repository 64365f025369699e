import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter'
import { createAdapter as createRedisAdapter } from '@socket.io/redis-adapter'
import {
  type CredentialChange,
  type CredentialStore,
  DatabaseScope,
  guardConnections,
  parseChange,
  type Sealer,
} from '@watchfloor/store'
import { Redis } from 'ioredis'
import pg from 'pg'
import pino, { type Logger } from 'pino'
import { Server } from 'socket.io'
import type { PresenceAnnouncement, PresenceBus } from './presence.ts'

/**
 * What the processes of one PostgreSQL log tell each other outside the log, through an existing
 * engine: Socket.IO's PostgreSQL adapter (`@socket.io/postgres-adapter`: NOTIFY on a channel, a
 * table for messages over 8000 bytes), or its Redis adapter (`@socket.io/redis-adapter`, publish and
 * subscribe) when WATCHFLOOR_REDIS_URL is set. Two kinds of message go over it:
 * - presence: who views which incident (`Presence`, live/presence.ts);
 * - credential changes: a token revoked, a session ended, an account changed, the directory or a
 *   feed written (`relayCredentials`), so that every process drops the sockets it no longer trusts
 *   at once. The command line sends them too (`busSender`, as Socket.IO's emitters do).
 *
 * The adapter is scoped to this: it serves a Socket.IO server of its own that no client connects
 * to and that only carries `serverSideEmit` messages. The server the sockets use keeps the
 * in-memory adapter, so the gateway's room broadcasts (log events, filtered per audience) stay on
 * their process; each process reads the log itself (D5) and nothing is delivered twice.
 * The channel (and the PostgreSQL table, or the Redis key prefix) is named after the connection's
 * schema like the log's own channels (`DatabaseScope`), so processes sharing one log share it and
 * no others do. It keeps the name it had when it carried presence alone (`watchfloor_presence`), so
 * the processes of an earlier release still hear this one's presence during a rolling upgrade.
 *
 * Messages go sealed by the log's key (`sealer`, the key of the events' notifications): any role
 * that may connect may LISTEN on the channel (any client of the Redis server may subscribe), and who
 * views which incident, or whose account changed, is not for it to read. Presence is also not for it
 * to make up: an announcement that is not sealed by the log's key is dropped, and without a key (a
 * role that may read none) presence stays on its process. A credential change is only ever a reason
 * to look again in the database (the gateway checks the sockets that used it, the directory is
 * loaded again), so one that is not sealed is heard too: a process without the key sends its own
 * that way, and a made-up one costs a lookup. A process without the key cannot open the others'
 * sealed changes: it sees them at its periodic checks, and says so at start (server.ts).
 *
 * Presence goes as `presence.sealed`; the cleartext `presence` of an earlier release is neither sent
 * nor heard (during a rolling upgrade the two releases do not see each other's viewers, and neither
 * fails on the other's messages). Credential changes go as `credentials.sealed` or `credentials`;
 * an earlier release sent them by NOTIFY on a channel of the credential store's, which this one
 * neither sends nor hears: until the last process of it is gone, a change made on one release
 * reaches the other's sockets at their periodic check (WATCHFLOOR_CREDENTIAL_RECHECK_MS).
 */
export interface ProcessBus {
  /** Presence announcements to and from the other processes; undefined without the log's key. */
  readonly presence: PresenceBus | undefined
  /**
   * Send the changes `credentials` tells of to the other processes, and tell it theirs (`heard`).
   * Returns what stops it.
   */
  relayCredentials(credentials: CredentialStore): () => void
  /** Stop every relay, then close the adapter and its engine (a message emitted at that moment may not go out). */
  close(): Promise<void>
}

export async function openBus(options: {
  databaseUrl: string
  redisUrl: string | undefined
  logger: Logger
  sealer: Sealer | undefined
}): Promise<ProcessBus> {
  const { logger, sealer } = options
  const pool = guardConnections(new pg.Pool({ connectionString: options.databaseUrl, max: 2 }), (error) =>
    logger.warn({ err: error }, 'process bus connection lost'),
  )
  const bus = new Server()
  try {
    const name = await busChannel(pool)
    if (options.redisUrl) {
      const redis = await redisClients(options.redisUrl, logger)
      await pool.end()
      bus.adapter(createRedisAdapter(redis.pub, redis.sub, { key: name }))
      await listening(bus, redisSend(redis.pub, name), logger)
      return busOver(bus, name, sealer, logger, redis.close)
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
      createPostgresAdapter(releasedWhenLost(pool), {
        channelPrefix: name,
        tableName: name,
        errorHandler: (error) => logger.warn({ err: error }, 'process bus message failed'),
      }),
    )
    await listening(bus, postgresSend(pool, name), logger)
    return busOver(bus, name, sealer, logger, () => pool.end())
  } catch (error) {
    await pool.end().catch(() => {})
    throw error
  }
}

/**
 * The pool as the PostgreSQL adapter is given it. The adapter keeps its LISTEN connection checked
 * out for good and, when PostgreSQL cuts it, checks out another without releasing the first: the
 * pool would count the dead one for ever, and after a cut or two neither a send nor a new LISTEN
 * would find a free connection. A connection checked out that way goes back to the pool, as broken,
 * when it ends. (The pool's own checkouts, for its queries, pass a callback and are left alone.)
 */
function releasedWhenLost(pool: pg.Pool): pg.Pool {
  const connect = pool.connect.bind(pool) as (callback?: unknown) => unknown
  return Object.assign(pool, {
    connect(callback?: unknown) {
      if (typeof callback === 'function') return connect(callback)
      return (connect() as Promise<pg.PoolClient>).then((client) => {
        client.once('end', () => {
          try {
            client.release(new Error('connection lost'))
          } catch {
            // released already (the adapter released it, or the pool dropped it)
          }
        })
        return client
      })
    },
  })
}

/** Sealed messages over `bus` (its adapter set), `context` the name of its channel. */
function busOver(
  bus: Server,
  context: string,
  sealer: Sealer | undefined,
  logger: Logger,
  closeEngine: () => Promise<void>,
): ProcessBus {
  const refusedPresence = rateLimited(logger)
  const refusedChange = rateLimited(logger)
  const refusedError = rateLimited(logger)
  const relays = new Set<() => void>()
  const presence: PresenceBus | undefined = sealer && {
    publish(announcement) {
      bus.serverSideEmit(SEALED_PRESENCE, sealer.seal(context, JSON.stringify(announcement)))
    },
    onAnnouncement(handler) {
      bus.on(SEALED_PRESENCE, (payload: unknown) => {
        const announcement = typeof payload === 'string' ? openAnnouncement(sealer, context, payload) : null
        if (announcement) handler(announcement)
        else refusedPresence('presence announcement refused: not sealed by this log')
      })
    },
  }
  const tellCredentials = (change: CredentialChange) =>
    bus.serverSideEmit(...credentialMessage(sealer, context, change))
  // a bus event named `error` (anyone who may publish on the channel may send one) would otherwise
  // be an error event no one listens to: thrown inside the adapter, and the process would exit
  bus.on('error', () => refusedError('process bus: an `error` event was sent on the bus; ignored'))
  return {
    presence,
    relayCredentials(credentials) {
      // a change heard from the bus is told to the store's listeners, this relay among them: it
      // must not go out again
      let hearing = false
      const hear = (change: CredentialChange | null) => {
        if (!change) return refusedChange('credential change refused: not one this process can open')
        hearing = true
        try {
          credentials.heard(change)
        } finally {
          hearing = false
        }
      }
      const onSealed = (payload: unknown) => {
        const text = sealer && typeof payload === 'string' ? sealer.open(context, payload) : null
        hear(text === null ? null : parseChange(text))
      }
      const onPlain = (payload: unknown) => hear(typeof payload === 'string' ? parseChange(payload) : null)
      bus.on(SEALED_CREDENTIALS, onSealed)
      bus.on(PLAIN_CREDENTIALS, onPlain)
      const stopTelling = credentials.onChange((change) => {
        if (!hearing) tellCredentials(change)
      })
      const stop = () => {
        stopTelling()
        bus.off(SEALED_CREDENTIALS, onSealed)
        bus.off(PLAIN_CREDENTIALS, onPlain)
        relays.delete(stop)
      }
      relays.add(stop)
      return stop
    },
    async close() {
      for (const stop of [...relays]) stop()
      // the adapter's own close (its subscriptions, its timers); the bus server has no engine to
      // close. A message emitted at the very end may not go out (a PostgreSQL pool that ends serves
      // no query still waiting for a connection): what stops a server is no credential change, and
      // the others drop its viewers from presence once its heartbeats stop.
      await bus.of('/').adapter.close()
      await closeEngine()
    },
  }
}

/**
 * The command line's side of the bus: it sends credential changes to the servers' processes and
 * hears nothing, as Socket.IO's emitters do for a process that is no Socket.IO server: a message in
 * the adapter's own format, a `serverSideEmit` from the emitters' id (`emitter`), which the servers'
 * adapters take as from no process of theirs. Each send is awaited (`close` waits for all), so a
 * command that ends has told the servers, or says it could not. Written here rather than taken from
 * Socket.IO's emitter packages: the PostgreSQL one (0.1.1) sends a `serverSideEmit` without its
 * namespace, which the adapter drops, and neither lets its sender wait for a send or see it fail.
 * bus.int.test.ts sends through this to real adapters of both kinds.
 */
export async function busSender(options: {
  databaseUrl: string
  redisUrl: string | undefined
  sealer: Sealer | undefined
}): Promise<{ tellCredentials(change: CredentialChange): void; close(): Promise<void> }> {
  const { sealer } = options
  // a connection lost: the next send reconnects, or fails and says so
  const pool = guardConnections(new pg.Pool({ connectionString: options.databaseUrl, max: 1 }))
  try {
    const name = await busChannel(pool)
    if (options.redisUrl) {
      await pool.end()
      // a failed send rejects, and `close` reports it: no line of its own (the command line has no log)
      const redis = await redisClients(options.redisUrl, pino({ level: 'silent' }))
      return emitterSide(sealer, name, redisSend(redis.pub, name), redis.close)
    }
    return emitterSide(sealer, name, postgresSend(pool, name), () => pool.end())
  } catch (error) {
    await pool.end().catch(() => {})
    throw error
  }
}

/** A sender's two calls: each change sent at once, and a close that waits for every send, then ends the engine. */
function emitterSide(
  sealer: Sealer | undefined,
  name: string,
  send: Send,
  closeEngine: () => Promise<void>,
): { tellCredentials(change: CredentialChange): void; close(): Promise<void> } {
  const sent: Promise<unknown>[] = []
  return {
    tellCredentials(change) {
      sent.push(send(...credentialMessage(sealer, name, change)))
    },
    async close() {
      try {
        await Promise.all(sent)
      } finally {
        await closeEngine()
      }
    },
  }
}

/** Send an event with one argument to every process's adapter of the log, as Socket.IO's emitters do. */
type Send = (event: string, argument: string) => Promise<unknown>

/** The id Socket.IO's emitters send as: the adapters count no process for it, and none takes it for its own. */
const EMITTER_UID = 'emitter'

/** Through the PostgreSQL adapter's channel of the main namespace (its MessageType.SERVER_SIDE_EMIT is 9). */
function postgresSend(pool: pg.Pool, name: string): Send {
  return (event, argument) => {
    const message = { uid: EMITTER_UID, nsp: '/', type: 9, data: { packet: [event, argument] } }
    return pool.query('SELECT pg_notify($1, $2)', [`${name}#/`, JSON.stringify(message)])
  }
}

/** Through the Redis adapter's request channel of the main namespace (its RequestType.SERVER_SIDE_EMIT is 6). */
function redisSend(redis: Redis, name: string): Send {
  return (event, argument) =>
    redis.publish(`${name}-request#/#`, JSON.stringify({ uid: EMITTER_UID, type: 6, data: [event, argument] }))
}

/**
 * Wait until the adapter hears what the others send: it subscribes in the background, and a change
 * another process makes before then would be missed (the server loads the directory and starts
 * checking credentials once this returns). A probe goes out as the others' messages come in, every
 * 100 ms until it comes back; after 10 s without it the start goes on with a warning, the periodic
 * checks (WATCHFLOOR_CREDENTIAL_RECHECK_MS, WATCHFLOOR_DIRECTORY_RELOAD_MS) covering what is missed.
 */
async function listening(bus: Server, send: Send, logger: Logger): Promise<void> {
  const nonce = randomUUID()
  const deadline = performance.now() + PROBE_FOR_MS
  let heard = false
  let hear = () => {}
  const back = new Promise<void>((resolve) => {
    hear = resolve
  })
  let failure: unknown
  const onProbe = (payload: unknown) => {
    if (payload !== nonce) return
    heard = true
    hear()
  }
  bus.on(PROBE, onProbe)
  try {
    while (!heard && performance.now() < deadline) {
      // not awaited: a send that hangs (an engine that stopped answering) holds nothing up
      send(PROBE, nonce).catch((error: unknown) => {
        failure = error
      })
      await Promise.race([back, delay(100)])
    }
    if (!heard)
      logger.warn(
        { err: failure },
        `process bus: this process did not hear itself in ${PROBE_FOR_MS / 1000} s; changes other processes make may reach it only at its periodic checks`,
      )
  } finally {
    bus.off(PROBE, onProbe)
  }
}

/** How long a starting process waits to hear its own probe (`listening`). */
const PROBE_FOR_MS = 10_000

/** The bus event of a probe (`listening`): other processes have no listener for it. */
const PROBE = 'bus.probe'

/** A credential change as a bus event and its one argument: sealed by the log's key when this process may read it. */
function credentialMessage(sealer: Sealer | undefined, context: string, change: CredentialChange): [string, string] {
  const text = JSON.stringify(change)
  return sealer ? [SEALED_CREDENTIALS, sealer.seal(context, text)] : [PLAIN_CREDENTIALS, text]
}

/** A warning at most once a minute: whoever may NOTIFY (or publish) could otherwise fill the log. */
function rateLimited(logger: Logger): (message: string) => void {
  let last = 0
  return (message) => {
    if (Date.now() - last <= 60_000) return
    last = Date.now()
    logger.warn(message)
  }
}

/** The bus's channel: named like the log's own channels, after the connection's schema (outside `public`). */
async function busChannel(pool: pg.Pool): Promise<string> {
  return (await DatabaseScope.of(pool)).channel('watchfloor_presence')
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
      if (!failing) logger.warn({ err: error }, 'process bus (Redis) connection failed; reconnecting')
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
const SEALED_PRESENCE = 'presence.sealed'
/** The bus events of a credential change: sealed by the log's key, or as it is (a process without the key). */
const SEALED_CREDENTIALS = 'credentials.sealed'
const PLAIN_CREDENTIALS = 'credentials'

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

import type pg from 'pg'

/**
 * Every connection of `pool` keeps an `error` listener for its whole life. pg-pool listens for
 * errors only while a connection is idle; one that PostgreSQL cuts while it is checked out (a
 * restart, a failover, an administrator's `pg_terminate_backend`) emits `error` with nobody
 * listening, which throws from the process. With this the statement it was running fails, the
 * caller answers with an error, and the pool replaces the connection. Returns the pool.
 */
export function guardConnections(pool: pg.Pool, onError: (error: Error) => void = () => {}): pg.Pool {
  pool.on('error', onError) // an idle connection lost: the pool has dropped it already
  pool.on('connect', (client) => {
    client.on('error', onError)
  })
  return pool
}

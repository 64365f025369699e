import { randomUUID } from 'node:crypto'
import type { StoredEvent } from '@watchfloor/protocol'
import { PostgresEventStore } from '@watchfloor/store'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

/**
 * A server on PostgreSQL whose claim on the log (as one of its writers) is cut, while a restore takes
 * the log alone before the server takes its claim again: the server appends nothing (503
 * `unavailable`, `details.reason` `claim_lost`), `/readyz` says so, and once the restore is done the
 * server takes its claim again and appends after the restored events. A real server process, a
 * schema of its own.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const observation = (n: number) =>
  event({
    type: 'incident.observation',
    marking: { tlp: 'GREEN' },
    payload: { incidentId: 'claim-inc', count: n },
  } as never)

describe('a PostgreSQL server whose claim on the log is cut while a restore takes it', { timeout: 60_000 }, () => {
  const schema = `wf_pc_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const url = `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  let server: ServerProcess | undefined

  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    server = await startServerProcess({ env: { WATCHFLOOR_DATABASE_URL: url } })
  }, 30_000)
  afterAll(async () => {
    await server?.stop()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
  })

  it('appends nothing and is not ready until it holds its claim again; then appends after the restored events', async () => {
    const readyz = async () => {
      const response = await fetch(`${server!.url}/readyz`)
      return { status: response.status, json: (await response.json()) as { error?: { details?: { reason?: string } } } }
    }
    expect((await readyz()).status).toBe(200)
    // the server's claim: the connection holding the log's writers' lock (the store's own key for it)
    const reader = await PostgresEventStore.open({ connectionString: url, migrate: false })
    const key = (reader as unknown as { scope: { lockKey(name: string): number } }).scope.lockKey(
      'watchfloor_events:writers',
    )
    await reader.close()
    const holder = await admin.query<{ pid: number }>(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = $1",
      [key],
    )
    expect(holder.rowCount).toBe(1)
    await admin.query('SELECT pg_terminate_backend($1)', [holder.rows[0]!.pid])
    // a restore takes the log alone before the server takes its claim again (it tries every second)
    let restore: PostgresEventStore | undefined
    const start = Date.now()
    while (restore === undefined && Date.now() - start < 900) {
      restore = await PostgresEventStore.open({ connectionString: url, writers: 'alone' }).catch(() => undefined)
      if (restore === undefined) await sleep(20)
    }
    expect(restore, 'the restore took the log alone').toBeDefined()
    try {
      const recordedAt = new Date().toISOString()
      expect(await restore!.appendStored([{ ...observation(1), seq: 1, recordedAt } as StoredEvent])).toBe(1)
      const refused = await post(server!.url, TOKENS.sensorEe, { events: [observation(2)] })
      expect(refused.status).toBe(503)
      expect(refused.json).toMatchObject({ error: { code: 'unavailable', details: { reason: 'claim_lost' } } })
      const notReady = await readyz()
      expect(notReady.status).toBe(503)
      expect(notReady.json.error?.details?.reason).toBe('claim_lost')
    } finally {
      await restore!.close()
    }
    // the restore done: the server holds its claim again, is ready and appends after it
    const until = Date.now() + 10_000
    while ((await readyz()).status !== 200 && Date.now() < until) await sleep(100)
    expect((await readyz()).status).toBe(200)
    const accepted = await post(server!.url, TOKENS.sensorEe, { events: [observation(3)] })
    expect(accepted.status).toBe(201)
    expect(accepted.json.results![0]!.seq).toBe(2)
  })
})

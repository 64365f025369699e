import { randomUUID } from 'node:crypto'
import type { PresenceMessage } from '@watchfloor/protocol'
import { PostgresEventStore } from '@watchfloor/store'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, post, type ServerProcess, startServerProcess, TOKENS, Watcher } from './harness.ts'

/**
 * PostgreSQL cutting a running process's connections (a database restart, a failover, an
 * administrator's `pg_terminate_backend`): the process stays up, answers again, loses nothing it
 * acknowledged, and listens again on one connection per listener. Two processes on one log (a
 * schema of its own); each names its connections (`application_name`), so that only its own are cut.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(check: () => Promise<boolean> | boolean, what: string, timeout = 20_000): Promise<void> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const INCIDENT = 'pgfault-incident'
const report = () =>
  event({
    type: 'incident.reported',
    marking: { tlp: 'GREEN' },
    payload: {
      incidentId: INCIDENT,
      title: 'Cut connections',
      severity: 'low',
      category: 'malware',
      affectedNetworks: [],
    },
  } as never)

const observation = (n: number) =>
  event({
    type: 'incident.observation',
    marking: { tlp: 'GREEN' },
    payload: { incidentId: INCIDENT, count: n },
  } as never)

describe('PostgreSQL cuts a running process’s connections', { timeout: 90_000 }, () => {
  const schema = `wf_pf_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const names = [0, 1].map((i) => `wf_pf_${schema.slice(6)}_${i}`)
  const urlOf = (name: string) =>
    `postgres://postgres@127.0.0.1:5432/test?application_name=${name}&options=-c%20search_path%3D${schema}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const servers: ServerProcess[] = []
  const watchers: Watcher[] = []

  /** Cut every connection of the process named `name`; how many were cut. */
  const cut = async (name: string) =>
    (
      await admin.query<{ pid: number }>(
        'SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity WHERE application_name = $1',
        [name],
      )
    ).rowCount ?? 0
  /** Connections of that process whose last statement was a LISTEN: its listeners. */
  const listeners = async (name: string) =>
    Number(
      (
        await admin.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'",
          [name],
        )
      ).rows[0]!.n,
    )

  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    // the first process makes the schema, then the second joins (no race to migrate)
    servers.push(await startServerProcess({ env: { WATCHFLOOR_DATABASE_URL: urlOf(names[0]!) } }))
    servers.push(await startServerProcess({ env: { WATCHFLOOR_DATABASE_URL: urlOf(names[1]!) } }))
  }, 60_000)

  afterAll(async () => {
    for (const w of watchers) w.close()
    await Promise.all(servers.map((s) => s.stop()))
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await admin.end()
  })

  it('stays up, answers, delivers every acknowledged event and listens again, cut after cut', async () => {
    const [first, second] = servers as [ServerProcess, ServerProcess]
    // a console on the first process; the events come through the second (heard by NOTIFY, or the poll)
    const watcher = new Watcher(first.url, TOKENS.viewerEe)
    watchers.push(watcher)
    expect((await watcher.subscribe(0)).ok).toBe(true)
    await until(async () => (await listeners(names[0]!)) >= 2, 'the first process listening (log and bus)')
    const listening = await listeners(names[0]!)

    expect((await post(second.url, TOKENS.sensorEe, { events: [report()] })).status).toBe(201)
    const acknowledged: number[] = []
    const send = async (server: ServerProcess, n: number) => {
      if (server.child.exitCode !== null) throw new Error(`the process exited:\n${server.output().slice(-3000)}`)
      const reply = await post(server.url, TOKENS.sensorEe, { events: [observation(n)] })
      if (reply.status === 201)
        acknowledged.push(...(reply.json as { results: { seq: number }[] }).results.map((r) => r.seq))
      return reply.status
    }
    let n = 0
    for (let round = 0; round < 3; round++) {
      // writes keep coming to both processes while the first loses every connection, twice within a second
      const writes = Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          await sleep(i * 25)
          return send(i % 2 === 0 ? first : second, ++n)
        }),
      )
      expect(await cut(names[0]!), `round ${round}: connections cut`).toBeGreaterThan(0)
      await sleep(150)
      await cut(names[0]!)
      const statuses = await writes
      // a write the cut caught may fail (503/500, nothing stored); none crashes the process
      for (const status of statuses) expect([201, 500, 503], `round ${round}: ${statuses}`).toContain(status)
      expect(first.child.exitCode, `round ${round}: the first process exited`).toBeNull()
      // it answers again, takes writes again, and listens again (the log's and the bus's connection)
      await until(async () => (await send(first, ++n)) === 201, `round ${round}: a write to the first process`)
      await until(async () => (await listeners(names[0]!)) === listening, `round ${round}: listening again`)
    }
    // every acknowledged event reaches the console, in order, each once
    const wanted = [...acknowledged].sort((a, b) => a - b)
    await until(() => watcher.lastSeq >= wanted.at(-1)!, `the console to reach seq ${wanted.at(-1)}`)
    const got = watcher.events.map((e) => e.seq)
    expect(got, 'in seq order, each once').toEqual([...new Set(got)].sort((a, b) => a - b))
    expect(
      wanted.filter((seq) => !got.includes(seq)),
      'acknowledged but never delivered',
    ).toEqual([])
    // the log holds them
    const log = await PostgresEventStore.open({ connectionString: urlOf('wf_pf_reader') })
    try {
      const stored = new Set((await log.readAfter(0, 100_000)).map((e) => e.seq))
      expect(
        wanted.filter((seq) => !stored.has(seq)),
        'acknowledged but not in the log',
      ).toEqual([])
    } finally {
      await log.close()
    }
    // and it listens again: as many listening connections as before the cuts, not more
    await until(async () => (await listeners(names[0]!)) === listening, `the first process listening again`)
    await sleep(2_500)
    expect(await listeners(names[0]!), 'listening connections after the cuts').toBe(listening)
    // a write to the second process reaches the console on the first
    const before = watcher.lastSeq
    expect(await send(second, ++n)).toBe(201)
    await until(() => watcher.lastSeq > before, 'a write to the second process on the first process’s console')
    // and the bus carries presence both ways again: who views the incident, heard on the other process
    const other = new Watcher(second.url, TOKENS.coordEeA)
    watchers.push(other)
    expect((await other.subscribe(0)).ok).toBe(true)
    const heard = (w: Watcher) => {
      const messages: PresenceMessage[] = []
      w.socket.on('presence', (m) => messages.push(m))
      return messages
    }
    const onFirst = heard(watcher)
    const onSecond = heard(other)
    expect(await watcher.socket.timeout(10_000).emitWithAck('viewing', { incidentId: INCIDENT })).toEqual({ ok: true })
    await until(() => onSecond.some((m) => m.viewers.length > 0), 'presence from the first process on the second')
    expect(await other.socket.timeout(10_000).emitWithAck('viewing', { incidentId: INCIDENT })).toEqual({ ok: true })
    await until(() => onFirst.some((m) => m.viewers.length > 1), 'presence from the second process on the first')
  })
})

import { randomUUID } from 'node:crypto'
import type { PresenceMessage } from '@watchfloor/protocol'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, post, type ServerProcess, startServerProcess, TOKENS, Watcher } from './harness.ts'

/**
 * A process that stops (SIGTERM) says goodbye to the others' presence, and its viewers leave it at
 * once: the sockets it closes afterwards bring none of them back. Two processes on one PostgreSQL
 * log (a schema of their own), presence over Socket.IO's PostgreSQL adapter.
 */

const INCIDENT = 'shutdown-incident'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('presence when a process stops', { timeout: 60_000 }, () => {
  const schema = `wf_ps_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const url = `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const servers: ServerProcess[] = []
  const watchers: Watcher[] = []

  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    servers.push(await startServerProcess({ env: { WATCHFLOOR_DATABASE_URL: url } }))
    servers.push(await startServerProcess({ env: { WATCHFLOOR_DATABASE_URL: url } }))
  }, 60_000)

  afterAll(async () => {
    for (const w of watchers) w.close()
    await Promise.all(servers.map((s) => s.stop()))
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await admin.end()
  })

  it('drops the stopped process’s viewers at once, and none comes back while its sockets close', async () => {
    const [leaving, staying] = servers as [ServerProcess, ServerProcess]
    const report = event({
      type: 'incident.reported',
      marking: { tlp: 'GREEN' },
      payload: { incidentId: INCIDENT, title: 'Viewed', severity: 'low', category: 'malware', affectedNetworks: [] },
    } as never)
    expect((await post(staying.url, TOKENS.sensorEe, report)).status).toBe(201)
    const open = async (server: ServerProcess, token: string) => {
      const w = new Watcher(server.url, token)
      watchers.push(w)
      expect((await w.subscribe(0)).ok).toBe(true)
      return w
    }
    // three people view the incident on the process that will stop; one listens on the other
    const viewers = await Promise.all(
      [TOKENS.viewerEe, TOKENS.coordEeA, TOKENS.coordEeB].map((token) => open(leaving, token)),
    )
    const listener = await open(staying, TOKENS.watchOfficer)
    const heard: PresenceMessage[] = []
    listener.socket.on('presence', (m) => {
      if (m.incidentId === INCIDENT) heard.push(m)
    })
    for (const w of viewers)
      expect(await w.socket.timeout(10_000).emitWithAck('viewing', { incidentId: INCIDENT })).toEqual({ ok: true })
    await expect.poll(() => heard.at(-1)?.viewers.length, { timeout: 15_000 }).toBe(3)

    const before = heard.length
    await leaving.stop()
    await sleep(1500)
    // from the goodbye on, the listener hears the stopped process's viewers gone, all at once, and
    // none of them come back while its sockets close
    const after = heard.slice(before).map((m) => m.viewers.map((v) => v.user))
    expect(after.length, 'presence heard after the stop').toBeGreaterThan(0)
    expect(after, 'presence heard after the stop').toEqual(after.map(() => []))
  })
})

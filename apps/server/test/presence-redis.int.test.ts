import { createHash, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PresenceMessage } from '@watchfloor/protocol'
import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  accountWithToken,
  event,
  PRINCIPALS,
  post,
  type ServerProcess,
  startServerProcess,
  TOKENS,
  Watcher,
} from './harness.ts'

/**
 * Presence and credential changes between the processes of one PostgreSQL log through Socket.IO's
 * Redis adapter, when WATCHFLOOR_REDIS_URL is set: two real server processes, the Redis server of the
 * machine (127.0.0.1:6379), and a Redis client that may subscribe to anything, as any client of that
 * Redis may.
 */

const ADMIN_TOKEN = 'static-admin-token-0123456789'

const REDIS_URL = process.env.WATCHFLOOR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

async function until(check: () => boolean, what: string, timeout = 15_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

class Console extends Watcher {
  readonly presence: PresenceMessage[] = []
  constructor(url: string, token: string) {
    super(url, token)
    this.socket.on('presence', (message) => this.presence.push(message))
  }

  async view(incidentId: string | null): Promise<{ ok: boolean }> {
    if (!this.socket.connected) await new Promise<void>((resolve) => this.socket.once('connect', () => resolve()))
    return this.socket.timeout(10_000).emitWithAck('viewing', { incidentId }) as Promise<{ ok: boolean }>
  }

  presenceOf(incidentId: string): string {
    return `${this.presence
      .filter((m) => m.incidentId === incidentId)
      .at(-1)
      ?.viewers.map((v) => v.user)
      .sort()}`
  }
}

const incident = (incidentId: string) =>
  event({
    type: 'incident.reported',
    marking: { tlp: 'GREEN' },
    payload: {
      incidentId,
      title: `Incident ${incidentId}`,
      severity: 'medium',
      category: 'malware',
      affectedNetworks: [],
    },
  } as never)

describe('presence through Redis (WATCHFLOOR_REDIS_URL)', { timeout: 40_000 }, () => {
  const schema = `wf_rd_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  // the adapter's key prefix, named after the schema like the log's channels
  const prefix = `watchfloor_presence_${createHash('sha256').update(schema).digest('hex').slice(0, 12)}`
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const servers: ServerProcess[] = []
  const consoles: Console[] = []
  const spy = new Redis(REDIS_URL, { lazyConnect: true })
  const heard: string[] = []
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-redis-'))

  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    await spy.connect()
    spy.on('pmessageBuffer', (_pattern: Buffer, _channel: Buffer, message: Buffer) =>
      heard.push(message.toString('latin1')),
    )
    // everything the adapter of this log's processes publishes
    await spy.psubscribe(`${prefix}*`)
    const tokens = join(dir, 'tokens.json')
    const root = { token: ADMIN_TOKEN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] }
    writeFileSync(tokens, JSON.stringify([...PRINCIPALS, root]))
    const env = {
      WATCHFLOOR_DATABASE_URL: databaseUrl,
      WATCHFLOOR_REDIS_URL: REDIS_URL,
      WATCHFLOOR_TOKENS: tokens,
      WATCHFLOOR_PASSWORD_COST: '10',
      // a revocation must travel over Redis, not wait for the periodic recheck
      WATCHFLOOR_CREDENTIAL_RECHECK_MS: '600000',
    }
    // one first (it makes the tables), then the other
    servers.push(await startServerProcess({ env }))
    servers.push(await startServerProcess({ env }))
  }, 40_000)

  afterAll(async () => {
    for (const client of consoles) client.close()
    await Promise.all(servers.map((s) => s.stop()))
    spy.disconnect()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await admin.end().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  })

  it('who views an incident shows on the other process; what goes through Redis is sealed, a made-up announcement is dropped, and an `error` event on the bus stops no process', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess]
    expect((await post(a.url, TOKENS.sensorEe, { events: [incident('rd-green')] })).status).toBe(201)
    const kadri = new Console(a.url, TOKENS.viewerEe)
    const janis = new Console(b.url, TOKENS.viewerLv)
    consoles.push(kadri, janis)
    expect((await kadri.view('rd-green')).ok).toBe(true)
    expect((await janis.view('rd-green')).ok).toBe(true)
    await until(() => kadri.presenceOf('rd-green') === 'janis,kadri', 'janis (on B) in the presence kadri gets on A')
    await until(() => janis.presenceOf('rd-green') === 'janis,kadri', 'kadri (on A) in the presence janis gets on B')

    // the adapter's messages carried presence, and nothing of it was readable
    expect(heard.length).toBeGreaterThan(0)
    for (const message of heard) for (const name of ['rd-green', 'kadri', 'janis']) expect(message).not.toContain(name)

    // a client of the Redis that publishes junk on the adapter's channels changes nothing and breaks
    // nothing (a made-up announcement in the adapter's own format is dropped by the same code as on
    // PostgreSQL: cluster.int.test.ts)
    const publisher = new Redis(REDIS_URL)
    try {
      const channels = (await publisher.pubsub('CHANNELS', `${prefix}*`)) as string[]
      expect(channels.length).toBeGreaterThan(0)
      for (const channel of channels) await publisher.publish(channel, 'not a sealed announcement')
      // an `error` event on the bus, in the adapter's own format: an error event no one listened to
      // would be thrown inside the adapter, and the process would exit
      await publisher.publish(`${prefix}-request#/#`, JSON.stringify({ uid: 'anyone', type: 6, data: ['error', 'x'] }))
    } finally {
      publisher.disconnect()
    }
    janis.close()
    await until(() => kadri.presenceOf('rd-green') === 'kadri', 'janis gone on A')
    expect(kadri.presence.every((m) => m.viewers.every((v) => ['janis', 'kadri'].includes(v.user)))).toBe(true)
  })

  it('a token revoked through one process cuts its sockets on the other at once, and what Redis carried of it names no one', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess]
    const { secret, tokenId } = await accountWithToken(a.url, ADMIN_TOKEN, 'liis')
    const onB = new Console(b.url, secret)
    consoles.push(onB)
    const revoked: string[] = []
    onB.socket.on('revoked', ({ reason }) => revoked.push(reason))
    expect((await onB.subscribe(0)).ok).toBe(true)
    const before = heard.length

    const revokedThroughA = await fetch(`${a.url}/api/v1/tokens/${tokenId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    expect(revokedThroughA.status).toBe(200)
    await until(() => revoked.length > 0, 'the revoked socket on B told', 5_000)
    expect(revoked).toEqual(['token_revoked'])
    expect(heard.length).toBeGreaterThan(before)
    for (const message of heard) for (const name of ['liis', tokenId]) expect(message).not.toContain(name)
  })

  it('refuses to start with WATCHFLOOR_REDIS_URL and no PostgreSQL log, or a Redis it cannot reach, naming the setting', async () => {
    await expect(startServerProcess({ env: { WATCHFLOOR_REDIS_URL: REDIS_URL } })).rejects.toThrow(
      /WATCHFLOOR_REDIS_URL carries presence between the processes of one PostgreSQL log/,
    )
    await expect(
      startServerProcess({
        env: { WATCHFLOOR_DATABASE_URL: databaseUrl, WATCHFLOOR_REDIS_URL: 'http://127.0.0.1:6379' },
      }),
    ).rejects.toThrow(/WATCHFLOOR_REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/)
    const unreachable = await startServerProcess({
      env: { WATCHFLOOR_DATABASE_URL: databaseUrl, WATCHFLOOR_REDIS_URL: 'redis://:hunter2secret@127.0.0.1:1' },
    }).then(
      () => new Error('started'),
      (error: Error) => error,
    )
    expect(unreachable.message).toMatch(/cannot reach Redis \(WATCHFLOOR_REDIS_URL\)/)
    // what the server printed names the setting, never the password in the URL
    expect(unreachable.message).not.toContain('hunter2secret')
  })
})

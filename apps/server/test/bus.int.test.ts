import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { type CredentialChange, PostgresCredentialStore, type Sealer, sealerOf } from '@watchfloor/store'
import { Redis } from 'ioredis'
import pg from 'pg'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { busSender, openBus, type ProcessBus } from '../src/live/bus.ts'

/**
 * Credential changes between the processes of one PostgreSQL log, over the bus their presence uses
 * (live/bus.ts): Socket.IO's PostgreSQL adapter, or its Redis adapter. Each "process" here is what a
 * server process holds: a credential store of its own and a bus of its own (each with its own
 * connections and the adapter's own id), in the real PostgreSQL and the machine's Redis. The server
 * processes themselves: cluster.int.test.ts (a revocation through one process cuts the sockets on the
 * others) and cli.int.test.ts (the command line's).
 */

const ADMIN_URL = process.env.WATCHFLOOR_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const REDIS_URL = process.env.WATCHFLOOR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const silent = pino({ level: 'silent' })

interface Member {
  store: PostgresCredentialStore
  bus: ProcessBus
  seen: CredentialChange[]
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300))

for (const engine of ['postgres', 'redis'] as const)
  describe(`credential changes between processes over the bus (${engine === 'postgres' ? "Socket.IO's PostgreSQL adapter" : "Socket.IO's Redis adapter"})`, {
    timeout: 30_000,
  }, () => {
    const admin = new pg.Client({ connectionString: ADMIN_URL })
    const schemas = [0, 1].map(() => `wf_bus_${randomUUID().replaceAll('-', '').slice(0, 12)}`)
    const url = (schema: string) => `${ADMIN_URL}?options=-c%20search_path%3D${schema}`
    const redisUrl = engine === 'redis' ? REDIS_URL : undefined
    /** The log's key: each schema's processes share one, as they share the log's */
    const keys = schemas.map(() => sealerOf(randomBytes(32)))
    const members: Member[] = []
    const buses: ProcessBus[] = []
    /** Everything that went over the engine: NOTIFY payloads on every channel, or every Redis message. */
    const wire: string[] = []
    const listener = new pg.Client({ connectionString: ADMIN_URL })
    const spy = new Redis(REDIS_URL, { lazyConnect: true })

    async function member(schema: string, sealer: Sealer): Promise<Member> {
      const store = await PostgresCredentialStore.open({ connectionString: url(schema) })
      const bus = await openBus({ databaseUrl: url(schema), redisUrl, logger: silent, sealer })
      const seen: CredentialChange[] = []
      store.onChange((change) => seen.push(change))
      bus.relayCredentials(store)
      const made = { store, bus, seen }
      members.push(made)
      return made
    }

    async function bus(schema: string, sealer: Sealer | undefined): Promise<ProcessBus> {
      const made = await openBus({ databaseUrl: url(schema), redisUrl, logger: silent, sealer })
      buses.push(made)
      return made
    }

    /** What the command line does: a sender opened, told and closed. */
    async function send(schema: string, sealer: Sealer | undefined, change: CredentialChange): Promise<void> {
      const sender = await busSender({ databaseUrl: url(schema), redisUrl, sealer })
      sender.tellCredentials(change)
      await sender.close()
    }

    beforeAll(async () => {
      await admin.connect()
      for (const schema of schemas) await admin.query(`CREATE SCHEMA ${schema}`)
      if (engine === 'postgres') {
        await listener.connect()
        listener.on('notification', (message) => wire.push(message.payload ?? ''))
      } else {
        await spy.connect()
        spy.on('pmessageBuffer', (_pattern: Buffer, _channel: Buffer, message: Buffer) =>
          wire.push(message.toString('latin1')),
        )
        // this file's two logs only: other files' servers share the Redis
        for (const schema of schemas)
          await spy.psubscribe(`watchfloor_presence_${createHash('sha256').update(schema).digest('hex').slice(0, 12)}*`)
      }
    })

    afterAll(async () => {
      for (const { bus, store } of members) {
        await bus.close()
        await store.close()
      }
      for (const made of buses) await made.close()
      await listener.end().catch(() => {})
      spy.disconnect()
      for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
      await admin.end().catch(() => {})
    })

    it('a change made by one process is told once to each process of its log, sealed, and to no other log', async () => {
      const [one, other] = schemas as [string, string]
      const a = await member(one, keys[0]!)
      const b = await member(one, keys[0]!)
      const c = await member(other, keys[1]!)
      if (engine === 'postgres') {
        // the bus's channel of each schema, named as the adapter names it
        const { rows } = await admin.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ANY($1) AND table_name LIKE 'watchfloor_presence%'`,
          [schemas],
        )
        expect(rows).toHaveLength(2)
        for (const { name } of rows) await listener.query(`LISTEN "${name}#/"`)
      }

      await a.store.createAccount({
        username: 'janis',
        displayName: 'Jānis',
        organisation: 'cert-lv',
        nation: 'LV',
        roles: ['analyst'],
        passwordHash: null,
      })
      const token = {
        id: randomUUID(),
        secretHash: randomBytes(32).toString('hex'),
        kind: 'api' as const,
        label: 'script',
        owner: 'janis',
        service: null,
        preset: null,
        tlpCeiling: null,
        createdBy: 'janis',
        expiresAt: null,
      }
      await a.store.createToken(token)
      await a.store.revokeToken(token.id)
      await a.store.updateAccount('janis', { disabled: true })
      const made = [
        { type: 'token', id: token.id },
        { type: 'account', username: 'janis' },
      ]
      expect(a.seen).toEqual(made)
      await expect.poll(() => b.seen, { timeout: 5000 }).toEqual(made)
      // and back: what b makes reaches a
      await b.store.createOrganisation({ id: 'cert-ee', name: 'CERT-EE', nation: 'EE', kind: 'ally_cert' })
      await expect.poll(() => a.seen, { timeout: 5000 }).toEqual([...made, { type: 'directory' }])
      await settle()
      // each once: nothing heard went out again, nothing came back to its maker
      expect(a.seen).toEqual([...made, { type: 'directory' }])
      expect(b.seen).toEqual([...made, { type: 'directory' }])
      // the other log's process heard none of it
      expect(c.seen).toEqual([])

      // what went over the engine named no one
      expect(wire.length).toBeGreaterThan(0)
      for (const payload of wire) for (const name of ['janis', token.id]) expect(payload).not.toContain(name)
    })

    it("the command line's sender, opened, told and closed at once, delivers; a change not sealed is heard, one sealed by another key is not", async () => {
      const [one] = schemas as [string]
      const a = members[0] ?? (await member(one, keys[0]!))
      const before = a.seen.length
      await send(one, keys[0], { type: 'token', id: 'revoked-by-the-command-line' })
      await expect
        .poll(() => a.seen.slice(before), { timeout: 5000 })
        .toEqual([{ type: 'token', id: 'revoked-by-the-command-line' }])

      // a process that may read no key sends its changes as they are: they only make the others look again
      await send(one, undefined, { type: 'account', username: 'told-as-it-is' })
      await expect
        .poll(() => a.seen.slice(before + 1), { timeout: 5000 })
        .toEqual([{ type: 'account', username: 'told-as-it-is' }])
      // sealed by a key that is not this log's: not opened, not heard
      await send(one, sealerOf(randomBytes(32)), { type: 'account', username: 'made-up' })
      await send(one, undefined, { type: 'feeds' })
      await expect.poll(() => a.seen.slice(before + 2), { timeout: 5000 }).toEqual([{ type: 'feeds' }])
      await settle()
      expect(a.seen.slice(before)).not.toContainEqual({ type: 'account', username: 'made-up' })
    })

    it('a process hears a change sent the moment its bus is open (it waited to hear its own probe)', async () => {
      const [one] = schemas as [string]
      // the sender is ready first, so its change goes out as soon as the bus is open
      for (let round = 0; round < 5; round++) {
        const sender = await busSender({ databaseUrl: url(one), redisUrl, sealer: keys[0] })
        const store = await PostgresCredentialStore.open({ connectionString: url(one) })
        const seen: CredentialChange[] = []
        store.onChange((change) => seen.push(change))
        const opened = await bus(one, keys[0])
        opened.relayCredentials(store)
        sender.tellCredentials({ type: 'token', id: `sent-at-once-${round}` })
        await sender.close()
        await expect.poll(() => seen, { timeout: 5000 }).toEqual([{ type: 'token', id: `sent-at-once-${round}` }])
        await store.close()
      }
    })

    it('a relay stopped sends and hears nothing more', async () => {
      const [one] = schemas as [string]
      const a = await member(one, keys[0]!)
      const b = await member(one, keys[0]!)
      const stopped = await PostgresCredentialStore.open({ connectionString: url(one) })
      const stoppedBus = await bus(one, keys[0])
      const heard: CredentialChange[] = []
      stopped.onChange((change) => heard.push(change))
      const stop = stoppedBus.relayCredentials(stopped)
      await b.store.createOrganisation({ id: 'cert-fi', name: 'CERT-FI', nation: 'FI', kind: 'ally_cert' })
      await expect.poll(() => heard, { timeout: 5000 }).toEqual([{ type: 'directory' }])
      stop()
      const aBefore = a.seen.length
      await b.store.deleteOrganisation('cert-fi')
      await stopped.createOrganisation({ id: 'cert-se', name: 'CERT-SE', nation: 'SE', kind: 'ally_cert' })
      await expect.poll(() => a.seen.length, { timeout: 5000 }).toBe(aBefore + 1)
      await settle()
      // the stopped one heard none of b's, and told a none of its own (only b's deletion reached a)
      expect(heard).toEqual([{ type: 'directory' }, { type: 'directory' }])
      expect(a.seen.slice(aBefore)).toEqual([{ type: 'directory' }])
      await stopped.close()
    })
  })

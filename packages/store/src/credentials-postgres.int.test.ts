import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { type CredentialChange, type CredentialStore, hashSecret } from './credentials.ts'
import { durablePostgresColumns, transientPostgres } from './credentials-backup.ts'
import {
  newAccount,
  newCommunity,
  newFeed,
  newOrganisation,
  newToken,
  registerCredentialStoreContract,
} from './credentials-contract.ts'
import { PostgresCredentialStore } from './credentials-postgres.ts'
import { openStores } from './open.ts'
import type { PostgresEventStore } from './postgres.ts'
import { credentialTables } from './schema-postgres.ts'
import { tablesStartingWith } from './testSchemas.ts'

const connectionString = process.env.WATCHFLOOR_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
/** What a promise rejects with; null when it resolves. */
const refusal = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => null,
    (error: unknown) => error,
  )

const prefixes = new WeakMap<CredentialStore, string>()
const freshPrefix = () => `wf_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`

async function drop(prefix: string): Promise<void> {
  const cleaner = await PostgresCredentialStore.open({ connectionString, prefix })
  await cleaner.drop()
  await cleaner.close()
}

registerCredentialStoreContract('postgres', {
  async create() {
    const prefix = freshPrefix()
    const store = await PostgresCredentialStore.open({ connectionString, prefix })
    prefixes.set(store, prefix)
    return store
  },
  async reopen(store) {
    const prefix = prefixes.get(store)!
    const reopened = await PostgresCredentialStore.open({ connectionString, prefix })
    prefixes.set(reopened, prefix)
    return reopened
  },
  async destroy(store) {
    await store.close()
    await drop(prefixes.get(store)!)
  },
})

describe('PostgreSQL credentials with several processes', () => {
  const prefix = freshPrefix()
  const stores: PostgresCredentialStore[] = []
  afterAll(async () => {
    for (const store of stores) await store.close()
    await drop(prefix)
  })

  it("a change is told to its own process's listeners once; the store sends nothing between processes, and a change heard is told as its own", async () => {
    const a = await PostgresCredentialStore.open({ connectionString, prefix })
    const b = await PostgresCredentialStore.open({ connectionString, prefix })
    stores.push(a, b)
    const seenA: CredentialChange[] = []
    const seenB: CredentialChange[] = []
    a.onChange((change) => seenA.push(change))
    b.onChange((change) => seenB.push(change))
    await a.createAccount(newAccount('janis'))
    const token = newToken({ owner: 'janis' })
    await a.createToken(token)
    await a.createSession({
      idHash: hashSecret('s'),
      account: 'janis',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    })
    await a.revokeToken(token.id)
    await a.deleteSession(hashSecret('s'))
    const expected = [
      { type: 'token', id: token.id },
      { type: 'session', idHash: hashSecret('s') },
    ]
    expect(seenA).toEqual(expected)
    // the server's bus carries changes between processes (apps/server live/bus.ts, bus.int.test.ts)
    await new Promise((r) => setTimeout(r, 200))
    expect(seenB).toEqual([])
    b.heard(expected[0] as CredentialChange)
    expect(seenB).toEqual([expected[0]])
    expect(seenA).toEqual(expected)
    // b reads what a wrote
    expect((await b.findToken(token.secretHash))?.revokedAt).not.toBeNull()
  })

  it('a directory written by one process is read by the others, and its rules hold across them', async () => {
    const a = await PostgresCredentialStore.open({ connectionString, prefix })
    const b = await PostgresCredentialStore.open({ connectionString, prefix })
    stores.push(a, b)
    await a.createOrganisation(newOrganisation('cert-ee'))
    await a.createCommunity(newCommunity('energy-sector', ['cert-ee']))
    await a.updateOrganisation('cert-ee', { name: 'CERT-EE' })
    await a.updateCommunity('energy-sector', { name: 'Energy' })
    expect(await b.getCommunity('energy-sector')).toMatchObject({ name: 'Energy', members: ['cert-ee'] })
    expect(await b.communitiesOf('cert-ee')).toEqual(['energy-sector'])
    // the rules hold across processes: b cannot take a's ids, nor delete what a's community uses
    expect(await refusal(b.createCommunity(newCommunity('cert-ee', [])))).toMatchObject({ code: 'conflict' })
    expect(await refusal(b.deleteOrganisation('cert-ee'))).toMatchObject({ code: 'conflict' })
    await b.deleteCommunity('energy-sector')
    await b.deleteOrganisation('cert-ee')
    expect(await a.listOrganisations()).toEqual([])
  })

  it('a feed written by one process is read by the others, and a lease one holds the others see held', async () => {
    const a = await PostgresCredentialStore.open({ connectionString, prefix })
    const b = await PostgresCredentialStore.open({ connectionString, prefix })
    stores.push(a, b)
    const seenA: CredentialChange[] = []
    a.onChange((change) => seenA.push(change))
    await a.createOrganisation(newOrganisation('cert-feeds'))
    await a.createFeed(newFeed('ee-taxii', 'cert-feeds'))
    await a.updateFeed('ee-taxii', { pollSeconds: 60 })
    await a.recordFeedState('ee-taxii', { cursor: '2026-03-01T08:00:00.123456Z', objectsImported: 3 })
    expect(await a.claimFeed('ee-taxii', 'process-a', 60_000)).toBe(true)
    // state and leases are no change to tell of
    expect(seenA).toEqual([{ type: 'directory' }, { type: 'feeds' }, { type: 'feeds' }])
    expect(await b.getFeed('ee-taxii')).toEqual(await a.getFeed('ee-taxii'))
    expect(await b.getFeedState('ee-taxii')).toEqual(await a.getFeedState('ee-taxii'))

    // the lease is one for every process
    expect(await b.claimFeed('ee-taxii', 'process-b', 60_000)).toBe(false)
    expect(await b.releaseFeed('ee-taxii', 'process-b')).toBe(false)
    expect(await a.claimFeed('ee-taxii', 'process-a', 60_000)).toBe(true)
    expect(await a.releaseFeed('ee-taxii', 'process-a')).toBe(true)
    expect(await b.claimFeed('ee-taxii', 'process-b', 200)).toBe(true)
    expect(await a.claimFeed('ee-taxii', 'process-a', 60_000)).toBe(false)
    await new Promise((r) => setTimeout(r, 300))
    expect(await a.claimFeed('ee-taxii', 'process-a', 60_000)).toBe(true)
    expect(await b.claimFeed('ee-taxii', 'process-b', 60_000)).toBe(false)
    // both at once, again and again: exactly one wins each time
    expect(await a.releaseFeed('ee-taxii', 'process-a')).toBe(true)
    for (let round = 0; round < 10; round++) {
      const won = await Promise.all([
        a.claimFeed('ee-taxii', 'process-a', 60_000),
        b.claimFeed('ee-taxii', 'process-b', 60_000),
      ])
      expect(won.filter(Boolean)).toHaveLength(1)
      expect(await (won[0] ? a : b).releaseFeed('ee-taxii', won[0] ? 'process-a' : 'process-b')).toBe(true)
    }

    // b deletes the feed (its state and lease with it), then the organisation it kept
    expect(await refusal(b.deleteOrganisation('cert-feeds'))).toMatchObject({ code: 'conflict' })
    expect(await b.deleteFeed('ee-taxii')).toBe(true)
    expect(await b.deleteOrganisation('cert-feeds')).toBe(true)
    expect(await a.getFeed('ee-taxii')).toBeNull()
    expect(await a.getFeedState('ee-taxii')).toBeNull()
  })

  it('pulls recorded by two processes at once add up to one activity both read', async () => {
    const a = await PostgresCredentialStore.open({ connectionString, prefix })
    const b = await PostgresCredentialStore.open({ connectionString, prefix })
    stores.push(a, b)
    const at = (i: number) => new Date(Date.UTC(2026, 2, 1, 8, 0, 0, i)).toISOString()
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 === 0 ? a : b).recordFeedOutPull({ organisation: 'cert-two', channel: 'taxii', at: at(i), objects: 2 }),
      ),
    )
    const expected = [
      {
        organisation: 'cert-two',
        channel: 'taxii',
        pulls: 30,
        failedPulls: 0,
        objectsServed: 60,
        lastPullObjects: 2,
        lastPullAt: at(29),
        lastSuccessAt: at(29),
        lastError: null,
      },
    ]
    expect(await a.listFeedOutActivity({ organisation: 'cert-two' })).toEqual(expected)
    expect(await b.listFeedOutActivity({ organisation: 'cert-two' })).toEqual(expected)
  })

  it('concurrent creates of one id as an organisation and as a community: exactly one wins', async () => {
    const a = await PostgresCredentialStore.open({ connectionString, prefix })
    const b = await PostgresCredentialStore.open({ connectionString, prefix })
    stores.push(a, b)
    for (let i = 0; i < 10; i++) {
      const id = `race-${i}`
      const results = await Promise.allSettled([
        a.createOrganisation(newOrganisation(id)),
        b.createCommunity(newCommunity(id, [])),
      ])
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      const refused = results.find((result) => result.status === 'rejected')
      expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict' })
      expect(Number(Boolean(await a.getOrganisation(id))) + Number(Boolean(await a.getCommunity(id)))).toBe(1)
    }
  })

  it('[V5] concurrent creates of one user id for two organisations on two processes: exactly one wins', async () => {
    const a = await PostgresCredentialStore.open({ connectionString, prefix })
    const b = await PostgresCredentialStore.open({ connectionString, prefix })
    stores.push(a, b)
    const service = (user: string, organisation: string) =>
      newToken({ service: { user, organisation, nation: 'EE', roles: ['sensor'], sources: [] } })
    const heldBy = async (user: string) => [
      ...(await a.listAccounts()).filter((x) => x.username === user).map((x) => x.organisation),
      ...(await a.listTokens()).flatMap((t) => (t.service?.user === user ? [t.service.organisation] : [])),
    ]
    for (let i = 0; i < 10; i++) {
      // an account against a service token, and two service tokens, each pair at once on two processes
      for (const [user, race] of [
        [
          `person-${i}`,
          () => [
            a.createAccount(newAccount(`person-${i}`, { organisation: 'cert-ee' })),
            b.createToken(service(`person-${i}`, 'cert-lv')),
          ],
        ],
        [
          `probe-${i}`,
          () => [a.createToken(service(`probe-${i}`, 'cert-ee')), b.createToken(service(`probe-${i}`, 'cert-lv'))],
        ],
      ] as const) {
        const results = await Promise.allSettled(race())
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
        const refused = results.find((result) => result.status === 'rejected')
        expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict' })
        expect(await heldBy(user)).toHaveLength(1)
      }
    }
  })

  it('openStores opens the log and the credentials in the same database', async () => {
    const table = `${freshPrefix()}_events`
    const credentialsPrefix = freshPrefix()
    const { events, credentials } = await openStores({
      databaseUrl: connectionString,
      dataDir: '/nonexistent',
      eventsTable: table,
      credentialsPrefix,
    })
    try {
      expect([events.kind, credentials.kind]).toEqual(['postgres', 'postgres'])
      await credentials.createAccount(newAccount('kadri'))
      expect((await credentials.getAccount('kadri'))?.username).toBe('kadri')
    } finally {
      await (events as PostgresEventStore).drop()
      await events.close()
      await (credentials as PostgresCredentialStore).drop()
      await credentials.close()
    }
  })
})

describe('PostgreSQL credentials made before tokens could expire', () => {
  const prefix = freshPrefix()
  afterAll(() => drop(prefix))

  it('adds expires_at to the tokens table on open: the old tokens never expire, new ones may', async () => {
    // the tables as the version before token expiry made them (no expires_at on the tokens)
    const client = new pg.Client({ connectionString })
    await client.connect()
    try {
      await client.query(`
        CREATE TABLE ${prefix}_accounts (
          username text PRIMARY KEY,
          display_name text NOT NULL,
          organisation text NOT NULL,
          nation text NOT NULL,
          roles text NOT NULL,
          password_hash text,
          disabled boolean NOT NULL DEFAULT false,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL
        );
        CREATE TABLE ${prefix}_tokens (
          id text PRIMARY KEY,
          secret_hash text NOT NULL UNIQUE,
          label text NOT NULL,
          kind text NOT NULL CHECK (kind IN ('api', 'display')),
          owner text REFERENCES ${prefix}_accounts (username),
          service_user text,
          service_organisation text,
          service_nation text,
          service_roles text,
          service_sources text,
          preset text,
          tlp_ceiling text,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          last_used_at timestamptz,
          revoked_at timestamptz,
          CHECK ((owner IS NULL) <> (service_user IS NULL))
        );
        CREATE INDEX ${prefix}_tokens_owner ON ${prefix}_tokens (owner);
        CREATE TABLE ${prefix}_sessions (
          id_hash text PRIMARY KEY,
          account text NOT NULL REFERENCES ${prefix}_accounts (username) ON DELETE CASCADE,
          created_at timestamptz NOT NULL,
          expires_at timestamptz NOT NULL
        );
        CREATE INDEX ${prefix}_sessions_account ON ${prefix}_sessions (account);
        CREATE INDEX ${prefix}_sessions_expires_at ON ${prefix}_sessions (expires_at);
        INSERT INTO ${prefix}_accounts (username, display_name, organisation, nation, roles, disabled, created_at, updated_at)
          VALUES ('janis', 'Janis', 'cert-lv', 'LV', '["liaison"]', false, '2026-01-02T03:04:05Z', '2026-01-02T03:04:05Z');
      `)
      await client.query(
        `INSERT INTO ${prefix}_tokens (id, secret_hash, label, kind, owner, created_by, created_at, last_used_at)
         VALUES ('old-token', $1, 'janis laptop', 'api', 'janis', 'admin', '2026-01-02T03:04:06Z', '2026-01-03T00:00:00Z')`,
        [hashSecret('wf_old-secret')],
      )
    } finally {
      await client.end()
    }

    const store = await PostgresCredentialStore.open({ connectionString, prefix })
    try {
      expect(await store.findToken(hashSecret('wf_old-secret'))).toEqual({
        id: 'old-token',
        label: 'janis laptop',
        kind: 'api',
        owner: 'janis',
        service: null,
        preset: null,
        tlpCeiling: null,
        createdBy: 'admin',
        createdAt: '2026-01-02T03:04:06.000Z',
        lastUsedAt: '2026-01-03T00:00:00.000Z',
        revokedAt: null,
        expiresAt: null,
      })
      const fresh = newToken({ owner: 'janis', expiresAt: '2031-01-01T00:00:00.000Z' })
      expect((await store.createToken(fresh)).expiresAt).toBe('2031-01-01T00:00:00.000Z')
      // the directory's tables are made on open, and hold the same rules
      expect(await store.listOrganisations()).toEqual([])
      await store.createOrganisation(newOrganisation('cert-lv', { nation: 'LV' }))
      await store.createCommunity(newCommunity('baltic', ['cert-lv']))
      expect(await refusal(store.deleteOrganisation('cert-lv'))).toMatchObject({ code: 'conflict' })
      // and so are the feeds'
      await store.createFeed(newFeed('lv-taxii', 'cert-lv'))
      await store.recordFeedState('lv-taxii', { objectsImported: 1 })
      expect(await store.claimFeed('lv-taxii', 'a', 60_000)).toBe(true)
      // and feeds out's activity
      await store.recordFeedOutPull({
        organisation: 'cert-lv',
        channel: 'taxii',
        at: '2026-01-04T00:00:00.000Z',
        objects: 3,
      })
    } finally {
      await store.close()
    }
    // opening it again finds the column there and leaves it
    const again = await PostgresCredentialStore.open({ connectionString, prefix })
    try {
      expect((await again.getToken('old-token'))?.expiresAt).toBeNull()
      expect(await again.communitiesOf('cert-lv')).toEqual(['baltic'])
      expect((await again.listFeeds()).map((feed) => feed.id)).toEqual(['lv-taxii'])
      expect((await again.getFeedState('lv-taxii'))?.objectsImported).toBe(1)
      expect(await again.claimFeed('lv-taxii', 'b', 60_000)).toBe(false)
      expect(await again.listFeedOutActivity()).toMatchObject([{ organisation: 'cert-lv', pulls: 1, objectsServed: 3 }])
    } finally {
      await again.close()
    }
  })
})

describe('PostgreSQL credential store: values the database cannot hold', () => {
  const prefix = freshPrefix()
  let store: PostgresCredentialStore | undefined
  afterAll(async () => {
    await store?.close()
    await drop(prefix)
  })

  it('U+0000 in a looked-up id or a written name, and a time past year 9999, are validation errors, not internal ones', async () => {
    store = await PostgresCredentialStore.open({ connectionString, prefix })
    await store.createAccount(newAccount('janis'))
    // the last line of defence behind the routes' checks: PostgreSQL's 22021 and 22008 as `validation`
    const opened = store
    for (const attempt of [
      () => opened.getToken('\u0000'),
      () => opened.getAccount('a\u0000b'),
      () => opened.listTokens({ owner: '\u0000' }),
      () => opened.getFeed('\u0000'),
      () => opened.getTaxiiStatus('\u0000'),
      () => opened.updateAccount('janis', { displayName: 'J\u0000' }),
      () => opened.createToken(newToken({ owner: 'janis', label: 'x\u0000' })),
    ])
      expect(await refusal(attempt())).toMatchObject({ code: 'validation' })
    const farFuture = newToken({ owner: 'janis', expiresAt: '9999-12-31T23:59:59-23:59' })
    expect(await refusal(store.createToken(farFuture))).toMatchObject({ code: 'validation' })
    expect((await store.getAccount('janis'))?.displayName).toBe(newAccount('janis').displayName)
  })
})

describe('PostgreSQL credential store: drop', () => {
  it('leaves no table of its own behind (tests drop what every migration made)', async () => {
    const prefix = freshPrefix()
    const store = await PostgresCredentialStore.open({ connectionString, prefix })
    try {
      expect(await tablesStartingWith(connectionString, prefix)).toContain(`${prefix}_taxii_statuses`)
      await store.drop()
      expect(await tablesStartingWith(connectionString, prefix)).toEqual([])
    } finally {
      await store.close()
    }
  })
})

describe('PostgreSQL credentials in a backup', () => {
  it('every table and column of the store is kept by a backup or named in what it leaves out', async () => {
    const prefix = freshPrefix()
    const store = await PostgresCredentialStore.open({ connectionString, prefix })
    const client = new pg.Client({ connectionString })
    await client.connect()
    try {
      const tables = (await tablesStartingWith(connectionString, prefix)).filter(
        (table) => table !== `${prefix}_schema_migrations`,
      )
      const names = credentialTables(prefix)
      const durable = durablePostgresColumns(names)
      const transient = transientPostgres(names)
      const undecided: string[] = []
      for (const table of tables) {
        if (table in transient.tables) continue
        const kept = durable.get(table)
        if (!kept) {
          undecided.push(table)
          continue
        }
        const { rows } = await client.query<{ column_name: string }>(
          'SELECT column_name FROM information_schema.columns WHERE table_name = $1',
          [table],
        )
        const leftOut = transient.columns[table] ?? {}
        for (const { column_name } of rows)
          if (!kept.includes(column_name) && !(column_name in leftOut)) undecided.push(`${table}.${column_name}`)
        // and every column named is one the table has
        for (const column of [...kept, ...Object.keys(leftOut)])
          expect(
            rows.map((row) => row.column_name),
            `${table}.${column}`,
          ).toContain(column)
      }
      expect(undecided).toEqual([])
      for (const table of [...durable.keys(), ...Object.keys(transient.tables)]) expect(tables).toContain(table)
    } finally {
      await client.end()
      await store.drop()
      await store.close()
    }
  })
})

describe('PostgreSQL credential store on a database whose transactions default to serializable', () => {
  it('sign-in reservations and directory writes racing on two processes wait for each other, none fails', async () => {
    const prefix = freshPrefix()
    const url = new URL(connectionString)
    url.searchParams.set('options', '-c default_transaction_isolation=serializable')
    const [a, b] = await Promise.all(
      [0, 1].map(() => PostgresCredentialStore.open({ connectionString: url.toString(), prefix, poolSize: 4 })),
    )
    try {
      const limits = [{ key: 'user:anna', max: 5 }]
      const reservations = await Promise.all(
        Array.from({ length: 24 }, (_, i) => (i % 2 ? a! : b!).reserveSignIn(limits, 60_000, Date.now())),
      )
      expect(reservations.filter((r) => r.ok)).toHaveLength(5)
      // directory writes under the directory's lock, from both processes at once
      await Promise.all(
        ['cert-ee', 'cert-lv', 'cert-lt', 'cert-fi'].map((id, i) =>
          (i % 2 ? a! : b!).createOrganisation(newOrganisation(id)),
        ),
      )
      expect((await a!.listOrganisations()).map((o) => o.id).sort()).toEqual([
        'cert-ee',
        'cert-fi',
        'cert-lt',
        'cert-lv',
      ])
    } finally {
      await a!.drop()
      await Promise.all([a!.close(), b!.close()])
    }
  })
})

import { randomUUID } from 'node:crypto'
import { type FeedOutActivity, WatchfloorError } from '@watchfloor/protocol'
import pg from 'pg'
import { guardConnections } from './connections.ts'
import {
  type Account,
  type AccountLogin,
  type AccountPatch,
  ChangeListeners,
  type Community,
  type CommunityPatch,
  type CredentialChange,
  type CredentialStore,
  type Feed,
  type FeedOutPull,
  type FeedPatch,
  type FeedState,
  type NewAccount,
  type NewCommunity,
  type NewFeed,
  type NewOrganisation,
  type NewToken,
  type Organisation,
  type OrganisationPatch,
  type SessionRecord,
  type SignInLimit,
  type SignInOutcome,
  type SignInReservation,
  type TaxiiStatusRecord,
  type TokenRecord,
} from './credentials.ts'
import { type CredentialDump, dumpPostgresCredentials, restorePostgresCredentials } from './credentials-backup.ts'
import {
  ACCOUNT_COLUMNS,
  type AccountRow,
  accountOf,
  type CommunityRow,
  checkCommunityPatch,
  checkFeedOutPull,
  checkFeedPatch,
  checkFeedState,
  checkLease,
  checkNewCommunity,
  checkNewFeed,
  checkNewOrganisation,
  checkOrganisationPatch,
  checkTokenIdentity,
  communityOf,
  FEED_COLUMNS,
  FEED_OUT_COLUMNS,
  FEED_STATE_COLUMNS,
  type FeedOutActivityRow,
  type FeedRow,
  type FeedStateRow,
  feedOf,
  feedOutActivityOf,
  feedStateOf,
  idTaken,
  isoTime,
  isoTimeOrNull,
  missingMember,
  NEW_TOKEN_COLUMNS,
  newTokenValues,
  noFeed,
  noFeedOrganisation,
  ORGANISATION_COLUMNS,
  type OrganisationRow,
  organisationInUse,
  organisationOf,
  type SessionRow,
  sessionOf,
  slotWait,
  TOKEN_COLUMNS,
  type TokenRow,
  tokenOf,
  USES_NAMED,
  userIdTaken,
} from './credentials-rows.ts'
import { checkPostgresVersion, migratePostgres } from './migrations.ts'
import {
  type CredentialTables,
  credentialTables,
  detectPostgresCredentials,
  postgresCredentialMigrations,
} from './schema-postgres.ts'
import { DatabaseScope } from './scope.ts'

export interface PostgresCredentialStoreOptions {
  connectionString: string
  /**
   * Prefix of the tables (`<prefix>_accounts`, `<prefix>_tokens`, `<prefix>_sessions`,
   * `<prefix>_organisations`, `<prefix>_communities`, `<prefix>_community_members`,
   * `<prefix>_feeds`, `<prefix>_feed_states`, `<prefix>_feed_out_activity`) and of the change
   * channel; letters, digits,
   * underscores. Default `watchfloor`.
   */
  prefix?: string
  poolSize?: number
  /**
   * Bring an older schema up to date on open (default true). False for a command that only reads:
   * nothing of the schema is written, and tables whose credentials schema is not this release's
   * are refused (`SchemaTooOldError`, `SchemaTooNewError`).
   */
  migrate?: boolean
}

/**
 * Accounts, tokens and sessions in PostgreSQL, shared by every server process of
 * one log. Each change (a token revoked, a session ended, an account changed, the
 * directory written) is told to this process's listeners; the server's bus (Socket.IO's
 * adapter, apps/server live/bus.ts) carries it to the other processes, which tell theirs
 * through `heard`, so every process can drop the sockets it no longer trusts at once. Directory writes that check before they write (an id free across
 * organisations and communities, members that exist, an organisation nothing uses)
 * run in a transaction holding an advisory lock of the prefix's directory, so they
 * never interleave; ids are `COLLATE "C"`, so they sort as in SQLite and JavaScript.
 * Partner feeds (`auth` as jsonb) are created under the same lock, and name their organisation
 * by a foreign key; a feed's state row (deleted with it) holds its polling lease, taken by one
 * upsert timed by the database's clock, so processes on different hosts agree on its expiry.
 * Feeds out: one row per organisation and channel, one upsert per pull, so every process adds to
 * the same counts. An account or a service token is created in a transaction holding an advisory
 * lock of the prefix's identities that first looks for its user id among the other organisations'
 * principals, so two processes cannot both give one user id to two organisations.
 */
export class PostgresCredentialStore implements CredentialStore {
  readonly kind = 'postgres'
  private readonly pool: pg.Pool
  private readonly accounts: string
  private readonly tokens: string
  private readonly sessions: string
  private readonly organisations: string
  private readonly communities: string
  private readonly members: string
  private readonly feeds: string
  private readonly feedStates: string
  private readonly feedOut: string
  /** The locks' keys are of the connection's schema (see DatabaseScope). */
  private scope: DatabaseScope | undefined
  private directoryLock = 0
  /** Held while a user id is looked up and given (an account, a service token): one at a time across processes. */
  private identityLock = 0
  private readonly changes = new ChangeListeners()
  private closed = false
  /** When this process last deleted the sign-in slots gone from the window (ms). */
  private lastSweep = 0

  private constructor(
    options: PostgresCredentialStoreOptions,
    private readonly prefix: string,
  ) {
    this.accounts = `${prefix}_accounts`
    this.tokens = `${prefix}_tokens`
    this.sessions = `${prefix}_sessions`
    this.organisations = `${prefix}_organisations`
    this.communities = `${prefix}_communities`
    this.members = `${prefix}_community_members`
    this.feeds = `${prefix}_feeds`
    this.feedStates = `${prefix}_feed_states`
    this.feedOut = `${prefix}_feed_out_activity`
    // a connection lost fails its statement; the next one reconnects
    this.pool = guardConnections(
      new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 2 }),
    )
  }

  static async open(options: PostgresCredentialStoreOptions): Promise<PostgresCredentialStore> {
    const prefix = options.prefix ?? 'watchfloor'
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`invalid table prefix: ${prefix}`)
    const store = new PostgresCredentialStore(options, prefix)
    try {
      const scope = await DatabaseScope.of(store.pool)
      store.scope = scope
      store.directoryLock = scope.lockKey(`${prefix}_directory`)
      store.identityLock = scope.lockKey(`${prefix}_identities`)
      await store.migrate(options.migrate ?? true)
    } catch (error) {
      await store.close()
      throw error
    }
    return store
  }

  /** Bring the tables up to date (or, without `migrate`, only check that they are), under the schema's lock. */
  private async migrate(migrate: boolean): Promise<void> {
    const client = await this.pool.connect()
    const lockKey = this.scope!.lockKey(`${this.prefix}_credentials`)
    try {
      await client.query('SELECT pg_advisory_lock($1)', [lockKey])
      await (migrate ? migratePostgres : checkPostgresVersion)(
        client,
        `${this.prefix}_schema_migrations`,
        'credentials',
        postgresCredentialMigrations(this.tables()),
        (client) => detectPostgresCredentials(client, this.tables()),
      )
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [lockKey]).catch(() => {})
      client.release()
    }
  }

  private tables(): CredentialTables {
    return credentialTables(this.prefix)
  }

  /**
   * A statement on the pool. Text the database cannot hold (U+0000, a time beyond its range) fails
   * as a `validation` error (`unstorable`), whatever route let it through.
   */
  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values)
    } catch (error) {
      throw unstorable(error)
    }
  }

  /** Tell this process's listeners (the server's bus tells the other processes'). */
  private emit(change: CredentialChange): void {
    if (!this.closed) this.changes.emit(change)
  }

  heard(change: CredentialChange): void {
    this.emit(change)
  }

  async createAccount(account: NewAccount): Promise<Account> {
    const now = new Date()
    return this.lockedWrite(this.identityLock, async (client) => {
      const taken = await this.userIdTakenBy(client, account.username, account.organisation, false)
      if (taken) throw taken
      try {
        const { rows } = await client.query<AccountRow>(
          `INSERT INTO ${this.accounts} (username, display_name, organisation, nation, roles, password_hash, disabled, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ${ACCOUNT_COLUMNS}`,
          [
            account.username,
            account.displayName,
            account.organisation,
            account.nation,
            JSON.stringify(account.roles),
            account.passwordHash,
            account.disabled ?? false,
            now,
          ],
        )
        return accountOf(rows[0]!)
      } catch (error) {
        throw translate(error, `account ${account.username} already exists`)
      }
    })
  }

  /**
   * Under the identity lock: the refusal when a principal of another organisation than
   * `organisation` has `userId` (a service token's identity, revoked or expired too; with
   * `accounts`, an account, disabled too), or null. Accounts need not look at accounts: a username
   * is taken once anyway.
   */
  private async userIdTakenBy(
    client: pg.PoolClient,
    userId: string,
    organisation: string,
    accounts: boolean,
  ): Promise<WatchfloorError | null> {
    if (accounts) {
      const { rows } = await client.query<{ organisation: string }>(
        `SELECT organisation FROM ${this.accounts} WHERE username = $1 AND organisation <> $2`,
        [userId, organisation],
      )
      if (rows[0]) return userIdTaken(userId, rows[0].organisation, 'account')
    }
    const { rows } = await client.query<{ organisation: string }>(
      `SELECT service_organisation AS organisation FROM ${this.tokens}
       WHERE service_user = $1 AND service_organisation <> $2 ORDER BY created_at, id LIMIT 1`,
      [userId, organisation],
    )
    return rows[0] ? userIdTaken(userId, rows[0].organisation, 'service token') : null
  }

  async getAccount(username: string): Promise<Account | null> {
    const { rows } = await this.query<AccountRow>(
      `SELECT ${ACCOUNT_COLUMNS} FROM ${this.accounts} WHERE username = $1`,
      [username],
    )
    return rows[0] ? accountOf(rows[0]) : null
  }

  async getLogin(username: string): Promise<AccountLogin | null> {
    const { rows } = await this.query<AccountRow & { password_hash: string | null }>(
      `SELECT ${ACCOUNT_COLUMNS}, password_hash FROM ${this.accounts} WHERE username = $1`,
      [username],
    )
    const row = rows[0]
    return row ? { account: accountOf(row), passwordHash: row.password_hash } : null
  }

  async listAccounts(): Promise<Account[]> {
    const { rows } = await this.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM ${this.accounts} ORDER BY username`)
    return rows.map(accountOf)
  }

  async updateAccount(username: string, patch: AccountPatch): Promise<Account | null> {
    const sets: string[] = []
    const values: unknown[] = []
    const set = (column: string, value: unknown) => {
      values.push(value)
      sets.push(`${column} = $${values.length}`)
    }
    if (patch.displayName !== undefined) set('display_name', patch.displayName)
    if (patch.roles !== undefined) set('roles', JSON.stringify(patch.roles))
    if (patch.disabled !== undefined) set('disabled', patch.disabled)
    if (patch.passwordHash !== undefined) set('password_hash', patch.passwordHash)
    set('updated_at', new Date())
    values.push(username)
    const { rows } = await this.query<AccountRow>(
      `UPDATE ${this.accounts} SET ${sets.join(', ')} WHERE username = $${values.length} RETURNING ${ACCOUNT_COLUMNS}`,
      values,
    )
    if (!rows[0]) return null
    this.emit({ type: 'account', username })
    return accountOf(rows[0])
  }

  async createToken(token: NewToken): Promise<TokenRecord> {
    checkTokenIdentity(token)
    const { service } = token
    const expiresAt = isoTimeOrNull(token.expiresAt, 'expiresAt')
    const insert = async (client: pg.Pool | pg.PoolClient) => {
      try {
        const { rows } = await client.query<TokenRow>(
          `INSERT INTO ${this.tokens} (${NEW_TOKEN_COLUMNS})
           VALUES (${NEW_TOKEN_COLUMNS.split(',')
             .map((_, i) => `$${i + 1}`)
             .join(', ')}) RETURNING ${TOKEN_COLUMNS}`,
          newTokenValues(token, new Date(), expiresAt),
        )
        return tokenOf(rows[0]!)
      } catch (error) {
        throw translate(error, 'a token with this id or secret already exists', `no account ${token.owner}`)
      }
    }
    // an account's token acts as the account: only a service identity gives a user id
    if (!service) return insert(this.pool)
    return this.lockedWrite(this.identityLock, async (client) => {
      const taken = await this.userIdTakenBy(client, service.user, service.organisation, true)
      if (taken) throw taken
      return insert(client)
    })
  }

  async findToken(secretHash: string): Promise<TokenRecord | null> {
    const { rows } = await this.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM ${this.tokens} WHERE secret_hash = $1`, [
      secretHash,
    ])
    return rows[0] ? tokenOf(rows[0]) : null
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const { rows } = await this.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM ${this.tokens} WHERE id = $1`, [id])
    return rows[0] ? tokenOf(rows[0]) : null
  }

  async listTokens(filter: { owner?: string } = {}): Promise<TokenRecord[]> {
    const { rows } =
      filter.owner === undefined
        ? await this.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM ${this.tokens} ORDER BY created_at, id`)
        : await this.query<TokenRow>(
            `SELECT ${TOKEN_COLUMNS} FROM ${this.tokens} WHERE owner = $1 ORDER BY created_at, id`,
            [filter.owner],
          )
    return rows.map(tokenOf)
  }

  async revokeToken(id: string, at: Date = new Date()): Promise<TokenRecord | null> {
    const { rows } = await this.query<TokenRow>(
      `UPDATE ${this.tokens} SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING ${TOKEN_COLUMNS}`,
      [at, id],
    )
    if (!rows[0]) return null
    this.emit({ type: 'token', id })
    return tokenOf(rows[0])
  }

  async touchToken(id: string, at: Date): Promise<void> {
    await this.query(`UPDATE ${this.tokens} SET last_used_at = $1 WHERE id = $2`, [at, id])
  }

  async createSession(session: { idHash: string; account: string; expiresAt: string }): Promise<SessionRecord> {
    return this.insertSession(this.pool, session)
  }

  private async insertSession(
    client: pg.Pool | pg.PoolClient,
    session: { idHash: string; account: string; expiresAt: string },
  ): Promise<SessionRecord> {
    try {
      const { rows } = await client.query<SessionRow>(
        `INSERT INTO ${this.sessions} (id_hash, account, created_at, expires_at) VALUES ($1, $2, $3, $4)
         RETURNING id_hash, account, created_at, expires_at`,
        [session.idHash, session.account, new Date(), isoTime(session.expiresAt, 'expiresAt')],
      )
      return sessionOf(rows[0]!)
    } catch (error) {
      throw translate(error, 'a session with this id already exists', `no account ${session.account}`)
    }
  }

  async signIn(
    session: { idHash: string; account: string; expiresAt: string },
    checked: { passwordHash: string; rehash?: string | undefined },
  ): Promise<SessionRecord | null> {
    return this.transaction(async (client) => {
      // the account's row locked: a password change or disabling committed before is read here; one
      // after waits for this session, and its ending of the account's sessions then ends it too
      const { rows } = await client.query<{ password_hash: string | null; disabled: boolean }>(
        `SELECT password_hash, disabled FROM ${this.accounts} WHERE username = $1 FOR UPDATE`,
        [session.account],
      )
      const row = rows[0]
      if (row === undefined || row.disabled || row.password_hash !== checked.passwordHash) return null
      if (checked.rehash !== undefined)
        await client.query(`UPDATE ${this.accounts} SET password_hash = $1, updated_at = $2 WHERE username = $3`, [
          checked.rehash,
          new Date(),
          session.account,
        ])
      return this.insertSession(client, session)
    })
  }

  async findSession(idHash: string): Promise<SessionRecord | null> {
    const { rows } = await this.query<SessionRow>(
      `SELECT id_hash, account, created_at, expires_at FROM ${this.sessions} WHERE id_hash = $1`,
      [idHash],
    )
    return rows[0] ? sessionOf(rows[0]) : null
  }

  async deleteSession(idHash: string): Promise<boolean> {
    const { rowCount } = await this.query(`DELETE FROM ${this.sessions} WHERE id_hash = $1`, [idHash])
    if (rowCount) this.emit({ type: 'session', idHash })
    return Boolean(rowCount)
  }

  async deleteSessionsOf(account: string): Promise<number> {
    const { rowCount } = await this.query(`DELETE FROM ${this.sessions} WHERE account = $1`, [account])
    if (rowCount) this.emit({ type: 'account', username: account })
    return rowCount ?? 0
  }

  async deleteExpiredSessions(now: Date): Promise<number> {
    const { rowCount } = await this.query(`DELETE FROM ${this.sessions} WHERE expires_at < $1`, [now])
    return rowCount ?? 0
  }

  /** A community with its members (an array, in no particular order: `communityOf` sorts them). */
  private communitySelect(): string {
    return `SELECT c.id, c.name, c.created_at, c.updated_at,
        ARRAY(SELECT m.organisation_id FROM ${this.members} m WHERE m.community_id = c.id) AS members
      FROM ${this.communities} c`
  }

  /** Runs a directory write in a transaction holding the directory's lock: one at a time across processes. */
  private directoryWrite<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.lockedWrite(this.directoryLock, work)
  }

  /** Runs `work` in a transaction holding the advisory lock `lock`: one at a time across processes. */
  private lockedWrite<T>(lock: number, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [lock])
      return work(client)
    })
  }

  /** Runs `work` in one transaction on one connection of the pool: committed, or rolled back on a throw. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    let broken: Error | undefined
    try {
      // read committed whatever the database's default: locks serialise these writes, and under
      // serializable two processes' would fail each other with 40001 instead of waiting
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => {
        broken = rollback // the connection is no use: the pool drops it
      })
      throw unstorable(error)
    } finally {
      client.release(broken)
    }
  }

  async listOrganisations(): Promise<Organisation[]> {
    const { rows } = await this.query<OrganisationRow>(
      `SELECT ${ORGANISATION_COLUMNS} FROM ${this.organisations} ORDER BY id`,
    )
    return rows.map(organisationOf)
  }

  async getOrganisation(id: string): Promise<Organisation | null> {
    const { rows } = await this.query<OrganisationRow>(
      `SELECT ${ORGANISATION_COLUMNS} FROM ${this.organisations} WHERE id = $1`,
      [id],
    )
    return rows[0] ? organisationOf(rows[0]) : null
  }

  async createOrganisation(input: NewOrganisation): Promise<Organisation> {
    const organisation = checkNewOrganisation(input)
    const created = await this.directoryWrite(async (client) => {
      const taken = await client.query(`SELECT 1 FROM ${this.communities} WHERE id = $1`, [organisation.id])
      if (taken.rowCount) throw idTaken(organisation.id, 'community')
      try {
        const { rows } = await client.query<OrganisationRow>(
          `INSERT INTO ${this.organisations} (id, name, nation, kind, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $5) RETURNING ${ORGANISATION_COLUMNS}`,
          [organisation.id, organisation.name, organisation.nation, organisation.kind, new Date()],
        )
        return organisationOf(rows[0]!)
      } catch (error) {
        throw translate(error, `organisation ${organisation.id} already exists`)
      }
    })
    this.emit({ type: 'directory' })
    return created
  }

  async updateOrganisation(id: string, input: OrganisationPatch): Promise<Organisation | null> {
    const patch = checkOrganisationPatch(input)
    const sets: string[] = []
    const values: unknown[] = []
    const set = (column: string, value: unknown) => {
      values.push(value)
      sets.push(`${column} = $${values.length}`)
    }
    if (patch.name !== undefined) set('name', patch.name)
    if (patch.nation !== undefined) set('nation', patch.nation)
    if (patch.kind !== undefined) set('kind', patch.kind)
    const now = new Date()
    set('updated_at', now)
    values.push(id)
    const rows = await this.directoryWrite(async (client) => {
      const { rows } = await client.query<OrganisationRow>(
        `UPDATE ${this.organisations} SET ${sets.join(', ')} WHERE id = $${values.length} RETURNING ${ORGANISATION_COLUMNS}`,
        values,
      )
      // its accounts and service tokens are of its nation: they move with it
      if (rows[0] && patch.nation !== undefined) {
        await client.query(
          `UPDATE ${this.accounts} SET nation = $1, updated_at = $2 WHERE organisation = $3 AND nation <> $1`,
          [patch.nation, now, id],
        )
        await client.query(`UPDATE ${this.tokens} SET service_nation = $1 WHERE service_organisation = $2`, [
          patch.nation,
          id,
        ])
      }
      return rows
    })
    if (!rows[0]) return null
    this.emit({ type: 'directory' })
    return organisationOf(rows[0])
  }

  async deleteOrganisation(id: string): Promise<boolean> {
    const deleted = await this.directoryWrite(async (client) => {
      const found = await client.query(`SELECT 1 FROM ${this.organisations} WHERE id = $1`, [id])
      if (!found.rowCount) return false
      // accounts and tokens name their organisation without a foreign key: hold off their writes
      // until this transaction ends, so none comes to belong to it between the look and the delete
      await client.query(`LOCK TABLE ${this.accounts}, ${this.tokens} IN SHARE MODE`)
      const pluck = async (sql: string) =>
        (await client.query<{ id: string }>(sql, [id, USES_NAMED])).rows.map((row) => row.id)
      const inUse = organisationInUse(id, {
        communities: await pluck(
          `SELECT community_id AS id FROM ${this.members} WHERE organisation_id = $1 ORDER BY community_id LIMIT $2`,
        ),
        accounts: await pluck(
          `SELECT username AS id FROM ${this.accounts} WHERE organisation = $1 ORDER BY username COLLATE "C" LIMIT $2`,
        ),
        tokens: await pluck(
          `SELECT id FROM ${this.tokens} WHERE service_organisation = $1 ORDER BY id COLLATE "C" LIMIT $2`,
        ),
        // feeds are created under this lock, and name their organisation by a foreign key
        feeds: await pluck(`SELECT id FROM ${this.feeds} WHERE organisation = $1 ORDER BY id LIMIT $2`),
      })
      if (inUse) throw inUse
      await client.query(`DELETE FROM ${this.organisations} WHERE id = $1`, [id])
      return true
    })
    if (deleted) this.emit({ type: 'directory' })
    return deleted
  }

  async listCommunities(): Promise<Community[]> {
    const { rows } = await this.query<CommunityRow>(`${this.communitySelect()} ORDER BY c.id`)
    return rows.map(communityOf)
  }

  async getCommunity(id: string): Promise<Community | null> {
    const { rows } = await this.query<CommunityRow>(`${this.communitySelect()} WHERE c.id = $1`, [id])
    return rows[0] ? communityOf(rows[0]) : null
  }

  async createCommunity(input: NewCommunity): Promise<Community> {
    const community = checkNewCommunity(input)
    const created = await this.directoryWrite(async (client) => {
      const taken = await client.query(`SELECT 1 FROM ${this.organisations} WHERE id = $1`, [community.id])
      if (taken.rowCount) throw idTaken(community.id, 'organisation')
      try {
        await client.query(
          `INSERT INTO ${this.communities} (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)`,
          [community.id, community.name, new Date()],
        )
      } catch (error) {
        throw translate(error, `community ${community.id} already exists`)
      }
      await this.setMembers(client, community.id, community.members)
      return this.communityIn(client, community.id)
    })
    this.emit({ type: 'directory' })
    return created!
  }

  async updateCommunity(id: string, input: CommunityPatch): Promise<Community | null> {
    const patch = checkCommunityPatch(input)
    const values: unknown[] = [id, new Date()]
    const sets = ['updated_at = $2']
    if (patch.name !== undefined) {
      values.push(patch.name)
      sets.push(`name = $${values.length}`)
    }
    const updated = await this.directoryWrite(async (client) => {
      const { rowCount } = await client.query(`UPDATE ${this.communities} SET ${sets.join(', ')} WHERE id = $1`, values)
      if (!rowCount) return null
      if (patch.members !== undefined) {
        await client.query(`DELETE FROM ${this.members} WHERE community_id = $1`, [id])
        await this.setMembers(client, id, patch.members)
      }
      return this.communityIn(client, id)
    })
    if (updated) this.emit({ type: 'directory' })
    return updated
  }

  private async communityIn(client: pg.PoolClient, id: string): Promise<Community | null> {
    const { rows } = await client.query<CommunityRow>(`${this.communitySelect()} WHERE c.id = $1`, [id])
    return rows[0] ? communityOf(rows[0]) : null
  }

  /** Inside a directory write: adds the members, refusing any that is no organisation. */
  private async setMembers(client: pg.PoolClient, community: string, members: readonly string[]): Promise<void> {
    if (members.length === 0) return
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM ${this.organisations} WHERE id = ANY($1::text[])`,
      [members],
    )
    const missing = missingMember(members, new Set(rows.map((row) => row.id)))
    if (missing) throw missing
    await client.query(`INSERT INTO ${this.members} (community_id, organisation_id) SELECT $1, unnest($2::text[])`, [
      community,
      members,
    ])
  }

  async deleteCommunity(id: string): Promise<boolean> {
    const { rowCount } = await this.query(`DELETE FROM ${this.communities} WHERE id = $1`, [id])
    if (rowCount) this.emit({ type: 'directory' })
    return Boolean(rowCount)
  }

  async communitiesOf(organisation: string): Promise<string[]> {
    const { rows } = await this.query<{ community_id: string }>(
      `SELECT community_id FROM ${this.members} WHERE organisation_id = $1 ORDER BY community_id`,
      [organisation],
    )
    return rows.map((row) => row.community_id)
  }

  async listFeeds(): Promise<Feed[]> {
    const { rows } = await this.query<FeedRow>(`SELECT ${FEED_COLUMNS} FROM ${this.feeds} ORDER BY id`)
    return rows.map(feedOf)
  }

  async getFeed(id: string): Promise<Feed | null> {
    const { rows } = await this.query<FeedRow>(`SELECT ${FEED_COLUMNS} FROM ${this.feeds} WHERE id = $1`, [id])
    return rows[0] ? feedOf(rows[0]) : null
  }

  async createFeed(input: NewFeed): Promise<Feed> {
    const feed = checkNewFeed(input)
    const created = await this.directoryWrite(async (client) => {
      const found = await client.query(`SELECT 1 FROM ${this.organisations} WHERE id = $1`, [feed.organisation])
      if (!found.rowCount) throw noFeedOrganisation(feed.organisation)
      try {
        const { rows } = await client.query<FeedRow>(
          `INSERT INTO ${this.feeds} (id, label, url, api_root, collection_id, organisation, auth, poll_seconds,
             default_tlp, enabled, created_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $12) RETURNING ${FEED_COLUMNS}`,
          [
            feed.id,
            feed.label,
            feed.url,
            feed.apiRoot,
            feed.collectionId,
            feed.organisation,
            JSON.stringify(feed.auth),
            feed.pollSeconds,
            feed.defaultTlp,
            feed.enabled,
            feed.createdBy,
            new Date(),
          ],
        )
        return feedOf(rows[0]!)
      } catch (error) {
        // the organisation went from the directory meanwhile
        if ((error as { code?: string }).code === '23503') throw noFeedOrganisation(feed.organisation)
        throw translate(error, `feed ${feed.id} already exists`)
      }
    })
    this.emit({ type: 'feeds' })
    return created
  }

  async updateFeed(id: string, input: FeedPatch): Promise<Feed | null> {
    const patch = checkFeedPatch(input)
    const sets: string[] = []
    const values: unknown[] = []
    const set = (column: string, value: unknown, cast = '') => {
      values.push(value)
      sets.push(`${column} = $${values.length}${cast}`)
    }
    if (patch.label !== undefined) set('label', patch.label)
    if (patch.url !== undefined) set('url', patch.url)
    if (patch.apiRoot !== undefined) set('api_root', patch.apiRoot)
    if (patch.collectionId !== undefined) set('collection_id', patch.collectionId)
    if (patch.auth !== undefined) set('auth', JSON.stringify(patch.auth), '::jsonb')
    if (patch.pollSeconds !== undefined) set('poll_seconds', patch.pollSeconds)
    if (patch.defaultTlp !== undefined) set('default_tlp', patch.defaultTlp)
    if (patch.enabled !== undefined) set('enabled', patch.enabled)
    set('updated_at', new Date())
    values.push(id)
    const { rows } = await this.query<FeedRow>(
      `UPDATE ${this.feeds} SET ${sets.join(', ')} WHERE id = $${values.length} RETURNING ${FEED_COLUMNS}`,
      values,
    )
    if (!rows[0]) return null
    this.emit({ type: 'feeds' })
    return feedOf(rows[0])
  }

  async deleteFeed(id: string): Promise<boolean> {
    // its state goes with it (ON DELETE CASCADE)
    const { rowCount } = await this.query(`DELETE FROM ${this.feeds} WHERE id = $1`, [id])
    if (rowCount) this.emit({ type: 'feeds' })
    return Boolean(rowCount)
  }

  async getFeedState(id: string): Promise<FeedState | null> {
    const { rows } = await this.query<FeedStateRow>(
      `SELECT ${FEED_STATE_COLUMNS} FROM ${this.feedStates} WHERE feed_id = $1`,
      [id],
    )
    return rows[0] ? feedStateOf(rows[0]) : null
  }

  async recordFeedState(id: string, state: Partial<FeedState>): Promise<FeedState> {
    const given = checkFeedState(id, state)
    const columns = given.map(([column]) => column)
    const update =
      columns.length === 0
        ? 'NOTHING'
        : `UPDATE SET ${columns.map((column) => `${column} = excluded.${column}`).join(', ')}`
    try {
      const { rows } = await this.query<FeedStateRow>(
        `INSERT INTO ${this.feedStates} (feed_id${columns.map((column) => `, ${column}`).join('')})
         VALUES ($1${columns.map((_, i) => `, $${i + 2}`).join('')})
         ON CONFLICT (feed_id) DO ${update} RETURNING ${FEED_STATE_COLUMNS}`,
        [id, ...given.map(([, value]) => value)],
      )
      // DO NOTHING returns no row when there was one already
      return rows[0] ? feedStateOf(rows[0]) : (await this.getFeedState(id))!
    } catch (error) {
      throw translate(error, `state of feed ${id} already exists`, noFeed(id).message)
    }
  }

  async claimFeed(id: string, holder: string, leaseMs: number): Promise<boolean> {
    checkLease(holder, leaseMs)
    try {
      // under READ COMMITTED a conflicting claim waits for the other's commit, then sees its lease
      const { rowCount } = await this.query(
        `INSERT INTO ${this.feedStates} AS s (feed_id, lease_holder, lease_expires_at)
         VALUES ($1, $2, clock_timestamp() + $3::integer * interval '1 millisecond')
         ON CONFLICT (feed_id) DO UPDATE
           SET lease_holder = excluded.lease_holder, lease_expires_at = excluded.lease_expires_at
           WHERE s.lease_holder IS NULL OR s.lease_holder = excluded.lease_holder
             OR s.lease_expires_at <= clock_timestamp()`,
        [id, holder, leaseMs],
      )
      return Boolean(rowCount)
    } catch (error) {
      throw translate(error, `state of feed ${id} already exists`, noFeed(id).message)
    }
  }

  async releaseFeed(id: string, holder: string): Promise<boolean> {
    checkLease(holder)
    const { rowCount } = await this.query(
      `UPDATE ${this.feedStates} SET lease_holder = NULL, lease_expires_at = NULL WHERE feed_id = $1 AND lease_holder = $2`,
      [id, holder],
    )
    return Boolean(rowCount)
  }

  async recordFeedOutPull(input: FeedOutPull): Promise<void> {
    const pull = checkFeedOutPull(input)
    // `a`: the row as it was; GREATEST ignores nulls
    await this.query(
      `INSERT INTO ${this.feedOut} AS a (${FEED_OUT_COLUMNS})
       VALUES ($1, $2, 1, $3, $4, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (organisation, channel) DO UPDATE SET
         pulls = a.pulls + 1,
         failed_pulls = a.failed_pulls + excluded.failed_pulls,
         objects_served = a.objects_served + excluded.objects_served,
         last_pull_objects = CASE WHEN excluded.last_pull_at >= a.last_pull_at
           THEN excluded.last_pull_objects ELSE a.last_pull_objects END,
         last_pull_at = GREATEST(a.last_pull_at, excluded.last_pull_at),
         last_success_at = GREATEST(a.last_success_at, excluded.last_success_at),
         last_error_status = CASE WHEN a.last_error_at IS NULL OR excluded.last_error_at >= a.last_error_at
           THEN coalesce(excluded.last_error_status, a.last_error_status) ELSE a.last_error_status END,
         last_error_message = CASE WHEN a.last_error_at IS NULL OR excluded.last_error_at >= a.last_error_at
           THEN coalesce(excluded.last_error_message, a.last_error_message) ELSE a.last_error_message END,
         last_error_at = GREATEST(a.last_error_at, excluded.last_error_at)`,
      [
        pull.organisation,
        pull.channel,
        pull.failed,
        pull.objects,
        pull.at,
        pull.success,
        pull.errorStatus,
        pull.errorMessage,
        pull.errorAt,
      ],
    )
  }

  async listFeedOutActivity(filter: { organisation?: string } = {}): Promise<FeedOutActivity[]> {
    const select = `SELECT ${FEED_OUT_COLUMNS} FROM ${this.feedOut}`
    const { rows } =
      filter.organisation === undefined
        ? await this.query<FeedOutActivityRow>(`${select} ORDER BY organisation, channel`)
        : await this.query<FeedOutActivityRow>(`${select} WHERE organisation = $1 ORDER BY channel`, [
            filter.organisation,
          ])
    return rows.map(feedOutActivityOf)
  }

  async saveTaxiiStatus(status: TaxiiStatusRecord, keep = 10_000): Promise<void> {
    const table = `${this.prefix}_taxii_statuses`
    await this.query(
      `WITH kept AS (
         INSERT INTO ${table} (id, owner, created_at, body) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, created_at = excluded.created_at, body = excluded.body
         RETURNING id
       )
       DELETE FROM ${table} WHERE id IN (
         SELECT id FROM ${table} WHERE id NOT IN (SELECT id FROM kept) ORDER BY created_at DESC, id OFFSET $5
       )`,
      [status.id, status.owner, status.createdAt.getTime(), status.body, Math.max(0, keep - 1)],
    )
  }

  async getTaxiiStatus(id: string): Promise<TaxiiStatusRecord | null> {
    const { rows } = await this.query<{ id: string; owner: string; created_at: string; body: string }>(
      `SELECT id, owner, created_at, body FROM ${this.prefix}_taxii_statuses WHERE id = $1`,
      [id],
    )
    const row = rows[0]
    return row ? { id: row.id, owner: row.owner, body: row.body, createdAt: new Date(Number(row.created_at)) } : null
  }

  /**
   * One transaction holding an advisory lock per key (two-int keys: apart from the other locks),
   * taken in a fixed order, so processes counting the same key wait for each other.
   */
  async reserveSignIn(limits: readonly SignInLimit[], windowMs: number, now: number): Promise<SignInReservation> {
    const table = `${this.prefix}_login_attempts`
    const keys = [...new Set(limits.map((limit) => limit.key))].sort()
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED') // as lockedWrite: the locks serialise
      for (const key of keys)
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
          this.scope!.lockText(table),
          key,
        ])
      // slots of these keys gone from the window: failures and attempts never settled (a process
      // gone); only rows under the locks held, so reservations never wait on each other's rows
      await client.query(`DELETE FROM ${table} WHERE key = ANY($1) AND at <= $2`, [keys, now - windowMs])
      let waitMs = 0
      for (const limit of limits) {
        const { rows } = await client.query<{ at: string }>(`SELECT at FROM ${table} WHERE key = $1 ORDER BY at, n`, [
          limit.key,
        ])
        waitMs = Math.max(
          waitMs,
          slotWait(
            rows.map((row) => Number(row.at)),
            limit.max,
            windowMs,
            now,
          ),
        )
      }
      if (waitMs > 0) {
        await client.query('COMMIT')
        return { ok: false, waitMs }
      }
      const attempt = randomUUID()
      for (const limit of limits)
        await client.query(`INSERT INTO ${table} (attempt, key, at, pending) VALUES ($1, $2, $3, true)`, [
          attempt,
          limit.key,
          now,
        ])
      await client.query('COMMIT')
      return { ok: true, attempt }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw unstorable(error)
    } finally {
      client.release()
      this.sweepSignIns(now - windowMs)
    }
  }

  /** Now and then (a minute apart at most once per process), the slots of every key gone from the window. */
  private sweepSignIns(before: number): void {
    const at = Date.now()
    if (this.closed || at - this.lastSweep < 60_000) return
    this.lastSweep = at
    this.query(`DELETE FROM ${this.prefix}_login_attempts WHERE at <= $1`, [before]).catch(() => {})
  }

  async settleSignIn(attempt: string, outcome: SignInOutcome): Promise<void> {
    const table = `${this.prefix}_login_attempts`
    if (outcome === 'failed') {
      // a new number: after every attempt reserved before it, so a success that began earlier keeps it
      await this.query(
        `UPDATE ${table} SET pending = false, n = nextval(pg_get_serial_sequence($2, 'n')) WHERE attempt = $1 AND pending`,
        [attempt, table],
      )
      return
    }
    if (outcome === 'succeeded')
      // the failures of its first key settled before it was reserved (lower numbers than its own slot)
      await this.query(
        `WITH own AS (SELECT key, n FROM ${table} WHERE attempt = $1 ORDER BY n LIMIT 1)
         DELETE FROM ${table} t USING own WHERE t.key = own.key AND NOT t.pending AND t.n < own.n`,
        [attempt],
      )
    await this.query(`DELETE FROM ${table} WHERE attempt = $1`, [attempt])
  }

  onChange(listener: (change: CredentialChange) => void): () => void {
    return this.changes.add(listener)
  }

  async exportDurable(): Promise<CredentialDump> {
    return dumpPostgresCredentials(this.pool, this.tables())
  }

  async importDurable(dump: CredentialDump): Promise<void> {
    await restorePostgresCredentials(this.pool, this.tables(), dump)
    this.emit({ type: 'directory' })
    this.emit({ type: 'feeds' })
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1')
  }

  /** Drop the tables: for tests. */
  async drop(): Promise<void> {
    await this.query(
      `DROP TABLE IF EXISTS ${this.feedOut}, ${this.feedStates}, ${this.feeds}, ${this.members}, ${this.communities}, ${this.organisations}, ${this.sessions}, ${this.tokens}, ${this.accounts}, ${this.prefix}_login_attempts, ${this.prefix}_taxii_statuses, ${this.prefix}_schema_migrations`,
    )
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.changes.clear()
    await this.pool.end()
  }
}

/** Constraint failures become members of the error family. */
function translate(error: unknown, conflict: string, missing = 'not found'): unknown {
  const code = (error as { code?: string }).code
  if (code === '23505') return new WatchfloorError('conflict', conflict)
  if (code === '23503') return new WatchfloorError('not_found', missing)
  return unstorable(error)
}

/**
 * The last line of defence against input the routes should have refused: a value the database
 * cannot hold is a `validation` error, not an internal one. 22021: U+0000 in text (an invalid
 * byte sequence for UTF-8); 22P05: a character the encoding cannot represent; 22008: a time out
 * of the range of timestamptz.
 */
function unstorable(error: unknown): unknown {
  const code = (error as { code?: string }).code
  if (code === '22021' || code === '22P05')
    return new WatchfloorError('validation', 'the text holds a character the database cannot store (such as U+0000)')
  if (code === '22008') return new WatchfloorError('validation', 'a time is out of the range the database can store')
  return error
}

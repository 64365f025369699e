import { randomUUID } from 'node:crypto'
import { type FeedOutActivity, WatchfloorError } from '@watchfloor/protocol'
import Database from 'better-sqlite3'
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
import { type CredentialDump, dumpSqliteCredentials, restoreSqliteCredentials } from './credentials-backup.ts'
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
import { checkSqliteVersion, migrateSqlite } from './migrations.ts'
import { detectSqliteCredentials, SQLITE_CREDENTIAL_MIGRATIONS } from './schema-sqlite.ts'
import { secureSqliteFiles } from './sqlite.ts'

export interface SqliteCredentialStoreOptions {
  /** Path of the database file; the event log's file (`events.sqlite`) is the usual one. */
  file: string
  /**
   * Bring an older schema up to date on open (default true). False for a command that only reads:
   * nothing of the schema is written, and a file whose credentials schema is not this release's is
   * refused (`SchemaTooOldError`, `SchemaTooNewError`).
   */
  migrate?: boolean
}

/** A community with its members (a JSON array, in no particular order: `communityOf` sorts them). */
const COMMUNITY_SELECT = `SELECT c.id, c.name, c.created_at, c.updated_at,
    (SELECT json_group_array(m.organisation_id) FROM community_members m WHERE m.community_id = c.id) AS members
  FROM communities c`

/**
 * Accounts, tokens and sessions in SQLite: tables `accounts`, `api_tokens` and
 * `sessions` beside the event log in the same file, on a connection of their own
 * (WAL, synchronous=FULL, foreign keys on). Statements are synchronous, so they never
 * hold a lock across the event loop and never wait on the event store's group commit.
 * The directory: `organisations`, `communities`, and `community_members` (one row per
 * member, foreign keys to both); a write that checks before it writes does so in one
 * IMMEDIATE transaction, so no other writer comes between. Partner feeds: `feeds` (a foreign
 * key to their organisation; `auth` as JSON text) and `feed_states` (one row per feed once
 * polled or claimed, with the polling lease: `lease_holder`, `lease_expires_at`), deleted with
 * the feed. A claim is one statement, so processes sharing the file take turns by SQLite's lock.
 * Feeds out: `feed_out_activity`, one row per organisation and channel, one upsert per pull.
 * An account or a service token is created in one IMMEDIATE transaction that first looks for its
 * user id among the other organisations' principals, so two processes cannot both give one away.
 */
export class SqliteCredentialStore implements CredentialStore {
  readonly kind = 'sqlite'
  private readonly db: Database.Database
  private readonly changes = new ChangeListeners()
  private closed = false
  /** The files others could read or write that opening set to 0600 (`secureSqliteFiles`): a warning for the operator. */
  readonly tightened: readonly string[]

  constructor(options: SqliteCredentialStoreOptions) {
    this.tightened = secureSqliteFiles(options.file)
    this.db = new Database(options.file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.pragma('busy_timeout = 5000')
    this.db.pragma('foreign_keys = ON')
    try {
      if (options.migrate ?? true)
        migrateSqlite(this.db, 'credentials', SQLITE_CREDENTIAL_MIGRATIONS, detectSqliteCredentials)
      else checkSqliteVersion(this.db, 'credentials', SQLITE_CREDENTIAL_MIGRATIONS, detectSqliteCredentials)
    } catch (error) {
      this.db.close()
      throw error
    }
  }

  async createAccount(account: NewAccount): Promise<Account> {
    const now = new Date().toISOString()
    // one IMMEDIATE transaction: no other writer (another process on the file) comes between the look and the write
    this.db
      .transaction(() => {
        const taken = this.userIdTakenBy(account.username, account.organisation, false)
        if (taken) throw taken
        try {
          this.db
            .prepare(
              `INSERT INTO accounts (username, display_name, organisation, nation, roles, password_hash, disabled, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              account.username,
              account.displayName,
              account.organisation,
              account.nation,
              JSON.stringify(account.roles),
              account.passwordHash,
              account.disabled ? 1 : 0,
              now,
              now,
            )
        } catch (error) {
          throw translate(error, `account ${account.username} already exists`)
        }
      })
      .immediate()
    return (await this.getAccount(account.username))!
  }

  /**
   * Inside a transaction: the refusal when a principal of another organisation than `organisation`
   * has `userId` (a service token's identity, revoked or expired too; with `accounts`, an account,
   * disabled too), or null. Accounts need not look at accounts: a username is taken once anyway.
   */
  private userIdTakenBy(userId: string, organisation: string, accounts: boolean): WatchfloorError | null {
    if (accounts) {
      const holder = this.db
        .prepare<[string, string], string>('SELECT organisation FROM accounts WHERE username = ? AND organisation <> ?')
        .pluck()
        .get(userId, organisation)
      if (holder !== undefined) return userIdTaken(userId, holder, 'account')
    }
    const holder = this.db
      .prepare<[string, string], string>(
        `SELECT service_organisation FROM api_tokens WHERE service_user = ? AND service_organisation <> ?
         ORDER BY created_at, id LIMIT 1`,
      )
      .pluck()
      .get(userId, organisation)
    return holder === undefined ? null : userIdTaken(userId, holder, 'service token')
  }

  async getAccount(username: string): Promise<Account | null> {
    const row = this.db
      .prepare<[string], AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE username = ?`)
      .get(username)
    return row ? accountOf(row) : null
  }

  async getLogin(username: string): Promise<AccountLogin | null> {
    const row = this.db
      .prepare<[string], AccountRow & { password_hash: string | null }>(
        `SELECT ${ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE username = ?`,
      )
      .get(username)
    return row ? { account: accountOf(row), passwordHash: row.password_hash } : null
  }

  async listAccounts(): Promise<Account[]> {
    return this.db
      .prepare<[], AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY username`)
      .all()
      .map(accountOf)
  }

  async updateAccount(username: string, patch: AccountPatch): Promise<Account | null> {
    const sets: string[] = []
    const values: unknown[] = []
    const set = (column: string, value: unknown) => {
      sets.push(`${column} = ?`)
      values.push(value)
    }
    if (patch.displayName !== undefined) set('display_name', patch.displayName)
    if (patch.roles !== undefined) set('roles', JSON.stringify(patch.roles))
    if (patch.disabled !== undefined) set('disabled', patch.disabled ? 1 : 0)
    if (patch.passwordHash !== undefined) set('password_hash', patch.passwordHash)
    set('updated_at', new Date().toISOString())
    const result = this.db.prepare(`UPDATE accounts SET ${sets.join(', ')} WHERE username = ?`).run(...values, username)
    if (result.changes === 0) return null
    this.emit({ type: 'account', username })
    return this.getAccount(username)
  }

  async createToken(token: NewToken): Promise<TokenRecord> {
    checkTokenIdentity(token)
    const { service } = token
    const expiresAt = isoTimeOrNull(token.expiresAt, 'expiresAt')
    // a service identity's user id is looked up and written in one IMMEDIATE transaction
    this.db
      .transaction(() => {
        const taken = service ? this.userIdTakenBy(service.user, service.organisation, true) : null
        if (taken) throw taken
        try {
          this.db
            .prepare(
              `INSERT INTO api_tokens (${NEW_TOKEN_COLUMNS}) VALUES (${NEW_TOKEN_COLUMNS.split(',')
                .map(() => '?')
                .join(', ')})`,
            )
            .run(...newTokenValues(token, new Date().toISOString(), expiresAt))
        } catch (error) {
          throw translate(error, 'a token with this id or secret already exists', `no account ${token.owner}`)
        }
      })
      .immediate()
    return (await this.getToken(token.id))!
  }

  async findToken(secretHash: string): Promise<TokenRecord | null> {
    const row = this.db
      .prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = ?`)
      .get(secretHash)
    return row ? tokenOf(row) : null
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const row = this.db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`).get(id)
    return row ? tokenOf(row) : null
  }

  async listTokens(filter: { owner?: string } = {}): Promise<TokenRecord[]> {
    const rows =
      filter.owner === undefined
        ? this.db.prepare<[], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, id`).all()
        : this.db
            .prepare<[string], TokenRow>(
              `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE owner = ? ORDER BY created_at, id`,
            )
            .all(filter.owner)
    return rows.map(tokenOf)
  }

  async revokeToken(id: string, at: Date = new Date()): Promise<TokenRecord | null> {
    const result = this.db
      .prepare('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?')
      .run(at.toISOString(), id)
    if (result.changes === 0) return null
    this.emit({ type: 'token', id })
    return this.getToken(id)
  }

  async touchToken(id: string, at: Date): Promise<void> {
    this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(at.toISOString(), id)
  }

  async createSession(session: { idHash: string; account: string; expiresAt: string }): Promise<SessionRecord> {
    return this.insertSession(session)
  }

  private insertSession(session: { idHash: string; account: string; expiresAt: string }): SessionRecord {
    const createdAt = new Date().toISOString()
    const expiresAt = isoTime(session.expiresAt, 'expiresAt')
    try {
      this.db
        .prepare('INSERT INTO sessions (id_hash, account, created_at, expires_at) VALUES (?, ?, ?, ?)')
        .run(session.idHash, session.account, createdAt, expiresAt)
    } catch (error) {
      throw translate(error, 'a session with this id already exists', `no account ${session.account}`)
    }
    return { idHash: session.idHash, account: session.account, createdAt, expiresAt }
  }

  async signIn(
    session: { idHash: string; account: string; expiresAt: string },
    checked: { passwordHash: string; rehash?: string | undefined },
  ): Promise<SessionRecord | null> {
    isoTime(session.expiresAt, 'expiresAt') // a bad time is refused before anything is read
    return this.db.transaction(() => {
      const row = this.db
        .prepare<[string], { password_hash: string | null; disabled: number }>(
          'SELECT password_hash, disabled FROM accounts WHERE username = ?',
        )
        .get(session.account)
      if (row === undefined || row.disabled !== 0 || row.password_hash !== checked.passwordHash) return null
      if (checked.rehash !== undefined)
        this.db
          .prepare('UPDATE accounts SET password_hash = ?, updated_at = ? WHERE username = ?')
          .run(checked.rehash, new Date().toISOString(), session.account)
      return this.insertSession(session)
    })()
  }

  async findSession(idHash: string): Promise<SessionRecord | null> {
    const row = this.db
      .prepare<[string], SessionRow>('SELECT id_hash, account, created_at, expires_at FROM sessions WHERE id_hash = ?')
      .get(idHash)
    return row ? sessionOf(row) : null
  }

  async deleteSession(idHash: string): Promise<boolean> {
    const { changes } = this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash)
    if (changes > 0) this.emit({ type: 'session', idHash })
    return changes > 0
  }

  async deleteSessionsOf(account: string): Promise<number> {
    const { changes } = this.db.prepare('DELETE FROM sessions WHERE account = ?').run(account)
    if (changes > 0) this.emit({ type: 'account', username: account })
    return changes
  }

  async deleteExpiredSessions(now: Date): Promise<number> {
    return this.db.prepare('DELETE FROM sessions WHERE expires_at < ?').run(now.toISOString()).changes
  }

  async listOrganisations(): Promise<Organisation[]> {
    return this.db
      .prepare<[], OrganisationRow>(`SELECT ${ORGANISATION_COLUMNS} FROM organisations ORDER BY id`)
      .all()
      .map(organisationOf)
  }

  async getOrganisation(id: string): Promise<Organisation | null> {
    const row = this.db
      .prepare<[string], OrganisationRow>(`SELECT ${ORGANISATION_COLUMNS} FROM organisations WHERE id = ?`)
      .get(id)
    return row ? organisationOf(row) : null
  }

  async createOrganisation(input: NewOrganisation): Promise<Organisation> {
    const organisation = checkNewOrganisation(input)
    const now = new Date().toISOString()
    this.db
      .transaction(() => {
        if (this.db.prepare('SELECT 1 FROM communities WHERE id = ?').get(organisation.id))
          throw idTaken(organisation.id, 'community')
        try {
          this.db
            .prepare(
              'INSERT INTO organisations (id, name, nation, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
            )
            .run(organisation.id, organisation.name, organisation.nation, organisation.kind, now, now)
        } catch (error) {
          throw translate(error, `organisation ${organisation.id} already exists`)
        }
      })
      .immediate()
    this.emit({ type: 'directory' })
    return (await this.getOrganisation(organisation.id))!
  }

  async updateOrganisation(id: string, input: OrganisationPatch): Promise<Organisation | null> {
    const patch = checkOrganisationPatch(input)
    const sets: string[] = []
    const values: unknown[] = []
    const set = (column: string, value: unknown) => {
      sets.push(`${column} = ?`)
      values.push(value)
    }
    if (patch.name !== undefined) set('name', patch.name)
    if (patch.nation !== undefined) set('nation', patch.nation)
    if (patch.kind !== undefined) set('kind', patch.kind)
    const now = new Date().toISOString()
    set('updated_at', now)
    const changed = this.db
      .transaction(() => {
        const result = this.db.prepare(`UPDATE organisations SET ${sets.join(', ')} WHERE id = ?`).run(...values, id)
        // its accounts and service tokens are of its nation: they move with it
        if (result.changes > 0 && patch.nation !== undefined) {
          this.db
            .prepare('UPDATE accounts SET nation = ?, updated_at = ? WHERE organisation = ? AND nation <> ?')
            .run(patch.nation, now, id, patch.nation)
          this.db
            .prepare('UPDATE api_tokens SET service_nation = ? WHERE service_organisation = ?')
            .run(patch.nation, id)
        }
        return result.changes > 0
      })
      .immediate()
    if (!changed) return null
    this.emit({ type: 'directory' })
    return this.getOrganisation(id)
  }

  async deleteOrganisation(id: string): Promise<boolean> {
    const deleted = this.db
      .transaction(() => {
        if (!this.db.prepare('SELECT 1 FROM organisations WHERE id = ?').get(id)) return false
        const pluck = (sql: string) => this.db.prepare<[string, number], string>(sql).pluck().all(id, USES_NAMED)
        const inUse = organisationInUse(id, {
          communities: pluck(
            'SELECT community_id FROM community_members WHERE organisation_id = ? ORDER BY community_id LIMIT ?',
          ),
          accounts: pluck('SELECT username FROM accounts WHERE organisation = ? ORDER BY username LIMIT ?'),
          tokens: pluck('SELECT id FROM api_tokens WHERE service_organisation = ? ORDER BY id LIMIT ?'),
          feeds: pluck('SELECT id FROM feeds WHERE organisation = ? ORDER BY id LIMIT ?'),
        })
        if (inUse) throw inUse
        this.db.prepare('DELETE FROM organisations WHERE id = ?').run(id)
        return true
      })
      .immediate()
    if (deleted) this.emit({ type: 'directory' })
    return deleted
  }

  async listCommunities(): Promise<Community[]> {
    return this.db.prepare<[], CommunityRow>(`${COMMUNITY_SELECT} ORDER BY c.id`).all().map(communityOf)
  }

  async getCommunity(id: string): Promise<Community | null> {
    const row = this.db.prepare<[string], CommunityRow>(`${COMMUNITY_SELECT} WHERE c.id = ?`).get(id)
    return row ? communityOf(row) : null
  }

  async createCommunity(input: NewCommunity): Promise<Community> {
    const community = checkNewCommunity(input)
    const now = new Date().toISOString()
    this.db
      .transaction(() => {
        if (this.db.prepare('SELECT 1 FROM organisations WHERE id = ?').get(community.id))
          throw idTaken(community.id, 'organisation')
        try {
          this.db
            .prepare('INSERT INTO communities (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)')
            .run(community.id, community.name, now, now)
        } catch (error) {
          throw translate(error, `community ${community.id} already exists`)
        }
        this.setMembers(community.id, community.members)
      })
      .immediate()
    this.emit({ type: 'directory' })
    return (await this.getCommunity(community.id))!
  }

  async updateCommunity(id: string, input: CommunityPatch): Promise<Community | null> {
    const patch = checkCommunityPatch(input)
    const sets = ['updated_at = ?']
    const values: unknown[] = [new Date().toISOString()]
    if (patch.name !== undefined) {
      sets.push('name = ?')
      values.push(patch.name)
    }
    const updated = this.db
      .transaction(() => {
        const result = this.db.prepare(`UPDATE communities SET ${sets.join(', ')} WHERE id = ?`).run(...values, id)
        if (result.changes === 0) return false
        if (patch.members !== undefined) {
          this.db.prepare('DELETE FROM community_members WHERE community_id = ?').run(id)
          this.setMembers(id, patch.members)
        }
        return true
      })
      .immediate()
    if (!updated) return null
    this.emit({ type: 'directory' })
    return this.getCommunity(id)
  }

  /** Inside a transaction: adds the members, refusing any that is no organisation. */
  private setMembers(community: string, members: readonly string[]): void {
    const exists = this.db.prepare<[string], number>('SELECT 1 FROM organisations WHERE id = ?').pluck()
    const missing = missingMember(members, new Set(members.filter((member) => exists.get(member) !== undefined)))
    if (missing) throw missing
    const insert = this.db.prepare('INSERT INTO community_members (community_id, organisation_id) VALUES (?, ?)')
    for (const member of members) insert.run(community, member)
  }

  async deleteCommunity(id: string): Promise<boolean> {
    const { changes } = this.db.prepare('DELETE FROM communities WHERE id = ?').run(id)
    if (changes > 0) this.emit({ type: 'directory' })
    return changes > 0
  }

  async communitiesOf(organisation: string): Promise<string[]> {
    return this.db
      .prepare<[string], string>(
        'SELECT community_id FROM community_members WHERE organisation_id = ? ORDER BY community_id',
      )
      .pluck()
      .all(organisation)
  }

  async listFeeds(): Promise<Feed[]> {
    return this.db.prepare<[], FeedRow>(`SELECT ${FEED_COLUMNS} FROM feeds ORDER BY id`).all().map(feedOf)
  }

  async getFeed(id: string): Promise<Feed | null> {
    const row = this.db.prepare<[string], FeedRow>(`SELECT ${FEED_COLUMNS} FROM feeds WHERE id = ?`).get(id)
    return row ? feedOf(row) : null
  }

  async createFeed(input: NewFeed): Promise<Feed> {
    const feed = checkNewFeed(input)
    const now = new Date().toISOString()
    this.db
      .transaction(() => {
        if (!this.db.prepare('SELECT 1 FROM organisations WHERE id = ?').get(feed.organisation))
          throw noFeedOrganisation(feed.organisation)
        try {
          this.db
            .prepare(
              `INSERT INTO feeds (id, label, url, api_root, collection_id, organisation, auth, poll_seconds, default_tlp,
                 enabled, created_by, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              feed.id,
              feed.label,
              feed.url,
              feed.apiRoot,
              feed.collectionId,
              feed.organisation,
              JSON.stringify(feed.auth),
              feed.pollSeconds,
              feed.defaultTlp,
              feed.enabled ? 1 : 0,
              feed.createdBy,
              now,
              now,
            )
        } catch (error) {
          throw translate(error, `feed ${feed.id} already exists`)
        }
      })
      .immediate()
    this.emit({ type: 'feeds' })
    return (await this.getFeed(feed.id))!
  }

  async updateFeed(id: string, input: FeedPatch): Promise<Feed | null> {
    const patch = checkFeedPatch(input)
    const sets: string[] = []
    const values: unknown[] = []
    const set = (column: string, value: unknown) => {
      sets.push(`${column} = ?`)
      values.push(value)
    }
    if (patch.label !== undefined) set('label', patch.label)
    if (patch.url !== undefined) set('url', patch.url)
    if (patch.apiRoot !== undefined) set('api_root', patch.apiRoot)
    if (patch.collectionId !== undefined) set('collection_id', patch.collectionId)
    if (patch.auth !== undefined) set('auth', JSON.stringify(patch.auth))
    if (patch.pollSeconds !== undefined) set('poll_seconds', patch.pollSeconds)
    if (patch.defaultTlp !== undefined) set('default_tlp', patch.defaultTlp)
    if (patch.enabled !== undefined) set('enabled', patch.enabled ? 1 : 0)
    set('updated_at', new Date().toISOString())
    const result = this.db.prepare(`UPDATE feeds SET ${sets.join(', ')} WHERE id = ?`).run(...values, id)
    if (result.changes === 0) return null
    this.emit({ type: 'feeds' })
    return this.getFeed(id)
  }

  async deleteFeed(id: string): Promise<boolean> {
    // its state goes with it (ON DELETE CASCADE)
    const { changes } = this.db.prepare('DELETE FROM feeds WHERE id = ?').run(id)
    if (changes > 0) this.emit({ type: 'feeds' })
    return changes > 0
  }

  async getFeedState(id: string): Promise<FeedState | null> {
    const row = this.db
      .prepare<[string], FeedStateRow>(`SELECT ${FEED_STATE_COLUMNS} FROM feed_states WHERE feed_id = ?`)
      .get(id)
    return row ? feedStateOf(row) : null
  }

  async recordFeedState(id: string, state: Partial<FeedState>): Promise<FeedState> {
    const given = checkFeedState(id, state)
    const columns = given.map(([column]) => column)
    const update =
      columns.length === 0
        ? 'NOTHING'
        : `UPDATE SET ${columns.map((column) => `${column} = excluded.${column}`).join(', ')}`
    try {
      this.db
        .prepare(
          `INSERT INTO feed_states (feed_id${columns.map((column) => `, ${column}`).join('')})
           VALUES (?${', ?'.repeat(columns.length)}) ON CONFLICT (feed_id) DO ${update}`,
        )
        .run(id, ...given.map(([, value]) => value))
    } catch (error) {
      throw translate(error, `state of feed ${id} already exists`, noFeed(id).message)
    }
    return (await this.getFeedState(id))!
  }

  async claimFeed(id: string, holder: string, leaseMs: number): Promise<boolean> {
    checkLease(holder, leaseMs)
    const now = Date.now()
    try {
      const { changes } = this.db
        .prepare(
          `INSERT INTO feed_states (feed_id, lease_holder, lease_expires_at) VALUES (?, ?, ?)
           ON CONFLICT (feed_id) DO UPDATE SET lease_holder = excluded.lease_holder, lease_expires_at = excluded.lease_expires_at
           WHERE feed_states.lease_holder IS NULL OR feed_states.lease_holder = excluded.lease_holder
             OR feed_states.lease_expires_at <= ?`,
        )
        .run(id, holder, new Date(now + leaseMs).toISOString(), new Date(now).toISOString())
      return changes > 0
    } catch (error) {
      throw translate(error, `state of feed ${id} already exists`, noFeed(id).message)
    }
  }

  async releaseFeed(id: string, holder: string): Promise<boolean> {
    checkLease(holder)
    const { changes } = this.db
      .prepare(
        'UPDATE feed_states SET lease_holder = NULL, lease_expires_at = NULL WHERE feed_id = ? AND lease_holder = ?',
      )
      .run(id, holder)
    return changes > 0
  }

  async recordFeedOutPull(input: FeedOutPull): Promise<void> {
    const pull = checkFeedOutPull(input)
    // the old row's values on the right of each SET; ISO UTC text compares as time
    this.db
      .prepare(
        `INSERT INTO feed_out_activity (${FEED_OUT_COLUMNS})
         VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (organisation, channel) DO UPDATE SET
           pulls = pulls + 1,
           failed_pulls = failed_pulls + excluded.failed_pulls,
           objects_served = objects_served + excluded.objects_served,
           last_pull_objects = CASE WHEN excluded.last_pull_at >= last_pull_at
             THEN excluded.last_pull_objects ELSE last_pull_objects END,
           last_pull_at = max(last_pull_at, excluded.last_pull_at),
           last_success_at = CASE WHEN last_success_at IS NULL OR excluded.last_success_at > last_success_at
             THEN coalesce(excluded.last_success_at, last_success_at) ELSE last_success_at END,
           last_error_status = CASE WHEN last_error_at IS NULL OR excluded.last_error_at >= last_error_at
             THEN coalesce(excluded.last_error_status, last_error_status) ELSE last_error_status END,
           last_error_message = CASE WHEN last_error_at IS NULL OR excluded.last_error_at >= last_error_at
             THEN coalesce(excluded.last_error_message, last_error_message) ELSE last_error_message END,
           last_error_at = CASE WHEN last_error_at IS NULL OR excluded.last_error_at >= last_error_at
             THEN coalesce(excluded.last_error_at, last_error_at) ELSE last_error_at END`,
      )
      .run(
        pull.organisation,
        pull.channel,
        pull.failed,
        pull.objects,
        pull.objects,
        pull.at,
        pull.success,
        pull.errorStatus,
        pull.errorMessage,
        pull.errorAt,
      )
  }

  async listFeedOutActivity(filter: { organisation?: string } = {}): Promise<FeedOutActivity[]> {
    const select = `SELECT ${FEED_OUT_COLUMNS} FROM feed_out_activity`
    const rows =
      filter.organisation === undefined
        ? this.db.prepare<[], FeedOutActivityRow>(`${select} ORDER BY organisation, channel`).all()
        : this.db
            .prepare<[string], FeedOutActivityRow>(`${select} WHERE organisation = ? ORDER BY channel`)
            .all(filter.organisation)
    return rows.map(feedOutActivityOf)
  }

  async saveTaxiiStatus(status: TaxiiStatusRecord, keep = 10_000): Promise<void> {
    this.db
      .transaction(() => {
        this.db
          .prepare('INSERT OR REPLACE INTO taxii_statuses (id, owner, created_at, body) VALUES (?, ?, ?, ?)')
          .run(status.id, status.owner, status.createdAt.getTime(), status.body)
        this.db
          .prepare(
            'DELETE FROM taxii_statuses WHERE id IN (SELECT id FROM taxii_statuses ORDER BY created_at DESC, id LIMIT -1 OFFSET ?)',
          )
          .run(keep)
      })
      .immediate()
  }

  async getTaxiiStatus(id: string): Promise<TaxiiStatusRecord | null> {
    const row = this.db
      .prepare<[string], { id: string; owner: string; created_at: number; body: string }>(
        'SELECT id, owner, created_at, body FROM taxii_statuses WHERE id = ?',
      )
      .get(id)
    return row ? { id: row.id, owner: row.owner, body: row.body, createdAt: new Date(row.created_at) } : null
  }

  /** One write transaction: processes sharing the file count together. */
  async reserveSignIn(limits: readonly SignInLimit[], windowMs: number, now: number): Promise<SignInReservation> {
    return this.db
      .transaction((): SignInReservation => {
        // slots gone from the window: failures and attempts never settled (a process gone)
        this.db.prepare('DELETE FROM login_attempts WHERE at <= ?').run(now - windowMs)
        const slots = this.db
          .prepare<[string], number>('SELECT at FROM login_attempts WHERE key = ? ORDER BY at, n')
          .pluck()
        let waitMs = 0
        for (const limit of limits) waitMs = Math.max(waitMs, slotWait(slots.all(limit.key), limit.max, windowMs, now))
        if (waitMs > 0) return { ok: false, waitMs }
        const attempt = randomUUID()
        const insert = this.db.prepare<[string, string, number]>(
          'INSERT INTO login_attempts (attempt, key, at, pending) VALUES (?, ?, ?, 1)',
        )
        for (const limit of limits) insert.run(attempt, limit.key, now)
        return { ok: true, attempt }
      })
      .immediate()
  }

  async settleSignIn(attempt: string, outcome: SignInOutcome): Promise<void> {
    this.db
      .transaction(() => {
        const rows = this.db
          .prepare<[string], { n: number; key: string }>(
            'SELECT n, key FROM login_attempts WHERE attempt = ? AND pending = 1 ORDER BY n',
          )
          .all(attempt)
        if (outcome === 'failed') {
          // a new number: after every attempt reserved before it, so a success that began earlier keeps it
          const renumber = this.db.prepare<[number]>(
            'UPDATE login_attempts SET pending = 0, n = (SELECT max(n) + 1 FROM login_attempts) WHERE n = ?',
          )
          for (const row of rows) renumber.run(row.n)
          return
        }
        const own = rows[0]
        if (outcome === 'succeeded' && own)
          // the failures of its first key settled before it was reserved (lower numbers than its own slot)
          this.db
            .prepare<[string, number]>('DELETE FROM login_attempts WHERE key = ? AND pending = 0 AND n < ?')
            .run(own.key, own.n)
        this.db.prepare<[string]>('DELETE FROM login_attempts WHERE attempt = ?').run(attempt)
      })
      .immediate()
  }

  onChange(listener: (change: CredentialChange) => void): () => void {
    return this.changes.add(listener)
  }

  private emit(change: CredentialChange): void {
    if (!this.closed) this.changes.emit(change)
  }

  heard(change: CredentialChange): void {
    this.emit(change)
  }

  async exportDurable(): Promise<CredentialDump> {
    return dumpSqliteCredentials(this.db)
  }

  async importDurable(dump: CredentialDump): Promise<void> {
    restoreSqliteCredentials(this.db, dump)
    this.changes.emit({ type: 'directory' })
    this.changes.emit({ type: 'feeds' })
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.changes.clear()
    this.db.close()
  }
}

/** Constraint failures become members of the error family. */
function translate(error: unknown, conflict: string, missing = 'not found'): unknown {
  const code = (error as { code?: string }).code
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE')
    return new WatchfloorError('conflict', conflict)
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new WatchfloorError('not_found', missing)
  return error
}

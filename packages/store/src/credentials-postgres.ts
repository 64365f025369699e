import { randomUUID } from 'node:crypto'
import { WatchfloorError } from '@watchfloor/protocol'
import pg from 'pg'
import { ChannelListener } from './channel.ts'
import {
  type Account,
  type AccountLogin,
  type AccountPatch,
  ChangeListeners,
  type CredentialChange,
  type CredentialStore,
  type NewAccount,
  type NewToken,
  parseChange,
  type SessionRecord,
  type TokenRecord,
} from './credentials.ts'
import {
  ACCOUNT_COLUMNS,
  type AccountRow,
  accountOf,
  checkTokenIdentity,
  isoTime,
  isoTimeOrNull,
  type SessionRow,
  sessionOf,
  TOKEN_COLUMNS,
  type TokenRow,
  tokenOf,
} from './credentials-rows.ts'

export interface PostgresCredentialStoreOptions {
  connectionString: string
  /**
   * Prefix of the tables (`<prefix>_accounts`, `<prefix>_tokens`, `<prefix>_sessions`)
   * and of the change channel; letters, digits, underscores. Default `watchfloor`.
   */
  prefix?: string
  poolSize?: number
}

/**
 * Accounts, tokens and sessions in PostgreSQL, shared by every server process of
 * one log. Each change (a token revoked, a session ended, an account changed) is
 * NOTIFYed, so every process can drop the sockets it no longer trusts at once.
 */
export class PostgresCredentialStore implements CredentialStore {
  readonly kind = 'postgres'
  private readonly pool: pg.Pool
  private readonly accounts: string
  private readonly tokens: string
  private readonly sessions: string
  private readonly channel: string
  private readonly origin = randomUUID()
  private readonly changes = new ChangeListeners()
  private listener: ChannelListener | null = null
  private closed = false

  private constructor(
    private readonly options: PostgresCredentialStoreOptions,
    private readonly prefix: string,
  ) {
    this.accounts = `${prefix}_accounts`
    this.tokens = `${prefix}_tokens`
    this.sessions = `${prefix}_sessions`
    this.channel = `${prefix}_credentials`
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 2 })
    this.pool.on('error', () => {}) // an idle client lost: the next query reconnects
  }

  static async open(options: PostgresCredentialStoreOptions): Promise<PostgresCredentialStore> {
    const prefix = options.prefix ?? 'watchfloor'
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`invalid table prefix: ${prefix}`)
    const store = new PostgresCredentialStore(options, prefix)
    try {
      await store.migrate()
      await store.listen()
    } catch (error) {
      await store.close()
      throw error
    }
    return store
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect()
    const lockKey = hashKey(this.channel)
    try {
      await client.query('SELECT pg_advisory_lock($1)', [lockKey])
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.accounts} (
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
        CREATE TABLE IF NOT EXISTS ${this.tokens} (
          id text PRIMARY KEY,
          secret_hash text NOT NULL UNIQUE,
          label text NOT NULL,
          kind text NOT NULL CHECK (kind IN ('api', 'display')),
          owner text REFERENCES ${this.accounts} (username),
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
          expires_at timestamptz,
          CHECK ((owner IS NULL) <> (service_user IS NULL))
        );
        CREATE INDEX IF NOT EXISTS ${this.tokens}_owner ON ${this.tokens} (owner);
        CREATE TABLE IF NOT EXISTS ${this.sessions} (
          id_hash text PRIMARY KEY,
          account text NOT NULL REFERENCES ${this.accounts} (username) ON DELETE CASCADE,
          created_at timestamptz NOT NULL,
          expires_at timestamptz NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ${this.sessions}_account ON ${this.sessions} (account);
        CREATE INDEX IF NOT EXISTS ${this.sessions}_expires_at ON ${this.sessions} (expires_at);
      `)
      // a tokens table made before tokens could expire: its tokens never do. Looked up first, so
      // that opening an up-to-date database takes no exclusive lock on the table.
      const { rowCount } = await client.query(
        `SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'expires_at' AND NOT attisdropped`,
        [this.tokens],
      )
      if (!rowCount) await client.query(`ALTER TABLE ${this.tokens} ADD COLUMN IF NOT EXISTS expires_at timestamptz`)
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [lockKey]).catch(() => {})
      client.release()
    }
  }

  private async listen(): Promise<void> {
    this.listener = new ChannelListener(this.options.connectionString, this.channel, (payload) => {
      const separator = payload.indexOf(' ')
      if (separator < 0 || payload.slice(0, separator) === this.origin) return // our own change: already told
      const change = parseChange(payload.slice(separator + 1))
      if (change && !this.closed) this.changes.emit(change)
    })
    await this.listener.start()
  }

  /** Tell this process now, and the others through NOTIFY. */
  private async emit(change: CredentialChange): Promise<void> {
    if (this.closed) return
    this.changes.emit(change)
    await this.pool
      .query('SELECT pg_notify($1, $2)', [this.channel, `${this.origin} ${JSON.stringify(change)}`])
      .catch(() => {})
  }

  async createAccount(account: NewAccount): Promise<Account> {
    const now = new Date()
    try {
      const { rows } = await this.pool.query<AccountRow>(
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
  }

  async getAccount(username: string): Promise<Account | null> {
    const { rows } = await this.pool.query<AccountRow>(
      `SELECT ${ACCOUNT_COLUMNS} FROM ${this.accounts} WHERE username = $1`,
      [username],
    )
    return rows[0] ? accountOf(rows[0]) : null
  }

  async getLogin(username: string): Promise<AccountLogin | null> {
    const { rows } = await this.pool.query<AccountRow & { password_hash: string | null }>(
      `SELECT ${ACCOUNT_COLUMNS}, password_hash FROM ${this.accounts} WHERE username = $1`,
      [username],
    )
    const row = rows[0]
    return row ? { account: accountOf(row), passwordHash: row.password_hash } : null
  }

  async listAccounts(): Promise<Account[]> {
    const { rows } = await this.pool.query<AccountRow>(
      `SELECT ${ACCOUNT_COLUMNS} FROM ${this.accounts} ORDER BY username`,
    )
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
    const { rows } = await this.pool.query<AccountRow>(
      `UPDATE ${this.accounts} SET ${sets.join(', ')} WHERE username = $${values.length} RETURNING ${ACCOUNT_COLUMNS}`,
      values,
    )
    if (!rows[0]) return null
    await this.emit({ type: 'account', username })
    return accountOf(rows[0])
  }

  async createToken(token: NewToken): Promise<TokenRecord> {
    checkTokenIdentity(token)
    const { service } = token
    const expiresAt = isoTimeOrNull(token.expiresAt, 'expiresAt')
    try {
      const { rows } = await this.pool.query<TokenRow>(
        `INSERT INTO ${this.tokens} (id, secret_hash, label, kind, owner, service_user, service_organisation, service_nation,
           service_roles, service_sources, preset, tlp_ceiling, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING ${TOKEN_COLUMNS}`,
        [
          token.id,
          token.secretHash,
          token.label,
          token.kind,
          token.owner,
          service?.user ?? null,
          service?.organisation ?? null,
          service?.nation ?? null,
          service ? JSON.stringify(service.roles) : null,
          service ? JSON.stringify(service.sources) : null,
          token.preset,
          token.tlpCeiling,
          token.createdBy,
          new Date(),
          expiresAt,
        ],
      )
      return tokenOf(rows[0]!)
    } catch (error) {
      throw translate(error, 'a token with this id or secret already exists', `no account ${token.owner}`)
    }
  }

  async findToken(secretHash: string): Promise<TokenRecord | null> {
    const { rows } = await this.pool.query<TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM ${this.tokens} WHERE secret_hash = $1`,
      [secretHash],
    )
    return rows[0] ? tokenOf(rows[0]) : null
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const { rows } = await this.pool.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM ${this.tokens} WHERE id = $1`, [id])
    return rows[0] ? tokenOf(rows[0]) : null
  }

  async listTokens(filter: { owner?: string } = {}): Promise<TokenRecord[]> {
    const { rows } =
      filter.owner === undefined
        ? await this.pool.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM ${this.tokens} ORDER BY created_at, id`)
        : await this.pool.query<TokenRow>(
            `SELECT ${TOKEN_COLUMNS} FROM ${this.tokens} WHERE owner = $1 ORDER BY created_at, id`,
            [filter.owner],
          )
    return rows.map(tokenOf)
  }

  async revokeToken(id: string, at: Date = new Date()): Promise<TokenRecord | null> {
    const { rows } = await this.pool.query<TokenRow>(
      `UPDATE ${this.tokens} SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING ${TOKEN_COLUMNS}`,
      [at, id],
    )
    if (!rows[0]) return null
    await this.emit({ type: 'token', id })
    return tokenOf(rows[0])
  }

  async touchToken(id: string, at: Date): Promise<void> {
    await this.pool.query(`UPDATE ${this.tokens} SET last_used_at = $1 WHERE id = $2`, [at, id])
  }

  async createSession(session: { idHash: string; account: string; expiresAt: string }): Promise<SessionRecord> {
    try {
      const { rows } = await this.pool.query<SessionRow>(
        `INSERT INTO ${this.sessions} (id_hash, account, created_at, expires_at) VALUES ($1, $2, $3, $4)
         RETURNING id_hash, account, created_at, expires_at`,
        [session.idHash, session.account, new Date(), isoTime(session.expiresAt, 'expiresAt')],
      )
      return sessionOf(rows[0]!)
    } catch (error) {
      throw translate(error, 'a session with this id already exists', `no account ${session.account}`)
    }
  }

  async findSession(idHash: string): Promise<SessionRecord | null> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT id_hash, account, created_at, expires_at FROM ${this.sessions} WHERE id_hash = $1`,
      [idHash],
    )
    return rows[0] ? sessionOf(rows[0]) : null
  }

  async deleteSession(idHash: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${this.sessions} WHERE id_hash = $1`, [idHash])
    if (rowCount) await this.emit({ type: 'session', idHash })
    return Boolean(rowCount)
  }

  async deleteSessionsOf(account: string): Promise<number> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${this.sessions} WHERE account = $1`, [account])
    if (rowCount) await this.emit({ type: 'account', username: account })
    return rowCount ?? 0
  }

  async deleteExpiredSessions(now: Date): Promise<number> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${this.sessions} WHERE expires_at < $1`, [now])
    return rowCount ?? 0
  }

  onChange(listener: (change: CredentialChange) => void): () => void {
    return this.changes.add(listener)
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1')
  }

  /** Drop the tables: for tests. */
  async drop(): Promise<void> {
    await this.pool.query(`DROP TABLE IF EXISTS ${this.sessions}, ${this.tokens}, ${this.accounts}`)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.changes.clear()
    await this.listener?.close()
    await this.pool.end()
  }
}

/** Constraint failures become members of the error family. */
function translate(error: unknown, conflict: string, missing = 'not found'): unknown {
  const code = (error as { code?: string }).code
  if (code === '23505') return new WatchfloorError('conflict', conflict)
  if (code === '23503') return new WatchfloorError('not_found', missing)
  return error
}

function hashKey(text: string): number {
  let hash = 0x2545f491
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x5bd1e995)
  return hash | 0
}

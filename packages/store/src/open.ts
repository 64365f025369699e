import { join } from 'node:path'
import type { CredentialStore } from './credentials.ts'
import { PostgresCredentialStore } from './credentials-postgres.ts'
import { SqliteCredentialStore } from './credentials-sqlite.ts'
import { PostgresEventStore } from './postgres.ts'
import { SqliteEventStore } from './sqlite.ts'
import type { EventStore } from './types.ts'
import type { WritersClaimMode } from './writers-postgres.ts'

export interface OpenOptions {
  databaseUrl?: string | undefined
  dataDir: string
  /**
   * Bring an older schema up to date on open (default true, as a server does). False for a command
   * that only reads: a schema of another version than this release's is refused, never changed.
   */
  migrate?: boolean | undefined
  /**
   * PostgreSQL: claim the log as one of its writers (`PostgresStoreOptions.writers`): `shared` for a
   * server, `alone` for an import or a restore. A SQLite log has one writer whatever this says.
   */
  writers?: WritersClaimMode | undefined
}

/** The stores' `migrate` option, given only when false (the default migrates). */
const migrateOption = (options: OpenOptions) => (options.migrate === false ? { migrate: false } : {})

/**
 * The store a server runs on: PostgreSQL when a database URL is given, else SQLite under the data
 * folder, claimed as its one writer (`LogInUseError` while another process writes it).
 */
export async function openEventStore(options: OpenOptions): Promise<EventStore> {
  if (options.databaseUrl)
    return PostgresEventStore.open({
      connectionString: options.databaseUrl,
      ...migrateOption(options),
      ...(options.writers === undefined ? {} : { writers: options.writers }),
    })
  // a server is the log's one writer (writer.ts): a second server, an import or a restore is refused
  return new SqliteEventStore({ file: join(options.dataDir, 'events.sqlite'), writer: true, ...migrateOption(options) })
}

/** Accounts, tokens and sessions, in the same database as the event log. */
export async function openCredentialStore(
  options: OpenOptions & { credentialsPrefix?: string | undefined },
): Promise<CredentialStore> {
  if (options.databaseUrl)
    return PostgresCredentialStore.open({
      connectionString: options.databaseUrl,
      ...(options.credentialsPrefix ? { prefix: options.credentialsPrefix } : {}),
      ...migrateOption(options),
    })
  return new SqliteCredentialStore({ file: join(options.dataDir, 'events.sqlite'), ...migrateOption(options) })
}

export interface Stores {
  events: EventStore
  credentials: CredentialStore
  /**
   * SQLite files others could read or write, set to 0600 as they were opened (`secureSqliteFiles`;
   * none on PostgreSQL): the server warns of them once.
   */
  tightened: string[]
}

/**
 * The event log and the credentials against the same database: one SQLite file
 * (`events.sqlite`, 0600, in a folder made 0700) under the data folder, or one PostgreSQL database.
 */
export async function openStores(
  options: OpenOptions & { eventsTable?: string | undefined; credentialsPrefix?: string | undefined },
): Promise<Stores> {
  const events = options.databaseUrl
    ? await PostgresEventStore.open({
        connectionString: options.databaseUrl,
        ...(options.eventsTable ? { table: options.eventsTable } : {}),
        ...migrateOption(options),
        // a server appends beside the others: a restore is refused while any runs, and it while one is
        writers: options.writers ?? 'shared',
      })
    : await openEventStore(options)
  try {
    const credentials = await openCredentialStore(options)
    const tightened = [events, credentials].flatMap((store) =>
      store instanceof SqliteEventStore || store instanceof SqliteCredentialStore ? store.tightened : [],
    )
    return { events, credentials, tightened }
  } catch (error) {
    await events.close()
    throw error
  }
}

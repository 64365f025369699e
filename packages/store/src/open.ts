import { join } from 'node:path'
import { PostgresEventStore } from './postgres.ts'
import { SqliteEventStore } from './sqlite.ts'
import type { EventStore } from './types.ts'

/** The store a server runs on: PostgreSQL when a database URL is given, else SQLite under the data folder. */
export async function openEventStore(options: {
  databaseUrl?: string | undefined
  dataDir: string
}): Promise<EventStore> {
  if (options.databaseUrl) return PostgresEventStore.open({ connectionString: options.databaseUrl })
  return new SqliteEventStore({ file: join(options.dataDir, 'events.sqlite') })
}

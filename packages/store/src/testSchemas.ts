import { randomUUID } from 'node:crypto'
import pg from 'pg'

/**
 * For tests: schemas of their own in one database, each reached by a connection string whose
 * `search_path` is it (as a deployment gives each log its schema).
 */
export function testSchemas(connectionString: string, count: number) {
  const names = Array.from({ length: count }, () => `wf_test_scope_${randomUUID().replaceAll('-', '').slice(0, 12)}`)
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  return {
    names,
    url: (schema: string) =>
      `${connectionString}${connectionString.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`,
    async create(): Promise<void> {
      for (const name of names) await admin(`CREATE SCHEMA ${name}`)
    },
    async drop(): Promise<void> {
      for (const name of names) await admin(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
    },
  }
}

/** For tests: the tables whose names start with `prefix` (a store's tables share its name), sorted. */
export async function tablesStartingWith(connectionString: string, prefix: string): Promise<string[]> {
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    const { rows } = await client.query<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE left(tablename, length($1)) = $1 ORDER BY tablename',
      [prefix],
    )
    return rows.map((row) => row.tablename)
  } finally {
    await client.end()
  }
}

import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { expect } from 'vitest'
import { type ServerProcess, startServerProcess, tokensWithAdmin } from './harness.ts'

/**
 * For the input-*.int.test.ts files: a real server process on either store, with the harness's
 * principals and a static admin; on PostgreSQL in a schema of its own, dropped when it stops.
 */

export const ADMIN = 'static-admin-token-0123456789'
export const BACKENDS = ['sqlite', 'postgres'] as const
export type Backend = (typeof BACKENDS)[number]

const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test'

async function onPostgres(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** Start a server on `backend`; its `stop` also removes its token file and its PostgreSQL schema. */
export async function inputServer(backend: Backend, env: Record<string, string> = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-input-'))
  const schema = `wf_input_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const cleanUp = async () => {
    if (backend === 'postgres') await onPostgres(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    rmSync(dir, { recursive: true, force: true })
  }
  const all: Record<string, string> = {
    WATCHFLOOR_TOKENS: tokensWithAdmin(dir, ADMIN),
    WATCHFLOOR_PASSWORD_COST: '12',
    ...env,
  }
  if (backend === 'postgres') {
    await onPostgres(`CREATE SCHEMA ${schema}`)
    all.WATCHFLOOR_DATABASE_URL = `${POSTGRES}?options=-c%20search_path%3D${schema}`
  }
  let server: ServerProcess
  try {
    server = await startServerProcess({ env: all })
  } catch (error) {
    await cleanUp()
    throw error
  }
  return {
    ...server,
    async stop() {
      await server.stop()
      await cleanUp()
    },
  }
}

export interface Reply {
  status: number
  json: { error?: { code: string; message: string; details?: { issues?: { path: string }[] } } } & Record<
    string,
    unknown
  >
}

/**
 * One HTTP call with a bearer token (`null`: none) and, unless it is undefined, a JSON body given
 * as text (so `\u0000` escapes and lone surrogates reach the server as they are written).
 */
export async function call(
  base: string,
  method: string,
  path: string,
  token: string | null,
  body?: string | object,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  })
  const text = await response.text()
  return { status: response.status, json: text ? JSON.parse(text) : {} }
}

/** The paths of a validation error's issues. */
export function issuePaths(reply: Reply): string[] {
  return (reply.json.error?.details?.issues ?? []).map((issue) => issue.path)
}

/** A 400 `validation` whose issues name `field` (or end with `.field`). */
export function expectRefused(reply: Reply, field: string): void {
  expect(reply.status, JSON.stringify(reply.json)).toBe(400)
  expect(reply.json.error?.code).toBe('validation')
  const paths = issuePaths(reply)
  expect(
    paths.some((path) => path === field || path.endsWith(`.${field}`)),
    paths.join(),
  ).toBe(true)
}

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { type ErrorBody, PROTOCOL_VERSION } from '@watchfloor/protocol'
import { io } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getJson, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

const root = new URL('../../../', import.meta.url).pathname
/** The product's version: the root package.json's. */
const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version
/** This checkout's commit, as git says it (a .git is here, so it wins over WATCHFLOOR_COMMIT). */
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()

/** A handshake with `auth`: resolves `connected`, or with the `connect_error`'s message and body. */
function handshake(
  url: string,
  auth: Record<string, unknown>,
): Promise<'connected' | { message: string; data: ErrorBody }> {
  const socket = io(url, { transports: ['websocket'], auth, reconnection: false, forceNew: true })
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.close()
      resolve('connected')
    })
    socket.once('connect_error', (error: Error & { data?: unknown }) => {
      socket.close()
      resolve({ message: error.message, data: error.data as ErrorBody })
    })
  })
}

describe('release 0.1: one version, and the protocol checked on connect', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await startServerProcess({ env: { WATCHFLOOR_COMMIT: 'from-the-environment' } })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('has a product version and a commit to show', () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+/)
    expect(commit).toMatch(/^[0-9a-f]{4,40}$/)
  })

  it('/healthz answers the product version, the commit and the protocol version', async () => {
    const health = await getJson(`${server.url}/healthz`, null)
    expect(health).toEqual({ status: 200, json: { status: 'ok', version, commit, protocolVersion: PROTOCOL_VERSION } })
  })

  it("the OpenAPI document's info.version is the product's; the protocol's is beside it", async () => {
    const { json } = await getJson<{ info: Record<string, unknown> }>(`${server.url}/api/v1/openapi.json`, null)
    expect(json.info.version).toBe(version)
    expect(json.info['x-protocol-version']).toBe(PROTOCOL_VERSION)
    expect(json.info.description).toContain(`is ${PROTOCOL_VERSION}`)
  })

  it('the start line names the version and the commit', () => {
    expect(server.output()).toContain(`Watchfloor ${version} (commit ${commit}) listening on ${server.url}`)
  })

  it('refuses a handshake of another protocol version with protocol_mismatch, naming both versions', async () => {
    const other = PROTOCOL_VERSION + 1
    const refused = await handshake(server.url, { token: TOKENS.viewerEe, protocolVersion: other })
    expect(refused).not.toBe('connected')
    if (refused === 'connected') return
    expect(refused.message).toMatch(/^protocol_mismatch: /)
    expect(refused.message).toContain(`protocol version ${other}, this server ${PROTOCOL_VERSION}`)
    expect(refused.data).toEqual({
      code: 'protocol_mismatch',
      message: refused.message.replace(/^protocol_mismatch: /, ''),
      details: { client: other, server: PROTOCOL_VERSION },
    })
    // the protocol is checked before the credential: a bad token of another version hears of the version
    const unknown = await handshake(server.url, { token: 'no-such-token', protocolVersion: 0 })
    expect(unknown).toMatchObject({ data: { code: 'protocol_mismatch', details: { client: 0 } } })
    // not a version at all is another version too
    const garbage = await handshake(server.url, { token: TOKENS.viewerEe, protocolVersion: { v: 1 } })
    expect(garbage).toMatchObject({ data: { code: 'protocol_mismatch', details: { client: '{"v":1}' } } })
  })

  it('accepts a handshake with the same protocol version, or with none (outside tools)', async () => {
    expect(await handshake(server.url, { token: TOKENS.viewerEe, protocolVersion: PROTOCOL_VERSION })).toBe('connected')
    expect(await handshake(server.url, { token: TOKENS.viewerEe, protocolVersion: String(PROTOCOL_VERSION) })).toBe(
      'connected',
    )
    expect(await handshake(server.url, { token: TOKENS.viewerEe })).toBe('connected')
    // accepted by the protocol, still refused without a credential
    expect(await handshake(server.url, { protocolVersion: PROTOCOL_VERSION })).toMatchObject({
      data: { code: 'unauthenticated' },
    })
  })
})

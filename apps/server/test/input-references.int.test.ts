import { randomUUID } from 'node:crypto'
import type { ClientToServerEvents, ServerToClientEvents } from '@watchfloor/protocol'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, type ServerProcess, TOKENS } from './harness.ts'
import { ADMIN, BACKENDS, call, expectRefused, inputServer } from './input-servers.ts'

/**
 * Requests that name something that is not there, or say it in a way the server did not read:
 * each is refused with a 400 naming the field (not a 201 for a token nobody can use, not a 404 as
 * if the community itself were missing), a query given twice is not read as no filter, a
 * cleared session cookie beside a live one does not hide it, and a socket message nobody handles
 * is answered.
 */

type Client = Socket<ServerToClientEvents, ClientToServerEvents>

function connect(url: string, options: { token: string } | { cookie: string }): Promise<Client> {
  const auth = 'token' in options ? { auth: { token: options.token } } : { extraHeaders: { cookie: options.cookie } }
  const socket: Client = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...auth })
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket))
    socket.once('connect_error', reject)
  })
}

describe.each(BACKENDS)('references and requests on %s', (backend) => {
  let server: ServerProcess
  const sockets: Client[] = []
  const incidentId = `inc-${randomUUID()}`
  beforeAll(async () => {
    server = await inputServer(backend)
    const account = {
      username: 'alice',
      organisation: 'cert-ee',
      roles: ['coordinator'],
      password: 'correct horse battery staple',
    }
    expect((await call(server.url, 'POST', '/api/v1/accounts', ADMIN, account)).status).toBe(201)
    const report = event({
      type: 'incident.reported',
      payload: { incidentId, title: 'Wiper', severity: 'high', category: 'malware', affectedNetworks: [] },
    } as never)
    expect((await call(server.url, 'POST', '/api/v1/events', TOKENS.sensorEe, report)).status).toBe(201)
  })
  afterAll(async () => {
    for (const socket of sockets) socket.close()
    await server?.stop()
  })

  it('a display token naming a preset the server has not is a 400 naming preset; one it has is made', async () => {
    const display = (preset: string) =>
      call(server.url, 'POST', '/api/v1/tokens', ADMIN, {
        label: 'lobby wall',
        kind: 'display',
        service: { user: `wall-${preset}`, organisation: 'cert-ee', roles: ['watch_officer'] },
        preset,
      })
    expectRefused(await display('nonexistent-preset'), 'preset')
    expectRefused(await display('constructor'), 'preset')
    expect((await display('overview')).status).toBe(201)
  })

  it('a task for a team that is no organisation of the directory is a 400 naming assignee, on REST and the socket', async () => {
    const create = (organisation: string) =>
      call(server.url, 'POST', '/api/v1/commands', TOKENS.coordEeA, {
        type: 'task.create',
        incidentId,
        title: 'Contain',
        assignee: { kind: 'team', organisation },
      })
    const unknown = await create('nonexist-org')
    expectRefused(unknown, 'assignee.organisation')
    // said in plain words: what a team is, and how to name one
    expect(JSON.stringify(unknown.json)).toContain(
      'no organisation \\"nonexist-org\\": a task\'s team is an organisation',
    )
    expect(JSON.stringify(unknown.json)).not.toContain('picture')
    expectRefused(await create('__proto__'), 'assignee.organisation')
    const made = await create('cert-lv')
    expect(made.status, JSON.stringify(made.json)).toBe(200)
    const taskId = (made.json.events as { payload: { taskId: string } }[])[0]!.payload.taskId
    const assign = await call(server.url, 'POST', '/api/v1/commands', TOKENS.coordEeA, {
      type: 'task.assign',
      taskId,
      assignee: { kind: 'team', organisation: 'nonexist-org' },
    })
    expectRefused(assign, 'assignee.organisation')
    const socket = await connect(server.url, { token: TOKENS.coordEeA })
    sockets.push(socket)
    const ack = await socket.timeout(10_000).emitWithAck('command', {
      type: 'task.assign',
      taskId,
      assignee: { kind: 'team', organisation: 'nonexist-org' },
    })
    expect(ack).toMatchObject({
      ok: false,
      error: { code: 'validation', details: { issues: [{ path: 'assignee.organisation' }] } },
    })
  })

  it("a team the caller's picture names (a relay's organisation with no account here) is accepted; one only a hidden network names is not", async () => {
    // a relay posting for cert-si, an organisation the directory does not hold
    const relay = await call(server.url, 'POST', '/api/v1/tokens', ADMIN, {
      label: 'relay for cert-si',
      service: { user: 'relay-si', organisation: 'alliance', roles: ['sensor'], sources: ['cert-si'] },
    })
    expect(relay.status, JSON.stringify(relay.json)).toBe(201)
    const relaySecret = relay.json.secret as string
    const network = (networkId: string, tlp: string) =>
      call(server.url, 'POST', '/api/v1/events', relaySecret, {
        id: randomUUID(),
        type: 'network.registered',
        occurredAt: new Date().toISOString(),
        source: { organisation: 'cert-si' },
        marking: { tlp },
        payload: {
          networkId,
          name: `Slovenia ${networkId}`,
          organisation: 'cert-si',
          nation: 'SI',
          kind: 'national-cert',
          location: { lat: 46.05, lon: 14.5 },
        },
      })
    const create = () =>
      call(server.url, 'POST', '/api/v1/commands', TOKENS.coordEeA, {
        type: 'task.create',
        incidentId,
        title: 'Ask Slovenia',
        assignee: { kind: 'team', organisation: 'cert-si' },
      })
    // only an AMBER network of cert-si, which cert-ee may not see: as unknown as no organisation
    expect((await network('si-hidden', 'AMBER')).status).toBe(201)
    const hidden = await create()
    expectRefused(hidden, 'assignee.organisation')
    expect(hidden.json.error?.message).toBe(
      (
        await call(server.url, 'POST', '/api/v1/commands', TOKENS.coordEeA, {
          type: 'task.create',
          incidentId,
          title: 'Ask Slovenia',
          assignee: { kind: 'team', organisation: 'nonexist-org' },
        })
      ).json.error?.message?.replace('nonexist-org', 'cert-si'),
    )
    // a GREEN one: cert-ee's picture names cert-si, and its team may take the task
    expect((await network('si-open', 'GREEN')).status).toBe(201)
    const made = await create()
    expect(made.status, JSON.stringify(made.json)).toBe(200)
  })

  it('a community whose member is no organisation is a 400 naming members, not a 404', async () => {
    const made = await call(server.url, 'POST', '/api/v1/directory/communities', ADMIN, {
      id: 'ghosts',
      name: 'Ghosts',
      members: ['cert-ee', 'nonexist'],
    })
    expectRefused(made, 'members')
    expect(made.json.error?.message).toContain('nonexist')
    const real = { id: 'baltic-certs', name: 'Baltic CERTs', members: ['cert-ee'] }
    expect((await call(server.url, 'POST', '/api/v1/directory/communities', ADMIN, real)).status).toBe(201)
    const patched = await call(server.url, 'PATCH', '/api/v1/directory/communities/baltic-certs', ADMIN, {
      members: ['nonexist'],
    })
    expectRefused(patched, 'members')
    // a community that is not there is still a 404
    const missing = await call(server.url, 'PATCH', '/api/v1/directory/communities/nowhere', ADMIN, { name: 'N' })
    expect(missing.status).toBe(404)
  })

  it('GET /api/v1/tokens with owner given twice, as a list or unknown parameters is a 400, never every token', async () => {
    for (const query of ['owner=nobody&owner=nobody2', 'owner[]=nobody', 'owner%5B%5D=nobody', 'ownr=nobody']) {
      const reply = await call(server.url, 'GET', `/api/v1/tokens?${query}`, ADMIN)
      expect(reply.status, `${query}: ${JSON.stringify(reply.json)}`).toBe(400)
      expect(reply.json.error?.code).toBe('validation')
      expect(reply.json.tokens).toBeUndefined()
    }
    expectRefused(await call(server.url, 'GET', '/api/v1/tokens?owner=nobody&owner=nobody2', ADMIN), 'owner')
    const none = await call(server.url, 'GET', '/api/v1/tokens?owner=nobody', ADMIN)
    expect(none).toMatchObject({ status: 200, json: { tokens: [] } })
  })

  it('a cleared session cookie before the live one does not hide it, on REST and the socket', async () => {
    const signedIn = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'correct horse battery staple' }),
    })
    expect(signedIn.status).toBe(200)
    const live = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!
    expect(live).toMatch(/^watchfloor_session=.+/)
    const cookie = `watchfloor_session=; ${live}`
    const session = await call(server.url, 'GET', '/api/v1/session', null, undefined, { cookie })
    expect(session).toMatchObject({ status: 200, json: { user: 'alice' } })
    const socket = await connect(server.url, { cookie })
    sockets.push(socket)
    expect(await socket.timeout(10_000).emitWithAck('subscribe', { after: 0 })).toMatchObject({ ok: true })
  })

  it('a socket message no handler knows is answered with a validation error, and the socket stays well', async () => {
    const socket = await connect(server.url, { token: TOKENS.viewerEe })
    sockets.push(socket)
    const loose = socket as unknown as {
      timeout(ms: number): { emitWithAck(name: string, ...args: unknown[]): Promise<unknown> }
    }
    for (const name of ['nope', 'constructor', 'toString', '__proto__', 'hasOwnProperty'])
      expect(await loose.timeout(5000).emitWithAck(name, {})).toEqual({
        ok: false,
        error: { code: 'validation', message: `unknown message ${name}` },
      })
    // without a body as well
    expect(await loose.timeout(5000).emitWithAck('nope')).toMatchObject({ ok: false, error: { code: 'validation' } })
    expect(await socket.timeout(10_000).emitWithAck('subscribe', { after: 0 })).toMatchObject({ ok: true })
    expect(socket.connected).toBe(true)
  })
})

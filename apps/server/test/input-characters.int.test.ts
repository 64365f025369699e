import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, type ServerProcess, TOKENS } from './harness.ts'
import { ADMIN, BACKENDS, call, expectRefused, inputServer } from './input-servers.ts'

/**
 * Names, labels, display names, usernames and ids refuse control characters (U+0000 among them:
 * PostgreSQL text cannot hold it, and it answered 500), bidirectional overrides and lone
 * surrogates with a 400 naming the field, on both stores alike; ids in a path or a query that
 * hold one are no entry's (404) or a 400, and never reach the store. Free text refuses U+0000 and
 * lone surrogates only.
 */

/** What the request bodies below carry, as JSON text: U+0000, U+202E (a bidi override), a lone surrogate. */
const BAD = ['\\u0000', '\\u202e', '\\ud800'] as const

describe.each(BACKENDS)('control characters in input on %s', (backend) => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await inputServer(backend)
    const alice = {
      username: 'alice',
      organisation: 'cert-ee',
      roles: ['analyst'],
      password: 'correct horse battery staple',
    }
    expect((await call(server.url, 'POST', '/api/v1/accounts', ADMIN, alice)).status).toBe(201)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('signing in with a username holding U+0000 is a 400 naming username, before any sign-in', async () => {
    const reply = await call(
      server.url,
      'POST',
      '/api/v1/session',
      null,
      '{"username":"a\\u0000b","password":"whatever-password"}',
    )
    expectRefused(reply, 'username')
  })

  it('token labels, display names, organisation and feed names refuse each of them, naming the field', async () => {
    for (const bad of BAD) {
      const token = await call(server.url, 'POST', '/api/v1/tokens', ADMIN, `{"label":"x${bad}","owner":"alice"}`)
      expectRefused(token, 'label')
      const patch = await call(server.url, 'PATCH', '/api/v1/accounts/alice', ADMIN, `{"displayName":"A${bad}"}`)
      expectRefused(patch, 'displayName')
      const organisation = await call(
        server.url,
        'POST',
        '/api/v1/directory/organisations',
        ADMIN,
        `{"id":"bad-org","name":"Bad${bad} org","nation":"EE","kind":"industry"}`,
      )
      expectRefused(organisation, 'name')
      const community = await call(
        server.url,
        'POST',
        '/api/v1/directory/communities',
        ADMIN,
        `{"id":"bad-community","name":"${bad}"}`,
      )
      expectRefused(community, 'name')
      const feed = await call(
        server.url,
        'POST',
        '/api/v1/feeds',
        ADMIN,
        `{"id":"bad-feed","label":"Feed ${bad}","url":"https://taxii.example.org/taxii2/","apiRoot":"api","collectionId":"c1","organisation":"cert-ee"}`,
      )
      expectRefused(feed, 'label')
      const service = await call(
        server.url,
        'POST',
        '/api/v1/tokens',
        ADMIN,
        `{"label":"relay","service":{"user":"relay${bad}","organisation":"cert-ee","roles":["sensor"]}}`,
      )
      expectRefused(service, 'service.user')
    }
    // nothing of them was kept
    const directory = await call(server.url, 'GET', '/api/v1/directory', ADMIN)
    expect(JSON.stringify(directory.json)).not.toMatch(/bad-org|bad-community/)
    expect((await call(server.url, 'GET', '/api/v1/feeds/bad-feed', ADMIN)).status).toBe(404)
    const account = (await call(server.url, 'GET', '/api/v1/accounts', ADMIN)).json.accounts as { username: string }[]
    expect(account.find((a) => a.username === 'alice')).toMatchObject({ displayName: 'alice' })
  })

  it('an empty or too long name is told so in plain words, naming the field', async () => {
    const empty = await call(server.url, 'POST', '/api/v1/accounts', ADMIN, {
      username: 'plain-words',
      organisation: '',
      roles: ['watch_officer'],
      password: 'a long enough passphrase',
    })
    expectRefused(empty, 'organisation')
    expect(JSON.stringify(empty.json)).toContain('must not be empty')
    expect(JSON.stringify(empty.json)).not.toMatch(/Too small|>=1/)
    const long = await call(server.url, 'POST', '/api/v1/directory/communities', ADMIN, {
      id: 'long-name',
      name: 'x'.repeat(500),
    })
    expectRefused(long, 'name')
    expect(JSON.stringify(long.json)).toMatch(/must be at most \d+ characters/)
  })

  it("zod's own messages reach no one: no roles, an unknown role, a missing field, a field the body does not take", async () => {
    const body = {
      username: 'plain-roles',
      organisation: 'cert-ee',
      roles: [] as string[],
      password: 'a long enough passphrase',
    }
    const none = await call(server.url, 'POST', '/api/v1/accounts', ADMIN, body)
    expectRefused(none, 'roles')
    expect(JSON.stringify(none.json)).toContain('choose at least one role')
    const unknown = await call(server.url, 'POST', '/api/v1/accounts', ADMIN, { ...body, roles: ['chief'] })
    expectRefused(unknown, 'roles.0')
    expect(JSON.stringify(unknown.json)).toContain('must be one of sensor, watch_officer')
    const { password: _password, ...missing } = body
    const noPassword = await call(server.url, 'POST', '/api/v1/accounts', ADMIN, { ...missing, roles: ['analyst'] })
    expectRefused(noPassword, 'password')
    expect(JSON.stringify(noPassword.json)).toContain('is required')
    const extra = await call(server.url, 'POST', '/api/v1/accounts', ADMIN, { ...body, roles: ['analyst'], colour: 1 })
    expect(extra.status).toBe(400)
    expect(JSON.stringify(extra.json)).toContain('a field this does not take: colour')
    // a sensor's events, and a command: their `type` left out or one there is not
    const { type: _type, ...untyped } = event({
      type: 'incident.reported',
      payload: {
        incidentId: 'inc-plain-words',
        title: 'Plain words',
        severity: 'low',
        category: 'malware',
        affectedNetworks: [],
      },
    } as never) as unknown as Record<string, unknown>
    const noType = await call(server.url, 'POST', '/api/v1/events', TOKENS.sensorEe, { events: [untyped] })
    expectRefused(noType, 'events.0.type')
    expect(JSON.stringify(noType.json)).toContain('events.0.type: is required')
    const badType = await call(server.url, 'POST', '/api/v1/events', TOKENS.sensorEe, {
      events: [{ ...untyped, type: 'incident.opened' }],
    })
    expectRefused(badType, 'events.0.type')
    expect(JSON.stringify(badType.json)).toContain('must be one of network.registered, network.posture_changed')
    const command = await call(server.url, 'POST', '/api/v1/commands', TOKENS.coordEeA, { type: 'incident.shout' })
    expectRefused(command, 'type')
    for (const reply of [none, unknown, noPassword, extra, noType, badType, command])
      expect(JSON.stringify(reply.json)).not.toMatch(
        /Too small|Invalid input|Invalid option|Invalid discriminator|Unrecognized key|>=/,
      )
  })

  it('a body that is JSON but no object is told so, not that it is not JSON; one that is not JSON is', async () => {
    const routes: [string, string][] = [
      ['/api/v1/events', TOKENS.sensorEe],
      ['/api/v1/commands', TOKENS.coordEeA],
      ['/api/v1/accounts', ADMIN],
    ]
    for (const [path, token] of routes) {
      const send = async (body: string) => {
        const response = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
        })
        return {
          status: response.status,
          message: ((await response.json()) as { error: { message: string } }).error.message,
        }
      }
      for (const [body, what] of [
        ['null', 'null'],
        ['"x"', 'a string'],
        ['42', 'a number'],
        ['true', 'a boolean'],
      ])
        expect(await send(body!), `${path} ${body}`).toEqual({
          status: 400,
          message: `request body must be a JSON object, not ${what}`,
        })
      for (const body of ['{x', 'nul', '"x'])
        expect(await send(body), `${path} ${body}`).toEqual({ status: 400, message: 'request body is not valid JSON' })
    }
  })

  it('right-to-left names pasted with their embeddings or isolates closed are kept; one left open is refused', async () => {
    const named = (id: string, name: string) =>
      call(server.url, 'POST', '/api/v1/directory/organisations', ADMIN, { id, name, nation: 'IL', kind: 'industry' })
    for (const [id, name] of [
      ['rtl-isolated', '\u2068المركز الوطني\u2069 (CERT)'],
      ['rtl-embedded', '\u202bמערך הסייבר הלאומי\u202c'],
      ['rtl-plain', 'المركز الوطني للأمن السيبراني'],
    ] as const) {
      const reply = await named(id, name)
      expect(reply.status, `${id}: ${JSON.stringify(reply.json)}`).toBe(201)
      expect((reply.json.organisation as { name: string }).name).toBe(name)
    }
    expectRefused(await named('rtl-open', '\u2068المركز الوطني (CERT)'), 'name')
    expectRefused(await named('rtl-crossed', '\u202bA\u2068B\u202cC\u2069'), 'name')
  })

  it('ids in paths and queries holding U+0000 are no entry’s: 404, or a 400 naming the parameter', async () => {
    const notFound = [
      ['DELETE', '/api/v1/tokens/%00'],
      ['PATCH', '/api/v1/accounts/%00'],
      ['GET', '/api/v1/feeds/%00'],
      ['PATCH', '/api/v1/feeds/%00'],
      ['DELETE', '/api/v1/feeds/%00'],
      ['PATCH', '/api/v1/directory/organisations/%00'],
      ['DELETE', '/api/v1/directory/organisations/%00'],
      ['PATCH', '/api/v1/directory/communities/%E2%80%AE'],
      ['DELETE', '/api/v1/directory/communities/%00'],
    ] as const
    for (const [method, path] of notFound) {
      const field = path.includes('accounts') ? 'displayName' : path.includes('feeds') ? 'label' : 'name'
      const body = method === 'PATCH' ? { [field]: 'A' } : undefined
      const reply = await call(server.url, method, path, ADMIN, body)
      expect(reply.status, `${method} ${path}: ${JSON.stringify(reply.json)}`).toBe(404)
      expect(reply.json.error?.code).toBe('not_found')
    }
    const status = await fetch(`${server.url}/taxii2/api/status/%00/`, {
      headers: { authorization: `Bearer ${ADMIN}`, accept: 'application/taxii+json;version=2.1' },
    })
    expect(status.status).toBe(404)
    expectRefused(await call(server.url, 'GET', '/api/v1/tokens?owner=%00', ADMIN), 'owner')
    // the server is well: nothing above was an internal error
    expect(server.output()).not.toContain('request failed')
  })

  it('events and commands refuse U+0000 in ids and free text, naming the field', async () => {
    const incidentId = `inc-${randomUUID()}`
    const report = (payload: Record<string, unknown>) =>
      event({
        type: 'incident.reported',
        payload: {
          incidentId,
          title: 'Phishing',
          severity: 'high',
          category: 'phishing',
          affectedNetworks: [],
          ...payload,
        },
      } as never)
    expectRefused(
      await call(server.url, 'POST', '/api/v1/events', TOKENS.sensorEe, {
        events: [report({ title: 'Phish\u0000ing' })],
      }),
      'payload.title',
    )
    expectRefused(
      await call(server.url, 'POST', '/api/v1/events', TOKENS.sensorEe, {
        events: [report({ incidentId: 'inc\u0000' })],
      }),
      'payload.incidentId',
    )
    expectRefused(
      await call(server.url, 'POST', '/api/v1/events', TOKENS.sensorEe, {
        events: [report({ incidentId: 'inc\u202e' })],
      }),
      'payload.incidentId',
    )
    // line breaks and tabs are free text's own, and so are other controls a sender's text holds (a
    // form feed from a PDF, a vertical tab from a slide, ANSI colours in a forwarded log line)
    for (const summary of ['First line\n\tsecond line', 'Page 1\fPage 2\vsoft break \u001b[31mFAILED\u001b[0m']) {
      const accepted = await call(server.url, 'POST', '/api/v1/events', TOKENS.sensorEe, {
        events: [report({ summary })],
      })
      expect(accepted.status, JSON.stringify(accepted.json)).toBe(201)
    }
    const command = (fields: Record<string, unknown>) =>
      call(server.url, 'POST', '/api/v1/commands', TOKENS.coordEeA, { type: 'task.create', incidentId, ...fields })
    expectRefused(await command({ title: 'Isolate\u0000' }), 'title')
    expectRefused(
      await command({ title: 'Isolate', assignee: { kind: 'user', userId: 'kadri\u0000' } }),
      'assignee.userId',
    )
    expect((await command({ title: 'Isolate the hosts' })).status).toBe(200)
    expect(server.output()).not.toContain('request failed')
  })
})

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import { EventInput } from '@watchfloor/protocol'
import type express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openApiDocument, socketMessagesTable } from '../src/http/openapi.ts'
import { type Document, document, documentedSchema } from './documented.ts'
import { event, observations, PRINCIPALS, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'
import { httpSide } from './httpSide.ts'

/** `METHOD /path` of every operation of the document. */
function documented(): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  )
}

/** The console's files (the built console, or a 503 saying it is not built): not the API. */
const CONSOLE_ROUTES = ['GET /', 'GET /{splat}']

interface Layer {
  rawPath?: string | string[]
  route?: { path: string | string[]; methods: Record<string, boolean | undefined> }
  handle: { stack?: Layer[] }
}

/**
 * Every route of an Express 5 app, as `METHOD /openapi/{path}`: the app router's layers, and the
 * layers of each router mounted in it (its mount path before). `.all()` (405 answers) is no method.
 */
function routesOf(stack: Layer[], prefix = ''): string[] {
  const routes: string[] = []
  for (const layer of stack) {
    if (layer.route !== undefined) {
      for (const path of [layer.route.path].flat())
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on === true && method !== '_all') routes.push(`${method.toUpperCase()} ${openApiPath(prefix + path)}`)
    } else if (layer.handle.stack !== undefined) {
      const mount = layer.rawPath
      if (typeof mount !== 'string') throw new Error(`a router mounted at ${JSON.stringify(mount)}`)
      routes.push(...routesOf(layer.handle.stack, mount === '/' ? prefix : prefix + mount))
    }
  }
  return routes
}

/** path-to-regexp 8 (`:id`, `{*file}`) to an OpenAPI path template (`{id}`, `{file}`). */
function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}').replace(/\{\*(\w+)\}/g, '{$1}')
}

const ADMIN_TOKEN = 'openapi-admin-token-0123456789'

describe('the OpenAPI document (GET /api/v1/openapi.json)', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator()
    // a copy: the validator resolves references in the object it is given
    const result = await validator.validate(structuredClone(openApiDocument()))
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
    // and every $ref resolves (the validator throws naming the first that does not)
    expect(() => validator.resolveRefs()).not.toThrow()
  })

  it('the linter refuses a broken document (it is not a no-op)', async () => {
    const broken = structuredClone(openApiDocument()) as unknown as Document
    broken.paths['/healthz']!.get!.responses = 'none' as never
    expect((await new Validator().validate(broken as never)).valid).toBe(false)
  })

  it('refers only to schemas it has, and has the protocol schemas from zod', () => {
    const refs = new Set<string>()
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk)
      else if (typeof value === 'object' && value !== null)
        for (const [key, inner] of Object.entries(value)) {
          if (key === '$ref' && typeof inner === 'string') refs.add(inner)
          else walk(inner)
        }
    }
    walk(document)
    const components = document.components as unknown as Record<string, Record<string, unknown>>
    const missing = [...refs].filter((ref) => {
      const [, kind, name] = ref.match(/^#\/components\/(\w+)\/(\w+)$/) ?? []
      return kind === undefined || name === undefined || components[kind]?.[name] === undefined
    })
    expect(missing).toEqual([])
    for (const name of ['EventInput', 'Command', 'ErrorReply', 'SessionReply', 'FeedsReply', 'WallPreset'])
      expect(document.components.schemas[name]).toMatchObject({})
    // EventInput is the discriminated union of every event type
    expect((document.components.schemas.EventInput as { oneOf: unknown[] }).oneOf.length).toBe(
      EventInput.options.length,
    )
  })
})

/** A Markdown table's cells, row by row, whatever the padding (biome aligns the columns). */
function cells(table: string): string[][] {
  return table.split('\n').map((line) =>
    line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((cell) => cell.trim().replace(/^-+$/, '---')),
  )
}

describe('docs/api.md', () => {
  it('holds the generated table of the Socket.IO messages', () => {
    const docs = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8')
    const table = docs.match(/<!-- socket-messages:start[^>]*-->\n([\s\S]*?)\n<!-- socket-messages:end -->/)?.[1]
    expect(table && cells(table), 'regenerate it with socketMessagesTable()').toEqual(cells(socketMessagesTable()))
  })
})

describe('the OpenAPI document against the Express routes', () => {
  let side: Awaited<ReturnType<typeof httpSide>>
  let app: express.Express
  beforeAll(async () => {
    // the app as server.ts makes it (nothing started: only its routers are read)
    side = await httpSide()
    app = side.app
  })
  afterAll(async () => {
    await side?.close()
  })

  it('documents every route the server has, and no route it does not have', () => {
    const routes = routesOf((app as unknown as { router: { stack: Layer[] } }).router.stack)
    expect(routes.length).toBeGreaterThan(40)
    const served = new Set(routes.filter((route) => !CONSOLE_ROUTES.includes(route)))
    expect(routes).toEqual(expect.arrayContaining(['GET /', 'POST /api/v1/events', 'GET /taxii2/']))
    const inDocument = new Set(documented())
    expect([...served].filter((route) => !inDocument.has(route)).sort()).toEqual([])
    expect([...inDocument].filter((route) => !served.has(route)).sort()).toEqual([])
  })
})

describe('every documented route answers on a real server', () => {
  let server: ServerProcess
  let tokensDir: string
  beforeAll(async () => {
    tokensDir = mkdtempSync(join(tmpdir(), 'watchfloor-openapi-tokens-'))
    const tokens = join(tokensDir, 'tokens.json')
    const admin = { token: ADMIN_TOKEN, user: 'admin', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] }
    writeFileSync(tokens, JSON.stringify([...PRINCIPALS, admin]))
    server = await startServerProcess({ env: { WATCHFLOOR_TOKENS: tokens, WATCHFLOOR_PASSWORD_COST: '10' } })
    // something in the log, so the reads answer with events to check against the document
    const report = event({
      type: 'incident.reported',
      payload: {
        incidentId: 'inc-openapi',
        title: 'Phishing wave',
        severity: 'high',
        category: 'phishing',
        affectedNetworks: [],
        attackSource: { location: { lat: 59.4, lon: 24.7 } },
      },
    } as never)
    const posted = await post(server.url, TOKENS.sensorEe, {
      events: [report, ...observations(2, { payload: { incidentId: 'inc-openapi', count: 1 } } as never)],
    })
    expect(posted.status).toBe(201)
  })
  afterAll(async () => {
    await server?.stop()
    if (tokensDir) rmSync(tokensDir, { recursive: true, force: true })
  })

  it('answers accounts, tokens, the directory and an ingest exactly as the protocol schemas say: no field more (never a secret or its hash), none less', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      return { status: response.status, json: (await response.json()) as Record<string, unknown[]> }
    }
    const made = await call('POST', '/api/v1/accounts', {
      username: 'maris',
      organisation: 'cert-lv',
      nation: 'LV',
      roles: ['analyst'],
      password: 'correct horse battery staple',
    })
    expect(made.status).toBe(201)
    expect((await call('POST', '/api/v1/tokens', { label: 'script', owner: 'maris' })).status).toBe(201)
    const service = { label: 'ids', service: { user: 'ids-1', organisation: 'cert-lv', roles: ['sensor'] } }
    expect((await call('POST', '/api/v1/tokens', service)).status).toBe(201)
    expect(
      (await call('POST', '/api/v1/directory/communities', { id: 'grid', name: 'Grid', members: ['cert-lv'] })).status,
    ).toBe(201)
    const component = (name: string) => documentedSchema({ $ref: `#/components/schemas/${name}` })
    const replies = {
      Account: (await call('GET', '/api/v1/accounts')).json.accounts!,
      Token: (await call('GET', '/api/v1/tokens')).json.tokens!,
      Organisation: (await call('GET', '/api/v1/directory')).json.organisations!,
      Community: (await call('GET', '/api/v1/directory')).json.communities!,
    }
    for (const [name, records] of Object.entries(replies)) {
      expect(records.length, name).toBeGreaterThan(0)
      for (const record of records) expect(component(name).safeParse(record).error?.issues, name).toBeUndefined()
    }
    expect((replies.Token as { service: unknown }[]).some((token) => token.service !== null)).toBe(true)
    const ingested = await post(server.url, TOKENS.sensorEe, { events: observations(2) })
    expect(ingested.status).toBe(201)
    expect(component('IngestReply').safeParse(ingested.json).error?.issues).toBeUndefined()
    // the check is not a no-op: a record with a field more, or one less, is refused
    const token = replies.Token[0] as Record<string, unknown>
    expect(component('Token').safeParse({ ...token, secretHash: 'ab'.repeat(32) }).success).toBe(false)
    const { createdAt: _createdAt, ...partial } = replies.Account[0] as Record<string, unknown>
    expect(component('Account').safeParse(partial).success).toBe(false)
  })

  it('serves the document without a credential', async () => {
    const response = await fetch(`${server.url}/api/v1/openapi.json`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await response.json()).toEqual(JSON.parse(JSON.stringify(openApiDocument())))
  })

  it('answers each documented operation, with an admin token, with a status it documents', async () => {
    const answered: string[] = []
    let checkedBodies = 0
    for (const [template, item] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(item)) {
        const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
          const example = operation.parameters?.find((p) => p.in === 'path' && p.name === name)?.example
          return encodeURIComponent(example ?? 'x')
        })
        const taxii = path.startsWith('/taxii2/')
        const bodyType = Object.keys(operation.requestBody?.content ?? {})[0]
        const response = await fetch(`${server.url}${path}`, {
          method: method.toUpperCase(),
          headers: {
            authorization: `Bearer ${ADMIN_TOKEN}`,
            ...(taxii ? { accept: 'application/taxii+json;version=2.1' } : {}),
            ...(bodyType === undefined ? {} : { 'content-type': bodyType }),
          },
          // an empty object: enough to reach the handler (most answer 400 naming what is missing)
          ...(bodyType === undefined ? {} : { body: '{}' }),
        })
        const key = `${method.toUpperCase()} ${template}`
        const text = await response.text()
        const status = String(response.status)
        const documentedStatuses = Object.keys(operation.responses)
        expect(documentedStatuses, `${key} answered ${status}: ${text.slice(0, 300)}`).toContain(status)
        expect(response.status, `${key}: ${text.slice(0, 300)}`).toBeLessThan(500)
        expect(response.status, key).not.toBe(405)
        // a 404 is a thing not found, never a route missing
        if (response.status === 404) expect(text, key).not.toMatch(/no route|no TAXII endpoint/)
        const reply = operation.responses[status]!
        const type = response.headers.get('content-type')?.split(';')[0]?.trim()
        if (reply.content !== undefined) {
          const types = Object.keys(reply.content).map((media) => media.split(';')[0]!.trim())
          expect(types, `${key} answered ${type}`).toContain(type)
        } else expect(text, key).toBe('')
        // a JSON answer is of the schema the document gives it (the protocol's, for the protocol's replies)
        const media = Object.entries(reply.content ?? {}).find(([name]) => name.split(';')[0]!.trim() === type)?.[1]
        if (media !== undefined && (type === 'application/json' || type?.endsWith('+json'))) {
          const checked = documentedSchema(media.schema).safeParse(JSON.parse(text))
          expect(checked.error?.issues, `${key} ${status}: ${text.slice(0, 300)}`).toBeUndefined()
          checkedBodies++
        }
        answered.push(`${key} ${status}`)
      }
    expect(answered.length).toBe(documented().length)
    expect(checkedBodies).toBeGreaterThan(40)
  })

  it('refuses on every operation of /api/v1 a query parameter it does not list, naming it, and takes each it lists', async () => {
    type Refusal = {
      error?: { code: string; message: string; details?: { issues?: { path: string; message: string }[] } }
    }
    let checked = 0
    for (const [template, item] of Object.entries(document.paths)) {
      if (!template.startsWith('/api/v1/')) continue
      for (const [method, operation] of Object.entries(item)) {
        const path = template.replace(/\{(\w+)\}/g, (_, name: string) =>
          encodeURIComponent(operation.parameters?.find((p) => p.name === name)?.example ?? 'x'),
        )
        const listed = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
        const send = async (query: string) => {
          const response = await fetch(`${server.url}${path}?${query}`, {
            method: method.toUpperCase(),
            headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
            ...(method === 'get' || method === 'delete' ? {} : { body: '{}' }),
          })
          return { status: response.status, json: (await response.json().catch(() => ({}))) as Refusal }
        }
        const key = `${method.toUpperCase()} ${template}`
        // a misspelling of a listed one (or any name, where none is listed) is refused, and named
        const unknown = `${listed[0] ?? 'filter'}x`
        const refused = await send(`${unknown}=1`)
        expect(refused.status, key).toBe(400)
        expect(refused.json.error?.code, key).toBe('validation')
        expect(refused.json.error?.details?.issues, key).toEqual([
          {
            path: unknown,
            message: `not a parameter of ${key} (${listed.length === 0 ? 'it takes none' : `it takes ${listed.join(', ')}`})`,
          },
        ])
        // every listed one reaches the route: whatever it answers, it never says the route does not take it
        for (const name of listed) {
          const taken = await send(`${encodeURIComponent(name)}=`)
          expect(JSON.stringify(taken.json), `${key} ${name}`).not.toContain('not a parameter')
        }
        checked++
      }
    }
    expect(checked).toBeGreaterThanOrEqual(35)
  })

  it('lists the filters and paging each TAXII endpoint reads: a bad value of each is a 400 naming it', async () => {
    const bad: Record<string, string> = {
      added_after: 'yesterday',
      limit: '0',
      next: 'not-a-next',
      'match[id]': 'a, b',
      'match[type]': 'a,,b',
      'match[version]': 'all,last',
      'match[spec_version]': 'two',
    }
    let checked = 0
    for (const [template, item] of Object.entries(document.paths)) {
      if (!template.startsWith('/taxii2/')) continue
      const listed = (item.get?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
      const path = template
        .replace('{collectionId}', 'all')
        .replace('{objectId}', 'indicator--00000000-0000-4000-8000-000000000000')
      const takesFilters = /\/(objects|manifest)\/$|\/versions\/$|\{objectId\}\/$/.test(template)
      expect(listed.length > 0, template).toBe(takesFilters)
      for (const name of listed) {
        expect(bad[name], `${template} ${name}`).toBeDefined()
        const response = await fetch(
          `${server.url}${path}?${encodeURIComponent(name)}=${encodeURIComponent(bad[name]!)}`,
          {
            headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'application/taxii+json;version=2.1' },
          },
        )
        expect(response.status, `${template} ${name}`).toBe(400)
        expect(((await response.json()) as { description?: string }).description, `${template} ${name}`).toContain(name)
        checked++
      }
    }
    // objects and manifest 7 each, one object 5, versions 4
    expect(checked).toBe(23)
  })

  it('refuses every operation that has security with 401 without a credential, and only those', async () => {
    for (const [template, item] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(item)) {
        const path = template.replace(/\{(\w+)\}/g, (_, name: string) =>
          encodeURIComponent(operation.parameters?.find((p) => p.name === name)?.example ?? 'x'),
        )
        const json = method !== 'get' && method !== 'delete'
        const response = await fetch(`${server.url}${path}`, {
          method: method.toUpperCase(),
          headers: json ? { 'content-type': 'application/json' } : {},
          ...(json ? { body: '{}' } : {}),
        })
        await response.arrayBuffer()
        const isPublic = Array.isArray(operation.security) && operation.security.length === 0
        const key = `${method.toUpperCase()} ${template} answered ${response.status}`
        if (isPublic) expect(response.status, key).not.toBe(401)
        else expect(response.status, key).toBe(401)
        expect(Object.keys(operation.responses), key).toContain(String(response.status))
      }
  })
})

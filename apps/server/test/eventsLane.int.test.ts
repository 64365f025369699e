import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import type { EventInput } from '@watchfloor/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, observations, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'
import { httpSide } from './httpSide.ts'

/**
 * `POST /api/v1/events` as sensors spell it runs on the events lane (http/eventsLane.ts), outside
 * Express's router; a trailing slash still goes through Express's route. Both must answer exactly
 * alike: status, body, every header, the request's log line and its metrics. Each case below is
 * sent both ways and compared.
 */
const METRICS_TOKEN = 'events-lane-metrics-token-0123456789'
const LANE = '/api/v1/events'
const EXPRESS = '/api/v1/events/'

interface Answer {
  status: number
  body: unknown
  headers: [string, string][]
}

interface Case {
  name: string
  /** The request (the test adds its `X-Request-Id`). */
  init: () => RequestInit
  /** Whether the two sends need their own event ids (a new event is new only once). */
  ownEvents?: boolean
  status: number
}

const json = (token: string | null, body: unknown, extra: Record<string, string> = {}) => ({
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    ...extra,
  },
  body: typeof body === 'string' ? body : JSON.stringify(body),
})

/** Every header but those that differ between two sends of one request (date, id, length of seqs). */
function comparable(headers: Headers): [string, string][] {
  const varying = new Set(['date', 'x-request-id', 'content-length', 'keep-alive', 'connection'])
  return [...headers].filter(([name]) => !varying.has(name)).sort(([a], [b]) => a.localeCompare(b))
}

/** The body with what two sends of one request may differ in (seqs, new ids) set aside. */
function normalised(body: unknown): unknown {
  const results = (body as { results?: { duplicate: boolean }[] } | null)?.results
  return results === undefined ? body : { results: results.map((result) => ({ duplicate: result.duplicate })) }
}

describe('POST /api/v1/events: the events lane answers exactly as Express route does', () => {
  let server: ServerProcess
  const kept: EventInput[] = observations(2)

  beforeAll(async () => {
    server = await startServerProcess({
      env: {
        WATCHFLOOR_LOG_LEVEL: 'info',
        WATCHFLOOR_METRICS_TOKEN: METRICS_TOKEN,
        // the log line's address and HSTS follow X-Forwarded-* from a trusted proxy on either path
        WATCHFLOOR_TRUST_PROXY: 'loopback',
      },
    })
    // the events both sends post again (duplicates) or change (a conflict)
    const first = await fetch(`${server.url}${LANE}`, json(TOKENS.sensorEe, { events: kept }))
    expect(first.status).toBe(201)
  })

  afterAll(async () => {
    await server?.stop()
  })

  const cases: Case[] = [
    {
      name: 'new events',
      ownEvents: true,
      init: () => json(TOKENS.sensorEe, { events: observations(3) }),
      status: 201,
    },
    { name: 'events already in the log', init: () => json(TOKENS.sensorEe, { events: kept }), status: 200 },
    {
      name: 'one event, not in a list',
      ownEvents: true,
      init: () => json(TOKENS.sensorEe, observations(1)[0]),
      status: 201,
    },
    {
      name: 'an id again with other content',
      init: () => json(TOKENS.sensorEe, { events: [{ ...kept[0]!, payload: { incidentId: 'inc-1', count: 99 } }] }),
      status: 409,
    },
    { name: 'malformed JSON', init: () => json(TOKENS.sensorEe, '{"events": [ nope'), status: 400 },
    {
      name: 'an event without a type',
      init: () =>
        json(TOKENS.sensorEe, {
          events: [{ ...event({ type: 'incident.observation', payload: { incidentId: 'inc-1' } }), type: undefined }],
        }),
      status: 400,
    },
    { name: 'no credential', init: () => json(null, { events: observations(1) }), status: 401 },
    {
      name: 'a malformed Authorization header',
      init: () => ({ ...json(null, { events: observations(1) }), headers: { authorization: 'Basic abc' } }),
      status: 401,
    },
    { name: 'an unknown token', init: () => json('wf_notAKnownToken0000000000000000000000', []), status: 401 },
    {
      name: 'a viewer who may not post',
      init: () => json(TOKENS.viewerNl, { events: observations(1) }),
      status: 403,
    },
    {
      name: 'a sensor posting for another organisation',
      init: () => json(TOKENS.sensorLv, { events: observations(1) }),
      status: 403,
    },
    {
      name: 'a view as another audience (read-only)',
      init: () =>
        json(TOKENS.watchOfficer, { events: observations(1) }, { 'x-watchfloor-view-as': 'organisation:cert-ee' }),
      status: 403,
    },
    {
      name: 'a gzip body',
      ownEvents: true,
      init: () => ({
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          authorization: `Bearer ${TOKENS.sensorEe}`,
        },
        body: gzipSync(JSON.stringify({ events: observations(2) })),
      }),
      status: 201,
    },
    {
      name: 'an unknown content encoding',
      init: () => ({
        ...json(TOKENS.sensorEe, { events: observations(1) }),
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'lzma',
          authorization: `Bearer ${TOKENS.sensorEe}`,
        },
      }),
      status: 400,
    },
    {
      name: 'a body over the limit (10 MB)',
      init: () => json(TOKENS.sensorEe, `{"events":[],"padding":"${'x'.repeat(10 * 1024 * 1024)}"}`),
      status: 413,
    },
    {
      name: 'from behind the trusted proxy, over HTTPS',
      ownEvents: true,
      init: () =>
        json(
          TOKENS.sensorEe,
          { events: observations(1) },
          { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
        ),
      status: 201,
    },
  ]

  it('each case: the same status, body, headers and log line both ways', async () => {
    const sent: { path: string; requestId: string; status: number; name: string }[] = []
    for (const test of cases) {
      const answers: Answer[] = []
      for (const path of [LANE, EXPRESS]) {
        const requestId = `lane-test-${randomUUID()}`
        const init = test.init()
        const response = await fetch(`${server.url}${path}`, {
          ...init,
          headers: { ...(init.headers as Record<string, string>), 'x-request-id': requestId },
        })
        const text = await response.text()
        expect(response.headers.get('x-request-id'), `${test.name} on ${path}: request id`).toBe(requestId)
        answers.push({
          status: response.status,
          body: normalised(response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text),
          headers: comparable(response.headers),
        })
        sent.push({ path, requestId, status: response.status, name: test.name })
      }
      const [lane, viaExpress] = answers as [Answer, Answer]
      expect(lane.status, test.name).toBe(test.status)
      expect(lane, test.name).toEqual(viaExpress)
    }

    // the request's log line: route, status, address, principal, all alike (the path aside); each is
    // written once its response has closed
    const logged = () => sent.every((entry) => server.output().includes(`"reqId":"${entry.requestId}"`))
    for (let waited = 0; !logged() && waited < 5_000; waited += 50) await new Promise((r) => setTimeout(r, 50))
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    const lineOf = (requestId: string) => {
      const line = lines.find((entry) => entry.reqId === requestId && entry.req !== undefined)
      expect(
        line,
        `the log line of ${sent.find((entry) => entry.requestId === requestId)?.name} (${requestId})`,
      ).toBeDefined()
      const { req, res, principal, msg, level } = line as {
        req: { method: string; url: string; route: string; ip: string }
        res: unknown
        principal: unknown
        msg: string
        level: unknown
      }
      return { method: req.method, route: req.route, ip: req.ip, res, principal, msg, level }
    }
    for (let i = 0; i < sent.length; i += 2) {
      const lane = lineOf(sent[i]!.requestId)
      // a request its caller is refused for never reached the route: `unmatched`, as Express's router leaves it
      if (sent[i]!.status < 400) expect(lane.route, sent[i]!.name).toBe('/api/v1/events')
      expect(lane, sent[i]!.name).toEqual(lineOf(sent[i + 1]!.requestId))
    }
    expect(lineOf(sent.find((entry) => entry.name === 'from behind the trusted proxy, over HTTPS')!.requestId).ip).toBe(
      '203.0.113.7',
    )

    // metrics: every request counted under the route its log line names, by status, whichever way it came
    const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    const text = await metrics.text()
    const counts = new Map<string, number>([['/api/v1/events|201', 1]]) // the events posted before the cases
    for (const entry of sent) {
      const key = `${lineOf(entry.requestId).route}|${entry.status}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    for (const [key, count] of counts) {
      const [route, status] = key.split('|')
      const line = text
        .split('\n')
        .find(
          (row) =>
            row.startsWith('watchfloor_http_request_duration_seconds_count{') &&
            row.includes('method="POST"') &&
            row.includes(`route="${route}"`) &&
            row.includes(`status="${status}"`),
        )
      expect(line, `POSTs to ${route} answered ${status}`).toBeDefined()
      expect(Number(line!.split(' ').at(-1)), `POSTs to ${route} answered ${status}`).toBe(count)
    }
  })

  it('HSTS over HTTPS behind the trusted proxy, on the lane as on every route', async () => {
    const response = await fetch(
      `${server.url}${LANE}`,
      json(TOKENS.sensorEe, { events: observations(1) }, { 'x-forwarded-proto': 'https' }),
    )
    expect(response.status).toBe(201)
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
    const plain = await fetch(`${server.url}${LANE}`, json(TOKENS.sensorEe, { events: observations(1) }))
    expect(plain.headers.get('strict-transport-security')).toBeNull()
    expect(plain.headers.get('cache-control')).toBe('no-store')
  })
})

describe('which requests take the events lane', () => {
  it('POST /api/v1/events as sensors spell it; every other request Express, one with a query string too', async () => {
    const side = await httpSide()
    // Express's app hands every request it gets to `app.handle`: counted here
    const app = side.app as unknown as { handle: (req: { method: string; url: string }, ...rest: unknown[]) => unknown }
    const handle = app.handle.bind(app)
    const viaExpress: string[] = []
    app.handle = (req, ...rest) => {
      viaExpress.push(`${req.method} ${req.url}`)
      return handle(req, ...rest)
    }
    const server = createServer(side.listener)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const send = async (method: string, path: string, status = 401) => {
        const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' } })
        await response.arrayBuffer()
        // no caller: refused on either path, with the same answer
        expect(response.status, `${method} ${path}`).toBe(status)
      }
      await send('POST', '/api/v1/events')
      expect(viaExpress).toEqual([])
      // the route takes no query parameter: Express refuses one, naming it (refuseUndocumentedQuery)
      await send('POST', '/api/v1/events?source=sensor-7', 400)
      await send('POST', '/api/v1/events/')
      await send('POST', '/API/V1/EVENTS')
      await send('GET', '/api/v1/events')
      await send('POST', '/api/v1/eventsx')
      expect(viaExpress).toEqual([
        'POST /api/v1/events?source=sensor-7',
        'POST /api/v1/events/',
        'POST /API/V1/EVENTS',
        'GET /api/v1/events',
        'POST /api/v1/eventsx',
      ])
    } finally {
      await new Promise((resolve) => server.close(resolve))
      await side.close()
    }
  })
})

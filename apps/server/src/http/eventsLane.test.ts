import { createServer, type IncomingMessage, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WatchfloorError } from '@watchfloor/protocol'
import express from 'express'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import type { Caller } from '../access/access.ts'
import { type EventsLaneParts, eventsLane, isEventsPost } from './eventsLane.ts'

describe('isEventsPost', () => {
  it('is POST /api/v1/events spelt as sensors send it, and nothing else', () => {
    const is = (method: string, url: string) => isEventsPost({ method, url } as IncomingMessage)
    expect(is('POST', '/api/v1/events')).toBe(true)
    for (const [method, url] of [
      // a query string: Express's route refuses a parameter it does not take
      ['POST', '/api/v1/events?source=sensor-7'],
      ['POST', '/api/v1/events?'],
      ['GET', '/api/v1/events'],
      ['PUT', '/api/v1/events'],
      ['POST', '/api/v1/events/'],
      ['POST', '/api/v1/eventsx'],
      ['POST', '/API/V1/EVENTS'],
      ['POST', '/api/v1/events#'],
      ['POST', '/api/v1/event'],
    ] as const)
      expect(is(method, url), `${method} ${url}`).toBe(false)
  })
})

/** The lane with these steps (each passes by default) on a loopback server; one POST, its answer, what was logged. */
async function postThrough(
  overrides: Partial<EventsLaneParts>,
): Promise<{ status: number; body: unknown; logged: string }> {
  let logged = ''
  const logger = pino({ level: 'error' }, { write: (line: string) => (logged += line) })
  const pass: express.RequestHandler = (_req, _res, next) => next()
  const parts: EventsLaneParts = {
    app: express(),
    context: pass,
    security: pass,
    caller: async () => ({ kind: 'static' }) as unknown as Caller,
    body: pass,
    answer: async (_caller, _body, res) => {
      res.statusCode = 201
      res.end('{}')
    },
    logger,
    ...overrides,
  }
  const server = createServer(eventsLane(parts) as RequestListener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/events`, {
      method: 'POST',
      body: '{}',
    })
    const text = await response.text()
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text), logged }
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}

describe('the events lane answers whatever a step throws or passes on, as Express would', () => {
  it('a step that throws: 500 internal, logged, and the listener goes on', async () => {
    const answer = await postThrough({
      security: () => {
        throw new Error('a header could not be set')
      },
    })
    expect(answer.status).toBe(500)
    expect(answer.body).toEqual({ error: { code: 'internal', message: 'internal error' } })
    expect(answer.logged).toContain('a header could not be set')
  })

  it('an error a step passes to next, or a refusal the caller check throws: its status and body', async () => {
    const limited = await postThrough({
      context: (_req, _res, next) => next(new WatchfloorError('too_many_requests', 'slow down')),
    })
    expect(limited.status).toBe(429)
    expect(limited.body).toEqual({ error: { code: 'too_many_requests', message: 'slow down' } })
    const refused = await postThrough({
      caller: async () => {
        throw new WatchfloorError('unauthenticated', 'who are you')
      },
    })
    expect(refused.status).toBe(401)
    const malformed = await postThrough({
      body: (_req, _res, next) => next(Object.assign(new Error('bad'), { type: 'entity.parse.failed', status: 400 })),
    })
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'validation' } } })
  })

  it('an answer that fails after it began: the connection is closed, nothing escapes', async () => {
    await expect(
      postThrough({
        answer: async (_caller, _body, res) => {
          res.writeHead(201, { 'content-type': 'application/json' })
          res.write('{"results":[')
          throw new Error('the store went away mid-answer')
        },
      }),
    ).rejects.toThrow()
  })
})

import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { EventInput } from '@watchfloor/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { type BatchRejectedError, runSimulator } from './poster.ts'
import { createScenario, takeEvents } from './scenario.ts'

const startTime = '2026-11-26T08:00:00.000Z'

interface Received {
  path: string | undefined
  authorization: string | undefined
  events: EventInput[]
  status: number
}

/**
 * A plain receiver standing in for the server: records each request and answers with the
 * status `answer` picks for the n-th request (1-based).
 */
async function startReceiver(answer: (n: number) => number) {
  const requests: Received[] = []
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: EventInput[] }
      const status = answer(requests.length + 1)
      requests.push({ path: req.url, authorization: req.headers.authorization, events: body.events, status })
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify(
          status === 201 ? { results: body.events.map((e, i) => ({ id: e.id, seq: i + 1 })) } : { error: 'nope' },
        ),
      )
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const accepted = () => requests.filter((r) => r.status === 201).flatMap((r) => r.events)
  return { server, url: `http://127.0.0.1:${port}`, requests, accepted }
}

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    server.close()
  }
})

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('runSimulator', () => {
  it('posts due events in order and in batches, retrying a 503 without dropping or reordering', async () => {
    const receiver = await startReceiver((n) => (n === 1 ? 503 : 201))
    servers.push(receiver.server)
    const controller = new AbortController()
    const progress: number[] = []
    const run = runSimulator({
      url: `${receiver.url}/`,
      token: 'sensor-token',
      seed: 7,
      speed: 600,
      rate: 5,
      startTime,
      batchMax: 50,
      retryDelayMs: 20,
      signal: controller.signal,
      onProgress: (p) => progress.push(p.posted),
    })
    await until(() => receiver.accepted().length >= 300)
    controller.abort()
    const result = await run

    const accepted = receiver.accepted()
    expect(result.posted).toBe(accepted.length)
    expect(result.batches).toBe(receiver.requests.filter((r) => r.status === 201).length)
    expect(result.rejected).toBe(0)
    expect(progress.at(-1)).toBe(result.posted)
    // the refused first batch came again, unchanged
    expect(receiver.requests[0]?.status).toBe(503)
    expect(receiver.requests[1]?.events).toEqual(receiver.requests[0]?.events)
    // exactly the scenario's events, in order, none lost or doubled
    const expected = takeEvents(createScenario({ seed: 7, startTime, rate: 5, speed: 600 }), accepted.length).map(
      (e) => e.event,
    )
    expect(accepted).toEqual(expected)
    for (const request of receiver.requests) {
      expect(request.path).toBe('/api/v1/events')
      expect(request.authorization).toBe('Bearer sensor-token')
      expect(request.events.length).toBeGreaterThan(0)
      expect(request.events.length).toBeLessThanOrEqual(50)
    }
  })

  it('continues after the last event an earlier run posted, found by its id: nothing posted twice, nothing left out, on a time base of now', async () => {
    const speed = 1000
    const t0 = Date.parse(startTime)
    const story = takeEvents(createScenario({ seed: 7, startTime: t0, rate: 5, speed }), 3000)
    // the place of the last event posted, as a restart reads it: its occurredAt (rounded to the
    // millisecond, so a whole second of story either way at this speed) against the time base
    for (const k of [0, 137, 1500, 2600]) {
      const last = story[k]!
      const nearMs = (Date.parse(last.event.occurredAt) - t0) * speed
      const receiver = await startReceiver(() => 201)
      servers.push(receiver.server)
      const controller = new AbortController()
      const bases: number[] = []
      const began = Date.now()
      const run = runSimulator({
        url: receiver.url,
        token: 'sensor-token',
        seed: 7,
        speed,
        rate: 5,
        idSalt: t0,
        // a second, wrong place first (a time base of a run that posted nothing): the id decides
        resumeAfter: { id: last.event.id, near: [nearMs / 2, nearMs] },
        onTimeBase: (base) => bases.push(base),
        signal: controller.signal,
      })
      await until(() => receiver.accepted().length >= 40)
      controller.abort()
      await run
      const accepted = receiver.accepted()
      expect(
        accepted.slice(0, 40).map((e) => e.id),
        `after event ${k}`,
      ).toEqual(story.slice(k + 1, k + 41).map((e) => e.event.id))
      // stamped on one time base, which puts the event after the last one posted at the start
      expect(bases).toHaveLength(1)
      for (const [i, event] of accepted.slice(0, 40).entries())
        expect(Date.parse(event.occurredAt)).toBe(bases[0]! + Math.round(story[k + 1 + i]!.at / speed))
      expect(Math.abs(bases[0]! + last.at / speed - began)).toBeLessThan(1000)
    }
  })

  it('an id not found where the story has it goes on from the likeliest place, leaving nothing after it out', async () => {
    const speed = 1000
    const t0 = Date.parse(startTime)
    const story = takeEvents(createScenario({ seed: 7, startTime: t0, rate: 5, speed }), 3000)
    const nearMs = story[1200]!.at + 0.5
    const receiver = await startReceiver(() => 201)
    servers.push(receiver.server)
    const controller = new AbortController()
    const warned: string[] = []
    const run = runSimulator({
      url: receiver.url,
      token: 'sensor-token',
      seed: 7,
      speed,
      rate: 5,
      idSalt: t0,
      resumeAfter: { id: 'c0ffee00-0000-4000-8000-00000000dead', near: [nearMs] },
      logger: { info: () => {}, warn: (message) => warned.push(message) },
      signal: controller.signal,
    })
    await until(() => receiver.accepted().length >= 20)
    controller.abort()
    await run
    const first = story.findIndex((e) => e.at > nearMs)
    expect(
      receiver
        .accepted()
        .slice(0, 20)
        .map((e) => e.id),
    ).toEqual(story.slice(first, first + 20).map((e) => e.event.id))
    expect(warned.join('\n')).toContain('is not where the story has it')
  })

  it('stops at once when aborted while it looks for its place in a long story', async () => {
    const receiver = await startReceiver(() => 201)
    servers.push(receiver.server)
    const controller = new AbortController()
    const run = runSimulator({
      url: receiver.url,
      token: 'sensor-token',
      seed: 7,
      speed: 10,
      rate: 50,
      idSalt: 1,
      // a place years into the story: the search would take minutes
      resumeAfter: { id: 'c0ffee00-0000-4000-8000-00000000dead', near: [1e12] },
      signal: controller.signal,
    })
    await new Promise((r) => setTimeout(r, 200))
    const stopped = Date.now()
    controller.abort()
    await run
    expect(Date.now() - stopped).toBeLessThan(1000)
    expect(receiver.requests).toEqual([])
  })

  it('reports a batch refused with a 4xx and goes on with the next one', async () => {
    const receiver = await startReceiver((n) => (n === 2 ? 400 : 201))
    servers.push(receiver.server)
    const controller = new AbortController()
    const errors: BatchRejectedError[] = []
    const run = runSimulator({
      url: receiver.url,
      token: 't',
      seed: 'four-hundred',
      speed: 600,
      rate: 5,
      startTime,
      batchMax: 20,
      signal: controller.signal,
      onError: (error) => errors.push(error),
    })
    await until(() => receiver.requests.length >= 5)
    controller.abort()
    const result = await run

    expect(errors).toHaveLength(1)
    expect(errors[0]?.status).toBe(400)
    const skipped = receiver.requests[1]?.events ?? []
    expect(errors[0]?.events).toEqual(skipped)
    expect(result.rejected).toBe(skipped.length)
    const all = receiver.requests.flatMap((r) => r.events)
    const expected = takeEvents(createScenario({ seed: 'four-hundred', startTime, rate: 5, speed: 600 }), all.length)
    expect(all).toEqual(expected.map((e) => e.event))
    expect(result.posted).toBe(all.length - skipped.length)
  })

  it('stops promptly when aborted while the server keeps failing', async () => {
    const receiver = await startReceiver(() => 503)
    servers.push(receiver.server)
    const controller = new AbortController()
    const run = runSimulator({
      url: receiver.url,
      token: 't',
      seed: 1,
      speed: 1000,
      rate: 1,
      startTime,
      retryDelayMs: 10,
      maxRetryDelayMs: 40,
      signal: controller.signal,
    })
    await until(() => receiver.requests.length >= 3)
    controller.abort()
    const result = await run
    expect(result).toEqual({ posted: 0, batches: 0, rejected: 0, heldBack: 0 })
    // retries always resent the same first batch
    const first = JSON.stringify(receiver.requests[0]?.events)
    expect(receiver.requests.every((r) => JSON.stringify(r.events) === first)).toBe(true)
  })
})

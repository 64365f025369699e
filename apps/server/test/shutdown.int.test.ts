import { request } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { canSee } from '@watchfloor/core'
import type { ClientToServerEvents, ServerToClientEvents, StoredEvent, Viewer } from '@watchfloor/protocol'
import { SqliteEventStore } from '@watchfloor/store'
import { io, type Socket } from 'socket.io-client'
import { afterAll, describe, expect, it } from 'vitest'
import { buildServer, type CompiledServer, cleanUp, startCompiled } from './compiled.ts'
import { observations, PRINCIPALS, post, TOKENS, Watcher } from './harness.ts'

/** True once nothing listens on the server's port any more. */
function refuses(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}

/** A POST of events whose body is sent in two parts: in flight from the first part on. */
function slowPost(url: string, token: string, body: string) {
  const half = Math.floor(body.length / 2)
  const { hostname, port } = new URL(url)
  let finish = () => {}
  const response = new Promise<{ status: number; connection: string | undefined; json: unknown }>((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port: Number(port),
        method: 'POST',
        path: '/api/v1/events',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, json: JSON.parse(text) }),
        )
      },
    )
    req.on('error', reject)
    req.write(body.slice(0, half))
    finish = () => req.end(body.slice(half))
  })
  return { response, finish: () => finish() }
}

/**
 * One keep-alive TCP connection on which `/readyz` is asked by hand: `ask()` sends a whole request,
 * `begin()` only the first part of one (so the connection is busy, not idle) and `finish()` the rest;
 * `next()` is the next response read from the connection.
 */
function rawConnection(url: string) {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  let buffer = ''
  const waiting: (() => void)[] = []
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    buffer += chunk
    for (const wake of waiting.splice(0)) wake()
  })
  socket.on('error', () => {})
  const head = `GET /readyz HTTP/1.1\r\nHost: ${hostname}:${port}\r\n`
  /** The next whole response (by its Content-Length) in what came in. */
  const take = (): { status: number; connection: string | undefined; json: unknown } | undefined => {
    const end = buffer.indexOf('\r\n\r\n')
    if (end < 0) return undefined
    const lines = buffer.slice(0, end).split('\r\n')
    const header = (name: string) =>
      lines
        .find((l) => l.toLowerCase().startsWith(`${name}:`))
        ?.slice(name.length + 1)
        .trim()
    const length = Number(header('content-length') ?? 0)
    if (buffer.length < end + 4 + length) return undefined
    const body = buffer.slice(end + 4, end + 4 + length)
    buffer = buffer.slice(end + 4 + length)
    return { status: Number(lines[0]!.split(' ')[1]), connection: header('connection'), json: JSON.parse(body) }
  }
  return {
    connected: new Promise<void>((resolve) => socket.once('connect', () => resolve())),
    ask: () => socket.write(`${head}\r\n`),
    begin: () => socket.write(head),
    finish: () => socket.write('\r\n'),
    async next() {
      for (;;) {
        const response = take()
        if (response) return response
        await new Promise<void>((resolve) => waiting.push(resolve))
      }
    },
    close: () => socket.destroy(),
  }
}

async function until(check: () => boolean | Promise<boolean>, timeout = 10_000): Promise<void> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > timeout) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('SIGTERM (the compiled server under plain node)', () => {
  const build = buildServer()
  let server: CompiledServer | undefined
  afterAll(async () => {
    await cleanUp(server)
    build.remove()
  })

  it('stops accepting, answers /readyz 503 draining, finishes the request in flight, closes sockets so clients come back, keeps every acknowledged event, exits 0 within 10 s; its console resumes on the next process exactly where it was', async () => {
    server = await startCompiled(build.main)
    const { url } = server

    // a live socket that is subscribed, and a plain socket.io client that reconnects by itself
    const watcher = new Watcher(url, TOKENS.viewerEe)
    expect((await watcher.subscribe(0)).ok).toBe(true)
    const disconnects: string[] = []
    watcher.socket.on('disconnect', (reason) => disconnects.push(reason))
    const client: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
      transports: ['websocket'],
      auth: { token: TOKENS.viewerLv },
      forceNew: true,
      reconnectionDelay: 100,
    })
    let reconnectAttempts = 0
    client.io.on('reconnect_attempt', () => reconnectAttempts++)
    await until(() => client.connected)

    // senders posting as fast as they are answered; what is answered 201 is acknowledged
    const acknowledged = new Set<string>()
    let sending = true
    const senders = Array.from({ length: 3 }, async () => {
      while (sending) {
        try {
          const reply = await post(url, TOKENS.sensorEe, { events: observations(20) })
          if (reply.status !== 201) return
          for (const r of reply.json.results!) acknowledged.add(r.id)
        } catch {
          return // refused or cut: never acknowledged
        }
      }
    })
    await until(() => acknowledged.size >= 200)

    // a request in flight: its headers and half its body are in when the signal comes
    const slowBatch = observations(5)
    const slow = slowPost(url, TOKENS.sensorEe, JSON.stringify({ events: slowBatch }))
    await new Promise((r) => setTimeout(r, 200))

    // a load balancer's health check on a kept-alive connection: ready before the signal; a second
    // check is begun (its first header lines are in, so the connection is not idle)
    const health = rawConnection(url)
    await health.connected
    health.ask()
    const ready = await health.next()
    expect(ready.status).toBe(200)
    expect(ready.json).toMatchObject({ status: 'ready', store: 'sqlite' })
    health.begin()

    const signalled = Date.now()
    server.child.kill('SIGTERM')
    // no new connection is accepted...
    await until(() => refuses(url), 5_000)
    // ...and /readyz answers 503 `draining` from the start of the stop, on the connection still open
    health.finish()
    const draining = await health.next()
    expect(draining.status).toBe(503)
    expect(draining.connection).toBe('close')
    expect(draining.json).toEqual({
      error: { code: 'unavailable', message: 'draining: the server is shutting down', details: { reason: 'draining' } },
    })
    health.close()
    sending = false
    // ...while the request in flight is finished and answered, on a connection that then closes
    slow.finish()
    const answered = await slow.response
    expect(answered.status).toBe(201)
    expect(answered.connection).toBe('close')
    const results = (answered.json as { results: { id: string }[] }).results
    expect(results.map((r) => r.id)).toEqual(slowBatch.map((e) => e.id))
    for (const r of results) acknowledged.add(r.id)

    // the process ends by itself, with 0, within 10 s of the signal
    const exit = await server.exited
    expect(exit).toEqual({ code: 0, signal: null })
    expect(Date.now() - signalled).toBeLessThan(10_000)
    await Promise.all(senders)

    // the sockets were closed under their clients (`transport close`), which then try to come back
    expect(disconnects).toEqual(['transport close'])
    await until(() => reconnectAttempts > 0, 5_000)
    client.close()
    watcher.close()

    // the log on disk holds every acknowledged event
    const store = new SqliteEventStore({ file: join(server.dataDir, 'events.sqlite') })
    let log: StoredEvent[]
    try {
      log = await store.readAfter(0, 1_000_000)
      const stored = new Set(log.map((e) => e.id))
      expect([...acknowledged].filter((id) => !stored.has(id))).toEqual([])
      expect(acknowledged.size).toBeGreaterThanOrEqual(205)
    } finally {
      await store.close()
    }

    // the live console comes back to the next process on the same log and resumes exactly where it
    // was: every event it may see, once, in order, with what it had before the stop
    const kadri = PRINCIPALS.find((p) => p.token === TOKENS.viewerEe)!
    const viewer: Viewer = {
      userId: kadri.user,
      organisation: kadri.organisation,
      nation: kadri.nation,
      roles: kadri.roles as Viewer['roles'],
    }
    const visible = log.filter((e) => canSee(viewer, e)).map((e) => e.seq)
    expect(watcher.events.length).toBeGreaterThan(0)
    const next = await startCompiled(build.main, {}, server.dataDir)
    try {
      // the log goes on while the console is away
      const meanwhile = await post(next.url, TOKENS.sensorEe, { events: observations(30) })
      expect(meanwhile.status).toBe(201)
      const expected = [...visible, ...meanwhile.json.results!.map((r) => r.seq)]
      const resumed = new Watcher(next.url, TOKENS.viewerEe)
      try {
        expect((await resumed.subscribe(watcher.lastSeq)).ok).toBe(true)
        await resumed.waitFor(() => resumed.lastSeq >= expected.at(-1)!)
        expect(resumed.events.length).toBeGreaterThanOrEqual(30)
        expect([...watcher.events, ...resumed.events].map((e) => e.seq)).toEqual(expected)
      } finally {
        resumed.close()
      }
    } finally {
      next.child.kill('SIGKILL')
      await next.exited
    }
  })

  it('with WATCHFLOOR_DRAIN_MS, goes on serving new connections while /readyz answers 503, then stops', async () => {
    await cleanUp(server)
    server = await startCompiled(build.main, { WATCHFLOOR_DRAIN_MS: '1500' })
    const { url } = server
    expect((await fetch(`${url}/readyz`)).status).toBe(200)
    const signalled = Date.now()
    server.child.kill('SIGTERM')
    // a load balancer's next check, on a new connection: not ready, while requests are still served
    await until(async () => (await fetch(`${url}/readyz`)).status === 503, 1_000)
    const during = await fetch(`${url}/readyz`)
    expect(await during.json()).toMatchObject({ error: { details: { reason: 'draining' } } })
    const posted = await post(url, TOKENS.sensorEe, { events: observations(3) })
    expect(posted.status).toBe(201)
    expect(await refuses(url)).toBe(false)
    // after the drain: refused, and the process exits 0
    await until(() => refuses(url), 5_000)
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(1_500)
    expect(await server.exited).toEqual({ code: 0, signal: null })
    // the probe answering 503 while draining is its job, not an error: no error line for it
    const errors = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; req?: { route?: string } })
      .filter((line) => line.level >= 50)
    expect(errors).toEqual([])
  })
})

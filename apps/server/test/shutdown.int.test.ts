import { request } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import type { ClientToServerEvents, ServerToClientEvents } from '@watchfloor/protocol'
import { SqliteEventStore } from '@watchfloor/store'
import { io, type Socket } from 'socket.io-client'
import { afterAll, describe, expect, it } from 'vitest'
import { buildServer, type CompiledServer, cleanUp, startCompiled } from './compiled.ts'
import { observations, post, TOKENS, Watcher } from './harness.ts'

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

  it('stops accepting, finishes the request in flight, closes sockets so clients come back, keeps every acknowledged event, exits 0 within 10 s', async () => {
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

    const signalled = Date.now()
    server.child.kill('SIGTERM')
    // no new connection is accepted...
    await until(() => refuses(url), 5_000)
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
    try {
      const stored = new Set((await store.readAfter(0, 1_000_000)).map((e) => e.id))
      expect([...acknowledged].filter((id) => !stored.has(id))).toEqual([])
      expect(acknowledged.size).toBeGreaterThanOrEqual(205)
    } finally {
      await store.close()
    }
  })
})

import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import type { EventInput } from '../packages/protocol/src/index.ts'
import { Server } from './deps.ts'
import { accepted } from './lib.ts'

/**
 * The fan-out baselines: a bare Socket.IO 4 server. It takes the same POST bodies as
 * Watchfloor (`{ events: [...] }` on /api/v1/events); no auth, no validation, no store, no filter.
 *
 * `--mode per-event` (the old baseline): `io.emit('event', e)` to every client, one emit per event.
 * `--mode batched` (the hardest baseline): every client joins one room and each POST (one committed
 * group, as Watchfloor commits a POST in one transaction) goes out as one
 * `io.to(room).emit('events', { events })`, the message Watchfloor sends, with the same bytes: each
 * event as the log stores it (the sensor's actor filled in, a `seq` from a counter, `recordedAt`),
 * and the same 201 answer (`{ results: [{ id, seq, duplicate }] }`). Without them Watchfloor's
 * messages were a third larger (404 bytes an event against 296), and the clients' decoding of the
 * extra bytes was counted against the server.
 */
const { values } = parseArgs({ options: { mode: { type: 'string', default: 'per-event' } } })
const batched = values.mode === 'batched'
if (!batched && values.mode !== 'per-event') throw new Error(`unknown --mode ${values.mode}`)
const ROOM = 'watch'
let seq = 0
const http = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/api/v1/events') {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      let events: unknown[]
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events?: unknown }
        events = Array.isArray(body.events) ? body.events : [body]
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"validation"}}')
        return
      }
      if (batched) {
        const recordedAt = new Date().toISOString()
        const stored = events.map((event) => ({ ...accepted(event as EventInput), seq: ++seq, recordedAt }))
        io.to(ROOM).emit('events', { events: stored })
        const results = stored.map((event) => ({ id: event.id, seq: event.seq, duplicate: false }))
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ results }))
        return
      }
      for (const event of events) io.emit('event', event)
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: events.length }))
    })
    return
  }
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
    return
  }
  res.writeHead(404).end()
})

const io = new Server(http, { transports: ['websocket'], serveClient: false, maxHttpBufferSize: 1e6 })
if (batched) io.on('connection', (socket) => socket.join(ROOM))

http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo
  console.log(`bare Socket.IO server (${values.mode}) listening on http://127.0.0.1:${port}`)
})

const stop = () => {
  io.close()
  http.closeAllConnections()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { Server } from './deps.ts'

/**
 * The fan-out baselines: a bare Socket.IO 4 server. It takes the same POST bodies as
 * Watchfloor (`{ events: [...] }` on /api/v1/events); no auth, no validation, no store, no filter.
 *
 * `--mode per-event` (the old baseline): `io.emit('event', e)` to every client, one emit per event.
 * `--mode batched` (the hardest baseline): every client joins one room and each POST (one committed
 * group, as Watchfloor commits a POST in one transaction) goes out as one
 * `io.to(room).emit('events', { events })`, the message Watchfloor sends.
 */
const { values } = parseArgs({ options: { mode: { type: 'string', default: 'per-event' } } })
const batched = values.mode === 'batched'
if (!batched && values.mode !== 'per-event') throw new Error(`unknown --mode ${values.mode}`)
const ROOM = 'watch'
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
      if (batched) io.to(ROOM).emit('events', { events })
      else for (const event of events) io.emit('event', event)
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

import { fdatasync, mkdtempSync, openSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { EventInput } from '../packages/protocol/src/index.ts'
import { Database, Server } from './deps.ts'
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
 * `--mode durable` (a reference, not a target): `batched` plus the one thing Watchfloor may not
 * skip, the durable commit before the emit: each POST's events inserted in one SQLite transaction
 * (WAL, a scratch file) and the write-ahead log synced (`fdatasync` on libuv's thread pool, as
 * Watchfloor's store does) before the room hears of them. What is left between it and Watchfloor is
 * Watchfloor's own request path (auth, validation, policy, metrics) rather than durability.
 */
const { values } = parseArgs({ options: { mode: { type: 'string', default: 'per-event' } } })
const durable = values.mode === 'durable'
const batched = values.mode === 'batched' || durable
if (!batched && values.mode !== 'per-event') throw new Error(`unknown --mode ${values.mode}`)
const ROOM = 'watch'
let seq = 0

/** The durable mode's log: a scratch SQLite file in WAL mode, removed at exit. */
const log = durable ? openLog() : undefined
function openLog() {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-bench-durable-'))
  const db = new Database(join(dir, 'log.db'))
  db.pragma('journal_mode = WAL')
  // as Watchfloor's store: SQLite does not sync inside the commit, the sync below does
  db.pragma('synchronous = NORMAL')
  db.exec(
    'CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, recorded_at TEXT NOT NULL, body TEXT NOT NULL)',
  )
  const insert = db.prepare<[number, string, string, string]>(
    'INSERT INTO events (seq, id, recorded_at, body) VALUES (?, ?, ?, ?)',
  )
  const commit = db.transaction((events: (EventInput & { seq: number; recordedAt: string })[]) => {
    for (const event of events) insert.run(event.seq, event.id as string, event.recordedAt, JSON.stringify(event))
  })
  // the write-ahead log exists from the first write (the table above) on
  const wal = openSync(join(dir, 'log.db-wal'), 'r+')
  return { dir, db, commit, wal }
}
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
        const send = () => {
          io.to(ROOM).emit('events', { events: stored })
          const results = stored.map((event) => ({ id: event.id, seq: event.seq, duplicate: false }))
          res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ results }))
        }
        if (!log) {
          send()
          return
        }
        log.commit(stored)
        fdatasync(log.wal, (error) => {
          if (error) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"internal"}}')
          else send()
        })
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
  if (log) {
    log.db.close()
    rmSync(log.dir, { recursive: true, force: true })
  }
  http.closeAllConnections()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

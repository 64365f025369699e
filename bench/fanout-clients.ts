import { parseArgs } from 'node:util'
import { io, type Socket } from 'socket.io-client'
import type {
  ClientToServerEvents,
  EventInput,
  ServerToClientEvents,
  SubscribeAck,
} from '../packages/protocol/src/index.ts'

/**
 * The fan-out clients: N Socket.IO clients (WebSocket transport) in one process,
 * spawned by bench/fanout.ts with an IPC channel. Every bench event carries
 * `payload.indicator = "<phase>:<warm 0|1>:<send time ms>"`; each delivery is
 * counted per phase and its ingest-to-receive latency goes into one histogram
 * shared by all clients (0.1 ms buckets), so percentiles are over every delivery.
 *
 * `--url a,b,c`: the clients are spread over the URLs in turn (several server processes).
 *
 * mode `watchfloor`: token auth, `subscribe { after }`, `events` batches, `resync` handled.
 * mode `bare`: plain `event` messages from bench/bare-server.ts (one per event).
 * mode `bare-batched`: `events` batches from bench/bare-server.ts --mode batched (no seq, no subscribe).
 */

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    mode: { type: 'string', default: 'watchfloor' },
    clients: { type: 'string', default: '200' },
    token: { type: 'string', default: '' },
    after: { type: 'string', default: '0' },
  },
})
/** One server URL, or several comma-separated (server processes of one log): client i uses URL i mod n. */
const urls = values.url!.split(',')
const mode = values.mode as 'watchfloor' | 'bare' | 'bare-batched'
const clientCount = Number(values.clients)
const after = Number(values.after)

const BUCKET_MS = 0.1
const BUCKETS = 300_000 // 30 s

interface Phase {
  deliveries: number
  warmDeliveries: number
  histogram: Uint32Array
  overflow: number
  max: number
  minSent: number
  maxReceived: number
  /** Worst latency per second of send time: shows whether a p99 comes from one stall or from steady queueing. */
  maxBySecond: Map<number, number>
}

const phases = new Map<number, Phase>()
const totals = { duplicates: 0, gaps: 0, resyncs: 0, disconnects: 0, unparsed: 0 }

const nowMs = () => performance.timeOrigin + performance.now()

function phaseOf(index: number): Phase {
  let phase = phases.get(index)
  if (!phase) {
    phase = {
      deliveries: 0,
      warmDeliveries: 0,
      histogram: new Uint32Array(BUCKETS),
      overflow: 0,
      max: 0,
      minSent: Number.POSITIVE_INFINITY,
      maxReceived: 0,
      maxBySecond: new Map(),
    }
    phases.set(index, phase)
  }
  return phase
}

function record(indicator: unknown, received: number): void {
  if (typeof indicator !== 'string') {
    totals.unparsed++
    return
  }
  const [p, w, t] = indicator.split(':')
  const sent = Number(t)
  if (p === undefined || w === undefined || !Number.isFinite(sent)) {
    totals.unparsed++
    return
  }
  const phase = phaseOf(Number(p))
  if (w === '1') {
    phase.warmDeliveries++
    return
  }
  const latency = Math.max(0, received - sent)
  phase.deliveries++
  if (sent < phase.minSent) phase.minSent = sent
  if (received > phase.maxReceived) phase.maxReceived = received
  if (latency > phase.max) phase.max = latency
  const second = Math.floor(sent / 1000)
  if (latency > (phase.maxBySecond.get(second) ?? 0)) phase.maxBySecond.set(second, latency)
  const bucket = Math.floor(latency / BUCKET_MS)
  if (bucket < BUCKETS) phase.histogram[bucket]!++
  else phase.overflow++
}

const indicatorOf = (event: { payload: unknown }) => (event.payload as { indicator?: unknown }).indicator

type WatchSocket = Socket<ServerToClientEvents, ClientToServerEvents>
const sockets: Socket[] = []

function connect(index: number): Promise<void> {
  const socket = io(urls[index % urls.length]!, {
    transports: ['websocket'],
    auth: mode === 'watchfloor' ? { token: values.token } : {},
    reconnection: false,
    forceNew: true,
    timeout: 30_000,
  })
  sockets.push(socket)
  socket.on('disconnect', () => {
    if (!stopping) totals.disconnects++
  })
  if (mode === 'bare') {
    socket.on('event', (event: EventInput) => record(indicatorOf(event), nowMs()))
  } else if (mode === 'bare-batched') {
    socket.on('events', ({ events }: { events: EventInput[] }) => {
      const received = nowMs()
      for (const event of events) record(indicatorOf(event), received)
    })
  } else {
    const watch = socket as WatchSocket
    let last = after
    watch.on('events', ({ events }) => {
      const received = nowMs()
      for (const event of events) {
        if (event.seq <= last) {
          totals.duplicates++
          continue
        }
        if (event.seq !== last + 1) totals.gaps++
        last = event.seq
        record(indicatorOf(event), received)
      }
    })
    watch.on('checkpoint', ({ seq }) => {
      // Only bench events are in the log and all are visible, so a checkpoint never skips one.
      if (seq > last) totals.gaps++
    })
    watch.on('resync', () => {
      totals.resyncs++
      watch.emit('subscribe', { after: last }, () => {})
    })
  }
  return new Promise<void>((resolve, reject) => {
    socket.once('connect_error', reject)
    socket.once('connect', () => {
      if (mode !== 'watchfloor') return resolve()
      ;(socket as WatchSocket)
        .timeout(30_000)
        .emitWithAck('subscribe', { after })
        .then(
          (ack: SubscribeAck) => (ack.ok ? resolve() : reject(new Error(`subscribe: ${ack.error.message}`))),
          reject,
        )
    })
  })
}

function percentile(phase: Phase, p: number): number | null {
  const total = phase.deliveries
  if (total === 0) return null
  const rank = Math.ceil(p * total)
  let seen = 0
  for (let i = 0; i < BUCKETS; i++) {
    seen += phase.histogram[i]!
    if (seen >= rank) return (i + 0.5) * BUCKET_MS
  }
  return phase.max
}

function stats(index: number) {
  const phase = phaseOf(index)
  const window = phase.deliveries > 0 ? (phase.maxReceived - phase.minSent) / 1000 : 0
  return {
    deliveries: phase.deliveries,
    warmDeliveries: phase.warmDeliveries,
    p50: percentile(phase, 0.5),
    p90: percentile(phase, 0.9),
    p99: percentile(phase, 0.99),
    max: phase.deliveries > 0 ? phase.max : null,
    deliveriesPerSecond: window > 0 ? phase.deliveries / window : null,
    maxMsBySecond: [...phase.maxBySecond.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => Math.round(v)),
    ...totals,
    connected: sockets.filter((s) => s.connected).length,
  }
}
export type ClientStats = ReturnType<typeof stats>

let stopping = false
async function stop(): Promise<void> {
  stopping = true
  for (const socket of sockets) socket.close()
  await new Promise((resolve) => setTimeout(resolve, 100))
  process.exit(0)
}

process.on('message', (message: { id: number; type: string; phase?: number }) => {
  const reply = (body: object) => process.send!({ id: message.id, ...body })
  if (message.type === 'count') reply({ deliveries: phaseOf(message.phase!).deliveries })
  else if (message.type === 'stats') reply({ stats: stats(message.phase!) })
  else if (message.type === 'stop') void stop()
})
// The parent went away: never linger.
process.on('disconnect', () => void stop())

async function main(): Promise<void> {
  // Connect in waves of 20, as a room of consoles would arrive, not as one storm.
  for (let i = 0; i < clientCount; i += 20)
    await Promise.all(Array.from({ length: Math.min(20, clientCount - i) }, (_, j) => connect(i + j)))
  process.send!({ id: 0, type: 'ready', clients: sockets.length })
}

main().catch((error: unknown) => {
  console.error('fanout-clients:', error)
  process.exit(1)
})

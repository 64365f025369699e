/** A socket.io client socket and the server's REST reads, in memory, to drive data/connection.ts in unit tests. */
import { defaultLiveSince, fold, initialState, livePicture, liveStateToJson, stateToJson } from '@watchfloor/core'
import type { StoredEvent, SubscribeAck } from '@watchfloor/protocol'

type Handler = (...args: unknown[]) => void
export type Ack = (err: Error | null, ack: SubscribeAck) => void

/** Just enough of a socket.io client socket to drive the connection module. */
export class FakeSocket {
  connected = false
  active = true
  handlers = new Map<string, Handler[]>()
  subscribes: { after: number; ack: Ack }[] = []
  disconnected = false

  on(event: string, handler: Handler) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler])
    return this
  }
  removeAllListeners() {
    this.handlers.clear()
    return this
  }
  /** The ack waits asked for, in order. */
  timeouts: number[] = []
  timeout(ms: number) {
    this.timeouts.push(ms)
    return this
  }
  emit(event: string, request: { after: number }, ack: Ack) {
    if (event === 'subscribe') this.subscribes.push({ after: request.after, ack })
    return this
  }
  connect() {
    return this
  }
  disconnect() {
    this.disconnected = true
    this.connected = false
    return this
  }
  fire(event: string, ...args: unknown[]) {
    if (event === 'connect') this.connected = true
    if (event === 'disconnect') this.connected = false
    for (const handler of this.handlers.get(event) ?? []) handler(...args)
  }
  lastAck(): Ack {
    const last = this.subscribes.at(-1)
    if (!last) throw new Error('no subscribe')
    return last.ack
  }
}

export interface Call {
  path: string
  params: URLSearchParams
  headers: Record<string, string>
}

/**
 * The REST side of a server, in memory (unit tests only: the integration test reads a real server):
 * `GET /api/v1/state` folds the log up to its head, `GET /api/v1/events` pages it on the recorded
 * clock as docs/api.md says. `failures` answer the next calls with those statuses.
 */
export function fakeServer(log: StoredEvent[]) {
  const calls: Call[] = []
  const failures: { status: number; code: string; message: string }[] = []
  const server = {
    calls,
    failures,
    log,
    fetchFn: undefined as unknown as typeof fetch,
    onCall: (_call: Call) => {},
    /** When set, every answer waits for it. */
    gate: null as Promise<void> | null,
    /** How far the server's clock is from this one: its answers' `Date` says so. */
    clockOffsetMs: 0,
  }
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', date: new Date(Date.now() + server.clockOffsetMs).toUTCString() },
    })
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://console.test')
    const call = { path: url.pathname, params: url.searchParams, headers: { ...(init?.headers as object) } }
    calls.push(call)
    server.onCall(call)
    if (server.gate) await server.gate
    const failure = failures.shift()
    if (failure) return json(failure.status, { error: { code: failure.code, message: failure.message } })
    const head = log.at(-1)?.seq ?? 0
    if (url.pathname === '/api/v1/state') {
      const whole = fold(initialState, log)
      if (url.searchParams.get('scope') !== 'live') return json(200, stateToJson(whole))
      // the live cut as the server makes it: core's livePicture of the whole picture
      const since = url.searchParams.get('since')
      const live = livePicture(whole, {
        sinceMs: since === null ? defaultLiveSince(whole, Date.now()) : Date.parse(since),
        include: url.searchParams.getAll('include'),
      })
      return json(200, liveStateToJson(live.state, live.omitted))
    }
    if (url.pathname === '/api/v1/events') {
      const q = url.searchParams
      const after = Number(q.get('after') ?? 0)
      const limit = Number(q.get('limit') ?? 500)
      const from = q.has('from') ? Date.parse(q.get('from')!) : Number.NEGATIVE_INFINITY
      const to = q.has('to') ? Date.parse(q.get('to')!) : Number.POSITIVE_INFINITY
      const inRange = log.filter(
        (e) => e.seq > after && Date.parse(e.recordedAt) >= from && Date.parse(e.recordedAt) < to,
      )
      const events = inRange.slice(0, limit)
      const next = events.length === limit && inRange.length > limit ? events.at(-1)!.seq : Math.max(head, after)
      return json(200, { events, next, head })
    }
    return json(404, { error: { code: 'not_found', message: 'no such route' } })
  }) as typeof fetch
  server.fetchFn = fetchFn
  return server
}

import { timingSafeEqual } from 'node:crypto'
import { COMMAND_TYPES, REVOKED_REASONS, type StoredEvent, WatchfloorError } from '@watchfloor/protocol'
import type { AppendResult, EventStore } from '@watchfloor/store'
import type { RequestHandler } from 'express'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { type Access, type CallerKind, isAdmin } from '../access/access.ts'

/**
 * What the live gateway reports (live/gateway.ts): resyncs, slow consumers, catch-up pages and
 * how long appended events took to reach the live rooms.
 */
export interface GatewayMetrics {
  resync(reason: 'access_changed' | 'slow_consumer'): void
  slowConsumer(action: 'resync' | 'disconnect'): void
  catchUpPage(): void
  fannedOut(events: readonly StoredEvent[]): void
}

/** Why a sign-in, a token or a session was refused (the `reason` label of `watchfloor_signin_refusals_total`). */
export const SIGN_IN_REFUSALS = [
  'wrong_password',
  'throttled',
  'malformed',
  'unknown_token',
  // a credential that no longer holds: the reasons a live socket is told when it is revoked
  ...REVOKED_REASONS,
] as const
export type SignInRefusal = (typeof SIGN_IN_REFUSALS)[number]

/** The `kind` label of `watchfloor_sockets`: how the socket's caller authenticated. */
const SOCKET_KINDS: readonly CallerKind[] = ['session', 'api', 'display']

const COMMAND_TYPE_SET: ReadonlySet<string> = new Set(COMMAND_TYPES)

/** Seconds: from a fast read to a long export. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
/** Seconds: an append is a commit (group commit on SQLite, a round trip on PostgreSQL). */
const APPEND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
/** Seconds: from the store's recordedAt to the emit to the live rooms. */
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * The server's Prometheus metrics, in a registry of its own (several servers may run in one
 * process). docs/api.md lists every metric and its labels; `GET /metrics` serves them to
 * operators only (`metricsRoute`).
 */
export class Metrics implements GatewayMetrics {
  readonly registry = new Registry()
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>
  readonly eventsAppended: Counter
  readonly appendDuration: Histogram
  readonly fanOutLag: Histogram
  readonly sockets: Gauge<'kind'>
  readonly resyncs: Counter<'reason'>
  readonly slowConsumers: Counter<'action'>
  readonly catchUpPages: Counter
  readonly commands: Counter<'type' | 'outcome'>
  readonly signInRefusals: Counter<'reason'>
  readonly head: Gauge
  private countSockets: () => Iterable<CallerKind | undefined> = () => []

  constructor(store: Pick<EventStore, 'head' | 'notificationQueueUsage'>) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.httpDuration = new Histogram({
      name: 'watchfloor_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status, and how long they took',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    })
    this.eventsAppended = new Counter({
      name: 'watchfloor_events_appended_total',
      help: 'Events this process appended to the log (duplicates not counted)',
      registers,
    })
    this.appendDuration = new Histogram({
      name: 'watchfloor_append_duration_seconds',
      help: 'How long an append to the log took, until it was committed',
      buckets: APPEND_BUCKETS,
      registers,
    })
    this.fanOutLag = new Histogram({
      name: 'watchfloor_fanout_lag_seconds',
      help: "From an event's recordedAt to its emit to the live sockets, per event",
      buckets: LAG_BUCKETS,
      registers,
    })
    const countSockets = () => this.countSockets()
    this.sockets = new Gauge({
      name: 'watchfloor_sockets',
      help: 'Connected sockets by how their caller authenticated (session: console, api, display: wall)',
      labelNames: ['kind'],
      registers,
      collect() {
        const counts = new Map<string, number>(SOCKET_KINDS.map((kind) => [kind, 0]))
        for (const kind of countSockets()) if (kind !== undefined) counts.set(kind, (counts.get(kind) ?? 0) + 1)
        for (const [kind, count] of counts) this.set({ kind }, count)
      },
    })
    this.resyncs = new Counter({
      name: 'watchfloor_resyncs_total',
      help: 'Sockets told to resync, by reason',
      labelNames: ['reason'],
      registers,
    })
    this.slowConsumers = new Counter({
      name: 'watchfloor_slow_consumers_total',
      help: 'Slow consumers found, by what was done: resync (told to resync) or disconnect',
      labelNames: ['action'],
      registers,
    })
    this.catchUpPages = new Counter({
      name: 'watchfloor_catchup_pages_total',
      help: 'Pages of the log read to catch sockets up',
      registers,
    })
    this.commands = new Counter({
      name: 'watchfloor_commands_total',
      help: 'Coordination commands by type and outcome (accepted, or the error code)',
      labelNames: ['type', 'outcome'],
      registers,
    })
    this.signInRefusals = new Counter({
      name: 'watchfloor_signin_refusals_total',
      help: 'Refused sign-ins, tokens and sessions, by reason',
      labelNames: ['reason'],
      registers,
    })
    let lastHead = 0
    this.head = new Gauge({
      name: 'watchfloor_store_head',
      help: 'The seq of the last event in the log',
      registers,
      async collect() {
        // the store unreachable: the last head read, and the rest of the metrics all the same
        lastHead = await store.head().catch(() => lastHead)
        this.set(lastHead)
      },
    })
    const queueUsage = store.notificationQueueUsage?.bind(store)
    if (queueUsage) {
      let lastUsage = 0
      new Gauge({
        name: 'watchfloor_store_notification_queue_usage',
        help: "PostgreSQL: how full the cluster's notification queue is, 0 to 1 (a full queue fails every commit)",
        registers,
        async collect() {
          lastUsage = await queueUsage().catch(() => lastUsage)
          this.set(lastUsage)
        },
      })
    }
    for (const reason of ['access_changed', 'slow_consumer']) this.resyncs.inc({ reason }, 0)
    for (const action of ['resync', 'disconnect']) this.slowConsumers.inc({ action }, 0)
    for (const reason of SIGN_IN_REFUSALS) this.signInRefusals.inc({ reason }, 0)
  }

  /** Where `watchfloor_sockets` counts from: each connected socket's caller kind. */
  socketsFrom(kinds: () => Iterable<CallerKind | undefined>): void {
    this.countSockets = kinds
  }

  resync(reason: 'access_changed' | 'slow_consumer'): void {
    this.resyncs.inc({ reason })
  }

  slowConsumer(action: 'resync' | 'disconnect'): void {
    this.slowConsumers.inc({ action })
  }

  catchUpPage(): void {
    this.catchUpPages.inc()
  }

  fannedOut(events: readonly StoredEvent[]): void {
    const now = Date.now()
    for (const event of events) this.fanOutLag.observe(Math.max(0, now - Date.parse(event.recordedAt)) / 1000)
  }

  /** A command's outcome: `accepted` or its error code; a type that is no command is `unknown`. */
  command(body: unknown, outcome: string): void {
    const type = (body as { type?: unknown } | null)?.type
    this.commands.inc({ type: typeof type === 'string' && COMMAND_TYPE_SET.has(type) ? type : 'unknown', outcome })
  }

  signInRefused(reason: SignInRefusal): void {
    this.signInRefusals.inc({ reason })
  }

  /** The text format (`text/plain; version=0.0.4`). */
  render(): Promise<string> {
    return this.registry.metrics()
  }
}

/**
 * The store, with every append counted and timed. Everything else is the store's own, so the
 * wrapper behaves exactly as the store does (the contract suite's rules hold through it).
 */
export function instrumentStore(store: EventStore, metrics: Metrics): EventStore {
  const append = async (events: Parameters<EventStore['append']>[0]): Promise<AppendResult[]> => {
    const stop = metrics.appendDuration.startTimer()
    try {
      const results = await store.append(events)
      const appended = results.filter((result) => !result.duplicate).length
      if (appended > 0) metrics.eventsAppended.inc(appended)
      return results
    } finally {
      stop()
    }
  }
  const exclusive = store.exclusive
  return {
    kind: store.kind,
    append,
    readAfter: (after, limit) => store.readAfter(after, limit),
    seqsOf: (ids) => store.seqsOf(ids),
    readRecordedRange: (from, to, after, limit) => store.readRecordedRange(from, to, after, limit),
    head: () => store.head(),
    onAppend: (listener) => store.onAppend(listener),
    ...(exclusive
      ? { exclusive: <T>(name: string, work: (held: () => boolean) => Promise<T>) => exclusive.call(store, name, work) }
      : {}),
    ping: () => store.ping(),
    close: () => store.close(),
  } as EventStore
}

/**
 * `GET /metrics`: operator data, guarded. With WATCHFLOOR_METRICS_TOKEN set, only
 * `Authorization: Bearer <that token>` may read it (401 otherwise); unset, only a signed-in admin
 * (session cookie, API or static token; 401 without a credential, 403 for anyone else).
 */
export function metricsRoute(metrics: Metrics, access: Access, token: string | undefined): RequestHandler {
  const expected = token === undefined ? undefined : Buffer.from(token)
  return async (req, res) => {
    res.setHeader('Cache-Control', 'no-store')
    if (expected !== undefined) {
      const given = req.headers.authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1]
      if (given === undefined || !sameSecret(Buffer.from(given), expected))
        throw new WatchfloorError(
          'unauthenticated',
          'the metrics need Authorization: Bearer <WATCHFLOOR_METRICS_TOKEN>',
        )
    } else if (!isAdmin(await access.fromRequest(req)))
      throw new WatchfloorError('forbidden', 'the metrics are for admins (or set WATCHFLOOR_METRICS_TOKEN)')
    res.type(metrics.registry.contentType).send(await metrics.render())
  }
}

function sameSecret(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected)
}

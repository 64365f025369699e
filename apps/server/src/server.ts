import { createServer, type Server as HttpServer, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket as TcpSocket } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import type { ClientToServerEvents, ServerToClientEvents } from '@watchfloor/protocol'
import { ORGANISATION_ENTRIES } from '@watchfloor/simulator'
import { type CredentialStore, type EventStore, openStores, type Stores } from '@watchfloor/store'
import type { Logger } from 'pino'
import { Server } from 'socket.io'
import { type DemoAccess, seedDemoAccess } from './access/demo.ts'
import { Directory } from './access/directory.ts'
import { demoPrincipals, loadTokenFile, type StaticToken, TokenRegistry } from './access/tokens.ts'
import { type Config, fromSetting, namingSetting, SettingError } from './config.ts'
import { FeedPoller } from './feeds/poller.ts'
import { createHttp } from './http/app.ts'
import { answerClientError } from './http/errors.ts'
import { openBus } from './live/bus.ts'
import { Gateway, type WatchSocket } from './live/gateway.ts'
import { Presence } from './live/presence.ts'
import { createLogger } from './ops/logger.ts'
import { instrumentStore, Metrics } from './ops/metrics.ts'
import { ObservedAccess } from './ops/observedAccess.ts'
import { RELEASE } from './ops/release.ts'
import { cannotListen, cannotOpenStore, httpOrigin, prepareDataDir } from './ops/startup.ts'
import { FullState, StateCache } from './read/projection.ts'
import { Snapshots } from './read/snapshots.ts'
import { loadPresetFile, PresetRegistry } from './wall/presets.ts'
import { attachCommands, CommandService } from './write/commands.ts'

export interface RunningServer {
  url: string
  store: EventStore
  /** Accounts, API and display tokens, sessions: in the same database as the log. */
  credentials: CredentialStore
  registry: TokenRegistry
  logger: Logger
  /** The principals loaded from WATCHFLOOR_TOKENS, or the demo set. */
  principals: StaticToken[]
  demo: boolean
  /** The demo accounts and wall token (demo start only). */
  demoAccess: DemoAccess | undefined
  /**
   * Stop: from the start `/readyz` answers 503 `draining` (on a connection still open); no new
   * connection is accepted; with `graceMs`, HTTP requests in flight get that long to
   * finish (idle keep-alive connections are closed, a response sent meanwhile says
   * `Connection: close`); then every socket's connection is closed (its client reconnects, to any
   * process, and resumes from its cursor), what is still open is cut, and the stores are closed
   * (the SQLite store writes what is queued first). `graceMs` 0 (default): no waiting. With
   * `drainMs`, all that is preceded by that long of serving as usual (new connections too) while
   * `/readyz` already answers 503 `draining`, so that a load balancer polling it moves traffic away
   * before connections are refused.
   */
  close(options?: { graceMs?: number; drainMs?: number }): Promise<void>
}

/**
 * Open the store, then serve REST, the socket gateway and the console on one port. What the
 * operator's settings make fail (a token file, a data folder, a database, the port) rejects with a
 * `SettingError` of one line naming the setting (ops/startup.ts).
 */
export async function startServer(config: Config): Promise<RunningServer> {
  // JSON lines; a request's lines carry its id and principal, and no secret (ops/logger.ts)
  const logger = createLogger(config.logLevel)
  // the data folder holds the SQLite database and the demo files: made 0700, and writable
  if (!config.databaseUrl || !config.tokensFile) prepareDataDir(config.dataDir)
  const principals = config.tokensFile ? loadTokenFile(config.tokensFile) : demoPrincipals(config.dataDir)
  const registry = new TokenRegistry(principals)
  const presets = new PresetRegistry(
    config.wallPresetsFile ? fromSetting('WATCHFLOOR_WALL_PRESETS', () => loadPresetFile(config.wallPresetsFile!)) : [],
  )
  const opened = await openStores({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }).catch(
    (error: unknown) => {
      throw cannotOpenStore(error, config)
    },
  )
  // what is started from here is stopped again, last first, when a later step fails (the port in
  // use, say): the stores closed, so a process that goes on (a test, a bench, a supervisor in
  // process) may start again on the same log, whose one writer (the SQLite claim) is let go
  const started: (() => unknown)[] = [() => opened.events.close(), () => opened.credentials.close()]
  try {
    return await serve(config, logger, principals, registry, presets, opened, started)
  } catch (error) {
    for (const stop of started.reverse())
      await Promise.resolve()
        .then(stop)
        .catch((cause: unknown) => logger.warn({ err: cause }, 'a step of a failed start did not stop cleanly'))
    throw error
  }
}

/** The rest of a start, once the stores are open: each thing it starts is pushed on `started`. */
async function serve(
  config: Config,
  logger: Logger,
  principals: StaticToken[],
  registry: TokenRegistry,
  presets: PresetRegistry,
  opened: Stores,
  started: (() => unknown)[],
): Promise<RunningServer> {
  if (opened.tightened.length > 0)
    logger.warn(
      { files: opened.tightened },
      'database files other users could read or write were set to mode 0600 (they hold password and token hashes and every event)',
    )
  const { credentials } = opened
  // across processes of one PostgreSQL log: Socket.IO's PostgreSQL adapter, or its Redis adapter
  // with WATCHFLOOR_REDIS_URL, for presence and credential changes (live/bus.ts); listening before
  // the directory is loaded and the first credential checked, so no change made meanwhile is missed
  const bus = config.databaseUrl
    ? await openBus({
        databaseUrl: config.databaseUrl,
        redisUrl: config.redisUrl,
        logger,
        sealer: opened.events.sealer,
      }).catch((error: unknown) => {
        // openBus names WATCHFLOOR_REDIS_URL itself when Redis cannot be reached
        const named = namingSetting(error, 'WATCHFLOOR_REDIS_URL')
        throw named instanceof SettingError ? named : cannotOpenStore(error, config)
      })
    : undefined
  if (bus) started.push(() => bus.close())
  bus?.relayCredentials(credentials)
  if (bus && !bus.presence)
    logger.warn(
      "presence stays on this process, and the others' credential changes reach it only at its periodic checks: this role may read no key of the log to seal or open them with",
    )
  // Prometheus metrics of this server (GET /metrics, ops/metrics.ts); every append counted and timed
  const metrics = new Metrics(opened.events)
  const store = instrumentStore(opened.events, metrics)
  const demoAccess = config.tokensFile
    ? undefined
    : await seedDemoAccess(credentials, config.dataDir, config.passwordCost)
  // the directory: every organisation something already belongs to is in it [V10]
  const directory = new Directory(credentials, logger, { reloadMs: config.directoryReloadMs })
  await directory.start()
  started.push(() => directory.stop())
  // a static token that gives a user id to a second organisation stops the start, naming WATCHFLOOR_TOKENS
  const added = await directory
    .ensure([
      ...principals,
      ...(await credentials.listAccounts()),
      ...(await credentials.listTokens()).flatMap((token) => (token.service ? [token.service] : [])),
    ])
    .catch((error: unknown) => {
      throw namingSetting(error, 'WATCHFLOOR_TOKENS')
    })
  if (added.length > 0) logger.info({ organisations: added }, 'organisations added to the directory')
  // the demo scenario's relay posts for its organisations: each is in the directory under its name [V10],
  // once the start's own checks have passed (a start they refuse adds nothing)
  if (config.simulator) {
    const named = await directory.ensureNamed(ORGANISATION_ENTRIES)
    if (named.length > 0)
      logger.info({ organisations: named }, "the demo scenario's organisations added to the directory, or named")
  }
  const access = new ObservedAccess(metrics, registry, credentials, directory, {
    sessionTtlMs: config.sessionTtlMs,
    tokenTtlDays: config.tokenTtlDays,
    cookieSecure: config.cookieSecure,
    passwordCost: config.passwordCost,
    throttle: {
      maxPerUsername: config.loginMaxFailures,
      maxPerAddress: config.loginMaxFailuresPerAddress,
      windowMs: config.loginWindowMs,
    },
  })
  // projections start from their newest snapshot and fold only the tail (read/snapshots.ts)
  const snapshots = new Snapshots(
    config.snapshots ? opened.events.snapshots : undefined,
    { everyEvents: config.snapshotEveryEvents, everyMs: config.snapshotEveryMs, maxKeys: config.snapshotMaxKeys },
    (error) => logger.warn({ err: error }, 'snapshot not read or saved'),
  )
  void snapshots.prune()
  started.push(() => snapshots.settle())
  // the whole picture: who owns what, for raw ingest [A5], and which incident presence is about
  const full = new FullState(store, {
    snapshots,
    onError: (error) => logger.warn({ err: error }, 'rebuilding the index of reports failed; trying again later'),
  })
  // each viewer's picture; a new viewer no RED event names starts from its audience's (the full picture's RED index)
  const states = new StateCache(store, { snapshots, red: full })
  const stopFollowing = full.follow((error) => logger.warn({ err: error }, 'full state catch-up failed'))
  started.push(stopFollowing)
  // the pictures of the audiences of everyone who may sign in, folded in the background in one pass
  // over the log (yielding), so that a first console of a user no RED event names starts from its
  // audience's picture instead of folding the log on its request; and those of the users RED events
  // name (their pictures are their own), once the whole picture says who they are
  const preparing = Date.now()
  const ahead = states.prepareAhead(
    () => access.audiences(),
    (named) => access.namedUsers(named),
  )
  ahead.audiences.then(
    (audiences) => {
      if (audiences > 0) logger.info({ audiences, ms: Date.now() - preparing }, 'audience pictures prepared')
    },
    (error) => logger.warn({ err: error }, 'audience pictures not prepared'),
  )
  ahead.users.then(
    (users) => {
      if (users > 0) logger.info({ users, ms: Date.now() - preparing }, 'pictures of users RED events name prepared')
    },
    (error) => logger.warn({ err: error }, 'pictures of users RED events name not prepared'),
  )
  const commands = new CommandService(store, states, full.owners, access, logger, metrics)
  // partner feeds pulled in, one process at a time per feed (a lease in the credential store)
  const feeds = new FeedPoller(credentials, store, directory, () => full.owners.fresh(), logger, {
    tickMs: config.feedTickMs,
    allowHttp: config.feedAllowHttp,
    maxBodyBytes: config.feedMaxBodyBytes,
  })
  feeds.start()
  started.push(() => feeds.stop())
  // set when a graceful stop begins (`close`), until the process exits
  let stopping = false
  const { listener } = createHttp({
    store,
    registry,
    access,
    states,
    full,
    commands,
    presets,
    logger,
    consoleDir: config.consoleDir,
    trustProxy: config.trustProxy,
    feeds,
    metrics,
    metricsToken: config.metricsToken,
    // set by `close` below: from the start of a graceful stop `/readyz` answers 503 `draining`
    draining: () => stopping,
  })
  const http: HttpServer = createServer(listener)
  http.on('clientError', answerClientError)
  // requests in flight, for a graceful stop; once stopping, a keep-alive connection serves no more
  const inFlight = new Set<ServerResponse>()
  http.prependListener('request', (_req, res) => {
    inFlight.add(res)
    res.once('close', () => inFlight.delete(res))
    if (stopping) res.setHeader('connection', 'close')
  })
  // every TCP connection, WebSocket ones too (an upgraded socket leaves the HTTP server's own list)
  const connections = new Set<TcpSocket>()
  http.on('connection', (socket: TcpSocket) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
  })
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, {
    transports: ['websocket'],
    serveClient: false,
    maxHttpBufferSize: 1e6,
  })
  // made once the gateway has started (below); a fan-out before then has no presence to tell
  let presence: Presence | undefined
  const gateway = new Gateway(io, store, access, logger, {
    heartbeatMs: config.heartbeatMs,
    maxBufferedBytes: config.socketBufferBytes,
    maxBufferedPackets: config.socketBufferPackets,
    stallMs: config.socketStallMs,
    socketsPerPrincipal: config.socketsPerPrincipal,
    pageSize: 1000,
    gatherMs: config.fanoutGatherMs,
    recheckMs: config.credentialRecheckMs,
    metrics,
    // presence judges a report of an incident someone views as it goes out (Presence.reported)
    fannedOut: (events) => presence?.reported(events),
  })
  started.push(() => io.close())
  await gateway.start()
  started.push(() => gateway.stop())
  metrics.socketsFrom(() => [...io.sockets.sockets.values()].map((socket) => socket.data.caller?.kind))
  // coordination over the socket: `command` (the REST handler) and `viewing` / `presence`
  presence = new Presence(io, full, logger, bus?.presence, config.heartbeatMs)
  // after the gateway has given each socket its new viewer (it listens first): who may be seen viewing what
  const unwatchPresence = access.directory.onChange(() => presence.rejudge())
  started.push(unwatchPresence, () => presence.stop())
  io.on('connection', (socket: WatchSocket) => {
    attachCommands(socket, commands, access, logger)
    presence.attach(socket)
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', (error) => reject(cannotListen(error, config.host, config.port)))
    http.listen(config.port, config.host, () => resolve())
  })
  const { port } = http.address() as AddressInfo
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  // an IPv6 address in brackets (`http://[::1]:8080`): the printed links and the embedded simulator use it
  const url = httpOrigin(host, port)
  logger.info({ url, store: store.kind, version: RELEASE.version, commit: RELEASE.commit }, 'listening')
  return {
    url,
    store,
    credentials,
    registry,
    logger,
    principals,
    demo: !config.tokensFile,
    demoAccess,
    async close({ graceMs = 0, drainMs = 0 } = {}) {
      // from here `/readyz` answers 503 `draining` on any connection still open
      stopping = true
      if (drainMs > 0) {
        logger.info({ drainMs }, 'draining: /readyz answers 503, still serving')
        await delay(drainMs)
      }
      // stop listening: new connections are refused (a load balancer moves on); idle ones close
      const closed = new Promise<void>((resolve) => http.close(() => resolve()))
      feeds.stop()
      // requests in flight finish, their events still reaching live sockets
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close')
      const deadline = Date.now() + graceMs
      while (inFlight.size > 0 && Date.now() < deadline) {
        http.closeIdleConnections()
        await delay(20)
      }
      if (inFlight.size > 0) logger.warn({ requests: inFlight.size }, 'requests still in flight at shutdown: cut')
      stopFollowing()
      directory.stop()
      gateway.stop()
      unwatchPresence()
      presence.stop()
      // every socket's connection closes (`transport close` on the client, which reconnects);
      // a client that does not answer the WebSocket close in a second is cut
      void io.close()
      await Promise.race([closed, delay(graceMs > 0 ? 1000 : 0)])
      http.closeAllConnections()
      for (const socket of connections) socket.destroy()
      await closed
      // a restart starts from where this process got to
      await full.saveSnapshot()
      await states.saveSnapshots()
      // saves started for projections no longer held too
      await snapshots.settle()
      await store.close()
      await credentials.close()
      await bus?.close()
    },
  }
}

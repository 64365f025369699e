import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ClientToServerEvents, ServerToClientEvents } from '@watchfloor/protocol'
import { type CredentialStore, type EventStore, openStores } from '@watchfloor/store'
import type { Logger } from 'pino'
import { Server } from 'socket.io'
import { type DemoAccess, seedDemoAccess } from './access/demo.ts'
import { Directory } from './access/directory.ts'
import { demoPrincipals, loadTokenFile, type StaticToken, TokenRegistry } from './access/tokens.ts'
import type { Config } from './config.ts'
import { FeedPoller } from './feeds/poller.ts'
import { createApp } from './http/app.ts'
import { answerClientError } from './http/errors.ts'
import { Gateway, type WatchSocket } from './live/gateway.ts'
import { Presence } from './live/presence.ts'
import { createLogger } from './ops/logger.ts'
import { instrumentStore, Metrics } from './ops/metrics.ts'
import { ObservedAccess } from './ops/observedAccess.ts'
import { FullState, StateCache } from './read/projection.ts'
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
  close(): Promise<void>
}

/** Open the store, then serve REST, the socket gateway and the console on one port. */
export async function startServer(config: Config): Promise<RunningServer> {
  // JSON lines; a request's lines carry its id and principal, and no secret (ops/logger.ts)
  const logger = createLogger(config.logLevel)
  const principals = config.tokensFile ? loadTokenFile(config.tokensFile) : demoPrincipals(config.dataDir)
  const registry = new TokenRegistry(principals)
  const presets = new PresetRegistry(config.wallPresetsFile ? loadPresetFile(config.wallPresetsFile) : [])
  const opened = await openStores({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  const { credentials } = opened
  // Prometheus metrics of this server (GET /metrics, ops/metrics.ts); every append counted and timed
  const metrics = new Metrics(opened.events)
  const store = instrumentStore(opened.events, metrics)
  const demoAccess = config.tokensFile
    ? undefined
    : await seedDemoAccess(credentials, config.dataDir, config.passwordCost)
  // the directory: every organisation something already belongs to is in it [V10]
  const directory = new Directory(credentials, logger, { reloadMs: config.directoryReloadMs })
  await directory.start()
  const added = await directory.ensure([
    ...principals,
    ...(await credentials.listAccounts()),
    ...(await credentials.listTokens()).flatMap((token) => (token.service ? [token.service] : [])),
  ])
  if (added.length > 0) logger.info({ organisations: added }, 'organisations added to the directory')
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
  const states = new StateCache(store)
  // the whole picture: who owns what, for raw ingest [A5], and which incident presence is about
  const full = new FullState(store)
  const stopFollowing = full.follow((error) => logger.warn({ err: error }, 'full state catch-up failed'))
  const commands = new CommandService(store, states, logger, metrics)
  // partner feeds pulled in, one process at a time per feed (a lease in the credential store)
  const feeds = new FeedPoller(credentials, store, directory, () => full.fresh(), logger, {
    tickMs: config.feedTickMs,
    allowHttp: config.feedAllowHttp,
  })
  feeds.start()
  const app = createApp({
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
  })
  const http: HttpServer = createServer(app)
  http.on('clientError', answerClientError)
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, {
    transports: ['websocket'],
    serveClient: false,
    maxHttpBufferSize: 1e6,
  })
  const gateway = new Gateway(io, store, access, logger, {
    heartbeatMs: config.heartbeatMs,
    maxBufferedBytes: config.socketBufferBytes,
    maxBufferedPackets: config.socketBufferPackets,
    stallMs: config.socketStallMs,
    socketsPerPrincipal: config.socketsPerPrincipal,
    pageSize: 1000,
    recheckMs: config.credentialRecheckMs,
    metrics,
  })
  await gateway.start()
  metrics.socketsFrom(() => [...io.sockets.sockets.values()].map((socket) => socket.data.caller?.kind))
  // coordination over the socket: `command` (the REST handler) and `viewing` / `presence`
  const presence = new Presence(io, full, logger)
  io.on('connection', (socket: WatchSocket) => {
    attachCommands(socket, commands, access, logger)
    presence.attach(socket)
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(config.port, config.host, () => resolve())
  })
  const { port } = http.address() as AddressInfo
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  const url = `http://${host}:${port}`
  logger.info({ url, store: store.kind }, 'listening')
  return {
    url,
    store,
    credentials,
    registry,
    logger,
    principals,
    demo: !config.tokensFile,
    demoAccess,
    async close() {
      stopFollowing()
      feeds.stop()
      directory.stop()
      gateway.stop()
      io.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await store.close()
      await credentials.close()
    },
  }
}

import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ClientToServerEvents, ServerToClientEvents } from '@watchfloor/protocol'
import { type EventStore, openEventStore } from '@watchfloor/store'
import pino, { type Logger } from 'pino'
import { Server } from 'socket.io'
import { createApp } from './app.ts'
import { demoPrincipals, loadTokenFile, type Principal, TokenRegistry } from './auth.ts'
import type { Config } from './config.ts'
import { Gateway } from './gateway.ts'
import { StateCache } from './reads.ts'

export interface RunningServer {
  url: string
  store: EventStore
  registry: TokenRegistry
  logger: Logger
  /** The principals loaded from WATCHFLOOR_TOKENS, or the demo set. */
  principals: Principal[]
  demo: boolean
  close(): Promise<void>
}

/** Open the store, then serve REST, the socket gateway and the console on one port. */
export async function startServer(config: Config): Promise<RunningServer> {
  const logger = pino({ level: config.logLevel, base: { service: 'watchfloor' } })
  const principals = config.tokensFile ? loadTokenFile(config.tokensFile) : demoPrincipals(config.dataDir)
  const registry = new TokenRegistry(principals)
  const store = await openEventStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  const states = new StateCache(store)
  const app = createApp({ store, registry, states, logger, consoleDir: config.consoleDir })
  const http: HttpServer = createServer(app)
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, {
    transports: ['websocket'],
    serveClient: false,
    maxHttpBufferSize: 1e6,
  })
  const gateway = new Gateway(io, store, registry, logger, {
    heartbeatMs: config.heartbeatMs,
    maxBufferedPackets: config.socketBufferPackets,
    pageSize: 1000,
  })
  await gateway.start()
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
    registry,
    logger,
    principals,
    demo: !config.tokensFile,
    async close() {
      gateway.stop()
      io.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await store.close()
    },
  }
}

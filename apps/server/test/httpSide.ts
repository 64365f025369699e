import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStores } from '@watchfloor/store'
import { Directory } from '../src/access/directory.ts'
import { TokenRegistry } from '../src/access/tokens.ts'
import { FeedPoller } from '../src/feeds/poller.ts'
import { createHttp } from '../src/http/app.ts'
import { createLogger } from '../src/ops/logger.ts'
import { Metrics } from '../src/ops/metrics.ts'
import { ObservedAccess } from '../src/ops/observedAccess.ts'
import { FullState, StateCache } from '../src/read/projection.ts'
import { PresetRegistry } from '../src/wall/presets.ts'
import { CommandService } from '../src/write/commands.ts'

/**
 * The server's HTTP side as server.ts makes it (`createHttp`: the Express app and the request
 * listener), on a fresh SQLite data folder, with no process started; `close` removes it all.
 */
export async function httpSide(): Promise<ReturnType<typeof createHttp> & { close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'watchfloor-http-'))
  const logger = createLogger('warn')
  const stores = await openStores({ databaseUrl: undefined, dataDir })
  const { events: store, credentials } = stores
  const registry = new TokenRegistry([])
  const metrics = new Metrics(store)
  const directory = new Directory(credentials, logger, { reloadMs: 30_000 })
  const access = new ObservedAccess(metrics, registry, credentials, directory, {
    sessionTtlMs: 3_600_000,
    tokenTtlDays: 90,
    cookieSecure: false,
    passwordCost: 10,
    throttle: { maxPerUsername: 5, maxPerAddress: 20, windowMs: 900_000 },
  })
  const states = new StateCache(store)
  const full = new FullState(store)
  const http = createHttp({
    store,
    registry,
    access,
    states,
    full,
    commands: new CommandService(store, states, full.owners, access, logger, metrics),
    presets: new PresetRegistry([]),
    logger,
    consoleDir: join(dataDir, 'no-console'),
    trustProxy: false,
    feeds: new FeedPoller(credentials, store, directory, () => full.fresh(), logger, {
      tickMs: 60_000,
      allowHttp: false,
    }),
    metrics,
    metricsToken: undefined,
  })
  return {
    ...http,
    async close() {
      await stores.events.close()
      await stores.credentials.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

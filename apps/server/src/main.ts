import { randomBytes } from 'node:crypto'
import type { StoredEvent } from '@watchfloor/protocol'
import { HandsOff, ORGANISATIONS, runSimulator } from '@watchfloor/simulator'
import type { EventStore } from '@watchfloor/store'
import { loadConfig } from './config.ts'
import { demoStart, KEPT_TIME_BASES, readDemoLog, readDemoRun, writeDemoRun } from './ops/demoRun.ts'
import { RELEASE } from './ops/release.ts'
import { outsideRequest } from './ops/requestContext.ts'
import { operatorStartFailure } from './ops/startup.ts'
import { catchUp } from './read/projection.ts'
import { startServer } from './server.ts'

/** How long requests in flight get to finish after SIGTERM / SIGINT. */
const GRACE_MS = 8_000
/** Beside a demo account whose password the demo did not make (an admin's, a restored site's): kept. */
const KEPT_PASSWORD = ' (its own password, kept; `pnpm watchfloor accounts password USERNAME` sets a new one)'
/** After this, a stop that has not finished exits with 1. */
const FORCE_EXIT_MS = 10_000

/** `pnpm start`: the embedded default (SQLite under ./data, demo tokens, demo scenario, console). */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (error) {
    console.error(`watchfloor: ${(error as Error).message}`)
    if (process.env.WATCHFLOOR_DEBUG === '1') console.error((error as Error).stack)
    process.exit(2)
  }
  const server = await startServer(config)
  const { logger } = server

  const stopping = new AbortController()
  let simulation: Promise<unknown> = Promise.resolve()
  if (config.simulator) {
    // The embedded scenario posts through the REST API like any outside sender, as a relay
    // for the organisations of its networks, with a token of its own that is never printed.
    const token = `simulator-${randomBytes(18).toString('hex')}`
    server.registry.add({
      token,
      user: 'simulator',
      organisation: 'alliance',
      nation: 'ALLIANCE',
      roles: ['sensor'],
      sources: [...ORGANISATIONS],
    })
    // what people do to an incident is theirs: the scenario's scripted updates of it are held back
    const handsOff = new HandsOff('simulator')
    const head = await server.store.head()
    followLog(server.store, head, (events) => handsOff.note(events), stopping.signal)
    const settings = { seed: config.simulatorSeed, speed: config.simulatorSpeed, rate: config.simulatorRate }
    simulation = (async () => {
      // a demo started again on its log continues its story where it stopped (ops/demoRun.ts): the
      // log read once for where that was, and for the incidents people took over meanwhile
      const earlier = readDemoRun(config.dataDir)
      const lastPosted =
        earlier === undefined
          ? undefined
          : await readDemoLog(server.store, head, 'simulator', (events) => {
              if (stopping.signal.aborted) throw stopping.signal.reason
              handsOff.note(events)
            })
      const start = demoStart(earlier, settings, lastPosted, Date.now())
      if (start.resumeAfter !== undefined)
        logger.info('simulator: continuing the demo scenario where the last run stopped')
      // recorded once this run has posted (its time base is then that of the log's last event): a run
      // stopped before it posted leaves the record of the one whose events end the log; the earlier
      // time bases are kept too (a first batch stored whose answer was lost)
      let timeBase = start.startTime
      let recorded = false
      const record = () => {
        if (recorded) return
        recorded = true
        const before = start.resumeAfter === undefined ? [] : (earlier?.timeBases ?? [])
        try {
          writeDemoRun(config.dataDir, {
            ...settings,
            idSalt: start.idSalt,
            timeBases: [timeBase, ...before].slice(0, KEPT_TIME_BASES),
          })
        } catch (error) {
          logger.warn(
            { err: error },
            `simulator: cannot record the demo's run in ${config.dataDir}: a restart tells it afresh`,
          )
        }
      }
      return runSimulator({
        url: server.url,
        token,
        holdBack: (event) => handsOff.holdsBack(event),
        ...settings,
        startTime: start.startTime,
        idSalt: start.idSalt,
        ...(start.resumeAfter === undefined ? {} : { resumeAfter: start.resumeAfter }),
        onTimeBase: (found) => {
          timeBase = found
        },
        onProgress: record,
        signal: stopping.signal,
        onError: (error: unknown) => logger.warn({ err: error }, 'simulator post rejected'),
        // a POST that fails (the server not reachable at its own url, a 5xx) is retried, and said
        logger: {
          info: (message) => logger.info(`simulator: ${message}`),
          warn: (message) => logger.warn(`simulator: ${message}`),
        },
      })
    })().catch((error: unknown) => {
      if (!stopping.signal.aborted) logger.error({ err: error }, 'simulator stopped')
    })
  }

  const lines = [
    '',
    `Watchfloor ${RELEASE.version} (commit ${RELEASE.commit}) listening on ${server.url}`,
    `  store: ${server.store.kind}${config.databaseUrl ? '' : ` (${config.dataDir})`}; simulator: ${config.simulator ? 'on' : 'off'}`,
  ]
  if (server.demo) {
    lines.push('  demo tokens (open a link to sign in):')
    for (const p of server.principals)
      lines.push(`    ${p.user.padEnd(14)} ${p.roles.join(',').padEnd(14)} ${server.url}/#token=${p.token}`)
  }
  if (server.demoAccess) {
    const { accounts, file, wall } = server.demoAccess
    lines.push(`  demo accounts (sign in with a username; the passwords are in ${file}):`)
    for (const a of accounts)
      lines.push(
        `    ${a.username.padEnd(14)} ${a.roles.join(',').padEnd(14)} ${a.organisation} (${a.nation})${a.password === null ? KEPT_PASSWORD : ''}`,
      )
    lines.push(`  wall display (read-only, preset ${wall.preset}, up to TLP:${wall.tlpCeiling}):`)
    lines.push(`    ${server.url}/wall#token=${wall.secret}`)
  }
  console.log(`${lines.join('\n')}\n`)

  // SIGTERM / SIGINT: after WATCHFLOOR_DRAIN_MS of serving with /readyz at 503 (default 0), stop
  // accepting, let requests in flight finish (up to GRACE_MS), close the
  // sockets (their clients reconnect elsewhere and resume), close the stores, exit 0; a stop
  // that takes longer than FORCE_EXIT_MS after the drain exits 1 (docs/deploy.md)
  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    const started = Date.now()
    logger.info({ signal }, 'shutting down')
    setTimeout(() => {
      logger.error({ signal, ms: Date.now() - started }, 'shutdown took too long: exiting')
      process.exit(1)
    }, config.drainMs + FORCE_EXIT_MS).unref()
    stopping.abort()
    try {
      await Promise.all([simulation, server.close({ graceMs: GRACE_MS, drainMs: config.drainMs })])
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed')
      process.exit(1)
    }
    logger.info({ signal, ms: Date.now() - started }, 'stopped')
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

/**
 * Hand every event appended after `after` to `take`, in order, as it is appended, until `signal`
 * aborts. A failed read is tried again on the next append.
 */
function followLog(store: EventStore, after: number, take: (events: StoredEvent[]) => void, signal: AbortSignal): void {
  let cursor = after
  let reading: Promise<void> = Promise.resolve()
  const read = () =>
    catchUp(store, cursor, (page) => {
      if (signal.aborted) return
      take(page)
      cursor = page.at(-1)!.seq
    })
  // its reads are background work, not the request's whose append told of the head
  const stop = store.onAppend(() =>
    outsideRequest(() => {
      reading = reading.then(read).catch(() => {})
    }),
  )
  signal.addEventListener('abort', stop, { once: true })
}

// a failure the operator's settings caused is one line naming the setting (ops/startup.ts), its stack
// only with WATCHFLOOR_DEBUG=1, as on the command line; anything else is a fault of ours, with its stack
main().catch((error: unknown) => {
  const line = operatorStartFailure(error)
  if (line === undefined) console.error('watchfloor: failed to start:', error)
  else {
    console.error(`watchfloor: ${line}`)
    if (process.env.WATCHFLOOR_DEBUG === '1') console.error((error as Error).stack)
  }
  process.exit(1)
})

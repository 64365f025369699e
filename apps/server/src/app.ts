import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PROTOCOL_VERSION, WatchfloorError } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import express, { type ErrorRequestHandler, type Request } from 'express'
import type { Logger } from 'pino'
import { type Access, authenticate, type Caller, callerOf } from './access.ts'
import { type TokenRegistry, viewerOf } from './auth.ts'
import { type CommandService, commandRouter } from './commands.ts'
import { handoverRouter } from './handover.ts'
import { ingest } from './ingest.ts'
import { peopleRoutes, sessionRoutes } from './people.ts'
import { type PresetRegistry, wallRouter } from './presets.ts'
import { readVisible, type StateCache } from './reads.ts'
import { createReplayRouter, Replay } from './replay.ts'

export interface AppDeps {
  store: EventStore
  registry: TokenRegistry
  /** Who is calling: static tokens, API and display tokens, sessions. */
  access: Access
  states: StateCache
  /** Coordination commands (commands.ts), shared with the socket. */
  commands: CommandService
  presets: PresetRegistry
  logger: Logger
  consoleDir: string
}

const STATUS: Record<WatchfloorError['code'], number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
}

export const BODY_LIMIT = '10mb'

export function createApp({ store, access, states, commands, presets, logger, consoleDir }: AppDeps): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    next()
  })

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', protocolVersion: PROTOCOL_VERSION })
  })
  app.get('/readyz', async (_req, res) => {
    try {
      await store.ping()
      res.json({ status: 'ready', store: store.kind, head: await store.head() })
    } catch (error) {
      logger.warn({ err: error }, 'store not reachable')
      res.status(503).json({ error: { code: 'unavailable', message: 'the event store is not reachable' } })
    }
  })

  const api = express.Router()
  // People and access (people.ts): signing in and out, then every other route needs a caller
  // (session cookie, API token or display token; display tokens are read-only).
  api.use(sessionRoutes(access))
  api.use(authenticate(access))
  api.use(peopleRoutes(access))
  const principalOf = (req: Request): Caller => callerOf(req)

  api.post('/events', express.json({ limit: BODY_LIMIT, type: () => true }), async (req, res) => {
    const principal = principalOf(req)
    const results = await ingest(store, principal, req.body)
    res.status(results.every((r) => r.duplicate) ? 200 : 201).json({ results })
  })

  // replay (replay.ts): GET /state?at=, GET /events?from=&to=&clock=, GET /export; other requests fall through
  const replay = new Replay(store)
  api.use(createReplayRouter({ store, replay, logger, viewerFor: (req) => viewerOf(principalOf(req)) }))

  // coordination (commands.ts): POST /commands; the shift-handover brief (handover.ts): GET /handover
  api.use(commandRouter(commands))
  api.use(handoverRouter({ store, replay, viewerFor: (req) => viewerOf(principalOf(req)) }))

  api.get('/events', async (req, res) => {
    const principal = principalOf(req)
    const after = queryInt(req, 'after', 0, 0, Number.MAX_SAFE_INTEGER)
    const limit = queryInt(req, 'limit', 500, 1, 5000)
    res.json(await readVisible(store, viewerOf(principal), after, limit))
  })

  api.get('/state', async (req, res) => {
    const principal = principalOf(req)
    res.json(await states.stateFor(viewerOf(principal)))
  })

  api.use(
    '/wall',
    wallRouter(presets, (req) => {
      const caller = principalOf(req)
      return caller.kind === 'display' ? caller.preset : undefined
    }),
  )

  api.use((req, _res, next) => {
    next(new WatchfloorError('not_found', `no route ${req.method} /api/v1${req.path}`))
  })
  app.use('/api/v1', api)

  if (existsSync(join(consoleDir, 'index.html'))) {
    app.use(express.static(consoleDir, { index: 'index.html', maxAge: '1h' }))
    app.get('/{*splat}', (_req, res) => {
      res.sendFile(join(consoleDir, 'index.html'))
    })
  } else {
    app.get('/', (_req, res) => {
      res.status(503).type('text/plain').send('The console is not built: run `pnpm build` (pnpm start does it).\n')
    })
  }

  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    const failure = toWatchfloorError(error)
    if (failure.code === 'internal') logger.error({ err: error }, 'request failed')
    if (res.headersSent) return
    res.status(STATUS[failure.code]).json({ error: failure.toBody() })
  }
  app.use(onError)
  return app
}

function queryInt(req: Request, name: string, fallback: number, min: number, max: number): number {
  const raw = req.query[name]
  if (raw === undefined) return fallback
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new WatchfloorError('validation', `${name} must be a whole number from ${min} to ${max}`, {
      issues: [{ path: name, message: `expected a whole number from ${min} to ${max}` }],
    })
  return value
}

/** Body-parser and other errors become members of the error family. */
function toWatchfloorError(error: unknown): WatchfloorError {
  if (error instanceof WatchfloorError) return error
  const type = (error as { type?: string } | null)?.type
  if (type === 'entity.too.large') return new WatchfloorError('too_large', `request body over ${BODY_LIMIT}`)
  if (type === 'entity.parse.failed') return new WatchfloorError('validation', 'request body is not valid JSON')
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return new WatchfloorError('validation', 'unsupported body encoding')
  return new WatchfloorError('internal', 'internal error')
}

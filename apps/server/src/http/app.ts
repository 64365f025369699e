import { existsSync } from 'node:fs'
import type { RequestListener, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { PROTOCOL_VERSION, WatchfloorError } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import express, { type Request } from 'express'
import helmet, { strictTransportSecurity } from 'helmet'
import type { Logger } from 'pino'
import { type Access, authenticate, type Caller, callerOf, requestCaller } from '../access/access.ts'
import { directoryRoutes } from '../access/directoryRoutes.ts'
import { peopleDirectoryRoutes } from '../access/peopleDirectory.ts'
import { peopleRoutes, sessionRoutes } from '../access/routes.ts'
import { type TokenRegistry, viewerOf } from '../access/tokens.ts'
import type { TrustProxy } from '../config.ts'
import type { FeedPoller } from '../feeds/poller.ts'
import { feedRoutes } from '../feeds/routes.ts'
import { type Metrics, metricsRoute } from '../ops/metrics.ts'
import { RELEASE } from '../ops/release.ts'
import { noteRoute, requestContext } from '../ops/requestContext.ts'
import { mispFeedRouter } from '../read/misp.ts'
import { type FullState, Replay, type StateCache } from '../read/projection.ts'
import { readRouter } from '../read/routes.ts'
import { taxiiRouter } from '../taxii/taxiiRouter.ts'
import { type PresetRegistry, wallRouter } from '../wall/presets.ts'
import { type CommandService, commandRouter } from '../write/commands.ts'
import { importRouter } from '../write/imports.ts'
import { ingest } from '../write/ingest.ts'
import { errorHandler, sendJson } from './errors.ts'
import { eventsLane, isEventsPost } from './eventsLane.ts'
import { openApiDocument } from './openapi.ts'
import { refuseUndocumentedQuery } from './query.ts'

export interface AppDeps {
  store: EventStore
  registry: TokenRegistry
  /** Who is calling: static tokens, API and display tokens, sessions. */
  access: Access
  states: StateCache
  /** The whole picture: who owns what, for raw ingest [A5]. */
  full: FullState
  /** Coordination commands (write/commands.ts), shared with the socket. */
  commands: CommandService
  presets: PresetRegistry
  logger: Logger
  consoleDir: string
  /** Express's `trust proxy` (WATCHFLOOR_TRUST_PROXY): who may say the client's address. */
  trustProxy: TrustProxy
  /** Partner feeds pulled in (feeds/poller.ts), for `POST /api/v1/feeds/:id/poll`. */
  feeds: FeedPoller
  /** This server's Prometheus metrics (ops/metrics.ts): HTTP durations counted here, served at `/metrics`. */
  metrics: Metrics
  /** WATCHFLOOR_METRICS_TOKEN: the one bearer token `/metrics` answers to; unset, admins. */
  metricsToken: string | undefined
  /** True once a graceful stop has begun (server.ts `close`): `/readyz` then answers 503 `draining`. */
  draining?: () => boolean
}

export const BODY_LIMIT = '10mb'

/** The Content-Security-Policy of every response; docs/security.md says why each source is there. */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  imgSrc: ["'self'", 'data:', 'blob:'],
  styleSrc: ["'self'"],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  objectSrc: ["'none'"],
}

/**
 * helmet's security headers on every response, with our CSP (no `upgrade-insecure-requests`: the
 * embedded default is plain HTTP), no referrer and no framing; HSTS (helmet's default) only on
 * HTTPS requests (`req.secure`, so behind a proxy only with `trust proxy`).
 *
 * Every one of them is the same on every response, so helmet runs once, here, against a response
 * that records what it sets; each request then gets those headers in one pass instead of a dozen
 * middlewares (sensors post many times a second).
 */
export function securityHeaders(): express.RequestHandler {
  const headers = headersSetBy(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
      referrerPolicy: { policy: 'no-referrer' },
      xFrameOptions: { action: 'deny' },
      strictTransportSecurity: false,
    }),
  )
  const hsts = headersSetBy(strictTransportSecurity())
  return (req, res, next) => {
    for (const name of headers.removed) res.removeHeader(name)
    for (const [name, value] of headers.set) res.setHeader(name, value)
    if (req.secure) for (const [name, value] of hsts.set) res.setHeader(name, value)
    next()
  }
}

/** What a middleware that only sets and removes fixed headers does to a response, recorded once. */
function headersSetBy(middleware: (req: never, res: never, next: (error?: unknown) => void) => void): {
  set: [string, string | number | readonly string[]][]
  removed: string[]
} {
  const set = new Map<string, string | number | readonly string[]>()
  const removed: string[] = []
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      set.set(name, value)
      return res
    },
    removeHeader(name: string) {
      set.delete(name)
      removed.push(name)
    },
  }
  let done = false
  middleware({ headers: {}, method: 'GET', url: '/' } as never, res as never, (error) => {
    if (error !== undefined) throw error
    done = true
  })
  if (!done) throw new Error('a security header middleware did not finish at once: its headers cannot be fixed')
  return { set: [...set], removed }
}

/**
 * The server's HTTP side: the Express app of every route, and the request listener the HTTP server
 * runs, which takes `POST /api/v1/events` as sensors spell it on the events lane
 * (http/eventsLane.ts) and every other request to the app. Both share one of each step.
 */
export function createHttp({
  store,
  access,
  states,
  full,
  commands,
  presets,
  logger,
  consoleDir,
  trustProxy,
  feeds,
  metrics,
  metricsToken,
  draining = () => false,
}: AppDeps): { app: express.Express; listener: RequestListener } {
  const app = express()
  app.set('trust proxy', trustProxy)
  app.disable('x-powered-by')
  app.set('etag', false)
  // first: the request id (X-Request-Id), the log line and the duration of every request (ops/requestContext.ts)
  const context = requestContext(logger, metrics)
  const security = securityHeaders()
  app.use(context)
  app.use(security)

  // the product's version and commit (ops/release.ts) and the socket protocol's version: public, as the console's About shows them
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', version: RELEASE.version, commit: RELEASE.commit, protocolVersion: PROTOCOL_VERSION })
  })
  // a load balancer's health check: 503 while the store is unreachable, and from the start of a
  // graceful stop until the process exits (`draining`), so new requests go elsewhere
  const notReady = (reason: 'draining' | 'store_unreachable' | 'claim_lost', message: string) => ({
    error: { code: 'unavailable', message, details: { reason } },
  })
  app.get('/readyz', async (_req, res) => {
    if (draining()) {
      res.status(503).json(notReady('draining', 'draining: the server is shutting down'))
      return
    }
    try {
      await store.ping()
      if (draining()) res.status(503).json(notReady('draining', 'draining: the server is shutting down'))
      else res.json({ status: 'ready', store: store.kind })
    } catch (error) {
      // the server's claim on a PostgreSQL log is being taken again: it appends nothing meanwhile
      if (error instanceof WatchfloorError && (error.details as { reason?: unknown })?.reason === 'claim_lost') {
        logger.warn('the claim on the event log is lost: not ready until it is taken again')
        res.status(503).json(notReady('claim_lost', error.message))
        return
      }
      logger.warn({ err: error }, 'store not reachable')
      res.status(503).json(notReady('store_unreachable', 'the event store is not reachable'))
    }
  })
  // operator data: the metrics token only, or (unset) signed-in admins
  app.get('/metrics', metricsRoute(metrics, access, metricsToken))

  const api = express.Router()
  // nothing of the API is cached (the log, the caller's identity): every response, errors too
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store')
    next()
  })
  // a query parameter the route does not take (its list in the OpenAPI document) is a 400 naming it
  api.use(refuseUndocumentedQuery())
  // People and access (access/routes.ts): signing in and out, then every other route needs a caller
  // (session cookie, API token or display token; display tokens are read-only).
  api.use(sessionRoutes(access))
  // the OpenAPI 3.1 document of this API (http/openapi.ts): public, it describes routes and holds no data
  api.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument())
  })
  api.use(authenticate(access))
  const principalOf = (req: Request): Caller => callerOf(req)
  // raw events (write/ingest.ts): the busiest route, sensors post here many times a second, so it
  // comes before the other routers, which every request walks through until one answers
  const eventsBody = express.json({ limit: BODY_LIMIT, type: () => true })
  // the caller checked again once the body has been read (`Access.current`), on Express's route and
  // the events lane alike: a token revoked while the body was coming appends nothing
  const answerEvents = async (caller: Caller, body: unknown, res: ServerResponse) => {
    const results = await ingest(store, await access.current(caller), body, () => full.owners.fresh())
    sendJson(res, results.every((r) => r.duplicate) ? 200 : 201, { results })
  }
  api.post('/events', eventsBody, (req, res) => answerEvents(principalOf(req), req.body, res))
  api.use(peopleRoutes(access, presets))
  api.use(directoryRoutes(access))
  api.use(peopleDirectoryRoutes(access))
  api.use(feedRoutes(access.credentials, feeds))

  // imports from the standards (write/imports.ts): STIX bundles and MISP documents, through ingest
  api.use(
    importRouter({
      store,
      directory: access.directory,
      callerOf: principalOf,
      owners: () => full.owners.fresh(),
      bodyLimit: BODY_LIMIT,
    }),
  )

  // reads (read/routes.ts): state, events, replay, export and the shift-handover brief, each through
  // the caller's own projection
  // users no RED event names replay from their audience's index
  const replay = new Replay(store, { red: full })
  api.use(
    readRouter({
      store,
      states,
      replay,
      logger,
      viewerFor: (req) => viewerOf(principalOf(req)),
      directory: (organisation) => access.directory.organisation(organisation),
    }),
  )

  // coordination (write/commands.ts): POST /commands
  api.use(commandRouter(commands, access.directory))

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
  app.use('/taxii2', taxiiRouter({ store, access, states, owners: () => full.owners.fresh(), logger }))
  // Watchfloor as a MISP feed (read/misp.ts), authenticated like the API: each caller sees what it may see
  app.use(
    '/misp',
    authenticate(access),
    mispFeedRouter({
      store,
      states,
      viewerFor: (req) => viewerOf(principalOf(req)),
      directory: (organisation) => access.directory.organisation(organisation),
      credentials: access.credentials,
      logger,
    }),
    // a path of the feed that is none of its files: 404, never the console's page in its place
    (req: express.Request, _res: express.Response, next: express.NextFunction) =>
      next(
        new WatchfloorError(
          'not_found',
          `no MISP feed file ${req.path}: the feed is /misp/feed/manifest.json, /misp/feed/hashes.csv and /misp/feed/<uuid>.json`,
        ),
      ),
  )
  // another version of the API, or none: 404 in the error family, not the console's page
  app.use('/api', (req, _res, next) => next(new WatchfloorError('not_found', `no route ${req.method} /api${req.path}`)))

  if (existsSync(join(consoleDir, 'index.html'))) {
    // the build names every asset by its content (`index-3f9a1c.js`): a name never serves other
    // content, so browsers keep it; a name that is not there (asked by a page of an older build after
    // an upgrade) is a 404, never the index page in place of a script
    app.use(
      '/assets',
      express.static(join(consoleDir, 'assets'), { index: false, redirect: false, immutable: true, maxAge: '1y' }),
      (req, _res, next) => next(new WatchfloorError('not_found', `no console file /assets${req.path}`)),
    )
    // the page itself is asked again on every load (a 304 when unchanged), so that a new tab after
    // an upgrade loads the new assets' names
    const revalidate = (res: ServerResponse) => res.setHeader('Cache-Control', 'no-cache')
    app.use(express.static(consoleDir, { index: 'index.html', cacheControl: false, setHeaders: revalidate }))
    // the console's own paths (`/wall`) are its page too, counted as its files (`static`) in the metrics
    app.get('/{*splat}', (_req, res) => {
      noteRoute('static')
      revalidate(res)
      res.sendFile(join(consoleDir, 'index.html'), { cacheControl: false })
    })
  } else {
    // said once at start, where an operator looks when the page says it
    logger.warn(
      { consoleDir },
      `no console in ${consoleDir} (no index.html): the page answers 503 until it is built (pnpm build), or set WATCHFLOOR_CONSOLE_DIR to the built console`,
    )
    app.get('/', (_req, res) => {
      res.status(503).type('text/plain').send('The console is not built: run `pnpm build` (pnpm start does it).\n')
    })
  }

  // anything else ends in the error family too (Express's own 404 page would replace the CSP)
  app.use((req, _res, next) => {
    next(new WatchfloorError('not_found', `no route ${req.method} ${req.path}`))
  })
  app.use(errorHandler(logger))

  const lane = eventsLane({
    app,
    context,
    security,
    caller: (req) => requestCaller(access, req),
    body: eventsBody,
    answer: answerEvents,
    logger,
  })
  const listener: RequestListener = (req, res) => {
    if (isEventsPost(req)) lane(req, res)
    else app(req, res)
  }
  return { app, listener }
}

/**
 * Watchfloor as a TAXII 2.1 server (OASIS TAXII 2.1, OASIS Standard, 10 June 2021), mounted at
 * `/taxii2/` (8.2.1): the discovery endpoint, one API root `/taxii2/api/`, its collections ("all"
 * and one per community, collections.ts), their objects, manifests, versions, Add Objects and the
 * status of additions. Every answer comes from the caller's own projection of the log, as the STIX
 * export does: counts, `more`, `next`, `X-TAXII-Date-Added-*`; an object or a collection the
 * caller may not see is 404 exactly as one that does not exist.
 *
 * Authentication (1.6.9): an API token (static, API or display) as `Authorization: Bearer <token>`
 * or as the password of HTTP Basic (any username); no session cookies. Display tokens read only.
 * `X-Watchfloor-View-As` views as another audience here as on every read [V11, A7], read-only.
 */
import type { Owners } from '@watchfloor/core'
import { WatchfloorError } from '@watchfloor/protocol'
import { TLP2_MARKING_IDS } from '@watchfloor/sharing'
import type { EventStore } from '@watchfloor/store'
import express, { type NextFunction, type Request, type Response } from 'express'
import type { Logger } from 'pino'
import { type Access, type Caller, VIEW_AS_HEADER } from '../access/access.ts'
import { viewerOf } from '../access/tokens.ts'
import { countServed, pullRecorder } from '../feeds/pullRecorder.ts'
import type { StateCache } from '../read/projection.ts'
import { addObjects, ownerOf, StatusStore } from './addObjects.ts'
import { CollectionCache, type CollectionContents, type CollectionObject } from './CollectionCache.ts'
import {
  type Collection,
  collectionResource,
  collectionsOf,
  eventsOf,
  findCollection,
  writeRefusal,
} from './collections.ts'
import { type Filters, type MatchField, type Page, pageOf, readFilters } from './filters.ts'
import {
  acceptsTaxii,
  isTaxiiContentType,
  microsOf,
  STIX_MEDIA_TYPE,
  TAXII_MEDIA_TYPE,
  taxiiTimestamp,
} from './media.ts'
import { notFound, TaxiiError, taxiiErrorHandler, toTaxiiError } from './TaxiiError.ts'

/** The API root's path under `/taxii2/`, and its URL as the discovery resource gives it (relative, 4.1.1). */
const API_ROOT = '/taxii2/api/'

/** The largest Add Objects body, in octets (4.2.1 `max_content_length`): 10 MiB, as the REST API's. */
export const MAX_CONTENT_LENGTH = 10 * 1024 * 1024

export interface TaxiiDeps {
  store: EventStore
  access: Access
  /** The viewers' pictures: their heads [D14] say when a collection must be read again. */
  states: StateCache
  /** Who owns what, for ingest [A5]. */
  owners: () => Promise<Owners>
  logger: Logger
}

const callers = new WeakMap<Request, Caller>()

function callerOf(req: Request): Caller {
  const caller = callers.get(req)
  if (caller === undefined) throw new TaxiiError(401, 'send an API token: Authorization: Bearer <token>')
  return caller
}

/**
 * The caller a credential gives (at the door, or checked again before a write), or TAXII's 401 (with
 * WWW-Authenticate) when it is refused; a store that cannot tell is its own error (503, 500).
 */
async function taxiiCaller(found: Promise<Caller>): Promise<Caller> {
  try {
    return await found
  } catch (error) {
    if (error instanceof WatchfloorError && error.code === 'unauthenticated')
      throw new TaxiiError(401, 'unknown, revoked or expired token')
    throw error
  }
}

/** The token of a request: a bearer token, or the password of HTTP Basic (the username when the password is empty). */
function tokenOf(req: Request): string {
  const header = req.headers.authorization
  if (header === undefined)
    throw new TaxiiError(401, 'send an API token: Authorization: Bearer <token>, or as the password of HTTP Basic')
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (bearer !== null) return bearer[1]!
  const basic = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header)
  if (basic !== null) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8')
    const separator = decoded.indexOf(':')
    const [username, password] =
      separator < 0 ? [decoded, ''] : [decoded.slice(0, separator), decoded.slice(separator + 1)]
    const token = password === '' ? username : password
    if (token !== '') return token
  }
  throw new TaxiiError(401, 'the Authorization header must be Bearer <token> or Basic with the token as the password')
}

/** Send a TAXII resource (3.1: the TAXII media type and version on every response). */
function send(res: Response, status: number, body: unknown): void {
  res.status(status)
  res.setHeader('Content-Type', TAXII_MEDIA_TYPE)
  res.end(JSON.stringify(body))
}

/** X-TAXII-Date-Added-First and -Last (3.2): the date_added of the first and last object of the response. */
function dateAddedHeaders(res: Response, objects: readonly CollectionObject[]): void {
  if (objects.length === 0) return
  res.setHeader('X-TAXII-Date-Added-First', objects[0]!.dateAdded)
  res.setHeader('X-TAXII-Date-Added-Last', objects.at(-1)!.dateAdded)
}

/** An envelope (3.7) or manifest (5.3.1) of a page: `objects` left out when there are none (section 2). */
function pageBody(page: Page, objects: unknown[]): Record<string, unknown> {
  const body: Record<string, unknown> = { more: page.more }
  if (page.next !== undefined) body.next = page.next
  if (objects.length > 0) body.objects = objects
  return body
}

function searchParams(req: Request): URLSearchParams {
  return new URL(req.originalUrl, 'http://taxii.invalid').searchParams
}

/** Routes answering only `methods`: anything else is 405 with Allow. */
function methodNotAllowed(methods: string) {
  return (_req: Request, _res: Response, next: NextFunction) =>
    next(new TaxiiError(405, `this endpoint answers ${methods}`, undefined, undefined, { Allow: methods }))
}

export function taxiiRouter({ store, access, states, owners, logger }: TaxiiDeps): express.Router {
  const router = express.Router()
  const contents = new CollectionCache(store, (organisation) => access.directory.organisation(organisation))
  const statuses = new StatusStore(access.credentials)
  const body = express.json({ limit: MAX_CONTENT_LENGTH, type: () => true })
  const pulls = pullRecorder({
    channel: 'taxii',
    credentials: access.credentials,
    logger,
    callerOf: (req) => callers.get(req),
    describe: (error) => toTaxiiError(error).description,
  })

  // nothing of TAXII is cached: every answer is the caller's own
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store')
    next()
  })
  // 1.6.9: every endpoint needs a caller; 401 with WWW-Authenticate otherwise
  router.use(async (req, _res, next) => {
    callers.set(req, await taxiiCaller(access.fromToken(tokenOf(req))))
    next()
  })
  // feeds out: every pull of an authenticated caller, refused ones included, for its organisation
  router.use(pulls.track)
  router.use((req, _res, next) => {
    const asked = req.headers[VIEW_AS_HEADER]
    if (typeof asked === 'string' && asked !== '') callers.set(req, access.viewingAs(callerOf(req), asked.trim()))
    next()
  })
  // 1.6.8, 3.1: the Accept header must include a TAXII 2.1 media range
  router.use((req, _res, next) => {
    if (!acceptsTaxii(req.headers.accept))
      throw new TaxiiError(406, `the Accept header must include ${TAXII_MEDIA_TYPE}`)
    next()
  })

  /** The caller's collection named in the path, or 404. */
  const collectionOf = (req: Request): Collection => {
    const found = findCollection(callerOf(req), access.directory, String(req.params.collectionId))
    if (found === undefined) throw notFound('collection')
    return found
  }

  /** The collection's objects as the caller may see them, as of its head. */
  const contentsOf = async (req: Request, collection: Collection): Promise<CollectionContents> => {
    const viewer = viewerOf(callerOf(req))
    const head = await states.headOf(viewer)
    return contents.get(viewer, collection.id, head, eventsOf(collection, viewer))
  }

  // 4.1 Server Discovery
  router
    .route('/')
    .get((_req, res) => {
      send(res, 200, {
        title: 'Watchfloor',
        description:
          'TAXII 2.1 server of a Watchfloor console: what the caller may see of the operations log, as STIX 2.1.',
        default: API_ROOT,
        api_roots: [API_ROOT],
      })
    })
    .all(methodNotAllowed('GET'))

  // 4.2 Get API Root Information
  router
    .route('/api/')
    .get((_req, res) => {
      send(res, 200, {
        title: 'Watchfloor',
        description: 'The operations log of this Watchfloor instance, one collection per audience of the caller.',
        versions: [TAXII_MEDIA_TYPE],
        max_content_length: MAX_CONTENT_LENGTH,
      })
    })
    .all(methodNotAllowed('GET'))

  // 4.3 Get Status: only to the caller that made the request
  router
    .route('/api/status/:statusId/')
    .get(async (req, res) => {
      const status = await statuses.get(ownerOf(callerOf(req)), String(req.params.statusId))
      if (status === undefined) throw notFound('status')
      send(res, 200, status)
    })
    .all(methodNotAllowed('GET'))

  // 5.1 Get Collections
  router
    .route('/api/collections/')
    .get((req, res) => {
      send(res, 200, { collections: collectionsOf(callerOf(req), access.directory).map(collectionResource) })
    })
    .all(methodNotAllowed('GET'))

  // 5.2 Get a Collection
  router
    .route('/api/collections/:collectionId/')
    .get((req, res) => {
      send(res, 200, collectionResource(collectionOf(req)))
    })
    .all(methodNotAllowed('GET'))

  /** A page of a collection's objects filtered as the request asks; the headers of 3.2 set. */
  const page = async (req: Request, res: Response, fields: readonly MatchField[], only?: string) => {
    const collection = collectionOf(req)
    const filters: Filters = readFilters(searchParams(req), fields)
    const all = await contentsOf(req, collection)
    let objects = all.objects
    if (only !== undefined) {
      const found = all.byId.get(only)
      if (found === undefined) throw notFound('object') // invisible or missing: the same answer
      objects = [found]
    }
    const result = pageOf(objects, filters)
    dateAddedHeaders(res, result.objects)
    countServed(res, sharedCount(result.objects))
    return result
  }

  // 5.3 Get Object Manifests
  router
    .route('/api/collections/:collectionId/manifest/')
    .get(async (req, res) => {
      const result = await page(req, res, ['id', 'type', 'version', 'spec_version'])
      const records = result.objects.map((object) => ({
        id: object.id,
        date_added: object.dateAdded,
        version: object.version,
        media_type: STIX_MEDIA_TYPE,
      }))
      send(res, 200, pageBody(result, records))
    })
    .all(methodNotAllowed('GET'))

  // 5.4 Get Objects, 5.5 Add Objects
  router
    .route('/api/collections/:collectionId/objects/')
    .get(async (req, res) => {
      const result = await page(req, res, ['id', 'type', 'version', 'spec_version'])
      send(
        res,
        200,
        pageBody(
          result,
          result.objects.map((object) => object.object),
        ),
      )
    })
    .post(async (req, res) => {
      const requestTimestamp = taxiiTimestamp(microsOf(new Date().toISOString()))
      const caller = callerOf(req)
      const collection = collectionOf(req)
      // 5.5: can_write false is 403 (display tokens, a view as, roles without posting [A1, A2, A7])
      if (!collection.canWrite) throw mayNotAdd(caller)
      if (!isTaxiiContentType(req.headers['content-type']))
        throw new TaxiiError(415, `the Content-Type must be ${TAXII_MEDIA_TYPE}`)
      const length = Number(req.headers['content-length'])
      if (Number.isFinite(length) && length > MAX_CONTENT_LENGTH)
        throw new TaxiiError(413, `the body is over max_content_length (${MAX_CONTENT_LENGTH} octets)`)
      await new Promise<void>((resolve, reject) =>
        body(req, res, (error?: unknown) => (error ? reject(error) : resolve())),
      )
      // the body read, the caller checked again (`Access.current`), refused as at the door: a token
      // revoked while the body was coming adds nothing; its roles are read again too [A2]
      const now = await taxiiCaller(access.current(caller))
      callers.set(req, now)
      const target = collectionOf(req)
      if (!target.canWrite) throw mayNotAdd(now)
      const status = await addObjects({
        store,
        caller: now,
        owners,
        envelope: req.body,
        community: target.community,
        requestTimestamp,
      })
      await statuses.add(ownerOf(now), status)
      send(res, 202, status)
    })
    .all(methodNotAllowed('GET, POST'))

  // 5.6 Get an Object (5.7 Delete an Object is not offered: the log keeps everything)
  router
    .route('/api/collections/:collectionId/objects/:objectId/')
    .get(async (req, res) => {
      const result = await page(req, res, ['version', 'spec_version'], String(req.params.objectId))
      send(
        res,
        200,
        pageBody(
          result,
          result.objects.map((object) => object.object),
        ),
      )
    })
    .all(methodNotAllowed('GET'))

  // 5.8 Get Object Versions
  router
    .route('/api/collections/:collectionId/objects/:objectId/versions/')
    .get(async (req, res) => {
      const result = await page(req, res, ['spec_version'], String(req.params.objectId))
      const reply: Record<string, unknown> = { more: result.more }
      if (result.next !== undefined) reply.next = result.next
      if (result.objects.length > 0) reply.versions = result.objects.map((object) => object.version)
      send(res, 200, reply)
    })
    .all(methodNotAllowed('GET'))

  router.use((req, _res, next) => {
    next(new TaxiiError(404, `no TAXII endpoint ${req.method} /taxii2${req.path}`))
  })
  router.use(pulls.noteRefusal)
  router.use(taxiiErrorHandler(logger))
  return router
}

/** 5.5: an add by a caller who may not post is 403, saying why (a display token, a view as, no posting role). */
function mayNotAdd(caller: Caller): TaxiiError {
  return new TaxiiError(403, `may not add objects: ${writeRefusal(caller) ?? 'not a posting caller'}`)
}

/**
 * How many of the objects served count in the organisation's feeds-out figures: none marked RED,
 * and no marking definition (which ones a page holds follows from its objects, RED ones included).
 * RED goes to named people, so counting it would let a colleague who reads the figures tell what
 * was addressed to someone else of the organisation [feeds out]. (A page cut at `limit` still holds
 * fewer counted objects when some of it is RED: docs/api.md says so.)
 */
function sharedCount(objects: readonly CollectionObject[]): number {
  const red = TLP2_MARKING_IDS.RED
  let count = 0
  for (const { object, type } of objects) {
    const refs = (object as { object_marking_refs?: unknown }).object_marking_refs
    if (type === 'marking-definition' || (Array.isArray(refs) && refs.includes(red))) continue
    count++
  }
  return count
}

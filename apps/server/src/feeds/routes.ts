import { directoryRefusal } from '@watchfloor/core'
import {
  type FeedReply,
  type FeedsOutReply,
  type FeedsReply,
  type OneFeedReply,
  type PollReply,
  parseOrThrow,
  plainName,
  Tlp,
  UNSAFE_NAME_MESSAGE,
  unsafeInName,
  WatchfloorError,
} from '@watchfloor/protocol'
import type { CredentialStore, Feed, FeedAuth } from '@watchfloor/store'
import express, { type Request } from 'express'
import { z } from 'zod'
import { type Caller, callerOf, recheckCaller } from '../access/access.ts'
import { refusalError } from '../http/errors.ts'
import { credentialsOverHttp, type FeedPoller } from './poller.ts'

/** The paths under `/feeds/` that are no feed's id. */
const RESERVED_IDS = new Set(['out'])
/** WATCHFLOOR_FEED_ variables that are settings, never a feed's secret. */
const SETTINGS = new Set(['WATCHFLOOR_FEED_TICK_MS', 'WATCHFLOOR_FEED_ALLOW_HTTP', 'WATCHFLOOR_FEED_MAX_BODY_BYTES'])

const FeedId = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, dot, dash or underscore; up to 64')
  .refine((id) => !RESERVED_IDS.has(id), 'out is reserved (GET /api/v1/feeds/out)')
const SecretEnv = z
  .string()
  .regex(/^WATCHFLOOR_FEED_[A-Z0-9_]+$/, 'the name of an environment variable starting WATCHFLOOR_FEED_')
  .refine((name) => !SETTINGS.has(name), 'a setting of the server, not a secret')
const Auth = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  z.object({ kind: z.literal('bearer'), secretEnv: SecretEnv }).strict(),
  // a partner's username is sent as given: not trimmed
  z
    .object({
      kind: z.literal('basic'),
      username: z
        .string()
        .min(1)
        .max(200)
        .refine((value) => !unsafeInName(value), UNSAFE_NAME_MESSAGE),
      secretEnv: SecretEnv,
    })
    .strict(),
])
// labels, paths and ids hold no control character, bidirectional override or lone surrogate
const Fields = {
  label: plainName(200),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .refine((url) => !unsafeInName(url), UNSAFE_NAME_MESSAGE),
  apiRoot: plainName(200),
  collectionId: plainName(200),
  organisation: plainName(64),
  auth: Auth,
  pollSeconds: z.number().int().min(10).max(86_400),
  defaultTlp: Tlp,
  enabled: z.boolean(),
}
const NewFeedBody = z
  .object({
    id: FeedId,
    ...Fields,
    auth: Auth.default({ kind: 'none' }),
    pollSeconds: Fields.pollSeconds.default(300),
    defaultTlp: Tlp.default('AMBER'),
    enabled: z.boolean().default(true),
  })
  .strict()
const FeedPatchBody = z
  .object({
    label: Fields.label.optional(),
    url: Fields.url.optional(),
    apiRoot: Fields.apiRoot.optional(),
    collectionId: Fields.collectionId.optional(),
    auth: Auth.optional(),
    pollSeconds: Fields.pollSeconds.optional(),
    defaultTlp: Tlp.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one field to change')

/** Whose feeds and pulls a caller may read: every organisation's, one organisation's, or none. */
type Scope = { kind: 'all' } | { kind: 'one'; organisation: string } | { kind: 'none' }

/**
 * An admin reads every organisation's, anyone else its own organisation's only. Viewing as another
 * audience [V11] narrows it to what both may see: an organisation's own (an admin's view of any
 * organisation, anyone's of its own), nothing of a community's or another organisation's.
 */
function scopeOf(caller: Caller): Scope {
  const admin = caller.roles.includes('admin')
  const view = caller.viewingAs
  if (view === undefined) return admin ? { kind: 'all' } : { kind: 'one', organisation: caller.organisation }
  if (view.kind === 'organisation' && (admin || view.id === caller.organisation))
    return { kind: 'one', organisation: view.id }
  return { kind: 'none' }
}

const inScope = (scope: Scope, organisation: string): boolean =>
  scope.kind === 'all' || (scope.kind === 'one' && scope.organisation === organisation)

/** A 400 naming `url`: these credentials may not travel to it in clear. */
function checkTransport(url: string, auth: FeedAuth, allowHttp: boolean): void {
  const refusal = credentialsOverHttp(url, auth, allowHttp)
  if (refusal !== undefined)
    throw new WatchfloorError('validation', refusal, { issues: [{ path: 'url', message: refusal }] })
}

/**
 * Partner feeds (`/api/v1/feeds`): the TAXII 2.1 collections Watchfloor pulls from, each with its
 * state (last success, last error, counts, next poll). Admins register, change and remove them
 * [A8: they decide what enters in an organisation's name]; admins and liaisons read them, a
 * liaison only the feeds that speak for its own organisation. A feed's secret is never stored nor
 * shown: it names an environment variable; it travels over https only (or to a loopback host),
 * unless WATCHFLOOR_FEED_ALLOW_HTTP, and never follows a feed to another url by itself (a
 * partner's redirect fails the poll, saying where it pointed: an admin changes the url).
 *
 * Feeds out (`GET /api/v1/feeds/out`): what partners pulled from this floor over TAXII and the
 * MISP feed, per organisation of the callers (feeds/pullRecorder.ts); an admin reads every
 * organisation's, a liaison or a coordinator its own organisation's only.
 */
export function feedRoutes(credentials: CredentialStore, poller: FeedPoller): express.Router {
  const router = express.Router()
  const json = express.json({ limit: '64kb' })
  const admin = (req: Request): Caller => {
    const caller = callerOf(req)
    const refusal = directoryRefusal({ ...caller, readOnly: caller.kind === 'display' })
    if (refusal) throw refusalError({ ...refusal, message: 'managing partner feeds needs the admin role' })
    return caller
  }
  const reader = (req: Request): Scope => {
    const caller = callerOf(req)
    if (caller.kind === 'display' || !caller.roles.some((role) => role === 'admin' || role === 'liaison'))
      throw new WatchfloorError('forbidden', 'partner feeds are for admins and liaisons')
    return scopeOf(caller)
  }
  const outReader = (req: Request): Scope => {
    const caller = callerOf(req)
    if (caller.kind === 'display' || !caller.roles.some((r) => r === 'admin' || r === 'liaison' || r === 'coordinator'))
      throw new WatchfloorError('forbidden', 'what partners pull is for admins, liaisons and coordinators')
    return scopeOf(caller)
  }
  /** The feed as a reply: its state without the feed's id again (nor its lease: the store never gives it). */
  const withState = async (feed: Feed): Promise<FeedReply> => {
    const state = await credentials.getFeedState(feed.id)
    if (state === null) return { ...feed, state: null }
    const { feedId: _feedId, ...rest } = state
    return { ...feed, state: rest }
  }
  /** The feed, if it is there and the scope holds it: else 404, the same for both. */
  const found = async (id: string, scope: Scope = { kind: 'all' }): Promise<Feed> => {
    // an id with a control character is no feed's: the same 404, without asking the store
    if (unsafeInName(id)) throw new WatchfloorError('not_found', `no feed ${JSON.stringify(id)}`)
    const feed = await credentials.getFeed(id)
    if (!feed || !inScope(scope, feed.organisation)) throw new WatchfloorError('not_found', `no feed ${id}`)
    return feed
  }

  router.use('/feeds', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store')
    next()
  })

  router.get('/feeds', async (req, res) => {
    const scope = reader(req)
    const feeds = (await credentials.listFeeds()).filter((feed) => inScope(scope, feed.organisation))
    res.json({ feeds: await Promise.all(feeds.map(withState)) } satisfies FeedsReply)
  })

  // before /feeds/:id: `out` is no feed's id
  router.get('/feeds/out', async (req, res) => {
    const scope = outReader(req)
    const activity =
      scope.kind === 'all'
        ? await credentials.listFeedOutActivity()
        : scope.kind === 'one'
          ? await credentials.listFeedOutActivity({ organisation: scope.organisation })
          : []
    res.json({ activity } satisfies FeedsOutReply)
  })

  router.get('/feeds/:id', async (req, res) => {
    const scope = reader(req)
    res.json({ feed: await withState(await found(String(req.params.id), scope)) } satisfies OneFeedReply)
  })

  router.post('/feeds', json, recheckCaller, async (req, res) => {
    const caller = admin(req)
    const body = parseOrThrow(NewFeedBody, req.body)
    checkTransport(body.url.trim(), body.auth, poller.allowHttp)
    const feed = await credentials.createFeed({ ...body, createdBy: caller.user })
    res.status(201).json({ feed: await withState(feed) } satisfies OneFeedReply)
  })

  router.patch('/feeds/:id', json, recheckCaller, async (req, res) => {
    admin(req)
    const id = String(req.params.id)
    const patch = parseOrThrow(FeedPatchBody, req.body)
    const before = await found(id)
    // another url: the credential does not follow it unless this change names it again
    if (patch.url !== undefined && patch.url.trim() !== before.url && patch.auth === undefined)
      patch.auth = { kind: 'none' }
    checkTransport(patch.url?.trim() ?? before.url, patch.auth ?? before.auth, poller.allowHttp)
    const feed = await credentials.updateFeed(id, patch)
    if (!feed) throw new WatchfloorError('not_found', `no feed ${id}`)
    // pointed somewhere else: its cursor meant the old collection, so it starts from the beginning
    if (patch.url !== undefined || patch.apiRoot !== undefined || patch.collectionId !== undefined)
      await credentials.recordFeedState(id, { cursor: null })
    res.json({ feed: await withState(feed) } satisfies OneFeedReply)
  })

  router.delete('/feeds/:id', recheckCaller, async (req, res) => {
    admin(req)
    const id = String(req.params.id)
    if (unsafeInName(id)) throw new WatchfloorError('not_found', `no feed ${JSON.stringify(id)}`)
    if (!(await credentials.deleteFeed(id))) throw new WatchfloorError('not_found', `no feed ${id}`)
    res.status(204).end()
  })

  // poll now (an admin checking a feed they just registered): the outcome, or why it failed
  router.post('/feeds/:id/poll', recheckCaller, async (req, res) => {
    admin(req)
    const feed = await found(String(req.params.id))
    try {
      const outcome = await poller.poll(feed)
      if (outcome === undefined) throw new WatchfloorError('conflict', `feed ${feed.id} is being polled right now`)
      res.json({ outcome, feed: await withState(feed) } satisfies PollReply)
    } catch (error) {
      if (error instanceof WatchfloorError) throw error
      throw new WatchfloorError('unavailable', `the feed could not be polled: ${(error as Error).message}`, {
        feed: await withState(feed),
      })
    }
  })

  return router
}

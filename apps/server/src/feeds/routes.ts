import { directoryRefusal } from '@watchfloor/core'
import { parseOrThrow, Tlp, WatchfloorError } from '@watchfloor/protocol'
import type { CredentialStore, Feed } from '@watchfloor/store'
import express, { type Request } from 'express'
import { z } from 'zod'
import { type Caller, callerOf } from '../access/access.ts'
import { refusalError } from '../http/errors.ts'
import type { FeedPoller } from './poller.ts'

const FeedId = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, dot, dash or underscore; up to 64')
const SecretEnv = z
  .string()
  .regex(/^WATCHFLOOR_FEED_[A-Z0-9_]+$/, 'the name of an environment variable starting WATCHFLOOR_FEED_')
const Auth = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  z.object({ kind: z.literal('bearer'), secretEnv: SecretEnv }).strict(),
  z.object({ kind: z.literal('basic'), username: z.string().min(1).max(200), secretEnv: SecretEnv }).strict(),
])
const Fields = {
  label: z.string().trim().min(1).max(200),
  url: z.url({ protocol: /^https?$/ }),
  apiRoot: z.string().trim().min(1).max(200),
  collectionId: z.string().trim().min(1).max(200),
  organisation: z.string().trim().min(1).max(64),
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

/**
 * Partner feeds (`/api/v1/feeds`): the TAXII 2.1 collections Watchfloor pulls from, each with its
 * state (last success, last error, counts, next poll). Admins register, change and remove them
 * [A8: they decide what enters in an organisation's name]; admins and liaisons read them. A feed's
 * secret is never stored nor shown: it names an environment variable.
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
  const reader = (req: Request): void => {
    const caller = callerOf(req)
    if (caller.kind === 'display' || !caller.roles.some((role) => role === 'admin' || role === 'liaison'))
      throw new WatchfloorError('forbidden', 'partner feeds are for admins and liaisons')
  }
  const withState = async (feed: Feed) => ({ ...feed, state: await credentials.getFeedState(feed.id) })
  const found = async (id: string): Promise<Feed> => {
    const feed = await credentials.getFeed(id)
    if (!feed) throw new WatchfloorError('not_found', `no feed ${id}`)
    return feed
  }

  router.use('/feeds', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store')
    next()
  })

  router.get('/feeds', async (req, res) => {
    reader(req)
    res.json({ feeds: await Promise.all((await credentials.listFeeds()).map(withState)) })
  })

  router.get('/feeds/:id', async (req, res) => {
    reader(req)
    res.json({ feed: await withState(await found(String(req.params.id))) })
  })

  router.post('/feeds', json, async (req, res) => {
    const caller = admin(req)
    const body = parseOrThrow(NewFeedBody, req.body)
    const feed = await credentials.createFeed({ ...body, createdBy: caller.user })
    res.status(201).json({ feed: await withState(feed) })
  })

  router.patch('/feeds/:id', json, async (req, res) => {
    admin(req)
    const id = String(req.params.id)
    const patch = parseOrThrow(FeedPatchBody, req.body)
    const feed = await credentials.updateFeed(id, patch)
    if (!feed) throw new WatchfloorError('not_found', `no feed ${id}`)
    // pointed somewhere else: its cursor meant the old collection, so it starts from the beginning
    if (patch.url !== undefined || patch.apiRoot !== undefined || patch.collectionId !== undefined)
      await credentials.recordFeedState(id, { cursor: null })
    res.json({ feed: await withState(feed) })
  })

  router.delete('/feeds/:id', async (req, res) => {
    admin(req)
    const id = String(req.params.id)
    if (!(await credentials.deleteFeed(id))) throw new WatchfloorError('not_found', `no feed ${id}`)
    res.status(204).end()
  })

  // poll now (an admin checking a feed they just registered): the outcome, or why it failed
  router.post('/feeds/:id/poll', async (req, res) => {
    admin(req)
    const feed = await found(String(req.params.id))
    try {
      const outcome = await poller.poll(feed)
      if (outcome === undefined) throw new WatchfloorError('conflict', `feed ${feed.id} is being polled right now`)
      res.json({ outcome, feed: await withState(feed) })
    } catch (error) {
      if (error instanceof WatchfloorError) throw error
      throw new WatchfloorError('unavailable', `the feed could not be polled: ${(error as Error).message}`, {
        feed: await withState(feed),
      })
    }
  })

  return router
}

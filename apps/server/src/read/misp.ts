/**
 * Watchfloor as a MISP feed (`/misp/feed/manifest.json`, `/misp/feed/hashes.csv`,
 * `/misp/feed/<uuid>.json`): any MISP instance can pull what the caller's organisation may see,
 * each incident as a MISP event (never RED). Authenticated like the API (a Bearer token in the
 * feed's headers). The feed of a viewer is built once per head of that viewer and kept for the
 * requests that follow (MISP reads the manifest, then each event).
 */
import { canSee, type State, viewerKey } from '@watchfloor/core'
import type { StoredEvent, Viewer } from '@watchfloor/protocol'
import { WatchfloorError } from '@watchfloor/protocol'
import { type MispDirectory, type MispFeed, mispFeed, parseMispFeedPath } from '@watchfloor/sharing'
import type { CredentialStore, EventStore } from '@watchfloor/store'
import express, { type Request } from 'express'
import type { Logger } from 'pino'
import { callerOf } from '../access/access.ts'
import { countServed, pullRecorder } from '../feeds/pullRecorder.ts'
import { toWatchfloorError } from '../http/errors.ts'
import { catchUp, type StateCache } from './projection.ts'

export interface MispFeedDeps {
  store: EventStore
  states: StateCache
  viewerFor: (req: Request) => Viewer
  directory?: MispDirectory
  /** Feeds kept (one per viewer); least recently used dropped. Default 16. */
  maxFeeds?: number
  /** Where each pull is recorded (feeds out), per organisation of the caller. */
  credentials: CredentialStore
  logger: Logger
}

export function mispFeedRouter({
  store,
  states,
  viewerFor,
  directory,
  maxFeeds = 16,
  credentials,
  logger,
}: MispFeedDeps): express.Router {
  const router = express.Router()
  // feeds out: every pull of the (authenticated) caller, refused ones included
  const pulls = pullRecorder({
    channel: 'misp',
    credentials,
    logger,
    callerOf: (req) => {
      try {
        return callerOf(req)
      } catch {
        return undefined
      }
    },
    describe: (error) => toWatchfloorError(error).message,
  })
  router.use('/feed', pulls.track)
  const feeds = new Map<string, { head: number; feed: Promise<MispFeed> }>()

  const feedOf = async (viewer: Viewer): Promise<MispFeed> => {
    const picture = await states.current(viewer)
    const key = viewerKey(viewer)
    const kept = feeds.get(key)
    feeds.delete(key)
    if (kept && kept.head === picture.seq) {
      feeds.set(key, kept)
      return kept.feed
    }
    const feed = build(store, viewer, picture, directory)
    feeds.set(key, { head: picture.seq, feed })
    while (feeds.size > maxFeeds) feeds.delete(feeds.keys().next().value!)
    feed.catch(() => feeds.delete(key))
    return feed
  }

  // mounted at /misp
  router.get('/feed/{*file}', async (req, res) => {
    const request = parseMispFeedPath(req.path.slice('/feed'.length))
    if (!request) throw new WatchfloorError('not_found', 'the feed has manifest.json, hashes.csv and <uuid>.json')
    const feed = await feedOf(viewerFor(req))
    res.setHeader('Cache-Control', 'no-store')
    if (request.kind === 'manifest') {
      countServed(res, Object.keys(feed.manifest).length)
      res.json(feed.manifest)
      return
    }
    if (request.kind === 'hashes') {
      countServed(res, feed.hashes.split('\n').filter((line) => line !== '').length)
      res.type('text/csv; charset=utf-8').send(feed.hashes)
      return
    }
    const event = feed.events.get(request.uuid)
    // an event the caller may not see is missing like one that does not exist
    if (!event) throw new WatchfloorError('not_found', `no event ${request.uuid} in this feed`)
    countServed(res, 1)
    res.json(event)
  })
  router.use('/feed', pulls.noteRefusal)
  return router
}

/** The caller's visible events, read once, and the feed its picture makes of them. */
async function build(
  store: EventStore,
  viewer: Viewer,
  picture: State,
  directory: MispDirectory | undefined,
): Promise<MispFeed> {
  const events: StoredEvent[] = []
  await catchUp(
    store,
    0,
    (page) => {
      for (const event of page) if (event.seq <= picture.seq && canSee(viewer, event)) events.push(event)
    },
    { yieldBetweenPages: true },
  )
  return mispFeed(picture, events, directory === undefined ? {} : { directory })
}

import { REPLAY_CLOCKS, stateToJson } from '@watchfloor/core'
import type { Viewer } from '@watchfloor/protocol'
import type { OrganisationDirectory } from '@watchfloor/sharing'
import type { EventStore } from '@watchfloor/store'
import express, { type Request } from 'express'
import type { Logger } from 'pino'
import { QueryReader } from '../http/query.ts'
import { exportEvents } from './export.ts'
import { handoverRouter } from './handover.ts'
import { type Replay, readVisible, type StateCache } from './projection.ts'
import { liveStateText, stateText } from './stateText.ts'
import { readVisibleWindow, readWindow } from './window.ts'

/** `GET /api/v1/state?scope=`: the whole picture (the default) or the live picture (core's `livePicture`). */
const STATE_SCOPES = ['all', 'live'] as const
/** The most ids one `include` may name. */
export const MAX_INCLUDE = 200

export interface ReadRouterDeps {
  store: EventStore
  states: StateCache
  replay: Replay
  logger: Logger
  /** The authenticated caller of a request as a viewer (throws `unauthenticated` without one). */
  viewerFor: (req: Request) => Viewer
  /** Organisation names (the directory), for STIX identities. */
  directory?: OrganisationDirectory
}

/**
 * Every read of the log, each through the caller's own projection: GET /state (now, the live
 * picture with `?scope=live`, or `?at=` for replay), GET /events (after a seq, or a window `?from=&to=&clock=`), GET /export
 * and GET /handover.
 */
export function readRouter({ store, states, replay, logger, viewerFor, directory }: ReadRouterDeps): express.Router {
  const router = express.Router()

  router.get('/state', async (req, res) => {
    const viewer = viewerFor(req)
    if (req.query.scope !== undefined || req.query.since !== undefined || req.query.include !== undefined) {
      const query = new QueryReader(req)
      const scope = query.oneOf('scope', STATE_SCOPES, 'all')
      const since = query.time('since')
      // one id a parameter, repeated (an id may hold any character, commas too)
      const raw = req.query.include
      const include = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
      if (
        include.length > MAX_INCLUDE ||
        include.some((id) => typeof id !== 'string' || id.trim().length === 0 || id.length > 200)
      )
        query.fail('include', `expected at most ${MAX_INCLUDE} ids of 1 to 200 characters, one per parameter`)
      if (req.query.scope === undefined) query.fail('scope', '`since` and `include` are for `scope=live`')
      if (req.query.at !== undefined || req.query.clock !== undefined)
        query.fail('at', 'a replay (`at`) is of the whole picture: leave out `scope`')
      if (scope === 'all' && (since !== undefined || include.length > 0))
        query.fail('scope', '`since` and `include` are for `scope=live`')
      query.done()
      const state = await states.current(viewer)
      res
        .type('application/json')
        .send(scope === 'live' ? liveStateText(state, since, include as string[]) : stateText(state))
      return
    }
    if (req.query.at === undefined) {
      res.type('application/json').send(stateText(await states.current(viewer)))
      return
    }
    const query = new QueryReader(req)
    const at = query.time('at')
    const clock = query.oneOf('clock', REPLAY_CLOCKS, 'recorded')
    query.done()
    const state = await replay.stateAt(viewer, clock, at!)
    res.json(stateToJson(state))
  })

  router.get('/events', async (req, res) => {
    const viewer = viewerFor(req)
    const query = new QueryReader(req)
    const windowed = req.query.from !== undefined || req.query.to !== undefined || req.query.clock !== undefined
    const window = windowed ? readWindow(query) : undefined
    const after = query.int('after', 0, 0, Number.MAX_SAFE_INTEGER)
    const limit = query.int('limit', 500, 1, 5000)
    query.done()
    const head = await states.headOf(viewer)
    res.json(
      window === undefined
        ? await readVisible(store, viewer, head, after, limit)
        : await readVisibleWindow(store, viewer, head, window, after, limit),
    )
  })

  router.get('/export', async (req, res) => {
    const viewer = viewerFor(req)
    const picture = await states.current(viewer)
    await exportEvents(store, viewer, new QueryReader(req), res, logger, picture, picture.seq, directory)
  })

  router.use(handoverRouter({ store, replay, viewerFor }))
  return router
}

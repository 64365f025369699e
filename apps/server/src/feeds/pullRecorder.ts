/**
 * Feeds out: what partners pull from this floor, recorded per organisation and channel (TAXII 2.1
 * under `/taxii2/`, the MISP feed under `/misp/feed/`) in the credential store, so every process
 * of a deployment adds to the same counts and a restart keeps them. One upsert per pull, written
 * once the answer is sent, never holding the answer up. Only pulls by an authenticated caller are
 * recorded (a request without a valid token names no organisation); a pull is a GET (or HEAD).
 */
import type { FeedOutChannel } from '@watchfloor/protocol'
import type { CredentialStore } from '@watchfloor/store'
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express'
import type { Logger } from 'pino'
import type { Caller } from '../access/access.ts'

const served = new WeakMap<Response, number>()
const refusals = new WeakMap<Response, string>()

/** What an answer serves, for its pull's count: STIX objects or manifest records, MISP events or hash rows. */
export function countServed(res: Response, objects: number): void {
  served.set(res, objects)
}

export interface PullRecorder {
  /** After authentication, before the channel's routes: a pull is recorded once its answer is sent. */
  track: RequestHandler
  /** Before the channel's error handler: keeps the refusal's message, as the answer says it. */
  noteRefusal: ErrorRequestHandler
}

export interface PullRecorderOptions {
  channel: FeedOutChannel
  credentials: CredentialStore
  logger: Logger
  /** The request's authenticated caller; undefined when it has none. */
  callerOf: (req: Request) => Caller | undefined
  /** The message the channel's answer gives for an error (never an internal error's details). */
  describe: (error: unknown) => string
}

export function pullRecorder({ channel, credentials, logger, callerOf, describe }: PullRecorderOptions): PullRecorder {
  const track: RequestHandler = (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next()
      return
    }
    res.once('finish', () => {
      const caller = callerOf(req)
      if (caller === undefined) return
      const status = res.statusCode
      const failed = status >= 400
      credentials
        .recordFeedOutPull({
          organisation: caller.organisation,
          channel,
          at: new Date().toISOString(),
          objects: failed ? 0 : (served.get(res) ?? 0),
          ...(failed ? { error: { status, message: refusals.get(res) ?? `answered ${status}` } } : {}),
        })
        .catch((error: unknown) => logger.warn({ err: error, channel }, 'could not record a partner’s pull'))
    })
    next()
  }
  const noteRefusal: ErrorRequestHandler = (error, _req, res, next) => {
    refusals.set(res, describe(error))
    next(error)
  }
  return { track, noteRefusal }
}

/**
 * Partner feeds pulled in (`/api/v1/feeds`, docs/api.md "Partner feeds"): the TAXII 2.1
 * collections of partners this floor polls, each with its state. Their shapes, what the Sharing
 * page derives from them (the request body of the registration form, the URL polled, how healthy a
 * feed is, what "Poll now" did), and the REST calls through the console's one client.
 *
 * Who may do what, as the server asks it: admins and liaisons read (not a display token); admins
 * register, change, poll and delete (core's rule A8, `directoryRefusal`, as `mayEditDirectory`).
 * A feed's secret is never entered in the console nor shown by the server: its `auth` names an
 * environment variable `WATCHFLOOR_FEED_...` set on the server.
 *
 * The replies' shapes are protocol's (`FeedReply`, `FeedStateReply`, `PollOutcomeReply`): the server
 * builds them with the same types, and the console reads them with the same schemas.
 */
import {
  type FeedAuthReply,
  FeedReply,
  type FeedStateReply,
  OneFeedReply,
  type PollOutcomeReply,
  PollReply,
  TLP_LEVELS,
  type Tlp,
} from '@watchfloor/protocol'
import { ApiError, type Fetch, request, requestJson } from '../../data/api.ts'
import type { Session } from '../../data/store.ts'
import { formatDuration } from '../../ui/format.ts'
import { type FormError, formErrorOf } from './directory.ts'

export const FEEDS_PATH = '/api/v1/feeds'
export const feedPath = (id: string): string => `${FEEDS_PATH}/${encodeURIComponent(id)}`

/** Every secret's environment variable starts so (the server refuses anything else, 400). */
export const SECRET_ENV_PREFIX = 'WATCHFLOOR_FEED_'
export const AUTH_KINDS = ['none', 'bearer', 'basic'] as const
export type AuthKind = (typeof AUTH_KINDS)[number]
export const AUTH_LABELS: Readonly<Record<AuthKind, string>> = {
  none: 'None',
  bearer: 'Bearer token',
  basic: 'HTTP Basic',
}

export type FeedAuth = FeedAuthReply
export type FeedState = FeedStateReply
/** A feed with its state (null before the first poll). */
export type Feed = FeedReply
/** What one poll did (`POST /api/v1/feeds/:id/poll`). */
export type PollOutcome = PollOutcomeReply

/** One of protocol's reply schemas, as the console uses it. */
export interface ReplySchema<T> {
  safeParse(
    body: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } }
}

/**
 * A reply read with protocol's schema; one that is not what the server promises is `internal`,
 * an error of the console's one client like any other (not "cannot reach the server").
 */
export function replyOf<T>(schema: ReplySchema<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const where = issue ? `${issue.path.map(String).join('.') || 'reply'}: ${issue.message}` : 'unreadable'
  throw new ApiError({
    status: 200,
    error: { code: 'internal', message: `the server's reply is not ${what} (${where})` },
  })
}

/** The body of `POST /api/v1/feeds`. */
export interface NewFeed {
  id: string
  label: string
  url: string
  apiRoot: string
  collectionId: string
  organisation: string
  auth: FeedAuth
  pollSeconds?: number
  defaultTlp: Tlp
  enabled: boolean
}

/** The registration form as typed: every field a string, but the choices. */
export interface FeedForm {
  id: string
  label: string
  url: string
  apiRoot: string
  collectionId: string
  organisation: string
  authKind: AuthKind
  username: string
  secretEnv: string
  pollSeconds: string
  defaultTlp: Tlp
  enabled: boolean
}

/** A blank form: Watchfloor's own API root and its "all" collection, 5 minutes, AMBER, enabled. */
export function emptyFeedForm(organisation = ''): FeedForm {
  return {
    id: '',
    label: '',
    url: '',
    apiRoot: '/taxii2/api/',
    collectionId: 'all',
    organisation,
    authKind: 'bearer',
    username: '',
    secretEnv: SECRET_ENV_PREFIX,
    pollSeconds: '300',
    defaultTlp: 'AMBER',
    enabled: true,
  }
}

/**
 * The request body of a filled-in form. Text is trimmed; the auth carries only the fields its kind
 * has (the server refuses others); an empty poll interval is left out (the server's default, 300
 * s), anything else is sent as a number, or as typed when it is none, for the server to name it.
 */
export function feedBodyOf(form: FeedForm): NewFeed {
  const secretEnv = form.secretEnv.trim()
  let auth: FeedAuth
  if (form.authKind === 'bearer') auth = { kind: 'bearer', secretEnv }
  else if (form.authKind === 'basic') auth = { kind: 'basic', username: form.username.trim(), secretEnv }
  else auth = { kind: 'none' }
  const body: NewFeed = {
    id: form.id.trim(),
    label: form.label.trim(),
    url: form.url.trim(),
    apiRoot: form.apiRoot.trim(),
    collectionId: form.collectionId.trim(),
    organisation: form.organisation,
    auth,
    defaultTlp: form.defaultTlp,
    enabled: form.enabled,
  }
  const poll = form.pollSeconds.trim()
  if (poll !== '') body.pollSeconds = /^\d+$/.test(poll) ? Number(poll) : (poll as unknown as number)
  return body
}

/** The collection's objects URL the server polls (as its poller builds it): base, API root, collection. */
export function collectionUrlOf(feed: Pick<Feed, 'url' | 'apiRoot' | 'collectionId'>): string {
  const base = feed.url.replace(/\/+$/, '')
  const root = `/${feed.apiRoot.replace(/^\/+|\/+$/g, '')}/`.replace(/^\/\/$/, '/')
  return `${base}${root}collections/${encodeURIComponent(feed.collectionId)}/`
}

/** "Bearer token from WATCHFLOOR_FEED_X", "HTTP Basic as bob, password from ...", "No authentication". */
export function describeAuth(auth: FeedAuth): string {
  switch (auth.kind) {
    case 'bearer':
      return `Bearer token from ${auth.secretEnv}`
    case 'basic':
      return `HTTP Basic as ${auth.username}, password from ${auth.secretEnv}`
    default:
      return 'No authentication'
  }
}

/** How a feed is doing, for its badge: off, never polled yet, failing (its last attempt), or fine. */
export type FeedHealth = 'disabled' | 'new' | 'failing' | 'ok'

export function feedHealth(feed: Pick<Feed, 'enabled' | 'state'>): FeedHealth {
  if (feed.state?.lastError) return 'failing'
  if (!feed.enabled) return 'disabled'
  if (feed.state === null || feed.state.lastSuccessAt === null) return 'new'
  return 'ok'
}

export const HEALTH_LABELS: Readonly<Record<FeedHealth, string>> = {
  disabled: 'disabled',
  new: 'not polled yet',
  failing: 'failing',
  ok: 'ok',
}

/** "every 5m", "every 45s". */
export function describeInterval(seconds: number): string {
  return `every ${formatDuration(seconds * 1000)}`
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** "12 objects read, 10 new events stored, 0 refused, 2 skipped (RED is not imported from a feed), 1 page". */
export function describeOutcome(outcome: PollOutcome): string {
  const why = outcome.reasons.map((r) => r.reason)
  return [
    `${plural(outcome.objects, 'object')} read`,
    `${plural(outcome.stored, 'new event')} stored`,
    `${outcome.refused} refused`,
    `${outcome.skipped} skipped${why.length > 0 ? ` (${why.slice(0, 3).join('; ')}${why.length > 3 ? '; …' : ''})` : ''}`,
    plural(outcome.pages, 'page'),
  ].join(', ')
}

/** Who sees the feeds: admins and liaisons, not a display token (as the server's reader). */
export function mayReadFeeds(session: Session | null | undefined): boolean {
  if (!session || session.kind === 'display') return false
  return session.roles.includes('admin') || session.roles.includes('liaison')
}

const byId = (a: Feed, b: Feed): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** The reply of `GET /api/v1/feeds` as a list by id (missing: empty); a feed not of protocol's shape is an error. */
export function feedsOf(body: unknown): Feed[] {
  const feeds = (body as { feeds?: unknown } | null)?.feeds
  return Array.isArray(feeds) ? replyOf(FeedReply.array(), feeds, 'a list of feeds').sort(byId) : []
}

/** The TLP levels a default may take, lowest first. */
export const DEFAULT_TLPS: readonly Tlp[] = TLP_LEVELS

// ---------------------------------------------------------------------------- REST calls

export async function loadFeeds(fetchFn: Fetch = fetch): Promise<Feed[]> {
  return feedsOf(await requestJson<unknown>(FEEDS_PATH, { fetchFn }))
}

export async function createFeed(body: NewFeed, fetchFn: Fetch = fetch): Promise<Feed> {
  const reply = await requestJson<unknown>(FEEDS_PATH, { method: 'POST', json: body, fetchFn })
  return replyOf(OneFeedReply, reply, 'a feed').feed
}

export async function setFeedEnabled(id: string, enabled: boolean, fetchFn: Fetch = fetch): Promise<Feed> {
  const reply = await requestJson<unknown>(feedPath(id), { method: 'PATCH', json: { enabled }, fetchFn })
  return replyOf(OneFeedReply, reply, 'a feed').feed
}

export async function deleteFeed(id: string, fetchFn: Fetch = fetch): Promise<void> {
  await request(feedPath(id), { method: 'DELETE', fetchFn })
}

/** How the server begins the reason of a poll that failed (feeds/routes.ts), and only that. */
const POLL_FAILED = 'the feed could not be polled: '

/**
 * Why a poll failed, when it was the poll and not the request (503 `unavailable`: the partner could
 * not be read, or the feed's secret is not set): the reason alone, without the server's preamble.
 * Null for any other failure (a refusal, no answer from this server), shown as such.
 */
export function pollFailure(error: FormError): string | null {
  if (error.status !== 503 || error.code !== 'unavailable' || !error.message.startsWith(POLL_FAILED)) return null
  return error.message.slice(POLL_FAILED.length)
}

/** What "Poll now" gives: the outcome, or the server's refusal (503 with why the partner could not be read). */
export type PollResult = { ok: true; outcome: PollOutcome; at: string } | { ok: false; error: FormError; at: string }

export async function pollFeed(id: string, fetchFn: Fetch = fetch): Promise<PollResult> {
  const at = new Date().toISOString()
  try {
    const reply = await requestJson<unknown>(`${feedPath(id)}/poll`, { method: 'POST', fetchFn })
    return { ok: true, outcome: replyOf(PollReply, reply, 'a poll’s outcome').outcome, at }
  } catch (error) {
    return { ok: false, error: formErrorOf(error), at }
  }
}

/**
 * What partners can pull from this floor (docs/sharing.md "TAXII 2.1" and "Watchfloor as a MISP
 * feed"): the TAXII discovery URL and API root, the collections, and the MISP feed URL.
 *
 * The collections are not asked of `GET /taxii2/api/collections/`: TAXII takes only a token
 * (Bearer or Basic), and the console is often signed in by session cookie, which `/taxii2/` does
 * not accept. So they are named as the server names them (apps/server/src/taxii/collections.ts):
 * "all", then `community-<id>` for each community the directory lists for the caller (an admin:
 * every community; anyone else: its organisation's, exactly the ones the server gives it a
 * collection for), sorted by community id. A partner's token sees its own collections: the same
 * aliases for the communities its organisation belongs to.
 *
 * And what partners did pull (`GET /api/v1/feeds/out`, protocol's `FeedsOutReply`): per organisation
 * and channel, the pulls, the failed ones, the objects served, the last success and the last error.
 * Admins read every organisation's; liaisons and coordinators their own organisation's only.
 */
import { FEED_OUT_CHANNELS, type FeedOutActivity, type FeedOutChannel, FeedsOutReply } from '@watchfloor/protocol'
import { type Fetch, requestJson } from '../../data/api.ts'
import type { Session } from '../../data/store.ts'
import type { Community } from './directory.ts'
import { replyOf } from './feeds.ts'

export const TAXII_DISCOVERY_PATH = '/taxii2/'
export const TAXII_API_ROOT_PATH = '/taxii2/api/'
export const MISP_FEED_PATH = '/misp/feed/'
export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1'

/** The id of "all": `uuidv5(TAXII_NAMESPACE, 'all')`, the same on every instance (docs/sharing.md). */
export const ALL_COLLECTION_ID = '0cefe999-e035-5f3f-b2e9-40db7e0aca21'

/** The origin without a trailing slash (`http://host:8080`). */
function base(origin: string): string {
  return origin.replace(/\/+$/, '')
}

export const taxiiDiscoveryUrl = (origin: string): string => `${base(origin)}${TAXII_DISCOVERY_PATH}`
export const taxiiApiRootUrl = (origin: string): string => `${base(origin)}${TAXII_API_ROOT_PATH}`
export const mispFeedUrl = (origin: string): string => `${base(origin)}${MISP_FEED_PATH}`

/** One collection as a partner names it in a path: its alias (the id works too). */
export interface OutboundCollection {
  alias: string
  title: string
  /** The stable id, when the console knows it without hashing ("all"). */
  id?: string
  /** The community, for a community's collection. */
  community?: string
  /** Its objects' URL. */
  objectsUrl: string
}

/** "all", then one per community, by community id, as the server lists them for the same caller. */
export function outboundCollections(origin: string, communities: readonly Pick<Community, 'id' | 'name'>[]) {
  const root = taxiiApiRootUrl(origin)
  const of = (alias: string) => `${root}collections/${alias}/objects/`
  const all: OutboundCollection = { alias: 'all', title: 'All I may see', id: ALL_COLLECTION_ID, objectsUrl: of('all') }
  return [
    all,
    ...[...communities]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(
        (c): OutboundCollection => ({
          alias: `community-${c.id}`,
          title: `Releasable to ${c.name}`,
          community: c.id,
          objectsUrl: of(`community-${c.id}`),
        }),
      ),
  ]
}

/** The curl line a partner runs with a token of its own (`$TOKEN`), to try a URL. */
export function curlOf(url: string, accept = TAXII_MEDIA_TYPE): string {
  return `curl -H 'Accept: ${accept}' -H "Authorization: Bearer $TOKEN" ${url}`
}

// ---------------------------------------------------------------------------- what partners pulled

export const FEEDS_OUT_PATH = '/api/v1/feeds/out'
/** How often the table of pulls is read again while the Sharing page is open. */
export const FEEDS_OUT_REFRESH_MS = 15_000

export const CHANNEL_LABELS: Readonly<Record<FeedOutChannel, string>> = { taxii: 'TAXII 2.1', misp: 'MISP feed' }

/** Who reads what partners pulled (as the server asks): admins, liaisons and coordinators, not a display token. */
export function mayReadFeedsOut(session: Session | null | undefined): boolean {
  if (!session || session.kind === 'display') return false
  return session.roles.some((role) => role === 'admin' || role === 'liaison' || role === 'coordinator')
}

/**
 * How an organisation's pulls over a channel are doing: `failing` when its last pull was refused
 * (its last error is the latest pull), `ok` when the last one succeeded, `never` when none ever did.
 */
export type PullHealth = 'ok' | 'failing' | 'never'

export function pullHealth(activity: Pick<FeedOutActivity, 'lastPullAt' | 'lastSuccessAt' | 'lastError'>): PullHealth {
  if (activity.lastError !== null && activity.lastError.at >= activity.lastPullAt) return 'failing'
  if (activity.lastSuccessAt === null) return 'never'
  return 'ok'
}

export const PULL_HEALTH_LABELS: Readonly<Record<PullHealth, string>> = {
  ok: 'ok',
  failing: 'last pull refused',
  never: 'never succeeded',
}

/** By organisation, then channel in the order the server names them (TAXII, then MISP). */
export function sortActivity(activity: readonly FeedOutActivity[]): FeedOutActivity[] {
  const rank = (channel: FeedOutChannel) => FEED_OUT_CHANNELS.indexOf(channel)
  return [...activity].sort((a, b) =>
    a.organisation < b.organisation ? -1 : a.organisation > b.organisation ? 1 : rank(a.channel) - rank(b.channel),
  )
}

/** "406: the Accept header must include …". */
export function describePullError(error: NonNullable<FeedOutActivity['lastError']>): string {
  return `${error.status}: ${error.message}`
}

export async function loadFeedsOut(fetchFn: Fetch = fetch): Promise<FeedOutActivity[]> {
  const reply = await requestJson<unknown>(FEEDS_OUT_PATH, { fetchFn })
  return sortActivity(replyOf(FeedsOutReply, reply, 'the pulls of partners').activity)
}

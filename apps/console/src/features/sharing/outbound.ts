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
 */
import type { Community } from './directory.ts'

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

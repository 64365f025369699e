/**
 * The collections of Watchfloor's one API root (OASIS TAXII 2.1, sections 5.1 and 5.2): "all" (what
 * the caller may see) and one per community of the directory the caller's organisation belongs to
 * (an admin: every community), holding what the caller may see that is releasable to the
 * community. Ids are UUIDv5 in a fixed namespace, so they are the same on every start and every
 * instance.
 */
import { canSee, postingRefusal } from '@watchfloor/core'
import type { StoredEvent, Viewer } from '@watchfloor/protocol'
import { UUID_NAMESPACE_URL, uuidv5 } from '@watchfloor/sharing'
import { type Caller, knowsCommunity } from '../access/access.ts'
import type { Directory } from '../access/directory.ts'
import { STIX_MEDIA_TYPE } from './media.ts'

/** Watchfloor's TAXII namespace: `uuidv5(NAMESPACE_URL, 'urn:watchfloor:taxii')`. Never change it. */
export const TAXII_NAMESPACE = uuidv5(UUID_NAMESPACE_URL, 'urn:watchfloor:taxii')

/** The id of the "all" collection: the same everywhere. */
export const ALL_COLLECTION_ID = uuidv5(TAXII_NAMESPACE, 'all')

/** The id of a community's collection: `uuidv5(TAXII_NAMESPACE, 'community:<id>')`. */
export function communityCollectionId(community: string): string {
  return uuidv5(TAXII_NAMESPACE, `community:${community}`)
}

/** One collection as the caller may use it. */
export interface Collection {
  id: string
  alias: string
  title: string
  description: string
  /** The community whose collection this is; undefined for "all". */
  community: string | undefined
  canWrite: boolean
}

/**
 * [A1, A2, A7] Adding objects is posting: a caller with a posting role, not read-only (a display, a
 * view as). Why this caller may not, in the words of the REST API's refusals; undefined: it may.
 */
export function writeRefusal(caller: Caller): string | undefined {
  if (caller.kind === 'display') return 'a display token is read-only'
  if (caller.viewingAs !== undefined) return 'a view as another audience is read-only'
  return postingRefusal({ ...caller, readOnly: false })?.message
}

export function mayWrite(caller: Caller): boolean {
  return writeRefusal(caller) === undefined
}

/** The caller's collections, in a stable order (3.3): "all", then its communities by id. */
export function collectionsOf(caller: Caller, directory: Directory): Collection[] {
  const canWrite = mayWrite(caller)
  // the communities the caller may know of [A8]: every one for an admin, else its organisation's
  const communities = directory.listCommunities().filter((community) => knowsCommunity(caller, community.id))
  const all: Collection = {
    id: ALL_COLLECTION_ID,
    alias: 'all',
    title: 'All I may see',
    description:
      "Everything the caller's own projection of the log holds, as STIX 2.1 (incidents, sightings, observed data, " +
      'advisories as reports, networks, organisations, marking definitions).',
    community: undefined,
    canWrite,
  }
  return [
    all,
    ...[...communities]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((community) => ({
        id: communityCollectionId(community.id),
        alias: `community-${community.id}`,
        title: `Releasable to ${community.name}`,
        description:
          `What the caller may see whose marking is releasable to the community ${community.id} ` +
          '(releasableTo names it). Objects added here without a releasability are made releasable to it.',
        community: community.id,
        canWrite,
      })),
  ]
}

/** The caller's collection by id or alias; undefined when it has none by that name (404, as for a missing one). */
export function findCollection(caller: Caller, directory: Directory, idOrAlias: string): Collection | undefined {
  return collectionsOf(caller, directory).find((c) => c.id === idOrAlias || c.alias === idOrAlias)
}

/** Which events a collection is made of, for this viewer: what it may see, and for a community what is releasable to it. */
export function eventsOf(collection: Collection, viewer: Viewer): (event: StoredEvent) => boolean {
  const { community } = collection
  if (community === undefined) return (event) => canSee(viewer, event)
  return (event) => canSee(viewer, event) && (event.marking.releasableTo?.includes(community) ?? false)
}

/** The collection resource (5.2.1). */
export function collectionResource(collection: Collection): Record<string, unknown> {
  return {
    id: collection.id,
    title: collection.title,
    description: collection.description,
    alias: collection.alias,
    can_read: true,
    can_write: collection.canWrite,
    media_types: [STIX_MEDIA_TYPE],
  }
}

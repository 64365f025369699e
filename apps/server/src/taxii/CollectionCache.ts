/**
 * A collection's objects as TAXII serves them: the STIX 2.1 export (`StixExport`, the same mapping
 * and projection as `GET /api/v1/export?format=stix`) of the events of the collection the viewer
 * may see, each object with the log seq and the `date_added` of the event that produced its
 * current version.
 *
 * - An observation's objects (SCOs, observed-data, sighting) and the marking definitions they
 *   bring: the observation event.
 * - An incident, advisory or network and what it asserts (its relationships): the first event
 *   about it recorded at or after its `modified` (the event that made this version), else the last
 *   event about it.
 * - What others only point at (organisations, nations, locations, network stubs, marking
 *   definitions): the earliest object that points at it (a marking definition: the earliest object
 *   marked with it, even when an observation returned it).
 *
 * Objects are sorted by (seq, id), which is what `next` pages by (section 3.5): an object that does
 * not change keeps its place for good, a new version moves to the event that made it (so it comes
 * again, as TAXII wants of a new version; a pointed-at object may come again when the earliest
 * object pointing at it does, never less often). `date_added` is the recordedAt of that event with
 * microsecond precision (section 2), made unique and increasing along that order (an event's
 * objects take the following microseconds), so paging with `added_after` and
 * `X-TAXII-Date-Added-Last` returns every object exactly once as well. While objects change between
 * two pages, `next` is the exact cursor: a change can shift the microseconds of objects recorded in
 * the same millisecond as the one that moved away.
 */
import { fold, incidentOf, initialState, viewerKey } from '@watchfloor/core'
import type { StoredEvent, Viewer } from '@watchfloor/protocol'
import { type OrganisationDirectory, StixExport, type StixObject, stixTime } from '@watchfloor/sharing'
import type { EventStore } from '@watchfloor/store'
import { microsOf, taxiiTimestamp } from './media.ts'

/** One object of a collection and where it stands. */
export interface CollectionObject {
  object: StixObject
  id: string
  type: string
  /** Its version (5.3.1): `modified`, else `created`, else the recordedAt of the event that produced it. */
  version: string
  specVersion: string
  /** The log seq of the event that produced this version: the paging order with `id`. */
  seq: number
  /** `date_added` in microseconds since the epoch: unique, increasing along (seq, id). */
  addedMicros: number
  dateAdded: string
}

/** A collection's objects for one viewer, as of its head. */
export interface CollectionContents {
  /** The viewer's head these contents were read to. */
  head: number
  /** Sorted by (seq, id). */
  objects: CollectionObject[]
  byId: ReadonlyMap<string, CollectionObject>
}

/** Order of (seq, id): the paging order. */
export function compareKey(a: { seq: number; id: string }, b: { seq: number; id: string }): number {
  if (a.seq !== b.seq) return a.seq - b.seq
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

const PAGE = 1000

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve))

/** The events after 0 up to `head` that `wanted` keeps, in seq order. */
async function readEvents(
  store: EventStore,
  head: number,
  wanted: (event: StoredEvent) => boolean,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = []
  let cursor = 0
  while (cursor < head) {
    const page = await store.readAfter(cursor, PAGE)
    for (const event of page) {
      if (event.seq > head) return events
      if (wanted(event)) events.push(event)
    }
    if (page.length < PAGE) break
    cursor = page.at(-1)!.seq
    await yieldToIo() // let other requests in between pages
  }
  return events
}

/** The Watchfloor things an event is about, as `kind:id`: what makes a new version of their STIX objects. */
function subjectsOf(event: StoredEvent): string[] {
  const subjects: string[] = []
  const incident = incidentOf(event)
  if (incident !== undefined) subjects.push(`incident:${incident}`)
  if (event.type === 'incident.linked') subjects.push(`incident:${event.payload.otherIncidentId}`)
  if (event.type === 'advisory.published') subjects.push(`advisory:${event.payload.advisoryId}`)
  if (event.type === 'network.registered' || event.type === 'network.posture_changed')
    subjects.push(`network:${event.payload.networkId}`)
  return subjects
}

/** The Watchfloor thing an exported object stands for (a network stub has none of its own events: undefined). */
function subjectOfObject(object: StixObject, byId: ReadonlyMap<string, StixObject>): string | undefined {
  switch (object.type) {
    case 'incident':
      return typeof object.x_watchfloor_incident_id === 'string'
        ? `incident:${object.x_watchfloor_incident_id}`
        : undefined
    case 'report':
      return typeof object.x_watchfloor_advisory_id === 'string'
        ? `advisory:${object.x_watchfloor_advisory_id}`
        : undefined
    case 'identity':
      return object.identity_class === 'system' && typeof object.x_watchfloor_network_id === 'string'
        ? `network:${object.x_watchfloor_network_id}`
        : undefined
    case 'relationship': {
      // a relationship is asserted by its source: an incident (affected networks, attack source, links) or a network
      const source = typeof object.source_ref === 'string' ? byId.get(object.source_ref) : undefined
      return source === undefined || source.type === 'relationship' ? undefined : subjectOfObject(source, byId)
    }
    default:
      return undefined
  }
}

/** Every id an object points at: its `*_ref` and `*_refs` properties (top level). */
function referencesOf(object: StixObject): string[] {
  const refs: string[] = []
  for (const [name, value] of Object.entries(object)) {
    if (name.endsWith('_ref') && typeof value === 'string') refs.push(value)
    else if (name.endsWith('_refs') && Array.isArray(value))
      for (const ref of value) if (typeof ref === 'string') refs.push(ref)
  }
  return refs
}

/** The STIX version of an object (5.3.1): `modified`, else `created`. */
function stixVersionOf(object: StixObject): string | undefined {
  if (typeof object.modified === 'string') return object.modified
  if (typeof object.created === 'string') return object.created
  return undefined
}

interface Touch {
  seq: number
  /** STIX time (ms, `Z`) of the event's recordedAt: orders as a string. */
  recorded: string
}

/**
 * Build a collection's contents: the export of `events` (the collection's events the viewer may
 * see, in seq order, up to `head`), each object placed (see the module comment).
 */
export async function collectionContents(
  events: readonly StoredEvent[],
  head: number,
  directory: OrganisationDirectory | undefined,
): Promise<CollectionContents> {
  const exporter = new StixExport({ directory, scope: 'picture' })
  const placed = new Map<string, number>()
  const produced: StixObject[] = []
  const touches = new Map<string, Touch[]>()
  const recordedAt = new Map<number, string>()
  for (const [i, event] of events.entries()) {
    // a long collection is built in slices, letting other requests in between them
    if (i > 0 && i % PAGE === 0) await yieldToIo()
    recordedAt.set(event.seq, event.recordedAt)
    for (const object of exporter.add([event])) {
      produced.push(object)
      placed.set(object.id, event.seq)
    }
    const touch = { seq: event.seq, recorded: stixTime(event.recordedAt) }
    for (const subject of subjectsOf(event)) {
      const list = touches.get(subject)
      if (list === undefined) touches.set(subject, [touch])
      else list.push(touch)
    }
  }
  const finished = exporter.finish(fold(initialState, events))
  produced.push(...finished)
  const byId = new Map(produced.map((object) => [object.id, object]))

  // an incident, advisory, network and what it asserts: the event that made its current version
  const unplaced: StixObject[] = []
  for (const object of finished) {
    const subject = subjectOfObject(object, byId)
    const list = subject === undefined ? undefined : touches.get(subject)
    if (list === undefined || list.length === 0) {
      unplaced.push(object)
      continue
    }
    const version = stixVersionOf(object)
    const made = version === undefined ? undefined : list.find((touch) => touch.recorded >= version)
    placed.set(object.id, (made ?? list.at(-1)!).seq)
  }

  // what others point at: the earliest object pointing at it; a relationship: when its source is there
  const pointedAtBy = new Map<string, string[]>()
  for (const object of produced)
    for (const ref of referencesOf(object)) {
      const list = pointedAtBy.get(ref)
      if (list === undefined) pointedAtBy.set(ref, [object.id])
      else list.push(object.id)
    }
  let pending = unplaced
  while (pending.length > 0) {
    const still: StixObject[] = []
    for (const object of pending) {
      let seq: number | undefined
      if (object.type === 'relationship') {
        const source = placed.get(String(object.source_ref))
        const target = placed.get(String(object.target_ref))
        if (source !== undefined) seq = Math.max(source, target ?? source)
      } else {
        for (const by of pointedAtBy.get(object.id) ?? []) {
          const at = placed.get(by)
          if (at !== undefined && (seq === undefined || at < seq)) seq = at
        }
      }
      if (seq === undefined) still.push(object)
      else placed.set(object.id, seq)
    }
    if (still.length === pending.length) {
      // nothing points at them (cannot happen with the export as it is): the last event of the collection
      const last = events.at(-1)?.seq ?? head
      for (const object of still) placed.set(object.id, last)
      break
    }
    pending = still
  }

  // a marking definition comes with the first object marked with it, whichever step returned it
  for (const object of produced) {
    if (object.type !== 'marking-definition') continue
    for (const by of pointedAtBy.get(object.id) ?? []) {
      const at = placed.get(by)
      if (at !== undefined && at < placed.get(object.id)!) placed.set(object.id, at)
    }
  }

  const objects: CollectionObject[] = produced.map((object) => {
    const seq = placed.get(object.id)!
    const recorded = recordedAt.get(seq) ?? events.at(-1)?.recordedAt ?? new Date(0).toISOString()
    return {
      object,
      id: object.id,
      type: object.type,
      version: stixVersionOf(object) ?? stixTime(recorded),
      specVersion: typeof object.spec_version === 'string' ? object.spec_version : '2.1',
      seq,
      addedMicros: microsOf(recorded),
      dateAdded: '',
    }
  })
  objects.sort(compareKey)
  // date_added: the event's recordedAt, its objects on the following microseconds, never twice the same
  let previous = Number.NEGATIVE_INFINITY
  for (const entry of objects) {
    entry.addedMicros = Math.max(entry.addedMicros, previous + 1)
    entry.dateAdded = taxiiTimestamp(entry.addedMicros)
    previous = entry.addedMicros
  }
  return { head, objects, byId: new Map(objects.map((entry) => [entry.id, entry])) }
}

interface Cached {
  head: number
  contents: Promise<CollectionContents>
  /** Objects it holds, once built (0 while building): what the cache's bound counts. */
  objects: number
}

/** Objects all cached collections may hold together, by default (about 3.4 KB each in memory). */
export const CACHED_OBJECTS_MAX = 300_000

/**
 * Collection contents per (viewer, collection), built again only when the viewer's head moved:
 * paging through a collection reads the log once. The least recently used are dropped beyond
 * `maxEntries`, or while the built ones hold more than `maxObjects` objects together (the newest
 * always stays, however large). Keyed by core's `viewerKey`, so two viewers share contents only
 * when `canSee` cannot tell them apart.
 */
export class CollectionCache {
  private readonly entries = new Map<string, Cached>()

  constructor(
    private readonly store: EventStore,
    private readonly directory: OrganisationDirectory | undefined,
    private readonly maxEntries = 32,
    private readonly maxObjects = CACHED_OBJECTS_MAX,
  ) {}

  /** Drop the least recently used entries while over either bound; the newest stays. */
  private prune(): void {
    let objects = 0
    for (const entry of this.entries.values()) objects += entry.objects
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= 1 || (this.entries.size <= this.maxEntries && objects <= this.maxObjects)) return
      this.entries.delete(key)
      objects -= entry.objects
    }
  }

  get(
    viewer: Viewer,
    collectionId: string,
    head: number,
    wanted: (event: StoredEvent) => boolean,
  ): Promise<CollectionContents> {
    const key = JSON.stringify([viewerKey(viewer), collectionId])
    const cached = this.entries.get(key)
    this.entries.delete(key)
    if (cached !== undefined && cached.head === head) {
      this.entries.set(key, cached)
      return cached.contents
    }
    const contents = readEvents(this.store, head, wanted).then((events) =>
      collectionContents(events, head, this.directory),
    )
    const entry: Cached = { head, contents, objects: 0 }
    this.entries.set(key, entry)
    contents.then(
      (built) => {
        entry.objects = built.objects.length
        this.prune()
      },
      () => {
        // a failed build is not kept
        if (this.entries.get(key)?.contents === contents) this.entries.delete(key)
      },
    )
    this.prune()
    return contents
  }
}

import {
  canSee,
  commandOnlyRefusal,
  defaultMarking,
  feedNamespaceRefusal,
  type OwnerLookup,
  type Owners,
  ownerClaim,
  ownerRefusal,
  postingRefusal,
  type Refusal,
  sourceRefusal,
} from '@watchfloor/core'
import { EventInput, MAX_EVENTS_PER_POST, parseOrThrow, type Viewer, WatchfloorError } from '@watchfloor/protocol'
import type { AcceptedEvent, AppendResult, EventStore } from '@watchfloor/store'
import { type Principal, viewerOf } from '../access/tokens.ts'
import { refusalError } from '../http/errors.ts'

/**
 * The ingest path of raw events (REST and the embedded simulator): validate (protocol) ->
 * authorise (core's policy, A1-A5, against who owns what in the whole picture) -> mark (A6, V8)
 * -> append (acknowledged once committed). A request is all or nothing: one refused event and
 * nothing of it is stored.
 */
export async function ingest(
  store: EventStore,
  principal: Principal,
  body: unknown,
  owners: () => Promise<Owners>,
): Promise<IngestResult[]> {
  refuse(postingRefusal(principal)) // [A1, A2] before reading anything
  const events = acceptEvents(principal, body, await owners())
  const viewer = viewerOf(principal)
  try {
    const results = await store.append(events)
    // [D14] a seq says where the log stands: told only of events the caller may see. A relay posting
    // for another organisation, under a marking that leaves its own organisation out, learns none.
    return results.map((result, i) =>
      canSee(viewer, events[i]!) ? result : { id: result.id, duplicate: result.duplicate },
    )
  } catch (error) {
    throw await withoutHidden(store, viewer, error)
  }
}

/** What an ingest answers per event: its seq only when the caller may see the event [D14]. */
export type IngestResult = Omit<AppendResult, 'seq'> & { seq?: number }

/**
 * [L3] An id reused with other content is a conflict; its `details.seq` says where the first
 * event stands, but only to a caller who may see that event: anyone else learns no seq.
 */
async function withoutHidden(store: EventStore, viewer: Viewer, error: unknown): Promise<unknown> {
  if (!(error instanceof WatchfloorError) || error.code !== 'conflict') return error
  const details = error.details as { id?: string; seq?: number; index?: number } | undefined
  if (details?.seq === undefined) return error
  const [first] = await store.readAfter(details.seq - 1, 1)
  if (first !== undefined && first.seq === details.seq && canSee(viewer, first)) return error
  return new WatchfloorError('conflict', `event ${details.id} is already in the log with other content`, {
    id: details.id,
    index: details.index,
  })
}

/** Validate, authorise and mark the events of one POST body, or throw naming what is wrong. */
export function acceptEvents(principal: Principal, body: unknown, owners: Owners): AcceptedEvent[] {
  refuse(postingRefusal(principal)) // [A1, A2]
  const { items, prefix } = splitBody(body)
  const batch = new BatchOwners(owners)
  return items.map((item, i) => {
    const event = parseOrThrow(EventInput, item, prefix(i))
    refuse(sourceRefusal(principal, event.source.organisation), prefix(i)) // [A3]
    refuse(commandOnlyRefusal(event), prefix(i)) // [A4]
    refuse(ownerRefusal(batch, event), prefix(i)) // [A5]
    refuse(feedNamespaceRefusal(principal, event), prefix(i)) // [A9]
    batch.add(event)
    return mark(principal, event)
  })
}

/** Who owns what: the picture's owners, then what the earlier events of the same request made. */
class BatchOwners implements Owners {
  readonly incidents: OverlayMap
  readonly networks: OverlayMap
  readonly advisories: OverlayMap

  constructor(base: Owners) {
    this.incidents = new OverlayMap(base.incidents)
    this.networks = new OverlayMap(base.networks)
    this.advisories = new OverlayMap(base.advisories)
  }

  add(event: EventInput): void {
    const claim = ownerClaim(event)
    if (claim !== undefined) this[claim.kind].claim(claim.id, claim.organisation)
  }
}

class OverlayMap {
  private readonly own = new Map<string, { organisation: string }>()
  constructor(private readonly base: OwnerLookup) {}
  get(id: string): { organisation: string } | undefined {
    return this.own.get(id) ?? this.base.get(id)
  }
  /** The first claim stands, as in the log [R12]. */
  claim(id: string, organisation: string): void {
    if (this.get(id) === undefined) this.own.set(id, { organisation })
  }
}

/** A policy refusal as the error family's `forbidden`, naming the rule and the field it is about. */
function refuse(refusal: Refusal | undefined, prefix: (string | number)[] = []): void {
  if (refusal !== undefined) throw refusalError(refusal, prefix)
}

function splitBody(body: unknown): { items: unknown[]; prefix: (i: number) => (string | number)[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new WatchfloorError('validation', 'expected a JSON object: one event, or { "events": [...] }')
  if ('events' in body) {
    const events = (body as { events: unknown }).events
    if (!Array.isArray(events) || events.length === 0)
      throw new WatchfloorError('validation', '"events" must be a non-empty array', {
        issues: [{ path: 'events', message: 'expected a non-empty array' }],
      })
    if (events.length > MAX_EVENTS_PER_POST)
      throw new WatchfloorError('too_large', `at most ${MAX_EVENTS_PER_POST} events per request, got ${events.length}`)
    const extra = Object.keys(body).filter((key) => key !== 'events')
    if (extra.length > 0)
      throw new WatchfloorError('validation', `unexpected field ${extra.join(', ')} beside "events"`, {
        issues: extra.map((path) => ({ path, message: 'unexpected field' })),
      })
    return { items: events, prefix: (i) => ['events', i] }
  }
  return { items: [body], prefix: () => [] }
}

/** [V8] Fill the default marking; [A6] the actor is who posted, whatever the sender said. */
function mark(principal: Principal, event: EventInput): AcceptedEvent {
  return {
    ...event,
    marking: event.marking ?? defaultMarking(),
    actor: { user: principal.user, organisation: principal.organisation },
  }
}

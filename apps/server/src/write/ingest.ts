import { defaultMarking, postingRefusal, type Refusal, sourceRefusal } from '@watchfloor/core'
import { EventInput, MAX_EVENTS_PER_POST, parseOrThrow, WatchfloorError } from '@watchfloor/protocol'
import type { AcceptedEvent, AppendResult, EventStore } from '@watchfloor/store'
import type { Principal } from '../access/tokens.ts'

/**
 * The ingest path shared by REST and the embedded simulator:
 * validate (protocol) -> authorise -> mark -> append (acknowledged once committed).
 */
export async function ingest(store: EventStore, principal: Principal, body: unknown): Promise<AppendResult[]> {
  const events = acceptEvents(principal, body)
  return store.append(events)
}

/** Validate, authorise and mark the events of one POST body, or throw naming what is wrong. */
export function acceptEvents(principal: Principal, body: unknown): AcceptedEvent[] {
  refuse(postingRefusal(principal)) // [A1, A2]
  const { items, prefix } = splitBody(body)
  const accepted = items.map((item, i) => {
    const event = parseOrThrow(EventInput, item, prefix(i))
    refuse(sourceRefusal(principal, event.source.organisation), prefix(i)) // [A3]
    return mark(principal, event)
  })
  return accepted
}

/** A policy refusal as the error family's `forbidden`, naming the rule and the field it is about. */
function refuse(refusal: Refusal | undefined, prefix: (string | number)[] = []): void {
  if (refusal === undefined) return
  const details =
    refusal.path === undefined
      ? { rule: refusal.rule }
      : { rule: refusal.rule, path: [...prefix, refusal.path].join('.') }
  throw new WatchfloorError(refusal.code, refusal.message, details)
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

/** [V8] Fill the default marking; record who posted when no actor is given. */
function mark(principal: Principal, event: EventInput): AcceptedEvent {
  return {
    ...event,
    marking: event.marking ?? defaultMarking(),
    actor: event.actor ?? { user: principal.user, organisation: principal.organisation },
  }
}

import { defaultMarking } from '@watchfloor/core'
import { EventInput, MAX_EVENTS_PER_POST, parseOrThrow, WatchfloorError } from '@watchfloor/protocol'
import type { AcceptedEvent, AppendResult, EventStore } from '@watchfloor/store'
import { POSTING_ROLES, type Principal } from '../access/tokens.ts'

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
  if (!principal.roles.some((role) => POSTING_ROLES.includes(role)))
    throw new WatchfloorError('forbidden', `posting events needs one of the roles ${POSTING_ROLES.join(', ')}`)
  const { items, prefix } = splitBody(body)
  const accepted = items.map((item, i) => {
    const event = parseOrThrow(EventInput, item, prefix(i))
    const organisation = event.source.organisation
    if (organisation !== principal.organisation && !principal.sources.includes(organisation))
      throw new WatchfloorError('forbidden', `${principal.user} may not post for organisation ${organisation}`, {
        path: [...prefix(i), 'source', 'organisation'].join('.'),
      })
    return mark(principal, event)
  })
  return accepted
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

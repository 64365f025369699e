import type { EventInput, Marking, StoredEvent } from '@watchfloor/protocol'

let counter = 0

/** Build a stored event for tests and benchmarks: fills id, times and marking. */
export function makeEvent<T extends EventInput['type']>(
  seq: number,
  type: T,
  payload: Extract<EventInput, { type: T }>['payload'],
  options: { organisation?: string; network?: string; marking?: Marking; actor?: string; occurredAt?: string } = {},
): StoredEvent {
  counter++
  const time = options.occurredAt ?? new Date(Date.UTC(2026, 10, 1) + seq * 1000).toISOString()
  const event = {
    id: `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`,
    seq,
    type,
    occurredAt: time,
    recordedAt: time,
    source: options.network
      ? { organisation: options.organisation ?? 'cert-ee', network: options.network }
      : { organisation: options.organisation ?? 'cert-ee' },
    marking: options.marking ?? { tlp: 'GREEN' },
    payload,
    ...(options.actor ? { actor: { user: options.actor } } : {}),
  }
  return event as StoredEvent
}

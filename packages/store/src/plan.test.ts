import { describe, expect, it } from 'vitest'
import { observation } from './contract.ts'
import { contentJson, pendingAppend, planGroup, sameContent } from './plan.ts'

const noop = () => {}

describe('sameContent', () => {
  it('[L2] is true for the same event with its keys in another order, at every depth', () => {
    const event = observation(1)
    const reordered = {
      payload: { count: 2, incidentId: 'inc-1' },
      marking: event.marking,
      source: { network: 'ee-gov', organisation: 'cert-ee' },
      occurredAt: event.occurredAt,
      type: event.type,
      id: event.id,
    } as typeof event
    expect(contentJson(reordered)).not.toBe(contentJson(event))
    expect(sameContent(contentJson(reordered), contentJson(event))).toBe(true)
  })

  it('[L3] is false when any value differs', () => {
    const event = observation(1)
    const other = { ...event, payload: { incidentId: 'inc-1', count: 99 } } as typeof event
    expect(sameContent(contentJson(other), contentJson(event))).toBe(false)
  })
})

describe('planGroup', () => {
  it('[L2] treats a repeated id with reordered keys in one batch as the same event', () => {
    const event = observation(1)
    const { type, id, ...rest } = event
    const again = { ...rest, type, id } as typeof event
    const plan = planGroup([pendingAppend([event, again], noop, noop)], new Map(), 0, '', new Date())
    expect(plan.rows).toHaveLength(1)
    expect(plan.outcomes[0]).toEqual({
      ok: true,
      results: [
        { id: event.id, seq: 1, duplicate: false },
        { id: event.id, seq: 1, duplicate: true },
      ],
    })
  })
})

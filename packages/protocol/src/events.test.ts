import { describe, expect, it } from 'vitest'
import { canonicalJson } from './canonical.ts'
import { WatchfloorError } from './errors.ts'
import { EVENT_TYPES, EventInput } from './events.ts'
import { parseOrThrow } from './validate.ts'

const base = {
  id: '3b241101-e2bb-4255-8caf-4136c566a962',
  occurredAt: '2026-11-26T08:00:00Z',
  source: { organisation: 'cert-ee', network: 'ee-gov' },
}

const good = {
  'network.registered': {
    networkId: 'ee-gov',
    name: 'Estonian government network',
    organisation: 'cert-ee',
    nation: 'EE',
    kind: 'government',
    location: { lat: 59.4, lon: 24.7 },
  },
  'network.posture_changed': { networkId: 'ee-gov', posture: 'degraded', reason: 'worm' },
  'incident.reported': {
    incidentId: 'inc-1',
    title: 'Worm',
    severity: 'critical',
    category: 'malware',
    affectedNetworks: ['ee-gov'],
    attackSource: { location: { lat: 1, lon: 2 } },
  },
  'incident.updated': { incidentId: 'inc-1', status: 'contained' },
  'incident.observation': { incidentId: 'inc-1', count: 3, indicator: '445/tcp' },
  'advisory.published': { advisoryId: 'adv-1', title: 'Patch', body: 'Apply MS17-010', incidentId: 'inc-1' },
} as const

describe('EventInput', () => {
  it.each(EVENT_TYPES)('accepts a good %s', (type) => {
    const parsed = EventInput.parse({ ...base, type, payload: good[type], marking: { tlp: 'GREEN' } })
    expect(parsed.type).toBe(type)
  })

  it('has one good example per event type', () => {
    expect(Object.keys(good).sort()).toEqual([...EVENT_TYPES].sort())
  })

  it('rejects an unknown type', () => {
    expect(EventInput.safeParse({ ...base, type: 'incident.exploded', payload: {} }).success).toBe(false)
  })

  it('names the failing field paths', () => {
    const bad = {
      ...base,
      type: 'incident.reported',
      payload: { ...good['incident.reported'], severity: 'apocalyptic' },
      marking: { tlp: 'PURPLE' },
    }
    try {
      parseOrThrow(EventInput, bad, ['events', 3])
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(WatchfloorError)
      const paths = ((error as WatchfloorError).details as { issues: { path: string }[] }).issues.map((i) => i.path)
      expect(paths).toContain('events.3.payload.severity')
      expect(paths).toContain('events.3.marking.tlp')
    }
  })

  it('rejects a non-UUID id, a bad timestamp, an out-of-range location and unknown fields', () => {
    const reg = { ...base, type: 'network.registered', payload: good['network.registered'] }
    expect(EventInput.safeParse({ ...reg, id: 'not-a-uuid' }).success).toBe(false)
    expect(EventInput.safeParse({ ...reg, occurredAt: 'yesterday' }).success).toBe(false)
    expect(
      EventInput.safeParse({ ...reg, payload: { ...good['network.registered'], location: { lat: 91, lon: 0 } } })
        .success,
    ).toBe(false)
    expect(EventInput.safeParse({ ...reg, seq: 5 }).success).toBe(false)
  })

  it('rejects an empty incident.updated and an attack source with neither network nor location', () => {
    expect(EventInput.safeParse({ ...base, type: 'incident.updated', payload: { incidentId: 'x' } }).success).toBe(
      false,
    )
    expect(
      EventInput.safeParse({
        ...base,
        type: 'incident.reported',
        payload: { ...good['incident.reported'], attackSource: {} },
      }).success,
    ).toBe(false)
  })

  it('canonical JSON is JSON: it parses back to the same value, escapes included', () => {
    const value = { z: 'quote " and \\ and \n', a: [1, 2.5, -0.001, true, null, 'ü ✓'], m: { y: undefined, x: 'x' } }
    expect(JSON.parse(canonicalJson(value))).toEqual({ ...value, m: { x: 'x' } })
    expect(canonicalJson([undefined, Number.NaN])).toBe(JSON.stringify([undefined, Number.NaN]))
  })

  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    )
  })
})

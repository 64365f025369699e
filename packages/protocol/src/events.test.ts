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
  'incident.acknowledged': { incidentId: 'inc-1', note: 'on it' },
  'incident.escalated': { incidentId: 'inc-1', severity: 'critical', reason: 'spreading to LV' },
  'incident.status_changed': { incidentId: 'inc-1', status: 'contained', reason: 'hosts isolated' },
  'incident.linked': { incidentId: 'inc-2', otherIncidentId: 'inc-1', relation: 'merged_into' },
  'incident.network_state_set': { incidentId: 'inc-1', networkId: 'ee-gov', state: 'contained' },
  'task.created': {
    taskId: 'task-1',
    incidentId: 'inc-1',
    title: 'Block 445/tcp at the border',
    description: 'All ministries',
    priority: 'urgent',
    dueAt: '2026-11-26T12:00:00Z',
    assignee: { kind: 'team', organisation: 'cert-ee' },
  },
  'task.assigned': { taskId: 'task-1', assignee: { kind: 'user', userId: 'kadri' } },
  'task.accepted': { taskId: 'task-1' },
  'task.started': { taskId: 'task-1' },
  'task.blocked': { taskId: 'task-1', reason: 'waiting for the firewall vendor' },
  'task.completed': { taskId: 'task-1', note: 'done at 11:40' },
  'task.reopened': { taskId: 'task-1', reason: 'one ministry missed' },
  'comment.posted': {
    commentId: 'c-1',
    incidentId: 'inc-1',
    taskId: 'task-1',
    body: '@janis see',
    mentions: ['janis'],
  },
  'bookmark.saved': { bookmarkId: 'b-1', title: 'First sighting', clock: 'occurred', at: '2026-11-26T08:00:00Z' },
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

  it('rejects a self-link, an assignee of an unknown kind and a comment without mentions', () => {
    const payload = (type: keyof typeof good, p: unknown) => EventInput.safeParse({ ...base, type, payload: p })
    expect(payload('incident.linked', { incidentId: 'a', otherIncidentId: 'a', relation: 'related' }).success).toBe(
      false,
    )
    expect(payload('task.assigned', { taskId: 't', assignee: { kind: 'robot', userId: 'x' } }).success).toBe(false)
    expect(payload('task.assigned', { taskId: 't', assignee: { kind: 'user', organisation: 'x' } }).success).toBe(false)
    expect(payload('comment.posted', { commentId: 'c', incidentId: 'i', body: 'hi' }).success).toBe(false)
    expect(payload('task.created', { ...good['task.created'], priority: 'whenever' }).success).toBe(false)
  })

  it('a bookmark is a moment (`at`) or a range (`from` and `to`, in order), not both or neither', () => {
    const bookmark = (p: Record<string, unknown>) =>
      EventInput.safeParse({
        ...base,
        type: 'bookmark.saved',
        payload: { bookmarkId: 'b', title: 'x', clock: 'recorded', ...p },
      }).success
    const t1 = '2026-11-26T08:00:00Z'
    const t2 = '2026-11-26T09:00:00Z'
    expect(bookmark({ at: t1 })).toBe(true)
    expect(bookmark({ from: t1, to: t2 })).toBe(true)
    expect(bookmark({})).toBe(false)
    expect(bookmark({ from: t1 })).toBe(false)
    expect(bookmark({ at: t1, from: t1, to: t2 })).toBe(false)
    expect(bookmark({ from: t2, to: t1 })).toBe(false)
    expect(bookmark({ at: 'noon' })).toBe(false)
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

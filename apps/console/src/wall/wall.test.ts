import { fold, highestTlp, initialState, isOmitted, makeEvent, nothingOmitted, omittedNames } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { countMinutes, MinuteCounts } from '../data/activity.ts'
import { leaveOut, pruneState } from '../data/retention.ts'
import { createWatchfloorStore } from '../data/store.ts'
import { DEFAULT_WALL, presetName, wallConfig } from './config.ts'
import { boardSlots } from './panels.tsx'
import {
  activePin,
  addPins,
  connectionHealth,
  expirePins,
  headline,
  rotationIndex,
  scaledZoom,
  silenceWindowMs,
  spotlightCandidates,
  wallScale,
  wallTlp,
} from './picture.ts'

const T0 = Date.UTC(2026, 10, 1)
const iso = (ms: number) => new Date(ms).toISOString()

function reported(seq: number, id: string, severity: 'low' | 'medium' | 'high' | 'critical', at = T0 + seq * 1000) {
  const event = makeEvent(
    seq,
    'incident.reported',
    { incidentId: id, title: `Incident ${id}`, severity, category: 'worm', affectedNetworks: [`net-${id}`] },
    { occurredAt: iso(at) },
  )
  return event
}
function updated(seq: number, id: string, patch: Record<string, unknown>, at = T0 + seq * 1000): StoredEvent {
  return makeEvent(seq, 'incident.updated', { incidentId: id, ...patch } as never, { occurredAt: iso(at) })
}
function task(seq: number, taskId: string, incidentId: string, at = T0 + seq * 1000): StoredEvent {
  return makeEvent(
    seq,
    'task.created',
    { taskId, incidentId, title: `Task ${taskId}`, priority: 'high' },
    { occurredAt: iso(at) },
  )
}
function comment(seq: number, commentId: string, incidentId: string, at = T0 + seq * 1000): StoredEvent {
  return makeEvent(
    seq,
    'comment.posted',
    { commentId, incidentId, body: 'seen', mentions: [] },
    { occurredAt: iso(at) },
  )
}

describe('wall config', () => {
  it('defaults, then the preset, then the link', () => {
    const preset = { name: 'baltic', title: 'Baltic', rotateSeconds: 30, filters: { organisations: ['EE'] } }
    const config = wallConfig('?rotate=10&tz=Europe/Tallinn&panels=map,spotlight,bogus', preset)
    expect(config.preset).toBe('baltic')
    expect(config.title).toBe('Baltic')
    expect(config.rotateSeconds).toBe(10)
    expect(config.timeZone).toBe('Europe/Tallinn')
    expect(config.panels).toEqual(['map', 'spotlight'])
    expect(config.filters.organisations).toEqual(['EE'])
    expect(config.pinSeconds).toBe(DEFAULT_WALL.pinSeconds)
  })

  it('ignores the link when a display token locks the preset', () => {
    const config = wallConfig(
      '?rotate=10&sev=low&panels=map',
      { name: 'critical', filters: { severities: ['critical'] } },
      true,
    )
    expect(config.rotateSeconds).toBe(DEFAULT_WALL.rotateSeconds)
    expect(config.filters.severities).toEqual(['critical'])
    expect(config.panels).toEqual(DEFAULT_WALL.panels)
  })

  it('drops malformed values', () => {
    const config = wallConfig('?rotate=0&tz=Mars/Olympus&heartbeat=abc', null)
    expect(config.rotateSeconds).toBe(DEFAULT_WALL.rotateSeconds)
    expect(config.timeZone).toBeNull()
    expect(config.heartbeatSeconds).toBe(DEFAULT_WALL.heartbeatSeconds)
    expect(presetName('?preset=../etc')).toBe('overview')
    expect(presetName('?preset=baltic')).toBe('baltic')
  })
})

describe('spotlight and pins', () => {
  it('ranks open incidents by severity then recency, and rotates through them', () => {
    const state = fold(initialState, [
      reported(1, 'a', 'high'),
      reported(2, 'b', 'critical'),
      reported(3, 'c', 'high'),
      reported(4, 'd', 'critical'),
      updated(5, 'd', { status: 'closed' }),
    ])
    const ranked = spotlightCandidates([...state.incidents.values()])
    expect(ranked.map((i) => i.incidentId)).toEqual(['b', 'c', 'a'])
    expect(rotationIndex(0, 20_000, 3)).toBe(0)
    expect(rotationIndex(20_000, 20_000, 3)).toBe(1)
    expect(rotationIndex(60_000, 20_000, 3)).toBe(0)
    expect(rotationIndex(5, 20_000, 0)).toBe(-1)
  })

  it('a new critical pins the spotlight for pinMs; an old one (catch-up) does not', () => {
    const recordedNow = T0 + 100_000
    const fresh = { ...reported(1, 'x', 'critical'), recordedAt: iso(recordedNow - 5_000) }
    const old = { ...reported(2, 'y', 'critical'), recordedAt: iso(recordedNow - 3_600_000) }
    const notCritical = { ...reported(3, 'z', 'high'), recordedAt: iso(recordedNow - 1000) }
    const escalated = { ...updated(4, 'z', { severity: 'critical' }), recordedAt: iso(recordedNow - 1000) }
    const state = fold(initialState, [fresh, old, notCritical, escalated])
    const pins = addPins(new Map(), [fresh, old, notCritical], recordedNow, 300_000)
    expect([...pins.keys()]).toEqual(['x'])
    expect(activePin(pins, state.incidents, recordedNow)?.incidentId).toBe('x')
    const both = addPins(pins, [escalated], recordedNow, 300_000)
    // a new critical never displaces one nobody acknowledged: they hold the spotlight in turn
    expect(activePin(both, state.incidents, recordedNow)?.incidentId).toBe('x')
    const turns = [0, 1, 2, 3].map(
      (k) => activePin(both, state.incidents, recordedNow + 10_000 * k, undefined, 10_000)?.incidentId,
    )
    expect(new Set(turns)).toEqual(new Set(['x', 'z']))
    expect(turns[0]).not.toBe(turns[1])
    expect(addPins(both, [escalated], recordedNow, 300_000)).toBe(both) // nothing new
    // expired
    expect(activePin(both, state.incidents, recordedNow + 400_000)).toBeNull()
    expect(expirePins(both, recordedNow + 400_000).size).toBe(0)
  })

  it('a pin ends when the incident is acknowledged, closed or no longer critical', () => {
    const now = T0 + 10_000
    const event = { ...reported(1, 'x', 'critical'), recordedAt: iso(now - 1000) }
    const pins = addPins(new Map(), [event], now, 300_000)
    const state = fold(initialState, [event])
    const incident = state.incidents.get('x')!
    const acknowledged = new Map([['x', { ...incident, acknowledgedAt: iso(now) }]])
    expect(activePin(pins, acknowledged, now)).toBeNull()
    // acknowledged before it was escalated to critical: no pin asks for an acknowledgement it has
    const before = new Map([['x', { ...incident, acknowledgedAt: iso(now - 60_000) }]])
    expect(activePin(pins, before, now)).toBeNull()
    expect(activePin(pins, new Map([['x', { ...incident, status: 'closed' as const }]]), now)).toBeNull()
    expect(activePin(pins, new Map([['x', { ...incident, severity: 'high' as const }]]), now)).toBeNull()
    // an incident this wall does not show (its filters) never pins it
    expect(activePin(pins, state.incidents, now, new Set(['other']))).toBeNull()
    expect(activePin(pins, state.incidents, now, new Set(['x']))?.incidentId).toBe('x')
  })
})

describe('banner and counters', () => {
  it('the highest marking on screen', () => {
    expect(highestTlp([])).toBe('CLEAR')
    expect(highestTlp(['GREEN', 'AMBER', 'CLEAR'])).toBe('AMBER')
    expect(highestTlp(['AMBER+STRICT', 'AMBER'])).toBe('AMBER+STRICT')
    expect(highestTlp(['GREEN', 'RED'])).toBe('RED')
  })

  it('[M1] the banner counts what the incidents shown say (a RED escalation of a GREEN report) and the networks named', () => {
    const state = fold(initialState, [
      makeEvent(
        1,
        'network.registered',
        {
          networkId: 'ee-gov',
          name: 'EE gov',
          organisation: 'cert-ee',
          nation: 'EE',
          kind: 'government',
          location: { lat: 59, lon: 24 },
        },
        { marking: { tlp: 'AMBER' } },
      ),
      makeEvent(
        2,
        'incident.reported',
        { incidentId: 'g', title: 'G', severity: 'high', category: 'x', affectedNetworks: [] },
        { marking: { tlp: 'GREEN' } },
      ),
      makeEvent(
        3,
        'incident.escalated',
        { incidentId: 'g', severity: 'critical', reason: 'spreading' },
        { marking: { tlp: 'RED', recipients: ['kadri'] } },
      ),
    ])
    const g = state.incidents.get('g')!
    const none = { incidents: [], spotlight: null, networks: [], advisories: [] }
    expect(wallTlp(none)).toBe('CLEAR')
    expect(wallTlp({ ...none, incidents: [g] })).toBe('RED')
    expect(wallTlp({ ...none, spotlight: g })).toBe('RED')
    expect(wallTlp({ ...none, networks: state.networks.values() })).toBe('AMBER')
    // the ticker's events and the overdue tasks the counters count
    expect(
      wallTlp({
        ...none,
        events: [makeEvent(9, 'incident.observation', { incidentId: 'g' }, { marking: { tlp: 'AMBER+STRICT' } })],
      }),
    ).toBe('AMBER+STRICT')
    const withTask = fold(state, [
      makeEvent(
        10,
        'task.created',
        { taskId: 't', incidentId: 'g', title: 'T', priority: 'low' },
        { marking: { tlp: 'GREEN' } },
      ),
      makeEvent(11, 'task.blocked', { taskId: 't', reason: 'r' }, { marking: { tlp: 'RED', recipients: ['kadri'] } }),
    ])
    expect(wallTlp({ ...none, tasks: withTask.tasks.values() })).toBe('RED')
  })

  it('headline counts open incidents and distinct affected networks', () => {
    const state = fold(initialState, [
      reported(1, 'a', 'high'),
      reported(2, 'b', 'critical'),
      reported(3, 'c', 'low'),
      updated(4, 'c', { status: 'closed' }),
    ])
    const h = headline([...state.incidents.values()])
    expect(h.open).toEqual({ low: 0, medium: 0, high: 1, critical: 1 })
    expect(h.openTotal).toBe(2)
    expect(h.networksAffected).toBe(2)
  })
})

describe('connection health', () => {
  it('is lost when disconnected or when no heartbeat came within the window, once it was live', () => {
    expect(connectionHealth('live', 1000, 10_000, 15_000, true)).toBe('live')
    expect(connectionHealth('live', 1000, 16_001, 15_000, true)).toBe('lost')
    expect(connectionHealth('reconnecting', 1000, 1001, 15_000, true)).toBe('lost')
    expect(connectionHealth('connecting', 1000, 1001, 15_000, true)).toBe('lost')
    expect(connectionHealth('revoked', 1000, 1001, 15_000, true)).toBe('revoked')
  })

  it("waits in silence at least two of the server's heartbeat intervals (and 2 s), whatever the window configured", () => {
    // not measured yet: the configured window
    expect(silenceWindowMs(15_000, 0)).toBe(15_000)
    // a server beating every 5 s: the window holds
    expect(silenceWindowMs(15_000, 5_000)).toBe(15_000)
    // a server beating every 20 s (WATCHFLOOR_HEARTBEAT_MS=20000): a healthy wall is not lost between beats
    const window = silenceWindowMs(15_000, 20_000)
    expect(window).toBe(42_000)
    expect(connectionHealth('live', 1000, 1000 + 20_500, window, true)).toBe('live')
    expect(connectionHealth('live', 1000, 1000 + window + 1, window, true)).toBe('lost')
    // a link's window of 2 s under the default 10 s beat
    expect(silenceWindowMs(2_000, 10_000)).toBe(22_000)
  })

  it('is outdated, not lost or loading, when the server refused the page as another protocol version', () => {
    expect(connectionHealth('outdated', 1000, 1001, 15_000, true)).toBe('outdated')
    expect(connectionHealth('outdated', 0, 1001, 15_000, false)).toBe('outdated')
  })

  it('opening is loading, never lost, until it is live once', () => {
    expect(connectionHealth('connecting', 0, 1000, 15_000, false)).toBe('loading')
    // the snapshot arrived long ago (a slow opening): still loading, not lost
    expect(connectionHealth('connecting', 1000, 60_000, 15_000, false)).toBe('loading')
    expect(connectionHealth('reconnecting', 1000, 60_000, 15_000, false)).toBe('loading')
    expect(connectionHealth('live', 1000, 60_000, 15_000, false)).toBe('live')
    expect(connectionHealth('revoked', 0, 1000, 15_000, false)).toBe('revoked')
  })

  it('once live, is loading again while a dropped picture is read anew (resync for access_changed), lost if the socket goes', () => {
    expect(connectionHealth('resyncing', 1000, 1001, 15_000, true, true)).toBe('loading')
    expect(connectionHealth('resyncing', 1000, 60_000, 15_000, true, true)).toBe('loading')
    expect(connectionHealth('reconnecting', 1000, 1001, 15_000, true, true)).toBe('lost')
    expect(connectionHealth('resyncing', 1000, 1001, 15_000, true, false)).toBe('live')
  })
})

describe('memory bounds', () => {
  it('minute counts keep a fixed span whatever the rate', () => {
    const counts = new MinuteCounts(60)
    for (let minute = 0; minute < 600; minute++) counts.add(T0 + minute * 60_000, 5)
    expect(counts.size).toBeLessThanOrEqual(61)
    expect(counts.buckets(T0 + 590 * 60_000, T0 + 600 * 60_000, 300_000)).toEqual([25, 25])
    counts.add(T0, 1) // far older than the kept span: ignored
    expect(counts.size).toBeLessThanOrEqual(61)
  })

  it('the density strip’s counts cover the longest ticker (72 hours); before what they hold, it hatches', () => {
    const HOUR = 3_600_000
    const store = createWatchfloorStore()
    const wall = wallConfig('?hours=72&retention=6', null)
    expect(wall.tickerHours).toBe(72)
    expect(wallConfig('?hours=100', null).tickerHours).toBe(DEFAULT_WALL.tickerHours) // more than is counted
    // as the wall sets it: at least the ticker's hours
    store.getState().setRetention({ hours: Math.max(wall.retentionHours, wall.tickerHours), maxEvents: 1000 })
    const now = Date.now()
    // an event a minute for 72 hours, oldest first
    const events: StoredEvent[] = []
    for (let minute = 72 * 60 - 1; minute >= 0; minute--)
      events.push(
        makeEvent(
          72 * 60 - minute,
          'incident.observation',
          { incidentId: 'a' },
          { occurredAt: iso(now - minute * 60_000) },
        ),
      )
    store.getState().applyEvents(events)
    const { activity, activityFrom } = store.getState()
    // every hour of the strip holds its counts, hours 48 to 72 too
    const start = Math.floor(now / 60_000) * 60_000 - 72 * HOUR + 60_000
    expect(activity.buckets(start, start + 72 * HOUR, HOUR)).toEqual(new Array(72).fill(60))
    expect(activity.heldFrom(activityFrom)).toBeLessThanOrEqual(now - 72 * HOUR)
    // counts kept for less than a strip shows say from when they hold everything
    const short = new MinuteCounts(countMinutes(6))
    short.add(now)
    short.add(now - 10 * HOUR) // older than kept: not counted
    expect(short.total()).toBe(1)
    const held = short.heldFrom(Number.NEGATIVE_INFINITY)
    expect(held).toBeGreaterThan(now - 10 * HOUR)
    expect(held).toBeLessThanOrEqual(now - 6 * HOUR)
    expect(short.heldFrom(now - HOUR)).toBe(now - HOUR) // counting began later still
    expect(new MinuteCounts().heldFrom()).toBe(Number.NEGATIVE_INFINITY)
    // a retention set later keeps what was counted
    expect(short.resized(countMinutes(72)).total()).toBe(1)
  })

  it('the density strip carries the strictest marking it counts, after the events themselves are pruned', () => {
    const HOUR = 3_600_000
    const store = createWatchfloorStore()
    // a window of two events: what the strip counts outlives what the window holds
    store.getState().setRetention({ hours: 24, maxEvents: 2 })
    const now = Date.now()
    const red = { marking: { tlp: 'RED' as const, recipients: ['kadri'] } }
    store
      .getState()
      .applyEvents([
        makeEvent(1, 'incident.observation', { incidentId: 'a' }, { occurredAt: iso(now - 5 * HOUR), ...red }),
        makeEvent(2, 'incident.observation', { incidentId: 'a' }, { occurredAt: iso(now - 2 * HOUR) }),
        makeEvent(3, 'incident.observation', { incidentId: 'a' }, { occurredAt: iso(now - HOUR) }),
        makeEvent(
          4,
          'incident.observation',
          { incidentId: 'a' },
          { occurredAt: iso(now - 30 * 60_000), marking: { tlp: 'AMBER' } },
        ),
      ])
    const { activity, window } = store.getState()
    expect(window.some((event) => event.marking.tlp === 'RED')).toBe(false) // pruned from the window
    expect(activity.total()).toBe(4) // still counted
    expect(activity.strictestTlp(now - 6 * HOUR, now)).toBe('RED')
    expect(activity.strictestTlp(now - 3 * HOUR, now)).toBe('AMBER') // the RED minute is before the span
    expect(activity.strictestTlp(now - 90 * 60_000, now - 40 * 60_000)).toBe('GREEN') // makeEvent's default
    // a retention set later keeps the markings of what it keeps
    expect(activity.resized(countMinutes(24)).strictestTlp(now - 6 * HOUR, now)).toBe('RED')
    // and counts trimmed as too old take their markings with them
    const short = new MinuteCounts(countMinutes(1))
    short.add(now - 3 * HOUR, 1, 'RED')
    for (let minute = 130; minute >= 0; minute--) short.add(now - minute * 60_000, 1, minute === 0 ? 'GREEN' : 'CLEAR')
    expect(short.total()).toBeLessThanOrEqual(countMinutes(1) + 1)
    expect(short.strictestTlp(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)).toBe('GREEN')
    // the banner covers what the strip counts
    const none = { incidents: [], spotlight: null, networks: [], advisories: [] }
    expect(wallTlp({ ...none, counted: [activity.strictestTlp(now - 6 * HOUR, now)] })).toBe('RED')
  })

  it('prunes closed incidents and advisories older than the cutoff, keeps open ones', () => {
    const state = fold(initialState, [
      reported(1, 'old-open', 'high', T0),
      reported(2, 'old-closed', 'high', T0),
      updated(3, 'old-closed', { status: 'closed' }, T0 + 1000),
      reported(4, 'new-closed', 'high', T0 + 10_000_000),
      updated(5, 'new-closed', { status: 'closed' }, T0 + 10_000_000),
    ])
    const pruned = pruneState(state, T0 + 5_000_000).state
    expect([...pruned.incidents.keys()].sort()).toEqual(['new-closed', 'old-open'])
    expect(pruneState(pruned, T0 + 5_000_000).state).toBe(pruned)
  })

  it('prunes the tasks and comments of the incidents it prunes, and lists them as left out; keeps what was asked for', () => {
    const state = fold(initialState, [
      reported(1, 'old-closed', 'high', T0),
      reported(2, 'old-open', 'high', T0),
      task(3, 't-old', 'old-closed', T0),
      task(4, 't-open', 'old-open', T0),
      comment(5, 'c-old', 'old-closed', T0),
      comment(6, 'c-open', 'old-open', T0),
      updated(7, 'old-closed', { status: 'closed' }, T0 + 1000),
    ])
    const pruned = pruneState(state, T0 + 5_000_000)
    expect([...pruned.state.incidents.keys()]).toEqual(['old-open'])
    expect([...pruned.state.tasks.keys()]).toEqual(['t-open'])
    expect([...pruned.state.comments.keys()]).toEqual(['c-open'])
    expect(pruned).toMatchObject({ incidents: ['old-closed'], tasks: ['t-old'], comments: 1 })
    // listed as left out, so an event about it asks for it again (core's omittedNames)
    const before = { ...nothingOmitted(iso(T0 - 86_400_000)), incidents: 3, hashes: Uint32Array.of(7, 1 << 31) }
    const omitted = leaveOut(before, pruned, T0 + 5_000_000)!
    expect(omitted).toMatchObject({ since: iso(T0 + 5_000_000), incidents: 4, tasks: 1, comments: 1 })
    expect([...omitted.hashes]).toEqual([...omitted.hashes].sort((a, b) => a - b))
    expect(isOmitted(omitted, 'incident', 'old-closed')).toBe(true)
    expect(isOmitted(omitted, 'task', 't-old')).toBe(true)
    expect(isOmitted(omitted, 'incident', 'old-open')).toBe(false)
    const reopen = updated(8, 'old-closed', { status: 'triaged', severity: 'critical' }, T0 + 9_000_000)
    expect(omittedNames(reopen, omitted)).toEqual(['old-closed'])
    expect(omittedNames(makeEvent(9, 'task.completed', { taskId: 't-old' }), omitted)).toEqual(['t-old'])
    expect(leaveOut(before, pruneState(pruned.state, T0 + 5_000_000), T0 + 5_000_000)).toBe(before)
    // what the picture was asked to include stays, by its id or a task's
    expect(pruneState(state, T0 + 5_000_000, new Set(['old-closed'])).state).toBe(state)
    expect(pruneState(state, T0 + 5_000_000, new Set(['t-old'])).state).toBe(state)
  })

  it('the store keeps only what its retention says, by the data clock', () => {
    const store = createWatchfloorStore()
    store.getState().setRetention({ hours: 1, maxEvents: 50, keep: (e) => e.type !== 'incident.observation' })
    const future = Date.now() + 30 * 3_600_000 // a data clock far ahead of the wall clock
    const events: StoredEvent[] = [reported(1, 'a', 'high', future)]
    for (let seq = 2; seq <= 500; seq++)
      events.push(
        makeEvent(seq, 'incident.observation', { incidentId: 'a' }, { occurredAt: iso(future + seq * 60_000) }),
      )
    for (let seq = 501; seq <= 600; seq++) events.push(reported(seq, `i${seq}`, 'low', future + seq * 60_000))
    store.getState().applyEvents(events)
    const s = store.getState()
    expect(s.window.every((e) => e.type !== 'incident.observation')).toBe(true)
    expect(s.window.length).toBeLessThanOrEqual(55)
    expect(s.activity.total()).toBeGreaterThan(0)
    expect(s.state.incidents.size).toBe(101)
    expect(s.lastMessageAt).toBeGreaterThan(0)
  })
})

describe('the status board', () => {
  it('shows every network that fits whole; when they do not all fit, the last cell says how many more', () => {
    expect(boardSlots(20, null)).toEqual({ tiles: 20, more: 0 })
    expect(boardSlots(20, 21)).toEqual({ tiles: 20, more: 0 })
    expect(boardSlots(21, 21)).toEqual({ tiles: 21, more: 0 })
    expect(boardSlots(22, 21)).toEqual({ tiles: 20, more: 2 })
    expect(boardSlots(40, 3)).toEqual({ tiles: 2, more: 38 })
    expect(boardSlots(5, 1)).toEqual({ tiles: 0, more: 5 })
  })
})

describe('a wall on a screen wider than it is drawn for', () => {
  it('draws its panels larger by the width over 1920, never smaller, at most three times', () => {
    expect(wallScale(1280)).toBe(1)
    expect(wallScale(1920)).toBe(1)
    expect(wallScale(3840)).toBe(2)
    expect(wallScale(7680)).toBe(3)
    expect(wallScale(Number.NaN)).toBe(1)
  })

  it('frames the same region: one zoom level in per doubling', () => {
    expect(scaledZoom(3.1, 1)).toBe(3.1)
    expect(scaledZoom(3.1, 2)).toBeCloseTo(4.1)
  })
})

import { EventInput, TLP_LEVELS } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { NATIONS, NETWORKS, ORGANISATIONS } from './networks.ts'
import { createRandom } from './random.ts'
import { createScenario, type TimedEvent, takeEvents, takeUntil } from './scenario.ts'

const startTime = '2026-11-26T08:00:00.000Z'
const MINUTE = 60_000

describe('random', () => {
  it('repeats for the same seed and stream, and differs otherwise', () => {
    const draw = (seed: number | string, stream?: string) => {
      const rng = createRandom(seed, stream)
      return Array.from({ length: 8 }, () => rng.uint32())
    }
    expect(draw(42)).toEqual(draw(42))
    expect(draw(42)).not.toEqual(draw(43))
    expect(draw(42, 'a')).not.toEqual(draw(42, 'b'))
    expect(draw('42')).not.toEqual(draw(42))
  })

  it('keeps int within bounds and makes version 4 UUIDs', () => {
    const rng = createRandom(7)
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    for (let i = 0; i < 1000; i++) {
      const n = rng.int(3, 5)
      expect(n).toBeGreaterThanOrEqual(3)
      expect(n).toBeLessThanOrEqual(5)
      expect(rng.uuid()).toMatch(uuid)
    }
  })
})

describe('networks', () => {
  it('lists about 30 allied networks with unique ids and an alliance body in Mons', () => {
    expect(NETWORKS.length).toBeGreaterThanOrEqual(28)
    expect(NETWORKS.length).toBeLessThanOrEqual(40)
    expect(new Set(NETWORKS.map((n) => n.networkId)).size).toBe(NETWORKS.length)
    expect(ORGANISATIONS.has('cert-ee')).toBe(true)
    expect(ORGANISATIONS.has('alliance')).toBe(true)
    expect(NATIONS.has('ALLIANCE')).toBe(true)
    const csoc = NETWORKS.find((n) => n.networkId === 'alliance-csoc')
    expect(csoc).toMatchObject({ organisation: 'alliance', nation: 'ALLIANCE', kind: 'alliance-body' })
    expect(csoc?.location).toEqual({ lat: 50.454, lon: 3.952 })
    expect(NETWORKS.find((n) => n.organisation === 'cert-ee')?.location).toEqual({ lat: 59.437, lon: 24.754 })
  })

  it('gives every network a short name under 20 characters (the country for a national CERT)', () => {
    for (const n of NETWORKS) expect(n.shortName.length, n.networkId).toBeLessThan(20)
    expect(NETWORKS.find((n) => n.nation === 'AL')?.shortName).toBe('Albania')
    expect(new Set(NETWORKS.map((n) => n.shortName)).size).toBe(NETWORKS.length)
  })
})

describe('createScenario (outbreak)', () => {
  const scenario = createScenario({ seed: 42, startTime, rate: 50 })
  const first = takeEvents(scenario, 5000)
  const storyline = takeUntil(scenario, scenario.storylineMs)

  it('gives identical events for the same seed and start time, and different ones for another seed', () => {
    const again = takeEvents(createScenario({ seed: 42, startTime, rate: 50 }), 5000)
    expect(again).toEqual(first)
    // iterating the same scenario again starts over
    expect(takeEvents(scenario, 5000)).toEqual(first)
    const other = takeEvents(createScenario({ seed: 43, startTime, rate: 50 }), 5000)
    expect(other.map((e) => e.event.id)).not.toEqual(first.map((e) => e.event.id))
    expect(other.map((e) => JSON.stringify(e.event.payload))).not.toEqual(
      first.map((e) => JSON.stringify(e.event.payload)),
    )
  })

  it('a later start plays the same story under fresh ids, so a restarted demo does not collide with the last run', () => {
    const later = takeEvents(createScenario({ seed: 42, startTime: Date.parse(startTime) + 3_600_000, rate: 50 }), 500)
    const ids = new Set(first.map((e) => e.event.id))
    expect(later.some((e) => ids.has(e.event.id))).toBe(false)
    expect(later.map((e) => e.event.type)).toEqual(first.slice(0, 500).map((e) => e.event.type))
    const incidentIds = (events: TimedEvent[]) =>
      events.flatMap((e) => (e.event.type === 'incident.reported' ? [e.event.payload.incidentId] : []))
    const earlierIncidents = new Set(incidentIds(first))
    expect(incidentIds(later).some((id) => earlierIncidents.has(id))).toBe(false)
  })

  it('a run continued on a new time base (idSalt of the first run) tells the same events under the same ids, later', () => {
    const later = Date.parse(startTime) + 86_400_000
    const continued = takeEvents(
      createScenario({ seed: 42, startTime: later, idSalt: Date.parse(startTime), rate: 50 }),
      5000,
    )
    expect(continued.map((e) => e.event.id)).toEqual(first.map((e) => e.event.id))
    expect(continued.map((e) => JSON.stringify(e.event.payload))).toEqual(
      first.map((e) => JSON.stringify(e.event.payload)),
    )
    for (const [i, e] of continued.entries())
      expect(Date.parse(e.event.occurredAt)).toBe(Date.parse(first[i]!.event.occurredAt) + 86_400_000)
  })

  it('generates only valid event inputs with unique ids', () => {
    for (const { event } of first) expect(() => EventInput.parse(event)).not.toThrow()
    for (const { event } of storyline.filter((e) => e.event.type !== 'incident.observation')) {
      expect(() => EventInput.parse(event)).not.toThrow()
    }
    expect(new Set(storyline.map((e) => e.event.id)).size).toBe(storyline.length)
    expect(new Set(first.map((e) => e.event.id)).size).toBe(first.length)
  })

  it('sets occurredAt from the start time and keeps events in non-decreasing order', () => {
    const start = Date.parse(startTime)
    let previous = 0
    for (const { at, event } of storyline) {
      expect(at).toBeGreaterThanOrEqual(previous)
      expect(Date.parse(event.occurredAt)).toBe(start + at)
      previous = at
    }
  })

  it('compresses occurredAt by the playing speed, keeping the story', () => {
    const fast = takeUntil(createScenario({ seed: 42, startTime, rate: 50, speed: 10 }), scenario.storylineMs)
    const start = Date.parse(startTime)
    expect(fast.length).toBe(storyline.length)
    fast.forEach(({ at, event }, i) => {
      expect(Date.parse(event.occurredAt)).toBe(start + Math.round(at / 10))
      expect(event.payload).toEqual(storyline[i]!.event.payload)
    })
  })

  it('registers all networks first', () => {
    const registrations = first.slice(0, NETWORKS.length)
    expect(registrations.every((e) => e.event.type === 'network.registered' && e.at === 0)).toBe(true)
    expect(new Set(registrations.map((e) => e.event.source.network))).toEqual(new Set(NETWORKS.map((n) => n.networkId)))
    expect(first.slice(NETWORKS.length).some((e) => e.event.type === 'network.registered')).toBe(false)
  })

  it('sends every event from a registered network on behalf of its organisation', () => {
    const organisationOf = new Map(NETWORKS.map((n) => [n.networkId, n.organisation]))
    for (const { event } of storyline) {
      expect(event.source.network).toBeDefined()
      expect(organisationOf.get(event.source.network ?? '')).toBe(event.source.organisation)
    }
  })

  it('tells an outbreak: spread, escalation to critical, posture changes and recovery', () => {
    const events = storyline.map((e) => e.event)
    const reported = events.filter((e) => e.type === 'incident.reported')
    expect(reported.length).toBeGreaterThanOrEqual(3)
    expect(reported.every((e) => e.payload.category === 'malware')).toBe(true)
    expect(reported.some((e) => e.payload.attackSource !== undefined)).toBe(true)
    const updates = events.filter((e) => e.type === 'incident.updated')
    const spread = updates.map((e) => e.payload.affectedNetworks?.length ?? 0)
    expect(Math.max(...spread)).toBeGreaterThanOrEqual(10)
    expect(updates.some((e) => e.payload.severity === 'critical')).toBe(true)
    const statuses = new Set(updates.map((e) => e.payload.status))
    for (const status of ['triaged', 'contained', 'recovered', 'closed'] as const) expect(statuses).toContain(status)
    const postures = new Set(events.flatMap((e) => (e.type === 'network.posture_changed' ? [e.payload.posture] : [])))
    for (const posture of ['elevated', 'degraded', 'compromised', 'normal'] as const)
      expect(postures).toContain(posture)
    expect(scenario.storylineMs).toBeGreaterThan(15 * MINUTE)
    expect(scenario.storylineMs).toBeLessThan(45 * MINUTE)
  })

  it('shares advisories under every TLP level, with releasability and RED recipients', () => {
    const events = storyline.map((e) => e.event)
    const tlps = new Set(events.map((e) => e.marking?.tlp))
    for (const tlp of TLP_LEVELS) expect(tlps).toContain(tlp)
    const advisories = events.filter((e) => e.type === 'advisory.published')
    const advisoryTlps = new Set(advisories.map((e) => e.marking?.tlp))
    for (const tlp of TLP_LEVELS) expect(advisoryTlps).toContain(tlp)
    const released = advisories.flatMap((e) => (e.marking?.tlp === 'AMBER' ? (e.marking.releasableTo ?? []) : []))
    expect(released.some((r) => ORGANISATIONS.has(r))).toBe(true)
    expect(released.some((r) => NATIONS.has(r))).toBe(true)
    const red = advisories.find((e) => e.marking?.tlp === 'RED')
    expect(red?.marking?.recipients).toEqual(['coordinator'])
    expect(red?.actor?.user).toBeDefined()
  })

  it('emits background observations at roughly `rate` per simulated second', () => {
    const window = (events: TimedEvent[], from: number, to: number) =>
      events.filter((e) => e.event.type === 'incident.observation' && e.at >= from && e.at < to).length
    expect(window(storyline, 2 * MINUTE, 7 * MINUTE) / 300).toBeCloseTo(50, -1)
    const slow = createScenario({ seed: 42, startTime, rate: 5 })
    const slowEvents = takeUntil(slow, 12 * MINUTE)
    expect(window(slowEvents, 2 * MINUTE, 12 * MINUTE) / 600).toBeGreaterThan(4.5)
    expect(window(slowEvents, 2 * MINUTE, 12 * MINUTE) / 600).toBeLessThan(5.5)
    // the storyline itself does not depend on the rate
    const plot = (events: TimedEvent[]) => events.filter((e) => e.event.type !== 'incident.observation')
    expect(plot(slowEvents)).toEqual(plot(storyline.filter((e) => e.at <= 12 * MINUTE)))
  })

  it('observations name incidents that were already reported', () => {
    const known = new Set<string>()
    for (const { event } of storyline) {
      if (event.type === 'incident.reported') known.add(event.payload.incidentId)
      if (event.type === 'incident.observation' || event.type === 'incident.updated') {
        expect(known.has(event.payload.incidentId)).toBe(true)
      }
    }
  })

  it('goes on after the storyline with observations and small new incidents', () => {
    const end = scenario.storylineMs
    const later: TimedEvent[] = []
    for (const timed of createScenario({ seed: 42, startTime, rate: 2 })) {
      if (timed.at > end + 30 * MINUTE) break
      if (timed.at > end) later.push(timed)
    }
    const types = new Set(later.map((e) => e.event.type))
    expect(types).toContain('incident.observation')
    expect(types).toContain('incident.reported')
    expect(types).toContain('incident.updated')
    for (const { event } of later) expect(() => EventInput.parse(event)).not.toThrow()
    let previous = end
    for (const { at } of later) {
      expect(at).toBeGreaterThanOrEqual(previous)
      previous = at
    }
  })

  it('titles each network’s incident by where first, so that a list cutting a long title still tells them apart', () => {
    const reports = [
      ...storyline,
      ...takeUntil(createScenario({ seed: 42, startTime, rate: 2 }), scenario.storylineMs + 60 * MINUTE),
    ]
      .map((e) => e.event)
      .filter((e) => e.type === 'incident.reported')
    expect(reports.length).toBeGreaterThan(10)
    for (const event of reports) {
      const { title, affectedNetworks } = event.payload as { title: string; affectedNetworks: string[] }
      if (affectedNetworks.length !== 1) continue // the outbreak itself, across networks
      const network = NETWORKS.find((n) => n.networkId === affectedNetworks[0])!
      expect(title.startsWith(`${network.shortName}: `), title).toBe(true)
    }
  })

  it('has no observations when rate is 0', () => {
    const quiet = takeUntil(createScenario({ seed: 1, startTime, rate: 0 }), 10 * MINUTE)
    expect(quiet.some((e) => e.event.type === 'incident.observation')).toBe(false)
    expect(quiet.length).toBeGreaterThan(NETWORKS.length)
  })
})

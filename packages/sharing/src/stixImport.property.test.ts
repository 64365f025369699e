/**
 * The STIX import cannot fail on a partner's data: every object `validateStixObject` accepts
 * imports without throwing, every object ends up created, used or skipped, and none of them is
 * skipped for an error the import did not foresee. Held over objects a seeded generator mutates
 * (values of every shape at the properties the import reads, observables, markings, references),
 * the OASIS examples among the objects it starts from.
 */
import type { Marking } from '@watchfloor/protocol'
import { EventInput } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { exampleFiles } from '../test/oasis.ts'
import { importStix, type StixImportResult } from './stixImport.ts'
import { PAP_MARKING_IDS, TLP1_MARKING_IDS, TLP2_EXTENSION_ID, TLP2_MARKING_IDS } from './stixMarkings.ts'
import type { StixObject } from './stixTypes.ts'
import { validateStixObject } from './stixValidate.ts'

/** A seeded generator (mulberry32): the same seed, the same objects. */
function random(seed: number) {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n: number): number => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  }
}
type Random = ReturnType<typeof random>

const T1 = '2026-11-26T08:00:00.000Z'
const T2 = '2026-11-26T09:00:00.000Z'
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
const base = (type: string, n: number, properties: Record<string, unknown>): StixObject => ({
  type,
  spec_version: '2.1',
  id: `${type}--${uuid(n)}`,
  created: T1,
  modified: T1,
  ...properties,
})

// what the generator starts from: an object of each kind the import reads, as a Watchfloor partner
// or another platform writes it, and the OASIS examples
const custom = {
  type: 'marking-definition',
  spec_version: '2.1',
  id: `marking-definition--${uuid(1)}`,
  created: T1,
  definition_type: 'TLP',
  name: 'TLP:AMBER+STRICT',
  definition: { TLP: 'AMBER+STRICT' },
}
const statement = {
  type: 'marking-definition',
  spec_version: '2.1',
  id: `marking-definition--${uuid(2)}`,
  created: T1,
  definition_type: 'statement',
  name: 'TLP:RED',
  definition: { statement: 'Not for sharing' },
}
const extended = {
  type: 'marking-definition',
  spec_version: '2.1',
  id: `marking-definition--${uuid(3)}`,
  created: T1,
  name: 'ours',
  extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: 'amber' } },
}
const incident = base('incident', 10, {
  name: 'Worm',
  description: 'Hospital hit',
  labels: ['ransomware'],
  object_marking_refs: [TLP2_MARKING_IDS.GREEN, PAP_MARKING_IDS.AMBER],
  x_watchfloor_incident_id: 'INC-1',
  x_watchfloor_severity: 'high',
  x_watchfloor_status: 'triaged',
  x_watchfloor_category: 'malware',
  x_watchfloor_affected_networks: ['NET-1'],
  x_watchfloor_attack_source: { network_id: 'NET-1', latitude: 56.9, longitude: 24.1 },
  x_watchfloor_releasable_to: ['cert-lv'],
})
const ip = { type: 'ipv4-addr', spec_version: '2.1', id: `ipv4-addr--${uuid(20)}`, value: '198.51.100.7' }
const file = { type: 'file', spec_version: '2.1', id: `file--${uuid(21)}`, hashes: { 'SHA-256': 'a'.repeat(64) } }
const observed = base('observed-data', 30, {
  first_observed: T1,
  last_observed: T2,
  number_observed: 3,
  object_refs: [ip.id, file.id],
  object_marking_refs: [custom.id],
  x_watchfloor_incident_id: 'INC-1',
})
const embedded = base('observed-data', 31, {
  first_observed: T1,
  last_observed: T2,
  number_observed: 1,
  objects: { '0': { type: 'ipv4-addr', value: '203.0.113.9' }, '1': { type: 'autonomous-system', number: 64500 } },
  granular_markings: [{ selectors: ['objects'], marking_ref: extended.id }],
  x_watchfloor_incident_id: 'INC-1',
})
const indicator = base('indicator', 40, {
  pattern: "[ipv4-addr:value = '192.0.2.1']",
  pattern_type: 'stix',
  valid_from: T1,
  object_marking_refs: [TLP1_MARKING_IDS.AMBER],
})
const network = base('identity', 50, {
  name: 'LV gov',
  identity_class: 'system',
  x_watchfloor_network_id: 'NET-1',
  x_watchfloor_organisation: 'cert-lv',
  x_watchfloor_nation: 'LV',
  x_watchfloor_network_kind: 'government',
  x_watchfloor_posture: 'elevated',
  x_watchfloor_posture_reason: 'drill',
})
const place = base('location', 51, { latitude: 56.9, longitude: 24.1 })
const locatedAt = base('relationship', 52, {
  relationship_type: 'located-at',
  source_ref: network.id,
  target_ref: place.id,
})
const sighting = base('sighting', 60, {
  sighting_of_ref: incident.id,
  observed_data_refs: [observed.id],
  where_sighted_refs: [network.id],
  count: 5,
  first_seen: T1,
  last_seen: T2,
  x_watchfloor_count: 2_000_000_000,
  object_marking_refs: [statement.id],
})
const ofIndicator = base('sighting', 61, { sighting_of_ref: indicator.id, x_watchfloor_incident_id: 'INC-1' })
const related = base('relationship', 62, {
  relationship_type: 'related-to',
  source_ref: embedded.id,
  target_ref: incident.id,
})
const report = base('report', 70, {
  name: 'Weekly',
  published: T2,
  object_refs: [incident.id],
  x_watchfloor_advisory_id: 'ADV-1',
})
const note = base('note', 71, { content: 'A note\nwith two lines', object_refs: [incident.id] })
const malware = base('malware', 80, { name: 'Not for the floor', is_family: true })

const examples = Object.values(exampleFiles).flatMap((json) => (json as { objects?: StixObject[] }).objects ?? [])
const SEEDS: readonly StixObject[] = [
  custom,
  statement,
  extended,
  incident,
  ip,
  file,
  observed,
  embedded,
  indicator,
  network,
  place,
  locatedAt,
  sighting,
  ofIndicator,
  related,
  report,
  note,
  malware,
  ...examples.filter((object) => validateStixObject(object).length === 0),
]

/** Properties the import reads: where a partner's odd values would hurt, if anywhere. */
const READ = [
  'name',
  'description',
  'labels',
  'created',
  'modified',
  'revoked',
  'created_by_ref',
  'object_marking_refs',
  'granular_markings',
  'sighting_of_ref',
  'observed_data_refs',
  'where_sighted_refs',
  'count',
  'first_seen',
  'last_seen',
  'objects',
  'object_refs',
  'number_observed',
  'first_observed',
  'last_observed',
  'pattern',
  'published',
  'abstract',
  'content',
  'source_ref',
  'target_ref',
  'relationship_type',
  'latitude',
  'longitude',
  'definition_type',
  'definition',
  'extensions',
  'value',
  'hashes',
  'number',
  'x_watchfloor_incident_id',
  'x_watchfloor_advisory_id',
  'x_watchfloor_network_id',
  'x_watchfloor_organisation',
  'x_watchfloor_nation',
  'x_watchfloor_network_kind',
  'x_watchfloor_posture',
  'x_watchfloor_posture_reason',
  'x_watchfloor_severity',
  'x_watchfloor_status',
  'x_watchfloor_category',
  'x_watchfloor_affected_networks',
  'x_watchfloor_attack_source',
  'x_watchfloor_count',
  'x_watchfloor_releasable_to',
  'x_watchfloor_releasable_to_none',
  'x_watchfloor_recipients',
  'x_watchfloor_recipients_none',
]

/** What the import reads most warily (audiences, observables, times): mutated more often than the rest. */
const OFTEN = [
  'x_watchfloor_releasable_to',
  'x_watchfloor_releasable_to_none',
  'x_watchfloor_recipients',
  'x_watchfloor_recipients_none',
  'objects',
  'created',
  'modified',
  'x_watchfloor_incident_id',
]

/** Lists `depth` deep around `inner` (JSON.parse makes such from 40 KB; JSON.stringify overflows on them). */
function nested(depth: number, inner: unknown): unknown {
  let value = inner
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value }
  return value
}
const DEEP = nested(20_000, 'x')
const IDS = [...SEEDS.slice(0, 18).map((object) => object.id), ...Object.values(TLP2_MARKING_IDS)]

/** A value of any JSON shape, odd ones often. */
function anyValue(r: Random, depth = 0): unknown {
  switch (r.int(depth > 2 ? 8 : 12)) {
    case 0:
      return r.pick([null, true, false, 0, -1, 1.5, 1e308, 999_999_999, 1_000_000_000, 2 ** 53, -0])
    case 1:
      return r.pick(['', ' ', 'x', 'TLP:RED', 'RED', 'red', 'amber+strict', 'clear', 'normal', 'critical', '__proto__'])
    case 2:
      return r.pick([
        '2026-02-31T00:00:00.000Z',
        '2026-02-29T00:00:00.000Z',
        '2028-02-29T00:00:00.000Z',
        '2026-12-31T23:59:60.000Z',
        '2026-11-26T08:00:00Z',
        '0000-01-01T00:00:00.000Z',
        '9999-12-31T23:59:59.999Z',
        T2,
      ])
    case 3:
      return r.pick(IDS)
    case 4:
      return r.pick(['cert-lv', 'cert-ee', 'INC-1', 'NET-1', 'ADV-1', 'n'.repeat(250), 'é\u202e', 'a\u0000b'])
    case 5:
      return r.pick([DEEP, { a: DEEP }, nested(30, null), 'y'.repeat(3000)])
    case 6:
      return r.pick([
        { type: 'ipv4-addr', value: 5 },
        { type: 'file', hashes: null },
        { type: 'file', hashes: { 'SHA-256': 7, MD5: 'b'.repeat(32) } },
        { type: 'autonomous-system', number: 'AS1' },
        { type: 'x-custom', value: DEEP },
        JSON.parse('{"__proto__": {"type": "ipv4-addr", "value": "192.0.2.9"}}'),
        { network_id: 5, latitude: '56', longitude: null },
        { network_id: 'NET-1' },
        { TLP: 'PURPLE' },
        { tlp: 'red' },
        { statement: 'x' },
      ])
    case 7:
      return r.pick([[], [null], [1, 2], ['a', 'b'], ['cert-lv'], [DEEP], [{}]])
    case 8:
      return Array.from({ length: 1 + r.int(3) }, () => anyValue(r, depth + 1))
    default: {
      const out: Record<string, unknown> = {}
      for (let i = 0, n = 1 + r.int(3); i < n; i++)
        out[r.pick(['0', '1', 'type', 'value', ...READ])] = anyValue(r, depth + 1)
      return out
    }
  }
}

/** A copy of `object` with one to four mutations (its nested values shared, never cloned: they may be deep). */
function mutated(r: Random, object: StixObject): StixObject {
  const out: Record<string, unknown> = { ...object }
  for (let i = 0, n = 1 + r.int(4); i < n; i++) {
    const which = r.next()
    const name = which < 0.25 ? r.pick(OFTEN) : which < 0.7 ? r.pick(READ) : r.pick(Object.keys(out))
    const how = r.int(6)
    if (how === 0) delete out[name]
    else if (how === 1 && typeof out[name] === 'object' && out[name] !== null && !Array.isArray(out[name])) {
      // inside: an observable of `objects`, a key of a definition, an attack source
      const inner = { ...(out[name] as Record<string, unknown>) }
      inner[r.pick([...Object.keys(inner), '0', 'type', 'value', 'tlp', 'TLP', 'network_id'])] = anyValue(r)
      out[name] = inner
    } else if (how === 2 && Array.isArray(out[name])) out[name] = [...(out[name] as unknown[]), anyValue(r)]
    else out[name] = anyValue(r)
  }
  // an observed-data's embedded observables: what the import describes
  if (typeof out.objects === 'object' && out.objects !== null && !Array.isArray(out.objects) && r.next() < 0.5) {
    const odd = [null, 5, 'ipv4-addr', [], {}, { type: 5 }, { value: '192.0.2.1' }, anyValue(r)]
    out.objects = { ...(out.objects as Record<string, unknown>), [r.pick(['0', '1', '2'])]: r.pick(odd) }
  }
  return out as StixObject
}

const DEFAULTS: readonly Marking[] = [
  { tlp: 'AMBER' },
  { tlp: 'GREEN' },
  { tlp: 'CLEAR' },
  { tlp: 'RED' },
  { tlp: 'AMBER', releasableTo: ['LV'], pap: 'GREEN' },
]

/** Every object of the bundle in exactly one of created, used and skipped (the older of two versions skipped). */
function accounted(objects: readonly StixObject[], result: StixImportResult): boolean {
  const listed = [
    ...result.created.map((entry) => entry.stixId),
    ...result.used.map((entry) => entry.stixId),
    ...result.skipped.map((entry) => entry.stixId),
  ].sort()
  return JSON.stringify(listed) === JSON.stringify(objects.map((object) => object.id).sort())
}

describe('STIX import: every object the check accepts imports, never failing', () => {
  it('holds over 3,000 bundles of mutated objects (seeded)', () => {
    const seed = 20261126
    const r = random(seed)
    let bundles = 0
    let accepted = 0
    let events = 0
    for (let round = 0; round < 3000; round++) {
      const objects: StixObject[] = []
      for (let i = 0, n = 1 + r.int(6); i < n; i++) {
        const from = r.pick(SEEDS)
        const object = r.next() < 0.85 ? mutated(r, from) : from
        if (validateStixObject(object).length === 0) objects.push(object)
      }
      // what they name, beside them (so that references resolve to the odd objects)
      for (const related of [custom, statement, extended, incident, ip, observed, network, place, locatedAt])
        if (r.next() < 0.3) objects.push(related)
      if (objects.length === 0) continue
      accepted += objects.length
      bundles++
      const bundle = { type: 'bundle', id: `bundle--${uuid(1_000_000 + round)}`, objects }
      const options = {
        organisation: r.pick(['cert-lv', 'cert-ee']),
        defaultMarking: r.pick(DEFAULTS),
        ...(r.next() < 0.5 ? { partner: 'feed:partner-1' } : {}),
      }
      const where = `seed ${seed}, round ${round}: ${objects.map((o) => o.type).join(', ')}`
      let result: StixImportResult
      try {
        result = importStix(bundle, options)
      } catch (error) {
        throw new Error(`importStix threw at ${where}: ${(error as Error).message}`)
      }
      expect(result.errors, where).toEqual([])
      expect(accounted(objects, result), where).toBe(true)
      // no object needed the guard: the import reads what the check let in without an error
      const failed = result.skipped.filter((entry) => /could not be imported|the import failed/.test(entry.reason))
      expect(failed, where).toEqual([])
      for (const event of result.events) expect(EventInput.safeParse(event).success, where).toBe(true)
      for (const entry of result.skipped) expect(entry.reason.length, where).toBeLessThan(1_000)
      events += result.events.length
    }
    // the generator reaches the import: many bundles, objects and events
    expect(bundles).toBeGreaterThan(2_000)
    expect(accepted).toBeGreaterThan(5_000)
    expect(events).toBeGreaterThan(1_000)
  })
})

/**
 * The shapes a partner sent that once made the STIX import fail or misread (docs/sharing.md, "STIX
 * to Watchfloor"): the check covers what the import reads, a value is shown bounded whatever its
 * depth or size, a sighting left out takes nothing with it, and a statement named as a TLP never
 * widens a marking.
 */
import type { Marking } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { importStix } from './stixImport.ts'
import { markingMeaning, TLP2_MARKING_IDS } from './stixMarkings.ts'
import { stixBuilders, T1, T2 } from './stixTesting.ts'
import type { StixObject } from './stixTypes.ts'
import { validateStixBundle, validateStixObject } from './stixValidate.ts'

const options = { organisation: 'cert-lv', defaultMarking: { tlp: 'GREEN' } as Marking }
const { id, sdo, bundleOf } = stixBuilders()
const incident = (properties: Record<string, unknown> = {}) => sdo('incident', { name: 'Worm', ...properties })
const observedData = (properties: Record<string, unknown>) =>
  sdo('observed-data', { first_observed: T1, last_observed: T2, number_observed: 1, ...properties })
/** Lists and objects `depth` deep (a 40 KB body; JSON.stringify overflows the stack on it). */
const deep = (depth: number): unknown => {
  let value: unknown = 'x'
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value }
  return value
}

describe('the check covers what the import reads', () => {
  it.each([
    ['a null', null],
    ['a number', 5],
    ['a string', 'ipv4-addr'],
    ['a list', [{ type: 'ipv4-addr', value: '192.0.2.1' }]],
    ['an object without a type', { value: '192.0.2.1' }],
    ['an object whose type is no type', { type: 5, value: '192.0.2.1' }],
  ])("an observed-data's embedded observable that is %s is not valid STIX", (_, sco) => {
    const observed = observedData({ objects: { '0': { type: 'ipv4-addr', value: '192.0.2.1' }, '1': sco } })
    expect(validateStixObject(observed)).toEqual([
      { path: 'objects.1', message: 'must be a cyber-observable: an object with a type' },
    ])
    const result = importStix(bundleOf(incident(), observed), options)
    expect(result.errors.map((issue) => issue.path)).toEqual(['objects.1.objects.1'])
    expect(result.events).toEqual([])
  })

  it('embedded observables with a type are read, values or not', () => {
    const target = incident({ x_watchfloor_incident_id: 'inc-1' })
    const observed = observedData({
      x_watchfloor_incident_id: 'inc-1',
      objects: {
        '0': { type: 'ipv4-addr', value: '192.0.2.1' },
        '1': { type: 'ipv4-addr', value: 5 },
        '2': { type: 'file', hashes: null },
        '3': { type: 'x-custom' },
      },
    })
    expect(validateStixObject(observed)).toEqual([])
    const result = importStix(bundleOf(target, observed), options)
    expect(result.skipped).toEqual([])
    // a value it cannot read is described by its type, never by "undefined"
    expect(result.events[1]!.payload).toMatchObject({ indicator: '192.0.2.1, ipv4-addr, file, x-custom' })
  })

  it.each([
    ['2026-02-31T00:00:00.000Z', false],
    ['2026-02-29T00:00:00.000Z', false],
    ['2026-04-31T00:00:00.000Z', false],
    ['1900-02-29T00:00:00.000Z', false],
    ['2028-02-29T00:00:00.000Z', true],
    ['2000-02-29T00:00:00.000Z', true],
    ['2026-12-31T23:59:59.999Z', true],
  ])('%s is a day the calendar has: %s', (time, real) => {
    const issues = (object: StixObject) => validateStixObject(object).map((issue) => issue.path)
    const expected = (name: string) => (real ? [] : [name])
    expect(issues(incident({ created: time, modified: time }))).toEqual(real ? [] : ['created', 'modified'])
    expect(issues(observedData({ first_observed: time, object_refs: [id('ipv4-addr')] }))).toEqual(
      expected('first_observed'),
    )
    expect(
      issues({
        type: 'marking-definition',
        spec_version: '2.1',
        id: id('marking-definition'),
        created: time,
        definition_type: 'statement',
        definition: { statement: 'x' },
      }),
    ).toEqual(expected('created'))
    // a custom object's times too
    expect(issues({ type: 'x-thing', id: id('x-thing'), created: time })).toEqual(expected('created'))
  })

  it('an impossible day is refused, never moved to another one', () => {
    const result = importStix(bundleOf(incident({ created: '2026-02-31T00:00:00.000Z' })), options)
    expect(result.errors).toEqual([
      { path: 'objects.0.created', message: 'must be a day the calendar has (RFC 3339), not 2026-02-31' },
    ])
    expect(result.events).toEqual([])
    expect(validateStixBundle(bundleOf(incident({ created: '2026-03-03T00:00:00.000Z' })))).toEqual([])
  })

  it('a leap second, which the schemas allow and no clock here reads, skips its object saying so', () => {
    const leap = incident({ created: '2026-12-31T23:59:60.000Z', modified: '2026-12-31T23:59:60.000Z' })
    const other = incident()
    const result = importStix(bundleOf(leap, other), options)
    expect(result.errors).toEqual([])
    expect(result.created.map((entry) => entry.stixId)).toEqual([other.id])
    expect(result.skipped).toEqual([
      { stixId: leap.id, type: 'incident', reason: 'cannot be a incident.reported event: no time it happened' },
    ])
  })
})

describe('a value a reason shows is bounded, whatever its depth or size', () => {
  it.each([
    [
      'x_watchfloor_releasable_to',
      { a: deep(20_000) },
      'x_watchfloor_releasable_to is {"a":{"a":[{"a":[…]}]}}, not a list of ids',
    ],
    [
      'x_watchfloor_recipients',
      { b: deep(20_001) },
      'x_watchfloor_recipients is {"b":[{"a":[{…}]}]}, not a list of ids',
    ],
    [
      'x_watchfloor_releasable_to_none',
      deep(20_000),
      'x_watchfloor_releasable_to_none is {"a":[{"a":[{…}]}]}, not true',
    ],
    [
      'x_watchfloor_releasable_to',
      'y'.repeat(1_000_000),
      `x_watchfloor_releasable_to is "${'y'.repeat(58)}…, not a list of ids`,
    ],
    [
      'x_watchfloor_recipients_none',
      Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])),
      'x_watchfloor_recipients_none is {"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k…, not true',
    ],
  ])('%s given deep or large: the object is skipped saying so; the bundle is imported', (name, value, shown) => {
    const odd = incident({ [name]: value })
    const fine = incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN] })
    const result = importStix(bundleOf(odd, fine), options)
    expect(result.errors).toEqual([])
    expect(result.created.map((entry) => entry.stixId)).toEqual([fine.id])
    const reason = `a marking it gives cannot be read, so whom it may reach is unknown: ${shown}`
    expect(result.skipped).toEqual([{ stixId: odd.id, type: 'incident', reason }])
  })

  it('shows short values whole, as JSON', () => {
    const odd = incident({ x_watchfloor_releasable_to: { lv: ['cert-lv', 1, null, true] } })
    expect(importStix(bundleOf(odd), options).skipped[0]!.reason).toBe(
      'a marking it gives cannot be read, so whom it may reach is unknown: x_watchfloor_releasable_to is {"lv":["cert-lv",1,null,true]}, not a list of ids',
    )
  })
})

describe('a sighting left out for its marking takes nothing with it', () => {
  const unknown = {
    type: 'marking-definition',
    spec_version: '2.1',
    id: id('marking-definition'),
    created: T1,
    definition_type: 'statement',
    name: 'TLP:PURPLE',
    definition: { statement: 'x' },
  }

  it('its observed data and indicator, tied to an incident of their own accord, are imported on their own, with their own markings', () => {
    const target = incident({ x_watchfloor_incident_id: 'inc-1', object_marking_refs: [TLP2_MARKING_IDS.GREEN] })
    const observed = observedData({
      x_watchfloor_incident_id: 'inc-1',
      objects: { '0': { type: 'ipv4-addr', value: '192.0.2.1' } },
      object_marking_refs: [TLP2_MARKING_IDS.AMBER],
    })
    const indicator = sdo('indicator', {
      pattern: "[domain-name:value = 'evil.example']",
      pattern_type: 'stix',
      valid_from: T1,
      object_marking_refs: [TLP2_MARKING_IDS.GREEN],
    })
    const tie = sdo('relationship', { relationship_type: 'indicates', source_ref: indicator.id, target_ref: target.id })
    const sighting = sdo('sighting', {
      sighting_of_ref: indicator.id,
      observed_data_refs: [observed.id],
      object_marking_refs: [unknown.id],
    })
    const result = importStix(bundleOf(unknown, target, observed, indicator, tie, sighting), options)
    expect(result.skipped).toEqual([
      {
        stixId: sighting.id,
        type: 'sighting',
        reason: `marked with ${unknown.id}, a marking this import does not know or cannot read`,
      },
    ])
    expect(result.created.map((entry) => entry.stixId)).toEqual([target.id, observed.id, indicator.id])
    expect(result.events.slice(1).map((event) => [event.payload, event.marking])).toEqual([
      [{ incidentId: 'inc-1', indicator: '192.0.2.1', count: 1 }, { tlp: 'AMBER' }],
      [{ incidentId: 'inc-1', indicator: 'evil.example' }, { tlp: 'GREEN' }],
    ])
  })

  it('imported, it folds them in as before: they are used, not imported twice', () => {
    const target = incident({ x_watchfloor_incident_id: 'inc-1' })
    const observed = observedData({
      x_watchfloor_incident_id: 'inc-1',
      objects: { '0': { type: 'ipv4-addr', value: '192.0.2.1' } },
    })
    const sighting = sdo('sighting', { sighting_of_ref: target.id, observed_data_refs: [observed.id] })
    const result = importStix(bundleOf(target, observed, sighting), options)
    expect(result.created.map((entry) => entry.stixId)).toEqual([target.id, sighting.id])
    expect(result.used).toEqual([
      { stixId: observed.id, type: 'observed-data', as: 'the data of an imported sighting' },
    ])
  })
})

describe('a statement named as a TLP never widens a marking', () => {
  const statement = (name: string) => ({
    type: 'marking-definition',
    spec_version: '2.1',
    id: id('marking-definition'),
    created: T1,
    definition_type: 'statement',
    name,
    definition: { statement: 'Handle with care' },
  })

  it('markingMeaning gives the level its name says, apart from a TLP marking', () => {
    const red = statement('TLP:RED')
    const purple = statement('TLP:PURPLE')
    const plain = statement('Copyright Example')
    const definitions = new Map<string, StixObject>([red, purple, plain].map((d) => [d.id, d]))
    expect(markingMeaning(red.id, definitions)).toEqual({ namedTlp: 'RED' })
    expect(markingMeaning(purple.id, definitions)).toEqual({ unknownTlp: true })
    expect(markingMeaning(plain.id, definitions)).toEqual({})
  })

  it('alone, it stands where it is stricter than the default: TLP:RED is RED, never the default GREEN', () => {
    const red = statement('TLP:RED')
    const strict = statement('tlp: amber+strict')
    const clear = statement('TLP:CLEAR')
    const byRed = incident({ object_marking_refs: [red.id] })
    const byStrict = incident({ object_marking_refs: [strict.id], x_watchfloor_releasable_to: ['cert-lv'] })
    const byClear = incident({ object_marking_refs: [clear.id] })
    const result = importStix(bundleOf(red, strict, clear, byRed, byStrict, byClear), options)
    expect(result.skipped).toEqual([])
    expect(result.events.map((event) => event.marking)).toEqual([
      { tlp: 'RED' },
      { tlp: 'AMBER+STRICT', releasableTo: ['cert-lv'] },
      // not stricter than the default: the default stands, and the object took it
      { tlp: 'GREEN' },
    ])
    expect(result.defaulted).toEqual([byClear.id])
  })

  it('beside a TLP marking, the stricter of the two', () => {
    const amber = statement('TLP:AMBER')
    const green = statement('TLP:GREEN')
    const stricter = incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN, amber.id] })
    const wider = incident({ object_marking_refs: [TLP2_MARKING_IDS.AMBER, green.id] })
    const result = importStix(bundleOf(amber, green, stricter, wider), options)
    expect(result.events.map((event) => event.marking?.tlp)).toEqual(['AMBER', 'AMBER'])
    expect(result.defaulted).toEqual([])
  })
})

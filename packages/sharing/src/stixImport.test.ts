import type { Marking } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { importStix } from './stixImport.ts'
import {
  PAP_EXTENSION_ID,
  PAP_MARKING_IDS,
  PAP_WHITE_MARKING_ID,
  TLP1_MARKING_IDS,
  TLP2_EXTENSION_ID,
  TLP2_MARKING_IDS,
} from './stixMarkings.ts'
import { stixBuilders, T1, T2 } from './stixTesting.ts'
import { type StixObject, scoId, WATCHFLOOR_STIX_NAMESPACE } from './stixTypes.ts'
import { MAX_ISSUES } from './stixValidate.ts'
import { uuidv5 } from './uuid.ts'

const options = { organisation: 'cert-lv', defaultMarking: { tlp: 'AMBER', releasableTo: ['LV'] } as Marking }
const { id, sdo, bundleOf } = stixBuilders()
const incident = (properties: Record<string, unknown> = {}) => sdo('incident', { name: 'Worm', ...properties })

describe('STIX import: an invalid bundle gives errors and nothing else', () => {
  it.each([
    ['null', null, '(root)'],
    ['an array', [], '(root)'],
    ['a string', 'bundle', '(root)'],
    ['another type', { type: 'report', id: id('bundle') }, 'type'],
    ['no id', { type: 'bundle' }, 'id'],
    ['an id of another type', { type: 'bundle', id: id('report') }, 'id'],
    ['objects not an array', { type: 'bundle', id: id('bundle'), objects: {} }, 'objects'],
    ['objects empty', { type: 'bundle', id: id('bundle'), objects: [] }, 'objects'],
    ['an object not an object', { type: 'bundle', id: id('bundle'), objects: ['incident'] }, 'objects.0'],
    [
      'an object without type',
      { type: 'bundle', id: id('bundle'), objects: [{ id: id('incident') }] },
      'objects.0.type',
    ],
    ['an object without id', bundleOf({ ...incident(), id: undefined } as unknown as StixObject), 'objects.0.id'],
    ['an incident without name', bundleOf(sdo('incident')), 'objects.0.name'],
    ['a time without milliseconds', bundleOf(incident({ created: '2026-11-26T08:00:00Z' })), 'objects.0.created'],
    ['a sighting without sighting_of_ref', bundleOf(sdo('sighting')), 'objects.0.sighting_of_ref'],
    [
      'a forged TLP 1.0 definition',
      bundleOf({
        type: 'marking-definition',
        spec_version: '2.1',
        id: TLP1_MARKING_IDS.RED,
        created: '2017-01-20T00:00:00.000Z',
        definition_type: 'tlp',
        name: 'TLP:RED',
        definition: { tlp: 'white' },
      }),
      'objects.0.definition',
    ],
  ])('%s', (_, bundle, path) => {
    const result = importStix(bundle, options)
    expect(result.errors.map((error) => error.path)).toContain(path)
    expect(result).toMatchObject({ events: [], created: [], used: [], skipped: [], defaulted: [] })
  })

  it('lists at most MAX_ISSUES issues, then how many more', () => {
    const many = bundleOf(...Array.from({ length: MAX_ISSUES + 20 }, () => sdo('incident')))
    const { errors } = importStix(many, options)
    expect(errors).toHaveLength(MAX_ISSUES + 1)
    expect(errors.at(-1)).toEqual({ path: '(root)', message: 'and 20 more issues' })
  })

  it('accepts a bundle without objects, and imports nothing', () => {
    expect(importStix({ type: 'bundle', id: id('bundle') }, options)).toEqual({
      events: [],
      created: [],
      used: [],
      skipped: [],
      defaulted: [],
      errors: [],
    })
  })
})

describe('STIX import: markings', () => {
  const markingOf = (...objects: StixObject[]): Marking | undefined =>
    importStix(bundleOf(...objects), options).events.find((event) => event.type === 'incident.reported')?.marking

  it.each([
    ['TLP 1.0 WHITE', TLP1_MARKING_IDS.WHITE, 'CLEAR'],
    ['TLP 1.0 GREEN', TLP1_MARKING_IDS.GREEN, 'GREEN'],
    ['TLP 1.0 AMBER', TLP1_MARKING_IDS.AMBER, 'AMBER'],
    ['TLP 1.0 RED', TLP1_MARKING_IDS.RED, 'RED'],
    ['TLP 2.0 CLEAR', TLP2_MARKING_IDS.CLEAR, 'CLEAR'],
    ['TLP 2.0 AMBER+STRICT', TLP2_MARKING_IDS['AMBER+STRICT'], 'AMBER+STRICT'],
    ['TLP 2.0 RED', TLP2_MARKING_IDS.RED, 'RED'],
  ])('%s is understood by id alone', (_, ref, tlp) => {
    expect(markingOf(incident({ object_marking_refs: [ref] }))).toEqual({ tlp })
  })

  it('reads PAP (PAP:WHITE as CLEAR) beside the TLP', () => {
    expect(markingOf(incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN, PAP_MARKING_IDS.RED] }))).toEqual({
      tlp: 'GREEN',
      pap: 'RED',
    })
    expect(markingOf(incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN, PAP_WHITE_MARKING_ID] }))).toEqual({
      tlp: 'GREEN',
      pap: 'CLEAR',
    })
  })

  it('reads a marking-definition of the bundle by its extension or TLP 1.0 definition', () => {
    const custom = {
      type: 'marking-definition',
      spec_version: '2.1',
      id: id('marking-definition'),
      created: T1,
      name: 'our amber+strict',
      extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: 'amber+strict' } },
    }
    const pap = {
      type: 'marking-definition',
      spec_version: '2.1',
      id: id('marking-definition'),
      created: T1,
      extensions: { [PAP_EXTENSION_ID]: { extension_type: 'property-extension', pap: 'amber' } },
    }
    const thing = incident({ object_marking_refs: [custom.id, pap.id] })
    const result = importStix(bundleOf(custom, pap, thing), options)
    expect(result.events[0]!.marking).toEqual({ tlp: 'AMBER+STRICT', pap: 'AMBER' })
    expect(result.used.map((entry) => entry.stixId)).toEqual([custom.id, pap.id])
  })

  it('reads TLP definitions as other platforms write them (type and key in any case, a TLP: name); one it cannot read leaves the object out', () => {
    const definition = (fields: Record<string, unknown>) => ({
      type: 'marking-definition',
      spec_version: '2.1',
      id: id('marking-definition'),
      created: T1,
      ...fields,
    })
    // as OpenCTI defines TLP:AMBER+STRICT
    const upper = definition({ definition_type: 'TLP', name: 'TLP:AMBER+STRICT', definition: { TLP: 'AMBER+STRICT' } })
    const named = definition({ definition_type: 'TLP', name: 'TLP:AMBER+STRICT', definition: { TLP: 'strict' } })
    // a statement is no marking, whatever its name: it would widen what the default gives
    const statementNamed = definition({
      definition_type: 'statement',
      name: 'TLP:CLEAR',
      definition: { statement: 'x' },
    })
    const extended = definition({
      name: 'ours',
      extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: 'amber-strict' } },
    })
    // (a lowercase `tlp` definition of another level fails the bundle's validation as a whole)
    const unknown = definition({ definition_type: 'TLP', definition: { TLP: 'PURPLE' } })
    const unknownNamed = definition({
      definition_type: 'statement',
      name: 'TLP:PURPLE',
      definition: { statement: 'x' },
    })
    const byUpper = incident({ object_marking_refs: [upper.id] })
    const byName = incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN, named.id] })
    const byStatement = incident({ object_marking_refs: [statementNamed.id] })
    const byUnknown = incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN, unknown.id] })
    const byUnknownName = incident({ object_marking_refs: [unknownNamed.id] })
    const byExtension = incident({ object_marking_refs: [extended.id] })
    // beside RED nothing could be stricter: imported as RED
    const redToo = incident({ object_marking_refs: [TLP2_MARKING_IDS.RED, unknown.id] })
    // a marking neither well known nor in the bundle could be anything (RED too): no default stands
    // in; beside a well-known TLP it is a statement or a PAP, and the TLP stands
    const missing = id('marking-definition')
    const byMissing = incident({ object_marking_refs: [missing] })
    const greenAndMissing = incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN, missing] })
    const result = importStix(
      bundleOf(
        upper,
        named,
        statementNamed,
        unknown,
        unknownNamed,
        extended,
        byUpper,
        byName,
        byStatement,
        byUnknown,
        byUnknownName,
        byExtension,
        redToo,
        byMissing,
        greenAndMissing,
      ),
      options,
    )
    expect(result.errors).toEqual([])
    expect(result.events.map((event) => event.marking?.tlp)).toEqual([
      'AMBER+STRICT',
      'AMBER+STRICT',
      options.defaultMarking.tlp, // the default
      'RED',
      'GREEN',
    ])
    expect(result.defaulted).toEqual([byStatement.id])
    expect(result.skipped).toEqual([
      {
        stixId: byUnknown.id,
        type: 'incident',
        reason: `marked with ${unknown.id}, a marking this import does not know or cannot read`,
      },
      {
        stixId: byUnknownName.id,
        type: 'incident',
        reason: `marked with ${unknownNamed.id}, a marking this import does not know or cannot read`,
      },
      {
        stixId: byExtension.id,
        type: 'incident',
        reason: `marked with ${extended.id}, a marking this import does not know or cannot read`,
      },
      {
        stixId: byMissing.id,
        type: 'incident',
        reason: `marked with ${missing}, a marking this import does not know or cannot read`,
      },
    ])
  })

  it('takes the most restrictive TLP and PAP, granular markings included', () => {
    expect(
      markingOf(
        incident({
          object_marking_refs: [TLP1_MARKING_IDS.GREEN, PAP_MARKING_IDS.GREEN],
          granular_markings: [
            { selectors: ['description'], marking_ref: TLP2_MARKING_IDS.RED },
            { selectors: ['name'], marking_ref: PAP_MARKING_IDS.AMBER },
          ],
        }),
      ),
    ).toEqual({ tlp: 'RED', pap: 'AMBER' })
  })

  it('reads releasability and recipients; an invalid id is dropped (narrower), _none is an empty list', () => {
    expect(
      markingOf(
        incident({
          object_marking_refs: [TLP2_MARKING_IDS.RED],
          x_watchfloor_releasable_to: ['cert-ee', 42, 'x'.repeat(201)],
          x_watchfloor_recipients_none: true,
        }),
      ),
    ).toEqual({ tlp: 'RED', releasableTo: ['cert-ee'], recipients: [] })
  })

  it.each([
    [
      'a releasability that is a string',
      { x_watchfloor_releasable_to: 'cert-lv' },
      'x_watchfloor_releasable_to is "cert-lv", not a list of ids',
    ],
    [
      'a releasability that is an object',
      { x_watchfloor_releasable_to: { 0: 'cert-lv' } },
      'x_watchfloor_releasable_to is {"0":"cert-lv"}, not a list of ids',
    ],
    [
      '_none as the string "true"',
      { x_watchfloor_releasable_to_none: 'true' },
      'x_watchfloor_releasable_to_none is "true", not true',
    ],
    ['_none false', { x_watchfloor_releasable_to_none: false }, 'x_watchfloor_releasable_to_none is false, not true'],
    [
      'recipients that are a string',
      { x_watchfloor_recipients: 'kadri' },
      'x_watchfloor_recipients is "kadri", not a list of ids',
    ],
  ])(
    'a releasability given but unreadable (%s) is never taken as none: the object is skipped, saying why',
    (_, properties, why) => {
      const green = incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN], ...properties })
      const fine = incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN] })
      const result = importStix(bundleOf(green, fine), options)
      expect(result.errors).toEqual([])
      expect(result.created.map((entry) => entry.stixId)).toEqual([fine.id])
      expect(result.events).toHaveLength(1)
      expect(result.skipped).toEqual([
        {
          stixId: green.id,
          type: 'incident',
          reason: `a marking it gives cannot be read, so whom it may reach is unknown: ${why}`,
        },
      ])
    },
  )

  it('an observation made of an object whose releasability is unreadable is skipped too, naming that object', () => {
    const target = incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN] })
    const ip = {
      type: 'ipv4-addr',
      id: scoId('ipv4-addr', { value: '198.51.100.9' }),
      value: '198.51.100.9',
      x_watchfloor_releasable_to: 'cert-lv',
    }
    const observed = sdo('observed-data', {
      first_observed: T1,
      last_observed: T2,
      number_observed: 1,
      object_refs: [ip.id],
      object_marking_refs: [TLP2_MARKING_IDS.GREEN],
    })
    const sighting = sdo('sighting', {
      sighting_of_ref: target.id,
      observed_data_refs: [observed.id],
      last_seen: T2,
      object_marking_refs: [TLP2_MARKING_IDS.GREEN],
    })
    const result = importStix(bundleOf(target, ip, observed, sighting), options)
    expect(result.events.map((event) => event.type)).toEqual(['incident.reported'])
    expect(result.skipped).toContainEqual({
      stixId: sighting.id,
      type: 'sighting',
      reason: `a marking it gives cannot be read, so whom it may reach is unknown: ${ip.id}: x_watchfloor_releasable_to is "cert-lv", not a list of ids`,
    })
  })

  it('gives an object without a TLP the default marking, narrowed by its own, and lists it as defaulted', () => {
    const statement = {
      type: 'marking-definition',
      spec_version: '2.1',
      id: id('marking-definition'),
      created: T1,
      definition_type: 'statement',
      definition: { statement: 'Copyright Example' },
    }
    const bare = incident()
    const stated = incident({
      object_marking_refs: [statement.id, PAP_MARKING_IDS.GREEN],
      x_watchfloor_releasable_to: ['LV', 'EE'],
    })
    const result = importStix(bundleOf(statement, bare, stated), options)
    expect(result.defaulted).toEqual([bare.id, stated.id])
    expect(result.events.map((event) => event.marking)).toEqual([
      { tlp: 'AMBER', releasableTo: ['LV'] },
      { tlp: 'AMBER', releasableTo: ['LV'], pap: 'GREEN' },
    ])
  })
})

describe('STIX import: what becomes which event', () => {
  it("a foreign incident: the importer's own copy of its STIX id, medium severity, category from labels, long text cut", () => {
    const foreign = incident({ name: `  ${'n'.repeat(400)} `, labels: ['ransomware'], description: 'Hospital hit' })
    const [event] = importStix(bundleOf(foreign), options).events
    expect(event).toMatchObject({
      type: 'incident.reported',
      occurredAt: T1,
      source: { organisation: 'cert-lv' },
      payload: {
        incidentId: `${foreign.id}@cert-lv`,
        severity: 'medium',
        category: 'ransomware',
        summary: 'Hospital hit',
        affectedNetworks: [],
      },
    })
    const title = (event!.payload as { title: string }).title
    expect(title).toHaveLength(300)
    expect(title.endsWith('…')).toBe(true)
  })

  it('a later version of an incident: its report, then an update dated at modified', () => {
    const updated = incident({ modified: T2, x_watchfloor_severity: 'critical', x_watchfloor_incident_id: 'inc-9' })
    const result = importStix(bundleOf(updated), options)
    expect(result.events.map((event) => [event.type, event.occurredAt, event.payload])).toEqual([
      [
        'incident.reported',
        T1,
        { incidentId: 'inc-9', title: 'Worm', severity: 'critical', category: 'imported', affectedNetworks: [] },
      ],
      ['incident.updated', T2, { incidentId: 'inc-9', severity: 'critical' }],
    ])
    expect(result.created).toEqual([
      { stixId: updated.id, type: 'incident', eventIds: result.events.map((event) => event.id) },
    ])
  })

  it('event ids are the UUIDv5 of the STIX id, version and importer: re-importing gives the same ids', () => {
    const thing = incident({ x_watchfloor_status: 'closed' })
    const first = importStix(bundleOf(thing), options)
    expect(first.events.map((event) => event.id)).toEqual([
      uuidv5(WATCHFLOOR_STIX_NAMESPACE, `${thing.id}|${T1}@cert-lv`),
      uuidv5(WATCHFLOOR_STIX_NAMESPACE, `${thing.id}|${T1}|update@cert-lv`),
    ])
    expect(importStix(bundleOf(thing), options).events).toEqual(first.events)
    const newer = importStix(bundleOf({ ...thing, modified: T2 }), options)
    expect(newer.events[0]!.id).not.toBe(first.events[0]!.id)
  })

  it('another organisation importing the same bundle gets ids of its own: events, incidents, advisories', () => {
    const target = incident({ x_watchfloor_status: 'triaged' })
    const sighting = sdo('sighting', { sighting_of_ref: target.id, description: '198.51.100.7' })
    const report = sdo('report', { name: 'Weekly', published: T2, object_refs: [target.id] })
    const bundle = bundleOf(target, sighting, report)
    const lv = importStix(bundle, options)
    const ee = importStix(bundle, { ...options, organisation: 'cert-ee' })
    expect(ee.events.map((event) => event.type)).toEqual(lv.events.map((event) => event.type))
    const lvIds = new Set(lv.events.map((event) => event.id))
    for (const event of ee.events) expect(lvIds.has(event.id), event.type).toBe(false)
    const idsOf = (result: typeof lv) =>
      result.events.map((event) => {
        const payload = event.payload as { incidentId?: string; advisoryId?: string }
        return [payload.incidentId, payload.advisoryId]
      })
    expect(idsOf(lv)).toEqual([
      [`${target.id}@cert-lv`, undefined],
      [`${target.id}@cert-lv`, undefined],
      [`${target.id}@cert-lv`, undefined],
      [`${target.id}@cert-lv`, `${report.id}@cert-lv`],
    ])
    expect(idsOf(ee)).toEqual(idsOf(lv).map((ids) => ids.map((id) => id?.replace('@cert-lv', '@cert-ee'))))
    // the same report otherwise: what differs is only whose copy it is
    expect(ee.created.map(({ stixId, type }) => [stixId, type])).toEqual(
      lv.created.map(({ stixId, type }) => [stixId, type]),
    )
    expect([ee.used, ee.skipped, ee.defaulted]).toEqual([lv.used, lv.skipped, lv.defaulted])
  })

  it("an organisation's copy of an id over 200 characters names it by its UUIDv5; a Watchfloor id is kept", () => {
    const long = 'o'.repeat(190)
    const foreign = incident()
    const named = incident({ x_watchfloor_incident_id: 'inc-9' })
    const result = importStix(bundleOf(foreign, named), { ...options, organisation: long })
    expect(result.events.map((event) => (event.payload as { incidentId: string }).incidentId)).toEqual([
      `${foreign.id}@${uuidv5(WATCHFLOOR_STIX_NAMESPACE, `organisation:${long}`)}`,
      'inc-9',
    ])
  })

  it('keeps the latest version of an object; older versions, repeats and revoked objects are skipped', () => {
    const v1 = incident({ name: 'v1' })
    const v2 = { ...v1, name: 'v2', modified: T2 }
    const gone = incident({ revoked: true })
    const result = importStix(bundleOf(v2, v1, v2, gone), options)
    expect(result.events.map((event) => [event.type, (event.payload as { title?: string }).title])).toEqual([
      ['incident.reported', 'v2'],
      ['incident.updated', undefined],
    ])
    expect(result.skipped).toEqual([
      { stixId: v1.id, type: 'incident', reason: 'a later version is in the bundle' },
      { stixId: v1.id, type: 'incident', reason: 'the same version appears earlier in the bundle' },
      { stixId: gone.id, type: 'incident', reason: 'revoked' },
    ])
  })

  it('a third-party sighting of an incident, with observed data: the observables are the indicator, and their markings count', () => {
    const target = incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN] })
    const ip = {
      type: 'ipv4-addr',
      id: scoId('ipv4-addr', { value: '198.51.100.7' }),
      value: '198.51.100.7',
      object_marking_refs: [TLP2_MARKING_IDS.RED],
    }
    const domain = { type: 'domain-name', id: scoId('domain-name', { value: 'evil.example' }), value: 'evil.example' }
    const observed = sdo('observed-data', {
      first_observed: T1,
      last_observed: T2,
      number_observed: 5,
      object_refs: [ip.id, domain.id],
      object_marking_refs: [TLP2_MARKING_IDS.GREEN],
    })
    const where = sdo('identity', {
      name: 'LV network',
      identity_class: 'system',
      x_watchfloor_network_id: 'cert-lv-net',
    })
    const sighting = sdo('sighting', {
      sighting_of_ref: target.id,
      observed_data_refs: [observed.id],
      where_sighted_refs: [where.id],
      count: 7,
      last_seen: T2,
      object_marking_refs: [TLP2_MARKING_IDS.GREEN],
    })
    const result = importStix(bundleOf(target, ip, domain, observed, where, sighting), options)
    const observation = result.events.find((event) => event.type === 'incident.observation')!
    expect(observation).toMatchObject({
      occurredAt: T2,
      marking: { tlp: 'RED' }, // the address the indicator names is RED
      payload: {
        incidentId: `${target.id}@cert-lv`,
        indicator: '198.51.100.7, evil.example',
        count: 7,
        networkId: 'cert-lv-net',
      },
    })
    expect(result.created.map((entry) => entry.type)).toEqual(['incident', 'sighting'])
    expect(result.used.map((entry) => [entry.type, entry.as])).toEqual([
      ['ipv4-addr', 'an observable of an imported observation'],
      ['domain-name', 'an observable of an imported observation'],
      ['observed-data', 'the data of an imported sighting'],
      ['identity', 'where an imported sighting was seen'],
    ])
  })

  it('a sighting of an indicator that indicates an incident: one observation, the indicator used', () => {
    const target = incident({ object_marking_refs: [TLP2_MARKING_IDS.GREEN] })
    const indicator = sdo('indicator', {
      pattern: "[url:value = 'http://evil.example/it\\'s']",
      pattern_type: 'stix',
      valid_from: T1,
      object_marking_refs: [TLP2_MARKING_IDS.AMBER],
    })
    const link = sdo('relationship', {
      relationship_type: 'indicates',
      source_ref: indicator.id,
      target_ref: target.id,
    })
    const sighting = sdo('sighting', { sighting_of_ref: indicator.id, object_marking_refs: [TLP2_MARKING_IDS.GREEN] })
    const result = importStix(bundleOf(target, indicator, link, sighting), options)
    const observations = result.events.filter((event) => event.type === 'incident.observation')
    expect(observations).toHaveLength(1)
    expect(observations[0]).toMatchObject({
      marking: { tlp: 'AMBER' },
      payload: { incidentId: `${target.id}@cert-lv`, indicator: "http://evil.example/it's" },
    })
    expect(result.used.map((entry) => entry.type).sort()).toEqual(['indicator', 'relationship'])
  })

  it('observed data and indicators tied to an incident by a relationship or x_watchfloor_incident_id; others skipped', () => {
    const target = incident({ x_watchfloor_incident_id: 'inc-1' })
    const file = { type: 'file', id: scoId('file', { name: 'dropper.exe' }), name: 'dropper.exe' }
    const observed = sdo('observed-data', {
      first_observed: T1,
      last_observed: T2,
      number_observed: 2,
      object_refs: [file.id],
    })
    const related = sdo('relationship', {
      relationship_type: 'related-to',
      source_ref: target.id,
      target_ref: observed.id,
    })
    const tagged = sdo('indicator', {
      pattern: "[ipv4-addr:value = '203.0.113.9']",
      pattern_type: 'stix',
      valid_from: T1,
      x_watchfloor_incident_id: 'inc-7',
    })
    const loose = sdo('indicator', {
      pattern: "[domain-name:value = 'x.example']",
      pattern_type: 'stix',
      valid_from: T1,
    })
    const stray = { type: 'ipv4-addr', id: scoId('ipv4-addr', { value: '192.0.2.1' }), value: '192.0.2.1' }
    const malware = sdo('malware', { name: 'Worm', is_family: true })
    const result = importStix(bundleOf(target, file, observed, related, tagged, loose, stray, malware), options)
    expect(
      result.events
        .filter((event) => event.type === 'incident.observation')
        .map((event) => [event.occurredAt, event.payload]),
    ).toEqual([
      [T2, { incidentId: 'inc-1', indicator: 'dropper.exe', count: 2 }],
      [T1, { incidentId: 'inc-7', indicator: '203.0.113.9' }],
    ])
    expect(result.skipped).toEqual([
      {
        stixId: loose.id,
        type: 'indicator',
        reason: 'related to no incident (no sighting, relationship or x_watchfloor_incident_id)',
      },
      { stixId: stray.id, type: 'ipv4-addr', reason: 'part of no imported observation' },
      { stixId: malware.id, type: 'malware', reason: 'the floor has no counterpart for malware objects' },
    ])
  })

  it('a sighting of something related to no incident is skipped', () => {
    const malware = sdo('malware', { name: 'Worm', is_family: true })
    const sighting = sdo('sighting', { sighting_of_ref: malware.id })
    const result = importStix(bundleOf(malware, sighting), options)
    expect(result.events).toEqual([])
    expect(result.skipped.find((entry) => entry.stixId === sighting.id)?.reason).toBe(
      'sighted something that is neither an incident nor related to one',
    )
  })

  it('notes and reports become advisories of the incident they name first', () => {
    const target = incident({ x_watchfloor_incident_id: 'inc-1' })
    const note = sdo('note', { abstract: 'Patch now', content: 'Disable SMBv1.', object_refs: [target.id] })
    const plain = sdo('note', { content: 'First line\nsecond line', object_refs: [id('identity')], modified: T2 })
    const report = sdo('report', {
      name: 'Weekly',
      published: T2,
      object_refs: [target.id],
      x_watchfloor_advisory_id: 'adv-7',
    })
    const events = importStix(bundleOf(target, note, plain, report), options).events.filter(
      (event) => event.type === 'advisory.published',
    )
    expect(events.map((event) => [event.occurredAt, event.payload])).toEqual([
      [T2, { advisoryId: 'adv-7', title: 'Weekly', body: 'Weekly', incidentId: 'inc-1' }],
      [T1, { advisoryId: `${note.id}@cert-lv`, title: 'Patch now', body: 'Disable SMBv1.', incidentId: 'inc-1' }],
      [T2, { advisoryId: `${plain.id}@cert-lv`, title: 'First line', body: 'First line\nsecond line' }],
    ])
  })

  it("registers only the importer's own networks: another organisation's is skipped (A5)", () => {
    const place = sdo('location', { latitude: 56.9, longitude: 24.1 })
    const own = sdo('identity', {
      name: 'LV net',
      identity_class: 'system',
      x_watchfloor_network_id: 'lv-net',
      x_watchfloor_organisation: 'cert-lv',
      x_watchfloor_nation: 'LV',
      x_watchfloor_network_kind: 'government',
    })
    const theirs = {
      ...own,
      id: id('identity'),
      x_watchfloor_network_id: 'ee-net',
      x_watchfloor_organisation: 'cert-ee',
    }
    const at = sdo('relationship', { relationship_type: 'located-at', source_ref: own.id, target_ref: place.id })
    const result = importStix(bundleOf(place, own, theirs, at), options)
    expect(result.events.map((event) => event.payload)).toEqual([
      {
        networkId: 'lv-net',
        name: 'LV net',
        organisation: 'cert-lv',
        nation: 'LV',
        kind: 'government',
        location: { lat: 56.9, lon: 24.1 },
      },
    ])
    expect(result.skipped).toEqual([
      {
        stixId: theirs.id,
        type: 'identity',
        reason: "another organisation's network: only its owner registers it (A5)",
      },
    ])
    expect(result.used.map((entry) => entry.stixId)).toEqual([place.id, at.id])
  })
})

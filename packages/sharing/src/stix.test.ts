/**
 * STIX 2.1 export and import against the OASIS JSON schemas (vendored in packages/sharing/standards):
 * every exported object validates against the schema of its own type, the vendored examples
 * import, and a picture exported and imported back comes back the same.
 */
import { fold, incidentOf, initialState, makeEvent, type State } from '@watchfloor/core'
import type { EventInput, Marking, StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import tlp2Published from '../standards/tlp-2.0-marking-definitions.json'
import { exampleFiles, schemaErrors } from '../test/oasis.ts'
import { exportStix, StixExport, stixIds } from './stixExport.ts'
import { importStix, type StixImportResult } from './stixImport.ts'
import { PAP_MARKING_IDS, papMarkingDefinition, TLP2_MARKING_IDS, tlpMarkingDefinition } from './stixMarkings.ts'
import { observableOf, observablesOf } from './stixObservables.ts'
import { type StixBundle, type StixObject, scoId, stixTime } from './stixTypes.ts'
import { SCO_TYPES, SDO_TYPES, SRO_TYPES, validateStixBundle, validateStixObject } from './stixValidate.ts'
import { uuidv5 } from './uuid.ts'

// ---------------------------------------------------------------------------------------------
// A picture worth exporting: three organisations, every marking, every kind of indicator

const at = (minute: number): string => new Date(Date.UTC(2026, 10, 26, 8, minute)).toISOString()
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const amberToLv: Marking = { tlp: 'AMBER', releasableTo: ['cert-lv', 'LV'], pap: 'AMBER' }
const red: Marking = { tlp: 'RED', recipients: ['u-lv-1'], pap: 'RED' }

function scenario(): StoredEvent[] {
  let seq = 0
  const e = <T extends EventInput['type']>(
    type: T,
    payload: Extract<EventInput, { type: T }>['payload'],
    options: { organisation?: string; network?: string; marking?: Marking; actor?: string; occurredAt?: string },
  ): StoredEvent => {
    seq++
    const event = makeEvent(seq, type, payload as never, { occurredAt: at(seq), ...options })
    return { ...event, recordedAt: at(seq + 1) }
  }
  const ee = { organisation: 'cert-ee', actor: 'u-ee-1' }
  const lv = { organisation: 'cert-lv', actor: 'u-lv-1' }
  return [
    e(
      'network.registered',
      {
        networkId: 'cert-ee-net',
        name: 'National CERT network of Estonia',
        organisation: 'cert-ee',
        nation: 'EE',
        kind: 'national-cert',
        location: { lat: 59.437, lon: 24.754 },
      },
      { ...ee, marking: { tlp: 'GREEN' } },
    ),
    e(
      'network.registered',
      {
        networkId: 'cert-lv-net',
        name: 'National CERT network of Latvia',
        organisation: 'cert-lv',
        nation: 'LV',
        kind: 'national-cert',
        location: { lat: 56.949, lon: 24.105 },
      },
      { ...lv, marking: { tlp: 'GREEN', pap: 'GREEN' } },
    ),
    e(
      'network.registered',
      {
        networkId: 'alliance-csoc',
        name: 'Alliance cyber security operations centre',
        organisation: 'alliance',
        nation: 'ALLIANCE',
        kind: 'alliance-body',
        location: { lat: 50.454, lon: 3.952 },
      },
      { organisation: 'alliance', marking: { tlp: 'CLEAR' } },
    ),
    e('network.posture_changed', { networkId: 'cert-lv-net', posture: 'elevated', reason: 'worm' }, lv),
    e(
      'incident.reported',
      {
        incidentId: 'inc-1',
        title: 'Worm outbreak on government networks',
        severity: 'high',
        category: 'malware',
        summary: 'A worm spreads over SMB.',
        affectedNetworks: ['cert-ee-net'],
        attackSource: { networkId: 'unknown-net', location: { lat: 55.75, lon: 37.62 } },
      },
      { ...ee, marking: amberToLv, occurredAt: '2026-11-26T10:05:00+02:00' },
    ),
    e(
      'incident.reported',
      {
        incidentId: 'inc-2',
        title: 'Phishing wave',
        severity: 'medium',
        category: 'phishing',
        affectedNetworks: ['cert-lv-net'],
        attackSource: { networkId: 'alliance-csoc' },
      },
      { ...lv, marking: { tlp: 'GREEN', pap: 'GREEN' } },
    ),
    e(
      'incident.reported',
      { incidentId: 'inc-3', title: 'Insider', severity: 'low', category: 'insider', affectedNetworks: [] },
      { ...ee, marking: red },
    ),
    e(
      'incident.reported',
      {
        incidentId: 'inc-4',
        title: 'Scanning',
        severity: 'low',
        category: 'scanning',
        affectedNetworks: ['cert-lv-net'],
      },
      { ...lv, marking: { tlp: 'CLEAR' } },
    ),
    e(
      'incident.reported',
      {
        incidentId: 'inc-5',
        title: 'Worm, second report',
        severity: 'high',
        category: 'malware',
        affectedNetworks: [],
      },
      { ...ee, marking: { tlp: 'GREEN' } },
    ),
    e(
      'incident.updated',
      { incidentId: 'inc-1', status: 'triaged', summary: 'A worm spreads over SMBv1.' },
      {
        ...ee,
        marking: amberToLv,
      },
    ),
    e(
      'incident.escalated',
      { incidentId: 'inc-1', severity: 'critical', reason: 'spreading' },
      { ...ee, marking: amberToLv },
    ),
    e(
      'incident.observation',
      { incidentId: 'inc-1', networkId: 'cert-lv-net', indicator: '198.51.100.7', count: 12 },
      { ...lv, network: 'cert-lv-net', marking: { tlp: 'AMBER', releasableTo: ['cert-ee'] } },
    ),
    e('incident.observation', { incidentId: 'inc-1', indicator: 'evil.example.com' }, { ...ee, marking: amberToLv }),
    e(
      'incident.observation',
      { incidentId: 'inc-1', indicator: 'https://evil.example.com/payload?id=1', count: 1_000_000_000 },
      { ...ee, marking: { tlp: 'GREEN' } },
    ),
    // the same address again, now GREEN: it keeps its first (AMBER) marking, the observation its own
    e('incident.observation', { incidentId: 'inc-1', indicator: '198.51.100.7' }, { ...ee, marking: { tlp: 'GREEN' } }),
    e(
      'incident.observation',
      { incidentId: 'inc-2', indicator: SHA256, count: 3 },
      {
        ...lv,
        marking: { tlp: 'GREEN', pap: 'GREEN' },
      },
    ),
    e(
      'incident.observation',
      {
        incidentId: 'inc-2',
        indicator: `Phishing mail with credential-harvesting link from 203.0.113.9, attachment SHA-256 ${SHA256}`,
      },
      { ...lv, marking: { tlp: 'GREEN' } },
    ),
    e(
      'incident.observation',
      { incidentId: 'inc-2', indicator: 'Failed VPN logins', count: 40 },
      {
        ...lv,
        marking: { tlp: 'GREEN' },
      },
    ),
    e('incident.observation', { incidentId: 'inc-3' }, { ...ee, marking: red }),
    e('incident.observation', { incidentId: 'inc-4', indicator: '2001:db8::1' }, { ...lv, marking: { tlp: 'CLEAR' } }),
    e('incident.observation', { incidentId: 'inc-4', indicator: 'AS15169' }, { ...lv, marking: { tlp: 'CLEAR' } }),
    e(
      'incident.observation',
      { incidentId: 'inc-4', indicator: 'phish@evil.example.com' },
      {
        ...lv,
        marking: { tlp: 'GREEN', releasableTo: [] },
      },
    ),
    e(
      'incident.observation',
      { incidentId: 'inc-4', indicator: '00:1a:2b:3c:4d:5e' },
      {
        ...lv,
        marking: { tlp: 'RED', recipients: [] },
      },
    ),
    e(
      'incident.linked',
      { incidentId: 'inc-4', otherIncidentId: 'inc-2', relation: 'related' },
      {
        ...lv,
        marking: { tlp: 'CLEAR' },
      },
    ),
    e(
      'incident.linked',
      { incidentId: 'inc-2', otherIncidentId: 'inc-1', relation: 'duplicate_of' },
      {
        ...lv,
        marking: { tlp: 'GREEN' },
      },
    ),
    e(
      'incident.linked',
      { incidentId: 'inc-5', otherIncidentId: 'inc-1', relation: 'merged_into' },
      {
        ...ee,
        marking: { tlp: 'GREEN' },
      },
    ),
    e('incident.status_changed', { incidentId: 'inc-4', status: 'closed' }, { ...lv, marking: { tlp: 'CLEAR' } }),
    e(
      'incident.network_state_set',
      { incidentId: 'inc-1', networkId: 'cert-lv-net', state: 'contained' },
      {
        ...lv,
        marking: amberToLv,
      },
    ),
    e(
      'advisory.published',
      { advisoryId: 'adv-1', title: 'Patch SMBv1 now', body: 'Disable SMBv1 on every host.', incidentId: 'inc-1' },
      { ...ee, marking: { tlp: 'AMBER', releasableTo: ['cert-lv'], pap: 'AMBER' } },
    ),
    e(
      'advisory.published',
      { advisoryId: 'adv-2', title: 'Phishing season', body: 'Check links.' },
      {
        ...lv,
        marking: { tlp: 'CLEAR' },
      },
    ),
    e(
      'task.created',
      { taskId: 't-1', incidentId: 'inc-1', title: 'Isolate hosts', priority: 'high' },
      {
        ...ee,
        marking: amberToLv,
      },
    ),
  ]
}

const events = scenario()
const indicatorOf = (event: StoredEvent): string | undefined => (event.payload as { indicator?: string }).indicator
const picture: State = fold(initialState, events)
const directory = (organisation: string) =>
  ({
    'cert-ee': { name: 'CERT-EE', nation: 'EE', kind: 'national-cert' },
    'cert-lv': { name: 'CERT.LV', nation: 'LV', kind: 'national-cert' },
  })[organisation]
const bundle = exportStix(events, picture, { directory })
const byId = new Map(bundle.objects.map((object) => [object.id, object]))
const ofType = (type: string, objects: StixObject[] = bundle.objects): StixObject[] =>
  objects.filter((object) => object.type === type)
const incidentObject = (incidentId: string): StixObject => byId.get(stixIds.incident(incidentId))!

describe('STIX export: every object validates against the OASIS schema of its type', () => {
  it('every object has a schema and passes it; the pure validator agrees', () => {
    expect(bundle.objects.length).toBeGreaterThan(40)
    for (const object of bundle.objects) {
      expect(schemaErrors(object), `${object.id}`).toEqual([])
    }
    expect(validateStixBundle(bundle)).toEqual([])
  })

  it('holds every type the mapping promises', () => {
    const types = new Set(bundle.objects.map((object) => object.type))
    for (const type of [
      'marking-definition',
      'identity',
      'location',
      'incident',
      'observed-data',
      'sighting',
      'report',
      'relationship',
      'ipv4-addr',
      'ipv6-addr',
      'domain-name',
      'url',
      'email-addr',
      'mac-addr',
      'file',
      'autonomous-system',
    ]) {
      expect(types, type).toContain(type)
    }
  })

  it('is a bundle with each id once, and every reference resolves inside it', () => {
    expect(bundle.type).toBe('bundle')
    expect(bundle.id).toMatch(/^bundle--[0-9a-f-]{36}$/)
    expect(new Set(bundle.objects.map((object) => object.id)).size).toBe(bundle.objects.length)
    for (const object of bundle.objects) {
      const refs = [
        object.created_by_ref,
        object.sighting_of_ref,
        object.source_ref,
        object.target_ref,
        ...((object.object_marking_refs as string[] | undefined) ?? []),
        ...((object.object_refs as string[] | undefined) ?? []),
        ...((object.observed_data_refs as string[] | undefined) ?? []),
        ...((object.where_sighted_refs as string[] | undefined) ?? []),
      ].filter((ref): ref is string => ref !== undefined)
      for (const ref of refs) expect(byId.has(ref), `${object.id} -> ${ref}`).toBe(true)
    }
  })

  it('carries the marking-definitions it uses, as published (TLP 2.0 byte for byte, PAP by OASIS)', () => {
    const definitions = ofType('marking-definition')
    const used = new Set(bundle.objects.flatMap((object) => (object.object_marking_refs as string[] | undefined) ?? []))
    expect(new Set(definitions.map((definition) => definition.id))).toEqual(used)
    for (const published of tlp2Published) {
      expect(tlpMarkingDefinition(published.name.slice(4) as keyof typeof TLP2_MARKING_IDS)).toEqual(published)
    }
    for (const pap of ['CLEAR', 'GREEN', 'AMBER', 'RED'] as const) {
      const definition = papMarkingDefinition(pap)
      expect(definition.id).toBe(PAP_MARKING_IDS[pap])
      expect(schemaErrors(definition)).toEqual([])
    }
  })

  it('marks every SDO and SRO with the TLP 2.0 (and PAP) of what it comes from', () => {
    for (const object of bundle.objects) {
      if (!SDO_TYPES.has(object.type) && !SRO_TYPES.has(object.type)) continue
      expect(object.object_marking_refs, object.id).toBeDefined()
    }
    const inc1 = incidentObject('inc-1')
    expect(inc1.object_marking_refs).toEqual([TLP2_MARKING_IDS.AMBER, PAP_MARKING_IDS.AMBER])
    expect(inc1.x_watchfloor_releasable_to).toEqual(['cert-lv', 'LV'])
    const inc3 = incidentObject('inc-3')
    expect(inc3.object_marking_refs).toEqual([TLP2_MARKING_IDS.RED, PAP_MARKING_IDS.RED])
    expect(inc3.x_watchfloor_recipients).toEqual(['u-lv-1'])
    const obs = events.find((event) => indicatorOf(event) === 'phish@evil.example.com')!
    const sighting = byId.get(stixIds.sighting(obs.id))!
    expect(sighting.object_marking_refs).toEqual([TLP2_MARKING_IDS.GREEN])
    expect(sighting.x_watchfloor_releasable_to_none).toBe(true) // STIX has no empty lists
    const redObservation = events.find((event) => indicatorOf(event) === '00:1a:2b:3c:4d:5e')!
    expect(byId.get(stixIds.sighting(redObservation.id))!.x_watchfloor_recipients_none).toBe(true)
  })

  it('maps incidents: name, description, custom x_watchfloor_ properties, created/modified from their events', () => {
    const inc1 = incidentObject('inc-1')
    expect(inc1).toMatchObject({
      name: 'Worm outbreak on government networks',
      description: 'A worm spreads over SMBv1.',
      created: '2026-11-26T08:05:00.000Z', // the report's occurredAt, in UTC
      created_by_ref: stixIds.organisation('cert-ee'),
      x_watchfloor_incident_id: 'inc-1',
      x_watchfloor_severity: 'critical',
      x_watchfloor_status: 'triaged',
      x_watchfloor_category: 'malware',
      x_watchfloor_affected_networks: ['cert-ee-net', 'cert-lv-net'],
      x_watchfloor_network_states: { 'cert-lv-net': 'contained' },
      x_watchfloor_attack_source: { network_id: 'unknown-net', latitude: 55.75, longitude: 37.62 },
      // the observations its marking covers: the AMBER one released to cert-ee alone (12) is stricter
      x_watchfloor_observation_count: 1_000_000_002,
    })
    // the last event that shaped it is the network state, recorded one minute after it happened
    const lastShaping = events.find((event) => event.type === 'incident.network_state_set')!
    expect(inc1.modified).toBe(stixTime(lastShaping.recordedAt))
    expect(incidentObject('inc-5').x_watchfloor_merged_into).toBe('inc-1')
    expect(byId.get(stixIds.attackSource('inc-1'))).toMatchObject({ type: 'location', latitude: 55.75 })
  })

  it('maps an observation to its SCOs, an observed-data and a sighting of its incident', () => {
    const obs = events.find((event) => indicatorOf(event) === '198.51.100.7')!
    const sighting = byId.get(stixIds.sighting(obs.id))!
    const observed = byId.get(stixIds.observedData(obs.id))!
    const ip = scoId('ipv4-addr', { value: '198.51.100.7' })
    expect(observed).toMatchObject({ object_refs: [ip], number_observed: 12, first_observed: obs.occurredAt })
    expect(sighting).toMatchObject({
      sighting_of_ref: stixIds.incident('inc-1'),
      observed_data_refs: [observed.id],
      where_sighted_refs: [stixIds.network('cert-lv-net')],
      description: '198.51.100.7',
      count: 12,
      x_watchfloor_incident_id: 'inc-1',
    })
    // the SCO is the fact: it keeps the marking of the observation that first named it
    expect(byId.get(ip)!.object_marking_refs).toEqual([TLP2_MARKING_IDS.AMBER])
    const noIndicator = events.find(
      (event) => event.type === 'incident.observation' && event.payload.incidentId === 'inc-3',
    )!
    expect(byId.has(stixIds.observedData(noIndicator.id))).toBe(false)
    expect(byId.get(stixIds.sighting(noIndicator.id))!.where_sighted_refs).toEqual([stixIds.organisation('cert-ee')])
    const huge = events.find((event) => (event.payload as { count?: number }).count === 1_000_000_000)!
    expect(byId.get(stixIds.sighting(huge.id))).toMatchObject({ count: 999_999_999, x_watchfloor_count: 1_000_000_000 })
    const text = events.find((event) => String(indicatorOf(event)).startsWith('Phishing mail'))!
    expect(byId.get(stixIds.observedData(text.id))!.object_refs).toEqual([
      scoId('ipv4-addr', { value: '203.0.113.9' }),
      scoId('file', { hashes: { 'SHA-256': SHA256 } }),
    ])
    expect(byId.has(stixIds.observedData(events.find((event) => indicatorOf(event) === 'Failed VPN logins')!.id))).toBe(
      false,
    )
  })

  it('maps advisories to reports of their incident (or of their publisher)', () => {
    expect(byId.get(stixIds.advisory('adv-1'))).toMatchObject({
      name: 'Patch SMBv1 now',
      description: 'Disable SMBv1 on every host.',
      object_refs: [stixIds.incident('inc-1')],
      x_watchfloor_advisory_id: 'adv-1',
    })
    expect(byId.get(stixIds.advisory('adv-2'))!.object_refs).toEqual([stixIds.organisation('cert-lv')])
  })

  it('maps networks to system identities located at their coordinates, organisations and nations', () => {
    const net = byId.get(stixIds.network('cert-lv-net'))!
    expect(net).toMatchObject({
      identity_class: 'system',
      created_by_ref: stixIds.organisation('cert-lv'),
      x_watchfloor_network_id: 'cert-lv-net',
      x_watchfloor_posture: 'elevated',
      x_watchfloor_posture_reason: 'worm',
      object_marking_refs: [TLP2_MARKING_IDS.GREEN, PAP_MARKING_IDS.GREEN],
    })
    expect(byId.get(stixIds.networkLocation('cert-lv-net'))).toMatchObject({ latitude: 56.949, country: 'LV' })
    expect(byId.get(stixIds.networkLocation('alliance-csoc'))!.country).toBeUndefined()
    expect(byId.get(stixIds.organisation('cert-lv'))).toMatchObject({
      name: 'CERT.LV',
      identity_class: 'organization',
      sectors: ['government-national'],
    })
    expect(byId.get(stixIds.organisation('alliance'))!.name).toBe('alliance') // not in the directory
    expect(byId.get(stixIds.nation('EE'))).toMatchObject({ type: 'location', country: 'EE' })
    const relationshipTypes = ofType('relationship').map(
      (r) => `${String(r.relationship_type)}:${String(r.description)}`,
    )
    expect(relationshipTypes).toEqual(
      expect.arrayContaining([
        'located-at:undefined',
        'related-to:operated by',
        'related-to:affected network',
        'related-to:attack source',
        'duplicate-of:duplicate of',
        'related-to:merged into',
        'related-to:related incident',
      ]),
    )
    // a network known only by an id (an attack source nobody registered) is a stub identity
    expect(byId.get(stixIds.network('unknown-net'))).toMatchObject({ name: 'unknown-net', identity_class: 'system' })
  })

  it('gives an organisation the marking of the least restricted object that names it', () => {
    // cert-ee authors a GREEN incident (inc-5) and a GREEN observation, besides AMBER and RED objects
    expect(byId.get(stixIds.organisation('cert-ee'))!.object_marking_refs).toEqual([TLP2_MARKING_IDS.GREEN])
    expect(byId.get(stixIds.organisation('alliance'))!.object_marking_refs).toEqual([TLP2_MARKING_IDS.CLEAR])
  })

  it('gives the same ids and the same bundle on every export', () => {
    const again = exportStix(events, picture, { directory })
    expect(again).toEqual(bundle)
    expect(incidentObject('inc-1').id).toBe(
      `incident--${uuidv5('97df180a-309e-52f6-b33f-4466f750f334', 'incident:inc-1')}`,
    )
    expect(exportStix(events, picture, { bundleId: 'bundle--00000000-0000-4000-8000-000000000000' }).id).toBe(
      'bundle--00000000-0000-4000-8000-000000000000',
    )
  })

  it('streams: add() returns observations as their events arrive, finish() the rest; the same objects as one export', () => {
    const exporter = new StixExport({ directory })
    const streamed: StixObject[] = []
    for (let i = 0; i < events.length; i += 4) {
      const batch = events.slice(i, i + 4)
      const ready = exporter.add(batch)
      const observations = batch.filter((event) => event.type === 'incident.observation')
      expect(ready.filter((object) => object.type === 'sighting')).toHaveLength(observations.length)
      for (const object of ready) {
        for (const ref of (object.object_marking_refs as string[] | undefined) ?? []) {
          // a marking-definition comes before (or with) the first object that uses it
          expect([...streamed, ...ready].some((seen) => seen.id === ref)).toBe(true)
        }
      }
      streamed.push(...ready)
    }
    streamed.push(...exporter.finish(picture))
    expect(new Set(streamed.map((object) => object.id)).size).toBe(streamed.length)
    expect(new Set(streamed)).toEqual(new Set(bundle.objects))
    expect(() => exporter.finish(picture)).toThrow()
    expect(() => exporter.add([])).toThrow()
  })

  it("scope 'events': one incident's events give that incident, its advisory and the networks it names, not the whole picture", () => {
    const about = events.filter((event) => incidentOf(event, picture) === 'inc-2')
    const one = exportStix(about, picture, { scope: 'events' })
    const ids = new Set(one.objects.map((object) => object.id))
    expect(ofType('incident', one.objects).map((object) => object.x_watchfloor_incident_id)).toEqual(['inc-2'])
    expect(ofType('report', one.objects)).toEqual([])
    expect(ids.has(stixIds.network('cert-lv-net'))).toBe(true) // affected
    expect(ids.has(stixIds.network('alliance-csoc'))).toBe(true) // attack source
    expect(ids.has(stixIds.network('cert-ee-net'))).toBe(false)
    // its links name inc-1 and inc-4 by id only; nothing else of them is exported
    expect(ofType('relationship', one.objects).filter((r) => r.x_watchfloor_relation !== undefined)).toHaveLength(2)
    for (const object of one.objects) expect(schemaErrors(object), object.id).toEqual([])
    const advisory = exportStix(
      events.filter((event) => incidentOf(event, picture) === 'inc-1'),
      picture,
      { scope: 'events' },
    )
    expect(ofType('report', advisory.objects).map((object) => object.x_watchfloor_advisory_id)).toEqual(['adv-1'])
  })

  it("scope 'events' with shapeFrom: what the picture shows carries the markings of events outside the window, the latest link's too", () => {
    const strict: Marking = { tlp: 'AMBER+STRICT' }
    const report = (seq: number, incidentId: string) =>
      makeEvent(seq, 'incident.reported', {
        incidentId,
        title: incidentId,
        severity: 'high',
        category: 'malware',
        affectedNetworks: [],
      })
    const all = [
      report(1, 'a'),
      report(2, 'b'),
      makeEvent(3, 'incident.linked', { incidentId: 'a', otherIncidentId: 'b', relation: 'related' }),
      // after the window: a stricter update, and the link made a merge under a stricter marking
      makeEvent(4, 'incident.updated', { incidentId: 'b', summary: 'strict detail' }, { marking: strict }),
      makeEvent(
        5,
        'incident.linked',
        { incidentId: 'a', otherIncidentId: 'b', relation: 'merged_into' },
        { marking: strict },
      ),
    ]
    const shown = fold(initialState, all)
    const exporter = new StixExport({ scope: 'events' })
    exporter.shapeFrom(all)
    const objects = [...exporter.add(all.slice(0, 3)), ...exporter.finish(shown)]
    const tlpOf = (object: StixObject | undefined) => (object?.object_marking_refs as string[] | undefined)?.[0]
    expect(tlpOf(objects.find((o) => o.id === stixIds.incident('b')))).toBe(TLP2_MARKING_IDS['AMBER+STRICT'])
    // a: merged (closed, naming b) by the strict link
    expect(tlpOf(objects.find((o) => o.id === stixIds.incident('a')))).toBe(TLP2_MARKING_IDS['AMBER+STRICT'])
    const merge = objects.find((o) => o.type === 'relationship' && o.x_watchfloor_relation === 'merged_into')
    expect(tlpOf(merge)).toBe(TLP2_MARKING_IDS['AMBER+STRICT'])
    expect(exporter.markings().map((marking) => marking.tlp)).toContain('AMBER+STRICT')
  })

  it('an export of a later window keeps created (from the picture) and never goes back on modified', () => {
    const window = events.filter((event) => event.seq > 12)
    const later = exportStix(window, picture, { scope: 'events' })
    const inc1 = later.objects.find((object) => object.id === stixIds.incident('inc-1'))!
    expect(inc1.created).toBe(incidentObject('inc-1').created)
    expect(inc1.modified).toBe(incidentObject('inc-1').modified)
    const net = byId.get(stixIds.network('cert-lv-net'))!
    expect(later.objects.find((object) => object.id === net.id)!.created).toBe(net.created)
  })

  it('[M1] an incident object says no more than its marking: stricter observations and links leave its count and modified alone', () => {
    const T = (minute: number) => new Date(Date.UTC(2026, 11, 1, 8, minute)).toISOString()
    const ev = (seq: number, type: EventInput['type'], payload: object, marking: Marking, minute = seq) => ({
      ...makeEvent(seq, type, payload as never, { occurredAt: T(minute), marking, organisation: 'cert-ee' }),
      recordedAt: T(minute),
    })
    const green: Marking = { tlp: 'GREEN' }
    const redToKadri: Marking = { tlp: 'RED', recipients: ['kadri'] }
    const incident = (seq: number, incidentId: string) =>
      ev(
        seq,
        'incident.reported',
        { incidentId, title: incidentId, severity: 'high', category: 'x', affectedNetworks: ['ee-net'] },
        green,
      )
    const log = [
      ev(
        1,
        'network.registered',
        {
          networkId: 'ee-net',
          name: 'EE',
          organisation: 'cert-ee',
          nation: 'EE',
          kind: 'government',
          location: { lat: 59, lon: 24 },
        },
        green,
      ),
      incident(2, 'inc-g'),
      incident(3, 'inc-h'),
      ev(4, 'incident.observation', { incidentId: 'inc-g', count: 5 }, green),
      // stricter than the incident: a sighting of its own, marked as it is, not in the count
      {
        ...ev(5, 'incident.observation', { incidentId: 'inc-g', count: 1000 }, redToKadri, 30),
        source: { organisation: 'cert-ee', network: 'ee-net' },
      },
      ev(6, 'incident.observation', { incidentId: 'inc-g', count: 7 }, { tlp: 'AMBER+STRICT' }, 31),
      // a RED link between the two: a relationship of its own
      ev(7, 'incident.linked', { incidentId: 'inc-g', otherIncidentId: 'inc-h', relation: 'related' }, redToKadri, 40),
    ] as StoredEvent[]
    const picture = fold(initialState, log)
    expect(picture.incidents.get('inc-g')!.observationCount).toBe(1012)
    const objects = exportStix(log, picture).objects
    const find = (type: string, key: string, id: string) => objects.find((o) => o.type === type && o[key] === id)!
    const g = find('incident', 'x_watchfloor_incident_id', 'inc-g')
    expect(g.object_marking_refs).toEqual([TLP2_MARKING_IDS.GREEN])
    expect(g.x_watchfloor_observation_count).toBe(5)
    // [R3] an observation before the incident's report is none of the picture's, nor of the count
    const early = [
      ev(1, 'incident.observation', { incidentId: 'inc-x', count: 500 }, green),
      incident(2, 'inc-x'),
      ev(3, 'incident.observation', { incidentId: 'inc-x', count: 2 }, green),
    ] as StoredEvent[]
    const earlyPicture = fold(initialState, early)
    expect(earlyPicture.incidents.get('inc-x')!.observationCount).toBe(2)
    const x = exportStix(early, earlyPicture).objects.find(
      (o) => o.x_watchfloor_incident_id === 'inc-x' && o.type === 'incident',
    )!
    expect(x.x_watchfloor_observation_count).toBe(2)
    expect(g.modified).toBe(stixTime(T(4)))
    expect(find('incident', 'x_watchfloor_incident_id', 'inc-h').modified).toBe(stixTime(T(3)))
    // the network's identity: registered at minute 1, whatever its organisation sent since
    expect(find('identity', 'x_watchfloor_network_id', 'ee-net').modified).toBe(stixTime(T(1)))
    // the stricter observations are there, each as its own sighting with its own marking
    const sightings = objects.filter((o) => o.type === 'sighting' && o.x_watchfloor_incident_id === 'inc-g')
    expect(sightings.map((o) => o.object_marking_refs)).toEqual([
      [TLP2_MARKING_IDS.GREEN],
      [TLP2_MARKING_IDS.RED],
      [TLP2_MARKING_IDS['AMBER+STRICT']],
    ])
  })

  it('[M1] an advisory carries every publication it draws from: created from a RED publication keeps it RED for whoever saw both', () => {
    const T = (minute: number) => new Date(Date.UTC(2026, 11, 2, 8, minute)).toISOString()
    const ev = (seq: number, payload: object, marking: Marking, minute: number) => ({
      ...makeEvent(seq, 'advisory.published', payload as never, {
        occurredAt: T(minute),
        marking,
        organisation: 'cert-ee',
      }),
      recordedAt: T(minute),
    })
    const redToMari: Marking = { tlp: 'RED', recipients: ['mari'] }
    const log = [
      ev(1, { advisoryId: 'adv-r', title: 'Ransomware at the ministry', body: 'The victim, named.' }, redToMari, 1),
      ev(2, { advisoryId: 'adv-r', title: 'Ransomware wave', body: 'Patch the VPN.' }, { tlp: 'GREEN' }, 20),
    ] as StoredEvent[]
    const reportOf = (objects: StixObject[]) =>
      objects.find((o) => o.type === 'report' && o.x_watchfloor_advisory_id === 'adv-r')!
    // mari saw both: the report says the GREEN one, but its created is the RED one's (STIX never
    // changes an object's created between versions), so it carries RED, as an incident would
    const exporter = new StixExport()
    const mari = reportOf([...exporter.add(log), ...exporter.finish(fold(initialState, log))])
    expect(mari).toMatchObject({
      name: 'Ransomware wave',
      created: stixTime(T(1)),
      modified: stixTime(T(20)),
      object_marking_refs: [TLP2_MARKING_IDS.RED],
      x_watchfloor_recipients: ['mari'],
    })
    expect(schemaErrors(mari)).toEqual([])
    expect(exporter.markings().map((marking) => marking.tlp)).toContain('RED')
    // whoever saw only the GREEN publication gets it GREEN, created when it was published
    const green = log.filter((event) => event.marking.tlp === 'GREEN')
    expect(reportOf(exportStix(green, fold(initialState, green)).objects)).toMatchObject({
      created: stixTime(T(20)),
      object_marking_refs: [TLP2_MARKING_IDS.GREEN],
    })
    // an export of a window holding only the GREEN publication draws nothing from the RED one
    const window = exportStix(green, fold(initialState, log), { scope: 'events' })
    expect(reportOf(window.objects)).toMatchObject({
      created: stixTime(T(20)),
      object_marking_refs: [TLP2_MARKING_IDS.GREEN],
    })
  })

  it('[M1] an organisation identity takes its nation only from networks its marking covers', () => {
    const T = (minute: number) => new Date(Date.UTC(2026, 11, 3, 8, minute)).toISOString()
    const ev = (seq: number, type: EventInput['type'], payload: object, marking: Marking) => ({
      ...makeEvent(seq, type, payload as never, { occurredAt: T(seq), marking, organisation: 'isp-x' }),
      recordedAt: T(seq),
    })
    const amberToEe: Marking = { tlp: 'AMBER', releasableTo: ['cert-ee'] }
    const registered = (marking: Marking) =>
      ev(
        1,
        'network.registered',
        {
          networkId: 'isp-x-core',
          name: 'ISP X core',
          organisation: 'isp-x',
          nation: 'FI',
          kind: 'industry',
          location: { lat: 60.17, lon: 24.94 },
        },
        marking,
      )
    const reported = (marking: Marking) =>
      ev(
        2,
        'incident.reported',
        { incidentId: 'inc-x', title: 'Outage', severity: 'high', category: 'x', affectedNetworks: [] },
        marking,
      )
    const exported = (log: StoredEvent[]) => {
      const objects = exportStix(log, fold(initialState, log)).objects
      return {
        identity: objects.find((o) => o.id === stixIds.organisation('isp-x'))!,
        locatedAt: objects.filter((o) => o.type === 'relationship' && o.source_ref === stixIds.organisation('isp-x')),
        nation: objects.find((o) => o.id === stixIds.nation('FI')),
      }
    }
    // isp-x is not in the directory; its only network is registered AMBER to cert-ee, its incident GREEN:
    // the GREEN identity may not say what only the AMBER registration says
    const wider = exported([registered(amberToEe), reported({ tlp: 'GREEN' })])
    expect(wider.identity.object_marking_refs).toEqual([TLP2_MARKING_IDS.GREEN])
    expect(wider.identity.x_watchfloor_nation).toBeUndefined()
    expect(wider.locatedAt).toEqual([])
    expect(wider.nation).toBeUndefined()
    // named by nothing wider than the registration, the identity says the nation, located at it
    const covered = exported([registered(amberToEe), reported(amberToEe)])
    expect(covered.identity).toMatchObject({
      object_marking_refs: [TLP2_MARKING_IDS.AMBER],
      x_watchfloor_releasable_to: ['cert-ee'],
      x_watchfloor_nation: 'FI',
    })
    expect(covered.locatedAt).toMatchObject([{ relationship_type: 'located-at', target_ref: stixIds.nation('FI') }])
    expect(covered.nation).toMatchObject({ object_marking_refs: [TLP2_MARKING_IDS.AMBER] })
    // a GREEN registration: the GREEN identity says it
    expect(exported([registered({ tlp: 'GREEN' }), reported({ tlp: 'GREEN' })]).identity.x_watchfloor_nation).toBe('FI')
  })

  it('exports what a viewer sees only: an incident absent from the picture is absent from the bundle', () => {
    const visible = events.filter((event) => event.marking.tlp !== 'RED')
    const partial = exportStix(visible, fold(initialState, visible))
    expect(partial.objects.some((object) => object.id === stixIds.incident('inc-3'))).toBe(false)
    expect(partial.objects.some((object) => object.x_watchfloor_recipients !== undefined)).toBe(false)
    for (const object of partial.objects) expect(schemaErrors(object), object.id).toEqual([])
  })
})

describe('observables: an indicator as standard SCOs, each valid against its schema', () => {
  it.each([
    ['198.51.100.7', 'ipv4-addr'],
    ['10.0.0.0/8', 'ipv4-addr'],
    ['2001:db8::1', 'ipv6-addr'],
    ['::1', 'ipv6-addr'],
    ['fe80::1:2:3:4:5:6', 'ipv6-addr'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', 'ipv6-addr'],
    ['2001:db8::/32', 'ipv6-addr'],
    ['evil.example.com', 'domain-name'],
    ['xn--bcher-kva.example', 'domain-name'],
    ['https://evil.example.com/a/b?x=1&y=%20#frag', 'url'],
    ['ftp://user@files.example.org:21/pub', 'url'],
    ['phish@evil.example.com', 'email-addr'],
    ['00:1a:2b:3c:4d:5e', 'mac-addr'],
    ['AS15169', 'autonomous-system'],
    ['d41d8cd98f00b204e9800998ecf8427e', 'file'],
    ['da39a3ee5e6b4b0d3255bfef95601890afd80709', 'file'],
    [SHA256, 'file'],
    ['a'.repeat(128), 'file'],
  ])('%s is one %s', (indicator, type) => {
    const sco = observableOf(indicator)
    expect(sco?.type).toBe(type)
    expect(schemaErrors(sco)).toEqual([])
    expect(validateStixObject(sco)).toEqual([])
  })

  it.each([
    'Failed VPN logins',
    'invoice.pdf',
    '999.1.1.1',
    '1.2.3',
    '00:1A:2B:3C:4D:5E',
    'AS99999999999',
    'http://',
    'https://exa mple.com',
    '1::2::3',
    'g'.repeat(64),
  ])('%s is no single observable', (indicator) => {
    expect(observableOf(indicator)).toBeUndefined()
  })

  it('finds addresses, URLs, e-mail addresses and hashes inside free text, each once', () => {
    const found = observablesOf(
      `Beacon to 198.51.100.7:443 and http://evil.example.com/x. from 198.51.100.7, mail a.b@evil.example.com, ${SHA256}; 1.2.3.4.5 no`,
    )
    expect(found.map((sco) => `${sco.type} ${String(sco.value ?? JSON.stringify(sco.hashes))}`)).toEqual([
      'url http://evil.example.com/x',
      'ipv4-addr 198.51.100.7',
      'email-addr a.b@evil.example.com',
      `file {"SHA-256":"${SHA256}"}`,
    ])
    for (const sco of found) expect(schemaErrors(sco)).toEqual([])
    expect(observablesOf('Ransom note worm_README.txt written on file share')).toEqual([])
  })
})

// ---------------------------------------------------------------------------------------------
// Import

const examples = Object.entries(exampleFiles).map(([path, json]) => ({ name: path.split('/').pop()!, json }))
const lv = { organisation: 'cert-lv', defaultMarking: { tlp: 'AMBER' } as Marking }

/** Every object of a bundle lands in exactly one of created, used and skipped. */
function expectAccounted(objects: StixObject[], result: StixImportResult): void {
  const listed = [
    ...result.created.map((entry) => entry.stixId),
    ...result.used.map((entry) => entry.stixId),
    ...result.skipped.map((entry) => entry.stixId),
  ]
  expect([...listed].sort()).toEqual(objects.map((object) => object.id).sort())
}

describe('STIX import of the OASIS examples', () => {
  it('the pure validator accepts every example object ajv accepts', () => {
    for (const { name, json } of examples) {
      const objects = (json as { objects?: unknown[] }).objects ?? [json]
      for (const object of objects) {
        const ajvErrors = schemaErrors(object)
        if (ajvErrors === undefined) continue
        expect(ajvErrors, name).toEqual([])
        expect(validateStixObject(object), name).toEqual([])
      }
    }
  })

  it.each(examples.filter(({ json }) => (json as { type?: unknown }).type === 'bundle'))(
    '$name imports, every object accounted for, unknown types skipped with a reason',
    ({ json }) => {
      const result = importStix(json, lv)
      expect(result.errors).toEqual([])
      const objects = (json as StixBundle).objects
      expectAccounted(objects, result)
      const known = new Set([
        'incident',
        'sighting',
        'observed-data',
        'indicator',
        'note',
        'report',
        'identity',
        'location',
      ])
      for (const object of objects) {
        if (known.has(object.type) || object.type === 'relationship' || object.type === 'marking-definition') continue
        if (SCO_TYPES.has(object.type)) continue
        const skipped = result.skipped.find((entry) => entry.stixId === object.id)
        expect(skipped?.reason, object.type).toBe(`the floor has no counterpart for ${object.type} objects`)
      }
      // the examples' indicators name no incident: each is skipped, saying so
      for (const indicator of objects.filter((object) => object.type === 'indicator')) {
        expect(result.skipped.find((entry) => entry.stixId === indicator.id)?.reason).toMatch(/related to no incident/)
      }
      // nothing in them is marked: every event took the default marking
      expect(result.defaulted).toEqual(result.created.map((entry) => entry.stixId))
      for (const event of result.events) expect(event.marking).toEqual({ tlp: 'AMBER' })
    },
  )

  it('imports the APT1 report as an advisory with no incident', () => {
    const apt1 = examples.find(({ name }) => name === 'apt1.json')!.json as StixBundle
    const result = importStix(apt1, lv)
    expect(result.events).toHaveLength(1)
    expect(result.events[0]).toMatchObject({
      type: 'advisory.published',
      occurredAt: '2013-02-19T00:00:00.000Z',
      source: { organisation: 'cert-lv' },
      payload: {
        advisoryId: 'report--e33ffe07-2f4c-48d8-b0af-ee2619d765cf@cert-lv',
        title: "APT1: Exposing One of China's Cyber Espionage Units",
      },
    })
    expect(result.events[0]!.payload).not.toHaveProperty('incidentId')
  })

  it('a lone object is no bundle: the interop marking example gives errors', () => {
    const single = examples.find(({ name }) => name === 'interop-objectmarking-test.json')!.json
    const result = importStix(single, lv)
    expect(result.errors).toContainEqual({ path: 'type', message: "must be 'bundle'" })
    expect(result.events).toEqual([])
  })
})

describe('the pure validator says no where the schemas say no', () => {
  const mutations: [string, (object: StixObject) => void][] = [
    ['created removed', (o) => delete o.created],
    ['modified without milliseconds', (o) => (o.modified = '2026-11-26T08:00:00Z')],
    ['id of another type', (o) => (o.id = `x-other--${String(o.id).split('--')[1]}`)],
    ['id not a UUID', (o) => (o.id = `${o.type}--1234`)],
    ['spec_version 3.0', (o) => (o.spec_version = '3.0')],
    ['an upper-case property', (o) => (o.Custom = 'x')],
    ['a two-letter property', (o) => (o.xy = 'x')],
    ['an empty list', (o) => (o.labels = [])],
    ['a null', (o) => (o.x_watchfloor_nothing = null)],
    ['severity (a STIX 1 property)', (o) => (o.severity = 'high')],
    ['a bad created_by_ref', (o) => (o.created_by_ref = 'nobody')],
    ['a bad marking ref', (o) => (o.object_marking_refs = ['TLP:RED'])],
  ]
  const samples = ['incident', 'sighting', 'observed-data', 'report', 'identity', 'location', 'relationship'].map(
    (type) => ofType(type)[0]!,
  )

  it.each(mutations)('%s', (_, mutate) => {
    for (const sample of samples) {
      const object = structuredClone(sample)
      mutate(object)
      expect(schemaErrors(object), `${sample.type}: ajv`).not.toEqual([])
      expect(validateStixObject(object), `${sample.type}: pure`).not.toEqual([])
    }
  })

  it.each([
    [
      'incident',
      (o: StixObject): void => {
        delete o.name
      },
    ],
    [
      'identity',
      (o: StixObject): void => {
        delete o.name
      },
    ],
    [
      'location',
      (o: StixObject): void => {
        o.latitude = 100
      },
    ],
    [
      'location',
      (o: StixObject): void => {
        delete o.longitude
      },
    ],
    [
      'report',
      (o: StixObject): void => {
        delete o.published
      },
    ],
    [
      'report',
      (o: StixObject): void => {
        o.object_refs = []
      },
    ],
    [
      'observed-data',
      (o: StixObject): void => {
        o.number_observed = 0
      },
    ],
    [
      'observed-data',
      (o: StixObject): void => {
        delete o.object_refs
      },
    ],
    [
      'observed-data',
      (o: StixObject): void => {
        o.last_observed = 'yesterday'
      },
    ],
    [
      'sighting',
      (o: StixObject): void => {
        delete o.sighting_of_ref
      },
    ],
    [
      'sighting',
      (o: StixObject): void => {
        o.where_sighted_refs = [String(o.sighting_of_ref)]
      },
    ],
    [
      'sighting',
      (o: StixObject): void => {
        o.count = -1
      },
    ],
    [
      'relationship',
      (o: StixObject): void => {
        delete o.target_ref
      },
    ],
    [
      'relationship',
      (o: StixObject): void => {
        o.relationship_type = 'Related To'
      },
    ],
    [
      'marking-definition',
      (o: StixObject): void => {
        delete o.created
      },
    ],
    [
      'ipv4-addr',
      (o: StixObject): void => {
        delete o.value
      },
    ],
  ] as const)('%s: %s', (type, mutate) => {
    const object = structuredClone(ofType(type).find((o) => type !== 'location' || o.latitude !== undefined)!)
    mutate(object)
    expect(schemaErrors(object), 'ajv').not.toEqual([])
    expect(validateStixObject(object), 'pure').not.toEqual([])
  })
})

describe('round trip: export, then import, gives the same incidents, observations, advisories and markings', () => {
  const result = importStix(bundle, lv)
  const imported = result.events
  const ofEvents = <T extends EventInput['type']>(type: T) =>
    imported.filter((event): event is Extract<EventInput, { type: T }> => event.type === type)

  it('imports without errors or defaults, every object accounted for', () => {
    expect(result.errors).toEqual([])
    expect(result.defaulted).toEqual([])
    expectAccounted(bundle.objects, result)
    for (const event of imported) expect(event.source).toEqual({ organisation: 'cert-lv' })
  })

  it('incidents: title, severity, category, summary, networks, attack source, status and marking', () => {
    for (const incident of picture.incidents.values()) {
      const reported = ofEvents('incident.reported').find((event) => event.payload.incidentId === incident.incidentId)
      expect(reported, incident.incidentId).toBeDefined()
      const expected: Record<string, unknown> = {
        incidentId: incident.incidentId,
        title: incident.title,
        severity: incident.severity,
        category: incident.category,
        affectedNetworks: incident.affectedNetworks,
      }
      if (incident.summary !== undefined) expected.summary = incident.summary
      if (incident.attackSource !== undefined) expected.attackSource = incident.attackSource
      expect(reported!.payload).toEqual(expected)
      expect(reported!.marking).toEqual(incident.marking)
      expect(reported!.occurredAt).toBe(stixTime(incident.reportedAt))
      const updated = ofEvents('incident.updated').find((event) => event.payload.incidentId === incident.incidentId)
      expect(updated?.payload.status ?? 'new').toBe(incident.status)
    }
  })

  it('observations: incident, indicator, count, network, time and marking (PAP, releasability, recipients)', () => {
    const view = (event: {
      occurredAt: string
      marking?: Marking | undefined
      payload: {
        incidentId: string
        indicator?: string | undefined
        count?: number | undefined
        networkId?: string | undefined
      }
    }) => ({
      incidentId: event.payload.incidentId,
      indicator: event.payload.indicator,
      count: event.payload.count,
      networkId: event.payload.networkId,
      occurredAt: stixTime(event.occurredAt),
      marking: event.marking,
    })
    const original = events
      .filter((event) => event.type === 'incident.observation')
      .map((event) => view(event as never))
    const back = ofEvents('incident.observation').map((event) => view(event))
    expect(back).toEqual(expect.arrayContaining(original))
    expect(back).toHaveLength(original.length)
  })

  it('advisories: id, title, body, incident, time and marking', () => {
    for (const advisory of picture.advisories.values()) {
      const published = ofEvents('advisory.published').find((event) => event.payload.advisoryId === advisory.advisoryId)
      const payload: Record<string, unknown> = {
        advisoryId: advisory.advisoryId,
        title: advisory.title,
        body: advisory.body,
      }
      if (advisory.incidentId !== undefined) payload.incidentId = advisory.incidentId
      expect(published?.payload).toEqual(payload)
      expect(published?.marking).toEqual(advisory.marking)
      expect(published?.occurredAt).toBe(stixTime(advisory.publishedAt))
    }
  })

  it("registers the importer's own networks again, and only those (A5)", () => {
    const registered = ofEvents('network.registered')
    expect(registered.map((event) => event.payload)).toEqual([
      {
        networkId: 'cert-lv-net',
        name: 'National CERT network of Latvia',
        organisation: 'cert-lv',
        nation: 'LV',
        kind: 'national-cert',
        location: { lat: 56.949, lon: 24.105 },
      },
    ])
    expect(registered[0]!.marking).toEqual({ tlp: 'GREEN', pap: 'GREEN' })
    expect(ofEvents('network.posture_changed').map((event) => event.payload)).toEqual([
      { networkId: 'cert-lv-net', posture: 'elevated', reason: 'worm' },
    ])
    expect(result.used.find((entry) => entry.stixId === stixIds.network('cert-ee-net'))).toBeDefined()
    const links = result.skipped.filter((entry) => entry.reason.includes('only through its commands'))
    expect(links).toHaveLength(3)
  })

  it('folds into the same picture (content, not ownership: the importer reports now)', () => {
    const stored = imported.map((event, index) => ({
      ...event,
      seq: index + 1,
      recordedAt: event.occurredAt,
      marking: event.marking!,
    })) as StoredEvent[]
    const back = fold(initialState, stored)
    const content = (state: State) =>
      [...state.incidents.values()].map((incident) => ({
        incidentId: incident.incidentId,
        title: incident.title,
        severity: incident.severity,
        status: incident.status,
        category: incident.category,
        summary: incident.summary,
        affectedNetworks: incident.affectedNetworks,
        attackSource: incident.attackSource,
        marking: incident.marking,
        observationCount: incident.observationCount,
      }))
    expect(content(back)).toEqual(content(picture))
    expect(
      [...back.advisories.values()].map(({ advisoryId, title, body, incidentId, marking }) => ({
        advisoryId,
        title,
        body,
        incidentId,
        marking,
      })),
    ).toEqual(
      [...picture.advisories.values()].map(({ advisoryId, title, body, incidentId, marking }) => ({
        advisoryId,
        title,
        body,
        incidentId,
        marking,
      })),
    )
  })

  it('is idempotent: importing the same bundle again yields the same event ids', () => {
    const again = importStix(structuredClone(bundle), lv)
    expect(again.events.map((event) => event.id)).toEqual(imported.map((event) => event.id))
    const sighting = ofType('sighting')[0]!
    const created = result.created.find((entry) => entry.stixId === sighting.id)!
    expect(created.eventIds).toEqual([
      uuidv5('97df180a-309e-52f6-b33f-4466f750f334', `${sighting.id}|${String(sighting.modified)}@cert-lv`),
    ])
  })
})

/**
 * A partner's Watchfloor ids are the partner's (`importStix` option `partner`, what a feed passes):
 * every `x_watchfloor_*_id` a bundle carries, and the networks an incident names, are read in the
 * partner's namespace here, so a partner reaches only what imports of the same partner made; the
 * same objects land on the same ids every time; and the events that name a partner's ids are never
 * those of the same objects imported by the organisation itself (docs/sharing.md, "Partner feeds").
 */
import type { Marking } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { importStix } from './stixImport.ts'
import { TLP2_MARKING_IDS } from './stixMarkings.ts'
import { stixBuilders, T1, T2 } from './stixTesting.ts'
import { type StixObject, WATCHFLOOR_STIX_NAMESPACE } from './stixTypes.ts'
import { uuidv5 } from './uuid.ts'

const own = { organisation: 'cert-lv', defaultMarking: { tlp: 'AMBER' } as Marking }
const fromFeed = { ...own, partner: 'feed:partner1' }
const { id, sdo, bundleOf } = stixBuilders({ object_marking_refs: [TLP2_MARKING_IDS.GREEN] })

// what another Watchfloor exports of its own incident INC-LV-1, its network and an advisory
const network = sdo('identity', {
  name: 'Partner gov',
  identity_class: 'system',
  x_watchfloor_network_id: 'NET-LV-1',
  x_watchfloor_organisation: 'cert-lv',
  x_watchfloor_nation: 'LV',
  x_watchfloor_network_kind: 'government',
})
const place = sdo('location', { latitude: 56.9, longitude: 24.1 })
const locatedAt = sdo('relationship', { relationship_type: 'located-at', source_ref: network.id, target_ref: place.id })
const incident = sdo('incident', {
  name: "Partner's own incident 1",
  x_watchfloor_incident_id: 'INC-LV-1',
  x_watchfloor_severity: 'low',
  x_watchfloor_affected_networks: ['NET-LV-1', 'NET-EE-1'],
  x_watchfloor_attack_source: { network_id: 'NET-EE-1' },
})
const affected = sdo('relationship', {
  relationship_type: 'related-to',
  description: 'affected network',
  source_ref: incident.id,
  target_ref: network.id,
})
// a sighting of it by its STIX id, one by the partner's id alone (another page), one of another incident
const sighting = sdo('sighting', {
  sighting_of_ref: incident.id,
  where_sighted_refs: [network.id],
  description: '192.0.2.7',
  count: 3,
})
const byPartnerId = sdo('sighting', {
  sighting_of_ref: id('incident'),
  x_watchfloor_incident_id: 'INC-LV-1',
  description: '192.0.2.8',
})
const elsewhere = sdo('sighting', {
  sighting_of_ref: id('incident'),
  x_watchfloor_incident_id: 'INC-EE-SECRET',
  description: '192.0.2.9',
  count: 500,
})
const report = sdo('report', {
  name: 'Advisory',
  published: T2,
  object_refs: [incident.id],
  x_watchfloor_advisory_id: 'ADV-1',
})
const note = sdo('note', { content: 'About it', object_refs: [id('incident')], x_watchfloor_incident_id: 'INC-LV-1' })
const all = [network, place, locatedAt, incident, affected, sighting, byPartnerId, elsewhere, report, note]

const payloads = (objects: StixObject[], options: typeof own) =>
  importStix(bundleOf(...objects), options).events.map((event) => [event.type, event.payload])

describe("STIX import from a partner: the partner's ids in the partner's namespace", () => {
  it('every Watchfloor id of every object is read as <id>@<partner>', () => {
    expect(payloads(all, fromFeed)).toEqual([
      [
        'network.registered',
        {
          networkId: 'NET-LV-1@feed:partner1',
          name: 'Partner gov',
          organisation: 'cert-lv',
          nation: 'LV',
          kind: 'government',
          location: { lat: 56.9, lon: 24.1 },
        },
      ],
      [
        'incident.reported',
        {
          incidentId: 'INC-LV-1@feed:partner1',
          title: "Partner's own incident 1",
          severity: 'low',
          category: 'imported',
          affectedNetworks: ['NET-LV-1@feed:partner1', 'NET-EE-1@feed:partner1'],
          attackSource: { networkId: 'NET-EE-1@feed:partner1' },
        },
      ],
      [
        'incident.observation',
        { incidentId: 'INC-LV-1@feed:partner1', indicator: '192.0.2.7', networkId: 'NET-LV-1@feed:partner1', count: 3 },
      ],
      ['incident.observation', { incidentId: 'INC-LV-1@feed:partner1', indicator: '192.0.2.8' }],
      ['incident.observation', { incidentId: 'INC-EE-SECRET@feed:partner1', indicator: '192.0.2.9', count: 500 }],
      [
        'advisory.published',
        {
          advisoryId: 'ADV-1@feed:partner1',
          title: 'Advisory',
          body: 'Advisory',
          incidentId: 'INC-LV-1@feed:partner1',
        },
      ],
      [
        'advisory.published',
        {
          advisoryId: `${note.id}@cert-lv`,
          title: 'About it',
          body: 'About it',
          incidentId: 'INC-LV-1@feed:partner1',
        },
      ],
    ])
  })

  it("a caller's own import reads them as this floor's ids, as it always did", () => {
    const ids = payloads(all, own).map(([, payload]) => {
      const p = payload as { incidentId?: string; networkId?: string; advisoryId?: string }
      return p.networkId ?? p.advisoryId ?? p.incidentId
    })
    expect(ids).toEqual([
      'NET-LV-1',
      'INC-LV-1',
      'NET-LV-1',
      'INC-LV-1',
      'INC-EE-SECRET',
      'ADV-1',
      `${note.id}@cert-lv`,
    ])
  })

  it('the same objects again, or on another page, land on the same ids and the same events', () => {
    const first = importStix(bundleOf(...all), fromFeed)
    const again = importStix(bundleOf(...all), fromFeed)
    expect(again.events).toEqual(first.events)
    // the sighting by the partner's id alone, a page later, names the incident the first page made
    const later = importStix(bundleOf(byPartnerId), fromFeed)
    expect(later.events).toEqual(first.events.filter((event) => event.id === later.events[0]!.id))
    expect(later.events[0]!.payload).toMatchObject({ incidentId: 'INC-LV-1@feed:partner1' })
  })

  it("an event naming a partner's ids is never the event of the same object imported by the organisation itself", () => {
    const viaFeed = importStix(bundleOf(...all), fromFeed).events
    const viaPost = importStix(bundleOf(...all), own).events
    expect(viaFeed.map((event) => event.id).filter((eventId) => viaPost.some((e) => e.id === eventId))).toEqual([])
    expect(viaFeed[1]!.id).toBe(uuidv5(WATCHFLOOR_STIX_NAMESPACE, `${incident.id}|${T1}@cert-lv|feed:partner1`))
    // an object naming none is the same event either way (the same content): taken once
    const foreign = sdo('incident', { name: 'No Watchfloor id' })
    const [feedEvent] = importStix(bundleOf(foreign), fromFeed).events
    const [postEvent] = importStix(bundleOf(foreign), own).events
    expect(feedEvent).toEqual(postEvent)
    expect(feedEvent!.payload).toMatchObject({ incidentId: `${foreign.id}@cert-lv` })
  })

  it('an id over 200 characters once namespaced is the UUIDv5 of the id, in the namespace', () => {
    const long = 'L'.repeat(195)
    const [event] = importStix(
      bundleOf(sdo('incident', { name: 'Long', x_watchfloor_incident_id: long })),
      fromFeed,
    ).events
    expect(event!.payload).toMatchObject({
      incidentId: `${uuidv5(WATCHFLOOR_STIX_NAMESPACE, `partner-id:${long}`)}@feed:partner1`,
    })
  })

  it('an id already in the namespace of another partner stays in this one', () => {
    const [event] = importStix(
      bundleOf(sdo('incident', { name: 'Escaping', x_watchfloor_incident_id: 'INC-1@feed:other' })),
      fromFeed,
    ).events
    expect(event!.payload).toMatchObject({ incidentId: 'INC-1@feed:other@feed:partner1' })
  })
})

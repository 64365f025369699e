/**
 * An error the import did not foresee on one object skips that object, saying why, and takes back
 * what of it was done; the rest of the bundle is imported (one object is never a failed bundle).
 * The describing of observables is made to fail here for one value, standing in for any such error.
 */
import type { Marking } from '@watchfloor/protocol'
import { describe, expect, it, vi } from 'vitest'
import { importStix } from './stixImport.ts'
import { TLP2_MARKING_IDS } from './stixMarkings.ts'
import { stixBuilders, T1 } from './stixTesting.ts'
import type { StixObject } from './stixTypes.ts'

vi.mock('./stixObservables.ts', async (original) => {
  const actual = await original<typeof import('./stixObservables.ts')>()
  return {
    ...actual,
    describeObservable: (sco: Readonly<Record<string, unknown>>) => {
      if (sco.value === '203.0.113.66') throw new TypeError("Cannot read properties of null (reading 'type')")
      return actual.describeObservable(sco)
    },
  }
})

// the import's own bookkeeping, outside any one object's work, failing for one version
vi.mock('./stixTypes.ts', async (original) => {
  const actual = await original<typeof import('./stixTypes.ts')>()
  return {
    ...actual,
    stixTime: (iso: string) => {
      if (iso === BROKEN_TIME) throw new Error('not a time')
      return actual.stixTime(iso)
    },
  }
})
const BROKEN_TIME = '2026-11-26T07:07:07.000Z'

const options = { organisation: 'cert-lv', defaultMarking: { tlp: 'AMBER' } as Marking }
const { id, sdo, bundleOf } = stixBuilders({ object_marking_refs: [TLP2_MARKING_IDS.GREEN] })
const ip = (value: string) => ({ type: 'ipv4-addr', spec_version: '2.1', id: id('ipv4-addr'), value })

describe('STIX import: an unforeseen error on one object', () => {
  it('skips that object, saying why, takes back what it did, and imports the rest', () => {
    const target = sdo('incident', { name: 'Worm', x_watchfloor_incident_id: 'inc-1' })
    const fine = ip('192.0.2.1')
    const failing = ip('203.0.113.66')
    const observed = (sco: StixObject) =>
      sdo('observed-data', { first_observed: T1, last_observed: T1, number_observed: 1, object_refs: [sco.id] })
    const good = observed(fine)
    const bad = observed(failing)
    // the sighting that fails had already marked its observables used, and would fold its data in
    const failingSighting = sdo('sighting', { sighting_of_ref: target.id, observed_data_refs: [bad.id] })
    const goodSighting = sdo('sighting', { sighting_of_ref: target.id, observed_data_refs: [good.id] })
    const result = importStix(bundleOf(target, fine, failing, good, bad, failingSighting, goodSighting), options)
    expect(result.errors).toEqual([])
    expect(result.events.map((event) => [event.type, event.payload])).toEqual([
      ['incident.reported', expect.objectContaining({ incidentId: 'inc-1' })],
      ['incident.observation', { incidentId: 'inc-1', indicator: '192.0.2.1' }],
    ])
    expect(result.created.map((entry) => entry.stixId)).toEqual([target.id, goodSighting.id])
    // the failing sighting and, on its own, its data (described the same way): skipped, saying why
    const why = "could not be imported: Cannot read properties of null (reading 'type')"
    expect(result.skipped).toEqual([
      { stixId: failingSighting.id, type: 'sighting', reason: why },
      {
        stixId: bad.id,
        type: 'observed-data',
        reason: 'related to no incident (no sighting, relationship or x_watchfloor_incident_id)',
      },
      // what the failing one had used is taken back: left out, and why
      { stixId: failing.id, type: 'ipv4-addr', reason: 'part of no imported observation' },
    ])
    expect(result.used.map((entry) => entry.stixId)).toEqual([fine.id, good.id])
  })
})

describe('STIX import: an unforeseen error outside any one object', () => {
  it('imports nothing of the bundle, reports every object skipped saying why, and does not throw', () => {
    const fine = sdo('incident', { name: 'Fine' })
    // two versions of one object: comparing them reads their times before any object's work
    const broken = sdo('incident', { name: 'Broken', created: BROKEN_TIME, modified: BROKEN_TIME })
    const result = importStix(bundleOf(fine, broken, { ...broken, name: 'Broken again' }), options)
    expect(result.errors).toEqual([])
    expect(result.events).toEqual([])
    const reason = 'the import failed, so nothing of this bundle was imported: not a time'
    expect(result.skipped).toEqual([
      { stixId: fine.id, type: 'incident', reason },
      { stixId: broken.id, type: 'incident', reason },
      { stixId: broken.id, type: 'incident', reason },
    ])
  })
})

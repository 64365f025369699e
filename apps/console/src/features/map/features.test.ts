import type { AdvisoryState, IncidentState, NetworkState } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import {
  type AnyFeature,
  assignSlots,
  attackArcs,
  attackDeriver,
  diffByIdentity,
  diffFeatures,
  type FeatureMap,
  freshIncidents,
  incidentDeriver,
  incidentFeature,
  isEmptyDiff,
  latestAttacks,
  networkDeriver,
  networkFeature,
  SLOT_OFFSETS,
  SlotAssigner,
  sharingArcs,
  sharingAudience,
  shownAdvisories,
} from './features.ts'

const net = (
  networkId: string,
  nation: string,
  lon: number,
  lat: number,
  extra: Partial<NetworkState> = {},
): NetworkState => ({
  networkId,
  name: `Network ${networkId}`,
  organisation: `cert-${nation.toLowerCase()}`,
  nation,
  kind: 'national-cert',
  location: { lon, lat },
  posture: 'normal',
  registeredAt: '2030-01-01T00:00:00.000Z',
  lastReportAt: '2030-01-01T00:00:00.000Z',
  lastSeq: 1,
  marking: { tlp: 'GREEN' },
  ...extra,
})

const inc = (incidentId: string, affectedNetworks: string[], extra: Partial<IncidentState> = {}): IncidentState => ({
  incidentId,
  title: `Incident ${incidentId}`,
  severity: 'high',
  status: 'new',
  category: 'malware',
  affectedNetworks,
  organisation: 'cert-ee',
  marking: { tlp: 'GREEN' },
  contentMarking: { tlp: 'GREEN' },
  reportedAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:01:00.000Z',
  version: 1,
  lastSeq: 10,
  observationCount: 0,
  observationReports: 0,
  ...extra,
})

const adv = (advisoryId: string, organisation: string, extra: Partial<AdvisoryState> = {}): AdvisoryState => ({
  advisoryId,
  title: `Advisory ${advisoryId}`,
  body: '',
  organisation,
  marking: { tlp: 'GREEN' },
  publishedAt: '2030-01-01T00:02:00.000Z',
  seq: 20,
  ...extra,
})

const ee = net('ee-net', 'EE', 24.754, 59.437)
const lv = net('lv-net', 'LV', 24.105, 56.949)
const fr = net('fr-net', 'FR', 2.352, 48.857)
const networks = new Map([ee, lv, fr].map((n) => [n.networkId, n]))

describe('incident features', () => {
  it('puts one marker per incident at its first known affected network, with the test properties', () => {
    const feature = incidentFeature(inc('i1', ['unknown', 'lv-net', 'ee-net'], { severity: 'critical' }), networks)!
    expect(feature.geometry.coordinates).toEqual([24.105, 56.949])
    expect(feature.properties).toMatchObject({
      fid: 'i1',
      incidentId: 'i1',
      severity: 'critical',
      sevRank: 4,
      title: 'Incident i1',
      tlp: 'GREEN',
      networkId: 'lv-net',
      slot: 0,
    })
    expect(incidentFeature(inc('i2', ['nowhere']), networks)).toBeUndefined()
  })

  it('fans incidents of one network out, worst first', () => {
    const slots = assignSlots(
      [
        inc('a', ['ee-net'], { severity: 'low' }),
        inc('b', ['ee-net'], { severity: 'critical' }),
        inc('c', ['ee-net'], { severity: 'high' }),
        inc('d', ['fr-net']),
      ],
      networks,
    )
    expect(slots.get('b')).toBe(0)
    expect(slots.get('c')).toBe(1)
    expect(slots.get('a')).toBe(2)
    expect(slots.get('d')).toBe(0)
    expect(SLOT_OFFSETS[0]).toEqual([0, 0])
    expect(SLOT_OFFSETS).toHaveLength(1 + 6 + 12 + 18)
  })
})

describe('slots kept up to date', () => {
  /** Every step: the assigner's slots equal a from-scratch `assignSlots`. */
  const same = (assigner: SlotAssigner, list: IncidentState[], map: ReadonlyMap<string, NetworkState> = networks) =>
    expect(new Map(assigner.assign(list, map))).toEqual(assignSlots(list, map))

  it('follows arrivals, departures, severity changes, moves and observations', () => {
    const assigner = new SlotAssigner()
    let list = Array.from({ length: 50 }, (_, i) =>
      inc(`i${i}`, [i % 3 ? 'ee-net' : 'lv-net'], {
        severity: (['low', 'medium', 'high', 'critical'] as const)[i % 4]!,
        reportedAt: `2030-01-01T00:${String(i % 60).padStart(2, '0')}:00.000Z`,
      }),
    )
    same(assigner, list)
    const slotOf = (id: string) => assigner.assign(list, networks).get(id)
    // an observation: a new object, same order
    list = list.map((i) =>
      i.incidentId === 'i7' ? { ...i, observationCount: 3, updatedAt: '2030-01-02T00:00:00Z' } : i,
    )
    same(assigner, list)
    // i5 (low on ee-net) escalates to critical: it moves to the front, the others shift
    expect(slotOf('i5')).not.toBe(0)
    list = list.map((i) => (i.incidentId === 'i5' ? { ...i, severity: 'critical' as const } : i))
    same(assigner, list)
    expect(slotOf('i5')).toBe(0)
    // the worst one leaves the list (closed, filtered out)
    list = list.filter((i) => i.incidentId !== 'i5')
    same(assigner, list)
    // one moves network, one loses every known network, one arrives
    list = list.map((i) =>
      i.incidentId === 'i4'
        ? { ...i, affectedNetworks: ['fr-net'] }
        : i.incidentId === 'i8'
          ? { ...i, affectedNetworks: ['nowhere'] }
          : i,
    )
    list.push(inc('new', ['lv-net'], { severity: 'critical', reportedAt: '2029-01-01T00:00:00.000Z' }))
    same(assigner, list)
    expect(slotOf('i4')).toBe(0)
    expect(assigner.assign(list, networks).has('i8')).toBe(false)
    // a network the map did not know yet: incidents on it get slots
    const withNowhere = new Map([...networks, ['nowhere', net('nowhere', 'NO', 10, 60)]])
    same(assigner, list, withNowhere)
    expect(assigner.assign(list, withNowhere).get('i8')).toBe(0)
    same(assigner, [])
  })
})

describe('network features', () => {
  it('carries posture and identity', () => {
    const f = networkFeature({ ...ee, posture: 'compromised' })
    expect(f.properties).toMatchObject({
      fid: 'ee-net',
      posture: 'compromised',
      postureRank: 3,
      name: 'Network ee-net',
    })
    expect(f.geometry.coordinates).toEqual([24.754, 59.437])
  })
})

describe('arcs', () => {
  it('draws an attack arc from the source to each affected network', () => {
    const i = inc('i1', ['ee-net', 'lv-net', 'ee-net'], { attackSource: { location: { lon: 37.6, lat: 55.75 } } })
    const arcs = attackArcs(i, networks)
    expect(arcs.map((a) => a.properties.fid)).toEqual(['attack:i1:ee-net', 'attack:i1:lv-net'])
    expect(arcs[0]!.geometry.coordinates[0]).toEqual([37.6, 55.75])
    expect(arcs[0]!.geometry.coordinates.at(-1)).toEqual([24.754, 59.437])
    // an attack path is as old as its report
    expect(arcs[0]!.properties.t).toBe(Date.parse('2030-01-01T00:00:00.000Z'))
    // a busy incident's observations do not resend its arcs, however long it stays busy
    const busy = attackArcs({ ...i, updatedAt: '2030-01-01T00:41:12.000Z' }, networks)
    expect(busy[0]!.properties.t).toBe(arcs[0]!.properties.t)
    // from a source network
    expect(attackArcs(inc('i2', ['ee-net'], { attackSource: { networkId: 'fr-net' } }), networks)).toHaveLength(1)
    // unknown source: nothing
    expect(attackArcs(inc('i3', ['ee-net']), networks)).toEqual([])
    expect(attackArcs(inc('i4', ['ee-net'], { attackSource: { networkId: 'unknown' } }), networks)).toEqual([])
  })

  it('shares an advisory with its audience', () => {
    // GREEN without releasableTo: everyone but the publisher
    expect(sharingAudience(adv('a1', 'cert-ee'), networks).map((n) => n.networkId)).toEqual(['lv-net', 'fr-net'])
    // releasableTo narrows, by organisation or nation
    expect(
      sharingAudience(adv('a2', 'cert-ee', { marking: { tlp: 'AMBER', releasableTo: ['FR'] } }), networks).map(
        (n) => n.networkId,
      ),
    ).toEqual(['fr-net'])
    expect(
      sharingAudience(adv('a3', 'cert-ee', { marking: { tlp: 'GREEN', releasableTo: ['cert-lv'] } }), networks).map(
        (n) => n.networkId,
      ),
    ).toEqual(['lv-net'])
    // AMBER without releasableTo: the map cannot tell who got it
    expect(sharingAudience(adv('a4', 'cert-ee', { marking: { tlp: 'AMBER' } }), networks)).toEqual([])
    // bounded
    const many = new Map(Array.from({ length: 100 }, (_, i) => [`n${i}`, net(`n${i}`, `X${i}`, i, 10)]))
    expect(sharingAudience(adv('a5', 'cert-zz'), many)).toHaveLength(40)
    const arcs = sharingArcs(adv('a1', 'cert-ee'), networks)
    expect(arcs.map((a) => a.properties.fid)).toEqual(['sharing:a1:lv-net', 'sharing:a1:fr-net'])
    expect(arcs[0]!.geometry.coordinates[0]).toEqual([24.754, 59.437])
  })

  it('shows the latest advisories, within the brushed range and TLP filter', () => {
    const advisories = new Map(
      [
        adv('a1', 'cert-ee', { seq: 1, publishedAt: '2030-01-01T00:01:00.000Z' }),
        adv('a2', 'cert-ee', { seq: 2, publishedAt: '2030-01-01T00:02:00.000Z', marking: { tlp: 'AMBER' } }),
        adv('a3', 'cert-ee', { seq: 3, publishedAt: '2030-01-01T00:03:00.000Z' }),
      ].map((a) => [a.advisoryId, a]),
    )
    expect(shownAdvisories(advisories).map((a) => a.advisoryId)).toEqual(['a3', 'a2', 'a1'])
    expect(shownAdvisories(advisories, {}, 1).map((a) => a.advisoryId)).toEqual(['a3'])
    expect(shownAdvisories(advisories, { tlps: ['GREEN'] }).map((a) => a.advisoryId)).toEqual(['a3', 'a1'])
    const range = { from: Date.parse('2030-01-01T00:01:30.000Z'), to: Date.parse('2030-01-01T00:02:30.000Z') }
    expect(shownAdvisories(advisories, { range }).map((a) => a.advisoryId)).toEqual(['a2'])
  })
})

describe('diffs', () => {
  it('diffs collections by identity', () => {
    const a = inc('a', ['ee-net'])
    const b = inc('b', ['ee-net'])
    const b2 = { ...b, status: 'triaged' as const }
    const c = inc('c', ['ee-net'])
    const prev = new Map([
      ['a', a],
      ['b', b],
    ])
    const next = new Map([
      ['b', b2],
      ['c', c],
    ])
    const diff = diffByIdentity(prev, next)
    expect(diff.added).toEqual([c])
    expect(diff.changed).toEqual([{ id: 'b', previous: b, next: b2 }])
    expect(diff.removed).toEqual(['a'])
    expect(diffByIdentity(prev, new Map(prev))).toEqual({ added: [], changed: [], removed: [] })
  })

  it('sends only changed features, and only their changed properties', () => {
    let slots = new Map<string, number>()
    const deriver = incidentDeriver(
      () => networks,
      () => slots,
    )
    const a = inc('a', ['ee-net'])
    const b = inc('b', ['lv-net'])
    const first = deriver.derive([
      ['a', a],
      ['b', b],
    ])
    const firstDiff = diffFeatures(new Map(), first)
    expect(firstDiff.add.map((f) => f.properties.fid)).toEqual(['a', 'b'])
    expect(firstDiff.update).toEqual([])
    expect(firstDiff.remove).toEqual([])

    // nothing changed: same feature objects, empty diff
    const same = deriver.derive([
      ['a', a],
      ['b', b],
    ])
    expect(same.get('a')).toBe(first.get('a'))
    expect(isEmptyDiff(diffFeatures(first, same))).toBe(true)

    // b escalates, c arrives, a leaves
    const b2 = { ...b, severity: 'critical' as const, lastSeq: 11 }
    const c = inc('c', ['fr-net'])
    slots = new Map()
    const next = deriver.derive([
      ['b', b2],
      ['c', c],
    ])
    const diff = diffFeatures(first, next)
    expect(diff.add.map((f) => f.properties.fid)).toEqual(['c'])
    expect(diff.remove).toEqual(['a'])
    expect(diff.update).toEqual([
      {
        id: 'b',
        addOrUpdateProperties: [
          { key: 'severity', value: 'critical' },
          { key: 'sevRank', value: 4 },
        ],
      },
    ])
  })

  it('moves a marker when its network moves, without rebuilding unchanged incidents', () => {
    let map: ReadonlyMap<string, NetworkState> = networks
    const deriver = incidentDeriver(
      () => map,
      () => new Map(),
    )
    const a = inc('a', ['ee-net'])
    const b = inc('b', ['lv-net'])
    const first = deriver.derive([
      ['a', a],
      ['b', b],
    ])
    map = new Map([...networks, ['ee-net', { ...ee, location: { lon: 25, lat: 59 } }]])
    const next = deriver.derive([
      ['a', a],
      ['b', b],
    ])
    expect(next.get('b')).toBe(first.get('b'))
    const diff = diffFeatures(first, next)
    expect(diff.update).toEqual([{ id: 'a', newGeometry: { type: 'Point', coordinates: [25, 59] } }])
  })

  it('moves a marker to its new slot, the incident unchanged', () => {
    let slots = new Map([['a', 0]])
    const deriver = incidentDeriver(
      () => networks,
      () => slots,
    )
    const a = inc('a', ['ee-net'])
    const first = deriver.derive([['a', a]])
    expect(deriver.derive([['a', a]]).get('a')).toBe(first.get('a'))
    slots = new Map([['a', 2]])
    const next = deriver.derive([['a', a]])
    expect(diffFeatures(first, next).update).toEqual([{ id: 'a', addOrUpdateProperties: [{ key: 'slot', value: 2 }] }])
  })

  it('leaves networks whose object is unchanged alone, and sends a posture change as a property update', () => {
    const deriver = networkDeriver()
    const first = deriver.derive(networks)
    const lv2 = { ...lv, posture: 'degraded' as const }
    const next = deriver.derive(new Map([...networks, ['lv-net', lv2]]))
    expect(next.get('ee-net')).toBe(first.get('ee-net'))
    const diff = diffFeatures(first, next)
    expect(diff.add).toEqual([])
    expect(diff.update).toEqual([
      {
        id: 'lv-net',
        addOrUpdateProperties: [
          { key: 'posture', value: 'degraded' },
          { key: 'postureRank', value: 2 },
        ],
      },
    ])
  })

  it('sends nothing when an object changed but its features did not', () => {
    const deriver = attackDeriver(() => networks)
    const a = inc('a', ['ee-net'], { attackSource: { location: { lon: 37.6, lat: 55.75 } } })
    const first: FeatureMap<AnyFeature> = deriver.derive([['a', a]])
    const next = deriver.derive([['a', { ...a, observationCount: 5 }]])
    expect(next.get('attack:a:ee-net')).not.toBe(first.get('attack:a:ee-net'))
    expect(isEmptyDiff(diffFeatures(first, next))).toBe(true)
  })

  it('finds incidents with events newer than a seq (they pulse)', () => {
    const list = [inc('a', [], { lastSeq: 5 }), inc('b', [], { lastSeq: 9 })]
    expect(freshIncidents(list, 5).map((i) => i.incidentId)).toEqual(['b'])
    expect(freshIncidents(list, 9)).toEqual([])
  })

  it('pulses for arrivals and updates, not for observations alone', () => {
    const a = inc('a', ['ee-net'], { lastSeq: 5, observationCount: 3 })
    const observed = { ...a, lastSeq: 6, observationCount: 4 }
    const escalated = { ...observed, lastSeq: 7, severity: 'critical' as const }
    const summarised = { ...a, lastSeq: 8, summary: 'more' }
    const before = new Map([['a', a]])
    expect(freshIncidents([observed], 5, before)).toEqual([])
    expect(freshIncidents([escalated], 5, before)).toEqual([escalated])
    expect(freshIncidents([summarised], 5, before)).toEqual([summarised])
    expect(freshIncidents([a], 4, new Map())).toEqual([a])
    expect(freshIncidents([a], 4, before)).toEqual([])
  })
})

describe('attack paths drawn', () => {
  it('keeps the most recently reported incidents with a known attack source, at most the limit', () => {
    const at = (minute: number) => `2030-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`
    const source = { attackSource: { location: { lon: 37.6, lat: 55.75 } } }
    const incidents = [
      inc('old', ['ee-net'], { ...source, reportedAt: at(1) }),
      inc('no-source', ['ee-net'], { reportedAt: at(9) }),
      inc('new', ['ee-net'], { ...source, reportedAt: at(5) }),
      inc('newest', ['ee-net'], { ...source, reportedAt: at(7) }),
    ]
    expect(latestAttacks(incidents, 2).map((i) => i.incidentId)).toEqual(['newest', 'new'])
    expect(latestAttacks(incidents, 10).map((i) => i.incidentId)).toEqual(['old', 'new', 'newest'])
  })
})

import { canSee, fold, initialState, makeEvent } from '@watchfloor/core'
import type { Marking, Viewer } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { exportMispEvent, mispEventUuid } from './mispExport.ts'
import { mispFeed, mispFeedHashes, mispFeedManifest, parseMispFeedPath } from './mispFeed.ts'
import { md5Hex } from './mispHash.ts'
import { importMisp } from './mispImport.ts'

const events = [
  makeEvent(
    1,
    'incident.reported',
    { incidentId: 'inc-a', title: 'DDoS on e-services', severity: 'medium', category: 'ddos', affectedNetworks: [] },
    { organisation: 'cert-ee', marking: { tlp: 'GREEN' } },
  ),
  makeEvent(2, 'incident.observation', { incidentId: 'inc-a', indicator: '198.51.100.7', count: 900 }),
  makeEvent(
    3,
    'incident.reported',
    { incidentId: 'inc-red', title: 'Insider', severity: 'high', category: 'insider', affectedNetworks: [] },
    { organisation: 'cert-ee', marking: { tlp: 'RED', recipients: ['ee-ciso'] }, actor: 'ee-ciso' },
  ),
  makeEvent(
    4,
    'incident.reported',
    { incidentId: 'inc-b', title: 'Phishing kit', severity: 'low', category: 'phishing', affectedNetworks: [] },
    { organisation: 'cert-lv', marking: { tlp: 'AMBER', releasableTo: ['cert-ee'] } },
  ),
  makeEvent(5, 'incident.observation', { incidentId: 'inc-b', indicator: 'https://kit.example/a' }),
  makeEvent(6, 'incident.observation', { incidentId: 'inc-b', indicator: 'login-kit.example' }),
  makeEvent(
    8,
    'incident.observation',
    { incidentId: 'inc-a', indicator: 'botnet-c2.example' },
    { organisation: 'cert-ee', marking: { tlp: 'AMBER+STRICT' } },
  ),
  makeEvent(
    7,
    'network.registered',
    {
      networkId: 'ee-gov',
      name: 'EE gov',
      organisation: 'cert-ee',
      nation: 'EE',
      kind: 'government',
      location: { lat: 59.4, lon: 24.7 },
    },
    { organisation: 'cert-ee' },
  ),
]
const picture = fold(initialState, events)
const directory = (organisation: string) => ({ name: organisation.toUpperCase() })

describe('the MISP feed', () => {
  it('manifest.json: one entry per event with the fields MISP decides on', () => {
    const exported = [exportMispEvent('inc-a', events, picture, directory)]
    const e = exported[0]!.Event
    expect(mispFeedManifest(exported)).toEqual({
      [e.uuid]: {
        info: 'DDoS on e-services',
        date: e.date,
        threat_level_id: '2',
        analysis: '0',
        timestamp: e.timestamp,
        Orgc: e.Orgc,
        Tag: e.Tag,
      },
    })
  })

  it('hashes.csv: md5 of every value with its event uuid (composite values split)', () => {
    const exported = [exportMispEvent('inc-b', events, picture)]
    const uuid = mispEventUuid('inc-b')
    // md5 by Python's hashlib
    const md5 = (value: string) =>
      ({
        'https://kit.example/a': 'd20bfbaee7d9fce02b456b85439a0586',
        'login-kit.example': '4200a06fd6d519d732e3a38a1198e9f2',
        '192.0.2.1': 'd0f88d6c87767262ba8e93d6acccd784',
        '443': '13f3cf8c531952d72e5847c4183e6910',
      })[value]
    expect(mispFeedHashes(exported)).toBe(
      `${md5('https://kit.example/a')},${uuid}\n${md5('login-kit.example')},${uuid}\n`,
    )
    const composite = structuredClone(exported)
    composite[0]!.Event.Attribute = [
      { ...composite[0]!.Event.Attribute[0]!, type: 'ip-dst|port', value: '192.0.2.1|443' },
    ]
    expect(mispFeedHashes(composite)).toBe(`${md5('192.0.2.1')},${uuid}\n${md5('443')},${uuid}\n`)
    expect(mispFeedHashes([])).toBe('')
  })

  it('mispFeed: every incident of the picture but RED ones, each with its own observations', () => {
    const feed = mispFeed(picture, events, { directory })
    expect(Object.keys(feed.manifest).sort()).toEqual([mispEventUuid('inc-a'), mispEventUuid('inc-b')].sort())
    expect(feed.events.get(mispEventUuid('inc-a'))?.Event.Attribute.map((a) => a.value)).toEqual(['198.51.100.7'])
    expect(feed.events.get(mispEventUuid('inc-b'))?.Event.Attribute.map((a) => a.value)).toEqual([
      'https://kit.example/a',
      'login-kit.example',
    ])
    expect(feed.events.get(mispEventUuid('inc-red'))).toBeUndefined()
    // the AMBER+STRICT observation of the GREEN incident is left out unless asked
    const kept = mispFeed(picture, events, { keepStricterObservations: true })
    expect(kept.events.get(mispEventUuid('inc-a'))?.Event.Attribute.map((a) => [a.value, a.distribution])).toEqual([
      ['198.51.100.7', '5'],
      ['botnet-c2.example', '0'],
    ])
    expect(feed.hashes.trim().split('\n')).toHaveLength(3)
    expect(mispFeed(picture, events, { include: (i) => i.organisation === 'cert-lv' }).events.size).toBe(1)
  })

  it('an event’s timestamp is that of what it says under its own marking: a stricter, a pre-report or another’s observation, a non-owner’s update and the sender’s clock do not move it', () => {
    const at = (iso: string) => ({ occurredAt: iso })
    const recorded = <E extends { recordedAt: string }>(event: E, iso: string): E => ({ ...event, recordedAt: iso })
    const green = { organisation: 'cert-ee', marking: { tlp: 'GREEN' as const } }
    const log = [
      // seen before the report: no observation of the picture's (R3)
      recorded(
        makeEvent(
          1,
          'incident.observation',
          { incidentId: 'inc-t', indicator: '192.0.2.1' },
          { ...green, ...at('2026-11-26T07:00:00.000Z') },
        ),
        '2026-11-26T07:00:00.000Z',
      ),
      // its sender's clock a day ahead: recorded at 08:00
      recorded(
        makeEvent(
          2,
          'incident.reported',
          { incidentId: 'inc-t', title: 'Timed', severity: 'low', category: 'ddos', affectedNetworks: [] },
          { ...green, ...at('2026-11-27T08:00:00.000Z') },
        ),
        '2026-11-26T08:00:00.000Z',
      ),
      recorded(
        makeEvent(
          3,
          'incident.observation',
          { incidentId: 'inc-t', indicator: '198.51.100.9' },
          { ...green, ...at('2026-11-26T09:10:00.000Z') },
        ),
        '2026-11-26T09:10:00.000Z',
      ),
      recorded(
        makeEvent(
          4,
          'incident.observation',
          { incidentId: 'inc-t', indicator: 'c2.example' },
          { organisation: 'cert-ee', marking: { tlp: 'AMBER+STRICT' }, ...at('2026-11-26T11:00:00.000Z') },
        ),
        '2026-11-26T11:00:00.000Z',
      ),
      // another organisation's update shapes nothing (R12)
      recorded(
        makeEvent(
          5,
          'incident.updated',
          { incidentId: 'inc-t', severity: 'high' },
          { organisation: 'cert-lv', marking: { tlp: 'GREEN' }, ...at('2026-11-26T12:00:00.000Z') },
        ),
        '2026-11-26T12:00:00.000Z',
      ),
    ]
    const picture = fold(initialState, log)
    const feed = mispFeed(picture, log)
    const event = feed.events.get(mispEventUuid('inc-t'))!.Event
    const at0910 = String(Date.parse('2026-11-26T09:10:00.000Z') / 1000)
    expect(event.Attribute.map((a) => a.value)).toEqual(['198.51.100.9'])
    expect(event.timestamp).toBe(at0910)
    expect(feed.manifest[mispEventUuid('inc-t')]!.timestamp).toBe(at0910)
    // the owner's update, recorded later, moves it
    const updated = [
      ...log,
      recorded(
        makeEvent(
          6,
          'incident.updated',
          { incidentId: 'inc-t', severity: 'critical' },
          { ...green, ...at('2026-11-26T13:00:00.000Z') },
        ),
        '2026-11-26T13:00:00.000Z',
      ),
    ]
    expect(exportMispEvent('inc-t', updated, fold(initialState, updated)).Event.timestamp).toBe(
      String(Date.parse('2026-11-26T13:00:00.000Z') / 1000),
    )
  })

  it('a MISP feed served by Watchfloor imports back (manifest + files)', () => {
    const feed = mispFeed(picture, events, { directory })
    const result = importMisp(
      { manifest: feed.manifest, events: Object.fromEntries(feed.events) },
      {
        defaultMarking: { tlp: 'AMBER' },
        organisation: 'cert-ee',
        knownOrganisation: (name) => name.toLowerCase(),
      },
    )
    expect(result.errors).toEqual([])
    expect(result.skipped).toEqual([])
    expect(result.created.map((c) => [c.kind, c.uuid]).sort()).toEqual(
      [
        ['incident', mispEventUuid('inc-a')],
        ['incident', mispEventUuid('inc-b')],
      ].sort(),
    )
    const lv = result.events.find((e) => e.type === 'incident.reported' && e.source.organisation === 'cert-lv')
    expect(lv?.marking).toEqual({ tlp: 'AMBER', releasableTo: ['cert-ee'] })
  })

  it('parseMispFeedPath: manifest.json, hashes.csv, <uuid>.json; a doubled slash from a trailing-slash URL is fine', () => {
    const uuid = mispEventUuid('inc-a')
    expect(parseMispFeedPath('/manifest.json')).toEqual({ kind: 'manifest' })
    expect(parseMispFeedPath('//manifest.json')).toEqual({ kind: 'manifest' })
    expect(parseMispFeedPath('manifest.json?x=1')).toEqual({ kind: 'manifest' })
    expect(parseMispFeedPath('/hashes.csv')).toEqual({ kind: 'hashes' })
    expect(parseMispFeedPath(`/${uuid.toUpperCase()}.json`)).toEqual({ kind: 'event', uuid })
    expect(parseMispFeedPath('/')).toBeUndefined()
    expect(parseMispFeedPath('/a/manifest.json')).toBeUndefined()
    expect(parseMispFeedPath('/not-a-uuid.json')).toBeUndefined()
    expect(parseMispFeedPath('/../manifest.json')).toBeUndefined()
  })

  describe('markings as core combines them [V4, V6]: the feed never serves an attribute wider than its observations', () => {
    const reported = (incidentId: string, marking: Marking) =>
      makeEvent(
        1,
        'incident.reported',
        { incidentId, title: `Title of ${incidentId}`, severity: 'low', category: 'scanning', affectedNetworks: [] },
        { organisation: 'cert-ee', marking },
      )
    const observed = (seq: number, incidentId: string, indicator: string, marking: Marking) =>
      makeEvent(seq, 'incident.observation', { incidentId, indicator }, { organisation: 'cert-ee', marking })
    const lv: Viewer = { organisation: 'cert-lv', nation: 'LV', roles: ['analyst'], userId: 'lv-analyst' }

    it('an incident releasable to cert-lv: its AMBER observation naming no one is left out of the event and hashes.csv, and no re-import gives it to cert-lv', () => {
      const log = [
        reported('inc-m2', { tlp: 'AMBER', releasableTo: ['cert-lv'] }),
        observed(2, 'inc-m2', '192.0.2.77', { tlp: 'AMBER' }),
        observed(3, 'inc-m2', '192.0.2.78', { tlp: 'AMBER', releasableTo: ['cert-lv'] }),
      ]
      const feed = mispFeed(fold(initialState, log), log)
      const uuid = mispEventUuid('inc-m2')
      expect(feed.events.get(uuid)!.Event.Attribute.map((a) => [a.value, a.distribution])).toEqual([
        ['192.0.2.78', '5'],
      ])
      expect(feed.hashes).not.toContain(md5Hex('192.0.2.77'))
      expect(feed.hashes).toContain(md5Hex('192.0.2.78'))
      // asked to keep it, it has its own distribution and tags, naming no one
      const kept = mispFeed(fold(initialState, log), log, { keepStricterObservations: true })
      const strict = kept.events.get(uuid)!.Event.Attribute.find((a) => a.value === '192.0.2.77')!
      expect([strict.distribution, strict.Tag?.map((t) => t.name)]).toEqual(['0', ['tlp:amber']])
      // either, imported back by cert-ee, reaches cert-lv only where cert-lv saw it
      for (const served of [feed, kept]) {
        const result = importMisp(
          { manifest: served.manifest, events: Object.fromEntries(served.events) },
          { defaultMarking: { tlp: 'AMBER' }, organisation: 'cert-ee', knownOrganisation: (name) => name },
        )
        expect(result.errors).toEqual([])
        const reaching = result.events
          .filter((e) => e.type === 'incident.observation')
          .filter((e) => canSee(lv, { source: e.source, marking: e.marking! }))
          .map((e) => (e.payload as { indicator: string }).indicator)
        expect(reaching).toEqual(['192.0.2.78'])
      }
    })

    it('an incident releasable to nobody: distribution 0 and watchfloor:releasable-to-none in the event and the manifest', () => {
      const log = [
        reported('inc-m3', { tlp: 'GREEN', releasableTo: ['cert-lv'] }),
        makeEvent(
          2,
          'incident.updated',
          { incidentId: 'inc-m3', severity: 'high' },
          { organisation: 'cert-ee', marking: { tlp: 'GREEN', releasableTo: ['cert-lt'] } },
        ),
        observed(3, 'inc-m3', '203.0.113.5', { tlp: 'GREEN', releasableTo: ['cert-lv'] }),
      ]
      const feed = mispFeed(fold(initialState, log), log)
      const uuid = mispEventUuid('inc-m3')
      const event = feed.events.get(uuid)!.Event
      expect(event.distribution).toBe('0')
      expect(event.Tag.map((t) => t.name)).toContain('watchfloor:releasable-to-none')
      expect(feed.manifest[uuid]!.Tag.map((t) => t.name)).toEqual(
        expect.arrayContaining(['tlp:green', 'watchfloor:releasable-to-none']),
      )
      expect(
        feed.manifest[uuid]!.Tag.map((t) => t.name).filter((n) => n.startsWith('watchfloor:releasable-to=')),
      ).toEqual([])
      const result = importMisp(
        { manifest: feed.manifest, events: Object.fromEntries(feed.events) },
        { defaultMarking: { tlp: 'AMBER' }, organisation: 'cert-ee', knownOrganisation: (name) => name },
      )
      expect(result.events.map((e) => e.marking)).toEqual([
        { tlp: 'GREEN', releasableTo: [] },
        { tlp: 'GREEN', releasableTo: [] },
      ])
      expect(result.events.some((e) => canSee(lv, { source: e.source, marking: e.marking! }))).toBe(false)
    })
  })
})

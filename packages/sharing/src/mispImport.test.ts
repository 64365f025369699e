import { canSee, fold, initialState } from '@watchfloor/core'
import { EventInput, type Marking, type StoredEvent, type Viewer } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import certEePhishing from './misp-fixtures/cert-ee-phishing.json'
import feedBlogPost from './misp-fixtures/feed/0025f059-9b81-4f3e-9349-6c9482d2fb04.json'
import feedRansomware from './misp-fixtures/feed/3244a0d6-9fba-4bff-8667-5c800872e277.json'
import feedManifest from './misp-fixtures/feed/manifest.json'
import restSearchResponse from './misp-fixtures/rest-search-response.json'
import {
  importMisp,
  MISP_IMPORT_LIMITS,
  type MispImportOptions,
  type MispImportResult,
  mispCategory,
  mispIncidentId,
  mispKind,
  mispSeverity,
} from './mispImport.ts'

// ---------------------------------------------------------------------------------------------
// Helpers

const FIXTURES: Record<string, unknown> = {
  'cert-ee-phishing.json': certEePhishing,
  'rest-search-response.json': restSearchResponse,
  'feed/manifest.json': feedManifest,
  'feed/0025f059-9b81-4f3e-9349-6c9482d2fb04.json': feedBlogPost,
  'feed/3244a0d6-9fba-4bff-8667-5c800872e277.json': feedRansomware,
}

/** A fresh copy of a fixture under misp-fixtures/. */
const fixture = (path: string): unknown => structuredClone(FIXTURES[path])

const EVENT_UUID = '5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'
const ATTRIBUTE_UUID = '6a2c3d4e-5f60-4b7c-9d8e-0f1a2b3c4d5e'
const SG_UUID = '7b3d4e5f-6071-4c8d-ae9f-1a2b3c4d5e6f'
const EVENT_ID = `misp-${EVENT_UUID}`

const ORGANISATIONS: Record<string, string> = { 'CERT-EE': 'cert-ee', 'CERT.LV': 'cert-lv', CIRCL: 'circl' }

/** The importer is cert-ee; MISP organisations CERT-EE, CERT.LV and CIRCL are known; one sharing group is mapped. */
function options(overrides: Partial<MispImportOptions> = {}): MispImportOptions {
  return {
    defaultMarking: { tlp: 'AMBER' },
    organisation: 'cert-ee',
    knownOrganisation: (name) => ORGANISATIONS[name],
    communityOf: (sg) => (sg.uuid === SG_UUID || sg.name === 'Baltic CERTs' ? 'baltic-certs' : undefined),
    ...overrides,
  }
}

/** A small MISP event by CERT-EE (the importer) with one attribute; fields overridable. */
function mispEvent(
  fields: Record<string, unknown> = {},
  attribute: Record<string, unknown> = {},
): { Event: Record<string, unknown> } {
  return {
    Event: {
      uuid: EVENT_UUID,
      info: 'Beaconing to a known C2 from two ministries',
      date: '2026-11-20',
      timestamp: '1795600000',
      threat_level_id: '2',
      analysis: '1',
      distribution: '1',
      sharing_group_id: '0',
      Orgc: { name: 'CERT-EE', uuid: 'd8770552-985f-41ec-b308-e33e79bf96ef' },
      Tag: [],
      Attribute: [
        {
          uuid: ATTRIBUTE_UUID,
          type: 'ip-dst',
          category: 'Network activity',
          value: '192.0.2.10',
          to_ids: true,
          distribution: '5',
          timestamp: '1795600000',
          deleted: false,
          ...attribute,
        },
      ],
      ...fields,
    },
  }
}

const tags = (...names: string[]) => names.map((name) => ({ name }))

function reportOf(result: MispImportResult) {
  const report = result.events.find((e) => e.type === 'incident.reported' || e.type === 'advisory.published')
  if (!report) throw new Error(`no report: ${JSON.stringify(result.skipped)}`)
  return report
}

function observationsOf(result: MispImportResult) {
  return result.events.filter((e) => e.type === 'incident.observation')
}

/** The marking of the incident made from a one-event import. */
function eventMarking(
  fields: Record<string, unknown>,
  overrides: Partial<MispImportOptions> = {},
): Marking | undefined {
  return reportOf(importMisp(mispEvent(fields), options(overrides))).marking
}

/** The marking of the one observation made from a one-event import. */
function attributeMarking(
  fields: Record<string, unknown>,
  attribute: Record<string, unknown>,
  overrides: Partial<MispImportOptions> = {},
): Marking | undefined {
  const result = importMisp(mispEvent(fields, attribute), options(overrides))
  const [observation] = observationsOf(result)
  return observation?.marking
}

let seq = 0
/** What the store would make of them: seq, recordedAt, the importing person as actor. */
function stored(events: readonly EventInput[], user = 'ee-analyst'): StoredEvent[] {
  return events.map((e) => ({
    ...e,
    marking: e.marking ?? { tlp: 'AMBER' },
    actor: { user, organisation: 'cert-ee' },
    seq: ++seq,
    recordedAt: e.occurredAt,
  })) as StoredEvent[]
}

const viewer = (organisation: string, nation: string, userId = `${organisation}-analyst`): Viewer => ({
  organisation,
  nation,
  roles: ['analyst'],
  userId,
})

// ---------------------------------------------------------------------------------------------

describe('importMisp: distribution levels (MISP 0-5) to markings', () => {
  it('0 your organisation only -> AMBER+STRICT', () => {
    expect(eventMarking({ distribution: '0' })).toEqual({ tlp: 'AMBER+STRICT' })
  })

  it('1 this community -> AMBER: the source and the importer; with instanceCommunity, that community', () => {
    expect(eventMarking({ distribution: '1' })).toEqual({ tlp: 'AMBER' })
    expect(eventMarking({ distribution: 1 }, { instanceCommunity: 'ee-misp-users' })).toEqual({
      tlp: 'AMBER',
      releasableTo: ['ee-misp-users'],
    })
  })

  it('2 connected communities -> GREEN', () => {
    expect(eventMarking({ distribution: '2' })).toEqual({ tlp: 'GREEN' })
  })

  it('3 all communities -> GREEN, or CLEAR when a tlp:clear / tlp:white tag says so', () => {
    expect(eventMarking({ distribution: '3' })).toEqual({ tlp: 'GREEN' })
    expect(eventMarking({ distribution: '3', Tag: tags('tlp:clear') })).toEqual({ tlp: 'CLEAR' })
    expect(eventMarking({ distribution: '3', Tag: tags('tlp:white') })).toEqual({ tlp: 'CLEAR' })
  })

  it('4 sharing group -> AMBER releasable to the community communityOf names', () => {
    const seen: unknown[] = []
    const marking = eventMarking(
      { distribution: '4', sharing_group_id: '7', SharingGroup: { id: '7', name: 'Baltic CERTs', uuid: SG_UUID } },
      {
        communityOf: (sg) => {
          seen.push(sg)
          return 'baltic-certs'
        },
      },
    )
    expect(marking).toEqual({ tlp: 'AMBER', releasableTo: ['baltic-certs'] })
    expect(seen).toEqual([{ uuid: SG_UUID, name: 'Baltic CERTs' }])
  })

  it("5 inherit (attributes and objects): the event's marking", () => {
    expect(attributeMarking({ distribution: '2' }, { distribution: '5' })).toEqual({ tlp: 'GREEN' })
    expect(attributeMarking({ distribution: '0' }, { distribution: 5 })).toEqual({ tlp: 'AMBER+STRICT' })
  })

  it('no distribution (feeds strip it): the default marking, which tags only narrow', () => {
    const { distribution: _, ...rest } = mispEvent().Event
    const bare = (extra: Record<string, unknown>, defaultMarking: Marking) =>
      reportOf(importMisp({ Event: { ...rest, ...extra } }, options({ defaultMarking }))).marking
    expect(bare({}, { tlp: 'GREEN' })).toEqual({ tlp: 'GREEN' })
    expect(bare({ Tag: tags('tlp:clear') }, { tlp: 'GREEN' })).toEqual({ tlp: 'GREEN' })
    expect(bare({ Tag: tags('tlp:amber') }, { tlp: 'GREEN' })).toEqual({ tlp: 'AMBER' })
    expect(bare({ Tag: tags('tlp:clear') }, { tlp: 'AMBER', releasableTo: ['nato'] })).toEqual({
      tlp: 'AMBER',
      releasableTo: ['nato'],
    })
  })

  it('an attribute is never wider than its event, nor an object attribute than its object', () => {
    expect(attributeMarking({ distribution: '1' }, { distribution: '3', Tag: tags('tlp:clear') })).toEqual({
      tlp: 'AMBER',
    })
    const result = importMisp(
      mispEvent({
        distribution: '3',
        Attribute: [],
        Object: [
          {
            uuid: '0f0e0d0c-0b0a-4908-8706-050403020100',
            name: 'domain-ip',
            distribution: '0',
            Attribute: [{ type: 'domain', value: 'evil.example', distribution: '3', timestamp: '1795600000' }],
          },
        ],
      }),
      options(),
    )
    expect(observationsOf(result).map((e) => e.marking)).toEqual([{ tlp: 'AMBER+STRICT' }])
  })
})

describe('importMisp: TLP and PAP tags', () => {
  const cases: [string, Marking['tlp']][] = [
    ['tlp:clear', 'CLEAR'],
    ['tlp:white', 'CLEAR'],
    ['tlp:green', 'GREEN'],
    ['tlp:amber', 'AMBER'],
    ['tlp:amber+strict', 'AMBER+STRICT'],
    ['tlp:red', 'RED'],
    ['TLP:AMBER', 'AMBER'],
    ['TLP:Amber+Strict', 'AMBER+STRICT'],
  ]
  for (const [tag, tlp] of cases)
    it(`${tag} on an event shared with all communities -> ${tlp}`, () => {
      expect(eventMarking({ distribution: '3', Tag: tags(tag) })?.tlp).toBe(tlp)
    })

  it('each TLP tag on an attribute narrows that observation only', () => {
    for (const [tag, tlp] of cases)
      expect(attributeMarking({ distribution: '3', Tag: tags('tlp:clear') }, { Tag: tags(tag) })?.tlp).toBe(tlp)
  })

  it('several TLP tags: the strictest', () => {
    expect(eventMarking({ distribution: '3', Tag: tags('tlp:green', 'tlp:red', 'tlp:amber') })?.tlp).toBe('RED')
  })

  it('tlp:ex:chr and tlp:unclear say nothing about the level; an unknown tlp: value skips the event', () => {
    expect(eventMarking({ distribution: '2', Tag: tags('tlp:ex:chr', 'tlp:unclear') })).toEqual({ tlp: 'GREEN' })
    const result = importMisp(mispEvent({ Tag: tags('tlp:black') }), options())
    expect(result.events).toEqual([])
    expect(result.skipped).toEqual([{ uuid: EVENT_UUID, what: 'event', reason: 'unknown TLP tag "tlp:black"' }])
  })

  const paps: [string, Marking['pap']][] = [
    ['PAP:CLEAR', 'CLEAR'],
    ['PAP:WHITE', 'CLEAR'],
    ['PAP:GREEN', 'GREEN'],
    ['PAP:AMBER', 'AMBER'],
    ['PAP:RED', 'RED'],
    ['pap:amber', 'AMBER'],
  ]
  for (const [tag, pap] of paps)
    it(`${tag} -> pap ${pap}, the TLP unchanged`, () => {
      expect(eventMarking({ distribution: '2', Tag: tags(tag) })).toEqual({ tlp: 'GREEN', pap })
    })

  it('several PAP tags: the strictest; an attribute PAP narrows its observation', () => {
    expect(eventMarking({ distribution: '2', Tag: tags('PAP:GREEN', 'PAP:RED') })?.pap).toBe('RED')
    expect(attributeMarking({ distribution: '2', Tag: tags('PAP:GREEN') }, { Tag: tags('PAP:AMBER') })).toEqual({
      tlp: 'GREEN',
      pap: 'AMBER',
    })
  })
})

describe('importMisp: the stricter of tag and distribution wins, never wider', () => {
  const cases: [string, Record<string, unknown>, Marking][] = [
    ['your organisation only + tlp:green', { distribution: '0', Tag: tags('tlp:green') }, { tlp: 'AMBER+STRICT' }],
    ['your organisation only + tlp:red', { distribution: '0', Tag: tags('tlp:red') }, { tlp: 'RED' }],
    // what the export writes for AMBER naming no one: its source only [V4], as AMBER+STRICT's audience
    ['your organisation only + tlp:amber', { distribution: '0', Tag: tags('tlp:amber') }, { tlp: 'AMBER' }],
    // a list beside it never widens "your organisation only"
    [
      'your organisation only + tlp:amber naming cert-lv',
      { distribution: '0', Tag: tags('tlp:amber', 'watchfloor:releasable-to="cert-lv"') },
      { tlp: 'AMBER+STRICT', releasableTo: ['cert-lv'] },
    ],
    ['your organisation only, no TLP tag', { distribution: '0' }, { tlp: 'AMBER+STRICT' }],
    ['this community + tlp:clear', { distribution: '1', Tag: tags('tlp:clear') }, { tlp: 'AMBER' }],
    [
      'this community + tlp:amber+strict',
      { distribution: '1', Tag: tags('tlp:amber+strict') },
      { tlp: 'AMBER+STRICT' },
    ],
    ['connected communities + tlp:clear', { distribution: '2', Tag: tags('tlp:clear') }, { tlp: 'GREEN' }],
    ['connected communities + tlp:red', { distribution: '2', Tag: tags('tlp:red') }, { tlp: 'RED' }],
    ['all communities + tlp:amber', { distribution: '3', Tag: tags('tlp:amber') }, { tlp: 'AMBER' }],
    [
      'sharing group + tlp:green',
      { distribution: '4', SharingGroup: { uuid: SG_UUID, name: 'Baltic CERTs' }, Tag: tags('tlp:green') },
      { tlp: 'AMBER', releasableTo: ['baltic-certs'] },
    ],
    [
      'sharing group + tlp:amber+strict',
      { distribution: '4', SharingGroup: { uuid: SG_UUID }, Tag: tags('tlp:amber+strict') },
      { tlp: 'AMBER+STRICT', releasableTo: ['baltic-certs'] },
    ],
  ]
  for (const [name, fields, marking] of cases)
    it(name, () => {
      expect(eventMarking(fields)).toEqual(marking)
    })

  it('watchfloor:releasable-to tags narrow (the round trip of releasableTo), never widen', () => {
    expect(
      eventMarking({
        distribution: '1',
        Tag: tags('tlp:amber', 'watchfloor:releasable-to="cert-lv"', 'watchfloor:releasable-to="nato"'),
      }),
    ).toEqual({ tlp: 'AMBER', releasableTo: ['cert-lv', 'nato'] })
    expect(
      eventMarking({
        distribution: '4',
        SharingGroup: { uuid: SG_UUID },
        Tag: tags('watchfloor:releasable-to="baltic-certs"', 'watchfloor:releasable-to="nato"'),
      }),
    ).toEqual({ tlp: 'AMBER', releasableTo: ['baltic-certs'] })
  })
})

describe('importMisp: levels combine as core combines markings [V4, V6]; releasable to nobody', () => {
  const NATIONS: Record<string, string> = { 'cert-ee': 'EE', 'cert-lv': 'LV', 'cert-lt': 'LT', 'ncsc-nl': 'NL' }
  /** The organisations an imported event of this marking and source reaches (core's canSee). */
  const reach = (e: { source: { organisation: string }; marking?: Marking | undefined }) =>
    Object.keys(NATIONS).filter((organisation) =>
      canSee(
        { organisation, nation: NATIONS[organisation]!, roles: ['analyst'], userId: `${organisation}-analyst` },
        { source: e.source, marking: e.marking! },
      ),
    )

  it('an event AMBER naming no one (tlp:amber, no releasability tag): an attribute naming cert-lv does not widen it', () => {
    expect(
      attributeMarking(
        { distribution: '1', Tag: tags('tlp:amber') },
        { distribution: '5', Tag: tags('watchfloor:releasable-to="cert-lv"') },
      ),
    ).toEqual({ tlp: 'AMBER' })
    // nor one with its own distribution and TLP tag, as an export writes it
    expect(
      attributeMarking(
        { distribution: '2', Tag: tags('tlp:amber') },
        { distribution: '1', Tag: tags('tlp:amber', 'watchfloor:releasable-to="cert-lv"') },
      ),
    ).toEqual({ tlp: 'AMBER' })
  })

  it('an attribute AMBER naming no one under an event releasable to cert-lv: AMBER naming no one', () => {
    expect(
      attributeMarking(
        { distribution: '2', Tag: tags('tlp:green', 'watchfloor:releasable-to="cert-lv"') },
        { distribution: '1', Tag: tags('tlp:amber') },
      ),
    ).toEqual({ tlp: 'AMBER' })
    expect(
      attributeMarking(
        { distribution: '1', Tag: tags('tlp:amber', 'watchfloor:releasable-to="cert-lv"') },
        { Tag: tags('tlp:amber') },
      ),
    ).toEqual({ tlp: 'AMBER' })
    // a list of its own on the same level still names whom its AMBER reaches (the round trip)
    expect(
      attributeMarking(
        { distribution: '1', Tag: tags('tlp:amber', 'watchfloor:releasable-to="cert-lv"') },
        { distribution: '1', Tag: tags('tlp:amber', 'watchfloor:releasable-to="cert-lv"') },
      ),
    ).toEqual({ tlp: 'AMBER', releasableTo: ['cert-lv'] })
  })

  it('from another organisation: the importer is a recipient, the list of a lower level is not', () => {
    const result = importMisp(
      mispEvent(
        { distribution: '1', Tag: tags('tlp:amber'), Orgc: { name: 'CERT.LV' } },
        { distribution: '5', Tag: tags('watchfloor:releasable-to="ncsc-nl"') },
      ),
      options(),
    )
    expect(result.events.map(reach)).toEqual([
      ['cert-ee', 'cert-lv'],
      ['cert-ee', 'cert-lv'],
    ])
  })

  it('watchfloor:releasable-to-none: releasable to nobody, with whatever distribution', () => {
    for (const distribution of ['0', '1', '2', '3', undefined]) {
      const input = mispEvent({ distribution, Tag: tags('tlp:green', 'watchfloor:releasable-to-none') })
      if (distribution === undefined) delete input.Event.distribution // a feed's
      const result = importMisp(input, options({ defaultMarking: { tlp: 'GREEN' } }))
      const where = `distribution ${distribution}`
      expect(result.events.map(reach), where).toEqual([['cert-ee'], ['cert-ee']])
      if (distribution === '0' || distribution === '2' || distribution === undefined)
        expect(
          result.events.map((e) => e.marking),
          where,
        ).toEqual([
          { tlp: 'GREEN', releasableTo: [] },
          { tlp: 'GREEN', releasableTo: [] },
        ])
    }
    // distribution 0 says the organisation only; with no TLP tag the tag changes nothing of it
    expect(eventMarking({ distribution: '0', Tag: tags('watchfloor:releasable-to-none') })?.tlp).toBe('AMBER+STRICT')
    // on an attribute: that observation only
    expect(
      attributeMarking(
        { distribution: '2', Tag: tags('tlp:green', 'watchfloor:releasable-to="cert-lv"') },
        { distribution: '5', Tag: tags('watchfloor:releasable-to-none') },
      ),
    ).toEqual({ tlp: 'GREEN', releasableTo: [] })
    // and beside a releasability list: nobody
    expect(
      eventMarking({
        distribution: '2',
        Tag: tags('tlp:green', 'watchfloor:releasable-to="cert-lv"', 'watchfloor:releasable-to-none'),
      }),
    ).toEqual({ tlp: 'GREEN', releasableTo: [] })
  })

  it('what says the event’s marking in other words still goes into its text (AMBER+STRICT with a sharing group)', () => {
    const result = importMisp(
      mispEvent({
        distribution: '4',
        SharingGroup: { uuid: SG_UUID },
        Tag: tags('tlp:amber+strict'),
        // your organisation only: AMBER+STRICT, as the event (whose list AMBER+STRICT does not read [V4s])
        EventReport: [{ name: 'Analysis', content: 'The loader talks to one domain.', distribution: '0' }],
      }),
      options(),
    )
    expect(result.skipped).toEqual([])
    expect((reportOf(result).payload as { summary: string }).summary).toContain('The loader talks to one domain.')
  })
})

describe('importMisp: sharing groups', () => {
  it('an attribute in the event’s sharing group (same sharing_group_id, no SharingGroup object) maps too', () => {
    const marking = attributeMarking(
      { distribution: '4', sharing_group_id: '7', SharingGroup: { id: '7', uuid: SG_UUID, name: 'Baltic CERTs' } },
      { distribution: '4', sharing_group_id: '7' },
    )
    expect(marking).toEqual({ tlp: 'AMBER', releasableTo: ['baltic-certs'] })
  })

  it('an unknown sharing group on the event skips the whole event with a reason, rather than widen', () => {
    const result = importMisp(
      mispEvent({ distribution: '4', sharing_group_id: '9', SharingGroup: { id: '9', name: 'Vendor circle' } }),
      options(),
    )
    expect(result.events).toEqual([])
    expect(result.created).toEqual([])
    expect(result.errors).toEqual([])
    expect(result.skipped).toEqual([
      {
        uuid: EVENT_UUID,
        what: 'event',
        reason: 'sharing group "Vendor circle" is not mapped to a Watchfloor community',
      },
    ])
  })

  it('a sharing group without its SharingGroup object, or without communityOf, is unknown', () => {
    const noObject = importMisp(mispEvent({ distribution: '4', sharing_group_id: '9' }), options())
    expect(noObject.skipped[0]?.reason).toBe(
      'sharing group id 9 (no SharingGroup object) is not mapped to a Watchfloor community',
    )
    const noResolver = importMisp(
      mispEvent({ distribution: '4', SharingGroup: { uuid: SG_UUID } }),
      options({ communityOf: undefined as never }),
    )
    expect(noResolver.events).toEqual([])
  })

  it('an attribute in an unknown sharing group is skipped, the rest of the event imported', () => {
    const result = importMisp(
      mispEvent(
        {},
        { distribution: '4', sharing_group_id: '12', SharingGroup: { uuid: '8d0d0dfc-210e-4054-ab12-dc8033a64e1d' } },
      ),
      options(),
    )
    expect(result.events.map((e) => e.type)).toEqual(['incident.reported'])
    expect(result.skipped).toEqual([
      {
        uuid: ATTRIBUTE_UUID,
        event: EVENT_UUID,
        what: 'attribute',
        reason: 'sharing group 8d0d0dfc-210e-4054-ab12-dc8033a64e1d is not mapped to a Watchfloor community',
      },
    ])
  })
})

describe('importMisp: Orgc to source organisation', () => {
  it('a known Orgc name becomes source.organisation', () => {
    const result = importMisp(mispEvent({ distribution: '2', Orgc: { name: 'CERT.LV' } }), options())
    expect(result.events.every((e) => e.source.organisation === 'cert-lv')).toBe(true)
    expect(result.created[0]?.notes).toEqual([])
  })

  it("an unknown or absent Orgc: the importer's organisation, and the report says so", () => {
    const unknown = importMisp(mispEvent({ distribution: '2', Orgc: { name: 'Some Vendor' } }), options())
    expect(reportOf(unknown).source).toEqual({ organisation: 'cert-ee' })
    expect(unknown.created[0]?.notes).toEqual([
      'MISP organisation "Some Vendor" is not known here: reported as cert-ee',
      `${EVENT_ID}@cert-ee: cert-ee's own copy (what it holds depends on the importer)`,
    ])
    const absent = importMisp(mispEvent({ distribution: '2', Orgc: undefined }), options())
    expect(reportOf(absent).source).toEqual({ organisation: 'cert-ee' })
    expect(absent.created[0]?.notes).toEqual([
      "no Orgc: reported as the importer's organisation cert-ee",
      `${EVENT_ID}@cert-ee: cert-ee's own copy (what it holds depends on the importer)`,
    ])
    const noLookup = importMisp(mispEvent({ distribution: '2' }), options({ knownOrganisation: undefined as never }))
    expect(reportOf(noLookup).source).toEqual({ organisation: 'cert-ee' })
  })

  it('AMBER from another organisation names the importer in releasableTo: both may see it, no one else', () => {
    const result = importMisp(mispEvent({ distribution: '1', Orgc: { name: 'CERT.LV' } }), options())
    const report = reportOf(result)
    expect(report.source).toEqual({ organisation: 'cert-lv' })
    expect(report.marking).toEqual({ tlp: 'AMBER', releasableTo: ['cert-ee'] })
    const picture = fold(initialState, stored(result.events))
    const incidentId = mispIncidentId(EVENT_UUID, 'cert-ee')
    const sees = (v: Viewer) => canSee(v, stored([report])[0]!)
    expect(sees(viewer('cert-ee', 'EE'))).toBe(true)
    expect(sees(viewer('cert-lv', 'LV'))).toBe(true)
    expect(sees(viewer('cert-lt', 'LT'))).toBe(false)
    expect(picture.incidents.get(incidentId)?.organisation).toBe('cert-lv')
  })

  it("AMBER+STRICT from another organisation stays in the importer's organisation (TLP 2.0: the recipient's)", () => {
    const result = importMisp(mispEvent({ distribution: '0', Orgc: { name: 'CERT.LV' } }), options())
    expect(result.events.every((e) => e.source.organisation === 'cert-ee')).toBe(true)
    expect(reportOf(result).marking).toEqual({ tlp: 'AMBER+STRICT' })
    expect(result.created[0]?.notes).toEqual([
      "AMBER+STRICT: kept in the importer's organisation cert-ee (the source cert-lv is named in the summary)",
      `${EVENT_ID}@cert-ee: cert-ee's own copy (what it holds depends on the importer)`,
    ])
    const payload = reportOf(result).payload as { summary: string }
    expect(payload.summary).toContain('created by CERT.LV (Watchfloor organisation cert-lv)')
  })

  it('RED: only the importing person sees it (no MISP field names people), and the report says so', () => {
    const result = importMisp(mispEvent({ distribution: '2', Tag: tags('tlp:red') }), options())
    const [report] = stored([reportOf(result)], 'ee-duty-officer')
    expect(report?.marking).toEqual({ tlp: 'RED' })
    expect(canSee(viewer('cert-ee', 'EE', 'ee-duty-officer'), report!)).toBe(true)
    expect(canSee(viewer('cert-ee', 'EE', 'ee-someone-else'), report!)).toBe(false)
    expect(result.created[0]?.notes).toContain(
      'RED: only the importing person sees it until recipients are named (no MISP field names people)',
    )
  })
})

describe('importMisp: several organisations importing the same MISP event', () => {
  const as = (organisation: string, fields: Record<string, unknown>) =>
    importMisp(mispEvent({ Orgc: { name: 'CERT.LV' }, ...fields }), options({ organisation }))

  it('when nothing depends on the importer (known Orgc, GREEN), they meet the same incident and the same events', () => {
    const ee = as('cert-ee', { distribution: '2' })
    const lt = as('cert-lt', { distribution: '2' })
    expect(ee.created[0]?.id).toBe(EVENT_ID)
    expect(lt.events).toEqual(ee.events)
  })

  it('when it does (AMBER names the importer, an unknown Orgc, AMBER+STRICT, RED), each has its own copy', () => {
    for (const fields of [
      { distribution: '1' },
      { distribution: '2', Orgc: { name: 'Unknown CERT' } },
      { distribution: '0' },
      { distribution: '2', Tag: tags('tlp:red') },
    ]) {
      const ee = as('cert-ee', fields)
      const lt = as('cert-lt', fields)
      expect(ee.created[0]?.id).toBe(`${EVENT_ID}@cert-ee`)
      expect(lt.created[0]?.id).toBe(`${EVENT_ID}@cert-lt`)
      expect(lt.events.map((e) => e.id)).not.toEqual(ee.events.map((e) => e.id))
    }
  })

  it('an id carries the uuid lower-cased; a very long organisation id is hashed to stay within 200 characters', () => {
    expect(mispIncidentId(EVENT_UUID.toUpperCase(), 'cert-ee')).toBe(`${EVENT_ID}@cert-ee`)
    expect(mispIncidentId(EVENT_UUID, 'x'.repeat(190))).toMatch(new RegExp(`^${EVENT_ID}@[0-9a-f-]{36}$`))
  })
})

describe('importMisp: deterministic ids, so a re-import is idempotent', () => {
  it('the same input gives the same event ids and the same events', () => {
    const a = importMisp(fixture('cert-ee-phishing.json'), options())
    const b = importMisp(fixture('cert-ee-phishing.json'), options())
    expect(a.events.length).toBeGreaterThan(1)
    expect(b.events).toEqual(a.events)
    for (const event of a.events)
      expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Set(a.events.map((e) => e.id)).size).toBe(a.events.length)
  })

  it('the same event in another envelope (bare, {Event}, response, feed) gives the same ids', () => {
    const wrapped = mispEvent()
    const ids = (input: unknown) => importMisp(input, options()).events.map((e) => e.id)
    const expected = ids(wrapped)
    expect(ids(wrapped.Event)).toEqual(expected)
    expect(ids({ response: [wrapped] })).toEqual(expected)
    expect(ids([wrapped])).toEqual(expected)
    expect(ids({ manifest: { [EVENT_UUID]: {} }, events: { [EVENT_UUID]: wrapped } })).toEqual(expected)
    // MISP's numbers as strings or as numbers: the same
    expect(ids(mispEvent({ timestamp: 1795600000, threat_level_id: 2, distribution: 1 }))).toEqual(expected)
  })

  it('an updated MISP event (later timestamp) gives a new report; unchanged attributes keep their ids', () => {
    const first = importMisp(mispEvent(), options())
    const again = importMisp(
      mispEvent({ timestamp: '1795700000', info: 'Beaconing to a known C2 (update)' }),
      options(),
    )
    expect(reportOf(again).id).not.toBe(reportOf(first).id)
    expect(observationsOf(again).map((e) => e.id)).toEqual(observationsOf(first).map((e) => e.id))
  })

  it('a changed mapping (other marking) gives other ids, never the same id with other content (409)', () => {
    const a = importMisp(mispEvent({ distribution: '2' }), options())
    const b = importMisp(mispEvent({ distribution: '2' }), options({ defaultMarking: { tlp: 'RED' } }))
    expect(b.events.map((e) => e.id)).toEqual(a.events.map((e) => e.id)) // the default played no part
    const c = importMisp(mispEvent({ distribution: '2', Tag: tags('PAP:RED') }), options())
    expect(reportOf(c).id).not.toBe(reportOf(a).id)
  })

  it('folding a re-import changes nothing: the same incident, one observation per attribute', () => {
    const events = importMisp(fixture('cert-ee-phishing.json'), options()).events
    const once = fold(initialState, stored(events))
    const incident = once.incidents.get(mispIncidentId('72e0be8d-f8f6-4615-b215-582566ed16e7'))
    expect(incident?.observationCount).toBe(5)
    expect(incident?.title).toBe('Spear-phishing wave against ministry staff impersonating the e-ID helpdesk')
  })

  it('two copies of one event in the input: the newer is imported, the other skipped', () => {
    const older = mispEvent({ timestamp: '1795600000' })
    const newer = mispEvent({ timestamp: '1795700000', info: 'Newer' })
    const result = importMisp({ response: [older, newer] }, options())
    expect(result.created).toHaveLength(1)
    expect((reportOf(result).payload as { title: string }).title).toBe('Newer')
    expect(result.skipped).toEqual([
      { uuid: EVENT_UUID, what: 'event', reason: 'another copy of this event in the input is newer' },
    ])
  })
})

describe('importMisp: invalid input gives errors (400), and nothing to post', () => {
  const cases: [string, unknown, { path: string; message: string }[]][] = [
    [
      'not an object',
      'hello',
      [{ path: '', message: 'expected a MISP event, { "response": [...] } or a feed { "manifest", "events" }' }],
    ],
    [
      'null',
      null,
      [{ path: '', message: 'expected a MISP event, { "response": [...] } or a feed { "manifest", "events" }' }],
    ],
    [
      'an unknown object',
      { foo: 1 },
      [{ path: '', message: 'expected a MISP event, { "response": [...] } or a feed { "manifest", "events" }' }],
    ],
    [
      'an event without uuid',
      { Event: { info: 'x', date: '2026-11-20' } },
      [{ path: 'Event.uuid', message: 'required' }],
    ],
    [
      'a uuid that is none',
      { Event: { uuid: '42', info: 'x', date: '2026-11-20' } },
      [{ path: 'Event.uuid', message: 'expected a UUID' }],
    ],
    [
      'an event without info',
      { Event: { uuid: EVENT_UUID, date: '2026-11-20' } },
      [{ path: 'Event.info', message: 'required' }],
    ],
    [
      'an empty info',
      { Event: { uuid: EVENT_UUID, info: '  ', date: '2026-11-20' } },
      [{ path: 'Event.info', message: 'must not be empty' }],
    ],
    [
      'neither timestamp nor date',
      { Event: { uuid: EVENT_UUID, info: 'x' } },
      [{ path: 'Event.timestamp', message: 'an event needs a timestamp or a date' }],
    ],
    ['a bad date', mispEvent({ date: '20.11.2026' }), [{ path: 'Event.date', message: 'expected a date YYYY-MM-DD' }]],
    [
      'distribution 7',
      mispEvent({ distribution: '7' }),
      [{ path: 'Event.distribution', message: 'expected an integer from 0 to 5' }],
    ],
    [
      'threat level 0',
      mispEvent({ threat_level_id: 0 }),
      [{ path: 'Event.threat_level_id', message: 'expected an integer from 1 to 4' }],
    ],
    [
      'Attribute not an array',
      mispEvent({ Attribute: { value: 'x' } }),
      [{ path: 'Event.Attribute', message: 'expected an array' }],
    ],
    [
      'an attribute without value',
      mispEvent({}, { value: undefined }),
      [{ path: 'Event.Attribute.0.value', message: 'required' }],
    ],
    [
      'a tag without name',
      mispEvent({ Tag: [{ colour: '#fff' }] }),
      [{ path: 'Event.Tag.0.name', message: 'expected a tag name' }],
    ],
    [
      'a response item that is no event',
      { response: [mispEvent(), 5] },
      [{ path: 'response.1', message: 'expected an object' }],
    ],
    [
      'a feed file under another uuid',
      { manifest: {}, events: { '11111111-2222-4333-8444-555555555555': mispEvent() } },
      [
        {
          path: 'events.11111111-2222-4333-8444-555555555555.Event.uuid',
          message: `the file of 11111111-2222-4333-8444-555555555555 holds event ${EVENT_UUID}`,
        },
      ],
    ],
    [
      'a feed keyed by something else',
      { manifest: {}, events: { 'a.json': mispEvent() } },
      [{ path: 'events.a.json', message: 'feed files are keyed by event UUID' }],
    ],
    ['a feed without manifest', { events: {} }, [{ path: 'manifest', message: 'expected an object' }]],
  ]
  for (const [name, input, errors] of cases)
    it(name, () => {
      const result = importMisp(input, options())
      expect(result.errors).toEqual(errors)
      expect(result.events).toEqual([])
      expect(result.created).toEqual([])
    })

  it('one bad event in a response fails the whole import (all or nothing, like ingest)', () => {
    const result = importMisp({ response: [mispEvent(), { Event: { uuid: 'nope' } }] }, options())
    expect(result.events).toEqual([])
    expect(result.errors.map((e) => e.path)).toEqual(['response.1.Event.uuid', 'response.1.Event.info'])
  })

  it(`more than ${MISP_IMPORT_LIMITS.events} events is refused`, () => {
    const result = importMisp(
      { response: Array.from({ length: MISP_IMPORT_LIMITS.events + 1 }, () => ({})) },
      options(),
    )
    expect(result.errors).toEqual([
      {
        path: 'response',
        message: `at most ${MISP_IMPORT_LIMITS.events} MISP events per import, got ${MISP_IMPORT_LIMITS.events + 1}`,
      },
    ])
  })
})

describe('importMisp: what an event becomes', () => {
  it('an incident: title from info, severity from the threat level, affected networks empty', () => {
    const result = importMisp(mispEvent({ threat_level_id: '1' }), options())
    const report = reportOf(result)
    expect(report.type).toBe('incident.reported')
    expect(report.payload).toMatchObject({
      incidentId: mispIncidentId(EVENT_UUID),
      title: 'Beaconing to a known C2 from two ministries',
      severity: 'high',
      category: 'other',
      affectedNetworks: [],
    })
    expect(report.occurredAt).toBe('2026-11-25T09:46:40.000Z')
    expect(observationsOf(result).map((e) => e.payload)).toEqual([
      { incidentId: mispIncidentId(EVENT_UUID), indicator: '192.0.2.10', count: 1 },
    ])
  })

  it('severity: 1 high, 2 medium, 3 low, 4 (undefined) low; watchfloor:severity wins', () => {
    expect([1, 2, 3, 4, undefined].map((level) => mispSeverity([], level))).toEqual([
      'high',
      'medium',
      'low',
      'low',
      'low',
    ])
    expect(mispSeverity(['watchfloor:severity="critical"'], 1)).toBe('critical')
    expect(mispSeverity(['watchfloor:severity="apocalyptic"'], 2)).toBe('medium')
  })

  it('category: watchfloor, then RSIT/eCSIRT, then CIRCL, then galaxies, else other', () => {
    expect(mispCategory(['rsit:fraud="phishing"', 'watchfloor:category="spear-phishing"'])).toBe('spear-phishing')
    expect(mispCategory(['rsit:fraud="phishing"'])).toBe('phishing')
    expect(mispCategory(['rsit:availability="ddos"'])).toBe('ddos')
    expect(mispCategory(['ecsirt:malicious-code="ransomware"'])).toBe('malware')
    expect(mispCategory(['rsit:information-gathering="scanner"'])).toBe('scanning')
    expect(mispCategory(['rsit:intrusion-attempts="brute-force"'])).toBe('credential-abuse')
    expect(mispCategory(['rsit:intrusions="application-compromise"'])).toBe('intrusions')
    expect(mispCategory(['circl:incident-classification="denial-of-service"'])).toBe('ddos')
    expect(mispCategory(['circl:incident-classification="sql-injection"'])).toBe('sql-injection')
    expect(mispCategory(['misp-galaxy:ransomware="LockBit"'])).toBe('malware')
    expect(mispCategory(['misp-galaxy:mitre-attack-pattern="Phishing - T1566"'])).toBe('phishing')
    expect(mispCategory([], ['malpedia'])).toBe('malware')
    expect(mispCategory(['tlp:green', 'type:OSINT'])).toBe('other')
  })

  it('an advisory when tagged as a report (osint:source-type blog-post, technical-report, news-report, or watchfloor:kind)', () => {
    expect(mispKind(['osint:source-type="blog-post"'])).toBe('advisory')
    expect(mispKind(['osint:source-type="technical-report"'])).toBe('advisory')
    expect(mispKind(['osint:source-type="news-report"'])).toBe('advisory')
    expect(mispKind(['watchfloor:kind="advisory"'])).toBe('advisory')
    expect(mispKind(['osint:source-type="blog-post"', 'watchfloor:kind="incident"'])).toBe('incident')
    expect(mispKind(['osint:source-type="automatic-analysis"'])).toBe('incident')
    expect(mispKind([])).toBe('incident')
  })

  it('an advisory lists its indicators in the body, leaving out those marked stricter than it', () => {
    const result = importMisp(
      mispEvent({
        distribution: '2',
        Tag: tags('osint:source-type="technical-report"'),
        Attribute: [
          { type: 'domain', value: 'c2.example', timestamp: '1795600000' },
          { uuid: ATTRIBUTE_UUID, type: 'ip-dst', value: '192.0.2.99', Tag: tags('tlp:red'), timestamp: '1795600000' },
        ],
        EventReport: [{ name: 'Analysis', content: 'The loader talks to one domain.' }],
      }),
      options(),
    )
    expect(result.events).toHaveLength(1)
    const advisory = reportOf(result)
    expect(advisory.type).toBe('advisory.published')
    expect(advisory.payload).toMatchObject({ advisoryId: mispIncidentId(EVENT_UUID) })
    const body = (advisory.payload as { body: string }).body
    expect(body).toContain('## Analysis\n\nThe loader talks to one domain.')
    expect(body).toContain('Indicators (1):\n- domain: c2.example')
    expect(body).not.toContain('192.0.2.99')
    expect(result.skipped).toEqual([
      {
        uuid: ATTRIBUTE_UUID,
        event: EVENT_UUID,
        what: 'attribute',
        reason: 'marked stricter than the event: an advisory has one marking, so it is left out',
      },
    ])
  })

  it('attributes: deleted, descriptive types, empty or over-long values are skipped with a reason', () => {
    const result = importMisp(
      mispEvent({
        Attribute: [
          { type: 'ip-dst', value: '192.0.2.1', deleted: true },
          { type: 'comment', value: 'seen at 07:00' },
          { type: 'text', value: 'notes' },
          { type: 'domain', value: '   ' },
          { type: 'url', value: `https://x.example/${'a'.repeat(2000)}` },
          { type: 'sha256', value: 'f'.repeat(64) },
        ],
      }),
      options(),
    )
    expect(observationsOf(result).map((e) => (e.payload as { indicator: string }).indicator)).toEqual(['f'.repeat(64)])
    expect(result.skipped.map((s) => s.reason)).toEqual([
      'deleted in MISP',
      'type comment describes, it is no indicator',
      'type text describes, it is no indicator',
      'empty value',
      'value longer than 2000 characters',
    ])
  })

  it('an over-long info is cut to 300 characters and the report says so', () => {
    const result = importMisp(mispEvent({ info: 'x'.repeat(400) }), options())
    expect((reportOf(result).payload as { title: string }).title).toHaveLength(300)
    expect(result.created[0]?.notes).toContain('title cut to 300 characters')
  })

  it('every event made is valid for the protocol', () => {
    for (const input of [fixture('cert-ee-phishing.json'), fixture('rest-search-response.json')])
      for (const event of importMisp(input, options()).events) expect(EventInput.safeParse(event).success).toBe(true)
  })
})

describe('importMisp: realistic fixtures', () => {
  it('cert-ee-phishing.json: a CERT-EE event, AMBER with PAP:GREEN, one attribute kept in-house, one RED', () => {
    const result = importMisp(fixture('cert-ee-phishing.json'), options())
    expect(result.errors).toEqual([])
    const report = reportOf(result)
    expect(report.source).toEqual({ organisation: 'cert-ee' })
    expect(report.marking).toEqual({ tlp: 'AMBER', pap: 'GREEN' })
    expect(report.payload).toMatchObject({ severity: 'high', category: 'phishing' })
    expect((report.payload as { summary: string }).summary).toContain('## What happened')
    const byIndicator = Object.fromEntries(
      observationsOf(result).map((e) => [(e.payload as { indicator: string }).indicator, e.marking]),
    )
    expect(byIndicator).toEqual({
      'helpdesk@eid-support.example': { tlp: 'AMBER', pap: 'GREEN' },
      'https://eid-support.example/login': { tlp: 'AMBER', pap: 'GREEN' },
      '203.0.113.45': { tlp: 'AMBER+STRICT', pap: 'GREEN' },
      'eid-support.example': { tlp: 'AMBER', pap: 'GREEN' },
      '198.51.100.23': { tlp: 'RED', pap: 'GREEN' },
    })
    const url = observationsOf(result).find((e) => (e.payload as { indicator: string }).indicator.startsWith('https'))
    expect(url?.occurredAt).toBe('2026-11-23T07:12:00.000Z') // first_seen
    expect(result.skipped.map((s) => [s.what, s.reason])).toEqual([
      ['attribute', 'deleted in MISP'],
      ['attribute', 'type comment describes, it is no indicator'],
    ])
  })

  it('rest-search-response.json: a sharing-group event from CERT.LV and an all-communities one from an unknown SOC', () => {
    const result = importMisp(fixture('rest-search-response.json'), options())
    expect(result.created.map((c) => [c.kind, c.id, c.eventIds.length])).toEqual([
      ['incident', 'misp-fa5824ee-c0f5-4dae-b058-b5c7f759704c@cert-ee', 3],
      ['incident', 'misp-b90f44c7-b730-4a71-9f50-8518fe384c8c@cert-ee', 2],
    ])
    const [lv, soc] = result.events.filter((e) => e.type === 'incident.reported')
    expect(lv?.source).toEqual({ organisation: 'cert-lv' })
    expect(lv?.marking).toEqual({ tlp: 'AMBER', releasableTo: ['baltic-energy', 'cert-ee'] })
    expect(lv?.payload).toMatchObject({ severity: 'medium', category: 'credential-abuse' })
    expect(soc?.source).toEqual({ organisation: 'cert-ee' })
    expect(soc?.marking).toEqual({ tlp: 'GREEN' })
    expect(soc?.payload).toMatchObject({ severity: 'low', category: 'scanning' })
    expect(result.created[1]?.notes).toEqual([
      'MISP organisation "Partner SOC Oy" is not known here: reported as cert-ee',
      "misp-b90f44c7-b730-4a71-9f50-8518fe384c8c@cert-ee: cert-ee's own copy (what it holds depends on the importer)",
    ])
    expect(result.skipped).toEqual([
      {
        uuid: '3663a2e1-87eb-4ce4-ac27-0b76cbce8436',
        event: 'fa5824ee-c0f5-4dae-b058-b5c7f759704c',
        what: 'attribute',
        reason:
          'sharing group "Vendor trust circle" (8d0d0dfc-210e-4054-ab12-dc8033a64e1d) is not mapped to a Watchfloor community',
      },
    ])

    function options() {
      return {
        defaultMarking: { tlp: 'AMBER' as const },
        organisation: 'cert-ee',
        knownOrganisation: (name: string) => ORGANISATIONS[name],
        communityOf: (sg: { uuid?: string }) =>
          sg.uuid === '8a99caab-bad2-441d-ae25-ed4c9f03914b' ? 'baltic-energy' : undefined,
      }
    }
  })

  it('feed/: a CIRCL OSINT feed (no distribution): a blog post becomes an advisory, ransomware an incident', () => {
    const manifest = fixture('feed/manifest.json') as Record<string, unknown>
    const events = Object.fromEntries(
      ['0025f059-9b81-4f3e-9349-6c9482d2fb04', '3244a0d6-9fba-4bff-8667-5c800872e277'].map((uuid) => [
        uuid,
        fixture(`feed/${uuid}.json`),
      ]),
    )
    const result = importMisp({ manifest, events }, options({ defaultMarking: { tlp: 'GREEN' } }))
    expect(result.errors).toEqual([])
    expect(result.created.map((c) => [c.kind, c.uuid])).toEqual([
      ['advisory', '0025f059-9b81-4f3e-9349-6c9482d2fb04'],
      ['incident', '3244a0d6-9fba-4bff-8667-5c800872e277'],
    ])
    const advisory = result.events[0]!
    expect(advisory.marking).toEqual({ tlp: 'GREEN' }) // tlp:white narrowed to the feed's default
    expect(advisory.source).toEqual({ organisation: 'circl' })
    expect((advisory.payload as { body: string }).body).toContain(
      '- domain: update-browser-now.example\n- sha256: 9f2b1c0d7e4a5b6c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e\n- filename: ChromeUpdate.msix',
    )
    const ransomware = result.events.filter((e) => e.type !== 'advisory.published')
    expect(ransomware.map((e) => e.marking)).toEqual([
      { tlp: 'GREEN' },
      { tlp: 'GREEN' },
      { tlp: 'AMBER', releasableTo: ['cert-ee'] }, // the md5 is tagged tlp:amber
    ])
    expect(ransomware[0]?.payload).toMatchObject({ severity: 'high', category: 'malware' })
    expect(ransomware[1]?.payload).toMatchObject({ indicator: '203.0.113.66|8443' })
    expect(result.skipped.map((s) => [s.what, s.uuid, s.reason])).toEqual([
      ['manifest entry', 'fb8c0214-4ac2-45e9-8115-b2e1ea30719e', 'listed in manifest.json, but its file was not given'],
      ['attribute', '8fbea50d-93e8-479e-8e4c-83eac03131b5', 'type link describes, it is no indicator'],
      ['attribute', '13774f8b-05a7-4330-b687-f7ba20f7d6a4', 'type size-in-bytes describes, it is no indicator'],
    ])
  })
})

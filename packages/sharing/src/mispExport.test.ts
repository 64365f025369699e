import { canSee, fold, initialState, makeEvent, type State } from '@watchfloor/core'
import type { EventInput, Marking, Severity, StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { exportMispEvent, type MispDirectory, mispEventUuid, mispOrganisationUuid, mispTypeOf } from './mispExport.ts'
import { importMisp, mispIncidentId } from './mispImport.ts'
import { MISP_NAMESPACE } from './mispUuid.ts'
import { uuidv5 as uuid5 } from './uuid.ts'

const DIRECTORY: Record<string, string> = { 'cert-ee': 'CERT-EE', 'cert-lv': 'CERT.LV' }
const directory: MispDirectory = (organisation) =>
  DIRECTORY[organisation] === undefined ? undefined : { name: DIRECTORY[organisation] }
const knownOrganisation = (name: string) => Object.keys(DIRECTORY).find((id) => DIRECTORY[id] === name)

interface Story {
  events: StoredEvent[]
  picture: State
}

/** An incident by cert-ee with the given marking and severity, three observations (two of one indicator). */
function story(marking: Marking, severity: Severity = 'high', more: StoredEvent[] = []): Story {
  const events = [
    makeEvent(
      1,
      'incident.reported',
      {
        incidentId: 'inc-ee-7',
        title: 'Wiper on municipal file servers',
        severity,
        category: 'malware',
        summary: 'Two municipalities lost file shares; backups intact.',
        affectedNetworks: ['ee-gov'],
      },
      { organisation: 'cert-ee', marking, actor: 'ee-analyst', occurredAt: '2026-11-26T08:00:00.000Z' },
    ),
    makeEvent(
      2,
      'incident.observation',
      { incidentId: 'inc-ee-7', indicator: '203.0.113.9', count: 4 },
      { organisation: 'cert-ee', marking, occurredAt: '2026-11-26T08:05:00.000Z' },
    ),
    makeEvent(
      3,
      'incident.observation',
      { incidentId: 'inc-ee-7', indicator: '203.0.113.9', count: 2 },
      { organisation: 'cert-ee', marking, occurredAt: '2026-11-26T09:15:00.000Z' },
    ),
    makeEvent(
      4,
      'incident.observation',
      {
        incidentId: 'inc-ee-7',
        indicator: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
      { organisation: 'cert-ee', marking, occurredAt: '2026-11-26T08:30:00.000Z' },
    ),
    makeEvent(
      5,
      'incident.observation',
      { incidentId: 'inc-ee-7', indicator: 'SMBv1 exploit attempt from 198.51.100.4' },
      { organisation: 'cert-ee', marking, occurredAt: '2026-11-26T08:40:00.000Z' },
    ),
    ...more,
  ]
  return { events, picture: fold(initialState, events) }
}

let seq = 1000
function stored(events: readonly EventInput[]): StoredEvent[] {
  return events.map((e) => ({
    ...e,
    marking: e.marking ?? { tlp: 'AMBER' },
    actor: { user: 'ee-analyst', organisation: 'cert-ee' },
    seq: ++seq,
    recordedAt: e.occurredAt,
  })) as StoredEvent[]
}

describe('mispTypeOf: the MISP type of an indicator', () => {
  const cases: [string, string, string, boolean][] = [
    ['203.0.113.9', 'ip-dst', 'Network activity', true],
    ['192.0.2.0/24', 'ip-dst', 'Network activity', true],
    ['2001:db8::1', 'ip-dst', 'Network activity', true],
    ['::ffff:192.0.2.1', 'ip-dst', 'Network activity', true],
    ['evil.example', 'domain', 'Network activity', true],
    ['xn--80ak6aa92e.com', 'domain', 'Network activity', true],
    ['https://evil.example/login?x=1', 'url', 'Network activity', true],
    ['d41d8cd98f00b204e9800998ecf8427e', 'md5', 'Payload delivery', true],
    ['da39a3ee5e6b4b0d3255bfef95601890afd80709', 'sha1', 'Payload delivery', true],
    ['E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855', 'sha256', 'Payload delivery', true],
    ['invoice.pdf', 'other', 'Other', false],
    ['WannaCry_README.txt', 'other', 'Other', false],
    ['445/tcp SMB scan from 192.0.2.7', 'other', 'Other', false],
    ['256.1.1.1', 'other', 'Other', false],
    ['hxxp://defanged.example', 'other', 'Other', false],
  ]
  for (const [indicator, type, category, toIds] of cases)
    it(`${indicator} -> ${type}`, () => {
      expect(mispTypeOf(indicator)).toEqual({ type, category, toIds })
    })
})

describe('exportMispEvent', () => {
  it('one incident as a MISP event: uuid, info, threat level, distribution, tags, Orgc, attributes', () => {
    const { events, picture } = story({ tlp: 'AMBER', pap: 'GREEN' })
    const { Event: e } = exportMispEvent('inc-ee-7', events, picture, directory)
    expect(e.uuid).toBe(uuid5(MISP_NAMESPACE, 'incident:inc-ee-7'))
    expect(e.uuid).toBe(mispEventUuid('inc-ee-7'))
    expect(e).toMatchObject({
      info: 'Wiper on municipal file servers',
      date: '2026-11-26',
      threat_level_id: '1',
      analysis: '0',
      // AMBER naming no one reaches cert-ee only [V4]: your organisation only, never this community
      distribution: '0',
      sharing_group_id: '0',
      published: true,
      Orgc: { name: 'CERT-EE', uuid: mispOrganisationUuid('cert-ee') },
      Object: [],
    })
    expect(e.Tag.map((t) => t.name)).toEqual([
      'tlp:amber',
      'PAP:GREEN',
      'watchfloor:category="malware"',
      'rsit:malicious-code="infected-system"',
    ])
    expect(
      e.Attribute.map((a) => [
        a.type,
        a.category,
        a.value,
        a.to_ids,
        a.distribution,
        a.comment,
        a.first_seen,
        a.last_seen,
      ]),
    ).toEqual([
      [
        'ip-dst',
        'Network activity',
        '203.0.113.9',
        true,
        '5',
        'Observed 6 times in 2 Watchfloor reports',
        '2026-11-26T08:05:00.000000+00:00',
        '2026-11-26T09:15:00.000000+00:00',
      ],
      [
        'sha256',
        'Payload delivery',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        true,
        '5',
        'Observed 1 time in 1 Watchfloor report',
        '2026-11-26T08:30:00.000000+00:00',
        '2026-11-26T08:30:00.000000+00:00',
      ],
      [
        'other',
        'Other',
        'SMBv1 exploit attempt from 198.51.100.4',
        false,
        '5',
        'Observed 1 time in 1 Watchfloor report',
        '2026-11-26T08:40:00.000000+00:00',
        '2026-11-26T08:40:00.000000+00:00',
      ],
    ])
    expect(e.timestamp).toBe(String(Date.parse('2026-11-26T09:15:00.000Z') / 1000))
    expect(e.EventReport).toEqual([
      {
        uuid: uuid5(MISP_NAMESPACE, `${e.uuid}|summary`),
        name: 'Summary',
        content: 'Two municipalities lost file shares; backups intact.',
        timestamp: e.timestamp,
        distribution: '5',
        sharing_group_id: '0',
        deleted: false,
      },
    ])
  })

  it('the same incident exported twice is the same document (deterministic uuids)', () => {
    const { events, picture } = story({ tlp: 'GREEN' })
    expect(exportMispEvent('inc-ee-7', events, picture, directory)).toEqual(
      exportMispEvent('inc-ee-7', events, picture, directory),
    )
  })

  it('distribution and TLP tag per marking (the import table reversed); releasableTo as watchfloor tags', () => {
    const cases: [Marking, string, string[]][] = [
      [{ tlp: 'CLEAR' }, '3', ['tlp:clear']],
      [{ tlp: 'GREEN' }, '2', ['tlp:green']],
      // AMBER naming no one reaches its source only [V4]: your organisation only
      [{ tlp: 'AMBER' }, '0', ['tlp:amber']],
      [
        { tlp: 'AMBER', releasableTo: ['cert-lv', 'nato'] },
        '1',
        ['tlp:amber', 'watchfloor:releasable-to="cert-lv"', 'watchfloor:releasable-to="nato"'],
      ],
      [{ tlp: 'AMBER+STRICT', pap: 'RED' }, '0', ['tlp:amber+strict', 'PAP:RED']],
      // releasable to nobody: the organisation only, said by the distribution and by a tag the import reads
      [{ tlp: 'GREEN', releasableTo: [] }, '0', ['tlp:green', 'watchfloor:releasable-to-none']],
      [
        { tlp: 'CLEAR', releasableTo: [], pap: 'GREEN' },
        '0',
        ['tlp:clear', 'PAP:GREEN', 'watchfloor:releasable-to-none'],
      ],
      // AMBER with an empty list is AMBER naming no one [V4]
      [{ tlp: 'AMBER', releasableTo: [] }, '0', ['tlp:amber']],
    ]
    for (const [marking, distribution, tlpTags] of cases) {
      const { events, picture } = story(marking)
      const { Event: e } = exportMispEvent('inc-ee-7', events, picture, directory)
      expect(e.distribution).toBe(distribution)
      expect(
        e.Tag.map((t) => t.name).filter((n) => !n.startsWith('watchfloor:category') && !n.startsWith('rsit:')),
      ).toEqual(tlpTags)
    }
  })

  it('severity to threat level: critical and high 1 (critical tagged), medium 2, low 3', () => {
    const levels = (['critical', 'high', 'medium', 'low'] as const).map((severity) => {
      const { events, picture } = story({ tlp: 'GREEN' }, severity)
      const { Event: e } = exportMispEvent('inc-ee-7', events, picture)
      return [e.threat_level_id, e.Tag.some((t) => t.name === 'watchfloor:severity="critical"')]
    })
    expect(levels).toEqual([
      ['1', true],
      ['1', false],
      ['2', false],
      ['3', false],
    ])
  })

  it('an observation marked stricter than the incident keeps its own distribution and tags; RED ones stay out', () => {
    const { events, picture } = story({ tlp: 'GREEN' }, 'high', [
      makeEvent(
        6,
        'incident.observation',
        { incidentId: 'inc-ee-7', indicator: 'c2.evil.example' },
        { organisation: 'cert-ee', marking: { tlp: 'AMBER', releasableTo: ['cert-lv'] } },
      ),
      makeEvent(
        7,
        'incident.observation',
        { incidentId: 'inc-ee-7', indicator: '198.51.100.66' },
        { organisation: 'cert-ee', marking: { tlp: 'RED', recipients: ['ee-analyst'] } },
      ),
    ])
    const { Event: e } = exportMispEvent('inc-ee-7', events, picture)
    const c2 = e.Attribute.find((a) => a.value === 'c2.evil.example')
    expect(c2).toMatchObject({ type: 'domain', distribution: '1' })
    expect(c2?.Tag?.map((t) => t.name)).toEqual(['tlp:amber', 'watchfloor:releasable-to="cert-lv"'])
    expect(e.Attribute.some((a) => a.value === '198.51.100.66')).toBe(false)
  })

  it('its timestamp is that of what it holds: a later RED observation, task or comment left out does not move it', () => {
    const red = { organisation: 'cert-ee', marking: { tlp: 'RED', recipients: ['ee-analyst'] } as Marking }
    const later = (seq: number, type: EventInput['type'], payload: object) =>
      makeEvent(seq, type, payload as never, { ...red, occurredAt: '2026-11-26T11:00:00.000Z' })
    const { events, picture } = story({ tlp: 'GREEN' }, 'high', [
      later(6, 'incident.observation', { incidentId: 'inc-ee-7', indicator: '198.51.100.66', count: 3 }),
      later(7, 'task.created', { taskId: 't-r', incidentId: 'inc-ee-7', title: 'Quietly', priority: 'low' }),
      later(8, 'comment.posted', { commentId: 'c-r', incidentId: 'inc-ee-7', body: 'aside', mentions: [] }),
    ])
    // the picture's incident was updated by the RED observation at 11:00
    expect(picture.incidents.get('inc-ee-7')!.updatedAt).toBe('2026-11-26T11:00:00.000Z')
    const { Event: e } = exportMispEvent('inc-ee-7', events, picture)
    expect(e.timestamp).toBe(String(Date.parse('2026-11-26T09:15:00.000Z') / 1000))
    expect(e.Attribute.some((a) => a.value === '198.51.100.66')).toBe(false)
  })

  it('only observations of this incident; without a directory Orgc is the organisation id', () => {
    const other = makeEvent(
      6,
      'incident.reported',
      { incidentId: 'inc-other', title: 'Other', severity: 'low', category: 'x', affectedNetworks: [] },
      { organisation: 'cert-lv' },
    )
    const otherObservation = makeEvent(7, 'incident.observation', { incidentId: 'inc-other', indicator: '192.0.2.200' })
    const { events, picture } = story({ tlp: 'GREEN' }, 'high', [other, otherObservation])
    const { Event: e } = exportMispEvent('inc-ee-7', events, picture)
    expect(e.Attribute.map((a) => a.value)).not.toContain('192.0.2.200')
    expect(e.Orgc).toEqual({ name: 'cert-ee', uuid: mispOrganisationUuid('cert-ee') })
    const withUuid = exportMispEvent('inc-ee-7', events, picture, () => ({
      name: 'CERT-EE',
      uuid: 'D8770552-985F-41EC-B308-E33E79BF96EF',
    }))
    expect(withUuid.Event.Orgc).toEqual({ name: 'CERT-EE', uuid: 'd8770552-985f-41ec-b308-e33e79bf96ef' })
  })

  it('an incident the picture lacks is not_found; a RED incident is forbidden (MISP cannot keep it to people)', () => {
    const { events, picture } = story({ tlp: 'RED', recipients: ['lv-analyst'] })
    expect(() => exportMispEvent('inc-nope', events, picture)).toThrow(expect.objectContaining({ code: 'not_found' }))
    expect(() => exportMispEvent('inc-ee-7', events, picture)).toThrow(expect.objectContaining({ code: 'forbidden' }))
  })

  it('an incident imported from MISP goes back out under its original MISP uuid', () => {
    expect(mispEventUuid('misp-72E0BE8D-F8F6-4615-B215-582566ED16E7')).toBe('72e0be8d-f8f6-4615-b215-582566ed16e7')
    expect(mispEventUuid('misp-not-a-uuid')).toBe(uuid5(MISP_NAMESPACE, 'incident:misp-not-a-uuid'))
  })
})

describe('export -> import round trip', () => {
  const markings: Marking[] = [
    { tlp: 'CLEAR' },
    { tlp: 'GREEN', pap: 'AMBER' },
    { tlp: 'AMBER' },
    { tlp: 'AMBER', releasableTo: ['cert-lv', 'nato'], pap: 'RED' },
    { tlp: 'AMBER+STRICT' },
    { tlp: 'GREEN', releasableTo: [] },
    { tlp: 'CLEAR', releasableTo: [], pap: 'GREEN' },
  ]
  const severities: Severity[] = ['critical', 'high', 'medium', 'low']

  for (const marking of markings)
    for (const severity of severities)
      it(`keeps title, severity ${severity}, category, observations and marking ${JSON.stringify(marking)}`, () => {
        const { events, picture } = story(marking, severity)
        const exported = exportMispEvent('inc-ee-7', events, picture, directory)
        const result = importMisp(JSON.parse(JSON.stringify(exported)), {
          defaultMarking: { tlp: 'AMBER' },
          organisation: 'cert-ee',
          knownOrganisation,
        })
        expect(result.errors).toEqual([])
        expect(result.skipped).toEqual([])
        expect(result.created[0]?.notes).toEqual([])
        const back = fold(initialState, stored(result.events))
        const incidentId = mispIncidentId(exported.Event.uuid)
        const original = picture.incidents.get('inc-ee-7')!
        const copy = back.incidents.get(incidentId)!
        expect(copy.title).toBe(original.title)
        expect(copy.severity).toBe(original.severity)
        expect(copy.category).toBe(original.category)
        expect(copy.organisation).toBe('cert-ee')
        expect(copy.marking).toEqual(original.marking)
        expect(copy.summary).toContain(original.summary)
        // observations: every distinct indicator, each with the incident's marking
        const observations = result.events.filter((e) => e.type === 'incident.observation')
        expect(observations.map((e) => e.payload.indicator)).toEqual([
          '203.0.113.9',
          'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          'SMBv1 exploit attempt from 198.51.100.4',
        ])
        for (const observation of observations) expect(observation.marking).toEqual(original.marking)
        expect(copy.observationCount).toBe(3)
      })

  it('a second round trip gives the same MISP event (the uuid is kept, the content stable)', () => {
    const { events, picture } = story({ tlp: 'GREEN' }, 'critical')
    const first = exportMispEvent('inc-ee-7', events, picture, directory)
    const imported = importMisp(first, { defaultMarking: { tlp: 'AMBER' }, organisation: 'cert-ee', knownOrganisation })
    const back = stored(imported.events)
    const second = exportMispEvent(mispIncidentId(first.Event.uuid), back, fold(initialState, back), directory)
    expect(second.Event.uuid).toBe(first.Event.uuid)
    expect(second.Event.info).toBe(first.Event.info)
    expect(second.Event.threat_level_id).toBe(first.Event.threat_level_id)
    expect(second.Event.distribution).toBe(first.Event.distribution)
    expect(second.Event.Tag).toEqual(first.Event.Tag)
    expect(second.Event.Attribute.map((a) => [a.type, a.value, a.distribution])).toEqual(
      first.Event.Attribute.map((a) => [a.type, a.value, a.distribution]),
    )
  })

  it('an observation stricter than its incident comes back as strict', () => {
    const { events, picture } = story({ tlp: 'GREEN' }, 'high', [
      makeEvent(
        6,
        'incident.observation',
        { incidentId: 'inc-ee-7', indicator: 'c2.evil.example' },
        { organisation: 'cert-ee', marking: { tlp: 'AMBER+STRICT', pap: 'RED' } },
      ),
    ])
    const exported = exportMispEvent('inc-ee-7', events, picture, directory)
    const result = importMisp(exported, {
      defaultMarking: { tlp: 'AMBER' },
      organisation: 'cert-ee',
      knownOrganisation,
    })
    const c2 = result.events.find((e) => e.type === 'incident.observation' && e.payload.indicator === 'c2.evil.example')
    expect(c2?.marking).toEqual({ tlp: 'AMBER+STRICT', pap: 'RED' })
  })
})

describe('markings as core combines them [V4, V6, M1]: an export and its import never reach further than what they hold', () => {
  const NATIONS: Record<string, string> = { 'cert-ee': 'EE', 'cert-lv': 'LV', 'cert-lt': 'LT', 'ncsc-nl': 'NL' }
  /** The organisations a cert-ee event of this marking reaches (core's canSee). */
  const reach = (marking: Marking) =>
    Object.keys(NATIONS).filter((organisation) =>
      canSee(
        { organisation, nation: NATIONS[organisation]!, roles: ['analyst'], userId: `${organisation}-analyst` },
        { source: { organisation: 'cert-ee' }, marking },
      ),
    )
  const reported = (marking: Marking) =>
    makeEvent(
      1,
      'incident.reported',
      {
        incidentId: 'inc-m1',
        title: 'Scanning of e-services',
        severity: 'medium',
        category: 'scanning',
        affectedNetworks: [],
      },
      { organisation: 'cert-ee', marking, actor: 'ee-analyst', occurredAt: '2026-11-26T08:00:00.000Z' },
    )
  const observed = (seq: number, indicator: string, count: number, marking: Marking, occurredAt: string) =>
    makeEvent(
      seq,
      'incident.observation',
      { incidentId: 'inc-m1', indicator, count },
      {
        organisation: 'cert-ee',
        marking,
        occurredAt,
      },
    )
  const importedBy = (exported: unknown, organisation = 'cert-ee') =>
    importMisp(JSON.parse(JSON.stringify(exported)), {
      defaultMarking: { tlp: 'AMBER' },
      organisation,
      knownOrganisation: (name) => (name === 'CERT-EE' && organisation === 'cert-ee' ? 'cert-ee' : undefined),
    })

  it('an AMBER sighting with no releasableTo (cert-ee only) and a GREEN one releasable to cert-lv of one indicator: one AMBER attribute naming no one', () => {
    const amber = observed(2, '198.51.100.7', 40, { tlp: 'AMBER' }, '2026-11-26T08:10:00.000Z')
    const green = observed(
      3,
      '198.51.100.7',
      1,
      { tlp: 'GREEN', releasableTo: ['cert-lv'] },
      '2026-11-26T08:20:00.000Z',
    )
    for (const order of [
      [amber, green],
      [green, amber],
    ]) {
      const events = [reported({ tlp: 'GREEN' }), ...order]
      const { Event: e } = exportMispEvent('inc-m1', events, fold(initialState, events), directory)
      expect(e.distribution).toBe('2')
      expect(e.Attribute).toHaveLength(1)
      const [attribute] = e.Attribute
      expect(attribute).toMatchObject({ value: '198.51.100.7', distribution: '0' })
      expect(attribute!.Tag?.map((t) => t.name)).toEqual(['tlp:amber'])
      expect(attribute!.comment).toBe('Observed 41 times in 2 Watchfloor reports')
      // and back: cert-ee's alone, never cert-lv's
      const back = importedBy({ Event: e })
      expect(back.errors).toEqual([])
      const observation = back.events.find((x) => x.type === 'incident.observation')!
      expect(observation.marking).toEqual({ tlp: 'AMBER' })
      expect(reach(observation.marking!)).toEqual(['cert-ee'])
    }
  })

  it('an AMBER sighting naming no one under an incident releasable to cert-lv keeps its own distribution and tags, naming no one', () => {
    const events = [
      reported({ tlp: 'AMBER', releasableTo: ['cert-lv'] }),
      observed(2, '192.0.2.77', 3, { tlp: 'AMBER' }, '2026-11-26T08:10:00.000Z'),
      observed(3, '192.0.2.78', 1, { tlp: 'AMBER', releasableTo: ['cert-lv'] }, '2026-11-26T08:20:00.000Z'),
    ]
    const { Event: e } = exportMispEvent('inc-m1', events, fold(initialState, events), directory)
    expect(e.Attribute.map((a) => [a.value, a.distribution, a.Tag?.map((t) => t.name)])).toEqual([
      ['192.0.2.77', '0', ['tlp:amber']],
      ['192.0.2.78', '5', undefined],
    ])
    const back = importedBy({ Event: e })
    const markings = back.events.filter((x) => x.type === 'incident.observation').map((x) => reach(x.marking!))
    expect(markings).toEqual([['cert-ee'], ['cert-ee', 'cert-lv']])
  })

  it('releasable to nobody (reported for cert-lv, updated for cert-lt): distribution 0 and watchfloor:releasable-to-none, and back', () => {
    const events = [
      reported({ tlp: 'GREEN', releasableTo: ['cert-lv'] }),
      makeEvent(
        2,
        'incident.updated',
        { incidentId: 'inc-m1', summary: 'Also seen against Lithuanian e-services' },
        {
          organisation: 'cert-ee',
          marking: { tlp: 'GREEN', releasableTo: ['cert-lt'] },
          occurredAt: '2026-11-26T08:05:00.000Z',
        },
      ),
      observed(3, '203.0.113.5', 2, { tlp: 'GREEN', releasableTo: ['cert-lv'] }, '2026-11-26T08:10:00.000Z'),
    ]
    const exported = exportMispEvent('inc-m1', events, fold(initialState, events), directory)
    const { Event: e } = exported
    expect(e.distribution).toBe('0')
    const markingTags = e.Tag.map((t) => t.name).filter((n) => /^(tlp|PAP):|^watchfloor:releasable/.test(n))
    expect(markingTags).toEqual(['tlp:green', 'watchfloor:releasable-to-none'])
    // the attribute says what the event says: it inherits its distribution 0
    expect(e.Attribute.map((a) => [a.value, a.distribution])).toEqual([['203.0.113.5', '5']])
    const back = importedBy(exported)
    expect(back.errors).toEqual([])
    const [report, observation] = back.events
    expect(report!.marking).toEqual({ tlp: 'GREEN', releasableTo: [] })
    expect(observation!.marking).toEqual({ tlp: 'GREEN', releasableTo: [] })
    expect(reach(report!.marking!)).toEqual(['cert-ee'])
    expect(reach(observation!.marking!)).toEqual(['cert-ee'])
    // a MISP feed whose distribution setting rewrites every event's distribution: the tag alone still narrows
    const rewritten = structuredClone(exported)
    rewritten.Event.distribution = '3'
    const again = importedBy(rewritten)
    expect(again.events.map((x) => reach(x.marking!))).toEqual([['cert-ee'], ['cert-ee']])
  })

  it('an observation releasable to nobody under a GREEN incident: its own distribution 0 and tag', () => {
    const events = [
      reported({ tlp: 'GREEN' }),
      observed(2, '203.0.113.6', 1, { tlp: 'GREEN', releasableTo: [] }, '2026-11-26T08:10:00.000Z'),
    ]
    const { Event: e } = exportMispEvent('inc-m1', events, fold(initialState, events), directory)
    expect(e.Attribute.map((a) => [a.distribution, a.Tag?.map((t) => t.name)])).toEqual([
      ['0', ['tlp:green', 'watchfloor:releasable-to-none']],
    ])
    const back = importedBy({ Event: e })
    const observation = back.events.find((x) => x.type === 'incident.observation')!
    expect(reach(observation.marking!)).toEqual(['cert-ee'])
  })

  it('events that hold no report of it (a caller’s slice): the incident’s marking as core writes it', () => {
    const events = [reported({ tlp: 'AMBER', releasableTo: [] })]
    const { Event: e } = exportMispEvent('inc-m1', [], fold(initialState, events), directory)
    expect([e.distribution, e.Tag.map((t) => t.name).filter((n) => /^tlp:|^watchfloor:releasable/.test(n))]).toEqual([
      '0',
      ['tlp:amber'],
    ])
  })

  it('an observation marked as its incident in other words (AMBER+STRICT with a list, AMBER with an empty one) inherits', () => {
    for (const [incident, observation] of [
      [{ tlp: 'AMBER+STRICT' }, { tlp: 'AMBER+STRICT', releasableTo: ['cert-lv'] }],
      [{ tlp: 'AMBER' }, { tlp: 'AMBER', releasableTo: [] }],
    ] as [Marking, Marking][]) {
      const events = [reported(incident), observed(2, '203.0.113.7', 1, observation, '2026-11-26T08:10:00.000Z')]
      const { Event: e } = exportMispEvent('inc-m1', events, fold(initialState, events), directory)
      expect(
        e.Attribute.map((a) => a.distribution),
        JSON.stringify(observation),
      ).toEqual(['5'])
    }
  })
})

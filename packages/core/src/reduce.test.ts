import type { Marking, StoredEvent, Viewer } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { fold, maxTime, reduce } from './reduce.ts'
import { networkPostures, openCountsBySeverity, openIncidentsBySeverity, recentActivity } from './selectors.ts'
import { initialState, type State } from './state.ts'
import { makeEvent } from './testing.ts'
import { canSee } from './visibility.ts'

/** given(events).when(event).then(check) */
function given(...events: StoredEvent[]) {
  const before = events.reduce(reduce, initialState)
  return {
    when(...more: StoredEvent[]) {
      const after = more.reduce(reduce, before)
      // biome-ignore lint/suspicious/noThenProperty: given/when/then reads like the rule; never awaited
      return { then: (check: (state: State, before: State) => void) => check(after, before) }
    },
  }
}

const tallinn = makeEvent(1, 'network.registered', {
  networkId: 'ee-gov',
  name: 'Estonian government network',
  organisation: 'cert-ee',
  nation: 'EE',
  kind: 'government',
  location: { lat: 59.437, lon: 24.7536 },
})
const riga = makeEvent(2, 'network.registered', {
  networkId: 'lv-gov',
  name: 'Latvian government network',
  organisation: 'cert-lv',
  nation: 'LV',
  kind: 'government',
  location: { lat: 56.9496, lon: 24.1052 },
})
const worm = makeEvent(3, 'incident.reported', {
  incidentId: 'inc-1',
  title: 'SMB worm on ministry hosts',
  severity: 'high',
  category: 'malware',
  affectedNetworks: ['ee-gov'],
})

describe('reduce', () => {
  it('registers a network with a normal posture', () => {
    given()
      .when(tallinn)
      .then((state) => {
        expect(state.networks.get('ee-gov')).toMatchObject({ posture: 'normal', nation: 'EE', lastSeq: 1 })
        expect(state.seq).toBe(1)
      })
  })

  it('[R2] re-registering keeps the posture and first registration time', () => {
    const degraded = makeEvent(2, 'network.posture_changed', {
      networkId: 'ee-gov',
      posture: 'degraded',
      reason: 'worm',
    })
    const again = makeEvent(3, 'network.registered', { ...tallinn.payload, name: 'EE gov' } as never)
    given(tallinn, degraded)
      .when(again)
      .then((state) => {
        expect(state.networks.get('ee-gov')).toMatchObject({
          name: 'EE gov',
          posture: 'degraded',
          postureReason: 'worm',
          registeredAt: tallinn.occurredAt,
        })
      })
  })

  it('keeps a network short name; registering again without one drops it', () => {
    const named = makeEvent(2, 'network.registered', { ...tallinn.payload, shortName: 'Estonia' } as never)
    given(tallinn)
      .when(named)
      .then((state, before) => {
        expect(state.networks.get('ee-gov')?.shortName).toBe('Estonia')
        expect(before.networks.get('ee-gov')).not.toHaveProperty('shortName')
      })
    given(tallinn, named)
      .when(makeEvent(3, 'network.registered', tallinn.payload as never))
      .then((state) => expect(state.networks.get('ee-gov')).not.toHaveProperty('shortName'))
  })

  it('[R12] no one takes over what another organisation owns: reports, updates, networks, postures, advisories', () => {
    const lv = { organisation: 'cert-lv', marking: { tlp: 'CLEAR' as const } }
    const advisory = makeEvent(4, 'advisory.published', { advisoryId: 'a-1', title: 'Patch', body: 'Patch now' })
    given(tallinn, riga, worm, advisory)
      .when(
        makeEvent(5, 'incident.reported', { ...worm.payload, title: 'Ours now', severity: 'low' } as never, lv),
        makeEvent(6, 'incident.updated', { incidentId: 'inc-1', status: 'closed', summary: 'gone' }, lv),
        makeEvent(7, 'network.registered', { ...tallinn.payload, name: 'renamed' } as never, lv),
        makeEvent(8, 'network.posture_changed', { networkId: 'ee-gov', posture: 'compromised' }, lv),
        makeEvent(9, 'advisory.published', { advisoryId: 'a-1', title: 'Ignore the patch', body: 'x' }, lv),
      )
      .then((state, before) => {
        expect(state.incidents.get('inc-1')).toEqual(before.incidents.get('inc-1'))
        expect(state.incidents.get('inc-1')).toMatchObject({ organisation: 'cert-ee', status: 'new', version: 1 })
        expect(state.networks.get('ee-gov')).toMatchObject({ name: 'Estonian government network', posture: 'normal' })
        expect(state.advisories.get('a-1')).toEqual(before.advisories.get('a-1'))
        expect(state.seq).toBe(9)
        expect(recentActivity(state, 5).map((e) => e.seq)).toEqual([9, 8, 7, 6, 5])
      })
    // the owner still may
    given(tallinn, worm)
      .when(makeEvent(4, 'incident.updated', { incidentId: 'inc-1', status: 'closed' }))
      .then((state) => expect(state.incidents.get('inc-1')?.status).toBe('closed'))
  })

  it('reports an incident as new, open and at version 1', () => {
    given(tallinn)
      .when(worm)
      .then((state) => {
        expect(state.incidents.get('inc-1')).toMatchObject({
          status: 'new',
          severity: 'high',
          version: 1,
          organisation: 'cert-ee',
          observationCount: 0,
          observationReports: 0,
        })
        expect(openCountsBySeverity(state)).toEqual({ low: 0, medium: 0, high: 1, critical: 0 })
      })
  })

  it('updates severity, status and affected networks, bumping the version', () => {
    const update = makeEvent(4, 'incident.updated', {
      incidentId: 'inc-1',
      severity: 'critical',
      status: 'triaged',
      affectedNetworks: ['ee-gov', 'lv-gov'],
    })
    given(tallinn, riga, worm)
      .when(update)
      .then((state) => {
        expect(state.incidents.get('inc-1')).toMatchObject({
          severity: 'critical',
          status: 'triaged',
          affectedNetworks: ['ee-gov', 'lv-gov'],
          version: 2,
          title: 'SMB worm on ministry hosts',
        })
        const lv = networkPostures(state).find((p) => p.network.networkId === 'lv-gov')
        expect(lv?.openIncidents.critical).toBe(1)
      })
  })

  it('counts observations and marks the reporting network as having reported', () => {
    const late = '2026-11-02T10:00:00.000Z'
    const observation = makeEvent(
      4,
      'incident.observation',
      { incidentId: 'inc-1', networkId: 'lv-gov', count: 5, indicator: '445/tcp scan' },
      { network: 'ee-gov', occurredAt: late },
    )
    given(tallinn, riga, worm)
      .when(observation, makeEvent(5, 'incident.observation', { incidentId: 'inc-1' }, { occurredAt: late }))
      .then((state) => {
        // [R13] two reports, their counts summing to 6 (5, and 1 for the report that gives none)
        expect(state.incidents.get('inc-1')).toMatchObject({
          observationCount: 6,
          observationReports: 2,
          lastObservationAt: late,
        })
        expect(state.networks.get('ee-gov')?.lastReportAt).toBe(late) // [R4] source network
        // [R4] a network of another organisation named in the observation did not report itself
        expect(state.networks.get('lv-gov')?.lastReportAt).toBe(riga.occurredAt)
      })
  })

  it('[M1] a network carries the strictest marking of its registrations and posture changes', () => {
    const strict = makeEvent(
      4,
      'network.posture_changed',
      { networkId: 'ee-gov', posture: 'degraded', reason: 'ransomware on the core routers' },
      { marking: { tlp: 'AMBER+STRICT' } },
    )
    given(tallinn, riga, worm)
      .when(strict)
      .then((state) => {
        expect(state.networks.get('ee-gov')?.marking).toEqual({ tlp: 'AMBER+STRICT' })
        expect(state.networks.get('lv-gov')?.marking).toEqual(riga.marking)
      })
    // registered again, more openly: what it showed under the stricter marking is still there
    given(tallinn, riga, worm)
      .when(strict, { ...tallinn, seq: 5, marking: { tlp: 'CLEAR' } })
      .then((state) => expect(state.networks.get('ee-gov')?.marking).toEqual({ tlp: 'AMBER+STRICT' }))
  })

  it('[M1] an incident carries the strictest marking of every event that shaped it, observations too', () => {
    const red: Marking = { tlp: 'RED', recipients: ['kadri'] }
    const escalated = makeEvent(
      4,
      'incident.escalated',
      { incidentId: 'inc-1', severity: 'critical', reason: 'spreading' },
      { marking: red },
    )
    const sighted = makeEvent(
      4,
      'incident.observation',
      { incidentId: 'inc-1', count: 777 },
      { marking: { tlp: 'AMBER+STRICT' } },
    )
    const chat = makeEvent(
      4,
      'comment.posted',
      { commentId: 'c-1', incidentId: 'inc-1', body: 'RED aside', mentions: [] },
      { marking: red },
    )
    given(tallinn, riga)
      .when(worm)
      .then((state) => expect(state.incidents.get('inc-1')!.contentMarking).toEqual(worm.marking))
    given(tallinn, riga, worm)
      .when(escalated)
      .then((state) => {
        const incident = state.incidents.get('inc-1')!
        expect(incident.contentMarking).toEqual(red)
        expect(incident.marking).toEqual(worm.marking) // the report's: who may see it
      })
    given(tallinn, riga, worm)
      .when(sighted)
      .then((state) => expect(state.incidents.get('inc-1')!.contentMarking.tlp).toBe('AMBER+STRICT'))
    // a comment is an object of its own with its own marking: the incident's fields do not change
    given(tallinn, riga, worm)
      .when(chat)
      .then((state) => expect(state.incidents.get('inc-1')!.contentMarking).toEqual(worm.marking))
    // reported again, more openly: what it showed under the stricter marking is still there
    given(tallinn, riga, worm)
      .when(escalated, { ...worm, seq: 5, marking: { tlp: 'CLEAR' } })
      .then((state) => expect(state.incidents.get('inc-1')!.contentMarking.tlp).toBe('RED'))
  })

  it('[M1] what marks an incident: a link on either side and a merge do; another organisation’s update and an observation before its report do not', () => {
    const other = makeEvent(4, 'incident.reported', {
      incidentId: 'inc-2',
      title: 'Second',
      severity: 'low',
      category: 'malware',
      affectedNetworks: [],
    })
    const strict: Marking = { tlp: 'AMBER+STRICT' }
    given(tallinn, riga, worm)
      .when(
        other,
        makeEvent(
          5,
          'incident.linked',
          { incidentId: 'inc-2', otherIncidentId: 'inc-1', relation: 'related' },
          { marking: strict },
        ),
      )
      .then((state) => {
        expect(state.incidents.get('inc-1')!.contentMarking.tlp).toBe('AMBER+STRICT')
        expect(state.incidents.get('inc-2')!.contentMarking.tlp).toBe('AMBER+STRICT')
      })
    // [R12] an update by another organisation is not folded: nothing of it is held
    given(tallinn, riga, worm)
      .when(
        makeEvent(
          4,
          'incident.updated',
          { incidentId: 'inc-1', severity: 'critical' },
          { organisation: 'cert-lv', marking: strict },
        ),
      )
      .then((state) => expect(state.incidents.get('inc-1')!.contentMarking).toEqual(worm.marking))
    // [R3] an observation before the report is not folded either
    given(tallinn, riga)
      .when(makeEvent(3, 'incident.observation', { incidentId: 'inc-1', count: 9 }, { marking: strict }), {
        ...worm,
        seq: 4,
      })
      .then((state) => expect(state.incidents.get('inc-1')!.contentMarking).toEqual(worm.marking))
  })

  it('[R4] only the network’s own organisation makes it report, and no later than five minutes after recording', () => {
    const late = '2026-11-02T10:00:00.000Z'
    const fromLv = (seq: number, payload: object, network?: string) =>
      makeEvent(seq, 'incident.observation', { incidentId: 'inc-1', ...payload } as never, {
        organisation: 'cert-lv',
        occurredAt: late,
        ...(network === undefined ? {} : { network }),
      })
    given(tallinn, riga, worm)
      // cert-lv names cert-ee's network as its source and in an observation: cert-ee's stays silent
      .when(fromLv(4, {}, 'ee-gov'), fromLv(5, { networkId: 'ee-gov' }))
      .then((state) => {
        expect(state.networks.get('ee-gov')?.lastReportAt).toBe(tallinn.occurredAt)
        expect(state.networks.get('ee-gov')?.lastSeq).toBe(tallinn.seq)
        expect(state.incidents.get('inc-1')?.observationReports).toBe(2) // the sightings still count
      })
    // its own sensor, its clock a year ahead: it reported when it was recorded, plus five minutes at most
    const ahead = { ...makeEvent(4, 'incident.observation', { incidentId: 'inc-1' }, { network: 'ee-gov' }) }
    const recordedAt = ahead.recordedAt
    ahead.occurredAt = '2027-11-01T00:00:00.000Z'
    given(tallinn, riga, worm)
      .when(ahead)
      .then((state) => {
        expect(state.networks.get('ee-gov')?.lastReportAt).toBe(
          new Date(Date.parse(recordedAt) + 5 * 60_000).toISOString(),
        )
      })
  })

  it('a closed incident leaves the open lists', () => {
    given(tallinn, worm)
      .when(makeEvent(4, 'incident.updated', { incidentId: 'inc-1', status: 'closed' }))
      .then((state) => {
        expect(openIncidentsBySeverity(state)).toEqual([])
        expect(state.incidents.get('inc-1')?.status).toBe('closed')
      })
  })

  it('[R3] an update to an unknown incident or network changes nothing but seq and recent', () => {
    given(tallinn)
      .when(
        makeEvent(2, 'incident.updated', { incidentId: 'unseen', severity: 'low' }),
        makeEvent(3, 'network.posture_changed', { networkId: 'unseen', posture: 'compromised' }),
      )
      .then((state, before) => {
        expect(state.incidents).toBe(before.incidents)
        expect(state.networks.size).toBe(1)
        expect(state.seq).toBe(3)
        expect(recentActivity(state, 2).map((e) => e.seq)).toEqual([3, 2])
      })
  })

  it('[R1] an event at or below the folded seq is ignored', () => {
    given(tallinn, worm)
      .when(worm, makeEvent(3, 'incident.updated', { incidentId: 'inc-1', severity: 'low' }))
      .then((state, before) => {
        expect(state).toBe(before)
      })
  })

  it('[R1] an out-of-order event inside a batch is neither folded nor listed as recent', () => {
    const state = fold(initialState, [tallinn, worm, riga])
    expect(state.networks.has('lv-gov')).toBe(false)
    expect(state.recent.map((e) => e.seq)).toEqual([1, 3])
  })

  it('publishes advisories with their marking', () => {
    const advisory = makeEvent(
      4,
      'advisory.published',
      { advisoryId: 'adv-1', title: 'Block 445/tcp', body: 'Patch MS17-010.', incidentId: 'inc-1' },
      { marking: { tlp: 'AMBER', releasableTo: ['LV'] } },
    )
    given(tallinn, worm)
      .when(advisory)
      .then((state) => {
        expect(state.advisories.get('adv-1')).toMatchObject({
          organisation: 'cert-ee',
          marking: { tlp: 'AMBER', releasableTo: ['LV'] },
          incidentId: 'inc-1',
        })
      })
  })

  it('[R5] fold equals reducing one by one and never changes its input', () => {
    const events = [
      tallinn,
      riga,
      worm,
      makeEvent(4, 'incident.observation', { incidentId: 'inc-1', count: 2 }),
      makeEvent(5, 'incident.updated', { incidentId: 'inc-1', status: 'contained' }),
      makeEvent(6, 'network.posture_changed', { networkId: 'lv-gov', posture: 'elevated' }),
      makeEvent(7, 'incident.observation', { incidentId: 'inc-1' }),
    ]
    const start = fold(initialState, events.slice(0, 3))
    const snapshot = JSON.stringify([...start.incidents.values(), ...start.networks.values()])
    const folded = fold(start, events.slice(3))
    const reduced = events.slice(3).reduce(reduce, start)
    expect([...folded.incidents.values()]).toEqual([...reduced.incidents.values()])
    expect([...folded.networks.values()]).toEqual([...reduced.networks.values()])
    expect(folded.recent.map((e) => e.seq)).toEqual(reduced.recent.map((e) => e.seq))
    expect(JSON.stringify([...start.incidents.values(), ...start.networks.values()])).toBe(snapshot)
    // [R11] the update is an edit, the observations are not
    expect(folded.incidents.get('inc-1')).toMatchObject({ observationCount: 3, status: 'contained', version: 2 })
  })

  it('[R11] observations move lastSeq and updatedAt but not the version', () => {
    const state = fold(initialState, [
      makeEvent(1, 'incident.reported', {
        incidentId: 'inc-9',
        title: 'Worm',
        severity: 'high',
        category: 'worm',
        affectedNetworks: [],
      }),
      makeEvent(2, 'incident.observation', { incidentId: 'inc-9', count: 5 }),
    ])
    expect(state.incidents.get('inc-9')).toMatchObject({ version: 1, lastSeq: 2, observationCount: 5 })
    expect(state.incidents.get('inc-9')!.updatedAt).toBe(new Date(Date.UTC(2026, 10, 1) + 2000).toISOString())
  })
})

describe('[R15] a marking change (a report with `restated`)', () => {
  const viewer = (userId: string, organisation: string, nation: string): Viewer => ({
    userId,
    organisation,
    nation,
    roles: ['coordinator'],
  })
  const kadri = viewer('kadri', 'cert-ee', 'EE')
  const mart = viewer('mart', 'cert-ee', 'EE')
  const janis = viewer('janis', 'cert-lv', 'LV')
  const pieter = viewer('pieter', 'ncsc-nl', 'NL')
  /** Each viewer's picture: the events it may see, folded. */
  const pictureOf = (who: Viewer, events: StoredEvent[]) =>
    fold(
      initialState,
      events.filter((event) => canSee(who, event)),
    ).incidents.get('inc-1')
  const shared: Marking = { tlp: 'AMBER', releasableTo: ['cert-lv'] }
  const log = [
    tallinn,
    riga,
    makeEvent(3, 'incident.reported', worm.payload as never, { marking: shared }),
    makeEvent(4, 'incident.status_changed', { incidentId: 'inc-1', status: 'contained' }, { marking: shared }),
    makeEvent(
      5,
      'incident.network_state_set',
      { incidentId: 'inc-1', networkId: 'ee-gov', state: 'recovered' },
      { marking: shared },
    ),
    // a RED update mart (its own organisation's coordinator) is not a recipient of
    makeEvent(
      6,
      'incident.updated',
      { incidentId: 'inc-1', severity: 'critical', summary: 'wiper found' },
      { marking: { tlp: 'RED', recipients: ['kadri', 'janis'] } },
    ),
    // mart widens it to ncsc-nl: the report says the incident as mart's picture holds it
    makeEvent(
      7,
      'incident.reported',
      {
        ...(worm.payload as never as object),
        restated: {
          status: 'contained',
          networkStates: { 'ee-gov': 'recovered' },
          // when mart's picture set each field: the report (3), the status (4), the network's state (5)
          setAt: { ...reportedAt(3), status: 4, networkStates: { 'ee-gov': 5 } },
        },
      } as never,
      { marking: { tlp: 'AMBER', releasableTo: ['cert-lv', 'ncsc-nl'] }, actor: 'mart' },
    ),
  ]

  it('folded by mart, the incident says when each field was set', () => {
    expect(pictureOf(mart, log.slice(0, 6))?.setAt).toEqual({
      ...reportedAt(3),
      status: 4,
      networkStates: { 'ee-gov': 5 },
    })
    expect(pictureOf(kadri, log.slice(0, 6))?.setAt).toMatchObject({ severity: 6, summary: 6, title: 3 })
  })

  it('changes only the marking of a picture that holds the incident: a RED update its author could not see stays', () => {
    for (const who of [kadri, janis])
      expect(pictureOf(who, log), who.userId).toMatchObject({
        severity: 'critical',
        summary: 'wiper found',
        status: 'contained',
        networkStates: { 'ee-gov': 'recovered' },
        marking: { tlp: 'AMBER', releasableTo: ['cert-lv', 'ncsc-nl'] },
        reportedBy: 'mart',
        version: 5,
        lastSeq: 7,
      })
    expect(pictureOf(mart, log)).toMatchObject({ severity: 'high', version: 4, lastSeq: 7 })
    expect(pictureOf(mart, log)?.summary).toBeUndefined()
  })

  it('gives a picture it newly reaches the incident as stated, with its status and network states', () => {
    expect(pictureOf(pieter, log.slice(0, 6))).toBeUndefined()
    const seen = pictureOf(pieter, log)!
    expect(seen).toMatchObject({
      severity: 'high',
      status: 'contained',
      networkStates: { 'ee-gov': 'recovered' },
      affectedNetworks: ['ee-gov'],
      version: 1,
    })
    expect(seen.summary).toBeUndefined()
    // a report without `restated` is the owner saying the incident again: it is taken as stated
    const plain = makeEvent(7, 'incident.reported', worm.payload as never, {
      marking: { tlp: 'AMBER', releasableTo: ['cert-lv', 'ncsc-nl'] },
    })
    expect(pictureOf(kadri, [...log.slice(0, 6), plain])).toMatchObject({ severity: 'high', status: 'contained' })
    expect(pictureOf(pieter, [...log.slice(0, 6), plain])).toMatchObject({ status: 'new' })
    // a restatement written before `setAt` was asked (never by a release): taken as never set, not a throw
    const { setAt: _, ...without } = (log[6]!.payload as { restated: { setAt: object } }).restated
    const older = { ...log[6]!, payload: { ...(log[6]!.payload as object), restated: without } } as StoredEvent
    expect(pictureOf(pieter, [...log.slice(0, 6), older])).toMatchObject({ status: 'contained', version: 1 })
    expect(pictureOf(kadri, [...log.slice(0, 6), older])).toMatchObject({ severity: 'critical' })
  })

  const restated = (seq: number, marking: Marking, payload: object, restatement: object) =>
    makeEvent(seq, 'incident.reported', { ...(worm.payload as object), ...payload, restated: restatement } as never, {
      marking,
      actor: 'kadri',
    })
  const own: Marking = { tlp: 'AMBER' }
  const wider: Marking = { tlp: 'AMBER', releasableTo: ['cert-lv', 'ncsc-nl'] }

  it('a picture cut off by a narrowing and reached again takes what was set while it was cut off', () => {
    const cutOff = [
      tallinn,
      riga,
      makeEvent(3, 'incident.reported', worm.payload as never, { marking: shared }),
      // narrowed to cert-ee: janis no longer receives anything of it
      restated(4, own, {}, { status: 'new', setAt: { ...reportedAt(3), status: 0 } }),
      makeEvent(
        5,
        'incident.escalated',
        { incidentId: 'inc-1', severity: 'critical', reason: 'spreading' },
        { marking: own },
      ),
      makeEvent(6, 'incident.status_changed', { incidentId: 'inc-1', status: 'contained' }, { marking: own }),
      // widened again: janis holds the copy of seq 3
      restated(
        7,
        wider,
        { severity: 'critical' },
        { status: 'contained', setAt: { ...reportedAt(3), severity: 5, status: 6 } },
      ),
    ]
    expect(pictureOf(janis, cutOff.slice(0, 6))).toMatchObject({ severity: 'high', status: 'new', version: 1 })
    expect(pictureOf(janis, cutOff)).toMatchObject({
      severity: 'critical',
      status: 'contained',
      marking: wider,
      setAt: { severity: 5, status: 6 },
    })
    expect(pictureOf(kadri, cutOff)).toMatchObject({ severity: 'critical', status: 'contained', marking: wider })
    expect(pictureOf(pieter, cutOff)).toMatchObject({ severity: 'critical', status: 'contained', version: 1 })
  })

  it('a status set before a wider report, restated: every picture it reaches says it alike', () => {
    const widened = [
      tallinn,
      riga,
      makeEvent(3, 'incident.reported', worm.payload as never, { marking: own }),
      makeEvent(4, 'incident.status_changed', { incidentId: 'inc-1', status: 'contained' }, { marking: own }),
      // the sensor reports it again for cert-lv: the status stays cert-ee's alone
      makeEvent(5, 'incident.reported', worm.payload as never, { marking: shared }),
      restated(6, wider, {}, { status: 'contained', setAt: { ...reportedAt(5), status: 4 } }),
    ]
    expect(pictureOf(janis, widened.slice(0, 5))).toMatchObject({ status: 'new', setAt: { status: 0 } })
    for (const who of [kadri, janis, pieter])
      expect(pictureOf(who, widened), who.userId).toMatchObject({ status: 'contained' })
  })

  it('[R9] a network whose state the picture only keeps is not put back among its affected networks; one whose state it takes is', () => {
    const dropped = [
      tallinn,
      riga,
      makeEvent(3, 'incident.reported', {
        ...(worm.payload as object),
        affectedNetworks: ['ee-gov', 'lv-gov'],
      } as never),
      makeEvent(4, 'incident.network_state_set', { incidentId: 'inc-1', networkId: 'lv-gov', state: 'contained' }),
      // the author's picture: a later report named ee-gov alone
      restated(5, { tlp: 'GREEN', pap: 'GREEN' }, {}, { status: 'new', setAt: { ...reportedAt(5), status: 0 } }),
    ]
    // the author's later report dropped lv-gov: kadri takes that list, and keeps lv-gov's state
    expect(pictureOf(kadri, dropped)).toMatchObject({
      affectedNetworks: ['ee-gov'],
      networkStates: { 'lv-gov': 'contained' },
    })
    // a state the author set later, of a network this picture's list lacks: taken, and the network with it
    const added = [
      tallinn,
      riga,
      makeEvent(3, 'incident.reported', worm.payload as never, { marking: shared }),
      restated(
        6,
        wider,
        { affectedNetworks: ['lv-gov'] },
        {
          status: 'new',
          networkStates: { 'lv-gov': 'recovered' },
          setAt: { ...reportedAt(3), networks: 4, networkStates: { 'lv-gov': 5 } },
        },
      ),
    ]
    // janis's own list is as new as the author's (seq 3 < 4: the author's is newer): taken whole
    expect(pictureOf(janis, added)).toMatchObject({
      affectedNetworks: ['lv-gov'],
      networkStates: { 'lv-gov': 'recovered' },
    })
  })

  it('[R15, R14] a picture a marking change newly reaches restates it no wider than it was given', () => {
    const red: Marking = { tlp: 'RED', recipients: ['mart'] }
    const given = [tallinn, riga, restated(3, red, {}, { status: 'new', setAt: { ...reportedAt(2), status: 0 } })]
    expect(pictureOf(mart, given)).toMatchObject({ statedMarking: red })
    // a report of its own saying something new is its own again
    const fresh = makeEvent(4, 'incident.reported', { ...(worm.payload as object), title: 'Renamed' } as never, {
      marking: red,
      actor: 'kadri',
    })
    expect(pictureOf(mart, [...given, fresh])?.statedMarking).toBeUndefined()
  })

  it('[R14] under a RED report, a non-RED update is stricter unless it reaches everyone', () => {
    const red: Marking = { tlp: 'RED', recipients: ['janis'] }
    const update = (marking: Marking) =>
      makeEvent(4, 'incident.updated', { incidentId: 'inc-1', summary: 'internal finding' }, { marking })
    const base = [
      tallinn,
      riga,
      makeEvent(3, 'incident.reported', worm.payload as never, { marking: red, actor: 'kadri' }),
    ]
    // kadri, its author, holds both; janis (cert-lv), a recipient, is not among cert-ee's own
    // organisation, whom an AMBER update reaches
    expect(pictureOf(kadri, [...base, update({ tlp: 'AMBER' })])).toMatchObject({ statedMarking: { tlp: 'AMBER' } })
    for (const everyone of [{ tlp: 'GREEN' }, { tlp: 'CLEAR' }] as Marking[])
      expect(pictureOf(kadri, [...base, update(everyone)])?.statedMarking, everyone.tlp).toBeUndefined()
    expect(pictureOf(kadri, [...base, update({ tlp: 'GREEN', pap: 'RED' })])?.statedMarking).toMatchObject({
      pap: 'RED',
    })
  })

  it("[R14] a RED update for the report's recipients but not its author is stricter than the report", () => {
    const red: Marking = { tlp: 'RED', recipients: ['mart'] }
    const events = [
      tallinn,
      riga,
      makeEvent(3, 'incident.reported', worm.payload as never, { marking: red, actor: 'kadri' }),
      makeEvent(4, 'incident.updated', { incidentId: 'inc-1', summary: 'insider suspected' }, { marking: red }),
    ]
    expect(pictureOf(mart, events)).toMatchObject({ summary: 'insider suspected', statedMarking: red })
    // with its author among those it reaches, it is not
    const withAuthor = makeEvent(
      4,
      'incident.updated',
      { incidentId: 'inc-1', summary: 'insider suspected' },
      {
        marking: { tlp: 'RED', recipients: ['mart', 'kadri'] },
      },
    )
    expect(pictureOf(mart, [...events.slice(0, 3), withAuthor])?.statedMarking).toBeUndefined()
  })
})

/** [R15] `setAt` of a picture whose report of `seq` set what a report says, and nothing else yet. */
function reportedAt(seq: number) {
  return { title: seq, severity: seq, category: seq, summary: seq, networks: seq, attackSource: seq, status: 0 }
}

describe('maxTime', () => {
  it('orders timestamps of one shape as strings and any others by parsing', () => {
    expect(maxTime(undefined, '2026-11-26T08:00:00.000Z')).toBe('2026-11-26T08:00:00.000Z')
    expect(maxTime('2026-11-26T08:00:00.000Z', '2026-11-26T09:00:00.000Z')).toBe('2026-11-26T09:00:00.000Z')
    expect(maxTime('2026-11-26T10:00:00.000Z', '2026-11-26T09:00:00.000Z')).toBe('2026-11-26T10:00:00.000Z')
    // other shapes: offsets and missing milliseconds are compared as instants
    expect(maxTime('2026-11-26T10:00:00+02:00', '2026-11-26T09:00:00.000Z')).toBe('2026-11-26T09:00:00.000Z')
    expect(maxTime('2026-11-26T09:00:01Z', '2026-11-26T09:00:00.500Z')).toBe('2026-11-26T09:00:01Z')
  })
})

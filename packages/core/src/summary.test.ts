import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { fold } from './reduce.ts'
import { initialState } from './state.ts'
import { summarise, summaryLine, summaryNamed, summaryTitles, titleNames } from './summary.ts'
import { makeEvent } from './testing.ts'

const base = {
  id: 'e-1',
  seq: 1,
  occurredAt: '2026-12-01T10:00:00.000Z',
  recordedAt: '2026-12-01T10:00:00.000Z',
  source: { organisation: 'cert-ee' },
  actor: { user: 'liis', organisation: 'cert-ee' },
  marking: { tlp: 'GREEN' },
} as const

const TASK = '0b6f6a63-5a52-4c3e-9a8e-2f1b7f1e9c11'
const event = (type: string, payload: object) => ({ ...base, type, payload }) as unknown as StoredEvent

const names = {
  incident: (id: string) => ({ 'inc-1': 'Wiper on the grid', 'inc-2': 'Phishing wave' })[id],
  task: (id: string) => (id === TASK ? 'Isolate the jump hosts' : undefined),
  person: (id: string) => (id === 'liis' ? 'Liis Saar' : undefined),
}

describe('summarise with names: titles and names instead of ids', () => {
  it('without names, the ids as before', () => {
    expect(summarise(event('task.accepted', { taskId: TASK }))).toBe(`Task ${TASK} accepted by liis`)
    expect(
      summarise(event('incident.linked', { incidentId: 'inc-1', otherIncidentId: 'inc-2', relation: 'related' })),
    ).toBe('Incident inc-1 related inc-2')
  })

  it('with names: no task UUID, incidents by title, people by name; an unknown id stays as it is', () => {
    expect(summarise(event('task.accepted', { taskId: TASK }), names)).toBe(
      'Task "Isolate the jump hosts" accepted by Liis Saar',
    )
    expect(
      summarise(
        event('task.created', { taskId: TASK, incidentId: 'inc-1', title: 'Isolate the jump hosts', priority: 'high' }),
        names,
      ),
    ).toBe('Task "Isolate the jump hosts" (high) for "Wiper on the grid"')
    expect(summarise(event('task.assigned', { taskId: TASK, assignee: { kind: 'user', userId: 'liis' } }), names)).toBe(
      'Task "Isolate the jump hosts" assigned to Liis Saar',
    )
    expect(
      summarise(
        event('incident.linked', { incidentId: 'inc-1', otherIncidentId: 'inc-9', relation: 'duplicate_of' }),
        names,
      ),
    ).toBe('Incident "Wiper on the grid" duplicate of inc-9')
  })

  it('says the note or reason a person gave: acknowledged, completed, reopened', () => {
    expect(summarise(event('incident.acknowledged', { incidentId: 'inc-1', note: 'on it' }), names)).toBe(
      'Incident "Wiper on the grid" acknowledged by Liis Saar: on it',
    )
    expect(summarise(event('task.completed', { taskId: TASK, note: 'swept' }), names)).toBe(
      'Task "Isolate the jump hosts" completed by Liis Saar: swept',
    )
    expect(summarise(event('task.reopened', { taskId: TASK, reason: 'again' }), names)).toBe(
      'Task "Isolate the jump hosts" reopened by Liis Saar: again',
    )
    // without one, nothing after the actor
    expect(summarise(event('task.reopened', { taskId: TASK }), names)).toBe(
      'Task "Isolate the jump hosts" reopened by Liis Saar',
    )
    expect(summarise(event('incident.acknowledged', { incidentId: 'inc-1' }))).toBe(
      'Incident inc-1 acknowledged by liis',
    )
  })
})

describe('[M1] what a summary names by title, and the markings those titles carry', () => {
  it('names exactly the incidents, tasks and networks summarise asks titles and names for', () => {
    expect(
      summaryNamed(
        event('incident.linked', { incidentId: 'inc-1', otherIncidentId: 'inc-2', relation: 'merged_into' }),
      ),
    ).toEqual({ incidents: ['inc-1', 'inc-2'], tasks: [], networks: [] })
    expect(summaryNamed(event('task.accepted', { taskId: TASK }))).toEqual({
      incidents: [],
      tasks: [TASK],
      networks: [],
    })
    // a task's creation shows the title it carries itself, and its incident's
    expect(
      summaryNamed(event('task.created', { taskId: TASK, incidentId: 'inc-1', title: 'x', priority: 'high' })),
    ).toEqual({ incidents: ['inc-1'], tasks: [], networks: [] })
    expect(summaryNamed(event('bookmark.saved', { bookmarkId: 'b', title: 'b', at: base.occurredAt }))).toEqual({
      incidents: [],
      tasks: [],
      networks: [],
    })
    // an observation on a network, a posture, a network's state in an incident; a registration says its own name
    expect(summaryNamed(event('incident.observation', { incidentId: 'inc-1', networkId: 'ee-gov' }))).toEqual({
      incidents: ['inc-1'],
      tasks: [],
      networks: ['ee-gov'],
    })
    expect(
      summaryNamed(event('network.posture_changed', { networkId: 'ee-gov', posture: 'elevated' })).networks,
    ).toEqual(['ee-gov'])
    expect(
      summaryNamed(
        event('incident.network_state_set', { incidentId: 'inc-1', networkId: 'ee-gov', state: 'contained' }),
      ).networks,
    ).toEqual(['ee-gov'])
  })

  it('[R15] a marking change says the marking it sets and who set it', () => {
    const change = makeEvent(
      9,
      'incident.reported',
      {
        incidentId: 'i',
        title: 'Worm',
        severity: 'high',
        category: 'x',
        affectedNetworks: [],
        restated: {
          status: 'contained',
          setAt: { title: 1, severity: 1, category: 1, summary: 1, networks: 1, attackSource: 1, status: 4 },
        },
      },
      { marking: { tlp: 'AMBER', releasableTo: ['cert-lv'] }, actor: 'mart' },
    )
    expect(summarise(change, { person: (id) => (id === 'mart' ? 'Mart Tamm' : undefined) })).toBe(
      'Incident "Worm" now marked TLP:AMBER releasable to cert-lv by Mart Tamm',
    )
    expect(summaryNamed(change)).toEqual({ incidents: [], tasks: [], networks: [] })
  })

  const green = { marking: { tlp: 'GREEN' as const } }
  const picture = fold(initialState, [
    makeEvent(
      1,
      'incident.reported',
      { incidentId: 'i', title: 'Worm', severity: 'high', category: 'x', affectedNetworks: [] },
      green,
    ),
    makeEvent(
      2,
      'incident.reported',
      { incidentId: 'j', title: 'Phishing', severity: 'high', category: 'x', affectedNetworks: [] },
      green,
    ),
    makeEvent(3, 'incident.linked', { incidentId: 'i', otherIncidentId: 'j', relation: 'related' }, green),
    // the other incident re-reported AMBER under a new title; a task of it created AMBER
    makeEvent(
      4,
      'incident.reported',
      { incidentId: 'j', title: 'Ministry mail owned', severity: 'high', category: 'x', affectedNetworks: [] },
      { marking: { tlp: 'AMBER' } },
    ),
    makeEvent(
      5,
      'task.created',
      { taskId: TASK, incidentId: 'j', title: 'Call the ministry', priority: 'high' },
      { marking: { tlp: 'AMBER+STRICT' } },
    ),
  ])
  const link = makeEvent(3, 'incident.linked', { incidentId: 'i', otherIncidentId: 'j', relation: 'related' }, green)
  const accepted = makeEvent(6, 'task.accepted', { taskId: TASK }, green)

  it('the titles of a list of events, each with its contentMarking; summarised with just those titles', () => {
    const titles = summaryTitles(picture, [link, accepted, makeEvent(7, 'task.accepted', { taskId: 'nope' })])
    expect([...titles.incidents]).toEqual([
      ['i', 'Worm'],
      ['j', 'Ministry mail owned'],
    ])
    expect([...titles.tasks]).toEqual([[TASK, 'Call the ministry']])
    expect(titles.markings.map((m) => m.tlp)).toEqual(['GREEN', 'AMBER', 'AMBER+STRICT'])
    expect(summarise(link, titleNames(titles))).toBe('Incident "Worm" related "Ministry mail owned"')
    // a title it does not list is never shown: the id instead
    expect(summarise(link, titleNames(summaryTitles(picture, [accepted])))).toBe('Incident i related j')
  })

  it('a row naming a stricter incident or task carries its TLP: the link AMBER, the other incident’s task AMBER+STRICT', () => {
    expect(summaryLine(picture, link)).toEqual({
      text: 'Incident "Worm" related "Ministry mail owned"',
      whole: 'Incident "Worm" related "Ministry mail owned"',
      tlp: 'AMBER',
    })
    expect(summaryLine(picture, accepted, (id) => (id === 'liis' ? 'Liis' : undefined))).toEqual({
      text: 'Task "Call the ministry" accepted',
      whole: 'Task "Call the ministry" accepted',
      tlp: 'AMBER+STRICT',
    })
    // a long reason: the line cut at 140 characters, and whole beside it, with the same names
    const reason = `${'the SMB beacon is still calling out from the historian '.repeat(4)}end`
    const blocked = makeEvent(9, 'task.blocked', { taskId: TASK, reason })
    const long = summaryLine(picture, blocked)
    expect(long.text).toHaveLength(140)
    expect(long.text.endsWith('…')).toBe(true)
    expect(long.whole).toBe(`Task "Call the ministry" blocked: ${reason}`)
    // naming nothing stricter: the event's own
    expect(
      summaryLine(picture, makeEvent(8, 'task.accepted', { taskId: 'nope' }, { marking: { tlp: 'RED' } })).tlp,
    ).toBe('RED')
  })
})

describe('[M1] networks by name: the short name, else the name; the row carries the network’s marking', () => {
  const registration = makeEvent(
    1,
    'network.registered',
    {
      networkId: 'ee-gov',
      name: 'Estonian government network',
      shortName: 'Estonia gov',
      organisation: 'cert-ee',
      nation: 'EE',
      kind: 'government',
      location: { lat: 59.437, lon: 24.7536 },
    },
    { marking: { tlp: 'AMBER' } },
  )
  const unnamed = makeEvent(2, 'network.registered', {
    networkId: 'lv-gov',
    name: 'Latvian government network',
    organisation: 'cert-lv',
    nation: 'LV',
    kind: 'government',
    location: { lat: 56.9496, lon: 24.1052 },
  })
  const picture = fold(initialState, [
    registration,
    unnamed,
    makeEvent(3, 'incident.reported', {
      incidentId: 'i',
      title: 'Worm',
      severity: 'high',
      category: 'x',
      affectedNetworks: ['ee-gov'],
    }),
  ])

  it('an observation on a network, its posture and its state in an incident, by name; its marking counted', () => {
    const observed = makeEvent(4, 'incident.observation', { incidentId: 'i', networkId: 'ee-gov', count: 3 })
    expect(summaryLine(picture, observed)).toMatchObject({
      text: 'Observation (count 3) for "Worm" on Estonia gov',
      tlp: 'AMBER',
    })
    const posture = makeEvent(5, 'network.posture_changed', { networkId: 'lv-gov', posture: 'elevated' })
    expect(summaryLine(picture, posture)).toMatchObject({
      text: 'Network Latvian government network posture elevated',
      tlp: 'GREEN',
    })
    const state = makeEvent(6, 'incident.network_state_set', {
      incidentId: 'i',
      networkId: 'ee-gov',
      state: 'contained',
    })
    expect(summaryLine(picture, state).text).toBe('Incident "Worm": network Estonia gov contained')
    // a network the picture does not hold stays an id, and adds no marking
    const elsewhere = makeEvent(7, 'incident.observation', { incidentId: 'i', networkId: 'nl-gov' })
    expect(summaryLine(picture, elsewhere)).toMatchObject({ text: 'Observation for "Worm" on nl-gov', tlp: 'GREEN' })
    expect([...summaryTitles(picture, [observed, posture, elsewhere]).networks]).toEqual([
      ['ee-gov', 'Estonia gov'],
      ['lv-gov', 'Latvian government network'],
    ])
  })
})

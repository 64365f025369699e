import { documentMarking, fold, initialState, makeEvent, summaryTitles } from '@watchfloor/core'
import type { Marking, StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { namesOf, summaryNames } from '../coordination/people.ts'
import { withHistory } from './history.ts'
import {
  acknowledgeText,
  bannerMarking,
  buildReport,
  durationText,
  formatDuration,
  taskStepsText,
  timelineLines,
} from './report.ts'

const T0 = Date.UTC(2026, 10, 1)
const at = (min: number) => ({ occurredAt: new Date(T0 + min * 60_000).toISOString() })

describe('after-action report', () => {
  const events: StoredEvent[] = [
    makeEvent(
      1,
      'incident.reported',
      { incidentId: 'i1', title: 'Worm', severity: 'high', category: 'malware', affectedNetworks: ['ee-gov'] },
      at(0),
    ),
    makeEvent(2, 'incident.observation', { incidentId: 'i1', count: 5 }, at(1)),
    makeEvent(3, 'incident.acknowledged', { incidentId: 'i1' }, { ...at(4), actor: 'mari' }),
    makeEvent(
      4,
      'task.created',
      { taskId: 't1', incidentId: 'i1', title: 'Isolate hosts', priority: 'high' },
      { ...at(5), actor: 'coord' },
    ),
    makeEvent(5, 'task.completed', { taskId: 't1' }, { ...at(30), actor: 'kadri' }),
    makeEvent(6, 'incident.network_state_set', { incidentId: 'i1', networkId: 'ee-gov', state: 'contained' }, at(31)),
    makeEvent(7, 'incident.status_changed', { incidentId: 'i1', status: 'contained' }, at(32)),
    makeEvent(8, 'advisory.published', { advisoryId: 'a1', title: 'Patch', body: 'b', incidentId: 'i1' }, at(40)),
    makeEvent(9, 'incident.status_changed', { incidentId: 'i1', status: 'recovered' }, at(120)),
    makeEvent(
      10,
      'incident.reported',
      { incidentId: 'i2', title: 'Other', severity: 'low', category: 'x', affectedNetworks: [] },
      at(3),
    ),
  ]
  const state = fold(initialState, events)

  it('lists key events, networks over time, tasks with who did them, advisories and response times', () => {
    const report = buildReport(state, events, 'i1')!
    expect(report.keyEvents.map((e) => e.seq)).toEqual([1, 3, 4, 5, 6, 7, 8, 9])
    expect(report.observations).toEqual({ reports: 1, count: 5, first: at(1).occurredAt, last: at(1).occurredAt })
    expect(report.networks.map((n) => `${n.networkId}:${n.state}`)).toEqual(['ee-gov:affected', 'ee-gov:contained'])
    expect(report.tasks).toHaveLength(1)
    expect(report.tasks[0]!.steps.map((s) => `${s.type} by ${s.by}`)).toEqual([
      'created by coord',
      'completed by kadri',
    ])
    expect(report.advisories.map((a) => a.advisoryId)).toEqual(['a1'])
    expect(report.durations).toEqual({ acknowledge: 4 * 60_000, contain: 32 * 60_000, recover: 120 * 60_000 })
  })

  it('[R15] a marking change lists no network again where it held one; it names those it newly reaches with their state', () => {
    const change = makeEvent(
      11,
      'incident.reported',
      {
        incidentId: 'i1',
        title: 'Worm',
        severity: 'high',
        category: 'malware',
        affectedNetworks: ['ee-gov', 'lv-gov'],
        restated: {
          status: 'recovered',
          networkStates: { 'ee-gov': 'contained', 'lv-gov': 'recovered' },
          setAt: {
            title: 1,
            severity: 1,
            category: 1,
            summary: 1,
            networks: 11,
            attackSource: 1,
            status: 9,
            networkStates: { 'ee-gov': 6, 'lv-gov': 11 },
          },
        },
      },
      { ...at(150), actor: 'coord' },
    )
    const held = [...events, change]
    const report = buildReport(fold(initialState, held), held, 'i1')!
    expect(report.networks.map((n) => `${n.networkId}:${n.state}`)).toEqual([
      'ee-gov:affected',
      'ee-gov:contained',
      'lv-gov:recovered',
    ])
    // a picture it newly reaches has only this report: each network as it stands
    const fresh = buildReport(fold(initialState, [change]), [change], 'i1')!
    expect(fresh.networks.map((n) => `${n.networkId}:${n.state}`)).toEqual(['ee-gov:contained', 'lv-gov:recovered'])
    // it arrived recovered: contained and recovered when it was first reported to this picture, not "not yet"
    expect(fresh.durations).toMatchObject({ contain: 0, recover: 0 })
    // where the picture saw the containment itself, that time stands
    expect(report.durations).toMatchObject({ contain: 32 * 60_000, recover: 120 * 60_000 })
  })

  it('[R15] a restated status counts only where this picture took it, not over its own newer status', () => {
    const setAt = (status: number) => ({
      title: 1,
      severity: 1,
      category: 1,
      summary: 1,
      networks: 1,
      attackSource: 1,
      status,
    })
    const report = makeEvent(
      1,
      'incident.reported',
      { incidentId: 'i9', title: 'Beacon', severity: 'high', category: 'malware', affectedNetworks: [] },
      at(0),
    )
    // seq 2 (closed, by an event this viewer was never sent); seq 3, its own reopening, is newer
    const reopened = makeEvent(3, 'incident.status_changed', { incidentId: 'i9', status: 'triaged' }, at(10))
    const restated = (seq: number, status: number) =>
      makeEvent(
        seq,
        'incident.reported',
        {
          incidentId: 'i9',
          title: 'Beacon',
          severity: 'high',
          category: 'malware',
          affectedNetworks: [],
          restated: { status: 'closed', setAt: setAt(status) },
        },
        { ...at(14), actor: 'coord' },
      )
    const kept = [report, reopened, restated(4, 2)]
    const own = buildReport(fold(initialState, kept), kept, 'i9')!
    expect(own.incident.status).toBe('triaged')
    expect(own.durations).toMatchObject({ contain: null, recover: null })
    // closed later than its reopening in the author's picture: taken, and counted
    const newer = [report, reopened, restated(5, 4)]
    const took = buildReport(fold(initialState, newer), newer, 'i9')!
    expect(took.incident.status).toBe('closed')
    expect(took.durations).toMatchObject({ contain: 14 * 60_000, recover: 14 * 60_000 })
  })

  it('is null for an incident this viewer never received', () => {
    expect(buildReport(state, events, 'nope')).toBeNull()
  })

  it('formats durations', () => {
    expect(formatDuration(null)).toBe('not yet')
    expect(formatDuration(45_000)).toBe('45 s')
    expect(formatDuration(102_000)).toBe('1 min 42 s')
    expect(formatDuration(180_000)).toBe('3 min')
    expect(formatDuration(20 * 60_000)).toBe('20 min')
    expect(formatDuration(200 * 60_000)).toBe('3 h 20 min')
    expect(formatDuration(52 * 3_600_000)).toBe('2 d 4 h')
  })

  it('[M1] is marked with the strictest marking of what it lists, not the incident’s', () => {
    const amber: StoredEvent[] = [
      makeEvent(
        1,
        'incident.reported',
        { incidentId: 'g', title: 'Green', severity: 'medium', category: 'x', affectedNetworks: [] },
        { ...at(0), marking: { tlp: 'GREEN' } },
      ),
      makeEvent(
        2,
        'advisory.published',
        { advisoryId: 'a', title: 'Amber advice', body: 'b', incidentId: 'g' },
        { ...at(5), marking: { tlp: 'AMBER', pap: 'GREEN' } },
      ),
    ]
    const report = buildReport(fold(initialState, amber), amber, 'g')!
    expect(report.incident.marking.tlp).toBe('GREEN')
    expect(report.marking).toEqual({ tlp: 'AMBER', pap: 'GREEN' })
  })

  it('[M1] is marked by what it says: stricter observations it counts, networks it names, updates before its window', () => {
    const green = { marking: { tlp: 'GREEN' as const } }
    const reported = makeEvent(
      2,
      'incident.reported',
      { incidentId: 'g', title: 'Green', severity: 'medium', category: 'x', affectedNetworks: ['secret-net'] },
      { ...at(0), ...green },
    )
    const network = makeEvent(
      1,
      'network.registered',
      {
        networkId: 'secret-net',
        name: 'SECRET NET NAME',
        organisation: 'cert-ee',
        nation: 'EE',
        kind: 'government',
        location: { lat: 59, lon: 24 },
      },
      { ...at(0), marking: { tlp: 'AMBER+STRICT' }, organisation: 'cert-ee' },
    )
    const red = makeEvent(
      3,
      'incident.observation',
      { incidentId: 'g', count: 4242 },
      { ...at(2), marking: { tlp: 'RED', recipients: ['kadri'] } },
    )
    // the observation alone: the report counts it, so it is RED
    const observed = [reported, red]
    expect(buildReport(fold(initialState, observed), observed, 'g')!.marking).toEqual({ tlp: 'RED' })
    // the network alone: its name is in the report
    const named = [network, reported]
    const report = buildReport(fold(initialState, named), named, 'g')!
    expect(report.networks.map((n) => n.name)).toEqual(['SECRET NET NAME'])
    expect(report.marking).toEqual({ tlp: 'AMBER+STRICT' })
    // a RED escalation older than the window loaded: the final severity shown is still RED's
    const escalated = makeEvent(
      3,
      'incident.escalated',
      { incidentId: 'g', severity: 'critical', reason: 'spreading' },
      { ...at(1), marking: { tlp: 'RED', recipients: ['kadri'] } },
    )
    const whole = [reported, escalated]
    const late = buildReport(fold(initialState, whole), [], 'g')!
    expect(late.incident.severity).toBe('critical')
    expect(late.marking).toEqual({ tlp: 'RED' })
  })

  it('[M1] its banner counts what its map images drew: a GREEN report with an AMBER+STRICT map is AMBER+STRICT', () => {
    const green = buildReport(state, events, 'i1')!
    expect(green.marking).toEqual({ tlp: 'GREEN' })
    expect(bannerMarking(green.marking, [])).toEqual({ tlp: 'GREEN' })
    const maps = [
      { marking: { tlp: 'CLEAR' as const } },
      { marking: { tlp: 'AMBER+STRICT' as const, pap: 'CLEAR' as const } },
    ]
    expect(bannerMarking(green.marking, maps)).toEqual({ tlp: 'AMBER+STRICT', pap: 'CLEAR' })
    expect(bannerMarking(green.marking, [...maps, { marking: { tlp: 'RED' } }])).toEqual({ tlp: 'RED', pap: 'CLEAR' })
    // the images never lower the report's own
    expect(bannerMarking({ tlp: 'AMBER', pap: 'RED' }, [{ marking: { tlp: 'CLEAR' } }])).toEqual({
      tlp: 'AMBER',
      pap: 'RED',
    })
  })

  describe('[M1] is marked by the titles its timeline names: another incident, a merge’s survivor, a task', () => {
    const green = { marking: { tlp: 'GREEN' as const } }
    const reported = (seq: number, incidentId: string, title: string, marking: Marking = green.marking) =>
      makeEvent(
        seq,
        'incident.reported',
        { incidentId, title, severity: 'high', category: 'malware', affectedNetworks: [] },
        { ...at(seq), marking },
      )
    const people = { person: () => undefined }

    it('a link to an incident re-reported AMBER under a new title since: the report is AMBER', () => {
      // the review's repro: both GREEN and linked, then the other one re-reported AMBER with a new title
      const history = [
        reported(1, 'i1', 'Worm'),
        reported(2, 'j1', 'Phishing'),
        makeEvent(3, 'incident.linked', { incidentId: 'i1', otherIncidentId: 'j1', relation: 'related' }, green),
        reported(4, 'j1', 'Ministry of Defence mail server owned', { tlp: 'AMBER' }),
      ]
      const report = buildReport(fold(initialState, history), history, 'i1')!
      const texts = timelineLines(report, people).map((line) => line.text)
      expect(texts).toContain('Incident "Worm" related "Ministry of Defence mail server owned"')
      expect(report.titles.incidents.get('j1')).toBe('Ministry of Defence mail server owned')
      expect(report.marking.tlp).toBe('AMBER')
      expect(bannerMarking(report.marking, []).tlp).toBe('AMBER')
    })

    it('merged into an AMBER+STRICT survivor: the report is AMBER+STRICT', () => {
      const history = [
        reported(1, 'i1', 'Worm'),
        reported(2, 's1', 'Survivor', { tlp: 'AMBER+STRICT' }),
        makeEvent(3, 'incident.linked', { incidentId: 'i1', otherIncidentId: 's1', relation: 'merged_into' }, green),
      ]
      const report = buildReport(fold(initialState, history), history, 'i1')!
      expect(timelineLines(report, people).map((line) => line.text)).toContain('Incident "Worm" merged into "Survivor"')
      expect(report.marking.tlp).toBe('AMBER+STRICT')
    })

    it('a task of another incident named by its AMBER title: counted; one not in the picture stays an id, uncounted', () => {
      const history = [
        reported(1, 'i1', 'Worm'),
        reported(2, 'j1', 'Phishing'),
        makeEvent(
          3,
          'task.created',
          { taskId: 'tj', incidentId: 'j1', title: 'Call the ministry', priority: 'high' },
          { ...at(3), marking: { tlp: 'AMBER' } },
        ),
      ]
      const state = fold(initialState, history)
      // a GREEN task event in the report's window (its task is another incident's) names that task by title
      const keyEvents = [history[0]!, makeEvent(4, 'task.accepted', { taskId: 'tj' }, green)]
      const titles = summaryTitles(state, keyEvents)
      expect(timelineLines({ keyEvents, titles }, people).map((line) => line.text)).toEqual([
        'HIGH malware: Worm (0 networks)',
        'Task "Call the ministry" accepted',
      ])
      expect(titles.tasks.get('tj')).toBe('Call the ministry')
      expect(documentMarking(titles.markings).tlp).toBe('AMBER')
      // the report counts what its own titles say, the link's or the task's alike
      const unknown = summaryTitles(state, [makeEvent(5, 'task.accepted', { taskId: 'nope' }, green)])
      expect(unknown.markings).toEqual([])
      expect(
        timelineLines({ keyEvents: [makeEvent(5, 'task.accepted', { taskId: 'nope' })], titles: unknown }, people)[0]!
          .text,
      ).toBe('Task nope accepted')
    })
  })

  it('headlines the peak severity as well as the final one', () => {
    const history: StoredEvent[] = [
      makeEvent(
        1,
        'incident.reported',
        { incidentId: 'p', title: 'P', severity: 'medium', category: 'x', affectedNetworks: [] },
        at(0),
      ),
      makeEvent(2, 'incident.escalated', { incidentId: 'p', severity: 'critical', reason: 'spread' }, at(10)),
      makeEvent(3, 'incident.updated', { incidentId: 'p', severity: 'low' }, at(60)),
    ]
    const report = buildReport(fold(initialState, history), history, 'p')!
    expect(report.peak).toEqual({ severity: 'critical', at: at(10).occurredAt })
    expect(report.incident.severity).toBe('low')
  })

  it('says plainly that a closed incident was never acknowledged', () => {
    const history: StoredEvent[] = [
      makeEvent(
        1,
        'incident.reported',
        { incidentId: 'c', title: 'C', severity: 'low', category: 'x', affectedNetworks: [] },
        at(0),
      ),
      makeEvent(2, 'incident.status_changed', { incidentId: 'c', status: 'closed' }, at(10)),
    ]
    const closed = buildReport(fold(initialState, history), history, 'c')!
    expect(acknowledgeText(closed)).toBe('never acknowledged (closed without acknowledgement)')
    const open = buildReport(fold(initialState, history.slice(0, 1)), history.slice(0, 1), 'c')!
    expect(acknowledgeText(open)).toBe('not yet')
  })
})

describe('what the report says of an incident the scenario updates', () => {
  const history: StoredEvent[] = [
    makeEvent(
      1,
      'incident.reported',
      { incidentId: 'w', title: 'Worm', severity: 'high', category: 'malware', affectedNetworks: ['lv-gov', 'si-gov'] },
      at(0),
    ),
    makeEvent(2, 'incident.observation', { incidentId: 'w', count: 300 }, at(1)),
    makeEvent(3, 'incident.observation', { incidentId: 'w', count: 1200 }, at(2)),
    makeEvent(4, 'incident.observation', { incidentId: 'w' }, at(3)),
    // each update lists every network again, one new
    makeEvent(5, 'incident.updated', { incidentId: 'w', affectedNetworks: ['lv-gov', 'si-gov', 'hu-gov'] }, at(4)),
    makeEvent(6, 'incident.updated', { incidentId: 'w', affectedNetworks: ['lv-gov', 'si-gov', 'hu-gov'] }, at(5)),
    // one dropped, then back: affected again
    makeEvent(7, 'incident.updated', { incidentId: 'w', affectedNetworks: ['lv-gov', 'hu-gov'] }, at(6)),
    makeEvent(8, 'incident.updated', { incidentId: 'w', affectedNetworks: ['lv-gov', 'hu-gov', 'si-gov'] }, at(7)),
    makeEvent(
      9,
      'incident.status_changed',
      {
        incidentId: 'w',
        status: 'contained',
        reason: `Perimeter blocks of 445/tcp in place ${'across the affected networks '.repeat(6)}end.`,
      },
      at(8),
    ),
  ]
  const report = buildReport(fold(initialState, history), history, 'w')!

  it('counts observation reports apart from the sum of their counts', () => {
    expect(report.observations).toEqual({ reports: 3, count: 1501, first: at(1).occurredAt, last: at(3).occurredAt })
  })

  it('lists a network as affected when it becomes so, not again with every update that lists it', () => {
    expect(report.networks.map((n) => `${n.seq} ${n.networkId}`)).toEqual([
      '1 lv-gov',
      '1 si-gov',
      '5 hu-gov',
      '8 si-gov',
    ])
  })

  it('keeps a reason whole in its timeline, however long', () => {
    const line = timelineLines(report, {}).find((l) => l.seq === 9)!
    expect(line.text).toContain('end.')
    expect(line.text).not.toContain('…')
    expect(line.text.length).toBeGreaterThan(140)
  })
})

describe('an incident older than the window: built from its history read from the server', () => {
  const green = { marking: { tlp: 'GREEN' as const } }
  // reported critical, contained at 32 min, downgraded, closed at 600 min; the window holds only the closing
  const history: StoredEvent[] = [
    makeEvent(
      3,
      'incident.reported',
      { incidentId: 'i1', title: 'Worm', severity: 'critical', category: 'malware', affectedNetworks: ['ee-gov'] },
      { ...at(0), ...green },
    ),
    makeEvent(7, 'incident.observation', { incidentId: 'i1', count: 4 }, { ...at(1), marking: { tlp: 'AMBER' } }),
    makeEvent(
      12,
      'incident.network_state_set',
      { incidentId: 'i1', networkId: 'ee-gov', state: 'contained' },
      { ...at(30), ...green },
    ),
    makeEvent(14, 'incident.status_changed', { incidentId: 'i1', status: 'contained' }, { ...at(32), ...green }),
    makeEvent(40, 'incident.updated', { incidentId: 'i1', severity: 'low' }, { ...at(60), ...green }),
    makeEvent(95, 'incident.status_changed', { incidentId: 'i1', status: 'closed' }, { ...at(600), ...green }),
  ]
  const state = fold(initialState, history)
  const window = [history[5]!]

  it('the window alone says wrong things: the peak, the time to contain, the networks', () => {
    const report = buildReport(state, window, 'i1')!
    expect(report.peak.severity).toBe('low')
    expect(report.durations.contain).toBe(600 * 60_000)
    expect(report.networks).toEqual([])
  })

  it('merged with the history: the peak, the durations, the networks and the timeline are the incident’s', () => {
    const report = buildReport(state, withHistory(history, window), 'i1')!
    expect(report.peak).toEqual({ severity: 'critical', at: at(0).occurredAt })
    expect(report.durations).toEqual({ acknowledge: null, contain: 32 * 60_000, recover: 600 * 60_000 })
    expect(report.networks.map((n) => `${n.networkId}:${n.state}`)).toEqual(['ee-gov:affected', 'ee-gov:contained'])
    expect(report.keyEvents.map((e) => e.seq)).toEqual([3, 12, 14, 40, 95])
    expect(report.observations).toEqual({ reports: 1, count: 4, first: at(1).occurredAt, last: at(1).occurredAt })
    // [M1] every event it is built from is counted: the AMBER observation only the history held too
    expect(report.marking.tlp).toBe('AMBER')
  })

  it('says a missing time is "not yet" only from the whole history', () => {
    expect(durationText(null, 'history')).toBe('not yet')
    expect(durationText(32 * 60_000, 'history')).toBe('32 min')
    expect(durationText(null, 'loading')).toBe('loading the history…')
    expect(durationText(null, 'window')).toBe('not known (the history could not be read)')
    expect(durationText(600 * 60_000, 'window')).toBe('at most 10 h 0 min (from what this console holds)')
  })
})

describe('the report in words: names, not ids (docs/console.md)', () => {
  const TASK = '1d2a8f2f-4360-41ed-b3a2-53ece9eafb64'
  const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i
  const events: StoredEvent[] = [
    makeEvent(
      1,
      'incident.reported',
      { incidentId: 'i1', title: 'Worm', severity: 'high', category: 'malware', affectedNetworks: [] },
      at(0),
    ),
    makeEvent(2, 'incident.acknowledged', { incidentId: 'i1', note: 'on it' }, { ...at(1), actor: 'mari' }),
    makeEvent(
      3,
      'task.created',
      { taskId: TASK, incidentId: 'i1', title: 'Isolate hosts', priority: 'high' },
      { ...at(2), actor: 'coord' },
    ),
    makeEvent(4, 'task.assigned', { taskId: TASK, assignee: { kind: 'user', userId: 'mari' } }, at(3)),
    makeEvent(5, 'task.completed', { taskId: TASK, note: 'swept' }, { ...at(4), actor: 'mari' }),
    makeEvent(6, 'task.reopened', { taskId: TASK, reason: 'one host left' }, { ...at(5), actor: 'coord' }),
  ]
  const state = fold(initialState, events)
  const directory = {
    people: [{ userId: 'mari', displayName: 'Mari Tamm', organisation: 'cert-ee' }],
    teams: [],
    may: { assign: true, mention: true },
  }
  const names = summaryNames(state, namesOf(directory))

  it('the timeline names the task by its title, never its id, and people by name', () => {
    const report = buildReport(state, events, 'i1')!
    const lines = timelineLines(report, names)
    expect(lines.map((line) => line.seq)).toEqual([1, 2, 3, 4, 5, 6])
    for (const line of lines) expect(line.text, line.type).not.toMatch(UUID)
    expect(lines.map((line) => line.text)).toEqual([
      'HIGH malware: Worm (0 networks)',
      'Incident "Worm" acknowledged by Mari Tamm: on it',
      'Task "Isolate hosts" (high) for "Worm"',
      'Task "Isolate hosts" assigned to Mari Tamm',
      'Task "Isolate hosts" completed by Mari Tamm: swept',
      'Task "Isolate hosts" reopened by coord: one host left',
    ])
    expect(lines[1]!.actor).toBe('Mari Tamm')
    expect(lines[3]!.actor).toBeUndefined()
  })

  it('a task’s steps say who did them, by name, with the note or reason they gave', () => {
    const report = buildReport(state, events, 'i1')!
    const text = taskStepsText(report.tasks[0]!, names)
    expect(text).toMatch(
      /^created by coord at .+ · assigned by cert-ee at .+ · completed by Mari Tamm at .+: swept · reopened by coord at .+: one host left$/,
    )
    expect(text).not.toMatch(UUID)
  })
})

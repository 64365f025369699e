import type { StoredEvent, Viewer } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { fold, reduce } from './reduce.ts'
import {
  commentsForIncident,
  isOverdue,
  openIncidentsBySeverity,
  overdueTasks,
  stateToJson,
  tasksFor,
  tasksForIncident,
} from './selectors.ts'
import { initialState, type State, type TaskState } from './state.ts'
import { makeEvent } from './testing.ts'

type Build = (seq: number) => StoredEvent
const ev =
  (type: Parameters<typeof makeEvent>[1], payload: object, options: Parameters<typeof makeEvent>[3] = {}): Build =>
  (seq) =>
    makeEvent(seq, type, payload as never, options)

/** given(events).when(events).then(check): events are numbered in the order written. */
function given(...first: Build[]) {
  const before = fold(
    initialState,
    first.map((build, i) => build(i + 1)),
  )
  return {
    when(...more: Build[]) {
      const after = more.map((build, i) => build(before.seq + i + 1)).reduce(reduce, before)
      // biome-ignore lint/suspicious/noThenProperty: given/when/then reads like the rule; never awaited
      return { then: (check: (state: State, before: State) => void) => check(after, before) }
    },
  }
}

const eeGov = ev('network.registered', {
  networkId: 'ee-gov',
  name: 'EE gov',
  organisation: 'cert-ee',
  nation: 'EE',
  kind: 'government',
  location: { lat: 59.4, lon: 24.7 },
})
const worm = ev(
  'incident.reported',
  { incidentId: 'inc-1', title: 'Worm', severity: 'high', category: 'malware', affectedNetworks: ['ee-gov'] },
  { actor: 'kadri', marking: { tlp: 'AMBER', releasableTo: ['LV'] } },
)
const phish = ev(
  'incident.reported',
  { incidentId: 'inc-2', title: 'Phish', severity: 'medium', category: 'phishing', affectedNetworks: [] },
  { organisation: 'cert-lv' },
)
const created = (taskId: string, extra: object = {}, incidentId = 'inc-1') =>
  ev(
    'task.created',
    { taskId, incidentId, title: `Task ${taskId}`, priority: 'normal', ...extra },
    { actor: 'mart', marking: { tlp: 'AMBER', releasableTo: ['LV'] } },
  )
const onTask = (type: Parameters<typeof makeEvent>[1], taskId: string, extra: object = {}, actor = 'liis') =>
  ev(type, { taskId, ...extra }, { actor })

describe('reduce: incident coordination', () => {
  it('[R7] the first acknowledgement stands; every one counts in the version', () => {
    given(eeGov, worm)
      .when(
        ev('incident.acknowledged', { incidentId: 'inc-1' }, { actor: 'kadri', occurredAt: '2026-11-02T00:00:00Z' }),
        ev('incident.acknowledged', { incidentId: 'inc-1' }, { actor: 'mart' }),
      )
      .then((state) => {
        expect(state.incidents.get('inc-1')).toMatchObject({
          acknowledgedBy: 'kadri',
          acknowledgedAt: '2026-11-02T00:00:00Z',
          version: 3,
          reportedBy: 'kadri',
        })
      })
  })

  it('[R7] the first acknowledgement keeps its note; a later one with another note changes nothing', () => {
    given(eeGov, worm)
      .when(
        ev('incident.acknowledged', { incidentId: 'inc-1', note: 'on it' }, { actor: 'kadri' }),
        ev('incident.acknowledged', { incidentId: 'inc-1', note: 'me too' }, { actor: 'mart' }),
      )
      .then((state) => {
        expect(state.incidents.get('inc-1')).toMatchObject({ acknowledgedBy: 'kadri', acknowledgedNote: 'on it' })
      })
    // a first acknowledgement without a note: none, whatever a later one says
    given(eeGov, worm)
      .when(
        ev('incident.acknowledged', { incidentId: 'inc-1' }, { actor: 'kadri' }),
        ev('incident.acknowledged', { incidentId: 'inc-1', note: 'late note' }, { actor: 'mart' }),
      )
      .then((state) => {
        expect(state.incidents.get('inc-1')?.acknowledgedNote).toBeUndefined()
      })
  })

  it('a later report (by another user) keeps who reported it first; reportedBy follows the latest report [V5]', () => {
    const again = ev(
      'incident.reported',
      { incidentId: 'inc-1', title: 'Worm (corrected)', severity: 'high', category: 'malware', affectedNetworks: [] },
      { actor: 'mart', marking: { tlp: 'AMBER' } },
    )
    given(eeGov, worm)
      .when(again)
      .then((state) => {
        expect(state.incidents.get('inc-1')).toMatchObject({
          reportedBy: 'mart',
          firstReportedBy: 'kadri',
          reportedAt: '2026-11-01T00:00:02.000Z',
        })
      })
    // a first report naming nobody: nobody is the first reporter, though a later report names someone
    const bare = ev('incident.reported', {
      incidentId: 'inc-1',
      title: 'Worm',
      severity: 'high',
      category: 'malware',
      affectedNetworks: [],
    })
    given(eeGov, bare)
      .when(again)
      .then((state) => {
        const incident = state.incidents.get('inc-1')!
        expect(incident.reportedBy).toBe('mart')
        expect(incident.firstReportedBy).toBeUndefined()
      })
  })

  it('escalation and status changes set severity and status and bump the version', () => {
    given(eeGov, worm)
      .when(
        ev('incident.escalated', { incidentId: 'inc-1', severity: 'critical', reason: 'LV hit' }),
        ev('incident.status_changed', { incidentId: 'inc-1', status: 'closed' }),
      )
      .then((state) => {
        expect(state.incidents.get('inc-1')).toMatchObject({ severity: 'critical', status: 'closed', version: 3 })
        expect(openIncidentsBySeverity(state)).toEqual([])
      })
  })

  it('[R8] a link is held by both incidents, the other with the inverse relation; a new relation replaces the old', () => {
    given(eeGov, worm, phish)
      .when(
        ev('incident.linked', { incidentId: 'inc-2', otherIncidentId: 'inc-1', relation: 'related' }),
        ev('incident.linked', { incidentId: 'inc-2', otherIncidentId: 'inc-1', relation: 'duplicate_of' }),
      )
      .then((state) => {
        expect(state.incidents.get('inc-2')?.links).toEqual([
          { incidentId: 'inc-1', relation: 'duplicate_of', linkedAt: expect.any(String), seq: 5 },
        ])
        expect(state.incidents.get('inc-1')?.links).toEqual([
          { incidentId: 'inc-2', relation: 'duplicated_by', linkedAt: expect.any(String), seq: 5 },
        ])
        expect(state.incidents.get('inc-1')?.version).toBe(3)
        expect(state.incidents.get('inc-2')?.version).toBe(3)
      })
  })

  it('[R8] merged_into closes the merged incident and points it at the survivor', () => {
    given(eeGov, worm, phish)
      .when(ev('incident.linked', { incidentId: 'inc-2', otherIncidentId: 'inc-1', relation: 'merged_into' }))
      .then((state) => {
        expect(state.incidents.get('inc-2')).toMatchObject({ status: 'closed', mergedInto: 'inc-1' })
        expect(state.incidents.get('inc-1')?.links).toMatchObject([{ incidentId: 'inc-2', relation: 'merged_from' }])
      })
  })

  it('[R8] a link to an incident this state does not hold is kept on the incident it names first only', () => {
    given(eeGov, worm)
      .when(ev('incident.linked', { incidentId: 'inc-1', otherIncidentId: 'inc-hidden', relation: 'related' }))
      .then((state) => {
        expect(state.incidents.get('inc-1')?.links).toMatchObject([{ incidentId: 'inc-hidden', relation: 'related' }])
        expect(state.incidents.has('inc-hidden')).toBe(false)
      })
  })

  it('[R9] a network state in an incident makes the network one of its affected networks', () => {
    given(eeGov, worm)
      .when(
        ev('incident.network_state_set', { incidentId: 'inc-1', networkId: 'ee-gov', state: 'contained' }),
        ev('incident.network_state_set', { incidentId: 'inc-1', networkId: 'lv-gov', state: 'affected' }),
        ev('incident.network_state_set', { incidentId: 'inc-1', networkId: 'ee-gov', state: 'recovered' }),
      )
      .then((state, before) => {
        expect(state.incidents.get('inc-1')).toMatchObject({
          networkStates: { 'ee-gov': 'recovered', 'lv-gov': 'affected' },
          affectedNetworks: ['ee-gov', 'lv-gov'],
          version: 4,
        })
        expect(before.incidents.get('inc-1')?.networkStates).toBeUndefined()
      })
  })

  it('re-reporting an incident keeps what coordination added', () => {
    given(
      eeGov,
      worm,
      ev('incident.acknowledged', { incidentId: 'inc-1', note: 'on it' }, { actor: 'kadri' }),
      ev('incident.network_state_set', { incidentId: 'inc-1', networkId: 'ee-gov', state: 'contained' }),
    )
      .when(worm)
      .then((state) => {
        expect(state.incidents.get('inc-1')).toMatchObject({
          acknowledgedBy: 'kadri',
          acknowledgedNote: 'on it',
          networkStates: { 'ee-gov': 'contained' },
          version: 4,
        })
      })
  })

  it('[R3] coordination events about an incident the state does not hold change nothing but seq', () => {
    given(eeGov)
      .when(
        ev('incident.acknowledged', { incidentId: 'inc-x' }),
        ev('incident.escalated', { incidentId: 'inc-x', severity: 'critical', reason: 'r' }),
        ev('incident.status_changed', { incidentId: 'inc-x', status: 'closed' }),
        ev('incident.network_state_set', { incidentId: 'inc-x', networkId: 'ee-gov', state: 'affected' }),
        ev('comment.posted', { commentId: 'c', incidentId: 'inc-x', body: 'x', mentions: [] }),
      )
      .then((state, before) => {
        expect(state.incidents).toBe(before.incidents)
        expect(state.comments).toBe(before.comments)
        expect(state.seq).toBe(6)
      })
  })
})

describe('reduce: tasks', () => {
  it('a task is created open at version 1 with its incident, marking and author', () => {
    given(eeGov, worm)
      .when(created('t-1', { priority: 'urgent', dueAt: '2026-11-03T00:00:00Z', description: 'd' }))
      .then((state) => {
        expect(state.tasks.get('t-1')).toEqual({
          taskId: 't-1',
          incidentId: 'inc-1',
          title: 'Task t-1',
          description: 'd',
          priority: 'urgent',
          status: 'open',
          dueAt: '2026-11-03T00:00:00Z',
          organisation: 'cert-ee',
          createdBy: 'mart',
          marking: { tlp: 'AMBER', releasableTo: ['LV'] },
          contentMarking: { tlp: 'AMBER', releasableTo: ['LV'] },
          createdAt: '2026-11-01T00:00:03.000Z',
          updatedAt: '2026-11-01T00:00:03.000Z',
          version: 1,
          createdSeq: 3,
          lastSeq: 3,
        } satisfies TaskState)
        expect(state.incidents.get('inc-1')?.version).toBe(1)
      })
  })

  it('[M1] a task carries the strictest marking of every event folded into it', () => {
    given(eeGov, worm, created('t-1', { assignee: { kind: 'user', userId: 'liis' } }))
      .when(
        ev(
          'task.blocked',
          { taskId: 't-1', reason: 'no VPN' },
          { actor: 'liis', marking: { tlp: 'RED', recipients: ['liis'] } },
        ),
      )
      .then((state) => {
        const task = state.tasks.get('t-1')!
        expect(task.status).toBe('blocked')
        expect(task.contentMarking.tlp).toBe('RED')
        expect(task.marking.tlp).not.toBe('RED') // who may see it: its creation's
      })
  })

  it('[R10] a task moves through its life: accepted, started, blocked, completed, reopened', () => {
    given(eeGov, worm, created('t-1', { assignee: { kind: 'user', userId: 'liis' } }))
      .when(
        onTask('task.accepted', 't-1'),
        onTask('task.started', 't-1'),
        onTask('task.blocked', 't-1', { reason: 'no VPN' }),
      )
      .then((state) => {
        expect(state.tasks.get('t-1')).toMatchObject({
          status: 'blocked',
          blockedReason: 'no VPN',
          acceptedBy: 'liis',
          version: 4,
          lastSeq: 6,
        })
      })
    given(eeGov, worm, created('t-1'), onTask('task.started', 't-1'), onTask('task.blocked', 't-1', { reason: 'r' }))
      .when(onTask('task.completed', 't-1', { note: 'ok' }))
      .then((state) => {
        const task = state.tasks.get('t-1')!
        expect(task).toMatchObject({ status: 'done', acceptedBy: 'liis', completedAt: '2026-11-01T00:00:06.000Z' })
        expect(task.blockedReason).toBeUndefined()
      })
    given(eeGov, worm, created('t-1'), onTask('task.accepted', 't-1'), onTask('task.completed', 't-1'))
      .when(onTask('task.reopened', 't-1', { reason: 'missed one' }, 'mart'))
      .then((state) => {
        const task = state.tasks.get('t-1')!
        expect(task).toMatchObject({ status: 'open', version: 4 })
        expect(task.acceptedBy).toBeUndefined()
        expect(task.completedAt).toBeUndefined()
      })
  })

  it('[R10] a completion keeps its note and a reopening its reason, each until the other replaces it', () => {
    given(eeGov, worm, created('t-1'), onTask('task.started', 't-1'))
      .when(onTask('task.completed', 't-1', { note: 'swept' }))
      .then((state) => {
        expect(state.tasks.get('t-1')).toMatchObject({ status: 'done', completedNote: 'swept' })
      })
    given(eeGov, worm, created('t-1'), onTask('task.completed', 't-1', { note: 'swept' }))
      .when(onTask('task.reopened', 't-1', { reason: 'again' }, 'mart'), onTask('task.started', 't-1'))
      .then((state) => {
        const task = state.tasks.get('t-1')!
        expect(task).toMatchObject({ status: 'in_progress', reopenedReason: 'again' })
        expect(task.completedNote).toBeUndefined()
      })
    given(
      eeGov,
      worm,
      created('t-1'),
      onTask('task.completed', 't-1'),
      onTask('task.reopened', 't-1', { reason: 'again' }),
    )
      .when(onTask('task.completed', 't-1'))
      .then((state) => {
        const task = state.tasks.get('t-1')!
        expect(task.status).toBe('done')
        expect(task.reopenedReason).toBeUndefined()
        expect(task.completedNote).toBeUndefined()
      })
    // reopened again without a reason: the older reason is not this reopening's
    given(
      eeGov,
      worm,
      created('t-1'),
      onTask('task.completed', 't-1'),
      onTask('task.reopened', 't-1', { reason: 'again' }),
      onTask('task.completed', 't-1', { note: 'done twice' }),
    )
      .when(onTask('task.reopened', 't-1'))
      .then((state) => {
        const task = state.tasks.get('t-1')!
        expect(task.reopenedReason).toBeUndefined()
        expect(task.completedNote).toBeUndefined()
      })
  })

  it('[R10] a new assignee opens the task again and clears who accepted it', () => {
    given(eeGov, worm, created('t-1', { assignee: { kind: 'user', userId: 'liis' } }), onTask('task.started', 't-1'))
      .when(onTask('task.assigned', 't-1', { assignee: { kind: 'team', organisation: 'cert-lv' } }, 'mart'))
      .then((state) => {
        const task = state.tasks.get('t-1')!
        expect(task).toMatchObject({ status: 'open', assignee: { kind: 'team', organisation: 'cert-lv' } })
        expect(task.acceptedBy).toBeUndefined()
      })
  })

  it('[R6] a task for an incident the state does not hold, a second task.created and events for unknown tasks are left out', () => {
    given(eeGov, worm, created('t-1'))
      .when(
        created('t-2', {}, 'inc-hidden'),
        ev('task.created', { taskId: 't-1', incidentId: 'inc-1', title: 'again', priority: 'low' }),
        onTask('task.accepted', 't-unknown'),
      )
      .then((state, before) => {
        expect(state.tasks).toBe(before.tasks)
        expect(state.tasks.get('t-1')?.title).toBe('Task t-1')
        expect(state.seq).toBe(6)
      })
  })

  it('[R5] folding task events copies each task at most once and never changes the input state', () => {
    const start = fold(initialState, [eeGov(1), worm(2), created('t-1')(3), created('t-2')(4)])
    const snapshot = JSON.stringify(stateToJson(start))
    const more = [
      onTask('task.accepted', 't-1')(5),
      onTask('task.started', 't-1')(6),
      ev('comment.posted', { commentId: 'c-1', incidentId: 'inc-1', body: 'x', mentions: [] })(7),
      ev('bookmark.saved', { bookmarkId: 'b-1', title: 'b', clock: 'recorded', at: '2026-11-01T00:00:00Z' })(8),
      onTask('task.completed', 't-1')(9),
    ]
    const folded = fold(start, more)
    const reduced = more.reduce(reduce, start)
    expect(stateToJson(folded)).toEqual(stateToJson(reduced))
    expect(JSON.stringify(stateToJson(start))).toBe(snapshot)
    expect(folded.tasks.get('t-2')).toBe(start.tasks.get('t-2')) // untouched tasks are shared
    expect(folded.tasks.get('t-1')).toMatchObject({ status: 'done', version: 4 })
  })
})

describe('reduce: comments and bookmarks', () => {
  it('keeps comments with their author, marking and mentions', () => {
    given(eeGov, worm, created('t-1'))
      .when(
        ev(
          'comment.posted',
          { commentId: 'c-1', incidentId: 'inc-1', taskId: 't-1', body: 'ping @janis', mentions: ['janis'] },
          { actor: 'liis', marking: { tlp: 'AMBER', releasableTo: ['LV'] } },
        ),
        ev('comment.posted', { commentId: 'c-2', incidentId: 'inc-1', body: 'later', mentions: [] }),
      )
      .then((state) => {
        expect(commentsForIncident(state, 'inc-1').map((c) => [c.commentId, c.author, c.taskId])).toEqual([
          ['c-1', 'liis', 't-1'],
          ['c-2', undefined, undefined],
        ])
        expect(state.comments.get('c-1')).toMatchObject({ mentions: ['janis'], organisation: 'cert-ee', seq: 4 })
        expect(state.incidents.get('inc-1')?.version).toBe(1) // comments change no version
      })
  })

  it('keeps bookmarks (a moment or a range); saving the same id again replaces it', () => {
    given()
      .when(
        ev('bookmark.saved', { bookmarkId: 'b-1', title: 'first', clock: 'occurred', at: '2026-11-01T00:00:00Z' }),
        ev(
          'bookmark.saved',
          {
            bookmarkId: 'b-1',
            title: 'spread',
            clock: 'recorded',
            from: '2026-11-01T00:00:00Z',
            to: '2026-11-02T00:00:00Z',
          },
          { actor: 'kadri' },
        ),
      )
      .then((state) => {
        expect(state.bookmarks.get('b-1')).toEqual({
          bookmarkId: 'b-1',
          title: 'spread',
          clock: 'recorded',
          from: '2026-11-01T00:00:00Z',
          to: '2026-11-02T00:00:00Z',
          savedBy: 'kadri',
          organisation: 'cert-ee',
          marking: { tlp: 'GREEN' },
          savedAt: '2026-11-01T00:00:02.000Z',
          seq: 2,
        })
      })
  })

  it('stateToJson lists tasks, comments and bookmarks beside the existing collections', () => {
    given(eeGov, worm, created('t-1'))
      .when(ev('comment.posted', { commentId: 'c-1', incidentId: 'inc-1', body: 'x', mentions: [] }))
      .then((state) => {
        const json = stateToJson(state)
        expect(Object.keys(json)).toEqual([
          'seq',
          'eventCount',
          'networks',
          'incidents',
          'advisories',
          'tasks',
          'comments',
          'bookmarks',
          'recent',
        ])
        expect(json.tasks.map((t) => t.taskId)).toEqual(['t-1'])
        expect(json.comments.map((c) => c.commentId)).toEqual(['c-1'])
        expect(JSON.parse(JSON.stringify(json)).tasks[0].taskId).toBe('t-1')
      })
  })
})

describe('task selectors', () => {
  const now = '2026-11-02T00:00:00Z'
  const state = fold(
    initialState,
    [
      eeGov,
      worm,
      phish,
      created('t-late', { dueAt: '2026-11-01T12:00:00Z', assignee: { kind: 'user', userId: 'liis' } }),
      created('t-later', {
        dueAt: '2026-11-01T18:00:00Z',
        priority: 'urgent',
        assignee: { kind: 'team', organisation: 'cert-ee' },
      }),
      created('t-future', { dueAt: '2026-11-05T00:00:00Z', assignee: { kind: 'user', userId: 'liis' } }),
      created('t-none'),
      created('t-lv', { assignee: { kind: 'team', organisation: 'cert-lv' } }, 'inc-2'),
      created('t-done', { dueAt: '2026-11-01T00:00:00Z', assignee: { kind: 'user', userId: 'liis' } }),
      onTask('task.completed', 't-done'),
    ].map((build, i) => build(i + 1)),
  )
  const liis: Viewer = { userId: 'liis', organisation: 'cert-ee', nation: 'EE', roles: ['analyst'] }
  const janis: Viewer = { userId: 'janis', organisation: 'cert-lv', nation: 'LV', roles: ['analyst'] }

  it('isOverdue: a due time before now and not done', () => {
    const task = state.tasks.get('t-late')!
    expect(isOverdue(task, now)).toBe(true)
    expect(isOverdue(task, Date.parse('2026-11-01T11:59:59Z'))).toBe(false)
    expect(isOverdue(state.tasks.get('t-done')!, now)).toBe(false)
    expect(isOverdue(state.tasks.get('t-none')!, now)).toBe(false)
  })

  it('overdueTasks: longest overdue first', () => {
    expect(overdueTasks(state, now).map((t) => t.taskId)).toEqual(['t-late', 't-later'])
  })

  it('tasksForIncident: in creation order', () => {
    expect(tasksForIncident(state, 'inc-1').map((t) => t.taskId)).toEqual([
      't-late',
      't-later',
      't-future',
      't-none',
      't-done',
    ])
    expect(tasksForIncident(state, 'inc-2').map((t) => t.taskId)).toEqual(['t-lv'])
  })

  it('tasksFor: assigned to the user or the viewer organisation, most urgent then earliest due; done only on request', () => {
    expect(tasksFor(state, liis).map((t) => t.taskId)).toEqual(['t-later', 't-late', 't-future'])
    expect(tasksFor(state, liis, { includeDone: true }).map((t) => t.taskId)).toEqual([
      't-later',
      't-late',
      't-future',
      't-done',
    ])
    expect(tasksFor(state, janis).map((t) => t.taskId)).toEqual(['t-lv'])
  })
})

import { EVENT_TYPES, type EventInput, type Role } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import {
  type Actor,
  COMMAND_ONLY_TYPES,
  commandOnlyRefusal,
  directoryRefusal,
  escalationChoices,
  feedNamespaceRefusal,
  may,
  mayPost,
  ownerOnlyRefusal,
  ownerRefusal,
  type Poster,
  postingRefusal,
  roleRefusal,
  sourceRefusal,
  stateRefusal,
  viewAsRefusal,
} from './policy.ts'
import { fold } from './reduce.ts'
import { initialState, type State } from './state.ts'
import { makeEvent } from './testing.ts'

// Each rule of packages/core/SPEC.md that policy.ts holds is stated once here; `decide`'s tests
// show the same rules refusing commands, the console's that its buttons ask `may`.

const actor = (roles: Role[], userId = 'kadri', organisation = 'cert-ee'): Actor => ({ roles, userId, organisation })
const coordinator = actor(['coordinator'], 'coord', 'alliance')
const admin = actor(['admin'], 'anna', 'alliance')
const officer = actor(['watch_officer'])
const analyst = actor(['analyst'])
const sensor = actor(['sensor'])

const report = (seq: number, incidentId: string) =>
  makeEvent(
    seq,
    'incident.reported',
    { incidentId, title: incidentId, severity: 'high', category: 'malware', affectedNetworks: ['ee-gov'] },
    { actor: 'sensor-ee' },
  )
const base = [
  report(1, 'inc-1'),
  report(2, 'inc-2'),
  makeEvent(
    3,
    'task.created',
    {
      taskId: 't-team',
      incidentId: 'inc-1',
      title: 'Isolate hosts',
      priority: 'high',
      assignee: { kind: 'team', organisation: 'cert-ee' },
    },
    { actor: 'coord' },
  ),
  makeEvent(4, 'task.created', { taskId: 't-none', incidentId: 'inc-1', title: 'Nobody', priority: 'low' }),
  makeEvent(5, 'task.created', {
    taskId: 't-user',
    incidentId: 'inc-1',
    title: 'For mari',
    priority: 'low',
    assignee: { kind: 'user', userId: 'mari' },
  }),
]
const picture = (...more: Parameters<typeof fold>[1]): State => fold(initialState, [...base, ...more])
const state = picture()
const inc = state.incidents.get('inc-1')!
const task = (id: string, s: State = state) => s.tasks.get(id)!
const TASK_MOVES = ['task.accept', 'task.start', 'task.block', 'task.complete', 'task.reopen'] as const

describe('policy: who may do what', () => {
  it('[A1] a read-only principal (display token) takes no command and posts nothing', () => {
    const display = { ...admin, readOnly: true }
    expect(roleRefusal(display, 'comment.post')).toMatchObject({ code: 'forbidden', rule: 'A1' })
    expect(may(display, 'incident.escalate', inc)).toBe(false)
    expect(postingRefusal({ ...display, user: 'wall', sources: [] })).toMatchObject({ rule: 'A1' })
    expect(may(null, 'comment.post', inc)).toBe(false)
  })

  it('[A2] raw events are posted by sensors, coordinators and admins only', () => {
    const poster = (roles: Role[]): Poster => ({ user: 'u', organisation: 'cert-ee', roles, sources: [] })
    for (const role of ['sensor', 'coordinator', 'admin'] as const)
      expect(postingRefusal(poster([role]))).toBeUndefined()
    for (const role of ['watch_officer', 'analyst', 'liaison'] as const)
      expect(postingRefusal(poster([role]))).toMatchObject({ code: 'forbidden', rule: 'A2' })
  })

  it('[A3] an event is posted for the poster’s own organisation or one it relays (sources)', () => {
    const relay: Poster = { user: 'relay', organisation: 'cert-ee', roles: ['sensor'], sources: ['cert-lv'] }
    expect(sourceRefusal(relay, 'cert-ee')).toBeUndefined()
    expect(sourceRefusal(relay, 'cert-lv')).toBeUndefined()
    expect(sourceRefusal(relay, 'alliance')).toMatchObject({ rule: 'A3', path: 'source.organisation' })
    const observation = (organisation: string): EventInput => ({
      id: '00000000-0000-4000-8000-000000000001',
      type: 'incident.observation',
      occurredAt: '2026-11-01T00:00:00Z',
      source: { organisation },
      payload: { incidentId: 'inc-1' },
    })
    expect(mayPost(relay, observation('alliance'), state)).toBe(false)
    expect(mayPost(relay, observation('cert-lv'), state)).toBe(true)
  })

  it('[A4] coordination enters the log only through commands: those types are refused raw', () => {
    for (const type of COMMAND_ONLY_TYPES)
      expect(commandOnlyRefusal({ type }), type).toMatchObject({ code: 'forbidden', rule: 'A4', path: 'type' })
    for (const type of EVENT_TYPES.filter((t) => !COMMAND_ONLY_TYPES.has(t)))
      expect(commandOnlyRefusal({ type }), type).toBeUndefined()
    // [R15] a report's restatement is the marking change command's alone
    const restated = {
      type: 'incident.reported' as const,
      payload: { incidentId: 'i', restated: { status: 'closed' } },
    }
    expect(commandOnlyRefusal(restated)).toMatchObject({ code: 'forbidden', rule: 'A4', path: 'payload.restated' })
    expect(commandOnlyRefusal({ ...restated, payload: { incidentId: 'i' } })).toBeUndefined()
    // what a raw sender may still post: reports, updates, observations, advisories, networks
    expect(EVENT_TYPES.filter((t) => !COMMAND_ONLY_TYPES.has(t)).sort()).toEqual([
      'advisory.published',
      'incident.observation',
      'incident.reported',
      'incident.updated',
      'network.posture_changed',
      'network.registered',
    ])
  })

  it('[A5] only the owner re-reports or updates an incident, registers or changes a network, republishes an advisory', () => {
    const raw = (type: EventInput['type'], organisation: string, payload: object): EventInput =>
      ({
        id: '00000000-0000-4000-8000-000000000002',
        type,
        occurredAt: '2026-11-01T00:00:00Z',
        source: { organisation },
        payload,
      }) as EventInput
    const owners = fold(state, [
      makeEvent(6, 'network.registered', {
        networkId: 'ee-gov',
        name: 'EE gov',
        organisation: 'cert-ee',
        nation: 'EE',
        kind: 'government',
        location: { lat: 59.4, lon: 24.7 },
      }),
      makeEvent(7, 'advisory.published', { advisoryId: 'a-1', title: 'Patch', body: 'Patch now' }),
    ])
    const report = { incidentId: 'inc-1', title: 'Mine now', severity: 'low', category: 'x', affectedNetworks: [] }
    expect(ownerRefusal(owners, raw('incident.reported', 'cert-lv', report))).toMatchObject({
      rule: 'A5',
      path: 'payload.incidentId',
      message: 'incident inc-1 belongs to another organisation: only its owner changes it',
    })
    expect(ownerRefusal(owners, raw('incident.reported', 'cert-ee', report))).toBeUndefined()
    expect(
      ownerRefusal(owners, raw('incident.reported', 'cert-lv', { ...report, incidentId: 'inc-new' })),
    ).toBeUndefined()
    expect(
      ownerRefusal(owners, raw('incident.updated', 'cert-lv', { incidentId: 'inc-1', status: 'closed' })),
    ).toMatchObject({ rule: 'A5' })
    expect(
      ownerRefusal(owners, raw('incident.updated', 'cert-ee', { incidentId: 'inc-1', status: 'closed' })),
    ).toBeUndefined()
    expect(
      ownerRefusal(owners, raw('network.posture_changed', 'alliance', { networkId: 'ee-gov', posture: 'normal' })),
    ).toMatchObject({ rule: 'A5' })
    expect(
      ownerRefusal(owners, raw('network.posture_changed', 'cert-ee', { networkId: 'ee-gov', posture: 'normal' })),
    ).toBeUndefined()
    const network = {
      networkId: 'lv-gov',
      name: 'LV',
      organisation: 'cert-lv',
      nation: 'LV',
      kind: 'government',
      location: { lat: 1, lon: 1 },
    }
    expect(ownerRefusal(owners, raw('network.registered', 'cert-ee', network))).toMatchObject({
      rule: 'A5',
      path: 'payload.organisation',
    })
    expect(ownerRefusal(owners, raw('network.registered', 'cert-lv', network))).toBeUndefined()
    expect(
      ownerRefusal(owners, raw('network.registered', 'cert-lv', { ...network, networkId: 'ee-gov' })),
    ).toMatchObject({ rule: 'A5' })
    expect(
      ownerRefusal(owners, raw('advisory.published', 'cert-lv', { advisoryId: 'a-1', title: 't', body: 'b' })),
    ).toMatchObject({ rule: 'A5' })
    // a sighting is not a change
    expect(ownerRefusal(owners, raw('incident.observation', 'cert-lv', { incidentId: 'inc-1' }))).toBeUndefined()
  })

  it('[C2] incident commands by role: acknowledge for watch officers, coordinators, admins; the rest for coordinators, admins', () => {
    expect(may(officer, 'incident.acknowledge', inc)).toBe(true)
    expect(may(coordinator, 'incident.acknowledge', inc)).toBe(true)
    expect(may(analyst, 'incident.acknowledge', inc)).toBe(false)
    for (const action of [
      'incident.escalate',
      'incident.set_status',
      'incident.link',
      'network.set_state',
      'task.create',
      'task.assign',
    ] as const) {
      const target = action === 'task.assign' ? task('t-team') : inc
      expect(may(coordinator, action, target)).toBe(true)
      expect(may(admin, action, target)).toBe(true)
      expect(may(officer, action, target)).toBe(false)
      expect(roleRefusal(officer, action)).toMatchObject({ code: 'forbidden', rule: 'C2' })
    }
  })

  it('[C2] task work: the assignee (the user, or a person of the team), coordinators and admins; never a sensor', () => {
    expect(may(analyst, 'task.accept', task('t-team'))).toBe(true) // kadri is of cert-ee
    expect(may(actor(['analyst'], 'juhan', 'cert-lv'), 'task.accept', task('t-team'))).toBe(false)
    expect(may(sensor, 'task.accept', task('t-team'))).toBe(false)
    expect(may(analyst, 'task.accept', task('t-none'))).toBe(false) // unassigned: coordinators only
    expect(may(coordinator, 'task.accept', task('t-none'))).toBe(true)
    expect(may(actor(['analyst'], 'mari', 'cert-lv'), 'task.accept', task('t-user'))).toBe(true)
    expect(may(analyst, 'task.accept', task('t-user'))).toBe(false)
    // without a task: any person might be its assignee
    expect(may(analyst, 'task.complete')).toBe(true)
    expect(may(sensor, 'task.complete')).toBe(false)
  })

  it('[C20] who an incident is shared with: its own organisation’s coordinators and admins only', () => {
    const owner = actor(['coordinator'], 'mart', 'cert-ee')
    const ownAdmin = actor(['admin'], 'tiit', 'cert-ee')
    expect(may(owner, 'incident.set_marking', inc)).toBe(true)
    expect(may(ownAdmin, 'incident.set_marking', inc)).toBe(true)
    // a partner's coordinator or admin, whom the incident is shared with
    expect(may(coordinator, 'incident.set_marking', inc)).toBe(false)
    expect(may(admin, 'incident.set_marking', inc)).toBe(false)
    expect(ownerOnlyRefusal(coordinator, 'incident.set_marking', inc)).toMatchObject({
      code: 'forbidden',
      rule: 'C20',
    })
    // the owner's other people, and a display token
    expect(may(officer, 'incident.set_marking', inc)).toBe(false)
    expect(may(analyst, 'incident.set_marking', inc)).toBe(false)
    expect(may({ ...owner, readOnly: true }, 'incident.set_marking', inc)).toBe(false)
    // other actions are not the owner's alone
    expect(ownerOnlyRefusal(coordinator, 'incident.set_status', inc)).toBeUndefined()
    // [A9] a partner feed's incident is the feed's to mark: its organisation's coordinators are not offered it
    const fed = { ...inc, incidentId: 'INC-9@feed:p1' }
    expect(may(owner, 'incident.set_marking', fed)).toBe(false)
    expect(ownerOnlyRefusal(owner, 'incident.set_marking', fed)).toMatchObject({ code: 'forbidden', rule: 'A9' })
    expect(ownerOnlyRefusal({ ...owner, userId: 'feed:p1' }, 'incident.set_marking', fed)).toBeUndefined()
    expect(may(owner, 'incident.escalate', fed)).toBe(true)
    // without a target: the roles alone
    expect(may(coordinator, 'incident.set_marking')).toBe(true)
    expect(may(analyst, 'incident.set_marking')).toBe(false)
  })

  it('[C2] comments and bookmarks: any person, not a sensor', () => {
    expect(may(analyst, 'comment.post', inc)).toBe(true)
    expect(may(actor(['liaison'], 'janis', 'cert-lv'), 'bookmark.save')).toBe(true)
    expect(may(sensor, 'comment.post', inc)).toBe(false)
    expect(may(sensor, 'bookmark.save')).toBe(false)
  })

  it('[C6] acknowledge once, and not a closed incident', () => {
    const acked = picture(makeEvent(6, 'incident.acknowledged', { incidentId: 'inc-1' }, { actor: 'x' }))
    expect(stateRefusal('incident.acknowledge', acked.incidents.get('inc-1')!)).toMatchObject({
      code: 'conflict',
      rule: 'C6',
      message: 'incident inc-1 was already acknowledged by x',
    })
    const closed = picture(makeEvent(6, 'incident.status_changed', { incidentId: 'inc-1', status: 'closed' }))
    expect(stateRefusal('incident.acknowledge', closed.incidents.get('inc-1')!)).toMatchObject({ rule: 'C6' })
    expect(may(officer, 'incident.acknowledge', inc)).toBe(true)
  })

  it('[C7] escalation only raises the severity, and not on a closed incident', () => {
    expect(escalationChoices(inc)).toEqual(['critical'])
    expect(escalationChoices({ severity: 'low' })).toEqual(['medium', 'high', 'critical'])
    const critical = picture(
      makeEvent(6, 'incident.escalated', { incidentId: 'inc-1', severity: 'critical', reason: 'r' }),
    )
    expect(stateRefusal('incident.escalate', critical.incidents.get('inc-1')!)).toMatchObject({ rule: 'C7' })
    const closed = picture(makeEvent(6, 'incident.status_changed', { incidentId: 'inc-1', status: 'closed' }))
    expect(may(coordinator, 'incident.escalate', closed.incidents.get('inc-1'))).toBe(false)
    expect(may(coordinator, 'incident.set_status', closed.incidents.get('inc-1'))).toBe(true) // reopening
  })

  it('[C11] a merged incident takes nothing but comments', () => {
    const merged = picture(
      makeEvent(6, 'incident.linked', { incidentId: 'inc-1', otherIncidentId: 'inc-2', relation: 'merged_into' }),
    ).incidents.get('inc-1')!
    for (const action of [
      'incident.acknowledge',
      'incident.escalate',
      'incident.set_status',
      'incident.link',
      'network.set_state',
      'task.create',
    ] as const)
      expect(stateRefusal(action, merged)).toMatchObject({ rule: 'C11' })
    expect(may(coordinator, 'comment.post', merged)).toBe(true)
  })

  it('[C12] no new task on a closed incident', () => {
    const closed = picture(makeEvent(6, 'incident.status_changed', { incidentId: 'inc-1', status: 'closed' }))
    expect(stateRefusal('task.create', closed.incidents.get('inc-1')!)).toMatchObject({ rule: 'C12' })
  })

  it('[C13] task work moves only from the statuses each command starts from', () => {
    const open = task('t-team')
    expect(TASK_MOVES.filter((action) => may(analyst, action, open))).toEqual(['task.accept', 'task.start'])
    const done = task('t-team', picture(makeEvent(6, 'task.completed', { taskId: 't-team' }, { actor: 'kadri' })))
    expect(TASK_MOVES.filter((action) => may(analyst, action, done))).toEqual(['task.reopen'])
    expect(stateRefusal('task.accept', done)).toMatchObject({ rule: 'C13' })
  })

  it('[C14] a done task is not assigned', () => {
    const done = task('t-team', picture(makeEvent(6, 'task.completed', { taskId: 't-team' }, { actor: 'kadri' })))
    expect(stateRefusal('task.assign', done)).toMatchObject({ rule: 'C14' })
    expect(may(coordinator, 'task.assign', done)).toBe(false)
  })

  it('[A7] only coordinators and admins view as another audience, never a display token', () => {
    const roles: Role[] = ['sensor', 'watch_officer', 'coordinator', 'analyst', 'liaison', 'admin']
    expect(roles.filter((role) => viewAsRefusal({ roles: [role] }) === undefined)).toEqual(['coordinator', 'admin'])
    expect(viewAsRefusal({ roles: ['admin'], readOnly: true })).toMatchObject({ code: 'forbidden', rule: 'A7' })
  })

  it('[A8] only admins change the directory, never a display token', () => {
    const roles: Role[] = ['sensor', 'watch_officer', 'coordinator', 'analyst', 'liaison', 'admin']
    expect(roles.filter((role) => directoryRefusal({ roles: [role] }) === undefined)).toEqual(['admin'])
    expect(directoryRefusal({ roles: ['admin'], readOnly: true })).toMatchObject({ code: 'forbidden', rule: 'A8' })
  })
})

describe("[A9] a partner feed's namespace", () => {
  const raw = (type: EventInput['type'], payload: object): EventInput =>
    ({
      id: '00000000-0000-4000-8000-000000000009',
      type,
      occurredAt: '2026-11-01T00:00:00Z',
      source: { organisation: 'cert-lv' },
      payload,
    }) as EventInput
  const sensor = { user: 'sensor-lv' }
  const feed = { user: 'feed:partner' }
  const report = (incidentId: string, more: object = {}) =>
    raw('incident.reported', { incidentId, title: 't', severity: 'low', category: 'c', affectedNetworks: [], ...more })

  it('only the feed names its ids, in every field that names an incident, network or advisory', () => {
    const ours = 'INC-1@feed:partner'
    const cases: [EventInput, string][] = [
      [report(ours), 'payload.incidentId'],
      [report('own', { affectedNetworks: ['n', 'NET@feed:partner'] }), 'payload.affectedNetworks.1'],
      [report('own', { attackSource: { networkId: 'NET@feed:partner' } }), 'payload.attackSource.networkId'],
      [raw('incident.updated', { incidentId: ours, severity: 'high' }), 'payload.incidentId'],
      [raw('incident.observation', { incidentId: 'own', networkId: 'NET@feed:partner' }), 'payload.networkId'],
      [raw('advisory.published', { advisoryId: 'ADV@feed:partner', title: 't', body: 'b' }), 'payload.advisoryId'],
      [raw('network.posture_changed', { networkId: 'NET@feed:partner', posture: 'degraded' }), 'payload.networkId'],
    ]
    for (const [event, path] of cases) {
      expect(feedNamespaceRefusal(sensor, event), `${event.type} ${path}`).toMatchObject({
        code: 'forbidden',
        rule: 'A9',
        path,
      })
      expect(feedNamespaceRefusal(feed, event), `${event.type} by the feed`).toBeUndefined()
      // another feed is anyone else
      expect(feedNamespaceRefusal({ user: 'feed:other' }, event)).toMatchObject({ rule: 'A9' })
    }
    // ids that only look alike
    for (const id of ['INC-1@feed:', 'INC-1@feeds:partner', 'INC-1', 'feed:partner'])
      expect(feedNamespaceRefusal(sensor, report(id)), id).toBeUndefined()
  })
})

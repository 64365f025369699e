import {
  Command,
  type CommandOf,
  type CommandType,
  EventInput,
  type Marking,
  type PayloadOf,
  type Role,
  type StoredEvent,
  type Viewer,
} from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { type DecidedEvent, type Decision, decide, extractMentions, type Rejection } from './decide.ts'
import { TASK_TRANSITIONS } from './policy.ts'
import { fold } from './reduce.ts'
import { type IncidentState, initialState, type State, type TaskState } from './state.ts'
import { makeEvent } from './testing.ts'
import { audienceMarking, canSee, incidentVisibility, strictestMarking, taskVisibility } from './visibility.ts'

// ------------------------------------------------------------------ the floor

const person = (userId: string, organisation: string, nation: string, ...roles: Role[]): Viewer => ({
  userId,
  organisation,
  nation,
  roles,
})
const kadri = person('kadri', 'cert-ee', 'EE', 'watch_officer')
const mart = person('mart', 'cert-ee', 'EE', 'coordinator')
const liis = person('liis', 'cert-ee', 'EE', 'analyst')
const eeSensor = person('ee-ids', 'cert-ee', 'EE', 'sensor')
const janis = person('janis', 'cert-lv', 'LV', 'analyst')
const ilze = person('ilze', 'cert-lv', 'LV', 'coordinator')
const lvSensor = person('lv-ids', 'cert-lv', 'LV', 'sensor')
const anna = person('anna', 'ncsc-nl', 'NL', 'admin')

const NOW = '2026-11-26T10:00:00.000Z'

let seq = 0
const at = (type: Parameters<typeof makeEvent>[1], payload: never, options: Parameters<typeof makeEvent>[3] = {}) =>
  makeEvent(++seq, type, payload, options)

function network(networkId: string, organisation: string, nation: string): StoredEvent {
  return at('network.registered', {
    networkId,
    name: networkId,
    organisation,
    nation,
    kind: 'government',
    location: { lat: 50, lon: 20 },
  } as never)
}

function reported(
  incidentId: string,
  options: { organisation?: string; marking?: Marking; actor?: string; severity?: string; networks?: string[] } = {},
): StoredEvent {
  return at(
    'incident.reported',
    {
      incidentId,
      title: `Incident ${incidentId}`,
      severity: options.severity ?? 'high',
      category: 'malware',
      affectedNetworks: options.networks ?? ['ee-gov'],
    } as never,
    {
      organisation: options.organisation ?? 'cert-ee',
      marking: options.marking ?? { tlp: 'GREEN' },
      actor: options.actor ?? 'kadri',
    },
  )
}

/** inc-1: GREEN from cert-ee; inc-2: GREEN from cert-lv; inc-secret: AMBER, cert-ee only. */
const world = (): StoredEvent[] => [
  network('ee-gov', 'cert-ee', 'EE'),
  network('lv-gov', 'cert-lv', 'LV'),
  reported('inc-1'),
  reported('inc-2', { organisation: 'cert-lv', actor: 'janis', networks: ['lv-gov'] }),
  reported('inc-secret', { marking: { tlp: 'AMBER' } }),
]

function task(
  taskId: string,
  extra: Record<string, unknown> = {},
  options: Parameters<typeof makeEvent>[3] = {},
): StoredEvent {
  return at(
    'task.created',
    { taskId, incidentId: 'inc-1', title: `Task ${taskId}`, priority: 'normal', ...extra } as never,
    { actor: 'mart', ...options },
  )
}
const taskEvent = (type: Parameters<typeof makeEvent>[1], taskId: string, extra: Record<string, unknown> = {}) =>
  at(type, { taskId, ...extra } as never, { actor: 'mart' })

// ------------------------------------------------------------------ given / when / then

type CommandInput = { [T in CommandType]: Omit<CommandOf<T>, 'priority'> & { priority?: string } }[CommandType]

/**
 * given(events).when(command, viewer).thenAccepts(check) / .thenRejects(code, rule).
 * The given events are numbered in the order written, whenever they were made.
 */
function given(...events: StoredEvent[]) {
  const state = fold(
    initialState,
    events.map((event, i) => ({ ...event, seq: i + 1 })),
  )
  return {
    state,
    when(input: CommandInput, viewer: Viewer = mart, options: { parse?: boolean } = {}) {
      const command = options.parse === false ? (input as Command) : Command.parse(input)
      const decision = decide(state, command, context(viewer))
      return {
        decision,
        thenAccepts(check?: (events: DecidedEvent[], after: State, version: number) => void) {
          if (!decision.ok) expect.unreachable(`rejected: ${JSON.stringify(decision.rejection)}`)
          for (const event of decision.events) EventInput.parse(event) // every produced event is a valid event
          check?.(decision.events, fold(state, stored(state, decision.events)), decision.version)
        },
        thenRejects(code: Rejection['code'], rule: string, check?: (rejection: Rejection) => void) {
          if (decision.ok) expect.unreachable(`accepted: ${JSON.stringify(decision.events)}`)
          expect({ code: decision.rejection.code, rule: decision.rejection.rule }).toEqual({ code, rule })
          check?.(decision.rejection)
        },
      }
    },
  }
}

function context(viewer: Viewer) {
  let n = 0
  return { viewer, now: NOW, newId: () => `10000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}` }
}

/** The events as the store would hand them back: next seqs, recordedAt set. */
function stored(state: State, events: DecidedEvent[]): StoredEvent[] {
  return events.map((event, i) => ({ ...event, seq: state.seq + i + 1, recordedAt: NOW }) as StoredEvent)
}

const incident = (state: State, id = 'inc-1'): IncidentState => state.incidents.get(id)!
const taskOf = (state: State, id: string): TaskState => state.tasks.get(id)!

// ------------------------------------------------------------------ tests

describe('decide: visibility and roles', () => {
  it('[C1] an incident the viewer cannot see is not_found, never forbidden, whatever the role', () => {
    const floor = given(...world())
    for (const viewer of [ilze, janis, lvSensor, anna]) {
      floor
        .when({ type: 'incident.acknowledge', incidentId: 'inc-secret' }, viewer)
        .thenRejects('not_found', 'C1', (r) => {
          expect(r.message).toBe('no incident inc-secret')
          expect(r.current).toBeUndefined()
        })
    }
    // the same answer as for an incident that does not exist at all
    floor
      .when({ type: 'incident.acknowledge', incidentId: 'inc-nowhere' }, ilze)
      .thenRejects('not_found', 'C1', (r) => expect(r.message).toBe('no incident inc-nowhere'))
    // the organisation that can see it gets the role answer instead
    floor.when({ type: 'incident.acknowledge', incidentId: 'inc-secret' }, eeSensor).thenRejects('forbidden', 'C2')
  })

  it('[C1] a task on an incident the viewer cannot see, or an unknown task, is not_found', () => {
    const secretTask = at(
      'task.created',
      { taskId: 't-secret', incidentId: 'inc-secret', title: 'x', priority: 'low' } as never,
      { marking: { tlp: 'AMBER' }, actor: 'mart' },
    )
    const floor = given(...world(), secretTask)
    floor.when({ type: 'task.accept', taskId: 't-secret' }, ilze).thenRejects('not_found', 'C1')
    floor.when({ type: 'task.accept', taskId: 't-nowhere' }, ilze).thenRejects('not_found', 'C1')
    floor
      .when({ type: 'comment.post', incidentId: 'inc-secret', taskId: 't-secret', body: 'hi' }, ilze)
      .thenRejects('not_found', 'C1')
    floor.when({ type: 'task.accept', taskId: 't-secret' }, mart).thenAccepts()
  })

  it('[C1] a task whose own marking hides it from the viewer is not_found even when its incident is visible', () => {
    const redTask = task('t-red', {}, { marking: { tlp: 'RED', recipients: ['kadri'] } })
    const floor = given(...world(), redTask)
    floor
      .when({ type: 'task.assign', taskId: 't-red', assignee: { kind: 'user', userId: 'x' } }, ilze)
      .thenRejects('not_found', 'C1')
    floor
      .when({ type: 'comment.post', incidentId: 'inc-1', taskId: 't-red', body: 'x' }, ilze)
      .thenRejects('not_found', 'C1')
  })

  it('[C1] linking to an unknown or invisible incident is not_found', () => {
    const floor = given(...world())
    for (const otherIncidentId of ['inc-nowhere', 'inc-secret']) {
      floor
        .when({ type: 'incident.link', incidentId: 'inc-2', otherIncidentId, relation: 'related' }, ilze)
        .thenRejects('not_found', 'C1', (r) => expect(r.message).toBe(`no incident ${otherIncidentId}`))
    }
  })

  it('[C2] acknowledge needs watch_officer, coordinator or admin', () => {
    const floor = given(...world())
    const ack = { type: 'incident.acknowledge', incidentId: 'inc-1' } as const
    for (const viewer of [kadri, mart, anna]) floor.when(ack, viewer).thenAccepts()
    for (const viewer of [liis, janis, eeSensor, person('lia', 'cert-ee', 'EE', 'liaison')]) {
      floor.when(ack, viewer).thenRejects('forbidden', 'C2', (r) => {
        expect(r.message).toBe('incident.acknowledge needs the role watch_officer, coordinator or admin')
      })
    }
  })

  it('[C2] escalate, set_status, link, network.set_state, task.create and task.assign need coordinator or admin', () => {
    const floor = given(...world(), task('t-1'))
    const commands: CommandInput[] = [
      { type: 'incident.escalate', incidentId: 'inc-1', severity: 'critical', reason: 'spreading' },
      { type: 'incident.set_status', incidentId: 'inc-1', status: 'triaged' },
      { type: 'incident.link', incidentId: 'inc-1', otherIncidentId: 'inc-2', relation: 'related' },
      { type: 'network.set_state', incidentId: 'inc-1', networkId: 'ee-gov', state: 'contained' },
      { type: 'task.create', incidentId: 'inc-1', title: 'Isolate' },
      { type: 'task.assign', taskId: 't-1', assignee: { kind: 'user', userId: 'liis' } },
    ]
    for (const command of commands) {
      for (const viewer of [kadri, liis, eeSensor]) floor.when(command, viewer).thenRejects('forbidden', 'C2')
      for (const viewer of [mart, ilze, anna]) floor.when(command, viewer).thenAccepts()
    }
  })

  it('[C2] task work (accept, start, block, complete, reopen): the assignee user, a person of the assignee team, a coordinator or an admin', () => {
    const states = {
      accept: [] as StoredEvent[],
      start: [] as StoredEvent[],
      block: [taskEvent('task.accepted', 't-user')],
      complete: [taskEvent('task.started', 't-user')],
      reopen: [taskEvent('task.completed', 't-user')],
    }
    for (const [verb, before] of Object.entries(states)) {
      const command = { type: `task.${verb}`, taskId: 't-user', reason: 'because' } as CommandInput
      const strip = (c: CommandInput) =>
        verb === 'block' || verb === 'reopen' ? c : ({ type: c.type, taskId: 't-user' } as CommandInput)
      const userTask = given(...world(), task('t-user', { assignee: { kind: 'user', userId: 'liis' } }), ...before)
      for (const viewer of [liis, mart, ilze, anna]) userTask.when(strip(command), viewer).thenAccepts()
      for (const viewer of [kadri, janis, person('liis', 'cert-ee', 'EE', 'sensor')]) {
        userTask.when(strip(command), viewer).thenRejects('forbidden', 'C2')
      }
    }
    const teamTask = given(...world(), task('t-team', { assignee: { kind: 'team', organisation: 'cert-lv' } }))
    for (const viewer of [janis, ilze, anna])
      teamTask.when({ type: 'task.accept', taskId: 't-team' }, viewer).thenAccepts()
    for (const viewer of [lvSensor, kadri, liis]) {
      teamTask.when({ type: 'task.accept', taskId: 't-team' }, viewer).thenRejects('forbidden', 'C2')
    }
    const unassigned = given(...world(), task('t-none'))
    unassigned.when({ type: 'task.accept', taskId: 't-none' }, liis).thenRejects('forbidden', 'C2')
    unassigned.when({ type: 'task.accept', taskId: 't-none' }, mart).thenAccepts()
  })

  it('[C2] any role but sensor may comment', () => {
    const floor = given(...world())
    for (const viewer of [kadri, liis, janis, person('lia', 'cert-ee', 'EE', 'liaison')]) {
      floor.when({ type: 'comment.post', incidentId: 'inc-1', body: 'seen here too' }, viewer).thenAccepts()
    }
    floor.when({ type: 'comment.post', incidentId: 'inc-1', body: 'beep' }, eeSensor).thenRejects('forbidden', 'C2')
  })
})

describe('decide: versions', () => {
  it('[C3] a stale expectedVersion on an incident command is a conflict carrying the current incident', () => {
    const floor = given(
      ...world(),
      at('incident.updated', { incidentId: 'inc-1', summary: 'Spreading over SMB' } as never),
      at('incident.observation', { incidentId: 'inc-1' } as never),
    )
    expect(incident(floor.state).version).toBe(2) // [R11] the observation is not an edit
    floor
      .when({ type: 'incident.set_status', incidentId: 'inc-1', status: 'triaged', expectedVersion: 1 })
      .thenRejects('conflict', 'C3', (r) => {
        expect(r.message).toBe('expected version 1, but it is at version 2')
        expect(r.current).toBe(incident(floor.state))
      })
    floor
      .when({ type: 'incident.set_status', incidentId: 'inc-1', status: 'triaged', expectedVersion: 2 })
      .thenAccepts()
  })

  it('[C3] task commands compare expectedVersion with the task, comments with the task or else the incident', () => {
    const floor = given(...world(), task('t-1', { assignee: { kind: 'user', userId: 'liis' } }))
    floor
      .when({ type: 'task.accept', taskId: 't-1', expectedVersion: 2 }, liis)
      .thenRejects('conflict', 'C3', (r) => expect(r.current).toBe(taskOf(floor.state, 't-1')))
    floor.when({ type: 'task.accept', taskId: 't-1', expectedVersion: 1 }, liis).thenAccepts()
    floor
      .when({ type: 'task.create', incidentId: 'inc-1', title: 'x', expectedVersion: 0 })
      .thenRejects('conflict', 'C3')
    floor.when({ type: 'task.create', incidentId: 'inc-1', title: 'x', expectedVersion: 1 }).thenAccepts()
    floor
      .when({ type: 'comment.post', incidentId: 'inc-1', taskId: 't-1', body: 'x', expectedVersion: 1 })
      .thenAccepts((_, __, version) => expect(version).toBe(1))
    floor
      .when({ type: 'comment.post', incidentId: 'inc-1', body: 'x', expectedVersion: 2 })
      .thenRejects('conflict', 'C3', (r) => expect(r.current).toBe(incident(floor.state)))
  })

  it('[C5] folding the events yields the promised version, for every command', () => {
    let state = fold(initialState, [...world(), task('t-1', { assignee: { kind: 'user', userId: 'liis' } })])
    const script: [CommandInput, Viewer, (s: State) => number][] = [
      [{ type: 'incident.acknowledge', incidentId: 'inc-1' }, kadri, (s) => incident(s).version],
      [
        { type: 'incident.escalate', incidentId: 'inc-1', severity: 'critical', reason: 'spreading' },
        mart,
        (s) => incident(s).version,
      ],
      [{ type: 'incident.set_status', incidentId: 'inc-1', status: 'triaged' }, mart, (s) => incident(s).version],
      [
        { type: 'network.set_state', incidentId: 'inc-1', networkId: 'ee-gov', state: 'contained' },
        mart,
        (s) => incident(s).version,
      ],
      [
        { type: 'incident.link', incidentId: 'inc-1', otherIncidentId: 'inc-2', relation: 'related' },
        mart,
        (s) => incident(s).version,
      ],
      [{ type: 'task.accept', taskId: 't-1' }, liis, (s) => taskOf(s, 't-1').version],
      [{ type: 'task.start', taskId: 't-1' }, liis, (s) => taskOf(s, 't-1').version],
      [{ type: 'task.block', taskId: 't-1', reason: 'no access' }, liis, (s) => taskOf(s, 't-1').version],
      [{ type: 'task.complete', taskId: 't-1' }, liis, (s) => taskOf(s, 't-1').version],
      [{ type: 'task.reopen', taskId: 't-1' }, mart, (s) => taskOf(s, 't-1').version],
      [
        { type: 'task.assign', taskId: 't-1', assignee: { kind: 'team', organisation: 'cert-lv' } },
        mart,
        (s) => taskOf(s, 't-1').version,
      ],
      [{ type: 'comment.post', incidentId: 'inc-1', body: 'x' }, liis, (s) => incident(s).version],
      [{ type: 'comment.post', incidentId: 'inc-1', taskId: 't-1', body: 'x' }, liis, (s) => taskOf(s, 't-1').version],
      [
        { type: 'incident.link', incidentId: 'inc-2', otherIncidentId: 'inc-1', relation: 'merged_into' },
        ilze,
        (s) => incident(s, 'inc-2').version,
      ],
    ]
    for (const [input, viewer, versionOf] of script) {
      const decision = decide(state, Command.parse(input), context(viewer))
      if (!decision.ok) expect.unreachable(`${input.type}: ${decision.rejection.message}`)
      const before = versionOf(state)
      state = fold(state, stored(state, decision.events))
      expect(decision.version, input.type).toBe(versionOf(state))
      expect(decision.version, input.type).toBe(input.type === 'comment.post' ? before : before + 1)
    }
    const created = decide(
      state,
      Command.parse({ type: 'task.create', incidentId: 'inc-1', title: 'y' }),
      context(mart),
    )
    if (!created.ok) expect.unreachable()
    state = fold(state, stored(state, created.events))
    const taskId = (created.events[0]!.payload as { taskId: string }).taskId
    expect(created.version).toBe(1)
    expect(taskOf(state, taskId).version).toBe(1)
  })
})

describe('decide: the events it produces', () => {
  it('[C4] events carry the incident organisation as source, the viewer as actor, the incident marking, now and fresh ids', () => {
    const amber = reported('inc-amber', { marking: { tlp: 'AMBER', releasableTo: ['LV'], pap: 'GREEN' } })
    given(...world(), amber)
      .when({ type: 'incident.escalate', incidentId: 'inc-amber', severity: 'critical', reason: 'worse' }, ilze)
      .thenAccepts((events) => {
        expect(events).toEqual([
          {
            id: '10000000-0000-4000-8000-000000000001',
            type: 'incident.escalated',
            occurredAt: NOW,
            source: { organisation: 'cert-ee' },
            actor: { user: 'ilze', organisation: 'cert-lv' },
            marking: { tlp: 'AMBER', releasableTo: ['LV'], pap: 'GREEN' },
            payload: { incidentId: 'inc-amber', severity: 'critical', reason: 'worse' },
          },
        ])
      })
  })

  it('[C4] whoever may see the incident sees the events about it, and no one else (every marking, every viewer)', () => {
    const markings: Marking[] = [
      { tlp: 'CLEAR' },
      { tlp: 'GREEN' },
      { tlp: 'GREEN', releasableTo: ['LV'] },
      { tlp: 'AMBER' },
      { tlp: 'AMBER', releasableTo: ['cert-lv', 'NL'] },
      { tlp: 'AMBER+STRICT', releasableTo: ['LV'] },
      { tlp: 'RED' },
      { tlp: 'RED', recipients: ['ilze', 'anna'] },
      { tlp: 'RED', recipients: ['kadri', 'mart', 'liis'] },
    ]
    const viewers = [
      kadri,
      mart,
      liis,
      eeSensor,
      janis,
      ilze,
      lvSensor,
      anna,
      person('pieter', 'ncsc-nl', 'NL', 'analyst'),
    ]
    let checked = 0
    for (const marking of markings) {
      const floor = given(...world(), reported('inc-m', { marking, actor: 'kadri' }))
      const subject = incident(floor.state, 'inc-m')
      const teamTask = task(
        't-m',
        { incidentId: 'inc-m', assignee: { kind: 'team', organisation: 'cert-lv' } },
        // as task.create marks it [C4]: the incident's audience, its reporter among RED's recipients
        { marking: audienceMarking(subject), actor: 'kadri' },
      )
      const withTask = given(...world(), reported('inc-m', { marking, actor: 'kadri' }), teamTask)
      const commands: [CommandInput, typeof floor][] = [
        [{ type: 'incident.acknowledge', incidentId: 'inc-m' }, floor],
        [{ type: 'incident.set_status', incidentId: 'inc-m', status: 'contained' }, floor],
        [{ type: 'task.create', incidentId: 'inc-m', title: 'x' }, floor],
        [{ type: 'task.accept', taskId: 't-m' }, withTask],
        [{ type: 'comment.post', incidentId: 'inc-m', body: '@janis look' }, floor],
      ]
      for (const actor of viewers) {
        for (const [command, on] of commands) {
          const decision = decide(on.state, Command.parse(command), context(actor))
          if (!decision.ok) continue
          for (const event of decision.events) {
            for (const viewer of viewers) {
              expect(
                canSee(viewer, event),
                `${marking.tlp} ${command.type} by ${actor.userId} to ${viewer.userId}`,
              ).toBe(canSee(viewer, incidentVisibility(subject)))
              checked++
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(500)
  })

  it('[C4] a task’s events reach only who may see both its incident and the task, after the incident was re-reported to another audience', () => {
    const markings: Marking[] = [
      { tlp: 'GREEN' },
      { tlp: 'AMBER', releasableTo: ['cert-lv'] },
      { tlp: 'AMBER+STRICT' },
      { tlp: 'RED', recipients: ['mart', 'ilze'] },
    ]
    const viewers = [kadri, mart, liis, janis, ilze, anna, person('pieter', 'ncsc-nl', 'NL', 'analyst')]
    let leakChecks = 0
    for (const first of markings)
      for (const then of markings) {
        const reportedFirst = reported('inc-m', { marking: first, actor: 'kadri' })
        const before = given(...world(), reportedFirst)
        const made = task(
          't-m',
          { incidentId: 'inc-m', assignee: { kind: 'team', organisation: 'cert-ee' } },
          { marking: audienceMarking(incident(before.state, 'inc-m')), actor: 'kadri' },
        )
        // the owner re-reports it: the task keeps the audience it was made for
        const floor = given(...world(), reportedFirst, made, reported('inc-m', { marking: then, actor: 'kadri' }))
        const subject = incident(floor.state, 'inc-m')
        const made_ = floor.state.tasks.get('t-m')!
        const commands: CommandInput[] = [
          { type: 'task.assign', taskId: 't-m', assignee: { kind: 'user', userId: 'liis' } },
          { type: 'task.accept', taskId: 't-m' },
          { type: 'comment.post', incidentId: 'inc-m', taskId: 't-m', body: 'on the task' },
        ]
        for (const command of commands)
          for (const actor of [mart, ilze]) {
            const decision = decide(floor.state, Command.parse(command), context(actor))
            if (!decision.ok) continue
            for (const event of decision.events)
              for (const viewer of viewers) {
                const both = canSee(viewer, incidentVisibility(subject)) && canSee(viewer, taskVisibility(made_))
                const where = `${first.tlp} then ${then.tlp}: ${command.type} by ${actor.userId} to ${viewer.userId}`
                if (canSee(viewer, event)) {
                  expect(both, where).toBe(true)
                  leakChecks++
                }
                // not narrower than it must be: the incident unchanged, exactly its audience
                else if (first === then) expect(both, where).toBe(false)
              }
          }
      }
    expect(leakChecks).toBeGreaterThan(50)
  })

  it('[C4] a task command whose event its actor could not see (the incident re-marked under other names) is refused', () => {
    const baltic = { ...ilze, communities: ['baltic'] }
    const first = reported('inc-c', { marking: { tlp: 'AMBER', releasableTo: ['baltic'] }, actor: 'kadri' })
    const made = task(
      't-c',
      { incidentId: 'inc-c' },
      { marking: audienceMarking(incident(given(...world(), first).state, 'inc-c')), actor: 'kadri' },
    )
    // the owner names cert-lv now: ilze sees both (by community, then by organisation), but no one marking holds her
    const floor = given(
      ...world(),
      first,
      made,
      reported('inc-c', { marking: { tlp: 'AMBER', releasableTo: ['cert-lv'] }, actor: 'kadri' }),
    )
    for (const command of [
      { type: 'task.start', taskId: 't-c' },
      { type: 'comment.post', incidentId: 'inc-c', taskId: 't-c', body: 'on it' },
      { type: 'task.assign', taskId: 't-c', assignee: { kind: 'team', organisation: 'cert-lv' } },
    ] as CommandInput[]) {
      const decision = decide(floor.state, Command.parse(command), context(baltic))
      expect(decision.ok, command.type).toBe(false)
      if (!decision.ok) expect(decision.rejection).toMatchObject({ code: 'conflict', rule: 'C4' })
    }
    // a comment on the incident itself, no task named: its audience alone, she is within it
    expect(
      decide(floor.state, Command.parse({ type: 'comment.post', incidentId: 'inc-c', body: 'x' }), context(baltic)).ok,
    ).toBe(true)
  })

  it('[C4] on a RED incident the reporter joins the recipients, so the author keeps seeing its own incident', () => {
    given(...world(), reported('inc-red', { marking: { tlp: 'RED', recipients: ['mart'] }, actor: 'kadri' }))
      .when({ type: 'incident.set_status', incidentId: 'inc-red', status: 'triaged' }, mart)
      .thenAccepts(([event]) => {
        expect(event!.marking).toEqual({ tlp: 'RED', recipients: ['mart', 'kadri'] })
        expect(canSee(kadri, event!)).toBe(true)
        expect(canSee(liis, event!)).toBe(false)
      })
  })
})

describe('decide: incidents', () => {
  it('[C6] acknowledging records who and when; a second acknowledgement is a conflict', () => {
    const floor = given(...world())
    floor
      .when({ type: 'incident.acknowledge', incidentId: 'inc-1', note: 'on it' }, kadri)
      .thenAccepts((events, after) => {
        expect(events.map((e) => e.payload)).toEqual([{ incidentId: 'inc-1', note: 'on it' }])
        expect(incident(after)).toMatchObject({ acknowledgedBy: 'kadri', acknowledgedAt: NOW, version: 2 })
      })
    given(...world(), at('incident.acknowledged', { incidentId: 'inc-1' } as never, { actor: 'kadri' }))
      .when({ type: 'incident.acknowledge', incidentId: 'inc-1' }, mart)
      .thenRejects('conflict', 'C6', (r) => {
        expect(r.message).toBe('incident inc-1 was already acknowledged by kadri')
        expect(r.current).toMatchObject({ acknowledgedBy: 'kadri' })
      })
  })

  it('[C6] a closed incident cannot be acknowledged', () => {
    given(...world(), at('incident.status_changed', { incidentId: 'inc-1', status: 'closed' } as never))
      .when({ type: 'incident.acknowledge', incidentId: 'inc-1' }, kadri)
      .thenRejects('conflict', 'C6')
  })

  it('[C7] escalation only raises the severity', () => {
    const floor = given(...world())
    for (const severity of ['low', 'medium', 'high'] as const) {
      floor
        .when({ type: 'incident.escalate', incidentId: 'inc-1', severity, reason: 'r' })
        .thenRejects('conflict', 'C7', (r) => expect(r.current?.version).toBe(1))
    }
    floor
      .when({ type: 'incident.escalate', incidentId: 'inc-1', severity: 'critical', reason: 'LV hit too' })
      .thenAccepts((_, after) => expect(incident(after).severity).toBe('critical'))
    given(...world(), at('incident.status_changed', { incidentId: 'inc-1', status: 'closed' } as never))
      .when({ type: 'incident.escalate', incidentId: 'inc-1', severity: 'critical', reason: 'r' })
      .thenRejects('conflict', 'C7')
  })

  it('[C8] set_status changes the status, to any other status (closing and reopening included)', () => {
    const floor = given(...world())
    floor.when({ type: 'incident.set_status', incidentId: 'inc-1', status: 'new' }).thenRejects('conflict', 'C8')
    floor
      .when({ type: 'incident.set_status', incidentId: 'inc-1', status: 'closed', reason: 'false positive' })
      .thenAccepts((events, after) => {
        expect(events[0]!.payload).toEqual({ incidentId: 'inc-1', status: 'closed', reason: 'false positive' })
        expect(incident(after).status).toBe('closed')
      })
    given(...world(), at('incident.status_changed', { incidentId: 'inc-1', status: 'closed' } as never))
      .when({ type: 'incident.set_status', incidentId: 'inc-1', status: 'triaged' })
      .thenAccepts((_, after) => expect(incident(after).status).toBe('triaged'))
  })

  it('[C9] a link is recorded on both incidents; the same link twice is a conflict', () => {
    const floor = given(...world())
    floor
      .when({ type: 'incident.link', incidentId: 'inc-1', otherIncidentId: 'inc-2', relation: 'duplicate_of' })
      .thenAccepts((_, after) => {
        expect(incident(after).links).toEqual([
          { incidentId: 'inc-2', relation: 'duplicate_of', linkedAt: NOW, seq: after.seq },
        ])
        expect(incident(after, 'inc-2').links).toEqual([
          { incidentId: 'inc-1', relation: 'duplicated_by', linkedAt: NOW, seq: after.seq },
        ])
      })
    const linked = at('incident.linked', {
      incidentId: 'inc-1',
      otherIncidentId: 'inc-2',
      relation: 'related',
    } as never)
    given(...world(), linked)
      .when({ type: 'incident.link', incidentId: 'inc-1', otherIncidentId: 'inc-2', relation: 'related' })
      .thenRejects('conflict', 'C9')
  })

  it('[C4, C9] a link reaches only those who may see both incidents, whatever their markings and whoever links them', () => {
    const hub = person('olaf', 'nato-hub', 'NATO', 'coordinator')
    const piret = person('piret', 'ria-ee', 'EE', 'analyst')
    const people = [kadri, mart, janis, ilze, anna, hub, piret]
    const markings: Marking[] = [
      { tlp: 'GREEN' },
      { tlp: 'GREEN', releasableTo: ['cert-lv', 'nato-hub'] },
      { tlp: 'GREEN', releasableTo: ['EE', 'nato-hub'] },
      { tlp: 'AMBER' },
      { tlp: 'AMBER', releasableTo: ['cert-lv'] },
      { tlp: 'AMBER', releasableTo: ['cert-ee', 'nato-hub'] },
      { tlp: 'AMBER', releasableTo: ['NATO', 'EE'] },
      { tlp: 'AMBER+STRICT' },
      { tlp: 'RED', recipients: ['mart', 'ilze', 'olaf'] },
      { tlp: 'RED', recipients: ['ilze'] },
    ]
    let links = 0
    for (const a of markings)
      for (const b of markings) {
        const floor = given(
          ...world(),
          reported('inc-a', { marking: a, actor: 'kadri' }),
          reported('inc-b', { organisation: 'cert-lv', marking: b, actor: 'janis', networks: ['lv-gov'] }),
        )
        const [incA, incB] = [incident(floor.state, 'inc-a'), incident(floor.state, 'inc-b')]
        for (const actor of [mart, ilze, hub]) {
          if (!canSee(actor, incidentVisibility(incA)) || !canSee(actor, incidentVisibility(incB))) continue
          floor
            .when({ type: 'incident.link', incidentId: 'inc-a', otherIncidentId: 'inc-b', relation: 'related' }, actor)
            .thenAccepts(([event]) => {
              links++
              const where = JSON.stringify([a, b, actor.userId])
              expect(canSee(actor, event!), where).toBe(true)
              for (const who of people) {
                if (!canSee(who, event!)) continue
                expect(canSee(who, incidentVisibility(incA)), `${where} ${who.userId}`).toBe(true)
                expect(canSee(who, incidentVisibility(incB)), `${where} ${who.userId}`).toBe(true)
              }
            })
        }
      }
    expect(links).toBeGreaterThan(40)
    // two incidents of one organisation: the link keeps that organisation as its source, so all of
    // it sees the link on its own incidents
    given(...world(), reported('inc-3', { marking: { tlp: 'AMBER' } }))
      .when({ type: 'incident.link', incidentId: 'inc-secret', otherIncidentId: 'inc-3', relation: 'related' }, mart)
      .thenAccepts(([event]) => {
        expect(event!.source).toEqual({ organisation: 'cert-ee' })
        expect(canSee(kadri, event!)).toBe(true)
        expect(canSee(ilze, event!)).toBe(false)
      })
  })

  it('[C9] an incident linked to itself is invalid', () => {
    given(...world())
      .when({ type: 'incident.link', incidentId: 'inc-1', otherIncidentId: 'inc-1', relation: 'related' }, mart, {
        parse: false,
      })
      .thenRejects('validation', 'C9', (r) => expect(r.path).toBe('otherIncidentId'))
  })

  it('[C9] merged_into closes the merged incident and points it at the survivor', () => {
    given(...world())
      .when({ type: 'incident.link', incidentId: 'inc-2', otherIncidentId: 'inc-1', relation: 'merged_into' }, ilze)
      .thenAccepts((_, after) => {
        expect(incident(after, 'inc-2')).toMatchObject({ status: 'closed', mergedInto: 'inc-1' })
        expect(incident(after, 'inc-1').links).toMatchObject([{ incidentId: 'inc-2', relation: 'merged_from' }])
        expect(incident(after, 'inc-1').status).toBe('new')
      })
  })

  it('[C9] no merging into an incident that was merged itself or is closed', () => {
    const merged = at('incident.linked', {
      incidentId: 'inc-2',
      otherIncidentId: 'inc-1',
      relation: 'merged_into',
    } as never)
    given(...world(), reported('inc-3'), merged)
      .when({ type: 'incident.link', incidentId: 'inc-3', otherIncidentId: 'inc-2', relation: 'merged_into' })
      .thenRejects('conflict', 'C9', (r) => expect(r.message).toContain('merge into the survivor'))
    given(
      ...world(),
      reported('inc-3'),
      at('incident.status_changed', { incidentId: 'inc-1', status: 'closed' } as never),
    )
      .when({ type: 'incident.link', incidentId: 'inc-3', otherIncidentId: 'inc-1', relation: 'merged_into' })
      .thenRejects('conflict', 'C9')
  })

  it('[C10] network.set_state sets a known network state; the current state again is a conflict; an unknown network is not_found', () => {
    const floor = given(...world())
    floor
      .when({ type: 'network.set_state', incidentId: 'inc-1', networkId: 'ee-gov', state: 'affected' })
      .thenRejects('conflict', 'C10')
    floor
      .when({ type: 'network.set_state', incidentId: 'inc-1', networkId: 'ee-gov', state: 'contained' })
      .thenAccepts((_, after) => expect(incident(after).networkStates).toEqual({ 'ee-gov': 'contained' }))
    floor
      .when({ type: 'network.set_state', incidentId: 'inc-1', networkId: 'lv-gov', state: 'affected' })
      .thenAccepts((_, after) => {
        expect(incident(after).affectedNetworks).toEqual(['ee-gov', 'lv-gov'])
        expect(incident(after).networkStates).toEqual({ 'lv-gov': 'affected' })
      })
    floor
      .when({ type: 'network.set_state', incidentId: 'inc-1', networkId: 'xx-nowhere', state: 'affected' })
      .thenRejects('not_found', 'C10')
  })

  it('[C11] a merged incident takes no more commands but comments', () => {
    const merged = at('incident.linked', {
      incidentId: 'inc-2',
      otherIncidentId: 'inc-1',
      relation: 'merged_into',
    } as never)
    const floor = given(...world(), merged)
    const refused: CommandInput[] = [
      { type: 'incident.acknowledge', incidentId: 'inc-2' },
      { type: 'incident.escalate', incidentId: 'inc-2', severity: 'critical', reason: 'r' },
      { type: 'incident.set_status', incidentId: 'inc-2', status: 'triaged' },
      { type: 'incident.link', incidentId: 'inc-2', otherIncidentId: 'inc-secret', relation: 'related' },
      { type: 'network.set_state', incidentId: 'inc-2', networkId: 'lv-gov', state: 'recovered' },
      { type: 'task.create', incidentId: 'inc-2', title: 'x' },
    ]
    for (const command of refused) {
      floor.when(command, mart).thenRejects('conflict', 'C11', (r) => {
        expect(r.message).toBe('incident inc-2 was merged into inc-1')
      })
    }
    floor.when({ type: 'comment.post', incidentId: 'inc-2', body: 'see inc-1' }, mart).thenAccepts()
  })
})

describe('decide: tasks', () => {
  it('[C12] task.create makes an open task at version 1 under the incident, with a fresh id', () => {
    given(...world())
      .when({
        type: 'task.create',
        incidentId: 'inc-1',
        title: 'Block 445/tcp',
        priority: 'urgent',
        dueAt: '2026-11-26T12:00:00Z',
        assignee: { kind: 'team', organisation: 'cert-ee' },
      })
      .thenAccepts((events, after, version) => {
        expect(events.map((e) => [e.id, e.type, e.payload])).toEqual([
          [
            '10000000-0000-4000-8000-000000000002',
            'task.created',
            {
              taskId: '10000000-0000-4000-8000-000000000001',
              incidentId: 'inc-1',
              title: 'Block 445/tcp',
              priority: 'urgent',
              dueAt: '2026-11-26T12:00:00Z',
              assignee: { kind: 'team', organisation: 'cert-ee' },
            },
          ],
        ])
        expect(version).toBe(1)
        expect(taskOf(after, '10000000-0000-4000-8000-000000000001')).toMatchObject({
          status: 'open',
          version: 1,
          priority: 'urgent',
          createdBy: 'mart',
          createdAt: NOW,
          organisation: 'cert-ee',
        })
        expect(incident(after).version).toBe(1) // a task is not a change of its incident
      })
  })

  it('[C12] a closed incident gets no new tasks', () => {
    given(...world(), at('incident.status_changed', { incidentId: 'inc-1', status: 'closed' } as never))
      .when({ type: 'task.create', incidentId: 'inc-1', title: 'x' })
      .thenRejects('conflict', 'C12')
  })

  it('[C13] each task command moves only from its allowed statuses', () => {
    const reach: Record<TaskState['status'], StoredEvent[]> = {
      open: [],
      accepted: [taskEvent('task.accepted', 't-1')],
      in_progress: [taskEvent('task.started', 't-1')],
      blocked: [taskEvent('task.accepted', 't-1'), taskEvent('task.blocked', 't-1', { reason: 'r' })],
      done: [taskEvent('task.started', 't-1'), taskEvent('task.completed', 't-1')],
    }
    const into: Record<keyof typeof TASK_TRANSITIONS, TaskState['status']> = {
      'task.accept': 'accepted',
      'task.start': 'in_progress',
      'task.block': 'blocked',
      'task.complete': 'done',
      'task.reopen': 'open',
    }
    for (const [status, events] of Object.entries(reach) as [TaskState['status'], StoredEvent[]][]) {
      const floor = given(...world(), task('t-1', { assignee: { kind: 'user', userId: 'liis' } }), ...events)
      expect(taskOf(floor.state, 't-1').status).toBe(status)
      for (const [type, from] of Object.entries(TASK_TRANSITIONS) as [keyof typeof TASK_TRANSITIONS, string[]][]) {
        const command = { type, taskId: 't-1', ...(type === 'task.block' ? { reason: 'waiting' } : {}) } as CommandInput
        const when = floor.when(command, liis)
        if (from.includes(status)) {
          when.thenAccepts((_, after) => expect(taskOf(after, 't-1').status).toBe(into[type]))
        } else {
          when.thenRejects('conflict', 'C13', (r) => {
            expect(r.message).toBe(`${type} is not possible while task t-1 is ${status}`)
            expect(r.current).toBe(taskOf(floor.state, 't-1'))
          })
        }
      }
    }
  })

  it('[C13] the task records who accepted it, why it is blocked and when it was completed', () => {
    const floor = given(...world(), task('t-1', { assignee: { kind: 'team', organisation: 'cert-lv' } }))
    floor.when({ type: 'task.accept', taskId: 't-1' }, janis).thenAccepts((_, after) => {
      expect(taskOf(after, 't-1')).toMatchObject({ status: 'accepted', acceptedBy: 'janis', version: 2 })
    })
    floor.when({ type: 'task.start', taskId: 't-1' }, janis).thenAccepts((_, after) => {
      expect(taskOf(after, 't-1')).toMatchObject({ status: 'in_progress', acceptedBy: 'janis' })
    })
    given(...floor.state.recent, taskEvent('task.accepted', 't-1'))
      .when({ type: 'task.block', taskId: 't-1', reason: 'no VPN' }, janis)
      .thenAccepts((events, after) => {
        expect(events[0]!.payload).toEqual({ taskId: 't-1', reason: 'no VPN' })
        expect(taskOf(after, 't-1')).toMatchObject({ status: 'blocked', blockedReason: 'no VPN' })
      })
  })

  it('[C14] assigning sets the assignee and opens the task again; the same assignee or a done task is a conflict', () => {
    const floor = given(
      ...world(),
      task('t-1', { assignee: { kind: 'user', userId: 'liis' } }),
      taskEvent('task.accepted', 't-1'),
    )
    floor
      .when({ type: 'task.assign', taskId: 't-1', assignee: { kind: 'user', userId: 'liis' } })
      .thenRejects('conflict', 'C14', (r) => expect(r.message).toBe('task t-1 is already assigned to user liis'))
    floor
      .when({ type: 'task.assign', taskId: 't-1', assignee: { kind: 'team', organisation: 'cert-lv' } })
      .thenAccepts((_, after) => {
        const t = taskOf(after, 't-1')
        expect(t).toMatchObject({ status: 'open', assignee: { kind: 'team', organisation: 'cert-lv' }, version: 3 })
        expect(t.acceptedBy).toBeUndefined()
      })
    given(...world(), task('t-1'), taskEvent('task.accepted', 't-1'), taskEvent('task.completed', 't-1'))
      .when({ type: 'task.assign', taskId: 't-1', assignee: { kind: 'user', userId: 'liis' } })
      .thenRejects('conflict', 'C14')
  })
})

describe('decide: comments', () => {
  it('[C15] mentions are the explicit list plus every @user in the body, each once', () => {
    given(...world(), task('t-1'))
      .when(
        {
          type: 'comment.post',
          incidentId: 'inc-1',
          taskId: 't-1',
          body: '@janis and @ilze.k, please check (cc @janis). Mail kadri@cert.ee or @mart.',
          mentions: ['anna', 'janis'],
        },
        liis,
      )
      .thenAccepts((events, after) => {
        const payload = events[0]!.payload
        expect(payload).toEqual({
          commentId: '10000000-0000-4000-8000-000000000001',
          incidentId: 'inc-1',
          taskId: 't-1',
          body: '@janis and @ilze.k, please check (cc @janis). Mail kadri@cert.ee or @mart.',
          mentions: ['anna', 'janis', 'ilze.k', 'mart'],
        })
        expect(after.comments.get('10000000-0000-4000-8000-000000000001')).toMatchObject({
          author: 'liis',
          incidentId: 'inc-1',
          taskId: 't-1',
          mentions: ['anna', 'janis', 'ilze.k', 'mart'],
        })
      })
  })

  it('[C15] extractMentions ignores addresses and trailing punctuation', () => {
    expect(extractMentions('@a, @b.c. x@y.z @@d (@e-) @ f')).toEqual(['a', 'b.c', 'e'])
    expect(extractMentions('no one here')).toEqual([])
  })

  it('[C15] more than 100 mentions is invalid', () => {
    const body = Array.from({ length: 101 }, (_, i) => `@u${i}`).join(' ')
    given(...world())
      .when({ type: 'comment.post', incidentId: 'inc-1', body }, liis)
      .thenRejects('validation', 'C15', (r) => expect(r.path).toBe('mentions'))
  })

  it('[C1] a comment on a task must name the task’s own incident', () => {
    given(...world(), task('t-1'))
      .when({ type: 'comment.post', incidentId: 'inc-2', taskId: 't-1', body: 'x' }, ilze)
      .thenRejects('not_found', 'C1', (r) => expect(r.message).toBe('no task t-1 on incident inc-2'))
  })
})

describe('decide: purity', () => {
  it('never changes the state it is given', () => {
    const floor = given(...world(), task('t-1'))
    const snapshot = JSON.stringify([...floor.state.incidents.values(), ...floor.state.tasks.values()])
    const decision: Decision = floor.when({
      type: 'incident.link',
      incidentId: 'inc-2',
      otherIncidentId: 'inc-1',
      relation: 'merged_into',
    }).decision
    expect(decision.ok).toBe(true)
    expect(JSON.stringify([...floor.state.incidents.values(), ...floor.state.tasks.values()])).toBe(snapshot)
  })
})

describe('decide: bookmarks', () => {
  it('[C16] an analyst bookmarks a range for its organisation (AMBER by default); the bookmark folds into the state', () => {
    given(...world())
      .when(
        { type: 'bookmark.save', title: 'First wave', clock: 'occurred', from: NOW, to: '2026-11-26T11:00:00.000Z' },
        liis,
      )
      .thenAccepts((events, after) => {
        expect(events).toHaveLength(1)
        const [event] = events
        expect(event).toMatchObject({
          type: 'bookmark.saved',
          source: { organisation: 'cert-ee' },
          actor: { user: 'liis', organisation: 'cert-ee' },
          marking: { tlp: 'AMBER' },
        })
        expect(canSee(kadri, event!)).toBe(true)
        expect(canSee(janis, event!)).toBe(false) // AMBER: cert-ee only
        expect([...after.bookmarks.values()]).toMatchObject([{ title: 'First wave', clock: 'occurred' }])
      })
  })

  it('[C16] a bookmark takes the marking it is given, and a sensor cannot bookmark', () => {
    const floor = given(...world())
    floor
      .when({ type: 'bookmark.save', title: 'Shared', clock: 'recorded', at: NOW, marking: { tlp: 'GREEN' } }, janis)
      .thenAccepts(([event]) => {
        expect(event!.marking).toEqual({ tlp: 'GREEN' })
        expect(canSee(kadri, event!)).toBe(true)
      })
    floor
      .when({ type: 'bookmark.save', title: 'No', clock: 'recorded', at: NOW }, eeSensor)
      .thenRejects('forbidden', 'C2')
  })
})

describe('decide: who an incident is shared with (incident.set_marking)', () => {
  /** inc-rich: reported with a summary and attack source, then worked on by both organisations. */
  const rich = (): StoredEvent[] => [
    ...world(),
    at(
      'incident.reported',
      {
        incidentId: 'inc-rich',
        title: 'Wiper on the ministry',
        severity: 'medium',
        category: 'malware',
        summary: 'Disk wiper found on two hosts',
        affectedNetworks: ['ee-gov'],
        attackSource: { location: { lat: 55.7, lon: 37.6 } },
      } as never,
      { marking: { tlp: 'AMBER', releasableTo: ['cert-lv'], pap: 'GREEN' }, actor: 'ee-ids', network: 'ee-gov' },
    ),
    at('incident.acknowledged', { incidentId: 'inc-rich', note: 'on it' } as never, {
      marking: { tlp: 'AMBER', releasableTo: ['cert-lv'] },
      actor: 'kadri',
    }),
    at('incident.escalated', { incidentId: 'inc-rich', severity: 'critical', reason: 'spreading' } as never, {
      marking: { tlp: 'AMBER', releasableTo: ['cert-lv'] },
      actor: 'ilze',
    }),
    at('incident.status_changed', { incidentId: 'inc-rich', status: 'contained' } as never, {
      marking: { tlp: 'AMBER', releasableTo: ['cert-lv'] },
      actor: 'mart',
    }),
    at('incident.network_state_set', { incidentId: 'inc-rich', networkId: 'lv-gov', state: 'recovered' } as never, {
      marking: { tlp: 'AMBER', releasableTo: ['cert-lv'] },
      actor: 'mart',
    }),
    at('incident.linked', { incidentId: 'inc-rich', otherIncidentId: 'inc-1', relation: 'related' } as never, {
      marking: { tlp: 'GREEN' },
      actor: 'mart',
    }),
    at('incident.observation', { incidentId: 'inc-rich', networkId: 'ee-gov', count: 40 } as never, {
      marking: { tlp: 'AMBER', releasableTo: ['cert-lv'] },
      actor: 'ee-ids',
    }),
    task('t-rich', { incidentId: 'inc-rich' }, { marking: { tlp: 'AMBER', releasableTo: ['cert-lv'] } }),
  ]
  const narrower: Marking = { tlp: 'AMBER', pap: 'GREEN' }

  it('[C20] restates the incident as it stands (the escalated severity, the summary) in one incident.reported', () => {
    const floor = given(...rich())
    // [R15] when each field was set in the caller's picture
    const setAt = incident(floor.state, 'inc-rich').setAt!
    // the report, then the escalation, the status and the network state that added lv-gov
    expect(setAt.summary).toBe(setAt.title)
    expect(setAt.severity).toBeGreaterThan(setAt.title)
    expect(setAt.status).toBe(setAt.severity + 1)
    expect(setAt.networkStates).toEqual({ 'lv-gov': setAt.status + 1 })
    expect(setAt.networks).toBe(setAt.status + 1)
    floor
      .when({ type: 'incident.set_marking', incidentId: 'inc-rich', marking: narrower, expectedVersion: 6 })
      .thenAccepts((events, _, version) => {
        expect(version).toBe(7)
        expect(events).toEqual([
          {
            id: '10000000-0000-4000-8000-000000000001',
            type: 'incident.reported',
            occurredAt: NOW,
            source: { organisation: 'cert-ee' },
            actor: { user: 'mart', organisation: 'cert-ee' },
            marking: { tlp: 'AMBER', pap: 'GREEN' },
            payload: {
              incidentId: 'inc-rich',
              title: 'Wiper on the ministry',
              severity: 'critical',
              category: 'malware',
              summary: 'Disk wiper found on two hosts',
              affectedNetworks: ['ee-gov', 'lv-gov'],
              attackSource: { location: { lat: 55.7, lon: 37.6 } },
              restated: { status: 'contained', networkStates: { 'lv-gov': 'recovered' }, setAt },
            },
          },
        ])
      })
  })

  it('[C20] an incident that network states grew past the 500 networks a report names: a 400 saying what to do', () => {
    const networks = Array.from({ length: 500 }, (_, i) => `net-${i}`)
    const floor = given(
      ...world(),
      reported('inc-big', { networks }),
      at('incident.network_state_set', { incidentId: 'inc-big', networkId: 'ee-gov', state: 'affected' } as never),
    )
    expect(incident(floor.state, 'inc-big').affectedNetworks).toHaveLength(501)
    floor
      .when({ type: 'incident.set_marking', incidentId: 'inc-big', marking: { tlp: 'AMBER' } })
      .thenRejects('validation', 'C20', (r) => expect(r.message).toContain('report it again, naming at most 500'))
  })

  it('[R15, R9] restates only the states of the networks its report names: the event passes its schema', () => {
    const floor = given(
      ...world(),
      reported('inc-drop', { networks: ['ee-gov', 'lv-gov'] }),
      at('incident.network_state_set', { incidentId: 'inc-drop', networkId: 'lv-gov', state: 'contained' } as never),
      // the report again, naming ee-gov alone: the picture keeps lv-gov's state [R9]
      reported('inc-drop', { networks: ['ee-gov'] }),
    )
    expect(incident(floor.state, 'inc-drop').networkStates).toEqual({ 'lv-gov': 'contained' })
    floor
      .when({ type: 'incident.set_marking', incidentId: 'inc-drop', marking: { tlp: 'AMBER' } })
      .thenAccepts((events) => {
        const payload = events[0]!.payload as PayloadOf<'incident.reported'>
        expect(payload.affectedNetworks).toEqual(['ee-gov'])
        expect(payload.restated).toMatchObject({ status: 'new' })
        expect(payload.restated?.networkStates).toBeUndefined()
        expect(payload.restated?.setAt.networkStates).toBeUndefined()
        expect(EventInput.safeParse(events[0]).success).toBe(true)
      })
  })

  it('[C20, R7] folded, the incident keeps everything it held but its marking (and the version, times and latest reporter)', () => {
    const floor = given(...rich())
    const before = incident(floor.state, 'inc-rich')
    for (const marking of [narrower, { tlp: 'GREEN' } as Marking, { tlp: 'RED', recipients: ['kadri'] } as Marking])
      floor.when({ type: 'incident.set_marking', incidentId: 'inc-rich', marking }).thenAccepts((_, after) => {
        const now = incident(after, 'inc-rich')
        const {
          marking: m1,
          contentMarking: c1,
          version: v1,
          lastSeq: s1,
          updatedAt: u1,
          reportedBy: r1,
          ...kept
        } = now
        const {
          marking: m0,
          contentMarking: c0,
          version: v0,
          lastSeq: s0,
          updatedAt: u0,
          reportedBy: r0,
          ...was
        } = before
        expect(kept, marking.tlp).toEqual(was)
        expect(Object.keys(now).sort()).toEqual(Object.keys(before).sort())
        expect(m1).toEqual(marking)
        expect([v1, s1, u1, r1]).toEqual([v0 + 1, after.seq, NOW, 'mart'])
        expect([r0, now.firstReportedBy]).toEqual(['ee-ids', 'ee-ids'])
        // what it holds was shaped under the old marking too: the content marking never widens [M1]
        expect(c1).toEqual(strictestMarking(c0, marking))
        // the task keeps its own marking; the rest of the picture is untouched
        expect(after.tasks.get('t-rich')).toBe(floor.state.tasks.get('t-rich'))
        expect(after.incidents.get('inc-1')).toBe(floor.state.incidents.get('inc-1'))
        expect(now.status).toBe('contained')
        expect(now.severity).toBe('critical')
        expect(now.acknowledgedNote).toBe('on it')
      })
  })

  it('[C20, C2] only the incident’s own coordinators and admins: a partner it is shared with is forbidden', () => {
    const floor = given(...rich())
    const cmd = { type: 'incident.set_marking', incidentId: 'inc-rich', marking: narrower } as const
    const eeAdmin = person('tiit', 'cert-ee', 'EE', 'admin')
    for (const viewer of [mart, eeAdmin]) floor.when(cmd, viewer).thenAccepts()
    for (const viewer of [kadri, liis, eeSensor, janis]) floor.when(cmd, viewer).thenRejects('forbidden', 'C2')
    // ilze coordinates for cert-lv, which the incident is shared with
    floor.when(cmd, ilze).thenRejects('forbidden', 'C20', (r) => {
      expect(r.message).toBe(
        'only cert-ee, the organisation that reported incident inc-rich, changes who it is shared with',
      )
    })
    // before the version: a partner learns nothing from a stale version
    floor.when({ ...cmd, expectedVersion: 1 }, ilze).thenRejects('forbidden', 'C20')
    // an organisation it is not shared with: not found, as for every command [C1]
    floor.when(cmd, anna).thenRejects('not_found', 'C1', (r) => expect(r.message).toBe('no incident inc-rich'))
    floor
      .when({ ...cmd, incidentId: 'inc-nowhere' }, mart)
      .thenRejects('not_found', 'C1', (r) => expect(r.message).toBe('no incident inc-nowhere'))
  })

  it('[C3] a stale expectedVersion is a conflict carrying the incident as it is', () => {
    const floor = given(...rich())
    floor
      .when({ type: 'incident.set_marking', incidentId: 'inc-rich', marking: narrower, expectedVersion: 5 })
      .thenRejects('conflict', 'C3', (r) => expect(r.current).toBe(incident(floor.state, 'inc-rich')))
  })

  it('[C20] what was marked stricter than its report is never restated under a marking that reaches further', () => {
    const floor = given(
      ...world(),
      reported('inc-s', { marking: { tlp: 'GREEN' } }),
      // the owner's update, marked AMBER: the severity the incident now shows came from it
      at('incident.updated', { incidentId: 'inc-s', severity: 'critical', summary: 'ministry hit' } as never, {
        marking: { tlp: 'AMBER' },
      }),
    )
    for (const marking of [{ tlp: 'CLEAR' }, { tlp: 'AMBER', releasableTo: ['cert-lv'] }] as Marking[])
      floor
        .when({ type: 'incident.set_marking', incidentId: 'inc-s', marking })
        .thenRejects('validation', 'C20', (r) => expect(r.path).toBe('marking'))
    // as strictly as what it holds: restated where it was already seen
    floor.when({ type: 'incident.set_marking', incidentId: 'inc-s', marking: { tlp: 'AMBER' } }).thenAccepts()
    floor
      .when({ type: 'incident.set_marking', incidentId: 'inc-s', marking: { tlp: 'AMBER+STRICT', pap: 'RED' } })
      .thenAccepts()
  })

  it('[R14, C20] a marking change keeps the floor of what it restates; only a report saying something new starts afresh', () => {
    let state = fold(initialState, [
      ...world(),
      reported('inc-r', { marking: { tlp: 'GREEN' } }),
      at('incident.updated', { incidentId: 'inc-r', summary: 'wider than it looked' } as never, {
        marking: { tlp: 'GREEN' },
      }),
    ])
    expect(incident(state, 'inc-r').statedMarking).toBeUndefined()
    state = fold(state, [
      at('incident.updated', { incidentId: 'inc-r', severity: 'critical' } as never, { marking: { tlp: 'AMBER' } }),
    ])
    expect(incident(state, 'inc-r').statedMarking).toEqual({ tlp: 'AMBER' })
    expect(incident(state, 'inc-r').keptMarkings).toBeUndefined()
    const ctx = { viewer: mart, now: NOW, newId: () => '10000000-0000-4000-8000-00000000beef' }
    const set = (marking: Marking) => decide(state, { type: 'incident.set_marking', incidentId: 'inc-r', marking }, ctx)
    const apply = (decision: ReturnType<typeof set>) => {
      if (!decision.ok) throw new Error(decision.rejection.message)
      state = fold(
        state,
        decision.events.map((e, i) => ({ ...e, seq: state.seq + 1 + i, recordedAt: NOW }) as StoredEvent),
      )
    }
    apply(set({ tlp: 'AMBER' }))
    // restated at AMBER, it still holds what was written AMBER: never wider, however many steps
    expect(incident(state, 'inc-r').statedMarking).toEqual({ tlp: 'AMBER' })
    expect(incident(state, 'inc-r').severity).toBe('critical')
    expect(set({ tlp: 'GREEN' }).ok).toBe(false)
    expect(set({ tlp: 'AMBER', pap: 'GREEN' }).ok).toBe(true)
    // the owner's report saying something new is its own statement: marked freely again
    const fresh = at(
      'incident.reported',
      {
        incidentId: 'inc-r',
        title: 'Incident inc-r',
        severity: 'high',
        category: 'malware',
        affectedNetworks: ['ee-gov'],
      } as never,
      { marking: { tlp: 'AMBER' } },
    )
    state = fold(state, [{ ...fresh, seq: state.seq + 1 }])
    expect(incident(state, 'inc-r').statedMarking).toBeUndefined()
    expect(set({ tlp: 'GREEN' }).ok).toBe(true)
  })

  it('[R14, R15] a status or network state marked stricter than its report is a floor that a report saying something new keeps', () => {
    let state = fold(initialState, [
      ...world(),
      reported('inc-k', { marking: { tlp: 'GREEN' } }),
      at('incident.status_changed', { incidentId: 'inc-k', status: 'contained' } as never, {
        marking: { tlp: 'AMBER' },
      }),
    ])
    expect(incident(state, 'inc-k')).toMatchObject({
      statedMarking: { tlp: 'AMBER' },
      keptMarkings: { status: { tlp: 'AMBER' } },
    })
    const ctx = { viewer: mart, now: NOW, newId: () => '10000000-0000-4000-8000-00000000cafe' }
    const set = (marking: Marking) => decide(state, { type: 'incident.set_marking', incidentId: 'inc-k', marking }, ctx)
    expect(set({ tlp: 'GREEN', pap: 'GREEN' }).ok).toBe(false)
    // the owner's report saying something new: the status it keeps still came from the AMBER event
    const fresh = at(
      'incident.reported',
      { incidentId: 'inc-k', title: 'Retitled', severity: 'high', category: 'malware', affectedNetworks: [] } as never,
      { marking: { tlp: 'GREEN' } },
    )
    state = fold(state, [{ ...fresh, seq: state.seq + 1 }])
    expect(incident(state, 'inc-k')).toMatchObject({ status: 'contained', statedMarking: { tlp: 'AMBER' } })
    expect(set({ tlp: 'CLEAR' }).ok).toBe(false)
    // the status set again under the report's own marking: it no longer holds the AMBER one, and the
    // next report saying something new starts afresh
    const recovered = at('incident.status_changed', { incidentId: 'inc-k', status: 'recovered' } as never, {
      marking: { tlp: 'GREEN' },
    })
    state = fold(state, [{ ...recovered, seq: state.seq + 1 }])
    expect(incident(state, 'inc-k').keptMarkings).toBeUndefined()
    const again = at(
      'incident.reported',
      {
        incidentId: 'inc-k',
        title: 'Retitled again',
        severity: 'high',
        category: 'malware',
        affectedNetworks: [],
      } as never,
      { marking: { tlp: 'GREEN' } },
    )
    state = fold(state, [{ ...again, seq: state.seq + 1 }])
    expect(incident(state, 'inc-k').statedMarking).toBeUndefined()
    expect(set({ tlp: 'CLEAR' }).ok).toBe(true)
    // a network state marked stricter: the same, whether or not it adds the network
    state = fold(initialState, [
      ...world(),
      reported('inc-n', { marking: { tlp: 'GREEN' } }),
      at('incident.network_state_set', { incidentId: 'inc-n', networkId: 'ee-gov', state: 'contained' } as never, {
        marking: { tlp: 'AMBER+STRICT' },
      }),
    ])
    expect(incident(state, 'inc-n')).toMatchObject({
      statedMarking: { tlp: 'AMBER+STRICT' },
      keptMarkings: { networkStates: { 'ee-gov': { tlp: 'AMBER+STRICT' } } },
    })
  })

  it('[R14, C20] a RED floor: RED, for the recipients it names or the caller, never stuck', () => {
    const alice = person('alice', 'cert-ee', 'EE', 'coordinator')
    let state = fold(initialState, [
      ...world(),
      reported('inc-red', { marking: { tlp: 'RED', recipients: ['bob'] }, actor: 'alice' }),
      at('incident.updated', { incidentId: 'inc-red', summary: 'only for carol' } as never, {
        marking: { tlp: 'RED', recipients: ['carol'] },
        actor: 'alice',
      }),
    ])
    expect(incident(state, 'inc-red').statedMarking).toEqual({ tlp: 'RED', recipients: ['carol'] })
    const ctx = { viewer: alice, now: NOW, newId: () => '10000000-0000-4000-8000-00000000cafe' }
    const ok = (recipients: string[]) =>
      decide(state, { type: 'incident.set_marking', incidentId: 'inc-red', marking: { tlp: 'RED', recipients } }, ctx)
        .ok
    expect(ok(['carol'])).toBe(true)
    expect(ok(['alice'])).toBe(true)
    expect(ok(['carol', 'alice'])).toBe(true)
    expect(ok(['bob', 'carol'])).toBe(false) // bob never read what carol was told
    expect(
      decide(state, { type: 'incident.set_marking', incidentId: 'inc-red', marking: { tlp: 'AMBER' } }, ctx).ok,
    ).toBe(false)
    // an AMBER update of a RED incident reaches no fewer: no floor from it
    state = fold(state, [
      at('incident.updated', { incidentId: 'inc-red', severity: 'low' } as never, {
        marking: { tlp: 'AMBER' },
        actor: 'alice',
      }),
    ])
    expect(incident(state, 'inc-red').statedMarking).toEqual({ tlp: 'RED', recipients: ['carol'] })
  })

  it('[R14] a network a state adds to the incident counts in its floor', () => {
    const state = fold(initialState, [
      ...world(),
      reported('inc-n', { marking: { tlp: 'GREEN' } }),
      at('incident.network_state_set', { incidentId: 'inc-n', networkId: 'lv-gov', state: 'affected' } as never, {
        marking: { tlp: 'AMBER' },
      }),
    ])
    expect(incident(state, 'inc-n').statedMarking).toEqual({ tlp: 'AMBER' })
  })

  it("[A9, C20] only the incident's own id decides whether it is a feed's: a feed's network among its networks does not", () => {
    const state = fold(initialState, [
      ...world(),
      reported('inc-own', { marking: { tlp: 'AMBER' }, networks: ['ee-gov', 'n1@feed:p1'] }),
    ])
    const decision = decide(
      state,
      { type: 'incident.set_marking', incidentId: 'inc-own', marking: { tlp: 'GREEN' } },
      { viewer: mart, now: NOW, newId: () => '10000000-0000-4000-8000-00000000f00d' },
    )
    expect(decision.ok).toBe(true)
  })

  it("[C20, A9] a partner feed's incident is the feed's to mark, whichever organisation it speaks for", () => {
    const floor = given(
      ...world(),
      reported('INC-9@feed:partner1', { marking: { tlp: 'AMBER' }, actor: 'feed:partner1' }),
    )
    floor
      .when({ type: 'incident.set_marking', incidentId: 'INC-9@feed:partner1', marking: { tlp: 'CLEAR' } })
      .thenRejects('forbidden', 'A9')
  })

  it('[C20] the same marking again is a conflict, whatever the order of its lists', () => {
    const floor = given(
      ...world(),
      reported('inc-m', { marking: { tlp: 'AMBER', releasableTo: ['cert-lv', 'NL'], pap: 'AMBER' } }),
    )
    const again = { tlp: 'AMBER', releasableTo: ['NL', 'cert-lv'], pap: 'AMBER' } as Marking
    floor
      .when({ type: 'incident.set_marking', incidentId: 'inc-m', marking: again })
      .thenRejects('conflict', 'C20', (r) => {
        expect(r.message).toBe('incident inc-m is already marked TLP:AMBER releasable to NL, cert-lv · PAP:AMBER')
        expect(r.current).toBe(incident(floor.state, 'inc-m'))
      })
    // another PAP is another marking
    floor.when({ type: 'incident.set_marking', incidentId: 'inc-m', marking: { ...again, pap: 'RED' } }).thenAccepts()
  })

  it('[C20, V5] RED names its recipients; its author (the caller) and they see it, nobody else', () => {
    const floor = given(...rich())
    floor
      .when({ type: 'incident.set_marking', incidentId: 'inc-rich', marking: { tlp: 'RED' } })
      .thenRejects('validation', 'C20', (r) => expect(r.path).toBe('marking.recipients'))
    floor
      .when({ type: 'incident.set_marking', incidentId: 'inc-rich', marking: { tlp: 'RED', recipients: [] } })
      .thenRejects('validation', 'C20')
    floor
      .when({ type: 'incident.set_marking', incidentId: 'inc-rich', marking: { tlp: 'AMBER', recipients: ['ilze'] } })
      .thenRejects('validation', 'C20', (r) => expect(r.path).toBe('marking.recipients'))
    floor
      .when({ type: 'incident.set_marking', incidentId: 'inc-rich', marking: { tlp: 'RED', recipients: ['ilze'] } })
      .thenAccepts(([event], after) => {
        const now = incident(after, 'inc-rich')
        for (const viewer of [mart, ilze]) {
          expect(canSee(viewer, event!), viewer.userId).toBe(true)
          expect(canSee(viewer, incidentVisibility(now)), viewer.userId).toBe(true)
        }
        for (const viewer of [kadri, liis, janis, anna]) {
          expect(canSee(viewer, event!), viewer.userId).toBe(false)
          expect(canSee(viewer, incidentVisibility(now)), viewer.userId).toBe(false)
        }
        // its later events reach the same people [C4]
        const later = decide(
          after,
          Command.parse({ type: 'incident.set_status', incidentId: 'inc-rich', status: 'recovered' }),
          context(ilze),
        )
        if (!later.ok) expect.unreachable(later.rejection.message)
        expect(later.events[0]!.marking).toEqual({ tlp: 'RED', recipients: ['ilze', 'mart'] })
      })
  })

  it('[C20, C11] a merged or closed incident may still be withdrawn from someone', () => {
    const merged = at('incident.linked', {
      incidentId: 'inc-1',
      otherIncidentId: 'inc-2',
      relation: 'merged_into',
    } as never)
    given(...world(), merged)
      .when({ type: 'incident.set_marking', incidentId: 'inc-1', marking: { tlp: 'AMBER' } })
      .thenAccepts((_, after) => {
        expect(incident(after).status).toBe('closed')
        expect(incident(after).mergedInto).toBe('inc-2')
        expect(incident(after).marking).toEqual({ tlp: 'AMBER' })
      })
  })
})

import { describe, expect, it } from 'vitest'
import { COMMAND_TYPES, Command, parseCommand } from './commands.ts'
import { WatchfloorError } from './errors.ts'

const good = {
  'incident.acknowledge': { incidentId: 'inc-1', note: 'watch floor has it' },
  'incident.escalate': { incidentId: 'inc-1', severity: 'critical', reason: 'spreading' },
  'incident.set_status': { incidentId: 'inc-1', status: 'contained' },
  'incident.link': { incidentId: 'inc-2', otherIncidentId: 'inc-1', relation: 'duplicate_of' },
  'incident.set_marking': { incidentId: 'inc-1', marking: { tlp: 'AMBER', releasableTo: ['cert-lv'], pap: 'GREEN' } },
  'network.set_state': { incidentId: 'inc-1', networkId: 'ee-gov', state: 'recovered' },
  'task.create': {
    incidentId: 'inc-1',
    title: 'Isolate hosts',
    priority: 'high',
    dueAt: '2026-11-26T12:00:00+02:00',
    assignee: { kind: 'user', userId: 'kadri' },
  },
  'task.assign': { taskId: 't-1', assignee: { kind: 'team', organisation: 'cert-lv' } },
  'task.accept': { taskId: 't-1' },
  'task.start': { taskId: 't-1' },
  'task.block': { taskId: 't-1', reason: 'no access' },
  'task.complete': { taskId: 't-1' },
  'task.reopen': { taskId: 't-1', reason: 'missed one' },
  'comment.post': { incidentId: 'inc-1', body: 'Thanks @janis', mentions: ['kadri'] },
  'bookmark.save': { title: 'First reports', clock: 'occurred', at: '2026-11-26T08:00:00Z' },
} as const

function issuePaths(value: unknown): string[] {
  try {
    parseCommand(value, ['body'])
  } catch (error) {
    expect(error).toBeInstanceOf(WatchfloorError)
    expect((error as WatchfloorError).code).toBe('validation')
    return ((error as WatchfloorError).details as { issues: { path: string }[] }).issues.map((i) => i.path)
  }
  return expect.unreachable('the command parsed')
}

describe('bookmark.save', () => {
  it('needs a moment or a whole range, in order', () => {
    const base = { type: 'bookmark.save', title: 'Spread', clock: 'recorded' }
    expect(
      Command.parse({ ...base, from: '2026-11-26T08:00:00Z', to: '2026-11-26T09:00:00Z', marking: { tlp: 'GREEN' } }),
    ).toMatchObject({ marking: { tlp: 'GREEN' } })
    expect(issuePaths(base)).toEqual(['body.at'])
    expect(issuePaths({ ...base, at: '2026-11-26T08:00:00Z', from: '2026-11-26T08:00:00Z' })).toEqual(['body.at'])
    expect(issuePaths({ ...base, from: '2026-11-26T08:00:00Z' })).toEqual(['body.at'])
    expect(issuePaths({ ...base, from: '2026-11-26T09:00:00Z', to: '2026-11-26T08:00:00Z' })).toEqual(['body.to'])
  })
})

describe('Command', () => {
  it.each(COMMAND_TYPES)('accepts a good %s, with and without expectedVersion', (type) => {
    expect(Command.parse({ type, ...good[type] }).type).toBe(type)
    expect(Command.parse({ type, expectedVersion: 3, ...good[type] })).toMatchObject({ type, expectedVersion: 3 })
  })

  it('has one good example per command type', () => {
    expect(Object.keys(good).sort()).toEqual([...COMMAND_TYPES].sort())
  })

  it('defaults a new task to normal priority', () => {
    const command = Command.parse({ type: 'task.create', incidentId: 'inc-1', title: 'Look' })
    expect(command).toMatchObject({ priority: 'normal' })
  })

  it('rejects an unknown type and unknown fields', () => {
    expect(Command.safeParse({ type: 'incident.explode', incidentId: 'x' }).success).toBe(false)
    expect(Command.safeParse({ type: 'task.accept', taskId: 't', by: 'me' }).success).toBe(false)
  })

  it('expectedVersion is a whole number at or above 0', () => {
    for (const expectedVersion of [-1, 1.5, '2']) {
      expect(issuePaths({ type: 'task.start', taskId: 't', expectedVersion })).toEqual(['body.expectedVersion'])
    }
  })

  it('names the failing field paths', () => {
    expect(
      issuePaths({ type: 'incident.escalate', incidentId: '', severity: 'apocalyptic', reason: 'x' }).sort(),
    ).toEqual(['body.incidentId', 'body.severity'])
    expect(issuePaths({ type: 'task.assign', taskId: 't', assignee: { kind: 'user' } })).toEqual([
      'body.assignee.userId',
    ])
    expect(issuePaths({ type: 'comment.post', incidentId: 'i', body: '   ' })).toEqual(['body.body'])
    expect(issuePaths({ type: 'task.create', incidentId: 'i', title: 't', dueAt: 'tomorrow' })).toEqual(['body.dueAt'])
  })

  it('rejects linking an incident to itself', () => {
    expect(issuePaths({ type: 'incident.link', incidentId: 'a', otherIncidentId: 'a', relation: 'related' })).toEqual([
      'body.otherIncidentId',
    ])
  })
})

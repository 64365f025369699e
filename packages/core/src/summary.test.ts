import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { summarise } from './summary.ts'

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

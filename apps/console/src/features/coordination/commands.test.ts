import { makeEvent } from '@watchfloor/core'
import type { Command } from '@watchfloor/protocol'
import { describe, expect, it, vi } from 'vitest'
import {
  conflictChanges,
  describeConflict,
  expectedVersionFor,
  mayRetry,
  parseCommandResponse,
  retryOnCurrent,
  sendCommand,
  type Target,
} from './commands.ts'
import { person, picture, reportEvent } from './fixtures.test-helpers.ts'

const before = picture([reportEvent(1, 'inc-1')]).incidents.get('inc-1')!
const after = picture([
  reportEvent(1, 'inc-1'),
  makeEvent(2, 'incident.status_changed', { incidentId: 'inc-1', status: 'triaged' }, { actor: 'mari' }),
  makeEvent(3, 'incident.acknowledged', { incidentId: 'inc-1' }, { actor: 'mari' }),
]).incidents.get('inc-1')!

describe('command answers', () => {
  it('reads a 200 as the new version', () => {
    expect(parseCommandResponse(200, { events: [], version: 4 })).toEqual({ ok: true, version: 4, events: [] })
  })

  it('[C3] reads a 409 with the current target and the rule', () => {
    const result = parseCommandResponse(409, {
      error: { code: 'conflict', message: 'expected version 1, but it is at version 3', details: { rule: 'C3' } },
      current: after,
    })
    expect(result).toMatchObject({ ok: false, kind: 'conflict', rule: 'C3', current: { version: 3 } })
  })

  it('reads 400 issues, 403 and 404', () => {
    const bad = parseCommandResponse(400, {
      error: { code: 'validation', message: 'bad', details: { issues: [{ path: 'reason', message: 'required' }] } },
    })
    expect(bad).toMatchObject({ kind: 'validation', issues: [{ path: 'reason', message: 'required' }] })
    expect(parseCommandResponse(403, { error: { code: 'forbidden', message: 'no' } })).toMatchObject({
      kind: 'forbidden',
    })
    expect(parseCommandResponse(404, { error: { code: 'not_found', message: 'no incident x' } })).toMatchObject({
      kind: 'not_found',
      message: 'no incident x',
    })
    // the code is the server's: a reply without an error body is not guessed from its status
    expect(parseCommandResponse(502, undefined)).toMatchObject({ kind: 'internal', message: 'the server answered 502' })
    expect(parseCommandResponse(409, { error: { code: 'forbidden', message: 'no' } })).toMatchObject({
      kind: 'forbidden',
    })
  })

  it('posts JSON through the REST client and never throws', async () => {
    const fetchFn = vi.fn(async () => new Response(JSON.stringify({ events: [], version: 2 }), { status: 200 }))
    const command: Command = { type: 'incident.acknowledge', incidentId: 'inc-1', expectedVersion: 1 }
    expect(await sendCommand(command, fetchFn)).toMatchObject({ ok: true, version: 2 })
    const [url, init] = fetchFn.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/commands')
    expect(init.method).toBe('POST')
    expect(init.headers).toMatchObject({ 'Content-Type': 'application/json' })
    expect(JSON.parse(init.body as string)).toEqual(command)
    const refused = vi.fn(
      async () =>
        new Response(JSON.stringify({ error: { code: 'conflict', message: 'stale', details: { rule: 'C3' } } }), {
          status: 409,
        }),
    )
    expect(await sendCommand(command, refused)).toMatchObject({ ok: false, kind: 'conflict', rule: 'C3' })
    const down = vi.fn(async () => {
      throw new TypeError('failed to fetch')
    })
    expect(await sendCommand(command, down)).toMatchObject({ ok: false, kind: 'unavailable', status: 0 })
  })
})

/** A 409 as the server sends it. */
function conflict(rule: string, message: string, current: Target) {
  const result = parseCommandResponse(409, { error: { code: 'conflict', message, details: { rule } }, current })
  if (result.ok || result.kind !== 'conflict') throw new Error('not a conflict')
  return result
}

describe('conflicts', () => {
  it('says what changed meanwhile, with the values now and before', () => {
    expect(conflictChanges(before, after)).toEqual(['status triaged (was new)', 'acknowledged by mari (was none)'])
    const result = parseCommandResponse(409, {
      error: { code: 'conflict', message: 'expected version 1, but it is at version 3', details: { rule: 'C3' } },
      current: after,
    })
    if (result.ok || result.kind !== 'conflict') throw new Error('not a conflict')
    expect(describeConflict(result, before)).toBe(
      'Changed meanwhile: now status triaged (was new), acknowledged by mari (was none) (version 3, you saw 1). Expected version 1, but it is at version 3.',
    )
  })

  it('[C3] compares with the copy the command was sent on, not with the live copy that caught up since', () => {
    const result = conflict('C3', 'expected version 1, but it is at version 3', after)
    // the live copy is already `after`: against it, nothing seems to have changed
    expect(describeConflict(result, after)).toContain('no visible change')
    expect(describeConflict(result, before)).toContain('status triaged (was new)')
  })

  it('[C6, C9, C20] a refusal nobody caused meanwhile is its plain reason, never "changed meanwhile"', () => {
    const acknowledged = conflict('C6', 'incident inc-1 was already acknowledged by mari', after)
    expect(describeConflict(acknowledged, after)).toBe('Incident inc-1 was already acknowledged by mari.')
    const closed = conflict('C9', 'incident inc-2 is closed: merge only into an open incident', before)
    expect(describeConflict(closed, before)).toBe('Incident inc-2 is closed: merge only into an open incident.')
    const same = conflict('C20', 'incident inc-1 is already marked TLP:AMBER', before)
    expect(describeConflict(same, before)).toBe('Incident inc-1 is already marked TLP:AMBER.')
    for (const result of [acknowledged, closed, same]) expect(describeConflict(result)).not.toMatch(/meanwhile/)
  })

  it('compares tasks by status, assignee and who took them', () => {
    const events = [
      reportEvent(1, 'inc-1'),
      makeEvent(2, 'task.created', {
        taskId: 't',
        incidentId: 'inc-1',
        title: 'x',
        priority: 'normal',
        assignee: { kind: 'team', organisation: 'cert-ee' },
      }),
    ]
    const t1 = picture(events).tasks.get('t')!
    const t2 = picture([...events, makeEvent(3, 'task.accepted', { taskId: 't' }, { actor: 'mari' })]).tasks.get('t')!
    expect(conflictChanges(t1, t2)).toEqual(['status accepted (was open)', 'accepted by mari (was none)'])
  })

  it('does not overwrite: a retry is the same command on the fresh version, and later commands expect it too', () => {
    const command: Command = {
      type: 'incident.set_status',
      incidentId: 'inc-1',
      status: 'contained',
      expectedVersion: 1,
    }
    expect(retryOnCurrent(command, after)).toEqual({ ...command, expectedVersion: 3 })
    expect(expectedVersionFor(before, undefined)).toBe(1)
    expect(expectedVersionFor(before, after)).toBe(3) // the picture has not caught up yet
    expect(expectedVersionFor(after, before)).toBe(3) // the picture is fresher than the conflict
    const other = picture([reportEvent(1, 'inc-2')]).incidents.get('inc-2')!
    expect(expectedVersionFor(other, after)).toBe(other.version) // another target: ignored
  })
})

describe('Retry is offered only when a retry could pass [C3]', () => {
  const coordinator = person(['coordinator'])
  const escalate: Command = {
    type: 'incident.escalate',
    incidentId: 'inc-1',
    severity: 'critical',
    reason: 'spreading',
    expectedVersion: 1,
  }

  it('a stale version the action still applies to: Retry', () => {
    expect(mayRetry(conflict('C3', 'expected version 1, but it is at version 3', after), escalate, coordinator)).toBe(
      true,
    )
  })

  it('no Retry for any other rule: sending it again would be refused again', () => {
    const ack: Command = { type: 'incident.acknowledge', incidentId: 'inc-1', expectedVersion: 3 }
    expect(mayRetry(conflict('C6', 'incident inc-1 was already acknowledged by mari', after), ack, coordinator)).toBe(
      false,
    )
    const marking: Command = { type: 'incident.set_marking', incidentId: 'inc-1', marking: { tlp: 'GREEN' } }
    expect(mayRetry(conflict('C20', 'already marked TLP:GREEN', before), marking, coordinator)).toBe(false)
    // the incident itself allows a link: only the rule says a retry would be refused again
    const merge: Command = {
      type: 'incident.link',
      incidentId: 'inc-1',
      otherIncidentId: 'inc-2',
      relation: 'merged_into',
    }
    const closed = conflict('C9', 'incident inc-2 is closed: merge only into an open incident', before)
    expect(mayRetry(closed, merge, coordinator)).toBe(false)
    expect(mayRetry({ ...closed, rule: 'C3' }, merge, coordinator)).toBe(true)
  })

  it('no Retry when core’s policy no longer allows the action on the target as it is now', () => {
    const acknowledged = conflict('C3', 'expected version 1, but it is at version 3', after)
    const ack: Command = { type: 'incident.acknowledge', incidentId: 'inc-1', expectedVersion: 1 }
    expect(mayRetry(acknowledged, ack, coordinator)).toBe(false) // C6: someone acknowledged it meanwhile
    expect(mayRetry(acknowledged, escalate, person(['analyst']))).toBe(false) // C2
    expect(mayRetry(acknowledged, escalate, null)).toBe(false)
  })

  it('no Retry when what the command asks no longer changes anything (the severity reached, the status set)', () => {
    const high = picture([
      reportEvent(1, 'inc-1'),
      makeEvent(2, 'incident.escalated', { incidentId: 'inc-1', severity: 'critical', reason: 'x' }),
      makeEvent(3, 'incident.status_changed', { incidentId: 'inc-1', status: 'contained' }),
    ]).incidents.get('inc-1')!
    const stale = conflict('C3', 'expected version 1, but it is at version 3', high)
    expect(mayRetry(stale, escalate, coordinator)).toBe(false) // C7: already critical
    // escalated to high meanwhile: critical is still allowed, but a retry asking for high would be refused
    const atHigh = conflict('C3', 'expected version 1, but it is at version 2', before)
    expect(mayRetry(atHigh, { ...escalate, severity: 'high' }, coordinator)).toBe(false)
    expect(mayRetry(atHigh, escalate, coordinator)).toBe(true)
    const contain: Command = { type: 'incident.set_status', incidentId: 'inc-1', status: 'contained' }
    expect(mayRetry(stale, contain, coordinator)).toBe(false) // C8
    expect(mayRetry(stale, { ...contain, status: 'recovered' }, coordinator)).toBe(true)
  })

  it('nothing to retry without a conflict or a command', () => {
    expect(mayRetry(null, escalate, coordinator)).toBe(false)
    expect(mayRetry({ ok: true, version: 2, events: [] }, escalate, coordinator)).toBe(false)
    expect(mayRetry(conflict('C3', 'stale', after), undefined, coordinator)).toBe(false)
  })
})

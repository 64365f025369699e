import { makeEvent } from '@watchfloor/core'
import type { Command } from '@watchfloor/protocol'
import { describe, expect, it, vi } from 'vitest'
import {
  conflictChanges,
  describeConflict,
  expectedVersionFor,
  parseCommandResponse,
  retryOnCurrent,
  sendCommand,
} from './commands.ts'
import { picture, reportEvent } from './fixtures.test-helpers.ts'

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

describe('conflicts', () => {
  it('says what changed meanwhile, with the values now and before', () => {
    expect(conflictChanges(before, after)).toEqual(['status triaged (was new)', 'acknowledged by mari (was none)'])
    const result = parseCommandResponse(409, {
      error: { code: 'conflict', message: 'expected version 1, but it is at version 3', details: { rule: 'C3' } },
      current: after,
    })
    if (result.ok || result.kind !== 'conflict') throw new Error('not a conflict')
    expect(describeConflict(result, before)).toBe(
      'Changed by someone else meanwhile: now status triaged (was new), acknowledged by mari (was none) (version 3, you saw 1). Expected version 1, but it is at version 3.',
    )
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

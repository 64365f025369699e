import type { Command } from '@watchfloor/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CommandIds, newCommandId, sendAction } from './commandIds.ts'
import { type CommandResult, retryOnCurrent, sendCommand } from './commands.ts'
import { picture, reportEvent } from './fixtures.test-helpers.ts'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** `sendCommand` over a fetch that answers from `replies` in turn (a function: its answer, or thrown); records the bodies sent. */
function server(replies: (() => Response)[]) {
  const bodies: Record<string, unknown>[] = []
  const fetchFn = vi.fn(async (_path: string, init?: RequestInit) => {
    bodies.push(JSON.parse(String(init?.body)) as Record<string, unknown>)
    const reply = replies.shift()
    if (reply === undefined) throw new Error('no more replies')
    return reply()
  }) as unknown as typeof fetch
  const send = (command: Command): Promise<CommandResult> => sendCommand(command, fetchFn)
  return { bodies, send }
}

const ok = () => Response.json({ events: [], version: 1 })
const lost = (): Response => {
  throw new TypeError('Failed to fetch')
}

const comment: Command = { type: 'comment.post', incidentId: 'inc-1', body: 'Hosts isolated', mentions: [] }

describe('useCommand: one commandId per action, reused for its retries', () => {
  it('a lost answer: Post again with the input unchanged sends the same commandId', async () => {
    const { bodies, send } = server([lost, ok])
    const ids = new CommandIds()
    const first = await sendAction(ids, comment, send)
    expect(first.result).toMatchObject({ ok: false, kind: 'unavailable' })
    const again = await sendAction(ids, { ...comment }, send)
    expect(again.result.ok).toBe(true)
    expect(bodies[0]!.commandId).toMatch(UUID_V4)
    expect(bodies[1]!.commandId).toBe(bodies[0]!.commandId)
    expect(bodies[1]).toEqual(bodies[0])
  })

  it('a refusal or an error keeps the action too: sending it again reuses its commandId', async () => {
    const failed = () => Response.json({ error: { code: 'internal', message: 'boom' } }, { status: 500 })
    const { bodies, send } = server([failed, ok])
    const ids = new CommandIds()
    await sendAction(ids, comment, send)
    await sendAction(ids, comment, send)
    expect(bodies[0]!.commandId).toMatch(UUID_V4)
    expect(bodies[1]!.commandId).toBe(bodies[0]!.commandId)
  })

  it('a double submit while the first is under way is one action', async () => {
    const { bodies, send } = server([ok, ok])
    const ids = new CommandIds()
    await Promise.all([sendAction(ids, comment, send), sendAction(ids, comment, send)])
    expect(bodies).toHaveLength(2)
    expect(bodies[0]!.commandId).toMatch(UUID_V4)
    expect(bodies[1]!.commandId).toBe(bodies[0]!.commandId)
  })

  it('Retry on version N after a conflict is the same action, on the fresh version', async () => {
    const current = picture([reportEvent(1, 'inc-1')]).incidents.get('inc-1')!
    const conflict = () =>
      Response.json(
        { error: { code: 'conflict', message: 'stale', details: { rule: 'C3' } }, current: { ...current, version: 2 } },
        { status: 409 },
      )
    const { bodies, send } = server([conflict, ok])
    const ids = new CommandIds()
    const create: Command = {
      type: 'task.create',
      incidentId: 'inc-1',
      title: 'Collect logs',
      priority: 'normal',
      expectedVersion: 1,
    }
    const first = await sendAction(ids, create, send)
    if (first.result.ok || first.result.kind !== 'conflict') throw new Error('expected a conflict')
    await sendAction(ids, retryOnCurrent(first.sent, first.result.current!), send)
    expect(bodies[0]!.commandId).toMatch(UUID_V4)
    expect(bodies[1]).toEqual({ ...bodies[0], expectedVersion: 2 })
  })

  it('an edited input is a new action, and so is the same input after it succeeded', async () => {
    const { bodies, send } = server([lost, ok, ok])
    const ids = new CommandIds()
    await sendAction(ids, comment, send)
    await sendAction(ids, { ...comment, body: 'Hosts isolated, all of them' }, send)
    await sendAction(ids, { ...comment, body: 'Hosts isolated, all of them' }, send)
    const [a, b, c] = bodies.map((body) => body.commandId)
    expect(new Set([a, b, c]).size).toBe(3)
  })
})

describe('newCommandId', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('is a UUID, also where crypto.randomUUID is missing (a page on plain http)', () => {
    expect(newCommandId()).toMatch(UUID_V4)
    const { getRandomValues } = globalThis.crypto
    vi.stubGlobal('crypto', { getRandomValues: getRandomValues.bind(globalThis.crypto) })
    const ids = new Set(Array.from({ length: 50 }, () => newCommandId()))
    expect(ids.size).toBe(50)
    for (const id of ids) expect(id).toMatch(UUID_V4)
  })
})

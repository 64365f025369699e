import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { WatchfloorError } from './errors.ts'
import { parseOrThrow } from './validate.ts'

/** The messages `parseOrThrow` gives, by field path. */
function messages(schema: z.ZodType, value: unknown): Record<string, string> {
  try {
    parseOrThrow(schema, value)
  } catch (error) {
    if (!(error instanceof WatchfloorError)) throw error
    const issues = (error.details as { issues: { path: string; message: string }[] }).issues
    return Object.fromEntries(issues.map((issue) => [issue.path, issue.message]))
  }
  throw new Error('parsed')
}

describe('parseOrThrow says what is wrong in plain words', () => {
  const schema = z
    .object({
      roles: z.array(z.enum(['sensor', 'admin'])).min(1),
      name: z.string().min(3).max(5),
      count: z.number().int().min(0).max(10),
      ratio: z.number().gt(0),
      at: z.iso.datetime({ offset: true }),
      kind: z.literal('task'),
      tags: z.array(z.string()).max(1),
      note: z.string().min(1, 'say something'),
    })
    .strict()

  it('each kind of issue, and a schema’s own message before them', () => {
    expect(
      messages(schema, {
        roles: [],
        name: 'ab',
        count: 2.5,
        ratio: 0,
        at: 'yesterday',
        kind: 'incident',
        tags: ['a', 'b'],
        note: '',
        colour: 'red',
      }),
    ).toEqual({
      roles: 'must hold at least 1',
      name: 'must be at least 3 characters',
      count: 'must be a whole number',
      ratio: 'must be more than 0',
      at: 'must be a time in ISO 8601 (2026-11-26T08:10:00Z)',
      kind: 'must be task',
      tags: 'must hold at most 1',
      note: 'say something',
      '(root)': 'a field this does not take: colour',
    })
    expect(messages(schema, { roles: ['chief'], name: 'abcdefg', count: 11 })).toMatchObject({
      'roles.0': 'must be one of sensor, admin',
      name: 'must be at most 5 characters',
      count: 'must be at most 10',
      ratio: 'is required',
      at: 'is required',
    })
    expect(messages(z.object({ list: z.array(z.string()) }), { list: 'a' })).toEqual({ list: 'must be a list' })
  })

  it('a union by its type, an enum left out, a check with no words of its own, an exact length', () => {
    const event = z.discriminatedUnion('type', [
      z.object({ type: z.literal('incident.reported'), title: z.string() }),
      z.object({ type: z.literal('incident.closed') }),
    ])
    expect(messages(event, {})).toEqual({ type: 'is required' })
    expect(messages(event, { type: 'incident.opened' })).toEqual({
      type: 'must be one of incident.reported, incident.closed',
    })
    expect(messages(event, { type: 'incident.reported' })).toEqual({ title: 'is required' })
    expect(messages(z.union([z.string(), z.number()]), true)).toEqual({
      '(root)': 'does not match any of the forms it may take',
    })
    expect(messages(z.object({ level: z.enum(['low', 'high']) }), {})).toEqual({ level: 'is required' })
    expect(messages(z.object({ code: z.string().refine((v) => v.length > 3) }), { code: 'ab' })).toEqual({
      code: 'is not valid',
    })
    expect(
      messages(z.object({ pin: z.string().length(4), pair: z.array(z.number()).length(2) }), { pin: 'abc', pair: [1] }),
    ).toEqual({
      pin: 'must be exactly 4 characters',
      pair: 'must hold exactly 2',
    })
    expect(messages(z.object({ empty: z.literal(''), big: z.literal(10n) }), { empty: 'x', big: 1n })).toEqual({
      empty: 'must be ""',
      big: 'must be 10',
    })
  })
})

import type { z } from 'zod'
import { type FieldIssue, WatchfloorError } from './errors.ts'

/** Zod issues as field paths, `prefix` first (e.g. `events.3`). */
export function fieldIssues(error: z.ZodError, prefix: (string | number)[] = []): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.') || '(root)',
    message: issue.message,
  }))
}

type RawIssue = Parameters<z.core.$ZodErrorMap>[0]

const FORMATS: Record<string, string> = {
  datetime: 'a time in ISO 8601 (2026-11-26T08:10:00Z)',
  date: 'a date (2026-11-26)',
  email: 'an email address',
  url: 'a URL',
  uuid: 'a UUID',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
}

/** A value as a message names it: a plain word as it is, anything else quoted. */
function shown(value: unknown): string {
  if (typeof value === 'string') return /^[\w.:+/-]+$/.test(value) ? value : JSON.stringify(value)
  if (typeof value === 'bigint') return String(value)
  return JSON.stringify(value) ?? String(value)
}

function listed(values: readonly unknown[]): string {
  const words = values.map(shown)
  return words.length === 1 ? words[0]! : `one of ${words.join(', ')}`
}

/**
 * Zod's own messages in a person's words ("Too small: expected array to have >=1 items" is
 * "must hold at least 1"); a schema's own message wins over these (zod asks a schema's first).
 * Undefined leaves zod's.
 */
export function plainIssue(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${article(issue.expected)}`
    case 'invalid_value':
      return issue.input === undefined ? 'is required' : `must be ${listed(issue.values)}`
    case 'invalid_union': {
      // a discriminated union (an event's or a command's `type`): its key missing, or not one it knows
      const { discriminator, options } = issue as { discriminator?: string; options?: readonly unknown[] }
      if (discriminator === undefined || options === undefined) return 'does not match any of the forms it may take'
      const given = (issue.input as Record<string, unknown> | null | undefined)?.[discriminator]
      return given === undefined ? 'is required' : `must be ${listed(options)}`
    }
    case 'too_small': {
      const n = Number(issue.minimum)
      const exactly = (issue as { exact?: boolean }).exact === true
      if (issue.origin === 'string') {
        if (exactly) return `must be exactly ${n} characters`
        return n <= 1 ? 'must not be empty' : `must be at least ${n} characters`
      }
      if (issue.origin === 'array' || issue.origin === 'set')
        return `must hold ${exactly ? 'exactly' : 'at least'} ${n}`
      return issue.inclusive === false ? `must be more than ${n}` : `must be at least ${n}`
    }
    case 'too_big': {
      const n = Number(issue.maximum)
      const exactly = (issue as { exact?: boolean }).exact === true
      if (issue.origin === 'string') return `must be ${exactly ? 'exactly' : 'at most'} ${n} characters`
      if (issue.origin === 'array' || issue.origin === 'set') return `must hold ${exactly ? 'exactly' : 'at most'} ${n}`
      return issue.inclusive === false ? `must be less than ${n}` : `must be at most ${n}`
    }
    case 'unrecognized_keys':
      return `${issue.keys.length === 1 ? 'a field' : 'fields'} this does not take: ${issue.keys.join(', ')}`
    case 'invalid_format':
      return `must be ${FORMATS[issue.format] ?? 'in the form expected'}`
    case 'custom':
      return 'is not valid'
    default:
      return undefined
  }
}

function article(expected: string): string {
  if (expected === 'int') return 'a whole number'
  if (expected === 'array') return 'a list'
  if (expected === 'object') return 'an object'
  if (expected === 'undefined' || expected === 'null') return expected
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`
}

/** Parse or throw a `validation` error naming every failing field, in plain words (`plainIssue`). */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: (string | number)[] = [],
): z.infer<S> {
  const result = schema.safeParse(value, { error: plainIssue })
  if (result.success) return result.data
  const issues = fieldIssues(result.error, prefix)
  throw new WatchfloorError('validation', `invalid input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    issues,
  })
}

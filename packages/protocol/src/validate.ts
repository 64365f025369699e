import type { z } from 'zod'
import { type FieldIssue, WatchfloorError } from './errors.ts'

/** Zod issues as field paths, `prefix` first (e.g. `events.3`). */
export function fieldIssues(error: z.ZodError, prefix: (string | number)[] = []): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.') || '(root)',
    message: issue.message,
  }))
}

/** Parse or throw a `validation` error naming every failing field. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: (string | number)[] = [],
): z.infer<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issues = fieldIssues(result.error, prefix)
  throw new WatchfloorError('validation', `invalid input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    issues,
  })
}

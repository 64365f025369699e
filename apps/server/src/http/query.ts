import { type FieldIssue, WatchfloorError } from '@watchfloor/protocol'
import type { Request, RequestHandler } from 'express'
import { z } from 'zod'
import { queryParametersOf } from './openapi.ts'

const isoTime = z.iso.datetime({ offset: true })

/** Collects every bad parameter of a request, then throws one `validation` error naming them all. */
export class QueryReader {
  readonly issues: FieldIssue[] = []
  constructor(private readonly req: Request) {}

  private single(name: string): string | undefined {
    const raw = this.req.query[name]
    if (raw === undefined) return undefined
    if (typeof raw !== 'string') {
      this.issues.push({ path: name, message: 'expected a single value' })
      return undefined
    }
    return raw
  }

  has(name: string): boolean {
    return this.req.query[name] !== undefined
  }

  /** An ISO 8601 date-time with offset, as epoch ms. */
  time(name: string): number | undefined {
    const raw = this.single(name)
    if (raw === undefined) return undefined
    if (!isoTime.safeParse(raw).success || Number.isNaN(Date.parse(raw))) {
      this.issues.push({ path: name, message: 'expected an ISO 8601 date-time, e.g. 2026-11-26T08:00:00Z' })
      return undefined
    }
    return Date.parse(raw)
  }

  oneOf<T extends string>(name: string, options: readonly T[], fallback: T): T {
    const raw = this.single(name)
    if (raw === undefined) return fallback
    if (!(options as readonly string[]).includes(raw)) {
      this.issues.push({ path: name, message: `expected one of ${options.join(', ')}` })
      return fallback
    }
    return raw as T
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.single(name)
    if (raw === undefined) return fallback
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      this.issues.push({ path: name, message: `expected a whole number from ${min} to ${max}` })
      return fallback
    }
    return value
  }

  text(name: string, max = 200): string | undefined {
    const raw = this.single(name)
    if (raw === undefined) return undefined
    if (raw.trim().length === 0 || raw.length > max) {
      this.issues.push({ path: name, message: `expected 1 to ${max} characters` })
      return undefined
    }
    return raw
  }

  fail(path: string, message: string): void {
    this.issues.push({ path, message })
  }

  /** Throw a `validation` error when any parameter was bad. */
  done(): void {
    if (this.issues.length > 0) throw badQuery(this.issues)
  }
}

function badQuery(issues: FieldIssue[]): WatchfloorError {
  return new WatchfloorError(
    'validation',
    `bad query: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
    { issues },
  )
}

/**
 * Every route of `/api/v1` takes only the query parameters the OpenAPI document lists for it
 * (http/openapi.ts): any other is a 400 naming it, so a misspelt one (`incidentid`, `ownr`) is
 * refused, never read as no filter (an export of everything the caller may see, every token).
 * Mounted on the `/api/v1` router, before the routes; a path no route has passes on to the 404.
 */
export function refuseUndocumentedQuery(): RequestHandler {
  return (req, _res, next) => {
    const given = Object.keys(req.query)
    if (given.length === 0) return next()
    const route = queryParametersOf(req.method, `/api/v1${req.path}`)
    if (route === undefined) return next()
    const takes = route.names.length === 0 ? 'it takes none' : `it takes ${route.names.join(', ')}`
    const issues = given
      .filter((name) => !route.names.includes(name))
      .map((name) => ({ path: name, message: `not a parameter of ${route.route} (${takes})` }))
    next(issues.length === 0 ? undefined : badQuery(issues))
  }
}

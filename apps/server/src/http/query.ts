import { type FieldIssue, WatchfloorError } from '@watchfloor/protocol'
import type { Request } from 'express'
import { z } from 'zod'

const isoTime = z.iso.datetime({ offset: true })

/** Collects every bad parameter of a request, then throws one `validation` error naming them all. */
export class QueryReader {
  readonly issues: FieldIssue[] = []
  /** The parameters the route asked about, given or not. */
  private readonly asked = new Set<string>()
  constructor(private readonly req: Request) {}

  private single(name: string): string | undefined {
    this.asked.add(name)
    const raw = this.req.query[name]
    if (raw === undefined) return undefined
    if (typeof raw !== 'string') {
      this.issues.push({ path: name, message: 'expected a single value' })
      return undefined
    }
    return raw
  }

  has(name: string): boolean {
    this.asked.add(name)
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

  /**
   * Throw a `validation` error when any parameter was bad. `strict`: a parameter the route never
   * asked about is bad too, so a misspelt one (`incidentid`) is a 400 naming it, never a read of
   * everything the caller may see (an export of the whole log for one incident's).
   */
  done(options: { strict?: boolean } = {}): void {
    if (options.strict)
      for (const name of Object.keys(this.req.query))
        if (!this.asked.has(name))
          this.issues.push({
            path: name,
            message: `not a parameter of this route (it takes ${[...this.asked].join(', ')})`,
          })
    if (this.issues.length === 0) return
    throw new WatchfloorError(
      'validation',
      `bad query: ${this.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      { issues: this.issues },
    )
  }
}

export interface ThrottleOptions {
  /** Failures per username within the window before sign-in is refused. */
  maxPerUsername: number
  /** Failures per client address within the window before sign-in is refused. */
  maxPerAddress: number
  windowMs: number
  /** Keys remembered at most (oldest forgotten first), so a flood cannot exhaust memory. */
  maxKeys?: number
}

/**
 * Failed sign-ins per username and per client address in a sliding window. While
 * either is at its limit, sign-in is refused (even with the right password) until
 * the oldest failure leaves the window. In memory: each server process counts its own.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>()
  private readonly maxKeys: number

  constructor(
    private readonly options: ThrottleOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.maxKeys = options.maxKeys ?? 100_000
  }

  /** Seconds to wait before trying again; 0 when a sign-in may be tried now. */
  retryAfter(username: string, address: string): number {
    const now = this.now()
    const wait = Math.max(
      this.wait(`user:${username}`, this.options.maxPerUsername, now),
      this.wait(`addr:${address}`, this.options.maxPerAddress, now),
    )
    return wait > 0 ? Math.ceil(wait / 1000) : 0
  }

  failed(username: string, address: string): void {
    const now = this.now()
    this.record(`user:${username}`, now)
    this.record(`addr:${address}`, now)
  }

  /** A successful sign-in clears the username's failures (not the address's). */
  succeeded(username: string): void {
    this.failures.delete(`user:${username}`)
  }

  private recent(key: string, now: number): number[] {
    const times = this.failures.get(key)
    if (!times) return []
    const from = now - this.options.windowMs
    const kept = times.filter((time) => time > from)
    if (kept.length === 0) this.failures.delete(key)
    else if (kept.length !== times.length) this.failures.set(key, kept)
    return kept
  }

  private wait(key: string, max: number, now: number): number {
    const times = this.recent(key, now)
    if (times.length < max) return 0
    // the failure that must leave the window before one more attempt is allowed
    return times[times.length - max]! + this.options.windowMs - now
  }

  private record(key: string, now: number): void {
    const times = this.recent(key, now)
    times.push(now)
    this.failures.delete(key) // re-insert: the map stays ordered by last failure
    this.failures.set(key, times)
    while (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value!)
  }
}

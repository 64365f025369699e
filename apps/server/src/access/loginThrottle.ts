export interface ThrottleOptions {
  /** Failed and pending sign-ins per username within the window before sign-in is refused. */
  maxPerUsername: number
  /** Failed and pending sign-ins per client address within the window before sign-in is refused. */
  maxPerAddress: number
  windowMs: number
  /** Keys remembered at most (oldest forgotten first), so a flood cannot exhaust memory. */
  maxKeys?: number
}

/**
 * A sign-in attempt that holds a slot under both limits (its username's and its
 * address's) from `reserve()` until it is settled. Settle it exactly once, by the
 * outcome of the password check; later calls do nothing.
 */
export interface LoginAttempt {
  /** Wrong password or unknown username: the slot stays, as a failure, until it leaves the window. */
  failed(): void
  /**
   * The right password: the slot is given back, and the username's failures that had
   * been decided before this attempt began are cleared (not those of attempts that ran
   * alongside it). The address's failures stay.
   */
  succeeded(): void
  /** Neither (e.g. the attempt could not be decided): the slot is given back, nothing else changes. */
  release(): void
}

export type Reservation = { ok: true; attempt: LoginAttempt } | { ok: false; retryAfter: number }

interface Slot {
  at: number
  /** Reserved and not settled yet: counts, whatever its age. */
  pending: boolean
  /** When it was settled as a failure (the throttle's own sequence). */
  settled: number
}

/**
 * Sign-in attempts per username and per client address in a sliding window. An
 * attempt is counted when it is reserved, before the password is checked, so
 * concurrent attempts cannot all pass a check made before any is counted; a
 * failure keeps its slot for the window, a success or an undecided attempt gives it
 * back. While either count is at its limit, sign-in is refused (even with the right
 * password) until the oldest slot leaves the window. In memory: each server process
 * counts its own.
 */
export class LoginThrottle {
  private readonly slots = new Map<string, Slot[]>()
  private readonly maxKeys: number
  /** Orders reservations and settlements: which failures came before a success. */
  private sequence = 0

  constructor(
    private readonly options: ThrottleOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.maxKeys = options.maxKeys ?? 100_000
  }

  /**
   * Take a slot for one attempt under both limits, or say how many seconds to wait
   * (at least 1). Synchronous: the check and the count are one step.
   */
  reserve(username: string, address: string): Reservation {
    const now = this.now()
    const userKey = `user:${username}`
    const addressKey = `addr:${address}`
    const wait = Math.max(
      this.wait(userKey, this.options.maxPerUsername, now),
      this.wait(addressKey, this.options.maxPerAddress, now),
    )
    if (wait > 0) return { ok: false, retryAfter: Math.max(1, Math.ceil(wait / 1000)) }
    const began = ++this.sequence
    const user: Slot = { at: now, pending: true, settled: 0 }
    const addr: Slot = { at: now, pending: true, settled: 0 }
    this.add(userKey, user)
    this.add(addressKey, addr)
    let open = true
    const settle = (then: () => void) => {
      if (!open) return
      open = false
      then()
    }
    return {
      ok: true,
      attempt: {
        failed: () =>
          settle(() => {
            const settled = ++this.sequence
            for (const slot of [user, addr]) {
              slot.pending = false
              slot.settled = settled
            }
          }),
        succeeded: () =>
          settle(() => {
            this.remove(addressKey, addr)
            const kept = (this.slots.get(userKey) ?? []).filter(
              (slot) => slot !== user && (slot.pending || slot.settled > began),
            )
            if (kept.length > 0) this.slots.set(userKey, kept)
            else this.slots.delete(userKey)
          }),
        release: () =>
          settle(() => {
            this.remove(userKey, user)
            this.remove(addressKey, addr)
          }),
      },
    }
  }

  /** The slots of a key still counting: pending ones and failures within the window. */
  private recent(key: string, now: number): Slot[] {
    const slots = this.slots.get(key)
    if (!slots) return []
    const from = now - this.options.windowMs
    const kept = slots.filter((slot) => slot.pending || slot.at > from)
    if (kept.length === 0) this.slots.delete(key)
    else if (kept.length !== slots.length) this.slots.set(key, kept)
    return kept
  }

  /** Milliseconds until one more attempt fits under `max`; 0 when it fits now. */
  private wait(key: string, max: number, now: number): number {
    const slots = this.recent(key, now)
    if (slots.length < max) return 0
    // the slot that must leave the window before one more attempt fits (at the latest, if
    // it is still pending and fails; sooner if it is given back)
    return Math.max(1, slots[slots.length - max]!.at + this.options.windowMs - now)
  }

  private add(key: string, slot: Slot): void {
    const slots = this.slots.get(key) ?? []
    slots.push(slot)
    this.slots.delete(key) // re-insert: the map stays ordered by last attempt
    this.slots.set(key, slots)
    while (this.slots.size > this.maxKeys) this.slots.delete(this.slots.keys().next().value!)
  }

  private remove(key: string, slot: Slot): void {
    const slots = this.slots.get(key)
    if (!slots) return
    const index = slots.indexOf(slot)
    if (index === -1) return
    slots.splice(index, 1)
    if (slots.length === 0) this.slots.delete(key)
  }
}

import type { CredentialStore } from '@watchfloor/store'

export interface ThrottleOptions {
  /** Failed and pending sign-ins per username within the window before sign-in is refused. */
  maxPerUsername: number
  /** Failed and pending sign-ins per client address within the window before sign-in is refused. */
  maxPerAddress: number
  windowMs: number
}

/** Where the slots are counted: the credential store, shared by every process on its database. */
export type SignInSlots = Pick<CredentialStore, 'reserveSignIn' | 'settleSignIn'>

/**
 * A sign-in attempt that holds a slot under both limits (its username's and its
 * address's) from `reserve()` until it is settled. Settle it exactly once, by the
 * outcome of the password check; later calls do nothing.
 */
export interface LoginAttempt {
  /** Wrong password or unknown username: the slot stays, as a failure, until it leaves the window. */
  failed(): Promise<void>
  /**
   * The right password: the slot is given back, and the username's failures that had
   * been decided before this attempt began are cleared (not those of attempts that ran
   * alongside it). The address's failures stay.
   */
  succeeded(): Promise<void>
  /** Neither (e.g. the attempt could not be decided): the slot is given back, nothing else changes. */
  release(): Promise<void>
}

export type Reservation = { ok: true; attempt: LoginAttempt } | { ok: false; retryAfter: number }

/**
 * Sign-in attempts per username and per client address in a sliding window. An
 * attempt is counted when it is reserved, before the password is checked, so
 * concurrent attempts cannot all pass a check made before any is counted; a
 * failure keeps its slot for the window, a success or an undecided attempt gives it
 * back. While either count is at its limit, sign-in is refused (even with the right
 * password) until the oldest slot leaves the window.
 *
 * The slots live in the credential store (`reserveSignIn`, `settleSignIn`: table
 * `login_attempts`, `<prefix>_login_attempts` in PostgreSQL), so every server process on one
 * database counts together: attempts spread over N processes get no more tries than against one.
 * A slot never settled (its process stopped mid-check) leaves with the window like a failure.
 */
export class LoginThrottle {
  constructor(
    private readonly options: ThrottleOptions,
    private readonly slots: SignInSlots,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Take a slot for one attempt under both limits, or say how many seconds to wait
   * (at least 1). The check and the count are one step in the store.
   */
  async reserve(username: string, address: string): Promise<Reservation> {
    const reservation = await this.slots.reserveSignIn(
      [
        // the username first: a success clears the failures of its first key
        { key: `user:${username}`, max: this.options.maxPerUsername },
        { key: `addr:${address}`, max: this.options.maxPerAddress },
      ],
      this.options.windowMs,
      this.now(),
    )
    if (!reservation.ok) return { ok: false, retryAfter: Math.max(1, Math.ceil(reservation.waitMs / 1000)) }
    let open = true
    const settle = async (outcome: 'failed' | 'succeeded' | 'released') => {
      if (!open) return
      open = false
      await this.slots.settleSignIn(reservation.attempt, outcome)
    }
    return {
      ok: true,
      attempt: {
        failed: () => settle('failed'),
        succeeded: () => settle('succeeded'),
        release: () => settle('released'),
      },
    }
  }
}

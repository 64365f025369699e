import { describe, expect, it } from 'vitest'
import { type LoginAttempt, LoginThrottle, type Reservation } from './loginThrottle.ts'

const minute = 60_000

/** The attempt of a reservation that must have been granted. */
function granted(reservation: Reservation): LoginAttempt {
  if (!reservation.ok) throw new Error(`refused: retry after ${reservation.retryAfter} s`)
  return reservation.attempt
}

/** Seconds to wait, or 0 when granted (the granted attempt is given back: a look only). */
function waitOf(throttle: LoginThrottle, username: string, address: string): number {
  const reservation = throttle.reserve(username, address)
  if (!reservation.ok) return reservation.retryAfter
  reservation.attempt.release()
  return 0
}

/** One attempt, reserved and failed at once (a sign-in one after another). */
function fail(throttle: LoginThrottle, username: string, address: string): void {
  granted(throttle.reserve(username, address)).failed()
}

describe('LoginThrottle', () => {
  const make = (now: { t: number }) =>
    new LoginThrottle({ maxPerUsername: 5, maxPerAddress: 8, windowMs: 15 * minute }, () => now.t)

  it('refuses a username after 5 failures for 15 minutes, counting from the oldest', () => {
    const now = { t: 0 }
    const throttle = make(now)
    for (let i = 0; i < 5; i++) {
      expect(waitOf(throttle, 'anna', '10.0.0.1')).toBe(0)
      fail(throttle, 'anna', '10.0.0.1')
      now.t += minute
    }
    // failures at 0..4 min; now 5 min: the first leaves the window at 15 min
    expect(waitOf(throttle, 'anna', '10.0.0.2')).toBe(10 * 60)
    expect(waitOf(throttle, 'bert', '10.0.0.2')).toBe(0)
    now.t = 15 * minute + 1
    expect(waitOf(throttle, 'anna', '10.0.0.2')).toBe(0)
  })

  it('refuses an address after its limit, whatever the username', () => {
    const now = { t: 0 }
    const throttle = make(now)
    for (let i = 0; i < 8; i++) fail(throttle, `user-${i}`, '10.0.0.9')
    expect(waitOf(throttle, 'someone-else', '10.0.0.9')).toBe(15 * 60)
    expect(waitOf(throttle, 'someone-else', '10.0.0.10')).toBe(0)
  })

  it('a success clears the username, not the address', () => {
    const now = { t: 0 }
    const throttle = make(now)
    for (let i = 0; i < 4; i++) fail(throttle, 'anna', '10.0.0.1')
    granted(throttle.reserve('anna', '10.0.0.1')).succeeded()
    fail(throttle, 'anna', '10.0.0.1')
    expect(waitOf(throttle, 'anna', '10.0.0.3')).toBe(0)
    for (let i = 0; i < 3; i++) fail(throttle, 'other', '10.0.0.1')
    expect(waitOf(throttle, 'anna', '10.0.0.1')).toBeGreaterThan(0)
  })

  it('a success does not count against the address', () => {
    const throttle = make({ t: 0 })
    for (let i = 0; i < 20; i++) granted(throttle.reserve(`user-${i}`, '10.0.0.1')).succeeded()
    expect(waitOf(throttle, 'anyone', '10.0.0.1')).toBe(0)
  })

  it('forgets the oldest keys beyond its bound', () => {
    const throttle = new LoginThrottle({ maxPerUsername: 1, maxPerAddress: 1000, windowMs: minute, maxKeys: 10 })
    for (let i = 0; i < 100; i++) fail(throttle, `user-${i}`, `addr-${i}`)
    expect(waitOf(throttle, 'user-0', 'x')).toBe(0)
    expect(waitOf(throttle, 'user-99', 'x')).toBeGreaterThan(0)
  })

  describe('concurrent attempts (reserved before the password check, settled after)', () => {
    it('an attempt counts from its reservation: 50 at once for one username, only 5 granted', () => {
      const throttle = make({ t: 0 })
      const reservations = Array.from({ length: 50 }, (_, i) => throttle.reserve('anna', `10.0.1.${i}`))
      const attempts = reservations.filter((r) => r.ok)
      expect(attempts).toHaveLength(5)
      for (const refused of reservations.filter((r) => !r.ok)) expect(refused.retryAfter).toBe(15 * 60)
      // another username is not held back by anna's pending attempts
      expect(waitOf(throttle, 'bert', '10.0.2.1')).toBe(0)
    })

    it('50 at once from one address, each for another username: only the address limit (8) granted', () => {
      const throttle = make({ t: 0 })
      const reservations = Array.from({ length: 50 }, (_, i) => throttle.reserve(`user-${i}`, '10.0.0.9'))
      expect(reservations.filter((r) => r.ok)).toHaveLength(8)
      expect(waitOf(throttle, 'user-49', '10.0.0.10')).toBe(0)
    })

    it('failures keep their slots for the window; a give-back frees one', () => {
      const now = { t: 0 }
      const throttle = make(now)
      const attempts = Array.from({ length: 5 }, () => granted(throttle.reserve('anna', '10.0.0.1')))
      now.t = minute
      for (const attempt of attempts.slice(0, 4)) attempt.failed()
      expect(waitOf(throttle, 'anna', '10.0.0.1')).toBe(14 * 60)
      attempts[4]!.release()
      expect(waitOf(throttle, 'anna', '10.0.0.1')).toBe(0)
      // the failures leave the window 15 minutes after they were reserved
      granted(throttle.reserve('anna', '10.0.0.1')).failed()
      now.t = 15 * minute + 1
      expect(waitOf(throttle, 'anna', '10.0.0.1')).toBe(0)
    })

    it('a pending attempt counts however long it takes, and then settles as its outcome says', () => {
      const now = { t: 0 }
      const throttle = new LoginThrottle({ maxPerUsername: 1, maxPerAddress: 100, windowMs: minute }, () => now.t)
      const slow = granted(throttle.reserve('anna', '10.0.0.1'))
      now.t = 10 * minute
      expect(waitOf(throttle, 'anna', '10.0.0.1')).toBe(1)
      slow.failed() // reserved at 0: already out of the window
      expect(waitOf(throttle, 'anna', '10.0.0.1')).toBe(0)
    })

    it('a success forgives the failures decided before it began, not those of attempts alongside it', () => {
      const throttle = make({ t: 0 })
      fail(throttle, 'anna', '10.0.0.1') // a typo, then the right password: forgiven
      const right = granted(throttle.reserve('anna', '10.0.0.1'))
      const alongside = Array.from({ length: 3 }, (_, i) => granted(throttle.reserve('anna', `10.0.3.${i}`)))
      expect(throttle.reserve('anna', '10.0.3.9').ok).toBe(false) // 1 failure, 4 pending
      alongside[0]!.failed() // decided while the right one was running
      right.succeeded()
      // left: 1 failure and 2 pending, so two more attempts may start, not more
      expect(throttle.reserve('anna', '10.0.3.10').ok).toBe(true)
      expect(throttle.reserve('anna', '10.0.3.11').ok).toBe(true)
      expect(throttle.reserve('anna', '10.0.3.12').ok).toBe(false)
    })

    it('settles once: a second call, or release after an outcome, changes nothing', () => {
      const throttle = new LoginThrottle({ maxPerUsername: 2, maxPerAddress: 100, windowMs: minute }, () => 0)
      const first = granted(throttle.reserve('anna', '10.0.0.1'))
      first.failed()
      first.release()
      first.succeeded()
      const second = granted(throttle.reserve('anna', '10.0.0.1'))
      second.failed()
      expect(throttle.reserve('anna', '10.0.0.1').ok).toBe(false)
    })
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteCredentialStore } from '@watchfloor/store'
import { afterEach, describe, expect, it } from 'vitest'
import { type LoginAttempt, LoginThrottle, type Reservation, type ThrottleOptions } from './loginThrottle.ts'

const minute = 60_000

/** The attempt of a reservation that must have been granted. */
function granted(reservation: Reservation): LoginAttempt {
  if (!reservation.ok) throw new Error(`refused: retry after ${reservation.retryAfter} s`)
  return reservation.attempt
}

/** Seconds to wait, or 0 when granted (the granted attempt is given back: a look only). */
async function waitOf(throttle: LoginThrottle, username: string, address: string): Promise<number> {
  const reservation = await throttle.reserve(username, address)
  if (!reservation.ok) return reservation.retryAfter
  await reservation.attempt.release()
  return 0
}

/** One attempt, reserved and failed at once (a sign-in one after another). */
async function fail(throttle: LoginThrottle, username: string, address: string): Promise<void> {
  await granted(await throttle.reserve(username, address)).failed()
}

// the slots are counted in the credential store (here a real SQLite file); the store's contract
// suite holds the same rules for SQLite and PostgreSQL
describe('LoginThrottle', () => {
  const stores: { store: SqliteCredentialStore; dir: string }[] = []
  afterEach(async () => {
    for (const { store, dir } of stores.splice(0)) {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
  const throttleWith = (options: ThrottleOptions, now: () => number) => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-throttle-'))
    const store = new SqliteCredentialStore({ file: join(dir, 'events.sqlite') })
    stores.push({ store, dir })
    return new LoginThrottle(options, store, now)
  }
  const make = (now: { t: number }) =>
    throttleWith({ maxPerUsername: 5, maxPerAddress: 8, windowMs: 15 * minute }, () => now.t)

  it('refuses a username after 5 failures for 15 minutes, counting from the oldest', async () => {
    const now = { t: 0 }
    const throttle = make(now)
    for (let i = 0; i < 5; i++) {
      expect(await waitOf(throttle, 'anna', '10.0.0.1')).toBe(0)
      await fail(throttle, 'anna', '10.0.0.1')
      now.t += minute
    }
    // failures at 0..4 min; now 5 min: the first leaves the window at 15 min
    expect(await waitOf(throttle, 'anna', '10.0.0.2')).toBe(10 * 60)
    expect(await waitOf(throttle, 'bert', '10.0.0.2')).toBe(0)
    now.t = 15 * minute + 1
    expect(await waitOf(throttle, 'anna', '10.0.0.2')).toBe(0)
  })

  it('refuses an address after its limit, whatever the username', async () => {
    const throttle = make({ t: 0 })
    for (let i = 0; i < 8; i++) await fail(throttle, `user-${i}`, '10.0.0.9')
    expect(await waitOf(throttle, 'someone-else', '10.0.0.9')).toBe(15 * 60)
    expect(await waitOf(throttle, 'someone-else', '10.0.0.10')).toBe(0)
  })

  it('a success clears the username, not the address', async () => {
    const throttle = make({ t: 0 })
    for (let i = 0; i < 4; i++) await fail(throttle, 'anna', '10.0.0.1')
    await granted(await throttle.reserve('anna', '10.0.0.1')).succeeded()
    await fail(throttle, 'anna', '10.0.0.1')
    expect(await waitOf(throttle, 'anna', '10.0.0.3')).toBe(0)
    for (let i = 0; i < 3; i++) await fail(throttle, 'other', '10.0.0.1')
    expect(await waitOf(throttle, 'anna', '10.0.0.1')).toBeGreaterThan(0)
  })

  it('a success does not count against the address', async () => {
    const throttle = make({ t: 0 })
    for (let i = 0; i < 20; i++) await granted(await throttle.reserve(`user-${i}`, '10.0.0.1')).succeeded()
    expect(await waitOf(throttle, 'anyone', '10.0.0.1')).toBe(0)
  })

  it('two throttles on one database (two processes) count together', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-throttle-'))
    const a = new SqliteCredentialStore({ file: join(dir, 'events.sqlite') })
    const b = new SqliteCredentialStore({ file: join(dir, 'events.sqlite') })
    stores.push({ store: a, dir }, { store: b, dir })
    const options = { maxPerUsername: 5, maxPerAddress: 8, windowMs: 15 * minute }
    const throttles = [new LoginThrottle(options, a, () => 0), new LoginThrottle(options, b, () => 0)]
    for (let i = 0; i < 5; i++) await fail(throttles[i % 2]!, 'anna', `10.0.0.${i}`)
    expect(await waitOf(throttles[0]!, 'anna', '10.0.9.1')).toBe(15 * 60)
    expect(await waitOf(throttles[1]!, 'anna', '10.0.9.1')).toBe(15 * 60)
  })

  describe('concurrent attempts (reserved before the password check, settled after)', () => {
    it('an attempt counts from its reservation: 50 at once for one username, only 5 granted', async () => {
      const throttle = make({ t: 0 })
      const reservations = await Promise.all(
        Array.from({ length: 50 }, (_, i) => throttle.reserve('anna', `10.0.1.${i}`)),
      )
      expect(reservations.filter((r) => r.ok)).toHaveLength(5)
      for (const refused of reservations.filter((r) => !r.ok)) expect(refused.retryAfter).toBe(15 * 60)
      // another username is not held back by anna's pending attempts
      expect(await waitOf(throttle, 'bert', '10.0.2.1')).toBe(0)
    })

    it('50 at once from one address, each for another username: only the address limit (8) granted', async () => {
      const throttle = make({ t: 0 })
      const reservations = await Promise.all(
        Array.from({ length: 50 }, (_, i) => throttle.reserve(`user-${i}`, '10.0.0.9')),
      )
      expect(reservations.filter((r) => r.ok)).toHaveLength(8)
      expect(await waitOf(throttle, 'user-49', '10.0.0.10')).toBe(0)
    })

    it('failures keep their slots for the window; a give-back frees one', async () => {
      const now = { t: 0 }
      const throttle = make(now)
      const attempts: LoginAttempt[] = []
      for (let i = 0; i < 5; i++) attempts.push(granted(await throttle.reserve('anna', '10.0.0.1')))
      now.t = minute
      for (const attempt of attempts.slice(0, 4)) await attempt.failed()
      expect(await waitOf(throttle, 'anna', '10.0.0.1')).toBe(14 * 60)
      await attempts[4]!.release()
      expect(await waitOf(throttle, 'anna', '10.0.0.1')).toBe(0)
      // the failures leave the window 15 minutes after they were reserved
      await granted(await throttle.reserve('anna', '10.0.0.1')).failed()
      now.t = 15 * minute + 1
      expect(await waitOf(throttle, 'anna', '10.0.0.1')).toBe(0)
    })

    it('a pending attempt counts until it is settled, or leaves with the window (a process gone mid-check)', async () => {
      const now = { t: 0 }
      const throttle = throttleWith({ maxPerUsername: 1, maxPerAddress: 100, windowMs: minute }, () => now.t)
      const slow = granted(await throttle.reserve('anna', '10.0.0.1'))
      now.t = 30_000
      expect(await waitOf(throttle, 'anna', '10.0.0.1')).toBe(30)
      await slow.failed()
      expect(await waitOf(throttle, 'anna', '10.0.0.1')).toBe(30)
      granted(await throttle.reserve('bert', '10.0.0.1')) // never settled
      now.t = 2 * minute
      expect(await waitOf(throttle, 'anna', '10.0.0.1')).toBe(0)
      expect(await waitOf(throttle, 'bert', '10.0.0.1')).toBe(0)
    })

    it('a success forgives the failures decided before it began, not those of attempts alongside it', async () => {
      const throttle = make({ t: 0 })
      await fail(throttle, 'anna', '10.0.0.1') // a typo, then the right password: forgiven
      const right = granted(await throttle.reserve('anna', '10.0.0.1'))
      const alongside: LoginAttempt[] = []
      for (let i = 0; i < 3; i++) alongside.push(granted(await throttle.reserve('anna', `10.0.3.${i}`)))
      expect((await throttle.reserve('anna', '10.0.3.9')).ok).toBe(false) // 1 failure, 4 pending
      await alongside[0]!.failed() // decided while the right one was running
      await right.succeeded()
      // left: 1 failure and 2 pending, so two more attempts may start, not more
      expect((await throttle.reserve('anna', '10.0.3.10')).ok).toBe(true)
      expect((await throttle.reserve('anna', '10.0.3.11')).ok).toBe(true)
      expect((await throttle.reserve('anna', '10.0.3.12')).ok).toBe(false)
    })

    it('settles once: a second call, or release after an outcome, changes nothing', async () => {
      const throttle = throttleWith({ maxPerUsername: 2, maxPerAddress: 100, windowMs: minute }, () => 0)
      const first = granted(await throttle.reserve('anna', '10.0.0.1'))
      await first.failed()
      await first.release()
      await first.succeeded()
      const second = granted(await throttle.reserve('anna', '10.0.0.1'))
      await second.failed()
      expect((await throttle.reserve('anna', '10.0.0.1')).ok).toBe(false)
    })
  })
})

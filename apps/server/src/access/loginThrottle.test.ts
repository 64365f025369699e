import { describe, expect, it } from 'vitest'
import { LoginThrottle } from './loginThrottle.ts'

const minute = 60_000

describe('LoginThrottle', () => {
  const make = (now: { t: number }) =>
    new LoginThrottle({ maxPerUsername: 5, maxPerAddress: 8, windowMs: 15 * minute }, () => now.t)

  it('refuses a username after 5 failures for 15 minutes, counting from the oldest', () => {
    const now = { t: 0 }
    const throttle = make(now)
    for (let i = 0; i < 5; i++) {
      expect(throttle.retryAfter('anna', '10.0.0.1')).toBe(0)
      throttle.failed('anna', '10.0.0.1')
      now.t += minute
    }
    // failures at 0..4 min; now 5 min: the first leaves the window at 15 min
    expect(throttle.retryAfter('anna', '10.0.0.2')).toBe(10 * 60)
    expect(throttle.retryAfter('bert', '10.0.0.2')).toBe(0)
    now.t = 15 * minute + 1
    expect(throttle.retryAfter('anna', '10.0.0.2')).toBe(0)
  })

  it('refuses an address after its limit, whatever the username', () => {
    const now = { t: 0 }
    const throttle = make(now)
    for (let i = 0; i < 8; i++) throttle.failed(`user-${i}`, '10.0.0.9')
    expect(throttle.retryAfter('someone-else', '10.0.0.9')).toBe(15 * 60)
    expect(throttle.retryAfter('someone-else', '10.0.0.10')).toBe(0)
  })

  it('a success clears the username, not the address', () => {
    const now = { t: 0 }
    const throttle = make(now)
    for (let i = 0; i < 4; i++) throttle.failed('anna', '10.0.0.1')
    throttle.succeeded('anna')
    throttle.failed('anna', '10.0.0.1')
    expect(throttle.retryAfter('anna', '10.0.0.3')).toBe(0)
    for (let i = 0; i < 3; i++) throttle.failed('other', '10.0.0.1')
    expect(throttle.retryAfter('anna', '10.0.0.1')).toBeGreaterThan(0)
  })

  it('forgets the oldest keys beyond its bound', () => {
    const throttle = new LoginThrottle({ maxPerUsername: 1, maxPerAddress: 1000, windowMs: minute, maxKeys: 10 })
    for (let i = 0; i < 100; i++) throttle.failed(`user-${i}`, `addr-${i}`)
    expect(throttle.retryAfter('user-0', 'x')).toBe(0)
    expect(throttle.retryAfter('user-99', 'x')).toBeGreaterThan(0)
  })
})

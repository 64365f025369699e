import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mayBeAcceptedAgain, recheckUntilAccepted, refusalNotice } from './refused.ts'

describe('a refused wall', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('asks again only when the refusal may pass: an account disabled, not a token revoked, expired or unknown', () => {
    expect(mayBeAcceptedAgain('account disabled')).toBe(true)
    // a socket's reason (`token_revoked`) comes with its underscores made spaces
    expect(mayBeAcceptedAgain('token revoked')).toBe(false)
    expect(mayBeAcceptedAgain('token expired')).toBe(false)
    expect(mayBeAcceptedAgain('unknown token')).toBe(false)
    expect(mayBeAcceptedAgain("token refused: its user id feed:x is a partner feed's")).toBe(false)
    expect(mayBeAcceptedAgain('')).toBe(true)
  })

  it('says suspended for a disabled account, revoked, expired, or a link not known, each as it is', () => {
    expect(refusalNotice('account disabled').title).toBe('ACCESS SUSPENDED')
    expect(refusalNotice('account disabled').text).toContain('comes back by itself when the account is enabled again')
    const signIn = (detail: string) => `Sign-in failed: the token was not accepted (${detail}).`
    for (const [reason, title] of [
      ['token revoked', 'ACCESS REVOKED'],
      [signIn('token revoked'), 'ACCESS REVOKED'],
      ['token expired', 'ACCESS EXPIRED'],
      [signIn('unknown token'), 'LINK NOT ACCEPTED'],
    ] as const) {
      expect(refusalNotice(reason).title, reason).toBe(title)
      expect(refusalNotice(reason).text, reason).toMatch(/given a (new|correct) link\.$/)
      // the notice says it in its own words: no reason in brackets inside brackets
      expect(refusalNotice(reason).text, reason).not.toContain('(')
    }
    // a mistyped link is not told it was revoked
    expect(refusalNotice(signIn('unknown token')).text).toContain('mistyped')
    // a reason it has no words of its own for is given as the server said it
    const other = "token refused: its user id feed:x is a partner feed's"
    expect(refusalNotice(other)).toEqual({
      title: 'ACCESS REVOKED',
      text: `This wall's display token is no longer accepted: ${other}. Nothing is shown until the wall is given a new link.`,
    })
  })

  it('asks again after each delay, the last repeating, until accepted; then comes back once', async () => {
    const answers = [false, false, false, false, true]
    const asked: number[] = []
    const accepted = vi.fn(async () => {
      asked.push(Date.now())
      return answers.shift() ?? true
    })
    const back = vi.fn()
    const start = Date.now()
    recheckUntilAccepted(accepted, back, [100, 200, 400])
    await vi.advanceTimersByTimeAsync(99)
    expect(accepted).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 400 + 400)
    expect(asked.map((t) => t - start)).toEqual([100, 300, 700, 1100, 1500])
    expect(back).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(accepted).toHaveBeenCalledTimes(5)
  })

  it('a failed ask is a refusal; stopped, it asks no more', async () => {
    const accepted = vi.fn(async () => {
      throw new Error('server away')
    })
    const back = vi.fn()
    const stop = recheckUntilAccepted(accepted, back, [100])
    await vi.advanceTimersByTimeAsync(350)
    expect(accepted).toHaveBeenCalledTimes(3)
    stop()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(accepted).toHaveBeenCalledTimes(3)
    expect(back).not.toHaveBeenCalled()
  })
})

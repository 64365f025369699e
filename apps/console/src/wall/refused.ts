/**
 * A wall whose display token the server refuses shows nothing of its picture (a refused wall must
 * not go on showing stale data), and says why. A token revoked or expired stays refused: the wall
 * needs a new link. A token of an account that was disabled works again once the account is enabled
 * (docs/api.md): so a refused wall asks again now and then, and comes back by itself when its token
 * is accepted, unattended, as a wall on the floor must.
 */

/** What the refused wall says, from the server's reason (`account disabled`, `token revoked`, ...). */
export function refusalNotice(reason: string): { title: string; text: string } {
  if (/account disabled/i.test(reason))
    return {
      title: 'ACCESS SUSPENDED',
      text: "The account this wall's display token belongs to is disabled. Nothing is shown; the wall comes back by itself when the account is enabled again.",
    }
  if (/unknown token/i.test(reason))
    return {
      title: 'LINK NOT ACCEPTED',
      text: "The server does not know this wall's display token: the link may be mistyped, cut short, or for another server. Nothing is shown until the wall is given a correct link.",
    }
  if (/token expired/i.test(reason))
    return {
      title: 'ACCESS EXPIRED',
      text: "This wall's display token has expired. Nothing is shown until the wall is given a new link.",
    }
  if (/token revoked/i.test(reason))
    return {
      title: 'ACCESS REVOKED',
      text: "This wall's display token was revoked. Nothing is shown until the wall is given a new link.",
    }
  return {
    title: 'ACCESS REVOKED',
    text: `This wall's display token is no longer accepted${reason ? `: ${reason.replace(/\.$/, '')}` : ''}. Nothing is shown until the wall is given a new link.`,
  }
}

/**
 * Whether a refusal may pass by itself, so the wall asks again: an account disabled (it may be
 * enabled again), or no reason given. A token revoked, expired or unknown, or refused for its user
 * id, never is accepted again: the wall needs a new link, and asking would only log refusals.
 */
export function mayBeAcceptedAgain(reason: string): boolean {
  return reason.trim() === '' || /account disabled/i.test(reason)
}

/** Waits between asks of a refused wall: soon at first, then once a minute. */
export const RECHECK_DELAYS_MS: readonly number[] = [5_000, 15_000, 30_000, 60_000]

/**
 * Ask `accepted` after each of `delays` (the last one repeating) until it answers true, then call
 * `onAccepted` once. A failed ask (the server away) counts as refused. Returns a stop.
 */
export function recheckUntilAccepted(
  accepted: () => Promise<boolean>,
  onAccepted: () => void,
  delays: readonly number[] = RECHECK_DELAYS_MS,
): () => void {
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let attempt = 0
  const next = () => {
    const delay = delays[Math.min(attempt, delays.length - 1)]!
    attempt++
    timer = setTimeout(async () => {
      const ok = await accepted().catch(() => false)
      if (stopped) return
      if (ok) onAccepted()
      else next()
    }, delay)
  }
  next()
  return () => {
    stopped = true
    if (timer !== undefined) clearTimeout(timer)
  }
}

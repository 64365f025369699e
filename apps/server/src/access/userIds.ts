import { reservedUserIdRefusal } from '@watchfloor/core'
import { type Account, type ServicePrincipal, type UserIdHolder, userIdTaken } from '@watchfloor/store'
import type { Logger } from 'pino'
import type { z } from 'zod'
import type { Principal, StaticToken } from './tokens.ts'

/*
 * A user id names one person of one organisation, everywhere: RED recipients and authors are user
 * ids [V5], a task is assigned to one, the people directory lists them. Nothing else keeps two
 * organisations' principals apart there, so no user id is given to a second organisation:
 *
 * - the credential store refuses an account or a service token whose user id an account or a
 *   service token of another organisation has (revoked, expired and disabled ones too: the log's
 *   events name them still), looking and writing in one step across processes;
 * - an admin's or the operator's new account or service token is refused here when a static token
 *   (WATCHFLOOR_TOKENS, not in the store) of another organisation has its user id (`refuseStaticUserId`);
 * - a token file giving one user id to two organisations is not a valid token list (tokens.ts);
 * - a start refuses a static token whose user id the store gives to another organisation
 *   (`checkUserIdsAtStart`).
 *
 * The same user id within one organisation is fine: a person's account and their tokens, or an
 * account and a static or service token of that organisation named alike, are one person.
 * Refusals name the organisation that holds the user id: only admins and the operator make
 * identities, and they see every organisation's.
 */

/**
 * [A9] A user id given to a person or a machine (a service identity, a static token) is never a
 * partner feed's (`feed:<feed id>`), which posts in the feed's namespace: a refinement of the
 * field's schema, so the 400 (or the token file's refusal at start) names the field. Usernames
 * cannot hold `:` at all.
 */
export function refuseFeedUserId(user: string, context: z.RefinementCtx): void {
  const reserved = reservedUserIdRefusal(user)
  if (reserved !== undefined) context.addIssue({ code: 'custom', message: reserved })
}

/**
 * A new account's or service identity's user id for `organisation`: a 409 when a static token of
 * another organisation has it (the store checks its own accounts and service tokens).
 */
export function refuseStaticUserId(
  statics: readonly Pick<Principal, 'user' | 'organisation'>[],
  userId: string,
  organisation: string,
): void {
  const holder = statics.find((principal) => principal.user === userId && principal.organisation !== organisation)
  if (holder) throw userIdTaken(userId, holder.organisation, 'static token')
}

/** A principal the server knows at start: a static token, an account, or a token's service identity. */
export type KnownPrincipal = StaticToken | Account | ServicePrincipal

interface Held {
  userId: string
  organisation: string
  heldBy: UserIdHolder
}

function heldOf(principal: KnownPrincipal): Held {
  if ('token' in principal)
    return { userId: principal.user, organisation: principal.organisation, heldBy: 'static token' }
  if ('username' in principal)
    return { userId: principal.username, organisation: principal.organisation, heldBy: 'account' }
  return { userId: principal.user, organisation: principal.organisation, heldBy: 'service token' }
}

const described = (held: Held) =>
  `${held.heldBy === 'account' ? 'an account' : `a ${held.heldBy}`} of ${held.organisation}`

/**
 * At start, over every principal the server knows (static tokens, accounts, service identities,
 * revoked and disabled ones too): a static token whose user id a principal of another organisation
 * has stops the start, with an Error naming each such user id (docs/operate.md says how to fix it).
 * One user id in two organisations within the store alone (made before the store refused it) is
 * logged as a warning, naming them: disable or revoke the one that should not have it.
 */
export function checkUserIdsAtStart(known: Iterable<KnownPrincipal>, logger: Logger): void {
  const byUser = new Map<string, Held[]>()
  for (const principal of known) {
    const held = heldOf(principal)
    byUser.set(held.userId, [...(byUser.get(held.userId) ?? []), held])
  }
  // [A9] a service token given a partner feed's user id before it was reserved: the door refuses it
  for (const [userId, holders] of byUser)
    if (reservedUserIdRefusal(userId) !== undefined)
      logger.warn(
        { userId, holders: [...new Set(holders.map(described))] },
        "a token's user id starts feed: (made before the prefix was reserved): a partner feed's, so the token is refused at the door; revoke it and make one with another user id",
      )
  const refusals: string[] = []
  for (const [userId, holders] of byUser) {
    if (new Set(holders.map((held) => held.organisation)).size < 2) continue
    const statics = holders.filter((held) => held.heldBy === 'static token')
    if (statics.length === 0) {
      logger.warn(
        { userId, holders: [...new Set(holders.map(described))] },
        'one user id is held in more than one organisation (made before the store refused it): each of them reads RED events addressed to it; disable or revoke the one that should not have it',
      )
      continue
    }
    for (const organisation of new Set(statics.map((held) => held.organisation))) {
      const others = holders.filter((held) => held.organisation !== organisation)
      refusals.push(
        `the static token of user id ${userId} (${organisation}) gives it to a second organisation: ` +
          `${[...new Set(others.map(described))].join(', ')} already has it`,
      )
    }
  }
  if (refusals.length > 0)
    throw new Error(
      `WATCHFLOOR_TOKENS: ${refusals.join('; ')}. A user id names one person of one organisation: give the ` +
        'static token another user id (docs/operate.md, "One user id, one organisation")',
    )
}

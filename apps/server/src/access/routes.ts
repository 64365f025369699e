import { randomBytes } from 'node:crypto'
import {
  parseOrThrow,
  type SessionReply,
  UNSAFE_NAME_MESSAGE,
  unsafeInName,
  WatchfloorError,
} from '@watchfloor/protocol'
import { type Account, type AccountLogin, hashSecret, type TokenRecord } from '@watchfloor/store'
import express, { type Request, type Response } from 'express'
import { z } from 'zod'
import { QueryReader } from '../http/query.ts'
import { type Access, type Caller, callerOf, isAdmin, recheckCaller, sessionIdOf } from './access.ts'
import { AccountPatchBody, changeAccount, createAccount, issueToken, type PresetLookup } from './admin.ts'
import { hashPassword, needsRehash, verifyPassword } from './passwords.ts'

const SignIn = z
  .object({
    // no account's username holds a control character: refused before it reaches the store
    username: z
      .string()
      .max(200)
      .refine((username) => !unsafeInName(username), UNSAFE_NAME_MESSAGE),
    password: z.string().max(1024),
  })
  .strict()

const json = express.json({ limit: '64kb' })

/** Who the caller is, as `GET /api/v1/session` and sign-in answer. */
export function describeCaller(caller: Caller): SessionReply {
  return {
    user: caller.user,
    displayName: caller.displayName,
    organisation: caller.organisation,
    nation: caller.nation,
    roles: caller.roles,
    kind: caller.kind,
    ...(caller.preset !== undefined ? { preset: caller.preset } : {}),
    ...(caller.tlpCeiling !== undefined ? { tlpCeiling: caller.tlpCeiling } : {}),
    ...(caller.credential.type === 'session'
      ? { startedAt: caller.credential.startedAt, expiresAt: caller.credential.expiresAt }
      : {}),
    ...(caller.viewingAs !== undefined ? { viewingAs: { kind: caller.viewingAs.kind, id: caller.viewingAs.id } } : {}),
  }
}

function noStore(_req: Request, res: Response, next: () => void): void {
  res.setHeader('Cache-Control', 'no-store')
  next()
}

/**
 * Signing in and out: `POST /api/v1/session` and `DELETE /api/v1/session`. Mounted
 * before authentication (signing in has no caller yet; signing out always clears the cookie).
 */
export function sessionRoutes(access: Access): express.Router {
  const router = express.Router()
  const { credentials, throttle } = access

  router.post('/session', noStore, json, async (req, res) => {
    if (!req.is('application/json'))
      throw new WatchfloorError('validation', 'send { "username", "password" } as Content-Type: application/json')
    const body = parseOrThrow(SignIn, req.body)
    const username = body.username.trim().toLowerCase()
    // the client's address: the socket's peer, or what a trusted proxy says (WATCHFLOOR_TRUST_PROXY)
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown'
    // counted before the password is checked (a slot under both limits), so concurrent attempts
    // cannot all pass the limit before any is counted; settled by the outcome, or given back
    const reservation = await throttle.reserve(username, address)
    if (!reservation.ok) {
      const wait = reservation.retryAfter
      res.setHeader('Retry-After', String(wait))
      throw new WatchfloorError('too_many_requests', `too many failed sign-ins: try again in ${wait} s`, {
        retryAfter: wait,
      })
    }
    const { attempt } = reservation
    const cost = access.options.passwordCost
    let login: AccountLogin
    try {
      const found = await credentials.getLogin(username)
      const matches = await verifyPassword(body.password, found?.passwordHash ?? null, cost)
      // a disabled account answers exactly as a wrong password does: the answer never confirms a
      // password (an admin tells the person; API tokens of the account say "account disabled")
      if (!found || !matches || found.account.disabled) {
        await attempt.failed()
        throw new WatchfloorError('unauthenticated', 'wrong username or password')
      }
      await attempt.succeeded()
      login = found
    } finally {
      await attempt.release() // not decided above (a store error): the slot is given back
    }
    const checked = login.passwordHash!
    const rehash = needsRehash(checked, cost) ? await hashPassword(body.password, cost) : undefined
    const id = randomBytes(32).toString('base64url')
    // made only while the account still holds the password just checked: a reset or disabling that
    // landed meanwhile refuses this sign-in, and a rehash never writes over the new password
    const session = await credentials.signIn(
      {
        idHash: hashSecret(id),
        account: username,
        expiresAt: new Date(Date.now() + access.options.sessionTtlMs).toISOString(),
      },
      { passwordHash: checked, rehash },
    )
    if (session === null) throw new WatchfloorError('unauthenticated', 'wrong username or password')
    credentials.deleteExpiredSessions(new Date()).catch(() => {})
    access.setSessionCookie(req, res, id)
    res.json(describeCaller(await access.fromSession(id)))
  })

  router.delete('/session', noStore, async (req, res) => {
    const id = sessionIdOf(req.headers)
    if (id !== undefined) {
      // the CSRF rule of authenticate(): a cross-site page cannot end someone's session
      // (a request with an Authorization header is not one a page of another site can send)
      const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
      if (req.headers.authorization === undefined && type !== 'application/json')
        throw new WatchfloorError('forbidden', 'signing out by session cookie needs Content-Type: application/json')
      await credentials.deleteSession(hashSecret(id))
    }
    access.clearSessionCookie(req, res)
    res.status(204).end()
  })

  return router
}

/**
 * `GET /api/v1/session`, accounts and tokens; mounted after authentication. `presets`: the wall
 * presets a display token may name.
 */
export function peopleRoutes(access: Access, presets?: PresetLookup): express.Router {
  const router = express.Router()
  const { credentials } = access

  router.get('/session', noStore, (req, res) => {
    res.json(describeCaller(callerOf(req)))
  })

  router.use(['/accounts', '/tokens'], noStore)

  router.get('/accounts', async (req, res) => {
    requireAdmin(callerOf(req))
    res.json({ accounts: (await credentials.listAccounts()).map(accountJson) })
  })

  router.post('/accounts', json, recheckCaller, async (req, res) => {
    requireAdmin(callerOf(req))
    const account = await createAccount(
      credentials,
      access.directory,
      access.registry.principals(),
      req.body,
      access.options.passwordCost,
    )
    res.status(201).json({ account: accountJson(account) })
  })

  router.patch('/accounts/:username', json, recheckCaller, async (req, res) => {
    const caller = callerOf(req)
    requireAdmin(caller)
    const username = String(req.params.username).toLowerCase()
    const body = parseOrThrow(AccountPatchBody, req.body)
    // no account has such a name: answered as any missing one, without asking the store
    if (unsafeInName(username)) throw new WatchfloorError('not_found', `no account ${JSON.stringify(username)}`)
    if (caller.account === username && (body.disabled === true || (body.roles && !body.roles.includes('admin'))))
      throw new WatchfloorError('conflict', 'an admin cannot disable their own account or drop their own admin role')
    const account = await changeAccount(credentials, username, body, access.options.passwordCost)
    res.json({ account: accountJson(account) })
  })

  router.get('/tokens', async (req, res) => {
    const caller = callerOf(req)
    if (caller.kind === 'display') throw new WatchfloorError('forbidden', 'a display token does not manage tokens')
    let tokens: TokenRecord[]
    if (isAdmin(caller)) {
      const owner = ownerQuery(req)
      tokens = await credentials.listTokens(owner === undefined ? {} : { owner })
    } else
      tokens = caller.account
        ? (await credentials.listTokens({ owner: caller.account })).filter((token) => token.kind === 'api')
        : []
    res.json({ tokens: tokens.map((token) => tokenJson(token, caller)) })
  })

  router.post('/tokens', json, recheckCaller, async (req, res) => {
    const caller = callerOf(req)
    const maker = {
      user: caller.user,
      account: caller.account,
      admin: isAdmin(caller),
      tokenId: caller.credential.type === 'token' ? caller.credential.id : undefined,
    }
    const { token, secret } = await issueToken(
      credentials,
      access.directory,
      access.registry.principals(),
      maker,
      req.body,
      access.options.tokenTtlDays,
      presets,
    )
    res.status(201).json({ token, secret })
  })

  router.delete('/tokens/:id', recheckCaller, async (req, res) => {
    const caller = callerOf(req)
    const id = String(req.params.id)
    // no token has such an id: answered as any missing one, without asking the store
    if (unsafeInName(id)) throw new WatchfloorError('not_found', `no token ${JSON.stringify(id)}`)
    const token = await credentials.getToken(id)
    const mine = token !== null && token.kind === 'api' && token.owner !== null && token.owner === caller.account
    if (!token || !(isAdmin(caller) || mine)) throw new WatchfloorError('not_found', `no token ${id}`)
    const revoked = await credentials.revokeToken(id)
    res.json({ token: revoked === null ? revoked : tokenJson(revoked, caller) })
  })

  return router
}

/**
 * `?owner=` of `GET /api/v1/tokens`: one username (lower-cased), or none. Given twice, empty or
 * with a control character: a 400 naming `owner` (any other parameter, `owner[]=` among them, is
 * refused before the route: `refuseUndocumentedQuery`), never read as no filter at all.
 */
function ownerQuery(req: Request): string | undefined {
  const query = new QueryReader(req)
  const owner = query.text('owner')
  if (owner !== undefined && unsafeInName(owner)) query.fail('owner', UNSAFE_NAME_MESSAGE)
  query.done()
  return owner?.trim().toLowerCase()
}

function requireAdmin(caller: Caller): void {
  if (!isAdmin(caller)) throw new WatchfloorError('forbidden', 'this needs the admin role')
}

/**
 * A token as `caller` may read it: who made it (`createdBy`) only for an admin or the one who made
 * it, so a person does not learn the username of another organisation's admin (or an operator's
 * login, `cli:<login>`) who made their token.
 */
function tokenJson(token: TokenRecord, caller: Caller): TokenRecord | Omit<TokenRecord, 'createdBy'> {
  if (isAdmin(caller) || token.createdBy === caller.user) return token
  const { createdBy: _maker, ...rest } = token
  return rest
}

/** An account as the API shows it: never the password hash. */
function accountJson(account: Account): Account {
  return {
    username: account.username,
    displayName: account.displayName,
    organisation: account.organisation,
    nation: account.nation,
    roles: account.roles,
    disabled: account.disabled,
    createdAt: account.createdAt,
    updatedAt: account.updatedAt,
  }
}

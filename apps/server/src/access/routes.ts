import { randomBytes, randomUUID } from 'node:crypto'
import { parseOrThrow, Role, type SessionReply, Tlp, WatchfloorError } from '@watchfloor/protocol'
import { type Account, type AccountLogin, hashSecret, type NewToken, type TokenRecord } from '@watchfloor/store'
import express, { type Request, type Response } from 'express'
import { z } from 'zod'
import { type Access, type Caller, callerOf, isAdmin, sessionIdOf } from './access.ts'
import { hashPassword, needsRehash, verifyPassword } from './passwords.ts'

const Username = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore; up to 64')
const Password = z.string().min(12, 'at least 12 characters').max(1024)
const Roles = z
  .array(Role)
  .min(1)
  .transform((roles) => [...new Set(roles)])
const Name = z.string().trim().min(1).max(200)
const Code = z.string().trim().min(1).max(64)

const SignIn = z.object({ username: z.string().max(200), password: z.string().max(1024) }).strict()

const NewAccountBody = z
  .object({
    username: Username,
    displayName: Name.optional(),
    organisation: Code,
    /** Default: the organisation's, from the directory; when given it must be that. */
    nation: Code.optional(),
    roles: Roles,
    password: Password,
    disabled: z.boolean().optional(),
  })
  .strict()

const AccountPatchBody = z
  .object({
    displayName: Name.optional(),
    roles: Roles.optional(),
    disabled: z.boolean().optional(),
    password: Password.optional(),
  })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one of displayName, roles, disabled, password')

const NewTokenBody = z
  .object({
    label: Name,
    kind: z.enum(['api', 'display']).default('api'),
    /** The account the token acts as (default: the caller's own). */
    owner: Username.optional(),
    /** Or an identity of its own (admin only). */
    service: z
      .object({
        user: Code,
        organisation: Code,
        nation: Code.optional(),
        roles: Roles,
        sources: z.array(Code).default([]),
      })
      .strict()
      .optional(),
    preset: Code.optional(),
    tlpCeiling: Tlp.optional(),
    /**
     * When the token stops working (ISO 8601 with a zone, in the future); null: never (admin
     * only). Absent: an API token lasts WATCHFLOOR_TOKEN_TTL_DAYS, a display token never expires.
     */
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .strict()

const DAY_MS = 24 * 3600 * 1000
/** A non-admin asking for exactly the longest expiry, by a clock a little ahead of ours, still gets it. */
const CLOCK_LEEWAY_MS = 60_000

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
    ...(caller.credential.type === 'session' ? { expiresAt: caller.credential.expiresAt } : {}),
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
    if (login.passwordHash && needsRehash(login.passwordHash, cost))
      await credentials.updateAccount(username, { passwordHash: await hashPassword(body.password, cost) })
    const id = randomBytes(32).toString('base64url')
    await credentials.createSession({
      idHash: hashSecret(id),
      account: username,
      expiresAt: new Date(Date.now() + access.options.sessionTtlMs).toISOString(),
    })
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

/** `GET /api/v1/session`, accounts and tokens; mounted after authentication. */
export function peopleRoutes(access: Access): express.Router {
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

  router.post('/accounts', json, async (req, res) => {
    requireAdmin(callerOf(req))
    const body = parseOrThrow(NewAccountBody, req.body)
    const nation = inDirectory(access, body.organisation, body.nation, '')
    const account = await credentials.createAccount({
      username: body.username,
      displayName: body.displayName ?? body.username,
      organisation: body.organisation,
      nation,
      roles: body.roles,
      passwordHash: await hashPassword(body.password, access.options.passwordCost),
      disabled: body.disabled ?? false,
    })
    res.status(201).json({ account: accountJson(account) })
  })

  router.patch('/accounts/:username', json, async (req, res) => {
    const caller = callerOf(req)
    requireAdmin(caller)
    const username = String(req.params.username).toLowerCase()
    const body = parseOrThrow(AccountPatchBody, req.body)
    if (caller.account === username && (body.disabled === true || (body.roles && !body.roles.includes('admin'))))
      throw new WatchfloorError('conflict', 'an admin cannot disable their own account or drop their own admin role')
    const account = await credentials.updateAccount(username, {
      ...(body.displayName !== undefined ? { displayName: body.displayName } : {}),
      ...(body.roles !== undefined ? { roles: body.roles } : {}),
      ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
      ...(body.password !== undefined
        ? { passwordHash: await hashPassword(body.password, access.options.passwordCost) }
        : {}),
    })
    if (!account) throw new WatchfloorError('not_found', `no account ${username}`)
    // a new password or a disabled account ends every session (live sockets included)
    if (body.password !== undefined || body.disabled === true) await credentials.deleteSessionsOf(username)
    // and no token outlives a new password: whoever knew the old one may have made tokens
    if (body.password !== undefined)
      for (const token of await credentials.listTokens({ owner: username }))
        if (token.revokedAt === null) await credentials.revokeToken(token.id)
    res.json({ account: accountJson(account) })
  })

  router.get('/tokens', async (req, res) => {
    const caller = callerOf(req)
    if (caller.kind === 'display') throw new WatchfloorError('forbidden', 'a display token does not manage tokens')
    let tokens: TokenRecord[]
    if (isAdmin(caller)) {
      const owner = typeof req.query.owner === 'string' ? req.query.owner.toLowerCase() : undefined
      tokens = await credentials.listTokens(owner === undefined ? {} : { owner })
    } else
      tokens = caller.account
        ? (await credentials.listTokens({ owner: caller.account })).filter((token) => token.kind === 'api')
        : []
    res.json({ tokens })
  })

  router.post('/tokens', json, async (req, res) => {
    const caller = callerOf(req)
    const body = parseOrThrow(NewTokenBody, req.body)
    const admin = isAdmin(caller)
    if (body.kind === 'display' && body.preset === undefined)
      throw new WatchfloorError('validation', 'a display token needs a preset', {
        issues: [{ path: 'preset', message: 'required for a display token' }],
      })
    if (body.kind === 'api' && (body.preset !== undefined || body.tlpCeiling !== undefined))
      throw new WatchfloorError('validation', 'preset and tlpCeiling are for display tokens only')
    if (body.owner !== undefined && body.service !== undefined)
      throw new WatchfloorError(
        'validation',
        'a token belongs to an account (owner) or has a service identity, not both',
      )
    const service =
      body.service === undefined
        ? null
        : {
            ...body.service,
            nation: inDirectory(access, body.service.organisation, body.service.nation, 'service.'),
          }
    const owner = body.service !== undefined ? null : (body.owner ?? caller.account)
    if (!admin) {
      if (body.kind !== 'api') throw new WatchfloorError('forbidden', 'only an admin may create display tokens')
      if (body.service !== undefined || owner === null || owner !== caller.account)
        throw new WatchfloorError('forbidden', 'you may create API tokens for your own account only')
    }
    if (owner === null && body.service === undefined)
      throw new WatchfloorError('validation', 'give an owner account or a service identity for the token')
    let expiresAt = tokenExpiry(body.kind, body.expiresAt, admin, access.options.tokenTtlDays)
    // a token cannot outlive the token that made it (a stolen token must not renew itself for ever)
    if (!admin && caller.credential.type === 'token') {
      const maker = await credentials.getToken(caller.credential.id)
      if (maker?.expiresAt && (expiresAt === null || Date.parse(expiresAt) > Date.parse(maker.expiresAt))) {
        if (body.expiresAt !== undefined)
          throw new WatchfloorError(
            'forbidden',
            `a token made with a token must expire no later than it does (${maker.expiresAt})`,
          )
        expiresAt = maker.expiresAt
      }
    }
    const secret = `wf_${randomBytes(32).toString('base64url')}`
    const input: NewToken = {
      id: randomUUID(),
      secretHash: hashSecret(secret),
      label: body.label,
      kind: body.kind,
      owner,
      service,
      preset: body.preset ?? null,
      tlpCeiling: body.tlpCeiling ?? null,
      createdBy: caller.user,
      expiresAt,
    }
    const token = await credentials.createToken(input)
    res.status(201).json({ token, secret })
  })

  router.delete('/tokens/:id', async (req, res) => {
    const caller = callerOf(req)
    const id = String(req.params.id)
    const token = await credentials.getToken(id)
    const mine = token !== null && token.kind === 'api' && token.owner !== null && token.owner === caller.account
    if (!token || !(isAdmin(caller) || mine)) throw new WatchfloorError('not_found', `no token ${id}`)
    res.json({ token: await credentials.revokeToken(id) })
  })

  return router
}

/**
 * When a new token expires: what was asked for (a future time; null, never: admins only), else
 * WATCHFLOOR_TOKEN_TTL_DAYS from now for an API token and never for a display token (a wall runs
 * unattended). A non-admin's token expires within the TTL.
 */
function tokenExpiry(
  kind: 'api' | 'display',
  asked: string | null | undefined,
  admin: boolean,
  ttlDays: number,
): string | null {
  const now = Date.now()
  const limit = `within ${ttlDays} days (WATCHFLOOR_TOKEN_TTL_DAYS)`
  if (asked === undefined) return kind === 'display' ? null : new Date(now + ttlDays * DAY_MS).toISOString()
  if (asked === null) {
    if (!admin)
      throw new WatchfloorError(
        'forbidden',
        `only an admin may make a token that never expires: yours must expire ${limit}`,
      )
    return null
  }
  const at = Date.parse(asked)
  if (at <= now)
    throw new WatchfloorError('validation', 'expiresAt must be in the future', {
      issues: [{ path: 'expiresAt', message: 'must be in the future' }],
    })
  if (!admin && at > now + ttlDays * DAY_MS + CLOCK_LEEWAY_MS)
    throw new WatchfloorError('forbidden', `your token must expire ${limit}`)
  return new Date(at).toISOString()
}

/**
 * Accounts and tokens belong to an organisation of the directory: its nation, or a 400 naming the
 * field (`prefix` + organisation / nation) when the organisation is not there or the nation given
 * is not its own.
 */
function inDirectory(access: Access, organisation: string, nation: string | undefined, prefix: string): string {
  const entry = access.directory.organisation(organisation)
  if (!entry)
    throw new WatchfloorError('validation', `no organisation ${organisation} in the directory: add it first`, {
      issues: [{ path: `${prefix}organisation`, message: 'not in the directory' }],
    })
  if (nation !== undefined && nation !== entry.nation)
    throw new WatchfloorError('validation', `${organisation} is of ${entry.nation}, not ${nation}`, {
      issues: [{ path: `${prefix}nation`, message: `the organisation's nation is ${entry.nation}` }],
    })
  return entry.nation
}

function requireAdmin(caller: Caller): void {
  if (!isAdmin(caller)) throw new WatchfloorError('forbidden', 'this needs the admin role')
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

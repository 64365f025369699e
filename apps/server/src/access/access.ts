import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { reservedUserIdRefusal, viewAsRefusal, viewerKey } from '@watchfloor/core'
import {
  type RevokedReason,
  type Role,
  type Tlp,
  type Viewer,
  type ViewingAs,
  WatchfloorError,
} from '@watchfloor/protocol'
import { type Account, type CredentialStore, hashSecret, type TokenRecord } from '@watchfloor/store'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { readOnlyReason } from '../http/errors.ts'
import type { Directory } from './directory.ts'
import { LoginThrottle } from './loginThrottle.ts'
import { type Principal, type TokenRegistry, viewerOf } from './tokens.ts'

/** How a caller authenticated: a browser session, an API token, or a read-only display token. */
export type CallerKind = 'session' | 'api' | 'display'

/** What a caller presented, so that it can be checked again (and refused) later. */
export type Credential =
  | { type: 'static' }
  | { type: 'token'; id: string }
  | { type: 'session'; idHash: string; startedAt: string; expiresAt: string }

/** An authenticated caller of a request or socket. */
export interface Caller extends Principal {
  displayName: string
  kind: CallerKind
  /** The account behind the caller; null for static tokens and service principals. */
  account: string | null
  /** Display tokens: the console preset to show. */
  preset?: string
  /** Display tokens: the highest TLP the caller may receive [V9]. */
  tlpCeiling?: Tlp
  credential: Credential
  /** The communities its organisation belongs to, from the directory when it authenticated [V10]. */
  communities: readonly string[]
  /** Viewing as another audience [V11, A7]: read-only, it sees what both may see. */
  viewingAs?: ViewingAs
}

/** The header that asks to view as another audience: `organisation:<id>` or `community:<id>` [V11]. */
export const VIEW_AS_HEADER = 'x-watchfloor-view-as'

export const SESSION_COOKIE = 'watchfloor_session'

export interface AccessOptions {
  /** How long a session lasts from sign-in. */
  sessionTtlMs: number
  /**
   * Days an API token lasts when no `expiresAt` is asked for, and the furthest a non-admin
   * may ask for (WATCHFLOOR_TOKEN_TTL_DAYS).
   */
  tokenTtlDays: number
  /** Always mark the cookie Secure (behind a TLS-terminating proxy); it is Secure anyway on HTTPS requests. */
  cookieSecure: boolean
  throttle: { maxPerUsername: number; maxPerAddress: number; windowMs: number }
  /** log2 of scrypt's N for new password hashes (default 15). */
  passwordCost: number
}

/** A refusal that says why, so a live socket can be told the same. */
class Refused extends WatchfloorError {
  constructor(
    message: string,
    readonly reason: RevokedReason | null,
  ) {
    super('unauthenticated', message)
  }
}

/** A viewer as the directory says it reads [V10]: its organisation's nation and communities. */
function directoryViewer(
  directory: Directory,
  {
    user,
    organisation,
    nation,
    tlpCeiling,
  }: { user: string; organisation: string; nation: string; tlpCeiling?: Tlp | undefined },
): Viewer {
  return viewerOf({
    user,
    organisation,
    nation: directory.organisation(organisation)?.nation ?? nation,
    roles: [],
    sources: [],
    communities: directory.communitiesOf(organisation),
    tlpCeiling,
  })
}

/**
 * The users of enabled accounts and static tokens (`principals`) whom `named` says RED events name,
 * as the viewers their consoles read as (with the directory's nation and communities [V10]): their
 * pictures are their own, not their audience's [V5], and the server folds them ahead of a first
 * request too.
 */
export async function namedUsersOf(
  principals: readonly { user: string; organisation: string; nation: string }[],
  credentials: CredentialStore,
  directory: Directory,
  named: (user: string) => boolean,
): Promise<Viewer[]> {
  const accounts = (await credentials.listAccounts())
    .filter((account) => !account.disabled)
    .map((account) => ({ user: account.username, organisation: account.organisation, nation: account.nation }))
  const viewers = new Map<string, Viewer>()
  for (const who of [...principals, ...accounts]) {
    if (!named(who.user)) continue
    const viewer = directoryViewer(directory, who)
    viewers.set(viewerKey(viewer), viewer)
  }
  return [...viewers.values()]
}

/**
 * The audiences of everyone who may sign in now, as viewers with no user: one per organisation of
 * an enabled account, a static token (`principals`) or a token in force (a display token's with its
 * ceiling [V9]), with the directory's nation and communities [V10]; those with the most people
 * first. The server folds their pictures ahead of a first request, and a restore saves them.
 */
export async function audiencesOf(
  principals: readonly { organisation: string; nation: string; tlpCeiling?: Tlp }[],
  credentials: CredentialStore,
  directory: Directory,
): Promise<Viewer[]> {
  const now = Date.now()
  const accounts = (await credentials.listAccounts()).filter((account) => !account.disabled)
  const byUser = new Map(accounts.map((account) => [account.username, account]))
  const who: { organisation: string; nation: string; tlpCeiling?: Tlp }[] = [...principals, ...accounts]
  for (const token of await credentials.listTokens()) {
    if (token.revokedAt !== null || (token.expiresAt !== null && Date.parse(token.expiresAt) <= now)) continue
    const holder = token.owner !== null ? byUser.get(token.owner) : (token.service ?? undefined)
    if (holder === undefined) continue
    const ceiling = token.kind === 'display' && token.tlpCeiling !== null ? { tlpCeiling: token.tlpCeiling } : {}
    who.push({ organisation: holder.organisation, nation: holder.nation, ...ceiling })
  }
  const counted = new Map<string, { viewer: Viewer; people: number }>()
  for (const { organisation, nation, tlpCeiling } of who) {
    const viewer = directoryViewer(directory, { user: '', organisation, nation, tlpCeiling })
    const key = viewerKey(viewer)
    const entry = counted.get(key) ?? { viewer, people: 0 }
    entry.people++
    counted.set(key, entry)
  }
  return [...counted.values()].sort((a, b) => b.people - a.people).map((entry) => entry.viewer)
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const TOUCH_EVERY_MS = 60_000

/**
 * Authentication for REST and sockets: static tokens (WATCHFLOOR_TOKENS), API and
 * display tokens and browser sessions (the credential store). Every request and
 * socket handshake looks the credential up again, so a revocation holds at once.
 */
export class Access {
  readonly throttle: LoginThrottle
  private readonly touched = new Map<string, number>()

  constructor(
    readonly registry: TokenRegistry,
    readonly credentials: CredentialStore,
    readonly directory: Directory,
    readonly options: AccessOptions,
  ) {
    this.throttle = new LoginThrottle(options.throttle, credentials)
  }

  /**
   * The audiences of everyone who may sign in now (`audiencesOf`): what the server folds ahead of a
   * first request (`StateCache.prepare`).
   */
  audiences(): Promise<Viewer[]> {
    return audiencesOf(this.registry.principals(), this.credentials, this.directory)
  }

  /** The users who may sign in whom `named` says RED events name (`namedUsersOf`), folded ahead too. */
  namedUsers(named: (user: string) => boolean): Promise<Viewer[]> {
    return namedUsersOf(this.registry.principals(), this.credentials, this.directory, named)
  }

  /** The caller behind an `Authorization: Bearer` secret. */
  async fromToken(secret: string): Promise<Caller> {
    const known = this.registry.authenticate(secret)
    if (known) {
      const { token: _secret, ...principal } = known
      return this.inDirectory({
        ...principal,
        displayName: known.user,
        kind: 'api',
        account: null,
        credential: { type: 'static' },
      })
    }
    const token = await this.credentials.findToken(hashSecret(secret))
    if (!token) throw new Refused('unknown token', null)
    const caller = await this.callerOfToken(token)
    this.touch(token.id)
    return this.inDirectory(caller)
  }

  /** The caller behind a session id (the cookie's value). */
  async fromSession(id: string): Promise<Caller> {
    return this.inDirectory(await this.callerOfSession(hashSecret(id)))
  }

  /**
   * The caller as its credential says now, refused exactly as the door (`fromToken`, `fromSession`)
   * would refuse it now: a token revoked or expired, a session ended or expired, an account
   * disabled since (401, the same message). Its roles, organisation and display name are read
   * again, and the directory's nation and communities [V10]; the audience it views as is kept
   * [V11]. A static token holds until the server restarts with another file.
   *
   * Every route that changes anything asks here once the request's body has been read, just before
   * it writes (`recheckCaller`, the events lane, TAXII's Add Objects), and a command inside the
   * command lock (write/commands.ts): a request whose headers passed the door while its body was
   * still coming, or that waited for the lock, writes nothing once its credential no longer holds.
   */
  async current(caller: Caller): Promise<Caller> {
    const found = await this.callerNow(caller)
    return this.inDirectory(caller.viewingAs === undefined ? found : { ...found, viewingAs: caller.viewingAs })
  }

  /** `current` before the directory: the caller its credential gives now, or the door's refusal. */
  private async callerNow(caller: Caller): Promise<Omit<Caller, 'communities'>> {
    const { credential } = caller
    if (credential.type === 'static') return caller
    if (credential.type === 'session') return this.callerOfSession(credential.idHash)
    return this.callerOfToken(await this.credentials.getToken(credential.id))
  }

  private async callerOfSession(idHash: string): Promise<Omit<Caller, 'communities'>> {
    const session = await this.credentials.findSession(idHash)
    if (!session) throw new Refused('unknown or ended session', 'session_ended')
    if (Date.parse(session.expiresAt) <= Date.now()) {
      await this.credentials.deleteSession(idHash).catch(() => false)
      throw new Refused('session expired', 'session_expired')
    }
    const account = await this.activeAccount(session.account)
    return {
      ...principalOfAccount(account),
      kind: 'session',
      credential: { type: 'session', idHash, startedAt: session.createdAt, expiresAt: session.expiresAt },
    }
  }

  /**
   * The caller as the directory says now: its organisation's nation and communities [V10] (an
   * organisation's people are of its nation, whatever their account or token was made with), and
   * the audience it views as, if any [V11].
   */
  inDirectory(caller: Omit<Caller, 'communities'>): Caller {
    const nation = this.directory.organisation(caller.organisation)?.nation ?? caller.nation
    const found: Caller = { ...caller, nation, communities: this.directory.communitiesOf(caller.organisation) }
    if (caller.viewingAs === undefined) return found
    const as = this.audience(found, caller.viewingAs.kind, caller.viewingAs.id)
    return as === undefined ? { ...found, viewingAs: { kind: 'community', id: '' } } : { ...found, viewingAs: as }
  }

  /**
   * The caller viewing as the audience `asked` names (`organisation:<id>`, `community:<id>`) [V11]:
   * a coordinator or an admin only [A7]. An audience the caller may not know of [A8] is `not_found`
   * exactly like one that is not in the directory: same status, same message.
   */
  viewingAs(caller: Caller, asked: string): Caller {
    const refusal = viewAsRefusal({ ...caller, readOnly: caller.kind === 'display' })
    if (refusal) throw new WatchfloorError(refusal.code, refusal.message, { rule: refusal.rule })
    const match = /^(organisation|community):(.+)$/s.exec(asked)
    if (!match)
      throw new WatchfloorError('validation', 'view as organisation:<id> or community:<id>', {
        issues: [{ path: VIEW_AS_HEADER, message: 'expected organisation:<id> or community:<id>' }],
      })
    const [, kind, id] = match as unknown as [string, ViewingAs['kind'], string]
    const viewingAs = this.audience(caller, kind, id)
    if (viewingAs === undefined) throw new WatchfloorError('not_found', `no ${kind} ${id} that you may view as`)
    return { ...caller, viewingAs }
  }

  /**
   * An audience as a view by `caller` reads it [V11], from what the caller may know of the
   * directory [A8]: any organisation, counting only the communities the caller knows (so no view
   * tells who is in another); a community the caller knows. Undefined: none it may view as.
   */
  private audience(caller: Caller, kind: ViewingAs['kind'], id: string): ViewingAs | undefined {
    if (kind === 'organisation') {
      const entry = this.directory.organisation(id)
      if (entry === undefined) return undefined
      const communities = this.directory.communitiesOf(id).filter((community) => knowsCommunity(caller, community))
      return { kind, id, nation: entry.nation, communities }
    }
    return this.directory.community(id) && knowsCommunity(caller, id) ? { kind, id } : undefined
  }

  /** A request's caller: a bearer token if given, else the session cookie. */
  async fromRequest(req: Pick<IncomingMessage, 'headers'>): Promise<Caller> {
    const header = req.headers.authorization
    if (header !== undefined) {
      const match = header.match(/^Bearer\s+(\S+)\s*$/i)
      if (!match) throw new WatchfloorError('unauthenticated', 'the Authorization header must be: Bearer <token>')
      return this.fromToken(match[1]!)
    }
    const session = sessionIdOf(req.headers)
    if (session) return this.fromSession(session)
    throw new WatchfloorError(
      'unauthenticated',
      'sign in (POST /api/v1/session) or send an API token: Authorization: Bearer <token>',
    )
  }

  /**
   * A socket handshake's caller: `auth: { token }`, else the session cookie of the
   * upgrade request (only from a page of this origin).
   */
  async fromHandshake(handshake: {
    auth: Record<string, unknown> | undefined
    headers: IncomingHttpHeaders
  }): Promise<Caller> {
    const caller = await this.handshakeCaller(handshake)
    // `auth: { viewAs: 'organisation:<id>' }`: a read-only socket of what both may see [V11, A7]
    const asked = handshake.auth?.viewAs
    if (asked === undefined || asked === null || asked === '') return caller
    return this.viewingAs(caller, typeof asked === 'string' ? asked.trim() : '?')
  }

  private async handshakeCaller(handshake: {
    auth: Record<string, unknown> | undefined
    headers: IncomingHttpHeaders
  }): Promise<Caller> {
    const token = handshake.auth?.token
    if (typeof token === 'string' && token !== '') return this.fromToken(token)
    const session = sessionIdOf(handshake.headers)
    if (!session) throw new WatchfloorError('unauthenticated', 'no token and no session')
    const { origin, host } = handshake.headers
    if (origin !== undefined && originHost(origin) !== host)
      throw new WatchfloorError('unauthenticated', 'a session cookie is only accepted from this origin')
    return this.fromSession(session)
  }

  /**
   * Does the caller's credential still hold? Null when it does; else why not (a token
   * that expired since the socket connected: `token_expired`).
   * Throws when the store cannot tell (the caller keeps its access meanwhile).
   */
  async recheck(caller: Caller): Promise<RevokedReason | null> {
    const { credential } = caller
    if (credential.type === 'static') return null
    try {
      // a disabled account's socket is told so, though disabling ended its sessions too
      if (credential.type === 'session' && caller.account) await this.activeAccount(caller.account)
      await this.callerNow(caller)
      return null
    } catch (error) {
      if (error instanceof Refused) return error.reason ?? 'token_revoked'
      throw error
    }
  }

  /** Set the session cookie on a response. */
  setSessionCookie(req: Request, res: Response, id: string): void {
    res.append('Set-Cookie', this.cookie(req, id, Math.floor(this.options.sessionTtlMs / 1000)))
  }

  /** Tell the browser to forget the session cookie. */
  clearSessionCookie(req: Request, res: Response): void {
    res.append('Set-Cookie', this.cookie(req, '', 0))
  }

  private cookie(req: Request, value: string, maxAge: number): string {
    const secure = this.options.cookieSecure || req.secure
    return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`
  }

  private async callerOfToken(stored: TokenRecord | null): Promise<Omit<Caller, 'communities'>> {
    const token = tokenInForce(stored)
    const display = token.kind === 'display'
    const extra = {
      kind: token.kind,
      credential: { type: 'token', id: token.id },
      ...(display && token.preset !== null ? { preset: token.preset } : {}),
      ...(display && token.tlpCeiling !== null ? { tlpCeiling: token.tlpCeiling } : {}),
    } as const
    if (token.owner !== null) return { ...principalOfAccount(await this.activeAccount(token.owner)), ...extra }
    const service = token.service!
    return {
      user: service.user,
      organisation: service.organisation,
      nation: service.nation,
      roles: service.roles,
      sources: service.sources,
      displayName: token.label,
      account: null,
      ...extra,
    }
  }

  private async activeAccount(username: string): Promise<Account> {
    return accountInForce(await this.credentials.getAccount(username))
  }

  /** Record a token's last use, at most once a minute per token per process. */
  private touch(id: string): void {
    const now = Date.now()
    if (now - (this.touched.get(id) ?? 0) < TOUCH_EVERY_MS) return
    this.touched.set(id, now)
    if (this.touched.size > 10_000) this.touched.delete(this.touched.keys().next().value!)
    this.credentials.touchToken(id, new Date(now)).catch(() => {})
  }
}

/**
 * A stored token as the door reads it: refused (401, saying why) when there is none, it was
 * revoked or has expired, or its service identity has a partner feed's user id [A9]. `Access` asks here for every request, and so does `issueToken` for the
 * token that makes a token.
 */
export function tokenInForce(token: TokenRecord | null): TokenRecord {
  if (!token) throw new Refused('unknown token', null)
  if (token.revokedAt !== null) throw new Refused('token revoked', 'token_revoked')
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= Date.now())
    throw new Refused('token expired', 'token_expired')
  // [A9] a service identity given a partner feed's user id before the prefix was reserved would post
  // as that feed, in its namespace: it no longer passes the door (the start warns of it by name)
  if (token.service !== null && reservedUserIdRefusal(token.service.user) !== undefined)
    throw new Refused(
      `token refused: its user id ${token.service.user} is a partner feed's (A9); ask an admin for a token with another user id`,
      'token_revoked',
    )
  return token
}

/** An account as the door reads it: refused (401 `account disabled`) when it is disabled or gone. */
export function accountInForce(account: Account | null): Account {
  if (!account || account.disabled) throw new Refused('account disabled', 'account_disabled')
  return account
}

function principalOfAccount(account: Account): Omit<Caller, 'kind' | 'credential' | 'communities'> {
  return {
    user: account.username,
    displayName: account.displayName,
    organisation: account.organisation,
    nation: account.nation,
    roles: account.roles,
    sources: [],
    account: account.username,
  }
}

/**
 * The session id from a Cookie header, if any: the first non-empty value of the session cookie (a
 * cleared one, `watchfloor_session=`, that a browser still sends beside the live one is skipped).
 */
export function sessionIdOf(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.cookie
  if (!header) return undefined
  for (const part of header.split(';')) {
    const separator = part.indexOf('=')
    if (separator < 0 || part.slice(0, separator).trim() !== SESSION_COOKIE) continue
    const value = part.slice(separator + 1).trim()
    if (value !== '') return value
  }
  return undefined
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host
  } catch {
    return undefined
  }
}

export function isAdmin(caller: Pick<Caller, 'kind' | 'roles'>): boolean {
  return caller.kind !== 'display' && caller.roles.includes('admin' satisfies Role)
}

/**
 * [A8] What a caller may know of the directory, on every path out (`GET /api/v1/directory`, views
 * as another audience, TAXII collections, imports): every organisation; every community for an
 * admin, for anyone else the communities its own organisation belongs to (their members too). A
 * community it may not know is answered exactly like one that does not exist.
 */
export function knowsCommunity(caller: Pick<Caller, 'kind' | 'roles' | 'communities'>, community: string): boolean {
  return isAdmin(caller) || caller.communities.includes(community)
}

/** Each request's caller, and the `Access` that found it (to check it again: `recheckCaller`). */
const callers = new WeakMap<Request, { caller: Caller; access: Access }>()

/** The caller of a request that passed `authenticate` (checked again by `recheckCaller`, when it was). */
export function callerOf(req: Request): Caller {
  const found = callers.get(req)
  if (!found) throw new WatchfloorError('unauthenticated', 'not signed in')
  return found.caller
}

/**
 * Every API route after this needs a caller (`requestCaller`), which `callerOf` then gives.
 */
export function authenticate(access: Access): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    callers.set(req, { caller: await requestCaller(access, req), access })
    next()
  }
}

/**
 * Every route that changes anything, right after its body parser: the caller checked again
 * (`Access.current`), now that the body has been read, so that a token revoked or an account
 * disabled or changed while the body was coming writes nothing (401 exactly as the door would
 * answer now; the roles as they are now). `callerOf` then gives the caller as it is now.
 */
export async function recheckCaller(req: Request, _res: Response, next: NextFunction): Promise<void> {
  const found = callers.get(req)
  if (!found) throw new WatchfloorError('unauthenticated', 'not signed in')
  found.caller = await found.access.current(found.caller)
  next()
}

/**
 * The caller of an API request, or the refusal: its credential (`Access.fromRequest`) and a view
 * as another audience it asks for. Display tokens are read-only [A1], and so is a view as
 * another audience [A7]; a browser session changing anything must send
 * `Content-Type: application/json`, which a cross-site form cannot (CSRF). `authenticate` and the
 * events lane (http/eventsLane.ts) both ask here.
 */
export async function requestCaller(access: Access, req: IncomingMessage): Promise<Caller> {
  let caller = await access.fromRequest(req)
  const asked = req.headers[VIEW_AS_HEADER]
  if (typeof asked === 'string' && asked !== '') caller = access.viewingAs(caller, asked.trim())
  if (!SAFE_METHODS.has(req.method ?? '')) {
    const readOnly = readOnlyReason(caller) // [A1, A7]
    if (readOnly) throw readOnly
    if (caller.kind === 'session' && !sendsJson(req))
      throw new WatchfloorError(
        'forbidden',
        'a request signed in by session cookie that changes anything must send Content-Type: application/json',
      )
  }
  return caller
}

function sendsJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type']
  return typeof type === 'string' && type.split(';')[0]!.trim().toLowerCase() === 'application/json'
}

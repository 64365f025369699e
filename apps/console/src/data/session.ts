/**
 * Sign-in and sign-out. Two ways in: a username and password (the server sets the HttpOnly
 * session cookie; the console never sees a secret), or an API token pasted or opened from a
 * `#token=` link (kept for the tab in sessionStorage). On load a cookie session is resumed with
 * `GET /api/v1/session`. Every REST call of the console takes its headers from `apiHeaders()`.
 *
 * Viewing as another audience (data/viewAs.ts) is a different viewer of the same credential:
 * `setViewAs` asks the server first (`GET /api/v1/session` with the header: it refuses anyone
 * but a coordinator or an admin [A7], and an audience not in the directory), then puts the
 * session it answers (with `viewingAs`) in the store and connects again with `auth.viewAs`, so
 * the picture starts again from empty. A link's `?viewAs=` is asked for at sign-in.
 */
import { type ErrorBody, errorBodyOf, SessionReply } from '@watchfloor/protocol'
import { connect, disconnect } from './connection.ts'
import { type Session, watchfloor } from './store.ts'
import { clearToken, saveToken } from './token.ts'
import { sameViewAs, type ViewAs, viewAsFromSearch, viewAsValue, withViewAs } from './viewAs.ts'

export type SessionResult = { ok: true; session: Session } | { ok: false; status: number; message: string }

/** `Retry-After` seconds as words: "45 s", "3 min". */
export function formatRetryAfter(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`
  return `${Math.ceil(seconds / 60)} min`
}

function retryAfterSeconds(response: Response, error: ErrorBody | undefined): number | undefined {
  const header = Number(response.headers.get('Retry-After'))
  if (Number.isFinite(header) && header > 0) return header
  const retryAfter = (error?.details as { retryAfter?: unknown } | undefined)?.retryAfter
  return typeof retryAfter === 'number' ? retryAfter : undefined
}

async function readSession(response: Response, what: 'token' | 'password' | 'resume'): Promise<SessionResult> {
  const body: unknown = await response.json().catch(() => undefined)
  const error = response.ok ? undefined : errorBodyOf(body)
  const detail = error?.message
  if (error?.code === 'unauthenticated') {
    const message =
      what === 'token'
        ? `Sign-in failed: the token was not accepted${detail ? ` (${detail})` : ''}.`
        : what === 'password'
          ? `Sign-in failed: ${detail ?? 'wrong username or password'}.`
          : `Not signed in${detail ? ` (${detail})` : ''}.`
    return { ok: false, status: 401, message }
  }
  if (error?.code === 'too_many_requests') {
    const wait = retryAfterSeconds(response, error)
    return {
      ok: false,
      status: 429,
      message: `Too many failed sign-ins: sign-in is paused${wait ? `; try again in ${formatRetryAfter(wait)}` : ''}.`,
    }
  }
  if (!response.ok) {
    return {
      ok: false,
      status: response.status,
      message: `Sign-in failed: server answered ${response.status}${detail ? ` (${detail})` : ''}.`,
    }
  }
  const session = SessionReply.safeParse(body)
  if (!session.success) return { ok: false, status: response.status, message: 'Sign-in failed: unexpected answer.' }
  return { ok: true, session: session.data }
}

function unreachable(error: unknown): SessionResult {
  return { ok: false, status: 0, message: `Cannot reach the server (${String(error)}).` }
}

/** `GET /api/v1/session` with the token, or with the session cookie when `token` is null. */
export async function fetchSession(token: string | null, fetchFn: typeof fetch = fetch): Promise<SessionResult> {
  try {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (token !== null) headers.Authorization = `Bearer ${token}`
    const response = await fetchFn('/api/v1/session', { headers, credentials: 'same-origin' })
    return await readSession(response, token === null ? 'resume' : 'token')
  } catch (error) {
    return unreachable(error)
  }
}

/**
 * `GET /api/v1/session` as `viewAs` (null: as myself): the session the server answers, with
 * `viewingAs`. A refusal names the audience and says why in the server's words ("Cannot view as
 * organisation cert-xx: 404 no organisation cert-xx in the directory"); 401 is the credential's.
 */
export async function fetchSessionAs(
  token: string | null,
  viewAs: ViewAs | null,
  fetchFn: typeof fetch = fetch,
): Promise<SessionResult> {
  try {
    const headers = withViewAs(
      token === null
        ? { Accept: 'application/json' }
        : { Accept: 'application/json', Authorization: `Bearer ${token}` },
      viewAs,
    )
    const response = await fetchFn('/api/v1/session', { headers, credentials: 'same-origin' })
    if (response.status === 401 || response.ok || viewAs === null)
      return await readSession(response, token === null ? 'resume' : 'token')
    const error = errorBodyOf(await response.json().catch(() => undefined))
    return {
      ok: false,
      status: response.status,
      message: `Cannot view as ${viewAs.kind} ${viewAs.id}: ${response.status} ${error?.message ?? 'refused'}.`,
    }
  } catch (error) {
    return unreachable(error)
  }
}

/** `POST /api/v1/session`: username and password; the server answers with the cookie and who I am. */
export async function postPassword(
  username: string,
  password: string,
  fetchFn: typeof fetch = fetch,
): Promise<SessionResult> {
  try {
    const response = await fetchFn('/api/v1/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ username, password }),
    })
    return await readSession(response, 'password')
  } catch (error) {
    return unreachable(error)
  }
}

// ---------------------------------------------------------------- the signed-in console

const STARTED_KEY = 'watchfloor.sessionStartedAt'

function tabStorage(): Storage | undefined {
  try {
    return globalThis.sessionStorage
  } catch {
    return undefined
  }
}

export interface SessionDeps {
  fetchFn?: typeof fetch
  connect?: (token: string | null) => void
  disconnect?: () => void
  store?: typeof watchfloor
  saveToken?: (token: string) => void
  clearToken?: () => void
  now?: () => number
  /** Where a display token goes: the wall (`/wall`), the only thing it may show. */
  openWall?: () => void
  /** The audience to view as once signed in (a link's `?viewAs=`); none by default. */
  viewAs?: ViewAs | null
}

/** The console's sign-in state machine; the app uses the default instance below, tests make their own. */
export function createSessions(deps: SessionDeps = {}) {
  const fetchFn = (...args: Parameters<typeof fetch>) => (deps.fetchFn ?? fetch)(...args)
  const doConnect: (token: string | null, viewAs?: string | null) => void = deps.connect ?? connect
  const doDisconnect = deps.disconnect ?? disconnect
  const store = deps.store ?? watchfloor
  const keepToken = deps.saveToken ?? saveToken
  const dropToken = deps.clearToken ?? clearToken
  const now = deps.now ?? Date.now

  /** The token the console signed in with; null: the session cookie. */
  let token: string | null = null
  let startedAt = 0
  /** Whether `startedAt` is the server's (a browser session's sign-in) or this machine's (a token's first use here). */
  let startedOnServer = false
  let attempt = 0
  /** Bumped by every view-as switch (and every sign-in or sign-out): a late answer is dropped. */
  let switching = 0
  /** The audience asked for: applied at sign-in, and by `setViewAs` while signed in. */
  let wanted: ViewAs | null = deps.viewAs ?? null

  /** Connect as the session says: as myself, or as the audience it views as. */
  function connectAs(session: Session): void {
    if (session.viewingAs) doConnect(token, viewAsValue(session.viewingAs))
    else doConnect(token)
  }

  /**
   * The start of the session: a browser session's sign-in, as the server says it; with a token, a
   * reload keeps the same person's start in this tab, and a new sign-in starts a new one. With an
   * audience asked for (a link's `?viewAs=`), the server is asked first, so the
   * picture of the audience is the first one shown; refused, the console opens as myself and says why.
   */
  async function start(session: Session, withToken: string | null, fresh: boolean, mine: number): Promise<boolean> {
    let shown = session
    if (wanted !== null) {
      const as = await fetchSessionAs(withToken, wanted, fetchFn)
      if (mine !== attempt) return false
      if (as.ok) {
        shown = as.session
        store.getState().setViewAsError(null)
      } else if (as.status === 401) {
        if (withToken !== null) dropToken()
        fail(as.message)
        return false
      } else {
        wanted = null
        store.getState().setViewAsError(as.message)
      }
    }
    switching++
    token = withToken
    const [user, ms] = (tabStorage()?.getItem(STARTED_KEY) ?? '').split('|')
    const stored = Number(ms)
    // a browser session says when it was signed in (in any tab, after the browser reopened); a token
    // has no sign-in, so the tab keeps when it started
    const signedIn = session.startedAt === undefined ? Number.NaN : Date.parse(session.startedAt)
    startedOnServer = Number.isFinite(signedIn)
    startedAt = Number.isFinite(signedIn)
      ? signedIn
      : !fresh && user === session.user && Number.isFinite(stored) && stored > 0
        ? stored
        : now()
    tabStorage()?.setItem(STARTED_KEY, `${session.user}|${startedAt}`)
    store.getState().setSession(shown)
    connectAs(shown)
    return true
  }

  function fail(message: string): void {
    doDisconnect()
    store.getState().reset(message)
  }

  return {
    /** Validate a token; on success keep it for this tab and connect. Returns the error message, if any. */
    async signIn(rawToken: string): Promise<string | null> {
      const trimmed = rawToken.trim()
      if (!trimmed) {
        store.getState().setError('Paste an API token first.')
        return 'Paste an API token first.'
      }
      const mine = ++attempt
      const result = await fetchSession(trimmed, fetchFn)
      if (mine !== attempt) return null // a newer sign-in or a sign-out happened meanwhile
      if (!result.ok) {
        if (result.status === 401) dropToken()
        fail(result.message)
        return result.message
      }
      keepToken(trimmed)
      if (result.session.kind === 'display') {
        // a wall's read-only token: show the wall (it reads the token kept for this tab)
        ;(deps.openWall ?? (() => window.location.replace('/wall')))()
        return null
      }
      await start(result.session, trimmed, false, mine)
      return null
    },

    /** Username and password: the server sets the session cookie; the socket then uses it. */
    async signInWithPassword(username: string, password: string): Promise<string | null> {
      if (!username.trim() || !password) {
        const message = 'Enter your username and password.'
        store.getState().setError(message)
        return message
      }
      const mine = ++attempt
      const result = await postPassword(username.trim(), password, fetchFn)
      if (mine !== attempt) return null
      if (!result.ok) {
        fail(result.message)
        return result.message
      }
      dropToken() // the cookie is the credential now
      await start(result.session, null, true, mine)
      return null
    },

    /** On load: a session cookie from earlier in this browser? Resume it quietly; nothing shown when there is none. */
    async resume(): Promise<boolean> {
      const mine = ++attempt
      const result = await fetchSession(null, fetchFn)
      if (mine !== attempt) return false
      if (!result.ok) {
        // 401 is the normal "not signed in"; anything else is worth saying
        if (result.status !== 401) store.getState().setError(result.message)
        return false
      }
      if (result.session.kind === 'display') return false
      return start(result.session, null, false, mine)
    },

    /** Sign out: forget the token, end the cookie session on the server, empty the picture. */
    async signOut(): Promise<void> {
      attempt++
      switching++
      wanted = null
      const cookie = token === null && store.getState().session?.kind === 'session'
      token = null
      startedAt = 0
      tabStorage()?.removeItem(STARTED_KEY)
      dropToken()
      doDisconnect()
      store.getState().reset()
      if (cookie) {
        await fetchFn('/api/v1/session', {
          method: 'DELETE',
          headers: { 'Content-Type': 'application/json' },
          credentials: 'same-origin',
        }).catch(() => undefined)
      }
    },

    /**
     * View as `target` (null: stop, as myself again). Signed out: remembered for the next sign-in.
     * Signed in: the server is asked (`GET /api/v1/session` with the header); once it agrees, the
     * session it answers goes to the store and the socket connects again as that viewer, from an
     * empty picture. Resolves with the refusal's message (nothing changed then), or null.
     */
    async setViewAs(target: ViewAs | null): Promise<string | null> {
      const current = store.getState().session
      if (current === null) {
        wanted = target
        return null
      }
      if (sameViewAs(current.viewingAs ?? null, target)) {
        wanted = target
        store.getState().setViewAsError(null)
        return null
      }
      const mine = ++switching
      const signedIn = attempt
      const result = await fetchSessionAs(token, target, fetchFn)
      if (mine !== switching || signedIn !== attempt) return null // another switch, sign-in or sign-out meanwhile
      if (!result.ok) {
        if (result.status === 401) {
          if (token !== null) dropToken()
          attempt++
          fail(result.message)
          return result.message
        }
        store.getState().setViewAsError(result.message)
        return result.message
      }
      wanted = target
      // a new viewer: the old socket goes, the session the server answered is shown, the picture starts again
      doDisconnect()
      store.getState().setViewAsError(null)
      store.getState().setSession(result.session)
      connectAs(result.session)
      return null
    },

    /** The audience asked for (applied once signed in), or null. */
    viewAs(): ViewAs | null {
      return wanted
    },

    /** Headers for the console's REST calls: the bearer token, or nothing (the cookie goes by itself). */
    headers(extra: Record<string, string> = {}): Record<string, string> {
      return token === null ? { ...extra } : { ...extra, Authorization: `Bearer ${token}` }
    },

    /** When this console session started (epoch ms; 0 when signed out). */
    startedAt(): number {
      return startedAt
    },

    /**
     * When this console session started on the server's clock (0 when signed out): a browser
     * session's sign-in as the server said it; a token's start, kept by this machine, moved by
     * `clockOffsetMs` (the server's clock less this one's). So it compares with the server's now.
     */
    startedAtOnServerClock(clockOffsetMs: number): number {
      if (startedAt === 0) return 0
      return startedOnServer ? startedAt : startedAt + clockOffsetMs
    },
  }
}

export type Sessions = ReturnType<typeof createSessions>

export const sessions = createSessions({
  viewAs: typeof window === 'undefined' ? null : viewAsFromSearch(window.location.search),
})
export const signIn = (token: string): Promise<string | null> => sessions.signIn(token)
export const signInWithPassword = (username: string, password: string): Promise<string | null> =>
  sessions.signInWithPassword(username, password)
export const resumeSession = (): Promise<boolean> => sessions.resume()
export const signOut = (): void => void sessions.signOut()
/** View as an audience (null: stop); resolves with the refusal's message, or null. */
export const setViewAs = (target: ViewAs | null): Promise<string | null> => sessions.setViewAs(target)
/** Headers for a REST call of the signed-in console (JSON bodies: pass `Content-Type`). */
export const apiHeaders = (extra?: Record<string, string>): Record<string, string> => sessions.headers(extra)
export const sessionStartedAt = (): number => sessions.startedAt()
/** When this console session started, on the server's clock (`startedAtOnServerClock`). */
export const sessionStartedOnServerClock = (clockOffsetMs: number): number =>
  sessions.startedAtOnServerClock(clockOffsetMs)

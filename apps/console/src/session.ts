/** Sign-in and sign-out: validate a token with the server, keep it for the tab, drive the connection. */
import { connect, disconnect } from './connection.ts'
import { type Session, watchfloor } from './store.ts'
import { clearToken, saveToken } from './token.ts'

export type SessionResult = { ok: true; session: Session } | { ok: false; status: number; message: string }

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v.user === 'string' &&
    typeof v.organisation === 'string' &&
    typeof v.nation === 'string' &&
    Array.isArray(v.roles) &&
    v.roles.every((r) => typeof r === 'string')
  )
}

function errorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const error = (body as { error?: unknown }).error
  if (typeof error !== 'object' || error === null) return undefined
  const message = (error as { message?: unknown }).message
  return typeof message === 'string' ? message : undefined
}

/** `GET /api/v1/session` with the token. */
export async function fetchSession(token: string, fetchFn: typeof fetch = fetch): Promise<SessionResult> {
  let response: Response
  try {
    response = await fetchFn('/api/v1/session', {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    })
  } catch (error) {
    return { ok: false, status: 0, message: `Cannot reach the server (${String(error)}).` }
  }
  const body: unknown = await response.json().catch(() => undefined)
  if (response.status === 401) {
    const detail = errorMessage(body)
    return {
      ok: false,
      status: 401,
      message: `Sign-in failed: the token was not accepted${detail ? ` (${detail})` : ''}.`,
    }
  }
  if (!response.ok) {
    return {
      ok: false,
      status: response.status,
      message: `Sign-in failed: server answered ${response.status}${errorMessage(body) ? ` (${errorMessage(body)})` : ''}.`,
    }
  }
  if (!isSession(body)) return { ok: false, status: response.status, message: 'Sign-in failed: unexpected answer.' }
  return { ok: true, session: { ...body, roles: [...body.roles] } }
}

let attempt = 0

/** Validate the token; on success keep it for this tab and connect. Returns the error message, if any. */
export async function signIn(token: string): Promise<string | null> {
  const trimmed = token.trim()
  if (!trimmed) {
    watchfloor.getState().setError('Paste an API token first.')
    return 'Paste an API token first.'
  }
  const mine = ++attempt
  const result = await fetchSession(trimmed)
  if (mine !== attempt) return null // a newer sign-in or a sign-out happened meanwhile
  if (!result.ok) {
    if (result.status === 401) clearToken()
    disconnect()
    watchfloor.getState().reset(result.message)
    return result.message
  }
  saveToken(trimmed)
  watchfloor.getState().setSession(result.session)
  connect(trimmed)
  return null
}

export function signOut(): void {
  attempt++
  clearToken()
  disconnect()
  watchfloor.getState().reset()
}

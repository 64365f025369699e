/** Where the API token lives: sessionStorage only (gone when the tab closes). No DOM use at import time. */
export const TOKEN_KEY = 'watchfloor.token'

function storage(): Storage | undefined {
  try {
    return globalThis.sessionStorage
  } catch {
    return undefined // storage disabled
  }
}

export function loadToken(): string | null {
  return storage()?.getItem(TOKEN_KEY) ?? null
}

export function saveToken(token: string): void {
  storage()?.setItem(TOKEN_KEY, token)
}

export function clearToken(): void {
  storage()?.removeItem(TOKEN_KEY)
}

/** The token in a `#token=...` fragment, if any. */
export function tokenFromHash(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token')?.trim()
  return token ? token : null
}

/**
 * On load: a `#token=...` link wins; it is moved into sessionStorage and removed
 * from the address bar (and history) so it is not left lying around.
 */
export function takeTokenFromLocation(): string | null {
  const token = tokenFromHash(window.location.hash)
  if (token) {
    saveToken(token)
    const params = new URLSearchParams(window.location.hash.replace(/^#/, ''))
    params.delete('token')
    const rest = params.toString()
    window.history.replaceState(
      window.history.state,
      '',
      `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ''}`,
    )
  }
  return loadToken()
}

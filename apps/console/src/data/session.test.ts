import { describe, expect, it, vi } from 'vitest'
import { createSessions, fetchSession, formatRetryAfter, postPassword, type SessionDeps } from './session.ts'
import { createWatchfloorStore } from './store.ts'

const who = {
  user: 'kadri',
  displayName: 'Kadri Tamm',
  organisation: 'cert-ee',
  nation: 'EE',
  roles: ['watch_officer'],
  kind: 'session',
  expiresAt: '2026-11-26T20:00:00.000Z',
}
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers })

function setup(answer: (url: string, init: RequestInit) => Response, extra: Partial<SessionDeps> = {}) {
  const store = createWatchfloorStore()
  const calls: { url: string; init: RequestInit }[] = []
  const connect = vi.fn()
  const disconnect = vi.fn()
  const openWall = vi.fn()
  const fetchFn = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} })
    return answer(String(url), init ?? {})
  }) as unknown as typeof fetch
  const sessions = createSessions({
    fetchFn,
    connect,
    disconnect,
    store,
    saveToken: vi.fn(),
    clearToken: vi.fn(),
    now: () => 1_000,
    openWall,
    ...extra,
  })
  return { store, calls, connect, disconnect, sessions, openWall }
}

describe('a display token in the console', () => {
  it('goes to the wall instead of opening the console', async () => {
    const { store, connect, sessions, openWall } = setup(() =>
      json(200, { ...who, kind: 'display', preset: 'overview', tlpCeiling: 'AMBER' }),
    )
    expect(await sessions.signIn('wf_display')).toBeNull()
    expect(openWall).toHaveBeenCalledOnce()
    expect(connect).not.toHaveBeenCalled()
    expect(store.getState().session).toBeNull()
  })
})

describe('session resume (cookie)', () => {
  it('resumes a cookie session on load: no token, who I am in the store, the socket on the cookie', async () => {
    const { store, calls, connect, sessions } = setup(() => json(200, who))
    expect(await sessions.resume()).toBe(true)
    expect(calls[0]!.url).toBe('/api/v1/session')
    expect(calls[0]!.init.headers).not.toHaveProperty('Authorization')
    expect(store.getState().session).toMatchObject({ user: 'kadri', displayName: 'Kadri Tamm', kind: 'session' })
    expect(connect).toHaveBeenCalledWith(null)
    expect(sessions.headers()).toEqual({}) // REST calls go on the cookie
    expect(sessions.startedAt()).toBe(1_000)
  })

  it('a session says when it was signed in: its start is that, in a new tab too, not when the tab opened', async () => {
    const { sessions } = setup(() => json(200, { ...who, startedAt: '2026-12-08T01:30:00.000Z' }))
    expect(await sessions.resume()).toBe(true)
    expect(sessions.startedAt()).toBe(Date.parse('2026-12-08T01:30:00.000Z'))
    // already on the server's clock: a workstation an hour fast moves it nowhere
    expect(sessions.startedAtOnServerClock(-3_600_000)).toBe(Date.parse('2026-12-08T01:30:00.000Z'))
  })

  it("a session without a sign-in time (a token's) started on this machine's clock: moved onto the server's", async () => {
    const { sessions } = setup(() => json(200, who))
    expect(await sessions.resume()).toBe(true)
    expect(sessions.startedAt()).toBe(1_000)
    expect(sessions.startedAtOnServerClock(-600)).toBe(400)
    expect(sessions.startedAtOnServerClock(0)).toBe(1_000)
  })

  it('without a session shows the sign-in quietly (401 is not an error)', async () => {
    const { store, connect, sessions } = setup(() =>
      json(401, { error: { code: 'unauthenticated', message: 'no credential' } }),
    )
    expect(await sessions.resume()).toBe(false)
    expect(store.getState().session).toBeNull()
    expect(store.getState().error).toBeNull()
    expect(connect).not.toHaveBeenCalled()
  })

  it('says so when the server cannot be reached', async () => {
    const { store, sessions } = setup(() => {
      throw new TypeError('failed to fetch')
    })
    expect(await sessions.resume()).toBe(false)
    expect(store.getState().error).toMatch(/Cannot reach the server/)
  })
})

describe('password sign-in', () => {
  it('posts JSON, then connects on the cookie', async () => {
    const { store, calls, connect, sessions } = setup(() => json(200, who))
    expect(await sessions.signInWithPassword(' kadri ', 'correct horse battery')).toBeNull()
    expect(calls[0]!.init.method).toBe('POST')
    expect(calls[0]!.init.headers).toMatchObject({ 'Content-Type': 'application/json' })
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({ username: 'kadri', password: 'correct horse battery' })
    expect(store.getState().session?.user).toBe('kadri')
    expect(connect).toHaveBeenCalledWith(null)
  })

  it('401 and 429 are said clearly', async () => {
    const wrong = setup(() => json(401, { error: { code: 'unauthenticated', message: 'wrong username or password' } }))
    expect(await wrong.sessions.signInWithPassword('kadri', 'nope-nope-nope')).toBe(
      'Sign-in failed: wrong username or password.',
    )
    expect(wrong.store.getState().error).toBe('Sign-in failed: wrong username or password.')
    expect(wrong.connect).not.toHaveBeenCalled()
    const throttled = setup(() =>
      json(429, { error: { code: 'too_many_requests', message: 'too many' } }, { 'Retry-After': '300' }),
    )
    expect(await throttled.sessions.signInWithPassword('kadri', 'nope-nope-nope')).toBe(
      'Too many failed sign-ins: sign-in is paused; try again in 5 min.',
    )
    expect(formatRetryAfter(30)).toBe('30 s')
  })

  it('sign-out ends the cookie session on the server', async () => {
    const { calls, disconnect, store, sessions } = setup((_url, init) =>
      init.method === 'DELETE' ? json(204, undefined) : json(200, who),
    )
    await sessions.signInWithPassword('kadri', 'correct horse battery')
    await sessions.signOut()
    expect(disconnect).toHaveBeenCalled()
    expect(store.getState().session).toBeNull()
    const del = calls.at(-1)!
    expect(del.init.method).toBe('DELETE')
    expect(del.init.headers).toMatchObject({ 'Content-Type': 'application/json' })
  })
})

describe('token sign-in', () => {
  it('keeps the bearer token for REST calls and the socket; sign-out sends no DELETE', async () => {
    const { calls, connect, sessions } = setup(() => json(200, { ...who, kind: 'api' }))
    expect(await sessions.signIn('  tok-123  ')).toBeNull()
    expect(calls[0]!.init.headers).toMatchObject({ Authorization: 'Bearer tok-123' })
    expect(connect).toHaveBeenCalledWith('tok-123')
    expect(sessions.headers({ Accept: 'text/markdown' })).toEqual({
      Accept: 'text/markdown',
      Authorization: 'Bearer tok-123',
    })
    await sessions.signOut()
    expect(calls).toHaveLength(1)
    expect(sessions.headers()).toEqual({})
  })

  it('fetchSession and postPassword reject an unexpected answer', async () => {
    const odd = vi.fn(async () => json(200, { hello: 'world' })) as unknown as typeof fetch
    expect(await fetchSession('t', odd)).toMatchObject({ ok: false, message: 'Sign-in failed: unexpected answer.' })
    expect(await postPassword('a', 'b', odd)).toMatchObject({ ok: false })
  })
})

describe('viewing as another audience', () => {
  const coordinator = {
    ...who,
    user: 'coord',
    organisation: 'alliance',
    nation: 'ALLIANCE',
    roles: ['coordinator'],
    kind: 'api',
  }
  /** The server: the session as the header asks, a 404 for an audience not in the directory. */
  const server = (_url: string, init: RequestInit) => {
    const asked = (init.headers as Record<string, string>)['X-Watchfloor-View-As']
    if (asked === undefined) return json(200, coordinator)
    const [kind, id] = asked.split(':')
    if (id === 'nowhere')
      return json(404, { error: { code: 'not_found', message: 'no organisation nowhere in the directory' } })
    return json(200, { ...coordinator, viewingAs: { kind, id } })
  }
  const lv = { kind: 'organisation', id: 'cert-lv' } as const

  it('asks the server first, then shows the session it answers and connects again as the audience', async () => {
    const { store, calls, connect, disconnect, sessions } = setup(server)
    await sessions.signIn('tok')
    expect(connect).toHaveBeenLastCalledWith('tok')
    const disconnects = disconnect.mock.calls.length

    expect(await sessions.setViewAs(lv)).toBeNull()
    expect(calls.at(-1)!.url).toBe('/api/v1/session')
    expect(calls.at(-1)!.init.headers).toMatchObject({
      Authorization: 'Bearer tok',
      'X-Watchfloor-View-As': 'organisation:cert-lv',
    })
    expect(disconnect.mock.calls.length).toBe(disconnects + 1) // the old viewer's socket goes
    expect(connect).toHaveBeenLastCalledWith('tok', 'organisation:cert-lv')
    expect(store.getState().session?.viewingAs).toEqual(lv)
    expect(sessions.viewAs()).toEqual(lv)

    // the same audience again: nothing asked, nothing reconnected
    const asked = calls.length
    const connects = connect.mock.calls.length
    expect(await sessions.setViewAs({ ...lv })).toBeNull()
    expect(calls).toHaveLength(asked)
    expect(connect.mock.calls.length).toBe(connects)

    // stop: myself again, a new socket without viewAs
    expect(await sessions.setViewAs(null)).toBeNull()
    expect(calls.at(-1)!.init.headers).not.toHaveProperty('X-Watchfloor-View-As')
    expect(connect).toHaveBeenLastCalledWith('tok')
    expect(store.getState().session?.viewingAs).toBeUndefined()
  })

  it('a refusal changes nothing and says why in the server’s words', async () => {
    const { store, connect, sessions } = setup(server)
    await sessions.signIn('tok')
    await sessions.setViewAs(lv)
    const connects = connect.mock.calls.length
    const message = await sessions.setViewAs({ kind: 'organisation', id: 'nowhere' })
    expect(message).toBe('Cannot view as organisation nowhere: 404 no organisation nowhere in the directory.')
    expect(store.getState().viewAsError).toBe(message)
    expect(store.getState().session?.viewingAs).toEqual(lv)
    expect(connect.mock.calls.length).toBe(connects)
    // the next switch clears it
    expect(await sessions.setViewAs(null)).toBeNull()
    expect(store.getState().viewAsError).toBeNull()
  })

  it('a link’s audience is asked for at sign-in, so the first picture shown is the audience’s', async () => {
    const { store, calls, connect, sessions } = setup(server, { viewAs: { kind: 'community', id: 'baltic' } })
    expect(await sessions.resume()).toBe(true)
    expect(calls.map((c) => (c.init.headers as Record<string, string>)['X-Watchfloor-View-As'])).toEqual([
      undefined,
      'community:baltic',
    ])
    expect(connect).toHaveBeenCalledOnce()
    expect(connect).toHaveBeenCalledWith(null, 'community:baltic')
    expect(store.getState().session?.viewingAs).toEqual({ kind: 'community', id: 'baltic' })
  })

  it('refused at sign-in, the console opens as myself and says why; signing out forgets the audience', async () => {
    const { store, connect, sessions } = setup(server, { viewAs: { kind: 'organisation', id: 'nowhere' } })
    expect(await sessions.signIn('tok')).toBeNull()
    expect(connect).toHaveBeenCalledOnce()
    expect(connect).toHaveBeenCalledWith('tok')
    expect(store.getState().session?.viewingAs).toBeUndefined()
    expect(store.getState().viewAsError).toMatch(/^Cannot view as organisation nowhere: 404/)
    expect(sessions.viewAs()).toBeNull()

    await sessions.setViewAs(lv)
    expect(sessions.viewAs()).toEqual(lv)
    await sessions.signOut()
    expect(sessions.viewAs()).toBeNull()
    expect(store.getState().session).toBeNull()
    await sessions.signIn('tok')
    expect(connect).toHaveBeenLastCalledWith('tok')
  })

  it('signed out, an audience is only remembered for the next sign-in', async () => {
    const { calls, connect, sessions } = setup(server)
    expect(await sessions.setViewAs(lv)).toBeNull()
    expect(calls).toHaveLength(0)
    await sessions.signIn('tok')
    expect(connect).toHaveBeenCalledWith('tok', 'organisation:cert-lv')
  })
})

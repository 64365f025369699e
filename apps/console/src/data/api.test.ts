import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, currentViewAs, describeFailure, failureOf, request, requestHeaders } from './api.ts'
import { watchfloor } from './store.ts'

describe('the REST client', () => {
  it('reads the error family’s body; the code is the server’s, never guessed from the status', () => {
    expect(failureOf(409, { error: { code: 'forbidden', message: 'no' } })).toEqual({
      status: 409,
      error: { code: 'forbidden', message: 'no' },
    })
    expect(
      failureOf(409, {
        error: { code: 'conflict', message: 'stale', details: { rule: 'C3' } },
        current: { version: 3 },
      }),
    ).toEqual({
      status: 409,
      error: { code: 'conflict', message: 'stale', details: { rule: 'C3' } },
      current: { version: 3 },
    })
    // a proxy's page or an empty body: internal, naming the status
    expect(failureOf(502, '<html>')).toEqual({
      status: 502,
      error: { code: 'internal', message: 'the server answered 502' },
    })
    expect(failureOf(401, { error: { code: 'made_up', message: 'x' } }).error.code).toBe('internal')
  })

  it('resolves a 2xx, throws the server’s error body otherwise, and unavailable with no answer', async () => {
    const ok = vi.fn(async () => Response.json({ head: 3 }))
    expect(await (await request('/api/v1/events', { fetchFn: ok })).json()).toEqual({ head: 3 })
    const refused = vi.fn(async () =>
      Response.json({ error: { code: 'not_found', message: 'no route' } }, { status: 404 }),
    )
    const error = await request('/api/v1/nowhere', { fetchFn: refused }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).failure.error.code).toBe('not_found')
    expect((error as ApiError).message).toBe('404: no route')
    const down = vi.fn(async () => {
      throw new TypeError('failed to fetch')
    })
    const lost = (await request('/api/v1/state', { fetchFn: down }).catch((e: unknown) => e)) as ApiError
    expect(lost.failure).toMatchObject({ status: 0, error: { code: 'unavailable' } })
    expect(describeFailure(lost.failure)).toBe('cannot reach the server (TypeError: failed to fetch)')
  })

  it('sends JSON with the method and credentials', async () => {
    const fetchFn = vi.fn(async () => Response.json({}))
    await request('/api/v1/commands', { method: 'POST', json: { type: 'x' }, fetchFn })
    const [, init] = fetchFn.mock.calls[0] as unknown as [string, RequestInit]
    expect(init).toMatchObject({ method: 'POST', credentials: 'same-origin', body: '{"type":"x"}' })
    expect(init.headers).toMatchObject({ 'Content-Type': 'application/json', Accept: 'application/json' })
  })
})

describe('the REST client while viewing as another audience', () => {
  const admin = { user: 'admin', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin' as const] }
  afterEach(() => watchfloor.getState().reset())
  const headersOf = (fetchFn: ReturnType<typeof vi.fn>) =>
    (fetchFn.mock.calls.at(-1) as unknown as [string, RequestInit])[1].headers as Record<string, string>

  it('sends X-Watchfloor-View-As on every call once the session says it views as', async () => {
    const fetchFn = vi.fn(async () => Response.json({}))
    watchfloor.getState().setSession(admin)
    await request('/api/v1/state', { fetchFn })
    expect(headersOf(fetchFn)).not.toHaveProperty('X-Watchfloor-View-As')
    expect(currentViewAs()).toBeNull()

    watchfloor.getState().setSession({ ...admin, viewingAs: { kind: 'organisation', id: 'cert-lv' } })
    expect(currentViewAs()).toEqual({ kind: 'organisation', id: 'cert-lv' })
    for (const path of ['/api/v1/state', '/api/v1/export?format=stix', '/api/v1/handover']) {
      await request(path, { fetchFn, accept: '*/*' })
      expect(headersOf(fetchFn)).toMatchObject({ 'X-Watchfloor-View-As': 'organisation:cert-lv', Accept: '*/*' })
    }
    // a change carries it too (the server refuses it, 403 A7: the console offers none)
    await request('/api/v1/commands', { method: 'POST', json: {}, fetchFn })
    expect(headersOf(fetchFn)).toMatchObject({
      'X-Watchfloor-View-As': 'organisation:cert-lv',
      'Content-Type': 'application/json',
    })

    // stopped: gone again
    watchfloor.getState().setSession(admin)
    await request('/api/v1/state', { fetchFn })
    expect(headersOf(fetchFn)).not.toHaveProperty('X-Watchfloor-View-As')
  })

  it('a call may name its audience (or none) itself, whatever the store says', async () => {
    const fetchFn = vi.fn(async () => Response.json({}))
    watchfloor.getState().setSession({ ...admin, viewingAs: { kind: 'community', id: 'baltic' } })
    await request('/api/v1/state', { fetchFn, viewAs: null })
    expect(headersOf(fetchFn)).not.toHaveProperty('X-Watchfloor-View-As')
    await request('/api/v1/state', { fetchFn, viewAs: { kind: 'organisation', id: 'cert-ee' } })
    expect(headersOf(fetchFn)['X-Watchfloor-View-As']).toBe('organisation:cert-ee')
  })

  it('a request that changes anything says JSON with or without a body (the server refuses a session’s change without it); a read does not', async () => {
    const sent: { method: string; type: string | null }[] = []
    const fetchFn = vi.fn(async (_path: string | URL | Request, init?: RequestInit) => {
      sent.push({ method: init?.method ?? 'GET', type: new Headers(init?.headers).get('Content-Type') })
      return new Response(null, { status: 204 })
    })
    await request('/api/v1/tokens/t1', { method: 'DELETE', fetchFn })
    await request('/api/v1/feeds/f1/poll', { method: 'POST', fetchFn })
    await request('/api/v1/accounts/a', { method: 'PATCH', json: { displayName: 'A' }, fetchFn })
    await request('/api/v1/events', { fetchFn })
    expect(sent).toEqual([
      { method: 'DELETE', type: 'application/json' },
      { method: 'POST', type: 'application/json' },
      { method: 'PATCH', type: 'application/json' },
      { method: 'GET', type: null },
    ])
  })

  it('requestHeaders: accept, JSON, the audience, then the credentials', () => {
    const credentials = (extra: Record<string, string>) => ({ ...extra, Authorization: 'Bearer t' })
    expect(requestHeaders('text/markdown', false, { kind: 'community', id: 'baltic' }, credentials)).toEqual({
      Accept: 'text/markdown',
      'X-Watchfloor-View-As': 'community:baltic',
      Authorization: 'Bearer t',
    })
    expect(requestHeaders('application/json', true, null, credentials)).toEqual({
      Accept: 'application/json',
      'Content-Type': 'application/json',
      Authorization: 'Bearer t',
    })
  })
})

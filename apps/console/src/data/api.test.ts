import { describe, expect, it, vi } from 'vitest'
import { ApiError, describeFailure, failureOf, request } from './api.ts'

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

import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../data/api.ts'
import { tokenFromHash } from '../../data/token.ts'
import { formErrorOf, issuesUnder } from '../sharing/directory.ts'
import {
  describeCeiling,
  disabledOwnersOf,
  emptyTokenForm,
  issueToken,
  loadPresets,
  loadTokens,
  presetsOf,
  revokeToken,
  TOKEN_STATE_LABELS,
  type Token,
  type TokenForm,
  tokenBodyOf,
  tokenPath,
  tokenStateOf,
  tokensShown,
  wallLinkOf,
  whoseToken,
} from './tokens.ts'

const T = '2026-11-01T12:00:00.000Z'
const token = (id: string, extra: Partial<Token> = {}): Token => ({
  id,
  label: `token ${id}`,
  kind: 'api',
  owner: 'kadri',
  service: null,
  preset: null,
  tlpCeiling: null,
  createdBy: 'admin',
  createdAt: T,
  lastUsedAt: null,
  revokedAt: null,
  expiresAt: null,
  ...extra,
})
const wall = (extra: Partial<TokenForm> = {}): TokenForm => ({
  ...emptyTokenForm('display'),
  label: ' wall, floor 2 ',
  serviceUser: ' wall-floor-2 ',
  serviceOrganisation: 'alliance',
  ...extra,
})

type Call = [string, RequestInit]
function fakeFetch(status: number, body: unknown) {
  return vi.fn(async (_input: RequestInfo | URL, _init?: RequestInit) => Response.json(body, { status }))
}
const callOf = (fetchFn: ReturnType<typeof fakeFetch>, i = 0) => fetchFn.mock.calls[i] as unknown as Call

describe('the issue form as a request', () => {
  it('a display token for a wall: a service identity, the preset and the ceiling, no expiry (never)', () => {
    expect(tokenBodyOf(wall())).toEqual({
      ok: true,
      body: {
        label: 'wall, floor 2',
        kind: 'display',
        service: { user: 'wall-floor-2', organisation: 'alliance', roles: ['watch_officer'], sources: [] },
        preset: 'overview',
        tlpCeiling: 'AMBER',
      },
    })
    // no ceiling chosen: none sent; a display token posts nothing, so no sources either
    // roles left over from an API token's form are not sent: a display token has none to choose [A1]
    const made = tokenBodyOf(
      wall({ tlpCeiling: '', preset: 'baltic', serviceSources: ['cert-ee'], serviceRoles: ['admin', 'sensor'] }),
    )
    expect(made.ok && made.body).toMatchObject({
      preset: 'baltic',
      service: { sources: [], roles: ['watch_officer'] },
    })
    expect(made.ok && 'tlpCeiling' in made.body).toBe(false)
  })

  it('an API token for a sensor: roles in order, sources sorted without its own organisation, no preset nor ceiling', () => {
    const made = tokenBodyOf({
      ...emptyTokenForm('api'),
      label: 'sensor, Tallinn DC',
      serviceUser: 'sensor-ee-2',
      serviceOrganisation: 'cert-ee',
      serviceRoles: ['admin', 'sensor'],
      serviceSources: ['cert-lv', 'cert-ee', 'cert-fr', 'cert-lv'],
    })
    expect(made).toEqual({
      ok: true,
      body: {
        label: 'sensor, Tallinn DC',
        kind: 'api',
        service: {
          user: 'sensor-ee-2',
          organisation: 'cert-ee',
          roles: ['sensor', 'admin'],
          sources: ['cert-fr', 'cert-lv'],
        },
      },
    })
  })

  it('a token for an account names its owner and no service identity', () => {
    const made = tokenBodyOf({ ...emptyTokenForm('api'), label: 'scripts', identity: 'account', owner: 'kadri' })
    expect(made).toEqual({ ok: true, body: { label: 'scripts', kind: 'api', owner: 'kadri' } })
    const display = tokenBodyOf(wall({ identity: 'account', owner: 'kadri' }))
    expect(display.ok && display.body.owner).toBe('kadri')
    expect(display.ok && 'service' in display.body).toBe(false)
  })

  it('expires never (null), at the UTC time typed, or by default (left out)', () => {
    const never = tokenBodyOf(wall({ kind: 'api', expiry: 'never' }))
    expect(never.ok && never.body.expiresAt).toBeNull()
    const at = tokenBodyOf(wall({ expiry: 'at', expiresAt: '2031-03-10 14:30Z' }))
    expect(at.ok && at.body.expiresAt).toBe('2031-03-10T14:30:00.000Z')
    const byDefault = tokenBodyOf(wall({ expiry: 'default', expiresAt: '2031-03-10 14:30Z' }))
    expect(byDefault.ok && 'expiresAt' in byDefault.body).toBe(false)
  })

  it('sends nothing when the time typed is not a UTC time, nor when none is typed: the field says why', () => {
    const bad = tokenBodyOf(wall({ expiry: 'at', expiresAt: '03/10/2031 2:30 PM' }))
    expect(bad).toMatchObject({ ok: false, field: 'expiresAt' })
    expect(!bad.ok && bad.error).toMatch(/YYYY-MM-DD HH:MMZ/)
    expect(tokenBodyOf(wall({ expiry: 'at', expiresAt: ' ' }))).toMatchObject({ ok: false, field: 'expiresAt' })
  })
})

describe('tokens as the list shows them', () => {
  it('says whose a token is: its account, or its service identity', () => {
    expect(whoseToken(token('a'))).toBe('kadri')
    expect(
      whoseToken(
        token('b', {
          owner: null,
          service: { user: 'wall-2', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'], sources: [] },
        }),
      ),
    ).toBe('wall-2@cert-ee')
  })

  it('tells a revoked token, an expired one and one in force', () => {
    const now = Date.parse('2026-12-01T00:00:00.000Z')
    expect(tokenStateOf(token('a'), now)).toBe('active')
    expect(tokenStateOf(token('a', { expiresAt: '2026-12-01T00:00:01.000Z' }), now)).toBe('active')
    expect(tokenStateOf(token('a', { expiresAt: '2026-12-01T00:00:00.000Z' }), now)).toBe('expired')
    expect(tokenStateOf(token('a', { revokedAt: T, expiresAt: '2026-11-02T00:00:00.000Z' }), now)).toBe('revoked')
    // acting as a disabled account, the server refuses it (401 account disabled) until it is enabled again
    const disabled = disabledOwnersOf([
      { username: 'kadri', disabled: true },
      { username: 'mari', disabled: false },
    ])
    expect(tokenStateOf(token('a'), now, disabled)).toBe('account_disabled')
    expect(tokenStateOf(token('a', { owner: 'mari' }), now, disabled)).toBe('active')
    expect(tokenStateOf(token('a', { revokedAt: T }), now, disabled)).toBe('revoked')
    expect(TOKEN_STATE_LABELS.account_disabled).toBe('refused: its account is disabled')
    expect(describeCeiling('AMBER+STRICT')).toBe('TLP:AMBER+STRICT')
    expect(describeCeiling(null)).toBe('no ceiling')
  })

  it('shows the tokens in force, newest first; the revoked and expired ones counted, and after them on demand', () => {
    const now = Date.parse('2026-11-10T00:00:00.000Z')
    const tokens = [
      token('t1', { createdAt: '2026-11-01T00:00:00.000Z' }),
      token('t2', { createdAt: '2026-11-02T00:00:00.000Z', revokedAt: '2026-11-03T00:00:00.000Z' }),
      token('t3', { createdAt: '2026-11-04T00:00:00.000Z' }),
      token('t4', { createdAt: '2026-11-05T00:00:00.000Z', expiresAt: '2026-11-06T00:00:00.000Z' }),
      token('t5', { createdAt: '2026-11-04T00:00:00.000Z', expiresAt: '2026-12-01T00:00:00.000Z' }),
    ]
    const ids = (all: boolean) => tokensShown(tokens, now, all).shown.map((t) => t.id)
    expect(ids(false)).toEqual(['t3', 't5', 't1'])
    expect(tokensShown(tokens, now, false).hidden).toBe(2)
    expect(ids(true)).toEqual(['t3', 't5', 't1', 't4', 't2'])
    expect(tokensShown(tokens, now, true).hidden).toBe(0)
    expect(tokensShown([], now, false)).toEqual({ shown: [], hidden: 0 })
  })

  it('makes the wall link, which the wall reads the token from', () => {
    const link = wallLinkOf('https://floor.example/', 'wf_abc-DEF_123')
    expect(link).toBe('https://floor.example/wall#token=wf_abc-DEF_123')
    expect(tokenFromHash(new URL(link).hash)).toBe('wf_abc-DEF_123')
  })

  it('reads the wall presets by name, with their titles', () => {
    expect(presetsOf({ presets: [{ name: 'overview' }, { name: 'baltic', title: 'Baltic region' }] })).toEqual([
      { name: 'baltic', title: 'Baltic region' },
      { name: 'overview' },
    ])
    expect(presetsOf({})).toEqual([])
  })
})

describe('the tokens’ REST calls', () => {
  it('reads the tokens in the server’s order, and the wall presets', async () => {
    const fetchFn = fakeFetch(200, { tokens: [token('b'), token('a')] })
    expect((await loadTokens(fetchFn)).map((t) => t.id)).toEqual(['b', 'a'])
    expect(callOf(fetchFn)[0]).toBe('/api/v1/tokens')
    const presets = fakeFetch(200, { presets: [{ name: 'critical', panels: ['spotlight'] }] })
    expect(await loadPresets(presets)).toEqual([{ name: 'critical' }])
    expect(callOf(presets)[0]).toBe('/api/v1/wall/presets')
  })

  it('issues a token with POST and answers it with its secret', async () => {
    const fetchFn = fakeFetch(201, { token: token('n', { kind: 'display', preset: 'overview' }), secret: 'wf_secret' })
    const issued = await issueToken({ label: 'wall', kind: 'display', preset: 'overview' }, fetchFn)
    expect(issued.secret).toBe('wf_secret')
    expect(issued.token.id).toBe('n')
    expect(callOf(fetchFn)[1]).toMatchObject({
      method: 'POST',
      body: JSON.stringify({ label: 'wall', kind: 'display', preset: 'overview' }),
    })
    // made, but no secret in the answer: said, not shown as a secret
    const none = fakeFetch(201, { token: token('m') })
    const refused = await issueToken({ label: 'x', kind: 'api' }, none).catch((e: unknown) => e)
    expect(formErrorOf(refused)).toMatchObject({ code: 'internal' })
    expect(formErrorOf(refused).message).toContain('m')
  })

  it('revokes with DELETE on the token’s path', async () => {
    const fetchFn = fakeFetch(200, { token: token('a/b', { revokedAt: T }) })
    expect((await revokeToken('a/b', fetchFn)).revokedAt).toBe(T)
    expect(callOf(fetchFn)[0]).toBe('/api/v1/tokens/a%2Fb')
    expect(callOf(fetchFn)[1]).toMatchObject({ method: 'DELETE' })
    expect(tokenPath('x')).toBe('/api/v1/tokens/x')
  })

  it('throws the server’s refusal: a 400 naming a nested field, a 409 with its message', async () => {
    const invalid = fakeFetch(400, {
      error: {
        code: 'validation',
        message: 'no organisation cert-zz in the directory: add it first',
        details: { issues: [{ path: 'service.organisation', message: 'not in the directory' }] },
      },
    })
    const refused = await issueToken({ label: 'x', kind: 'api' }, invalid).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ApiError)
    expect(issuesUnder(formErrorOf(refused), 'service.organisation')).toEqual([
      { path: 'service.organisation', message: 'not in the directory' },
    ])
    const taken = fakeFetch(409, {
      error: { code: 'conflict', message: 'user id kadri is taken by another organisation' },
    })
    const conflict = await issueToken({ label: 'x', kind: 'api' }, taken).catch((e: unknown) => e)
    expect(formErrorOf(conflict)).toMatchObject({
      status: 409,
      message: 'user id kadri is taken by another organisation',
    })
  })
})

import { describe, expect, it } from 'vitest'
import type { Session } from '../../data/store.ts'
import { pageRequested } from '../coordination/coordination.ts'
import { mayManageAccess } from './permissions.ts'

const session = (roles: Session['roles'], extra: Partial<Session> = {}): Session => ({
  user: 'u',
  organisation: 'alliance',
  nation: 'ALLIANCE',
  roles,
  ...extra,
})

describe('who manages accounts and tokens', () => {
  it('an admin, signed in with a password or an API token', () => {
    expect(mayManageAccess(session(['admin'], { kind: 'session' }))).toBe(true)
    expect(mayManageAccess(session(['admin'], { kind: 'api' }))).toBe(true)
    expect(mayManageAccess(session(['coordinator', 'admin']))).toBe(true)
  })

  it('no one else: not a coordinator, a liaison, a watch officer nor a sensor', () => {
    for (const role of ['coordinator', 'liaison', 'watch_officer', 'analyst', 'sensor'] as const)
      expect(mayManageAccess(session([role], { kind: 'session' })), role).toBe(false)
    expect(mayManageAccess(null)).toBe(false)
    expect(mayManageAccess(undefined)).toBe(false)
  })

  it('[A1] not a display token, whatever its roles', () => {
    expect(mayManageAccess(session(['admin'], { kind: 'display', preset: 'overview' }))).toBe(false)
  })

  it('[A7] not an admin viewing as another audience: the view is read-only', () => {
    expect(
      mayManageAccess(session(['admin'], { kind: 'session', viewingAs: { kind: 'organisation', id: 'cert-lv' } })),
    ).toBe(false)
    expect(mayManageAccess(session(['admin'], { kind: 'api', viewingAs: { kind: 'community', id: 'baltic' } }))).toBe(
      false,
    )
  })
})

describe('the Access page’s place', () => {
  it('a link opens it with ?access=1, as ?sharing=1 opens Sharing', () => {
    expect(pageRequested('?access=1')).toBe('access')
    expect(pageRequested('?access=1&sev=high')).toBe('access')
    expect(pageRequested('?access=0')).toBe('picture')
    expect(pageRequested('?sharing=1')).toBe('sharing')
  })
})

import { afterEach, describe, expect, it, vi } from 'vitest'
import { createWatchfloorStore } from '../../data/store.ts'
import { createViewStore } from '../../view/viewStore.ts'
import { presence } from '../coordination/coordination.ts'
import { type MapSnapshot, snapshots } from '../report/snapshots.ts'
import type { Directory } from '../sharing/directory.ts'
import { audienceName, bannerText, titleOf, viewAs, viewAsUi, viewingAsOf, wireViewAs } from './viewAs.ts'

const admin = { user: 'admin', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin' as const] }
const lv = { kind: 'organisation', id: 'cert-lv' } as const
const at = '2026-11-26T08:00:00.000Z'
const directory: Directory = {
  organisations: [{ id: 'cert-lv', name: 'CERT.LV', nation: 'LV', kind: 'ally_cert', createdAt: at, updatedAt: at }],
  communities: [{ id: 'baltic', name: 'Baltic CERTs', members: ['cert-lv'], createdAt: at, updatedAt: at }],
}

afterEach(() => viewAsUi.setState({ pending: undefined, directory: null, directoryAt: 0, directoryError: null }))

describe('view as: the words on screen', () => {
  it('names the audience as the directory does, its id when it is not listed', () => {
    expect(audienceName(directory, lv)).toBe('CERT.LV')
    expect(audienceName(directory, { kind: 'community', id: 'baltic' })).toBe('Baltic CERTs')
    expect(audienceName(directory, { kind: 'community', id: 'cert-lv' })).toBe('cert-lv') // an organisation's id is no community
    expect(audienceName(null, lv)).toBe('cert-lv')
  })

  it('the banner and the page title say whose picture this is', () => {
    expect(bannerText('CERT.LV', 'organisation')).toBe(
      'VIEWING AS CERT.LV (organisation) — what they receive from what you may see. Read-only.',
    )
    expect(titleOf('Watchfloor', 'CERT.LV')).toBe('VIEWING AS CERT.LV · Watchfloor')
    expect(titleOf('Watchfloor', null)).toBe('Watchfloor')
  })

  it('reads the audience off the session the server answered', () => {
    expect(viewingAsOf(null)).toBeNull()
    expect(viewingAsOf(admin)).toBeNull()
    expect(viewingAsOf({ ...admin, viewingAs: lv })).toEqual(lv)
  })
})

describe('view as: the switch and the link', () => {
  it('is pending while the server is asked; true once shown, false when refused', async () => {
    let answer: (refusal: string | null) => void = () => {}
    const switchTo = vi.fn(() => new Promise<string | null>((resolve) => (answer = resolve)))
    const shown = viewAs(lv, switchTo)
    expect(viewAsUi.getState().pending).toEqual(lv)
    answer(null)
    expect(await shown).toBe(true)
    expect(viewAsUi.getState().pending).toBeUndefined()
    expect(await viewAs(null, async () => 'Cannot view as ...')).toBe(false)
    expect(viewAsUi.getState().pending).toBeUndefined()
  })

  it('keeps ?viewAs= to what the server agreed to, forgets it on sign-out, and clears the old viewer’s presence', () => {
    const data = createWatchfloorStore()
    const view = createViewStore({ ...createViewStore().getState(), viewAs: lv })
    const unwire = wireViewAs(data, view)
    // signed out on load: a link's audience stays in the address until sign-in decides
    expect(view.getState().viewAs).toEqual(lv)

    // signed in, the server refused the link's audience: the link says so no more
    data.getState().setSession(admin)
    expect(view.getState().viewAs).toBeNull()

    presence.getState().set({ incidentId: 'inc-1', viewers: [{ user: 'kadri', organisation: 'cert-ee' }] })
    data.getState().setSession({ ...admin, viewingAs: { kind: 'community', id: 'baltic' } })
    expect(view.getState().viewAs).toEqual({ kind: 'community', id: 'baltic' })
    expect(presence.getState().byIncident).toEqual({})

    data.getState().reset() // sign-out
    expect(view.getState().viewAs).toBeNull()
    unwire()
  })

  it('forgets the map snapshots whenever the viewer changes, and only then', () => {
    const data = createWatchfloorStore()
    const view = createViewStore()
    const unwire = wireViewAs(data, view)
    const snapshot = (label: string): MapSnapshot => ({
      incidentId: 'inc-1',
      at: 0,
      label,
      dataUrl: 'data:image/png;base64,',
      marking: { tlp: 'AMBER' },
    })
    const take = (label: string) => snapshots.setState({ list: [...snapshots.getState().list, snapshot(label)] })
    const labels = () => snapshots.getState().list.map((s) => s.label)
    try {
      data.getState().setSession(admin)
      take('mine')
      // the same viewer, its session read again (another object, a display name): kept
      data.getState().setSession({ ...admin, displayName: 'Admin' })
      expect(labels()).toEqual(['mine'])

      data.getState().setSession({ ...admin, viewingAs: lv }) // view as on
      expect(labels()).toEqual([])
      take('as cert-lv')
      data.getState().setSession({ ...admin, viewingAs: { kind: 'community', id: 'baltic' } }) // another audience
      expect(labels()).toEqual([])
      take('as baltic')
      data.getState().setSession(admin) // view as off
      expect(labels()).toEqual([])
      take('mine again')
      data.getState().setSession({ ...admin, user: 'coordinator' }) // another person signed in in the tab
      expect(labels()).toEqual([])
      take('the coordinator’s')
      data.getState().reset() // sign-out
      expect(labels()).toEqual([])
    } finally {
      unwire()
      snapshots.setState({ list: [] })
    }
  })
})

import { describe, expect, it } from 'vitest'
import {
  parseViewAs,
  sameViewAs,
  VIEW_AS_HEADER,
  viewAsFileName,
  viewAsFromSearch,
  viewAsValue,
  viewerKey,
  withViewAs,
} from './viewAs.ts'

describe('view as: the audience and its wire form', () => {
  it('reads organisation:<id> and community:<id>, and writes them back the same', () => {
    for (const raw of ['organisation:cert-lv', 'community:baltic-e2e', 'organisation:nato.ncia_1'])
      expect(viewAsValue(parseViewAs(raw)!)).toBe(raw)
    expect(parseViewAs(' organisation : cert-lv ')).toEqual({ kind: 'organisation', id: 'cert-lv' })
  })

  it('refuses what the server would refuse as malformed: no kind, another kind, an id the directory cannot hold', () => {
    for (const raw of [null, undefined, '', 'cert-lv', 'nation:LV', 'organisation:', ':x', 'organisation:CERT-LV'])
      expect(parseViewAs(raw)).toBeNull()
    expect(parseViewAs(`community:${'a'.repeat(65)}`)).toBeNull()
    expect(parseViewAs('organisation:a:b')).toBeNull()
  })

  it('reads a link’s ?viewAs=, encoded or not', () => {
    expect(viewAsFromSearch('?viewAs=organisation:cert-lv&sel=inc-1')).toEqual({ kind: 'organisation', id: 'cert-lv' })
    expect(viewAsFromSearch('?viewAs=community%3Abaltic')).toEqual({ kind: 'community', id: 'baltic' })
    expect(viewAsFromSearch('?sel=inc-1')).toBeNull()
  })

  it('compares audiences, none included', () => {
    expect(sameViewAs(null, undefined)).toBe(true)
    expect(sameViewAs({ kind: 'organisation', id: 'a' }, { kind: 'organisation', id: 'a' })).toBe(true)
    expect(sameViewAs({ kind: 'organisation', id: 'a' }, { kind: 'community', id: 'a' })).toBe(false)
    expect(sameViewAs({ kind: 'organisation', id: 'a' }, null)).toBe(false)
  })

  it('keys a viewer by person, organisation and audience', () => {
    const kadri = { user: 'kadri', organisation: 'cert-ee' }
    const named = { ...kadri, displayName: 'Kadri Tamm', nation: 'EE' }
    expect(viewerKey(null)).toBeNull()
    expect(viewerKey(named)).toBe(viewerKey(kadri))
    expect(viewerKey({ ...kadri, user: 'mart' })).not.toBe(viewerKey(kadri))
    expect(viewerKey({ ...kadri, organisation: 'cert-lv' })).not.toBe(viewerKey(kadri))
    const asLv = viewerKey({ ...kadri, viewingAs: { kind: 'organisation', id: 'cert-lv' } })
    expect(asLv).not.toBe(viewerKey(kadri))
    expect(asLv).not.toBe(viewerKey({ ...kadri, viewingAs: { kind: 'community', id: 'cert-lv' } }))
    expect(asLv).toBe(viewerKey({ ...kadri, viewingAs: { kind: 'organisation', id: 'cert-lv' } }))
  })

  it('adds the header only while viewing as, leaving the given headers alone', () => {
    const base = { Accept: 'application/json' }
    expect(withViewAs(base, null)).toEqual(base)
    expect(withViewAs(base, { kind: 'community', id: 'baltic' })).toEqual({
      Accept: 'application/json',
      [VIEW_AS_HEADER]: 'community:baltic',
    })
    expect(base).toEqual({ Accept: 'application/json' })
  })

  it('names a download viewed as after the audience, before its extensions', () => {
    const lv = { kind: 'organisation', id: 'cert-lv' } as const
    expect(viewAsFileName('watchfloor-events-to-seq-9.stix.json', lv)).toBe(
      'watchfloor-events-to-seq-9.as-organisation-cert-lv.stix.json',
    )
    expect(viewAsFileName('handover-since-2026-11-26T0800Z.md', null)).toBe('handover-since-2026-11-26T0800Z.md')
    expect(viewAsFileName('export', lv)).toBe('export.as-organisation-cert-lv')
  })
})

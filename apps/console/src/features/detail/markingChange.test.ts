import { describe, expect, it } from 'vitest'
import { draftOf, markingOf, namesIn, noLongerSeenBy } from './markingChange.ts'

describe('the marking form', () => {
  it('sends recipients only for RED and leaves an empty releasability out', () => {
    const draft = draftOf({ tlp: 'RED', recipients: ['ilze'], pap: 'AMBER' })
    expect(markingOf(draft)).toEqual({ tlp: 'RED', recipients: ['ilze'], pap: 'AMBER' })
    expect(markingOf({ ...draft, tlp: 'AMBER' })).toEqual({ tlp: 'AMBER', pap: 'AMBER' })
    expect(markingOf({ ...draft, tlp: 'GREEN', pap: '', releasableTo: ['cert-lv'] })).toEqual({
      tlp: 'GREEN',
      releasableTo: ['cert-lv'],
    })
  })

  it('reads a typed list of names, each once', () => {
    expect(namesIn(' cert-lv, LV;cert-lv  nato ')).toEqual(['cert-lv', 'LV', 'nato'])
  })

  it('says who will no longer see the incident when a change narrows it, and nobody when it widens', () => {
    const shared = { tlp: 'AMBER' as const, releasableTo: ['cert-lv', 'LV'] }
    expect(noLongerSeenBy(shared, { tlp: 'AMBER', releasableTo: ['LV'] }, 'cert-ee')).toEqual([
      'cert-lv, named until now',
    ])
    expect(noLongerSeenBy({ tlp: 'GREEN' }, { tlp: 'AMBER', releasableTo: ['LV'] }, 'cert-ee')).toEqual([
      'every organisation not named (LV)',
      'display walls limited below TLP:AMBER',
    ])
    expect(noLongerSeenBy(shared, { tlp: 'RED', recipients: ['ilze'] }, 'cert-ee')).toEqual([
      'everyone in cert-ee but you and the recipients',
      'cert-lv, LV, named until now',
      'display walls limited below TLP:RED',
    ])
    expect(
      noLongerSeenBy({ tlp: 'RED', recipients: ['ilze', 'mart'] }, { tlp: 'RED', recipients: ['mart'] }, 'x'),
    ).toEqual(['recipients ilze'])
    // widening, or the same in other words
    expect(noLongerSeenBy({ tlp: 'AMBER' }, shared, 'cert-ee')).toEqual([])
    expect(noLongerSeenBy(shared, { tlp: 'GREEN' }, 'cert-ee')).toEqual([])
    expect(noLongerSeenBy(shared, { ...shared, pap: 'RED' }, 'cert-ee')).toEqual([])
  })
})

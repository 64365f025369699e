import { describe, expect, it } from 'vitest'
import { draftOf, markingBlocked, markingOf, namesIn, noLongerSeenBy, widens } from './markingChange.ts'

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

  it('names the RED author a change drops, and asks before showing the incident to anyone new', () => {
    const red = { tlp: 'RED' as const, recipients: ['bob'] }
    // bob (a recipient) re-marks alice's RED incident: alice keeps it only if named
    expect(
      noLongerSeenBy(red, { tlp: 'RED', recipients: ['bob', 'dave'] }, 'cert-ee', {
        reportedBy: 'alice',
        caller: 'bob',
      }),
    ).toEqual(['alice, who reported it'])
    expect(
      noLongerSeenBy(red, { tlp: 'RED', recipients: ['bob', 'alice'] }, 'cert-ee', {
        reportedBy: 'alice',
        caller: 'bob',
      }),
    ).toEqual([])
    expect(
      noLongerSeenBy(red, { tlp: 'RED', recipients: ['dave'] }, 'cert-ee', { reportedBy: 'alice', caller: 'alice' }),
    ).toEqual(['recipients bob'])
    // widening: a lower TLP, a name more, a list fewer
    expect(widens({ tlp: 'AMBER' }, { tlp: 'GREEN' })).toBe(true)
    expect(widens({ tlp: 'AMBER' }, { tlp: 'AMBER', releasableTo: ['cert-lv'] })).toBe(true)
    expect(widens({ tlp: 'GREEN', releasableTo: ['LV'] }, { tlp: 'GREEN' })).toBe(true)
    expect(widens({ tlp: 'AMBER', pap: 'RED' }, { tlp: 'AMBER', pap: 'GREEN' })).toBe(true)
    // narrowing, or the same in other words
    expect(widens({ tlp: 'GREEN' }, { tlp: 'AMBER' })).toBe(false)
    expect(widens({ tlp: 'AMBER', releasableTo: ['a', 'b'] }, { tlp: 'AMBER', releasableTo: ['b', 'a'] })).toBe(false)
  })
})

describe('what the form says before sending, instead of asking the server', () => {
  it('[C20] the same marking again, in any order or words, is caught before it is sent', () => {
    const current = { marking: { tlp: 'AMBER' as const, releasableTo: ['cert-lv', 'LV'], pap: 'GREEN' as const } }
    const same = markingOf({ tlp: 'AMBER', pap: 'GREEN', releasableTo: ['LV', 'cert-lv'], recipients: [] })
    expect(markingBlocked(same, current, 'coord')).toMatchObject({
      reason: 'unchanged',
      text: expect.stringMatching(/^Already marked TLP:AMBER/),
    })
    expect(markingBlocked({ ...same, pap: 'AMBER' }, current, 'coord')).toBeNull()
    expect(
      markingBlocked({ tlp: 'AMBER+STRICT' }, { marking: { tlp: 'AMBER+STRICT', releasableTo: [] } }, 'c'),
    ).toMatchObject({ reason: 'unchanged' })
  })

  it('[R14] what was marked stricter is never restated wider', () => {
    const current = { marking: { tlp: 'GREEN' as const }, statedMarking: { tlp: 'AMBER' as const } }
    expect(markingBlocked({ tlp: 'CLEAR' }, current, 'coord')).toMatchObject({ reason: 'stated' })
    expect(markingBlocked({ tlp: 'AMBER' }, current, 'coord')).toBeNull()
  })
})

import type { Marking, Viewer } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { decide } from './decide.ts'
import { fold } from './reduce.ts'
import { initialState } from './state.ts'
import { makeEvent } from './testing.ts'
import {
  audienceKey,
  canSee,
  commandVisibility,
  defaultMarking,
  foldMarking,
  markingKey,
  sameMarking,
  strictestMarking,
  teamMaySee,
  tlpRank,
  viewerKey,
} from './visibility.ts'

const viewer = (organisation: string, nation: string, userId = `${organisation}-user`): Viewer => ({
  organisation,
  nation,
  roles: ['watch_officer'],
  userId,
})
const estonia = viewer('cert-ee', 'EE', 'kadri')
const latvia = viewer('cert-lv', 'LV', 'janis')
const ncsc = viewer('ncsc-nl', 'NL', 'pieter')

const event = (marking: Marking, organisation = 'cert-ee', actor?: string) => ({
  source: { organisation },
  marking,
  ...(actor ? { actor: { user: actor } } : {}),
})

describe('canSee', () => {
  it('[V1] an unauthenticated viewer sees nothing, not even CLEAR', () => {
    expect(canSee(null, event({ tlp: 'CLEAR' }))).toBe(false)
    expect(canSee(undefined, event({ tlp: 'GREEN' }))).toBe(false)
  })

  it('[V3] CLEAR and GREEN reach every authenticated viewer', () => {
    for (const tlp of ['CLEAR', 'GREEN'] as const) {
      expect(canSee(latvia, event({ tlp }))).toBe(true)
      expect(canSee(ncsc, event({ tlp }))).toBe(true)
    }
  })

  it('[V4] AMBER reaches the source organisation and those named in releasableTo, by organisation or nation', () => {
    const amber = event({ tlp: 'AMBER', releasableTo: ['cert-lv', 'NL'] })
    expect(canSee(estonia, amber)).toBe(true)
    expect(canSee(latvia, amber)).toBe(true)
    expect(canSee(ncsc, amber)).toBe(true)
    expect(canSee(viewer('cert-fi', 'FI'), amber)).toBe(false)
  })

  it('[V4] AMBER without releasableTo stays in the source organisation', () => {
    const amber = event({ tlp: 'AMBER' })
    expect(canSee(estonia, amber)).toBe(true)
    expect(canSee(viewer('cert-ee', 'EE', 'another-analyst'), amber)).toBe(true)
    expect(canSee(latvia, amber)).toBe(false)
  })

  it('[V4s] AMBER+STRICT reaches only the originating organisation, even when releasableTo names others', () => {
    const strict = event({ tlp: 'AMBER+STRICT', releasableTo: ['cert-lv'] })
    expect(canSee(estonia, strict)).toBe(true)
    expect(canSee(latvia, strict)).toBe(false)
  })

  it('[V5] RED reaches only the recipients and the author, not the rest of the source organisation', () => {
    const red = event({ tlp: 'RED', recipients: ['janis'] }, 'cert-ee', 'kadri')
    expect(canSee(latvia, red)).toBe(true)
    expect(canSee(estonia, red)).toBe(true)
    expect(canSee(viewer('cert-ee', 'EE', 'someone-else'), red)).toBe(false)
    expect(canSee(viewer('cert-lv', 'LV', 'another-latvian'), red)).toBe(false)
  })

  it('[V5] RED without recipients reaches only its author', () => {
    const red = event({ tlp: 'RED' }, 'cert-ee', 'kadri')
    expect(canSee(estonia, red)).toBe(true)
    expect(canSee(viewer('cert-ee', 'EE', 'colleague'), red)).toBe(false)
  })

  it('[V5] the author is of the actor’s organisation when the actor names one: a namesake of another organisation is not', () => {
    const red = (user: string, organisation: string, source = 'cert-ee') => ({
      source: { organisation: source },
      marking: { tlp: 'RED' as const },
      actor: { user, organisation },
    })
    expect(canSee(estonia, red('kadri', 'cert-ee'))).toBe(true)
    expect(canSee(viewer('cert-lv', 'LV', 'kadri'), red('kadri', 'cert-ee'))).toBe(false)
    expect(canSee(viewer('cert-ee', 'EE', 'kadri'), red('kadri', 'cert-lv'))).toBe(false)
    // a relay writes for another organisation: the actor's organisation is the relay's own
    expect(canSee(viewer('alliance', 'ALLIANCE', 'relay'), red('relay', 'alliance'))).toBe(true)
    expect(canSee(viewer('cert-ee', 'EE', 'relay'), red('relay', 'alliance'))).toBe(false)
    // an actor that names no organisation (the parts of an incident or task kept without it): its user id
    expect(canSee(estonia, event({ tlp: 'RED' }, 'cert-ee', 'kadri'))).toBe(true)
    // still under the ceiling [V9] and never for an audience
    expect(canSee({ ...estonia, tlpCeiling: 'AMBER' }, red('kadri', 'cert-ee'))).toBe(false)
    expect(canSee(viewer('cert-ee', 'EE', ''), red('', 'cert-ee'))).toBe(false)
  })

  it('[V5] RED never reaches a viewer with no user (an audience), whatever ids the event carries', () => {
    const audience = viewer('cert-ee', 'EE', '')
    // ids are never empty once validated; the audience, whose picture its users share, relies on no RED at all
    const named = { source: { organisation: 'cert-ee' }, marking: { tlp: 'RED' as const, recipients: [''] } }
    const written = { ...event({ tlp: 'RED' }), actor: { user: '' } }
    expect(canSee(audience, named)).toBe(false)
    expect(canSee(audience, written)).toBe(false)
    expect(canSee(audience, event({ tlp: 'AMBER' }))).toBe(true)
  })

  it('[V6] releasableTo narrows even CLEAR and GREEN', () => {
    const green = event({ tlp: 'GREEN', releasableTo: ['LV'] })
    expect(canSee(latvia, green)).toBe(true)
    expect(canSee(ncsc, green)).toBe(false)
    expect(canSee(estonia, green)).toBe(true) // [V2] the source still sees its own
  })

  it('[V2] the originating organisation sees its own events under every marking but RED', () => {
    for (const tlp of ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT'] as const) {
      expect(canSee(estonia, event({ tlp, releasableTo: ['LV'] }))).toBe(true)
    }
  })

  it('[V7] non-RED visibility depends only on organisation and nation', () => {
    const markings: Marking[] = [
      { tlp: 'CLEAR' },
      { tlp: 'GREEN', releasableTo: ['LV'] },
      { tlp: 'AMBER', releasableTo: ['cert-lv'] },
      { tlp: 'AMBER+STRICT' },
    ]
    const a = viewer('cert-lv', 'LV', 'one')
    const b: Viewer = { organisation: 'cert-lv', nation: 'LV', roles: ['admin', 'coordinator'], userId: 'two' }
    expect(audienceKey(a)).toBe(audienceKey(b))
    for (const marking of markings) expect(canSee(a, event(marking))).toBe(canSee(b, event(marking)))
  })

  it('[V8] the default marking is AMBER to the sender organisation only', () => {
    const marking = defaultMarking()
    expect(marking).toEqual({ tlp: 'AMBER' })
    expect(canSee(estonia, event(marking))).toBe(true)
    expect(canSee(latvia, event(marking))).toBe(false)
  })

  it('[V9] a TLP ceiling hides every event above it, whatever else would allow it', () => {
    const levels = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'] as const
    expect(levels.map(tlpRank)).toEqual([0, 1, 2, 3, 4])
    const wall: Viewer = { ...estonia, tlpCeiling: 'AMBER' }
    // its own organisation's events [V2]
    expect(canSee(wall, event({ tlp: 'CLEAR' }))).toBe(true)
    expect(canSee(wall, event({ tlp: 'GREEN' }))).toBe(true)
    expect(canSee(wall, event({ tlp: 'AMBER' }))).toBe(true)
    expect(canSee(wall, event({ tlp: 'AMBER+STRICT' }))).toBe(false)
    // RED addressed to it or written by it [V5]
    expect(canSee(wall, event({ tlp: 'RED', recipients: ['kadri'] }, 'cert-lv'))).toBe(false)
    expect(canSee(wall, event({ tlp: 'RED' }, 'cert-ee', 'kadri'))).toBe(false)
    expect(canSee(estonia, event({ tlp: 'RED' }, 'cert-ee', 'kadri'))).toBe(true)
    // the ceiling only narrows: what the other rules hide stays hidden [V4, V6]
    expect(canSee({ ...latvia, tlpCeiling: 'AMBER' }, event({ tlp: 'AMBER' }))).toBe(false)
    expect(canSee({ ...ncsc, tlpCeiling: 'RED' }, event({ tlp: 'GREEN', releasableTo: ['LV'] }))).toBe(false)
  })

  it('[V9] each ceiling lets through exactly the levels at or below it', () => {
    const levels = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'] as const
    for (const ceiling of levels)
      for (const tlp of levels) {
        const own = event(tlp === 'RED' ? { tlp, recipients: ['kadri'] } : { tlp })
        expect(canSee({ ...estonia, tlpCeiling: ceiling }, own)).toBe(tlpRank(tlp) <= tlpRank(ceiling))
      }
  })

  it('[V7][V9] the audience key includes the ceiling, so a ceiling never shares a room with a viewer without one', () => {
    const plain = audienceKey(latvia)
    const amber = audienceKey({ ...latvia, tlpCeiling: 'AMBER' })
    const green = audienceKey({ ...latvia, tlpCeiling: 'GREEN' })
    expect(new Set([plain, amber, green]).size).toBe(3)
    expect(audienceKey({ ...viewer('cert-lv', 'LV', 'other'), tlpCeiling: 'AMBER' })).toBe(amber)
  })

  it('[V7][V9] no name can make two audiences or two viewers share a key', () => {
    const wall = { ...viewer('alliance', 'ALLIANCE', 'wall'), tlpCeiling: 'AMBER' as const }
    // a nation that spells out another audience's key
    const forged = viewer('alliance', 'ALLIANCE|max:AMBER', 'wall')
    expect(audienceKey(forged)).not.toBe(audienceKey(wall))
    expect(viewerKey(forged)).not.toBe(viewerKey(wall))
    // the same user id in two organisations is two viewers (RED goes per viewer)
    expect(viewerKey(viewer('cert-ee', 'EE', 'coordinator'))).not.toBe(
      viewerKey(viewer('alliance', 'ALLIANCE', 'coordinator')),
    )
    expect(viewerKey(viewer('a|b', 'c', 'd'))).not.toBe(viewerKey(viewer('a', 'b|c', 'd')))
    // roles are not part of it: no visibility rule reads them
    const admin: Viewer = { ...viewer('cert-ee', 'EE', 'kadri'), roles: ['admin'] }
    expect(viewerKey(admin)).toBe(viewerKey(viewer('cert-ee', 'EE', 'kadri')))
  })

  it('[V10] releasableTo naming a community reaches the viewers whose organisation belongs to it, no one else', () => {
    const energy = { ...latvia, communities: ['energy-sector'] }
    const both = { ...ncsc, communities: ['baltic-partners', 'energy-sector'] }
    for (const tlp of ['CLEAR', 'GREEN', 'AMBER'] as const) {
      const shared = event({ tlp, releasableTo: ['energy-sector'] })
      expect(canSee(energy, shared), tlp).toBe(true)
      expect(canSee(both, shared), tlp).toBe(true)
      expect(canSee(latvia, shared), `${tlp}: not a member`).toBe(false)
      expect(canSee(estonia, shared), `${tlp}: the source`).toBe(true)
    }
    // never beyond what the TLP allows: AMBER+STRICT stays home, RED goes to its recipients
    expect(canSee(energy, event({ tlp: 'AMBER+STRICT', releasableTo: ['energy-sector'] }))).toBe(false)
    expect(canSee(energy, event({ tlp: 'RED', releasableTo: ['energy-sector'] }, 'cert-ee', 'kadri'))).toBe(false)
    // a community's name is matched as a whole, never as a part of another
    expect(
      canSee({ ...latvia, communities: ['energy'] }, event({ tlp: 'AMBER', releasableTo: ['energy-sector'] })),
    ).toBe(false)
  })

  it('[V7][V10] the keys include the communities, in any order, each once', () => {
    const member = { ...latvia, communities: ['b', 'a'] }
    expect(audienceKey(member)).toBe(audienceKey({ ...latvia, communities: ['a', 'b', 'a'] }))
    expect(audienceKey(member)).not.toBe(audienceKey(latvia))
    expect(audienceKey(latvia)).toBe(audienceKey({ ...latvia, communities: [] }))
    expect(viewerKey(member)).not.toBe(viewerKey(latvia))
    expect(viewerKey({ ...latvia, communities: ['a,b'] })).not.toBe(viewerKey({ ...latvia, communities: ['a', 'b'] }))
  })

  it('[V11] viewing as an organisation: what both may see; never RED, never the viewer’s own AMBER+STRICT', () => {
    const alliance = viewer('alliance', 'ALLIANCE', 'coord')
    const asLatvia = { ...alliance, viewingAs: { kind: 'organisation' as const, id: 'cert-lv', nation: 'LV' } }
    const cases: [Marking, string, boolean][] = [
      [{ tlp: 'GREEN' }, 'cert-ee', true],
      [{ tlp: 'AMBER', releasableTo: ['cert-lv', 'alliance'] }, 'cert-ee', true],
      [{ tlp: 'AMBER', releasableTo: ['alliance'] }, 'cert-ee', false], // the alliance's, not Latvia's
      [{ tlp: 'AMBER', releasableTo: ['LV'] }, 'cert-ee', false], // Latvia's, not the alliance's
      [{ tlp: 'AMBER+STRICT' }, 'alliance', false], // the viewer's own, kept home
      [{ tlp: 'AMBER' }, 'alliance', false],
      [{ tlp: 'GREEN', releasableTo: ['LV'] }, 'alliance', true],
    ]
    for (const [marking, source, visible] of cases)
      expect(canSee(asLatvia, event(marking, source)), JSON.stringify([marking, source])).toBe(visible)
    // RED, even addressed to the viewer, or authored by it
    expect(canSee(asLatvia, event({ tlp: 'RED', recipients: ['coord'] }, 'alliance'))).toBe(false)
    expect(canSee(asLatvia, event({ tlp: 'RED' }, 'alliance', 'coord'))).toBe(false)
    // with its communities
    const asMember = {
      ...alliance,
      viewingAs: { kind: 'organisation' as const, id: 'cert-lv', nation: 'LV', communities: ['energy'] },
    }
    expect(canSee(asMember, event({ tlp: 'AMBER', releasableTo: ['energy', 'alliance'] }))).toBe(true)
    expect(canSee(asLatvia, event({ tlp: 'AMBER', releasableTo: ['energy', 'alliance'] }))).toBe(false)
  })

  it('[V11] viewing as a community: only what is shared with everyone or named to it', () => {
    const alliance = viewer('alliance', 'ALLIANCE', 'coord')
    const asEnergy = { ...alliance, viewingAs: { kind: 'community' as const, id: 'energy' } }
    expect(canSee(asEnergy, event({ tlp: 'CLEAR' }))).toBe(true)
    expect(canSee(asEnergy, event({ tlp: 'AMBER', releasableTo: ['energy', 'alliance'] }))).toBe(true)
    expect(canSee(asEnergy, event({ tlp: 'AMBER', releasableTo: ['alliance'] }))).toBe(false)
    expect(canSee(asEnergy, event({ tlp: 'GREEN', releasableTo: ['cert-lv', 'alliance'] }))).toBe(false)
    expect(canSee(asEnergy, event({ tlp: 'AMBER' }, 'alliance'))).toBe(false)
  })

  it('[V11] a view as has keys of its own', () => {
    const alliance = viewer('alliance', 'ALLIANCE', 'coord')
    const asLatvia = { ...alliance, viewingAs: { kind: 'organisation' as const, id: 'cert-lv', nation: 'LV' } }
    const asEnergy = { ...alliance, viewingAs: { kind: 'community' as const, id: 'cert-lv' } }
    const keys = [alliance, asLatvia, asEnergy]
    expect(new Set(keys.map(audienceKey)).size).toBe(3)
    expect(new Set(keys.map(viewerKey)).size).toBe(3)
  })

  it('strictestMarking: whoever may see the result may see both parts, for every viewer', () => {
    const markings: Marking[] = [
      { tlp: 'CLEAR' },
      { tlp: 'GREEN', pap: 'GREEN' },
      { tlp: 'GREEN', releasableTo: ['LV', 'cert-lv'] },
      { tlp: 'AMBER', releasableTo: ['cert-lv'], pap: 'AMBER' },
      { tlp: 'AMBER', releasableTo: ['NL'] },
      { tlp: 'AMBER' },
      { tlp: 'GREEN' },
      { tlp: 'AMBER+STRICT' },
      { tlp: 'AMBER+STRICT', releasableTo: ['cert-lv'] },
      { tlp: 'RED', recipients: ['janis', 'pieter'] },
      { tlp: 'RED', recipients: ['pieter'] },
    ]
    const people = [estonia, latvia, ncsc, viewer('cert-lv', 'LV', 'other')]
    for (const a of markings)
      for (const b of markings) {
        const both = strictestMarking(a, b)
        for (const who of people) {
          const sees = canSee(who, event(both, 'cert-ee', 'kadri'))
          if (sees) {
            expect(canSee(who, event(a, 'cert-ee', 'kadri')), JSON.stringify([a, b, who.userId])).toBe(true)
            expect(canSee(who, event(b, 'cert-ee', 'kadri')), JSON.stringify([a, b, who.userId])).toBe(true)
          }
        }
        expect(tlpRank(both.tlp)).toBe(Math.max(tlpRank(a.tlp), tlpRank(b.tlp)))
      }
    expect(strictestMarking({ tlp: 'GREEN', pap: 'GREEN' }, { tlp: 'AMBER', pap: 'RED' })).toEqual({
      tlp: 'AMBER',
      pap: 'RED',
    })
  })

  it('foldMarking says what strictestMarking says, and builds nothing for the same plain marking again', () => {
    const markings: Marking[] = [
      { tlp: 'CLEAR' },
      { tlp: 'GREEN', pap: 'GREEN' },
      { tlp: 'GREEN' },
      { tlp: 'AMBER', releasableTo: ['cert-lv'] },
      { tlp: 'AMBER' },
      { tlp: 'AMBER+STRICT' },
      { tlp: 'RED' },
      { tlp: 'RED', recipients: ['janis'] },
    ]
    for (const a of markings)
      for (const b of markings) expect(foldMarking(a, b), JSON.stringify([a, b])).toEqual(strictestMarking(a, b))
    const green = { tlp: 'GREEN' as const }
    expect(foldMarking(green, { tlp: 'GREEN' })).toBe(green)
  })

  it('sameMarking: the same audience and PAP, however the lists are written', () => {
    // written differently, saying the same
    expect(
      sameMarking({ tlp: 'AMBER', releasableTo: ['LV', 'EE'] }, { tlp: 'AMBER', releasableTo: ['EE', 'LV'] }),
    ).toBe(true)
    expect(sameMarking({ tlp: 'AMBER', releasableTo: [] }, { tlp: 'AMBER' })).toBe(true) // the source alone [V4]
    expect(sameMarking({ tlp: 'AMBER+STRICT', releasableTo: ['LV'] }, { tlp: 'AMBER+STRICT' })).toBe(true) // [V4s]
    expect(sameMarking({ tlp: 'RED', recipients: [] }, { tlp: 'RED' })).toBe(true)
    expect(sameMarking({ tlp: 'RED', recipients: ['a', 'b'] }, { tlp: 'RED', recipients: ['b', 'a'] })).toBe(true)
    // saying something else: the TLP, who is named, the PAP
    expect(sameMarking({ tlp: 'GREEN' }, { tlp: 'AMBER' })).toBe(false)
    expect(sameMarking({ tlp: 'GREEN' }, { tlp: 'GREEN', releasableTo: ['LV'] })).toBe(false)
    expect(sameMarking({ tlp: 'AMBER', releasableTo: ['LV'] }, { tlp: 'AMBER' })).toBe(false)
    expect(sameMarking({ tlp: 'RED', recipients: ['a'] }, { tlp: 'RED', recipients: ['a', 'b'] })).toBe(false)
    expect(sameMarking({ tlp: 'AMBER', pap: 'GREEN' }, { tlp: 'AMBER' })).toBe(false)
    // the key itself keeps a list as given, sorted: an empty list is not none
    expect(markingKey({ tlp: 'GREEN', releasableTo: [] })).not.toBe(markingKey({ tlp: 'GREEN' }))
    expect(markingKey({ tlp: 'GREEN', releasableTo: ['b', 'a'] })).toBe(
      markingKey({ tlp: 'GREEN', releasableTo: ['a', 'b'] }),
    )
  })

  it('[V7] PAP never changes who sees an event', () => {
    for (const pap of ['CLEAR', 'GREEN', 'AMBER', 'RED'] as const)
      for (const who of [estonia, latvia, ncsc])
        expect(canSee(who, event({ tlp: 'AMBER', releasableTo: ['LV'], pap }))).toBe(
          canSee(who, event({ tlp: 'AMBER', releasableTo: ['LV'] })),
        )
  })
})

describe("[C4, C19] what a command's events carry, and which teams that reaches", () => {
  const coordinator: Viewer = { organisation: 'cert-ee', nation: 'EE', roles: ['coordinator'], userId: 'mart' }
  const decided = (state: Parameters<typeof decide>[0], command: Parameters<typeof decide>[1]) => {
    const decision = decide(state, command, { viewer: coordinator, now: '2026-11-01T10:00:00.000Z', newId: () => 'x' })
    if (!decision.ok) throw new Error(JSON.stringify(decision.rejection))
    return decision.events[0]!
  }
  const report = (seq: number, marking: Marking) =>
    makeEvent(
      seq,
      'incident.reported',
      { incidentId: 'i', title: 'T', severity: 'high', category: 'c', affectedNetworks: [] },
      { marking },
    )

  it('commandVisibility says what decide marks them with, for an incident and for a task marked apart from it', () => {
    const shared: Marking = { tlp: 'AMBER', releasableTo: ['cert-lv'] }
    let state = fold(initialState, [report(1, shared)])
    const created = decided(state, { type: 'task.create', incidentId: 'i', title: 'Isolate', priority: 'normal' })
    expect({ source: created.source, marking: created.marking }).toEqual(commandVisibility(state.incidents.get('i')!))
    state = fold(state, [{ ...created, seq: 2, recordedAt: created.occurredAt } as never])
    // the incident widened since: the task's own marking stays the stricter part
    state = fold(state, [report(3, { tlp: 'GREEN' })])
    const task = [...state.tasks.values()][0]!
    const assigned = decided(state, {
      type: 'task.assign',
      taskId: task.taskId,
      assignee: { kind: 'user', userId: 'u' },
    })
    expect(commandVisibility(state.incidents.get('i')!, task).marking).toEqual(assigned.marking)
    expect(assigned.marking.tlp).toBe('AMBER')
  })

  it("teamMaySee judges a team on what the judge may place, never on another community's members", () => {
    const lv = { organisation: 'cert-lv', nation: 'LV', communities: [] as string[] }
    const placed = (name: string) => ['cert-lv', 'cert-ee', 'LV', 'EE', 'baltic'].includes(name)
    const of = (marking: Marking) => ({ source: { organisation: 'cert-ee' }, marking })
    expect(teamMaySee(lv, of({ tlp: 'GREEN' }), placed)).toBe(true)
    expect(teamMaySee(lv, of({ tlp: 'AMBER' }), placed)).toBe(false)
    expect(teamMaySee(lv, of({ tlp: 'AMBER', releasableTo: ['LV'] }), placed)).toBe(true)
    expect(teamMaySee(lv, of({ tlp: 'AMBER', releasableTo: ['baltic'] }), placed)).toBe(false) // it shares none with the judge
    expect(teamMaySee({ ...lv, communities: ['baltic'] }, of({ tlp: 'AMBER', releasableTo: ['baltic'] }), placed)).toBe(
      true,
    )
    expect(teamMaySee(lv, of({ tlp: 'AMBER', releasableTo: ['energy'] }), placed)).toBe(true) // not placed: not judged
    expect(teamMaySee(lv, of({ tlp: 'RED', recipients: ['ilze'] }), placed)).toBe(false)
    expect(teamMaySee(lv, of({ tlp: 'AMBER+STRICT' }), placed)).toBe(false)
  })
})

import { describe, expect, it } from 'vitest'
import { type Candidate, type PeopleCaller, peopleFor } from './peopleDirectory.ts'

const CANDIDATES: Candidate[] = [
  { userId: 'kadri', displayName: 'Kadri Tamm', organisation: 'cert-ee', roles: ['analyst'] },
  { userId: 'mart', displayName: 'Mart Kask', organisation: 'cert-ee', roles: ['watch_officer'] },
  { userId: 'sensor-ee', displayName: 'sensor-ee', organisation: 'cert-ee', roles: ['sensor'] },
  { userId: 'gone', displayName: 'Gone Away', organisation: 'cert-ee', roles: ['analyst'], disabled: true },
  { userId: 'ilze', displayName: 'Ilze Berzina', organisation: 'cert-lv', roles: ['analyst'] },
  { userId: 'root', displayName: 'Root', organisation: 'alliance', roles: ['admin'] },
  // a static principal with the same user id as an account: the account's name wins
  { userId: 'kadri', displayName: 'kadri', organisation: 'cert-ee', roles: ['analyst'] },
]
const ORGANISATIONS = [
  { id: 'cert-lv', name: 'CERT.LV' },
  { id: 'cert-ee', name: 'CERT-EE' },
]

const caller = (over: Partial<PeopleCaller>): PeopleCaller => ({
  user: 'coord-ee',
  organisation: 'cert-ee',
  roles: ['coordinator'],
  kind: 'api',
  ...over,
})

describe('the people directory: whom a caller may assign to or mention', () => {
  it('[C2, C4] a coordinator gets the persons of its own organisation and every team, never another organisation’s accounts', () => {
    const reply = peopleFor(caller({}), CANDIDATES, ORGANISATIONS)
    expect(reply.may).toEqual({ assign: true, mention: true })
    expect(reply.people).toEqual([
      { userId: 'kadri', displayName: 'Kadri Tamm', organisation: 'cert-ee' },
      { userId: 'mart', displayName: 'Mart Kask', organisation: 'cert-ee' },
    ])
    expect(reply.teams).toEqual([
      { organisation: 'cert-ee', name: 'CERT-EE' },
      { organisation: 'cert-lv', name: 'CERT.LV' },
    ])
  })

  it('[C2] a person who may only comment gets its organisation’s people to mention, and no teams', () => {
    const reply = peopleFor(
      caller({ user: 'ilze', organisation: 'cert-lv', roles: ['analyst'] }),
      CANDIDATES,
      ORGANISATIONS,
    )
    expect(reply.may).toEqual({ assign: false, mention: true })
    expect(reply.people.map((p) => p.userId)).toEqual(['ilze'])
    expect(reply.teams).toEqual([])
  })

  it('[C2] a coordinator of an organisation missing from the directory still gets its own team', () => {
    const reply = peopleFor(
      caller({ user: 'root', organisation: 'alliance', roles: ['admin'] }),
      CANDIDATES,
      ORGANISATIONS,
    )
    expect(reply.people.map((p) => p.userId)).toEqual(['root'])
    expect(reply.teams.map((t) => t.organisation)).toEqual(['alliance', 'cert-ee', 'cert-lv'])
  })

  it('[A1, A2, A7] a sensor, a display token and a caller viewing as another audience get nobody', () => {
    for (const c of [
      caller({ roles: ['sensor'] }),
      caller({ kind: 'display' }),
      caller({ viewingAs: { kind: 'organisation', id: 'cert-lv' } }),
    ]) {
      const reply = peopleFor(c, CANDIDATES, ORGANISATIONS)
      expect(reply).toEqual({ people: [], teams: [], may: { assign: false, mention: false } })
    }
  })
})

describe('[C19] what the people directory tells of a team', () => {
  it('its nation, and only the communities it shares with the caller', () => {
    const organisations = [
      { id: 'cert-lv', name: 'CERT.LV', nation: 'LV' },
      { id: 'ncsc-nl', name: 'NCSC-NL', nation: 'NL' },
    ]
    const memberships: Record<string, string[]> = { 'cert-lv': ['baltic', 'energy'], 'ncsc-nl': ['energy'] }
    const reply = peopleFor(
      caller({ communities: ['baltic'] }),
      CANDIDATES,
      organisations,
      (organisation) => memberships[organisation] ?? [],
    )
    expect(reply.teams).toEqual([
      { organisation: 'cert-ee', name: 'cert-ee' },
      { organisation: 'cert-lv', name: 'CERT.LV', nation: 'LV', communities: ['baltic'] },
      { organisation: 'ncsc-nl', name: 'NCSC-NL', nation: 'NL' },
    ])
    expect(reply.communities).toEqual(['baltic'])
    // one who may not assign learns neither
    const analyst = peopleFor(caller({ roles: ['analyst'], communities: ['baltic'] }), CANDIDATES, organisations)
    expect(analyst.teams).toEqual([])
    expect(analyst.communities).toBeUndefined()
  })
})

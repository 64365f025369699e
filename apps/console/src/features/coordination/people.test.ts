import { extractMentions, type Visible } from '@watchfloor/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  chosenOption,
  incidentOptions,
  insertMention,
  matchOptions,
  mentionAt,
  namesOf,
  PEOPLE_RETRY_MS,
  type PeopleReply,
  peopleDirectory,
  personName,
  personOptions,
  summaryNames,
  teamName,
  teamOptions,
  teamsReaching,
} from './people.ts'

const REPLY: PeopleReply = {
  people: [
    { userId: 'liis', displayName: 'Liis Saar', organisation: 'cert-ee' },
    { userId: 'jaan', displayName: 'Jaan Õun', organisation: 'cert-ee' },
    { userId: 'msaar', displayName: 'Mari Kask', organisation: 'cert-ee' },
  ],
  teams: [
    { organisation: 'cert-ee', name: 'CERT-EE' },
    { organisation: 'cert-lv', name: 'cert-lv' },
  ],
  may: { assign: true, mention: true },
}

describe('people and teams to choose from', () => {
  it('the directory’s people first, with their names; then the user ids the picture names, each once', () => {
    const options = personOptions(REPLY, ['kadri', 'liis'])
    expect(options.map((o) => [o.id, o.label])).toEqual([
      ['liis', 'Liis Saar'],
      ['jaan', 'Jaan Õun'],
      ['msaar', 'Mari Kask'],
      ['kadri', 'kadri'],
    ])
    expect(options[0]!.detail).toBe('@liis · cert-ee')
  })

  it('teams: the directory’s organisations by name, then those the picture names', () => {
    expect(teamOptions(REPLY, ['cert-fi', 'cert-ee']).map((o) => [o.id, o.label, o.detail])).toEqual([
      ['cert-ee', 'CERT-EE', 'cert-ee'],
      ['cert-lv', 'cert-lv', undefined],
      ['cert-fi', 'cert-fi', undefined],
    ])
  })

  it('without a directory (not read yet, refused) the picture’s names remain', () => {
    expect(personOptions(null, ['kadri']).map((o) => o.id)).toEqual(['kadri'])
    expect(personName(namesOf(null), 'kadri')).toBe('kadri')
  })

  it('names by id: a person’s display name, a team’s name, the id when unknown', () => {
    const names = namesOf(REPLY)
    expect(personName(names, 'liis')).toBe('Liis Saar')
    expect(personName(names, 'ghost')).toBe('ghost')
    expect(teamName(names, 'cert-ee')).toBe('CERT-EE')
    expect(teamName(names, 'cert-pt')).toBe('cert-pt')
  })
})

describe('matching what is typed', () => {
  const options = personOptions(REPLY, [])

  it('a name or id that starts with it first, then a word of the name, then anywhere; case and accents ignored', () => {
    expect(matchOptions(options, 'saar').map((o) => o.id)).toEqual(['liis', 'msaar'])
    expect(matchOptions(options, 'SA').map((o) => o.id)).toEqual(['liis', 'msaar'])
    expect(matchOptions(options, 'oun').map((o) => o.id)).toEqual(['jaan'])
    expect(matchOptions(options, 'ka').map((o) => o.id)).toEqual(['msaar'])
    expect(matchOptions(options, 'aar').map((o) => o.id)).toEqual(['liis', 'msaar'])
    expect(matchOptions(options, 'zz')).toEqual([])
  })

  it('an @ before the query is ignored; nothing typed lists the first ones, at most the limit', () => {
    expect(matchOptions(options, '@li').map((o) => o.id)).toEqual(['liis'])
    expect(matchOptions(options, '', 2).map((o) => o.id)).toEqual(['liis', 'jaan'])
    expect(matchOptions(options, 'a', 1)).toHaveLength(1)
  })

  it('incidents by title: not this one, not those merged away', () => {
    const incidents = [
      { incidentId: 'a', title: 'Wiper on the grid', severity: 'high', status: 'new', organisation: 'cert-ee' },
      { incidentId: 'b', title: 'Phishing wave', severity: 'low', status: 'new', organisation: 'cert-lv' },
      {
        incidentId: 'c',
        title: 'Wiper again',
        severity: 'low',
        status: 'new',
        organisation: 'cert-ee',
        mergedInto: 'a',
      },
    ] as unknown as Parameters<typeof incidentOptions>[0]
    const choices = incidentOptions(incidents, 'b')
    expect(choices.map((o) => o.id)).toEqual(['a'])
    expect(matchOptions(incidentOptions(incidents, 'x'), 'wip').map((o) => o.label)).toEqual(['Wiper on the grid'])
    expect(choices[0]!.detail).toBe('high · new · cert-ee')
  })
})

describe('the @ being typed', () => {
  it('[C15] an @ at the start or after a space opens a mention; an address does not', () => {
    expect(mentionAt('@li', 3)).toEqual({ start: 0, query: 'li' })
    expect(mentionAt('thanks @', 8)).toEqual({ start: 7, query: '' })
    expect(mentionAt('mail kadri@cert', 15)).toBeNull()
    expect(mentionAt('thanks @li and more', 19)).toBeNull()
    expect(mentionAt('thanks @li and more', 10)).toEqual({ start: 7, query: 'li' })
  })

  it('[C15] choosing writes @userId and a space in place of what was typed, and core reads it as the mention', () => {
    const text = 'ask @sa about it'
    const at = mentionAt(text, 7)!
    const next = insertMention(text, at, 'msaar', 7)
    expect(next.text).toBe('ask @msaar about it')
    expect(next.caret).toBe('ask @msaar '.length)
    expect(extractMentions(next.text)).toEqual(['msaar'])
    const end = insertMention('hi @li', mentionAt('hi @li', 6)!, 'liis', 6)
    expect(end).toEqual({ text: 'hi @liis ', caret: 9 })
  })
})

describe('names for histories (core summarise)', () => {
  it('incidents and tasks by their titles in the picture, people by the directory; unknown ids stay', () => {
    const state = {
      incidents: new Map([['inc-1', { title: 'Wiper on the grid' }]]),
      tasks: new Map([['t-1', { title: 'Isolate the jump hosts' }]]),
    } as unknown as Parameters<typeof summaryNames>[0]
    const names = summaryNames(state, namesOf(REPLY))
    expect(names.incident?.('inc-1')).toBe('Wiper on the grid')
    expect(names.task?.('t-1')).toBe('Isolate the jump hosts')
    expect(names.person?.('liis')).toBe('Liis Saar')
    expect([names.incident?.('x'), names.task?.('x'), names.person?.('x')]).toEqual([undefined, undefined, undefined])
  })
})

describe('the people directory, read once a session', () => {
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
    peopleDirectory.getState().clear()
  })
  const answers = (...statuses: number[]) => {
    const asked: string[] = []
    vi.stubGlobal('fetch', async (path: string) => {
      asked.push(path)
      const status = statuses.shift() ?? 200
      if (status === 0) throw new TypeError('network down')
      return new Response(JSON.stringify(status === 200 ? REPLY : { error: { code: 'internal', message: 'x' } }), {
        status,
        headers: { 'content-type': 'application/json' },
      })
    })
    return asked
  }

  it('read again, later and later, when the server failed or was not reached; not when it refused', async () => {
    vi.useFakeTimers()
    const asked = answers(503, 0, 200)
    peopleDirectory.getState().load('kadri')
    await vi.advanceTimersByTimeAsync(0)
    expect(asked).toHaveLength(1)
    expect(peopleDirectory.getState().reply).toBeNull()
    await vi.advanceTimersByTimeAsync(PEOPLE_RETRY_MS)
    expect(asked).toHaveLength(2)
    // the second wait is twice the first
    await vi.advanceTimersByTimeAsync(PEOPLE_RETRY_MS)
    expect(asked).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(PEOPLE_RETRY_MS)
    expect(asked).toHaveLength(3)
    expect(peopleDirectory.getState().reply).toEqual(REPLY)

    // a refusal is an answer: the picture's names remain, nothing is asked again
    peopleDirectory.getState().clear()
    const refused = answers(403)
    peopleDirectory.getState().load('display')
    await vi.advanceTimersByTimeAsync(10 * PEOPLE_RETRY_MS)
    expect(refused).toHaveLength(1)
    // a session that ended stops the retries, also when the same user signs in again meanwhile
    peopleDirectory.getState().clear()
    const ended = answers(503, 503, 503)
    peopleDirectory.getState().load('mari')
    await vi.advanceTimersByTimeAsync(0)
    peopleDirectory.getState().clear()
    await vi.advanceTimersByTimeAsync(10 * PEOPLE_RETRY_MS)
    expect(ended).toHaveLength(1)
    peopleDirectory.getState().load('mari')
    await vi.advanceTimersByTimeAsync(0)
    peopleDirectory.getState().clear()
    peopleDirectory.getState().load('mari')
    await vi.advanceTimersByTimeAsync(0)
    expect(ended).toHaveLength(3)
    // one chain of retries only: the second load's
    await vi.advanceTimersByTimeAsync(PEOPLE_RETRY_MS)
    expect(ended).toHaveLength(4)
  })
})

describe('[C19] the teams a task is offered to', () => {
  const reply: PeopleReply = {
    people: [],
    teams: [
      { organisation: 'cert-ee', name: 'CERT-EE', nation: 'EE' },
      { organisation: 'cert-lv', name: 'CERT.LV', nation: 'LV', communities: ['baltic'] },
      { organisation: 'ncsc-nl', name: 'NCSC-NL', nation: 'NL' },
    ],
    communities: ['baltic'],
    may: { assign: true, mention: true },
  }
  const options = [...teamOptions(reply, ['relay-org']).values()]
  const offered = (marking: Visible['marking']) =>
    teamsReaching(options, reply, { source: { organisation: 'cert-ee' }, marking }, 'cert-ee').map((o) => o.id)

  it('only those its marking reaches; its own and one known only from the picture always', () => {
    expect(offered({ tlp: 'GREEN' })).toEqual(['cert-ee', 'cert-lv', 'ncsc-nl', 'relay-org'])
    expect(offered({ tlp: 'AMBER' })).toEqual(['cert-ee', 'relay-org'])
    expect(offered({ tlp: 'AMBER', releasableTo: ['LV'] })).toEqual(['cert-ee', 'cert-lv', 'relay-org'])
    expect(offered({ tlp: 'AMBER', releasableTo: ['baltic'] })).toEqual(['cert-ee', 'cert-lv', 'relay-org'])
    expect(offered({ tlp: 'RED', recipients: ['kadri'] })).toEqual(['cert-ee', 'relay-org'])
    // a community the caller is not in: whether a team is in it is not the caller's to know
    expect(offered({ tlp: 'AMBER', releasableTo: ['energy'] })).toEqual(['cert-ee', 'cert-lv', 'ncsc-nl', 'relay-org'])
    // no directory yet: every option
    expect(
      teamsReaching(options, null, { source: { organisation: 'cert-ee' }, marking: { tlp: 'AMBER' } }, 'cert-ee'),
    ).toEqual(options)
  })
})

describe('the incident a link is about', () => {
  const options = [
    { id: 'inc-lv', label: 'Latvia: worm on the energy grid' },
    { id: 'inc-lt', label: 'Lithuania: worm on the energy grid' },
    { id: 'inc-ee', label: 'Estonia: phishing of ministries' },
  ]
  it('the one picked, else the id or title typed, else the only match; several or none are said, never sent', () => {
    expect(chosenOption(options, 'whatever', 'inc-ee')).toEqual({ id: 'inc-ee' })
    expect(chosenOption(options, 'inc-lt', '')).toEqual({ id: 'inc-lt' })
    expect(chosenOption(options, 'Estonia: phishing of ministries', '')).toEqual({ id: 'inc-ee' })
    // half-typed: the only incident it matches, as the list matches it
    expect(chosenOption(options, 'latv', '')).toEqual({ id: 'inc-lv' })
    expect(chosenOption(options, 'worm', '')).toEqual({
      problem: 'Several incidents match "worm": choose one from the list.',
    })
    expect(chosenOption(options, 'no such thing', '')).toEqual({
      problem: 'No incident you can see matches "no such thing".',
    })
    // an id typed whole that the picture does not hold (closed long ago, left out of the live picture) goes to the server
    expect(chosenOption(options, 'inc-2026-0042', '')).toEqual({ id: 'inc-2026-0042' })
    // two with the same title: not guessed
    const twins = [...options, { id: 'inc-lv-2', label: 'Latvia: worm on the energy grid' }]
    expect(chosenOption(twins, 'Latvia: worm on the energy grid', '')).toEqual({
      problem: 'Several incidents match "Latvia: worm on the energy grid": choose one from the list.',
    })
  })
})

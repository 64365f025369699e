import type { StoredEvent } from '@watchfloor/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  isOmitted,
  livePicture,
  liveStateToJson,
  nothingOmitted,
  type Omitted,
  type OmittedKind,
  omittedFromJson,
  omittedKey,
  omittedNames,
  omittedToJson,
} from './live.ts'
import { fold, reduce } from './reduce.ts'
import { stateFromJson } from './selectors.ts'
import { initialState, type State } from './state.ts'
import { makeEvent } from './testing.ts'

const T0 = Date.UTC(2026, 0, 1)
const DAY = 86_400_000
const iso = (ms: number) => new Date(ms).toISOString()
const organisations = ['cert-ee', 'cert-lv']
const incidentIds = ['inc-0', 'inc-1', 'inc-2', 'inc-3', 'inc-4', 'inc-5', 'inc-6', 'inc-7']
const taskIds = ['task-0', 'task-1', 'task-2', 'task-3']

interface Draft {
  kind: number
  a: number
  b: number
  organisation: number
  /** Days since the previous event (0 most of the time). */
  gap: number
}

const draftArbitrary: fc.Arbitrary<Draft> = fc.record({
  kind: fc.nat({ max: 99 }),
  a: fc.nat({ max: 7 }),
  b: fc.nat({ max: 7 }),
  organisation: fc.nat({ max: 1 }),
  gap: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 4 })),
})

/** A log that reports, closes, reopens, links, tasks and comments on a few incidents over weeks. */
function buildLog(drafts: readonly Draft[]): StoredEvent[] {
  let at = T0
  const log: StoredEvent[] = [
    makeEvent(
      1,
      'network.registered',
      {
        networkId: 'ee-gov',
        name: 'Estonian government network',
        organisation: 'cert-ee',
        nation: 'EE',
        kind: 'government',
        location: { lat: 59, lon: 24 },
      },
      { occurredAt: iso(at) },
    ),
  ]
  for (const d of drafts) {
    at += d.gap * DAY
    const seq = log.length + 1
    const options = { organisation: organisations[d.organisation]!, occurredAt: iso(at) }
    const incidentId = incidentIds[d.a]!
    const other = incidentIds[d.b]!
    const taskId = taskIds[d.b % taskIds.length]!
    let event: StoredEvent
    if (d.kind < 12)
      event = makeEvent(
        seq,
        'incident.reported',
        { incidentId, title: `Incident ${d.a}`, severity: 'high', category: 'malware', affectedNetworks: ['ee-gov'] },
        options,
      )
    else if (d.kind < 24)
      event = makeEvent(seq, 'incident.updated', { incidentId, status: d.b % 3 === 0 ? 'triaged' : 'closed' }, options)
    else if (d.kind < 40) event = makeEvent(seq, 'incident.observation', { incidentId, count: 1 + d.b }, options)
    else if (d.kind < 46)
      event =
        d.a === d.b
          ? makeEvent(seq, 'incident.acknowledged', { incidentId }, options)
          : makeEvent(
              seq,
              'incident.linked',
              { incidentId, otherIncidentId: other, relation: d.kind % 2 ? 'related' : 'merged_into' },
              options,
            )
    else if (d.kind < 54)
      event = makeEvent(seq, 'task.created', { taskId, incidentId, title: 'Contain', priority: 'high' }, options)
    else if (d.kind < 64)
      event =
        d.kind % 2
          ? makeEvent(seq, 'task.completed', { taskId }, options)
          : makeEvent(seq, 'task.reopened', { taskId }, options)
    else if (d.kind < 72)
      event = makeEvent(
        seq,
        'comment.posted',
        { commentId: `c-${d.b}`, incidentId, body: 'On it', mentions: [] },
        options,
      )
    else if (d.kind < 80)
      event = makeEvent(
        seq,
        'advisory.published',
        { advisoryId: `adv-${d.b}`, title: 'Patch', body: 'Now', ...(d.a % 2 ? { incidentId } : {}) },
        options,
      )
    else if (d.kind < 84)
      event = makeEvent(
        seq,
        'bookmark.saved',
        { bookmarkId: `bm-${d.b}`, title: 'Look', clock: 'recorded', at: iso(at) },
        options,
      )
    else if (d.kind < 90)
      event = makeEvent(
        seq,
        'incident.network_state_set',
        { incidentId, networkId: 'ee-gov', state: 'contained' },
        options,
      )
    else
      event = makeEvent(seq, 'task.assigned', { taskId, assignee: { kind: 'team', organisation: 'cert-ee' } }, options)
    log.push(event)
  }
  return log
}

/**
 * What a console holding a live picture does with each live event: when the event names
 * something the cut left out, it asks for the picture again (at the event or a little later,
 * with what was named included); else it folds the event.
 */
function follow(log: readonly StoredEvent[], cut: number, sinceMs: number, lags: readonly number[]) {
  const wholeAt = (seq: number) => fold(initialState, log.slice(0, seq))
  let cutFrom = wholeAt(cut)
  let { state, omitted } = livePicture(cutFrom, { sinceMs })
  const included = new Set<string>()
  let refreshes = 0
  const checks: { seq: number; held: State; omitted: Omitted; cutFrom: State }[] = []
  let i = cut
  while (i < log.length) {
    const event = log[i]!
    const names = omittedNames(event, omitted)
    if (names.length === 0) {
      state = reduce(state, event)
      i++
    } else {
      for (const name of names) included.add(name)
      const at = Math.min(log.length, i + 1 + lags[refreshes % lags.length]!)
      cutFrom = wholeAt(at)
      ;({ state, omitted } = livePicture(cutFrom, { sinceMs, include: included }))
      refreshes++
      i = at
    }
    checks.push({ seq: i, held: state, omitted, cutFrom })
  }
  return { checks, refreshes, wholeAt }
}

/**
 * The held picture agrees with the whole one: what it holds is the same; what it lacks is listed
 * as left out and has not changed since the cut (`cutFrom`) that left it out.
 */
function expectAgrees(held: State, whole: State, omitted: Omitted, cutFrom: State): void {
  expect(held.seq).toBe(whole.seq)
  expect([...held.networks]).toEqual([...whole.networks])
  expect([...held.bookmarks]).toEqual([...whole.bookmarks])
  const kinds: [
    OmittedKind,
    ReadonlyMap<string, unknown>,
    ReadonlyMap<string, unknown>,
    ReadonlyMap<string, unknown>,
  ][] = [
    ['incident', held.incidents, whole.incidents, cutFrom.incidents],
    ['task', held.tasks, whole.tasks, cutFrom.tasks],
    ['advisory', held.advisories, whole.advisories, cutFrom.advisories],
  ]
  for (const [kind, heldMap, wholeMap, before] of kinds) {
    for (const [id, value] of heldMap) expect(value, `${kind} ${id}`).toEqual(wholeMap.get(id))
    for (const [id, value] of wholeMap) {
      if (heldMap.has(id)) continue
      expect(isOmitted(omitted, kind, id), `${kind} ${id}`).toBe(true)
      expect(value, `${kind} ${id} changed since it was left out`).toEqual(before.get(id))
    }
  }
  for (const [id, comment] of whole.comments) {
    if (held.incidents.has(comment.incidentId)) expect(held.comments.get(id)).toEqual(comment)
  }
  for (const [id, comment] of held.comments) expect(comment).toEqual(whole.comments.get(id))
}

describe('livePicture', () => {
  it('keeps open incidents, recently active closed ones, open tasks, links and recent advisories', () => {
    const old = { occurredAt: iso(T0) }
    const recent = { occurredAt: iso(T0 + 20 * DAY) }
    const report = (seq: number, incidentId: string, at: { occurredAt: string }) =>
      makeEvent(
        seq,
        'incident.reported',
        { incidentId, title: incidentId, severity: 'low', category: 'malware', affectedNetworks: [] },
        at,
      )
    const log = [
      report(1, 'old-closed', old),
      makeEvent(2, 'incident.updated', { incidentId: 'old-closed', status: 'closed' }, old),
      report(3, 'old-open', old),
      report(4, 'old-with-task', old),
      makeEvent(5, 'task.created', { taskId: 't-open', incidentId: 'old-with-task', title: 'x', priority: 'low' }, old),
      makeEvent(6, 'incident.updated', { incidentId: 'old-with-task', status: 'closed' }, old),
      report(7, 'old-linked', old),
      makeEvent(8, 'incident.updated', { incidentId: 'old-linked', status: 'closed' }, old),
      makeEvent(
        9,
        'incident.linked',
        { incidentId: 'old-open', otherIncidentId: 'old-linked', relation: 'related' },
        old,
      ),
      makeEvent(10, 'advisory.published', { advisoryId: 'adv-old', title: 'a', body: 'b' }, old),
      makeEvent(11, 'advisory.published', { advisoryId: 'adv-new', title: 'a', body: 'b' }, recent),
      report(12, 'closed-late', old),
      makeEvent(13, 'incident.updated', { incidentId: 'closed-late', status: 'closed' }, recent),
      makeEvent(14, 'comment.posted', { commentId: 'c1', incidentId: 'old-closed', body: 'x', mentions: [] }, old),
    ]
    const whole = fold(initialState, log)
    const { state, omitted } = livePicture(whole, { sinceMs: T0 + 10 * DAY })
    expect([...state.incidents.keys()].sort()).toEqual(['closed-late', 'old-linked', 'old-open', 'old-with-task'])
    expect([...state.advisories.keys()]).toEqual(['adv-new'])
    expect(state.comments.size).toBe(0)
    expect(omitted).toMatchObject({ incidents: 1, tasks: 0, comments: 1, advisories: 1 })
    expect(isOmitted(omitted, 'incident', 'old-closed')).toBe(true)
    expect(isOmitted(omitted, 'advisory', 'adv-old')).toBe(true)
    expect(isOmitted(omitted, 'incident', 'old-open')).toBe(false)
    // asked for by id: an incident, or the incident of a task or advisory
    const asked = livePicture(whole, { sinceMs: T0 + 10 * DAY, include: ['old-closed', 'adv-old', 'nope'] })
    expect(asked.state.incidents.has('old-closed')).toBe(true)
    expect(asked.state.comments.has('c1')).toBe(true)
    expect(asked.state.advisories.has('adv-old')).toBe(true)
    expect(asked.omitted).toMatchObject({ incidents: 0, comments: 0, advisories: 0 })
  })

  it('sends the hashes as JSON and reads them back', () => {
    const omitted: Omitted = {
      ...nothingOmitted(iso(T0)),
      incidents: 3,
      hashes: Uint32Array.from([0, 1, 0xffffffff, omittedKey('incident', 'inc-1')]).sort(),
    }
    for (const length of [0, 1, 2, 3, 4]) {
      const part = { ...omitted, hashes: omitted.hashes.slice(0, length) }
      const back = omittedFromJson(JSON.parse(JSON.stringify(omittedToJson(part))))
      expect([...back.hashes]).toEqual([...part.hashes])
      expect(back.incidents).toBe(3)
    }
    expect(() => omittedFromJson({ ...omittedToJson(omitted), hashes: 'not base64!' })).toThrow(/base64/)
    const whole = fold(initialState, buildLog([{ kind: 0, a: 1, b: 0, organisation: 0, gap: 0 }]))
    const json = JSON.parse(JSON.stringify(liveStateToJson(whole, omitted)))
    expect(stateFromJson(json).incidents.get('inc-1')).toEqual(whole.incidents.get('inc-1'))
  })

  it('a console that folds live events onto the cut, asking again when one names what was left out, agrees with the whole picture', () => {
    fc.assert(
      fc.property(
        fc.array(draftArbitrary, { minLength: 1, maxLength: 160 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 4 }),
        (drafts, cutAt, sinceAt, lags) => {
          const log = buildLog(drafts)
          const cut = Math.max(1, Math.floor(cutAt * log.length))
          // since: somewhere between the first event and the cut
          const sinceMs = T0 + sinceAt * (Date.parse(log[cut - 1]!.occurredAt) - T0)
          const { checks, wholeAt } = follow(log, cut, sinceMs, lags)
          for (const { seq, held, omitted, cutFrom } of checks) expectAgrees(held, wholeAt(seq), omitted, cutFrom)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('names what was left out for every kind of event that needs it, and folding those without it would go wrong', () => {
    const old = { occurredAt: iso(T0) }
    const late = { occurredAt: iso(T0 + 30 * DAY) }
    const base = [
      makeEvent(
        1,
        'incident.reported',
        { incidentId: 'gone', title: 'Old', severity: 'low', category: 'malware', affectedNetworks: [] },
        old,
      ),
      makeEvent(2, 'task.created', { taskId: 'gone-task', incidentId: 'gone', title: 'x', priority: 'low' }, old),
      makeEvent(3, 'task.completed', { taskId: 'gone-task' }, old),
      makeEvent(4, 'incident.updated', { incidentId: 'gone', status: 'closed' }, old),
      makeEvent(5, 'advisory.published', { advisoryId: 'gone-adv', title: 'a', body: 'b' }, old),
      makeEvent(
        6,
        'incident.reported',
        { incidentId: 'live', title: 'New', severity: 'low', category: 'malware', affectedNetworks: [] },
        late,
      ),
    ]
    const whole = fold(initialState, base)
    const { state, omitted } = livePicture(whole, { sinceMs: T0 + 10 * DAY })
    expect(omitted).toMatchObject({ incidents: 1, tasks: 1, advisories: 1 })
    const next: [StoredEvent, string[]][] = [
      [makeEvent(7, 'task.reopened', { taskId: 'gone-task' }, late), ['gone-task']],
      [makeEvent(7, 'incident.observation', { incidentId: 'gone', count: 3 }, late), ['gone']],
      [
        makeEvent(7, 'incident.linked', { incidentId: 'live', otherIncidentId: 'gone', relation: 'related' }, late),
        ['gone'],
      ],
      [
        makeEvent(7, 'task.created', { taskId: 'gone-task', incidentId: 'live', title: 'y', priority: 'low' }, late),
        ['gone-task'],
      ],
      [
        makeEvent(
          7,
          'advisory.published',
          { advisoryId: 'gone-adv', title: 'b', body: 'c' },
          {
            ...late,
            organisation: 'cert-lv',
          },
        ),
        ['gone-adv'],
      ],
      [
        makeEvent(
          7,
          'incident.reported',
          { incidentId: 'gone', title: 'Again', severity: 'high', category: 'malware', affectedNetworks: [] },
          { ...late, organisation: 'cert-lv' },
        ),
        ['gone'],
      ],
    ]
    for (const [event, names] of next) {
      expect(omittedNames(event, omitted), event.type).toEqual(names)
      expect(() => expectAgrees(reduce(state, event), reduce(whole, event), omitted, whole), event.type).toThrow()
      const again = livePicture(reduce(whole, event), { sinceMs: T0 + 10 * DAY, include: names })
      expectAgrees(again.state, reduce(whole, event), again.omitted, reduce(whole, event))
    }
    // what names nothing left out folds as it is: a comment on an incident left out comes with the incident
    for (const fine of [
      makeEvent(7, 'incident.observation', { incidentId: 'live', count: 1 }, late),
      makeEvent(7, 'comment.posted', { commentId: 'c', incidentId: 'gone', body: 'x', mentions: [] }, late),
    ]) {
      expect(omittedNames(fine, omitted)).toEqual([])
      expectAgrees(reduce(state, fine), reduce(whole, fine), omitted, whole)
    }
  })

  it('without the refresh the console would go wrong (the check above can fail)', () => {
    // an old closed incident reopened by a live update: folded onto a picture without it, the update is lost
    const log = buildLog([
      { kind: 0, a: 1, b: 0, organisation: 0, gap: 0 },
      { kind: 12, a: 1, b: 1, organisation: 0, gap: 0 },
      { kind: 12, a: 1, b: 0, organisation: 0, gap: 30 },
    ])
    const whole = fold(initialState, log.slice(0, 3))
    const { state, omitted } = livePicture(whole, { sinceMs: T0 + 10 * DAY })
    expect(state.incidents.has('inc-1')).toBe(false)
    const reopen = log[3]!
    expect(omittedNames(reopen, omitted)).toEqual(['inc-1'])
    expect(() => expectAgrees(reduce(state, reopen), fold(initialState, log), omitted, whole)).toThrow(/changed since/)
  })
})

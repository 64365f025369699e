import { eventTime, initialState, makeEvent, type ReplayClock, replayFromScratch, stateToJson } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import {
  bookmarkWindow,
  isLate,
  LATE_MS,
  needsHistory,
  playheadStep,
  playheadTime,
  ReplayModel,
  steppedPlayhead,
} from './model.ts'

const T0 = Date.UTC(2026, 10, 1)
const iso = (ms: number) => new Date(ms).toISOString()

/** A small seeded generator (the same log on every run). */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0
    return s / 0x1_0000_0000
  }
}

/** seq 1..n; recordedAt never decreases; occurredAt mostly equal, sometimes much earlier (late reports). */
function buildLog(n: number, seed: number): StoredEvent[] {
  const rand = random(seed)
  let recorded = T0
  const log: StoredEvent[] = []
  for (let seq = 1; seq <= n; seq++) {
    recorded += Math.floor(rand() * 4) * 60_000
    const late = rand() < 0.15 ? Math.floor(rand() * 180) * 60_000 : 0
    const incidentId = `inc-${Math.floor(rand() * 6)}`
    const options = { occurredAt: iso(recorded - late) }
    const kind = rand()
    const event =
      kind < 0.25
        ? makeEvent(
            seq,
            'incident.reported',
            { incidentId, title: incidentId, severity: 'high', category: 'malware', affectedNetworks: ['ee-gov'] },
            options,
          )
        : kind < 0.5
          ? makeEvent(seq, 'incident.updated', { incidentId, status: rand() < 0.5 ? 'closed' : 'triaged' }, options)
          : makeEvent(seq, 'incident.observation', { incidentId, networkId: 'ee-gov', count: 1 }, options)
    log.push({ ...event, recordedAt: iso(recorded) } as StoredEvent)
  }
  return log
}

const all = () => true
const json = (state: Parameters<typeof stateToJson>[0]) => stateToJson(state)

/** What the console does: the base at `from` from the server, the window's events, a local fold. */
function modelFor(log: StoredEvent[], clock: ReplayClock, from: number, to: number, interval: number) {
  const base = replayFromScratch(log, all, clock, from)
  const windowEvents = log.filter((e) => eventTime(e, clock) >= from && eventTime(e, clock) < to)
  if (!needsHistory(base, windowEvents, clock, from)) return new ReplayModel(base, windowEvents, clock, { interval })
  const before = log.filter((e) => eventTime(e, clock) < to)
  return new ReplayModel(initialState, before, clock, { interval, always: (e) => eventTime(e, clock) < from })
}

describe('replay model', () => {
  for (const clock of ['recorded', 'occurred'] as const) {
    it(`[P1] the picture at the playhead is the fold of every event up to it (${clock} clock), seeking both ways`, () => {
      for (const seed of [1, 2, 3, 4]) {
        const log = buildLog(400, seed)
        const from = T0 + 120 * 60_000
        const to = T0 + 500 * 60_000
        const model = modelFor(log, clock, from, to, 16)
        // forwards event by event, then random seeks (backwards too)
        const rand = random(seed + 100)
        const moments: number[] = []
        for (let t: number | null = from; t !== null && t < to; t = model.nextTime(t)) moments.push(t)
        for (let i = 0; i < 40; i++) moments.push(from + Math.floor(rand() * (to - from)))
        for (const t of moments) {
          expect(json(model.at(t).state), `${clock} seed ${seed} at ${iso(t)}`).toEqual(
            json(replayFromScratch(log, all, clock, t)),
          )
        }
      }
    })
  }

  it('on the occurred clock, a late report in the base needs the history before the window', () => {
    const report = (seq: number, occurred: number, recorded: number) =>
      ({
        ...makeEvent(
          seq,
          'incident.reported',
          { incidentId: `i${seq}`, title: 't', severity: 'low', category: 'c', affectedNetworks: [] },
          { occurredAt: iso(occurred) },
        ),
        recordedAt: iso(recorded),
      }) as StoredEvent
    // seq 2 happened at T0+10 min but was recorded after seq 1, which happened later (T0+30 min)
    const log = [report(1, T0 + 30 * 60_000, T0 + 30 * 60_000), report(2, T0 + 10 * 60_000, T0 + 40 * 60_000)]
    const from = T0 + 20 * 60_000
    const base = replayFromScratch(log, all, 'occurred', from)
    expect(base.seq).toBe(2)
    expect(needsHistory(base, [log[0]!], 'occurred', from)).toBe(true)
    expect(needsHistory(base, [log[0]!], 'recorded', from)).toBe(false)
    const model = modelFor(log, 'occurred', from, T0 + 60 * 60_000, 4)
    expect([...model.at(T0 + 35 * 60_000).state.incidents.keys()].sort()).toEqual(['i1', 'i2'])
    expect([...model.at(from).state.incidents.keys()]).toEqual(['i2'])
  })

  it('steps to the next and previous event times', () => {
    const log = buildLog(50, 9)
    const model = new ReplayModel(initialState, log, 'recorded')
    const first = Date.parse(log[0]!.recordedAt)
    expect(model.nextTime(first - 1)).toBe(first)
    expect(model.previousTime(first)).toBeNull()
    const second = model.nextTime(first)!
    expect(second).toBeGreaterThan(first)
    expect(model.previousTime(second)).toBe(first)
    expect(model.nextTime(Date.parse(log.at(-1)!.recordedAt))).toBeNull()
  })

  it('steps from change to change, passing over observations', () => {
    const log = buildLog(200, 9)
    const model = new ReplayModel(initialState, log, 'recorded')
    const changes = log.filter((e) => e.type !== 'incident.observation').map((e) => Date.parse(e.recordedAt))
    const observations = log.filter((e) => e.type === 'incident.observation')
    expect(observations.length).toBeGreaterThan(changes.length)
    // from each change, the next change is the next non-observation time, whatever observations lie between
    const distinct = [...new Set(changes)].sort((a, b) => a - b)
    for (let i = 0; i + 1 < distinct.length; i++) {
      expect(model.nextTime(distinct[i]!, true)).toBe(distinct[i + 1])
      expect(model.previousTime(distinct[i + 1]!, true)).toBe(distinct[i])
    }
    expect(model.nextTime(distinct.at(-1)!, true)).toBeNull()
    expect(model.previousTime(distinct[0]!, true)).toBeNull()
    // an observation's time is a step of its own, but never a change
    const lone = observations.map((e) => Date.parse(e.recordedAt)).find((t) => !distinct.includes(t))!
    expect(model.nextTime(lone - 1)).toBe(lone)
    expect(model.nextTime(lone - 1, true)).not.toBe(lone)
  })

  it('returns the same frame while nothing new is folded (so memoised views do not redraw)', () => {
    const log = buildLog(30, 5)
    const model = new ReplayModel(initialState, log, 'recorded')
    const t = Date.parse(log[10]!.recordedAt)
    const frame = model.at(t)
    expect(model.at(t + 1)).toBe(t + 1 < Date.parse(log[11]!.recordedAt) ? frame : model.at(t + 1))
    expect(frame.events.at(-1)!.seq).toBeGreaterThanOrEqual(11)
  })

  it('marks reports recorded more than 5 minutes after they happened as late', () => {
    const event = (lateMs: number) =>
      ({
        ...makeEvent(1, 'incident.observation', { incidentId: 'i', networkId: 'n' }, { occurredAt: iso(T0) }),
        recordedAt: iso(T0 + lateMs),
      }) as StoredEvent
    expect(isLate(event(LATE_MS + 1))).toBe(true)
    expect(isLate(event(LATE_MS))).toBe(false)
    expect(isLate(event(0))).toBe(false)
    expect(isLate(event(-60_000))).toBe(false)
  })
})

describe('the playhead from the keyboard', () => {
  it('an arrow moves it a two-hundredth of the window, in whole seconds, never less than a second', () => {
    expect(playheadStep(30 * 60_000)).toBe(9_000)
    expect(playheadStep(24 * 3600_000)).toBe(432_000)
    expect(playheadStep(60_000)).toBe(1_000)
    expect(playheadStep(0)).toBe(1_000)
  })

  it('stays inside the window', () => {
    expect(steppedPlayhead(T0 + 5_000, 1, 9_000, T0, T0 + 10_000)).toBe(T0 + 10_000)
    expect(steppedPlayhead(T0 + 5_000, -1, 9_000, T0, T0 + 10_000)).toBe(T0)
    expect(steppedPlayhead(T0 + 5_000, 1, 1_000, T0, T0 + 10_000)).toBe(T0 + 6_000)
  })
})

describe('a bookmark reopened', () => {
  it('a moment saved minutes ago opens no window into the future: it ends now', () => {
    const at = T0
    const now = T0 + 3 * 60_000
    expect(bookmarkWindow({ at, from: at - 1_800_000, to: at + 1_800_000, clock: 'occurred' }, now)).toEqual({
      from: at - 1_800_000,
      to: now,
      clock: 'occurred',
      at,
    })
  })

  it('an older moment, or a range, keeps its window', () => {
    const at = T0
    const now = T0 + 86_400_000
    expect(bookmarkWindow({ at, from: at - 1_800_000, to: at + 1_800_000, clock: 'recorded' }, now).to).toBe(
      at + 1_800_000,
    )
    expect(bookmarkWindow({ at: undefined, from: T0, to: T0 + 60_000, clock: 'recorded' }, now)).toEqual({
      from: T0,
      to: T0 + 60_000,
      clock: 'recorded',
    })
  })
})

describe('the playhead said', () => {
  it('to the second on a whole second, else to the millisecond (a step within one second shows it moved)', () => {
    expect(playheadTime(Date.parse('2026-12-08T06:03:02.000Z'))).toBe('2026-12-08 06:03:02Z')
    expect(playheadTime(Date.parse('2026-12-08T06:03:02.417Z'))).toBe('2026-12-08 06:03:02.417Z')
  })
})

import { fold, initialState, isOmitted, makeEvent } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import {
  AHEAD_MS,
  createWatchfloorStore,
  dataTime,
  freshEvents,
  selectNetworkPostures,
  selectOpenCounts,
  selectRecentEvents,
} from './store.ts'

function reported(seq: number, incidentId: string, severity: 'low' | 'medium' | 'high' | 'critical' = 'high') {
  return makeEvent(seq, 'incident.reported', {
    incidentId,
    title: `Incident ${incidentId}`,
    severity,
    category: 'ddos',
    affectedNetworks: ['net-a', 'net-b'],
  })
}

function observed(seq: number, incidentId: string, count?: number) {
  return makeEvent(seq, 'incident.observation', count === undefined ? { incidentId } : { incidentId, count })
}

describe('store', () => {
  it('starts signed out and empty', () => {
    const store = createWatchfloorStore()
    const s = store.getState()
    expect(s.status).toBe('signed-out')
    expect(s.lastSeq).toBe(0)
    expect(s.headSeq).toBe(0)
    expect(s.state).toBe(initialState)
    expect(s.session).toBeNull()
  })

  it('folds a batch once and advances lastSeq and headSeq', () => {
    const store = createWatchfloorStore()
    let notifications = 0
    store.subscribe(() => notifications++)
    store.getState().applyEvents([reported(1, 'i1'), observed(2, 'i1', 3), reported(3, 'i2', 'critical')])
    const s = store.getState()
    expect(notifications).toBe(1)
    expect(s.state.seq).toBe(3)
    expect(s.state.eventCount).toBe(3)
    expect(s.lastSeq).toBe(3)
    expect(s.headSeq).toBe(3)
    expect(s.state.incidents.get('i1')?.observationCount).toBe(3)
    expect(s.state.recent.map((e) => e.seq)).toEqual([1, 2, 3])
  })

  it('ignores duplicates from a replayed batch', () => {
    const store = createWatchfloorStore()
    const batch = [reported(1, 'i1'), observed(2, 'i1')]
    store.getState().applyEvents(batch)
    const before = store.getState().state
    store.getState().applyEvents(batch)
    expect(store.getState().state).toBe(before)
    store.getState().applyEvents([observed(2, 'i1'), observed(3, 'i1')])
    const s = store.getState()
    expect(s.state.eventCount).toBe(3)
    expect(s.state.incidents.get('i1')?.observationCount).toBe(2)
    expect(s.state.recent.map((e) => e.seq)).toEqual([1, 2, 3])
  })

  it('ignores out-of-order events inside and across batches', () => {
    const store = createWatchfloorStore()
    store.getState().applyEvents([reported(1, 'i1'), observed(4, 'i1'), observed(3, 'i1'), observed(4, 'i1')])
    let s = store.getState()
    expect(s.state.seq).toBe(4)
    expect(s.state.eventCount).toBe(2)
    expect(s.state.recent.map((e) => e.seq)).toEqual([1, 4])
    store.getState().applyEvents([observed(2, 'i1')])
    s = store.getState()
    expect(s.state.eventCount).toBe(2)
    expect(s.lastSeq).toBe(4)
  })

  it('an empty batch changes nothing and notifies nobody', () => {
    const store = createWatchfloorStore()
    let notifications = 0
    store.subscribe(() => notifications++)
    store.getState().applyEvents([])
    expect(notifications).toBe(0)
  })

  it('checkpoints advance lastSeq (never backwards) and drop anything at or below it', () => {
    const store = createWatchfloorStore()
    store.getState().applyEvents([reported(1, 'i1')])
    store.getState().checkpoint(10)
    expect(store.getState().lastSeq).toBe(10)
    expect(store.getState().headSeq).toBe(10)
    expect(store.getState().state.seq).toBe(1) // nothing visible between 2 and 10
    store.getState().checkpoint(5)
    expect(store.getState().lastSeq).toBe(10)
    store.getState().applyEvents([observed(9, 'i1'), observed(11, 'i1')])
    const s = store.getState()
    expect(s.state.recent.map((e) => e.seq)).toEqual([1, 11])
    expect(s.lastSeq).toBe(11)
  })

  it('heartbeats are checkpoints and move the head; the ack head moves only the head', () => {
    const store = createWatchfloorStore()
    store.getState().setHead(20)
    expect(store.getState().headSeq).toBe(20)
    expect(store.getState().lastSeq).toBe(0)
    store.getState().heartbeat(25)
    expect(store.getState().headSeq).toBe(25)
    expect(store.getState().lastSeq).toBe(25)
    store.getState().setHead(3)
    expect(store.getState().headSeq).toBe(25)
  })

  it('reset returns to signed-out with an empty picture and keeps the given error', () => {
    const store = createWatchfloorStore()
    store.getState().setSession({ user: 'u', organisation: 'cert-ee', nation: 'EE', roles: ['analyst'] })
    store.getState().setStatus('live')
    store.getState().applyEvents([reported(1, 'i1')])
    store.getState().reset('bye')
    const s = store.getState()
    expect(s.status).toBe('signed-out')
    expect(s.session).toBeNull()
    expect(s.state).toBe(initialState)
    expect(s.lastSeq).toBe(0)
    expect(s.error).toBe('bye')
  })
})

describe('freshEvents', () => {
  it('returns the same array when already clean', () => {
    const events: StoredEvent[] = [observed(2, 'x'), observed(3, 'x')]
    expect(freshEvents(events, 1)).toBe(events)
  })
  it('keeps a strictly increasing run after the cursor', () => {
    const events = [observed(1, 'x'), observed(3, 'x'), observed(2, 'x'), observed(5, 'x')]
    expect(freshEvents(events, 1).map((e) => e.seq)).toEqual([3, 5])
  })
})

describe('selectors', () => {
  it('are memoised on the core state identity', () => {
    const store = createWatchfloorStore()
    store.getState().applyEvents([reported(1, 'i1', 'low'), reported(2, 'i2', 'critical')])
    const a = store.getState()
    const counts = selectOpenCounts(a)
    expect(selectOpenCounts(a)).toBe(counts)
    expect(counts).toEqual({ low: 1, medium: 0, high: 0, critical: 1 })
    const recent = selectRecentEvents(a)
    expect(recent.map((e) => e.seq)).toEqual([2, 1])
    const postures = selectNetworkPostures(a)

    // a change that is not the picture (status, checkpoint) keeps every derived value
    store.getState().setStatus('live')
    store.getState().checkpoint(5)
    const b = store.getState()
    expect(b).not.toBe(a)
    expect(selectOpenCounts(b)).toBe(counts)
    expect(selectRecentEvents(b)).toBe(recent)
    expect(selectNetworkPostures(b)).toBe(postures)

    // a new fold gives new values
    store.getState().applyEvents([makeEvent(6, 'incident.updated', { incidentId: 'i1', status: 'closed' })])
    const c = store.getState()
    expect(selectOpenCounts(c)).not.toBe(counts)
    expect(selectOpenCounts(c)).toEqual({ low: 0, medium: 0, high: 0, critical: 1 })
    expect(selectRecentEvents(c).map((e) => e.seq)).toEqual([6, 2, 1])
  })
})

describe('store: replay mode', () => {
  it('shows a replay while the live picture keeps folding; back to live shows what arrived meanwhile', () => {
    const store = createWatchfloorStore()
    store.getState().applyEvents([reported(1, 'i1'), reported(2, 'i2')])
    const live = store.getState()
    expect(live.mode).toBe('live')
    expect(live.state).toBe(live.liveState)
    expect(live.window).toBe(live.liveWindow)

    const past = live.state // stands in for a replay picture
    store.getState().showReplay(initialState, [])
    let s = store.getState()
    expect(s.mode).toBe('replay')
    expect(s.state).toBe(initialState)
    expect(s.window).toEqual([])

    const version = s.windowVersion
    store.getState().applyEvents([reported(3, 'i3')])
    s = store.getState()
    expect(s.state).toBe(initialState) // the replay stays on screen
    expect(s.windowVersion).toBe(version)
    expect(s.liveState.incidents.has('i3')).toBe(true)
    expect(s.liveWindow.map((e) => e.seq)).toEqual([1, 2, 3])
    expect(s.lastSeq).toBe(3)
    expect(past.incidents.has('i3')).toBe(false)

    store.getState().showLive()
    s = store.getState()
    expect(s.mode).toBe('live')
    expect(s.state).toBe(s.liveState)
    expect(s.window).toBe(s.liveWindow)
    expect([...s.state.incidents.keys()]).toEqual(['i1', 'i2', 'i3'])
    expect(s.windowVersion).toBeGreaterThan(version)
  })

  it('reset empties both pictures and returns to live', () => {
    const store = createWatchfloorStore()
    store.getState().applyEvents([reported(1, 'i1')])
    store.getState().showReplay(initialState, [])
    store.getState().reset()
    const s = store.getState()
    expect(s.mode).toBe('live')
    expect(s.liveState).toBe(initialState)
    expect(s.window).toBe(s.liveWindow)
    store.getState().applyEvents([reported(2, 'i2')])
    expect(store.getState().state.incidents.has('i2')).toBe(true)
  })
})

describe('store: opening from a snapshot, and older history', () => {
  // the data clock is the later of now and the newest event: the log ends now
  const T = Math.floor(Date.now() / 60_000) * 60_000 - 100 * 60_000
  const atMinute = <E extends StoredEvent>(event: E, minute: number): E => {
    const time = new Date(T + minute * 60_000).toISOString()
    return { ...event, occurredAt: time, recordedAt: time }
  }
  const log = [
    atMinute(reported(1, 'i1'), 0),
    ...Array.from({ length: 99 }, (_, i) => atMinute(observed(i + 2, 'i1'), i + 1)),
  ]

  it('puts the snapshot on screen with the recent events; the cursor is its seq; live continues it', () => {
    const store = createWatchfloorStore()
    const snapshot = fold(initialState, log)
    const recent = log.slice(60)
    store.getState().openPicture(snapshot, recent, { from: T + 60 * 60_000, to: Number.POSITIVE_INFINITY })
    let s = store.getState()
    expect(s.state).toBe(snapshot)
    expect(s.liveState).toBe(snapshot)
    expect(s.lastSeq).toBe(100)
    expect(s.window.map((e) => e.seq)).toEqual(recent.map((e) => e.seq))
    expect(s.activity.total()).toBe(40)
    expect(s.activityFrom).toBe(T + 60 * 60_000)
    expect(s.loaded).toEqual([{ from: T + 60 * 60_000, to: Number.POSITIVE_INFINITY }])
    expect(s.opened).toEqual({ seq: 100, events: 40, from: T + 60 * 60_000 })
    store.getState().applyEvents([atMinute(observed(100, 'i1'), 100), atMinute(observed(101, 'i1'), 101)])
    s = store.getState()
    expect(s.state.seq).toBe(101)
    expect(s.state.incidents.get('i1')?.observationCount).toBe(100)
    expect(s.window.at(-1)?.seq).toBe(101)
    expect(s.activity.total()).toBe(41)
  })

  it('adds older history to the window in seq order; the retention drops the oldest and what is loaded shrinks with it', () => {
    const store = createWatchfloorStore()
    store.getState().setRetention({ hours: Number.POSITIVE_INFINITY, maxEvents: 50 })
    store.getState().openPicture(fold(initialState, log), log.slice(60), {
      from: T + 60 * 60_000,
      to: Number.POSITIVE_INFINITY,
    })
    const range = { from: T + 30 * 60_000, to: T + 60 * 60_000 }
    store.getState().addHistory(log.slice(30, 60), range)
    let s = store.getState()
    // 70 events read, 50 kept: the 20 oldest go, and with them what is loaded before the 21st
    expect(s.window.map((e) => e.seq)).toEqual(log.slice(50).map((e) => e.seq))
    expect(s.loaded).toEqual([{ from: Date.parse(log[49]!.recordedAt) + 1, to: Number.POSITIVE_INFINITY }])
    expect(s.activity.total()).toBe(40) // counts are of the recent window and live only
    // an event beyond the cursor is never added (it comes on the stream)
    store.getState().addHistory([atMinute(observed(150, 'i1'), 150)], { from: T, to: T + 1 })
    s = store.getState()
    expect(s.window.at(-1)?.seq).toBe(100)
  })

  it('the wall’s retention: keeps only what it keeps, counts everything, and prunes by age at once', () => {
    const store = createWatchfloorStore()
    store.getState().setRetention({
      hours: 1,
      maxEvents: 1000,
      keep: (event) => event.type !== 'incident.observation',
    })
    const later = atMinute(reported(101, 'i2'), 100)
    const events = [...log, later]
    store.getState().openPicture(fold(initialState, events), events, { from: T, to: Number.POSITIVE_INFINITY })
    const s = store.getState()
    expect(s.window.map((e) => e.seq)).toEqual([101]) // seq 1 occurred over an hour before the newest
    expect(s.activity.total()).toBe(101)
    expect(s.loaded[0]!.from).toBeGreaterThan(T)
  })

  it('an event dated far ahead of when the server recorded it (a sensor’s clock a year fast) moves neither retention’s clock nor the density strip', () => {
    const store = createWatchfloorStore()
    store.getState().setRetention({ hours: 1, maxEvents: 1000 })
    const recent = atMinute(reported(101, 'i2'), 99)
    store.getState().openPicture(fold(initialState, [...log, recent]), [...log, recent], {
      from: T,
      to: Number.POSITIVE_INFINITY,
    })
    const year = 365 * 24 * 3_600_000
    // recorded now by the server, occurred a year ahead by the sensor's clock
    const ahead = {
      ...reported(102, 'i3'),
      occurredAt: new Date(Date.now() + year).toISOString(),
      recordedAt: new Date().toISOString(),
    }
    store.getState().applyEvents([ahead])
    const s = store.getState()
    // the recent incident and its event stay: pruned by this machine's clock, not the sensor's
    expect(s.state.incidents.has('i2')).toBe(true)
    expect(s.window.map((e) => e.seq)).toContain(101)
    // the strip still counts the real minutes, and goes on counting
    const strip = () => s.activity.buckets(T, Date.now() + 60_000, 60_000).reduce((a, b) => a + b, 0)
    const before = strip()
    expect(before).toBeGreaterThan(0)
    store.getState().applyEvents([{ ...atMinute(reported(103, 'i4'), 100), seq: 103 }])
    expect(
      store
        .getState()
        .activity.buckets(T, Date.now() + 60_000, 60_000)
        .reduce((a, b) => a + b, 0),
    ).toBe(before + 1)
    const recordedAt = '2026-12-01T00:00:00.000Z'
    expect(dataTime(Date.parse('2027-12-01T00:00:00.000Z'), recordedAt)).toBe(Date.parse(recordedAt) + AHEAD_MS)
    expect(dataTime(Date.parse('2026-11-30T00:00:00.000Z'), recordedAt)).toBe(Date.parse('2026-11-30T00:00:00.000Z'))
  })

  it('a new picture (empty) forgets what was loaded and counted', () => {
    const store = createWatchfloorStore()
    store.getState().openPicture(fold(initialState, log), log, { from: T, to: Number.POSITIVE_INFINITY })
    store.getState().reset()
    const s = store.getState()
    expect(s.loaded).toEqual([])
    expect(s.opened).toBeNull()
    expect(s.activity.total()).toBe(0)
    expect(s.activityFrom).toBe(Number.NEGATIVE_INFINITY)
  })
})

describe('store: retention on a wall', () => {
  const HOUR = 3_600_000
  const dated = <E extends StoredEvent>(event: E, ms: number, recordedMs = ms): E => ({
    ...event,
    occurredAt: new Date(ms).toISOString(),
    recordedAt: new Date(recordedMs).toISOString(),
  })
  const closed = (seq: number, incidentId: string, ms: number, recordedMs = ms) =>
    dated(makeEvent(seq, 'incident.updated', { incidentId, status: 'closed' }), ms, recordedMs)

  it('prunes a closed incident with its tasks and comments, and lists it as left out', () => {
    const store = createWatchfloorStore()
    store.getState().setRetention({ hours: 6, maxEvents: 1000 })
    const now = Date.now()
    store
      .getState()
      .applyEvents([
        dated(reported(1, 'old'), now - 8 * HOUR),
        dated(
          makeEvent(2, 'task.created', { taskId: 'task-old', incidentId: 'old', title: 'Block', priority: 'low' }),
          now - 8 * HOUR,
        ),
        dated(
          makeEvent(3, 'comment.posted', { commentId: 'c-old', incidentId: 'old', body: 'done', mentions: [] }),
          now - 8 * HOUR,
        ),
        closed(4, 'old', now - 7 * HOUR),
        dated(reported(5, 'new'), now),
      ])
    const s = store.getState()
    expect([...s.state.incidents.keys()]).toEqual(['new'])
    expect(s.state.tasks.size).toBe(0)
    expect(s.state.comments.size).toBe(0)
    expect(s.omitted).toMatchObject({ incidents: 1, tasks: 1, comments: 1 })
    expect(isOmitted(s.omitted!, 'incident', 'old')).toBe(true)
    expect(isOmitted(s.omitted!, 'task', 'task-old')).toBe(true)
  })

  it('prunes by the server’s clock, not the kiosk’s: a kiosk an hour fast prunes nothing early', () => {
    const serverNow = Date.now() - HOUR // the kiosk's clock is an hour ahead of the server's
    const picture = [
      dated(reported(1, 'recent'), serverNow - 6.2 * HOUR),
      closed(2, 'recent', serverNow - 5.5 * HOUR), // 5.5 hours ago by the server, 6.5 by the kiosk
      dated(reported(3, 'other'), serverNow - 10 * 60_000),
    ]
    const opened = createWatchfloorStore()
    opened.getState().setRetention({ hours: 6, maxEvents: 1000 })
    opened.getState().serverTime(new Date(serverNow).toISOString())
    opened.getState().openPicture(fold(initialState, picture), picture, { from: 0, to: Number.POSITIVE_INFINITY })
    expect(opened.getState().state.incidents.has('recent')).toBe(true)
    expect(opened.getState().window.map((e) => e.seq)).toEqual([2, 3])
    expect(opened.getState().refreshPicture(fold(initialState, picture), null)).toBe(true)
    expect(opened.getState().state.incidents.has('recent')).toBe(true)

    const live = createWatchfloorStore()
    live.getState().setRetention({ hours: 6, maxEvents: 1000 })
    live.getState().serverTime(new Date(serverNow).toISOString())
    live.getState().applyEvents(picture)
    expect(live.getState().state.incidents.has('recent')).toBe(true)
    expect(live.getState().omitted).toBeNull()
  })

  it('a heartbeat that sets the clock back prunes by it at the next batch, not an hour later', () => {
    const store = createWatchfloorStore()
    store.getState().setRetention({ hours: 6, maxEvents: 1000 })
    const serverNow = Date.now() - HOUR
    // pruned by the kiosk's clock before any heartbeat came
    store.getState().applyEvents([dated(reported(1, 'late'), serverNow - 7 * HOUR, serverNow)])
    store.getState().serverTime(new Date(serverNow).toISOString())
    // a close that occurred 6.5 hours ago (by the server) and was recorded now
    store.getState().applyEvents([closed(2, 'late', serverNow - 6.5 * HOUR, serverNow)])
    expect(store.getState().state.incidents.has('late')).toBe(false)
  })
})

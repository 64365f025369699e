import { initialState, makeEvent } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import {
  createWatchfloorStore,
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

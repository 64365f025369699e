import { fold, initialState, makeEvent, type State } from '@watchfloor/core'
import type { Severity, StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { createWatchfloorStore, emptyPicture, type Session } from '../../data/store.ts'
import { viewerKey } from '../../data/viewAs.ts'
import { markWithdrawn, withdrawnStore } from '../coordination/withdrawn.ts'
import { alarmView, wireAlarms } from './alarmStore.ts'
import {
  alarmsOf,
  alarmTitle,
  alarmViewOf,
  baselineOf,
  followBaseline,
  type HeldBaseline,
  standingCriticalsOf,
} from './alarms.ts'

const reported = (seq: number, incidentId: string, severity: Severity, minute = seq): StoredEvent =>
  makeEvent(
    seq,
    'incident.reported',
    { incidentId, title: `Title ${incidentId}`, severity, category: 'malware', affectedNetworks: ['ee-gov'] },
    { occurredAt: new Date(Date.UTC(2026, 10, 1, 8, minute)).toISOString() },
  )

const criticalsOnly = { includeHigh: false }
const none = new Set<string>()

describe('alarms', () => {
  // the console opened on a picture with one critical and one high
  const opening = fold(initialState, [reported(1, 'old-crit', 'critical'), reported(2, 'old-high', 'high')])
  const baseline = baselineOf(opening)
  const live = (events: StoredEvent[]): State => fold(opening, events)

  it('the baseline holds only what could have alarmed at opening; a closed critical reopened alarms as news', () => {
    const closed = makeEvent(3, 'incident.updated', { incidentId: 'was-closed', status: 'closed' })
    const opened = fold(initialState, [
      reported(1, 'old-crit', 'critical'),
      reported(2, 'was-closed', 'critical'),
      closed,
      reported(4, 'old-low', 'low'),
    ])
    const held = baselineOf(opened)
    expect([...held.keys()]).toEqual(['old-crit'])
    const reopened = fold(opened, [makeEvent(5, 'incident.updated', { incidentId: 'was-closed', status: 'new' })])
    expect(alarmsOf(reopened, held, criticalsOnly, none).map((i) => i.incidentId)).toEqual(['was-closed'])
  })

  it('raises none before the console is live, nor for what it opened with', () => {
    expect(alarmsOf(opening, null, criticalsOnly, none)).toEqual([])
    expect(alarmsOf(opening, baseline, { includeHigh: true }, none)).toEqual([])
  })

  it('a critical that arrives live alarms; a high only when the setting asks', () => {
    const state = live([reported(3, 'new-crit', 'critical'), reported(4, 'new-high', 'high')])
    expect(alarmsOf(state, baseline, criticalsOnly, none).map((i) => i.incidentId)).toEqual(['new-crit'])
    expect(alarmsOf(state, baseline, { includeHigh: true }, none).map((i) => i.incidentId)).toEqual([
      'new-high',
      'new-crit',
    ])
  })

  it('several alarms come newest first', () => {
    const state = live([
      reported(3, 'a', 'critical', 10),
      reported(4, 'b', 'critical', 20),
      reported(5, 'c', 'critical', 15),
    ])
    expect(alarmsOf(state, baseline, criticalsOnly, none).map((i) => i.incidentId)).toEqual(['b', 'c', 'a'])
  })

  it('an escalation to critical received live alarms', () => {
    const state = live([
      makeEvent(3, 'incident.escalated', { incidentId: 'old-high', severity: 'critical', reason: 'spreading' }),
    ])
    expect(alarmsOf(state, baseline, criticalsOnly, none).map((i) => i.incidentId)).toEqual(['old-high'])
  })

  it('an acknowledgement, a close or a dismissal ends the alarm', () => {
    const raised = live([reported(3, 'x', 'critical'), reported(4, 'y', 'critical'), reported(5, 'z', 'critical')])
    const ended = fold(raised, [
      makeEvent(6, 'incident.acknowledged', { incidentId: 'x' }, { actor: 'mari' }),
      makeEvent(7, 'incident.status_changed', { incidentId: 'y', status: 'closed' }),
    ])
    expect(alarmsOf(ended, baseline, criticalsOnly, none).map((i) => i.incidentId)).toEqual(['z'])
    expect(alarmsOf(ended, baseline, criticalsOnly, new Set(['z']))).toEqual([])
    // dismissed, it is still counted in the header while it waits: it leaves a trace
    const view = alarmViewOf(ended, baseline, criticalsOnly, new Set(['z']))
    expect(view.standing.map((i) => i.incidentId)).toContain('z')
    const acknowledged = fold(ended, [makeEvent(8, 'incident.acknowledged', { incidentId: 'z' }, { actor: 'mari' })])
    expect(
      alarmViewOf(acknowledged, baseline, criticalsOnly, new Set(['z'])).standing.map((i) => i.incidentId),
    ).not.toContain('z')
  })

  it('lists the unacknowledged criticals already open at opening, until acknowledged', () => {
    expect(standingCriticalsOf(opening, baseline).map((i) => i.incidentId)).toEqual(['old-crit'])
    expect(standingCriticalsOf(opening, null)).toEqual([])
    const acked = live([makeEvent(3, 'incident.acknowledged', { incidentId: 'old-crit' })])
    expect(standingCriticalsOf(acked, baseline)).toEqual([])
  })

  it('titles the tab with the severity and the title', () => {
    const [alarm] = alarmsOf(live([reported(3, 'n', 'critical')]), baseline, criticalsOnly, none)
    expect(alarmTitle(alarm!)).toBe('(!) CRITICAL: Title n')
  })
})

describe('alarms: the baseline across a picture opened again', () => {
  const kadri: Session = { user: 'kadri', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'] }
  const asLv: Session = { ...kadri, viewingAs: { kind: 'organisation', id: 'cert-lv' } }
  const opening = fold(initialState, [reported(1, 'old-crit', 'critical')])
  const first = { seq: 1, events: 1, from: 0 }

  it('keeps the baseline of the first open for the same viewer; another viewer waits for their own open', () => {
    const me = viewerKey(kadri)
    let held: HeldBaseline = { viewer: me, opened: null, baseline: null }
    held = followBaseline(held, { viewer: me, opened: first, state: opening })
    const taken = held.baseline
    expect([...taken!.keys()]).toEqual(['old-crit'])
    // the picture empties and opens again (access_changed, a failed refresh): the same baseline
    const later = fold(opening, [reported(2, 'while-away', 'critical')])
    held = followBaseline(held, { viewer: me, opened: null, state: initialState })
    expect(held.baseline).toBe(taken)
    held = followBaseline(held, { viewer: me, opened: { seq: 2, events: 2, from: 0 }, state: later })
    expect(held.baseline).toBe(taken)
    expect(alarmsOf(later, held.baseline, criticalsOnly, none).map((i) => i.incidentId)).toEqual(['while-away'])

    // view as: none while the old viewer's picture is still in the store, a new one at their open
    const them = viewerKey(asLv)
    held = followBaseline(held, { viewer: them, opened: { seq: 2, events: 2, from: 0 }, state: later })
    expect(held.baseline).toBeNull()
    held = followBaseline(held, { viewer: them, opened: null, state: initialState })
    expect(held.baseline).toBeNull()
    held = followBaseline(held, { viewer: them, opened: { seq: 2, events: 1, from: 0 }, state: later })
    expect([...held.baseline!.keys()]).toEqual(['old-crit', 'while-away'])
    // signed out: none
    expect(followBaseline(held, { viewer: null, opened: null, state: initialState }).baseline).toBeNull()
  })

  it('wireAlarms: an alarm stands through a resync, a critical that came meanwhile alarms; another viewer starts anew', () => {
    const ids = (list: readonly { incidentId: string }[]) => list.map((i) => i.incidentId)
    const data = createWatchfloorStore()
    const unwire = wireAlarms(data)
    const now = Date.now()
    const at = (seq: number, event: StoredEvent): StoredEvent => ({
      ...event,
      occurredAt: new Date(now - 60_000 + seq).toISOString(),
      recordedAt: new Date(now - 60_000 + seq).toISOString(),
    })
    const open = (events: StoredEvent[]) =>
      data.getState().openPicture(fold(initialState, events), events, { from: 0, to: Number.POSITIVE_INFINITY })
    const drop = () =>
      data.setState({ lastSeq: 0, headSeq: 0, opening: null, ...emptyPicture(data.getState().windowVersion) })
    try {
      const log = [at(1, reported(1, 'old-crit', 'critical')), at(2, reported(2, 'live-crit', 'critical'))]
      data.getState().setSession(kadri)
      open(log.slice(0, 1))
      data.getState().applyEvents(log.slice(1))
      expect(ids(alarmView.getState().alarms)).toEqual(['live-crit'])
      expect(ids(alarmView.getState().standing)).toEqual(['old-crit'])

      // `resync access_changed`: the picture goes and opens again, with a critical that came meanwhile
      drop()
      log.push(at(3, reported(3, 'while-away', 'critical')))
      open(log)
      expect(ids(alarmView.getState().alarms).sort()).toEqual(['live-crit', 'while-away'])
      expect(ids(alarmView.getState().standing)).toEqual(['old-crit'])

      // [C18] a command about one was refused not_found: no longer shared with kadri, it alarms no more
      markWithdrawn(viewerKey(kadri), 'while-away')
      markWithdrawn(viewerKey(kadri), 'old-crit')
      expect(ids(alarmView.getState().alarms)).toEqual(['live-crit'])
      expect(alarmView.getState().standing).toEqual([])
      withdrawnStore.setState({ viewer: null, ids: new Set() }, true)
      expect(ids(alarmView.getState().standing)).toEqual(['old-crit'])

      // view as another audience: its own baseline, taken at its own open
      data.getState().setSession(asLv)
      expect(alarmView.getState().alarms).toEqual([])
      drop()
      open(log)
      expect(alarmView.getState().alarms).toEqual([])
      expect(ids(alarmView.getState().standing).sort()).toEqual(['live-crit', 'old-crit', 'while-away'])
    } finally {
      unwire()
      alarmView.setState({ alarms: [], standing: [] })
    }
  })
})

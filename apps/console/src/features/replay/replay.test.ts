import { fold, initialState, makeEvent, type ReplayClock, replayFromScratch, stateToJson } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it, vi } from 'vitest'
import { emptyPicture, watchfloor } from '../../data/store.ts'
import { viewStore } from '../../view/viewStore.ts'
import { snapshots } from '../report/snapshots.ts'
import { displayNow, serverDisplayNow, setDisplayNow } from './now.ts'
import { closeReplay, incidentWindow, openReplay, pause, play, replay, seek, setLoop, step } from './replay.ts'
import { wireReplay } from './startReplay.ts'

describe('replay: an incident window', () => {
  const event = (seq: number, occurred: string, recorded: string) =>
    ({
      ...makeEvent(seq, 'incident.updated', { incidentId: 'i', status: 'triaged' }, { occurredAt: occurred }),
      recordedAt: recorded,
    }) as StoredEvent

  it('runs from its first to its last event on the clock, a minute either side', () => {
    const events = [
      event(1, '2026-11-26T08:00:00.000Z', '2026-11-26T09:00:00.000Z'),
      event(2, '2026-11-26T08:30:00.000Z', '2026-11-26T09:05:00.000Z'),
    ]
    expect(incidentWindow(events, 'occurred')).toEqual({
      from: Date.UTC(2026, 10, 26, 7, 59),
      to: Date.UTC(2026, 10, 26, 8, 31),
    })
    expect(incidentWindow(events, 'recorded')).toEqual({
      from: Date.UTC(2026, 10, 26, 8, 59),
      to: Date.UTC(2026, 10, 26, 9, 6),
    })
  })

  it('falls back to the incident reported and updated times, else none', () => {
    expect(
      incidentWindow([], 'occurred', { reportedAt: '2026-11-26T08:00:00Z', updatedAt: '2026-11-26T10:00:00Z' }, 0),
    ).toEqual({ from: Date.UTC(2026, 10, 26, 8), to: Date.UTC(2026, 10, 26, 10) })
    expect(incidentWindow([], 'occurred')).toBeNull()
  })
})

describe('the picture’s time on the server’s clock (the map’s arc fade)', () => {
  it('is the server’s now when live (a kiosk an hour fast does not fade every arc), the playhead in replay', () => {
    const local = Date.UTC(2026, 10, 26, 9)
    expect(serverDisplayNow(-3_600_000, local)).toBe(local - 3_600_000)
    setDisplayNow(Date.UTC(2026, 10, 26, 7))
    try {
      expect(serverDisplayNow(-3_600_000, local)).toBe(Date.UTC(2026, 10, 26, 7))
    } finally {
      setDisplayNow(null)
    }
  })
})

describe('the timeline’s now on the server’s clock', () => {
  it('follows the offset the heartbeats set (a kiosk ten minutes slow still shows the newest events at the right edge)', () => {
    const local = Date.UTC(2026, 10, 26, 9)
    watchfloor.getState().serverTime(new Date(Date.now() + 600_000).toISOString())
    try {
      expect(Math.abs(displayNow(local) - (local + 600_000))).toBeLessThan(1_000)
      setDisplayNow(Date.UTC(2026, 10, 26, 7))
      expect(displayNow(local)).toBe(Date.UTC(2026, 10, 26, 7))
    } finally {
      setDisplayNow(null)
      watchfloor.getState().serverTime(new Date().toISOString())
    }
  })
})

describe('replay controller: load, seek, step, back to live', () => {
  const T0 = Date.UTC(2026, 10, 26, 8)
  const iso = (ms: number) => new Date(ms).toISOString()
  const MIN = 60_000
  const report = (seq: number, id: string, occurred: number, recorded: number) =>
    ({
      ...makeEvent(
        seq,
        'incident.reported',
        { incidentId: id, title: id, severity: 'high', category: 'c', affectedNetworks: [] },
        { occurredAt: iso(occurred) },
      ),
      recordedAt: iso(recorded),
    }) as StoredEvent
  const close = (seq: number, id: string, occurred: number, recorded: number) =>
    ({
      ...makeEvent(seq, 'incident.updated', { incidentId: id, status: 'closed' }, { occurredAt: iso(occurred) }),
      recordedAt: iso(recorded),
    }) as StoredEvent
  // i1 at 8:10; i2 at 8:20, closed at 8:40; a late report of i0 (happened 7:50) recorded at 8:30
  const log = [
    report(1, 'i1', T0 + 10 * MIN, T0 + 10 * MIN),
    report(2, 'i2', T0 + 20 * MIN, T0 + 20 * MIN),
    report(3, 'i0', T0 - 10 * MIN, T0 + 30 * MIN),
    close(4, 'i2', T0 + 40 * MIN, T0 + 40 * MIN),
  ]

  /** The server's replay routes over `log`, paged 2 events at a time. */
  function fakeServer(requests: string[]) {
    return async (input: RequestInfo | URL) => {
      const url = new URL(String(input), 'http://console')
      requests.push(`${url.pathname}?${url.searchParams}`)
      const clock = (url.searchParams.get('clock') ?? 'recorded') as ReplayClock
      const time = (e: StoredEvent) => Date.parse(clock === 'recorded' ? e.recordedAt : e.occurredAt)
      if (url.pathname === '/api/v1/state') {
        const at = Date.parse(url.searchParams.get('at')!)
        return Response.json(stateToJson(replayFromScratch(log, () => true, clock, at)))
      }
      const from = url.searchParams.has('from') ? Date.parse(url.searchParams.get('from')!) : -Infinity
      const to = url.searchParams.has('to') ? Date.parse(url.searchParams.get('to')!) : Infinity
      const after = Number(url.searchParams.get('after'))
      const page = log.filter((e) => e.seq > after).slice(0, 2)
      const next = page.at(-1)?.seq ?? log.length
      return Response.json({ events: page.filter((e) => time(e) >= from && time(e) < to), next, head: log.length })
    }
  }

  it('shows the picture at the playhead while live folds on, steps between events, and goes back to live', async () => {
    const requests: string[] = []
    vi.stubGlobal('fetch', fakeServer(requests))
    try {
      watchfloor.getState().applyEvents(log)
      await openReplay({ from: T0, to: T0 + 60 * MIN, clock: 'occurred', at: T0 + 25 * MIN })
      const s = replay.getState()
      expect(s.phase).toBe('ready')
      // the base at 8:00 holds the late report (seq 3) recorded after i1 and i2: the history is read too
      expect(requests.some((r) => r.startsWith('/api/v1/events') && !r.includes('from='))).toBe(true)
      const shown = () => [...watchfloor.getState().state.incidents.values()].map((i) => `${i.incidentId}:${i.status}`)
      expect(watchfloor.getState().mode).toBe('replay')
      expect(shown()).toEqual(['i1:new', 'i2:new', 'i0:new'])
      expect(viewStore.getState().replay).toMatchObject({ clock: 'occurred', at: T0 + 25 * MIN })

      step(1)
      expect(replay.getState().at).toBe(T0 + 40 * MIN)
      expect(shown()).toEqual(['i1:new', 'i2:closed', 'i0:new'])
      step(-1)
      step(-1)
      expect(replay.getState().at).toBe(T0 + 10 * MIN)
      expect(shown()).toEqual(['i1:new', 'i0:new'])
      seek(T0)
      expect(shown()).toEqual(['i0:new'])

      // live keeps folding behind the replay
      watchfloor.getState().applyEvents([report(5, 'i5', T0 + 50 * MIN, T0 + 50 * MIN)])
      expect(shown()).toEqual(['i0:new'])
      closeReplay()
      expect(watchfloor.getState().mode).toBe('live')
      expect(shown()).toEqual(['i1:new', 'i2:closed', 'i0:new', 'i5:new'])
      expect(viewStore.getState().replay).toBeNull()
    } finally {
      vi.unstubAllGlobals()
      watchfloor.getState().reset()
    }
  })

  it('plays at its speed to the end and stops there, or loops back to the start', async () => {
    vi.stubGlobal('fetch', fakeServer([]))
    try {
      await openReplay({ from: T0, to: T0 + 60 * MIN, clock: 'recorded', speed: 3600, loop: false })
      // animation frames every 16 ms of fake time
      vi.stubGlobal('requestAnimationFrame', (cb: (t: number) => void) => setTimeout(() => cb(performance.now()), 16))
      vi.stubGlobal('cancelAnimationFrame', (handle: ReturnType<typeof setTimeout>) => clearTimeout(handle))
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
      play()
      expect(replay.getState().playing).toBe(true)
      vi.advanceTimersByTime(500) // 30 min of replay
      const at = replay.getState().at
      expect(at).toBeGreaterThan(T0 + 25 * MIN)
      expect(at).toBeLessThan(T0 + 35 * MIN)
      vi.advanceTimersByTime(1000)
      expect(replay.getState()).toMatchObject({ at: T0 + 60 * MIN, playing: false })
      expect(watchfloor.getState().state.incidents.get('i2')?.status).toBe('closed')

      setLoop(true)
      play() // from the end: starts again at the beginning
      vi.advanceTimersByTime(1200)
      expect(replay.getState().playing).toBe(true)
      expect(replay.getState().at).toBeLessThan(T0 + 30 * MIN)
      pause()
      expect(replay.getState().playing).toBe(false)
      closeReplay()
    } finally {
      vi.useRealTimers()
      vi.unstubAllGlobals()
      watchfloor.getState().reset()
    }
  })

  it('leaves replay when the picture is dropped, never because replay itself moved', async () => {
    vi.stubGlobal('fetch', fakeServer([]))
    const unwire = wireReplay()
    try {
      watchfloor.getState().openPicture(fold(initialState, log), log, { from: T0, to: Number.POSITIVE_INFINITY })
      const opened = watchfloor.getState().opened
      expect(opened).not.toBeNull()
      // entering, moving and leaving replay keep the picture the console opened with
      await openReplay({ from: T0, to: T0 + 60 * MIN, clock: 'recorded', at: T0 + 25 * MIN })
      step(1)
      seek(T0 + 5 * MIN)
      expect(watchfloor.getState()).toMatchObject({ mode: 'replay', opened })
      expect(replay.getState().active).toBe(true)
      closeReplay()
      expect(watchfloor.getState()).toMatchObject({ mode: 'live', opened })
      await openReplay({ from: T0, to: T0 + 60 * MIN, clock: 'recorded', at: T0 + 25 * MIN })
      expect(replay.getState().active).toBe(true)

      snapshots.setState({
        list: [{ incidentId: null, at: T0, label: 'before', dataUrl: 'data:,', marking: { tlp: 'CLEAR' } }],
      })
      // `resync access_changed`: data/connection.ts `dropPicture` empties the picture
      watchfloor.setState({
        lastSeq: 0,
        headSeq: 0,
        opening: null,
        ...emptyPicture(watchfloor.getState().windowVersion),
      })
      await vi.waitFor(() => expect(replay.getState().active).toBe(false))
      expect(viewStore.getState().replay).toBeNull()
      // the map snapshots of the picture dropped go with it
      expect(snapshots.getState().list).toEqual([])
      // the next playhead move shows nothing of the old replay
      seek(T0 + 30 * MIN)
      expect(watchfloor.getState().mode).toBe('live')
      expect(watchfloor.getState().state.incidents.size).toBe(0)
    } finally {
      unwire()
      closeReplay()
      vi.unstubAllGlobals()
      watchfloor.getState().reset()
    }
  })

  it('on the recorded clock folds the base and the window only', async () => {
    const requests: string[] = []
    vi.stubGlobal('fetch', fakeServer(requests))
    try {
      await openReplay({ from: T0 + 15 * MIN, to: T0 + 60 * MIN, clock: 'recorded' })
      expect(requests.filter((r) => r.startsWith('/api/v1/events')).every((r) => r.includes('from='))).toBe(true)
      expect([...watchfloor.getState().state.incidents.keys()]).toEqual(['i1'])
      expect(replay.getState().total).toBe(3)
      seek(T0 + 30 * MIN)
      expect([...watchfloor.getState().state.incidents.keys()]).toEqual(['i1', 'i2', 'i0'])
      closeReplay()
    } finally {
      vi.unstubAllGlobals()
      watchfloor.getState().reset()
    }
  })
})

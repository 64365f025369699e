import { fold, initialState, makeEvent } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { drawTimeline, fitText, stepLabel, type TimelineModel, type TimelineScene } from './drawTimeline.ts'
import { cellCentre, LABEL_W, markAt, TOP } from './layout.ts'
import { deriveTimeline, emptyTimelineCache } from './model.ts'
import { MINUTE } from './scale.ts'
import { buildTimeIndex } from './timeIndex.ts'

const T0 = Date.UTC(2026, 10, 1)
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString()

function modelOf(events: StoredEvent[]): TimelineModel {
  const state = fold(initialState, events)
  const index = buildTimeIndex(events)
  const { lanes, lane, marks } = deriveTimeline(emptyTimelineCache(), index, 'network', state.networks, state)
  return { index, lanes, lane, marks, range: null, selection: null }
}

const events: StoredEvent[] = [
  makeEvent(
    1,
    'network.registered',
    {
      networkId: 'ee-gov',
      name: 'Estonia',
      organisation: 'cert-ee',
      nation: 'EE',
      kind: 'national-cert',
      location: { lat: 59, lon: 24 },
    },
    { occurredAt: at(10) },
  ),
  makeEvent(
    2,
    'incident.reported',
    { incidentId: 'inc-1', title: 'Worm', severity: 'high', category: 'malware', affectedNetworks: ['ee-gov'] },
    { occurredAt: at(60) },
  ),
  makeEvent(3, 'incident.observation', { incidentId: 'inc-1', networkId: 'ee-gov' }, { occurredAt: at(120) }),
]

/** A late report: it happened at 90 s and was recorded an hour later. */
const late: StoredEvent = {
  ...makeEvent(4, 'incident.observation', { incidentId: 'inc-1', networkId: 'ee-gov' }, { occurredAt: at(90) }),
  recordedAt: at(3600),
}

/** A 2D context that records the calls made on it (measuring text at 6 px a character). */
function recordingContext() {
  const calls: { name: string; args: unknown[] }[] = []
  const props: Record<string | symbol, unknown> = {}
  const ctx = new Proxy(props, {
    get(_, name) {
      if (name === 'measureText') return (text: string) => ({ width: text.length * 6 })
      if (name in props) return props[name]
      return (...args: unknown[]) => {
        calls.push({ name: String(name), args })
      }
    },
    set(_, name, value) {
      props[name] = value
      return true
    },
  })
  return { ctx: ctx as unknown as CanvasRenderingContext2D, calls }
}

function fakeCanvas(ctx: CanvasRenderingContext2D | null) {
  const canvas = { width: 300, height: 150, dataset: {} as DOMStringMap, getContext: () => ctx }
  return canvas as unknown as HTMLCanvasElement & { dataset: Record<string, string> }
}

function scene(model: TimelineModel, over: Partial<TimelineScene> = {}): TimelineScene {
  return {
    width: LABEL_W + 300,
    height: TOP + 100,
    dpr: 2,
    domain: { from: T0, to: T0 + 5 * MINUTE },
    live: false,
    scrollY: 0,
    model,
    brush: null,
    hover: -1,
    now: T0 + 4 * MINUTE,
    lateTicks: false,
    ...over,
  }
}

describe('drawTimeline', () => {
  it('describes the frame in data attributes and returns the drawn marks, even with nothing to paint on', () => {
    const model = modelOf(events)
    const canvas = fakeCanvas(null)
    const drawn = drawTimeline(canvas, scene(model, { live: true }))
    expect(drawn.painted).toBe(false)
    expect(canvas.dataset).toMatchObject({
      marks: '3',
      lanes: String(model.lanes.length),
      from: at(0),
      to: at(300),
      live: 'true',
    })
    expect(drawn.cells.marks).toBe(3)
    // the backing store follows the pixel ratio
    expect([canvas.width, canvas.height]).toEqual([(LABEL_W + 300) * 2, (TOP + 100) * 2])
    // what is drawn is what hit-testing finds
    for (const cell of drawn.cells.occupied) {
      const p = cellCentre(drawn.cells, cell, 0)
      expect(markAt(drawn.cells, p.x, p.y, 0, model.lanes.length)).toBe(drawn.cells.best[cell])
    }
  })

  it('draws only the marks in the domain, and nothing at zero size', () => {
    const model = modelOf(events)
    const canvas = fakeCanvas(recordingContext().ctx)
    expect(drawTimeline(canvas, scene(model, { domain: { from: T0 + 30_000, to: T0 + 90_000 } })).cells.marks).toBe(1)
    expect(canvas.dataset.marks).toBe('1')
    const { ctx, calls } = recordingContext()
    expect(drawTimeline(fakeCanvas(ctx), scene(model, { width: 0 })).painted).toBe(false)
    expect(calls).toEqual([])
  })

  it('paints lanes, marks, the hovered mark and, replaying the occurred clock, the late reports', () => {
    const model = modelOf([...events, late])
    const { ctx, calls } = recordingContext()
    const canvas = fakeCanvas(ctx)
    const drawn = drawTimeline(canvas, scene(model, { hover: 2 }))
    expect(drawn.painted).toBe(true)
    expect(canvas.dataset.late).toBe('0')
    const texts = calls.filter((c) => c.name === 'fillText').map((c) => c.args[0])
    expect(texts).toContain('UTC')
    for (const lane of model.lanes) expect(texts).toContain(lane.label)
    // the hover ring: 8 px around the hovered event
    expect(calls.some((c) => c.name === 'arc' && c.args[2] === 8)).toBe(true)
    const noHover = recordingContext()
    drawTimeline(fakeCanvas(noHover.ctx), scene(model))
    expect(noHover.calls.some((c) => c.name === 'arc' && c.args[2] === 8)).toBe(false)

    drawTimeline(canvas, scene(model, { lateTicks: true }))
    expect(canvas.dataset.late).toBe('1')
  })

  it('hatches the time whose events are not in memory, and says whether it is being read', () => {
    const model = modelOf(events)
    const { ctx, calls } = recordingContext()
    const canvas = fakeCanvas(ctx)
    // before T0 + 2 min nothing is loaded; a range outside the domain is not counted
    const unloaded = [
      { from: T0 - 10 * MINUTE, to: T0 - 5 * MINUTE },
      { from: T0 - 5 * MINUTE + 1, to: T0 + 2 * MINUTE },
    ]
    drawTimeline(canvas, scene(model, { unloaded, historyLoading: false }))
    expect(canvas.dataset).toMatchObject({ unloaded: '1', history: 'idle' })
    expect(calls.filter((c) => c.name === 'fillText').map((c) => c.args[0])).toContain('not loaded')
    const loading = recordingContext()
    drawTimeline(fakeCanvas(loading.ctx), scene(model, { unloaded, historyLoading: true }))
    expect(loading.calls.filter((c) => c.name === 'fillText').map((c) => c.args[0])).toContain('loading…')
    // all loaded: nothing hatched
    drawTimeline(canvas, scene(model))
    expect(canvas.dataset.unloaded).toBe('0')
  })

  it('says so when there are no events', () => {
    const { ctx, calls } = recordingContext()
    drawTimeline(fakeCanvas(ctx), scene(modelOf([])))
    expect(calls.filter((c) => c.name === 'fillText').map((c) => c.args[0])).toContain('No events in the window')
  })
})

describe('labels', () => {
  it('names the density step in its unit', () => {
    expect(stepLabel(500)).toBe('500ms')
    expect(stepLabel(5000)).toBe('5s')
    expect(stepLabel(2 * MINUTE)).toBe('2m')
    expect(stepLabel(3 * 3_600_000)).toBe('3h')
    expect(stepLabel(7 * 86_400_000)).toBe('7d')
  })

  it('fits text by cutting its middle, keeping start and end', () => {
    const ctx = { measureText: (text: string) => ({ width: text.length * 6 }) as TextMetrics }
    expect(fitText(ctx, 'Estonia', 60)).toBe('Estonia')
    const cut = fitText(ctx, 'Ministry of Foreign Affairs network', 90)
    expect(cut.length * 6).toBeLessThanOrEqual(90)
    expect(cut).toContain('…')
    expect(cut.startsWith('Mini')).toBe(true)
    expect(cut.endsWith('network')).toBe(true)
    expect(fitText(ctx, 'Estonia', 3)).toBe('')
  })
})

import { fold, initialState, makeEvent } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import type { ObservationMode } from '../../view/view.ts'
import {
  drawTimeline,
  emptyText,
  fitText,
  NOTHING_AT_PLAYHEAD,
  stepLabel,
  type TimelineModel,
  type TimelineScene,
} from './drawTimeline.ts'
import { cellCentre, LABEL_W, markAt, runAtPoint, runCentre, TOP } from './layout.ts'
import { deriveTimeline, emptyTimelineCache } from './model.ts'
import { describeRun } from './observationRuns.ts'
import { MINUTE } from './scale.ts'
import { buildTimeIndex } from './timeIndex.ts'

const T0 = Date.UTC(2026, 10, 1)
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString()

function modelOf(events: StoredEvent[], observations: ObservationMode = 'each'): TimelineModel {
  const state = fold(initialState, events)
  const index = buildTimeIndex(events)
  const { lanes, lane, marks } = deriveTimeline(emptyTimelineCache(), index, 'network', state.networks, state)
  return { index, lanes, lane, marks, range: null, selection: null, observations }
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

  it('folds observations into runs: a band with its count, the other events still marks, hit-testing both', () => {
    const busy: StoredEvent[] = [...events]
    for (let k = 0; k < 40; k++)
      busy.push(
        makeEvent(
          10 + k,
          'incident.observation',
          { incidentId: 'inc-1', networkId: 'ee-gov' },
          { occurredAt: at(150 + k) },
        ),
      )
    busy.push(makeEvent(60, 'incident.updated', { incidentId: 'inc-1', severity: 'critical' }, { occurredAt: at(170) }))
    busy.sort((a, b) => a.seq - b.seq)
    const canvas = fakeCanvas(recordingContext().ctx)
    const each = drawTimeline(canvas, scene(modelOf(busy, 'each')))
    expect(canvas.dataset).toMatchObject({ observations: 'each', runs: '0' })
    expect(each.runs.count).toBe(0)

    const model = modelOf(busy, 'runs')
    const { ctx, calls } = recordingContext()
    const drawnCanvas = fakeCanvas(ctx)
    const drawn = drawTimeline(drawnCanvas, scene(model))
    // the observation at 120 s and the 40 from 150 s are 30 s apart: more than 5 columns of 1 s, two runs
    expect(drawnCanvas.dataset).toMatchObject({ observations: 'runs', runs: '2', marks: '3' })
    expect(drawn.runs.reports).toEqual([1, 40])
    expect(describeRun(drawn.runs, 1)).toBe('Observations: 40 reports · 00:02:30–00:03:09Z')
    // the count is written on the 39 px band; a one-report band is too narrow for its "1"
    const texts = calls.filter((c) => c.name === 'fillText').map((c) => c.args[0])
    expect(texts).toContain('40')
    expect(texts).not.toContain('1')
    // the middle of the band is the update's mark; beside it, the band
    const s = scene(model)
    const middle = runCentre(drawn.runs, 1, s.domain, s.width, 0)
    expect(markAt(drawn.cells, middle.x, middle.y, 0, model.lanes.length)).toBeGreaterThanOrEqual(0)
    expect(runAtPoint(drawn.runs, s.domain, s.width, middle.x + 12, middle.y, 0, model.lanes.length)).toBe(1)
    expect(markAt(drawn.cells, middle.x + 12, middle.y, 0, model.lanes.length)).toBe(-1)
    // zoomed out, one run
    const wide = drawTimeline(fakeCanvas(null), scene(model, { domain: { from: T0, to: T0 + 60 * MINUTE } }))
    expect(wide.runs.reports).toEqual([41])
  })

  it('says so when there are no events', () => {
    const { ctx, calls } = recordingContext()
    drawTimeline(fakeCanvas(ctx), scene(modelOf([])))
    expect(calls.filter((c) => c.name === 'fillText').map((c) => c.args[0])).toContain('No events in the window')
  })

  it('replaying a window of events with none folded yet, says nothing is at the playhead yet', () => {
    const said = (replaying: { active: boolean; total: number; folded: number }) => {
      const { ctx, calls } = recordingContext()
      drawTimeline(fakeCanvas(ctx), { ...scene(modelOf([])), empty: emptyText(replaying) })
      return calls.filter((c) => c.name === 'fillText').map((c) => c.args[0])
    }
    expect(said({ active: true, total: 1874, folded: 0 })).toContain(NOTHING_AT_PLAYHEAD)
    expect(said({ active: true, total: 1874, folded: 0 })).not.toContain('No events in the window')
    // an empty window, or live: the window holds none
    expect(said({ active: true, total: 0, folded: 0 })).toContain('No events in the window')
    expect(said({ active: false, total: 0, folded: 0 })).toContain('No events in the window')
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

  /** Measures 6 px a character, like a monospaced font. */
  const ctx = { measureText: (text: string) => ({ width: text.length * 6 }) } as Pick<
    CanvasRenderingContext2D,
    'measureText'
  >
  /** Every word before the ellipsis is a whole word of `text`. */
  const wholeWords = (fitted: string, text: string) => {
    const words = text.split(/\s+/)
    return fitted
      .replace(/…$/, '')
      .split(/\s+/)
      .every((w, i) => w === words[i] || w === words[i]!.replace(/[,;:.]+$/, ''))
  }

  it('fits text at word boundaries: unchanged when it fits, else whole words and an ellipsis', () => {
    expect(fitText(ctx, 'Estonia', 60)).toBe('Estonia')
    expect(fitText(ctx, 'Ministry of Foreign Affairs network', 35 * 6)).toBe('Ministry of Foreign Affairs network')
    expect(fitText(ctx, 'Ministry of Foreign Affairs network', 90)).toBe('Ministry of…')
    expect(fitText(ctx, 'National CERT network of Albania', 132)).toBe('National CERT network…')
    expect(fitText(ctx, 'National CERT network of Albania', 131)).toBe('National CERT…')
    // a separator is not left before the ellipsis
    expect(fitText(ctx, 'Defence, Ministry of', 60)).toBe('Defence…')
    for (const text of [
      'National CERT network of Albania',
      'Alliance cyber security operations centre',
      'A b c d e f',
    ]) {
      for (let max = 10; max <= text.length * 6; max += 7) {
        const fitted = fitText(ctx, text, max)
        expect(fitted.length * 6).toBeLessThanOrEqual(max)
        // a word is cut only when not even the first word fits
        if (fitted.length > 0 && (text.split(' ')[0]!.length + 1) * 6 <= max)
          expect(wholeWords(fitted, text)).toBe(true)
      }
    }
  })

  it('cuts the first word only as a last resort, and gives nothing when not even a letter fits', () => {
    expect(fitText(ctx, 'Telekommunikationsdienst Nord', 60)).toBe('Telekommu…')
    expect(fitText(ctx, 'Estonia', 12)).toBe('E…')
    expect(fitText(ctx, 'Estonia', 3)).toBe('')
    expect(fitText(ctx, '', 3)).toBe('')
  })
})

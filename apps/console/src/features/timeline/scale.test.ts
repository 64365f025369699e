import { describe, expect, it } from 'vitest'
import {
  DAY,
  HOUR,
  MAX_SPAN,
  MIN_SPAN,
  MINUTE,
  niceStep,
  pan,
  panPixels,
  SECOND,
  span,
  tickLabel,
  ticks,
  timeToX,
  xToTime,
  zoomAround,
} from './scale.ts'

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0)
const domain = { from: T0, to: T0 + HOUR }

describe('time scale', () => {
  it('maps times to pixels and back', () => {
    expect(timeToX(domain, 600, T0)).toBe(0)
    expect(timeToX(domain, 600, T0 + HOUR)).toBe(600)
    expect(timeToX(domain, 600, T0 + 30 * MINUTE)).toBe(300)
    expect(xToTime(domain, 600, 150)).toBe(T0 + 15 * MINUTE)
    for (const x of [0, 17, 333.5, 600]) expect(timeToX(domain, 600, xToTime(domain, 600, x))).toBeCloseTo(x, 6)
  })

  it('zooms around a point, keeping it at the same pixel', () => {
    const anchor = T0 + 15 * MINUTE
    const zoomed = zoomAround(domain, 0.5, anchor)
    expect(span(zoomed)).toBe(30 * MINUTE)
    expect(timeToX(zoomed, 600, anchor)).toBeCloseTo(timeToX(domain, 600, anchor), 6)
    const out = zoomAround(domain, 2, anchor)
    expect(span(out)).toBe(2 * HOUR)
    expect(timeToX(out, 600, anchor)).toBeCloseTo(150, 6)
  })

  it('clamps the span', () => {
    expect(span(zoomAround(domain, 1e-9, T0))).toBe(MIN_SPAN)
    expect(span(zoomAround(domain, 1e9, T0))).toBe(MAX_SPAN)
  })

  it('pans by time and by pixels (dragging right shows earlier times)', () => {
    expect(pan(domain, MINUTE)).toEqual({ from: T0 + MINUTE, to: T0 + HOUR + MINUTE })
    expect(panPixels(domain, 600, 60)).toEqual({ from: T0 - 6 * MINUTE, to: T0 + 54 * MINUTE })
  })

  it('picks nice steps', () => {
    expect(niceStep(1)).toBe(SECOND)
    expect(niceStep(40 * SECOND)).toBe(MINUTE)
    expect(niceStep(50 * MINUTE)).toBe(HOUR)
    expect(niceStep(1e15)).toBe(60 * DAY)
  })

  it('adapts tick units to the zoom and labels them in UTC', () => {
    const days = ticks({ from: T0, to: T0 + 10 * DAY }, 1000)
    expect(days.unit).toBe('day')
    expect(days.ticks[0]!.label).toBe('2026-11-02')
    const hours = ticks({ from: T0, to: T0 + DAY }, 1000)
    expect(hours.unit).toBe('hour')
    expect(hours.ticks.map((t) => t.label)).toContain('11-02 00:00')
    expect(hours.ticks.map((t) => t.label)).toContain('15:00')
    const minutes = ticks(domain, 1000)
    expect(minutes.unit).toBe('minute')
    expect(minutes.ticks[0]).toEqual({ t: T0, label: '12:00', major: true })
    const seconds = ticks({ from: T0 + 1000, to: T0 + MINUTE }, 1000)
    expect(seconds.unit).toBe('second')
    expect(seconds.ticks[0]!.label).toBe('12:00:10')
  })

  it('keeps ticks at least the minimum gap apart, aligned to their step, inside the domain', () => {
    for (const s of [10 * SECOND, 7 * MINUTE, 5 * HOUR, 3 * DAY, 90 * DAY]) {
      const d = { from: T0 + 1234, to: T0 + 1234 + s }
      const { step, ticks: list } = ticks(d, 800, 90)
      expect((step / s) * 800).toBeGreaterThanOrEqual(90)
      for (const tick of list) {
        expect(tick.t % step).toBe(0)
        expect(tick.t).toBeGreaterThanOrEqual(d.from)
        expect(tick.t).toBeLessThanOrEqual(d.to)
      }
      expect(list.length).toBeGreaterThan(0)
    }
  })

  it('labels ticks in UTC whatever the unit', () => {
    expect(tickLabel(T0 + 5 * SECOND, 'second')).toBe('12:00:05')
    expect(tickLabel(Date.UTC(2026, 10, 2), 'minute')).toBe('11-02 00:00')
  })
})

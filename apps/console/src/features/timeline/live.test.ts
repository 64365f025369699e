import { describe, expect, it } from 'vitest'
import { followReducer, initialFollow } from './live.ts'
import { MINUTE, panPixels, zoomAround } from './scale.ts'

const NOW = Date.UTC(2026, 10, 1, 12)

describe('live follow', () => {
  it('keeps the right edge at now on each tick', () => {
    const s = initialFollow(NOW, 10 * MINUTE)
    const next = followReducer(s, { type: 'tick', now: NOW + 1000 })
    expect(next).toEqual({ live: true, domain: { from: NOW + 1000 - 10 * MINUTE, to: NOW + 1000 } })
  })

  it('stops following when the user pans back in time, and ticks then leave it alone', () => {
    const s = initialFollow(NOW, 10 * MINUTE)
    const panned = followReducer(s, { type: 'user', domain: panPixels(s.domain, 600, 100), now: NOW })
    expect(panned.live).toBe(false)
    expect(followReducer(panned, { type: 'tick', now: NOW + 5000 })).toBe(panned)
  })

  it('stops following when zooming in around a point in the past', () => {
    const s = initialFollow(NOW, 10 * MINUTE)
    const zoomed = followReducer(s, { type: 'user', domain: zoomAround(s.domain, 0.5, NOW - 5 * MINUTE), now: NOW })
    expect(zoomed.live).toBe(false)
  })

  it('stays live when zooming around now, with the new span', () => {
    const s = initialFollow(NOW, 10 * MINUTE)
    const zoomed = followReducer(s, { type: 'user', domain: zoomAround(s.domain, 0.5, NOW), now: NOW })
    expect(zoomed).toEqual({ live: true, domain: { from: NOW - 5 * MINUTE, to: NOW } })
  })

  it('"back to live" follows now again keeping the span; panning up to now resumes too', () => {
    const s = followReducer(initialFollow(NOW, 10 * MINUTE), {
      type: 'user',
      domain: { from: NOW - 60 * MINUTE, to: NOW - 58 * MINUTE },
      now: NOW,
    })
    expect(s.live).toBe(false)
    expect(followReducer(s, { type: 'live', now: NOW + 1000 })).toEqual({
      live: true,
      domain: { from: NOW + 1000 - 2 * MINUTE, to: NOW + 1000 },
    })
    const back = followReducer(s, { type: 'user', domain: { from: NOW - MINUTE, to: NOW + MINUTE }, now: NOW })
    expect(back).toEqual({ live: true, domain: { from: NOW - 2 * MINUTE, to: NOW } })
  })

  it('fits a span only while live', () => {
    const s = initialFollow(NOW, 10 * MINUTE)
    expect(followReducer(s, { type: 'fit', span: MINUTE, now: NOW }).domain).toEqual({ from: NOW - MINUTE, to: NOW })
    const paused = { live: false, domain: { from: 0, to: 1 } }
    expect(followReducer(paused, { type: 'fit', span: MINUTE, now: NOW })).toBe(paused)
  })
})

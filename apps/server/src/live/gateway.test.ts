import { describe, expect, it } from 'vitest'
import { byBytes, judge, messageBytes, nextReadLimit, type Pressure, packetBytes } from './gateway.ts'

const limits = { maxBufferedBytes: 1000, maxBufferedPackets: 10, stallMs: 3000 }
const fresh = (): Pressure => ({ bytes: 0, since: undefined, drains: 0, seen: 0 })

describe('slow consumers: the pure parts of D8', () => {
  it('[D8] a live socket over its byte budget, or over the packet limit, is to resync at once', () => {
    expect(judge(fresh(), { bytes: 1001, packets: 1 }, true, 0, limits)).toEqual({ action: 'resync', why: 'bytes' })
    expect(judge(fresh(), { bytes: 1000, packets: 1 }, true, 0, limits)).toBeNull()
    expect(judge(fresh(), { bytes: 500, packets: 11 }, true, 0, limits)).toEqual({ action: 'resync', why: 'packets' })
  })

  it('[D8] a live socket that does not drain for stallMs is to resync; if it still does not drain, to be dropped', () => {
    const p = fresh()
    expect(judge(p, { bytes: 400, packets: 2 }, true, 0, limits)).toBeNull()
    expect(judge(p, { bytes: 450, packets: 3 }, true, 2999, limits)).toBeNull()
    expect(judge(p, { bytes: 450, packets: 3 }, true, 3000, limits)).toEqual({ action: 'resync', why: 'stalled' })
    // told to resync, it is no longer live: the clock started again at the resync
    expect(judge(p, { bytes: 460, packets: 4 }, false, 5999, limits)).toBeNull()
    expect(judge(p, { bytes: 460, packets: 4 }, false, 6000, limits)).toEqual({ action: 'drop', why: 'stalled' })
  })

  it('[D8] progress (a finished write, fewer bytes waiting, nothing waiting) restarts the stall clock', () => {
    const p = fresh()
    judge(p, { bytes: 400, packets: 2 }, true, 0, limits)
    p.drains++ // the transport finished a write; more was queued meanwhile
    expect(judge(p, { bytes: 600, packets: 2 }, true, 2500, limits)).toBeNull()
    expect(judge(p, { bytes: 600, packets: 2 }, true, 5499, limits)).toBeNull()
    expect(judge(p, { bytes: 599, packets: 2 }, true, 5600, limits)).toBeNull() // fewer bytes: progress
    expect(judge(p, { bytes: 0, packets: 0 }, true, 8000, limits)).toBeNull()
    expect(p.since).toBeUndefined()
    expect(judge(p, { bytes: 10, packets: 1 }, true, 9000, limits)).toBeNull()
    expect(judge(p, { bytes: 10, packets: 1 }, true, 12_000, limits)).toEqual({ action: 'resync', why: 'stalled' })
  })

  it('[D8] a socket that is not live is never told to resync, only dropped when stalled', () => {
    const p = fresh()
    expect(judge(p, { bytes: 5000, packets: 50 }, false, 0, limits)).toBeNull()
    expect(judge(p, { bytes: 5000, packets: 50 }, false, 3000, limits)).toEqual({ action: 'drop', why: 'stalled' })
    expect(judge(fresh(), { bytes: 0, packets: 0 }, false, 1e9, limits)).toBeNull()
  })

  it('[D8] catch-up messages hold at most the given bytes; an event larger than that goes alone', () => {
    const sizes = [100, 200, 300, 5000, 50, 50, 50]
    const ranges = byBytes(sizes, 700)
    expect(ranges).toEqual([
      [0, 3],
      [3, 4],
      [4, 7],
    ])
    for (const [from, to] of ranges) if (to - from > 1) expect(messageBytes(sizes, from, to)).toBeLessThanOrEqual(700)
    expect(messageBytes(sizes, 0, 3)).toBe(26 + 600 + 2)
    expect(byBytes([], 700)).toEqual([])
    // the ranges cover every event once, in order
    const many = Array.from({ length: 1000 }, (_, i) => 1 + ((i * 7919) % 3000))
    expect(
      byBytes(many, 10_000).flatMap(([from, to]) => Array.from({ length: to - from }, (_, i) => from + i)),
    ).toEqual(many.map((_, i) => i))
  })

  it('[D8] the next read holds about the target bytes of events, 1 to pageSize of them', () => {
    expect(nextReadLimit(1000, 2_000_000, 500_000, 1000)).toBe(250)
    expect(nextReadLimit(1000, 100_000, 500_000, 1000)).toBe(1000)
    expect(nextReadLimit(1, 50_000_000, 500_000, 1000)).toBe(1)
    expect(nextReadLimit(0, 0, 500_000, 1000)).toBe(1000)
    expect(nextReadLimit(1000, 0, 500_000, 1000)).toBe(1000)
  })

  it('[D8] a packet counts its UTF-8 bytes and its type', () => {
    expect(packetBytes({ data: '2["x"]' })).toBe(7)
    expect(packetBytes({ data: 'é' })).toBe(3)
    expect(packetBytes({ data: Buffer.alloc(10) })).toBe(11)
    expect(packetBytes({})).toBe(1)
  })
})

import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { RecentWindow } from './recent.ts'

const log = (n: number): StoredEvent[] =>
  Array.from({ length: n }, (_, i) => ({ seq: i + 1, id: `e${i + 1}` }) as unknown as StoredEvent)

/** A small seeded generator, so a failure names its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return state / 2 ** 32
  }
}

describe('RecentWindow', () => {
  it('answers only what the log holds, whatever order, overlap or loss its chunks come in', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed)
      const events = log(400)
      const start = Math.floor(next() * 50)
      const window = new RecentWindow(40 + Math.floor(next() * 100))
      window.startAfter(start)
      // cut the log into runs, shuffle them a little, repeat and drop some
      const chunks: StoredEvent[][] = []
      for (let from = 0; from < events.length; ) {
        const size = 1 + Math.floor(next() * 12)
        chunks.push(events.slice(from, from + size))
        if (next() < 0.15) chunks.push(events.slice(Math.max(0, from - 5), from + size)) // a re-read
        from += size
      }
      for (let i = 0; i < chunks.length; i++) {
        const j = Math.min(chunks.length - 1, i + Math.floor(next() * 4))
        ;[chunks[i], chunks[j]] = [chunks[j]!, chunks[i]!]
      }
      const losing = seed % 2 === 0
      for (const chunk of chunks) {
        if (losing && next() < 0.05) continue // a notification lost
        window.add(chunk)
        for (let k = 0; k < 5; k++) {
          const after = Math.floor(next() * 420)
          const limit = 1 + Math.floor(next() * 30)
          const held = window.after(after, limit)
          if (held === null) continue
          expect(held.length, `seed ${seed}`).toBeGreaterThan(0)
          expect(held, `seed ${seed}`).toEqual(events.slice(after, after + held.length))
          expect(held.length, `seed ${seed}`).toBeLessThanOrEqual(limit)
          expect(held[0]!.seq, `seed ${seed}`).toBeGreaterThan(start)
        }
      }
      // with nothing lost, the window keeps up: it ends at the log's end and serves it
      if (!losing) {
        expect(window.end, `seed ${seed}`).toBe(400)
        expect(window.after(399, 1), `seed ${seed}`).toEqual([events[399]])
      }
    }
  })

  it('holds a commit that comes before the one ahead of it, and serves both once that one comes', () => {
    const events = log(10)
    const window = new RecentWindow(100)
    window.startAfter(2)
    window.add(events.slice(5, 8)) // seqs 6-8, ahead of 3-5
    expect(window.after(2, 10)).toBeNull()
    window.add(events.slice(0, 5)) // seqs 1-5: 1 and 2 were before the window
    expect(window.after(2, 10)!.map((e) => e.seq)).toEqual([3, 4, 5, 6, 7, 8])
    expect(window.after(1, 10)).toBeNull()
    expect(window.after(8, 10)).toBeNull()
    expect(window.end).toBe(8)
  })

  it('tells the first seq past a gap that it holds: the start of the window, or a chunk waiting above the gap', () => {
    const events = log(30)
    const window = new RecentWindow(100)
    window.startAfter(5)
    expect(window.nextRunAfter(0)).toBeUndefined()
    window.add(events.slice(5, 10)) // seqs 6-10
    window.add(events.slice(20, 25)) // seqs 21-25, waiting for 11-20
    window.add(events.slice(15, 18)) // seqs 16-18, waiting too
    expect(window.nextRunAfter(0)).toBe(6)
    expect(window.nextRunAfter(5)).toBe(6)
    expect(window.nextRunAfter(6)).toBe(16)
    expect(window.nextRunAfter(10)).toBe(16)
    expect(window.nextRunAfter(16)).toBe(21)
    expect(window.nextRunAfter(21)).toBeUndefined()
    window.add(events.slice(10, 20)) // seqs 11-20: everything joins
    expect(window.after(5, 100)!.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6))
    expect(window.nextRunAfter(0)).toBe(6)
    expect(window.nextRunAfter(6)).toBeUndefined()
  })

  it('keeps at most half again its size, dropping the oldest', () => {
    const window = new RecentWindow(10)
    window.add(log(15))
    expect(window.after(0, 100)!.length).toBe(15)
    window.add(log(16).slice(15))
    expect(window.after(5, 100)).toBeNull()
    expect(window.after(6, 100)!.map((e) => e.seq)).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
  })

  it('starts again from the newest chunk when what lies between never comes', () => {
    const events = log(200)
    const window = new RecentWindow(1000)
    window.add(events.slice(0, 1))
    for (let i = 0; i < 65; i++) window.add(events.slice(10 + 2 * i, 11 + 2 * i)) // every other seq from 11
    expect(window.after(0, 5)).toBeNull()
    const end = window.end
    expect(end).toBe(139)
    expect(window.after(end - 1, 5)!.map((e) => e.seq)).toEqual([end])
  })
})

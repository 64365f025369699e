import { describe, expect, it } from 'vitest'
import { createCoalescer, latest } from './coalesce.ts'

/** A scheduler that runs callbacks when the test says a frame happened. */
function manualFrames() {
  let queue: Array<() => void> = []
  return {
    schedule: (callback: () => void) => {
      queue.push(callback)
      return () => {
        queue = queue.filter((c) => c !== callback)
      }
    },
    frame() {
      const run = queue
      queue = []
      for (const callback of run) callback()
    },
    get scheduled() {
      return queue.length
    },
  }
}

describe('createCoalescer', () => {
  it('turns many pushes into one flush per frame with the merged changes', () => {
    const frames = manualFrames()
    const flushed: Set<string>[] = []
    const c = createCoalescer<Set<string>>({
      merge: (a, b) => new Set([...a, ...b]),
      flush: (value) => flushed.push(value),
      schedule: frames.schedule,
    })
    for (let i = 0; i < 1000; i++) c.push(new Set([`inc-${i % 10}`]))
    expect(frames.scheduled).toBe(1)
    expect(flushed).toHaveLength(0)
    frames.frame()
    expect(flushed).toHaveLength(1)
    expect(flushed[0]!.size).toBe(10)
    // nothing new: no flush and nothing scheduled
    frames.frame()
    expect(flushed).toHaveLength(1)
    expect(frames.scheduled).toBe(0)
    c.push(new Set(['x']))
    frames.frame()
    expect(flushed).toHaveLength(2)
    expect([...flushed[1]!]).toEqual(['x'])
  })

  it('keeps the latest snapshot with `latest`', () => {
    const frames = manualFrames()
    const flushed: number[] = []
    const c = createCoalescer<number>({ merge: latest, flush: (v) => flushed.push(v), schedule: frames.schedule })
    c.push(1)
    c.push(2)
    c.push(3)
    frames.frame()
    expect(flushed).toEqual([3])
  })

  it('flushes now on demand and cancels', () => {
    const frames = manualFrames()
    const flushed: number[] = []
    const c = createCoalescer<number>({
      merge: (a, b) => a + b,
      flush: (v) => flushed.push(v),
      schedule: frames.schedule,
    })
    c.push(1)
    c.push(2)
    expect(c.pending).toBe(true)
    c.flushNow()
    expect(flushed).toEqual([3])
    expect(c.pending).toBe(false)
    expect(frames.scheduled).toBe(0)
    c.push(5)
    c.cancel()
    frames.frame()
    expect(flushed).toEqual([3])
  })

  it('lets a flush push again (for the next frame)', () => {
    const frames = manualFrames()
    const flushed: number[] = []
    const c = createCoalescer<number>({
      merge: latest,
      flush: (v) => {
        flushed.push(v)
        if (v < 3) c.push(v + 1)
      },
      schedule: frames.schedule,
    })
    c.push(1)
    frames.frame()
    frames.frame()
    frames.frame()
    expect(flushed).toEqual([1, 2, 3])
  })
})

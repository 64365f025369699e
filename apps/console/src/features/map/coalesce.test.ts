import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createCoalescer, latest, pacedScheduler } from './coalesce.ts'

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

describe('pacedScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  /** A coalescer on a paced scheduler; flushes are recorded with the fake clock's time. */
  function paced(gap: () => number) {
    const frames = manualFrames()
    const pace = pacedScheduler(gap, frames.schedule, () => Date.now())
    const flushed: Array<{ at: number; value: number }> = []
    const c = createCoalescer<number>({
      merge: latest,
      flush: (value) => flushed.push({ at: Date.now(), value }),
      schedule: pace,
    })
    return { frames, pace, flushed, c, start: Date.now() }
  }

  it('with no gap runs on the next frame, like the frame scheduler', () => {
    const { frames, flushed, c } = paced(() => 0)
    c.push(1)
    frames.frame()
    c.push(2)
    frames.frame()
    expect(flushed.map((f) => f.value)).toEqual([1, 2])
  })

  it('waits out the gap after a run, then takes the next frame with the newest value', () => {
    const { frames, flushed, c, start } = paced(() => 1000)
    c.push(1)
    frames.frame() // the first run needs no wait
    expect(flushed).toEqual([{ at: start, value: 1 }])
    c.push(2)
    c.push(3)
    frames.frame()
    expect(frames.scheduled).toBe(0) // no frame asked for yet: the gap is running
    vi.advanceTimersByTime(999)
    frames.frame()
    expect(flushed).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(frames.scheduled).toBe(1)
    frames.frame()
    expect(flushed[1]).toEqual({ at: start + 1000, value: 3 })
    // a push long after the gap runs on the next frame
    vi.advanceTimersByTime(5000)
    c.push(4)
    frames.frame()
    expect(flushed[2]).toEqual({ at: start + 6000, value: 4 })
  })

  it('hurry brings a waiting run to the next frame; with nothing waiting it does nothing', () => {
    const { frames, pace, flushed, c, start } = paced(() => 1000)
    pace.hurry()
    c.push(1)
    frames.frame()
    c.push(2)
    vi.advanceTimersByTime(100)
    pace.hurry()
    frames.frame()
    expect(flushed).toEqual([
      { at: start, value: 1 },
      { at: start + 100, value: 2 },
    ])
    // the gap counts from the hurried run
    c.push(3)
    vi.advanceTimersByTime(999)
    frames.frame()
    expect(flushed).toHaveLength(2)
    vi.advanceTimersByTime(1)
    frames.frame()
    expect(flushed[2]).toEqual({ at: start + 1100, value: 3 })
  })

  it('reads the gap at each scheduling, and cancel drops a waiting run', () => {
    let gap = 0
    const { frames, flushed, c } = paced(() => gap)
    c.push(1)
    frames.frame()
    gap = 1000
    c.push(2)
    c.cancel()
    vi.advanceTimersByTime(2000)
    frames.frame()
    expect(flushed.map((f) => f.value)).toEqual([1])
    expect(vi.getTimerCount()).toBe(0)
  })
})

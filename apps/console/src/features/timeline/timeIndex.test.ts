import { makeEvent } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { buildTimeIndex, lowerBound, updateTimeIndex, upperBound } from './timeIndex.ts'

const at = (seq: number, seconds: number) =>
  makeEvent(
    seq,
    'advisory.published',
    { advisoryId: `a${seq}`, title: 't', body: 'b' },
    {
      occurredAt: new Date(Date.UTC(2026, 10, 1) + seconds * 1000).toISOString(),
    },
  )

describe('time index', () => {
  it('sorts a copy by occurredAt, ties in seq order', () => {
    const events = [at(1, 0), at(2, 5), at(3, 3), at(4, 5), at(5, 4)]
    const index = buildTimeIndex(events)
    expect(index.events.map((e) => e.seq)).toEqual([1, 3, 5, 2, 4])
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5])
    expect(index.times[1]! - index.times[0]!).toBe(3000)
  })

  it('extends an index incrementally when events are appended, merging late ones in', () => {
    const events = [at(1, 0), at(2, 5), at(3, 3)]
    const first = buildTimeIndex(events)
    const more = [...events, at(4, 6), at(5, 1), at(6, 5), at(7, 9)]
    const next = updateTimeIndex(first, more)
    expect(next.events.map((e) => e.seq)).toEqual(buildTimeIndex(more).events.map((e) => e.seq))
    expect(Array.from(next.times)).toEqual(Array.from(buildTimeIndex(more).times))
    expect(next.events.map((e) => e.seq)).toEqual([1, 5, 3, 2, 6, 4, 7])
    // many appends grow the buffer
    let index = next
    let list = more
    for (let k = 0; k < 3000; k++) {
      list = [...list, at(100 + k, 10 + k)]
      index = updateTimeIndex(index, list)
    }
    expect(index.times.length).toBe(list.length)
    expect(index.times[index.times.length - 1]).toBe(Date.UTC(2026, 10, 1) + 3009 * 1000)
  })

  it('rebuilds when the new list is not an extension of the old one', () => {
    const events = [at(1, 0), at(2, 5), at(3, 3)]
    const first = buildTimeIndex(events)
    const other = [events[0]!, events[2]!, at(4, 1)]
    expect(updateTimeIndex(first, other).events.map((e) => e.seq)).toEqual([1, 4, 3])
    expect(updateTimeIndex(first, events)).toBe(first)
  })

  it('binary-searches the times', () => {
    const times = Float64Array.from([1, 2, 2, 2, 5])
    expect(lowerBound(times, 2)).toBe(1)
    expect(upperBound(times, 2)).toBe(4)
    expect(lowerBound(times, 0)).toBe(0)
    expect(lowerBound(times, 6)).toBe(5)
    expect(upperBound(times, 5)).toBe(5)
  })
})

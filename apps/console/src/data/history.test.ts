import { makeEvent } from '@watchfloor/core'
import type { EventPageReply, StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import {
  addCoverage,
  liveFrom,
  mergeBySeq,
  missingRanges,
  type ReadJson,
  readJsonAs,
  readOlder,
  readRecent,
  trimCoverage,
} from './history.ts'

const INF = Number.POSITIVE_INFINITY

describe('coverage', () => {
  it('adds ranges, merging those that touch or overlap', () => {
    let c = addCoverage([], { from: 10, to: 20 })
    c = addCoverage(c, { from: 40, to: INF })
    expect(c).toEqual([
      { from: 10, to: 20 },
      { from: 40, to: INF },
    ])
    c = addCoverage(c, { from: 0, to: 5 })
    expect(c[0]).toEqual({ from: 0, to: 5 })
    c = addCoverage(c, { from: 5, to: 12 })
    expect(c).toEqual([
      { from: 0, to: 20 },
      { from: 40, to: INF },
    ])
    c = addCoverage(c, { from: 15, to: 45 })
    expect(c).toEqual([{ from: 0, to: INF }])
    expect(addCoverage(c, { from: 3, to: 3 })).toBe(c) // empty: nothing to add
  })

  it('trims what lies before a time', () => {
    const c = [
      { from: 0, to: 10 },
      { from: 20, to: INF },
    ]
    expect(trimCoverage(c, -5)).toBe(c)
    expect(trimCoverage(c, 5)).toEqual([
      { from: 5, to: 10 },
      { from: 20, to: INF },
    ])
    expect(trimCoverage(c, 15)).toEqual([{ from: 20, to: INF }])
    expect(trimCoverage(c, 30)).toEqual([{ from: 30, to: INF }])
  })

  it('finds what a domain lacks, and where the live range starts', () => {
    const c = [
      { from: 10, to: 20 },
      { from: 40, to: INF },
    ]
    expect(missingRanges(c, { from: 0, to: 100 })).toEqual([
      { from: 0, to: 10 },
      { from: 20, to: 40 },
    ])
    expect(missingRanges(c, { from: 12, to: 18 })).toEqual([])
    expect(missingRanges(c, { from: 15, to: 30 })).toEqual([{ from: 20, to: 30 }])
    expect(missingRanges([], { from: 1, to: 2 })).toEqual([{ from: 1, to: 2 }])
    expect(liveFrom(c)).toBe(40)
    expect(liveFrom([{ from: 1, to: 2 }])).toBe(INF)
    expect(liveFrom([])).toBe(INF)
  })
})

const obs = (seq: number, minute: number) => {
  const time = new Date(Date.UTC(2026, 10, 26) + minute * 60_000).toISOString()
  return { ...makeEvent(seq, 'incident.observation', { incidentId: 'i' }), occurredAt: time, recordedAt: time }
}

describe('mergeBySeq', () => {
  it('merges in seq order, each seq once; null when nothing is added', () => {
    const newer = [obs(5, 5), obs(6, 6), obs(9, 9)]
    expect(mergeBySeq([obs(1, 1), obs(6, 6), obs(7, 7)], newer)?.map((e) => e.seq)).toEqual([1, 5, 6, 7, 9])
    expect(mergeBySeq([obs(6, 6)], newer)).toBeNull()
    expect(mergeBySeq([], newer)).toBeNull()
  })
})

/** A reader over an in-memory log that pages like `GET /api/v1/events` (the viewer sees every other seq). */
function pager(log: StoredEvent[], visible = (e: StoredEvent) => e.seq % 2 === 1) {
  const asked: URLSearchParams[] = []
  const read: ReadJson = async <T>(path: string) => {
    const q = new URL(path, 'http://x').searchParams
    asked.push(q)
    const after = Number(q.get('after'))
    const limit = Number(q.get('limit'))
    const from = q.has('from') ? Date.parse(q.get('from')!) : -INF
    const to = q.has('to') ? Date.parse(q.get('to')!) : INF
    const head = log.filter(visible).at(-1)?.seq ?? 0
    const matching = log.filter(
      (e) => e.seq > after && visible(e) && Date.parse(e.recordedAt) >= from && Date.parse(e.recordedAt) < to,
    )
    const events = matching.slice(0, limit)
    const next = matching.length > limit ? events.at(-1)!.seq : Math.max(head, after)
    return { events, next, head } satisfies EventPageReply as T
  }
  return { read, asked }
}

describe('reading ranges', () => {
  const log = Array.from({ length: 100 }, (_, i) => obs(i + 1, i + 1))
  const minute = (m: number) => Date.UTC(2026, 10, 26) + m * 60_000

  it('readRecent: from a time up to the snapshot, in pages; nothing beyond it', async () => {
    const { read, asked } = pager(log)
    const got = await readRecent(read, { fromMs: minute(60), through: 95, maxSeqs: 1000, pageSize: 7 })
    expect(got.events.map((e) => e.seq)).toEqual([
      61, 63, 65, 67, 69, 71, 73, 75, 77, 79, 81, 83, 85, 87, 89, 91, 93, 95,
    ])
    expect(got.covered).toEqual({ from: minute(60), to: INF })
    expect(asked[0]!.get('after')).toBe('0')
    expect(asked.length).toBe(3)
  })

  it('readRecent: at most maxSeqs seqs, complete from just after the first one read', async () => {
    const { read, asked } = pager(log)
    const got = await readRecent(read, { fromMs: minute(0), through: 99, maxSeqs: 10 })
    expect(asked[0]!.get('after')).toBe('89')
    expect(got.events.map((e) => e.seq)).toEqual([91, 93, 95, 97, 99])
    expect(got.covered.from).toBe(minute(91) + 1)
    // nothing in the span: complete all the same (the snapshot's own event was recorded before it)
    const empty = await readRecent(pager(log).read, { fromMs: minute(200), through: 99, maxSeqs: 10 })
    expect(empty).toEqual({ events: [], covered: { from: minute(200), to: INF } })
  })

  it('readOlder: a range, oldest first, cut after about maxEvents (then complete up to the last one read)', async () => {
    const { read } = pager(log)
    const all = await readOlder(read, { fromMs: minute(10), toMs: minute(20), through: 99, maxEvents: 100 })
    expect(all.events.map((e) => e.seq)).toEqual([11, 13, 15, 17, 19])
    expect(all.covered).toEqual({ from: minute(10), to: minute(20) })
    const cut = await readOlder(read, { fromMs: minute(10), toMs: minute(40), through: 99, maxEvents: 3 })
    expect(cut.events.map((e) => e.seq)).toEqual([11, 13, 15])
    expect(cut.covered).toEqual({ from: minute(10), to: minute(15) })
  })

  it('readJsonAs: the credential and audience on every read; the server’s error body in the error', async () => {
    const seen: RequestInit[] = []
    const fetchFn = (async (_url: string, init: RequestInit) => {
      seen.push(init)
      return new Response(JSON.stringify({ error: { code: 'forbidden', message: 'no' } }), { status: 403 })
    }) as unknown as typeof fetch
    const read = readJsonAs('tok', 'community:baltic', fetchFn)
    await expect(read('/api/v1/state')).rejects.toMatchObject({ status: 403, code: 'forbidden', message: '403: no' })
    expect(seen[0]!.headers).toEqual({
      Accept: 'application/json',
      Authorization: 'Bearer tok',
      'X-Watchfloor-View-As': 'community:baltic',
    })
    expect(seen[0]!.credentials).toBe('same-origin')
    const unreachable = readJsonAs(null, null, (async () => {
      throw new TypeError('fetch failed')
    }) as unknown as typeof fetch)
    await expect(unreachable('/api/v1/state')).rejects.toMatchObject({ status: 0, code: 'unavailable' })
  })
})

import { randomUUID } from 'node:crypto'
import type { StoredEvent } from '@watchfloor/protocol'
import { WatchfloorError } from '@watchfloor/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { partsOf, SNAPSHOT_PART_CHARS } from './snapshots.ts'
import type { AcceptedEvent, EventStore } from './types.ts'

export interface StoreFactory {
  /** A fresh, empty store. */
  create(): Promise<EventStore>
  /** The same log opened again (after `close`), as a restarted process would. */
  reopen(store: EventStore): Promise<EventStore>
  /** Remove what `create` made. */
  destroy(store: EventStore): Promise<void>
}

export function observation(n: number, id: string = randomUUID()): AcceptedEvent {
  return {
    id,
    type: 'incident.observation',
    occurredAt: new Date(Date.UTC(2026, 10, 26, 8) + n * 1000).toISOString(),
    source: { organisation: 'cert-ee', network: 'ee-gov' },
    marking: { tlp: 'GREEN' },
    payload: { incidentId: 'inc-1', count: n + 1 },
  }
}

async function readAll(store: EventStore, pageSize = 100): Promise<StoredEvent[]> {
  const out: StoredEvent[] = []
  for (;;) {
    const page = await store.readAfter(out.at(-1)?.seq ?? 0, pageSize)
    if (page.length === 0) return out
    out.push(...page)
  }
}

/** The contract every EventStore passes (rules L1-L5 in packages/core/SPEC.md). */
export function registerEventStoreContract(name: string, factory: StoreFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    const open: EventStore[] = []
    const create = async () => {
      const store = await factory.create()
      open.push(store)
      return store
    }
    afterEach(async () => {
      for (const store of open.splice(0)) await factory.destroy(store)
    })

    it('[L1] assigns gap-free seqs from 1 in order, and reads them back', async () => {
      const store = await create()
      expect(await store.head()).toBe(0)
      const first = await store.append([observation(0), observation(1), observation(2)])
      expect(first.map((r) => r.seq)).toEqual([1, 2, 3])
      expect(first.every((r) => !r.duplicate)).toBe(true)
      const events = await store.readAfter(0, 10)
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3])
      expect(events[1]).toMatchObject({
        type: 'incident.observation',
        payload: { count: 2 },
        marking: { tlp: 'GREEN' },
      })
      expect(typeof events[0]?.recordedAt).toBe('string')
      expect(await store.head()).toBe(3)
    })

    it('[L1] concurrent appends share no seq and leave no gap', async () => {
      const store = await create()
      const batches = Array.from({ length: 25 }, (_, b) => Array.from({ length: 8 }, (_, i) => observation(b * 8 + i)))
      const results = await Promise.all(batches.map((batch) => store.append(batch)))
      const seqs = results.flat().map((r) => r.seq)
      expect(new Set(seqs).size).toBe(200)
      expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
      for (const batch of results)
        for (let i = 1; i < batch.length; i++) expect(batch[i]!.seq).toBe(batch[i - 1]!.seq + 1)
      const all = await readAll(store, 37)
      expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    })

    it('[L2] the same id with the same content returns the original seq and appends nothing', async () => {
      const store = await create()
      const event = observation(0)
      const [first] = await store.append([event])
      await store.append([observation(1)])
      // a sender posting again may write the keys in another order: still the same event
      const reordered = { ...event, payload: Object.fromEntries(Object.entries(event.payload).reverse()) }
      const again = await store.append([reordered as AcceptedEvent, observation(2)])
      expect(again[0]).toEqual({ id: event.id, seq: first!.seq, duplicate: true })
      expect(again[1]).toMatchObject({ seq: 3, duplicate: false })
      expect(await store.head()).toBe(3)
    })

    it('[L2] a batch may repeat an id with the same content', async () => {
      const store = await create()
      const event = observation(0)
      const results = await store.append([event, observation(1), event])
      expect(results.map((r) => r.seq)).toEqual([1, 2, 1])
      expect(await store.head()).toBe(2)
    })

    it('[L3] the same id with other content is a conflict and nothing of that batch is appended', async () => {
      const store = await create()
      const event = observation(0)
      await store.append([event])
      const other = observation(5, event.id)
      const fresh = observation(6)
      const [conflicting, unrelated] = await Promise.allSettled([
        store.append([fresh, other]),
        store.append([observation(7)]),
      ])
      expect(conflicting.status).toBe('rejected')
      const error = (conflicting as PromiseRejectedResult).reason
      expect(error).toBeInstanceOf(WatchfloorError)
      expect((error as WatchfloorError).code).toBe('conflict')
      expect(unrelated.status).toBe('fulfilled')
      const all = await readAll(store)
      expect(all.map((e) => e.id)).not.toContain(fresh.id)
      expect(all.map((e) => e.seq)).toEqual([1, 2])
    })

    it('[L1, L2, L3] small and large groups alike: text kept as sent, ids found again, a conflict appends nothing', async () => {
      const store = await create()
      const sent: AcceptedEvent[] = []
      // text SQL and JSON treat specially, kept as sent
      const awkward = ["it's", 'C:\\Windows\\System32', "E'\\x00'", '$1; DROP TABLE x; --', 'line\nbreak\u0000', '✓ 🛡']
      const withText = (n: number): AcceptedEvent => ({
        ...observation(n),
        type: 'incident.observation',
        payload: { incidentId: 'inc-1', indicator: awkward[n % 6]!, count: n + 1 },
      })
      for (const size of [3, 250]) {
        const events = Array.from({ length: size }, (_, i) => withText(i))
        const head = await store.head()
        const results = await store.append(events)
        sent.push(...events)
        expect(results.map((r) => r.seq)).toEqual(Array.from({ length: size }, (_, i) => head + i + 1))
        const read = await store.readAfter(head, size)
        expect(read.map((e) => e.payload)).toEqual(events.map((e) => e.payload))
        // the same group again: every id found, nothing appended
        const again = await store.append(events)
        expect(again.every((r, i) => r.duplicate && r.seq === results[i]!.seq)).toBe(true)
        // one id with other content: the whole group refused
        const conflicting = [...events.slice(1).map((_, i) => withText(size + i)), observation(9, events[0]!.id)]
        await expect(store.append(conflicting)).rejects.toMatchObject({ code: 'conflict' })
        expect(await store.head()).toBe(head + size)
      }
      // as the table holds it, not as this process keeps it in memory
      await store.close()
      const reopened = await factory.reopen(store)
      open.push(reopened)
      const stored = await readAll(reopened)
      expect(stored.map((e) => [e.id, e.payload])).toEqual(sent.map((e) => [e.id, e.payload]))
    })

    it('[L2] tells where ids stand in the log, and nothing of ids not in it', async () => {
      const store = await create()
      const events = [observation(0), observation(1), observation(2)]
      await store.append(events)
      const missing = '00000000-0000-4000-8000-00000000beef'
      const found = await store.seqsOf([events[2]!.id, missing, events[0]!.id, 'not-an-id'])
      expect(Object.fromEntries(found)).toEqual({ [events[0]!.id]: 1, [events[2]!.id]: 3 })
      expect((await store.seqsOf([])).size).toBe(0)
    })

    it('pages with a limit', async () => {
      const store = await create()
      await store.append(Array.from({ length: 30 }, (_, i) => observation(i)))
      expect((await store.readAfter(0, 10)).map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1))
      expect((await store.readAfter(25, 10)).map((e) => e.seq)).toEqual([26, 27, 28, 29, 30])
      expect(await store.readAfter(30, 10)).toEqual([])
    })

    it('[L5] recordedAt never decreases along seq, and reads by recordedAt range', async () => {
      const store = await create()
      await store.append([observation(0), observation(1)])
      await new Promise((r) => setTimeout(r, 20))
      const middle = new Date().toISOString()
      await new Promise((r) => setTimeout(r, 5))
      await store.append([observation(2)])
      await store.append([observation(3)])
      const all = await readAll(store)
      for (let i = 1; i < all.length; i++) expect(all[i]!.recordedAt >= all[i - 1]!.recordedAt).toBe(true)
      const later = await store.readRecordedRange(middle, '2100-01-01T00:00:00Z', 0, 10)
      expect(later.map((e) => e.seq)).toEqual([3, 4])
      const paged = await store.readRecordedRange('2000-01-01T00:00:00Z', middle, 1, 10)
      expect(paged.map((e) => e.seq)).toEqual([2])
    })

    it('tells listeners the new head after an append, last as not heard from another process', async () => {
      const store = await create()
      const heads: number[] = []
      const told: [number, boolean][] = []
      const off = store.onAppend((head, heard) => {
        heads.push(head)
        told.push([head, heard])
      })
      const first = await store.append([observation(0), observation(1)])
      const second = await store.append([observation(2)])
      await expect.poll(() => heads.at(-1)).toBe(3)
      // told once answered, whatever came first (a store that hears its own notification)
      for (const results of [first, second]) {
        const head = results.at(-1)!.seq
        expect(told.filter(([h]) => h === head).at(-1)).toEqual([head, false])
      }
      off()
      await store.append([observation(3)])
      await new Promise((r) => setTimeout(r, 50))
      expect(heads.at(-1)).toBe(3)
    })

    it('[L2, L3] ids appended long before are still found, after reopening too', async () => {
      const store = await create()
      const sent: AcceptedEvent[] = []
      for (let b = 0; b < 12; b++) {
        const batch = Array.from({ length: 10 }, (_, i) => observation(b * 10 + i))
        sent.push(...batch)
        await store.append(batch)
        // let a store that indexes ids between appends do so
        await new Promise((r) => setImmediate(r))
      }
      const check = async (s: EventStore) => {
        for (const k of [0, 7, 58, 101, 119]) {
          const [again] = await s.append([{ ...sent[k]! }])
          expect(again).toEqual({ id: sent[k]!.id, seq: k + 1, duplicate: true })
          await expect(s.append([observation(500 + k, sent[k]!.id)])).rejects.toMatchObject({ code: 'conflict' })
        }
        expect(await s.head()).toBe(120)
      }
      await check(store)
      await store.close()
      const reopened = await factory.reopen(store)
      open.push(reopened)
      await check(reopened)
      const [next] = await reopened.append([observation(999)])
      expect(next).toMatchObject({ seq: 121, duplicate: false })
    })

    it('[S2, S3] a snapshot is read back by its own key and version only: the newest at or below the seq asked', async () => {
      const store = await create()
      const snapshots = store.snapshots!
      expect(await snapshots.load('a', 1, 100)).toBeUndefined()
      await snapshots.save({ key: 'a', version: 1, seq: 10, body: '{"at":10}' }, 3)
      await snapshots.save({ key: 'a', version: 1, seq: 20, body: '{"at":20}' }, 3)
      await snapshots.save({ key: 'b', version: 1, seq: 15, body: '{"b":15}' }, 3)
      await snapshots.save({ key: 'z', version: 2, seq: 5, body: '{"v2":5}' }, 3)
      expect(await snapshots.load('a', 1, 100)).toEqual({ key: 'a', version: 1, seq: 20, body: '{"at":20}' })
      expect((await snapshots.load('a', 1, 19))?.seq).toBe(10)
      expect(await snapshots.load('a', 1, 9)).toBeUndefined()
      // another version or another key is never read
      expect((await snapshots.load('b', 1, 100))?.body).toBe('{"b":15}')
      expect(await snapshots.load('c', 1, 100)).toBeUndefined()
      expect(await snapshots.load('a', 2, 100)).toBeUndefined()
      expect(await snapshots.load('z', 1, 100)).toBeUndefined()
      // saved again at the same seq: replaced; a large body whole
      const large = JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => ({ i, text: `item ${i} ✓` })) })
      await snapshots.save({ key: 'a', version: 1, seq: 20, body: large }, 3)
      expect((await snapshots.load('a', 1, 20))?.body).toBe(large)
    })

    it('[S2] a body longer than a part is written in parts and read back whole, surrogate pairs at the cuts too', async () => {
      const store = await create()
      const snapshots = store.snapshots!
      // two and a half parts; a pair of surrogates (an emoji) straddles every cut of a naive slice
      const pair = '\u{1F6A8}'
      let body = ''
      while (body.length < SNAPSHOT_PART_CHARS * 2.5)
        body += `{"incident":"inc-${body.length}","title":"alert ${pair}"},`
      for (const cut of [SNAPSHOT_PART_CHARS, 2 * SNAPSHOT_PART_CHARS])
        body = `${body.slice(0, cut - 1)}${pair}${body.slice(cut + 1)}`
      expect(partsOf(body).length).toBe(3)
      await snapshots.save({ key: 'big', version: 1, seq: 10, body }, 2)
      expect(await snapshots.load('big', 1, 10)).toEqual({ key: 'big', version: 1, seq: 10, body })
      // replaced at the same seq by a short body, then by a long one again; older ones trimmed
      await snapshots.save({ key: 'big', version: 1, seq: 10, body: '{"short":true}' }, 2)
      expect((await snapshots.load('big', 1, 10))?.body).toBe('{"short":true}')
      const other = `${body.slice(1)}x`
      await snapshots.save({ key: 'big', version: 1, seq: 10, body: other }, 2)
      await snapshots.save({ key: 'big', version: 1, seq: 20, body }, 2)
      await snapshots.save({ key: 'big', version: 1, seq: 30, body: other }, 2)
      expect((await snapshots.load('big', 1, 29))?.body).toBe(body)
      expect((await snapshots.load('big', 1, 30))?.body).toBe(other)
      expect(await snapshots.load('big', 1, 19)).toBeUndefined()
      await store.close()
      const reopened = await factory.reopen(store)
      open.push(reopened)
      expect((await reopened.snapshots!.load('big', 1, 30))?.body).toBe(other)
    })

    it('[S2] keeps a few snapshots per key, prunes other versions and the least recently used keys', async () => {
      const store = await create()
      const snapshots = store.snapshots!
      for (const seq of [1, 2, 3, 4]) await snapshots.save({ key: 'a', version: 1, seq, body: `${seq}` }, 2)
      expect(await snapshots.load('a', 1, 2)).toBeUndefined() // 1 and 2 went when 3 and 4 came
      expect((await snapshots.load('a', 1, 3))?.seq).toBe(3)
      // a save of one version leaves none of another for that key
      await snapshots.save({ key: 'b', version: 0, seq: 9, body: 'old' })
      await snapshots.save({ key: 'b', version: 1, seq: 9, body: 'new' })
      expect(await snapshots.load('b', 0, 9)).toBeUndefined()
      await snapshots.save({ key: 'c', version: 0, seq: 1, body: 'old' })
      await snapshots.save({ key: 'd', version: 1, seq: 1, body: 'd' })
      await snapshots.save({ key: 'e', version: 1, seq: 1, body: 'e' })
      // used most recently: a, then e (loaded after d was saved)
      await snapshots.load('e', 1, 1)
      await snapshots.load('a', 1, 10)
      expect(await snapshots.prune({ version: 1, keepPerKey: 1, maxKeys: 2 })).toBeGreaterThan(0)
      expect(await snapshots.keys()).toEqual(['a', 'e'])
      expect((await snapshots.load('a', 1, 10))?.seq).toBe(4)
      expect(await snapshots.load('a', 1, 3)).toBeUndefined() // one per key now
      await snapshots.save({ key: 'f', version: 1, seq: 7, body: 'f' })
      await store.close()
      const reopened = await factory.reopen(store)
      open.push(reopened)
      expect(await reopened.snapshots!.load('f', 1, 7)).toMatchObject({ seq: 7, body: 'f' })
      expect(await reopened.snapshots!.keys()).toEqual(['a', 'e', 'f'])
    })

    it('[L4] what was acknowledged is there after reopening, and seq continues', async () => {
      const store = await create()
      const results = await store.append(Array.from({ length: 50 }, (_, i) => observation(i)))
      await store.close()
      const reopened = await factory.reopen(store)
      open.push(reopened)
      expect(await reopened.head()).toBe(50)
      const all = await readAll(reopened)
      expect(all.map((e) => e.id)).toEqual(results.map((r) => r.id))
      const [next] = await reopened.append([observation(99)])
      expect(next?.seq).toBe(51)
      expect((await reopened.append([{ ...observation(0), id: results[0]!.id }]))[0]).toMatchObject({
        seq: 1,
        duplicate: true,
      })
    })

    it('[L1, L5] appendStored writes stored events as they are, continuing the head; a gap, an earlier time or a known id is refused whole', async () => {
      const source = await create()
      await source.append([observation(0), observation(1)])
      await new Promise((r) => setTimeout(r, 5))
      await source.append([observation(2)])
      const stored = await readAll(source)
      const store = await create()
      expect(await store.appendStored!(stored.slice(0, 2))).toBe(2)
      await expect(store.appendStored!([stored[0]!])).rejects.toMatchObject({ code: 'conflict' })
      const gap = { ...stored[2]!, seq: 4 }
      await expect(store.appendStored!([gap])).rejects.toMatchObject({ code: 'conflict' })
      const earlier = { ...stored[2]!, recordedAt: '2000-01-01T00:00:00.000Z' }
      await expect(store.appendStored!([earlier])).rejects.toMatchObject({ code: 'conflict' })
      // an id already in the log, at the next seq
      await expect(store.appendStored!([{ ...stored[2]!, id: stored[0]!.id }])).rejects.toMatchObject({
        code: 'conflict',
      })
      expect(await store.head()).toBe(2)
      expect(await store.appendStored!([stored[2]!])).toBe(3)
      expect(await readAll(store)).toEqual(stored)
      expect(
        (await store.readRecordedRange(stored[2]!.recordedAt, '2100-01-01T00:00:00Z', 0, 10)).map((e) => e.seq),
      ).toEqual([3])
      // appends go on from there, and know the restored ids [L2]
      const [again] = await store.append([observation(1, stored[1]!.id)])
      expect(again).toMatchObject({ seq: 2, duplicate: true })
      const [next] = await store.append([observation(9)])
      expect(next).toMatchObject({ seq: 4, duplicate: false })
      expect((await readAll(store))[3]!.recordedAt >= stored[2]!.recordedAt).toBe(true)
    })
  })
}

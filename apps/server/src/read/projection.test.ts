import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  canSee,
  fold,
  initialState,
  STATE_FORMAT_VERSION,
  type StateJson,
  stateToJson,
  viewerKey,
} from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { type SnapshotStore, SqliteEventStore } from '@watchfloor/store'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { catchUp, FullState, Replay, SharedPages, StateCache } from './projection.ts'
import { FULL_KEY, REPORTS_KEY, Snapshots, viewerSnapshotKey } from './snapshots.ts'
import { liveTextReady, stateText } from './stateText.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A SQLite log in a scratch folder of its own, removed after the test. */
function scratchStore(name: string): SqliteEventStore {
  const dir = mkdtempSync(join(tmpdir(), `watchfloor-${name}-`))
  dirs.push(dir)
  return new SqliteEventStore({ file: join(dir, 'events.sqlite') })
}

function reported(incidentId: string) {
  return {
    id: randomUUID(),
    type: 'incident.reported' as const,
    occurredAt: new Date().toISOString(),
    source: { organisation: 'cert-ee' },
    marking: { tlp: 'GREEN' as const },
    payload: { incidentId, title: incidentId, severity: 'high' as const, category: 'worm', affectedNetworks: [] },
  }
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('FullState.follow', () => {
  it('catches up with the log at once and as it grows, without a command asking', async () => {
    const store = scratchStore('full')
    try {
      await store.append([reported('inc-1'), reported('inc-2')])
      const full = new FullState(store)
      const errors: unknown[] = []
      const stop = full.follow((error) => errors.push(error), 50)
      await until(() => full.latest.seq === 2)
      await store.append([reported('inc-3')])
      await until(() => full.latest.seq === 3)
      expect([...full.latest.incidents.keys()].sort()).toEqual(['inc-1', 'inc-2', 'inc-3'])
      stop()
      await store.append([reported('inc-4')])
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(full.latest.seq).toBe(3) // stopped: no more background reads
      expect(errors).toEqual([])
    } finally {
      await store.close()
    }
  })

  it('after a failed pass waits for its timer, however far the log runs ahead: a failing read is not tried on every append', async () => {
    const store = scratchStore('full-failing')
    try {
      let failing = true
      const reads = { failed: 0 }
      const flaky = new Proxy(store, {
        get(target, property, receiver) {
          if (property === 'readAfter' && failing)
            return async () => {
              reads.failed++
              throw new Error('read failed')
            }
          const value = Reflect.get(target, property, receiver)
          return typeof value === 'function' ? value.bind(target) : value
        },
      })
      const full = new FullState(flaky)
      const errors: unknown[] = []
      const stop = full.follow((error) => errors.push(error), 60_000, 10)
      for (let i = 0; i < 5; i++) {
        await store.append(Array.from({ length: 20 }, (_, k) => reported(`inc-${i}-${k}`)))
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect({ errors: errors.length, reads: reads.failed }).toEqual({ errors: 1, reads: 1 })
      failing = false
      stop()
    } finally {
      await store.close()
    }
  })

  it('catches up at once when the log runs more than its backlog ahead, without waiting for the timer', async () => {
    const store = scratchStore('full-backlog')
    try {
      await store.append([reported('inc-1')])
      const full = new FullState(store)
      const errors: unknown[] = []
      const stop = full.follow((error) => errors.push(error), 60_000, 10)
      await until(() => full.latest.seq === 1)
      await store.append(Array.from({ length: 5 }, (_, i) => reported(`inc-${i + 2}`)))
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(full.latest.seq).toBe(1) // within the backlog: the timer's turn (a minute here)
      await store.append(Array.from({ length: 10 }, (_, i) => reported(`inc-${i + 7}`)))
      await until(() => full.latest.seq === 16)
      stop()
      expect(errors).toEqual([])
    } finally {
      await store.close()
    }
  })
})

function observationOf(n: number) {
  return {
    id: randomUUID(),
    type: 'incident.observation' as const,
    occurredAt: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
    source: { organisation: 'cert-ee', network: 'ee-gov' },
    marking: { tlp: 'GREEN' as const },
    payload: { incidentId: 'inc-1', count: 1 },
  }
}

/** A store holding `count` events: an incident, then its observations. */
async function longLog(count: number): Promise<SqliteEventStore> {
  const store = scratchStore('long')
  await store.append([reported('inc-1')])
  for (let n = 1; n < count; n += 2000)
    await store.append(Array.from({ length: Math.min(2000, count - n) }, (_, i) => observationOf(n + i)))
  return store
}

const viewerOf = (userId: string, organisation = 'cert-ee') => ({
  userId,
  organisation,
  nation: organisation === 'cert-ee' ? 'EE' : 'LV',
  roles: ['analyst' as const],
})

/** Resolves once the event loop has gone through its I/O phase: what a request arriving now waits for. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('no stall while a projection folds from zero', () => {
  it('another viewer is answered while a first fold of a long log runs, and a second request for the folding viewer shares its fold', async () => {
    const store = await longLog(30_000)
    try {
      const cache = new StateCache(store)
      const warm = viewerOf('kadri')
      await cache.current(warm)
      const order: string[] = []
      const cold = viewerOf('janis', 'cert-lv')
      const first = cache.current(cold).then((state) => {
        order.push('cold')
        return state
      })
      // a request that comes in through the event loop (as an HTTP request does) after the fold began
      const other = nextTurn()
        .then(() => cache.current(warm))
        .then(() => order.push('warm'))
      const again = nextTurn().then(() => cache.current(cold))
      const [state, , shared] = await Promise.all([first, other, again])
      expect(order).toEqual(['warm', 'cold'])
      expect(shared).toBe(state) // one fold for both requests of that viewer
      expect(state.seq).toBe(30_000)
    } finally {
      await store.close()
    }
  })

  it('the whole picture folds the log at start while other work runs', async () => {
    const store = await longLog(30_000)
    try {
      const full = new FullState(store)
      const order: string[] = []
      const folded = full.fresh().then(() => order.push('full'))
      const other = nextTurn().then(() => order.push('other'))
      await Promise.all([folded, other])
      expect(order).toEqual(['other', 'full'])
      expect(full.latest.seq).toBe(30_000)
    } finally {
      await store.close()
    }
  })
})

async function everything(store: SqliteEventStore): Promise<StoredEvent[]> {
  const events: StoredEvent[] = []
  await catchUp(store, 0, (page) => events.push(...page))
  return events
}

/** Change the title of `incidentId` in the stored snapshot of `key`: a snapshot only this key may start from. */
async function plant(store: SqliteEventStore, key: string, incidentId: string, title: string): Promise<void> {
  const snapshot = (await store.snapshots.load(key, STATE_FORMAT_VERSION, Number.MAX_SAFE_INTEGER))!
  const json = JSON.parse(snapshot.body) as StateJson
  for (const incident of json.incidents) if (incident.incidentId === incidentId) incident.title = title
  await store.snapshots.save({ ...snapshot, body: JSON.stringify(json) })
}

describe('persisted snapshots', () => {
  it("[S3] a new projection starts from its own viewer's snapshot only, and folds the tail", async () => {
    const store = await longLog(50)
    try {
      const red = { ...reported('inc-red'), marking: { tlp: 'RED' as const, recipients: ['janis'] } }
      await store.append([red])
      const kadri = viewerOf('kadri')
      const janis = viewerOf('janis', 'cert-lv')
      const before = new StateCache(store, { snapshots: new Snapshots(store.snapshots, { everyEvents: 1 }) })
      await before.current(kadri)
      await before.current(janis)
      await before.saveSnapshots()
      const keys = [kadri, janis].map((viewer) => viewerSnapshotKey(viewerKey(viewer)))
      expect((await store.snapshots.keys()).sort()).toEqual([...keys].sort())
      // each snapshot is exactly the fold of what its viewer may see
      const log = await everything(store)
      for (const [i, viewer] of [kadri, janis].entries()) {
        const saved = await store.snapshots.load(keys[i]!, STATE_FORMAT_VERSION, 51)
        expect(JSON.parse(saved!.body)).toEqual(
          JSON.parse(
            JSON.stringify(
              stateToJson(
                fold(
                  initialState,
                  log.filter((event) => canSee(viewer, event)),
                ),
              ),
            ),
          ),
        )
      }
      await plant(store, keys[0]!, 'inc-1', 'planted for kadri')
      await store.append([reported('inc-2')])
      const after = new StateCache(store, { snapshots: new Snapshots(store.snapshots, { everyEvents: 1 }) })
      const kadriNow = await after.current(kadri)
      expect(kadriNow.incidents.get('inc-1')?.title).toBe('planted for kadri') // from the snapshot
      expect(kadriNow.incidents.has('inc-2')).toBe(true) // and the tail folded on
      expect(kadriNow.incidents.has('inc-red')).toBe(false)
      const janisNow = await after.current(janis)
      expect(janisNow.incidents.get('inc-1')?.title).toBe('inc-1') // never kadri's snapshot
      expect(janisNow.incidents.has('inc-red')).toBe(true)
      // a viewer with no snapshot folds from zero
      const pieter = viewerOf('pieter', 'cert-lv')
      expect((await after.current(pieter)).incidents.get('inc-1')?.title).toBe('inc-1')
    } finally {
      await store.close()
    }
  })

  it('[S2] a snapshot of another format version is ignored, and pruned', async () => {
    const store = await longLog(20)
    try {
      const kadri = viewerOf('kadri')
      const key = viewerSnapshotKey(viewerKey(kadri))
      const planted = stateToJson(fold(initialState, await everything(store)))
      planted.incidents[0]!.title = 'another version'
      await store.snapshots.save({ key, version: STATE_FORMAT_VERSION + 1, seq: 20, body: JSON.stringify(planted) })
      const snapshots = new Snapshots(store.snapshots)
      const cache = new StateCache(store, { snapshots })
      expect((await cache.current(kadri)).incidents.get('inc-1')?.title).toBe('inc-1')
      await snapshots.prune()
      expect(await store.snapshots.keys()).toEqual([])
    } finally {
      await store.close()
    }
  })

  it('saves a projection at most every N events or T ms, not on every request', async () => {
    const store = await longLog(10)
    try {
      const kadri = viewerOf('kadri')
      const key = viewerSnapshotKey(viewerKey(kadri))
      const cache = new StateCache(store, {
        snapshots: new Snapshots(store.snapshots, { everyEvents: 25, everyMs: 0 }),
      })
      await cache.current(kadri)
      expect(await store.snapshots.keys()).toEqual([]) // 10 events: not yet
      await store.append(Array.from({ length: 20 }, (_, i) => observationOf(100 + i)))
      await cache.current(kadri)
      await expect.poll(async () => (await store.snapshots.load(key, STATE_FORMAT_VERSION, 1e9))?.seq).toBe(30)
      await store.append(Array.from({ length: 5 }, (_, i) => observationOf(200 + i)))
      await cache.current(kadri)
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect((await store.snapshots.load(key, STATE_FORMAT_VERSION, 1e9))?.seq).toBe(30) // 5 more: not yet
      const timed = new StateCache(store, { snapshots: new Snapshots(store.snapshots, { everyEvents: 0, everyMs: 1 }) })
      await timed.current(kadri) // starts from the snapshot at 30: saved just now
      await new Promise((resolve) => setTimeout(resolve, 5))
      await store.append([observationOf(300)])
      await timed.current(kadri)
      await expect.poll(async () => (await store.snapshots.load(key, STATE_FORMAT_VERSION, 1e9))?.seq).toBe(36)
    } finally {
      await store.close()
    }
  })

  it('saving the whole picture waits for a save that was due and still runs: the store may be closed next', async () => {
    const store = await longLog(40)
    try {
      // due after 10 events: the catch-up starts a save of its own as it ends
      const full = new FullState(store, { snapshots: new Snapshots(store.snapshots, { everyEvents: 10, everyMs: 0 }) })
      await full.fresh()
      await full.saveSnapshot()
      expect(await store.snapshots.load(FULL_KEY, STATE_FORMAT_VERSION, Number.MAX_SAFE_INTEGER)).toMatchObject({
        seq: 40,
      })
    } finally {
      await store.close()
    }
  })

  it("saving the viewers' pictures waits for a save that was due and still runs: the store may be closed next", async () => {
    const store = await longLog(40)
    try {
      const kadri = viewerOf('kadri')
      // due after 10 events: the catch-up starts a save of its own as it ends
      const cache = new StateCache(store, { snapshots: new Snapshots(slowly(store), { everyEvents: 10, everyMs: 0 }) })
      await cache.current(kadri)
      await cache.saveSnapshots()
      expect(
        await store.snapshots.load(viewerSnapshotKey(viewerKey(kadri)), STATE_FORMAT_VERSION, Number.MAX_SAFE_INTEGER),
      ).toMatchObject({ seq: 40 })
    } finally {
      await store.close()
    }
  })

  it('settles every save under way, of projections no longer held too: the store may be closed next', async () => {
    const store = await longLog(40)
    try {
      const kadriKey = viewerSnapshotKey(viewerKey(viewerOf('kadri')))
      const snapshots = new Snapshots(
        slowly(store, (key) => (key === kadriKey ? 400 : 50)),
        { everyEvents: 10, everyMs: 0 },
      )
      // one projection held, so the first is dropped while its (longer) save runs
      const cache = new StateCache(store, { snapshots, maxEntries: 1 })
      await cache.current(viewerOf('kadri'))
      await cache.current(viewerOf('janis', 'cert-lv'))
      await cache.saveSnapshots()
      await snapshots.settle()
      for (const viewer of [viewerOf('kadri'), viewerOf('janis', 'cert-lv')])
        expect(
          await store.snapshots.load(
            viewerSnapshotKey(viewerKey(viewer)),
            STATE_FORMAT_VERSION,
            Number.MAX_SAFE_INTEGER,
          ),
        ).toMatchObject({ seq: 40 })
    } finally {
      await store.close()
    }
  })

  it('the whole picture starts from its snapshot at a restart', async () => {
    const store = await longLog(40)
    try {
      const first = new FullState(store, { snapshots: new Snapshots(store.snapshots) })
      await first.fresh()
      await first.saveSnapshot()
      await plant(store, FULL_KEY, 'inc-1', 'from the snapshot')
      await store.append([reported('inc-9')])
      const second = new FullState(store, { snapshots: new Snapshots(store.snapshots) })
      const state = await second.fresh()
      expect(state.incidents.get('inc-1')?.title).toBe('from the snapshot')
      expect(state.incidents.has('inc-9')).toBe(true)
      expect(state.seq).toBe(41)
    } finally {
      await store.close()
    }
  })
})

describe('the whole picture knows with whom an incident is shared now (presence, C18)', () => {
  const remarked = (incidentId: string, tlp: 'GREEN' | 'AMBER+STRICT', organisation = 'cert-ee') => ({
    ...reported(incidentId),
    source: { organisation },
    marking: { tlp },
  })
  const janis = viewerOf('janis', 'cert-lv')
  const kadri = viewerOf('kadri')

  it("an incident reported again under a narrower marking is no longer shared with those it cut off; an organisation's own claim of the id is its own [R12]", async () => {
    const store = scratchStore('reports')
    try {
      await store.append([remarked('inc-narrowed', 'GREEN')])
      await store.append([remarked('inc-narrowed', 'AMBER+STRICT'), remarked('inc-widened', 'AMBER+STRICT')])
      // one page: both reports of inc-widened are folded together
      await store.append([remarked('inc-hidden', 'AMBER+STRICT')])
      await store.append([remarked('inc-widened', 'GREEN'), remarked('inc-widened', 'AMBER+STRICT')])
      // another organisation's claim of an id cert-ee owns: the whole picture keeps cert-ee's [R12]
      await store.append([remarked('inc-claimed', 'AMBER+STRICT'), remarked('inc-claimed', 'GREEN', 'cert-lv')])
      const full = new FullState(store, { snapshots: new Snapshots(store.snapshots) })
      await full.fresh()
      // shared with janis now: only cert-lv's own claim, found in the index of reports
      const sharedWithJanis = (state: FullState) =>
        ['inc-narrowed', 'inc-widened', 'inc-claimed', 'inc-hidden', 'inc-missing'].filter((incident) =>
          state.sharesIncident(janis, incident),
        )
      expect(sharedWithJanis(full)).toEqual(['inc-claimed'])
      // his own picture still holds the copies the narrowings froze
      const own = await new StateCache(store).current(janis)
      for (const incident of ['inc-narrowed', 'inc-widened', 'inc-claimed'])
        expect(own.incidents.has(incident), incident).toBe(true)
      for (const incident of ['inc-narrowed', 'inc-widened', 'inc-claimed', 'inc-hidden'])
        expect(full.sharesIncident(kadri, incident), incident).toBe(true)

      // a restart starts from the snapshot with its index
      await full.saveSnapshot()
      await plant(store, FULL_KEY, 'inc-narrowed', 'from the snapshot')
      const restarted = new FullState(store, { snapshots: new Snapshots(store.snapshots) })
      expect((await restarted.fresh()).incidents.get('inc-narrowed')?.title).toBe('from the snapshot')
      expect(sharedWithJanis(restarted)).toEqual(['inc-claimed'])

      // a snapshot saved before the index was kept (none saved with it): started from, the index
      // rebuilt from the log in the background, and saved with the next snapshot
      const older: SnapshotStore = {
        save: (snapshot, keep) => store.snapshots.save(snapshot, keep),
        load: async (key, version, atOrBelow) =>
          key === REPORTS_KEY ? undefined : store.snapshots.load(key, version, atOrBelow),
        prune: (options) => store.snapshots.prune(options),
        keys: () => store.snapshots.keys(),
      }
      const upgraded = new FullState(store, { snapshots: new Snapshots(older) })
      expect((await upgraded.fresh()).incidents.get('inc-narrowed')?.title).toBe('from the snapshot')
      await upgraded.reportsIndexed()
      expect(sharedWithJanis(upgraded)).toEqual(['inc-claimed'])
      // reported again after the snapshot: noted as folded, beside what the rebuild found
      await store.append([remarked('inc-hidden', 'GREEN'), remarked('inc-narrowed', 'GREEN', 'cert-lv')])
      await upgraded.fresh()
      expect(sharedWithJanis(upgraded)).toEqual(['inc-narrowed', 'inc-claimed', 'inc-hidden'])
    } finally {
      await store.close()
    }
  })
})

describe("a new viewer starts from its audience's projection", () => {
  const USERS = ['kadri', 'mari', 'jaan', 'liis'] as const
  const markings = [
    { tlp: 'GREEN' as const },
    { tlp: 'AMBER' as const },
    { tlp: 'AMBER' as const, releasableTo: ['EE'] },
    { tlp: 'AMBER+STRICT' as const },
    { tlp: 'RED' as const, recipients: ['mari'] },
    { tlp: 'RED' as const, recipients: ['jaan', 'kadri'] },
    { tlp: 'RED' as const, recipients: [] },
  ]
  const draft = fc.record({
    kind: fc.nat({ max: 2 }),
    incident: fc.nat({ max: 3 }),
    organisation: fc.constantFrom('cert-ee', 'cert-lv'),
    marking: fc.nat({ max: markings.length - 1 }),
    actor: fc.option(fc.constantFrom(...USERS), { nil: undefined }),
  })
  type Draft = typeof draft extends fc.Arbitrary<infer T> ? T : never
  const toEvent = (d: Draft, n: number) => {
    const marking = markings[d.marking]!
    const base = {
      id: randomUUID(),
      occurredAt: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
      source: { organisation: d.organisation },
      marking,
      ...(d.actor ? { actor: { user: d.actor } } : {}),
    }
    const incidentId = `inc-${d.incident}`
    if (d.kind === 0)
      return {
        ...base,
        type: 'incident.reported' as const,
        payload: { incidentId, title: `t${n}`, severity: 'high' as const, category: 'worm', affectedNetworks: [] },
      }
    if (d.kind === 1)
      return { ...base, type: 'incident.updated' as const, payload: { incidentId, status: 'triaged' as const } }
    return { ...base, type: 'incident.observation' as const, payload: { incidentId, count: n } }
  }

  /**
   * For random logs (markings from GREEN to RED, RED naming random users), users asked for in a random
   * order with a second batch appended after the first, while the whole picture (and its RED index)
   * lags behind the log, and again once it has caught up: `checker` holds for every user.
   */
  const forRandomLogs = (
    label: string,
    seed: number,
    checker: (store: SqliteEventStore, full: FullState) => (user: string) => Promise<void>,
  ) =>
    fc.assert(
      fc.asyncProperty(
        fc.array(draft, { maxLength: 60 }),
        fc.array(draft, { maxLength: 20 }),
        fc.shuffledSubarray([...USERS], { minLength: 1 }),
        async (first, second, order) => {
          const store = scratchStore(label)
          try {
            if (first.length > 0) await store.append(first.map(toEvent))
            const full = new FullState(store)
            await full.fresh()
            const check = checker(store, full)
            const [head, ...rest] = order
            await check(head!)
            if (second.length > 0) await store.append(second.map((d, i) => toEvent(d, 100 + i)))
            for (const user of rest) await check(user)
            await full.fresh()
            for (const user of order) await check(user)
          } finally {
            await store.close()
          }
        },
      ),
      { seed, numRuns: 40 },
    )

  it("[V5, V7] equals core's fold of the user's visible events, whatever RED names whom and in what order users come", async () => {
    await forRandomLogs('audience', 20261205, (store, full) => {
      const cache = new StateCache(store, { red: full })
      return async (user) => {
        const viewer = viewerOf(user)
        const wanted = fold(
          initialState,
          (await everything(store)).filter((event) => canSee(viewer, event)),
        )
        expect(stateToJson(await cache.current(viewer))).toEqual(stateToJson(wanted))
      }
    })
  })

  it("[V5, V7] a replay equals core's fold of the user's visible events up to the moment, whoever RED names and whenever", async () => {
    await forRandomLogs('replay-audience', 20261206, (store, full) => {
      const replay = new Replay(store, { red: full })
      return async (user) => {
        const viewer = viewerOf(user)
        const events = await everything(store)
        const at = Date.parse(events.at(-1)?.recordedAt ?? new Date().toISOString())
        const wanted = fold(
          initialState,
          events.filter((event) => canSee(viewer, event)),
        )
        expect(stateToJson(await replay.stateAt(viewer, 'recorded', at))).toEqual(stateToJson(wanted))
      }
    })
  })

  it("replays a user no RED event names from the audience's index, and a user a RED event names from their own", async () => {
    const store = await longLog(100)
    try {
      const full = new FullState(store)
      await full.fresh()
      const replay = new Replay(store, { red: full })
      const at = Date.now() + 60_000
      await replay.stateAt(viewerOf('kadri'), 'recorded', at)
      await replay.stateAt(viewerOf('jaan'), 'recorded', at)
      expect(replay.audiences).toBe(1) // one index for the audience: no RED names either
      await store.append([{ ...reported('inc-red'), marking: { tlp: 'RED' as const, recipients: ['mari'] } }])
      const mari = await replay.stateAt(viewerOf('mari'), 'recorded', at)
      expect(mari.incidents.has('inc-red')).toBe(true)
      expect(replay.audiences).toBe(2)
      expect((await replay.stateAt(viewerOf('kadri'), 'recorded', at)).incidents.has('inc-red')).toBe(false)
      expect(replay.audiences).toBe(2)
    } finally {
      await store.close()
    }
  })

  it('a RED event that names the user, indexed by another request while this one waited, keeps the user off the shared index', async () => {
    const store = await longLog(50)
    try {
      const full = new FullState(store)
      await full.fresh()
      // the whole picture's RED index, its first catch-up answered late (after what it read was overtaken)
      let release = () => {}
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      let calls = 0
      const red = {
        get redPosition() {
          return full.redPosition
        },
        firstNaming: (user: string) => full.firstNaming(user),
        fresh: () => (calls++ === 0 ? full.fresh().then(() => held) : full.fresh()),
      }
      const replay = new Replay(store, { red })
      const audience = { ...viewerOf('kadri'), userId: '' }
      const at = Date.now() + 60_000
      await replay.stateAt(audience, 'recorded', at)
      await store.append([observationOf(60)])
      const kadri = replay.stateAt(viewerOf('kadri'), 'recorded', at)
      await until(() => full.redPosition === 51)
      // a RED event for kadri, and the shared index moved past it by another request
      await store.append([{ ...reported('inc-red'), marking: { tlp: 'RED' as const, recipients: ['kadri'] } }])
      await replay.stateAt(audience, 'recorded', at)
      release()
      expect((await kadri).incidents.has('inc-red')).toBe(true)
    } finally {
      await store.close()
    }
  })

  it("shares the audience's picture with a user no RED event names, and folds one from zero that a RED event names", async () => {
    const store = await longLog(100)
    try {
      await store.append([{ ...reported('inc-red'), marking: { tlp: 'RED' as const, recipients: ['mari'] } }])
      const full = new FullState(store)
      await full.fresh()
      const cache = new StateCache(store, { red: full })
      const kadri = await cache.current(viewerOf('kadri'))
      const jaan = await cache.current(viewerOf('jaan'))
      expect(jaan).toBe(kadri) // one picture for the audience: no RED names either
      const mari = await cache.current(viewerOf('mari'))
      expect(mari.incidents.has('inc-red')).toBe(true)
      expect(kadri.incidents.has('inc-red')).toBe(false)
    } finally {
      await store.close()
    }
  })
})

/** The store's snapshots on a disk that takes its time: a save still runs when the next is asked for. */
function slowly(store: SqliteEventStore, msOf: (key: string) => number = () => 100): SnapshotStore {
  return {
    save: async (snapshot, keep) => {
      await new Promise((resolve) => setTimeout(resolve, msOf(snapshot.key)))
      await store.snapshots.save(snapshot, keep)
    },
    load: (key, version, atOrBelow) => store.snapshots.load(key, version, atOrBelow),
    prune: (options) => store.snapshots.prune(options),
    keys: () => store.snapshots.keys(),
  }
}

/** The store, with every `readAfter` it answers recorded (the `after` asked). */
function recordingReads(store: SqliteEventStore): { store: SqliteEventStore; reads: number[] } {
  const reads: number[] = []
  const readAfter = store.readAfter.bind(store)
  store.readAfter = (after, limit) => {
    reads.push(after)
    return readAfter(after, limit)
  }
  return { store, reads }
}

describe('a start on a long log with no snapshot', () => {
  it("the whole picture's pass, the audiences' pass and a user's first request read each page once", async () => {
    const { store, reads } = recordingReads(await longLog(30_000))
    try {
      await store.append([{ ...reported('inc-red'), marking: { tlp: 'RED' as const, recipients: ['mari'] } }])
      const head = await store.head()
      const full = new FullState(store)
      const cache = new StateCache(store, { red: full })
      reads.length = 0
      // as server.ts starts them: the whole picture follows the log, the audiences are prepared, and
      // a first console asks for its user's picture while both passes run
      const [, prepared, jaan] = await Promise.all([
        full.fresh(),
        cache.prepare([viewerOf('kadri')]),
        nextTurn().then(() => cache.current(viewerOf('jaan'))),
      ])
      expect(prepared).toBe(1)
      const wholePages = reads.filter((after) => after < 30_000)
      expect(wholePages.sort((a, b) => a - b)).toEqual([0, 5_000, 10_000, 15_000, 20_000, 25_000])
      // jaan is the audience, as no RED event names it
      const wanted = fold(
        initialState,
        (await everything(store)).filter((event) => canSee(viewerOf('jaan'), event)),
      )
      expect(stateToJson(jaan)).toEqual(stateToJson(wanted))
      expect(full.latest.seq).toBe(head)
      expect(SharedPages.of(store).held).toBe(0) // nothing held once no catch-up runs
    } finally {
      await store.close()
    }
  })

  it("a user's first request while the whole picture is far behind waits for it instead of folding its own picture", async () => {
    // further behind than a new user's check used to read on its own (50,000 events)
    const store = await longLog(60_000)
    try {
      const full = new FullState(store)
      const cache = new StateCache(store, { red: full })
      const audience = await cache.current({ ...viewerOf(''), userId: '' })
      expect(full.redPosition).toBe(0)
      const [jaan] = await Promise.all([cache.current(viewerOf('jaan')), full.fresh()])
      expect(jaan).toBe(audience) // the audience's picture itself: nothing folded for jaan
      expect(full.redPosition).toBe(60_000)
    } finally {
      await store.close()
    }
  })

  it('passes that start at different seqs meet on the same pages', async () => {
    const { store, reads } = recordingReads(await longLog(12_000))
    try {
      const seen: number[][] = [[], []]
      reads.length = 0
      await Promise.all(
        [1_234, 3_000].map((from, i) =>
          catchUp(store, from, (page) => seen[i]!.push(...page.map((event) => event.seq)), { yieldBetweenPages: true }),
        ),
      )
      expect(seen[0]).toEqual(Array.from({ length: 12_000 - 1_234 }, (_, i) => 1_235 + i))
      expect(seen[1]).toEqual(Array.from({ length: 12_000 - 3_000 }, (_, i) => 3_001 + i))
      // each first read ends on the next multiple of the page size; 5,000 and 10,000 are read once
      expect(reads.sort((a, b) => a - b)).toEqual([1_234, 3_000, 5_000, 10_000, 10_000])
    } finally {
      await store.close()
    }
  })

  it('a pass that starts a few pages behind another is waited for, and from there they share every page', async () => {
    const { store, reads } = recordingReads(await longLog(60_000))
    try {
      reads.length = 0
      let second: Promise<void> | undefined
      let seen = 0
      await catchUp(
        store,
        0,
        (page) => {
          // six pages in, another pass starts from zero (a first console's fold, say)
          if (page.at(-1)!.seq === 30_000)
            second = catchUp(store, 0, (own) => (seen += own.length), { yieldBetweenPages: true })
        },
        { yieldBetweenPages: true },
      )
      await second
      expect(seen).toBe(60_000)
      const readsOf = (after: number) => reads.filter((asked) => asked === after).length
      for (let after = 0; after < 30_000; after += 5_000) expect(readsOf(after)).toBe(2)
      for (let after = 30_000; after < 60_000; after += 5_000) expect(readsOf(after)).toBe(1)
    } finally {
      await store.close()
    }
  })

  it('a pass near its end does not wait for one that has only begun', async () => {
    const store = await longLog(60_000)
    try {
      let second: Promise<void> | undefined
      let secondAt = 0
      await catchUp(
        store,
        0,
        (page) => {
          if (page.at(-1)!.seq === 50_000)
            second = catchUp(store, 0, (own) => (secondAt = own.at(-1)!.seq), { yieldBetweenPages: true })
        },
        { yieldBetweenPages: true },
      )
      // two pages were left: the first pass read them (a turn each) without waiting for the other to come near
      expect(secondAt).toBeLessThanOrEqual(20_000)
      await second
      expect(secondAt).toBe(60_000)
    } finally {
      await store.close()
    }
  })

  it('never hands a second reader a page that ended at the head: it may have grown since', async () => {
    const store = await longLog(10)
    try {
      const shared = SharedPages.of(store)
      const pass = shared.join(0, 5_000, false)
      const first = shared.read(0, 5_000)
      await store.append([observationOf(100), observationOf(101)])
      const second = await shared.read(0, 5_000)
      expect((await first).length).toBe(10)
      expect(second.map((event) => event.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
      shared.leave(pass)
      expect(shared.held).toBe(0)
    } finally {
      await store.close()
    }
  })
})

describe('audiences prepared ahead of a first request', () => {
  it("folds several audiences in one pass over the log; a user of one then starts from its audience's picture", async () => {
    const { store, reads } = recordingReads(await longLog(12_000))
    try {
      await store.append([
        { ...reported('inc-lv'), source: { organisation: 'cert-lv' }, marking: { tlp: 'AMBER' as const } },
        { ...reported('inc-red'), marking: { tlp: 'RED' as const, recipients: ['mari'] } },
      ])
      const full = new FullState(store)
      await full.fresh()
      const cache = new StateCache(store, { red: full })
      reads.length = 0
      const prepared = await cache.prepare([viewerOf('kadri'), viewerOf('jaan'), viewerOf('janis', 'cert-lv')])
      expect(prepared).toBe(2) // cert-ee and cert-lv: two audiences
      expect(reads.filter((after) => after === 0)).toHaveLength(1) // one pass for both
      expect(reads.length).toBeLessThanOrEqual(4) // 12,002 events in pages of 5,000
      expect(await cache.prepare([viewerOf('liis')])).toBe(0) // held already

      reads.length = 0
      for (const [user, organisation] of [
        ['kadri', 'cert-ee'],
        ['janis', 'cert-lv'],
      ] as const) {
        const viewer = viewerOf(user, organisation)
        const wanted = fold(
          initialState,
          (await everything(store)).filter((event) => canSee(viewer, event)),
        )
        reads.length = 0
        const picture = await cache.current(viewer)
        expect(stateToJson(picture)).toEqual(stateToJson(wanted))
        expect(reads.every((after) => after >= 12_000)).toBe(true) // the tail only: nothing folded from zero
        // the live picture a console opens with was cut ahead of the first request
        await vi.waitFor(() => expect(liveTextReady(picture)).toBe(true))
      }
      // a user a RED event names is not its audience: it folds its own picture
      const mari = await cache.current(viewerOf('mari'))
      expect(mari.incidents.has('inc-red')).toBe(true)
    } finally {
      await store.close()
    }
  })

  it('folds the pictures of users RED events name in the same pass: their first request reads only the tail', async () => {
    const { store, reads } = recordingReads(await longLog(12_000))
    try {
      await store.append([{ ...reported('inc-red'), marking: { tlp: 'RED' as const, recipients: ['mari'] } }])
      const full = new FullState(store)
      await full.fresh()
      const cache = new StateCache(store, { red: full })
      reads.length = 0
      expect(await cache.prepare([viewerOf('kadri')], [viewerOf('mari')])).toBe(2) // the audience, and mari
      expect(reads.filter((after) => after === 0)).toHaveLength(1) // one pass for both
      reads.length = 0
      const mari = await cache.current(viewerOf('mari'))
      expect(reads.every((after) => after >= 12_000)).toBe(true) // nothing folded from zero
      expect(mari.incidents.has('inc-red')).toBe(true)
      const wanted = fold(
        initialState,
        (await everything(store)).filter((event) => canSee(viewerOf('mari'), event)),
      )
      expect(stateToJson(mari)).toEqual(stateToJson(wanted))
    } finally {
      await store.close()
    }
  })

  it('a request for an audience being prepared waits for that fold instead of starting another', async () => {
    const { store, reads } = recordingReads(await longLog(30_000))
    try {
      const cache = new StateCache(store)
      reads.length = 0
      const audience = { ...viewerOf(''), userId: '' }
      const preparing = cache.prepare([viewerOf('kadri')])
      const asked = nextTurn().then(() => cache.current(audience))
      const [count, state] = await Promise.all([preparing, asked])
      expect(count).toBe(1)
      expect(state.seq).toBe(30_000)
      expect(reads.filter((after) => after === 0)).toHaveLength(1)
    } finally {
      await store.close()
    }
  })

  it('a pass that fails fails its waiting requests and leaves nothing behind: the next request folds', async () => {
    const store = await longLog(12_000)
    try {
      const readAfter = store.readAfter.bind(store)
      let failing = true
      store.readAfter = (after, limit) => (failing ? Promise.reject(new Error('disk gone')) : readAfter(after, limit))
      const cache = new StateCache(store)
      const audience = { ...viewerOf(''), userId: '' }
      // two audiences, one with a request waiting: the other's failure has nobody to go to
      const preparing = cache.prepare([viewerOf('kadri'), viewerOf('janis', 'cert-lv')])
      const waiting = nextTurn().then(() => cache.current(audience))
      await expect(preparing).rejects.toThrow('disk gone')
      await expect(waiting).rejects.toThrow('disk gone')
      failing = false
      expect((await cache.current(audience)).seq).toBe(12_000)
    } finally {
      await store.close()
    }
  })

  it('starts an audience from its snapshot and saves what it folded', async () => {
    const store = await longLog(60)
    try {
      const audience = { ...viewerOf(''), userId: '' }
      const key = viewerSnapshotKey(viewerKey(audience))
      const first = new StateCache(store, {
        snapshots: new Snapshots(store.snapshots, { everyEvents: 10, everyMs: 0 }),
      })
      expect(await first.prepare([viewerOf('kadri')])).toBe(1)
      await expect.poll(async () => (await store.snapshots.load(key, STATE_FORMAT_VERSION, 1e9))?.seq).toBe(60)
      await plant(store, key, 'inc-1', 'from the snapshot')
      await store.append([reported('inc-9')])
      const second = new StateCache(store, { snapshots: new Snapshots(store.snapshots) })
      await second.prepare([viewerOf('kadri')])
      const state = await second.current(audience)
      expect(state.incidents.get('inc-1')?.title).toBe('from the snapshot')
      expect(state.incidents.has('inc-9')).toBe(true)
    } finally {
      await store.close()
    }
  })
})

describe('the JSON text of a picture', () => {
  it("a picture read from a snapshot and not folded since is sent as the snapshot's body: the same text a fold would make", async () => {
    const store = await longLog(40)
    try {
      await store.append([{ ...reported('inc-amber'), marking: { tlp: 'AMBER' as const, releasableTo: ['EE', 'LV'] } }])
      const kadri = viewerOf('kadri')
      const key = viewerSnapshotKey(viewerKey(kadri))
      const first = new StateCache(store, { snapshots: new Snapshots(store.snapshots) })
      const folded = stateText(await first.current(kadri))
      await first.saveSnapshots()
      const body = (await store.snapshots.load(key, STATE_FORMAT_VERSION, 1e9))!.body
      expect(body).toBe(folded) // the snapshot saved the text /state sent
      const second = new StateCache(store, { snapshots: new Snapshots(store.snapshots) })
      const sent = stateText(await second.current(kadri))
      expect(sent).toBe(body)
      expect(sent).toBe(JSON.stringify(stateToJson(await second.current(kadri))))
      // folded further, it is the new picture's own text
      await store.append([reported('inc-later')])
      const later = stateText(await second.current(kadri))
      expect(JSON.parse(later).incidents.map((i: { incidentId: string }) => i.incidentId)).toContain('inc-later')
    } finally {
      await store.close()
    }
  })
})

describe('the index of owners, for ingest [A5, R12]', () => {
  const ORGANISATIONS = ['cert-ee', 'cert-lv', 'cert-fi'] as const
  const draft = fc.record({
    kind: fc.constantFrom('incident', 'network', 'advisory', 'observation'),
    id: fc.nat({ max: 4 }),
    source: fc.constantFrom(...ORGANISATIONS),
    // a registration naming another organisation than its sender's (refused at ingest, so in a log
    // only from before that rule): the picture's owner is the one it names
    named: fc.constantFrom(...ORGANISATIONS),
  })
  type Draft = typeof draft extends fc.Arbitrary<infer T> ? T : never
  const toEvent = (d: Draft, n: number) => {
    const base = {
      id: randomUUID(),
      occurredAt: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
      source: { organisation: d.source },
      marking: { tlp: 'GREEN' as const },
    }
    if (d.kind === 'incident') return { ...reported(`inc-${d.id}`), ...base }
    if (d.kind === 'network')
      return {
        ...base,
        type: 'network.registered' as const,
        payload: {
          networkId: `net-${d.id}`,
          name: `Network ${d.id}`,
          organisation: d.named,
          nation: 'EE',
          kind: 'government' as const,
          location: { lat: 59.4, lon: 24.7 },
        },
      }
    if (d.kind === 'advisory')
      return {
        ...base,
        type: 'advisory.published' as const,
        payload: { advisoryId: `adv-${d.id}`, title: 't', body: 'b' },
      }
    return { ...base, type: 'incident.observation' as const, payload: { incidentId: `inc-${d.id}`, count: 1 } }
  }
  const ownersOf = (map: ReadonlyMap<string, { organisation: string }>) =>
    Object.fromEntries([...map].map(([id, { organisation }]) => [id, organisation]))

  it("equals the owners in core's fold of the whole log, started from the picture and kept from the events since", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(draft, { maxLength: 40 }),
        fc.array(draft, { maxLength: 40 }),
        async (first, second) => {
          const store = scratchStore('owners')
          try {
            if (first.length > 0) await store.append(first.map(toEvent))
            const full = new FullState(store)
            await full.owners.fresh()
            if (second.length > 0) await store.append(second.map((d, i) => toEvent(d, 100 + i)))
            const owners = await full.owners.fresh()
            const picture = fold(initialState, await everything(store))
            expect(ownersOf(owners.incidents as ReadonlyMap<string, { organisation: string }>)).toEqual(
              ownersOf(picture.incidents),
            )
            expect(ownersOf(owners.networks as ReadonlyMap<string, { organisation: string }>)).toEqual(
              ownersOf(picture.networks),
            )
            expect(ownersOf(owners.advisories as ReadonlyMap<string, { organisation: string }>)).toEqual(
              ownersOf(picture.advisories),
            )
          } finally {
            await store.close()
          }
        },
      ),
      { seed: 20261206, numRuns: 60 },
    )
  })

  it('starts from the whole picture once; after that a call reads only what was appended since, and folds no picture', async () => {
    const { store, reads } = recordingReads(await longLog(40))
    try {
      const full = new FullState(store)
      const owners = await full.owners.fresh()
      expect(owners.incidents.get('inc-1')?.organisation).toBe('cert-ee')
      const folded = full.latest
      reads.length = 0
      // nor does it ask for the head (a query on PostgreSQL): what it reads is what it needs
      let heads = 0
      const head = store.head.bind(store)
      store.head = () => {
        heads++
        return head()
      }
      await store.append([{ ...reported('inc-new'), source: { organisation: 'cert-lv' } }])
      expect((await full.owners.fresh()).incidents.get('inc-new')?.organisation).toBe('cert-lv')
      await full.owners.fresh()
      expect(reads).toEqual([40, 41])
      expect(heads).toBe(0)
      // the whole picture was not brought up to date for it (that copies its maps of incidents)
      expect(full.latest).toBe(folded)
    } finally {
      await store.close()
    }
  })
})

/**
 * The server's one projection module: every read that folds the log goes through here.
 * `catchUp` is the one loop that brings a fold up to the head of the store; `ViewerCache` keeps
 * one projection per viewer (keyed by core's `viewerKey`, least recently used dropped); on top
 * of them sit the whole picture (`FullState`: who owns what, for ingest and presence), each viewer's current picture
 * (`StateCache`), each viewer's replay snapshots (`Replay`) and the visible pages of the log
 * (`readVisible`).
 */
import {
  canSee,
  fold,
  initialState,
  type ReplayClock,
  SnapshotIndex,
  type SnapshotIndexOptions,
  type State,
  type StateJson,
  stateToJson,
  viewerKey,
} from '@watchfloor/core'
import type { EventPageReply, StoredEvent, Viewer } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import { MIN_TIME, upperBound } from './window.ts'

/** Events per store read while folding. */
const PAGE_SIZE = 5000

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Hand every event after `after` to `take`, page by page, until the head of the log. With
 * `yieldBetweenPages` a long fold lets other requests in between pages.
 */
export async function catchUp(
  store: EventStore,
  after: number,
  take: (page: StoredEvent[]) => void,
  { pageSize = PAGE_SIZE, yieldBetweenPages = false }: { pageSize?: number; yieldBetweenPages?: boolean } = {},
): Promise<void> {
  let cursor = after
  for (;;) {
    const page = await store.readAfter(cursor, pageSize)
    if (page.length === 0) return
    take(page)
    cursor = page.at(-1)!.seq
    if (page.length < pageSize) return
    if (yieldBetweenPages) await yieldToIo()
  }
}

/**
 * One projection per viewer, brought up to date on each `get`: concurrent gets for the same
 * viewer share one catch-up; the least recently used entries beyond `maxEntries` are dropped.
 * Keyed by `viewerKey`, so two viewers share a projection only when `canSee` cannot tell them
 * apart [P3].
 */
export class ViewerCache<T> {
  private readonly entries = new Map<string, T>()
  private readonly pending = new Map<string, Promise<T>>()

  constructor(
    private readonly maxEntries: number,
    private readonly create: (viewer: Viewer) => T,
    private readonly update: (value: T, viewer: Viewer) => Promise<T>,
  ) {}

  get(viewer: Viewer): Promise<T> {
    const key = viewerKey(viewer)
    const running = this.pending.get(key)
    if (running) return running
    return this.track(key, this.refresh(key, viewer))
  }

  /**
   * The projection including everything committed before this call: a catch-up already running
   * may have read the store before the call, so another starts after it.
   */
  fresh(viewer: Viewer): Promise<T> {
    const key = viewerKey(viewer)
    const running = this.pending.get(key)
    const after = () => this.refresh(key, viewer)
    return this.track(key, running ? running.then(after, after) : after())
  }

  private track(key: string, work: Promise<T>): Promise<T> {
    const tracked = work.finally(() => {
      if (this.pending.get(key) === tracked) this.pending.delete(key)
    })
    this.pending.set(key, tracked)
    return tracked
  }

  /** Viewers with a projection now (for diagnostics and tests). */
  get size(): number {
    return this.entries.size
  }

  private async refresh(key: string, viewer: Viewer): Promise<T> {
    const value = await this.update(this.entries.get(key) ?? this.create(viewer), viewer)
    this.entries.delete(key)
    this.entries.set(key, value)
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    return value
  }
}

/**
 * The caller's events after a seq, in seq order; scans at most `scanLimit` rows per call. `head`
 * is the caller's own head [D14] (the seq of the last event it may see, at least `after`), and
 * `next` never passes it: what lies beyond is hidden from the caller, and so is where it ends.
 */
export async function readVisible(
  store: EventStore,
  viewer: Viewer,
  visibleHead: number,
  after: number,
  limit: number,
  scanLimit = 20_000,
): Promise<EventPageReply> {
  const events: StoredEvent[] = []
  let cursor = after
  let scanned = 0
  while (events.length < limit && scanned < scanLimit) {
    const page = await store.readAfter(cursor, Math.min(1000, scanLimit - scanned))
    if (page.length === 0) break
    for (const event of page) {
      cursor = event.seq
      scanned++
      if (canSee(viewer, event)) {
        events.push(event)
        if (events.length === limit) break
      }
    }
  }
  const head = Math.max(visibleHead, after, events.at(-1)?.seq ?? 0)
  return { events, next: Math.min(cursor, head), head }
}

/** A viewer's picture and how far through the log it has been folded (visible events or not). */
interface Folded {
  state: State
  position: number
}

/**
 * The current picture per viewer, folded from what that viewer may see and kept up to date
 * incrementally. Its `seq` is the viewer's head [D14]: the last event it may see, not the log's.
 */
export class StateCache {
  private readonly states: ViewerCache<Folded>

  constructor(
    private readonly store: EventStore,
    maxEntries = 64,
  ) {
    this.states = new ViewerCache(
      maxEntries,
      () => ({ state: initialState, position: 0 }),
      (folded, viewer) => this.catchUp(folded, viewer),
    )
  }

  async stateFor(viewer: Viewer): Promise<StateJson> {
    return stateToJson(await this.current(viewer))
  }

  async current(viewer: Viewer): Promise<State> {
    return (await this.states.get(viewer)).state
  }

  /** The viewer's picture including everything committed before this call (for commands). */
  async fresh(viewer: Viewer): Promise<State> {
    return (await this.states.fresh(viewer)).state
  }

  /** The viewer's head [D14]: the seq of the last event it may see (0: none). */
  async headOf(viewer: Viewer): Promise<number> {
    return (await this.current(viewer)).seq
  }

  private async catchUp(from: Folded, viewer: Viewer): Promise<Folded> {
    let { state, position } = from
    await catchUp(this.store, position, (page) => {
      state = fold(
        state,
        page.filter((event) => canSee(viewer, event)),
      )
      position = page.at(-1)!.seq
    })
    return { state, position }
  }
}

/**
 * The whole picture, every event folded (not per viewer): who owns which incident, network and
 * advisory, for raw ingest [A5], and which incident presence is about. Never sent to anyone:
 * commands are decided on the caller's own picture [C17]. Kept up to date incrementally.
 */
export class FullState {
  private state: State = initialState
  private chain: Promise<State> = Promise.resolve(initialState)

  constructor(
    private readonly store: EventStore,
    private readonly pageSize = PAGE_SIZE,
  ) {}

  /**
   * Keep the picture caught up in the background (now, then at most every `everyMs` while the log
   * grows), so the first command after a start or a busy hour does not fold the backlog itself.
   * Returns the stop function.
   */
  follow(onError: (error: unknown) => void, everyMs = 1000): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined
    const run = () => {
      timer = undefined
      this.fresh().catch(onError)
    }
    run()
    const unsubscribe = this.store.onAppend(() => {
      timer ??= setTimeout(run, everyMs)
    })
    return () => {
      unsubscribe()
      if (timer !== undefined) clearTimeout(timer)
    }
  }

  /** The picture as last caught up (no read). */
  get latest(): State {
    return this.state
  }

  /**
   * The picture including everything committed before this call: each call
   * queues a catch-up pass that starts after the call, so a caller holding the
   * command lock sees every command committed before it took the lock.
   */
  fresh(): Promise<State> {
    const next = this.chain.then(
      () => this.catchUp(),
      () => this.catchUp(),
    )
    this.chain = next
    return next
  }

  private async catchUp(): Promise<State> {
    await catchUp(
      this.store,
      this.state.seq,
      (page) => {
        this.state = fold(this.state, page)
      },
      { pageSize: this.pageSize },
    )
    return this.state
  }
}

export interface ReplayOptions extends SnapshotIndexOptions {
  /** Snapshot indexes kept (one per viewer: organisation, nation, user, TLP ceiling); least recently used dropped. Default 8. */
  maxAudiences?: number
  /** Events per store read while building or seeking. Default 5,000. */
  pageSize?: number
}

/**
 * Replay for the server: per viewer a `SnapshotIndex` built lazily on the first replay request
 * by paging through the store, extended on later requests as the log grows, and dropped least
 * recently used. A seek folds from the nearest snapshot, reading only the events the plan names.
 */
export class Replay {
  private readonly indexes: ViewerCache<SnapshotIndex>
  private readonly pageSize: number

  constructor(
    private readonly store: EventStore,
    options: ReplayOptions = {},
  ) {
    this.pageSize = Math.max(1, options.pageSize ?? PAGE_SIZE)
    this.indexes = new ViewerCache(
      Math.max(1, options.maxAudiences ?? 8),
      (viewer) => new SnapshotIndex((event) => canSee(viewer, event), options),
      async (index) => {
        // a long build must not hold up other requests
        await catchUp(this.store, index.position, (page) => index.extend(page), {
          pageSize: this.pageSize,
          yieldBetweenPages: true,
        })
        return index
      },
    )
  }

  /** The viewer's picture at `atMs` on `clock` [P1]. */
  async stateAt(viewer: Viewer, clock: ReplayClock, atMs: number): Promise<State> {
    const index = await this.indexes.get(viewer)
    const plan = index.plan(clock, atMs)
    const events: StoredEvent[] = []
    for (const [after, through] of plan.ranges) {
      let cursor = after
      while (cursor < through) {
        const want = Math.min(this.pageSize, through - cursor)
        const page =
          clock === 'recorded'
            ? await this.store.readRecordedRange(MIN_TIME, upperBound(atMs), cursor, want)
            : await this.store.readAfter(cursor, want)
        if (page.length === 0) break
        for (const event of page) if (event.seq <= through) events.push(event)
        cursor = page.at(-1)!.seq
        if (page.length < want) break
      }
    }
    return index.finish(plan, events)
  }

  /** Audiences with an index now (for diagnostics and tests). */
  get audiences(): number {
    return this.indexes.size
  }
}

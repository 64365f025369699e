/**
 * The server's one projection module: every read that folds the log goes through here.
 * `catchUp` is the one loop that brings a fold up to the head of the store; `ViewerCache` keeps
 * one projection per viewer (keyed by core's `viewerKey`, least recently used dropped); on top
 * of them sit the whole picture (`FullState`: for presence, and where the index of owners starts;
 * `OwnerIndex`: who owns what, for ingest), each viewer's current picture
 * (`StateCache`), each viewer's replay snapshots (`Replay`) and the visible pages of the log
 * (`readVisible`).
 */
import { AsyncResource } from 'node:async_hooks'
import {
  canSee,
  fold,
  incidentVisibility,
  initialState,
  type OwnerClaim,
  type Owners,
  ownerClaim,
  type ReplayClock,
  SnapshotIndex,
  type SnapshotIndexOptions,
  type State,
  type StateJson,
  stateToJson,
  type Visible,
  viewerKey,
} from '@watchfloor/core'
import { type EventPageReply, MIN_TIMESTAMP, type StoredEvent, type Viewer } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import { type Folded, FULL_KEY, RED_KEY, REPORTS_KEY, Snapshots, viewerSnapshotKey } from './snapshots.ts'
import { liveStateText } from './stateText.ts'
import { upperBound } from './window.ts'

/** Events per store read while folding. */
const PAGE_SIZE = 5000

/** How far the log may run ahead of the followed picture before it catches up without waiting. */
const FOLLOW_BACKLOG = 5000

/**
 * Which users RED events name (recipients and author) [V5], with the first seq naming each: a user
 * no RED event names sees exactly what its audience sees [V7], so its picture is its audience's.
 */
export interface RedIndex {
  /** Every RED event up to this seq is indexed. */
  readonly redPosition: number
  /** The first seq, at or below `redPosition`, of a RED event naming `user`; undefined when none. */
  firstNaming(user: string): number | undefined
  /** Index everything committed before this call (after the pass already running, if one is). */
  fresh(): Promise<unknown>
}

/**
 * Whether the audience's fold up to `position` is the user's too: the index has reached `position`
 * and no RED event up to it names the user, so the user sees exactly what the audience sees [V5, V7].
 */
function audienceStandsFor(red: RedIndex, user: string, position: number): boolean {
  if (red.redPosition < position) return false
  const first = red.firstNaming(user)
  return first === undefined || first > position
}

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Hand every event after `after` to `take`, page by page, until the head of the log. With
 * `yieldBetweenPages` a long fold lets other requests in between pages.
 *
 * Catch-ups of one store that run at the same time share what they read (`SharedPages`): at a
 * start on a long log with no snapshot, the whole picture's pass and the audiences' pass each read
 * and parse every event otherwise, and reading is most of a fold (about 4 µs an event here, against
 * 0.5 µs to fold it). Pages end on multiples of the page size (the first one shorter), so passes
 * that started at different seqs meet on the same pages. Passes that yield between pages take turns,
 * one page each, and move together: one that is ahead of another gives way until the other is close
 * enough to read each page from its read, when what is left of its own pass is longer than the gap
 * (so the wait costs less than reading the rest twice).
 */
export async function catchUp(
  store: EventStore,
  after: number,
  take: (page: StoredEvent[]) => void,
  {
    pageSize = PAGE_SIZE,
    yieldBetweenPages = false,
    upTo = Number.POSITIVE_INFINITY,
  }: {
    pageSize?: number
    yieldBetweenPages?: boolean
    /** Stop once the events up to this seq are taken (what a page holds beyond it is taken too). */
    upTo?: number
  } = {},
): Promise<void> {
  const shared = SharedPages.of(store)
  const pass = shared.join(after, pageSize, yieldBetweenPages)
  try {
    let cursor = after
    for (;;) {
      const want = pageSize - (cursor % pageSize)
      if (want === pageSize && yieldBetweenPages) await shared.keepTogether(pass, cursor)
      const page = want === pageSize ? await shared.read(cursor, pageSize) : await store.readAfter(cursor, want)
      if (page.length === 0) return
      take(page)
      cursor = page.at(-1)!.seq
      if (page.length < want || cursor >= upTo) return
      if (yieldBetweenPages) await yieldToIo()
    }
  } finally {
    shared.leave(pass)
  }
}

/** A catch-up running now, as `SharedPages` follows it. */
interface Pass {
  /** The seq it has read up to. */
  cursor: number
  size: number
  /** It yields between pages: it moves a page per turn of the event loop, and may be waited for. */
  yielding: boolean
  /** The head, asked for the first time another pass was behind it (what waiting for it would save). */
  end?: number
}

/**
 * Whole pages of one store's log that its catch-ups running at the same time read once. Only a
 * whole page is ever handed to a second reader: with seqs that have no gaps, the `size` events after
 * a seq never change once the log holds them all, while a short page (the head reached) may have
 * grown since it was read, and a catch-up must never stop short of what was committed before it
 * began. At most `SHARED_PAGES` are held, and none once no catch-up of the store runs.
 */
export class SharedPages {
  private static readonly byStore = new WeakMap<EventStore, SharedPages>()
  /** Pages read or being read, by `size:after`, oldest first. */
  private readonly pages = new Map<string, Promise<StoredEvent[]>>()
  /** Catch-ups of the store running now. */
  private readonly passes = new Set<Pass>()

  private constructor(private readonly store: EventStore) {}

  static of(store: EventStore): SharedPages {
    let shared = SharedPages.byStore.get(store)
    if (shared === undefined) {
      shared = new SharedPages(store)
      SharedPages.byStore.set(store, shared)
    }
    return shared
  }

  /** Pages held now (for tests). */
  get held(): number {
    return this.pages.size
  }

  /** The `size` events after `after`: another catch-up's read of them if it read a whole page, else a read of its own. */
  async read(after: number, size: number): Promise<StoredEvent[]> {
    const key = `${size}:${after}`
    const theirs = this.pages.get(key)
    if (theirs !== undefined) {
      const page = await theirs.catch(() => undefined)
      if (page !== undefined && page.length === size) return page
      return this.store.readAfter(after, size)
    }
    const mine = this.store.readAfter(after, size)
    this.pages.set(key, mine)
    if (this.pages.size > SHARED_PAGES) this.pages.delete(this.pages.keys().next().value!)
    const forget = () => {
      if (this.pages.get(key) === mine) this.pages.delete(key)
    }
    mine.then((page) => page.length < size && forget(), forget)
    return mine
  }

  /** A catch-up begins after `cursor`. */
  join(cursor: number, size: number, yielding: boolean): Pass {
    const pass: Pass = { cursor, size, yielding }
    this.passes.add(pass)
    return pass
  }

  /** A catch-up ended (done or failed): once none runs, no page is held. */
  leave(pass: Pass): void {
    this.passes.delete(pass)
    if (this.passes.size === 0) this.pages.clear()
  }

  /**
   * Before `pass` (one that yields between pages) reads the page after `cursor`: give way, a turn of
   * the event loop at a time, while another such pass of the same page size is behind it by more
   * than it could read from the pages held, and by no more than what is left of this pass (else
   * waiting would cost more than reading the rest twice). The hindmost pass never waits, so they
   * all move.
   */
  async keepTogether(pass: Pass, cursor: number): Promise<void> {
    pass.cursor = cursor
    const near = (SHARED_PAGES - 1) * pass.size
    for (;;) {
      // the nearest pass far enough behind to wait for; none (the usual case): no wait, no read of the head
      let gap = Number.POSITIVE_INFINITY
      for (const other of this.passes)
        if (other !== pass && other.yielding && other.size === pass.size && cursor - other.cursor >= near)
          gap = Math.min(gap, cursor - other.cursor)
      if (gap === Number.POSITIVE_INFINITY) return
      pass.end ??= await this.store.head()
      if (gap > pass.end - cursor) return
      await yieldToIo()
    }
  }
}

/** Whole pages `SharedPages` holds at most: passes that move together are at most two pages apart. */
const SHARED_PAGES = 4

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

  /**
   * Projections for those of `viewers` neither held nor being brought up to date, made together by
   * `make` (one pass over the log for all of them); a `get` of one of them meanwhile waits for it,
   * and fails with it if `make` fails (the next `get` folds its own). Resolves to how many were made.
   */
  async seed(viewers: readonly Viewer[], make: (viewers: Viewer[]) => Promise<T[]>): Promise<number> {
    const wanted = new Map<string, Viewer>()
    for (const viewer of viewers) {
      const key = viewerKey(viewer)
      if (!this.entries.has(key) && !this.pending.has(key)) wanted.set(key, viewer)
    }
    if (wanted.size === 0) return 0
    const made = make([...wanted.values()])
    let index = 0
    for (const key of wanted.keys()) {
      const i = index++
      // handled here: a failure of `make` is the caller's (below) and that of any `get` waiting
      this.track(
        key,
        made.then((values) => this.keep(key, values[i]!)),
      ).catch(() => undefined)
    }
    await made
    return wanted.size
  }

  /** Viewers with a projection now (for diagnostics and tests). */
  get size(): number {
    return this.entries.size
  }

  /** The projections held now, by viewer key. */
  held(): IterableIterator<[string, T]> {
    return this.entries.entries()
  }

  private async refresh(key: string, viewer: Viewer): Promise<T> {
    return this.keep(key, await this.update(this.entries.get(key) ?? this.create(viewer), viewer))
  }

  /** Hold `value` as the most recently used; the least recently used beyond `maxEntries` go. */
  private keep(key: string, value: T): T {
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

export interface StateCacheOptions {
  /** Viewers with a projection in memory; least recently used dropped. Default 64. */
  maxEntries?: number
  /** Where projections start from and are saved to (none: every projection folds from zero). */
  snapshots?: Snapshots
  /**
   * RED events by the users they name (the whole picture keeps it): a new viewer no RED event
   * names starts from its audience's picture (the same viewer with no user) instead of from zero.
   */
  red?: RedIndex
}

/**
 * The current picture per viewer, folded from what that viewer may see and kept up to date
 * incrementally. Its `seq` is the viewer's head [D14]: the last event it may see, not the log's.
 * A projection not in memory starts from the viewer's newest snapshot (keyed by `viewerKey`
 * [S3]) and folds only the tail; it is saved again as `snapshots` says.
 */
export class StateCache {
  private readonly states: ViewerCache<Folded>
  private readonly snapshots: Snapshots
  private readonly red: RedIndex | undefined
  private readonly maxEntries: number

  constructor(
    private readonly store: EventStore,
    { maxEntries = 64, snapshots = new Snapshots(undefined), red }: StateCacheOptions = {},
  ) {
    this.maxEntries = maxEntries
    this.snapshots = snapshots
    this.red = red
    this.states = new ViewerCache(
      maxEntries,
      () => ({ state: initialState, position: 0, saved: { position: 0, at: Date.now() } }),
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

  /**
   * Fold, in the background, the pictures of the audiences of `viewers` (each viewer with no user:
   * what everyone of its organisation whom no RED event names sees [V7]), and those of the users
   * `users` (whole viewers: users RED events name, whose pictures are their own), that are neither
   * held nor being folded, at most half the projections held, audiences first: from their
   * snapshots, else from zero, all in one pass over the log, yielding between pages. A first
   * console of such a user then starts from its audience's picture, or its own, instead of folding
   * the log on its request. Resolves to how many were folded.
   */
  prepare(viewers: readonly Viewer[], users: readonly Viewer[] = []): Promise<number> {
    const chosen = new Map<string, Viewer>()
    for (const viewer of [...viewers.map((viewer) => ({ ...viewer, userId: '' })), ...users])
      chosen.set(viewerKey(viewer), viewer)
    const most = Math.max(1, Math.floor(this.maxEntries / 2))
    return this.states.seed([...chosen.values()].slice(0, most), (wanted) => this.foldTogether(wanted))
  }

  /**
   * What a start prepares ahead of first requests (`prepare`): the pictures of the audiences of
   * `audiences()` at once, and those of the users `namedUsers` gives once the whole picture's RED
   * index says whom RED events name. Each resolves to how many were folded.
   */
  prepareAhead(
    audiences: () => Promise<Viewer[]>,
    namedUsers: (named: (user: string) => boolean) => Promise<Viewer[]>,
  ): { audiences: Promise<number>; users: Promise<number> } {
    const red = this.red
    return {
      audiences: audiences().then((viewers) => this.prepare(viewers)),
      users: red
        ? red
            .fresh()
            .then(() => namedUsers((user) => red.firstNaming(user) !== undefined))
            .then((users) => this.prepare([], users))
        : Promise.resolve(0),
    }
  }

  /** The pictures of `viewers`, each from its snapshot or from zero, folded in one pass over the log. */
  private async foldTogether(viewers: readonly Viewer[]): Promise<Folded[]> {
    const head = await this.store.head()
    const folds = await Promise.all(
      viewers.map(async (viewer) => {
        const key = viewerSnapshotKey(viewerKey(viewer))
        const own = this.snapshots.enabled ? await this.snapshots.load(key, head) : undefined
        const start = own ?? { state: initialState, position: 0, saved: { position: 0, at: Date.now() } }
        return { viewer, key, state: start.state, position: start.position, saved: start.saved }
      }),
    )
    await catchUp(
      this.store,
      Math.min(...folds.map((f) => f.position)),
      (page) => {
        const last = page.at(-1)!.seq
        for (const f of folds) {
          if (f.position >= last) continue
          f.state = fold(
            f.state,
            page.filter((event) => event.seq > f.position && canSee(f.viewer, event)),
          )
          f.position = last
        }
      },
      { yieldBetweenPages: true },
    )
    const result = folds.map(({ key, state, position, saved }) => {
      const folded = { state, position, saved }
      this.snapshots.saveIfDue(key, folded)
      return folded
    })
    void prepareLiveTexts(result.map((f) => f.state))
    return result
  }

  /** Save a snapshot of every projection in memory that folded anything since its last (a graceful close). */
  async saveSnapshots(): Promise<void> {
    for (const [key, folded] of [...this.states.held()]) await this.snapshots.save(viewerSnapshotKey(key), folded)
  }

  private async catchUp(from: Folded, viewer: Viewer): Promise<Folded> {
    const key = viewerSnapshotKey(viewerKey(viewer))
    let start = from
    if (from.position === 0) {
      // not in memory: the viewer's own snapshot, else its audience's picture, else from zero
      const own = this.snapshots.enabled ? await this.snapshots.load(key, await this.store.head()) : undefined
      start = own ?? (await this.fromAudience(viewer)) ?? from
    }
    let { state, position } = start
    // a fold from zero or a long catch-up must not hold up other requests and sockets
    await catchUp(
      this.store,
      position,
      (page) => {
        state = fold(
          state,
          page.filter((event) => canSee(viewer, event)),
        )
        position = page.at(-1)!.seq
      },
      { yieldBetweenPages: true },
    )
    const folded = { state, position, saved: start.saved }
    this.snapshots.saveIfDue(key, folded)
    return folded
  }

  /**
   * The picture of the viewer's audience (the same organisation, nation, communities, ceiling and
   * view-as, no user), when no RED event up to it names this user: then the user sees exactly
   * what the audience sees [V5, V7]. Undefined when RED names the user.
   */
  private async fromAudience(viewer: Viewer): Promise<Folded | undefined> {
    const red = this.red
    const user = viewer.userId
    if (!red || user === '' || red.firstNaming(user) !== undefined) return undefined
    const audience = await this.states.get({ ...viewer, userId: '' })
    const { position } = audience
    // RED events the index has not reached yet (the whole picture follows the log): it indexes them
    // now. At a start on a long log its first pass is still running, and this waits for that pass
    // rather than folding this user's picture from zero beside it.
    if (red.redPosition < position) await red.fresh()
    if (!audienceStandsFor(red, user, position)) return undefined
    // the audience's snapshot stands for this one: saved on its own only after more events
    return { state: audience.state, position, saved: { position, at: Date.now() } }
  }
}

/** Catch-up passes one after another: each asked for starts after every pass asked for before it, failed or not. */
class Passes<T> {
  private last: Promise<unknown> = Promise.resolve()
  constructor(private readonly pass: () => Promise<T>) {}

  next(): Promise<T> {
    const next = this.last.then(this.pass, this.pass)
    this.last = next
    return next
  }
}

/**
 * The whole picture, every event folded (not per viewer): who owns which incident, network and
 * advisory, for raw ingest [A5], and which incident presence is about. Never sent to anyone:
 * commands are decided on the caller's own picture [C17]. Kept up to date incrementally.
 */
export class FullState implements RedIndex {
  private state: State = initialState
  private readonly passes = new Passes(() => this.catchUp())
  private readonly pageSize: number
  private readonly snapshots: Snapshots
  private saved = { position: 0, at: Date.now() }
  private started = false
  /** The save of a snapshot running now, if one is. */
  private saving: Promise<void> | undefined
  /** User -> the first seq of a RED event naming it (recipient or author), through `state.seq`. */
  private red = new Map<string, number>()
  /**
   * Incident -> the parts that decide who may see each of its reports (`incident.reported`), for the
   * incidents whose reports differ in them (a report marked again, another organisation's claim of
   * the same id): the whole picture keeps only its owner's latest report, while a viewer's own picture
   * holds the incident as the reports it may see made it. Through `state.seq`.
   */
  private reports = new Map<string, Visible[]>()
  /**
   * Started from a snapshot saved before `reports` was kept: the seq of that snapshot, whose reports
   * are read again (`backfillReports`) once the first catch-up is done; and no snapshot of the whole
   * picture is saved until `reports` is whole again.
   */
  private backfillUpTo: number | undefined
  private reportsBackfill: Promise<void> | undefined
  private reportsWhole = true
  private readonly onError: (error: unknown) => void
  private readonly reportedListeners = new Set<(incidentIds: ReadonlySet<string>) => void>()

  /** Who owns what in the whole log, for ingest: it starts from this picture once. */
  readonly owners: OwnerIndex

  constructor(
    private readonly store: EventStore,
    {
      pageSize = PAGE_SIZE,
      snapshots = new Snapshots(undefined),
      onError = () => {},
    }: {
      pageSize?: number
      snapshots?: Snapshots
      /** Background work that failed and is tried again (the rebuild of the index of reports). */
      onError?: (error: unknown) => void
    } = {},
  ) {
    this.pageSize = pageSize
    this.snapshots = snapshots
    this.onError = onError
    this.owners = new OwnerIndex(store, this, pageSize)
  }

  /**
   * Keep the picture caught up in the background (now, then at most every `everyMs` while the log
   * grows), so the first command after a start or a busy hour does not fold the backlog itself.
   * When the log runs more than `backlog` events ahead of the picture it catches up at once: the
   * store keeps only the newest events in memory (20,000 by default), and a picture left further
   * behind reads them back from the log (at 25,000 events a second, every second). Returns the stop
   * function.
   */
  follow(onError: (error: unknown) => void, everyMs = 1000, backlog = FOLLOW_BACKLOG): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined
    /** Passes started and not yet done (a timer's may start while another runs). */
    let running = 0
    /** The last pass failed: the next waits for the timer, so a failing read is not tried on every append. */
    let failed = false
    const run = () => {
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      running++
      this.fresh()
        .then(
          () => {
            failed = false
          },
          (error: unknown) => {
            failed = true
            onError(error)
          },
        )
        .finally(() => {
          running--
        })
    }
    run()
    // bound to the context it is set up in (the server's start: no request), not that of whichever
    // append tells it: a catch-up and its failure are no request's
    const unsubscribe = this.store.onAppend(
      AsyncResource.bind((head: number) => {
        if (running === 0 && !failed && head - this.state.seq > backlog) run()
        else timer ??= setTimeout(run, everyMs)
      }),
    )
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
    return this.passes.next()
  }

  get redPosition(): number {
    return this.state.seq
  }

  firstNaming(user: string): number | undefined {
    return this.red.get(user)
  }

  /** Resolves once the index of reports covers every report folded (at once but after a start from an older snapshot). */
  async reportsIndexed(): Promise<void> {
    await this.reportsBackfill
  }

  /**
   * Whether the incident is shared with the viewer now [C18]: it may see the owner's latest report
   * (or the viewer's own organisation's claim of the id [R12], from the index of reports). An
   * organisation a narrowing cut off still holds its frozen copy but takes no part in it: presence
   * asks here who may be seen viewing it, and who hears who does [D14].
   */
  sharesIncident(viewer: Viewer, incidentId: string): boolean {
    const incident = this.state.incidents.get(incidentId)
    if (incident === undefined) return false
    if (canSee(viewer, incidentVisibility(incident))) return true
    // [R12] the organisation it views as made a claim of the id of its own, which it sees
    const own =
      viewer.viewingAs === undefined
        ? viewer.organisation
        : viewer.viewingAs.kind === 'organisation'
          ? viewer.viewingAs.id
          : undefined
    if (own === undefined) return false
    return (
      this.reports.get(incidentId)?.some((report) => report.source.organisation === own && canSee(viewer, report)) ??
      false
    )
  }

  /**
   * Call `listener` with the incidents whose reports a catch-up folded (a marking changed, an
   * incident re-reported), after each page is folded. Returns the unsubscribe.
   */
  onReported(listener: (incidentIds: ReadonlySet<string>) => void): () => void {
    this.reportedListeners.add(listener)
    return () => this.reportedListeners.delete(listener)
  }

  /** Save a snapshot of the picture if it folded anything since the last (a graceful close). */
  async saveSnapshot(): Promise<void> {
    // a save already running (one that was due) is waited for, so that the caller may close the store next
    await this.saving
    if (this.state.seq > this.saved.position) await this.persist()
  }

  /**
   * Save the picture as far as folded now, its RED index first at the same seq: a picture is only
   * ever loaded with its index. One save at a time: while one runs, this is that one.
   */
  private persist(): Promise<void> {
    if (this.saving) return this.saving
    const saving = this.write().finally(() => {
      if (this.saving === saving) this.saving = undefined
    })
    this.saving = saving
    return saving
  }

  private async write(): Promise<void> {
    const state = this.state
    // an index still being rebuilt is not saved as whole: the snapshot it started from stays
    if (!this.reportsWhole) return
    const red = JSON.stringify([...this.red])
    const reports = JSON.stringify([...this.reports])
    if (
      (await this.snapshots.saveBody(RED_KEY, state.seq, red)) &&
      (await this.snapshots.saveBody(REPORTS_KEY, state.seq, reports))
    )
      await this.snapshots.save(FULL_KEY, { state, position: state.seq, saved: this.saved })
  }

  /**
   * The index of reports up to `upTo` (the snapshot the picture started from), read from the log
   * after a start from a snapshot that had none; the events after it are noted as they are folded.
   * Until it is done, an incident reported under different markings before `upTo` is held by the
   * pictures its owner's latest report says. A failed read is said (`onError`) and tried again,
   * later and later (5 s doubled up to 5 minutes), at most ten times.
   */
  private backfillReports(upTo: number): void {
    const run = async (): Promise<void> => {
      const found = new Map<string, Visible[]>()
      await catchUp(
        this.store,
        0,
        (page) => {
          for (const event of page) {
            if (event.seq > upTo) return
            if (event.type !== 'incident.reported') continue
            addVisibility(found, event.payload.incidentId, reportOf(event))
          }
        },
        { pageSize: this.pageSize, yieldBetweenPages: true, upTo },
      )
      for (const [incidentId, visibilities] of found)
        if (visibilities.length > 1)
          for (const visible of visibilities) addVisibility(this.reports, incidentId, visible)
      this.reportsWhole = true
    }
    const attempt = (tries: number): Promise<void> =>
      run().catch(async (error: unknown) => {
        this.onError(error)
        if (tries >= 10) return
        await new Promise((resolve) => setTimeout(resolve, Math.min(300_000, 5_000 * 2 ** tries)).unref())
        return attempt(tries + 1)
      })
    this.reportsBackfill = attempt(0).finally(() => {
      this.reportsBackfill = undefined
    })
  }

  /**
   * Before `page` is folded: the incidents whose reports in it differ in who may see them from the
   * report the picture holds (or from the one before in the page) keep both in `reports`. Returns the incidents the page reports.
   */
  private noteReports(page: readonly StoredEvent[]): ReadonlySet<string> {
    /** The report each incident of the page stands as so far in the whole picture. */
    const standing = new Map<string, Visible>()
    const reported = new Set<string>()
    for (const event of page) {
      if (event.type !== 'incident.reported') continue
      const { incidentId } = event.payload
      reported.add(incidentId)
      const held = this.state.incidents.get(incidentId)
      const before = standing.get(incidentId) ?? (held === undefined ? undefined : incidentVisibility(held))
      const report = reportOf(event)
      // the first claim stands; another organisation's report changes nothing in the whole picture [R12]
      const owner = before === undefined || before.source.organisation === report.source.organisation
      if (before !== undefined && visibilityKey(before) !== visibilityKey(report))
        for (const visible of [before, report]) addVisibility(this.reports, incidentId, visible)
      if (owner) standing.set(incidentId, report)
    }
    return reported
  }

  /** Tell the listeners of `onReported` which incidents a page reported. */
  private tellReported(reported: ReadonlySet<string>): void {
    if (reported.size === 0) return
    for (const listener of this.reportedListeners)
      try {
        listener(reported)
      } catch (error) {
        this.onError(error)
      }
  }

  private noteRed(page: readonly StoredEvent[]): void {
    for (const event of page) {
      if (event.marking.tlp !== 'RED') continue
      const named = [...(event.marking.recipients ?? []), ...(event.actor ? [event.actor.user] : [])]
      for (const user of named) if (!this.red.has(user)) this.red.set(user, event.seq)
    }
  }

  private async catchUp(): Promise<State> {
    if (!this.started) {
      // the first catch-up after a start begins at the newest snapshot of the whole picture
      this.started = true
      const loaded = this.state.seq === 0 ? await this.snapshots.load(FULL_KEY, await this.store.head()) : undefined
      const red = loaded ? await this.snapshots.loadBody(RED_KEY, loaded.position) : undefined
      const reports = loaded ? await this.snapshots.loadBody(REPORTS_KEY, loaded.position) : undefined
      if (loaded && red !== undefined && this.state.seq === 0) {
        this.state = loaded.state
        this.red = new Map(JSON.parse(red) as [string, number][])
        this.saved = loaded.saved
        if (reports !== undefined) this.reports = new Map(JSON.parse(reports) as [string, Visible[]][])
        else {
          // saved by a release that kept no index of reports: rebuilt in the background once this
          // first catch-up is done, so that raw ingest (whose owners start from this picture) is held
          // back neither by a fold from zero nor by the rebuild's read
          this.reportsWhole = false
          this.backfillUpTo = loaded.position
        }
      }
    }
    await catchUp(
      this.store,
      this.state.seq,
      (page) => {
        const reported = this.noteReports(page)
        this.state = fold(this.state, page)
        this.noteRed(page)
        this.tellReported(reported)
      },
      // the first fold after a start runs while the server already answers
      { pageSize: this.pageSize, yieldBetweenPages: true },
    )
    if (this.backfillUpTo !== undefined) {
      this.backfillReports(this.backfillUpTo)
      this.backfillUpTo = undefined
    }
    if (this.snapshots.due({ state: this.state, position: this.state.seq, saved: this.saved })) void this.persist()
    return this.state
  }
}

/** The parts of a report (`incident.reported`) that decide who may see it. */
function reportOf(event: StoredEvent): Visible {
  return {
    source: { organisation: event.source.organisation },
    actor: event.actor === undefined ? undefined : { user: event.actor.user },
    marking: event.marking,
  }
}

/** `visible` among the incident's, unless one of them is the same in who may see it. */
function addVisibility(index: Map<string, Visible[]>, incidentId: string, visible: Visible): void {
  const known = index.get(incidentId)
  if (known === undefined) index.set(incidentId, [visible])
  else if (!known.some((other) => visibilityKey(other) === visibilityKey(visible))) known.push(visible)
}

/** The parts of a report that decide who may see it, as one comparable string. */
function visibilityKey(visible: Visible): string {
  const { tlp, releasableTo, recipients } = visible.marking
  return JSON.stringify([
    visible.source.organisation,
    visible.actor?.user ?? null,
    tlp,
    releasableTo === undefined ? null : [...releasableTo].sort(),
    recipients === undefined ? null : [...recipients].sort(),
  ])
}

/**
 * Who owns which incident, network and advisory in the whole log [A5, R12], for raw ingest (REST,
 * imports, partner feeds, TAXII). Only the first claim or an event of the owner changes an owner
 * (`ownerClaim`), so the index is kept by reading only what was appended since its last call: it
 * starts once from the whole picture (its snapshot, then the tail), and a POST after that costs the
 * events since the last one. Bringing the whole picture up to date instead copies its maps of
 * incidents and advisories on every fold: on a log of months (40,000 incidents) that was about
 * 6 ms of every POST (`pnpm bench history`).
 */
export class OwnerIndex implements Owners {
  readonly incidents = new Map<string, { organisation: string }>()
  readonly networks = new Map<string, { organisation: string }>()
  readonly advisories = new Map<string, { organisation: string }>()
  /** One entry per organisation, shared by everything it owns. */
  private readonly entries = new Map<string, { organisation: string }>()
  /**
   * Each incident's latest report by its owner, as who may see it reads it (`incidentVisibility` of
   * the whole picture's incident): how its owner marks it now [C18].
   */
  private readonly reports = new Map<string, Visible>()
  /** Every event up to this seq is indexed; undefined until the index has started from the picture. */
  private position: number | undefined
  private readonly passes = new Passes(() => this.catchUp())

  constructor(
    private readonly store: EventStore,
    private readonly full: FullState,
    private readonly pageSize = PAGE_SIZE,
  ) {}

  /**
   * The owners including everything committed before this call: each call queues a catch-up pass
   * that starts after the call (as `FullState.fresh`), so a request sees what an earlier one stored.
   */
  fresh(): Promise<OwnerIndex> {
    return this.passes.next()
  }

  /** How the owner of an incident marks it now: its latest report's source, author and marking [C18]. */
  reportOf(incidentId: string): Visible | undefined {
    return this.reports.get(incidentId)
  }

  private async catchUp(): Promise<OwnerIndex> {
    if (this.position === undefined) {
      const state = await this.full.fresh()
      for (const [id, incident] of state.incidents) {
        this.claim({ kind: 'incidents', id, organisation: incident.organisation })
        this.reports.set(id, incidentVisibility(incident))
      }
      for (const [id, network] of state.networks)
        this.claim({ kind: 'networks', id, organisation: network.organisation })
      for (const [id, advisory] of state.advisories)
        this.claim({ kind: 'advisories', id, organisation: advisory.organisation })
      this.position = state.seq
    }
    await catchUp(
      this.store,
      this.position,
      (page) => {
        for (const event of page) {
          const claim = ownerClaim(event)
          if (claim === undefined) continue
          this.claim(claim, event.source.organisation)
          // the owner's report marks the incident anew, as the reducer's whole picture has it [R12]
          if (event.type === 'incident.reported' && this.incidents.get(claim.id)?.organisation === claim.organisation)
            this.reports.set(claim.id, {
              source: { organisation: claim.organisation },
              actor: event.actor === undefined ? undefined : { user: event.actor.user },
              marking: event.marking,
            })
        }
        this.position = page.at(-1)!.seq
      },
      { pageSize: this.pageSize, yieldBetweenPages: true },
    )
    return this
  }

  /** A claim stands when nobody owns the thing yet or its owner sent it (`by`; none: the picture's own) [R12]. */
  private claim({ kind, id, organisation }: OwnerClaim, by?: string): void {
    const owner = this[kind].get(id)?.organisation
    if (owner !== undefined && (by === undefined || owner !== by)) return
    let entry = this.entries.get(organisation)
    if (entry === undefined) {
      entry = Object.freeze({ organisation })
      this.entries.set(organisation, entry)
    }
    this[kind].set(id, entry)
  }
}

export interface ReplayOptions extends SnapshotIndexOptions {
  /** Snapshot indexes kept (one per viewer: organisation, nation, user, TLP ceiling); least recently used dropped. Default 8. */
  maxAudiences?: number
  /** Events per store read while building or seeking. Default 5,000. */
  pageSize?: number
  /**
   * Which users RED events name (the whole picture's index). With it, users no RED event names
   * share their audience's index; without it, every user has an index of their own.
   */
  red?: RedIndex
}

/**
 * Replay for the server: per viewer a `SnapshotIndex` built lazily on the first replay request
 * by paging through the store, extended on later requests as the log grows, and dropped least
 * recently used. A user no RED event names replays from the index of their audience (the same
 * organisation, nation, communities, ceiling and view-as, no user), which sees exactly what they see
 * [V5, V7]: one build, and one index in memory, for all of them. A seek folds from the nearest
 * snapshot, reading only the events the plan names.
 */
export class Replay {
  private readonly indexes: ViewerCache<SnapshotIndex>
  private readonly pageSize: number
  private readonly red: RedIndex | undefined

  constructor(
    private readonly store: EventStore,
    options: ReplayOptions = {},
  ) {
    this.red = options.red
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
    let chosen = await this.indexOf(viewer)
    // checked again in the turn that plans: another request may move a shared index on meanwhile
    while (chosen.shared && !audienceStandsFor(this.red!, viewer.userId, chosen.index.position))
      chosen = await this.indexOf(viewer)
    const { index } = chosen
    const plan = index.plan(clock, atMs)
    const events: StoredEvent[] = []
    for (const [after, through] of plan.ranges) {
      let cursor = after
      while (cursor < through) {
        const want = Math.min(this.pageSize, through - cursor)
        const page =
          clock === 'recorded'
            ? await this.store.readRecordedRange(MIN_TIMESTAMP, upperBound(atMs), cursor, want)
            : await this.store.readAfter(cursor, want)
        if (page.length === 0) break
        for (const event of page) if (event.seq <= through) events.push(event)
        cursor = page.at(-1)!.seq
        if (page.length < want) break
      }
    }
    return index.finish(plan, events)
  }

  /**
   * The index the viewer replays from: its audience's when no RED event up to that index's position
   * names the user, else the viewer's own (as `StateCache` starts a picture from its audience's).
   */
  private async indexOf(viewer: Viewer): Promise<{ index: SnapshotIndex; shared: boolean }> {
    const red = this.red
    const user = viewer.userId
    const own = async () => ({ index: await this.indexes.get(viewer), shared: false })
    if (!red || user === '' || red.firstNaming(user) !== undefined) return own()
    const index = await this.indexes.get({ ...viewer, userId: '' })
    // RED events the whole picture's index has not reached yet: it indexes them first (again when
    // another request has moved the shared index on while this one waited)
    while (red.redPosition < index.position) await red.fresh()
    return audienceStandsFor(red, user, index.position) ? { index, shared: true } : own()
  }

  /** Audiences with an index now (for diagnostics and tests). */
  get audiences(): number {
    return this.indexes.size
  }
}

/**
 * Cut the live picture (`GET /api/v1/state?scope=live`, what a console opens with) of each prepared
 * audience ahead of its first console, one at a time between other work: a new viewer's first
 * read is then only the send (the cut of a picture of ten million events takes about 0.1 s).
 */
async function prepareLiveTexts(states: readonly State[]): Promise<void> {
  for (const state of states) {
    await new Promise((resolve) => setImmediate(resolve))
    liveStateText(state)
  }
}

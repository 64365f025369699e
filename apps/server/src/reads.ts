import { canSee, fold, initialState, type State, type StateJson, stateToJson } from '@watchfloor/core'
import type { StoredEvent, Viewer } from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'

export interface EventPage {
  events: StoredEvent[]
  /** Pass as `after` to continue; it moves past events the caller may not see. */
  next: number
  head: number
}

/** The caller's events after a seq, in seq order; scans at most `scanLimit` rows per call. */
export async function readVisible(
  store: EventStore,
  viewer: Viewer,
  after: number,
  limit: number,
  scanLimit = 20_000,
): Promise<EventPage> {
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
  return { events, next: cursor, head: await store.head() }
}

/**
 * The current picture per viewer, folded from what that viewer may see and
 * kept up to date incrementally. Keyed by organisation, nation, user and TLP ceiling (RED
 * depends on the user); the least recently used entries are dropped.
 */
export class StateCache {
  private readonly entries = new Map<string, State>()
  private readonly pending = new Map<string, Promise<State>>()

  constructor(
    private readonly store: EventStore,
    private readonly maxEntries = 64,
  ) {}

  async stateFor(viewer: Viewer): Promise<StateJson> {
    return stateToJson(await this.current(viewer))
  }

  async current(viewer: Viewer): Promise<State> {
    // a TLP ceiling changes what is folded [V9]: it is part of the key
    const key = `${viewer.organisation}|${viewer.nation}|${viewer.userId}|${viewer.tlpCeiling ?? ''}`
    const running = this.pending.get(key)
    if (running) return running
    const work = this.catchUp(key, viewer).finally(() => this.pending.delete(key))
    this.pending.set(key, work)
    return work
  }

  private async catchUp(key: string, viewer: Viewer): Promise<State> {
    let state = this.entries.get(key) ?? initialState
    let cursor = state.seq
    for (;;) {
      const page = await this.store.readAfter(cursor, 5000)
      if (page.length === 0) break
      cursor = page.at(-1)!.seq
      const visible = page.filter((event) => canSee(viewer, event))
      state = fold(state, visible)
      // invisible events still move the folded position
      if (state.seq < cursor) state = { ...state, seq: cursor }
    }
    this.entries.delete(key)
    this.entries.set(key, state)
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    return state
  }
}

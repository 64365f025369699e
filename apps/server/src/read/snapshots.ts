/**
 * Persisted snapshots of the server's projections (the whole picture and each viewer's), in the
 * store's `snapshots` table: a projection starts from the newest snapshot of its key at or below
 * the head and folds only the tail; it is saved again at most every `everyEvents` events or
 * `everyMs` (and on a graceful close). The body is core's `stateToJson` in `STATE_FORMAT_VERSION`
 * [S1, S2]; a viewer's key is core's `viewerKey`, so a snapshot is never read for another viewer [S3].
 */
import { STATE_FORMAT_VERSION, type State, type StateJson, stateFromJson } from '@watchfloor/core'
import type { SnapshotStore } from '@watchfloor/store'
import { rememberText, stateTextInSlices } from './stateText.ts'

export interface SnapshotPolicy {
  /** Save a projection once it has folded this many events of the log since its last snapshot (0: never by count). Default 50,000. */
  everyEvents?: number
  /** ...or once this long has passed since its last snapshot with anything new folded (0: never by time). Default 5 minutes. */
  everyMs?: number
  /** Snapshots kept per key. Default 2. */
  keepPerKey?: number
  /** Keys kept in the table; the least recently used beyond are pruned. Default 256. */
  maxKeys?: number
}

/** When a projection was last saved, shared by every generation of that projection. */
export interface SavedMark {
  /** The position of the last snapshot saved or loaded (0: none). */
  position: number
  /** When that was (ms); for a projection never saved, when it was created. */
  at: number
}

/** A fold of the log: its state, how far through the log it has been folded (visible events or not), when last saved. */
export interface Folded {
  state: State
  position: number
  saved: SavedMark
}

export const FULL_KEY = 'full'
/** The RED index of the whole picture, saved with it at the same seq. */
export const RED_KEY = 'red-index'
/** The whole picture's index of incidents whose reports differ in who may see them, saved with it at the same seq. */
export const REPORTS_KEY = 'reports-index'
export const viewerSnapshotKey = (key: string) => `viewer:${key}`

export class Snapshots {
  private readonly everyEvents: number
  private readonly everyMs: number
  private readonly keepPerKey: number
  private readonly maxKeys: number
  /** Saves under way, by key: one save per key at a time. */
  private readonly saving = new Map<string, Promise<void>>()
  private readonly pruning = new Set<Promise<void>>()
  private saves = 0

  constructor(
    private readonly store: SnapshotStore | undefined,
    policy: SnapshotPolicy = {},
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.everyEvents = Math.max(0, policy.everyEvents ?? 50_000)
    this.everyMs = Math.max(0, policy.everyMs ?? 300_000)
    this.keepPerKey = Math.max(1, policy.keepPerKey ?? 2)
    this.maxKeys = Math.max(1, policy.maxKeys ?? 256)
  }

  get enabled(): boolean {
    return this.store !== undefined
  }

  /** The newest snapshot of `key` at or below `head`, as a fold; undefined when none (or unreadable). */
  async load(key: string, head: number): Promise<Folded | undefined> {
    if (!this.store) return undefined
    try {
      const snapshot = await this.store.load(key, STATE_FORMAT_VERSION, head)
      if (!snapshot) return undefined
      const state = stateFromJson(JSON.parse(snapshot.body) as StateJson)
      rememberText(state, snapshot.body)
      return { state, position: snapshot.seq, saved: { position: snapshot.seq, at: Date.now() } }
    } catch (error) {
      this.onError(error)
      return undefined
    }
  }

  /** Whether `folded` should be saved now. */
  due(folded: Folded, now = Date.now()): boolean {
    if (!this.store || folded.position <= folded.saved.position) return false
    if (this.everyEvents > 0 && folded.position - folded.saved.position >= this.everyEvents) return true
    return this.everyMs > 0 && now - folded.saved.at >= this.everyMs
  }

  /**
   * Save `folded` under `key` and mark it saved; every so often prune the table. A save of that key
   * already under way is waited for first (the caller may close the store next), and then only what
   * it did not cover is saved. Resolves when written; errors go to `onError`.
   */
  async save(key: string, folded: Folded): Promise<void> {
    if (!this.store) return
    for (let running = this.saving.get(key); running; running = this.saving.get(key)) await running
    if (folded.position <= folded.saved.position) return
    const saving = this.write(key, folded)
    this.saving.set(key, saving)
    try {
      await saving
    } finally {
      this.saving.delete(key)
    }
  }

  /** Every save and prune under way done: before the store closes. */
  async settle(): Promise<void> {
    while (this.saving.size > 0 || this.pruning.size > 0) await Promise.all([...this.saving.values(), ...this.pruning])
  }

  private async write(key: string, folded: Folded): Promise<void> {
    try {
      // in slices: a whole picture at ten million events is 20 MB of JSON
      const body = await stateTextInSlices(folded.state)
      await this.store!.save({ key, version: STATE_FORMAT_VERSION, seq: folded.position, body }, this.keepPerKey)
      folded.saved.position = Math.max(folded.saved.position, folded.position)
      folded.saved.at = Date.now()
      if (++this.saves % 16 === 0) await this.prune()
    } catch (error) {
      this.onError(error)
    }
  }

  /** Save a body of another kind (not a state) under `key` at `seq`; false when it could not be saved. */
  async saveBody(key: string, seq: number, body: string): Promise<boolean> {
    if (!this.store) return false
    try {
      await this.store.save({ key, version: STATE_FORMAT_VERSION, seq, body }, this.keepPerKey)
      return true
    } catch (error) {
      this.onError(error)
      return false
    }
  }

  /** The body saved by `saveBody` under `key` at exactly `seq`. */
  async loadBody(key: string, seq: number): Promise<string | undefined> {
    if (!this.store) return undefined
    try {
      const snapshot = await this.store.load(key, STATE_FORMAT_VERSION, seq)
      return snapshot?.seq === seq ? snapshot.body : undefined
    } catch (error) {
      this.onError(error)
      return undefined
    }
  }

  /** Save when due, without waiting. */
  saveIfDue(key: string, folded: Folded): void {
    if (!this.saving.has(key) && this.due(folded)) void this.save(key, folded)
  }

  /** Delete snapshots of other format versions, beyond a few per key, and of the least recently used keys. */
  async prune(): Promise<void> {
    if (!this.store) return
    const pruning = this.store
      .prune({ version: STATE_FORMAT_VERSION, keepPerKey: this.keepPerKey, maxKeys: this.maxKeys })
      .then(
        () => {},
        (error: unknown) => this.onError(error),
      )
    this.pruning.add(pruning)
    try {
      await pruning
    } finally {
      this.pruning.delete(pruning)
    }
  }
}

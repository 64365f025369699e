import type { StoredEvent } from '@watchfloor/protocol'

/** Chunks held above a gap before the window gives up waiting and starts again from the newest. */
const MAX_PENDING = 64

/**
 * The newest events of a log shared by several processes, in seq order and without a gap, so a
 * read of them needs no query. Chunks come in any order (this process's commits, other processes'
 * notifications, reads of the table); one that starts past the window's end waits until what lies
 * between arrives. Every chunk is what the log holds at those seqs, so whatever order they come in,
 * the window is the log's.
 */
export class RecentWindow {
  private events: StoredEvent[] = []
  /** The seq the window ends at: its newest event's, or where it starts while it holds none. */
  private endSeq = 0
  private readonly pending = new Map<number, readonly StoredEvent[]>()

  constructor(private readonly limit: number) {}

  get end(): number {
    return this.endSeq
  }

  /** Hold only what comes after `seq` (the head when the store opened): older reads are not kept. */
  startAfter(seq: number): void {
    this.events = []
    this.pending.clear()
    this.endSeq = seq
  }

  /** A run of consecutive events of the log. */
  add(chunk: readonly StoredEvent[]): void {
    if (chunk.length === 0 || this.limit === 0) return
    const last = chunk.at(-1)!.seq
    if (last <= this.endSeq) return
    if (chunk[0]!.seq > this.endSeq + 1) {
      // of two chunks from the same seq (a commit heard, then a shorter read of it), the longer stays
      const waiting = this.pending.get(chunk[0]!.seq)
      if (waiting === undefined || waiting.length < chunk.length) this.pending.set(chunk[0]!.seq, chunk)
      if (this.pending.size > MAX_PENDING) {
        // what lies between never came (a notification lost): start again from the newest chunk
        const newest = Math.max(...this.pending.keys())
        const chunk = this.pending.get(newest)!
        this.pending.delete(newest)
        this.events = [...chunk]
        this.endSeq = chunk.at(-1)!.seq
        this.settle()
      }
      return
    }
    this.append(chunk)
    this.settle()
  }

  private append(chunk: readonly StoredEvent[]): void {
    for (const event of chunk) if (event.seq > this.endSeq) this.events.push(event)
    this.endSeq = chunk.at(-1)!.seq
  }

  /**
   * Events with seq > after, at most `limit`, when the window holds the one right after `after`;
   * otherwise null. What it returns ends at the window's end at the latest.
   */
  after(after: number, limit: number): StoredEvent[] | null {
    const first = this.events[0]
    if (!first || after + 1 < first.seq || after >= this.endSeq || limit <= 0) return null
    const start = after + 1 - first.seq
    return this.events.slice(start, start + limit)
  }

  /**
   * Where the next run of events held in memory starts after `after`: the window's first seq, or the
   * first seq of a chunk waiting above a gap, whichever is lower and above `after` (a run that holds
   * `after + 1` itself is not one; `after` serves that). A read from the table for what memory lacks
   * after `after` need go no further.
   */
  nextRunAfter(after: number): number | undefined {
    let first = this.events[0] !== undefined && this.events[0].seq > after ? this.events[0].seq : undefined
    for (const seq of this.pending.keys()) if (seq > after && (first === undefined || seq < first)) first = seq
    return first
  }

  /** Chunks that now continue the window join it; those it passed go; the window is kept short. */
  private settle(): void {
    for (let moved = true; moved && this.pending.size > 0; ) {
      moved = false
      for (const [seq, chunk] of this.pending) {
        if (chunk.at(-1)!.seq <= this.endSeq) this.pending.delete(seq)
        else if (seq <= this.endSeq + 1) {
          this.append(chunk)
          this.pending.delete(seq)
          moved = true
        }
      }
    }
    if (this.events.length > this.limit * 1.5) this.events = this.events.slice(this.events.length - this.limit)
  }
}

/**
 * Dynamic resolution for the map. Without a GPU (software WebGL, as on many wall PCs and in
 * headless browsers) a full-resolution map frame can take hundreds of milliseconds, and every
 * map render then freezes the page for that long. The governor watches the frames in which the
 * map rendered; when too many of them run long it lowers the map's pixel ratio a step (fewer
 * pixels to fill). It does not step back up: a renderer that was too slow stays so (a fresh map,
 * after a reload or a restored WebGL context, starts at full resolution again). With a GPU frames
 * are short and it never acts.
 */
export interface GovernorOptions {
  /** Pixel ratios to step through, as fractions of the device's (first = full resolution). */
  steps?: readonly number[]
  /** A frame longer than this is long (ms). */
  longMs?: number
  /** Of the last `window` map frames, this many long ones lower the resolution. */
  window?: number
  limit?: number
}

export class ResolutionGovernor {
  private readonly steps: readonly number[]
  private readonly longMs: number
  private readonly window: number
  private readonly limit: number
  private level = 0
  private recent: boolean[] = []

  constructor(options: GovernorOptions = {}) {
    this.steps = options.steps ?? [1, 0.75, 0.5]
    this.longMs = options.longMs ?? 100
    this.window = options.window ?? 10
    this.limit = options.limit ?? 3
  }

  /** The current fraction of the device pixel ratio. */
  get scale(): number {
    return this.steps[this.level]!
  }

  /**
   * One frame in which the map rendered, and how long it took (ms). Returns the new scale when
   * the resolution should change, else null.
   */
  frame(ms: number): number | null {
    this.recent.push(ms > this.longMs)
    if (this.recent.length > this.window) this.recent.shift()
    const long = this.recent.reduce((n, l) => n + (l ? 1 : 0), 0)
    if (long < this.limit || this.level >= this.steps.length - 1) return null
    this.level++
    this.recent = []
    return this.scale
  }
}

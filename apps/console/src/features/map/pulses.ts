/**
 * Pulses: a ring that grows and fades over an incident when something new arrives. They are
 * drawn on one 2D canvas over the map, animated only while a pulse is running. A DOM marker per
 * pulse (as before) cost a layout and style pass for every ring added or removed: under a steady
 * stream of updates those ran to long tasks of 50-140 ms on a machine without a GPU.
 */

export interface Pulse {
  /** Where the ring is centred, in map coordinates. */
  lngLat: [number, number]
  /** Pixel offset from that point (the incident's slot around its network). */
  offset: readonly [number, number]
  colour: string
  /** When it started (performance.now()). */
  start: number
}

/** How long a pulse runs (ms). */
export const PULSE_MS = 1600
/** The ring's outer radius at full size (CSS px) and its stroke. */
const RADIUS = 22
const STROKE = 3

/** The ring of a pulse `elapsed` ms in: scale 0.2 -> 1.4 (ease-out) and opacity 1 -> 0; null once it is over. */
export function ringAt(elapsed: number, reducedMotion = false): { scale: number; opacity: number } | null {
  if (elapsed < 0 || elapsed >= (reducedMotion ? PULSE_MS / 2 : PULSE_MS)) return null
  if (reducedMotion) {
    // two still frames, no movement
    const half = elapsed < PULSE_MS / 4
    return { scale: half ? 0.6 : 1.2, opacity: half ? 1 : 0.5 }
  }
  const t = elapsed / PULSE_MS
  const eased = 1 - (1 - t) ** 3
  return { scale: 0.2 + 1.2 * eased, opacity: 1 - eased }
}

/** The part of the map a pulse layer needs: where a point is on screen now. */
export interface Projector {
  project(lngLat: [number, number]): { x: number; y: number }
}

export class PulseLayer {
  readonly canvas: HTMLCanvasElement
  private readonly context: CanvasRenderingContext2D | null
  private pulses: Pulse[] = []
  private frame = 0
  private width = 0
  private height = 0
  private drawn = false

  constructor(
    private readonly container: HTMLElement,
    private readonly map: Projector,
    private readonly reducedMotion = false,
  ) {
    this.canvas = document.createElement('canvas')
    this.canvas.className = 'wf-map-pulses'
    this.canvas.dataset.testid = 'map-pulses'
    this.canvas.dataset.pulses = '0'
    this.context = this.canvas.getContext('2d')
    container.append(this.canvas)
  }

  /** Pulses running now. */
  get size(): number {
    return this.pulses.length
  }

  add(pulse: Pulse): void {
    this.pulses.push(pulse)
    this.canvas.dataset.pulses = String(this.pulses.length)
    if (this.frame === 0) this.frame = requestAnimationFrame((now) => this.draw(now))
  }

  private draw(now: number): void {
    this.frame = 0
    this.pulses = this.pulses.filter((p) => ringAt(now - p.start, this.reducedMotion) !== null)
    this.canvas.dataset.pulses = String(this.pulses.length)
    const context = this.context
    if (!context) return
    // the canvas follows the map's size, at one pixel per CSS pixel: thin rings need no more
    const width = this.container.clientWidth
    const height = this.container.clientHeight
    if (width !== this.width || height !== this.height) {
      this.canvas.width = this.width = width
      this.canvas.height = this.height = height
    } else if (this.drawn) context.clearRect(0, 0, width, height)
    this.drawn = false
    context.lineWidth = STROKE
    for (const pulse of this.pulses) {
      const ring = ringAt(now - pulse.start, this.reducedMotion)
      if (!ring) continue
      const at = this.map.project(pulse.lngLat)
      const x = at.x + pulse.offset[0]
      const y = at.y + pulse.offset[1]
      if (x < -RADIUS * 2 || y < -RADIUS * 2 || x > width + RADIUS * 2 || y > height + RADIUS * 2) continue
      context.globalAlpha = ring.opacity
      context.strokeStyle = pulse.colour
      context.beginPath()
      context.arc(x, y, Math.max(0, RADIUS * ring.scale - STROKE / 2), 0, Math.PI * 2)
      context.stroke()
      this.drawn = true
    }
    if (this.pulses.length > 0) this.frame = requestAnimationFrame((next) => this.draw(next))
  }

  /** Stop and forget every pulse. */
  clear(): void {
    if (this.frame !== 0) cancelAnimationFrame(this.frame)
    this.frame = 0
    this.pulses = []
    this.canvas.dataset.pulses = '0'
    this.context?.clearRect(0, 0, this.width, this.height)
    this.drawn = false
  }

  remove(): void {
    this.clear()
    this.canvas.remove()
  }
}

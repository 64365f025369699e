/**
 * Incident marker images, drawn on a canvas and handed to `map.addImage` (no sprite URL): the
 * shapes of the incident list, so severity never rests on colour alone.
 */

import { SEVERITIES_DESCENDING } from '@watchfloor/core'
import type { Severity } from '@watchfloor/protocol'
import { iconName, SELECTION_ICON, SEVERITY_COLOURS, SEVERITY_SHAPES } from './style.ts'

/** CSS pixels of the largest marker (critical at icon-size 1). */
export const ICON_SIZE = 24
const PIXEL_RATIO = 2

/** Trace a severity's shape in a box of `size` px, centred at `c`. */
export function traceShape(ctx: CanvasRenderingContext2D, severity: Severity, c: number, size: number): void {
  const r = size / 2
  ctx.beginPath()
  switch (SEVERITY_SHAPES[severity]) {
    case 'diamond':
      ctx.moveTo(c, c - r)
      ctx.lineTo(c + r, c)
      ctx.lineTo(c, c + r)
      ctx.lineTo(c - r, c)
      break
    case 'triangle':
      ctx.moveTo(c, c - r)
      ctx.lineTo(c + r, c + r * 0.8)
      ctx.lineTo(c - r, c + r * 0.8)
      break
    case 'square': {
      const s = r * 0.8
      ctx.rect(c - s, c - s, 2 * s, 2 * s)
      break
    }
    case 'circle':
      ctx.arc(c, c, r * 0.82, 0, 2 * Math.PI)
      break
  }
  ctx.closePath()
}

export interface IconImage {
  width: number
  height: number
  data: Uint8ClampedArray
}

function context(px: number): CanvasRenderingContext2D {
  const canvas = document.createElement('canvas')
  canvas.width = px
  canvas.height = px
  const ctx = canvas.getContext('2d')
  if (!ctx) throw new Error('no 2d canvas context')
  return ctx
}

export function drawIncidentIcon(severity: Severity): IconImage {
  const px = ICON_SIZE * PIXEL_RATIO
  const ctx = context(px)
  const outline = 2.5 * PIXEL_RATIO
  traceShape(ctx, severity, px / 2, px - outline * 2)
  ctx.lineJoin = 'round'
  ctx.lineWidth = outline
  ctx.strokeStyle = '#0b0f14'
  ctx.stroke()
  ctx.fillStyle = SEVERITY_COLOURS[severity]
  ctx.fill()
  ctx.lineWidth = 1 * PIXEL_RATIO
  ctx.strokeStyle = 'rgba(255, 255, 255, 0.55)'
  ctx.stroke()
  const image = ctx.getImageData(0, 0, px, px)
  return { width: px, height: px, data: image.data }
}

/** The halo around the selected incident: a white ring with a dark edge, a faint fill. */
export function drawSelectionRing(): IconImage {
  const px = Math.round(ICON_SIZE * 1.6) * PIXEL_RATIO
  const ctx = context(px)
  const c = px / 2
  const r = c - 3 * PIXEL_RATIO
  ctx.beginPath()
  ctx.arc(c, c, r, 0, 2 * Math.PI)
  ctx.fillStyle = 'rgba(255, 255, 255, 0.16)'
  ctx.fill()
  ctx.lineWidth = 4.5 * PIXEL_RATIO
  ctx.strokeStyle = 'rgba(11, 15, 20, 0.9)'
  ctx.stroke()
  ctx.lineWidth = 2.5 * PIXEL_RATIO
  ctx.strokeStyle = '#ffffff'
  ctx.stroke()
  const image = ctx.getImageData(0, 0, px, px)
  return { width: px, height: px, data: image.data }
}

/** Minimal surface of the map used here (keeps this module free of a MapLibre import). */
interface ImageHost {
  hasImage(id: string): boolean
  addImage(id: string, image: IconImage, options: { pixelRatio: number }): void
}

export function addIncidentIcons(map: ImageHost): void {
  for (const severity of SEVERITIES_DESCENDING) {
    const id = iconName(severity)
    if (!map.hasImage(id)) map.addImage(id, drawIncidentIcon(severity), { pixelRatio: PIXEL_RATIO })
  }
  if (!map.hasImage(SELECTION_ICON)) map.addImage(SELECTION_ICON, drawSelectionRing(), { pixelRatio: PIXEL_RATIO })
}

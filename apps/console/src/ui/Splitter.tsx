import { type KeyboardEvent, type PointerEvent, useLayoutEffect, useRef, useState } from 'react'
import { clampSize, sizeForKey } from '../shell/layout.ts'

/**
 * A separator between two panes that the pointer drags and the keyboard moves (arrows, Shift for
 * bigger steps, Home and End); a double click gives the default back. It sizes one pane, in CSS px:
 * `grows` says whether that pane grows when the separator moves right/down ('forward', a pane
 * before it) or left/up ('backward', a pane after it).
 */
export function Splitter({
  orientation,
  label,
  testId,
  grows,
  measure,
  bounds,
  onSize,
  onReset,
}: {
  /** 'vertical': a vertical bar between left and right panes; 'horizontal': between top and bottom. */
  orientation: 'vertical' | 'horizontal'
  label: string
  testId: string
  grows: 'forward' | 'backward'
  /** The pane's size now (as laid out). */
  measure: () => number
  /** The sizes the pane may take now. */
  bounds: () => { min: number; max: number }
  onSize: (px: number) => void
  onReset: () => void
}) {
  const drag = useRef<{ start: number; size: number; limits: { min: number; max: number } } | null>(null)
  const coordinate = (e: PointerEvent) => (orientation === 'vertical' ? e.clientX : e.clientY)
  // the size and the room as laid out, read after each layout this separator sees
  const [laidOut, setLaidOut] = useState({ size: 0, min: 0, max: 0 })
  useLayoutEffect(() => {
    const limits = bounds()
    const size = Math.round(measure())
    const max = Math.round(limits.max)
    if (size !== laidOut.size || limits.min !== laidOut.min || max !== laidOut.max)
      setLaidOut({ size, min: limits.min, max })
  })

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return
    e.preventDefault()
    e.currentTarget.setPointerCapture(e.pointerId)
    drag.current = { start: coordinate(e), size: measure(), limits: bounds() }
  }
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    const d = drag.current
    if (!d) return
    const moved = coordinate(e) - d.start
    onSize(clampSize(d.size + (grows === 'forward' ? moved : -moved), d.limits.min, d.limits.max))
  }
  const onPointerEnd = (e: PointerEvent<HTMLDivElement>) => {
    if (!drag.current) return
    drag.current = null
    if (e.currentTarget.hasPointerCapture(e.pointerId)) e.currentTarget.releasePointerCapture(e.pointerId)
  }
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const next = sizeForKey(e.key, e.shiftKey, measure(), bounds(), grows)
    if (next === null) return
    e.preventDefault()
    onSize(next)
  }

  return (
    // biome-ignore lint/a11y/useSemanticElements: a focusable, draggable separator between panes (WAI-ARIA window splitter); <hr> cannot take focus or a value
    <div
      role="separator"
      aria-orientation={orientation}
      aria-label={label}
      aria-valuemin={laidOut.min}
      aria-valuemax={laidOut.max}
      aria-valuenow={laidOut.size}
      tabIndex={0}
      className={`splitter splitter-${orientation}`}
      data-testid={testId}
      title={`${label}: drag, or use the arrow keys; double-click for the default`}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerEnd}
      onPointerCancel={onPointerEnd}
      onKeyDown={onKeyDown}
      onDoubleClick={onReset}
    />
  )
}

import { describe, expect, it } from 'vitest'
import {
  BIG_STEP_PX,
  clampSize,
  DEFAULT_LAYOUT,
  detailBounds,
  MIN_DETAIL_PX,
  MIN_SIDEBAR_PX,
  MIN_STAGE_PX,
  MIN_TABS_PX,
  parseLayout,
  STEP_PX,
  sidebarBounds,
  sizeForKey,
} from './layout.ts'

describe('the picture layout', () => {
  it('keeps a size within its bounds; with no room, the minimum wins', () => {
    expect(clampSize(500, 100, 400)).toBe(400)
    expect(clampSize(50, 100, 400)).toBe(100)
    expect(clampSize(250.4, 100, 400)).toBe(250)
    expect(clampSize(300, 100, 80)).toBe(100)
    expect(clampSize(Number.NaN, 100, 400)).toBe(100)
  })

  it('leaves the map and the tabs their least room', () => {
    expect(sidebarBounds(1280)).toEqual({ min: MIN_SIDEBAR_PX, max: 1280 - MIN_STAGE_PX })
    expect(sidebarBounds(500)).toEqual({ min: MIN_SIDEBAR_PX, max: MIN_SIDEBAR_PX })
    expect(detailBounds(700)).toEqual({ min: MIN_DETAIL_PX, max: 700 - MIN_TABS_PX })
  })

  it('moves with the arrow keys, further with Shift, to the ends with Home and End', () => {
    const bounds = { min: 100, max: 600 }
    // a pane before the separator (the detail above it) grows as it moves down or right
    expect(sizeForKey('ArrowDown', false, 300, bounds, 'forward')).toBe(300 + STEP_PX)
    expect(sizeForKey('ArrowUp', true, 300, bounds, 'forward')).toBe(300 - BIG_STEP_PX)
    // a pane after it (the side panel right of it) grows as it moves left
    expect(sizeForKey('ArrowLeft', false, 300, bounds, 'backward')).toBe(300 + STEP_PX)
    expect(sizeForKey('ArrowRight', true, 300, bounds, 'backward')).toBe(300 - BIG_STEP_PX)
    expect(sizeForKey('ArrowRight', true, 120, bounds, 'backward')).toBe(100)
    expect(sizeForKey('Home', false, 300, bounds, 'forward')).toBe(100)
    expect(sizeForKey('End', false, 300, bounds, 'forward')).toBe(600)
    expect(sizeForKey('a', false, 300, bounds, 'forward')).toBeNull()
  })

  it('reads back what it stored, and nothing odd', () => {
    expect(parseLayout(JSON.stringify({ sidebarPx: 512.6, detailPx: 300, wide: true }))).toEqual({
      sidebarPx: 513,
      detailPx: 300,
      wide: true,
    })
    expect(parseLayout(null)).toEqual(DEFAULT_LAYOUT)
    expect(parseLayout('{not json')).toEqual(DEFAULT_LAYOUT)
    expect(parseLayout(JSON.stringify({ sidebarPx: -4, detailPx: 'tall', wide: 'yes' }))).toEqual(DEFAULT_LAYOUT)
  })
})

import { describe, expect, it } from 'vitest'
import { cameraView, sameView, viewMovedAway } from './cameraView.ts'

describe('cameraView', () => {
  it('records the camera rounded as the address bar shows it', () => {
    expect(cameraView({ lng: 24.753_849, lat: 59.436_961 }, 4.126_7)).toEqual({ lng: 24.7538, lat: 59.437, zoom: 4.13 })
    expect(cameraView({ lng: -3.703_75, lat: -40.416_75 }, 2)).toEqual({ lng: -3.7037, lat: -40.4167, zoom: 2 })
  })

  it('tells a new view from the one recorded', () => {
    const view = { lng: 15, lat: 50, zoom: 2.6 }
    expect(sameView(view, { ...view })).toBe(true)
    expect(sameView(view, { ...view, lng: 15.0001 })).toBe(false)
    expect(sameView(view, { ...view, lat: 49.9999 })).toBe(false)
    expect(sameView(view, { ...view, zoom: 2.61 })).toBe(false)
  })
})

describe('viewMovedAway', () => {
  const view = { lng: 15, lat: 50, zoom: 2.6 }

  it('follows a view moved by more than a thousandth of a degree or a hundredth of a zoom level', () => {
    expect(viewMovedAway(view, { ...view })).toBe(false)
    expect(viewMovedAway({ ...view, lng: 15.0009 }, view)).toBe(false)
    expect(viewMovedAway({ ...view, lng: 15.0011 }, view)).toBe(true)
    expect(viewMovedAway({ ...view, lat: 49.9989 }, view)).toBe(true)
    expect(viewMovedAway({ ...view, zoom: 2.609 }, view)).toBe(false)
    expect(viewMovedAway({ ...view, zoom: 2.59 - 1e-9 }, view)).toBe(true)
  })

  it('never moves the camera back to the view it recorded itself', () => {
    for (let i = 0; i < 1000; i++) {
      const camera = { lng: -180 + i * 0.360_123_7, lat: -85 + i * 0.170_345_9, zoom: 0.8 + i * 0.009_237_1 }
      const recorded = cameraView(camera, camera.zoom)
      expect(viewMovedAway(camera, recorded)).toBe(false)
    }
  })
})

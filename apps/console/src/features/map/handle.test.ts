import { describe, expect, it } from 'vitest'
import { type MapHandle, mapHandle, registerMap } from './handle.ts'

const handle = (name: string): MapHandle => ({ settle: async () => {}, capture: () => name })

describe('registerMap', () => {
  it('makes the mounted map the handle until it unregisters; a remount replaces it', () => {
    expect(mapHandle()).toBeNull()
    const unregisterFirst = registerMap(handle('first'))
    expect(mapHandle()?.capture()).toBe('first')
    // a remount registers before the old map's teardown runs: that teardown must not unregister the new one
    const unregisterSecond = registerMap(handle('second'))
    unregisterFirst()
    expect(mapHandle()?.capture()).toBe('second')
    unregisterSecond()
    expect(mapHandle()).toBeNull()
  })
})

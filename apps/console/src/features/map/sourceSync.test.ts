import { describe, expect, it } from 'vitest'
import type { AnyFeature, FeatureMap, SourceDiff } from './features.ts'
import { sendDiff } from './sourceSync.ts'

const point = (fid: string): AnyFeature =>
  ({
    type: 'Feature',
    id: fid,
    geometry: { type: 'Point', coordinates: [24, 59] },
    properties: { fid },
  }) as unknown as AnyFeature

const diff = (add: string[]): SourceDiff => ({ add: add.map(point), update: [], remove: [] })

describe('a map source kept in step', () => {
  it('sends the diff, and nothing more when it is taken', async () => {
    const sent: unknown[] = []
    const source = {
      updateData: async (d: SourceDiff) => sent.push(['diff', d.add.length]),
      setData: (data: GeoJSON.FeatureCollection) => sent.push(['all', data.features.length]),
    }
    await sendDiff(
      source,
      diff(['a']),
      () => new Map(),
      () => {},
    )
    expect(sent).toEqual([['diff', 1]])
  })

  it('a diff refused: the source is given all it should hold now, as the latest sync sees it', async () => {
    const sent: unknown[] = []
    const warned: string[] = []
    let latest: FeatureMap = new Map([['a', point('a')]])
    const source = {
      updateData: (_d: SourceDiff) => {
        // a later sync moved on before the failure came back
        latest = new Map([
          ['a', point('a')],
          ['b', point('b')],
        ])
        return Promise.reject(new Error('worker gone'))
      },
      setData: (data: GeoJSON.FeatureCollection) =>
        sent.push(data.features.map((f) => (f.properties as { fid: string }).fid)),
    }
    await sendDiff(
      source,
      diff(['a']),
      () => latest,
      (message) => warned.push(message),
    )
    expect(sent).toEqual([['a', 'b']])
    expect(warned).toHaveLength(1)
  })
})

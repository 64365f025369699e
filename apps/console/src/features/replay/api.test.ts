import { fold, initialState, makeEvent, stateToJson } from '@watchfloor/core'
import { Command } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { bookmarkCommand, canBookmark, exportUrl, filenameOf, lastSeqIn, stateFromJson } from './api.ts'

describe('replay REST helpers', () => {
  it('turns a GET /api/v1/state answer back into the core state', () => {
    const state = fold(initialState, [
      makeEvent(1, 'incident.reported', {
        incidentId: 'i1',
        title: 'Worm',
        severity: 'high',
        category: 'malware',
        affectedNetworks: ['ee-gov'],
      }),
      makeEvent(2, 'bookmark.saved', { bookmarkId: 'b1', title: 'b', clock: 'occurred', at: '2026-11-01T00:00:00Z' }),
    ])
    const json = JSON.parse(JSON.stringify(stateToJson(state)))
    const back = stateFromJson(json)
    expect(stateToJson(back)).toEqual(stateToJson(state))
    expect(back.incidents.get('i1')?.title).toBe('Worm')
    // and it folds on as the live state would
    const next = makeEvent(3, 'incident.updated', { incidentId: 'i1', status: 'closed' })
    expect(stateToJson(fold(back, [next]))).toEqual(stateToJson(fold(state, [next])))
  })

  it('builds export URLs and reads the download name and progress', () => {
    expect(exportUrl({ format: 'csv', incidentId: 'inc-1' })).toBe('/api/v1/export?format=csv&incidentId=inc-1')
    expect(exportUrl({ format: 'json', from: 0, to: 1000, clock: 'occurred' })).toBe(
      '/api/v1/export?format=json&from=1970-01-01T00%3A00%3A00.000Z&to=1970-01-01T00%3A00%3A01.000Z&clock=occurred',
    )
    expect(filenameOf('attachment; filename="watchfloor-events-to-seq-9.json"', 'x')).toBe(
      'watchfloor-events-to-seq-9.json',
    )
    expect(filenameOf(null, 'fallback.csv')).toBe('fallback.csv')
    expect(lastSeqIn('[\n{"seq":4,"id":"a"},\n{"seq":17,"id":"b"', 'json')).toBe(17)
    expect(lastSeqIn('seq,id,type\r\n3,a,x\r\n12,b,y\r\n13,c', 'csv')).toBe(12)
    expect(lastSeqIn('seq,id,type\r\n', 'csv')).toBeNull()
  })

  it('a bookmark is a valid bookmark.save command, a moment or a range, with its marking', () => {
    const moment = bookmarkCommand({
      title: 'First sighting',
      note: 'n',
      clock: 'occurred',
      at: Date.UTC(2026, 10, 26, 8),
      tlp: 'AMBER',
    })
    expect(Command.safeParse(moment).success).toBe(true)
    expect(moment).toMatchObject({
      type: 'bookmark.save',
      at: '2026-11-26T08:00:00.000Z',
      clock: 'occurred',
      note: 'n',
      marking: { tlp: 'AMBER' },
    })
    const range = bookmarkCommand({
      title: 'The outage',
      clock: 'recorded',
      from: Date.UTC(2026, 10, 26, 8),
      to: Date.UTC(2026, 10, 26, 9),
      tlp: 'RED',
    })
    expect(Command.safeParse(range).success).toBe(true)
    expect(range).not.toHaveProperty('at')
  })

  it('[C16] anyone but a sensor (or a display token) may bookmark', () => {
    expect(canBookmark(['watch_officer'])).toBe(true)
    expect(canBookmark(['analyst'])).toBe(true)
    expect(canBookmark(['liaison'])).toBe(true)
    expect(canBookmark(['sensor'])).toBe(false)
    expect(canBookmark(['watch_officer'], 'display')).toBe(false)
  })
})

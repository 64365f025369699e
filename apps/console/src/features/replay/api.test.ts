import { Command } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { bookmarkCommand, downloadExport, exportUrl, filenameOf, lastSeqIn, markedFileName, timeParam } from './api.ts'

describe('replay REST helpers', () => {
  it('builds export URLs and reads the download name and progress', () => {
    expect(exportUrl({ format: 'csv', incidentId: 'inc-1' })).toBe('/api/v1/export?format=csv&incidentId=inc-1')
    expect(exportUrl({ format: 'json', from: 0, to: 1000, clock: 'occurred' })).toBe(
      '/api/v1/export?format=json&from=1970-01-01T00%3A00%3A00.000Z&to=1970-01-01T00%3A00%3A01.000Z&clock=occurred',
    )
    expect(filenameOf('attachment; filename="watchfloor-events-to-seq-9.json"', 'x')).toBe(
      'watchfloor-events-to-seq-9.json',
    )
    expect(filenameOf(null, 'fallback.csv')).toBe('fallback.csv')
    // a window to the end of time: its exclusive end is held to the latest instant the server takes
    const end = Date.parse('9999-12-31T23:59:59.999Z')
    expect(exportUrl({ format: 'csv', from: 0, to: end + 1, clock: 'recorded' })).toContain(
      `to=${encodeURIComponent('9999-12-31T23:59:59.999Z')}`,
    )
    expect(timeParam(Date.parse('0001-01-01T00:00:00.000Z') - 1)).toBe('0001-01-01T00:00:00.000Z')
    expect(lastSeqIn('[\n{"seq":4,"id":"a"},\n{"seq":17,"id":"b"', 'json')).toBe(17)
    expect(lastSeqIn('seq,id,type\r\n3,a,x\r\n12,b,y\r\n13,c', 'csv')).toBe(12)
    expect(lastSeqIn('seq,id,type\r\n', 'csv')).toBeNull()
  })

  it('[M1] an export is saved under a name that carries its marking, and one sent without a marking is not saved', async () => {
    expect(markedFileName('watchfloor-export-to-seq-9.csv', 'TLP:AMBER')).toBe(
      'watchfloor-export-to-seq-9.TLP-AMBER.csv',
    )
    expect(markedFileName('watchfloor-export.stix.json', 'TLP:AMBER+STRICT; PAP:GREEN')).toBe(
      'watchfloor-export.TLP-AMBER+STRICT.PAP-GREEN.stix.json',
    )
    expect(markedFileName('export', 'TLP:RED')).toBe('export.TLP-RED')
    const csv = 'seq,id,type\r\n1,a,x\r\n'
    const answer = (headers: Record<string, string>) => async () =>
      new Response(csv, {
        status: 200,
        headers: {
          'content-type': 'text/csv',
          'content-disposition': 'attachment; filename="watchfloor-export-to-seq-1.csv"',
          'x-watchfloor-head': '1',
          ...headers,
        },
      })
    const marked = await downloadExport({ format: 'csv' }, () => {}, answer({ 'x-watchfloor-marking': 'TLP:RED' }))
    expect(marked.marking).toBe('TLP:RED')
    expect(marked.filename).toBe('watchfloor-export-to-seq-1.TLP-RED.csv')
    expect(await marked.blob.text()).toBe(csv)
    await expect(downloadExport({ format: 'csv' }, () => {}, answer({}))).rejects.toThrow(/without its marking/)
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
})

import type { StoredEvent } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { csvCell, csvRow } from './export.ts'

describe('csvCell: one CSV cell', () => {
  it('quotes a cell with a comma, quote or line break (RFC 4180), quotes doubled', () => {
    expect(csvCell('plain')).toBe('plain')
    expect(csvCell(42)).toBe('42')
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell('cr\rlf')).toBe('"cr\rlf"')
  })

  it('a text a spreadsheet would run as a formula gets a leading apostrophe', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r'])
      expect(csvCell(`${start}SUM(A1)`).replace(/^"/, '').startsWith(`'${start}`)).toBe(true)
    expect(csvCell('=HYPERLINK("http://evil.example","click")')).toBe(
      `"'=HYPERLINK(""http://evil.example"",""click"")"`,
    )
    expect(csvCell(-5)).toBe('-5') // a number is a number, not a formula
  })
})

describe('csvRow: one CSV row', () => {
  it('writes occurredAt in UTC like recordedAt, so rows sort by time as text', () => {
    const event = {
      seq: 2,
      id: '6f1c2a2e-9d7b-4c1e-8f00-000000000002',
      type: 'incident.observation',
      occurredAt: '2026-01-10T10:05:00+02:00',
      recordedAt: '2026-01-10T08:06:00.000Z',
      source: { organisation: 'cert-ee' },
      marking: { tlp: 'GREEN' },
      payload: { incidentId: 'inc-1', count: 1 },
    } as StoredEvent
    const row = csvRow(event)
    expect(row[3]).toBe('2026-01-10T08:05:00.000Z')
    expect(row[4]).toBe('2026-01-10T08:06:00.000Z')
  })
})

import { describe, expect, it } from 'vitest'
import { csvCell } from './export.ts'

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

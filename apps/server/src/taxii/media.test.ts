import { describe, expect, it } from 'vitest'
import { acceptsTaxii, isTaxiiContentType, parseTimestamp, taxiiTimestamp } from './media.ts'

describe('TAXII media types (1.6.8, 3.1)', () => {
  it('accepts an Accept header only with a TAXII 2.1 media range', () => {
    for (const accept of [
      'application/taxii+json;version=2.1',
      'application/taxii+json',
      'Application/TAXII+JSON; version="2.1"',
      'application/json, application/taxii+json;version=2.1;q=0.2',
      'application/taxii+json;version=2.1,application/stix+json;version=2.1',
    ])
      expect(acceptsTaxii(accept), accept).toBe(true)
    for (const accept of [
      undefined,
      '',
      '*/*',
      'application/*',
      'application/json',
      'application/stix+json;version=2.1',
      'application/taxii+json;version=2.0',
      'application/taxii+json;version=2.1;q=0',
    ])
      expect(acceptsTaxii(accept), String(accept)).toBe(false)
  })

  it('takes a TAXII 2.1 Content-Type only', () => {
    expect(isTaxiiContentType('application/taxii+json;version=2.1')).toBe(true)
    expect(isTaxiiContentType('application/taxii+json; version=2.1; charset=utf-8')).toBe(true)
    expect(isTaxiiContentType('application/taxii+json')).toBe(true)
    for (const type of [
      undefined,
      'application/json',
      'application/stix+json;version=2.1',
      'application/taxii+json;version=2.0',
    ])
      expect(isTaxiiContentType(type), String(type)).toBe(false)
  })
})

describe('TAXII timestamps (section 2)', () => {
  it('are written with exactly six fraction digits, in UTC', () => {
    expect(taxiiTimestamp(Date.parse('2026-11-26T08:00:00.123Z') * 1000 + 45)).toBe('2026-11-26T08:00:00.123045Z')
    expect(taxiiTimestamp(0)).toBe('1970-01-01T00:00:00.000000Z')
  })

  it('are read to the microsecond, whatever the precision given', () => {
    const base = Date.parse('2026-11-26T08:00:00Z') * 1000
    expect(parseTimestamp('2026-11-26T08:00:00Z')).toBe(base)
    expect(parseTimestamp('2026-11-26T08:00:00.1Z')).toBe(base + 100_000)
    expect(parseTimestamp('2026-11-26T08:00:00.123456Z')).toBe(base + 123_456)
    expect(parseTimestamp('2026-11-26T08:00:00.1234569Z')).toBe(base + 123_456)
    for (const micros of [base, base + 1, base + 999_999]) expect(parseTimestamp(taxiiTimestamp(micros))).toBe(micros)
    for (const bad of ['yesterday', '2026-11-26', '2026-11-26T08:00:00+02:00', '2026-13-40T08:00:00Z'])
      expect(parseTimestamp(bad), bad).toBeUndefined()
  })
})

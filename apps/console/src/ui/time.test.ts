import { afterEach, describe, expect, it } from 'vitest'
import { formatUtc, parseOptionalUtc, parseUtc } from './time.ts'

const at = Date.UTC(2026, 10, 26, 14, 30, 5)
const zoneBefore = process.env.TZ

describe('formatUtc', () => {
  it('shows UTC, 24-hour, labelled Z', () => {
    expect(formatUtc(at)).toBe('2026-11-26 14:30Z')
    expect(formatUtc(at, { seconds: true })).toBe('2026-11-26 14:30:05Z')
  })
})

describe('parseUtc', () => {
  it('reads the typed time as the UTC instant it names', () => {
    expect(parseUtc('2026-11-26 14:30Z')).toEqual({ ok: true, ms: Date.UTC(2026, 10, 26, 14, 30) })
    expect(parseUtc(' 2026-11-26 14:30:05Z ')).toEqual({ ok: true, ms: at })
    expect(parseUtc('2026-11-26T14:30')).toEqual({ ok: true, ms: Date.UTC(2026, 10, 26, 14, 30) })
    expect(parseUtc('2026-11-26 14:30 UTC')).toEqual({ ok: true, ms: Date.UTC(2026, 10, 26, 14, 30) })
  })

  it('round-trips what it shows', () => {
    const shown = formatUtc(at, { seconds: true })
    expect(parseUtc(shown)).toEqual({ ok: true, ms: at })
  })

  it('says what is wrong', () => {
    for (const bad of ['', 'tomorrow', '26/11/2026 14:30', '2026-11-26 2:30 PM', '2026-11-26 14:30+01:00']) {
      const r = parseUtc(bad)
      expect(r.ok, bad).toBe(false)
      if (!r.ok) expect(r.error).toMatch(/YYYY-MM-DD HH:MMZ/)
    }
    for (const bad of ['2026-02-30 10:00Z', '2026-11-26 24:00Z', '2026-11-26 12:60Z', '2026-13-01 00:00Z']) {
      const r = parseUtc(bad)
      expect(r.ok, bad).toBe(false)
      if (!r.ok) expect(r.error).toMatch(/No such time/)
    }
  })

  it('leaves an optional field empty', () => {
    expect(parseOptionalUtc('  ')).toEqual({ ok: true, ms: undefined })
    expect(parseOptionalUtc('x').ok).toBe(false)
  })
})

describe('whatever the zone of the machine', () => {
  afterEach(() => {
    if (zoneBefore === undefined) delete process.env.TZ
    else process.env.TZ = zoneBefore
  })

  for (const zone of ['Europe/Brussels', 'America/New_York', 'Asia/Kolkata']) {
    it(`is UTC with TZ=${zone}`, () => {
      process.env.TZ = zone
      // the zone took effect: local midnight is not UTC midnight there
      expect(new Date(2026, 0, 1).getTime()).not.toBe(Date.UTC(2026, 0, 1))
      expect(parseUtc('2026-11-26 14:30Z')).toEqual({ ok: true, ms: Date.UTC(2026, 10, 26, 14, 30) })
      expect(formatUtc(Date.UTC(2026, 6, 1, 23, 15))).toBe('2026-07-01 23:15Z')
    })
  }
})

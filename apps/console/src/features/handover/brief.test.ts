import { describe, expect, it } from 'vitest'
import { briefMarking, defaultSince, handoverUrl, humanise, markdownFileName, scalarText, titleKey } from './brief.ts'

describe('handover brief', () => {
  it('defaults to 8 hours ago, or the start of my session when later', () => {
    const now = Date.parse('2026-11-26T16:00:00Z')
    expect(defaultSince(now, 0)).toBe(Date.parse('2026-11-26T08:00:00Z'))
    expect(defaultSince(now, Date.parse('2026-11-26T12:00:00Z'))).toBe(Date.parse('2026-11-26T12:00:00Z'))
    expect(defaultSince(now, Date.parse('2026-11-26T02:00:00Z'))).toBe(Date.parse('2026-11-26T08:00:00Z'))
  })

  it('builds the URL and the file name', () => {
    const since = Date.parse('2026-11-26T08:00:00Z')
    expect(handoverUrl(since)).toBe('/api/v1/handover?since=2026-11-26T08%3A00%3A00.000Z')
    expect(markdownFileName(since)).toBe('handover-since-2026-11-26T0800Z.md')
  })

  it('renders any JSON readably', () => {
    expect(humanise('openIncidents')).toBe('Open incidents')
    expect(humanise('acknowledged_by')).toBe('Acknowledged by')
    expect(scalarText('2026-11-26T08:00:00.000Z')).toBe('2026-11-26 08:00:00Z')
    expect(scalarText(['a', 'b'])).toBe('a, b')
    expect(scalarText(null)).toBe('—')
    expect(scalarText({ kind: 'team', organisation: 'cert-ee' })).toBe('team cert-ee')
    expect(titleKey({ taskId: 't', title: 'Isolate' })).toBe('title')
  })
})

describe('the brief’s marking', () => {
  it('[M1] reads the brief’s marking, else its TLP', () => {
    expect(briefMarking({ tlp: 'AMBER', marking: { tlp: 'AMBER', pap: 'GREEN' } })).toEqual({
      tlp: 'AMBER',
      pap: 'GREEN',
    })
    expect(briefMarking({ tlp: 'RED' })).toEqual({ tlp: 'RED' })
    expect(briefMarking({ tlp: 'PURPLE' })).toBeNull()
    expect(briefMarking(null)).toBeNull()
  })
})

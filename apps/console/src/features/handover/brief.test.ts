import { handoverBrief, initialState } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { briefMarking, defaultSinceChoice, handoverUrl, markdownFileName, readableBrief } from './brief.ts'

describe('handover brief', () => {
  it('defaults to 8 hours ago, or the start of my session when I have held it for an hour or more', () => {
    const now = Date.parse('2026-11-26T16:00:00Z')
    expect(defaultSinceChoice(now, 0).ms).toBe(Date.parse('2026-11-26T08:00:00Z'))
    expect(defaultSinceChoice(now, Date.parse('2026-11-26T12:00:00Z')).ms).toBe(Date.parse('2026-11-26T12:00:00Z'))
    expect(defaultSinceChoice(now, Date.parse('2026-11-26T02:00:00Z')).ms).toBe(Date.parse('2026-11-26T08:00:00Z'))
    // signed in ten minutes ago: an officer coming on shift reads the 8 hours before
    expect(defaultSinceChoice(now, now - 10 * 60_000)).toEqual({
      ms: Date.parse('2026-11-26T08:00:00Z'),
      why: 'new-shift',
    })
    // signed in ten hours ago: the last 8 hours, for a session longer than that (not "just signed in")
    expect(defaultSinceChoice(now, now - 10 * 3_600_000)).toEqual({
      ms: Date.parse('2026-11-26T08:00:00Z'),
      why: 'long-session',
    })
    // held for an hour: handing over my own shift
    expect(defaultSinceChoice(now, now - 3_600_000)).toEqual({ ms: now - 3_600_000, why: 'session' })
    // a clock skewed into the future is not a session start
    expect(defaultSinceChoice(now, now + 60_000).why).toBe('new-shift')
  })

  it('builds the URL and the file name', () => {
    const since = Date.parse('2026-11-26T08:00:00Z')
    expect(handoverUrl(since)).toBe('/api/v1/handover?since=2026-11-26T08%3A00%3A00.000Z')
    // the download asks for the window the page shows, not one that ends when it is pressed
    expect(handoverUrl(since, '2026-11-26T16:00:00.000Z')).toBe(
      '/api/v1/handover?since=2026-11-26T08%3A00%3A00.000Z&until=2026-11-26T16%3A00%3A00.000Z',
    )
    expect(markdownFileName(since)).toBe('handover-since-2026-11-26T0800Z.md')
  })

  it('reads a brief with a summary and its lists; anything else is not one', () => {
    const brief = handoverBrief(initialState, [], {
      viewer: { organisation: 'cert-ee', nation: 'EE', roles: ['coordinator'], userId: 'kadri' },
      since: '2026-11-26T08:00:00.000Z',
      until: '2026-11-26T16:00:00.000Z',
    })
    expect(readableBrief(JSON.parse(JSON.stringify(brief)))).toEqual(brief)
    const { summary: _summary, ...older } = brief
    expect(readableBrief(older)).toBeNull()
    expect(readableBrief({ ...brief, comments: undefined })).toBeNull()
    expect(readableBrief(null)).toBeNull()
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

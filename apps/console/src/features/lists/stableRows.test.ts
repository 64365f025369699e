import type { IncidentState } from '@watchfloor/core'
import { describe, expect, it } from 'vitest'
import { stableRows } from './stableRows.ts'

const incident = (incidentId: string, extra: Partial<IncidentState> = {}): IncidentState => ({
  incidentId,
  title: incidentId,
  severity: 'high',
  status: 'new',
  category: 'malware',
  affectedNetworks: [],
  organisation: 'cert-ee',
  marking: { tlp: 'GREEN' },
  contentMarking: { tlp: 'GREEN' },
  reportedAt: '2026-11-01T08:00:00.000Z',
  updatedAt: '2026-11-01T08:00:00.000Z',
  version: 1,
  lastSeq: 1,
  observationCount: 0,
  observationReports: 0,
  ...extra,
})
const byId = (...incidents: IncidentState[]) => new Map(incidents.map((i) => [i.incidentId, i]))
const ids = (rows: IncidentState[]) => rows.map((i) => i.incidentId)

describe('stable rows', () => {
  it('not frozen: the live order', () => {
    const a = incident('a')
    const b = incident('b')
    const shown = stableRows(null, [b, a], byId(a, b))
    expect(ids(shown.rows)).toEqual(['b', 'a'])
    expect(shown.added).toBe(0)
  })

  it('frozen: the order when the pointer came, with the values of now', () => {
    const a = incident('a')
    // b was updated and moved to the top of the live order (recency), c arrived
    const b2 = incident('b', { title: 'b renamed', version: 2 })
    const c = incident('c')
    const shown = stableRows(['a', 'b'], [c, b2, a], byId(a, b2, c))
    expect(ids(shown.rows)).toEqual(['a', 'b'])
    expect(shown.rows[1]?.title).toBe('b renamed')
    expect(shown.added).toBe(1)
    expect(shown.stale.size).toBe(0)
  })

  it('frozen: a row that no longer matches keeps its place, marked stale; one gone from the picture is dropped', () => {
    const a = incident('a')
    const b = incident('b', { acknowledgedAt: '2026-11-01T08:05:00.000Z' })
    const shown = stableRows(['a', 'b', 'gone'], [a], byId(a, b))
    expect(ids(shown.rows)).toEqual(['a', 'b'])
    expect([...shown.stale]).toEqual(['b'])
    expect(shown.added).toBe(0)
  })
})

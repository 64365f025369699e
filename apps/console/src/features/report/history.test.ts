import { makeEvent } from '@watchfloor/core'
import type { StoredEvent } from '@watchfloor/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../data/api.ts'
import { watchfloor } from '../../data/store.ts'
import { fetchIncidentHistory, type HistoryProgress, withHistory } from './history.ts'

const T0 = Date.UTC(2026, 9, 1)
const at = (min: number) => ({ occurredAt: new Date(T0 + min * 60_000).toISOString(), network: 'ee-gov' })

/** The incident's events as the server holds them (seqs with gaps: other events are between). */
const history: StoredEvent[] = [
  makeEvent(
    3,
    'incident.reported',
    { incidentId: 'i1', title: 'Worm', severity: 'critical', category: 'malware', affectedNetworks: ['ee-gov'] },
    at(0),
  ),
  makeEvent(7, 'incident.observation', { incidentId: 'i1', count: 4 }, at(1)),
  makeEvent(12, 'incident.status_changed', { incidentId: 'i1', status: 'contained' }, at(32)),
  makeEvent(40, 'incident.updated', { incidentId: 'i1', severity: 'low' }, { ...at(60), marking: { tlp: 'AMBER' } }),
  makeEvent(95, 'incident.status_changed', { incidentId: 'i1', status: 'closed' }, at(600)),
]

/** The body `GET /api/v1/export?format=json` sends (the server's JSON writer): one envelope a line. */
const exportBody = (events: readonly StoredEvent[]) => `[\n${events.map((e) => JSON.stringify(e)).join(',\n')}\n]\n`

/** The export's answer, streamed in pieces of `size` characters (split mid-event, as a network does). */
function exportAnswer(body: string, size: number, head: number): Response {
  const bytes = new TextEncoder().encode(body)
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size))
      controller.close()
    },
  })
  return new Response(stream, {
    status: 200,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Disposition': `attachment; filename="watchfloor-incident-i1-to-seq-${head}.json"`,
      'Cache-Control': 'no-store',
      'X-Watchfloor-Head': String(head),
      'X-Watchfloor-Marking': 'TLP:AMBER',
    },
  })
}

describe("the incident's history for its report", () => {
  afterEach(() => watchfloor.getState().reset())

  it('reads the whole export of the incident, as the console’s viewer, streamed in pieces', async () => {
    const admin = { user: 'admin', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin' as const] }
    watchfloor.getState().setSession({ ...admin, viewingAs: { kind: 'organisation', id: 'cert-lv' } })
    const fetchFn = vi.fn(async (_url: string, _init: RequestInit) => exportAnswer(exportBody(history), 97, 120))
    const progress: HistoryProgress[] = []
    const read = await fetchIncidentHistory('i1', {
      fetchFn: fetchFn as unknown as typeof fetch,
      onProgress: (p) => progress.push(p),
    })
    expect(read.events).toEqual(history)
    expect(read.head).toBe(120)
    const [url, init] = fetchFn.mock.calls[0]!
    expect(url).toBe('/api/v1/export?format=json&incidentId=i1')
    // the console's one REST client: its credentials and the audience it views as
    expect(init).toMatchObject({ method: 'GET', credentials: 'same-origin' })
    expect(init.headers).toMatchObject({ Accept: 'application/json', 'X-Watchfloor-View-As': 'organisation:cert-lv' })
    expect(progress.length).toBeGreaterThan(5)
    expect(progress.every((p) => p.head === 120)).toBe(true)
    expect(progress.map((p) => p.seq)).toEqual([...progress.map((p) => p.seq)].sort((a, b) => a - b))
    expect(progress.at(-1)!.seq).toBe(95)
  })

  it('an incident with no events the viewer may see: an empty history up to the head', async () => {
    const read = await fetchIncidentHistory('i1', { fetchFn: async () => exportAnswer(exportBody([]), 4, 57) })
    expect(read).toEqual({ events: [], head: 57 })
  })

  it('an export that ended early (its array unclosed) is a failure, never a shorter history', async () => {
    const body = exportBody(history)
    const cut = body.slice(0, body.indexOf('"seq":40') - 2)
    await expect(fetchIncidentHistory('i1', { fetchFn: async () => exportAnswer(cut, 50, 120) })).rejects.toThrow(
      /incomplete/,
    )
    await expect(
      fetchIncidentHistory('i1', { fetchFn: async () => exportAnswer('{"events":[]}', 50, 120) }),
    ).rejects.toThrow(/not a list of events/)
  })

  it('a refusal is the server’s: 404 for an incident the viewer may not see', async () => {
    const refused = async () =>
      Response.json({ error: { code: 'not_found', message: 'no incident i1' } }, { status: 404 })
    const error = await fetchIncidentHistory('i1', { fetchFn: refused }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).message).toBe('404: no incident i1')
  })

  it('merged with the window: seq order, each event once', () => {
    const later = makeEvent(130, 'incident.status_changed', { incidentId: 'i1', status: 'closed' }, at(700))
    const other = makeEvent(
      100,
      'incident.reported',
      { incidentId: 'i2', title: 'Other', severity: 'low', category: 'x', affectedNetworks: [] },
      at(650),
    )
    const window = [history[4]!, other, later]
    expect(withHistory(history, window).map((e) => e.seq)).toEqual([3, 7, 12, 40, 95, 100, 130])
    expect(withHistory([], window)).toBe(window)
  })
})

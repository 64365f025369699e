import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, type ServerProcess, TOKENS } from './harness.ts'
import { ADMIN, BACKENDS, call, expectRefused, inputServer } from './input-servers.ts'

/**
 * Times are instants from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z in UTC, on both stores:
 * `9999-12-31T23:59:59-23:59` is in the year 10000 there, and was accepted (then exported as
 * invalid STIX, "+010000-...") or, on PostgreSQL, answered 500 (a token's expiry, the handover).
 */

const YEAR_10000 = '9999-12-31T23:59:59-23:59'
const YEAR_0 = '0000-01-01T00:00:00Z'

describe.each(BACKENDS)('times out of range on %s', (backend) => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await inputServer(backend)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('an event occurring before year 1 or after year 9999 (in UTC) is a 400 naming occurredAt; the last instant is not', async () => {
    const incidentId = `inc-${randomUUID()}`
    const report = (occurredAt: string) =>
      event({
        type: 'incident.reported',
        occurredAt,
        payload: { incidentId, title: 'Outage', severity: 'low', category: 'availability', affectedNetworks: [] },
      } as never)
    for (const occurredAt of [YEAR_10000, YEAR_0, '-000001-06-01T00:00:00Z'])
      expectRefused(await call(server.url, 'POST', '/api/v1/events', TOKENS.sensorEe, report(occurredAt)), 'occurredAt')
    const last = await call(server.url, 'POST', '/api/v1/events', TOKENS.sensorEe, report('9999-12-31T23:59:59Z'))
    expect(last.status, JSON.stringify(last.json)).toBe(201)
    // commands' times too: a task's due date, a bookmark's moment
    const due = await call(server.url, 'POST', '/api/v1/commands', TOKENS.coordEeA, {
      type: 'task.create',
      incidentId,
      title: 'Restore',
      dueAt: YEAR_10000,
    })
    expectRefused(due, 'dueAt')
    const bookmark = await call(server.url, 'POST', '/api/v1/commands', TOKENS.coordEeA, {
      type: 'bookmark.save',
      title: 'Before time',
      clock: 'occurred',
      at: YEAR_0,
    })
    expectRefused(bookmark, 'at')
    expect(server.output()).not.toContain('request failed')
  })

  it('the handover refuses since and until out of range with a 400 naming them, never a 500', async () => {
    const handover = (query: string) => call(server.url, 'GET', `/api/v1/handover?${query}`, TOKENS.viewerEe)
    const both = await handover(`since=${YEAR_0}&until=0000-01-02T00:00:00Z`)
    expectRefused(both, 'since')
    expectRefused(both, 'until')
    expectRefused(await handover(`until=${YEAR_0}`), 'until')
    expectRefused(await handover(`until=${encodeURIComponent(YEAR_10000)}`), 'until')
    // an until near the start of the range: the default shift before it starts at year 1
    const early = await handover('until=0001-01-01T06:00:00Z')
    expect(early.status, JSON.stringify(early.json)).toBe(200)
    expect(server.output()).not.toContain('request failed')
  })

  it('a token expiring after year 9999 (in UTC) is a 400 naming expiresAt', async () => {
    const reply = await call(server.url, 'POST', '/api/v1/tokens', ADMIN, {
      label: 'far future',
      service: { user: 'far-sensor', organisation: 'cert-ee', roles: ['sensor'] },
      expiresAt: YEAR_10000,
    })
    expectRefused(reply, 'expiresAt')
    const tokens = (await call(server.url, 'GET', '/api/v1/tokens', ADMIN)).json.tokens as { label: string }[]
    expect(tokens.some((token) => token.label === 'far future')).toBe(false)
    expect(server.output()).not.toContain('request failed')
  })
})

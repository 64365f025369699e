import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, PRINCIPALS, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

// A refused command says only what the caller's own projection of the log holds [C17].
// Reproduced against a running server before commands were decided on the caller's picture.

const ILZE = 'ilze-lv-coordinator-token-0123'
const EXTRA = [{ token: ILZE, user: 'ilze', organisation: 'cert-lv', nation: 'LV', roles: ['coordinator'] }]
const SECRET = 'secret containment plan'

describe('disclosure: commands are decided on the caller’s own picture', () => {
  let server: ServerProcess
  let tokensDir: string

  const command = async (token: string, body: object) => {
    const response = await fetch(`${server.url}/api/v1/commands`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, text, json: JSON.parse(text) as Record<string, unknown> }
  }

  beforeAll(async () => {
    tokensDir = mkdtempSync(join(tmpdir(), 'watchfloor-disclosure-'))
    const tokens = join(tokensDir, 'tokens.json')
    writeFileSync(tokens, JSON.stringify([...PRINCIPALS, ...EXTRA]))
    server = await startServerProcess({ env: { WATCHFLOOR_TOKENS: tokens } })
    // cert-ee reports an incident GREEN, then makes it critical with a secret summary, AMBER+STRICT;
    // and registers a network of its own that only it may see
    const setup = await post(server.url, TOKENS.relay, {
      events: [
        event({
          type: 'incident.reported',
          source: { organisation: 'cert-ee' },
          marking: { tlp: 'GREEN' },
          payload: { incidentId: 'inc-d', title: 'Wiper', severity: 'high', category: 'malware', affectedNetworks: [] },
        }),
        event({
          type: 'incident.updated',
          source: { organisation: 'cert-ee' },
          marking: { tlp: 'AMBER+STRICT' },
          payload: { incidentId: 'inc-d', severity: 'critical', summary: SECRET },
        }),
        event({
          type: 'network.registered',
          source: { organisation: 'cert-ee' },
          marking: { tlp: 'AMBER+STRICT' },
          payload: {
            networkId: 'ee-hidden',
            name: 'EE hidden',
            organisation: 'cert-ee',
            nation: 'EE',
            kind: 'government',
            location: { lat: 59.4, lon: 24.7 },
          },
        }),
      ],
    })
    expect(setup.status).toBe(201)
  })
  afterAll(async () => {
    await server?.stop()
    rmSync(tokensDir, { recursive: true, force: true })
  })

  it('[C17] a caller up to date with what it may see is not refused because of a hidden edit, and nothing hidden is said', async () => {
    // the liaison sees version 1 (the GREEN report); the hidden update does not count
    const comment = await command(TOKENS.viewerLv, {
      type: 'comment.post',
      incidentId: 'inc-d',
      expectedVersion: 1,
      body: 'seen here too',
    })
    expect(comment.status).toBe(200)
    expect(comment.text).not.toContain(SECRET)
    // a coordinator of cert-lv sees it high, so escalating to critical is an escalation
    const escalate = await command(ILZE, {
      type: 'incident.escalate',
      incidentId: 'inc-d',
      expectedVersion: 1,
      severity: 'critical',
      reason: 'spreading to LV',
    })
    expect(escalate.status).toBe(200)
    expect(escalate.json.version).toBe(2)
  })

  it('[C17][C3] a conflict’s current and message come from the caller’s picture', async () => {
    const stale = await command(ILZE, { type: 'incident.acknowledge', incidentId: 'inc-d', expectedVersion: 1 })
    expect(stale.status).toBe(409)
    expect(stale.json.error).toMatchObject({ message: 'expected version 1, but it is at version 2' })
    expect(stale.text).not.toContain(SECRET)
    expect((stale.json.current as { summary?: string; severity: string }).summary).toBeUndefined()
    expect((stale.json.current as { severity: string }).severity).toBe('critical') // its own escalation
  })

  it('[C17][C10] a hidden network is not_found exactly like a missing one', async () => {
    const hidden = await command(ILZE, {
      type: 'network.set_state',
      incidentId: 'inc-d',
      networkId: 'ee-hidden',
      state: 'contained',
    })
    const missing = await command(ILZE, {
      type: 'network.set_state',
      incidentId: 'inc-d',
      networkId: 'no-such-net',
      state: 'contained',
    })
    expect(hidden.status).toBe(404)
    expect(missing.status).toBe(404)
    expect(hidden.text.replace('ee-hidden', 'X')).toBe(missing.text.replace('no-such-net', 'X'))
  })
})

import type { StoredEvent } from '@watchfloor/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, getJson, logHead, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

// Every change has an authority: the owner of an incident or network, or a command checked by
// core's policy (packages/core/SPEC.md, A4-A6 and R12). Each case below was reproduced against a
// running server before the rules existed.

type Reply = { results?: { seq: number }[]; error?: { code: string; message: string; details?: { rule?: string } } }

describe('authority: raw events change only what their sender owns', () => {
  let server: ServerProcess
  const events = async (token: string): Promise<StoredEvent[]> =>
    (await getJson<{ events: StoredEvent[] }>(`${server.url}/api/v1/events?limit=5000`, token)).json.events
  const head = () => logHead(server)

  beforeAll(async () => {
    server = await startServerProcess()
    // cert-ee reports an incident and registers its network; the alliance reports its own incident
    const setup = await post(server.url, TOKENS.relay, {
      events: [
        event({
          type: 'network.registered',
          source: { organisation: 'cert-ee' },
          payload: {
            networkId: 'ee-gov',
            name: 'EE gov',
            organisation: 'cert-ee',
            nation: 'EE',
            kind: 'government',
            location: { lat: 59.4, lon: 24.7 },
          },
        }),
        event({
          type: 'incident.reported',
          source: { organisation: 'cert-ee' },
          marking: { tlp: 'AMBER' },
          payload: { incidentId: 'inc-ee', title: 'Worm', severity: 'high', category: 'malware', affectedNetworks: [] },
        }),
      ],
    })
    expect(setup.status).toBe(201)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('[A5][R12] another organisation cannot re-report an incident to take it over or lower its marking', async () => {
    const before = await head()
    const takeover = await post(
      server.url,
      TOKENS.sensorLv,
      event({
        type: 'incident.reported',
        source: { organisation: 'cert-lv' },
        marking: { tlp: 'CLEAR' },
        payload: { incidentId: 'inc-ee', title: 'Ours now', severity: 'low', category: 'x', affectedNetworks: [] },
      }),
    )
    expect(takeover.status).toBe(403)
    expect((takeover.json as Reply).error).toMatchObject({ code: 'forbidden', details: { rule: 'A5' } })
    expect(await head()).toBe(before) // nothing stored
    const state = await getJson<{ incidents: { incidentId: string; organisation: string }[] }>(
      `${server.url}/api/v1/state`,
      TOKENS.viewerEe,
    )
    expect(state.json.incidents.find((i) => i.incidentId === 'inc-ee')?.organisation).toBe('cert-ee')
  })

  it('[A5] another organisation cannot update an incident or change a network’s posture; a whole request is refused', async () => {
    const before = await head()
    for (const body of [
      event({
        type: 'incident.updated',
        source: { organisation: 'cert-lv' },
        payload: { incidentId: 'inc-ee', status: 'closed' },
      }),
      event({
        type: 'network.posture_changed',
        source: { organisation: 'cert-lv' },
        payload: { networkId: 'ee-gov', posture: 'compromised' },
      }),
      // a relay for cert-lv may not register cert-ee's network under its name either
      event({
        type: 'network.registered',
        source: { organisation: 'cert-lv' },
        payload: {
          networkId: 'lv-fake',
          name: 'x',
          organisation: 'cert-ee',
          nation: 'EE',
          kind: 'government',
          location: { lat: 1, lon: 1 },
        },
      }),
    ]) {
      const refused = await post(server.url, TOKENS.relay, {
        events: [event({ type: 'incident.observation', payload: { incidentId: 'inc-ee' } }), body],
      })
      expect(refused.status, body.type).toBe(403)
      expect((refused.json as Reply).error?.details?.rule, body.type).toBe('A5')
    }
    expect(await head()).toBe(before)
  })

  it('[A4] coordination event types enter the log only through commands', async () => {
    const before = await head()
    // a sensor of cert-ee closing the incident, with a forged actor: the same change as a command gets 403
    const raw = await post(
      server.url,
      TOKENS.sensorEe,
      event({
        type: 'incident.status_changed',
        actor: { user: 'coordinator', organisation: 'alliance' },
        payload: { incidentId: 'inc-ee', status: 'closed' },
      }),
    )
    expect(raw.status).toBe(403)
    expect((raw.json as Reply).error?.details?.rule).toBe('A4')
    const command = await fetch(`${server.url}/api/v1/commands`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.sensorEe}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'incident.set_status', incidentId: 'inc-ee', status: 'closed' }),
    })
    expect(command.status).toBe(403)
    expect(await head()).toBe(before)
  })

  it('[A6] the actor of a raw event is who posted it, whatever the sender said', async () => {
    const posted = await post(
      server.url,
      TOKENS.sensorEe,
      event({
        type: 'incident.observation',
        actor: { user: 'coordinator', organisation: 'alliance' },
        payload: { incidentId: 'inc-ee', indicator: 'forged-actor' },
      }),
    )
    expect(posted.status).toBe(201)
    const stored = (await events(TOKENS.viewerEe)).find(
      (e) => e.type === 'incident.observation' && e.payload.indicator === 'forged-actor',
    )
    expect(stored?.actor).toEqual({ user: 'sensor-ee', organisation: 'cert-ee' })
  })

  it('[A5] the owner still reports, updates and changes its own; a relay may for the organisations it posts for', async () => {
    const own = await post(server.url, TOKENS.relay, {
      events: [
        event({
          type: 'incident.updated',
          source: { organisation: 'cert-ee' },
          payload: { incidentId: 'inc-ee', severity: 'critical' },
        }),
        event({
          type: 'network.posture_changed',
          source: { organisation: 'cert-ee' },
          payload: { networkId: 'ee-gov', posture: 'elevated' },
        }),
        // a new incident, then its update, in one request: the first event makes the owner
        event({
          type: 'incident.reported',
          source: { organisation: 'cert-lv' },
          payload: {
            incidentId: 'inc-lv',
            title: 'Phish',
            severity: 'low',
            category: 'phishing',
            affectedNetworks: [],
          },
        }),
        event({
          type: 'incident.updated',
          source: { organisation: 'cert-lv' },
          payload: { incidentId: 'inc-lv', status: 'triaged' },
        }),
      ],
    })
    expect(own.status).toBe(201)
    const incidents = async (token: string) =>
      (
        await getJson<{ incidents: { incidentId: string; severity: string; status: string }[] }>(
          `${server.url}/api/v1/state`,
          token,
        )
      ).json.incidents
    expect((await incidents(TOKENS.viewerEe)).find((i) => i.incidentId === 'inc-ee')?.severity).toBe('critical')
    expect((await incidents(TOKENS.viewerLv)).find((i) => i.incidentId === 'inc-lv')?.status).toBe('triaged')
  })

  it('[D14] a relay is told the seqs of the events it may see, not of those it posted under a marking that leaves it out', async () => {
    const hidden = event({
      type: 'incident.observation',
      source: { organisation: 'cert-ee' },
      marking: { tlp: 'AMBER' }, // cert-ee's alone: not the relay's organisation (alliance)
      payload: { incidentId: 'inc-ee', count: 1 },
    })
    const shared = event({
      type: 'incident.observation',
      source: { organisation: 'cert-ee' },
      marking: { tlp: 'GREEN' },
      payload: { incidentId: 'inc-ee', count: 2 },
    })
    const first = await post(server.url, TOKENS.relay, { events: [hidden, shared] })
    expect(first.status).toBe(201)
    const seqOfShared = (await events(TOKENS.relay)).find((e) => e.id === shared.id)!.seq
    expect(first.json.results).toEqual([
      { id: hidden.id, duplicate: false },
      { id: shared.id, seq: seqOfShared, duplicate: false },
    ])
    // posted again: duplicates, told the same way
    const again = await post(server.url, TOKENS.relay, { events: [hidden, shared] })
    expect(again.status).toBe(200)
    expect(again.json.results).toEqual([
      { id: hidden.id, duplicate: true },
      { id: shared.id, seq: seqOfShared, duplicate: true },
    ])
    // cert-ee's sensor, who may see both, is told both seqs of what it posts
    const own = event({
      type: 'incident.observation',
      source: { organisation: 'cert-ee' },
      marking: { tlp: 'AMBER' },
      payload: { incidentId: 'inc-ee', count: 3 },
    })
    const sensor = await post(server.url, TOKENS.sensorEe, { events: [own] })
    expect(sensor.json.results![0]!.seq).toBe(await head())
  })
})

import { canSee } from '@watchfloor/core'
import type { EventInput, StoredEvent, Viewer } from '@watchfloor/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  event,
  getJson,
  headOf,
  logHead,
  observations,
  PRINCIPALS,
  post,
  type ServerProcess,
  seqsOfPost,
  startServerProcess,
  TOKENS,
  Watcher,
} from './harness.ts'

const viewerOf = (token: string): Viewer => {
  const p = PRINCIPALS.find((x) => x.token === token)!
  return { organisation: p.organisation, nation: p.nation, roles: p.roles as Viewer['roles'], userId: p.user }
}

describe('server: REST ingest and reads', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await startServerProcess()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('answers health and readiness', async () => {
    expect((await getJson(`${server.url}/healthz`, null)).status).toBe(200)
    const ready = await getJson<{ status: string; store: string }>(`${server.url}/readyz`, null)
    expect(ready).toMatchObject({ status: 200, json: { status: 'ready', store: 'sqlite' } })
  })

  it('needs a valid token on every API route', async () => {
    expect((await post(server.url, null, observations(1)[0])).status).toBe(401)
    expect((await post(server.url, 'not-a-token', observations(1)[0])).status).toBe(401)
    const read = await getJson<{ error: { code: string } }>(`${server.url}/api/v1/events`, null)
    expect(read.status).toBe(401)
    expect(read.json.error.code).toBe('unauthenticated')
    expect((await getJson(`${server.url}/api/v1/state`, 'nope')).status).toBe(401)
  })

  it('acknowledges each event with its seq, and replays a reused id idempotently', async () => {
    const batch = observations(3)
    const first = await post(server.url, TOKENS.sensorEe, { events: batch })
    expect(first.status).toBe(201)
    const seqs = first.json.results!.map((r) => r.seq)
    expect(seqs[1]).toBe(seqs[0]! + 1)
    const again = await post(server.url, TOKENS.sensorEe, batch[1])
    expect(again.status).toBe(200)
    expect(again.json.results).toEqual([{ id: batch[1]!.id, seq: seqs[1], duplicate: true }])
  })

  it('rejects an id reused with other content with 409 and appends nothing of that batch', async () => {
    const [original] = observations(1)
    await post(server.url, TOKENS.sensorEe, original)
    const head = await logHead(server)
    const changed = { ...original!, payload: { incidentId: 'inc-1', count: 999 } }
    const response = await post(server.url, TOKENS.sensorEe, { events: [observations(1)[0], changed] })
    expect(response.status).toBe(409)
    expect((response.json.error as { code: string }).code).toBe('conflict')
    expect(await logHead(server)).toBe(head)
  })

  it('[L3] an id reused with other content tells its seq only to a caller who may see the first event', async () => {
    const secret = event({
      type: 'incident.observation',
      marking: { tlp: 'AMBER+STRICT' },
      payload: { incidentId: 'inc-1', indicator: 'hidden' },
    })
    const stored = await post(server.url, TOKENS.sensorEe, secret)
    const seq = (stored.json.results as { seq: number }[])[0]!.seq
    const reuse = (token: string, organisation: string) =>
      post(server.url, token, { ...secret, source: { organisation }, payload: { incidentId: 'inc-1', indicator: 'x' } })
    const owner = await reuse(TOKENS.sensorEe, 'cert-ee')
    expect(owner.status).toBe(409)
    expect((owner.json.error as { details: { seq?: number } }).details.seq).toBe(seq)
    const other = await reuse(TOKENS.sensorLv, 'cert-lv')
    expect(other.status).toBe(409)
    expect((other.json.error as { details: Record<string, unknown> }).details).toEqual({ id: secret.id, index: 0 })
  })

  it('a body that does not decompress, or a path with malformed percent-encoding, is a 400 validation error', async () => {
    const corrupt = await fetch(`${server.url}/api/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        authorization: `Bearer ${TOKENS.sensorEe}`,
      },
      body: 'this is not gzip',
    })
    expect(corrupt.status).toBe(400)
    expect(((await corrupt.json()) as { error: { code: string } }).error.code).toBe('validation')
    for (const path of ['/api/v1/wall/presets/%', '/api/v1/tokens/%E0%A4%A']) {
      const bad = await fetch(`${server.url}${path}`, {
        method: path.includes('tokens') ? 'DELETE' : 'GET',
        headers: { authorization: `Bearer ${TOKENS.viewerEe}` },
      })
      expect(bad.status, path).toBe(400)
      expect(((await bad.json()) as { error: { code: string; message: string } }).error).toEqual({
        code: 'validation',
        message: 'the request path is not valid percent-encoding',
      })
    }
  })

  it('rejects an invalid payload with 400 naming the field paths, leaving the log unchanged', async () => {
    const head = await logHead(server)
    const good = observations(1)[0]!
    const bad = event({
      type: 'incident.reported',
      payload: { incidentId: 'x', title: 'T', severity: 'apocalyptic', category: 'malware', affectedNetworks: [] },
    } as never)
    const response = await post(server.url, TOKENS.sensorEe, { events: [good, bad] })
    expect(response.status).toBe(400)
    const error = response.json.error as { code: string; details: { issues: { path: string }[] } }
    expect(error.code).toBe('validation')
    expect(error.details.issues.map((i) => i.path)).toContain('events.1.payload.severity')
    expect((await post(server.url, TOKENS.sensorEe, '{"type": ')).status).toBe(400)
    expect((await post(server.url, TOKENS.sensorEe, { events: [] })).status).toBe(400)
    expect(await logHead(server)).toBe(head)
  })

  it('refuses more than 1,000 events, or a body over the size limit, with 413', async () => {
    expect((await post(server.url, TOKENS.sensorEe, { events: observations(1001) })).status).toBe(413)
    const huge = JSON.stringify({ events: [{ pad: 'x'.repeat(11 * 1024 * 1024) }] })
    expect((await post(server.url, TOKENS.sensorEe, huge)).status).toBe(413)
  })

  it('forbids posting without a posting role, or for another organisation', async () => {
    expect((await post(server.url, TOKENS.viewerEe, observations(1)[0])).status).toBe(403)
    const forLatvia = observations(1, { source: { organisation: 'cert-lv' } })[0]
    const response = await post(server.url, TOKENS.sensorEe, forLatvia)
    expect(response.status).toBe(403)
    expect((response.json.error as { code: string }).code).toBe('forbidden')
    expect((await post(server.url, TOKENS.relay, forLatvia)).status).toBe(201)
  })

  it('marks an event without a marking AMBER to its own organisation', async () => {
    const [unmarked] = observations(1)
    const { marking: _omit, ...rest } = unmarked!
    const { json } = await post(server.url, TOKENS.sensorEe, rest)
    const seq = json.results![0]!.seq
    const ee = await getJson<{ events: StoredEvent[] }>(
      `${server.url}/api/v1/events?after=${seq - 1}&limit=1`,
      TOKENS.viewerEe,
    )
    expect(ee.json.events[0]).toMatchObject({ seq, marking: { tlp: 'AMBER' }, actor: { user: 'sensor-ee' } })
    const lv = await getJson<{ events: StoredEvent[]; next: number }>(
      `${server.url}/api/v1/events?after=${seq - 1}&limit=1`,
      TOKENS.viewerLv,
    )
    expect(lv.json.events.map((e) => e.seq)).not.toContain(seq)
  })

  it('pages GET /api/v1/events with a cursor that moves past what the caller may not see', async () => {
    const base = await logHead(server)
    const mixed = [
      ...observations(5, { marking: { tlp: 'AMBER+STRICT' } }),
      ...observations(3, { marking: { tlp: 'CLEAR' } }),
    ]
    await post(server.url, TOKENS.sensorEe, { events: mixed })
    const lv = await getJson<{ events: StoredEvent[]; next: number; head: number }>(
      `${server.url}/api/v1/events?after=${base}&limit=2`,
      TOKENS.viewerLv,
    )
    expect(lv.json.events.map((e) => e.seq)).toEqual([base + 6, base + 7])
    expect(lv.json.next).toBe(base + 7)
    const rest = await getJson<{ events: StoredEvent[]; next: number }>(
      `${server.url}/api/v1/events?after=${lv.json.next}&limit=10`,
      TOKENS.viewerLv,
    )
    expect(rest.json.events.map((e) => e.seq)).toEqual([base + 8])
    expect((await getJson(`${server.url}/api/v1/events?limit=0`, TOKENS.viewerLv)).status).toBe(400)
    expect((await getJson(`${server.url}/api/v1/events?after=-1`, TOKENS.viewerLv)).status).toBe(400)
  })

  it('GET /api/v1/state folds only what the caller may see', async () => {
    const networkEvent = event({
      type: 'network.registered',
      payload: {
        networkId: 'ee-gov',
        name: 'Estonian government network',
        organisation: 'cert-ee',
        nation: 'EE',
        kind: 'government',
        location: { lat: 59.437, lon: 24.754 },
      },
    } as never)
    const open = event({
      type: 'incident.reported',
      payload: {
        incidentId: 'inc-open',
        title: 'Worm',
        severity: 'high',
        category: 'malware',
        affectedNetworks: ['ee-gov'],
      },
    } as never)
    const secret = event({
      type: 'incident.reported',
      marking: { tlp: 'AMBER+STRICT' },
      payload: {
        incidentId: 'inc-secret',
        title: 'Insider',
        severity: 'critical',
        category: 'insider',
        affectedNetworks: [],
      },
    } as never)
    await post(server.url, TOKENS.sensorEe, { events: [networkEvent, open, secret] })
    type S = { incidents: { incidentId: string }[]; networks: { networkId: string }[] }
    const ee = await getJson<S>(`${server.url}/api/v1/state`, TOKENS.viewerEe)
    const lv = await getJson<S>(`${server.url}/api/v1/state`, TOKENS.viewerLv)
    expect(ee.json.incidents.map((i) => i.incidentId).sort()).toEqual(['inc-open', 'inc-secret'])
    expect(lv.json.incidents.map((i) => i.incidentId)).toEqual(['inc-open'])
    expect(lv.json.networks.map((n) => n.networkId)).toEqual(['ee-gov'])
  })

  it('says who the caller is', async () => {
    const session = await getJson(`${server.url}/api/v1/session`, TOKENS.viewerLv)
    expect(session.json).toEqual({
      user: 'janis',
      displayName: 'janis',
      organisation: 'cert-lv',
      nation: 'LV',
      roles: ['liaison'],
      kind: 'api',
    })
  })
})

describe('server: live stream', () => {
  let server: ServerProcess
  const watchers: Watcher[] = []
  const watch = (token: string) => {
    const w = new Watcher(server.url, token)
    watchers.push(w)
    return w
  }
  beforeAll(async () => {
    server = await startServerProcess()
  })
  afterAll(async () => {
    for (const w of watchers) w.close()
    await server?.stop()
  })

  it('[D12] rejects a socket without a valid token', async () => {
    const w = watch('wrong-token')
    await expect(w.subscribe(0)).rejects.toThrow('unauthenticated')
  })

  it('a socket message without a body, or with extra arguments, is still acknowledged (a validation error)', async () => {
    const watcher = new Watcher(server.url, TOKENS.viewerEe)
    try {
      await watcher.subscribe(0)
      const socket = watcher.socket as unknown as {
        timeout(ms: number): {
          emitWithAck(event: string, ...args: unknown[]): Promise<{ ok: boolean; error?: { code: string } }>
        }
      }
      for (const [event, args] of [
        ['subscribe', []],
        ['subscribe', [{ after: 0 }, 'extra']],
        ['command', []],
        ['viewing', [null, 1]],
      ] as const) {
        const ack = await socket.timeout(5000).emitWithAck(event, ...args)
        expect(ack, `${event} ${JSON.stringify(args)}`).toMatchObject({ ok: false, error: { code: 'validation' } })
      }
    } finally {
      watcher.close()
    }
  })

  it('[D1] streams events ingested through REST, live and in seq order', async () => {
    const w = watch(TOKENS.viewerEe)
    const ack = await w.subscribe(0)
    expect(ack.ok).toBe(true)
    const { json } = await post(server.url, TOKENS.sensorEe, { events: observations(20) })
    const expected = json.results!.map((r) => r.seq)
    await w.waitFor(() => w.events.length >= 20)
    expect(w.seqs().slice(-20)).toEqual(expected)
  })

  it('[D1, D2] resumes exactly after a disconnect: 500 events ingested meanwhile arrive once, in order', async () => {
    const w = watch(TOKENS.viewerEe)
    await w.subscribe(0)
    await post(server.url, TOKENS.sensorEe, { events: observations(10) })
    const head0 = await logHead(server)
    await w.waitFor(() => w.lastSeq >= head0)
    const before = w.seqs()
    const last = w.lastSeq
    w.close()
    const missed: number[] = []
    for (let i = 0; i < 5; i++) {
      const { json } = await post(server.url, TOKENS.sensorEe, { events: observations(100) })
      missed.push(...json.results!.map((r) => r.seq))
    }
    const again = watch(TOKENS.viewerEe)
    await again.subscribe(last)
    await post(server.url, TOKENS.sensorEe, { events: observations(5) })
    await again.waitFor(() => again.events.length >= 505)
    await new Promise((r) => setTimeout(r, 200))
    expect(again.seqs().slice(0, 500)).toEqual(missed)
    const all = [...before, ...again.seqs()]
    expect(new Set(all).size).toBe(all.length)
    expect(again.seqs()).toEqual([...again.seqs()].sort((a, b) => a - b))
    expect(again.events.length).toBe(505)
  })

  it('[D3] viewers of different organisations receive exactly their visible subsequences, RED included', async () => {
    const ee = watch(TOKENS.viewerEe)
    const lv = watch(TOKENS.viewerLv)
    const nl = watch(TOKENS.viewerNl)
    await Promise.all(
      [ee, lv, nl].map(async (w, i) =>
        w.subscribe(await headOf(server.url, [TOKENS.viewerEe, TOKENS.viewerLv, TOKENS.viewerNl][i]!)),
      ),
    )
    const markings: EventInput['marking'][] = [
      { tlp: 'CLEAR' },
      { tlp: 'GREEN' },
      { tlp: 'GREEN', releasableTo: ['LV'] },
      { tlp: 'AMBER' },
      { tlp: 'AMBER', releasableTo: ['cert-lv'] },
      { tlp: 'AMBER', releasableTo: ['NL'] },
      { tlp: 'AMBER+STRICT' },
      { tlp: 'RED', recipients: ['janis'] },
    ]
    const sent: StoredEvent[] = []
    for (let round = 0; round < 5; round++) {
      const batch = markings.map((marking, i) =>
        event({
          type: 'incident.observation',
          payload: { incidentId: `inc-${i}`, count: 1 },
          marking,
          source: { organisation: round % 2 ? 'cert-lv' : 'cert-ee' },
        } as never),
      )
      const { json } = await post(server.url, TOKENS.relay, { events: batch })
      const seqs = await seqsOfPost(server, json.results!)
      seqs.forEach((seq, i) => {
        sent.push({ ...batch[i]!, seq, actor: { user: 'relay' } } as StoredEvent)
      })
    }
    // each until the last event it may see [D14], then two heartbeats: nothing more came
    await Promise.all(
      (
        [
          [ee, TOKENS.viewerEe],
          [lv, TOKENS.viewerLv],
          [nl, TOKENS.viewerNl],
        ] as const
      ).map(async ([w, token]) => {
        const last = Math.max(0, ...sent.filter((e) => canSee(viewerOf(token), e)).map((e) => e.seq))
        await w.waitFor(() => w.lastSeq >= last)
        const beats = w.heartbeats.length
        await w.waitFor(() => w.heartbeats.length >= beats + 2)
      }),
    )
    for (const [w, token] of [
      [ee, TOKENS.viewerEe],
      [lv, TOKENS.viewerLv],
      [nl, TOKENS.viewerNl],
    ] as const) {
      const expected = sent.filter((e) => canSee(viewerOf(token), e)).map((e) => e.seq)
      expect(w.seqs()).toEqual(expected)
    }
    expect(lv.events.some((e) => e.marking.tlp === 'RED')).toBe(true)
    expect(ee.events.some((e) => e.marking.tlp === 'RED')).toBe(false)
    expect(nl.seqs().length).toBeLessThan(lv.seqs().length)
  })

  it('[D4, D14] a viewer that may see nothing is told nothing of what others append: no event, no checkpoint, no head', async () => {
    const nl = watch(TOKENS.viewerNl)
    const own = await headOf(server.url, TOKENS.viewerNl)
    const ack = await nl.subscribe(own)
    expect(ack.head).toBe(own)
    const { json } = await post(server.url, TOKENS.sensorEe, {
      events: observations(30, { marking: { tlp: 'AMBER+STRICT' } }),
    })
    const last = json.results!.at(-1)!.seq
    expect(last).toBeGreaterThan(own)
    // a few heartbeats (every 500 ms here): each says the viewer's own head, not the log's
    const beats = nl.heartbeats.length
    await nl.waitFor(() => nl.heartbeats.length >= beats + 3)
    expect(nl.events).toEqual([])
    expect(Math.max(...nl.checkpoints, ...nl.heartbeats)).toBe(own)
    expect(await headOf(server.url, TOKENS.viewerNl)).toBe(own)
    const page = await getJson<{ next: number; head: number }>(
      `${server.url}/api/v1/events?after=${own}`,
      TOKENS.viewerNl,
    )
    expect(page.json).toMatchObject({ next: own, head: own })
  })

  it('[D6, D14] subscribe names 0 or an event the viewer may see: a hidden one and a missing one are refused alike', async () => {
    const { json } = await post(server.url, TOKENS.sensorEe, {
      events: observations(1, { marking: { tlp: 'AMBER+STRICT' } }),
    })
    const hidden = json.results![0]!.seq
    const nl = watch(TOKENS.viewerNl)
    const refusals = []
    for (const after of [hidden, (await logHead(server)) + 1000]) {
      const ack = await nl.socket.timeout(5_000).emitWithAck('subscribe', { after })
      refusals.push(ack)
    }
    expect(refusals[0]).toEqual({
      ok: false,
      error: { code: 'conflict', message: `after ${hidden} is not the seq of an event you may see` },
    })
    expect((refusals[1] as { error: { details?: unknown } }).error.details).toBeUndefined()
    // the owner may resume from it
    const ee = watch(TOKENS.viewerEe)
    expect(await ee.subscribe(hidden)).toMatchObject({ ok: true, head: hidden })
  })

  it('[D2, D8] tells a client that stops reading to resync, and it resumes exactly from the store', async () => {
    const slow = watch(TOKENS.viewerEe)
    await slow.subscribe(await headOf(server.url, TOKENS.viewerEe))
    // Stop reading from the TCP socket: the server's buffer for this client grows.
    const engine = (
      slow.socket.io as unknown as { engine: { transport: { ws: { _socket: { pause(): void; resume(): void } } } } }
    ).engine
    const tcp = engine.transport.ws._socket
    tcp.pause()
    const sentSeqs: number[] = []
    const payload = 'x'.repeat(16_000)
    for (let i = 0; i < 100 && slow.resyncs.length === 0; i++) {
      const batch = Array.from({ length: 20 }, () =>
        event({
          type: 'advisory.published',
          payload: { advisoryId: `adv-${i}`, title: 'Flood', body: payload },
        } as never),
      )
      // one POST per batch: one committed group, one message to the socket
      const { json } = await post(server.url, TOKENS.sensorEe, { events: batch })
      sentSeqs.push(...json.results!.map((result) => result.seq))
    }
    tcp.resume()
    await slow.waitFor(() => slow.resyncs.length > 0, 20_000)
    const ack = await slow.subscribe(slow.lastSeq)
    expect(ack.ok).toBe(true)
    await slow.waitFor(() => slow.lastSeq >= sentSeqs.at(-1)!)
    const seqs = slow.seqs()
    expect(seqs).toEqual(sentSeqs)
  })
})

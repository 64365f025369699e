import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canSee } from '@watchfloor/core'
import type { EventInput, StoredEvent, Viewer } from '@watchfloor/protocol'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  event,
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

/**
 * Delivery rules of apps/server/SPEC.md (D3, D6, D8, D9) against a real server process.
 * Beyond the harness's principals: a second static token of `kadri` of cert-ee (another role: the
 * same person, the same viewer), and an admin, who makes `kadri`'s wall (a display token of a
 * service identity `kadri` of cert-ee, under a TLP ceiling). A user id names one person of one
 * organisation: no principal of another organisation can be `kadri` [V5].
 */
const KADRI = {
  ee: 'kadri-ee-analyst-token-0123456',
} as const
const ADMIN = 'delivery-admin-token-0123456789'
const EXTRA_PRINCIPALS = [
  { token: KADRI.ee, user: 'kadri', organisation: 'cert-ee', nation: 'EE', roles: ['analyst'] },
  { token: ADMIN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] },
]
const ALL_PRINCIPALS = [...PRINCIPALS, ...EXTRA_PRINCIPALS]
const HEARTBEAT_MS = 300

const viewerOf = (token: string): Viewer => {
  const p = ALL_PRINCIPALS.find((x) => x.token === token)!
  return { organisation: p.organisation, nation: p.nation, roles: p.roles as Viewer['roles'], userId: p.user }
}
const userOf = (token: string) => ALL_PRINCIPALS.find((x) => x.token === token)!.user

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Everything a socket receives, in arrival order. */
type Received = { type: string; message: Record<string, unknown> }
function record(watcher: Watcher): Received[] {
  const log: Received[] = []
  watcher.socket.onAny((type: string, message: Record<string, unknown>) => log.push({ type, message }))
  return log
}

describe('delivery rules (SPEC.md D3, D6, D8, D9)', () => {
  let server: ServerProcess
  let tokensDir: string
  let watchers: Watcher[] = []
  const watch = (token: string) => {
    const w = new Watcher(server.url, token)
    watchers.push(w)
    return w
  }
  const head = () => logHead(server)
  /** Post events as `token` and return them as stored (seq, actor), in order. */
  const append = async (token: string, events: EventInput[]): Promise<StoredEvent[]> => {
    const { status, json } = await post(server.url, token, { events })
    expect(status).toBe(201)
    const seqs = await seqsOfPost(server, json.results!)
    return seqs.map((seq, i) => ({ ...events[i]!, seq, actor: { user: userOf(token) } }) as StoredEvent)
  }
  const connected = (w: Watcher) =>
    new Promise<void>((resolve, reject) => {
      if (w.socket.connected) return resolve()
      w.socket.once('connect', () => resolve())
      w.socket.once('connect_error', reject)
    })

  beforeAll(async () => {
    tokensDir = mkdtempSync(join(tmpdir(), 'watchfloor-delivery-'))
    const tokens = join(tokensDir, 'tokens.json')
    writeFileSync(tokens, JSON.stringify(ALL_PRINCIPALS))
    server = await startServerProcess({
      env: { WATCHFLOOR_TOKENS: tokens, WATCHFLOOR_HEARTBEAT_MS: String(HEARTBEAT_MS) },
    })
  })
  afterEach(() => {
    for (const w of watchers) w.close()
    watchers = []
  })
  afterAll(async () => {
    await server?.stop()
    if (tokensDir) rmSync(tokensDir, { recursive: true, force: true })
  })

  it('[D3] one user id under two TLP ceilings (a person and their wall) never shares a RED room; one viewer by two tokens does', {
    timeout: 15_000,
  }, async () => {
    // kadri's wall: a display token of kadri of cert-ee, capped at AMBER+STRICT, so RED is not for it [V9]
    const made = await fetch(`${server.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({
        label: 'kadri wall',
        kind: 'display',
        preset: 'overview',
        tlpCeiling: 'AMBER+STRICT',
        service: { user: 'kadri', organisation: 'cert-ee', roles: ['watch_officer'] },
      }),
    })
    expect(made.status).toBe(201)
    const wallToken = ((await made.json()) as { secret: string }).secret
    const wallViewer: Viewer = { ...viewerOf(KADRI.ee), roles: ['watch_officer'], tlpCeiling: 'AMBER+STRICT' }

    const ee = watch(KADRI.ee)
    const officer = watch(TOKENS.viewerEe) // kadri too, as a watch officer: the same viewer (roles are not in it)
    const wall = watch(wallToken)
    // each from its own head [D14]; all live before the post; either order of joining broke a room keyed by user id alone
    const startEe = await headOf(server.url, KADRI.ee)
    const startWall = await headOf(server.url, wallToken)
    expect(await wall.subscribe(startWall)).toMatchObject({ ok: true, head: startWall })
    expect(await ee.subscribe(startEe)).toMatchObject({ ok: true, head: startEe })
    expect(await officer.subscribe(startEe)).toMatchObject({ ok: true, head: startEe })

    const observation = (marking: EventInput['marking'], organisation = 'cert-ee') =>
      event({
        type: 'incident.observation',
        payload: { incidentId: 'inc-d3', count: 1 },
        marking,
        source: { organisation },
      } as never)
    // ONE batch from cert-ee's sensor: RED events for `kadri` and cert-ee AMBER+STRICT ones in it
    const sent = await append(TOKENS.sensorEe, [
      observation({ tlp: 'GREEN' }),
      observation({ tlp: 'RED', recipients: ['kadri'] }),
      observation({ tlp: 'AMBER+STRICT' }),
      observation({ tlp: 'AMBER' }),
      observation({ tlp: 'AMBER', releasableTo: ['cert-lv'] }),
      observation({ tlp: 'GREEN', releasableTo: ['NL'] }),
      observation({ tlp: 'RED', recipients: ['janis'] }),
      observation({ tlp: 'CLEAR' }),
      observation({ tlp: 'AMBER+STRICT' }),
    ])
    // and from cert-lv (posted by the relay): RED for `kadri` of cert-ee, AMBER+STRICT of cert-lv
    sent.push(
      ...(await append(TOKENS.relay, [
        observation({ tlp: 'AMBER+STRICT' }, 'cert-lv'),
        observation({ tlp: 'RED', recipients: ['kadri'] }, 'cert-lv'),
        observation({ tlp: 'AMBER', releasableTo: ['EE'] }, 'cert-lv'),
        observation({ tlp: 'AMBER' }, 'cert-lv'),
        observation({ tlp: 'GREEN' }, 'cert-lv'),
      ])),
    )
    const expectedEe = sent.filter((e) => canSee(viewerOf(KADRI.ee), e)).map((e) => e.seq)
    const expectedWall = sent.filter((e) => canSee(wallViewer, e)).map((e) => e.seq)
    // the two viewers really differ on this batch: exactly by the RED events for kadri
    const redForKadri = sent.filter((e) => e.marking.tlp === 'RED' && e.marking.recipients?.includes('kadri'))
    expect(redForKadri).toHaveLength(2)
    expect(expectedEe).toEqual(expect.arrayContaining(redForKadri.map((e) => e.seq)))
    expect(expectedWall).toEqual(expectedEe.filter((seq) => !redForKadri.some((e) => e.seq === seq)))
    const lastEe = expectedEe.at(-1)!
    const lastWall = expectedWall.at(-1)!
    await Promise.all([
      ee.waitFor(() => ee.lastSeq >= lastEe, 10_000),
      officer.waitFor(() => officer.lastSeq >= lastEe, 10_000),
      wall.waitFor(() => wall.lastSeq >= lastWall, 10_000),
    ])

    expect(ee.seqs()).toEqual(expectedEe)
    expect(officer.seqs()).toEqual(expectedEe)
    expect(wall.seqs()).toEqual(expectedWall)
    // spelled out: no RED on the wall, no AMBER+STRICT of the other organisation on either
    expect(wall.events.filter((e) => e.marking.tlp === 'RED')).toEqual([])
    for (const socket of [ee, wall])
      expect(socket.events.filter((e) => e.marking.tlp === 'AMBER+STRICT').map((e) => e.source.organisation)).toEqual([
        'cert-ee',
        'cert-ee',
      ])
    expect([...ee.resyncs, ...officer.resyncs, ...wall.resyncs]).toEqual([])

    // catch-up from the same point gives the same subsequences as live
    const eeAgain = watch(KADRI.ee)
    const wallAgain = watch(wallToken)
    await Promise.all([eeAgain.subscribe(startEe), wallAgain.subscribe(startWall)])
    expect(eeAgain.seqs()).toEqual(expectedEe)
    expect(wallAgain.seqs()).toEqual(expectedWall)
  })

  it('[D6] a subscribe beyond the head is refused with conflict and ends the subscription; a malformed one with validation', {
    timeout: 15_000,
  }, async () => {
    const control = watch(TOKENS.viewerEe)
    const refused = watch(TOKENS.viewerEe)
    const malformed = watch(TOKENS.viewerEe)
    const h = await headOf(server.url, TOKENS.viewerEe)
    await Promise.all([control.subscribe(h), refused.subscribe(h), malformed.subscribe(h)])

    // `refused` was live; an `after` beyond the head ends that (and says nothing of where the head is [D14])
    const beyond = (await head()) + 10
    const ack = await refused.socket.timeout(5_000).emitWithAck('subscribe', { after: beyond })
    expect(ack).toEqual({
      ok: false,
      error: { code: 'conflict', message: `after ${beyond} is not the seq of an event you may see` },
    })
    const afterRefusal = record(refused)
    const eventsBefore = refused.events.length

    // `malformed` is live too; each malformed request is refused and its subscription goes on
    for (const request of [{ after: -1 }, { after: 'x' }, { after: 1.5 }, {}, { after: h, extra: true }]) {
      const answer = await malformed.socket.timeout(5_000).emitWithAck('subscribe', request as never)
      expect(answer, JSON.stringify(request)).toMatchObject({ ok: false, error: { code: 'validation' } })
    }

    const sent = await append(TOKENS.sensorEe, observations(5))
    const last = sent.at(-1)!.seq
    await control.waitFor(() => control.lastSeq >= last, 5_000)
    await malformed.waitFor(() => malformed.lastSeq >= last, 5_000)
    // past a few heartbeats too: a refused socket is not live (D9)
    await sleep(3 * HEARTBEAT_MS)

    expect(control.seqs()).toEqual(sent.map((e) => e.seq))
    expect(malformed.seqs()).toEqual(sent.map((e) => e.seq))
    expect(refused.events.length).toBe(eventsBefore)
    expect(afterRefusal).toEqual([])
  })

  it('[D9] a live socket gets checkpoint then heartbeat with the head every interval; a socket never subscribed gets none', {
    timeout: 15_000,
  }, async () => {
    // move the head off 0, so `seq` says something
    const sent = await append(TOKENS.sensorEe, observations(3))
    const h = sent.at(-1)!.seq
    expect(await head()).toBe(h)

    const live = watch(TOKENS.viewerEe)
    const idle = watch(TOKENS.viewerEe)
    const refused = watch(TOKENS.viewerEe)
    await Promise.all([connected(idle), connected(refused)])
    const idleLog = record(idle)
    expect(await refused.socket.timeout(5_000).emitWithAck('subscribe', { after: h + 1 })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    })
    const refusedLog = record(refused)
    const liveLog = record(live)
    expect(await live.subscribe(h)).toMatchObject({ ok: true, head: h })
    const since = Date.now()
    await sleep(1_500)
    const until = Date.now()

    const beats = liveLog.flatMap((entry, i) => (entry.type === 'heartbeat' ? [i] : []))
    expect(beats.length).toBeGreaterThanOrEqual(2)
    for (const i of beats) {
      const { seq, serverTime } = liveLog[i]!.message as { seq: number; serverTime: string }
      expect(seq).toBe(h)
      expect(liveLog[i - 1]).toEqual({ type: 'checkpoint', message: { seq } })
      expect(typeof serverTime).toBe('string')
      const time = Date.parse(serverTime)
      expect(Number.isNaN(time)).toBe(false)
      expect(new Date(time).toISOString()).toBe(serverTime)
      // same machine: the server's clock is ours
      expect(time).toBeGreaterThanOrEqual(since - 1_000)
      expect(time).toBeLessThanOrEqual(until + 1_000)
    }
    expect(liveLog.filter((e) => e.type !== 'checkpoint' && e.type !== 'heartbeat')).toEqual([])
    expect(idleLog).toEqual([])
    expect(refusedLog).toEqual([])
    expect(idle.socket.connected).toBe(true)
  })

  it('[D9] the heartbeats of many live sockets are spread over the interval; each socket still hears one every interval', {
    timeout: 15_000,
  }, async () => {
    const h = await headOf(server.url, TOKENS.viewerEe)
    const sockets = Array.from({ length: 12 }, () => watch(TOKENS.viewerEe))
    await Promise.all(sockets.map((w) => w.subscribe(h)))
    // when each socket hears its heartbeats, from the first one on
    const heard = sockets.map((w) => {
      const times: number[] = []
      w.socket.on('heartbeat', () => times.push(performance.now()))
      return times
    })
    await sleep(5 * HEARTBEAT_MS + 100)
    for (const times of heard) {
      expect(times.length).toBeGreaterThanOrEqual(4)
      // every interval, give or take the timers of two busy processes
      for (let i = 1; i < times.length; i++) {
        expect(times[i]! - times[i - 1]!).toBeGreaterThan(HEARTBEAT_MS * 0.6)
        expect(times[i]! - times[i - 1]!).toBeLessThan(HEARTBEAT_MS * 1.6)
      }
    }
    // where in the interval each socket hears it: not all at once (one beat of every socket holds the
    // event loop for two writes per socket), but over most of the interval
    const phases = heard.map((times) => times[1]! % HEARTBEAT_MS).sort((a, b) => a - b)
    // the largest stretch of the interval in which no socket hears its heartbeat (around the end too)
    const quiet = Math.max(
      ...phases.map((phase, i) => (i === 0 ? phase + HEARTBEAT_MS - phases.at(-1)! : phase - phases[i - 1]!)),
    )
    expect(quiet).toBeLessThan(HEARTBEAT_MS * 0.6)
  })

  it('[D8] a socket that stops reading is told to resync; a fast socket of the same audience gets every event, no resync', {
    timeout: 15_000,
  }, async () => {
    const slow = watch(TOKENS.viewerEe)
    const fast = watch(TOKENS.viewerEe)
    const reasons: string[] = []
    slow.socket.on('resync', ({ reason }) => reasons.push(reason))
    fast.socket.on('resync', ({ reason }) => reasons.push(`fast: ${reason}`))
    const h = await headOf(server.url, TOKENS.viewerEe)
    await Promise.all([slow.subscribe(h), fast.subscribe(h)])

    // Stop reading from the slow socket's TCP connection: once the kernel buffers are full,
    // packets pile up in the server's engine.io write buffer (limit: the harness's 50).
    const engine = (
      slow.socket.io as unknown as { engine: { transport: { ws: { _socket: { pause(): void; resume(): void } } } } }
    ).engine
    const tcp = engine.transport.ws._socket
    tcp.pause()
    const shed = () => server.output().includes('slow consumer told to resync')
    const big = 'x'.repeat(50_000)
    const sentSeqs: number[] = []
    let round = 0
    // each round: one ~1 MB packet to fill the kernel buffers, then small packets to count up
    for (; round < 100 && !shed(); round++) {
      const bulk = Array.from({ length: 20 }, (_, i) =>
        event({
          type: 'advisory.published',
          payload: { advisoryId: `adv-d8-${round}-${i}`, title: 'Flood', body: big },
        } as never),
      )
      sentSeqs.push(...(await append(TOKENS.sensorEe, bulk)).map((e) => e.seq))
      for (let i = 0; i < 10; i++) sentSeqs.push(...(await append(TOKENS.sensorEe, observations(1))).map((e) => e.seq))
    }
    expect(shed()).toBe(true)
    const last = sentSeqs.at(-1)!

    // the fast socket was not held back: everything, in order, exactly once, while the slow one is still paused
    await fast.waitFor(() => fast.lastSeq >= last, 10_000)
    expect(fast.seqs()).toEqual(sentSeqs)
    expect(fast.resyncs).toEqual([])

    // the slow one, reading again, finds `resync` after what was queued, and resumes exactly (D2)
    tcp.resume()
    await slow.waitFor(() => slow.resyncs.length > 0, 10_000)
    expect(reasons).toEqual(['slow_consumer'])
    expect(slow.lastSeq).toBe(slow.resyncs[0])
    expect(await slow.subscribe(slow.lastSeq)).toMatchObject({ ok: true })
    await slow.waitFor(() => slow.lastSeq >= last, 10_000)
    expect(slow.seqs()).toEqual(sentSeqs)
    expect(fast.resyncs).toEqual([])
  })
})

import { randomUUID } from 'node:crypto'
import { type HandoverBrief, handoverMarkdown, markingBanner } from '@watchfloor/core'
import {
  type ClientToServerEvents,
  COMMAND_EVENTS,
  type CommandAck,
  type CommandBody,
  type EventInput,
  type PresenceMessage,
  type ServerToClientEvents,
  type StoredEvent,
  type ViewingAck,
} from '@watchfloor/protocol'
import pg from 'pg'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, getJson, headOf, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

type Json = Record<string, unknown>
type Rest = { status: number; json: Json & { events?: StoredEvent[]; version?: number; current?: Json } }

async function rest(url: string, token: string, body: unknown): Promise<Rest> {
  const response = await fetch(`${url}/api/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  })
  return { status: response.status, json: (await response.json()) as Rest['json'] }
}

/** A socket.io client that records events and presence. */
class Client {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>
  readonly events: StoredEvent[] = []
  readonly presence: PresenceMessage[] = []
  lastSeq = 0
  heartbeats = 0

  constructor(url: string, token: string) {
    this.socket = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true })
    this.socket.on('events', ({ events }) => {
      this.events.push(...events)
      this.lastSeq = Math.max(this.lastSeq, events.at(-1)!.seq)
    })
    this.socket.on('checkpoint', ({ seq }) => {
      this.lastSeq = Math.max(this.lastSeq, seq)
    })
    this.socket.on('heartbeat', () => this.heartbeats++)
    this.socket.on('presence', (message) => this.presence.push(message))
  }

  async connected(): Promise<void> {
    if (this.socket.connected) return
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect', () => resolve())
      this.socket.once('connect_error', reject)
    })
  }

  async subscribe(after = 0): Promise<void> {
    await this.connected()
    await this.socket.timeout(20_000).emitWithAck('subscribe', { after })
  }

  async command(body: CommandBody | Json): Promise<CommandAck> {
    await this.connected()
    return this.socket.timeout(20_000).emitWithAck('command', body as CommandBody)
  }

  async view(incidentId: string | null): Promise<ViewingAck> {
    await this.connected()
    return (await this.socket.timeout(20_000).emitWithAck('viewing', { incidentId })) as ViewingAck
  }

  /** The latest presence message about an incident. */
  presenceOf(incidentId: string): string[] | undefined {
    return this.presence
      .filter((m) => m.incidentId === incidentId)
      .at(-1)
      ?.viewers.map((v) => v.user)
  }

  close(): void {
    this.socket.close()
  }
}

async function until(check: () => boolean, timeout = 10_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

const network = () =>
  event({
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

const incident = (incidentId: string, marking: EventInput['marking'], severity = 'medium') =>
  event({
    type: 'incident.reported',
    marking,
    payload: {
      incidentId,
      title: `Incident ${incidentId}`,
      severity,
      category: 'malware',
      affectedNetworks: ['ee-gov'],
    },
  } as never)

const EVENT_OF: Record<CommandBody['type'], string> = COMMAND_EVENTS

describe('coordination commands, presence and the handover brief', () => {
  let server: ServerProcess
  const clients: Client[] = []
  const client = async (token: string) => {
    const c = new Client(server.url, token)
    clients.push(c)
    await c.connected()
    return c
  }
  const startedAt = new Date(Date.now() - 1000).toISOString()

  beforeAll(async () => {
    server = await startServerProcess()
    const seeded = await post(server.url, TOKENS.sensorEe, {
      events: [
        network(),
        ...['rest-a', 'rest-b', 'sock-a', 'sock-b', 'race', 'pres-green'].map((id) => incident(id, { tlp: 'GREEN' })),
        incident('pres-amber', { tlp: 'AMBER' }),
      ],
    })
    expect(seeded.status).toBe(201)
  })
  afterAll(async () => {
    for (const c of clients) c.close()
    await server?.stop()
  })

  /** Every command type once through `send`, on incidents `a` and `b`; returns what each answered. */
  async function everyCommand(send: (body: Json) => Promise<CommandAck>, a: string, b: string) {
    const answers: [string, CommandAck][] = []
    const run = async (body: Json) => {
      const ack = await send(body)
      answers.push([body.type as string, ack])
      expect(ack, `${body.type}: ${JSON.stringify(ack)}`).toMatchObject({ ok: true })
      return ack as Extract<CommandAck, { ok: true }>
    }
    await run({ type: 'incident.acknowledge', incidentId: a, note: 'on it', expectedVersion: 1 })
    await run({ type: 'incident.escalate', incidentId: a, severity: 'high', reason: 'spreading' })
    await run({ type: 'incident.set_status', incidentId: a, status: 'triaged' })
    await run({ type: 'incident.link', incidentId: a, otherIncidentId: b, relation: 'related' })
    await run({ type: 'network.set_state', incidentId: a, networkId: 'ee-gov', state: 'contained' })
    await run({ type: 'incident.set_marking', incidentId: a, marking: { tlp: 'GREEN', pap: 'GREEN' } })
    const created = await run({
      type: 'task.create',
      incidentId: a,
      title: 'Isolate hosts',
      assignee: { kind: 'user', userId: 'coord-b' },
    })
    const taskId = (created.events[0]!.payload as { taskId: string }).taskId
    await run({ type: 'task.assign', taskId, assignee: { kind: 'user', userId: 'coord-a' }, expectedVersion: 1 })
    await run({ type: 'task.accept', taskId })
    await run({ type: 'task.start', taskId })
    await run({ type: 'task.block', taskId, reason: 'waiting for access' })
    await run({ type: 'task.complete', taskId, note: 'done' })
    await run({ type: 'task.reopen', taskId, reason: 'again' })
    await run({ type: 'comment.post', incidentId: a, taskId, body: 'thanks @coord-b' })
    await run({ type: 'bookmark.save', title: `Spread of ${a}`, clock: 'recorded', at: new Date().toISOString() })
    return answers
  }

  async function checkAnswers(answers: [string, CommandAck][]) {
    expect(answers.map(([type]) => type).sort()).toEqual(Object.keys(EVENT_OF).sort())
    const stored = await getJson<{ events: StoredEvent[] }>(
      `${server.url}/api/v1/events?after=0&limit=5000`,
      TOKENS.viewerEe,
    )
    const bySeq = new Map(stored.json.events.map((e) => [e.seq, e]))
    for (const [type, ack] of answers) {
      if (!ack.ok) throw new Error(type)
      expect(ack.events.map((e) => e.type)).toEqual([EVENT_OF[type as CommandBody['type']]])
      for (const e of ack.events) {
        expect(e.actor?.user).toBe('coord-a')
        expect(e.recordedAt).toEqual(expect.any(String))
        expect(bySeq.get(e.seq)).toEqual(e) // in the log, exactly as answered
      }
    }
    const versions = Object.fromEntries(answers.map(([type, ack]) => [type, ack.ok ? ack.version : -1]))
    expect(versions).toMatchObject({
      'incident.acknowledge': 2,
      'incident.escalate': 3,
      'task.create': 1,
      'task.assign': 2,
      'task.reopen': 7,
      'comment.post': 7,
    })
  }

  it('accepts every command type through REST', async () => {
    const answers = await everyCommand(
      async (body) => {
        const { status, json } = await rest(server.url, TOKENS.coordEeA, body)
        return status === 200 ? ({ ok: true, ...json } as CommandAck) : ({ ok: false, ...json } as CommandAck)
      },
      'rest-a',
      'rest-b',
    )
    await checkAnswers(answers)
  })

  it('accepts every command type through the socket, with the same handler', async () => {
    const coord = await client(TOKENS.coordEeA)
    await coord.subscribe(0)
    const answers = await everyCommand((body) => coord.command(body), 'sock-a', 'sock-b')
    await checkAnswers(answers)
    // and the events arrive on the live stream
    const seqs = answers.flatMap(([, ack]) => (ack.ok ? ack.events.map((e) => e.seq) : []))
    await until(() => coord.lastSeq >= Math.max(...seqs))
    expect(coord.events.map((e) => e.seq)).toEqual(expect.arrayContaining(seqs))
  })

  it('refuses with the error family: 400 with field paths, 403 with the rule, 404 for the unseen', async () => {
    const invalid = await rest(server.url, TOKENS.coordEeA, { type: 'incident.escalate', incidentId: 'rest-a' })
    expect(invalid.status).toBe(400)
    const issues = (invalid.json.error as { details: { issues: { path: string }[] } }).details.issues
    expect(issues.map((i) => i.path).sort()).toEqual(['reason', 'severity'])
    expect((await rest(server.url, TOKENS.coordEeA, { type: 'nope' })).status).toBe(400)
    const forbidden = await rest(server.url, TOKENS.viewerLv, {
      type: 'incident.escalate',
      incidentId: 'race',
      severity: 'critical',
      reason: 'x',
    })
    expect(forbidden).toMatchObject({ status: 403, json: { error: { code: 'forbidden', details: { rule: 'C2' } } } })
    // a sensor cannot command [C2]
    const sensor = await rest(server.url, TOKENS.sensorEe, { type: 'comment.post', incidentId: 'race', body: 'hi' })
    expect(sensor).toMatchObject({ status: 403, json: { error: { code: 'forbidden' } } })
    // [C1] an incident the caller may not see is not_found, exactly like one that does not exist
    const unseen = await rest(server.url, TOKENS.viewerLv, {
      type: 'comment.post',
      incidentId: 'pres-amber',
      body: 'x',
    })
    const missing = await rest(server.url, TOKENS.viewerLv, { type: 'comment.post', incidentId: 'missing', body: 'x' })
    expect(unseen).toMatchObject({ status: 404, json: { error: { code: 'not_found', details: { rule: 'C1' } } } })
    expect(missing.status).toBe(404)
    const stale = await rest(server.url, TOKENS.coordEeA, {
      type: 'incident.set_status',
      incidentId: 'rest-a',
      status: 'contained',
      expectedVersion: 1,
    })
    expect(stale).toMatchObject({
      status: 409,
      json: { error: { code: 'conflict', details: { rule: 'C3' } }, current: { incidentId: 'rest-a' } },
    })
  })

  it('[C3] two coordinators racing to assign one task: exactly one wins, the other gets 409 with the winner', async () => {
    const a = await client(TOKENS.coordEeA)
    const b = await client(TOKENS.coordEeB)
    const created = await rest(server.url, TOKENS.coordEeA, {
      type: 'task.create',
      incidentId: 'race',
      title: 'Contain',
    })
    expect(created.status).toBe(200)
    const taskId = (created.json.events![0]!.payload as { taskId: string }).taskId
    let version = created.json.version!
    const channels = [
      ['rest', 'rest'],
      ['socket', 'socket'],
      ['rest', 'socket'],
      ['socket', 'rest'],
    ] as const
    for (let round = 0; round < 8; round++) {
      const [first, second] = channels[round % channels.length]!
      const body = (who: string) => ({
        type: 'task.assign',
        taskId,
        assignee: { kind: 'user', userId: `${who}-${round}` },
        expectedVersion: version,
      })
      const send = async (channel: 'rest' | 'socket', token: string, socket: Client, who: string) => {
        if (channel === 'socket') return socket.command(body(who))
        const { status, json } = await rest(server.url, token, body(who))
        return (status === 200 ? { ok: true, ...json } : { ok: false, status, ...json }) as CommandAck & {
          status?: number
        }
      }
      const answers = await Promise.all([send(first, TOKENS.coordEeA, a, 'a'), send(second, TOKENS.coordEeB, b, 'b')])
      const winners = answers.filter((x) => x.ok)
      const losers = answers.filter((x) => !x.ok)
      expect(winners).toHaveLength(1)
      expect(losers).toHaveLength(1)
      const winner = winners[0] as Extract<CommandAck, { ok: true }>
      const loser = losers[0] as Extract<CommandAck, { ok: false }> & { status?: number }
      if (loser.status !== undefined) expect(loser.status).toBe(409)
      expect(loser.error).toMatchObject({ code: 'conflict', details: { rule: 'C3' } })
      const winnerAssignee = (winner.events[0]!.payload as { assignee: unknown }).assignee
      expect(loser.current).toMatchObject({ taskId, assignee: winnerAssignee, version: version + 1 })
      version = winner.version
    }
  })

  it('[D3] a liaison never receives an event beyond its markings: socket, REST events, state, handover', async () => {
    const janis = await client(TOKENS.viewerLv)
    await janis.subscribe(0)
    const secret = ['sec-amber', 'sec-strict', 'sec-red']
    const seeded = await post(server.url, TOKENS.sensorEe, {
      events: [
        incident('sec-amber', { tlp: 'AMBER' }),
        incident('sec-strict', { tlp: 'AMBER+STRICT' }),
        incident('sec-red', { tlp: 'RED', recipients: ['coord-a', 'coord-b'] }),
        incident('open-green', { tlp: 'GREEN' }),
      ],
    })
    expect(seeded.status).toBe(201)
    const coordinate = async (incidentId: string) => {
      const task = { type: 'task.create', incidentId, title: `Task on ${incidentId}` }
      // assigning or mentioning someone grants no visibility [C4]: a task for a team its incident is
      // not shared with is refused (nobody there could see it), and names only what the caller sees
      let created = await rest(server.url, TOKENS.coordEeA, {
        ...task,
        assignee: { kind: 'team', organisation: 'cert-lv' },
      })
      if (incidentId !== 'open-green') {
        expect(created.status).toBe(400)
        expect(created.json.error).toMatchObject({
          code: 'validation',
          details: { issues: [{ path: 'assignee.organisation' }] },
        })
        created = await rest(server.url, TOKENS.coordEeA, task)
      }
      expect(created.status).toBe(200)
      const taskId = (created.json.events![0]!.payload as { taskId: string }).taskId
      for (const body of [
        { type: 'task.assign', taskId, assignee: { kind: 'user', userId: 'janis' } },
        { type: 'comment.post', incidentId, taskId, body: `@janis look at ${incidentId}` },
        { type: 'incident.escalate', incidentId, severity: 'critical', reason: 'worse' },
        { type: 'task.accept', taskId },
        { type: 'task.complete', taskId },
      ])
        expect((await rest(server.url, TOKENS.coordEeB, body)).status).toBe(200)
      return taskId
    }
    const secretTasks = await Promise.all(secret.map(coordinate))
    const greenTask = await coordinate('open-green')
    // janis's own head [D14], then a few heartbeats: whatever was fanned out to her has arrived
    const head = await headOf(server.url, TOKENS.viewerLv)
    await until(() => janis.lastSeq >= head)
    const beats = janis.heartbeats
    await until(() => janis.heartbeats > beats + 1)

    const leaks = (text: string) =>
      [...secret, ...secretTasks].filter((id) => text.includes(id)).concat(text.includes('"RED"') ? ['RED'] : [])
    // the socket
    expect(leaks(JSON.stringify(janis.events))).toEqual([])
    expect(janis.events.some((e) => JSON.stringify(e).includes(greenTask))).toBe(true)
    // REST events
    const events = await getJson<{ events: StoredEvent[] }>(
      `${server.url}/api/v1/events?after=0&limit=5000`,
      TOKENS.viewerLv,
    )
    expect(leaks(JSON.stringify(events.json))).toEqual([])
    expect(events.json.events.filter((e) => JSON.stringify(e).includes(greenTask)).length).toBeGreaterThan(3)
    // state
    const state = await getJson(`${server.url}/api/v1/state`, TOKENS.viewerLv)
    expect(leaks(JSON.stringify(state.json))).toEqual([])
    expect(JSON.stringify(state.json)).toContain(greenTask)
    // handover brief, JSON and Markdown
    const since = encodeURIComponent(startedAt)
    const brief = await getJson(`${server.url}/api/v1/handover?since=${since}`, TOKENS.viewerLv)
    expect(brief.status).toBe(200)
    expect(leaks(JSON.stringify(brief.json))).toEqual([])
    expect(JSON.stringify(brief.json)).toContain(greenTask)
    const markdown = await (
      await fetch(`${server.url}/api/v1/handover?since=${since}`, {
        headers: { authorization: `Bearer ${TOKENS.viewerLv}`, accept: 'text/markdown' },
      })
    ).text()
    expect(leaks(markdown)).toEqual([])
    expect(markdown).toContain('Task on open-green')
    // [M1] the brief is marked with the strictest of what it lists, in the reply and on the Markdown's first and last line
    const listed = brief.json as { tlp: string; marking: { tlp: string; pap?: string } }
    expect(listed.marking.tlp).toBe(listed.tlp)
    const lines = markdown.trimEnd().split('\n')
    expect(lines[0]).toMatch(new RegExp(`^\\*\\*TLP:${listed.marking.tlp.replace('+', '\\+')}`))
    expect(lines.at(-1)).toBe(lines[0])
    // and commands on them answer not_found [C1]
    for (const incidentId of secret) {
      const reply = await janis.command({ type: 'comment.post', incidentId, body: 'hello?' })
      expect(reply).toMatchObject({ ok: false, error: { code: 'not_found' } })
      expect(JSON.stringify(reply)).not.toContain('Incident sec')
    }
    // while the coordinators of cert-ee saw them all
    const ee = await getJson(`${server.url}/api/v1/handover?since=${since}`, TOKENS.coordEeA)
    for (const id of [...secret, ...secretTasks]) expect(JSON.stringify(ee.json)).toContain(id)
    // the coordinator's brief lists the AMBER+STRICT ones, so it is marked at least that
    expect((ee.json as { marking: { tlp: string } }).marking.tlp).toMatch(/^(AMBER\+STRICT|RED)$/)
  })

  it('presence: two sockets viewing one incident see each other; an unauthorised viewer hears nothing of it', async () => {
    const a = await client(TOKENS.coordEeA)
    const b = await client(TOKENS.coordEeB)
    const janis = await client(TOKENS.viewerLv)

    expect(await a.view('pres-amber')).toEqual({ ok: true })
    await until(() => a.presenceOf('pres-amber')?.join() === 'coord-a')
    expect(await b.view('pres-amber')).toEqual({ ok: true })
    await until(() => a.presenceOf('pres-amber')?.join() === 'coord-a,coord-b')
    await until(() => b.presenceOf('pres-amber')?.join() === 'coord-a,coord-b')
    // janis (cert-lv) may not see the AMBER incident: announcing it is not_found, and it lists nobody new
    expect(await janis.view('pres-amber')).toMatchObject({ ok: false, error: { code: 'not_found' } })
    expect(await janis.view('no-such-incident')).toMatchObject({ ok: false, error: { code: 'not_found' } })
    expect(await janis.view('pres-green')).toEqual({ ok: true })
    await until(() => a.presenceOf('pres-green')?.join() === 'janis')
    await until(() => janis.presenceOf('pres-green')?.join() === 'janis')
    expect(a.presenceOf('pres-amber')).toEqual(['coord-a', 'coord-b'])

    // a console that connects later is told at once who already views what it may see (the triage
    // queue shows it), and nothing of what it may not
    const late = await client(TOKENS.coordEeB)
    const lateLv = await client(TOKENS.viewerLv)
    await until(() => late.presenceOf('pres-amber')?.join() === 'coord-a,coord-b')
    await until(() => late.presenceOf('pres-green')?.join() === 'janis')
    await until(() => lateLv.presenceOf('pres-green')?.join() === 'janis')
    expect(lateLv.presence.filter((m) => m.incidentId === 'pres-amber')).toEqual([])
    late.close()
    lateLv.close()

    // b moves on, then a leaves: both changes reach a and b; janis never hears of pres-amber
    expect(await b.view(null)).toEqual({ ok: true })
    await until(() => a.presenceOf('pres-amber')?.join() === 'coord-a')
    await b.view('pres-green')
    await until(() => janis.presenceOf('pres-green')?.join() === 'janis,coord-b')
    a.close()
    await until(() => b.presenceOf('pres-amber')?.join() === '')
    expect(janis.presence.filter((m) => m.incidentId === 'pres-amber')).toEqual([])
    const viewer = b.presence.at(-1)!.viewers[0]
    expect(viewer === undefined || typeof viewer.organisation === 'string').toBe(true)
    expect(b.presence.find((m) => m.incidentId === 'pres-green')?.viewers[0]).toMatchObject({
      user: 'janis',
      organisation: 'cert-lv',
    })
  })

  it('the handover brief reads like a brief: the summary first naming what needs attention, then the sections in words; the Markdown says the same', async () => {
    const since = new Date(Date.now() - 50).toISOString()
    // in the window: a critical nobody acknowledges, a high that coord-b acknowledges and coord-a comments on
    expect(
      (
        await post(server.url, TOKENS.sensorEe, {
          events: [incident('ho-crit', { tlp: 'GREEN' }, 'critical'), incident('ho-high', { tlp: 'AMBER' }, 'high')],
        })
      ).status,
    ).toBe(201)
    expect(
      (await rest(server.url, TOKENS.coordEeB, { type: 'incident.acknowledge', incidentId: 'ho-high' })).status,
    ).toBe(200)
    expect(
      (
        await rest(server.url, TOKENS.coordEeA, {
          type: 'comment.post',
          incidentId: 'ho-high',
          body: 'Firewall rule *in*',
        })
      ).status,
    ).toBe(200)
    const created = await rest(server.url, TOKENS.coordEeA, {
      type: 'task.create',
      incidentId: 'pres-green',
      title: 'Rotate VPN keys',
      priority: 'urgent',
      assignee: { kind: 'user', userId: 'coord-b' },
    })
    const taskId = (created.json.events![0]!.payload as { taskId: string }).taskId
    expect((await rest(server.url, TOKENS.coordEeB, { type: 'task.start', taskId })).status).toBe(200)
    expect((await rest(server.url, TOKENS.coordEeB, { type: 'task.complete', taskId, note: 'rotated' })).status).toBe(
      200,
    )
    const until = new Date(Date.now() + 5).toISOString()
    await new Promise((r) => setTimeout(r, 10))
    const url = `${server.url}/api/v1/handover?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`
    const brief = await getJson<HandoverBrief>(url, TOKENS.coordEeA)
    expect(brief.status).toBe(200)
    const json = brief.json
    // the fields outside tools read are all still there
    expect(json.since).toBe(since)
    expect(json.until).toBe(until)
    expect(json.viewer).toEqual({ user: 'coord-a', organisation: 'cert-ee' })
    expect(json.tasks.assigned).toEqual([expect.objectContaining({ taskId, by: 'coord-a' })])
    expect(json.tasks.done).toEqual([expect.objectContaining({ taskId, by: 'coord-b' })])
    expect(json.incidents.new.map((i) => i.incidentId)).toEqual(['ho-crit', 'ho-high'])
    expect(json.incidents.escalated).toEqual([])
    expect(json.incidents.closed).toEqual([])
    expect(json.counts).toMatchObject({
      tasksAssigned: 1,
      tasksDone: 1,
      newIncidents: 2,
      comments: 1,
      acknowledgements: 1,
      openIncidents: json.incidents.open.length,
      attentionIncidents: json.incidents.attention.length,
    })
    // what needs attention: the unacknowledged critical, not the acknowledged high
    const attention = json.incidents.attention.map((i) => i.incidentId)
    expect(attention).toContain('ho-crit')
    expect(attention).not.toContain('ho-high')
    expect(json.incidents.open.find((i) => i.incidentId === 'ho-high')).toMatchObject({
      title: 'Incident ho-high',
      acknowledgedBy: 'coord-b',
      organisation: 'cert-ee',
    })
    expect(json.acknowledgements).toEqual([
      expect.objectContaining({ incidentId: 'ho-high', incidentTitle: 'Incident ho-high', by: 'coord-b' }),
    ])
    expect(json.comments).toEqual([
      expect.objectContaining({ incidentTitle: 'Incident ho-high', body: 'Firewall rule *in*', author: 'coord-a' }),
    ])
    // the summary: since when, the counts, and the incident that needs attention named in words
    expect(json.summary).toMatch(
      /^Since \d{4}-\d{2}-\d{2} \d{2}:\d{2}Z: 2 incidents reported, 0 closed, 0 escalated; \d+ open, of which \d+ critical or high not acknowledged\. Needs attention: /,
    )
    expect(json.summary).toContain('“Incident ho-crit” (critical, new, owner cert-ee, not acknowledged, open ')
    expect(json.summary).not.toContain('“Incident ho-high”')
    // the brief carries the highest marking of what it holds: the AMBER incident at least
    expect(['AMBER', 'AMBER+STRICT', 'RED']).toContain(json.marking.tlp)

    const response = await fetch(url, {
      headers: { authorization: `Bearer ${TOKENS.coordEeA}`, accept: 'text/markdown' },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/markdown; charset=utf-8')
    // [M1] its own marking in a header too, as an export's: what a client saving it names the file by
    const marking = `TLP:${json.marking.tlp}${json.marking.pap === undefined ? '' : `; PAP:${json.marking.pap}`}`
    expect(response.headers.get('x-watchfloor-marking')).toBe(marking)
    const text = await response.text()
    // the Markdown says what the JSON (and the page, made from the same sections) says, in the same order
    expect(text).toBe(handoverMarkdown(json))
    const lines = text.trimEnd().split('\n')
    expect(lines[0]).toBe(`**${markingBanner(json.marking)}**`)
    expect(lines.at(-1)).toBe(lines[0])
    expect(lines.filter((l) => l.startsWith('## ')).map((l) => l.replace(/ \(\d+\)$/, ''))).toEqual([
      '## Summary',
      '## Needs attention',
      '## Open incidents',
      '## Closed this shift',
      '## Tasks open / overdue',
      '## Tasks done this shift',
      '## Acknowledgements',
      '## Comments',
      '## Advisories',
    ])
    expect(text.indexOf('## Summary')).toBeLessThan(text.indexOf('**Incident ho-crit**'))
    expect(text).toMatch(
      /- \*\*Incident ho-crit\*\*: Severity: critical; Status: new; Owner: cert-ee; Acknowledgement: not acknowledged; Reported: \d{4}-\d{2}-\d{2} \d{2}:\d{2}Z by sensor-ee \(this shift\); Age: /,
    )
    expect(text).toContain(
      `- **Rotate VPN keys**: Incident: Incident pres-green; Status: done; Priority: urgent; Assigned to: coord-b; Completed: `,
    )
    expect(text).toContain('- **Incident ho-high**: Acknowledged by: coord-b (cert-ee); At: ')
    expect(text).toMatch(
      /- \*\*Incident ho-high\*\*: Author: coord-a \(cert-ee\); At: .*\n {2}> Firewall rule \\\*in\\\*\n/,
    )
    expect(
      (await fetch(`${url}&format=markdown`, { headers: { authorization: `Bearer ${TOKENS.coordEeA}` } })).headers.get(
        'content-type',
      ),
    ).toContain('text/markdown')

    for (const bad of [
      'since=yesterday',
      'since=2026-13-01T00:00:00Z',
      `since=${encodeURIComponent(since)}&until=2020-01-01T00:00:00Z`,
    ]) {
      const reply = await getJson<{ error: { code: string; details: { issues: { path: string }[] } } }>(
        `${server.url}/api/v1/handover?${bad}`,
        TOKENS.coordEeA,
      )
      expect(reply.status, bad).toBe(400)
      expect(reply.json.error.code).toBe('validation')
    }
    expect((await getJson(`${server.url}/api/v1/handover`, null)).status).toBe(401)
  })

  it('[M1] a task row of the handover names its incident by its current title, and that title’s marking counts in the row and the brief', async () => {
    const reported = (title: string, marking: EventInput['marking']) =>
      event({
        type: 'incident.reported',
        marking,
        payload: {
          incidentId: 'ho-title',
          title,
          severity: 'high',
          category: 'phishing',
          affectedNetworks: ['ee-gov'],
        },
      } as never)
    expect(
      (await post(server.url, TOKENS.sensorEe, { events: [reported('Phishing wave', { tlp: 'GREEN' })] })).status,
    ).toBe(201)
    const created = await rest(server.url, TOKENS.coordEeA, {
      type: 'task.create',
      incidentId: 'ho-title',
      title: 'Block the sender',
      priority: 'high',
    })
    expect(created.status).toBe(200)
    const task = created.json.events![0]!
    expect(task.marking).toEqual({ tlp: 'GREEN' })
    const taskId = (task.payload as { taskId: string }).taskId
    expect(
      (
        await rest(server.url, TOKENS.coordEeA, {
          type: 'incident.set_status',
          incidentId: 'ho-title',
          status: 'closed',
        })
      ).status,
    ).toBe(200)
    // a raw re-report, stricter, under a new title: the closed incident is on no list of the brief
    expect(
      (
        await post(server.url, TOKENS.sensorEe, {
          events: [reported('Spear-phishing of the minister', { tlp: 'AMBER+STRICT' })],
        })
      ).status,
    ).toBe(201)
    await new Promise((r) => setTimeout(r, 10))
    const since = new Date().toISOString()
    const until = new Date(Date.now() + 5).toISOString()
    await new Promise((r) => setTimeout(r, 10))
    const url = `${server.url}/api/v1/handover?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`
    const brief = await getJson<HandoverBrief>(url, TOKENS.coordEeA)
    expect(brief.status).toBe(200)
    expect(brief.json.incidents.open.some((item) => item.incidentId === 'ho-title')).toBe(false)
    expect(brief.json.tasks.open.find((row) => row.taskId === taskId)).toMatchObject({
      incidentTitle: 'Spear-phishing of the minister',
      tlp: 'AMBER+STRICT',
    })
    expect(['AMBER+STRICT', 'RED']).toContain(brief.json.marking.tlp)
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${TOKENS.coordEeA}`, accept: 'text/markdown' },
    })
    const text = await response.text()
    expect(text.split('\n')[0]).toMatch(/^\*\*TLP:(AMBER\+STRICT|RED)/)
    expect(text).toMatch(
      new RegExp(
        `- \\*\\*Block the sender\\*\\*: Incident: Spear-phishing of the minister; .*; TLP: AMBER\\+STRICT; Task id: ${taskId}`,
      ),
    )
  })
  it('[M1] STIX and MISP exports are marked by what they hold: a stricter bookmark or a RED observation beside a GREEN incident marks the JSON export, not the bundle or the MISP event', async () => {
    const from = new Date(Date.now() - 5).toISOString()
    expect(
      (await post(server.url, TOKENS.sensorEe, { events: [incident('stix-green', { tlp: 'GREEN' })] })).status,
    ).toBe(201)
    const saved = await rest(server.url, TOKENS.coordEeA, {
      type: 'bookmark.save',
      title: 'Outbreak start',
      at: new Date().toISOString(),
      clock: 'recorded',
      marking: { tlp: 'AMBER+STRICT' },
    })
    expect(saved.status, JSON.stringify(saved.json)).toBe(200)
    await new Promise((r) => setTimeout(r, 10))
    const window = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(new Date().toISOString())}&clock=recorded`
    const exported = async (format: string) => {
      const response = await fetch(`${server.url}/api/v1/export?format=${format}&${window}`, {
        headers: { authorization: `Bearer ${TOKENS.coordEeA}` },
      })
      expect(response.status).toBe(200)
      return { marking: response.headers.get('x-watchfloor-marking'), text: await response.text() }
    }
    // the JSON export holds the bookmark itself: the strictest of its events
    const json = await exported('json')
    expect((JSON.parse(json.text) as StoredEvent[]).map((e) => e.type)).toEqual(['incident.reported', 'bookmark.saved'])
    expect(json.marking).toBe('TLP:AMBER+STRICT')
    // the bundle holds the incident and what it names, all GREEN: a bookmark makes no STIX object
    const stix = await exported('stix')
    const objects = (JSON.parse(stix.text) as { objects: { type: string; name?: string }[] }).objects
    expect(objects.some((o) => o.type === 'incident')).toBe(true)
    expect(objects.filter((o) => o.type === 'marking-definition').map((o) => o.name)).toEqual(['TLP:GREEN'])
    expect(stix.marking).toBe('TLP:GREEN')

    // MISP: a RED observation of the incident, which the MISP event leaves out, marks nothing
    const red = event({
      type: 'incident.observation',
      marking: { tlp: 'RED', recipients: ['coord-a'] },
      payload: { incidentId: 'stix-green', indicator: '198.51.100.23', count: 1 },
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, { events: [red] })).status).toBe(201)
    const incidentExport = async (format: string) => {
      const response = await fetch(`${server.url}/api/v1/export?format=${format}&incidentId=stix-green`, {
        headers: { authorization: `Bearer ${TOKENS.coordEeA}` },
      })
      expect(response.status).toBe(200)
      return { marking: response.headers.get('x-watchfloor-marking'), text: await response.text() }
    }
    const misp = await incidentExport('misp')
    const document = JSON.parse(misp.text) as { Event: { distribution: string; Attribute: { value: string }[] } }
    expect(document.Event.Attribute.map((a) => a.value)).toEqual([])
    expect(document.Event.distribution).toBe('2')
    expect(misp.marking).toBe('TLP:GREEN')
    // the incident's JSON export holds the RED observation: RED
    expect((await incidentExport('json')).marking).toBe('TLP:RED')
  })
})

describe('coordination commands on several server processes sharing one PostgreSQL log', () => {
  const schema = `wf_cmd_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const servers: ServerProcess[] = []
  afterAll(async () => {
    for (const s of servers) await s.stop()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await admin.end().catch(() => {})
  })

  it('[C3] racing assignments on two processes: exactly one wins each round', async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const databaseUrl = `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`
    for (let i = 0; i < 2; i++)
      servers.push(await startServerProcess({ env: { WATCHFLOOR_DATABASE_URL: databaseUrl } }))
    const [a, b] = servers as [ServerProcess, ServerProcess]
    expect(
      (await post(a.url, TOKENS.sensorEe, { events: [network(), incident('pg-race', { tlp: 'GREEN' })] })).status,
    ).toBe(201)
    const created = await rest(b.url, TOKENS.coordEeA, { type: 'task.create', incidentId: 'pg-race', title: 'Contain' })
    expect(created.status).toBe(200)
    const taskId = (created.json.events![0]!.payload as { taskId: string }).taskId
    let version = 1
    for (let round = 0; round < 10; round++) {
      const body = (who: string) => ({
        type: 'task.assign',
        taskId,
        assignee: { kind: 'user', userId: `${who}-${round}` },
        expectedVersion: version,
      })
      const replies = await Promise.all([
        rest(a.url, TOKENS.coordEeA, body('a')),
        rest(b.url, TOKENS.coordEeB, body('b')),
      ])
      expect(replies.map((r) => r.status).sort()).toEqual([200, 409])
      const winner = replies.find((r) => r.status === 200)!
      const loser = replies.find((r) => r.status === 409)!
      expect(loser.json.current).toMatchObject({
        assignee: (winner.json.events![0]!.payload as { assignee: unknown }).assignee,
        version: version + 1,
      })
      version = winner.json.version!
    }
    expect(version).toBe(11)
  })
})

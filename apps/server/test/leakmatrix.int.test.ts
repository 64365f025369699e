import { createHash, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  audienceMarking,
  canSee,
  fold,
  type HandoverBrief,
  handoverBrief,
  handoverMarkdown,
  incidentOf,
  initialState,
  type LiveStateJson,
  livePicture,
  liveStateToJson,
  may,
  openCountsBySeverity,
  type ReplayClock,
  replayFromScratch,
  type State,
  type StateJson,
  stateFromJson,
  stateToJson,
  strictestMarking,
  summarise,
  tlpRank,
  type Visible,
} from '@watchfloor/core'
import {
  type CommandAck,
  type EventInput,
  type EventPageReply,
  type FeedsOutReply,
  type FeedsReply,
  type Marking,
  PAP_LEVELS,
  type PresenceMessage,
  type StoredEvent,
  type Tlp,
  type ViewingAck,
} from '@watchfloor/protocol'
import { importMisp, mispEventUuid } from '@watchfloor/sharing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { schemaErrors } from '../../../packages/sharing/test/oasis.ts'
import { logHead, type ServerProcess, startServerProcess, Watcher } from './harness.ts'
import {
  ADMIN,
  ASSIGNED_TEAM,
  type Auth,
  CELLS,
  type Cell,
  COMMUNITY,
  closedTwinOf,
  csvText,
  displayTokenBody,
  http,
  type MatrixViewer,
  OCCURRED_A,
  OCCURRED_C,
  OPEN_CELL,
  PRINCIPALS,
  parseCsv,
  phaseA,
  phaseC,
  QUIETLY_CLOSED,
  RED_AUTHOR,
  REREPORTED,
  type Reply,
  type Rereport,
  recordPresence,
  SENSOR_EE,
  sleep,
  until,
  VIEWERS,
} from './leakmatrix.fixtures.ts'

/**
 * The leak matrix: every marking cell (CLEAR, GREEN, AMBER, AMBER+STRICT x no releasableTo, an
 * organisation, a nation; RED x those x recipients none beyond the author or a named one; no
 * marking at all), and two incidents their owner re-reported under another marking, against every
 * kind of viewer (a relay posting for other organisations among them), on every path out of one
 * real server (SQLite):
 * the live stream, socket catch-up, REST events, the state and what is derived from it, replay
 * (state at a moment, event windows on both clocks), JSON and CSV export (whole log, a window, one
 * incident), the handover brief (JSON and Markdown), presence and `viewing`, command refusals
 * (not_found like a missing id; a conflict's `current`), a raw re-post of a hidden event's id
 * (L3: no seq) and the wall presets. No request of the tests appends to the log: every probe is
 * refused (expectedVersion 1000, a reused id), so the log is frozen once beforeAll has built it.
 *
 * Expected visibility never comes from the server: it is core's `canSee` applied to the events
 * this test posted (with their stored seq and actor, A6), and every derived figure is core's fold
 * of exactly the visible events (the projection rule). The only facts taken from the server are
 * the ones it alone assigns and that decide no visibility: seqs (from the POST answers),
 * recordedAt (checked to be one value per event and inside the phase it was posted in) and the
 * events of the RED author's commands (their markings checked against core's audienceMarking).
 *
 * The log is built once in beforeAll, everything each viewer can read is fetched once, and the
 * tests compare: one server, one socket per viewer (plus one for catch-up).
 */

type Phase = 'A' | 'B' | 'C'

const MINUTE = 60_000
const iso = (ms: number) => new Date(ms).toISOString()
const posterUser = (c: Cell) => (c.poster === 'author' ? RED_AUTHOR.viewer.userId : 'sensor-ee')

/** A person of the organisation every task is assigned to where it may be (ASSIGNED_TEAM). */
const OTHER_ORG = VIEWERS.find((v) => v.key === 'other-org')!

/** The report of a cell as canSee reads it (static: for test names). */
const reportVisibility = (c: Cell): Visible => ({
  source: { organisation: 'cert-ee' },
  actor: { user: posterUser(c) },
  marking: c.marking ?? { tlp: 'AMBER' },
})

const REPLAYS = (t: Times) =>
  [
    { key: 'recorded at t0 (before the log)', clock: 'recorded', at: t.t0 },
    { key: 'recorded at t1 (reports)', clock: 'recorded', at: t.t1 },
    { key: 'recorded at t2 (+ tasks, comments)', clock: 'recorded', at: t.t2 },
    { key: 'recorded at t3 (everything)', clock: 'recorded', at: t.t3 },
    { key: 'occurred at 08:30 (reports)', clock: 'occurred', at: iso(OCCURRED_A + 30 * MINUTE) },
    { key: 'occurred at 09:30 (+ advisories, hidden updates)', clock: 'occurred', at: iso(OCCURRED_C + 30 * MINUTE) },
  ] as const satisfies readonly { key: string; clock: ReplayClock; at: string }[]

const WINDOWS = (t: Times) =>
  [
    { key: 'recorded [t1, t2)', clock: 'recorded', from: t.t1, to: t.t2 },
    { key: 'recorded [t2, ...)', clock: 'recorded', from: t.t2, to: undefined },
    { key: 'occurred [09:00, 10:00)', clock: 'occurred', from: iso(OCCURRED_C), to: iso(OCCURRED_C + 60 * MINUTE) },
    { key: 'occurred [..., 08:30)', clock: 'occurred', from: undefined, to: iso(OCCURRED_A + 30 * MINUTE) },
  ] as const satisfies readonly { key: string; clock: ReplayClock; from: string | undefined; to: string | undefined }[]

const HANDOVERS = (t: Times) =>
  [
    { key: 'shift [t0, t3)', since: t.t0, until: t.t3 },
    { key: 'late [t1, t3)', since: t.t1, until: t.t3 },
  ] as const

interface Times {
  t0: string
  t1: string
  t2: string
  t3: string
}

const query = (params: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString()

/** Strings that tell one event from another: the cells' texts and ids, network ids, every UUID. */
const TOKEN =
  /LMX-[A-Z]+(?:-[A-Z]+)*|lmx-[a-z0-9]+(?:-[a-z0-9]+)*|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g
const tokensIn = (text: string): Set<string> => new Set(text.match(TOKEN) ?? [])

interface Probe {
  /** What the request itself named (ids the caller sent are no leak when echoed). */
  named: Set<string>
  rest: Reply
  restMissing: Reply
  socket: CommandAck
  socketMissing: CommandAck
}

interface Seen {
  replies: Map<string, Reply>
  /** REST events paged 7 at a time with `after=next`. */
  paged: { events: StoredEvent[]; lastNext: number; head: number }
  live: StoredEvent[]
  liveResyncs: number
  /** Every head the viewer's sockets were told [D14]: subscribe acks, checkpoints and heartbeats. */
  heads: { liveAck: number; catchUpAck: number; told: number[] }
  catchUp: StoredEvent[]
  presence: PresenceMessage[]
  viewing: Map<string, { ack: ViewingAck; missing: ViewingAck }>
  /** comment.post on each cell's incident (expectedVersion 1000: never appends). */
  comments: Map<string, Probe>
  /** comment.post on each cell's incident naming its task (expectedVersion 1000). */
  ownTaskComments: Map<string, Probe>
  /** comment.post on the open incident naming each other cell's task: always as a missing task. */
  crossTaskComments: Map<string, Probe>
  /** task.accept of each cell's task (assigned to the team cert-pt; expectedVersion 1000). */
  accepts: Map<string, Probe>
  /** incident.set_marking of each cell's incident (expectedVersion 1000: never appends). */
  markings: Map<string, Probe>
  /** POST /api/v1/events reusing each cell's report id with other content [L3]. */
  reusedIds: Map<string, Reply>
  /** POST /api/v1/import/stix of a bundle re-reporting every cell's incident (not for the owner organisation). */
  imported?: Reply
}

interface Expected {
  visible: StoredEvent[]
  state: State
  /** Tokens of no event the viewer may see: none may appear in any response to it. */
  forbidden: Set<string>
  /** Beyond those, ids and texts of incidents and advisories not in its picture (the handover lists none). */
  handoverForbidden: Set<string>
}

/** [A2, A5] A STIX bundle re-reporting every cell's incident under its Watchfloor id. */
const TAKEOVER = {
  type: 'bundle',
  id: 'bundle--1c0ffee0-0000-4000-8000-000000000001',
  objects: CELLS.map((c, i) => ({
    type: 'incident',
    spec_version: '2.1',
    id: `incident--1c0ffee0-0000-4000-8000-${String(i).padStart(12, '0')}`,
    created: '2026-11-26T10:00:00.000Z',
    modified: '2026-11-26T10:00:00.000Z',
    name: 'LMX-TAKEOVER',
    x_watchfloor_incident_id: c.incidentId,
  })),
}

/** [A1] A display token's refusal, on every path that changes anything. */
const READ_ONLY = { code: 'forbidden', message: 'a display token is read-only', details: { rule: 'A1' } }
/** [A7] The refusal to a view as another audience, on every path that changes anything. */
const VIEW_ONLY = { code: 'forbidden', message: 'a view as another audience is read-only', details: { rule: 'A7' } }
/** What a read-only viewer is told when it tries to change anything; undefined for the others. */
const readOnlyOf = (v: MatrixViewer) => (v.display ? READ_ONLY : v.viewAs ? VIEW_ONLY : undefined)

/**
 * MISP: incidents of cert-ee whose parts are marked otherwise than one another, which a MISP event
 * and its attributes must combine as core does (`strictestMarking`) [M1]: one indicator seen under
 * AMBER naming no one (cert-ee only) and under GREEN for cert-lv; an incident for cert-lv with an
 * AMBER sighting naming no one; one reported for cert-lv and updated for cert-lt, releasable to
 * nobody. Posted in phase C; the matrix reads their MISP exports and feed events.
 */
interface MispCase {
  key: string
  incidentId: string
  report: Marking
  update?: Marking
  observations: [indicator: string, count: number, marking: Marking][]
}
const MISP_CASES: MispCase[] = [
  {
    key: 'MISP-MIXED',
    incidentId: 'lmx-inc-misp-mixed',
    report: { tlp: 'GREEN' },
    observations: [
      ['LMX-MISP-MIXED-OBSERVED', 40, { tlp: 'AMBER' }],
      ['LMX-MISP-MIXED-OBSERVED', 1, { tlp: 'GREEN', releasableTo: ['cert-lv'] }],
    ],
  },
  {
    key: 'MISP-AMBER',
    incidentId: 'lmx-inc-misp-amber',
    report: { tlp: 'AMBER', releasableTo: ['cert-lv'] },
    observations: [
      ['LMX-MISP-AMBER-NOONE', 3, { tlp: 'AMBER' }],
      ['LMX-MISP-AMBER-LV', 1, { tlp: 'AMBER', releasableTo: ['cert-lv'] }],
    ],
  },
  {
    key: 'MISP-NOBODY',
    incidentId: 'lmx-inc-misp-nobody',
    report: { tlp: 'GREEN', releasableTo: ['cert-lv'] },
    update: { tlp: 'GREEN', releasableTo: ['cert-lt'] },
    observations: [['LMX-MISP-NOBODY-OBSERVED', 2, { tlp: 'GREEN', releasableTo: ['cert-lv'] }]],
  },
]
/** The MISP cases' events, as cert-ee's sensor posts them in phase C (after 09:40, by occurredAt). */
function mispCaseEvents(): EventInput[] {
  let minute = 40
  const at = () => new Date(OCCURRED_C + minute++ * 60_000).toISOString()
  const input = (fields: object) =>
    ({ id: randomUUID(), source: { organisation: 'cert-ee' }, occurredAt: at(), ...fields }) as EventInput
  return MISP_CASES.flatMap((m) => [
    input({
      type: 'incident.reported',
      marking: m.report,
      payload: {
        incidentId: m.incidentId,
        title: `LMX-${m.key}-REPORTTITLE`,
        severity: 'medium',
        category: 'scanning',
        affectedNetworks: [],
      },
    }),
    ...(m.update === undefined
      ? []
      : [
          input({
            type: 'incident.updated',
            marking: m.update,
            payload: { incidentId: m.incidentId, severity: 'high' },
          }),
        ]),
    ...m.observations.map(([indicator, count, marking]) =>
      input({ type: 'incident.observation', marking, payload: { incidentId: m.incidentId, indicator, count } }),
    ),
  ])
}

/**
 * The live picture the matrix reads: `since` far ahead, so every closed incident and every advisory
 * not about an incident kept is left out, and two cells' incidents and a missing one asked for.
 */
function liveQuery(): { since: string; include: string[] } {
  return {
    since: `2100-01-01T00:00:00.000Z`,
    include: [CELLS[0]!.incidentId, CELLS.at(-1)!.incidentId, 'lmx-inc-missing'],
  }
}
/** Its path: `include` once per id. */
function livePath({ since, include }: { since: string; include: string[] }): string {
  const params = new URLSearchParams({ scope: 'live', since })
  for (const id of include) params.append('include', id)
  return `/api/v1/state?${params}`
}

describe('leak matrix: every marking x every viewer x every path out', () => {
  let server: ServerProcess
  let url = ''
  let dir = ''
  const times: Times = { t0: '', t1: '', t2: '', t3: '' }
  const tokenOf = new Map<string, Auth>()
  const live = new Map<string, Watcher & { presence: PresenceMessage[]; beats: () => number }>()
  /** What was posted raw, with its stored seq and actor, by phase; recordedAt learnt below. */
  const posted: { event: Omit<StoredEvent, 'recordedAt'>; phase: Phase }[] = []
  /** The RED author's command events, as the server answered them. */
  const commanded: StoredEvent[] = []
  /** The phase each command event was made in: B, or C for those after the re-reports (phase D of the plan). */
  const commandPhase = new Map<string, Phase>()
  let phaseNow: Phase = 'B'
  /** The whole picture before the commands: the audience each command event must carry [C4]. */
  let truthBeforeCommands: State = initialState
  /** The whole picture before the commands after the re-reports. */
  let truthBeforeLaterCommands: State = initialState
  const taskOf = new Map<string, string>()
  const recordedAt = new Map<string, Set<string>>()
  let log: StoredEvent[] = []
  let truth: State = initialState
  let head = 0
  const seen = new Map<string, Seen>()
  const liveAcks = new Map<string, number>()
  /** Each viewer's own head [D14]: the seq of the last event it may see. */
  const ownHeads = new Map<string, number>()
  const ownHeadOf = (v: MatrixViewer) => ownHeads.get(v.key)!
  let gatheredIn = 0
  const reportOf = (c: Cell) =>
    posted.find(
      (p) =>
        p.event.type === 'incident.reported' && (p.event.payload as { incidentId: string }).incidentId === c.incidentId,
    )!.event

  /** A re-reported incident's report with this title, as stored. */
  const rereportOf = (r: Rereport, title: string) =>
    log.find(
      (e) =>
        e.type === 'incident.reported' &&
        e.payload.incidentId === r.incidentId &&
        (e.payload as { title: string }).title === title,
    )!

  // ------------------------------------------------------------ building the log

  async function postRaw(token: string, user: string, events: EventInput[], phase: Phase): Promise<void> {
    if (events.length === 0) return
    const reply = await http(url, 'POST', '/api/v1/events', token, { events })
    if (reply.status !== 201) throw new Error(`posting phase ${phase} as ${user}: ${reply.status} ${reply.text}`)
    const { results } = JSON.parse(reply.text) as { results: { id: string; seq: number }[] }
    results.forEach((result, i) => {
      const input = events[i]!
      posted.push({
        event: {
          ...input,
          marking: input.marking ?? { tlp: 'AMBER' }, // [V8]
          actor: { user, organisation: 'cert-ee' }, // [A6] the poster, whatever the body said
          seq: result.seq,
        } as Omit<StoredEvent, 'recordedAt'>,
        phase,
      })
    })
  }

  async function command(body: Record<string, unknown>): Promise<StoredEvent[]> {
    const reply = await http(url, 'POST', '/api/v1/commands', RED_AUTHOR.token!, body)
    if (reply.status !== 200) throw new Error(`command ${JSON.stringify(body)}: ${reply.status} ${reply.text}`)
    const events = (JSON.parse(reply.text) as { events: StoredEvent[] }).events
    commanded.push(...events)
    for (const e of events) commandPhase.set(e.id, phaseNow)
    return events
  }

  const between = async () => {
    await sleep(15)
    const now = new Date().toISOString()
    await sleep(15)
    return now
  }

  // ------------------------------------------------------------ reading everything

  async function gather(v: MatrixViewer): Promise<Seen> {
    const token = tokenOf.get(v.key)!
    const replies = new Map<string, Reply>()
    const get = async (label: string, path: string, accept?: string) => {
      replies.set(label, await http(url, 'GET', path, token, undefined, accept))
    }
    await get('REST events', '/api/v1/events?after=0&limit=5000')
    await get('REST state', '/api/v1/state')
    await get('REST live state', livePath(liveQuery()))
    for (const r of REPLAYS(times)) await get(`replay ${r.key}`, `/api/v1/state?${query({ at: r.at, clock: r.clock })}`)
    for (const w of WINDOWS(times))
      await get(`window ${w.key}`, `/api/v1/events?${query({ from: w.from, to: w.to, clock: w.clock, limit: '5000' })}`)
    await get('export JSON', '/api/v1/export?format=json')
    await get('export CSV', '/api/v1/export?format=csv')
    await get('export STIX', '/api/v1/export?format=stix')
    await get('MISP feed manifest', '/misp/feed/manifest.json')
    await get('TAXII objects', '/taxii2/api/collections/all/objects/', 'application/taxii+json;version=2.1')
    await get(
      `TAXII community collection`,
      `/taxii2/api/collections/community-${COMMUNITY.id}/objects/`,
      'application/taxii+json;version=2.1',
    )
    await get('MISP export of a missing incident', '/api/v1/export?format=misp&incidentId=lmx-inc-missing')
    for (const c of [...CELLS, ...REREPORTED, ...MISP_CASES])
      await get(`MISP export of ${c.key}`, `/api/v1/export?${query({ format: 'misp', incidentId: c.incidentId })}`)
    for (const c of [...CELLS, ...REREPORTED, ...MISP_CASES])
      await get(`MISP feed event of ${c.key}`, `/misp/feed/${mispEventUuid(c.incidentId)}.json`)
    await get('export JSON [t1, t2)', `/api/v1/export?${query({ format: 'json', from: times.t1, to: times.t2 })}`)
    await get('export STIX [t1, t2)', `/api/v1/export?${query({ format: 'stix', from: times.t1, to: times.t2 })}`)
    await get('MISP feed hashes', '/misp/feed/hashes.csv')
    await get('TAXII manifest', '/taxii2/api/collections/all/manifest/', 'application/taxii+json;version=2.1')
    for (const format of ['JSON', 'CSV', 'STIX'])
      await get(
        `export ${format} of a missing incident`,
        `/api/v1/export?${query({ format: format.toLowerCase(), incidentId: 'lmx-inc-missing' })}`,
      )
    for (const c of [...CELLS, ...REREPORTED]) {
      await get(`export JSON of ${c.key}`, `/api/v1/export?${query({ format: 'json', incidentId: c.incidentId })}`)
      await get(`export CSV of ${c.key}`, `/api/v1/export?${query({ format: 'csv', incidentId: c.incidentId })}`)
      await get(`export STIX of ${c.key}`, `/api/v1/export?${query({ format: 'stix', incidentId: c.incidentId })}`)
    }
    for (const h of HANDOVERS(times))
      await get(`handover ${h.key}`, `/api/v1/handover?${query({ since: h.since, until: h.until })}`)
    const shift = HANDOVERS(times)[0]
    await get(
      'handover Markdown',
      `/api/v1/handover?${query({ since: shift.since, until: shift.until })}`,
      'text/markdown',
    )
    await get('wall presets', '/api/v1/wall/presets')
    await get('session', '/api/v1/session')
    if (v.display) {
      await get('wall preset (own)', `/api/v1/wall/presets/${v.display.preset}`)
      await get('wall preset (another)', `/api/v1/wall/presets/${v.display.otherPreset}`)
    }
    // REST events again, 7 at a time: `next` moves past hidden events, never onto one
    const paged: StoredEvent[] = []
    let after = 0
    let pageHead = -1
    for (let i = 0; i < 200; i++) {
      const reply = await http(url, 'GET', `/api/v1/events?after=${after}&limit=7`, token)
      replies.set(`REST events page ${i}`, reply)
      const page = JSON.parse(reply.text) as EventPageReply
      paged.push(...page.events)
      pageHead = page.head
      if (page.next === after || page.next >= page.head) {
        after = page.next
        break
      }
      after = page.next
    }
    return {
      replies,
      paged: { events: paged, lastNext: after, head: pageHead },
      live: [],
      liveResyncs: 0,
      heads: { liveAck: -1, catchUpAck: -1, told: [] },
      catchUp: [],
      presence: [],
      viewing: new Map(),
      comments: new Map(),
      ownTaskComments: new Map(),
      crossTaskComments: new Map(),
      reusedIds: new Map(),
      accepts: new Map(),
      markings: new Map(),
    }
  }

  const view = async (w: Watcher, incidentId: string | null) =>
    (await w.socket.timeout(10_000).emitWithAck('viewing', { incidentId })) as ViewingAck
  const socketCommand = async (w: Watcher, body: Record<string, unknown>) =>
    (await w.socket.timeout(10_000).emitWithAck('command', body as never)) as CommandAck

  async function probe(v: MatrixViewer, body: Record<string, unknown>, missing: Record<string, unknown>) {
    const token = tokenOf.get(v.key)!
    const w = live.get(v.key)!
    return {
      named: tokensIn(JSON.stringify([body, missing])),
      rest: await http(url, 'POST', '/api/v1/commands', token, body),
      restMissing: await http(url, 'POST', '/api/v1/commands', token, missing),
      socket: await socketCommand(w, body),
      socketMissing: await socketCommand(w, missing),
    }
  }

  beforeAll(async () => {
    const started = Date.now()
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-leakmatrix-'))
    const tokens = join(dir, 'tokens.json')
    writeFileSync(tokens, JSON.stringify(PRINCIPALS))
    server = await startServerProcess({
      env: { WATCHFLOOR_TOKENS: tokens, WATCHFLOOR_SOCKET_BUFFER_PACKETS: '5000' },
    })
    url = server.url

    // the community, before anyone signs in or connects (a viewer's communities are read then) [V10]
    const community = await http(url, 'POST', '/api/v1/directory/communities', ADMIN, COMMUNITY)
    if (community.status !== 201) throw new Error(`community: ${community.status} ${community.text}`)
    // a partner feed speaking for cert-lv (never polled): only cert-lv's liaisons and admins may read it
    const feed = await http(url, 'POST', '/api/v1/feeds', ADMIN, {
      id: 'lmx-feed-lv',
      label: 'LMX-FEED-LV',
      url: 'http://127.0.0.1:9/taxii2/',
      apiRoot: 'api',
      collectionId: 'all',
      organisation: 'cert-lv',
      enabled: false,
    })
    if (feed.status !== 201) throw new Error(`feed: ${feed.status} ${feed.text}`)

    // display tokens and accounts, made by the admin through the API; accounts sign in
    for (const v of VIEWERS) {
      if (v.token !== undefined) {
        tokenOf.set(v.key, v.viewAs === undefined ? v.token : { token: v.token, viewAs: v.viewAs })
        continue
      }
      if (v.session !== undefined) {
        const { userId: username, organisation, nation, roles } = v.viewer
        const { password } = v.session
        const created = await http(url, 'POST', '/api/v1/accounts', ADMIN, {
          username,
          organisation,
          nation,
          roles,
          password,
        })
        if (created.status !== 201) throw new Error(`account ${v.key}: ${created.status} ${created.text}`)
        const signedIn = await http(url, 'POST', '/api/v1/session', { cookie: '' }, { username, password })
        const cookie = signedIn.headers.get('set-cookie')?.split(';')[0]
        if (signedIn.status !== 200 || !cookie) throw new Error(`sign-in ${v.key}: ${signedIn.status} ${signedIn.text}`)
        tokenOf.set(v.key, { cookie })
        continue
      }
      const made = await http(url, 'POST', '/api/v1/tokens', ADMIN, displayTokenBody(v))
      if (made.status !== 201) throw new Error(`display token ${v.key}: ${made.status} ${made.text}`)
      tokenOf.set(v.key, (JSON.parse(made.text) as { secret: string }).secret)
    }

    // one live socket per viewer, subscribed before anything is posted
    for (const v of VIEWERS) {
      const w = new Watcher(url, tokenOf.get(v.key)!)
      live.set(v.key, Object.assign(w, recordPresence(w)))
    }
    for (const [key, w] of live) {
      const ack = await w.subscribe(0)
      if (!ack.ok) throw new Error(`live socket of ${key}: ${JSON.stringify(ack)}`)
      liveAcks.set(key, ack.head ?? -1)
    }

    // the log, in three phases with a moment between them
    times.t0 = await between()
    const a = phaseA()
    await postRaw(SENSOR_EE, 'sensor-ee', a.sensor, 'A')
    await postRaw(RED_AUTHOR.token!, RED_AUTHOR.viewer.userId, a.author, 'A')
    times.t1 = await between()
    // phase B: the RED author (who may see every cell) coordinates each incident; the task is
    // assigned to an organisation that sees few cells, the comment mentions one of its people
    truthBeforeCommands = fold(
      initialState,
      posted.map((p) => ({ ...p.event, recordedAt: '' }) as StoredEvent),
    )
    for (const c of CELLS) {
      const task = {
        type: 'task.create',
        incidentId: c.incidentId,
        title: c.text.task,
        priority: 'high',
        dueAt: '2026-11-27T12:00:00.000Z',
      }
      // a task for a team its incident is not shared with is refused: nobody there could see it; those
      // cells' tasks are made with no assignee, and the team's viewers still find them missing [C1]
      const team = { kind: 'team', organisation: ASSIGNED_TEAM }
      const shared = canSee({ ...OTHER_ORG.viewer, userId: '' }, reportVisibility(c))
      if (!shared) {
        const refused = await http(url, 'POST', '/api/v1/commands', RED_AUTHOR.token!, { ...task, assignee: team })
        expect(refused.status, `${c.key}: a task for ${ASSIGNED_TEAM}: ${refused.text}`).toBe(400)
        expect(refused.text).toContain('assignee.organisation')
      }
      const [created] = await command(shared ? { ...task, assignee: team } : task)
      const taskId = (created!.payload as { taskId: string }).taskId
      taskOf.set(c.key, taskId)
      await command({ type: 'comment.post', incidentId: c.incidentId, taskId, body: `${c.text.comment} for @ana` })
    }
    // and links each cell's incident to the next cell's: a link names two incidents [C4]
    for (const [i, c] of CELLS.entries()) {
      const next = CELLS[(i + 1) % CELLS.length]!
      await command({
        type: 'incident.link',
        incidentId: c.incidentId,
        otherIncidentId: next.incidentId,
        relation: 'related',
      })
    }
    // and a task on each incident that phase C re-reports under another marking
    for (const r of REREPORTED) {
      const [created] = await command({
        type: 'task.create',
        incidentId: r.incidentId,
        title: `LMX-${r.key}-TASKTITLE`,
        priority: 'high',
        assignee: { kind: 'team', organisation: 'cert-ee' },
      })
      taskOf.set(r.key, (created!.payload as { taskId: string }).taskId)
    }
    times.t2 = await between()
    // phase C: advisories, the owner's hidden (AMBER+STRICT) updates, a stray GREEN observation
    const later = phaseC()
    await postRaw(SENSOR_EE, 'sensor-ee', later.sensor, 'C')
    await postRaw(RED_AUTHOR.token!, RED_AUTHOR.viewer.userId, later.author, 'C')
    await postRaw(SENSOR_EE, 'sensor-ee', mispCaseEvents(), 'C')
    // and, the incidents re-reported, commands on their tasks: each takes the strictest of the
    // incident's audience now and the task's own [C4]
    phaseNow = 'C'
    truthBeforeLaterCommands = fold(
      initialState,
      [...posted.map((p) => ({ ...p.event, recordedAt: '' }) as StoredEvent), ...commanded].sort(
        (x, y) => x.seq - y.seq,
      ),
    )
    for (const r of REREPORTED) {
      const taskId = taskOf.get(r.key)!
      await command({ type: 'comment.post', incidentId: r.incidentId, taskId, body: `LMX-${r.key}-TASKCOMMENT` })
      await command({ type: 'task.assign', taskId, assignee: { kind: 'user', userId: 'kadri' } })
    }
    times.t3 = await between()
    // the log's head, from its file: no response tells it [D14]
    head = await logHead(server)
    const stored = [...posted.map((p) => p.event as StoredEvent), ...commanded]
    if (Math.max(...stored.map((e) => e.seq)) !== head) throw new Error(`the log holds more than was posted (${head})`)
    for (const v of VIEWERS)
      ownHeads.set(v.key, Math.max(0, ...stored.filter((e) => canSee(v.viewer, e)).map((e) => e.seq)))
    const ownHead = ownHeadOf

    // the live sockets have everything they may see, and two heartbeats later nothing else came
    for (const v of VIEWERS) {
      const w = live.get(v.key)!
      await until(() => w.lastSeq >= ownHead(v), `the live socket of ${v.key} to reach ${ownHead(v)}`)
      const beats = w.beats()
      await until(() => w.beats() >= beats + 2, `two heartbeats on the live socket of ${v.key}`)
    }

    // everything each viewer can read over REST
    const gathered = await Promise.all(VIEWERS.map((v) => gather(v)))
    VIEWERS.forEach((v, i) => {
      seen.set(v.key, { ...gathered[i]!, heads: { ...gathered[i]!.heads, liveAck: liveAcks.get(v.key)! } })
    })
    // feeds in and out, once every viewer has pulled TAXII and the MISP feed (feeds out counts them)
    for (const v of VIEWERS)
      for (const path of ['/api/v1/feeds', '/api/v1/feeds/out', '/api/v1/people'])
        seen.get(v.key)!.replies.set(path, await http(url, 'GET', path, tokenOf.get(v.key)!))

    // recordedAt: the server's, one value per event whoever reads it
    const learn = (e: StoredEvent) => {
      const values = recordedAt.get(e.id) ?? new Set<string>()
      values.add(e.recordedAt)
      recordedAt.set(e.id, values)
    }
    commanded.forEach(learn)
    for (const s of seen.values()) {
      const reply = s.replies.get('REST events')!
      if (reply.status === 200) (JSON.parse(reply.text) as EventPageReply).events.forEach(learn)
    }
    log = [
      ...posted.map((p) => ({ ...p.event, recordedAt: [...(recordedAt.get(p.event.id) ?? [''])][0]! }) as StoredEvent),
      ...commanded,
    ].sort((x, y) => x.seq - y.seq)
    truth = fold(initialState, log)

    // catch-up: a second socket per viewer, subscribing from 0 now
    await Promise.all(
      VIEWERS.map(async (v) => {
        const w = new Watcher(url, tokenOf.get(v.key)!)
        try {
          const ack = await w.subscribe(0)
          if (!ack.ok) throw new Error(`catch-up socket of ${v.key}: ${JSON.stringify(ack)}`)
          seen.get(v.key)!.catchUp = [...w.events]
          seen.get(v.key)!.heads.catchUpAck = ack.head ?? -1
          seen.get(v.key)!.heads.told.push(...w.checkpoints, ...w.heartbeats)
        } finally {
          w.close()
        }
      }),
    )

    // presence: the RED author (who sees every cell) views each incident in turn; then every
    // person tries to view every incident (and a missing one); displays may not announce
    const announcer = live.get(RED_AUTHOR.key)!
    for (const c of [...CELLS, ...REREPORTED]) {
      const ack = await view(announcer, c.incidentId)
      if (!ack.ok) throw new Error(`the RED author could not view ${c.incidentId}: ${JSON.stringify(ack)}`)
    }
    await view(announcer, null)
    await Promise.all(
      VIEWERS.map(async (v) => {
        const w = live.get(v.key)!
        const s = seen.get(v.key)!
        for (const c of [...CELLS, ...REREPORTED]) {
          const ack = await view(w, c.incidentId)
          const missing = await view(w, `${c.incidentId}-missing`)
          s.viewing.set(c.key, { ack, missing })
        }
        if (!readOnlyOf(v)) await view(w, null)
      }),
    )
    // the sentinel: once every person has the open incident's presence sent after all of the
    // above (in order, per socket), nothing earlier is in flight; displays: two heartbeats later
    const marks = new Map(VIEWERS.map((v) => [v.key, live.get(v.key)!.presence.length]))
    const beats = new Map(VIEWERS.map((v) => [v.key, live.get(v.key)!.beats()]))
    await view(announcer, OPEN_CELL.incidentId)
    for (const v of VIEWERS) {
      const w = live.get(v.key)!
      if (readOnlyOf(v)) await until(() => w.beats() >= beats.get(v.key)! + 2, `heartbeats on ${v.key}`)
      else
        await until(
          () =>
            w.presence
              .slice(marks.get(v.key)!)
              .some(
                (m) =>
                  m.incidentId === OPEN_CELL.incidentId && m.viewers.some((p) => p.user === RED_AUTHOR.viewer.userId),
              ),
          `the sentinel presence on ${v.key}`,
        )
    }
    await view(announcer, null)

    // command refusals: never appended (expectedVersion 1000 fails on whatever is visible)
    await Promise.all(
      VIEWERS.map(async (v) => {
        const s = seen.get(v.key)!
        for (const c of CELLS) {
          const body = { type: 'comment.post', incidentId: c.incidentId, body: 'probe', expectedVersion: 1000 }
          s.comments.set(c.key, await probe(v, body, { ...body, incidentId: `${c.incidentId}-missing` }))
          const taskId = taskOf.get(c.key)!
          const own = { ...body, taskId }
          s.ownTaskComments.set(c.key, await probe(v, own, { ...own, taskId: `${taskId}-missing` }))
          const accept = { type: 'task.accept', taskId, expectedVersion: 1000 }
          s.accepts.set(c.key, await probe(v, accept, { ...accept, taskId: `${taskId}-missing` }))
          const marking = { type: 'incident.set_marking', incidentId: c.incidentId, marking: { tlp: 'AMBER+STRICT' } }
          const remark = { ...marking, expectedVersion: 1000 }
          s.markings.set(c.key, await probe(v, remark, { ...remark, incidentId: `${c.incidentId}-missing` }))
          if (c === OPEN_CELL) continue
          const cross = { ...own, incidentId: OPEN_CELL.incidentId }
          s.crossTaskComments.set(c.key, await probe(v, cross, { ...cross, taskId: `${taskId}-missing` }))
        }
        for (const r of REREPORTED) {
          const body = { type: 'comment.post', incidentId: r.incidentId, body: 'probe', expectedVersion: 1000 }
          s.comments.set(r.key, await probe(v, body, { ...body, incidentId: `${r.incidentId}-missing` }))
        }
      }),
    )
    // [A2, A5] an import re-reporting every cell's incident: refused per event for anyone but the owner
    // organisation (whose import would change the log, so it does not try)
    await Promise.all(
      VIEWERS.filter((v) => v.viewer.organisation !== 'cert-ee').map(async (v) => {
        seen.get(v.key)!.imported = await http(url, 'POST', '/api/v1/import/stix', tokenOf.get(v.key)!, TAKEOVER)
      }),
    )

    // [L3] an id reused with other content: refused (nothing appended), the seq told only to who may see it
    await Promise.all(
      VIEWERS.map(async (v) => {
        for (const c of CELLS) {
          const report = reportOf(c)
          const reuse = {
            id: report.id,
            type: 'incident.observation',
            occurredAt: report.occurredAt,
            source: { organisation: v.viewer.organisation },
            marking: { tlp: 'CLEAR' },
            payload: { incidentId: 'lmx-reuse-probe', count: 1 },
          }
          seen.get(v.key)!.reusedIds.set(c.key, await http(url, 'POST', '/api/v1/events', tokenOf.get(v.key)!, reuse))
        }
      }),
    )
    for (const v of VIEWERS) {
      const w = live.get(v.key)!
      const s = seen.get(v.key)!
      s.live = [...w.events]
      s.liveResyncs = w.resyncs.length
      s.heads.told.push(...w.checkpoints, ...w.heartbeats)
      s.presence = [...w.presence]
    }
    gatheredIn = Date.now() - started
  }, 120_000)

  afterAll(async () => {
    for (const w of live.values()) w.close()
    await server?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  // ------------------------------------------------------------ expectations (core only)

  const expectations = new Map<string, Expected>()
  function expected(v: MatrixViewer): Expected {
    const cached = expectations.get(v.key)
    if (cached) return cached
    const visible = log.filter((e) => canSee(v.viewer, e))
    const state = fold(initialState, visible)
    const everything = new Set(log.flatMap((e) => [...tokensIn(JSON.stringify(e))]))
    const allowed = new Set(visible.flatMap((e) => [...tokensIn(JSON.stringify(e))]))
    const forbidden = new Set([...everything].filter((t) => !allowed.has(t)))
    const handoverForbidden = new Set(forbidden)
    for (const c of CELLS) {
      if (!state.incidents.has(c.incidentId))
        for (const t of [c.incidentId, c.text.title, c.text.summary, c.text.secret]) handoverForbidden.add(t)
      if (!state.advisories.has(c.advisoryId))
        for (const t of [c.advisoryId, c.text.advisoryTitle]) handoverForbidden.add(t)
    }
    const result = { visible, state, forbidden, handoverForbidden }
    expectations.set(v.key, result)
    return result
  }

  /** A readable name of an event: its seq, type and cell. */
  function label(e: StoredEvent): string {
    const incident = incidentOf(e, truth) ?? (e.type === 'advisory.published' ? e.payload.incidentId : undefined)
    const c = CELLS.find((x) => x.incidentId === incident)
    const m = e.marking
    const marking = [m.tlp, m.releasableTo && `releasableTo ${m.releasableTo}`, m.recipients && `to ${m.recipients}`]
    return `seq ${e.seq} ${e.type} of ${c?.key ?? 'no cell'} (${marking.filter(Boolean).join(', ')})`
  }

  function expectEvents(v: MatrixViewer, path: string, actual: StoredEvent[], wanted: StoredEvent[]): void {
    const want = new Set(wanted.map((e) => e.id))
    const got = new Set(actual.map((e) => e.id))
    const where = `${v.key} (${v.label}) on ${path}`
    expect(
      {
        leaked: actual.filter((e) => !want.has(e.id)).map(label),
        missing: wanted.filter((e) => !got.has(e.id)).map(label),
      },
      `${where}: events it may not see, or may see but did not get`,
    ).toEqual({ leaked: [], missing: [] })
    expect(
      actual.map((e) => e.seq),
      `${where}: in seq order, each once`,
    ).toEqual(wanted.map((e) => e.seq))
    expect(actual, `${where}: the envelopes as stored`).toEqual(wanted)
  }

  function expectState(v: MatrixViewer, path: string, actual: StateJson, wanted: StateJson): void {
    const where = `${v.key} (${v.label}) on ${path}`
    const ids = (s: StateJson) => ({
      incidents: s.incidents.map((i) => i.incidentId).sort(),
      advisories: s.advisories.map((a) => a.advisoryId).sort(),
      networks: s.networks.map((n) => n.networkId).sort(),
      tasks: s.tasks.map((t) => t.title).sort(),
      comments: s.comments.map((c) => c.body).sort(),
    })
    expect(ids(actual), `${where}: which incidents, advisories, networks, tasks and comments`).toEqual(ids(wanted))
    expect(
      openCountsBySeverity(stateFromJson(actual)),
      `${where}: open incidents by severity (a hidden update must not move them)`,
    ).toEqual(openCountsBySeverity(stateFromJson(wanted)))
    expect(
      actual.incidents.map((i) => [i.incidentId, i.severity, i.status, i.version, i.summary]),
      `${where}: each incident's severity, status, version and summary`,
    ).toEqual(wanted.incidents.map((i) => [i.incidentId, i.severity, i.status, i.version, i.summary]))
    expect(
      actual.recent.map((e) => e.seq),
      `${where}: the recent list`,
    ).toEqual(wanted.recent.map((e) => e.seq))
    expect({ seq: actual.seq, eventCount: actual.eventCount }, `${where}: seq and eventCount`).toEqual({
      seq: wanted.seq,
      eventCount: wanted.eventCount,
    })
    expect(actual, `${where}: the whole picture equals core's fold of the visible events`).toEqual(wanted)
  }

  function reply(v: MatrixViewer, labelOf: string): Reply {
    const r = seen.get(v.key)?.replies.get(labelOf)
    if (!r) throw new Error(`${v.key}: nothing gathered for ${labelOf}`)
    return r
  }
  function json<T>(v: MatrixViewer, labelOf: string): T {
    const r = reply(v, labelOf)
    expect(r.status, `${v.key} ${labelOf}: ${r.text.slice(0, 300)}`).toBe(200)
    return JSON.parse(r.text) as T
  }

  /** [C1] An export of one incident it may not see: 404, answered as for an id that does not exist. */
  function expectMissingExport(
    v: MatrixViewer,
    format: 'JSON' | 'CSV' | 'STIX',
    key: string,
    incidentId: string,
  ): void {
    const where = `${v.key} (${v.label}): export ${format} of ${key}`
    const r = reply(v, `export ${format} of ${key}`)
    const missing = reply(v, `export ${format} of a missing incident`)
    expect(r.status, `${where}: ${r.text.slice(0, 200)}`).toBe(404)
    expect(r.text.replace(incidentId, 'ID'), `${where}: as a missing one`).toBe(
      missing.text.replace('lmx-inc-missing', 'ID'),
    )
  }

  function expectCsv(v: MatrixViewer, path: string, text: string, wanted: StoredEvent[], state: State): void {
    const rows = parseCsv(text)
    expect(rows[0], `${v.key} ${path}: header`).toEqual([
      'seq',
      'id',
      'type',
      'occurredAt',
      'recordedAt',
      'sourceOrganisation',
      'sourceNetwork',
      'actor',
      'tlp',
      'releasableTo',
      'recipients',
      'incidentId',
      'summary',
      'payload',
      'pap',
    ])
    const body = rows.slice(1)
    expect(
      body.map((r) => Number(r[0])),
      `${v.key} (${v.label}) on ${path}: rows leaked / missing (seqs)`,
    ).toEqual(wanted.map((e) => e.seq))
    const row = (e: StoredEvent) => [
      String(e.seq),
      ...[
        e.id,
        e.type,
        e.occurredAt,
        e.recordedAt,
        e.source.organisation,
        e.source.network ?? '',
        e.actor?.user ?? '',
        e.marking.tlp,
        e.marking.releasableTo?.join(';') ?? '',
        e.marking.recipients?.join(';') ?? '',
        incidentOf(e, state) ?? '',
        summarise(e),
      ].map(csvText),
    ]
    expect(
      body.map((r) => r.slice(0, 13)),
      `${v.key} on ${path}: the cells`,
    ).toEqual(wanted.map(row))
    expect(
      body.map((r) => JSON.parse(r[13]!) as unknown),
      `${v.key} on ${path}: the payloads`,
    ).toEqual(wanted.map((e) => e.payload))
    expect(
      body.map((r) => r[14]),
      `${v.key} on ${path}: the PAP`,
    ).toEqual(wanted.map((e) => e.marking.pap ?? ''))
  }

  // ------------------------------------------------------------ the log itself

  describe('the log', () => {
    it('[L1, L5] was built as planned: gap-free seqs, one recordedAt per event, inside its phase', () => {
      expect(
        log.map((e) => e.seq),
        'seqs',
      ).toEqual(Array.from({ length: head }, (_, i) => i + 1))
      const unseen = posted.filter((p) => !recordedAt.has(p.event.id)).map((p) => p.event.seq)
      expect(unseen, 'posted events no viewer received (the RED author sees every one)').toEqual([])
      const ambiguous = [...recordedAt].filter(([, values]) => values.size !== 1).map(([id]) => id)
      expect(ambiguous, 'events with several recordedAt').toEqual([])
      const bounds: Record<Phase, [string, string]> = {
        A: [times.t0, times.t1],
        B: [times.t1, times.t2],
        C: [times.t2, times.t3],
      }
      const phased = [
        ...posted.map((p) => [p.event.id, p.phase] as const),
        ...commanded.map((e) => [e.id, commandPhase.get(e.id)!] as const),
      ]
      const outside = phased.filter(([id, phase]) => {
        const at = Date.parse([...recordedAt.get(id)!][0]!)
        return !(at > Date.parse(bounds[phase][0]) && at < Date.parse(bounds[phase][1]))
      })
      expect(outside, 'events recorded outside their phase (the replay moments rely on it)').toEqual([])
      console.info(
        `leak matrix: ${CELLS.length} cells x ${VIEWERS.length} viewers, ${head} events; built and read in ${gatheredIn} ms`,
      )
    })

    it('[A6, V8] every raw event is stored with the poster as actor and AMBER when it gave no marking', () => {
      const author = seen.get(RED_AUTHOR.key)!
      const stored = new Map(
        (JSON.parse(author.replies.get('REST events')!.text) as EventPageReply).events.map((e) => [e.id, e]),
      )
      for (const { event } of posted) {
        const copy = stored.get(event.id)
        expect(copy?.actor, `actor of ${label(copy ?? (event as StoredEvent))}`).toEqual(event.actor)
        expect(copy?.marking, `marking of ${label(copy ?? (event as StoredEvent))}`).toEqual(event.marking)
      }
      const fallback = CELLS.find((c) => c.marking === undefined)!
      expect(truth.incidents.get(fallback.incidentId)?.marking).toEqual({ tlp: 'AMBER' })
    })

    it("[C4] every command event carries its incident's audience (RED adds the author to the recipients); a link, the strictest of both incidents'", () => {
      const inB = commanded.filter((e) => commandPhase.get(e.id) === 'B')
      expect(inB).toHaveLength(CELLS.length * 3 + REREPORTED.length)
      for (const e of inB) {
        const incidentId = incidentOf(e, truth)!
        const audience = (id: string) => audienceMarking(truthBeforeCommands.incidents.get(id)!)
        const marking =
          e.type === 'incident.linked'
            ? strictestMarking(audience(incidentId), audience(e.payload.otherIncidentId))
            : audience(incidentId)
        expect(e.marking, `marking of ${label(e)}`).toEqual(marking)
        expect(e.source, `source of ${label(e)}`).toEqual({ organisation: 'cert-ee' })
        expect(e.actor, `actor of ${label(e)}`).toEqual({ user: RED_AUTHOR.viewer.userId, organisation: 'cert-ee' })
      }
    })

    it('[C4] a command on a task after its incident was re-reported takes the strictest of the incident’s audience and the task’s', () => {
      const later = commanded.filter((e) => commandPhase.get(e.id) === 'C')
      expect(later).toHaveLength(REREPORTED.length * 2)
      for (const e of later) {
        const taskId = (e.payload as { taskId: string }).taskId
        const task = truthBeforeLaterCommands.tasks.get(taskId)!
        const incident = truthBeforeLaterCommands.incidents.get(task.incidentId)!
        expect(e.marking, `marking of ${label(e)}`).toEqual(strictestMarking(audienceMarking(incident), task.marking))
      }
    })

    it('[C4] an event about a task reaches only who may see the task', () => {
      const created = new Map(
        log.filter((e) => e.type === 'task.created').map((e) => [(e.payload as { taskId: string }).taskId, e]),
      )
      const strays: string[] = []
      for (const v of VIEWERS)
        for (const e of log) {
          const taskId = (e.payload as { taskId?: string }).taskId
          if (taskId === undefined || e.type === 'task.created' || !canSee(v.viewer, e)) continue
          if (!canSee(v.viewer, created.get(taskId)!)) strays.push(`${v.key}: ${label(e)}`)
        }
      expect(strays).toEqual([])
    })

    it('[R12] the re-reported incidents: narrowed, some hold the first report and some the second; widened, some the second and some none', () => {
      const held = (key: string) => {
        const r = REREPORTED.find((x) => x.key === key)!
        const titles = VIEWERS.map((v) => expected(v).state.incidents.get(r.incidentId)?.title ?? 'none')
        return [...new Set(titles)].sort()
      }
      expect(held('NARROWED')).toEqual(['LMX-NARROWED-FIRSTTITLE', 'LMX-NARROWED-SECONDTITLE'])
      expect(held('WIDENED')).toEqual(['LMX-WIDENED-SECONDTITLE', 'none'])
    })

    it('[V7] two people with the same audienceKey (cert-ee, EE) get the same non-RED events on every event path', () => {
      const kadri = VIEWERS.find((v) => v.key === 'author-org')!
      const nonRed = (events: StoredEvent[]) => events.filter((e) => e.marking.tlp !== 'RED').map((e) => e.seq)
      const paths = (v: MatrixViewer) => {
        const s = seen.get(v.key)!
        return {
          live: nonRed(s.live),
          catchUp: nonRed(s.catchUp),
          rest: nonRed(json<EventPageReply>(v, 'REST events').events),
          export: nonRed(json<StoredEvent[]>(v, 'export JSON')),
        }
      }
      expect(paths(kadri)).toEqual(paths(RED_AUTHOR))
      expect(paths(kadri).rest.length).toBeGreaterThan(0)
    })
  })

  // ------------------------------------------------------------ per viewer: every path, exactly

  describe.each(VIEWERS)('$key: $label', (v) => {
    it('[V1-V9] live stream (subscribed before posting): exactly the visible events, in seq order', () => {
      expect(seen.get(v.key)!.liveResyncs, 'resyncs').toBe(0)
      expectEvents(v, 'the live stream', seen.get(v.key)!.live, expected(v).visible)
    })

    it('[C4] its picture links an incident only to incidents it may see', () => {
      const { state } = expected(v)
      const named = [...state.incidents.values()].flatMap((i) =>
        (i.links ?? []).map((l) => [i.incidentId, l.incidentId]),
      )
      expect(
        named.filter(([, other]) => !state.incidents.has(other!)),
        `${v.key}: links to incidents it may not see`,
      ).toEqual([])
      // and every link it may see: each pair of neighbouring cells it sees both of, on both incidents
      const pairs = CELLS.filter((c, k) => {
        const next = CELLS[(k + 1) % CELLS.length]!
        return state.incidents.has(c.incidentId) && state.incidents.has(next.incidentId)
      })
      expect(named.length, `${v.key}: links it may see`).toBe(2 * pairs.length)
    })

    it('[V1-V9] catch-up (a socket subscribing from 0 afterwards): exactly the visible events', () => {
      expectEvents(v, 'socket catch-up', seen.get(v.key)!.catchUp, expected(v).visible)
    })

    it('[V1-V9] REST GET /api/v1/events: exactly the visible events, in one page and paged by 7', () => {
      const page = json<EventPageReply>(v, 'REST events')
      expectEvents(v, 'GET /api/v1/events', page.events, expected(v).visible)
      // the viewer's own head [D14], not the log's
      const own = ownHeadOf(v)
      expect({ next: page.next, head: page.head }, `${v.key}: cursor`).toEqual({ next: own, head: own })
      const paged = seen.get(v.key)!.paged
      expectEvents(v, 'GET /api/v1/events paged by 7', paged.events, expected(v).visible)
      expect({ next: paged.lastNext, head: paged.head }, `${v.key}: the paged cursor ends at its head`).toEqual({
        next: own,
        head: own,
      })
    })

    it('[D14] every head it is told is its own: live and catch-up acks, checkpoints, heartbeats, state, pages, export', () => {
      const own = ownHeadOf(v)
      const s = seen.get(v.key)!
      expect(s.heads.liveAck, `${v.key}: the live subscribe ack`).toBe(0)
      expect(s.heads.catchUpAck, `${v.key}: the catch-up subscribe ack`).toBe(own)
      expect(Math.max(0, ...s.heads.told), `${v.key}: checkpoints and heartbeats`).toBe(own)
      expect(json<StateJson>(v, 'REST state').seq, `${v.key}: the picture's seq`).toBe(own)
      for (const path of ['export JSON', 'export CSV']) {
        const reply = s.replies.get(path)!
        expect(reply.headers.get('x-watchfloor-head'), `${v.key} ${path}: X-Watchfloor-Head`).toBe(String(own))
        expect(reply.headers.get('content-disposition'), `${v.key} ${path}: file name`).toContain(`-to-seq-${own}.`)
      }
      for (const w of WINDOWS(times)) {
        const page = json<EventPageReply>(v, `window ${w.key}`)
        expect(page.head, `${v.key} window ${w.key}: head`).toBe(own)
      }
    })

    it("[A8] feeds in and out: an admin reads every organisation's, a liaison or coordinator its own only, viewing as: what both may", () => {
      const { viewer } = v
      const admin = viewer.roles.includes('admin')
      const as = viewer.viewingAs
      const mayRead = (organisation: string) =>
        as === undefined
          ? admin || organisation === viewer.organisation
          : as.kind === 'organisation' && as.id === organisation && (admin || as.id === viewer.organisation)
      const readers = ['admin', 'liaison', 'coordinator']
      const feeds = reply(v, '/api/v1/feeds')
      const out = reply(v, '/api/v1/feeds/out')
      // a wall display reads the picture, not the sharing pages
      if (v.display !== undefined || !viewer.roles.some((role) => readers.includes(role))) {
        expect([feeds.status, out.status], `${v.key}: feeds in and out`).toEqual([403, 403])
        return
      }
      expect(out.status, `${v.key}: ${out.text.slice(0, 200)}`).toBe(200)
      const rows = (JSON.parse(out.text) as FeedsOutReply).activity
      expect(
        rows.filter((row) => !mayRead(row.organisation)).map((row) => row.organisation),
        `${v.key}: pulls of organisations it may not read`,
      ).toEqual([])
      // every organisation it may read that pulled appears (each viewer pulled TAXII and the MISP feed)
      const pulled = new Set(VIEWERS.filter((p) => p.viewer.viewingAs === undefined).map((p) => p.viewer.organisation))
      expect([...new Set(rows.map((row) => row.organisation))].sort(), `${v.key}: pulls it may read`).toEqual(
        [...pulled].filter(mayRead).sort(),
      )
      if (viewer.roles.includes('liaison') || admin) {
        expect(feeds.status, `${v.key}: ${feeds.text.slice(0, 200)}`).toBe(200)
        const listed = (JSON.parse(feeds.text) as FeedsReply).feeds.map((f) => f.id)
        expect(listed, `${v.key}: feeds`).toEqual(mayRead('cert-lv') ? ['lmx-feed-lv'] : [])
      } else expect(feeds.status, `${v.key}: feeds`).toBe(403)
    })

    it('[C2, C4, A7] the people directory: only persons of its own organisation, teams only for those who may assign', () => {
      const { viewer } = v
      const readOnly = v.display !== undefined || v.viewAs !== undefined
      const actor = { ...viewer, readOnly }
      const assign = may(actor, 'task.assign')
      const mention = may(actor, 'comment.post')
      const reply = json<{
        people: { userId: string; organisation: string }[]
        teams: { organisation: string; communities?: string[] }[]
        communities?: string[]
        may: { assign: boolean; mention: boolean }
      }>(v, '/api/v1/people')
      expect(reply.may, `${v.key}: what it may do`).toEqual({ assign, mention })
      // every person the matrix knows (static tokens and accounts), from the fixtures, not the server
      const known = [
        ...PRINCIPALS.map((p) => ({ userId: p.user, organisation: p.organisation, roles: p.roles })),
        ...VIEWERS.filter((x) => x.session !== undefined).map((x) => ({
          userId: x.viewer.userId,
          organisation: x.viewer.organisation,
          roles: x.viewer.roles,
        })),
      ]
      const wanted =
        assign || mention
          ? [
              ...new Set(
                known
                  .filter((p) => p.organisation === viewer.organisation && p.roles.some((r) => r !== 'sensor'))
                  .map((p) => p.userId),
              ),
            ].sort()
          : []
      expect(reply.people.map((p) => p.userId).sort(), `${v.key}: people`).toEqual(wanted)
      expect(
        reply.people.filter((p) => p.organisation !== viewer.organisation),
        `${v.key}: people of another organisation`,
      ).toEqual([])
      // no account or token of another organisation is named anywhere in the answer
      const text = reply.people.length === 0 ? JSON.stringify(reply) : JSON.stringify(reply.teams)
      const others = known.filter((p) => p.organisation !== viewer.organisation && !wanted.includes(p.userId))
      expect(
        others.filter((p) => text.includes(`"${p.userId}"`)).map((p) => p.userId),
        `${v.key}: accounts of others`,
      ).toEqual([])
      if (assign)
        expect(
          reply.teams.map((t) => t.organisation),
          `${v.key}: its own team`,
        ).toContain(viewer.organisation)
      else expect(reply.teams, `${v.key}: teams`).toEqual([])
      // [C19, A8] a team's communities are only those it shares with the caller, whose own are its own
      const mine = viewer.communities ?? []
      for (const team of reply.teams)
        expect(
          (team.communities ?? []).filter((c) => !mine.includes(c)),
          `${v.key}: communities of ${team.organisation} it is not in`,
        ).toEqual([])
      expect(reply.communities, `${v.key}: its own communities`).toEqual(assign ? [...mine] : undefined)
    })

    it("[V1-V9, R3, R11, R12] GET /api/v1/state: core's fold of the visible events (incidents, advisories, counts, recent)", () => {
      expectState(v, 'GET /api/v1/state', json<StateJson>(v, 'REST state'), stateToJson(expected(v).state))
    })

    it("[V1-V9] GET /api/v1/state?scope=live: core's live cut of its own picture; what is left out, and what `include` brings, of its own picture only", () => {
      const scope = liveQuery()
      const live = livePicture(expected(v).state, {
        sinceMs: Date.parse(scope.since),
        include: scope.include,
      })
      const wanted = JSON.parse(JSON.stringify(liveStateToJson(live.state, live.omitted)))
      const answer = json<LiveStateJson>(v, 'REST live state')
      expect(answer, `${v.key}: the live picture`).toEqual(wanted)
      // something is left out, all of it of its own picture: each closed twin it may see (no task, no
      // link), and the incident closed by an AMBER+STRICT update where it sees that update
      const own = expected(v).state.incidents
      const twins = CELLS.filter((c) => own.has(closedTwinOf(c))).length
      const quietlyClosed = own.get(QUIETLY_CLOSED)?.status === 'closed'
      expect(twins, `${v.key}: twins it may see`).toBeGreaterThan(0)
      expect(answer.omitted.incidents, `${v.key}: incidents left out`).toBe(twins + (quietlyClosed ? 1 : 0))
      for (const c of CELLS)
        expect(
          answer.incidents.some((i) => i.incidentId === closedTwinOf(c)),
          c.key,
        ).toBe(false)
      // still open for whoever does not see the update: kept, and nothing says it was closed
      const kept = answer.incidents.find((i) => i.incidentId === QUIETLY_CLOSED)
      expect(kept === undefined, `${v.key}: ${QUIETLY_CLOSED} left out`).toBe(quietlyClosed)
      if (kept) expect(kept.status, v.key).not.toBe('closed')
    })

    it('[P1, P3] replay GET /api/v1/state?at=: the fold of the visible events up to the moment, on both clocks', () => {
      for (const r of REPLAYS(times)) {
        const wanted = stateToJson(replayFromScratch(log, (e) => canSee(v.viewer, e), r.clock, Date.parse(r.at)))
        expectState(v, `replay ${r.key}`, json<StateJson>(v, `replay ${r.key}`), wanted)
      }
    })

    it('[P4] window GET /api/v1/events?from=&to=&clock=: exactly the visible events of the window', () => {
      for (const w of WINDOWS(times)) {
        const from = w.from === undefined ? Number.NEGATIVE_INFINITY : Date.parse(w.from)
        const to = w.to === undefined ? Number.POSITIVE_INFINITY : Date.parse(w.to)
        const wanted = expected(v).visible.filter((e) => {
          const t = Date.parse(w.clock === 'recorded' ? e.recordedAt : e.occurredAt)
          return t >= from && t < to
        })
        const page = json<EventPageReply>(v, `window ${w.key}`)
        expectEvents(v, `window ${w.key}`, page.events, wanted)
        expect(page.next, `${v.key} window ${w.key}: exhausted`).toBe(ownHeadOf(v))
      }
    })

    it('[P4] export: JSON and CSV of the whole log, and JSON of a window, hold exactly the visible events', () => {
      const { visible, state } = expected(v)
      expectEvents(v, 'export JSON', json<StoredEvent[]>(v, 'export JSON'), visible)
      const csv = reply(v, 'export CSV')
      expect(csv.status).toBe(200)
      expectCsv(v, 'export CSV', csv.text, visible, state)
      const t1 = Date.parse(times.t1)
      const t2 = Date.parse(times.t2)
      const inWindow = visible.filter((e) => Date.parse(e.recordedAt) >= t1 && Date.parse(e.recordedAt) < t2)
      expectEvents(v, 'export JSON [t1, t2)', json<StoredEvent[]>(v, 'export JSON [t1, t2)'), inWindow)
    })

    it('[P4] export as STIX 2.1: exactly its incidents, advisories and observations, each with its TLP marking', () => {
      const reply = seen.get(v.key)!.replies.get('export STIX')!
      expect(reply.status, `${v.key}: ${reply.text.slice(0, 300)}`).toBe(200)
      expect(reply.headers.get('content-type')).toBe('application/stix+json;version=2.1')
      const bundle = JSON.parse(reply.text) as { type: string; objects: Record<string, unknown>[] }
      expect(bundle.type).toBe('bundle')
      const { state, visible } = expected(v)
      const of = (type: string) => bundle.objects.filter((o) => o.type === type)
      expect(
        of('incident')
          .map((o) => o.x_watchfloor_incident_id)
          .sort(),
        `${v.key}: STIX incidents`,
      ).toEqual([...state.incidents.keys()].sort())
      expect(of('sighting').map((o) => o.id).length, `${v.key}: one sighting per visible observation`).toBe(
        visible.filter((e) => e.type === 'incident.observation').length,
      )
      expect(of('report').length, `${v.key}: STIX reports (advisories)`).toBe(state.advisories.size)
      // every object that may carry a marking carries its TLP, and the bundle defines it
      // every object as the OASIS schema of its type wants it
      for (const object of bundle.objects)
        expect(schemaErrors(object) ?? [], `${v.key}: ${String(object.type)} ${String(object.id)}`).toEqual([])
      const defined = new Set(of('marking-definition').map((o) => o.id))
      for (const object of bundle.objects) {
        if (object.type === 'marking-definition') continue
        const refs = object.object_marking_refs as string[] | undefined
        if (['incident', 'sighting', 'observed-data', 'report'].includes(String(object.type)))
          expect(refs?.length, `${v.key}: ${String(object.type)} without a marking`).toBeGreaterThan(0)
        for (const ref of refs ?? []) expect(defined.has(ref), `${v.key}: ${ref} is defined in the bundle`).toBe(true)
      }
      // each incident carries the strictest marking of the visible events that shaped it (its report and a
      // stricter update: the summary it shows is the update's)
      const SHAPING = [
        'incident.reported',
        'incident.updated',
        'incident.acknowledged',
        'incident.escalated',
        'incident.status_changed',
        'incident.network_state_set',
      ]
      for (const incident of of('incident')) {
        const incidentId = String(incident.x_watchfloor_incident_id)
        const tlp = visible
          .filter((e) => SHAPING.includes(e.type) && incidentOf(e, state) === incidentId)
          .reduce((m, e) => strictestMarking(m, e.marking), state.incidents.get(incidentId)!.marking).tlp
        const names = (incident.object_marking_refs as string[]).map(
          (ref) => of('marking-definition').find((d) => d.id === ref)!.name,
        )
        expect(names, `${v.key}: ${String(incident.x_watchfloor_incident_id)}`).toContain(`TLP:${tlp}`)
        // [M1] it says no more than its marking: its count and its modified come from nothing stricter
        const within = visible.filter(
          (e) =>
            incidentOf(e, state) === incidentId &&
            (SHAPING.includes(e.type) || e.type === 'incident.observation') &&
            tlpRank(e.marking.tlp) <= tlpRank(tlp),
        )
        const counted = within
          .filter((e) => e.type === 'incident.observation')
          .reduce((n, e) => n + ((e.payload as { count?: number }).count ?? 1), 0)
        expect(
          Number(incident.x_watchfloor_observation_count),
          `${v.key}: ${incidentId} counts no stricter observation`,
        ).toBeLessThanOrEqual(counted)
        const latest = Math.max(...within.map((e) => Date.parse(e.recordedAt)))
        expect(Date.parse(String(incident.modified)), `${v.key}: ${incidentId} modified`).toBeLessThanOrEqual(latest)
      }
    })

    it('[P4] TAXII 2.1: the collection of all it may see holds exactly its STIX; the community collection only what names the community', () => {
      const r = reply(v, 'TAXII objects')
      // TAXII reads tokens only (a session is 401); a view as another audience is one here too [V11]
      if (v.session) {
        expect(r.status, v.key).toBe(401)
        return
      }
      expect(r.status, `${v.key}: ${r.text.slice(0, 300)}`).toBe(200)
      expect(r.headers.get('content-type')).toBe('application/taxii+json;version=2.1')
      const envelope = JSON.parse(r.text) as { more?: boolean; objects?: Record<string, unknown>[] }
      expect(envelope.more ?? false, `${v.key}: one page`).toBe(false)
      const own = v.viewer
      const visible = log.filter((e) => canSee(own, e))
      const state = fold(initialState, visible)
      const incidents = (envelope.objects ?? [])
        .filter((o) => o.type === 'incident')
        .map((o) => o.x_watchfloor_incident_id)
      expect(incidents.sort(), `${v.key}: TAXII incidents`).toEqual([...state.incidents.keys()].sort())
      const sightings = (envelope.objects ?? []).filter((o) => o.type === 'sighting').length
      expect(sightings, `${v.key}: one sighting per visible observation`).toBe(
        visible.filter((e) => e.type === 'incident.observation').length,
      )
      for (const object of envelope.objects ?? [])
        expect(schemaErrors(object) ?? [], `${v.key}: ${String(object.type)} ${String(object.id)}`).toEqual([])
      // the community's collection: a member (or an admin) reads what names the community; anyone else, nothing
      const community = reply(v, 'TAXII community collection')
      const member = (own.communities ?? []).includes(COMMUNITY.id) || own.roles.includes('admin')
      // a view as another audience: the collections are the caller's (its communities), the objects what both may see
      if (!member) {
        expect(community.status, `${v.key}: no community collection`).toBe(404)
        return
      }
      expect(community.status, `${v.key}: ${community.text.slice(0, 300)}`).toBe(200)
      const named = visible.filter((e) => e.marking.releasableTo?.includes(COMMUNITY.id))
      const inCommunity = ((JSON.parse(community.text) as { objects?: Record<string, unknown>[] }).objects ?? [])
        .filter((o) => o.type === 'sighting')
        .map((o) => o.x_watchfloor_incident_id)
        .sort()
      expect(inCommunity, `${v.key}: the community's sightings`).toEqual(
        named
          .filter((e) => e.type === 'incident.observation')
          .map((e) => (e.payload as { incidentId: string }).incidentId)
          .sort(),
      )
    })

    it('[P4] MISP: the feed lists exactly its incidents but RED; one incident exports if it may see it, RED is 403, hidden is missing', () => {
      const { state } = expected(v)
      const manifest = json<Record<string, unknown>>(v, 'MISP feed manifest')
      const wanted = [...state.incidents.values()].filter((i) => i.marking.tlp !== 'RED')
      expect(Object.keys(manifest).sort(), `${v.key}: the feed`).toEqual(
        wanted.map((i) => mispEventUuid(i.incidentId)).sort(),
      )
      const missing = reply(v, 'MISP export of a missing incident')
      for (const c of CELLS) {
        const r = reply(v, `MISP export of ${c.key}`)
        const incident = state.incidents.get(c.incidentId)
        const where = `${v.key} (${v.label}): MISP export of ${c.key}`
        if (incident === undefined) {
          expect(r.status, where).toBe(404)
          expect(r.text.replace(c.incidentId, 'ID'), `${where}: as a missing one`).toBe(
            missing.text.replace('lmx-inc-missing', 'ID'),
          )
        } else if (incident.marking.tlp === 'RED') expect(r.status, where).toBe(403)
        else {
          expect(r.status, `${where}: ${r.text.slice(0, 200)}`).toBe(200)
          expect((JSON.parse(r.text) as { Event: { info: string } }).Event.info, where).toBe(incident.title)
        }
      }
    })

    it('[P4] export of one incident (&incidentId=), every cell, JSON and CSV: its visible events only; one it may not see is 404 like a missing one', () => {
      const { visible, state } = expected(v)
      for (const c of CELLS) {
        if (!state.incidents.has(c.incidentId)) {
          expectMissingExport(v, 'JSON', c.key, c.incidentId)
          expectMissingExport(v, 'CSV', c.key, c.incidentId)
          continue
        }
        const wanted = visible.filter((e) => incidentOf(e, state) === c.incidentId)
        expectEvents(v, `export JSON of ${c.key}`, json<StoredEvent[]>(v, `export JSON of ${c.key}`), wanted)
        const csv = reply(v, `export CSV of ${c.key}`)
        expect(csv.status).toBe(200)
        expectCsv(v, `export CSV of ${c.key}`, csv.text, wanted, state)
      }
    })

    it('[P4, M1] narrowed STIX exports (one incident, a window): the incident only if visible, marked by what shaped it; each export’s marking header covers its events', () => {
      const { state } = expected(v)
      const tlpOf = (refs: unknown, bundle: Record<string, unknown>[]) =>
        (refs as string[]).map((ref) => String(bundle.find((d) => d.id === ref)?.name ?? ''))
      for (const c of CELLS) {
        const r = reply(v, `export STIX of ${c.key}`)
        const where = `${v.key} (${v.label}): STIX export of ${c.key}`
        const incident = state.incidents.get(c.incidentId)
        // an incident it may not see exports as one that does not exist: 404, not an empty bundle
        if (incident === undefined) {
          expectMissingExport(v, 'STIX', c.key, c.incidentId)
          continue
        }
        expect(r.status, `${where}: ${r.text.slice(0, 200)}`).toBe(200)
        const objects = (JSON.parse(r.text) as { objects: Record<string, unknown>[] }).objects
        const object = objects.find((o) => o.type === 'incident' && o.x_watchfloor_incident_id === c.incidentId)
        expect(object, where).toBeDefined()
        // the same object as the whole-log export gives: what shaped it outside the one incident's events counts
        const whole = (JSON.parse(reply(v, 'export STIX').text) as { objects: Record<string, unknown>[] }).objects
        const same = whole.find((o) => o.id === object!.id)!
        expect(tlpOf(object!.object_marking_refs, objects), where).toEqual(tlpOf(same.object_marking_refs, whole))
        expect(object!.x_watchfloor_observation_count, where).toBe(same.x_watchfloor_observation_count)
        expect(object!.modified, where).toBe(same.modified)
      }
      const windowed = reply(v, 'export STIX [t1, t2)')
      expect(windowed.status, v.key).toBe(200)
      // the marking header of a STIX export is exactly the strictest TLP its objects carry: what it
      // holds, never less (a leak of a stricter object's marking) and never more (an event that makes
      // no object, a task or a comment, marks nothing)
      const stixLabels = [
        'export STIX',
        'export STIX [t1, t2)',
        ...CELLS.filter((c) => state.incidents.has(c.incidentId)).map((c) => `export STIX of ${c.key}`),
      ]
      for (const label of stixLabels) {
        const r = reply(v, label)
        const bundle = (JSON.parse(r.text) as { objects: Record<string, unknown>[] }).objects
        const carried = bundle
          .filter((o) => o.type !== 'marking-definition')
          .flatMap((o) => tlpOf(o.object_marking_refs ?? [], bundle))
          .flatMap((name) => /^TLP:([A-Z+]+)$/.exec(name)?.[1] ?? [])
        const strictest = carried.reduce((max, tlp) => Math.max(max, tlpRank(tlp as Tlp)), tlpRank('CLEAR'))
        const header = r.headers.get('x-watchfloor-marking') ?? ''
        const tlp = /^TLP:([A-Z+]+)/.exec(header)?.[1] as Tlp | undefined
        expect(tlp, `${v.key} ${label}: X-Watchfloor-Marking ${header}`).toBeDefined()
        expect(tlpRank(tlp!), `${v.key} ${label}: ${header} against its objects' ${carried.join(', ')}`).toBe(strictest)
      }
      // the marking header of an event export is at least the strictest TLP of the events it holds
      const exported = CELLS.filter((c) => state.incidents.has(c.incidentId)).map((c) => `export JSON of ${c.key}`)
      for (const label of ['export JSON', 'export JSON [t1, t2)', ...exported]) {
        const r = reply(v, label)
        const events = JSON.parse(r.text) as StoredEvent[]
        const header = r.headers.get('x-watchfloor-marking') ?? ''
        const tlp = /^TLP:([A-Z+]+)/.exec(header)?.[1] as Tlp | undefined
        expect(tlp, `${v.key} ${label}: X-Watchfloor-Marking ${header}`).toBeDefined()
        const strictest = events.reduce((max, e) => Math.max(max, tlpRank(e.marking.tlp)), tlpRank('CLEAR'))
        expect(tlpRank(tlp!), `${v.key} ${label}: ${header}`).toBe(strictest)
      }
    })

    it('[P4] TAXII manifest and MISP feed hashes: exactly the objects and values of its own collection and feed', () => {
      const manifest = reply(v, 'TAXII manifest')
      if (v.session) {
        expect(manifest.status, v.key).toBe(401)
      } else {
        expect(manifest.status, `${v.key}: ${manifest.text.slice(0, 200)}`).toBe(200)
        const listed = ((JSON.parse(manifest.text) as { objects?: { id: string }[] }).objects ?? []).map((o) => o.id)
        const objects = (
          (JSON.parse(reply(v, 'TAXII objects').text) as { objects?: { id: string }[] }).objects ?? []
        ).map((o) => o.id)
        expect(new Set(listed), `${v.key}: the manifest lists the collection's objects`).toEqual(new Set(objects))
      }
      const hashes = reply(v, 'MISP feed hashes')
      expect(hashes.status, v.key).toBe(200)
      const events = new Set(
        hashes.text
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => line.split(',')[1]),
      )
      const manifestEvents = Object.keys(json<Record<string, unknown>>(v, 'MISP feed manifest'))
      for (const uuid of events) expect(manifestEvents, `${v.key}: hashes name only its feed's events`).toContain(uuid)
    })

    it('[V4, V6, M1] MISP: each event and attribute of its exports and feed, read back by the import, reaches no one a part it holds does not; the feed serves only attributes marked as their event', () => {
      const { visible, state, forbidden } = expected(v)
      const hashes = reply(v, 'MISP feed hashes').text
      const md5 = (value: string) => createHash('md5').update(value).digest('hex')
      /** The audiences a cert-ee marking reaches that one of the held events does not (core's canSee). */
      const beyond = (marking: Marking, held: StoredEvent[]) =>
        VIEWERS.filter(
          (a) =>
            canSee(a.viewer, { source: { organisation: 'cert-ee' }, marking }) &&
            held.some((e) => !canSee(a.viewer, e)),
        ).map((a) => a.key)
      /** Whether the marking's PAP is at least that of every held event [M1]. */
      const papCovers = (marking: Marking, held: StoredEvent[]) =>
        held.every(
          (e) =>
            e.marking.pap === undefined ||
            (marking.pap !== undefined && PAP_LEVELS.indexOf(marking.pap) >= PAP_LEVELS.indexOf(e.marking.pap)),
        )
      type Document = { Event: { Attribute: { value: string; distribution: string }[] } }
      for (const c of [...CELLS, ...REREPORTED, ...MISP_CASES]) {
        const where = `${v.key} (${v.label}): MISP of ${c.key}`
        const exported = reply(v, `MISP export of ${c.key}`)
        const served = reply(v, `MISP feed event of ${c.key}`)
        const uuid = mispEventUuid(c.incidentId)
        const incident = state.incidents.get(c.incidentId)
        if (MISP_CASES.includes(c as MispCase)) {
          const leaked = [...tokensIn(exported.text)].filter((t) => forbidden.has(t) && t !== c.incidentId)
          expect(leaked, `${where}: ids or texts of what it may not see`).toEqual([])
        }
        if (incident === undefined || exported.status === 403) {
          expect(exported.status, where).toBe(incident === undefined ? 404 : 403)
          expect(served.status, `${where}: the feed event`).toBe(404)
          expect(hashes, `${where}: hashes`).not.toContain(uuid)
          continue
        }
        expect(exported.status, `${where}: ${exported.text.slice(0, 200)}`).toBe(200)
        const document = JSON.parse(exported.text) as Document
        const back = importMisp(document, { defaultMarking: { tlp: 'AMBER' }, organisation: 'cert-ee' })
        expect([back.errors, back.skipped], where).toEqual([[], []])
        const held = visible.filter((e) => incidentOf(e, state) === c.incidentId)
        const reports = held.filter(
          (e) =>
            (e.type === 'incident.reported' || e.type === 'incident.updated') && e.source.organisation === 'cert-ee',
        )
        const [report, ...observations] = back.events
        expect(beyond(report!.marking!, reports), `${where}: who the event reaches beyond its reports`).toEqual([])
        expect(papCovers(report!.marking!, reports), `${where}: the event's PAP`).toBe(true)
        const sightings = held.filter((e) => e.type === 'incident.observation' && e.marking.tlp !== 'RED')
        const indicatorOf = (e: { payload: unknown }) => (e.payload as { indicator?: string }).indicator?.trim()
        expect(observations.map(indicatorOf).sort(), `${where}: its indicators`).toEqual(
          [...new Set(sightings.map(indicatorOf).filter((i) => i !== undefined && i !== ''))].sort(),
        )
        for (const observation of observations) {
          const parts = [...reports, ...sightings.filter((e) => indicatorOf(e) === indicatorOf(observation))]
          const what = `${where}: ${indicatorOf(observation)}`
          expect(beyond(observation.marking!, parts), `${what}: who it reaches beyond what it holds`).toEqual([])
          expect(papCovers(observation.marking!, parts), `${what}: its PAP`).toBe(true)
        }
        // the feed: the same event, without the attributes of their own distribution, in hashes.csv too
        expect(served.status, `${where}: the feed event`).toBe(200)
        const inherited = document.Event.Attribute.filter((a) => a.distribution === '5').map((a) => a.value)
        const feed = JSON.parse(served.text) as Document
        expect(
          feed.Event.Attribute.map((a) => a.value),
          `${where}: the feed's attributes`,
        ).toEqual(inherited)
        const lines = hashes.split('\n').filter((line) => line.endsWith(`,${uuid}`))
        expect(lines.sort(), `${where}: hashes.csv`).toEqual(inherited.map((value) => `${md5(value)},${uuid}`).sort())
      }
    })

    it("[V1-V9] handover GET /api/v1/handover: core's brief of the visible events; nothing of a hidden incident or advisory", () => {
      const { visible, handoverForbidden } = expected(v)
      for (const h of HANDOVERS(times)) {
        const before = replayFromScratch(log, (e) => canSee(v.viewer, e), 'recorded', Date.parse(h.since) - 1)
        const wanted = handoverBrief(before, visible, { viewer: v.viewer, since: h.since, until: h.until })
        const text = reply(v, `handover ${h.key}`).text
        const hidden = [...tokensIn(text)].filter((t) => handoverForbidden.has(t))
        expect(hidden, `${v.key} (${v.label}) handover ${h.key}: ids or texts of what it may not see`).toEqual([])
        expect(json<HandoverBrief>(v, `handover ${h.key}`), `${v.key} handover ${h.key}`).toEqual(wanted)
        if (h === HANDOVERS(times)[0]) {
          const markdown = reply(v, 'handover Markdown')
          expect(markdown.status).toBe(200)
          expect(
            [...tokensIn(markdown.text)].filter((t) => handoverForbidden.has(t)),
            `${v.key} handover Markdown: ids or texts of what it may not see`,
          ).toEqual([])
          expect(markdown.text, `${v.key} handover Markdown`).toBe(handoverMarkdown(wanted))
        }
      }
    })

    it('[V1-V9] no response body to this viewer holds the text or id of an event it may not see', () => {
      const { forbidden } = expected(v)
      const s = seen.get(v.key)!
      // an export of one incident may name it: one it may not see is refused naming the id asked about
      const exportsOf = (key: string) => ['JSON', 'CSV', 'STIX'].map((format) => `export ${format} of ${key}`)
      const oneIncidentExports = new Set([...CELLS, ...REREPORTED].flatMap((c) => exportsOf(c.key)))
      const bodies: [string, string][] = [
        ...[...s.replies]
          .filter(([path]) => !path.startsWith('MISP export of ') && !oneIncidentExports.has(path))
          .map(([path, r]) => [path, r.text] as [string, string]),
        ['the live stream', JSON.stringify(s.live)],
        ['socket catch-up', JSON.stringify(s.catchUp)],
        ['presence', JSON.stringify(s.presence)],
      ]
      // an answer may name what the request named (a refusal echoes the id asked about)
      const answers: [string, string, Set<string>][] = [
        ...[...CELLS, ...REREPORTED].map(
          (c) =>
            [
              `viewing ${c.key}`,
              JSON.stringify(s.viewing.get(c.key)),
              tokensIn(`${c.incidentId} ${c.incidentId}-missing`),
            ] as [string, string, Set<string>],
        ),
        ...[...CELLS, ...REREPORTED].flatMap((c) =>
          [`MISP export of ${c.key}`, ...exportsOf(c.key)].map(
            (path) => [path, s.replies.get(path)?.text ?? '', tokensIn(c.incidentId)] as [string, string, Set<string>],
          ),
        ),
        ['import naming every incident', s.imported?.text ?? '', tokensIn(JSON.stringify(TAKEOVER))] as [
          string,
          string,
          Set<string>,
        ],
        ...CELLS.map(
          (c) =>
            [`reused id of ${c.key}`, s.reusedIds.get(c.key)?.text ?? '', new Set([reportOf(c).id])] as [
              string,
              string,
              Set<string>,
            ],
        ),
        ...(
          [
            ['comment.post', s.comments],
            ['comment.post with its task', s.ownTaskComments],
            ['comment.post on the open incident with its task', s.crossTaskComments],
            ['task.accept', s.accepts],
            ['incident.set_marking', s.markings],
          ] as const
        ).flatMap(([what, probes]) =>
          [...probes].flatMap(([cell, p]) => [
            [`${what} ${cell} (REST)`, `${p.rest.text} ${p.restMissing.text}`, p.named] as [
              string,
              string,
              Set<string>,
            ],
            [`${what} ${cell} (socket)`, JSON.stringify([p.socket, p.socketMissing]), p.named] as [
              string,
              string,
              Set<string>,
            ],
          ]),
        ),
      ]
      const leaks = [
        ...bodies.flatMap(([path, text]) =>
          [...tokensIn(text)].filter((t) => forbidden.has(t)).map((t) => `${path}: ${t}`),
        ),
        ...answers.flatMap(([path, text, named]) =>
          [...tokensIn(text)].filter((t) => forbidden.has(t) && !named.has(t)).map((t) => `${path}: ${t}`),
        ),
      ]
      expect(leaks, `${v.key} (${v.label}): hidden text in responses`).toEqual([])
    })

    it('[C1, C17] comment.post on an incident or task it may not see is 404 not_found exactly as for a missing id; a conflict shows only its own picture', () => {
      const s = seen.get(v.key)!
      const { state } = expected(v)
      /** The two answers are the same but for the id asked about. */
      const same = (where: string, a: unknown, b: unknown, hiddenId: string, missingId: string) =>
        expect(JSON.stringify(a).replaceAll(hiddenId, '<id>'), `${where}: answered as for a missing id`).toBe(
          JSON.stringify(b).replaceAll(missingId, '<id>'),
        )
      const notFound = (where: string, p: Probe, hiddenId: string, missingId: string) => {
        expect(p.rest.status, `${where}: ${p.rest.text}`).toBe(404)
        expect(JSON.parse(p.rest.text), where).toMatchObject({ error: { code: 'not_found', details: { rule: 'C1' } } })
        same(`${where} (REST)`, p.rest.text, p.restMissing.text, hiddenId, missingId)
        same(`${where} (socket)`, p.socket, p.socketMissing, hiddenId, missingId)
        expect(p.socket, `${where} (socket)`).toEqual({ ok: false, ...JSON.parse(p.rest.text) })
      }
      for (const c of CELLS) {
        const taskId = taskOf.get(c.key)!
        const p = s.comments.get(c.key)!
        const own = s.ownTaskComments.get(c.key)!
        const cross = s.crossTaskComments.get(c.key)
        const where = `${v.key} (${v.label}), comment.post on ${c.key}`
        const readOnly = readOnlyOf(v)
        if (readOnly) {
          // [A1, A7] read-only before anything else: the same refusal whatever the id
          for (const probe of [p, own, ...(cross ? [cross] : [])]) {
            for (const r of [probe.rest, probe.restMissing])
              expect({ status: r.status, body: JSON.parse(r.text) }, where).toEqual({
                status: 403,
                body: JSON.parse(p.restMissing.text),
              })
            // the socket says what REST says, the rule included
            expect(probe.socket, `${where} (socket)`).toEqual({ ok: false, error: readOnly })
            expect(JSON.parse(probe.rest.text), `${where} (REST)`).toEqual({ error: readOnly })
            expect(probe.socketMissing, `${where} (socket)`).toEqual(probe.socket)
          }
          expect(JSON.parse(p.rest.text), where).toMatchObject({ error: { code: 'forbidden' } })
          continue
        }
        // another incident's task named on the open incident: as a missing task, seen or not
        if (cross) notFound(`${where}: its task on ${OPEN_CELL.key}`, cross, taskId, `${taskId}-missing`)
        if (!canSee(v.viewer, reportVisibility(c))) {
          notFound(where, p, c.incidentId, `${c.incidentId}-missing`)
          notFound(`${where} with its task`, own, taskId, `${taskId}-missing`)
          continue
        }
        // seen: a stale expectedVersion is a conflict whose `current` is the viewer's own picture [C17]
        const incident = state.incidents.get(c.incidentId)!
        expect(p.rest.status, `${where}: ${p.rest.text}`).toBe(409)
        expect(JSON.parse(p.rest.text), `${where}: the conflict`).toEqual({
          error: {
            code: 'conflict',
            message: `expected version 1000, but it is at version ${incident.version}`,
            details: { rule: 'C3' },
          },
          current: JSON.parse(JSON.stringify(incident)),
        })
        expect(p.socket, `${where} (socket)`).toEqual({ ok: false, ...JSON.parse(p.rest.text) })
        const task = state.tasks.get(taskId)!
        expect(own.rest.status, `${where} with its task: ${own.rest.text}`).toBe(409)
        expect(JSON.parse(own.rest.text), `${where} with its task: the conflict`).toEqual({
          error: {
            code: 'conflict',
            message: `expected version 1000, but it is at version ${task.version}`,
            details: { rule: 'C3' },
          },
          current: JSON.parse(JSON.stringify(task)),
        })
        expect(own.socket, `${where} with its task (socket)`).toEqual({ ok: false, ...JSON.parse(own.rest.text) })
        // a task that does not exist on a seen incident
        expect(JSON.parse(own.restMissing.text), `${where} with a missing task`).toMatchObject({
          error: { code: 'not_found', details: { rule: 'C1' } },
        })
      }
    })

    it('[C1, C2, C20] incident.set_marking of an incident it may not see is not_found like a missing one; only the owner’s coordinators reach the version check', () => {
      const s = seen.get(v.key)!
      const { state } = expected(v)
      const owns = v.viewer.roles.some((r) => r === 'coordinator' || r === 'admin')
      for (const c of CELLS) {
        const p = s.markings.get(c.key)!
        const where = `${v.key} (${v.label}), incident.set_marking of ${c.key}`
        const body = JSON.parse(p.rest.text) as { error: { code: string; details?: { rule?: string } } }
        const normalised = (x: unknown, id: string) => JSON.stringify(x).replaceAll(id, '<id>')
        expect(p.socket, `${where} (socket)`).toEqual({ ok: false, ...body })
        if (readOnlyOf(v)) {
          expect({ status: p.rest.status, code: body.error.code }, where).toEqual({ status: 403, code: 'forbidden' })
          expect(p.rest.text, where).toBe(p.restMissing.text)
          continue
        }
        if (!canSee(v.viewer, reportVisibility(c))) {
          expect(p.rest.status, `${where}: ${p.rest.text}`).toBe(404)
          expect(normalised(p.rest.text, c.incidentId), `${where}: as a missing incident`).toBe(
            normalised(p.restMissing.text, `${c.incidentId}-missing`),
          )
          expect(normalised(p.socket, c.incidentId), `${where} (socket)`).toBe(
            normalised(p.socketMissing, `${c.incidentId}-missing`),
          )
          continue
        }
        const rule = !owns ? 'C2' : v.viewer.organisation !== 'cert-ee' ? 'C20' : 'C3'
        expect({ status: p.rest.status, rule: body.error.details?.rule }, `${where}: ${p.rest.text}`).toEqual({
          status: rule === 'C3' ? 409 : 403,
          rule,
        })
        if (rule === 'C3')
          expect(JSON.parse(p.rest.text), `${where}: the conflict shows its own picture`).toMatchObject({
            current: JSON.parse(JSON.stringify(state.incidents.get(c.incidentId)!)),
          })
      }
    })

    it('[C1, C2, C4, C19] task.accept of a task on an incident it may not see is not_found like a missing task (its team is given only those it may see)', () => {
      const s = seen.get(v.key)!
      const { state } = expected(v)
      const coordinates = v.viewer.roles.some((r) => r === 'coordinator' || r === 'admin')
      const assignee = v.viewer.organisation === ASSIGNED_TEAM
      for (const c of CELLS) {
        const taskId = taskOf.get(c.key)!
        const p = s.accepts.get(c.key)!
        const where = `${v.key} (${v.label}), task.accept of ${c.key}'s task`
        const body = JSON.parse(p.rest.text) as { error: { code: string; details?: { rule?: string } } }
        const normalised = (x: unknown, id: string) => JSON.stringify(x).replaceAll(id, '<id>')
        if (readOnlyOf(v)) {
          expect({ status: p.rest.status, code: body.error.code }, where).toEqual({ status: 403, code: 'forbidden' })
          expect(p.rest.text, where).toBe(p.restMissing.text)
          continue
        }
        if (!canSee(v.viewer, reportVisibility(c))) {
          // assigning grants no visibility [C4]: hidden is missing [C1], before any role check [C2]
          expect(p.rest.status, `${where}: ${p.rest.text}`).toBe(404)
          expect(normalised(p.rest.text, taskId), `${where}: as a missing task`).toBe(
            normalised(p.restMissing.text, `${taskId}-missing`),
          )
          expect(normalised(p.socket, taskId), `${where} (socket)`).toBe(
            normalised(p.socketMissing, `${taskId}-missing`),
          )
          continue
        }
        if (coordinates || assignee) {
          expect(p.rest.status, `${where}: ${p.rest.text}`).toBe(409)
          expect(JSON.parse(p.rest.text), `${where}: the conflict shows its own picture of the task`).toMatchObject({
            error: { code: 'conflict', details: { rule: 'C3' } },
            current: JSON.parse(JSON.stringify(state.tasks.get(taskId)!)),
          })
        } else {
          expect({ status: p.rest.status, rule: body.error.details?.rule }, `${where}: ${p.rest.text}`).toEqual({
            status: 403,
            rule: 'C2',
          })
        }
        expect(p.socket, `${where} (socket)`).toEqual({ ok: false, ...JSON.parse(p.rest.text) })
      }
    })

    it('[A1, A2, A5] an import naming incidents it may not see: refused per event like one it may see, or 403 before anything', () => {
      const s = seen.get(v.key)!
      if (s.imported === undefined) return // the owner organisation: its import would change the log
      const poster =
        !readOnlyOf(v) && v.viewer.roles.some((r) => r === 'sensor' || r === 'coordinator' || r === 'admin')
      const where = `${v.key} (${v.label}) importing every cell's incident`
      if (!poster) {
        expect(s.imported.status, `${where}: ${s.imported.text}`).toBe(403)
        return
      }
      expect(s.imported.status, `${where}: ${s.imported.text}`).toBe(200)
      const body = JSON.parse(s.imported.text) as { results: unknown[]; refused: { code: string; message: string }[] }
      expect(body.results, where).toEqual([])
      // one refusal per incident, each saying the same whether it may see the incident or not
      expect(body.refused.length, where).toBeGreaterThanOrEqual(CELLS.length)
      const shapes = new Set(body.refused.map((r) => `${r.code}: ${r.message.replace(/lmx-inc-[a-z0-9-]+/g, 'ID')}`))
      expect([...shapes], where).toHaveLength(1)
    })

    it('[L3, A2] re-posting the id of an event it may not see with other content: a conflict that tells no seq', () => {
      const s = seen.get(v.key)!
      const poster =
        !readOnlyOf(v) && v.viewer.roles.some((r) => r === 'sensor' || r === 'coordinator' || r === 'admin')
      const first = s.reusedIds.get(CELLS[0]!.key)!
      for (const c of CELLS) {
        const report = reportOf(c)
        const r = s.reusedIds.get(c.key)!
        const where = `${v.key} (${v.label}) reusing the id of ${c.key}'s report`
        if (!poster) {
          // refused before the log is read: the same answer for every id
          expect(r.status, `${where}: ${r.text}`).toBe(403)
          expect(r.text, where).toBe(first.text)
          continue
        }
        expect(r.status, `${where}: ${r.text}`).toBe(409)
        const body = JSON.parse(r.text) as {
          error: { code: string; message: string; details: Record<string, unknown> }
        }
        expect(body.error.code, where).toBe('conflict')
        if (canSee(v.viewer, { ...report, recordedAt: '' } as StoredEvent))
          expect(body.error.details, `${where}: it may see it, so it is told where`).toMatchObject({ seq: report.seq })
        else {
          expect(body.error.details, `${where}: no seq`).not.toHaveProperty('seq')
          expect(
            body.error.message.replaceAll(report.id, '<id>'),
            `${where}: no number in the message but in the id asked about`,
          ).not.toMatch(/\d/)
        }
      }
    })

    it('[V1-V9] presence and viewing: it hears of exactly the incidents it may see; viewing a hidden one is not_found like a missing one', () => {
      const s = seen.get(v.key)!
      const heard = [...new Set(s.presence.map((m) => m.incidentId))].sort()
      const wanted = [
        ...CELLS.filter((c) => canSee(v.viewer, reportVisibility(c))).map((c) => c.incidentId),
        // [C18] shared with it now: its owner's latest report reaches it (a copy a narrowing froze is not)
        ...REREPORTED.filter((r) => canSee(v.viewer, rereportOf(r, r.reports.at(-1)!.title))).map((r) => r.incidentId),
      ].sort()
      const readOnly = readOnlyOf(v)
      if (readOnly) {
        // a display hears no presence; a view as another audience hears of what it may see, and announces nothing
        if (v.display) expect(heard, `${v.key}: a display receives no presence`).toEqual([])
        else expect(heard, `${v.key} (${v.label}): presence it received`).toEqual(wanted)
        for (const [cell, r] of s.viewing)
          expect(r.ack, `${v.key} viewing ${cell}`).toEqual({
            ok: false,
            error: readOnly,
          })
        return
      }
      expect(heard, `${v.key} (${v.label}): the incidents it received presence about`).toEqual(wanted)
      for (const c of CELLS) {
        const r = s.viewing.get(c.key)!
        if (canSee(v.viewer, reportVisibility(c))) expect(r.ack, `${v.key} viewing ${c.key}`).toEqual({ ok: true })
        else {
          expect(r.ack, `${v.key} viewing ${c.key}`).toMatchObject({ ok: false, error: { code: 'not_found' } })
          expect(
            JSON.stringify(r.ack).replaceAll(c.incidentId, '<id>'),
            `${v.key} viewing ${c.key} answered like a missing incident`,
          ).toBe(JSON.stringify(r.missing).replaceAll(`${c.incidentId}-missing`, '<id>'))
        }
      }
    })

    it('[R12, V1-V9] an incident its owner re-reported under another marking: the report it may see, on every path', () => {
      const s = seen.get(v.key)!
      const { state, visible } = expected(v)
      const readOnly = readOnlyOf(v)
      for (const r of REREPORTED) {
        const where = `${v.key} (${v.label}), ${r.key} (${r.label})`
        const incident = state.incidents.get(r.incidentId)
        // core's fold: the later report it may see stands, or the earlier one, or none
        const shown = [...r.reports].reverse().find((report) => canSee(v.viewer, rereportOf(r, report.title)))
        expect(incident?.title, `${where}: the report core's fold keeps`).toBe(shown?.title)
        const brief = (i: { title: string; summary?: string; marking: { tlp: string }; version: number } | undefined) =>
          i && { title: i.title, summary: i.summary, tlp: i.marking.tlp, version: i.version }
        const served = json<StateJson>(v, 'REST state').incidents.find((i) => i.incidentId === r.incidentId)
        expect(brief(served), `${where}: REST state`).toEqual(brief(incident))
        const stix = (JSON.parse(reply(v, 'export STIX').text) as { objects: Record<string, unknown>[] }).objects.find(
          (o) => o.type === 'incident' && o.x_watchfloor_incident_id === r.incidentId,
        )
        expect(stix?.name, `${where}: STIX`).toBe(incident?.title)
        if (incident === undefined) expectMissingExport(v, 'JSON', r.key, r.incidentId)
        else
          expectEvents(
            v,
            `export JSON of ${r.key}`,
            json<StoredEvent[]>(v, `export JSON of ${r.key}`),
            visible.filter((e) => incidentOf(e, state) === r.incidentId),
          )
        const misp = reply(v, `MISP export of ${r.key}`)
        if (incident === undefined) {
          expect(misp.status, `${where}: MISP`).toBe(404)
          expect(misp.text.replace(r.incidentId, 'ID'), `${where}: MISP as a missing one`).toBe(
            reply(v, 'MISP export of a missing incident').text.replace('lmx-inc-missing', 'ID'),
          )
        } else {
          expect(misp.status, `${where}: MISP ${misp.text.slice(0, 200)}`).toBe(200)
          expect((JSON.parse(misp.text) as { Event: { info: string } }).Event.info, `${where}: MISP`).toBe(
            incident.title,
          )
        }
        // [C18] shared with it now: its owner's latest report reaches it; a copy a narrowing froze is
        // held, but takes no part (presence, viewing, commands answer as for a missing incident)
        const sharedNow = canSee(v.viewer, rereportOf(r, r.reports.at(-1)!.title))
        if (!v.display)
          expect(
            s.presence.some((m) => m.incidentId === r.incidentId),
            `${where}: presence`,
          ).toBe(sharedNow)
        if (readOnly) continue
        const viewing = s.viewing.get(r.key)!
        const comment = s.comments.get(r.key)!
        const asMissing = () => {
          expect(comment.rest.status, `${where}: comment.post`).toBe(404)
          expect(comment.rest.text.replaceAll(r.incidentId, '<id>'), `${where}: comment.post as a missing one`).toBe(
            comment.restMissing.text.replaceAll(`${r.incidentId}-missing`, '<id>'),
          )
        }
        // [C18] its picture may hold the first report while its owner's latest no longer reaches it: a
        // command about it is refused as for a missing one, before the stale expectedVersion is looked at
        if (!sharedNow) {
          expect(viewing.ack, `${where}: viewing`).toMatchObject({ ok: false, error: { code: 'not_found' } })
          expect(
            JSON.stringify(viewing.ack).replaceAll(r.incidentId, '<id>'),
            `${where}: viewing as a missing one`,
          ).toBe(JSON.stringify(viewing.missing).replaceAll(`${r.incidentId}-missing`, '<id>'))
          asMissing()
          continue
        }
        expect(viewing.ack, `${where}: viewing`).toEqual({ ok: true })
        // a stale expectedVersion: the conflict's `current` is the incident of its own picture [C17]
        expect(comment.rest.status, `${where}: comment.post ${comment.rest.text}`).toBe(409)
        expect((JSON.parse(comment.rest.text) as { current: unknown }).current, `${where}: the conflict`).toEqual(
          JSON.parse(JSON.stringify(incident)),
        )
        expect(comment.socket, `${where}: comment.post (socket)`).toEqual({
          ok: false,
          ...JSON.parse(comment.rest.text),
        })
      }
    })

    it('[V9] the wall presets route: a display gets only its preset (another is 403); a person every preset', () => {
      const list = json<{ presets: { name: string }[] }>(v, 'wall presets').presets.map((p) => p.name)
      const session = json<Record<string, unknown>>(v, 'session')
      if (!v.display) {
        expect(list, v.key).toEqual(expect.arrayContaining(['overview', 'baltic', 'critical']))
        expect(session).toMatchObject({
          user: v.viewer.userId,
          organisation: v.viewer.organisation,
          kind: v.session ? 'session' : 'api',
        })
        // a view as another audience says so [V11]
        expect(session.viewingAs, `${v.key}: viewingAs`).toEqual(
          v.viewer.viewingAs && { kind: v.viewer.viewingAs.kind, id: v.viewer.viewingAs.id },
        )
        return
      }
      expect(list, v.key).toEqual([v.display.preset])
      expect(json<{ name: string }>(v, 'wall preset (own)').name).toBe(v.display.preset)
      expect(reply(v, 'wall preset (another)').status, `${v.key}: another preset`).toBe(403)
      expect(session).toMatchObject({
        kind: 'display',
        user: v.viewer.userId,
        preset: v.display.preset,
        tlpCeiling: v.viewer.tlpCeiling,
      })
    })
  })

  // ------------------------------------------------------------ per cell: who it reaches, on each path

  const audienceOf = (c: Cell) => VIEWERS.filter((v) => canSee(v.viewer, reportVisibility(c))).map((v) => v.key)

  describe.each(CELLS.map((c) => ({ ...c, name: `[${c.rules.join(', ')}] ${c.label}`, audience: audienceOf(c) })))(
    '$name',
    (c) => {
      it(`reaches exactly: ${c.audience.join(', ') || 'no one'}, on every path`, () => {
        const report = log.find((e) => e.type === 'incident.reported' && e.payload.incidentId === c.incidentId)!
        const advisory = log.find((e) => e.type === 'advisory.published' && e.payload.advisoryId === c.advisoryId)!
        const mismatches: string[] = []
        for (const v of VIEWERS) {
          const s = seen.get(v.key)!
          const sees = canSee(v.viewer, report)
          const seesAdvisory = canSee(v.viewer, advisory)
          const check = (path: string, got: boolean, want = sees) => {
            if (got !== want) mismatches.push(`${v.key} on ${path}: ${want ? 'missing' : 'LEAKED'}`)
          }
          const has = (events: StoredEvent[], e: StoredEvent) => events.some((x) => x.id === e.id)
          const parsed = <T>(labelOf: string, fallback: T): T => {
            const r = s.replies.get(labelOf)
            return r?.status === 200 ? (JSON.parse(r.text) as T) : fallback
          }
          check('the live stream', has(s.live, report))
          check('socket catch-up', has(s.catchUp, report))
          check(
            'REST events',
            has(parsed<EventPageReply>('REST events', { events: [], next: 0, head: 0 }).events, report),
          )
          check('export JSON', has(parsed<StoredEvent[]>('export JSON', []), report))
          check('export CSV', s.replies.get('export CSV')?.text.includes(report.id) ?? false)
          check(`export of ${c.key}`, has(parsed<StoredEvent[]>(`export JSON of ${c.key}`, []), report))
          const state = parsed<StateJson | undefined>('REST state', undefined)
          check('state incidents', state?.incidents.some((i) => i.incidentId === c.incidentId) ?? false)
          check('state advisories', state?.advisories.some((a) => a.advisoryId === c.advisoryId) ?? false, seesAdvisory)
          const replay = parsed<StateJson | undefined>(`replay ${REPLAYS(times)[3].key}`, undefined)
          check('replay at t3', replay?.incidents.some((i) => i.incidentId === c.incidentId) ?? false)
          const window = parsed<EventPageReply>(`window ${WINDOWS(times)[1].key}`, { events: [], next: 0, head: 0 })
          check('window [t2, ...)', has(window.events, advisory), seesAdvisory)
          const brief = parsed<HandoverBrief | undefined>(`handover ${HANDOVERS(times)[0].key}`, undefined)
          check('handover', brief?.incidents.new.some((i) => i.incidentId === c.incidentId) ?? false)
          if (!v.display)
            check(
              'presence',
              s.presence.some((m) => m.incidentId === c.incidentId),
            )
          if (!readOnlyOf(v)) {
            check('viewing', s.viewing.get(c.key)?.ack.ok ?? false)
            check('comment.post (409 seen, 404 hidden)', s.comments.get(c.key)?.rest.status === 409)
          }
        }
        expect(mismatches, `${c.key} (${c.label}): wanted exactly ${c.audience.join(', ')}`).toEqual([])
      })
    },
  )
})

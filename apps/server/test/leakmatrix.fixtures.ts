/**
 * Fixtures of the leak matrix (leakmatrix.int.test.ts): who posts and who reads, the marking
 * cells, the events of each cell (every one with text of its own, so a leak shows as text in any
 * response body), and small HTTP / socket / CSV helpers.
 */
import { randomUUID } from 'node:crypto'
import type { EventInput, Marking, PresenceMessage, Role, Tlp, Viewer } from '@watchfloor/protocol'
import type { Watcher } from './harness.ts'

// ---------------------------------------------------------------- principals

export const SENSOR_EE = 'lmx-sensor-ee-token-0123456789'
export const ADMIN = 'lmx-admin-token-0123456789abcd'

interface StaticPrincipal {
  token: string
  user: string
  organisation: string
  nation: string
  roles: Role[]
  sources?: string[]
}

/** How a viewer's requests and sockets authenticate: a bearer token, or a browser session's cookie. */
export type Auth = string | { cookie: string } | { token: string; viewAs: string }

/**
 * The community the admin makes before anything else [V10]: the author's, the liaison's and the RED
 * recipient's organisations, not the releasable ones nor the other organisation. The author's is in
 * it so that its coordinator may know it, and view as it [A7, A8].
 */
export const COMMUNITY = {
  id: 'lmx-community',
  name: 'Leak matrix partners',
  members: ['cert-ee', 'cert-fi', 'cert-lt'],
} as const

/** Who may see what is decided by canSee on these; roles never widen it [V7]. */
export interface MatrixViewer {
  key: string
  /** What kind of viewer it is, for test names and failure messages. */
  label: string
  viewer: Viewer
  /** Static principals: their token. Display tokens: made by the admin in beforeAll. */
  token?: string
  display?: { preset: string; otherPreset: string }
  /** An account the admin makes in beforeAll, signed in by password: every request and socket by its session cookie. */
  session?: { password: string }
  /** Viewing as another audience [V11] with `token` (X-Watchfloor-View-As, the socket's `auth.viewAs`): read-only [A7]. */
  viewAs?: string
  /** Other organisations its token may post for (a relay) [A3]: posting for them widens nothing it reads. */
  sources?: string[]
}

const account = (key: string, label: string, user: string, organisation: string, nation: string, role: Role) =>
  ({
    key,
    label,
    viewer: { organisation, nation, roles: [role], userId: user },
    session: { password: `${user} signs in to the leak matrix` },
  }) satisfies MatrixViewer

const person = (
  key: string,
  label: string,
  token: string,
  user: string,
  organisation: string,
  nation: string,
  role: Role,
): MatrixViewer => ({ key, label, token, viewer: { organisation, nation, roles: [role], userId: user } })

/** The author's organisation is cert-ee; releasable shapes name cert-lv (an organisation) or NL (a nation). */
export const VIEWERS: MatrixViewer[] = [
  person(
    'author-org',
    "a person of the author's organisation",
    'lmx-kadri-token-0123456789',
    'kadri',
    'cert-ee',
    'EE',
    'watch_officer',
  ),
  person(
    'red-author',
    'the RED author (posts the RED cells)',
    'lmx-coord-ee-token-012345678',
    'coord-ee',
    'cert-ee',
    'EE',
    'coordinator',
  ),
  person(
    'releasable-org',
    'a person of the organisation in releasableTo',
    'lmx-ilze-token-01234567890',
    'ilze',
    'cert-lv',
    'LV',
    'analyst',
  ),
  person(
    'releasable-nation',
    'a person of the nation in releasableTo',
    'lmx-pieter-token-0123456789',
    'pieter',
    'mil-nl',
    'NL',
    'analyst',
  ),
  person(
    'other-org',
    'a person of another organisation',
    'lmx-ana-token-0123456789012',
    'ana',
    'cert-pt',
    'PT',
    'analyst',
  ),
  person(
    'liaison',
    'a liaison of another organisation',
    'lmx-tomas-token-012345678901',
    'tomas',
    'cert-lt',
    'LT',
    'liaison',
  ),
  person(
    'red-recipient',
    'the named RED recipient',
    'lmx-rita-token-0123456789012',
    'rita',
    'cert-fi',
    'FI',
    'analyst',
  ),
  {
    ...person(
      'relay',
      "a relay of another organisation that posts for the author's and the releasable organisation",
      'lmx-relay-token-0123456789',
      'relay-pt',
      'cert-pt',
      'PT',
      'analyst',
    ),
    sources: ['cert-ee', 'cert-lv'],
  },
  person('admin', 'an admin of another organisation', ADMIN, 'root', 'alliance', 'ALLIANCE', 'admin'),
  // coordinators and admins viewing as another audience [V11]: what both may see, read-only [A7]
  {
    key: 'view-as-org',
    label: 'the admin viewing as the releasable organisation (cert-lv)',
    token: ADMIN,
    viewAs: 'organisation:cert-lv',
    viewer: {
      organisation: 'alliance',
      nation: 'ALLIANCE',
      roles: ['admin'],
      userId: 'root',
      viewingAs: { kind: 'organisation', id: 'cert-lv', nation: 'LV', communities: [] },
    },
  },
  {
    key: 'view-as-community',
    label: 'the RED author viewing as the community',
    token: 'lmx-coord-ee-token-012345678',
    viewAs: 'community:lmx-community',
    viewer: {
      organisation: 'cert-ee',
      nation: 'EE',
      roles: ['coordinator'],
      userId: 'coord-ee',
      viewingAs: { kind: 'community', id: 'lmx-community' },
    },
  },
  // people signed in by password: the session cookie on every request and on the socket
  account(
    'session-liaison',
    'a liaison of the releasable organisation, by session cookie',
    'laura',
    'cert-lv',
    'LV',
    'liaison',
  ),
  account(
    'session-recipient',
    'the named RED recipient, by session cookie (an account)',
    'rita',
    'cert-fi',
    'FI',
    'analyst',
  ),
  {
    key: 'display-green',
    label: "a wall display of the author's organisation, ceiling GREEN",
    viewer: { organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'], userId: 'wall-ee', tlpCeiling: 'GREEN' },
    display: { preset: 'overview', otherPreset: 'critical' },
  },
  {
    key: 'display-author',
    label: "a wall display under the RED author's own identity, ceiling AMBER+STRICT",
    viewer: {
      organisation: 'cert-ee',
      nation: 'EE',
      roles: ['coordinator'],
      userId: 'coord-ee',
      tlpCeiling: 'AMBER+STRICT',
    },
    display: { preset: 'critical', otherPreset: 'overview' },
  },
]

// the directory tells the server which communities an organisation is in; the matrix says the same
for (const v of VIEWERS)
  if ((COMMUNITY.members as readonly string[]).includes(v.viewer.organisation)) v.viewer.communities = [COMMUNITY.id]

export const RED_AUTHOR = VIEWERS.find((v) => v.key === 'red-author')!
export const RED_RECIPIENT = VIEWERS.find((v) => v.key === 'red-recipient')!
/** The organisation every task is assigned to: assigning grants no visibility [C4]. */
export const ASSIGNED_TEAM = 'cert-pt'

export const PRINCIPALS: StaticPrincipal[] = [
  { token: SENSOR_EE, user: 'sensor-ee', organisation: 'cert-ee', nation: 'EE', roles: ['sensor'] },
  ...VIEWERS.filter((v) => v.token !== undefined && v.viewAs === undefined).map((v) => ({
    token: v.token!,
    user: v.viewer.userId,
    organisation: v.viewer.organisation,
    nation: v.viewer.nation,
    roles: [...v.viewer.roles],
    ...(v.sources === undefined ? {} : { sources: [...v.sources] }),
  })),
]

/** The token body an admin posts to make a display token for this viewer. */
export function displayTokenBody(v: MatrixViewer): Record<string, unknown> {
  return {
    label: `leak matrix ${v.key}`,
    kind: 'display',
    service: {
      user: v.viewer.userId,
      organisation: v.viewer.organisation,
      nation: v.viewer.nation,
      roles: v.viewer.roles,
    },
    preset: v.display!.preset,
    tlpCeiling: v.viewer.tlpCeiling,
  }
}

// ---------------------------------------------------------------- cells

export interface Cell {
  key: string
  label: string
  /** The marking posted; undefined: none (the server applies AMBER [V8]). */
  marking: Marking | undefined
  /** The rules the cell exercises, for its test name. */
  rules: string[]
  /** Who posts it: cert-ee's sensor, or for RED the RED author (A6: the author is the poster). */
  poster: 'sensor' | 'author'
  incidentId: string
  advisoryId: string
  /** Text of each of its events, found nowhere else. */
  text: {
    title: string
    summary: string
    observation: string
    advisoryTitle: string
    advisoryBody: string
    secret: string
    task: string
    comment: string
  }
}

const SHAPES = [
  { key: 'NONE', label: 'with no releasableTo', releasableTo: undefined },
  { key: 'ORG', label: 'releasable to an organisation (cert-lv)', releasableTo: ['cert-lv'] },
  { key: 'NATION', label: 'releasable to a nation (NL)', releasableTo: ['NL'] },
  {
    key: 'COMMUNITY',
    label: `releasable to a community (${COMMUNITY.id}: ${COMMUNITY.members.join(', ')})`,
    releasableTo: [COMMUNITY.id],
  },
] as const

const TLP_KEY: Record<Tlp, string> = {
  CLEAR: 'CLEAR',
  GREEN: 'GREEN',
  AMBER: 'AMBER',
  'AMBER+STRICT': 'STRICT',
  RED: 'RED',
}

const TLP_RULES: Record<Tlp, string[]> = {
  CLEAR: ['V2', 'V3'],
  GREEN: ['V2', 'V3'],
  AMBER: ['V2', 'V4'],
  'AMBER+STRICT': ['V2', 'V4s'],
  RED: ['V5'],
}

function cell(key: string, label: string, marking: Marking | undefined, rules: string[], poster: Cell['poster']): Cell {
  const slug = key.toLowerCase()
  const tag = (part: string) => `LMX-${key}-${part}`
  return {
    key,
    label,
    marking,
    rules: [...new Set([...rules, 'V7', 'V9'])],
    poster,
    incidentId: `lmx-inc-${slug}`,
    advisoryId: `lmx-adv-${slug}`,
    text: {
      title: tag('REPORTTITLE'),
      summary: tag('REPORTSUMMARY'),
      observation: tag('OBSERVED'),
      advisoryTitle: tag('ADVISORYTITLE'),
      advisoryBody: tag('ADVISORYBODY'),
      secret: tag('STRICTUPDATE'),
      task: tag('TASKTITLE'),
      comment: tag('COMMENTBODY'),
    },
  }
}

/** Every TLP x releasability shape, RED x recipients (none beyond the author; a named one), and no marking. */
export const CELLS: Cell[] = [
  ...(['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT'] as const).flatMap((tlp) =>
    SHAPES.map((shape) =>
      cell(
        `${TLP_KEY[tlp]}-${shape.key}`,
        `${tlp} ${shape.label}`,
        shape.releasableTo === undefined
          ? { tlp }
          : shape.key === 'COMMUNITY'
            ? { tlp, releasableTo: [...shape.releasableTo], pap: 'AMBER' }
            : { tlp, releasableTo: [...shape.releasableTo] },
        shape.releasableTo === undefined
          ? TLP_RULES[tlp]
          : [...TLP_RULES[tlp], 'V6', ...(shape.key === 'COMMUNITY' ? ['V10'] : [])],
        'sensor',
      ),
    ),
  ),
  ...SHAPES.flatMap((shape) =>
    [
      { key: 'AUTHOR', label: 'for no one beyond its author', recipients: undefined },
      { key: 'NAMED', label: `for a named recipient (${RED_RECIPIENT.viewer.userId})`, recipients: ['rita'] },
    ].map((to) => {
      const marking: Marking = { tlp: 'RED' }
      if (shape.releasableTo !== undefined) marking.releasableTo = [...shape.releasableTo]
      if (to.recipients !== undefined) marking.recipients = [...to.recipients]
      return cell(
        `RED-${shape.key}-${to.key}`,
        `RED ${shape.label}, ${to.label}`,
        marking,
        shape.releasableTo === undefined ? TLP_RULES.RED : [...TLP_RULES.RED, 'V6'],
        'author',
      )
    }),
  ),
  cell('DEFAULT-NONE', 'no marking given (the server applies AMBER)', undefined, ['V8', 'V2', 'V4'], 'sensor'),
]

/** Seen by every viewer (CLEAR, no releasableTo): the sentinel of the presence sweep. */
export const OPEN_CELL = CELLS.find((c) => c.key === 'CLEAR-NONE')!
/** A GREEN observation names this cell's (AMBER+STRICT) incident: its id is public, the incident is not. */
export const STRAY_CELL = CELLS.find((c) => c.key === 'STRICT-NONE')!
/** A RED observation (count 1000, for the RED recipient) names this cell's GREEN incident in phase C. */
export const STRICTER_OBSERVED_CELL = CELLS.find((c) => c.key === 'GREEN-NONE')!
/** A cell's twin incident: its marking, reported and closed in phase C, no task and no link. */
export const closedTwinOf = (c: Cell) => `${c.incidentId}-closed`
/** A GREEN incident its owner (cert-ee) closed by an AMBER+STRICT update: closed for cert-ee only. */
export const QUIETLY_CLOSED = 'lmx-inc-quietly-closed'

/**
 * Incidents their owner (cert-ee) reported twice, under two markings [R12]: the later report
 * replaces the incident for who may see it, and who may see only the earlier one keeps that one.
 * Each report has text of its own, so whichever a viewer may not see shows as a leak.
 */
export interface Rereport {
  key: string
  label: string
  incidentId: string
  /** The first report (phase A) and the second (phase C). */
  reports: [RereportText, RereportText]
}
interface RereportText {
  marking: Marking
  title: string
  summary: string
}
const rereport = (key: string, label: string, first: Marking, second: Marking): Rereport => ({
  key,
  label,
  incidentId: `lmx-inc-${key.toLowerCase()}`,
  reports: [
    { marking: first, title: `LMX-${key}-FIRSTTITLE`, summary: `LMX-${key}-FIRSTSUMMARY` },
    { marking: second, title: `LMX-${key}-SECONDTITLE`, summary: `LMX-${key}-SECONDSUMMARY` },
  ],
})
export const REREPORTED: Rereport[] = [
  rereport('NARROWED', 'reported GREEN, re-reported AMBER+STRICT', { tlp: 'GREEN' }, { tlp: 'AMBER+STRICT' }),
  rereport(
    'WIDENED',
    'reported AMBER+STRICT, re-reported AMBER releasable to cert-lv',
    { tlp: 'AMBER+STRICT' },
    { tlp: 'AMBER', releasableTo: ['cert-lv'] },
  ),
]

/** A re-reported incident's report as the sensor posts it, in phase A (the first) or C (the second). */
function rereportEvent(r: Rereport, which: 0 | 1, occurredAt: string): EventInput {
  const report = r.reports[which]
  return input({
    type: 'incident.reported',
    occurredAt,
    source: { organisation: 'cert-ee' },
    marking: report.marking,
    payload: {
      incidentId: r.incidentId,
      title: report.title,
      summary: report.summary,
      severity: which === 0 ? 'medium' : 'high',
      category: 'malware',
      affectedNetworks: [NETWORK],
    },
  } as Omit<EventInput, 'id'>)
}

export const NETWORK = 'lmx-net-ee'
export const SECRET_NETWORK = 'lmx-net-secret'
export const STRAY_TEXT = 'LMX-STRAY-OBSERVED'
export const SECRET_NETWORK_NAME = 'LMX-SECRET-NETWORK-NAME'

// ---------------------------------------------------------------- events

const SEVERITIES = ['low', 'medium', 'high'] as const
const minute = (base: number, i: number) => new Date(base + i * 60_000).toISOString()
/** occurredAt of phase A (reports) and phase C (advisories, updates); phase B is the commands (occurredAt: now). */
export const OCCURRED_A = Date.UTC(2026, 10, 26, 8, 0, 0)
export const OCCURRED_C = Date.UTC(2026, 10, 26, 9, 0, 0)

function input(fields: Omit<EventInput, 'id'>): EventInput {
  return { id: randomUUID(), ...fields } as EventInput
}

const withMarking = (marking: Marking | undefined) => (marking === undefined ? {} : { marking })

/** An incident reported under `marking` and closed by an update under `closing`, at minute `at` of phase C. */
function reportedAndClosed(
  incidentId: string,
  title: string,
  marking: Marking | undefined,
  closing: Marking | undefined,
  at: number,
): EventInput[] {
  return [
    input({
      type: 'incident.reported',
      occurredAt: minute(OCCURRED_C, at),
      source: { organisation: 'cert-ee' },
      ...withMarking(marking),
      payload: { incidentId, title, severity: 'low', category: 'malware', affectedNetworks: [NETWORK] },
    } as Omit<EventInput, 'id'>),
    input({
      type: 'incident.updated',
      occurredAt: minute(OCCURRED_C, at + 0.1),
      source: { organisation: 'cert-ee' },
      ...withMarking(closing),
      payload: { incidentId, status: 'closed' },
    } as Omit<EventInput, 'id'>),
  ]
}

/** Phase A: the networks/** Phase A: the networks (one GREEN, one AMBER+STRICT), then per cell its report and an observation. */
export function phaseA(): { sensor: EventInput[]; author: EventInput[] } {
  const sensor: EventInput[] = [
    input({
      type: 'network.registered',
      occurredAt: minute(OCCURRED_A, 0),
      source: { organisation: 'cert-ee' },
      marking: { tlp: 'GREEN' },
      payload: {
        networkId: NETWORK,
        name: 'Estonian government network',
        organisation: 'cert-ee',
        nation: 'EE',
        kind: 'government',
        location: { lat: 59.437, lon: 24.754 },
      },
    } as Omit<EventInput, 'id'>),
    input({
      type: 'network.registered',
      occurredAt: minute(OCCURRED_A, 0),
      source: { organisation: 'cert-ee' },
      marking: { tlp: 'AMBER+STRICT' },
      payload: {
        networkId: SECRET_NETWORK,
        name: SECRET_NETWORK_NAME,
        organisation: 'cert-ee',
        nation: 'EE',
        kind: 'military',
        location: { lat: 58.38, lon: 26.72 },
      },
    } as Omit<EventInput, 'id'>),
  ]
  const author: EventInput[] = []
  CELLS.forEach((c, i) => {
    const into = c.poster === 'sensor' ? sensor : author
    into.push(
      input({
        type: 'incident.reported',
        occurredAt: minute(OCCURRED_A, i + 1),
        source: { organisation: 'cert-ee' },
        ...withMarking(c.marking),
        payload: {
          incidentId: c.incidentId,
          title: c.text.title,
          summary: c.text.summary,
          severity: SEVERITIES[i % SEVERITIES.length]!,
          category: 'malware',
          affectedNetworks: [NETWORK],
        },
      } as Omit<EventInput, 'id'>),
      input({
        type: 'incident.observation',
        occurredAt: minute(OCCURRED_A, i + 1.5),
        source: { organisation: 'cert-ee', network: NETWORK },
        ...withMarking(c.marking),
        payload: { incidentId: c.incidentId, count: 3, indicator: c.text.observation },
      } as Omit<EventInput, 'id'>),
    )
  })
  sensor.push(...REREPORTED.map((r, i) => rereportEvent(r, 0, minute(OCCURRED_A, CELLS.length + 1 + i))))
  return { sensor, author }
}

/**
 * Phase C: per cell an advisory about its incident (the cell's marking); per non-RED cell an
 * AMBER+STRICT update by its owner (a new summary, and a critical severity or closed) that only
 * cert-ee may see, so the versions, severities and statuses of the same incident differ between
 * viewers; and a GREEN observation from the secret network about the AMBER+STRICT incident.
 */
export function phaseC(): { sensor: EventInput[]; author: EventInput[] } {
  const sensor: EventInput[] = []
  const author: EventInput[] = []
  CELLS.forEach((c, i) => {
    const into = c.poster === 'sensor' ? sensor : author
    into.push(
      input({
        type: 'advisory.published',
        occurredAt: minute(OCCURRED_C, i),
        source: { organisation: 'cert-ee' },
        ...withMarking(c.marking),
        payload: {
          advisoryId: c.advisoryId,
          title: c.text.advisoryTitle,
          body: c.text.advisoryBody,
          incidentId: c.incidentId,
        },
      } as Omit<EventInput, 'id'>),
    )
    if (c.poster === 'sensor')
      sensor.push(
        input({
          type: 'incident.updated',
          occurredAt: minute(OCCURRED_C, i + 0.5),
          source: { organisation: 'cert-ee' },
          marking: { tlp: 'AMBER+STRICT' },
          payload:
            i % 2 === 0
              ? { incidentId: c.incidentId, summary: c.text.secret, severity: 'critical' }
              : { incidentId: c.incidentId, summary: c.text.secret, status: 'closed' },
        } as Omit<EventInput, 'id'>),
      )
  })
  // per cell a twin incident of the same marking, reported and closed at once: no task, no link, so
  // the live picture leaves it out, for those who may see it, and nobody else hears of it; one more,
  // GREEN, closed by its owner's AMBER+STRICT update: closed (left out) for cert-ee only
  CELLS.forEach((c, i) => {
    const into = c.poster === 'sensor' ? sensor : author
    into.push(...reportedAndClosed(closedTwinOf(c), `${c.text.title} (closed twin)`, c.marking, c.marking, i + 0.6))
  })
  sensor.push(
    ...reportedAndClosed(QUIETLY_CLOSED, 'Closed for its owner only', { tlp: 'GREEN' }, { tlp: 'AMBER+STRICT' }, 29),
  )
  sensor.push(
    input({
      type: 'incident.observation',
      occurredAt: minute(OCCURRED_C, 30),
      source: { organisation: 'cert-ee', network: SECRET_NETWORK },
      marking: { tlp: 'GREEN' },
      payload: { incidentId: STRAY_CELL.incidentId, count: 1, indicator: STRAY_TEXT },
    } as Omit<EventInput, 'id'>),
  )
  // an observation stricter than its (GREEN) incident, RED for a named recipient: nothing that shows
  // the incident under its own marking counts it [M1]
  author.push(
    input({
      type: 'incident.observation',
      occurredAt: minute(OCCURRED_C, 30.5),
      source: { organisation: 'cert-ee' },
      marking: { tlp: 'RED', recipients: [RED_RECIPIENT.viewer.userId] },
      payload: { incidentId: STRICTER_OBSERVED_CELL.incidentId, count: 1000 },
    } as Omit<EventInput, 'id'>),
  )
  sensor.push(...REREPORTED.map((r, i) => rereportEvent(r, 1, minute(OCCURRED_C, 31 + i))))
  return { sensor, author }
}

// ---------------------------------------------------------------- helpers

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function until(check: () => boolean, what: string, timeout = 15_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

export interface Reply {
  status: number
  text: string
  headers: Headers
}

export async function http(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  auth: Auth,
  body?: unknown,
  accept?: string,
): Promise<Reply> {
  const headers: Record<string, string> =
    typeof auth === 'string'
      ? { authorization: `Bearer ${auth}` }
      : 'cookie' in auth
        ? { cookie: auth.cookie }
        : { authorization: `Bearer ${auth.token}`, 'x-watchfloor-view-as': auth.viewAs }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (accept !== undefined) headers.accept = accept
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, text: await response.text(), headers: response.headers }
}

/** Records the presence messages a socket receives, and its checkpoints/heartbeats (as an ordering marker). */
export function recordPresence(watcher: Watcher): { presence: PresenceMessage[]; beats: () => number } {
  const presence: PresenceMessage[] = []
  let beats = 0
  watcher.socket.on('presence', (message) => presence.push(message))
  watcher.socket.on('heartbeat', () => {
    beats++
  })
  return { presence, beats: () => beats }
}

/** RFC 4180: quoted cells with doubled quotes, CRLF between records. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let value = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        value += '"'
        i++
      } else if (c === '"') quoted = false
      else value += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(value)
      value = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(value)
      rows.push(row)
      row = []
      value = ''
      i++
    } else value += c
  }
  if (value !== '' || row.length > 0) rows.push([...row, value])
  return rows
}

/** A CSV cell as docs/api.md specifies it: formula-looking text gets a leading apostrophe. */
export function csvText(value: string | number): string {
  const text = String(value)
  return typeof value === 'string' && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
}

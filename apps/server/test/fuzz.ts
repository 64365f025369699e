/**
 * The fuzzer shared by `fuzz.int.test.ts` (a few thousand cases in `pnpm test`) and
 * `bench/fuzz.ts` (100,000 in `pnpm bench fuzz`).
 *
 * Each case is a pure function of (seed, index): `generateCase(seed, index, context)`, where
 * `context` holds only what the setup made (the ids of the tasks the setup created, the
 * target account). It mutates valid requests (the simulator's event shapes and the documented
 * command, session, token and account bodies) or builds hostile ones: wrong types, huge
 * strings, deep nesting, prototype keys (`__proto__`, `constructor`), unicode edge cases
 * (lone surrogates, RTL, zero-width, NUL), truncated JSON, numbers at the edges, arrays
 * where objects are expected, duplicate keys, wrong Content-Type / charset / encoding,
 * hostile query strings and path parameters, socket messages with odd payloads and
 * arities, raw socket.io packets, and broken HTTP framing. The standards too: STIX bundles
 * (`POST /api/v1/import/stix`) and MISP documents (`POST /api/v1/import/misp`), valid, mutated
 * or hostile (refs and markings to nothing, cycles, many versions, unknown types, thousands of
 * observables, deep nesting, texts at the edges, bundles imported again under other default
 * TLPs), and TAXII 2.1 (`/taxii2/`): every endpoint with odd Accept headers, credentials,
 * methods, collections and `match[]` / `added_after` / `limit` / `next` parameters, and Add
 * Objects envelopes with TAXII's own Content-Types.
 *
 * The runner (`runFuzz`) sends them to a real server process with bounded concurrency and
 * checks, per case: never a 5xx, never a hang (a deadline per request and ack); every 4xx
 * is the error family `{ error: { code, message } }` with the status of its code; a
 * body the generator knows to be invalid never gets a 2xx; socket acks are `{ ok, ... }`
 * and `{ ok: false, error }` for bad input; under `/taxii2/` every answer has TAXII's media type
 * and every error is TAXII's error message with its status. Across the run: the process stays
 * up, its RSS (from /proc/<pid>/status) stays under a bound, it logs nothing at error level,
 * and the event log moved by exactly the events the 2xx answers (and successful acks) reported
 * (TAXII's status resources name no seqs: its writer's events are bounded by what they say).
 * A failure message names the seed and the case, and how to replay that one case.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import {
  PAP_MARKING_IDS,
  stixIds,
  TLP1_MARKING_IDS,
  TLP2_MARKING_IDS,
  UUID_NAMESPACE_URL,
  uuidv5,
} from '@watchfloor/sharing'
import { createScenario, takeEvents } from '@watchfloor/simulator'
import fc from 'fast-check'
import { io, type Socket } from 'socket.io-client'
import { logHead, type ServerProcess, startServerProcess } from './harness.ts'

// ---------------------------------------------------------------------------------------
// seed, replay and known bugs

/** The default seed: fixed, so `pnpm test` runs the same cases every time. */
export const DEFAULT_SEED = 20261126

/** `WATCHFLOOR_FUZZ_SEED` (decimal or 0x hex), else the default. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.WATCHFLOOR_FUZZ_SEED
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEED
  const value = Number(raw.trim())
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`WATCHFLOOR_FUZZ_SEED must be a whole number >= 0`)
  return value >>> 0
}

/** `WATCHFLOOR_FUZZ_CASE=N` or `N-M`: run only those case indexes (replay). */
export function fuzzCaseRange(env: NodeJS.ProcessEnv = process.env): { from: number; to: number } | undefined {
  const raw = env.WATCHFLOOR_FUZZ_CASE?.trim()
  if (!raw) return undefined
  const match = raw.match(/^(\d+)(?:-(\d+))?$/)
  if (!match) throw new Error('WATCHFLOOR_FUZZ_CASE must be N or N-M')
  const from = Number(match[1])
  return { from, to: match[2] === undefined ? from : Number(match[2]) }
}

/**
 * Server bugs the fuzzer found and that are not fixed yet, by case family: the test keeps
 * these families out of its main run and checks each in an `it.fails` of its own; the bench
 * runs them and reports them apart. Remove an entry once its bug is fixed.
 *
 * Found by this fuzzer and fixed (f315660), now checked in the main run like any family:
 * - `encoding.corrupt`: a body with Content-Encoding gzip, deflate or br that does not
 *   decompress answered 500 internal (body-parser's zlib error had no `type`);
 * - `param.badPercent`: a path parameter with malformed percent-encoding
 *   (PATCH /api/v1/accounts/%FF) answered 500 internal (the router's URIError);
 * - `socket.ackNotLast`: a socket subscribe, command or viewing sent without a payload, or with
 *   an extra argument before the ack, was never acknowledged (the handlers took args[1] as the
 *   ack), and a valid command with an extra argument ran unacknowledged.
 */
export const KNOWN_BUGS: Readonly<Record<string, string>> = {}

/** How each known bug shows in the server's log (error level), so its lines count under its family. */
const KNOWN_BUG_LOGS: Readonly<Record<string, RegExp>> = {}

// ---------------------------------------------------------------------------------------
// deterministic randomness

/** A 32-bit hash of two numbers (murmur3's finaliser over a mix), for per-case seeds. */
function hash32(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)) >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** mulberry32: small, fast, good enough to pick mutations. */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  float(): number {
    return this.u32() / 2 ** 32
  }
  int(n: number): number {
    return Math.floor(this.float() * n)
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }
  chance(p: number): boolean {
    return this.float() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }
  weighted<T>(entries: readonly (readonly [number, T])[]): T {
    const total = entries.reduce((sum, [w]) => sum + w, 0)
    let r = this.float() * total
    for (const [w, value] of entries) {
      r -= w
      if (r < 0) return value
    }
    return entries.at(-1)![1]
  }
  uuid(): string {
    const hex = Array.from({ length: 4 }, () => this.u32().toString(16).padStart(8, '0')).join('')
    const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
  }
}

// ---------------------------------------------------------------------------------------
// JSON trees that can say what JSON.stringify cannot (duplicate keys, `__proto__` as a
// key, numbers out of double range, broken text)

/** JSON text written as it is. */
class Raw {
  constructor(readonly text: string) {}
}
/** An object as an ordered list of entries: keys may repeat and may be `__proto__`. */
class Obj {
  constructor(readonly entries: [string, J][]) {}
  get(key: string): J | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]![0] === key) return this.entries[i]![1]
    return undefined
  }
}
type J = null | boolean | number | string | J[] | Obj | Raw

function fromPlain(value: unknown): J {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string')
    return value
  if (Array.isArray(value)) return value.map(fromPlain)
  if (typeof value === 'object')
    return new Obj(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, fromPlain(v)]))
  return null
}

function toJson(value: J): string {
  if (value instanceof Raw) return value.text
  if (value instanceof Obj) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null'
  return JSON.stringify(value)
}

/** As a JS value (for socket emits): through JSON.parse, so `__proto__` is an own key and the last duplicate wins. */
function toValue(value: J): unknown {
  const text = toJson(value)
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

type Path = (string | number)[]
/** Every node's path (the root is []), with its value. */
function nodes(value: J, path: Path = [], out: { path: Path; value: J }[] = []): { path: Path; value: J }[] {
  out.push({ path, value })
  if (value instanceof Obj) for (const [k, v] of value.entries) nodes(v, [...path, k], out)
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) nodes(value[i]!, [...path, i], out)
  return out
}

/** A copy of `root` with the node at `path` replaced (undefined: removed). */
function setAt(root: J, path: Path, replacement: J | undefined): J {
  if (path.length === 0) return replacement ?? null
  const [head, ...rest] = path
  if (root instanceof Obj) {
    const entries: [string, J][] = []
    for (const [k, v] of root.entries) {
      if (k !== head) entries.push([k, v])
      else if (rest.length > 0) entries.push([k, setAt(v, rest, replacement)])
      else if (replacement !== undefined) entries.push([k, replacement])
    }
    return new Obj(entries)
  }
  if (Array.isArray(root) && typeof head === 'number') {
    const copy = [...root]
    if (rest.length > 0) copy[head] = setAt(copy[head]!, rest, replacement)
    else if (replacement !== undefined) copy[head] = replacement
    else copy.splice(head, 1)
    return copy
  }
  return root
}

// ---------------------------------------------------------------------------------------
// hostile values

const EDGE_STRINGS: readonly string[] = [
  '',
  ' ',
  '   \t\n ',
  '\u0000',
  'a\u0000b',
  'fz-inc-1\u0000',
  '\ud800',
  '\udfff',
  'x\udc00\ud800y',
  '\ud83d',
  'inc-\ud800',
  '\u202eevil\u202c',
  '\u200f\u05e9\u05dc\u05d5\u05dd',
  '\u0645\u0631\u062d\u0628\u0627',
  '\u200b',
  'a\u200bb',
  'cert-ee\u200b',
  '\u200d',
  '\ufeff',
  '\ufeffcert-ee',
  '\uffff',
  '\ufffe',
  '\u2028',
  '\u2029x',
  '\u00a0',
  '\ud83d\ude00',
  '\ud83d\udc69\u200d\ud83d\udcbb',
  'e\u0301\u0301\u0301',
  '\u001b[31m',
  '\u0007\u0008',
  '\u007f',
  'cert-ee ',
  ' cert-ee',
  'CERT-EE',
  'cert\u2011ee',
  '%00',
  '%s%n%x',
  `\${7*7}`,
  '{{7*7}}',
  '<script>alert(1)</script>',
  "'; DROP TABLE events; --",
  '../../etc/passwd',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'true',
  'NaN',
  '0',
  '-1',
  '1e400',
  'inc-1',
  'fz-inc-1',
  'fz-inc-5',
  'fuzz',
  'x'.repeat(200),
  'x'.repeat(201),
  ' '.repeat(300),
  '2026-11-26T08:00:00Z',
  '2026-11-26T08:00:00',
  '9999-12-31T23:59:59.999Z',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  'RED',
  'AMBER+STRICT',
  'admin',
  'critical',
  '=cmd|calc!A1',
  '@SUM(1)',
  '\r\n',
  'a\r\nX-Injected: 1',
]

/** Numbers at the edges; Raw where JSON.stringify would not write them as they are. */
const EDGE_NUMBERS: readonly J[] = [
  0,
  new Raw('-0'),
  1,
  -1,
  0.5,
  1.5,
  2147483647,
  2147483648,
  -2147483649,
  4294967296,
  9007199254740991,
  new Raw('9007199254740992'),
  new Raw('9007199254740993'),
  1e308,
  -1e308,
  5e-324,
  new Raw('1e400'),
  new Raw('-1e400'),
  new Raw('1E2'),
  new Raw('1.0'),
  new Raw('1e-7'),
  new Raw('123456789012345678901234567890'),
  1_000_000_000,
  1_000_000_001,
  90,
  90.0000001,
  -180,
  180.1,
]

const PROTO_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '__lookupSetter__',
  'isAdmin',
  'extra',
  '',
  ' ',
  '\u0000',
  'tlp\u200b',
  'Type',
  'ID',
  '\ud800',
  '\u202eid',
]

function randomAscii(rng: Rng, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += String.fromCharCode(33 + rng.int(94))
  return out
}

/** fast-check's arbitraries, built once (building one is far dearer than drawing from it). */
const FC_STRINGS = [
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
]
const FC_JSON = fc.jsonValue({ maxDepth: 3 })

/** A string from fast-check (full unicode, grapheme clusters or JSON-ish text), deterministic from the rng. */
function fcString(rng: Rng): string {
  return fc.sample(rng.pick(FC_STRINGS), { seed: rng.u32() | 0, numRuns: 1 })[0] ?? ''
}

/** Any JSON value from fast-check, deterministic from the rng. */
function fcJson(rng: Rng): J {
  return fromPlain(fc.sample(FC_JSON, { seed: rng.u32() | 0, numRuns: 1 })[0] ?? null)
}

function edgeString(rng: Rng): string {
  return rng.weighted<() => string>([
    [6, () => rng.pick(EDGE_STRINGS)],
    [3, () => fcString(rng)],
    [1, () => randomAscii(rng, rng.range(1, 60))],
    [1, () => rng.pick(EDGE_STRINGS) + rng.pick(EDGE_STRINGS)],
  ])()
}

function edgeNumber(rng: Rng): J {
  return rng.chance(0.8) ? rng.pick(EDGE_NUMBERS) : (rng.float() - 0.5) * 10 ** rng.range(0, 20)
}

/** A string longer than any string field allows (50,000 characters at most, text(50_000)); no whitespace to trim. */
function hugeString(rng: Rng, max: number): string {
  const length = rng.pick([50_001, 65_000, 100_000, 250_000, 1_000_000].filter((n) => n <= max))
  const unit = rng.pick(['x', 'ab', '\u00e9', '\ud83d\ude00', '\u202e', '\u0000'])
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length)
}

/** Deeply nested arrays or objects, as raw text (the depth would overflow a recursive serialiser). */
function deepNesting(rng: Rng, maxBytes: number): Raw {
  const depth = rng.pick([10, 100, 1_000, 10_000, 100_000].filter((d) => d * 6 <= maxBytes))
  if (rng.chance(0.5)) return new Raw(`${'['.repeat(depth)}${']'.repeat(depth)}`)
  return new Raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)
}

/** A value of another JSON type than `value` (a string leaf becomes a number, ...). */
function otherType(rng: Rng, value: J): J {
  const options: (() => J)[] = []
  if (typeof value !== 'string') options.push(() => edgeString(rng))
  if (typeof value !== 'number' && !(value instanceof Raw)) options.push(() => edgeNumber(rng))
  if (typeof value !== 'boolean') options.push(() => rng.chance(0.5))
  if (value !== null) options.push(() => null)
  if (!Array.isArray(value))
    options.push(
      () => [],
      () => [value],
      () => [edgeString(rng), edgeNumber(rng)],
    )
  if (!(value instanceof Obj))
    options.push(
      () => new Obj([]),
      () => new Obj([['__proto__', new Obj([['isAdmin', true]])]]),
    )
  return rng.pick(options)()
}

// ---------------------------------------------------------------------------------------
// valid shapes: the simulator's events (as cert-ee's) and the documented bodies

export const WRITER_TOKEN = 'fuzz-writer-token-0123456789abcdef'
export const NOACK_TOKEN = 'fuzz-noack-token-0123456789abcdef'
export const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef'
export const RAW_TOKEN = 'fuzz-raw-token-0123456789abcdef'
/** The TAXII writer: its pushes are told apart by actor, bounded by what their statuses say they added. */
export const TAXII_TOKEN = 'fuzz-taxii-token-0123456789abcdef'
export const TARGET_ACCOUNT = 'fuzz-target'
export const TARGET_PASSWORD = 'fuzz-target-password-1'

/**
 * The fuzz server's principals: the writer posts events and commands (sensor and coordinator
 * of cert-ee, so every valid body appends); every event in the log is then visible to it
 * (cert-ee's own, RED ones as their author), which makes it the privileged reader. The
 * no-ack writer sends socket messages without acks (its events are told apart by actor).
 */
export const FUZZ_PRINCIPALS = [
  {
    token: WRITER_TOKEN,
    user: 'fuzz',
    organisation: 'cert-ee',
    nation: 'EE',
    roles: ['sensor', 'coordinator'],
  },
  {
    token: NOACK_TOKEN,
    user: 'fuzz-noack',
    organisation: 'cert-ee',
    nation: 'EE',
    roles: ['sensor', 'coordinator'],
  },
  { token: ADMIN_TOKEN, user: 'fuzz-admin', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] },
  // the fresh connections of raw packets: a principal of their own (a server may cap sockets per principal)
  { token: RAW_TOKEN, user: 'fuzz-raw', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'] },
  // TAXII Add Objects: its statuses tell how many events, not which; its events are told apart by actor
  { token: TAXII_TOKEN, user: 'fuzz-taxii', organisation: 'cert-ee', nation: 'EE', roles: ['sensor'] },
]

const INCIDENTS = ['fz-inc-1', 'fz-inc-2', 'fz-inc-3', 'fz-inc-4', 'fz-inc-5']
const NETWORK = 'fz-net-1'
const MARKINGS: readonly unknown[] = [
  { tlp: 'GREEN' },
  { tlp: 'CLEAR' },
  { tlp: 'AMBER' },
  { tlp: 'AMBER', releasableTo: ['cert-lv', 'EE'] },
  { tlp: 'AMBER+STRICT' },
  { tlp: 'RED', recipients: ['fuzz'] },
]

/** The simulator's events, as cert-ee would send them about its own network. */
const SCENARIO_EVENTS: readonly Record<string, unknown>[] = takeEvents(
  createScenario({ seed: 42, startTime: '2026-11-26T08:00:00Z', rate: 1 }),
  400,
).map(({ event }) => {
  const copy = structuredClone(event) as unknown as Record<string, unknown>
  copy.source = { organisation: 'cert-ee', network: NETWORK }
  delete copy.actor
  const payload = copy.payload as Record<string, unknown>
  if (copy.type === 'network.registered') {
    payload.organisation = 'cert-ee'
    payload.nation = 'EE'
  }
  return copy
})

/** The base events the setup posts: a network and five incidents (one RED) to act on. */
export function baseEvents(): Record<string, unknown>[] {
  const at = '2026-11-26T08:00:00Z'
  const source = { organisation: 'cert-ee', network: NETWORK }
  return [
    {
      id: randomUUID(),
      type: 'network.registered',
      occurredAt: at,
      source,
      marking: { tlp: 'GREEN' },
      payload: {
        networkId: NETWORK,
        name: 'Fuzz network',
        organisation: 'cert-ee',
        nation: 'EE',
        kind: 'government',
        location: { lat: 59.437, lon: 24.754 },
      },
    },
    ...INCIDENTS.map((incidentId, i) => ({
      id: randomUUID(),
      type: 'incident.reported',
      occurredAt: at,
      source,
      marking: MARKINGS[i] ?? { tlp: 'GREEN' },
      payload: {
        incidentId,
        title: `Fuzz incident ${i + 1}`,
        severity: 'low',
        category: 'malware',
        affectedNetworks: [NETWORK],
      },
    })),
  ]
}

function handmadeEvent(rng: Rng): Record<string, unknown> {
  const incidentId = rng.pick(INCIDENTS)
  const payloads: [string, Record<string, unknown>][] = [
    [
      'network.registered',
      {
        networkId: rng.pick([NETWORK, 'fz-net-2']),
        name: 'Fuzz network',
        organisation: 'cert-ee',
        nation: 'EE',
        kind: rng.pick(['government', 'military', 'other']),
        location: { lat: 59.437, lon: 24.754 },
      },
    ],
    ['network.posture_changed', { networkId: NETWORK, posture: rng.pick(['elevated', 'degraded']), reason: 'fuzz' }],
    [
      'incident.reported',
      {
        incidentId: rng.pick([incidentId, 'fz-inc-new']),
        title: 'Fuzzed report',
        severity: rng.pick(['low', 'medium', 'high', 'critical']),
        category: 'phishing',
        summary: 'A report the fuzzer mutates.',
        affectedNetworks: [NETWORK],
        attackSource: { networkId: 'fz-net-x', location: { lat: 55.75, lon: 37.61 } },
      },
    ],
    ['incident.updated', { incidentId, severity: 'high', status: 'triaged', summary: 'updated' }],
    ['incident.observation', { incidentId, networkId: NETWORK, indicator: '198.51.100.7', count: 3 }],
    ['advisory.published', { advisoryId: 'fz-adv-1', title: 'Advice', body: 'Patch now.', incidentId }],
    // coordination types are command-only when posted raw (A4): 403
    ['incident.acknowledged', { incidentId, note: 'seen' }],
    ['task.created', { taskId: 'fz-task-raw', incidentId, title: 'Raw task', priority: 'high' }],
    ['comment.posted', { commentId: 'c1', incidentId, body: 'raw comment', mentions: [] }],
  ]
  const [type, payload] = rng.pick(payloads)
  return {
    type,
    occurredAt: rng.pick(['2026-11-26T08:00:00Z', '2026-11-26T10:00:00+02:00', '2026-11-26T08:00:00.123456Z']),
    source: { organisation: 'cert-ee', network: NETWORK },
    ...(rng.chance(0.8) ? { marking: rng.pick(MARKINGS) } : {}),
    ...(rng.chance(0.1) ? { actor: { user: 'someone-else', organisation: 'cert-lv' } } : {}),
    payload,
  }
}

/** A valid-looking event (the generator's starting point); its id is fresh per case. */
function templateEvent(rng: Rng): Record<string, unknown> {
  const base = rng.chance(0.6) ? structuredClone(rng.pick(SCENARIO_EVENTS)) : handmadeEvent(rng)
  const { id: _id, ...rest } = base
  return { id: rng.uuid(), ...rest }
}

export interface FuzzContext {
  /** Tasks the setup created (their ids come from the server). */
  taskIds: string[]
}

function templateCommand(rng: Rng, context: FuzzContext): Record<string, unknown> {
  const incidentId = rng.pick(INCIDENTS)
  const taskId = rng.chance(0.85) && context.taskIds.length > 0 ? rng.pick(context.taskIds) : 'fz-task-missing'
  const commands: Record<string, unknown>[] = [
    { type: 'incident.acknowledge', incidentId, note: 'on it' },
    { type: 'incident.escalate', incidentId, severity: rng.pick(['medium', 'high', 'critical']), reason: 'spreading' },
    { type: 'incident.set_status', incidentId, status: rng.pick(['triaged', 'contained', 'new']), reason: 'fuzz' },
    {
      type: 'incident.link',
      incidentId,
      otherIncidentId: rng.pick(INCIDENTS),
      relation: rng.pick(['related', 'duplicate_of']),
    },
    { type: 'network.set_state', incidentId, networkId: NETWORK, state: rng.pick(['affected', 'contained']) },
    {
      type: 'task.create',
      incidentId,
      title: 'Fuzz task',
      description: 'made by the fuzzer',
      priority: rng.pick(['low', 'normal', 'high', 'urgent']),
      dueAt: '2026-11-27T08:00:00Z',
      assignee: rng.chance(0.5) ? { kind: 'user', userId: 'fuzz' } : { kind: 'team', organisation: 'cert-ee' },
    },
    { type: 'task.assign', taskId, assignee: { kind: 'user', userId: 'fuzz' } },
    { type: 'task.accept', taskId },
    { type: 'task.start', taskId },
    { type: 'task.block', taskId, reason: 'waiting' },
    { type: 'task.complete', taskId, note: 'done' },
    { type: 'task.reopen', taskId, reason: 'again' },
    { type: 'comment.post', incidentId, body: 'hello @fuzz', mentions: ['fuzz'] },
    rng.chance(0.5)
      ? { type: 'bookmark.save', title: 'moment', clock: 'recorded', at: '2026-11-26T08:00:00Z' }
      : {
          type: 'bookmark.save',
          title: 'range',
          clock: 'occurred',
          from: '2026-11-26T08:00:00Z',
          to: '2026-11-26T09:00:00Z',
          marking: { tlp: 'GREEN' },
        },
  ]
  const command = rng.pick(commands)
  if (rng.chance(0.2)) command.expectedVersion = rng.pick([0, 1, 2, 5])
  return command
}

function templateSession(rng: Rng): Record<string, unknown> {
  return rng.pick([
    { username: TARGET_ACCOUNT, password: TARGET_PASSWORD },
    { username: 'FUZZ-TARGET ', password: 'wrong-password-123' },
    { username: 'nobody', password: 'nobody-password-1' },
  ])
}

function templateToken(rng: Rng): Record<string, unknown> {
  return rng.pick([
    { label: 'fuzz api', kind: 'api', owner: TARGET_ACCOUNT },
    { label: 'fuzz api 2', owner: TARGET_ACCOUNT },
    {
      label: 'fuzz wall',
      kind: 'display',
      preset: 'overview',
      tlpCeiling: 'AMBER',
      service: { user: 'wall', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'], sources: [] },
    },
    {
      label: 'fuzz service',
      service: { user: 'svc', organisation: 'cert-ee', nation: 'EE', roles: ['analyst'] },
    },
  ])
}

/** Directory entries (admin): an organisation or a community. */
function templateDirectory(rng: Rng): { path: string; body: Record<string, unknown> } {
  return rng.pick([
    {
      path: '/api/v1/directory/organisations',
      body: { id: `fuzz-org-${rng.int(1_000_000)}`, name: 'Fuzz organisation', nation: 'EE', kind: 'industry' },
    },
    {
      path: '/api/v1/directory/communities',
      body: { id: `fuzz-community-${rng.int(1_000_000)}`, name: 'Fuzz community', members: ['cert-ee'] },
    },
  ])
}

/** A partner feed (admin), disabled so the poller never reaches for it. */
function templateFeed(rng: Rng): Record<string, unknown> {
  return {
    id: `fuzz-feed-${rng.int(1_000_000)}`,
    label: 'Fuzz feed',
    url: 'http://127.0.0.1:9',
    apiRoot: '/taxii2/api/',
    collectionId: 'all',
    organisation: 'cert-ee',
    auth: rng.pick([
      { kind: 'none' },
      { kind: 'bearer', secretEnv: 'WATCHFLOOR_FEED_FUZZ' },
      { kind: 'basic', username: 'fuzz', secretEnv: 'WATCHFLOOR_FEED_FUZZ' },
    ]),
    pollSeconds: 60,
    defaultTlp: 'AMBER',
    enabled: false,
  }
}

function templatePatch(rng: Rng): Record<string, unknown> {
  return rng.pick([
    { displayName: 'Fuzz Target' },
    { roles: ['analyst', 'watch_officer'] },
    { disabled: false },
    { password: TARGET_PASSWORD },
    { displayName: 'Fuzz', roles: ['liaison'], disabled: false },
  ])
}

// ---------------------------------------------------------------------------------------
// the standards: STIX bundles and MISP documents to import, TAXII requests

/** Another organisation's incident (alliance's, posted at setup): naming it in an import is re-reporting it [A5]. */
const FOREIGN_INCIDENT = 'fz-inc-alliance'
/** Times with the milliseconds STIX asks for (one with microseconds, also allowed). */
const STIX_TIMES = ['2026-11-26T08:00:00.000Z', '2026-11-25T23:59:59.999Z', '2026-11-26T08:00:00.123456Z']
const STIX_LATER = '2026-11-26T10:00:00.000Z'
const STIX_UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}'
const STIX_BUNDLE_ID = new RegExp(`^bundle--${STIX_UUID}$`)
const STIX_ID_UUID = new RegExp(`^${STIX_UUID}$`)

/** The markings an object may carry: TLP 2.0 and 1.0, PAP, none, or a marking-definition that is nowhere. */
function stixMarkingRefs(rng: Rng): string[] | undefined {
  return rng.weighted<string[] | undefined>([
    [4, undefined],
    [3, [TLP2_MARKING_IDS.GREEN]],
    [2, [TLP2_MARKING_IDS.AMBER]],
    [1, [TLP2_MARKING_IDS['AMBER+STRICT']]],
    [1, [TLP2_MARKING_IDS.RED]],
    [1, [TLP2_MARKING_IDS.CLEAR, PAP_MARKING_IDS.AMBER]],
    [1, [TLP1_MARKING_IDS.AMBER]],
    [1, [`marking-definition--${rng.uuid()}`]],
  ])
}

/** A valid third-party or Watchfloor-made set of STIX objects: an incident and what may come with it. */
function stixObjects(rng: Rng): Record<string, unknown>[] {
  const id = (type: string) => `${type}--${rng.uuid()}`
  const created = rng.pick(STIX_TIMES)
  const sdo = (type: string, properties: Record<string, unknown>): Record<string, unknown> => {
    const object: Record<string, unknown> = {
      type,
      spec_version: '2.1',
      id: id(type),
      created,
      modified: rng.chance(0.3) ? STIX_LATER : created,
      ...properties,
    }
    const refs = stixMarkingRefs(rng)
    if (refs !== undefined) object.object_marking_refs = refs
    if (rng.chance(0.1)) object.x_watchfloor_releasable_to = rng.pick([['cert-lv'], ['EE', 'cert-ee'], ['nobody']])
    if (rng.chance(0.05)) object.x_watchfloor_recipients = ['fuzz']
    return object
  }
  const incidentProperties: Record<string, unknown> = { name: 'Fuzzed incident', description: 'From a fuzzed bundle.' }
  if (rng.chance(0.4)) incidentProperties.labels = ['ransomware', 'fuzz']
  if (rng.chance(0.4)) incidentProperties.x_watchfloor_severity = rng.pick(['low', 'critical', 'bogus'])
  if (rng.chance(0.3)) incidentProperties.x_watchfloor_status = rng.pick(['triaged', 'closed', 'new', 'gone'])
  if (rng.chance(0.2)) incidentProperties.x_watchfloor_category = 'phishing'
  if (rng.chance(0.2)) incidentProperties.x_watchfloor_incident_id = rng.pick(['fz-inc-1', FOREIGN_INCIDENT, 'fz-stix'])
  if (rng.chance(0.2)) incidentProperties.x_watchfloor_affected_networks = [NETWORK, 'fz-net-x']
  if (rng.chance(0.2))
    incidentProperties.x_watchfloor_attack_source = { network_id: 'fz-net-x', latitude: 55.75, longitude: 37.61 }
  const incident = sdo('incident', incidentProperties)
  const objects = [incident]
  if (rng.chance(0.5)) {
    const ip = { type: 'ipv4-addr', spec_version: '2.1', id: id('ipv4-addr'), value: '198.51.100.7' }
    const file = {
      type: 'file',
      spec_version: '2.1',
      id: id('file'),
      name: 'dropper.exe',
      hashes: { MD5: 'd41d8cd98f00b204e9800998ecf8427e' },
    }
    const observed = sdo('observed-data', {
      first_observed: created,
      last_observed: created,
      number_observed: rng.pick([1, 5, 999_999_999]),
      object_refs: [ip.id, file.id],
    })
    const sighting = sdo('sighting', {
      sighting_of_ref: incident.id,
      observed_data_refs: [observed.id],
      count: rng.pick([1, 7, 999_999_999]),
      last_seen: created,
    })
    if (rng.chance(0.3)) sighting.description = '203.0.113.9, evil.example'
    if (rng.chance(0.1)) sighting.x_watchfloor_count = 1e15
    objects.push(ip, file, observed, sighting)
  }
  if (rng.chance(0.3)) {
    const indicator = sdo('indicator', {
      pattern: rng.pick([
        "[ipv4-addr:value = '203.0.113.9']",
        "[url:value = 'http://evil.example/it\\'s']",
        '[x:y = 1] AND [z:w = 2]',
      ]),
      pattern_type: 'stix',
      valid_from: created,
    })
    objects.push(
      indicator,
      sdo('relationship', { relationship_type: 'indicates', source_ref: indicator.id, target_ref: incident.id }),
    )
  }
  if (rng.chance(0.3))
    objects.push(sdo('report', { name: 'Fuzzed report', published: created, object_refs: [incident.id] }))
  if (rng.chance(0.2))
    objects.push(sdo('note', { abstract: 'Fuzzed note', content: 'Patch.\nNow.', object_refs: [incident.id] }))
  if (rng.chance(0.2)) {
    const network = sdo('identity', {
      name: 'Fuzz network',
      identity_class: 'system',
      x_watchfloor_network_id: rng.pick([NETWORK, 'fz-net-stix']),
      x_watchfloor_organisation: rng.pick(['cert-ee', 'cert-lv']),
      x_watchfloor_nation: 'EE',
      x_watchfloor_network_kind: rng.pick(['government', 'nonsense']),
      ...(rng.chance(0.5) ? { x_watchfloor_posture: 'elevated', x_watchfloor_posture_reason: 'fuzz' } : {}),
    })
    const place = sdo('location', { latitude: 59.437, longitude: 24.754 })
    objects.push(
      network,
      place,
      sdo('relationship', { relationship_type: 'located-at', source_ref: network.id, target_ref: place.id }),
    )
  }
  if (rng.chance(0.2)) objects.push(sdo('malware', { name: 'Wiper', is_family: true }))
  if (rng.chance(0.1)) objects.push({ type: 'x-fuzz-thing', id: id('x-fuzz-thing'), x_fuzz: 'unknown type' })
  if (rng.chance(0.1)) {
    const statement = {
      type: 'marking-definition',
      spec_version: '2.1',
      id: id('marking-definition'),
      created,
      definition_type: 'statement',
      definition: { statement: 'Copyright fuzz' },
    }
    incident.object_marking_refs = [...((incident.object_marking_refs as string[] | undefined) ?? []), statement.id]
    objects.push(statement)
  }
  return objects
}

/** Bundles shared by many cases: imported again and again, with other default TLPs (duplicates, L3 conflicts). */
const SHARED_BUNDLES = Array.from({ length: 6 }, (_, i) => {
  const rng = new Rng(0x5717 + i)
  return { type: 'bundle', id: `bundle--${rng.uuid()}`, objects: stixObjects(rng) }
})

/** Hostile bundles, still mostly valid STIX: they stress what the import does with what it reads. */
function hostileStixObjects(rng: Rng, kind: string): { objects: J[]; note: string } {
  const objects = stixObjects(rng)
  const incident = objects[0]!
  const id = (type: string) => `${type}--${rng.uuid()}`
  const plain = (list: Record<string, unknown>[]) => list.map(fromPlain)
  switch (kind) {
    case 'dangling': {
      // refs to objects that are in no bundle: sightings, markings, authors, where sighted
      const sighting = {
        type: 'sighting',
        spec_version: '2.1',
        id: id('sighting'),
        created: STIX_TIMES[0],
        modified: STIX_TIMES[0],
        sighting_of_ref: rng.pick([id('incident'), id('indicator'), id('x-nothing')]),
        observed_data_refs: [id('observed-data')],
        where_sighted_refs: [id('identity')],
        created_by_ref: id('identity'),
        object_marking_refs: [id('marking-definition'), TLP2_MARKING_IDS.GREEN],
        granular_markings: [{ selectors: ['description'], marking_ref: id('marking-definition') }],
      }
      incident.created_by_ref = id('identity')
      return { objects: plain([...objects, sighting]), note: 'refs to nothing' }
    }
    case 'cycle': {
      // relationships both ways, and a sighting of an indicator that only a relationship ties to the incident
      const indicator: Record<string, unknown> = {
        ...objects[0]!,
        type: 'indicator',
        id: id('indicator'),
        pattern: '[a:b = 1]',
        pattern_type: 'stix',
        valid_from: STIX_TIMES[0],
      }
      delete indicator.name
      delete indicator.x_watchfloor_incident_id
      const link = (source: string, target: string) => ({
        type: 'relationship',
        spec_version: '2.1',
        id: id('relationship'),
        created: STIX_TIMES[0],
        modified: STIX_TIMES[0],
        relationship_type: 'related-to',
        source_ref: source,
        target_ref: target,
      })
      const sighting = {
        type: 'sighting',
        spec_version: '2.1',
        id: id('sighting'),
        created: STIX_TIMES[0],
        modified: STIX_TIMES[0],
        sighting_of_ref: indicator.id,
      }
      return {
        objects: plain([
          ...objects,
          indicator,
          link(indicator.id as string, incident.id as string),
          link(incident.id as string, indicator.id as string),
          link(indicator.id as string, indicator.id as string),
          sighting,
        ]),
        note: 'cycles of relationships',
      }
    }
    case 'versions': {
      // one incident in many versions, in any order, and repeats
      const versions = Array.from({ length: rng.range(2, 40) }, (_, i) => ({
        ...incident,
        modified: new Date(Date.parse('2026-11-26T08:00:00.000Z') + rng.int(100) * 1000 + i).toISOString(),
      }))
      return {
        objects: plain([...versions, ...versions.slice(0, 3), ...objects.slice(1)]),
        note: `${versions.length} versions`,
      }
    }
    case 'unknown': {
      const types = [
        'x-fuzz-a',
        'x-fuzz-b',
        'campaign',
        'threat-actor',
        'infrastructure',
        'vulnerability',
        'tool',
        'attack-pattern',
      ]
      const strangers = Array.from({ length: rng.range(1, 60) }, () => {
        const type = rng.pick(types)
        return {
          type,
          spec_version: '2.1',
          id: id(type),
          created: STIX_TIMES[0],
          modified: STIX_TIMES[0],
          name: 'stranger',
          x_fuzz_property: rng.pick([1, 'x', true]),
        }
      })
      return {
        objects: plain([...objects, ...strangers]),
        note: `${strangers.length} objects of types the floor does not import`,
      }
    }
    case 'many': {
      // an observed-data of thousands of observables, sighted: one observation, its indicator cut
      const count = rng.pick([500, 1_000, 2_000])
      const scos = Array.from({ length: count }, (_, i) => ({
        type: 'ipv4-addr',
        id: id('ipv4-addr'),
        value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      }))
      const observed = {
        type: 'observed-data',
        spec_version: '2.1',
        id: id('observed-data'),
        created: STIX_TIMES[0],
        modified: STIX_TIMES[0],
        first_observed: STIX_TIMES[0],
        last_observed: STIX_TIMES[0],
        number_observed: count,
        object_refs: scos.map((s) => s.id),
      }
      const sighting = {
        type: 'sighting',
        spec_version: '2.1',
        id: id('sighting'),
        created: STIX_TIMES[0],
        modified: STIX_TIMES[0],
        sighting_of_ref: incident.id,
        observed_data_refs: [observed.id],
      }
      return { objects: plain([incident, ...scos, observed, sighting]), note: `${count} observables` }
    }
    case 'deep': {
      // a custom property nested deep (the import reads no such property, but everything parses it)
      const deep = deepNesting(rng, 1 << 20)
      const j = fromPlain(incident) as Obj
      return {
        objects: [new Obj([...j.entries, ['x_fuzz_deep', deep]]), ...plain(objects.slice(1))],
        note: `x_fuzz_deep of ${deep.text.length} bytes`,
      }
    }
    default: {
      // texts and numbers at the edges of what each field takes
      // over every limit of the fields the import reads (300, 10,000, 50,000), a few hundred KB in all
      incident.name = hugeString(rng, 100_000)
      incident.description = hugeString(rng, 250_000)
      incident.labels = [hugeString(rng, 65_000)]
      incident.x_watchfloor_incident_id = rng.pick([' '.repeat(300), 'x'.repeat(201), '\u0000', FOREIGN_INCIDENT])
      incident.x_watchfloor_affected_networks = Array.from({ length: 600 }, (_, i) => `net-${i}`)
      incident.x_watchfloor_attack_source = { latitude: 90.0000001, longitude: -180, network_id: '' }
      return { objects: plain(objects), note: 'texts and numbers at the edges' }
    }
  }
}

const STIX_OBJECT_TYPES_CHECKED = new Set([
  'incident',
  'sighting',
  'observed-data',
  'indicator',
  'report',
  'note',
  'identity',
  'location',
  'malware',
  'relationship',
])
const STIX_PROPERTY_NAME = /^[a-z][a-z0-9_]{2,249}|id$/
const STIX_FORBIDDEN = ['severity', 'action', 'username', 'phone_numbers']
const STIX_MS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,}Z$/

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/**
 * Whether STIX objects are certainly not valid STIX 2.1 (judged apart from the server's validator,
 * on a few rules the OASIS schemas state outright): an object that is no object, a bad type or id,
 * a null or empty-list property, a property name the schemas refuse, and for the types the
 * generator makes, a spec_version, created or modified out of form, or an incident without a name.
 */
function stixObjectsInvalid(objects: unknown[]): boolean {
  for (const object of objects) {
    if (!isRecord(object)) return true
    const { type, id } = object
    if (
      typeof type !== 'string' ||
      !/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-?$/.test(type) ||
      type.length < 3 ||
      type.length > 250 ||
      type === 'action'
    )
      return true
    if (typeof id !== 'string' || !id.startsWith(`${type}--`) || !STIX_ID_UUID.test(id.slice(type.length + 2)))
      return true
    if (type === 'marking-definition') continue
    for (const [name, value] of Object.entries(object)) {
      if (!STIX_PROPERTY_NAME.test(name) || STIX_FORBIDDEN.includes(name)) return true
      if (value === null || (Array.isArray(value) && value.length === 0)) return true
    }
    if (!STIX_OBJECT_TYPES_CHECKED.has(type)) continue
    if (object.spec_version !== '2.1' && object.spec_version !== '2.0') return true
    for (const time of ['created', 'modified'])
      if (typeof object[time] !== 'string' || !STIX_MS_TIME.test(object[time] as string)) return true
    if (type === 'incident' && typeof object.name !== 'string') return true
  }
  return false
}

/** A body POST /api/v1/import/stix certainly refuses: no bundle, or objects certainly not STIX. */
function stixBundleInvalid(parsed: unknown): boolean {
  if (!isRecord(parsed) || parsed.type !== 'bundle') return true
  if (typeof parsed.id !== 'string' || !STIX_BUNDLE_ID.test(parsed.id)) return true
  if (parsed.objects === undefined) return false
  if (!Array.isArray(parsed.objects) || parsed.objects.length === 0) return true
  return stixObjectsInvalid(parsed.objects)
}

/** A TAXII envelope Add Objects certainly refuses (422): no object, objects not a list, or none, or not STIX. */
function stixEnvelopeInvalid(parsed: unknown): boolean {
  if (!isRecord(parsed)) return true
  const objects = parsed.objects ?? []
  if (!Array.isArray(objects) || objects.length === 0) return true
  return stixObjectsInvalid(objects)
}

/** `?defaultTlp=`: none, a TLP, or a value the import refuses (400). */
function defaultTlpQuery(rng: Rng): { query: string; invalid: boolean } {
  return rng.weighted<{ query: string; invalid: boolean }>([
    [6, { query: '', invalid: false }],
    [
      3,
      {
        query: `?defaultTlp=${encodeURIComponent(rng.pick(['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED']))}`,
        invalid: false,
      },
    ],
    [
      1,
      {
        query: `?defaultTlp=${rng.pick(['PURPLE', 'green', '', 'AMBER%2BSTRICT%00', 'GREEN&defaultTlp=AMBER'])}`,
        invalid: true,
      },
    ],
    [0.5, { query: '?defaultTlp=GREEN&other=1', invalid: false }],
  ])
}

function importStixCase(rng: Rng, index: number): HttpCase {
  const shape = rng.weighted<string>([
    [6, 'fresh'],
    [3, 'shared'],
    [1, 'dangling'],
    [1, 'cycle'],
    [1, 'versions'],
    [1, 'unknown'],
    [0.3, 'many'],
    [0.5, 'deep'],
    [0.5, 'edges'],
  ])
  let valid: J
  let note = shape
  if (shape === 'fresh') valid = fromPlain({ type: 'bundle', id: `bundle--${rng.uuid()}`, objects: stixObjects(rng) })
  else if (shape === 'shared') valid = fromPlain(rng.pick(SHARED_BUNDLES))
  else {
    const hostile = hostileStixObjects(rng, shape)
    valid = new Obj([
      ['type', 'bundle'],
      ['id', `bundle--${rng.uuid()}`],
      ['objects', hostile.objects],
    ])
    note = `${shape}: ${hostile.note}`
  }
  const { query, invalid } = defaultTlpQuery(rng)
  const c = bodyCase(
    rng,
    index,
    'import.stix',
    'POST',
    `/api/v1/import/stix${query}`,
    'writer',
    valid,
    10 << 20,
    false,
    {
      note,
      judge: stixBundleInvalid,
    },
  )
  if (invalid) c.invalid = true
  if (c.family === 'valid') c.family = `stix.${shape}`
  return c
}

// MISP: an event as MISP's API returns it, in each shape the import accepts

function mispEvent(rng: Rng): Record<string, unknown> {
  const uuid = rng.chance(0.3)
    ? rng.pick(['5a0c6a5e-3c1f-4a0b-9d1e-2b3c4d5e6f70', '72e0be8d-f8f6-4615-b215-582566ed16e7'])
    : rng.uuid()
  const attribute = (type: string, value: string): Record<string, unknown> => ({
    uuid: rng.uuid(),
    type,
    category: 'Network activity',
    value,
    to_ids: rng.chance(0.5),
    distribution: rng.pick(['5', '0', 3, '4']),
    timestamp: rng.pick(['1795939200', 1795939201]),
    first_seen: rng.pick([null, '2026-11-26T08:00:00Z', 'not a time']),
    Tag: rng.chance(0.3) ? [{ name: rng.pick(['tlp:red', 'tlp:amber+strict', 'PAP:RED', 'tlp:ex:chr']) }] : [],
  })
  const event: Record<string, unknown> = {
    uuid,
    info: rng.pick(['Fuzzed MISP event', 'x'.repeat(400), 1234]),
    date: rng.pick(['2026-11-25', '2026-02-30']),
    threat_level_id: rng.pick(['1', '2', 4, '3']),
    analysis: rng.pick(['0', 2]),
    timestamp: rng.pick(['1795939200', '1795939300', 1795939400]),
    distribution: rng.pick(['0', '1', '2', '3', '4', '5', 3]),
    Orgc: { name: rng.pick(['cert-ee', 'CERT-EE', 'unknown-org', 'alliance']) },
    Tag: rng.pick([
      [{ name: 'tlp:amber' }, { name: 'PAP:GREEN' }],
      [{ name: 'tlp:green' }, { name: 'circl:incident-classification="phishing"' }],
      [{ name: 'tlp:clear' }, { name: 'misp-galaxy:ransomware="Fuzz"' }],
      [{ name: 'tlp:purple' }],
      ['tlp:red'],
      [],
    ]),
    Attribute: Array.from({ length: rng.range(0, 4) }, () =>
      rng.pick<[string, string]>([
        ['ip-dst', '198.51.100.7'],
        ['domain', 'evil.example'],
        ['url', 'http://evil.example/x'],
        ['md5', 'd41d8cd98f00b204e9800998ecf8427e'],
        ['text', 'free text'],
      ]),
    ).map(([type, value]) => attribute(type, value)),
  }
  if (event.distribution === '4' || rng.chance(0.1)) {
    event.sharing_group_id = '7'
    event.SharingGroup = { id: '7', name: rng.pick(['fuzz-community-1', 'nobody-knows']), uuid: rng.uuid() }
  }
  if (rng.chance(0.3))
    event.Object = [
      {
        uuid: rng.uuid(),
        name: 'file',
        Attribute: [
          attribute('filename', 'dropper.exe'),
          attribute('sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
        ],
      },
    ]
  if (rng.chance(0.2))
    event.EventReport = [{ uuid: rng.uuid(), name: 'Report', content: 'A report.', deleted: false, distribution: '5' }]
  if (rng.chance(0.1)) event.Tag = [...(event.Tag as unknown[]), { name: 'watchfloor:kind="advisory"' }]
  return event
}

function mispDocument(rng: Rng): { document: Record<string, unknown> | unknown[]; shape: string } {
  const shape = rng.weighted<string>([
    [6, 'event'],
    [1, 'bare'],
    [2, 'search'],
    [1, 'array'],
    [1, 'feed'],
  ])
  switch (shape) {
    case 'bare':
      return { document: mispEvent(rng), shape }
    case 'search':
      return {
        document: { response: Array.from({ length: rng.range(1, 4) }, () => ({ Event: mispEvent(rng) })) },
        shape,
      }
    case 'array':
      return { document: Array.from({ length: rng.range(1, 3) }, () => ({ Event: mispEvent(rng) })), shape }
    case 'feed': {
      const events = Array.from({ length: rng.range(1, 3) }, () => mispEvent(rng))
      const manifest = Object.fromEntries(
        events.map((e) => [e.uuid as string, { info: e.info, timestamp: e.timestamp }]),
      )
      if (rng.chance(0.3)) manifest[rng.uuid()] = { info: 'listed, not given', timestamp: '1795939200' }
      return {
        document: { manifest, events: Object.fromEntries(events.map((e) => [e.uuid as string, { Event: e }])) },
        shape,
      }
    }
    default:
      return { document: { Event: mispEvent(rng) }, shape }
  }
}

const MISP_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** An integer field MISP writes as a number or a numeric string, certainly outside [min, max] or not one. */
function mispIntInvalid(value: unknown, min: number, max: number): boolean {
  if (value === undefined || value === null || value === '') return false
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : Number.NaN
  return !Number.isInteger(n) || n < min || n > max
}

/** A MISP text field that is certainly not one: not a string nor a finite number. */
const mispTextInvalid = (value: unknown) =>
  typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))

/**
 * Whether a body POST /api/v1/import/misp certainly refuses (judged apart from the server's reader,
 * on the rules docs/sharing.md states): neither an object nor an array; and for `{ "Event": ... }`,
 * an event without a UUID or info, a distribution or threat level out of range, an attribute list
 * that is not one, an attribute without type or value, a tag without a name.
 */
function mispInvalid(parsed: unknown): boolean {
  if (!isRecord(parsed)) return !Array.isArray(parsed)
  if (!('Event' in parsed) || 'response' in parsed || 'manifest' in parsed || 'events' in parsed) return false
  const event = parsed.Event
  if (!isRecord(event)) return true
  if (typeof event.uuid !== 'string' || !MISP_UUID.test(event.uuid)) return true
  if (
    event.info === undefined ||
    event.info === null ||
    mispTextInvalid(event.info) ||
    String(event.info).trim() === ''
  )
    return true
  if (
    mispIntInvalid(event.distribution, 0, 5) ||
    mispIntInvalid(event.threat_level_id, 1, 4) ||
    mispIntInvalid(event.analysis, 0, 2)
  )
    return true
  const tagsInvalid = (tags: unknown) =>
    tags !== undefined &&
    tags !== null &&
    (!Array.isArray(tags) ||
      tags.some((tag) => {
        const name = typeof tag === 'string' ? tag : isRecord(tag) ? tag.name : undefined
        return typeof name !== 'string' || name.trim() === ''
      }))
  if (tagsInvalid(event.Tag)) return true
  const attributes = event.Attribute
  if (attributes === undefined || attributes === null) return false
  if (!Array.isArray(attributes)) return true
  return attributes.some(
    (a) =>
      !isRecord(a) ||
      a.type === undefined ||
      a.type === null ||
      mispTextInvalid(a.type) ||
      a.value === undefined ||
      a.value === null ||
      mispTextInvalid(a.value) ||
      mispIntInvalid(a.distribution, 0, 5) ||
      tagsInvalid(a.Tag),
  )
}

function importMispCase(rng: Rng, index: number): HttpCase {
  const { document, shape } = mispDocument(rng)
  const { query, invalid } = defaultTlpQuery(rng)
  const c = bodyCase(
    rng,
    index,
    'import.misp',
    'POST',
    `/api/v1/import/misp${query}`,
    'writer',
    fromPlain(document),
    10 << 20,
    false,
    {
      note: shape,
      judge: mispInvalid,
    },
  )
  if (invalid) c.invalid = true
  if (c.family === 'valid') c.family = `misp.${shape}`
  return c
}

// TAXII 2.1: the discovery, API root, collections, objects, manifests, versions, status; Add Objects

const TAXII_MEDIA = 'application/taxii+json;version=2.1'
const TAXII_ALL = uuidv5(uuidv5(UUID_NAMESPACE_URL, 'urn:watchfloor:taxii'), 'all')
/** An object every fuzz reader may see: the STIX id of the setup's first incident. */
const TAXII_OBJECT = stixIds.incident('fz-inc-1')

/**
 * Accept headers: TAXII 2.1 (allowed), certainly not (406), or malformed in ways a server may read
 * either way (`ok` undefined: no expectation).
 */
function taxiiAccept(rng: Rng): { accept: string | undefined; ok: boolean | undefined } {
  return rng.weighted<{ accept: string | undefined; ok: boolean | undefined }>([
    [10, { accept: TAXII_MEDIA, ok: true }],
    [2, { accept: 'application/taxii+json', ok: true }],
    [1, { accept: 'application/taxii+json; version="2.1"; q=0.5, */*', ok: true }],
    [1, { accept: 'text/html, application/taxii+json;version=2.1;q=0.1', ok: true }],
    [1, { accept: undefined, ok: false }],
    [1, { accept: '*/*', ok: false }],
    [1, { accept: 'application/json', ok: false }],
    [1, { accept: 'application/taxii+json;version=2.0', ok: false }],
    [1, { accept: 'application/taxii+json;version=2.1;q=0', ok: false }],
    [1, { accept: rng.pick([';;;', ',', `${'a/'.repeat(2000)}b`, 'application/taxii', 'taxii+json']), ok: false }],
    [
      1,
      {
        accept: rng.pick([
          'application/taxii+json;version',
          'application/taxii+json;;version=2.1',
          'APPLICATION/TAXII+JSON;VERSION=2.1',
        ]),
        ok: undefined,
      },
    ],
  ])
}

/**
 * Who asks: the TAXII writer (bearer, or Basic with the token as password or as user), the writer
 * (reads only here: its events must come with seqs), the display token (reads, 403 on writes), or
 * no one that counts (401). `ok`: it authenticates; `writes`: it may add objects.
 */
function taxiiAuth(rng: Rng, post: boolean): { auth: Auth; header?: string; ok: boolean; writes: boolean } {
  const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`
  return rng.weighted<{ auth: Auth; header?: string; ok: boolean; writes: boolean }>([
    [8, { auth: 'taxii', ok: true, writes: true }],
    [post ? 0 : 3, { auth: 'writer', ok: true, writes: true }],
    [2, { auth: 'none', header: basic(`anyone:${TAXII_TOKEN}`), ok: true, writes: true }],
    [1, { auth: 'none', header: basic(`${TAXII_TOKEN}:`), ok: true, writes: true }],
    [1, { auth: 'display', ok: true, writes: false }],
    [1, { auth: 'none', ok: false, writes: false }],
    [
      1,
      {
        auth: 'none',
        header: rng.pick(['Bearer', 'Bearer nope-nope-nope-nope', basic('x:y'), 'Basic !!!', 'Digest x', basic(':')]),
        ok: false,
        writes: false,
      },
    ],
  ])
}

/** Collection names: "all" by alias or id, a community (perhaps none), one that is no collection (404), odd paths. */
function taxiiCollection(rng: Rng): { name: string; exists: boolean | undefined } {
  return rng.weighted<{ name: string; exists: boolean | undefined }>([
    [6, { name: 'all', exists: true }],
    [3, { name: TAXII_ALL, exists: true }],
    [1, { name: `community-fuzz-community-${rng.int(3)}`, exists: undefined }],
    [1, { name: rng.uuid(), exists: false }],
    [1, { name: percentEncode(edgeString(rng)) || '%20', exists: undefined }],
    [0.5, { name: rng.pick(BAD_PERCENT), exists: false }],
  ])
}

/** One TAXII query parameter, good or certainly refused (400) by an endpoint that reads it. */
function taxiiParam(rng: Rng, name: string): { value: string; bad: boolean } {
  const bad = rng.chance(0.3)
  const token = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  switch (name) {
    case 'added_after':
      return bad
        ? { value: rng.pick(['yesterday', '2026-11-26', '2026-11-26T08:00:00+01:00', '', '2026-13-01T00:00:00Z']), bad }
        : {
            value: rng.pick([
              '2020-01-01T00:00:00Z',
              '2026-11-26T08:00:00.000000Z',
              '9999-12-31T23:59:59.999999Z',
              '2026-11-26T08:00:00.1234567Z',
            ]),
            bad,
          }
    case 'limit':
      return bad
        ? { value: rng.pick(['0', '-1', 'x', '1.5', '99999999999999999999', '']), bad }
        : { value: rng.pick(['1', '2', '10', '1000', '5000']), bad }
    case 'next':
      return bad
        ? {
            value: rng.pick([
              'nonsense',
              token([-1, 'x']),
              token([1.5, 'x']),
              token({}),
              token(['1', 'x']),
              '%%%',
              Buffer.from('[1e400,"x"]').toString('base64url'),
            ]),
            bad,
          }
        : { value: rng.pick([token([0, '']), token([3, 'incident--x']), token([9007199254740991, 'z'])]), bad }
    case 'match[version]':
      return bad
        ? { value: rng.pick(['all,last', 'last,last', 'yesterday', 'last,', '']), bad }
        : { value: rng.pick(['all', 'last', 'first,last', '2026-11-26T08:00:00.000Z']), bad }
    case 'match[spec_version]':
      return bad ? { value: rng.pick(['x', '2', '2.1,', ' 2.1']), bad } : { value: rng.pick(['2.1', '2.0,2.1']), bad }
    default:
      // match[id], match[type]
      return bad
        ? { value: rng.pick(['', 'a,,b', ' incident', 'incident, sighting']), bad }
        : {
            value:
              name === 'match[id]'
                ? rng.pick([TAXII_OBJECT, `${TAXII_OBJECT},incident--x`])
                : rng.pick(['incident', 'sighting,report', 'x-nothing']),
            bad,
          }
  }
}

/** Half the TAXII requests are proper ones (TAXII's Accept, the TAXII writer, "all"): their bodies and queries get through. */
const PROPER_TAXII = {
  accept: { accept: TAXII_MEDIA, ok: true },
  who: { auth: 'taxii', ok: true, writes: true },
  collection: { name: 'all', exists: true },
} as const

function taxiiGetCase(rng: Rng, index: number): HttpCase {
  const proper = rng.chance(0.5)
  const collection = proper ? PROPER_TAXII.collection : taxiiCollection(rng)
  const base = `/taxii2/api/collections/${collection.name}/`
  const endpoints: [number, { path: string; reads: string[]; needs: boolean }][] = [
    [1, { path: '/taxii2/', reads: [], needs: false }],
    [1, { path: '/taxii2/api/', reads: [], needs: false }],
    [2, { path: '/taxii2/api/collections/', reads: [], needs: false }],
    [1, { path: base, reads: [], needs: true }],
    [
      5,
      {
        path: `${base}objects/`,
        reads: ['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'],
        needs: true,
      },
    ],
    [
      3,
      {
        path: `${base}manifest/`,
        reads: ['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'],
        needs: true,
      },
    ],
    [
      2,
      {
        path: `${base}objects/${rng.pick([TAXII_OBJECT, `incident--${rng.uuid()}`, percentEncode(edgeString(rng)) || 'x'])}/`,
        reads: ['added_after', 'limit', 'next', 'match[version]', 'match[spec_version]'],
        needs: true,
      },
    ],
    [
      1,
      {
        path: `${base}objects/${TAXII_OBJECT}/versions/`,
        reads: ['added_after', 'limit', 'next', 'match[spec_version]'],
        needs: true,
      },
    ],
    [1, { path: `/taxii2/api/status/${rng.pick([rng.uuid(), 'x', '..'])}/`, reads: [], needs: false }],
    [
      1,
      {
        path: rng.pick([
          '/taxii2/api',
          '/taxii2/api/collections',
          '/taxii2/nope/',
          `${base}objects`,
          '/taxii2/api/collections/all/objects/x/y/z/',
        ]),
        reads: [],
        needs: false,
      },
    ],
  ]
  const endpoint = rng.weighted(endpoints)
  const pairs: [string, string][] = []
  let invalid = false
  const names = [
    'added_after',
    'limit',
    'next',
    'match[id]',
    'match[type]',
    'match[version]',
    'match[spec_version]',
    'match[nothing]',
    'added_before',
  ]
  for (
    let i = rng.weighted([
      [3, 0],
      [4, 1],
      [2, 2],
      [1, 4],
    ]);
    i > 0;
    i--
  ) {
    const name = rng.pick(names)
    const { value, bad } = taxiiParam(rng, name)
    if (pairs.some(([k]) => k === name) && endpoint.reads.includes(name)) invalid = true // 3.4: a parameter at most once
    pairs.push([name, value])
    if (bad && endpoint.reads.includes(name)) invalid = true
  }
  const query = pairs.map(([k, v]) => `${encodeQueryPart(rng, k)}=${encodeQueryPart(rng, v)}`).join('&')
  const accept = proper ? PROPER_TAXII.accept : taxiiAccept(rng)
  const who: { auth: Auth; header?: string; ok: boolean; writes: boolean } = proper
    ? PROPER_TAXII.who
    : taxiiAuth(rng, false)
  const method = rng.weighted<'GET' | 'PUT' | 'DELETE' | 'PATCH'>([
    [20, 'GET'],
    [1, 'PUT'],
    [1, 'DELETE'],
    [1, 'PATCH'],
  ])
  const headers: Record<string, string> = {}
  if (accept.accept !== undefined) headers.accept = accept.accept
  if (who.header !== undefined) headers.authorization = who.header
  if (rng.chance(0.05))
    headers['x-watchfloor-view-as'] = rng.pick(['organisation:cert-lv', 'community:nobody', 'nonsense', ''])
  // the credential (401), the Accept (406), the method (405), the collection (404), the parameters (400)
  const refused = accept.ok === false || !who.ok || method !== 'GET' || (endpoint.needs && collection.exists === false)
  return {
    kind: 'http',
    index,
    target: 'taxii.get',
    family: method === 'GET' ? (pairs.length > 0 ? 'taxii.query' : 'taxii.get') : 'taxii.method',
    note: `${method} accept=${accept.accept ?? '(none)'} auth=${who.auth}${who.header ? ` ${who.header.slice(0, 40)}` : ''}`,
    method,
    path: `${endpoint.path}${query.length > 0 ? `?${query}` : ''}`,
    headers,
    auth: who.auth,
    invalid: invalid || refused,
  }
}

/**
 * How an Add Objects body travels: TAXII's media type (with or without its version, a charset),
 * or another one (415); perhaps compressed (or corrupt), perhaps after a BOM.
 */
function taxiiTransport(rng: Rng, body: Buffer): ReturnType<typeof transport> {
  const type = rng.weighted<{ type: string | undefined; ok: boolean }>([
    [10, { type: TAXII_MEDIA, ok: true }],
    [2, { type: 'application/taxii+json', ok: true }],
    [1, { type: 'application/taxii+json; version="2.1"; charset=utf-8', ok: true }],
    [1, { type: 'application/taxii+json;version=2.1;charset=latin1', ok: false }],
    [1, { type: 'application/json', ok: false }],
    [1, { type: 'application/stix+json;version=2.1', ok: false }],
    [1, { type: 'application/taxii+json;version=2.0', ok: false }],
    [1, { type: undefined, ok: false }],
  ])
  const headers: Record<string, string> = type.type === undefined ? {} : { 'content-type': type.type }
  const note = `Content-Type: ${type.type ?? '(none)'}`
  const family = type.ok ? undefined : 'taxii.contentType'
  const travel = rng.weighted<string>([
    [12, 'plain'],
    [1, 'gzip'],
    [1, 'corrupt'],
    [1, 'bom'],
  ])
  if (travel === 'gzip')
    return {
      headers: { ...headers, 'content-encoding': 'gzip' },
      body: gzipSync(body),
      family: family ?? 'encoding.valid',
      note: `${note}, gzip`,
      invalid: !type.ok,
    }
  if (travel === 'corrupt')
    return {
      headers: { ...headers, 'content-encoding': 'gzip' },
      body: gzipSync(body).subarray(0, Math.max(0, body.length > 20 ? 20 : 1)),
      family: 'encoding.corrupt',
      note: `${note}, gzip that does not decompress`,
      invalid: true,
    }
  if (travel === 'bom')
    return {
      headers,
      body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]),
      family: family ?? 'contentType.bom',
      note: `${note}, BOM`,
      invalid: !type.ok,
    }
  return { headers, body, ...(family === undefined ? {} : { family }), note, invalid: !type.ok }
}

/** Add Objects: an envelope of the objects a bundle holds, mutated or hostile, as TAXII sends it. */
function taxiiPostCase(rng: Rng, index: number): HttpCase {
  const shape = rng.weighted<string>([
    [6, 'fresh'],
    [2, 'shared'],
    [1, 'dangling'],
    [1, 'versions'],
    [1, 'unknown'],
    [0.3, 'many'],
    [0.3, 'deep'],
    [0.5, 'edges'],
  ])
  const objects: J =
    shape === 'fresh'
      ? fromPlain(stixObjects(rng))
      : shape === 'shared'
        ? fromPlain(rng.pick(SHARED_BUNDLES).objects)
        : hostileStixObjects(rng, shape).objects
  const envelope = rng.weighted<J>([
    [8, new Obj([['objects', objects]])],
    [
      1,
      new Obj([
        ['more', false],
        ['next', 'x'],
        ['objects', objects],
      ]),
    ],
    [
      1,
      new Obj([
        ['type', 'bundle'],
        ['id', `bundle--${rng.uuid()}`],
        ['objects', objects],
      ]),
    ],
  ])
  const proper = rng.chance(0.5)
  const collection = proper ? PROPER_TAXII.collection : taxiiCollection(rng)
  const accept = proper ? PROPER_TAXII.accept : taxiiAccept(rng)
  const who: { auth: Auth; header?: string; ok: boolean; writes: boolean } = proper
    ? PROPER_TAXII.who
    : taxiiAuth(rng, true)
  const path = `/taxii2/api/collections/${collection.name}/objects/`
  const c = bodyCase(rng, index, 'taxii.post', 'POST', path, who.auth, envelope, 10 << 20, false, {
    note: shape,
    judge: stixEnvelopeInvalid,
    transport: proper
      ? (_rng, body) => ({ headers: { 'content-type': TAXII_MEDIA }, body, invalid: false })
      : taxiiTransport,
  })
  if (accept.accept !== undefined) c.headers.accept = accept.accept
  if (who.header !== undefined) c.headers.authorization = who.header
  c.note = `${c.note}; accept=${accept.accept ?? '(none)'} auth=${who.auth}${who.header ? ` ${who.header.slice(0, 40)}` : ''}`
  // the credential (401), the Accept (406), the collection (404), then may it write (403), before the body
  if (accept.ok === false || !who.ok || !who.writes || collection.exists === false) c.invalid = true
  if (c.family === 'valid') c.family = `taxii.${shape}`
  return c
}

// ---------------------------------------------------------------------------------------
// cases

export type HttpTarget =
  | 'events.single'
  | 'events.batch'
  | 'commands'
  | 'session'
  | 'tokens'
  | 'accounts'
  | 'directory'
  | 'feeds'
  | 'query.events'
  | 'query.state'
  | 'query.export'
  | 'query.handover'
  | 'http.framing'
  | 'import.stix'
  | 'import.misp'
  | 'taxii.get'
  | 'taxii.post'
export type SocketTarget = 'socket.subscribe' | 'socket.command' | 'socket.viewing' | 'socket.other' | 'socket.raw'

export type Auth = 'writer' | 'admin' | 'none' | 'taxii' | 'display'

export interface HttpCase {
  kind: 'http'
  index: number
  target: HttpTarget
  /** The mutation family (KNOWN_BUGS is keyed by it). */
  family: string
  /** What was done to the valid shape, for the failure message. */
  note: string
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  path: string
  headers: Record<string, string>
  auth: Auth
  body?: Buffer
  /** Raw bytes for the socket, framing and all (http.framing): Node's own 400/431 answers are allowed. */
  raw?: Buffer
  /** The generator is certain the request is invalid: a 2xx is a failure. */
  invalid: boolean
}

export interface SocketCase {
  kind: 'socket'
  index: number
  target: SocketTarget
  family: string
  note: string
  /** Which client: the writer (acks), the no-ack writer, a display token, or a fresh connection. */
  socket: 'writer' | 'noack' | 'display' | 'fresh'
  event: string
  args: unknown[]
  /** The client asks for an ack (the last argument). */
  ack: boolean
  /** Packets written through the engine as they are (socket.raw). */
  raw?: (string | Buffer)[]
  invalid: boolean
}

export type FuzzCase = HttpCase | SocketCase

interface Mutated {
  value: J
  family: string
  note: string
  invalid: boolean
  /** Serialise as this text instead of toJson(value) (broken JSON). */
  text?: string
  bytes?: Buffer
}

/** Object nodes of a tree, except the root (arrays where objects are expected). */
const objectNodes = (root: J) => nodes(root).filter((n) => n.path.length > 0 && n.value instanceof Obj)
const leafNodes = (root: J) =>
  nodes(root).filter((n) => n.path.length > 0 && !(n.value instanceof Obj) && !Array.isArray(n.value))

/** The JSON type of a parsed value. */
function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** The node at `path` of a parsed value, or undefined (walked without recursion: values may nest deeply). */
function lookup(root: unknown, path: Path): unknown {
  let node = root
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined
    node = (node as Record<string | number, unknown>)[key]
  }
  return node
}

/**
 * Whether a body is invalid for sure, judged on what the server parses (`effective`: last
 * duplicate wins, `__proto__` an own key) against the valid template it was made from.
 * Every schema is strict and no field takes two JSON types (but the `nullable` paths, which
 * take a string or null), so: another JSON type where the template has a value, a string
 * over every length limit (50,000 after trimming), or a key that is no field anywhere
 * (PROTO_KEYS) in an object the template has, make it invalid whatever else changed.
 * Anything else (a removed field, an edge string, a duplicate whose last value is valid)
 * may still be valid.
 */
function certainlyInvalid(effective: unknown, template: J, nullable: ReadonlySet<string>): boolean {
  const plain = JSON.parse(toJson(template)) as unknown
  for (const { path } of nodes(template)) {
    const expected = lookup(plain, path)
    const actual = lookup(effective, path)
    if (path.length > 0 && actual === undefined) continue
    const kind = kindOf(actual)
    if (kind !== kindOf(expected) && !(nullable.has(path.join('.')) && (kind === 'string' || kind === 'null')))
      return true
    if (typeof actual === 'string' && actual.trim().length > 50_000) return true
    if (kind === 'object' && Object.keys(actual as object).some((key) => PROTO_KEYS.includes(key))) return true
  }
  return false
}

/**
 * One or more mutations of a valid body. Whether the result is certainly invalid is decided
 * afterwards, on the whole result (`certainlyInvalid`), since a later mutation may undo an
 * earlier one (a duplicate key whose last value is the original, a field replaced twice).
 */
function mutate(rng: Rng, valid: J, limitBytes: number): Mutated {
  let value = valid
  const notes: string[] = []
  let family = 'valid'
  const steps = rng.weighted([
    [3, 0],
    [6, 1],
    [3, 2],
    [1, 3],
  ])
  for (let step = 0; step < steps; step++) {
    const op = rng.weighted<string>([
      [5, 'wrongType'],
      [5, 'edgeString'],
      [3, 'edgeNumber'],
      [3, 'protoKey'],
      [2, 'removeField'],
      [2, 'arrayForObject'],
      [2, 'duplicateKey'],
      [1, 'hugeString'],
      [1, 'deepNesting'],
      [1, 'fcValue'],
      [1, 'rawNumber'],
    ])
    family = `mutate.${op}`
    const leaves = leafNodes(value)
    const objects = objectNodes(value)
    switch (op) {
      case 'wrongType': {
        const leaf = leaves.length > 0 ? rng.pick(leaves) : undefined
        if (!leaf) break
        const replacement = otherType(rng, leaf.value)
        value = setAt(value, leaf.path, replacement)
        notes.push(`${leaf.path.join('.')} := ${toJson(replacement).slice(0, 60)}`)
        break
      }
      case 'edgeString': {
        const strings = leaves.filter((l) => typeof l.value === 'string')
        if (strings.length === 0) break
        const leaf = rng.pick(strings)
        const s = edgeString(rng)
        value = setAt(value, leaf.path, s)
        notes.push(`${leaf.path.join('.')} := ${JSON.stringify(s).slice(0, 60)}`)
        break
      }
      case 'edgeNumber':
      case 'rawNumber': {
        const numbers = leaves.filter((l) => typeof l.value === 'number' || l.value instanceof Raw)
        const pool = numbers.length > 0 ? numbers : leaves
        if (pool.length === 0) break
        const leaf = rng.pick(pool)
        const n = op === 'rawNumber' ? rng.pick(EDGE_NUMBERS.filter((x) => x instanceof Raw)) : edgeNumber(rng)
        value = setAt(value, leaf.path, n)
        notes.push(`${leaf.path.join('.')} := ${toJson(n)}`)
        break
      }
      case 'protoKey': {
        const targets = [{ path: [] as Path, value }, ...objects].filter((n) => n.value instanceof Obj)
        if (targets.length === 0) break
        const target = rng.pick(targets)
        const key = rng.pick(PROTO_KEYS)
        const inner: J = rng.pick<J>([
          new Obj([['isAdmin', true]]),
          new Obj([['tlp', 'CLEAR']]),
          'x',
          1,
          null,
          [],
          new Obj([['polluted', 'yes']]),
        ])
        const obj = target.value as Obj
        value = setAt(value, target.path, new Obj([...obj.entries, [key, inner]]))
        notes.push(`${[...target.path, key].join('.')} := ${toJson(inner)}`)
        break
      }
      case 'removeField': {
        const fields = nodes(value).filter((n) => n.path.length > 0 && typeof n.path.at(-1) === 'string')
        if (fields.length === 0) break
        const field = rng.pick(fields)
        value = setAt(value, field.path, undefined)
        notes.push(`delete ${field.path.join('.')}`)
        break
      }
      case 'arrayForObject': {
        const target = objects.length > 0 ? rng.pick(objects) : undefined
        if (!target) break
        const replacement: J = rng.pick<J>([[], [target.value], [target.value, target.value], [null]])
        value = setAt(value, target.path, replacement)
        notes.push(`${target.path.join('.')} := array`)
        break
      }
      case 'duplicateKey': {
        const targets = [{ path: [] as Path, value }, ...objects].filter(
          (n) => n.value instanceof Obj && n.value.entries.length > 0,
        )
        if (targets.length === 0) break
        const target = rng.pick(targets)
        const obj = target.value as Obj
        const [key, original] = rng.pick(obj.entries)
        const other: J = rng.chance(0.5) ? otherType(rng, original) : edgeString(rng)
        // the last one wins in JSON.parse: either the original comes last (still valid) or the other
        const originalLast = rng.chance(0.5)
        const entries: [string, J][] = originalLast
          ? [...obj.entries.filter(([k]) => k !== key), [key, other], [key, original]]
          : [...obj.entries, [key, other]]
        value = setAt(value, target.path, new Obj(entries))
        notes.push(`duplicate key ${[...target.path, key].join('.')} (${originalLast ? 'original' : 'other'} last)`)
        break
      }
      case 'hugeString': {
        const strings = leaves.filter((l) => typeof l.value === 'string')
        const leaf = strings.length > 0 ? rng.pick(strings) : undefined
        if (!leaf) break
        const s = hugeString(rng, Math.max(50_001, limitBytes + 1024))
        value = setAt(value, leaf.path, s)
        notes.push(`${leaf.path.join('.')} := ${s.length} chars`)
        break
      }
      case 'deepNesting': {
        const leaf = leaves.length > 0 ? rng.pick(leaves) : undefined
        if (!leaf) break
        const deep = deepNesting(rng, limitBytes * 2)
        value = setAt(value, leaf.path, deep)
        notes.push(`${leaf.path.join('.')} := nesting of ${deep.text.length} bytes`)
        break
      }
      case 'fcValue': {
        const all = nodes(value).filter((n) => n.path.length > 0)
        const node = all.length > 0 ? rng.pick(all) : undefined
        if (!node) break
        const replacement = fcJson(rng)
        value = setAt(value, node.path, replacement)
        notes.push(`${node.path.join('.')} := ${toJson(replacement).slice(0, 60)}`)
        break
      }
    }
  }
  if (steps === 0) family = 'valid'
  return { value, family, note: notes.join('; ') || 'unchanged', invalid: false }
}

/** Whole-body replacements and broken JSON text; every one is invalid. */
function brokenBody(rng: Rng, valid: J, limitBytes: number): Mutated {
  const text = toJson(valid)
  const kind = rng.weighted<string>([
    [4, 'truncated'],
    [2, 'syntax'],
    [2, 'topLevel'],
    [1, 'randomBytes'],
    [1, 'deepRoot'],
    // a body over 10 MB costs 10 MB of loopback each time: rarer there than over 64 KB
    [limitBytes > 1 << 20 ? 0.2 : 1, 'overLimit'],
    [1, 'empty'],
  ])
  switch (kind) {
    case 'truncated': {
      const cut = rng.int(text.length)
      return { value: null, text: text.slice(0, cut), family: 'json.truncated', note: `cut at ${cut}`, invalid: true }
    }
    case 'syntax': {
      const variants: [string, string][] = [
        [text.replace(/}$/, ',}'), 'trailing comma'],
        [text.replace(/"/g, "'"), 'single quotes'],
        [`${text}x`, 'trailing garbage'],
        [`${text}${text}`, 'two documents'],
        [`/* c */${text}`, 'comment'],
        [text.replace(/:(\d)/, ':NaN'), 'NaN'],
        [text.replace(/"([^"]*)"/, '"$1\u0001"'), 'raw control character in a string'],
        [text.replace(/"([^"]*)"/, '"$1\\x41"'), 'bad escape'],
        [text.replace(/"([^"]*)"/, '"$1\\ud800\\u"'), 'truncated unicode escape'],
        [text.replace(/^\{/, '{{'), 'double brace'],
        [text.replace(/:/, '::'), 'double colon'],
        [`{"a":1}}`, 'unbalanced'],
        [`{"a" 1}`, 'missing colon'],
      ]
      const [broken, note] = rng.pick(variants)
      // a replacement that found nothing to replace leaves valid JSON: make it invalid anyway
      const sure = broken === text ? `${text}}` : broken
      return { value: null, text: sure, family: 'json.syntax', note, invalid: true }
    }
    case 'topLevel': {
      const value: J = rng.pick<J>([[valid], [], 'string', 1, new Raw('-0'), true, null, [new Obj([['events', []]])]])
      return { value, family: 'json.topLevel', note: `top level ${toJson(value).slice(0, 40)}`, invalid: true }
    }
    case 'randomBytes': {
      const n = rng.range(1, 4096)
      const bytes = Buffer.alloc(n)
      for (let i = 0; i < n; i++) bytes[i] = rng.int(256)
      bytes[0] = rng.pick([0x00, 0xff, 0xfe, 0xc0, 0x80, 0x41, 0x22])
      return { value: null, bytes, family: 'bytes.random', note: `${n} random bytes`, invalid: true }
    }
    case 'deepRoot': {
      const deep = deepNesting(rng, limitBytes * 2)
      return {
        value: null,
        text: deep.text,
        family: 'json.deepRoot',
        note: `nesting of ${deep.text.length} bytes`,
        invalid: true,
      }
    }
    case 'overLimit': {
      // built as bytes: a 10 MB string and its UTF-8 copy would cost the generator more than the server
      const bytes = Buffer.concat([Buffer.from('{"pad":"'), Buffer.alloc(limitBytes + 1, 0x78), Buffer.from('"}')])
      return {
        value: null,
        bytes,
        family: 'size.overLimit',
        note: `${limitBytes + 10} bytes`,
        invalid: true,
      }
    }
    default:
      return { value: null, text: '', family: 'json.empty', note: 'empty body', invalid: true }
  }
}

const NON_JSON_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'text/html',
  'application/xml',
]

/**
 * Headers and the body's bytes: usually `application/json`, sometimes another type, a
 * charset, no type at all, or a Content-Encoding (valid or corrupt). `jsonOnly`: the route
 * parses only application/json (a body of another type is not read, so it is invalid).
 */
function transport(
  rng: Rng,
  body: Buffer,
  jsonOnly: boolean,
): { headers: Record<string, string>; body: Buffer; family?: string; note?: string; invalid: boolean } {
  const choice = rng.weighted<string>([
    [14, 'json'],
    [2, 'nonJson'],
    [1, 'none'],
    [1, 'charset'],
    [1, 'utf16'],
    [1, 'bom'],
    [1, 'encoded'],
    [1, 'corrupt'],
  ])
  switch (choice) {
    case 'nonJson': {
      const type = rng.pick(NON_JSON_TYPES)
      return {
        headers: { 'content-type': type },
        body,
        family: 'contentType.wrong',
        note: `Content-Type: ${type}`,
        invalid: jsonOnly,
      }
    }
    case 'none':
      return { headers: {}, body, family: 'contentType.none', note: 'no Content-Type', invalid: jsonOnly }
    case 'charset': {
      const charset = rng.pick(['iso-8859-1', 'latin1', 'ascii', 'bogus', 'utf-7', 'UTF-8', 'utf8', ''])
      return {
        headers: { 'content-type': `application/json; charset=${charset}` },
        body,
        family: 'contentType.charset',
        note: `charset=${charset}`,
        // body-parser's JSON takes only utf-* charsets (415, mapped to validation)
        invalid: ['iso-8859-1', 'latin1', 'ascii', 'bogus', 'utf8'].includes(charset),
      }
    }
    case 'utf16': {
      const honest = rng.chance(0.5)
      return {
        headers: { 'content-type': 'application/json; charset=utf-16le' },
        body: honest ? Buffer.from(body.toString('utf8'), 'utf16le') : body,
        family: 'contentType.utf16',
        note: honest ? 'UTF-16LE body' : 'UTF-8 body labelled UTF-16LE',
        invalid: false,
      }
    }
    case 'bom':
      return {
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]),
        family: 'contentType.bom',
        note: 'UTF-8 BOM',
        invalid: false,
      }
    case 'encoded': {
      const encoding = rng.pick(['gzip', 'deflate', 'br', 'identity', 'x-unknown'])
      const encoded =
        encoding === 'gzip'
          ? gzipSync(body)
          : encoding === 'deflate'
            ? deflateSync(body)
            : encoding === 'br'
              ? brotliCompressSync(body)
              : body
      return {
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body: encoded,
        family: 'encoding.valid',
        note: `Content-Encoding: ${encoding}`,
        invalid: encoding === 'x-unknown',
      }
    }
    case 'corrupt': {
      const encoding = rng.pick(['gzip', 'deflate', 'br'])
      const encoded = encoding === 'gzip' ? gzipSync(body) : encoding === 'deflate' ? deflateSync(body) : body
      const corrupt = rng.chance(0.5)
        ? encoded.subarray(0, Math.max(0, encoded.length - rng.range(1, 8)))
        : Buffer.concat([Buffer.from('not compressed'), encoded])
      return {
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body: corrupt,
        family: 'encoding.corrupt',
        note: `Content-Encoding: ${encoding}, data that does not decompress`,
        invalid: true,
      }
    }
    default:
      return { headers: { 'content-type': 'application/json' }, body, invalid: false }
  }
}

/** A body case: mutate a valid body (or break it), then choose how it travels. */
function bodyCase(
  rng: Rng,
  index: number,
  target: HttpTarget,
  method: 'POST' | 'PATCH',
  path: string,
  auth: Auth,
  valid: J,
  limitBytes: number,
  jsonOnly: boolean,
  /**
   * `start`: what to mutate, when not the valid template itself; `invalidIf`: a route's own rules;
   * `judge`: the route's rules instead of the template's, for any body that parses (the standards'
   * routes take many shapes); `transport`: how the body travels, when not as JSON.
   */
  extra: {
    start?: J
    note?: string
    invalidIf?: (parsed: unknown) => boolean
    judge?: (parsed: unknown) => boolean
    transport?: (rng: Rng, body: Buffer) => ReturnType<typeof transport>
  } = {},
): HttpCase {
  const start = extra.start ?? valid
  const m = rng.chance(0.8) ? mutate(rng, start, limitBytes) : brokenBody(rng, start, limitBytes)
  const bytes = m.bytes ?? Buffer.from(m.text ?? toJson(m.value), 'utf8')
  // over the route's body limit (413), or certainly invalid once parsed as the server parses it
  if (extra.judge !== undefined && m.text === undefined && m.bytes === undefined) {
    m.invalid = bytes.length > limitBytes || extra.judge(JSON.parse(bytes.toString('utf8')) as unknown)
  } else if (!m.invalid && m.text === undefined && m.bytes === undefined) {
    const parsed = JSON.parse(bytes.toString('utf8')) as unknown
    m.invalid =
      bytes.length > limitBytes || certainlyInvalid(parsed, valid, new Set()) || (extra.invalidIf?.(parsed) ?? false)
  }
  const t = extra.transport?.(rng, bytes) ?? transport(rng, bytes, jsonOnly)
  return {
    kind: 'http',
    index,
    target,
    family: t.family ?? m.family,
    note: [extra.note, m.note, t.note].filter(Boolean).join('; '),
    method,
    path,
    headers: t.headers,
    auth,
    body: t.body,
    invalid: m.invalid || t.invalid,
  }
}

/**
 * `{ events: [...] }` is refused when `events` is not an array of 1 to 1,000 or has a key
 * beside it (ingest.ts splitBody), whatever its items are.
 */
function batchInvalid(parsed: unknown): boolean {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !('events' in parsed)) return false
  const { events } = parsed as { events: unknown }
  return !Array.isArray(events) || events.length === 0 || events.length > 1000 || Object.keys(parsed).length > 1
}

function eventsBatch(rng: Rng, index: number): HttpCase {
  const shape = rng.weighted<string>([
    [8, 'small'],
    [1, 'empty'],
    [1, 'notArray'],
    [1, 'extraKey'],
    // 1,000 valid events grow the log by as many: rare, so the log (and every export of it) stays small
    [0.03, 'full'],
    [0.3, 'over'],
  ])
  let items: J[]
  if (shape === 'full' || shape === 'over') {
    // 1,000 events is the most a post may carry; 1,001 is 413
    const seed = rng.uuid()
    items = Array.from({ length: shape === 'full' ? 1000 : 1001 }, (_, i) =>
      fromPlain({
        id: `${seed.slice(0, 24)}${i.toString(16).padStart(12, '0')}`,
        type: 'incident.observation',
        occurredAt: '2026-11-26T08:00:00Z',
        source: { organisation: 'cert-ee' },
        marking: { tlp: 'GREEN' },
        payload: { incidentId: 'fz-inc-1', count: i + 1 },
      }),
    )
  } else items = Array.from({ length: rng.range(1, 6) }, () => fromPlain(templateEvent(rng)))
  const valid = new Obj([['events', items]])
  // the wrapper's own defects; whether they survive the mutations is judged on the result
  let start: J = valid
  let note: string | undefined
  if (shape === 'empty') {
    start = new Obj([['events', []]])
    note = 'events: []'
  } else if (shape === 'notArray') {
    start = new Obj([['events', rng.pick<J>([items[0]!, 'x', 1, null, new Obj([])])]])
    note = 'events is not an array'
  } else if (shape === 'extraKey') {
    start = new Obj([
      ['events', items],
      [rng.pick(PROTO_KEYS), true],
    ])
    note = 'a key beside events'
  }
  const c = bodyCase(rng, index, 'events.batch', 'POST', '/api/v1/events', 'writer', valid, 10 << 20, false, {
    start,
    ...(note === undefined ? {} : { note }),
    invalidIf: batchInvalid,
  })
  if (c.family === 'valid' && shape !== 'small') c.family = `batch.${shape}`
  return c
}

/** Percent-encode the UTF-8 bytes of a string (lone surrogates become U+FFFD, as a browser would). */
function percentEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) =>
      (b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      '-._~'.includes(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('')
}

const BAD_PERCENT = ['%', '%E0%A4%A', '%zz', '%ED%A0%80', 'abc%', '%C0%AF', '%FF', '%%']

function accountsCase(rng: Rng, index: number): HttpCase {
  const which = rng.weighted<string>([
    [6, 'target'],
    [2, 'case'],
    [2, 'unknown'],
    [2, 'edge'],
    [1, 'badPercent'],
  ])
  let username: string
  let family: string | undefined
  switch (which) {
    case 'target':
      username = TARGET_ACCOUNT
      break
    case 'case':
      username = percentEncode(rng.pick(['FUZZ-TARGET', 'Fuzz-Target', ' fuzz-target', 'fuzz-target%20']))
      break
    case 'unknown':
      username = percentEncode(rng.pick(['nobody', 'fuzz-admin', 'admin', '__proto__', 'constructor', 'x'.repeat(300)]))
      break
    case 'badPercent':
      username = rng.pick(BAD_PERCENT)
      family = 'param.badPercent'
      break
    default:
      username = percentEncode(edgeString(rng)) || '%20'
  }
  const c = bodyCase(
    rng,
    index,
    'accounts',
    'PATCH',
    `/api/v1/accounts/${username}`,
    'admin',
    fromPlain(templatePatch(rng)),
    64 * 1024,
    true,
  )
  if (family) {
    c.family = family
    c.note = `path ${username}; ${c.note}`
  }
  return c
}

/** Query parameters each route reads, good values, and values certainly refused. */
const QUERY_ROUTES: Record<
  'events' | 'state' | 'export' | 'handover',
  { path: string; params: string[]; invalidating: string[] }
> = {
  // /events reads from, to and clock as soon as one of them is there (a window)
  events: {
    path: '/api/v1/events',
    params: ['after', 'limit', 'from', 'to', 'clock'],
    invalidating: ['after', 'limit', 'from', 'to', 'clock'],
  },
  state: { path: '/api/v1/state', params: ['at', 'clock', 'scope', 'since', 'include'], invalidating: [] },
  export: {
    path: '/api/v1/export',
    params: ['format', 'from', 'to', 'clock', 'incidentId'],
    invalidating: ['format', 'from', 'to', 'clock', 'incidentId'],
  },
  handover: {
    path: '/api/v1/handover',
    params: ['since', 'until', 'format'],
    invalidating: ['since', 'until', 'format'],
  },
}

const OLD_TIMES = [
  '2020-01-01T00:00:00Z',
  '2020-01-01T06:00:00+02:00',
  '2020-01-01T00:00:00.123Z',
  '2019-12-31T23:00:00-12:00',
  '2020-01-02T00:00:00+14:00',
]

function goodValue(rng: Rng, param: string, route: string): string {
  switch (param) {
    case 'after':
      return rng.pick(['0', '1', '5', '100', '9007199254740991'])
    case 'limit':
      return rng.weighted([
        [6, rng.pick(['1', '10', '50'])],
        [2, '500'],
        [1, '5000'],
      ])
    case 'clock':
      return rng.pick(['recorded', 'occurred'])
    case 'format':
      return route === 'export' ? rng.pick(['json', 'csv']) : rng.pick(['json', 'markdown'])
    case 'incidentId':
      return rng.pick(['fz-inc-1', 'fz-inc-5', 'nope'])
    case 'from':
    case 'since':
      return rng.pick(OLD_TIMES)
    case 'to':
    case 'until':
      return rng.pick([...OLD_TIMES, '2020-01-03T00:00:00Z'])
    case 'at':
      return rng.pick([...OLD_TIMES, '9999-12-31T23:59:59.999Z', '0001-01-01T00:00:00Z', '2026-11-26T08:00:00Z'])
    default:
      return edgeString(rng)
  }
}

/** Values the route refuses for this parameter, for sure. */
function badValue(rng: Rng, param: string, route: string): string {
  switch (param) {
    case 'after':
      return rng.pick(['-1', 'x', '1.5', '9007199254740992', '', ' 1', '0x10', '1e3', '\u0661'])
    case 'limit':
      return rng.pick(['0', '5001', '-1', 'abc', '', '1.0', '99999999999999999999'])
    case 'clock':
      return rng.pick(['wall', 'RECORDED', '', ' recorded', '\u0000'])
    case 'format':
      return rng.pick(['xml', 'JSON', '', route === 'export' ? 'markdown' : 'csv'])
    case 'incidentId':
      return rng.pick(['', '   ', 'x'.repeat(201)])
    default:
      return rng.pick([
        '',
        'yesterday',
        '2026-11-26',
        '2026-11-26T08:00:00',
        '2026-13-01T00:00:00Z',
        '2026-11-26T25:00:00Z',
        '1796456165046',
        '2026-11-26T08:00:00+99:00',
        '\u0000',
      ])
  }
}

function encodeQueryPart(rng: Rng, s: string): string {
  const style = rng.weighted<string>([
    [8, 'percent'],
    [1, 'plus'],
    [1, 'raw'],
  ])
  if (style === 'plus') return percentEncode(s).replace(/%20/g, '+')
  if (style === 'raw')
    return s.replace(/[^\x21-\x7e]/g, (ch) => percentEncode(ch)).replace(/[#&]/g, (ch) => percentEncode(ch))
  return percentEncode(s)
}

function queryCase(rng: Rng, index: number, routeName: 'events' | 'state' | 'export' | 'handover'): HttpCase {
  const route = QUERY_ROUTES[routeName]
  const pairs: [string, string][] = []
  let invalid = false
  const notes: string[] = []
  const want = rng.weighted([
    [1, 0],
    [3, 1],
    [3, 2],
    [2, 3],
    [1, 4],
  ])
  const keys = new Set<string>()
  for (let i = 0; i < want; i++) keys.add(rng.pick(route.params))
  // the expensive shapes (the whole log) stay rare: handover without a window, state replays now, full exports
  if (routeName === 'handover' && !keys.has('since') && !keys.has('until') && rng.chance(0.9)) keys.add('until')
  if (routeName === 'export' && !keys.has('from') && !keys.has('to') && !keys.has('incidentId') && rng.chance(0.95))
    keys.add(rng.pick(['to', 'to', 'to', 'incidentId']))
  if (routeName === 'state' && rng.chance(0.6)) keys.add('at')
  for (const key of keys) {
    const bad = rng.chance(0.3)
    const value = bad
      ? badValue(rng, key, routeName)
      : rng.chance(0.15)
        ? edgeString(rng)
        : goodValue(rng, key, routeName)
    pairs.push([key, value])
    // the route reads it whatever else the query holds (/state reads clock only with at; /events
    // reads the window only with from, to or clock, which it then has)
    if (bad && route.invalidating.includes(key)) invalid = true
    if (bad && routeName === 'state' && key === 'at') invalid = true
  }
  const extras = rng.weighted([
    [6, 'none'],
    [2, 'duplicate'],
    [2, 'foreign'],
    [1, 'bracket'],
    [1, 'huge'],
    [1, 'badPercent'],
  ])
  let family = 'query.mutated'
  switch (extras) {
    case 'duplicate': {
      const key = rng.pick(route.params)
      pairs.push([key, goodValue(rng, key, routeName)], [key, goodValue(rng, key, routeName)])
      if (route.invalidating.includes(key) || (routeName === 'state' && key === 'at')) invalid = true
      family = 'query.duplicate'
      notes.push(`${key} twice`)
      break
    }
    case 'foreign':
      pairs.push([rng.pick([...PROTO_KEYS, 'a[b]', 'after[]', 'limit[0]', '', '=']), edgeString(rng)])
      family = 'query.foreignKey'
      break
    case 'bracket': {
      const key = rng.pick(route.params)
      pairs.push([`${key}[]`, goodValue(rng, key, routeName)], [`${key}[x]`, '1'])
      family = 'query.bracket'
      break
    }
    case 'huge': {
      const key = rng.pick(route.params)
      // under Node's 16 KB header limit (a longer request line is Node's own 431, see http.framing)
      pairs.push([key, 'x'.repeat(rng.pick([1_000, 5_000, 12_000]))])
      if (route.invalidating.includes(key) || (routeName === 'state' && key === 'at')) invalid = true
      family = 'query.huge'
      break
    }
    case 'badPercent':
      pairs.push([rng.pick(route.params), rng.pick(BAD_PERCENT)])
      family = 'query.badPercent'
      break
  }
  const query = pairs
    .map(([k, v]) => {
      if (family === 'query.badPercent' && BAD_PERCENT.includes(v)) return `${k}=${v}`
      return `${encodeQueryPart(rng, k)}=${encodeQueryPart(rng, v)}`
    })
    .join(rng.chance(0.05) ? '&&' : '&')
  notes.unshift(`?${query.slice(0, 200)}`)
  const headers: Record<string, string> = {}
  if (routeName === 'handover' && rng.chance(0.3)) headers.accept = rng.pick(['text/markdown', '*/*', 'text/html', ''])
  return {
    kind: 'http',
    index,
    target: `query.${routeName}`,
    family,
    note: notes.join('; '),
    method: 'GET',
    path: `${route.path}${query.length > 0 || rng.chance(0.5) ? '?' : ''}${query}`,
    headers,
    auth: 'writer',
    invalid,
  }
}

/** Broken HTTP framing, sent as raw bytes: Node's HTTP parser answers (a plain 400 or 431) or the app does. */
function framingCase(rng: Rng, index: number): HttpCase {
  const auth = `Authorization: Bearer ${WRITER_TOKEN}\r\n`
  const body = toJson(fromPlain(templateEvent(rng)))
  const variants: [string, string][] = [
    [
      `POST /api/v1/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length + 100}\r\n\r\n${body}`,
      'Content-Length beyond the body, then the client ends',
    ],
    [
      `POST /api/v1/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`,
      'bad chunk size',
    ],
    [
      `POST /api/v1/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      'Content-Length and Transfer-Encoding',
    ],
    [
      `GET /api/v1/events?after=${'1'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`,
      'request line over 16 KB',
    ],
    [
      `POST /api/v1/commands HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"a":`,
      'truncated JSON with an honest Content-Length',
    ],
    [
      `GET /api/v1/state HTTP/1.1\r\nHost: x\r\n${auth}X-Bad\u0001: 1\r\nConnection: close\r\n\r\n`,
      'control character in a header name',
    ],
    [`G\u0000T / HTTP/1.1\r\n\r\n`, 'NUL in the method'],
  ]
  const [raw, note] = rng.pick(variants)
  return {
    kind: 'http',
    index,
    target: 'http.framing',
    family: 'http.framing',
    note,
    method: 'POST',
    path: '(raw)',
    headers: {},
    auth: 'none',
    raw: Buffer.from(raw, 'latin1'),
    invalid: true,
  }
}

function socketPayload(rng: Rng, valid: J, nullable: ReadonlySet<string> = new Set()): Mutated {
  // socket.io's 1 MB message limit closes the connection, and the client's encoder recurses:
  // strings of 50,001 characters at most, nesting 1,000 deep at most (raw packets go deeper)
  const m = rng.chance(0.12)
    ? (() => {
        const value = rng.pick<J>([null, 'x', 1, [], [valid], true, new Raw('1e400'), fcJson(rng)])
        return { value, family: 'socket.topLevel', note: `payload ${toJson(value).slice(0, 60)}`, invalid: false }
      })()
    : mutate(rng, valid, 5_000)
  // what the server receives: socket.io encodes with JSON.stringify (Infinity becomes null)
  const received = JSON.parse(JSON.stringify(toValue(m.value)) ?? 'null') as unknown
  m.invalid = certainlyInvalid(received, valid, nullable)
  return m
}

function socketCase(rng: Rng, index: number, target: SocketTarget, context: FuzzContext): SocketCase {
  const base = { kind: 'socket' as const, index, target }
  if (target === 'socket.raw') return rawSocketCase(rng, index)
  if (target === 'socket.other') {
    const event = rng.pick([
      'error',
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'subscribe ',
      'Subscribe',
      '',
      '\u0000',
      '\ud800',
      'x'.repeat(1000),
      'events',
      'presence',
      'heartbeat',
    ])
    return {
      ...base,
      family: 'socket.unknownEvent',
      note: `emit ${JSON.stringify(event).slice(0, 40)}`,
      socket: rng.pick(['writer', 'noack', 'display']),
      event,
      args: [toValue(fcJson(rng))],
      ack: false,
      invalid: true,
    }
  }
  let event: string
  let valid: J
  let nullable = new Set<string>()
  if (target === 'socket.subscribe') {
    event = 'subscribe'
    valid = fromPlain({
      after: rng.weighted([
        [1, 0],
        [3, rng.range(1, 20)],
        [3, 1_000_000_000],
      ]),
    })
  } else if (target === 'socket.command') {
    event = 'command'
    valid = fromPlain(templateCommand(rng, context))
  } else {
    event = 'viewing'
    valid = fromPlain({ incidentId: rng.pick([...INCIDENTS, null, 'nope']) })
    nullable = new Set(['incidentId'])
  }
  const m = socketPayload(rng, valid, nullable)
  let args: unknown[] = [toValue(m.value)]
  let family = m.family
  let note = m.note
  let invalid = m.invalid
  let ack = true
  let socket: SocketCase['socket'] = 'writer'
  const shape = rng.weighted<string>([
    [14, 'normal'],
    [3, 'noAck'],
    [2, 'display'],
    [1, 'binary'],
    [1, 'ackNotLast'],
  ])
  switch (shape) {
    case 'noAck':
      ack = false
      socket = 'noack'
      family = `${family}.noAck`
      note = `${note}; no ack`
      break
    case 'display':
      socket = 'display'
      note = `${note}; display token`
      break
    case 'binary':
      args = [
        rng.pick([Buffer.from('binary payload'), { after: Buffer.alloc(8) }, { incidentId: Buffer.from('fz-inc-1') }]),
      ]
      family = 'socket.binary'
      note = 'binary payload'
      invalid = true
      break
    case 'ackNotLast':
      // on the no-ack writer: a valid command with an extra argument runs, unacknowledged
      socket = 'noack'
      args = rng.chance(0.5) ? [] : [...args, rng.pick<unknown>(['extra', 1, null, {}])]
      family = 'socket.ackNotLast'
      note = args.length === 0 ? 'no payload, only an ack' : `${note}; an extra argument before the ack`
      invalid = true
      break
  }
  return { ...base, family, note, socket, event, args, ack, invalid }
}

function rawSocketCase(rng: Rng, index: number): SocketCase {
  const valid = rng.pick([
    '["subscribe",{"after":0}]',
    '["viewing",{"incidentId":"fz-inc-1"}]',
    '["command",{"type":"incident.acknowledge","incidentId":"fz-inc-1"}]',
  ])
  const variants: [(string | Buffer)[], string][] = [
    [[`2${valid.slice(0, rng.range(1, valid.length - 1))}`], 'truncated event packet'],
    [[`21${valid.slice(0, -1)}`], 'truncated event packet with an ack id'],
    [['2999999999999999999999["viewing",{"incidentId":null}]'], 'ack id beyond 2^53'],
    [['2-1["viewing",{"incidentId":null}]'], 'negative ack id'],
    [['2[1,2,3]'], 'numeric event name'],
    [['2{}'], 'object instead of an array'],
    [['2null'], 'null payload'],
    [['2"str"'], 'string payload'],
    [['2[]'], 'empty event array'],
    [['2[null]'], 'null event name'],
    [['2["__proto__",{"after":0}]'], '__proto__ event'],
    [['2["constructor",{}]'], 'constructor event'],
    [['2["toString"]'], 'toString event'],
    [['2["hasOwnProperty","x"]'], 'hasOwnProperty event'],
    [['2["error",{"message":"boom"}]'], 'error event'],
    [['2["disconnect"]'], 'reserved disconnect event'],
    [['2["newListener","subscribe"]'], 'reserved newListener event'],
    [['2/nowhere,["subscribe",{"after":0}]'], 'unknown namespace'],
    [['0'], 'connect again'],
    [['0/nowhere,'], 'connect to an unknown namespace'],
    [['1'], 'disconnect packet'],
    [['3'], 'ack packet without id'],
    [['37[]'], 'ack for an unknown id'],
    [['9'], 'unknown packet type'],
    [[''], 'empty packet'],
    [['garbage'], 'garbage'],
    [['51-["subscribe",{"_placeholder":true,"num":0}]', Buffer.alloc(4)], 'binary placeholder'],
    [['51-["subscribe",{"_placeholder":true,"num":5}]', Buffer.alloc(4)], 'placeholder out of range'],
    [['51-["viewing",{"_placeholder":true,"num":0}]', 'text instead of the attachment'], 'attachment never sent'],
    [[`5${'9'.repeat(20)}-["x"]`], 'absurd attachment count'],
    [['2["viewing",{"_placeholder":true,"num":0}]'], 'placeholder in a text packet'],
    [[`2["subscribe",${'['.repeat(10_000)}${']'.repeat(10_000)}]`], 'deep nesting'],
    [[`2["viewing",{"incidentId":"${'x'.repeat(1_100_000)}"}]`], 'over the 1 MB message limit'],
    [['2["viewing",{"incidentId":"\\ud800"}]'], 'lone surrogate'],
    [[Buffer.from([0xff, 0xfe, 0x00])], 'binary frame outside a packet'],
  ]
  const [raw, note] = rng.pick(variants)
  return {
    kind: 'socket',
    index,
    target: 'socket.raw',
    family: 'socket.raw',
    note,
    socket: 'fresh',
    event: '(raw)',
    args: [],
    ack: false,
    raw,
    invalid: true,
  }
}

/** The case at `index` of `seed`: a pure function of (seed, index, context). */
export function generateCase(seed: number, index: number, context: FuzzContext): FuzzCase {
  const rng = new Rng(hash32(seed, index))
  const target = rng.weighted<HttpTarget | SocketTarget>([
    [16, 'events.single'],
    [8, 'events.batch'],
    [10, 'commands'],
    [5, 'session'],
    [5, 'tokens'],
    [5, 'accounts'],
    [3, 'directory'],
    [3, 'feeds'],
    [6, 'query.events'],
    [4, 'query.state'],
    [4, 'query.export'],
    [4, 'query.handover'],
    [1, 'http.framing'],
    [3, 'import.stix'],
    [2, 'import.misp'],
    [2, 'taxii.get'],
    [2, 'taxii.post'],
    [6, 'socket.subscribe'],
    [8, 'socket.command'],
    [5, 'socket.viewing'],
    [2, 'socket.other'],
    [3, 'socket.raw'],
  ])
  switch (target) {
    case 'events.single':
      return bodyCase(
        rng,
        index,
        target,
        'POST',
        '/api/v1/events',
        'writer',
        fromPlain(templateEvent(rng)),
        10 << 20,
        false,
      )
    case 'events.batch':
      return eventsBatch(rng, index)
    case 'commands':
      return bodyCase(
        rng,
        index,
        target,
        'POST',
        '/api/v1/commands',
        'writer',
        fromPlain(templateCommand(rng, context)),
        64 * 1024,
        false,
      )
    case 'session':
      return bodyCase(
        rng,
        index,
        target,
        'POST',
        '/api/v1/session',
        'none',
        fromPlain(templateSession(rng)),
        64 * 1024,
        true,
      )
    case 'tokens':
      return bodyCase(
        rng,
        index,
        target,
        'POST',
        '/api/v1/tokens',
        'admin',
        fromPlain(templateToken(rng)),
        64 * 1024,
        true,
      )
    case 'accounts':
      return accountsCase(rng, index)
    case 'directory': {
      const { path, body } = templateDirectory(rng)
      return bodyCase(rng, index, target, 'POST', path, 'admin', fromPlain(body), 64 * 1024, false)
    }
    case 'feeds':
      return bodyCase(
        rng,
        index,
        target,
        'POST',
        '/api/v1/feeds',
        'admin',
        fromPlain(templateFeed(rng)),
        64 * 1024,
        false,
      )
    case 'query.events':
      return queryCase(rng, index, 'events')
    case 'query.state':
      return queryCase(rng, index, 'state')
    case 'query.export':
      return queryCase(rng, index, 'export')
    case 'query.handover':
      return queryCase(rng, index, 'handover')
    case 'http.framing':
      return framingCase(rng, index)
    case 'import.stix':
      return importStixCase(rng, index)
    case 'import.misp':
      return importMispCase(rng, index)
    case 'taxii.get':
      return taxiiGetCase(rng, index)
    case 'taxii.post':
      return taxiiPostCase(rng, index)
    default:
      return socketCase(rng, index, target, context)
  }
}

/** One line describing a case, for failure messages. */
export function describeCase(c: FuzzCase): string {
  if (c.kind === 'http') {
    const body = c.raw ?? c.body
    const shown =
      body === undefined ? '' : ` body(${body.length} B)=${JSON.stringify(body.subarray(0, 300).toString('utf8'))}`
    return `${c.target}/${c.family} ${c.method} ${c.path.slice(0, 300)} ${JSON.stringify(c.headers)} auth=${c.auth} [${c.note.slice(0, 300)}]${shown}`
  }
  const args = c.raw
    ? c.raw.map((p) => (typeof p === 'string' ? p.slice(0, 300) : `<${p.length} bytes>`)).join(' + ')
    : safeJson(c.args).slice(0, 300)
  return `${c.target}/${c.family} socket=${c.socket} emit ${JSON.stringify(c.event).slice(0, 60)} ${args}${c.ack ? ' +ack' : ''} [${c.note.slice(0, 300)}]`
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) =>
      Buffer.isBuffer(v) || (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') ? '<Buffer>' : v,
    )
  } catch {
    return String(value)
  }
}

// ---------------------------------------------------------------------------------------
// the server under fuzz

export interface FuzzServer {
  server: ServerProcess
  url: string
  pid: number
  context: FuzzContext
  displayToken: string
  stop(): Promise<void>
}

/**
 * The real server (harness.ts) with the fuzz principals, cheap password hashing
 * (WATCHFLOOR_PASSWORD_COST=10, the lowest allowed: sign-ins and new passwords are checked
 * thousands of times) and sign-in limits high enough that the password path is reached
 * again and again; then the setup: base events, two tasks, the target account, a display token.
 */
export async function startFuzzServer(): Promise<FuzzServer> {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-fuzz-'))
  const tokens = join(dir, 'fuzz-tokens.json')
  writeFileSync(tokens, JSON.stringify(FUZZ_PRINCIPALS))
  const server = await startServerProcess({
    env: {
      WATCHFLOOR_TOKENS: tokens,
      WATCHFLOOR_PASSWORD_COST: '10',
      WATCHFLOOR_LOGIN_MAX_FAILURES: '1000',
      WATCHFLOOR_LOGIN_MAX_FAILURES_PER_ADDRESS: '100000',
      WATCHFLOOR_HEARTBEAT_MS: '5000',
      WATCHFLOOR_SOCKET_BUFFER_PACKETS: '500',
    },
  })
  const stop = async () => {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const url = server.url
    const json = async (method: string, path: string, token: string, body: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      const answer = (await response.json()) as Record<string, unknown>
      if (!response.ok) throw new Error(`fuzz setup: ${method} ${path} -> ${response.status} ${JSON.stringify(answer)}`)
      return answer
    }
    await json('POST', '/api/v1/events', WRITER_TOKEN, { events: baseEvents() })
    // another organisation's incident, GREEN (every reader sees it): imports naming it are refused [A5]
    await json('POST', '/api/v1/events', ADMIN_TOKEN, {
      id: randomUUID(),
      type: 'incident.reported',
      occurredAt: '2026-11-26T08:00:00Z',
      source: { organisation: 'alliance' },
      marking: { tlp: 'GREEN' },
      payload: {
        incidentId: FOREIGN_INCIDENT,
        title: 'Alliance incident',
        severity: 'low',
        category: 'other',
        affectedNetworks: [],
      },
    })
    const taskIds: string[] = []
    for (const incidentId of ['fz-inc-1', 'fz-inc-2']) {
      const answer = (await json('POST', '/api/v1/commands', WRITER_TOKEN, {
        type: 'task.create',
        incidentId,
        title: 'Setup task',
        assignee: { kind: 'user', userId: 'fuzz' },
      })) as { events: { payload: { taskId: string } }[] }
      taskIds.push(answer.events[0]!.payload.taskId)
    }
    await json('POST', '/api/v1/accounts', ADMIN_TOKEN, {
      username: TARGET_ACCOUNT,
      organisation: 'cert-ee',
      nation: 'EE',
      roles: ['analyst'],
      password: TARGET_PASSWORD,
    })
    const display = (await json('POST', '/api/v1/tokens', ADMIN_TOKEN, {
      label: 'fuzz display',
      kind: 'display',
      preset: 'overview',
      service: { user: 'fuzz-wall', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'] },
    })) as { secret: string }
    return { server, url, pid: server.child.pid!, context: { taskIds }, displayToken: display.secret, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** VmRSS of a process in bytes (Linux /proc), or null. */
export function rssOf(pid: number): number | null {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m)
    return match ? Number(match[1]) * 1024 : null
  } catch {
    return null
  }
}

interface LogEvent {
  seq: number
  actor?: { user?: string }
  type: string
}

/** Every event of the log that `token` may see, paging GET /api/v1/events; and the head. */
async function readLog(url: string, token: string): Promise<{ head: number; events: LogEvent[]; text: string[] }> {
  const events: LogEvent[] = []
  const text: string[] = []
  let after = 0
  let head = 0
  for (;;) {
    const response = await fetch(`${url}/api/v1/events?after=${after}&limit=5000`, {
      headers: { authorization: `Bearer ${token}` },
    })
    if (response.status !== 200) throw new Error(`reading the log: ${response.status} ${await response.text()}`)
    const page = (await response.json()) as { events: LogEvent[]; next: number; head: number }
    for (const e of page.events) {
      events.push(e)
      text.push(JSON.stringify(e))
    }
    head = page.head
    if (page.next >= page.head || page.next === after) break
    after = page.next
  }
  return { head, events, text }
}

/**
 * The log as the writers see it together: every event, since each is authored by one of them
 * (RED included) or is their organisation's or shared with everyone (the setup's other one).
 */
export async function snapshotLog(url: string): Promise<{ head: number; bySeq: Map<number, string> }> {
  const bySeq = new Map<number, string>()
  let head = 0
  for (const token of [WRITER_TOKEN, NOACK_TOKEN, TAXII_TOKEN]) {
    const log = await readLog(url, token)
    head = Math.max(head, log.head)
    for (let i = 0; i < log.events.length; i++) bySeq.set(log.events[i]!.seq, log.text[i]!)
  }
  return { head, bySeq }
}

// ---------------------------------------------------------------------------------------
// the runner

export interface FuzzOptions {
  seed: number
  /** Case indexes [from, to]. */
  from: number
  to: number
  concurrency: number
  /** Families left out (KNOWN_BUGS in the test's main run). */
  exclude?: readonly string[]
  /** Only these families (the it.fails of a known bug). */
  only?: readonly string[]
  /** Only the cases of these targets (a look at one part of the API). */
  targets?: readonly string[]
  /** At most this many cases of `only` (scanning indexes from `from`). */
  limit?: number
  requestTimeoutMs?: number
  ackTimeoutMs?: number
  /**
   * The ack deadline of cases whose family is a KNOWN_BUGS hang (default 1 s): their outcome is
   * known, and a full deadline each would only keep a worker idle.
   */
  knownHangTimeoutMs?: number
  /**
   * The RSS bound: peak <= start + `rssHeadroomBytes` (default 256 MB: what 8 requests in flight
   * may hold at once) + `rssPerEventBytes` (default 8 KB) per event the run appended (what the
   * server keeps for the log it serves: folded states per viewer, replay snapshots, the id index)
   * + `rssPerIncidentBytes` (default 16 KB) per `incident.reported` among them (an incident is in
   * every viewer's picture: about 13 KB across the fuzz's five readers, measured; the imports
   * report one incident or more per bundle, where the simulator's events are mostly observations).
   */
  rssHeadroomBytes?: number
  rssPerEventBytes?: number
  rssPerIncidentBytes?: number
  /** Progress callback every `progressEvery` cases. */
  onProgress?: (done: number, total: number, report: FuzzReport) => void
  progressEvery?: number
}

export interface FuzzFailure {
  index: number
  family: string
  message: string
}

export interface FuzzReport {
  seed: number
  cases: number
  skipped: number
  durationMs: number
  /** status or ack outcome -> count ("400", "201", "ack:validation", "noack", "closed", ...). */
  statuses: Record<string, number>
  byTarget: Record<string, number>
  /** target -> status or ack outcome -> count. */
  statusesByTarget: Record<string, Record<string, number>>
  /**
   * target -> milliseconds from send to checked answer, summed, for the first and the second half
   * of the cases (by index): [first, second]. The mean per case shows what grows with the log.
   */
  msByTarget: Record<string, { first: [number, number]; second: [number, number] }>
  /** Server RSS after every `progressEvery` cases (a leak shows as a steady climb). */
  rssSamples: { cases: number; rss: number }[]
  failures: FuzzFailure[]
  /** Events appended by 2xx answers and ok acks (seqs known), and by ack-less socket commands (not known). */
  appended: number
  appendedUnacked: number
  headBefore: number
  headAfter: number
  rss: { start: number; peak: number; end: number; bound: number }
  /** Lines the server logged at error level or above during the run. */
  serverErrors: string[]
}

const ERROR_STATUS: Record<string, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  too_many_requests: 429,
}

interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

function sendHttp(agent: Agent, url: URL, c: HttpCase, token: string | null, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...c.headers }
    if (token) headers.authorization = `Bearer ${token}`
    if (c.body !== undefined) headers['content-length'] = String(c.body.length)
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: c.method, path: c.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          clearTimeout(timer)
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })
        })
        res.on('error', (error) => {
          clearTimeout(timer)
          reject(error)
        })
      },
    )
    const timer = setTimeout(
      () => req.destroy(new Error(`no complete answer within ${timeoutMs} ms (hang)`)),
      timeoutMs,
    )
    req.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    req.end(c.body)
  })
}

/** Raw bytes on a fresh connection: resolves with what came back once the server closes (or the client gives up). */
function sendRaw(url: URL, raw: Buffer, timeoutMs: number): Promise<{ text: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname)
    const chunks: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      socket.destroy()
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      // one complete answer is enough: its headers and Content-Length bytes of body
      const all = Buffer.concat(chunks)
      const end = all.indexOf('\r\n\r\n')
      if (end < 0) return
      const length = Number(
        all
          .subarray(0, end)
          .toString('latin1')
          .match(/\r\ncontent-length: *(\d+)/i)?.[1] ?? 0,
      )
      if (all.length >= end + 4 + length) socket.end()
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ text: Buffer.concat(chunks).toString('latin1'), timedOut })
    })
    socket.end(raw)
  })
}

type ClientSocket = Socket

function openSocket(url: string, token: string): Promise<ClientSocket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true })
    const timer = setTimeout(() => {
      socket.close()
      reject(new Error('socket did not connect within 10 s'))
    }, 10_000)
    socket.once('connect', () => {
      clearTimeout(timer)
      resolve(socket)
    })
    socket.once('connect_error', (error) => {
      clearTimeout(timer)
      socket.close()
      reject(error)
    })
  })
}

/** emit with an ack (the last argument); resolves with the ack's arguments, or 'timeout'. */
function emitWithAck(
  socket: ClientSocket,
  event: string,
  args: unknown[],
  timeoutMs: number,
): Promise<unknown[] | 'timeout' | 'closed'> {
  return new Promise((resolve) => {
    let settled = false
    const finish = (value: unknown[] | 'timeout' | 'closed') => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.off('disconnect', onClose)
      resolve(value)
    }
    const onClose = () => finish('closed')
    const timer = setTimeout(() => finish('timeout'), timeoutMs)
    socket.once('disconnect', onClose)
    try {
      socket.emit(event, ...args, (...answer: unknown[]) => finish(answer))
    } catch (error) {
      finish([{ clientRefused: String(error) }])
    }
  })
}

const isErrorBody = (error: unknown): error is { code: string; message: string } =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as { code?: unknown }).code === 'string' &&
  typeof (error as { message?: unknown }).message === 'string'

/**
 * Run cases [from, to] of `seed` against a fuzz server with at most `concurrency` in flight,
 * then check the log, the process, its RSS and its error log.
 */
export async function runFuzz(target: FuzzServer, options: FuzzOptions): Promise<FuzzReport> {
  const { seed, concurrency } = options
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000
  const ackTimeoutMs = options.ackTimeoutMs ?? 15_000
  const knownHangTimeoutMs = options.knownHangTimeoutMs ?? 1_000
  const ackDeadline = (c: FuzzCase) => (KNOWN_BUGS[c.family] !== undefined ? knownHangTimeoutMs : ackTimeoutMs)
  const url = new URL(target.url)
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const statuses: Record<string, number> = {}
  const byTarget: Record<string, number> = {}
  const statusesByTarget: Record<string, Record<string, number>> = {}
  const msByTarget: FuzzReport['msByTarget'] = {}
  const rssSamples: { cases: number; rss: number }[] = []
  const failures: FuzzFailure[] = []
  const appendedSeqs = new Set<number>()
  let unackedCommands = 0
  /**
   * Events the TAXII writer's Add Objects may have added, as their statuses tell: the events of each
   * object added, and one for each object refused in part (an object makes two events at most).
   */
  let taxiiAdded = 0
  let cases = 0
  let skipped = 0
  const count = (c: FuzzCase, key: string) => {
    statuses[key] = (statuses[key] ?? 0) + 1
    const perTarget = statusesByTarget[c.target] ?? {}
    statusesByTarget[c.target] = perTarget
    perTarget[key] = (perTarget[key] ?? 0) + 1
  }
  const fail = (c: FuzzCase, problem: string) => {
    failures.push({
      index: c.index,
      family: c.family,
      message:
        `[fuzz seed ${seed} case ${c.index}] ${problem}\n  case: ${describeCase(c)}\n` +
        `  replay: WATCHFLOOR_FUZZ_SEED=${seed} WATCHFLOOR_FUZZ_CASE=${c.index}`,
    })
  }

  const before = await snapshotLog(target.url)
  const outputStart = target.server.output().length
  const rssStart = rssOf(target.pid) ?? 0
  let rssPeak = rssStart
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssOf(target.pid) ?? 0)
  }, 100)

  const sockets = {
    writer: await openSocket(target.url, WRITER_TOKEN),
    noack: await openSocket(target.url, NOACK_TOKEN),
    display: await openSocket(target.url, target.displayToken),
  }
  const tokenOf = { writer: WRITER_TOKEN, noack: NOACK_TOKEN, display: target.displayToken }
  let unexpectedDisconnects = 0
  const pooled = async (name: 'writer' | 'noack' | 'display'): Promise<ClientSocket> => {
    const socket = sockets[name]
    if (socket.connected) return socket
    unexpectedDisconnects++
    socket.close()
    sockets[name] = await openSocket(target.url, tokenOf[name])
    return sockets[name]
  }
  // the pooled sockets receive the stream of events like a console; nothing to do with it here
  for (const socket of Object.values(sockets)) socket.on('events', () => {})

  const checkHttp = async (c: HttpCase) => {
    if (c.raw) {
      const answer = await sendRaw(url, c.raw, requestTimeoutMs)
      if (answer.timedOut) return fail(c, `no answer and no close within ${requestTimeoutMs} ms (hang)`)
      const status = Number(answer.text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0)
      count(c, status === 0 ? 'closed' : String(status))
      if (status >= 500) return fail(c, `answered ${status}: ${answer.text.slice(0, 500)}`)
      if (status >= 400) {
        // refused by Node's parser or by the app, it is an error body like any other
        const body = answer.text.slice(answer.text.indexOf('\r\n\r\n') + 4)
        let error: unknown
        try {
          error = (JSON.parse(body) as { error?: unknown }).error
        } catch {
          return fail(c, `${status} without a JSON body: ${answer.text.slice(0, 300)}`)
        }
        if (!isErrorBody(error)) fail(c, `${status} body is not { error: { code, message } }: ${body.slice(0, 300)}`)
      }
      return
    }
    const tokens: Record<Auth, string | null> = {
      writer: WRITER_TOKEN,
      admin: ADMIN_TOKEN,
      taxii: TAXII_TOKEN,
      display: target.displayToken,
      none: null,
    }
    let answer: HttpAnswer
    try {
      answer = await sendHttp(agent, url, c, tokens[c.auth], requestTimeoutMs)
    } catch (error) {
      count(c, 'error')
      return fail(c, `request failed: ${(error as Error).message}`)
    }
    count(c, String(answer.status))
    const type = String(answer.headers['content-type'] ?? '')
    const text = answer.body.toString('utf8')
    if (answer.status >= 500) return fail(c, `answered ${answer.status}: ${text.slice(0, 500)}`)
    if (c.target === 'taxii.get' || c.target === 'taxii.post') return checkTaxii(c, answer, type, text)
    if (answer.status >= 400) {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        return fail(c, `${answer.status} without a JSON body (${type}): ${text.slice(0, 300)}`)
      }
      const error = (parsed as { error?: unknown }).error
      if (!type.startsWith('application/json')) return fail(c, `${answer.status} with Content-Type ${type}`)
      if (!isErrorBody(error))
        return fail(c, `${answer.status} body is not { error: { code, message } }: ${text.slice(0, 300)}`)
      if (ERROR_STATUS[error.code] !== answer.status)
        return fail(c, `${answer.status} with error code ${error.code} (expected status ${ERROR_STATUS[error.code]})`)
      return
    }
    if (answer.status < 200 || answer.status >= 300) return fail(c, `unexpected status ${answer.status}`)
    // what it appended is counted first, so that the log check does not report it again
    if (c.invalid) fail(c, `an invalid request was accepted: ${answer.status} ${text.slice(0, 300)}`)
    if (c.target === 'import.stix' || c.target === 'import.misp') {
      // an import answers 200 with what ingest stored (results) and refused, per event
      const reply = JSON.parse(text) as { results?: { seq: number; duplicate: boolean }[]; refused?: unknown[] }
      if (answer.status !== 200 || !Array.isArray(reply.results) || !Array.isArray(reply.refused))
        return fail(c, `${answer.status} without results and refused: ${text.slice(0, 300)}`)
      for (const r of reply.results) if (!r.duplicate) appendedSeqs.add(r.seq)
    } else if (c.target === 'events.single' || c.target === 'events.batch') {
      const results = (JSON.parse(text) as { results?: { seq: number; duplicate: boolean }[] }).results
      if (!Array.isArray(results)) return fail(c, `${answer.status} without results: ${text.slice(0, 300)}`)
      const fresh = results.filter((r) => !r.duplicate)
      if ((answer.status === 201) !== fresh.length > 0)
        return fail(c, `${answer.status} with ${fresh.length} new events`)
      for (const r of fresh) appendedSeqs.add(r.seq)
    } else if (c.target === 'commands') {
      const events = (JSON.parse(text) as { events?: { seq: number }[] }).events
      if (!Array.isArray(events)) return fail(c, `200 without events: ${text.slice(0, 300)}`)
      for (const e of events) appendedSeqs.add(e.seq)
    } else if (type.startsWith('application/json')) {
      try {
        JSON.parse(text)
      } catch {
        return fail(c, `${answer.status} with a JSON type but a body that does not parse (${answer.body.length} B)`)
      }
    }
  }

  /**
   * A TAXII answer (OASIS TAXII 2.1, 1.6.8 and 3.6.1): its media type always; an error is the error
   * message resource with its status (and a challenge on 401, Allow on 405); Add Objects' status
   * resource says how many events each object became, which bounds what the TAXII writer appended.
   */
  const checkTaxii = (c: HttpCase, answer: HttpAnswer, type: string, text: string) => {
    if (!type.startsWith('application/taxii+json')) return fail(c, `${answer.status} with Content-Type ${type}`)
    let body: Record<string, unknown>
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      return fail(c, `${answer.status} without a JSON body: ${text.slice(0, 300)}`)
    }
    if (answer.status >= 400) {
      if (typeof body.title !== 'string' || typeof body.description !== 'string')
        return fail(c, `${answer.status} body is not a TAXII error message: ${text.slice(0, 300)}`)
      if (body.http_status !== String(answer.status))
        return fail(c, `${answer.status} with http_status ${String(body.http_status)}`)
      if (answer.status === 401 && answer.headers['www-authenticate'] === undefined)
        return fail(c, '401 without WWW-Authenticate')
      if (answer.status === 405 && answer.headers.allow === undefined) return fail(c, '405 without Allow')
      return
    }
    if (answer.status < 200 || answer.status >= 300) return fail(c, `unexpected status ${answer.status}`)
    if (c.invalid) return fail(c, `an invalid request was accepted: ${answer.status} ${text.slice(0, 300)}`)
    if (c.target !== 'taxii.post') return
    if (answer.status !== 202 || typeof body.total_count !== 'number' || body.status !== 'complete')
      return fail(c, `Add Objects answered ${answer.status} without a complete status: ${text.slice(0, 300)}`)
    for (const success of (body.successes ?? []) as { message?: string }[]) {
      const added = /^added as (\d+) events?$/.exec(success.message ?? '')
      if (added) taxiiAdded += Number(added[1])
    }
    // an object refused in part may have added its other event: an object makes two at most
    for (const failure of (body.failures ?? []) as { message?: string }[])
      if (failure.message?.startsWith('refused: ')) taxiiAdded += 1
  }

  const checkAck = (c: SocketCase, answer: unknown[] | 'timeout' | 'closed') => {
    if (answer === 'timeout') {
      count(c, 'ack:timeout')
      return fail(c, `no ack within ${ackDeadline(c)} ms (hang)`)
    }
    if (answer === 'closed') {
      count(c, 'ack:closed')
      return fail(c, 'the server closed the socket instead of acknowledging')
    }
    const ack = answer[0] as { ok?: unknown; error?: unknown; events?: unknown; head?: unknown } | undefined
    if (ack && typeof ack === 'object' && 'clientRefused' in ack) {
      count(c, 'clientRefused')
      return
    }
    if (!ack || typeof ack !== 'object' || typeof ack.ok !== 'boolean')
      return fail(c, `ack is not { ok, ... }: ${safeJson(answer).slice(0, 300)}`)
    if (ack.ok === false) {
      if (!isErrorBody(ack.error))
        return fail(c, `ack { ok: false } without { code, message }: ${safeJson(ack).slice(0, 300)}`)
      count(c, `ack:${ack.error.code}`)
      if (ERROR_STATUS[ack.error.code] === undefined) fail(c, `ack error code ${ack.error.code}`)
      return
    }
    count(c, 'ack:ok')
    if (c.invalid) fail(c, `an invalid message was acknowledged ok: ${safeJson(ack).slice(0, 300)}`)
    if (c.event === 'command') {
      if (!Array.isArray(ack.events)) return fail(c, `command ack without events: ${safeJson(ack).slice(0, 300)}`)
      for (const e of ack.events as { seq: number }[]) appendedSeqs.add(e.seq)
    }
    if (c.event === 'subscribe' && typeof ack.head !== 'number') fail(c, `subscribe ack without head`)
  }

  /**
   * A socket that must still answer: an invalid subscribe, acknowledged `validation` without
   * side effects. `mayClose`: the server may have closed it instead (a raw packet it refused).
   */
  const probe = async (c: SocketCase, socket: ClientSocket, mayClose = false) => {
    const answer = await emitWithAck(socket, 'subscribe', [{ after: -1 }], ackTimeoutMs)
    if (answer === 'closed' && mayClose) return
    const ack = Array.isArray(answer) ? (answer[0] as { ok?: boolean; error?: { code?: string } }) : undefined
    if (ack?.ok !== false || ack.error?.code !== 'validation')
      fail(c, `the socket no longer answers after this message: ${safeJson(answer).slice(0, 200)}`)
  }

  const checkSocket = async (c: SocketCase) => {
    if (c.socket === 'fresh') {
      let socket: ClientSocket
      try {
        socket = await openSocket(target.url, RAW_TOKEN)
      } catch (error) {
        count(c, 'connect:error')
        return fail(c, `could not connect: ${(error as Error).message}`)
      }
      try {
        const closed = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()))
        for (const packet of c.raw ?? []) socket.io.engine.write(packet)
        const outcome = await Promise.race([
          closed.then(() => 'closed'),
          new Promise((r) => setTimeout(() => r('open'), 150)),
        ])
        count(c, `raw:${outcome}`)
        // still open: it must still answer (a closed one was refused as a transport error, which is allowed)
        if (outcome === 'open' && socket.connected) await probe(c, socket, true)
      } finally {
        socket.close()
      }
      return
    }
    const socket = await pooled(c.socket)
    // what the no-ack writer's commands append is told apart by its actor: bound it by their number
    if (c.socket === 'noack' && c.event === 'command') unackedCommands++
    if (!c.ack) {
      try {
        socket.emit(c.event, ...c.args)
      } catch {
        count(c, 'clientRefused')
        return
      }
      count(c, 'noack')
      await probe(c, socket)
      return
    }
    const answer = await emitWithAck(socket, c.event, c.args, ackDeadline(c))
    if (Array.isArray(answer) && answer[0] && typeof answer[0] === 'object' && 'clientRefused' in answer[0]) {
      count(c, 'clientRefused') // socket.io-client would not send it (a reserved name): nothing reached the server
      return
    }
    if (c.socket === 'display' && c.event !== 'subscribe' && Array.isArray(answer)) {
      const ack = answer[0] as { ok?: boolean; error?: { code?: string } }
      count(c, `ack:${ack?.error?.code ?? (ack?.ok ? 'ok' : '?')}`)
      if (ack?.ok !== false || ack.error?.code !== 'forbidden')
        fail(c, `a display socket's ${c.event} was not refused forbidden: ${safeJson(answer).slice(0, 200)}`)
      return
    }
    checkAck(c, answer)
  }

  const exclude = new Set(options.exclude ?? [])
  const only = options.only ? new Set(options.only) : undefined
  const targets = options.targets ? new Set(options.targets) : undefined
  const started = performance.now()
  let next = options.from
  let taken = 0
  const total = options.to - options.from + 1
  const progressEvery = options.progressEvery ?? 10_000
  let done = 0
  const partial = (): FuzzReport => ({
    seed,
    cases,
    skipped,
    durationMs: performance.now() - started,
    statuses,
    byTarget,
    statusesByTarget,
    msByTarget,
    rssSamples,
    failures,
    appended: appendedSeqs.size,
    appendedUnacked: unackedCommands,
    headBefore: before.head,
    headAfter: before.head,
    rss: { start: rssStart, peak: rssPeak, end: rssOf(target.pid) ?? 0, bound: 0 },
    serverErrors: [],
  })
  const worker = async () => {
    for (;;) {
      if (next > options.to) return
      if (options.limit !== undefined && taken >= options.limit) return
      const index = next++
      const c = generateCase(seed, index, target.context)
      if (exclude.has(c.family) || (only && !only.has(c.family)) || (targets && !targets.has(c.target))) {
        skipped++
        continue
      }
      taken++
      cases++
      byTarget[c.target] = (byTarget[c.target] ?? 0) + 1
      const sent = performance.now()
      try {
        if (c.kind === 'http') await checkHttp(c)
        else await checkSocket(c)
      } catch (error) {
        fail(c, `runner error: ${(error as Error).stack ?? error}`)
      }
      const times = msByTarget[c.target] ?? { first: [0, 0], second: [0, 0] }
      msByTarget[c.target] = times
      const half = index - options.from < total / 2 ? times.first : times.second
      half[0]++
      half[1] += performance.now() - sent
      done++
      if (done % progressEvery === 0) {
        rssSamples.push({ cases: done, rss: rssOf(target.pid) ?? 0 })
        options.onProgress?.(done, total, partial())
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, worker))
  } finally {
    clearInterval(sampler)
    agent.destroy()
  }
  const durationMs = performance.now() - started

  // the process: still up, still answering, and every pooled socket too
  const fakeCase = (family: string): SocketCase => ({
    kind: 'socket',
    index: -1,
    target: 'socket.other',
    family,
    note: 'after the run',
    socket: 'writer',
    event: '',
    args: [],
    ack: false,
    invalid: true,
  })
  if (target.server.child.exitCode !== null || target.server.child.signalCode !== null)
    fail(
      fakeCase('process'),
      `the server process exited (${target.server.child.exitCode ?? target.server.child.signalCode})`,
    )
  else {
    const health = await fetch(`${target.url}/healthz`).then(
      (r) => r.status,
      () => 0,
    )
    if (health !== 200) fail(fakeCase('process'), `GET /healthz answered ${health} after the run`)
  }
  if (unexpectedDisconnects > 0)
    fail(fakeCase('socket'), `the server disconnected a pooled socket ${unexpectedDisconnects} time(s) during the run`)
  for (const socket of Object.values(sockets)) socket.close()

  // the log: what was there is unchanged, and it grew by exactly what the 2xx answers and ok acks
  // reported, plus the events of ack-less socket commands (those are by the no-ack writer)
  const after = await snapshotLog(target.url)
  const logged = await logHead(target.server)
  const logCase = fakeCase('log')
  if (logged !== after.head) fail(logCase, `the log's head is ${logged} but the readers see head ${after.head}`)
  for (let seq = 1; seq <= before.head; seq++)
    if (after.bySeq.get(seq) !== before.bySeq.get(seq)) {
      fail(logCase, `event ${seq} changed during the run`)
      break
    }
  const unacked: number[] = []
  const pushed: number[] = []
  for (let seq = before.head + 1; seq <= after.head; seq++) {
    const text = after.bySeq.get(seq)
    if (text === undefined) {
      fail(logCase, `event ${seq} is visible to no writer`)
      continue
    }
    if (appendedSeqs.has(seq)) continue
    const event = JSON.parse(text) as LogEvent
    if (event.actor?.user === 'fuzz-noack') unacked.push(seq)
    else if (event.actor?.user === 'fuzz-taxii') pushed.push(seq)
    else fail(logCase, `event ${seq} (${event.type} by ${event.actor?.user}) was appended by no 2xx answer or ok ack`)
  }
  if (pushed.length > taxiiAdded)
    fail(logCase, `${pushed.length} events by the TAXII writer, its statuses said ${taxiiAdded} added`)
  for (const seq of appendedSeqs)
    if (seq <= before.head || seq > after.head)
      fail(logCase, `a 2xx answer reported seq ${seq}, outside the log's growth`)
  if (unacked.length > 3 * unackedCommands)
    fail(logCase, `${unacked.length} events by the no-ack writer, from ${unackedCommands} ack-less commands`)
  const grew = after.head - before.head
  if (grew !== appendedSeqs.size + unacked.length + pushed.length)
    fail(
      logCase,
      `the head moved by ${grew}, the answers account for ${appendedSeqs.size} + ${unacked.length} ack-less + ${pushed.length} pushed`,
    )

  // RSS: the bound is start + headroom + a share per appended event and incident (docs/performance.md "## fuzz")
  await new Promise((resolve) => setTimeout(resolve, 500))
  const rssEnd = rssOf(target.pid) ?? 0
  rssPeak = Math.max(rssPeak, rssEnd)
  let reported = 0
  for (let seq = before.head + 1; seq <= after.head; seq++)
    if (after.bySeq.get(seq)?.includes('"type":"incident.reported"')) reported++
  const bound =
    rssStart +
    (options.rssHeadroomBytes ?? 256 * 1024 * 1024) +
    (options.rssPerEventBytes ?? 8 * 1024) * (after.head - before.head) +
    (options.rssPerIncidentBytes ?? 16 * 1024) * reported
  if (rssPeak > bound)
    fail(
      fakeCase('memory'),
      `server RSS peaked at ${mb(rssPeak)} MB, over the bound of ${mb(bound)} MB (start ${mb(rssStart)} MB)`,
    )

  // the server's own log: nothing at error level (pino level >= 50)
  const serverErrors = target.server
    .output()
    .slice(outputStart)
    .split('\n')
    .filter((line) => /"level":(50|60)/.test(line))
  const logFamily = (line: string) =>
    Object.entries(KNOWN_BUG_LOGS).find(([, pattern]) => pattern.test(line))?.[0] ?? 'serverLog'
  const firstOfFamily = new Set<string>()
  for (const line of serverErrors) {
    const family = logFamily(line)
    if (firstOfFamily.has(family)) continue
    firstOfFamily.add(family)
    fail(
      fakeCase(family),
      `the server logged ${serverErrors.filter((l) => logFamily(l) === family).length} error line(s) like: ${line.slice(0, 600)}`,
    )
  }

  return {
    seed,
    cases,
    skipped,
    durationMs,
    statuses,
    byTarget,
    statusesByTarget,
    msByTarget,
    rssSamples,
    failures,
    appended: appendedSeqs.size,
    appendedUnacked: unacked.length,
    headBefore: before.head,
    headAfter: after.head,
    rss: { start: rssStart, peak: rssPeak, end: rssEnd, bound },
    serverErrors,
  }
}

export const mb = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10

/** A short summary of a report (the test prints it; the bench prints more). */
export function summarise(report: FuzzReport): string {
  const statuses = Object.entries(report.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${v}`)
    .join(' ')
  return (
    `fuzz seed ${report.seed}: ${report.cases} cases in ${(report.durationMs / 1000).toFixed(1)} s ` +
    `(${Math.round(report.cases / (report.durationMs / 1000))}/s), ${report.failures.length} failures; ` +
    `log ${report.headBefore} -> ${report.headAfter} (+${report.appended} answered, +${report.appendedUnacked} ack-less); ` +
    `RSS ${mb(report.rss.start)} / ${mb(report.rss.peak)} / ${mb(report.rss.end)} MB (bound ${mb(report.rss.bound)}); ` +
    `statuses ${statuses}`
  )
}

/**
 * The baseline of the bench: `count` plain valid requests (GET `path`, with `token` if given),
 * through the same HTTP client and agent as the fuzzer, `concurrency` in flight; every answer
 * must be 200. Returns requests per second.
 */
export async function plainRequests(
  url: string,
  path: string,
  token: string | null,
  count: number,
  concurrency: number,
): Promise<{ requests: number; seconds: number; perSecond: number }> {
  const base = new URL(url)
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const c: HttpCase = {
    kind: 'http',
    index: -1,
    target: 'query.events',
    family: 'baseline',
    note: 'plain request',
    method: 'GET',
    path,
    headers: {},
    auth: 'none',
    invalid: false,
  }
  let next = 0
  const started = performance.now()
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          next++
          const answer = await sendHttp(agent, base, c, token, 30_000)
          if (answer.status !== 200) throw new Error(`baseline GET ${path} answered ${answer.status}`)
        }
      }),
    )
  } finally {
    agent.destroy()
  }
  const seconds = (performance.now() - started) / 1000
  return { requests: count, seconds, perSecond: count / seconds }
}

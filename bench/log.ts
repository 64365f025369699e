import type { Marking, StoredEvent } from '../packages/protocol/src/index.ts'
import { NETWORKS } from '../packages/simulator/src/index.ts'
import { type AcceptedEvent, contentJson, SqliteEventStore } from '../packages/store/src/index.ts'
import { storedBody } from '../packages/store/src/plan.ts'
import { idHash } from '../packages/store/src/sqlite.ts'
import { Database } from './deps.ts'

/**
 * Months of a floor's history as a SQLite log, written straight into the store's file (its own
 * schema, body format and id index, so the server opens it as one it wrote itself) at hundreds of
 * thousands of events a second, with `recordedAt` as a floor that ran for that long would have it
 * (the store's own `append` stamps every event with the time of the append).
 *
 * The mix (deterministic for a seed): the allied networks registered first (34, simulator/NETWORKS),
 * then one event every `stepMs` of recorded time: about 96 % `incident.observation`, an
 * `incident.reported` every 250 events (4,000 incidents in a million), 1 % `incident.updated` (two
 * in five of them closing the incident), posture changes and advisories; markings from CLEAR to
 * RED (the cert-ee viewer kadri sees most of it, not all); one event in 50 reported late
 * (`occurredAt` up to 6 hours before it was recorded). The log ends at `endMs`.
 *
 * Incidents live as on a floor: each is reported by one network (`reporterOf`), whose organisation
 * alone updates it (as the server's owner check [A5] and core [R12] require: updates from anyone
 * else would never have been accepted), and its owner closes it once 50 later incidents have been
 * reported (about nine hours of recorded time), except one in 50 that stays open (long-running),
 * with the marking of its report (a close marked stricter than the report would leave the
 * incident open for ever to everyone the report reached and the close did not).
 * Observations and updates go to the 50 newest incidents.
 */
/** The network whose organisation reports, and so owns, incident `k`. */
export function reporterOf(k: number) {
  return NETWORKS[(k * 11 + 3) % NETWORKS.length]!
}
/** The marking of incident `k`'s report, which its owner's close carries too (one incident, one audience). */
function reportMarking(k: number): Marking {
  return marking(rng(k * 2_654_435_761 + 1)(), reporterOf(k).organisation)
}
/** An incident is closed by its owner this many reports after its own ... */
export const CLOSED_AFTER_REPORTS = 50
/** ... except one in this many, which stays open. */
export const LONG_RUNNING_ONE_IN = 50

export interface LogSpec {
  events: number
  /** The recordedAt of the last event (default now). */
  endMs?: number
  /** Recorded time between two events (default 2.6 s: about 33,000 events a day, a million in a month). */
  stepMs?: number
  seed?: number
  /** One incident reported every this many events (default 250). */
  reportEvery?: number
}

export interface BuiltLog {
  events: number
  seconds: number
  firstRecordedMs: number
  lastRecordedMs: number
  incidents: number
}

/** A small deterministic generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function marking(r: number, organisation: string): Marking {
  if (r < 0.55) return { tlp: 'GREEN' }
  if (r < 0.7) return { tlp: 'CLEAR' }
  if (r < 0.85) return { tlp: 'AMBER', releasableTo: ['EE', 'LV', organisation] }
  if (r < 0.95) return { tlp: 'AMBER' }
  if (r < 0.99) return { tlp: 'AMBER+STRICT' }
  return { tlp: 'RED', recipients: ['kadri', 'mari'] }
}

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const
const CATEGORIES = ['malware', 'phishing', 'ddos', 'intrusion', 'data-leak']

/** The i-th event of the log (0-based), without seq and recordedAt. */
export function logEvent(i: number, occurredMs: number, random: () => number, reportEvery: number): AcceptedEvent {
  if (i < NETWORKS.length) {
    const n = NETWORKS[i]!
    return {
      id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      type: 'network.registered',
      occurredAt: new Date(occurredMs).toISOString(),
      source: { organisation: n.organisation, network: n.networkId },
      marking: { tlp: 'GREEN' },
      actor: { user: `sensor-${n.organisation}`, organisation: n.organisation },
      payload: {
        networkId: n.networkId,
        name: n.name,
        organisation: n.organisation,
        nation: n.nation,
        kind: n.kind,
        location: n.location,
      },
    } as AcceptedEvent
  }
  const network = NETWORKS[Math.floor(random() * NETWORKS.length)]!
  const organisation = network.organisation
  const late = random() < 0.02 ? Math.floor(random() * 6 * 3_600_000) : 0
  const base = {
    id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    occurredAt: new Date(occurredMs - late).toISOString(),
    source: { organisation, network: network.networkId },
    marking: marking(random(), organisation),
    actor: { user: `sensor-${organisation}`, organisation },
  }
  const reported = Math.floor((i - NETWORKS.length) / reportEvery)
  const k = Math.max(0, reported - Math.floor(random() * 50))
  const incidentId = `inc-${k}`
  /** An event of incident `n`'s owner: its reporting network's organisation [A5, R12]. */
  const byOwner = (n: number) => {
    const owner = reporterOf(n)
    return {
      ...base,
      source: { organisation: owner.organisation, network: owner.networkId },
      actor: { user: `sensor-${owner.organisation}`, organisation: owner.organisation },
    }
  }
  const offset = (i - NETWORKS.length) % reportEvery
  const closing = reported - CLOSED_AFTER_REPORTS
  if (offset === 1 && closing >= 0 && closing % LONG_RUNNING_ONE_IN !== 0)
    return {
      ...byOwner(closing),
      marking: reportMarking(closing),
      type: 'incident.updated',
      payload: { incidentId: `inc-${closing}`, status: 'closed' },
    } as AcceptedEvent
  if (offset === 0) {
    const affected = NETWORKS[(reported * 7) % NETWORKS.length]!
    const reporter = reporterOf(reported)
    return {
      ...byOwner(reported),
      marking: reportMarking(reported),
      type: 'incident.reported',
      payload: {
        incidentId: `inc-${reported}`,
        title: `Incident ${reported} on ${affected.name}`,
        severity: SEVERITIES[reported % 4]!,
        category: CATEGORIES[reported % CATEGORIES.length]!,
        affectedNetworks: [affected.networkId, reporter.networkId].filter((id, n, all) => all.indexOf(id) === n),
        ...(reported % 5 === 0
          ? { attackSource: { networkId: NETWORKS[(reported * 13) % NETWORKS.length]!.networkId } }
          : {}),
      },
    } as AcceptedEvent
  }
  const r = random()
  if (r < 0.01)
    return {
      ...byOwner(k),
      type: 'incident.updated',
      payload:
        r < 0.004
          ? { incidentId, status: 'closed' }
          : { incidentId, severity: SEVERITIES[Math.floor(r * 400) % 4]!, status: 'triaged' },
    } as AcceptedEvent
  if (r < 0.012)
    return {
      ...base,
      type: 'network.posture_changed',
      payload: { networkId: network.networkId, posture: (['normal', 'elevated', 'degraded'] as const)[i % 3]! },
    } as AcceptedEvent
  if (r < 0.014)
    return {
      ...base,
      type: 'advisory.published',
      payload: { advisoryId: `adv-${i}`, title: `Advisory ${i}`, body: 'Patch the VPN concentrators.', incidentId },
    } as AcceptedEvent
  return {
    ...base,
    type: 'incident.observation',
    payload: { incidentId, networkId: network.networkId, indicator: `198.51.100.${i % 256}`, count: 1 + (i % 10) },
  } as AcceptedEvent
}

/** The log as stored events, in memory (for small logs and checks). */
export function storedLog(spec: LogSpec): StoredEvent[] {
  const out: StoredEvent[] = []
  eachEvent(spec, (event, seq, recordedAt) => {
    out.push({ ...event, seq, recordedAt } as StoredEvent)
  })
  return out
}

function eachEvent(spec: LogSpec, take: (event: AcceptedEvent, seq: number, recordedAt: string) => void): void {
  const step = spec.stepMs ?? 2600
  const end = spec.endMs ?? Date.now()
  const start = end - (spec.events - 1) * step
  const random = rng(spec.seed ?? 7)
  const reportEvery = spec.reportEvery ?? 250
  for (let i = 0; i < spec.events; i++) {
    const recorded = start + i * step
    take(logEvent(i, recorded, random, reportEvery), i + 1, new Date(recorded).toISOString())
  }
}

/** Write the log into a new SQLite file (the store's `events.sqlite`); `onProgress` every 500,000 events. */
export async function writeLog(
  file: string,
  spec: LogSpec,
  onProgress: (written: number) => void = () => {},
): Promise<BuiltLog> {
  const started = performance.now()
  // the store makes its own schema
  await new SqliteEventStore({ file, recentEvents: 0 }).close()
  const db = new Database(file)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = OFF')
    const CHUNK = 100
    const insertChunk = db.prepare(
      `INSERT INTO events (seq, id, recorded_at, body) VALUES ${Array.from({ length: CHUNK }, () => '(?, ?, ?, ?)').join(', ')}`,
    )
    const insertOne = db.prepare('INSERT INTO events (seq, id, recorded_at, body) VALUES (?, ?, ?, ?)')
    let values: unknown[] = []
    let rows = 0
    let incidents = 0
    let first = 0
    let last = 0
    const flushRows = db.transaction((batch: unknown[]) => {
      let k = 0
      for (; k + CHUNK * 4 <= batch.length; k += CHUNK * 4) insertChunk.run(batch.slice(k, k + CHUNK * 4))
      for (; k < batch.length; k += 4) insertOne.run(batch[k], batch[k + 1], batch[k + 2], batch[k + 3])
    })
    eachEvent(spec, (event, seq, recordedAt) => {
      if (event.type === 'incident.reported') incidents++
      if (seq === 1) first = Date.parse(recordedAt)
      last = Date.parse(recordedAt)
      values.push(seq, event.id, recordedAt, storedBody(seq, recordedAt, contentJson(event)))
      rows++
      if (rows % 20_000 === 0) {
        flushRows(values)
        values = []
        if (rows % 500_000 === 0) onProgress(rows)
      }
    })
    if (values.length > 0) flushRows(values)
    // the id index, sorted by hash as the store writes it, and every id in it
    db.function('watchfloor_id_hash', { deterministic: true }, (id) => idHash(String(id)))
    db.exec('INSERT INTO event_ids (hash, seq) SELECT watchfloor_id_hash(id), seq FROM events ORDER BY 1, 2')
    db.prepare(
      "INSERT INTO event_store (key, value) VALUES ('indexed_to', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(rows)
    db.pragma('wal_checkpoint(TRUNCATE)')
    return {
      events: rows,
      seconds: (performance.now() - started) / 1000,
      firstRecordedMs: first,
      lastRecordedMs: last,
      incidents,
    }
  } finally {
    db.close()
  }
}

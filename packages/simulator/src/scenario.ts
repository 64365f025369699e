import type {
  Actor,
  EventInput,
  EventType,
  IncidentStatus,
  Marking,
  PayloadOf,
  Posture,
  Severity,
} from '@watchfloor/protocol'
import { type AlliedNetwork, distanceKm, NETWORKS, networkById } from './networks.ts'
import { createRandom, type Random, type Seed } from './random.ts'

/** One event of a scenario and when it is due: `at` ms of scenario time after the start. */
export interface TimedEvent {
  at: number
  event: EventInput
}

export const SCENARIO_NAMES = ['outbreak'] as const
export type ScenarioName = (typeof SCENARIO_NAMES)[number]

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name)
}

export interface ScenarioOptions {
  seed: Seed
  /** Scenario time zero: epoch ms, an ISO timestamp or a Date. `occurredAt` = startTime + at. */
  startTime: number | string | Date
  /** Background observations per second of scenario time (default 10; 0 for none). */
  rate?: number
  /** Default 'outbreak'. */
  scenario?: ScenarioName
  /**
   * The speed it will be played at (default 1): `occurredAt` = startTime + at / speed,
   * so event times follow the wall clock of the replay instead of running ahead of it.
   */
  speed?: number
  /** User ids the RED advisory is addressed to (default ['coordinator']). */
  redRecipients?: readonly string[]
  /**
   * What event and incident ids are drawn with (default `startTime`): a run that continues an
   * earlier one on a new time base gives its incidents and events the ids of that run.
   */
  idSalt?: number
}

/**
 * A deterministic, endless scenario. Iterating it starts from scratch each time and yields
 * events in non-decreasing `at` order; the same options always give the same events.
 */
export interface Scenario extends Iterable<TimedEvent> {
  readonly name: ScenarioName
  readonly seed: Seed
  /** Epoch ms of scenario time zero. */
  readonly startTime: number
  readonly rate: number
  readonly networks: readonly AlliedNetwork[]
  /** When the scripted storyline ends (ms); afterwards only background activity follows. */
  readonly storylineMs: number
}

const SECOND = 1000
const MINUTE = 60 * SECOND

export function createScenario(options: ScenarioOptions): Scenario {
  const name = options.scenario ?? 'outbreak'
  if (!isScenarioName(name)) throw new Error(`unknown scenario '${String(name)}' (known: ${SCENARIO_NAMES.join(', ')})`)
  const rate = options.rate ?? 10
  if (!Number.isFinite(rate) || rate < 0) throw new Error(`rate must be a finite number >= 0, got ${rate}`)
  const startTime = toEpochMs(options.startTime)
  const speed = options.speed ?? 1
  if (!(speed > 0)) throw new Error(`speed must be > 0, got ${speed}`)
  const context: Context = {
    seed: options.seed,
    startTime,
    idSalt: options.idSalt ?? startTime,
    speed,
    rate,
    redRecipients: options.redRecipients ?? ['coordinator'],
  }
  // the storyline is finite and cheap: build it once, replay it on every iteration
  const storyline = buildOutbreakStoryline(context)
  const storylineMs = storyline.events.reduce((max, e) => Math.max(max, e.at), 0)
  return {
    name,
    seed: options.seed,
    startTime,
    rate,
    networks: NETWORKS,
    storylineMs,
    [Symbol.iterator]: () => playScenario(context, storyline, storylineMs),
  }
}

/** The first `n` events of a scenario, without any timing. */
export function takeEvents(scenario: Iterable<TimedEvent>, n: number): TimedEvent[] {
  const out: TimedEvent[] = []
  if (n <= 0) return out
  for (const timed of scenario) {
    out.push(timed)
    if (out.length >= n) break
  }
  return out
}

/** Every event due at or before `atMs` of scenario time. */
export function takeUntil(scenario: Iterable<TimedEvent>, atMs: number): TimedEvent[] {
  const out: TimedEvent[] = []
  for (const timed of scenario) {
    if (timed.at > atMs) break
    out.push(timed)
  }
  return out
}

function toEpochMs(time: number | string | Date): number {
  const ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : time.getTime()
  if (!Number.isFinite(ms)) throw new Error(`invalid startTime '${String(time)}'`)
  return ms
}

// ---------------------------------------------------------------------------
// building events

interface Context {
  seed: Seed
  startTime: number
  idSalt: number
  speed: number
  rate: number
  redRecipients: readonly string[]
}

const GREEN: Marking = { tlp: 'GREEN' }
const CLEAR: Marking = { tlp: 'CLEAR' }

function buildEvent<T extends EventType>(
  context: Context,
  rng: Random,
  at: number,
  type: T,
  from: AlliedNetwork,
  payload: PayloadOf<T>,
  marking: Marking,
  actor?: Actor,
): TimedEvent {
  const event = {
    id: salted(rng.uuid(), context.idSalt, 'uuid'),
    type,
    occurredAt: new Date(context.startTime + Math.round(at / context.speed)).toISOString(),
    source: { organisation: from.organisation, network: from.networkId },
    ...(actor ? { actor } : {}),
    marking,
    payload,
  } as EventInput
  return { at, event }
}

/** Short ids ('inc-3fa9c2d1') drawn from a generator, never repeated within one scenario. */
class IdMaker {
  private readonly used = new Set<string>()
  constructor(
    private readonly rng: Random,
    private readonly salt: number,
  ) {}
  make(prefix: string): string {
    for (;;) {
      const id = `${prefix}-${salted(this.rng.hex(8), this.salt, 'hex')}`
      if (!this.used.has(id)) {
        this.used.add(id)
        return id
      }
    }
  }
  reserve(ids: Iterable<string>): void {
    for (const id of ids) this.used.add(id)
  }
}

/**
 * Ids depend on the seed AND the start time, while the content depends on the seed
 * only: a demo restarted on the same log plays the same story as new incidents and
 * new events instead of colliding with the ids of the earlier run.
 */
function salted(drawn: string, startTime: number, kind: 'uuid' | 'hex'): string {
  const mask = saltMask(startTime)
  const hex = drawn.replaceAll('-', '')
  let out = ''
  for (let i = 0; i < hex.length; i++)
    out += (Number.parseInt(hex[i]!, 16) ^ Number.parseInt(mask[i]!, 16)).toString(16)
  if (kind === 'hex') return out
  // keep it a version 4, variant 1 UUID: XOR with a fixed mask is one-to-one, so ids stay unique
  const variant = (8 | (Number.parseInt(out[16]!, 16) & 3)).toString(16)
  const v4 = `${out.slice(0, 12)}4${out.slice(13, 16)}${variant}${out.slice(17)}`
  return `${v4.slice(0, 8)}-${v4.slice(8, 12)}-${v4.slice(12, 16)}-${v4.slice(16, 20)}-${v4.slice(20)}`
}

const saltMasks = new Map<number, string>()
function saltMask(startTime: number): string {
  let mask = saltMasks.get(startTime)
  if (!mask) {
    mask = createRandom(startTime, 'id-salt').hex(32)
    saltMasks.set(startTime, mask)
  }
  return mask
}

function dutyOfficer(network: AlliedNetwork): Actor {
  return { user: `${network.organisation}-duty-officer`, organisation: network.organisation }
}

function nearest(network: AlliedNetwork, candidates: readonly AlliedNetwork[], n: number): AlliedNetwork[] {
  return candidates
    .filter((c) => c.networkId !== network.networkId)
    .map((c) => ({ c, d: distanceKm(network.location, c.location) }))
    .sort((x, y) => x.d - y.d)
    .slice(0, n)
    .map((x) => x.c)
}

// ---------------------------------------------------------------------------
// the 'outbreak' storyline: a fast SMB worm spreading through allied networks

const WORM_NAMES = ['GREYTIDE', 'COLDHARBOR', 'NIGHTLATCH', 'SALTMARSH', 'IRONFERN', 'BLACKWICK'] as const

interface Storyline {
  events: TimedEvent[]
  /** Incident ids the storyline uses (background incidents must not reuse them). */
  incidentIds: string[]
  worm: string
}

interface Infection {
  network: AlliedNetwork
  from: AlliedNetwork | undefined
  infectedAt: number
  detectedAt: number
  compromised: boolean
}

function buildOutbreakStoryline(context: Context): Storyline {
  const rng = createRandom(context.seed, 'outbreak/storyline')
  const ids = new IdMaker(rng, context.idSalt)
  const raw: TimedEvent[] = []
  const emit = <T extends EventType>(
    at: number,
    type: T,
    from: AlliedNetwork,
    payload: PayloadOf<T>,
    marking: Marking,
    actor?: Actor,
  ): void => {
    raw.push(buildEvent(context, rng, Math.round(at), type, from, payload, marking, actor))
  }
  const incidentIds: string[] = []
  const newIncidentId = (): string => {
    const id = ids.make('inc')
    incidentIds.push(id)
    return id
  }
  const posture = (at: number, network: AlliedNetwork, value: Posture, reason: string): void =>
    emit(at, 'network.posture_changed', network, { networkId: network.networkId, posture: value, reason }, GREEN)
  const update = (at: number, from: AlliedNetwork, marking: Marking, payload: PayloadOf<'incident.updated'>): void =>
    emit(at, 'incident.updated', from, payload, marking)

  const nationals = NETWORKS.filter((n) => n.kind === 'national-cert')
  const csoc = networkById('alliance-csoc')
  const ncirc = networkById('alliance-ncirc')
  const worm = rng.pick(WORM_NAMES)

  // t = 0: every network registers
  for (const network of NETWORKS) {
    emit(
      0,
      'network.registered',
      network,
      {
        networkId: network.networkId,
        name: network.name,
        shortName: network.shortName,
        organisation: network.organisation,
        nation: network.nation,
        kind: network.kind,
        location: { ...network.location },
      },
      GREEN,
    )
  }

  // the infection spreads, mostly to networks near one already infected
  const zeros = rng.sample(nationals, rng.chance(0.5) ? 2 : 1)
  const infections: Infection[] = []
  let clock = 0
  for (const [i, zero] of zeros.entries()) {
    clock = i === 0 ? rng.int(5 * SECOND, 15 * SECOND) : clock + rng.int(20 * SECOND, 45 * SECOND)
    infections.push({ network: zero, from: undefined, infectedAt: clock, detectedAt: clock, compromised: false })
  }
  const target = rng.int(12, 18)
  while (infections.length < target) {
    clock += rng.int(12 * SECOND, 40 * SECOND)
    const infected = infections.map((x) => x.network)
    const candidates = nationals.filter((n) => !infected.includes(n))
    const closest = (n: AlliedNetwork): number => Math.min(...infected.map((i) => distanceKm(i.location, n.location)))
    const network = rng.weighted(candidates, (n) => 1 / (closest(n) + 300) ** 1.5)
    // most spread is local; now and then it jumps over a long-haul link
    const from = rng.chance(0.75) ? (nearest(network, infected, 1)[0] ?? rng.pick(infected)) : rng.pick(infected)
    infections.push({
      network,
      from,
      infectedAt: clock,
      detectedAt: clock + rng.int(5 * SECOND, 40 * SECOND),
      compromised: false,
    })
  }
  for (const infection of infections) infection.compromised = rng.chance(0.35)
  infections.sort((x, y) => x.detectedAt - y.detectedAt)
  const firstDetection = infections[0]?.detectedAt ?? 0
  const lastDetection = infections[infections.length - 1]?.detectedAt ?? 0

  // each infected network: posture, its own incident (most of them) and its life cycle
  interface NetworkIncident {
    incidentId: string
    network: AlliedNetwork
    reportedAt: number
    marking: Marking
    affected: string[]
    lastUpdateAt: number
  }
  const ownIncidents = new Map<string, NetworkIncident>()
  let latestRecovery = 0
  for (const [i, infection] of infections.entries()) {
    const { network, from, detectedAt, compromised } = infection
    const isZero = from === undefined
    posture(
      detectedAt,
      network,
      compromised ? 'compromised' : 'degraded',
      compromised
        ? `${worm} encrypted file servers and domain controllers`
        : `${worm} infections on workstations; SMB traffic blocked internally`,
    )
    if (!isZero && !rng.chance(0.65)) {
      // folded into the alliance coordination incident only; recovers with it
      const recoveredAt = detectedAt + rng.int(12 * MINUTE, 20 * MINUTE)
      posture(recoveredAt - rng.int(4 * MINUTE, 7 * MINUTE), network, 'elevated', 'Worm contained; cleaning up')
      posture(recoveredAt, network, 'normal', 'Services restored')
      latestRecovery = Math.max(latestRecovery, recoveredAt)
      continue
    }
    const incidentId = newIncidentId()
    const reportedAt = detectedAt + rng.int(2 * SECOND, 20 * SECOND)
    const marking = incidentMarking(rng, network, nationals)
    const severity: Severity = isZero ? rng.pick(['medium', 'high'] as const) : rng.pick(['medium', 'high', 'high'])
    const attackSource =
      from !== undefined && rng.chance(0.6)
        ? rng.chance(0.3)
          ? { networkId: from.networkId, location: { ...from.location } }
          : { networkId: from.networkId }
        : isZero && i > 0 && rng.chance(0.5)
          ? { networkId: (infections[0] as Infection).network.networkId }
          : undefined
    emit(
      reportedAt,
      'incident.reported',
      network,
      {
        incidentId,
        // where first: a list that cuts a long title still tells one network's incident from another's
        title: isZero
          ? `${network.shortName}: self-propagating ransomware spreading over SMB in ${network.name}`
          : `${network.shortName}: ${worm} worm infection in ${network.name}`,
        severity,
        category: 'malware',
        summary: isZero
          ? `Ransomware with worm behaviour: scans 445/tcp, exploits SMBv1 and encrypts file shares. Tracked as ${worm}.`
          : `${worm} reached this network${from ? ` (traced to ${from.name})` : ''}; infected hosts scan 445/tcp.`,
        affectedNetworks: [network.networkId],
        ...(attackSource ? { attackSource } : {}),
      },
      marking,
    )
    const record: NetworkIncident = {
      incidentId,
      network,
      reportedAt,
      marking,
      affected: [network.networkId],
      lastUpdateAt: reportedAt,
    }
    ownIncidents.set(network.networkId, record)

    const triagedAt = reportedAt + rng.int(1 * MINUTE, 3 * MINUTE)
    update(triagedAt, network, marking, { incidentId, status: 'triaged' })
    let lastAt = triagedAt
    if (compromised || rng.chance(0.3)) {
      lastAt = triagedAt + rng.int(30 * SECOND, 3 * MINUTE)
      update(lastAt, network, marking, {
        incidentId,
        severity: 'critical',
        summary: compromised
          ? `${worm} encrypted domain controllers and file servers; core services down.`
          : `${worm} spreading faster than containment; critical services at risk.`,
      })
    }
    const containedAt = lastAt + rng.int(3 * MINUTE, 7 * MINUTE)
    update(containedAt, network, marking, { incidentId, status: 'contained' })
    posture(containedAt, network, compromised ? 'degraded' : 'elevated', `${worm} contained; restoring services`)
    const recoveredAt = containedAt + rng.int(4 * MINUTE, 8 * MINUTE)
    update(recoveredAt, network, marking, { incidentId, status: 'recovered', severity: 'medium' })
    posture(recoveredAt, network, 'normal', 'Services restored from backups')
    latestRecovery = Math.max(latestRecovery, recoveredAt)
    if (rng.chance(0.5)) {
      update(recoveredAt + rng.int(2 * MINUTE, 4 * MINUTE), network, marking, { incidentId, status: 'closed' })
    }
    record.lastUpdateAt = recoveredAt

    // the CERT that passed the worm on adds the new victim to its own incident
    const origin = from ? ownIncidents.get(from.networkId) : undefined
    if (origin && rng.chance(0.6)) {
      origin.affected = [...origin.affected, network.networkId]
      const at = Math.max(detectedAt, origin.reportedAt) + rng.int(10 * SECOND, 40 * SECOND)
      update(at, origin.network, origin.marking, {
        incidentId: origin.incidentId,
        affectedNetworks: [...origin.affected],
        summary: `Spread from ${origin.network.name} to ${network.name} confirmed.`,
      })
    }
  }

  // the operations centre opens one coordination incident once several networks are hit
  const coordinationId = newIncidentId()
  const third = infections[Math.min(2, infections.length - 1)] as Infection
  const coordinationAt = third.detectedAt + rng.int(20 * SECOND, 50 * SECOND)
  const affectedAt = (at: number): string[] =>
    infections.filter((x) => x.detectedAt <= at).map((x) => x.network.networkId)
  emit(
    coordinationAt,
    'incident.reported',
    csoc,
    {
      incidentId: coordinationId,
      title: `${worm}: worm outbreak across allied networks`,
      severity: 'high',
      category: 'malware',
      summary: `Coordinated response to ${worm}, a self-propagating ransomware worm spreading over SMB between allied networks.`,
      affectedNetworks: affectedAt(coordinationAt),
      attackSource: { networkId: (infections[0] as Infection).network.networkId },
    },
    GREEN,
  )
  posture(coordinationAt, csoc, 'elevated', `Coordinating the ${worm} response`)
  update(coordinationAt + rng.int(30 * SECOND, 90 * SECOND), csoc, GREEN, {
    incidentId: coordinationId,
    status: 'triaged',
  })
  let coordinationClock = coordinationAt
  let escalated = false
  for (const infection of infections) {
    if (infection.detectedAt <= coordinationAt) continue
    coordinationClock = Math.max(coordinationClock, infection.detectedAt) + rng.int(10 * SECOND, 30 * SECOND)
    const affected = affectedAt(infection.detectedAt)
    const escalate: boolean = !escalated && affected.length >= 6
    escalated ||= escalate
    update(coordinationClock, csoc, GREEN, {
      incidentId: coordinationId,
      affectedNetworks: affected,
      ...(escalate
        ? {
            severity: 'critical' as const,
            summary: `${worm} has reached ${affected.length} allied networks; escalated to critical.`,
          }
        : {}),
    })
  }
  if (!escalated) {
    coordinationClock += rng.int(30 * SECOND, 90 * SECOND)
    update(coordinationClock, csoc, GREEN, { incidentId: coordinationId, severity: 'critical' })
  }
  const coordinationContainedAt = Math.max(lastDetection, coordinationClock) + rng.int(3 * MINUTE, 5 * MINUTE)
  update(coordinationContainedAt, csoc, GREEN, {
    incidentId: coordinationId,
    status: 'contained',
    summary: `No new ${worm} infections for several minutes; perimeter blocks of 445/tcp hold.`,
  })
  const coordinationRecoveredAt = Math.max(latestRecovery, coordinationContainedAt) + rng.int(1 * MINUTE, 2 * MINUTE)
  update(coordinationRecoveredAt, csoc, GREEN, {
    incidentId: coordinationId,
    status: 'recovered',
    severity: 'medium',
  })
  const endAt = coordinationRecoveredAt + rng.int(1 * MINUTE, 2 * MINUTE)
  update(endAt, csoc, GREEN, { incidentId: coordinationId, status: 'closed' })
  posture(endAt, csoc, 'normal', `${worm} response closed`)

  // networks never hit raise their guard while the worm spreads, and relax at the end
  const neverInfected = nationals.filter((n) => !infections.some((x) => x.network === n))
  for (const network of rng.sample(neverInfected, rng.int(5, Math.min(9, neverInfected.length)))) {
    posture(
      coordinationAt + rng.int(1 * MINUTE, 4 * MINUTE),
      network,
      'elevated',
      `Precaution against ${worm}: 445/tcp blocked at the perimeter`,
    )
    posture(endAt - rng.int(0, 2 * MINUTE), network, 'normal', `${worm} threat receded`)
  }

  // advisories, shared under mixed markings
  const zero = (infections[0] as Infection).network
  const zeroIncident = ownIncidents.get(zero.networkId)
  const advisory = (
    at: number,
    from: AlliedNetwork,
    marking: Marking,
    title: string,
    body: string,
    incidentId: string | undefined,
    actor: Actor = dutyOfficer(from),
  ): void =>
    emit(
      at,
      'advisory.published',
      from,
      { advisoryId: ids.make('adv'), title, body, ...(incidentId ? { incidentId } : {}) },
      marking,
      actor,
    )

  advisory(
    firstDetection + rng.int(60 * SECOND, 120 * SECOND),
    zero,
    GREEN,
    `Initial indicators: ${worm} ransomware worm`,
    `Infected hosts sweep 445/tcp on local and adjacent ranges, exploit SMBv1 and drop ransom notes named ${worm}_README.txt. Block 445/tcp at perimeters and watch for bursts of SMB connections.`,
    zeroIncident?.incidentId,
  )
  advisory(
    coordinationAt + rng.int(40 * SECOND, 90 * SECOND),
    ncirc,
    CLEAR,
    `Mitigation: disable SMBv1 and block 445/tcp`,
    `Disable SMBv1 on every host, apply the vendor patch for the exploited SMB flaw, block 445/tcp between network segments and at perimeters, and keep offline backups out of reach of domain credentials.`,
    coordinationId,
  )
  const affectedOrganisations = [
    ...new Set(affectedAt(coordinationAt + 3 * MINUTE).map((id) => networkById(id).organisation)),
  ]
  advisory(
    coordinationAt + rng.int(3 * MINUTE, 4 * MINUTE),
    csoc,
    { tlp: 'AMBER', releasableTo: ['alliance', ...affectedOrganisations] },
    `${worm}: propagation paths between affected networks`,
    `Observed propagation so far: ${infections
      .filter((x) => x.from && x.detectedAt <= coordinationAt + 3 * MINUTE)
      .map((x) => `${x.from?.organisation} -> ${x.network.organisation}`)
      .join(', ')}. Review the trust links between these networks.`,
    coordinationId,
  )
  const reporters = [...ownIncidents.values()]
  const spreadReporter = reporters.find((r) => r.network !== zero) ?? reporters[0]
  if (spreadReporter) {
    const neighbours = nearest(spreadReporter.network, nationals, 3).map((n) => n.nation)
    advisory(
      spreadReporter.reportedAt + rng.int(1 * MINUTE, 3 * MINUTE),
      spreadReporter.network,
      { tlp: 'AMBER', releasableTo: neighbours },
      `Lateral movement from ${worm} across national borders`,
      `${spreadReporter.network.name} sees ${worm} moving over site-to-site links. Neighbouring nations should inspect SMB traffic on shared links.`,
      spreadReporter.incidentId,
    )
  }
  const strictReporter =
    reporters.find((r) => infections.some((x) => x.network === r.network && x.compromised)) ?? reporters[0]
  if (strictReporter) {
    advisory(
      strictReporter.reportedAt + rng.int(3 * MINUTE, 5 * MINUTE),
      strictReporter.network,
      { tlp: 'AMBER+STRICT' },
      `Internal: encrypted hosts and restoration order`,
      `Restoration order for ${strictReporter.network.name}: identity services first, then file servers, then workstations. Hosts encrypted by ${worm} are isolated.`,
      strictReporter.incidentId,
    )
  }
  advisory(
    coordinationAt + rng.int(6 * MINUTE, 9 * MINUTE),
    csoc,
    { tlp: 'RED', recipients: [...context.redRecipients] },
    `${worm}: assessment of the outbreak's origin`,
    `Assessment for named recipients only: the first infections of ${worm} came through a compromised remote-maintenance account shared by several networks. Do not share further.`,
    coordinationId,
    { user: 'csoc-duty-officer', organisation: csoc.organisation },
  )
  advisory(
    coordinationContainedAt + rng.int(0, 2 * MINUTE),
    ncirc,
    { tlp: 'AMBER', releasableTo: ['alliance', ...new Set(zeros.map((z) => z.nation))] },
    `${worm}: recovery guidance`,
    `Rebuild encrypted hosts from known-good images, reset domain credentials before reconnecting, and restore data from offline backups. No working decryptor is known.`,
    coordinationId,
  )
  advisory(
    coordinationRecoveredAt + rng.int(0, 1 * MINUTE),
    ncirc,
    GREEN,
    `${worm}: hunting for residual infections`,
    `Keep 445/tcp blocked at perimeters for now and hunt for hosts still sweeping SMB; report sightings as observations on the coordination incident.`,
    coordinationId,
  )
  advisory(
    endAt,
    csoc,
    CLEAR,
    `${worm} outbreak over`,
    `The ${worm} outbreak is over: ${infections.length} allied networks were affected and all have recovered.`,
    coordinationId,
  )

  // stable sort keeps the order of events scheduled for the same moment
  const events = raw.map((e, i) => ({ e, i })).sort((x, y) => x.e.at - y.e.at || x.i - y.i)
  return { events: events.map((x) => x.e), incidentIds, worm }
}

/** Most incidents are GREEN; some AMBER, released to the alliance and nearby nations, or kept in-house. */
function incidentMarking(rng: Random, network: AlliedNetwork, nationals: readonly AlliedNetwork[]): Marking {
  const r = rng.next()
  if (r < 0.6) return GREEN
  if (r < 0.9) {
    const neighbours = nearest(network, nationals, rng.int(1, 2)).map((n) => n.nation)
    return { tlp: 'AMBER', releasableTo: ['alliance', ...neighbours] }
  }
  return { tlp: 'AMBER' }
}

// ---------------------------------------------------------------------------
// playing a scenario: the storyline merged with endless background activity

interface OpenIncident {
  incidentId: string
  category: string
  marking: Marking
  affected: string[]
  /** Weight when choosing which incident an observation is about. */
  weight: number
}

type Task = { kind: 'event'; timed: TimedEvent } | { kind: 'observe'; time: number } | { kind: 'spawn-incident' }

interface Queued {
  at: number
  order: number
  task: Task
}

/** A binary min-heap on (at, order): ties keep the order in which tasks were queued. */
class TaskQueue {
  private readonly heap: Queued[] = []
  private counter = 0

  push(at: number, task: Task): void {
    const heap = this.heap
    heap.push({ at, order: this.counter++, task })
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i] as Queued, heap[parent] as Queued)) break
      swap(heap, i, parent)
      i = parent
    }
  }

  pop(): Queued | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    heap[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < heap.length && before(heap[left] as Queued, heap[smallest] as Queued)) smallest = left
      if (right < heap.length && before(heap[right] as Queued, heap[smallest] as Queued)) smallest = right
      if (smallest === i) break
      swap(heap, i, smallest)
      i = smallest
    }
    return top
  }
}

function before(a: Queued, b: Queued): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order)
}

function swap(heap: Queued[], i: number, j: number): void {
  const t = heap[i] as Queued
  heap[i] = heap[j] as Queued
  heap[j] = t
}

const BACKGROUND_CATEGORIES = ['phishing', 'scanning', 'ddos', 'malware', 'credential-abuse', 'defacement'] as const
type BackgroundCategory = (typeof BACKGROUND_CATEGORIES)[number]

/** Where first (the network's short name): a list that cuts a long title still tells them apart. */
const BACKGROUND_TITLES: Record<BackgroundCategory, (network: AlliedNetwork) => string> = {
  phishing: (n) => `${n.shortName}: spear-phishing campaign against staff of ${n.name}`,
  scanning: (n) => `${n.shortName}: sustained vulnerability scanning of ${n.name}`,
  ddos: (n) => `${n.shortName}: DDoS against public services of ${n.name}`,
  malware: (n) => `${n.shortName}: commodity malware on workstations in ${n.name}`,
  'credential-abuse': (n) => `${n.shortName}: password spraying against remote access of ${n.name}`,
  defacement: (n) => `${n.shortName}: defacement of a public website in ${n.name}`,
}

function observationIndicator(rng: Random, category: string, worm: string): { indicator: string; count: number } {
  const doc = (): string => `${rng.pick(['192.0.2', '198.51.100', '203.0.113'] as const)}.${rng.int(1, 254)}`
  switch (category) {
    case 'phishing':
      return rng.chance(0.5)
        ? { indicator: `Phishing mail with credential-harvesting link from ${doc()}`, count: rng.int(1, 60) }
        : { indicator: `Malicious attachment, SHA-256 ${rng.hex(64)}`, count: rng.int(1, 20) }
    case 'scanning':
      return {
        indicator: `${rng.pick(['22/tcp', '3389/tcp', '443/tcp', '8080/tcp'])} scan from ${doc()}`,
        count: rng.int(10, 2000),
      }
    case 'ddos':
      return {
        indicator: `UDP reflection flood from ${doc()} (${rng.int(2, 80)} Gbit/s peak)`,
        count: rng.int(100, 50_000),
      }
    case 'credential-abuse':
      return { indicator: `Failed VPN logins from ${doc()}`, count: rng.int(20, 5000) }
    case 'defacement':
      return { indicator: `Web shell upload attempt from ${doc()}`, count: rng.int(1, 10) }
    default: {
      const r = rng.next()
      if (r < 0.55) return { indicator: `445/tcp SMB scan from ${doc()}`, count: rng.int(1, 500) }
      if (r < 0.75) return { indicator: `SMBv1 exploit attempt from ${doc()}`, count: rng.int(1, 50) }
      if (r < 0.85) return { indicator: `Ransom note ${worm}_README.txt written on file share`, count: rng.int(1, 200) }
      if (r < 0.95) return { indicator: `Beacon to command-and-control ${doc()}:443`, count: rng.int(1, 30) }
      return { indicator: `${worm} sample, SHA-256 ${rng.hex(64)}`, count: 1 }
    }
  }
}

function* playScenario(context: Context, storyline: Storyline, storylineMs: number): Generator<TimedEvent> {
  const observationRng = createRandom(context.seed, `outbreak/observations/${context.rate}`)
  const backgroundRng = createRandom(context.seed, 'outbreak/background')
  const backgroundIds = new IdMaker(backgroundRng, context.idSalt)
  backgroundIds.reserve(storyline.incidentIds)
  const nationals = NETWORKS.filter((n) => n.kind === 'national-cert')
  const csoc = networkById('alliance-csoc')
  const queue = new TaskQueue()

  for (const timed of storyline.events) queue.push(timed.at, { kind: 'event', timed })
  const interval = context.rate > 0 ? SECOND / context.rate : 0
  if (interval > 0) {
    const first = interval * observationRng.next()
    queue.push(Math.floor(first), { kind: 'observe', time: first })
  }
  queue.push(storylineMs + backgroundRng.int(30 * SECOND, 2 * MINUTE), { kind: 'spawn-incident' })

  // what the scenario has said so far, so observations name incidents that exist
  const open = new Map<string, OpenIncident>()
  let latest: OpenIncident | undefined
  const track = (event: EventInput): void => {
    if (event.type === 'incident.reported') {
      const p = event.payload
      const incident: OpenIncident = {
        incidentId: p.incidentId,
        category: p.category,
        marking: event.marking ?? GREEN,
        affected: [...p.affectedNetworks],
        weight: event.source.organisation === csoc.organisation ? 4 : 1,
      }
      open.set(p.incidentId, incident)
      latest = incident
    } else if (event.type === 'incident.updated') {
      const p = event.payload
      const incident = open.get(p.incidentId)
      if (!incident) return
      if (p.affectedNetworks) incident.affected = [...p.affectedNetworks]
      if (p.status === 'closed') open.delete(p.incidentId)
    }
  }

  for (;;) {
    const item = queue.pop()
    if (!item) return
    const { task } = item
    switch (task.kind) {
      case 'event': {
        track(task.timed.event)
        yield task.timed
        break
      }
      case 'observe': {
        const candidates = [...open.values()]
        const incident = candidates.length > 0 ? observationRng.weighted(candidates, (c) => c.weight) : latest
        if (incident) {
          // the coordination incident collects sightings from every national network
          const pool =
            incident.weight > 1
              ? nationals
              : incident.affected.map((id) => networkById(id)).filter((n) => n.kind !== 'alliance-body')
          const observer = pool.length > 0 ? observationRng.pick(pool) : observationRng.pick(nationals)
          const { indicator, count } = observationIndicator(observationRng, incident.category, storyline.worm)
          const timed = buildEvent(
            context,
            observationRng,
            item.at,
            'incident.observation',
            observer,
            { incidentId: incident.incidentId, networkId: observer.networkId, indicator, count },
            incident.marking,
          )
          yield timed
        }
        const next = task.time + interval * (0.5 + observationRng.next())
        queue.push(Math.floor(next), { kind: 'observe', time: next })
        break
      }
      case 'spawn-incident': {
        const at = item.at
        const rng = backgroundRng
        const network = rng.pick(nationals)
        const category = rng.pick(BACKGROUND_CATEGORIES)
        const incidentId = backgroundIds.make('inc')
        const r = rng.next()
        const marking: Marking = r < 0.2 ? CLEAR : r < 0.7 ? GREEN : { tlp: 'AMBER', releasableTo: ['alliance'] }
        const severity: Severity = rng.pick(['low', 'low', 'medium', 'medium', 'high'] as const)
        const reported = buildEvent(
          context,
          rng,
          at,
          'incident.reported',
          network,
          {
            incidentId,
            title: BACKGROUND_TITLES[category](network),
            severity,
            category,
            affectedNetworks: [network.networkId],
          },
          marking,
        )
        track(reported.event)
        yield reported
        const lifecycle: Array<[number, IncidentStatus]> = []
        let t = at
        for (const [status, min, max] of [
          ['triaged', 1, 3],
          ['contained', 3, 10],
          ['closed', 5, 15],
        ] as const) {
          t += rng.int(min * MINUTE, max * MINUTE)
          lifecycle.push([t, status])
        }
        for (const [when, status] of lifecycle) {
          const timed = buildEvent(context, rng, when, 'incident.updated', network, { incidentId, status }, marking)
          queue.push(when, { kind: 'event', timed })
        }
        queue.push(at + rng.int(1 * MINUTE, 4 * MINUTE), { kind: 'spawn-incident' })
        break
      }
    }
  }
}

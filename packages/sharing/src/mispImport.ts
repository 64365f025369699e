/**
 * MISP to Watchfloor, pure: MISP events (one event, a REST search answer, or a feed) become the
 * raw events the server posts through its ordinary ingest path. A MISP event becomes an incident
 * (`incident.reported`) with one `incident.observation` per attribute, or an advisory
 * (`advisory.published`) when it is tagged as a report. Markings follow the tables in
 * docs/sharing.md (MISP): the stricter of what the tags and what the distribution say, and a level
 * combined with its parent as core combines markings (`strictestMarking`), never wider.
 * Every id is a UUIDv5 of the MISP uuid, timestamp and content, so importing the same thing
 * again gives the same events (the log answers them with their original seq).
 */
import { highestTlp, sameMarking, strictestMarking } from '@watchfloor/core'
import {
  canonicalJson,
  type EventInput,
  EventInput as EventInputSchema,
  type FieldIssue,
  type Marking,
  type Pap,
  SEVERITIES,
  type Severity,
  type Tlp,
} from '@watchfloor/protocol'
import {
  ANALYSIS_NAMES,
  levelMarking,
  papOfTag,
  papRank,
  parseMachineTag,
  SEVERITY_OF_THREAT_LEVEL,
  tlpOfTag,
  WATCHFLOOR_TAG,
} from './mispFormat.ts'
import { MISP_NAMESPACE } from './mispUuid.ts'
import { isUuid, uuidv5 as uuid5 } from './uuid.ts'

export interface MispSharingGroupRef {
  uuid?: string
  name?: string
}

export interface MispImportOptions {
  /**
   * The marking of an event whose MISP `distribution` is absent (feeds strip it): it stands in for
   * the distribution, like a MISP feed's own distribution setting. Tags can only narrow it.
   */
  defaultMarking: Marking
  /** The importer's organisation: the source when `Orgc` is absent or unknown, and a recipient of what it imports. */
  organisation: string
  /** The Watchfloor community a MISP sharing group stands for (distribution 4); undefined: unknown, the event is skipped. */
  communityOf?: (sharingGroup: MispSharingGroupRef) => string | undefined
  /** The Watchfloor organisation id of a MISP organisation name (`Orgc.name`); undefined: unknown. */
  knownOrganisation?: (name: string) => string | undefined
  /**
   * The Watchfloor community standing for the MISP instance's own community (distribution 1,
   * "this community only"). Absent: distribution 1 reaches only the source and the importer.
   */
  instanceCommunity?: string
}

export interface MispImportCreated {
  /** The MISP event's uuid. */
  uuid: string
  kind: 'incident' | 'advisory'
  /** The incident or advisory id: `misp-<uuid>`. */
  id: string
  /** The ids of the events made for it, report first. */
  eventIds: string[]
  /** What the importer decided that a person should know (unknown organisation, narrowed source...). */
  notes: string[]
}

export interface MispImportSkipped {
  /** The uuid of what was left out, when it has one. */
  uuid?: string
  /** The MISP event it belongs to (for attributes, objects and reports). */
  event?: string
  what: 'event' | 'attribute' | 'object' | 'report' | 'manifest entry'
  reason: string
}

export interface MispImportResult {
  /** Events to post, in order; empty whenever `errors` is not. */
  events: EventInput[]
  created: MispImportCreated[]
  skipped: MispImportSkipped[]
  /** What makes the input unreadable (the server answers 400 and posts nothing). */
  errors: FieldIssue[]
}

/** The most MISP events and attributes (objects' included) one import reads. */
export const MISP_IMPORT_LIMITS = { events: 5000, attributes: 100_000 } as const

/** Attribute types that describe rather than indicate: not observations. */
const NOT_INDICATORS: ReadonlySet<string> = new Set([
  'comment',
  'text',
  'link',
  'size-in-bytes',
  'counter',
  'float',
  'boolean',
  'datetime',
])

/** Longest texts the event payloads take (protocol: title 300, summary 10,000, body 50,000, indicator 2,000). */
const MAX = { title: 300, summary: 10_000, body: 50_000, indicator: 2000, category: 100 } as const

// =============================================================================================
// Reading (lenient about MISP's strings-for-numbers, strict about shape)

type Path = (string | number)[]

interface Level {
  distribution?: number
  sharingGroup?: MispSharingGroupRef
  sharingGroupId?: string
  tags: string[]
}

interface AttributeIn extends Level {
  uuid?: string
  type: string
  value: string
  timestamp?: number
  firstSeen?: string
  deleted: boolean
}

interface ObjectIn extends Level {
  uuid?: string
  name?: string
  timestamp?: number
  deleted: boolean
  attributes: AttributeIn[]
}

interface ReportIn extends Level {
  uuid?: string
  name?: string
  content: string
  deleted: boolean
}

interface EventIn extends Level {
  uuid: string
  info: string
  date?: string
  timestamp?: number
  publishTimestamp?: number
  threatLevel?: number
  analysis?: number
  orgc?: string
  galaxyTags: string[]
  galaxyTypes: string[]
  attributes: AttributeIn[]
  objects: ObjectIn[]
  reports: ReportIn[]
  /** Where it was in the input. */
  path: Path
  /** Feed only: absent from manifest.json. */
  unlisted?: boolean
}

class Reader {
  readonly errors: FieldIssue[] = []

  fail(path: Path, message: string): undefined {
    this.errors.push({ path: path.join('.'), message })
    return undefined
  }

  record(value: unknown, path: Path): Record<string, unknown> | undefined {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
    return this.fail(path, 'expected an object')
  }

  list(value: unknown, path: Path): unknown[] {
    if (value === undefined || value === null) return []
    if (Array.isArray(value)) return value
    this.fail(path, 'expected an array')
    return []
  }

  string(value: unknown, path: Path, required: boolean): string | undefined {
    if (value === undefined || value === null) return required ? this.fail(path, 'required') : undefined
    if (typeof value === 'number' && Number.isFinite(value)) return String(value)
    if (typeof value === 'string') return value
    return this.fail(path, 'expected a string')
  }

  /** An integer in [min, max], given as a number or a numeric string (MISP writes both). */
  int(value: unknown, path: Path, min: number, max: number): number | undefined {
    if (value === undefined || value === null || value === '') return undefined
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\s*\d+\s*$/.test(value)
          ? Number(value)
          : Number.NaN
    if (!Number.isInteger(n) || n < min || n > max) return this.fail(path, `expected an integer from ${min} to ${max}`)
    return n
  }

  bool(value: unknown): boolean {
    return value === true || value === 1 || value === '1' || value === 'true'
  }

  uuid(value: unknown, path: Path, required: boolean): string | undefined {
    if (value === undefined || value === null || value === '') return required ? this.fail(path, 'required') : undefined
    if (!isUuid(value)) return this.fail(path, 'expected a UUID')
    return value.toLowerCase()
  }

  tags(value: unknown, path: Path): string[] {
    const out: string[] = []
    this.list(value, path).forEach((tag, i) => {
      const name = typeof tag === 'string' ? tag : this.record(tag, [...path, i])?.name
      if (typeof name === 'string' && name.trim() !== '') out.push(name.trim())
      else this.fail([...path, i, 'name'], 'expected a tag name')
    })
    return out
  }

  level(raw: Record<string, unknown>, path: Path): Level {
    const level: Level = { tags: this.tags(raw.Tag, [...path, 'Tag']) }
    const distribution = this.int(raw.distribution, [...path, 'distribution'], 0, 5)
    if (distribution !== undefined) level.distribution = distribution
    const sgId = raw.sharing_group_id
    if ((typeof sgId === 'string' || typeof sgId === 'number') && String(sgId) !== '' && String(sgId) !== '0')
      level.sharingGroupId = String(sgId)
    if (raw.SharingGroup !== undefined && raw.SharingGroup !== null) {
      const sg = this.record(raw.SharingGroup, [...path, 'SharingGroup'])
      if (sg) {
        const ref: MispSharingGroupRef = {}
        const uuid = this.uuid(sg.uuid, [...path, 'SharingGroup', 'uuid'], false)
        if (uuid !== undefined) ref.uuid = uuid
        const name = this.string(sg.name, [...path, 'SharingGroup', 'name'], false)
        if (name !== undefined && name.trim() !== '') ref.name = name.trim()
        level.sharingGroup = ref
        if (level.sharingGroupId === undefined && (typeof sg.id === 'string' || typeof sg.id === 'number'))
          level.sharingGroupId = String(sg.id)
      }
    }
    return level
  }

  attribute(value: unknown, path: Path): AttributeIn | undefined {
    const raw = this.record(value, path)
    if (!raw) return undefined
    const type = this.string(raw.type, [...path, 'type'], true)
    const val = this.string(raw.value, [...path, 'value'], true)
    const uuid = this.uuid(raw.uuid, [...path, 'uuid'], false)
    const timestamp = this.int(raw.timestamp, [...path, 'timestamp'], 0, MAX_EPOCH)
    const level = this.level(raw, path)
    if (type === undefined || val === undefined) return undefined
    const attribute: AttributeIn = { ...level, type: type.trim(), value: val, deleted: this.bool(raw.deleted) }
    if (uuid !== undefined) attribute.uuid = uuid
    if (timestamp !== undefined) attribute.timestamp = timestamp
    if (typeof raw.first_seen === 'string' && !Number.isNaN(Date.parse(raw.first_seen)))
      attribute.firstSeen = new Date(Date.parse(raw.first_seen)).toISOString()
    return attribute
  }

  object(value: unknown, path: Path): ObjectIn | undefined {
    const raw = this.record(value, path)
    if (!raw) return undefined
    const uuid = this.uuid(raw.uuid, [...path, 'uuid'], false)
    const timestamp = this.int(raw.timestamp, [...path, 'timestamp'], 0, MAX_EPOCH)
    const attributes = this.list(raw.Attribute, [...path, 'Attribute'])
      .map((a, i) => this.attribute(a, [...path, 'Attribute', i]))
      .filter((a) => a !== undefined)
    const object: ObjectIn = { ...this.level(raw, path), deleted: this.bool(raw.deleted), attributes }
    if (uuid !== undefined) object.uuid = uuid
    if (typeof raw.name === 'string') object.name = raw.name
    if (timestamp !== undefined) object.timestamp = timestamp
    return object
  }

  report(value: unknown, path: Path): ReportIn | undefined {
    const raw = this.record(value, path)
    if (!raw) return undefined
    const uuid = this.uuid(raw.uuid, [...path, 'uuid'], false)
    const content = this.string(raw.content, [...path, 'content'], false) ?? ''
    const report: ReportIn = { ...this.level(raw, path), content, deleted: this.bool(raw.deleted) }
    if (uuid !== undefined) report.uuid = uuid
    if (typeof raw.name === 'string') report.name = raw.name
    return report
  }

  event(value: unknown, path: Path): EventIn | undefined {
    const raw = this.record(value, path)
    if (!raw) return undefined
    const before = this.errors.length
    const uuid = this.uuid(raw.uuid, [...path, 'uuid'], true)
    const info = this.string(raw.info, [...path, 'info'], true)
    if (info !== undefined && info.trim() === '') this.fail([...path, 'info'], 'must not be empty')
    const date = this.string(raw.date, [...path, 'date'], false)
    if (date !== undefined && !validDate(date)) this.fail([...path, 'date'], 'expected a date YYYY-MM-DD')
    const timestamp = this.int(raw.timestamp, [...path, 'timestamp'], 0, MAX_EPOCH)
    const publishTimestamp = this.int(raw.publish_timestamp, [...path, 'publish_timestamp'], 0, MAX_EPOCH)
    const threatLevel = this.int(raw.threat_level_id, [...path, 'threat_level_id'], 1, 4)
    const analysis = this.int(raw.analysis, [...path, 'analysis'], 0, 2)
    let orgc: string | undefined
    if (raw.Orgc !== undefined && raw.Orgc !== null) {
      const o = this.record(raw.Orgc, [...path, 'Orgc'])
      const name = o ? this.string(o.name, [...path, 'Orgc', 'name'], false) : undefined
      if (name !== undefined && name.trim() !== '') orgc = name.trim()
    }
    const galaxyTags: string[] = []
    const galaxyTypes: string[] = []
    this.list(raw.Galaxy, [...path, 'Galaxy']).forEach((g, i) => {
      const galaxy = this.record(g, [...path, 'Galaxy', i])
      if (!galaxy) return
      if (typeof galaxy.type === 'string') galaxyTypes.push(galaxy.type)
      this.list(galaxy.GalaxyCluster, [...path, 'Galaxy', i, 'GalaxyCluster']).forEach((c) => {
        if (c !== null && typeof c === 'object' && typeof (c as { tag_name?: unknown }).tag_name === 'string')
          galaxyTags.push((c as { tag_name: string }).tag_name)
      })
    })
    const attributes = this.list(raw.Attribute, [...path, 'Attribute'])
      .map((a, i) => this.attribute(a, [...path, 'Attribute', i]))
      .filter((a) => a !== undefined)
    const objects = this.list(raw.Object, [...path, 'Object'])
      .map((o, i) => this.object(o, [...path, 'Object', i]))
      .filter((o) => o !== undefined)
    const reports = this.list(raw.EventReport, [...path, 'EventReport'])
      .map((r, i) => this.report(r, [...path, 'EventReport', i]))
      .filter((r) => r !== undefined)
    const level = this.level(raw, path)
    if (this.errors.length > before || uuid === undefined || info === undefined) return undefined
    if (timestamp === undefined && date === undefined)
      return this.fail([...path, 'timestamp'], 'an event needs a timestamp or a date')
    const event: EventIn = { ...level, uuid, info, galaxyTags, galaxyTypes, attributes, objects, reports, path }
    if (date !== undefined) event.date = date
    if (timestamp !== undefined) event.timestamp = timestamp
    if (publishTimestamp !== undefined) event.publishTimestamp = publishTimestamp
    if (threatLevel !== undefined) event.threatLevel = threatLevel
    if (analysis !== undefined) event.analysis = analysis
    if (orgc !== undefined) event.orgc = orgc
    return event
  }
}

/** 9999-12-31T23:59:59Z: the latest second an ISO timestamp can say. */
const MAX_EPOCH = 253_402_300_799

function validDate(date: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(date) && !Number.isNaN(Date.parse(`${date}T00:00:00Z`))
}

function isoOfEpoch(seconds: number): string {
  return new Date(seconds * 1000).toISOString()
}

/** The events in the input, each unwrapped from `{ Event }`, or errors when the input is no MISP shape we know. */
function locate(input: unknown, reader: Reader, skipped: MispImportSkipped[]): EventIn[] {
  const wrapped = (item: unknown, path: Path): EventIn | undefined => {
    if (item !== null && typeof item === 'object' && !Array.isArray(item) && 'Event' in item)
      return reader.event((item as { Event: unknown }).Event, [...path, 'Event'])
    return reader.event(item, path)
  }
  const many = (items: unknown[], path: Path): EventIn[] => {
    if (items.length > MISP_IMPORT_LIMITS.events) {
      reader.fail(path, `at most ${MISP_IMPORT_LIMITS.events} MISP events per import, got ${items.length}`)
      return []
    }
    return items.map((item, i) => wrapped(item, [...path, i])).filter((e) => e !== undefined)
  }

  if (Array.isArray(input)) return many(input, [])
  const root = input !== null && typeof input === 'object' ? (input as Record<string, unknown>) : undefined
  if (root === undefined) {
    reader.fail([], 'expected a MISP event, { "response": [...] } or a feed { "manifest", "events" }')
    return []
  }
  if ('response' in root) {
    const response = root.response
    if (Array.isArray(response)) return many(response, ['response'])
    if (!reader.record(response, ['response'])) return []
    const one = wrapped(response, ['response'])
    return one ? [one] : []
  }
  if ('manifest' in root || 'events' in root) return feed(root, reader, skipped)
  if ('Event' in root) {
    const one = wrapped(root, [])
    return one ? [one] : []
  }
  if ('uuid' in root || 'info' in root || 'Attribute' in root) {
    const one = reader.event(root, [])
    return one ? [one] : []
  }
  reader.fail([], 'expected a MISP event, { "response": [...] } or a feed { "manifest", "events" }')
  return []
}

function feed(root: Record<string, unknown>, reader: Reader, skipped: MispImportSkipped[]): EventIn[] {
  const manifest = reader.record(root.manifest, ['manifest'])
  const files = reader.record(root.events, ['events'])
  const extra = Object.keys(root).filter((key) => key !== 'manifest' && key !== 'events')
  for (const key of extra) reader.fail([key], 'unexpected field beside "manifest" and "events"')
  if (!manifest || !files) return []
  const keys = Object.keys(files)
  if (keys.length > MISP_IMPORT_LIMITS.events) {
    reader.fail(['events'], `at most ${MISP_IMPORT_LIMITS.events} MISP events per import, got ${keys.length}`)
    return []
  }
  for (const uuid of Object.keys(manifest)) {
    if (!isUuid(uuid)) reader.fail(['manifest', uuid], 'manifest keys are event UUIDs')
    else if (!Object.hasOwn(files, uuid))
      skipped.push({
        uuid: uuid.toLowerCase(),
        what: 'manifest entry',
        reason: 'listed in manifest.json, but its file was not given',
      })
  }
  const out: EventIn[] = []
  for (const key of keys) {
    if (!isUuid(key)) {
      reader.fail(['events', key], 'feed files are keyed by event UUID')
      continue
    }
    const file = reader.record(files[key], ['events', key])
    if (!file) continue
    const event = reader.event(file.Event, ['events', key, 'Event'])
    if (!event) continue
    if (event.uuid !== key.toLowerCase()) {
      reader.fail(['events', key, 'Event', 'uuid'], `the file of ${key} holds event ${event.uuid}`)
      continue
    }
    if (!Object.hasOwn(manifest, key)) event.unlisted = true
    out.push(event)
  }
  return out
}

// =============================================================================================
// Markings

/** What applies at one level: the marking so far and whether a TLP tag has spoken (at this level or above). */
interface Context {
  marking: Marking
  tlpTagged: boolean
}

type Decided = { context: Context } | { skip: string }

/**
 * The marking of one level (event, object, attribute, report), given its parent's context (none
 * for the event). What the level says itself (its distribution, TLP tags, PAP tags and
 * `watchfloor:releasable-to` and `watchfloor:releasable-to-none` tags) combines field by field
 * (`levelMarking`): a list of the level names whom its own TLP reaches. Distribution 3 allows CLEAR
 * but gives GREEN unless a TLP tag (here or above) says otherwise; distribution 4 needs a known
 * community; distribution 0 with `watchfloor:releasable-to-none` and a TLP tag is that TLP
 * releasable to nobody (what the export writes for it), with `tlp:amber` alone AMBER naming no one
 * (what the export writes for that), else AMBER+STRICT. That combines with the
 * parent's marking as core combines markings (`strictestMarking`): a parent AMBER naming no one
 * reaches its source only [V4], so a child's list never widens it [V6].
 */
function decide(level: Level, parent: Context | undefined, options: MispImportOptions, event: EventIn): Decided {
  const tlps: Tlp[] = []
  const paps: Pap[] = []
  const releasable: string[] = []
  let releasableToNone = false
  for (const name of level.tags) {
    const tlp = tlpOfTag(name)
    if (tlp === 'unknown') return { skip: `unknown TLP tag "${name}"` }
    if (tlp !== undefined) tlps.push(tlp)
    const pap = papOfTag(name)
    if (pap !== undefined && pap !== 'unknown') paps.push(pap)
    const machine = parseMachineTag(name)
    if (machine?.namespace !== WATCHFLOOR_TAG.namespace) continue
    if (machine.predicate === WATCHFLOOR_TAG.releasableToNone) releasableToNone = true
    else if (
      machine.predicate === WATCHFLOOR_TAG.releasableTo &&
      machine.value !== undefined &&
      machine.value.trim() !== ''
    )
      releasable.push(machine.value.trim())
  }

  const candidates: Marking[] = []
  const d = level.distribution
  if (d === undefined || d === 5) {
    if (!parent) candidates.push(options.defaultMarking) // no distribution on the event: the importer's default
  } else if (d === 0)
    // your organisation only: releasable to nobody at the TLP the tags give (the export's round trip
    // of an empty list); AMBER naming no one, its source only [V4], for `tlp:amber` alone (the
    // export's round trip of AMBER naming no one); else AMBER+STRICT
    candidates.push(
      releasableToNone && tlps.length > 0
        ? { tlp: 'CLEAR', releasableTo: [] }
        : tlps.length > 0 && highestTlp(tlps) === 'AMBER' && releasable.length === 0
          ? { tlp: 'AMBER' }
          : { tlp: 'AMBER+STRICT' },
    )
  else if (d === 1)
    candidates.push(
      options.instanceCommunity === undefined
        ? { tlp: 'AMBER' }
        : { tlp: 'AMBER', releasableTo: [options.instanceCommunity] },
    )
  else if (d === 2) candidates.push({ tlp: 'GREEN' })
  else if (d === 3) candidates.push({ tlp: 'CLEAR' })
  else {
    const group =
      level.sharingGroup ??
      (level !== event && level.sharingGroupId !== undefined && level.sharingGroupId === event.sharingGroupId
        ? event.sharingGroup
        : undefined)
    const community = group && (group.uuid || group.name) ? options.communityOf?.(group) : undefined
    if (community === undefined)
      return {
        skip: `sharing group ${describeGroup(group, level.sharingGroupId)} is not mapped to a Watchfloor community`,
      }
    candidates.push({ tlp: 'AMBER', releasableTo: [community] })
  }

  const tlpTagged = tlps.length > 0 || (parent?.tlpTagged ?? false)
  if (tlps.length > 0) candidates.push({ tlp: highestTlp(tlps) })
  else if (d === 3 && !tlpTagged) candidates.push({ tlp: 'GREEN' })
  if (paps.length > 0) {
    const pap = paps.reduce((a, b) => (papRank(a) >= papRank(b) ? a : b))
    candidates.push({ tlp: 'CLEAR', pap })
  }
  if (releasable.length > 0) candidates.push({ tlp: 'CLEAR', releasableTo: [...new Set(releasable)] })
  if (releasableToNone) candidates.push({ tlp: 'CLEAR', releasableTo: [] })

  const own = candidates.length === 0 ? undefined : candidates.reduce((a, b) => levelMarking(a, b))
  if (parent === undefined) return { context: { marking: own!, tlpTagged } }
  if (own === undefined) return { context: { marking: parent.marking, tlpTagged } }
  const marking = strictestMarking(parent.marking, own)
  if (marking.tlp === 'RED') {
    // RED reaches its recipients and its author whatever its lists say [V5], and MISP names no one:
    // lists neither level gave are not written (the same marking, so the same event ids, as before)
    if (parent.marking.recipients === undefined && own.recipients === undefined) delete marking.recipients
    if (parent.marking.releasableTo === undefined && own.releasableTo === undefined) delete marking.releasableTo
  }
  return { context: { marking, tlpTagged } }
}

function describeGroup(group: MispSharingGroupRef | undefined, id: string | undefined): string {
  if (group?.name !== undefined) return `"${group.name}"${group.uuid ? ` (${group.uuid})` : ''}`
  if (group?.uuid !== undefined) return group.uuid
  return id === undefined ? '(none given)' : `id ${id} (no SharingGroup object)`
}

/**
 * The importer is a recipient of what it imports (TLP 2.0): an AMBER result names its
 * organisation in releasableTo; an AMBER+STRICT one ("the recipient's organisation only") is
 * kept in it, the importer becoming the source. Who else may see is never widened.
 */
function deliver(
  marking: Marking,
  source: string,
  importer: string,
): { marking: Marking; source: string; changed: boolean } {
  if (source === importer) return { marking, source, changed: false }
  if (marking.tlp === 'AMBER+STRICT') return { marking, source: importer, changed: true }
  if (marking.tlp === 'AMBER' && !(marking.releasableTo ?? []).includes(importer))
    return { marking: { ...marking, releasableTo: [...(marking.releasableTo ?? []), importer] }, source, changed: true }
  return { marking, source, changed: false }
}

// =============================================================================================
// Classification

const RSIT_CATEGORY: Readonly<Record<string, string>> = {
  'fraud=phishing': 'phishing',
  'information-gathering=scanner': 'scanning',
  'availability=ddos': 'ddos',
  'availability=dos': 'ddos',
  'intrusion-attempts=brute-force': 'credential-abuse',
}

const CIRCL_CATEGORY: Readonly<Record<string, string>> = {
  phishing: 'phishing',
  malware: 'malware',
  locker: 'malware',
  screenlocker: 'malware',
  wiper: 'malware',
  cryptojacking: 'malware',
  scan: 'scanning',
  'denial-of-service': 'ddos',
  'system-compromise': 'intrusions',
}

/** Galaxies whose clusters are malicious software. */
const MALWARE_GALAXIES: ReadonlySet<string> = new Set([
  'ransomware',
  'malpedia',
  'mitre-malware',
  'mitre-enterprise-attack-malware',
  'mitre-mobile-attack-malware',
  'android',
  'banker',
  'rat',
  'botnet',
  'backdoor',
  'stealer',
  'exploit-kit',
])

/** MITRE ATT&CK techniques (cluster names start with these) that name a category outright. */
const ATTACK_PATTERN_CATEGORY: readonly [string, string][] = [
  ['phishing', 'phishing'],
  ['brute force', 'credential-abuse'],
  ['active scanning', 'scanning'],
  ['network denial of service', 'ddos'],
  ['endpoint denial of service', 'ddos'],
]

export const DEFAULT_CATEGORY = 'other'

/**
 * The incident category from the tags, in this order: `watchfloor:category`, then RSIT or eCSIRT,
 * then CIRCL incident classification, then galaxies (malware families, a few ATT&CK techniques),
 * else `other`. Within one family the first tag wins.
 */
export function mispCategory(tags: readonly string[], galaxyTypes: readonly string[] = []): string {
  const parsed = tags.map(parseMachineTag).filter((t) => t !== undefined)
  for (const tag of parsed)
    if (tag.namespace === WATCHFLOOR_TAG.namespace && tag.predicate === WATCHFLOOR_TAG.category && tag.value?.trim())
      return clip(tag.value.trim(), MAX.category)
  for (const tag of parsed) {
    if (tag.namespace !== 'rsit' && tag.namespace !== 'ecsirt') continue
    const predicate = tag.predicate.toLowerCase()
    const value = (tag.value ?? '').toLowerCase()
    const known = RSIT_CATEGORY[`${predicate}=${value}`]
    if (known !== undefined) return known
    if (predicate === 'malicious-code') return 'malware'
    return clip(predicate, MAX.category)
  }
  for (const tag of parsed) {
    if (tag.namespace !== 'circl' || tag.predicate !== 'incident-classification' || !tag.value) continue
    const value = tag.value.toLowerCase()
    return CIRCL_CATEGORY[value] ?? clip(value, MAX.category)
  }
  for (const tag of parsed) {
    if (tag.namespace !== 'misp-galaxy') continue
    if (MALWARE_GALAXIES.has(tag.predicate)) return 'malware'
    if (tag.predicate.startsWith('mitre-') && tag.predicate.includes('attack-pattern') && tag.value) {
      const value = tag.value.toLowerCase()
      for (const [prefix, category] of ATTACK_PATTERN_CATEGORY) if (value.startsWith(prefix)) return category
    }
  }
  if (galaxyTypes.some((type) => MALWARE_GALAXIES.has(type))) return 'malware'
  return DEFAULT_CATEGORY
}

/** `osint:source-type` values that make an event a report, hence an advisory. */
const REPORT_SOURCE_TYPES: ReadonlySet<string> = new Set(['technical-report', 'news-report', 'blog-post'])

/**
 * Incident or advisory: `watchfloor:kind="advisory"` or `"incident"` decides when present; else an
 * event tagged `osint:source-type="technical-report"`, `"news-report"` or `"blog-post"` is a
 * report, hence an advisory; everything else is an incident.
 */
export function mispKind(tags: readonly string[]): 'incident' | 'advisory' {
  const parsed = tags.map(parseMachineTag).filter((t) => t !== undefined)
  for (const tag of parsed) {
    if (tag.namespace !== WATCHFLOOR_TAG.namespace || tag.predicate !== WATCHFLOOR_TAG.kind) continue
    const value = tag.value?.trim().toLowerCase()
    if (value === 'advisory' || value === 'incident') return value
  }
  for (const tag of parsed)
    if (tag.namespace === 'osint' && tag.predicate === 'source-type' && REPORT_SOURCE_TYPES.has(tag.value ?? ''))
      return 'advisory'
  return 'incident'
}

/** Severity: `watchfloor:severity` when it names one, else the threat level (1 high, 2 medium, 3 and 4 low). */
export function mispSeverity(tags: readonly string[], threatLevel: number | undefined): Severity {
  for (const name of tags) {
    const tag = parseMachineTag(name)
    if (tag?.namespace !== WATCHFLOOR_TAG.namespace || tag.predicate !== WATCHFLOOR_TAG.severity) continue
    const value = tag.value?.trim().toLowerCase()
    if ((SEVERITIES as readonly string[]).includes(value ?? '')) return value as Severity
  }
  return SEVERITY_OF_THREAT_LEVEL[threatLevel ?? 4] ?? 'low'
}

// =============================================================================================
// Building

/** Cut a text to `max` UTF-16 units, ending with an ellipsis when cut (never halving a surrogate pair). */
function clip(text: string, max: number): string {
  if (text.length <= max) return text
  let end = max - 1
  const code = text.charCodeAt(end - 1)
  if (code >= 0xd800 && code <= 0xdbff) end--
  return `${text.slice(0, end)}…`
}

/** The id of one made event: UUIDv5 of the MISP uuid, the part (event or attribute uuid), its timestamp and content. */
function eventId(
  mispUuid: string,
  part: string,
  timestamp: number | string | undefined,
  event: Omit<EventInput, 'id'>,
) {
  return uuid5(MISP_NAMESPACE, canonicalJson({ misp: mispUuid, part, timestamp: timestamp ?? null, content: event }))
}

/**
 * The incident or advisory id of a MISP event: `misp-<uuid>` when what the import makes does not
 * depend on who imports (a known Orgc as source, a marking the importer did not touch, not RED),
 * so every organisation importing it meets the same incident; else `misp-<uuid>@<importer>`, the
 * importing organisation's own copy (another importer's copy cannot replace its marking or owner).
 */
export function mispIncidentId(mispUuid: string, organisation?: string): string {
  const base = `misp-${mispUuid.toLowerCase()}`
  if (organisation === undefined) return base
  const id = `${base}@${organisation}`
  return id.length <= 200 ? id : `${base}@${uuid5(MISP_NAMESPACE, `organisation:${organisation}`)}`
}

interface Indicator {
  attribute: AttributeIn
  object?: ObjectIn
  context: Context
}

/**
 * MISP events to Watchfloor events. Accepts one event (`{ "Event": {...} }` or the bare event),
 * a REST search answer `{ "response": [ { "Event": {...} }, ... ] }` (or a bare array of those),
 * or a feed `{ "manifest": <manifest.json>, "events": { "<uuid>": <uuid>.json } }`.
 */
export function importMisp(input: unknown, options: MispImportOptions): MispImportResult {
  const reader = new Reader()
  const skipped: MispImportSkipped[] = []
  const located = locate(input, reader, skipped)
  if (reader.errors.length === 0) {
    const attributes = located.reduce(
      (n, e) => n + e.attributes.length + e.objects.reduce((m, o) => m + o.attributes.length, 0),
      0,
    )
    if (attributes > MISP_IMPORT_LIMITS.attributes)
      reader.fail([], `at most ${MISP_IMPORT_LIMITS.attributes} attributes per import, got ${attributes}`)
  }
  if (reader.errors.length > 0) return { events: [], created: [], skipped: [], errors: reader.errors }

  const events: EventInput[] = []
  const created: MispImportCreated[] = []
  for (const event of latestCopies(located, skipped)) {
    const made = importEvent(event, options, skipped)
    if (!made) continue
    events.push(...made.events)
    created.push(made.created)
  }
  return { events, created, skipped, errors: [] }
}

/** One copy per uuid: the one with the latest timestamp (the first on a tie). */
function latestCopies(located: EventIn[], skipped: MispImportSkipped[]): EventIn[] {
  const best = new Map<string, EventIn>()
  for (const event of located) {
    const seen = best.get(event.uuid)
    if (seen === undefined || (event.timestamp ?? 0) > (seen.timestamp ?? 0)) best.set(event.uuid, event)
  }
  return located.filter((event) => {
    if (best.get(event.uuid) === event) return true
    skipped.push({ uuid: event.uuid, what: 'event', reason: 'another copy of this event in the input is newer' })
    return false
  })
}

function importEvent(
  event: EventIn,
  options: MispImportOptions,
  skipped: MispImportSkipped[],
): { events: EventInput[]; created: MispImportCreated } | undefined {
  const notes: string[] = []
  const skipEvent = (reason: string) => {
    skipped.push({ uuid: event.uuid, what: 'event', reason })
    return undefined
  }

  const decided = decide(event, undefined, options, event)
  if ('skip' in decided) return skipEvent(decided.skip)
  const context = decided.context

  const known = event.orgc === undefined ? undefined : options.knownOrganisation?.(event.orgc)
  const organisation = known ?? options.organisation
  if (event.orgc === undefined) notes.push(`no Orgc: reported as the importer's organisation ${options.organisation}`)
  else if (known === undefined)
    notes.push(`MISP organisation "${event.orgc}" is not known here: reported as ${options.organisation}`)
  const delivered = deliver(context.marking, organisation, options.organisation)
  if (delivered.source !== organisation)
    notes.push(
      `${delivered.marking.tlp}: kept in the importer's organisation ${options.organisation} (the source ${organisation} is named in the summary)`,
    )
  if (delivered.marking.tlp === 'RED')
    notes.push('RED: only the importing person sees it until recipients are named (no MISP field names people)')
  if (event.unlisted) notes.push('not listed in the feed manifest.json')

  const occurredAt =
    event.timestamp !== undefined ? isoOfEpoch(event.timestamp) : new Date(`${event.date}T00:00:00Z`).toISOString()
  const stamp = event.timestamp ?? event.date
  const title = clip(event.info.trim(), MAX.title)
  if (title !== event.info.trim()) notes.push(`title cut to ${MAX.title} characters`)
  const provenance = [
    `Imported from MISP event ${event.uuid}`,
    event.orgc === undefined ? '' : ` created by ${event.orgc}`,
    organisation !== delivered.source ? ` (Watchfloor organisation ${organisation})` : '',
    event.date === undefined ? '' : `, dated ${event.date}`,
    event.analysis === undefined ? '' : `, analysis ${ANALYSIS_NAMES[event.analysis]}`,
    '.',
  ].join('')

  // Reports: only those any reader of the event may read go into its text.
  const reports: string[] = []
  for (const report of event.reports) {
    if (report.deleted || report.content.trim() === '') continue
    const r = decide(report, context, options, event)
    if ('skip' in r || !sameMarking(r.context.marking, context.marking)) {
      skipped.push({
        ...(report.uuid === undefined ? {} : { uuid: report.uuid }),
        event: event.uuid,
        what: 'report',
        reason: 'skip' in r ? r.skip : "marked stricter than the event: left out of the event's text",
      })
      continue
    }
    reports.push(report.name?.trim() ? `## ${report.name.trim()}\n\n${report.content.trim()}` : report.content.trim())
  }

  const indicators = collectIndicators(event, context, options, skipped)
  const kind = mispKind(event.tags)
  const shared = known !== undefined && !delivered.changed && delivered.marking.tlp !== 'RED'
  const id = mispIncidentId(event.uuid, shared ? undefined : options.organisation)
  if (!shared) notes.push(`${id}: ${options.organisation}'s own copy (what it holds depends on the importer)`)
  const made: EventInput[] = []

  if (kind === 'advisory') {
    let left = 0
    const shown = indicators.filter((indicator) => {
      if (sameMarking(indicator.context.marking, context.marking)) return true
      skipped.push({
        ...(indicator.attribute.uuid === undefined ? {} : { uuid: indicator.attribute.uuid }),
        event: event.uuid,
        what: 'attribute',
        reason: 'marked stricter than the event: an advisory has one marking, so it is left out',
      })
      return false
    })
    const head = [provenance, ...reports].join('\n\n')
    let body = head
    if (shown.length > 0) {
      body += `\n\nIndicators (${shown.length}):`
      for (const { attribute } of shown) {
        const line = `\n- ${attribute.type}: ${attribute.value.trim()}`
        if (body.length + line.length + 80 > MAX.body) {
          left++
          continue
        }
        body += line
      }
      if (left > 0) {
        body += `\n… and ${left} more not shown (an advisory holds at most ${MAX.body} characters)`
        notes.push(`${left} indicators left out of the advisory's text (too long)`)
      }
    }
    const payload = { advisoryId: id, title, body: clip(body, MAX.body) }
    const content = {
      type: 'advisory.published' as const,
      occurredAt,
      source: { organisation: delivered.source },
      marking: delivered.marking,
      payload,
    }
    const advisory = { id: eventId(event.uuid, 'event', stamp, content), ...content }
    const valid = check(advisory)
    if (typeof valid === 'string') return skipEvent(valid)
    made.push(valid)
  } else {
    const text = [provenance, ...reports].join('\n\n')
    const summary = clip(text, MAX.summary)
    if (summary !== text) notes.push(`summary (the event's reports) cut to ${MAX.summary} characters`)
    const payload = {
      incidentId: id,
      title,
      severity: mispSeverity(event.tags, event.threatLevel),
      category: mispCategory([...event.tags, ...event.galaxyTags], event.galaxyTypes),
      summary,
      affectedNetworks: [],
    }
    const content = {
      type: 'incident.reported' as const,
      occurredAt,
      source: { organisation: delivered.source },
      marking: delivered.marking,
      payload,
    }
    const reported = check({ id: eventId(event.uuid, 'event', stamp, content), ...content })
    if (typeof reported === 'string') return skipEvent(reported)
    made.push(reported)

    for (const indicator of indicators) {
      const { attribute, object } = indicator
      const own = deliver(indicator.context.marking, organisation, options.organisation)
      const when =
        attribute.firstSeen ??
        (attribute.timestamp !== undefined
          ? isoOfEpoch(attribute.timestamp)
          : object?.timestamp !== undefined
            ? isoOfEpoch(object.timestamp)
            : occurredAt)
      const part = attribute.uuid ?? uuid5(MISP_NAMESPACE, `${event.uuid}|${attribute.type}|${attribute.value}`)
      const observation = {
        type: 'incident.observation' as const,
        occurredAt: when,
        source: { organisation: own.source },
        marking: own.marking,
        payload: { incidentId: id, indicator: attribute.value.trim(), count: 1 },
      }
      const checked = check({ id: eventId(event.uuid, part, attribute.timestamp, observation), ...observation })
      if (typeof checked === 'string') {
        skipped.push({ uuid: part, event: event.uuid, what: 'attribute', reason: checked })
        continue
      }
      made.push(checked)
    }
  }

  return { events: made, created: { uuid: event.uuid, kind, id, eventIds: made.map((e) => e.id), notes } }
}

/** The indicators of an event: its attributes, then its objects', each with its own marking; the rest skipped. */
function collectIndicators(
  event: EventIn,
  context: Context,
  options: MispImportOptions,
  skipped: MispImportSkipped[],
): Indicator[] {
  const out: Indicator[] = []
  /** Why an attribute is no observation, or its marking. */
  const judge = (attribute: AttributeIn, parent: Context): string | Context => {
    if (attribute.deleted) return 'deleted in MISP'
    if (NOT_INDICATORS.has(attribute.type)) return `type ${attribute.type} describes, it is no indicator`
    const value = attribute.value.trim()
    if (value === '') return 'empty value'
    if (value.length > MAX.indicator) return `value longer than ${MAX.indicator} characters`
    const decided = decide(attribute, parent, options, event)
    return 'skip' in decided ? decided.skip : decided.context
  }
  const take = (attribute: AttributeIn, parent: Context, object?: ObjectIn): void => {
    const judged = judge(attribute, parent)
    if (typeof judged === 'string') {
      skipped.push({
        ...(attribute.uuid === undefined ? {} : { uuid: attribute.uuid }),
        event: event.uuid,
        what: 'attribute',
        reason: judged,
      })
      return
    }
    const indicator: Indicator = { attribute, context: judged }
    if (object !== undefined) indicator.object = object
    out.push(indicator)
  }
  for (const attribute of event.attributes) take(attribute, context)
  for (const object of event.objects) {
    const skipObject = (reason: string) =>
      skipped.push({
        ...(object.uuid === undefined ? {} : { uuid: object.uuid }),
        event: event.uuid,
        what: 'object',
        reason,
      })
    if (object.deleted) {
      skipObject('deleted in MISP')
      continue
    }
    const decided = decide(object, context, options, event)
    if ('skip' in decided) {
      skipObject(decided.skip)
      continue
    }
    for (const attribute of object.attributes) take(attribute, decided.context, object)
  }
  return out
}

/** The event as the protocol accepts it, or why not. */
function check(event: unknown): EventInput | string {
  const parsed = EventInputSchema.safeParse(event)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  return `not a valid Watchfloor event: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'invalid'}`
}

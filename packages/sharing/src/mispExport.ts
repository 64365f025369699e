/**
 * Watchfloor to MISP, pure: one incident, as its caller may see it, becomes one MISP event in the
 * core format (`{ "Event": {...} }`), the shape MISP's API returns and its feeds serve. The marking
 * goes out as a TLP tag, a PAP tag and the distribution of the import table reversed (0 for one
 * releasable to nobody); what MISP has no field for (critical severity, the category,
 * releasableTo) goes out as `watchfloor:` machine tags, which the import reads back. Markings
 * combine as core's `strictestMarking` combines them [M1]. RED never leaves: MISP has no
 * per-person audience.
 */
import {
  INCIDENT_SHAPING_TYPES,
  type IncidentState,
  incidentOf,
  type State,
  sameMarking,
  strictestMarking,
} from '@watchfloor/core'
import { type IncidentStatus, type Marking, type StoredEvent, WatchfloorError } from '@watchfloor/protocol'
import {
  DISTRIBUTION,
  type MispAttribute,
  type MispEvent,
  type MispEventDocument,
  type MispEventReport,
  type MispTag,
  mispDistribution,
  PAP_TAG,
  RELEASABLE_TO_NONE_TAG,
  THREAT_LEVEL_OF_SEVERITY,
  TLP_TAG,
  WATCHFLOOR_TAG,
  watchfloorTag,
} from './mispFormat.ts'
import { MISP_NAMESPACE } from './mispUuid.ts'
import { isUuid, uuidv5 as uuid5 } from './uuid.ts'

/** Who an organisation id is, for `Orgc`: its display name, and its MISP uuid when the directory knows it. */
export type MispDirectory = (organisation: string) => { name: string; uuid?: string } | undefined

/**
 * The MISP uuid of an incident: the original uuid for an incident imported from MISP
 * (`misp-<uuid>` or an importer's copy `misp-<uuid>@<organisation>`), so MISP recognises its own
 * event; else UUIDv5 of the incident id.
 */
export function mispEventUuid(incidentId: string): string {
  const match = /^misp-([^@]+)(@.*)?$/.exec(incidentId)
  if (match && isUuid(match[1])) return match[1].toLowerCase()
  return uuid5(MISP_NAMESPACE, `incident:${incidentId}`)
}

/** The MISP uuid of a Watchfloor organisation the directory gives none for: UUIDv5 of its id. */
export function mispOrganisationUuid(organisation: string): string {
  return uuid5(MISP_NAMESPACE, `organisation:${organisation}`)
}

/** A MISP attribute type guessed from an indicator, with MISP's default category and IDS flag for it. */
export interface MispTypeGuess {
  type: 'ip-dst' | 'domain' | 'url' | 'md5' | 'sha1' | 'sha256' | 'other'
  category: 'Network activity' | 'Payload delivery' | 'Other'
  toIds: boolean
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(\/(3[0-2]|[12]?\d))?$/
const IPV6_CHARS = /^[0-9a-f:.]+(\/(12[0-8]|1[01]\d|[1-9]?\d))?$/i
const URL_PATTERN = /^(https?|ftp):\/\/[^\s/$.?#][^\s]*$/i
const DOMAIN = /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(xn--[a-z0-9-]{1,59}|[a-z]{2,63})\.?$/i
/** Last labels that are far more often a file's extension than a top-level domain. */
const FILE_EXTENSIONS: ReadonlySet<string> = new Set([
  'exe',
  'dll',
  'sys',
  'txt',
  'pdf',
  'doc',
  'docx',
  'docm',
  'xls',
  'xlsx',
  'xlsm',
  'ppt',
  'pptx',
  'js',
  'vbs',
  'ps1',
  'bat',
  'cmd',
  'lnk',
  'iso',
  'img',
  'jar',
  'hta',
  'scr',
  'msi',
  'tmp',
  'log',
  'dat',
  'bin',
  'py',
  'rar',
  '7z',
  'gz',
  'tar',
  'json',
  'xml',
  'html',
  'htm',
  'php',
  'aspx',
  'jsp',
])

function isIpv6(value: string): boolean {
  if (!IPV6_CHARS.test(value)) return false
  const address = value.split('/')[0]!
  const groups = address.split(':')
  if (groups.length < 3 || groups.length > 8) return false
  if ((address.match(/::/g) ?? []).length > 1) return false
  const last = groups[groups.length - 1]!
  const hexGroups = last.includes('.') ? groups.slice(0, -1) : groups
  if (last.includes('.') && !IPV4.test(last)) return false
  return hexGroups.every((g) => /^[0-9a-f]{0,4}$/i.test(g))
}

/**
 * The MISP type of an indicator: an IPv4 or IPv6 address or network is `ip-dst`, an http(s)/ftp
 * URL `url`, a host name `domain`, 32/40/64 hex digits `md5`/`sha1`/`sha256`; anything else
 * (Watchfloor's free-text indicators: "445/tcp scan from 192.0.2.7") is `other`, not for IDS.
 */
export function mispTypeOf(indicator: string): MispTypeGuess {
  const value = indicator.trim()
  if (IPV4.test(value) || isIpv6(value)) return { type: 'ip-dst', category: 'Network activity', toIds: true }
  if (URL_PATTERN.test(value)) return { type: 'url', category: 'Network activity', toIds: true }
  if (/^[0-9a-f]+$/i.test(value)) {
    if (value.length === 32) return { type: 'md5', category: 'Payload delivery', toIds: true }
    if (value.length === 40) return { type: 'sha1', category: 'Payload delivery', toIds: true }
    if (value.length === 64) return { type: 'sha256', category: 'Payload delivery', toIds: true }
  }
  if (DOMAIN.test(value)) {
    const tld = value.replace(/\.$/, '').split('.').pop()!.toLowerCase()
    if (!FILE_EXTENSIONS.has(tld)) return { type: 'domain', category: 'Network activity', toIds: true }
  }
  return { type: 'other', category: 'Other', toIds: false }
}

/** RSIT tags for the categories Watchfloor's sources use, so MISP users can filter on a standard taxonomy. */
const RSIT_TAG_OF_CATEGORY: Readonly<Record<string, string>> = {
  phishing: 'rsit:fraud="phishing"',
  scanning: 'rsit:information-gathering="scanner"',
  ddos: 'rsit:availability="ddos"',
  malware: 'rsit:malicious-code="infected-system"',
  'credential-abuse': 'rsit:intrusion-attempts="brute-force"',
}

/** MISP `analysis` of an incident status: 0 initial (new), 1 ongoing (triaged..eradicated), 2 completed. */
const ANALYSIS_OF_STATUS: Readonly<Record<IncidentStatus, number>> = {
  new: 0,
  triaged: 1,
  contained: 1,
  eradicated: 1,
  recovered: 2,
  closed: 2,
}

/**
 * The tags a marking goes out with: TLP, PAP, one `watchfloor:releasable-to` per id, or
 * `watchfloor:releasable-to-none` for an empty list (releasable to nobody [V6]; its distribution
 * is 0, `mispDistribution`). The import reads them all back.
 */
export function mispMarkingTags(marking: Marking): MispTag[] {
  const tags: MispTag[] = [{ name: TLP_TAG[marking.tlp] }]
  if (marking.pap !== undefined) tags.push({ name: PAP_TAG[marking.pap] })
  if (marking.releasableTo?.length === 0) tags.push({ name: RELEASABLE_TO_NONE_TAG })
  for (const id of marking.releasableTo ?? []) tags.push(watchfloorTag(WATCHFLOOR_TAG.releasableTo, id))
  return tags
}

function epochSeconds(iso: string): number {
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000)
}

/** MISP's first_seen/last_seen form: microseconds and an explicit offset. */
function mispTime(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00')
}

interface Sighted {
  indicator: string
  marking: Marking
  count: number
  reports: number
  first: string
  last: string
  recorded: number
}

/**
 * One incident as a MISP event. `events` are the caller's visible events (seq order); its
 * observations of the incident become attributes, one per distinct indicator (the strictest of
 * the event's and their markings, core's `strictestMarking`; MISP distribution 5 when that says
 * what the event's says). `picture` is the caller's
 * picture, which must hold the incident. Throws `not_found` when it does not, `forbidden` for a
 * RED incident; RED observations are left out.
 */
export function exportMispEvent(
  incidentId: string,
  events: readonly StoredEvent[],
  picture: State,
  directory?: MispDirectory,
): MispEventDocument {
  return exportMarkedMispEvent(incidentId, events, picture, directory).document
}

/**
 * `exportMispEvent`, with the markings of what the document holds: the event's and each
 * attribute's (rule M1: a document's marking is the strictest of what it holds, so an event it
 * leaves out, a task, a comment or a RED observation, marks nothing).
 */
export function exportMarkedMispEvent(
  incidentId: string,
  events: readonly StoredEvent[],
  picture: State,
  directory?: MispDirectory,
): { document: MispEventDocument; markings: Marking[] } {
  const incident = picture.incidents.get(incidentId)
  if (incident === undefined) throw new WatchfloorError('not_found', `incident ${incidentId} is not in this picture`)
  // the event says what its report and every later update say: it carries the strictest of their markings
  const eventMarking = shapingMarking(incident, events, picture)
  if (eventMarking.tlp === 'RED')
    throw new WatchfloorError('forbidden', `incident ${incidentId} is RED: MISP cannot keep it to named people`)
  const uuid = mispEventUuid(incidentId)

  // the event's time is that of what it says under its own marking: the events that shaped it (their
  // recordedAt, the server's clock) and the observations it carries as attributes of its own
  // distribution; never one it leaves out (a RED observation, a task, a comment) nor a stricter
  // attribute, which carries its own timestamp and which a feed leaves out
  let latest = 0
  let reported = false
  const sighted = new Map<string, Sighted>()
  for (const event of events) {
    if (incidentOf(event, picture) !== incidentId) continue
    const recorded = epochSeconds(event.recordedAt)
    if (shapesIncident(event, incident, picture)) {
      if (event.type === 'incident.reported') reported = true
      if (recorded > latest) latest = recorded
    }
    // [R3] an observation before the incident's report is none of the picture's
    if (event.type !== 'incident.observation' || event.marking.tlp === 'RED' || !reported) continue
    const indicator = event.payload.indicator?.trim()
    if (indicator === undefined || indicator === '') continue
    const count = event.payload.count ?? 1
    const seen = sighted.get(indicator)
    if (seen === undefined) {
      sighted.set(indicator, {
        indicator,
        marking: strictestMarking(eventMarking, event.marking),
        count,
        reports: 1,
        first: event.occurredAt,
        last: event.occurredAt,
        recorded,
      })
      continue
    }
    seen.marking = strictestMarking(seen.marking, event.marking)
    seen.count += count
    seen.reports++
    if (Date.parse(event.occurredAt) < Date.parse(seen.first)) seen.first = event.occurredAt
    if (Date.parse(event.occurredAt) > Date.parse(seen.last)) seen.last = event.occurredAt
    if (recorded > seen.recorded) seen.recorded = recorded
  }

  for (const s of sighted.values())
    if (inheritsFrom(s.marking, eventMarking) && s.recorded > latest) latest = s.recorded
  // events that hold no report of it (a caller's slice): the report's own time
  const timestamp = String(latest > 0 ? latest : epochSeconds(incident.reportedAt))
  const attributes: MispAttribute[] = []
  for (const s of sighted.values()) {
    const guess = mispTypeOf(s.indicator)
    const inherits = inheritsFrom(s.marking, eventMarking)
    const attribute: MispAttribute = {
      uuid: uuid5(MISP_NAMESPACE, `${uuid}|indicator|${s.indicator}`),
      type: guess.type,
      category: guess.category,
      value: s.indicator,
      to_ids: guess.toIds,
      distribution: String(inherits ? DISTRIBUTION.inherit : mispDistribution(s.marking)),
      sharing_group_id: '0',
      timestamp: String(s.recorded),
      comment: `Observed ${s.count} time${s.count === 1 ? '' : 's'} in ${s.reports} Watchfloor report${s.reports === 1 ? '' : 's'}`,
      first_seen: mispTime(s.first),
      last_seen: mispTime(s.last),
      deleted: false,
      disable_correlation: false,
    }
    if (!inherits) attribute.Tag = mispMarkingTags(s.marking)
    attributes.push(attribute)
  }

  const organisation = directory?.(incident.organisation)
  const misp: MispEvent = {
    uuid,
    info: incident.title,
    date: new Date(Date.parse(incident.reportedAt)).toISOString().slice(0, 10),
    threat_level_id: String(THREAT_LEVEL_OF_SEVERITY[incident.severity]),
    analysis: String(ANALYSIS_OF_STATUS[incident.status]),
    distribution: String(mispDistribution(eventMarking)),
    sharing_group_id: '0',
    published: true,
    timestamp,
    publish_timestamp: timestamp,
    Orgc: {
      name: organisation?.name ?? incident.organisation,
      uuid:
        organisation?.uuid !== undefined && isUuid(organisation.uuid)
          ? organisation.uuid.toLowerCase()
          : mispOrganisationUuid(incident.organisation),
    },
    Tag: incidentTags(incident, eventMarking),
    Attribute: attributes,
    Object: [],
  }
  if (incident.summary !== undefined && incident.summary.trim() !== '') {
    const report: MispEventReport = {
      uuid: uuid5(MISP_NAMESPACE, `${uuid}|summary`),
      name: 'Summary',
      content: incident.summary,
      timestamp,
      distribution: String(DISTRIBUTION.inherit),
      sharing_group_id: '0',
      deleted: false,
    }
    misp.EventReport = [report]
  }
  return { document: { Event: misp }, markings: [eventMarking, ...[...sighted.values()].map((s) => s.marking)] }
}

/**
 * The strictest marking among the incident's and the events that shaped its fields, as core's
 * `strictestMarking` writes it (AMBER naming no one is AMBER alone).
 */
function shapingMarking(incident: IncidentState, events: readonly StoredEvent[], picture: State): Marking {
  let marking = strictestMarking(incident.marking, incident.marking)
  for (const event of events)
    if (shapesIncident(event, incident, picture)) marking = strictestMarking(marking, event.marking)
  return marking
}

/** Whether an attribute of this marking goes out with the event's own distribution (5, inherit): it says the same. */
function inheritsFrom(marking: Marking, eventMarking: Marking): boolean {
  return sameMarking(marking, eventMarking)
}

/**
 * Whether the event shaped the incident's fields (its report, updates, coordination, a merge into
 * another); a report or update by another organisation than the owner's shapes nothing [R12].
 */
function shapesIncident(event: StoredEvent, incident: IncidentState, picture: State): boolean {
  if (
    (event.type === 'incident.reported' || event.type === 'incident.updated') &&
    event.source.organisation !== incident.organisation
  )
    return false
  return (
    (INCIDENT_SHAPING_TYPES.has(event.type) && incidentOf(event, picture) === incident.incidentId) ||
    // [R8] a merge closes the merged incident (its analysis) and names the survivor
    (event.type === 'incident.linked' &&
      event.payload.relation === 'merged_into' &&
      event.payload.incidentId === incident.incidentId)
  )
}

function incidentTags(incident: IncidentState, marking: Marking): MispTag[] {
  const tags = mispMarkingTags(marking)
  if (incident.severity === 'critical') tags.push(watchfloorTag(WATCHFLOOR_TAG.severity, 'critical'))
  tags.push(watchfloorTag(WATCHFLOOR_TAG.category, incident.category))
  const rsit = RSIT_TAG_OF_CATEGORY[incident.category]
  if (rsit !== undefined) tags.push({ name: rsit })
  return tags
}

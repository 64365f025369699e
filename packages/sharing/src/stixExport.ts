/**
 * Watchfloor as STIX 2.1, pure. The caller hands over what one viewer may see: the visible
 * events in seq order, then the viewer's folded picture. Observations become objects the moment
 * their event arrives (they never change); incidents, advisories, networks, organisations and
 * nations come at the end, from the picture, once their last version is known. So a server can
 * stream a bundle: write the head, every `add` batch, then `finish`, then the tail.
 *
 * Ids are stable across exports: an incident's is the UUIDv5 of its incident id in Watchfloor's
 * namespace, an observation's objects' the UUIDv5 of their event id, an SCO's the one the STIX
 * specification prescribes. Markings: docs/sharing-stix.md.
 */
import {
  type AdvisoryState,
  defaultMarking,
  type IncidentState,
  incidentOf,
  markingKey,
  type NetworkState,
  type State,
  sameMarking,
  strictestMarking,
  tlpRank,
} from '@watchfloor/core'
import type { EventOf, Marking, StoredEvent } from '@watchfloor/protocol'
import { markingRefs, wellKnownMarkingDefinition } from './stixMarkings.ts'
import { observablesOf } from './stixObservables.ts'
import { laterTime, type StixBundle, type StixObject, stixTime, watchfloorStixId } from './stixTypes.ts'

/** What the directory knows of an organisation: its display name, nation and kind. */
export interface OrganisationInfo {
  name: string
  nation?: string | undefined
  kind?: string | undefined
}

/** Looks up an organisation for nicer identities; undefined when unknown (the id is then the name). */
export type OrganisationDirectory = (organisation: string) => OrganisationInfo | undefined

export interface StixExportOptions {
  directory?: OrganisationDirectory | undefined
  /**
   * What `finish` takes from the picture: everything in it (`picture`, the default: a whole
   * export), or only what the added events are about (`events`: an export of one incident or of
   * a time window), with the networks those objects name.
   */
  scope?: 'picture' | 'events' | undefined
}

/** The most a STIX count may be (`number_observed`, a sighting's `count`). */
const MAX_STIX_COUNT = 999_999_999

/** STIX ids of Watchfloor's things: the same name gives the same id in every export. */
export const stixIds = {
  incident: (incidentId: string): string => watchfloorStixId('incident', `incident:${incidentId}`),
  network: (networkId: string): string => watchfloorStixId('identity', `network:${networkId}`),
  networkLocation: (networkId: string): string => watchfloorStixId('location', `network-location:${networkId}`),
  organisation: (organisation: string): string => watchfloorStixId('identity', `organisation:${organisation}`),
  nation: (nation: string): string => watchfloorStixId('location', `nation:${nation}`),
  attackSource: (incidentId: string): string => watchfloorStixId('location', `attack-source:${incidentId}`),
  advisory: (advisoryId: string): string => watchfloorStixId('report', `advisory:${advisoryId}`),
  observedData: (eventId: string): string => watchfloorStixId('observed-data', `event:${eventId}:observed-data`),
  sighting: (eventId: string): string => watchfloorStixId('sighting', `event:${eventId}:sighting`),
  relationship: (role: string, source: string, type: string, target: string): string =>
    watchfloorStixId('relationship', `relationship:${role}:${source}|${type}|${target}`),
}

/** When a thing was first shaped (`created`) and last changed (`modified`), as STIX times. */
interface Span {
  created: string
  modified: string
}

/**
 * A thing other objects point at (an organisation, a nation, a network known only by its id):
 * it takes the marking of the least restricted object that points at it, the first one at that
 * level, since whoever may read that object may learn what it points at; its `created` is the
 * earliest of theirs.
 */
interface Reference {
  marking: Marking
  created: string
}

/** Watchfloor's ISO 3166-1 alpha-2 nation codes are STIX countries; other nation ids (alliances) are not. */
const COUNTRY = /^[A-Z]{2}$/

/** Sectors (STIX industry-sector-ov) for the kinds of networks and organisations that have one. */
const SECTORS: Readonly<Record<string, string[]>> = {
  'national-cert': ['government-national'],
  government: ['government-national'],
  military: ['defense'],
}

/**
 * Streams one viewer's export: `add` the visible events in seq order (each call returns the
 * objects complete now), then `finish` with the viewer's picture for the rest. One instance per
 * export.
 */
export class StixExport {
  private readonly directory: OrganisationDirectory | undefined
  private readonly scope: 'picture' | 'events'
  /** Incidents any added event is about (core's `incidentOf`): the `events` scope. */
  private readonly touchedIncidents = new Set<string>()
  /** Ids of shared objects already returned: marking definitions and SCOs. */
  private readonly emitted = new Set<string>()
  /**
   * The latest `recordedAt` of the events that shaped an incident's object (those of
   * `incidentShaping`), and likewise of a network's: its `modified`. The picture's `updatedAt` and
   * `lastReportAt` are moved by events the object does not state (a link, another event from the
   * network), which may be stricter than it.
   */
  private readonly incidentShapedAt = new Map<string, string>()
  /**
   * An incident's observations, by marking (`markingKey`): how many were counted and the latest
   * `recordedAt`. The incident object counts those its own marking covers, no stricter (a GREEN
   * incident's count leaves out an AMBER or RED observation, which goes out as a sighting of its
   * own, marked as it is), so the object never says more than its marking allows.
   */
  private readonly incidentObservations = new Map<string, Map<string, ObservationTally>>()
  private readonly networkShapedAt = new Map<string, string>()
  private readonly incidentOwners = new Map<string, string>()
  private readonly networkSpans = new Map<string, Span>()
  private readonly networkOwners = new Map<string, string>()
  private readonly networkMarkings = new Map<string, Marking>()
  /**
   * The strictest marking of the events that shaped an incident's fields (its report, updates,
   * escalations, status, network states): the incident object says what they say, so it carries
   * what all of them carry (a GREEN report with a RED update is exported as RED, not GREEN).
   */
  private readonly incidentShaping = new Map<string, Marking>()
  private readonly advisorySpans = new Map<string, Span>()
  /**
   * The strictest marking of the publications of an advisory this export returns (those of
   * `advisorySpans`): its report takes `created` from the first of them and `modified` from the
   * latest, so it carries what all of them carry, as an incident carries its every report (a RED
   * publication republished GREEN goes out RED to whoever saw both, created when it was RED).
   */
  private readonly advisoryShaping = new Map<string, Marking>()
  private readonly advisoryOwners = new Map<string, string>()
  /** The marking of the latest `incident.linked` between two incidents, by `linkKey`. */
  private readonly linkMarkings = new Map<string, { seq: number; marking: Marking }>()
  private readonly organisationRefs = new Map<string, Reference>()
  private readonly networkRefs = new Map<string, Reference>()
  private readonly nationRefs = new Map<string, Reference>()
  /** Every marking an object of this export carries, by `markingKey`. */
  private readonly used = new Map<string, Marking>()
  private finished = false
  /** `shapeFrom` was given the viewer's events: the observations are counted from those. */
  private shaped = false

  constructor(options: StixExportOptions = {}) {
    this.directory = options.directory
    this.scope = options.scope ?? 'picture'
  }

  /** Fold in visible events (seq order); returns the objects they complete: observations and their markings. */
  add(events: readonly StoredEvent[]): StixObject[] {
    if (this.finished) throw new Error('StixExport: add after finish')
    const out: StixObject[] = []
    for (const event of events) this.note(event, out)
    return this.withMarkings(out)
  }

  /**
   * For an export of one incident or of a window (`scope: 'events'`): every visible event of the
   * viewer's up to its head, in seq order, before `add` (those `add` then returns among them). They
   * make no object here, but `finish` writes incidents and networks as the viewer's picture holds
   * them, which events outside the window shaped too, so their markings, times and observations
   * count in what those objects carry (a GREEN report in the window and a RED update after it: the
   * incident goes out RED), as do their owners [R12]. Once given, the observations an incident
   * counts are those given here (`add` counts none again).
   */
  shapeFrom(events: readonly StoredEvent[]): void {
    if (this.finished) throw new Error('StixExport: shapeFrom after finish')
    this.shaped = true
    for (const event of events) this.note(event, undefined)
  }

  /** Every marking the objects returned so far carry, each once. */
  markings(): Marking[] {
    return [...this.used.values()]
  }

  /** `marking`'s refs for an object of this export, the marking noted among those it carries. */
  private refs(marking: Marking): string[] {
    const key = markingKey(marking)
    if (!this.used.has(key)) this.used.set(key, marking)
    return markingRefs(marking)
  }

  /**
   * One event: what it shapes (markings, owners), and, when it is exported (`out` given), the spans
   * of what it is about and the objects it makes.
   */
  private note(event: StoredEvent, out: StixObject[] | undefined): void {
    const exported = out !== undefined
    if (exported) {
      const about = incidentOf(event)
      if (about !== undefined) this.touchedIncidents.add(about)
    }
    switch (event.type) {
      case 'incident.reported':
      case 'incident.updated': {
        const { incidentId } = event.payload
        const owner = this.incidentOwners.get(incidentId)
        if (owner !== undefined && owner !== event.source.organisation) break // [R12] the reducer ignores it too
        if (owner === undefined && event.type === 'incident.reported')
          this.incidentOwners.set(incidentId, event.source.organisation)
        this.shapeIncident(incidentId, event)
        break
      }
      case 'incident.acknowledged':
      case 'incident.escalated':
      case 'incident.status_changed':
      case 'incident.network_state_set':
        this.shapeIncident(event.payload.incidentId, event)
        break
      case 'incident.linked': {
        const { incidentId, otherIncidentId, relation } = event.payload
        // the latest link stands (`shapeFrom` may have seen a later one than an added event)
        const key = linkKey(incidentId, otherIncidentId)
        if ((this.linkMarkings.get(key)?.seq ?? -1) <= event.seq)
          this.linkMarkings.set(key, { seq: event.seq, marking: event.marking })
        // [R8] a merge closes the merged incident and names the survivor in it: its fields say so (a
        // link is a relationship of its own, with its own marking: the incidents' objects do not change)
        if (relation === 'merged_into') this.shapeIncident(incidentId, event)
        break
      }
      case 'incident.observation':
        // an observation changes the incident's count, when its marking allows (`finish`), once the
        // incident is reported [R3: the picture drops one before]
        if (this.incidentOwners.has(event.payload.incidentId) && (!exported || !this.shaped))
          this.tallyObservation(event)
        if (exported) out.push(...this.observation(event))
        break
      case 'advisory.published': {
        const { advisoryId } = event.payload
        const owner = this.advisoryOwners.get(advisoryId)
        if (owner !== undefined && owner !== event.source.organisation) break // [R12]
        this.advisoryOwners.set(advisoryId, event.source.organisation)
        if (exported) {
          this.advisorySpans.set(advisoryId, widen(this.advisorySpans.get(advisoryId), event))
          this.shape(this.advisoryShaping, advisoryId, event.marking)
        }
        break
      }
      case 'network.registered': {
        const { networkId } = event.payload
        const owner = this.networkOwners.get(networkId)
        if (owner !== undefined && owner !== event.source.organisation) break // [R12]
        this.networkOwners.set(networkId, event.payload.organisation)
        if (exported) this.networkSpans.set(networkId, widen(this.networkSpans.get(networkId), event))
        this.shape(this.networkMarkings, networkId, event.marking)
        this.networkShapedAt.set(networkId, laterOf(this.networkShapedAt.get(networkId), event))
        break
      }
      case 'network.posture_changed': {
        const { networkId } = event.payload
        if (this.networkOwners.get(networkId) !== event.source.organisation) break // [R3, R12]
        if (exported) this.networkSpans.set(networkId, widen(this.networkSpans.get(networkId), event))
        // the posture and its reason are this event's: the identity carries its marking too
        this.shape(this.networkMarkings, networkId, event.marking)
        this.networkShapedAt.set(networkId, laterOf(this.networkShapedAt.get(networkId), event))
        break
      }
      default:
        // tasks, comments and bookmarks are the floor's own coordination: not exported
        break
    }
  }

  private tallyObservation(event: StoredEvent & { type: 'incident.observation' }): void {
    const { incidentId, count } = event.payload
    let tallies = this.incidentObservations.get(incidentId)
    if (tallies === undefined) {
      tallies = new Map()
      this.incidentObservations.set(incidentId, tallies)
    }
    const key = markingKey(event.marking)
    const tally = tallies.get(key) ?? { marking: event.marking, count: 0, recordedAt: undefined }
    tally.count += count ?? 1
    tally.recordedAt = laterOf(tally.recordedAt, event)
    tallies.set(key, tally)
  }

  /** The observations an incident object of this marking may count, and when the latest was recorded. */
  private observationsWithin(incidentId: string, marking: Marking): { count: number; recordedAt?: string } {
    let count = 0
    let recordedAt: string | undefined
    for (const tally of this.incidentObservations.get(incidentId)?.values() ?? []) {
      // no stricter than the object: the strictest of the two is the object's own
      if (!covers(marking, tally.marking)) continue
      count += tally.count
      if (tally.recordedAt !== undefined)
        recordedAt = recordedAt === undefined ? tally.recordedAt : laterTime(recordedAt, tally.recordedAt)
    }
    return recordedAt === undefined ? { count } : { count, recordedAt }
  }

  /** An event that shaped the incident's object: its marking and its time count in what the object carries. */
  private shapeIncident(incidentId: string, event: StoredEvent): void {
    this.shape(this.incidentShaping, incidentId, event.marking)
    this.incidentShapedAt.set(incidentId, laterOf(this.incidentShapedAt.get(incidentId), event))
  }

  /** Fold a shaping event's marking into what a thing is exported with: the strictest of them. */
  private shape(markings: Map<string, Marking>, id: string, marking: Marking): void {
    const before = markings.get(id)
    markings.set(id, before === undefined ? marking : strictestMarking(before, marking))
  }

  /** Everything else, from the viewer's picture at the end: incidents, advisories, networks, organisations, nations. */
  finish(picture: State): StixObject[] {
    if (this.finished) throw new Error('StixExport: finish twice')
    this.finished = true
    const incidents: StixObject[] = []
    const relationships: StixObject[] = []
    const locations: StixObject[] = []
    const whole = this.scope === 'picture'
    const included = [...picture.incidents.values()].filter(
      (incident) => whole || this.touchedIncidents.has(incident.incidentId),
    )
    for (const incident of included) incidents.push(...this.incident(incident, relationships, locations))
    relationships.push(...this.links(included))
    const reports = [...picture.advisories.values()]
      .filter((advisory) => whole || this.advisorySpans.has(advisory.advisoryId))
      .map((advisory) => this.advisory(advisory))
    const networks: StixObject[] = []
    for (const network of picture.networks.values()) {
      if (whole || this.networkSpans.has(network.networkId) || this.networkRefs.has(network.networkId))
        networks.push(...this.network(network, relationships))
    }
    for (const [networkId, reference] of this.networkRefs) {
      if (!picture.networks.has(networkId)) networks.push(this.networkStub(networkId, reference))
    }
    const organisations: StixObject[] = []
    for (const [organisation, reference] of this.organisationRefs) {
      organisations.push(this.organisation(organisation, reference, picture, relationships))
    }
    const nations = [...this.nationRefs].map(([nation, reference]) => this.nation(nation, reference))
    return this.withMarkings([
      ...organisations,
      ...nations,
      ...networks,
      ...incidents,
      ...locations,
      ...reports,
      ...relationships,
    ])
  }

  /** An observation: its SCOs (new ones only), an observed-data holding them, and a sighting of its incident. */
  private observation(event: EventOf<'incident.observation'>): StixObject[] {
    const p = event.payload
    const time = stixTime(event.recordedAt)
    const seen = stixTime(event.occurredAt)
    const marking = event.marking
    const createdBy = this.refer('organisation', event.source.organisation, marking, time)
    const out: StixObject[] = []
    const scos = p.indicator === undefined ? [] : observablesOf(p.indicator)
    for (const sco of scos) {
      if (this.emitted.has(sco.id)) continue
      this.emitted.add(sco.id)
      // an SCO is a fact (an address, a hash): it takes the marking of the observation that first named it
      out.push({ ...sco, object_marking_refs: this.refs(marking), ...markingProperties(marking) })
    }
    const count = p.count === undefined ? undefined : Math.min(p.count, MAX_STIX_COUNT)
    const observedDataId = scos.length > 0 ? stixIds.observedData(event.id) : undefined
    if (observedDataId !== undefined) {
      out.push({
        type: 'observed-data',
        spec_version: '2.1',
        id: observedDataId,
        created_by_ref: createdBy,
        created: time,
        modified: time,
        first_observed: seen,
        last_observed: seen,
        number_observed: count ?? 1,
        object_refs: scos.map((sco) => sco.id),
        object_marking_refs: this.refs(marking),
        x_watchfloor_incident_id: p.incidentId,
        ...markingProperties(marking),
      })
    }
    const where = p.networkId === undefined ? createdBy : this.refer('network', p.networkId, marking, time)
    const sighting: StixObject = {
      type: 'sighting',
      spec_version: '2.1',
      id: stixIds.sighting(event.id),
      created_by_ref: createdBy,
      created: time,
      modified: time,
      first_seen: seen,
      last_seen: seen,
      sighting_of_ref: stixIds.incident(p.incidentId),
      where_sighted_refs: [where],
    }
    if (count !== undefined) sighting.count = count
    if (p.count !== undefined && p.count > MAX_STIX_COUNT) sighting.x_watchfloor_count = p.count
    if (observedDataId !== undefined) sighting.observed_data_refs = [observedDataId]
    if (p.indicator !== undefined) sighting.description = p.indicator
    sighting.object_marking_refs = this.refs(marking)
    sighting.x_watchfloor_incident_id = p.incidentId
    Object.assign(sighting, markingProperties(marking))
    out.push(sighting)
    return out
  }

  private incident(incident: IncidentState, relationships: StixObject[], locations: StixObject[]): StixObject[] {
    const marking = this.incidentShaping.get(incident.incidentId) ?? incident.marking
    const observed = this.observationsWithin(incident.incidentId, marking)
    const shapedAt = this.incidentShapedAt.get(incident.incidentId) ?? incident.reportedAt
    const span = pictureSpan(
      incident.reportedAt,
      observed.recordedAt === undefined ? shapedAt : laterTime(stixTime(shapedAt), observed.recordedAt),
    )
    const id = stixIds.incident(incident.incidentId)
    const createdBy = this.refer('organisation', incident.organisation, marking, span.created)
    const object: StixObject = {
      type: 'incident',
      spec_version: '2.1',
      id,
      created_by_ref: createdBy,
      created: span.created,
      modified: span.modified,
      name: incident.title,
    }
    if (incident.summary !== undefined) object.description = incident.summary
    object.object_marking_refs = this.refs(marking)
    object.x_watchfloor_incident_id = incident.incidentId
    object.x_watchfloor_severity = incident.severity
    object.x_watchfloor_status = incident.status
    object.x_watchfloor_category = incident.category
    if (incident.affectedNetworks.length > 0) object.x_watchfloor_affected_networks = [...incident.affectedNetworks]
    if (incident.networkStates !== undefined && Object.keys(incident.networkStates).length > 0) {
      object.x_watchfloor_network_states = { ...incident.networkStates }
    }
    if (incident.mergedInto !== undefined) object.x_watchfloor_merged_into = incident.mergedInto
    object.x_watchfloor_observation_count = observed.count
    Object.assign(object, markingProperties(marking))
    const relate = (role: string, target: string, description: string): void => {
      relationships.push(relationship(role, id, 'related-to', target, span, marking, createdBy, description))
    }
    for (const networkId of incident.affectedNetworks) {
      relate('affected-network', this.refer('network', networkId, marking, span.created), 'affected network')
    }
    const source = incident.attackSource
    if (source !== undefined) {
      const attackSource: Record<string, unknown> = {}
      if (source.networkId !== undefined) {
        attackSource.network_id = source.networkId
        const target = this.refer('network', source.networkId, marking, span.created)
        relate('attack-source', target, 'attack source')
      }
      if (source.location !== undefined) {
        attackSource.latitude = source.location.lat
        attackSource.longitude = source.location.lon
        const location: StixObject = {
          type: 'location',
          spec_version: '2.1',
          id: stixIds.attackSource(incident.incidentId),
          created_by_ref: createdBy,
          created: span.created,
          modified: span.modified,
          name: `Attack source of ${incident.title}`,
          latitude: source.location.lat,
          longitude: source.location.lon,
          object_marking_refs: this.refs(marking),
          ...markingProperties(marking),
        }
        locations.push(location)
        relate('attack-source', location.id, 'attack source')
      }
      object.x_watchfloor_attack_source = attackSource
    }
    return [object]
  }

  /** Links between incidents, once each: `related` both ways, `duplicate_of`, `merged_into`. */
  private links(incidents: readonly IncidentState[]): StixObject[] {
    const out = new Map<string, StixObject>()
    for (const incident of incidents) {
      for (const link of incident.links ?? []) {
        let source = incident.incidentId
        let target = link.incidentId
        if (link.relation === 'duplicated_by' || link.relation === 'merged_from') [source, target] = [target, source]
        if (link.relation === 'related' && target < source) [source, target] = [target, source]
        const relation =
          link.relation === 'related'
            ? 'related'
            : link.relation === 'duplicate_of' || link.relation === 'duplicated_by'
              ? 'duplicate_of'
              : 'merged_into'
        const type = relation === 'duplicate_of' ? 'duplicate-of' : 'related-to'
        const id = stixIds.relationship(relation, stixIds.incident(source), type, stixIds.incident(target))
        if (out.has(id)) continue
        const marking =
          this.linkMarkings.get(linkKey(source, target))?.marking ??
          this.linkMarkings.get(linkKey(target, source))?.marking ??
          incident.marking
        this.refs(marking)
        const time = stixTime(link.linkedAt)
        const object = relationship(
          relation,
          stixIds.incident(source),
          type,
          stixIds.incident(target),
          { created: time, modified: time },
          marking,
          this.refer('organisation', incident.organisation, marking, time),
          relation === 'merged_into'
            ? 'merged into'
            : relation === 'duplicate_of'
              ? 'duplicate of'
              : 'related incident',
        )
        object.x_watchfloor_relation = relation
        out.set(id, object)
      }
    }
    return [...out.values()]
  }

  private advisory(advisory: AdvisoryState): StixObject {
    const seen = this.advisorySpans.get(advisory.advisoryId)
    // the picture keeps only the latest publication: the first comes from the events, when they hold it
    const span = pictureSpan(seen?.created ?? advisory.publishedAt, advisory.publishedAt, seen)
    // what it says is the latest publication's, its times those of every publication returned
    const shaped = this.advisoryShaping.get(advisory.advisoryId)
    const marking =
      shaped === undefined || sameMarking(shaped, advisory.marking)
        ? advisory.marking
        : strictestMarking(shaped, advisory.marking)
    const createdBy = this.refer('organisation', advisory.organisation, marking, span.created)
    const report: StixObject = {
      type: 'report',
      spec_version: '2.1',
      id: stixIds.advisory(advisory.advisoryId),
      created_by_ref: createdBy,
      created: span.created,
      modified: span.modified,
      name: advisory.title,
      description: advisory.body,
      report_types: ['threat-report'],
      published: stixTime(advisory.publishedAt),
      // a report names at least one object: its incident, or else its publisher
      object_refs: [advisory.incidentId === undefined ? createdBy : stixIds.incident(advisory.incidentId)],
      object_marking_refs: this.refs(marking),
      x_watchfloor_advisory_id: advisory.advisoryId,
    }
    if (advisory.incidentId !== undefined) report.x_watchfloor_incident_id = advisory.incidentId
    Object.assign(report, markingProperties(marking))
    return report
  }

  /** A network: an identity of class `system`, located at its coordinates, operated by its organisation. */
  private network(network: NetworkState, relationships: StixObject[]): StixObject[] {
    const span = pictureSpan(network.registeredAt, this.networkShapedAt.get(network.networkId) ?? network.registeredAt)
    // registrations carry a marking; a network whose registration this export never saw gets the default (AMBER)
    const marking = this.networkMarkings.get(network.networkId) ?? defaultMarking()
    const id = stixIds.network(network.networkId)
    const createdBy = this.refer('organisation', network.organisation, marking, span.created)
    const identity: StixObject = {
      type: 'identity',
      spec_version: '2.1',
      id,
      created_by_ref: createdBy,
      created: span.created,
      modified: span.modified,
      name: network.name,
      identity_class: 'system',
    }
    const sectors = SECTORS[network.kind]
    if (sectors !== undefined) identity.sectors = [...sectors]
    identity.object_marking_refs = this.refs(marking)
    identity.x_watchfloor_network_id = network.networkId
    identity.x_watchfloor_organisation = network.organisation
    identity.x_watchfloor_nation = network.nation
    identity.x_watchfloor_network_kind = network.kind
    identity.x_watchfloor_posture = network.posture
    if (network.postureReason !== undefined) identity.x_watchfloor_posture_reason = network.postureReason
    Object.assign(identity, markingProperties(marking))
    const location: StixObject = {
      type: 'location',
      spec_version: '2.1',
      id: stixIds.networkLocation(network.networkId),
      created_by_ref: createdBy,
      created: span.created,
      modified: span.modified,
      name: network.name,
      latitude: network.location.lat,
      longitude: network.location.lon,
    }
    if (COUNTRY.test(network.nation)) location.country = network.nation
    location.object_marking_refs = this.refs(marking)
    Object.assign(location, markingProperties(marking))
    relationships.push(
      relationship('located-at', id, 'located-at', location.id, span, marking, createdBy),
      relationship('operated-by', id, 'related-to', createdBy, span, marking, createdBy, 'operated by'),
    )
    return [identity, location]
  }

  /** A network this export names (affected, attack source, where sighted) but whose registration the viewer cannot see. */
  private networkStub(networkId: string, reference: Reference): StixObject {
    return {
      type: 'identity',
      spec_version: '2.1',
      id: stixIds.network(networkId),
      created: reference.created,
      modified: reference.created,
      name: networkId,
      identity_class: 'system',
      object_marking_refs: this.refs(reference.marking),
      x_watchfloor_network_id: networkId,
      ...markingProperties(reference.marking),
    }
  }

  private organisation(
    organisation: string,
    reference: Reference,
    picture: State,
    relationships: StixObject[],
  ): StixObject {
    const info = this.directory?.(organisation)
    const identity: StixObject = {
      type: 'identity',
      spec_version: '2.1',
      id: stixIds.organisation(organisation),
      created: reference.created,
      modified: reference.created,
      name: info?.name ?? organisation,
      identity_class: 'organization',
    }
    const sectors = info?.kind === undefined ? undefined : SECTORS[info.kind]
    if (sectors !== undefined) identity.sectors = [...sectors]
    identity.object_marking_refs = this.refs(reference.marking)
    identity.x_watchfloor_organisation_id = organisation
    if (info?.kind !== undefined) identity.x_watchfloor_organisation_kind = info.kind
    const nation = info?.nation ?? this.nationOfNetworks(picture, organisation, reference.marking)
    if (nation !== undefined) {
      identity.x_watchfloor_nation = nation
      if (COUNTRY.test(nation)) {
        const span = { created: reference.created, modified: reference.created }
        const target = this.refer('nation', nation, reference.marking, reference.created)
        relationships.push(relationship('located-at', identity.id, 'located-at', target, span, reference.marking))
      }
    }
    Object.assign(identity, markingProperties(reference.marking))
    return identity
  }

  /**
   * The nation of an organisation the directory does not place: that of one of its networks whose
   * identity `marking` (the organisation's) covers, so that whoever may read the organisation may
   * read where it was learnt (an AMBER registration does not place a GREEN organisation); none when
   * no network of it is covered.
   */
  private nationOfNetworks(picture: State, organisation: string, marking: Marking): string | undefined {
    for (const network of picture.networks.values()) {
      if (network.organisation !== organisation) continue
      // as `network` marks its identity
      if (covers(marking, this.networkMarkings.get(network.networkId) ?? defaultMarking())) return network.nation
    }
    return undefined
  }

  private nation(nation: string, reference: Reference): StixObject {
    return {
      type: 'location',
      spec_version: '2.1',
      id: stixIds.nation(nation),
      created: reference.created,
      modified: reference.created,
      name: nation,
      country: nation,
      object_marking_refs: this.refs(reference.marking),
      x_watchfloor_nation: nation,
      ...markingProperties(reference.marking),
    }
  }

  /** Note that an object with `marking`, made at `time`, points at `key`; returns the STIX id pointed at. */
  private refer(kind: 'organisation' | 'network' | 'nation', key: string, marking: Marking, time: string): string {
    const [references, id] =
      kind === 'organisation'
        ? [this.organisationRefs, stixIds.organisation(key)]
        : kind === 'network'
          ? [this.networkRefs, stixIds.network(key)]
          : [this.nationRefs, stixIds.nation(key)]
    const reference = references.get(key)
    const own: Marking = { tlp: marking.tlp }
    if (marking.releasableTo !== undefined) own.releasableTo = [...marking.releasableTo]
    if (marking.recipients !== undefined) own.recipients = [...marking.recipients]
    if (reference === undefined) references.set(key, { marking: own, created: time })
    else {
      if (tlpRank(marking.tlp) < tlpRank(reference.marking.tlp)) reference.marking = own
      if (time < reference.created) reference.created = time
    }
    return id
  }

  /** `objects` preceded by the marking definitions they use that this export has not returned yet. */
  private withMarkings(objects: StixObject[]): StixObject[] {
    const definitions: StixObject[] = []
    for (const object of objects) {
      const refs = object.object_marking_refs
      if (!Array.isArray(refs)) continue
      for (const ref of refs as string[]) {
        if (this.emitted.has(ref)) continue
        const definition = wellKnownMarkingDefinition(ref)
        if (definition === undefined) continue
        this.emitted.add(ref)
        definitions.push(definition)
      }
    }
    return definitions.length === 0 ? objects : [...definitions, ...objects]
  }
}

/** One viewer's whole export as one bundle: `add(events)` then `finish(picture)` of a `StixExport`. */
export function exportStix(
  events: readonly StoredEvent[],
  picture: State,
  options: StixExportOptions & { bundleId?: string | undefined } = {},
): StixBundle {
  const exporter = new StixExport(options)
  const objects = [...exporter.add(events), ...exporter.finish(picture)]
  return stixBundle(objects, options.bundleId)
}

/**
 * Objects in a bundle. Without an id, the bundle's is derived from its objects' ids and versions:
 * the same objects give the same bundle id.
 */
export function stixBundle(objects: StixObject[], id?: string): StixBundle {
  if (id !== undefined) return { type: 'bundle', id, objects }
  const versions = objects.map((object) => `${object.id}|${String(object.modified ?? object.created ?? '')}`)
  return { type: 'bundle', id: watchfloorStixId('bundle', `bundle:${versions.join('\n')}`), objects }
}

interface ObservationTally {
  marking: Marking
  count: number
  recordedAt: string | undefined
}

/** Releasability and RED recipients beside the TLP: STIX has no place for them, so custom properties. */
function markingProperties(marking: Marking): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  // STIX forbids empty lists: an empty one (nobody beyond the source, or the author) is a flag instead
  if (marking.releasableTo !== undefined) {
    if (marking.releasableTo.length > 0) out.x_watchfloor_releasable_to = [...marking.releasableTo]
    else out.x_watchfloor_releasable_to_none = true
  }
  if (marking.recipients !== undefined) {
    if (marking.recipients.length > 0) out.x_watchfloor_recipients = [...marking.recipients]
    else out.x_watchfloor_recipients_none = true
  }
  return out
}

function relationship(
  role: string,
  source: string,
  type: string,
  target: string,
  span: Span,
  marking: Marking,
  createdBy?: string,
  description?: string,
): StixObject {
  const object: StixObject = {
    type: 'relationship',
    spec_version: '2.1',
    id: stixIds.relationship(role, source, type, target),
  }
  if (createdBy !== undefined) object.created_by_ref = createdBy
  object.created = span.created
  object.modified = span.modified
  object.relationship_type = type
  if (description !== undefined) object.description = description
  object.source_ref = source
  object.target_ref = target
  object.object_marking_refs = markingRefs(marking)
  Object.assign(object, markingProperties(marking))
  return object
}

/**
 * A thing's span with one more event: `created` is the first event's `occurredAt`, `modified`
 * the latest `recordedAt` (never before `created`), so every change the floor records makes a
 * newer STIX version even when the event says it happened earlier.
 */
function widen(span: Span | undefined, event: StoredEvent): Span {
  const recorded = stixTime(event.recordedAt)
  if (span === undefined) {
    const created = stixTime(event.occurredAt)
    return { created, modified: laterTime(created, recorded) }
  }
  return { created: span.created, modified: laterTime(span.modified, recorded) }
}

/**
 * A thing's span as exported: `created` from the picture (its first report or registration),
 * `modified` the latest `recordedAt` of the events that shaped its object (`changed`, whether this
 * export returns them or not), never before `created`. The same thing keeps its `created` in
 * every export, and every change the floor records to what its object says makes a newer
 * `modified`; nothing its object does not say moves it. `seen`: the span of the events this export
 * returns (an advisory's first publication).
 */
function pictureSpan(created: string, changed: string, seen?: Span): Span {
  const first = stixTime(created)
  const modified = laterTime(first, stixTime(changed))
  return { created: first, modified: seen === undefined ? modified : laterTime(modified, seen.modified) }
}

/** The later of `before` (a STIX time, or none) and the event's `recordedAt`. */
function laterOf(before: string | undefined, event: StoredEvent): string {
  const recorded = stixTime(event.recordedAt)
  return before === undefined ? recorded : laterTime(before, recorded)
}

function linkKey(a: string, b: string): string {
  return JSON.stringify([a, b])
}

/** Does `outer` cover `inner`: may whoever may read what `outer` marks read what `inner` marks (PAP included)? */
function covers(outer: Marking, inner: Marking): boolean {
  return sameMarking(strictestMarking(outer, inner), outer)
}

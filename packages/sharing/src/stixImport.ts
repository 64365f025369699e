/**
 * STIX 2.1 into Watchfloor events, pure. A bundle is checked whole first: any issue and nothing is
 * imported (`errors`, the server's 400). Then every object ends up in exactly one list: `created`
 * (it became events), `used` (it served to resolve another: a marking, a name, a location, a link)
 * or `skipped` (with the reason), so nothing is dropped silently.
 *
 * Every id the import makes is the importing organisation's own: event ids are the UUIDv5 of the
 * object's id, version and importer (`<stix id>|<modified>@<organisation>`) in Watchfloor's
 * namespace, and an incident or advisory that carries no Watchfloor id is `<stix id>@<organisation>`.
 * The same importer importing the same objects again yields the same events, which the floor's
 * ingest takes as duplicates; another organisation importing them gets events and incidents of its
 * own, so nothing it is answered depends on what others imported. Mapping tables: docs/sharing.md.
 *
 * Nothing a bundle holds makes the import throw: the bundle's check covers what the import reads,
 * every read of an object is guarded, and an unexpected error on one object skips that object,
 * saying so, and takes back whatever of it was done; the rest of the bundle is imported.
 */
import { tlpRank } from '@watchfloor/core'
import {
  EventInput,
  type FieldIssue,
  IncidentStatus,
  type Location,
  type Marking,
  NetworkKind,
  PAP_LEVELS,
  type Pap,
  Posture,
  Severity,
  type Tlp,
} from '@watchfloor/protocol'
import { markingMeaning } from './stixMarkings.ts'
import { describeObservable } from './stixObservables.ts'
import { type StixObject, stixTime, WATCHFLOOR_STIX_NAMESPACE } from './stixTypes.ts'
import { SCO_TYPES, validateStixBundle } from './stixValidate.ts'
import { uuidv5 } from './uuid.ts'

export interface StixImportOptions {
  /** The marking of what the bundle leaves unmarked (no TLP among its markings). */
  defaultMarking: Marking
  /** Who imports: the source organisation of every event made, and the owner of every id the import makes. */
  organisation: string
  /**
   * The bundle comes from a partner, named so here (a feed: `feed:<id>`): the Watchfloor ids its
   * objects carry (`x_watchfloor_incident_id`, `_advisory_id`, `_network_id`, the affected networks
   * and attack source of an incident) are the partner's, which may name anything here. Each is read
   * as `<id>@<partner>` (`<uuidv5 of the id>@<partner>` when that would be over 200 characters):
   * an import of the partner's reaches only what imports of the same partner made, and again the
   * same. Without it (a caller's own import), they are this floor's ids, as they are.
   */
  partner?: string
}

export interface StixImportResult {
  /** The events to post, in an order the floor can fold: networks, incidents, observations, advisories. */
  events: EventInput[]
  /** The objects that became events. */
  created: { stixId: string; type: string; eventIds: string[] }[]
  /** The objects that served the others: markings, authors, where sighted, locations, links, observables. */
  used: { stixId: string; type: string; as: string }[]
  /** The objects left out, and why. */
  skipped: { stixId?: string; type: string; reason: string }[]
  /** Objects with no TLP of their own: they took `defaultMarking`. */
  defaulted: string[]
  /** What makes the bundle invalid; when there is any, nothing else is filled. */
  errors: FieldIssue[]
}

/** Turn a STIX 2.1 bundle into Watchfloor events (see the module comment and docs/sharing-stix.md). */
export function importStix(bundle: unknown, options: StixImportOptions): StixImportResult {
  const errors = validateStixBundle(bundle)
  if (errors.length > 0) return { events: [], created: [], used: [], skipped: [], defaulted: [], errors }
  const objects = ((bundle as { objects?: StixObject[] }).objects ?? []) as StixObject[]
  try {
    return new Importer(objects, options).run()
  } catch (error) {
    // the import's own bookkeeping failed (each object's work is guarded): nothing of it is posted,
    // every object is reported, and the caller answers as for any other import
    const reason = `the import failed, so nothing of this bundle was imported: ${errorText(error)}`
    return {
      events: [],
      created: [],
      used: [],
      skipped: objects.map((object) => ({ stixId: object.id, type: object.type, reason })),
      defaulted: [],
      errors: [],
    }
  }
}

const MAX_TITLE = 300
const MAX_SUMMARY = 10_000
const MAX_BODY = 50_000
const MAX_INDICATOR = 2000
const MAX_CATEGORY = 100
const MAX_NAME = 200
const MAX_ID = 200
const MAX_LIST = 200
const MAX_AFFECTED = 500
const MAX_COUNT = 1_000_000_000

/** The Watchfloor markings of one object: its TLP and PAP, its releasability and RED recipients. */
interface Found {
  tlp?: Tlp
  pap?: Pap
  releasableTo?: string[] | undefined
  recipients?: string[] | undefined
}

class Importer {
  /** The current version of every object, by id (older versions and revoked objects are skipped). */
  private readonly byId = new Map<string, StixObject>()
  private readonly order: StixObject[] = []
  private readonly relationshipsOf = new Map<string, StixObject[]>()
  private readonly markingDefinitions = new Map<string, StixObject>()
  private readonly events: EventInput[] = []
  private readonly created: StixImportResult['created'] = []
  private readonly used = new Map<string, string>()
  private readonly skipped: StixImportResult['skipped'] = []
  private readonly defaulted: string[] = []
  private readonly createdIds = new Set<string>()
  private readonly skippedIds = new Set<string>()
  /** Objects folded into another's event (the observed-data and indicator of a sighting): not imported on their own. */
  private readonly consumed = new Set<string>()
  /** The ids a partner's Watchfloor ids were read as (`options.partner`): an event naming one is the partner's. */
  private readonly partnerIds = new Set<string>()

  constructor(
    objects: readonly StixObject[],
    private readonly options: StixImportOptions,
  ) {
    const current = new Map<string, StixObject>()
    const firstSeen: string[] = []
    for (const object of objects) {
      const previous = current.get(object.id)
      if (previous === undefined) {
        current.set(object.id, object)
        firstSeen.push(object.id)
        continue
      }
      const newer = versionOf(object) > versionOf(previous)
      const older = newer ? previous : object
      const reason =
        versionOf(object) === versionOf(previous)
          ? 'the same version appears earlier in the bundle'
          : 'a later version is in the bundle'
      this.skipped.push({ stixId: older.id, type: older.type, reason })
      if (newer) current.set(object.id, object)
    }
    for (const id of firstSeen) {
      const object = current.get(id)!
      if (object.revoked === true) {
        this.skipped.push({ stixId: object.id, type: object.type, reason: 'revoked' })
        continue
      }
      this.order.push(object)
      this.byId.set(object.id, object)
      if (object.type === 'marking-definition') this.markingDefinitions.set(object.id, object)
      if (object.type === 'relationship') {
        for (const end of [object.source_ref, object.target_ref] as string[]) {
          const list = this.relationshipsOf.get(end) ?? []
          list.push(object)
          this.relationshipsOf.set(end, list)
        }
      }
    }
  }

  run(): StixImportResult {
    const ofType = (type: string): StixObject[] => this.order.filter((object) => object.type === type)
    const each = (type: string, work: (object: StixObject) => void): void => {
      for (const object of ofType(type)) this.guarded(object, () => work(object))
    }
    each('identity', (identity) => this.network(identity))
    each('incident', (incident) => this.incident(incident))
    each('sighting', (sighting) => this.sighting(sighting))
    each('observed-data', (observed) => {
      if (!this.consumed.has(observed.id)) this.observedData(observed)
    })
    each('indicator', (indicator) => {
      if (!this.consumed.has(indicator.id)) this.indicator(indicator)
    })
    each('report', (report) => this.advisory(report, 'report'))
    each('note', (note) => this.advisory(note, 'note'))
    const used: StixImportResult['used'] = []
    for (const object of this.order) {
      if (this.createdIds.has(object.id) || this.skippedIds.has(object.id)) continue
      const as = this.used.get(object.id)
      if (as !== undefined) used.push({ stixId: object.id, type: object.type, as })
      else {
        let reason: string
        try {
          reason = this.reasonLeftOut(object)
        } catch (error) {
          reason = `could not be imported: ${errorText(error)}`
        }
        this.skipped.push({ stixId: object.id, type: object.type, reason })
      }
    }
    return {
      events: this.events,
      created: this.created,
      used,
      skipped: this.skipped,
      defaulted: this.defaulted,
      errors: [],
    }
  }

  /**
   * One object's work; an unexpected error in it takes back what it did (its events, what it
   * created, used, consumed or skipped) and skips it, saying why: one object never fails the
   * bundle. The taking back walks what was added since (insertion order), so it costs nothing
   * while nothing fails.
   */
  private guarded(object: StixObject, work: () => void): void {
    const before = {
      events: this.events.length,
      created: this.created.length,
      skipped: this.skipped.length,
      defaulted: this.defaulted.length,
      used: this.used.size,
      createdIds: this.createdIds.size,
      skippedIds: this.skippedIds.size,
      consumed: this.consumed.size,
    }
    try {
      work()
    } catch (error) {
      this.events.length = before.events
      this.created.length = before.created
      this.skipped.length = before.skipped
      this.defaulted.length = before.defaulted
      dropAfter(this.used, before.used)
      dropAfter(this.createdIds, before.createdIds)
      dropAfter(this.skippedIds, before.skippedIds)
      dropAfter(this.consumed, before.consumed)
      this.skip(object, `could not be imported: ${errorText(error)}`)
    }
  }

  /**
   * A Watchfloor id an object carries: as it is, or, from a partner (`options.partner`), the
   * partner's id in the partner's namespace here, `<id>@<partner>`.
   */
  private idOf(value: unknown): string | undefined {
    const id = watchfloorId(value)
    const { partner } = this.options
    if (id === undefined || partner === undefined) return id
    const mapped = `${id}@${partner}`
    const namespaced =
      mapped.length <= MAX_ID ? mapped : `${uuidv5(WATCHFLOOR_STIX_NAMESPACE, `partner-id:${id}`)}@${partner}`
    this.partnerIds.add(namespaced)
    return namespaced
  }

  /** Whether an event's payload names a partner's id (read by `idOf`). */
  private namesPartnerId(payload: Record<string, unknown>): boolean {
    if (this.partnerIds.size === 0) return false
    const { attackSource } = payload as { attackSource?: { networkId?: unknown } }
    const named = [payload.incidentId, payload.advisoryId, payload.networkId, attackSource?.networkId]
    if (Array.isArray(payload.affectedNetworks)) named.push(...(payload.affectedNetworks as unknown[]))
    return named.some((id) => typeof id === 'string' && this.partnerIds.has(id))
  }

  /** An identity of one of the importer's own networks becomes its registration (A5: only the owner registers). */
  private network(identity: StixObject): void {
    const networkId = this.idOf(identity.x_watchfloor_network_id)
    if (networkId === undefined || identity.x_watchfloor_organisation !== this.options.organisation) return
    const kind = NetworkKind.safeParse(identity.x_watchfloor_network_kind)
    const nation = watchfloorId(identity.x_watchfloor_nation)
    const located = this.locationOf(identity)
    if (!kind.success || nation === undefined || located === undefined) return
    const found = this.markingOf([identity])
    const eventIds: string[] = []
    const registered = this.event(identity, '', 'network.registered', identity.created, found, {
      networkId,
      name: clip(identity.name, MAX_NAME) ?? networkId,
      organisation: this.options.organisation,
      nation,
      kind: kind.data,
      location: { lat: located.latitude, lon: located.longitude },
    })
    if (registered === undefined) return
    eventIds.push(registered)
    const posture = Posture.safeParse(identity.x_watchfloor_posture)
    if (posture.success && posture.data !== 'normal') {
      const payload: Record<string, unknown> = { networkId, posture: posture.data }
      const reason = clip(identity.x_watchfloor_posture_reason, 2000)
      if (reason !== undefined) payload.reason = reason
      const changed = this.event(identity, '|posture', 'network.posture_changed', identity.modified, found, payload)
      if (changed !== undefined) eventIds.push(changed)
    }
    this.use(located.relationship, 'located-at of an imported network')
    this.use(located.location, 'location of an imported network')
    for (const relationship of this.relationshipsOf.get(identity.id) ?? []) {
      if (relationship.source_ref === identity.id && relationship.target_ref === identity.created_by_ref)
        this.use(relationship.id, 'the organisation of an imported network')
    }
    this.finish(identity, eventIds, found)
  }

  /** The coordinates an identity is `located-at`, with the ids of the relationship and the location. */
  private locationOf(
    identity: StixObject,
  ): { relationship: string; location: string; latitude: number; longitude: number } | undefined {
    for (const relationship of this.relationshipsOf.get(identity.id) ?? []) {
      if (relationship.relationship_type !== 'located-at' || relationship.source_ref !== identity.id) continue
      const location = this.byId.get(relationship.target_ref as string)
      if (location?.type !== 'location') continue
      const { latitude, longitude } = location
      if (typeof latitude === 'number' && typeof longitude === 'number') {
        return { relationship: relationship.id, location: location.id, latitude, longitude }
      }
    }
    return undefined
  }

  private incident(incident: StixObject): void {
    const incidentId = this.incidentId(incident.id)
    const found = this.markingOf([incident])
    const severity = Severity.safeParse(incident.x_watchfloor_severity)
    const payload: Record<string, unknown> = {
      incidentId,
      title: clip(incident.name, MAX_TITLE) ?? 'Untitled incident',
      severity: severity.success ? severity.data : 'medium',
      category:
        clip(incident.x_watchfloor_category, MAX_CATEGORY) ??
        clip(Array.isArray(incident.labels) ? incident.labels[0] : undefined, MAX_CATEGORY) ??
        'imported',
      affectedNetworks: idList(incident.x_watchfloor_affected_networks, MAX_AFFECTED).map((id) => this.idOf(id)!),
    }
    const summary = clip(incident.description, MAX_SUMMARY)
    if (summary !== undefined) payload.summary = summary
    const attackSource = attackSourceOf(incident.x_watchfloor_attack_source, (id) => this.idOf(id))
    if (attackSource !== undefined) payload.attackSource = attackSource
    const reported = this.event(incident, '', 'incident.reported', incident.created, found, payload)
    if (reported === undefined) return
    const eventIds = [reported]
    const status = IncidentStatus.safeParse(incident.x_watchfloor_status)
    const later = Date.parse(incident.modified as string) > Date.parse(incident.created as string)
    if ((status.success && status.data !== 'new') || later) {
      // the version's state as of `modified`: its status, and a last change the floor dates right
      const update: Record<string, unknown> = { incidentId, severity: payload.severity }
      if (status.success) update.status = status.data
      const updated = this.event(incident, '|update', 'incident.updated', incident.modified, found, update)
      if (updated !== undefined) eventIds.push(updated)
    }
    // the relationships that only restate what the incident carries (its networks, attack source)
    const networks = new Set<string>(payload.affectedNetworks as string[])
    if (attackSource?.networkId !== undefined) networks.add(attackSource.networkId)
    for (const relationship of this.relationshipsOf.get(incident.id) ?? []) {
      if (relationship.source_ref !== incident.id) continue
      const target = this.byId.get(relationship.target_ref as string)
      const networkId = target === undefined ? undefined : this.idOf(target.x_watchfloor_network_id)
      if (networkId !== undefined && networks.has(networkId)) {
        this.use(relationship.id, "an imported incident's network")
        this.use(target!.id, 'a network of an imported incident')
      } else if (target?.type === 'location' && attackSource?.location !== undefined) {
        this.use(relationship.id, "an imported incident's attack source")
        this.use(target.id, 'attack source of an imported incident')
      }
    }
    this.finish(incident, eventIds, found)
  }

  /**
   * A sighting of an incident (or of something related to one) becomes an observation of that
   * incident. Its text is the sighting's description, else the values of its observed data or
   * indicator; the event takes the markings of the objects its content comes from.
   */
  private sighting(sighting: StixObject): void {
    const incidentId = this.incidentFor(sighting)
    if (incidentId === undefined) {
      this.skip(sighting, 'sighted something that is neither an incident nor related to one')
      return
    }
    const described = clip(sighting.description, MAX_INDICATOR)
    const contributors = [sighting]
    const texts: string[] = []
    /** What the sighting folds in, once it is imported: each then not imported on its own. */
    const folded: [StixObject, string][] = []
    for (const ref of stringList(sighting.observed_data_refs)) {
      const observed = this.byId.get(ref)
      if (observed === undefined) continue
      contributors.push(observed)
      const observables = this.observablesIn(observed)
      if (described === undefined) {
        contributors.push(...observables)
        texts.push(...this.describe(observed))
      }
      folded.push([observed, 'the data of an imported sighting'])
    }
    const of = typeof sighting.sighting_of_ref === 'string' ? this.byId.get(sighting.sighting_of_ref) : undefined
    if (of?.type === 'indicator') {
      if (described === undefined) {
        contributors.push(of)
        texts.push(indicatorText(of))
      }
      folded.push([of, 'what an imported sighting saw'])
    }
    const payload: Record<string, unknown> = { incidentId }
    const indicator = described ?? clip(texts.join(', '), MAX_INDICATOR)
    if (indicator !== undefined) payload.indicator = indicator
    const networkId = this.networkSighted(sighting)
    if (networkId !== undefined) payload.networkId = networkId
    const count = countOf(sighting.x_watchfloor_count) ?? countOf(sighting.count)
    if (count !== undefined) payload.count = count
    const occurredAt = (sighting.last_seen ?? sighting.first_seen ?? sighting.created) as string
    // a sighting left out (its marking, say) does not take its observed data or indicator with it:
    // those are imported on their own if they can be, with their own markings
    if (this.observation(sighting, contributors, occurredAt, payload) === undefined) return
    for (const [object, as] of folded) {
      this.consumed.add(object.id)
      this.use(object.id, as)
    }
  }

  private observedData(observed: StixObject): void {
    const incidentId = this.incidentFor(observed)
    if (incidentId === undefined) {
      this.skip(observed, 'related to no incident (no sighting, relationship or x_watchfloor_incident_id)')
      return
    }
    const payload: Record<string, unknown> = { incidentId }
    const indicator = clip(this.describe(observed).join(', '), MAX_INDICATOR)
    if (indicator !== undefined) payload.indicator = indicator
    const count = countOf(observed.number_observed)
    if (count !== undefined) payload.count = count
    this.observation(observed, [observed, ...this.observablesIn(observed)], observed.last_observed as string, payload)
  }

  private indicator(indicator: StixObject): void {
    const incidentId = this.incidentFor(indicator)
    if (incidentId === undefined) {
      this.skip(indicator, 'related to no incident (no sighting, relationship or x_watchfloor_incident_id)')
      return
    }
    const payload: Record<string, unknown> = { incidentId }
    const text = clip(indicatorText(indicator), MAX_INDICATOR)
    if (text !== undefined) payload.indicator = text
    this.observation(indicator, [indicator], indicator.created as string, payload)
  }

  /** An observation of `object`, made of `contributors`: its event id, or undefined when it was skipped. */
  private observation(
    object: StixObject,
    contributors: StixObject[],
    occurredAt: string,
    payload: Record<string, unknown>,
  ): string | undefined {
    const found = this.markingOf(contributors)
    const id = this.event(object, '', 'incident.observation', occurredAt, found, payload)
    if (id !== undefined) this.finish(object, [id], found)
    return id
  }

  /** A report or a note becomes an advisory, of the incident it names first. */
  private advisory(object: StixObject, kind: 'report' | 'note'): void {
    const content = kind === 'report' ? (object.description ?? object.name) : object.content
    const title =
      kind === 'report'
        ? clip(object.name, MAX_TITLE)
        : (clip(object.abstract, MAX_TITLE) ?? clip(firstLine(object.content), MAX_TITLE))
    const payload: Record<string, unknown> = {
      advisoryId: this.idOf(object.x_watchfloor_advisory_id) ?? this.ownId(object.id),
      title: title ?? 'Untitled advisory',
      body: clip(content, MAX_BODY) ?? title ?? 'Untitled advisory',
    }
    const refs = stringList(object.object_refs)
    const incidentRef = refs.find((ref) => ref.startsWith('incident--'))
    const incidentId =
      this.idOf(object.x_watchfloor_incident_id) ??
      (incidentRef === undefined ? undefined : this.incidentId(incidentRef))
    if (incidentId !== undefined) payload.incidentId = incidentId
    for (const ref of refs) if (ref.startsWith('identity--')) this.use(ref, 'named by an imported advisory')
    const found = this.markingOf([object])
    const occurredAt = (kind === 'report' ? object.published : object.modified) as string
    const id = this.event(object, '', 'advisory.published', occurredAt, found, payload)
    if (id !== undefined) this.finish(object, [id], found)
  }

  /** The Watchfloor incident an object is about: its own property, what its sighting saw, or a relationship. */
  private incidentFor(object: StixObject, depth = 0): string | undefined {
    const own = this.idOf(object.x_watchfloor_incident_id)
    if (own !== undefined) return own
    if (object.type === 'sighting' && typeof object.sighting_of_ref === 'string') {
      if (object.sighting_of_ref.startsWith('incident--')) return this.incidentId(object.sighting_of_ref)
      const of = this.byId.get(object.sighting_of_ref)
      if (of !== undefined && depth === 0) {
        const through = this.incidentFor(of, 1)
        if (through !== undefined) return through
      }
    }
    for (const relationship of this.relationshipsOf.get(object.id) ?? []) {
      const other = relationship.source_ref === object.id ? relationship.target_ref : relationship.source_ref
      if (typeof other === 'string' && other.startsWith('incident--')) {
        this.use(relationship.id, 'ties an observation to its incident')
        return this.incidentId(other)
      }
    }
    return undefined
  }

  /** An incident's Watchfloor id: the one it carries (`x_watchfloor_incident_id`), else the importer's own copy. */
  private incidentId(stixId: string): string {
    return this.idOf(this.byId.get(stixId)?.x_watchfloor_incident_id) ?? this.ownId(stixId)
  }

  /**
   * The importing organisation's own id for a STIX object: `<stix id>@<organisation>`, or with the
   * organisation's UUIDv5 when that would be over 200 characters. Another organisation importing
   * the same object makes another incident or advisory, which neither takes over nor is refused
   * for the first one's (A5): its answers say nothing of who else imported it.
   */
  private ownId(stixId: string): string {
    const { organisation } = this.options
    const id = `${stixId}@${organisation}`
    return id.length <= MAX_ID ? id : `${stixId}@${uuidv5(WATCHFLOOR_STIX_NAMESPACE, `organisation:${organisation}`)}`
  }

  /** The Watchfloor network a sighting names in `where_sighted_refs`, if one of them is a network. */
  private networkSighted(sighting: StixObject): string | undefined {
    for (const ref of stringList(sighting.where_sighted_refs)) {
      const networkId = this.idOf(this.byId.get(ref)?.x_watchfloor_network_id)
      if (networkId !== undefined) {
        this.use(ref, 'where an imported sighting was seen')
        return networkId
      }
    }
    return undefined
  }

  /** The SCOs an observed-data holds by reference (its embedded `objects` need no lookup). */
  private observablesIn(observed: StixObject): StixObject[] {
    const out: StixObject[] = []
    for (const ref of stringList(observed.object_refs)) {
      const sco = this.byId.get(ref)
      if (sco === undefined || !SCO_TYPES.has(sco.type)) continue
      out.push(sco)
      this.use(sco.id, 'an observable of an imported observation')
    }
    return out
  }

  /** The texts of an observed-data's observables: values, hashes, names (or their types when they have none). */
  private describe(observed: StixObject): string[] {
    const scos: unknown[] =
      typeof observed.objects === 'object' && observed.objects !== null
        ? Object.values(observed.objects)
        : stringList(observed.object_refs)
            .map((ref) => this.byId.get(ref))
            .filter((sco): sco is StixObject => sco !== undefined && SCO_TYPES.has(sco.type))
    const texts: string[] = []
    for (const sco of scos) {
      // the check lets only objects with a type in; what else would be there is described by nothing
      if (typeof sco !== 'object' || sco === null) continue
      const text = describeObservable(sco as Record<string, unknown>) ?? (sco as { type?: unknown }).type
      if (typeof text === 'string') texts.push(text)
    }
    return [...new Set(texts)]
  }

  /**
   * The marking of an event made of `objects`: the most restrictive TLP and PAP among their
   * markings (object and granular), their releasability and recipients narrowed together; the
   * default marking (narrowed likewise) when none of them has a TLP.
   */
  private markingOf(objects: readonly StixObject[]): {
    marking: Marking
    defaulted: boolean
    unknownTlp?: string
    unreadable?: string
  } {
    const found: Found = {}
    let unknownTlp: string | undefined
    let unresolved: string | undefined
    let unreadable: string | undefined
    /** The strictest TLP only a definition's name gives (a statement named `TLP:RED`). */
    let named: Tlp | undefined
    for (const object of objects) {
      const refs = [...stringList(object.object_marking_refs)]
      if (Array.isArray(object.granular_markings)) {
        for (const granular of object.granular_markings as { marking_ref?: unknown }[]) {
          if (typeof granular.marking_ref === 'string') refs.push(granular.marking_ref)
        }
      }
      for (const ref of refs) {
        if (this.markingDefinitions.has(ref)) this.use(ref, 'marking of imported objects')
        const meaning = markingMeaning(ref, this.markingDefinitions)
        if (meaning.unknownTlp) unknownTlp ??= ref
        if (meaning.unresolved) unresolved ??= ref
        if (meaning.tlp !== undefined && (found.tlp === undefined || tlpRank(meaning.tlp) > tlpRank(found.tlp)))
          found.tlp = meaning.tlp
        if (meaning.namedTlp !== undefined && (named === undefined || tlpRank(meaning.namedTlp) > tlpRank(named)))
          named = meaning.namedTlp
        if (meaning.pap !== undefined && (found.pap === undefined || papRank(meaning.pap) > papRank(found.pap)))
          found.pap = meaning.pap
      }
      for (const name of ['releasable_to', 'recipients'] as const) {
        const list = listProperty(object, name)
        if (typeof list === 'string') {
          unreadable ??= objects.length === 1 ? list : `${object.id}: ${list}`
          continue
        }
        if (name === 'releasable_to') found.releasableTo = narrow(found.releasableTo, list)
        else found.recipients = narrow(found.recipients, list)
      }
    }
    // a marking not at hand, on objects whose other markings give no TLP: it may be their TLP, and
    // no default may stand in for it (beside a TLP read from a well-known or served marking, an
    // object has its one TLP [TLP 2.0], and the marking not at hand is a statement or PAP)
    if (found.tlp === undefined && unresolved !== undefined) unknownTlp ??= unresolved
    const defaults = this.options.defaultMarking
    /** No TLP marking of its own: the default stands in, narrowed by what the objects say. */
    const unmarked = found.tlp === undefined
    const tlp = found.tlp ?? defaults.tlp
    // a TLP only a name gives never widens, and is never lost where it is the stricter
    const stricterByName = named !== undefined && tlpRank(named) > tlpRank(tlp)
    const marking: Marking = { tlp: stricterByName ? named! : tlp }
    const defaulted = unmarked && !stricterByName
    const releasableTo = unmarked ? narrow(found.releasableTo, defaults.releasableTo) : found.releasableTo
    const recipients = unmarked ? narrow(found.recipients, defaults.recipients) : found.recipients
    const pap = found.pap ?? (unmarked ? defaults.pap : undefined)
    if (releasableTo !== undefined) marking.releasableTo = releasableTo
    if (recipients !== undefined) marking.recipients = recipients
    if (pap !== undefined) marking.pap = pap
    return {
      marking,
      defaulted,
      ...(unknownTlp === undefined ? {} : { unknownTlp }),
      ...(unreadable === undefined ? {} : { unreadable }),
    }
  }

  /**
   * Build, check and keep one event; its id from the object's id and version (and `suffix` for a
   * second event) and the importing organisation, so two importers never make the same event.
   */
  private event(
    object: StixObject,
    suffix: string,
    type: EventInput['type'],
    occurredAt: unknown,
    found: { marking: Marking; unknownTlp?: string; unreadable?: string },
    payload: Record<string, unknown>,
  ): string | undefined {
    // who it may go to, given but unreadable: never taken as absent (which would be everyone)
    if (found.unreadable !== undefined) {
      this.skip(object, `a marking it gives cannot be read, so whom it may reach is unknown: ${found.unreadable}`)
      return undefined
    }
    // a TLP it cannot read may be stricter than any it could give: left out, never widened (beside
    // a RED, nothing could be stricter)
    if (found.unknownTlp !== undefined && found.marking.tlp !== 'RED') {
      this.skip(object, `marked with ${found.unknownTlp}, a marking this import does not know or cannot read`)
      return undefined
    }
    // an event naming a partner's ids is the partner's: never the event of the same object imported
    // another way (by the organisation's own POST, naming the floor's ids)
    const partner = this.namesPartnerId(payload) ? `|${this.options.partner}` : ''
    const id = uuidv5(
      WATCHFLOOR_STIX_NAMESPACE,
      `${object.id}|${versionOf(object)}${suffix}@${this.options.organisation}${partner}`,
    )
    const time = typeof occurredAt === 'string' ? Date.parse(occurredAt) : Number.NaN
    if (Number.isNaN(time)) {
      this.skip(object, `cannot be a ${type} event: no time it happened`)
      return undefined
    }
    const parsed = EventInput.safeParse({
      id,
      type,
      occurredAt: new Date(time).toISOString(),
      source: { organisation: this.options.organisation },
      marking: found.marking,
      payload,
    })
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      this.skip(object, `cannot be a ${type} event: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim())
      return undefined
    }
    this.events.push(parsed.data)
    return id
  }

  private finish(object: StixObject, eventIds: string[], found: { defaulted: boolean }): void {
    this.createdIds.add(object.id)
    this.created.push({ stixId: object.id, type: object.type, eventIds })
    if (found.defaulted) this.defaulted.push(object.id)
    if (typeof object.created_by_ref === 'string') this.use(object.created_by_ref, 'author of imported objects')
  }

  private skip(object: StixObject, reason: string): void {
    this.skippedIds.add(object.id)
    this.skipped.push({ stixId: object.id, type: object.type, reason })
  }

  /** Note that a bundle object served an imported one (the first purpose is the one reported). */
  private use(stixId: string, as: string): void {
    if (this.byId.has(stixId) && !this.used.has(stixId)) this.used.set(stixId, as)
  }

  /** Why an object neither became an event nor served one. */
  private reasonLeftOut(object: StixObject): string {
    switch (object.type) {
      case 'identity':
        return watchfloorId(object.x_watchfloor_network_id) !== undefined &&
          object.x_watchfloor_organisation !== this.options.organisation
          ? "another organisation's network: only its owner registers it (A5)"
          : 'named by no imported object'
      case 'location':
        return 'locates no imported network or attack source'
      case 'marking-definition':
        return 'marks no imported object'
      case 'relationship': {
        const ends = [object.source_ref, object.target_ref] as string[]
        if (ends.every((end) => end.startsWith('incident--')))
          return 'links between incidents enter the floor only through its commands (incident.link)'
        return 'links objects the floor does not import'
      }
      default:
        return SCO_TYPES.has(object.type)
          ? 'part of no imported observation'
          : `the floor has no counterpart for ${object.type} objects`
    }
  }
}

/** The version of an object: `modified`, else `created` (marking definitions), else nothing (observables). */
function versionOf(object: StixObject): string {
  const version = object.modified ?? object.created
  if (typeof version !== 'string') return ''
  const millis = Date.parse(version)
  return Number.isNaN(millis) ? version : stixTime(version)
}

/** The text of an indicator: the value of a simple `[type:property = 'value']` pattern, else the pattern. */
function indicatorText(indicator: StixObject): string {
  const pattern = String(indicator.pattern ?? '')
  const simple = /^\[\s*[a-z0-9-]+:[\w.'[\]-]+\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]$/i.exec(pattern.trim())
  if (simple !== null) return simple[1]!.replace(/\\(.)/g, '$1')
  return pattern
}

function papRank(pap: Pap): number {
  return PAP_LEVELS.indexOf(pap)
}

/** A Watchfloor id read from a bundle: a string of 1 to 200 characters once trimmed. */
function watchfloorId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const id = value.trim()
  return id.length >= 1 && id.length <= MAX_ID ? id : undefined
}

/** A list of ids, each valid one kept, at most `max`. */
function idList(value: unknown, max: number): string[] {
  if (!Array.isArray(value)) return []
  const ids: string[] = []
  for (const item of value) {
    const id = watchfloorId(item)
    if (id !== undefined && !ids.includes(id)) ids.push(id)
    if (ids.length === max) break
  }
  return ids
}

/**
 * `x_watchfloor_<name>` (a list of ids) or `x_watchfloor_<name>_none` (an empty list); undefined
 * when neither is there. Only the valid ids of a list are kept: dropping one narrows who may see,
 * never widens it. Either property there but not as it should be (a list that is no array, a
 * `_none` that is not `true`) gives why, a string: an audience it cannot read is never taken for
 * no audience given, which would be everyone.
 */
function listProperty(object: StixObject, name: 'releasable_to' | 'recipients'): string[] | undefined | string {
  const none = object[`x_watchfloor_${name}_none`]
  const value = object[`x_watchfloor_${name}`]
  if (none !== undefined && none !== true) return `x_watchfloor_${name}_none is ${shownValue(none)}, not true`
  if (value !== undefined && !Array.isArray(value))
    return `x_watchfloor_${name} is ${shownValue(value)}, not a list of ids`
  if (none === true) return []
  return value === undefined ? undefined : idList(value, MAX_LIST)
}

/** The most characters of a value a reason shows. */
const SHOWN = 60
/** How deep into a value a reason looks: deeper lists and objects show as `[…]` and `{…}`. */
const SHOWN_DEPTH = 4

/**
 * A value as a reason shows it: as JSON, cut to 60 characters. Written only as far as it is shown
 * (never a whole value, which a partner may make megabytes long or thousands of lists deep, where
 * `JSON.stringify` overflows the stack), and at most four levels deep.
 */
function shownValue(value: unknown): string {
  let text = ''
  /** Writes `item` at `depth`; false once more than `SHOWN` characters are written. */
  const write = (item: unknown, depth: number): boolean => {
    if (typeof item === 'string') text += JSON.stringify(item.slice(0, SHOWN + 1))
    else if (typeof item !== 'object' || item === null) text += String(JSON.stringify(item) ?? item)
    else if (depth >= SHOWN_DEPTH) text += Array.isArray(item) ? '[…]' : '{…}'
    else if (Array.isArray(item)) {
      text += '['
      for (let i = 0; i < item.length; i++) {
        if (i > 0) text += ','
        if (!write(item[i], depth + 1)) return false
      }
      text += ']'
    } else {
      text += '{'
      let first = true
      for (const key in item) {
        if (!Object.hasOwn(item, key)) continue
        text += `${first ? '' : ','}${JSON.stringify(key.slice(0, SHOWN + 1))}:`
        first = false
        if (!write((item as Record<string, unknown>)[key], depth + 1)) return false
      }
      text += '}'
    }
    return text.length <= SHOWN
  }
  write(value, 0)
  return text.length <= SHOWN ? text : `${text.slice(0, SHOWN - 1)}…`
}

/** An error as a reason shows it: its message, cut to 200 characters. */
function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'an unknown error'
  return message.length <= 200 ? message : `${message.slice(0, 199)}…`
}

/** Takes out of a map or set what was added after its first `size` entries (insertion order). */
function dropAfter(collection: Map<string, unknown> | Set<string>, size: number): void {
  if (collection.size <= size) return
  let index = 0
  for (const key of [...collection.keys()]) if (index++ >= size) collection.delete(key)
}

/** Two audiences together: what both allow (absent allows anything). */
function narrow(a: string[] | undefined, b: readonly string[] | undefined): string[] | undefined {
  if (b === undefined) return a
  if (a === undefined) return [...b]
  return a.filter((id) => b.includes(id))
}

function countOf(value: unknown): number | undefined {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_COUNT
    ? (value as number)
    : undefined
}

/** An incident's attack source: a network (its id read by `idOf`) and/or a place. */
function attackSourceOf(
  value: unknown,
  idOf: (value: unknown) => string | undefined,
): { networkId?: string; location?: Location } | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const source = value as Record<string, unknown>
  const out: { networkId?: string; location?: Location } = {}
  const networkId = idOf(source.network_id)
  if (networkId !== undefined) out.networkId = networkId
  const { latitude: lat, longitude: lon } = source
  if (typeof lat === 'number' && typeof lon === 'number' && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
    out.location = { lat, lon }
  }
  return out.networkId === undefined && out.location === undefined ? undefined : out
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []
}

function firstLine(value: unknown): string | undefined {
  return typeof value === 'string' ? value.trim().split('\n', 1)[0] : undefined
}

/** Text trimmed and cut to `max` characters (an ellipsis marks the cut); undefined when empty or not text. */
function clip(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  if (text.length === 0) return undefined
  if (text.length <= max) return text
  let cut = text.slice(0, max - 1)
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1)
  return `${cut.trimEnd()}…`
}

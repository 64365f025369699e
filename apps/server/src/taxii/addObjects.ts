/**
 * Add Objects (OASIS TAXII 2.1, section 5.5) and the status resource (4.3.1). An envelope's
 * objects go through the same import as `POST /api/v1/import/stix`: `importStix` maps them (the
 * caller's organisation as source, the objects' markings kept, unmarked objects AMBER), then
 * `importEvents` posts them through ingest as the caller (A1-A6), refusals reported per event. The
 * request is done when the answer leaves, so its status is `complete`; statuses are kept in the
 * credential store (the newest 10,000, any process answers them), each for the caller that made it
 * only.
 */
import { randomUUID } from 'node:crypto'
import { defaultMarking, type Owners } from '@watchfloor/core'
import { type EventInput, unsafeInName } from '@watchfloor/protocol'
import { importStix, uuidv5, WATCHFLOOR_STIX_NAMESPACE } from '@watchfloor/sharing'
import type { CredentialStore, EventStore } from '@watchfloor/store'
import type { Caller } from '../access/access.ts'
import { importEvents } from '../write/imports.ts'
import { TaxiiError } from './TaxiiError.ts'

/** One object of a request and what became of it (4.3.1 `status-details`). */
export interface StatusDetails {
  id: string
  version: string
  message?: string
}

/** The status resource (4.3.1). Empty lists are left out (section 2: TAXII lists are never empty). */
export interface StatusResource {
  id: string
  status: 'complete' | 'pending'
  request_timestamp: string
  total_count: number
  success_count: number
  successes?: StatusDetails[]
  failure_count: number
  failures?: StatusDetails[]
  pending_count: number
  pendings?: StatusDetails[]
}

/** Who made a request: a status is shown to that caller only (another one hears 404). */
export function ownerOf(caller: Caller): string {
  const credential = caller.credential.type === 'token' ? caller.credential.id : caller.credential.type
  return JSON.stringify([caller.organisation, caller.user, credential])
}

/**
 * The statuses of Add Objects requests, kept in the credential store so that every process answers
 * for them (a client polls whichever process its balancer picks); the newest `max` kept.
 */
export class StatusStore {
  constructor(
    private readonly credentials: Pick<CredentialStore, 'saveTaxiiStatus' | 'getTaxiiStatus'>,
    private readonly max = 10_000,
  ) {}

  async add(owner: string, status: StatusResource): Promise<void> {
    await this.credentials.saveTaxiiStatus(
      { id: status.id, owner, body: JSON.stringify(status), createdAt: new Date() },
      this.max,
    )
  }

  /**
   * The status, if `owner` made it; undefined otherwise, exactly as when there is none (and for an
   * id with a control character, no status's, without asking the store).
   */
  async get(owner: string, id: string): Promise<StatusResource | undefined> {
    if (unsafeInName(id)) return undefined
    const found = await this.credentials.getTaxiiStatus(id)
    return found !== null && found.owner === owner ? (JSON.parse(found.body) as StatusResource) : undefined
  }
}

interface StixLike {
  id: string
  type: string
  version: string | undefined
}

function describe(object: unknown, index: number): StixLike {
  const o = (typeof object === 'object' && object !== null ? object : {}) as Record<string, unknown>
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined)
  return {
    id: text(o.id) ?? `objects.${index}`,
    type: text(o.type) ?? 'unknown',
    version: text(o.modified) ?? text(o.created),
  }
}

/**
 * Events written to a community's collection: those without a releasability become releasable
 * to the community (RED keeps its recipients), and get ids of their own (UUIDv5 of the import's
 * id and the community), so the same object added to "all" and to the community never collides.
 */
function releasableToCommunity(events: readonly EventInput[], community: string): Map<string, EventInput> {
  const out = new Map<string, EventInput>()
  for (const event of events) {
    const marking = event.marking ?? defaultMarking()
    if (marking.releasableTo !== undefined || marking.tlp === 'RED') {
      out.set(event.id, event)
      continue
    }
    out.set(event.id, {
      ...event,
      id: uuidv5(WATCHFLOOR_STIX_NAMESPACE, `${event.id}|community:${community}`),
      marking: { ...marking, releasableTo: [community] },
    } as EventInput)
  }
  return out
}

export interface AddObjectsRequest {
  store: EventStore
  caller: Caller
  owners: () => Promise<Owners>
  /** The envelope, as parsed. */
  envelope: unknown
  /** The community of the collection, if it is one. */
  community: string | undefined
  requestTimestamp: string
}

/** Import an envelope's objects as the caller; the status resource of the request. */
export async function addObjects({
  store,
  caller,
  owners,
  envelope,
  community,
  requestTimestamp,
}: AddObjectsRequest): Promise<StatusResource> {
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope))
    throw new TaxiiError(422, 'the body must be a TAXII envelope: { "objects": [ ... ] }')
  const objects = (envelope as { objects?: unknown }).objects
  if (objects === undefined)
    throw new TaxiiError(422, 'the envelope has no objects: send { "objects": [ ... ] } with one STIX object or more')
  if (!Array.isArray(objects)) throw new TaxiiError(422, 'the envelope objects property must be a list of STIX objects')
  const report = importStix(
    { type: 'bundle', id: `bundle--${randomUUID()}`, objects },
    { defaultMarking: defaultMarking(), organisation: caller.organisation },
  )
  if (report.errors.length > 0)
    throw new TaxiiError(
      422,
      `not valid STIX 2.1: ${report.errors[0]!.path} ${report.errors[0]!.message}`,
      { issues: report.errors.slice(0, 100) },
      'validation',
    )
  const events = community === undefined ? undefined : releasableToCommunity(report.events, community)
  const posted = events === undefined ? report.events : [...events.values()]
  const stored = await importEvents(store, caller, posted, owners)
  const postedId = (id: string) => events?.get(id)?.id ?? id
  const refusals = new Map(stored.refused.map((refusal) => [refusal.id, refusal]))
  const duplicates = new Set(stored.results.filter((result) => result.duplicate).map((result) => result.id))

  const created = new Map(report.created.map((entry) => [entry.stixId, entry.eventIds.map(postedId)]))
  const used = new Map(report.used.map((entry) => [entry.stixId, entry.as]))
  const skipped = new Map<string, string>()
  for (const entry of report.skipped) if (entry.stixId !== undefined) skipped.set(entry.stixId, entry.reason)

  // the version of each id the import read (the latest; the first of equal ones), as the import chose it
  const described = objects.map(describe)
  const current = new Map<string, number>()
  described.forEach((object, index) => {
    const chosen = current.get(object.id)
    if (chosen === undefined || (object.version ?? '') > (described[chosen]!.version ?? ''))
      current.set(object.id, index)
  })

  const successes: StatusDetails[] = []
  const failures: StatusDetails[] = []
  described.forEach((object, index) => {
    const detail = (message: string): StatusDetails => ({
      id: object.id,
      version: object.version ?? requestTimestamp,
      message,
    })
    if (current.get(object.id) !== index) {
      const latest = described[current.get(object.id)!]!
      if (latest.version === object.version) successes.push(detail('the same version appears earlier in the request'))
      else failures.push(detail('a later version of this object is in the request'))
      return
    }
    const eventIds = created.get(object.id)
    if (eventIds !== undefined) {
      const refused = eventIds.flatMap((id) => {
        const refusal = refusals.get(id)
        return refusal === undefined ? [] : [`${refusal.type}: ${refusal.message}`]
      })
      if (refused.length > 0) failures.push(detail(`refused: ${refused.join('; ')}`))
      else if (eventIds.every((id) => duplicates.has(id))) successes.push(detail('already in the log'))
      else successes.push(detail(`added as ${eventIds.length} event${eventIds.length === 1 ? '' : 's'}`))
      return
    }
    const as = used.get(object.id)
    if (as !== undefined) {
      successes.push(detail(`used as ${as}`))
      return
    }
    failures.push(detail(skipped.get(object.id) ?? 'not imported'))
  })

  const status: StatusResource = {
    id: randomUUID(),
    status: 'complete',
    request_timestamp: requestTimestamp,
    total_count: objects.length,
    success_count: successes.length,
    failure_count: failures.length,
    pending_count: 0,
  }
  if (successes.length > 0) status.successes = successes
  if (failures.length > 0) status.failures = failures
  return status
}

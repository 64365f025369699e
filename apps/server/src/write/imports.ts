/**
 * Imports from the standards (`POST /api/v1/import/stix`, `POST /api/v1/import/misp`): the
 * sharing package maps a bundle or a MISP document to events, and they enter the log through the
 * same ingest as raw events, as the caller (A1-A6: its roles, its organisation or those it relays
 * for, what it owns). What ingest refuses is reported per event, never dropped silently; the rest
 * is stored. Re-importing the same objects gives the same event ids: duplicates, nothing new.
 */
import { defaultMarking, type Owners, postingRefusal } from '@watchfloor/core'
import { type EventInput, MAX_EVENTS_PER_POST, type Marking, Tlp, WatchfloorError } from '@watchfloor/protocol'
import { importMisp, importStix } from '@watchfloor/sharing'
import type { AppendResult, EventStore } from '@watchfloor/store'
import express, { type Request } from 'express'
import type { Caller } from '../access/access.ts'
import type { Directory } from '../access/directory.ts'
import { refusalError, toWatchfloorError } from '../http/errors.ts'
import { QueryReader } from '../http/query.ts'
import { ingest } from './ingest.ts'

/** One event the log did not take, and why (the error body ingest gave). */
export interface Refused {
  id: string
  type: string
  code: string
  message: string
}

export interface ImportDeps {
  store: EventStore
  directory: Directory
  callerOf: (req: Request) => Caller
  owners: () => Promise<Owners>
  bodyLimit: string | number
}

export function importRouter({ store, directory, callerOf, owners, bodyLimit }: ImportDeps): express.Router {
  const router = express.Router()
  // STIX comes as application/stix+json or application/json, MISP as JSON: read any body as JSON
  const json = express.json({ limit: bodyLimit, type: () => true })

  router.post('/import/stix', json, async (req, res) => {
    const caller = callerOf(req)
    refusePosting(caller)
    const marking = defaultMarkingOf(req)
    const report = importStix(req.body, { defaultMarking: marking, organisation: caller.organisation })
    refuseInvalid(report.errors, 'not a valid STIX 2.1 bundle')
    const stored = await importEvents(store, caller, report.events, owners)
    res.json({
      defaultMarking: marking,
      created: report.created,
      used: report.used,
      skipped: report.skipped,
      defaulted: report.defaulted,
      ...stored,
    })
  })

  router.post('/import/misp', json, async (req, res) => {
    const caller = callerOf(req)
    refusePosting(caller)
    const marking = defaultMarkingOf(req)
    const mayPostFor = new Set([caller.organisation, ...caller.sources])
    const report = importMisp(req.body, {
      defaultMarking: marking,
      organisation: caller.organisation,
      // a sharing group is a community of the directory, by id or by name
      communityOf: (group) => {
        const byId = group.name === undefined ? undefined : directory.community(group.name)
        if (byId) return byId.id
        return directory.listCommunities().find((c) => c.name === group.name || c.id === group.uuid)?.id
      },
      // an Orgc is an organisation the caller may post for, by id or by name; any other stays the caller's
      knownOrganisation: (name) => {
        const entry = directory.organisation(name) ?? directory.listOrganisations().find((o) => o.name === name)
        return entry !== undefined && mayPostFor.has(entry.id) ? entry.id : undefined
      },
    })
    refuseInvalid(report.errors, 'not a MISP event, search answer or feed')
    const stored = await importEvents(store, caller, report.events, owners)
    res.json({ defaultMarking: marking, created: report.created, skipped: report.skipped, ...stored })
  })

  return router
}

/**
 * Store the events, as `caller`, in requests of at most 1,000: an event ingest refuses (another
 * organisation's incident [A5], an id already in the log with other content [L3], a source the
 * caller may not post for [A3]) is taken out and reported, and the rest of its request goes in.
 */
export async function importEvents(
  store: EventStore,
  caller: Caller,
  events: readonly EventInput[],
  owners: () => Promise<Owners>,
): Promise<{ results: AppendResult[]; refused: Refused[] }> {
  const results: AppendResult[] = []
  const refused: Refused[] = []
  for (let start = 0; start < events.length; start += MAX_EVENTS_PER_POST) {
    let chunk = events.slice(start, start + MAX_EVENTS_PER_POST)
    while (chunk.length > 0) {
      try {
        results.push(...(await ingest(store, caller, { events: chunk }, owners)))
        break
      } catch (error) {
        const failure = toWatchfloorError(error)
        const index = failedIndex(failure, chunk.length)
        if (failure.code === 'internal' || failure.code === 'unavailable' || index === undefined) throw error
        const event = chunk[index]!
        refused.push({ id: event.id, type: event.type, code: failure.code, message: failure.message })
        chunk = chunk.filter((_, i) => i !== index)
      }
    }
  }
  return { results, refused }
}

/** Which event of a request ingest refused: `details.index`, or the `events.N` of a path. */
function failedIndex(error: WatchfloorError, length: number): number | undefined {
  const details = (error.details ?? {}) as { index?: unknown; path?: unknown; issues?: { path?: unknown }[] }
  const path = typeof details.path === 'string' ? details.path : details.issues?.[0]?.path
  const index =
    typeof details.index === 'number' ? details.index : Number(String(path ?? '').match(/^events\.(\d+)/)?.[1])
  return Number.isInteger(index) && index >= 0 && index < length ? index : undefined
}

/** [A1, A2] Importing is posting: who may not post raw events may not import. */
function refusePosting(caller: Caller): void {
  const refusal = postingRefusal({ ...caller, readOnly: caller.kind === 'display' })
  if (refusal !== undefined) throw refusalError(refusal)
}

/** `?defaultTlp=` for what arrives unmarked; absent: AMBER, the importer's organisation only [V8]. */
function defaultMarkingOf(req: Request): Marking {
  const query = new QueryReader(req)
  const tlp = query.oneOf('defaultTlp', Tlp.options, defaultMarking().tlp)
  query.done()
  return { tlp }
}

function refuseInvalid(errors: readonly { path: string; message: string }[], what: string): void {
  if (errors.length === 0) return
  throw new WatchfloorError('validation', `${what}: ${errors[0]!.path} ${errors[0]!.message}`, {
    issues: errors.slice(0, 100),
  })
}

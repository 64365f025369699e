/**
 * Imports from the standards (`POST /api/v1/import/stix`, `POST /api/v1/import/misp`): the
 * sharing package maps a bundle or a MISP document to events, and they enter the log through the
 * same ingest as raw events, as the caller (A1-A6: its roles, its organisation or those it relays
 * for, what it owns). What ingest refuses is reported per event, never dropped silently; the rest
 * is stored. The ids an import makes are the importing organisation's own: the same organisation
 * importing the same objects again gets duplicates, nothing new; another one gets its own events,
 * and no answer tells it who else imported them.
 */
import { defaultMarking, type Owners, postingRefusal } from '@watchfloor/core'
import {
  type EventInput,
  type ImportRefusal,
  MAX_EVENTS_PER_POST,
  type Marking,
  type MispImportReply,
  type StixImportReply,
  Tlp,
  WatchfloorError,
} from '@watchfloor/protocol'
import { importMisp, importStix } from '@watchfloor/sharing'
import type { EventStore } from '@watchfloor/store'
import express, { type Request } from 'express'
import { type Caller, knowsCommunity, recheckCaller } from '../access/access.ts'
import type { Directory } from '../access/directory.ts'
import { refusalError, toWatchfloorError } from '../http/errors.ts'
import { QueryReader } from '../http/query.ts'
import { type IngestResult, ingest } from './ingest.ts'

/** One event the log did not take, and why (the error body ingest gave): the protocol's `ImportRefusal`. */
export type Refused = ImportRefusal

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

  router.post('/import/stix', json, recheckCaller, async (req, res) => {
    const caller = callerOf(req)
    refusePosting(caller)
    const marking = defaultMarkingOf(req)
    const report = importStix(req.body, { defaultMarking: marking, organisation: caller.organisation })
    refuseInvalid(report.errors, 'not a valid STIX 2.1 bundle')
    const stored = await importEvents(store, caller, report.events, owners)
    // the reply's type is the protocol's schema's (the OpenAPI document's `StixImportReply`)
    const reply: StixImportReply = {
      defaultMarking: marking,
      created: report.created,
      used: report.used,
      skipped: report.skipped,
      defaulted: report.defaulted,
      results: stored.results,
      refused: stored.refused,
    }
    res.json(reply)
  })

  router.post('/import/misp', json, recheckCaller, async (req, res) => {
    const caller = callerOf(req)
    refusePosting(caller)
    const marking = defaultMarkingOf(req)
    const mayPostFor = new Set([caller.organisation, ...caller.sources])
    const report = importMisp(req.body, {
      defaultMarking: marking,
      organisation: caller.organisation,
      // a sharing group is a community of the directory the importer may know of [A8], by id or by
      // name: one it may not know is as unknown as one that does not exist
      communityOf: (group) => {
        const known = directory.listCommunities().filter((c) => knowsCommunity(caller, c.id))
        return (
          known.find((c) => c.id === group.name)?.id ??
          known.find((c) => c.name === group.name || c.id === group.uuid)?.id
        )
      },
      // an Orgc is an organisation the caller may post for, by id or by name; any other stays the caller's
      knownOrganisation: (name) => {
        const entry = directory.organisation(name) ?? directory.listOrganisations().find((o) => o.name === name)
        return entry !== undefined && mayPostFor.has(entry.id) ? entry.id : undefined
      },
    })
    refuseInvalid(report.errors, 'not a MISP event, search answer or feed')
    const stored = await importEvents(store, caller, report.events, owners)
    const reply: MispImportReply = {
      defaultMarking: marking,
      created: report.created,
      skipped: report.skipped,
      results: stored.results,
      refused: stored.refused,
    }
    res.json(reply)
  })

  return router
}

/**
 * Store the events, as `caller`, in requests of at most 1,000: an event ingest refuses (another
 * organisation's incident [A5], an id already in the log with other content [L3], a source the
 * caller may not post for [A3]) is taken out and reported, and the rest of its request goes in.
 * Each event is judged after the events before it, as in one request: against the picture and
 * what of them was stored. The refusals of a request are listed as ingest judged them: those of
 * its checks first (A1-A6, validation), then those of the log (L3), each in order.
 */
export async function importEvents(
  store: EventStore,
  caller: Caller,
  events: readonly EventInput[],
  owners: () => Promise<Owners>,
): Promise<{ results: IngestResult[]; refused: Refused[] }> {
  const results: IngestResult[] = []
  const refused: Refused[] = []
  for (let start = 0; start < events.length; start += MAX_EVENTS_PER_POST) {
    const request = await storeRequest(store, caller, events.slice(start, start + MAX_EVENTS_PER_POST), owners)
    results.push(...request.results)
    refused.push(...request.byChecks, ...request.byLog)
  }
  return { results, refused }
}

/**
 * One request of an import, through ingest in blocks, in time linear in its length however many
 * of its events are refused. A block refused at its k-th event is stored up to it (those k events
 * are judged again, once: the same judgement, after the same events), that event is reported, and
 * the next block is at most twice as long as what the last attempt settled, so every attempt costs
 * at most twice what the one before it settled. Each stored prefix is an append of its own.
 */
async function storeRequest(
  store: EventStore,
  caller: Caller,
  request: readonly EventInput[],
  owners: () => Promise<Owners>,
): Promise<{ results: IngestResult[]; byChecks: Refused[]; byLog: Refused[] }> {
  const results: IngestResult[] = []
  const byChecks: Refused[] = []
  const byLog: Refused[] = []
  /** The first event neither stored nor refused: every event before it is settled. */
  let next = 0
  let size = request.length
  /** Where the last attempt was refused (in the request, and in its block), and why. */
  let failed: { at: number; index: number; error: WatchfloorError } | undefined
  while (next < request.length) {
    if (failed?.at === next) {
      // the events before it are stored: it is refused, as it was judged after them
      const { error, index } = failed
      if (isLogRefusal(error)) byLog.push(refusal(request[next]!, error, error.message))
      else byChecks.push(refusal(request[next]!, error, renumbered(error.message, index, next - byChecks.length)))
      next++
      failed = undefined
      continue
    }
    const end = Math.min(request.length, next + size, failed?.at ?? request.length)
    const block = request.slice(next, end)
    try {
      results.push(...(await ingest(store, caller, { events: block }, owners)))
      next = end
      size = 2 * block.length
    } catch (error) {
      const failure = toWatchfloorError(error)
      const index = failedIndex(failure, block.length)
      if (failure.code === 'internal' || failure.code === 'unavailable' || index === undefined) throw error
      failed = { at: next + index, index, error: failure }
      size = 2 * (index + 1)
    }
  }
  return { results, byChecks, byLog }
}

function refusal(event: EventInput, error: WatchfloorError, message: string): Refused {
  return { id: event.id, type: event.type, code: error.code, message }
}

/** [L3] The log's own refusal (an id already there with other content), not one of ingest's checks. */
function isLogRefusal(error: WatchfloorError): boolean {
  return error.code === 'conflict' && (error.details as { rule?: unknown } | undefined)?.rule === undefined
}

/**
 * A validation message names the event as `events.<n>` of the request it was in: its place in
 * the block it was judged in becomes its place in the import's request without the events refused
 * before it by the checks, as if that request had been posted again each time.
 */
function renumbered(message: string, from: number, to: number): string {
  if (from === to) return message
  return message.replace(new RegExp(`(^invalid input: |; )events\\.${from}(?=[.:])`, 'g'), `$1events.${to}`)
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

/**
 * Filtering and pagination of the object, manifest and versions endpoints (OASIS TAXII 2.1,
 * sections 3.4, 3.4.1 and 3.5): `added_after`, `limit`, `next` and `match[id|type|version|
 * spec_version]`. A malformed parameter is 400 (3.4); a `match` field the endpoint does not define
 * is ignored (3.4: servers MAY ignore fields they do not understand).
 */
import { type CollectionObject, compareKey } from './CollectionCache.ts'
import { parseTimestamp } from './media.ts'
import { TaxiiError } from './TaxiiError.ts'

/** The most objects one response holds, and the default `limit`. */
export const MAX_PAGE = 1000

export type MatchField = 'id' | 'type' | 'version' | 'spec_version'

/** What a request asks for. */
export interface Filters {
  /** Microseconds: only objects added strictly after. */
  addedAfter: number | undefined
  limit: number
  /** Only objects after this place in the paging order (seq, id). */
  after: { seq: number; id: string } | undefined
  ids: ReadonlySet<string> | undefined
  types: ReadonlySet<string> | undefined
  /** Exact versions asked for; undefined with `last`, `first` or `all` (one version per object is held). */
  versions: ReadonlySet<number> | undefined
  /** Whether the keywords allow every object's (only) version through. */
  anyVersion: boolean
  specVersions: ReadonlySet<string> | undefined
}

function badRequest(parameter: string, message: string): TaxiiError {
  return new TaxiiError(400, `${parameter}: ${message}`, { issues: [{ path: parameter, message }] })
}

/** A parameter given at most once (3.4: a request MUST NOT have more than one instance). */
function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name)
  if (values.length > 1) throw badRequest(name, 'given more than once')
  return values[0]
}

/** A `match[<field>]` value: one or more values separated by commas, without spaces (3.4). */
function list(params: URLSearchParams, field: MatchField): string[] | undefined {
  const name = `match[${field}]`
  const raw = single(params, name)
  if (raw === undefined) return undefined
  const values = raw.split(',')
  if (values.some((value) => value === '' || value !== value.trim()))
    throw badRequest(name, 'expected values separated by commas, none empty, no spaces')
  return values
}

/** The opaque `next` of a page: the place of its last object in the paging order. */
export function nextToken(object: { seq: number; id: string }): string {
  return Buffer.from(JSON.stringify([object.seq, object.id])).toString('base64url')
}

function readNext(token: string): { seq: number; id: string } {
  try {
    const [seq, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[]
    if (Number.isSafeInteger(seq) && (seq as number) >= 0 && typeof id === 'string') return { seq: seq as number, id }
  } catch {
    // falls through to the refusal
  }
  throw badRequest('next', 'not a value this server gave in a `next` property')
}

/**
 * Read the filters of a request. `fields` are the match fields the endpoint defines (5.3, 5.4:
 * all four; 5.6: version and spec_version; 5.8: spec_version).
 */
export function readFilters(params: URLSearchParams, fields: readonly MatchField[]): Filters {
  const addedAfterText = single(params, 'added_after')
  let addedAfter: number | undefined
  if (addedAfterText !== undefined) {
    addedAfter = parseTimestamp(addedAfterText)
    if (addedAfter === undefined)
      throw badRequest('added_after', 'expected a timestamp such as 2026-11-26T08:00:00.000000Z')
  }
  const limitText = single(params, 'limit')
  let limit = MAX_PAGE
  if (limitText !== undefined) {
    const value = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN
    if (!Number.isSafeInteger(value) || value < 1) throw badRequest('limit', 'expected a positive integer')
    limit = Math.min(value, MAX_PAGE) // 3.4: a server-imposed limit may give fewer
  }
  const nextText = single(params, 'next')
  const after = nextText === undefined ? undefined : readNext(nextText)

  const has = (field: MatchField) => fields.includes(field)
  const ids = has('id') ? list(params, 'id') : undefined
  const types = has('type') ? list(params, 'type') : undefined
  const specVersions = has('spec_version') ? list(params, 'spec_version') : undefined
  if (specVersions?.some((value) => !/^\d+\.\d+$/.test(value)))
    throw badRequest('match[spec_version]', 'expected versions such as 2.1')

  const versionValues = has('version') ? list(params, 'version') : undefined
  let versions: Set<number> | undefined
  let anyVersion = versionValues === undefined
  if (versionValues !== undefined) {
    if (new Set(versionValues).size !== versionValues.length)
      throw badRequest('match[version]', 'a value is given more than once')
    if (versionValues.includes('all') && versionValues.length > 1)
      throw badRequest('match[version]', 'all may not be combined with other values')
    for (const value of versionValues) {
      if (value === 'all' || value === 'first' || value === 'last') {
        anyVersion = true
        continue
      }
      const micros = parseTimestamp(value)
      if (micros === undefined)
        throw badRequest('match[version]', 'expected last, first, all or a timestamp such as 2026-11-26T08:00:00.000Z')
      versions ??= new Set()
      versions.add(micros)
    }
  }
  return {
    addedAfter,
    limit,
    after,
    ids: ids === undefined ? undefined : new Set(ids),
    types: types === undefined ? undefined : new Set(types),
    versions: anyVersion ? undefined : versions,
    anyVersion,
    specVersions: specVersions === undefined ? undefined : new Set(specVersions),
  }
}

/** Does an object pass the match filters? (`added_after` and `next` are the page's.) */
function matches(object: CollectionObject, filters: Filters): boolean {
  if (filters.ids !== undefined && !filters.ids.has(object.id)) return false
  if (filters.types !== undefined && !filters.types.has(object.type)) return false
  // 3.4.1: without match[spec_version], the latest the server has: every object here is STIX 2.1
  if (filters.specVersions !== undefined && !filters.specVersions.has(object.specVersion)) return false
  // one version per object: last, first and all are that version; a timestamp must be it exactly
  if (!filters.anyVersion) {
    const version = parseTimestamp(object.version)
    if (version === undefined || !filters.versions?.has(version)) return false
  }
  return true
}

/** One page of the objects that pass the filters, in the order they were added (3.3). */
export interface Page {
  objects: CollectionObject[]
  more: boolean
  next: string | undefined
}

/** The page `filters` ask for out of `objects` (sorted by (seq, id), which is also date_added order). */
export function pageOf(objects: readonly CollectionObject[], filters: Filters): Page {
  const { addedAfter, after, limit } = filters
  const selected: CollectionObject[] = []
  let more = false
  for (const object of objects) {
    if (addedAfter !== undefined && object.addedMicros <= addedAfter) continue
    if (after !== undefined && compareKey(object, after) <= 0) continue
    if (!matches(object, filters)) continue
    if (selected.length === limit) {
      more = true
      break
    }
    selected.push(object)
  }
  return { objects: selected, more, next: more ? nextToken(selected.at(-1)!) : undefined }
}

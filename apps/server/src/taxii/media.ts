/**
 * TAXII 2.1's media types and timestamps (OASIS TAXII 2.1, sections 1.6.8 and 2): what a request
 * must accept and send, and the microsecond timestamps of `date_added`.
 */

/** The media type of every TAXII 2.1 response and of an Add Objects request (1.6.8.1, 1.6.8.2). */
export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1'

/** The media type of the objects a collection holds (5.2.1 `media_types`, 5.3.1 `media_type`). */
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1'

interface MediaRange {
  type: string
  parameters: Map<string, string>
}

/** `type/subtype;name=value;...` lower-cased (parameter values keep their case, quotes dropped). */
function mediaRange(text: string): MediaRange | undefined {
  const [head, ...parts] = text.split(';')
  const type = head?.trim().toLowerCase() ?? ''
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+*-]+$|^\*\/\*$/.test(type)) return undefined
  const parameters = new Map<string, string>()
  for (const part of parts) {
    const separator = part.indexOf('=')
    if (separator < 0) continue
    const name = part.slice(0, separator).trim().toLowerCase()
    const value = part
      .slice(separator + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
    parameters.set(name, value)
  }
  return { type, parameters }
}

/** `application/taxii+json`, with no version (the latest the server speaks: 2.1) or version 2.1 (1.6.8.2). */
function isTaxii21(range: MediaRange): boolean {
  if (range.type !== 'application/taxii+json') return false
  const version = range.parameters.get('version')
  return version === undefined || version === '2.1'
}

/**
 * Does an Accept header allow TAXII 2.1? Section 3.1: every request MUST include at least one
 * TAXII media range in Accept, so a bare wildcard range (or no Accept at all) does not; a range with
 * `q=0` refuses what it names.
 */
export function acceptsTaxii(accept: string | undefined): boolean {
  if (accept === undefined) return false
  for (const item of accept.split(',')) {
    const range = mediaRange(item)
    if (range === undefined || !isTaxii21(range)) continue
    const q = range.parameters.get('q')
    if (q === undefined || Number(q) > 0) return true
  }
  return false
}

/**
 * Is a request body's Content-Type TAXII 2.1 (5.5)? `application/taxii+json;version=2.1`, or
 * `application/taxii+json` without a version, which section 1.6.8.2 defines as the latest version
 * the server supports: 2.1. Other parameters (a charset) are allowed.
 */
export function isTaxiiContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const range = mediaRange(contentType)
  return range !== undefined && isTaxii21(range)
}

/**
 * A TAXII timestamp (section 2): RFC 3339, UTC, `Z`, exactly microsecond precision,
 * `2026-11-26T08:00:00.123456Z`, from microseconds since the epoch.
 */
export function taxiiTimestamp(micros: number): string {
  const millis = Math.floor(micros / 1000)
  return new Date(millis).toISOString().replace('Z', `${String(micros - millis * 1000).padStart(3, '0')}Z`)
}

/** Microseconds since the epoch of a time Watchfloor stores (ISO 8601, any offset, ms precision). */
export function microsOf(iso: string): number {
  return Date.parse(iso) * 1000
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/i

/**
 * A TAXII or STIX timestamp as microseconds since the epoch, digits beyond the microsecond
 * dropped (exact for `added_after`: every `date_added` is a whole microsecond); undefined when it
 * is not a UTC RFC 3339 timestamp.
 */
export function parseTimestamp(text: string): number | undefined {
  const match = TIMESTAMP.exec(text)
  if (match === null) return undefined
  const seconds = Date.parse(`${match[1]!}Z`)
  if (Number.isNaN(seconds)) return undefined
  const fraction = (match[2] ?? '').padEnd(6, '0').slice(0, 6)
  return seconds * 1000 + Number(fraction)
}

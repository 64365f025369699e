/** STIX 2.1 shapes and identifiers shared by the export and the import. */
import { canonicalJson } from '@watchfloor/protocol'
import { uuidv5 } from './uuid.ts'

/** One STIX object as JSON: its `type` and `id`, and whatever else its type has. */
export interface StixObject {
  type: string
  id: string
  [property: string]: unknown
}

/** A STIX 2.1 bundle: the envelope of an export and of an import. */
export interface StixBundle {
  type: 'bundle'
  id: string
  objects: StixObject[]
}

/**
 * The namespace of the STIX 2.1 specification for Cyber-observable ids (section 2.9): an SCO's
 * id is the UUIDv5, in it, of its ID Contributing Properties as RFC 8785 canonical JSON.
 */
export const STIX_SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7'

/**
 * Watchfloor's own namespace for every id it derives (STIX ids of what it exports, event ids of
 * what it imports): `uuidv5(UUID_NAMESPACE_URL, 'urn:watchfloor:stix')`. Never change it: every
 * id exported or imported before would change with it.
 */
export const WATCHFLOOR_STIX_NAMESPACE = '97df180a-309e-52f6-b33f-4466f750f334'

/** A STIX id `<type>--<uuid>` that is the same for the same `name` in every export. */
export function watchfloorStixId(type: string, name: string): string {
  return `${type}--${uuidv5(WATCHFLOOR_STIX_NAMESPACE, name)}`
}

/** The deterministic id of a Cyber-observable: `<type>--` and the UUIDv5 of its ID Contributing Properties. */
export function scoId(type: string, contributing: Readonly<Record<string, unknown>>): string {
  return `${type}--${uuidv5(STIX_SCO_NAMESPACE, canonicalJson(contributing))}`
}

/** A bundle id for a streamed export, the same for the same `seed` (the server may seed it with a request id). */
export function stixBundleId(seed: string): string {
  return watchfloorStixId('bundle', `bundle:${seed}`)
}

/**
 * A time as STIX writes it: UTC, `Z`, milliseconds (`2026-11-26T08:00:00.000Z`). Watchfloor's
 * times carry any offset and precision; precision below the millisecond is dropped.
 */
export function stixTime(iso: string): string {
  const millis = Date.parse(iso)
  if (Number.isNaN(millis)) throw new Error(`not a time: ${iso}`)
  return new Date(millis).toISOString()
}

/** The later of two times written by `stixTime` (they order as strings). */
export function laterTime(a: string, b: string): string {
  return a >= b ? a : b
}

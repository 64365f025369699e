/**
 * The MISP core format as Watchfloor writes it, and the tables both directions share: markings
 * (TLP and PAP tags, distribution levels), threat level and severity, Watchfloor's own machine
 * tags. docs/sharing.md (MISP) shows the same tables.
 */
import { highestTlp } from '@watchfloor/core'
import { type Marking, PAP_LEVELS, type Pap, type Severity, type Tlp } from '@watchfloor/protocol'

// ---------------------------------------------------------------------------------------------
// The format (what the export writes; the import reads the same fields more leniently)

export interface MispTag {
  name: string
}

export interface MispOrganisation {
  name: string
  uuid: string
}

export interface MispAttribute {
  uuid: string
  type: string
  category: string
  value: string
  to_ids: boolean
  /** 0-5 as a string, as MISP's own API writes it; 5 (inherit) unless the marking differs from the event's. */
  distribution: string
  sharing_group_id: string
  timestamp: string
  comment: string
  first_seen?: string
  last_seen?: string
  deleted: boolean
  disable_correlation: boolean
  Tag?: MispTag[]
}

export interface MispEventReport {
  uuid: string
  name: string
  content: string
  timestamp: string
  distribution: string
  sharing_group_id: string
  deleted: boolean
}

export interface MispEvent {
  uuid: string
  info: string
  /** YYYY-MM-DD. */
  date: string
  threat_level_id: string
  analysis: string
  distribution: string
  sharing_group_id: string
  published: boolean
  /** Seconds since the epoch, as a string: MISP pulls an event again when it grows. */
  timestamp: string
  publish_timestamp: string
  Orgc: MispOrganisation
  Tag: MispTag[]
  Attribute: MispAttribute[]
  Object: []
  EventReport?: MispEventReport[]
}

/** One event as MISP's API and feeds carry it: `{ "Event": { ... } }`. */
export interface MispEventDocument {
  Event: MispEvent
}

/** One entry of a feed's manifest.json (keyed by event uuid). */
export interface MispManifestEntry {
  info: string
  date: string
  threat_level_id: string
  analysis: string
  timestamp: string
  Orgc: MispOrganisation
  Tag: MispTag[]
}

export type MispManifest = Record<string, MispManifestEntry>

// ---------------------------------------------------------------------------------------------
// Machine tags

/** `namespace:predicate="value"` (value optional), split; undefined for a tag without a namespace. */
export interface MachineTag {
  namespace: string
  predicate: string
  value?: string
}

const MACHINE_TAG = /^([^:="]+):([^="]+?)(?:="(.*)")?$/s

export function parseMachineTag(name: string): MachineTag | undefined {
  const match = MACHINE_TAG.exec(name.trim())
  if (!match) return undefined
  const tag: MachineTag = { namespace: match[1]!.trim().toLowerCase(), predicate: match[2]!.trim() }
  if (match[3] !== undefined) tag.value = match[3]
  return tag
}

/** Watchfloor's own machine tags: what MISP has no field for, so that a round trip keeps it. */
export const WATCHFLOOR_TAG = {
  namespace: 'watchfloor',
  /** `watchfloor:severity="critical"`: MISP's threat levels stop at high. */
  severity: 'severity',
  /** `watchfloor:category="phishing"`: the incident's category, verbatim. */
  category: 'category',
  /** `watchfloor:releasable-to="cert-lv"`, one per id: releasableTo, which MISP cannot say. Only narrows. */
  releasableTo: 'releasable-to',
  /**
   * `watchfloor:releasable-to-none` (no value): an empty releasableTo, releasable to nobody beyond
   * the source organisation [V6]. It goes with distribution 0 and says why, so that a MISP feed
   * setting that rewrites the distribution does not widen it.
   */
  releasableToNone: 'releasable-to-none',
  /** `watchfloor:kind="advisory"` or `"incident"`: what an import makes of the event. */
  kind: 'kind',
} as const

export function watchfloorTag(predicate: string, value: string): MispTag {
  return { name: `${WATCHFLOOR_TAG.namespace}:${predicate}="${value}"` }
}

/** The tag of an empty releasableTo: `watchfloor:releasable-to-none`. */
export const RELEASABLE_TO_NONE_TAG = `${WATCHFLOOR_TAG.namespace}:${WATCHFLOOR_TAG.releasableToNone}`

// ---------------------------------------------------------------------------------------------
// TLP and PAP tags

/** The tag each TLP is exported as (TLP 2.0 names, MISP's `tlp` taxonomy). */
export const TLP_TAG: Readonly<Record<Tlp, string>> = {
  CLEAR: 'tlp:clear',
  GREEN: 'tlp:green',
  AMBER: 'tlp:amber',
  'AMBER+STRICT': 'tlp:amber+strict',
  RED: 'tlp:red',
}

/** `tlp:` tag values read on import: TLP 2.0 and TLP 1.0 names (white is clear). */
const TLP_VALUES: Readonly<Record<string, Tlp>> = {
  clear: 'CLEAR',
  white: 'CLEAR',
  green: 'GREEN',
  amber: 'AMBER',
  'amber+strict': 'AMBER+STRICT',
  red: 'RED',
}

/** `tlp:` tags that are not a level and say nothing about who may see: TLP:EX:CHR and friends, TLP:UNCLEAR. */
const TLP_IGNORED = /^(ex:.*|unclear)$/

/**
 * What one tag says about the TLP: a level, `unknown` for a `tlp:` tag we cannot read (the
 * caller refuses to guess), undefined when it is not a TLP tag or says nothing about the level.
 */
export function tlpOfTag(name: string): Tlp | 'unknown' | undefined {
  const trimmed = name.trim()
  if (!/^tlp:/i.test(trimmed)) return undefined
  const value = trimmed.slice(4).trim().toLowerCase()
  const tlp = TLP_VALUES[value]
  if (tlp !== undefined) return tlp
  if (TLP_IGNORED.test(value)) return undefined
  return 'unknown'
}

/** The tag each PAP is exported as (PAP 2.0 names). */
export const PAP_TAG: Readonly<Record<Pap, string>> = {
  CLEAR: 'PAP:CLEAR',
  GREEN: 'PAP:GREEN',
  AMBER: 'PAP:AMBER',
  RED: 'PAP:RED',
}

/** What one tag says about the PAP: a level, `unknown` for a `PAP:` tag we cannot read, else undefined. */
export function papOfTag(name: string): Pap | 'unknown' | undefined {
  const trimmed = name.trim()
  if (!/^pap:/i.test(trimmed)) return undefined
  const value = trimmed.slice(4).trim().toUpperCase()
  if (value === 'WHITE') return 'CLEAR'
  return (PAP_LEVELS as readonly string[]).includes(value) ? (value as Pap) : 'unknown'
}

export function papRank(pap: Pap): number {
  return PAP_LEVELS.indexOf(pap)
}

// ---------------------------------------------------------------------------------------------
// Markings

/**
 * The marking of one MISP level (an event, object, attribute or report) from what that level says
 * itself: its distribution, its TLP and PAP tags and its `watchfloor:` releasability tags, field by
 * field: the more restrictive TLP; releasableTo narrowed to the ids both name (one list when only
 * one has it: a level's list names whom its own TLP reaches); the stricter PAP. Only for the parts
 * of one level: a parent and its child combine with core's `strictestMarking`, which reads AMBER
 * naming no one as the source organisation only [V4] and so never lets a child's list widen it.
 */
export function levelMarking(a: Marking, b: Marking): Marking {
  const marking: Marking = { tlp: highestTlp([a.tlp, b.tlp]) }
  const releasableTo = intersect(a.releasableTo, b.releasableTo)
  if (releasableTo !== undefined) marking.releasableTo = releasableTo
  const recipients = intersect(a.recipients, b.recipients)
  if (recipients !== undefined) marking.recipients = recipients
  const pap =
    a.pap === undefined ? b.pap : b.pap === undefined ? a.pap : papRank(a.pap) >= papRank(b.pap) ? a.pap : b.pap
  if (pap !== undefined) marking.pap = pap
  return marking
}

function intersect(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] | undefined {
  if (a === undefined) return b === undefined ? undefined : [...b]
  if (b === undefined) return [...a]
  return a.filter((id) => b.includes(id))
}

// ---------------------------------------------------------------------------------------------
// Distribution

/** MISP's distribution levels. */
export const DISTRIBUTION = {
  organisation: 0,
  community: 1,
  connected: 2,
  all: 3,
  sharingGroup: 4,
  inherit: 5,
} as const

/**
 * Export: the distribution a TLP goes out with (the import table reversed). RED is never exported
 * (MISP has no per-person audience); it is listed for completeness as "your organisation only".
 * A marking releasable to nobody goes out with 0 whatever its TLP: use `mispDistribution`.
 */
export const DISTRIBUTION_OF_TLP: Readonly<Record<Tlp, number>> = {
  CLEAR: DISTRIBUTION.all,
  GREEN: DISTRIBUTION.connected,
  AMBER: DISTRIBUTION.community,
  'AMBER+STRICT': DISTRIBUTION.organisation,
  RED: DISTRIBUTION.organisation,
}

/**
 * Export: the distribution a marking goes out with: 0 (your organisation only) when it reaches no
 * one beyond its source organisation: releasableTo empty [V6], or AMBER naming no one [V4]; else
 * that of its TLP (AMBER naming organisations or communities: 1, with their
 * `watchfloor:releasable-to` tags).
 */
export function mispDistribution(marking: Marking): number {
  const sourceOnly =
    marking.releasableTo?.length === 0 || (marking.tlp === 'AMBER' && marking.releasableTo === undefined)
  return sourceOnly ? DISTRIBUTION.organisation : DISTRIBUTION_OF_TLP[marking.tlp]
}

// ---------------------------------------------------------------------------------------------
// Threat level and severity

/** Import: MISP threat_level_id (1 high, 2 medium, 3 low, 4 undefined) to severity. */
export const SEVERITY_OF_THREAT_LEVEL: Readonly<Record<number, Severity>> = {
  1: 'high',
  2: 'medium',
  3: 'low',
  4: 'low',
}

/** Export: severity to threat_level_id; critical also gets `watchfloor:severity="critical"`. */
export const THREAT_LEVEL_OF_SEVERITY: Readonly<Record<Severity, number>> = {
  critical: 1,
  high: 1,
  medium: 2,
  low: 3,
}

/** MISP `analysis`: 0 initial, 1 ongoing, 2 completed. */
export const ANALYSIS_NAMES = ['initial', 'ongoing', 'completed'] as const

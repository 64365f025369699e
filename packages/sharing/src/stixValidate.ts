/**
 * Is this a STIX 2.1 bundle? A pure check of what the OASIS JSON schemas require (the common
 * properties of every object, custom property names, and each type's required properties and
 * their formats), without a schema engine: this package compiles nothing at run time. It
 * answers with field issues (`objects.3.created: ...`), the server's 400 body. It is never
 * stricter than the schemas (the tests hold it to ajv over the vendored examples and every
 * exported object) but where their patterns let through what STIX forbids and the import would
 * misread (a day the calendar does not have, `2026-02-31`), and it checks what the import reads
 * (an observed-data's embedded observables are objects with a type): every object it accepts
 * imports without an error (the tests generate mutated objects to hold it to that).
 */
import type { FieldIssue } from '@watchfloor/protocol'

/** The most issues one answer lists; the last one says how many more there were. */
export const MAX_ISSUES = 100

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}'
const IDENTIFIER = new RegExp(`^[a-z][a-z0-9-]+[a-z0-9]--${UUID}$`)
/** The schemas' `^([a-z][a-z0-9]*)+(-[a-z0-9]+)*\-?$`, written without its nested quantifier. */
const TYPE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-?$/
const TIMESTAMP =
  /^[0-9]{4}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z$/
const MILLIS = /T\d{2}:\d{2}:\d{2}\.\d{3,}Z$/
/** Custom (and every) property name: the schemas' `^([a-z][a-z0-9_]{2,249})|id$`, as ajv reads it. */
const PROPERTY_NAME = /^[a-z][a-z0-9_]{2,249}|id$/
const HEX = /^(?:[a-fA-F0-9]{2})+$/
const BINARY = /^(?:[a-zA-Z0-9+/]{4})*(?:[a-zA-Z0-9+/]{2}==|[a-zA-Z0-9+/]{3}=)?$/
const EXTENSION_NAME = new RegExp(`^(?:[a-z][a-z0-9]*(?:-[a-z0-9]+)*-ext|extension-definition--${UUID})$`)
const EXTENSION_TYPES = new Set(['new-sdo', 'new-sco', 'new-sro', 'property-extension', 'toplevel-property-extension'])
/** Properties no STIX object may have (they would shadow STIX 1 fields). */
const FORBIDDEN = ['severity', 'action', 'username', 'phone_numbers']
const SELECTOR = /^(?:[a-z0-9_-]{3,249}(?:\.(?:\[\d+\]|[a-z0-9_-]{1,250}))*|id)$/

export const SDO_TYPES: ReadonlySet<string> = new Set([
  'attack-pattern',
  'campaign',
  'course-of-action',
  'grouping',
  'identity',
  'incident',
  'indicator',
  'infrastructure',
  'intrusion-set',
  'location',
  'malware',
  'malware-analysis',
  'note',
  'observed-data',
  'opinion',
  'report',
  'threat-actor',
  'tool',
  'vulnerability',
])
export const SRO_TYPES: ReadonlySet<string> = new Set(['relationship', 'sighting'])
export const SCO_TYPES: ReadonlySet<string> = new Set([
  'artifact',
  'autonomous-system',
  'directory',
  'domain-name',
  'email-addr',
  'email-message',
  'file',
  'ipv4-addr',
  'ipv6-addr',
  'mac-addr',
  'mutex',
  'network-traffic',
  'process',
  'software',
  'url',
  'user-account',
  'windows-registry-key',
  'x509-certificate',
])
/** Objects built on the SDO core that are neither SDOs nor SROs. */
const CORE_TYPES: ReadonlySet<string> = new Set(['extension-definition', 'language-content'])

/** SDOs whose only own required property is `name`. */
const NAMED = new Set([
  'attack-pattern',
  'campaign',
  'course-of-action',
  'identity',
  'incident',
  'infrastructure',
  'intrusion-set',
  'threat-actor',
  'tool',
  'vulnerability',
])

const TLP1: Readonly<Record<string, { name: string; tlp: string }>> = {
  'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9': { name: 'TLP:WHITE', tlp: 'white' },
  'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da': { name: 'TLP:GREEN', tlp: 'green' },
  'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82': { name: 'TLP:AMBER', tlp: 'amber' },
  'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed': { name: 'TLP:RED', tlp: 'red' },
}

type Json = Record<string, unknown>

/** Every issue of a bundle (at most `MAX_ISSUES`); none when it is a valid STIX 2.1 bundle. */
export function validateStixBundle(bundle: unknown): FieldIssue[] {
  const issues = new Issues()
  if (!isRecord(bundle)) {
    issues.add('(root)', 'a STIX bundle is a JSON object')
    return issues.list()
  }
  if (bundle.type !== 'bundle') issues.add('type', "must be 'bundle'")
  if (typeof bundle.id !== 'string' || !IDENTIFIER.test(bundle.id) || !bundle.id.startsWith('bundle--')) {
    issues.add('id', "must be 'bundle--' followed by a UUID")
  }
  if (bundle.objects !== undefined) {
    if (!Array.isArray(bundle.objects)) issues.add('objects', 'must be an array of STIX objects')
    else if (bundle.objects.length === 0) issues.add('objects', 'must hold at least one object when present')
    else for (const [index, object] of bundle.objects.entries()) checkObject(object, `objects.${index}`, issues)
  }
  return issues.list()
}

/** The issues of one STIX object at `path` (e.g. `objects.3`). */
export function validateStixObject(object: unknown, path = '(root)'): FieldIssue[] {
  const issues = new Issues()
  checkObject(object, path, issues)
  return issues.list()
}

class Issues {
  private readonly items: FieldIssue[] = []
  private extra = 0
  add(path: string, message: string): void {
    if (this.items.length < MAX_ISSUES) this.items.push({ path, message })
    else this.extra++
  }
  list(): FieldIssue[] {
    if (this.extra === 0) return this.items
    return [...this.items, { path: '(root)', message: `and ${this.extra} more issues` }]
  }
}

function checkObject(object: unknown, path: string, issues: Issues): void {
  if (!isRecord(object)) {
    issues.add(path, 'a STIX object is a JSON object')
    return
  }
  const at = (property: string): string => (path === '(root)' ? property : `${path}.${property}`)
  const type = object.type
  if (typeof type !== 'string' || !isType(type)) {
    issues.add(at('type'), 'must be a STIX type (lower case letters, digits and hyphens)')
    return
  }
  const id = object.id
  if (typeof id !== 'string' || !IDENTIFIER.test(id) || !id.startsWith(`${type}--`)) {
    issues.add(at('id'), `must be '${type}--' followed by a UUID`)
  }
  if (type === 'marking-definition') {
    checkMarkingDefinition(object, at, issues)
    return
  }
  const sco = SCO_TYPES.has(type)
  const core = SDO_TYPES.has(type) || SRO_TYPES.has(type) || CORE_TYPES.has(type)
  checkProperties(object, at, issues)
  if (sco) checkSco(object, type, at, issues)
  else if (core) checkCore(object, at, issues)
  else checkCustom(object, at, issues)
  if (core) checkType(object, type, at, issues)
}

/** What both cores (SDO/SRO and SCO) ask of every property: a lower-case name and a non-empty value. */
function checkProperties(object: Json, at: (property: string) => string, issues: Issues): void {
  for (const name of FORBIDDEN) if (name in object) issues.add(at(name), 'is not a STIX 2.1 property')
  for (const [name, value] of Object.entries(object)) {
    if (!PROPERTY_NAME.test(name)) {
      issues.add(at(name), 'property names are lower case letters, digits and _, at least 3 characters')
      continue
    }
    if (value === null) issues.add(at(name), 'must not be null')
    else if (Array.isArray(value) && value.length === 0) issues.add(at(name), 'must not be an empty list')
    else if (/^[a-z][a-z0-9_]{0,245}_hex$/.test(name) && (typeof value !== 'string' || !HEX.test(value)))
      issues.add(at(name), 'must be hexadecimal')
    else if (/^[a-z][a-z0-9_]{0,245}_bin$/.test(name) && (typeof value !== 'string' || !BINARY.test(value)))
      issues.add(at(name), 'must be base64')
  }
  if (object.extensions !== undefined) checkExtensions(object.extensions, at('extensions'), issues)
}

function checkExtensions(extensions: unknown, path: string, issues: Issues): void {
  if (!isRecord(extensions) || Object.keys(extensions).length === 0) {
    issues.add(path, 'must be an object of one or more extensions')
    return
  }
  for (const [name, extension] of Object.entries(extensions)) {
    if (!EXTENSION_NAME.test(name)) issues.add(`${path}.${name}`, 'is not an extension name')
    else if (!isRecord(extension) || Object.keys(extension).length === 0)
      issues.add(`${path}.${name}`, 'must be an object')
    else if (name.startsWith('extension-definition--') && !EXTENSION_TYPES.has(String(extension.extension_type)))
      issues.add(`${path}.${name}.extension_type`, 'must be an extension type')
  }
}

/** The common properties of SDOs and SROs (schemas/common/core.json). */
function checkCore(object: Json, at: (property: string) => string, issues: Issues): void {
  if (object.spec_version !== '2.1' && object.spec_version !== '2.0') {
    issues.add(at('spec_version'), "must be '2.1'")
  }
  for (const name of ['created', 'modified']) {
    const value = object[name]
    if (value === undefined) issues.add(at(name), 'is required')
    else if (typeof value !== 'string' || !TIMESTAMP.test(value) || !MILLIS.test(value))
      issues.add(at(name), 'must be a UTC time to the millisecond (2026-11-26T08:00:00.000Z)')
    else if (!onCalendar(value)) issues.add(at(name), NO_SUCH_DAY)
  }
  checkCommonOptional(object, at, issues)
}

/** Custom objects: only the common properties they happen to have. */
function checkCustom(object: Json, at: (property: string) => string, issues: Issues): void {
  if (object.spec_version !== undefined && object.spec_version !== '2.1' && object.spec_version !== '2.0') {
    issues.add(at('spec_version'), "must be '2.1'")
  }
  for (const name of ['created', 'modified']) {
    if (object[name] !== undefined) time(object, name, at, issues)
  }
  checkCommonOptional(object, at, issues)
}

function checkCommonOptional(object: Json, at: (property: string) => string, issues: Issues): void {
  if (object.created_by_ref !== undefined) ref(object, 'created_by_ref', at, issues)
  if (object.revoked !== undefined && typeof object.revoked !== 'boolean')
    issues.add(at('revoked'), 'must be true or false')
  if (
    object.confidence !== undefined &&
    (!Number.isInteger(object.confidence) || (object.confidence as number) < 0 || (object.confidence as number) > 100)
  ) {
    issues.add(at('confidence'), 'must be an integer from 0 to 100')
  }
  if (object.labels !== undefined) strings(object, 'labels', at, issues)
  if (object.lang !== undefined && typeof object.lang !== 'string') issues.add(at('lang'), 'must be a string')
  markingRefs(object, at, issues)
  if (object.external_references !== undefined) {
    if (!Array.isArray(object.external_references)) issues.add(at('external_references'), 'must be a list')
    else
      object.external_references.forEach((reference, index) => {
        if (!isRecord(reference) || typeof reference.source_name !== 'string')
          issues.add(at(`external_references.${index}`), 'needs a source_name')
      })
  }
}

function markingRefs(object: Json, at: (property: string) => string, issues: Issues): void {
  if (object.object_marking_refs !== undefined) refs(object, 'object_marking_refs', at, issues)
  if (object.granular_markings === undefined) return
  if (!Array.isArray(object.granular_markings)) {
    issues.add(at('granular_markings'), 'must be a list')
    return
  }
  object.granular_markings.forEach((marking, index) => {
    const path = at(`granular_markings.${index}`)
    if (!isRecord(marking)) issues.add(path, 'must be an object')
    else if (
      !Array.isArray(marking.selectors) ||
      marking.selectors.length === 0 ||
      !marking.selectors.every((selector) => typeof selector === 'string' && SELECTOR.test(selector))
    )
      issues.add(`${path}.selectors`, 'must list one or more selectors')
    else if (
      typeof marking.marking_ref !== 'string' ||
      !IDENTIFIER.test(marking.marking_ref) ||
      !marking.marking_ref.startsWith('marking-definition--')
    )
      issues.add(`${path}.marking_ref`, 'must be a marking-definition id')
  })
}

/** Cyber-observables (schemas/common/cyber-observable-core.json and each type's required property). */
function checkSco(object: Json, type: string, at: (property: string) => string, issues: Issues): void {
  if (object.spec_version !== undefined && object.spec_version !== '2.1' && object.spec_version !== '2.0') {
    issues.add(at('spec_version'), "must be '2.1'")
  }
  if (object.defanged !== undefined && typeof object.defanged !== 'boolean')
    issues.add(at('defanged'), 'must be true or false')
  markingRefs(object, at, issues)
  switch (type) {
    case 'ipv4-addr':
    case 'ipv6-addr':
    case 'domain-name':
    case 'email-addr':
    case 'mac-addr':
    case 'url':
      if (typeof object.value !== 'string') issues.add(at('value'), 'is required')
      break
    case 'autonomous-system':
      if (!Number.isInteger(object.number)) issues.add(at('number'), 'is required (an integer)')
      break
    case 'file':
      if (object.hashes === undefined && object.name === undefined)
        issues.add(at('hashes'), 'a file needs hashes or a name')
      break
    case 'directory':
      if (typeof object.path !== 'string') issues.add(at('path'), 'is required')
      break
    case 'mutex':
    case 'software':
      if (typeof object.name !== 'string') issues.add(at('name'), 'is required')
      break
    case 'email-message':
      if (typeof object.is_multipart !== 'boolean') issues.add(at('is_multipart'), 'is required (true or false)')
      break
    case 'network-traffic':
      strings(object, 'protocols', at, issues, true)
      break
    default:
      break
  }
}

/** Each SDO's and SRO's own required properties, and the formats of what the import reads. */
function checkType(object: Json, type: string, at: (property: string) => string, issues: Issues): void {
  if (NAMED.has(type)) text(object, 'name', at, issues, true)
  if (object.description !== undefined) text(object, 'description', at, issues)
  switch (type) {
    case 'grouping':
      text(object, 'context', at, issues, true)
      refs(object, 'object_refs', at, issues, true)
      break
    case 'indicator':
      text(object, 'pattern', at, issues, true)
      text(object, 'pattern_type', at, issues, true)
      time(object, 'valid_from', at, issues, true)
      break
    case 'location':
      checkLocation(object, at, issues)
      break
    case 'malware':
      if (typeof object.is_family !== 'boolean') issues.add(at('is_family'), 'is required (true or false)')
      else if (object.is_family) text(object, 'name', at, issues, true)
      break
    case 'malware-analysis':
      text(object, 'product', at, issues, true)
      if (object.result === undefined && object.analysis_sco_refs === undefined)
        issues.add(at('result'), 'a malware analysis needs a result or analysis_sco_refs')
      break
    case 'note':
      text(object, 'content', at, issues, true)
      refs(object, 'object_refs', at, issues, true)
      break
    case 'observed-data': {
      time(object, 'first_observed', at, issues, true)
      time(object, 'last_observed', at, issues, true)
      count(object, 'number_observed', 1, at, issues, true)
      const objects = object.objects !== undefined
      const objectRefs = object.object_refs !== undefined
      if (objects === objectRefs)
        issues.add(at('object_refs'), 'observed-data needs exactly one of objects and object_refs')
      if (objectRefs) refs(object, 'object_refs', at, issues, true)
      if (objects && (!isRecord(object.objects) || Object.keys(object.objects).length === 0))
        issues.add(at('objects'), 'must be an object of one or more cyber-observables')
      else if (objects)
        // what the import reads of each: an object with a type (the schemas' cyber-observable core)
        for (const [key, sco] of Object.entries(object.objects as Json))
          if (!isRecord(sco) || !isType(sco.type))
            issues.add(at(`objects.${key}`), 'must be a cyber-observable: an object with a type')
      break
    }
    case 'opinion':
      text(object, 'opinion', at, issues, true)
      refs(object, 'object_refs', at, issues, true)
      break
    case 'report':
      text(object, 'name', at, issues, true)
      time(object, 'published', at, issues, true)
      refs(object, 'object_refs', at, issues, true)
      break
    case 'relationship':
      if (typeof object.relationship_type !== 'string' || !/^[a-z0-9-]+$/.test(object.relationship_type))
        issues.add(at('relationship_type'), 'is required (lower case letters, digits and hyphens)')
      for (const end of ['source_ref', 'target_ref']) {
        ref(object, end, at, issues, true)
        if (
          typeof object[end] === 'string' &&
          /^(?:relationship|sighting|bundle|marking-definition|language-content)--/.test(object[end] as string)
        )
          issues.add(at(end), 'a relationship links two objects, not SROs, bundles or markings')
      }
      if (object.start_time !== undefined) time(object, 'start_time', at, issues)
      if (object.stop_time !== undefined) time(object, 'stop_time', at, issues)
      break
    case 'sighting':
      ref(object, 'sighting_of_ref', at, issues, true)
      if (
        typeof object.sighting_of_ref === 'string' &&
        /^(?:relationship|sighting|bundle|marking-definition|language-content)--/.test(object.sighting_of_ref)
      )
        issues.add(at('sighting_of_ref'), 'a sighting is of an SDO')
      if (object.observed_data_refs !== undefined)
        refs(object, 'observed_data_refs', at, issues, false, 'observed-data')
      if (object.where_sighted_refs !== undefined)
        refs(object, 'where_sighted_refs', at, issues, false, 'identity', 'location')
      if (object.count !== undefined) count(object, 'count', 0, at, issues)
      if (object.first_seen !== undefined) time(object, 'first_seen', at, issues)
      if (object.last_seen !== undefined) time(object, 'last_seen', at, issues)
      if (object.summary !== undefined && typeof object.summary !== 'boolean')
        issues.add(at('summary'), 'must be true or false')
      break
    default:
      break
  }
}

function checkLocation(object: Json, at: (property: string) => string, issues: Issues): void {
  const hasLatitude = object.latitude !== undefined
  const hasLongitude = object.longitude !== undefined
  if (hasLatitude !== hasLongitude) issues.add(at('latitude'), 'latitude and longitude come together')
  if (object.region === undefined && object.country === undefined && !(hasLatitude && hasLongitude))
    issues.add(at('country'), 'a location needs a region, a country, or a latitude and longitude')
  if (hasLatitude && !(typeof object.latitude === 'number' && object.latitude >= -90 && object.latitude <= 90))
    issues.add(at('latitude'), 'must be a number from -90 to 90')
  if (hasLongitude && !(typeof object.longitude === 'number' && object.longitude >= -180 && object.longitude <= 180))
    issues.add(at('longitude'), 'must be a number from -180 to 180')
  if (object.precision !== undefined && !(hasLatitude && hasLongitude))
    issues.add(at('precision'), 'needs a latitude and longitude')
  for (const name of ['region', 'country', 'administrative_area', 'city', 'street_address', 'postal_code', 'name']) {
    if (object[name] !== undefined) text(object, name, at, issues)
  }
}

/** marking-definition (schemas/common/marking-definition.json): TLP 1.0, statements, or extension-based markings. */
function checkMarkingDefinition(object: Json, at: (property: string) => string, issues: Issues): void {
  if (object.spec_version !== '2.1' && object.spec_version !== '2.0') issues.add(at('spec_version'), "must be '2.1'")
  time(object, 'created', at, issues, true)
  if (object.name !== undefined && typeof object.name !== 'string') issues.add(at('name'), 'must be a string')
  if (object.created_by_ref !== undefined) ref(object, 'created_by_ref', at, issues)
  if (object.object_marking_refs !== undefined)
    refs(object, 'object_marking_refs', at, issues, false, 'marking-definition')
  if (object.extensions !== undefined) checkExtensions(object.extensions, at('extensions'), issues)
  if (object.definition_type === 'tlp') {
    const tlp = typeof object.id === 'string' ? TLP1[object.id] : undefined
    const definition = isRecord(object.definition) ? object.definition : undefined
    if (
      tlp === undefined ||
      object.name !== tlp.name ||
      definition?.tlp !== tlp.tlp ||
      object.created !== '2017-01-20T00:00:00.000Z' ||
      object.spec_version !== '2.1'
    ) {
      issues.add(at('definition'), 'a TLP 1.0 marking-definition must be one of the four of the STIX specification')
    }
    return
  }
  if (object.definition_type === undefined && object.definition === undefined) {
    if (object.extensions === undefined)
      issues.add(at('definition'), 'needs a definition and definition_type, or extensions')
    return
  }
  if (typeof object.definition_type !== 'string') issues.add(at('definition_type'), 'is required with a definition')
  else if (object.definition_type === 'statement') {
    if (!isRecord(object.definition) || typeof object.definition.statement !== 'string')
      issues.add(at('definition.statement'), 'a statement marking needs its statement')
  } else if (object.definition !== undefined && !isRecord(object.definition))
    issues.add(at('definition'), 'must be an object')
  else if (object.definition === undefined && object.extensions === undefined)
    issues.add(at('definition'), 'is required')
}

function text(object: Json, name: string, at: (property: string) => string, issues: Issues, required = false): void {
  const value = object[name]
  if (value === undefined) {
    if (required) issues.add(at(name), 'is required')
  } else if (typeof value !== 'string') issues.add(at(name), 'must be a string')
}

function time(object: Json, name: string, at: (property: string) => string, issues: Issues, required = false): void {
  const value = object[name]
  if (value === undefined) {
    if (required) issues.add(at(name), 'is required')
  } else if (typeof value !== 'string' || !TIMESTAMP.test(value))
    issues.add(at(name), 'must be a UTC time (2026-11-26T08:00:00Z)')
  else if (!onCalendar(value)) issues.add(at(name), NO_SUCH_DAY)
}

const NO_SUCH_DAY = 'must be a day the calendar has (RFC 3339), not 2026-02-31'

/**
 * Whether a timestamp the schemas' pattern accepts is on a day the calendar has: the pattern lets
 * `2026-02-31` through, which RFC 3339 (STIX 2.1 section 3.2) does not, and which `Date.parse`
 * would silently move to March.
 */
function onCalendar(value: string): boolean {
  const year = Number(value.slice(0, 4))
  const month = Number(value.slice(5, 7))
  const day = Number(value.slice(8, 10))
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31
  return day <= days
}

/** A STIX type name: lower-case letters, digits and hyphens, 3 to 250 characters (not `action`). */
function isType(type: unknown): boolean {
  return typeof type === 'string' && TYPE.test(type) && type.length >= 3 && type.length <= 250 && type !== 'action'
}

function count(
  object: Json,
  name: string,
  min: number,
  at: (property: string) => string,
  issues: Issues,
  required = false,
): void {
  const value = object[name]
  if (value === undefined) {
    if (required) issues.add(at(name), 'is required')
  } else if (!Number.isInteger(value) || (value as number) < min || (value as number) > 999_999_999)
    issues.add(at(name), `must be an integer from ${min} to 999999999`)
}

function ref(object: Json, name: string, at: (property: string) => string, issues: Issues, required = false): void {
  const value = object[name]
  if (value === undefined) {
    if (required) issues.add(at(name), 'is required')
  } else if (typeof value !== 'string' || !IDENTIFIER.test(value)) issues.add(at(name), 'must be a STIX id')
}

function refs(
  object: Json,
  name: string,
  at: (property: string) => string,
  issues: Issues,
  required = false,
  ...types: string[]
): void {
  const value = object[name]
  if (value === undefined) {
    if (required) issues.add(at(name), 'is required')
    return
  }
  if (!Array.isArray(value) || value.length === 0) {
    issues.add(at(name), 'must be a list of one or more STIX ids')
    return
  }
  value.forEach((item, index) => {
    if (typeof item !== 'string' || !IDENTIFIER.test(item)) issues.add(at(`${name}.${index}`), 'must be a STIX id')
    else if (types.length > 0 && !types.some((type) => item.startsWith(`${type}--`)))
      issues.add(at(`${name}.${index}`), `must be the id of: ${types.join(', ')}`)
  })
}

function strings(object: Json, name: string, at: (property: string) => string, issues: Issues, required = false): void {
  const value = object[name]
  if (value === undefined) {
    if (required) issues.add(at(name), 'is required')
  } else if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string'))
    issues.add(at(name), 'must be a list of one or more strings')
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The OASIS STIX 2.1 JSON schemas (vendored in packages/sharing/standards), with ajv as their
 * SOURCE.md says (2020-12, ajv-formats, unicodeRegExp off): every test that checks STIX output
 * against them uses this, the package's and the server's.
 */
import Ajv2020 from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { fullFormats } from 'ajv-formats/dist/formats.js'
import { SCO_TYPES, SDO_TYPES, SRO_TYPES } from '../src/stixValidate.ts'

const schemaFiles = import.meta.glob<object>('../standards/stix2.1-json-schemas/schemas/**/*.json', {
  eager: true,
  import: 'default',
})
export const exampleFiles = import.meta.glob<unknown>('../standards/stix2.1-json-schemas/examples/**/*.json', {
  eager: true,
  import: 'default',
})
const ajv = new Ajv2020({ strict: false, unicodeRegExp: false, allErrors: true })
addFormats(ajv)
ajv.addFormat('idn-hostname', fullFormats.hostname) // ajv-formats has no idn-hostname; ASCII names are hostnames
for (const schema of Object.values(schemaFiles)) ajv.addSchema(schema)
const SCHEMAS = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/'

/** The schema of an object's own type (the bundle schema lacks incident, location and note). */
function schemaOf(type: string): string | undefined {
  if (type === 'marking-definition' || type === 'extension-definition' || type === 'language-content')
    return `${SCHEMAS}common/${type}.json`
  if (SDO_TYPES.has(type)) return `${SCHEMAS}sdos/${type}.json`
  if (SRO_TYPES.has(type)) return `${SCHEMAS}sros/${type}.json`
  if (SCO_TYPES.has(type)) return `${SCHEMAS}observables/${type}.json`
  return undefined
}

/** ajv's complaints about an object, against its own type's schema; undefined when there is no schema for it. */
export function schemaErrors(object: unknown): string[] | undefined {
  const type = (object as { type?: unknown }).type
  const id = typeof type === 'string' ? schemaOf(type) : undefined
  if (id === undefined) return undefined
  const validate = ajv.getSchema(id)
  if (validate === undefined) throw new Error(`no schema ${id}`)
  if (validate(object)) return []
  return (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`)
}

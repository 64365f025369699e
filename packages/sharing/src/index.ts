/**
 * Sharing with the standards, pure: Watchfloor's events and pictures as STIX 2.1 and MISP, and
 * back. No I/O: the server's routes (export, import, TAXII, MISP feed) call these.
 */

export * from './misp.ts'
export {
  exportStix,
  type OrganisationDirectory,
  type OrganisationInfo,
  StixExport,
  type StixExportOptions,
  stixBundle,
  stixIds,
} from './stixExport.ts'
export { importStix, type StixImportOptions, type StixImportResult } from './stixImport.ts'
export {
  markingMeaning,
  markingRefs,
  PAP_EXTENSION_ID,
  PAP_MARKING_IDS,
  papMarkingDefinition,
  TLP1_MARKING_IDS,
  TLP2_EXTENSION_ID,
  TLP2_MARKING_IDS,
  tlpMarkingDefinition,
} from './stixMarkings.ts'
export { describeObservable, observablesOf } from './stixObservables.ts'
export {
  STIX_SCO_NAMESPACE,
  type StixBundle,
  type StixObject,
  scoId,
  stixBundleId,
  stixTime,
  WATCHFLOOR_STIX_NAMESPACE,
  watchfloorStixId,
} from './stixTypes.ts'
export { validateStixBundle, validateStixObject } from './stixValidate.ts'
export { UUID_NAMESPACE_DNS, UUID_NAMESPACE_URL, uuidv5 } from './uuid.ts'

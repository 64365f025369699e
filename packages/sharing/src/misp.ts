/**
 * MISP: import (MISP events, REST search answers, feeds -> Watchfloor events), export (one
 * incident -> a MISP event) and Watchfloor as a MISP feed. Tables in docs/sharing.md (MISP).
 * For index.ts: `export * from './misp.ts'`.
 */
export {
  exportMarkedMispEvent,
  exportMispEvent,
  type MispDirectory,
  type MispTypeGuess,
  mispEventUuid,
  mispMarkingTags,
  mispOrganisationUuid,
  mispTypeOf,
} from './mispExport.ts'
export {
  MISP_FEED_CONTENT_TYPE,
  type MispFeed,
  type MispFeedOptions,
  type MispFeedRequest,
  mispFeed,
  mispFeedHashes,
  mispFeedManifest,
  parseMispFeedPath,
} from './mispFeed.ts'
export {
  DISTRIBUTION,
  DISTRIBUTION_OF_TLP,
  type MispAttribute,
  type MispEvent,
  type MispEventDocument,
  type MispEventReport,
  type MispManifest,
  type MispManifestEntry,
  type MispOrganisation,
  type MispTag,
  PAP_TAG,
  SEVERITY_OF_THREAT_LEVEL,
  THREAT_LEVEL_OF_SEVERITY,
  TLP_TAG,
  WATCHFLOOR_TAG,
} from './mispFormat.ts'
export {
  DEFAULT_CATEGORY,
  importMisp,
  MISP_IMPORT_LIMITS,
  type MispImportCreated,
  type MispImportOptions,
  type MispImportResult,
  type MispImportSkipped,
  type MispSharingGroupRef,
  mispCategory,
  mispIncidentId,
  mispKind,
  mispSeverity,
} from './mispImport.ts'
export { MISP_NAMESPACE } from './mispUuid.ts'

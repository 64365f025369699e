export { guardConnections } from './connections.ts'
export {
  type Account,
  type AccountLogin,
  type AccountPatch,
  type Community,
  type CommunityPatch,
  type CredentialChange,
  type CredentialStore,
  FEED_AUTH_KINDS,
  type Feed,
  type FeedAuth,
  type FeedOutPull,
  type FeedPatch,
  type FeedState,
  hashSecret,
  type NewAccount,
  type NewCommunity,
  type NewFeed,
  type NewOrganisation,
  type NewToken,
  ORGANISATION_KINDS,
  type Organisation,
  type OrganisationKind,
  type OrganisationPatch,
  parseChange,
  type ServicePrincipal,
  type SessionRecord,
  type SignInLimit,
  type SignInOutcome,
  type SignInReservation,
  type TaxiiStatusRecord,
  type TokenKind,
  type TokenRecord,
} from './credentials.ts'
export {
  CREDENTIALS_LEFT_OUT,
  type CredentialDump,
  DURABLE_TABLE_NAMES,
  type DurableRow,
  SCHEMA_VERSIONS,
} from './credentials-backup.ts'
export { PostgresCredentialStore, type PostgresCredentialStoreOptions } from './credentials-postgres.ts'
export { type UserIdHolder, userIdTaken } from './credentials-rows.ts'
export { SqliteCredentialStore, type SqliteCredentialStoreOptions } from './credentials-sqlite.ts'
export { makeFolder } from './folder.ts'
export { latestVersion, type Migration, SchemaTooNewError, SchemaTooOldError } from './migrations.ts'
export { type OpenOptions, openCredentialStore, openEventStore, openStores, type Stores } from './open.ts'
export { contentJson } from './plan.ts'
export { PostgresEventStore, type PostgresStoreOptions } from './postgres.ts'
export { DatabaseScope } from './scope.ts'
export { type Sealer, sealerOf } from './sealed.ts'
export { PostgresSnapshotStore, SqliteSnapshotStore } from './snapshots.ts'
export { SqliteEventStore, type SqliteStoreOptions } from './sqlite.ts'
export { LogDamagedError } from './stored.ts'
export type { AcceptedEvent, AppendResult, EventStore, Snapshot, SnapshotPrune, SnapshotStore } from './types.ts'
export { claimWriter, LogInUseError, type WriterClaim } from './writer.ts'
export { PostgresWritersClaim, type WritersClaimMode } from './writers-postgres.ts'

export type { BatchAlsoWrite, CommandAppend } from "./append-commands.js";
export type { BulkAppendOptions, BulkAppendResult } from "./bulk-append.js";
export {
  type Checkpoint,
  type CheckpointParts,
  makeCheckpoint,
  parseCheckpoint,
  START,
} from "./checkpoint.js";
export { recordedAnswer, replayOrRethrow } from "./command-replay.js";
export {
  AppendNotFirstWrite,
  CommandIdReused,
  CommandRetriesExhausted,
  ConcurrencyRetriesExhausted,
  EventStoreError,
  InvalidEventStoreArgument,
  WrongExpectedVersion,
} from "./errors.js";
export { newEventId } from "./event-id.js";
export {
  type AppendOptions,
  type CommandAppendOptions,
  type CommandAppendOutcome,
  type CommandRecord,
  type CommandsAppendOptions,
  EventStore,
  type EventStoreOptions,
  type Queryable,
  READ_ALL_FINAL_BELOW_SQL,
  type ReadAllPage,
  type StoredCommand,
  type TailOptions,
} from "./event-store.js";
export type {
  Actor,
  EventMetadata,
  NewEvent,
  RecordedEvent,
  StreamAppend,
  StreamVersion,
} from "./event-types.js";
export type { ExpectedVersion } from "./expected-version.js";
export {
  type Decider,
  type HandleCommandOptions,
  type HandleCommandResult,
  handleCommand,
  type LoadedAggregate,
  loadAggregate,
} from "./handle-command.js";
export {
  EVENTSTORE_MIGRATION_TABLE,
  eventStoreMigrations,
  migrateEventStore,
  migrateEventStoreDatabase,
  migrateServiceSchema,
} from "./migrations/index.js";
export {
  EVENTSTORE_SCHEMA,
  MIGRATION_LOCK_CLASS,
  STREAM_LOCK_CLASS,
} from "./migrations/schema-names.js";
export {
  type MultiStreamCommandOptions,
  type MultiStreamPlan,
  runMultiStreamCommand,
  type UniqueViolation,
} from "./multi-stream-command.js";
export { inOwnTransaction } from "./own-transaction.js";
export { canonicalJson, payloadHash } from "./payload-hash.js";
export {
  createEventStorePool,
  DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  type EventStorePoolOptions,
  surviveConnectionLoss,
} from "./pool.js";
export {
  ensureDatabase,
  openServiceDatabase,
  type ServiceDatabaseOptions,
} from "./service-database.js";
export type { SnapshotPolicy, StoredSnapshot } from "./snapshots.js";
export { type Upcaster, Upcasters } from "./upcasters.js";

export {
  applyBatch,
  type BatchOptions,
  type BatchResult,
  type ChangedItem,
} from "./apply-batch.js";
export { type ChangeNotice, publishChangeNotices } from "./change-notices.js";
export {
  CheckpointBehind,
  EventSetAside,
  InvalidProjectionDefinition,
  MalformedEventData,
  MissingReference,
  ProjectionError,
  ProjectionNeedsRebuild,
  ProjectionVersionSuperseded,
  RebuildAborted,
  SetAsideLimitReached,
  UnknownProjection,
} from "./errors.js";
export { pruneInbox } from "./inbox-pruning.js";
export { ensureLiveSchema } from "./live-schema.js";
export {
  buildSchema,
  liveDurable,
  liveSchema,
  noticeSubject,
  retiredSchema,
  sourceFilter,
} from "./names.js";
export {
  type ApplyContext,
  defineProjection,
  type Projection,
  type ProjectionEvent,
  type ProjectionSource,
  type QueryFn,
} from "./projection.js";
export { type BatchEntry, toEntry } from "./projection-event.js";
export {
  type CommittedBatch,
  ProjectionRunner,
  type ProjectionRunnerOptions,
  type RunnerCounters,
} from "./projection-runner.js";
export {
  REBUILD_LOCK_CLASS,
  type RebuildOptions,
  type RebuildProgress,
  type RebuildResult,
  rebuildIfOlder,
  rebuildProjection,
} from "./rebuild.js";
export { RUNNER_LOCK_CLASS, RunnerLock } from "./runner-lock.js";
export { readCheckpoints } from "./runtime-tables.js";
export {
  countSetAside,
  DEFAULT_MAX_SET_ASIDE,
  eventDataError,
  readSetAside,
  type SetAsideEvent,
  type SetAsideReason,
} from "./set-aside.js";
export {
  logRunnerErrors,
  startProjection,
  startRunnerUpgrading,
  type UpgradeHooks,
  upgradeLog,
} from "./start-projection.js";

import type { Lifecycle, Logger } from "@otmetka/service-kit";
import { EventSetAside, ProjectionNeedsRebuild, SetAsideLimitReached } from "./errors.js";
import { ProjectionRunner, type ProjectionRunnerOptions } from "./projection-runner.js";
import { type RebuildResult, rebuildIfOlder } from "./rebuild.js";

/** What a service is told when its read model is of an older version than its code. */
export interface UpgradeHooks {
  /** The live read model is older: it is about to be rebuilt from sequence 1. */
  onRebuild?: (err: ProjectionNeedsRebuild) => void;
  /** Not called when another process rebuilt it meanwhile (this one waited for that). */
  onRebuilt?: (result: RebuildResult) => void;
}

/**
 * Starts a runner. A read model of an older version (an upgrade added a table or changed a
 * handler) is first rebuilt from sequence 1, blue/green, and the runner then starts on the
 * new version: a deployment upgrades by starting the new code, with no separate step. The
 * rebuild writes no change notices and publishes nothing (see rebuildProjection).
 */
export async function startRunnerUpgrading(
  options: ProjectionRunnerOptions,
  hooks: UpgradeHooks = {},
): Promise<ProjectionRunner> {
  const start = () => new ProjectionRunner(options).start();
  try {
    return await start();
  } catch (err) {
    if (!(err instanceof ProjectionNeedsRebuild)) throw err;
    hooks.onRebuild?.(err);
    const { projection, pool, nc, names } = options;
    // Another instance starting at the same time may be rebuilding it: this one waits for that
    // rebuild and starts on its result (undefined) rather than building again.
    const rebuilt = await rebuildIfOlder({ projection, pool, nc, names });
    if (rebuilt) hooks.onRebuilt?.(rebuilt);
    return start();
  }
}

/**
 * Runs a projection in a service until shutdown (upgrading an older read model first, with
 * `startRunnerUpgrading`); `label` names it in the shutdown order, the log, and the warnings
 * about errors the runner recovers from.
 */
export async function startProjection(
  lifecycle: Lifecycle,
  label: string,
  options: Omit<ProjectionRunnerOptions, "onError"> & { logger: Logger },
): Promise<ProjectionRunner> {
  const { logger, ...runnerOptions } = options;
  const runner = await startRunnerUpgrading(
    { ...runnerOptions, onError: logRunnerErrors(logger, label) },
    upgradeLog(logger, label),
  );
  lifecycle.onShutdown(label, () => runner.stop());
  return runner;
}

/** UpgradeHooks that log the rebuild of `label` (a warning when it starts, its figures after). */
export const upgradeLog = (logger: Logger, label: string): UpgradeHooks => ({
  onRebuild: (err) =>
    logger.warn({ err }, `${label} of an older version: rebuilding it from sequence 1`),
  onRebuilt: (r) => logger.info({ events: r.events, ms: r.durationMs }, `${label} rebuilt`),
});

/**
 * The runner's `onError` for a service's log: a set-aside event is a warning naming it, the
 * set-aside limit reached an error (the read model has stopped until someone looks), anything
 * else a warning that it retries. For services that build their runner themselves.
 */
export function logRunnerErrors(
  logger: Logger,
  label: string,
): NonNullable<ProjectionRunnerOptions["onError"]> {
  return (err, where) => {
    if (err instanceof EventSetAside) logger.warn({ setAside: err.event, where }, err.message);
    else if (err instanceof SetAsideLimitReached) logger.error({ err, where }, err.message);
    else logger.warn({ err, where }, `${label} error (it retries)`);
  };
}

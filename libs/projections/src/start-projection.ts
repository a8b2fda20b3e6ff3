import type { Lifecycle, Logger } from "@otmetka/service-kit";
import { EventSetAside, SetAsideLimitReached } from "./errors.js";
import { ProjectionRunner, type ProjectionRunnerOptions } from "./projection-runner.js";

/**
 * Runs a projection in a service until shutdown; `label` names it in the shutdown order and
 * in the warnings about errors the runner recovers from.
 */
export async function startProjection(
  lifecycle: Lifecycle,
  label: string,
  options: Omit<ProjectionRunnerOptions, "onError"> & { logger: Logger },
): Promise<ProjectionRunner> {
  const { logger, ...runnerOptions } = options;
  const runner = await new ProjectionRunner({
    ...runnerOptions,
    onError: logRunnerErrors(logger, label),
  }).start();
  lifecycle.onShutdown(label, () => runner.stop());
  return runner;
}

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

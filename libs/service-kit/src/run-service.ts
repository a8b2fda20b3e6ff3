import { ConfigError } from "./config-error.js";
import { createLifecycle, type Lifecycle } from "./lifecycle.js";

export interface RunServiceOptions {
  signals?: NodeJS.Signals[];
}

/**
 * Runs a service's `main`, which opens its resources and registers them with the lifecycle.
 * SIGTERM/SIGINT shut it down gracefully and exit 0 (1 if a closer failed; a second signal
 * exits at once). A ConfigError exits 1 with its message alone on stderr: an operator needs the
 * variable names, not a stack. Any other start-up failure is logged and exits 1.
 */
export async function runService(
  main: (lifecycle: Lifecycle) => Promise<void>,
  options: RunServiceOptions = {},
): Promise<void> {
  const lifecycle = createLifecycle();
  const stopAndExit = (reason: string, code: number) => {
    lifecycle.shutdown(reason).then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };

  let signalled = false;
  for (const signal of options.signals ?? ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
      if (signalled) {
        lifecycle.logger?.warn({ signal }, "second signal: exiting without waiting");
        process.exit(1);
      }
      signalled = true;
      stopAndExit(signal, 0);
    });
  }
  const fatal = (what: string) => (err: unknown) => {
    if (lifecycle.logger) lifecycle.logger.fatal({ err }, what);
    else process.stderr.write(`${what}: ${err instanceof Error ? err.stack : String(err)}\n`);
    stopAndExit(what, 1);
  };
  process.on("unhandledRejection", fatal("unhandled rejection"));
  process.on("uncaughtException", fatal("uncaught exception"));

  try {
    await main(lifecycle);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      stopAndExit("invalid configuration", 1);
    } else {
      fatal("start-up failed")(err);
    }
  }
}

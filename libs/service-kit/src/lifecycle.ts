import type { Logger } from "pino";

export type Closer = () => unknown;

/**
 * What a service's main registers its resources with, in the order it opens them; shutdown
 * closes them in reverse (the gRPC server, opened last, stops first; telemetry, opened first,
 * flushes last, so spans of the shutdown itself are exported).
 */
export interface Lifecycle {
  /** Aborted when shutdown begins: long-running loops (consumers) watch it. */
  readonly signal: AbortSignal;
  onShutdown(name: string, close: Closer): void;
  /** Log through the service's logger from now on (before it exists, errors go to stderr). */
  useLogger(logger: Logger): void;
  readonly logger: Logger | undefined;
  /** Runs the closers once; later calls return the same promise. Rejects if any closer failed. */
  shutdown(reason: string): Promise<void>;
}

export function createLifecycle(): Lifecycle {
  const closers: { name: string; close: Closer }[] = [];
  const abort = new AbortController();
  let logger: Logger | undefined;
  let stopping: Promise<void> | undefined;

  const runCloser = async ({ name, close }: { name: string; close: Closer }) => {
    try {
      await close();
      logger?.debug({ closer: name }, "closed");
      return true;
    } catch (err) {
      if (logger) logger.error({ err, closer: name }, "closing failed");
      else process.stderr.write(`closing ${name} failed: ${String(err)}\n`);
      return false;
    }
  };

  return {
    signal: abort.signal,
    get logger() {
      return logger;
    },
    useLogger(l) {
      logger = l;
    },
    onShutdown(name, close) {
      // A resource opened while shutting down would otherwise leak and keep the process alive.
      if (stopping) void runCloser({ name, close });
      else closers.push({ name, close });
    },
    shutdown(reason) {
      stopping ??= (async () => {
        logger?.info({ reason }, "shutting down");
        abort.abort(reason);
        let ok = true;
        for (const closer of closers.toReversed()) ok = (await runCloser(closer)) && ok;
        if (!ok) throw new Error("shutdown: some resources failed to close");
      })();
      return stopping;
    },
  };
}

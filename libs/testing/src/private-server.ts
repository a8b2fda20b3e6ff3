import { rm } from "node:fs/promises";
import { type ServerProcess, waitFor } from "./process.js";

/** A server of the test's own, for tests that stop, crash or restart it. */
export interface PrivateServer {
  url: string;
  port: number;
  /** Shuts it down (the signal its kind wants); its data is kept for `restart()`. */
  stop(): Promise<void>;
  /** Crashes it (SIGKILL); its data is kept for `restart()`. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

/**
 * Starts `server` and waits until `ready` answers (the server's last output goes into the
 * error when it never does); `dispose()` also removes `dir`.
 */
export async function controlPrivateServer(o: {
  server: ServerProcess;
  /** Names the server in the timeout error. */
  what: string;
  url: string;
  port: number;
  ready: () => Promise<boolean>;
  stopSignal: NodeJS.Signals;
  dir: string;
}): Promise<PrivateServer> {
  const { server } = o;
  const up = async () => {
    server.start();
    try {
      await waitFor(o.what, o.ready);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${server.recentOutput}`);
    }
  };
  await up();
  return {
    url: o.url,
    port: o.port,
    stop: () => server.stop(o.stopSignal),
    kill: () => server.kill(),
    restart: up,
    dispose: async () => {
      await server.stop(o.stopSignal);
      await rm(o.dir, { recursive: true, force: true });
    },
  };
}

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findExecutable, freePort, portAnswers, ServerProcess, waitFor } from "./process.js";

export interface PrivateNats {
  url: string;
  port: number;
  /** Stops gracefully (SIGTERM). The JetStream store is kept for `restart()`. */
  stop(): Promise<void>;
  /** Crashes the server (SIGKILL). The store is kept for `restart()`. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

export interface PrivateNatsOptions {
  /**
   * Extra configuration file text (e.g. an `authorization { ... }` block); the command line's
   * address, port and JetStream store still apply.
   */
  config?: string;
}

/**
 * A `nats-server` of the test's own, with JetStream, on a free port: for tests that kill or
 * restart a server, or need an authorization configuration. The shared server is never touched.
 */
export async function startPrivateNats(options: PrivateNatsOptions = {}): Promise<PrivateNats> {
  const bin = process.env.NATS_SERVER_BIN ?? findExecutable("nats-server");
  if (!bin) {
    throw new Error(
      "nats-server was not found on PATH (nor NATS_SERVER_BIN): install Debian's nats-server package",
    );
  }
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), "otmetka-nats-"));
  const configArgs: string[] = [];
  if (options.config !== undefined) {
    const file = join(storeDir, "server.conf");
    await writeFile(file, options.config);
    configArgs.push("-c", file);
  }
  const server = new ServerProcess("nats-server", bin, [
    ...configArgs,
    "-a",
    "127.0.0.1",
    "-p",
    String(port),
    "-js",
    "-sd",
    storeDir,
  ]);
  const up = async () => {
    server.start();
    try {
      await waitFor(`private nats-server on port ${port}`, () => portAnswers(port));
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${server.recentOutput}`);
    }
  };
  await up();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop: () => server.stop(),
    kill: () => server.kill(),
    restart: up,
    dispose: async () => {
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

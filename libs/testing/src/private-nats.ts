import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { controlPrivateServer, type PrivateServer } from "./private-server.js";
import { findExecutable, freePort, portAnswers, ServerProcess } from "./process.js";

/** `stop()` is graceful (SIGTERM); the JetStream store is kept until `dispose()`. */
export type PrivateNats = PrivateServer;

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
  const bin = natsServerBinary();
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
  return controlPrivateServer({
    server,
    what: `private nats-server on port ${port}`,
    ...natsOnPort(port),
    dir: storeDir,
  });
}

/** The nats-server binary: NATS_SERVER_BIN, or the one on PATH. */
export function natsServerBinary(): string {
  const bin = process.env.NATS_SERVER_BIN ?? findExecutable("nats-server");
  if (!bin) {
    throw new Error(
      "nats-server was not found on PATH (nor NATS_SERVER_BIN): install Debian's nats-server package",
    );
  }
  return bin;
}

/** A nats-server's readiness, and where tests connect to it: its client port on loopback. */
export const natsOnPort = (port: number) => ({
  url: `nats://127.0.0.1:${port}`,
  port,
  ready: () => portAnswers(port),
  stopSignal: "SIGTERM" as const,
});
